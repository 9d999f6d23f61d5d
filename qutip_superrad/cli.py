"""Command line interface: ``python -m qutip_superrad`` / ``qutip-superrad``.

Subcommands
-----------
``laser`` (default when no subcommand is given)
    Solve the superradiant laser (Bychek, Hotter, Plankensteiner and Ritsch,
    Open Res. Europe 1, 73 (2021)) for a small ensemble with the
    exact methods (``full`` and ``dicke``; ``cumulant`` too when it is
    available), print a comparison table with the bad-cavity limit, and plot
    the emission spectra.
``sweep``
    Photon number and linewidth versus the atom number ``N`` (Dicke basis and
    bad-cavity limit by default), with a progress bar.
``run``
    One steady state of any registered model (``--model NAME``: laser, laser-gaussian,
    bad-cavity, collective-pumping, dipoles, vlevel, spin-cats) with its parameters
    named as in the Python API (``--set NAME=VALUE``), ``--method``, ``--observables``;
    ``--list-models`` and ``--help-model NAME`` show parameters, defaults and methods.
``info``
    Versions of the package and of its dependencies, available methods.

Parameters come from the built-in ``defaults.toml``, then an optional
``--config FILE.toml`` (same keys, at the top level or in a ``[laser]`` /
``[sweep]`` table), then the command-line flags (highest priority).
Invalid parameters exit with status 2 and a message naming the parameter;
failures of a solver (memory limit, no convergence) exit with status 1.

Parameter names follow qutip.piqs, as in the Python API: ``--coupling`` (g),
``--emission`` (Γ D[σ⁻]), ``--pumping`` (R D[σ⁺]), ``--dephasing`` (ν D[σ⁺σ⁻]).
The former flags ``--g``, ``--gamma``, ``--pump``, ``--atom-dephasing`` and
the config keys ``g``, ``gamma``, ``pump``, ``atom_dephasing`` still work
with a warning.
"""
import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

try:                                   # Python >= 3.11
    import tomllib
except ModuleNotFoundError:            # pragma: no cover - Python 3.10
    import tomli as tomllib

from . import __version__
from . import _validate as V
from . import _cli_run, _cli_sweep

__all__ = ["main", "build_parser", "load_defaults", "run_laser", "run_sweep", "info"]

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
PROG = "qutip-superrad"
COMMANDS = ("laser", "sweep", "run", "info")
_LASER_METHODS = ("full", "dicke", "cumulant")
_SWEEP_METHODS = ("dicke", "bad-cavity", "full", "cumulant")

# key -> (command-line flag, kind)
_KEYS = {
    "N": ("--N", "count"),
    "coupling": ("--coupling", "real"),
    "kappa": ("--kappa", "rate"),
    "emission": ("--emission", "rate"),
    "pumping": ("--pumping", "rate"),
    "dephasing": ("--dephasing", "rate"),
    "cavity_dephasing": ("--cavity-dephasing", "rate"),
    "cavity_detuning": ("--cavity-detuning", "real"),
    "detuning": ("--detuning", "real"),
    "nphot": ("--nphot", "nphot"),
    "max_memory": ("--max-memory", "memory"),
    "methods": ("--methods", "methods"),
    "bad_cavity": ("--bad-cavity", "bool"),
    "omega_min": ("--omega-min", "real"),
    "omega_max": ("--omega-max", "real"),
    "omega_points": ("--omega-points", "points"),
    "plot": ("--plot", "path"),
    "json": ("--json", "path"),
}

#: former config keys / flag names -> current ones (accepted with a FutureWarning)
_RENAMED_KEYS = {"g": "coupling", "gamma": "emission", "pump": "pumping",
                 "atom_dephasing": "dephasing"}
_OLD_DEST = "_renamed_"


class ParameterError(ValueError):
    """An invalid parameter; ``flag`` names the command-line option."""

    def __init__(self, flag, message):
        super().__init__(f"argument {flag}: {message}" if flag else message)
        self.flag = flag


# ---------------------------------------------------------------------------
# parameters: defaults < config file < flags
# ---------------------------------------------------------------------------
def load_defaults(command):
    """Built-in defaults of one subcommand (``laser`` or ``sweep``) as a dict."""
    with open(DEFAULTS_FILE, "rb") as fh:
        return dict(tomllib.load(fh)[command])


def _norm(key):
    return str(key).replace("-", "_")


def _renamed(table, where):
    """``table`` with the former key names replaced by the current ones (FutureWarning).

    Both the old and the new name of one parameter raise ``ParameterError``.
    """
    out = {}
    for key, value in table.items():
        new = _RENAMED_KEYS.get(_norm(key))
        if new is not None:
            if any(_norm(k) == new for k in table):
                raise ParameterError("--config", f"both '{key}' and its new name '{new}' in "
                                     f"{where}; give only '{new}'")
            warnings.warn(f"config key '{key}' in {where} is renamed to '{new}'",
                          FutureWarning, stacklevel=3)
            key = new
        out[key] = value
    return out


def load_config(path, command):
    """Parameters for ``command`` from a TOML file; unknown keys raise ``ParameterError``.

    Top-level keys apply to ``command``; a ``[laser]`` or ``[sweep]`` table
    applies to that subcommand (tables of the other subcommand are checked
    but ignored).
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError("--config", f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ParameterError("--config", f"invalid TOML in {path}: {err}") from None
    out = {}
    data = {key: (_renamed(value, f"table [{key}] of {path}")
                  if key in ("laser", "sweep") and isinstance(value, dict) else value)
            for key, value in _renamed(data, str(path)).items()}
    for key, value in data.items():
        if key in ("laser", "sweep") and isinstance(value, dict):
            allowed = load_defaults(key)
            for sub, v in value.items():
                if _norm(sub) not in allowed:
                    raise ParameterError("--config", f"unknown key '{sub}' in table [{key}] of "
                                         f"{path}; allowed keys: {', '.join(sorted(allowed))}")
                if key == command:
                    out[_norm(sub)] = v
            continue
        allowed = load_defaults(command)
        if _norm(key) not in allowed:
            raise ParameterError("--config", f"unknown key '{key}' in {path} (for "
                                 f"'{command}'); allowed keys: {', '.join(sorted(allowed))}")
        out.setdefault(_norm(key), value)
    # a value in the [command] table wins over the same key at the top level
    for key, value in data.get(command, {}).items() if isinstance(data.get(command), dict) else ():
        out[_norm(key)] = value
    return out


def _split_methods(value):
    if isinstance(value, str):
        return [m.strip() for m in value.split(",") if m.strip()]
    if isinstance(value, (list, tuple)):
        return [str(m).strip() for m in value]
    raise TypeError(f"must be a comma-separated string or a list, got {type(value).__name__}")


def _check_value(key, value, command):
    flag, kind = _KEYS[key]
    name = key
    try:
        if kind == "count":
            if command == "sweep":
                values = value
                if isinstance(values, str):
                    values = [int(v) if v.strip().lstrip("-").isdigit() else float(v)
                              for v in values.split(",") if v.strip()]
                if not isinstance(values, (list, tuple)):
                    values = [values]
                if not values:
                    raise ValueError("N must contain at least one atom number")
                values = [V.check_count(name, v) for v in values]
                if len(set(values)) != len(values):
                    raise ValueError(f"N must not repeat values, got {values}")
                return sorted(values)
            return V.check_count(name, value)
        if kind == "real":
            return V.check_real(name, value)
        if kind == "rate":
            return V.check_rate(name, value)
        if kind == "nphot":
            return V.check_int(name, value, minimum=2)
        if kind == "memory":
            value = V.check_real(name, value)
            if value <= 0:
                raise ValueError(f"{name} must be > 0 GiB, got {value}")
            return value
        if kind == "points":
            return V.check_int(name, value, minimum=3)
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be true or false, got {value!r}")
            return value
        if kind == "path":
            if value is None or value is False:
                return ""
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a file name (string), got {value!r}")
            return value
        if kind == "methods":
            allowed = _LASER_METHODS if command == "laser" else _SWEEP_METHODS
            methods = _split_methods(value)
            bad = [m for m in methods if m not in allowed]
            if bad:
                raise ValueError(f"unknown method(s) {bad}; choose from {', '.join(allowed)}")
            if not methods:
                raise ValueError("methods must name at least one method")
            return list(dict.fromkeys(methods))
    except (TypeError, ValueError) as err:
        raise ParameterError(flag, str(err)) from None
    raise AssertionError(kind)  # pragma: no cover


def resolve_parameters(command, config=None, flags=None):
    """Merge defaults, config file and flags; validate every value.

    Returns
    -------
    dict
        Clean parameters.

    Raises
    ------
    ParameterError
        Naming the option of the first invalid value.
    """
    params = load_defaults(command)
    if config:
        params.update(load_config(config, command))
    params.update(flags or {})
    clean = {key: _check_value(key, value, command) for key, value in params.items()}
    if clean["kappa"] == 0:
        raise ParameterError("--kappa", "kappa must be > 0 (a lossless cavity has no steady state)")
    if clean["omega_max"] <= clean["omega_min"]:
        raise ParameterError("--omega-max", f"omega_max ({clean['omega_max']:g}) must be larger "
                             f"than omega_min ({clean['omega_min']:g})")
    return clean


# ---------------------------------------------------------------------------
# solving
# ---------------------------------------------------------------------------
def cumulant_available():
    """True if the cumulant solver module can be found."""
    try:
        return importlib.util.find_spec("qutip_superrad.cumulant.laser") is not None
    except Exception:                       # broken parent package
        return False


def _make_laser(p, N):
    import qutip_superrad as qsr
    ens = qsr.Ensemble.identical(N, g=p["coupling"], detuning=p["detuning"])
    return qsr.SuperradiantLaser(ens, kappa=p["kappa"], emission=p["emission"],
                                 pumping=p["pumping"], dephasing=p["dephasing"],
                                 cavity_dephasing=p["cavity_dephasing"],
                                 cavity_detuning=p["cavity_detuning"])



def _try_solve(model, method, omega, nphot, notes, label, max_memory=None):
    """``_solve``, except that a failing cumulant run is noted and skipped (exact ones raise)."""
    try:
        return _solve(model, method, omega, nphot, max_memory)
    except Exception as exc:                 # noqa: BLE001
        if method != "cumulant":
            raise
        notes.append(f"{label}: failed ({type(exc).__name__}: {exc}), skipped")
        return None, None

def _solve(model, method, omega, nphot, max_memory=None):
    """Steady state + spectrum of one model by one method, timed, warnings collected.

    ``max_memory`` in GiB (the ``--max-memory`` flag) for the exact methods.
    """
    bad_cavity = not getattr(model, "has_mode", True)
    opts = {} if (method == "cumulant" or bad_cavity) else {"nphot": nphot}
    if method != "cumulant" and max_memory is not None:
        opts["max_memory"] = max_memory * 2 ** 30
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        ss = model.steadystate(method=method, **opts)
        if method == "cumulant":
            sp = model.spectrum(omega, method=method, state=ss)
        else:
            sp = model.spectrum(omega, method=method, **opts)
        wall = time.perf_counter() - t0
    msgs = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    row = {
        "method": "bad-cavity" if bad_cavity else method,
        "solver": method,
        "photon_number": float(ss.photon_number),
        "photon_flux": float(ss.photon_flux),
        "excited_population": float(np.asarray(ss.excited_population).ravel()[0]),
        "pair_correlation": float(np.real(np.asarray(ss.pair_correlation).ravel()[0])),
        "g2": float(ss.g2),
        "linewidth": float(sp.linewidth),
        "peak": float(sp.peak),
        "n_peaks": int(sp.n_peaks),
        "wall_time": wall,
        "steadystate_checks": ss.checks,
        "spectrum_checks": {k: v for k, v in sp.checks.items() if k != "steady_state"},
        "warnings": msgs,
    }
    return row, sp


_COMPARED = ("photon_number", "excited_population", "pair_correlation", "g2", "linewidth")


def deviations(row, ref):
    """Relative deviations of ``row`` from ``ref`` (peak: shift in units of the reference FWHM)."""
    out = {}
    for key in _COMPARED:
        a, b = row[key], ref[key]
        if math.isfinite(a) and math.isfinite(b):
            out[key] = abs(a - b) / abs(b) if b != 0 else abs(a - b)
    if math.isfinite(row["peak"]) and ref["linewidth"] > 0:
        out["peak_over_fwhm"] = abs(row["peak"] - ref["peak"]) / ref["linewidth"]
    out["max"] = max(out.values()) if out else float("nan")
    return out


def _fmt(x, width=11):
    if isinstance(x, str):
        return f"{x:>{width}}"
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return f"{'-':>{width}}"
    return f"{x:>{width}.6g}"


def format_table(rows, ref_name="full"):
    """The comparison table as text (one line per method)."""
    cols = [("method", "method", 12), ("photons", "photon_number", 11),
            ("P_exc", "excited_population", 11), ("pair", "pair_correlation", 11),
            ("g2", "g2", 11), ("FWHM", "linewidth", 11), ("peak", "peak", 11),
            ("time[s]", "wall_time", 9), (f"dev_vs_{ref_name}", "deviation", 13)]
    lines = [" ".join(f"{h:>{w}}" for h, _, w in cols)]
    lines.append(" ".join("-" * w for _, _, w in cols))
    for r in rows:
        cells = []
        for _, key, w in cols:
            if key == "method":
                cells.append(f"{r['method']:>{w}}")
            elif key == "deviation":
                dev = r.get("deviation")
                cells.append(_fmt("(ref)" if dev is None and r["method"] == ref_name else
                                  (dev["max"] if dev else None), w))
            elif key == "wall_time":
                cells.append(f"{r[key]:>{w}.3f}")
            else:
                cells.append(_fmt(r[key], w))
        lines.append(" ".join(cells))
    return "\n".join(lines)


def _omega(p):
    return np.linspace(p["omega_min"], p["omega_max"], p["omega_points"])


def _header(p, N):
    g = p["coupling"]
    C = 4 * g ** 2 / (p["kappa"] * p["emission"]) if p["emission"] > 0 else float("inf")
    k = p["kappa"] + p["cavity_dephasing"]
    gc = k * g ** 2 / (p["cavity_detuning"] ** 2 + k ** 2 / 4)   # as eliminate_cavity()
    return (f"superradiant laser: N={N}, coupling={g:g}, kappa={p['kappa']:g}, "
            f"emission={p['emission']:g}, pumping={p['pumping']:g}, "
            f"dephasing={p['dephasing']:g}, cavity_dephasing={p['cavity_dephasing']:g}, "
            f"cavity_detuning={p['cavity_detuning']:g}, detuning={p['detuning']:g}, "
            f"nphot={p['nphot']}\n"
            f"  cooperativity C = 4g^2/(kappa*emission) = {C:.4g}, collective emission of the "
            f"bad-cavity limit Gamma_c = {gc:.4g} (4g^2/kappa on resonance), bad-cavity "
            f"parameter g*sqrt(N)/kappa = {g * math.sqrt(N) / p['kappa']:.3g}")


def _save_spectrum_plot(path, spectra, rows, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    styles = {"full": dict(color="C0", lw=2.5, alpha=0.6), "dicke": dict(color="C1", ls="--"),
              "cumulant": dict(color="C2", ls=":"), "bad-cavity": dict(color="C3", ls="-.")}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, sp in spectra.items():
        st = styles.get(name, {})
        smax = sp.evaluate(np.array([sp.peak]))[0] if sp.evaluate else np.max(sp.S)
        for ax, scale in ((axes[0], 1.0), (axes[1], 1.0 / smax)):
            if ax is axes[0] and name == "bad-cavity":
                continue                      # other normalisation (⟨J⁺J⁻⟩ instead of ⟨a†a⟩)
            ax.plot(sp.omega, sp.S * scale, label=f"{name} (FWHM {sp.linewidth:.4g})", **st)
            ax.hlines(smax * scale / 2, sp.peak - sp.linewidth / 2, sp.peak + sp.linewidth / 2,
                      color=st.get("color", "k"), lw=1.2)
            ax.plot([sp.peak - sp.linewidth / 2, sp.peak + sp.linewidth / 2],
                    [smax * scale / 2] * 2, "|", color=st.get("color", "k"), ms=10)
    axes[0].set_ylabel("S(ω)")
    axes[0].set_title("cavity spectrum")
    axes[1].set_ylabel("S(ω) / S(peak)")
    axes[1].set_title("normalised, with bad-cavity limit")
    for ax in axes:
        ax.set_xlabel("ω")
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_laser(p, out=None, err=None, quiet=False):
    """The ``laser`` subcommand on clean parameters ``p``; returns the JSON-able report."""
    out, err = out or sys.stdout, err or sys.stderr
    N = p["N"]
    laser = _make_laser(p, N)
    omega = _omega(p)
    methods = list(p["methods"])
    notes = []
    if "cumulant" in methods and not cumulant_available():
        methods.remove("cumulant")
        notes.append("cumulant: qutip_superrad.cumulant.laser not found, skipped")
    rows, spectra = [], {}
    for m in methods:
        row, sp = _try_solve(laser, m, omega, p["nphot"], notes, "cumulant", p["max_memory"])
        if row is None:
            continue
        rows.append(row)
        spectra[m] = sp
    if p["bad_cavity"]:
        row, sp = _solve(laser.eliminate_cavity(), "dicke", omega, p["nphot"], p["max_memory"])
        rows.append(row)
        spectra["bad-cavity"] = sp
    if not rows:
        raise RuntimeError("no method produced a result")
    ref = next((r for r in rows if r["method"] == "full"), rows[0])
    for r in rows:
        r["deviation"] = None if r is ref else deviations(r, ref)
    for r in rows:
        notes.extend(f"{r['method']}: {w}" for w in r["warnings"])
    report = {"command": "laser", "version": __version__, "parameters": p,
              "reference": ref["method"], "results": {r["method"]: r for r in rows},
              "notes": notes}
    if "full" in report["results"] and "dicke" in report["results"]:
        report["deviation_dicke_vs_full"] = report["results"]["dicke"]["deviation"]
    if not quiet:
        print(_header(p, N), file=out)
        print(format_table(rows, ref["method"]), file=out)
        print("(photons for bad-cavity = photon_flux/kappa; pair = <s+_1 s-_2>; "
              "dev = max relative deviation of photons, P_exc, pair, g2, FWHM and "
              "peak shift/FWHM)", file=out)
        for n in notes:
            print(f"note: {n}", file=err)
    if p["plot"]:
        _plot_or_record(report, p["plot"], "spectrum", quiet, out, _save_spectrum_plot,
                        p["plot"], spectra, rows,
                        f"N={N}, g={p['coupling']:g}, κ={p['kappa']:g}, "
                        f"Γ={p['emission']:g}, R={p['pumping']:g}, nphot={p['nphot']}")
    return report


def _plot_or_record(report, path, what, quiet, out, save, *args):
    """Save a figure; a failure is recorded in ``report["plot_error"]`` instead of losing
    the numbers (the caller writes the JSON first and reports the error afterwards)."""
    try:
        save(*args)
    except Exception as err:                               # noqa: BLE001 - any backend error
        report["plot_error"] = f"{type(err).__name__}: {err}"
        return
    report["plot"] = str(Path(path).resolve())
    if not quiet:
        print(f"{what} plot written to {path}", file=out)


def _check_output_path(flag, path):
    """Refuse an output path that cannot be written, before any computation."""
    if not path:
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ValueError(f"{flag} {path}: is a directory, give a file name")
    if not parent.is_dir():
        raise ValueError(f"{flag} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ValueError(f"{flag} {path}: not writable")


def _save_sweep_plot(path, table, methods, p):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    marks = {"dicke": "o-", "full": "s--", "cumulant": "^:", "bad-cavity": "x-."}
    for m in methods:
        pts = [(r["N"], r[m]) for r in table if m in r]
        if not pts:
            continue
        Ns = [n for n, _ in pts]
        axes[0].loglog(Ns, [v["photon_number"] for _, v in pts], marks.get(m, "o-"), label=m)
        axes[1].loglog(Ns, [v["linewidth"] for _, v in pts], marks.get(m, "o-"), label=m)
    gc = 4 * p["coupling"] ** 2 / p["kappa"]
    axes[1].axhline(p["emission"], color="0.5", ls=":", lw=1, label="Γ")
    axes[1].axhline(gc, color="0.3", ls="--", lw=1, label="Γc = CΓ = 4g²/κ")
    axes[0].set_ylabel("⟨a†a⟩  (bad cavity: flux/κ)")
    axes[1].set_ylabel("FWHM")
    for ax in axes:
        ax.set_xlabel("N")
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(f"g={p['coupling']:g}, κ={p['kappa']:g}, Γ={p['emission']:g}, R={p['pumping']:g}, "
                 f"nphot={p['nphot']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_sweep(p, out=None, err=None, quiet=False):
    """The ``sweep`` subcommand: photon number and linewidth versus N."""
    out, err = out or sys.stdout, err or sys.stderr
    from ._progress import progress
    omega = _omega(p)
    methods = list(p["methods"])
    notes = []
    if "cumulant" in methods and not cumulant_available():
        methods.remove("cumulant")
        notes.append("cumulant: qutip_superrad.cumulant.laser not found, skipped")
    table = []
    for N in progress(p["N"], desc="sweep over N", enabled=not quiet, stream=err):
        laser = _make_laser(p, N)
        entry = {"N": N}
        for m in methods:
            model, method = (laser.eliminate_cavity(), "dicke") if m == "bad-cavity" else (laser, m)
            row, _ = _try_solve(model, method, omega, p["nphot"], notes, f"cumulant at N={N}",
                                   p["max_memory"])
            if row is None:
                continue
            notes.extend(f"{m} at N={N}: {w}" for w in row["warnings"])
            entry[m] = row
        table.append(entry)
    if not quiet:
        head = f"{'N':>5}" + "".join(f" {m + ':photons':>20} {m + ':FWHM':>17}" for m in methods)
        print(_header(p, p["N"][-1]).replace(f"N={p['N'][-1]}", f"N={p['N']}"), file=out)
        print(head, file=out)
        for e in table:
            line = f"{e['N']:>5}"
            for m in methods:
                r = e.get(m)
                line += (f" {_fmt(r['photon_number'], 20)} {_fmt(r['linewidth'], 17)}" if r
                         else f" {'-':>20} {'-':>17}")
            print(line, file=out)
        for n in notes:
            print(f"note: {n}", file=err)
    report = {"command": "sweep", "version": __version__, "parameters": p, "methods": methods,
              "results": table, "notes": notes}
    if p["plot"]:
        _plot_or_record(report, p["plot"], "sweep", quiet, out, _save_sweep_plot, p["plot"],
                        table, methods, p)
    return report


def info():
    """Versions and capabilities as a dict (like ``qutip.about()``)."""
    import qutip
    import scipy
    data = {"qutip-superrad": __version__, "location": str(Path(__file__).parent),
            "defaults": str(DEFAULTS_FILE), "python": sys.version.split()[0],
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "qutip": qutip.__version__, "numpy": np.__version__, "scipy": scipy.__version__}
    try:
        import matplotlib
        data["matplotlib"] = matplotlib.__version__
    except ImportError:                                   # pragma: no cover
        data["matplotlib"] = None
    for env in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if env in os.environ:
            data[env] = os.environ[env]
    methods = {"full": True, "dicke": True, "cumulant": cumulant_available()}
    try:
        kernel = importlib.util.find_spec("qutip_superrad._kernels.cumulant_laser") is not None
    except Exception:                                     # noqa: BLE001
        kernel = False
    data["methods"] = methods
    data["cython_cumulant_kernel"] = kernel
    return data


def _print_info(data, out):
    print("qutip-superrad: collective light-matter models for QuTiP", file=out)
    print("=" * 56, file=out)
    width = max(len(k) for k in data) + 1
    for key, value in data.items():
        if key == "methods":
            value = ", ".join(f"{m} ({'available' if ok else 'not available'})"
                              for m, ok in value.items())
        print(f"{key + ':':<{width}} {value}", file=out)


# ---------------------------------------------------------------------------
# argparse
# ---------------------------------------------------------------------------
def _add_model_flags(sp, sweep=False):
    S = argparse.SUPPRESS
    g = sp.add_argument_group("model parameters (ħ = 1, any rate unit)")
    if sweep:
        g.add_argument("--N", type=str, default=S, metavar="N1,N2,...",
                       help="comma-separated atom numbers (default 1,2,3,4,6,8,10,12)")
    else:
        g.add_argument("--N", type=int, default=S, help="number of identical atoms (default 4)")
    g.add_argument("--coupling", type=float, default=S,
                   help="atom-cavity coupling g (default 1)")
    g.add_argument("--kappa", type=float, default=S, help="cavity loss rate κ > 0 (default 10)")
    g.add_argument("--emission", type=float, default=S,
                   help="spontaneous emission rate Γ of Γ D[σ⁻] (default 0.1)")
    g.add_argument("--pumping", type=float, default=S,
                   help="incoherent pump rate R of R D[σ⁺] (default 1)")
    g.add_argument("--dephasing", type=float, default=S,
                   help="atomic dephasing ν of ν D[σ⁺σ⁻] = (ν/4) D[σ_z] (default 0)")
    for old in _RENAMED_KEYS:                  # former names, hidden from --help
        g.add_argument("--" + old.replace("_", "-"), dest=_OLD_DEST + old, type=float,
                       default=S, help=S)
    g.add_argument("--cavity-dephasing", dest="cavity_dephasing", type=float, default=S,
                   help="cavity dephasing ξ of ξ D[a†a] (default 0)")
    g.add_argument("--cavity-detuning", dest="cavity_detuning", type=float, default=S,
                   help="cavity frequency δ_c in the rotating frame (default 0)")
    g.add_argument("--detuning", type=float, default=S,
                   help="cavity-atom detuning Δ = ω_c − ω_a (default 0)")
    g.add_argument("--nphot", type=int, default=S, help="Fock states of the cavity (default 10)")
    g.add_argument("--max-memory", dest="max_memory", type=float, default=S, metavar="GIB",
                   help="memory limit of the exact methods in GiB (default 8); a larger "
                        "problem is refused with its estimate")
    n = sp.add_argument_group("numerics and output")
    if sweep:
        n.add_argument("--methods", type=str, default=S, metavar="M1,M2",
                       help="comma-separated subset of dicke, bad-cavity, full, cumulant "
                            "(default dicke,bad-cavity)")
    else:
        n.add_argument("--methods", type=str, default=S, metavar="M1,M2",
                       help="comma-separated subset of full, dicke, cumulant (default: all; "
                            "cumulant is skipped when it is not available)")
        n.add_argument("--bad-cavity", dest="bad_cavity", action=argparse.BooleanOptionalAction,
                       default=S, help="add the bad-cavity limit row (default: yes)")
    n.add_argument("--omega-min", dest="omega_min", type=float, default=S,
                   help="lowest frequency of the spectrum grid (default -3)")
    n.add_argument("--omega-max", dest="omega_max", type=float, default=S,
                   help="highest frequency of the spectrum grid (default 3)")
    n.add_argument("--omega-points", dest="omega_points", type=int, default=S,
                   help="points of the spectrum grid (default 401 laser, 201 sweep)")
    n.add_argument("--plot", type=str, default=S, metavar="PATH",
                   help="PNG file for the figure (default superradiant_laser_%s.png)"
                        % ("sweep" if sweep else "spectrum"))
    n.add_argument("--no-plot", dest="no_plot", action="store_true", help="do not write a figure")
    n.add_argument("--json", type=str, default=S, metavar="PATH",
                   help="write the results as JSON to PATH")
    n.add_argument("--config", type=str, default=None, metavar="TOML",
                   help="TOML file with parameters (same keys as the flags, with '_'); "
                        "flags override it")
    n.add_argument("--quiet", "-q", action="store_true",
                   help="no table, notes or progress bar (files are still written)")


def build_parser():
    """The argparse parser of ``qutip-superrad``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="qutip-superrad: superradiant laser (Bychek et al., Open Res. Europe 1, "
                    "73 (2021)) solved exactly in the full "
                    "tensor space and in the permutation-invariant Dicke basis, with cumulants "
                    "and the bad-cavity limit for comparison.  Without a subcommand, 'laser' "
                    "runs on the built-in defaults.",
        epilog="Examples:\n  python -m qutip_superrad\n"
               "  python -m qutip_superrad laser --N 3 --nphot 8 --json out.json\n"
               "  python -m qutip_superrad sweep --N 1,2,4,8 --plot sweep.png\n"
               "  python -m qutip_superrad sweep --model dipoles --grid pumping=0.5:4:8 "
               "--grid collective_emission=0.5:3:6 --store run.sqlite --map parallel\n"
               "  python -m qutip_superrad run --model collective-pumping --set N=20 "
               "--set emission=1 --method dicke\n"
               "  python -m qutip_superrad info",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{laser,sweep,run,info}")
    lp = sub.add_parser("laser", help="compare full / Dicke (/ cumulant) solutions and the "
                        "bad-cavity limit for one small ensemble; plot the spectra",
                        description="Steady state and emission spectrum of the superradiant "
                        "laser for N identical atoms, by every exact method, with the relative "
                        "deviation Dicke vs full, the bad-cavity limit and a spectrum plot.")
    _add_model_flags(lp)
    sp = sub.add_parser("sweep", help="photon number and linewidth versus N (Dicke basis and "
                        "bad-cavity limit), with a progress bar",
                        description="Photon number and linewidth versus the atom number N.")
    _add_model_flags(sp, sweep=True)
    _cli_sweep.add_flags(sp)
    rp = sub.add_parser("run", help="one steady state of any registered model "
                        "(--model NAME --set NAME=VALUE ...; --list-models)",
                        description="One steady state of a registered model, with its "
                        "parameters named as in the Python API; prints a table of its "
                        "observables (the numbers of model.steadystate(method)).",
                        epilog="Examples:\n  python -m qutip_superrad run --list-models\n"
                        "  python -m qutip_superrad run --help-model collective-pumping\n"
                        "  python -m qutip_superrad run --model collective-pumping --set N=20 "
                        "--set emission=1 --method dicke --json out.json\n"
                        "  python -m qutip_superrad run --model spin-cats --set N=8 "
                        "--set eta=0.2 --observables Sz,SpSm",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    _cli_run.add_flags(rp)
    ip = sub.add_parser("info", help="versions of qutip-superrad and its dependencies, "
                        "available methods", description="Print version information.")
    ip.add_argument("--json", type=str, default=None, metavar="PATH",
                    help="also write the information as JSON")
    parser._subparsers_by_name = {"laser": lp, "sweep": sp, "run": rp, "info": ip}
    return parser


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (complex, np.complexfloating)):
        return {"real": _jsonable(obj.real), "imag": _jsonable(obj.imag)}
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def _write_json(path, data):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(_jsonable(data), fh, indent=2, allow_nan=False)
        fh.write("\n")


def main(argv=None):
    """Entry point; returns the exit status (0 ok, 1 solver failure, 2 bad parameters)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["laser"] + argv
    parser = build_parser()
    args = parser.parse_args(argv)
    sub = parser._subparsers_by_name[args.command]
    if args.command == "info":
        data = info()
        _print_info(data, sys.stdout)
        if args.json:
            _write_json(args.json, data)
        return 0
    if args.command == "run":
        return _main_model_run(args, sub)
    flags = {k: v for k, v in vars(args).items()
             if k in _KEYS}
    for key, value in vars(args).items():      # former flag names
        if not key.startswith(_OLD_DEST):
            continue
        old = key[len(_OLD_DEST):]
        new = _RENAMED_KEYS[old]
        old_flag, new_flag = "--" + old.replace("_", "-"), _KEYS[new][0]
        if new in flags:
            sub.error(f"argument {old_flag}: renamed to {new_flag}; give only {new_flag}")
        print(f"{sub.prog}: warning: {old_flag} is renamed to {new_flag}", file=sys.stderr)
        flags[new] = value
    if args.no_plot:
        flags["plot"] = ""
    if args.command == "sweep" and args.model:
        return _main_model_sweep(args, flags, sub)
    if args.command == "sweep" and args.grid:
        sub.error("--grid needs --model NAME (without --model, sweep runs the laser over --N)")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)
            params = resolve_parameters(args.command, args.config, flags)
        for w in caught:                                   # renamed config keys
            if issubclass(w.category, FutureWarning):
                print(f"{sub.prog}: warning: {w.message}", file=sys.stderr)
            else:                                          # pragma: no cover
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        _check_output_path("--json", params["json"])       # before any computation
        _check_output_path("--plot", params["plot"])
        for N in np.atleast_1d(params["N"]):             # the package's own checks
            laser = _make_laser(params, int(N))
            if params.get("bad_cavity", "bad-cavity" in params["methods"]):
                laser.eliminate_cavity()
    except (ValueError, TypeError) as err:
        sub.error(str(err))                                # exits with status 2
    runner = run_laser if args.command == "laser" else run_sweep
    try:
        report = runner(params, quiet=args.quiet)
        if params["json"]:                                 # the numbers first, then the plot error
            _write_json(params["json"], report)
            if not args.quiet:
                print(f"results written to {params['json']}")
        if "plot_error" in report:
            print(f"{sub.prog}: error: the plot could not be written ({report['plot_error']}); "
                  "the results are " + ("in " + params["json"] if params["json"] else
                                        "printed above"), file=sys.stderr)
            return 1
    except ValueError as err:                              # e.g. a method that does not apply
        sub.error(str(err))
    except (TypeError, MemoryError, RuntimeError, OSError) as err:
        print(f"{sub.prog}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def _main_model_sweep(args, flags, sub):
    """``sweep --model NAME``: any registered model through :func:`qutip_superrad.sweep`."""
    extra = sorted(set(flags) - {"plot", "json", "nphot"})
    if extra:
        sub.error(f"argument {_KEYS[extra[0]][0]}: with --model give model parameters as "
                  f"--set NAME=VALUE or --grid NAME=SPEC")
    try:
        for flag, key in (("--json", "json"), ("--plot", "plot")):
            _check_output_path(flag, flags.get(key, ""))   # before any computation
        report, res, status = _cli_sweep.run_model_sweep(args, flags)
    except (ValueError, TypeError) as err:
        sub.error(str(err))
    except RuntimeError as err:                            # SweepError (--fail-fast)
        print(f"{sub.prog}: error: {err}", file=sys.stderr)
        return 1
    def save(path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        ax = res.plot()
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
        plt.close(ax.figure)
    if _write_outputs(report, flags.get("json"), flags.get("plot"), "sweep", args.quiet, sub,
                      save):
        return 1
    if status and not args.quiet:
        print(f"{sub.prog}: {len(res.failed)} point(s) failed, {len(res.missing)} missing"
              + (f"; rerun with --store {res.store} to resume" if res.store else ""),
              file=sys.stderr)
    return status


def _write_outputs(report, json_path, plot_path, what, quiet, sub, save, *save_args):
    """The numbers first (``--json``), then the plot; True if the plot failed (reported)."""
    if json_path:
        _write_json(json_path, report)
    if plot_path:
        _plot_or_record(report, plot_path, what, quiet, sys.stdout, save, plot_path,
                        *save_args)
        if "plot_error" in report:
            if json_path:                                  # the JSON records the failure too
                _write_json(json_path, report)
            print(f"{sub.prog}: error: the plot could not be written ({report['plot_error']})"
                  + (f"; the results are in {json_path}" if json_path else ""),
                  file=sys.stderr)
            return True
    return False


def _main_model_run(args, sub):
    """``run --model NAME``: one steady state of any registered model."""
    if args.list_models:
        print(_cli_run.list_models())
        return 0
    try:
        if args.help_model:
            print(_cli_run.describe_model(args.help_model))
            return 0
        for flag, path in (("--json", args.json), ("--plot", args.plot)):
            _check_output_path(flag, path)                 # before any computation
        _cli_run.prepare(args)                             # parameters, method, model
    except (ValueError, TypeError) as err:
        sub.error(str(err))                                # exits with status 2
    try:
        report = _cli_run.run_model(args)
    except (ValueError, TypeError) as err:                 # e.g. a method that does not apply
        sub.error(str(err))
    except (MemoryError, RuntimeError, OSError) as err:    # MemoryLimitError, no convergence
        print(f"{sub.prog}: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    if _write_outputs(report, args.json, args.plot, "observables", args.quiet, sub,
                      _cli_run.save_plot, report):
        return 1
    if args.json and not args.quiet:
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":                                # pragma: no cover
    sys.exit(main())
