"""Fusion layers, the audio and Transformer encoders, and the fusion network."""

import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
import keras
from crossmodal import fusion
from crossmodal.decoders import VectorDecoder
from crossmodal.dropout import ModalityDropout
from crossmodal.encoders import (
    MEL_SETTINGS,
    AudioEncoder,
    TransformerTokenEncoder,
    VectorEncoder,
    mel_spectrogram_layer,
)
from crossmodal.models import FusionNetwork

DIMS = {"audio": 3, "image": 5, "text": 4}
LAYERS = {
    "concat": lambda: fusion.ConcatFusion(),
    "gated_softmax": lambda: fusion.GatedFusion(6),
    "gated_sigmoid": lambda: fusion.GatedFusion(6, gate="sigmoid"),
    "tensor": lambda: fusion.TensorFusion(),
    "tensor_projected": lambda: fusion.TensorFusion(dim=6),
    "low_rank": lambda: fusion.LowRankFusion(6, rank=3),
    "attention": lambda: fusion.AttentionFusion(6, heads=2),
}


def vectors(names, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=(batch, DIMS[n])).astype("float32") for n in names}


def expected_width(key, names):
    if key == "concat":
        return sum(DIMS[n] for n in names)
    if key == "tensor":
        return int(np.prod([DIMS[n] + 1 for n in names]))
    return 6


@pytest.mark.parametrize("key", sorted(LAYERS))
@pytest.mark.parametrize("names", [("image", "text"), ("audio", "image", "text")])
def test_output_shape_with_all_and_missing_modalities(key, names):
    layer = LAYERS[key]()
    x = vectors(names)
    width = expected_width(key, names)
    assert tuple(layer(x).shape) == (4, width)
    missing = {n: v for n, v in x.items() if n != names[0]}
    out = np.asarray(layer(missing))
    assert out.shape == (4, width)
    assert np.all(np.isfinite(out))


def test_registry_names_every_layer():
    assert {"concat", "mean", "gated", "tensor", "low_rank", "attention"} <= set(fusion.FUSIONS)
    assert isinstance(fusion.get("low_rank"), fusion.LowRankFusion)
    with pytest.raises(ValueError, match="unknown fusion"):
        fusion.get("nope")


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_gates_lie_in_unit_interval_and_missing_gate_is_zero(gate):
    layer = fusion.GatedFusion(6, gate=gate)
    x = vectors(("audio", "image", "text"))
    fused, gates = layer(x, return_gates=True)
    gates = np.asarray(gates)
    assert gates.shape == (4, 3, 6)
    assert gates.min() >= 0 and gates.max() <= 1
    if gate == "softmax":
        np.testing.assert_allclose(gates.sum(axis=1), 1.0, atol=1e-5)
    _, partial = layer({"image": x["image"], "text": x["text"]}, return_gates=True)
    partial = np.asarray(partial)
    np.testing.assert_allclose(partial[:, 0], 0.0, atol=1e-6)  # "audio" is first
    if gate == "softmax":
        np.testing.assert_allclose(partial.sum(axis=1), 1.0, atol=1e-5)


def test_gated_fusion_matches_hand_computation():
    layer = fusion.GatedFusion(2)
    x = vectors(("image", "text"))
    fused, gates = layer(x, return_gates=True)
    h = [np.tanh(x[n] @ d.kernel.numpy() + d.bias.numpy())
         for n, d in zip(layer.modalities, layer.transforms)]
    logits = (np.concatenate([x["image"], x["text"]], axis=1) @ layer.gates.kernel.numpy()
              + layer.gates.bias.numpy()).reshape(4, 2, 2)
    g = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(gates), g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fused), g[:, 0] * h[0] + g[:, 1] * h[1],
                               rtol=1e-5, atol=1e-6)


def test_attention_weights_sum_to_one_and_skip_missing():
    layer = fusion.AttentionFusion(6, heads=2)
    x = vectors(("audio", "image", "text"))
    _, weights = layer(x, return_attention=True)
    weights = np.asarray(weights)
    assert weights.shape == (4, 2, 3, 3)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    _, partial = layer({"audio": x["audio"], "text": x["text"]}, return_attention=True)
    partial = np.asarray(partial)
    np.testing.assert_allclose(partial[..., 1], 0.0, atol=1e-6)  # "image" is masked
    np.testing.assert_allclose(partial.sum(axis=-1), 1.0, atol=1e-5)


def test_tensor_fusion_is_the_outer_product():
    x = vectors(("image", "text"))
    out = np.asarray(fusion.TensorFusion()(x))
    assert out.shape[1] == (DIMS["image"] + 1) * (DIMS["text"] + 1)
    a = np.concatenate([x["image"], np.ones((4, 1))], axis=1)
    b = np.concatenate([x["text"], np.ones((4, 1))], axis=1)
    np.testing.assert_allclose(out, np.einsum("bi,bj->bij", a, b).reshape(4, -1), rtol=1e-6)
    # a missing modality keeps only its 1: [0; 1] x [z_text; 1]
    layer = fusion.TensorFusion()
    layer(x)
    only_text = np.asarray(layer({"text": x["text"]}))
    zero_one = np.concatenate([np.zeros((4, DIMS["image"])), np.ones((4, 1))], axis=1)
    np.testing.assert_allclose(only_text, np.einsum("bi,bj->bij", zero_one, b).reshape(4, -1))


def test_tensor_fusion_width_is_product_of_dims_plus_one():
    for dims in ((3, 4), (3, 4, 5), (2, 2, 2, 2)):
        layer = fusion.TensorFusion()
        layer([np.zeros((2, d), "float32") for d in dims])
        assert layer.output_dim() == int(np.prod([d + 1 for d in dims]))


def test_low_rank_has_fewer_parameters_than_tensor_fusion():
    x = [np.zeros((2, 16), "float32")] * 3
    tensor, low = fusion.TensorFusion(dim=32), fusion.LowRankFusion(32, rank=4)
    tensor(x)
    low(x)
    assert tensor.count_params() == 17**3 * 32 + 32
    assert low.count_params() == 4 * 3 * 17 * 32 + 4 + 32
    assert low.count_params() < tensor.count_params()


def test_low_rank_with_rank_one_equals_product_of_projections():
    layer = fusion.LowRankFusion(3, rank=1)
    x = vectors(("image", "text"))
    out = np.asarray(layer(x))
    terms = [np.concatenate([x[n], np.ones((4, 1))], axis=1) @ f.numpy()[0]
             for n, f in zip(layer.modalities, layer.factors)]
    want = terms[0] * terms[1] * layer.rank_weights.numpy()[0] + layer.bias.numpy()
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_layer_round_trips_through_keras_file(key, tmp_path):
    x = vectors(("audio", "image", "text"))
    inputs = {n: keras.Input((DIMS[n],), name=n) for n in x}
    model = keras.Model(inputs, LAYERS[key]()(inputs))
    path = tmp_path / f"{key}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_bad_input_raises_value_error(key):
    layer = LAYERS[key]()
    x = vectors(("image", "text"))
    layer(x)
    with pytest.raises(ValueError, match="batch sizes differ"):
        layer({"image": x["image"], "text": x["text"][:2]})
    with pytest.raises(ValueError, match="unknown modality 'sound'"):
        layer({**x, "sound": x["text"]})
    with pytest.raises(ValueError, match="'image'"):
        layer({"image": x["image"][:, :, None], "text": x["text"]})
    with pytest.raises(ValueError, match="'image'"):
        LAYERS[key]()({"image": np.zeros((2, 3, 4), "float32"), "text": x["text"][:2]})


def network(late=False, fusion_layer="gated", dropout=None):
    encoders = {"image": VectorEncoder(4), "text": VectorEncoder(3)}
    return FusionNetwork(encoders, None if late else fusion_layer,
                         VectorDecoder(5, output_activation="softmax"), late=late,
                         modality_dropout=dropout)


def labelled(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, n)
    x = {"image": (np.eye(5)[y] + rng.normal(0, 0.3, (n, 5))).astype("float32"),
         "text": rng.normal(size=(n, 2)).astype("float32")}
    return x, y


@pytest.mark.parametrize("kind", ["gated", "attention", "low_rank", "late", "dropout"])
def test_network_trains_works_from_subsets_and_round_trips(kind, tmp_path):
    keras.utils.set_random_seed(0)
    model = network(late=kind == "late",
                    fusion_layer="gated" if kind in ("late", "dropout") else kind,
                    dropout=ModalityDropout(seed=1) if kind == "dropout" else None)
    model.compile(keras.optimizers.Adam(0.02), loss={"label": "sparse_categorical_crossentropy"})
    x, y = labelled()
    history = model.fit(x, {"label": y}, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for subset in ({"image": x["image"]}, {"text": x["text"]}, x):
        probs = np.asarray(model(subset)["label"])
        assert probs.shape == (64, 5)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    path = tmp_path / "net.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for subset in ({"image": x["image"]}, x):
        np.testing.assert_allclose(loaded.predict(subset, verbose=0)["label"],
                                   model.predict(subset, verbose=0)["label"], atol=1e-6)


def test_network_rejects_bad_input():
    model = network()
    x, _ = labelled(8)
    with pytest.raises(ValueError, match="every modality"):
        model.build({"image": (None, 5)})
    model(x)
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        model({**x, "audio": x["text"]})
    with pytest.raises(ValueError, match="batch sizes differ"):
        model({"image": x["image"], "text": x["text"][:4]})
    with pytest.raises(ValueError, match="'image'"):
        model({"image": x["image"][:, :, None], "text": x["text"]})
    with pytest.raises(ValueError, match="late"):
        FusionNetwork({"image": VectorEncoder(4)}, "concat", VectorDecoder(2), late=True)


def test_transformer_encoder_ignores_padding_and_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = TransformerTokenEncoder(20, 8, sequence_length=12, heads=2, blocks=2)
    short = np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 2]])
    long = np.concatenate([short, np.zeros((2, 6), int)], axis=1)
    a, b = np.asarray(encoder(short)), np.asarray(encoder(long))
    assert a.shape == (2, 8)
    np.testing.assert_allclose(a, b, atol=1e-5)
    changed = np.asarray(encoder(np.array([[3, 4, 6, 0, 0, 0], [7, 8, 9, 10, 11, 2]])))
    assert not np.allclose(changed[0], a[0])
    np.testing.assert_allclose(changed[1], a[1], atol=1e-5)  # rows are independent
    inputs = keras.Input((12,), dtype="int32")
    model = keras.Model(inputs, encoder(inputs))
    model.save(tmp_path / "t.keras")
    loaded = keras.saving.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(loaded.predict(long, verbose=0), b, atol=1e-5)
    with pytest.raises(ValueError, match="at most 12 tokens"):
        encoder(np.zeros((2, 13), int))
    with pytest.raises(ValueError, match="token ids"):
        encoder(np.zeros((2, 3, 4), int))


def test_audio_encoder_shapes_and_precomputed_spectrogram(tmp_path):
    keras.utils.set_random_seed(0)
    waves = np.random.default_rng(0).normal(0, 0.3, (3, 2000)).astype("float32")
    encoder = AudioEncoder(7)
    out = np.asarray(encoder(waves))
    assert out.shape == (3, 7)
    spec = mel_spectrogram_layer()(waves)
    assert tuple(spec.shape) == (3, MEL_SETTINGS["num_mel_bins"], 1 + 2000 // 64)
    from_spec = AudioEncoder(7, waveform=False)
    from_spec(spec)
    from_spec.set_weights(encoder.get_weights())
    np.testing.assert_allclose(np.asarray(from_spec(spec)), out, atol=1e-5)
    inputs = keras.Input((2000,))
    model = keras.Model(inputs, encoder(inputs))
    model.save(tmp_path / "a.keras")
    loaded = keras.saving.load_model(tmp_path / "a.keras")
    np.testing.assert_allclose(loaded.predict(waves, verbose=0), out, atol=1e-5)
    with pytest.raises(ValueError, match="waveforms"):
        encoder(np.zeros((2, 10, 3), "float32"))


@pytest.mark.parametrize("make", [lambda: fusion.GatedFusion(6),
                                  lambda: fusion.AttentionFusion(6, heads=2)])
def test_an_all_zero_encoding_counts_as_missing(make):
    layer = make()
    x = vectors(("audio", "image", "text"))
    layer(x)
    zeroed = {**x, "image": np.concatenate([np.zeros((1, 5), "float32"), x["image"][1:]])}
    without = np.asarray(layer({"audio": x["audio"], "text": x["text"]}))
    got = np.asarray(layer(zeroed))
    np.testing.assert_allclose(got[0], without[0], atol=1e-5)  # example 0: image dropped
    assert not np.allclose(got[1], without[1], atol=1e-3)  # example 1: image present


@pytest.mark.parametrize("name", sorted(fusion.FUSIONS))
def test_fusion_is_finite_under_mixed_precision_with_a_missing_modality(name):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = fusion.FUSIONS[name]() if name in ("concat", "mean", "tensor") else fusion.FUSIONS[name](8)
        a = np.random.default_rng(0).random((3, 8), dtype=np.float32)
        b = a.copy()
        b[0] = 0.0  # an all-zero encoding: modality missing for example 0
        out = keras.ops.convert_to_numpy(layer({"a": a, "b": b}))
        assert np.isfinite(out).all(), name
    finally:
        keras.mixed_precision.set_global_policy("float32")
