"""Benchmark: quantum trajectories of an N = 12 dipole chain (the paper's Fig. 5 system).

Chain of N = 12 dipoles at the magic angle θ_m, lattice spacing 0.1 λ, full
dipolar f and g, repump W at the optimum of the exact Z_Q of the all-to-all
array with the same f_eff (Dicke basis).  Measures trajectories per second of

* ``conditional_qfi`` (e_ops J_x, J_y, J_z, J_x², J_y², J_z²) and
* ``trajectory_order_parameter`` (e_ops J⁺J⁻, J_z)

against ``qutip.mcsolve`` run directly on the same operators with the same
e_ops (operators built beforehand, not timed), side by side, and prints the
ratios ("ours" includes building H, the jump operators and the e_ops; "solver only"
is its qutip call).  Both paths are warmed up first.  Then repeats the measurement while ``os.cpu_count()`` busy-loop
processes keep every core busy.

Run:  python benchmarks/bench_dipole_trajectories.py [--ntraj 4] [--t-final 1.0] [--N 12]
"""
import argparse
import time

import numpy as np
from _load import busy_cores
import qutip

from qutip_superrad.models.dipoles import MAGIC_ANGLE, DipoleArray
from qutip_superrad.models import dipole_trajectories as dtj


def _direct(H, c_ops, psi0, tlist, e_ops, ntraj, seed):
    t = time.perf_counter()
    qutip.mcsolve(H, psi0, tlist, c_ops, e_ops=e_ops, ntraj=ntraj, seeds=seed,
                  options={"keep_runs_results": True, "store_states": False,
                           "progress_bar": False})
    return time.perf_counter() - t


def measure(arr, tlist, ntraj, seed, label):
    N = arr.N
    model, _ = arr.description()
    H, c_ops = model.hamiltonian(), model.c_ops()
    psi0 = qutip.basis([2] * N, [1] * N)
    Jx, Jy, Jz = dtj.collective_spin_operators(N)
    Jp = Jx + 1j * Jy
    rows = []
    # warm-up of both paths (first calls in a process are slower), not timed
    short = tlist[:2]
    dtj.conditional_qfi(arr, short, ntraj=1, seed=seed, exact=False)
    _direct(H, c_ops, psi0, short, [Jz], 1, seed)
    # conditional QFI (direct first here, ours first below: no systematic order effect)
    direct = _direct(H, c_ops, psi0, tlist, [Jx, Jy, Jz, Jx * Jx, Jy * Jy, Jz * Jz], ntraj, seed)
    t = time.perf_counter()
    r = dtj.conditional_qfi(arr, tlist, ntraj=ntraj, seed=seed, exact=False)
    ours = time.perf_counter() - t
    rows.append(("conditional_qfi", ours, r.stats["run time"], direct))
    # order parameter
    t = time.perf_counter()
    z = dtj.trajectory_order_parameter(arr, float(tlist[-1]), t_min=float(tlist[len(tlist) // 2]),
                                       ntraj=ntraj, n_times=len(tlist), seed=seed)
    ours = time.perf_counter() - t
    direct = _direct(H, c_ops, psi0, tlist, [Jp * Jp.dag(), Jz], ntraj, seed)
    rows.append(("trajectory_order_parameter", ours, z.stats["run time"], direct))
    print(f"\n[{label}]  N={N}, dim={2 ** N}, jump operators={len(c_ops)}, ntraj={ntraj}, "
          f"t_final={tlist[-1]:g}/Γ")
    print(f"{'function':28s} {'ours traj/s':>12s} {'(solver only)':>14s} {'mcsolve traj/s':>15s} "
          f"{'ratio ours/direct':>18s}")
    for name, ours, solver, direct in rows:
        print(f"{name:28s} {ntraj / ours:12.3f} {ntraj / solver:14.3f} {ntraj / direct:15.3f} "
              f"{direct / ours:18.3f}")
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--N", type=int, default=12)
    p.add_argument("--ntraj", type=int, default=4)
    p.add_argument("--t-final", type=float, default=1.0)
    p.add_argument("--spacing", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    arr = DipoleArray.chain(a.N, a.spacing, 1.0, theta=MAGIC_ANGLE)
    fe = arr.effective_coupling[0]
    W = dtj._optimal_pumping_dicke(a.N, fe)
    arr = arr.with_pumping(W)
    print(f"chain N={a.N}, spacing={a.spacing}λ, θ=θ_m, f_eff={fe:.4f}Γ, W_opt={W:.3f}Γ "
          f"(maximum of the exact all-to-all Z_Q at the same f_eff)")
    tlist = np.linspace(0.0, a.t_final, 11)
    t0 = time.perf_counter()
    idle = measure(arr, tlist, a.ntraj, a.seed, "idle machine")
    t_idle = time.perf_counter() - t0
    with busy_cores() as n:
        t0 = time.perf_counter()
        busy = measure(arr, tlist, a.ntraj, a.seed, f"{n} busy-loop processes on {n} cores")
        t_busy = time.perf_counter() - t0
    print(f"\ntotal run time: idle {t_idle:.1f}s, with every core busy {t_busy:.1f}s "
          f"(slow-down ×{t_busy / t_idle:.2f})")
    for (name, o1, _, d1), (_, o2, _, d2) in zip(idle, busy):
        print(f"  {name:28s} ours {o1:.1f}s → {o2:.1f}s;  direct mcsolve {d1:.1f}s → {d2:.1f}s")


if __name__ == "__main__":
    main()
