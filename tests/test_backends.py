"""The package's layers and models also run under the JAX backend (CPU).

Keras picks its backend once per process, so each check runs in a fresh
Python process with ``KERAS_BACKEND=jax``: build, train a few steps, save,
load, and compare predictions.
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

    rng = np.random.default_rng(0)
    n = 32
    images = rng.random((n, 32, 32, 3), dtype=np.float32)
    tokens = rng.integers(2, 20, size=(n, 6))
    labels = rng.integers(0, 3, size=n)

    def pieces():
        image = keras.Input((32, 32, 3), name="image")
        caption = keras.Input((6,), dtype="int32", name="caption")
        z = cm.fusion.get(sys.argv[1])({
            "image": cm.encoders.ImageEncoder(8)(image),
            "caption": cm.encoders.TokenEncoder(20, 8)(caption)})
        out = cm.decoders.VectorDecoder(3, output_activation="softmax")(z)
        model = keras.Model({"image": image, "caption": caption}, out)
        model.compile("adam", "sparse_categorical_crossentropy")
        return model, {"image": images, "caption": tokens}, labels

    model, x, y = pieces()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0], history.history
    before = model.predict(x, verbose=0)
    path = os.path.join(sys.argv[2], "model.keras")
    model.save(path)
    after = keras.saving.load_model(path).predict(x, verbose=0)
    np.testing.assert_allclose(after, before, atol=1e-5)
    print("ok")
""")


@pytest.mark.parametrize("fusion", ["concat", "mean"])
def test_pieces_train_save_and_load_under_jax(fusion, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SCRIPT, fusion, str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
