"""qutip-superrad: collective light–matter models for QuTiP.

Ready-made models of superradiant lasers and collective spin systems, solved
three ways: exactly in the full tensor space, exactly in the permutation-
invariant Dicke basis (with U(1) symmetry sectors), and approximately with
cluster-resolved cumulant equations, plus cross-validation between them.
"""
__version__ = "0.1.0"

from .ensemble import Ensemble
from .models import SuperradiantLaser, BadCavityLaser, VLevelLaser, DipoleArray, TwoBodyLossSpins
from .results import SteadyStateResult, EvolutionResult, SpectrumResult
from .spectrum import spectrum_features
from ._validate import ConvergenceError, MemoryLimitError, NoSteadyStateError, TimeLimitError
from .exact._common import TruncationWarning
from .models.collective_pumping import CollectivePumping
from . import cumulant
from .cumulant import critical_pump
from .validate import cross_validate, CrossValidationReport
from .convergence import converge_clusters, ClusterConvergence
from .cumulant.engine.algebra import Mode, Atom, parameter, parameters
from .cumulant.engine.clusters import Clusters, Modes
from .model import (Model, pair_sum, correlated_decay, cluster_pair_sum,
                    cluster_correlated_decay)
from .results import Result, TimeResult
from .solvers import steadystate, evolve, correlation, methods
from .solvers import spectrum   # the function; the analysis module stays importable as qutip_superrad.spectrum
from . import examples
from . import states
from .solvers.dicke import DickeFockState
from . import quantum_info
from .phase_space import spin_wigner
from .sweeps import sweep, SweepTask, SweepResult, SweepError, load_sweep

__all__ = ["Ensemble", "SuperradiantLaser", "BadCavityLaser", "VLevelLaser", "DipoleArray", "TwoBodyLossSpins", "SteadyStateResult",
           "EvolutionResult", "SpectrumResult", "spectrum_features", "MemoryLimitError", "TimeLimitError", "ConvergenceError",
           "NoSteadyStateError", "TruncationWarning",
           "CollectivePumping", "cross_validate", "CrossValidationReport", "converge_clusters", "ClusterConvergence", "critical_pump",
           "cumulant", "Mode", "Atom", "Clusters", "Modes", "parameter", "parameters", "Model", "pair_sum", "correlated_decay",
           "cluster_pair_sum", "cluster_correlated_decay",
           "Result", "TimeResult", "steadystate", "evolve", "spectrum", "correlation", "methods", "examples", "quantum_info", "states", "DickeFockState",
           "spin_wigner",
           "sweep", "SweepTask", "SweepResult", "SweepError", "load_sweep",
           "__version__"]
