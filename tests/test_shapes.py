"""The shapes world: modalities, ground truth, determinism and argument checks."""

import keras
import numpy as np
import pytest

from crossmodal.datasets import (
    ANSWERS,
    COLOURS,
    QUESTION_TYPES,
    SAMPLING_RATE,
    SHAPES,
    SIZES,
    VOCABULARY,
    bag_of_words,
    caption_vectorizer,
    indexed_dataset,
    make_scenes,
    speak,
    split,
    stream,
    subset,
    to_dataset,
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
    for caption, shape, colour, size in zip(
        scenes["caption"],
        scenes["scene"]["shape"],
        scenes["scene"]["colour"],
        scenes["scene"]["size"],
    ):
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
    for caption, shape, colour in zip(
        data["caption"], data["scene"]["shape"], data["scene"]["colour"]
    ):
        words = caption.split()
        assert {w for w in words if w in COLOURS} <= {COLOUR_NAMES[c] for c in colour if c >= 0}
        assert _mentions(words, SHAPE_WORDS) <= {SHAPES[s] for s in shape if s >= 0}
    shorter = np.mean(
        [len(a.split()) < len(b.split()) for a, b in zip(data["caption"], full["caption"])]
    )
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
    for i, (question, answer, kind) in enumerate(
        zip(scenes["question"], scenes["answer"], scenes["question_type"])
    ):
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


def test_audio_length_follows_the_sampling_rate():
    assert speak(np.array(["a red circle"])).shape == (1, SAMPLING_RATE)
    assert speak(np.array(["a red circle"]), seconds=0.5, sampling_rate=4000).shape == (1, 2000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": -1}, "non-negative"),
        ({"n": 5, "shapes": ("hexagon",)}, "shapes must be"),
        ({"n": 5, "colours": ("purple",)}, "colours must be"),
        ({"n": 5, "max_objects": 7}, "at most 6"),
        ({"n": 5, "max_objects": 6}, "do not fit"),
        ({"n": 5, "min_objects": 3, "max_objects": 2}, "min_objects"),
        ({"n": 5, "image_noise": -0.1}, "image_noise"),
        ({"n": 5, "occlusion": 1.5}, "occlusion"),
        ({"n": 5, "image_size": 8}, "image_size"),
    ],
)
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
    tokens = vectorizer(np.array(["a red circle", "zebra red"]))
    assert tokens.shape == (2, 8) and tokens.dtype == np.int32
    assert tokens[0, 3] == 0 and tokens[1, 0] == 1
    counts = bag_of_words(tokens, vectorizer.vocabulary_size())
    red = VOCABULARY.index("red") + 2
    assert counts[0].sum() == 3 and counts[1].sum() == 1 and counts[1, red] == 1
    with pytest.raises(ValueError, match="token ids"):
        bag_of_words(np.array([[99]]), 10)


def test_tokenizer_by_hand():
    tokenizer = caption_vectorizer(4, vocabulary=("red", "circle", "a"))
    assert tokenizer.get_vocabulary() == ["", "[UNK]", "red", "circle", "a"]
    np.testing.assert_array_equal(tokenizer("A red, CIRCLE! zebra"), [[4, 2, 3, 1]])
    np.testing.assert_array_equal(
        tokenizer([b"red red red red red", ""]), [[2, 2, 2, 2], [0, 0, 0, 0]]
    )
    with pytest.raises(ValueError, match="1-D"):
        tokenizer(np.array([["a"]], dtype=object))
    with pytest.raises(TypeError, match="strings"):
        tokenizer([3])
    with pytest.raises(ValueError, match="sequence_length"):
        caption_vectorizer(0)
    with pytest.raises(ValueError, match="distinct"):
        caption_vectorizer(4, vocabulary=("red", "red"))


def test_tokenizer_gives_the_ids_of_text_vectorization():
    pytest.importorskip("tensorflow")
    sentences = list(make_scenes(40, seed=7)["caption"]) + [
        "A Red, circle!",
        "zebra red",
        "",
        "  two   spaces ",
        "it's a (big) blue-green box.",
        " ".join(VOCABULARY[:20]),
    ]
    tokenizer = caption_vectorizer(12)
    reference = keras.layers.TextVectorization(
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        output_mode="int",
        output_sequence_length=12,
        vocabulary=list(VOCABULARY),
    )
    assert tokenizer.get_vocabulary() == reference.get_vocabulary()
    want = keras.ops.convert_to_numpy(reference(np.array(sentences)))
    np.testing.assert_array_equal(tokenizer(np.array(sentences)), want)


def test_split_subset_and_dataset():
    data = make_scenes(100, seed=0)
    train, test = split(data, (0.8, 0.2), seed=1)
    assert len(train["image"]) == 80 and len(test["scene"]["shape"]) == 20
    # the two parts are a partition of the rows
    joined = np.sort(np.concatenate([train["scene"]["x"][:, 0], test["scene"]["x"][:, 0]]))
    np.testing.assert_array_equal(joined, np.sort(data["scene"]["x"][:, 0]))
    first = subset(data, np.arange(3))
    assert first["scene"]["x"].shape == (3, 1)
    with pytest.raises(ValueError, match="sum to 1"):
        split(data, (0.5, 0.2))


def _epoch(batches):
    """The example ids of one epoch, in the order the batches give them."""
    return np.concatenate([inputs["id"] for inputs, _ in batches])


def test_batches_are_a_py_dataset_with_every_example_once_per_epoch():
    ids = np.arange(50)
    ds = to_dataset({"id": ids}, {"label": ids % 3}, batch_size=16, seed=1)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 4
    assert [len(ds[i][0]["id"]) for i in range(4)] == [16, 16, 16, 2]
    for _ in range(2):
        order = _epoch(ds)
        np.testing.assert_array_equal(np.sort(order), ids)
        np.testing.assert_array_equal(ds[0][1]["label"], ds[0][0]["id"] % 3)  # rows stay paired
        ds.on_epoch_end()
    with pytest.raises(IndexError):
        ds[4]


def test_batch_order_repeats_per_seed_and_changes_per_epoch():
    def epochs(seed, shuffle=True):
        ds = to_dataset(
            {"id": np.arange(50)}, np.zeros(50), batch_size=16, seed=seed, shuffle=shuffle
        )
        first = _epoch(ds)
        ds.on_epoch_end()
        return first, _epoch(ds)

    first, second = epochs(1)
    for got, want in zip((first, second), epochs(1)):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, epochs(2)[0])
    # epoch e visits default_rng([seed, e]).permutation(n)
    np.testing.assert_array_equal(second, np.random.default_rng([1, 1]).permutation(50))
    np.testing.assert_array_equal(epochs(1, shuffle=False)[1], np.arange(50))


def test_indexed_batches_gather_the_shared_rows():
    shared = {"image": np.arange(5) * 10}
    index = np.array([4, 0, 2, 2, 1, 3, 0])
    ds = indexed_dataset(
        shared, index, {"id": np.arange(7)}, np.arange(7) * 2, batch_size=3, seed=0
    )
    seen = []
    for inputs, targets in ds:
        np.testing.assert_array_equal(inputs["image"], 10 * index[inputs["id"]])
        np.testing.assert_array_equal(targets, 2 * inputs["id"])
        seen.extend(inputs["id"])
    assert sorted(seen) == list(range(7))
    with pytest.raises(ValueError, match="index must lie in"):
        indexed_dataset(shared, np.array([5]), {"id": np.arange(1)})
    with pytest.raises(ValueError, match="integers"):
        indexed_dataset(shared, np.array([0.0]), {"id": np.arange(1)})


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_batches_check_their_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        to_dataset({"id": np.arange(4)}, **kwargs)


def test_batches_need_modalities_of_one_length():
    with pytest.raises(ValueError, match="same length"):
        to_dataset({"image": np.zeros(4), "label": np.zeros(3)})
    with pytest.raises(ValueError, match="same length"):
        to_dataset({"image": np.zeros(4)}, np.zeros(3))


def test_fit_reads_the_batches_and_repeats():
    x = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")

    def losses():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((3,), name="x")
        model = keras.Model({"x": inputs}, keras.layers.Dense(1)(inputs))
        model.compile("sgd", "mse")
        ds = to_dataset({"x": x}, x.sum(axis=1, keepdims=True), batch_size=8, seed=4)
        return model.fit(ds, epochs=3, verbose=0).history["loss"]

    first = losses()
    assert len(first) == 3 and first[-1] < first[0]
    assert losses() == first


def test_stream_generates_in_repeatable_chunks():
    def make(size, seed):
        data = make_scenes(size, seed=seed)
        return {"image": data["image"]}, {"label": data["label"]}

    ds = stream(make, 50, chunk=20, seed=3, batch_size=10)
    batches = list(ds)
    assert [len(y["label"]) for _, y in batches] == [10, 10, 10, 10, 10]
    labels = np.concatenate([y["label"] for _, y in batches])
    expected = np.concatenate(
        [make(20, 3)[1]["label"], make(20, 4)[1]["label"], make(10, 5)[1]["label"]]
    )
    np.testing.assert_array_equal(np.sort(labels), np.sort(expected))
    again = np.concatenate(
        [y["label"] for _, y in stream(make, 50, chunk=20, seed=3, batch_size=10)]
    )
    np.testing.assert_array_equal(labels, again)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        stream(make, 50, chunk=20, batch_size=16)
