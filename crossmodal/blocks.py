"""Small building blocks shared by encoders, fusion layers and decoders."""

from keras import layers, ops


def dense_stack(hidden, name="hidden"):
    """ReLU dense layers of the given widths (the hidden layers of an MLP)."""
    return [layers.Dense(h, activation="relu", name=f"{name}{i}") for i, h in enumerate(hidden)]


def build_in_sequence(stack, input_shape):
    """Build layers that are applied one after another; return the output shape."""
    shape = tuple(input_shape)
    for layer in stack:
        layer.build(shape)
        shape = layer.compute_output_shape(shape)
    return shape


def add_coordinates(features):
    """Append two channels holding each cell's x and y position in ``[-1, 1]``.

    ``(batch, height, width, channels)`` -> ``(batch, height, width, channels + 2)``.
    """
    height, width = features.shape[1], features.shape[2]
    ys = ops.linspace(-1.0, 1.0, height)
    xs = ops.linspace(-1.0, 1.0, width)
    grid = ops.stack(
        [ops.tile(xs[None, :], (height, 1)), ops.tile(ys[:, None], (1, width))], axis=-1
    )
    grid = ops.cast(grid, features.dtype)[None]
    batch = ops.shape(features)[0]
    return ops.concatenate([features, ops.tile(grid, (batch, 1, 1, 1))], axis=-1)
