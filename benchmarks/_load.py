"""Shared by the benchmark scripts: keep every core busy while measuring ("loaded").

Users run sweeps and notebooks side by side; a solver that only looks fast on an idle
machine is not fast.  ``with busy_cores(True): ...`` starts one spinning process per core
and stops them on exit (also on errors).
"""
import contextlib
import multiprocessing as mp
import os


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
