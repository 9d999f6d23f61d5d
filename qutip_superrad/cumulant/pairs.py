r"""Mean-field and second-order cumulants of two-level dipole arrays with per-pair couplings.

The model of Zhu, Schachenmayer, Xu, Mang, Holland and Rey, *Synchronization of
interacting quantum dipoles*, New J. Phys. 17, 083063 (2015) ("the seed" below),
eqs (1)–(4), with ħ = 1, Pauli operators ``σz = |↑⟩⟨↑| − |↓⟩⟨↓|``, ``σ⁺ = |↑⟩⟨↓|``::

    H     = ½ Σ_a δ_a σz_a + ½ Σ_{a≠b} g_ab σ⁺_a σ⁻_b
    dρ/dt = −i[H, ρ] + Σ_{a,b} f_ab (σ⁻_b ρ σ⁺_a − ½{σ⁺_a σ⁻_b, ρ})
                     + Σ_a W_a (σ⁺_a ρ σ⁻_a − ½{σ⁻_a σ⁺_a, ρ})

``f`` real symmetric positive semidefinite (``f_aa = Γ_a``), ``g`` real symmetric
(diagonal ignored), detunings ``δ_a``, pumping ``W_a``.  Below ``R_a = Γ_a + W_a``,
``K = f − i g`` with zero diagonal and ``K* = f + i g``.  Every equation is a dense
matrix expression (NumPy/BLAS), with the same cost for any coupling pattern.

Order 1 (mean field, product state)
-----------------------------------
Unknowns ``m_a = ⟨σ⁻_a⟩`` (complex) and ``s_a = ⟨σz_a⟩``::

    dm/dt = −(iδ + R/2) ∘ m + ½ s ∘ (K* m)
    ds/dt = (W − Γ) − R ∘ s − 2 Re( conj(m) ∘ (K* m) )

With the seed's Bloch vector ``S⊥_a e^{iφ_a} = ρ_a^{↑↓} = ⟨σ⁻_a⟩`` and
``Sz_a = s_a/2`` these are the seed's eqs (5) and (6) exactly, and eq (7) with
``−δ_a`` in place of ``+δ_a`` (``dφ_a/dt = −δ_a + Sz_a Σ_b (S⊥_b/S⊥_a)[g cos δφ_ba
+ f sin δφ_ba]``): with ``H ∋ +½δσz`` the coherence ``⟨σ⁻⟩`` rotates as ``e^{−iδt}``.
The opposite convention ``S⊥e^{iφ} = ⟨σ⁺⟩`` would fix the sign of ``δ`` in (7) but flip
the sign of the Kuramoto term ``f sin δφ`` and of every ``g`` term; so the printed
eq (7) corresponds to ``H ∋ −½δσz`` (or ``δ → −δ``).  The order parameter is
``Z e^{iΦ} = (1/N) Σ_a ⟨σ⁻_a⟩``.

Order 2 (phase invariant)
-------------------------
No coherent drive, so the model is U(1) symmetric and moments of nonzero charge
vanish (``⟨σ±⟩ = 0``).  Unknowns ``s_a = ⟨σz_a⟩``, ``C_ab = ⟨σ⁺_a σ⁻_b⟩`` (a≠b,
Hermitian) and ``D_ab = ⟨σz_a σz_b⟩`` (a≠b, real symmetric); three-point moments
by ``⟨ABC⟩ ≈ ⟨AB⟩⟨C⟩ + ⟨AC⟩⟨B⟩ + ⟨BC⟩⟨A⟩ − 2⟨A⟩⟨B⟩⟨C⟩``, which leaves
``⟨σz_a σ⁺_j σ⁻_b⟩ ≈ s_a C_jb`` for distinct ``a, j, b``.  With ``C`` and ``D``
stored as full matrices with zero diagonal, ``P = Re(K* ∘ C)`` and ``v = P 1``
(``v_a = Σ_{j≠a} Re(K*_aj C_aj)``)::

    ds/dt = (W − Γ) − R ∘ s − 2 v
    dC/dt = [i(δ_a − δ_b) − ½(R_a + R_b)] C_ab + ¼ K_ab (s_a + D_ab) + ¼ K*_ab (s_b + D_ab)
            + ½ (X + X†),   X = diag(s) K C                          (a ≠ b)
    dD/dt = −(R_a + R_b) D_ab + (W_a − Γ_a) s_b + (W_b − Γ_b) s_a + 4 f_ab Re C_ab
            − 2 s_b (v_a − P_ab) − 2 s_a (v_b − P_ba)                  (a ≠ b)

The exclusions of the sums (``j ≠ a, b``) are exact because ``K`` and ``C`` have
zero diagonals: ``(K C)_ab = Σ_{j≠a,b} K_aj C_jb``.  The terms with ``j = b`` (or
``j = a``) use ``σ⁺_b σ⁻_b = (1 + σz_b)/2`` and give the ``¼K(s + D)`` sources.
One complex (real when ``g = 0`` and all ``δ`` equal) ``N × N`` matmul per
right-hand side; ``O(N²)`` memory.  The unknowns are ``s``, the upper triangles of
``Re C``, ``Im C`` and ``D``: ``N + 3N(N−1)/2`` real numbers, or ``N + N(N−1)``
when ``Im C ≡ 0`` (``g = 0`` and equal detunings, the ``real`` mode).

Two-time correlations (quantum regression, seed App. B)
-------------------------------------------------------
``G_jb(τ) = ⟨σ⁺_j(τ) σ⁻_b(0)⟩`` in the steady state obeys ``dG/dτ = M G`` with
``⟨σz_a(τ)σ⁺_j(τ)σ⁻_b(0)⟩ ≈ s_a G_jb(τ)`` (the seed's approximation)::

    M = diag(iδ − R/2) + ½ diag(s) K,     G(0)_jb = C_jb (j≠b),  (1 + s_b)/2 (j = b)

The seed's App. B prints ``−iδ_a`` and omits ``g``; with the master equation above
``⟨σ⁺_a(τ)⟩`` rotates as ``e^{+iδ_a τ}`` (same sign issue as eq 7).  ``M`` is
diagonalised once, so ``Z_ab(τ) = ⟨(σ⁺_a + σ⁺_b)(τ)(σ⁻_a + σ⁻_b)(0)⟩`` costs
``O(N)`` per pair and time.

Public API
----------
:func:`pair_parameters`, :class:`PairCumulants` (``steadystate``, ``evolve``,
``regression``, ``correlation``, ``entrainment``), :func:`product_state`,
:func:`fit_damped_cosine`, the result classes :class:`PairState`,
:class:`PairEvolution`, :class:`PairRegression`, :class:`Entrainment`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.sparse.linalg import LinearOperator, expm_multiply, gmres

from .. import _validate as V
from .._progress import Monitor
from .._threads import limited_blas

__all__ = ["PairParameters", "pair_parameters", "PairCumulants", "PairState", "PairEvolution",
           "PairRegression", "Entrainment", "product_state", "fit_damped_cosine"]


# ----------------------------------------------------------------------------------------
# input
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PairParameters:
    """Validated parameters of a dipole array (see :func:`pair_parameters`).

    Attributes
    ----------
    f : ndarray, shape (N, N)
        Dissipative couplings (symmetric PSD; ``f_aa = Γ_a``).
    g : ndarray, shape (N, N)
        Elastic couplings (symmetric, zero diagonal).
    detunings : ndarray, shape (N,)
    pumping : ndarray, shape (N,)
    """
    f: np.ndarray
    g: np.ndarray
    detunings: np.ndarray
    pumping: np.ndarray

    @property
    def N(self):
        """Number of dipoles."""
        return self.f.shape[0]

    @property
    def decay(self):
        """Single-dipole decay rates ``Γ_a = f_aa``."""
        return np.diag(self.f).copy()

    @property
    def rate_scale(self):
        """Largest rate of the model (the residual scale of the steady states)."""
        return float(max(np.max(np.abs(self.f)), np.max(np.abs(self.g), initial=0.0),
                         np.max(np.abs(self.detunings)), np.max(self.pumping), 1e-300))


def _square(name, value, n=None):
    if value is None:
        return None
    if np.iscomplexobj(value):
        value = np.asarray(value)
        if np.any(value.imag != 0):
            raise ValueError(f"{name} must be real, got complex entries")
        value = value.real
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers") from None
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (N, N) matrix, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n}, {n}) like f, got {arr.shape}")
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must describe N >= 1 dipoles, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN/inf)")
    scale = max(float(np.max(np.abs(arr))), 1e-300)
    if np.max(np.abs(arr - arr.T)) > 1e-12 * scale:
        raise ValueError(f"{name} must be symmetric ({name}_ab = {name}_ba); largest asymmetry "
                         f"{np.max(np.abs(arr - arr.T)):.3g}")
    return 0.5 * (arr + arr.T)


def _vector(name, value, n, nonnegative=False):
    if value is None:
        return np.zeros(n)
    if np.iscomplexobj(value):
        raise ValueError(f"{name} must be real, got complex values")
    try:
        arr = V.real_array(name, value)
    except TypeError:
        raise TypeError(f"{name} must be a real number or an array of N = {n} real numbers") \
            from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.ndim != 1 or arr.size != n:
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN/inf)")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be a rate >= 0, got minimum {arr.min():.3g}")
    return arr.copy()


def pair_parameters(f, g=None, detunings=None, pumping=0.0):
    """Validate the couplings of a dipole array.

    Parameters
    ----------
    f : array_like, shape (N, N)
        Real, symmetric, positive semidefinite dissipative couplings; ``f_aa`` is
        the single-dipole decay rate ``Γ_a`` (must be ``>= 0``).
    g : array_like, shape (N, N), optional
        Real symmetric elastic couplings (the diagonal is ignored).  Default 0.
    detunings : float or array_like, shape (N,), optional
        ``δ_a`` (default 0).
    pumping : float or array_like, shape (N,)
        Incoherent pumping rates ``W_a >= 0``.

    Returns
    -------
    PairParameters

    Raises
    ------
    ValueError
        Naming the parameter: wrong shape, not finite, complex, not symmetric,
        ``f`` not positive semidefinite, negative pumping or decay.
    """
    f = _square("f", f)
    n = f.shape[0]
    if np.any(np.diag(f) < 0):
        raise ValueError("f must have a non-negative diagonal (f_aa = decay rate Γ_a)")
    g = _square("g", g, n)
    g = np.zeros((n, n)) if g is None else g.copy()
    np.fill_diagonal(g, 0.0)
    detunings = _vector("detunings", detunings, n)
    pumping = _vector("pumping", pumping, n, nonnegative=True)
    lam = np.linalg.eigvalsh(f)
    top = max(float(np.max(np.abs(lam))), 1e-300)
    if lam[0] < -1e-10 * top:
        raise ValueError("f must be positive semidefinite (a decay matrix); its smallest "
                         f"eigenvalue is {lam[0]:.3g} (largest {lam[-1]:.3g})")
    return PairParameters(f, g, detunings, pumping)


def product_state(N, sz=-1.0, phases=None, sm=None):
    """Initial product state for :meth:`PairCumulants.evolve`.

    Parameters
    ----------
    N : int
        Number of dipoles.
    sz : float or array_like, shape (N,)
        ``⟨σz_a⟩`` in ``[−1, 1]`` (default −1, all down).
    phases : array_like, shape (N,), optional
        Phases ``φ_a`` of pure Bloch vectors: ``⟨σ⁻_a⟩ = ½ sqrt(1 − s_a²) e^{iφ_a}``
        (order 1 only).
    sm : complex or array_like, shape (N,), optional
        ``⟨σ⁻_a⟩`` given directly (``|⟨σ⁻⟩|² <= (1 − s²)/4``); exclusive with ``phases``.

    Returns
    -------
    dict
        ``{"sz": ndarray, "sm": ndarray or None}``.
    """
    N = V.check_count("N", N)
    s = _vector("sz", sz, N)
    if np.any(np.abs(s) > 1 + 1e-12):
        raise ValueError("sz must lie in [-1, 1]")
    if phases is not None and sm is not None:
        raise ValueError("give phases or sm, not both")
    m = None
    if phases is not None:
        ph = _vector("phases", phases, N)
        m = 0.5 * np.sqrt(np.clip(1 - s ** 2, 0, None)) * np.exp(1j * ph)
    elif sm is not None:
        m = np.asarray(sm, dtype=complex)
        m = np.full(N, complex(m)) if m.ndim == 0 else m
        if m.shape != (N,) or not np.all(np.isfinite(m)):
            raise ValueError(f"sm must be finite with shape ({N},), got {m.shape}")
        if np.any(np.abs(m) ** 2 > (1 - s ** 2) / 4 + 1e-12):
            raise ValueError("sm is unphysical: |<sigma->|^2 must be <= (1 - sz^2)/4")
    return {"sz": s, "sm": m}


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------
@dataclass
class PairState:
    """State of the pair equations.

    Attributes
    ----------
    order : int
        1 (mean field) or 2 (phase-invariant cumulants).
    s : ndarray, shape (N,)
        ``⟨σz_a⟩``.
    C : ndarray, shape (N, N) or None
        Order 2: ``⟨σ⁺_a σ⁻_b⟩`` for ``a ≠ b`` (Hermitian, zero diagonal).
    D : ndarray, shape (N, N) or None
        Order 2: ``⟨σz_a σz_b⟩`` for ``a ≠ b`` (zero diagonal).
    sm : ndarray, shape (N,) or None
        Order 1: ``⟨σ⁻_a⟩ = S⊥_a e^{iφ_a}``.
    frequency : float
        Order 1 steady state: collective frequency ``ω`` with
        ``⟨σ⁻_a⟩(t) = sm_a e^{−iωt}`` (0 otherwise).
    stats : dict
        Solver diagnostics (time, residual, iterations, unknowns, ...).
    """
    order: int
    s: np.ndarray
    C: np.ndarray | None = None
    D: np.ndarray | None = None
    sm: np.ndarray | None = None
    frequency: float = 0.0
    stats: dict = field(default_factory=dict)

    @property
    def N(self):
        """Number of dipoles."""
        return self.s.size

    @property
    def sz(self):
        """``⟨σz_a⟩`` (alias of ``s``)."""
        return self.s

    def pair_matrix(self):
        """``⟨σ⁺_a σ⁻_b⟩`` for ``a ≠ b`` (zero diagonal); order 1: ``conj(m_a) m_b``."""
        if self.order == 2:
            return self.C
        C = np.conj(self.sm)[:, None] * self.sm[None, :]
        np.fill_diagonal(C, 0.0)
        return C

    def pair_mean(self, sites=None):
        """Mean of ``⟨σ⁺_a σ⁻_b⟩`` over ordered pairs ``a ≠ b`` of ``sites``.

        Parameters
        ----------
        sites : array_like of int, optional
            Subset of dipoles (default: all), e.g. a cluster of ``d`` neighbours
            for the seed's ``(Z_Q^d)² = ⟨σ⁺_a σ⁻_b⟩_d``.

        Returns
        -------
        float
            The mean (real: ``C`` is Hermitian); may be negative (subradiance).
        """
        idx = np.arange(self.N) if sites is None else np.unique(np.asarray(sites, dtype=int))
        if idx.size < 2:
            raise ValueError("sites must contain at least two distinct dipoles")
        if idx.min() < 0 or idx.max() >= self.N:
            raise ValueError(f"sites must be in 0 … {self.N - 1}")
        C = self.pair_matrix()[np.ix_(idx, idx)]
        n = idx.size
        return float(np.sum(C.real) / (n * (n - 1)))

    def cluster_order_parameter(self, sites=None):
        """``sqrt(max(pair_mean(sites), 0))`` (the seed's ``Z_Q^d`` for a cluster)."""
        return float(np.sqrt(max(self.pair_mean(sites), 0.0)))

    @property
    def order_parameter(self):
        """Order 1: ``Z = |(1/N) Σ ⟨σ⁻_a⟩|``; order 2: ``Z_Q = sqrt(mean_{a≠b} Re C_ab)``.

        ``Z_Q`` is clipped at 0 when the mean is negative (subradiant correlations;
        read :meth:`pair_mean` for the signed value).
        """
        if self.order == 1:
            return float(np.abs(np.mean(self.sm)))
        if self.N < 2:
            return 0.0
        return self.cluster_order_parameter()

    @property
    def phases(self):
        """Order 1: phases ``φ_a`` of ``⟨σ⁻_a⟩ = S⊥_a e^{iφ_a}``."""
        if self.order != 1:
            raise AttributeError("phases exist at order 1 only (order 2 has <sigma-> = 0)")
        return np.angle(self.sm)


@dataclass
class PairEvolution:
    """Time evolution of the pair equations.

    Attributes
    ----------
    times : ndarray
    s : ndarray, shape (nt, N)
        ``⟨σz_a⟩(t)``.
    order_parameter : ndarray, shape (nt,)
        ``Z(t)`` (order 1) or ``Z_Q(t)`` (order 2).
    sm : ndarray, shape (nt, N) or None
        Order 1: ``⟨σ⁻_a⟩(t)``.
    states : list of PairState or None
        Full states at every time (option ``states``).
    stats : dict
    """
    times: np.ndarray
    s: np.ndarray
    order_parameter: np.ndarray
    sm: np.ndarray | None = None
    states: list | None = None
    stats: dict = field(default_factory=dict)

    @property
    def final(self):
        """The state at the last time (``None`` unless states were stored)."""
        return None if self.states is None else self.states[-1]


# ----------------------------------------------------------------------------------------
# equations
# ----------------------------------------------------------------------------------------
class _Order1:
    def __init__(self, p):
        self.p = p
        N = p.N
        self.N = N
        self.Gam = p.decay
        self.W = p.pumping
        self.R = self.Gam + self.W
        Kc = p.f + 1j * p.g if np.any(p.g != 0) else p.f.copy()
        np.fill_diagonal(Kc, 0.0)
        self.Kc = Kc
        self.n = 3 * N

    def unpack(self, y):
        N = self.N
        return y[:N] + 1j * y[N:2 * N], y[2 * N:]

    def pack(self, m, s):
        return np.concatenate([m.real, m.imag, s])

    def matvec(self, m):
        # small N: NumPy's own loop (a multithreaded BLAS gemv of a 100 × 100 matrix is
        # dominated by thread start-up, and collapses on a loaded machine)
        if self.N <= 256:
            return np.einsum("ij,j->i", self.Kc, m)
        return self.Kc @ m

    def derivs(self, m, s):
        Km = self.matvec(m)
        dm = -(1j * self.p.detunings + 0.5 * self.R) * m + 0.5 * s * Km
        ds = (self.W - self.Gam) - self.R * s - 2.0 * np.real(np.conj(m) * Km)
        return dm, ds

    def rhs(self, t, y):
        return self.pack(*self.derivs(*self.unpack(y)))


class _Order2:
    def __init__(self, p, real=False):
        self.p = p
        N = self.N = p.N
        self.real = bool(real)
        self.Gam = p.decay
        self.W = p.pumping
        self.R = self.Gam + self.W
        self.f0 = p.f.copy()
        np.fill_diagonal(self.f0, 0.0)
        if self.real:
            if np.any(p.g != 0) or np.ptp(p.detunings) != 0:
                raise ValueError("real mode needs g = 0 and equal detunings")
            self.K = self.f0
            self.Kc = self.f0
            self.E = -0.5 * (self.R[:, None] + self.R[None, :])
        else:
            self.K = self.f0 - 1j * p.g
            self.Kc = self.f0 + 1j * p.g
            d = p.detunings
            self.E = 1j * (d[:, None] - d[None, :]) - 0.5 * (self.R[:, None] + self.R[None, :])
        self.RR = self.R[:, None] + self.R[None, :]
        self.WG = self.W - self.Gam
        self.iu = np.triu_indices(N, 1)
        self.P = len(self.iu[0])
        self.n = N + (2 if self.real else 3) * self.P
        self.dtype = float if self.real else complex

    # -- packing --------------------------------------------------------------------
    def unpack(self, y):
        N, P, iu = self.N, self.P, self.iu
        s = y[:N]
        C = np.zeros((N, N), dtype=self.dtype)
        if self.real:
            C[iu] = y[N:N + P]
            D_up = y[N + P:N + 2 * P]
        else:
            C[iu] = y[N:N + P] + 1j * y[N + P:N + 2 * P]
            D_up = y[N + 2 * P:N + 3 * P]
        C = C + C.conj().T
        D = np.zeros((N, N))
        D[iu] = D_up
        D = D + D.T
        return s, C, D

    def pack(self, s, C, D):
        iu = self.iu
        parts = [np.real(s), C[iu].real]
        if not self.real:
            parts.append(C[iu].imag)
        parts.append(D[iu].real)
        return np.concatenate(parts)

    def state_vector(self, s, C, D):
        return self.pack(np.asarray(s, float), np.asarray(C), np.asarray(D, float))

    # -- pieces -----------------------------------------------------------------------
    def _pv(self, C):
        P = (self.Kc * C).real
        return P, P.sum(axis=1)

    def lin(self, s, C, D, P, v):
        ds = -self.R * s - 2.0 * v
        dC = self.E * C + 0.25 * (self.K * (s[:, None] + D) + self.Kc * (s[None, :] + D))
        dD = (-self.RR * D + self.WG[:, None] * s[None, :] + s[:, None] * self.WG[None, :]
              + 4.0 * self.f0 * C.real)
        return ds, dC, dD

    @staticmethod
    def quad(sA, KCB, PB, vB):
        X = sA[:, None] * KCB
        dC = 0.5 * (X + X.conj().T)
        dD = -2.0 * (sA[None, :] * (vB[:, None] - PB) + sA[:, None] * (vB[None, :] - PB.T))
        return dC, dD

    def derivs(self, s, C, D):
        P, v = self._pv(C)
        KC = self.K @ C
        ds, dC, dD = self.lin(s, C, D, P, v)
        qC, qD = self.quad(s, KC, P, v)
        ds = ds + self.WG
        return ds, dC + qC, dD + qD

    def rhs(self, t, y):
        return self.pack(*self.derivs(*self.unpack(y)))

    def jvp_factory(self, y):
        """``v ↦ J(y) v`` (exact: one matmul per product)."""
        s, C, D = self.unpack(y)
        P, v = self._pv(C)
        KC = self.K @ C

        def jvp(x):
            sx, Cx, Dx = self.unpack(x)
            Px, vx = self._pv(Cx)
            ds, dC, dD = self.lin(sx, Cx, Dx, Px, vx)
            q1C, q1D = self.quad(s, self.K @ Cx, Px, vx)
            q2C, q2D = self.quad(sx, KC, P, v)
            return self.pack(ds, dC + q1C + q2C, dD + q1D + q2D)
        return jvp

    def diagonal(self):
        """Diagonal of the linear part (for the preconditioner)."""
        RR = self.RR[self.iu]
        parts = [-self.R, -0.5 * RR]
        if not self.real:
            parts.append(-0.5 * RR)
        parts.append(-RR)
        return np.concatenate(parts)


# ----------------------------------------------------------------------------------------
# solvers
# ----------------------------------------------------------------------------------------
_SS1_DEFAULTS = {"t_relax": None, "seed": 1e-2, "tol": 1e-10, "max_time": 60.0,
                 "rtol": 1e-8, "atol": 1e-10, "method": "RK45"}
_SS2_DEFAULTS = {"tol": 1e-10, "max_time": 300.0, "maxiter": 200, "real": "auto",
                 "h0": None, "gmres_rtol": 1e-4, "restart": 30, "initial": None}
_EV_DEFAULTS = {"rtol": 1e-8, "atol": 1e-10, "method": "RK45", "max_step": np.inf,
                "states": None, "real": "auto", "max_time": None}
_QRT_DEFAULTS = {"method": "auto", "cond_limit": 1e8}




def _rightmost(A, k):
    """The ``k`` eigenvalues of largest real part of a dense matrix (ARPACK on matrix–vector
    products for larger matrices: a full LAPACK eigensolve, multithreaded, is slow and
    collapses on a loaded machine; falls back to it if ARPACK does not converge)."""
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigs
    n = A.shape[0]
    if n <= max(60, k + 3):
        return np.linalg.eigvals(A)
    small = n <= 1024
    op = LinearOperator((n, n), dtype=A.dtype,
                        matvec=lambda v: np.einsum("ij,j->i", A, v) if small else A @ v)
    try:
        return eigs(op, k=k, which="LR", return_eigenvectors=False, tol=1e-12,
                    maxiter=20 * n, ncv=min(n - 1, max(2 * k + 1, 30)))
    except (ArpackNoConvergence, ArpackError):
        return np.linalg.eigvals(A)


def _newton_dense(F, J, x, atol, maxiter=50):
    """Damped Newton with a dense Jacobian (LAPACK LU); returns the last iterate."""
    Fx = F(x)
    r = float(np.max(np.abs(Fx)))
    for _ in range(maxiter):
        if not np.isfinite(r) or r < atol:
            break
        try:
            dx = sla.solve(J(x), -Fx, check_finite=False)
        except (sla.LinAlgError, ValueError):
            break
        lam = 1.0
        while lam > 1e-4:
            xn = x + lam * dx
            Fn = F(xn)
            rn = float(np.max(np.abs(Fn)))
            if np.isfinite(rn) and rn < (1 - 1e-4 * lam) * r:
                break
            lam /= 2
        else:
            break
        x, Fx, r = xn, Fn, rn
    return x


class PairCumulants:
    """Mean-field (``order=1``) or second-order cumulant (``order=2``) equations of a
    dipole array with per-pair couplings.

    Parameters
    ----------
    f : array_like, shape (N, N), or PairParameters
        Dissipative couplings (real symmetric PSD, ``f_aa = Γ_a``), or the checked
        parameters of :func:`pair_parameters` (then nothing else is given).
    g : array_like, shape (N, N), optional
        Elastic couplings (real symmetric, diagonal ignored).
    detunings : float or array_like, shape (N,), optional
    pumping : float or array_like, shape (N,)
        Incoherent pumping ``W_a >= 0``.
    order : {1, 2}

    Notes
    -----
    Conventions and equations: see the module docstring
    (:mod:`qutip_superrad.cumulant.pairs`).
    """

    def __init__(self, f, g=None, detunings=None, pumping=0.0, order=2):
        if isinstance(f, PairParameters):      # already checked (e.g. by DipoleArray)
            if g is not None or detunings is not None or pumping != 0.0:
                raise TypeError("with PairParameters as f, give no g, detunings or pumping")
            self.params = f
        else:
            self.params = pair_parameters(f, g, detunings, pumping)
        self.order = V.check_int("order", order, minimum=1, maximum=2)
        self.N = self.params.N

    # -- helpers ----------------------------------------------------------------------
    def _real_mode(self, flag):
        ok = bool(np.all(self.params.g == 0) and np.ptp(self.params.detunings) == 0)
        if flag == "auto":
            return ok
        if flag and not ok:
            raise ValueError("option real=True needs g = 0 and equal detunings")
        return bool(flag)

    def equations(self, real="auto"):
        """The right-hand side object (``rhs(t, y)``, ``pack``, ``unpack``, ``n`` unknowns)."""
        if self.order == 1:
            return _Order1(self.params)
        return _Order2(self.params, self._real_mode(real))

    def unknowns(self, real="auto"):
        """Number of real unknowns of the equations."""
        N = self.N
        if self.order == 1:
            return 3 * N
        return N + (2 if self._real_mode(real) else 3) * (N * (N - 1) // 2)

    def _state2(self, eq, y, stats):
        s, C, D = eq.unpack(y)
        return PairState(2, s.copy(), C.astype(complex), D, stats=stats)

    def _initial(self, initial):
        N = self.N
        accepted = "None, 'ground', 'excited', a dict from product_state(...) or a PairState"
        if initial is None or (isinstance(initial, str) and initial in ("ground", "excited")):
            return product_state(N, 1.0 if initial == "excited" else -1.0)
        if isinstance(initial, (str, tuple)):
            raise ValueError(f"initial={initial!r} is not a product state, which is all the "
                             f"per-pair closure represents; initial must be {accepted}")
        if isinstance(initial, PairState):
            if initial.N != N:
                raise ValueError(f"initial state has N = {initial.N}, the model N = {N}")
            return initial
        if isinstance(initial, dict):
            unknown = sorted(set(initial) - {"sz", "sm", "phases"})
            if unknown:
                raise ValueError(f"unknown key(s) {unknown} in initial; allowed: "
                                 "['phases', 'sm', 'sz']")
            return product_state(N, initial.get("sz", -1.0), initial.get("phases"),
                                 initial.get("sm"))
        raise TypeError(f"initial must be {accepted}; got {type(initial).__name__}")

    # -- evolution --------------------------------------------------------------------
    @limited_blas
    def evolve(self, tlist, initial=None, options=None):
        """Integrate the equations over ``tlist``.

        Parameters
        ----------
        tlist : array_like
            Increasing times.
        initial : None, "ground", "excited", dict or PairState, optional
            All dipoles down (``None``, ``"ground"``, the default) or up (``"excited"``),
            :func:`product_state` (keys ``sz``, ``sm`` or ``phases``), or a state of the
            same order.  Order 2 accepts product states
            without coherence only (``⟨σ⁻⟩ = 0``; then ``C = 0``, ``D_ab = s_a s_b``).
        options : dict, optional
            ``rtol`` (1e-8), ``atol`` (1e-10), ``method`` ("RK45", any of
            :func:`scipy.integrate.solve_ivp`), ``max_step``, ``max_time`` (seconds,
            None), ``states`` (store full states; default ``N <= 200``), ``real``
            ("auto": drop ``Im C`` when it stays zero).

        Returns
        -------
        PairEvolution
        """
        tlist = V.check_grid("tlist", tlist)
        opts = V.check_options(options, _EV_DEFAULTS, "PairCumulants.evolve")
        limit = V.check_time_limit(opts["max_time"])
        init = self._initial(initial)
        store = opts["states"] if opts["states"] is not None else self.N <= 200
        N = self.N
        if self.order == 1:
            eq = _Order1(self.params)
            if isinstance(init, PairState):
                if init.order != 1:
                    raise ValueError("order-1 evolution needs an order-1 initial state")
                m0, s0 = init.sm, init.s
            else:
                m0 = np.zeros(N, complex) if init["sm"] is None else init["sm"]
                s0 = init["sz"]
            y0 = eq.pack(np.asarray(m0, complex), np.asarray(s0, float))
        else:
            real = self._real_mode(opts["real"])
            if isinstance(init, PairState):
                if init.order != 2:
                    raise ValueError("order-2 evolution needs an order-2 initial state")
                if real and np.any(np.abs(init.C.imag) > 0):
                    real = self._real_mode(False)
                eq = _Order2(self.params, real)
                y0 = eq.state_vector(init.s, init.C, init.D)
            else:
                if init["sm"] is not None and np.any(init["sm"] != 0):
                    raise ValueError("order 2 is phase invariant (<sigma-> = 0): the initial "
                                     "product state must not carry a coherence sm/phases")
                eq = _Order2(self.params, real)
                s0 = init["sz"]
                D0 = np.outer(s0, s0)
                np.fill_diagonal(D0, 0.0)
                y0 = eq.state_vector(s0, np.zeros((N, N)), D0)
        with Monitor(eq.rhs, tlist, limit, None, "PairCumulants.evolve") as watched:
            ys = watched.solve(tlist, y0, method=opts["method"], rtol=opts["rtol"],
                               atol=opts["atol"], max_step=opts["max_step"])
        if not np.all(np.isfinite(ys)):
            raise RuntimeError("PairCumulants.evolve produced NaN/inf (unstable equations or "
                               "too large a time step)")
        stats = {"time": time.perf_counter() - watched.start, "rhs_calls": watched.calls,
                 "unknowns": eq.n,
                 "order": self.order}
        if self.order == 1:
            ms = ys[:, :N] + 1j * ys[:, N:2 * N]
            ss = ys[:, 2 * N:]
            Z = np.abs(ms.mean(axis=1))
            states = [PairState(1, ss[k].copy(), sm=ms[k].copy()) for k in range(len(tlist))] \
                if store else None
            return PairEvolution(tlist, ss, Z, sm=ms, states=states, stats=stats)
        ss = ys[:, :N].copy()
        Z, states = [], [] if store else None
        for y in ys:
            st = self._state2(eq, y, {})
            Z.append(st.order_parameter if N > 1 else 0.0)
            if store:
                states.append(st)
        return PairEvolution(tlist, ss, np.array(Z), states=states, stats=stats)

    # -- steady state -----------------------------------------------------------------
    @limited_blas
    def steadystate(self, options=None, initial=None):
        """Steady state of the equations.

        Order 2: pseudo-transient continuation (implicit-Euler steps
        ``(I/h − J)Δ = F`` solved by GMRES with the exact Jacobian–vector product, ``h``
        grown by the residual ratio, so that it becomes Newton's method) from the
        uncorrelated single-dipole steady state.  Order 1: relaxation by
        :func:`~scipy.integrate.solve_ivp` from a weakly coherent in-phase state (or
        ``initial``), then Newton (:func:`scipy.optimize.root`) in the frame rotating
        with the collective frequency ``ω`` (the phase ``Φ`` of the order parameter
        fixed to 0); a root is accepted only if it is close to the relaxed state
        (within 1e-2 in every component) and, for ``N <= 500``, linearly stable in the rotating
        frame.  When the trivial state ``⟨σ⁻⟩ = 0`` is linearly stable (below
        threshold) it is returned at once (a coexisting synchronised attractor is not
        searched for; use :meth:`evolve` from a coherent state for that).

        Parameters
        ----------
        options : dict, optional
            Order 2: ``tol`` (1e-10, max |dy/dt| relative to the largest rate),
            ``max_time`` (300 s), ``maxiter`` (200), ``real`` ("auto"), ``h0``
            (first pseudo-time step, default ``1/max(R)``), ``gmres_rtol`` (1e-4),
            ``restart`` (30), ``initial`` (a :class:`PairState` to start from).
            Order 1: ``t_relax`` (default ``200/min R``), ``seed`` (1e-2, initial
            ``⟨σ⁻⟩``), ``tol``, ``max_time`` (60 s), ``rtol``, ``atol``, ``method``.
        initial : dict or PairState, optional
            Order 1: the state relaxation starts from (e.g. random phases).

        Returns
        -------
        PairState

        Raises
        ------
        RuntimeError
            Not converged within ``max_time``/``maxiter`` (message with the residual
            and the time), non-finite or unphysical result, or (order 1) no rotating
            steady state (e.g. partially synchronised, drifting dipoles).
        """
        if self.order == 1:
            return self._steady1(options, initial)
        if initial is not None:
            options = dict(options or {}, initial=initial)
        return self._steady2(options)

    def _steady2(self, options):
        opts = V.check_options(options, _SS2_DEFAULTS, "PairCumulants.steadystate(order=2)")
        limit = V.check_time_limit(opts["max_time"])
        tol = V.check_real("tol", opts["tol"])
        init = opts["initial"]
        real = self._real_mode(opts["real"])
        if init is not None and (not isinstance(init, PairState) or init.order != 2
                                 or init.N != self.N):
            raise ValueError("option initial must be an order-2 PairState of this model")
        if real and init is not None and np.any(init.C.imag != 0):
            real = False
        eq = _Order2(self.params, real)
        p = self.params
        N = self.N
        start = time.perf_counter()
        if init is None:
            R = np.where(eq.R > 0, eq.R, 1.0)
            s0 = np.where(eq.R > 0, (eq.W - eq.Gam) / R, -1.0)
            D0 = np.outer(s0, s0)
            np.fill_diagonal(D0, 0.0)
            y = eq.state_vector(s0, np.zeros((N, N)), D0)
        else:
            y = eq.state_vector(init.s, init.C, init.D)
        scale = p.rate_scale
        diag = eq.diagonal()
        h = V.check_real("h0", opts["h0"]) if opts["h0"] is not None else \
            1.0 / max(float(np.max(eq.R)), 1e-12 * scale, 1e-300)
        F = eq.rhs(0, y)
        r = float(np.max(np.abs(F))) / scale
        hist = []
        calls = {"rhs": 1, "jvp": 0}
        it = 0
        converged = r < tol
        while not converged:
            elapsed = time.perf_counter() - start
            if it >= opts["maxiter"] or (limit is not None and elapsed > limit):
                raise V.ConvergenceError(
                    f"PairCumulants.steadystate (order 2, N = {N}) did not converge: residual "
                    f"max|dy/dt|/rate = {r:.3g} (tol {tol:.3g}) after {it} steps and "
                    f"{elapsed:.3g} s (max_time {limit}, maxiter {opts['maxiter']}); "
                    f"last pseudo-time step h = {h:.3g}; raise max_time/maxiter or start from "
                    "a nearby state (option initial)")
            jvp = eq.jvp_factory(y)
            hh = h

            def mv(x, hh=hh, jvp=jvp):
                calls["jvp"] += 1
                return x / hh - jvp(x)

            A = LinearOperator((eq.n, eq.n), matvec=mv, dtype=float)
            pre = 1.0 / (1.0 / hh - diag)
            Mp = LinearOperator((eq.n, eq.n), matvec=lambda x, pre=pre: pre * x, dtype=float)
            dx, info = gmres(A, F, rtol=opts["gmres_rtol"], atol=0.0,
                             restart=opts["restart"], maxiter=20, M=Mp)
            y_new = y + dx
            F_new = eq.rhs(0, y_new)
            calls["rhs"] += 1
            r_new = float(np.max(np.abs(F_new))) / scale
            it += 1
            if not np.isfinite(r_new) or r_new > 10 * r + 1e-300 or \
                    np.max(np.abs(y_new[:N])) > 1 + 1e-6 + 10 * r:
                h = h / 4.0
                hist.append((h, r_new, "reject"))
                continue
            ratio = r / max(r_new, 1e-300)
            h = min(h * min(max(ratio, 1.0), 100.0), 1e16)   # accepted steps never shrink h
            y, F, r = y_new, F_new, r_new
            hist.append((h, r, info))
            converged = r < tol
        stats = {"time": time.perf_counter() - start, "residual": r, "iterations": it,
                 "rhs_calls": calls["rhs"], "jvp_calls": calls["jvp"], "unknowns": eq.n,
                 "real": eq.real, "method": "ptc-newton-gmres"}
        st = self._state2(eq, y, stats)
        if not (np.all(np.isfinite(st.s)) and np.all(np.isfinite(st.C))):
            raise RuntimeError("PairCumulants.steadystate produced NaN/inf")
        if np.max(np.abs(st.s)) > 1 + 1e-6:
            raise RuntimeError(f"PairCumulants.steadystate found an unphysical root "
                               f"(max |<sigma_z>| = {np.max(np.abs(st.s)):.6g} > 1)")
        return st

    def _steady1(self, options, initial):
        from scipy.optimize import root
        opts = V.check_options(options, _SS1_DEFAULTS, "PairCumulants.steadystate(order=1)")
        limit = V.check_time_limit(opts["max_time"])
        tol = V.check_real("tol", opts["tol"])
        p = self.params
        N = self.N
        eq = _Order1(p)
        scale = p.rate_scale
        start = time.perf_counter()
        Rmin = float(np.min(eq.R))
        if Rmin <= 0:
            raise ValueError("the order-1 steady state needs f_aa + W_a > 0 for every dipole")
        s_triv = (eq.W - eq.Gam) / eq.R
        # linear stability of the trivial (unsynchronised) state m = 0
        A = np.diag(-(1j * p.detunings + 0.5 * eq.R)) + 0.5 * s_triv[:, None] * eq.Kc
        growth = float(np.max(_rightmost(A, 1).real))
        stats = {"unknowns": eq.n, "growth_trivial": growth}
        if growth < 0:
            stats.update(time=time.perf_counter() - start, residual=0.0, synchronized=False,
                         t_relax=0.0)
            return PairState(1, s_triv.copy(), sm=np.zeros(N, complex), stats=stats)
        t_relax = opts["t_relax"]
        t_relax = 200.0 / Rmin if t_relax is None else V.check_real("t_relax", t_relax)
        if initial is None:
            seed = V.check_real("seed", opts["seed"])
            amp = min(abs(seed), 0.25 * float(np.min(np.sqrt(np.clip(1 - s_triv ** 2, 0, None)))))
            state = PairState(1, s_triv.copy(), sm=np.full(N, amp, complex))
        else:
            init = self._initial(initial)
            state = init if isinstance(init, PairState) else PairState(
                1, init["sz"], sm=np.zeros(N, complex) if init["sm"] is None else init["sm"])
            if state.order != 1:
                raise ValueError("order-1 steady state needs an order-1 initial state")
        jac_dense = N <= 1500

        def F(x):
            mm = x[:N] + 1j * x[N:2 * N]
            dm, ds = eq.derivs(mm, x[2 * N:3 * N])
            dm = dm + 1j * x[3 * N] * mm
            return np.concatenate([dm.real, dm.imag, ds, [np.sum(mm.imag)]])

        def J(x):
            mm = x[:N] + 1j * x[N:2 * N]
            ss, w = x[2 * N:3 * N], x[3 * N]
            Km = eq.matvec(mm)
            Am = (0.5 * ss[:, None] * eq.Kc).astype(complex)
            Am[np.diag_indices(N)] += -(1j * p.detunings + 0.5 * eq.R) + 1j * w
            B = np.conj(mm)[:, None] * eq.Kc
            out = np.zeros((3 * N + 1, 3 * N + 1))
            out[:N, :N], out[:N, N:2 * N] = Am.real, -Am.imag
            out[N:2 * N, :N], out[N:2 * N, N:2 * N] = Am.imag, Am.real
            idx = np.arange(N)
            out[idx, 2 * N + idx] = 0.5 * Km.real
            out[N + idx, 2 * N + idx] = 0.5 * Km.imag
            out[:N, 3 * N] = -mm.imag
            out[N:2 * N, 3 * N] = mm.real
            out[2 * N:3 * N, :N] = -2 * B.real
            out[2 * N + idx, idx] += -2 * Km.real
            out[2 * N:3 * N, N:2 * N] = 2 * B.imag
            out[2 * N + idx, N + idx] += -2 * Km.imag
            out[2 * N + idx, 2 * N + idx] = -eq.R
            out[3 * N, N:2 * N] = 1.0
            return out

        t_done, chunk, last = 0.0, 20.0 / Rmin, None
        while True:
            elapsed = time.perf_counter() - start
            if limit is not None and elapsed > limit:
                raise RuntimeError(
                    f"PairCumulants.steadystate (order 1, N = {N}) exceeded max_time = "
                    f"{limit:.3g} s after relaxing to t = {t_done:.3g}; last Newton residual "
                    f"{last}")
            dt = min(chunk, t_relax - t_done)
            if dt > 0:
                tl = np.linspace(0.0, dt, 41)
                ev = self.evolve(tl, state, {"rtol": opts["rtol"], "atol": opts["atol"],
                                             "method": opts["method"], "states": False,
                                             "max_time": None if limit is None else
                                             max(limit - elapsed, 1e-3)})
                t_done += dt
                state = PairState(1, ev.s[-1].copy(), sm=ev.sm[-1].copy())
                Zs = ev.sm[-5:].mean(axis=1)
                dphi = np.angle(Zs[1:] * np.conj(Zs[:-1]))
                omega0 = -float(np.mean(dphi)) / (tl[1] - tl[0])
            else:
                omega0 = 0.0
            m = state.sm
            Zc = m.mean()
            if abs(Zc) > 1e-6:
                m = m * np.exp(-1j * np.angle(Zc))
                x0 = np.concatenate([m.real, m.imag, state.s, [omega0]])
                if jac_dense:
                    x = _newton_dense(F, J, x0, tol * scale)
                else:
                    x = root(F, x0, method="krylov", options={"fatol": tol * scale}).x
                res = float(np.max(np.abs(F(x)))) / scale
                near = np.max(np.abs(x[:3 * N] - x0[:3 * N])) < 1e-2
                Znew = abs(np.mean(x[:N] + 1j * x[N:2 * N]))
                ok = np.isfinite(res) and res < max(tol, 1e-9) and Znew > 1e-8 and near
                stable = None
                if ok and N <= 500:
                    # linear stability in the rotating frame (one zero mode: the phase)
                    lam = _rightmost(J(x)[:3 * N, :3 * N], 3)
                    lam = np.delete(lam, np.argmin(np.abs(lam)))
                    stable = float(np.max(lam.real)) < 1e-8 * scale
                    ok = stable
                last = (f"{res:.3g} (a root {'near' if near else 'far from'} the relaxed "
                        f"state, {'unstable' if stable is False else 'stability unchecked'}"
                        ")" if not ok and res < max(tol, 1e-9) else f"{res:.3g}")
                if ok:
                    stats.update(time=time.perf_counter() - start, residual=res,
                                 synchronized=True, t_relax=t_done, stable=stable)
                    return PairState(1, x[2 * N:3 * N].copy(), sm=x[:N] + 1j * x[N:2 * N],
                                     frequency=float(x[3 * N]), stats=stats)
            if t_done >= t_relax:
                raise V.ConvergenceError(
                    f"PairCumulants.steadystate (order 1, N = {N}) found no rotating steady "
                    f"state: last Newton residual {last} after relaxing to t = {t_done:.3g} "
                    f"({time.perf_counter() - start:.3g} s; order parameter {abs(Zc):.3g}, "
                    f"trivial-state growth rate {growth:.3g}); the dipoles may drift (partial "
                    "synchronisation) — use evolve(), or raise t_relax")
            chunk *= 2

    # -- two-time correlations ----------------------------------------------------------
    def regression_matrix(self, state):
        """The QRT matrix ``M = diag(iδ − R/2) + ½ diag(s) K`` (``K = f − ig``, zero diagonal)."""
        p = self.params
        K = p.f - 1j * p.g
        np.fill_diagonal(K, 0.0)
        R = p.decay + p.pumping
        M = 0.5 * np.asarray(state.s)[:, None] * K
        M[np.diag_indices(self.N)] = 1j * p.detunings - 0.5 * R
        return M

    @limited_blas
    def regression(self, state=None, options=None):
        """Quantum regression of ``G_jb(τ) = ⟨σ⁺_j(τ)σ⁻_b(0)⟩`` from an order-2 steady state.

        Parameters
        ----------
        state : PairState, optional
            Order-2 steady state (default: :meth:`steadystate`).
        options : dict, optional
            ``method``: "auto" (eigen-decomposition unless its eigenvector matrix has
            a condition number above ``cond_limit``, 1e8, then ``expm_multiply``),
            "eig" or "expm".

        Returns
        -------
        PairRegression
        """
        opts = V.check_options(options, _QRT_DEFAULTS, "PairCumulants.regression")
        if self.order != 2:
            raise ValueError("two-time correlations need order=2 (the phase-invariant "
                             "cumulants; at order 1 the correlations factorise)")
        if state is None:
            state = self.steadystate()
        if not isinstance(state, PairState) or state.order != 2 or state.N != self.N:
            raise ValueError("state must be an order-2 PairState of this model")
        G0 = np.array(state.C, dtype=complex)
        G0[np.diag_indices(self.N)] = 0.5 * (1 + state.s)
        return PairRegression(self.regression_matrix(state), G0, opts["method"],
                              opts["cond_limit"])

    def correlation(self, taulist, pairs, state=None, options=None):
        """``Z_ab(τ) = ⟨(σ⁺_a + σ⁺_b)(τ)(σ⁻_a + σ⁻_b)(0)⟩`` in the steady state.

        Parameters
        ----------
        taulist : array_like
            Delays ``τ >= 0``.
        pairs : sequence of (a, b)
        state, options
            As for :meth:`regression`.

        Returns
        -------
        ndarray, complex, shape (len(pairs), len(taulist))
        """
        return self.regression(state, options).Z(taulist, pairs)

    def entrainment(self, a, others, taulist, state=None, options=None):
        """Relative precession frequency ``ν_ab`` and decay ``γ_ab`` of pairs ``(a, b)``.

        Fits ``Z_ab(τ)`` to ``A e^{iΩτ} cos(ν τ) e^{−γτ}`` (:func:`fit_damped_cosine`;
        the seed's Fig. 4b parametrisation ``A cos(ντ)e^{−γτ}`` after removing the
        pair's mean rotation ``Ω``).

        Parameters
        ----------
        a : int
            The reference (central) dipole.
        others : sequence of int
            The dipoles ``b``.
        taulist : array_like
            Uniform grid of delays from 0 on which the fit is made.
        state, options
            As for :meth:`regression`.

        Returns
        -------
        Entrainment
        """
        reg = self.regression(state, options)
        others = np.atleast_1d(np.asarray(others, dtype=int))
        pairs = [(int(a), int(b)) for b in others]
        Z = reg.Z(taulist, pairs)
        tau = np.asarray(taulist, float)
        fits = [fit_damped_cosine(tau, z) for z in Z]
        return Entrainment(int(a), others, np.array([x["nu"] for x in fits]),
                           np.array([x["gamma"] for x in fits]),
                           np.array([x["amplitude"] for x in fits]),
                           np.array([x["omega"] for x in fits]),
                           np.array([x["residual"] for x in fits]), Z)


@dataclass
class Entrainment:
    """Fits of ``Z_ab(τ)`` for pairs ``(a, b)``.

    Attributes
    ----------
    a : int
    b : ndarray of int
    nu, gamma, amplitude, omega : ndarray
        ``Z_ab(τ) ≈ amplitude · e^{i omega τ} cos(nu τ) e^{−gamma τ}``; ``nu ≥ 0``.
    residual : ndarray
        Relative RMS misfit ``‖Z − fit‖ / ‖Z‖`` (large: several modes of different
        weight; the fit is then an effective description on the chosen τ window).
    Z : ndarray, shape (len(b), len(tau))
    """
    a: int
    b: np.ndarray
    nu: np.ndarray
    gamma: np.ndarray
    amplitude: np.ndarray
    omega: np.ndarray
    residual: np.ndarray
    Z: np.ndarray


class PairRegression:
    """``G(τ) = expm(Mτ) G(0)``, diagonalised once (see :meth:`PairCumulants.regression`).

    Attributes
    ----------
    M : ndarray (N, N)
        Regression matrix.
    G0 : ndarray (N, N)
        ``⟨σ⁺_j σ⁻_b⟩`` (diagonal ``(1 + s_b)/2``).
    eigenvalues : ndarray or None
        Modes ``λ_k`` (``None`` with the ``expm`` method).
    method : str
        "eig" or "expm".
    """

    def __init__(self, M, G0, method="auto", cond_limit=1e8):
        self.M = M
        self.G0 = G0
        self.eigenvalues = None
        if method not in ("auto", "eig", "expm"):
            raise ValueError(f"method must be 'auto', 'eig' or 'expm', got {method!r}")
        if method in ("auto", "eig"):
            lam, Vr = np.linalg.eig(M)
            cond = np.linalg.cond(Vr)
            if method == "eig" or cond < cond_limit:
                self.eigenvalues, self._V = lam, Vr
                self._W = np.linalg.solve(Vr, G0)
                self.condition = cond
                method = "eig"
            else:
                method = "expm"
        self.method = method

    def _columns(self, tau, cols):
        """``G[:, cols](τ)`` for every τ: shape (nt, N, len(cols))."""
        tau = _check_tau(tau)
        if self.method == "eig":
            E = np.exp(np.outer(tau, self.eigenvalues))        # (nt, N)
            return np.einsum("ik,tk,kc->tic", self._V, E, self._W[:, cols])
        out = np.empty((tau.size, self.M.shape[0], len(cols)), complex)
        B = self.G0[:, cols]
        for k, t in enumerate(tau):
            out[k] = expm_multiply(self.M * t, B) if t > 0 else B
        return out

    def G(self, taulist, a, b):
        """``⟨σ⁺_a(τ) σ⁻_b(0)⟩`` on ``taulist``."""
        return self._columns(taulist, [b])[:, a, 0]

    def Z(self, taulist, pairs):
        """``Z_ab(τ)`` for each pair: shape (len(pairs), len(taulist))."""
        pairs = [tuple(int(x) for x in pr) for pr in pairs]
        N = self.M.shape[0]
        for a, b in pairs:
            if not (0 <= a < N and 0 <= b < N) or a == b:
                raise ValueError(f"pair {(a, b)}: need two different dipoles in 0 … {N - 1} "
                                 "(use G(tau, a, a) for one dipole)")
        tau = _check_tau(taulist)
        if self.method == "eig":
            E = np.exp(np.outer(tau, self.eigenvalues))
            out = [E @ ((self._V[a] + self._V[b]) * (self._W[:, a] + self._W[:, b]))
                   for a, b in pairs]
            return np.array(out)
        out = []
        for a, b in pairs:
            G = self._columns(tau, [a, b])
            out.append(G[:, [a, b], :].sum(axis=(1, 2)))
        return np.array(out)


def _check_tau(tau):
    tau = np.asarray(tau, dtype=float)
    if tau.ndim != 1 or np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise ValueError("taulist must be a 1-D array of finite delays >= 0")
    return tau


# ----------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------
def fit_damped_cosine(tau, z):
    """Fit ``z(τ) ≈ A e^{iΩτ} cos(ντ) e^{−γτ}`` (real ``A``, ``Ω``, ``ν ≥ 0``, ``γ``).

    The seed's ``Z_ab(τ) = A cos(ν_ab τ) e^{−γτ}`` (Fig. 4b), generalised by the
    common rotation ``e^{iΩτ}`` of the pair (its mean precession frequency in the
    frame of the master equation); for real data ``Ω`` comes out 0.

    Method: ``Ω`` from the phase increments of ``z²`` (insensitive to the sign
    changes of the cosine), then least squares on the complex residual
    (:func:`scipy.optimize.least_squares`) from several starting ``ν`` (0 and the
    strongest peaks of the demodulated, de-damped signal), best fit kept.

    When ``z`` is a sum of several damped modes ``Σ c_k e^{λ_k τ}`` (the usual case:
    ``Z_ab`` has ``N`` modes), the result is the single damped cosine closest in
    least squares on the given ``τ`` grid: two dominant modes at frequencies
    ``ω₁, ω₂`` with similar weights and decay give ``ν = |ω₁ − ω₂|/2`` (a beat),
    ``Ω = (ω₁ + ω₂)/2``; one dominant mode (entrained dipoles) gives ``ν ≈ 0``;
    modes with very different decay rates make ``γ`` depend on the window.  The
    relative misfit is returned as ``residual`` so such cases can be flagged.

    Parameters
    ----------
    tau : array_like
        Uniform grid of delays (at least 8 points).
    z : array_like, complex
        Samples ``z(τ)``.

    Returns
    -------
    dict
        ``amplitude`` (signed), ``omega``, ``nu``, ``gamma``, ``residual`` (relative RMS misfit).
    """
    from scipy.optimize import least_squares
    tau = np.asarray(tau, float)
    z = np.asarray(z, complex)
    if tau.ndim != 1 or tau.size < 8 or z.shape != tau.shape:
        raise ValueError("tau and z must be 1-D of the same length (>= 8 points)")
    if not (np.all(np.isfinite(tau)) and np.all(np.isfinite(z))):
        raise ValueError("tau and z must be finite")
    dt = np.diff(tau)
    if np.any(dt <= 0) or np.ptp(dt) > 1e-6 * dt.mean():
        raise ValueError("tau must be a uniform increasing grid")
    dt = float(dt.mean())
    norm = float(np.linalg.norm(z))
    if norm == 0:
        return {"amplitude": 0.0, "omega": 0.0, "nu": 0.0, "gamma": 0.0, "residual": 0.0}
    t = tau - tau[0]
    z2 = z ** 2
    omega0 = float(np.angle(np.sum(z2[1:] * np.conj(z2[:-1])))) / (2 * dt)
    y = (z * np.exp(-1j * omega0 * t)).real
    amp = np.abs(z)
    # rough decay from the envelope (log-linear fit of |z| where it is not tiny)
    good = amp > 1e-3 * amp.max()
    gamma0 = 0.0
    if good.sum() > 3:
        gamma0 = max(-np.polyfit(t[good], np.log(amp[good]), 1)[0], 0.0)
    spec = np.abs(np.fft.rfft(y * np.exp(gamma0 * np.minimum(t, 3 / max(gamma0, 1e-300)))
                              * np.hanning(t.size)))
    freqs = 2 * np.pi * np.fft.rfftfreq(t.size, dt)
    peaks = np.argsort(spec)[::-1][:3]
    starts = {0.0} | {float(freqs[k]) for k in peaks}
    A0 = float(y[0]) if y[0] != 0 else float(amp[0])

    def resid(x):
        A, om, nu, gm = x
        r = z - A * np.exp(1j * om * t) * np.cos(nu * t) * np.exp(-gm * t)
        return np.concatenate([r.real, r.imag]) / norm

    best = None
    for nu0 in sorted(starts):
        x0 = [A0, omega0, nu0, gamma0]
        try:
            sol = least_squares(resid, x0, bounds=([-np.inf, -np.inf, 0, -np.inf], np.inf),
                                xtol=1e-14, ftol=1e-14, gtol=1e-14, max_nfev=2000)
        except ValueError:
            continue
        if best is None or sol.cost < best.cost:
            best = sol
    A, om, nu, gm = best.x
    return {"amplitude": float(A), "omega": float(om), "nu": float(abs(nu)),
            "gamma": float(gm), "residual": float(np.sqrt(2 * best.cost))}
