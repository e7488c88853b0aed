"""Fixtures shared by the unit tests."""

import keras
import pytest


@pytest.fixture
def keep_policy():
    """Restore the global dtype policy after the test, whatever the test set."""
    previous = keras.mixed_precision.global_policy()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture
def mixed_float16(keep_policy):
    """Run a test under the ``mixed_float16`` global policy (restored afterwards)."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
