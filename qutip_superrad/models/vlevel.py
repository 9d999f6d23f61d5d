r"""Coherently driven V-level atoms: inversion of a narrow line, and a laser on it.

The model of C. Hotter, D. Plankensteiner and H. Ritsch, *Continuous narrowband
lasing with coherently driven V-level atoms*, Phys. Rev. Research 3, 013243
(2021), arXiv:2007.12522.  Three-level atoms in a V configuration — ground
state 1, narrow excited state 2 (the lasing transition, coupled to a cavity
mode ``a``), broad excited state 3 — with both transitions driven coherently.
In the frame rotating at the two pump frequencies (``Δ_i = ω_ℓi − ω_i``,
``Δc = ω_ℓ2 − ω_c``; ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``, ``σ_ik = |i⟩⟨k|``)::

    H = −Δc a†a + Σ_j g (a† σ^j_12 + a σ^j_21)
        + Σ_j Σ_{i=2,3} [ −Δ_i σ^j_ii + Ω_i (σ^j_i1 + σ^j_1i) ]
    dρ/dt = −i[H, ρ] + κ D[a]ρ + Σ_j (Γ_2 D[σ^j_12] + Γ_3 D[σ^j_13])ρ
            + ν_3 D[S_3]ρ + ν_2 D[a†a + S_2]ρ,           S_i = Σ_j σ^j_ii

**Pump linewidths.**  A pump laser of linewidth ν_i (white frequency noise,
``⟨φ̇(t)φ̇(t')⟩ = ν δ(t − t')``) that drives *all* atoms with the same phase
gives, in the frame that follows the pump phase, the *collective* dephasing
``ν_i D[S_i]`` (App. A of the paper; the cavity shares the frame of pump 2,
hence ``a†a + S_2``).  How it enters each method:

* exact methods (``full``) and cumulants: as that Lindblad term.  It damps a
  moment by ``½ ν m²``, ``m`` its charge under ``a†a + S_2`` (resp. ``S_3``):
  single-atom coherences ``σ_12`` decay at ``½ν_2`` exactly as with a local
  dephasing ``ν_2 D[σ_22]``, but atom–atom coherences ``⟨σ^1_21 σ^2_12⟩`` and
  ``⟨a σ_21⟩`` (charge 0) are *not* dephased — the difference from
  independent pump lasers per atom;
* one atom without a cavity (:func:`single_atom_inversion`): ``S_i = σ_ii``,
  collective and local dephasing coincide;
* the spectrum: in the frame of the pump the field inherits the pump's phase
  noise; :meth:`VLevelLaser.spectrum` is measured against a stable reference
  (the paper's "coherent frame", App. B).

**Cavity loss.**  ``kappa`` is the rate of ``κ D[a]`` (``⟨a†a⟩`` decays at
κ, FWHM κ).  The paper writes ``κ(2aρa† − a†aρ − ρa†a) = 2κ D[a]`` in its
eq. (6) ("photons leaking … at a rate 2κ", FWHM "≈ 2κ"), while its App. C
equations read ``d⟨a†a⟩/dt = −κ⟨a†a⟩ + …``.  Its figures follow eq. (6):
with the quoted ``κ = 50Γ_2`` as ``2κ D[a]`` (``kappa = 100Γ_2`` here) the
threshold lies at N ≈ 12 000 for ν = Γ_2 and n ≈ 1 050 photons at N = 50 000
(Fig. 5); read as ``κ D[a]`` the threshold would be N ≈ 6 500.
:meth:`VLevelLaser.strontium` therefore passes ``kappa = 2 · 50 Γ_2``.

**Which fixed point.**  The driven laser has no phase symmetry, so the
cumulant equations keep the first-order field ⟨a⟩.  Above threshold its
component at the lasing frequency can be weakly unstable at order 2 (a
mean-field lasing amplitude of arbitrary phase; e.g. growth 8e-4 Γ_3 at
N = 50 000), while the exact state has a diffusing phase and only the
coherently scattered pump light in ⟨a⟩.  The model's cumulant steady states
are therefore the phase-averaged fixed point (``accept="any"`` of the engine,
found by pseudo-transient continuation; physical: real, non-negative
populations), with its largest growth rate in
``result.checks["solver"]["max_growth_rate"]``.

All rates are in units of your choice; the constructors :meth:`VLevelLaser.strontium`
and :meth:`VLevelLaser.ytterbium` use ``Γ_3 = 1`` as the paper.
"""
from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np

from .._progress import progress as _progress
from .._validate import PROGRESS_RENAMES, check_rate, check_real, renamed_keywords

__all__ = ["VLevelLaser", "single_atom_inversion", "single_atom_evolution", "rise_time",
           "single_atom_spectrum", "STRONTIUM_RATIO", "YTTERBIUM_RATIO", "SEED_PUMP"]

#: Γ_3/Γ_2 of ⁸⁸Sr: 2π·32 MHz (¹S₀–¹P₁) over 2π·7.5 kHz (¹S₀–³P₁), as in the paper.
STRONTIUM_RATIO = 4266.0
#: Γ_3/Γ_2 of ¹⁷⁴Yb for the same pair of transitions (the paper's Sec. II).
YTTERBIUM_RATIO = 160.0
#: The paper's pump point in units of Γ_3 (Figs 2–8): Δ_2 = 5, Δ_3 = −1, Ω_2 = Ω_3 = 0.5.
SEED_PUMP = dict(Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5)


# --------------------------------------------------------------------------
# one atom, no cavity: batched 9×9 Liouvillians
# --------------------------------------------------------------------------

_ATOM_NAMES = ("Delta2", "Delta3", "Omega2", "Omega3", "Gamma2", "Gamma3", "nu2", "nu3")
_ATOM_RATES = {"Gamma2", "Gamma3", "nu2", "nu3"}


def _pump_arrays(*values):
    """The eight single-atom parameters (order of ``_ATOM_NAMES``) validated and broadcast."""
    arrays = []
    for name, v in zip(_ATOM_NAMES, values):
        a = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite, got {v!r}")
        if name in _ATOM_RATES and np.any(a < 0):
            raise ValueError(f"{name} must be a rate >= 0, got {v!r}")
        arrays.append(a)
    try:
        arrays = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError("the parameters must broadcast to one shape, got shapes "
                         + ", ".join(f"{n}{np.shape(a)}" for n, a in zip(_ATOM_NAMES, arrays))) from None
    if np.any(arrays[4] + arrays[5] == 0):
        raise ValueError("Gamma2 + Gamma3 must be > 0 (without decay the steady state is not unique)")
    return arrays


def _liouvillians(Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3):
    """``L`` of shape ``(..., 9, 9)`` acting on ``vec(ρ)`` (row-major, index 0 = level 1)."""
    shape = Delta2.shape
    H = np.zeros(shape + (3, 3), complex)
    H[..., 1, 1] = -Delta2
    H[..., 2, 2] = -Delta3
    H[..., 1, 0] = H[..., 0, 1] = Omega2
    H[..., 2, 0] = H[..., 0, 2] = Omega3
    eye = np.eye(3)
    # row-major vec: vec(AρB) = (A ⊗ Bᵀ) vec(ρ)
    L = -1j * (np.einsum("...ij,kl->...ikjl", H, eye) - np.einsum("ij,...lk->...ikjl", eye, H))
    for rate, (i, j) in ((Gamma2, (0, 1)), (Gamma3, (0, 2)), (nu2, (1, 1)), (nu3, (2, 2))):
        C = np.zeros((3, 3))
        C[i, j] = 1.0
        CdC = C.T @ C
        D = (np.einsum("ij,kl->ikjl", C, C) - 0.5 * np.einsum("ij,kl->ikjl", CdC, eye)
             - 0.5 * np.einsum("ij,kl->ikjl", eye, CdC))
        L = L + np.asarray(rate)[..., None, None, None, None] * D
    return L.reshape(shape + (9, 9))


def _single_atom(*values):
    """Batched Liouvillians for the eight parameters (order of ``_ATOM_NAMES``)."""
    return _liouvillians(*_pump_arrays(*values))


_TRACE = np.array([0, 4, 8])
_CHUNK = 4096      # 4096 · 81 · 16 B = 5 MB per block of Liouvillians


def _steady_states(L):
    """``ρ_ss`` of shape ``(..., 3, 3)`` for Liouvillians ``(..., 9, 9)``: ``Lρ = 0``, ``Tr ρ = 1``."""
    shape = L.shape[:-2]
    flat = L.reshape(-1, 9, 9)
    out = np.empty((flat.shape[0], 9), complex)
    rhs = np.zeros(9, complex)
    rhs[0] = 1.0
    for s in range(0, flat.shape[0], _CHUNK):
        A = flat[s:s + _CHUNK].copy()
        A[:, 0, :] = 0.0
        A[:, 0, _TRACE] = 1.0          # replace one (redundant) equation by the trace
        out[s:s + _CHUNK] = np.linalg.solve(A, np.broadcast_to(rhs, A.shape[:-1])[..., None])[..., 0]
    return out.reshape(shape + (3, 3))


def single_atom_inversion(Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5, *,
                          Gamma2=1.0 / STRONTIUM_RATIO, Gamma3=1.0, nu2=0.0, nu3=0.0,
                          populations=False):
    """Steady-state inversion ``⟨σ_22⟩ − ⟨σ_11⟩`` of one driven V-level atom (no cavity).

    The paper's eqs. (1)–(4): ``H = Σ_{i=2,3} −Δ_i σ_ii + Ω_i(σ_i1 + σ_1i)``,
    decays ``Γ_i D[σ_1i]`` and pump-linewidth dephasing ``ν_i D[σ_ii]``.  All
    arguments broadcast (NumPy rules), so that maps over two parameters are
    one call (Fig. 2: ``Delta2[:, None], Delta3[None, :]``).  Each point is a
    direct 9×9 solve, batched.

    Parameters
    ----------
    Delta2, Delta3 : float or array_like
        Pump detunings ``Δ_i = ω_ℓi − ω_i`` (default: the paper's 5, −1 in
        units of Γ_3).
    Omega2, Omega3 : float or array_like
        Rabi frequencies (default 0.5 Γ_3).
    Gamma2, Gamma3 : float or array_like, keyword-only
        Decay rates of levels 2, 3 (default ⁸⁸Sr: ``Γ_3 = 1``, ``Γ_2 = 1/4266``).
    nu2, nu3 : float or array_like, keyword-only
        Pump linewidths (dephasing rates), default 0.
    populations : bool, default False
        Also return the populations ``(p1, p2, p3)``.

    Returns
    -------
    ndarray or (ndarray, ndarray)
        The inversion, of the broadcast shape; with ``populations=True`` also
        an array of shape ``(3,) + shape``.

    Examples
    --------
    >>> from qutip_superrad.models.vlevel import single_atom_inversion
    >>> round(float(single_atom_inversion()), 4)           # the paper's pump point
    0.6783
    """
    rho = _steady_states(_single_atom(Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3))
    p = np.moveaxis(np.real(np.diagonal(rho, axis1=-2, axis2=-1)), -1, 0)
    inversion = p[1] - p[0]
    return (inversion, p) if populations else inversion


def single_atom_evolution(tlist, Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5, *,
                          Gamma2=1.0 / STRONTIUM_RATIO, Gamma3=1.0, nu2=0.0, nu3=0.0):
    """Inversion ``⟨σ_22⟩ − ⟨σ_11⟩ (t)`` of one atom starting in the ground state (Fig. 3b).

    Exact: ``ρ(t) = e^{Lt} ρ(0)`` by the eigen-decomposition of each 9×9
    Liouvillian (batched over the broadcast parameters).

    Parameters
    ----------
    tlist : array_like
        Times ``≥ 0``.
    Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3
        As for :func:`single_atom_inversion`.

    Returns
    -------
    ndarray
        Shape ``(len(tlist),) + broadcast shape``.
    """
    t = np.asarray(tlist, dtype=float)
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("tlist must be a 1-D array of finite times >= 0")
    L = _single_atom(Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3)
    shape = L.shape[:-2]
    lam, V = np.linalg.eig(L.reshape(-1, 9, 9))
    rho0 = np.zeros(9, complex)
    rho0[0] = 1.0
    c = np.linalg.solve(V, np.broadcast_to(rho0, lam.shape)[..., None])[..., 0]   # (B, 9)
    obs = np.zeros(9)
    obs[4], obs[0] = 1.0, -1.0                                           # ρ22 − ρ11
    w = (obs @ V) * c                                                    # (B, 9)
    out = np.real(np.einsum("bk,tbk->tb", w, np.exp(t[:, None, None] * lam[None])))
    return out.reshape((t.size,) + shape)


def rise_time(fraction=0.95, Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5, *,
              Gamma2=1.0 / STRONTIUM_RATIO, Gamma3=1.0, nu2=0.0, nu3=0.0, t_max=None):
    """Time at which the inversion first exceeds ``fraction`` of its steady value (``t_95``).

    The paper's ``t_95`` (Sec. II B, Fig. 3b) for one atom starting in the
    ground state: the first time with ``⟨σ_22⟩ − ⟨σ_11⟩ ≥ fraction · (steady
    value)``.  Defined only where the steady state is inverted.

    Parameters
    ----------
    fraction : float, default 0.95
        In ``(0, 1)``.
    Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3
        As for :func:`single_atom_inversion` (broadcast).
    t_max : float, optional
        Search window (default ``50 / Γ_2``).

    Returns
    -------
    ndarray
        ``t_95`` per parameter point.

    Raises
    ------
    ValueError
        If a point has no steady-state inversion (``≤ 0``), or the threshold
        is not reached before ``t_max``.
    """
    from scipy.optimize import brentq

    fraction = check_real("fraction", fraction)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    arrays = _pump_arrays(Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3)
    shape = arrays[0].shape
    flat = [a.ravel() for a in arrays]
    inv_ss = single_atom_inversion(*flat[:4], Gamma2=flat[4], Gamma3=flat[5], nu2=flat[6],
                                   nu3=flat[7])
    if np.any(inv_ss <= 0):
        raise ValueError("rise_time needs an inverted steady state; not inverted (⟨σ22⟩−⟨σ11⟩ "
                         f"≤ 0) at {np.count_nonzero(inv_ss <= 0)} of {inv_ss.size} points")
    t_max = 50.0 / float(np.min(flat[4])) if t_max is None else check_real("t_max", t_max)
    # log grid from a fraction of the fast (Γ_3) time to t_max, then a bracketed root
    grid = np.concatenate([[0.0], np.geomspace(1e-3 / float(np.max(flat[5])), t_max, 4000)])
    out = np.empty(inv_ss.size)
    for k in range(inv_ss.size):
        p = [q[k] for q in flat]
        inv_t = lambda t: single_atom_evolution(np.atleast_1d(t), *p[:4], Gamma2=p[4],
                                                Gamma3=p[5], nu2=p[6], nu3=p[7])
        target = fraction * inv_ss[k]
        above = np.nonzero(inv_t(grid) >= target)[0]
        if above.size == 0:
            raise ValueError(f"the inversion does not reach {fraction} of its steady value "
                             f"before t_max = {t_max:.3g}")
        i = above[0]
        out[k] = 0.0 if i == 0 else brentq(lambda t: float(inv_t(t)[0]) - target,
                                           grid[i - 1], grid[i], xtol=1e-12 * grid[i])
    return out.reshape(shape) if shape else float(out[0])


def single_atom_spectrum(omega, Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5, *,
                         Gamma2=1.0 / STRONTIUM_RATIO, Gamma3=1.0, nu2=0.0, nu3=0.0):
    """Emission spectrum of the narrow transition of one driven atom (Fig. 4).

    ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨δσ_21(τ) δσ_12(0)⟩ dτ`` by the quantum
    regression theorem on the 9×9 Liouvillian (the coherently scattered
    part ``|⟨σ_12⟩|²`` is removed: it is a delta peak at the pump frequency,
    its weight is in ``checks["coherent"]``).  ``ω`` is measured from the
    bare atomic line ``ω_2`` (the rotating frame's ``ω' = ω − ω_2 − Δ_2``).

    Parameters
    ----------
    omega : array_like
        Frequencies ``ω − ω_2``, increasing.
    Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3 : float
        As for :func:`single_atom_inversion` (scalars).

    Returns
    -------
    SpectrumResult
        ``S``, ``linewidth`` (FWHM of the highest peak: the power-broadened
        gain line, Γ_2^gain) and ``peak``; ``checks["poles"]`` and
        ``checks["residues"]``.
    """
    from ..spectrum import pole_spectrum
    from .._validate import check_grid

    omega = check_grid("omega", omega)
    vals = [check_real(n, v) for n, v in zip(("Delta2", "Delta3", "Omega2", "Omega3"),
                                             (Delta2, Delta3, Omega2, Omega3))]
    L = _single_atom(*vals, Gamma2, Gamma3, nu2, nu3)
    rho = _steady_states(L).reshape(9)
    # σ_12 = |1⟩⟨2| acting from the left on ρ: (σ12 ρ)_{0k} = ρ_{1k}
    s12 = np.zeros((3, 3))
    s12[0, 1] = 1.0
    R = rho.reshape(3, 3)
    mean12 = np.trace(s12 @ R)
    u0 = (s12 @ R - mean12 * R).reshape(9)          # δσ_12 ρ
    lam, V = np.linalg.eig(L)
    c = np.linalg.solve(V, u0)
    s21 = s12.T
    e = s21.T.reshape(9)                             # Tr[σ_21 X] = Σ (σ_21)ᵀ ⊙ X
    res = (e @ V) * c
    keep = np.abs(lam) > 1e-12 * np.max(np.abs(lam))   # the steady mode carries no weight
    lam, res = lam[keep], res[keep]
    shift = vals[0]                                  # lab frequency − ω_2 = ω' + Δ_2
    return pole_spectrum(omega, lam, res, "exact single atom", hints=lam.imag + shift,
                         checks={"coherent": abs(mean12) ** 2}, shift=shift)


# --------------------------------------------------------------------------
# atoms in a cavity: the model description and the laser
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _template():
    """The symbolic V-level laser and its observables, built once: every laser's
    description is this structure with its numbers (:meth:`Model.with_values`), so that
    derived equations and bound solvers are shared between lasers."""
    from ..cumulant.engine.algebra import Mode, parameters
    from ..cumulant.engine.clusters import Clusters
    from ..model import Model

    a = Mode("a")
    atoms = Clusters("s", levels=3)
    t = atoms.atom
    Dc, g, k, D2, D3, O2, O3, G2, G3, n2, n3 = parameters(
        "Delta_c g kappa Delta2 Delta3 Omega2 Omega3 Gamma2 Gamma3 nu2 nu3")
    H = -Dc * a.num() + atoms.sum(g * (a.adag * t.s(1, 2) + a.a * t.s(2, 1))
                                  - D2 * t.s(2, 2) - D3 * t.s(3, 3)
                                  + O2 * (t.s(2, 1) + t.s(1, 2)) + O3 * (t.s(3, 1) + t.s(1, 3)))
    S1, S2, S3 = (atoms.sum(t.s(i, i)) for i in (1, 2, 3))
    jumps = [(k, a.a), (G2, atoms.each(t.s(1, 2))), (G3, atoms.each(t.s(1, 3))),
             (n3, S3), (n2, a.num() + S2)]
    values = dict.fromkeys(VLevelLaser._NAMES, 1.0)
    model = Model(H, jumps, parameters=values, N=1, name="V-level laser")
    ops = {"photon_number": a.num(), "field": a.a, "S1": S1, "S2": S2, "S3": S3,
           "inversion": atoms.sum(t.s(2, 2) - t.s(1, 1)), "coherence": atoms.sum(t.s(1, 2))}
    return model, ops


def _description(N, params):
    """:class:`~qutip_superrad.Model` of N atoms (one cluster) and the observables."""
    model, ops = _template()
    return model.with_values(N=N, **params), dict(ops)


class VLevelLaser:
    r"""N coherently driven V-level atoms in a cavity (Hotter, Plankensteiner, Ritsch 2021).

    See the module docstring for the master equation.  The instance holds
    the numbers; :meth:`description` is the model as a
    :class:`~qutip_superrad.Model`, solvable by every method that fits it
    (``full`` for a few atoms, ``meanfield``, ``cumulant`` at any order for
    any N — the cost does not grow with N).

    Parameters
    ----------
    N : int or float
        Number of atoms (non-integer allowed for the cumulant methods).
    g : float
        Cavity coupling of the narrow transition 1 ↔ 2.
    kappa : float
        Cavity loss rate of ``κ D[a]`` (the paper's eq. (6) κ is half of it; module notes).
    Delta_c : float, optional
        ``Δc = ω_ℓ2 − ω_c``; default ``Delta2`` (cavity resonant with the
        bare narrow line, ``ω_c = ω_2``).
    Delta2, Delta3, Omega2, Omega3 : float
        Pump detunings and Rabi frequencies (default the paper's 5, −1, 0.5,
        0.5 in units of Γ_3).
    Gamma2, Gamma3 : float
        Decay rates of the narrow and the broad excited state (default ⁸⁸Sr,
        ``Γ_3 = 1``, ``Γ_2 = 1/4266``).
    nu2, nu3 : float
        Pump linewidths: collective dephasing ``ν_2 D[a†a + S_2]``,
        ``ν_3 D[S_3]``.

    Examples
    --------
    The paper's Fig. 5 point at N = 20 000 (above threshold), second-order cumulants:

    >>> import qutip_superrad as qsr
    >>> laser = qsr.VLevelLaser.strontium(20000, nu=1 / 4266)
    >>> res = laser.steadystate()
    >>> round(res.values["photon_number"]), round(res.values["inversion"] / 20000, 3)
    (204, 0.434)
    """

    _NAMES = ("g", "kappa", "Delta_c", "Delta2", "Delta3", "Omega2", "Omega3", "Gamma2",
              "Gamma3", "nu2", "nu3")
    _RATES = ("kappa", "Gamma2", "Gamma3", "nu2", "nu3")

    def __init__(self, N, *, g, kappa, Delta_c=None, Delta2=5.0, Delta3=-1.0, Omega2=0.5,
                 Omega3=0.5, Gamma2=1.0 / STRONTIUM_RATIO, Gamma3=1.0, nu2=0.0, nu3=0.0):
        if isinstance(N, bool) or not isinstance(N, numbers.Real) or not np.isfinite(N) or N < 1:
            raise ValueError(f"N must be a number of atoms >= 1, got {N!r}")
        self.N = float(N) if float(N) != int(N) else int(N)
        values = dict(g=g, kappa=kappa, Delta_c=Delta2 if Delta_c is None else Delta_c,
                      Delta2=Delta2, Delta3=Delta3, Omega2=Omega2, Omega3=Omega3, Gamma2=Gamma2,
                      Gamma3=Gamma3, nu2=nu2, nu3=nu3)
        for name, v in values.items():
            values[name] = (check_rate(name, v) if name in self._RATES else check_real(name, v))
        self._values = values
        self._model = None

    # -- constructors --------------------------------------------------------
    @classmethod
    def strontium(cls, N, *, nu=0.0, ratio=STRONTIUM_RATIO, **changes):
        """The paper's Fig. 5–7 laser in units of ``Γ_3 = 1``.

        ``Γ_2 = Γ_3/ratio`` (⁸⁸Sr: 4266), ``g = 2Γ_2``, the paper's ``κ = 50Γ_2``
        of its eq. (6), i.e. ``kappa = 100Γ_2`` in ``κ D[a]`` (module notes), the pump
        point of :data:`SEED_PUMP`, cavity resonant with the bare narrow line
        (``Δc = Δ_2``) and both pump linewidths ``ν_2 = ν_3 = nu`` (the Fig. 5
        caption's "ν ≡ ν_1 = ν_2" means the two pumps).  ``changes`` override
        any keyword of the class.
        """
        ratio = check_real("ratio", ratio)
        if ratio < 1:
            raise ValueError(f"ratio = Γ3/Γ2 must be >= 1 (level 3 is the broad transition), "
                             f"got {ratio}")
        G2 = 1.0 / ratio
        kw = dict(g=2 * G2, kappa=2 * 50 * G2, Gamma2=G2, Gamma3=1.0, nu2=nu, nu3=nu, **SEED_PUMP)
        kw.update(changes)
        return cls(N, **kw)

    @classmethod
    def ytterbium(cls, N, *, nu=0.0, **changes):
        """As :meth:`strontium` with ¹⁷⁴Yb's ``Γ_3/Γ_2 ≈ 160`` (the paper's Sec. II)."""
        return cls.strontium(N, nu=nu, ratio=YTTERBIUM_RATIO, **changes)

    # -- the description -------------------------------------------------------
    @property
    def parameters(self):
        """Values of every parameter (a copy)."""
        return dict(self._values)

    def with_values(self, N=None, **changes):
        """A copy with some parameters changed (``Delta_c`` is kept unless given)."""
        unknown = set(changes) - set(self._NAMES)
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; known: {list(self._NAMES)}")
        return VLevelLaser(self.N if N is None else N, **dict(self._values, **changes))

    def description(self):
        """The model as a :class:`~qutip_superrad.Model` (with its values)."""
        if self._model is None:
            self._model = _description(self.N, self._values)
        return self._model[0]

    @property
    def observables(self):
        """Operators of the description: ``photon_number``, ``field`` (``a``),
        ``S1``/``S2``/``S3`` (level populations summed over atoms),
        ``inversion`` (``S_2 − S_1``), ``coherence`` (``Σ_j σ^j_12``)."""
        self.description()
        return dict(self._model[1])

    def __repr__(self):
        v = self._values
        return (f"VLevelLaser(N={self.N}, g={v['g']:.4g}, kappa={v['kappa']:.4g}, "
                f"Delta2={v['Delta2']:.4g}, Delta3={v['Delta3']:.4g}, Omega2={v['Omega2']:.4g}, "
                f"Omega3={v['Omega3']:.4g}, nu2={v['nu2']:.4g}, nu3={v['nu3']:.4g})")

    # -- solving ------------------------------------------------------------
    def steadystate(self, method="cumulant", *, e_ops=None, options=None, **kwargs):
        """Steady state by any method of :func:`qutip_superrad.steadystate`.

        ``e_ops`` defaults to :attr:`observables`.  ``method="cumulant"``
        (order 2 unless ``order=``) works for any N; ``"full"`` needs
        ``nphot`` and a few atoms.

        Returns
        -------
        Result
            ``values["photon_number"]``, ``values["inversion"]`` (summed over
            atoms), …, ``values["coherent_photons"]`` (``|⟨a⟩|²``).
        """
        return self.generic_call(method, e_ops, dict(options or {}, **kwargs)).steadystate(method)

    def generic_call(self, method="cumulant", observables=None, options=None):
        """:meth:`steadystate` as a call of the generic solvers (what it runs, and what a
        sweep's grid path rebinds per point: decision 39 of ``docs/architecture.md``).

        Parameters
        ----------
        method : str
        observables : sequence of str, or e_ops, optional
            Names of :attr:`observables` and ``"coherent_photons"`` (``|⟨a⟩|²``), or
            operators of the description as ``e_ops``; default every observable.
        options : dict, optional
            As for :meth:`steadystate`.

        Returns
        -------
        qutip_superrad.solvers.GenericCall

        Raises
        ------
        ValueError
            An unknown observable name.
        """
        from ..solvers import GenericCall
        ops = self.observables
        if isinstance(observables, str):
            observables = (observables,)
        if (isinstance(observables, (list, tuple)) and observables
                and all(isinstance(o, str) for o in observables)):
            known = list(ops) + ["coherent_photons"]
            unknown = [o for o in observables if o not in known]
            if unknown:
                raise ValueError(f"observables {unknown} are not observables of the V-level "
                                 f"laser; known: {known}")
            # |⟨a⟩|² is read from the field
            wanted = [("field" if o == "coherent_photons" else o) for o in observables]
            observables = {o: ops[o] for o in wanted}
        return GenericCall(self.description(), self._e_ops(observables),
                           self._steadystate_options(method, dict(options or {})),
                           self._with_coherent)

    @staticmethod
    def _steadystate_options(method, opts):
        """``opts`` with the cumulant methods' default ``accept="any"``: the phase-averaged
        fixed point (module notes), unless asked otherwise."""
        if method in ("cumulant", "meanfield"):
            ss = dict(opts.get("steadystate") or {})
            ss.setdefault("accept", "any")
            opts = dict(opts, steadystate=ss)
        return opts

    @staticmethod
    def _with_coherent(res):
        """``res`` with ``values["coherent_photons"] = |⟨a⟩|²`` when the field is known."""
        if "field" in res.values:
            res.values["coherent_photons"] = abs(res.values["field"]) ** 2
        return res

    def evolve(self, tlist, method="cumulant", *, initial=None, e_ops=None, options=None,
               **kwargs):
        """Time evolution (from all atoms in level 1 and the vacuum unless ``initial``)."""
        from ..solvers import evolve
        return evolve(self.description(), tlist, method, initial=initial,
                      e_ops=self._e_ops(e_ops), options=options, **kwargs)

    def spectrum(self, omega, method="cumulant", *, frame="stable", state=None, options=None,
                 **kwargs):
        """Cavity output spectrum ``S(ω)`` (Fig. 7), ``ω`` measured from the bare line ω_2.

        ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨δa†(τ) δa(0)⟩ dτ`` by the quantum regression
        theorem (the coherently scattered pump light ``|⟨a⟩|²`` is removed and
        reported in ``checks["coherent"]``).

        Parameters
        ----------
        omega : array_like
            Frequencies ``ω − ω_2`` (increasing).
        method : {"cumulant", "full"}
            ``"cumulant"`` (order 2 unless ``order=``) for any N.
        frame : {"stable", "pump"}
            ``"stable"`` (default): against a monochromatic reference — the
            paper's "coherent frame" (App. B), what a spectrum analyser sees;
            the pump-2 phase noise then enters only through the drive.
            ``"pump"``: in the frame that follows the pump phase (the model's
            frame), where the field is dephased by ``ν_2`` as well.  Without
            pump linewidth the two agree.  (``"stable"`` needs a cumulant method.)
        state : Result, optional
            A cumulant steady state of this laser, to reuse.

        Returns
        -------
        SpectrumResult
            ``linewidth`` (FWHM) and ``peak`` (position relative to ω_2).
        """
        from ..results import SpectrumResult
        from ..solvers import spectrum
        from .._validate import check_grid

        omega = check_grid("omega", omega)
        if frame not in ("stable", "pump"):
            raise ValueError(f"frame must be 'stable' or 'pump', got {frame!r}")
        model = self.description()
        opts = dict(options or {}, **kwargs)
        if method in ("cumulant", "meanfield"):
            if state is None:
                state = self.steadystate(method, e_ops={}, options=opts)
            opts["state"] = state
            if frame == "stable" and self._values["nu2"] > 0:
                opts["reference"] = {"rate": "nu2", "charges": {
                    model.modes[0]: 1, model.clusters: (0, 1, 0)}}
        elif frame == "stable" and self._values["nu2"] > 0:
            raise ValueError("frame='stable' with a pump linewidth needs method='cumulant'; "
                             "use frame='pump' for the exact methods")
        shift = self._values["Delta2"]        # ω − ω_2 = ω' + Δ_2 (frame of pump 2)
        res = spectrum(model, omega - shift, method, options=opts)
        inner = res.evaluate
        return SpectrumResult(omega=omega, S=res.S, linewidth=res.linewidth, peak=res.peak + shift,
                              n_peaks=res.n_peaks, method=res.method,
                              evaluate=inner.shifted(shift),
                              checks=dict(res.checks, frame=frame),
                              steady_state=getattr(res, "steady_state", None))

    def _e_ops(self, e_ops):
        return self.observables if e_ops is None else e_ops

    @renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
    def scan(self, values, method="cumulant", *, e_ops=None, progress_bar=True, warm_start=True,
             **options):
        """Steady states along a path in parameter space (Figs. 5 and 6).

        Parameters
        ----------
        values : dict
            ``{name: array}`` of equal length; ``N`` and any parameter of the
            class.  ``{"Delta2": D, "Delta_c": D}`` keeps the cavity on the
            bare line while the pump detuning changes (Fig. 6a).
        method : str, default "cumulant"
        e_ops : dict, optional
            Default :attr:`observables`.
        progress_bar : None, bool or str
            QuTiP's values: None/False/"" off, True/"text", "enhanced", "tqdm"
            (formerly ``progress``, deprecated).
            Progress bar on stderr.
        warm_start : bool, default True
            Start Newton at each cumulant steady state from the previous point's
            (a continuation: the root is accepted under the steady-state solver's
            conditions, otherwise the point is solved from scratch).  The cumulant
            methods solve the whole path with one bound solver
            (:class:`~qutip_superrad.solvers.BoundSolver`: the equations are built
            once, each point rebinds the numbers, ``N`` included);
            ``results[i].checks["solver"]["continued"]`` says which points continued.
        **options
            Options of the method (``order``, ``nphot``, …).

        Returns
        -------
        dict
            ``{name: array}`` for the scanned values and every observable
            (plus ``coherent_photons``), and ``"results"``: the list of
            :class:`~qutip_superrad.Result`.
        """
        if not isinstance(values, dict) or not values:
            raise TypeError("values must be a non-empty dict {parameter: array}")
        arrays = {}
        for k, v in values.items():
            if k != "N" and k not in self._NAMES:
                raise ValueError(f"unknown parameter {k!r}; known: N, {', '.join(self._NAMES)}")
            arrays[k] = np.atleast_1d(np.asarray(v, dtype=float))
        sizes = {a.size for a in arrays.values()}
        if len(sizes) != 1 or any(a.ndim != 1 for a in arrays.values()):
            raise ValueError("the arrays in values must be 1-D and of one length, got "
                             + ", ".join(f"{k}{a.shape}" for k, a in arrays.items()))
        n = sizes.pop()
        O2 = arrays.get("Omega2", np.full(n, self._values["Omega2"]))
        O3 = arrays.get("Omega3", np.full(n, self._values["Omega3"]))
        if np.any((O2 == 0) & (O3 == 0)):
            warnings.warn("Omega2 = Omega3 = 0 at some points of the scan: without pump the atoms "
                          "stay in the ground state, there is no gain and no threshold",
                          UserWarning, stacklevel=2)
        bound = None
        if method in ("cumulant", "meanfield"):
            from ..solvers import BoundSolver
            bound = BoundSolver(self.description(), method, "steadystate",
                                options=self.generic_call(method, e_ops, options).options)
        results, prev = [], None
        for i in _progress(range(n), desc=f"{method} scan", progress_bar=progress_bar):
            point = {k: a[i] for k, a in arrays.items()}
            N = point.pop("N", None)
            laser = self.with_values(N=N, **point)
            if bound is None:
                res = laser.steadystate(method, e_ops=e_ops, **options)
            else:
                call = laser.generic_call(method, e_ops, options)
                res = call.finish(bound.steadystate(call.model, call.e_ops,
                                                    prev if warm_start else None))
            results.append(res)
            prev = res
        out = {k: a for k, a in arrays.items()}
        for key in results[0].values:
            out[key] = np.array([r.values[key] for r in results])
            if np.allclose(np.imag(out[key]), 0, atol=1e-10 * max(1.0, np.max(np.abs(out[key])))):
                out[key] = np.real(out[key])
        out["results"] = results
        return out
