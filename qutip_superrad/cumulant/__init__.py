"""Cumulant (moment-closure) methods: cluster-resolved second-order equations.

:mod:`qutip_superrad.cumulant.laser` — the superradiant laser of Bychek, Hotter,
Plankensteiner and Ritsch, Open Res. Europe 1, 73 (2021) (``method="cumulant"`` of
:class:`~qutip_superrad.SuperradiantLaser`).
"""
from . import laser
from .laser import critical_pump

__all__ = ["laser", "critical_pump"]
