"""Deep ensembles: K independently initialised copies of one model, trained side by side.

    config.model.name = "dense_ae"
    config.model.ensemble_members = 5      # any model; 1 (the default) is the model alone

Each member has its own parameters (and initialisation: the members' keys are split from
the run's), sees the same batches and is trained by the run's objective on its own
output: the train and evaluation steps apply the objective to every member
(`objective_over_members`) and add the members' losses, so the gradient of each member
is the one it would get alone. This is the deep ensemble of Lakshminarayanan et al.
(2017); for anomaly detection, the members' mean reconstruction error adds their
disagreement to the error of their mean reconstruction (the bias-variance split of the
squared error), which separates unusual inputs better than one model
(docs/results.md, ECG5000).

To everything else the ensemble is one `Model` (`aelab.core.contract`): its code is the
members' codes side by side (last axis; `latent_dim` is K times the member's), its
decoder output the mean of the members' outputs, so every evaluator runs unchanged on
the mean reconstruction. The `anomaly` evaluator also scores ``member_error`` through
`member_reconstructions`. An ensemble is not a latent-variable model even when its
members are VAEs (the members are trained as VAEs; the ensemble has no one posterior),
and conditional, compressive and classifier members are refused.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import nnx

from aelab.core.contract import (
    Encoding,
    ModelOutput,
    is_classifier,
    is_compression_model,
    is_conditional_model,
)


class Ensemble(nnx.Module):
    """`num_members` copies of a model; see the module docstring.

    Args:
      make_member: rngs -> a member model (the same architecture each call).
      num_members: K >= 2.
      rngs: initialisation randomness; member k is built from its own split key.
    """

    def __init__(self, make_member: Callable[[nnx.Rngs], nnx.Module], num_members: int, *, rngs):
        if num_members < 2:
            raise ValueError(f"An ensemble needs at least 2 members, not {num_members}.")
        keys = jax.random.split(rngs.params(), num_members)
        # The first member is checked before the others are built.
        first = make_member(nnx.Rngs(keys[0]))
        for check, what in (
            (is_conditional_model, "conditional"),
            (is_compression_model, "compressive (a learned codec)"),
            (is_classifier, "a classifier"),
        ):
            if check(first):
                raise ValueError(
                    f"config.model.ensemble_members={num_members} needs plain autoencoder or "
                    f"VAE members; {type(first).__name__} is {what}. Set "
                    "config.model.ensemble_members=1."
                )
        self.members = nnx.List([first] + [make_member(nnx.Rngs(key)) for key in keys[1:]])
        self.num_members = num_members
        self.member_latent_dim = first.latent_dim
        self.latent_dim = num_members * first.latent_dim

    def _codes(self, z: jax.Array) -> list[jax.Array]:
        return jnp.split(z, self.num_members, axis=-1)

    def _joined(self, encodings: list[Encoding]) -> Encoding:
        def mean_of(name: str, field: str) -> jax.Array:
            return sum(getattr(e, field)[name] for e in encodings) / len(encodings)

        first = encodings[0]
        log_vars = [e.log_var for e in encodings]
        return Encoding(
            mean=jnp.concatenate([e.mean for e in encodings], axis=-1),
            log_var=None if first.log_var is None else jnp.concatenate(log_vars, axis=-1),
            # The loss terms a member contributes are trained through
            # `objective_over_members`; here they are the members' average, for logging.
            losses={name: mean_of(name, "losses") for name in first.losses},
            metrics={name: mean_of(name, "metrics") for name in first.metrics},
        )

    def encode(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """x [batch, *input_shape] -> Encoding(mean=[batch, ..., K * member code])."""
        return self._joined([m.encode(x, train=train, rngs=rngs) for m in self.members])

    def decode(self, z: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        """z [batch, ..., K * member code] -> the members' mean decoder output."""
        outputs = [
            m.decode(code, train=train, rngs=rngs)
            for m, code in zip(self.members, self._codes(z), strict=True)
        ]
        return sum(outputs) / self.num_members

    def reconstruct(self, z: jax.Array, x: jax.Array, *, train: bool, rngs: nnx.Rngs | None):
        outputs = [
            m.reconstruct(code, x, train=train, rngs=rngs)
            for m, code in zip(self.members, self._codes(z), strict=True)
        ]
        return sum(outputs) / self.num_members

    def member_reconstructions(self, x: jax.Array) -> jax.Array:
        """Each member's decoder output for x in eval mode (a VAE member decodes its
        posterior mean): [K, batch, *output_shape]."""
        return jnp.stack([m(x, train=False, rngs=None).decoded for m in self.members])

    def __call__(self, x: jax.Array, *, train: bool = False, rngs: nnx.Rngs | None = None):
        outputs = [m(x, train=train, rngs=rngs) for m in self.members]
        return ModelOutput(
            encoding=self._joined([o.encoding for o in outputs]),
            code=jnp.concatenate([o.code for o in outputs], axis=-1),
            decoded=sum(o.decoded for o in outputs) / self.num_members,
        )


def is_ensemble(model: object) -> bool:
    """Whether `model` is an `Ensemble` (whose objective is applied per member)."""
    return isinstance(model, Ensemble)


def objective_over_members(objective, model, batch: dict, *, rngs: nnx.Rngs, train, step):
    """`objective(model, batch, ...)`, or for an `Ensemble` the sum of the objective over
    its members (each with its own randomness, folded from `rngs`) with their metrics
    averaged: (loss, metrics), what the train and evaluation steps use."""
    if not is_ensemble(model):
        return objective(model, batch, rngs=rngs, train=train, step=step)
    key = rngs.default()
    losses, metrics = [], []
    for k, member in enumerate(model.members):
        loss, values = objective(
            member, batch, rngs=nnx.Rngs(jax.random.fold_in(key, k)), train=train, step=step
        )
        losses.append(loss)
        metrics.append(values)
    averaged = jax.tree.map(lambda *v: sum(v) / len(v), *metrics)
    return sum(losses), averaged
