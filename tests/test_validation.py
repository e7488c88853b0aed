"""The input checks every layer and model shares (crossmodal.validation)."""

import keras
import numpy as np
import pytest

import crossmodal  # noqa: F401  (sets the Keras backend)
from crossmodal.validation import (
    check_choice,
    check_int,
    check_ints,
    check_layers,
    check_modalities,
    check_number,
    check_rank,
    check_token_ids,
    dtype_name,
)


def test_check_rank_names_the_input_and_its_layout():
    check_rank((None, 4), 2, what="caption", expected="token ids (batch, length)")
    check_rank(np.zeros((2, 3, 4)), 3, what="x", expected="anything")
    with pytest.raises(
        ValueError,
        match=r"'caption': expected token ids \(batch, length\); "
        r"got shape \(2, 3, 1\)",
    ):
        check_rank(np.zeros((2, 3, 1)), 2, what="caption", expected="token ids (batch, length)")


def test_check_modalities_sorts_and_checks_the_dict():
    a, b = np.zeros((3, 2)), np.zeros((3, 5))
    assert list(check_modalities({"b": b, "a": a}, owner="m")) == ["a", "b"]
    assert check_modalities({"a": (None, 2), "b": (3, 5)}, owner="m")  # shapes; None not compared
    with pytest.raises(TypeError, match="m: expected a dict"):
        check_modalities([a, b], owner="m")
    with pytest.raises(ValueError, match="empty dict"):
        check_modalities({}, owner="m")
    with pytest.raises(ValueError, match=r"unknown modality 'c'; this model knows \['a', 'b'\]"):
        check_modalities({"c": a}, ["a", "b"], owner="m")
    with pytest.raises(ValueError, match="batch sizes differ"):
        check_modalities({"a": a, "b": b[:2]}, owner="m")


def test_check_layers_sorts_and_names_a_wrong_entry():
    a, b = keras.layers.Dense(2), keras.layers.Dense(3)
    assert list(check_layers({"b": b, "a": a}, "encoders")) == ["a", "b"]
    with pytest.raises(TypeError, match="encoders must be a dict"):
        check_layers([a, b], "encoders")
    with pytest.raises(ValueError, match=r"at least 2 modalities; got \['a'\]"):
        check_layers({"a": a}, "encoders", minimum=2)
    with pytest.raises(TypeError, match=r"decoders\['b'\] must be a Keras layer; got str"):
        check_layers({"a": a, "b": "dense"}, "decoders")


def test_number_checks():
    assert check_int(np.int64(3), "n") == 3 and type(check_int(np.int64(3), "n")) is int
    assert check_int(0, "n", minimum=0) == 0
    assert check_ints([1, 2], "filters") == (1, 2)
    assert check_number(1, "rate", at_least=0.0, below=1.5) == 1.0
    assert check_choice("gru", "cell", ("gru", "lstm")) == "gru"


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: check_int(True, "n"), TypeError, "n must be an integer"),
        (lambda: check_int(2.0, "n"), TypeError, "n must be an integer"),
        (lambda: check_int(0, "n"), ValueError, "n must be >= 1; got 0"),
        (lambda: check_ints(3, "filters"), TypeError, "sequence of integers"),
        (lambda: check_ints("16", "filters"), TypeError, "sequence of integers"),
        (lambda: check_ints((4, 0), "filters"), ValueError, r"filters\[1\] must be >= 1"),
        (lambda: check_number("a", "rate"), TypeError, "rate must be a number"),
        (lambda: check_number(float("nan"), "rate"), ValueError, "finite"),
        (lambda: check_number(0.0, "t", above=0.0), ValueError, "t must be > 0.0"),
        (lambda: check_number(1.0, "p", below=1.0), ValueError, "p must be < 1.0"),
        (lambda: check_number(2.0, "p", at_most=1.0), ValueError, "p must be <= 1.0"),
        (lambda: check_number(-1.0, "p", at_least=0.0), ValueError, "p must be >= 0.0"),
        (
            lambda: check_choice("rnn", "cell", ("gru", "lstm")),
            ValueError,
            r"cell must be one of \['gru', 'lstm'\]; got 'rnn'",
        ),
    ],
)
def test_bad_values_raise_with_the_argument_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_dtype_name_of_arrays_and_tensors():
    assert dtype_name(np.zeros(2, "int32")) == "int32"
    assert dtype_name([1.5]) == "float64"
    assert dtype_name(keras.ops.ones((2,), "float16")) == "float16"


def test_token_ids_must_be_integers_within_the_vocabulary():
    check_token_ids(np.array([[0, 4, 9]]), "caption", 10)
    check_token_ids(keras.ops.convert_to_tensor(np.array([[99]])), "caption", 10)  # dtype only
    with pytest.raises(TypeError, match="'caption': expected integer token ids; got dtype float32"):
        check_token_ids(np.zeros((1, 3), "float32"), "caption", 10)
    with pytest.raises(ValueError, match=r"in \[0, 10\); got ids from -1 to 3"):
        check_token_ids(np.array([[-1, 3]]), "caption", 10)
    with pytest.raises(ValueError, match=r"got ids from 0 to 10"):
        check_token_ids(np.array([[0, 10]]), "caption", 10)
