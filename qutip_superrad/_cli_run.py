"""``python -m qutip_superrad run --model NAME --set NAME=VALUE ...``: one steady state of any
registered model.

Driven by the registry (:mod:`qutip_superrad.models.registry`): the parameters are the
keyword arguments of the model's registered constructor, named as in the Python API, the
methods those of its ``steadystate`` and the observables those of its result.  The
computation is :class:`qutip_superrad.SweepTask` at one point, so ``run`` and ``sweep``
give the same numbers as the Python API.
"""
import sys
import time
import warnings

import numpy as np

from ._cli_sweep import _cell, parse_set
from .models.registry import MODELS, registered

__all__ = ["add_flags", "prepare", "run_model", "describe_model", "list_models"]


def add_flags(sp):
    """The flags of the ``run`` subparser."""
    g = sp.add_argument_group("model and parameters (names as in the Python API)")
    g.add_argument("--model", choices=sorted(MODELS), default=None, metavar="NAME",
                   help="registered model: " + ", ".join(sorted(MODELS))
                        + " (see --list-models, --help-model NAME)")
    g.add_argument("--set", dest="fixed", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter of the model (repeat; default: the model's defaults, "
                        "see --help-model NAME)")
    g.add_argument("--method", default=None,
                   help="steady-state method (default: the model's; see --help-model NAME)")
    g.add_argument("--observables", default=None, metavar="O1,O2",
                   help="observables to print, read from the result (default: the model's)")
    g.add_argument("--list-models", dest="list_models", action="store_true",
                   help="list the registered models with their methods and exit")
    g.add_argument("--help-model", dest="help_model", default=None, metavar="NAME",
                   help="parameters (with defaults), methods and observables of one model")
    o = sp.add_argument_group("numerics and output")
    o.add_argument("--max-memory", dest="max_memory", type=float, default=None, metavar="GIB",
                   help="memory limit of the exact methods in GiB (default 8); a larger "
                        "problem is refused with its estimate")
    o.add_argument("--progress", action="store_true",
                   help="progress bar of the solver (QuTiP's progress_bar=True)")
    o.add_argument("--json", default="", metavar="PATH", help="write the result as JSON")
    o.add_argument("--plot", default="", metavar="PATH",
                   help="PNG bar chart of the observables (written after the JSON)")
    o.add_argument("--quiet", "-q", action="store_true", help="no table (files are written)")


def list_models():
    """The registered models, one line each (``--list-models``)."""
    lines = [f"{'model':<20} {'default':<11} methods / description"]
    for name, e in sorted(MODELS.items()):
        lines.append(f"{name:<20} {e.method:<11} {', '.join(e.methods)}")
        lines.append(f"{'':<32} {e.description}")
    lines.append("details: --help-model NAME")
    return "\n".join(lines)


def describe_model(name):
    """Parameters with defaults, methods and observables of one model (``--help-model``)."""
    e = registered(name)
    width = max(len(k) for k in e.parameters)
    lines = [f"{e.name}: {e.description}", f"constructor: {e.factory.__module__}."
             f"{e.factory.__name__}({', '.join(e.parameters)})", "", "parameters (--set NAME=VALUE):"]
    lines += [f"  {k:<{width}} = {e.defaults[k]!r}" for k in e.parameters]
    lines += ["", f"methods (--method): {', '.join(e.methods)} (default {e.method}); "
              f"--max-memory applies to: {', '.join(e.exact_methods) or 'none'}"]
    if e.call_kwargs:
        lines.append("options of the exact methods: " + ", ".join(
            f"{k}={v!r}" for k, v in e.call_kwargs.items()))
    lines += [f"observables (--observables, default): {', '.join(e.observables)}", "",
              f"example: python -m qutip_superrad run --model {e.name} "
              + " ".join(f"--set {k}={e.defaults[k]!r}" for k in e.parameters[:2])
              + f" --method {e.method}"]
    return "\n".join(lines)


def prepare(args):
    """Validate the flags and build the model once (before any computation).

    Returns ``(entry, params, method, observables, call_kwargs, notes)``; raises
    ``ValueError``/``TypeError`` naming the flag or the parameter.
    """
    if args.model is None:
        raise ValueError("--model: name a registered model (" + ", ".join(sorted(MODELS))
                         + "), or use --list-models")
    entry = registered(args.model)
    fixed = parse_set(args.fixed)
    unknown = [k for k in fixed if k not in entry.parameters]
    if unknown:
        raise ValueError(f"--set {unknown[0]}: not a parameter of model {entry.name}; its "
                         f"parameters: {', '.join(entry.parameters)}")
    method = entry.method if args.method is None else args.method
    if method not in entry.methods:
        raise ValueError(f"--method {method}: model {entry.name} has the methods "
                         f"{', '.join(entry.methods)}")
    obs = (list(entry.observables) if args.observables is None else
           [o.strip() for o in args.observables.split(",") if o.strip()])
    if not obs:
        raise ValueError("--observables: name at least one observable")
    params = {**entry.defaults, **fixed}
    notes = []
    call_kwargs = {}
    if args.max_memory is not None:
        if not args.max_memory > 0:
            raise ValueError(f"--max-memory: max_memory must be > 0 GiB, got {args.max_memory}")
        if method in entry.exact_methods:
            call_kwargs["max_memory"] = args.max_memory * 2 ** 30
        else:
            notes.append(f"--max-memory is ignored: method {method!r} has no memory guard "
                         f"(it applies to {', '.join(entry.exact_methods) or 'none'})")
    if args.progress:
        call_kwargs["progress_bar"] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entry.factory(**params)                  # the model's own checks, named by parameter
    notes += list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return entry, params, method, obs, call_kwargs, notes


def run_model(args, out=None, err=None):
    """Solve the model described by the parsed flags; returns the JSON-able report."""
    import qutip_superrad as qsr
    out, err = out or sys.stdout, err or sys.stderr
    entry, params, method, obs, call_kwargs, notes = prepare(args)
    task = qsr.SweepTask(entry.name, method, observables=obs, fixed=params,
                         call_kwargs=call_kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        values = task({})
        wall = time.perf_counter() - t0
    notes += list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    report = {"command": "run", "model": entry.name, "method": method, "parameters": params,
              "options": {k: v for k, v in call_kwargs.items() if k != "progress_bar"},
              "observables": obs, "values": values, "wall_time": wall, "notes": notes}
    if not args.quiet:
        print(f"{entry.name} (method={method}): "
              + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in params.items()), file=out)
        width = max(len(o) for o in obs + ["observable"])
        print(f"{'observable':<{width}}  value", file=out)
        for o in obs:
            v = values[o]
            text = (_cell(v) if np.ndim(v) == 0 else
                    "[" + ", ".join(_cell(x) for x in np.ravel(v)[:8])
                    + (", ...]" if np.size(v) > 8 else "]"))
            print(f"{o:<{width}}  {text}", file=out)
        print(f"({wall:.3g} s)", file=out)
        for n in notes:
            print(f"note: {n}", file=err)
    return report


def save_plot(path, report):
    """Bar chart of the real scalar observables of a ``run`` report."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    items = [(k, v) for k, v in report["values"].items()
             if np.ndim(v) == 0 and not isinstance(v, complex)]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * max(len(items), 1), 3.2))
    ax.bar([k for k, _ in items], [v for _, v in items], color="C0")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_title(f"{report['model']} (method={report['method']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
