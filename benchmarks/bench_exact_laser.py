"""Exact superradiant-laser solvers, side by side with the qutip.steadystate baseline.

(a) N=5 identical atoms, nphot=12, g=1, κ=10, Γ=0.1, R=1:
    qutip.steadystate on the full Liouvillian  vs  method="full" (U(1) sector k=0)
    vs  method="dicke" (Dicke basis ⊗ Fock, sector k=0).  Targets: dicke ≥ 1000×,
    full ≥ 50× faster than the baseline.
(b) method="dicke" with the cavity, nphot=12: N=50 steady state (target < 60 s) and
    the largest N whose steady state takes < 60 s.
(c) bad-cavity limit, N=1000: exact steady state + linewidth (target < 60 s).

Run:  python benchmarks/bench_exact_laser.py [--skip-baseline] [--budget 60]
Prints a markdown table with the ratios; paste it into benchmarks/RESULTS.md.
"""
import argparse
import platform
import time
import warnings

import numpy as np
import qutip

import qutip_superrad as qsr
from _load import run_with_load


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-baseline", action="store_true", help="skip qutip.steadystate (≈4 min)")
    ap.add_argument("--budget", type=float, default=60.0, help="time budget for (b), seconds")
    ap.add_argument("--only", choices=["a", "b", "c"], nargs="*", default=["a", "b", "c"],
                    help="run only these parts")
    run_with_load(ap, measure)


def measure(args):
    from qutip_superrad.exact._common import TruncationWarning
    warnings.simplefilter("ignore", TruncationWarning)
    rows = []
    print(f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}, "
          f"qutip {qutip.__version__}, qutip-superrad {qsr.__version__}")

    reached = None
    # (a)
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(5, g=1.0), kappa=10, emission=0.1, pumping=1)
    if "a" not in args.only:
        args.skip_baseline = True
    dk, t_dicke = timed(lambda: laser.steadystate("dicke", nphot=12))
    fu, t_full = timed(lambda: laser.steadystate("full", nphot=12))
    if not args.skip_baseline:
        def baseline():
            rho = qutip.steadystate(laser.hamiltonian(12), laser.c_ops(12))
            a = qutip.tensor([qutip.destroy(12)] + [qutip.qeye(2)] * 5)
            return qutip.expect(a.dag() * a, rho)
        n_base, t_base = timed(baseline)
        rows.append(("(a) qutip.steadystate, full Liouvillian, N=5", t_base, 1.0, f"n={n_base:.12f}"))
    else:
        t_base, n_base = float("nan"), float("nan")
    rows.append(("(a) method='full' (sector k=0), N=5", t_full, t_base / t_full,
                 f"n={fu.photon_number:.12f}"))
    rows.append(("(a) method='dicke' (sector k=0), N=5", t_dicke, t_base / t_dicke,
                 f"n={dk.photon_number:.12f}, |Δn| vs full {abs(dk.photon_number - fu.photon_number):.1e}"))

    # (b)
    for N in [10, 20, 30, 40, 50, 60, 70, 80] if "b" in args.only else []:
        las = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, g=1.0), kappa=10, emission=0.1, pumping=1)
        ss, t = timed(lambda: las.steadystate("dicke", nphot=12, check_positivity=False))
        rows.append((f"(b) method='dicke' with cavity, N={N}, nphot=12", t, float("nan"),
                     f"n={ss.photon_number:.6f}, dim={ss.checks['dimension']}, "
                     f"{ss.checks['solver'].get('solver')} {ss.checks['solver'].get('iterations', '')}"))
        if t > args.budget:
            break
        reached = N

    # (c)
    bc = qsr.SuperradiantLaser(qsr.Ensemble.identical(1000, g=1.0), kappa=10, emission=0.1,
                               pumping=1).eliminate_cavity()
    def badcav():
        sp = bc.spectrum(np.linspace(-5, 5, 101), "dicke")   # solves the steady state first
        return sp.steady_state, sp
    if "c" in args.only:
        (ss, sp), t = timed(badcav)
        rows.append(("(c) bad cavity N=1000: steady state + spectrum + linewidth", t, float("nan"),
                     f"flux={ss.photon_flux:.6f}, FWHM={sp.linewidth:.8f}, dim={ss.checks['dimension']}"))

    print("\n| case | time (s) | speed-up vs qutip.steadystate | result |")
    print("|---|---|---|---|")
    for name, t, ratio, note in rows:
        r = "" if not np.isfinite(ratio) else f"{ratio:,.0f}×"
        print(f"| {name} | {t:.3f} | {r} | {note} |")
    print(f"\nlargest N with the cavity (nphot=12) under {args.budget:.0f} s: {reached}")


if __name__ == "__main__":
    main()
