"""Models composed from encoders, fusion layers and decoders.

Each model takes a dict of modalities and returns a dict; all are registered
Keras models that save and load as ``.keras``. ``reasoning`` builds the
question-answering models as ``FusionNetwork`` instances.
"""

from crossmodal.models import reasoning
from crossmodal.models.autoencoder import MultimodalAutoencoder
from crossmodal.models.dual_encoder import DualEncoder
from crossmodal.models.fusion_network import FusionNetwork
from crossmodal.models.mapping import CrossModalMapper

__all__ = ["CrossModalMapper", "DualEncoder", "FusionNetwork", "MultimodalAutoencoder", "reasoning"]
