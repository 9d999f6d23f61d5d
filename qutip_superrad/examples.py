"""Small models written with the model description, for tutorials, tests and benchmarks.

Each function returns a :class:`~qutip_superrad.Model` together with the
operators one usually looks at.  Parameter names follow qutip.piqs:
``emission`` (local ``D[σ⁻]``), ``pumping`` (local ``D[σ⁺]``), ``dephasing``
(local ``D[σ_z]``), ``collective_emission`` (``D[J⁻]``), ….

>>> from qutip_superrad import examples
>>> model, ops = examples.driven_dicke(N=4, rabi=1.0, collective_emission=0.5, dephasing=0.1)
>>> sorted(ops)
['JpJm', 'Jx', 'Jy', 'Jz']
"""
from __future__ import annotations

from .cumulant.engine.algebra import Mode, parameters
from .cumulant.engine.clusters import Clusters
from .model import Model

__all__ = ["driven_dicke", "all_to_all_dipoles", "superradiant_laser", "vlevel_laser",
           "collective_operators"]


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
    B. Zhu, J. Schachenmayer, M. Xu, F. Herrera, J. G. Restrepo, M. J. Holland and
    A. M. Rey, *Synchronization of interacting quantum dipoles*, New J. Phys. 17,
    083063 (2015), ``f = f_eff/N``.
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


#: Γ_3/Γ_2 of ⁸⁸Sr (the broad ¹P₁ and narrow ³P₁ lines), the ratio used by Hotter,
#: Plankensteiner and Ritsch, arXiv:2007.12522.


def vlevel_laser(N, *, g=0.01, kappa=0.0025, Delta_c=5.0, Delta2=5.0, Delta3=-1.0,
                 Omega2=0.5, Omega3=0.5, Gamma2=1.0 / 4266.0, Gamma3=1.0,
                 nu2=0.0, nu3=0.0):
    """Coherently driven V-level laser as a description (see :class:`~qutip_superrad.VLevelLaser`).

    The model of C. Hotter, D. Plankensteiner and H. Ritsch, *Continuous narrowband
    lasing with coherently driven V-level atoms*, arXiv:2007.12522 ("the paper").

    N identical three-level atoms in a V configuration — level 1 the ground
    state, 2 the narrow (lasing) excited state, 3 the broad excited state —
    with both transitions driven by lasers and the narrow one coupled to a
    cavity mode ``a``.  In the frame rotating at the two pump frequencies
    (``Δ_i = ω_ℓi − ω_i``, ``Δc = ω_ℓ2 − ω_c``; ħ = 1,
    ``D[c]ρ = cρc† − ½{c†c, ρ}``, ``σ_ik = |i⟩⟨k|``)::

        H = −Δc a†a + Σ_j g (a† σ^j_12 + a σ^j_21)
            + Σ_j Σ_{i=2,3} [ −Δ_i σ^j_ii + Ω_i (σ^j_i1 + σ^j_1i) ]
        dρ/dt = −i[H, ρ] + κ D[a]ρ + Σ_j (Γ_2 D[σ^j_12] + Γ_3 D[σ^j_13])ρ
                + ν_3 D[S_3]ρ + ν_2 D[a†a + S_2]ρ,      S_i = Σ_j σ^j_ii

    The pump-laser linewidths dephase collectively (``ν_3 D[S_3]`` and
    ``ν_2 D[a†a + S_2]``: the cavity shares the frame of the narrow pump).

    Parameters
    ----------
    N : int or float
        Number of atoms (one cluster; non-integer for the cumulant methods).
    g : float, default 0.01
        Cavity coupling of the narrow transition 1 ↔ 2.
    kappa : float, default 0.0025
        Cavity loss rate, ``κ D[a]`` (``⟨a†a⟩`` decays at κ; see Notes).
    Delta_c : float, default 5.0
        ``Δc = ω_ℓ2 − ω_c`` (Hamiltonian ``−Δc a†a``).
    Delta2, Delta3 : float, default 5.0, -1.0
        Pump detunings ``Δ_i = ω_ℓi − ω_i`` of the narrow and broad transition.
    Omega2, Omega3 : float, default 0.5, 0.5
        Pump Rabi frequencies, ``Ω_i (σ_i1 + σ_1i)``.
    Gamma2, Gamma3 : float, default 1/4266, 1.0
        Spontaneous decay rates of levels 2 and 3 into 1 (``Γ_3/Γ_2 = 4266``
        of ⁸⁸Sr; the defaults are in units of Γ_3).
    nu2, nu3 : float, default 0.0
        Pump linewidths (collective dephasing rates).

    Returns
    -------
    model : Model
        Parameter names ``Delta_c``, ``g``, ``kappa``, ``Delta2``, ``Delta3``,
        ``Omega2``, ``Omega3``, ``Gamma2``, ``Gamma3``, ``nu2``, ``nu3`` (the
        keywords above; change them with ``model.with_values``).
    ops : dict
        ``"photon_number"`` (``a†a``), ``"field"`` (``a``), ``"S1"``,
        ``"S2"``, ``"S3"`` (``S_i = Σ_j σ^j_ii``, populations summed over the
        atoms), ``"inversion"`` (``S_2 − S_1``, of the lasing transition) and
        ``"coherence"`` (``Σ_j σ^j_12``, the narrow-line polarisation).

    Notes
    -----
    **κ D[a] versus the paper's 2κ.**  Its eq. (6) reads
    ``κ(2aρa† − a†aρ − ρa†a) = 2κ D[a]``, in line with "photons leaking … at
    a rate 2κ" (Sec. III) and "FWHM ≈ cavity linewidth 2κ" (Sec. III B); but
    the paper's Appendix B/C equations, ``d⟨a†a⟩/dt = −κ⟨a†a⟩ + …``,
    ``d⟨a⟩/dt = … − ½(κ + ν_2)⟨a⟩``, correspond to ``κ D[a]`` (FWHM κ).  This
    model uses ``κ D[a]`` (Appendix C); to reproduce eq. (6) literally pass
    ``2κ``.

    The default parameters are the paper's pump point (``Δ_2 = 5``,
    ``Δ_3 = −1``, ``Ω_2 = Ω_3 = 0.5`` in units of Γ_3, where a free atom has
    inversion 0.678) with a cavity resonant with the bare narrow line
    (``Δc = Δ_2``), ``g = 0.01 ≈ 43 Γ_2`` and ``κ = 0.0025 ≈ 11 Γ_2``: a
    small-N regime, strongly cavity-coupled already for a few atoms
    (``⟨a†a⟩ ≈ 0.2 N`` for N = 1 … 3), where the exact methods reach
    (``method="full"``, ``nphot`` ≈ 10).  The paper's many-atom lasing regime
    is, e.g., ``N = 2000, Delta_c=0, g=0.002, kappa=0.05`` with
    ``method="cumulant"``.  The pumps break the excitation-number symmetry
    (``model.symmetry == "none"``).

    Examples
    --------
    One atom, exactly (the cavity holds ≈ 0.2 photons, the narrow line is
    inverted less than in free space, ``⟨σ_22⟩ − ⟨σ_11⟩ = 0.166 < 0.678``):

    >>> import qutip_superrad as qsr
    >>> model, ops = vlevel_laser(1)
    >>> model.symmetry
    'none'
    >>> res = qsr.steadystate(model, "full", e_ops=ops, nphot=8)
    >>> round(res.values["photon_number"], 4), round(res.values["inversion"], 3)
    (0.2012, 0.166)
    """
    from .models.vlevel import _description
    return _description(N, dict(Delta_c=Delta_c, g=g, kappa=kappa, Delta2=Delta2, Delta3=Delta3,
                                Omega2=Omega2, Omega3=Omega3, Gamma2=Gamma2, Gamma3=Gamma3,
                                nu2=nu2, nu3=nu3))
