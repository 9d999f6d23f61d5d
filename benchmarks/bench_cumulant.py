"""Benchmark of the cluster-cumulant laser: Cython kernel vs NumPy oracle, solvers, memory.

Run ``python benchmarks/bench_cumulant.py`` (``--quick`` for a fast smoke run;
``--loaded``: every core busy; ``--both``: idle, then loaded, side by side).
Prints a markdown table.  BLAS is pinned to one thread unless
``OPENBLAS_NUM_THREADS`` is already set: on a small shared machine a
multi-threaded BLAS oversubscribes the cores and the dense LU/eigen solves
become 10–40× slower.

Target: steady state + spectrum for M = 1000 in < 5 s.  Measured (1 thread,
shared 2-core machine): 4.7–4.8 s before the solver clean-up, 1.8–2.1 s after
(fewer and cheaper 2M×2M LU factorisations, in-place reduced Jacobian,
O(M²) Aberth poles of the regression matrix instead of a dense eigensolver).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse          # noqa: E402
import time              # noqa: E402
import tracemalloc       # noqa: E402

import numpy as np       # noqa: E402

import qutip_superrad as qsr                      # noqa: E402
from qutip_superrad.cumulant import laser as cl   # noqa: E402
from _load import run_with_load                                   # noqa: E402


def seed_laser(M, pumping=0.01):
    """Seed 000 Fig 5 parameters: N = 10⁴, σ = 0.1κ, Δ ∈ [−σ, σ], g = 0.002κ, Γ = 0.001κ."""
    ens = qsr.Ensemble.gaussian(1e4, 0.1, M, width=1.0, g=0.002, integer=False)
    return qsr.SuperradiantLaser(ens, kappa=1.0, emission=0.001, pumping=pumping)


def timeit(f, min_time=0.2, max_rep=1000):
    f()
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_time and len(times) < max_rep):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def bench_rhs(Ms):
    rows = []
    for M in Ms:
        par = cl.parameters(seed_laser(M))
        x = np.random.default_rng(0).normal(size=cl.n_unknowns(M))
        out = np.empty_like(x)
        tc = timeit(lambda: cl.rhs(x, par, "cython", out=out))
        tn = timeit(lambda: cl.rhs_numpy(x, par), min_time=0.5, max_rep=20)
        tj = timeit(lambda: cl.jvp(x, x, par, "cython", out=out))
        diff = np.max(np.abs(cl.rhs(x, par, "cython") - cl.rhs_numpy(x, par)))
        rows.append((M, cl.n_unknowns(M), tc, tn, tn / tc, tj, diff))
    return rows


def bench_solve(Ms, omega):
    rows = []
    for M in Ms:
        laser = seed_laser(M)
        tracemalloc.start()
        t0 = time.perf_counter()
        ss = laser.steadystate(method="cumulant", check_stability=False)
        t1 = time.perf_counter()
        sp = laser.spectrum(omega, method="cumulant", state=ss)
        t2 = time.perf_counter()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((M, t1 - t0, t2 - t1, t2 - t0, peak / 2**20, 16 * M * M / 2**20,
                     ss.photon_number, sp.linewidth, ss.checks["iterations"]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    run_with_load(ap, measure, argv)


def measure(args):
    Ms_rhs = [31, 201] if args.quick else [31, 201, 1000]
    Ms_solve = [31, 201] if args.quick else [31, 201, 1000]
    omega = np.linspace(-0.3, 0.3, 2001)
    print(f"# cumulant laser benchmark (OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"{os.cpu_count()} cpus)\n")
    print("## Right-hand side: Cython kernel vs NumPy oracle\n")
    times = []                 # (case, seconds) for the idle/loaded table (--both)
    print("| M | unknowns | Cython RHS | NumPy RHS | speed-up | Cython JVP | max abs diff |")
    print("|---|---|---|---|---|---|---|")
    for M, n, tc, tn, s, tj, d in bench_rhs(Ms_rhs):
        times += [(f"Cython RHS, M={M}", tc), (f"baseline NumPy RHS, M={M}", tn)]
        print(f"| {M} | {n} | {tc * 1e3:.3f} ms | {tn * 1e3:.3f} ms | {s:.1f}× | "
              f"{tj * 1e3:.3f} ms | {d:.1e} |")
    print("\n## Steady state + spectrum (seed 000 Fig 5 parameters, R = 0.01κ, 2001 ω points)\n")
    print("| M | steady state | spectrum | total | peak traced memory | 16·M² bytes | ⟨n⟩ | FWHM/κ | Newton/PTC steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for M, ts, tsp, tt, mem, ref, n, lw, it in bench_solve(Ms_solve, omega):
        times.append((f"steady state + spectrum, M={M}", tt))
        print(f"| {M} | {ts:.3f} s | {tsp:.3f} s | {tt:.3f} s | {mem:.1f} MiB | {ref:.1f} MiB | "
              f"{n:.4g} | {lw:.4g} | {it} |")
    return times


if __name__ == "__main__":
    main()
