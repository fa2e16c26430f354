"""run.py's rows of aelab against itself: sharded over 8 fake devices, bf16, ablations.

Each comparison is a tuple (name, description, baseline, a, b, target, check): `a` and
`b` are the two sides as `processes.paired` takes them ({"args": worker.py arguments,
"flags": XLA flags to add, "env": environment variables}, "flags" and "env" optional),
`target` is the row's target text and `check` says from the A/B steps-per-second ratio
whether it is met (both None for a row without a target).
"""

from __future__ import annotations

EIGHT_DEVICES = "--xla_force_host_platform_device_count=8"
# XLA's defaults (YNNPACK convolutions) instead of aelab's CPU flags.
WITHOUT_AELAB_FLAGS = {"AELAB_XLA_CPU_FLAGS": "0"}
SHARDED_TARGET = 1.5  # sharded step time / 1-device step time


def aelab_comparisons(groups: set[str], seconds: list[str]) -> list[tuple]:
    """The comparisons of the row groups "sharded", "bf16" and "ablations" that are in
    `groups`, in that order; `seconds` are the worker arguments that set its duration."""
    comparisons = []
    if "sharded" in groups:
        # The last variant is what was tried for the MLP VAE's sharded gap: parameters
        # and Adam state split over the 8 devices, so the update is not repeated by each.
        variants = [
            ("mlp_vae", "", "the same step, batch split over 8 fake CPU devices", []),
            ("conv_ae", "", "the same step, batch split over 8 fake CPU devices", []),
            (
                "mlp_vae",
                ", FSDP",
                "as above, with mesh.param_sharding=fsdp",
                ["--set", "mesh.param_sharding=fsdp"],
            ),
        ]
        for name, suffix, description, extra in variants:
            comparisons.append(
                (
                    f"{name} sharded 8 fake devices{suffix}",
                    description,
                    "aelab, 1 device",
                    {"args": ["aelab", name, *seconds, *extra], "flags": EIGHT_DEVICES},
                    {"args": ["aelab", name, *seconds]},
                    f"step time <= {SHARDED_TARGET:g}x 1 device",
                    lambda ratio: 1 / ratio <= SHARDED_TARGET,
                )
            )
    if "bf16" in groups:
        for name in ("mlp_vae", "conv_ae"):
            comparisons.append(
                (
                    f"{name} bf16",
                    "bf16 compute, float32 parameters and optimizer state",
                    "aelab, float32",
                    {"args": ["aelab", name, *seconds, "--set", "train.compute_dtype=bfloat16"]},
                    {"args": ["aelab", name, *seconds]},
                    None,
                    None,
                )
            )
    if "ablations" in groups:
        comparisons += [
            (
                "conv_ae transposed convs",
                "upsample='transpose' (input-dilated convs) instead of 'subpixel'",
                "aelab, subpixel",
                {"args": ["aelab", "conv_ae", *seconds, "--set", "model.upsample=transpose"]},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae 1 step per call",
                "steps_per_call=1 instead of 10",
                "aelab, 10 steps per call",
                {"args": ["aelab", "conv_ae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae YNNPACK convs",
                "XLA's default (YNNPACK) convolutions instead of aelab's flag",
                "aelab, with its flag",
                {"args": ["aelab", "conv_ae", *seconds], "env": WITHOUT_AELAB_FLAGS},
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "residual_vae YNNPACK convs",
                "XLA's default (YNNPACK) convolutions instead of aelab's flag",
                "aelab, with its flag",
                {"args": ["aelab", "residual_vae", *seconds], "env": WITHOUT_AELAB_FLAGS},
                {"args": ["aelab", "residual_vae", *seconds]},
                None,
                None,
            ),
            (
                "conv_ae 1 device of 8 fake",
                "a 1-device mesh in a process started with 8 fake CPU devices (as in tests)",
                "aelab, 1 device",
                {
                    "args": ["aelab", "conv_ae", *seconds, "--num_devices", "1"],
                    "flags": EIGHT_DEVICES,
                },
                {"args": ["aelab", "conv_ae", *seconds]},
                None,
                None,
            ),
            (
                "lstm_ae 1 step per call",
                "steps_per_call=1 instead of 10",
                "aelab, 10 steps per call",
                {"args": ["aelab", "lstm_ae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "lstm_ae", *seconds]},
                None,
                None,
            ),
            (
                "mlp_vae 1 step per call",
                "steps_per_call=1 instead of 50",
                "aelab, 50 steps per call",
                {"args": ["aelab", "mlp_vae", *seconds, "--set", "train.steps_per_call=1"]},
                {"args": ["aelab", "mlp_vae", *seconds]},
                None,
                None,
            ),
        ]
    return comparisons
