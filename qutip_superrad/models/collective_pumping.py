"""Collectively pumped superradiance (seed 003): model, closed forms, scans, metrology.

Master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ  (+ optional local terms, see below)

``J⁻ = Σ_n |g_n⟩⟨e_n|``, ``J⁺ = (J⁻)†``, ``J_z = (J_ee − J_gg)/2``.  The
dynamics conserve ``j``; from the ground state they live on the ``N + 1`` Dicke
states ``|N/2, m⟩`` and are solved exactly there by
:mod:`qutip_superrad.exact.manifold` (sector-resolved, real tridiagonal
spectra, O(N) per eigenvalue).

QuTiP conventions: ``basis(2, 0)`` is the *excited* state of one atom and
``sigmam()`` lowers it; the ``(N+1)``-dimensional Qobj returned here use the
ordering of :func:`qutip.jmat` (index 0 is ``m = +N/2``, all atoms excited).

Contents
--------
* :class:`CollectivePumping` — the model: steady state, relaxation rate (exact
  or cumulant, eq. E5), sector spectra, time evolution with ``w(t)``,
  hysteresis under scanned pumping, Fisher information, sensitivity.
* Closed forms of the thermal steady state ``ρ ∝ e^{−βJ_z}``, ``β = −ln(w/γ)``
  (eqs. 3–4, D2, D5): :func:`thermal_jz`, :func:`thermal_jz_variance`.
* Scans: :func:`hysteresis_loop`, :func:`hysteresis_widths`,
  :func:`fit_power_law`, :func:`adiabatic_boundaries` (Figs 3, 4; eq. 8).
* Metrology: :func:`scan_sensitivity` (eq. 9).
* Appendix B: :func:`three_level_pumping`, the 3-level model of eq. (2) solved
  exactly on the symmetric subspace, for comparison with the
  effective rate ``w = γ_r (Ω/δ)²``.
"""
from dataclasses import dataclass, field

import numpy as np
import scipy.special
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from .._validate import (check_count, check_grid, check_options, check_rate, check_real,
                         check_array, check_int)
from .._progress import progress
from ..exact import manifold as _mf

__all__ = [
    "CollectivePumping", "PumpingSteadyState", "PumpingEvolution", "HysteresisLoop",
    "ThreeLevelSteadyState", "thermal_jz", "thermal_jz_variance", "thermal_beta",
    "cumulant_relaxation_rate", "hysteresis_loop", "hysteresis_widths", "fit_power_law",
    "adiabatic_boundaries", "scan_sensitivity", "three_level_pumping", "linear_scan",
]


# ----------------------------------------------------------------------------
# closed forms (seed eqs. 3, 4, D2–D5)
# ----------------------------------------------------------------------------

# coth x − 1/x = Σ_{n≥1} 2^{2n} B_{2n} x^{2n−1} / (2n)!
_NSER = 12
_B2N = scipy.special.bernoulli(2 * _NSER)[2::2]
_GCOEF = np.array([2.0 ** (2 * n) * _B2N[n - 1] / scipy.special.factorial(2 * n)
                   for n in range(1, _NSER + 1)])


def _g(x):
    """``coth x − 1/x`` without cancellation (odd, smooth, ``g(0) = 0``)."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    xs = x[small]
    out[small] = sum(c * xs ** (2 * n + 1) for n, c in enumerate(_GCOEF))
    xl = x[~small]
    out[~small] = 1.0 / np.tanh(xl) - 1.0 / xl
    return out


def _gprime(x):
    """``d/dx (coth x − 1/x) = 1/x² − 1/sinh² x`` without cancellation or overflow."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    xs = x[small]
    out[small] = sum((2 * n + 1) * c * xs ** (2 * n) for n, c in enumerate(_GCOEF))
    xl = np.abs(x[~small])
    e = np.exp(-2 * xl)
    out[~small] = 1.0 / xl ** 2 - 4 * e / (1 - e) ** 2
    return out


def thermal_beta(gamma, w):
    """Effective inverse temperature ``β = −ln(w/γ)`` of the steady state (eq. 3)."""
    gamma = check_rate("gamma", gamma)
    w = check_rate("pump (w)", w)
    if gamma == 0 or w == 0:
        raise ValueError("beta = -ln(w/gamma) needs gamma > 0 and w > 0")
    return -np.log(w / gamma)


def thermal_jz(N, beta):
    """Closed form ``⟨J_z⟩ = −∂_β ln Z(β)``, ``Z = sinh((N+1)β/2)/sinh(β/2)``.

    ``⟨J_z⟩ = ½ coth(β/2) − ((N+1)/2) coth((N+1)β/2)``, evaluated as
    ``½ g(β/2) − ((N+1)/2) g((N+1)β/2)`` with ``g(x) = coth x − 1/x`` so that
    there is no cancellation near the transition ``β = 0`` (``w = γ``).

    Parameters
    ----------
    N : int
        Number of atoms.
    beta : float or array_like
        ``β = −ln(w/γ)``; ``±inf`` give ``∓N/2``.
    """
    N = check_count("N", N)
    beta = np.asarray(beta, dtype=float)
    fin = np.isfinite(beta)
    out = np.where(beta > 0, -N / 2, N / 2).astype(float)
    b = beta[fin]
    out[fin] = 0.5 * _g(b / 2) - 0.5 * (N + 1) * _g((N + 1) * b / 2)
    return out if out.ndim else float(out)


def thermal_jz_variance(N, beta):
    """Closed form ``Var[J_z] = ∂²_β ln Z(β) = −∂_β⟨J_z⟩`` (eq. D3).

    ``Var = ((N+1)²/4) g'((N+1)β/2) − ¼ g'(β/2)``; at ``β = 0`` it is
    ``N(N+2)/12`` (the seed's eq. D5 quotes the large-N value ``N²/12``).
    """
    N = check_count("N", N)
    beta = np.asarray(beta, dtype=float)
    fin = np.isfinite(beta)
    out = np.zeros(beta.shape)
    b = beta[fin]
    out[fin] = 0.25 * (N + 1) ** 2 * _gprime((N + 1) * b / 2) - 0.25 * _gprime(b / 2)
    return out if out.ndim else float(out)


def cumulant_relaxation_rate(N, gamma, w, form="E5"):
    """Second-order cumulant estimate of the relaxation rate ``λ(w)``.

    Parameters
    ----------
    form : {"E5", "eq7"}
        ``"E5"``: ``λ = w + γ + 2(w − γ)⟨J_z⟩(w)`` with the exact thermal
        ``⟨J_z⟩`` (seed eq. E5).  ``"eq7"``: the large-N form
        ``λ = N(w − γ)/tanh(N(w/γ − 1)/2)`` (seed eq. 7; equals E5 with the
        large-N ``⟨J_z⟩`` of eq. 4 minus the subleading ``w − γ``).
        Both give ``2γ`` at ``w = γ``.
    """
    N = check_count("N", N)
    gamma = check_rate("gamma", gamma)
    if gamma == 0:
        raise ValueError("gamma must be > 0 for the cumulant relaxation rate")
    warr = np.asarray(w, dtype=float)
    if np.any(~np.isfinite(warr)) or np.any(warr < 0):
        raise ValueError("pump (w) must be finite and >= 0")
    if form == "E5":
        with np.errstate(divide="ignore"):
            beta = -np.log(warr / gamma)
        out = warr + gamma + 2 * (warr - gamma) * np.asarray(thermal_jz(N, beta))
    elif form == "eq7":
        u = N * (warr / gamma - 1) / 2
        out = 2 * gamma * (1 + u * _g(np.atleast_1d(u)).reshape(np.shape(u)))
    else:
        raise ValueError(f"form must be 'E5' or 'eq7', got {form!r}")
    return out if np.ndim(out) else float(out)


# ----------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------

@dataclass
class PumpingSteadyState:
    """Steady state of :class:`CollectivePumping`.

    Attributes
    ----------
    jz : float
        ``⟨J_z⟩``.
    jz_variance : float
        ``Var[J_z]``.
    jplus_jminus : float
        ``⟨J⁺J⁻⟩`` (collective emission intensity per unit ``γ``).
    populations : ndarray, shape (N+1,)
        ``P(m)`` on *ascending* ``m = −N/2 … N/2`` (``None`` for ``"piqs"``
        with local terms, where ``j`` is not conserved).
    beta : float
        ``−ln(w/γ)`` (``±inf`` if ``w`` or ``γ`` vanishes; ``nan`` with local terms).
    pump : float
        Pump rate ``w`` used.
    method : str
    checks : dict
        ``residual`` (``‖L p‖₁`` of the population sector), ``trace`` …
    state : qutip.Qobj or None
        Density matrix (QuTiP ordering, descending ``m``; Dicke basis of
        :mod:`qutip.piqs` for ``method="piqs"``).
    """

    jz: float
    jz_variance: float
    jplus_jminus: float
    populations: np.ndarray
    beta: float
    pump: float
    method: str
    checks: dict = field(default_factory=dict)
    state: object = None

    @property
    def m(self):
        """Values of ``m`` matching :attr:`populations` (ascending)."""
        if self.populations is None:
            return None
        N = self.populations.size - 1
        return np.arange(N + 1) - N / 2


@dataclass
class PumpingEvolution:
    """Time evolution of :class:`CollectivePumping`.

    Attributes
    ----------
    times, pump : ndarray, shape (T,)
        Output times and the pump ``w(t)`` there.
    jz, jz_variance, jplus_jminus : ndarray, shape (T,)
        ``⟨J_z⟩``, ``Var[J_z]``, ``⟨J⁺J⁻⟩``.
    populations : ndarray, shape (T, N+1) or None
        ``P(m)`` on ascending ``m`` (``"manifold"`` only).
    method : str
    states : list of qutip.Qobj or None
        ``ρ(t)`` (QuTiP ordering) with ``options={"store_states": True}``
        (``"manifold"`` only; every sector present in the initial state is
        evolved, so coherences are kept).
    """

    times: np.ndarray
    pump: np.ndarray
    jz: np.ndarray
    jz_variance: np.ndarray
    jplus_jminus: np.ndarray = None
    populations: np.ndarray = None
    method: str = ""
    states: list = None


@dataclass
class HysteresisLoop:
    """Up and down linear scans of the pump through ``w = γ`` (Fig. 3b).

    Attributes
    ----------
    N : int
    r : float
        Scan rate ``r = ẇN/(2γ)`` (units of ``γ``).
    w_up, jz_up : ndarray
        Pump values and ``⟨J_z⟩`` of the increasing scan.
    w_down, jz_down : ndarray
        Same for the decreasing scan (``w_down`` is decreasing).
    var_up, var_down : ndarray
        ``Var[J_z]`` along each scan.
    w_cross_up, w_cross_down : float
        Pump values where ``⟨J_z⟩`` crosses 0 on each branch (linear
        interpolation), ``nan`` if it does not cross inside the window.
    width : float
        Hysteresis width ``Δw_H = w_cross_up − w_cross_down``.
    scaled_width : float
        ``Δw_H · N/(2γ)`` (Fig. 4 axis).
    gamma : float
    """

    N: int
    r: float
    w_up: np.ndarray
    jz_up: np.ndarray
    w_down: np.ndarray
    jz_down: np.ndarray
    w_cross_up: float
    w_cross_down: float
    width: float
    scaled_width: float
    gamma: float
    var_up: np.ndarray = None
    var_down: np.ndarray = None

    def scan_resolution(self, branch="up"):
        """Single-scan error-propagation resolution of the transition point.

        ``min_w √Var[J_z](t) / |d⟨J_z⟩/dw|`` along the chosen branch, the
        finite-scan-rate analogue of eq. (5) (→ ``√12γ/N`` for ``r → 0``).
        It does not include the systematic shift of the crossing point
        (half the hysteresis width), see :func:`scan_sensitivity`.
        """
        if branch == "up":
            w, jz, var = self.w_up, self.jz_up, self.var_up
        elif branch == "down":
            w, jz, var = self.w_down, self.jz_down, self.var_down
        else:
            raise ValueError(f"branch must be 'up' or 'down', got {branch!r}")
        slope = np.gradient(jz, w)
        # only inside the transition (frozen, fully polarised ends have 0/0)
        keep = var > 1e-2 * np.max(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            dw = np.sqrt(var[keep]) / np.abs(slope[keep])
        return float(np.nanmin(dw))

    def plot(self, ax=None, steady=True):
        """Plot the loop (and the steady-state curve eq. 4); returns the axes."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        x_up = (self.w_up / self.gamma - 1) * self.N / 2
        x_dn = (self.w_down / self.gamma - 1) * self.N / 2
        ax.plot(x_up, self.jz_up / (self.N / 2), "C3-", label="scan up")
        ax.plot(x_dn, self.jz_down / (self.N / 2), "C3--", label="scan down")
        if steady:
            w = np.linspace(min(self.w_up.min(), self.w_down.min()),
                            max(self.w_up.max(), self.w_down.max()), 400)
            with np.errstate(divide="ignore"):
                jz = thermal_jz(self.N, -np.log(w / self.gamma))
            ax.plot((w / self.gamma - 1) * self.N / 2, jz / (self.N / 2), "C0:",
                    label="steady state")
        ax.set_xlabel(r"$(w/\gamma-1)N/2$")
        ax.set_ylabel(r"$\langle J_z\rangle/(N/2)$")
        ax.legend(frameon=False)
        return ax


@dataclass
class ThreeLevelSteadyState:
    """Steady state of the 3-level model of seed eq. (2) (Appendix B).

    Attributes
    ----------
    jz : float
        ``⟨(J_ee − J_gg)/2⟩``.
    jz_variance : float
        ``Var[(J_ee − J_gg)/2]``.
    r_population : float
        ``⟨J_rr⟩`` (total population of the auxiliary level ``|r⟩``).
    effective_pump : float
        ``w = γ_r (Ω/δ)²``.
    dimension : int
        Hilbert-space dimension used.
    state : qutip.Qobj
    """

    jz: float
    jz_variance: float
    r_population: float
    effective_pump: float
    dimension: int
    state: object = None


# ----------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------

def _check_pump(pump):
    """Validate a constant or time-dependent pump; return (value_or_None, callable_or_None)."""
    if callable(pump):
        return None, pump
    try:
        return check_rate("pump", pump), None
    except TypeError:
        raise TypeError("pump must be a rate >= 0, a function w(t) or a "
                        f"qutip.Coefficient, got {type(pump).__name__}") from None


class CollectivePumping:
    """Collective decay and collective pumping of ``N`` two-level atoms (seed 003).

    ``dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ + Σ_n (γ_loc D[σ⁻_n] + (γ_φ/4) D[σ^z_n]) ρ``

    Parameters
    ----------
    N : int
        Number of atoms, ``>= 1``.
    gamma : float
        Collective decay rate ``γ >= 0`` (``γ D[J⁻]``).
    pump : float, callable or qutip.Coefficient
        Collective pump rate ``w >= 0`` (``w D[J⁺]``), or a function ``w(t)``
        returning finite rates ``>= 0`` (checked whenever it is evaluated).
    emission : float, optional
        Local decay ``γ_loc`` per atom (``D[σ⁻_n]``), default 0.
    dephasing : float, optional
        Local dephasing ``γ_φ`` with the convention of
        ``qutip.piqs.Dicke(dephasing=γ_φ)``: ``(γ_φ/4) D[σ^z_n] = γ_φ D[σ⁺_nσ⁻_n]``
        per atom (a single-atom coherence decays at ``γ_φ/2``), default 0.

    Notes
    -----
    Without local terms (the seed's model) every solver works on the exact
    ``N + 1``-dimensional manifold ``j = N/2``.  Local terms break ``j``
    conservation; they are then solved in the permutation-invariant Dicke
    basis through :mod:`qutip.piqs` (``method="piqs"``, cost ``O(N³)``
    states, fine to ``N ≈ 40``), the manifold methods raise ``ValueError``.

    Examples
    --------
    >>> from qutip_superrad.models.collective_pumping import CollectivePumping
    >>> model = CollectivePumping(100, gamma=1.0, pump=1.0)
    >>> ss = model.steadystate()
    >>> round(ss.jz_variance, 6)          # N(N+2)/12 at w = γ
    850.0
    >>> round(model.relaxation_rate(), 6)
    2.0
    """

    def __init__(self, N, gamma, pump, *, emission=0.0, dephasing=0.0):
        self.N = check_count("N", N)
        self.gamma = check_rate("gamma", gamma)
        self._w, self._wfun = _check_pump(pump)
        self.pump = pump if self._wfun is not None else self._w
        self.emission = check_rate("emission", emission)
        self.dephasing = check_rate("dephasing", dephasing)

    # -- basic properties ---------------------------------------------------
    @property
    def j(self):
        """Total spin ``N/2`` of the symmetric manifold."""
        return self.N / 2

    @property
    def time_dependent(self):
        """True if the pump is a function of time."""
        return self._wfun is not None

    @property
    def has_local_terms(self):
        """True if local emission or dephasing break the ``j = N/2`` manifold."""
        return self.emission > 0 or self.dephasing > 0

    def __repr__(self):
        w = "w(t)" if self.time_dependent else f"{self._w:g}"
        extra = ""
        if self.has_local_terms:
            extra = f", emission={self.emission:g}, dephasing={self.dephasing:g}"
        return f"CollectivePumping(N={self.N}, gamma={self.gamma:g}, pump={w}{extra})"

    def pump_at(self, t=None):
        """Pump rate ``w`` (at time ``t`` for a time-dependent pump)."""
        if self._wfun is None:
            return self._w
        if t is None:
            raise ValueError("the pump is time dependent: give the time t at which "
                             "to evaluate it (e.g. steadystate(t=0.0))")
        t = check_real("t", t)
        return _mf._checked_pump(self._wfun)(t)

    def _manifold_only(self, what):
        if self.has_local_terms:
            raise ValueError(f"{what}: local emission/dephasing break the j = N/2 manifold; "
                             "use method='dicke' (permutation-invariant Dicke basis, double "
                             "precision), method='piqs' (cross-check) or set emission=dephasing=0")

    def _rate_args(self, w, t):
        if w is None:
            return self.pump_at(t)
        return check_rate("w", w)

    # -- QuTiP objects ------------------------------------------------------
    def spin_operators(self):
        """``(J⁻, J⁺, J_z)`` on the manifold (QuTiP ordering), see :func:`~qutip_superrad.exact.manifold.spin_operators`."""
        return _mf.spin_operators(self.N)

    def c_ops(self, t=None):
        """Collapse operators ``[√γ J⁻, √w J⁺]`` on the manifold (for ``qutip.mesolve``)."""
        self._manifold_only("c_ops")
        jm, jp, _ = self.spin_operators()
        return [np.sqrt(self.gamma) * jm, np.sqrt(self.pump_at(t)) * jp]

    def liouvillian(self, t=None):
        """Full ``(N+1)²``-dimensional Liouvillian superoperator (Qobj) at time ``t``."""
        self._manifold_only("liouvillian")
        return _mf.manifold_liouvillian(self.N, self.gamma, self.pump_at(t))

    # -- steady state --------------------------------------------------------
    def steadystate(self, method="manifold", *, t=None, w=None):
        """Steady state.

        Parameters
        ----------
        method : {"manifold", "closed_form", "dicke", "piqs"}
            ``"manifold"``: exact solution of the population sector
            ``Diag⁽⁰⁾`` (detailed balance of the tridiagonal generator),
            ``O(N)``.  ``"closed_form"``: thermal state ``e^{−βJ_z}/Z`` with
            ``⟨J_z⟩``, ``Var`` from ``Z(β)`` (eqs. 3–4).  ``"dicke"``: the
            permutation-invariant Dicke basis of :mod:`qutip_superrad.exact.dicke`
            in double precision, U(1) sector k = 0 (the exact route with local
            terms; needs them, since without them every ``j`` block is
            conserved).  ``"piqs"``: the Dicke-basis Liouvillian of
            :mod:`qutip.piqs` (single precision; a cross-check).
        t : float, optional
            Time at which a time-dependent pump is evaluated.
        w : float, optional
            Override the pump rate (convenient in scans).

        Returns
        -------
        PumpingSteadyState
        """
        if method not in ("manifold", "closed_form", "dicke", "piqs"):
            raise ValueError(f"method must be 'manifold', 'closed_form', 'dicke' or 'piqs', "
                             f"got {method!r}")
        wv = self._rate_args(w, t)
        if method == "piqs":
            return self._steadystate_piqs(wv)
        if method == "dicke":
            return self._steadystate_dicke(wv)
        self._manifold_only(f"steadystate(method={method!r})")
        with np.errstate(divide="ignore"):
            beta = -np.log(wv / self.gamma) if self.gamma > 0 else -np.inf
        if method == "closed_form":
            if self.gamma == 0 and wv == 0:
                raise ValueError("gamma and pump are both 0: steady state not unique")
            jz = thermal_jz(self.N, beta)
            var = thermal_jz_variance(self.N, beta)
            jpjm = self.j * (self.j + 1) - (var + jz ** 2) + jz
            return PumpingSteadyState(jz, var, jpjm, None, float(beta), wv, "closed_form")
        p = _mf.steady_populations(self.N, self.gamma, wv)
        jz, var, jpjm = _mf.jz_moments(p)
        L0 = _mf.sector_liouvillian(self.N, self.gamma, wv, 0)
        checks = {"residual": float(np.abs(L0 @ p).sum()), "trace": float(p.sum()),
                  "positive": bool(np.all(p >= 0))}
        return PumpingSteadyState(jz, var, float(jpjm), p, float(beta), wv, "manifold",
                                  checks, state=_diag_qobj(p))

    def _steadystate_dicke(self, wv):
        from ..exact import dicke
        from ..exact._common import solve_steady
        if not self.has_local_terms:
            raise ValueError("steadystate(method='dicke') needs local emission or dephasing "
                             "(without them each j block is conserved); use method='manifold'")
        space = dicke.DickeSpace(self.N, 1, 0)
        p = dict(N=self.N, delta=0.0, gamma=self.emission, pump=0.0, nu=self.dephasing, g=0.0,
                 kappa=0.0, xi=0.0, delta_c=0.0, gc=self.gamma, chi=0.0, wc=wv)
        L = dicke.build_liouvillian(space, p)
        swap = space.index(space.jj, space.n2, space.e2, space.n, space.e)
        z = np.zeros(2, np.int64)
        ends = np.array([0, self.N])                       # all ground, all excited (j = N/2)
        x, residual, info = solve_steady(L, space.diagonal.astype(float), swap=swap,
                                         pivots=space.index(z, z, ends, z, ends))
        d = space.diagonal
        pop = x[d].real
        m = space.e[d] - self.N / 2
        jz = float(pop @ m)
        var = float(pop @ m ** 2 - jz ** 2)
        jpjm = float(pop @ space.jpjm(space.e[d], space.jj[d]))
        checks = {"residual": residual, "solver": info, "trace": float(pop.sum()),
                  "positive": bool(np.all(pop >= -1e-12))}
        return PumpingSteadyState(jz, var, jpjm, None, float("nan"), wv, "dicke", checks,
                                  state=dicke.DickeState(space, x))

    def _piqs_liouvillians(self):
        from qutip import piqs
        base = piqs.Dicke(self.N, emission=self.emission, dephasing=self.dephasing,
                          collective_emission=self.gamma).liouvillian()
        per_w = piqs.Dicke(self.N, collective_pumping=1.0).liouvillian()
        return base, per_w

    def _piqs_system(self):
        """Block-diagonal part of the piqs Liouvillian, as sparse matrices.

        piqs density matrices are block diagonal in ``j`` (blocks ``j = N/2,
        N/2−1, …`` of size ``2j+1``, ``m`` descending); the other entries of
        the ``nds²`` superoperator are never populated (zero rows, hence a
        singular Liouvillian for :func:`qutip.steadystate`).  Without local
        terms each block is invariant and only ``j = N/2`` is kept.
        """
        from qutip import piqs
        base, per_w = self._piqs_liouvillians()
        jz_op = piqs.jspin(self.N, "z")
        jp_op = piqs.jspin(self.N, "+")
        nds = jz_op.shape[0]
        sizes = [self.N + 1 - 2 * k for k in range(self.N // 2 + 1)]
        if not self.has_local_terms:
            sizes = sizes[:1]
        idx, start = [], 0
        for size in sizes:
            blk = range(start, start + size)
            idx += [r + c * nds for c in blk for r in blk]
            start += size
        idx = np.array(sorted(idx))
        diagpos = np.nonzero(idx % nds == idx // nds)[0]
        states = idx[diagpos] % nds
        return {
            "idx": idx, "nds": nds, "n": start, "diagpos": diagpos,
            "A": base.data_as("csr_matrix")[idx][:, idx].tocsc(),
            "B": per_w.data_as("csr_matrix")[idx][:, idx].tocsc(),
            "jz": np.real(jz_op.diag())[states],
            "jpjm": np.real((jp_op * jp_op.dag()).diag())[states],
        }

    @staticmethod
    def _piqs_moments(sys_, x):
        d = np.real(np.asarray(x)[..., sys_["diagpos"]])
        jz = d @ sys_["jz"]
        jz2 = d @ sys_["jz"] ** 2
        return jz, jz2 - jz ** 2, d @ sys_["jpjm"]

    def _piqs_matrix(self, sys_, x):
        import qutip
        full = np.zeros(sys_["nds"] ** 2, dtype=complex)
        full[sys_["idx"]] = x
        n, nds = sys_["n"], sys_["nds"]
        mat = full.reshape(nds, nds, order="F")[:n, :n]
        return qutip.Qobj(0.5 * (mat + mat.conj().T))

    def _steadystate_piqs(self, wv):
        import scipy.sparse as sp
        import scipy.sparse.linalg as spla
        sys_ = self._piqs_system()
        # solve L x = 0 with the trace condition replacing the first row
        A = (sys_["A"] + wv * sys_["B"]).tolil()
        A[0, :] = 0
        A[0, sys_["diagpos"]] = 1.0
        rhs = np.zeros(sys_["idx"].size, dtype=complex)
        rhs[0] = 1.0
        x = spla.spsolve(sp.csc_matrix(A), rhs)
        jz, var, jpjm = self._piqs_moments(sys_, x)
        rho = self._piqs_matrix(sys_, x)
        pops = None
        beta = float("nan")
        if not self.has_local_terms:
            pops = np.real(rho.full().diagonal())[::-1].copy()   # -> ascending m
            with np.errstate(divide="ignore"):
                beta = -np.log(wv / self.gamma) if self.gamma > 0 else -np.inf
        return PumpingSteadyState(float(jz), float(var), float(jpjm), pops, float(beta), wv,
                                  "piqs", {}, rho)

    # -- spectra -------------------------------------------------------------
    def relaxation_rate(self, method="exact", *, t=None, w=None):
        """Relaxation rate ``λ(w)``.

        Parameters
        ----------
        method : {"exact", "cumulant", "cumulant_large_n"}
            ``"exact"``: smallest non-zero ``|μ|`` of the population sector
            ``Diag⁽⁰⁾`` (App. C, E).  ``"cumulant"``: eq. E5,
            ``w + γ + 2(w − γ)⟨J_z⟩``.  ``"cumulant_large_n"``: eq. 7.
        t, w : float, optional
            Time of a time-dependent pump / explicit pump value.
        """
        self._manifold_only("relaxation_rate")
        wv = self._rate_args(w, t)
        if method == "exact":
            return _mf.relaxation_rate(self.N, self.gamma, wv)
        if method == "cumulant":
            return cumulant_relaxation_rate(self.N, self.gamma, wv, "E5")
        if method == "cumulant_large_n":
            return cumulant_relaxation_rate(self.N, self.gamma, wv, "eq7")
        raise ValueError("method must be 'exact', 'cumulant' or 'cumulant_large_n', "
                         f"got {method!r}")

    def sector_spectrum(self, k=0, *, t=None, w=None):
        """Eigenvalues of the sector ``Diag⁽ᵏ⁾`` (real, descending), see :func:`~qutip_superrad.exact.manifold.sector_spectrum`."""
        self._manifold_only("sector_spectrum")
        return _mf.sector_spectrum(self.N, self.gamma, self._rate_args(w, t), k)

    def sector_gap(self, k=0, *, t=None, w=None):
        """Smallest decay rate of sector ``k`` (``k = 0``: excluding the steady state)."""
        self._manifold_only("sector_gap")
        return _mf.sector_gap(self.N, self.gamma, self._rate_args(w, t), k)

    def spectrum(self, sectors=None, *, t=None, w=None):
        """``{k: eigenvalues}`` for the sectors ``k`` (default all ``0 … N``)."""
        self._manifold_only("spectrum")
        return _mf.liouvillian_spectrum(self.N, self.gamma, self._rate_args(w, t), sectors)

    # -- dynamics ------------------------------------------------------------
    def _initial_populations(self, initial, t0):
        N = self.N
        if initial is None or (isinstance(initial, str) and initial == "ground"):
            p0 = np.zeros(N + 1)
            p0[0] = 1.0
            return p0
        if isinstance(initial, str):
            if initial == "excited":
                p0 = np.zeros(N + 1)
                p0[-1] = 1.0
                return p0
            if initial == "steady":
                return _mf.steady_populations(N, self.gamma, self.pump_at(t0))
            raise ValueError("initial must be None, 'ground', 'excited', 'steady' or a "
                             f"Qobj of dimension {N + 1}, got {initial!r}")
        import qutip
        if isinstance(initial, qutip.Qobj):
            if initial.shape[0] != N + 1:
                raise ValueError(f"initial state must have dimension N+1 = {N + 1}, "
                                 f"got {initial.shape}")
            rho = initial.proj() if initial.isket else initial
            p = np.real(rho.full().diagonal())[::-1].copy()   # QuTiP order -> ascending m
        else:
            p = check_array("initial populations", initial, size=N + 1, nonnegative=True)
        if abs(p.sum() - 1) > 1e-8:
            raise ValueError(f"initial state must have unit trace, got {p.sum()}")
        return p

    def evolve(self, tlist, method="manifold", *, initial=None, options=None):
        """Time evolution of ``⟨J_z⟩``, ``Var[J_z]`` and ``⟨J⁺J⁻⟩``.

        Parameters
        ----------
        tlist : array_like
            Strictly increasing times; evolution starts at ``tlist[0]``.
        method : {"manifold", "cumulant", "piqs"}
            ``"manifold"``: exact, population sector only (every function of
            ``J_z`` depends on nothing else; coherences of the initial state
            live in other sectors and are dropped).  ``"cumulant"``: the
            closed equations for ``⟨J_z⟩``, ``⟨J_z²⟩`` with vanishing third
            cumulant (see :meth:`cumulant_rhs`).  ``"piqs"``:
            :func:`qutip.mesolve` with the Dicke-basis Liouvillian of
            :mod:`qutip.piqs` (needed with local terms; starts from the
            ground state).  ``"manifold"`` with ``options={"store_states":
            True}`` also returns ``ρ(t)``, evolving every coherence sector
            present in ``initial``.
        initial : None, "ground", "excited", "steady", Qobj or array
            Initial state: ground (default, all atoms in ``|g⟩``), all
            excited, the steady state at ``w(tlist[0])``, a Qobj of dimension
            ``N + 1`` (QuTiP ordering) or populations on ascending ``m``.
        options : dict, optional
            ``rtol``, ``atol``, ``max_step``, ``method`` of the ODE solver;
            ``store_states`` (``"manifold"`` only).

        Returns
        -------
        PumpingEvolution
        """
        tlist = check_grid("tlist", tlist)
        if method not in ("manifold", "cumulant", "piqs"):
            raise ValueError(f"method must be 'manifold', 'cumulant' or 'piqs', got {method!r}")
        pumpfun = (_mf._checked_pump(self._wfun) if self.time_dependent
                   else (lambda t, w=self._w: w))
        wt = np.array([pumpfun(t) for t in tlist])
        if method == "piqs":
            return self._evolve_piqs(tlist, wt, initial, options)
        self._manifold_only(f"evolve(method={method!r})")
        p0 = self._initial_populations(initial, tlist[0])
        if method == "manifold":
            opts = dict(options) if isinstance(options, dict) else options
            store = bool(opts.pop("store_states", False)) if isinstance(opts, dict) else False
            P = _mf.evolve_populations(self.N, self.gamma, pumpfun, tlist, p0, opts)
            jz, var, jpjm = _mf.jz_moments(P)
            states = None
            if store:
                import qutip
                rho0 = initial if isinstance(initial, qutip.Qobj) else _diag_qobj(p0)
                states = _mf.evolve_density_matrix(self.N, self.gamma, pumpfun, tlist,
                                                   rho0, opts)
            return PumpingEvolution(tlist, wt, jz, var, jpjm, P, "manifold", states)
        opts = check_options(options, {"rtol": 1e-9, "atol": 1e-9, "max_step": np.inf,
                                       "method": "LSODA"}, "evolve(method='cumulant')")
        mz, _, _ = _mf.jz_moments(p0)
        m = np.arange(self.N + 1) - self.j
        y0 = [mz, float(p0 @ m ** 2)]
        sol = solve_ivp(lambda t, y: self.cumulant_rhs(y, pumpfun(t)), (tlist[0], tlist[-1]),
                        y0, t_eval=tlist, rtol=opts["rtol"], atol=opts["atol"],
                        max_step=opts["max_step"], method=opts["method"])
        if not sol.success:
            raise RuntimeError(f"cumulant integration failed: {sol.message}")
        jz, jz2 = sol.y
        C = self.j * (self.j + 1)
        return PumpingEvolution(tlist, wt, jz, jz2 - jz ** 2, C - jz2 + jz, None, "cumulant")

    def cumulant_rhs(self, y, w):
        """Right-hand side of the second-order cumulant equations.

        Derived from the adjoint master equation (``C = j(j+1)``)::

            d⟨J_z⟩/dt  = (w − γ)(C − ⟨J_z²⟩) − (w + γ)⟨J_z⟩
            d⟨J_z²⟩/dt = (w + γ)(C − 3⟨J_z²⟩) + (w − γ)(2C − 1)⟨J_z⟩ − 2(w − γ)⟨J_z³⟩

        both *exact*; the only approximation is the closure
        ``⟨J_z³⟩ ≈ 3⟨J_z²⟩⟨J_z⟩ − 2⟨J_z⟩³`` (vanishing third cumulant).
        Linearising the first equation in ``⟨J_z⟩`` at fixed variance gives
        eq. E5.  At ``w = γ`` the fixed point ``⟨J_z⟩ = 0``,
        ``⟨J_z²⟩ = N(N+2)/12`` is exact.

        Parameters
        ----------
        y : array_like
            ``(⟨J_z⟩, ⟨J_z²⟩)``.
        w : float
            Pump rate.
        """
        mz, mz2 = y
        g = self.gamma
        C = self.j * (self.j + 1)
        mz3 = 3 * mz2 * mz - 2 * mz ** 3
        d1 = (w - g) * (C - mz2) - (w + g) * mz
        d2 = (w + g) * (C - 3 * mz2) + (w - g) * (2 * C - 1) * mz - 2 * (w - g) * mz3
        return np.array([d1, d2])

    def _evolve_piqs(self, tlist, wt, initial, options):
        import qutip
        if initial not in (None, "ground"):
            raise ValueError("method='piqs' starts from the ground state; initial must be None")
        if options:
            raise ValueError("method='piqs' takes no options")
        sys_ = self._piqs_system()
        x0 = np.zeros(sys_["idx"].size, dtype=complex)
        # ground state m = −N/2 is the last state of the j = N/2 block
        x0[np.nonzero(sys_["idx"] == self.N * (sys_["nds"] + 1))[0]] = 1.0
        wfun = _mf._checked_pump(self._wfun) if self.time_dependent else None
        if not self.has_local_terms:
            # the j = N/2 block is a full (N+1)² matrix space: use qutip.mesolve
            n = self.N + 1
            dims = [[[n], [n]], [[n], [n]]]
            A = qutip.Qobj(sys_["A"], dims=dims, superrep="super")
            B = qutip.Qobj(sys_["B"], dims=dims, superrep="super")
            L = qutip.QobjEvo([A, [B, wfun]]) if wfun else A + self._w * B
            rho0 = qutip.Qobj(x0.reshape(n, n, order="F"))
            res = qutip.mesolve(L, rho0, tlist, options={"store_states": True,
                                                          "atol": 1e-10, "rtol": 1e-8})
            X = np.array([r.full().ravel(order="F") for r in res.states])
        else:
            A, B = sys_["A"], sys_["B"]
            w_of = wfun if wfun else (lambda t: self._w)
            sol = solve_ivp(lambda t, y: A @ y + w_of(t) * (B @ y), (tlist[0], tlist[-1]),
                            x0, t_eval=tlist, method="BDF", rtol=1e-8, atol=1e-10,
                            jac=lambda t, y: A + w_of(t) * B)
            if not sol.success:
                raise RuntimeError(f"piqs-basis integration failed: {sol.message}")
            X = sol.y.T
        jz, var, jpjm = self._piqs_moments(sys_, X)
        return PumpingEvolution(tlist, wt, jz, var, jpjm, None, "piqs")

    # -- metrology -----------------------------------------------------------
    def fisher_information(self, parameter="w", kind="classical", *, w=None, t=None,
                           step=1e-2):
        """Fisher information of the steady state about ``w`` or ``β``.

        Computed numerically from the exact steady state by a 5-point central
        finite difference in ``β`` (step ``step/√Var[J_z]``), *not* from the
        closed form, so
        it can be compared with ``Var[J_z]`` (App. D: ``I_β = Var[J_z]``,
        ``I_w = Var[J_z]/w²``).

        Parameters
        ----------
        parameter : {"w", "beta"}
        kind : {"classical", "quantum"}
            ``"classical"``: of the ``J_z`` measurement, ``Σ_m p_m (∂ ln p_m)²``.
            ``"quantum"``: SLD quantum Fisher information
            ``2 Σ_{kl} |⟨k|∂ρ|l⟩|²/(λ_k + λ_l)`` from the full density matrix
            in its eigenbasis (equal to the classical one here because
            ``ρ(w)`` is diagonal in the Dicke basis for every ``w``).
        """
        self._manifold_only("fisher_information")
        if parameter not in ("w", "beta"):
            raise ValueError(f"parameter must be 'w' or 'beta', got {parameter!r}")
        if kind not in ("classical", "quantum"):
            raise ValueError(f"kind must be 'classical' or 'quantum', got {kind!r}")
        wv = self._rate_args(w, t)
        if wv <= 0 or self.gamma <= 0:
            raise ValueError("Fisher information needs gamma > 0 and w > 0")
        step = check_real("step", step)
        if not 0 < step < 0.1:
            raise ValueError(f"step must be in (0, 0.1), got {step}")
        beta = -np.log(wv / self.gamma)
        p = _mf.steady_populations(self.N, self.gamma, wv)
        var = _mf.jz_moments(p)[1]
        # 5-point central stencil in β with a step on the natural scale 1/√Var[J_z]
        hb = step / np.sqrt(max(var, 1.0))
        stencil = ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12))
        dp = sum(c * _mf.steady_populations(self.N, self.gamma,
                                            self.gamma * np.exp(-(beta + s * hb)))
                 for s, c in stencil) / hb
        if parameter == "w":
            dp = dp * (-1.0 / wv)          # dβ/dw = −1/w
        if kind == "classical":
            mask = p > 1e-300
            return float(np.sum(dp[mask] ** 2 / p[mask]))
        rho = np.diag(p)
        drho = np.diag(dp)
        lam, V = np.linalg.eigh(rho)
        D = V.T @ drho @ V
        den = lam[:, None] + lam[None, :]
        mask = den > 1e-300
        return float(2 * np.sum(np.abs(D[mask]) ** 2 / den[mask]))

    def sensitivity(self, *, w=None, t=None, step=1e-2):
        """Error-propagation sensitivity ``δw = √Var[J_z] / |∂_w⟨J_z⟩|`` (eq. 5).

        ``∂_w⟨J_z⟩`` is a 5-point central finite difference of the exact
        steady state (step ``step·w/√Var``).
        At ``w = γ``: ``δw = γ√(12/(N(N+2)))`` → ``√12 γ/N``.
        """
        self._manifold_only("sensitivity")
        wv = self._rate_args(w, t)
        if wv <= 0:
            raise ValueError("sensitivity needs w > 0")
        ss = self.steadystate(w=wv)
        h = step * wv / np.sqrt(max(ss.jz_variance, 1.0))
        jz = lambda x: _mf.jz_moments(_mf.steady_populations(self.N, self.gamma, x))[0]  # noqa
        deriv = (-jz(wv + 2 * h) + 8 * jz(wv + h) - 8 * jz(wv - h) + jz(wv - 2 * h)) / (12 * h)
        return float(np.sqrt(ss.jz_variance) / abs(deriv))

    # -- scans ---------------------------------------------------------------
    def hysteresis(self, r, **kwargs):
        """Hysteresis loop under a linear scan at rate ``r``; see :func:`hysteresis_loop`."""
        self._manifold_only("hysteresis")
        return hysteresis_loop(self.N, r, gamma=self.gamma, **kwargs)

    def adiabatic_boundaries(self, r, rate="cumulant_large_n"):
        """Freezing/thawing points ``w±(r)``; see :func:`adiabatic_boundaries`."""
        return adiabatic_boundaries(self.N, r, gamma=self.gamma, rate=rate)


def _diag_qobj(p):
    import qutip
    import scipy.sparse as sp
    n = p.size
    return qutip.Qobj(sp.diags(p[::-1], 0, format="csr"), dims=[[n], [n]])


# ----------------------------------------------------------------------------
# scanned pumping (Figs 3, 4; eq. 8; App. F)
# ----------------------------------------------------------------------------

def linear_scan(N, r, gamma=1.0, direction=+1, w0=None):
    """Pump ``w(t) = w0 ± (2γr/N) t`` of a linear scan at rate ``r = ẇN/(2γ)``.

    Returns a callable (``w(t)`` clipped at 0 so that it remains a rate).
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    gamma = check_rate("gamma", gamma)
    w0 = gamma if w0 is None else check_rate("w0", w0)
    if direction not in (+1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    wdot = 2 * gamma * r / N * direction
    return lambda t: max(w0 + wdot * t, 0.0)


_HYST_DEFAULTS = {"span": None, "npoints": 801, "rtol": 1e-7, "atol": 1e-10}


def hysteresis_loop(N, r, gamma=1.0, options=None):
    """Scan ``w`` linearly up and down through ``γ`` and record ``⟨J_z⟩`` (Fig. 3b).

    The scan variable is ``x = (w/γ − 1) N/2``; it runs over ``[−X, X]``
    (clipped below at ``w = 0``) in time ``2X/r`` (``ẇ = 2γr/N``).  Each
    scan starts in the exact steady state at its first pump value and is
    integrated exactly on the population sector.

    Parameters
    ----------
    N : int
    r : float
        Scan rate ``r = ẇN/(2γ)`` in units of ``γ``, ``> 0``.
    gamma : float
    options : dict, optional
        ``span`` (``X``; default ``10 + 4√(r/γ)``), ``npoints`` (801 output
        points per scan), ``rtol`` (1e-7), ``atol`` (1e-10).

    Returns
    -------
    HysteresisLoop
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    if r == 0:
        raise ValueError("r must be > 0 (a scan rate)")
    gamma = check_rate("gamma", gamma)
    if gamma == 0:
        raise ValueError("gamma must be > 0")
    opts = check_options(options, _HYST_DEFAULTS, "hysteresis_loop")
    X = 10 + 4 * np.sqrt(r / gamma) if opts["span"] is None else check_rate("span", opts["span"])
    npts = check_int("npoints", opts["npoints"], minimum=11)
    x_lo = max(-X, -N / 2)
    x_hi = X
    wdot = 2 * gamma * r / N
    T = (x_hi - x_lo) * 2 * gamma / N / wdot
    tlist = np.linspace(0, T, npts)
    w_lo = gamma * (1 + 2 * x_lo / N)
    w_hi = gamma * (1 + 2 * x_hi / N)
    ode = {"rtol": opts["rtol"], "atol": opts["atol"]}
    out = {}
    for name, w_start, sgn in (("up", w_lo, +1), ("down", w_hi, -1)):
        wfun = (lambda t, w0=w_start, s=sgn: max(w0 + s * wdot * t, 0.0))
        p0 = _mf.steady_populations(N, gamma, w_start)
        P = _mf.evolve_populations(N, gamma, wfun, tlist, p0, ode)
        jz, var, _ = _mf.jz_moments(P)
        out[name] = (np.array([wfun(t) for t in tlist]), jz, var)
    cu = _zero_crossing(*out["up"][:2], rising=True)
    cd = _zero_crossing(*out["down"][:2], rising=False)
    width = cu - cd
    return HysteresisLoop(N, r, out["up"][0], out["up"][1], out["down"][0], out["down"][1],
                          cu, cd, width, width * N / (2 * gamma), gamma,
                          out["up"][2], out["down"][2])


def _zero_crossing(w, jz, rising):
    s = np.sign(jz)
    idx = np.nonzero((s[:-1] <= 0) & (s[1:] > 0))[0] if rising else \
        np.nonzero((s[:-1] >= 0) & (s[1:] < 0))[0]
    if idx.size == 0:
        return float("nan")
    i = idx[-1]
    return float(w[i] - jz[i] * (w[i + 1] - w[i]) / (jz[i + 1] - jz[i]))


def hysteresis_widths(N, rates, gamma=1.0, options=None, progress_bar=False):
    """Scaled hysteresis widths ``Δw_H N/(2γ)`` for several scan rates (Fig. 4).

    Returns
    -------
    ndarray
        ``Δw_H(r) N/(2γ)`` for each ``r`` in ``rates``.
    """
    rates = check_array("rates", rates, positive=True)
    return np.array([hysteresis_loop(N, r, gamma, options).scaled_width
                     for r in progress(rates, desc=f"hysteresis N={N}", enabled=progress_bar)])


def fit_power_law(x, y):
    """Least-squares fit ``y = A x^η`` in log–log; returns ``(η, A)``."""
    x = check_array("x", x, positive=True)
    y = check_array("y", y, size=x.size, positive=True)
    if x.size < 2:
        raise ValueError("need at least two points for a power-law fit")
    eta, logA = np.polyfit(np.log(x), np.log(y), 1)
    return float(eta), float(np.exp(logA))


def adiabatic_boundaries(N, r, gamma=1.0, rate="cumulant_large_n"):
    """Freezing/thawing boundaries ``w±(r)``: solutions of ``ẇ/|w − γ| = λ(w)`` (Fig. 3a).

    Parameters
    ----------
    N : int
    r : float
        Scan rate ``r = ẇN/(2γ)``, ``> 0``.
    gamma : float
    rate : {"cumulant_large_n", "cumulant", "exact"}
        Which ``λ(w)`` to use: eq. 7 (the seed's choice), eq. E5, or the
        exact Liouvillian gap.

    Returns
    -------
    (w_minus, w_plus) : tuple of float
        ``w_minus < γ < w_plus``; their difference estimates ``Δw_H``
        (eq. 8: ``(2γ/N) r/γ`` for ``r ≪ γ``, ``(2γ/N)√(2r/γ)`` for ``r ≫ γ``).
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    gamma = check_rate("gamma", gamma)
    if r == 0 or gamma == 0:
        raise ValueError("r and gamma must be > 0")
    if rate == "exact":
        lam = lambda w: _mf.relaxation_rate(N, gamma, w)           # noqa: E731
    elif rate == "cumulant":
        lam = lambda w: cumulant_relaxation_rate(N, gamma, w, "E5")  # noqa: E731
    elif rate == "cumulant_large_n":
        lam = lambda w: cumulant_relaxation_rate(N, gamma, w, "eq7")  # noqa: E731
    else:
        raise ValueError(f"rate must be 'exact', 'cumulant' or 'cumulant_large_n', got {rate!r}")
    wdot = 2 * gamma * r / N

    def f(w):
        return lam(w) * abs(w - gamma) - wdot

    out = []
    for sgn in (-1, +1):
        d = gamma / N
        while f(gamma + sgn * d) < 0:
            d *= 2
            if sgn < 0 and d >= gamma:
                d = gamma
                break
        if sgn < 0 and f(gamma - d) < 0:
            out.append(0.0)
            continue
        lo, hi = sorted((gamma + sgn * 1e-15 * gamma, gamma + sgn * d))
        out.append(brentq(f, lo, hi, xtol=1e-14 * gamma, rtol=1e-12))
    return out[0], out[1]


def scan_sensitivity(N, r, T, gamma=1.0, C=4.0, eta=None, width=None):
    """Total sensitivity of repeated scans in a time ``T`` (seed eq. 9).

    One scan covers ``Δw_scan = C δw(r)`` with ``δw(r) = max(√12γ/N, Δw_H(r))``;
    ``N_s = ẇT/(2Δw_scan)`` independent scans fit in ``T`` (``ẇ = 2γr/N``), and
    ``δw_total = δw(r)/√N_s``.

    Parameters
    ----------
    N : int
    r : float
        Scan rate (units of ``γ``).
    T : float
        Total experiment time (e.g. the single-atom emission time).
    gamma, C : float
        ``C > 1``: scan range in units of the single-scan uncertainty.
    eta : float, optional
        If given (with ``width`` None), ``Δw_H = (2γ/N)(r/γ)^η`` for ``r > γ``
        and ``(2γ/N) r/γ`` below (eq. 8 with the fitted exponent).
    width : float, optional
        A measured ``Δw_H(r)`` (e.g. ``hysteresis_loop(N, r).width``).
        If neither ``eta`` nor ``width`` is given, the width is simulated.

    Returns
    -------
    float
        ``δw_total``.
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    T = check_rate("T", T)
    gamma = check_rate("gamma", gamma)
    C = check_real("C", C)
    if r == 0 or T == 0 or gamma == 0 or C <= 1:
        raise ValueError("need r > 0, T > 0, gamma > 0 and C > 1")
    if width is None:
        if eta is None:
            width = hysteresis_loop(N, r, gamma).width
        else:
            eta = check_real("eta", eta)
            rr = r / gamma
            width = 2 * gamma / N * (rr if rr <= 1 else rr ** eta)
    else:
        width = check_rate("width", width)
    dw = max(np.sqrt(12) * gamma / N, width)
    wdot = 2 * gamma * r / N
    Ns = wdot * T / (2 * C * dw)
    return float(dw / np.sqrt(Ns))


# ----------------------------------------------------------------------------
# Appendix B: the 3-level model of eq. (2)
# ----------------------------------------------------------------------------

def _symmetric_three_level(N):
    """Collective operators ``J_{μν} = b_μ† b_ν`` on the symmetric subspace (Schwinger bosons).

    Levels ``μ ∈ (g, e, r) = (0, 1, 2)``; basis states ``(n_g, n_e, n_r)`` with
    ``n_g + n_e + n_r = N``.  Returns ``(J, states)`` with ``J[μ][ν]`` a Qobj.
    """
    import qutip
    import scipy.sparse as sp
    states = [(N - ne - nr, ne, nr) for nr in range(N + 1) for ne in range(N + 1 - nr)]
    index = {s: i for i, s in enumerate(states)}
    D = len(states)
    J = [[None] * 3 for _ in range(3)]
    for mu in range(3):
        for nu in range(3):
            rows, cols, vals = [], [], []
            for i, s in enumerate(states):
                if s[nu] == 0:
                    continue
                if mu == nu:
                    rows.append(i); cols.append(i); vals.append(float(s[mu]))   # noqa: E702
                    continue
                t = list(s)
                t[nu] -= 1
                t[mu] += 1
                rows.append(index[tuple(t)]); cols.append(i)                      # noqa: E702
                vals.append(np.sqrt(s[nu] * (s[mu] + 1)))
            J[mu][nu] = qutip.Qobj(sp.csr_matrix((vals, (rows, cols)), shape=(D, D)),
                                   dims=[[D], [D]])
    return J, states


def _full_three_level(N):
    """``J_{μν} = Σ_n |μ_n⟩⟨ν_n|`` in the full ``3^N`` tensor space (levels g, e, r = 0, 1, 2)."""
    import qutip
    J = [[None] * 3 for _ in range(3)]
    eye = qutip.qeye(3)
    for mu in range(3):
        for nu in range(3):
            op = qutip.basis(3, mu) * qutip.basis(3, nu).dag()
            total = 0
            for n in range(N):
                ops = [eye] * N
                ops[n] = op
                total = total + qutip.tensor(ops)
            J[mu][nu] = total
    return J


def three_level_pumping(N, gamma, gamma_r, omega, delta):
    """Exact steady state of the 3-level model, seed eq. (2) / (B8).

    ``dR/dt = −i[−δ J_rr + Ω(J_rg + J_gr), R] + γ D[J_ge]R + γ_r D[J_er]R``

    with ``J_{μν} = Σ_n |μ_n⟩⟨ν_n|``.  In the limit ``δ ≫ √N Ω, Nγ_r, N²γ``
    the ``{g, e}`` dynamics reduce to ``γD[J⁻] + wD[J⁺]`` with
    ``w = γ_r(Ω/δ)²`` (App. B); compare ``jz`` with
    ``CollectivePumping(N, γ, w).steadystate().jz``.

    The model is solved exactly on the symmetric subspace (Schwinger bosons
    ``J_{μν} = b_μ†b_ν``, dimension ``(N+1)(N+2)/2``): every operator is
    collective and the all-ground state is symmetric, so the dynamics from it
    never leave that subspace.  (The full ``3^N`` space has additional,
    non-symmetric dark steady states; the Schwinger construction is checked
    against explicit tensor products in the tests.)

    Parameters
    ----------
    N : int
        Atoms, ``1 <= N <= 60``.
    gamma, gamma_r : float
        Collective decay rates of ``|e⟩ → |g⟩`` and ``|r⟩ → |e⟩``.
    omega, delta : float
        Rabi frequency and detuning of the ``|g⟩ ↔ |r⟩`` laser.

    Returns
    -------
    ThreeLevelSteadyState
    """
    import qutip
    N = check_count("N", N)
    gamma = check_rate("gamma", gamma)
    gamma_r = check_rate("gamma_r", gamma_r)
    omega = check_real("omega", omega)
    delta = check_real("delta", delta)
    if delta == 0:
        raise ValueError("delta must be non-zero (effective pump w = gamma_r (omega/delta)^2)")
    check_int("N", N, maximum=60)
    J, _ = _symmetric_three_level(N)
    g, e, r = 0, 1, 2
    H = -delta * J[r][r] + omega * (J[r][g] + J[g][r])
    c_ops = [np.sqrt(gamma) * J[g][e], np.sqrt(gamma_r) * J[e][r]]
    rho = qutip.steadystate(H, c_ops)
    jz_op = 0.5 * (J[e][e] - J[g][g])
    jz = float(qutip.expect(jz_op, rho))
    var = float(qutip.expect(jz_op * jz_op, rho)) - jz ** 2
    return ThreeLevelSteadyState(jz, var, float(qutip.expect(J[r][r], rho)),
                                 gamma_r * (omega / delta) ** 2, rho.shape[0], rho)
