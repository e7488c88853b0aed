"""Fusion layers: shapes, each rule on hand-computed cases, missing modalities, saving."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal import fusion
from crossmodal.decoders import VectorDecoder

DIMS = {"audio": 3, "image": 5, "text": 4}
EQUAL = {"audio": 4, "image": 4, "text": 4}  # mean fusion needs one width


def _late(rule):
    return lambda: fusion.LateFusion(
        VectorDecoder(3, hidden=(4,), output_activation="softmax"), rule=rule
    )


LAYERS = {
    "concat": lambda: fusion.ConcatFusion(),
    "mean": lambda: fusion.MeanFusion(),
    "gated_softmax": lambda: fusion.GatedFusion(6),
    "gated_sigmoid": lambda: fusion.GatedFusion(6, gate="sigmoid"),
    "tensor": lambda: fusion.TensorFusion(),
    "tensor_projected": lambda: fusion.TensorFusion(dim=6),
    "low_rank": lambda: fusion.LowRankFusion(6, rank=3),
    "attention": lambda: fusion.AttentionFusion(6, num_heads=2),
    "late_mean": _late("mean"),
    "late_product": _late("product"),
}
# rules under which a missing modality is not the same as an all-zero code
READ_PRESENCE = ("mean", "gated_softmax", "gated_sigmoid", "attention", "late_mean", "late_product")


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


def vectors(names, batch=4, seed=0, dims=DIMS):
    rng = np.random.default_rng(seed)
    return {n: rng.normal(size=(batch, dims[n])).astype("float32") for n in names}


def inputs_for(key, names=("audio", "image", "text"), batch=4):
    return vectors(names, batch, dims=EQUAL if key == "mean" else DIMS)


def expected_width(key, names):
    if key == "concat":
        return sum(DIMS[n] for n in names)
    if key == "mean":
        return 4
    if key == "tensor":
        return int(np.prod([DIMS[n] + 1 for n in names]))
    if key.startswith("late"):
        return 3
    return 6


def np_(x):
    return keras.ops.convert_to_numpy(x)


# --- every layer -------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(LAYERS))
@pytest.mark.parametrize("names", [("image", "text"), ("audio", "image", "text")])
def test_output_shape_with_all_and_missing_modalities(key, names):
    layer = LAYERS[key]()
    x = inputs_for(key, names)
    width = expected_width(key, names)
    assert tuple(layer(x).shape) == (4, width)
    assert tuple(layer.compute_output_shape({n: v.shape for n, v in x.items()})) == (4, width)
    out = np_(layer({n: v for n, v in x.items() if n != names[0]}))
    assert out.shape == (4, width) and np.all(np.isfinite(out))


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_leaving_a_modality_out_equals_marking_it_absent(key):
    layer = LAYERS[key]()
    x = inputs_for(key)
    full = np_(layer(x))  # built with every modality
    ones = np.ones(4, "float32")
    left_out = np_(layer({"audio": x["audio"], "text": x["text"]}))
    absent = np_(layer(x, presence={"audio": ones, "image": np.zeros(4, "float32"), "text": ones}))
    np.testing.assert_allclose(absent, left_out, atol=1e-5)
    # per example: image absent for example 0 only
    mixed = np_(layer(x, presence={"image": np.array([0, 1, 1, 1], "float32")}))
    np.testing.assert_allclose(mixed[0], left_out[0], atol=1e-5)
    np.testing.assert_allclose(mixed[1:], full[1:], atol=1e-5)


@pytest.mark.parametrize("key", READ_PRESENCE)
def test_an_all_zero_code_is_present_not_missing(key):
    layer = LAYERS[key]()
    x = inputs_for(key)
    layer(x)
    # non-zero biases, so that a zero code does not map to a neutral value (tanh(0) = 0 under
    # a sigmoid gate; a uniform head under the product rule)
    rng = np.random.default_rng(1)
    for weight in layer.weights:
        if weight.path.endswith("bias"):
            weight.assign(rng.normal(size=weight.shape).astype("float32"))
    zeroed = {**x, "image": np.zeros_like(x["image"])}
    without = np_(layer({"audio": x["audio"], "text": x["text"]}))
    assert not np.allclose(np_(layer(zeroed)), without, atol=1e-4)


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_layer_round_trips_through_keras_file_in_safe_mode(key, tmp_path):
    x = inputs_for(key)
    inputs = {n: keras.Input((v.shape[1],), name=n) for n, v in x.items()}
    model = keras.Model(inputs, LAYERS[key]()(inputs))
    model.save(tmp_path / f"{key}.keras")
    loaded = keras.saving.load_model(tmp_path / f"{key}.keras", safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6
    )


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_bad_input_raises(key):
    layer = LAYERS[key]()
    x = inputs_for(key, ("image", "text"))
    layer(x)
    with pytest.raises(ValueError, match="batch sizes differ"):
        layer({"image": x["image"], "text": x["text"][:2]})
    with pytest.raises(ValueError, match="unknown modality 'sound'"):
        layer({**x, "sound": x["text"]})
    with pytest.raises(ValueError, match="'image'"):
        layer({"image": x["image"][:, :, None], "text": x["text"]})
    with pytest.raises(ValueError, match="unknown modality 'sound'"):
        layer(x, presence={"sound": np.ones(4, "float32")})
    with pytest.raises(ValueError, match="presence of image"):
        layer(x, presence={"image": np.ones((4, 1), "float32")})
    with pytest.raises(TypeError, match="dict"):
        layer(x["image"])
    with pytest.raises(ValueError, match="'image'"):
        LAYERS[key]()({"image": np.zeros((2, 3, 4), "float32"), "text": x["text"][:2]})


@pytest.mark.parametrize("key", sorted(LAYERS))
def test_finite_under_mixed_precision_with_a_missing_modality(key, mixed_float16):
    layer = LAYERS[key]()
    x = inputs_for(key, ("image", "text"))
    out = np_(layer(x, presence={"text": np.array([0, 1, 1, 1], "float32")}))
    assert np.isfinite(out).all()


def test_registry_names_every_vector_layer_and_passes_arguments():
    assert set(fusion.FUSIONS) == {"concat", "mean", "gated", "tensor", "low_rank", "attention"}
    layer = fusion.get("gated", dim=7)
    assert isinstance(layer, fusion.GatedFusion) and layer.dim == 7
    given = fusion.MeanFusion()
    assert fusion.get(given) is given
    with pytest.raises(ValueError, match="unknown fusion"):
        fusion.get("nope")
    with pytest.raises(ValueError, match="apply to a fusion name"):
        fusion.get(given, dim=3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: fusion.GatedFusion(4, gate="relu"), "gate"),
        (lambda: fusion.AttentionFusion(6, num_heads=4), "num_heads must divide dim"),
        (lambda: fusion.LateFusion(VectorDecoder(2), rule="sum"), "rule"),
        (lambda: fusion.LowRankFusion(0), "dim"),
    ],
)
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_late_fusion_needs_a_layer_as_head():
    with pytest.raises(TypeError, match="Keras layer"):
        fusion.LateFusion(lambda z: z)


# --- concat and mean -----------------------------------------------------------------


def test_concat_fills_the_slot_of_a_missing_modality_with_zeros():
    a, b = np.ones((2, 2), "float32"), 2 * np.ones((2, 3), "float32")
    layer = fusion.ConcatFusion()
    np.testing.assert_array_equal(np_(layer({"b": b, "a": a}))[0], [1, 1, 2, 2, 2])
    np.testing.assert_array_equal(np_(layer({"b": b}))[0], [0, 0, 2, 2, 2])
    out = np_(layer({"a": a, "b": b}, presence={"a": np.array([0.0, 1.0], "float32")}))
    np.testing.assert_array_equal(out, [[0, 0, 2, 2, 2], [1, 1, 2, 2, 2]])


def test_mean_averages_the_modalities_present():
    a, b, c = (np.full((2, 3), v, "float32") for v in (1.0, 3.0, 8.0))
    layer = fusion.MeanFusion()
    np.testing.assert_allclose(np_(layer({"a": a, "b": b, "c": c})), 4.0)
    np.testing.assert_allclose(np_(layer({"a": a, "b": b})), 2.0)
    out = np_(layer({"a": a, "b": b, "c": c}, presence={"c": np.array([0.0, 1.0], "float32")}))
    np.testing.assert_allclose(out, [[2.0] * 3, [4.0] * 3])
    zero = np_(layer({"a": a, "b": np.zeros_like(b)}))  # a zero code counts in the mean
    np.testing.assert_allclose(zero, 0.5)
    with pytest.raises(ValueError, match="equal widths"):
        fusion.MeanFusion()({"a": a, "b": np.ones((2, 4), "float32")})


# --- gated --------------------------------------------------------------------------


def _gated_by_hand(layer, x, present):
    """sum_i g_i * tanh(z_i W_i + b_i) with a softmax over the present modalities."""
    z = [x[n] if n in present else np.zeros_like(x[n]) for n in layer.modalities]
    h = np.stack(
        [np.tanh(v @ np_(d.kernel) + np_(d.bias)) for v, d in zip(z, layer.transforms)], axis=1
    )
    logits = np.concatenate(z, axis=1) @ np_(layer.gates.kernel) + np_(layer.gates.bias)
    logits = logits.reshape(len(z[0]), len(z), -1)
    keep = np.array([n in present for n in layer.modalities])[None, :, None]
    e = np.exp(logits - logits.max(axis=1, keepdims=True)) * keep
    g = e / e.sum(axis=1, keepdims=True)
    return (g * h).sum(axis=1), g


@pytest.mark.parametrize("present", [("audio", "image", "text"), ("audio", "text")])
def test_gated_fusion_matches_hand_computation(present):
    layer = fusion.GatedFusion(2)
    x = vectors(("audio", "image", "text"))
    layer(x)
    fused, gates = layer({n: x[n] for n in present}, return_gates=True)
    want, g = _gated_by_hand(layer, x, present)
    np.testing.assert_allclose(np_(gates), g, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(fused), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gate", ["softmax", "sigmoid"])
def test_gates_lie_in_unit_interval_and_a_missing_gate_is_zero(gate):
    layer = fusion.GatedFusion(6, gate=gate)
    x = vectors(("audio", "image", "text"))
    _, gates = layer(x, return_gates=True)
    gates = np_(gates)
    assert gates.shape == (4, 3, 6)
    assert gates.min() >= 0 and gates.max() <= 1
    _, partial = layer({"image": x["image"], "text": x["text"]}, return_gates=True)
    partial = np_(partial)
    np.testing.assert_allclose(partial[:, 0], 0.0, atol=1e-6)  # "audio" is first
    if gate == "softmax":
        np.testing.assert_allclose(gates.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(partial.sum(axis=1), 1.0, atol=1e-5)


# --- tensor and low rank -------------------------------------------------------------


def _with_one(z):
    return np.concatenate([z, np.ones((len(z), 1))], axis=1)


def test_tensor_fusion_is_the_outer_product_and_a_missing_modality_keeps_its_one():
    x = vectors(("image", "text"))
    layer = fusion.TensorFusion()
    out = np_(layer(x))
    a, b = _with_one(x["image"]), _with_one(x["text"])
    np.testing.assert_allclose(out, np.einsum("bi,bj->bij", a, b).reshape(4, -1), rtol=1e-6)
    zero_one = _with_one(np.zeros((4, DIMS["image"])))  # [0; 1] x [z_text; 1]
    np.testing.assert_allclose(
        np_(layer({"text": x["text"]})),
        np.einsum("bi,bj->bij", zero_one, b).reshape(4, -1),
        rtol=1e-6,
    )


@pytest.mark.parametrize("dims", [(3, 4), (3, 4, 5), (2, 2, 2, 2)])
def test_tensor_fusion_width_is_product_of_dims_plus_one(dims):
    layer = fusion.TensorFusion()
    shapes = [(2, d) for d in dims]
    layer([np.zeros(s, "float32") for s in shapes])
    width = int(np.prod([d + 1 for d in dims]))
    assert layer.tensor_dim() == width
    assert layer.compute_output_shape(shapes) == (2, width)


def test_low_rank_has_fewer_parameters_than_tensor_fusion():
    x = [np.zeros((2, 16), "float32")] * 3
    tensor, low = fusion.TensorFusion(dim=32), fusion.LowRankFusion(32, rank=4)
    tensor(x)
    low(x)
    assert tensor.count_params() == 17**3 * 32 + 32
    assert low.count_params() == 4 * 3 * 17 * 32 + 4 + 32


@pytest.mark.parametrize("present", [("image", "text"), ("text",)])
def test_low_rank_with_rank_one_equals_product_of_projections(present):
    layer = fusion.LowRankFusion(3, rank=1)
    x = vectors(("image", "text"))
    layer(x)
    out = np_(layer({n: x[n] for n in present}))
    # a missing modality's z is zeros: only its factor's last row (the 1's) is left
    terms = [
        _with_one(x[n] if n in present else np.zeros_like(x[n])) @ np_(f)[0]
        for n, f in zip(layer.modalities, layer.factors)
    ]
    want = terms[0] * terms[1] * np_(layer.rank_weights)[0] + np_(layer.bias)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)


# --- attention ------------------------------------------------------------------------


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _attention_by_hand(layer, x, present):
    """Project, add the modality embedding, attend over the present keys, normalise, average."""
    names = layer.modalities
    z = [x[n] if n in present else np.zeros_like(x[n]) for n in names]
    tokens = (
        np.stack([v @ np_(p.kernel) + np_(p.bias) for v, p in zip(z, layer.projections)], axis=1)
        + np_(layer.modality_embedding)[None]
    )
    att = layer.attention
    q, k, v = (
        np.einsum("bnd,dhk->bnhk", tokens, np_(d.kernel)) + np_(d.bias)
        for d in (att._query_dense, att._key_dense, att._value_dense)
    )
    scores = np.einsum("bqhk,bKhk->bhqK", q, k) / np.sqrt(q.shape[-1])
    keep = np.array([n in present for n in names])
    weights = _softmax(np.where(keep[None, None, None, :], scores, -np.inf))
    attended = np.einsum("bhqK,bKhk->bqhk", weights, v)
    attended = np.einsum("bqhk,hkd->bqd", attended, np_(att._output_dense.kernel))
    y = tokens + attended + np_(att._output_dense.bias)
    y = (y - y.mean(-1, keepdims=True)) / np.sqrt(y.var(-1, keepdims=True) + layer.norm.epsilon)
    y = y * np_(layer.norm.gamma) + np_(layer.norm.beta)
    return y[:, keep].mean(axis=1), weights


@pytest.mark.parametrize("present", [("audio", "image", "text"), ("audio", "text")])
def test_attention_fusion_matches_hand_computation(present):
    layer = fusion.AttentionFusion(6, num_heads=2)
    x = vectors(("audio", "image", "text"))
    layer(x)
    fused, weights = layer({n: x[n] for n in present}, return_attention=True)
    want, want_weights = _attention_by_hand(layer, x, present)
    np.testing.assert_allclose(np_(weights), want_weights, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_(fused), want, rtol=1e-4, atol=1e-5)


def test_attention_weights_sum_to_one_and_skip_a_missing_key():
    layer = fusion.AttentionFusion(6, num_heads=2)
    x = vectors(("audio", "image", "text"))
    _, weights = layer(x, return_attention=True)
    assert tuple(weights.shape) == (4, 2, 3, 3)
    np.testing.assert_allclose(np_(weights).sum(axis=-1), 1.0, atol=1e-5)
    _, partial = layer({"audio": x["audio"], "text": x["text"]}, return_attention=True)
    partial = np_(partial)
    np.testing.assert_allclose(partial[..., 1], 0.0, atol=1e-6)  # "image" is masked
    np.testing.assert_allclose(partial.sum(axis=-1), 1.0, atol=1e-5)


# --- late fusion --------------------------------------------------------------------

P_A = np.array([0.5, 0.3, 0.2])
P_B = np.array([0.2, 0.2, 0.6])


def _fixed_late(rule):
    """Late fusion whose heads ignore their input: modality a predicts P_A, b predicts P_B."""
    layer = fusion.LateFusion(VectorDecoder(3, hidden=(), output_activation="softmax"), rule=rule)
    x = vectors(("image", "text"), batch=3)
    x = {"a": x["image"][:, :4], "b": x["text"]}
    layer(x)
    for head, p in zip(layer.heads, (P_A, P_B)):  # heads in the order of layer.modalities
        head.out.kernel.assign(np.zeros(head.out.kernel.shape, "float32"))
        head.out.bias.assign(np.log(p).astype("float32"))
    return layer, x


@pytest.mark.parametrize(
    "rule, both",
    [
        ("mean", np.array([0.35, 0.25, 0.4])),  # the average of P_A and P_B
        ("product", np.array([0.1, 0.06, 0.12]) / 0.28),  # P_A * P_B, normalised
    ],
)
def test_late_fusion_rules_on_a_hand_computed_case(rule, both):
    layer, x = _fixed_late(rule)
    assert layer.modalities == ["a", "b"]
    np.testing.assert_allclose(np_(layer(x)), np.tile(both, (3, 1)), rtol=1e-5)
    # a missing modality leaves the rule; with none present the prediction is uniform
    np.testing.assert_allclose(np_(layer({"a": x["a"]})), np.tile(P_A, (3, 1)), rtol=1e-5)
    out = np_(
        layer(
            x, presence={"a": np.array([1, 0, 0], "float32"), "b": np.array([1, 1, 0], "float32")}
        )
    )
    np.testing.assert_allclose(out, [both, P_B, np.full(3, 1 / 3)], rtol=1e-5)


def test_late_fusion_gives_each_modality_its_own_copy_of_the_head():
    layer = fusion.LateFusion(VectorDecoder(3, hidden=(4,), output_activation="softmax"))
    layer(vectors(("image", "text")))
    assert len(layer.heads) == 2 and layer.heads[0] is not layer.heads[1]
    assert [h.dense[0].kernel.shape for h in layer.heads] == [(5, 4), (4, 4)]
    assert not np.allclose(np_(layer.heads[0].out.kernel), np_(layer.heads[1].out.kernel))
