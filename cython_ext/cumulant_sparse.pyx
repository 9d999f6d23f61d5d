# cython: language_level=3
"""Sparse kernel of closed cumulant equations: monomials, then grouped sparse products.

Evaluates the arrays of :class:`qutip_superrad.cumulant.engine.lower.LoweredSystem`
(read its docstring for the layout): base slots ``1, y, ȳ, y + ȳ, y − ȳ``;
monomials ``m[k] = m[a[k]] · m[b[k]]``; ``dy[r] = Σ w m + i Σ w m`` over the
real- and imaginary-weight segments of row ``r``; and the Jacobian weights
``W[w] += s · c_g · m[d]``.  Precompiled at install, so no model
needs a C compiler.  NumPy oracle: ``LoweredSystem.rhs_numpy`` and
``LoweredSystem.jacobian_weights_numpy``.

A call of :meth:`SparsePoly.rhs` allocates nothing: the work vector lives in the
object, and the state and output arrays are read through the NumPy C API (no
memoryview objects, no buffer export).
"""
from libc.string cimport memset

import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef extern from "cumulant_sparse_core.h" nogil:
    void qsr_monomials(double *m, const int *a, const int *b, long nb, long count)
    void qsr_apply(double *dy, const double *m, const int *seg, const int *ix,
                   const double *w, long n)


cdef double *_data(object obj, Py_ssize_t n, bint writable) except NULL:
    """Data of a C-contiguous complex128 ndarray of ``n`` entries (raises otherwise).

    Read through the NumPy C API: the buffer protocol would make NumPy allocate
    (and free) its buffer description at every call.
    """
    cdef cnp.ndarray a
    if not isinstance(obj, cnp.ndarray):
        raise TypeError("expected a NumPy array")
    a = <cnp.ndarray>obj
    if (cnp.PyArray_TYPE(a) != cnp.NPY_COMPLEX128 or not cnp.PyArray_IS_C_CONTIGUOUS(a)
            or cnp.PyArray_SIZE(a) != n or (writable and not cnp.PyArray_ISWRITEABLE(a))):
        raise ValueError(f"expected a contiguous{' writable' if writable else ''} complex128 "
                         f"array of {n} entries")
    return <double *>cnp.PyArray_DATA(a)


cdef class SparsePoly:
    """Lowered equations bound to preallocated work buffers.

    Parameters
    ----------
    n : int
        Complex unknowns.
    mono_a, mono_b : int32 arrays
        Monomial recipes (slots from ``1 + 4n`` on).
    n_rhs : int
        Number of slots the right-hand side needs.
    row_seg, ent_idx : int32 arrays
        Real- and imaginary-weight segments of each row, their monomial slots.
    n_groups : int
        Number of group coefficients (:meth:`set_coefficients`).
    n_weights : int
        Length of the Jacobian weight vector ``W``.
    jac_w, jac_g, jac_m : int32 arrays; jac_s : float64 array
        Jacobian contributions.
    """

    cdef readonly Py_ssize_t n, nbase, nrhs, nall, ngroups, njac, nweights
    cdef int[::1] a, b, seg, ix, jw, jg, jm
    cdef double[::1] js, coef, w, m

    def __init__(self, Py_ssize_t n, mono_a, mono_b, Py_ssize_t n_rhs, row_seg, ent_idx,
                 Py_ssize_t n_groups, Py_ssize_t n_weights, jac_w, jac_g, jac_m, jac_s):
        self.n = n
        self.nbase = 1 + 4 * n
        self.a = np.ascontiguousarray(mono_a, dtype=np.intc)
        self.b = np.ascontiguousarray(mono_b, dtype=np.intc)
        self.nall = self.nbase + self.a.shape[0]
        if not self.nbase <= n_rhs <= self.nall:
            raise ValueError("n_rhs out of range")
        self.nrhs = n_rhs
        self.seg = np.ascontiguousarray(row_seg, dtype=np.intc)
        self.ix = np.ascontiguousarray(ent_idx, dtype=np.intc)
        if self.seg.shape[0] != 2 * n + 1 or self.seg[2 * n] != self.ix.shape[0]:
            raise ValueError("inconsistent row segments")
        self.ngroups = n_groups
        self.w = np.zeros(self.ix.shape[0] + 1)
        if self.ix.shape[0] == 0:               # keep &x[0] valid
            self.ix = np.zeros(1, dtype=np.intc)
        self.jw = np.ascontiguousarray(jac_w, dtype=np.intc)
        self.jg = np.ascontiguousarray(jac_g, dtype=np.intc)
        self.jm = np.ascontiguousarray(jac_m, dtype=np.intc)
        self.js = np.ascontiguousarray(jac_s, dtype=np.float64)
        self.njac = self.jw.shape[0]
        self.nweights = n_weights
        if self.njac and not 0 <= np.min(self.jw) <= np.max(self.jw) < n_weights:
            raise ValueError("Jacobian weight index out of range")
        if self.njac == 0:
            self.jw = np.zeros(1, dtype=np.intc)
            self.jg = np.zeros(1, dtype=np.intc)
            self.jm = np.zeros(1, dtype=np.intc)
            self.js = np.zeros(1)
        if self.a.shape[0] == 0:
            self.a = np.zeros(1, dtype=np.intc)
            self.b = np.zeros(1, dtype=np.intc)
        self.coef = np.zeros(2 * self.ngroups + 2)
        self.m = np.zeros(2 * self.nall)

    def set_coefficients(self, const double complex[::1] c, const double[::1] w):
        """Store the group coefficients and entry weights (``LoweredSystem.coefficients``,
        ``LoweredSystem.weights``)."""
        cdef Py_ssize_t g
        if c.shape[0] != self.ngroups:
            raise ValueError(f"expected {self.ngroups} coefficients, got {c.shape[0]}")
        if w.shape[0] != self.seg[2 * self.n]:
            raise ValueError(f"expected {self.seg[2 * self.n]} weights, got {w.shape[0]}")
        for g in range(self.ngroups):
            self.coef[2 * g] = c[g].real
            self.coef[2 * g + 1] = c[g].imag
        for g in range(w.shape[0]):
            self.w[g] = w[g]

    cdef void _monomials(self, const double *y, Py_ssize_t count) noexcept nogil:
        cdef double *m = &self.m[0]
        cdef const int *a = &self.a[0]
        cdef const int *b = &self.b[0]
        cdef Py_ssize_t i, n = self.n, nb = self.nbase
        cdef double yr, yi
        m[0] = 1.0
        m[1] = 0.0
        for i in range(n):
            yr = y[2 * i]
            yi = y[2 * i + 1]
            m[2 + 2 * i] = yr
            m[3 + 2 * i] = yi
            m[2 + 2 * (n + i)] = yr
            m[3 + 2 * (n + i)] = -yi
            m[2 + 2 * (2 * n + i)] = 2.0 * yr
            m[3 + 2 * (2 * n + i)] = 0.0
            m[2 + 2 * (3 * n + i)] = 0.0
            m[3 + 2 * (3 * n + i)] = 2.0 * yi
        qsr_monomials(m, a, b, nb, count)

    cdef void _apply(self, double *dy) noexcept nogil:
        qsr_apply(dy, &self.m[0], &self.seg[0], &self.ix[0], &self.w[0], self.n)

    def rhs(self, y, out):
        """``out[:] = dy/dt`` at ``y`` (both complex128, contiguous, ``n`` entries)."""
        cdef const double *py = _data(y, self.n, False)
        cdef double *po = _data(out, self.n, True)
        with nogil:
            self._monomials(py, self.nrhs)
            self._apply(po)

    def jacobian_weights(self, y, W):
        """``W[w] = Σ s · c_g · m[d]`` (Wirtinger derivatives, ``LoweredSystem.jac_w``)."""
        cdef const double *py = _data(y, self.n, False)
        cdef double *pw = _data(W, self.nweights, True)
        cdef const double *m = &self.m[0]
        cdef const double *c = &self.coef[0]
        cdef Py_ssize_t t, g, d, w
        cdef double v_r, v_i, s
        with nogil:
            self._monomials(py, self.nall)
            memset(pw, 0, self.nweights * 16)
            for t in range(self.njac):
                w = self.jw[t]
                g = self.jg[t]
                d = self.jm[t]
                s = self.js[t]
                v_r = c[2 * g] * m[2 * d] - c[2 * g + 1] * m[2 * d + 1]
                v_i = c[2 * g] * m[2 * d + 1] + c[2 * g + 1] * m[2 * d]
                pw[2 * w] += s * v_r
                pw[2 * w + 1] += s * v_i
