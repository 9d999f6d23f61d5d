"""Benchmark: spin Wigner function on the sphere (seed 004 Fig. 3 option, issue 15).

``qutip_superrad.spin_wigner`` (rotated diagonal kernel, Lanczos multipoles) against
``qutip.spin_wigner`` (Clebsch–Gordan sum over all multipoles) side by side on the same
state and grid, with the ratio and the largest difference; then the large spins only ours
reaches (QuTiP's takes O(j⁴) Python-level work per grid point and is not run beyond
``--qutip-jmax``).  Idle, or ``--loaded`` (one spinning process per core).

Usage: ``python benchmarks/bench_phase_space.py [--loaded] [--qutip-jmax 10]``
"""
import argparse
import time

import numpy as np
import qutip
from _load import best_of, run_with_load

import qutip_superrad as qsr


def measure(args):
    th, ph = np.linspace(0, np.pi, 20), np.linspace(0, 2 * np.pi, 40)       # 800 points
    print("| j | grid | ours (s) | qutip.spin_wigner (s) | ratio | max |ΔW| |")
    print("|---|---|---|---|---|---|")
    for j in (2, 5, args.qutip_jmax):
        rho = qutip.rand_dm(int(2 * j + 1), seed=1)
        t_ours, W = best_of(lambda: qsr.spin_wigner(rho, th, ph)[0], 3)
        t_q, Wq = best_of(lambda: qutip.spin_wigner(rho, th, ph)[0], 1)
        print(f"| {j} | 20 × 40 | {t_ours:.4f} | {t_q:.2f} | {t_q / t_ours:.0f}× | "
              f"{np.max(np.abs(W - Wq)):.1e} |", flush=True)
    th, ph = np.linspace(0, np.pi, 91), np.linspace(-np.pi, np.pi, 181)
    for j in (50, 200):
        psi = qutip.spin_coherent(j, 0.5, 0.0)
        t0 = time.perf_counter()
        qsr.spin_wigner(psi, th, ph)
        print(f"| {j} | 91 × 181 | {time.perf_counter() - t0:.2f} | not run | | |", flush=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qutip-jmax", type=int, default=10)
    run_with_load(ap, measure)
