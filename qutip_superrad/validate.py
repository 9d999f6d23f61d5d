"""Cross-validation of an approximate method against an exact one.

:func:`cross_validate` solves the same model with two methods (by default the
second-order cumulants against the exact Dicke-basis solver) for a list of
atom numbers or ensembles and tabulates the relative deviations of the photon
number, the populations, the pair correlation and (optionally) the linewidth.
"""
import math
import time
import warnings

import numpy as np

from ._progress import progress
from ._validate import PROGRESS_RENAMES, check_count, check_grid, check_int, renamed_keywords
from .ensemble import Ensemble

__all__ = ["cross_validate", "CrossValidationReport", "ModelCrossValidation"]

_FIELDS = [("label", "U32"), ("N", "f8"), ("M", "i8"),
           ("photon_number_ref", "f8"), ("photon_number_approx", "f8"),
           ("dev_photon_number", "f8"), ("dev_population", "f8"), ("dev_pair", "f8"),
           ("linewidth_ref", "f8"), ("linewidth_approx", "f8"), ("dev_linewidth", "f8"),
           ("time_ref", "f8"), ("time_approx", "f8"), ("nphot", "i8")]

_DEVS = ("dev_photon_number", "dev_population", "dev_pair", "dev_linewidth")


def _rel(a, b):
    """``max|a − b| / max|b|`` (nan when the reference vanishes)."""
    a, b = np.asarray(a), np.asarray(b)
    den = np.max(np.abs(b)) if b.size else 0.0
    if den == 0:
        return float("nan") if np.max(np.abs(a - b), initial=0.0) > 0 else 0.0
    return float(np.max(np.abs(a - b)) / den)


class CrossValidationReport:
    """Relative deviations of an approximate method from a reference method.

    Attributes
    ----------
    table : numpy structured array
        One row per system with the fields ``label, N, M, photon_number_ref,
        photon_number_approx, dev_photon_number, dev_population, dev_pair,
        linewidth_ref, linewidth_approx, dev_linewidth, time_ref, time_approx,
        nphot`` (photon cutoff of the reference; −1 when not applicable).
        Deviations are ``max|x_approx − x_ref| / max|x_ref|`` over the entries
        (clusters for the populations, cluster pairs for the pair correlation);
        ``nan`` where not computed (no distinct pair, no linewidth requested).
    reference, approx : str
        Method names.
    results : list of tuple
        ``(reference_result, approx_result)`` per row.
    """

    def __init__(self, rows, reference, approx, results):
        self.table = np.array([tuple(r[k] for k, _ in _FIELDS) for r in rows], dtype=_FIELDS)
        self.reference, self.approx, self.results = reference, approx, results

    def __len__(self):
        return self.table.size

    def __getitem__(self, key):
        return self.table[key]

    def to_dataframe(self):
        """The table as a ``pandas.DataFrame`` (needs pandas)."""
        import pandas as pd
        return pd.DataFrame(self.table)

    def to_markdown(self, digits=3):
        """The main columns as a markdown table."""
        cols = ["label", "N", "M", "photon_number_ref", "photon_number_approx", *_DEVS]
        head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
        lines = []
        for row in self.table:
            cells = []
            for c in cols:
                v = row[c]
                cells.append(str(v) if c == "label" else
                             f"{v:g}" if c in ("N", "M") else f"{v:.{digits}g}")
            lines.append("| " + " | ".join(cells) + " |")
        return (f"{self.approx} vs {self.reference}\n\n" + head + "\n".join(lines) + "\n")

    def plot(self, ax=None, x="N", **kwargs):
        """Deviations against ``x`` (default the atom number) on a log scale; returns the axes."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        xs = self.table[x]
        for name, marker in zip(_DEVS, "osd^"):
            ys = self.table[name]
            if np.any(np.isfinite(ys) & (ys > 0)):
                ax.semilogy(xs, ys, marker=marker, label=name.replace("dev_", ""), **kwargs)
        ax.set_xlabel(x)
        ax.set_ylabel(f"relative deviation {self.approx} vs {self.reference}")
        ax.legend(frameon=False)
        return ax

    def __repr__(self):
        return self.to_markdown()


def _solve(model, method, options):
    if callable(method):
        return method(model)
    return model.steadystate(method=method, options=dict(options or {}))


def _truncation_ok(result):
    info = (getattr(result, "checks", None) or {}).get("truncation")
    return True if not isinstance(info, dict) else bool(info.get("ok", True))


def _solve_auto_nphot(model, method, options, n_guess, nphot_max):
    """Reference solve with the smallest tried photon cutoff that passes the truncation check.

    Starts at ``max(6, ⌈n + 6√(n+1) + 2⌉)`` with ``n`` the approximate photon
    number and raises the cutoff in steps of 4 until
    ``checks["truncation"]["ok"]``; the intermediate ``TruncationWarning`` s are
    silenced.  Returns ``(result, nphot)``.
    """
    from .exact._common import TruncationWarning
    n = max(float(n_guess), 0.0) if np.isfinite(n_guess) else 0.0
    nphot = int(min(max(6, math.ceil(n + 6 * math.sqrt(n + 1) + 2)), nphot_max))
    while True:
        opts = {**options, "nphot": nphot}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncationWarning)
            res = _solve(model, method, opts)
        if _truncation_ok(res):
            return res, nphot
        if nphot >= nphot_max:
            warnings.warn(f"{method}: photon cutoff nphot_max = {nphot_max} still truncates "
                          f"({res.checks['truncation']})", TruncationWarning, stacklevel=3)
            return res, nphot
        # steps of 4 rather than the solver's suggestion (≥ 2·nphot): the Dicke ⊗ Fock
        # sector grows like nphot², and the photon tail falls off geometrically
        nphot = int(min(nphot + 4, nphot_max))


def _name(method):
    return method if isinstance(method, str) else getattr(method, "__name__", "custom")


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def cross_validate(model, N=None, ensembles=None, reference="dicke", approx="cumulant",
                   reference_options=None, approx_options=None, omega=None,
                   spectrum_options=None, progress_bar=False, **model_kwargs):
    """Compare an approximate method with a reference method, system by system.

    For a :class:`~qutip_superrad.Model` this is :func:`cross_validate_model`
    (``cross_validate(model, N=[...], reference="auto", approx=[...], e_ops=...)``);
    what follows describes the :class:`SuperradiantLaser` form.

    Parameters
    ----------
    model : SuperradiantLaser
        Template model: its rates are kept, its ensemble replaced.
    N : sequence of int, optional
        Atom numbers: identical atoms with the coupling and detuning of the
        template's (identical) ensemble.
    ensembles : sequence of Ensemble, optional
        Ensembles to compare instead of ``N`` (e.g. inhomogeneous atoms
        against ``reference="full"``).
    reference : {"dicke", "full"} or callable
        Exact method, or ``f(model) -> SteadyStateResult``.
    approx : {"cumulant"} or callable
        Approximate method.
    reference_options, approx_options : dict, optional
        Options of the two ``steadystate`` calls (e.g. ``{"nphot": 30}``).
        ``reference_options={"nphot": "auto"}`` chooses the photon cutoff per
        system: the approximate photon number gives the first guess
        ``max(6, ⌈n + 6√(n+1) + 2⌉)``, raised in steps of 4 until the reference's
        ``checks["truncation"]["ok"]`` (at most ``"nphot_max"``, default 64;
        the cutoff used is the ``nphot`` column).
    omega : array_like, optional
        If given, the spectra of both methods are computed on this grid and
        the linewidths compared.
    spectrum_options : dict, optional
        ``{"reference": {...}, "approx": {...}}`` options of the spectra.
    progress_bar : None, bool or str
        Progress bar over the systems, weighted by their estimated cost (``N³``):
        QuTiP's values None/False/"" (off), True/"text", "enhanced", "tqdm".  The
        former name ``show_progress`` is deprecated (``DeprecationWarning``).

    Returns
    -------
    CrossValidationReport

    Examples
    --------
    >>> import qutip_superrad as qsr
    >>> laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=0.1), kappa=1, emission=0.1,
    ...                               pumping=0.5)
    >>> rep = qsr.cross_validate(laser, N=[1, 2, 4], reference_options={"nphot": 12})
    >>> print(rep.to_markdown())
    cumulant vs dicke
    <BLANKLINE>
    | label | N | M | photon_number_ref | photon_number_approx | dev_photon_number | dev_population | dev_pair | dev_linewidth |
    |---|---|---|---|---|---|---|---|---|
    | N=1 | 1 | 1 | 0.0198 | 0.0203 | 0.0239 | 0.000987 | nan | nan |
    | N=2 | 2 | 1 | 0.0411 | 0.0422 | 0.0276 | 0.00118 | 0.0974 | nan |
    | N=4 | 4 | 1 | 0.0885 | 0.0917 | 0.0362 | 0.00168 | 0.111 | nan |
    <BLANKLINE>
    """
    from .model import Model
    if isinstance(model, Model):
        if ensembles is not None or omega is not None:
            raise ValueError("for a Model give N, reference, approx, e_ops (and options)")
        return cross_validate_model(model, N, reference=reference, approx=approx,
                                    progress_bar=progress_bar, **model_kwargs)
    if model_kwargs:
        raise TypeError(f"unknown arguments {sorted(model_kwargs)} for a {type(model).__name__}")
    if (N is None) == (ensembles is None):
        raise ValueError("give exactly one of N (atom numbers) or ensembles")
    if N is not None:
        Ns = [check_count("N", n) for n in np.atleast_1d(N).tolist()]
        if not Ns:
            raise ValueError("N must contain at least one atom number")
        ens0 = model.ensemble
        if not ens0.is_identical:
            raise ValueError("N=[...] needs a template with identical atoms; pass ensembles= "
                             "for inhomogeneous systems")
        g, d = float(ens0.couplings[0]), float(ens0.detunings[0])
        systems = [(f"N={n}", Ensemble.identical(n, g=g, detuning=d)) for n in Ns]
    else:
        ensembles = list(ensembles)
        if not ensembles:
            raise ValueError("ensembles must not be empty")
        for e in ensembles:
            if not isinstance(e, Ensemble):
                raise TypeError(f"ensembles must contain Ensemble instances, got {type(e).__name__}")
        systems = [(repr(e) if len(repr(e)) < 32 else f"#{i}", e) for i, e in enumerate(ensembles)]
    for meth, name in ((reference, "reference"), (approx, "approx")):
        if not callable(meth) and meth not in getattr(model, "_methods", ()):
            raise ValueError(f"{name} must be one of {getattr(model, '_methods', ())} or a "
                             f"callable, got {meth!r}")
    if omega is not None:
        omega = check_grid("omega", omega)
    sopt = dict(spectrum_options or {})
    ropt = dict(reference_options or {})
    nphot_max = ropt.pop("nphot_max", 64)
    auto = isinstance(ropt.get("nphot"), str)
    if auto and (ropt["nphot"] != "auto" or callable(reference)):
        raise ValueError("reference_options['nphot'] must be an int or 'auto' (string "
                         f"methods only), got {ropt['nphot']!r}")
    if auto:
        nphot_max = check_int("nphot_max", nphot_max, minimum=2)
    rows, results = [], []
    # the exact reference dominates: its cost grows roughly like N³
    cost = [max(float(ens.N), 1.0) ** 3 for _, ens in systems]
    for label, ens in progress(systems, desc="cross_validate", progress_bar=progress_bar,
                               weights=cost):
        m = model.with_ensemble(ens)
        if auto:
            t0 = time.perf_counter()
            app = _solve(m, approx, approx_options)
            t1 = time.perf_counter()
            ref, nphot = _solve_auto_nphot(m, reference, ropt, app.photon_number, nphot_max)
            time_ref, time_app = time.perf_counter() - t1, t1 - t0
        else:
            t0 = time.perf_counter()
            ref = _solve(m, reference, ropt)
            t1 = time.perf_counter()
            app = _solve(m, approx, approx_options)
            time_ref, time_app = t1 - t0, time.perf_counter() - t1
            nphot = int(ropt["nphot"]) if isinstance(ropt.get("nphot"), (int, np.integer)) else -1
        pair_ref = np.array(ref.pair_correlation, complex)
        row = {
            "label": label, "N": ens.N, "M": ens.n_clusters,
            "photon_number_ref": ref.photon_number, "photon_number_approx": app.photon_number,
            "dev_photon_number": _rel(app.photon_number, ref.photon_number),
            "dev_population": _rel(app.excited_population, ref.excited_population),
            "dev_pair": (_rel(app.pair_correlation, pair_ref) if np.any(pair_ref != 0)
                         else float("nan")),
            "linewidth_ref": np.nan, "linewidth_approx": np.nan, "dev_linewidth": np.nan,
            "time_ref": time_ref, "time_approx": time_app, "nphot": nphot,
        }
        if omega is not None:
            ro = dict(sopt.get("reference") or {})
            if isinstance(reference, str) and nphot > 0:
                ro.setdefault("nphot", nphot)
            ao = dict(sopt.get("approx") or {})
            if approx == "cumulant":
                ao.setdefault("state", app)
            sr = m.spectrum(omega, method=reference, options=ro)
            sa = m.spectrum(omega, method=approx, options=ao)
            row.update(linewidth_ref=sr.linewidth, linewidth_approx=sa.linewidth,
                       dev_linewidth=_rel(sa.linewidth, sr.linewidth))
        rows.append(row)
        results.append((ref, app))
    return CrossValidationReport(rows, _name(reference), _name(approx), results)


# ----------------------------------------------------------------------------
# any model of the description
# ----------------------------------------------------------------------------

class ModelCrossValidation:
    """Exact against approximate methods for a :class:`~qutip_superrad.Model`, over ``N``.

    Attributes
    ----------
    rows : list of dict
        One row per atom number and method: ``N``, ``method``, the value of
        every ``e_op`` (by key), ``dev_<key>`` = ``|x − x_ref| / max(|x_ref|, floor)``
        against the reference of the same ``N`` (0 for the reference itself),
        ``time`` (s), and ``error`` (the message if the method failed).
    reference : str
    methods : list of str
        Labels of the compared methods (e.g. ``"cumulant(order=3)"``).
    keys : list
        The ``e_ops`` keys.
    results : dict
        ``{(N, label): Result}``.
    """

    def __init__(self, rows, reference, methods, keys, results):
        self.rows, self.reference, self.methods, self.keys = rows, reference, methods, keys
        self.results = results

    def deviation(self, method, key):
        """Relative deviations of ``method`` for ``key``, one per ``N`` (array)."""
        return np.array([r.get(f"dev_{key}", np.nan) for r in self.rows if r["method"] == method])

    @property
    def N(self):
        return sorted({r["N"] for r in self.rows})

    def to_markdown(self, digits=4):
        """One line per ``N`` and method: values and relative deviations."""
        cols = ["N", "method"] + [str(k) for k in self.keys] + [f"dev {k}" for k in self.keys] + ["time [s]"]
        out = [f"{', '.join(self.methods)} vs {self.reference}", "",
               "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for r in self.rows:
            cells = [str(r["N"]), r["method"] + (f" ({r['picked']})" if "picked" in r else "")]
            for k in self.keys:
                cells.append("failed" if r.get("error") else _fmt(r.get(k), digits))
            for k in self.keys:
                cells.append("" if r["method"] == self.reference else _fmt(r.get(f"dev_{k}"), 2))
            cells.append(_fmt(r["time"], 2))
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out) + "\n"

    def __repr__(self):
        return self.to_markdown()

    def plot(self, key=None, ax=None):
        """Relative deviation of every approximate method against ``N`` (log scale)."""
        import matplotlib.pyplot as plt
        key = self.keys[0] if key is None else key
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        for m in self.methods:
            if m == self.reference:
                continue
            ax.plot(self.N, np.abs(self.deviation(m, key)), "o-", label=m)
        ax.set_xlabel("N")
        ax.set_ylabel(f"relative deviation of ⟨{key}⟩")
        ax.set_yscale("log")
        ax.legend(frameon=False)
        return ax


def _fmt(v, digits):
    if v is None:
        return ""
    v = complex(v)
    if not np.isfinite(v):
        return "nan"
    if v.imag == 0:
        return f"{v.real:.{digits}g}"
    return f"{v:.{digits}g}"


def _label(method):
    name, opts = (method, {}) if isinstance(method, str) else method
    if not isinstance(name, str) or not isinstance(opts, dict):
        raise TypeError(f"a method is a name or (name, options), got {method!r}")
    label = name + ("" if not opts else "(" + ", ".join(f"{k}={v}" for k, v in opts.items()) + ")")
    return label, name, opts


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def cross_validate_model(model, N, reference="auto", approx=("meanfield", "cumulant"),
                         e_ops=None, options=None, floor=1e-12, progress_bar=False):
    """Solve ``model`` for each atom number by a reference and approximate methods.

    Parameters
    ----------
    model : Model
        Template: its parameters are kept, the counts replaced by each ``N``.
    N : sequence of int
    reference : str, default "auto"
        Exact method (``"auto"``: the cheapest that fits, recorded per row).
    approx : sequence of str or (str, dict)
        Methods to compare, e.g. ``["meanfield", "cumulant", ("cumulant", {"order": 3})]``.
    e_ops : dict or list
        Operators of the description to compare.
    options : dict, optional
        ``{method name: options}`` (e.g. ``{"dicke": {"nphot": 12}}``).
    floor : float
        Deviations are relative to ``max(|x_ref|, floor)``.
    progress_bar : None, bool or str
        Progress bar over ``N``, weighted by the estimated cost (``N³``): QuTiP's values
        None/False/"" (off), True/"text", "enhanced", "tqdm" (formerly
        ``show_progress``, deprecated).

    Returns
    -------
    ModelCrossValidation
    """
    from .model import Model
    from .results import normalise_e_ops
    from . import solvers

    if not isinstance(model, Model):
        raise TypeError(f"model must be a Model, got {type(model).__name__}")
    Ns = [check_count("N", n) if model.clusters is not None else n
          for n in np.atleast_1d(N).tolist()]
    if not Ns:
        raise ValueError("N must contain at least one atom number")
    e_ops = normalise_e_ops(e_ops)
    if not e_ops:
        raise ValueError("e_ops: give the operators to compare")
    options = dict(options or {})
    methods = [_label(m) for m in ([reference] + list(approx))]
    rows, results = [], {}
    for n in progress(Ns, desc="cross_validate", progress_bar=progress_bar,
                      weights=[max(float(np.sum(n)), 1.0) ** 3 for n in Ns]):
        m = model.with_values(N=n)
        ref_vals = None
        for label, name, opts in methods:
            opts = {**options.get(name, {}), **opts}
            t0 = time.perf_counter()
            row = {"N": n, "method": label}
            try:
                res = solvers.steadystate(m, name, e_ops=e_ops, options=opts)
                row.update(res.values)
                if name == "auto":
                    row["picked"] = res.stats["auto"]
                results[(n, label)] = res
            except (RuntimeError, ValueError, MemoryError) as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
                res = None
            row["time"] = time.perf_counter() - t0
            if ref_vals is None:
                ref_vals = {k: row.get(k) for k in e_ops}
            for k in e_ops:
                r, v = ref_vals.get(k), row.get(k)
                row[f"dev_{k}"] = (float("nan") if r is None or v is None
                                   else abs(v - r) / max(abs(r), floor))
            rows.append(row)
    labels = []
    for r in rows:
        if r["method"] not in labels:
            labels.append(r["method"])
    return ModelCrossValidation(rows, labels[0], labels, list(e_ops), results)
