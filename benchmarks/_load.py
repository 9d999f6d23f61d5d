"""Shared by the benchmark scripts: keep every core busy while measuring ("loaded").

Users run sweeps and notebooks side by side; a solver that only looks fast on an idle
machine is not fast.  ``with busy_cores(True): ...`` starts one spinning process per core
and stops them on exit (also on errors).
"""
import contextlib
import multiprocessing as mp
import os
import time


def _spin():
    while True:
        pass


@contextlib.contextmanager
def busy_cores(enabled=True, n=None):
    """Run the block with ``n`` (default: every core) busy-loop processes alive."""
    procs = [mp.Process(target=_spin, daemon=True) for _ in range(n or os.cpu_count())] \
        if enabled else []
    for p in procs:
        p.start()
    try:
        yield len(procs)
    finally:
        for p in procs:
            p.terminate()


def best_of(fn, repeat=1):
    """``(best wall time of repeat calls, last result)``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_with_load(ap, measure, argv=None):
    """Add ``--loaded`` to the parser ``ap``, parse, and run ``measure(args)`` with every core
    busy when it is given."""
    ap.add_argument("--loaded", action="store_true",
                    help="keep every core busy (one spinning process per core) while measuring")
    args = ap.parse_args(argv)
    with busy_cores(args.loaded):
        return measure(args)

