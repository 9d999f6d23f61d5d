"""Dicke basis of several clusters (issue 9, seed 001 Fig. A1), idle and loaded (issue 11).

A product of the clusters' Dicke spaces (``method="dicke"`` with ``N=[N_1, N_2]``) side by side
with its reference, in one run:

* laser of two detuned clusters [2, 3] with a cavity (8 photon states), steady state and
  cavity spectrum (7 frequencies): ``dicke`` against the tensor space (``method="full"``);
* all-to-all dipoles with a pair set apart as a cluster [2, 4]: the pair's two-time
  correlation ``Z_ab(τ)``, ``dicke`` against ``full``;
* laser [5, 5], 8 photon states: the sector's direct sparse LU (``linear_solver="direct"``)
  against the aggregation GMRES (``"iterative"``, what ``"auto"`` picks above 2 000 elements);
* ``--large``: laser [8, 8] (aggregation; 126 000 elements) and seed 001 Fig. A1
  (``pair_decay_rates``, N = 70 as [2, 68], 10 pump rates, exact against cumulant).

Every pair of results is compared (the script raises if they disagree beyond the solver
tolerance).  ``--both`` measures idle, then with every core busy (one spinning process per
core, ``_load.busy_cores``), side by side; ``--loaded`` loaded only.  No BLAS variable is set
(the package limits BLAS threads itself).

Run:  python benchmarks/bench_dicke_clusters.py [--both | --loaded] [--large]
"""
import argparse
import time
import warnings

import numpy as np

import qutip_superrad as qsr
from qutip_superrad import examples
from _load import run_with_load

LASER = dict(coupling=0.7, kappa=2.0, emission=0.1, pumping=0.9, dephasing=0.05)


def laser(N):
    detuning = np.linspace(0.4, -0.3, len(N))
    return examples.superradiant_laser(N, detuning=detuning, **LASER)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def check(name, diff, tol):
    if not diff <= tol:
        raise AssertionError(f"{name}: methods disagree ({diff:.1e} > {tol:.0e})")


def measure(args):
    rows, notes = [], []
    warnings.simplefilter("ignore", qsr.TruncationWarning)

    model, ops = laser([2, 3])
    e = {"n": ops["photon_number"]}
    t_d, d = timed(lambda: qsr.steadystate(model, "dicke", e_ops=e, nphot=8))
    t_f, f = timed(lambda: qsr.steadystate(model, "full", e_ops=e, nphot=8))
    check("laser [2, 3]", rel(d.values["n"], f.values["n"]), 1e-9)
    rows += [("laser [2, 3] steady state: dicke", t_d), ("laser [2, 3] steady state: full", t_f)]
    notes.append(f"laser [2, 3]: {d.stats['dimension']} / {f.stats['dimension']} elements, "
                 f"⟨n⟩ = {d.values['n']:.10g}")
    om = np.linspace(-1.5, 1.5, 7)
    t_d, sd = timed(lambda: qsr.spectrum(model, om, "dicke", nphot=8).S)
    t_f, sf = timed(lambda: qsr.spectrum(model, om, "full", nphot=8).S)
    check("laser [2, 3] spectrum", rel(sd, sf), 1e-8)
    rows += [("laser [2, 3] spectrum, 7 frequencies: dicke", t_d),
             ("laser [2, 3] spectrum, 7 frequencies: full", t_f)]

    dip, _ = examples.all_to_all_dipoles([2, 4], collective_emission=1.5 / 6,
                                         emission=1 - 1.5 / 6, pumping=0.7)
    pair = dip.clusters.sum(dip.clusters.atom.sm, cluster=0)
    tau = np.linspace(0, 3, 16)
    t_d, zd = timed(lambda: qsr.correlation(dip, tau, "dicke", operator=pair))
    t_f, zf = timed(lambda: qsr.correlation(dip, tau, "full", operator=pair))
    check("dipoles [2, 4] Z_ab", rel(zd, zf), 1e-9)
    rows += [("dipoles [2, 4] Z_ab(τ), 16 delays: dicke", t_d),
             ("dipoles [2, 4] Z_ab(τ), 16 delays: full", t_f)]

    model, ops = laser([5, 5])
    e = {"n": ops["photon_number"]}
    runs = {}
    for solver in ("direct", "iterative"):
        t, r = timed(lambda: qsr.steadystate(model, "dicke", e_ops=e, nphot=8,
                                             linear_solver=solver))
        runs[solver] = r
        rows.append((f"laser [5, 5], 8 photon states: {solver}", t))
    check("laser [5, 5]", rel(runs["iterative"].values["n"], runs["direct"].values["n"]), 1e-9)
    notes.append(f"laser [5, 5]: {runs['direct'].stats['dimension']} elements, "
                 f"⟨n⟩ = {runs['direct'].values['n']:.10g}")

    if args.large:
        model, ops = laser([8, 8])
        t, r = timed(lambda: qsr.steadystate(model, "dicke", e_ops={"n": ops["photon_number"]},
                                             nphot=8, linear_solver="iterative"))
        rows.append(("laser [8, 8], 8 photon states: iterative", t))
        notes.append(f"laser [8, 8]: {r.stats['dimension']} elements, ⟨n⟩ = {r.values['n']:.10g}")
        from qutip_superrad.models.dipoles import pair_decay_rates
        W = [0.1, 0.3, 1, 2, 4, 7, 10, 15, 25, 40]
        t_d, gd = timed(lambda: pair_decay_rates(70, W, 15.0, method="dicke"))
        t_c, gc = timed(lambda: pair_decay_rates(70, W, 15.0, method="cumulant"))
        rows += [("Fig. A1, N = 70, 10 pump rates: dicke", t_d),
                 ("Fig. A1, N = 70, 10 pump rates: cumulant", t_c)]
        notes.append("Fig. A1 exact γ: " + ", ".join(f"{g:.4g}" for g in gd["gamma"])
                     + "; cumulant γ: " + ", ".join(f"{g:.4g}" for g in gc["gamma"]))

    print("| case | time (s) |\n|---|---|")
    for case, t in rows:
        print(f"| {case} | {t:.3g} |")
    for n in notes:
        print(f"- {n}")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", action="store_true",
                    help="also laser [8, 8] and Fig. A1 (several minutes)")
    run_with_load(ap, measure)
