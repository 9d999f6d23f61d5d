"""Pieces shared by the exact solvers: sector linear algebra, checks, results."""
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse import linalg as spla

from ..results import SpectrumResult
from ..spectrum import Lorentzians, lorentzian_sum, spectrum_features
from .._progress import Progress
from .._validate import (ConvergenceError, TimeLimitError, check_grid, check_int, check_real,
                         check_time_limit)

__all__ = ["TruncationWarning", "solve_steady", "check_truncation", "check_steady_options",
           "check_smoother",
           "check_evolve_options", "qrt_spectrum", "propagate", "STEADY_OPTIONS", "EVOLVE_OPTIONS"]

GiB = 2 ** 30
DEFAULT_MAX_MEMORY = 8 * GiB

#: options of the exact steady states (and spectra) beyond nphot and max_memory
STEADY_OPTIONS = {"strict": False, "truncation_tol": 1e-6, "max_time": 600.0,
                  "progress_bar": None}
#: options of the exact evolutions: QuTiP's integrator options (None: the exact propagator)
EVOLVE_OPTIONS = {"atol": None, "rtol": None, "nsteps": None, "max_time": None,
                  "progress_bar": None}
#: QuTiP's defaults of its "adams" integrator, used when only some of them are given
_QUTIP_ODE = {"atol": 1e-8, "rtol": 1e-6, "nsteps": 2500}


class TruncationWarning(UserWarning):
    """The top Fock state of a truncated mode holds too much population."""


class NotUniqueError(ValueError):
    """The sector Liouvillian is singular: the steady state is not unique (a subsystem
    without dissipation, or a conserved quantity)."""


def factorize(A):
    """Sparse LU tuned for Liouvillians (structurally symmetric, diagonally weighty).

    Minimum degree on ``Aᵀ + A`` with a preference for diagonal pivots gives
    1.7× less fill-in than SuperLU's default (COLAMD with partial pivoting) on
    the 4-index Dicke ⊗ Fock sectors (measured at N = 14, nphot = 12).
    """
    try:
        return spla.splu(A, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.01,
                         options={"SymmetricMode": True})
    except RuntimeError:
        return spla.splu(A, permc_spec="COLAMD")


try:                                    # SciPy's compiled sparse triangular solve (private)
    from scipy.sparse.linalg._dsolve._superlu import gstrs as _gstrs
except ImportError:                     # pragma: no cover - older or newer SciPy
    _gstrs = None


class _CompactLU:
    """The factors of a SuperLU object copied into plain CSC arrays, the object freed.

    SuperLU reserves its first fill guess (~100 entries per nonzero of the matrix) and keeps
    it: for the small slab LUs of the excitation smoother the address space reserved was
    3× the memory used (N = 100, 30 photon states: 4.1 GiB of address space for 1.6 GiB
    resident), which an address-space limit (``ulimit -v``) counts.  ``Pr A Pc = L U``
    is solved by one compiled triangular solve with ``U`` scaled to a unit diagonal by
    columns.  :meth:`compact` returns the SuperLU object itself when SciPy's routine is
    missing or does not reproduce its solution.
    """

    def __init__(self, lu):
        self.perm_r, self.perm_c = lu.perm_r.copy(), lu.perm_c.copy()   # views keep lu alive
        self.n = lu.shape[0]
        self.L = sp.csc_matrix(lu.L)
        U = sp.csc_matrix(lu.U)
        self.d = U.diagonal()
        U = sp.csc_matrix(U @ sp.diags(1.0 / self.d))
        U.setdiag(0)
        U.eliminate_zeros()
        self.U = U
        self.L.indices, self.L.indptr = (a.astype(np.intc) for a in (self.L.indices, self.L.indptr))
        self.U.indices, self.U.indptr = (a.astype(np.intc) for a in (self.U.indices, self.U.indptr))

    @property
    def nnz(self):
        """Stored entries of ``L`` and ``U`` (its diagonal kept apart)."""
        return self.L.nnz + self.U.nnz + self.n

    def solve(self, b):
        """``A⁻¹ b`` (a complex ``b`` with real factors: real and imaginary parts apart)."""
        if np.iscomplexobj(b) and not np.iscomplexobj(self.L.data):
            return self.solve(b.real) + 1j * self.solve(b.imag)
        y = np.empty(self.n, np.result_type(self.L.dtype, b.dtype))
        y[self.perm_r] = b
        L, U = self.L, self.U
        z, info = _gstrs("N", self.n, L.nnz, L.data, L.indices, L.indptr,
                         self.n, U.nnz, U.data, U.indices, U.indptr, y)
        if info:
            raise RuntimeError(f"triangular solve failed (info {info})")
        return (z / self.d)[self.perm_c]

    @classmethod
    def compact(cls, lu):
        """A :class:`_CompactLU` of ``lu``, or ``lu`` itself if the compact solve is not
        available or does not reproduce ``lu.solve`` on a random vector."""
        if _gstrs is None or lu.shape[0] == 0:
            return lu
        try:
            c = cls(lu)
            b = np.random.default_rng(0).standard_normal(lu.shape[0])
            ok = np.allclose(c.solve(b), lu.solve(b), rtol=1e-8, atol=0.0)
        except Exception:                 # a changed private signature: keep SuperLU
            return lu
        return c if ok else lu


class _BlockGaussSeidel:
    """Symmetric block Gauss–Seidel for ``A`` with exact LUs of its diagonal blocks.

    ``blocks`` are the start indices of the blocks (the total-spin blocks ``j`` of a Dicke ⊗
    Fock sector, or the excitation slabs of each, see :func:`_aggregated_gmres`).
    :meth:`sweep` is one forward and one backward sweep; :meth:`solve` is GMRES
    preconditioned by one sweep.
    """

    def __init__(self, A, blocks, compact=False):
        self.A = A = sp.csr_matrix(A)
        n = A.shape[0]
        self.starts = np.asarray(blocks, dtype=np.int64)
        self.ends = np.r_[self.starts[1:], n]
        self.blk = np.repeat(np.arange(self.starts.size), self.ends - self.starts)
        C = A.tocoo()
        inside = self.blk[C.row] == self.blk[C.col]
        off = sp.csr_matrix((C.data[~inside], (C.row[~inside], C.col[~inside])), shape=A.shape)
        self.off_rows = [off[s:e] for s, e in zip(self.starts, self.ends)]   # sliced once
        keep = _CompactLU.compact if compact else (lambda lu: lu)
        self.lus = [keep(factorize(A[s:e, s:e].tocsc())) for s, e in zip(self.starts, self.ends)]

    @property
    def fill(self):
        """Entries of the block factors (SuperLU's own count: ``lu.L``/``lu.U`` would copy
        every factor, which at N = 60, 52 photon states broke a 14 GiB address-space cap
        after the solve)."""
        return int(sum(lu.nnz for lu in self.lus))

    def sweep(self, x, r=None):
        """One sweep for ``A x = r`` (``r = None``: 0), in place on ``x``."""
        nb = self.starts.size
        for order in (range(nb), range(nb - 1, -1, -1)):
            for k in order:
                s, e = self.starts[k], self.ends[k]
                rhs = -(self.off_rows[k] @ x)
                if r is not None:
                    rhs += r[s:e]
                x[s:e] = self.lus[k].solve(rhs)
        return x

    def apply(self, r):
        """The preconditioner: one sweep from zero."""
        return self.sweep(np.zeros(r.shape, np.result_type(self.A.dtype, r.dtype)), r)

    def solve(self, A, b, tol=1e-12, maxiter=20, restart=60):
        """``A y = b`` by GMRES preconditioned with this sweep (``A`` may be a shift of the
        matrix the blocks were factorised for); raises if it does not converge."""
        count = [0]

        def tick(_):
            count[0] += 1
        M = spla.LinearOperator(A.shape, self.apply, dtype=complex)
        y, info = spla.gmres(A, b, M=M, rtol=tol, atol=0.0, restart=restart, maxiter=maxiter,
                             callback=tick, callback_type="pr_norm")
        if info != 0:
            raise ConvergenceError(f"block-preconditioned GMRES did not converge in {count[0]} "
                               f"iterations (dimension {A.shape[0]}, tolerance {tol:g})")
        return y


#: smoothers of :func:`_aggregated_gmres`: exact LUs of the total-spin blocks, or of the
#: excitation slabs of each block (:func:`solve_steady`'s ``slabs``)
SMOOTHERS = ("spin", "excitation")


#: smallest sub-block of the slab smoother: consecutive slabs of a block are merged until
#: they hold this many elements (0: no merging).  Laser C = 4, N = 100, 30 photon states,
#: jmax = 30: 0 → 63 iterations, 26 LU entries per element, 30 s; 3000 → 33 iterations,
#: 71 entries, 23 s.  The smoother is there for memory, so no merging by default.
MIN_SLAB = 0


def _slab_order(blocks, slabs, min_size=None, n=None):
    """Permutation that sorts the elements by (block, slab) and the start indices of the
    sub-blocks of equal (block, slab) in that order, consecutive slabs of a block merged
    until they hold ``min_size`` elements (default :data:`MIN_SLAB`); the block starts
    stay the same.  ``n`` (the sector's size) checks that ``slabs`` labels every element."""
    min_size = MIN_SLAB if min_size is None else min_size
    slabs = np.asarray(slabs)
    if n is not None and slabs.shape != (n,):
        raise ValueError(f"slabs must hold one label per element ({n}), got shape "
                         f"{slabs.shape}")
    n = slabs.size
    starts = np.asarray(blocks, dtype=np.int64)
    blk = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, n]))
    order = np.lexsort((np.arange(n), slabs, blk))
    key_b, key_s = blk[order], slabs[order]
    cuts = np.flatnonzero(np.r_[True, (np.diff(key_b) != 0) | (np.diff(key_s) != 0)])
    new_block = np.zeros(cuts.size, bool)
    new_block[np.searchsorted(cuts, starts)] = True
    sub, last = [], -min_size
    for c, nb in zip(cuts.tolist(), new_block.tolist()):
        if nb or c - last >= min_size:
            sub.append(c)
            last = c
    return order, np.asarray(sub, dtype=np.int64)


def _aggregated_gmres(A, t, blocks, tol, maxiter=20, restart=60, max_time=None, slabs=None):
    """Steady state ``A x = 0``, ``tᵀx = 1`` by GMRES with a two-level preconditioner.

    ``blocks`` are the start indices of diagonal blocks that only the slow processes couple
    (the total-spin blocks ``j`` of the Dicke ⊗ Fock space: only local emission, pumping and
    dephasing move population between them).  The preconditioner is the aggregation /
    disaggregation scheme of nearly decomposable Markov chains (Takahashi; Stewart,
    *Introduction to the Numerical Solution of Markov Chains*, ch. 6): a coarse system for
    the weight of each block, with the block shapes of two aggregation sweeps as the
    prolongation, followed by a symmetric block Gauss–Seidel sweep with exact block LUs.
    The singular system is made regular by the rank-one term ``s t tᵀ/|t|²``: ``(A + s t
    tᵀ/|t|²) x = s t/|t|²`` holds exactly for the steady state with ``tᵀx = 1``.
    Measured (laser, C = 10, nphot = 24): 16, 21, 41 iterations at N = 20, 30, 50, where
    the single-level preconditioner stalled.

    With ``slabs`` (an integer label per element) the Gauss–Seidel sweep runs over the
    finer sub-blocks of equal (block, slab) instead, each with its exact LU; the coarse
    system stays that of the blocks.  For the Dicke ⊗ Fock sector the slabs are ranges of
    the excitation number ``n + e``: the cavity Hamiltonian conserves it, so a slab holds
    the fast coherent dynamics and only decay and pumping couple the slabs.  The LU fill
    is then ~10× smaller (20 instead of 170 entries per element at N = 50) for ~2× the
    iterations (architecture decision 41).
    """
    n = A.shape[0]
    A = sp.csr_matrix(A)
    t = np.asarray(t)
    order = None
    if slabs is not None:
        order, sub = _slab_order(blocks, slabs, n=n)
        A, t = A[order][:, order], t[order]
    starts = np.asarray(blocks, dtype=np.int64)
    gs = _BlockGaussSeidel(A, starts if order is None else sub, compact=order is not None)
    nb = starts.size
    blk = np.repeat(np.arange(nb), np.diff(np.r_[starts, n]))
    agg = sp.csr_matrix((t, (blk, np.arange(n))), shape=(nb, n))     # block populations
    aggA = (agg @ A).tocsr()

    def per_block(x):
        return sp.csr_matrix((x, (np.arange(n), blk)), shape=(n, nb))

    # block shapes: aggregation (coarse balance of the block weights) + one sweep, twice
    x = np.where(t > 0, 1.0, 0.0).astype(A.dtype)
    x /= t @ x
    for _ in range(2):
        coarse = (aggA @ per_block(x)).toarray()
        coarse[-1] = agg @ x                            # normalisation replaces one balance
        rhs = np.zeros(nb)
        rhs[-1] = 1.0
        x = x * np.linalg.lstsq(coarse, rhs, rcond=None)[0][blk]
        x = gs.sweep(x)
        x /= t @ x
    s = float(abs(A).max())
    u = t * (s / (t @ t))

    def regular(v):
        return A @ v + u * (t @ v)

    P = per_block(x)
    coarse_inv = np.linalg.inv((agg @ sp.csr_matrix(A @ P)).toarray() + np.outer(agg @ u, P.T @ t))

    def prec(r):
        y = P @ (coarse_inv @ (agg @ r))
        return y + gs.apply(r - regular(y))

    count, start = [0], time.perf_counter()

    def tick(res):
        count[0] += 1
        if max_time is not None and time.perf_counter() - start > max_time:
            raise TimeLimitError(f"steady state: GMRES exceeded max_time = {max_time:.3g} s after "
                                 f"{count[0]} iterations on {n} unknowns (preconditioned "
                                 f"residual {res:.2e}, target {tol:.0e}); raise max_time, lower "
                                 "nphot or N, or use method='cumulant'")

    op = spla.LinearOperator(A.shape, regular, dtype=A.dtype)
    M = spla.LinearOperator(A.shape, prec, dtype=A.dtype)
    y, info = spla.gmres(op, u, x0=x, M=M, rtol=tol, atol=0.0, restart=restart,
                         maxiter=maxiter, callback=tick, callback_type="pr_norm")
    y = y / (t @ y)
    if order is not None:
        x = np.empty_like(y)
        x[order] = y
        y = x
    return y, {"solver": "gmres + aggregation", "iterations": count[0],
               "gmres_info": int(info), "blocks": int(nb),
               "smoother": "spin" if order is None else "excitation",
               "smoother_blocks": int(gs.starts.size), "preconditioner_fill": gs.fill}


def hermitian_real_form(L, swap):
    """Real form of a Hermiticity-preserving sector Liouvillian.

    With ``swap[a]`` the element conjugate to ``a`` (ket ↔ bra), a Hermitian
    state is described by the real vector ``y``: ``x_a = y_a`` on the
    diagonal, ``x_a = y_a + i y_b`` and ``x_b = y_a − i y_b`` for a pair
    ``a < b = swap[a]``.  The equations ``(Lx)_b = conj (Lx)_a`` are then
    redundant, so ``Re (Lx)_a = 0`` (row ``a``) and ``Im (Lx)_a = 0`` (row
    ``b``) form a real square system: same size, four times fewer flops and
    half the memory of the complex LU.

    Returns
    -------
    R : csc_matrix (real)
        The real system.
    T : csr_matrix (complex)
        ``x = T y``.
    """
    n = L.shape[0]
    idx = np.arange(n)
    swap = np.asarray(swap)
    first, second = swap > idx, swap < idx
    # column a of T (a < b): e_a + e_b ;  column b: i e_a − i e_b ;  diagonal: e_a
    rows = np.concatenate([idx, idx[first], swap[first]])
    cols = np.concatenate([idx, swap[first], idx[first]])
    vals = np.concatenate([np.where(second, -1j, 1.0), np.full(first.sum(), 1j),
                           np.ones(first.sum())])
    T = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    LT = (sp.csr_matrix(L) @ T).tocsr()
    keep_re = sp.diags((swap >= idx).astype(float))
    pick_im = sp.csr_matrix((np.ones(second.sum()), (idx[second], swap[second])), shape=(n, n))
    R = (keep_re @ sp.csr_matrix(LT.real) + pick_im @ sp.csr_matrix(LT.imag)).tocsc()
    R.eliminate_zeros()
    return R, T


def _pinned_lu(A_all, t, pops, pivots):
    """Direct solve with one population pinned to 1 (see :func:`solve_steady`)."""
    n = A_all.shape[0]
    tried, info = [], {}
    candidates = [int(c) for c in pivots if c >= 0] + [int(pops[0]), int(pops[-1])]
    r = candidates[0]
    for _ in range(len(candidates) + 2):
        tried.append(r)
        keep = np.ones(n, bool)
        keep[r] = False
        A = A_all[keep][:, keep].tocsc()
        b = -A_all[keep][:, [r]].toarray().ravel()
        x = np.empty(n, A_all.dtype)
        x[r] = 1.0
        try:
            x[keep], info = factorize(A).solve(b), {"solver": "sparse LU"}
        except RuntimeError:                # singular: x_r = 0 in the true steady state
            x[:] = np.nan
        ok = np.all(np.isfinite(x))
        if ok:
            trace = np.sum(t * x)
            x = x / trace
            big = int(pops[np.argmax(np.abs(x[pops]))])
            if abs(x[r]) >= 1e-6 * abs(x[big]):
                break
            r = big
        else:
            untried = [c for c in candidates if c not in tried]
            if not untried:
                break
            r = untried[0]
            continue
        if r in tried:
            break
    return x, info, tried


def solve_steady(L, trace_weights, pivots=(), blocks=None, direct_limit=20000, tol=1e-11,
                 swap=None, max_time=None, slabs=None):
    """Unique steady state of a sector Liouvillian with the trace fixed to 1.

    Trace preservation makes ``tᵀL = 0``: the rows are dependent.  Instead of
    replacing a row by the (dense) trace row, which ruins the sparsity of the
    LU factors (this is what makes ``qutip.steadystate`` slow here), we fix one
    population ``x_r = 1``, drop row and column ``r`` and solve the remaining
    sparse system, then normalise by the trace.  If the chosen population
    turns out to be tiny compared with the largest one (a poor pivot), the
    solve is repeated with the largest population as pivot; if the system is
    singular for a pivot (its population vanishes), the next candidate of
    ``pivots`` (guesses from the caller, e.g. the ground and the fully
    excited state) is tried.

    Sectors larger than ``direct_limit`` with ``blocks`` (start indices of
    diagonal blocks coupled only by slow processes) are solved iteratively
    (:func:`_aggregated_gmres`), since the fill-in of a direct LU of the
    4-index Dicke ⊗ Fock sector grows roughly like ``dim^1.7``.

    With ``swap`` (the conjugate partner of every element) the system is
    solved in the real form of :func:`hermitian_real_form`.  ``max_time`` (seconds)
    bounds the iterative solve (:class:`~qutip_superrad.TimeLimitError`).  ``slabs`` (a
    label per element, equal for an element and its conjugate partner) makes the
    iterative solve's smoother factorise the sub-blocks of equal (block, slab) instead of
    whole blocks (:func:`_aggregated_gmres`): less memory, more iterations.

    Returns
    -------
    x : ndarray
        Steady state (trace 1).
    residual : float
        ``max|L x| / (max|L| · max|x|)``.
    info : dict
        How the system was solved (direct or GMRES, iterations).
    """
    L = sp.csc_matrix(L, dtype=complex)
    t = np.asarray(trace_weights, dtype=float)
    pops = np.flatnonzero(t)
    n = L.shape[0]
    if n == 1:
        return np.ones(1, complex), 0.0, {"solver": "trivial"}
    T = None
    if swap is not None:
        A_all, T = hermitian_real_form(L, swap)
    else:
        A_all = L
    if blocks is not None and n > direct_limit:
        try:
            x, info = _aggregated_gmres(A_all, t, blocks, tol, max_time=max_time, slabs=slabs)
        except TimeLimitError:
            raise
        except RuntimeError:                # a singular block: the steady state is not unique
            x, info = np.full(n, np.nan), {}
        tried = []
    else:
        x, info, tried = _pinned_lu(A_all, t, pops, pivots)
    info["real_form"] = T is not None
    if not np.all(np.isfinite(x)):
        raise NotUniqueError(f"the steady state is not unique: the sector Liouvillian is "
                             f"singular (dimension {n}, pivots tried {tried})")
    if T is not None:
        x = T @ x
    residual = float(np.max(np.abs(L @ x)))
    scale = float(abs(L).max()) * float(np.max(np.abs(x)))
    if info.get("gmres_info", 0) != 0 and residual / scale > 1e-10:
        raise ConvergenceError(f"iterative steady-state solve did not converge: {info}, "
                           f"relative residual {residual / scale:.2e}")
    return x, residual / scale, info


def check_smoother(value):
    """The ``smoother`` option of the iterative steady state: ``"auto"`` or one of
    :data:`SMOOTHERS`; a ``ValueError`` naming the option otherwise."""
    choices = ("auto",) + SMOOTHERS
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"smoother must be one of {choices}, got {value!r}")
    return value


def check_steady_options(options, defaults, where):
    """Options of the exact steady-state solvers, with their values validated."""
    from .. import _validate as V
    opts = V.check_options(options, defaults, where)
    opts["truncation_tol"] = V.check_rate("truncation_tol", opts["truncation_tol"])
    opts["max_time"] = check_time_limit(opts["max_time"])
    if not isinstance(opts["strict"], bool):
        raise TypeError(f"strict must be True or False, got {opts['strict']!r}")
    solvers = ("auto", "direct", "iterative")
    if opts.get("linear_solver", "auto") not in solvers:
        raise ValueError(f"linear_solver must be one of {solvers}, got {opts['linear_solver']!r}")
    if "smoother" in opts:
        opts["smoother"] = check_smoother(opts["smoother"])
    return opts


def check_truncation(pn, nphot, tol, strict, mean_n):
    """Warn (or raise if ``strict``) when ``P(n = nphot−1) > tol``; return the check dict."""
    top = float(pn[-1]) if len(pn) else 0.0
    ok = top <= tol
    suggestion = int(max(2 * nphot, np.ceil(mean_n + 8 * np.sqrt(mean_n + 1) + 2)))
    info = {"top_fock_population": top, "tolerance": tol, "ok": ok}
    if not ok:
        info["suggested_nphot"] = suggestion
        msg = (f"photon space truncated: P(n={nphot - 1}) = {top:.3g} > {tol:g}; "
               f"use nphot >= {suggestion}")
        if strict:
            raise ValueError(msg)
        warnings.warn(msg, TruncationWarning, stacklevel=4)
    return info


def check_evolve_options(opts):
    """Validate the integrator options of :data:`EVOLVE_OPTIONS` in ``opts`` (in place)."""
    from .._progress import check_progress_bar
    for k in ("atol", "rtol"):
        if opts[k] is not None:
            opts[k] = check_real(k, opts[k])
            if opts[k] <= 0:
                raise ValueError(f"{k} must be > 0, got {opts[k]}")
    if opts["nsteps"] is not None:
        opts["nsteps"] = check_int("nsteps", opts["nsteps"], minimum=1)
    opts["max_time"] = check_time_limit(opts["max_time"])
    opts["progress_bar"] = check_progress_bar(opts["progress_bar"])
    return opts


#: Liouvillian entries below this fraction of the largest are dropped before propagating
NEGLIGIBLE = 1e-30


def negligible_entries_dropped(L):
    """``L`` without the entries below :data:`NEGLIGIBLE` of its largest one.

    A coupling such as ``g = 4e-168`` beside rates of order 1 changes ``exp(Lt)ρ`` by
    less than rounding for any ``t‖L‖ < 10¹⁴``, but its powers underflow to subnormal
    numbers inside SciPy's norm estimates of ``expm_multiply`` (an overflow in
    ``x / |x|``).  Such entries are treated as zero.
    """
    L = sp.csc_matrix(L)
    if L.nnz:
        data = np.abs(L.data)
        small = data < NEGLIGIBLE * data.max()
        if np.any(small):
            L = L.copy()
            L.data[small] = 0.0
            L.eliminate_zeros()
    return L


def propagate(L, rho0, tlist, options=None):
    """``exp(L t) ρ₀`` on ``tlist``.

    By default the exact action of the matrix exponential
    (:func:`scipy.sparse.linalg.expm_multiply`).  With any of ``atol``, ``rtol``,
    ``nsteps`` in ``options`` the equation is integrated instead by QuTiP's default
    method (Adams, ``zvode``) with QuTiP's meanings and defaults (``atol=1e-8``,
    ``rtol=1e-6``, ``nsteps=2500`` internal steps at most between two output times).
    ``max_time`` (seconds) bounds the wall time and ``progress_bar`` shows the time
    reached; exceeding either limit raises :class:`~qutip_superrad.TimeLimitError`.
    Entries of ``L`` below :data:`NEGLIGIBLE` of the largest are treated as zero
    (:func:`negligible_entries_dropped`).
    """
    opts = dict(EVOLVE_OPTIONS, **(options or {}))
    out = np.empty((len(tlist), rho0.size), complex)
    v, t_prev = rho0.astype(complex), tlist[0]
    L = negligible_entries_dropped(sp.csc_matrix(L))
    steps = np.diff(tlist)
    ode = any(opts[k] is not None for k in ("atol", "rtol", "nsteps"))
    limit, start = opts["max_time"], time.perf_counter()
    if not ode and limit is None and not opts["progress_bar"] and len(tlist) > 2 \
            and np.all(steps > 0) and np.ptp(steps) <= 1e-12 * steps.mean():
        # an even grid: one call that reuses the Taylor degree and the norm estimates
        return spla.expm_multiply(L, v, start=tlist[0] - t_prev, stop=tlist[-1] - t_prev,
                                  num=len(tlist), endpoint=True)
    if ode:
        from scipy.integrate import ode as _ode
        cfg = {k: (_QUTIP_ODE[k] if opts[k] is None else opts[k]) for k in _QUTIP_ODE}
        solver = _ode(lambda t, y: L @ y).set_integrator("zvode", method="adams", **cfg)
        solver.set_initial_value(v, t_prev)
    # the cost of a step is proportional to its length (Taylor degree × ‖L‖ Δt)
    with Progress(tlist[-1] - tlist[0], "evolve", opts["progress_bar"]) as bar:
        for i, t in enumerate(tlist):
            if t > t_prev:
                if ode:
                    with warnings.catch_warnings():       # zvode's own warning: we raise below
                        warnings.simplefilter("ignore", UserWarning)
                        v = solver.integrate(t)
                    if not solver.successful():
                        raise TimeLimitError(
                            f"evolve: the integrator stopped at t = {solver.t:.6g} before "
                            f"t = {t:.6g} (more than nsteps = {cfg['nsteps']} steps between "
                            f"output times with atol = {cfg['atol']:g}, rtol = {cfg['rtol']:g}); "
                            "raise nsteps, add output times, or check the rates")
                else:
                    v = spla.expm_multiply(L * (t - t_prev), v)
                bar.advance(t - t_prev)
            out[i], t_prev = v, t
            if limit is not None and time.perf_counter() - start > limit:
                raise TimeLimitError(f"evolve exceeded max_time = {limit:.3g} s at t = {t:.6g} "
                                     f"of {tlist[-1]:.6g} ({L.shape[0]} elements); raise "
                                     "max_time or use fewer output times")
    return out


def _direct(L, v, w, x):
    """``2 Re wᵀ(iω − L)⁻¹ v`` at one frequency by a sparse LU (the reference)."""
    n = L.shape[0]
    A = (1j * x * sp.identity(n, dtype=complex, format="csc") - L).tocsc()
    return 2 * np.real(w @ factorize(A).solve(v))


def _krylov_poles(lu, s0, v, w, q):
    """Ritz poles and residues of ``wᵀ(s − L)⁻¹v`` from ``q`` shift-invert Arnoldi steps.

    With ``A = (s0 − L)⁻¹`` one has ``(s − L)⁻¹ = [1 + (s − s0)A]⁻¹A``; the
    Arnoldi relation ``AV ≈ VH`` turns this into ``Σ_k c_k/(s − λ_k)`` with
    ``λ_k = s0 − 1/θ_k`` (``θ_k`` the eigenvalues of ``H``).
    """
    n = v.size
    q = min(q, n)
    V = np.zeros((n, q + 1), complex)
    H = np.zeros((q + 1, q), complex)
    beta = np.linalg.norm(v)
    V[:, 0] = v / beta
    m = q
    for k in range(q):
        u = lu.solve(V[:, k])
        for _ in range(2):                      # Gram–Schmidt twice for orthogonality
            h = V[:, :k + 1].conj().T @ u
            u -= V[:, :k + 1] @ h
            H[:k + 1, k] += h
        H[k + 1, k] = np.linalg.norm(u)
        if H[k + 1, k] < 1e-14 * np.abs(H[:k + 1, k]).max():
            m = k + 1                            # invariant subspace: the model is exact
            break
        V[:, k + 1] = u / H[k + 1, k]
    Hm = H[:m, :m]
    theta, Z = np.linalg.eig(Hm)
    left = (w @ V[:, :m]) @ Z
    right = np.linalg.solve(Z, np.eye(m, 1).ravel() * beta)
    keep = np.abs(theta) > 1e-300
    return s0 - 1 / theta[keep], (left * right)[keep], m


def _grow_until_verified(build, checkpoints, exact, tol, q_max=640, q0=40):
    """Double the reduced model's size ``q`` (from ``q0``) until its spectrum at the checkpoints
    agrees with the exact values to ``tol``; ``build(q)`` returns ``(poles, residues, m)``
    (``m < q``: an invariant subspace, exact).  Returns ``poles, residues, m, error``."""
    q = q0
    while True:
        poles, res, m = build(q)
        err = float(np.max(np.abs(lorentzian_sum(checkpoints, poles, res) - exact))
                    / np.max(np.abs(exact)))
        if err <= tol or m < q or q >= q_max:
            break
        q *= 2
    if err > tol:
        raise ConvergenceError(f"reduced-order spectrum did not converge: relative error {err:.2e} "
                           f"with {m} Krylov vectors (tolerance {tol:g})")
    return poles, res, m, err


def _krylov_spectrum(L, v, w, omega, tol=1e-8):
    """Reduced-order spectrum for a large sector, verified against direct solves.

    The expansion point is placed at the line: a first model around the grid
    centre locates the peak, a second one is built around the peak and grown
    until the spectrum at the peak and at both half-maximum points agrees
    with a direct sparse solve to ``tol``.
    """
    n = L.shape[0]
    eye = sp.identity(n, dtype=complex, format="csc")
    x0 = float(omega[np.argmin(np.abs(omega - np.median(omega)))])
    lu = factorize((1j * x0 * eye - L).tocsc())
    poles, res, m = _krylov_poles(lu, 1j * x0, v, w, 40)
    strong = np.abs(res) > 1e-6 * np.abs(res).max()
    ev = Lorentzians(poles, res)
    peak, width, _, _ = spectrum_features(ev, omega, hints=poles[strong].imag)
    lu = factorize((1j * peak * eye - L).tocsc())
    checkpoints = np.array([peak - width / 2, peak, peak + width / 2])
    # the LU at the peak is the expansion point's: only the half maxima need new ones
    exact = np.array([_direct(L, v, w, checkpoints[0]), 2 * np.real(w @ lu.solve(v)),
                      _direct(L, v, w, checkpoints[2])])
    poles, res, m, err = _grow_until_verified(
        lambda q: _krylov_poles(lu, 1j * peak, v, w, q), checkpoints, exact, tol)
    strong = np.abs(res) > 1e-8 * np.abs(res).max()
    info = {"mode": "shift-invert Arnoldi", "dimension": n, "krylov_dimension": m,
            "verified_relative_error": err, "expansion_point": peak}
    return Lorentzians(poles, res), poles[strong].imag, info


def _block_krylov_spectrum(L, v, w, omega, blocks, tol=1e-8, q_max=640, inner_tol=1e-10,
                           slabs=None):
    """Reduced-order spectrum of a sector too large for one LU (cf. :func:`_krylov_spectrum`).

    The subspace is the shift-invert Krylov space of ``v`` at ``iω₀``, each step a GMRES
    solve of ``(iω₀ − L) u = V_k`` to ``inner_tol`` preconditioned by block Gauss–Seidel
    (:class:`_BlockGaussSeidel`, exact LUs of the total-spin blocks, ~10 iterations);
    ``L`` is projected on it (Galerkin), which gives poles and residues.  The subspace grows
    until the spectrum at the peak and at both half maxima agrees with block-preconditioned
    GMRES solves to ``tol``.  (The Krylov space of the preconditioner alone, without the
    inner solves, stalled at a relative error of 1e-4; inner solves to 1e-4 at 7e-8.)
    With ``slabs`` (a label per element) the sweep factorises the sub-blocks of equal
    (block, slab) instead, as the steady state's smoother ``"excitation"`` does
    (:func:`_aggregated_gmres`): ``S`` is unchanged by the simultaneous permutation of
    ``L``, ``v`` and ``w`` that makes those sub-blocks contiguous.
    """
    n = L.shape[0]
    eye = sp.identity(n, dtype=complex, format="csr")
    compact = slabs is not None
    if compact:
        order, blocks = _slab_order(blocks, slabs, n=n)
        L, v, w = sp.csr_matrix(L)[order][:, order], np.asarray(v)[order], np.asarray(w)[order]

    def model(x0, gs, V, q):
        k = V.shape[1]
        V = np.hstack([V, np.zeros((n, q - k), complex)])
        A0 = (1j * x0 * eye - L).tocsr()
        for j in range(max(k, 1), q):
            u = gs.solve(A0, V[:, j - 1], tol=inner_tol)
            for _ in range(2):                      # Gram–Schmidt twice for orthogonality
                u -= V[:, :j] @ (V[:, :j].conj().T @ u)
            norm = np.linalg.norm(u)
            if norm < 1e-14:                        # invariant subspace: exact
                V = V[:, :j]
                break
            V[:, j] = u / norm
        lam, Z = np.linalg.eig(V.conj().T @ (L @ V))
        res = (w @ V @ Z) * np.linalg.solve(Z, V.conj().T @ v)
        return V, lam, res

    x0 = float(omega[np.argmin(np.abs(omega - np.median(omega)))])
    gs = _BlockGaussSeidel((1j * x0 * eye - L).tocsr(), blocks, compact)
    V0 = (v / np.linalg.norm(v))[:, None].astype(complex)
    V, lam, res = model(x0, gs, V0, 16)         # each vector costs a GMRES solve: start small
    strong = np.abs(res) > 1e-6 * np.abs(res).max()
    peak, width, _, _ = spectrum_features(Lorentzians(lam, res), omega, hints=lam[strong].imag)
    if abs(peak - x0) > 2 * width:                 # far from the line: new blocks at the peak
        gs = _BlockGaussSeidel((1j * peak * eye - L).tocsr(), blocks, compact)
        V = V0
    checkpoints = np.array([peak - width / 2, peak, peak + width / 2])
    exact = np.array([2 * np.real(w @ gs.solve((1j * x * eye - L).tocsr(), v))
                      for x in checkpoints])
    basis = [V]

    def build(q):
        basis[0], lam, res = model(peak, gs, basis[0], q)
        return lam, res, basis[0].shape[1]
    lam, res, m, err = _grow_until_verified(build, checkpoints, exact, tol, q_max, q0=16)
    ev = Lorentzians(lam, res)
    strong = np.abs(res) > 1e-8 * np.abs(res).max()
    info = {"mode": "block-preconditioned Krylov + Galerkin", "dimension": n,
            "krylov_dimension": m, "verified_relative_error": err,
            "expansion_point": peak, "blocks": int(gs.starts.size),
            "smoother": "excitation" if compact else "spin", "preconditioner_fill": gs.fill}
    return ev, lam[strong].imag, info


def qrt_spectrum(L, v, w, omega, method, checks=None, blocks=None, direct_limit=20000,
                 prominence=None, slabs=None):
    """``S(ω) = 2 Re wᵀ(iω − L)⁻¹ v``: quantum regression on one sector.

    The sector is reduced by shift-invert Arnoldi (:func:`_krylov_spectrum`,
    exact when the Krylov space becomes invariant, verified against direct
    sparse solves otherwise).  ``S`` is then a sum of complex Lorentzians that
    can be evaluated at any ω, so the FWHM is refined exactly, however narrow
    the line.  (A dense eigendecomposition was tried first and dropped: the
    eigenvectors of these non-normal matrices are too ill-conditioned.)  Sectors larger
    than ``direct_limit`` with ``blocks`` (total-spin blocks) use
    :func:`_block_krylov_spectrum` instead of LUs of the whole sector (with ``slabs``, its
    smoother factorises the excitation slabs of the blocks).  ``n_peaks``
    counts maxima above the relative ``prominence`` (:func:`~qutip_superrad.spectrum.
    count_peaks`, default 1e-3), recorded in ``checks["peak_prominence"]``.
    """
    from ..spectrum import check_prominence
    omega = check_grid("omega", omega)
    checks = dict(checks or {}, peak_prominence=check_prominence(prominence))
    if not np.any(np.abs(np.asarray(v)) > 1e-13):        # δBρ = 0: nothing is emitted
        from ..spectrum import dark_spectrum
        return dark_spectrum(omega, method, checks)
    L = sp.csc_matrix(L, dtype=complex)
    n = L.shape[0]
    checks["dark"] = False
    if blocks is not None and n > direct_limit:
        evaluate, hints, checks["qrt"] = _block_krylov_spectrum(L, v, w, omega, blocks,
                                                                slabs=slabs)
    else:
        evaluate, hints, checks["qrt"] = _krylov_spectrum(L, v, w, omega)
    peak, width, npk, S = spectrum_features(evaluate, omega, hints=hints,
                                            prominence=checks["peak_prominence"])
    return SpectrumResult(omega=omega, S=S, linewidth=width, peak=peak, n_peaks=npk,
                          method=method, evaluate=evaluate, checks=checks)
