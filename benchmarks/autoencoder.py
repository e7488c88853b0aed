"""Training speed: MultimodalAutoencoder against the same network as a plain functional model.

Both models hold the same encoders and decoders (an image CNN and a caption
GRU; a transposed-convolution image decoder and a per-position token
decoder), concatenate the two codes and map them to a 32-wide latent; they
train with the same ``compile``/``fit`` on the same data. The functional model
wires them with ``keras.Input``, ``Concatenate`` and ``Dense``; the package's
model adds its checks, the presence masks and the dict handling of
``MultimodalEncoder``. The measurement runs once per installed Keras backend,
each in its own process, and reports the package's throughput as a ratio to
the functional model's of the same run (``benchmarks/throughput.py``).

Run: ``python benchmarks/autoencoder.py [--samples 4096] [--epochs 5]``.
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from throughput import alternate, on_backends, report  # noqa: E402

LENGTH = 4
KINDS = ("functional", "MultimodalAutoencoder")


def _pieces(vocabulary_size):
    from crossmodal.decoders import ImageDecoder, TokenDecoder
    from crossmodal.encoders import ImageEncoder, TokenEncoder

    encoders = {"image": ImageEncoder(32), "caption": TokenEncoder(vocabulary_size, 32)}
    decoders = {
        "image": ImageDecoder((32, 32, 3)),
        "caption": TokenDecoder(vocabulary_size, LENGTH),
    }
    return encoders, decoders


def build(kind, vocabulary_size):
    """The benchmark's network as ``kind``, compiled with the chapter's weighted loss."""
    import keras

    from crossmodal.models import MultimodalAutoencoder

    encoders, decoders = _pieces(vocabulary_size)
    if kind == "MultimodalAutoencoder":
        model = MultimodalAutoencoder(encoders, decoders, latent_dim=32)
    else:
        inputs = {
            "image": keras.Input((32, 32, 3), name="image"),
            "caption": keras.Input((LENGTH,), dtype="int32", name="caption"),
        }
        codes = [encoders[name](inputs[name]) for name in sorted(inputs)]
        latent = keras.layers.Dense(32, name="latent")(keras.layers.Concatenate()(codes))
        model = keras.Model(inputs, {name: decoder(latent) for name, decoder in decoders.items()})
    model.compile(
        keras.optimizers.Adam(5e-3),
        loss={"image": "mse", "caption": "sparse_categorical_crossentropy"},
        loss_weights={"image": 10.0, "caption": 1.0},
    )
    return model


def measure(samples, epochs):
    """Throughput of both models on this process's backend."""
    import numpy as np

    from crossmodal import runtime
    from crossmodal.datasets import caption_vectorizer

    vocabulary_size = caption_vectorizer(LENGTH).vocabulary_size()
    runtime.seed_everything(0)
    rng = np.random.default_rng(0)
    data = {
        "image": rng.random((samples, 32, 32, 3)).astype("float32"),
        "caption": rng.integers(2, vocabulary_size, size=(samples, LENGTH)).astype("int32"),
    }
    models = {kind: build(kind, vocabulary_size) for kind in KINDS}
    return alternate(models, data, data, epochs=epochs, batch_size=64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--backends", nargs="+", help="default: every installed backend")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.samples, args.epochs)))
        return
    from crossmodal.runtime import cpu_report

    print(
        f"{cpu_report()}; {args.samples} samples, batch 64, fastest of {args.epochs} "
        "alternating epochs"
    )
    report(
        on_backends(
            __file__, ["--samples", str(args.samples), "--epochs", str(args.epochs)], args.backends
        ),
        "MultimodalAutoencoder",
        "functional",
    )


if __name__ == "__main__":
    main()
