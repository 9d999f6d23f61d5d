"""BLAS threads under load (issue 11): the solvers' default limit vs unlimited BLAS.

Cases from issue 11: ``SuperradiantLaser(N=30, g=1, κ=10, Γ=0.1, R=1)`` Dicke steady state
(nphot = 12); the per-pair order-2 steady state of a 900-dipole chain (α = 1).  Each is run
idle and with one spinning process per core, once with the package default
(``QSR_BLAS_THREADS=1``) and once with ``QSR_BLAS_THREADS=all`` (BLAS threads unlimited),
each case in a fresh interpreter.

Run:  python benchmarks/bench_threads.py
"""
import os
import subprocess
import sys

from _load import busy_cores

CASES = {
    "laser dicke N=30, nphot=12": (
        "import qutip_superrad as qsr\n"
        "l = qsr.SuperradiantLaser(qsr.Ensemble.identical(30, g=1.0), kappa=10, emission=0.1, "
        "pumping=1.0)\n"
        "l.steadystate('dicke', nphot=12)\n"),
    "per-pair order 2, N=900 chain": (
        "from qutip_superrad.models.dipoles import DipoleArray, chain_positions\n"
        "DipoleArray.power_law(chain_positions(900), 1.0, 3.5).steadystate('cumulant')\n"),
}


def run(code, threads):
    env = dict(os.environ, QSR_BLAS_THREADS=threads)
    env.pop("OPENBLAS_NUM_THREADS", None)
    prog = ("import time\n" + "t0 = time.perf_counter()\n" + code
            + "print(time.perf_counter() - t0)\n")
    # the import is outside the timed region; warm the import first
    out = subprocess.run([sys.executable, "-c", prog], env=env, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    print(f"{os.cpu_count()} cores")
    print("| case | load | default (1 thread) s | unlimited BLAS s | ratio |\n|---|---|---|---|---|")
    for name, code in CASES.items():
        for loaded in (False, True):
            with busy_cores(loaded):
                t1 = run(code, "1")
                ta = run(code, "all")
            print(f"| {name} | {'loaded' if loaded else 'idle'} | {t1:.2f} | {ta:.2f} | "
                  f"{ta / t1:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
