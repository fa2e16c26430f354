"""Learning-rate schedules built from `config.optimizer`."""

from __future__ import annotations

import optax

from aelab.registry import Registry

SCHEDULES = Registry("learning-rate schedule")


@SCHEDULES.register("constant")
def _constant(config, num_steps: int) -> optax.Schedule:
    return optax.constant_schedule(config.learning_rate)


@SCHEDULES.register("cosine")
def _cosine(config, num_steps: int) -> optax.Schedule:
    """Linear warm-up for `warmup_steps`, then cosine decay to `end_lr_factor * lr`."""
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0 if config.get("warmup_steps", 0) else config.learning_rate,
        peak_value=config.learning_rate,
        warmup_steps=config.get("warmup_steps", 0),
        decay_steps=max(num_steps, config.get("warmup_steps", 0) + 1),
        end_value=config.learning_rate * config.get("end_lr_factor", 0.0),
    )


@SCHEDULES.register("warmup_constant")
def _warmup_constant(config, num_steps: int) -> optax.Schedule:
    """Linear warm-up from 0 over `warmup_steps`, then constant."""
    return optax.join_schedules(
        [
            optax.linear_schedule(0.0, config.learning_rate, config.warmup_steps),
            optax.constant_schedule(config.learning_rate),
        ],
        [config.warmup_steps],
    )


@SCHEDULES.register("step")
def _step_decay(config, num_steps: int) -> optax.Schedule:
    """Multiplies the rate by `decay_factor` at each step in `decay_boundaries`, after an
    optional linear warm-up."""
    decay = optax.piecewise_constant_schedule(
        config.learning_rate,
        {int(b): config.get("decay_factor", 0.1) for b in config.decay_boundaries},
    )
    warmup = config.get("warmup_steps", 0)
    if not warmup:
        return decay
    return optax.join_schedules(
        [optax.linear_schedule(0.0, config.learning_rate, warmup), decay], [warmup]
    )


@SCHEDULES.register("piecewise")
def _piecewise(config, num_steps: int) -> optax.Schedule:
    """Explicit stages: `learning_rates[i]` until `boundaries[i]` (len(boundaries) ==
    len(learning_rates) - 1). Used for the IWAE paper's 3^i-epoch stages."""
    rates = [float(r) for r in config.learning_rates]
    boundaries = [int(b) for b in config.boundaries]
    if len(boundaries) != len(rates) - 1:
        raise ValueError(
            f"config.optimizer.boundaries has {len(boundaries)} entries; piecewise needs "
            f"len(learning_rates) - 1 = {len(rates) - 1}."
        )
    schedules = [optax.constant_schedule(r) for r in rates]
    return optax.join_schedules(schedules, boundaries)


@SCHEDULES.register("exponential")
def _exponential(config, num_steps: int) -> optax.Schedule:
    """lr * decay_factor ** (step / decay_steps)."""
    return optax.exponential_decay(
        config.learning_rate, transition_steps=config.decay_steps, decay_rate=config.decay_factor
    )


def build_schedule(config, num_steps: int) -> optax.Schedule:
    """The schedule named `config.schedule` (default "constant") for a `num_steps` run."""
    return SCHEDULES.get(config.get("schedule", "constant"))(config, num_steps)
