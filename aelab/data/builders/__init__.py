"""aelab's own TFDS builders: raw local files -> array_record records, with no TensorFlow.

Each builder reads the files a user put in a folder (`dl_manager.manual_dir`; nothing
is downloaded), parses them with `aelab.data.readers`, and writes `array_record` files
that `builder.as_data_source()` reads back by index. Only `tfds.features.Tensor`
features are used: `tfds.features.Image` encodes PNGs through TensorFlow.

Builder names carry an `aelab_` prefix so they never clash with TFDS's own `mnist`,
`fashion_mnist` or `binarized_mnist`, which need TensorFlow (or a download) to prepare.

Facts about the written data that readers must not forget:
  * TFDS shuffles records on write (by a hash of each example's key), so record `i`
    is not line `i` of the source file. The order is the same on every preparation.
    `AelabNpz` alone sets `disable_shuffling`: its records keep the file's order.
  * `builder.info.metadata` holds `value_max` (the largest raw input value) and
    `num_classes` (None without labels), so a reader of the prepared folder alone
    (`tfds.builder_from_directory`, `tfds:` in `aelab.data.sources`) can recover them.

Example (prepare MNIST once, then read it by index):
  builder = prepare(AelabMnist, tfds_dir="/tmp/tfds", manual_dir="/data/mnist")
  train = builder.as_data_source("train")  # train[i] -> {'image': ..., 'label': ...}

Modules, one job each (every public name is re-exported here, so
`from aelab.data import builders; builders.AelabMnist` is the way to reach them):
  features: what the builders share (raw-bytes array features, finding the user's files);
  images: `AelabMnist` and `AelabFashionMnist`, from IDX files;
  binarized_mnist: `AelabBinarizedMnist`, from `.amat` files;
  ecg5000: `AelabEcg5000`, from UCR files or `ecg5000_5sig.csv`;
  npz: `npz_config` and `AelabNpz`, for a user's `.npz` file;
  image_folder: `image_folder_config` and `AelabImageFolder`, for a user's folder of
    images in class folders;
  preparation: `prepare`, once per TFDS data dir, under a file lock.
A builder's TFDS name comes from its class name (`AelabMnist` -> `aelab_mnist`) and names
the folder its data are prepared into (`<tfds_dir>/aelab_mnist/1.0.0/`): renaming a class
moves its data.
"""

from aelab.data.builders.binarized_mnist import AelabBinarizedMnist
from aelab.data.builders.ecg5000 import (
    ECG_LENGTH,
    ECG_NUM_CLASSES,
    ECG_TOTAL_SIZE,
    ECG_TRAIN_SIZE,
    AelabEcg5000,
)
from aelab.data.builders.features import IMAGE_SHAPE, array_feature, image_features
from aelab.data.builders.image_folder import (
    AelabImageFolder,
    ImageFolderConfig,
    image_folder_config,
)
from aelab.data.builders.images import AelabFashionMnist, AelabMnist
from aelab.data.builders.npz import AelabNpz, NpzConfig, npz_config
from aelab.data.builders.preparation import prepare

__all__ = [
    "ECG_LENGTH",
    "ECG_NUM_CLASSES",
    "ECG_TOTAL_SIZE",
    "ECG_TRAIN_SIZE",
    "IMAGE_SHAPE",
    "AelabBinarizedMnist",
    "AelabEcg5000",
    "AelabFashionMnist",
    "AelabImageFolder",
    "AelabMnist",
    "AelabNpz",
    "ImageFolderConfig",
    "NpzConfig",
    "array_feature",
    "image_features",
    "image_folder_config",
    "npz_config",
    "prepare",
]
