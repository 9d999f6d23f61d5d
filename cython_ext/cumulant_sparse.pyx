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
object and the state and output are read through the buffer protocol (no
memoryview objects).
"""
from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS,
                             PyBUF_FORMAT, PyBUF_WRITABLE)
from libc.string cimport memset

import numpy as np


cdef extern from "cumulant_sparse_core.h" nogil:
    void qsr_monomials(double *m, const int *a, const int *b, long nb, long count)
    void qsr_apply(double *dy, const double *m, const int *seg, const int *ix,
                   const double *w, long n)


cdef int _complex_buffer(object obj, Py_buffer *view, Py_ssize_t n, int writable) except -1:
    """Acquire a C-contiguous complex128 buffer of ``n`` entries (raises otherwise)."""
    PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT
                       | (PyBUF_WRITABLE if writable else 0))
    if (view.itemsize != 16 or view.format == NULL or view.format[0] != b'Z'
            or view.format[1] != b'd' or view.len != 16 * n):
        PyBuffer_Release(view)
        raise ValueError(f"expected a contiguous complex128 array of {n} entries")
    return 0


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
    jac_w, jac_g, jac_m : int32 arrays; jac_s : float64 array
        Jacobian contributions.
    """

    cdef readonly Py_ssize_t n, nbase, nrhs, nall, ngroups, njac, nweights
    cdef int[::1] a, b, seg, ix, jw, jg, jm
    cdef double[::1] js, coef, w, m

    def __init__(self, Py_ssize_t n, mono_a, mono_b, Py_ssize_t n_rhs, row_seg, ent_idx,
                 Py_ssize_t n_groups, jac_w, jac_g, jac_m, jac_s):
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
        self.nweights = int(np.max(self.jw)) + 1 if self.njac else 0
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
        cdef Py_buffer by, bo
        _complex_buffer(y, &by, self.n, 0)
        try:
            _complex_buffer(out, &bo, self.n, 1)
        except BaseException:
            PyBuffer_Release(&by)
            raise
        with nogil:
            self._monomials(<const double *>by.buf, self.nrhs)
            self._apply(<double *>bo.buf)
        PyBuffer_Release(&by)
        PyBuffer_Release(&bo)

    def jacobian_weights(self, y, W):
        """``W[w] = Σ s · c_g · m[d]`` (Wirtinger derivatives, ``LoweredSystem.jac_w``)."""
        cdef Py_buffer by, bw
        cdef Py_ssize_t t, g, d, w, nw
        cdef double v_r, v_i, s
        cdef double *pw
        cdef const double *m = &self.m[0]
        cdef const double *c = &self.coef[0]
        _complex_buffer(y, &by, self.n, 0)
        try:
            PyObject_GetBuffer(W, &bw, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE)
        except BaseException:
            PyBuffer_Release(&by)
            raise
        nw = bw.len // 16
        if bw.itemsize != 16 or bw.format[0] != b'Z' or nw < self.nweights:
            PyBuffer_Release(&by)
            PyBuffer_Release(&bw)
            raise ValueError(f"W must be a contiguous complex128 array of >= {self.nweights} entries")
        pw = <double *>bw.buf
        with nogil:
            self._monomials(<const double *>by.buf, self.nall)
            memset(pw, 0, nw * 16)
            for t in range(self.njac):
                w = self.jw[t]
                g = self.jg[t]
                d = self.jm[t]
                s = self.js[t]
                v_r = c[2 * g] * m[2 * d] - c[2 * g + 1] * m[2 * d + 1]
                v_i = c[2 * g] * m[2 * d + 1] + c[2 * g + 1] * m[2 * d]
                pw[2 * w] += s * v_r
                pw[2 * w + 1] += s * v_i
        PyBuffer_Release(&by)
        PyBuffer_Release(&bw)
