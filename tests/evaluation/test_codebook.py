"""The codebook evaluator: usage statistics against hand counts, and on a trained run."""

import math

import numpy as np
import pytest

from aelab.evaluation import evaluate_run
from aelab.evaluation.codebook import codebook_statistics
from aelab.evaluation.periodic import train_and_evaluate


def test_codebook_statistics_count_used_codes_and_their_entropy():
    stats = codebook_statistics(np.array([[0, 0, 1], [1, 2, 2]]), codebook_size=4)
    assert stats["utilisation"] == 0.75 and stats["dead_codes"] == 1
    np.testing.assert_allclose(stats["perplexity"], 3.0)  # three codes used equally
    np.testing.assert_allclose(stats["entropy_bits"], math.log2(3))
    single = codebook_statistics(np.zeros(10, int), codebook_size=8)
    assert single["perplexity"] == 1.0 and single["dead_codes"] == 7


@pytest.mark.slow  # a whole (tiny) training run
def test_codebook_evaluator_reports_each_stage_of_a_residual_vq(tiny_config, tmp_path):
    config = tiny_config
    config.model.name = "dense_vqvae"
    config.model.latent_dim = 4
    config.model.code_dim = 2
    config.model.codebook_size = 8
    config.model.quantizer = "rvq"
    config.model.num_stages = 2
    config.objective.name = "reconstruction"
    workdir = str(tmp_path / "run")
    train_and_evaluate(config, workdir)
    metrics = evaluate_run(workdir, evals=["codebook"])["metrics"]
    assert metrics["codebook/num_vectors"] == 2 and metrics["codebook/num_stages"] == 2
    assert metrics["codebook/bits_per_example"] == 2 * 2 * 3
    for s in range(2):
        assert 0 < metrics[f"codebook/utilisation_stage{s}"] <= 1
        assert 1 <= metrics[f"codebook/perplexity_stage{s}"] <= 8
        used = metrics[f"codebook/utilisation_stage{s}"] * 8
        assert metrics[f"codebook/dead_codes_stage{s}"] == 8 - used
