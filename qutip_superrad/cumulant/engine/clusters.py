"""Identical atoms grouped in clusters, written once with a template atom.

A :class:`Clusters` object stands for ``N = Σ_m N_m`` atoms of one kind in
``M`` clusters; atoms of one cluster are interchangeable (same parameters).
``M``, the sizes ``N_m`` and the per-cluster parameter values are bound only
at solve time, so the equations are derived *once per family*:

>>> from qutip_superrad.cumulant.engine import Mode, Clusters, parameters
>>> a = Mode("a"); atoms = Clusters("s", levels=2); t = atoms.atom
>>> g, Delta = atoms.parameters("g Delta")          # one value per cluster
>>> H = atoms.sum(-Delta * t.sp * t.sm + g * (a.a * t.sp + a.adag * t.sm))

``atoms.sum(op)`` is ``Σ_i op(i)`` over all atoms (an
:class:`IndexedOperator`; products of sums such as ``atoms.sum(t.sm) ** 2``
keep their operator order, so that coinciding indices multiply correctly),
and ``atoms.each(op)`` in a jump list means one jump ``op(i)`` per atom
(local decay, pumping, dephasing) instead of the collective ``D[Σ_i op(i)]``.

Internally each ``sum`` gets its own *placeholder* atom; the closure
(:mod:`.closure`) replaces placeholders by the atoms of a moment ("slots") or
by new atoms ("fresh", summed over clusters with weight ``N_c`` minus the
atoms already used), see ``docs/cumulant_engine.md``.
"""
from __future__ import annotations

import itertools
import numbers

from .algebra import Atom, Coeff, Mode, Operator, identity

__all__ = ["Clusters", "Modes", "IndexedOperator", "Each"]

_counter = itertools.count()


class ClusterAtom(Atom):
    """An atom of a :class:`Clusters` object: template, placeholder, slot or fresh.

    ``var`` is the name of its cluster index (``None`` for the template); ``cluster``
    restricts a placeholder's sum to one cluster (``None``: all clusters).
    """

    _kind_order = 2  # after modes and concrete atoms

    def __init__(self, name, levels, clusters, var=None, cluster=None):
        super().__init__(name, levels)
        self.clusters = clusters
        self.var = var
        self.cluster = cluster

    @classmethod
    def _intern_key(cls, name, levels, clusters, var=None, cluster=None):
        # atoms of different Clusters objects are never the same object (caches are global;
        # an interned atom holds its Clusters, so the id cannot be reused while it lives)
        return (cls._kind_order, str(name), levels, id(clusters))

    def __reduce__(self):
        return (ClusterAtom, (self.name, self.levels, self.clusters, self.var, self.cluster))

    def _key(self):
        k = self.__dict__.get("_k")
        if k is None:
            k = self._k = (self._kind_order, (), self.name, self.levels, id(self.clusters))
        return k


class ClusterMode(Mode):
    """A mode of a :class:`Modes` family: template, placeholder, slot or fresh.

    The bosonic counterpart of :class:`ClusterAtom`: one site of an indexed family
    whose every index holds exactly one mode (count 1).
    """

    _kind_order = 2  # with the cluster atoms, after modes and concrete atoms

    def __init__(self, name, clusters, var=None, cluster=None):
        super().__init__(name)
        self.clusters = clusters
        self.var = var
        self.cluster = cluster

    @classmethod
    def _intern_key(cls, name, clusters, var=None, cluster=None):
        # as for ClusterAtom: modes of different Modes families are never the same object
        return (cls._kind_order, "mode", str(name), id(clusters))

    def __reduce__(self):
        return (ClusterMode, (self.name, self.clusters, self.var, self.cluster))

    def _key(self):
        k = self.__dict__.get("_k")
        if k is None:
            k = self._k = (self._kind_order, (), self.name, 0, id(self.clusters))
        return k


def is_site(s):
    """True for a site of an indexed family (an atom of :class:`Clusters`, a mode of
    :class:`Modes`): template, placeholder, slot or fresh."""
    return isinstance(s, (ClusterAtom, ClusterMode))


def rename_coeff(c, varmap):
    """Rename the index of indexed parameters ``p[x] -> p[varmap[x]]``."""
    if not varmap:
        return c
    out = {}
    for mono, v in c.terms.items():
        new = {}
        for name, p in mono:
            if name.endswith("]") and "[" in name:
                base, _, var = name[:-1].partition("[")
                name = f"{base}[{varmap.get(var, var)}]"
            new[name] = new.get(name, 0) + p
        key = tuple(sorted(new.items()))
        out[key] = out.get(key, 0) + v
    return Coeff(out)


def substitute_atoms(op, atommap, varmap):
    """Replace atoms in an :class:`Operator` (no two may map to one atom)."""
    out = {}
    for k, v in op.terms.items():
        nk = tuple(sorted(((atommap.get(s, s), f) for s, f in k), key=lambda x: x[0]._key()))
        out[nk] = rename_coeff(v, varmap)
    return Operator(out)


class IndexedOperator:
    """``Σ_terms coeff · Π factors`` with sums over the atoms of a :class:`Clusters`.

    Each term is ``(Coeff, [Operator, ...], (placeholder, ...))``: the product
    of the factors in order, summed independently over every placeholder
    (coinciding indices included).  Supports ``+``, ``-``, ``*`` with numbers,
    :class:`~.algebra.Coeff`, :class:`~.algebra.Operator` and other indexed
    operators, ``**`` and :meth:`dag`.
    """

    __array_priority__ = 101

    def __init__(self, terms):
        self.terms = list(terms)

    @staticmethod
    def _coerce(x):
        if isinstance(x, IndexedOperator):
            return x
        if isinstance(x, Operator):
            return IndexedOperator([(Coeff(1), [x], ())])
        if isinstance(x, (numbers.Number, Coeff)):
            return IndexedOperator([(Coeff(x), [identity()], ())])
        return NotImplemented

    def _fresh_copy(self):
        """Same operator with new placeholders (for products of sums)."""
        out = []
        for c, factors, ph in self.terms:
            if not ph:
                out.append((c, factors, ph))
                continue
            new = {p: p.clusters._placeholder(p.cluster) for p in ph}
            vm = {p.var: q.var for p, q in new.items()}
            out.append((rename_coeff(c, vm), [substitute_atoms(f, new, vm) for f in factors],
                        tuple(new[p] for p in ph)))
        return IndexedOperator(out)

    def __add__(self, other):
        other = IndexedOperator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return IndexedOperator(self.terms + other.terms)

    __radd__ = __add__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        other = IndexedOperator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):
        other = IndexedOperator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return other + (-self)

    def __mul__(self, other):
        if isinstance(other, (numbers.Number, Coeff)):
            return IndexedOperator([(c * Coeff(other), f, p) for c, f, p in self.terms])
        other = IndexedOperator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        other = other._fresh_copy()
        return IndexedOperator([(c1 * c2, f1 + f2, p1 + p2)
                                for c1, f1, p1 in self.terms for c2, f2, p2 in other.terms])

    def __rmul__(self, other):
        if isinstance(other, (numbers.Number, Coeff)):
            return self * other
        other = IndexedOperator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return other * self

    def __pow__(self, n):
        if int(n) != n or n < 0:
            raise ValueError("only non-negative integer powers are supported")
        out = IndexedOperator._coerce(1)
        for _ in range(int(n)):
            out = out * self
        return out

    def dag(self):
        """Hermitian conjugate (reverses the factor order)."""
        return IndexedOperator([(c.conj(), [f.dag() for f in reversed(fs)], p)
                                for c, fs, p in self.terms])

    @property
    def clusters(self):
        """The :class:`Clusters` the sums run over (``None`` if none)."""
        for _, _, ph in self.terms:
            for p in ph:
                return p.clusters
        return None

    def __repr__(self):
        parts = []
        for c, fs, ph in self.terms:
            s = " ".join(f"({f})" for f in fs)
            idx = ",".join(p.var for p in ph)
            parts.append((f"Σ_{{{idx}}} " if ph else "") + f"{c} {s}")
        return "IndexedOperator(" + " + ".join(parts) + ")"


class Each:
    """Jump operator applied to every site separately: ``Σ_i rate D[op(i)]``."""

    def __init__(self, clusters, op):
        if not isinstance(op, Operator):
            raise TypeError("each() takes an Operator written with the template "
                            f"{clusters._what}")
        self.clusters = clusters
        self.op = op


class _Family:
    """What :class:`Clusters` (atoms) and :class:`Modes` (bosonic modes) share: an indexed
    family of sites written once with a template site, per-index parameters, sums and
    per-site jumps.  The index runs over the family's members (clusters of atoms, or
    modes); its size is bound only at solve time."""

    _what = "site"

    def _init_name(self, name):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name must be an identifier, got {name!r}")
        self.name = name
        # the index of the template: a per-index parameter is "x[@name]" until bound (one
        # template index per family, so that two families' parameters never share it)
        self.tvar = "@" + name

    @property
    def template(self):
        """The template site (:attr:`Clusters.atom`, :attr:`Modes.mode`)."""
        return self._template

    def _placeholder(self, cluster=None):
        k = next(_counter)
        return self._site(f"{self.name}@{k}", f"@{k}", cluster)

    def parameter(self, name: str) -> Coeff:
        """Per-index real parameter ``name`` (a :class:`Coeff` indexed by the site).

        One value per cluster (:class:`Clusters`) or per mode (:class:`Modes`), given at
        solve time.
        """
        if not isinstance(name, str) or not name.isidentifier() or name == "N":
            raise ValueError(f"parameter name must be an identifier other than 'N', got {name!r}")
        return Coeff({((f"{name}[{self.tvar}]", 1),): 1})

    def parameters(self, names: str | list[str]) -> tuple[Coeff, ...]:
        """Several per-index parameters from a space separated string."""
        if isinstance(names, str):
            names = names.split()
        return tuple(self.parameter(n) for n in names)

    def _bind(self, op, cluster=None):
        if not isinstance(op, Operator):
            raise TypeError(f"expected an Operator written with {self.name}.{self._what}, "
                            f"got {type(op).__name__}")
        ph = self._placeholder(cluster)
        vm = {self.tvar: ph.var}
        out = substitute_atoms(op, {self._template: ph}, vm)
        return out, ph, vm

    def sum(self, op: Operator, cluster: int | None = None) -> "IndexedOperator":
        """``Σ_i op(i)`` over all sites (``op`` written with the template site).

        Parameters
        ----------
        op : Operator
            A single-site operator written with the template (:attr:`Clusters.atom`,
            :attr:`Modes.mode`); it may also act on modes and explicit atoms.
        cluster : int, optional
            Sum over the atoms of this cluster (or this one mode) only (0-based), e.g.
            the collective operator of a pair of atoms set apart as their own cluster.
            Read by the exact methods (full, dicke, manifold, trajectories) anywhere and by
            the cumulant methods in observables (not in ``H`` or the jumps).

        Returns
        -------
        IndexedOperator
        """
        if cluster is not None:
            if isinstance(cluster, bool) or not isinstance(cluster, numbers.Integral):
                raise TypeError(f"cluster must be an int (0-based cluster index), got {cluster!r}")
            if cluster < 0:
                raise ValueError(f"cluster must be >= 0 (0-based cluster index), got {cluster}")
            cluster = int(cluster)
        out, ph, _ = self._bind(op, cluster)
        if self._template in out.subsystems:  # pragma: no cover - defensive
            raise AssertionError
        return IndexedOperator([(Coeff(1), [out], (ph,))])

    def each(self, op: Operator) -> Each:
        """Per-site jump ``op(i)`` for every site (use in the jump list).

        Parameters
        ----------
        op : Operator
            A single-site operator written with the template (``atoms.atom.sm``,
            ``filters.mode.a``); the rate may be a per-index parameter.

        Returns
        -------
        Each
        """
        if not isinstance(op, Operator):
            raise TypeError(f"expected an Operator written with {self.name}.{self._what}, "
                            f"got {type(op).__name__}")
        return Each(self, op)


class Clusters(_Family):
    """``N = Σ_m N_m`` identical atoms in ``M`` clusters.

    Parameters
    ----------
    name : str, default "s"
        Printed name of the atoms' transition operators.
    levels : int, default 2
        Number of levels of each atom (level 1 = ground).

    Attributes
    ----------
    atom : Atom
        Template atom: write single-atom operators with it (``atom.sp``,
        ``atom.s(3, 1)``), then wrap them in :meth:`sum` or :meth:`each`.

    Notes
    -----
    The cluster sizes ``N_m`` are the indexed parameter ``N``; per-cluster
    parameters come from :meth:`parameter`.  Values are given at solve time
    (``clusters={"N": [...], "g": [...]}``).  A model may hold several indexed
    families: several :class:`Clusters` (species of atoms, e.g. with different
    levels, couplings or detunings) and :class:`Modes`; the cumulant engine then
    indexes every family by its own index set, and the values are given per family
    (``clusters={"A": {"N": [...], "g": [...]}, "B": {"N": [...]}}``).
    """

    _what = "atom"

    def __init__(self, name: str = "s", levels: int = 2):
        self._init_name(name)
        self.levels = int(levels)
        self.atom = self._template = ClusterAtom(f"{name}@", self.levels, self, var=self.tvar)

    def _site(self, name, var, cluster=None):
        return ClusterAtom(name, self.levels, self, var=var, cluster=cluster)

    def _explicit(self, name):
        return Atom(name, self.levels)

    def __repr__(self):
        return f"Clusters({self.name!r}, levels={self.levels})"


class Modes(_Family):
    """``M`` bosonic modes written once: an indexed family with per-mode parameters.

    The bosonic counterpart of :class:`Clusters`: every index holds one mode (count 1),
    so ``modes.sum(op)`` is ``Σ_k op(b_k)`` and ``modes.each(op)`` is one jump per mode.
    The cumulant engine keeps the loops over ``k`` (families are arrays over the mode
    index, the number of equations it derives does not depend on ``M``); the exact
    methods unroll the family into ``M`` explicit modes ``b1 … bM``.

    Parameters
    ----------
    name : str, default "b"
        Printed name of the modes' ladder operators.

    Attributes
    ----------
    mode : Mode
        Template mode: write single-mode operators with it (``mode.a``, ``mode.adag``,
        ``mode.num()``), then wrap them in :meth:`sum` or :meth:`each`.

    Raises
    ------
    ValueError
        If ``name`` is not an identifier.

    Examples
    --------
    >>> from qutip_superrad.cumulant.engine import Modes
    >>> filters = Modes("b"); b = filters.mode
    >>> Delta = filters.parameter("Delta")                # one value per mode
    >>> H = filters.sum(Delta * b.num())
    >>> filters
    Modes('b')
    """

    _what = "mode"

    def __init__(self, name: str = "b"):
        self._init_name(name)
        self.mode = self._template = ClusterMode(f"{name}@", self, var=self.tvar)

    def _site(self, name, var, cluster=None):
        return ClusterMode(name, self, var=var, cluster=cluster)

    def _explicit(self, name):
        return Mode(name)

    def __repr__(self):
        return f"Modes({self.name!r})"
