"""Runtime set-up: seeding, the device report, the quick/full profile, GPU options.

Every chapter starts with ``seed_everything`` and ``device_report``, and
reads its sizes through ``pick`` so that a laptop CPU runs the quick
settings in about a minute and a GPU runs the larger "full" ones. Nothing
here imports a backend library until it is needed, and every function works
with TensorFlow, JAX or PyTorch as the Keras backend.
"""

import contextlib
import importlib
import os
import pathlib
import platform

import keras

PROFILE_VARIABLE = "CROSSMODAL_PROFILE"
PROFILES = ("quick", "full")


def seed_everything(seed=0, *, deterministic=False):
    """Seed Python, NumPy and the Keras backend; return ``seed``.

    With the same seed a CPU run repeats exactly (same weights, same batches,
    same losses). ``deterministic=True`` also asks the backend for
    deterministic kernels where it has a switch (TensorFlow's
    ``enable_op_determinism``, PyTorch's ``use_deterministic_algorithms``):
    needed for exact repeats on a GPU, at a cost in speed, and not undone
    until the process ends. JAX is deterministic already.

    Raises:
        TypeError: if ``seed`` is not an integer.
        ValueError: if ``seed`` is negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer; got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0; got {seed}")
    keras.utils.set_random_seed(seed)
    if deterministic:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            importlib.import_module("tensorflow").config.experimental.enable_op_determinism()
        elif backend == "torch":
            importlib.import_module("torch").use_deterministic_algorithms(True)
    return seed


def gpus():
    """Names of the GPUs the Keras backend can use (an empty list on a CPU)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        tf = importlib.import_module("tensorflow")
        found = tf.config.list_physical_devices("GPU")
        return [
            tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in found
        ]
    if backend == "jax":
        jax = importlib.import_module("jax")
        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        torch = importlib.import_module("torch")
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


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
    vectors = (
        "AVX-512"
        if "avx512f" in flags
        else "AVX2"
        if "avx2" in flags
        else "NEON"
        if "asimd" in flags
        else "no AVX2"
    )
    return f"{model}, {vectors}, {os.cpu_count()} cores"


def device_report():
    """One line that says what this run trains on, and with which Keras backend.

    For example ``"CPU: AMD EPYC, AVX-512, 2 cores (no GPU visible), Keras on tensorflow"``.
    """
    found = gpus()
    backend = keras.backend.backend()
    if not found:
        return f"CPU: {cpu_report()} (no GPU visible), Keras on {backend}"
    return f"GPU: {len(found)} x {found[0]}, Keras on {backend}"


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


def pick(*, quick, full):
    """The setting for the current profile: ``pick(quick=4096, full=50000)``."""
    return full if profile() == "full" else quick


def configure_gpu(*, mixed_precision=False):
    """On a GPU, let TensorFlow's memory grow as needed and, if asked, train in ``mixed_float16``.

    Call before building any model. On a CPU it does nothing and returns
    ``False``; mixed precision is never switched on without a GPU.
    """
    found = gpus()
    if found and keras.backend.backend() == "tensorflow":
        tf = importlib.import_module("tensorflow")
        for gpu in tf.config.list_physical_devices("GPU"):
            with contextlib.suppress(RuntimeError):  # already initialised
                tf.config.experimental.set_memory_growth(gpu, True)
    if found and mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    return bool(found)


def strategy(devices=None):
    """The ``tf.distribute`` strategy to build and compile models under (TensorFlow only).

    A ``MirroredStrategy`` (synchronous data parallelism: each device takes a
    slice of every batch and gradients are averaged) over ``devices`` if given,
    else over all visible GPUs when there are several; otherwise the default
    strategy, which changes nothing. Use it as
    ``with runtime.strategy().scope(): model = ...; model.compile(...)``.

    Raises:
        ValueError: on another backend (JAX and PyTorch distribute through
            ``keras.distribution`` instead).
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"strategy() needs the TensorFlow backend; this is "
            f"{keras.backend.backend()} (use keras.distribution)"
        )
    tf = importlib.import_module("tensorflow")
    if devices is not None:
        return tf.distribute.MirroredStrategy(devices=list(devices))
    if len(gpus()) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


@contextlib.contextmanager
def blas_threads(limit=1):
    """Limit NumPy/SciPy BLAS threads inside the block.

    scikit-learn next to a Keras backend on a small machine can run many
    times slower from thread oversubscription; wrap its calls in this.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=limit):
        yield
