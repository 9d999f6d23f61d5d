"""Convergence of cluster models in the number of clusters ``M``.

A continuous distribution of atoms (inhomogeneous detunings, spatially varying
couplings) enters the cumulant method as ``M`` clusters.  That discretisation is
an approximation of its own: the spectrum of ``M`` clusters is a sum of ``M``
lines, and quantities defined by the *shape* of the spectrum (number of peaks,
the critical pump ``R_c`` above which it has a single peak) may follow the
spacing of the cluster lines instead of the physics.  :func:`converge_clusters`
refines the discretisation of the same distribution (same range) until the
requested observables stop changing, and reports the table.

See ``docs/cluster_convergence.md`` ("Is my cluster model converged?").
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._progress import check_progress_bar
from ._validate import (PROGRESS_RENAMES, check_grid, check_int, check_real,
                        renamed_keywords)
from .spectrum import check_prominence

__all__ = ["converge_clusters", "ClusterConvergence", "OBSERVABLES", "next_cluster_number",
           "fixed_m_check"]

#: observables :func:`converge_clusters` can follow, with how their change is measured
OBSERVABLES = {
    "photon_number": "relative change of ⟨a†a⟩",
    "linewidth": "relative change of the FWHM of the main peak",
    "peak": "change of the main-peak position in units of the spread σ of the detunings "
            "(of the first linewidth if the detunings do not spread)",
    "n_peaks": "change of the number of peaks (must be exactly 0)",
    "critical_pump": "relative change of R_c (critical_pump: single peak above R_c; "
                     "recorded as 0 when single-peaked already at the lower end of pump_range)",
}
_ALIASES = {"R_c": "critical_pump", "Rc": "critical_pump", "photons": "photon_number",
            "fwhm": "linewidth", "peak_position": "peak"}
_SPECTRAL = ("linewidth", "peak", "n_peaks")


def fixed_m_check(n_clusters, distribution):
    """The ``checks["clusters"]`` entry of a result computed at fixed ``M = n_clusters``.

    A dict with ``M``, ``discretised`` (True if the clusters discretise the known
    ``distribution``), ``checked`` (False: convergence in ``M`` was not checked — use
    :func:`converge_clusters`, whose converged result carries ``checked=True``),
    ``converged`` (None) and a ``note``.
    """
    M = int(n_clusters)
    if distribution is None:
        note = (f"{M} clusters given explicitly (no distribution recorded): whether they "
                "resolve a continuous distribution was not checked")
        return {"M": M, "discretised": False, "checked": False, "converged": None,
                "note": note}
    return {"M": M, "discretised": True, "distribution": repr(distribution),
            "placement": distribution.placement, "checked": False, "converged": None,
            "note": f"computed at fixed M = {M}: convergence in the number of clusters was "
                    "not checked (qutip_superrad.convergence.converge_clusters)"}


def next_cluster_number(M, placement="bins"):
    """The next ``M`` of the refinement: ``2M − 1`` for odd ``M ≥ 3`` with equally spaced
    bins (the old cluster detunings are kept and a new one is put half-way between each
    pair), ``2M`` otherwise."""
    M = int(M)
    if placement == "bins" and M >= 3 and M % 2 == 1:
        return 2 * M - 1
    return 2 * M


@dataclass
class ClusterConvergence:
    """Result of :func:`converge_clusters`.

    Attributes
    ----------
    observables : tuple of str
        The observables that were followed.
    M : ndarray of int
        Numbers of clusters, in the order they were computed.
    values : dict
        ``{observable: ndarray}`` value at each ``M``.
    changes : dict
        ``{observable: ndarray}`` change from the previous ``M`` (first entry ``nan``),
        measured as described in :data:`OBSERVABLES`.
    tol : float
        Requested tolerance.
    converged : bool
        True if every change of the last refinement is below ``tol`` (``n_peaks``:
        equal counts).
    placement : str or None
        Cluster placement (None when the clusters came from a factory).
    prominence : float
        Relative prominence threshold of the peak counts.
    times : ndarray
        Wall-clock seconds spent at each ``M``.
    results : list
        ``(steady_state, spectrum)`` at each ``M`` (``spectrum`` None if no spectral
        observable was asked for; ``critical_pump`` adds no result).  The results at the
        last ``M`` carry ``checks["clusters"]`` with ``checked=True``.
    models : list
        The model at each ``M``.
    notes : list of str
        What happened on the way, e.g. ``critical_pump`` recorded as 0 when the
        spectrum is single-peaked already at the lower end of ``pump_range``
        (``R_c < R_lo``: the cluster lines have merged at every pump).
    """

    observables: tuple
    M: np.ndarray
    values: dict
    changes: dict
    tol: float
    converged: bool
    placement: object = None
    prominence: float = 1e-3
    times: np.ndarray = None
    results: list = field(default_factory=list, repr=False)
    models: list = field(default_factory=list, repr=False)
    notes: list = field(default_factory=list)

    @property
    def value(self):
        """``{observable: value}`` at the largest ``M`` computed."""
        return {k: _number(v[-1]) for k, v in self.values.items()}

    @property
    def M_reached(self):
        """The largest ``M`` computed."""
        return int(self.M[-1])

    def table(self):
        """Rows ``{"M", <observable>, "change <observable>", "time"}`` (for tables / JSON)."""
        rows = []
        for i, M in enumerate(self.M):
            row = {"M": int(M)}
            for k in self.observables:
                row[k] = _number(self.values[k][i])
                row[f"change {k}"] = float(self.changes[k][i])
            row["time"] = float(self.times[i]) if self.times is not None else float("nan")
            rows.append(row)
        return rows

    def to_markdown(self):
        """The table as GitHub markdown."""
        head = ["M"] + [h for k in self.observables for h in (k, "change")] + ["time [s]"]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for row in self.table():
            cells = [str(row["M"])]
            for k in self.observables:
                cells += [f"{row[k]:.6g}", "—" if np.isnan(row[f"change {k}"])
                          else f"{row[f'change {k}']:.3g}"]
            cells.append(f"{row['time']:.2f}")
            lines.append("| " + " | ".join(cells) + " |")
        state = "converged" if self.converged else "NOT converged"
        lines.append(f"\n{state} to tol = {self.tol:g} at M = {self.M_reached}")
        return "\n".join(lines)

    def plot(self, axes=None):
        """Each observable against ``M`` (log axis), the last value ± tol shaded.

        Returns the array of matplotlib axes.
        """
        import matplotlib.pyplot as plt
        k = len(self.observables)
        if axes is None:
            _, axes = plt.subplots(k, 1, figsize=(5, 2.2 * k + 0.6), sharex=True, squeeze=False)
            axes = axes[:, 0]
        axes = np.atleast_1d(axes)
        for ax, name in zip(axes, self.observables):
            v = np.asarray(self.values[name])
            v = np.abs(v) if np.iscomplexobj(v) else v.astype(float)
            ax.semilogx(self.M, v, "o-", label=name)
            last = v[-1]
            if np.isfinite(last) and name in ("photon_number", "linewidth", "critical_pump"):
                ax.axhspan(last * (1 - self.tol), last * (1 + self.tol), color="0.9", zorder=0)
            ax.set_ylabel(name)
        axes[-1].set_xlabel("number of clusters M")
        axes[0].set_title(("converged" if self.converged else "not converged")
                          + f" (tol = {self.tol:g})")
        return axes

    def __repr__(self):
        vals = ", ".join(f"{k}={v:.6g}" for k, v in self.value.items())  # complex too
        return (f"ClusterConvergence(M={self.M.tolist()}, converged={self.converged}, "
                f"tol={self.tol:g}, {vals})")


def _number(x):
    """A float, or a complex number when the imaginary part is not zero."""
    x = complex(x)
    return x.real if x.imag == 0 else x


def _observables(observables):
    if isinstance(observables, str):
        observables = (observables,)
    try:
        observables = tuple(observables)
    except TypeError:
        raise ValueError(f"observables must be a name or a sequence of names from "
                         f"{sorted(OBSERVABLES)}, got {observables!r}") from None
    if not observables:
        raise ValueError(f"observables is empty; choose from {sorted(OBSERVABLES)}")
    out = []
    for o in observables:
        name = _ALIASES.get(o, o) if isinstance(o, str) else o
        if name not in OBSERVABLES:
            raise ValueError(f"unknown observable {o!r}: a cluster laser model has "
                             f"{sorted(OBSERVABLES)} (aliases {sorted(_ALIASES)})")
        if name not in out:
            out.append(name)
    return tuple(out)


def _spread(ensemble):
    """Weighted standard deviation of the detunings (frequency scale of the peak change)."""
    w = ensemble.counts / ensemble.counts.sum()
    mean = np.sum(w * ensemble.detunings)
    return float(np.sqrt(np.sum(w * (ensemble.detunings - mean) ** 2)))


def _has_spread(ensemble):
    return bool(np.ptp(ensemble.detunings) > 0 or np.ptp(ensemble.couplings) > 0)


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def converge_clusters(model, observables=("photon_number",), *, tol: float = 1e-2,
                      M_start: int | None = None, M_max: int = 257, placement=None, omega=None,
                      pump_range=None, prominence=None, pump_rtol=None, method: str = "cumulant",
                      options: dict | None = None, progress_bar=True) -> ClusterConvergence:
    """Refine the number of clusters until the observables stop changing.

    The distribution is discretised with ``M_start`` clusters, then with
    :func:`next_cluster_number` (``M → 2M − 1`` for odd ``M`` with bins, so the old
    detunings are kept; ``M → 2M`` otherwise), same distribution and range, until
    every requested observable changes by less than ``tol`` from one ``M`` to the
    next, or the next ``M`` would exceed ``M_max``.

    Parameters
    ----------
    model : SuperradiantLaser or callable
        Either a laser whose ensemble records its distribution
        (:meth:`Ensemble.gaussian <qutip_superrad.Ensemble.gaussian>`,
        :meth:`~qutip_superrad.Ensemble.standing_wave`,
        :meth:`~qutip_superrad.Ensemble.product`) — it is rebuilt with
        :meth:`Ensemble.refine <qutip_superrad.Ensemble.refine>` — or a factory
        ``M -> model``: a laser, or any :class:`~qutip_superrad.Model` with
        :class:`~qutip_superrad.Clusters` (or a pair ``(Model, {name: operator})``, as
        returned by the ``description()`` of the seed models).  A laser is solved by
        its cumulant method, a generic model by ``method``.
    observables : str, sequence of str or dict
        For a laser, from :data:`OBSERVABLES`: ``"photon_number"``, ``"linewidth"``,
        ``"peak"``, ``"n_peaks"``, ``"critical_pump"`` (alias ``"R_c"``).  For a generic
        model, ``{name: operator}`` (its ``e_ops``, operators of the factory's
        Clusters, e.g. from a template model changed with ``with_values``) or names of
        the operators the factory returns with the model; the change is relative
        (``|Δv| / max(|v|, |v_prev|)``, complex values too).
    tol : float
        Tolerance (> 0) on the change between successive ``M`` (relative for
        photon number, linewidth and ``R_c``; in units of the spread ``σ`` of the
        detunings for the peak position; the number of peaks must not change).
    M_start : int, optional
        First ``M`` (default: the model's own number of clusters; 11 for a factory).
        For a product ensemble, ``M`` counts the frequency clusters.
    M_max : int
        Largest ``M`` allowed (>= ``M_start``).
    placement : {"bins", "hermite", "legendre", "quantiles", "quadrature"}, optional
        Cluster placement for a model with a recorded distribution (default: its
        own; those of its kind, :data:`~qutip_superrad.ensemble.PLACEMENTS_BY_KIND`:
        ``"quadrature"`` is ``"legendre"`` — the Gauss quadrature of the same truncated
        distribution as the bins — for a Gaussian or uniform distribution and
        ``"quantiles"`` for samples).  Not allowed with a factory.
    omega : array_like
        Frequency grid of the spectra (needed by ``linewidth``, ``peak``,
        ``n_peaks``, ``critical_pump``); it must resolve the cluster lines.
    pump_range : (float, float)
        Bracket of :func:`~qutip_superrad.critical_pump` (needed by ``critical_pump``).
    prominence : float, optional
        Relative prominence threshold of the peak counts (default 1e-3; see
        :func:`qutip_superrad.spectrum.count_peaks`).  The default counts the ripple
        of resolved cluster lines; ``n_peaks`` and ``R_c`` then follow the cluster
        spacing (``docs/cluster_convergence.md``).
    pump_rtol : float, optional
        Relative precision of ``R_c`` (default ``tol / 4``).
    method : {"cumulant", "meanfield"}
        Method of a generic model (:func:`qutip_superrad.steadystate`); a laser takes
        only ``"cumulant"``.
    options : dict, optional
        Options of the cumulant spectrum (``steadystate`` options go in
        ``options["steadystate"]``); for a generic model, those of
        :func:`qutip_superrad.steadystate`.
    progress_bar : None, bool or str
        QuTiP's values: None/False/"" off, True/"text", "enhanced", "tqdm"
        (formerly ``progress``, deprecated).
        Print one line per ``M`` to stderr.

    Returns
    -------
    ClusterConvergence
        With the table, ``converged`` and :meth:`~ClusterConvergence.plot`.  A
        ``RuntimeWarning`` is emitted when ``M_max`` is reached before convergence.

    Raises
    ------
    ValueError
        ``tol <= 0``, ``M_max < M_start``, a distribution without spread (all
        clusters alike: ``M`` does not matter), observables the model does not have, a
        model without a recorded distribution, missing ``omega`` / ``pump_range``,
        options of a laser (``omega``, ``placement``, …) with a generic model.

    Examples
    --------
    >>> import qutip_superrad as qsr
    >>> ens = qsr.Ensemble.gaussian(1e4, 0.1, 11, g=1e-3, integer=False)
    >>> laser = qsr.SuperradiantLaser(ens, kappa=1, emission=1e-3, pumping=0.05)
    >>> conv = converge_clusters(laser, ["photon_number"], tol=1e-3, progress_bar=False)
    >>> conv.converged, conv.M_reached, round(float(conv.value["photon_number"]), 4)
    (True, 41, 0.0469)

    Spectral observables need ``omega`` (e.g. ``["linewidth", "n_peaks"]`` with
    ``omega=np.linspace(-0.4, 0.4, 2001)``), ``critical_pump`` a ``pump_range``.
    """
    progress_bar = check_progress_bar(progress_bar)
    from .cumulant import laser as cumulant_laser
    from .model import Model

    tol = check_real("tol", tol)
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    if method not in ("cumulant", "meanfield"):
        raise ValueError(f"method must be 'cumulant' or 'meanfield', got {method!r}")
    prominence = check_prominence(prominence)
    factory = None
    if isinstance(model, Model):
        raise TypeError("model: a Model cannot be refined by itself; pass a factory "
                        "M -> Model (e.g. lambda M: template.with_values(N=ens.counts, ...))")
    if callable(model) and not hasattr(model, "ensemble"):
        factory = model
        if placement is not None:
            raise ValueError("placement applies to a model whose ensemble records its "
                             "distribution; a factory M -> model places its own clusters")
        M0 = 11 if M_start is None else check_int("M_start", M_start, minimum=1)
        M_max = check_int("M_max", M_max, minimum=1)
        if M_max < M0:
            raise ValueError(f"M_max = {M_max} must be >= M_start = {M0}")
        first = factory(M0)
        if isinstance(first, (Model, tuple)):
            for name, value in (("omega", omega), ("pump_range", pump_range),
                                ("pump_rtol", pump_rtol)):
                if value is not None:
                    raise ValueError(f"{name} applies to a laser model; a generic Model "
                                     "follows expectation values (observables)")
            return _converge_model(factory, first, observables, tol, M0, M_max, method,
                                   options, prominence, progress_bar)
        if not hasattr(first, "ensemble"):
            _unpack(first, M0)                   # neither a laser nor a Model: TypeError
    else:
        ens = getattr(model, "ensemble", None)
        if ens is None:
            raise TypeError(f"model must be a laser model or a factory M -> model, got "
                            f"{type(model).__name__}")
        cumulant_laser.supports(model)
        dist = ens.distribution
        if dist is None:
            raise ValueError("the model's ensemble was given cluster by cluster and records "
                             "no distribution to refine: build it with Ensemble.gaussian / "
                             "standing_wave / product, or pass a factory M -> model")
        if placement is not None:
            placement = dist.check_placement(placement)
        else:
            placement = dist.placement
        M0 = dist.n_clusters if M_start is None else check_int("M_start", M_start, minimum=1)
        M_max = check_int("M_max", M_max, minimum=1)
        if M_max < M0:
            raise ValueError(f"M_max = {M_max} must be >= M_start = {M0}")
        first = None
    if method != "cumulant":
        raise ValueError(f"method={method!r}: a laser is followed by its cumulant method")
    obs = _observables(observables)

    def build(M):
        if factory is not None:
            return factory(M)
        return model.with_ensemble(ens.refine(M, placement))

    spectral = any(o in _SPECTRAL or o == "critical_pump" for o in obs)
    if spectral:
        if omega is None:
            raise ValueError(f"observables {[o for o in obs if o != 'photon_number']} need "
                             "a frequency grid omega that resolves the cluster lines")
        omega = check_grid("omega", omega)
    if "critical_pump" in obs:
        if pump_range is None:
            raise ValueError("observable 'critical_pump' needs pump_range = (R_lo, R_hi)")
        pump_rtol = tol / 4 if pump_rtol is None else check_real("pump_rtol", pump_rtol)
    sp_opt = dict(options or {})
    sp_opt["prominence"] = prominence
    ss_opt = dict(sp_opt.pop("steadystate", None) or {})
    ss_opt.setdefault("check_stability", False)

    first = build(M0) if first is None else first
    cumulant_laser.supports(first)
    step = (lambda M: next_cluster_number(M, placement or "bins"))
    if not _has_spread(first.ensemble) and not _has_spread(build(step(M0)).ensemble):
        raise ValueError("the distribution has no spread (every cluster has the same "
                         "detuning and coupling): the number of clusters does not matter")
    scale = []                                   # frequency scale of the peak change

    def evaluate(laser, M, notes):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ss = cumulant_laser.steadystate(laser, ss_opt)
            sp = None
            if any(o in _SPECTRAL for o in obs):
                sp = cumulant_laser.spectrum(laser, omega, dict(sp_opt, state=ss))
            val = {"photon_number": ss.photon_number}
            if sp is not None:
                val.update(linewidth=sp.linewidth, peak=sp.peak, n_peaks=sp.n_peaks)
            if "critical_pump" in obs:
                try:
                    val["critical_pump"] = cumulant_laser.critical_pump(
                        laser, omega, pump_range, rtol=pump_rtol,
                        options=dict(sp_opt, steadystate=ss_opt))
                except ValueError as err:
                    if "already single-peaked" in str(err):
                        # the lines have merged at every pump of the bracket: R_c < R_lo
                        val["critical_pump"] = 0.0
                        notes.append(f"M = {M}: single peak already at R_lo = "
                                     f"{pump_range[0]:g}; R_c recorded as 0 (R_c < R_lo)")
                    else:
                        val["critical_pump"] = np.nan
                        notes.append(f"M = {M}: critical_pump failed: {err}")
        if not scale:
            lw = val.get("linewidth", np.nan)
            scale.append(_spread(laser.ensemble) or (lw if np.isfinite(lw) and lw > 0
                                                      else 1.0))
        return {o: float(val[o]) for o in obs}, (ss, sp)

    def change(o, v, prev):
        if o == "n_peaks":
            return abs(v - prev)
        if o == "peak":
            return abs(v - prev) / scale[0]
        return _relative_change(v, prev)

    out = _refine(first, build, M0, M_max, step, evaluate, change, obs, tol, progress_bar,
                  placement)
    out.prominence = prominence
    return out


def _relative_change(v, prev):
    """``|v − prev| / max(|v|, |prev|)`` (0 when equal)."""
    if v == prev:
        return 0.0
    return abs(v - prev) / max(abs(v), abs(prev))


def _refine(first, build, M0, M_max, step, evaluate, change, obs, tol, progress_bar,
            placement):
    """Evaluate at ``M0, step(M0), …`` until every change is below ``tol`` (``n_peaks``:
    zero) or the next ``M`` exceeds ``M_max``; the :class:`ClusterConvergence`, whose last
    results carry ``checks["clusters"]`` with ``checked=True``."""
    Ms, times, results, models, notes = [], [], [], [], []
    values = {o: [] for o in obs}
    changes = {o: [] for o in obs}
    converged = False
    M, current = M0, first
    while True:
        t0 = time.perf_counter()
        val, res = evaluate(current, M, notes)
        times.append(time.perf_counter() - t0)
        Ms.append(M)
        results.append(res)
        models.append(current)
        for o in obs:
            prev = values[o][-1] if values[o] else None
            values[o].append(val[o])
            changes[o].append(np.nan if prev is None else change(o, val[o], prev))
        if progress_bar:
            import sys
            cells = ", ".join(f"{o}={values[o][-1]:.6g} (Δ={changes[o][-1]:.2g})" for o in obs)
            sys.stderr.write(f"converge_clusters: M = {M}: {cells} [{times[-1]:.2f} s]\n")
            sys.stderr.flush()
        if len(Ms) > 1:
            ok = [(changes[o][-1] == 0 if o == "n_peaks" else changes[o][-1] < tol)
                  for o in obs]
            if all(ok):
                converged = True
                break
        M_next = step(M)
        if M_next > M_max:
            break
        M = M_next
        current = build(M)

    out = ClusterConvergence(observables=obs, M=np.asarray(Ms), tol=tol, converged=converged,
                             values={o: np.asarray(v) for o, v in values.items()},
                             changes={o: np.asarray(c) for o, c in changes.items()},
                             placement=placement, times=np.asarray(times), results=results,
                             models=models, notes=notes)
    entry = {"M": int(Ms[-1]), "checked": True, "converged": converged, "tol": tol,
             "M_sequence": [int(m) for m in Ms], "observables": list(obs),
             "note": (f"converged in M to tol = {tol:g} at M = {Ms[-1]}" if converged else
                      f"NOT converged in M: change above tol = {tol:g} at M_max")}
    for r in results[-1]:
        if r is not None:
            r.checks["clusters"] = dict(r.checks.get("clusters", {}), **entry)
    if not converged:
        worst = {o: float(changes[o][-1]) for o in obs}
        warnings.warn(f"converge_clusters: not converged to tol = {tol:g} by M = {Ms[-1]} "
                      f"(M_max = {M_max}); last changes {worst}", RuntimeWarning, stacklevel=3)
    return out


def _unpack(built, M):
    """``(Model, {name: operator} or None)`` from what a factory returned at ``M``."""
    from .model import Model
    model, ops = (built if isinstance(built, tuple) and len(built) == 2 else (built, None))
    if not isinstance(model, Model):
        raise TypeError(f"the factory returned {type(built).__name__} at M = {M}; expected a "
                        "laser, a Model or a pair (Model, {name: operator})")
    if model.clusters is None:
        raise ValueError("the factory's Model has no Clusters: the number of clusters does "
                         "not enter it")
    return model, ops


def _generic_observables(observables, ops):
    """``{name: operator}`` of a generic model from ``observables`` (a dict, or names of the
    operators ``ops`` the factory returns)."""
    if isinstance(observables, dict):
        if not observables:
            raise ValueError("observables is empty; give {name: operator}")
        return dict(observables)
    names = (observables,) if isinstance(observables, str) else tuple(observables)
    if not names:
        raise ValueError("observables is empty; give {name: operator} or names of the "
                         "factory's operators")
    if ops is None:
        raise ValueError(f"observables {list(names)}: the factory returns a bare Model; give "
                         "observables as {name: operator} or return (model, {name: operator})")
    missing = [n for n in names if n not in ops]
    if missing:
        raise ValueError(f"observable {missing[0]!r} is not an operator of the model; it has "
                         f"{sorted(k for k in ops if isinstance(k, str))}")
    return {n: ops[n] for n in names}


def _model_has_spread(model):
    """True if some per-cluster parameter differs between clusters."""
    return any(np.ndim(v) == 1 and np.ptp(v) > 0 for v in model.parameters.values())


def _converge_model(factory, first, observables, tol, M0, M_max, method, options, prominence,
                    progress_bar):
    """:func:`converge_clusters` for a factory ``M -> Model`` (generic cluster models)."""
    from . import solvers

    def build(M):
        return factory(M)

    model0, ops0 = _unpack(first, M0)
    obs_ops = _generic_observables(observables, ops0)
    obs = tuple(obs_ops)
    dist = getattr(model0, "distribution", None)
    placement = dist.placement if dist is not None else None
    step = (lambda M: next_cluster_number(M, placement or "bins"))
    if not _model_has_spread(model0) and not _model_has_spread(_unpack(build(step(M0)),
                                                                      step(M0))[0]):
        raise ValueError("the distribution has no spread (every per-cluster parameter is the "
                         "same in every cluster): the number of clusters does not matter")

    def evaluate(built, M, notes):
        model, ops = _unpack(built, M)
        e_ops = obs_ops if isinstance(observables, dict) else _generic_observables(obs, ops)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = solvers.steadystate(model, method, e_ops=e_ops, options=options)
        val = {}
        for o in obs:
            v = complex(res.values[o])
            val[o] = v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v)) else v
        return val, (res,)

    out = _refine(first, build, M0, M_max, step, evaluate,
                  lambda o, v, prev: _relative_change(v, prev), obs, tol, progress_bar,
                  placement)
    out.prominence = prominence
    return out
