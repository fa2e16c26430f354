"""The `config.data` section: which data set, where its files are, its splits and
batches, the per-batch transform and the corruption for denoising.

Its options are declared by the modules that read them (`DataSourceOptions` in
sources, `PipelineOptions` in pipeline, `TransformOptions` in transforms, each data
set's own and each corruption's); the training layer adds its own (`device_resident`).
"""

from aelab.core.schema import Section
from aelab.data.corruptions import CORRUPTION_SECTION
from aelab.data.pipeline import PipelineOptions
from aelab.data.sources import DATA_SELECTOR, DataSourceOptions
from aelab.data.transforms import TransformOptions

DATA_SECTION = Section(
    "data",
    doc="the data set, its splits and batches, and the transform to model inputs",
    shared=(DataSourceOptions, PipelineOptions, TransformOptions),
    selectors=(DATA_SELECTOR,),
    subsections={"corruption": CORRUPTION_SECTION},
)
