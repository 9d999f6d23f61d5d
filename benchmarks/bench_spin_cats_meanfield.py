"""Benchmark: the seed-004 Fig. 4 phase-spread map (mean field, two sub-ensembles ±δ).

The full figure is 60 × 60 points at N = 10⁴ (η̃/N ∈ (0, 0.07], δ̃/N² ∈ [0, 0.08]).
By default a 10 × 10 grid over the same domain is timed and the 60 × 60 time
extrapolated from its points per second (stated in the output); ``--full`` runs
the whole map.  Reported: points per second with 1 worker (serial) and 2 workers
(``qutip.parallel_map``), idle and "loaded" (``os.cpu_count()`` busy-loop processes
alive).

    python benchmarks/bench_spin_cats_meanfield.py [--full] [--n 10]
"""
import argparse
import os
import time

import numpy as np
from _load import busy_cores

from qutip_superrad.models.spin_cats.meanfield import phase_spread_map


def run(n, workers, N=10_000):
    x = np.linspace(0.07 / n, 0.07, n)
    y = np.linspace(0.0, 0.08, n)
    t0 = time.perf_counter()
    m = phase_spread_map(N, y * N ** 2, x * N, map="parallel" if workers > 1 else "serial",
                         num_cpus=workers, progress_bar=False)
    dt = time.perf_counter() - t0
    return dt, n * n / dt, m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="run the full 60 x 60 map")
    ap.add_argument("--n", type=int, default=10, help="grid side of the timed subset")
    args = ap.parse_args()
    n = 60 if args.full else args.n
    print(f"Fig. 4 map, N = 1e4, grid {n} x {n} ({'full' if n == 60 else 'subset'}); "
          f"os.cpu_count() = {os.cpu_count()}")
    rows = []
    for loaded in (False, True):
        with busy_cores(loaded):
            for workers in (1, 2):
                dt, pps, m = run(n, workers)
                est = 3600 / pps
                rows.append((loaded, workers, dt, pps, est))
                print(f"  {'loaded' if loaded else 'idle  '}  workers={workers}: {dt:7.1f} s, "
                      f"{pps:6.2f} points/s -> 60x60 {'measured' if n == 60 else 'extrapolated'}"
                      f" {est / 60:5.1f} min  (synchronized {m.synchronized.sum()}/{n * n})")
    idle2 = [r for r in rows if not r[0] and r[1] == 2][0]
    print(f"target < 10 min on 2 cores: {'met' if idle2[4] < 600 else 'NOT met'} "
          f"({idle2[4] / 60:.1f} min)")


if __name__ == "__main__":
    main()
