"""Fusion layers: a dict of ``(batch, dim_i)`` modality vectors -> ``(batch, dim)``.

All fusion layers share one contract (see ``Fusion``): they accept a dict
keyed by modality name (or a list, whose items are named ``m0``, ``m1``, ...),
remember at build time which modalities and widths they were built for, and
accept any non-empty subset of those modalities afterwards; how a missing
modality is handled is each layer's documented rule. The chapter
"Modalities and shared spaces" introduces fusion; the knowledge-fusion
chapter compares the layers.
"""

import keras
from keras import layers, ops

from crossmodal.validation import check_modalities, check_rank


def _named(inputs):
    return {f"m{i}": x for i, x in enumerate(inputs)} if isinstance(inputs, (list, tuple)) \
        else inputs


class Fusion(layers.Layer):
    """Base class: validates and orders the modalities, then calls ``fuse``.

    Subclasses implement ``fuse(vectors)`` on a dict ordered as
    ``self.modalities`` that holds only the modalities present in the call,
    and ``output_dim()``.
    """

    def build(self, input_shape):
        shapes = _named(input_shape)
        if not isinstance(shapes, dict) or not shapes:
            raise ValueError(
                f"{self.name}: expected a non-empty dict of modality vectors; got {input_shape}"
            )
        for name, shape in shapes.items():
            check_rank(shape, 2, modality=name, expected="vectors (batch, dim)")
        # dicts are fused in sorted order, so key order never changes the result
        names = list(shapes) if isinstance(input_shape, (list, tuple)) else sorted(shapes)
        self.modalities = names
        self.input_dims = {name: int(shapes[name][-1]) for name in names}

    def call(self, inputs):
        inputs = check_modalities(_named(inputs), self.modalities, owner=self.name)
        for name, x in inputs.items():
            check_rank(x, 2, modality=name, expected="vectors (batch, dim)")
            if x.shape[-1] != self.input_dims[name]:
                raise ValueError(
                    f"{self.name}: modality {name!r} was built with width "
                    f"{self.input_dims[name]}; got shape {tuple(x.shape)}"
                )
        return self.fuse({name: inputs[name] for name in self.modalities if name in inputs})

    def fuse(self, vectors):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        first = next(iter(_named(input_shape).values()))
        return (first[0], self.output_dim())


@keras.saving.register_keras_serializable(package="crossmodal")
class ConcatFusion(Fusion):
    """Early fusion by concatenation: width ``sum(dim_i)``.

    Missing modality: its slot is filled with zeros, so the output width never
    changes (a model trained with modality dropout has seen such zeros).
    """

    def fuse(self, vectors):
        some = next(iter(vectors.values()))
        parts = [
            vectors[name] if name in vectors
            else ops.zeros((ops.shape(some)[0], self.input_dims[name]), dtype=some.dtype)
            for name in self.modalities
        ]
        return ops.concatenate(parts, axis=-1)

    def output_dim(self):
        return sum(self.input_dims.values())


@keras.saving.register_keras_serializable(package="crossmodal")
class MeanFusion(Fusion):
    """Fusion by averaging: all modalities must share one width ``dim``.

    Missing modality: the mean is taken over the modalities present.
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(set(self.input_dims.values())) > 1:
            raise ValueError(
                f"{self.name}: mean fusion needs equal widths; got {self.input_dims}"
            )

    def fuse(self, vectors):
        return ops.mean(ops.stack(list(vectors.values()), axis=0), axis=0)

    def output_dim(self):
        return next(iter(self.input_dims.values()))


FUSIONS = {"concat": ConcatFusion, "mean": MeanFusion}


def get(fusion):
    """A fusion layer from a name in ``FUSIONS`` or a ``Fusion`` instance."""
    if isinstance(fusion, Fusion):
        return fusion
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; choose one of {sorted(FUSIONS)}")
    return FUSIONS[fusion]()
