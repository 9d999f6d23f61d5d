r"""Intermediate representation (IR) of closed cumulant equations.

The IR sits between the derivation (:mod:`.closure`, :func:`~.closure.close`)
and the numerical back ends: :mod:`.codegen` evaluates it (by attribute
access only), :mod:`.solve` solves it and derives its quantum-regression
equations with the routines below.  :mod:`.closure` and :mod:`.solve` import
from here; no back end imports :mod:`.closure`.

:class:`Family`
    The unknowns: one moment *pattern* (factors on modes and concrete atoms,
    transitions of cluster atoms), an array of shape ``(M,) * slots`` over
    cluster indices.
:class:`Term`
    One summand ``number · Π params · Π moments`` of a right-hand side;
    index variables ``i0, i1, …`` are the family's, others are summed over
    clusters.
:class:`ClosedEquations`
    The families and their right-hand sides (``rhs[f]``, a list of
    :class:`Term`), the parameter names to bind, lookup of moments and
    printing (text, LaTeX).  :class:`~.closure.ClosedSystem`, the result of
    :func:`~.closure.close`, adds the solver front end.

The module also holds what derivation and back ends share to build and read
the IR: the cumulant expansion of one moment (:func:`cumulant_expansion`,
:func:`moment_order`, :func:`set_partitions`), the exact right-hand side of a
family split into slot and fresh atoms (:func:`family_rhs`), and the one
routine that closes it into :class:`Term` lists (``_family_terms``, used by
:func:`~.closure.close` and by the quantum-regression system of
:mod:`.solve`).  Engine-internal helpers keep their leading underscore:
``_make_family``, ``_slotify`` (cluster atoms of a user monomial → slot atoms
``i0, i1, …``), ``_split`` (fixed part and cluster transitions of a
monomial), ``_moment_name``, and the lookup errors ``_NotClosed`` (not a
family of the system) and ``_Vanishes`` (removed by the U(1) filter, value
zero).
"""
from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import math
import weakref

from .algebra import Coeff, Operator, _mono_mul, _mono_product_uncached as _product
from .clusters import is_site, rename_coeff, substitute_atoms

__all__ = ["Family", "Term", "ClosedEquations", "cumulant_expansion", "moment_order",
           "set_partitions", "family_rhs", "family_shape", "var_set", "var_size", "param_key"]


# --------------------------------------------------------------------------
# garbage collection during a closure
# --------------------------------------------------------------------------

@contextlib.contextmanager
def _gc_paused():
    """Suspend Python's cyclic garbage collector for the duration (if it is enabled).

    A closure allocates millions of small tuples and dicts that live until it ends;
    every allocation burst triggers a collection that traverses all of them again
    (the 6-site chain at order 4: about half of the closure time).  They form no
    reference cycles, so reference counting frees them; the collector is restored,
    not run, at the end (and collects any cycle then).
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------
# set partitions and the cumulant expansion of one moment


# --------------------------------------------------------------------------

def set_partitions(items):
    """All set partitions of ``items`` (blocks in order of first element)."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for p in set_partitions(rest):
        yield [[first]] + p
        for i in range(len(p)):
            yield p[:i] + [[first] + p[i]] + p[i + 1:]


def _elements(key):
    out = []
    for s, f in key:
        if s.kind == "mode":
            out += [(s, "+")] * f[0] + [(s, "-")] * f[1]
        else:
            out.append((s, f))
    return out


def _block_key(elems):
    modes = {}
    atoms = []
    for s, e in elems:
        if s.kind == "mode":
            m, n = modes.get(s, (0, 0))
            modes[s] = (m + 1, n) if e == "+" else (m, n + 1)
        else:
            atoms.append((s, e))
    return tuple(sorted(list(modes.items()) + atoms, key=lambda x: x[0]._key()))


def moment_order(key):
    """Number of elements of a canonical monomial."""
    return sum(f[0] + f[1] if s.kind == "mode" else 1 for s, f in key)


_EXPANSION_CACHE = {}
_TEMPLATES = {}


def _partition_template(n, order):
    """The order-``k`` cumulant expansion of ``n`` distinct labelled elements.

    Returns ``[(blocks, coefficient)]``: ``blocks`` a tuple of sorted label tuples
    (sorted by first label), every block of at most ``order`` labels, in the order the
    recursion over set partitions first reaches them.  It depends on ``(n, order)``
    only, so the set partitions are enumerated once per size instead of once per
    moment; :func:`cumulant_expansion` maps the labels onto the moment's elements.
    """
    t = _TEMPLATES.get((n, order))
    if t is not None:
        return t
    out = {}
    for part in set_partitions(range(n)):
        nb = len(part)
        if nb < 2:
            continue
        # ⟨X⟩ = −Σ_{|π|≥2} (−1)^{|π|−1} (|π|−1)! Π ⟨B⟩, integers (exact) until the end
        prods = {(): -((-1) ** (nb - 1)) * math.factorial(nb - 1)}
        for block in part:
            if len(block) <= order:
                sub = [((tuple(block),), 1)]
            else:
                sub = [(tuple(tuple(block[i] for i in b) for b in bs), w)
                       for bs, w in _partition_template(len(block), order)]
            new = {}
            for p, v in prods.items():
                for q, w in sub:
                    k2 = tuple(sorted(p + q))
                    new[k2] = new.get(k2, 0) + v * w
            prods = new
        for p, v in prods.items():
            out[p] = out.get(p, 0) + v
    t = _TEMPLATES[(n, order)] = [(p, float(v)) for p, v in out.items() if v != 0]
    return t


def cumulant_expansion(key, order):
    """Expand ``⟨key⟩`` into products of moments of order ``≤ order``.

    Parameters
    ----------
    key : tuple
        Canonical monomial (``Operator.terms`` key).
    order : int
        Truncation order ``k``: joint cumulants of more than ``k`` elements
        are set to zero.

    Returns
    -------
    dict
        ``{(key_1, key_2, ...): coefficient}`` with sorted tuples of
        canonical monomials (each of order ``≤ order``).

    Notes
    -----
    The expansion of ``n`` elements is the same for every moment up to the names
    of the elements (:func:`_partition_template`).  When every factor is one
    element (atoms, single ``a`` or ``a†``), the blocks are sub-tuples of ``key``,
    already canonical and, being disjoint, ordered by their first factor; repeated
    mode elements (``a†² a``) go through canonical block monomials and merge.
    """
    n = moment_order(key)
    if n <= order:
        return {(key,): 1.0}
    ck = (key, order)
    out = _EXPANSION_CACHE.get(ck)
    if out is not None:
        return out
    template = _partition_template(n, order)
    if n == len(key):
        get = key.__getitem__
        out = {tuple([tuple(map(get, b)) for b in blocks]): c for blocks, c in template}
    else:
        elems = _elements(key)
        out = {}
        for blocks, c in template:
            p = tuple(sorted((_block_key([elems[i] for i in b]) for b in blocks),
                             key=_mono_sort))
            out[p] = out.get(p, 0.0) + c
        out = {p: v for p, v in out.items() if v != 0}
    _EXPANSION_CACHE[ck] = out
    return out


def _mono_sort(key):
    return [(s._key(), f) for s, f in key]


# --------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------

def _is_cluster(s):
    """True for a site of an indexed family (a :class:`~.clusters.Clusters` atom or a
    :class:`~.clusters.Modes` mode: template, slot, fresh)."""
    return is_site(s)


def _split(key):
    """(fixed part, [((family name, factor), var), ...] of the indexed sites)."""
    fixed = tuple((s, f) for s, f in key if not _is_cluster(s))
    cl = [((s.clusters.name, f), s.var) for s, f in key if _is_cluster(s)]
    return fixed, cl


def var_set(v, fam):
    """Name of the indexed family (index set) the index variable ``v`` runs over.

    Slot variables ``i0, i1, …`` are those of ``fam``; summed variables are
    ``c0, c1, …`` in a system with one index set (``None`` is returned: the only
    one) and ``c0_<name>, …`` with several.
    """
    if v[0] == "i":
        return fam.slot_sets[int(v[1:])]
    _, _, name = v.partition("_")
    return name or None


def set_size(M, name):
    """Size of index set ``name``: ``M`` is an int (one index set) or ``{name: size}``."""
    if isinstance(M, dict):
        return M[name] if name is not None else next(iter(M.values()))
    return M


def param_key(name, v, fam, M):
    """Key of a per-index parameter in the parameter offsets: its name (one index set)
    or ``(family name, name)`` (several, ``M`` a dict)."""
    return (var_set(v, fam), name) if isinstance(M, dict) else name


def var_size(v, fam, M):
    """Size of the range of index variable ``v`` in an equation of ``fam``."""
    return set_size(M, var_set(v, fam)) if isinstance(M, dict) else M


def family_shape(fam, M):
    """Shape of the values of ``fam``: one axis per slot, the size of its index set."""
    return tuple(set_size(M, n) for n in fam.slot_sets)


def _dag_fixed(fixed):
    """Fixed part of the adjoint monomial (each factor's transition reversed)."""
    return tuple((s, (f[1], f[0])) for s, f in fixed)


def _pattern_sort(pattern):
    """Sort key of a pattern: order first (conjugate folding keeps the smaller)."""
    fixed, trans = pattern
    return (sum(f[0] + f[1] if s.kind == "mode" else 1 for s, f in fixed) + len(trans),
            [(s._key(), f) for s, f in fixed], trans)


class Family:
    """A family of moments: one pattern, an array over cluster indices.

    Attributes
    ----------
    index : int
        Position in :attr:`ClosedSystem.families`.
    pattern : tuple
        ``(fixed factors, transitions of the cluster atoms)``.
    slots : int
        Number of cluster atoms (array dimension).
    order : int
        Number of elements.
    operator : Operator
        Representative operator (cluster atoms with indices ``i0, i1, …``).
    name : str
        Readable name, e.g. ``"a σ21"`` or ``"s21[i0] s12[i1]"``.
    """

    def __init__(self, index, pattern, operator, clusters):
        self.index = index
        self.pattern = pattern
        self.slots = len(pattern[1])
        self.order = _pattern_sort(pattern)[0]
        self.operator = operator
        self.clusters = clusters
        self.name = _moment_name(next(iter(operator.terms)), vars_shown=self.slots > 0)
        fixed, trans = pattern
        # ⟨X⟩* = ⟨X†⟩: for fixed part self-adjoint and transitions (t, t†), the values
        # satisfy Y[j, m] = conj(Y[m, j]) (e.g. ⟨σ⁻_m σ⁺_j⟩); code generation uses it
        self.slot_sets = [n for n, _ in trans]
        self.hermitian_swap = (self.slots == 2 and _dag_fixed(fixed) == fixed
                               and trans[1] == (trans[0][0], (trans[0][1][1], trans[0][1][0]))
                               and trans[0] != trans[1])

    def __repr__(self):
        return f"Family({self.name!r})"


def _moment_name(key, vars_shown=True, varnames=None):
    """Readable name of a monomial, e.g. ``"a† a"`` or ``"s21[i0]"``."""
    parts = []
    for s, f in key:
        if s.kind == "mode" and not _is_cluster(s):
            m, n = f
            parts += [f"{s.name}†" + (f"^{m}" if m > 1 else "")] if m else []
            parts += [s.name + (f"^{n}" if n > 1 else "")] if n else []
        elif _is_cluster(s):
            v = varnames.get(s.var, s.var) if varnames else s.var
            idx = f"[{v}]" if vars_shown else ""
            if s.kind == "mode":
                m, n = f
                parts += [f"{s.clusters.name}†" + (f"^{m}" if m > 1 else "") + idx] if m else []
                parts += [s.clusters.name + (f"^{n}" if n > 1 else "") + idx] if n else []
            else:
                parts.append(f"{s.clusters.name}{f[0]}{f[1]}" + idx)
        else:
            parts.append(f"σ{f[0]}{f[1]}" if s.name == "" else f"σ[{s.name}]{f[0]}{f[1]}")
    return " ".join(parts) if parts else "1"


def _make_family(index, pattern, sets):
    """:class:`Family` of ``pattern`` with slot sites ``i0, i1, …`` as representative
    (``sets``: the model's indexed families by name)."""
    fixed, trans = pattern
    slots = [sets[n]._site(f"{n}#{k}", f"i{k}") for k, (n, _) in enumerate(trans)]
    clusters = next(iter(sets.values())) if len(sets) == 1 else None
    key = tuple(sorted(list(fixed) + [(a, f) for a, (_, f) in zip(slots, trans)],
                       key=lambda x: x[0]._key()))
    fam = Family(index, pattern, Operator({key: 1}), clusters)
    fam.slot_atoms = slots
    return fam


# --------------------------------------------------------------------------
# right-hand side of a family with slots and fresh atoms
# --------------------------------------------------------------------------

def _fresh_var(t, family, several):
    """Name of the ``t``-th summed index (see :func:`var_set`)."""
    return f"c{t}_{family.name}" if several else f"c{t}"


def _assignments(placeholders, slots, several=False):
    """Map placeholders to slot sites or to fresh sites (all coincidences).

    A placeholder becomes a slot of its own family or a fresh site of its family;
    fresh sites coincide only within a family.  Yields ``(atommap, varmap, fresh
    variables)``.
    """
    ns = len(slots)
    options = [[c for c in range(ns) if slots[c].clusters is p.clusters] + [ns]
               for p in placeholders]
    for choice in itertools.product(*options):
        fresh = [i for i, c in enumerate(choice) if c == ns]
        fams = []
        for i in fresh:
            if placeholders[i].clusters not in fams:
                fams.append(placeholders[i].clusters)
        groups = [[i for i in fresh if placeholders[i].clusters is f] for f in fams]
        for parts in itertools.product(*(list(set_partitions(g)) for g in groups)):
            atommap, varmap = {}, {}
            for i, c in enumerate(choice):
                if c < ns:
                    atommap[placeholders[i]] = slots[c]
                    varmap[placeholders[i].var] = slots[c].var
            t, names = 0, []
            for fam, part in zip(fams, parts):
                for block in part:
                    v = _fresh_var(t, fam, several)
                    f = fam._site(f"{fam.name}~{t}", v)
                    t += 1
                    names.append(v)
                    for i in block:
                        atommap[placeholders[i]] = f
                        varmap[placeholders[i].var] = f.var
            yield atommap, varmap, tuple(names)


def _instantiate(term, atommap, varmap):
    c, factors, _ = term
    out = None
    for f in factors:
        g = substitute_atoms(f, atommap, varmap)
        out = g if out is None else out * g
    return out * rename_coeff(c, varmap)


# Right-hand sides are accumulated on *flat* operators, tuples of ``(monomial, ((parameter
# monomial, number), ...))``: every product of monomials adds numbers into one dict of
# dicts, instead of building an Operator of Coeffs per product.  The coefficients of the
# Hamiltonian and jump terms (times ±i, the rate, −rate/2) are multiplied once per model.
# Products of monomials are not memoised here: a family's products rarely recur (87 % misses
# on the Ising chain), and hashing the pair costs more than the hits save.
def _flat(op):
    return tuple((k, tuple(c.terms.items())) for k, c in op.terms.items())


def _coeff_mul(a, b):
    """Product of two flat coefficients (tuples of (parameter monomial, number))."""
    if len(b) == 1 and not b[0][0]:
        c = b[0][1]
        return tuple((m, v * c) for m, v in a)
    if len(a) == 1 and not a[0][0]:
        c = a[0][1]
        return tuple((m, c * v) for m, v in b)
    out = {}
    for m1, v1 in a:
        for m2, v2 in b:
            m = _mono_mul(m1, m2)
            out[m] = out.get(m, 0) + v1 * v2
    return tuple(out.items())


def _accumulate(acc, products, coef):
    """``acc[monomial][parameters] += n · coef`` for ``(n, monomial)`` in ``products``."""
    for n, m in products:
        d = acc.get(m)
        if d is None:
            d = acc[m] = {}
        for pm, v in coef:
            d[pm] = d.get(pm, 0) + n * v


def _commutator_into(acc, h, mid):
    """``acc += i[h, mid]``; ``h`` as ``[(monomial, i·c, −i·c, its subsystems)]``."""
    for mm, cm in mid:
        unit = len(cm) == 1 and not cm[0][0] and cm[0][1] == 1
        sites = {s for s, _ in mm}
        for ml, cp, cn, on in h:
            if on.isdisjoint(sites):
                continue            # factors on other subsystems commute
            if not unit:
                cp, cn = _coeff_mul(cp, cm), _coeff_mul(cn, cm)
            _accumulate(acc, _product(ml, mm), cp)
            _accumulate(acc, _product(mm, ml), cn)


def _dissipator_into(acc, jump, mid):
    """``acc += γ (C† mid C − ½ C†C mid − ½ mid C†C)``; ``jump`` as ``(sandwich, anti,
    subsystems)``: ``[(C† monomial, C monomial, γ·c†·c)]`` and ``[(C†C monomial, −γ·c/2)]``."""
    sandwich, anti, _ = jump
    for mm, cm in mid:
        unit = len(cm) == 1 and not cm[0][0] and cm[0][1] == 1
        for ml, mr, c in sandwich:
            lm = _product(ml, mm)
            if lm:
                c = c if unit else _coeff_mul(c, cm)
                for n1, m1 in lm:
                    _accumulate(acc, _product(m1, mr), c if n1 == 1 else
                                tuple((pm, n1 * v) for pm, v in c))
        for ml, c in anti:
            c = c if unit else _coeff_mul(c, cm)
            _accumulate(acc, _product(ml, mm), c)
            _accumulate(acc, _product(mm, ml), c)


def _h_flat(op):
    """``[(monomial, i·c, −i·c, its subsystems)]`` of a Hamiltonian term."""
    return [(k, tuple((pm, 1j * v) for pm, v in c.terms.items()),
             tuple((pm, -1j * v) for pm, v in c.terms.items()), frozenset(s for s, _ in k))
            for k, c in op.terms.items()]


def _jump_flat(tc, td, atommap, varmap, rate):
    """``(sandwich, anti, subsystems)`` of one jump term pair (see
    :func:`_dissipator_into`)."""
    C = _instantiate(tc, atommap, varmap)
    CD = C.dag() if td is None else _instantiate(td, atommap, varmap)
    r = tuple(rename_coeff(rate, varmap).terms.items())
    sandwich = [(kl, kr, _coeff_mul(_coeff_mul(tuple(cl.terms.items()), tuple(cr.terms.items())),
                                    r))
                for kl, cl in CD.terms.items() for kr, cr in C.terms.items()]
    half = _coeff_mul(r, (((), -0.5),))
    anti = [(k, _coeff_mul(tuple(c.terms.items()), half)) for k, c in (CD * C).terms.items()]
    return sandwich, anti, frozenset(C.subsystems) | frozenset(CD.subsystems)


class _Pieces:
    """The Hamiltonian and jump terms of a model, prepared once for every family.

    Placeholders of a collective jump and of its adjoint are made distinct once (not per
    family), so that the instantiated terms — flat operators keyed by the placeholder →
    site map, sites being interned — are shared by all families with the same slots.
    """

    def __init__(self, model):
        self.several = len(getattr(model, "index_sets", ())) > 1
        self.h_sum = []                    # H terms with sums or products: (term, placeholders)
        self.h_local = {}                  # subsystem -> indices into self.h_concrete
        self.h_concrete = []               # concrete one-factor H terms, monomial by monomial
        for term in model.H_indexed.terms:
            ph = list(term[2])
            if not ph and len(term[1]) == 1:
                for entry in _h_flat(term[1][0] * term[0]):
                    for s, _ in entry[0]:
                        self.h_local.setdefault(s, []).append(len(self.h_concrete))
                    self.h_concrete.append(entry)
            else:
                self.h_sum.append((term, ph))
        self.jumps = []                    # (rate, [(C term, C† term or None, placeholders)])
        for rate, kind, c in model.jump_list:
            if kind == "each":
                ph = c.clusters._placeholder()
                tv = c.clusters.tvar
                cop = substitute_atoms(c.op, {c.clusters.template: ph}, {tv: ph.var})
                pairs = [((Coeff(1), [cop], (ph,)), None, [ph])]
                rate_t = rename_coeff(rate, {tv: ph.var})
            else:
                cd = c._fresh_copy().dag()
                pairs = [(tc, td, list(tc[2]) + list(td[2])) for tc in c.terms for td in cd.terms]
                rate_t = rate
            self.jumps.append((rate_t, pairs))
        self._memo = {}

    def term(self, key, make):
        """Instantiated term ``key`` (``make()`` the first time)."""
        out = self._memo.get(key)
        if out is None:
            out = self._memo[key] = make()
        return out


_PIECES = weakref.WeakKeyDictionary()


def _pieces(model):
    p = _PIECES.get(model)
    if p is None:
        p = _PIECES[model] = _Pieces(model)
    return p


def family_rhs(model, op, slots):
    """Exact ``d⟨op⟩/dt`` with sums split into slot and fresh sites.

    Returns ``{fresh variables: Operator}``; fresh sites are named ``c0, c1, …``
    (``c0_<family>, …`` when the model has several indexed families).
    """
    return {nf: Operator._new({k: Coeff._new(c) for k, c in d.items()})
            for nf, d in _family_rhs_flat(model, op, slots).items()}


def _family_rhs_flat(model, op, slots):
    """:func:`family_rhs` as ``{fresh variables: {monomial: {parameters: number}}}``.

    Numbers that cancel are dropped, and monomials left without any: a cancelled term
    must not pull its moments into the closed system."""
    P = _pieces(model)
    several = P.several
    acc = {}
    mid = _flat(op)
    support = set(op.subsystems)

    def into(nf):
        d = acc.get(nf)
        if d is None:
            d = acc[nf] = {}
        return d

    # concrete H terms: only monomials sharing a subsystem with op fail to commute
    near = sorted({i for s in support for i in P.h_local.get(s, ())})
    if near:
        _commutator_into(into(()), [P.h_concrete[i] for i in near], mid)
    for t, (term, ph) in enumerate(P.h_sum):
        for atommap, varmap, nf in (_assignments(ph, slots, several) if ph else [({}, {}, ())]):
            h = P.term(("H", t, tuple(atommap.items())),
                       lambda: _h_flat(_instantiate(term, atommap, varmap)))
            _commutator_into(into(nf), h, mid)
    for j, (rate, pairs) in enumerate(P.jumps):
        for p, (tc, td, ph) in enumerate(pairs):
            for atommap, varmap, nf in (_assignments(ph, slots, several) if ph else [({}, {}, ())]):
                jump = P.term(("J", j, p, tuple(atommap.items())),
                              lambda: _jump_flat(tc, td, atommap, varmap, rate))
                if not jump[2].isdisjoint(support):  # else it commutes with op: no contribution
                    _dissipator_into(into(nf), jump, mid)
    out = {}
    for nf, d in acc.items():
        terms = {}
        for k, c in d.items():
            c = {pm: v for pm, v in c.items() if v != 0}
            if c:
                terms[k] = c
        if terms:
            out[nf] = terms
    return out


# --------------------------------------------------------------------------
# closed right-hand sides and the closed equations
# --------------------------------------------------------------------------

def _weight_choices(fresh_vars, slot_vars, sets=None):
    """Expand Π_t (N[c_t] − Σ_u δ(c_t, u)) into (Coeff factor, varmap) pairs.

    ``sets`` maps variables to their indexed family; a fresh variable coincides only
    with variables of its own family, and a :class:`~.clusters.Modes` site counts 1
    (``N = 1``: one mode per index).
    """
    out = []
    sets = sets or {}

    def rec(t, vm, coeff):
        if t == len(fresh_vars):
            out.append((coeff, dict(vm)))
            return
        c = fresh_vars[t]
        fam = sets.get(c)
        count = (Coeff(1) if fam is not None and not hasattr(fam, "levels")
                 else Coeff({((f"N[{c}]", 1),): 1}))
        rec(t + 1, vm, coeff * count)
        targets = [u for u in list(slot_vars) + list(fresh_vars[:t])
                   if sets.get(u) is fam]
        for u in targets:
            u = vm.get(u, u)
            vm2 = dict(vm)
            vm2[c] = u
            rec(t + 1, vm2, coeff * -1)

    rec(0, {}, Coeff(1))
    return out


def _parse_param(name):
    if name.endswith("]") and "[" in name:
        base, _, var = name[:-1].partition("[")
        return base, var
    return name, None


class Term(collections.namedtuple("Term", "number params factors")):
    """One product term ``number · Π params · Π moments`` of a right-hand side.

    A named tuple ``(number, params, factors)``: a closure makes hundreds of thousands,
    built in C (``tuple.__new__``).

    Attributes
    ----------
    number : complex
    params : tuple of (name, index or None, power)
    factors : tuple of (family index, index variables, conjugate)
    """

    __slots__ = ()

    def variables(self):
        vs = []
        for _, v, _ in self.params:
            if v is not None and v not in vs:
                vs.append(v)
        for _, fv, _ in self.factors:
            for v in fv:
                if v not in vs:
                    vs.append(v)
        return vs


_PARAM_KEYS = {}


def _param_key(mono):
    """A parameter monomial as :class:`Term` stores it: ``((name, index, power), ...)``."""
    k = _PARAM_KEYS.get(mono)
    if k is None:
        k = _PARAM_KEYS[mono] = tuple(_parse_param(n) + (p,) for n, p in mono)
    return k


def _param_terms(c):
    """``[(params, number)]`` of a :class:`Coeff`, parameters as :class:`Term` stores them."""
    return [(_param_key(mono), num) for mono, num in c.terms.items()]


def _family_terms(model, fam, order, lookup, expand=None, memo=None):
    """Closed right-hand side of ``fam`` as a list of :class:`Term`.

    ``expand(key)`` gives ``{(block, ...): coefficient}`` for a monomial of the
    exact right-hand side (default: the order-``k`` cumulant expansion);
    ``lookup(block)`` gives ``(family, index variables, conjugate)`` or ``None``
    for a vanishing moment.  The quantum-regression system passes its own
    ``expand``/``lookup`` (a frozen ``B(0)`` element), everything else is shared.
    ``memo`` (a dict shared by all families closed with the same ``expand`` and
    ``lookup``) keeps the closed expansion of every monomial seen, so a monomial
    that recurs in other families' right-hand sides is expanded and looked up once.
    """
    if expand is None:
        def expand(key):
            return cumulant_expansion(key, order) if key else {(): 1.0}
    if memo is None:
        memo = {}
    factors_of = memo.setdefault(_FACTORS, {})
    slots = fam.slot_atoms
    slot_vars = [s.var for s in slots]
    byname = {f.name: f for f in getattr(model, "index_sets", ())}
    acc = {}
    for fresh_vars, opr in _family_rhs_flat(model, fam.operator, slots).items():
        if fresh_vars:
            sets = {s.var: s.clusters for s in slots}
            sets.update({v: byname.get(var_set(v, fam), slots[0].clusters if slots else
                                       next(iter(byname.values()), None)) for v in fresh_vars})
            weights = _weight_choices(list(fresh_vars), slot_vars, sets)
        for key, coeff in opr.items():
            closed = memo.get(key)
            if closed is None:
                closed = memo[key] = _closed_expansion(expand(key), lookup, factors_of)
            if not closed:
                continue
            # per weight: (index renaming, [(parameter tuple, number)]), once per key
            if fresh_vars:
                c = Coeff._new(coeff)
                scaled = [(vm, _param_terms(rename_coeff(c, vm) * wc)) for wc, vm in weights]
            else:
                scaled = [(None, [(_param_key(pm), v) for pm, v in coeff.items()])]
            for factors, fs0, cnum in closed:
                for vm, monos in scaled:
                    if vm:
                        get = vm.get
                        fs = tuple(sorted([(fi, tuple([get(v, v) for v in vs]), cj)
                                           for fi, vs, cj in factors]))
                    else:
                        fs = fs0
                    for params, num in monos:
                        # (c·w)·cnum as Coeff multiplication would give, term by term
                        num = num * cnum
                        if num == 0:
                            continue
                        k = (params, fs)
                        acc[k] = acc.get(k, 0) + num
    new = tuple.__new__
    return [new(Term, (v, k[0], k[1])) for k, v in acc.items() if v != 0]


def _closed_expansion(expansion, lookup, factors_of):
    """``[(factors, sorted factors, complex coefficient)]`` of the block products of
    ``expansion`` whose blocks all exist (``lookup`` is not ``None``), in its order.

    ``factors_of`` (a dict shared with other calls using the same ``lookup``) keeps the
    factor ``(family index, variables, conjugate)`` or ``None`` of every block seen."""
    out = []
    for blocks, cnum in expansion.items():
        factors = []
        for b in blocks:
            f = factors_of.get(b, _UNSEEN)
            if f is _UNSEEN:
                r = lookup(b)
                f = factors_of[b] = None if r is None else (r[0].index, r[1], r[2])
            if f is None:
                break
            factors.append(f)
        else:
            out.append((factors, tuple(sorted(factors)), complex(cnum)))
    return out


_UNSEEN = object()
#: key of the block -> factor dict inside a ``_family_terms`` memo (never a monomial)
_FACTORS = object()


def _parameter_names(families, rhs, several):
    """``(scalar names, indexed names, {(family name or "", indexed name)})`` of the
    parameters in the right-hand sides ``rhs`` of ``families``."""
    sc, ix, keys = set(), set(), set()
    for fam, terms in zip(families, rhs):
        for params in {t.params for t in terms}:
            for name, v, _ in params:
                (ix if v is not None else sc).add(name)
                if v is not None:
                    keys.add((var_set(v, fam) or "" if several else "", name))
    return sc, ix, keys


class ClosedEquations:
    """Closed cumulant equations of a model (the IR container).

    :class:`~.closure.ClosedSystem`, returned by :func:`~.closure.close`, is
    this class plus :meth:`~.closure.ClosedSystem.solver`.

    Attributes
    ----------
    families : list of Family
        The unknowns; family ``f`` is an array of shape ``(M,) * f.slots``.
    rhs : list of list of Term
        ``rhs[f]`` is the right-hand side of family ``f`` (index variables
        ``i0, i1, …`` of the family; other variables are summed over
        clusters).
    order : int
    model : Model
    clusters : Clusters or None
    registry
        Table of the canonical families (:func:`~.closure.close`):
        ``registry.lookup(key, create=False)`` gives ``(family, index
        variables, conjugate)`` of a canonical monomial, or ``None`` if the
        U(1) filter removes it; ``registry.charge(key)`` its charge.
    scalar_parameters, indexed_parameters : list of str
        Parameter names to bind (``indexed`` ones take one value per
        cluster; ``N`` are the cluster sizes).
    """

    def __init__(self, model, order, registry, rhs):
        self.model = model
        self.order = order
        self.registry = registry
        self.families = registry.families
        self.rhs = rhs
        self.clusters = registry.clusters
        self.index_sets = list(getattr(registry, "sets", {}).values())
        sc, ix, keys = _parameter_names(self.families, rhs, len(self.index_sets) > 1)
        self.scalar_parameters = sorted(sc)
        self.indexed_parameters = sorted(ix)
        #: ``(family name, parameter)`` of every per-index parameter (one index set:
        #: the family name is ``""``); the packing order of the parameter vector
        self.indexed_keys = sorted(keys)

    def __len__(self):
        return len(self.families)

    def n_equations(self, M=1):
        """Number of complex unknowns for ``M`` clusters (``{family: size}`` with several
        index sets)."""
        return sum(int(math.prod(family_shape(f, M))) for f in self.families)

    def lookup(self, op):
        """``(family, index variables, conjugate)`` of a moment given as Operator or name."""
        if isinstance(op, str):
            for f in self.families:
                if f.name == op or f.name.replace("[i0]", "").replace("[i1]", "") == op:
                    return f, tuple(f"i{k}" for k in range(f.slots)), False
            raise KeyError(f"no family named {op!r}; families: {[f.name for f in self.families]}")
        if not isinstance(op, Operator) or len(op.terms) != 1:
            raise TypeError("lookup takes a single monomial Operator or a family name")
        (key, c), = op.terms.items()
        if c != Coeff(1):
            raise ValueError("lookup takes a monomial with coefficient 1")
        key = _slotify(key, self.clusters)
        try:
            res = self.registry.lookup(key, create=False)
        except KeyError as exc:
            raise _NotClosed(str(exc)) from None
        if res is None:
            raise _Vanishes(f"⟨{_moment_name(key)}⟩ vanishes by the U(1) filter",
                            [s.clusters.name for s, _ in key if _is_cluster(s)])
        return res

    def term_str(self, fam, t, latex=False):
        params = []
        for name, v, p in t.params:
            s = name + (f"[{v}]" if v is not None else "")
            if latex:
                from .algebra import _latex_name
                s = _latex_name(name) + (f"_{{{v}}}" if v is not None else "")
                s = s + (f"^{{{p}}}" if p > 1 else "")
            else:
                s = s + (f"**{p}" if p > 1 else "")
            params.append(s)
        moms = []
        for fi, fv, conj in t.factors:
            f = self.families[fi]
            vm = {f"i{k}": v for k, v in enumerate(fv)}
            nm = _moment_name(next(iter(f.operator.terms)), vars_shown=f.slots > 0, varnames=vm)
            if latex:
                moms.append(r"\langle " + nm + r"\rangle" + ("^*" if conj else ""))
            else:
                moms.append(f"⟨{nm}⟩*" if conj else f"⟨{nm}⟩")
        own = {f"i{k}" for k in range(fam.slots)}
        summed = [v for v in t.variables() if v not in own]
        num = Coeff._num_str(t.number)
        body = (" " if latex else " ").join(params + moms)
        pre = ""
        if summed:
            pre = (r"\sum_{" + ",".join(summed) + "} ") if latex else f"Σ_{','.join(summed)} "
        if latex:
            num = num.replace("j", "i")
        if not body:
            return num
        if num in ("1", "-1"):
            num = num[:-1]
        elif num in ("1j", "-1j", "1i", "-1i"):
            num = num[:-2] + ("i" if latex else "1j")
        sep = "" if num in ("", "-") else (r"\," if latex else " ")
        return f"{num}{sep}{pre}{body}"

    def equation_str(self, f, latex=False):
        fam = self.families[f] if isinstance(f, int) else f
        nm = _moment_name(next(iter(fam.operator.terms)), vars_shown=fam.slots > 0)
        terms = [self.term_str(fam, t, latex) for t in self.rhs[fam.index]]
        rhs = (" + ".join(terms) if terms else "0").replace("+ -", "- ")
        if latex:
            return r"\frac{d}{dt}\langle " + nm + r"\rangle = " + rhs
        return f"d/dt ⟨{nm}⟩ = " + rhs

    def __str__(self):
        head = (f"ClosedSystem: order {self.order}, {len(self.families)} families"
                + (f" (clusters '{self.clusters.name}')" if self.clusters is not None else ""))
        return head + "\n" + "\n".join(self.equation_str(f) for f in self.families)

    def latex(self):
        """All equations as a LaTeX ``align`` body."""
        return " \\\\\n".join(self.equation_str(f, latex=True).replace(" = ", " &= ", 1)
                              for f in self.families)

    def _repr_latex_(self):
        return r"$\begin{aligned}" + self.latex() + r"\end{aligned}$"


class _Vanishes(KeyError):
    """The moment is removed by the U(1) filter (its value is zero)."""

    def __init__(self, msg, sets):
        super().__init__(msg)
        self.sets = list(sets)          # the index set of each slot, in slot order
        self.slots = len(self.sets)


class _NotClosed(KeyError):
    """The moment is not a family of the closed system."""


def _slotify(key, clusters=None):
    """Rename indexed sites of a user monomial to slot sites ``i0, i1, …``."""
    out, k = [], 0
    for s, f in key:
        if _is_cluster(s):
            s = s.clusters._site(f"{s.clusters.name}#{k}", f"i{k}")
            k += 1
        out.append((s, f))
    return tuple(sorted(out, key=lambda x: x[0]._key()))
