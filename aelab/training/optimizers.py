"""Optax optimizers built from `config.optimizer` (`name` and its options)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import optax

from aelab.core.options import Options, option, options_class
from aelab.core.registry import Registry
from aelab.core.schema import Section, Selector
from aelab.training.schedules import SCHEDULE_SELECTOR, LearningRateOptions, build_schedule

OPTIMIZERS = Registry("optimizer")
OPTIMIZER_SELECTOR = Selector(
    "name",
    OPTIMIZERS,
    choice="optimizer",
    default="adam",
    doc="the optax optimizer (aelab.training.list_optimizers())",
)


@options_class
class ClippingOptions(Options):
    """Gradient clipping before any optimizer's update (`config.optimizer`)."""

    grad_clip_norm: float | None = option(
        None,
        "clip gradients to this global norm before the update (None: no clipping)",
        above=0.0,
    )


@options_class
class SgdOptions(Options):
    """`config.optimizer` options of "sgd"."""

    momentum: float = option(0.0, "heavy-ball momentum (0: plain SGD)", minimum=0.0, below=1.0)
    nesterov: bool = option(False, "Nesterov momentum")


@options_class
class AdamOptions(Options):
    """`config.optimizer` options of "adam"."""

    b1: float = option(0.9, "decay of the first-moment estimate", minimum=0.0, below=1.0)
    b2: float = option(0.999, "decay of the second-moment estimate", minimum=0.0, below=1.0)
    eps: float = option(1e-8, "added to the denominator", above=0.0)


@options_class
class AdamWOptions(AdamOptions):
    """`config.optimizer` options of "adamw"."""

    weight_decay: float = option(
        1e-4, "decoupled weight decay on kernels (not biases or norm scales)", minimum=0.0
    )


@options_class
class RmspropOptions(Options):
    """`config.optimizer` options of "rmsprop"."""

    decay: float = option(0.9, "decay of the squared-gradient average", minimum=0.0, below=1.0)
    eps: float = option(1e-8, "added to the denominator", above=0.0)
    momentum: float = option(0.0, "momentum (0: none)", minimum=0.0, below=1.0)
    centered: bool = option(False, "normalise by the centred second moment")


def _kernels_only(params):
    # Decoupled weight decay on kernels only, not on biases or normalisation scales.
    return jax.tree.map(lambda p: p.ndim > 1, params)


@OPTIMIZERS.register("sgd", options=SgdOptions)
def _sgd(options: SgdOptions, lr) -> optax.GradientTransformation:
    return optax.sgd(lr, momentum=options.momentum or None, nesterov=options.nesterov)


@OPTIMIZERS.register("adam", options=AdamOptions)
def _adam(options: AdamOptions, lr) -> optax.GradientTransformation:
    return optax.adam(lr, b1=options.b1, b2=options.b2, eps=options.eps)


@OPTIMIZERS.register("adamw", options=AdamWOptions)
def _adamw(options: AdamWOptions, lr) -> optax.GradientTransformation:
    return optax.adamw(
        lr,
        b1=options.b1,
        b2=options.b2,
        eps=options.eps,
        weight_decay=options.weight_decay,
        mask=_kernels_only,
    )


@OPTIMIZERS.register("rmsprop", options=RmspropOptions)
def _rmsprop(options: RmspropOptions, lr) -> optax.GradientTransformation:
    return optax.rmsprop(
        lr,
        decay=options.decay,
        eps=options.eps,
        momentum=options.momentum or None,
        centered=options.centered,
    )


# An adversarial objective's discriminator has an optimizer of its own, configured
# like the model's; its selectors get their own `base_config` keywords.
DISCRIMINATOR_OPTIMIZER_SECTION = Section(
    "discriminator",
    doc=(
        "the discriminator's optimizer, schedule and clipping (read only by objectives "
        "that train a discriminator, such as factor_vae)"
    ),
    shared=(LearningRateOptions, ClippingOptions),
    selectors=(
        dataclasses.replace(OPTIMIZER_SELECTOR, choice="discriminator_optimizer"),
        dataclasses.replace(SCHEDULE_SELECTOR, choice="discriminator_schedule"),
    ),
)

OPTIMIZER_SECTION = Section(
    "optimizer",
    doc="the optimizer, its learning-rate schedule and gradient clipping",
    shared=(LearningRateOptions, ClippingOptions),
    selectors=(OPTIMIZER_SELECTOR, SCHEDULE_SELECTOR),
    subsections={"discriminator": DISCRIMINATOR_OPTIMIZER_SECTION},
)


def build_optimizer(
    config,
    num_steps: int,
    *,
    learning_rate=None,
    overrides: Mapping[str, Any] | None = None,
    path: str = "optimizer",
) -> optax.GradientTransformation:
    """The optimizer `config.name` (default "adam") with its schedule and clipping.

    Args:
      config: `config.optimizer`: name ("sgd", "adam", "adamw", "rmsprop") and its
        options, learning_rate, schedule and its options, grad_clip_norm.
      num_steps: the run's length, for schedules that decay over it.
      learning_rate: replaces `config.learning_rate` (a population sweep builds its
        optimizers for a rate of 1 and scales their updates).
      overrides: optimizer option values that replace the parsed ones unchecked (a
        population's traced weight decay).
      path: where `config` sits, for error messages ("optimizer.discriminator" for a
        discriminator's optimizer).
    """
    lr = build_schedule(config, num_steps, learning_rate=learning_rate)
    name = OPTIMIZER_SELECTOR.value(config)
    options = OPTIMIZERS.options(name).from_section(config, path=path)
    if overrides:
        options = dataclasses.replace(options, **overrides)
    optimizer = OPTIMIZERS.get(name)(options, lr)
    clip = ClippingOptions.from_section(config, path=path).grad_clip_norm
    if clip:
        optimizer = optax.chain(optax.clip_by_global_norm(clip), optimizer)
    return optimizer


def build_discriminator_optimizer(config, num_steps: int) -> optax.GradientTransformation:
    """The discriminator's optimizer from `config.optimizer.discriminator` (`config` is
    `config.optimizer`); the defaults (Adam, constant 1e-3) when the section is absent."""
    section = config.get("discriminator") or {}
    return build_optimizer(section, num_steps, path="optimizer.discriminator")


def build_discriminator_schedule(config, num_steps: int) -> optax.Schedule:
    """The discriminator's learning rate per step (`config` is `config.optimizer`)."""
    return build_schedule(config.get("discriminator") or {}, num_steps)


def list_optimizers() -> list[str]:
    """Names of all registered optimizers, sorted."""
    return OPTIMIZERS.names()
