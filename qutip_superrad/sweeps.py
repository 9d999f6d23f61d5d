"""Parameter sweeps over QuTiP's maps, with a durable SQLite store that resumes.

Every seed figure is a map over parameters.  :func:`sweep` evaluates a task on
every point of a grid through QuTiP's own map functions (``serial_map``,
``parallel_map``, ``loky_pmap``, ``mpi_pmap``), writes one row per finished
point into an SQLite database (WAL mode, one transaction per point, so a crash
loses at most the points that were running) and, when the same task is run
again on the same store, skips what is done.

>>> import qutip_superrad as qsr
>>> res = qsr.sweep("laser", {"pumping": [0.5, 1.0], "N": [2, 3]}, progress_bar=False)
>>> res.values("photon_number").shape
(2, 2)
>>> bool((res.status == "ok").all())
True
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import itertools
import json
import math
import numbers
import os
import platform
import signal
import sqlite3
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = ["sweep", "SweepTask", "SweepResult", "SweepError", "load_sweep", "point_seed"]

MAPS = ("serial", "parallel", "loky", "mpi")
_MAP_KW = {"num_cpus", "timeout", "point_timeout", "fail_fast"}
_STATUSES = ("ok", "error", "timeout")
_PATHS = ("auto", "grid", "point")
_GRID_CALLS = ("steadystate", "evolve")
_FORMAT = 1


class SweepError(RuntimeError):
    """A sweep stopped by ``fail_fast``; ``record`` is the failed point's record."""

    def __init__(self, message, record=None):
        super().__init__(message)
        self.record = record


class _PointTimeout(Exception):
    pass


# ---------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------
class SweepTask:
    """What to compute at one point of a sweep.

    Parameters
    ----------
    model : str, Model or callable
        A registered model name (see :data:`qutip_superrad.models.registry.MODELS`),
        a :class:`~qutip_superrad.Model` (grid axes are its parameters and ``N``,
        set with :meth:`~qutip_superrad.Model.with_values`), or a callable
        building the model from keyword parameters (a model class or a factory).
        With ``call=None`` the callable *is* the computation: ``model(**point)``
        returns a dict of observables or one number (recorded as ``"value"``).
    method : str, optional
        Solver method (``"dicke"``, ``"cumulant"``, …); the registered default if
        omitted.  A grid axis named ``method`` overrides it point by point.
    call : str or None
        Method of the built model to call (``"steadystate"``, ``"spectrum"``,
        ``"evolve"``, …); for a :class:`~qutip_superrad.Model` the package
        function of that name.  ``None``: ``model`` is a plain function.
    observables : sequence of str or dict, optional
        Names read from the result (attribute, ``values`` key, or
        ``result.expect(name)``).  For a :class:`~qutip_superrad.Model`, a dict
        ``{name: operator}`` passed as ``e_ops``.  Registered models have defaults.
    fixed : dict, optional
        Parameters held fixed at every point (a grid axis of the same name wins).
    args : tuple, optional
        Positional arguments of the call (``omega`` of ``spectrum``, ``tlist`` of ``evolve``).
    call_kwargs : dict, optional
        Keyword arguments of the call (``nphot``, ``options``, …).

    Notes
    -----
    When the factory or the call accepts a ``seed`` argument (or the method is
    ``"trajectories"``, whose ``options["seed"]`` it sets), each point gets its own seed, :func:`point_seed` of the sweep's master seed and the point's
    parameters: a resumed sweep draws exactly the numbers an uninterrupted one
    draws, whatever the order in which points ran.
    """

    def __init__(self, model, method=None, *, call="steadystate", observables=None, fixed=None,
                 args=(), call_kwargs=None):
        from .model import Model
        from .models.registry import registered
        self.name = None
        self._registered = None
        fixed = dict(fixed or {})
        call_kwargs = dict(call_kwargs or {})
        if isinstance(model, str):
            entry = registered(model)
            self.name, self._registered = entry.name, entry
            method = entry.method if method is None else method
            observables = entry.observables if observables is None else observables
            model = entry.factory
        self.is_model = isinstance(model, Model)
        if not self.is_model and not callable(model):
            raise TypeError(f"model must be a registered name, a Model or a callable, "
                            f"got {type(model).__name__}")
        if call is not None and not isinstance(call, str):
            raise TypeError(f"call must be a method name or None, got {type(call).__name__}")
        if method is not None and not isinstance(method, str):
            raise TypeError(f"method must be a str, got {type(method).__name__}")
        if self.is_model:
            if call is None:
                raise ValueError("call=None needs a plain function, not a Model")
            if not isinstance(observables, dict) or not observables:
                raise ValueError("a Model sweep needs observables={name: operator} (its e_ops)")
        elif isinstance(observables, dict):
            raise TypeError("observables as {name: operator} only for a Model; give names")
        if observables is not None and not isinstance(observables, dict):
            if isinstance(observables, str):
                observables = (observables,)
            observables = tuple(observables)
            bad = [o for o in observables if not isinstance(o, str)]
            if bad:
                raise TypeError(f"observables must be names (str), got {bad!r}")
        if call is not None and not observables:
            raise ValueError("observables: name what to record (e.g. ['photon_number'])")
        self.model, self.method, self.call = model, method, call
        self.observables = observables
        self.fixed, self.args, self.call_kwargs = fixed, tuple(args), call_kwargs
        names = self.parameter_names
        if names is not None:
            unknown = sorted(set(fixed) - set(names))
            if unknown:
                raise ValueError(f"fixed: {unknown} are not parameters of {self.label}; "
                                 f"valid: {', '.join(names)}")

    # -- description ------------------------------------------------------
    @property
    def label(self):
        """A short name of the model for messages and plots."""
        if self.name:
            return self.name
        if self.is_model:
            return self.model.name
        return getattr(self.model, "__qualname__", type(self.model).__name__)

    @property
    def parameter_names(self):
        """Valid grid axes (``None`` when the factory takes ``**kwargs``)."""
        if self.is_model:
            return tuple(sorted(self.model.parameters)) + ("N",)
        try:
            sig = inspect.signature(self.model)
        except (TypeError, ValueError):
            return None
        if any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            return None
        return tuple(k for k, p in sig.parameters.items()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and k != "seed")

    def description(self):
        """JSON-able description; its hash identifies the task in a store."""
        if self.is_model:
            model = {"model": repr(self.model), "H": repr(getattr(self.model, "H", None))}
            obs = {k: repr(v) for k, v in self.observables.items()}
        else:
            model = {"factory": _callable_id(self.model)}
            obs = list(self.observables) if self.observables else None
        return {"model": model, "name": self.name, "method": self.method, "call": self.call,
                "observables": obs, "fixed": _jsonable(self.fixed), "args": _jsonable(self.args),
                "call_kwargs": _jsonable({**(self._registered.call_kwargs if self._registered
                                             else {}), **self.call_kwargs})}

    def check_axes(self, axes):
        """Refuse grid axes that are not parameters, listing the valid ones."""
        names = self.parameter_names
        if names is None:
            return
        unknown = [a for a in axes if a not in names and not (a == "method" and self.call)]
        if unknown:
            raise ValueError(f"grid axis {unknown[0]!r} is not a parameter of {self.label}; "
                             f"valid axes: {', '.join(names)}" + (", method" if self.call else ""))

    def grid_support(self, names):
        """``None`` if a sweep over the parameters ``names`` can take the grid path, else
        the reason it cannot.

        The grid path (see :func:`sweep`) needs a :class:`~qutip_superrad.Model`
        solved by a method with a bound solver (``"cumulant"``, ``"meanfield"``;
        :class:`~qutip_superrad.solvers.BoundSolver`) through ``steadystate`` or
        ``evolve``, and grid axes that are scalar parameters of the model (or ``N``
        of a model with one cluster), so that every point is
        :meth:`~qutip_superrad.Model.with_values` of one structure with the same
        number of clusters.
        """
        from .solvers import _REGISTRY
        if not self.is_model:
            return "the task is not a Model description"
        if self.call not in _GRID_CALLS:
            return f"call {self.call!r} has no grid path (only {', '.join(_GRID_CALLS)})"
        m = _REGISTRY.get(self.method)
        if m is None or m.bound is None:
            able = sorted(k for k, v in _REGISTRY.items() if v.bound is not None)
            return f"method {self.method!r} has no bound solver (methods with one: {able})"
        if self.model.mode_families or len(self.model.cluster_counts) > 1:
            return ("indexed mode families (Modes) and several Clusters (species) are "
                    "rebound per point only")
        if self.call == "steadystate" and self.args:
            return "steadystate takes no positional arguments"
        if self.call == "evolve" and len(self.args) + ("tlist" in self.call_kwargs) != 1:
            return "evolve needs tlist (args=(tlist,))"
        for k in names:
            if k == "method":
                return "the method changes along the grid"
            if k == "N":
                if self.model.n_clusters != 1:
                    return ("'N' along the grid: one count for a model of "
                            f"{self.model.n_clusters} clusters")
            elif np.ndim(self.model.parameters.get(k, np.zeros(2))) != 0:
                return f"{k!r} is not a scalar parameter"
        return None

    def _bound_call(self, point, solver, previous):
        """``(result, solver)`` of the grid path at ``point``: ``solver`` (a
        :class:`~qutip_superrad.solvers.BoundSolver`, built at the first point when
        ``None``) rebound to the point, the steady state continued from ``previous``."""
        from .solvers import BoundSolver
        model = self.model.with_values(**{**self.fixed, **point})
        kwargs = dict(self.call_kwargs)
        initial = kwargs.pop("initial", None)
        tlist = self.args[0] if self.args else kwargs.pop("tlist", None)
        if solver is None:
            solver = BoundSolver(model, self.method, self.call, **kwargs)
        if self.call == "steadystate":
            return solver.steadystate(model, self.observables, previous), solver
        return solver.evolve(model, tlist, initial, self.observables), solver

    def _read(self, res):
        """``{observable: value}`` read from a result of the call."""
        return {k: _plain(_observe(res, k), k) for k in self.observables}

    # -- evaluation -------------------------------------------------------
    def __call__(self, point, seed=None):
        """Evaluate the task at ``point`` (a dict); returns ``{observable: value}``."""
        p = {**self.fixed, **point}
        method = p.pop("method", self.method)
        if self.call is None:
            if seed is not None and _accepts(self.model, "seed"):
                p["seed"] = seed
            out = self.model(**p)
            if isinstance(out, dict):
                names = self.observables or tuple(out)
                return {k: _plain(out[k], k) for k in names}
            return {"value": _plain(out, "value")}
        kwargs = dict(self.call_kwargs)
        if self._registered is not None:    # e.g. nphot, for the exact methods only
            kwargs = {**self._registered.kwargs_for(method), **kwargs}
        if method is not None:
            kwargs["method"] = method
        if seed is not None and method == "trajectories":
            # the package's stochastic method takes its seed as an option
            opts = dict(kwargs.get("options") or {})
            opts.setdefault("seed", seed)
            kwargs["options"] = opts
        if self.is_model:
            from . import solvers
            fn = getattr(solvers, self.call)
            res = fn(self.model.with_values(**p), *self.args, e_ops=self.observables, **kwargs)
        else:
            if seed is not None and _accepts(self.model, "seed"):
                p["seed"] = seed
            obj = self.model(**p)
            fn = getattr(obj, self.call, None)
            if fn is None:
                raise ValueError(f"call: {type(obj).__name__} has no method {self.call!r}")
            if seed is not None and "seed" not in p and _accepts(fn, "seed"):
                kwargs["seed"] = seed
            res = fn(*self.args, **kwargs)
        return self._read(res)

    def __repr__(self):
        return (f"SweepTask({self.label!r}, method={self.method!r}, call={self.call!r}, "
                f"observables={list(self.observables or [])})")


def _callable_id(fn):
    """Module, name and source hash of a callable (the source, so an edit changes the task)."""
    target = getattr(fn, "__func__", fn)
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    try:
        src = inspect.getsource(target)
    except (OSError, TypeError):
        src = ""
    return {"name": name, "source_sha256": hashlib.sha256(src.encode()).hexdigest()[:16]}


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def _observe(res, name):
    """Read observable ``name`` from a result of any of the package's types."""
    if isinstance(res, dict):
        if name in res:
            return res[name]
    else:
        values = getattr(res, "values", None)
        if isinstance(values, dict) and name in values:
            return values[name]
        if hasattr(res, name):
            return getattr(res, name)
    if isinstance(res, dict):
        keys = list(res)
    else:
        values = getattr(res, "values", None)
        keys = list(values) if isinstance(values, dict) else []
        keys += [a for a in dir(res) if not a.startswith("_") and a not in keys]
    raise ValueError(f"observable {name!r} not found in the {type(res).__name__}; "
                     f"available: {', '.join(map(str, sorted(keys)))}")


def _plain(value, name):
    """A JSON-able number or nested list; real when the imaginary part is round-off."""
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == bool):
        raise TypeError(f"observable {name!r} is a {type(value).__name__}, not a number or "
                        "an array of numbers")
    if np.iscomplexobj(arr):
        scale = max(1.0, float(np.max(np.abs(arr)))) if arr.size else 1.0
        if arr.size == 0 or np.max(np.abs(arr.imag)) <= 1e-13 * scale:
            arr = arr.real
    if arr.size == 1:
        arr = arr.reshape(())
    if arr.dtype == bool:
        return arr.tolist()
    if np.iscomplexobj(arr):
        return arr.astype(complex).tolist()
    return arr.astype(float).tolist() if not np.issubdtype(arr.dtype, np.integer) else arr.tolist()


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.generic,)):
        return x.item()
    if isinstance(x, complex):
        return {"__complex__": [x.real, x.imag]}
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    return repr(x)


# ---------------------------------------------------------------------------
# values <-> JSON (complex numbers tagged; floats round-trip exactly)
# ---------------------------------------------------------------------------
def _encode(values):
    def enc(v):
        if isinstance(v, complex):
            return {"__complex__": [v.real, v.imag]}
        if isinstance(v, list):
            return [enc(x) for x in v]
        return v
    return json.dumps({k: enc(v) for k, v in values.items()})


def _decode(text):
    def dec(v):
        if isinstance(v, dict) and "__complex__" in v:
            return complex(*v["__complex__"])
        if isinstance(v, list):
            return [dec(x) for x in v]
        return v
    return {k: dec(v) for k, v in json.loads(text).items()}


# ---------------------------------------------------------------------------
# the grid
# ---------------------------------------------------------------------------
def _axis_value(axis, v):
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"grid axis {axis!r}: values must be numbers, got a bool")
    if axis == "method":
        if not isinstance(v, str):
            raise TypeError(f"grid axis 'method': values must be method names, got {v!r}")
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"grid axis {axis!r}: values must be finite, got {v}")
        return v
    raise TypeError(f"grid axis {axis!r}: values must be numbers, got {v!r} "
                    f"({type(v).__name__})")


def _points(grid):
    """``(axes or None, [point dicts])`` of a dict of axes (outer product) or a list."""
    if isinstance(grid, dict):
        if not grid:
            raise ValueError("grid: give at least one axis, e.g. {'pumping': [0.5, 1.0]}")
        axes = {}
        for axis, vals in grid.items():
            if not isinstance(axis, str):
                raise TypeError(f"grid: axis names must be str, got {axis!r}")
            vals = [vals] if np.ndim(vals) == 0 and not isinstance(vals, (list, tuple)) else vals
            vals = [_axis_value(axis, v) for v in np.asarray(vals, dtype=object).ravel()]
            if not vals:
                raise ValueError(f"grid axis {axis!r} is empty")
            if len(set(vals)) != len(vals):
                raise ValueError(f"grid axis {axis!r} repeats a value")
            axes[axis] = vals
        pts = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
        return axes, pts
    if isinstance(grid, (list, tuple)):
        if not grid:
            raise ValueError("grid: the list of points is empty")
        if not all(isinstance(p, dict) for p in grid):
            raise TypeError("grid: a list of points must hold dicts {parameter: value}")
        keys = set(grid[0])
        if not keys:
            raise ValueError("grid: points must set at least one parameter")
        pts = []
        for i, p in enumerate(grid):
            if set(p) != keys:
                raise ValueError(f"grid: point {i} sets {sorted(p)}, point 0 sets {sorted(keys)}")
            pts.append({k: _axis_value(k, v) for k, v in p.items()})
        return None, pts
    raise TypeError(f"grid must be a dict of axes or a list of point dicts, "
                    f"got {type(grid).__name__}")


def _key(point):
    return json.dumps(point, sort_keys=True)


def point_seed(master, point):
    """The seed of one point: a 63-bit hash of the master seed and the point's parameters.

    Independent of the grid's order and of which points ran before, so a resumed
    sweep gives the numbers of an uninterrupted one.
    """
    key = point if isinstance(point, str) else _key(point)
    digest = hashlib.sha256(f"{int(master)}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


# ---------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------
class _Store:
    """SQLite store: ``meta`` (task, hash) and one row per finished point."""

    def __init__(self, path, task_desc=None, task_hash=None, resume=True):
        self.path = Path(path)
        parent = self.path.parent
        if not parent.is_dir():
            raise ValueError(f"store: directory {parent} does not exist")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and task_hash is not None and not resume:
            raise ValueError(f"store {self.path} exists; pass resume=True to continue it, or "
                             "give a new path (nothing is overwritten)")
        if not exists and task_hash is None:
            raise ValueError(f"store {self.path} does not exist")
        # check_same_thread=False: parallel maps report results from their callback thread
        self.con = sqlite3.connect(str(self.path), timeout=60, isolation_level=None,
                                   check_same_thread=False)
        self.lock = threading.Lock()
        try:
            self.con.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a killed process (not a power cut) without fsync
            self.con.execute("PRAGMA synchronous=NORMAL")
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS points (key TEXT PRIMARY KEY, params TEXT NOT NULL,"
                " status TEXT NOT NULL, result TEXT, error TEXT, method TEXT, version TEXT,"
                " seed INTEGER, wall REAL, finished REAL, host TEXT, warnings TEXT, path TEXT)")
            # stores written before the grid path have no ``path`` column: add it (NULL)
            columns = {row[1] for row in self.con.execute("PRAGMA table_info(points)")}
            if "path" not in columns:
                self.con.execute("ALTER TABLE points ADD COLUMN path TEXT")
        except sqlite3.DatabaseError as err:
            self.con.close()
            raise ValueError(f"store {self.path} is not a sweep store: {err}") from None
        meta = dict(self.con.execute("SELECT key, value FROM meta"))
        if task_hash is None:
            if "task_hash" not in meta:
                raise ValueError(f"store {self.path} holds no sweep")
        elif "task_hash" in meta and meta["task_hash"] != task_hash:
            old = json.loads(meta.get("task", "{}"))
            diff = sorted(k for k in set(old) | set(task_desc)
                          if old.get(k) != task_desc.get(k))
            self.con.close()
            raise ValueError(f"store {self.path} belongs to another task (hash "
                             f"{meta['task_hash'][:12]} ≠ {task_hash[:12]}; differs in "
                             f"{', '.join(diff) or 'the source'}): use a new store path")
        elif "task_hash" not in meta:
            from . import __version__
            with self.lock, self.con:
                self.con.execute("BEGIN IMMEDIATE")
                self.con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                    ("format", str(_FORMAT)), ("task_hash", task_hash),
                    ("task", json.dumps(task_desc)), ("created", str(time.time())),
                    ("version", __version__)])
        self.meta = dict(self.con.execute("SELECT key, value FROM meta"))

    def set_meta(self, key, value):
        with self.lock, self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def records(self):
        rows = self.con.execute("SELECT key, params, status, result, error, method, version, seed,"
                                " wall, finished, host, warnings, path FROM points")
        out = {}
        for key, params, status, result, error, method, version, seed, wall, fin, host, w, \
                path in rows:
            out[key] = {"key": key, "params": json.loads(params), "status": status,
                        "values": _decode(result) if result else {}, "error": error,
                        "method": method, "version": version, "seed": seed, "wall": wall,
                        "finished": fin, "host": host, "warnings": json.loads(w or "[]"),
                        "path": json.loads(path) if path else None}
        return out

    def write(self, r):
        # one transaction per point: a crash loses only points still running
        with self.lock, self.con:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.execute(
                "INSERT OR REPLACE INTO points (key, params, status, result, error, method,"
                " version, seed, wall, finished, host, warnings, path)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                    r["key"], json.dumps(r["params"]), r["status"], _encode(r["values"]),
                    r["error"], r["method"], r["version"], r["seed"], r["wall"], r["finished"],
                    r["host"], json.dumps(r["warnings"]), json.dumps(r.get("path"))))

    def close(self):
        self.con.close()


# ---------------------------------------------------------------------------
# one point, in a worker
# ---------------------------------------------------------------------------
def _raise_timeout(signum, frame):
    raise _PointTimeout()


def _blas_limit(n):
    """BLAS limited to ``n`` threads (``None``: unchanged)."""
    if n is None:
        return contextlib.nullcontext()
    from ._threads import _blas_controller
    return _blas_controller().limit(limits=n, user_api="blas")


#: grid path: ``{chain id: _Chain}`` of the chains this process is working on (a chain
#: that spans several jobs, as in the serial map, keeps its bound solver between them)
_CHAINS = {}


class _Chain:
    """Worker side of the grid path: a bound solver and the last steady state of one
    contiguous piece of the grid's order."""

    def __init__(self, task):
        self.task, self.solver, self.previous = task, None, None

    def __call__(self, point, seed, path):
        """The values at ``point`` by the grid path, or by the per-point path if the grid
        path raised; ``path`` (a dict) records which (``"kind"``), whether the steady
        state continued from the previous point's (``"continued"``) and why the grid
        path was left (``"fallback"``)."""
        self.previous, previous = None, self.previous
        path["kind"] = "grid"
        try:
            res, self.solver = self.task._bound_call(point, self.solver, previous)
            values = self.task._read(res)
        except _PointTimeout:
            raise
        except Exception as err:                # noqa: BLE001 - the per-point path decides
            path.update(kind="point", fallback=f"{type(err).__name__}: {err}")
            return self.task(point, seed=seed)
        if self.task.call == "steadystate":
            self.previous = res
            path["continued"] = bool(res.checks["solver"].get("continued", False))
        return values


def _run_job(job, task, limits):
    """Evaluate one job of the map; never raises (errors and timeouts become records).

    ``job`` is ``(chain, last, points)``: ``chain`` ``None`` for the per-point path
    (one point), else the id of a grid-path chain whose bound solver lives in
    :data:`_CHAINS` of this process until its ``last`` job.
    """
    chain, last, points = job
    if chain is None:
        def evaluate(point, seed, path):
            path["kind"] = "point"
            return task(point, seed=seed)
    else:
        evaluate = _CHAINS.setdefault(chain, _Chain(task))
    try:
        return [_run_point(p, evaluate, task, limits) for p in points]
    finally:
        if last and chain is not None:
            _CHAINS.pop(chain, None)


def _run_point(job, evaluate, task, limits):
    """Evaluate one point by ``evaluate(point, seed, path) -> values``; never raises."""
    from . import __version__
    key, point, seed = job
    point_timeout, deadline, blas = limits
    record = {"key": key, "params": point, "values": {}, "error": None, "seed": seed,
              "method": point.get("method", task.method), "version": __version__,
              "host": f"{platform.node()}:{os.getpid()}", "path": {}}
    budget = point_timeout
    if deadline is not None:
        left = deadline - time.time()
        budget = left if budget is None else min(budget, left)
        if left <= 0:
            return {**record, "status": "interrupted", "wall": 0.0, "finished": time.time(),
                    "warnings": []}
    # the alarm only works in a process's main thread (every QuTiP map runs tasks there)
    use_alarm = (budget is not None and hasattr(signal, "setitimer")
                 and threading.current_thread() is threading.main_thread())
    old = signal.signal(signal.SIGALRM, _raise_timeout) if use_alarm else None
    t0 = time.perf_counter()
    # warnings of a worker would be lost (or interleaved): they belong to the point's record
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        try:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, max(budget, 1e-3))
            with _blas_limit(blas):
                values = evaluate(point, seed, record["path"])
            status, error = "ok", None
        except _PointTimeout:
            values = {}
            by_sweep = point_timeout is None or budget < point_timeout
            status = "interrupted" if by_sweep else "timeout"
            error = ("sweep timeout reached" if by_sweep
                     else f"point_timeout: exceeded {point_timeout:g} s")
        except Exception as err:                # noqa: BLE001 - recorded, the sweep goes on
            values, status, error = {}, "error", f"{type(err).__name__}: {err}"
        finally:
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
    record["warnings"] = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in log))
    bad = [k for k, v in values.items() if np.any(np.isnan(np.asarray(v, dtype=complex)))]
    if bad and status == "ok":
        # never store NaN silently: the point is kept, flagged in its error column
        error = f"NaN in {', '.join(bad)}"
    return {**record, "values": values, "status": status, "error": error,
            "wall": time.perf_counter() - t0, "finished": time.time()}


# ---------------------------------------------------------------------------
# the sweep
# ---------------------------------------------------------------------------
def _map_function(name):
    from qutip.solver import parallel
    if name not in MAPS:
        raise ValueError(f"map must be one of {', '.join(MAPS)}, got {name!r}")
    needs = {"mpi": ("mpi4py", "pip install mpi4py mpich"), "loky": ("loky", "pip install loky")}
    if name in needs:
        module, how = needs[name]
        if importlib.util.find_spec(module) is None:
            raise ValueError(f"map={name!r} needs {module}: {how} (or the 'sweep' extra)")
    if name == "mpi" and importlib.util.find_spec("loky") is not None:
        # qutip 5.3's mpi_pmap reads loky.backend.resource_tracker without importing the
        # submodule (AttributeError with loky >= 3.5); importing it first is harmless
        import loky.backend.resource_tracker  # noqa: F401
    return {"serial": parallel.serial_map, "parallel": parallel.parallel_map,
            "loky": parallel.loky_pmap, "mpi": parallel.mpi_pmap}[name]


def _progress_name(progress_bar):
    """QuTiP's progress-bar names; ``True`` is a one-line bar with ETA on a terminal and
    plain lines (QuTiP's ``"text"``) otherwise."""
    from ._progress import check_progress_bar
    if progress_bar is True and sys.stdout.isatty():
        return "enhanced"
    return check_progress_bar(progress_bar)


def _check_map_kw(map_kw):
    map_kw = dict(map_kw or {})
    unknown = sorted(set(map_kw) - _MAP_KW)
    if unknown:
        raise ValueError(f"map_kw: unknown keys {unknown}; valid: {sorted(_MAP_KW)}")
    for k in ("timeout", "point_timeout"):
        v = map_kw.get(k)
        if v is not None and (not isinstance(v, numbers.Real) or not v > 0):
            raise ValueError(f"map_kw[{k!r}] must be a positive number of seconds, got {v!r}")
    n = map_kw.get("num_cpus")
    if n is not None and (not isinstance(n, numbers.Integral) or n < 1):
        raise ValueError(f"map_kw['num_cpus'] must be an integer >= 1, got {n!r}")
    return map_kw


def sweep(task, grid, *, map="serial", map_kw=None, store=None, resume=True,
          retry_failed=False, seed=0, progress_bar=True, path="auto"):
    """Evaluate ``task`` on every point of ``grid``, optionally into a durable store.

    Parameters
    ----------
    task : SweepTask, str, Model or callable
        What to compute at each point: a :class:`SweepTask`, a registered model
        name (its default method and observables), or a plain function of the
        point's parameters returning a dict of numbers (or one number).
    grid : dict or list of dict
        ``{axis: values}`` (outer product, in the dict's order) or an explicit list
        of points ``[{parameter: value}, …]``.  Axes are model parameters (the
        error lists the valid ones) or ``"method"``.
    map : {"serial", "parallel", "loky", "mpi"}
        QuTiP's ``serial_map``, ``parallel_map``, ``loky_pmap`` or ``mpi_pmap``
        (``mpi``: mpi4py with an MPI library; run under ``mpiexec -n K python -m
        mpi4py.futures script.py`` on a cluster, see ``docs/sweeps.md``).
    map_kw : dict, optional
        ``num_cpus`` (workers; QuTiP's default: the available cores), ``timeout``
        (seconds for the whole sweep, as in QuTiP: points not started are left for
        a resume, running ones are interrupted and not recorded),
        ``point_timeout`` (seconds per point: a point past it is recorded as
        ``"timeout"``; Python code is interrupted, a long C call only when it
        returns), ``fail_fast`` (stop at the first failed point and raise
        :class:`SweepError`; default ``False`` here, unlike QuTiP: a failed point
        is recorded with its error and the sweep goes on).
    store : str or Path, optional
        SQLite file (created if missing).  Each finished point is committed in
        its own transaction; reopening the store with the same task resumes.
    resume : bool
        Continue an existing store (skip finished points).  ``False`` refuses an
        existing store instead of overwriting it.
    retry_failed : bool
        Run again the points recorded as ``"error"`` or ``"timeout"``.
    seed : int
        Master seed; point seeds are :func:`point_seed` ``(seed, point)``.
    progress_bar : bool or str
        QuTiP's progress bars (``"text"``, ``"enhanced"``, ``"tqdm"``); ``True``
        chooses a bar with ETA on a terminal and plain lines otherwise.
    path : {"auto", "grid", "point"}
        ``"grid"``: the grid path — one bound solver
        (:class:`~qutip_superrad.solvers.BoundSolver`) per chain of points, rebinding
        the numbers at each point, steady states continued from the previous point's
        (accepted as a fresh root would be, else solved from scratch); the points run
        along the grid in a snake order (a list of points: in its order), split into one
        contiguous chain per worker.  For a :class:`~qutip_superrad.Model` task solved
        by ``"cumulant"``/``"meanfield"`` ``steadystate`` or ``evolve`` over scalar
        parameters and ``N`` of one cluster (:meth:`SweepTask.grid_support`);
        ``ValueError`` with the reason otherwise.  A point where the grid path raises is
        run by the per-point path.
        ``"point"``: every point built and solved on its own.  ``"auto"`` (default):
        the grid path where it applies.  Each record's ``path`` says which path gave it
        (:attr:`SweepResult.paths`).

    Returns
    -------
    SweepResult

    Raises
    ------
    SweepError
        ``fail_fast`` and a point failed (the store keeps everything finished).
    """
    task = _as_task(task)
    axes, pts = _points(grid)
    task.check_axes(axes if axes is not None else pts[0])
    map_kw = _check_map_kw(map_kw)
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not isinstance(resume, bool) or not isinstance(retry_failed, bool):
        raise TypeError("resume and retry_failed must be bool")
    map_fn = _map_function(map)
    bar = _progress_name(progress_bar)
    if path not in _PATHS:
        raise ValueError(f"path must be one of {', '.join(_PATHS)}, got {path!r}")
    why_not = task.grid_support(axes if axes is not None else pts[0])
    if path == "grid" and why_not:
        raise ValueError(f"path='grid': {why_not}; use path='point' or 'auto'")
    on_grid = path != "point" and why_not is None
    desc = {"task": task.description(), "seed": int(seed)}
    task_hash = hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()
    db = None if store is None else _Store(store, desc, task_hash, resume)
    try:
        done = db.records() if db is not None else {}
        if db is not None:
            db.set_meta("grid", json.dumps({"axes": axes, "points": None if axes else pts}))
        keys = [_key(p) for p in pts]
        redo = ("error", "timeout") if retry_failed else ()
        order = _grid_order(axes, len(pts)) if on_grid else range(len(pts))
        todo = [(keys[i], pts[i], point_seed(seed, keys[i])) for i in order
                if keys[i] not in done or done[keys[i]]["status"] in redo]
        fail_fast = bool(map_kw.get("fail_fast", False))
        failures = []

        def collect(records):
            stop = None
            for record in records:
                if record["status"] == "interrupted":
                    continue
                done[record["key"]] = record
                if db is not None:
                    db.write(record)
                if record["status"] != "ok":
                    failures.append(record)
                    if fail_fast:
                        stop = 0                  # QuTiP's maps stop when this is <= 0
            return stop

        if todo:
            timeout = map_kw.get("timeout")
            deadline = None if timeout is None else time.time() + timeout
            qkw = {"fail_fast": False}
            if timeout is not None:
                qkw["timeout"] = timeout
            workers = 1 if map == "serial" else map_kw.get("num_cpus")
            if workers is None:
                from qutip.settings import available_cpu_count
                workers = available_cpu_count()
            if map != "serial":
                qkw["num_cpus"] = workers
            # workers share the cores: BLAS threads per worker so that they do not oversubscribe
            blas = None if map == "serial" else max(1, (os.cpu_count() or 1) // workers)
            limits = (map_kw.get("point_timeout"), deadline, blas)
            jobs = _jobs(todo, on_grid, 1 if map == "serial" else workers)
            try:
                map_fn(_run_job, jobs, task_args=(task, limits), reduce_func=collect,
                       map_kw=qkw, progress_bar=bar)
            finally:
                for chain, _, _ in jobs:          # a serial chain stopped early
                    _CHAINS.pop(chain, None)
        if fail_fast and failures:
            r = failures[0]
            raise SweepError(f"point {r['params']} failed: {r['error']}", r)
    finally:
        if db is not None:
            db.close()
    return SweepResult(axes, pts, [done.get(k) for k in keys], task=desc,
                       store=None if store is None else str(Path(store)))


def _grid_order(axes, n):
    """Indices of the points along the grid path: the snake (boustrophedon) order of an
    outer-product grid, so that consecutive points are neighbours; a list in its order."""
    if axes is None:
        return range(n)
    from .cumulant.engine.grid import snake_order
    shape = tuple(len(v) for v in axes.values())
    return [int(np.ravel_multi_index(idx, shape)) for idx in snake_order(shape)]


def _jobs(todo, on_grid, workers):
    """The map's jobs ``(chain, last, points)``.

    Per-point path: one job per point.  Grid path: ``todo`` (in grid order) split into
    ``workers`` contiguous chains; a serial map runs its one chain as one job per point
    (so that the progress bar counts points; the bound solver stays in :data:`_CHAINS`
    between them), a parallel map one job per chain.
    """
    if not on_grid:
        return [(None, True, [t]) for t in todo]
    token = f"{os.getpid()}-{time.time_ns()}"
    if workers == 1:
        return [(token, i == len(todo) - 1, [t]) for i, t in enumerate(todo)]
    bounds = np.linspace(0, len(todo), min(workers, len(todo)) + 1).round().astype(int)
    return [(f"{token}-{c}", True, todo[a:b]) for c, (a, b) in enumerate(zip(bounds, bounds[1:]))]


def _as_task(task):
    from .model import Model
    if isinstance(task, SweepTask):
        return task
    if isinstance(task, str):
        return SweepTask(task)
    if isinstance(task, Model):
        raise TypeError("a Model needs observables: sweep(SweepTask(model, method, "
                        "observables={name: operator}), grid)")
    if callable(task):
        return SweepTask(task, call=None)
    raise TypeError(f"task must be a SweepTask, a registered model name or a function, "
                    f"got {type(task).__name__}")


def load_sweep(path):
    """The :class:`SweepResult` stored in ``path`` (the grid of its last run)."""
    db = _Store(path)
    try:
        grid = json.loads(db.meta.get("grid", "null")) or {}
        desc = json.loads(db.meta["task"])
        recs = db.records()
    finally:
        db.close()
    axes = grid.get("axes")
    if axes:
        pts = [dict(zip(axes, c)) for c in itertools.product(*axes.values())]
    else:
        pts = grid.get("points") or [r["params"] for r in recs.values()]
    return SweepResult(axes, pts, [recs.get(_key(p)) for p in pts], task=desc, store=str(path))


# ---------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------
class SweepResult:
    """Results of :func:`sweep`, in grid order.

    Attributes
    ----------
    axes : dict or None
        ``{axis: values}`` of an outer-product grid; ``None`` for a list of points.
    points : list of dict
        Every point of the grid.
    records : list of dict or None
        Per point: ``params``, ``status`` (``"ok"``, ``"error"``, ``"timeout"``),
        ``values``, ``error``, ``wall`` (seconds), ``seed``, ``method``,
        ``version``, ``host``, ``path`` (``{"kind": "grid" or "point", …}``, see
        :attr:`paths`); ``None`` for a point not computed (yet).
    observables : list of str
    task : dict
        The task description whose hash identifies the store.
    store : str or None
    """

    def __init__(self, axes, points, records, task=None, store=None):
        self.axes, self.points, self.records = axes, points, records
        self.task, self.store = task or {}, store
        names = []
        for r in records:
            for k in (r or {}).get("values", {}):
                if k not in names:
                    names.append(k)
        self.observables = names

    @property
    def shape(self):
        """Grid shape: ``(len(axis), …)``, or ``(n_points,)`` for a list of points."""
        return (tuple(len(v) for v in self.axes.values()) if self.axes
                else (len(self.points),))

    @property
    def dims(self):
        return tuple(self.axes) if self.axes else ("point",)

    @property
    def status(self):
        """Per-point status array (``"missing"`` where nothing is recorded)."""
        return np.array([r["status"] if r else "missing" for r in self.records],
                        dtype=object).reshape(self.shape)

    @property
    def failed(self):
        """Records of points that raised or timed out."""
        return [r for r in self.records if r and r["status"] != "ok"]

    @property
    def missing(self):
        """Points with no record (not run, or interrupted)."""
        return [p for p, r in zip(self.points, self.records) if r is None]

    @property
    def complete(self):
        return all(r is not None and r["status"] == "ok" for r in self.records)

    def raise_if_incomplete(self, what="sweep"):
        """Return ``self`` if every point succeeded; else raise :class:`SweepError` naming the
        first failed or missing point (for callers that need the whole grid)."""
        if self.failed:
            r = self.failed[0]
            raise SweepError(f"{what}: point {r['params']} failed: {r['error']}", r)
        if self.missing:
            raise SweepError(f"{what}: point {self.missing[0]} was not computed "
                             f"({len(self.missing)} missing)")
        return self

    @property
    def paths(self):
        """Per-point path array: ``"grid"`` (the bound solver of the grid path),
        ``"point"`` (built and solved on its own; a point where the grid path raised
        has the reason in its record's ``path["fallback"]``), ``"unknown"`` (stored
        before paths were recorded) or ``"missing"``."""
        return np.array([((r.get("path") or {}).get("kind", "unknown") if r else "missing")
                         for r in self.records], dtype=object).reshape(self.shape)

    @property
    def wall_time(self):
        """Seconds per point (``nan`` where not run)."""
        return np.array([r["wall"] if r else np.nan for r in self.records]).reshape(self.shape)

    def values(self, name):
        """Array of observable ``name`` over the grid (``nan`` where a point has none).

        Array-valued observables add trailing dimensions.
        """
        if name not in self.observables:
            raise KeyError(f"{name!r} is not an observable of this sweep; "
                           f"observables: {self.observables}")
        got = [np.asarray(r["values"][name]) for r in self.records
               if r and name in r["values"]]
        vshape = got[0].shape
        if any(g.shape != vshape for g in got):
            raise ValueError(f"observable {name!r} changes shape across the grid "
                             f"({sorted({g.shape for g in got})}); read the records")
        dtype = complex if any(np.iscomplexobj(g) for g in got) else float
        out = np.full((len(self.records),) + vshape, np.nan, dtype=dtype)
        for i, r in enumerate(self.records):
            if r and name in r["values"]:
                out[i] = r["values"][name]
        return out.reshape(self.shape + vshape)

    __getitem__ = values

    def _coords(self):
        if self.axes:
            return {k: np.asarray(v) for k, v in self.axes.items()}
        return {k: ("point", np.asarray([p[k] for p in self.points])) for k in self.points[0]}

    def to_xarray(self):
        """An ``xarray.Dataset``: one variable per observable, ``status`` and ``wall_time``.

        Needs the optional ``xarray`` package (``pip install xarray``).
        """
        try:
            import xarray as xr
        except ImportError:
            raise ImportError("to_xarray needs xarray: pip install xarray") from None
        data = {}
        for name in self.observables:
            v = self.values(name)
            extra = tuple(f"{name}_dim{i}" for i in range(v.ndim - len(self.shape)))
            data[name] = (self.dims + extra, v)
        data["status"] = (self.dims, self.status.astype(str))
        data["wall_time"] = (self.dims, self.wall_time)
        return xr.Dataset(data, coords=self._coords(),
                          attrs={"task": json.dumps(self.task), "store": self.store or ""})

    def to_netcdf(self, path, **kwargs):
        """Write :meth:`to_xarray` to a netCDF file (complex observables as ``_real``/``_imag``)."""
        ds = self.to_xarray()
        for name in list(ds.data_vars):
            if np.iscomplexobj(ds[name].values):
                ds[name + "_real"] = ds[name].real
                ds[name + "_imag"] = ds[name].imag
                ds = ds.drop_vars(name)
        ds.to_netcdf(path, **kwargs)
        return path

    def to_dataframe(self):
        """A ``pandas.DataFrame``: one row per point (parameters, scalar observables,
        status, error, wall time)."""
        import pandas as pd
        rows = []
        for p, r in zip(self.points, self.records):
            row = dict(p)
            for name in self.observables:
                v = (r or {}).get("values", {}).get(name, np.nan)
                row[name] = v if np.ndim(v) == 0 else np.asarray(v)
            row["status"] = r["status"] if r else "missing"
            row["error"] = r["error"] if r else None
            row["wall_time"] = r["wall"] if r else np.nan
            row["path"] = ((r.get("path") or {}).get("kind", "unknown") if r else "missing")
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, observable=None, ax=None, **kwargs):
        """Line (1 axis) or colour map with colour bar (2 axes) of a scalar observable.

        Failed or missing points are marked (×) so that gaps are not read as data.
        """
        import matplotlib.pyplot as plt
        name = observable or (self.observables[0] if self.observables else None)
        if name is None:
            raise ValueError("nothing to plot: no point finished")
        v = self.values(name)
        if v.ndim != len(self.shape) or len(self.shape) > 2 or not self.axes:
            raise ValueError(f"plot draws a scalar observable over 1 or 2 axes; {name!r} has "
                             f"shape {v.shape} over {self.dims}: use to_xarray()")
        v = v.real if np.iscomplexobj(v) else v
        ax = ax or plt.subplots(figsize=(5, 3.6))[1]
        bad = self.status != "ok"
        warned = np.array([bool(r and r.get("warnings")) for r in self.records]).reshape(self.shape)
        names = list(self.axes)
        if len(names) == 1:
            x = np.asarray(self.axes[names[0]])
            ax.plot(x, v, "o-", **kwargs)
            xx, yy = x, np.zeros(len(x))
            ax.set_ylabel(name)
        else:
            # first axis along x, as it reads in the grid (and on the command line)
            x, y = (np.asarray(self.axes[n]) for n in names)
            mesh = ax.pcolormesh(x, y, v.T, shading="nearest", **kwargs)
            plt.colorbar(mesh, ax=ax, label=name)
            xx, yy = np.meshgrid(x, y, indexing="ij")
            ax.set_ylabel(names[1])
        # gaps and doubtful points are marked, not left to be read as data
        for mask, mark, text in ((bad, "x", "failed / missing"), (warned & ~bad, "^", "warning")):
            if mask.any():
                ax.plot(xx[mask], yy[mask], mark, color="C3", label=text)
        if (bad | warned).any():
            ax.legend(frameon=False, fontsize=8)
        ax.set_xlabel(names[0])
        label = (self.task.get("task") or {}).get("name") or ""
        ax.set_title(f"{label} {name}".strip(), fontsize=9)
        return ax

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        n_ok = sum(1 for r in self.records if r and r["status"] == "ok")
        return (f"SweepResult({self.dims} shape={self.shape}, ok={n_ok}, "
                f"failed={len(self.failed)}, missing={len(self.missing)}, "
                f"observables={self.observables})")
