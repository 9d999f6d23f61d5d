"""BLAS threads around the solvers (issue 11).

Our solvers call BLAS/LAPACK on small and medium matrices (sparse LU fronts, GMRES,
dense Jacobians, N×N matmuls).  Multithreaded BLAS gains little there, and when the cores
are busy (a parallel sweep, a second notebook) its threads spin-wait for cores that are
taken: measured 10–40× slow-downs.  Every public solver entry point therefore runs with
BLAS limited to ``QSR_BLAS_THREADS`` threads (default 1) through :mod:`threadpoolctl`,
restoring the caller's setting on return.  ``QSR_BLAS_THREADS=all`` switches the limit off
(for one very large dense problem on an idle machine).
"""
import functools
import os
import sys
import threading

__all__ = ["limited_blas", "blas_threads"]

_state = threading.local()


def blas_threads():
    """The limit in force: an int, or ``None`` for no limit (``QSR_BLAS_THREADS=all``)."""
    v = os.environ.get("QSR_BLAS_THREADS", "1").strip().lower()
    if v in ("all", "none", ""):
        return None
    try:
        n = int(v)
    except ValueError:
        raise ValueError(f"QSR_BLAS_THREADS must be a positive integer or 'all', got {v!r}") \
            from None
    if n < 1:
        raise ValueError(f"QSR_BLAS_THREADS must be >= 1 or 'all', got {n}")
    return n


#: ``(threadpoolctl.ThreadpoolController, len(sys.modules) when it was made)``
_controller = None


def _blas_controller():
    """The process's :class:`threadpoolctl.ThreadpoolController`, made once and remade only
    when modules were imported since (a new extension may have brought another BLAS).

    Finding the thread pools scans every loaded shared library: 3–17 ms per
    ``threadpool_limits`` call in a QuTiP process (issue 11: it made the 0.5 ms manifold
    steady state take 3.6 ms idle, and 6× that with the cores busy); setting and restoring a
    limit through a kept controller takes ~0.1 ms.
    """
    global _controller
    c = _controller
    if c is None or c[1] != len(sys.modules):
        from threadpoolctl import ThreadpoolController
        ctl = ThreadpoolController()
        c = _controller = (ctl, len(sys.modules))
    return c[0]


def limited_blas(fn):
    """Decorator: run ``fn`` with BLAS limited to :func:`blas_threads` threads.

    Nested calls do not re-enter (one limit per outermost call, ~0.1 ms).
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        n = blas_threads()
        if n is None or getattr(_state, "depth", 0):
            return fn(*args, **kwargs)
        _state.depth = 1
        try:
            with _blas_controller().limit(limits=n, user_api="blas"):
                return fn(*args, **kwargs)
        finally:
            _state.depth = 0
    return wrapper
