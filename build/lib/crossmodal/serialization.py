"""Saving layers and models that hold other layers: one ``from_config`` for all of them.

A composite layer (a model of encoders, a fusion layer holding heads) lists
the constructor arguments that hold layers in ``NESTED``; ``serialize``
turns such a value (a layer, a dict or list of layers, or ``None``) into its
config in ``get_config``, and ``Composite.from_config`` turns it back, so
``model.save("x.keras")`` and ``keras.saving.load_model`` round-trip in safe
mode.
"""

import keras


def serialize(value):
    """A layer, a dict or list of layers, or a plain value, as config."""
    if isinstance(value, keras.layers.Layer):
        return keras.saving.serialize_keras_object(value)
    if isinstance(value, dict):
        return {key: serialize(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [serialize(item) for item in value]
    return value


def _is_serialized_object(value):
    return isinstance(value, dict) and "class_name" in value and "config" in value


def deserialize(value):
    """The inverse of ``serialize``."""
    if _is_serialized_object(value):
        return keras.saving.deserialize_keras_object(value)
    if isinstance(value, dict):
        return {key: deserialize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deserialize(item) for item in value]
    return value


class Composite:
    """Mixin for layers and models whose constructor takes layers (named in ``NESTED``)."""

    NESTED = ()

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.NESTED:
            if name in config:
                config[name] = deserialize(config[name])
        return cls(**config)
