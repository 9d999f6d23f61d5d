"""Benchmark: second-order per-pair cumulants of a dipole chain (seed 001, Fig. 4a setting).

N dipoles on a line, f_ab = (Γ/4)(1/r_ab)^α for a ≠ b, f_aa = Γ, δ = g = 0, pumping W
near the optimum of Z_Q.  Reports the positive semidefiniteness of f for several α,
a coarse warm-started scan of W (to locate the optimum), then the time and peak memory
of one cold steady state at the best W, and the number of real unknowns.

Side by side: the general cumulant engine with explicit atoms (the same order-2
equations, derived per pair — what a tool without per-pair families must unroll) against
the per-pair matrix form at N = 10 (the engine needs 7.6 s there and 365 s at N = 20).

    python benchmarks/bench_pairs.py [--N 900] [--alpha 1.0] [--W 2.0] [--loaded]

``--loaded`` keeps every core busy with one spinning process per core.
"""
import argparse
import os
import resource
import time
import tracemalloc

import numpy as np
from _load import busy_cores

import qutip_superrad as qsr
from qutip_superrad.cumulant.pairs import PairCumulants
from qutip_superrad.models.dipoles import DipoleArray, chain_positions


def engine_side_by_side(N=10, alpha=1.0, W=2.0):
    """Order 2 for N dipoles: engine (explicit atoms) vs per-pair matrix form, same ⟨J⁺J⁻⟩."""
    arr = DipoleArray.power_law(chain_positions(N), alpha, W)
    model, ops = arr.description()
    t0 = time.perf_counter()
    ref = qsr.steadystate(model, "cumulant", e_ops={"JpJm": ops["JpJm"]}).values["JpJm"]
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    v = arr.steadystate("cumulant").values
    t_pairs = time.perf_counter() - t0
    ours = N * (N - 1) * v["pair_coherence"] + N * (0.5 + v["inversion"])
    print(f"| order 2, N = {N} chain, α = {alpha} | {t_pairs:.3f} s | {t_engine:.2f} s (engine, "
          f"explicit atoms) | {t_engine / t_pairs:.0f}× | ⟨J⁺J⁻⟩ {ours:.10f} vs "
          f"{float(ref):.10f} |")


def chain(N, alpha, gamma=1.0):
    r = np.abs(np.subtract.outer(np.arange(N), np.arange(N))).astype(float)
    with np.errstate(divide="ignore"):
        f = 0.25 * gamma * r ** (-alpha)
    np.fill_diagonal(f, gamma)
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--N", type=int, default=900)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--W", type=float, default=None, help="skip the scan, use this W/Γ")
    ap.add_argument("--scan", type=float, nargs="*", default=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    ap.add_argument("--loaded", action="store_true", help="one spinning process per core")
    args = ap.parse_args()
    N, alpha = args.N, args.alpha
    with busy_cores(args.loaded):
        run(args, N, alpha)


def run(args, N, alpha):
    print(f"# {os.cpu_count()} cores, loaded={args.loaded}")
    print("| task | per-pair | baseline | ratio | check |\n|---|---|---|---|---|")
    engine_side_by_side()

    print(f"# PSD of f_ab = (Γ/4) r^-α, f_aa = Γ, N = {N}")
    for a in [0.0, 0.5, 1.0, 1.5, 2.0, 3.0]:
        lam = np.linalg.eigvalsh(chain(N, a))
        print(f"  alpha = {a:3.1f}: smallest eigenvalue {lam[0]:.4f} Γ, largest {lam[-1]:.4f} Γ")

    f = chain(N, alpha)
    W = args.W
    if W is None:
        print(f"# coarse scan of W (warm started), N = {N}, alpha = {alpha}")
        best, prev = None, None
        for Wi in args.scan:
            t0 = time.perf_counter()
            st = PairCumulants(f, pumping=Wi).steadystate(
                {"initial": prev} if prev is not None else None)
            prev = st
            zq = st.order_parameter
            print(f"  W = {Wi:4.2f} Γ: Z_Q = {zq:.5f}, <σz> = {st.s.mean():.4f}, "
                  f"{time.perf_counter() - t0:.1f} s, {st.stats['iterations']} steps")
            if best is None or zq > best[1]:
                best = (Wi, zq)
        W = best[0]
    pc = PairCumulants(f, pumping=W)
    print(f"# one cold steady state: N = {N}, alpha = {alpha}, W = {W} Γ, "
          f"unknowns = {pc.unknowns()} (real mode; {pc.unknowns(real=False)} with Im C)")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    st = pc.steadystate()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    centre = N // 2
    zq_d = {d: st.cluster_order_parameter(range(centre, min(centre + d, N)))
            for d in (2, 10, 50, 200) if d <= N - centre}
    print(f"  time {elapsed:.1f} s; residual {st.stats['residual']:.2e}; "
          f"{st.stats['iterations']} steps, {st.stats['jvp_calls']} Jacobian products, "
          f"{st.stats['rhs_calls']} right-hand sides")
    print(f"  peak traced memory (tracemalloc) {peak / 2**20:.0f} MiB; process peak RSS "
          f"{rss1 / 1024:.0f} MiB (before the solve {rss0 / 1024:.0f} MiB)")
    print(f"  Z_Q = {st.order_parameter:.5f}; Z_Q^d from the centre: "
          + ", ".join(f"d={d}: {z:.5f}" for d, z in zq_d.items()))


if __name__ == "__main__":
    main()
