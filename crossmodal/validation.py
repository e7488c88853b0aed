"""Input checks shared by every layer and model: clear ``ValueError`` messages.

The checks use static shapes, so they run once while a model is traced and
cost nothing per step. A batch size of ``None`` (unknown) is not compared.
"""


def _shape(x):
    """The shape of a tensor, or ``x`` itself when it already is a shape."""
    return tuple(getattr(x, "shape", x))


def check_rank(x, rank, *, modality, expected):
    """Raise unless ``x`` (a tensor or a shape) has ``rank`` axes.

    ``modality`` names the input in the message and ``expected`` describes
    its layout, e.g. ``"images (batch, height, width, channels)"``.
    """
    if len(_shape(x)) != rank:
        raise ValueError(
            f"{modality!r}: expected {expected}; got shape {_shape(x)}"
        )


def check_modalities(inputs, known=None, *, owner):
    """Check a dict of modality tensors and return it with sorted keys.

    Args:
        inputs: dict of modality name to tensor (batch first), or to its shape
            (as ``build`` receives them).
        known: names the owner was built for, or ``None`` to accept any.
        owner: the layer or model name used in the messages.

    Raises:
        ValueError: for a non-dict or empty input, an unknown modality, or
            batch sizes that differ between modalities.
    """
    if not isinstance(inputs, dict):
        raise ValueError(
            f"{owner}: expected a dict of modality name to tensor; got {type(inputs).__name__}"
        )
    if not inputs:
        raise ValueError(f"{owner}: got an empty dict; give at least one modality")
    if known is not None:
        unknown = sorted(set(inputs) - set(known))
        if unknown:
            raise ValueError(
                f"{owner}: unknown modality {unknown[0]!r}; this model knows {sorted(known)}"
            )
    batches = {name: _shape(x)[0] for name, x in inputs.items() if _shape(x)[0] is not None}
    if len(set(batches.values())) > 1:
        shapes = {name: _shape(x) for name, x in inputs.items()}
        raise ValueError(f"{owner}: batch sizes differ between modalities; got shapes {shapes}")
    return {name: inputs[name] for name in sorted(inputs)}
