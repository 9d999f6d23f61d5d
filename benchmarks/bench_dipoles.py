"""Seed 001 (dipole synchronization) exact targets, side by side with qutip.piqs.

(a) Exact all-to-all Z_Q at N = 100 (f_eff = 15Γ, W = 7Γ), target < 5 s:
    ``DipoleArray.all_to_all(...).steadystate("dicke")`` vs qutip.piqs (its Dicke-basis
    Liouvillian, single precision, restricted to the j blocks and solved by sparse LU with
    the trace row — ``qutip.steadystate`` itself fails on it, "Matrix
    is singular").
(b) The Fig. 2b grid, 30 × 30 points of (W, f_eff) at N = 20, target < 60 s with 2
    workers: ``synchronization_map(..., map="parallel", num_cpus=2)`` vs the same map
    serial, and piqs on 20 points of the grid extrapolated to 900.

Run:  python benchmarks/bench_dipoles.py [--loaded]
``--loaded`` keeps every core busy with one spinning process per core.  Prints a
markdown table.
"""
import argparse
import os
import platform
import time

import numpy as np
from _load import busy_cores
import qutip
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from qutip import piqs

from qutip_superrad.models.dipoles import DipoleArray, synchronization_map


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def piqs_order_parameter(N, f_eff, W, gamma=1.0):
    """Z_Q from qutip.piqs: Liouvillian, j blocks, LU with the trace row (piqs' Dicke-basis
    elements already carry the block degeneracy: a Dicke state is one element = 1)."""
    L = piqs.Dicke(N, emission=gamma, pumping=W, collective_emission=f_eff / N).liouvillian()
    nds = piqs.num_dicke_states(N)
    sizes = [N + 1 - 2 * k for k in range(N // 2 + 1)]
    idx, start = [], 0
    for size in sizes:
        blk = range(start, start + size)
        idx += [r + c * nds for c in blk for r in blk]
        start += size
    idx = np.array(sorted(idx))
    diagpos = np.nonzero(idx % nds == idx // nds)[0]
    A = L.data_as("csr_matrix")[idx][:, idx].tolil()
    A[0, :] = 0
    A[0, diagpos] = 1.0
    rhs = np.zeros(idx.size, dtype=complex)
    rhs[0] = 1.0
    x = spla.spsolve(sp.csc_matrix(A), rhs)
    full = np.zeros(nds * nds, dtype=complex)
    full[idx] = x
    rho = full.reshape(nds, nds, order="F")
    w = np.real(np.diag(rho))
    jz = np.real(piqs.jspin(N, "z").diag())
    jpjm = np.real((piqs.jspin(N, "+") * piqs.jspin(N, "-")).diag())
    Jz, JpJm = w @ jz, w @ jpjm      # J± = Σσ± = piqs' J± (piqs J_z = Σσ_z/2)
    pairs = (JpJm - (N / 2 + Jz)) / (N * (N - 1))
    return float(np.sqrt(max(pairs, 0.0)))


def bench_single(N=100, f_eff=15.0, W=7.0):
    arr = DipoleArray.all_to_all(N, f_eff, W)
    ours, t_ours = timed(lambda: arr.steadystate("dicke").values["order_parameter"])
    ref, t_piqs = timed(lambda: piqs_order_parameter(N, f_eff, W))
    return t_ours, t_piqs, ours, ref


def bench_grid(N=20, n=30, n_piqs=20):
    W = np.linspace(0.2, 30, n)
    fe = np.linspace(0.5, 30, n)
    par, t_par = timed(lambda: synchronization_map(N, W, fe, map="parallel", num_cpus=2,
                                                  progress_bar=False))
    ser, t_ser = timed(lambda: synchronization_map(N, W, fe, progress_bar=False))
    rng = np.random.default_rng(0)
    pts = rng.integers(0, n, size=(n_piqs, 2))
    ref, t_p = timed(lambda: [piqs_order_parameter(N, fe[j], W[i]) for i, j in pts])
    dev = max(abs(r - ser["order_parameter"][i, j]) for r, (i, j) in zip(ref, pts))
    return t_par, t_ser, t_p * n * n / n_piqs, float(np.max(np.abs(par["order_parameter"]
                                                                   - ser["order_parameter"]))), dev


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loaded", action="store_true", help="one spinning process per core")
    args = ap.parse_args()
    with busy_cores(args.loaded):
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
              f"{platform.python_version()}, qutip {qutip.__version__}, loaded={args.loaded}, "
              f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
        t1, t1p, z, zp = bench_single()
        tg, tgs, tgp, dpar, dpiqs = bench_grid()
    print("\n| task | package (s) | baseline (s) | speed-up | target | check |")
    print("|---|---|---|---|---|---|")
    print(f"| (a) exact Z_Q, all-to-all N=100 | {t1:.3f} | {t1p:.2f} (qutip.piqs + LU) | "
          f"{t1p / t1:.0f}× | < 5 s | Z_Q {z:.6f} vs piqs {zp:.6f} (single precision) |")
    print(f"| (b) Fig 2b grid 30×30, N=20, 2 workers | {tg:.2f} | {tgs:.2f} (serial) / {tgp:.1f} "
          f"(piqs, extrapolated) | {tgs / tg:.1f}× / {tgp / tg:.0f}× | < 60 s | parallel = serial "
          f"to {dpar:.0e}; max |ΔZ_Q| vs piqs {dpiqs:.1e} |")


if __name__ == "__main__":
    main()
