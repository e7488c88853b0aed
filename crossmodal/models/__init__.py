"""Models composed from encoders, fusion layers and decoders.

Each model takes a dict of modalities and returns a dict (or a prediction);
all are registered Keras models that save and load as ``.keras``.
"""

from crossmodal.models.autoencoder import MultimodalAutoencoder
from crossmodal.models.dual_encoder import DualEncoder
from crossmodal.models.fusion_network import FusionNetwork
from crossmodal.models.mapping import CrossModalMapper
from crossmodal.models.reasoning import ConcatVQA, FiLMNetwork, QuestionOnly, RelationNetwork

__all__ = ["ConcatVQA", "CrossModalMapper", "DualEncoder", "FiLMNetwork", "FusionNetwork",
           "MultimodalAutoencoder", "QuestionOnly", "RelationNetwork"]
