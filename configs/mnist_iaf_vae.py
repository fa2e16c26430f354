r"""A dense VAE with an inverse autoregressive flow posterior (Kingma et al., 2016) on
dynamically binarised MNIST: configs/mnist_vampprior.py's VAE (784-300-300-40, ReLU,
standard prior, Adam 5e-4, batch 100, 8 minutes of training, validation-selected
checkpoint) with q(z|x) a diagonal Gaussian followed by 2 IAF steps (each a MADE with
two hidden layers of 320 ELU units; the encoder also emits their 320-d context h).
The KL is estimated from the posterior sample, log q(z|x) - log p(z).

  python experiments/train.py --config=configs/mnist_iaf_vae.py \
      --workdir=runs/mnist_iaf_vae
  python experiments/evaluate.py --workdir=runs/mnist_iaf_vae

`:smoke` is a 10-step run.

Result (measured): not measured yet.
"""

from aelab.config import base_config, make_smoke


def get_config(arg: str | None = None):
    if arg not in (None, "", "smoke"):
        raise ValueError(f"Config argument {arg!r} is not valid: use none, or :smoke.")
    config = base_config(
        data="mnist",
        model="dense_vae",
        objective="elbo",
        likelihood="bernoulli",
        optimizer="adam",
        schedule="constant",
    )
    config.data.binarize = "dynamic"
    config.data.flatten = True
    config.data.batch_size = 100
    config.data.eval_batch_size = 1000
    config.data.validation_fraction = 1 / 6
    config.mesh.num_devices = 1  # batch 100 does not split over 8 devices

    config.model.hidden_dims = (300, 300)
    config.model.latent_dim = 40
    config.model.activation = "relu"
    config.model.posterior = "iaf"
    config.model.flow_steps = 2
    config.model.flow_hidden = (320, 320)

    config.optimizer.learning_rate = 5e-4
    config.train.num_steps = 500_000  # the time limit ends the run first
    config.train.time_limit_minutes = 8.0
    config.train.steps_per_call = 50
    config.train.log_every = 500
    config.train.eval_every = 2_500
    config.train.checkpoint_every = 2_500
    config.train.best_metric = "eval/loss"
    config.evals.likelihood = {"num_samples": 5000, "every": 0}
    if arg == "smoke":
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 100
        config.train.eval_examples = 100
        config.train.time_limit_minutes = None
        config.evals.likelihood = {"num_samples": 10, "max_examples": 100, "every": 0}
    return config
