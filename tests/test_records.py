"""The results of long runs that the package ships, and the functions that read them."""

import json
import pathlib
import re

import pytest

from crossmodal import records

BOOK = pathlib.Path(__file__).parents[1] / "book"


def test_every_record_a_chapter_reads_is_shipped():
    read = set()
    for notebook in BOOK.glob("*.ipynb"):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                read |= set(re.findall(r"records\.rows\(\"([^\"]+)\"\)", source))
    assert {"fusion_layers.csv", "padding.csv", "reasoning_seeds.csv"} <= read
    # the reasoning chapter loads its three long-trained models by name
    read |= {f"{saved}-seed0.keras" for saved in ("concat", "relation", "film-tokens")}
    for name in read:
        assert records.path(name).stat().st_size > 0, name


def test_unknown_record_names_the_known_ones():
    with pytest.raises(FileNotFoundError, match="padding.csv"):
        records.path("no-such-result.csv")


def test_timings_name_their_cpu():
    for name in ("fusion_layers.csv", "padding.csv", "reasoning_long.csv"):
        rows = records.rows(name)
        assert rows and all(row.get("cpu") or row.get("device") for row in rows), name


def test_controlled_comparison_has_both_arms_for_every_seed():
    by_seed = {}
    for row in records.rows("reasoning_seeds.csv"):
        by_seed.setdefault(row["seed"], set()).add(row["model"])
    assert len(by_seed) >= 3
    assert all({"film", "concat"} <= models for models in by_seed.values()), by_seed


def test_recorded_models_load_in_safe_mode_and_answer():
    from crossmodal.datasets import answer_ids, ask_questions, make_scenes

    # the world of "Cross-modal reasoning", on scenes none of the models was trained on
    world = {
        "min_objects": 4,
        "max_objects": 6,
        "shapes": ("circle", "square"),
        "sizes": ("small",),
    }
    scenes = make_scenes(60, seed=12345, **world)
    asked = ask_questions(scenes, seed=12346, shapes=world["shapes"], balance=True)
    inputs = {"image": scenes["image"][asked["scene_index"]], "question": asked["question_code"]}
    for name in ("concat-seed0.keras", "relation-seed0.keras"):
        probs = records.model(name).predict(inputs, verbose=0)["answer"]
        right = probs.argmax(axis=-1) == answer_ids(asked["answer"])
        assert right.mean() > 0.5, (name, right.mean())  # chance is well below a half
