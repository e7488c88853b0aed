"""Data-parallel training on two logical CPU devices matches one device.

TensorFlow fixes its logical devices when it first starts, so the check runs in
a fresh Python process.
"""

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")  # tf.distribute; the JAX environment has no TensorFlow

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    import crossmodal as cm

    rng = np.random.default_rng(0)
    x = {"image": rng.random((64, 16, 16, 3), dtype=np.float32),
         "tabular": rng.random((64, 5), dtype=np.float32)}
    y = rng.integers(0, 3, size=64)

    def train(strategy):
        cm.runtime.seed_everything(7)
        with strategy.scope():
            image = keras.Input((16, 16, 3), name="image")
            tabular = keras.Input((5,), name="tabular")
            z = cm.fusion.ConcatFusion()({
                "image": cm.encoders.ImageEncoder(8, filters=(4,))(image),
                "tabular": cm.encoders.VectorEncoder(8)(tabular)})
            out = cm.decoders.VectorDecoder(3, output_activation="softmax")(z)
            model = keras.Model({"image": image, "tabular": tabular}, out)
            model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        history = model.fit(x, y, batch_size=32, epochs=4, shuffle=False, verbose=0)
        return history.history["loss"], strategy.num_replicas_in_sync

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    single, one = train(tf.distribute.get_strategy())
    mirrored, two = train(cm.runtime.strategy(devices))
    print(json.dumps({"single": single, "mirrored": mirrored, "replicas": [one, two]}))
""")


def test_mirrored_strategy_on_two_cpus_matches_one_device():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    losses = json.loads(result.stdout.strip().splitlines()[-1])
    assert losses["replicas"] == [1, 2]
    assert losses["single"][-1] < losses["single"][0]  # it learns
    for single, mirrored in zip(losses["single"], losses["mirrored"]):
        assert abs(single - mirrored) < 1e-4 * max(1.0, abs(single)), losses
