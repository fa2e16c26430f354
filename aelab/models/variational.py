"""The prior and posterior of the one-latent VAEs (`<family>_vae`): their options and the
parts they build.

`config.model.prior` picks p(z) (`aelab.models.priors`): "standard" N(0, I), "mog" (a
mixture of `prior_components` learned Gaussians) or "vamp" (the VampPrior over
`prior_components` learned pseudo-inputs). `config.model.posterior` picks q(z|x):
"gaussian" (diagonal) or "iaf" (`flow_steps` inverse autoregressive flow steps on it,
`aelab.models.iaf`). With anything but the standard prior and the Gaussian posterior the
KL has no closed form and the model estimates it from its posterior sample.
"""

from __future__ import annotations

from collections.abc import Sequence

from flax import nnx

from aelab.core.options import option, options_class
from aelab.models.iaf import InverseAutoregressiveFlow
from aelab.models.priors import (
    PRIOR_NAMES,
    PRIOR_WEIGHTS,
    MixtureOfGaussiansPrior,
    StandardNormalPrior,
    VampPrior,
)
from aelab.models.registry import ModelOptions

POSTERIOR_NAMES = ("gaussian", "iaf")


@options_class
class VariationalOptions(ModelOptions):
    """`config.model` options of a one-latent VAE's prior and posterior."""

    prior: str = option(
        "standard",
        "p(z): N(0, I), a learned Gaussian mixture, or the VampPrior",
        choices=PRIOR_NAMES,
    )
    prior_components: int = option(
        500, "K: mixture components (mog) or pseudo-inputs (vamp)", minimum=1
    )
    prior_weights: str = option(
        "uniform", "mixture weights of mog / vamp: 1/K, or a learned softmax", choices=PRIOR_WEIGHTS
    )
    pseudo_input_mean: float = option(0.5, "vamp: pseudo-inputs start at this value plus noise")
    pseudo_input_std: float = option(
        0.1, "vamp: std of the pseudo-inputs' initial noise", minimum=0.0
    )
    posterior: str = option(
        "gaussian",
        "q(z|x): a diagonal Gaussian, or one followed by IAF steps",
        choices=POSTERIOR_NAMES,
    )
    flow_steps: int = option(2, "iaf: autoregressive steps", minimum=1)
    flow_hidden: tuple[int, ...] = option(
        (64, 64),
        "iaf: hidden sizes of each step's MADE; the encoder's context h has the first size",
        minimum=1,
    )

    def check(self):
        if self.prior == "vamp" and self.posterior == "iaf":
            yield (
                "prior",
                (
                    "'vamp' mixes the encoder's posteriors q(z|u_k), which an IAF posterior "
                    "cannot evaluate at arbitrary z; use posterior='gaussian' with it, or "
                    "prior='standard' / 'mog' with posterior='iaf'"
                ),
            )
        if self.posterior == "iaf" and not self.flow_hidden:
            yield ("flow_hidden", "posterior='iaf' needs at least one hidden layer")


def context_features(options: VariationalOptions) -> int:
    """Features the encoder emits besides (mean, log_var): the IAF context h, or 0."""
    return options.flow_hidden[0] if options.posterior == "iaf" else 0


def build_prior(
    options: VariationalOptions, input_shape: Sequence[int], rngs: nnx.Rngs
) -> StandardNormalPrior | MixtureOfGaussiansPrior | VampPrior:
    """The prior `options.prior` names, over codes of `options.latent_dim` values."""
    learned = options.prior_weights == "learned"
    if options.prior == "mog":
        return MixtureOfGaussiansPrior(
            options.latent_dim, options.prior_components, learned_weights=learned, rngs=rngs
        )
    if options.prior == "vamp":
        return VampPrior(
            input_shape,
            options.prior_components,
            learned_weights=learned,
            init_mean=options.pseudo_input_mean,
            init_std=options.pseudo_input_std,
            rngs=rngs,
        )
    return StandardNormalPrior(options.latent_dim)


def build_posterior_flow(
    options: VariationalOptions, rngs: nnx.Rngs
) -> InverseAutoregressiveFlow | None:
    """The IAF steps of posterior 'iaf', or None for the plain Gaussian posterior."""
    if options.posterior != "iaf":
        return None
    return InverseAutoregressiveFlow(
        options.latent_dim,
        options.flow_steps,
        options.flow_hidden,
        context_features(options),
        rngs=rngs,
    )
