"""Train each chapter's main model on a GPU: float32 vs mixed precision, with and without jit.

Runs on whichever Keras backend is installed and chosen (``KERAS_BACKEND``):
TensorFlow, JAX or PyTorch. For every model (the multimodal autoencoder, the
dual encoder, the fusion network and the FiLM reasoning model, each at its
chapter's full-profile sizes) and every setting, a fresh model is built,
compiled (``jit_compile``: XLA on TensorFlow, ``jax.jit`` on JAX,
``torch.compile`` on PyTorch) and trained for ``--steps`` steps after
``--warmup`` steps that absorb tracing and compilation. The table shows
samples per second, milliseconds per step, the peak GPU memory of the run and
the speed-up over the same model trained in float32 without jit on the CPU,
measured in the same run. With ``--csv`` the rows are also written to a file.

Run: ``python benchmarks/gpu_check.py [--steps 50] [--batch 256] [--csv FILE]``.
On a machine without a GPU it says so and exits with status 1.
"""

import argparse
import csv
import importlib
import sys
import time

import keras
import numpy as np

import crossmodal as cm
from crossmodal.datasets import ANSWERS, answer_ids, caption_vectorizer, make_scenes

SETTINGS = [
    ("float32", False),
    ("float32", True),
    ("mixed_float16", False),
    ("mixed_float16", True),
]


def _data(n):
    scenes = make_scenes(n, seed=0, min_objects=4, max_objects=5, sizes=("small",), audio=True)
    tokenizer = caption_vectorizer(24)
    return scenes, tokenizer(scenes["caption"]), tokenizer.vocabulary_size()


def _models(scenes, tokens, vocabulary):
    """name -> (build(), inputs, targets, compile kwargs); builders make fresh models."""
    from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
    from crossmodal.dropout import ModalityDropout
    from crossmodal.encoders import AudioEncoder, ImageEncoder, TokenEncoder, VectorEncoder
    from crossmodal.fusion import GatedFusion
    from crossmodal.models import DualEncoder, FusionNetwork, MultimodalAutoencoder, reasoning

    image, label = scenes["image"], scenes["label"]
    return {
        "autoencoder": (
            lambda: MultimodalAutoencoder(
                {"image": ImageEncoder(32), "caption": TokenEncoder(vocabulary, 32)},
                {
                    "image": ImageDecoder((32, 32, 3)),
                    "caption": TokenDecoder(vocabulary, tokens.shape[1]),
                },
                latent_dim=32,
                modality_dropout=ModalityDropout(seed=0),
            ),
            {"image": image, "caption": tokens},
            {"image": image, "caption": tokens},
            {
                "loss": {"image": "mse", "caption": "sparse_categorical_crossentropy"},
                "loss_weights": {"image": 10.0, "caption": 1.0},
            },
        ),
        "dual encoder": (
            lambda: DualEncoder(
                {"image": ImageEncoder(64), "caption": TokenEncoder(vocabulary, 64)}, 32
            ),
            {"image": image, "caption": tokens},
            None,
            {},
        ),
        "fusion network": (
            lambda: FusionNetwork(
                {
                    "image": ImageEncoder(32),
                    "caption": TokenEncoder(vocabulary, 32),
                    "audio": AudioEncoder(32),
                },
                GatedFusion(32),
                VectorDecoder(18, output_activation="softmax"),
            ),
            {"image": image, "caption": tokens, "audio": scenes["audio"]},
            {"label": label},
            {"loss": {"label": "sparse_categorical_crossentropy"}},
        ),
        "FiLM reasoning": (
            lambda: reasoning.film_network(VectorEncoder(32), len(ANSWERS)),
            {"image": image, "question": scenes["question_code"]},
            {"answer": answer_ids(scenes["answer"])},
            {"loss": {"answer": "sparse_categorical_crossentropy"}},
        ),
    }


def _peak_mib():
    """Peak GPU memory of this process since the last reset, in MiB (NaN if unknown)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        tf = importlib.import_module("tensorflow")
        return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    if backend == "jax":
        stats = importlib.import_module("jax").devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use", float("nan")) / 2**20
    if backend == "torch":
        return importlib.import_module("torch").cuda.max_memory_allocated() / 2**20
    return float("nan")


def _reset_peak():
    backend = keras.backend.backend()
    if backend == "tensorflow":
        importlib.import_module("tensorflow").config.experimental.reset_memory_stats("GPU:0")
    elif backend == "torch":
        importlib.import_module("torch").cuda.reset_peak_memory_stats()


def _train(build, inputs, targets, compile_kwargs, *, policy, jit, batch, steps, warmup, device):
    keras.mixed_precision.set_global_policy(policy)
    try:
        with keras.device(device):
            cm.runtime.seed_everything(0)
            model = build()
            model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit, **compile_kwargs)
            n = batch * (steps + warmup)
            rows = np.arange(n) % len(next(iter(inputs.values())))
            x = {k: v[rows] for k, v in inputs.items()}
            y = None if targets is None else {k: v[rows] for k, v in targets.items()}
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, steps_per_epoch=warmup)
            on_gpu = device.startswith("gpu")
            if on_gpu:
                _reset_peak()
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, steps_per_epoch=steps)
            seconds = time.perf_counter() - start
            peak = _peak_mib() if on_gpu else float("nan")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return batch * steps / seconds, 1000 * seconds / steps, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    args = parser.parse_args(argv)
    backend = keras.backend.backend()
    if not cm.runtime.gpus():
        print(
            f"gpu_check: no GPU is visible to Keras' {backend} backend, so there is nothing "
            "to measure. Run it on a machine with an NVIDIA GPU and a CUDA build of the "
            "backend (for TensorFlow, `pip install -e '.[gpu]'`); the CPU benchmarks in this "
            "folder run anywhere."
        )
        return 1
    cm.runtime.configure_gpu()
    report = cm.runtime.device_report()
    print(report)
    scenes, tokens, vocabulary = _data(4096)
    rows = []
    print(
        f"{'model':<16}{'precision':<15}{'jit':<5}{'samples/s':>11}{'ms/step':>9}"
        f"{'peak MiB':>10}{'vs CPU':>8}"
    )
    for name, (build, inputs, targets, kwargs) in _models(scenes, tokens, vocabulary).items():
        common = dict(batch=args.batch, warmup=args.warmup)
        cpu, _, _ = _train(
            build,
            inputs,
            targets,
            kwargs,
            policy="float32",
            jit=False,
            steps=max(3, args.steps // 10),
            device="cpu:0",
            **common,
        )
        for policy, jit in SETTINGS:
            rate, ms, peak = _train(
                build,
                inputs,
                targets,
                kwargs,
                policy=policy,
                jit=jit,
                steps=args.steps,
                device="gpu:0",
                **common,
            )
            print(
                f"{name:<16}{policy:<15}{'on' if jit else 'off':<5}{rate:>11.0f}{ms:>9.1f}"
                f"{peak:>10.0f}{rate / cpu:>8.1f}",
                flush=True,
            )
            rows.append(
                {
                    "device": report,
                    "backend": backend,
                    "model": name,
                    "precision": policy,
                    "jit": jit,
                    "batch": args.batch,
                    "samples_per_s": round(rate, 1),
                    "ms_per_step": round(ms, 2),
                    "peak_mib": round(peak, 1),
                    "cpu_samples_per_s": round(cpu, 1),
                    "speedup_over_cpu": round(rate / cpu, 2),
                }
            )
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
