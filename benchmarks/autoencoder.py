"""Training speed and peak memory: MultimodalAutoencoder vs the same layers as a functional model.

Both models hold the same layers (image and caption encoders, modality
dropout, concat fusion, dense latent, image and caption decoders) and train
with the same ``compile``/``fit`` on the same data; only the wiring differs
(a subclassed ``keras.Model`` with dict validation vs ``keras.Input`` and a
functional graph).

Throughput: both models are built in one process and trained one epoch at a
time in alternation, so a busy machine slows both alike; the fastest epoch
of each is kept, by wall time and by process CPU time (the CPU-time ratio is
the steadier one on a machine shared with other jobs).

Memory: each model trains in a fresh process, which reports its peak
resident set size (``resource.getrusage``, ``ru_maxrss``), as the total and
as the growth over the resident size just before the model is built
(``/proc/self/statm``; Linux).

Run: ``python benchmarks/autoencoder.py [--samples 4096] [--epochs 5]``.
"""

import argparse
import json
import resource
import subprocess
import sys
import time

LENGTH = 4
VOCABULARY = 57
KINDS = ("functional", "MultimodalAutoencoder")


def _layers(vocabulary_size):
    from crossmodal.decoders import ImageDecoder, TokenDecoder
    from crossmodal.dropout import ModalityDropout
    from crossmodal.encoders import ImageEncoder, TokenEncoder

    encoders = {"image": ImageEncoder(32), "caption": TokenEncoder(vocabulary_size, 32)}
    decoders = {"image": ImageDecoder((32, 32, 3)),
                "caption": TokenDecoder(vocabulary_size, LENGTH)}
    return encoders, decoders, ModalityDropout(seed=0)


def _functional(vocabulary_size):
    import keras

    from crossmodal.fusion import ConcatFusion

    encoders, decoders, dropout = _layers(vocabulary_size)
    inputs = {"image": keras.Input((32, 32, 3), name="image"),
              "caption": keras.Input((LENGTH,), dtype="int32", name="caption")}
    codes = dropout({name: encoders[name](x) for name, x in inputs.items()})
    z = keras.layers.Dense(32, name="latent")(ConcatFusion()(codes))
    return keras.Model(inputs, {name: decoder(z) for name, decoder in decoders.items()})


def _autoencoder(vocabulary_size):
    from crossmodal.models import MultimodalAutoencoder

    encoders, decoders, dropout = _layers(vocabulary_size)
    return MultimodalAutoencoder(encoders, decoders, latent_dim=32, modality_dropout=dropout)


def _data(samples):
    import numpy as np

    rng = np.random.default_rng(0)
    return {"image": rng.random((samples, 32, 32, 3)).astype("float32"),
            "caption": rng.integers(2, VOCABULARY, size=(samples, LENGTH)).astype("int32")}


def _compiled(kind):
    import keras

    model = (_autoencoder if kind == "MultimodalAutoencoder" else _functional)(VOCABULARY)
    model.compile(keras.optimizers.Adam(5e-3),
                  loss={"image": "mse", "caption": "sparse_categorical_crossentropy"},
                  loss_weights={"image": 10.0, "caption": 1.0})
    return model


def throughput(samples, epochs):
    """Samples/s of each model: the fastest of ``epochs`` alternating epochs."""
    from crossmodal import runtime

    runtime.seed_everything(0)
    data = _data(samples)
    models = {kind: _compiled(kind) for kind in KINDS}
    for model in models.values():
        model.fit(data, data, batch_size=64, epochs=1, verbose=0)  # trace and warm up
    wall = {kind: float("inf") for kind in KINDS}
    cpu = dict(wall)
    for _ in range(epochs):
        for kind, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.fit(data, data, batch_size=64, epochs=1, verbose=0)
            wall[kind] = min(wall[kind], time.perf_counter() - start)
            cpu[kind] = min(cpu[kind], time.process_time() - start_cpu)
    return {kind: {"samples_per_s": samples / wall[kind], "samples_per_cpu_s": samples / cpu[kind],
                   "parameters": models[kind].count_params()} for kind in KINDS}


def memory(kind, samples):
    """Peak RSS in MiB of this process, and its growth while building and training ``kind``."""
    from crossmodal import runtime

    runtime.seed_everything(0)
    data = _data(samples)
    with open("/proc/self/statm") as statm:  # current RSS in pages (Linux)
        before = int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    _compiled(kind).fit(data, data, batch_size=64, epochs=2, verbose=0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_mib": peak, "growth_mib": peak - before}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        print(json.dumps(memory(args.memory_of, args.samples)))
        return
    results = throughput(args.samples, args.epochs)
    for kind in KINDS:
        out = subprocess.run([sys.executable, __file__, "--memory-of", kind,
                              "--samples", str(args.samples)],
                             check=True, capture_output=True, text=True).stdout
        results[kind].update(json.loads(out.strip().splitlines()[-1]))
    print(f"{args.samples} samples, batch 64, fastest of {args.epochs} alternating epochs; "
          "memory = peak RSS of a fresh process (resource.getrusage)")
    print(f"{'model':<24}{'params':>9}{'samples/s':>12}{'samples/CPU s':>15}{'peak MiB':>10}"
          f"{'growth MiB':>12}")
    for kind in KINDS:
        r = results[kind]
        print(f"{kind:<24}{r['parameters']:>9}{r['samples_per_s']:>12.0f}"
              f"{r['samples_per_cpu_s']:>15.0f}{r['peak_mib']:>10.0f}{r['growth_mib']:>12.0f}")
    ours, base = results["MultimodalAutoencoder"], results["functional"]
    print(f"throughput ratio (MultimodalAutoencoder / functional): "
          f"{ours['samples_per_s'] / base['samples_per_s']:.2f} per wall second, "
          f"{ours['samples_per_cpu_s'] / base['samples_per_cpu_s']:.2f} per CPU second "
          f"(target >= 0.9)")
    print(f"peak memory ratio (MultimodalAutoencoder / functional): "
          f"{ours['peak_mib'] / base['peak_mib']:.2f}")


if __name__ == "__main__":
    main()
