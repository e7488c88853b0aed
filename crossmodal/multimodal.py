"""The one composition every model shares: a dict of encoders -> modality dropout -> fusion.

``MultimodalEncoder`` encodes each modality it is given, works out which
modalities each example has (``presence``), hides some of them at random in
training (``ModalityDropout``), and fuses what is left into one vector. The
multimodal autoencoder, the cross-modal mapper and the knowledge-fusion
network all start with it; the chapter "Modalities and shared spaces"
introduces the pieces.
"""

import keras
from keras import layers, ops

from crossmodal import fusion as fusion_lib
from crossmodal.dropout import ModalityDropout
from crossmodal.serialization import Composite, serialize
from crossmodal.validation import check_layers, check_modalities


def describe(shape):
    """``(batch, 32, 32, 3)`` for a shape whose first axis is the batch."""
    return "(batch, " + ", ".join(map(str, tuple(shape)[1:])) + ")"


class CheckedInputs:
    """Mixin for models: ``fit``, ``evaluate`` and ``predict`` check dict inputs first.

    Keras reports some mistakes in a dict of inputs late or not at all (dict
    inputs without targets whose batch sizes differ reach a backend error), so
    these check a dict of arrays before Keras sees it: known modality names,
    one number of examples across modalities and targets, and each encoder's
    own ``check_inputs`` (token ids must be integers within the vocabulary).
    The model needs ``modalities`` and ``encoders``.
    """

    def _check_arrays(self, x, y=None):
        if not isinstance(x, dict):
            return
        x = check_modalities(x, self.modalities, owner=self.name)
        for name, array in x.items():
            check = getattr(self.encoders[name], "check_inputs", None)
            if check is not None:
                try:
                    check(array)
                except (TypeError, ValueError) as error:  # say which modality, as codes() does
                    raise type(error)(f"{self.name}: modality {name!r}: {error}") from error
        if isinstance(y, dict) and y:
            n = len(next(iter(x.values())))
            lengths = {k: len(v) for k, v in y.items()}
            if any(length != n for length in lengths.values()):
                raise ValueError(
                    f"{self.name}: the targets must have as many examples as the "
                    f"inputs ({n}); got {lengths}"
                )

    def fit(self, x=None, y=None, *args, **kwargs):
        self._check_arrays(x, y)
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        self._check_arrays(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_arrays(x)
        return super().predict(x, *args, **kwargs)


class EncoderModel(CheckedInputs):
    """Mixin for models that start with a ``MultimodalEncoder``, held as ``self.encoder``.

    Gives them the encoder's ``modalities``, ``encoders``, ``fusion`` and
    ``modality_dropout``, builds the encoder from the first inputs it sees,
    and checks dict inputs in ``fit``, ``evaluate`` and ``predict``.
    """

    @property
    def modalities(self):
        """The input modalities, sorted."""
        return self.encoder.modalities

    @property
    def encoders(self):
        return self.encoder.encoders

    @property
    def fusion(self):
        return self.encoder.fusion

    @property
    def modality_dropout(self):
        return self.encoder.modality_dropout

    def fused(self, inputs, training=None):
        """The encoder's fused vector, building the model on the first call."""
        if not self.built:
            shapes = check_modalities(inputs, self.modalities, owner=self.name)
            self.build({name: tuple(x.shape) for name, x in shapes.items()})
        return self.encoder(inputs, training=training)


@keras.saving.register_keras_serializable(package="crossmodal")
class MultimodalEncoder(Composite, layers.Layer):
    """Dict of modalities -> one fused vector ``(batch, dim)``.

    ``inputs`` is a dict of modality name to batch. Each modality given goes
    through its encoder to a code; the *presence* of each modality is 1 for
    every example, or what the encoder's ``presence`` method says (as
    ``EmptyAsMissing`` does for inputs of zeros); in training,
    ``modality_dropout`` marks some modalities absent per example; the fusion
    layer fuses the codes by its rule for absent modalities. A modality left
    out of the dict is absent for every example.

    Built with every modality (its first call, or ``build`` with a dict of
    shapes); afterwards it accepts any non-empty subset.

    Args:
        encoders: dict of modality name to encoder layer (a batch ->
            ``(batch, dim_i)``; the fusion layer decides which ranks it takes).
        fusion: a ``Fusion`` layer, or a name in ``crossmodal.fusion.FUSIONS``.
        modality_dropout: ``None`` or a ``ModalityDropout`` layer.

    Raises:
        TypeError: if ``encoders`` is not a dict of layers or ``modality_dropout``
            is not a ``ModalityDropout``.
        ValueError: for an empty dict, or a fusion name that does not exist.
    """

    NESTED = ("encoders", "fusion", "modality_dropout")

    def __init__(self, encoders, fusion="concat", modality_dropout=None, **kwargs):
        super().__init__(**kwargs)
        encoders = check_layers(encoders, "encoders")
        if modality_dropout is not None and not isinstance(modality_dropout, ModalityDropout):
            raise TypeError(
                f"modality_dropout must be None or a ModalityDropout layer; got "
                f"{modality_dropout!r}"
            )
        self.modalities = list(encoders)
        self.encoders = encoders
        self.fusion = fusion_lib.get(fusion)
        self.modality_dropout = modality_dropout

    def build(self, input_shape):
        shapes = check_modalities(input_shape, self.modalities, owner=self.name)
        missing = sorted(set(self.modalities) - set(shapes))
        if missing:
            raise ValueError(
                f"{self.name}: build with every modality {self.modalities}; missing {missing}"
            )
        self.input_shapes = {name: tuple(shape) for name, shape in shapes.items()}
        codes = {}
        for name in self.modalities:
            encoder = self.encoders[name]
            try:
                if not encoder.built:  # layers restored from a config arrive built
                    encoder.build(self.input_shapes[name])
                codes[name] = tuple(encoder.compute_output_shape(self.input_shapes[name]))
            except ValueError as error:
                raise ValueError(f"{self.name}: modality {name!r}: {error}") from error
        self.code_shapes = codes
        if self.modality_dropout is not None and not self.modality_dropout.built:
            self.modality_dropout.build({name: (None,) for name in self.modalities})
        if not self.fusion.built:
            self.fusion.build(codes)

    def _check(self, inputs):
        inputs = check_modalities(inputs, self.modalities, owner=self.name)
        if not self.built:
            self.build({name: tuple(x.shape) for name, x in inputs.items()})
        for name, x in inputs.items():
            want = self.input_shapes[name]
            if len(x.shape) != len(want) or any(
                w is not None and g is not None and w != g
                for w, g in zip(want[1:], tuple(x.shape)[1:])
            ):
                raise ValueError(
                    f"{self.name}: modality {name!r} was built for shape {describe(want)}; "
                    f"got shape {tuple(x.shape)}"
                )
        return inputs

    def codes(self, inputs, training=None):
        """The codes of the modalities given and the presence of every modality.

        Returns:
            ``(codes, presence)``: ``codes`` maps each given modality to its
            encoder's output; ``presence`` maps every modality to ``(batch,)``
            float32 (0 for the modalities not given, and, in training, for those
            that modality dropout hides).
        """
        inputs = self._check(inputs)
        codes, given = {}, {}
        for name, x in inputs.items():
            try:
                codes[name] = self.encoders[name](x, training=training)
            except ValueError as error:  # say which modality the encoder was reading
                raise ValueError(f"{self.name}: modality {name!r}: {error}") from error
            present = getattr(self.encoders[name], "presence", None)
            given[name] = (
                ops.ones((ops.shape(x)[0],), "float32")
                if present is None
                else ops.cast(present(x), "float32")
            )
        batch = ops.shape(next(iter(inputs.values())))[0]
        presence = {
            name: given.get(name, ops.zeros((batch,), "float32")) for name in self.modalities
        }
        if self.modality_dropout is not None:
            presence = self.modality_dropout(presence, training=training)
        return codes, presence

    def call(self, inputs, training=None):
        codes, presence = self.codes(inputs, training=training)
        return self.fusion(codes, presence=presence)

    def compute_output_shape(self, input_shape):
        shapes = check_modalities(input_shape, self.modalities, owner=self.name)
        codes = {
            name: tuple(self.encoders[name].compute_output_shape(tuple(shape)))
            for name, shape in shapes.items()
        }
        return self.fusion.compute_output_shape(codes)

    def get_config(self):
        return {
            **super().get_config(),
            "encoders": serialize(self.encoders),
            "fusion": serialize(self.fusion),
            "modality_dropout": serialize(self.modality_dropout),
        }
