r"""Cluster-resolved second-order cumulants of the superradiant laser.

The laser of A. Bychek, C. Hotter, D. Plankensteiner and H. Ritsch, *Superradiant
lasing in inhomogeneously broadened ensembles with spatially varying coupling*,
Open Research Europe 1, 73 (2021), "the paper" below.

Equations
---------
Derived from the master equation of :class:`~qutip_superrad.SuperradiantLaser`
(``H = δ_c a†a − Σ Δ_i σ⁺_iσ⁻_i + Σ g_i(aσ⁺_i + a†σ⁻_i)``, ``κD[a] + ξD[a†a]
+ Σ_i ΓD[σ⁻_i] + RD[σ⁺_i] + νD[σ⁺_iσ⁻_i]``) with the U(1)-invariant cumulant
expansion truncated at second order (``⟨a⟩ = ⟨σ⁻⟩ = 0``;
``⟨ABC⟩ ≈ ⟨AB⟩⟨C⟩ + ⟨AC⟩⟨B⟩ + ⟨BC⟩⟨A⟩``).  For ``M`` clusters of ``N_m``
identical atoms (detuning ``Δ_m``, coupling ``g_m``), with ``n = ⟨a†a⟩``,
``b_m = ⟨aσ⁺_m⟩``, ``p_m = ⟨σ⁺_mσ⁻_m⟩``, ``c_mj = ⟨σ⁺_mσ⁻_j⟩`` (distinct atoms;
``c_mm`` two atoms of cluster ``m``), ``q_m = 1 − 2p_m``::

    dn/dt    = −κ n − 2 Σ_m N_m g_m Im b_m
    db_m/dt  = −[(κ+ξ+Γ+R+ν)/2 + i(δ_c+Δ_m)] b_m − i g_m (2n p_m − n + p_m) − i S_m
               S_m = (N_m − 1) g_m c_mm + Σ_{j≠m} N_j g_j c_mj
    dp_m/dt  = 2 g_m Im b_m − (Γ+R) p_m + R
    dc_mj/dt = −(Γ+R+ν + i(Δ_m−Δ_j)) c_mj + i g_m q_m b_j* − i g_j q_j b_m

(``c_mm`` is real: ``dc_mm/dt = −(Γ+R+ν) c_mm + 2 g_m q_m Im b_m``).  They agree
with the paper's eq 5 / A1 once ``ν`` is added to the pair equations (A1 omits it)
and the ``+ξ + ν`` of eq 5 is kept in ``b_m``.  The cavity detuning ``δ_c``
enters only the phase of ``b_m``.

First order (mean field): with the phase-invariant ansatz ``⟨a⟩ = ⟨σ⁻⟩ = 0``
the mean field is trivial — no light, ``p_m = R/(Γ+R)`` — whatever the atom
number.  ``order=1`` returns this, to make the point; a symmetry-broken
(Maxwell–Bloch) mean field is not implemented.

Spectrum (quantum regression, the paper's eq 7–8 with clusters; size ``M+1``)::

    d/dτ ⟨a†(τ)a⟩    = (−(κ+ξ)/2 + iδ_c) ⟨a†(τ)a⟩ + i Σ_m N_m g_m ⟨σ⁺_m(τ)a⟩
    d/dτ ⟨σ⁺_m(τ)a⟩ = −((Γ+R+ν)/2 + iΔ_m) ⟨σ⁺_m(τ)a⟩ − i g_m (2p_m − 1) ⟨a†(τ)a⟩

with initial values ``(n, b_1, …, b_M)``; ``S(ω)`` follows in closed form from
one eigendecomposition as a sum of complex Lorentzians.

State vector layout (real, length ``M² + 3M + 1``): see :func:`unpack`.
"""
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .. import _kernels
from .._progress import Monitor, Progress
from .._validate import ConvergenceError, check_grid, check_int, check_options, check_real
from ..results import EvolutionResult, SteadyStateResult
from ..spectrum import pole_spectrum

__all__ = [
    "LaserParameters", "parameters", "n_unknowns", "unpack", "pack", "ground_state",
    "rhs", "jvp", "rhs_numpy", "jvp_numpy", "jacobian", "supports",
    "steadystate", "evolve", "spectrum", "qrt_matrix", "critical_pump", "cluster_check",
]

_BACKENDS = ("cython", "numpy")

#: the compiled kernel ``_kernels.cumulant_laser``, imported on first use by
#: :func:`_compiled` (a missing kernel is an ``ImportError`` naming the fix)
_kernel = None


def _compiled():
    """The compiled kernel; ``ImportError`` naming the fix if it was not built."""
    global _kernel
    if _kernel is None:
        _kernel = _kernels.load("cumulant_laser")
    return _kernel


class LaserParameters:
    """Parameters of the cumulant equations as plain arrays and floats.

    Attributes
    ----------
    counts, detunings, couplings : ndarray, shape (M,)
    kappa, gamma, pump, nu, xi, dc : float
        The symbols ``κ, Γ, R, ν, ξ, δ_c`` of the equations: ``kappa``, ``emission``,
        ``pumping``, ``dephasing``, ``cavity_dephasing`` and ``cavity_detuning`` of
        :class:`~qutip_superrad.SuperradiantLaser` (low-level names, fixed by the
        compiled kernel's argument order).
    """

    def __init__(self, counts, detunings, couplings, kappa, gamma, pump, nu=0.0, xi=0.0, dc=0.0):
        self.counts = np.ascontiguousarray(counts, dtype=float)
        self.detunings = np.ascontiguousarray(detunings, dtype=float)
        self.couplings = np.ascontiguousarray(couplings, dtype=float)
        self.M = self.counts.size
        self.kappa, self.gamma, self.pump = float(kappa), float(gamma), float(pump)
        self.nu, self.xi, self.dc = float(nu), float(xi), float(dc)

    @property
    def scalars(self):
        return (self.kappa, self.gamma, self.pump, self.nu, self.xi, self.dc)

    @property
    def rate_scale(self):
        """Largest rate of the problem (for relative residuals)."""
        return max(self.kappa + self.xi, self.gamma + self.pump + self.nu,
                   float(np.max(np.abs(self.couplings) * np.sqrt(self.counts))),
                   float(np.max(np.abs(self.detunings))), abs(self.dc), 1e-300)


def supports(model):
    """Raise ``ValueError`` unless ``model`` can be solved by the cumulant method."""
    if not getattr(model, "has_mode", False) or not hasattr(model, "cavity_detuning"):
        raise ValueError("the cumulant laser equations need a SuperradiantLaser "
                         f"(a model with a cavity mode), got {type(model).__name__}")
    ens = model.ensemble
    if ens.n_clusters < 1 or np.any(ens.counts <= 0):
        raise ValueError("every cluster needs a count N_m > 0")
    if model.emission + model.pumping == 0:
        raise ValueError("emission + pumping must be > 0: without decay or pump the atomic "
                         "populations have no steady state")
    return True


def cluster_check(laser):
    """The ``checks["clusters"]`` entry of a cumulant result computed at fixed ``M``
    (:func:`qutip_superrad.convergence.fixed_m_check` of the laser's ensemble)."""
    from ..convergence import fixed_m_check
    ens = laser.ensemble
    return fixed_m_check(ens.n_clusters, getattr(ens, "distribution", None))


def parameters(model):
    """:class:`LaserParameters` of a :class:`~qutip_superrad.SuperradiantLaser`."""
    supports(model)
    ens = model.ensemble
    return LaserParameters(ens.counts, ens.detunings, ens.couplings, model.kappa, model.emission,
                           model.pumping, model.dephasing, model.cavity_dephasing,
                           model.cavity_detuning)


def n_unknowns(M):
    """Number of real unknowns ``M² + 3M + 1`` for ``M`` clusters."""
    return M * M + 3 * M + 1


def _check_state(x, M):
    x = np.ascontiguousarray(x, dtype=float)
    if x.ndim != 1 or x.size != n_unknowns(M):
        raise ValueError(f"cumulant state must have length M²+3M+1 = {n_unknowns(M)}, "
                         f"got shape {x.shape}")
    return x


def unpack(x, M):
    """Split a state vector into ``(n, b, p, C)``.

    Returns
    -------
    n : float
        ``⟨a†a⟩``.
    b : ndarray, complex, shape (M,)
        ``⟨aσ⁺_m⟩``.
    p : ndarray, shape (M,)
        ``⟨σ⁺_mσ⁻_m⟩``.
    C : ndarray, complex, shape (M, M)
        ``⟨σ⁺_mσ⁻_j⟩`` of distinct atoms, Hermitian; the diagonal is the
        intra-cluster pair ``c_mm`` (present even when ``N_m ≤ 1``).
    """
    x = _check_state(x, M)
    n = x[0]
    b = x[1:1 + M] + 1j * x[1 + M:1 + 2 * M]
    p = x[1 + 2 * M:1 + 3 * M].copy()
    off = x[1 + 4 * M:]
    C = np.zeros((M, M), complex)
    iu = np.triu_indices(M, 1)
    C[iu] = off[0::2] + 1j * off[1::2]
    C = C + C.conj().T
    C[np.diag_indices(M)] = x[1 + 3 * M:1 + 4 * M]
    return n, b, p, C


def pack(n, b, p, C):
    """Inverse of :func:`unpack` (uses the upper triangle and the real diagonal of ``C``)."""
    b = np.asarray(b, complex)
    M = b.size
    C = np.asarray(C, complex).reshape(M, M)
    x = np.empty(n_unknowns(M))
    x[0] = n
    x[1:1 + M], x[1 + M:1 + 2 * M] = b.real, b.imag
    x[1 + 2 * M:1 + 3 * M] = np.asarray(p, float)
    x[1 + 3 * M:1 + 4 * M] = np.real(np.diag(C))
    up = C[np.triu_indices(M, 1)]
    x[1 + 4 * M::2], x[2 + 4 * M::2] = up.real, up.imag
    return x


def ground_state(M):
    """All atoms in the ground state, empty cavity (all cumulants zero)."""
    return np.zeros(n_unknowns(M))


# ---------------------------------------------------------------------------
# right-hand side: NumPy oracle and Cython kernel
# ---------------------------------------------------------------------------
def rhs_numpy(x, par):
    """Right-hand side ``dx/dt`` in plain NumPy (the test oracle, O(M²) memory)."""
    M = par.M
    n, b, p, C = unpack(x, M)
    N, D, g = par.counts, par.detunings, par.couplings
    q = 1 - 2 * p
    gb = 0.5 * (par.kappa + par.xi + par.gamma + par.pump + par.nu)
    gp = par.gamma + par.pump + par.nu
    W = np.broadcast_to(N, (M, M)).copy()
    W[np.diag_indices(M)] = N - 1
    S = (W * g[None, :] * C).sum(axis=1)
    dC = (-(gp + 1j * (D[:, None] - D[None, :])) * C
          + 1j * (g * q)[:, None] * b.conj()[None, :] - 1j * (g * q)[None, :] * b[:, None])
    db = -(gb + 1j * (par.dc + D)) * b - 1j * g * (2 * n * p - n + p) - 1j * S
    dp = 2 * g * b.imag - (par.gamma + par.pump) * p + par.pump
    dn = -par.kappa * n - 2 * np.sum(N * g * b.imag)
    return pack(dn, db, dp, dC)


def rhs(x, par, backend="cython", out=None):
    """Right-hand side ``dx/dt`` (``backend="cython"``: compiled kernel; ``"numpy"``: oracle)."""
    if backend == "numpy":
        return rhs_numpy(x, par)
    if backend != "cython":
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    x = _check_state(x, par.M)
    out = np.empty_like(x) if out is None else out
    _compiled().rhs(x, par.counts, par.detunings, par.couplings, *par.scalars, out)
    return out


def jacobian(x, par):
    """Sparse Jacobian ``∂(dx/dt)/∂x`` (CSC, O(M²) non-zeros), assembled in NumPy."""
    M = par.M
    x = _check_state(x, M)
    N, D, g = par.counts, par.detunings, par.couplings
    n = x[0]
    br, bi = x[1:1 + M], x[1 + M:1 + 2 * M]
    p = x[1 + 2 * M:1 + 3 * M]
    q = 1 - 2 * p
    gb = 0.5 * (par.kappa + par.xi + par.gamma + par.pump + par.nu)
    gp = par.gamma + par.pump + par.nu
    m_ = np.arange(M)
    iBr, iBi, iP, iCd = 1 + m_, 1 + M + m_, 1 + 2 * M + m_, 1 + 3 * M + m_
    mm, jj = np.triu_indices(M, 1)
    K = mm.size
    iCr = 1 + 4 * M + 2 * np.arange(K)
    iCi = iCr + 1
    w = par.dc + D
    Dmj = D[mm] - D[jj]
    rows, cols, vals = [], [], []

    def add(r, c, v):
        r, c, v = np.broadcast_arrays(np.atleast_1d(r), np.atleast_1d(c), np.atleast_1d(v))
        rows.append(r.ravel()), cols.append(c.ravel()), vals.append(np.asarray(v, float).ravel())

    add(0, 0, -par.kappa)
    add(0, iBi, -2 * N * g)
    add(iP, iBi, 2 * g)
    add(iP, iP, -(par.gamma + par.pump))
    add(iCd, iCd, -gp)
    add(iCd, iBi, 2 * g * q)
    add(iCd, iP, -4 * g * bi)
    add(iBr, iBr, -gb)
    add(iBr, iBi, w)
    add(iBi, iBi, -gb)
    add(iBi, iBr, -w)
    add(iBi, 0, -g * (2 * p - 1))
    add(iBi, iP, -g * (2 * n + 1))
    add(iBi, iCd, -(N - 1) * g)
    # S_m couplings: Re b_m row gets Im S_m, Im b_m row gets −Re S_m
    add(iBr[mm], iCi, N[jj] * g[jj])
    add(iBr[jj], iCi, -N[mm] * g[mm])
    add(iBi[mm], iCr, -N[jj] * g[jj])
    add(iBi[jj], iCr, -N[mm] * g[mm])
    # pair rows
    add(iCr, iCr, -gp)
    add(iCr, iCi, Dmj)
    add(iCr, iBi[jj], g[mm] * q[mm])
    add(iCr, iP[mm], -2 * g[mm] * bi[jj])
    add(iCr, iBi[mm], g[jj] * q[jj])
    add(iCr, iP[jj], -2 * g[jj] * bi[mm])
    add(iCi, iCi, -gp)
    add(iCi, iCr, -Dmj)
    add(iCi, iBr[jj], g[mm] * q[mm])
    add(iCi, iP[mm], -2 * g[mm] * br[jj])
    add(iCi, iBr[mm], -g[jj] * q[jj])
    add(iCi, iP[jj], 2 * g[jj] * br[mm])
    size = n_unknowns(M)
    J = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(size, size))
    return J.tocsc()


def jvp_numpy(x, v, par):
    """Jacobian–vector product from the NumPy sparse Jacobian (the oracle)."""
    return jacobian(x, par) @ _check_state(v, par.M)


def jvp(x, v, par, backend="cython", out=None):
    """Jacobian–vector product ``J(x)·v`` (compiled kernel or NumPy oracle)."""
    if backend == "numpy":
        return jvp_numpy(x, v, par)
    if backend != "cython":
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    x = _check_state(x, par.M)
    v = _check_state(v, par.M)
    out = np.empty_like(x) if out is None else out
    _compiled().jvp(x, v, par.counts, par.detunings, par.couplings, *par.scalars, out)
    return out


# ---------------------------------------------------------------------------
# reduced steady-state system: pairs, n and p eliminated exactly
# ---------------------------------------------------------------------------
class _Reduced:
    """Steady-state equations in the ``2M`` real unknowns ``(Re b, Im b)``.

    At a fixed point ``p_m = (R + 2 g_m Im b_m)/(Γ+R)``, ``n = −2 Σ N_m g_m Im b_m/κ``
    and the pairs are linear in the pairs:
    ``c_mj = (i g_m q_m b_j* − i g_j q_j b_m)/(Γ+R+ν + iΔ_mj)``.  Substituting
    leaves ``F_m(b) = 0`` with ``F_m = −z_m b_m − i g_m((2p_m−1)n + p_m)
    + g_m q_m (A b*)_m − b_m (A (g q))_m``, ``A_mj = W_mj g_j /(Γ+R+ν + iΔ_mj)``.
    """

    def __init__(self, par, enforce_bounds=True):
        self.par = par
        self.enforce_bounds = enforce_bounds
        M, N, D, g = par.M, par.counts, par.detunings, par.couplings
        gp = par.gamma + par.pump + par.nu
        W = np.broadcast_to(N, (M, M)).copy()
        W[np.diag_indices(M)] = N - 1
        den = gp + 1j * (D[:, None] - D[None, :])
        if np.any(den == 0):
            raise ValueError("emission + pumping + dephasing must be > 0 for a steady state "
                             "of the pair correlations of identical detunings")
        self.K = 1.0 / den
        self.A = W * g[None, :] * self.K
        self.A2 = self.A * g[None, :]
        self.z = 0.5 * (par.kappa + par.xi + par.gamma + par.pump + par.nu) + 1j * (par.dc + D)
        self.pi = 2 * g / (par.gamma + par.pump)
        self.eta = -2 * N * g / par.kappa

    def observables(self, y):
        par, M = self.par, self.par.M
        b = y[:M] + 1j * y[M:]
        p = (par.pump + 2 * par.couplings * b.imag) / (par.gamma + par.pump)
        n = -2 * np.sum(par.counts * par.couplings * b.imag) / par.kappa
        return b, p, n

    def admissible(self, y, slack=1e-8):
        """``n ≥ 0`` (up to rounding) and populations in ``[0, 1]`` (up to ``slack``).

        Above threshold the reduced equations are unstable near ``b = 0``; an
        implicit-Euler step longer than the growth time then runs the wrong way
        (towards ``n < 0``).  Rejecting such steps keeps the pseudo-time
        evolution on the physical branch.
        """
        if not self.enforce_bounds:
            return True
        b, p, n = self.observables(y)
        par = self.par
        n_round = 1e-13 * 2 * np.sum(par.counts * np.abs(par.couplings * b)) / par.kappa
        return bool(n >= -n_round and np.all((p >= -slack) & (p <= 1 + slack)))

    def residual(self, y):
        g = self.par.couplings
        b, p, n = self.observables(y)
        q = 1 - 2 * p
        F = (-self.z * b - 1j * g * ((2 * p - 1) * n + p) + g * q * (self.A @ b.conj())
             - b * (self.A2 @ q))
        return np.concatenate([F.real, F.imag])

    def jacobian(self, y):
        """Dense real ``2M × 2M`` Jacobian of :meth:`residual`, assembled in place.

        With ``G = diag(g q) A`` and ``T = 2 diag(b) A2 diag(π)``:
        ``∂F/∂Re b = G + diag(d)``, ``∂F/∂Im b = −iG + T − i (g(2p−1)) ηᵀ + diag(d')``;
        the real and imaginary parts go straight into the output blocks (no
        ``np.block``, one complex M×M temporary at a time).
        """
        g = self.par.couplings
        M = self.par.M
        b, p, n = self.observables(y)
        q = 1 - 2 * p
        B = self.A @ b.conj()
        C = self.A2 @ q
        diag = -self.z - C
        diag_y = 1j * diag - 1j * g * self.pi * (2 * n + 1) - 2 * g * self.pi * B
        out = np.empty((2 * M, 2 * M))
        T = self.A * (g * q)[:, None]
        out[:M, :M] = T.real
        out[M:, :M] = T.imag
        out[:M, M:] = T.imag
        np.negative(T.real, out=out[M:, M:])
        np.multiply(self.A2, (2 * b)[:, None], out=T)
        T *= self.pi[None, :]
        out[:M, M:] += T.real
        out[M:, M:] += T.imag
        del T
        out[M:, M:] -= np.multiply.outer(g * (2 * p - 1), self.eta)
        k = np.arange(M)
        out[k, k] += diag.real
        out[M + k, k] += diag.imag
        out[k, M + k] += diag_y.real
        out[M + k, M + k] += diag_y.imag
        return out

    def _jacobian_block(self, y):
        """Reference assembly of :meth:`jacobian` with ``np.block`` (tests)."""
        g = self.par.couplings
        b, p, n = self.observables(y)
        q = 1 - 2 * p
        B = self.A @ b.conj()
        C = self.A2 @ q
        gqA = (g * q)[:, None] * self.A
        diag = -self.z - C
        Jx = gqA.copy()
        Jx[np.diag_indices_from(Jx)] += diag
        Jy = -1j * gqA + np.outer(-1j * g * (2 * p - 1), self.eta) \
            + 2 * b[:, None] * self.A2 * self.pi[None, :]
        Jy[np.diag_indices_from(Jy)] += (1j * diag - 1j * g * self.pi * (2 * n + 1)
                                         - 2 * g * self.pi * B)
        return np.block([[Jx.real, Jy.real], [Jx.imag, Jy.imag]])

    def full_state(self, y):
        par = self.par
        g = par.couplings
        b, p, n = self.observables(y)
        q = 1 - 2 * p
        src = 1j * (g * q)[:, None] * b.conj()[None, :] - 1j * (g * q)[None, :] * b[:, None]
        C = src * self.K
        C[np.diag_indices_from(C)] = C[np.diag_indices_from(C)].real
        return pack(n, b, p, C)


def _reduce(x, M):
    return np.concatenate([x[1:1 + M], x[1 + M:1 + 2 * M]])


def _solve_reduced(red, y0, tol, maxiter, dt0):
    """Pseudo-transient continuation (implicit Euler with growing steps), then Newton.

    The first steps are an implicit-Euler evolution of the reduced equations
    from ``y0`` (this is the "short evolution" that seeds the solve); the step
    grows geometrically while the residual does not rise much, and becomes
    infinite (plain Newton) after a factor ``1e6``.  When the residual rises
    mildly (by less than a factor 2, e.g. while the pseudo-time evolution
    leaves the unstable non-lasing point) up to four further steps reuse the
    same step and LU factorisation (frozen-Jacobian implicit Euler) before the
    step is halved.  In the Newton phase the LU factorisation is reused
    (chord steps) while the residual falls by at least a factor 5 per step.
    """
    y = np.array(y0, float)
    F = red.residual(y)
    fnorm = np.linalg.norm(F)
    dt = dt0
    history = [fnorm]
    diag = np.arange(y.size)
    lu = None
    frozen = 0
    for it in range(1, maxiter + 1):
        try:
            if lu is None:
                lhs = red.jacobian(y)
                if np.isfinite(dt):
                    lhs[diag, diag] -= 1.0 / dt
                lu = sla.lu_factor(lhs, overwrite_a=True, check_finite=False)
            step = -sla.lu_solve(lu, F, check_finite=False)
        except (np.linalg.LinAlgError, sla.LinAlgError, ValueError):
            dt = dt / 10 if np.isfinite(dt) else dt0
            lu = None
            continue
        y_new = y + step
        F_new = red.residual(y_new)
        f_new = np.linalg.norm(F_new)
        if (not np.all(np.isfinite(F_new)) or (not np.isfinite(dt) and f_new > 2 * fnorm)
                or not red.admissible(y_new)):
            dt = dt0 if not np.isfinite(dt) else dt / 4       # back off to evolution
            history.append(np.nan)
            lu = None
            continue
        ratio = fnorm / max(f_new, 1e-300)
        y, F, fnorm = y_new, F_new, f_new
        history.append(fnorm)
        scale = np.max(np.abs(y)) + 1e-300
        fscale = red.par.rate_scale * scale
        if ((np.max(np.abs(step)) <= tol * scale and fnorm <= 1e-8 * fscale)
                or fnorm <= 1e-14 * fscale):
            return y, it, history, True
        if np.isfinite(dt):
            # grow at least geometrically while the residual does not rise much
            if ratio > 0.9:
                dt = dt * min(max(ratio, 4.0), 100.0)
                if dt > 1e6 * dt0:
                    dt = np.inf
                lu = None
            elif ratio > 0.5 and frozen < 4:
                frozen += 1     # mild rise: another step with the same dt and LU
                continue
            else:
                dt = dt * 0.5
                lu = None
            frozen = 0
        elif ratio < 5:
            lu = None           # slow contraction: refactorise at the new point
    return y, maxiter, history, False


# ---------------------------------------------------------------------------
# steady state
# ---------------------------------------------------------------------------
_SS_DEFAULTS = dict(order=2, backend="cython", tol=1e-11, maxiter=200, initial=None,
                    n_seeds=1, check_stability="auto", strict=True, residual_tol=1e-8,
                    enforce_bounds=True, seed_time=None, progress_bar=None)


def _bounds_checks(n, p, C, N, tol=1e-9):
    M = p.size
    mag = np.sqrt(np.abs(np.outer(p, p)))
    C_dist = C.copy()
    single = N <= 1
    C_dist[np.diag_indices(M)[0][single], np.diag_indices(M)[1][single]] = 0
    over = np.abs(C_dist) > mag + tol
    return {
        "negative_photon_number": bool(n < -tol),
        "population_out_of_bounds": bool(np.any((p < -tol) | (p > 1 + tol))),
        "pair_exceeds_bound": bool(np.any(over)),
        "physical": bool(n >= -tol and np.all((p >= -tol) & (p <= 1 + tol)) and not np.any(over)),
    }


def _result(x, laser, par, checks):
    M = par.M
    n, b, p, C = unpack(x, M)
    checks.update(_bounds_checks(n, p, C, par.counts))
    checks["clusters"] = cluster_check(laser)
    if not checks["physical"]:
        warnings.warn("cumulant steady state violates physical bounds (see result.checks): "
                      "second order is not reliable here", RuntimeWarning, stacklevel=3)
    pair = C.copy()
    single = par.counts <= 1
    pair[np.arange(M)[single], np.arange(M)[single]] = 0
    checks["g2"] = "not available at second order (needs fourth-order moments)"
    return SteadyStateResult(method="cumulant", photon_number=float(n), excited_population=p,
                             pair_correlation=pair, photon_flux=float(par.kappa * n),
                             checks=checks, state=x, model=laser)


def _trivial_state(par):
    """Phase-invariant first-order (mean-field) steady state: no light."""
    x = ground_state(par.M)
    x[1 + 2 * par.M:1 + 3 * par.M] = par.pump / (par.gamma + par.pump)
    return x


def _evolution_seed(laser, par, red, opt, dt0):
    """Evolve the full cumulant equations (explicit RK45) from the ground state, then Newton."""
    G = par.gamma + par.pump + par.nu
    scale = max(par.kappa, par.xi, G, float(np.max(np.abs(par.couplings))))
    if opt["seed_time"] is None and G < 1e-9 * scale:
        # relaxation over t ~ 200/G with steps ~ 1/κ would never end
        raise ValueError(f"cumulant steady state did not converge, and emission + pumping + "
                         f"dephasing = {G:.3g} is below 1e-9 of the largest rate ({scale:.3g}): "
                         "the relaxation would take t ~ 200/G; set the negligible rates to 0 "
                         "or rescale (or give seed_time)")
    T = opt["seed_time"] if opt["seed_time"] is not None else 200.0 / G
    ts = np.linspace(0, T, 201)
    ev = evolve(laser, ts, None, {"integrator": "RK45", "rtol": 1e-7, "atol": 1e-10,
                                  "store_pairs": False, "store_states": True,
                                  "backend": opt["backend"]})
    tail = ev.photon_number[150:]
    info = {"time": float(T), "photon_number_end": float(tail[-1]),
            "photon_number_spread": float(np.ptp(tail) / max(np.mean(np.abs(tail)), 1e-300))}
    y0 = _reduce(ev.states[-1], par.M)
    y, its, hist, ok = _solve_reduced(red, y0, opt["tol"], opt["maxiter"], dt0 / 1e3)
    return y, its, hist, ok, info


def _full_jacobian_eigs(x, par):
    J = jacobian(x, par).toarray()
    return np.linalg.eigvals(J)


def steadystate(laser, options=None):
    """Steady state of the second-order cumulant equations.

    Parameters
    ----------
    laser : SuperradiantLaser
    options : dict, optional
        ``order`` (2; 1 is the trivial phase-invariant mean field),
        ``backend`` (``"cython"`` | ``"numpy"``, used for the final residual),
        ``tol`` (1e-11, relative Newton step), ``maxiter`` (200),
        ``initial`` (a state vector to start from instead of the ground state),
        ``n_seeds`` (1; > 1 also starts from random coherent states and reports
        distinct solutions), ``check_stability`` (``"auto"``: eigenvalues of the
        full Jacobian when it has ≤ 1200 unknowns, i.e. M ≤ 33; True; False),
        ``strict`` (True: raise if not converged), ``residual_tol`` (1e-8,
        relative residual of the full equations), ``enforce_bounds`` (True:
        pseudo-time steps must keep ``n ≥ 0`` and ``0 ≤ p ≤ 1``; set False to
        look for an unphysical fixed point), ``seed_time`` (None: if the
        pseudo-time Newton from the ground state fails, evolve the full
        equations for ``200/(Γ+R+ν)`` with RK45 and restart Newton from there;
        a number sets that time; 0 disables the fallback).

    Returns
    -------
    SteadyStateResult
        ``state`` is the cumulant vector (layout: :func:`unpack`); ``checks``
        holds convergence data, ``residual``, ``stable``/``max_growth_rate``,
        physical-bounds flags (``negative_photon_number``,
        ``population_out_of_bounds``, ``pair_exceeds_bound``, ``physical``) and
        ``clusters`` (:func:`cluster_check`: fixed ``M``, convergence in ``M`` not
        checked).

    Raises
    ------
    RuntimeError
        If the solve does not converge (with ``strict``), with diagnostics.
    """
    opt = check_options(options, _SS_DEFAULTS, "cumulant steadystate")
    with Progress(1, "cumulant steadystate", opt["progress_bar"]) as bar:
        res = _steadystate(laser, opt)
        bar.advance(1)
    return res


def _steadystate(laser, opt):
    par = parameters(laser)
    order = check_int("order", opt["order"], minimum=1, maximum=2)
    if opt["backend"] not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {opt['backend']!r}")
    M = par.M
    if order == 1:
        x = _trivial_state(par)
        return _result(x, laser, par, {"order": 1, "converged": True, "note":
                       "phase-invariant mean field: <a> = <σ⁻> = 0, no light for any N"})
    red = _Reduced(par, bool(opt["enforce_bounds"]))
    dt0 = 1.0 / par.rate_scale
    starts = [np.zeros(2 * M) if opt["initial"] is None
              else _reduce(_check_state(opt["initial"], M), M)]
    rng = np.random.default_rng(12345)
    n_seeds = check_int("n_seeds", opt["n_seeds"], minimum=1)
    amp = np.sqrt(np.maximum(par.pump / (par.gamma + par.pump), 1e-3)) * 0.5
    for _ in range(n_seeds - 1):
        starts.append(np.concatenate([amp * rng.normal(size=M), -np.abs(amp * rng.normal(size=M))]))
    sols = []
    for y0 in starts:
        y, its, hist, ok = _solve_reduced(red, y0, opt["tol"], opt["maxiter"], dt0)
        sols.append((y, its, hist, ok))
    y, its, hist, ok = sols[0]
    checks = {"order": 2, "converged": ok, "iterations": its,
              "residual_history": np.asarray(hist), "solver": "pseudo-transient Newton"}
    if not ok and opt["seed_time"] != 0:
        # fallback: a genuine (explicit) evolution of the full equations, then Newton
        y, its2, hist2, ok, seed_info = _evolution_seed(laser, par, red, opt, dt0)
        checks.update(converged=ok, iterations=its + its2, evolution_seed=seed_info,
                      residual_history=np.asarray(hist + hist2),
                      solver="evolution-seeded Newton",
                      settled=bool(seed_info["photon_number_spread"] < 1e-3))
        if ok and not checks["settled"]:
            warnings.warn("the evolution seeding the steady state had not settled (relative "
                          f"photon-number spread {seed_info['photon_number_spread']:.2g} over "
                          "its last quarter): the fixed point may be unstable (limit cycle); "
                          "use check_stability=True or evolve()", RuntimeWarning, stacklevel=2)
    if not ok:
        info = checks.get("evolution_seed", {})
        msg = (f"cumulant steady state did not converge in {checks['iterations']} "
               f"iterations; residual history (last 5): {np.asarray(checks['residual_history'])[-5:]}; "
               f"evolution seed: {info}; the system may not settle (limit cycle: see "
               "'photon_number_spread' of the evolution seed) — try evolve() to inspect the "
               "dynamics")
        if opt["strict"]:
            raise ConvergenceError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    x = red.full_state(y)
    F = rhs(x, par, backend=opt["backend"])
    scale = par.rate_scale * max(np.max(np.abs(x)), 1e-300)
    checks["residual"] = float(np.max(np.abs(F)) / scale)
    if checks["residual"] > opt["residual_tol"]:
        checks["converged"] = False
        msg = f"cumulant steady state residual {checks['residual']:.3g} above residual_tol"
        if opt["strict"]:
            raise ConvergenceError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=2)
    if n_seeds > 1:
        distinct = [y]
        for ys, _, _, oks in sols[1:]:
            if oks and all(np.max(np.abs(ys - d)) > 1e-6 * (np.max(np.abs(d)) + 1e-12)
                           for d in distinct):
                distinct.append(ys)
        checks["n_solutions"] = len(distinct)
        checks["multiple_solutions"] = len(distinct) > 1
        checks["solutions"] = [red.full_state(d) for d in distinct]
        if len(distinct) > 1:
            warnings.warn(f"{len(distinct)} distinct cumulant steady states from {n_seeds} "
                          "seeds (see checks['solutions'])", RuntimeWarning, stacklevel=2)
    cs = opt["check_stability"]
    if cs == "auto":
        cs = n_unknowns(M) <= 1200
    if cs:
        ev = _full_jacobian_eigs(x, par)
        growth = float(np.max(ev.real))
        checks["max_growth_rate"] = growth
        checks["stable"] = bool(growth < 1e-9 * par.rate_scale)
        if not checks["stable"]:
            warnings.warn(f"cumulant steady state is unstable (growth rate {growth:.3g}): the "
                          "dynamics does not settle there (limit cycle or other attractor)",
                          RuntimeWarning, stacklevel=2)
    else:
        checks["stable"] = None
    return _result(x, laser, par, checks)


# ---------------------------------------------------------------------------
# time evolution
# ---------------------------------------------------------------------------
_EV_DEFAULTS = dict(order=2, backend="cython", integrator="auto", rtol=1e-8, atol=1e-12,
                    store_pairs="auto", store_states=False, max_time=None, progress_bar=None)


def _initial_vector(initial, par):
    M = par.M
    if initial is None or (isinstance(initial, str) and initial == "ground"):
        return ground_state(M)
    if isinstance(initial, str) and initial == "excited":
        x = ground_state(M)
        x[1 + 2 * M:1 + 3 * M] = 1.0
        return x
    if isinstance(initial, (str, tuple)):
        # names and Dicke states (j, m) the second-order cumulants cannot represent
        raise ValueError(f"initial must be None, 'ground', 'excited', a state vector or a "
                         f"cumulant SteadyStateResult for method='cumulant' (product states "
                         f"only; use method='dicke' or 'full' for Dicke states), got {initial!r}")
    if isinstance(initial, SteadyStateResult):
        if initial.method != "cumulant":
            raise ValueError("initial SteadyStateResult must come from the cumulant method")
        initial = initial.state
    x = _check_state(initial, M).copy()
    if not np.all(np.isfinite(x)):
        raise ValueError("initial state must be finite")
    return x


def evolve(laser, tlist, initial=None, options=None):
    """Time evolution of the cumulants (SciPy ``solve_ivp``, stiff BDF by default).

    Parameters
    ----------
    laser : SuperradiantLaser
    tlist : array_like
        Increasing output times; the integration starts at ``tlist[0]``.
    initial : None, "ground", "excited", ndarray or SteadyStateResult
        Initial cumulants (default: ground state, empty cavity).
    options : dict, optional
        ``order`` (2 or 1), ``backend``, ``integrator`` (any ``solve_ivp`` method;
        ``"BDF"``/``"Radau"``/``"LSODA"`` get the analytic Jacobian; default
        ``"auto"``: stiff-switching ``"LSODA"`` with the dense Jacobian up to
        1200 unknowns (M ≤ 33), explicit ``"RK45"`` above — the sparse LU of
        BDF suffers heavy fill-in from the dense cluster coupling),
        ``rtol`` (1e-8), ``atol`` (1e-12), ``store_pairs`` (``"auto"``: when
        ``T·M² ≤ 10⁷``), ``store_states`` (False), ``max_time`` (seconds, None:
        ``TimeLimitError`` with the time reached), ``progress_bar`` (QuTiP's values,
        advancing with the time reached).

    Returns
    -------
    EvolutionResult
    """
    opt = check_options(options, _EV_DEFAULTS, "cumulant evolve")
    par = parameters(laser)
    tlist = check_grid("tlist", tlist)
    order = check_int("order", opt["order"], minimum=1, maximum=2)
    backend = opt["backend"]
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}")
    M = par.M
    x0 = _initial_vector(initial, par)
    if order == 1:
        # phase-invariant mean field: only the populations move
        p0 = x0[1 + 2 * M:1 + 3 * M]
        G = par.gamma + par.pump
        pinf = par.pump / G
        t = tlist - tlist[0]
        p = pinf + (p0[None, :] - pinf) * np.exp(-G * t)[:, None]
        return EvolutionResult(times=tlist, photon_number=np.zeros(t.size), excited_population=p,
                               pair_correlation=None, method="cumulant",
                               checks={"order": 1, "note": "phase-invariant mean field: no light"})
    if backend == "cython":
        fun = lambda t, x: rhs(x, par, "cython", out=np.empty_like(x))
    else:
        fun = lambda t, x: rhs_numpy(x, par)
    kw = {}
    if opt["integrator"] == "auto":
        opt["integrator"] = "LSODA" if n_unknowns(M) <= 1200 else "RK45"
    if opt["integrator"] in ("BDF", "Radau", "LSODA"):
        kw["jac"] = lambda t, x: jacobian(x, par) if opt["integrator"] != "LSODA" \
            else jacobian(x, par).toarray()
    if tlist.size == 1:
        ys = x0[:, None]
        stats = {}
    else:
        with Monitor(fun, tlist, opt["max_time"], opt["progress_bar"], "cumulant evolve",
                     f" (integrator {opt['integrator']}); check the rates or raise max_time") \
                as watched:
            ys = watched.solve(tlist, x0, method=opt["integrator"], rtol=opt["rtol"],
                               atol=opt["atol"], **kw).T
        sol = watched.result
        stats = {"nfev": sol.nfev, "njev": sol.njev, "nlu": sol.nlu, "message": sol.message}
    T = tlist.size
    nph = ys[0].copy()
    pops = ys[1 + 2 * M:1 + 3 * M].T.copy()
    store = opt["store_pairs"]
    if store == "auto":
        store = T * M * M <= 10 ** 7
    pairs = None
    if store:
        pairs = np.empty((T, M, M), complex)
        for k in range(T):
            pairs[k] = unpack(ys[:, k], M)[3]
            pairs[k][np.arange(M)[par.counts <= 1], np.arange(M)[par.counts <= 1]] = 0
    states = [ys[:, k].copy() for k in range(T)] if opt["store_states"] else None
    checks = {"order": 2, "solver": opt["integrator"], **stats,
              "min_photon_number": float(nph.min()),
              "population_out_of_bounds": bool(np.any((pops < -1e-9) | (pops > 1 + 1e-9))),
              "negative_photon_number": bool(np.any(nph < -1e-9))}
    return EvolutionResult(times=tlist, photon_number=nph, excited_population=pops,
                           pair_correlation=pairs, method="cumulant", states=states,
                           checks=checks)


# ---------------------------------------------------------------------------
# spectrum
# ---------------------------------------------------------------------------
_SP_DEFAULTS = dict(order=2, backend="cython", steadystate=None, state=None, n_hints=20,
                    poles="arrowhead", prominence=None, progress_bar=None)


def qrt_matrix(x, par):
    """Quantum-regression matrix ``A`` (size ``M+1``) and initial vector ``(n, b)``.

    ``d/dτ (⟨a†(τ)a⟩, ⟨σ⁺_m(τ)a⟩) = A · (...)`` — eq 7–8 of the paper (module docstring)
    with clusters.
    """
    M = par.M
    n, b, p, _ = unpack(x, M)
    g, N, D = par.couplings, par.counts, par.detunings
    A = np.zeros((M + 1, M + 1), complex)
    A[0, 0] = -(par.kappa + par.xi) / 2 + 1j * par.dc
    A[0, 1:] = 1j * N * g
    A[1:, 0] = -1j * g * (2 * p - 1)
    A[np.arange(1, M + 1), np.arange(1, M + 1)] = -((par.gamma + par.pump + par.nu) / 2 + 1j * D)
    x0 = np.concatenate([[n], b])
    return A, x0


def _poles_residues_eig(x, par):
    """Poles and residues of ``g⁽¹⁾`` from the full eigendecomposition of ``A``."""
    A, x0 = qrt_matrix(x, par)
    lam, V = sla.eig(A, overwrite_a=True, check_finite=False)
    coef = sla.solve(V, x0.astype(complex))
    res = V[0, :] * coef
    return lam, res


_ABERTH_MIN = 100


def _secular_roots(a, d, w, maxiter=60):
    """All ``K+1`` roots of ``D(s) = s − a − Σ_k w_k/(s − d_k)`` (Aberth–Ehrlich).

    These are the eigenvalues of the arrowhead matrix ``[[a, √wᵀ], [√w, diag(d)]]``
    (distinct ``d_k``, ``w_k ≠ 0``).  Each simultaneous Aberth step costs
    O(K²) instead of the O(K³) of a dense eigensolver; the Newton correction
    ``P/P'`` of the characteristic polynomial ``P = D·Π(s − d_k)`` is
    ``D/(D' + D·Σ 1/(s − d_k))``.  Roots start at first-order perturbation
    theory (``d_k + w_k/(d_k − a)``, shift clipped to a quarter of the
    distance to the nearest ``d_j``; ``a + Σ w_k/(a − d_k)``).  Returns None
    (caller falls back to ``eigvals``) unless every correction falls below
    ``1e-14`` of the problem scale and the trace ``Σλ = a + Σd`` holds.
    """
    K = d.size
    if K == 0:
        return np.array([a], complex)
    scale = max(abs(a), float(np.max(np.abs(d))), float(np.sqrt(np.max(np.abs(w)))), 1e-300)
    if K > 1:
        dist = np.abs(d[:, None] - d[None, :])
        np.fill_diagonal(dist, np.inf)
        near_d = dist.min(axis=1)
        del dist
    else:
        near_d = np.array([scale])
    dd = d - a
    pert = w / np.where(np.abs(dd) > 0, dd, scale)
    lim = 0.25 * np.minimum(near_d, scale)
    big = np.abs(pert) > lim
    pert[big] *= lim[big] / np.abs(pert[big])
    pert[pert == 0] = 1e-8 * lim[pert == 0] * (1 + 1j)
    z = np.concatenate([[a + np.sum(w / np.where(np.abs(dd) > 0, -dd, scale))], d + pert])
    active = np.ones(K + 1, bool)
    tol = 1e-14 * scale
    for _ in range(maxiter):
        za = z[active]
        h = 1.0 / (za[:, None] - d[None, :])
        H = h.sum(axis=1)
        Dv = za - a - h @ w
        h *= h
        Dp = 1.0 + h @ w
        corr = Dv / (Dp + Dv * H)
        inv = z[None, :] - za[:, None]
        inv[np.arange(za.size), np.flatnonzero(active)] = np.inf
        np.divide(1.0, inv, out=inv)
        step = corr / (1.0 - corr * (-inv.sum(axis=1)))
        if not np.all(np.isfinite(step)):
            return None
        z[active] = za - step
        done = np.abs(step) <= tol * (1 + np.abs(za) / scale)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
        if not active.any():
            break
    else:
        return None
    if abs(np.sum(z) - (a + np.sum(d))) > 1e-10 * scale * (K + 1):
        return None
    return z


def _poles_residues_arrow(x, par):
    """Poles and residues exploiting the arrowhead form of ``A``.

    ``A = [[a, uᵀ], [v, diag(d)]]``, so the Laplace transform of ``g⁽¹⁾`` is
    ``N(s)/D(s)`` with ``D(s) = s − a − Σ u_m v_m/(s − d_m)`` and
    ``N(s) = n + Σ u_m b_m/(s − d_m)``: clusters with equal ``d_m`` are merged,
    the poles are the eigenvalues of the merged arrowhead matrix (no
    eigenvectors needed) and the residues are ``N(λ)/D'(λ)``.  Returns None
    when the merged problem is degenerate (a decoupled cluster); the caller
    then falls back to the full eigendecomposition.
    """
    A, x0 = qrt_matrix(x, par)
    a, u, v, d = A[0, 0], A[0, 1:], A[1:, 0], np.diag(A)[1:]
    dk, inv = np.unique(np.round(d.real, 14) + 1j * np.round(d.imag, 14), return_inverse=True)
    uv = np.zeros(dk.size, complex)
    ub = np.zeros(dk.size, complex)
    np.add.at(uv, inv, u * v)
    np.add.at(ub, inv, u * x0[1:])
    scale = np.max(np.abs(uv)) + 1e-300
    if np.any(np.abs(uv) <= 1e-12 * scale):
        return None
    # merged arrowhead with symmetric split of the coupling: sqrt(uv) on both sides
    r = np.sqrt(uv)
    # O(K²) Aberth iteration for large K (LAPACK is faster below ~100 poles)
    lam = _secular_roots(a, dk, uv) if dk.size >= _ABERTH_MIN else None
    if lam is None:
        B = np.zeros((dk.size + 1, dk.size + 1), complex)
        B[0, 0] = a
        B[0, 1:] = r
        B[1:, 0] = r
        B[np.arange(1, dk.size + 1), np.arange(1, dk.size + 1)] = dk
        lam = sla.eigvals(B, overwrite_a=True, check_finite=False)
    diff = lam[:, None] - dk[None, :]
    if np.min(np.abs(diff)) <= 1e-10 * (np.max(np.abs(lam)) + 1e-300):
        return None
    inv_diff = 1.0 / diff
    Nl = x0[0] + inv_diff @ ub
    Dp = 1.0 + (inv_diff ** 2) @ uv
    return lam, Nl / Dp


def _poles_residues(x, par, method="arrowhead"):
    if method == "arrowhead":
        out = _poles_residues_arrow(x, par)
        if out is not None:
            return out
    return _poles_residues_eig(x, par)


def spectrum(laser, omega, options=None):
    """Emission spectrum from the cumulant steady state and the regression theorem.

    ``S(ω) = 2 Re Σ_k c_k/(iω − λ_k)`` with the eigenvalues ``λ_k`` of the
    ``(M+1)``-dimensional regression matrix (:func:`qrt_matrix`) — no τ grid.

    Parameters
    ----------
    laser : SuperradiantLaser
    omega : array_like
        Strictly increasing frequency grid (rotating frame of the model; a
        cluster with detuning ``Δ_m`` emits near ``ω = −Δ_m``).
    options : dict, optional
        ``steadystate`` (options for :func:`steadystate`), ``state`` (a cumulant
        :class:`SteadyStateResult` to reuse), ``n_hints`` (20: ``Im λ`` of the
        slowest poles searched for sub-grid peaks), ``poles`` (``"arrowhead"``:
        eigenvalues of the merged arrowhead matrix and residues from the
        secular function, falling back to ``"eig"``: eigenvectors of ``A``),
        ``prominence`` (relative prominence threshold of ``n_peaks``, default
        1e-3 of the maximum: see :func:`~qutip_superrad.spectrum.count_peaks`),
        ``order``, ``backend``.

    Returns
    -------
    SpectrumResult
        ``checks`` holds ``poles``, ``residues``, ``steady_state``,
        ``qrt_stable`` (all ``Re λ < 0``), ``negative_spectrum``,
        ``peak_prominence`` and ``clusters`` (see :func:`cluster_check`).
    """
    opt = check_options(options, _SP_DEFAULTS, "cumulant spectrum")
    with Progress(1, "cumulant spectrum", opt["progress_bar"]) as bar:
        res = _spectrum(laser, omega, opt)
        bar.advance(1)
    return res


def _spectrum(laser, omega, opt):
    omega = check_grid("omega", omega)
    par = parameters(laser)
    if check_int("order", opt["order"], minimum=1, maximum=2) == 1:
        raise ValueError("order=1 (phase-invariant mean field) has no light and no spectrum")
    ss = opt["state"]
    if ss is None:
        sso = dict(opt["steadystate"] or {})
        sso.setdefault("backend", opt["backend"])
        ss = steadystate(laser, sso)
    elif not isinstance(ss, SteadyStateResult) or ss.method != "cumulant":
        raise ValueError("option 'state' must be a cumulant SteadyStateResult")
    if opt["poles"] not in ("arrowhead", "eig"):
        raise ValueError(f"poles must be 'arrowhead' or 'eig', got {opt['poles']!r}")
    lam, res = _poles_residues(ss.state, par, opt["poles"])
    stable = bool(np.all(lam.real < 0))
    if not stable:
        raise ValueError(f"regression matrix has a non-decaying pole (max Re λ = "
                         f"{lam.real.max():.3g}): the linearised correlation function does "
                         "not decay, no spectrum")
    slow = np.argsort(-lam.real)[:check_int("n_hints", opt["n_hints"], minimum=0)]
    out = pole_spectrum(omega, lam, res, "cumulant", hints=lam.imag[slow],
                        checks={"steady_state": ss, "qrt_stable": stable,
                                "clusters": cluster_check(laser)},
                        prominence=opt["prominence"])
    if not out.checks["dark"]:
        out.checks["negative_spectrum"] = bool(np.min(out.S) < -1e-9 * np.max(np.abs(out.S)))
    return out


def critical_pump(laser, omega, pump_range, rtol=1e-2, options=None, *, prominence=None):
    """Critical pump ``R_c`` above which the spectrum has a single peak.

    Fig 6 of Bychek, Hotter, Plankensteiner and Ritsch, Open Res. Europe 1, 73 (2021).

    Geometric bisection on the pump rate between ``pump_range = (R_lo, R_hi)``,
    where the spectrum on ``omega`` must have several peaks at ``R_lo`` and one
    at ``R_hi`` (number of peaks as in :func:`~qutip_superrad.spectrum_features`,
    with the relative prominence threshold ``prominence``).

    ``R_c`` of a discretised distribution depends on the number of clusters ``M``:
    with the default threshold (1e-3) the ripple of the ``M`` cluster lines counts
    as peaks and ``R_c`` follows their spacing.  Raise ``prominence`` and check the
    convergence in ``M`` with :func:`qutip_superrad.convergence.converge_clusters`
    (``docs/cluster_convergence.md``).

    Parameters
    ----------
    laser : SuperradiantLaser
        The model (its ``pumping`` is ignored).
    omega : array_like
        Frequency grid fine enough to resolve the cluster lines.
    pump_range : (float, float)
        Bracket ``0 < R_lo < R_hi``.
    rtol : float
        Relative precision of ``R_c``.
    options : dict, optional
        Options of :func:`spectrum`.
    prominence : float, optional
        Relative prominence threshold of the peak count (default: the
        ``prominence`` of ``options``, else 1e-3).

    Returns
    -------
    float
    """
    lo, hi = (check_real("pump_range[0]", pump_range[0]), check_real("pump_range[1]", pump_range[1]))
    if not 0 < lo < hi:
        raise ValueError(f"pump_range must satisfy 0 < R_lo < R_hi, got {pump_range}")
    omega = check_grid("omega", omega)
    opt = dict(options or {})
    if prominence is not None:
        opt["prominence"] = prominence
    ssopt = dict(opt.get("steadystate") or {})
    ssopt.setdefault("check_stability", False)
    opt["steadystate"] = ssopt

    def peaks(R):
        model = type(laser)(laser.ensemble, **{**laser.parameters(), "pumping": R})
        return spectrum(model, omega, opt).n_peaks

    if peaks(lo) == 1:
        raise ValueError(f"spectrum is already single-peaked at R_lo = {lo:g}")
    if peaks(hi) > 1:
        raise ValueError(f"spectrum still has several peaks at R_hi = {hi:g}")
    while hi / lo > 1 + rtol:
        mid = np.sqrt(lo * hi)
        if peaks(mid) > 1:
            lo = mid
        else:
            hi = mid
    return float(np.sqrt(lo * hi))
