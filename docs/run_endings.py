"""How a run ended, as docs/models.md says it next to the run's result (used by
docs/make_models_table.py; no flags, so tests load it)."""


def budget_note(
    info: dict, final: int, num_steps: int, time_limit_minutes, run_time_limit_minutes
) -> str:
    """How the run ended, next to its result: nothing when it ran all `num_steps`; its
    time limit or early stopping when one of them was the config's stated end; otherwise
    (stopped by a signal, or a time limit the run was given in place of the config's,
    `run_time_limit_minutes` != `time_limit_minutes`) where it stopped."""
    if final >= num_steps:
        return ""
    stated_limit = time_limit_minutes and run_time_limit_minutes == time_limit_minutes
    if info.get("stopped_by_time_limit") and stated_limit:
        return f"; ran its {time_limit_minutes:g}-minute time limit"
    if info.get("stopped_early"):
        return f"; early-stopped on validation at {final:,} of {num_steps:,} steps"
    return f"; stopped at {final:,} of {num_steps:,} steps"
