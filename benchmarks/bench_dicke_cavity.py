"""Exact Dicke basis + cavity at large N (issue 11, part 2), idle and loaded.

The steady state of the laser sector ``k = 0`` by the two-level aggregation GMRES
(``exact._common._aggregated_gmres``: coarse system of the total-spin block weights, block
Gauss–Seidel with exact block LUs) side by side with the baseline, a direct sparse LU of the
whole sector (option ``linear_solver="direct"``), where the baseline fits.  The former
single-level GMRES (LU of the |n − n′| ≤ 1 part) took 16.9 s at N = 50, nphot = 12 (g = 1),
141 s at N = 60 and did not converge with ≥ 20 photon states (RESULTS.md, issue 11).

Regimes: "C10" = the cumulant-vs-exact table (g = 0.05κ, Γ = 10⁻³κ, R = 0.02κ, C = 10);
"strong" = g = 1, κ = 10, Γ = 0.1, R = 1.  Each case runs in a fresh interpreter (peak memory
is its own); "loaded" keeps every core busy with a spinning process.

Run:  python benchmarks/bench_dicke_cavity.py [--quick]
"""
import json
import os
import subprocess
import sys

from _load import busy_cores

CASE = r"""
import json, resource, sys, time, warnings
import numpy as np
import qutip_superrad as qsr
N, nphot, regime, solver = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
p = dict(g=0.05, kappa=1.0, emission=1e-3, pumping=0.02) if regime == "C10" else \
    dict(g=1.0, kappa=10.0, emission=0.1, pumping=1.0)
laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, g=p["g"]), kappa=p["kappa"],
                              emission=p["emission"], pumping=p["pumping"])
warnings.simplefilter("ignore")
t0 = time.perf_counter()
r = laser.steadystate("dicke", nphot=nphot, max_memory=22 * 2 ** 30,
                      linear_solver="direct" if solver == "direct" else "iterative")
dt = time.perf_counter() - t0
print(json.dumps({"time": dt, "n": float(r.photon_number),
                  "top": r.checks["truncation"]["top_fock_population"],
                  "iterations": r.checks["solver"].get("iterations"),
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20}))
"""


def run(N, nphot, regime, solver, timeout=3600):
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    try:
        out = subprocess.run([sys.executable, "-c", CASE, str(N), str(nphot), regime, solver],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"time": float("inf")}
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick=False):
    cases = [(30, 24, "C10", "direct"), (30, 24, "C10", "aggregation"),
             (50, 24, "C10", "aggregation"), (50, 12, "strong", "direct"),
             (50, 12, "strong", "aggregation"), (60, 12, "strong", "aggregation")]
    if not quick:
        cases += [(100, 24, "C10", "aggregation"), (100, 16, "strong", "aggregation")]
    print(f"machine: {os.cpu_count()} cores")
    print("| N | nphot | regime | solver | idle (s) | loaded (s) | loaded/idle | ⟨n⟩ | "
          "P(top) | GMRES its | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for N, nphot, regime, solver in cases:
        idle = run(N, nphot, regime, solver)
        with busy_cores(True):
            loaded = run(N, nphot, regime, solver)
        if "error" in idle or "error" in loaded:
            print(f"| {N} | {nphot} | {regime} | {solver} | {idle.get('error', '')} "
                  f"{loaded.get('error', '')} |")
            continue
        print(f"| {N} | {nphot} | {regime} | {solver} | {idle['time']:.1f} | "
              f"{loaded['time']:.1f} | {loaded['time'] / idle['time']:.2f} | {idle['n']:.6g} | "
              f"{idle['top']:.1e} | {idle['iterations'] or '-'} | {idle['rss']:.2f} |",
              flush=True)


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
