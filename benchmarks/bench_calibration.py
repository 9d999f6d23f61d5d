"""Calibration of the loaded mode: a pure-Python CPU loop and a NumPy kernel, idle and loaded.

What the scheduler alone does to a single-threaded CPU-bound task when ``_load.busy_cores``
adds one spinning process per core: on an otherwise idle 2-core machine the task's fair share
falls from one core to 2/3 of one (loaded/idle = 1.5).  If the machine is shared with other
sessions (Linux autogroups: ``nice`` acts only inside a session, so other sessions' ``nice 19``
jobs get an equal share), or the "cores" are hyper-threads of one physical core, the ratio is
larger — this row is the reference for the loaded/idle ratios of the other benchmarks.

Run:  python benchmarks/bench_calibration.py [--seconds 3] [--repeat 3]
"""
import argparse
import time

import numpy as np

from _load import busy_cores


def python_loop(n=3_000_000):
    s = 0
    for i in range(n):
        s += i * i
    return s


def numpy_kernel(a=np.random.default_rng(0).normal(size=(200, 200))):
    for _ in range(200):
        a = np.tanh(a * 0.5 + 0.1)
    return a


def dense_eig(a=np.random.default_rng(1).normal(size=(400, 400))):
    """LAPACK dgeev, vector-unit bound; run with BLAS limited to one thread."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1, "blas"):
        return np.linalg.eigvals(a)


def measure(repeat):
    out = {}
    for name, fn in (("pure-Python loop", python_loop), ("NumPy elementwise kernel", numpy_kernel),
                     ("dense eigenvalues 400×400, 1 BLAS thread", dense_eig)):
        walls, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        out[name] = (min(walls), float(np.median(walls)), min(cpus))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    res = {}
    for label, flag in (("idle", False), ("loaded", True)):
        with busy_cores(flag):
            time.sleep(0.5 if flag else 0)
            res[label] = measure(args.repeat)
    print("| kernel | idle best / median (s) | loaded best / median (s) | loaded/idle (best) | "
          "CPU time idle / loaded (s) |")
    print("|---|---|---|---|---|")
    for k in res["idle"]:
        i, l_ = res["idle"][k], res["loaded"][k]
        print(f"| {k} | {i[0]:.3f} / {i[1]:.3f} | {l_[0]:.3f} / {l_[1]:.3f} | {l_[0] / i[0]:.2f} | "
              f"{i[2]:.3f} / {l_[2]:.3f} |")


if __name__ == "__main__":
    main()
