"""Runtime set-up: seeding, the device report, the quick/full profile, GPU options.

Every chapter starts with ``seed_everything`` and ``device_report``, and
reads its sizes through ``profile`` so that a laptop CPU runs the quick
settings in about a minute and a GPU runs the larger "full" ones.
"""

import contextlib
import os
import pathlib
import platform

import keras
import tensorflow as tf
from threadpoolctl import threadpool_limits

PROFILE_VARIABLE = "CROSSMODAL_PROFILE"
PROFILES = ("quick", "full")


def seed_everything(seed=0):
    """Seed Python, NumPy, TensorFlow and Keras, and make TensorFlow ops deterministic.

    With the same seed, a CPU run repeats exactly (same weights, same batches,
    same losses).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return seed


def gpus():
    """The visible GPUs, as TensorFlow physical devices."""
    return tf.config.list_physical_devices("GPU")


def cpu_report():
    """The processor, its widest vector instructions and its cores, in a few words.

    For example ``"AMD EPYC, AVX-512, 2 cores"``. Training runs on different CPUs
    use different kernels and reach slightly different numbers, so every
    recorded figure says where it came from.
    """
    model, flags = platform.processor() or platform.machine(), set()
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags = set(value.split())
    vectors = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags
               else "NEON" if "asimd" in flags else "no AVX2")
    return f"{model}, {vectors}, {os.cpu_count()} cores"


def device_report():
    """One line that says what this run trains on, and with which Keras backend.

    For example ``"CPU: AMD EPYC, AVX-512, 2 cores (no GPU visible), Keras on tensorflow"``.
    """
    found = gpus()
    if not found:
        return f"CPU: {cpu_report()} (no GPU visible), Keras on {keras.backend.backend()}"
    names = []
    for gpu in found:
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return f"GPU: {len(found)} x {names[0]}, Keras on {keras.backend.backend()}"


def profile():
    """``"full"`` on a GPU, ``"quick"`` otherwise; ``CROSSMODAL_PROFILE`` overrides.

    Raises:
        ValueError: if the environment variable names an unknown profile.
    """
    chosen = os.environ.get(PROFILE_VARIABLE)
    if chosen is None:
        return "full" if gpus() else "quick"
    if chosen not in PROFILES:
        raise ValueError(f"{PROFILE_VARIABLE} must be one of {PROFILES}; got {chosen!r}")
    return chosen


def pick(quick, full):
    """The setting for the current profile: ``pick(quick=4096, full=50000)``."""
    return full if profile() == "full" else quick


def configure_gpu(mixed_precision=False):
    """On a GPU, let memory grow as needed and, if asked, train in ``mixed_float16``.

    Call before building any model. On a CPU it does nothing and returns
    ``False``; mixed precision is never switched on without a GPU.
    """
    found = gpus()
    for gpu in found:
        with contextlib.suppress(RuntimeError):  # already initialised
            tf.config.experimental.set_memory_growth(gpu, True)
    if found and mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    return bool(found)


def strategy(devices=None):
    """The ``tf.distribute`` strategy every chapter builds and compiles its models under.

    A ``MirroredStrategy`` (synchronous data parallelism: each device takes a
    slice of every batch and gradients are averaged) over ``devices`` if given,
    else over all visible GPUs when there are several; otherwise the default
    strategy, which changes nothing. Use it as
    ``with runtime.strategy().scope(): model = ...; model.compile(...)``;
    ``fit`` then splits each batch across the devices by itself.
    """
    if devices is None and len(gpus()) > 1:
        return tf.distribute.MirroredStrategy()
    if devices is not None:
        return tf.distribute.MirroredStrategy(devices=list(devices))
    return tf.distribute.get_strategy()


@contextlib.contextmanager
def blas_threads(limit=1):
    """Limit NumPy/SciPy BLAS threads inside the block.

    scikit-learn next to TensorFlow on a small machine can run many times
    slower from thread oversubscription; wrap its calls in this.
    """
    with threadpool_limits(limits=limit):
        yield
