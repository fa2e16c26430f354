"""docs/make_results.py: rows come only from results.json files, each with its baseline."""

import dataclasses
import functools
import json

from tests.conftest import REPO, load_module


@functools.cache
def _module():
    """The script, loaded once: it defines absl flags, which a second load would redefine."""
    return load_module(REPO / "docs" / "make_results.py")


def _experiment(run_id: str):
    return next(e for e in _module().EXPERIMENTS if e.id == run_id)


def _write_results(runs, run_id: str, metrics: dict, **extra) -> None:
    (runs / run_id).mkdir(parents=True, exist_ok=True)
    (runs / run_id / "results.json").write_text(json.dumps({"metrics": metrics, **extra}))


def _row(text: str, model: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("| ") and model in line)


def _seed_rows() -> int:
    """The rows of the tables over seeds (each "not run yet" in an empty runs dir)."""
    return sum(len(table.groups) for table in _module().SEED_TABLES)


IWAE_K1 = "iwae_table1/mlp_1layer_vae_k1_20min"


def test_rows_show_measured_values_and_pending_runs(tmp_path):
    make_results = _module()
    likelihood = _experiment(IWAE_K1)
    _write_results(
        tmp_path,
        likelihood.id,
        {"likelihood/nll": 90.5, "likelihood/active_units": 17.0, "cost/epochs": 3.3},
        seconds={"likelihood": 150.0},
        train_seconds=120.0,
        device="cpu x1 (2 cores)",
        commit="0123456789abcdef",
    )
    history = {
        "1000": {"metrics": {"likelihood/nll": 95.0}, "train_seconds": 60.0},
        "2000": {"metrics": {"likelihood/nll": 90.5}, "train_seconds": 120.0},
    }
    (tmp_path / likelihood.curve).mkdir(parents=True)
    (tmp_path / likelihood.curve / "results.json").write_text(
        json.dumps({"history": history, "evals": {"likelihood": {"num_samples": 500}}})
    )
    text = make_results.render(str(tmp_path))
    measured = _row(text, likelihood.model)
    assert "| 90.50 / 17 | none; published: 86.76 |" in measured  # no classic baseline
    assert "| 3.3 | train 2.0 min, eval 2.5 min | cpu x1 (2 cores) | 0123456789 |" in measured
    assert sum("not run yet" in line for line in text.splitlines()) == (
        len(make_results.EXPERIMENTS) - 1 + _seed_rows()
    )
    assert "| 2,000 | 2.0 min | 90.50 |" in text and "k=5,000 gives 90.50" in text
    assert "nll_vs_time.png" not in text  # no figures directory given
    assert likelihood.commands[0] in text
    # Every task has its own section, each with the full header.
    for task in dict.fromkeys(e.task for e in make_results.EXPERIMENTS):
        assert f"## {task}" in text
    assert text.count("| dataset | model | metric | ours | baseline, same run |") == len(
        set(e.task for e in make_results.EXPERIMENTS)
    )


def test_the_baseline_of_the_same_run_says_whether_the_model_beats_it(tmp_path):
    make_results = _module()
    anomaly = _experiment("ecg5000_anomaly")
    _write_results(
        tmp_path,
        anomaly.id,
        {
            "anomaly/auroc": 0.995,
            "anomaly/average_precision": 0.99,
            "anomaly/best_baseline_auroc": 0.9925,
            "anomaly/pca_upper_bound/average_precision": 0.986,
        },
    )
    hinton = _experiment("hinton2006_mnist")
    _write_results(tmp_path, hinton.id, {"pca/model_sse": 4.25, "pca/pca_sse": 3.5})
    text = make_results.render(str(tmp_path))
    assert "| 0.995 / 0.99 | 0.9925 / 0.986 (best classic AUROC" in _row(text, anomaly.model)
    assert "| yes (+0.0025) |" in _row(text, anomaly.model)
    # Lower is better for squared error: more than PCA's is a loss.
    assert "| 4.25 | 3.50 (PCA-30) | no (+0.75) |" in _row(text, hinton.model)


def test_a_baseline_from_another_run_and_one_not_measured(tmp_path, monkeypatch):
    make_results = _module()
    mlp = _experiment(IWAE_K1)
    resnet = make_results.Experiment(
        id="resnet_vae",
        task=mlp.task,
        dataset=mlp.dataset,
        model="residual VAE",
        metrics=("likelihood/nll",),
        metric_label="test NLL",
        commands=("python experiments/train.py ...",),
        baselines=("likelihood/nll",),
        baseline_label="the MLP VAE, same budget",
        baseline_run=mlp.id,
        higher_is_better=False,
    )
    monkeypatch.setattr(make_results, "EXPERIMENTS", [mlp, resnet])
    _write_results(tmp_path, resnet.id, {"likelihood/nll": 84.0})
    text = make_results.render(str(tmp_path))
    assert "| 84 | not measured (the MLP VAE, same budget) |" in _row(text, "residual VAE")
    _write_results(tmp_path, mlp.id, {"likelihood/nll": 86.5, "likelihood/active_units": 18.0})
    text = make_results.render(str(tmp_path))
    assert "| 86.50 (the MLP VAE, same budget) | yes (-2.5) |" in _row(text, "residual VAE")


def test_readme_excerpt_is_rewritten_between_its_markers(tmp_path):
    make_results = _module()
    anomaly = _experiment("ecg5000_anomaly")
    assert anomaly.readme
    _write_results(
        tmp_path,
        anomaly.id,
        {
            "anomaly/auroc": 0.98,
            "anomaly/average_precision": 0.97,
            "anomaly/best_baseline_auroc": 0.99,
            "anomaly/pca_upper_bound/average_precision": 0.985,
        },
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"top\n{make_results.README_START}\nold\n{make_results.README_END}\nend\n")
    assert make_results.update_readme(str(readme), str(tmp_path))
    text = readme.read_text()
    assert "old" not in text and text.startswith("top\n") and text.endswith("end\n")
    assert "| 0.98 / 0.97 | 0.99 / 0.985 (best classic AUROC" in text
    assert "| no (-0.01) |" in text  # a loss is shown as one
    assert "not run yet" not in text  # rows not measured are left out
    assert text.count("\n| ") == 2  # the header and the one measured row


def test_rows_of_runs_not_here_are_kept_from_the_previous_results(tmp_path):
    make_results = _module()
    first, second = _experiment(IWAE_K1), _experiment("iwae_table1/mlp_1layer_iwae_k50_20min")
    earlier = tmp_path / "earlier"
    for experiment, nll in ((first, 91.0), (second, 95.5)):
        _write_results(
            earlier,
            experiment.id,
            {"likelihood/nll": nll, "likelihood/active_units": 20.0},
        )
    results_md = tmp_path / "results.md"
    results_md.write_text(make_results.render(str(earlier)))
    # A rerun of the first experiment only, elsewhere.
    now = tmp_path / "now"
    _write_results(
        now,
        first.id,
        {"likelihood/nll": 88.5, "likelihood/active_units": 18.0, "likelihood/kl": 20.0},
    )
    previous = make_results.Previous.read(str(results_md))
    text = make_results.render(str(now), previous=previous)
    assert "| 88.50 / 18 |" in text and "| 91.00 / 20 |" not in text  # rerun replaces
    assert "| 95.50 / 20 |" in text  # not rerun: kept
    assert sum("not run yet" in line for line in text.splitlines()) == (
        len(make_results.EXPERIMENTS) - 2 + _seed_rows()
    )
    dropped = make_results.render(str(now), previous=make_results.Previous.read(None))
    assert "95.50" not in dropped


def test_a_kept_row_keeps_its_baseline_label_once(tmp_path):
    make_results = _module()
    hinton = _experiment("hinton2006_mnist")
    _write_results(tmp_path / "earlier", hinton.id, {"pca/model_sse": 3.1, "pca/pca_sse": 13.87})
    results_md = tmp_path / "results.md"
    results_md.write_text(make_results.render(str(tmp_path / "earlier")))
    for _ in range(2):  # regenerated twice from runs that do not hold it
        previous = make_results.Previous.read(str(results_md))
        results_md.write_text(make_results.render(str(tmp_path / "none"), previous=previous))
    row = _row(results_md.read_text(), hinton.model)
    assert "| 13.87 (PCA-30) | yes (-10.8) |" in row, row


def test_a_kept_baseline_cell_keeps_its_label_once(tmp_path):
    make_results = _module()
    experiment = _experiment("mnist_cvae_dense_concat")
    earlier = tmp_path / "earlier"
    metrics = {
        "conditional_generation/sample_accuracy": 0.92,
        "objective/elbo": -94.7,
        "conditional_generation/real_accuracy": 0.99,
    }
    _write_results(earlier, experiment.id, metrics)
    results_md = tmp_path / "results.md"
    results_md.write_text(make_results.render(str(earlier)))
    label = f"({experiment.baseline_label})"
    assert _row(results_md.read_text(), experiment.model).count(label) == 1
    kept = make_results.render(
        str(tmp_path / "none"), previous=make_results.Previous.read(str(results_md))
    )
    assert _row(kept, experiment.model).count(label) == 1


def test_rows_of_one_run_against_two_baselines_keep_their_own_baselines(tmp_path):
    # The VampPrior run is compared with the standard prior at equal minutes and at
    # equal steps: two rows with the same dataset, model and metric, told apart by the
    # baseline label their baseline cell ends with.
    make_results = _module()
    vamp = [e for e in make_results.EXPERIMENTS if e.id == "mnist_vampprior_vamp"]
    assert len(vamp) == 2 and vamp[0].baseline_run != vamp[1].baseline_run
    earlier = tmp_path / "earlier"
    nll = {"likelihood/nll": 93.08, "likelihood/active_units": 39.0}
    _write_results(earlier, "mnist_vampprior_vamp", nll)
    _write_results(
        earlier, vamp[0].baseline_run, {"likelihood/nll": 89.6, "likelihood/active_units": 22.0}
    )
    _write_results(
        earlier, vamp[1].baseline_run, {"likelihood/nll": 95.71, "likelihood/active_units": 28.0}
    )
    results_md = tmp_path / "results.md"
    results_md.write_text(make_results.render(str(earlier)))
    kept = make_results.render(
        str(tmp_path / "none"), previous=make_results.Previous.read(str(results_md))
    )
    rows = [line for line in kept.splitlines() if line.startswith("| ") and vamp[0].model in line]
    assert len(rows) == 2
    for experiment, row, baseline in zip(vamp, rows, ("89.60 / 22", "95.71 / 28"), strict=True):
        assert f"| {baseline} ({experiment.baseline_label}) |" in row, row


def test_a_seed_table_shows_median_and_range_and_keeps_rows_not_rerun(tmp_path):
    make_results = _module()
    table = make_results.SEED_TABLES[0]
    first, second = table.groups[0], table.groups[1]
    earlier = tmp_path / "earlier"
    for run, mig in zip(first.runs(), (0.30, 0.10, 0.20), strict=True):
        metrics = {name: 0.5 for name, _ in table.metrics}
        metrics["disentanglement/mig"] = mig
        _write_results(earlier, run, metrics, train_seconds=240.0 + 60 * mig, commit="abc" * 5)
    _write_results(  # one seed of the second row, one metric missing: not measured
        earlier, second.runs()[0], {"disentanglement/mig": 0.4}
    )
    text = make_results.render(str(earlier))
    row = _row(text, first.name)
    assert "| 3 of 3 |" in row and "| 0.200 [0.100, 0.300] |" in row, row
    assert "| 4.2 min | cpu" not in row and "| 4.2 min |" in row  # the median's time
    assert "| not run yet |" in _row(text, second.name)
    assert first.commands()[0] in text and "seed=2" in first.commands()[-2]
    results_md = tmp_path / "results.md"
    results_md.write_text(text)
    # Regenerated where none of its runs is: the row is kept as it was.
    kept = make_results.render(
        str(tmp_path / "none"), previous=make_results.Previous.read(str(results_md))
    )
    assert _row(kept, first.name) == row
    assert "| not run yet |" in _row(kept, second.name)


def test_a_renamed_row_keeps_its_measured_cells_under_its_new_label(tmp_path):
    make_results = _module()
    renamed = next(e for e in make_results.EXPERIMENTS if e.formerly)
    old = dataclasses.replace(renamed, model=renamed.formerly, formerly="")
    _write_results(tmp_path, renamed.id, {name: 1.5 for name in renamed.metrics})
    results_md = tmp_path / "results.md"
    results_md.write_text(
        "\n".join([*make_results._table_header(), make_results.row(old, str(tmp_path), 1)])
    )
    kept = make_results.render(
        str(tmp_path / "none"), previous=make_results.Previous.read(str(results_md))
    )
    assert "| 1.50 / 1.50 |" in _row(kept, renamed.model)
