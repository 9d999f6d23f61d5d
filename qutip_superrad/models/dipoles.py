r"""Arrays of radiating quantum dipoles: synchronization by an incoherent repump.

The model of B. Zhu, J. Schachenmayer, M. Xu, F. Herrera, J. G. Restrepo,
M. J. Holland and A. M. Rey, *Synchronization of interacting quantum dipoles*,
New J. Phys. 17, 083063 (2015), its eqs. (1)–(4) (ħ = 1, Pauli operators,
``σ_z = |↑⟩⟨↑| − |↓⟩⟨↓|``, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    H = ½ Σ_a δ_a σ^z_a + ½ Σ_{a≠b} g_ab σ⁺_a σ⁻_b
    dρ/dt = −i[H, ρ] + Σ_ab f_ab (σ⁻_b ρ σ⁺_a − ½{σ⁺_a σ⁻_b, ρ}) + W Σ_a D[σ⁺_a]ρ

``f`` is the dissipative (collective decay) and ``g`` the elastic dipole–dipole
coupling; ``f_aa = Γ`` is the single-dipole decay rate.  For point dipoles of
wavelength λ with the dipole moment at angle θ to ``r_ab`` (``ζ = 2π|r_ab|/λ``)::

    f = (3Γ/2) {sin²θ sin ζ/ζ + (3cos²θ − 1)[sin ζ/ζ³ − cos ζ/ζ²]}
    g = −(3Γ/2) {sin²θ cos ζ/ζ + (3cos²θ − 1)[cos ζ/ζ³ + sin ζ/ζ²]}

(:func:`dipolar_couplings`).  ``f`` is then positive semidefinite for any
positions (it is the imaginary part of the free-space Green's tensor), and
``f(r → 0) = Γ``.

**All-to-all coupling.**  The paper's collective limit is ``f_ab = f_eff/N``
for ``a ≠ b``.  Its literal matrix with ``f_aa = Γ`` has the eigenvalue
``Γ − f_eff/N`` and is *not* a decay matrix when ``f_eff > NΓ`` (for example
``f_eff = 15Γ`` at N = 10): the corresponding master equation is not of
Lindblad form.  :meth:`DipoleArray.all_to_all` therefore uses
``f_aa = Γ + f_eff/N``, i.e. ``(f_eff/N) D[J⁻] + Γ Σ_a D[σ⁻_a]`` — the
model of steady-state superradiance the paper's exact results are computed
with (its ref. [44]); the difference is a ``1/N`` correction of the single-dipole
decay and disappears in the mean-field equations (5)–(7), which only contain
``b ≠ a``.

**Order parameters.**  Mean field: ``Z e^{iΦ} = (1/N) Σ_a ⟨σ⁺_a⟩``
(``|Z| ≤ 1/√8`` in the synchronized steady state).  Beyond mean field
``⟨σ⁺_a⟩ = 0`` (phase diffusion), and synchronization is measured by
``Z_Q² = mean_{a≠b} ⟨σ⁺_a σ⁻_b⟩`` (maximum ``1/8``).

Solving: every method of :func:`qutip_superrad.steadystate` that fits the
description (``dicke`` for all-to-all arrays of any N in the hundreds,
``full`` and ``trajectories`` for a few dipoles), and the per-pair mean-field
and second-order cumulant equations of :mod:`qutip_superrad.cumulant.pairs`
(``meanfield``, ``cumulant``) for arrays of hundreds of dipoles with any ``f``,
``g``, ``δ``.
"""
from __future__ import annotations

import numpy as np

from .._progress import qutip_progress_bar
from .._threads import limited_blas
from .._validate import (PROGRESS_RENAMES, ConvergenceError, check_int, check_rate, check_real,
                         renamed_keywords)

__all__ = ["DipoleArray", "dipolar_couplings", "chain_positions", "square_lattice_positions",
           "power_law_decay", "MAGIC_ANGLE", "mean_field_order_parameter",
           "lorentzian_order_parameter", "critical_width", "optimal_pumping"]

#: The magic angle ``arccos(1/√3)`` at which the near-field elastic coupling vanishes.
MAGIC_ANGLE = float(np.arccos(1.0 / np.sqrt(3.0)))


# --------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------
def _positions(positions):
    r = np.asarray(positions, dtype=float)
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[1] not in (1, 2, 3) or r.shape[0] < 1:
        raise ValueError(f"positions must have shape (N, 1|2|3), got {np.shape(positions)}")
    if not np.all(np.isfinite(r)):
        raise ValueError("positions must be finite")
    return np.pad(r, ((0, 0), (0, 3 - r.shape[1])))


def _distances(r):
    from .._validate import check_memory
    from ..exact._common import DEFAULT_MAX_MEMORY
    n = len(r)
    # separations (N, N, 3) plus about six N×N work arrays, 8 B each
    check_memory(8.0 * n * n * 9, DEFAULT_MAX_MEMORY,
                 f"the pair couplings of {n} positions (N×N matrices); for identical "
                 "couplings use DipoleArray.all_to_all, which builds none")
    d = r[:, None, :] - r[None, :, :]
    dist = np.sqrt(np.einsum("abk,abk->ab", d, d))
    off = ~np.eye(len(r), dtype=bool)
    if np.any(dist[off] == 0):
        a, b = np.argwhere((dist == 0) & off)[0]
        raise ValueError(f"positions: dipoles {a} and {b} coincide (r = 0: the elastic coupling "
                         "diverges); give distinct positions")
    return d, dist


def chain_positions(N, spacing=1.0):
    """Positions ``(k·spacing, 0, 0)``, ``k = 0 … N−1`` of a chain along x."""
    N = check_int("N", N, minimum=1)
    spacing = check_real("spacing", spacing)
    if spacing <= 0:
        raise ValueError(f"spacing must be > 0, got {spacing}")
    return np.column_stack([spacing * np.arange(N), np.zeros(N), np.zeros(N)])


def square_lattice_positions(L, spacing=1.0):
    """Positions of an ``L × L`` square lattice in the x–y plane, row by row."""
    L = check_int("L", L, minimum=1)
    spacing = check_real("spacing", spacing)
    if spacing <= 0:
        raise ValueError(f"spacing must be > 0, got {spacing}")
    y, x = np.divmod(np.arange(L * L), L)
    return np.column_stack([spacing * x, spacing * y, np.zeros(L * L)]).astype(float)


def dipolar_couplings(positions, *, wavelength=1.0, dipole=(1.0, 0.0, 0.0), emission=1.0):
    """The paper's dissipative ``f_ab`` and elastic ``g_ab`` of point dipoles.

    Parameters
    ----------
    positions : array_like, shape (N, d), d ≤ 3
        Dipole positions (same length unit as ``wavelength``).
    wavelength : float
        Transition wavelength λ (``ζ = 2π r/λ``).
    dipole : array_like, shape (3,)
        Direction of the dipole moments (normalised here); ``θ_ab`` is its
        angle to ``r_ab``.  For a chain along x, ``(cos θ, sin θ, 0)``.
    emission : float
        Single-dipole decay rate ``Γ = f(0)``.

    Returns
    -------
    f, g : ndarray, shape (N, N)
        ``f_aa = Γ``, ``g_aa = 0``.

    Raises
    ------
    ValueError
        Coincident dipoles, non-finite or negative inputs, zero dipole vector.
    """
    r = _positions(positions)
    lam = check_real("wavelength", wavelength)
    if lam <= 0:
        raise ValueError(f"wavelength must be > 0, got {lam}")
    gam = check_rate("emission", emission)
    p = np.asarray(dipole, dtype=float).ravel()
    if p.shape != (3,) or not np.all(np.isfinite(p)) or not np.any(p):
        raise ValueError(f"dipole must be a finite non-zero 3-vector, got {dipole!r}")
    p = p / np.linalg.norm(p)
    d, dist = _distances(r)
    off = ~np.eye(len(r), dtype=bool)
    z = np.where(off, 2 * np.pi * dist / lam, 1.0)
    cos_t = np.where(off, np.einsum("abk,k->ab", d, p) / np.where(off, dist, 1.0), 1.0)
    sin2, ang = 1.0 - cos_t ** 2, 3.0 * cos_t ** 2 - 1.0
    f = 1.5 * gam * (sin2 * np.sin(z) / z + ang * (np.sin(z) / z ** 3 - np.cos(z) / z ** 2))
    g = -1.5 * gam * (sin2 * np.cos(z) / z + ang * (np.cos(z) / z ** 3 + np.sin(z) / z ** 2))
    f[~off], g[~off] = gam, 0.0
    return f, g


def power_law_decay(positions, alpha, *, emission=1.0, spacing=None):
    """``f_ab = (Γ/4)(a/r_ab)^α`` for ``a ≠ b``, ``f_aa = Γ`` (the paper's Fig. 4).

    ``spacing`` ``a`` defaults to the smallest distance between two dipoles.
    """
    r = _positions(positions)
    alpha = check_real("alpha", alpha)
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0 (a decaying power law), got {alpha}")
    gam = check_rate("emission", emission)
    _, dist = _distances(r)
    off = ~np.eye(len(r), dtype=bool)
    if spacing is None:
        spacing = float(np.min(dist[off])) if len(r) > 1 else 1.0
    spacing = check_real("spacing", spacing)
    f = np.where(off, 0.25 * gam * (spacing / np.where(off, dist, 1.0)) ** alpha, gam)
    return f


# --------------------------------------------------------------------------
# closed forms of the mean field (eqs. 10, 11)
# --------------------------------------------------------------------------
def _broadcast_rates(**rates):
    """The keyword arrays broadcast together, each checked finite and >= 0 by name."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in rates.values()))
    for name, v in zip(rates, arrays):
        if not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"{name} must be finite and >= 0")
    return arrays


def mean_field_order_parameter(pumping, collective_emission, emission=1.0):
    """Eq. (10): ``Z = √(f_eff(W − Γ) − (W + Γ)²)/(√2 f_eff)``, 0 where it is not real.

    All-to-all coupling ``f_eff = N f``, ``δ = g = 0``, N → ∞.  Broadcasts.
    """
    return lorentzian_order_parameter(pumping, collective_emission, 0.0, emission)


def lorentzian_order_parameter(pumping, collective_emission, width, emission=1.0):
    """Eq. (11): ``Z`` for detunings from a Lorentzian of half width ``Δ``.

    ``Z = √(f_eff P − Q² + 2Δ² − 2Δ√(Δ² + f_eff P))/(√2 f_eff)``, ``P = W − Γ``,
    ``Q = W + Γ``; 0 where the radicand is negative, i.e. beyond
    ``Δ_c = (f_eff P − Q²)/(2Q)`` (:func:`critical_width`; the paper prints the
    opposite sign, which is negative wherever the spins synchronize).  Broadcasts.
    """
    W, f, D, G = _broadcast_rates(pumping=pumping, collective_emission=collective_emission,
                                  width=width, emission=emission)
    P, Q = W - G, W + G
    with np.errstate(invalid="ignore", divide="ignore"):
        rad = f * P - Q ** 2 + 2 * D ** 2 - 2 * D * np.sqrt(np.maximum(D ** 2 + f * P, 0.0))
        ok = (rad > 0) & (f * P > 0) & (f > 0)
        Z = np.where(ok, np.sqrt(np.where(ok, rad, 0.0)) / (np.sqrt(2.0) * np.where(f > 0, f, 1)),
                     0.0)
    return Z[()] if Z.ndim == 0 else Z


def critical_width(pumping, collective_emission, emission=1.0):
    """``Δ_c = (f_eff P − Q²)/(2Q)``: the Lorentzian half width at which eq. (11) vanishes
    (0 where the spins do not synchronize even at Δ = 0).  Broadcasts."""
    W, f, G = _broadcast_rates(pumping=pumping, collective_emission=collective_emission,
                               emission=emission)
    P, Q = W - G, W + G
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(Q > 0, (f * P - Q ** 2) / (2 * np.where(Q > 0, Q, 1.0)), 0.0)
    d = np.maximum(d, 0.0)
    return d[()] if d.ndim == 0 else d


def optimal_pumping(collective_emission, emission=1.0, width=0.0):
    """Repump rate that maximises eq. (10)/(11) (numerically; ``→ f_eff/2`` at large ``f_eff``)."""
    from scipy.optimize import minimize_scalar
    f = check_rate("collective_emission", collective_emission)
    G = check_rate("emission", emission)
    D = check_rate("width", width)
    if f <= 0:
        raise ValueError("collective_emission must be > 0")
    res = minimize_scalar(lambda W: -lorentzian_order_parameter(W, f, D, G),
                          bounds=(G, max(f, 2 * G)), method="bounded",
                          options={"xatol": 1e-10 * max(f, 1)})
    return float(res.x)


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------
def _uniform_offdiag(m):
    n = len(m)
    if n < 2:
        return True
    off = m[~np.eye(n, dtype=bool)]
    d = np.diag(m)
    return bool(np.ptp(off) <= 1e-12 * max(np.max(np.abs(m)), 1e-300)
                and np.ptp(d) <= 1e-12 * max(np.max(np.abs(m)), 1e-300))


class DipoleArray:
    r"""N two-level dipoles with dipole–dipole couplings ``f``, ``g`` and a repump ``W``.

    Parameters
    ----------
    f : array_like, shape (N, N)
        Dissipative coupling (collective decay) matrix; real, symmetric,
        positive semidefinite; ``f_aa`` are the single-dipole decay rates.
    g : array_like, shape (N, N), optional
        Elastic coupling; real, symmetric; diagonal ignored (default 0).
    pumping : float
        Incoherent repump rate ``W`` of ``W Σ D[σ⁺_a]``.
    detunings : float or array_like, shape (N,), optional
        ``δ_a`` (default 0).
    positions : array_like, optional
        Kept for plots and cluster selections (:meth:`linear_cluster`).

    Examples
    --------
    The all-to-all array of the paper's Fig. 2b at its optimum, exact (Dicke basis):

    >>> import qutip_superrad as qsr
    >>> arr = qsr.DipoleArray.all_to_all(20, collective_emission=15.0, pumping=7.0)
    >>> res = arr.steadystate("dicke")
    >>> round(res.values["order_parameter"], 3)
    0.237
    """

    def __init__(self, f, g=None, *, pumping, detunings=0.0, positions=None, name="dipole array"):
        from ..cumulant.pairs import pair_parameters
        self.pumping = check_rate("pumping", pumping)
        # one validator for the couplings (shape, real, finite, symmetric, f PSD), shared
        # with the per-pair equations, which then take the checked values as they are
        self._params = pair_parameters(f, g, detunings, self.pumping)
        n = self._params.N
        self._n, self._f, self._g = n, self._params.f, self._params.g
        self.detunings = self._params.detunings
        self.positions = None if positions is None else _positions(positions)
        if self.positions is not None and len(self.positions) != n:
            raise ValueError(f"positions must have {n} rows, got {len(self.positions)}")
        self.name = name
        self._all_to_all = None
        self._cache = {}

    # -- constructors ---------------------------------------------------------
    @classmethod
    def all_to_all(cls, N, collective_emission, pumping, *, emission=1.0, elastic=0.0,
                   detuning=0.0):
        """Identical couplings ``f_ab = f_eff/N``, ``g_ab = g_eff/N`` (module notes).

        ``f_aa = Γ + f_eff/N`` (``(f_eff/N) D[J⁻] + Γ Σ D[σ⁻_a]``).  Exact by
        ``method="dicke"`` for N in the hundreds.
        """
        N = check_int("N", N, minimum=1)
        fe = check_rate("collective_emission", collective_emission)
        gam = check_rate("emission", emission)
        ge = check_real("elastic", elastic)
        # no N×N matrices here (N may be 10⁵): they are built on demand by `f`, `g`
        arr = cls(np.eye(1), pumping=pumping, name="all-to-all dipoles")
        arr._n, arr._f, arr._g, arr._params = N, None, None, None
        arr.detunings = np.full(N, check_real("detuning", detuning))
        arr._all_to_all = dict(collective_emission=fe, emission=gam, elastic=ge)
        return arr

    @classmethod
    def from_positions(cls, positions, pumping, *, wavelength=1.0, dipole=(1.0, 0.0, 0.0),
                       emission=1.0, elastic=True, detunings=0.0):
        """Point dipoles at ``positions`` with the paper's ``f`` and ``g`` (:func:`dipolar_couplings`).

        ``elastic=False`` drops ``g`` (Fig. 5b comparison).
        """
        f, g = dipolar_couplings(positions, wavelength=wavelength, dipole=dipole,
                                 emission=emission)
        return cls(f, g if elastic else None, pumping=pumping, detunings=detunings,
                   positions=positions, name="dipole array")

    @classmethod
    def chain(cls, N, spacing, pumping, *, wavelength=1.0, theta=MAGIC_ANGLE, emission=1.0,
              elastic=True, detunings=0.0):
        """N dipoles on a line (lattice ``spacing``), moments at angle ``theta`` to the line."""
        theta = check_real("theta", theta)
        return cls.from_positions(chain_positions(N, spacing), pumping, wavelength=wavelength,
                                  dipole=(np.cos(theta), np.sin(theta), 0.0), emission=emission,
                                  elastic=elastic, detunings=detunings)

    @classmethod
    def power_law(cls, positions, alpha, pumping, *, emission=1.0, detunings=0.0):
        """``f_ab = (Γ/4)(a/r_ab)^α``, ``g = 0`` (the paper's Sec. V, Fig. 4)."""
        return cls(power_law_decay(positions, alpha, emission=emission), None, pumping=pumping,
                   detunings=detunings, positions=positions, name=f"power-law array (α={alpha:g})")

    # -- properties -------------------------------------------------------------
    @property
    def N(self):
        """Number of dipoles."""
        return self._n

    def _pair_values(self):
        """``(f_aa, f_ab, g_ab)`` of an all-to-all array."""
        if self._all_to_all is not None:
            a = self._all_to_all
            fo, go = a["collective_emission"] / self.N, a["elastic"] / self.N
            return a["emission"] + fo, fo, go
        n = self.N
        return (float(self._f[0, 0]), float(self._f[0, 1]) if n > 1 else 0.0,
                float(self._g[0, 1]) if n > 1 else 0.0)

    def _dense(self, which):
        from .._validate import check_memory
        check_memory(8.0 * self.N ** 2, 4 * 2 ** 30, f"the {self.N}×{self.N} coupling matrix {which}")
        d, fo, go = self._pair_values()
        m = np.full((self.N, self.N), fo if which == "f" else go)
        np.fill_diagonal(m, d if which == "f" else 0.0)
        return m

    @property
    def f(self):
        """Dissipative coupling matrix ``f_ab`` (built on demand for all-to-all arrays)."""
        return self._dense("f") if self._f is None else self._f

    @property
    def g(self):
        """Elastic coupling matrix ``g_ab`` (zero diagonal)."""
        return self._dense("g") if self._g is None else self._g

    @property
    def is_all_to_all(self):
        """True if all dipoles are identical (same ``f``, ``g`` for every pair, same ``δ``)."""
        if self._all_to_all is not None:
            return True
        return (_uniform_offdiag(self._f) and _uniform_offdiag(self._g)
                and np.ptp(self.detunings) <= 1e-14 * max(1.0, np.max(np.abs(self.detunings))))

    @property
    def effective_coupling(self):
        """``(f_eff, g_eff) = Σ_a Σ_{b≠a} (f_ab, g_ab)/(N − 1)`` (App. A)."""
        if self.N < 2:
            return 0.0, 0.0
        if self._all_to_all is not None:
            _, fo, go = self._pair_values()
            return fo * self.N, go * self.N
        off = ~np.eye(self.N, dtype=bool)
        return (float(self._f[off].sum() / (self.N - 1)), float(self._g[off].sum() / (self.N - 1)))

    def with_pumping(self, pumping):
        """The same array with another repump rate (shares the cached description)."""
        new = object.__new__(DipoleArray)
        new.__dict__.update(self.__dict__)
        new.pumping = check_rate("pumping", pumping)
        if self._params is not None:
            import dataclasses
            new._params = dataclasses.replace(self._params,
                                              pumping=np.full(self.N, new.pumping))
        new._cache = {k: v for k, v in self._cache.items()}
        if "description" in new._cache:
            model, ops = new._cache["description"]
            new._cache["description"] = (model.with_values(W=new.pumping), ops)
        return new

    def __repr__(self):
        fe, ge = self.effective_coupling
        return (f"DipoleArray(N={self.N}, W={self.pumping:.4g}, f_eff={fe:.4g}, g_eff={ge:.4g}, "
                f"{'all-to-all' if self.is_all_to_all else 'per-pair'})")

    # -- the description -----------------------------------------------------------
    def description(self):
        """The model as a :class:`~qutip_superrad.Model`, and its observables.

        All-to-all arrays are written with one :class:`Clusters` (so that the
        ``dicke`` method and the cluster cumulants apply); any other array
        with explicit atoms, ``pair_sum`` for ``g`` and ``correlated_decay``
        for ``f`` (``full``, ``trajectories``, engine cumulants for a few dipoles).

        Returns
        -------
        model : Model
        observables : dict
            ``"JpJm"`` (``Σ_ab σ⁺_a σ⁻_b``), ``"Jz"`` (``Σ σ_z/2``),
            ``"JzJz"``; explicit arrays also ``"pairs"`` → ``{(a, b): σ⁺_aσ⁻_b}``.
        """
        if "description" not in self._cache:
            self._cache["description"] = (self._clustered() if self._collective
                                          else self._explicit())
        return self._cache["description"]

    def _clustered(self):
        from ..cumulant.engine.algebra import parameters
        from ..cumulant.engine.clusters import Clusters
        from ..model import Model
        N = self.N
        atoms = Clusters("d")
        s = atoms.atom
        fd, fo, go = self._pair_values()
        gam = fd - fo              # f = gam·1 + fo·11ᵀ
        if gam < -1e-12 * max(abs(fo), 1e-300):
            raise ValueError("all-to-all f needs f_aa >= f_ab (positive semidefinite)")
        fc, G, W, el, dl = parameters("f_pair emission W g_pair delta")
        Jp, Jm, Jz = atoms.sum(s.sp), atoms.sum(s.sm), atoms.sum(0.5 * s.sz)
        # ½ Σ_{a≠b} g σ⁺_a σ⁻_b = ½ g (J⁺J⁻ − Σ σ⁺σ⁻), σ⁺σ⁻ = σ_22
        H = el * 0.5 * (Jp * Jm - atoms.sum(s.s(2, 2))) + dl * Jz
        model = Model(H, [(fc, Jm), (G, atoms.each(s.sm)), (W, atoms.each(s.sp))],
                      parameters=dict(f_pair=fo, emission=max(gam, 0.0), W=self.pumping,
                                      g_pair=go, delta=float(self.detunings[0])),
                      N=N, name=self.name)
        return model, {"JpJm": Jp * Jm, "Jz": Jz, "JzJz": Jz * Jz}

    def _explicit(self):
        from ..cumulant.engine.algebra import Atom, Operator, parameter
        from ..model import Model, correlated_decay, pair_sum
        atoms = [Atom(f"d{i}", 2) for i in range(self.N)]
        H = 0.5 * pair_sum(atoms, self.g, lambda a: a.sp, lambda a: a.sm)
        for a, d in zip(atoms, self.detunings):
            if d != 0:
                H = H + (0.5 * float(d)) * a.sz
        W = parameter("W")
        jumps = correlated_decay(atoms, self.f) + [(W, a.sp) for a in atoms]
        model = Model(H if len(H.terms) else Operator(), jumps, parameters=dict(W=self.pumping),
                      name=self.name)
        Jp = sum((a.sp for a in atoms[1:]), atoms[0].sp)
        Jm = sum((a.sm for a in atoms[1:]), atoms[0].sm)
        Jz = sum((0.5 * a.sz for a in atoms[1:]), 0.5 * atoms[0].sz)
        pairs = {(i, j): atoms[i].sp * atoms[j].sm for i in range(self.N)
                 for j in range(self.N) if i != j}
        return model, {"JpJm": Jp * Jm, "Jz": Jz, "JzJz": Jz * Jz, "pairs": pairs, "atoms": atoms}

    # -- clusters of neighbours (Fig. 4a) ----------------------------------------------
    def linear_cluster(self, d, direction=(1.0, 0.0, 0.0)):
        """Indices of ``d`` dipoles on the line through the central dipole.

        The central dipole is the one nearest to the centre of mass; the line
        runs along ``direction``.  The cluster starts at the central dipole
        and adds the dipoles of the line nearest to it (alternating sides,
        the ``+direction`` side first), so that it can span the whole line
        (the paper's "linear clusters that start at the central spin",
        Fig. 4a, whose exact shape it does not give).  Needs :attr:`positions`.
        """
        if self.positions is None:
            raise ValueError("linear_cluster needs positions (build the array with "
                             "from_positions, chain, power_law)")
        d = check_int("d", d, minimum=1, maximum=self.N)
        u = np.asarray(direction, dtype=float)
        if u.shape != (3,) or not np.any(u):
            raise ValueError(f"direction must be a non-zero 3-vector, got {direction!r}")
        u = u / np.linalg.norm(u)
        r = self.positions
        c = int(np.argmin(np.linalg.norm(r - r.mean(axis=0), axis=1)))
        rel = r - r[c]
        along = rel @ u
        perp = np.linalg.norm(rel - along[:, None] * u, axis=1)
        scale = max(float(np.max(np.abs(rel))), 1e-300)
        on = np.nonzero(perp <= 1e-9 * scale)[0]
        # nearest to the central dipole first (ties: the +direction side first), so a
        # cluster grows from the centre and can span the whole line
        on = on[np.lexsort((along[on] < 0, np.round(np.abs(along[on]) / scale, 9)))]
        if len(on) < d:
            raise ValueError(f"only {len(on)} dipoles lie on the line from the central dipole "
                             f"{c} along {tuple(u)}; asked for d = {d}")
        return on[:d]

    def cluster_order_parameters(self, result, sizes, direction=(1.0, 0.0, 0.0)):
        """The paper's ``Z_Q^d`` for clusters of ``d`` in ``sizes`` (Fig. 4a).

        ``result`` is a per-pair steady state (``steadystate("cumulant")`` of
        an array with positions); the clusters are :meth:`linear_cluster`.
        """
        state = getattr(result, "state", None)
        if self.is_all_to_all and not hasattr(state, "cluster_order_parameter"):
            # identical dipoles: every pair has the same correlation, Z_Q^d = Z_Q
            return np.full(np.atleast_1d(sizes).shape, result.values["order_parameter"])
        if not hasattr(state, "cluster_order_parameter"):
            raise TypeError("result must come from a per-pair method (steadystate('cumulant') "
                            "or 'meanfield' of an array with per-pair couplings)")
        return np.array([state.cluster_order_parameter(self.linear_cluster(d, direction))
                         for d in np.atleast_1d(sizes)])

    # -- solving ------------------------------------------------------------------
    def _e_ops(self):
        _, ops = self.description()
        return {k: ops[k] for k in ("JpJm", "Jz", "JzJz")}

    def steadystate(self, method="auto", *, options=None, **kwargs):
        """Steady state and the synchronization observables.

        Parameters
        ----------
        method : str
            ``"dicke"`` (exact, all-to-all arrays, N in the hundreds),
            ``"full"`` (exact, tensor space, a few dipoles), ``"meanfield"``,
            ``"cumulant"`` (second order: the cluster engine for all-to-all
            arrays, the per-pair equations of :mod:`~qutip_superrad.cumulant.pairs`
            otherwise), or ``"auto"`` (``dicke`` if all-to-all, else ``full``
            up to 8 dipoles, else ``cumulant``).
        options : dict, optional
            Options of the method, also accepted as keywords; unknown keys raise
            ``ValueError``.  ``"dicke"``/``"full"``: ``max_memory`` (8 GiB),
            ``max_time`` (s, 600: GMRES limit), ``progress_bar`` (QuTiP's values).
            ``"cumulant"`` of an all-to-all array: ``order``, ``backend``,
            ``steadystate``, ``seed``, ``progress_bar``; per-pair arrays
            (:meth:`~qutip_superrad.cumulant.pairs.PairCumulants.steadystate`):
            ``tol``, ``max_time`` (300 s), ``maxiter``, ``real``, ``h0``,
            ``gmres_rtol``, ``restart``, ``initial`` (order 2); ``t_relax``, ``seed``,
            ``tol``, ``max_time`` (60 s), ``rtol``, ``atol``, ``method`` (order 1).

        Returns
        -------
        Result
            ``values``: ``order_parameter`` (``Z_Q``; ``|Z|`` for ``meanfield``),
            ``pair_coherence`` (``Z_Q²``, mean ``⟨σ⁺_aσ⁻_b⟩`` over pairs),
            ``inversion`` (mean ``⟨σ_z⟩/2`` per dipole, the paper's ``S^z``),
            ``pair_inversion`` (mean ``⟨σ^z_a σ^z_b⟩``); per-pair methods also
            ``result.pairs`` (the matrix ``⟨σ⁺_aσ⁻_b⟩``).
        """
        method = self._method(method)
        opts = dict(options or {}, **kwargs)
        if self._per_pair(method):
            state = self.pair_cumulants(method).steadystate(opts)
            return _pair_result(method, state)
        from ..solvers import steadystate
        model, _ = self.description()
        res = steadystate(model, method, e_ops=self._e_ops(), options=opts)
        _synchronization(res.values, self.N)
        return res

    def evolve(self, tlist, method="auto", *, initial=None, options=None, **kwargs):
        """Time evolution, with the observables of :meth:`steadystate`.

        Parameters
        ----------
        tlist : array_like
            Strictly increasing output times.
        method : str
            As for :meth:`steadystate`, and ``"trajectories"``.
        initial : optional
            ``None``/``"ground"`` (every dipole down: QuTiP's ``basis(2, 1)``;
            ``basis(2, 0)`` is up), ``"excited"``; for the exact methods also
            ``"superradiant"``, a Dicke state ``(j, m)`` and Qobj states (see
            :func:`qutip_superrad.evolve`); per-pair arrays also a dict of
            :func:`~qutip_superrad.cumulant.pairs.product_state` or a ``PairState``.
        options : dict, optional
            Also accepted as keywords; unknown keys raise ``ValueError``.
            ``"dicke"``/``"full"``: ``max_memory``, ``atol``, ``rtol``, ``nsteps``
            (QuTiP's integrator options; the exact propagator without them),
            ``max_time``, ``progress_bar``.  ``"trajectories"``: ``ntraj``, ``seed``,
            ``max_memory``, ``max_time``, ``atol``, ``rtol``, ``nsteps``,
            ``progress_bar``.  ``"cumulant"``/``"meanfield"`` of per-pair arrays:
            ``rtol``, ``atol``, ``method``, ``max_step``, ``max_time``, ``states``,
            ``real``; of all-to-all arrays: ``order``, ``backend``, ``seed``,
            ``evolve``, ``progress_bar``.

        Returns
        -------
        TimeResult
        """
        method = self._method(method)
        opts = dict(options or {}, **kwargs)
        if self._per_pair(method):
            ev = self.pair_cumulants(method).evolve(tlist, initial=initial, options=opts)
            from ..results import TimeResult
            return TimeResult(method, None, ev.times,
                              {"order_parameter": ev.order_parameter,
                               "inversion": 0.5 * np.mean(ev.s, axis=1)},
                              states=ev.states, stats=ev.stats)
        from ..solvers import evolve
        model, _ = self.description()
        res = evolve(model, tlist, method, initial=initial, e_ops=self._e_ops(), options=opts)
        _synchronization(res.values, self.N)
        return res

    @property
    def _collective(self):
        """True if the array is written with collective operators (:meth:`description` by
        ``Clusters``): all-to-all with ``f_ab ≥ 0``.  A physical all-to-all ``f`` may have
        ``f_ab < 0`` (dipoles ~λ apart), but ``f_ab D[J⁻]`` would then be a jump with a
        negative rate: such arrays take the explicit (per-pair) route."""
        return self.is_all_to_all and (self.N < 2 or self._pair_values()[1] >= 0)

    def _per_pair(self, method):
        """True when an approximate method runs on the per-pair equations."""
        return method in ("meanfield", "cumulant") and not self._collective

    def _method(self, method):
        known = ("auto", "dicke", "full", "meanfield", "cumulant", "trajectories")
        if method not in known:
            raise ValueError(f"method must be one of {known}, got {method!r}")
        if method == "auto":
            method = "dicke" if self._collective else ("full" if self.N <= 8 else "cumulant")
        if method == "dicke" and self.is_all_to_all and not self._collective:
            raise ValueError(f"method='dicke' needs f_ab >= 0 (here f_ab = "
                             f"{self._pair_values()[1]:.4g}: f_ab D[J⁻] would have a negative "
                             "rate); use 'full' (N <= ~10), 'trajectories' or 'cumulant'")
        if method == "dicke" and not self.is_all_to_all:
            raise ValueError("method='dicke' needs identical couplings (all-to-all f and g, equal "
                             "detunings); this array has per-pair couplings: use 'full' "
                             "(N <= ~10), 'trajectories' or 'cumulant'")
        return method

    def pair_cumulants(self, method="cumulant"):
        """The per-pair equations of this array (:class:`~qutip_superrad.cumulant.pairs.PairCumulants`):
        ``"meanfield"`` (order 1) or ``"cumulant"`` (order 2); for correlations
        (``correlation``, ``entrainment``) and initial states."""
        from ..cumulant.pairs import PairCumulants, pair_parameters
        if method not in ("meanfield", "cumulant"):
            raise ValueError(f"method must be 'meanfield' or 'cumulant', got {method!r}")
        params = self._params            # None for all-to-all arrays (matrices built on demand)
        if params is None:
            params = pair_parameters(self.f, self.g, self.detunings, self.pumping)
        return PairCumulants(params, order=1 if method == "meanfield" else 2)


def _pair_result(method, state):
    """A :class:`~qutip_superrad.results.Result` from a per-pair state (``state`` kept)."""
    from ..results import Result
    N = state.N
    C = state.pair_matrix()
    D = state.D if state.order == 2 else np.outer(state.s, state.s)
    off = N * (N - 1) if N > 1 else 1
    values = {"inversion": float(np.mean(state.s) / 2),
              "pair_coherence": float(np.sum(C.real) / off),
              "pair_inversion": float((np.sum(D) - np.trace(D)) / off),
              "order_parameter": state.order_parameter}
    res = Result(method, None, state=state, values=values, stats=dict(state.stats))
    res.pairs = C
    return res


def _synchronization(values, N):
    """Add ``pair_coherence``, ``order_parameter``, ``inversion``, ``pair_inversion`` from
    ``JpJm``, ``Jz``, ``JzJz`` (scalars or arrays over time)."""
    JpJm, Jz, JzJz = (np.real(np.asarray(values[k])) for k in ("JpJm", "Jz", "JzJz"))
    values["inversion"] = Jz / N
    if N < 2:
        return values
    pairs = (JpJm - (N / 2 + Jz)) / (N * (N - 1))
    values["pair_coherence"] = pairs
    values["pair_inversion"] = (4 * JzJz - N) / (N * (N - 1))
    values["order_parameter"] = np.sqrt(np.maximum(pairs, 0.0))
    for k in ("inversion", "pair_coherence", "pair_inversion", "order_parameter"):
        if np.ndim(values[k]) == 0:
            values[k] = float(values[k])
    return values


# --------------------------------------------------------------------------
# the all-to-all phase diagram (Fig. 2a,b) and the pair correlations (Fig. 3)
# --------------------------------------------------------------------------
@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def synchronization_map(N, pumping, collective_emission, *, method="dicke", emission=1.0,
                        map="serial", num_cpus=None, progress_bar=True, store=None):
    r"""Order parameter of all-to-all arrays on a grid of ``(W, f_eff)`` (Fig. 2a,b).

    Parameters
    ----------
    N : int
        Number of dipoles.
    pumping, collective_emission : array_like
        The axes ``W`` and ``f_eff`` (in units of ``emission`` = Γ).
    method : {"dicke", "meanfield", "cumulant"}
        ``dicke`` is exact (Fig. 2b); the others give the approximations on
        the same grid (App. B: cumulants deviate where ``W ≪ Γ``).
    emission : float
        Single-dipole decay Γ.
    map : {"serial", "parallel", "loky", "mpi"}
        QuTiP's map, through :func:`qutip_superrad.sweep` (registered model ``"dipoles"``).
    num_cpus : int, optional
        Workers of the parallel maps.
    progress_bar : None, bool or str
        QuTiP's values, as in :func:`qutip_superrad.sweep` (formerly ``progress``,
        deprecated).
    store : str or Path, optional
        SQLite store of the sweep: a rerun with the same arguments resumes.

    Returns
    -------
    dict
        ``"pumping"``, ``"collective_emission"`` (the axes), and arrays of
        shape ``(len(pumping), len(collective_emission))``:
        ``"order_parameter"``, ``"inversion"``, ``"pair_coherence"``, ``"pair_inversion"``.
    """
    from ..sweeps import SweepTask, sweep
    N = check_int("N", N, minimum=2)
    W = np.atleast_1d(np.asarray(pumping, dtype=float))
    fe = np.atleast_1d(np.asarray(collective_emission, dtype=float))
    for name, v in (("pumping", W), ("collective_emission", fe)):
        if v.ndim != 1 or not np.all(np.isfinite(v)) or np.any(v < 0):
            raise ValueError(f"{name} must be a 1-D array of finite rates >= 0")
    gam = check_rate("emission", emission)
    if method not in ("dicke", "meanfield", "cumulant"):
        raise ValueError(f"method must be 'dicke', 'meanfield' or 'cumulant', got {method!r}")
    keys = ("order_parameter", "inversion", "pair_coherence", "pair_inversion")
    task = SweepTask("dipoles", method, observables=keys, fixed={"N": N, "emission": gam})
    swept = sweep(task, {"pumping": list(W), "collective_emission": list(fe)}, map=map,
                  map_kw={"num_cpus": num_cpus} if num_cpus else None, store=store,
                  progress_bar=progress_bar).raise_if_incomplete("synchronization_map")
    res = {"pumping": W, "collective_emission": fe, "N": N, "method": method}
    res.update({k: swept[k] for k in keys})
    return res


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def pair_correlations(N, pumping, collective_emission, *, method="dicke", emission=1.0,
                      progress_bar=False):
    r"""Mutual information and quantum discord of two dipoles vs the repump (Fig. 3).

    For identical dipoles the state of any pair is the X state fixed by
    ``⟨σ_z⟩``, ``⟨σ^z_aσ^z_b⟩`` and ``⟨σ⁺_aσ⁻_b⟩``
    (:func:`~qutip_superrad.quantum_info.two_qubit_state`), so the exact
    (``dicke``) and the cumulant (``cumulant``, any N) results give it directly.

    Returns
    -------
    dict
        ``"pumping"``, and arrays ``"mutual_information"``, ``"discord"``,
        ``"classical"`` (``I − D``), ``"order_parameter"`` over ``pumping``.
    """
    from .._progress import progress as _progress
    from ..quantum_info import mutual_information, quantum_discord, two_qubit_state
    N = check_int("N", N, minimum=2)       # pair observables need two dipoles
    W = np.atleast_1d(np.asarray(pumping, dtype=float))
    if W.ndim != 1 or not np.all(np.isfinite(W)) or np.any(W < 0):
        raise ValueError("pumping must be a 1-D array of finite rates >= 0")
    if method not in ("dicke", "cumulant"):
        raise ValueError(f"method must be 'dicke' or 'cumulant', got {method!r}")
    out = {k: np.zeros(len(W)) for k in ("mutual_information", "discord", "classical",
                                        "order_parameter")}
    for i, w in enumerate(_progress(W, desc="pair correlations", progress_bar=progress_bar)):
        v = DipoleArray.all_to_all(N, collective_emission, float(w),
                                   emission=emission).steadystate(method).values
        rho = two_qubit_state(2 * v["inversion"], 2 * v["inversion"], v["pair_inversion"],
                              v["pair_coherence"])
        out["mutual_information"][i] = mutual_information(rho)
        out["discord"][i] = quantum_discord(rho)
        out["order_parameter"][i] = v["order_parameter"]
    out["classical"] = out["mutual_information"] - out["discord"]
    out["pumping"] = W
    return out


@limited_blas
def pair_decay_rates(N, pumping, collective_emission, *, method="dicke", emission=1.0,
                     points=64, window=3.0, progress_bar=False, options=None):
    r"""Decay rate ``γ`` of the pair correlation ``Z_ab(τ)`` of identical dipoles vs the
    repump (seed 001, Fig. A1).

    ``Z_ab(τ) = ⟨(σ⁺_a + σ⁺_b)(τ)(σ⁻_a + σ⁻_b)(0)⟩`` in the steady state of ``N``
    all-to-all dipoles (``f_ab = f_eff/N``), fitted to ``A e^{−γτ}`` as in the seed.

    - ``"dicke"`` (exact): the pair is set apart as a cluster of its own — the space
      of two clusters (2 and ``N − 2`` atoms, each in its Dicke basis) holds the
      pair's two-time correlation, ``B = Σ_{a ∈ pair} σ⁻_a``
      (``Clusters.sum(s.sm, cluster=0)``).  ``N = 70`` costs about a second per pump.
    - ``"cumulant"``: quantum regression of the second-order per-pair cumulants
      (App. B; :meth:`~qutip_superrad.cumulant.pairs.PairCumulants.correlation`).

    ``Z_ab`` is a sum of several exponentials; ``γ`` is the least-squares rate on
    ``points`` delays over ``[0, window/γ]``, iterated from ``γ = (Γ + W)/2`` (the
    rate of an independent dipole) until it changes by less than 0.1 %, so that
    the fit always covers the same part of the decay.

    Parameters
    ----------
    N : int
        Number of dipoles (``>= 3`` for the exact method: a pair and the rest).
    pumping : array_like
        Repump rates ``W >= 0`` (units of ``Γ`` when ``emission = 1``).
    collective_emission : float
        ``f_eff >= 0``.
    method : {"dicke", "cumulant"}
    emission : float, default 1.0
        Single-dipole decay ``Γ``.
    points : int, default 64
        Delays per fit.
    window : float, default 3.0
        Fit window in units of ``1/γ``.
    progress_bar : bool or str, optional
        QuTiP's values.
    options : dict, optional
        Options of the exact correlation (``max_memory``, ``linear_solver``…).

    Returns
    -------
    dict
        ``"pumping"``, arrays ``"gamma"`` (``γ``), ``"amplitude"`` (``A``),
        ``"residual"`` (relative RMS misfit of the single exponential) and
        ``"defined"`` over ``pumping``.  Where nothing is excited (``W = 0``: the
        dipoles sit in the ground state and ``Z_ab ≡ 0``) ``γ`` has no meaning:
        ``gamma`` is NaN there and ``defined`` False.
    """
    from scipy.optimize import least_squares

    from .._progress import progress as _progress
    from ..solvers.dicke import correlation_function
    N = check_int("N", N, minimum=3 if method == "dicke" else 2)
    W = np.atleast_1d(np.asarray(pumping, dtype=float))
    if W.ndim != 1 or not np.all(np.isfinite(W)) or np.any(W < 0):
        raise ValueError("pumping must be a 1-D array of finite rates >= 0")
    f_eff = check_rate("collective_emission", collective_emission)
    gam = check_rate("emission", emission)
    points = check_int("points", points, minimum=8)
    window = check_real("window", window)
    if not window > 0:
        raise ValueError(f"window must be > 0 (in units of 1/γ), got {window}")
    if method not in ("dicke", "cumulant"):
        raise ValueError(f"method must be 'dicke' or 'cumulant', got {method!r}")
    out = {k: np.zeros(len(W)) for k in ("gamma", "amplitude", "residual")}
    out["defined"] = np.ones(len(W), bool)
    for i, w in enumerate(_progress(W, desc="pair decay rates", progress_bar=progress_bar)):
        arr = DipoleArray.all_to_all(N, f_eff, float(w), emission=gam)
        if method == "dicke":
            model, _ = arr.description()
            pair_model = model.with_values(N=[2, N - 2])
            s = pair_model.clusters.atom
            B = pair_model.clusters.sum(s.sm, cluster=0)
            G = correlation_function(pair_model, B, options)     # steady state once per W
            Z = lambda tau: G(tau).real  # noqa: E731
        else:
            pc = arr.pair_cumulants()
            state = pc.steadystate()
            Z = lambda tau: pc.correlation(tau, [(0, 1)], state)[0].real  # noqa: E731
        rate = 0.5 * (gam + w)
        if rate <= 0:
            raise ValueError("pair_decay_rates needs emission + pumping > 0")
        for _ in range(20):
            tau = np.linspace(0.0, window / rate, points)
            z = Z(tau)
            if abs(z[0]) <= 1e-12:               # ground state: nothing to decay
                break
            fit = least_squares(lambda p: p[0] * np.exp(-p[1] * tau) - z,
                                [z[0], rate], bounds=([-np.inf, 0.0], [np.inf, np.inf]))
            A, new = fit.x
            done = abs(new - rate) <= 1e-3 * rate
            rate = new
            if done:
                break
        else:
            raise ConvergenceError(f"pair_decay_rates: the fitted γ did not settle at W = {w:g} "
                               f"(last {rate:.6g})")
        if abs(z[0]) <= 1e-12:
            out["gamma"][i], out["residual"][i], out["defined"][i] = np.nan, np.nan, False
            continue
        out["gamma"][i], out["amplitude"][i] = rate, A
        out["residual"][i] = float(np.sqrt(np.mean(fit.fun ** 2)) / abs(z[0]))
    out["pumping"] = W
    return out
