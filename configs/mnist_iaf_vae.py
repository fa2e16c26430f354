r"""A dense VAE with an inverse autoregressive flow posterior (Kingma et al., 2016) on
dynamically binarised MNIST: the dense VAE of configs/mnist_vampprior.py
(784-300-300-40, ReLU, standard prior, Adam 5e-4, batch 100, 8 minutes of training,
validation-selected checkpoint; shared: configs/_binarized_mnist_vae.py) with q(z|x) a
diagonal Gaussian followed by 2 IAF steps (each a MADE with two hidden layers of 320 ELU
units; the encoder also emits their 320-d context h).
The KL is estimated from the posterior sample, log q(z|x) - log p(z).

  python experiments/train.py --config=configs/mnist_iaf_vae.py \
      --workdir=runs/mnist_iaf_vae
  python experiments/evaluate.py --workdir=runs/mnist_iaf_vae

`:smoke` is a 10-step run.

Result (measured): not measured yet.
"""

from aelab.configs._binarized_mnist_vae import binarized_mnist_vae_config


def get_config(arg: str | None = None):
    if arg not in (None, "", "smoke"):
        raise ValueError(f"Config argument {arg!r} is not valid: use none, or :smoke.")
    config = binarized_mnist_vae_config(smoke=arg == "smoke")
    config.model.posterior = "iaf"
    config.model.flow_steps = 2
    config.model.flow_hidden = (320, 320)
    return config
