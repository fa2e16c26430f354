"""Kill -9 at random moments (and SIGTERM), restart, and end bit-identical to a straight run.

Real `experiments/train.py` processes: see fault_injection.py for the harness. The CI
version stops a run with SIGTERM, then kills it 3 times (one per strategy) before it
finishes; the long one (`-m slow`) kills 20 times, and stops a run with SIGINT.
"""

import json
import os
import signal
import time

import pytest

from tests.training.fault_injection import (
    ADVERSARIAL_CONFIG,
    CHECKPOINT_EVERY,
    TMP_MARKER,
    KillCampaign,
    TrainProcess,
    last_logged_step,
    run_uninterrupted,
)
from tests.training.run_outputs import assert_same_run


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("jax_cache"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, compilation_cache):
    """(work directory, wall seconds) of an uninterrupted run of the harness config."""
    root = tmp_path_factory.mktemp("reference")
    workdir = str(root / "run")
    seconds = run_uninterrupted(workdir, str(root / "run.log"), compilation_cache)
    return workdir, seconds


def _check_against(reference_workdir):
    def check(workdir):
        assert_same_run(reference_workdir, workdir)
        names = os.listdir(os.path.join(workdir, "checkpoints"))
        assert not [n for n in names if TMP_MARKER in n], names  # left-overs cleaned up
        assert not os.path.exists(os.path.join(workdir, "corrupt_checkpoints"))

    return check


def _campaign(tmp_path, reference, cache, num_kills, kills_per_run, record_property, config=None):
    reference_workdir, seconds = reference
    campaign = KillCampaign(
        root=str(tmp_path),
        compilation_cache=cache,
        reference_seconds=seconds,
        num_kills=num_kills,
        kills_per_run=kills_per_run,
        seed=int(os.environ.get("AELAB_FAULT_SEED", 0)),
        **({"config": config} if config else {}),
    )
    started = time.perf_counter()
    campaign.run(_check_against(reference_workdir))
    summary = dict(
        campaign.summary(),
        seed=campaign.seed,
        reference_run_seconds=round(seconds, 1),
        campaign_seconds=round(time.perf_counter() - started, 1),
        kills_detail=[vars(k) for k in campaign.kills],
    )
    record_property("fault_injection", json.dumps(summary))
    print("fault injection:", json.dumps(summary, indent=1))
    assert summary["kills"] >= num_kills
    return summary


def _preempt(workdir, log_path, compilation_cache, signum) -> None:
    """Starts a run, sends `signum` once it has trained a while, checks the clean stop."""
    process = TrainProcess(workdir, log_path, compilation_cache)
    while last_logged_step(workdir) < 2 * CHECKPOINT_EVERY and process.running():
        time.sleep(0.005)
    process.process.send_signal(signum)
    code = process.wait()
    output = process.output()
    assert code == 128 + signum, output[-3000:]
    assert f"Stopped by {signal.Signals(signum).name} at step" in output
    assert "To resume, rerun the same command with the same workdir" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_sigterm_then_three_random_kills_resume_bit_identical(
    tmp_path, reference, compilation_cache, record_property
):
    """One work directory (run0): stopped by SIGTERM, then killed 3 times, then finished."""
    _preempt(
        str(tmp_path / "run0"),
        str(tmp_path / "run0-sigterm.log"),
        compilation_cache,
        signal.SIGTERM,
    )
    _campaign(tmp_path, reference, compilation_cache, 3, 3, record_property)


@pytest.mark.slow
def test_many_random_kills_resume_bit_identical(
    tmp_path, reference, compilation_cache, record_property
):
    num_kills = int(os.environ.get("AELAB_FAULT_KILLS", 20))
    summary = _campaign(tmp_path, reference, compilation_cache, num_kills, 5, record_property)
    assert summary["during_checkpoint_write"] > 0


@pytest.mark.slow
def test_sigint_stops_cleanly_and_the_rerun_ends_bit_identical(
    tmp_path, reference, compilation_cache
):
    workdir = str(tmp_path / "run")
    _preempt(workdir, str(tmp_path / "attempt1.log"), compilation_cache, signal.SIGINT)
    rerun = TrainProcess(workdir, str(tmp_path / "attempt2.log"), compilation_cache)
    assert rerun.wait() == 0, rerun.output()[-3000:]
    assert "Resuming from the checkpoint at step" in rerun.output()
    assert_same_run(reference[0], workdir)


@pytest.mark.slow
def test_two_optimizer_run_killed_three_times_resumes_bit_identical(
    tmp_path, compilation_cache, record_property
):
    """The same campaign on a FactorVAE: the discriminator's parameters and optimizer
    state, checkpointed with the model's, end bit-identical too."""
    workdir = str(tmp_path / "reference")
    seconds = run_uninterrupted(
        workdir, str(tmp_path / "reference.log"), compilation_cache, ADVERSARIAL_CONFIG
    )
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        assert "train/discriminator_loss" in f.read()
    _campaign(
        tmp_path,
        (workdir, seconds),
        compilation_cache,
        3,
        3,
        record_property,
        config=ADVERSARIAL_CONFIG,
    )
