"""Learning-rate schedules built from `config.optimizer` (`schedule` and its options)."""

from __future__ import annotations

import optax

from aelab.core.options import NoOptions, Options, option, options_class
from aelab.core.registry import Registry
from aelab.core.schema import Selector

SCHEDULES = Registry("learning-rate schedule")
SCHEDULE_SELECTOR = Selector(
    "schedule",
    SCHEDULES,
    choice="schedule",
    default="constant",
    doc="the learning-rate schedule (aelab.training.schedules.SCHEDULES)",
)


@options_class
class LearningRateOptions(Options):
    """The rate every schedule starts from or peaks at (`config.optimizer`)."""

    learning_rate: float = option(1e-3, "the (peak) learning rate", above=0.0)


@options_class
class WarmupOptions(Options):
    """A linear warm-up from 0."""

    warmup_steps: int = option(0, "steps of linear warm-up from 0 to the learning rate", minimum=0)


@options_class
class CosineOptions(WarmupOptions):
    """`config.optimizer` options of the "cosine" schedule."""

    end_lr_factor: float = option(
        0.0, "the final rate, as a fraction of the learning rate", minimum=0.0
    )


@options_class
class StepDecayOptions(WarmupOptions):
    """`config.optimizer` options of the "step" schedule."""

    decay_boundaries: tuple[int, ...] = option(
        doc="steps at which the rate is multiplied by decay_factor", minimum=0, min_length=1
    )
    decay_factor: float = option(0.1, "the factor at each boundary", above=0.0)


@options_class
class PiecewiseOptions(Options):
    """`config.optimizer` options of the "piecewise" schedule."""

    learning_rates: tuple[float, ...] = option(
        doc="the rate of each stage", minimum=0.0, min_length=1
    )
    boundaries: tuple[int, ...] = option(
        doc="the step at which each stage after the first starts", minimum=0
    )

    def check(self):
        if len(self.boundaries) != len(self.learning_rates) - 1:
            yield (
                "boundaries",
                (
                    f"needs len(learning_rates) - 1 = {len(self.learning_rates) - 1} entries "
                    f"(one per stage boundary), not {len(self.boundaries)}"
                ),
            )


@options_class
class ExponentialOptions(Options):
    """`config.optimizer` options of the "exponential" schedule."""

    decay_steps: int = option(
        doc="steps over which the rate is multiplied by decay_factor", minimum=1
    )
    decay_factor: float = option(doc="the factor per decay_steps", above=0.0)


@SCHEDULES.register("constant", options=NoOptions)
def _constant(learning_rate: float, options: NoOptions, num_steps: int) -> optax.Schedule:
    return optax.constant_schedule(learning_rate)


@SCHEDULES.register("cosine", options=CosineOptions)
def _cosine(learning_rate: float, options: CosineOptions, num_steps: int) -> optax.Schedule:
    """Linear warm-up for `warmup_steps`, then cosine decay to `end_lr_factor * lr`."""
    warmup = options.warmup_steps
    return optax.warmup_cosine_decay_schedule(
        init_value=0.0 if warmup else learning_rate,
        peak_value=learning_rate,
        warmup_steps=warmup,
        decay_steps=max(num_steps, warmup + 1),
        end_value=learning_rate * options.end_lr_factor,
    )


@SCHEDULES.register("warmup_constant", options=WarmupOptions)
def _warmup_constant(
    learning_rate: float, options: WarmupOptions, num_steps: int
) -> optax.Schedule:
    """Linear warm-up from 0 over `warmup_steps`, then constant."""
    return optax.join_schedules(
        [
            optax.linear_schedule(0.0, learning_rate, options.warmup_steps),
            optax.constant_schedule(learning_rate),
        ],
        [options.warmup_steps],
    )


@SCHEDULES.register("step", options=StepDecayOptions)
def _step_decay(learning_rate: float, options: StepDecayOptions, num_steps: int) -> optax.Schedule:
    """Multiplies the rate by `decay_factor` at each step in `decay_boundaries`, after an
    optional linear warm-up."""
    decay = optax.piecewise_constant_schedule(
        learning_rate, {int(b): options.decay_factor for b in options.decay_boundaries}
    )
    warmup = options.warmup_steps
    if not warmup:
        return decay
    return optax.join_schedules(
        [optax.linear_schedule(0.0, learning_rate, warmup), decay], [warmup]
    )


@SCHEDULES.register("piecewise", options=PiecewiseOptions)
def _piecewise(learning_rate: float, options: PiecewiseOptions, num_steps: int) -> optax.Schedule:
    """Explicit stages: `learning_rates[i]` until `boundaries[i]` (len(boundaries) ==
    len(learning_rates) - 1). Used for the IWAE paper's 3^i-epoch stages. (The
    optimizer's `learning_rate` is not used.)"""
    schedules = [optax.constant_schedule(float(r)) for r in options.learning_rates]
    return optax.join_schedules(schedules, [int(b) for b in options.boundaries])


@SCHEDULES.register("exponential", options=ExponentialOptions)
def _exponential(
    learning_rate: float, options: ExponentialOptions, num_steps: int
) -> optax.Schedule:
    """lr * decay_factor ** (step / decay_steps)."""
    return optax.exponential_decay(
        learning_rate, transition_steps=options.decay_steps, decay_rate=options.decay_factor
    )


def schedule_name(config) -> str:
    """The schedule a `config.optimizer` section names (default "constant")."""
    return SCHEDULE_SELECTOR.value(config)


def build_schedule(config, num_steps: int, *, learning_rate=None) -> optax.Schedule:
    """The schedule `config.schedule` (default "constant") of a `num_steps` run.

    Args:
      config: the `config.optimizer` section (learning_rate, schedule, its options).
      num_steps: the run's length, for schedules that decay over it.
      learning_rate: replaces `config.learning_rate` (a population's rate of 1).
    """
    name = schedule_name(config)
    options = SCHEDULES.options(name).from_section(config, path="optimizer")
    if learning_rate is None:
        learning_rate = LearningRateOptions.from_section(config, path="optimizer").learning_rate
    return SCHEDULES.get(name)(learning_rate, options, num_steps)
