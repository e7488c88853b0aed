"""Fusion layers side by side: parameters, training throughput and peak memory.

For every fusion layer in ``crossmodal.fusion.FUSIONS`` (mean excepted: it
needs equal widths and has no weights), every number of modalities (2, 3, 4)
and every embedding size (16, 64), trains ``fusion -> Dense(32) -> Dense(10)``
on random encodings (one warm-up epoch, then the best of ``--repeats`` timed
epochs) and reports:

* parameters of the fusion layer plus the dense layers after it;
* training throughput in examples per second, and its ratio to
  concatenation with the same modalities and sizes, measured in the same run;
* peak memory: on a GPU, TensorFlow's peak allocation; on a CPU, the peak
  resident memory of the process that ran the configuration (each runs in its
  own process so that peaks do not mix).

Before that table, the script checks what the package's composition costs:
the fusion chapter's network (image CNN, caption Transformer and audio
encoders, gated fusion, an MLP head) as a ``FusionNetwork`` against the same
layers wired as a plain functional Keras model, trained side by side, once per
installed Keras backend (``benchmarks/throughput.py``).

Run ``python benchmarks/fusion.py`` (``--steps`` and ``--repeats`` change the
work per configuration, ``--no-layers`` skips the table of fusion layers,
``--no-network`` the comparison before it; ``--kinds``, ``--modalities`` and
``--sizes`` choose the configurations, and ``--csv FILE`` writes the table with
the CPU it ran on). Tensor fusion at 4 modalities of width 64 would need 571
million weights for its dense layer; configurations above
``--max-parameters`` are skipped and reported as such.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from throughput import alternate, on_backends, report  # noqa: E402

from crossmodal import costs  # noqa: E402  (imports no backend)

KINDS = costs.KINDS
MODALITIES = (2, 3, 4)
SIZES = (16, 64)


def measure(kind, n, d, steps, batch, max_parameters, repeats):
    """Train one configuration; returns a dict of results (run in a child process).

    ``peak_mib`` is the peak of the whole process, so it describes one
    configuration only in a fresh process, as ``main`` runs it.
    """
    import resource

    import keras
    import numpy as np

    import crossmodal  # noqa: F401  (sets the backend)
    from crossmodal import runtime

    keras.utils.set_random_seed(0)
    layer = costs.fusion_layer(kind, n, d)
    count = costs.with_head(layer)
    if count > max_parameters:
        return {"parameters": count, "skipped": True}
    inputs = [keras.Input((d,), name=f"m{i}") for i in range(n)]
    hidden = keras.layers.Dense(32, activation="relu")(layer(inputs))
    model = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    model.compile(
        keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(batch * steps, d)).astype("float32") for _ in range(n)]
    y = rng.integers(0, 10, batch * steps)
    gpu = bool(runtime.gpus()) and keras.backend.backend() == "tensorflow"
    if gpu:
        import tensorflow as tf
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up: tracing, allocation
    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    seconds = float("inf")
    for _ in range(repeats):  # best of several epochs: robust to a busy machine
        begin = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        seconds = min(seconds, time.perf_counter() - begin)
    if gpu:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MiB
    return {
        "parameters": int(model.count_params()),
        "throughput": batch * steps / seconds,
        "peak_mib": peak,
        "device": "GPU" if gpu else "CPU",
        "skipped": False,
    }


def network(kind):
    """The fusion chapter's network as a ``FusionNetwork`` or as a functional model."""
    import keras

    from crossmodal.decoders import VectorDecoder
    from crossmodal.encoders import AudioEncoder, ImageEncoder, TransformerTokenEncoder
    from crossmodal.fusion import GatedFusion
    from crossmodal.models import FusionNetwork

    encoders = {
        "audio": AudioEncoder(16, filters=(32, 32), waveform=False),
        "caption": TransformerTokenEncoder(57, 16, 12, num_heads=2, embedding_dim=16),
        "image": ImageEncoder(16, filters=(8, 16)),
    }
    fusion = GatedFusion(32)
    head = VectorDecoder(18, hidden=(32,), output_activation="softmax")
    if kind == "FusionNetwork":
        model = FusionNetwork(encoders, fusion, head)
    else:
        inputs = {
            "audio": keras.Input((48, 63), name="audio"),
            "caption": keras.Input((12,), dtype="int32", name="caption"),
            "image": keras.Input((32, 32, 3), name="image"),
        }
        codes = {name: encoders[name](x) for name, x in inputs.items()}
        model = keras.Model(inputs, {"label": head(fusion(codes))})
    model.compile(keras.optimizers.Adam(3e-3), loss={"label": "sparse_categorical_crossentropy"})
    return model


def compare(samples, epochs):
    """Throughput of the chapter's network as a ``FusionNetwork`` and as a functional model."""
    import numpy as np

    from crossmodal import runtime

    runtime.seed_everything(0)
    rng = np.random.default_rng(0)
    x = {
        "audio": rng.normal(size=(samples, 48, 63)).astype("float32"),
        "caption": rng.integers(0, 57, size=(samples, 12)).astype("int32"),
        "image": rng.random((samples, 32, 32, 3)).astype("float32"),
    }
    y = {"label": rng.integers(0, 18, samples)}
    models = {kind: network(kind) for kind in ("functional", "FusionNetwork")}
    return alternate(models, x, y, epochs=epochs, batch_size=64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs (the best counts)")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--max-parameters", type=int, default=30_000_000)
    parser.add_argument("--samples", type=int, default=3000, help="examples for the comparison")
    parser.add_argument("--epochs", type=int, default=5, help="alternating epochs (comparison)")
    parser.add_argument("--backends", nargs="+", help="default: every installed backend")
    parser.add_argument("--no-layers", action="store_true", help="skip the fusion-layer table")
    parser.add_argument(
        "--no-network",
        action="store_true",
        help="skip the FusionNetwork against functional comparison",
    )
    parser.add_argument("--kinds", nargs="+", default=KINDS, choices=KINDS)
    parser.add_argument("--modalities", nargs="+", type=int, default=MODALITIES)
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    parser.add_argument("--csv", help="also write the fusion-layer table to this CSV file")
    parser.add_argument("--one", nargs=3, metavar=("KIND", "N", "D"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(compare(args.samples, args.epochs)))
        return
    if args.one:
        kind, n, d = args.one[0], int(args.one[1]), int(args.one[2])
        print(
            json.dumps(
                measure(kind, n, d, args.steps, args.batch, args.max_parameters, args.repeats)
            )
        )
        return
    from crossmodal.runtime import cpu_report

    kinds = ("concat", *[kind for kind in args.kinds if kind != "concat"])  # the baseline first
    if not args.no_network:
        print(
            f"{cpu_report()}; the fusion chapter's network, {args.samples} examples, batch 64, "
            f"fastest of {args.epochs} alternating epochs"
        )
        report(
            on_backends(
                __file__,
                ["--samples", str(args.samples), "--epochs", str(args.epochs)],
                args.backends,
            ),
            "FusionNetwork",
            "functional",
        )
    if args.no_layers:
        return
    print()
    results = {}
    for n in args.modalities:
        for d in args.sizes:
            for kind in kinds:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--one",
                        kind,
                        str(n),
                        str(d),
                        "--steps",
                        str(args.steps),
                        "--batch",
                        str(args.batch),
                        "--repeats",
                        str(args.repeats),
                        "--max-parameters",
                        str(args.max_parameters),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                )
                results[kind, n, d] = json.loads(out.stdout.strip().splitlines()[-1])
                print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    device = next((r["device"] for r in results.values() if not r["skipped"]), "?")
    print(
        f"Fusion layers -> Dense(32) -> Dense(10); batch {args.batch}, {args.steps} steps; "
        f"device {device}; memory = {'TF peak' if device == 'GPU' else 'process peak RSS'}"
    )
    header = (
        f"{'N':>2s} {'d':>3s}  {'fusion':10s} {'parameters':>12s} {'examples/s':>11s} "
        f"{'vs concat':>9s} {'peak MiB':>9s}"
    )
    print(header)
    print("-" * len(header))
    for n in args.modalities:
        for d in args.sizes:
            base = results["concat", n, d]["throughput"]
            for kind in kinds:
                r = results[kind, n, d]
                if r["skipped"]:
                    print(
                        f"{n:>2d} {d:>3d}  {kind:10s} {r['parameters']:>12,d} "
                        f"{'skipped: too many parameters':>31s}"
                    )
                    continue
                print(
                    f"{n:>2d} {d:>3d}  {kind:10s} {r['parameters']:>12,d} "
                    f"{r['throughput']:>11,.0f} {r['throughput'] / base:>8.2f}x "
                    f"{r['peak_mib']:>9,.0f}"
                )
    if args.csv:
        write_csv(args.csv, results, kinds, args, cpu_report())


def write_csv(path, results, kinds, args, cpu):
    """One row per configuration; ``vs_concat`` is the ratio to concatenation in the same run."""
    import csv

    columns = (
        "kind",
        "modalities",
        "width",
        "parameters",
        "examples_per_s",
        "vs_concat",
        "peak_mib",
        "device",
        "steps",
        "batch",
        "repeats",
        "cpu",
    )
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        for n in args.modalities:
            for d in args.sizes:
                base = results["concat", n, d]
                for kind in kinds:
                    r = results[kind, n, d]
                    if r["skipped"]:
                        continue
                    writer.writerow(
                        (
                            kind,
                            n,
                            d,
                            r["parameters"],
                            round(r["throughput"], 1),
                            round(r["throughput"] / base["throughput"], 4),
                            round(r["peak_mib"], 1),
                            r["device"],
                            args.steps,
                            args.batch,
                            args.repeats,
                            cpu,
                        )
                    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
