"""Parameter grids in one call: steady states and evolutions of one lowered system (issue 16).

:meth:`~.solve.CumulantSolver.steadystate_grid` and
:meth:`~.solve.CumulantSolver.evolve_grid` take ``{name: values}`` of scalar
parameters, validate the whole grid before any work, and run over its points
in a snake (boustrophedon) order, so that consecutive points are neighbours on
the grid.  The equations are lowered (or compiled) once; a point only rebinds
the coefficients (:meth:`~.solve.CumulantSolver._bind`).  A steady state starts
Newton from the neighbour's solution and is accepted under the same
conditions as :meth:`~.solve.CumulantSolver.steadystate` (residual, linear
stability, physical moments); if that fails, the point is solved from scratch.
Continuation follows a branch: where the model is bistable, it keeps the
attractor connected to the previous point (``continuation=False`` solves every
point from the default start, as a loop of ``steadystate()`` calls).

The example of :mod:`.solve` ends with a grid.
"""
from __future__ import annotations

import time

import numpy as np

from ..._progress import Progress, check_progress_bar
from ..._validate import TimeLimitError

__all__ = ["CumulantGrid", "snake_order"]


def snake_order(shape):
    """Multi-indices of a grid of ``shape`` in boustrophedon order.

    Consecutive indices differ by one in exactly one axis (each inner sweep
    runs back along the way it came), so every point but the first has an
    already-visited neighbour just before it.
    """
    if not shape:
        return [()]
    inner = snake_order(shape[1:])
    out = []
    for i in range(shape[0]):
        out.extend((i,) + t for t in (inner if i % 2 == 0 else inner[::-1]))
    return out


class CumulantGrid:
    """Results of a parameter grid: one entry per point, arrays shaped like the grid.

    ``grid["a† a"]`` is the moment at every point (shape ``grid.shape``, plus
    the time axis for evolutions and the cluster axes of the family); points
    that failed give ``nan``.

    Attributes
    ----------
    names : tuple of str
        Grid parameters, one per axis.
    axes : tuple of ndarray
        Their values.
    shape : tuple of int
    kind : {"steadystate", "evolve"}
    results : ndarray of object
        :class:`~.solve.CumulantState` or :class:`~.solve.CumulantEvolution`
        per point (``None`` where it failed).
    status : ndarray of str
        ``"ok"`` or ``"failed"``.
    errors : dict
        ``{index: message}`` of the failed points.
    newton_iterations : ndarray of int
        Steady states: Newton iterations spent on the point (all attempts;
        ``-1`` for failed points and evolutions).
    continued : ndarray of bool
        Steady states accepted from the neighbour's solution.
    wall_time : ndarray of float
        Seconds per point.
    order : list of tuple
        The order the points were solved in.
    """

    def __init__(self, names, axes, kind, order):
        self.names = tuple(names)
        self.axes = tuple(axes)
        self.shape = tuple(len(a) for a in axes)
        self.kind = kind
        self.order = order
        self.results = np.empty(self.shape, dtype=object)
        self.status = np.full(self.shape, "failed", dtype=object)
        self.errors = {}
        self.newton_iterations = np.full(self.shape, -1, dtype=int)
        self.continued = np.zeros(self.shape, dtype=bool)
        self.wall_time = np.full(self.shape, np.nan)

    def point(self, index):
        """``{name: value}`` of the grid point ``index``."""
        return {n: float(a[i]) for n, a, i in zip(self.names, self.axes, index)}

    def __getitem__(self, key):
        first = next((r for r in self.results.flat if r is not None), None)
        if first is None:
            raise KeyError(f"no point of the grid succeeded; errors: {self.errors}")
        tail = np.shape(first[key])
        out = np.full(self.shape + tail, np.nan, dtype=complex)
        for idx in np.ndindex(*self.shape):
            r = self.results[idx]
            if r is not None:
                out[idx] = r[key]
        return out

    @property
    def complete(self):
        """Whether every point succeeded."""
        return not self.errors

    def raise_if_incomplete(self):
        """Return ``self`` if every point succeeded, else raise ``RuntimeError`` naming
        the first failed point and its error."""
        if self.errors:
            idx, msg = next(iter(self.errors.items()))
            raise RuntimeError(f"{self.kind}_grid: {len(self.errors)} of {self.status.size} "
                               f"points failed; first {self.point(idx)}: {msg}")
        return self

    def __repr__(self):
        ok = int(np.sum(self.status == "ok"))
        return (f"CumulantGrid({self.kind}, {' × '.join(map(str, self.shape))} over "
                f"{self.names}, {ok} ok)")


def check_grid_params(solver, params_grid):
    """Validated ``(names, axes, points)`` of ``params_grid`` for ``solver``.

    Every name must be a scalar parameter of the model, every value a finite
    real number, and every jump rate finite and ``≥ 0`` at every point: all
    checked before any solve (``ValueError`` naming the parameter).
    """
    from .solve import _check_jump_rates

    if not isinstance(params_grid, dict) or not params_grid:
        raise TypeError("params_grid must be a non-empty dict {parameter name: values}")
    system = solver.system
    known = set(system.scalar_parameters) | system.model.parameter_names
    names, axes = [], []
    for name, values in params_grid.items():
        if name not in known:
            raise ValueError(f"params_grid: unknown parameter {name!r}; the model has "
                             f"{sorted(known)} (per-cluster values are fixed by the solver)")
        try:
            if np.iscomplexobj(np.asarray(values)):
                raise TypeError
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"params_grid[{name!r}] must be real numbers, got "
                             f"{values!r}") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"params_grid[{name!r}] must be a non-empty 1-D sequence, got "
                             f"shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"params_grid[{name!r}] must be finite, got "
                             f"{arr[~np.isfinite(arr)][0]} at position "
                             f"{int(np.flatnonzero(~np.isfinite(arr))[0])}")
        names.append(name)
        axes.append(arr)
    shape = tuple(a.size for a in axes)
    order = snake_order(shape)
    points = {}
    for idx in order:
        pt = dict(solver.params, **{n: float(a[i]) for n, a, i in zip(names, axes, idx)})
        try:
            _check_jump_rates(system.model, pt, solver.clusters, solver.M)
        except ValueError as exc:
            bad = {n: pt[n] for n in names}
            raise ValueError(f"params_grid at {bad}: {exc}") from None
        points[idx] = pt
    return names, axes, order, points


def run_grid(solver, kind, params_grid, work, progress_bar=None):
    """Run ``work(index, params, previous)`` over the grid in snake order.

    ``work`` returns ``(result, newton_iterations, continued)`` or raises
    ``RuntimeError`` / ``ValueError`` (the point fails, the grid goes on);
    ``previous`` is the result of the point solved just before (``None`` at
    the start or after a failure).  The solver's own parameters are restored
    at the end.
    """
    bar = check_progress_bar(progress_bar)
    names, axes, order, points = check_grid_params(solver, params_grid)
    out = CumulantGrid(names, axes, kind, order)
    original = dict(solver.params)
    previous = None
    try:
        with Progress(len(order), f"cumulant {kind}_grid", bar) as meter:
            for idx in order:
                t0 = time.perf_counter()
                solver._bind(points[idx])
                try:
                    res, iters, cont = work(idx, points[idx], previous)
                except TimeLimitError as exc:
                    out.errors[idx], previous = f"TimeLimitError: {exc}", None
                except (RuntimeError, ValueError) as exc:
                    out.errors[idx], previous = f"{type(exc).__name__}: {exc}", None
                else:
                    out.results[idx], out.status[idx] = res, "ok"
                    out.newton_iterations[idx], out.continued[idx] = iters, cont
                    previous = res
                out.wall_time[idx] = time.perf_counter() - t0
                meter.advance(1.0, ", ".join(f"{n}={v:g}" for n, v in out.point(idx).items()))
    finally:
        solver._bind(original)
    return out
