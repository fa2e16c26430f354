"""docs/make_results.py: rows come only from results.json files."""

import functools
import importlib.util
import json

from tests.conftest import REPO


@functools.cache
def _module():
    """The script, loaded once: it defines absl flags, which a second load would redefine."""
    spec = importlib.util.spec_from_file_location("make_results", REPO / "docs" / "make_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rows_show_measured_values_and_pending_runs(tmp_path):
    make_results = _module()
    first = make_results.EXPERIMENTS[0]
    run = tmp_path / first.id
    run.mkdir(parents=True)
    history = {
        "1000": {"metrics": {"likelihood/nll": 95.0}, "train_seconds": 60.0},
        "2000": {"metrics": {"likelihood/nll": 90.5}, "train_seconds": 120.0},
    }
    (run / "results.json").write_text(
        json.dumps(
            {
                "metrics": {
                    "likelihood/nll": 90.5,
                    "likelihood/active_units": 17.0,
                    "cost/epochs": 3.3,
                },
                "seconds": {"likelihood": 150.0},
                "train_seconds": 120.0,
                "device": "cpu x1 (2 cores)",
            }
        )
    )
    curve = tmp_path / first.curve
    curve.mkdir(parents=True)
    (curve / "results.json").write_text(
        json.dumps({"history": history, "evals": {"likelihood": {"num_samples": 500}}})
    )
    text = make_results.render(str(tmp_path))
    lines = text.splitlines()
    measured = next(line for line in lines if line.startswith("| ") and "90.50 / 17" in line)
    assert "86.76" in measured and "3.3" in measured and "train 2.0 min, eval 2.5 min" in measured
    assert sum("not run yet" in line for line in lines) == len(make_results.EXPERIMENTS) - 1
    assert "| 2,000 | 2.0 min | 90.50 |" in text and "k=5,000 gives 90.50" in text
    assert "nll_vs_time.png" not in text  # no figures directory given
    assert first.train in text


def test_readme_excerpt_is_rewritten_between_its_markers(tmp_path):
    make_results = _module()
    first = make_results.EXPERIMENTS[0]
    (tmp_path / first.id).mkdir(parents=True)
    (tmp_path / first.id / "results.json").write_text(
        json.dumps({"metrics": {"likelihood/nll": 88.25, "likelihood/active_units": 18.0}})
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{make_results.README_START}\nold\n{make_results.README_END}\nend\n")
    assert make_results.update_readme(str(readme), str(tmp_path))
    text = readme.read_text()
    assert "old" not in text and text.startswith("top\n") and text.endswith("end\n")
    assert "| 88.25 / 18 | 86.76 |" in text and "not run yet" not in text


def test_rows_of_runs_not_here_are_kept_from_the_previous_results(tmp_path):
    make_results = _module()
    first, second = make_results.EXPERIMENTS[:2]
    earlier = tmp_path / "earlier"
    for experiment, nll in ((first, 91.0), (second, 95.5)):
        (earlier / experiment.id).mkdir(parents=True)
        (earlier / experiment.id / "results.json").write_text(
            json.dumps({"metrics": {"likelihood/nll": nll, "likelihood/active_units": 20.0}})
        )
    results_md = tmp_path / "results.md"
    results_md.write_text(make_results.render(str(earlier)))
    # A rerun of the first experiment only, elsewhere.
    now = tmp_path / "now"
    (now / first.id).mkdir(parents=True)
    (now / first.id / "results.json").write_text(
        json.dumps({"metrics": {"likelihood/nll": 88.5, "likelihood/active_units": 18.0}})
    )
    previous = make_results.Previous.read(str(results_md))
    text = make_results.render(str(now), previous=previous)
    assert "| 88.50 / 18 |" in text and "| 91.00 / 20 |" not in text  # rerun replaces
    assert "| 95.50 / 20 |" in text  # not rerun: kept
    assert sum("not run yet" in line for line in text.splitlines()) == (
        len(make_results.EXPERIMENTS) - 2
    )
    dropped = make_results.render(str(now), previous=make_results.Previous.read(None))
    assert "95.50" not in dropped
