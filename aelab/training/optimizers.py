"""Optax optimizers built from `config.optimizer`."""

from __future__ import annotations

import jax
import optax

from aelab.registry import Registry
from aelab.training.schedules import build_schedule

OPTIMIZERS = Registry("optimizer")


def _kernels_only(params):
    # Decoupled weight decay on kernels only, not on biases or normalisation scales.
    return jax.tree.map(lambda p: p.ndim > 1, params)


@OPTIMIZERS.register("sgd")
def _sgd(config, lr) -> optax.GradientTransformation:
    return optax.sgd(
        lr, momentum=config.get("momentum") or None, nesterov=config.get("nesterov", False)
    )


@OPTIMIZERS.register("adam")
def _adam(config, lr) -> optax.GradientTransformation:
    return optax.adam(
        lr, b1=config.get("b1", 0.9), b2=config.get("b2", 0.999), eps=config.get("eps", 1e-8)
    )


@OPTIMIZERS.register("adamw")
def _adamw(config, lr) -> optax.GradientTransformation:
    return optax.adamw(
        lr,
        b1=config.get("b1", 0.9),
        b2=config.get("b2", 0.999),
        eps=config.get("eps", 1e-8),
        weight_decay=config.get("weight_decay", 1e-4),
        mask=_kernels_only,
    )


@OPTIMIZERS.register("rmsprop")
def _rmsprop(config, lr) -> optax.GradientTransformation:
    return optax.rmsprop(
        lr,
        decay=config.get("decay", 0.9),
        eps=config.get("eps", 1e-8),
        momentum=config.get("momentum") or None,
        centered=config.get("centered", False),
    )


def build_optimizer(config, num_steps: int) -> optax.GradientTransformation:
    """The optimizer `config.name` with its schedule and optional clipping.

    Args:
      config: `config.optimizer`: name ("sgd", "adam", "adamw", "rmsprop"), learning_rate,
        schedule and its fields (see `aelab.training.schedules`), optional
        `grad_clip_norm` (clip by global norm before the update).
      num_steps: the run's length, for schedules that decay over it.
    """
    lr = build_schedule(config, num_steps)
    optimizer = OPTIMIZERS.get(config.name)(config, lr)
    clip = config.get("grad_clip_norm")
    if clip:
        optimizer = optax.chain(optax.clip_by_global_norm(clip), optimizer)
    return optimizer


def list_optimizers() -> list[str]:
    """Names of all registered optimizers, sorted."""
    return OPTIMIZERS.names()
