"""Benchmark: recall@k on galleries of 1k, 10k and 100k random embeddings.

Times ``crossmodal.evaluation.retrieval_ranks`` (every query against the
whole gallery, scored in chunks) and records its peak Python-side memory
with ``tracemalloc``. Prints a table with the time per query relative to the
1k gallery: brute-force retrieval costs ``O(n)`` per query, so the ratio
should grow about tenfold per tenfold gallery, while chunking keeps memory
at ``chunk x n`` floats instead of ``n x n``.

Run: ``python benchmarks/retrieval.py``.
"""

import time
import tracemalloc

import numpy as np

from crossmodal.evaluation import retrieval_ranks

SIZES = (1_000, 10_000, 100_000)
DIM = 64


def measure(n, seed=0):
    rng = np.random.default_rng(seed)
    queries = rng.normal(size=(n, DIM)).astype(np.float32)
    gallery = (queries + rng.normal(scale=2.0, size=(n, DIM))).astype(np.float32)
    tracemalloc.start()
    start = time.perf_counter()
    ranks = retrieval_ranks(queries, gallery)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    recall = {k: float(np.mean(ranks <= k)) for k in (1, 5, 10)}
    return seconds, peak, recall


def main():
    rows = [(n, *measure(n)) for n in SIZES]
    base = rows[0][1] / rows[0][0]
    print(f"retrieval_ranks, d={DIM}, every item queried against the whole gallery")
    print(
        f"{'gallery':>8} {'time (s)':>9} {'us/query':>9} {'x 1k':>6} {'peak MiB':>9} "
        f"{'n*n MiB':>8} {'R@1':>6} {'R@10':>6}"
    )
    for n, seconds, peak, recall in rows:
        per_query = seconds / n
        print(
            f"{n:>8,} {seconds:>9.2f} {per_query * 1e6:>9.1f} {per_query / base:>6.1f} "
            f"{peak / 2**20:>9.1f} {n * n * 4 / 2**20:>8.0f} {recall[1]:>6.3f} {recall[10]:>6.3f}"
        )


if __name__ == "__main__":
    main()
