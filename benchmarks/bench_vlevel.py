"""Seed 002 (V-level laser) speed targets, side by side with their baselines.

(a) Single-atom inversion map, 201 × 201 points over (Δ2, Δ3) (Fig. 2a), target < 10 s:
    ``single_atom_inversion`` (one batched call) vs ``qutip.steadystate`` per point
    (timed on ``--qutip-points`` points of the map and extrapolated to 40 401).
(b) Threshold scan, 40 atom numbers from 10³ to 10⁵ at order 2 (Fig. 5), target < 30 s:
    ``VLevelLaser.scan`` (pseudo-transient continuation, warm start from the previous N)
    vs the same scan started cold at every N; and one point of the engine's default
    policy (relax + Newton, ``accept="attractor"``) below threshold for scale.

Run:  python benchmarks/bench_vlevel.py [--loaded]
``--loaded`` keeps every core busy with one spinning process per core (users run sweeps
and notebooks side by side).  BLAS threads are not pinned.  Prints a markdown table.
"""
import argparse
import os
import platform
import time

import numpy as np
from _load import busy_cores
import qutip

import qutip_superrad as qsr
from qutip_superrad.models import vlevel as V

G2 = 1.0 / V.STRONTIUM_RATIO


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def bench_map(n_qutip):
    D = np.linspace(-10, 10, 201)
    m, t_ours = timed(lambda: V.single_atom_inversion(D[:, None], D[None, :]))
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 201, size=(n_qutip, 2))
    lvl = {i: qutip.basis(3, 3 - i) for i in (1, 2, 3)}
    s = lambda i, j: lvl[i] * lvl[j].dag()
    c_ops = [np.sqrt(G2) * s(1, 2), s(1, 3)]
    drive = 0.5 * (s(2, 1) + s(1, 2) + s(3, 1) + s(1, 3))

    def baseline():
        out = []
        for i, j in idx:
            rho = qutip.steadystate(-D[i] * s(2, 2) - D[j] * s(3, 3) + drive, c_ops)
            out.append(qutip.expect(s(2, 2) - s(1, 1), rho))
        return np.array(out)

    ref, t_q = timed(baseline)
    dev = float(np.max(np.abs(ref - m[idx[:, 0], idx[:, 1]])))
    return t_ours, t_q * D.size ** 2 / n_qutip, dev


def bench_threshold():
    Ns = np.geomspace(1e3, 1e5, 40)
    laser = qsr.VLevelLaser.strontium(1000, nu=G2)
    laser.description()
    scan, t_scan = timed(lambda: laser.scan({"N": Ns}, progress_bar=False))
    cold, t_cold = timed(lambda: laser.scan({"N": Ns}, progress_bar=False, warm_start=False))
    dev = float(np.max(np.abs(cold["photon_number"] - scan["photon_number"])
                       / np.maximum(scan["photon_number"], 1e-300)))
    # the engine's default policy (accept="attractor": relax, then Newton) below threshold;
    # above it, where the order-2 field ⟨a⟩ is weakly unstable, it finds no stable fixed point
    model = laser.description()
    below, t_below = timed(lambda: qsr.steadystate(model.with_values(N=Ns[20]), "cumulant"))
    return t_scan, t_cold, dev, t_below, scan


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loaded", action="store_true", help="one spinning process per core")
    ap.add_argument("--qutip-points", type=int, default=400)
    args = ap.parse_args()
    with busy_cores(args.loaded):
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
              f"{platform.python_version()}, qutip {qutip.__version__}, loaded={args.loaded}, "
              f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
        t_map, t_map_q, dev_map = bench_map(args.qutip_points)
        t_scan, t_cold, dev_scan, t_below, scan = bench_threshold()
    print("\n| task | package (s) | baseline (s) | speed-up | target | check |")
    print("|---|---|---|---|---|---|")
    print(f"| (a) inversion map 201×201 | {t_map:.3f} | {t_map_q:.1f} (qutip.steadystate, "
          f"extrapolated from {args.qutip_points}) | {t_map_q / t_map:.0f}× | < 10 s | "
          f"max |Δ| {dev_map:.1e} |")
    print(f"| (b) threshold scan, 40 N, order 2 | {t_scan:.2f} | {t_cold:.2f} (same scan, cold "
          f"start at every N) | {t_cold / t_scan:.1f}× | < 30 s | max rel. Δn {dev_scan:.1e}; "
          f"n(N=1e5) = {scan['photon_number'][-1]:.1f} |")
    print(f"| (b') one point below threshold, engine default (accept='attractor') | "
          f"{t_below:.2f} | | | | above threshold it finds no stable fixed point |")


if __name__ == "__main__":
    main()
