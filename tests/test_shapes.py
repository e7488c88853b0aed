"""The shapes world: modalities, ground truth, determinism and argument checks."""

import numpy as np
import pytest

from crossmodal.datasets import (
    ANSWERS, COLOURS, QUESTION_TYPES, SHAPES, SIZES, VOCABULARY, bag_of_words,
    caption_vectorizer, make_scenes, speak, split, subset, to_dataset,
)
from crossmodal.datasets.shapes import SHAPE_WORDS, SIZE_WORDS

COLOUR_NAMES = tuple(COLOURS)


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(600, seed=3, min_objects=1, max_objects=4, audio=True)


def test_shapes_dtypes_and_ranges(scenes):
    assert scenes["image"].shape == (600, 32, 32, 3) and scenes["image"].dtype == np.float32
    assert 0.0 <= scenes["image"].min() and scenes["image"].max() <= 1.0
    assert scenes["audio"].shape == (600, 8000) and scenes["audio"].dtype == np.float32
    for key in ("caption", "question", "answer", "question_type"):
        assert scenes[key].shape == (600,)
    assert scenes["scene"]["shape"].shape == (600, 4)
    assert set(np.unique(scenes["scene"]["n_objects"])) == {1, 2, 3, 4}
    assert set(scenes["answer"]) <= set(ANSWERS)


def test_same_seed_same_data_other_seed_other_data():
    a, b = make_scenes(50, seed=5, audio=True), make_scenes(50, seed=5, audio=True)
    c = make_scenes(50, seed=6)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["audio"], b["audio"])
    assert list(a["caption"]) == list(b["caption"])
    assert not np.array_equal(a["image"], c["image"])


def test_objects_are_drawn_in_their_colour_without_overlap(scenes):
    image, scene = scenes["image"], scenes["scene"]
    for i in range(50):
        for k in range(scene["n_objects"][i]):
            x, y = int(scene["x"][i, k]), int(scene["y"][i, k])
            colour = COLOURS[COLOUR_NAMES[scene["colour"][i, k]]]
            np.testing.assert_allclose(image[i, y, x], colour, atol=1e-6)
        present = scene["shape"][i] >= 0
        assert len(set(scene["colour"][i, present])) == present.sum()  # distinct colours


def _mentions(words, table):
    return {name for name, synonyms in table.items() for w in words if w in synonyms}


def test_every_caption_is_true_of_its_scene(scenes):
    for caption, shape, colour, size in zip(scenes["caption"], scenes["scene"]["shape"],
                                            scenes["scene"]["colour"], scenes["scene"]["size"]):
        words = caption.split()
        present = shape >= 0
        # parse each object phrase back: every colour word names one object, and the
        # shape and size words in the caption are exactly those of the scene's objects
        named = [w for w in words if w in COLOURS]
        assert sorted(named) == sorted(COLOUR_NAMES[c] for c in colour[present])
        assert _mentions(words, SHAPE_WORDS) == {SHAPES[s] for s in shape[present]}
        assert _mentions(words, SIZE_WORDS) == {SIZES[s] for s in size[present]}


def test_captions_with_word_dropout_stay_true():
    data = make_scenes(300, seed=2, max_objects=3, caption_dropout=0.4)
    full = make_scenes(300, seed=2, max_objects=3)
    for caption, shape, colour in zip(data["caption"], data["scene"]["shape"],
                                      data["scene"]["colour"]):
        words = caption.split()
        assert {w for w in words if w in COLOURS} <= {COLOUR_NAMES[c] for c in colour if c >= 0}
        assert _mentions(words, SHAPE_WORDS) <= {SHAPES[s] for s in shape if s >= 0}
    shorter = np.mean([len(a.split()) < len(b.split())
                       for a, b in zip(data["caption"], full["caption"])])
    assert shorter > 0.9


def _expected_answer(question_type, target, scene, i, image_size=32):
    shape, x, y = scene["shape"][i], scene["x"][i], scene["y"][i]
    present = np.flatnonzero(shape >= 0)
    others = [j for j in present if j != target]
    dist = {j: np.hypot(x[j] - x[target], y[j] - y[target]) for j in others}
    if question_type == "shape":
        return SHAPES[shape[target]]
    if question_type == "horizontal":
        return "left" if x[target] < image_size / 2 else "right"
    if question_type == "vertical":
        return "top" if y[target] < image_size / 2 else "bottom"
    if question_type == "nearest":
        return SHAPES[shape[min(dist, key=dist.get)]]
    if question_type == "furthest":
        return SHAPES[shape[max(dist, key=dist.get)]]
    return str(int(np.sum(shape[present] == shape[target])))


def test_every_answer_is_right(scenes):
    scene = scenes["scene"]
    for i, (question, answer, kind) in enumerate(zip(
            scenes["question"], scenes["answer"], scenes["question_type"])):
        colour = next(w for w in question.split() if w in COLOURS)
        target = int(np.flatnonzero(scene["colour"][i] == COLOUR_NAMES.index(colour))[0])
        assert answer == _expected_answer(kind, target, scene, i), (i, question)
    assert set(scenes["question_type"]) == set(QUESTION_TYPES)


def test_single_object_scenes_get_only_non_relational_questions():
    data = make_scenes(200, seed=1, max_objects=1)
    assert set(data["question_type"]) <= {"shape", "horizontal", "vertical"}


def test_audio_is_not_silent_and_differs_between_captions():
    audio = speak(np.array(["a small red circle", "there is a big blue box"]), noise=0.0)
    assert np.abs(audio).max() > 0.3
    assert np.sqrt(np.mean(audio**2, axis=1)).min() > 0.05
    assert np.abs(audio[0] - audio[1]).mean() > 0.05
    # the same caption spoken by two speakers also differs (pitch and tempo)
    same = speak(np.array(["a small red circle"] * 2), noise=0.0, seed=1)
    assert np.abs(same[0] - same[1]).mean() > 0.01


@pytest.mark.parametrize("kwargs, match", [
    ({"n": -1}, "non-negative"),
    ({"n": 5, "shapes": ("hexagon",)}, "shapes must be"),
    ({"n": 5, "colours": ("purple",)}, "colours must be"),
    ({"n": 5, "max_objects": 7}, "at most 6"),
    ({"n": 5, "max_objects": 6}, "do not fit"),
    ({"n": 5, "min_objects": 3, "max_objects": 2}, "min_objects"),
    ({"n": 5, "image_noise": -0.1}, "image_noise"),
    ({"n": 5, "occlusion": 1.5}, "occlusion"),
    ({"n": 5, "image_size": 8}, "image_size"),
])
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_scenes(**kwargs)


def test_six_small_objects_fit():
    data = make_scenes(100, seed=0, min_objects=6, max_objects=6, sizes=("small",))
    assert (data["scene"]["n_objects"] == 6).all()


def test_noise_and_occlusion_change_the_image():
    clean = make_scenes(20, seed=4)["image"]
    noisy = make_scenes(20, seed=4, image_noise=0.2)["image"]
    occluded = make_scenes(20, seed=4, occlusion=1.0)["image"]
    assert np.abs(noisy - clean).mean() > 0.05
    assert ((occluded == 0.5).all(axis=-1).sum(axis=(1, 2)) >= 16).all()


def test_vectorizer_and_bag_of_words():
    vectorizer = caption_vectorizer(sequence_length=8)
    assert vectorizer.vocabulary_size() == len(VOCABULARY) + 2
    tokens = np.asarray(vectorizer(np.array(["a red circle", "zebra red"])))
    assert tokens.shape == (2, 8) and tokens[0, 3] == 0 and tokens[1, 0] == 1
    counts = bag_of_words(tokens, vectorizer.vocabulary_size())
    red = VOCABULARY.index("red") + 2
    assert counts[0].sum() == 3 and counts[1].sum() == 1 and counts[1, red] == 1
    with pytest.raises(ValueError, match="token ids"):
        bag_of_words(np.array([[99]]), 10)


def test_split_subset_and_dataset():
    data = make_scenes(100, seed=0)
    train, test = split(data, (0.8, 0.2), seed=1)
    assert len(train["image"]) == 80 and len(test["scene"]["shape"]) == 20
    # the two parts are a partition of the rows
    joined = np.sort(np.concatenate([train["scene"]["x"][:, 0], test["scene"]["x"][:, 0]]))
    np.testing.assert_array_equal(joined, np.sort(data["scene"]["x"][:, 0]))
    first = subset(data, np.arange(3))
    assert first["scene"]["x"].shape == (3, 1)
    ds = to_dataset({"image": data["image"]}, {"label": data["label"]}, batch_size=32)
    inputs, targets = next(iter(ds))
    assert inputs["image"].shape == (32, 32, 32, 3) and targets["label"].shape == (32,)
    with pytest.raises(ValueError, match="same length"):
        to_dataset({"image": data["image"], "label": data["label"][:5]})
    with pytest.raises(ValueError, match="sum to 1"):
        split(data, (0.5, 0.2))


def test_stream_generates_in_repeatable_chunks():
    from crossmodal.datasets import stream

    def make(size, seed):
        data = make_scenes(size, seed=seed)
        return {"image": data["image"]}, {"label": data["label"]}

    ds = stream(make, 50, chunk=20, seed=3, batch_size=16)
    batches = list(ds)
    assert [len(y["label"]) for _, y in batches] == [16, 16, 16, 2]
    labels = np.concatenate([y["label"].numpy() for _, y in batches])
    expected = np.concatenate([make(20, 3)[1]["label"], make(20, 4)[1]["label"],
                               make(10, 5)[1]["label"]])
    np.testing.assert_array_equal(np.sort(labels), np.sort(expected))
    again = np.concatenate([y["label"].numpy() for _, y in stream(make, 50, chunk=20, seed=3,
                                                                   batch_size=16)])
    np.testing.assert_array_equal(labels, again)
