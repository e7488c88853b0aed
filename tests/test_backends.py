"""The package's layers and models also run under the JAX backend (CPU).

Keras picks its backend once per process, so the check runs in a fresh
Python process with ``KERAS_BACKEND=jax``: for each model family it builds a
small model, trains a few steps (the loss must fall), saves it, loads it in
safe mode and compares predictions.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import keras
    assert keras.backend.backend() == "jax", keras.backend.backend()
    import crossmodal as cm
    from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
    from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
    from crossmodal.models import (ConcatVQA, CrossModalMapper, DualEncoder, FiLMNetwork,
                                   FusionNetwork, MultimodalAutoencoder, QuestionOnly,
                                   RelationNetwork)

    rng = np.random.default_rng(0)
    n = 32
    images = rng.random((n, 16, 16, 3), dtype=np.float32)
    tokens = rng.integers(2, 20, size=(n, 6))
    vectors = rng.random((n, 12), dtype=np.float32)
    labels = rng.integers(0, 3, size=n)
    answers = rng.integers(0, len(cm.datasets.ANSWERS), size=n)

    def pieces():
        image = keras.Input((16, 16, 3), name="image")
        caption = keras.Input((6,), dtype="int32", name="caption")
        z = cm.fusion.ConcatFusion()({"image": ImageEncoder(8)(image),
                                      "caption": TokenEncoder(20, 8)(caption)})
        out = VectorDecoder(3, output_activation="softmax")(z)
        return keras.Model({"image": image, "caption": caption}, out)

    xe = "sparse_categorical_crossentropy"
    families = {
        "pieces": (pieces, {"image": images, "caption": tokens}, labels, {"loss": xe}),
        "autoencoder": (
            lambda: MultimodalAutoencoder(
                {"image": ImageEncoder(8), "caption": TokenEncoder(20, 8)},
                {"image": ImageDecoder((16, 16, 3)), "caption": TokenDecoder(20, 6)},
                latent_dim=8, modality_dropout=[["image"], ["caption"], ["caption", "image"]]),
            {"image": images, "caption": tokens}, {"image": images, "caption": tokens},
            {"loss": {"image": "mse", "caption": xe}}),
        "mapper": (
            lambda: CrossModalMapper("caption", "vector", TokenEncoder(20, 8),
                                     VectorDecoder(12), latent_dim=8),
            {"caption": tokens}, {"vector": vectors}, {"loss": {"vector": "mse"}}),
        "dual encoder": (
            lambda: DualEncoder({"image": ImageEncoder(8), "caption": TokenEncoder(20, 8)}, 4),
            {"image": images, "caption": tokens}, None, {}),
        "fusion network": (
            lambda: FusionNetwork({"image": ImageEncoder(8), "vector": VectorEncoder(8)},
                                  "gated",
                                  VectorDecoder(3, output_activation="softmax")),
            {"image": images, "vector": vectors}, {"label": labels}, {"loss": xe}),
    }
    for name, model in (("question only", QuestionOnly), ("concat VQA", ConcatVQA),
                        ("FiLM", FiLMNetwork), ("relation network", RelationNetwork)):
        families[name] = (lambda model=model: model(VectorEncoder(8)),
                          {"image": images, "question": vectors}, answers, {"loss": xe})

    for name, (build, x, y, kwargs) in families.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(3e-3), **kwargs)
        history = model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["loss"]
        assert history[-1] < history[0], (name, history)
        before = model.predict(x, verbose=0)
        path = os.path.join(sys.argv[1], name.replace(" ", "_") + ".keras")
        model.save(path)
        after = keras.saving.load_model(path).predict(x, verbose=0)
        for a, b in zip(keras.tree.flatten(before), keras.tree.flatten(after)):
            np.testing.assert_allclose(b, a, atol=1e-5, err_msg=name)
        print("ok", name, flush=True)
""")


def test_every_model_family_trains_saves_and_loads_under_jax(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    done = [line[3:] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert len(done) == 9, done
