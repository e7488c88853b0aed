"""Visual question answering on the shapes world: accuracy of every reasoning model.

Trains the models of ``crossmodal.models.reasoning`` (one backbone, four
fusion layers) in a Sort-of-CLEVR-like
setting (scenes of 4-6 objects, circles and squares, six colours; a fixed set
of training scenes asked many questions each, count answers balanced; Adam at
2e-3 with gradient clipping at norm 1, batch 128), at a length given on the
command line, and prints accuracy on
non-relational and relational test questions, the relational gap to the
CNN + concatenation baseline of the same seed, and the training time.

    python benchmarks/reasoning.py                      # the quick settings
    python benchmarks/reasoning.py --seeds 0 1          # FiLM vs concat on two seeds
    python benchmarks/reasoning.py --models concat relation film-tokens --examples 600000 \
        --csv benchmarks/results/reasoning_long.csv \
        --save benchmarks/results   # the longer runs the book quotes and looks inside
"""

import argparse
import csv
import os
import time

import keras
import numpy as np

from crossmodal import runtime
from crossmodal.datasets import (
    ANSWERS,
    RELATIONAL,
    answer_ids,
    ask_questions,
    caption_vectorizer,
    indexed_dataset,
    make_scenes,
    to_dataset,
)
from crossmodal.encoders import TokenEncoder, VectorEncoder
from crossmodal.models import reasoning

WORLD = {"min_objects": 4, "max_objects": 6, "shapes": ("circle", "square"), "sizes": ("small",)}
QUESTION_LENGTH = 12
MODELS = {
    # name: (model builder, question form, share of --examples it trains on)
    "question-only": (reasoning.question_only, "code", 0.4),
    "concat": (reasoning.concat_network, "code", 1.0),
    "film": (reasoning.film_network, "code", 1.0),
    "relation": (reasoning.relation_network, "code", 1.0),
    "film-tokens": (reasoning.film_network, "tokens", 1.0),
}


def questions(n_scenes, per_scene, seed, world=WORLD):
    """``per_scene`` questions about each of ``n_scenes`` new scenes: (scenes, asked, tokens)."""
    scenes = make_scenes(n_scenes, seed=seed, **world)
    asked = ask_questions(
        scenes, per_scene=per_scene, seed=seed + 1, shapes=world["shapes"], balance=True
    )
    tokens = caption_vectorizer(QUESTION_LENGTH)(asked["question"])
    return scenes, asked, {"code": asked["question_code"], "tokens": tokens}


def build(name):
    builder, form, _ = MODELS[name]
    encoder = (
        VectorEncoder(64, hidden=(64,))
        if form == "code"
        else TokenEncoder(caption_vectorizer(QUESTION_LENGTH).vocabulary_size(), 64)
    )
    model = builder(encoder, len(ANSWERS))
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3, clipnorm=1.0),
        loss={"answer": "sparse_categorical_crossentropy"},
        steps_per_execution=16,
    )
    return model


def train_and_score(name, examples, seed, test, n_scenes, batch_size=128, save=None):
    """Train one model on ``examples`` questions about ``n_scenes`` scenes; test accuracy.

    With ``save`` (a folder), the trained model is also saved there as
    ``{name}-seed{seed}.keras``.
    """
    runtime.seed_everything(seed)
    _, form, share = MODELS[name]
    model = build(name)
    per_scene = max(1, round(examples * share / n_scenes))
    scenes, asked, forms = questions(n_scenes, per_scene, seed=100 + seed)
    targets = {"answer": answer_ids(asked["answer"])}
    if "image" in model.modalities:
        data = indexed_dataset(
            {"image": scenes["image"]},
            asked["scene_index"],
            {"question": forms[form]},
            targets,
            batch_size=batch_size,
            seed=seed,
        )
    else:
        data = to_dataset({"question": forms[form]}, targets, batch_size=batch_size, seed=seed)
    start = time.perf_counter()
    model.fit(data, verbose=0)
    seconds = time.perf_counter() - start
    if save:
        os.makedirs(save, exist_ok=True)
        model.save(os.path.join(save, f"{name}-seed{seed}.keras"))
    scenes, asked, forms = test
    inputs = {"question": forms[form]}
    if "image" in model.modalities:
        inputs["image"] = scenes["image"][asked["scene_index"]]
    predicted = model.predict(inputs, batch_size=512, verbose=0)["answer"].argmax(axis=-1)
    right = predicted == answer_ids(asked["answer"])
    relational = np.isin(asked["question_type"], RELATIONAL)
    return float(right[~relational].mean()), float(right[relational].mean()), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--examples",
        type=int,
        default=300_000,
        help="training questions of concat and FiLM (question-only: 40%%)",
    )
    parser.add_argument(
        "--models", nargs="+", default=["question-only", "concat", "film"], choices=sorted(MODELS)
    )
    parser.add_argument("--scenes", type=int, default=10_000, help="training scenes")
    parser.add_argument("--test", type=int, default=3000, help="test scenes (one question each)")
    parser.add_argument("--csv", help="also append the rows to this CSV file (for the book)")
    parser.add_argument("--save", help="also save every trained model in this folder (.keras)")
    args = parser.parse_args()
    print(runtime.device_report(), "| examples:", args.examples, "| seeds:", args.seeds)
    test = questions(args.test, 1, seed=999_999)
    print(
        f"{'seed':>4}  {'model':<14} {'non-rel':>8} {'rel':>8} {'rel - concat':>13} {'train s':>8}"
    )
    for seed in args.seeds:
        scores = {}
        for name in args.models:
            scores[name] = train_and_score(
                name, args.examples, seed, test, args.scenes, save=args.save
            )
            nonrel, rel, seconds = scores[name]
            gap = f"{rel - scores['concat'][1]:+13.3f}" if "concat" in scores else f"{'':>13}"
            print(
                f"{seed:>4}  {name:<14} {nonrel:8.3f} {rel:8.3f} {gap} {seconds:8.1f}", flush=True
            )
            if args.csv:
                write_row(
                    args.csv,
                    device=runtime.device_report(),
                    examples=args.examples,
                    seed=seed,
                    model=name,
                    non_relational=round(nonrel, 4),
                    relational=round(rel, 4),
                    train_seconds=round(seconds, 1),
                )


def write_row(path, **row):
    """Append ``row`` to the CSV file at ``path``, with a header when the file is new."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


if __name__ == "__main__":
    main()
