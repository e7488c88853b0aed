"""Input checks shared by every layer, model and function: clear errors, early.

A wrong type raises ``TypeError`` and a value outside what is allowed
``ValueError``; both name the argument (or the modality) and say what is
allowed. Shape checks use static shapes, so they run once while a model is
traced and cost nothing per step. A batch size of ``None`` (unknown) is not
compared.
"""

import math
import numbers

import numpy as np


def _shape(x):
    """The shape of a tensor, or ``x`` itself when it already is a shape."""
    return tuple(getattr(x, "shape", x))


def check_rank(x, rank, *, what, expected):
    """Raise unless ``x`` (a tensor or a shape) has ``rank`` axes.

    ``what`` names the input in the message (a modality, a layer) and
    ``expected`` describes its layout, e.g. ``"images (batch, height, width, channels)"``.
    """
    if len(_shape(x)) != rank:
        raise ValueError(f"{what!r}: expected {expected}; got shape {_shape(x)}")


def check_int(value, name, *, minimum=1):
    """Return ``value`` as an ``int``, or raise: not an integer, or below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def check_ints(values, name, *, minimum=1):
    """A tuple of integers, each at least ``minimum`` (e.g. the widths of hidden layers)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a sequence of integers; got {values!r}")
    return tuple(check_int(v, f"{name}[{i}]", minimum=minimum) for i, v in enumerate(values))


def check_number(value, name, *, above=None, at_least=None, below=None, at_most=None):
    """Return ``value`` as a finite ``float`` within the given bounds, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    for bound, fails, word in (
        (above, lambda b: value <= b, ">"),
        (at_least, lambda b: value < b, ">="),
        (below, lambda b: value >= b, "<"),
        (at_most, lambda b: value > b, "<="),
    ):
        if bound is not None and fails(bound):
            raise ValueError(f"{name} must be {word} {bound}; got {value}")
    return value


def check_choice(value, name, choices):
    """Return ``value`` if it is one of ``choices``, or raise ``ValueError``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}; got {value!r}")
    return value


def dtype_name(x):
    """The dtype of an array or tensor of any backend as a string, e.g. ``"int32"``."""
    import keras

    return keras.backend.standardize_dtype(getattr(x, "dtype", None) or np.asarray(x).dtype)


def check_token_ids(tokens, what, vocabulary_size=None):
    """Raise unless ``tokens`` holds integer ids (and, for NumPy arrays, ids in the vocabulary).

    A tensor's values are not known while a model is traced, so only the dtype
    of a tensor is checked; a NumPy array (what ``fit`` and ``predict`` are
    usually given) is checked value by value.
    """
    dtype = dtype_name(tokens)
    if not dtype.startswith(("int", "uint")):
        raise TypeError(f"{what!r}: expected integer token ids; got dtype {dtype}")
    if vocabulary_size is not None and isinstance(tokens, np.ndarray) and tokens.size:
        if tokens.min() < 0 or tokens.max() >= vocabulary_size:
            raise ValueError(
                f"{what!r}: token ids must lie in [0, {vocabulary_size}); got ids "
                f"from {tokens.min()} to {tokens.max()}"
            )


def check_layers(layers, name, *, minimum=1):
    """Return ``layers`` sorted by modality name, or raise: not a dict of Keras layers, or too few.

    ``name`` is the argument's name, e.g. ``"encoders"``; the message for a
    wrong entry names its modality.
    """
    import keras

    if not isinstance(layers, dict):
        raise TypeError(
            f"{name} must be a dict of modality name to layer; got {type(layers).__name__}"
        )
    if len(layers) < minimum:
        raise ValueError(
            f"{name} must hold at least {minimum} modalit"
            f"{'y' if minimum == 1 else 'ies'}; got {sorted(layers)}"
        )
    for modality, layer in layers.items():
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"{name}[{modality!r}] must be a Keras layer; got {type(layer).__name__}"
            )
    return {modality: layers[modality] for modality in sorted(layers)}


def check_modalities(inputs, known=None, *, owner):
    """Check a dict of modality tensors and return it with sorted keys.

    Args:
        inputs: dict of modality name to tensor (batch first), or to its shape
            (as ``build`` receives them).
        known: names the owner was built for, or ``None`` to accept any.
        owner: the layer or model name used in the messages.

    Raises:
        TypeError: for anything but a dict.
        ValueError: for an empty dict, an unknown modality, or batch sizes
            that differ between modalities.
    """
    if not isinstance(inputs, dict):
        raise TypeError(
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
