r"""Cumulant closure: truncate, complete and fold the moment hierarchy.

Given a model (:class:`~.derive.Model`, possibly with a :class:`~.clusters.Clusters`
of identical atoms) and an order ``k``, :func:`close` returns a
:class:`ClosedSystem`: the list of moment *families* and, for each, its
right-hand side as a sum of products of moments of order ``≤ k``.

Cumulant expansion
    A moment is split into *elements*: every atom factor ``σ_ij`` is one
    element, a mode factor ``a†^m a^n`` is ``m + n`` elements.  The order of a
    moment is its number of elements.  For a moment of order ``n > k`` the
    joint cumulant is set to zero,
    ``κ_n = Σ_π (−1)^{|π|−1}(|π|−1)! Π_{B∈π} ⟨B⟩ = 0``, which gives
    ``⟨X⟩ = −Σ_{|π|≥2} (−1)^{|π|−1}(|π|−1)! Π_B ⟨B⟩``; blocks still of order
    ``> k`` are expanded recursively.  Blocks keep the normal order of the
    moment (cumulants of normal-ordered products, as QuantumCumulants.jl).
Families
    Atoms of a :class:`Clusters` are interchangeable within a cluster, so a
    moment is identified by its *pattern* (the factors on modes and concrete
    atoms, and the sorted list of transitions on cluster atoms) and a tuple
    of cluster indices, one per cluster atom.  The values of a family form
    an array of shape ``(M,) * slots``; entries with equal indices mean
    *distinct* atoms of the same cluster.
Weights
    A sum over all atoms in the model becomes, inside the equation of a
    family, either one of the family's atoms (a *slot*) or a new atom
    (*fresh*, index ``c``), with multiplicity ``N_c − #(atoms of the moment
    in cluster c)``.  The Kronecker deltas are expanded: ``Σ_c (N_c − δ_{c,m})
    f(c) = Σ_c N_c f(c) − f(m)``, so every term is a plain sum over clusters.
Conjugate folding
    ``⟨X†⟩ = ⟨X⟩*``: of a family and its adjoint only one is kept (the
    smaller pattern); references to the other are conjugated.
U(1) filter
    With ``phase_charges`` every moment has a charge (``+q`` per ``a†``, ``−q``
    per ``a``, ``q_i − q_j`` per ``σ_ij``); for a phase-invariant model the
    moments with non-zero charge vanish and are dropped.  The model is
    checked: ``H`` must be neutral and each jump of definite charge.

The data types of the result (:class:`~.ir.Family`, :class:`~.ir.Term`,
:class:`~.ir.ClosedEquations`), the cumulant expansion and the family
right-hand sides are in :mod:`.ir`, shared with :mod:`.solve` (quantum
regression); their names stay importable from here.
"""
from __future__ import annotations

import numbers

from .algebra import _PRODUCTS, Mode, Operator
from .clusters import Modes
from .ir import (ClosedEquations, _EXPANSION_CACHE, _dag_fixed, _family_terms, _gc_paused,
                 _is_cluster, _make_family, _moment_name, _pattern_sort, _slotify, _split,
                 moment_order)
from .solve import CumulantSolver

# moved to .ir (and their imports): still importable from this module
from .algebra import Coeff  # noqa: F401
from .clusters import ClusterAtom, rename_coeff, substitute_atoms  # noqa: F401
from .ir import (Family, Term, _NotClosed, _Vanishes, _assignments,  # noqa: F401
                 _block_key, _elements, _instantiate, _mono_sort, _parse_param,
                 _weight_choices, cumulant_expansion, family_rhs, set_partitions)

__all__ = ["close", "first_moments", "ClosedSystem", "Family", "cumulant_expansion"]


# --------------------------------------------------------------------------
# canonical families of the closed system
# --------------------------------------------------------------------------

class _Registry:
    """Canonical families, conjugate folding and the U(1) filter."""

    def __init__(self, sets, charges, fold):
        self.sets = {f.name: f for f in sets}
        self.clusters = sets[0] if len(sets) == 1 else None
        self.charges = charges
        self.fold = fold
        self.families = []
        self.by_pattern = {}
        self._memo = {}

    def charge(self, key):
        return _charge(key, self.charges)

    def lookup(self, key, create=True):
        """``(family, vars, conj)`` for a canonical monomial, or ``None`` if it vanishes."""
        if key in self._memo:
            return self._memo[key]
        res = self._lookup(key, create)
        self._memo[key] = res
        return res

    def _lookup(self, key, create):
        if self.charge(key) != 0:
            return None
        fixed, cl = _split(key)
        cl.sort()
        pattern = (fixed, tuple(t for t, _ in cl))
        vars_ = tuple(v for _, v in cl)
        conj = False
        if self.fold:
            cld = sorted(((n, (j, i)), v) for (n, (i, j)), v in cl)
            dpat = (_dag_fixed(fixed), tuple(t for t, _ in cld))
            if dpat != pattern and _pattern_sort(dpat) < _pattern_sort(pattern):
                pattern, vars_, conj = dpat, tuple(v for _, v in cld), True
        fam = self.by_pattern.get(pattern)
        if fam is None:
            if not create:
                raise KeyError(f"moment ⟨{_moment_name(key)}⟩ is not in the closed system")
            fam = self._new(pattern)
        return fam, vars_, conj

    def _new(self, pattern):
        fam = _make_family(len(self.families), pattern, self.sets)
        self.families.append(fam)
        self.by_pattern[pattern] = fam
        return fam


def _charge(key, charges):
    """U(1) charge of a monomial (0 without charges; unlisted subsystems are neutral)."""
    if charges is None:
        return 0
    q = 0
    for s, f in key:
        c = charges.get(s if not _is_cluster(s) else s.clusters, None)
        if c is None:
            continue
        if s.kind == "mode":
            q += c * (f[0] - f[1])
        else:
            q += c[f[0] - 1] - c[f[1] - 1]
    return q


# --------------------------------------------------------------------------
# the closed system
# --------------------------------------------------------------------------

class ClosedSystem(ClosedEquations):
    """Closed cumulant equations of a model, as returned by :func:`close`.

    The IR (:class:`~.ir.ClosedEquations`: families, right-hand sides,
    parameter names, lookup and printing; see its attributes) plus the
    solver front end :meth:`solver`.
    """

    def solver(self, params=None, clusters=None, backend="auto"):
        """:class:`~.solve.CumulantSolver` with parameter values bound."""
        return CumulantSolver(self, params, clusters, backend)


def _check_charges(model, charges):
    """H must be neutral and every jump of one charge (a product's charge is the sum)."""
    def term_charges(factors):
        qs = {0}
        for f in factors:
            qs = {q + _charge(k, charges) for q in qs for k in f.terms}
        return qs

    for _, factors, _ in model.H_indexed.terms:
        if term_charges(factors) - {0}:        # (a zero operator has no charge)
            k = next(k for f in factors for k in f.terms if _charge(k, charges))
            raise ValueError("phase_charges: the Hamiltonian has a term of non-zero "
                             f"charge ({_moment_name(k)}); the model is not "
                             "phase invariant under these charges")
    for _, kind, c in model.jump_list:
        terms = [[c.op]] if kind == "each" else [t[1] for t in c.terms]
        qs = set().union(*(term_charges(fs) for fs in terms))
        if len(qs) > 1:
            raise ValueError("phase_charges: a jump operator mixes charges "
                             f"{sorted(qs)}; the model is not phase invariant")


def _normalise_charges(charges):
    if charges is None:
        return None
    out = {}
    for sub, q in charges.items():
        if isinstance(sub, (Mode, Modes)):
            if not isinstance(q, numbers.Real):
                raise TypeError(f"charge of mode {sub.name} must be a number")
            out[sub] = q
        elif hasattr(sub, "levels"):          # an Atom or the Clusters
            q = tuple(q)
            if len(q) != sub.levels:
                raise ValueError(f"charges of {sub!r} need one value per level "
                                 f"({sub.levels}), got {len(q)}")
            out[sub] = q
        else:
            raise TypeError(f"phase_charges keys must be modes, atoms or Clusters, got {sub!r}")
    return out


def first_moments(model):
    """The moments :func:`close` starts from by default: ``a``, ``a†`` of every mode and
    ``σ_ij`` (``(i, j) ≠ (1, 1)``) of every atom and template atom."""
    operators = []
    for s in model.subsystems:
        if s.kind == "mode":
            operators += [s.a, s.adag]
        else:
            operators += [s.s(i, j) for i in range(1, s.levels + 1)
                          for j in range(1, s.levels + 1) if (i, j) != (1, 1)]
    return operators


def close(model, order=2, operators=None, phase_charges=None, fold=True, max_families=20000):
    """Derive, truncate and complete the cumulant equations of ``model``.

    Parameters
    ----------
    model : Model
        Hamiltonian and jumps (operators, :class:`~.clusters.IndexedOperator`
        sums over a :class:`~.clusters.Clusters`, ``Clusters.each`` jumps).
    order : int, default 2
        Cumulant order ``k`` (``1`` = mean field).
    operators : list of Operator, optional
        Moments to start from (order ``≤ k``).  Default: every first-order
        moment (``a``, ``a†``, ``σ_ij`` of each atom and of the template atom).
        Completion adds every moment their equations need.
    phase_charges : dict, optional
        U(1) filter ``{mode: q, atom_or_clusters: (q_1, …, q_N)}``; moments
        of non-zero charge are dropped (see module docstring).
    fold : bool, default True
        Keep one of ``⟨X⟩, ⟨X†⟩``.
    max_families : int, default 20000
        Refuse to grow the system beyond this many families.

    Returns
    -------
    ClosedSystem
    """
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"order must be an integer >= 1, got {order!r}")
    clusters = model.clusters
    sets = list(getattr(model, "index_sets", [clusters] if clusters is not None else []))
    # memos keyed by monomials keep their atoms (and Clusters) alive: start clean so that
    # memory stays bounded by the current model
    _EXPANSION_CACHE.clear()
    _PRODUCTS.clear()
    charges = _normalise_charges(phase_charges)
    if charges is not None:
        _check_charges(model, charges)
    reg = _Registry(sets, charges, fold)
    if operators is None:
        operators = first_moments(model)
    for op in operators:
        if not isinstance(op, Operator):
            raise TypeError(f"operators must be Operators, got {type(op).__name__}")
        for key in op.terms:
            if not key:
                continue
            if moment_order(key) > order:
                raise ValueError(f"⟨{_moment_name(key)}⟩ has order {moment_order(key)} > {order}")
            reg.lookup(_slotify(key, clusters))
    rhs = []
    memo = {}          # closed expansions, shared by all families (same expand / lookup)
    done = 0
    with _gc_paused():
        try:
            while done < len(reg.families):
                if len(reg.families) > max_families:
                    raise ValueError(f"the closed system exceeds max_families={max_families}")
                fam = reg.families[done]
                rhs.append(_family_terms(model, fam, order, reg.lookup, memo=memo))
                done += 1
        finally:
            # free the memos before the collector is back: it then traverses the result only
            memo.clear()
            _EXPANSION_CACHE.clear()
            _PRODUCTS.clear()
    return ClosedSystem(model, order, reg, rhs)
