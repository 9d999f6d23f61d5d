"""Benchmark of the convergence in the number of clusters M (issue 17).

Seed 000 (Bychek et al. 2021), Fig 6 parameters: N = 10⁴, g = Γ = 10⁻³κ, σ = 0.1κ,
Δ ∈ [−3σ, 3σ].  Prints markdown tables:

1. R_c/σ against M for equally spaced bins (the seed), Gauss–Legendre quadrature of
   the same truncated Gaussian and Gauss–Hermite quadrature of the untruncated one,
   with the default peak-prominence threshold (1e-3 of the maximum) and with 5 %.
2. Convergence of photon number and linewidth (R = 0.05κ, above R_c) for the three
   placements: the M reached for tol = 1e-4 and the converged values.
3. Cost of a converged R_c (``converge_clusters`` from M = 21, bins, prominence 1 %)
   against one fixed-M evaluation (M = 31, as printed in the seed), with the M reached.
   R_c falls like the cluster spacing until the lines merge at every pump of the
   bracket (R_c < R_lo = 10⁻⁵κ, recorded as 0): the continuum limit is single-peaked.

Run ``python benchmarks/bench_convergence.py`` (``--quick`` for a smoke run; ``--parts cost``
for the tracked cases only; ``--loaded``: every core busy; ``--both``: idle, then loaded,
side by side).
BLAS is pinned to one thread (see ``bench_cumulant.py``).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse          # noqa: E402
import time              # noqa: E402
import warnings          # noqa: E402

import numpy as np       # noqa: E402

import qutip_superrad as qsr                                   # noqa: E402
from qutip_superrad.convergence import converge_clusters      # noqa: E402
from _load import run_with_load                                   # noqa: E402

SIGMA = 0.1
PUMP_RANGE = (1e-5, 2.0)


def seed_laser(M, placement="bins", pumping=0.05):
    ens = qsr.Ensemble.gaussian(1e4, SIGMA, M, width=3.0, g=1e-3, integer=False,
                                placement=placement)
    return qsr.SuperradiantLaser(ens, kappa=1.0, emission=1e-3, pumping=pumping)


def omega_grid(n=4001):
    return np.linspace(-4 * SIGMA, 4 * SIGMA, n)


def rc_table(Ms, placements, prominences, rtol):
    print("\n## R_c/σ against M\n")
    head = ["M"] + [f"{p} (prom {q:g})" for p in placements for q in prominences]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    w = omega_grid()
    for M in Ms:
        cells = [str(M)]
        for p in placements:
            for q in prominences:
                try:
                    rc = qsr.critical_pump(seed_laser(M, p), w, PUMP_RANGE, rtol=rtol,
                                           prominence=q) / SIGMA
                    cells.append(f"{rc:.3f}")
                except ValueError as err:
                    cells.append("< R_lo" if "already single" in str(err) else "fails")
        print("| " + " | ".join(cells) + " |", flush=True)


def smooth_table(placements, tol, M_max, times=None):
    print(f"\n## Photon number and linewidth (R = 0.05κ), tol = {tol:g}\n")
    print("| placement | M sequence | converged | M reached | ⟨a†a⟩ | FWHM/κ | time [s] |")
    print("|---|---|---|---|---|---|---|")
    w = omega_grid(2001)
    for p in placements:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            conv = converge_clusters(seed_laser(11, p), ["photon_number", "linewidth"], tol=tol,
                                     omega=w, M_max=M_max, progress_bar=False)
        dt = time.perf_counter() - t
        if times is not None:
            times.append((f"photon number + FWHM to tol {tol:g}, {p}", dt))
        print(f"| {p} | {conv.M.tolist()} | {conv.converged} | {conv.M_reached} | "
              f"{conv.value['photon_number']:.7g} | {conv.value['linewidth']:.7g} | "
              f"{dt:.2f} |", flush=True)


def cost(tol, prominence, M_max, rtol, M_start=21, times=None):
    times = [] if times is None else times
    print(f"\n## Cost of a converged R_c (bins, prominence {prominence:g}, tol = {tol:g})\n")
    w = omega_grid()
    t = time.perf_counter()
    rc31 = qsr.critical_pump(seed_laser(31), w, PUMP_RANGE, rtol=rtol)
    t_fixed = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        conv = converge_clusters(seed_laser(M_start), "critical_pump", tol=tol, omega=w,
                                 pump_range=PUMP_RANGE, prominence=prominence, M_max=M_max,
                                 progress_bar=True)
    t_conv = time.perf_counter() - t
    print(conv.to_markdown())
    for note in conv.notes:
        print("note:", note)
    times.append(("R_c at fixed M = 31", t_fixed))
    times.append(("converged R_c (bins from M = 21)", t_conv))
    print(f"\nfixed M = 31 (prominence 1e-3): R_c/σ = {rc31 / SIGMA:.3f} in {t_fixed:.2f} s")
    print(f"converged: R_c/σ = {conv.value['critical_pump'] / SIGMA:.3g} "
          f"(converged={conv.converged}) at M = {conv.M_reached} in {t_conv:.1f} s "
          f"= {t_conv / t_fixed:.0f}× one fixed-M evaluation")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--parts", default="rc,smooth,cost",
                    help="comma-separated subset of rc, smooth, cost (default: all)")
    run_with_load(ap, measure)


def measure(args):
    parts = set(args.parts.split(","))
    times = []                 # (case, seconds) for the idle/loaded table (--both)
    if args.quick:
        rc_table([11, 21], ["bins", "legendre"], [1e-3, 0.05], rtol=0.05)
        smooth_table(["bins", "legendre"], 1e-3, 81, times)
        cost(0.05, 0.05, 81, 0.05, times=times)
        return times
    if "rc" in parts:
        rc_table([11, 21, 31, 41, 61, 81, 161, 321, 641], ["bins", "legendre", "hermite"],
                 [1e-3, 0.05], rtol=0.01)
    if "smooth" in parts:
        smooth_table(["bins", "legendre", "hermite"], 1e-4, 1300, times)
    if "cost" in parts:
        cost(0.02, 0.01, 3000, 0.01, times=times)
    return times


if __name__ == "__main__":
    main()
