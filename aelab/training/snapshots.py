"""Image grids written at each evaluation: inputs vs reconstructions, and prior samples."""

from __future__ import annotations

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from aelab.core.contract import (
    bind_condition,
    condition_of,
    is_classifier,
    is_conditional_model,
    is_latent_variable_model,
)
from aelab.data.pipeline import ProcessSlice, eval_batches
from aelab.training.mesh import replicated
from aelab.training.seeds import data_seed
from aelab.training.state import merge_model
from aelab.visualization import image_grid, save_png, series_panel

_NUM_EXAMPLES = 16
_NUM_SAMPLES = 64


def _is_image(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[-1] in (1, 3)


class ImageSnapshots:
    """Writes `images/reconstructions_<step>.png` (rows of inputs, then their
    reconstructions) and, for VAEs, `images/samples_<step>.png` (decoded prior samples);
    time series get line plots instead. Also sends the grids to TensorBoard.

    The inputs are the first examples of the evaluation split, the same at every step. A
    conditional model reconstructs them under their own labels and samples the classes in
    turn (sample i has class i mod condition_dim); a classifier draws nothing.
    """

    def __init__(self, workdir, graphdef, spec, eval_source, config, mesh, *, is_chief: bool):
        self.directory = os.path.join(workdir, "images")
        self.is_chief = is_chief
        self.display_shape = tuple(spec.info.input_shape)
        count = min(_NUM_EXAMPLES, len(eval_source))
        batch = next(
            eval_batches(
                eval_source,
                spec.transform,
                ProcessSlice(count),  # every process loads all rows: replicated inputs
                seed=data_seed(config),
                max_examples=count,
            )
        )
        self.inputs = np.asarray(batch["inputs"])
        self.graphdef = graphdef
        self.draws: bool | None = None  # known at the first write, from the state
        images = {k: np.asarray(v) for k, v in batch.items() if k in ("inputs", "label")}
        likelihood = spec.objective.likelihood
        sharding = replicated(mesh)
        self._inputs_on_device = {
            k: jax.make_array_from_process_local_data(sharding, v) for k, v in images.items()
        }
        sample_key = jax.random.PRNGKey(config.seed + 2)

        # Replicated outputs: every process can read them, whatever the state's sharding.
        @functools.partial(jax.jit, out_shardings=sharding)
        def reconstruct_and_sample(state, batch):
            raw = merge_model(graphdef, state.params, state.model_state)
            model = bind_condition(raw, batch)
            decoded = model(batch["inputs"], train=False, rngs=None).decoded
            reconstructions = likelihood.mean(decoded)
            samples = None
            if is_latent_variable_model(model):
                z = model.sample_prior(nnx.Rngs(sample_key), _NUM_SAMPLES)
                if is_conditional_model(raw):
                    classes = {"label": jnp.arange(_NUM_SAMPLES) % raw.condition_dim}
                    model = raw.conditioned(condition_of(classes, raw.condition_dim))
                samples = likelihood.mean(model.decode(z, train=False))
            return reconstructions, samples

        self._render = reconstruct_and_sample

    def _as_display(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x).reshape((-1, *self.display_shape))

    def write(self, step: int, state, writer) -> None:
        if self.draws is None:
            self.draws = not is_classifier(
                merge_model(self.graphdef, state.params, state.model_state)
            )
        if not self.draws:
            return
        reconstructions, samples = self._render(state, self._inputs_on_device)
        if not self.is_chief:
            return
        inputs = self._as_display(self.inputs)
        reconstructions = self._as_display(jax.device_get(reconstructions))
        if not _is_image(self.display_shape):
            series_panel(
                [("input", inputs), ("reconstruction", reconstructions)],
                os.path.join(self.directory, f"reconstructions_{step:08d}.png"),
            )
            return
        scale = max(1, 112 // self.display_shape[0])
        columns = 8
        rows = []
        for start in range(0, len(inputs), columns):
            rows += [inputs[start : start + columns], reconstructions[start : start + columns]]
        grid = image_grid(np.concatenate(rows), columns=columns)
        save_png(grid, os.path.join(self.directory, f"reconstructions_{step:08d}.png"), scale=scale)
        writer.write_image(step, "reconstructions", grid)
        if samples is not None:
            grid = image_grid(self._as_display(jax.device_get(samples)), columns=8)
            save_png(grid, os.path.join(self.directory, f"samples_{step:08d}.png"), scale=scale)
            writer.write_image(step, "samples", grid)
