"""Seed 004: spin cat states under parity-sensitive inhomogeneous dephasing."""
from .model import TwoBodyLossSpins, sample_detunings

__all__ = ["TwoBodyLossSpins", "sample_detunings"]
from .states import cat_state, coherent_spin_state, fidelity, hp_number_index, to_manifold

__all__ += ["coherent_spin_state", "cat_state", "fidelity", "hp_number_index", "to_manifold"]
from .dephasing import (DephasingFig1, fidelity_variance, fig1, mean_fidelity,
                        realization_fidelity, small_amplitude_fidelity)

__all__ += ["mean_fidelity", "fidelity_variance", "small_amplitude_fidelity",
            "realization_fidelity", "fig1", "DephasingFig1"]
from .meanfield import (PhaseSpreadMap, SYNC_LIMIT, identical_steady_state, phase_spread_map,
                        small_zeta_solution, solve_two_ensembles)

__all__ += ["identical_steady_state", "small_zeta_solution", "solve_two_ensembles",
            "phase_spread_map", "PhaseSpreadMap", "SYNC_LIMIT"]
from .exact import (amplitude_scan, cat_fidelity_dynamics, hp_coherent_state,
                    hp_steady_amplitude, hp_wigner, manifold_steady_state, sphere_wigner,
                    stabilised_cat, stabilised_theta)

__all__ += ["stabilised_theta", "stabilised_cat", "hp_coherent_state", "manifold_steady_state",
            "hp_steady_amplitude", "amplitude_scan", "hp_wigner", "sphere_wigner",
            "cat_fidelity_dynamics"]
