"""Rate-distortion curves of a lambda ladder against the classic codecs: a plot, a table
and Bjøntegaard delta rates.

Each run of the ladder is evaluated by the `rate_distortion` evaluator on the test split
(its best checkpoint, chosen on validation; evaluated here when it has not been yet) and
contributes one point; the classic codecs' curves were measured on the same images in
the same evaluation. BD-rate (piecewise cubic, over the PSNR range both curves cover)
says how many more bits the model spends than a codec at equal PSNR on average:
negative is better. Two counts: files of all images ("tiled" for the classic codecs:
one picture of all images, headers amortised) and one file per image (headers
included).
"""

from __future__ import annotations

import json
import math
import os

from aelab.core.atomic_files import write_json_atomically, write_text_atomically
from aelab.evaluation.bd_rate import bd_rate
from aelab.evaluation.rate_distortion import RESULT_FILE
from aelab.evaluation.runner import evaluate_run

COUNTINGS = {"tiled": "bits_per_image", "single": "bits_per_image_single"}


def _result_step(workdir: str) -> int | None:
    path = os.path.join(workdir, "results.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        record = json.load(f)
    if "rate_distortion" not in record.get("evals", []):
        return None
    return int(record["step"])


def read_point(workdir: str, *, evaluate: bool = True) -> dict:
    """The `rate_distortion` record of a run's reported (best) checkpoint on the test
    split; evaluates the run first when it has none (and `evaluate`)."""
    step = _result_step(workdir)
    if step is None:
        if not evaluate:
            raise FileNotFoundError(
                f"{workdir} has no rate_distortion evaluation; run experiments/evaluate.py "
                f"--workdir={workdir} --evals=rate_distortion."
            )
        evaluate_run(workdir, evals=["rate_distortion"])
        step = _result_step(workdir)
    path = os.path.join(workdir, "evaluation", f"step_{step}", RESULT_FILE)
    with open(path) as f:
        record = json.load(f)
    record["workdir"] = workdir
    return record


def ladder_report(records: list[dict]) -> dict:
    """{"points": the model's points by rate, "classic": the codecs' curves, "bd_rate":
    {counting: {codec: percent}}, "examples": n}; `records` from `read_point`."""
    if not records:
        raise ValueError("No runs to report: give the ladder's work directories.")
    first = records[0]
    for record in records[1:]:
        if (record["examples"], record["image_shape"]) != (first["examples"], first["image_shape"]):
            raise ValueError(
                f"{record['workdir']} was evaluated on {record['examples']} images of shape "
                f"{record['image_shape']}, {first['workdir']} on {first['examples']} of "
                f"{first['image_shape']}: evaluate every run with the same max_examples."
            )
    points = sorted(
        ({**r["model"], "lmbda": r["lmbda"], "workdir": r["workdir"]} for r in records),
        key=lambda p: p["bits_per_image"],
    )
    bd = {}
    for counting, key in COUNTINGS.items():
        bd[counting] = {}
        for codec, curves in first["classic"].items():
            curve = curves[counting]
            try:
                bd[counting][codec] = bd_rate(
                    [p[key] for p in points],
                    [p["psnr"] for p in points],
                    [c["bits_per_image"] for c in curve],
                    [c["psnr"] for c in curve],
                )
            except ValueError as e:  # too few points, or curves that do not overlap
                bd[counting][codec] = float("nan")
                bd[counting][f"{codec}_note"] = str(e)
    return {
        "examples": first["examples"],
        "image_shape": first["image_shape"],
        "points": points,
        "classic": first["classic"],
        "bd_rate": bd,
    }


def _markdown(report: dict) -> str:
    lines = [
        f"Rate-distortion on {report['examples']} test images "
        f"{'x'.join(map(str, report['image_shape']))}:",
        "",
        "| lambda | bits / image (one file) | bits / image (file each) | PSNR (dB) | MS-SSIM |",
        "|---:|---:|---:|---:|---:|",
    ]
    for p in report["points"]:
        lines.append(
            f"| {p['lmbda']:g} | {p['bits_per_image']:.1f} | {p['bits_per_image_single']:.1f} "
            f"| {p['psnr']:.2f} | {p['ms_ssim']:.4f} |"
        )
    lines += ["", "| BD-rate of the model against | tiled (headers shared) | one file each |"]
    lines.append("|---|---:|---:|")
    for codec in report["classic"]:
        row = [report["bd_rate"][c].get(codec, float("nan")) for c in COUNTINGS]
        cells = [f"{v:+.1f}%" if math.isfinite(v) else "n/a (curves do not overlap)" for v in row]
        lines.append(f"| {codec} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot(report: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, (counting, key) in zip(axes, COUNTINGS.items(), strict=True):
        for i, (codec, curves) in enumerate(report["classic"].items()):
            curve = sorted(curves[counting], key=lambda c: c["bits_per_image"])
            axis.plot(
                [c["bits_per_image"] for c in curve],
                [c["psnr"] for c in curve],
                "o-",
                ms=3,
                color=colors[(i + 1) % len(colors)],
                label=codec,
            )
        points = report["points"]
        axis.plot(
            [p[key] for p in points],
            [p["psnr"] for p in points],
            "s-",
            color=colors[0],
            lw=2,
            label="learned codec",
        )
        axis.set_xscale("log")
        axis.set_xlabel("bits per image")
        axis.set_title(
            "one file of all images (classic: tiled)"
            if counting == "tiled"
            else "one file per image"
        )
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("PSNR (dB)")
    axes[1].legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def summary(report: dict, workdirs: list[str], command: str | None = None) -> dict:
    """A results.json-shaped record of the ladder (for docs/make_results.py): metrics
    rd/bd_rate_vs_<codec>_<tiled|single>, rd/bd_rate_vs_best_classic_<...> (against the
    codec with the lowest BD-rate for the model, i.e. the strongest), and
    rd/bd_rate_of_best_classic_<...> (0 by definition: the baseline's own column); the
    ladder's summed training and evaluation times, device and commit of the runs."""
    metrics = {"rd/points": float(len(report["points"]))}
    for counting, row in report["bd_rate"].items():
        values = {c: v for c, v in row.items() if not c.endswith("_note")}
        for codec, value in values.items():
            metrics[f"rd/bd_rate_vs_{codec}_{counting}"] = value
        finite = {c: v for c, v in values.items() if math.isfinite(v)}
        if finite:
            strongest = max(finite, key=finite.get)
            metrics[f"rd/bd_rate_vs_best_classic_{counting}"] = finite[strongest]
            metrics[f"rd/bd_rate_of_best_classic_{counting}"] = 0.0
            metrics[f"rd/best_classic_{counting}_is_{strongest}"] = 1.0
    results = [_read_json(os.path.join(w, "results.json")) for w in workdirs]
    return {
        "command": command,
        "workdirs": workdirs,
        "metrics": metrics,
        "train_seconds": sum(r.get("train_seconds") or 0.0 for r in results),
        "seconds": {"rate_distortion": sum(sum(r.get("seconds", {}).values()) for r in results)},
        "device": results[0].get("device", ""),
        "commit": results[0].get("commit", ""),
        "step": None,
        "evals": ["rate_distortion"],
    }


def _read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def write_report(
    workdirs: list[str], output_dir: str, *, evaluate: bool = True, command: str | None = None
) -> dict:
    """Reports the ladder of `workdirs` into output_dir: rd_report.json, rd_report.md,
    rd_curves.png and results.json (`summary`). Returns the report."""
    report = ladder_report([read_point(w, evaluate=evaluate) for w in workdirs])
    os.makedirs(output_dir, exist_ok=True)
    write_json_atomically(os.path.join(output_dir, "rd_report.json"), report, indent=1)
    write_json_atomically(
        os.path.join(output_dir, "results.json"), summary(report, workdirs, command), indent=1
    )
    write_text_atomically(os.path.join(output_dir, "rd_report.md"), _markdown(report))
    _plot(report, os.path.join(output_dir, "rd_curves.png"))
    return report
