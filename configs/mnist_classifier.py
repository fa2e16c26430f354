r"""aelab's own image classifier: the measuring instrument of the feature distance
(`evals.feature_distance`) and of class-conditional samples
(`evals.conditional_generation`). Not an autoencoder: a `Classifier` in the model
contract (its code is the 128-d penultimate features, its decoder the linear head).

Its features define the "aelab classifier Frechet distance", which is NOT comparable
to FID (a different network, trained here on 28x28 grey-scale digits or clothes).

Two stride-2 3x3 conv stages (32, 64 channels, ReLU), a 128-unit ReLU feature layer,
10 logits; softmax cross-entropy; Adam 1e-3 with cosine decay to 5%, batch 128; a fixed
10% of the training images is the validation split that picks the checkpoint
(eval/loss). Needs the IDX .gz files under $AELAB_DATA_DIR/mnist or
$AELAB_DATA_DIR/fashion_mnist. The argument names the data set (mnist, the default, or
fashion_mnist); append ",smoke" for a 20-step version (e.g. `:mnist,smoke`).

mnist: on MNIST.

  python experiments/train.py --config=configs/mnist_classifier.py:mnist \
      --workdir=runs/mnist_classifier
  python experiments/evaluate.py --workdir=runs/mnist_classifier \
      --evals=classification,objective

Result (measured 2026-12-02, trained at commit 16499de, evaluated at 0e7ac63; 2-core AMD
EPYC shared with other jobs, load average ~20): test accuracy 98.88% (10,000 test
images; the checkpoint of step 3,500 of 4,000, chosen by validation loss; validation
accuracy 98.87%); 215 s of training, 4 min 55 s for the whole training command.

fashion_mnist: on Fashion-MNIST.

  python experiments/train.py --config=configs/mnist_classifier.py:fashion_mnist \
      --workdir=runs/fashion_mnist_classifier

Result (measured 2026-12-02, trained from the working tree after commit 16499de (the
classifier's code as there), evaluated at 0e7ac63 with --evals=classification,objective;
the same shared 2-core CPU): test accuracy 91.31% (step 4,000 of 4,000, chosen by
validation loss; validation accuracy 90.62%); 484 s of training, 9 min 54 s for the
whole command.
"""

from aelab.config import base_config, make_smoke

VARIANTS = ("mnist", "fashion_mnist")


def get_config(arg: str | None = None):
    variant, _, smoke = (arg or "mnist").partition(",")
    if variant not in VARIANTS or smoke not in ("", "smoke"):
        raise ValueError(
            f"Config argument {arg!r} is not valid: name the data set, one of "
            f"{', '.join(VARIANTS)} (e.g. --config=configs/mnist_classifier.py:fashion_mnist,"
            " or :mnist,smoke for the smoke version)."
        )
    config = base_config(
        data=variant,
        model="conv_classifier",
        objective="classification",
        optimizer="adam",
        schedule="cosine",
    )
    config.data.batch_size = 128
    config.data.eval_batch_size = 1000
    config.data.validation_fraction = 0.1
    config.model.channels = (32, 64)
    config.model.latent_dim = 128
    config.objective.num_classes = 10
    config.optimizer.learning_rate = 1e-3
    config.optimizer.end_lr_factor = 0.05
    config.train.num_steps = 4_000
    config.train.log_every = 200
    config.train.eval_every = 500
    config.train.checkpoint_every = 500
    config.train.steps_per_call = 1
    config.train.best_metric = "eval/loss"
    config.evals = {"classification": {}, "cost": {}}
    if smoke:
        make_smoke(config, num_steps=20)
    return config
