"""Reading TensorBoard event files back, without TensorBoard: each file is a sequence
of TFRecords (length, its CRC, an `Event` protocol buffer, its CRC), parsed with the
protocol buffers tensorboardX ships."""

from __future__ import annotations

import pathlib
import struct

from tensorboardX.proto.event_pb2 import Event
from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData


def read_events(directory) -> list[Event]:
    """Every event of the events files directly in `directory`, file by file."""
    events = []
    for path in sorted(pathlib.Path(directory).glob("events.out.tfevents.*")):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack_from("<Q", data, offset)
            offset += 12  # the length and its CRC
            events.append(Event.FromString(data[offset : offset + length]))
            offset += length + 4  # the record and its CRC
    return events


def scalars(directory) -> dict[str, list[float]]:
    """{tag: [value, ...]} of the simple scalar summaries in `directory`'s events."""
    values: dict[str, list[float]] = {}
    for event in read_events(directory):
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                values.setdefault(value.tag, []).append(value.simple_value)
    return values


def hparams_plugin_data(directory) -> dict[str, HParamsPluginData]:
    """{tag: data} of the summaries the HParams plugin reads (plugin name "hparams")."""
    found = {}
    for event in read_events(directory):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == "hparams":
                found[value.tag] = HParamsPluginData.FromString(value.metadata.plugin_data.content)
    return found
