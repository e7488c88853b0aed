"""Every chapter's claims, measured over seeds and the numerical variants of readers' machines.

Executes the chapters themselves (the notebooks in ``book/``, so the experiments are the chapters'
own code, not a copy), each with its ``SEED`` parameter replaced and under one *variant*: a set of
environment variables that changes the numerics the way another machine would (other kernels,
another thread count, another backend). Every ``crossmodal.claims.expect`` in a chapter writes its
quantity and threshold to a log; this script appends them to ``results/claims.csv`` and the
execution time of every run (total and slowest cell) to ``results/chapter_times.csv``. Runs append,
so the record can be built one chapter at a time:

    python benchmarks/claims.py --chapters fusion --seeds 0 1 2 3 4
    python benchmarks/claims.py --chapters fusion --seeds 0 1 --variants onednn-off one-thread
    python benchmarks/claims.py --summary      # per chapter: claims, runs, worst margin

A failed claim does not stop a run (the chapters run in record mode); ``--summary`` shows it.
"""

import argparse
import csv
import json
import os
import pathlib
import re
import sys
import tempfile
import time
from datetime import datetime

import nbclient
import nbformat

from crossmodal.runtime import cpu_report

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
RESULTS = ROOT / "benchmarks" / "results"
CHAPTERS = tuple(sorted(path.stem for path in BOOK.glob("*.ipynb")))

# The numerical variations a reader's machine brings. Each is a set of environment variables
# for the kernel that executes the chapter.
ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
}
VARIANTS = {
    "default": {},
    "onednn-off": {"TF_ENABLE_ONEDNN_OPTS": "0"},  # TensorFlow's Eigen kernels
    "one-thread": ONE_THREAD,  # another summation order
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},  # a CPU without AVX-512
    "jax": {"KERAS_BACKEND": "jax"},  # another backend altogether
}
CLAIM_FIELDS = ("chapter", "claim", "seed", "variant", "value", "threshold", "direction", "cpu")
TIME_FIELDS = (
    "chapter",
    "seed",
    "variant",
    "seconds",
    "slowest_cell",
    "slowest_seconds",
    "claims_failed",
    "error",
    "cpu",
)


def with_seed(notebook, seed):
    """The notebook with ``SEED = seed`` in its cell tagged ``parameters``."""
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            source, found = re.subn(r"^SEED = \d+", f"SEED = {seed}", cell.source, flags=re.M)
            if found != 1:
                raise ValueError("the parameters cell must set SEED = <int> once")
            cell.source = source
            return notebook
    raise ValueError("the chapter has no cell tagged 'parameters'")


def cell_seconds(cell):
    """Execution time of one executed cell, from nbclient's timing metadata."""
    timing = cell.metadata.get("execution", {})
    begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (begin and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(begin)).total_seconds()


def run_chapter(path, seed, variant, timeout=1200):
    """Execute one chapter (a notebook's path); return its claims (dicts) and its timing row."""
    path = pathlib.Path(path)
    chapter = path.stem
    notebook = with_seed(nbformat.read(path, as_version=4), seed)
    with tempfile.TemporaryDirectory() as folder:
        log = pathlib.Path(folder) / "claims.jsonl"
        env = {
            "CROSSMODAL_CLAIMS": "record",
            "CROSSMODAL_CLAIMS_LOG": str(log),
            "CROSSMODAL_PROFILE": "quick",
            "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONHASHSEED": "0",
            **VARIANTS[variant],
        }
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        error, start = "", time.time()
        try:
            nbclient.NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
        except Exception as failure:  # noqa: BLE001 - recorded, the next run goes on
            last_line = (str(failure).strip().splitlines() or [""])[-1]
            error = f"{type(failure).__name__}: {last_line[:200]}"
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        seconds = time.time() - start
        claims = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    times = [
        (cell_seconds(cell), index)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
    ]
    slowest, slowest_index = max(times)
    cpu = cpu_report()
    rows = [
        {
            "chapter": chapter,
            "claim": c["claim"],
            "seed": seed,
            "variant": variant,
            "value": c["value"],
            "threshold": c["threshold"],
            "direction": c["direction"],
            "cpu": cpu,
        }
        for c in claims
    ]
    timing = {
        "chapter": chapter,
        "seed": seed,
        "variant": variant,
        "seconds": round(seconds, 1),
        "slowest_cell": slowest_index,
        "slowest_seconds": round(slowest, 1),
        "claims_failed": sum(not c["holds"] for c in claims),
        "error": error,
        "cpu": cpu,
    }
    return rows, timing


def append(path, fields, rows):
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def margin(row):
    """How far a recorded value lies on the right side of its threshold (negative: it failed)."""
    value, threshold = float(row["value"]), float(row["threshold"])
    return value - threshold if row["direction"] == ">" else threshold - value


def summary(claims_csv, times_csv):
    """Print, per chapter, its claims, runs, failures and worst margins, and its times."""
    rows = read(claims_csv)
    for chapter in CHAPTERS:
        mine = [r for r in rows if r["chapter"] == chapter]
        if not mine:
            continue
        runs = {(r["seed"], r["variant"]) for r in mine}
        print(
            f"\n{chapter}: {len({r['claim'] for r in mine})} claims, {len(runs)} runs "
            f"({', '.join(sorted({r['variant'] for r in mine}))})"
        )
        worst = {}
        for r in mine:
            key = r["claim"]
            if key not in worst or margin(r) < margin(worst[key]):
                worst[key] = r
        for r in sorted(worst.values(), key=margin)[:8]:
            values = [float(x["value"]) for x in mine if x["claim"] == r["claim"]]
            print(
                f"  {margin(r):+9.4f}  {r['claim'][:70]:70s} {r['direction']} {r['threshold']}"
                f"  [{min(values):.4g}, {max(values):.4g}] worst: seed {r['seed']} {r['variant']}"
            )
    if times_csv.exists():
        print("\nseconds per run (total / slowest cell): mean and maximum")
        times = read(times_csv)
        for chapter in CHAPTERS:
            mine = [t for t in times if t["chapter"] == chapter]
            if mine:
                total = [float(t["seconds"]) for t in mine]
                cell = [float(t["slowest_seconds"]) for t in mine]
                errors = sum(bool(t["error"]) for t in mine)
                print(
                    f"  {chapter:12s} {sum(total) / len(total):6.1f} / {max(total):6.1f} s total,"
                    f" slowest cell {max(cell):6.1f} s; {len(mine)} runs, {errors} errors"
                )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", nargs="+", default=CHAPTERS, choices=CHAPTERS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="+", default=["default"], choices=sorted(VARIANTS))
    parser.add_argument("--csv", type=pathlib.Path, default=RESULTS / "claims.csv")
    parser.add_argument("--times", type=pathlib.Path, default=RESULTS / "chapter_times.csv")
    parser.add_argument("--summary", action="store_true", help="print the record and stop")
    args = parser.parse_args(argv)
    if args.summary:
        summary(args.csv, args.times)
        return 0
    print(f"CPU: {cpu_report()}", flush=True)
    for chapter in args.chapters:
        for variant in args.variants:
            for seed in args.seeds:
                rows, timing = run_chapter(BOOK / f"{chapter}.ipynb", seed, variant)
                append(args.csv, CLAIM_FIELDS, rows)
                append(args.times, TIME_FIELDS, [timing])
                print(
                    f"{chapter:12s} seed {seed} {variant:11s} {timing['seconds']:6.1f} s, "
                    f"slowest cell [{timing['slowest_cell']}] {timing['slowest_seconds']:.1f} s, "
                    f"{len(rows)} claims, {timing['claims_failed']} failed "
                    f"{timing['error']}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
