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


_controller = {}


def _blas_controller():
    """A :class:`threadpoolctl.ThreadpoolController` of the loaded libraries, kept while no
    new module is imported (finding the libraries reads the process's shared objects:
    ≈ 8 ms per call, measured, against 20 µs to set a limit with a kept controller; a BLAS
    library is loaded by an import, which this notices)."""
    from threadpoolctl import ThreadpoolController
    key = len(sys.modules)
    if _controller.get("key") != key:
        _controller.update(key=key, controller=ThreadpoolController())
    return _controller["controller"]


def limited_blas(fn):
    """Decorator: run ``fn`` with BLAS limited to :func:`blas_threads` threads.

    Nested calls do not re-enter (one limit per outermost call, ≈ 20 µs).
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
