"""Shared by the benchmark scripts: keep every core busy while measuring ("loaded").

Users run sweeps and notebooks side by side; a solver that only looks fast on an idle
machine is not fast.  ``with busy_cores(True): ...`` starts one spinning process per core
and stops them on exit (also on errors).
"""
import contextlib
import os
import subprocess
import sys
import time


_SPIN = "while True:\n    pass\n"


@contextlib.contextmanager
def busy_cores(enabled=True, n=None):
    """Run the block with ``n`` (default: every core) busy-loop processes alive.

    The spinners are fresh interpreters (``subprocess``, not a ``fork`` of a measuring process
    that may hold threads and gigabytes), each in a session of its own: with Linux autogroups
    (``/proc/sys/kernel/sched_autogroup_enabled``) the scheduler shares the CPU between
    sessions first, so spinners left in the measuring process's session would only compete
    with it, not with the rest of the machine (measured 6.2× instead of 1.5× for a pure-Python
    loop on a shared machine).
    """
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN], start_new_session=True,
                              stdin=subprocess.DEVNULL)
             for _ in range(n or os.cpu_count())] if enabled else []
    if procs:
        time.sleep(0.5)      # let the interpreters start before the measurement
    try:
        yield len(procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


def best_of(fn, repeat=1):
    """``(best wall time of repeat calls, last result)``."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run_with_load(ap, measure, argv=None):
    """Add ``--loaded`` and ``--both`` to the parser ``ap``, parse, and run ``measure(args)``.

    ``--loaded``: every core busy during the measurement.  ``--both``: measure idle, then
    loaded, in the same run; if ``measure`` returns rows ``(case, seconds)`` they are printed
    side by side as ``case | idle | loaded | loaded/idle`` (issue 11: target ≤ 2×; with one
    spinning neighbour per core the fair share of the machine gives 1.5×).
    """
    ap.add_argument("--loaded", action="store_true",
                    help="keep every core busy (one spinning process per core) while measuring")
    ap.add_argument("--both", action="store_true",
                    help="measure idle, then loaded (one spinning process per core), side by side")
    args = ap.parse_args(argv)
    if not args.both:
        with busy_cores(args.loaded):
            return measure(args)
    out = {}
    for label, flag in (("idle", False), ("loaded", True)):
        print(f"\n### {label}\n", flush=True)
        with busy_cores(flag):
            out[label] = measure(args)
    print_side_by_side(out.get("idle"), out.get("loaded"))
    return out


def print_side_by_side(idle, loaded):
    """Markdown table ``case | idle | loaded | loaded/idle`` from two lists of (case, seconds)."""
    if not idle or not loaded:
        return
    lt = dict(loaded)
    print("\n## Idle and loaded side by side\n")
    print("| case | idle (s) | loaded (s) | loaded/idle |")
    print("|---|---|---|---|")
    for case, ti in idle:
        tl = lt.get(case, float("nan"))
        print(f"| {case} | {fmt_time(ti)} | {fmt_time(tl)} | {tl / ti:.2f} |")


def fmt_time(t):
    """Seconds with three significant digits (ms-scale values stay readable)."""
    return f"{t:.3g}" if t < 100 else f"{t:.1f}"
