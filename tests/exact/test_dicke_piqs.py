"""The Dicke-basis solver against an independent construction with ``qutip.piqs``.

PIQS (Shammah et al. 2018) builds the permutation-invariant Lindbladian of
local and collective processes in the Dicke basis from its own formulas.
Conventions checked here:

* ``piqs.Dicke(N, emission=Γ, pumping=R, dephasing=γφ, collective_emission=Γc)``
  with local dephasing ``(γφ/4)D[σz] = γφ D[σ⁺σ⁻]`` (``σz = 2σ⁺σ⁻ − 1``), so
  ``dephasing = ν``.
* A PIQS density matrix holds the degeneracy-weighted block elements (the
  same convention as :class:`qutip_superrad.exact.dicke.DickeSpace`):
  ``Tr ρ = Σ_i ρ_ii``.
* The PIQS Liouvillian acts on all ``nds²`` elements but only the
  block-diagonal ones (``piqs.block_matrix``) are meaningful; outside them its
  rows are zero, which makes ``qutip.steadystate`` fail ("Matrix is singular").
  We therefore restrict it to the block-diagonal support (it does not couple
  into the rest) and append the trace row, then solve by least squares.

PIQS evaluates its coefficients in single precision, so agreement is expected
at ~1e-7 relative; the tolerance is 1e-5 (relative).
"""

import numpy as np
import pytest
import qutip
from qutip import piqs

import qutip_superrad as qsr

import laser_reference as ref

PIQS_RTOL = 1e-5


def steady_on_support(L, mask):
    """Steady state of the dense superoperator ``L`` (column-stacked vec) on ``mask``.

    Returns the full vector (zeros outside the support) and the largest
    element of ``L`` leading from the support out of it.
    """
    mask = np.asarray(mask, bool)
    idx = np.flatnonzero(mask)
    leak = np.max(np.abs(L[np.ix_(np.flatnonzero(~mask), idx)]), initial=0.0)
    A = L[np.ix_(idx, idx)]
    d = int(round(np.sqrt(L.shape[0])))
    trace = np.eye(d).ravel(order="F")[idx]
    M = np.vstack([A, trace])
    b = np.zeros(idx.size + 1, complex)
    b[-1] = 1
    x = np.linalg.lstsq(M, b, rcond=None)[0]
    out = np.zeros(L.shape[0], complex)
    out[idx] = x
    return out, leak


@pytest.mark.parametrize("N", [4, 5, 6, 7, 8, 9, 10])
def test_bad_cavity_vs_piqs(N):
    p = ref.BAD_CAVITY
    system = piqs.Dicke(N, emission=p["gamma"], pumping=p["pump"], dephasing=p["atom_dephasing"],
                        collective_emission=p["collective_decay"])
    L = system.liouvillian().full()
    nds = piqs.num_dicke_states(N)
    mask = piqs.block_matrix(N).toarray().ravel(order="F") != 0
    x, leak = steady_on_support(L, mask)
    assert leak == 0          # block-diagonal support is invariant
    rho = qutip.Qobj(x.reshape(nds, nds, order="F"))
    jz, jp, jm = (piqs.jspin(N, op) for op in ("z", "+", "-"))
    jz_piqs = qutip.expect(jz, rho)
    jpjm_piqs = qutip.expect(jp * jm, rho)
    g2_piqs = qutip.expect(jp * jp * jm * jm, rho) / jpjm_piqs ** 2

    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(N), **p)
    ss = bc.steadystate("dicke")
    jz_ours = N * (ss.excited_population[0] - 0.5)
    jpjm_ours = ss.photon_flux / p["collective_decay"]
    # ⟨J⁺J⁻⟩ also from the populations and pair correlation: N p + N(N−1)⟨σ⁺σ⁻'⟩
    jpjm_pairs = N * ss.excited_population[0] + N * (N - 1) * ss.pair_correlation[0, 0].real
    assert abs(jz_ours - jz_piqs) <= PIQS_RTOL * abs(jz_piqs)
    assert abs(jpjm_ours - jpjm_piqs) <= PIQS_RTOL * abs(jpjm_piqs)
    assert abs(ss.g2 - g2_piqs) <= PIQS_RTOL * g2_piqs
    assert abs(jpjm_pairs - jpjm_ours) <= 1e-12 * jpjm_ours
    # collective effects are present: ⟨J⁺J⁻⟩ differs from the independent value N p
    assert ss.pair_correlation[0, 0].real > 1e-3


def cavity_piqs_steady_state(N, nphot, params):
    """Steady state of mode ⊗ (PIQS spins), restricted to the block-diagonal spin support."""
    ens, r = ref.split(params)
    g, D = ens["g"], ens["detuning"]
    nds = piqs.num_dicke_states(N)
    spin = piqs.Dicke(N, emission=r["gamma"], pumping=r["pump"], dephasing=r["atom_dephasing"])
    Ls = spin.lindbladian()
    Ls = qutip.Qobj(Ls.full(), dims=[[[nds], [nds]], [[nds], [nds]]], superrep="super")
    jz, jp, jm = (qutip.Qobj(piqs.jspin(N, op, basis="dicke").full()) for op in ("z", "+", "-"))
    Is, Ia, a = qutip.qeye(nds), qutip.qeye(nphot), qutip.destroy(nphot)
    A = qutip.tensor(a, Is)
    H = (r["cavity_detuning"] * A.dag() * A - D * qutip.tensor(Ia, jz + 0.5 * N * Is)
         + g * (qutip.tensor(a, jp) + qutip.tensor(a.dag(), jm)))
    L_mode = qutip.liouvillian(H, [np.sqrt(r["kappa"]) * A,
                                   np.sqrt(r["cavity_dephasing"]) * A.dag() * A])
    L = (L_mode + qutip.super_tensor(qutip.to_super(Ia), Ls)).full()
    blocks = piqs.block_matrix(N).toarray() != 0
    mask = np.kron(np.ones((nphot, nphot)), blocks).ravel(order="F") != 0
    x, leak = steady_on_support(L, mask)
    rho = qutip.Qobj(x.reshape(nphot * nds, nphot * nds, order="F"), dims=[[nphot, nds]] * 2)
    return {"n": qutip.expect(A.dag() * A, rho), "jz": qutip.expect(qutip.tensor(Ia, jz), rho),
            "jpjm": qutip.expect(qutip.tensor(Ia, jp * jm), rho),
            "pn": np.real(rho.ptrace(0).diag()), "leak": leak}


@pytest.mark.parametrize("N,nphot", [(2, 5), (3, 5), (4, 4)])
def test_cavity_vs_piqs_tensor_mode(N, nphot):
    params = ref.PIQS_CAVITY
    piq = cavity_piqs_steady_state(N, nphot, params)
    assert piq["leak"] == 0
    ens, rates = ref.split(params)
    ss = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, **ens), **rates).steadystate(
        "dicke", nphot=nphot, truncation_tol=1.0)
    p = ss.excited_population[0]
    jpjm = N * p + N * (N - 1) * ss.pair_correlation[0, 0].real
    assert abs(ss.photon_number - piq["n"]) <= PIQS_RTOL * piq["n"]
    assert abs(N * (p - 0.5) - piq["jz"]) <= PIQS_RTOL * abs(piq["jz"])
    assert abs(jpjm - piq["jpjm"]) <= PIQS_RTOL * piq["jpjm"]
    assert np.max(np.abs(ss.photon_distribution - piq["pn"])) <= PIQS_RTOL * np.max(piq["pn"])
