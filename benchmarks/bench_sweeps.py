"""Sweeps (issue 10): 2 workers vs serial, store overhead, resume of a 10 000-point store.

1. 64 Dicke steady states of the superradiant laser at N = 20 (nphot = 16, an 8 × 8 grid
   over pumping and coupling), ``map="serial"`` vs ``map="parallel"`` with 2 workers,
   idle and loaded (one spinning process per core).  No BLAS environment variable is
   set: the sweep limits each worker's BLAS threads itself.  Target: speed-up >= 1.7×.
2. Store overhead per point: 2 000 trivial points with and without an SQLite store.
   Target < 5 ms.
3. Resume of a finished 10 000-point store (nothing to compute).  Target < 2 s.
4. A 20 × 20 cumulant sweep (issue 16 item 5): ``qsr.sweep`` of the cluster laser
   (M = 5 clusters, ``method="cumulant"``) over pumping × κ by the grid path (one bound
   solver, Newton continued from the neighbour along the snake order; serial and 2
   workers) against the per-point path (``path="point"``: a solver built and solved from
   scratch per point), in the same run; ``--loaded`` keeps every core busy meanwhile.
5. A 10 × 10 sweep of the registered ``laser-gaussian`` (31 clusters, ``method="cumulant"``)
   over pumping × σ (issue 16 item 5, decision 39): the grid path (the class built per
   point, its description rebound to one bound engine solver) against the per-point path
   (the class's own hand-derived cumulant solver per point), serial, in the same run;
   ``--loaded`` as in 4.

Run:  python benchmarks/bench_sweeps.py [--quick] [--only {maps,store,grid,registered}]
      [--loaded]
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

import qutip_superrad as qsr
from _load import best_of, busy_cores


def trivial(x):
    return {"y": x * x}


def laser_grid(n):
    return {"pumping": list(np.linspace(0.5, 3.0, n)), "coupling": list(np.linspace(0.5, 1.5, n))}


def cumulant_task(M=5):
    """The seed-000 cluster laser as a description: M clusters of 5–50 atoms, detunings of
    spread 0.3, g = 1, Γ = 0.1, ν = 0.5 (with ν = 0.1 the clusters do not lock at small κ
    and R: limit cycles, no steady state)."""
    from qutip_superrad import examples
    model, ops = examples.superradiant_laser(
        N=np.random.default_rng(M).integers(5, 50, M).astype(float), coupling=1.0,
        kappa=20.0, emission=0.1, pumping=2.0, dephasing=0.5,
        detuning=0.3 * np.random.default_rng(M + 1).normal(size=M))
    return qsr.SweepTask(model, "cumulant", observables={"photon_number": ops["photon_number"],
                                                         "excited": ops["excited"]})


def bench_cumulant_grid(loaded, quick=False):
    """Section 4: grid path vs per-point path of one 20 × 20 cumulant sweep."""
    size = 6 if quick else 20
    task = cumulant_task()
    grid = {"pumping": list(np.geomspace(0.1, 5.0, size)),
            "kappa": list(np.linspace(5.0, 40.0, size))}
    qsr.sweep(task, {"pumping": [1.0]}, progress_bar=False)    # compile the C once, untimed
    state = "loaded (every core busy)" if loaded else "idle"
    print(f"4. {size} x {size} cumulant sweep, cluster laser M = 5, {state}")
    with busy_cores(loaded):
        t_grid, g = best_of(lambda: qsr.sweep(task, grid, progress_bar=False))
        t_par, gp = best_of(lambda: qsr.sweep(task, grid, map="parallel",
                                            map_kw={"num_cpus": 2}, progress_bar=False))
        t_point, p = best_of(lambda: qsr.sweep(task, grid, progress_bar=False, path="point"))
    assert g.complete and p.complete and gp.complete
    diff = max(float(np.max(np.abs(r[k] - p[k]) / np.abs(p[k])))
               for r in (g, gp) for k in ("photon_number", "excited"))
    cont = sum(bool(r["path"].get("continued")) for r in g.records)
    paths = {k: int(np.sum(g.paths == k)) for k in ("grid", "point")}
    n = p["photon_number"]
    print(f"   per-point path {t_point:6.2f} s | grid path {t_grid:6.2f} s (serial), "
          f"{t_par:6.2f} s (2 workers) | point / grid {t_point / t_grid:5.1f}x serial, "
          f"{t_point / t_par:5.1f}x with 2 workers")
    print(f"   paths {paths}, {cont} of {size * size} continued, max rel. diff to the "
          f"per-point path {diff:.1e}; <a+a> from {n.min():.3g} to {n.max():.3g}")
    return {"point": t_point, "grid": t_grid, "parallel": t_par, "diff": diff}


def bench_registered_grid(loaded, quick=False):
    """Section 5: grid path vs per-point path of a registered model (laser-gaussian)."""
    size = 4 if quick else 10
    task = qsr.SweepTask("laser-gaussian")
    grid = {"pumping": list(np.geomspace(0.005, 0.05, size)),
            "sigma": list(np.linspace(0.02, 0.1, size))}
    qsr.sweep(task, {"pumping": [0.01]}, progress_bar=False)   # compile the C once, untimed
    state = "loaded (every core busy)" if loaded else "idle"
    print(f"5. {size} x {size} sweep of the registered laser-gaussian (31 clusters, cumulant), "
          f"{state}, load average {os.getloadavg()[0]:.2f}")
    with busy_cores(loaded):
        t_grid, g = best_of(lambda: qsr.sweep(task, grid, progress_bar=False))
        t_point, p = best_of(lambda: qsr.sweep(task, grid, progress_bar=False, path="point"))
    assert g.complete and p.complete
    diff = max(float(np.max(np.abs(g[k] - p[k]) / np.abs(p[k])))
               for k in ("photon_number", "photon_flux"))
    cont = sum(bool(r["path"].get("continued")) for r in g.records)
    paths = {k: int(np.sum(g.paths == k)) for k in ("grid", "point")}
    n = p["photon_number"]
    print(f"   per-point path (hand kernel) {t_point:6.2f} s | grid path {t_grid:6.2f} s | "
          f"point / grid {t_point / t_grid:5.2f}x")
    print(f"   paths {paths}, {cont} of {size * size} continued, max rel. diff to the "
          f"per-point path {diff:.1e}; <a+a> from {n.min():.3g} to {n.max():.3g}")
    return {"point": t_point, "grid": t_grid, "diff": diff}


def main(quick=False, only=None, loaded=False):
    os.environ.pop("OPENBLAS_NUM_THREADS", None)
    print(f"machine: {os.cpu_count()} cores, {sys.platform}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if only == "grid":
        bench_cumulant_grid(loaded, quick)
        return
    if only == "registered":
        bench_registered_grid(loaded, quick)
        return
    n = 4 if quick else 8
    task = qsr.SweepTask("laser", fixed={"N": 20}, call_kwargs={"nphot": 16})
    if only in (None, "maps"):
        print(f"1. {n * n} Dicke steady states, laser N = 20, nphot = 16")
    for loaded_maps in ((False, True) if only in (None, "maps") else ()):
        with busy_cores(loaded_maps):
            ts, rs = best_of(lambda: qsr.sweep(task, laser_grid(n), progress_bar=False))
            tp, rp = best_of(lambda: qsr.sweep(task, laser_grid(n), map="parallel",
                                             map_kw={"num_cpus": 2}, progress_bar=False))
        assert np.array_equal(rs["photon_number"], rp["photon_number"])
        print(f"   {'loaded' if loaded_maps else 'idle  '}: serial {ts:6.2f} s, 2 workers "
              f"{tp:6.2f} s, speed-up {ts / tp:4.2f}x")
    if only == "maps":
        return

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
    if only is None:
        bench_cumulant_grid(loaded, quick)
        bench_registered_grid(loaded, quick)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller grids")
    ap.add_argument("--only", choices=("maps", "store", "grid", "registered"), default=None,
                    help="run one section: 1 (maps), 2-3 (store), 4 (cumulant grid) or 5 "
                         "(registered model on the grid path)")
    ap.add_argument("--loaded", action="store_true",
                    help="sections 4-5 with every core busy (one spinning process per core)")
    args = ap.parse_args()
    main(args.quick, args.only, args.loaded)
