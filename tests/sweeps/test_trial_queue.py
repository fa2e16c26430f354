"""Two workers popping the trial queue at the same moment never get the same trial."""

import json
import subprocess
import sys
import warnings

import optuna
import pytest

from tests.conftest import REPO
from tests.sweeps.conftest import subprocess_env

# Once both are ready (a file barrier), pops until the queue is empty.
POPPER = """
import json, os, sys, warnings
warnings.simplefilter("ignore")
import optuna
from aelab.sweeps.worker import pop_waiting_trial
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="queue", storage=sys.argv[1])
open(os.path.join(sys.argv[2], "ready." + sys.argv[3]), "w").close()
while len([n for n in os.listdir(sys.argv[2]) if n.startswith("ready.")]) < 2:
    pass
popped = []
while (trial_id := pop_waiting_trial(study, sys.argv[2])) is not None:
    popped.append(trial_id)
print(json.dumps(popped))
"""


@pytest.mark.slow  # processes racing on one database (9 s)
def test_concurrent_pops_share_out_the_queue(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(study_name="queue", storage=url)
        for x in range(8):
            study.enqueue_trial({"x": x})
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", POPPER, url, str(tmp_path), str(index)],
            cwd=REPO,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    popped = [json.loads(process.communicate(timeout=300)[0]) for process in processes]
    assert all(process.returncode == 0 for process in processes)
    first, second = (set(ids) for ids in popped)
    assert not first & second, popped
    assert len(first | second) == 8
