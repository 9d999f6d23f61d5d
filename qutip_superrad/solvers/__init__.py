"""Solvers of the model description, dispatched by a registry.

Each method is a module (or a variant of one) with ``supports(model)`` — ``None``
if the model fits, else the reason — and the functions ``steadystate``,
``evolve`` and ``spectrum`` that it offers.  :func:`steadystate`,
:func:`evolve`, :func:`spectrum` pick the method by name, or with
``method="auto"`` the cheapest exact method that fits in ``max_memory``.

=============  =====  =====================================================
method         exact  representation
=============  =====  =====================================================
``full``       yes    tensor space (QuTiP), U(1)/parity sectors
``dicke``      yes    weighted Dicke blocks ⊗ Fock, identical two-level atoms
``manifold``   yes    the symmetric block j = N/2 (no local jumps)
``meanfield``  no     first-order cumulants (product state)
``cumulant``   no     cumulant closure at ``order`` (default 2)
``trajectories`` no   ``qutip.mcsolve`` on the tensor space (evolution only)
=============  =====  =====================================================
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from .._threads import limited_blas
from ..exact._common import NotUniqueError
from . import cumulant as _cumulant
from . import dicke as _dicke
from . import full as _full
from . import trajectories as _trajectories

__all__ = ["steadystate", "evolve", "spectrum", "correlation", "methods", "register", "Method",
           "BoundSolver", "GenericCall"]


@dataclass
class Method:
    """A registered solver: its name, whether it is exact, and its entry points."""

    name: str
    exact: bool
    supports: Callable
    steadystate: Optional[Callable] = None
    evolve: Optional[Callable] = None
    spectrum: Optional[Callable] = None
    estimate: Optional[Callable] = None
    defaults: Optional[dict] = None
    correlation: Optional[Callable] = None
    bound: Optional[Callable] = None


_REGISTRY: dict = {}


def register(method: Method):
    """Add (or replace) a method of the registry."""
    _REGISTRY[method.name] = method


def _variant(fn, **kw):
    return None if fn is None else functools.partial(fn, **kw)


register(Method("full", True, _full.supports, _full.steadystate, _full.evolve, _full.spectrum,
                _full.estimate, correlation=_full.correlation))
register(Method("dicke", True, _dicke.supports, _dicke.steadystate, _dicke.evolve,
                _dicke.spectrum, _dicke.estimate, correlation=_dicke.correlation))
register(Method("manifold", True, functools.partial(_dicke.supports, symmetric_only=True),
                _variant(_dicke.steadystate, symmetric=True), _variant(_dicke.evolve, symmetric=True),
                _variant(_dicke.spectrum, symmetric=True),
                _variant(_dicke.estimate, symmetric=True),
                correlation=_variant(_dicke.correlation, symmetric=True)))
register(Method("meanfield", False, _cumulant.supports,
                _variant(_cumulant.steadystate, phase_filter=False, name="meanfield"),
                _variant(_cumulant.evolve, phase_filter=False, name="meanfield"),
                None, None, {"order": 1, "seed": 1e-3},
                bound=_variant(_cumulant.Bound, phase_filter=False, name="meanfield")))
register(Method("cumulant", False, _cumulant.supports, _cumulant.steadystate, _cumulant.evolve,
                _cumulant.spectrum, correlation=_cumulant.correlation, bound=_cumulant.Bound))
register(Method("trajectories", False, _trajectories.supports, None, _trajectories.evolve))


def methods(model, task="steadystate"):
    """``{method: reason or None}`` for every registered method and ``task``."""
    out = {}
    for name, m in _REGISTRY.items():
        if getattr(m, task) is None:
            out[name] = f"method {name!r} has no {task}"
        else:
            out[name] = m.supports(model)
    return out


def _check_model(model):
    from ..model import Model
    if not isinstance(model, Model):
        raise TypeError(f"model must be a qutip_superrad.Model, got {type(model).__name__}")


def _options(options, kwargs, defaults):
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    merged = dict(defaults or {})
    merged.update(options or {})
    merged.update(kwargs)
    return merged


def _pick(model, method, task, options):
    """The :class:`Method` for ``method`` (resolving ``"auto"``) and the options it gets."""
    if method == "auto":
        from ..exact._common import DEFAULT_MAX_MEMORY
        limit = options.get("max_memory")
        limit = DEFAULT_MAX_MEMORY if limit is None else limit
        fits = []
        for name, m in _REGISTRY.items():
            if not m.exact or m.estimate is None or getattr(m, task) is None or m.supports(model):
                continue
            # the limit also bounds the counting (an exact count of a huge space is slow)
            known = {"max_memory": limit, **{k: v for k, v in options.items()
                                             if k in ("nphot", "jmax", "smoother")
                                             and k in (m.defaults or {})}}
            est = m.estimate(model, known)
            fits.append((est["memory"], name, est))
        ok = sorted(f for f in fits if f[0] <= limit)
        if not ok:
            smallest = min(fits)[0] if fits else float("nan")
            raise ValueError(f"method='auto': no exact method fits in max_memory={limit:.3g} B "
                             f"(smallest estimate {smallest:.3g} B); use method='cumulant' or "
                             "raise max_memory")
        method = ok[0][1]
    if not isinstance(method, str) or method not in _REGISTRY:
        raise ValueError(f"method must be 'auto' or one of {sorted(_REGISTRY)}, got {method!r}")
    m = _REGISTRY[method]
    if getattr(m, task) is None:
        able = [n for n, r in methods(model, task).items() if r is None]
        raise ValueError(f"method {method!r} has no {task}; methods that do for this model: {able}")
    reason = m.supports(model)
    if reason:
        able = [n for n, r in methods(model, task).items() if r is None]
        raise ValueError(f"method {method!r} does not support this model: {reason}. "
                         f"Methods that do: {able}")
    return m, _options(None, options, m.defaults)


def _regression_operator(model, operator):
    """``B`` of a correlation: given, or the annihilation operator of the only mode."""
    _check_model(model)
    if operator is None:
        if len(model.modes) != 1:
            raise ValueError(f"operator is required: the model has {len(model.modes)} modes")
        operator = model.modes[0].a
    model.check_operator(operator, "operator")
    return operator


def _check_e_ops(model, e_ops):
    from ..results import normalise_e_ops
    for k, op in normalise_e_ops(e_ops).items():
        model.check_operator(op, f"e_ops[{k!r}]")


def _dissipative_or_raise(model):
    """Refuse a steady state of a model whose jump rates are all zero (unitary dynamics: no
    unique steady state; the relaxation of an approximate method would oscillate for ever)."""
    for rate, kind, c in model.symbolic.jump_list:
        values = ([model._bind(rate, m) for m in range(model.family_size(c.clusters))]
                  if kind == "each" else [model._bind(rate)])
        if any(v != 0 for v in values):
            return
    zero = sorted(k for k, v in model.parameters.items() if np.all(np.asarray(v) == 0))
    raise NotUniqueError("steadystate: every jump rate of the model is zero (the parameters "
                         f"that are zero: {zero}): the dynamics is unitary and has no unique "
                         "steady state; make a rate > 0 or use evolve")


@limited_blas
def steadystate(model, method: str = "auto", *, e_ops=None, options: dict | None = None, **kwargs):
    """Steady state of a :class:`~qutip_superrad.Model` by any method that fits it.

    Parameters
    ----------
    model : Model
    method : str, default "auto"
        ``"full"``, ``"dicke"``, ``"manifold"``, ``"meanfield"``, ``"cumulant"``,
        or ``"auto"``: the exact method with the smallest memory estimate
        that fits in ``max_memory`` (recorded in ``result.stats["auto"]``).
    e_ops : operator, list or dict, optional
        Operators of the description (``a.num()``, ``atoms.sum(s.sp) *
        atoms.sum(s.sm)``…) whose expectation values are computed.
    options : dict, optional
        Method options, also accepted as keywords; unknown keys raise ``ValueError``.
        ``full``, ``dicke``, ``manifold``: ``nphot`` (int or ``{mode: int}``, default
        10), ``max_memory`` (bytes, default 8 GiB: ``MemoryLimitError`` with the
        estimate before building), ``strict`` (raise instead of warning on a truncated
        photon space), ``truncation_tol`` (1e-6), ``dicke`` also ``jmax`` (largest
        total spin kept, per cluster; default all ``j ≤ N/2``: the weight of the top kept
        block is checked against ``truncation_tol`` like a photon cutoff), ``max_time``
        (s, default 600: limit
        of the GMRES solve of large sectors, ``TimeLimitError`` with the iterations and
        residual), ``progress_bar``.  ``meanfield``, ``cumulant``: ``order`` (2;
        ``meanfield`` 1), ``backend`` ("auto", "c", "numpy"), ``steadystate`` (dict of
        the engine's options: ``t_max``, ``tol``, ``maxiter``, ``max_time``…),
        ``seed``, ``progress_bar``.  ``progress_bar`` takes QuTiP's values
        (None/False/"" off, True/"text", "enhanced", "tqdm").

    Returns
    -------
    Result
    """
    _check_model(model)
    _check_e_ops(model, e_ops)
    _dissipative_or_raise(model)
    opts = _options(options, kwargs, None)
    m, opts = _pick(model, method, "steadystate", opts)
    res = m.steadystate(model, e_ops, opts)
    if method == "auto":
        res.stats["auto"] = m.name
    return res


@limited_blas
def evolve(model, tlist, method: str = "auto", *, initial=None, e_ops=None,
           options: dict | None = None, **kwargs):
    """Time evolution of a :class:`~qutip_superrad.Model` by any method that fits it.

    Parameters
    ----------
    model : Model
    tlist : array_like
        Strictly increasing output times; the evolution starts at ``tlist[0]``.
    method : str, default "auto"
        ``"full"``, ``"dicke"``, ``"manifold"``, ``"meanfield"``, ``"cumulant"``,
        ``"trajectories"`` or ``"auto"`` (the exact method with the smallest memory
        estimate).
    initial : optional
        ``None``/``"ground"``: the vacuum with every atom in level 1 (QuTiP's
        ``basis(2, 1)``; ``basis(2, 0)`` is the *excited* state).  ``"excited"``: every
        atom in its highest level.  ``"superradiant"``: the Dicke state ``|N/2, m⟩``
        of smallest ``|m|``.  ``(j, m)``: a Dicke state (the permutation-invariant
        mixture over the copies of ``j`` when ``j < N/2``).  A Qobj: ``full`` takes
        kets and density matrices of the tensor space (dims of ``model.dims``) or of
        the Dicke representation; ``dicke``/``manifold`` take both when the state is
        permutation invariant (see
        :meth:`~qutip_superrad.solvers.dicke.DickeFockState.to_qobj`);
        ``trajectories`` takes kets only (named states except ``j < N/2``);
        ``meanfield``/``cumulant`` represent product states only
        (``"ground"``/``"excited"``, or a state of the method).  Anything else raises
        ``ValueError``/``TypeError`` naming ``initial`` and the accepted values.
    e_ops : operator, list or dict, optional
        Operators of the description whose expectation values are returned in
        ``values`` (keys ``0, 1, …`` for a list).
    options : dict, optional
        Method options, also accepted as keywords; unknown keys raise ``ValueError``.
        ``full``, ``dicke``, ``manifold``: ``nphot`` (10), ``max_memory`` (8 GiB),
        ``atol``, ``rtol``, ``nsteps`` (QuTiP's meanings: given any of them the
        equation is integrated by the Adams method, defaults 1e-8, 1e-6 and 2500 steps
        between output times, instead of the exact propagator ``exp(Lt)``; exceeding
        ``nsteps`` raises ``TimeLimitError``), ``max_time`` (s, wall-time limit),
        ``progress_bar``.  ``meanfield``, ``cumulant``: ``order``, ``backend``,
        ``seed``, ``evolve`` (dict: ``rtol``, ``atol``, ``method``, ``max_step``,
        ``max_time``), ``progress_bar``.  ``trajectories``: ``nphot``, ``ntraj``
        (200), ``seed``, ``max_memory``, ``max_time`` (s, default 3600: fewer finished
        trajectories raise ``TimeLimitError``), ``atol``, ``rtol``, ``nsteps``,
        ``progress_bar``.  ``progress_bar``: QuTiP's values (None/False/"" off,
        True/"text", "enhanced", "tqdm").

    Returns
    -------
    TimeResult
        ``values[key]`` over ``times``; ``std`` for trajectories.
    """
    _check_model(model)
    _check_e_ops(model, e_ops)
    opts = _options(options, kwargs, None)
    m, opts = _pick(model, method, "evolve", opts)
    res = m.evolve(model, tlist, initial, e_ops, opts)
    if method == "auto":
        res.stats["auto"] = m.name
    return res


def _unchanged(result):
    return result


@dataclass
class GenericCall:
    """A model class's steady state written as a call of the generic solvers.

    ``finish(steadystate(model, method, e_ops=e_ops, options=options))`` gives what
    the class's ``steadystate(method)`` gives for the observables asked (its named
    observables in ``values``, derived ones such as ``photon_flux = κ⟨a†a⟩`` computed
    by ``finish``).  A model class offers it by a method ``generic_call(method,
    observables=None, options=None)`` that raises ``ValueError`` with the reason when
    the call is not of that form (an observable or option without a generic
    counterpart); the grid path of :func:`qutip_superrad.sweep` then solves ``model``
    with a :class:`BoundSolver` rebound at every point (decision 39 of
    ``docs/architecture.md``).

    Attributes
    ----------
    model : Model
        The class's description at its numbers.
    e_ops : dict
        ``{key: operator of model}``.
    options : dict
        Options of the method.
    finish : callable
        ``Result -> Result`` adding the class's derived observables to ``values``.
    """

    model: object
    e_ops: dict
    options: dict = field(default_factory=dict)
    finish: Callable = _unchanged

    def steadystate(self, method):
        """The class's steady state by the generic :func:`steadystate`."""
        return self.finish(steadystate(self.model, method, e_ops=self.e_ops,
                                       options=self.options))


class BoundSolver:
    """One solver for many models of one structure that differ in their numbers.

    What a loop of :func:`steadystate` (or :func:`evolve`) calls over
    :meth:`~qutip_superrad.Model.with_values` of one model computes, with the
    equations built once: each call rebinds the numbers, and a steady state may
    continue from a neighbouring point's.  Only methods with a ``bound`` entry
    (``meanfield``, ``cumulant``) have one; :func:`qutip_superrad.sweep` uses it
    for its grid path.

    Parameters
    ----------
    model : Model
        The structure, number of clusters and number of modes of each Modes family of
        every later call (parameters, cluster sizes and per-mode values may change:
        :meth:`~qutip_superrad.Model.with_values`, :meth:`~qutip_superrad.Model.same_structure`).
    method : str
        A method with a ``bound`` entry (``"auto"`` resolves to exact methods,
        which have none).
    task : {"steadystate", "evolve"}
    options : dict, optional
        As for :func:`steadystate` / :func:`evolve` (also as keywords; unknown keys
        raise ``ValueError``).

    Raises
    ------
    ValueError
        The method has no bound solver or does not support the model.
    """

    TASKS = ("steadystate", "evolve")

    def __init__(self, model, method, task="steadystate", *, options=None, **kwargs):
        _check_model(model)
        if task not in self.TASKS:
            raise ValueError(f"task must be one of {self.TASKS}, got {task!r}")
        m, opts = _pick(model, method, task, _options(options, kwargs, None))
        if m.bound is None:
            able = sorted(n for n, r in _REGISTRY.items() if r.bound is not None)
            raise ValueError(f"method {m.name!r} has no bound solver (methods with one: {able})")
        self.method, self.task = m.name, task
        self._impl = m.bound(model, opts, task)

    @limited_blas
    def steadystate(self, model, e_ops=None, previous=None):
        """:func:`steadystate` of ``model`` (of the bound structure).

        ``previous``: a :class:`~qutip_superrad.results.Result` of this solver at a
        neighbouring point; Newton starts from its state and the root is accepted as a
        fresh one would be, else the point is solved from scratch
        (``result.checks["solver"]["continued"]``).
        """
        if self.task != "steadystate":
            raise ValueError(f"this solver was bound for {self.task}")
        _check_model(model)
        _check_e_ops(model, e_ops)
        _dissipative_or_raise(model)
        return self._impl.steadystate(model, e_ops, previous)

    @limited_blas
    def evolve(self, model, tlist, initial=None, e_ops=None):
        """:func:`evolve` of ``model`` (of the bound structure)."""
        if self.task != "evolve":
            raise ValueError(f"this solver was bound for {self.task}")
        _check_model(model)
        _check_e_ops(model, e_ops)
        return self._impl.evolve(model, tlist, initial, e_ops)


@limited_blas
def spectrum(model, omega, method: str = "auto", *, operator=None, options: dict | None = None,
             **kwargs):
    """Spectrum ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨B†(τ)B(0)⟩ dτ`` (quantum regression).

    Parameters
    ----------
    model : Model
    omega : array_like
        Strictly increasing frequencies.
    method : str, default "auto"
        ``"full"``, ``"dicke"``, ``"manifold"``, ``"cumulant"`` or ``"auto"``.
    operator : operator, optional
        ``B`` (default: the annihilation operator of the model's only mode).
    options : dict, optional
        Also accepted as keywords; unknown keys raise ``ValueError``.  Exact methods:
        the options of :func:`steadystate` (``nphot``, ``max_memory``, ``strict``,
        ``truncation_tol``, ``max_time``, ``progress_bar``) and ``prominence`` (relative
        prominence threshold of ``n_peaks``, default 1e-3, recorded in
        ``checks["peak_prominence"]``; :func:`~qutip_superrad.spectrum.count_peaks`).
        ``cumulant``: ``order``,
        ``backend``, ``steadystate``, ``seed``, ``state`` (a steady state to reuse),
        ``reference`` (a stable reference frame).

    Returns
    -------
    SpectrumResult
        A model that emits nothing gives ``S = 0``, ``linewidth = nan`` and
        ``checks["dark"] = True``.
    """
    operator = _regression_operator(model, operator)
    opts = _options(options, kwargs, None)
    m, opts = _pick(model, method, "spectrum", opts)
    return m.spectrum(model, omega, operator, opts)


@limited_blas
def correlation(model, taulist, method: str = "auto", *, operator=None, options: dict | None = None,
                **kwargs):
    """Steady-state two-time correlation ``⟨B†(τ)B(0)⟩`` on ``taulist`` (quantum regression).

    ``operator`` is ``B`` (default: the annihilation operator of the model's only mode);
    ``⟨B†B⟩`` at ``τ = 0``.

    Returns
    -------
    ndarray, complex
    """
    operator = _regression_operator(model, operator)
    opts = _options(options, kwargs, None)
    m, opts = _pick(model, method, "correlation", opts)
    return m.correlation(model, taulist, operator, opts)
