"""General cumulant engine (issue 4), first part: operator algebra and exact
equations of motion.

Import as ``qutip_superrad.cumulant.engine``.  See ``docs/cumulant_engine.md``
for the design and for what is not implemented yet (cumulant truncation,
completion, code generation, ...).
"""
from .algebra import (
    Coeff, parameter, parameters, Mode, Atom, Operator, identity,
    commutator, anticommutator, collective, jminus, jplus, jz, to_qobj,
)
from .derive import Model, Equation, heisenberg_rhs, derive_equations

__all__ = [
    "Coeff", "parameter", "parameters", "Mode", "Atom", "Operator",
    "identity", "commutator", "anticommutator", "collective", "jminus",
    "jplus", "jz", "to_qobj",
    "Model", "Equation", "heisenberg_rhs", "derive_equations",
]
