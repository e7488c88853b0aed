"""Train each chapter's main model on a GPU: float32 vs mixed precision, with and without XLA.

For every model (the multimodal autoencoder, the dual encoder, the fusion
network and the FiLM reasoning model) and every setting, a fresh model is
built, compiled and trained for ``--steps`` steps after ``--warmup`` steps
that absorb tracing and compilation. The table shows samples per second,
milliseconds per step, the peak GPU memory of the run and the speed-up over
the same model trained in float32 without XLA on the CPU, measured in the
same run.

Run: ``python benchmarks/gpu_check.py [--steps 50] [--batch 256]``.
On a machine without a GPU it says so and exits with status 1.
"""

import argparse
import sys
import time

import keras
import numpy as np
import tensorflow as tf

import crossmodal as cm
from crossmodal.datasets import answer_ids, caption_vectorizer, make_scenes

SETTINGS = [("float32", False), ("float32", True), ("mixed_float16", False),
            ("mixed_float16", True)]


def _data(n):
    scenes = make_scenes(n, seed=0, min_objects=4, max_objects=5, sizes=("small",),
                         audio=True)
    vectorizer = caption_vectorizer(24)
    return scenes, np.asarray(vectorizer(scenes["caption"])), vectorizer.vocabulary_size()


def _models(scenes, tokens, vocabulary):
    """name -> (build(), inputs, targets, compile kwargs); builders make fresh models."""
    from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
    from crossmodal.encoders import AudioEncoder, ImageEncoder, TokenEncoder, VectorEncoder
    from crossmodal.fusion import GatedFusion
    from crossmodal.models import DualEncoder, FusionNetwork, MultimodalAutoencoder
    from crossmodal.models.reasoning import FiLMNetwork

    image, label = scenes["image"], scenes["label"]
    answers = answer_ids(scenes["answer"])
    return {
        "autoencoder": (
            lambda: MultimodalAutoencoder(
                {"image": ImageEncoder(32), "caption": TokenEncoder(vocabulary, 32)},
                {"image": ImageDecoder((32, 32, 3)),
                 "caption": TokenDecoder(vocabulary, tokens.shape[1])},
                latent_dim=32, modality_dropout=[["image"], ["caption"], ["caption", "image"]]),
            {"image": image, "caption": tokens}, {"image": image, "caption": tokens},
            {"loss": {"image": "mse", "caption": "sparse_categorical_crossentropy"},
             "loss_weights": {"image": 10.0, "caption": 1.0}}),
        "dual encoder": (
            lambda: DualEncoder({"image": ImageEncoder(64), "caption": TokenEncoder(vocabulary, 64)},
                                32),
            {"image": image, "caption": tokens}, None, {}),
        "fusion network": (
            lambda: FusionNetwork(
                {"image": ImageEncoder(32), "caption": TokenEncoder(vocabulary, 32),
                 "audio": AudioEncoder(32)},
                GatedFusion(32), VectorDecoder(18, output_activation="softmax")),
            {"image": image, "caption": tokens, "audio": scenes["audio"]}, {"label": label},
            {"loss": "sparse_categorical_crossentropy"}),
        "FiLM reasoning": (
            lambda: FiLMNetwork(VectorEncoder(32)),
            {"image": image, "question": scenes["question_code"]}, answers,
            {"loss": "sparse_categorical_crossentropy"}),
    }


def _train(build, inputs, targets, compile_kwargs, *, policy, xla, batch, steps, warmup,
           device):
    keras.mixed_precision.set_global_policy(policy)
    try:
        with tf.device(device):
            cm.runtime.seed_everything(0)
            model = build()
            model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=xla,
                          **compile_kwargs)
            n = batch * (steps + warmup)
            rows = np.arange(n) % len(next(iter(inputs.values())))
            x = {k: v[rows] for k, v in inputs.items()}
            y = None if targets is None else (
                {k: v[rows] for k, v in targets.items()} if isinstance(targets, dict)
                else targets[rows])
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0,
                      steps_per_epoch=warmup)
            if device.startswith("/GPU"):
                tf.config.experimental.reset_memory_stats("GPU:0")
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, steps_per_epoch=steps)
            seconds = time.perf_counter() - start
            peak = (tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
                    if device.startswith("/GPU") else float("nan"))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return batch * steps / seconds, 1000 * seconds / steps, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args(argv)
    if not cm.runtime.gpus():
        print("gpu_check: no GPU is visible to TensorFlow, so there is nothing to measure. "
              "Run it on a machine with an NVIDIA GPU and `pip install -e '.[gpu]'`; "
              "the CPU benchmarks in this folder run anywhere.")
        return 1
    cm.runtime.configure_gpu()
    print(cm.runtime.device_report())
    scenes, tokens, vocabulary = _data(4096)
    print(f"{'model':<16}{'precision':<15}{'XLA':<5}{'samples/s':>11}{'ms/step':>9}"
          f"{'peak MiB':>10}{'vs CPU':>8}")
    for name, (build, inputs, targets, kwargs) in _models(scenes, tokens, vocabulary).items():
        common = dict(batch=args.batch, warmup=args.warmup)
        cpu, _, _ = _train(build, inputs, targets, kwargs, policy="float32", xla=False,
                           steps=max(3, args.steps // 10), device="/CPU:0", **common)
        for policy, xla in SETTINGS:
            rate, ms, peak = _train(build, inputs, targets, kwargs, policy=policy, xla=xla,
                                    steps=args.steps, device="/GPU:0", **common)
            print(f"{name:<16}{policy:<15}{'on' if xla else 'off':<5}{rate:>11.0f}{ms:>9.1f}"
                  f"{peak:>10.0f}{rate / cpu:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
