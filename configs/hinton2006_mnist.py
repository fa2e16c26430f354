r"""Dimensionality reduction as in Hinton & Salakhutdinov (2006), "Reducing the
dimensionality of data with neural networks": a 784-1000-500-250-30 deep autoencoder on
MNIST (a linear 30-d code, the decoder mirrored), against PCA with 30 components fitted
on the same training images; squared error per test image, the paper's figure (3.00 for
the autoencoder, 13.87 for PCA-30). Trained end to end with Adam on the Bernoulli
(cross-entropy) loss instead of the paper's RBM pretraining.

  python experiments/train.py --config=configs/hinton2006_mnist.py \
      --workdir=runs/hinton2006_mnist
  python experiments/evaluate.py --workdir=runs/hinton2006_mnist

Arguments (comma-separated, each optional): `data=mnist|fashion_mnist`, `code=<n>`
(default 30; `code=2` for the 2-d codes plotted next to PCA-2), `budget=cpu|full`
(`full`: 100,000 steps for an accelerator), `smoke`.

Result (2026-12-02, trained at commit 2c8e799 with the config of this file, weight decay
included (identical config.json), 2-core AMD EPYC shared with three other jobs; 30,000
steps, 31.2 min of training, 3.0 min of evaluation): the checkpoint with the best
validation loss (the last, step 30,000, 71 epochs of the 54,000 training images)
reconstructs the 10,000 test images with a squared error of 2.84 per image, against
13.87 for PCA-30 fitted on the same images in the same run (the paper: 3.00 and 13.87):
the goal of 3.00 is met. What closed the gap: AdamW's decoupled weight decay 0.05.
With plain Adam (commit 9fac450, 11.4 min on a quieter machine) the validation loss
stopped improving after step 17,500 and the test error ended at 3.10; dropout 0.1 after
each hidden layer learned much more slowly (validation error 4.6 at step 10,000 against
3.3 with the weight decay) and weight decay 0.2 trailed 0.05 at every evaluation to step
10,000; training on squared error instead (`--config.objective.likelihood=mse`) ends at
a validation error of 3.52. A linear probe on the 30-d codes: 90.4% test accuracy,
PCA-30 89.3%, raw pixels 88.8%.

`data=fashion_mnist` (2026-12-02, trained at commit 3d019ac with this file's config,
evaluated at 2ffa88d, the 2-core AMD EPYC shared with test and benchmark runs: 24.0 min
of training, 1.0 min of evaluation): the checkpoint with the best validation loss (the
last, step 30,000, 71 epochs) reconstructs the Fashion-MNIST test images with a squared
error of 5.33 per image against 12.24 for PCA-30 in the same run; the linear probe on
its codes 82.8%, PCA-30 81.0%, raw 79.6%. Before the weight decay (plain Adam, commit
ec40c3a): 5.53 at step 25,000, the same probe accuracy.

`code=2` (2026-12-02, trained at commit fcedf41 with this file's config, the 2-core AMD
EPYC, quiet but for light edits: 10.8 min of training, 0.5 min of evaluation): the
checkpoint at step 25,000 (chosen on validation) reconstructs the test digits with a
squared error of 25.07 per image against 43.64 for PCA-2 fitted on the same 54,000
training images; a linear probe on the 2-d codes reaches 66.2% test accuracy against
44.6% on PCA-2's (raw pixels 88.8%). Before the weight decay (plain Adam, commit
82653ed): 25.06 and a 71.3% probe: the weight decay does not help the 2-d code. The
scatter plots of both 2-d codes, coloured by class, are
`evaluation/step_25000/latent_scatter.png` and `pca_scatter.png` in the run directory.
"""

from aelab.config import base_config, make_smoke, parse_config_arg

DEFAULTS = {"data": "mnist", "code": 30, "budget": "cpu"}
STEPS = {"cpu": 30_000, "full": 100_000}


def get_config(arg: str | None = None):
    words = [w for w in (arg or "").split(",") if w]
    smoke = "smoke" in words
    args = parse_config_arg(",".join(w for w in words if w != "smoke"), DEFAULTS)
    if args["data"] not in ("mnist", "fashion_mnist") or args["budget"] not in STEPS:
        raise ValueError(
            f"Config argument {arg!r} is not valid: data=mnist|fashion_mnist, code=<n>, "
            "budget=cpu|full, smoke."
        )
    config = base_config(
        data=args["data"],
        model="dense_ae",
        objective="reconstruction",
        likelihood="bernoulli",
        optimizer="adamw",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.data.flatten = True

    config.model.hidden_dims = (1000, 500, 250)
    config.model.latent_dim = args["code"]
    config.model.activation = "gelu"

    config.optimizer.learning_rate = 1e-3
    config.optimizer.warmup_steps = 500
    config.optimizer.end_lr_factor = 0.01
    # Decoupled weight decay: without it the 2.8M-parameter net overfits the
    # cross-entropy after ~17,500 steps (best validation error 3.17 per image with plain
    # Adam); with 0.05 the validation error still falls at the end of the 30,000 steps.
    config.optimizer.weight_decay = 0.05

    config.train.num_steps = STEPS[args["budget"]]
    config.train.log_every = 500
    config.train.eval_every = 2_500
    config.train.checkpoint_every = 5_000
    config.train.steps_per_call = 50

    config.evals.pca = {"fit_examples": 54_000}
    config.evals.linear_probe = {}
    config.evals.reconstruction = {"every": 0}
    if smoke:
        make_smoke(config, num_steps=20)
        config.train.steps_per_call = 10
        config.evals.pca = {"fit_examples": 500, "max_examples": 500}
        config.evals.linear_probe = {"fit_examples": 500, "max_examples": 500}
    return config
