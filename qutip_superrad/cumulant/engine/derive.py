"""Exact Heisenberg equations of motion for operator expectation values.

For the Lindblad master equation

    dρ/dt = −i[H, ρ] + Σ_c γ_c (c ρ c† − ½{c†c, ρ})

the expectation value of any operator ``O`` obeys

    d⟨O⟩/dt = i⟨[H, O]⟩ + Σ_c γ_c ⟨c† O c − ½{c†c, O}⟩ .

:func:`heisenberg_rhs` returns the operator inside ``⟨ ⟩`` on the right hand
side as an :class:`~.algebra.Operator`, i.e. a linear combination of
canonical normal-ordered monomials.  Nothing is truncated: the result is
exact (it generally involves higher-order products than ``O``; closing the
hierarchy by a cumulant expansion is *not* part of this module).
"""
from __future__ import annotations

import numbers

from .algebra import Coeff, Operator, commutator

__all__ = ["Model", "Equation", "heisenberg_rhs", "derive_equations"]


def _check_jumps(jumps, allowed=(Operator,)):
    """``[(Coeff rate, c), ...]`` from ``(rate, operator)`` pairs, validated."""
    out = []
    for entry in jumps:
        try:
            rate, c = entry
        except (TypeError, ValueError):
            raise TypeError("jumps must be (rate, operator) pairs") from None
        if not isinstance(c, allowed):
            raise TypeError(f"jump operator must be an Operator, got {type(c).__name__}")
        if not isinstance(rate, (numbers.Number, Coeff)):
            raise TypeError(f"rate must be a number or Coeff, got {type(rate).__name__}")
        if isinstance(rate, numbers.Number) and (rate != rate or rate.real < 0
                                                 or getattr(rate, "imag", 0) != 0):
            raise ValueError(f"rate must be a non-negative real number, got {rate!r}")
        out.append((Coeff(rate), c))
    return out


def heisenberg_rhs(op, H, jumps=()):
    """Right hand side ``R`` of ``d⟨O⟩/dt = ⟨R⟩`` (exact, no truncation).

    Parameters
    ----------
    op : Operator
        The operator ``O`` (any product or sum of products).
    H : Operator
        Hamiltonian (should be Hermitian for a physical model; not enforced).
    jumps : sequence of (rate, Operator)
        Jump operators ``c`` with rates ``γ`` (numbers or :class:`Coeff`);
        the dissipator is ``γ (c ρ c† − ½{c†c, ρ})``.

    Returns
    -------
    Operator
        ``i[H, O] + Σ γ (c† O c − ½ c†c O − ½ O c†c)`` in canonical form.
    """
    if not isinstance(op, Operator) or not isinstance(H, Operator):
        raise TypeError("op and H must be Operator instances")
    out = commutator(H, op) * 1j
    for rate, c in _check_jumps(jumps):
        cd = c.dag()
        cdc = cd * c
        out = out + (cd * op * c - (cdc * op + op * cdc) * 0.5) * rate
    return out


class Equation:
    """``d⟨lhs⟩/dt = ⟨rhs⟩`` with ``rhs`` a sum of canonical monomials.

    Attributes
    ----------
    lhs : Operator
    rhs : Operator
    """

    __slots__ = ("lhs", "rhs")

    def __init__(self, lhs, rhs):
        self.lhs = lhs
        self.rhs = rhs

    def expectations(self):
        """List of ``(Coeff, Operator)``: the terms ``c ⟨M⟩`` of the rhs."""
        return self.rhs.monomials()

    def __str__(self):
        left = f"d/dt ⟨{self.lhs}⟩"
        return left + " = " + self.rhs._render(wrap=lambda m: f"⟨{m}⟩")

    def __repr__(self):
        return f"Equation({self})"

    def latex(self):
        """LaTeX string of the equation."""
        left = r"\frac{d}{dt}\langle " + self.lhs.latex() + r"\rangle"
        right = self.rhs._render(latex=True,
                                 wrap=lambda m: r"\langle " + m + r"\rangle")
        return left + " = " + right

    def _repr_latex_(self):
        return "$" + self.latex() + "$"


def _check_hermitian(H):
    """Refuse ``H ≠ H†`` (sums over Clusters unrolled on two atoms of one cluster; named
    parameters are real)."""
    import itertools

    from .clusters import rename_coeff, substitute_atoms

    explicit = Operator()
    pair = {}
    for c, factors, phs in H.terms:
        for choice in itertools.product(range(2), repeat=len(phs)):
            atommap = {p: pair.setdefault((p.clusters, i), p.clusters._explicit(f"{p.clusters.name}{i}"))
                       for p, i in zip(phs, choice)}
            varmap = {p.var: "h" for p in phs}       # one cluster: the same parameter values
            term = Operator({(): rename_coeff(c, varmap)})
            for f in factors:
                term = term * substitute_atoms(f, atommap, varmap)
            explicit = explicit + term
    diff = explicit - explicit.dag()
    if not diff.is_zero():
        raise ValueError("H is not Hermitian: H − H† ≠ 0 (e.g. g·a†σ⁻ without its conjugate "
                         "g·aσ⁺); add the Hermitian conjugate terms, or pass "
                         "check_hermitian=False to keep a non-Hermitian H on purpose")


class Model:
    """Hamiltonian plus jump operators, written with the operator algebra.

    Parameters
    ----------
    H : Operator
        Hamiltonian.
    jumps : sequence of (rate, Operator)
        Jump operators with rates; collective operators (``jminus(atoms)``),
        products (``jminus(atoms) ** 2`` for two-body loss) and dephasing
        (``atom.sz`` or ``atom.s(2, 2)``) are ordinary operators.
    check_hermitian : bool, default True
        Refuse ``H ≠ H†`` (named parameters are taken as real; sums over
        Clusters are checked on two atoms).  Pass ``False`` to keep a
        non-Hermitian ``H`` on purpose.

    Examples
    --------
    >>> from qutip_superrad.cumulant.engine import Mode, Atom, Model, parameters
    >>> g, kappa, gamma = parameters("g kappa gamma")
    >>> a = Mode("a"); at = Atom(1)
    >>> m = Model(g * (a.adag * at.sm + a.a * at.sp),
    ...           [(kappa, a.a), (gamma, at.sm)])
    >>> print(m.equation(a.num()))
    d/dt ⟨a† a⟩ = -kappa ⟨a† a⟩ + 1j*g ⟨a σ[1]_21⟩ - 1j*g ⟨a† σ[1]_12⟩
    """

    def __init__(self, H, jumps=(), check_hermitian=True):
        from .clusters import Each, IndexedOperator

        if not isinstance(H, (Operator, IndexedOperator)):
            raise TypeError("H must be an Operator (or a sum over Clusters)")
        self.H = H
        self.H_indexed = IndexedOperator._coerce(H)
        self.jump_list = []
        concrete = []
        for rate, c in _check_jumps(jumps, (Operator, IndexedOperator, Each)):
            if isinstance(c, Each):
                self.jump_list.append((rate, "each", c))
            else:
                self.jump_list.append((rate, "sum", IndexedOperator._coerce(c)))
                if isinstance(c, Operator):
                    concrete.append((rate, c))
        self.jumps = concrete
        self._check_indices()
        if check_hermitian:
            _check_hermitian(self.H_indexed)

    def _pieces(self):
        """``(kind, coefficient, operator factors, Clusters used)`` of H and the jumps.

        ``kind`` is ``"H"``, ``"each"`` or ``"sum"``; for jumps the coefficient is
        the rate.  One walk shared by the checks below and the U(1) check.
        """
        for c, factors, ph in self.H_indexed.terms:
            yield "H", c, factors, {p.clusters for p in ph}
        for rate, kind, c in self.jump_list:
            if kind == "each":
                yield "each", rate, [c.op], {c.clusters}
            else:
                for cc, factors, ph in c.terms:
                    yield "sum", rate * cc, factors, {p.clusters for p in ph}

    def _check_indices(self):
        """Collect the Clusters, the subsystems and the parameter names; reject
        per-cluster parameters outside ``Clusters.sum()/each()``."""
        found, subs, names, stray = set(), set(), set(), []
        for kind, coeff, factors, used in self._pieces():
            scan = [coeff] if kind != "each" else []      # an `each` rate may be per-cluster
            if kind == "H":
                scan += [v for f in factors for v in f.terms.values()]
            for c in scan:
                for mono in c.terms:
                    for name, _ in mono:
                        var = name[:-1].partition("[")[2] if name.endswith("]") else ""
                        if var.startswith("@") and not var[1:].isdigit():   # a template index
                            where = "H" if kind == "H" else "a jump rate"
                            raise ValueError(f"per-cluster parameter {name.partition('[')[0]!r} "
                                             f"used outside Clusters.sum()/each() (Modes.sum()/"
                                             f"each()) in {where}")
            found |= used
            names |= coeff.free_parameters
            for f in factors:
                names |= f.free_parameters
                subs.update(s for s in f.subsystems if not hasattr(s, "clusters"))
                if kind != "each":
                    # a sum binds only its own family's template: another family's template
                    # left in it (or in H) would be one unsummed, unnamed site
                    stray += [s.clusters for s in f.subsystems if getattr(s, "clusters", None)
                              is not None and s.var == s.clusters.tvar]
        self.parameter_names = {n for n in names if "[" not in n}
        names_ = [f.name for f in found]
        if len(set(names_)) != len(names_):
            raise ValueError(f"two indexed families share the name {names_!r}; give each "
                             "Clusters/Modes its own name")
        if stray:
            fam = stray[0]
            kind_ = type(fam).__name__
            raise ValueError(f"the template {fam._what} of {kind_} {fam.name!r} appears outside "
                             f"{kind_}.sum()/each(); wrap the operator in .sum(...) (collective) "
                             "or .each(...) (local jump) of its own family")
        #: every indexed family (each Clusters — a species of atoms — and each Modes),
        #: sorted by name: one index set each
        self.index_sets = sorted(found, key=lambda f: f.name)
        self.clusters = self.index_sets[0] if len(self.index_sets) == 1 else None
        self._check_index_parameters()
        self.subsystems = sorted(subs) + [f.template for f in self.index_sets]

    def _check_index_parameters(self):
        """A per-index parameter belongs to one family (its values are one per index)."""
        owner = {}
        for _, coeff, factors, _ in self._pieces():
            for c in [coeff] + [v for f in factors for v in f.terms.values()]:
                for mono in c.terms:
                    for name, _ in mono:
                        if "[" not in name:
                            continue
                        base = name.partition("[")[0]
                        fam = self._var_family(name[:-1].partition("[")[2])
                        if fam is None:
                            continue
                        if owner.setdefault(base, fam) is not fam:
                            raise ValueError(f"per-index parameter {base!r} is used by two "
                                             f"families ({owner[base].name!r}, {fam.name!r}); "
                                             "give each family its own parameter names")
        self.index_parameters = {k: v for k, v in owner.items()}

    def _var_family(self, var):
        for _, _, phs in self.sum_terms():
            for p in phs:
                if p.var == var:
                    return p.clusters
        for _, kind, c in self.jump_list:
            if kind == "each" and var == c.clusters.tvar:
                return c.clusters
        return None

    def sum_terms(self):
        """``(coefficient, factors, placeholders)`` of ``H`` and of the collective jumps."""
        yield from self.H_indexed.terms
        for _, kind, c in self.jump_list:
            if kind != "each":
                yield from c.terms

    def restricted_sums(self):
        """True if ``H`` or a jump sums over one cluster only (``Clusters.sum(op, cluster=k)``)."""
        return any(getattr(p, "cluster", None) is not None
                   for _, _, ph in self.sum_terms() for p in ph)

    def close(self, order=2, operators=None, phase_charges=None, fold=True):
        """Closed cumulant equations, see :func:`~.closure.close`."""
        from .closure import close

        if self.restricted_sums():
            # the closure treats every cluster alike: a sum over one cluster would be lost
            raise ValueError("the cumulant engine does not take Clusters.sum(op, cluster=k) in "
                             "H or the jumps (a sum restricted to one cluster); give that "
                             "cluster its own parameters instead (e.g. a per-cluster coupling "
                             "that is zero elsewhere), or use an exact method")
        return close(self, order, operators, phase_charges, fold)

    def rhs(self, op):
        """Exact right hand side, see :func:`heisenberg_rhs`."""
        if self.index_sets:
            raise ValueError("rhs() needs concrete atoms; models with Clusters are "
                             "handled by close()")
        return heisenberg_rhs(op, self.H, self.jumps)

    def equation(self, op):
        """:class:`Equation` for ``d⟨op⟩/dt``."""
        return Equation(op, self.rhs(op))

    def equations(self, ops):
        """List of :class:`Equation`, one per operator in ``ops``."""
        return [self.equation(o) for o in ops]

    def to_qutip(self, dims, params=None):
        """``(H, c_ops)`` as QuTiP objects (``c_ops`` are ``sqrt(rate)·c``).

        Rates must evaluate to non-negative real numbers.
        """
        from .algebra import to_qobj

        Hq = to_qobj(self.H, dims, params)
        c_ops = []
        for rate, c in self.jumps:
            r = rate.evaluate(params)
            if r.imag != 0 or r.real < 0:
                raise ValueError(f"rate {rate} evaluates to {r}, not a non-negative real")
            c_ops.append(to_qobj(c, dims, params) * r.real ** 0.5)
        return Hq, c_ops


def derive_equations(ops, H, jumps=()):
    """Equations ``d⟨O⟩/dt`` for every ``O`` in ``ops`` (exact)."""
    m = Model(H, jumps)
    return m.equations(ops)
