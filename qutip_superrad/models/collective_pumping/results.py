"""Result types of collectively pumped superradiance (seed 003).

Contents
--------
* :class:`PumpingSteadyState` — :meth:`CollectivePumping.steadystate`.
* :class:`PumpingEvolution` — :meth:`CollectivePumping.evolve`.
* :class:`HysteresisLoop` — :func:`hysteresis_loop` (up and down scans).
* :class:`ThreeLevelSteadyState` — :func:`three_level_pumping` (App. B).
"""
from dataclasses import dataclass, field

import numpy as np

from ..._validate import renamed_attribute
from .closed_forms import thermal_jz

__all__ = ["PumpingSteadyState", "PumpingEvolution", "HysteresisLoop", "ThreeLevelSteadyState"]


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
    state : qutip.Qobj, DickeFockState or None
        Density matrix (QuTiP ordering, descending ``m``; Dicke basis of
        :mod:`qutip.piqs` for ``method="piqs"``); for ``method="dicke"`` the
        :class:`~qutip_superrad.solvers.dicke.DickeFockState` of the generic
        solver (degeneracy-weighted Dicke elements; ``state.expect(op)`` for
        any operator of :meth:`CollectivePumping.description`).
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
    collective_emission : float
        Collective decay rate ``γ`` (formerly ``gamma``; the old attribute
        still reads, with a ``FutureWarning``).
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
    collective_emission: float
    var_up: np.ndarray = None
    var_down: np.ndarray = None

    gamma = renamed_attribute("gamma", "collective_emission")

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
        x_up = (self.w_up / self.collective_emission - 1) * self.N / 2
        x_dn = (self.w_down / self.collective_emission - 1) * self.N / 2
        ax.plot(x_up, self.jz_up / (self.N / 2), "C3-", label="scan up")
        ax.plot(x_dn, self.jz_down / (self.N / 2), "C3--", label="scan down")
        if steady:
            w = np.linspace(min(self.w_up.min(), self.w_down.min()),
                            max(self.w_up.max(), self.w_down.max()), 400)
            with np.errstate(divide="ignore"):
                jz = thermal_jz(self.N, -np.log(w / self.collective_emission))
            ax.plot((w / self.collective_emission - 1) * self.N / 2, jz / (self.N / 2), "C0:",
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
