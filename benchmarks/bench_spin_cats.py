"""Benchmark: exact spin-cat dynamics (seed 004, Figs. 2–3).

* manifold N = 100 steady state (spectral projection) and one Wigner function
  (121 × 121 grid), each timed (target < 1 s);
* Fig. 2 (N = 8, R realizations × 2 parities × 2 widths) with
  ``cat_fidelity_dynamics`` (parity-reduced tensor space) against plain
  ``qutip.mesolve`` on the full 2^N operators, side by side, with the ratio;
* the same with ``os.cpu_count()`` busy-loop processes alive ("loaded").

Usage: ``python benchmarks/bench_spin_cats.py [--realizations R] [--tmax T] [--no-loaded]
[--no-fig2]``
"""
import argparse
import os

import numpy as np
from _load import best_of, busy_cores
import qutip

from qutip_superrad.models.spin_cats import TwoBodyLossSpins, sample_detunings
from qutip_superrad.models.spin_cats.exact import (
    _detuning_operator, cat_fidelity_dynamics, manifold_steady_state, stabilised_cat)


def plain_fig2(N, eta, widths, tlist, R, seed=0):
    """Plain qutip.mesolve on the model's full 2^N operators (same detunings, same cats)."""
    model, _ = TwoBodyLossSpins(N, eta).description()
    H0, c_ops = model.hamiltonian(), model.c_ops()
    opts = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 100000, "store_states": False}
    out = np.zeros((len(widths), 2, R, len(tlist)))
    for p, par in enumerate((+1, -1)):
        cat = stabilised_cat(N, eta, parity=par, basis="full")
        for w, width in enumerate(widths):
            for r in range(R):
                d = width * sample_detunings(N, 1.0, seed=[seed, r])
                H = H0 + qutip.qdiags(_detuning_operator(N, d), 0, dims=H0.dims)
                res = qutip.mesolve(H, cat, tlist, c_ops, e_ops=[cat * cat.dag()], options=opts)
                out[w, p, r] = np.real(res.expect[0])
    return out


def run(label, R, tlist):
    print(f"--- {label} ---")
    t, ss = best_of(lambda: manifold_steady_state(100, 5.0), repeat=3)
    print(f"manifold N=100 steady state (eta=5): {t:.3f} s  |<a>| = {abs(ss.a):.4f}")
    x = np.linspace(-8, 8, 121)
    t, _ = best_of(lambda: ss.wigner(x, x), repeat=3)
    print(f"Wigner 121x121 (boson dim 101):      {t:.3f} s")
    if R == 0:
        return None
    widths = (1e-3, 1e-2)
    t_ours, res = best_of(lambda: cat_fidelity_dynamics(8, 0.2, 1.0, widths, tlist, R, 0))
    t_plain, plain = best_of(lambda: plain_fig2(8, 0.2, widths, tlist, R))
    print(f"Fig. 2 (N=8, {R} real. x 2 parities x 2 widths, {len(tlist)} times to "
          f"{tlist[-1]:g}): cat_fidelity_dynamics {t_ours:.2f} s, plain mesolve {t_plain:.2f} s, "
          f"ratio plain/ours = {t_plain / t_ours:.2f}; max |dF| = "
          f"{np.max(np.abs(plain - res.samples)):.1e}")
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--realizations", type=int, default=10)
    ap.add_argument("--tmax", type=float, default=300.0)
    ap.add_argument("--no-loaded", action="store_true")
    ap.add_argument("--no-fig2", action="store_true",
                    help="only the manifold steady state and the Wigner function, idle and loaded")
    args = ap.parse_args()
    tlist = np.linspace(0, args.tmax, 61)
    print(f"cpu_count = {os.cpu_count()}, OPENBLAS_NUM_THREADS = "
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}, qutip {qutip.__version__}")
    R = 0 if args.no_fig2 else args.realizations
    res = run("idle", R, tlist)
    if res is None:
        if not args.no_loaded:
            with busy_cores() as n_busy:
                run(f"loaded ({n_busy} busy processes)", 0, tlist)
        return
    i = np.argmin(np.abs(tlist - 200))
    for w, width in enumerate(res.widths):
        print(f"  delta={width:g}: F(t={tlist[i]:g}) even {res.mean[w, 0, i]:.3f} ± "
              f"{res.sem[w, 0, i]:.3f}, odd {res.mean[w, 1, i]:.3f} ± {res.sem[w, 1, i]:.3f}")
    print(f"  delta=0 steady-state fidelities: even {res.steady_fidelity[0]:.5f}, odd "
          f"{res.steady_fidelity[1]:.5f} (seed: 0.998, 0.995)")
    if not args.no_loaded:
        with busy_cores() as n_busy:
            run(f"loaded ({n_busy} busy processes)", args.realizations, tlist)


if __name__ == "__main__":
    main()
