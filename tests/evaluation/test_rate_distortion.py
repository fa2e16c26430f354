"""The rate_distortion evaluator measures real files of a trained codec next to the
classic codecs on the same images, and the ladder report joins runs into BD-rates."""

import json
import math
import os

import numpy as np
import pytest

from aelab.evaluation import evaluate_run, load_run, train_and_evaluate
from aelab.evaluation.context import EvalContext
from aelab.evaluation.rate_distortion import RESULT_FILE, codec_for_run, rate_at_quality
from aelab.evaluation.rd_report import write_report
from tests.conftest import tiny_codec


def test_rate_at_quality_interpolates_in_log_rate():
    curve = [{"psnr": 20.0, "bits_per_image": 100.0}, {"psnr": 30.0, "bits_per_image": 400.0}]
    assert math.isclose(rate_at_quality(curve, 25.0), 200.0)  # the geometric mean
    assert math.isclose(rate_at_quality(curve[::-1], 20.0), 100.0)
    assert math.isnan(rate_at_quality(curve, 31.0))


def _codec_config(tiny_config, lmbda):
    config = tiny_codec(tiny_config, lmbda)
    config.evals = {
        "rate_distortion": {"max_examples": 40, "codecs": ("jpeg", "webp"), "qualities": 4}
    }
    return config


@pytest.mark.slow  # trains and evaluates two runs (about 40 s)
def test_a_trained_codec_is_measured_on_its_files_and_reported_as_a_ladder(tmp_path, tiny_config):
    workdirs = []
    for lmbda in (0.002, 0.05):
        config = _codec_config(tiny_config.copy_and_resolve_references(), lmbda)
        config.train.num_steps = 40
        workdir = str(tmp_path / f"lmbda_{lmbda}")
        train_and_evaluate(config, workdir)
        record = evaluate_run(workdir)
        workdirs.append(workdir)
        metrics = {
            k.split("/", 1)[1]: v
            for k, v in record["metrics"].items()
            if k.startswith("rate_distortion/")
        }
        assert metrics["roundtrip_exact"] == 1.0
        # The rate is the size of the file the codec writes for these 40 images.
        run = load_run(workdir)
        images = EvalContext(run, str(tmp_path / "ctx")).split("eval", max_examples=40).inputs
        data = codec_for_run(run).compress(np.round(images * 255).astype(np.uint8))
        assert metrics["bits_per_image"] == 8 * len(data) / 40
        assert metrics["bits_per_image_single"] > metrics["bits_per_image"]
        assert 0 < metrics["psnr"] < 60 and 0 < metrics["ms_ssim"] <= 1
        for codec in ("jpeg", "webp"):
            assert f"saving_vs_{codec}_tiled" in metrics
        stored = os.path.join(workdir, "evaluation", f"step_{record['step']}", RESULT_FILE)
        with open(stored) as f:
            saved = json.load(f)
        assert saved["examples"] == 40 and saved["lmbda"] == lmbda
        assert len(saved["classic"]["jpeg"]["tiled"]) == 4
    report = write_report(workdirs, str(tmp_path / "rd"))
    rates = [p["bits_per_image"] for p in report["points"]]
    assert rates == sorted(rates) and len(rates) == 2
    assert set(report["bd_rate"]["tiled"]) >= {"jpeg", "webp"}
    for name in ("rd_report.md", "rd_report.json", "rd_curves.png"):
        assert os.path.getsize(tmp_path / "rd" / name) > 0
    with open(tmp_path / "rd" / "results.json") as f:
        summary = json.load(f)
    assert summary["metrics"]["rd/points"] == 2 and summary["workdirs"] == workdirs
    for counting in ("tiled", "single"):
        for codec in ("jpeg", "webp"):
            value = summary["metrics"][f"rd/bd_rate_vs_{codec}_{counting}"]
            assert value == report["bd_rate"][counting][codec] or math.isnan(value)
