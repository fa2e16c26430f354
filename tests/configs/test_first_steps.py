"""Every config computes what it computed when its first steps were recorded: the same
train loss at each of its first steps and the same evaluation after them (recorded in
first_steps.json by tests/configs/first_steps.py; see its docstring). A refactoring
keeps them; a change that means to change what configs compute (such as holding out a
validation split) records them again, and its commit says so."""

import json

import pytest

from aelab.evaluation import train_and_evaluate
from tests.configs.first_steps import GOLDEN, differences, run_first_steps
from tests.conftest import all_config_names, load_config, missing_local_data

RECORDED = json.loads(GOLDEN.read_text())
# A quick sample for the default tier: the embedded data (a dense VAE); the slow tier
# checks every config (the recurrent models on ECG5000 files, MNIST ones included).
QUICK = ("quickstart",)


def test_every_config_has_recorded_first_steps():
    assert sorted(RECORDED) == all_config_names()


def _check(name):
    if (why := missing_local_data(load_config(name))) is not None:
        pytest.skip(why)
    recorded = RECORDED[name]
    measured = run_first_steps(name, train_and_evaluate)
    assert not differences(measured, recorded), differences(measured, recorded)


@pytest.mark.parametrize("name", QUICK)
def test_first_steps_are_unchanged(name):
    _check(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in all_config_names() if n not in QUICK])
def test_first_steps_of_every_other_config_are_unchanged(name):
    _check(name)


def test_differences_hold_train_losses_tight_and_eval_metrics_coarser():
    recorded = {"train_loss": [500.0, 480.0], "eval": {"loss": 990.0, "kl": 1.7}}
    rounding = {"train_loss": [500.0, 480.001], "eval": {"loss": 991.0, "kl": 1.7001}}
    assert differences(rounding, recorded) == []
    changed_step = {"train_loss": [500.0, 480.1], "eval": recorded["eval"]}
    assert [d.split()[0] for d in differences(changed_step, recorded)] == ["train_loss"]
    changed_eval = {"train_loss": recorded["train_loss"], "eval": {"loss": 990.0, "kl": 1.8}}
    assert differences(changed_eval, recorded) == ["eval kl 1.8 vs recorded 1.7"]
    renamed = {"train_loss": recorded["train_loss"], "eval": {"loss": 990.0}}
    assert [d.split()[1] for d in differences(renamed, recorded)] == ["metrics"]
