"""Search spaces, sweep definitions, URL redaction and reports: no training."""

import math

import optuna
import pytest

from aelab.sweeps import Choice, Float, Int, Sweep, grid_points, load_sweep, redact_url
from aelab.sweeps.definition import set_fields
from aelab.sweeps.plots import write_plots
from aelab.sweeps.population import check_vmappable
from aelab.sweeps.report import best_command, format_table
from tests.conftest import CONFIG_DIR, all_sweep_files, load_config

QUICKSTART = str(CONFIG_DIR / "quickstart.py")


def test_grid_points_enumerate_every_combination_in_order():
    space = {"a": Choice([1, 2]), "b": Int(0, 4, step=2), "c": Float(0.0, 0.5, step=0.25)}
    points = grid_points(space)
    assert len(points) == 2 * 3 * 3
    assert points[0] == {"a": 1, "b": 0, "c": 0.0}
    assert points[-1] == {"a": 2, "b": 4, "c": 0.5}


def test_continuous_dimension_has_no_grid():
    with pytest.raises(ValueError, match="'lr' is continuous"):
        grid_points({"lr": Float(1e-4, 1e-2, log=True)})


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Float(1.0, 0.5), "low must be below high"),
        (lambda: Float(0.0, 1.0, log=True), "low must be positive"),
        (lambda: Int(3, 1), "low must not exceed high"),
        (lambda: Choice([]), "nothing to choose from"),
        (lambda: Choice([1, 1]), "lists a value twice"),
        (lambda: Choice([{"a": 1}]), "has type dict"),
    ],
)
def test_bad_dimensions_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_tuple_choices_round_trip_through_optuna():
    dimension = Choice([(64,), (128, 64)])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = {dimension.suggest(study.ask(), "model.hidden_dims") for _ in range(20)}
    assert drawn == {(64,), (128, 64)}
    assert dimension.to_storage((128, 64)) == "(128, 64)"


def test_sweep_definition_errors_name_the_problem():
    with pytest.raises(ValueError, match="Unknown sampler 'bayes'"):
        Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2, sampler="bayes")
    with pytest.raises(ValueError, match="direction 'down'"):
        Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2, direction="down")
    with pytest.raises(ValueError, match="whole grid"):
        Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2, sampler="grid")
    with pytest.raises(ValueError, match="value 'last' is not valid"):
        Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2, value="last")
    grid = Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, sampler="grid")
    assert grid.num_trials == 4


def test_trial_config_sets_fields_and_rejects_typos():
    sweep = Sweep(
        config_file=QUICKSTART,
        config_arg="smoke",
        space={"optimizer.learning_rate": Float(1e-4, 1e-2)},
        num_trials=1,
        overrides={"model.dropout_rate": 0.1},
    )
    config = sweep.trial_config({"optimizer.learning_rate": 0.005, "model.hidden_dims": [8]})
    assert config.optimizer.learning_rate == 0.005
    assert config.model.hidden_dims == (8,)
    assert config.model.dropout_rate == 0.1
    assert config.train.num_steps == load_config("quickstart", "smoke").train.num_steps
    with pytest.raises(ValueError, match=r"'optimizer\.learnin_rate' does not exist"):
        sweep.trial_config({"optimizer.learnin_rate": 0.1})
    with pytest.raises(ValueError, match="'modle' does not exist"):
        set_fields(config, {"modle.latent_dim": 3}, allow_new=True)
    with pytest.raises(TypeError):
        sweep.trial_config({"train.num_steps": 0.5})


def test_redact_url_hides_only_the_password():
    assert redact_url("postgresql://ae:s3cret@db:5432/sw") == "postgresql://ae:***@db:5432/sw"
    assert redact_url("postgresql://ae@db/sw") == "postgresql://ae@db/sw"
    assert redact_url("sqlite:////tmp/x/study.db") == "sqlite:////tmp/x/study.db"


def _rows():
    return [
        {"trial": 0, "state": "COMPLETE", "lr": 0.001, "dims": "(64,)", "value": 30.0},
        {"trial": 1, "state": "PRUNED", "lr": 0.01, "dims": "(128, 64)", "value": 35.0},
        {"trial": 2, "state": "FAIL", "lr": 0.1, "dims": "(64,)", "value": None},
        {"trial": 3, "state": "COMPLETE", "lr": 0.003, "dims": "(128, 64)", "value": 28.5},
    ]


DESCRIPTION = {
    "config_file": QUICKSTART,
    "config_arg": None,
    "overrides": {"train.num_steps": 1500},
    "space": {
        "lr": {"kind": "float", "low": 1e-4, "high": 0.1, "log": True},
        "dims": {"kind": "choice", "values": ["(64,)", "(128, 64)"]},
    },
    "metric": "eval/loss",
    "direction": "minimize",
}


def test_plots_and_table_from_rows(tmp_path):
    paths = write_plots(_rows(), DESCRIPTION, str(tmp_path))
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "objective_vs_params.png",
        "history.png",
        "parallel_coordinates.png",
    ]
    assert all((tmp_path / p.rsplit("/", 1)[1]).stat().st_size > 1000 for p in paths)
    # No completed trial yet: the plots are still written, empty, without warnings.
    write_plots([], DESCRIPTION, str(tmp_path / "empty"))
    table = format_table(_rows(), DESCRIPTION)
    assert (
        table.splitlines()[0] == "| trial | state | lr | dims | eval/loss | steps | wall_seconds |"
    )
    assert "| 2 | FAIL | 0.1 | (64,) |  |" in table


def test_best_command_is_a_train_command_line():
    command = best_command(_rows()[3], DESCRIPTION)
    assert command.startswith("python experiments/train.py --config=")
    assert "--config.train.num_steps=1500" in command
    assert "--config.lr=0.003" in command
    assert "'--config.dims=(128, 64)'" in command  # quoted for the shell
    assert not math.isnan(_rows()[3]["value"])


@pytest.mark.parametrize("path", all_sweep_files(), ids=lambda p: p.rsplit("/", 1)[1])
@pytest.mark.parametrize("arg", [None, "smoke"])
def test_every_sweep_file_builds_its_trial_configs(path, arg):
    sweep = load_sweep(path if arg is None else f"{path}:{arg}")
    assert sweep.num_trials >= 1
    study = optuna.create_study(sampler=sweep.make_sampler())
    trial = study.ask()
    config = sweep.trial_config({n: d.suggest(trial, n) for n, d in sweep.space.items()})
    assert config.train.num_steps > 0
    if sweep.population_size:
        check_vmappable(list(sweep.space), config)


def test_a_sweep_without_a_pruner_never_prunes():
    # Optuna replaces pruner=None by a median pruner; a Sweep's None means none.
    from aelab.sweeps.study import study_pruner

    sweep = Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2)
    assert isinstance(study_pruner(sweep), optuna.pruners.NopPruner)
    median = optuna.pruners.MedianPruner()
    pruned = Sweep(config_file=QUICKSTART, space={"seed": Int(0, 3)}, num_trials=2, pruner=median)
    assert study_pruner(pruned) is median
