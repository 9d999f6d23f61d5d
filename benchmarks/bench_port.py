"""Tracked cases before and after the port onto one model description (issue 9).

Runs the same public calls on two source trees side by side, alternating, each case in
a fresh subprocess (import not timed), best of ``--repeat``:

* baseline: the tree before the port (``git archive 1169932``), given by ``--baseline``;
* current: this checkout.

Prepare the baseline once (the Cython sources did not change, so the built kernels are
copied)::

    mkdir -p /tmp/old && git archive 1169932 | tar -x -C /tmp/old
    cp qutip_superrad/_kernels/*.so /tmp/old/qutip_superrad/_kernels/
    python benchmarks/bench_port.py --baseline /tmp/old [--loaded] [--repeat 3]

``--loaded`` keeps every core busy with one pure-Python spinning process per core
during the measurement (users run sweeps and notebooks side by side).  The calls use
the old keyword names (``gamma``, ``pump``), which the current tree accepts with a
``DeprecationWarning``, so that one snippet runs on both trees.  Goal: no case slower
than the baseline by more than 20 %.  BLAS threads are not pinned unless the caller
sets ``OPENBLAS_NUM_THREADS``.
"""
import argparse
import json
import os
import platform
import subprocess
import sys

from _load import busy_cores

HERE = os.path.dirname(os.path.abspath(__file__))
CURRENT = os.path.dirname(HERE)

# each case: (label, setup, timed statement, result expression)
CASES = [
    ("laser full N=5 nphot=12",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(5, g=1.0), kappa=10, gamma=0.1, pump=1)",
     "r = l.steadystate('full', nphot=12)", "r.photon_number"),
    ("laser dicke N=5 nphot=12",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(5, g=1.0), kappa=10, gamma=0.1, pump=1)",
     "r = l.steadystate('dicke', nphot=12)", "r.photon_number"),
    ("laser dicke N=20 nphot=12",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(20, g=1.0), kappa=10, gamma=0.1, pump=1)",
     "r = l.steadystate('dicke', nphot=12, check_positivity=False)", "r.photon_number"),
    ("laser dicke N=40 nphot=12",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(40, g=1.0), kappa=10, gamma=0.1, pump=1)",
     "r = l.steadystate('dicke', nphot=12, check_positivity=False)", "r.photon_number"),
    ("bad cavity N=1000 steady state + spectrum",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(1000, g=1.0), kappa=10, gamma=0.1,"
     " pump=1).eliminate_cavity()",
     "r = l.spectrum(np.linspace(-5, 5, 101), 'dicke')", "r.linewidth"),
    ("cumulant laser M=201 steady state + spectrum",
     "l = qsr.SuperradiantLaser(qsr.Ensemble.gaussian(1e4, 0.1, 201, width=1.0, g=0.002,"
     " integer=False), kappa=1.0, gamma=0.001, pump=0.01)",
     "s = l.steadystate(method='cumulant', check_stability=False); "
     "r = l.spectrum(np.linspace(-0.5, 0.5, 401), method='cumulant', state=s)", "r.linewidth"),
    ("collective pumping N=1000 manifold steady state + rate",
     "m = qsr.CollectivePumping(1000, gamma=1.0, pump=300.0)",
     "r = m.steadystate(); lam = m.relaxation_rate()", "r.jz"),
    ("engine V-level N=2000 order 2: close + steady state (table kernel)",
     "from qutip_superrad.cumulant.engine import Clusters, Mode, Model, parameters\n"
     "a = Mode('a'); cl = Clusters('s', 3); t = cl.atom\n"
     "Dc, g, D2, D3, O2, O3, G2, G3, k, n2, n3 = parameters("
     "'Delta_c g Delta_2 Delta_3 Omega_2 Omega_3 Gamma_2 Gamma_3 kappa nu_2 nu_3')\n"
     "H = -Dc * a.num() + cl.sum(g * (a.adag * t.s(1, 2) + a.a * t.s(2, 1)) - D2 * t.s(2, 2)"
     " - D3 * t.s(3, 3) + O2 * (t.s(2, 1) + t.s(1, 2)) + O3 * (t.s(3, 1) + t.s(1, 3)))\n"
     "mod = Model(H, [(k, a.a), (G2, cl.each(t.s(1, 2))), (G3, cl.each(t.s(1, 3))),"
     " (n3, cl.sum(t.s(3, 3))), (n2, a.num() + cl.sum(t.s(2, 2)))])\n"
     "P = dict(Delta_c=0.0, g=0.002, Delta_2=5.0, Delta_3=-1.0, Omega_2=0.5, Omega_3=0.5,"
     " Gamma_2=1 / 4266, Gamma_3=1.0, kappa=0.05, nu_2=0.0, nu_3=0.0)",
     "r = mod.close(2).solver(P, dict(N=[2000.0]), backend='auto').steadystate()",
     "r['a† a']"),
]

RUNNER = """
import json, time, warnings, sys
warnings.simplefilter("ignore")
import numpy as np
import qutip_superrad as qsr
TREE = {tree!r}
assert qsr.__file__.startswith(TREE), qsr.__file__
{setup}
t = time.perf_counter()
{stmt}
dt = time.perf_counter() - t
print(json.dumps(dict(time=dt, value=float(np.real({result})))))
"""


def run(tree, case):
    label, setup, stmt, result = case
    code = RUNNER.format(tree=tree, setup=setup, stmt=stmt, result=result)
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd="/", capture_output=True,
                         text=True)
    if out.returncode:
        raise RuntimeError(f"{label} on {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="source tree before the port")
    ap.add_argument("--loaded", action="store_true", help="one spinning process per core")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", type=int, help="case numbers (0-based)")
    args = ap.parse_args()
    trees = {"baseline": os.path.abspath(args.baseline), "current": CURRENT}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}, loaded={args.loaded}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print("\n| case | baseline (s) | current (s) | current/baseline | values |")
    print("|---|---|---|---|---|")
    with busy_cores(args.loaded):
        for i, case in enumerate(CASES):
            if args.only and i not in args.only:
                continue
            best = {k: None for k in trees}
            for _ in range(args.repeat):
                for name, tree in trees.items():     # alternate: drift hits both
                    r = run(tree, case)
                    if best[name] is None or r["time"] < best[name]["time"]:
                        best[name] = r
            b, c = best["baseline"], best["current"]
            print(f"| {case[0]} | {b['time']:.3f} | {c['time']:.3f} | "
                  f"{c['time'] / b['time']:.2f} | {b['value']:.10g} / {c['value']:.10g} |",
                  flush=True)


if __name__ == "__main__":
    main()
