"""Sweeps (issue 10): 2 workers vs serial, store overhead, resume of a 10 000-point store.

1. 64 Dicke steady states of the superradiant laser at N = 20 (nphot = 16, an 8 × 8 grid
   over pumping and coupling), ``map="serial"`` vs ``map="parallel"`` with 2 workers,
   idle and loaded (one spinning process per core).  No BLAS environment variable is
   set: the sweep limits each worker's BLAS threads itself.  Target: speed-up >= 1.7×.
2. Store overhead per point: 2 000 trivial points with and without an SQLite store.
   Target < 5 ms.
3. Resume of a finished 10 000-point store (nothing to compute).  Target < 2 s.

Run:  python benchmarks/bench_sweeps.py [--quick]
"""
import os
import sys
import tempfile

import numpy as np

import qutip_superrad as qsr
from _load import best_of, busy_cores


def trivial(x):
    return {"y": x * x}


def laser_grid(n):
    return {"pumping": list(np.linspace(0.5, 3.0, n)), "coupling": list(np.linspace(0.5, 1.5, n))}


def main(quick=False):
    os.environ.pop("OPENBLAS_NUM_THREADS", None)
    n = 4 if quick else 8
    task = qsr.SweepTask("laser", fixed={"N": 20}, call_kwargs={"nphot": 16})
    print(f"machine: {os.cpu_count()} cores, {sys.platform}")
    print(f"1. {n * n} Dicke steady states, laser N = 20, nphot = 16")
    for loaded in (False, True):
        with busy_cores(loaded):
            ts, rs = best_of(lambda: qsr.sweep(task, laser_grid(n), progress_bar=False))
            tp, rp = best_of(lambda: qsr.sweep(task, laser_grid(n), map="parallel",
                                             map_kw={"num_cpus": 2}, progress_bar=False))
        assert np.array_equal(rs["photon_number"], rp["photon_number"])
        print(f"   {'loaded' if loaded else 'idle  '}: serial {ts:6.2f} s, 2 workers {tp:6.2f} s, "
              f"speed-up {ts / tp:4.2f}x")

    m = 500 if quick else 2000
    with tempfile.TemporaryDirectory() as d:
        grid = {"x": list(np.arange(float(m)))}
        t_mem, _ = best_of(lambda: qsr.sweep(trivial, grid, progress_bar=False))
        t_db, _ = best_of(lambda: qsr.sweep(trivial, grid, store=os.path.join(d, "a.sqlite"),
                                          progress_bar=False))
        print(f"2. store overhead: {1e3 * (t_db - t_mem) / m:.3f} ms per point "
              f"({m} points: {t_mem:.2f} s in memory, {t_db:.2f} s with the store)")

        big = {"x": list(np.arange(10000.0))}
        path = os.path.join(d, "big.sqlite")
        t_fill, _ = best_of(lambda: qsr.sweep(trivial, big, store=path, progress_bar=False))
        t_res, res = best_of(lambda: qsr.sweep(trivial, big, store=path, progress_bar=False))
        assert res.complete
        print(f"3. resume of a finished 10 000-point store: {t_res:.2f} s (filling it: "
              f"{t_fill:.1f} s)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
