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

__all__ = ["converge_clusters", "ClusterConvergence", "OBSERVABLES", "next_cluster_number"]

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
        return {k: float(v[-1]) for k, v in self.values.items()}

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
                row[k] = float(self.values[k][i])
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
            v = np.asarray(self.values[name], float)
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
        vals = ", ".join(f"{k}={v:.6g}" for k, v in self.value.items())
        return (f"ClusterConvergence(M={self.M.tolist()}, converged={self.converged}, "
                f"tol={self.tol:g}, {vals})")


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
def converge_clusters(model, observables=("photon_number",), *, tol=1e-2, M_start=None,
                      M_max=257, placement=None, omega=None, pump_range=None,
                      prominence=None, pump_rtol=None, options=None, progress_bar=True):
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
        ``M -> model``.  Solved with ``method="cumulant"``.
    observables : str or sequence of str
        From :data:`OBSERVABLES`: ``"photon_number"``, ``"linewidth"``, ``"peak"``,
        ``"n_peaks"``, ``"critical_pump"`` (alias ``"R_c"``).
    tol : float
        Tolerance (> 0) on the change between successive ``M`` (relative for
        photon number, linewidth and ``R_c``; in units of the spread ``σ`` of the
        detunings for the peak position; the number of peaks must not change).
    M_start : int, optional
        First ``M`` (default: the model's own number of clusters; 11 for a factory).
        For a product ensemble, ``M`` counts the frequency clusters.
    M_max : int
        Largest ``M`` allowed (>= ``M_start``).
    placement : {"bins", "hermite", "legendre", "quadrature"}, optional
        Cluster placement for a model with a recorded distribution (default: its
        own; ``"quadrature"`` is ``"legendre"``, the Gauss quadrature of the same
        truncated distribution as the bins).  Not allowed with a factory.
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
    options : dict, optional
        Options of the cumulant spectrum (``steadystate`` options go in
        ``options["steadystate"]``).
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
        clusters alike: ``M`` does not matter), unknown observables, a model
        without a recorded distribution, missing ``omega`` / ``pump_range``.

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

    tol = check_real("tol", tol)
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    obs = _observables(observables)
    prominence = check_prominence(prominence)
    factory = None
    if callable(model) and not hasattr(model, "ensemble"):
        factory = model
        if placement is not None:
            raise ValueError("placement applies to a model whose ensemble records its "
                             "distribution; a factory M -> model places its own clusters")
        M0 = 11 if M_start is None else check_int("M_start", M_start, minimum=1)
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
            from .ensemble import _check_placement
            placement = _check_placement(placement)
        else:
            placement = dist.placement
        M0 = dist.n_clusters if M_start is None else check_int("M_start", M_start, minimum=1)
    M_max = check_int("M_max", M_max, minimum=1)
    if M_max < M0:
        raise ValueError(f"M_max = {M_max} must be >= M_start = {M0}")

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

    first = build(M0)
    cumulant_laser.supports(first)
    if not _has_spread(first.ensemble):
        nxt = build(next_cluster_number(M0, placement or "bins"))
        if not _has_spread(nxt.ensemble):
            raise ValueError("the distribution has no spread (every cluster has the same "
                             "detuning and coupling): the number of clusters does not matter")
    scale_peak = None

    Ms, times, results, models = [], [], [], []
    values = {o: [] for o in obs}
    changes = {o: [] for o in obs}
    converged = False
    notes = []
    M = M0
    laser = first
    while True:
        t0 = time.perf_counter()
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
        times.append(time.perf_counter() - t0)
        if scale_peak is None:
            lw = val.get("linewidth", np.nan)
            scale_peak = _spread(laser.ensemble) or (lw if np.isfinite(lw) and lw > 0 else 1.0)
        Ms.append(M)
        results.append((ss, sp))
        models.append(laser)
        for o in obs:
            v = float(val[o])
            prev = values[o][-1] if values[o] else None
            values[o].append(v)
            if prev is None:
                changes[o].append(np.nan)
            elif o == "n_peaks":
                changes[o].append(abs(v - prev))
            elif o == "peak":
                changes[o].append(abs(v - prev) / scale_peak)
            elif v == prev:
                changes[o].append(0.0)
            else:
                changes[o].append(abs(v - prev) / max(abs(v), abs(prev)))
        if progress_bar:
            import sys
            cells = ", ".join(f"{o}={values[o][-1]:.6g} (Δ={changes[o][-1]:.2g})" for o in obs)
            sys.stderr.write(f"converge_clusters: M = {M}: {cells} [{times[-1]:.2f} s]\n")
            sys.stderr.flush()
        if len(Ms) > 1:
            last = [changes[o][-1] for o in obs]
            ok = [(c == 0 if o == "n_peaks" else c < tol) for o, c in zip(obs, last)]
            if all(ok):
                converged = True
                break
        M_next = next_cluster_number(M, placement or "bins")
        if M_next > M_max:
            break
        M = M_next
        laser = build(M)

    out = ClusterConvergence(observables=obs, M=np.asarray(Ms), tol=tol, converged=converged,
                             values={o: np.asarray(v) for o, v in values.items()},
                             changes={o: np.asarray(c) for o, c in changes.items()},
                             placement=placement, prominence=prominence,
                             times=np.asarray(times), results=results, models=models,
                             notes=notes)
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
                      f"(M_max = {M_max}); last changes {worst}", RuntimeWarning, stacklevel=2)
    return out
