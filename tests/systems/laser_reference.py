"""Reference models, parameter sets and hand-derived values for the superradiant laser.

Used by ``tests/exact/*`` (exact solvers) and ``tests/test_bad_input.py``.
Everything here is independent of ``qutip_superrad``: plain dicts of rates,
closed forms derived by hand and a Liouvillian assembled with ``numpy.kron``.

Master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    H = δ_c a†a − Σ_i Δ σ⁺_iσ⁻_i + Σ_i g (a σ⁺_i + a† σ⁻_i)
    dρ/dt = −i[H, ρ] + κD[a]ρ + ξD[a†a]ρ + Σ_i (ΓD[σ⁻_i] + RD[σ⁺_i] + νD[σ⁺_iσ⁻_i])ρ

Keyword names follow :class:`qutip_superrad.SuperradiantLaser` (after qutip.piqs):
``kappa = κ``, ``emission = Γ``, ``pumping = R``, ``dephasing = ν`` (of ``νD[σ⁺σ⁻]``),
``collective_emission = Γ_c``, ``cavity_dephasing = ξ``, ``cavity_detuning = δ_c``;
the ensemble entries ``g`` and ``detuning = Δ`` go to :meth:`Ensemble.identical`.
The regime dicts still answer to the former key names (``gamma``, ``pump``,
``atom_dephasing``, ``collective_decay``) on lookup, for tests not migrated yet.

Derivations
-----------
* Energy balance (any N, any truncation of the mode).  The excitation number
  ``n + Σ_i σ⁺_iσ⁻_i`` commutes with ``H`` (also with a truncated ``a``:
  ``[a, a†a] = a`` holds for the truncated matrices), ``ξD[a†a]`` and
  ``νD[σ⁺σ⁻]`` do not change it, so ``d/dt⟨n + Σσ⁺σ⁻⟩ = −κ⟨n⟩ + Σ_i [R(1−p_i) − Γp_i]``
  and in the steady state ``κ⟨a†a⟩ = Σ_i [R(1 − p_i) − Γ p_i]``.
* Independent atoms (``g = 0`` or ``Γ_c = 0``): every atom relaxes to
  ``p = R/(R+Γ)``; the state is a product, so ``⟨J_z⟩ = (N/2)(R−Γ)/(R+Γ)`` and
  ``⟨σ⁺_iσ⁻_l⟩ = 0`` for ``i ≠ l``.
* One atom, bad cavity: ``J⁻ = σ⁻`` so the decay rate is ``Γ + Γ_c`` and
  ``p = R/(R + Γ + Γ_c)``.  The coherence ``⟨σ⁻⟩`` decays at
  ``(Γ + R + Γ_c + ν)/2`` and rotates as ``e^{iΔτ}`` (``H = −Δσ⁺σ⁻ − χσ⁺σ⁻``),
  so ``⟨σ⁺(τ)σ⁻(0)⟩ = p e^{−i(Δ+χ)τ − Γ_tot τ/2}`` with
  ``Γ_tot = Γ + R + Γ_c + ν`` and ``S(ω) = 2Re∫₀^∞ e^{−iωτ}(…)dτ
  = p Γ_tot / ((ω + Δ + χ)² + Γ_tot²/4)``: a Lorentzian of FWHM ``Γ_tot``
  centred at ``ω = −(Δ + χ)``.
* Bad-cavity limit: eliminating the mode for ``κ ≫ g√N`` gives ``Γ_c = 4g²/κ``;
  corrections are of relative order ``(g√N/κ)²`` and ``(Γ, R, ν)/κ``.
"""
import numpy as np

#: former key names -> current ones
_FORMER = {"gamma": "emission", "pump": "pumping", "atom_dephasing": "dephasing",
           "collective_decay": "collective_emission"}


class Rates(dict):
    """A dict of rates under the current names that also answers to the former ones.

    ``rates["gamma"]`` returns ``rates["emission"]``; iteration and ``**rates``
    give the current names only.
    """

    def __missing__(self, key):
        if key in _FORMER and _FORMER[key] in self:
            return self[_FORMER[key]]
        raise KeyError(key)


# -- named regimes -----------------------------------------------------------
#: Laser with moderate pumping: ⟨a†a⟩ ~ 0.1 … 1 for N = 1 … 5 (nphot ≈ 5 suffices
#: for an exact-vs-exact comparison at the same truncation).
PLAIN = Rates(g=1.0, detuning=0.0, kappa=3.0, emission=0.1, pumping=1.5)

#: Every optional process switched on: atom and cavity dephasing, detuned atoms
#: and detuned cavity (tests all the terms of the master equation at once).
DEPHASED_DETUNED = Rates(g=1.0, detuning=0.35, kappa=3.0, emission=0.1, pumping=1.5,
                         dephasing=0.4, cavity_dephasing=0.25, cavity_detuning=-0.2)

#: Strong pump R ≫ g: the atoms are saturated and the collective coherence is
#: destroyed by pump noise (the lasing threshold is crossed the other way).
STRONG_PUMP = Rates(g=1.0, detuning=0.0, kappa=3.0, emission=0.1, pumping=12.0)

#: Strongly coupled, lasing with several photons (needs a larger nphot).
LASING = Rates(g=1.0, detuning=0.0, kappa=1.0, emission=0.05, pumping=2.0)

REGIMES = {"plain": PLAIN, "dephased_detuned": DEPHASED_DETUNED, "strong_pump": STRONG_PUMP}

#: Inhomogeneous ensemble for the full-space solver: distinct detunings and couplings.
INHOMOGENEOUS_ATOMS = dict(detunings=[0.0, 0.3, -0.5], couplings=[1.0, 0.7, 1.2])
INHOMOGENEOUS_RATES = Rates(kappa=2.0, emission=0.1, pumping=1.2, dephasing=0.2,
                            cavity_dephasing=0.1, cavity_detuning=0.15)

#: Bad-cavity (spins only) rates for the PIQS comparison.
BAD_CAVITY = Rates(collective_emission=0.3, emission=0.1, pumping=1.0, dephasing=0.2)

#: Cavity model for the PIQS ⊗ mode comparison.
PIQS_CAVITY = Rates(g=1.0, detuning=0.2, kappa=3.0, emission=0.1, pumping=1.5,
                    dephasing=0.2, cavity_dephasing=0.1, cavity_detuning=0.3)


def split(params):
    """Split a regime dict into ``(ensemble kwargs, laser kwargs)``."""
    ens = {k: params[k] for k in ("g", "detuning") if k in params}
    rates = Rates({k: v for k, v in params.items() if k not in ("g", "detuning")})
    return ens, rates


# -- closed forms ----------------------------------------------------------------
def independent_jz(N, emission, pumping):
    """``⟨J_z⟩ = (N/2)(R−Γ)/(R+Γ)`` of N independent atoms."""
    return 0.5 * N * (pumping - emission) / (pumping + emission)


def one_atom_bad_cavity_population(emission, pumping, collective_emission):
    """``p = R/(R + Γ + Γ_c)`` of one atom with collective decay."""
    return pumping / (pumping + emission + collective_emission)


def one_atom_lorentzian(omega, emission, pumping, collective_emission, dephasing=0.0,
                        detuning=0.0, collective_shift=0.0):
    """Exact spectrum of one atom in the bad-cavity model (see module docstring)."""
    p = one_atom_bad_cavity_population(emission, pumping, collective_emission)
    G = emission + pumping + collective_emission + dephasing
    omega = np.asarray(omega, float)
    return p * G / ((omega + detuning + collective_shift) ** 2 + G ** 2 / 4)


# -- an independent Liouvillian (numpy only) ---------------------------------------
def kron_all(ops):
    out = np.ones((1, 1), complex)
    for op in ops:
        out = np.kron(out, op)
    return out


def hand_built_laser(N, nphot, g, kappa, emission, pumping, detuning=0.0, dephasing=0.0,
                     cavity_dephasing=0.0, cavity_detuning=0.0):
    """Steady state of the laser from a Liouvillian assembled with ``numpy.kron``.

    Basis: mode ⊗ atom_1 ⊗ … ⊗ atom_N with the atomic basis ``(|g⟩, |e⟩)``
    (the *opposite* order to QuTiP's, on purpose: nothing is shared with the
    package).  Row-major vectorisation ``vec(AρB) = (A ⊗ Bᵀ) vec(ρ)``.

    Returns
    -------
    rho : ndarray, the steady-state density matrix
    ops : dict of ndarray, ``a`` and ``sm`` (list) in that basis
    """
    a1 = np.diag(np.sqrt(np.arange(1, nphot)), 1).astype(complex)
    sm1 = np.array([[0, 1], [0, 0]], complex)        # |g⟩⟨e| with |g⟩ = index 0
    I2, Ip = np.eye(2), np.eye(nphot)
    a = kron_all([a1] + [I2] * N)
    sm = [kron_all([Ip] + [sm1 if k == i else I2 for k in range(N)]) for i in range(N)]
    H = cavity_detuning * a.conj().T @ a
    for s in sm:
        sp_ = s.conj().T
        H = H - detuning * sp_ @ s + g * (a @ sp_ + a.conj().T @ s)
    cs = [np.sqrt(kappa) * a, np.sqrt(cavity_dephasing) * a.conj().T @ a]
    for s in sm:
        cs += [np.sqrt(emission) * s, np.sqrt(pumping) * s.conj().T, np.sqrt(dephasing) * s.conj().T @ s]
    d = H.shape[0]
    Id = np.eye(d)
    L = -1j * (np.kron(H, Id) - np.kron(Id, H.T))
    for c in cs:
        cd = c.conj().T @ c
        L += np.kron(c, c.conj()) - 0.5 * np.kron(cd, Id) - 0.5 * np.kron(Id, cd.T)
    # replace one equation by the trace condition
    A = L.copy()
    A[0, :] = np.eye(d).ravel()
    b = np.zeros(d * d, complex)
    b[0] = 1
    rho = np.linalg.solve(A, b).reshape(d, d)
    return rho, {"a": a, "sm": sm}


def bad_cavity_tensor(N, collective_emission, emission, pumping, dephasing=0.0, detuning=0.0,
                      collective_shift=0.0):
    """Bad-cavity model of N spins in the full ``2^N`` space with plain QuTiP.

    Returns ``(H, c_ops, sm)`` with ``H = −Δ Σσ⁺σ⁻ − χ J⁺J⁻`` and the collapse
    operators ``√Γ_c J⁻``, ``√Γ σ⁻_i``, ``√R σ⁺_i``, ``√ν σ⁺_iσ⁻_i``.
    """
    import qutip
    sm = [qutip.tensor([qutip.sigmam() if k == i else qutip.qeye(2) for k in range(N)])
          for i in range(N)]
    Jm = sum(sm[1:], sm[0])
    Jp = Jm.dag()
    H = -detuning * sum((s.dag() * s for s in sm[1:]), sm[0].dag() * sm[0]) - collective_shift * Jp * Jm
    c_ops = [np.sqrt(collective_emission) * Jm]
    c_ops += [np.sqrt(emission) * s for s in sm] + [np.sqrt(pumping) * s.dag() for s in sm]
    c_ops += [np.sqrt(dephasing) * s.dag() * s for s in sm]
    return H, c_ops, sm


def qrt_spectrum_dense(H, c_ops, a, omega):
    """``S(ω) = 2Re Tr[a† (iω − L)⁻¹ (aρ_ss)]`` by dense solves on the full superoperator.

    ``omega`` must avoid ω = 0 exactly when ``L`` has a stationary eigenvalue there
    (``(iω − L)`` is then singular even though ``aρ_ss`` has no component on it).
    """
    import qutip
    L = qutip.liouvillian(H, c_ops).full()
    rho = qutip.steadystate(H, c_ops)
    v = qutip.operator_to_vector(a * rho).full().ravel()
    # Tr(a† X) = vec(a)^† vec(X)
    w = qutip.operator_to_vector(a).full().ravel().conj()
    eye = np.eye(L.shape[0])
    return np.array([2 * np.real(w @ np.linalg.solve(1j * x * eye - L, v)) for x in omega])
