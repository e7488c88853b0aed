"""How fast is the shapes-world generator, and how much memory does it take?

Run: python benchmarks/shapes.py [--scenes 10000]

Prints scenes per second (best of three runs) without and with audio (the audio run relative to
the image-only run, measured in the same process), and the peak memory of
generating the scenes, traced by ``tracemalloc`` (NumPy allocations count).
"""

import argparse
import time
import tracemalloc

from crossmodal.datasets import make_scenes


def measure(n, **kwargs):
    seconds = float("inf")
    for _ in range(3):  # best of three: the least disturbed by other work
        start = time.perf_counter()
        make_scenes(n, seed=1, **kwargs)
        seconds = min(seconds, time.perf_counter() - start)
    tracemalloc.start()
    make_scenes(n, seed=1, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return n / seconds, peak / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10_000)
    n = parser.parse_args().scenes
    runs = {
        "1 object, no audio": {},
        "1-4 objects, no audio": {"max_objects": 4},
        "1 object, audio": {"audio": True},
    }
    results = {name: measure(n, **kwargs) for name, kwargs in runs.items()}
    base = results["1 object, no audio"][0]
    print(f"{n} scenes of 32x32 pixels")
    print(f"{'configuration':<24}{'scenes/s':>10}{'ratio':>8}{'peak MiB':>10}")
    for name, (rate, peak) in results.items():
        print(f"{name:<24}{rate:>10.0f}{rate / base:>8.2f}{peak:>10.0f}")


if __name__ == "__main__":
    main()
