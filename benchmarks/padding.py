"""What padding costs: the walkthrough's autoencoder on 256 token ids against trimmed ids.

The chapter "Code walkthrough" pads every caption to 256 token ids, as the source
article pads its reviews, and then drops the columns that are padding in every
example. This script builds the chapter's corrected autoencoder (CNN and LSTM
encoders, a 128-unit shared layer, an image decoder and a per-position token
decoder) twice on the chapter's data, once for 256 ids and once for the trimmed
length, trains both one epoch at a time in turn (as ``throughput.alternate``) and
reports each one's training throughput and the speed-up of the trimmed model over
the 256-id one, a ratio measured in the same run. ``--csv FILE`` writes the two
rows with the CPU they ran on.

Run ``python benchmarks/padding.py [--samples 1024] [--epochs 3] [--csv FILE]``.
"""

import argparse
import csv

from throughput import alternate

SEQUENCE_LENGTH = 256


def data(samples, seed=0):
    """The walkthrough's scenes: images, and captions as 256 ids and trimmed."""
    import numpy as np

    from crossmodal.datasets import caption_vectorizer, make_scenes

    scenes = make_scenes(
        samples, seed=seed, sizes=("large",), image_noise=0.4, occlusion=0.5, caption_dropout=0.3
    )
    vectorizer = caption_vectorizer(SEQUENCE_LENGTH)
    tokens = np.asarray(vectorizer(scenes["caption"])).astype("int32")
    length = int(np.nonzero((tokens > 0).any(axis=0))[0].max()) + 1
    return scenes["image"], tokens, tokens[:, :length], vectorizer.vocabulary_size()


def autoencoder(vocabulary_size, length, image_shape, seed=0):
    """The walkthrough's corrected autoencoder for captions of ``length`` ids."""
    import keras

    from crossmodal import runtime
    from crossmodal.decoders import ImageDecoder, TokenDecoder
    from crossmodal.dropout import ModalityDropout
    from crossmodal.encoders import ImageEncoder, TokenEncoder
    from crossmodal.models import MultimodalAutoencoder

    runtime.seed_everything(seed)
    model = MultimodalAutoencoder(
        {
            "image": ImageEncoder(64, filters=(16, 32)),
            "caption": TokenEncoder(vocabulary_size, 64, units=64, cell="lstm"),
        },
        {
            "image": ImageDecoder(image_shape, filters=(32, 16)),
            "caption": TokenDecoder(vocabulary_size, length),
        },
        latent_dim=128,
        modality_dropout=ModalityDropout(seed=seed),
        input_shapes={"image": image_shape, "caption": (length,)},
    )
    model.compile(
        keras.optimizers.Adam(3e-3),
        loss={"image": "mse", "caption": "sparse_categorical_crossentropy"},
        loss_weights={"image": 10.0, "caption": 1.0},
        steps_per_execution=16,
    )
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1024, help="training examples per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="alternating timed epochs")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--csv", help="write the two rows to this CSV file")
    args = parser.parse_args()

    import crossmodal  # noqa: F401  (sets the backend)
    from crossmodal.runtime import cpu_report

    images, full, trimmed, vocabulary_size = data(args.samples)
    arms = {f"{SEQUENCE_LENGTH} ids": full, f"{trimmed.shape[1]} ids": trimmed}
    models = {
        name: autoencoder(vocabulary_size, tokens.shape[1], images.shape[1:])
        for name, tokens in arms.items()
    }
    x = {name: {"image": images, "caption": tokens} for name, tokens in arms.items()}
    timings = alternate(models, x, x, epochs=args.epochs, batch_size=args.batch, per_model=True)
    cpu = cpu_report()
    base = timings[f"{SEQUENCE_LENGTH} ids"]
    print(
        f"{cpu}; the walkthrough's autoencoder, {args.samples} examples, batch {args.batch}, "
        f"fastest of {args.epochs} alternating epochs"
    )
    rows = []
    for name, r in timings.items():
        row = {
            "model": name,
            "length": arms[name].shape[1],
            "parameters": r["parameters"],
            "samples_per_s": round(r["samples_per_s"], 1),
            "samples_per_cpu_s": round(r["samples_per_cpu_s"], 1),
            "speedup_wall": round(r["samples_per_s"] / base["samples_per_s"], 4),
            "speedup_cpu": round(r["samples_per_cpu_s"] / base["samples_per_cpu_s"], 4),
            "samples": args.samples,
            "epochs": args.epochs,
            "batch": args.batch,
            "cpu": cpu,
        }
        rows.append(row)
        print(
            f"{name:>9}: {row['parameters']:>9,d} weights, {row['samples_per_s']:>8.1f} "
            f"samples/s, {row['samples_per_cpu_s']:>8.1f} samples/CPU s, speed-up "
            f"{row['speedup_wall']:.2f} (wall), {row['speedup_cpu']:.2f} (CPU)"
        )
    if args.csv:
        with open(args.csv, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
