"""Mean-field and cumulant solvers of a :class:`~qutip_superrad.Model` (the cumulant engine).

The equations are derived once per model structure and order (kept on the
symbolic model), bound to the model's numbers and solved with a compiled
right-hand side; clusters of identical atoms stay arrays over the clusters,
so the cost does not grow with ``N``.

* ``cumulant`` (default order 2): with a U(1)-symmetric model the moments of
  non-zero charge are dropped (phase-invariant closure).
* ``meanfield`` (order 1): no U(1) filter, the phase may break; the initial
  state carries a small coherence (option ``seed``) so that a lasing or
  synchronised solution can grow out of the unstable trivial one.

Expectation values of collective operators (``Clusters.sum`` and their
products) are sums over clusters with the counts of distinct atoms:
``⟨Σ_{a,b} X_a Y_b⟩ = Σ_{c,c′} N_c (N_{c′} − δ_{cc′}) ⟨X_c Y_{c′}⟩ + Σ_c N_c ⟨(XY)_c⟩``,
each moment cumulant-expanded at the order of the closure.
"""
from __future__ import annotations

import time

import numpy as np

from .. import _validate as V
from ..cumulant.engine.algebra import Operator
from ..cumulant.engine.closure import first_moments, set_partitions
from ..cumulant.engine.clusters import IndexedOperator, Modes, is_site, substitute_atoms
from ..cumulant.engine.solve import CumulantState, MomentNotReachedError, _operator_value
from ..results import Result, TimeResult, normalise_e_ops
from .._progress import Progress
from ._shared import expect_values

__all__ = ["supports", "steadystate", "evolve", "spectrum", "correlation", "closed_system",
           "collective_value", "Bound"]

NAME = "cumulant"
EXACT = False
_DEFAULTS = {"order": 2, "backend": "auto", "steadystate": None, "evolve": None, "seed": 0.0,
             "progress_bar": None}


def supports(model):
    """``None`` if the cumulant engine reads the model, else the reason."""
    if model.symbolic.restricted_sums():
        return ("H or a jump sums over one cluster only (Clusters.sum(op, cluster=k)); give "
                "that cluster its own parameters instead")
    return None


def closed_system(model, order, phase_filter=True, seeds=frozenset()):
    """The closed equations of ``model`` at ``order`` (derived once per structure).

    ``seeds``: moments (canonical monomials of order ``≤ order``) to close on besides the
    first moments — those of observables the first moments' equations never reach."""
    sym = model.symbolic
    cache = sym.__dict__.setdefault("_closed_cache", {})
    charges = model.charges if (phase_filter and model.symmetry == "U(1)") else None
    key = (order, charges is not None) + ((frozenset(seeds),) if seeds else ())
    if key not in cache:
        operators = (first_moments(sym) + [Operator({k: 1}) for k in seeds]) if seeds else None
        cache[key] = sym.close(order, operators=operators, phase_charges=charges)
    return cache[key]


def _values(model, system):
    """``(scalars, clusters)`` of ``model`` for a solver of ``system``."""
    scalars = {k: v for k, v in model.parameters.items() if np.ndim(v) == 0
               and (k in system.scalar_parameters or k in system.model.parameter_names)}
    clusters = None
    sets = system.index_sets
    owner = model.symbolic.index_parameters

    def values(fam):
        out = ({"N": model.cluster_counts[fam]} if not isinstance(fam, Modes)
               else {"M": model.mode_families[fam]})
        out.update({k: v for k, v in model.parameters.items()
                    if np.ndim(v) == 1 and k in system.indexed_parameters and owner.get(k) is fam})
        return out

    if len(sets) > 1:
        clusters = {f.name: values(f) for f in sets}
    elif sets:
        clusters = values(sets[0])
    return scalars, clusters


def _solver(model, opts, phase_filter, seeds=frozenset()):
    order = V.check_int("order", opts["order"], minimum=1)
    system = closed_system(model, order, phase_filter, seeds)
    scalars, clusters = _values(model, system)
    return system, system.solver(scalars, clusters, opts["backend"])


def _falling(counts, labels, families=None):
    """Number of ordered tuples of distinct sites with indices ``labels`` (arrays).

    ``counts`` is one array of sizes (``N_c`` per cluster), or one per label when
    ``families`` names the indexed family of each label (only labels of one family
    can coincide; a :class:`Modes` index holds one mode).
    """
    w = np.ones(np.broadcast(*labels).shape) if labels else np.ones(())
    families = families or [None] * len(labels)
    for a, lab in enumerate(labels):
        used = sum((labels[b] == lab).astype(float) for b in range(a)
                   if families[b] is families[a])
        cnt = counts[a] if isinstance(counts, list) else counts
        w = w * np.clip(cnt[lab] - used, 0, None)
    return w


def collective_value(model, system, state, op, missing=None):
    """``⟨op⟩`` for an operator of the description from a cumulant state.

    ``op`` may act on modes and explicit atoms, and sum over the atoms of the
    model's Clusters (``Clusters.sum`` and products of sums).  ``missing``: a set that
    collects the moments the closed system lacks (see ``_operator_value``).
    """
    M = state.M
    if isinstance(op, Operator):
        if any(is_site(s) for s in op.subsystems):
            raise ValueError("an operator on one atom of the Clusters (or one mode of a Modes "
                             "family) is ambiguous: write Clusters.sum(...) (and divide by N "
                             "for a per-atom mean), Modes.sum(...) or .sum(op, cluster=k)")
        return complex(_operator_value(system, state, model._subs_scalar(op), M, missing))
    if not isinstance(op, IndexedOperator):
        raise TypeError(f"expected an Operator or a Clusters sum, got {type(op).__name__}")
    total = 0j
    for c, factors, phs in op.terms:
        if any("[" in n for mono in c.terms for n, _ in mono) or any(
                "[" in n for f in factors for v in f.terms.values() for mono in v.terms for n, _ in mono):
            raise ValueError("e_ops may not contain per-cluster parameters")
        for blocks in set_partitions(list(range(len(phs)))):
            fams = [phs[blk[0]].clusters for blk in blocks]
            if any(phs[i].clusters is not fams[b] for b, blk in enumerate(blocks) for i in blk):
                continue                          # sites of two families never coincide
            slots = [f._site(f"{f.name}#{b}", f"i{b}") for b, f in enumerate(fams)]
            atommap = {phs[i]: slots[b] for b, blk in enumerate(blocks) for i in blk}
            prod = Operator({(): c})
            for f in factors:
                prod = prod * substitute_atoms(f, atommap, {})
            sizes = [model.family_size(f) for f in fams]
            labels = list(np.indices(tuple(sizes))) if blocks else []
            counts = [np.ones(n) if isinstance(f, Modes) else model.cluster_counts[f]
                      for f, n in zip(fams, sizes)]
            weight = _falling(counts, labels, fams)
            for b, blk in enumerate(blocks):      # sums restricted to one cluster
                pins = {phs[i].cluster for i in blk} - {None}
                if len(pins) > 1:                 # one atom in two different clusters
                    weight = weight * 0
                elif pins:
                    weight = weight * (labels[b] == pins.pop())
            for key, v in prod.terms.items():
                used = sorted({s.var for s, _ in key if is_site(s)}, key=lambda x: int(x[1:]))
                # rename the slots that occur to i0, i1, … (what _operator_value expects)
                # (name and var together: the registry reads the slot from either)
                ren = {s: s.clusters._site(f"{s.clusters.name}#{used.index(s.var)}",
                                           f"i{used.index(s.var)}")
                       for s, _ in key if is_site(s)}
                mono = Operator({tuple(sorted(((ren.get(s, s), f) for s, f in key),
                                              key=lambda x: x[0]._key())): v})
                val = np.asarray(_operator_value(system, state, model._subs_scalar(mono), M,
                                                 missing))
                shape = [sizes[b] if f"i{b}" in used else 1 for b in range(len(blocks))]
                total += complex(np.sum(weight * np.reshape(val, shape)))
    return total


def _cluster_checks(model, checks):
    """``checks`` with ``"clusters"`` (:func:`~qutip_superrad.convergence.fixed_m_check`)
    when the model's clusters discretise a recorded distribution."""
    dist = getattr(model, "distribution", None)
    if dist is None:
        return checks
    from ..convergence import fixed_m_check
    return dict(checks, clusters=fixed_m_check(model.n_clusters, dist))


def _seeded(solver, seed):
    y = solver.initial_state()
    if seed:
        rng = np.random.default_rng(0)
        y = y + seed * (rng.standard_normal(y.size) + 1j * rng.standard_normal(y.size))
    return solver.physical_part(y)


_ACCEPTED = "None, 'ground', 'excited', a CumulantState or a state vector of the equations"


def _initial(model, system, solver, initial, seed):
    """State vector of ``initial``: product states only (the closure has no entangled state)."""
    if isinstance(initial, (str, tuple)) and initial not in ("ground", "excited"):
        raise ValueError(f"initial={initial!r} is not a product state, which is all the "
                         f"cumulant closure represents; initial must be {_ACCEPTED}")
    if initial is not None and not isinstance(initial, str):
        y0 = initial.y if isinstance(initial, CumulantState) else initial
        if not isinstance(y0, np.ndarray) or y0.shape != (solver.n,):
            raise ValueError(f"initial must be {_ACCEPTED} (length {solver.n}); got "
                             f"{initial!r:.80}")
        return y0
    if initial in (None, "ground"):
        return _seeded(solver, seed)
    # every atom in its highest level, vacuum: a moment is 1 iff each factor is σ_LL
    y = solver.initial_state()
    for fam, o in zip(system.families, solver.offsets):
        fixed, trans = fam.pattern
        top = [(f == (s.levels, s.levels)) if s.kind != "mode" else False for s, f in fixed]
        top += [not isinstance(solver.system.registry.sets[n], Modes)
                and f == (solver.system.registry.sets[n].levels,) * 2 for n, f in trans]
        n_values = int(np.prod([solver.M if not isinstance(solver.M, dict) else solver.M[n]
                                for n, _ in trans], dtype=np.int64))
        y[o:o + n_values] = float(all(top))
    return y


class Bound:
    """The engine solver of one model structure, rebound to the numbers of each model given.

    One closed system and one compiled or lowered right-hand side serve every
    model that :meth:`~qutip_superrad.Model.with_values` makes from the first
    without changing the number of clusters or of modes of a :class:`Modes` family
    (parameters, cluster sizes ``N``, per-mode values; :meth:`Model.same_structure`):
    a point only rebinds the coefficients (decisions 31, 36 and 39 of
    ``docs/architecture.md``).  :func:`steadystate` and :func:`evolve` are one
    point of it; the grid path of :func:`qutip_superrad.sweep` uses it for many.

    Parameters
    ----------
    model : Model
        Fixes the structure, the number of clusters and the sizes of the Modes families.
    options : dict
        As for :func:`steadystate` (already merged with the method's defaults).
    what : {"steadystate", "evolve"}
        The call (for the messages of the options check).
    phase_filter : bool
    name : str
        The method name recorded in the results.
    """

    def __init__(self, model, options, what="steadystate", *, phase_filter=True,
                 name="cumulant"):
        self.opts = V.check_options(options, _DEFAULTS, f"{what}(method={name!r})")
        self.name, self.model, self.phase_filter = name, model, phase_filter
        self.seeds = frozenset()
        self.system, self.solver = _solver(model, self.opts, phase_filter)

    def _close_on(self, model, e_ops):
        """Close the equations again on the moments of ``e_ops`` that the first moments'
        equations never reach (a mode coupled to nothing under the U(1) filter, the second
        moments of a linear driven model), as starting moments besides the first ones;
        ``False`` if nothing was missing.  The bound solver keeps the larger system (the
        closure is cached per structure and seeds)."""
        zero = CumulantState(self.system, self.solver.M, np.zeros(self.solver.n, complex),
                             np.nan, {})
        missing = set()
        for op in e_ops.values():
            collective_value(model, self.system, zero, op, missing)
        if not missing:
            return False
        self.seeds = self.seeds | missing
        self.system, self.solver = _solver(model, self.opts, self.phase_filter, self.seeds)
        self.model = model
        return True

    def _bind(self, model):
        """Bind ``model``'s numbers (parameters, counts, per-mode values); it must have
        the structure of the model the solver was built for (:meth:`Model.same_structure`)."""
        if model is self.model:
            return
        if not self.model.same_structure(model):
            raise ValueError("a bound cumulant solver takes models of its own structure, "
                             "number of clusters and number of modes per Modes family "
                             "(Model.with_values of the first)")
        scalars, clusters = _values(model, self.system)
        self.solver._bind(scalars, clusters)
        self.model = model

    def steadystate(self, model, e_ops=None, previous=None):
        """Steady state of ``model`` (:func:`steadystate`); Newton starts from ``previous``
        (a :class:`~qutip_superrad.results.Result` of this solver at a neighbouring point)
        when given, accepted as a fresh root is, else the point is solved from scratch
        (``checks["solver"]["continued"]`` says which)."""
        t0 = time.perf_counter()
        e_ops = normalise_e_ops(e_ops)
        self._bind(model)
        system, solver = self.system, self.solver
        sopts = dict(self.opts["steadystate"] or {})
        if self.opts["seed"] and "y0" not in sopts:
            sopts["y0"] = _seeded(solver, self.opts["seed"])
        start = None if previous is None else previous.state
        with Progress(1, f"steadystate(method={self.name!r})", self.opts["progress_bar"]) as bar:
            state, _, continued = solver.steadystate_near(start, sopts)
            bar.advance(1)
        state.info["continued"] = continued

        def fn(op):
            return collective_value(model, system, state, op)

        try:
            values = expect_values(fn, e_ops)
        except MomentNotReachedError:
            if not self._close_on(model, e_ops):
                raise
            return self.steadystate(model, e_ops)    # on the equations closed on them too
        return Result(self.name, model, state=state, values=values,
                      checks=_cluster_checks(model, {"residual": state.residual,
                                                     "solver": state.info}),
                      stats={"equations": solver.n, "order": system.order,
                             "time": time.perf_counter() - t0}, evaluator=fn, e_ops=e_ops)

    def evolve(self, model, tlist, initial=None, e_ops=None):
        """Evolution of ``model`` (:func:`evolve`)."""
        tlist = V.check_grid("tlist", tlist)
        e_ops = normalise_e_ops(e_ops)
        self._bind(model)
        system, solver = self.system, self.solver
        y0 = _initial(model, system, solver, initial, self.opts["seed"])
        eopts = dict(self.opts["evolve"] or {})
        eopts.setdefault("progress_bar", self.opts["progress_bar"])
        evo = solver.evolve(tlist, y0, eopts)
        states = [CumulantState(system, solver.M, y, np.nan, {}) for y in evo.ys]
        try:
            values = expect_values(
                lambda op: np.array([collective_value(model, system, s, op) for s in states]),
                e_ops)
        except MomentNotReachedError:
            if not self._close_on(model, e_ops):
                raise
            return self.evolve(model, tlist, initial, e_ops)
        return TimeResult(self.name, model, tlist, values, states=states, e_ops=e_ops,
                          stats={"equations": solver.n, "order": system.order})


def steadystate(model, e_ops=None, options=None, *, phase_filter=True, name="cumulant"):
    """Steady state of the closed cumulant equations.

    Options
    -------
    order : int, default 2 (``meanfield``: 1)
    backend : {"auto", "sparse", "c", "table", "numpy"}
    steadystate : dict, optional
        Options of :meth:`CumulantSolver.steadystate` (``t_max``, ``tol``, …).
    seed : float, default 0 (``meanfield``: 1e-3)
        Size of a small random start added to every moment.
    progress_bar : None, bool or str
        QuTiP's values (one stage: the solve).
    """
    e_ops = normalise_e_ops(e_ops)
    return Bound(model, options, phase_filter=phase_filter, name=name).steadystate(model, e_ops)


def evolve(model, tlist, initial=None, e_ops=None, options=None, *, phase_filter=True,
           name="cumulant"):
    """Integrate the cumulant equations from ``initial``.

    ``initial``: ``None``/``"ground"`` (vacuum, atoms in level 1), ``"excited"`` (every atom
    in its highest level), a :class:`CumulantState` or a state vector.  Entangled states
    (``"superradiant"``, Dicke states) have no cumulant closure: ``ValueError``.

    Options
    -------
    order, backend, seed : as for :func:`steadystate`
    evolve : dict, optional
        Options of :meth:`CumulantSolver.evolve` (``rtol``, ``atol``, ``method``,
        ``max_step``, ``max_time``).
    progress_bar : None, bool or str
        QuTiP's values; the bar advances with the time reached.
    """
    tlist = V.check_grid("tlist", tlist)
    return Bound(model, options, "evolve", phase_filter=phase_filter,
                 name=name).evolve(model, tlist, initial, e_ops)


_SP_DEFAULTS = dict(_DEFAULTS, reference=None, state=None, regression="poles")


def spectrum(model, omega, operator, options=None, *, phase_filter=True, name="cumulant"):
    """Spectrum of ``⟨δB†(τ)δB(0)⟩`` by the quantum regression theorem at the closure's order.

    ``B`` must be a single element on a mode or an explicit atom (``a``, ``σ_12``).

    Options
    -------
    As for :func:`steadystate`, and ``state`` (a ``Result`` of this method whose
    steady state is reused) and ``reference`` (a stable reference frame for a model
    whose frame follows a diffusing laser phase, see
    :meth:`~qutip_superrad.cumulant.engine.CumulantSolver.qrt_matrix`), and
    ``regression``: ``"poles"`` (default: poles and residues of the regression matrix,
    cost independent of the number of frequencies) or ``"resolvent"`` (one sparse solve
    per frequency); see :meth:`~qutip_superrad.cumulant.engine.CumulantSolver.spectrum`.
    """
    opts = V.check_options(options, _SP_DEFAULTS, f"spectrum(method={name!r})")
    _, solver = _solver(model, opts, phase_filter)
    if not isinstance(operator, Operator):
        raise TypeError("the cumulant spectrum needs B on a mode or an explicit atom (an Operator)")
    state = opts["state"]
    if state is not None:
        state = getattr(state, "state", state)
        if not isinstance(state, CumulantState) or state.y.shape != (solver.n,):
            raise TypeError("option 'state' must be a cumulant Result (or CumulantState) of "
                            "this model")
    if opts["regression"] not in ("poles", "resolvent"):
        raise ValueError(f"option 'regression' must be 'poles' or 'resolvent', got "
                         f"{opts['regression']!r}")
    res = solver.spectrum(omega, {"operator": operator, "steadystate": opts["steadystate"],
                                  "reference": opts["reference"], "state": state,
                                  "method": opts["regression"]})
    res.method = name
    res.checks = _cluster_checks(model, res.checks)
    return res


def correlation(model, taulist, operator, options=None, *, phase_filter=True, name="cumulant"):
    """``⟨B†(τ)B(0)⟩`` by the quantum regression theorem at the closure's order."""
    opts = V.check_options(options, _DEFAULTS, f"correlation(method={name!r})")
    _, solver = _solver(model, opts, phase_filter)
    if not isinstance(operator, Operator):
        raise TypeError("the cumulant correlation needs B on a mode or an explicit atom (an Operator)")
    return solver.correlation(taulist, {"operator": operator, "steadystate": opts["steadystate"]})
