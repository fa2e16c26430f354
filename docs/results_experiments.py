"""The experiments of docs/results.md, one row each (docs/make_results.py writes the file).

Each experiment names its work directory (under make_results.py's --runs), the
metric(s) it reports, the published value where one exists, and the commands that
produce it. A new row of the results table is one more entry in EXPERIMENTS.
"""

import dataclasses

IWAE_SOURCE = "Burda et al. 2016, Table 1 (3,280 epochs, batch 20)"


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One row of the results table.

    Attributes:
      id: the work directory under --runs.
      dataset, model: what the row is about.
      metrics: results.json metric names, shown "a / b" when several.
      metric_label: what the numbers mean.
      train, evaluate: the commands (workdir `runs/<id>`).
      published: the published value (same units), if any, and its source.
      curve: a copy of the run (under --runs) evaluated at every checkpoint
        (`evaluate.py --step=all`), for the test NLL vs training time; empty if none.
    """

    id: str
    dataset: str
    model: str
    metrics: tuple[str, ...]
    metric_label: str
    train: str
    evaluate: str
    published: str = ""
    source: str = ""
    curve: str = ""


def _iwae(objective: str, k: int, budget: str, published: float, note: str = "") -> Experiment:
    run = f"iwae_table1/mlp_1layer_{objective}_k{k}_{budget}"
    return Experiment(
        id=run,
        dataset="MNIST, dynamically binarised",
        model=f"MLP {objective.upper()} k={k}, 784-200-200-50 tanh (1 stochastic layer)" + note,
        metrics=("likelihood/nll", "likelihood/active_units"),
        metric_label="test NLL, k=5,000 (nats) / active units",
        train=(
            "python experiments/train.py --config=configs/iwae_table1/mlp_1layer.py:"
            f"objective={objective},k={k},budget={budget} --workdir=runs/{run}"
        ),
        evaluate=f"python experiments/evaluate.py --workdir=runs/{run}",
        published=f"{published}",
        source=IWAE_SOURCE,
    )


EXPERIMENTS = [
    dataclasses.replace(
        _iwae("vae", 1, "20min", 86.76), curve="iwae_table1/mlp_1layer_vae_k1_20min_curve"
    ),
    _iwae("iwae", 50, "20min", 84.78),
    Experiment(
        id="mnist_conv_vae",
        dataset="MNIST, dynamically binarised",
        model="conv VAE (32-64 channels, 32-d latent)",
        metrics=("likelihood/nll", "likelihood/elbo"),
        metric_label="test NLL, k=100 / ELBO (nats)",
        # 4,000 of the config's 10,000 steps: a CPU budget.
        train=(
            "python experiments/train.py --config=configs/images.py:fashion_mnist_conv_vae "
            "--config.data.name=mnist --config.data.binarize=dynamic "
            "--config.train.num_steps=4000 --config.train.eval_every=1000 "
            "--config.train.checkpoint_every=1000 --workdir=runs/mnist_conv_vae"
        ),
        evaluate=(
            "python experiments/evaluate.py --workdir=runs/mnist_conv_vae "
            "--evals=likelihood,reconstruction,generation,cost "
            "--option=likelihood.num_samples=100"
        ),
    ),
    Experiment(
        id="mnist_conv_ae",
        dataset="MNIST",
        model="conv AE (32-d code) vs PCA (32 components)",
        metrics=("pca/model_mse", "pca/pca_mse"),
        metric_label="test MSE per pixel: AE / PCA",
        train=(
            "python experiments/train.py --config=configs/images.py:mnist_conv_ae "
            "--workdir=runs/mnist_conv_ae"
        ),
        evaluate=(
            "python experiments/evaluate.py --workdir=runs/mnist_conv_ae "
            "--evals=pca,linear_probe,compression,denoising,cost"
        ),
    ),
    Experiment(
        id="fashion_mnist_conv_ae",
        dataset="Fashion-MNIST",
        model="conv AE (32-d code) vs PCA (32 components)",
        metrics=("pca/model_mse", "pca/pca_mse"),
        metric_label="test MSE per pixel: AE / PCA",
        train=(
            "python experiments/train.py --config=configs/images.py:mnist_conv_ae "
            "--config.data.name=fashion_mnist --config.train.num_steps=4000 "
            "--config.train.eval_every=1000 --config.train.checkpoint_every=1000 "
            "--workdir=runs/fashion_mnist_conv_ae"
        ),
        evaluate=(
            "python experiments/evaluate.py --workdir=runs/fashion_mnist_conv_ae "
            "--evals=pca,linear_probe,cost"
        ),
    ),
    Experiment(
        id="mnist_conv_ae",
        dataset="MNIST",
        model="conv AE (32-d code): linear probe",
        metrics=(
            "linear_probe/code_accuracy",
            "linear_probe/pca_accuracy",
            "linear_probe/raw_accuracy",
        ),
        metric_label="test accuracy: code / PCA-32 / raw pixels",
        train="(the MNIST conv AE run above)",
        evaluate="(the MNIST conv AE evaluation above)",
    ),
    Experiment(
        id="ecg5000_lstm_ae",
        dataset="ECG5000, trained on normal beats",
        model="LSTM autoencoder",
        metrics=("anomaly/auroc", "anomaly/average_precision"),
        metric_label="AUROC / average precision (anomalous beats)",
        train=(
            "python experiments/train.py --config=configs/ecg5000_recurrent.py:lstm_ae "
            "--workdir=runs/ecg5000_lstm_ae"
        ),
        evaluate=(
            "python experiments/evaluate.py --workdir=runs/ecg5000_lstm_ae "
            "--evals=anomaly,reconstruction,cost"
        ),
    ),
    Experiment(
        id="mnist_conv_ae",
        dataset="MNIST",
        model="conv AE (32-d code): denoising, Gaussian noise std 0.3",
        metrics=("denoising/gaussian_noise/psnr_noisy", "denoising/gaussian_noise/psnr_denoised"),
        metric_label="PSNR (dB): noisy input / reconstruction",
        train="(the MNIST conv AE run above)",
        evaluate="(the MNIST conv AE evaluation above)",
    ),
    Experiment(
        id="mnist_conv_ae",
        dataset="MNIST",
        model="conv AE (32-d code, 8 bits per value)",
        metrics=(
            "compression/code_bits_entropy_coded",
            "compression/png_bits",
            "compression/psnr",
        ),
        metric_label="bits per image: entropy-coded code / PNG (lossless); PSNR (dB) at that rate",
        train="(the MNIST conv AE run above)",
        evaluate="(the MNIST conv AE evaluation above)",
    ),
]
