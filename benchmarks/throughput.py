"""Throughput of models trained side by side, for the benchmark scripts.

``alternate`` trains every model one epoch at a time in turn, so a busy
machine slows all of them alike, and keeps the fastest epoch of each, by
wall time and by process CPU time (the CPU-time ratio is the steadier one on
a shared machine). ``on_backends`` runs a script's measurement once per Keras
backend, each in its own process, and collects the JSON each prints.
"""

import json
import os
import subprocess
import sys
import time


def alternate(models, x, y, *, epochs, batch_size, per_model=False):
    """``{name: {"samples_per_s", "samples_per_cpu_s", "parameters"}}`` for compiled models.

    With ``per_model=True``, ``x`` and ``y`` map each model's name to its own inputs and targets.
    """

    def data(name):
        return (x[name], y[name]) if per_model else (x, y)

    first = data(next(iter(models)))[0]
    while isinstance(first, dict):
        first = next(iter(first.values()))
    samples = len(first)
    for name, model in models.items():
        model.fit(*data(name), batch_size=batch_size, epochs=1, verbose=0)  # trace, warm up
    wall = {name: float("inf") for name in models}
    cpu = dict(wall)
    for _ in range(epochs):
        for name, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.fit(*data(name), batch_size=batch_size, epochs=1, verbose=0)
            wall[name] = min(wall[name], time.perf_counter() - start)
            cpu[name] = min(cpu[name], time.process_time() - start_cpu)
    return {
        name: {
            "samples_per_s": samples / wall[name],
            "samples_per_cpu_s": samples / cpu[name],
            "parameters": int(model.count_params()),
        }
        for name, model in models.items()
    }


def available_backends():
    """The Keras backends installed here, TensorFlow first."""
    import importlib.util

    return [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]


def on_backends(script, arguments, backends=None):
    """Run ``script --json ARGUMENTS`` under each backend; ``{backend: parsed JSON}``."""
    results = {}
    for backend in backends or available_backends():
        out = subprocess.run(
            [sys.executable, script, "--json", *arguments],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
        )
        results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def report(results, package, baseline, unit="samples"):
    """Print each backend's throughputs and the ratio of ``package`` to ``baseline``."""
    print(f"{'backend':<12}{'model':<24}{'params':>9}{unit + '/s':>14}{unit + '/CPU s':>16}")
    for backend, by_model in results.items():
        for name, r in by_model.items():
            print(
                f"{backend:<12}{name:<24}{r['parameters']:>9}{r['samples_per_s']:>14.0f}"
                f"{r['samples_per_cpu_s']:>16.0f}"
            )
    for backend, by_model in results.items():
        ours, base = by_model[package], by_model[baseline]
        print(
            f"{backend}: {package} / {baseline} = "
            f"{ours['samples_per_s'] / base['samples_per_s']:.2f} per wall second, "
            f"{ours['samples_per_cpu_s'] / base['samples_per_cpu_s']:.2f} per CPU second "
            f"(target >= 0.95)"
        )
