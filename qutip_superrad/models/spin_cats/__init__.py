"""Seed 004: spin cat states under parity-sensitive inhomogeneous dephasing."""
from .model import TwoBodyLossSpins, sample_detunings

__all__ = ["TwoBodyLossSpins", "sample_detunings"]
from .states import cat_state, coherent_spin_state, fidelity, hp_number_index, to_manifold

__all__ += ["coherent_spin_state", "cat_state", "fidelity", "hp_number_index", "to_manifold"]
