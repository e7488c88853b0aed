"""The package's layers and models also run under the JAX and PyTorch backends (CPU).

Keras picks its backend once per process, so the check runs in a fresh
Python process with ``KERAS_BACKEND`` set (a backend that is not installed is
skipped): for each model family it builds a
small model, trains a few steps on the package's ``PyDataset`` batches (the
loss must fall), saves it, loads it in safe mode and compares predictions;
``runtime.strategy`` must refuse the backend.
"""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import keras
    assert keras.backend.backend() == os.environ["KERAS_BACKEND"], keras.backend.backend()
    import crossmodal as cm
    from crossmodal.decoders import ImageDecoder, TokenDecoder, VectorDecoder
    from crossmodal.dropout import EmptyAsMissing, ModalityDropout
    from crossmodal.encoders import ImageEncoder, TokenEncoder, VectorEncoder
    from crossmodal.fusion import LateFusion
    from crossmodal.generation import CaptionGenerator, ConditionalVAE, previous_tokens
    from crossmodal.models import (CrossModalMapper, DualEncoder, FusionNetwork,
                                   MultimodalAutoencoder, reasoning)

    try:
        cm.runtime.strategy()
        raise AssertionError("strategy() must refuse a backend other than TensorFlow")
    except ValueError as error:
        assert "TensorFlow" in str(error), error

    rng = np.random.default_rng(0)
    n = 32
    images = rng.random((n, 16, 16, 3), dtype=np.float32)
    tokens = rng.integers(2, 20, size=(n, 6)).astype("int32")
    sparse = tokens.copy()
    sparse[::4] = 0  # some captions missing
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

    def generator():
        inputs = {"code": keras.Input((12,), name="code"),
                  "previous": keras.Input((None,), dtype="int32", name="previous")}
        return keras.Model(inputs, CaptionGenerator(20, units=16, embedding_dim=8)(inputs))

    def head():
        return VectorDecoder(3, output_activation="softmax")

    xe = "sparse_categorical_crossentropy"
    both = {"image": images, "caption": tokens}
    families = {
        "pieces": (pieces, both, labels, {"loss": xe}),
        "autoencoder": (
            lambda: MultimodalAutoencoder(
                {"image": ImageEncoder(8), "caption": TokenEncoder(20, 8)},
                {"image": ImageDecoder((16, 16, 3)), "caption": TokenDecoder(20, 6)},
                latent_dim=8, modality_dropout=ModalityDropout(seed=0)),
            both, both, {"loss": {"image": "mse", "caption": xe}}),
        "mapper": (
            lambda: CrossModalMapper({"caption": TokenEncoder(20, 8)},
                                     {"vector": VectorDecoder(12)}, latent_dim=8),
            {"caption": tokens}, {"vector": vectors}, {"loss": {"vector": "mse"}}),
        "dual encoder": (
            lambda: DualEncoder({"image": ImageEncoder(8), "caption": TokenEncoder(20, 8)},
                                projection_dim=4),
            both, None, {}),
        "fusion network": (
            lambda: FusionNetwork({"image": ImageEncoder(8),
                                   "caption": EmptyAsMissing(TokenEncoder(20, 8))},
                                  "gated", head(), modality_dropout=ModalityDropout(seed=1)),
            {"image": images, "caption": sparse}, {"label": labels}, {"loss": xe}),
        "late fusion": (
            lambda: FusionNetwork({"image": ImageEncoder(8), "vector": VectorEncoder(8)},
                                  LateFusion(head(), rule="product")),
            {"image": images, "vector": vectors}, {"label": labels}, {"loss": xe}),
        "caption generator": (
            generator, {"code": vectors, "previous": previous_tokens(tokens)}, tokens,
            {"loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True)}),
        "conditional vae": (
            lambda: ConditionalVAE({"image": ImageEncoder(8), "caption": TokenEncoder(20, 8)},
                                   ImageDecoder((16, 16, 3)), latent_dim=4, seed=0),
            both, {"image": images}, {"loss": {"image": "mse"}}),
        "question only": (
            lambda: reasoning.question_only(VectorEncoder(8), len(cm.datasets.ANSWERS),
                                            hidden=(16,)),
            {"question": vectors}, {"answer": answers}, {"loss": xe}),
    }
    sizes = {"concat_network": {"filters": (8, 8), "hidden": (16,)},
             "film_network": {"filters": (8, 8), "hidden": (16,)},
             "relation_network": {"stem": (8, 8), "relation": (16,), "hidden": (16,)}}
    for name, kwargs in sizes.items():
        families[name] = (
            lambda name=name, kwargs=kwargs: getattr(reasoning, name)(
                VectorEncoder(8), len(cm.datasets.ANSWERS), **kwargs),
            {"image": images, "question": vectors}, {"answer": answers}, {"loss": xe})

    for name, (build, x, y, kwargs) in families.items():
        keras.utils.set_random_seed(0)
        model = build()
        model.compile(optimizer=keras.optimizers.Adam(3e-3), **kwargs)
        data = cm.datasets.to_dataset(x, y, batch_size=16, seed=0)  # a PyDataset
        history = model.fit(data, epochs=4, verbose=0).history["loss"]
        assert history[-1] < history[0], (name, history)
        before = model.predict(x, verbose=0)
        path = os.path.join(sys.argv[1], name.replace(" ", "_") + ".keras")
        model.save(path)
        after = keras.saving.load_model(path, safe_mode=True).predict(x, verbose=0)
        for a, b in zip(keras.tree.flatten(before), keras.tree.flatten(after)):
            np.testing.assert_allclose(b, a, atol=1e-5, err_msg=name)
        print("ok", name, flush=True)
""")
FAMILIES = 12


@pytest.mark.parametrize("backend, package", [("jax", "jax"), ("torch", "torch")])
def test_every_model_family_trains_saves_and_loads(backend, package, tmp_path):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed")
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "JAX_PLATFORMS": "cpu",
        "CUDA_VISIBLE_DEVICES": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    done = [line[3:] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert len(done) == FAMILIES, done
