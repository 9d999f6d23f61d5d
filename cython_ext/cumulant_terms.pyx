# cython: language_level=3
"""Sparse polynomial right-hand side of closed cumulant equations (no clusters).

``dy[target[t]] += coef[t] * Π_{f in term t} (conj? y[idx[f]])``: the table form
of a :class:`~qutip_superrad.cumulant.engine.closure.ClosedSystem` with one
cluster (``M = 1``) or concrete atoms only.  It is compiled once at install
time, so large concrete systems (e.g. a 6-site spin chain at third order)
need no run-time compilation.  NumPy oracle: ``engine.codegen.NumpyRHS``.
"""
from libc.string cimport memset

ctypedef double complex cplx


def poly_rhs(const cplx[::1] y, cplx[::1] dy, const cplx[::1] coef,
             const int[::1] target, const int[::1] start, const int[::1] idx,
             const unsigned char[::1] conj):
    """Evaluate the table (see module docstring) into ``dy`` (overwritten)."""
    cdef Py_ssize_t t, f, nt = coef.shape[0]
    cdef cplx v, w
    with nogil:
        memset(&dy[0], 0, dy.shape[0] * sizeof(cplx))
        for t in range(nt):
            v = coef[t]
            for f in range(start[t], start[t + 1]):
                w = y[idx[f]]
                if conj[f]:
                    w = w.real - 1j * w.imag
                v = v * w
            dy[target[t]] = dy[target[t]] + v
