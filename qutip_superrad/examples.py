"""Small models written with the model description, for tutorials, tests and benchmarks.

Each function returns a :class:`~qutip_superrad.Model` together with the
operators one usually looks at.  Parameter names follow qutip.piqs:
``emission`` (local ``D[σ⁻]``), ``pumping`` (local ``D[σ⁺]``), ``dephasing``
(local ``D[σ_z]``), ``collective_emission`` (``D[J⁻]``), ….

>>> from qutip_superrad import examples
>>> model, ops = examples.driven_dicke(N=4, rabi=1.0, collective_emission=0.5, dephasing=0.1)
>>> sorted(ops)
['Jx', 'Jy', 'Jz', 'JpJm']
"""
from __future__ import annotations

from .cumulant.engine.algebra import Mode, parameters
from .cumulant.engine.clusters import Clusters
from .model import Model

__all__ = ["driven_dicke", "all_to_all_dipoles", "superradiant_laser", "collective_operators"]


def collective_operators(atoms):
    """``{"Jx", "Jy", "Jz", "JpJm"}`` of a two-level :class:`Clusters` (``J_z = Σ σ_z/2``)."""
    s = atoms.atom
    Jp, Jm = atoms.sum(s.sp), atoms.sum(s.sm)
    return {"Jx": 0.5 * (Jp + Jm), "Jy": -0.5j * (Jp - Jm), "Jz": atoms.sum(0.5 * s.sz),
            "JpJm": Jp * Jm}


def driven_dicke(N, rabi, collective_emission, dephasing=0.0):
    """Driven Dicke model ``H = Ω J_x``, ``γ_c D[J⁻]``, local dephasing ``γ_φ D[σ_z]``.

    The cooperative resonance fluorescence of Carmichael (1980) / Drummond and
    Carmichael (1978); with dephasing the total spin is no longer conserved.
    """
    atoms = Clusters("s")
    s = atoms.atom
    Om, gc, gphi = parameters("rabi collective_emission dephasing")
    ops = collective_operators(atoms)
    model = Model(Om * ops["Jx"], [(gc, atoms.sum(s.sm)), (gphi, atoms.each(s.sz))],
                  parameters=dict(rabi=rabi, collective_emission=collective_emission,
                                  dephasing=dephasing), N=N, name="driven Dicke")
    return model, ops


def all_to_all_dipoles(N, collective_emission, emission, pumping):
    """Identical dipoles with all-to-all dissipative coupling and an incoherent repump.

    ``Σ_ab f_ab (σ⁻_b ρ σ⁺_a − ½{σ⁺_a σ⁻_b, ρ})`` with ``f_ab = f`` for ``a ≠ b``
    and ``f_aa = Γ`` is ``f D[J⁻] + (Γ − f) Σ_a D[σ⁻_a]``; here the two rates are
    given directly (``collective_emission = f``, ``emission = Γ − f``), plus
    ``W Σ_a D[σ⁺_a]`` (``pumping``).  The all-to-all limit of the dipole arrays of
    Nadolny, Hotter and Ritsch (seed 001), ``f = f_eff/N``.
    """
    atoms = Clusters("s")
    s = atoms.atom
    f, gam, W = parameters("collective_emission emission pumping")
    ops = collective_operators(atoms)
    model = Model(0, [(f, atoms.sum(s.sm)), (gam, atoms.each(s.sm)),
                      (W, atoms.each(s.sp))],
                  parameters=dict(collective_emission=collective_emission, emission=emission,
                                  pumping=pumping), N=N, name="all-to-all dipoles")
    return model, ops


def superradiant_laser(N, coupling, kappa, emission, pumping, dephasing=0.0, detuning=None):
    """The superradiant laser of Bohnet et al. / Meiser et al. as a description.

    ``H = −Σ_m Δ_m σ⁺σ⁻ + g Σ (a σ⁺ + a† σ⁻)``, ``κ D[a]``, local ``Γ D[σ⁻]``,
    ``R D[σ⁺]`` and ``ν D[σ⁺σ⁻]`` (``dephasing``; note: ``D[σ⁺σ⁻]``, as in the
    package's :class:`~qutip_superrad.SuperradiantLaser`).  ``N`` is a number or
    one count per cluster, ``detuning`` one value per cluster.
    """
    import numpy as np

    a = Mode("a")
    atoms = Clusters("s")
    s = atoms.atom
    Delta = atoms.parameter("detuning")
    g, k, gam, R, nu = parameters("coupling kappa emission pumping dephasing")
    H = atoms.sum(-Delta * s.sp * s.sm + g * (a.a * s.sp + a.adag * s.sm))
    counts = np.atleast_1d(N)
    det = np.zeros(counts.size) if detuning is None else detuning
    model = Model(H, [(k, a.a), (gam, atoms.each(s.sm)), (R, atoms.each(s.sp)),
                      (nu, atoms.each(s.sp * s.sm))],
                  parameters=dict(detuning=det, coupling=coupling, kappa=kappa, emission=emission,
                                  pumping=pumping, dephasing=dephasing), N=N,
                  name="superradiant laser")
    ops = dict(collective_operators(atoms), photon_number=a.num(),
               excited=atoms.sum(s.s(2, 2)))
    return model, ops
