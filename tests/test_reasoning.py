"""Visual question answering: questions, answers, codes and the reasoning models."""

import collections
from pathlib import Path

import keras
import numpy as np
import pytest
from test_shapes import _expected_answer

from crossmodal.datasets import (
    ANSWERS,
    COLOURS,
    QUESTION_CODE_SIZE,
    QUESTION_TYPES,
    RELATIONAL,
    answer_ids,
    ask_questions,
    caption_vectorizer,
    make_scenes,
    question_code,
)
from crossmodal.encoders import TokenEncoder, VectorEncoder
from crossmodal.exercises import check_film
from crossmodal.fusion import FiLM, FiLMFusion, RelationFusion, add_global_average, pool_positions
from crossmodal.models import FusionNetwork
from crossmodal.models.reasoning import (
    concat_network,
    film_network,
    question_only,
    relation_network,
)

COLOUR_NAMES = tuple(COLOURS)
WORLD = {"min_objects": 4, "max_objects": 6, "shapes": ("circle", "square"), "sizes": ("small",)}
BUILDERS = (question_only, concat_network, film_network, relation_network)
NAMES = [b.__name__ for b in BUILDERS]


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(400, seed=4, **WORLD)


@pytest.fixture(scope="module")
def asked(scenes):
    return ask_questions(scenes, per_scene=10, seed=5, shapes=WORLD["shapes"])


def _target(question, i, scene):
    colour = next(w for w in question.split() if w in COLOURS)
    return int(np.flatnonzero(scene["colour"][i] == COLOUR_NAMES.index(colour))[0])


def test_every_answer_of_many_object_scenes_is_right(scenes, asked):
    scene = scenes["scene"]
    assert set(scene["n_objects"]) == {4, 5, 6}
    for question, answer, kind, i in zip(
        asked["question"], asked["answer"], asked["question_type"], asked["scene_index"]
    ):
        target = _target(question, i, scene)
        assert answer == _expected_answer(kind, target, scene, i), (i, question)
    assert set(asked["question_type"]) == set(QUESTION_TYPES)
    # make_scenes' own question is answered by the same rules
    for i, (question, answer, kind) in enumerate(
        zip(scenes["question"], scenes["answer"], scenes["question_type"])
    ):
        assert answer == _expected_answer(kind, _target(question, i, scene), scene, i)


def test_ask_questions_shapes_and_determinism(scenes, asked):
    assert asked["question_code"].shape == (4000, QUESTION_CODE_SIZE)
    assert asked["question_code"].dtype == np.float32
    np.testing.assert_array_equal(asked["scene_index"], np.repeat(np.arange(400), 10))
    again = ask_questions(scenes, per_scene=10, seed=5, shapes=WORLD["shapes"])
    assert list(again["question"]) == list(asked["question"])
    other = ask_questions(scenes, per_scene=10, seed=6, shapes=WORLD["shapes"])
    assert list(other["question"]) != list(asked["question"])
    with pytest.raises(ValueError, match="per_scene"):
        ask_questions(scenes, per_scene=0)


def test_question_code_matches_the_question_text(scenes, asked):
    for data in (scenes, asked):
        code = data["question_code"]
        assert np.all(code.sum(axis=1) == 2.0) and set(np.unique(code)) == {0.0, 1.0}
        for question, kind, row in zip(data["question"], data["question_type"], code):
            colour = next(w for w in question.split() if w in COLOURS)
            assert COLOUR_NAMES[np.argmax(row[: len(COLOURS)])] == colour
            assert QUESTION_TYPES[np.argmax(row[len(COLOURS) :])] == kind
    np.testing.assert_array_equal(
        question_code(["count"], ["green"])[0], np.eye(12, dtype=np.float32)[[1, 11]].sum(axis=0)
    )


TOLERANCE = 0.05  # every answer's share within 5 points of uniform


def _shares(data, kind):
    answers = data["answer"][data["question_type"] == kind]
    counts = collections.Counter(answers)
    return {a: c / len(answers) for a, c in counts.items()}


def test_answer_ids_index_answers_and_name_an_unknown_one():
    # ANSWERS: circle, square, triangle, left, right, top, bottom, then the counts 1 to 6
    np.testing.assert_array_equal(answer_ids(["circle", "left", "6"]), [0, 3, 12])
    assert answer_ids(np.array(["square", "3"], dtype=object)).dtype == np.int64
    with pytest.raises(ValueError, match="'purple'"):
        answer_ids(["circle", "purple"])


def test_answers_are_balanced_per_question_type():
    data = make_scenes(3000, seed=8, **WORLD)
    asked = ask_questions(data, per_scene=4, seed=9, shapes=WORLD["shapes"], balance=True)
    for kind in QUESTION_TYPES:
        shares = _shares(asked, kind)
        expected = 1.0 / len(shares)
        assert len(shares) == (6 if kind == "count" else 2), (kind, shares)
        assert all(abs(s - expected) <= TOLERANCE for s in shares.values()), (kind, shares)
    # without balancing the count answers peak in the middle (the reason for the option)
    plain = _shares(ask_questions(data, per_scene=4, seed=9, shapes=WORLD["shapes"]), "count")
    assert max(plain.values()) > 1 / 6 + 2 * TOLERANCE, plain
    assert ask_questions(data, per_scene=4, seed=9, balance=True)["answer"].shape == (12000,)


def _inputs(n=6, tokens=False, image=True):
    data = make_scenes(n, seed=1, **WORLD)
    question = (
        np.asarray(caption_vectorizer(12)(data["question"])) if tokens else data["question_code"]
    )
    return {"image": data["image"], "question": question} if image else {"question": question}


def _encoder(tokens):
    return (
        TokenEncoder(caption_vectorizer(12).vocabulary_size(), 16, units=16)
        if tokens
        else VectorEncoder(16, hidden=(16,))
    )


def _small(build, tokens=False):
    """A small model from ``build``, with its inputs."""
    keras.utils.set_random_seed(0)
    sizes = {"hidden": (16,)}
    if build in (concat_network, film_network):
        sizes["filters"] = (8, 8, 8)
    if build is relation_network:
        sizes.update(stem=(8, 8, 8), relation=(16,))
    model = build(_encoder(tokens), len(ANSWERS), **sizes)
    return model, _inputs(tokens=tokens, image=build is not question_only)


@pytest.mark.parametrize("build", BUILDERS, ids=NAMES)
@pytest.mark.parametrize("tokens", [False, True])
def test_output_is_a_softmax_over_the_answers(build, tokens):
    model, inputs = _small(build, tokens)
    assert isinstance(model, FusionNetwork) and model.output_name == "answer"
    probs = np.asarray(model(inputs)["answer"])
    assert probs.shape == (6, len(ANSWERS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_question_only_reads_nothing_but_the_question():
    model, inputs = _small(question_only)
    assert model.modalities == ["question"]
    with pytest.raises(ValueError, match="unknown modality 'image'"):
        model({**_inputs(), **inputs})


def test_concat_network_is_film_without_modulation():
    concat, inputs = _small(concat_network)
    film, _ = _small(film_network)
    concat(inputs)
    film(inputs)
    assert isinstance(concat.fusion, FiLMFusion) and not concat.fusion.modulate
    assert concat.fusion.films == [] and len(film.fusion.films) == 3
    assert film.count_params() > concat.count_params()


def _codes(model, inputs):
    return model.encoder.codes(inputs, training=False)[0]


def test_relation_network_pairs_every_cell_with_every_cell():
    model, inputs = _small(relation_network)
    model(inputs)
    relations = model.fusion.relations(_codes(model, inputs))
    assert tuple(relations.shape) == (6, 16, 16, 16)  # three poolings: 32x32 -> 4x4 cells
    wide = relation_network(VectorEncoder(8), len(ANSWERS), stem=(8, 8), relation=(8,), hidden=(8,))
    wide(inputs)
    assert tuple(wide.fusion.relations(_codes(wide, inputs)).shape) == (6, 64, 64, 8)


def test_relation_fusion_factorised_first_layer_equals_g_on_every_concatenated_pair():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(2, 4, 4, 3)).astype("float32")
    question = rng.normal(size=(2, 4)).astype("float32")
    layer = RelationFusion((5, 2))
    x = {"image": maps, "question": question}
    fused = np.asarray(layer(x))
    relations = np.asarray(layer.relations(x))
    assert relations.shape == (2, 16, 16, 2)
    k0 = np.concatenate([np.asarray(w) for w in (layer.left, layer.right, layer.asked)])
    b0 = np.asarray(layer.bias)
    k1, b1 = (np.asarray(w) for w in (layer.later[0].kernel, layer.later[0].bias))
    objects = maps.reshape(2, 16, 3)
    for example, i, j in [(0, 0, 0), (0, 3, 12), (1, 15, 2), (1, 7, 7)]:
        pair = np.concatenate([objects[example, i], objects[example, j], question[example]])
        want = np.maximum(np.maximum(pair @ k0 + b0, 0) @ k1 + b1, 0)
        np.testing.assert_allclose(relations[example, i, j], want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fused, relations.sum(axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_film_with_zero_parameters_is_the_identity():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(3, 5, 4, 6)).astype("float32")
    condition = rng.normal(size=(3, 7)).astype("float32")
    film = FiLM()
    np.testing.assert_allclose(np.asarray(film(features, condition)), features, atol=1e-6)
    # and with parameters it computes features * (1 + gamma) + beta per channel
    kernel = rng.normal(size=(7, 12)).astype("float32")
    bias = rng.normal(size=(12,)).astype("float32")
    film.project.kernel.assign(kernel)
    film.project.bias.assign(bias)
    gamma, beta = np.split(condition @ kernel + bias, 2, axis=-1)
    want = features * (1 + gamma[:, None, None, :]) + beta[:, None, None, :]
    np.testing.assert_allclose(np.asarray(film(features, condition)), want, rtol=1e-4, atol=1e-4)


def _film_pair():
    """FiLMFusion with and without modulation, sharing their convolutions and normalisations."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = {
        "image": rng.random((3, 16, 16, 5)).astype("float32"),
        "question": rng.normal(size=(3, 4)).astype("float32"),
    }
    modulated, plain = FiLMFusion((4, 4), cells=8), FiLMFusion((4, 4), cells=8, modulate=False)
    modulated(x)
    plain(x)
    for a, b in zip(modulated.convs + modulated.norms, plain.convs + plain.norms):
        b.set_weights(a.get_weights())
    return modulated, plain, x


def test_film_fusion_with_modulate_false_equals_no_modulation():
    modulated, plain, x = _film_pair()
    # new FiLM layers are the identity, so the two are the same function ...
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(modulated(x)), atol=1e-5)
    # ... until a FiLM layer learns a scale; without FiLM the map ignores the question
    film = modulated.films[0]
    channels = film.project.units // 2
    kernel = np.zeros(film.project.kernel.shape, "float32")
    kernel[:, :channels] = 1.0
    film.project.kernel.assign(kernel)
    film.project.bias.assign(np.repeat([10.0, 0.0], channels).astype("float32"))
    assert not np.allclose(np.asarray(plain(x)), np.asarray(modulated(x)), atol=1e-3)
    other = {**x, "question": x["question"][::-1]}
    np.testing.assert_allclose(
        np.asarray(plain.feature_maps(other)[0]), np.asarray(plain.feature_maps(x)[0]), atol=1e-6
    )
    assert not np.allclose(
        np.asarray(modulated.feature_maps(other)[0]),
        np.asarray(modulated.feature_maps(x)[0]),
        atol=1e-3,
    )


def test_film_fusion_pools_to_cells_and_concatenates_the_question():
    _, plain, x = _film_pair()
    maps, question = plain.feature_maps(x)
    assert tuple(maps.shape) == (3, 8, 8, 4)  # one pooling: 16x16 -> 8x8 cells
    assert plain.compute_output_shape({"image": (3, 16, 16, 5), "question": (3, 4)}) == (3, 12)
    np.testing.assert_allclose(
        np.asarray(plain(x)),
        np.concatenate([np.asarray(pool_positions(maps)), x["question"]], axis=1),
        atol=1e-6,
    )
    # with no blocks: only pooling of the input map and concatenation
    bare = np.asarray(FiLMFusion(())(x))
    want = np.concatenate(
        [x["image"].mean(axis=(1, 2)), x["image"].max(axis=(1, 2)), x["question"]], axis=1
    )
    np.testing.assert_allclose(bare, want, atol=1e-6)


def test_map_fusion_needs_both_inputs():
    _, plain, x = _film_pair()
    with pytest.raises(ValueError, match=r"missing \['image'\]"):
        plain({"question": x["question"]})
    with pytest.raises(ValueError, match="must differ"):
        RelationFusion(map_name="image", condition_name="image")


def test_pooling_keeps_each_channels_average_and_maximum():
    features = np.array([[[[1.0, -2.0], [3.0, 0.0]], [[5.0, 4.0], [-1.0, 2.0]]]], "float32")
    out = np.asarray(pool_positions(features))  # (1, 2, 2, 2) -> (1, 4)
    np.testing.assert_allclose(out, [[2.0, 1.0, 5.0, 4.0]])  # averages, then maxima


@pytest.mark.parametrize("build", BUILDERS, ids=NAMES)
def test_save_and_load_give_identical_answers(build, tmp_path):
    model, inputs = _small(build, tokens=build is film_network)
    want = np.asarray(model(inputs)["answer"])
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(inputs)["answer"]), want, atol=1e-6)


RECORDED = sorted((Path(__file__).parents[1] / "benchmarks" / "results").glob("*.keras"))


@pytest.mark.parametrize("path", RECORDED, ids=[p.name for p in RECORDED])
def test_recorded_models_still_load_and_answer_as_trained(path):
    """The models the reasoning chapter loads must match the classes as they are now."""
    model = keras.saving.load_model(path)  # safe mode
    data = make_scenes(300, seed=11, **WORLD)
    tokens = "tokens" in path.name
    question = (
        np.asarray(caption_vectorizer(12)(data["question"])) if tokens else data["question_code"]
    )
    said = np.asarray(
        model.predict({"image": data["image"], "question": question}, verbose=0)["answer"]
    ).argmax(axis=-1)
    right = said == answer_ids(data["answer"])
    relational = np.isin(data["question_type"], RELATIONAL)
    assert right[~relational].mean() > 0.55, path.name  # an untrained model: about 0.2


@pytest.mark.parametrize("build", BUILDERS, ids=NAMES)
def test_bad_input_raises_value_error(build):
    model, good = _small(build)
    model(good)
    question = good["question"]
    with pytest.raises(ValueError, match="audio"):
        model({**good, "audio": question})
    with pytest.raises(ValueError, match="'question'"):
        model({**good, "question": question[:, :5]})
    if build is not question_only:
        with pytest.raises(ValueError, match="batch sizes differ"):
            model({**good, "question": question[:3]})
        with pytest.raises(ValueError, match="'image'"):
            model({"image": good["image"][:, :, :, 0], "question": question})
        with pytest.raises(ValueError, match=r"missing \['image'\]"):
            model({"question": question})


def test_answers_must_be_at_least_two():
    with pytest.raises(ValueError, match="answers"):
        question_only(VectorEncoder(4), 1)


def test_training_lowers_the_loss():
    data = make_scenes(256, seed=2, **WORLD)
    inputs = {"image": data["image"], "question": data["question_code"]}
    targets = {"answer": answer_ids(data["answer"])}
    model, _ = _small(film_network)
    model.compile(
        optimizer=keras.optimizers.Adam(4e-3, clipnorm=1.0),
        loss={"answer": "sparse_categorical_crossentropy"},
    )
    history = model.fit(inputs, targets, batch_size=64, epochs=4, verbose=0).history["loss"]
    assert history[-1] < history[0], history


def test_film_checker_accepts_film_and_rejects_a_shared_scale():
    assert check_film(lambda f, g, b: f * (1 + g[:, None, None, :]) + b[:, None, None, :])
    with pytest.raises(AssertionError, match="gamma"):
        check_film(lambda f, g, b: f * (1 + g.mean()) + b[:, None, None, :])
    with pytest.raises(AssertionError, match="must give the features back"):
        check_film(lambda f, g, b: f * g[:, None, None, :] + b[:, None, None, :])


def test_global_average_is_copied_to_every_cell():
    features = np.arange(2 * 2 * 3 * 1, dtype="float32").reshape(2, 2, 3, 1)
    out = np.asarray(add_global_average(features))
    assert out.shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(out[..., 0], features[..., 0])
    np.testing.assert_allclose(out[0, :, :, 1], 2.5)  # mean of 0..5
    np.testing.assert_allclose(out[1, :, :, 1], 8.5)  # mean of 6..11
