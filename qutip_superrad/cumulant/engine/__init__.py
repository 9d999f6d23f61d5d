"""General cumulant engine.

Write a model with the operator algebra (modes, N-level atoms, identical
atoms in :class:`Clusters`, indexed mode families in :class:`Modes`), derive exact Heisenberg equations, close them by
a cumulant expansion of any order (:meth:`Model.close`), and solve them with
a compiled right-hand side (:meth:`ClosedSystem.solver`): evolution, steady
state, quantum-regression spectra.  See ``docs/cumulant_engine.md``.
"""
from .algebra import (
    Coeff, parameter, parameters, Mode, Atom, Operator, identity,
    commutator, anticommutator, collective, jminus, jplus, jz, to_qobj,
)
from .derive import Model, Equation, heisenberg_rhs, derive_equations
from .clusters import Clusters, Modes, IndexedOperator
from .closure import close, ClosedSystem, Family, cumulant_expansion
from .solve import CumulantSolver, CumulantState, CumulantEvolution, qrt_system
from . import regression  # noqa: F401  (engine.regression: poles, resolvent)

__all__ = [
    "Coeff", "parameter", "parameters", "Mode", "Atom", "Operator",
    "identity", "commutator", "anticommutator", "collective", "jminus",
    "jplus", "jz", "to_qobj",
    "Model", "Equation", "heisenberg_rhs", "derive_equations",
    "Clusters", "Modes", "IndexedOperator",
    "close", "ClosedSystem", "Family", "cumulant_expansion",
    "CumulantSolver", "CumulantState", "CumulantEvolution", "qrt_system",
]
