"""``python -m qutip_superrad sweep --model NAME --grid ...``: any registered model, any map.

The command-line face of :func:`qutip_superrad.sweep`; the flags carry the names of its
arguments (``--map``, ``--num-cpus``, ``--timeout``, ``--point-timeout``, ``--fail-fast``,
``--store``, ``--resume``, ``--retry-failed``, ``--seed``, ``--path``).
"""
import argparse
import math
import sys

import numpy as np

from .models.registry import MODELS, registered
from .sweeps import MAPS, PATHS

__all__ = ["add_flags", "parse_axis", "parse_set", "run_model_sweep"]


def add_flags(sp):
    """The flags of a model sweep, added to the ``sweep`` subparser."""
    g = sp.add_argument_group(
        "sweep of a registered model (--model NAME --grid AXIS=SPEC ...)")
    g.add_argument("--model", choices=sorted(MODELS), default=None,
                   help="registered model: " + "; ".join(
                       f"{k}: {e.description}" for k, e in sorted(MODELS.items())))
    g.add_argument("--grid", action="append", default=[], metavar="AXIS=SPEC",
                   help="a grid axis: 'a:b:n' (n points from a to b), 'a:b:n:log' (geometric) "
                        "or 'v1,v2,...'; repeat for an outer product; 'method=full,dicke' "
                        "compares methods")
    g.add_argument("--set", dest="fixed", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter held fixed (default: the model's defaults)")
    g.add_argument("--method", default=None, help="solver method (default: the model's)")
    g.add_argument("--observables", default=None, metavar="O1,O2",
                   help="observables to record (default: the model's)")
    g.add_argument("--store", default=None, metavar="PATH.sqlite",
                   help="SQLite store: one row per finished point; rerun to resume")
    g.add_argument("--path", choices=PATHS, default="auto",
                   help="auto (default): one bound solver rebound per point (the grid path) "
                        "where the method and model allow it, else each point on its own; "
                        "grid: require the grid path; point: each point on its own")
    g.add_argument("--map", choices=MAPS, default="serial",
                   help="QuTiP map: serial, parallel, loky or mpi (default serial)")
    g.add_argument("--num-cpus", dest="num_cpus", type=int, default=None,
                   help="workers of the parallel maps (default: QuTiP's, the available cores)")
    g.add_argument("--timeout", type=float, default=None,
                   help="seconds for the whole sweep; unfinished points are left for a resume")
    g.add_argument("--point-timeout", dest="point_timeout", type=float, default=None,
                   help="seconds per point; a point past it is recorded as timed out")
    g.add_argument("--fail-fast", dest="fail_fast", action="store_true",
                   help="stop at the first failed point (default: record it and go on)")
    g.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                   help="continue an existing store (default yes; --no-resume refuses one)")
    g.add_argument("--retry-failed", dest="retry_failed", action="store_true",
                   help="run again the points recorded as failed or timed out")
    g.add_argument("--seed", type=int, default=0,
                   help="master seed of the per-point seeds (default 0)")


def _number(text, what):
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number") from None
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def parse_axis(spec):
    """``'kappa=1:10:20'`` → ``("kappa", [20 values])``; see ``--grid``."""
    name, sep, body = spec.partition("=")
    name = name.strip()
    if not sep or not name or not body:
        raise ValueError(f"--grid {spec!r}: write AXIS=SPEC, e.g. kappa=1:10:20 or N=2,4,8")
    if name == "method":
        return name, [m.strip() for m in body.split(",") if m.strip()]
    what = f"--grid {name}"
    if ":" in body:
        parts = body.split(":")
        log = parts[-1].strip() == "log"
        if log:
            parts = parts[:-1]
        if len(parts) != 3:
            raise ValueError(f"{what}: a range is start:stop:count[:log], got {body!r}")
        a, b = (_number(p, what) for p in parts[:2])
        n = _number(parts[2], what)
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{what}: the count must be an integer >= 1, got {parts[2]!r}")
        if log and (a <= 0 or b <= 0):
            raise ValueError(f"{what}: a geometric range needs positive ends")
        vals = np.geomspace(a, b, n) if log else np.linspace(a, b, n)
        if isinstance(a, int) and isinstance(b, int) and np.allclose(vals, np.round(vals)):
            return name, [int(v) for v in np.round(vals)]
        return name, [float(v) for v in vals]
    return name, [_number(v.strip(), what) for v in body.split(",")]


def parse_set(items):
    """``["N=20", "emission=1"]`` (the ``--set`` flags) → ``{"N": 20, "emission": 1}``."""
    fixed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: write NAME=VALUE")
        fixed[key.strip()] = _number(value.strip(), f"--set {key.strip()}")
    return fixed


def _task(args, flags):
    import qutip_superrad as qsr
    entry = registered(args.model)
    fixed = parse_set(args.fixed)
    call_kwargs = {"nphot": flags["nphot"]} if "nphot" in flags else {}
    obs = None if args.observables is None else [o.strip() for o in args.observables.split(",")]
    return qsr.SweepTask(entry.name, args.method, observables=obs, fixed=fixed,
                         call_kwargs=call_kwargs)


def run_model_sweep(args, flags, out=None, err=None):
    """Run the sweep described by the parsed flags; returns ``(report, SweepResult, exit status)``."""
    import qutip_superrad as qsr
    out, err = out or sys.stdout, err or sys.stderr
    if not args.grid:
        raise ValueError("--grid: give at least one axis, e.g. --grid pumping=0.5:2:4")
    task = _task(args, flags)
    grid = dict(parse_axis(s) for s in args.grid)
    map_kw = {k: getattr(args, k) for k in ("num_cpus", "timeout", "point_timeout")
              if getattr(args, k) is not None}
    map_kw["fail_fast"] = args.fail_fast
    res = qsr.sweep(task, grid, map=args.map, map_kw=map_kw, store=args.store,
                    resume=args.resume, retry_failed=args.retry_failed, seed=args.seed,
                    progress_bar=not args.quiet, path=args.path)
    if not args.quiet:
        _print_table(res, out)
        for r in res.failed:
            print(f"note: {r['params']}: {r['status']}: {r['error']}", file=err)
        paths = [r.get("path") or {} for r in res.records if r]
        on_grid = sum(1 for p in paths if p.get("kind") == "grid")
        reason = next((p["reason"] for p in paths if p.get("reason")), None)
        if on_grid:
            print(f"note: {on_grid} point(s) by the grid path (one bound solver)", file=err)
        elif reason:
            print(f"note: each point on its own: {reason}", file=err)
        warned = sum(1 for r in res.records if r and r.get("warnings"))
        if warned:
            print(f"note: {warned} point(s) raised warnings (e.g. a truncated photon space): "
                  "see 'warnings' in the records / --json", file=err)
    report = {"command": "sweep", "model": task.label, "method": task.method,
              "grid": grid, "fixed": task.fixed, "store": res.store,
              "observables": res.observables,
              "points": [{"params": p, **({k: r.get(k) for k in ("status", "values", "error",
                                                                  "warnings", "wall", "path")}
                                          if r else {"status": "missing"})}
                         for p, r in zip(res.points, res.records)]}
    status = 0 if res.complete else 1
    return report, res, status


def _print_table(res, out, limit=60):
    names = list(res.dims if res.axes else res.points[0])
    head = " ".join(f"{n:>12}" for n in names + res.observables) + f" {'status':>8}"
    print(f"{res!r}", file=out)
    print(head, file=out)
    for i, (p, r) in enumerate(zip(res.points, res.records)):
        if i == limit:
            print(f"... {len(res.points) - limit} more points (see --json or the store)",
                  file=out)
            break
        cells = [_cell(p[n]) for n in names]
        vals = (r or {}).get("values", {})
        cells += [_cell(vals.get(o)) for o in res.observables]
        status = r["status"] if r else "missing"
        if r and r.get("warnings"):
            status += "*"
        print(" ".join(f"{c:>12}" for c in cells) + f" {status:>8}", file=out)


def _cell(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if np.ndim(v):
        return "[array]"
    if isinstance(v, complex):
        return f"{v.real:.4g}{v.imag:+.4g}j"
    if isinstance(v, float) and not math.isfinite(v):
        return "nan"
    # round-off such as -6e-10 next to O(1) numbers is noise, not data
    return f"{0.0 if abs(v) < 1e-12 else v:.6g}"
