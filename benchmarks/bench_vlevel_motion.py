"""Benchmark of the moving-atom MCWF trajectories (seed 002, Sec. IV, Fig. 8), markdown table.

Run from the repository root::

    python benchmarks/bench_vlevel_motion.py [--loaded] [--t-final 2000] [--ntraj 500]

Measures, side by side in one run, for ``ntraj`` trajectories over
``t = 0 … t_final`` (units 1/Γ_3, 201 output times, the paper's lasing point
Δ_2 = 5, Δ_3 = −1, Ω_2 = Ω_3 = 0.5, Γ_2 = 1/4266, ν_2 = ν_3 = Γ_2):

* :func:`qutip_superrad.models.vlevel_motion.motion_trajectories` (⁸⁸Sr
  recoil, p_i(0) = 100 k_i) with the default options (``map="serial"``) and
  with ``map="parallel"`` on all cores;
* plain :func:`qutip.mcsolve` of the *fixed-atom* internal dynamics (the same
  3-level H at the antinode, same jump operators, e_ops = inversion) with
  default options and with ``map="parallel"``.

The ratio column is trajectories per second of ``motion_trajectories`` over
those of ``mcsolve`` with the same map.  ``--loaded`` starts one pure-Python
spinning :class:`multiprocessing.Process` per core for the duration of the
measurement (and stops them afterwards).
"""
import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qutip                                                            # noqa: E402

from qutip_superrad.models.vlevel_motion import motion_trajectories     # noqa: E402
from _load import busy_cores                                             # noqa: E402

PARS = dict(Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5, Gamma2=1 / 4266, Gamma3=1.0,
            nu2=1 / 4266, nu3=1 / 4266)


def fixed_atom_mcsolve(tlist, ntraj, map_):
    """qutip.mcsolve of eqs 1-4 at the antinode; level i is basis(3, 3 - i)."""
    lvl = {i: qutip.basis(3, 3 - i) for i in (1, 2, 3)}
    s = {(i, j): lvl[i] * lvl[j].dag() for i in lvl for j in lvl}
    p = PARS
    H = (-p["Delta2"] * s[2, 2] - p["Delta3"] * s[3, 3] + p["Omega2"] * (s[2, 1] + s[1, 2])
         + p["Omega3"] * (s[3, 1] + s[1, 3]))
    c_ops = [np.sqrt(p["Gamma2"]) * s[1, 2], np.sqrt(p["Gamma3"]) * s[1, 3],
             np.sqrt(p["nu2"]) * s[2, 2], np.sqrt(p["nu3"]) * s[3, 3]]
    return qutip.mcsolve(H, lvl[1], tlist, c_ops, e_ops=[s[2, 2] - s[1, 1]], ntraj=ntraj, seeds=1,
                         options={"progress_bar": False, "map": map_})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loaded", action="store_true", help="one spinning process per core during the runs")
    ap.add_argument("--t-final", type=float, default=2000.0, help="final time in 1/Γ_3 (default 2000)")
    ap.add_argument("--ntraj", type=int, default=500, help="trajectories (default 500, as the paper)")
    args = ap.parse_args()
    ncpu = os.cpu_count()
    tlist = np.linspace(0.0, args.t_final, 201)

    rows = []
    with busy_cores(args.loaded):
        for map_ in ("serial", "parallel"):
            opts = None if map_ == "serial" else {"map": "parallel", "num_cpus": ncpu}
            t0 = time.perf_counter()
            res = motion_trajectories(tlist, **PARS, ntraj=args.ntraj, seed=0, options=opts, progress_bar=False)
            t_motion = time.perf_counter() - t0
            t0 = time.perf_counter()
            mc = fixed_atom_mcsolve(tlist, args.ntraj, map_)
            t_mc = time.perf_counter() - t0
            rows.append((map_, t_motion, t_mc, res, mc))

    load = f"loaded ({ncpu} spinners)" if args.loaded else "idle"
    print(f"\n{platform.processor() or platform.machine()}, {ncpu} cores, numpy {np.__version__}, "
          f"qutip {qutip.__version__}; {args.ntraj} trajectories, t = 0…{args.t_final:g}/Γ_3, {load}\n")
    print("| load | map | motion_trajectories [s] | traj/s | mcsolve fixed atom [s] | traj/s | ratio |")
    print("|---|---|---|---|---|---|---|")
    for map_, t_motion, t_mc, res, mc in rows:
        a, b = args.ntraj / t_motion, args.ntraj / t_mc
        print(f"| {load} | {map_} | {t_motion:.1f} | {a:.1f} | {t_mc:.1f} | {b:.1f} | {a / b:.2f} |")
    res = rows[0][3]
    print(f"\nmotion: dt = {res.dt:g}, final E_x = {res.kinetic_energy[0, -1]:.3f}, "
          f"E_y = {res.kinetic_energy[1, -1]:.3f}, inversion = {res.inversion[-1]:.3f}; "
          f"fixed-atom mcsolve inversion = {rows[0][4].expect[0][-1]:.3f}")


if __name__ == "__main__":
    main()
