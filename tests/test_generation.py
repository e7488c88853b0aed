"""Generating one modality from another: the caption generator, decoding and the conditional VAE."""

import keras
import numpy as np
import pytest

from crossmodal import runtime
from crossmodal.datasets.text import PADDING
from crossmodal.decoders import ImageDecoder, VectorDecoder
from crossmodal.encoders import ImageEncoder, VectorEncoder
from crossmodal.exercises import check_kl_divergence
from crossmodal.generation import (
    END,
    START,
    CaptionGenerator,
    ConditionalVAE,
    beam_search,
    greedy_decode,
    kl_divergence,
    previous_tokens,
    sample_decode,
)

VOCAB, CODE = 12, 5
A, B, X, Y = 1, 2, 3, 4  # token ids of the hand-made distribution (0 ends a sequence)


def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(p, np.float64))


def two_steps(prefix):
    """First A 0.6 / B 0.4; after A, X or Y 0.5 each; after B, X 0.9 / Y 0.1; then the end."""
    rows = []
    for row in prefix:
        p = np.zeros(5)
        if len(row) == 0:
            p[[A, B]] = 0.6, 0.4
        elif len(row) == 1:
            p[[X, Y]] = (0.5, 0.5) if row[0] == A else (0.9, 0.1)
        else:
            p[END] = 1.0
        rows.append(p)
    return _log(np.array(rows).reshape(len(prefix), 5))


def flat(prefix):
    """Every word but the end equally likely, whatever came before."""
    return _log(np.tile([0.0] + [1 / 9] * 9, (len(prefix), 1)))


def peaked(prefix):
    """A distinct, prefix-dependent distribution with one clear maximum per row."""
    rng = np.random.default_rng(int(np.asarray(prefix).sum()) + prefix.shape[1])
    return _log(rng.dirichlet(np.ones(7), size=len(prefix)))


def test_start_and_end_are_padding_and_previous_tokens_shift_right():
    assert START == END == PADDING == 0
    tokens = np.array([[5, 6, 7, 0], [8, 0, 0, 0]])
    np.testing.assert_array_equal(previous_tokens(tokens), [[0, 5, 6, 7], [0, 8, 0, 0]])
    with pytest.raises(ValueError, match="tokens"):
        previous_tokens(np.zeros(4, int))
    with pytest.raises(TypeError, match="integer"):
        previous_tokens(np.zeros((2, 4)))


def test_beam_search_finds_the_sequence_that_greedy_decoding_misses():
    tokens, log_probs = greedy_decode(two_steps, 1, 3)
    np.testing.assert_array_equal(tokens, [[A, X, END]])
    np.testing.assert_allclose(log_probs, [np.log(0.30)])
    tokens, log_probs = beam_search(two_steps, 1, 3, beam_width=2)
    np.testing.assert_array_equal(tokens, [[B, X, END]])
    np.testing.assert_allclose(log_probs, [np.log(0.36)])
    tokens, log_probs = beam_search(two_steps, 1, 3, beam_width=1)  # width 1 is greedy
    np.testing.assert_array_equal(tokens, [[A, X, END]])


def test_decoding_pads_after_the_end_and_handles_a_batch():
    tokens, log_probs = beam_search(two_steps, 3, 5, beam_width=2)
    np.testing.assert_array_equal(tokens, [[B, X, END, END, END]] * 3)
    np.testing.assert_allclose(log_probs, np.log(0.36))
    tokens, _ = greedy_decode(two_steps, 2, 5)
    np.testing.assert_array_equal(tokens, [[A, X, END, END, END]] * 2)


def test_sampling_repeats_with_its_seed_and_draws_from_the_distribution():
    first, _ = sample_decode(flat, 4, 8, seed=1)
    second, _ = sample_decode(flat, 4, 8, seed=1)
    other, _ = sample_decode(flat, 4, 8, seed=2)
    assert first.shape == (4, 8) and first.dtype == np.int32
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    tokens, log_probs = sample_decode(two_steps, 4000, 3, seed=0)
    assert abs(np.mean(tokens[:, 0] == A) - 0.6) < 0.03
    after_b = tokens[tokens[:, 0] == B, 1]
    assert abs(np.mean(after_b == X) - 0.9) < 0.03
    np.testing.assert_allclose(np.exp(log_probs[tokens[:, 1] == Y]).max(), 0.3)
    np.testing.assert_array_equal(tokens[:, 2], END)


def test_sampling_at_a_low_temperature_is_greedy_and_a_high_one_flattens():
    greedy, greedy_log_probs = greedy_decode(peaked, 6, 5)
    for seed in range(5):
        tokens, log_probs = sample_decode(peaked, 6, 5, temperature=1e-4, seed=seed)
        np.testing.assert_array_equal(tokens, greedy)
        np.testing.assert_allclose(log_probs, greedy_log_probs)
    hot, _ = sample_decode(two_steps, 4000, 1, temperature=100.0, seed=0)
    assert abs(np.mean(hot[:, 0] == A) - 0.5) < 0.03


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: sample_decode(flat, 2, 3, temperature=0.0), ValueError, "temperature"),
        (lambda: beam_search(flat, 2, 3, beam_width=0), ValueError, "beam_width"),
        (lambda: greedy_decode(flat, 2, 0), ValueError, "length"),
        (lambda: greedy_decode(lambda p: np.zeros((1, 4)), 2, 3), ValueError, r"2 rows.*\(1, 4\)"),
    ],
)
def test_decoding_rejects_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _generator(seed=0):
    runtime.seed_everything(seed)
    return CaptionGenerator(VOCAB, units=16, embedding_dim=8)


def test_caption_generator_shapes_and_decoding_methods():
    generator, rng = _generator(), np.random.default_rng(0)
    code = rng.normal(size=(3, CODE)).astype("float32")
    logits = generator({"code": code, "previous": previous_tokens(rng.integers(0, VOCAB, (3, 7)))})
    assert (
        logits.shape == (3, 7, VOCAB) and keras.backend.standardize_dtype(logits.dtype) == "float32"
    )
    for tokens, log_probs in (
        generator.greedy_decode(code, 6),
        generator.sample_decode(code, 6, seed=0),
        generator.beam_search(code, 6, beam_width=3),
    ):
        assert tokens.shape == (3, 6) and log_probs.shape == (3,)
        assert np.all((tokens >= 0) & (tokens < VOCAB)) and np.all(log_probs <= 0)
    # the methods feed the generator's own step function to the decoding functions
    np.testing.assert_array_equal(
        generator.greedy_decode(code, 6)[0], greedy_decode(generator.step(code), 3, 6)[0]
    )
    # a step's log-probabilities are those of the teacher-forced pass
    tokens = generator.greedy_decode(code, 4)[0]
    full = keras.ops.log_softmax(
        generator({"code": code, "previous": previous_tokens(tokens)}), axis=-1
    )
    np.testing.assert_allclose(generator.step(code)(tokens[:, :2]), full[:, 2], atol=1e-5)


def test_caption_generator_learns_captions_with_teacher_forcing():
    captions = np.array([[2, 5, 7, 9, 0, 0], [3, 5, 8, 0, 0, 0], [4, 6, 6, 10, 11, 0]])
    code = np.eye(3, dtype="float32")
    generator = _generator()
    inputs = {
        "code": keras.Input((3,), name="code"),
        "previous": keras.Input((None,), dtype="int32", name="previous"),
    }
    model = keras.Model(inputs, generator(inputs))
    model.compile(keras.optimizers.Adam(3e-2), keras.losses.SparseCategoricalCrossentropy(True))
    model.fit({"code": code, "previous": previous_tokens(captions)}, captions, epochs=80, verbose=0)
    for decode in (generator.greedy_decode, generator.beam_search):
        np.testing.assert_array_equal(decode(code, 6)[0], captions)


def test_caption_generator_config_and_keras_round_trip(tmp_path):
    generator, rng = _generator(), np.random.default_rng(1)
    inputs = {
        "code": keras.Input((CODE,), name="code"),
        "previous": keras.Input((None,), dtype="int32", name="previous"),
    }
    model = keras.Model(inputs, generator(inputs))
    data = {
        "code": rng.normal(size=(4, CODE)).astype("float32"),
        "previous": rng.integers(0, VOCAB, (4, 6)).astype("int32"),
    }
    copy = CaptionGenerator.from_config(generator.get_config())
    assert copy.get_config() == generator.get_config()
    model.save(tmp_path / "generator.keras")
    loaded = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    np.testing.assert_array_equal(model.predict(data, verbose=0), loaded.predict(data, verbose=0))
    again = loaded.get_layer(generator.name)
    assert isinstance(again, CaptionGenerator)
    for decode in ("greedy_decode", "beam_search"):
        for before, after in zip(
            getattr(generator, decode)(data["code"], 5), getattr(again, decode)(data["code"], 5)
        ):
            np.testing.assert_array_equal(before, after)


def test_caption_generator_rejects_bad_inputs():
    generator = _generator()
    code, previous = np.zeros((2, CODE), "float32"), np.zeros((2, 4), "int32")
    with pytest.raises(ValueError, match=r"codes \(batch, dim\).*\(2, 5, 1\)"):
        generator({"code": code[..., None], "previous": previous})
    with pytest.raises(ValueError, match=r"batch sizes differ.*\(2, 5\).*\(3, 4\)"):
        generator({"code": code, "previous": np.zeros((3, 4), "int32")})
    with pytest.raises(TypeError, match="integer token ids"):
        generator({"code": code, "previous": previous.astype("float32")})
    with pytest.raises(ValueError, match="unknown modality 'tokens'"):
        generator({"code": code, "tokens": previous})
    with pytest.raises(ValueError, match=r"expected the inputs \('code', 'previous'\)"):
        generator({"code": code})
    with pytest.raises(ValueError, match="vocabulary_size"):
        CaptionGenerator(1)


def test_kl_divergence_by_hand():
    assert float(kl_divergence(np.zeros((3, 4)), np.zeros((3, 4)))) == 0.0
    mean = np.array([[1.0, 0.0], [0.0, 0.0]])
    log_var = np.array([[0.0, np.log(2.0)], [0.0, 0.0]])
    # row 1: 0.5 * ((1 + 1 - 1 - 0) + (2 + 0 - 1 - log 2)); row 2: 0; mean over the batch
    expected = 0.5 * (0.5 * (2.0 - np.log(2.0)))
    np.testing.assert_allclose(float(kl_divergence(mean, log_var)), expected, rtol=1e-6)
    assert float(kl_divergence(np.full((1, 3), 2.0), np.zeros((1, 3)))) == pytest.approx(6.0)


def test_kl_checker_accepts_the_package_function_and_rejects_common_mistakes():
    assert check_kl_divergence(lambda mean, log_var: float(kl_divergence(mean, log_var)))
    mistakes = {
        "log-variance": lambda m, v: np.mean(0.5 * np.sum(np.exp(v / 2) + m**2 - 1 - v, -1)),
        "average over the batch": lambda m, v: np.sum(0.5 * (np.exp(v) + m**2 - 1 - v)),
    }
    for match, wrong in mistakes.items():
        with pytest.raises(AssertionError, match=match):
            check_kl_divergence(wrong)


SIDE, WORDS = 16, 10


def _scenes(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "image": rng.random((n, SIDE, SIDE, 3)).astype("float32"),
        "caption": rng.random((n, WORDS)).astype("float32"),
    }


def _vae(seed=0, **kwargs):
    runtime.seed_everything(seed)
    return ConditionalVAE(
        {"image": ImageEncoder(8, filters=(4, 8)), "caption": VectorEncoder(6, hidden=(8,))},
        ImageDecoder((SIDE, SIDE, 3), filters=(8, 4)),
        latent_dim=4,
        seed=seed,
        **kwargs,
    )


def test_vae_shapes_and_the_kl_term_in_the_loss():
    model, data = _vae(kl_weight=0.5), _scenes()
    out = model(data)
    assert set(out) == {"image"} and out["image"].shape == (16, SIDE, SIDE, 3)
    model.compile(loss={"image": "mse"})
    loss = model.evaluate(data, {"image": data["image"]}, batch_size=16, verbose=0)
    mean, log_var = np.split(np.asarray(model.posterior(model.encoder(data))), 2, axis=-1)
    reconstruction = np.mean((np.asarray(model(data)["image"]) - data["image"]) ** 2)
    np.testing.assert_allclose(
        loss, reconstruction + 0.5 * float(kl_divergence(mean, log_var)), rtol=1e-4
    )
    # the reconstruction decodes the posterior mean at inference, a draw in training
    np.testing.assert_array_equal(model(data)["image"], model(data)["image"])
    assert not np.allclose(model(data, training=True)["image"], model(data)["image"])


def test_vae_fits_with_the_built_in_fit_and_generates():
    model, data = _vae(), _scenes(32)
    model.compile(keras.optimizers.Adam(1e-3), loss={"image": "mse"})
    history = model.fit(data, {"image": data["image"]}, batch_size=16, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    caption = {"caption": data["caption"][:1]}
    images = model.generate(caption, 4, seed=0)
    assert images.shape == (1, 4, SIDE, SIDE, 3)
    assert not np.allclose(images[0, 0], images[0, 1]), "different noise, different images"
    np.testing.assert_array_equal(images, model.generate(caption, 4, seed=0))
    assert not np.allclose(images, model.generate(caption, 4, seed=1))
    two = model.generate({"caption": data["caption"][:2]}, 3, seed=0)
    assert two.shape == (2, 3, SIDE, SIDE, 3)


def test_vae_config_and_keras_round_trip(tmp_path):
    model, data = _vae(kl_weight=0.25), _scenes()
    before = model.predict(data, verbose=0)["image"]
    copy = ConditionalVAE.from_config(model.get_config())
    assert copy.get_config() == model.get_config()
    model.save(tmp_path / "cvae.keras")
    loaded = keras.saving.load_model(tmp_path / "cvae.keras", safe_mode=True)
    assert loaded.kl_weight == 0.25 and loaded.target == "image"
    np.testing.assert_array_equal(before, loaded.predict(data, verbose=0)["image"])
    caption = {"caption": data["caption"][:2]}
    np.testing.assert_array_equal(
        model.generate(caption, 3, seed=5), loaded.generate(caption, 3, seed=5)
    )


def test_vae_rejects_bad_inputs():
    model, data = _vae(), _scenes()
    with pytest.raises(ValueError, match="caption"):
        _vae()({"image": data["image"]})  # building needs every modality
    model(data)
    with pytest.raises(ValueError, match=r"'image'.*\(batch, 16, 16, 3\).*\(16, 8, 8, 3\)"):
        model({**data, "image": data["image"][:, :8, :8]})
    with pytest.raises(ValueError, match=r"missing \['image'\]"):
        model({"caption": data["caption"]})
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"image": data["image"][:3], "caption": data["caption"]})
    with pytest.raises(ValueError, match="'audio'"):
        model.generate({"audio": data["caption"]}, 2)
    with pytest.raises(ValueError, match="unknown modality 'image'"):
        model.generate(data, 2)  # the target is generated, not given
    with pytest.raises(ValueError, match="n must be"):
        model.generate({"caption": data["caption"]}, 0)


def test_vae_construction_checks():
    encoders = {"image": ImageEncoder(4), "caption": VectorEncoder(4)}
    with pytest.raises(ValueError, match="target 'picture'"):
        ConditionalVAE(encoders, ImageDecoder((SIDE, SIDE, 3)), target="picture")
    with pytest.raises(ValueError, match="at least one condition"):
        ConditionalVAE({"image": ImageEncoder(4)}, ImageDecoder((SIDE, SIDE, 3)))
    with pytest.raises(ValueError, match="kl_weight"):
        ConditionalVAE(encoders, ImageDecoder((SIDE, SIDE, 3)), kl_weight=-1.0)
    wrong = ConditionalVAE(encoders, ImageDecoder((32, 32, 3)))
    with pytest.raises(ValueError, match=r"32, 32, 3.*'image'.*16, 16, 3"):
        wrong(_scenes())


def test_vae_takes_several_conditions_and_any_target_name():
    runtime.seed_everything(0)
    rng = np.random.default_rng(0)
    data = {
        name: rng.random((8, width)).astype("float32")
        for name, width in (("scene", 6), ("caption", 5), ("colour", 3))
    }
    model = ConditionalVAE(
        {name: VectorEncoder(4, hidden=(4,)) for name in data},
        VectorDecoder(6, hidden=(8,)),
        target="scene",
        latent_dim=2,
    )
    assert model.conditions == ["caption", "colour"]
    assert model(data)["scene"].shape == (8, 6)
    conditions = {"caption": data["caption"][:2], "colour": data["colour"][:2]}
    assert model.generate(conditions, 5, seed=0).shape == (2, 5, 6)
    with pytest.raises(ValueError, match=r"every condition \['caption', 'colour'\]"):
        model.generate({"caption": data["caption"]}, 2)


def test_parse_caption_reads_every_generated_caption_back_and_rejects_others():
    from crossmodal.datasets import make_scenes, parse_caption

    data = make_scenes(300, seed=5, min_objects=1, max_objects=3)
    scene = data["scene"]
    for i, caption in enumerate(data["caption"]):
        objects = [
            (scene["size"][i, k], scene["colour"][i, k], scene["shape"][i, k])
            for k in range(3)
            if scene["shape"][i, k] >= 0
        ]
        assert sorted(parse_caption(caption)) == sorted(objects), caption
    assert parse_caption("we can see a tiny red disc") == ((0, 0, 0),)
    assert parse_caption("a blue box that is huge next to a small wedge coloured cyan") == (
        (1, 2, 1),
        (0, 5, 2),
    )
    for bad in (
        "",
        "there is",
        "a red circle",
        "a small red red circle",
        "a small purple disc",
        "we can see a small red disc and",
        "the picture shows a small red disc that is",
    ):
        assert parse_caption(bad) is None, bad
