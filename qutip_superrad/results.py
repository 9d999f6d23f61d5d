"""Result objects shared by every solver.

All methods (``"full"``, ``"dicke"``, ``"cumulant"``) return the same result
types so that they can be compared field by field (see
:func:`qutip_superrad.cross_validate`).
"""
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SteadyStateResult", "EvolutionResult", "SpectrumResult", "Result", "TimeResult"]


@dataclass
class SteadyStateResult:
    """Steady state of a collective light–matter model.

    Attributes
    ----------
    method : str
        Solver that produced the result (``"full"``, ``"dicke"``, ``"cumulant"``...).
    photon_number : float
        Intracavity photon number ``⟨a†a⟩``.  For a model without a cavity mode
        (bad-cavity limit) this is the adiabatic estimate ``photon_flux/κ``.
    excited_population : ndarray, shape (M,)
        ``⟨σ⁺σ⁻⟩`` of one atom of each cluster.
    pair_correlation : ndarray, shape (M, M), complex
        ``⟨σ⁺_m σ⁻_j⟩`` for two *distinct* atoms of clusters ``m`` and ``j``.
        A cluster with a single atom has no distinct pair: its diagonal entry
        is 0.
    photon_flux : float
        Photons leaving the cavity per unit time, ``κ⟨a†a⟩`` (with a mode) or
        ``Γ_c⟨J⁺J⁻⟩`` (bad-cavity limit).
    g2 : float
        ``g⁽²⁾(0) = ⟨a†a†aa⟩/⟨a†a⟩²`` (``⟨J⁺J⁺J⁻J⁻⟩/⟨J⁺J⁻⟩²`` without a mode);
        ``nan`` when it is not computed by the method (see ``checks``).
    photon_distribution : ndarray or None
        ``P(n)`` for ``n = 0 … nphot−1`` (exact methods with a mode).
    checks : dict
        Diagnostics that were run: trace, hermiticity, positivity, residual,
        truncation, convergence...
    state : object
        The steady state itself (``Qobj`` for ``"full"``, :class:`DickeFockState`
        for ``"dicke"``, the vector of cumulants for ``"cumulant"``).
    model : object
        The model that was solved.
    """

    method: str
    photon_number: float
    excited_population: np.ndarray
    pair_correlation: np.ndarray
    photon_flux: float = float("nan")
    g2: float = float("nan")
    photon_distribution: np.ndarray = None
    checks: dict = field(default_factory=dict)
    state: object = None
    model: object = None

    @property
    def inversion(self):
        """Mean ``⟨σ_z⟩ = 2⟨σ⁺σ⁻⟩ − 1`` per cluster."""
        return 2 * np.asarray(self.excited_population) - 1

    def summary(self):
        """Return a dict of the scalar observables (for tables and JSON)."""
        return {
            "method": self.method,
            "photon_number": float(self.photon_number),
            "photon_flux": float(self.photon_flux),
            "excited_population": np.asarray(self.excited_population, float).tolist(),
            "pair_correlation_real": np.real(self.pair_correlation).tolist(),
            "pair_correlation_imag": np.imag(self.pair_correlation).tolist(),
            "g2": float(self.g2),
        }

    def __repr__(self):
        return (f"SteadyStateResult(method={self.method!r}, photon_number={self.photon_number:.6g}, "
                f"excited_population={np.round(self.excited_population, 6).tolist()})")


@dataclass
class EvolutionResult:
    """Time evolution of the observables of a model.

    Attributes
    ----------
    times : ndarray
        Times at which the observables were stored.
    photon_number : ndarray, shape (T,)
    excited_population : ndarray, shape (T, M)
    pair_correlation : ndarray, shape (T, M, M) or None
    method : str
    states : list or None
        States (if requested and available).
    checks : dict
    expect : dict
        ``{key: ⟨e_op⟩(t)}`` for the ``e_ops`` passed to ``evolve`` (keys ``0, 1, …``
        for a list, the dict's keys for a dict); empty otherwise.
    """

    times: np.ndarray
    photon_number: np.ndarray
    excited_population: np.ndarray
    pair_correlation: np.ndarray = None
    method: str = ""
    states: list = None
    checks: dict = field(default_factory=dict)
    expect: dict = field(default_factory=dict)


@dataclass
class SpectrumResult:
    """Emission spectrum ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} g⁽¹⁾(τ) dτ``.

    Attributes
    ----------
    omega : ndarray
        Frequencies (in the rotating frame of the model).
    S : ndarray
        Spectrum on ``omega``.
    linewidth : float
        Full width at half maximum of the main peak, refined beyond the grid.
    peak : float
        Position of the main peak, refined beyond the grid.
    n_peaks : int
        Number of distinct local maxima with a prominence above
        ``checks["peak_prominence"]`` of the maximum (default ``1e-3``; option
        ``prominence``).  With clusters the discretisation's own lines count
        too: see :func:`qutip_superrad.converge_clusters`.
    method : str
    evaluate : callable or None
        ``evaluate(omega)`` computes ``S`` at any frequencies.
    checks : dict
    steady_state : SteadyStateResult or None
        The steady state the correlation function started from (exact methods).
    """

    omega: np.ndarray
    S: np.ndarray
    linewidth: float
    peak: float
    n_peaks: int = 1
    method: str = ""
    evaluate: object = None
    checks: dict = field(default_factory=dict)
    steady_state: object = None

    def __repr__(self):
        dark = ", dark" if self.checks.get("dark") else ""
        return (f"SpectrumResult(method={self.method!r}, {np.size(self.omega)} frequencies "
                f"[{np.min(self.omega):.4g}, {np.max(self.omega):.4g}], "
                f"linewidth={self.linewidth:.6g}, peak={self.peak:.6g}, "
                f"n_peaks={self.n_peaks}{dark})")

    def plot(self, ax=None, **kwargs):
        """Plot ``S(ω)`` with the FWHM marked; returns the matplotlib axes."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(self.omega, self.S, **kwargs)
        smax = self.evaluate(np.array([self.peak]))[0] if self.evaluate else np.max(self.S)
        ax.axvspan(self.peak - self.linewidth / 2, self.peak + self.linewidth / 2,
                   color="0.9", zorder=0, label=f"FWHM = {self.linewidth:.4g}")
        ax.axhline(smax / 2, color="0.6", lw=0.8, ls=":")
        ax.set_xlabel("ω")
        ax.set_ylabel("S(ω)")
        ax.legend(frameon=False)
        return ax


def normalise_e_ops(e_ops):
    """``{key: operator}`` from ``None``, a single operator, a list (keys 0, 1, …) or a dict."""
    if e_ops is None:
        return {}
    if isinstance(e_ops, dict):
        return dict(e_ops)
    if isinstance(e_ops, (list, tuple)):
        return dict(enumerate(e_ops))
    return {0: e_ops}


class Result:
    """What every solver of a :class:`~qutip_superrad.Model` returns.

    Attributes
    ----------
    method : str
        The solver (``"full"``, ``"dicke"``, ``"manifold"``, ``"meanfield"``,
        ``"cumulant"``, ``"trajectories"``).
    model : Model
        The model that was solved.
    state : object
        The state in the representation of the method: a density-matrix
        ``Qobj`` (``full``), a :class:`~qutip_superrad.solvers.dicke.DickeFockState`
        (``dicke``, ``manifold``), a :class:`~qutip_superrad.cumulant.engine.CumulantState`
        (``meanfield``, ``cumulant``); ``None`` where no single state exists
        (``trajectories``).
    values : dict
        ``{key: ⟨e_op⟩}`` for the ``e_ops`` that were requested.
    checks : dict
        Diagnostics that were run (trace, residual, truncation, …).
    stats : dict
        Sizes and times (``dimension``, ``time``, …).
    """

    def __init__(self, method, model, state=None, values=None, checks=None, stats=None,
                 evaluator=None, e_ops=None):
        self.method = method
        self.model = model
        self.state = state
        self.values = dict(values or {})
        self.checks = dict(checks or {})
        self.stats = dict(stats or {})
        self.e_ops = dict(e_ops or {})
        self._evaluator = evaluator

    def expect(self, op):
        """``⟨op⟩``: an operator of the model's description, or a key of ``e_ops``.

        Operators that were not requested are computed from :attr:`state` (not
        possible for trajectories, which keep no state).
        """
        if not hasattr(op, "terms"):
            try:
                return self.values[op]
            except (KeyError, TypeError):
                raise KeyError(f"{op!r} is not one of the requested e_ops "
                               f"{list(self.values)}") from None
        for k, v in self.e_ops.items():
            if v is op:
                return self.values[k]
        if hasattr(self.model, "check_operator"):
            self.model.check_operator(op)
        if self._evaluator is None:
            raise ValueError(f"method {self.method!r} keeps no state: request the operator "
                             "in e_ops")
        return self._evaluator(op)

    def __repr__(self):
        vals = ", ".join(f"{k}={_fmt(v)}" for k, v in list(self.values.items())[:6])
        return f"{type(self).__name__}(method={self.method!r}, {vals})"


class TimeResult(Result):
    """Time evolution: ``values[key]`` is an array over :attr:`times`.

    Attributes
    ----------
    times : ndarray
    states : list or None
        States at ``times`` (exact methods).
    std : dict
        Standard error of the mean of each value (``trajectories``; empty otherwise).
    """

    def __init__(self, method, model, times, values, states=None, std=None, **kwargs):
        super().__init__(method, model, values=values, **kwargs)
        self.times = np.asarray(times)
        self.states = states
        self.std = dict(std or {})


def _fmt(v):
    v = np.asarray(v)
    if v.ndim == 0:
        return f"{complex(v).real:.6g}" if complex(v).imag == 0 else f"{complex(v):.6g}"
    return f"array{v.shape}"
