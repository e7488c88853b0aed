"""Losses of the course that Keras does not ship.

``contrastive_loss`` is the symmetric InfoNCE loss that aligns two modalities
in one space (CLIP); the chapter "Cross-modal mapping and alignment" derives it.
"""

import numbers

from keras import ops

from crossmodal.validation import check_number


def contrastive_loss(a, b, temperature):
    """Symmetric InfoNCE loss of a batch of matching pairs.

    Row ``i`` of ``a`` and row ``i`` of ``b`` are a matching pair; every other
    row of the batch is a negative. With ``S = a @ b.T / temperature`` the loss
    is the mean of the cross-entropy of each row of ``S`` (``a`` -> ``b``) and
    each column (``b`` -> ``a``) against the diagonal.

    Args:
        a: ``(batch, d)`` L2-normalised embeddings of the first modality.
        b: ``(batch, d)`` L2-normalised embeddings of the second modality.
        temperature: positive scalar (float or tensor) dividing the cosine
            similarities.

    Returns:
        The loss, a scalar; ``log(batch)`` when all similarities are equal,
        near 0 when each row matches only its partner at a low temperature.

    Raises:
        ValueError: if ``a`` and ``b`` are not both ``(batch, d)`` with the
            same shape, or a number ``temperature`` is not above 0 (a tensor,
            such as a learned temperature, is not checked).
    """
    if isinstance(temperature, numbers.Real):
        check_number(temperature, "temperature", above=0.0)
    if len(a.shape) != 2 or tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"contrastive_loss expects two (batch, d) arrays of the same shape; "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    a = ops.convert_to_tensor(a, "float32")
    b = ops.convert_to_tensor(b, "float32")
    logits = ops.matmul(a, ops.transpose(b)) / ops.cast(temperature, "float32")
    a_to_b = -ops.diagonal(ops.log_softmax(logits, axis=1))
    b_to_a = -ops.diagonal(ops.log_softmax(logits, axis=0))
    return 0.5 * (ops.mean(a_to_b) + ops.mean(b_to_a))
