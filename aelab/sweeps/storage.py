"""Where a sweep's study lives: a SQLite file in the sweep dir, or a shared PostgreSQL.

Both go through Optuna's `RDBStorage`, which also keeps each running trial's heartbeat:
a trial whose worker stops beating for `grace_period` seconds (it was killed, or its
machine died) is marked failed and re-queued with the same parameters, and the retry
resumes from the trial's own checkpoints.

Storage URLs may hold a password; it never goes to logs or files (`redact_url`). Keep
it off the command line too: give `postgresql://user@host/db` and let libpq read the
password from `PGPASSWORD` or `~/.pgpass`.
"""

from __future__ import annotations

import os
import warnings

import optuna
import sqlalchemy

# Heartbeat defaults: a trial is retried about a minute after its worker died.
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 60
MAX_RETRIES = 3


def default_storage_url(sweep_dir: str) -> str:
    """The SQLite file `study.db` in the sweep dir (no server needed)."""
    return "sqlite:///" + os.path.join(os.path.abspath(sweep_dir), "study.db")


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for logs and files."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        # Not parseable as a URL: say nothing that might be a secret.
        return "<unparseable storage URL>"


def retry_stale_trial_callback(max_retry: int = MAX_RETRIES):
    """Re-queues a heartbeat-stale trial with its parameters and reported values."""
    with warnings.catch_warnings():
        # Optuna marks the callback experimental; its behaviour is what we test.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry=max_retry, inherit_intermediate_values=True
        )


def open_storage(
    url: str,
    *,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    grace_period: int = GRACE_PERIOD,
    max_retries: int = MAX_RETRIES,
) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage with heartbeats and retry of stale trials.

    Args:
      url: "sqlite:///path/study.db" or "postgresql://user[:password]@host[:port]/db".
      heartbeat_interval: seconds between a running trial's heartbeats.
      grace_period: seconds without a heartbeat after which a trial counts as dead.
      max_retries: how often one trial is retried after its worker died.
    """
    if not url.startswith(("sqlite:", "postgresql")):
        raise ValueError(
            f"Storage {redact_url(url)} is not supported; use sqlite:///path/study.db or "
            "postgresql://user@host[:port]/database."
        )
    engine_kwargs = {"pool_pre_ping": True}
    if url.startswith("sqlite:"):
        # Several worker processes write one file: wait for its lock instead of failing.
        engine_kwargs = {"connect_args": {"timeout": 120}}
    try:
        with warnings.catch_warnings():
            # Optuna calls heartbeats experimental; the retry behaviour is tested here.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace_period,
                heartbeat_stale_trial_callback=retry_stale_trial_callback(max_retries),
            )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as e:
        raise ConnectionError(
            f"Cannot open the study storage {redact_url(url)}: {redact_secret(str(e), url)} "
            "Is the server running and reachable, the database created, and the password in "
            "PGPASSWORD or ~/.pgpass?"
        ) from None


def close_storage(storage: optuna.storages.RDBStorage) -> None:
    """Closes the storage's database connections now, rather than leaving them to the
    garbage collector (which warns about each open psycopg connection it finds)."""
    storage.remove_session()
    storage.engine.dispose()


def redact_secret(text: str, url: str) -> str:
    """`text` with the password of `url` (if any) replaced by ***."""
    try:
        password = sqlalchemy.engine.make_url(url).password
    except Exception:
        return text
    return text.replace(password, "***") if password else text
