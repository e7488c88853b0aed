"""Models composed from encoders, fusion layers and decoders.

Each model takes a dict of modalities and returns a dict (or a prediction);
all are registered Keras models that save and load as ``.keras``.
"""

__all__ = []
