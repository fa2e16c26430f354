"""The set-up shared by the dense-VAE prior and posterior configs
(configs/mnist_vampprior.py, configs/mnist_iaf_vae.py), so they differ only in the prior
or posterior they study: dynamically binarised MNIST, a dense VAE 784-300-300-40 (ReLU;
Tomczak & Welling's sizes with plain layers), Bernoulli decoder, the ELBO, Adam at 5e-4,
batch 100, 8 minutes of training (train.time_limit_minutes), a fixed random sixth of
the training images as the validation split that selects the checkpoint (`eval/loss`),
and the importance-sampled test NLL at k = 5,000.

Not an experiment config itself (its name starts with "_").
"""

from aelab.config import base_config, make_smoke


def binarized_mnist_vae_config(smoke: bool):
    """The shared dense-VAE config; `smoke` makes it a 10-step run on 100 examples."""
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

    config.optimizer.learning_rate = 5e-4
    config.train.num_steps = 500_000  # the time limit ends the run first
    config.train.time_limit_minutes = 8.0
    config.train.steps_per_call = 50
    config.train.log_every = 500
    config.train.eval_every = 2_500
    config.train.checkpoint_every = 2_500
    config.train.best_metric = "eval/loss"
    config.evals.likelihood = {"num_samples": 5000, "every": 0}
    if smoke:
        make_smoke(config, num_steps=10)
        config.data.eval_batch_size = 100
        config.train.eval_examples = 100
        config.train.time_limit_minutes = None
        config.evals.likelihood = {"num_samples": 10, "max_examples": 100, "every": 0}
    return config
