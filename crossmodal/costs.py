"""What the fusion layers cost: weights and the memory of their training state.

The fusion benchmark (``benchmarks/fusion.py``) compares every fusion layer in one small
network, ``fusion -> Dense(32) -> Dense(10)``. ``parameters(kind, n, d)`` counts that
network's weights for ``n`` modalities of width ``d`` without training it;
``training_state_bytes`` turns a count into the memory Adam's training state needs.
Both are deterministic. Timings are not: they are measured by the benchmark scripts and
shipped with the package, and :func:`crossmodal.records.rows` reads them back.
"""

KINDS = ("concat", "gated", "tensor", "low_rank", "attention")
"""The fusion layers the benchmark compares (mean fusion has no weights)."""

ARGUMENTS = {
    "gated": {"dim": 32},
    "low_rank": {"dim": 32, "rank": 4},
    "attention": {"dim": 32, "num_heads": 2},
}
"""The benchmark's settings for each layer (32 fused units where the layer has a width)."""

HEAD = (32, 10)
"""The dense layers after the fusion layer (32 hidden units, 10 outputs)."""


def fusion_layer(kind, n, d):
    """The benchmark's fusion layer of ``kind``, built for ``n`` inputs of width ``d``."""
    from crossmodal import fusion

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if n < 1 or d < 1:
        raise ValueError(f"need at least one modality of width 1; got n={n}, d={d}")
    layer = fusion.get(kind, **ARGUMENTS.get(kind, {}))
    layer.build([(None, d)] * n)
    return layer


def head_parameters(width):
    """Weights of the dense layers after a fusion layer whose output has ``width`` units."""
    hidden, outputs = HEAD
    return (width + 1) * hidden + (hidden + 1) * outputs


def with_head(layer):
    """Weights of a built fusion ``layer`` plus the dense layers after it (not built)."""
    width = layer.compute_output_shape([(None, d) for d in layer.input_dims.values()])[-1]
    return layer.count_params() + head_parameters(width)


def parameters(kind, n, d):
    """Weights of the benchmark's network ``fusion -> Dense(32) -> Dense(10)``, untrained."""
    return with_head(fusion_layer(kind, n, d))


def training_state_bytes(weights, *, bytes_per_number=4, copies=4):
    """Memory of a training state with Adam: weight, gradient and two moments per weight."""
    return bytes_per_number * copies * int(weights)
