"""Exact Dicke basis + cavity at large N (issue 11, part 2), idle and loaded.

The steady state of the laser sector ``k = 0`` by the two-level aggregation GMRES
(``exact._common._aggregated_gmres``: coarse system of the total-spin block weights, block
Gauss–Seidel with exact block LUs) side by side with the baseline, a direct sparse LU of the
whole sector (option ``linear_solver="direct"``), where the baseline fits.  The former
single-level GMRES (LU of the |n − n′| ≤ 1 part) took 16.9 s at N = 50, nphot = 12 (g = 1),
141 s at N = 60 and did not converge with ≥ 20 photon states (RESULTS.md, issue 11).

Regimes: "C10" = the cumulant-vs-exact table (g = 0.05κ, Γ = 10⁻³κ, R = 0.02κ, C = 10);
"strong" = g = 1, κ = 10, Γ = 0.1, R = 1 (C = 4); "C144" = g = 0.6, κ = 10, Γ = 0.1, R = 0.3;
"C036" = g = 0.3, κ = 10, Γ = 0.1, R = 0.5.  Each case runs in a fresh interpreter (peak
memory is its own); "loaded" keeps every core busy with a spinning process.  A ``jmax``
column solves with the total-spin blocks above it left out (option ``jmax``; the weight of
the top kept block is reported as P(j top)).

``--deviation`` prints the cumulant (order 2) vs exact table at large N instead (photon
number, excited population, pair correlation ⟨σ⁺_1σ⁻_2⟩), idle only.

``--spectra`` measures cavity spectra (k = −1 regression sector, shift-invert Krylov with
block-preconditioned GMRES solves) with the two smoothers side by side: the exact LUs of
the total-spin blocks (the baseline) and of their excitation slabs (decision 41); the
linewidths must agree to 1e-8.  Idle, then loaded.

Run:  python benchmarks/bench_dicke_cavity.py [--quick | --deviation | --spectra]
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
jmax = None if sys.argv[5] == "-" else float(sys.argv[5])
deviation = sys.argv[6] == "deviation"
smoother = sys.argv[7] if len(sys.argv) > 7 else "auto"
p = dict(C10=dict(g=0.05, kappa=1.0, emission=1e-3, pumping=0.02),
         strong=dict(g=1.0, kappa=10.0, emission=0.1, pumping=1.0),
         C144=dict(g=0.6, kappa=10.0, emission=0.1, pumping=0.3),
         C036=dict(g=0.3, kappa=10.0, emission=0.1, pumping=0.5))[regime]
laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, g=p["g"]), kappa=p["kappa"],
                              emission=p["emission"], pumping=p["pumping"])
warnings.simplefilter("ignore")
t0 = time.perf_counter()
r = laser.steadystate("dicke", nphot=nphot, max_memory=22 * 2 ** 30, jmax=jmax,
                      linear_solver="direct" if solver == "direct" else "iterative",
                      **({} if solver == "direct" else {"smoother": smoother}))
dt = time.perf_counter() - t0
spin = r.checks.get("spin_truncation")
out = {"time": dt, "n": float(r.photon_number),
       "top": r.checks["truncation"]["top_fock_population"],
       "spin_top": spin["top_block_population"][0] if spin else 0.0,
       "iterations": r.checks["solver"].get("iterations"),
       "smoother": r.checks["solver"].get("smoother"),
       "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20}
if sys.argv[6] == "spectrum":
    t0 = time.perf_counter()
    s = laser.spectrum(np.linspace(-20, 20, 201), "dicke", nphot=nphot, jmax=jmax,
                       max_memory=22 * 2 ** 30, linear_solver="iterative", smoother=smoother)
    q = s.checks["qrt"]
    print(json.dumps({"time": time.perf_counter() - t0, "fwhm": float(s.linewidth),
                      "krylov": q["krylov_dimension"], "fill": q["preconditioner_fill"],
                      "smoother": q["smoother"], "dimension": q["dimension"],
                      "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20}))
    sys.exit()
if deviation:
    t0 = time.perf_counter()
    c = laser.steadystate("cumulant")
    out.update(cumulant_time=time.perf_counter() - t0,
               p=float(r.excited_population[0]), pair=float(r.pair_correlation[0, 0].real),
               dev_n=float(c.photon_number / r.photon_number - 1),
               dev_p=float(c.excited_population[0] / r.excited_population[0] - 1),
               dev_pair=float(c.pair_correlation[0, 0].real / r.pair_correlation[0, 0].real - 1))
print(json.dumps(out))
"""


def run(N, nphot, regime, solver, jmax=None, deviation=False, timeout=3600, smoother="auto",
        mode=None):
    env = dict(os.environ)
    env.pop("OPENBLAS_NUM_THREADS", None)
    args = [str(N), str(nphot), regime, solver, "-" if jmax is None else str(jmax),
            mode or ("deviation" if deviation else "time"), smoother]
    try:
        out = subprocess.run([sys.executable, "-c", CASE, *args],
                             capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"time": float("inf")}
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick=False):
    cases = [(30, 24, "C10", "direct", None), (30, 24, "C10", "aggregation", None),
             (50, 24, "C10", "aggregation", None), (50, 12, "strong", "direct", None),
             (50, 12, "strong", "aggregation", None), (60, 12, "strong", "aggregation", None)]
    if not quick:
        cases += [(100, 24, "C10", "aggregation", None), (100, 24, "C10", "aggregation", 36),
                  (200, 27, "C10", "aggregation", 58)]
    print(f"machine: {os.cpu_count()} cores")
    print("| N | nphot | jmax | regime | solver | idle (s) | loaded (s) | loaded/idle | ⟨n⟩ | "
          "P(n top) | P(j top) | GMRES its | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for N, nphot, regime, solver, jmax in cases:
        idle = run(N, nphot, regime, solver, jmax)
        with busy_cores(True):
            loaded = run(N, nphot, regime, solver, jmax)
        head = f"| {N} | {nphot} | {jmax or '–'} | {regime} | {solver} |"
        if "error" in idle or "error" in loaded:
            print(f"{head} {idle.get('error', '')} {loaded.get('error', '')} |")
            continue
        print(f"{head} {idle['time']:.1f} | {loaded['time']:.1f} | "
              f"{loaded['time'] / idle['time']:.2f} | {idle['n']:.6g} | {idle['top']:.1e} | "
              f"{idle['spin_top']:.1e} | {idle['iterations'] or '-'} | {idle['rss']:.2f} |",
              flush=True)


#: (N, nphot, regime, jmax[, smoother]): the cumulant-vs-exact table at large N, each exact
#: state converged (top Fock state and top kept spin block below 1e-6); C = 4 at N = 100
#: needs the excitation-slab smoother (architecture decision 41) to fit in 14 GiB
DEVIATION = [(10, 12, "C10", None), (30, 16, "C10", None), (50, 24, "C10", None),
             (100, 24, "C10", 36), (200, 27, "C10", 58),
             (100, 25, "C144", None), (200, 27, "C144", 50),
             (100, 40, "strong", 45, "excitation")]


def deviation():
    print("| N | regime | nphot | jmax | exact ⟨n⟩ | cumulant/exact − 1: ⟨n⟩ | p | pair | "
          "P(n top) | P(j top) | exact (s) | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for N, nphot, regime, jmax, *smoother in DEVIATION:
        r = run(N, nphot, regime, "aggregation", jmax, deviation=True,
                smoother=smoother[0] if smoother else "auto")
        if "error" in r:
            print(f"| {N} | {regime} | {nphot} | {jmax} | {r['error']} |")
            continue
        print(f"| {N} | {regime} | {nphot} | {jmax or '–'} | {r['n']:.6g} | "
              f"{100 * r['dev_n']:+.2f} % | {100 * r['dev_p']:+.2f} % | "
              f"{100 * r['dev_pair']:+.2f} % | {r['top']:.1e} | {r['spin_top']:.1e} | "
              f"{r['time']:.0f} | {r['rss']:.1f} |", flush=True)


#: (N, nphot, regime, jmax): spectra with both smoothers (C = 4 at N = 100 has no spin-block
#: row: its LUs would need ≈ 21 GiB)
SPECTRA = [(20, 16, "strong", None), (50, 24, "strong", None)]


def spectra():
    print("| N | nphot | regime | smoother | elements | idle (s) | loaded (s) | loaded/idle | "
          "FWHM | Krylov | LU fill | peak GiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for N, nphot, regime, jmax in SPECTRA:
        fwhm = {}
        for smoother in ("spin", "excitation"):
            idle = run(N, nphot, regime, "aggregation", jmax, smoother=smoother, mode="spectrum")
            with busy_cores(True):
                loaded = run(N, nphot, regime, "aggregation", jmax, smoother=smoother,
                             mode="spectrum")
            if "error" in idle or "error" in loaded:
                print(f"| {N} | {nphot} | {regime} | {smoother} | {idle.get('error', '')} "
                      f"{loaded.get('error', '')} |")
                continue
            fwhm[smoother] = idle["fwhm"]
            print(f"| {N} | {nphot} | {regime} | {smoother} | {idle['dimension']} | "
                  f"{idle['time']:.1f} | {loaded['time']:.1f} | "
                  f"{loaded['time'] / idle['time']:.2f} | {idle['fwhm']:.10g} | "
                  f"{idle['krylov']} | {idle['fill']} | {idle['rss']:.2f} |", flush=True)
        if len(fwhm) == 2 and abs(fwhm["spin"] / fwhm["excitation"] - 1) > 1e-8:
            raise AssertionError(f"N = {N}: the smoothers disagree on the linewidth {fwhm}")


if __name__ == "__main__":
    if "--spectra" in sys.argv:
        spectra()
    elif "--deviation" in sys.argv:
        deviation()
    else:
        main(quick="--quick" in sys.argv)
