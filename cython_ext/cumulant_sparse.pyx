# cython: language_level=3
"""Sparse kernel of closed cumulant equations: products of slots, then row sums of products.

Evaluates the arrays of :class:`qutip_superrad.cumulant.engine.lower.LoweredSystem`
(read its docstring for the layout): base slots ``1, y, ȳ, y + ȳ, y − ȳ``, then
the coefficient slots; products ``m[k] = m[a[k]] · m[b[k]]``; ``dy[r] = Σ
m[x_e] · m[y_e]`` over the entries of row ``r``; and the Jacobian weights ``W[w]
+= s · c_g · m[d]``.  Precompiled at install, so no model needs a C compiler.
NumPy oracle: ``LoweredSystem.rhs_numpy`` and ``LoweredSystem.jacobian_weights_numpy``.

A call of :meth:`SparsePoly.rhs` allocates nothing: the work vector lives in the
object, and the state and output arrays are read through the NumPy C API (no
memoryview objects, no buffer export).
"""
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memset

import numpy as np
cimport numpy as cnp

cnp.import_array()


cdef extern from "cumulant_sparse_core.h" nogil:
    void qsr_products(double *m, const uint64_t *ab, long start, long count)
    void qsr_row_sums(double *dy, const double *m, const int64_t *rp, const uint64_t *xy, long n)


def _packed(a, b, Py_ssize_t nslots):
    """Byte offsets ``16 a | 16 b << 32`` of slot pairs (uint64), checked against ``nslots``."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("slot pairs need two 1-d arrays of equal length")
    if a.size and not (0 <= min(a.min(), b.min()) and max(a.max(), b.max()) < nslots):
        raise ValueError(f"slot out of range 0..{nslots - 1}")
    return np.ascontiguousarray((a.astype(np.uint64) << 4) | (b.astype(np.uint64) << 36))


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
    n_coef : int
        Coefficient slots (after the ``1 + 4n`` base slots).
    mono_a, mono_b : int arrays
        Product recipes (slots from ``1 + 4n + n_coef`` on).
    n_rhs : int
        Number of slots the right-hand side needs.
    row_ptr, ent_x, ent_y : int arrays
        Entries ``row_ptr[r]:row_ptr[r + 1]`` of row ``r`` and their two slots.
    n_groups : int
        Number of group coefficients (:meth:`set_coefficients`).
    n_weights : int
        Length of the Jacobian weight vector ``W``.
    jac_w, jac_g, jac_m : int arrays; jac_s : float64 array
        Jacobian contributions.
    """

    cdef readonly Py_ssize_t n, nbase, ncoef, nfirst, nrhs, nall, ngroups, njac, nweights
    cdef int[::1] jw, jg, jm
    cdef int64_t[::1] rp
    cdef uint64_t[::1] ab, xy
    cdef double[::1] js, coef, m

    def __init__(self, Py_ssize_t n, Py_ssize_t n_coef, mono_a, mono_b, Py_ssize_t n_rhs,
                 row_ptr, ent_x, ent_y, Py_ssize_t n_groups, Py_ssize_t n_weights,
                 jac_w, jac_g, jac_m, jac_s):
        cdef Py_ssize_t zero
        self.n = n
        self.nbase = 1 + 4 * n
        self.ncoef = n_coef
        self.nfirst = self.nbase + n_coef
        self.nall = self.nfirst + len(mono_a)
        if not self.nfirst <= n_rhs <= self.nall:
            raise ValueError("n_rhs out of range")
        if 16 * (self.nall + 1) >= 2 ** 32:
            raise ValueError(f"{self.nall} slots exceed the kernel's 32-bit offsets")
        self.nrhs = n_rhs
        zero = self.nall                          # one more slot, always 0: row padding
        self.ab = _packed(mono_a, mono_b, self.nall)
        if self.ab.shape[0] == 0:
            self.ab = np.zeros(1, dtype=np.uint64)
        # pad every row to a multiple of four entries with 1 · 0 (no remainder loop)
        rp = np.asarray(row_ptr, dtype=np.int64)
        if rp.shape != (n + 1,) or rp[0] != 0 or np.any(np.diff(rp) < 0) \
                or rp[n] != len(ent_x):
            raise ValueError("inconsistent row pointers")
        xy = _packed(ent_x, ent_y, self.nall)
        pad = -np.diff(rp) % 4
        padded = np.concatenate([[0], np.cumsum(np.diff(rp) + pad)])
        full = np.full(padded[n], _packed([0], [zero], zero + 1)[0], dtype=np.uint64)
        full[np.repeat(padded[:n] - rp[:n], np.diff(rp)) + np.arange(rp[n])] = xy
        self.xy = full if full.shape[0] else np.zeros(1, dtype=np.uint64)
        self.rp = np.ascontiguousarray(padded, dtype=np.int64)
        self.ngroups = n_groups
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
        self.coef = np.zeros(2 * self.ngroups + 2)
        self.m = np.zeros(2 * (self.nall + 1))

    def set_coefficients(self, const double complex[::1] c, const double complex[::1] slots):
        """Store the group coefficients (``LoweredSystem.coefficients``, for the Jacobian)
        and the coefficient slots (``LoweredSystem.slot_coefficients``)."""
        cdef Py_ssize_t g
        if c.shape[0] != self.ngroups:
            raise ValueError(f"expected {self.ngroups} coefficients, got {c.shape[0]}")
        if slots.shape[0] != self.ncoef:
            raise ValueError(f"expected {self.ncoef} coefficient slots, got {slots.shape[0]}")
        for g in range(self.ngroups):
            self.coef[2 * g] = c[g].real
            self.coef[2 * g + 1] = c[g].imag
        for g in range(self.ncoef):
            self.m[2 * (self.nbase + g)] = slots[g].real
            self.m[2 * (self.nbase + g) + 1] = slots[g].imag

    cdef void _monomials(self, const double *y, Py_ssize_t count) noexcept nogil:
        cdef double *m = &self.m[0]
        cdef Py_ssize_t i, n = self.n
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
        qsr_products(m, &self.ab[0], self.nfirst, count - self.nfirst)

    def rhs(self, y, out):
        """``out[:] = dy/dt`` at ``y`` (both complex128, contiguous, ``n`` entries)."""
        cdef const double *py = _data(y, self.n, False)
        cdef double *po = _data(out, self.n, True)
        with nogil:
            self._monomials(py, self.nrhs)
            qsr_row_sums(po, &self.m[0], &self.rp[0], &self.xy[0], self.n)

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
