"""Symbolic operator algebra for the general cumulant engine.

Building blocks
---------------
* :class:`Coeff` -- a polynomial in named **real** parameters with complex
  numeric coefficients (``g``, ``kappa``, ...).  Parameters stay symbols until
  numbers are bound with :meth:`Coeff.evaluate`.  No sympy.
* :class:`Mode` -- a bosonic mode with ladder operators ``a`` and ``a†``.
* :class:`Atom` -- an ``N``-level atom with transition operators
  ``σ_ij = |i⟩⟨j|``, levels numbered ``1 .. N`` (level 1 is the ground
  state).  Two-level shortcuts ``σ⁻ = σ_12``, ``σ⁺ = σ_21``,
  ``σ_z = σ_22 − σ_11``.
* :class:`Operator` -- a finite sum ``Σ c_k M_k`` of canonical monomials with
  :class:`Coeff` coefficients, closed under ``+``, ``-``, ``*`` (operator and
  scalar), :meth:`Operator.dag` and :func:`commutator`.

Canonical form of a monomial
----------------------------
Operators on different subsystems commute, so a monomial is stored as one
factor per subsystem, subsystems sorted (modes first, then atoms; names in
natural order, ``"2" < "10"``):

* mode factor ``a†^m a^n`` (normal order), ``m + n > 0``;
* atom factor ``σ_ij`` with ``(i, j) != (1, 1)``: products on one atom are
  reduced with ``σ_ij σ_kl = δ_jk σ_il`` and the ground projector is
  eliminated with the completeness relation
  ``σ_11 = 1 − Σ_{r≥2} σ_rr``.

Hence every operator has a *unique* representation, and two operators are
equal iff their term dictionaries are equal (up to exact cancellation of
floating point coefficients).

Conversion to QuTiP
-------------------
:func:`to_qobj` maps atom level ``i`` (1 = ground, ``N`` = highest) to
``qutip.basis(N, N - i)``: the highest level is ``basis(N, 0)``.  For two-level
atoms this is QuTiP's convention (``basis(2, 0)`` excited), so ``σ⁻`` becomes
``qutip.sigmam()`` and ``σ_z`` becomes ``qutip.sigmaz()``.  Modes become
``qutip.destroy(cutoff)``.
"""
from __future__ import annotations

import itertools
import math
import numbers
import re
import weakref

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Coeff", "parameter", "parameters", "Mode", "Atom", "Operator",
    "identity", "commutator", "anticommutator", "collective", "jminus",
    "jplus", "jz", "to_qobj",
]


# --------------------------------------------------------------------------
# Coefficients: polynomials in named real parameters
# --------------------------------------------------------------------------

_SCALARS = (int, float, complex)


def _mono_mul(m1, m2):
    """Product of two parameter monomials (sorted tuples of (name, power))."""
    if not m1:
        return m2
    if not m2:
        return m1
    d = dict(m1)
    for name, p in m2:
        d[name] = d.get(name, 0) + p
    return tuple(sorted(d.items()))


_GREEK = set("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu "
             "xi pi rho sigma tau upsilon phi chi psi omega Gamma Delta Theta "
             "Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split())


def _latex_name(name):
    """LaTeX for a parameter name: Greek names get a backslash, ``g_1`` -> ``g_{1}``."""
    base, _, sub = name.partition("_")
    base = "\\" + base if base in _GREEK else base
    return base + (f"_{{{sub}}}" if sub else "")


class Coeff:
    """Polynomial in named real parameters with complex coefficients.

    Parameters
    ----------
    terms : dict or number, optional
        Mapping ``monomial -> complex`` where a monomial is a sorted tuple of
        ``(name, power)`` pairs (``()`` is the constant term), or a plain
        number.

    Notes
    -----
    Named parameters are assumed **real** (rates, detunings, couplings), so
    :meth:`conj` conjugates only the numeric coefficients.  Write a complex
    coupling as ``gr + 1j * gi`` with two real parameters.

    Examples
    --------
    >>> g, k = parameters("g kappa")
    >>> c = 2 * g * k + 0.5j
    >>> print(c)
    (0.5j + 2*g*kappa)
    >>> c.evaluate({"g": 1, "kappa": 3})
    (6+0.5j)
    """

    __slots__ = ("terms",)

    def __init__(self, terms=None):
        if terms is None:
            self.terms = {}
        elif isinstance(terms, Coeff):
            self.terms = dict(terms.terms)
        elif isinstance(terms, numbers.Number):
            self.terms = {(): complex(terms)} if terms != 0 else {}
        else:
            self.terms = {k: complex(v) for k, v in terms.items() if v != 0}

    @classmethod
    def _new(cls, terms):
        """Coeff around ``terms`` as is: complex, non-zero values (internal, no copy)."""
        c = object.__new__(cls)
        c.terms = terms
        return c

    @staticmethod
    def _coerce(x):
        if type(x) is Coeff or isinstance(x, Coeff):
            return x
        if isinstance(x, numbers.Number):
            return Coeff(x)
        return NotImplemented

    # arithmetic ---------------------------------------------------------
    def __add__(self, other):
        other = Coeff._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        out = dict(self.terms)
        for k, v in other.terms.items():
            s = out.get(k, 0) + v
            if s == 0:
                out.pop(k, None)
            else:
                out[k] = s
        return Coeff._new(out)

    __radd__ = __add__

    def __neg__(self):
        return Coeff._new({k: -v for k, v in self.terms.items()})

    def __sub__(self, other):
        other = Coeff._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):
        other = Coeff._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return other + (-self)

    def __mul__(self, other):
        t = type(other)
        if t is not Coeff:
            if t in _SCALARS:
                other = Coeff._new({(): complex(other)} if other != 0 else {})
            elif isinstance(other, Operator):
                return NotImplemented
            else:
                other = Coeff._coerce(other)
                if other is NotImplemented:
                    return NotImplemented
        a, b = self.terms, other.terms
        if len(b) == 1 and () in b:
            # times a number (most products in a closure): the keys stay distinct, so
            # this is the loop below without the monomial products and lookups
            c = b[()]
            out = {k: 0 + v * c for k, v in a.items()}
        elif len(a) == 1 and () in a:
            c = a[()]
            out = {k: 0 + c * v for k, v in b.items()}
        else:
            out = {}
            for k1, v1 in a.items():
                for k2, v2 in b.items():
                    k = _mono_mul(k1, k2)
                    out[k] = out.get(k, 0) + v1 * v2
        return Coeff._new({k: v for k, v in out.items() if v != 0})

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Number):
            return NotImplemented
        return self * (1 / other)

    def __eq__(self, other):
        other = Coeff._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return self.terms == other.terms

    def __hash__(self):
        return hash(frozenset(self.terms.items()))

    # queries ------------------------------------------------------------
    def is_zero(self):
        """True if the polynomial is identically zero."""
        return not self.terms

    def is_number(self):
        """True if no named parameter occurs."""
        return all(k == () for k in self.terms)

    @property
    def free_parameters(self):
        """Set of parameter names that occur."""
        return {name for k in self.terms for name, _ in k}

    def conj(self):
        """Complex conjugate (parameters are real)."""
        return Coeff._new({k: v.conjugate() for k, v in self.terms.items()})

    def evaluate(self, params=None):
        """Numeric value with parameters bound from ``params`` (a mapping).

        Raises
        ------
        KeyError
            If a parameter occurring in the polynomial is not bound.
        """
        params = params or {}
        total = 0j
        for k, v in self.terms.items():
            t = v
            for name, p in k:
                if name not in params:
                    raise KeyError(f"parameter {name!r} is not bound")
                t = t * params[name] ** p
            total += t
        return complex(total)

    def subs(self, params):
        """Bind some parameters, keep the others symbolic."""
        out = Coeff()
        for k, v in self.terms.items():
            c, rest = v, []
            for name, p in k:
                if name in params:
                    c = c * params[name] ** p
                else:
                    rest.append((name, p))
            out = out + Coeff({tuple(rest): c})
        return out

    # printing -----------------------------------------------------------
    @staticmethod
    def _num_str(v):
        if v.imag == 0:
            r = v.real
            return repr(int(r)) if r == int(r) and abs(r) < 1e15 else repr(r)
        if v.real == 0:
            i = v.imag
            return (repr(int(i)) if i == int(i) and abs(i) < 1e15 else repr(i)) + "j"
        return repr(v)

    def _term_strs(self, latex=False):
        out = []
        for k in sorted(self.terms, key=lambda m: (len(m), m)):
            v = self.terms[k]
            if latex:
                mono = " ".join(f"{_latex_name(n)}^{{{p}}}" if p > 1 else _latex_name(n)
                                for n, p in k)
            else:
                mono = "*".join(f"{n}**{p}" if p > 1 else n for n, p in k)
            if not k:
                out.append(self._num_str(v))
            elif v == 1:
                out.append(mono)
            elif v == -1:
                out.append("-" + mono)
            elif latex and v in (1j, -1j):
                out.append(("i " if v == 1j else "-i ") + mono)
            else:
                out.append(self._num_str(v) + (" " if latex else "*") + mono)
        return out

    def __str__(self):
        t = self._term_strs()
        if not t:
            return "0"
        s = " + ".join(t).replace("+ -", "- ")
        return s if len(t) == 1 else "(" + s + ")"

    def __repr__(self):
        return f"Coeff({str(self)})"

    def _latex(self):
        t = self._term_strs(latex=True)
        if not t:
            return "0"
        s = " + ".join(t).replace("+ -", "- ").replace("j", "i")
        return s if len(t) == 1 else r"\left(" + s + r"\right)"


def parameter(name):
    """Return the real symbolic parameter ``name`` as a :class:`Coeff`."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"parameter name must be an identifier, got {name!r}")
    return Coeff({((name, 1),): 1})


def parameters(names):
    """Several parameters from a space separated string or a sequence.

    >>> g, kappa = parameters("g kappa")
    """
    if isinstance(names, str):
        names = names.split()
    return tuple(parameter(n) for n in names)


# --------------------------------------------------------------------------
# Subsystems
# --------------------------------------------------------------------------

def _natural(name):
    return tuple((0, int(p), "") if p.isdecimal() else (1, 0, p)
                 for p in re.split(r"(\d+)", name) if p)


# one object per subsystem key (see _Subsystem.__new__)
_INTERNED = weakref.WeakValueDictionary()


class _Subsystem:
    """Base of modes and atoms: one object per key, compared and hashed by identity.

    Equal subsystems (same kind, name, levels) are the *same* object: ``__new__``
    returns the existing instance.  Monomials are tuples of ``(subsystem, factor)``
    pairs used as dictionary keys everywhere in the closure, so identity hashing keeps
    the hashing of those tuples in C (a Python ``__hash__`` was 15-20 % of the
    closure time).
    """

    kind = None
    _kind_order = None

    def __new__(cls, *args, **kwargs):
        key = cls._intern_key(*args, **kwargs)
        obj = _INTERNED.get(key)
        if obj is None:
            obj = super().__new__(cls)
            _INTERNED[key] = obj
        return obj

    def __init__(self, name):
        self.name = str(name)

    def _key(self):
        # cached: names and levels never change, and sorting calls this a lot
        k = self.__dict__.get("_k")
        if k is None:
            k = self._k = (self._kind_order, _natural(self.name), self.name,
                           getattr(self, "levels", 0))
        return k

    def __lt__(self, other):
        return self._key() < other._key()


class Mode(_Subsystem):
    """Bosonic mode.

    Parameters
    ----------
    name : str, default "a"
        Printed name of the annihilation operator.

    Attributes
    ----------
    a, adag : Operator
        Annihilation and creation operators, ``[a, a†] = 1``.
    """

    kind = "mode"
    _kind_order = 0

    def __init__(self, name="a"):
        super().__init__(name)

    @classmethod
    def _intern_key(cls, name="a"):
        return (cls._kind_order, str(name))

    def __reduce__(self):
        return (Mode, (self.name,))

    @property
    def a(self):
        return Operator({((self, (0, 1)),): Coeff(1)})

    @property
    def adag(self):
        return Operator({((self, (1, 0)),): Coeff(1)})

    def destroy(self):
        """Same as :attr:`a`."""
        return self.a

    def create(self):
        """Same as :attr:`adag`."""
        return self.adag

    def num(self):
        """Number operator ``a† a``."""
        return Operator({((self, (1, 1)),): Coeff(1)})

    def __repr__(self):
        return f"Mode({self.name!r})"


class Atom(_Subsystem):
    """``N``-level atom with transitions ``σ_ij = |i⟩⟨j|``.

    Parameters
    ----------
    name : str or int
        Label (printed as ``σ[name]_ij``).
    levels : int, default 2
        Number of levels ``N``.  Level ``1`` is the ground state, ``N`` the
        highest; see :func:`to_qobj` for the QuTiP basis ordering.
    """

    kind = "atom"
    _kind_order = 1

    def __init__(self, name, levels=2):
        super().__init__(name)
        if int(levels) != levels or levels < 2:
            raise ValueError(f"an atom needs an integer number of levels >= 2, got {levels!r}")
        self.levels = int(levels)

    @classmethod
    def _intern_key(cls, name, levels=2):
        return (cls._kind_order, str(name), levels)

    def __reduce__(self):
        return (Atom, (self.name, self.levels))

    def s(self, i, j):
        """Transition operator ``σ_ij = |i⟩⟨j|`` (``σ_11`` is expanded)."""
        for x in (i, j):
            if int(x) != x or not 1 <= x <= self.levels:
                raise ValueError(f"level {x!r} outside 1..{self.levels} of atom {self.name}")
        i, j = int(i), int(j)
        if (i, j) == (1, 1):
            out = identity()
            for r in range(2, self.levels + 1):
                out = out - self.s(r, r)
            return out
        return Operator({((self, (i, j)),): Coeff(1)})

    sigma = s

    def _two(self, what):
        if self.levels != 2:
            raise ValueError(f"{what} is defined for two-level atoms only; use .s(i, j)")

    @property
    def sm(self):
        """``σ⁻ = σ_12`` (two-level atoms)."""
        self._two("sigma-")
        return self.s(1, 2)

    @property
    def sp(self):
        """``σ⁺ = σ_21`` (two-level atoms)."""
        self._two("sigma+")
        return self.s(2, 1)

    @property
    def sz(self):
        """``σ_z = σ_22 − σ_11 = 2 σ_22 − 1`` (two-level atoms)."""
        self._two("sigma_z")
        return self.s(2, 2) - self.s(1, 1)

    def __repr__(self):
        return f"Atom({self.name!r}, levels={self.levels})"


# --------------------------------------------------------------------------
# Local products of canonical factors
# --------------------------------------------------------------------------

def _local_mul(sub, x, y):
    """Product of two canonical factors on ``sub``.

    Returns a list of ``(int, factor_or_None)``; ``None`` is the identity.
    """
    if sub.kind == "mode":
        m, n = x
        p, q = y
        out = []
        # a^n a†^p = Σ_k C(n,k) C(p,k) k! a†^(p-k) a^(n-k)
        for k in range(min(n, p) + 1):
            c = math.comb(n, k) * math.comb(p, k) * math.factorial(k)
            f = (m + p - k, n + q - k)
            out.append((c, None if f == (0, 0) else f))
        return out
    i, j = x
    k, l = y
    if j != k:
        return []
    if (i, l) != (1, 1):
        return [(1, (i, l))]
    return [(1, None)] + [(-1, (r, r)) for r in range(2, sub.levels + 1)]


_PRODUCTS = {}
_PRODUCTS_MAX = 100_000


def _mono_product(m1, m2):
    """Product of two canonical monomials -> list of (int, monomial) (do not modify).

    Memoised: the closure multiplies the same few Hamiltonian and jump monomials with
    overlapping moments over and over (keys hash in C, subsystems being interned).
    """
    out = _PRODUCTS.get((m1, m2))
    if out is None:
        if len(_PRODUCTS) >= _PRODUCTS_MAX:
            _PRODUCTS.clear()
        out = _PRODUCTS[(m1, m2)] = _mono_product_uncached(m1, m2)
    return out


def _mono_product_uncached(m1, m2):
    if not m1:
        return [(1, m2)]
    if not m2:
        return [(1, m1)]
    # merge the two factor lists (each sorted by subsystem); a shared subsystem multiplies
    # locally, and a local product with several terms (σ_21 σ_12 = 1 − Σ σ_rr, a a†) is a
    # branch point, expanded at the end
    n1, n2 = len(m1), len(m2)
    i = j = 0
    c = 1
    factors = []
    branches = None
    while i < n1 and j < n2:
        s, f = m1[i]
        t, g = m2[j]
        if s is t:
            loc = _local_mul(s, f, g)
            if not loc:
                return []
            if len(loc) == 1:
                ci, h = loc[0]
                c *= ci
                if h is not None:
                    factors.append((s, h))
            else:
                if branches is None:
                    branches = []
                branches.append((len(factors), s, loc))
                factors.append(None)
            i += 1
            j += 1
        elif s._key() < t._key():
            factors.append(m1[i])
            i += 1
        else:
            factors.append(m2[j])
            j += 1
    if i < n1:
        factors.extend(m1[i:])
    elif j < n2:
        factors.extend(m2[j:])
    if branches is None:
        return [(c, tuple(factors))]
    out = []
    for combo in itertools.product(*(loc for _, _, loc in branches)):
        cc = c
        fs = list(factors)
        for (pos, s, _), (ci, h) in zip(branches, combo):
            cc *= ci
            fs[pos] = None if h is None else (s, h)
        out.append((cc, tuple(x for x in fs if x is not None)))
    return out


# --------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------

class Operator:
    """Linear combination of canonical (normal-ordered) operator monomials.

    Operators are built from :attr:`Mode.a`, :attr:`Mode.adag`,
    :meth:`Atom.s` (and the two-level shortcuts) with ``+``, ``-``, ``*``,
    scalar multiplication by numbers or :class:`Coeff`, and :meth:`dag`,
    exactly like QuTiP ``Qobj`` arithmetic.

    Parameters
    ----------
    terms : dict, optional
        ``monomial -> Coeff``; a monomial is a tuple of ``(subsystem, factor)``
        pairs in canonical order (see the module docstring).  Normally not
        called directly.

    Examples
    --------
    >>> a = Mode("a"); at = Atom(1)
    >>> print(commutator(a.a, a.adag))
    1
    >>> print(at.sp * at.sm)
    σ[1]_22
    """

    __slots__ = ("terms",)
    __array_priority__ = 100

    def __init__(self, terms=None):
        self.terms = {}
        for k, v in (terms or {}).items():
            v = Coeff(v)
            if not v.is_zero():
                self.terms[k] = v

    @classmethod
    def _new(cls, terms):
        """Operator around ``terms`` as is: non-zero :class:`Coeff` values, shared with
        the caller (internal; coefficients are never modified in place)."""
        o = object.__new__(cls)
        o.terms = terms
        return o

    @staticmethod
    def _coerce(x):
        if type(x) is Operator or isinstance(x, Operator):
            return x
        if isinstance(x, (numbers.Number, Coeff)):
            return identity() * x
        return NotImplemented

    # arithmetic ---------------------------------------------------------
    def __add__(self, other):
        other = Operator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        out = dict(self.terms)
        for k, v in other.terms.items():
            s = out[k] + v if k in out else v
            if not s.terms:
                out.pop(k, None)
            else:
                out[k] = s
        return Operator._new(out)

    __radd__ = __add__

    def __neg__(self):
        return Operator._new({k: -v for k, v in self.terms.items()})

    def __sub__(self, other):
        other = Operator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):
        other = Operator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return other + (-self)

    def __mul__(self, other):
        if type(other) is not Operator:
            if isinstance(other, (numbers.Number, Coeff)):
                c = Coeff(other)
                out = {}
                for k, v in self.terms.items():
                    v = v * c
                    if v.terms:
                        out[k] = v
                return Operator._new(out)
            if not isinstance(other, Operator):
                return NotImplemented
        acc = {}
        for k1, v1 in self.terms.items():
            for k2, v2 in other.terms.items():
                v = v1 * v2
                for c, k in _mono_product(k1, k2):
                    acc.setdefault(k, []).append(v * c if c != 1 else v)
        out = {}
        for k, vs in acc.items():
            s = Coeff()
            for v in vs:
                s = s + v
            if s.terms:
                out[k] = s
        return Operator._new(out)

    def __rmul__(self, other):
        if isinstance(other, (numbers.Number, Coeff)):
            return self * other
        return NotImplemented

    def __truediv__(self, other):
        if not isinstance(other, numbers.Number):
            return NotImplemented
        return self * (1 / other)

    def __pow__(self, n):
        if int(n) != n or n < 0:
            raise ValueError("only non-negative integer powers are supported")
        out = identity()
        for _ in range(int(n)):
            out = out * self
        return out

    def __eq__(self, other):
        other = Operator._coerce(other)
        if other is NotImplemented:
            return NotImplemented
        return self.terms == other.terms

    def __hash__(self):
        return hash(frozenset(self.terms.items()))

    def dag(self):
        """Hermitian conjugate (parameters are real)."""
        out = {}
        for k, v in self.terms.items():
            nk = tuple((s, (f[1], f[0])) for s, f in k)
            out[nk] = v.conj()
        return Operator(out)

    # queries ------------------------------------------------------------
    def is_zero(self):
        """True if the operator is zero."""
        return not self.terms

    def is_hermitian(self):
        """True if ``self == self.dag()`` symbolically."""
        return self == self.dag()

    @property
    def subsystems(self):
        """Sorted list of the subsystems the operator acts on."""
        return sorted({s for k in self.terms for s, _ in k})

    @property
    def free_parameters(self):
        """Set of parameter names in the coefficients."""
        return set().union(*(v.free_parameters for v in self.terms.values()))

    def monomials(self):
        """List of ``(Coeff, Operator)`` pairs, one per canonical monomial."""
        return [(v, Operator({k: 1})) for k, v in self._sorted_items()]

    def boson_degree(self):
        """Largest number of ``a``/``a†`` factors in one monomial (0 if none)."""
        deg = 0
        for k in self.terms:
            deg = max(deg, sum(f[0] + f[1] for s, f in k if s.kind == "mode"))
        return deg

    def subs(self, params):
        """Bind some parameters in all coefficients."""
        return Operator({k: v.subs(params) for k, v in self.terms.items()})

    # printing -----------------------------------------------------------
    def _sorted_items(self):
        def key(item):
            k = item[0]
            return (len(k), [(s._key(), f) for s, f in k])
        return sorted(self.terms.items(), key=key)

    @staticmethod
    def monomial_str(k, latex=False):
        """Text (or LaTeX) for one canonical monomial ``k``."""
        if not k:
            return "1"
        parts = []
        for s, f in k:
            if s.kind == "mode":
                m, n = f
                if latex:
                    if m:
                        parts.append(f"{s.name}^{{\\dagger{'' if m == 1 else f' {m}'}}}")
                    if n:
                        parts.append(f"{s.name}^{{{n}}}" if n > 1 else s.name)
                else:
                    if m:
                        parts.append(f"{s.name}†" + (f"^{m}" if m > 1 else ""))
                    if n:
                        parts.append(s.name + (f"^{n}" if n > 1 else ""))
            else:
                i, j = f
                if latex:
                    parts.append(f"\\sigma^{{({s.name})}}_{{{i}{j}}}")
                else:
                    parts.append(f"σ[{s.name}]_{i}{j}")
        return " ".join(parts)

    def _render(self, latex=False, wrap=None):
        if not self.terms:
            return "0"
        out = []
        for k, v in self._sorted_items():
            mono = self.monomial_str(k, latex)
            if wrap is not None and k:
                mono = wrap(mono)
            cs = v._latex() if latex else str(v)
            if not k:
                out.append(cs)
            elif cs == "1":
                out.append(mono)
            elif cs == "-1":
                out.append("-" + mono)
            else:
                out.append(cs + " " + mono)
        return " + ".join(out).replace("+ -", "- ")

    def __str__(self):
        return self._render()

    def __repr__(self):
        return f"Operator({self._render()})"

    def latex(self):
        """LaTeX string of the operator."""
        return self._render(latex=True)

    def _repr_latex_(self):
        return "$" + self.latex() + "$"


def identity():
    """The identity operator."""
    return Operator({(): Coeff(1)})


def commutator(x, y):
    """``[x, y] = x y − y x``."""
    return x * y - y * x


def anticommutator(x, y):
    """``{x, y} = x y + y x``."""
    return x * y + y * x


def collective(atoms, i, j):
    """Collective transition ``Σ_k σ^k_ij`` over ``atoms``."""
    out = Operator()
    for at in atoms:
        out = out + at.s(i, j)
    return out


def jminus(atoms):
    """``J⁻ = Σ_k σ^k_12``."""
    return collective(atoms, 1, 2)


def jplus(atoms):
    """``J⁺ = Σ_k σ^k_21``."""
    return collective(atoms, 2, 1)


def jz(atoms):
    """``J_z = ½ Σ_k (σ^k_22 − σ^k_11)`` (two-level atoms)."""
    out = Operator()
    for at in atoms:
        out = out + at.sz
    return out * 0.5


# --------------------------------------------------------------------------
# Conversion to QuTiP
# --------------------------------------------------------------------------

def _normalise_dims(dims):
    if isinstance(dims, dict):
        dims = list(dims.items())
    out = []
    for entry in dims:
        if isinstance(entry, _Subsystem):
            sub, d = entry, None
        else:
            sub, d = entry
        if sub.kind == "atom":
            if d is not None and d != sub.levels:
                raise ValueError(f"atom {sub.name} has {sub.levels} levels, got dimension {d}")
            d = sub.levels
        elif d is None or int(d) != d or d < 1:
            raise ValueError(f"mode {sub.name} needs a positive integer Fock cutoff, got {d!r}")
        out.append((sub, int(d)))
    if len({s for s, _ in out}) != len(out):
        raise ValueError("a subsystem occurs twice in dims")
    return out


def to_qobj(op, dims, params=None):
    """Convert an :class:`Operator` to a ``qutip.Qobj``.

    Parameters
    ----------
    op : Operator
        Operator to convert.
    dims : sequence or dict
        Tensor factors in order: ``(subsystem, dimension)`` pairs (or a dict).
        For a :class:`Mode` the dimension is the Fock cutoff; for an
        :class:`Atom` it must equal ``levels`` and may be omitted (pass the
        atom alone).  Every subsystem of ``op`` must occur.
    params : dict, optional
        Values of the symbolic parameters.

    Returns
    -------
    qutip.Qobj

    Notes
    -----
    Level ordering: atom level ``i`` (``1`` = ground, ``N`` = highest) is
    ``qutip.basis(N, N - i)``.  For ``N = 2`` this is QuTiP's convention
    (``basis(2, 0)`` excited): ``σ⁻ -> sigmam()``, ``σ_z -> sigmaz()``.
    A mode monomial ``a†^m a^n`` is the product of truncated matrices
    ``create(cutoff)**m * destroy(cutoff)**n``.  Since the truncated ``a``
    lowers exactly, this is the compression ``P a†^m a^n P`` (``P`` the
    projector on the ``cutoff`` lowest Fock states) for every ``m, n``.
    The result is stored as a sparse (``CSR``) ``Qobj``.
    """
    import qutip

    dims = _normalise_dims(dims)
    pos = {s: i for i, (s, _) in enumerate(dims)}
    for s in op.subsystems:
        if s not in pos:
            raise ValueError(f"{s!r} occurs in the operator but not in dims")
    sizes = [d for _, d in dims]
    cache = {}

    def local(sub, d, f):
        key = (sub, f)
        if key not in cache:
            if sub.kind == "mode":
                m, n = f
                a = sp.diags(np.sqrt(np.arange(1, d)), 1, shape=(d, d),
                             format="csr", dtype=complex)
                mat = sp.identity(d, dtype=complex, format="csr")
                for _ in range(m):
                    mat = mat @ a.conj().T
                for _ in range(n):
                    mat = mat @ a
                cache[key] = sp.csr_matrix(mat)
            else:
                i, j = f
                cache[key] = sp.csr_matrix(([1.0 + 0j], ([d - i], [d - j])), shape=(d, d))
        return cache[key]

    total = sp.csr_matrix((int(np.prod(sizes)),) * 2, dtype=complex)
    for k, v in op.terms.items():
        c = v.evaluate(params)
        fk = dict(k)
        mat = sp.csr_matrix(np.array([[c]], dtype=complex))
        for sub, d in dims:
            m = local(sub, d, fk[sub]) if sub in fk else sp.identity(d, dtype=complex, format="csr")
            mat = sp.kron(mat, m, format="csr")
        total = total + mat
    total = sp.csr_matrix(total)
    total.eliminate_zeros()
    return qutip.Qobj(total, dims=[sizes, sizes]).to("CSR")
