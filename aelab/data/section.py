"""The `config.data` section: which data set, where its files are, its splits and
batches, the per-batch transform and the corruption for denoising.

Its options are declared by the modules that read them (`DataSourceOptions` in
sources, `PipelineOptions` in pipeline, `TransformOptions` in transforms, each data
set's own and each corruption's); the training layer adds its own (`device_resident`).
"""

from aelab.core.options import NoOptions
from aelab.core.schema import Section, Selector
from aelab.data.corruptions import CORRUPTION_SECTION
from aelab.data.pipeline import PipelineOptions
from aelab.data.sources import DATASETS, DataSourceOptions
from aelab.data.tfds_catalog import TFDS_PREFIX
from aelab.data.transforms import TransformOptions

DATA_SECTION = Section(
    "data",
    doc="the data set, its splits and batches, and the transform to model inputs",
    shared=(DataSourceOptions, PipelineOptions, TransformOptions),
    selectors=(
        Selector(
            "name",
            DATASETS,
            choice="data",
            default="digits",
            doc="the data set (aelab.data.list_datasets())",
            prefixes={TFDS_PREFIX: NoOptions},
        ),
    ),
    subsections={"corruption": CORRUPTION_SECTION},
)
