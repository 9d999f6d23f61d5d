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
"""
from __future__ import annotations

import itertools
import math
import numbers

from .algebra import Coeff, Mode, Operator
from .clusters import ClusterAtom, rename_coeff, substitute_atoms

__all__ = ["close", "ClosedSystem", "Family", "cumulant_expansion"]


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
    """
    n = moment_order(key)
    if n <= order:
        return {(key,): 1.0}
    ck = (key, order)
    if ck in _EXPANSION_CACHE:
        return _EXPANSION_CACHE[ck]
    elems = _elements(key)
    out = {}
    for part in set_partitions(range(n)):
        nb = len(part)
        if nb < 2:
            continue
        # ⟨X⟩ = −Σ_{|π|≥2} (−1)^{|π|−1} (|π|−1)! Π ⟨B⟩
        c = -((-1) ** (nb - 1)) * math.factorial(nb - 1)
        prods = {(): float(c)}
        for block in part:
            sub = cumulant_expansion(_block_key([elems[i] for i in block]), order)
            new = {}
            for p, v in prods.items():
                for q, w in sub.items():
                    k2 = tuple(sorted(p + q, key=_mono_sort))
                    new[k2] = new.get(k2, 0.0) + v * w
            prods = new
        for p, v in prods.items():
            out[p] = out.get(p, 0.0) + v
    out = {p: v for p, v in out.items() if v != 0}
    _EXPANSION_CACHE[ck] = out
    return out


def _mono_sort(key):
    return [(s._key(), f) for s, f in key]


# --------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------

def _is_cluster(s):
    return isinstance(s, ClusterAtom)


def _split(key):
    """(fixed part, [(transition, var), ...] of cluster atoms)."""
    fixed = tuple((s, f) for s, f in key if not _is_cluster(s))
    cl = [(f, s.var) for s, f in key if _is_cluster(s)]
    return fixed, cl


def _dag_fixed(fixed):
    return tuple((s, (f[1], f[0])) for s, f in fixed)


def _pattern_sort(pattern):
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
        self.hermitian_swap = (self.slots == 2 and _dag_fixed(fixed) == fixed
                               and trans[1] == (trans[0][1], trans[0][0])
                               and trans[0] != trans[1])

    def __repr__(self):
        return f"Family({self.name!r})"


def _moment_name(key, vars_shown=True, varnames=None):
    parts = []
    for s, f in key:
        if s.kind == "mode":
            m, n = f
            parts += [f"{s.name}†" + (f"^{m}" if m > 1 else "")] if m else []
            parts += [s.name + (f"^{n}" if n > 1 else "")] if n else []
        elif _is_cluster(s):
            v = varnames.get(s.var, s.var) if varnames else s.var
            parts.append(f"{s.clusters.name}{f[0]}{f[1]}" + (f"[{v}]" if vars_shown else ""))
        else:
            parts.append(f"σ{f[0]}{f[1]}" if s.name == "" else f"σ[{s.name}]{f[0]}{f[1]}")
    return " ".join(parts) if parts else "1"


class _Registry:
    """Canonical families, conjugate folding and the U(1) filter."""

    def __init__(self, clusters, charges, fold):
        self.clusters = clusters
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
            cld = sorted(((j, i), v) for (i, j), v in cl)
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
        fam = _make_family(len(self.families), pattern, self.clusters)
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


def _make_family(index, pattern, clusters):
    """:class:`Family` of ``pattern`` with slot atoms ``i0, i1, …`` as representative."""
    fixed, trans = pattern
    slots = [ClusterAtom(f"{clusters.name}#{k}", clusters.levels, clusters, var=f"i{k}")
             for k in range(len(trans))]
    key = tuple(sorted(list(fixed) + list(zip(slots, trans)), key=lambda x: x[0]._key()))
    fam = Family(index, pattern, Operator({key: 1}), clusters)
    fam.slot_atoms = slots
    return fam


# --------------------------------------------------------------------------
# right-hand side of a family with slots and fresh atoms
# --------------------------------------------------------------------------

def _assignments(placeholders, slots, clusters):
    """Map placeholders to slot atoms or to fresh atoms (all coincidences)."""
    n = len(placeholders)
    ns = len(slots)
    for choice in itertools.product(range(ns + 1), repeat=n):
        fresh = [i for i, c in enumerate(choice) if c == ns]
        for part in set_partitions(fresh):
            atommap, varmap = {}, {}
            for i, c in enumerate(choice):
                if c < ns:
                    atommap[placeholders[i]] = slots[c]
                    varmap[placeholders[i].var] = slots[c].var
            for t, block in enumerate(part):
                f = ClusterAtom(f"{clusters.name}~{t}", clusters.levels, clusters, var=f"c{t}")
                for i in block:
                    atommap[placeholders[i]] = f
                    varmap[placeholders[i].var] = f.var
            yield atommap, varmap, len(part)


def _instantiate(term, atommap, varmap):
    c, factors, _ = term
    out = None
    for f in factors:
        g = substitute_atoms(f, atommap, varmap)
        out = g if out is None else out * g
    return out * rename_coeff(c, varmap)


def _add(acc, nf, op):
    if op.is_zero():
        return
    acc[nf] = acc[nf] + op if nf in acc else op


def family_rhs(model, op, slots):
    """Exact ``d⟨op⟩/dt`` with sums split into slot and fresh atoms.

    Returns ``{n_fresh: Operator}``; fresh atoms are named ``c0, c1, …``.
    """
    acc = {}
    support = set(op.subsystems)
    for term in model.H_indexed.terms:
        ph = list(term[2])
        if not ph and len(term[1]) == 1:
            # concrete term: only monomials sharing a subsystem with op fail to commute
            h = term[1][0]
            h = Operator({k: v for k, v in h.terms.items() if any(s in support for s, _ in k)})
            if not h.is_zero():
                h = h * term[0]
                _add(acc, 0, (h * op - op * h) * 1j)
            continue
        cl = ph[0].clusters if ph else None
        for atommap, varmap, nf in (_assignments(ph, slots, cl) if ph else [({}, {}, 0)]):
            h = _instantiate(term, atommap, varmap)
            _add(acc, nf, (h * op - op * h) * 1j)
    for rate, kind, c in model.jump_list:
        if kind == "each":
            ph = c.clusters._placeholder()
            cop = substitute_atoms(c.op, {c.clusters.atom: ph}, {"@": ph.var})
            pairs = [((Coeff(1), [cop], (ph,)), None)]
            rate_t = rename_coeff(rate, {"@": ph.var})
        else:
            cd = c._fresh_copy().dag()
            pairs = [(tc, td) for tc in c.terms for td in cd.terms]
            rate_t = rate
        for tc, td in pairs:
            ph = list(tc[2]) + (list(td[2]) if td is not None else [])
            if not ph and not any(s in support for f in tc[1] + td[1] for s in f.subsystems):
                continue  # a concrete jump acting elsewhere commutes with op: no contribution
            cl = ph[0].clusters if ph else None
            for atommap, varmap, nf in (_assignments(ph, slots, cl) if ph else [({}, {}, 0)]):
                C = _instantiate(tc, atommap, varmap)
                CD = C.dag() if td is None else _instantiate(td, atommap, varmap)
                cdc = CD * C
                D = CD * op * C - (cdc * op + op * cdc) * 0.5
                _add(acc, nf, D * rename_coeff(rate_t, varmap))
    return acc


# --------------------------------------------------------------------------
# the closed system
# --------------------------------------------------------------------------

def _weight_choices(fresh_vars, slot_vars):
    """Expand Π_t (N[c_t] − Σ_u δ(c_t, u)) into (Coeff factor, varmap) pairs."""
    out = []

    def rec(t, vm, coeff):
        if t == len(fresh_vars):
            out.append((coeff, dict(vm)))
            return
        c = fresh_vars[t]
        rec(t + 1, vm, coeff * Coeff({((f"N[{c}]", 1),): 1}))
        targets = list(slot_vars) + list(fresh_vars[:t])
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


class Term:
    """One product term ``number · Π params · Π moments`` of a right-hand side.

    Attributes
    ----------
    number : complex
    params : tuple of (name, index or None, power)
    factors : tuple of (family index, index variables, conjugate)
    """

    __slots__ = ("number", "params", "factors")

    def __init__(self, number, params, factors):
        self.number = number
        self.params = params
        self.factors = factors

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


class ClosedSystem:
    """Closed cumulant equations of a model.

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
        sc, ix = set(), set()
        for terms in rhs:
            for t in terms:
                for name, v, _ in t.params:
                    (ix if v is not None else sc).add(name)
        self.scalar_parameters = sorted(sc)
        self.indexed_parameters = sorted(ix)

    def __len__(self):
        return len(self.families)

    def solver(self, params=None, clusters=None, backend="auto"):
        """:class:`~.solve.CumulantSolver` with parameter values bound."""
        from .solve import CumulantSolver

        return CumulantSolver(self, params, clusters, backend)

    def n_equations(self, M=1):
        """Number of complex unknowns for ``M`` clusters."""
        return sum(M ** f.slots for f in self.families)

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
                            sum(1 for s, _ in key if _is_cluster(s)))
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

    def __init__(self, msg, slots):
        super().__init__(msg)
        self.slots = slots


class _NotClosed(KeyError):
    """The moment is not a family of the closed system."""


def _slotify(key, clusters):
    """Rename cluster atoms of a user monomial to slot atoms ``i0, i1, …``."""
    out, k = [], 0
    for s, f in key:
        if _is_cluster(s):
            s = ClusterAtom(f"{s.clusters.name}#{k}", s.levels, s.clusters, var=f"i{k}")
            k += 1
        out.append((s, f))
    return tuple(sorted(out, key=lambda x: x[0]._key()))


def _check_charges(model, charges):
    """H must be neutral and every jump of one charge (a product's charge is the sum)."""
    def term_charges(factors):
        qs = {0}
        for f in factors:
            qs = {q + _charge(k, charges) for q in qs for k in f.terms}
        return qs

    for _, factors, _ in model.H_indexed.terms:
        if term_charges(factors) != {0}:
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
        if isinstance(sub, Mode):
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
    # the memo is keyed by atoms, whose identity includes id(Clusters): start clean so that
    # a recycled id can never hit entries of a garbage-collected model (and memory stays bounded)
    _EXPANSION_CACHE.clear()
    charges = _normalise_charges(phase_charges)
    if charges is not None:
        _check_charges(model, charges)
    reg = _Registry(clusters, charges, fold)
    if operators is None:
        operators = []
        for s in model.subsystems:
            if s.kind == "mode":
                operators += [s.a, s.adag]
            else:
                operators += [s.s(i, j) for i in range(1, s.levels + 1)
                              for j in range(1, s.levels + 1) if (i, j) != (1, 1)]
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
    done = 0
    while done < len(reg.families):
        if len(reg.families) > max_families:
            raise ValueError(f"the closed system exceeds max_families={max_families}")
        fam = reg.families[done]
        rhs.append(_family_terms(model, fam, order, reg.lookup))
        done += 1
    return ClosedSystem(model, order, reg, rhs)


def _family_terms(model, fam, order, lookup, expand=None):
    """Closed right-hand side of ``fam`` as a list of :class:`Term`.

    ``expand(key)`` gives ``{(block, ...): coefficient}`` for a monomial of the
    exact right-hand side (default: the order-``k`` cumulant expansion);
    ``lookup(block)`` gives ``(family, index variables, conjugate)`` or ``None``
    for a vanishing moment.  The quantum-regression system passes its own
    ``expand``/``lookup`` (a frozen ``B(0)`` element), everything else is shared.
    """
    if expand is None:
        def expand(key):
            return cumulant_expansion(key, order) if key else {(): 1.0}
    slots = fam.slot_atoms
    slot_vars = [s.var for s in slots]
    acc = {}
    for nf, opr in family_rhs(model, fam.operator, slots).items():
        fresh_vars = [f"c{t}" for t in range(nf)]
        weights = _weight_choices(fresh_vars, slot_vars) if nf else [(Coeff(1), {})]
        for key, coeff in opr.terms.items():
            for blocks, cnum in expand(key).items():
                factors = []
                for b in blocks:
                    r = lookup(b)
                    if r is None:
                        break
                    factors.append(r)
                else:
                    for wc, vm in weights:
                        total = rename_coeff(coeff, vm) * wc * cnum
                        fs = tuple(sorted((f.index, tuple(vm.get(v, v) for v in vs), cj)
                                          for f, vs, cj in factors))
                        for mono, num in total.terms.items():
                            params = tuple(_parse_param(n) + (p,) for n, p in mono)
                            k = (params, fs)
                            acc[k] = acc.get(k, 0) + num
    terms = [Term(v, k[0], k[1]) for k, v in acc.items() if abs(v) > 0]
    return terms
