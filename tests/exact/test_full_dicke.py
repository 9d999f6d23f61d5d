"""The two exact solvers against each other and against plain QuTiP.

``method="dicke"`` (permutation-invariant weighted Dicke elements, written
from Clebsch–Gordan coefficients) and ``method="full"`` (QuTiP's tensor-space
Liouvillian, restricted to the U(1) sector k = 0) share no model code: they
must agree to rounding at the *same* photon truncation, for every process of
the master equation.  The full method is in turn checked against
``qutip.steadystate`` / ``qutip.mesolve`` on the complete (unrestricted)
superoperator, for an inhomogeneous ensemble that the Dicke basis cannot
describe.

Comparisons are exact-vs-exact at the same ``nphot``, so truncation is
irrelevant here: ``truncation_tol=1`` silences the truncation check.
"""

import numpy as np
import pytest
import qutip

import qutip_superrad as qsr

import laser_reference as ref

# Both methods solve a well-conditioned sparse linear system in double precision
# (condition ~ rates ratio 1e2 × dimension): 1e-8 leaves ~6 orders of margin over
# the observed ~1e-14 differences and still catches any wrong matrix element.
RTOL = 1e-8
NPHOT = 5


def rel(a, b):
    """Max-norm relative difference (absolute when ``b`` vanishes identically)."""
    a, b = np.asarray(a, complex), np.asarray(b, complex)
    scale = np.max(np.abs(b)) if b.size else 0.0
    diff = np.max(np.abs(a - b)) if b.size else 0.0
    return diff / scale if scale > 0 else diff


def make(N, params):
    ens, rates = ref.split(params)
    return qsr.SuperradiantLaser(qsr.Ensemble.identical(N, **ens), **rates)


def assert_physical(ss):
    # a density matrix: unit trace (1e-12: sum of O(dim) rounded numbers),
    # Hermitian to rounding, and positive up to the residual of the solve.
    assert abs(ss.checks["trace"] - 1) < 1e-12
    assert ss.checks["hermiticity"] <= 1e-12
    assert ss.checks["min_eigenvalue"] >= -1e-10
    assert ss.checks["residual"] < 1e-12


@pytest.mark.parametrize("regime", sorted(ref.REGIMES))
@pytest.mark.parametrize("N", [1, 2, 3, 4, 5])
def test_dicke_equals_full(N, regime):
    laser = make(N, ref.REGIMES[regime])
    d = laser.steadystate("dicke", nphot=NPHOT, truncation_tol=1.0)
    f = laser.steadystate("full", nphot=NPHOT, truncation_tol=1.0)
    assert_physical(d)
    assert_physical(f)
    assert rel(d.photon_number, f.photon_number) <= RTOL
    assert rel(d.photon_flux, f.photon_flux) <= RTOL
    assert rel(d.excited_population, f.excited_population) <= RTOL
    assert rel(d.pair_correlation, f.pair_correlation) <= RTOL
    assert rel(d.g2, f.g2) <= RTOL
    assert rel(d.photon_distribution, f.photon_distribution) <= RTOL
    assert d.photon_distribution.shape == (NPHOT,)
    # non-trivial regime: light in the mode and, for N > 1, atom–atom coherence
    assert d.photon_number > 0.05
    if N > 1:
        assert abs(d.pair_correlation[0, 0]) > 1e-3
    else:
        assert d.pair_correlation[0, 0] == 0   # no distinct pair for a single atom


def test_hand_built_liouvillian_n2():
    # an independent numpy.kron Liouvillian (atomic basis order reversed with
    # respect to QuTiP) for every process at once; dense solve, 1e-10.
    params = ref.DEPHASED_DETUNED
    rho, ops = ref.hand_built_laser(2, 4, **params)
    n = np.trace(ops["a"].conj().T @ ops["a"] @ rho).real
    p = np.trace(ops["sm"][0].conj().T @ ops["sm"][0] @ rho).real
    pair = np.trace(ops["sm"][0].conj().T @ ops["sm"][1] @ rho)
    for method in ("dicke", "full"):
        ss = make(2, params).steadystate(method, nphot=4, truncation_tol=1.0)
        assert rel(ss.photon_number, n) < 1e-10
        assert rel(ss.excited_population[0], p) < 1e-10
        assert rel(ss.pair_correlation[0, 0], pair) < 1e-10


def inhomogeneous_laser():
    ens = qsr.Ensemble.atoms(**ref.INHOMOGENEOUS_ATOMS)
    return qsr.SuperradiantLaser(ens, **ref.INHOMOGENEOUS_RATES)


def test_full_inhomogeneous_vs_qutip_steadystate():
    laser = inhomogeneous_laser()
    nphot = 5
    ss = laser.steadystate("full", nphot=nphot, truncation_tol=1.0)
    assert_physical(ss)
    # reference: qutip.steadystate on the complete superoperator (all sectors)
    rho = qutip.steadystate(laser.hamiltonian(nphot), laser.c_ops(nphot))
    # direct LU of a (dim²)-matrix, double precision: 1e-8 relative
    assert (ss.state - rho).norm("max") <= RTOL * rho.norm("max")
    a = qutip.tensor([qutip.destroy(nphot)] + [qutip.qeye(2)] * 3)
    sm = [qutip.tensor([qutip.qeye(nphot)] + [qutip.sigmam() if k == i else qutip.qeye(2)
                                             for k in range(3)]) for i in range(3)]
    assert rel(ss.photon_number, qutip.expect(a.dag() * a, rho)) <= RTOL
    pops = [qutip.expect(s.dag() * s, rho) for s in sm]
    assert rel(ss.excited_population, pops) <= RTOL
    # three one-atom clusters: off-diagonal cluster pairs are atom pairs, diagonal is 0
    pair = np.array([[0 if i == l else qutip.expect(sm[i].dag() * sm[l], rho) for l in range(3)]
                     for i in range(3)])
    assert rel(ss.pair_correlation, pair) <= RTOL
    assert np.allclose(np.diag(ss.pair_correlation), 0)
    # distinct detunings: the pair correlations are genuinely complex
    assert np.max(np.abs(pair.imag)) > 1e-4


def test_full_cluster_average_vs_qutip():
    # two clusters of 2 and 1 atoms: per-cluster averages of the per-atom values
    ens = qsr.Ensemble([2, 1], detunings=[0.0, 0.4], couplings=[1.0, 0.8])
    laser = qsr.SuperradiantLaser(ens, kappa=2.0, emission=0.1, pumping=1.0, dephasing=0.1)
    nphot = 4
    ss = laser.steadystate("full", nphot=nphot, truncation_tol=1.0)
    rho = qutip.steadystate(laser.hamiltonian(nphot), laser.c_ops(nphot))
    sm = [qutip.tensor([qutip.qeye(nphot)] + [qutip.sigmam() if k == i else qutip.qeye(2)
                                             for k in range(3)]) for i in range(3)]
    e = lambda i, l: qutip.expect(sm[i].dag() * sm[l], rho)
    assert rel(ss.excited_population, [0.5 * (e(0, 0) + e(1, 1)), e(2, 2)]) <= RTOL
    expected = np.array([[e(0, 1), 0.5 * (e(0, 2) + e(1, 2))],
                         [0.5 * (e(2, 0) + e(2, 1)), 0]])
    assert rel(ss.pair_correlation, expected) <= RTOL


@pytest.mark.parametrize("regime", ["plain", "dephased_detuned"])
def test_evolve_dicke_full_mesolve(regime):
    N, nphot = 3, 4
    laser = make(N, ref.REGIMES[regime])
    tlist = np.linspace(0, 2.0, 9)
    d = laser.evolve(tlist, "dicke", nphot=nphot)
    f = laser.evolve(tlist, "full", nphot=nphot)
    H, c_ops = laser.hamiltonian(nphot), laser.c_ops(nphot)
    rho0 = qutip.tensor([qutip.fock_dm(nphot, 0)] + [qutip.fock_dm(2, 1)] * N)  # vacuum, all |g⟩
    a = qutip.tensor([qutip.destroy(nphot)] + [qutip.qeye(2)] * N)
    sm0 = qutip.tensor([qutip.qeye(nphot), qutip.sigmam()] + [qutip.qeye(2)] * (N - 1))
    sm1 = qutip.tensor([qutip.qeye(nphot), qutip.qeye(2), qutip.sigmam()] + [qutip.qeye(2)] * (N - 2))
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=[a.dag() * a, sm0.dag() * sm0, sm0.dag() * sm1],
                       options={"atol": 1e-12, "rtol": 1e-10})
    # expm_multiply (both methods) vs an adaptive ODE integrator at rtol 1e-10:
    # 1e-6 absolute on O(1) observables is far above either error.
    for res in (d, f):
        assert np.max(np.abs(res.photon_number - me.expect[0])) < 1e-6
        assert np.max(np.abs(res.excited_population[:, 0] - me.expect[1])) < 1e-6
        assert np.max(np.abs(res.pair_correlation[:, 0, 0] - me.expect[2])) < 1e-6
    # exact vs exact: same propagator, 1e-10
    assert np.max(np.abs(d.photon_number - f.photon_number)) < 1e-10
    assert np.max(np.abs(d.excited_population - f.excited_population)) < 1e-10
    assert np.max(np.abs(d.pair_correlation - f.pair_correlation)) < 1e-10
    # starts in the ground state and actually evolves
    assert d.photon_number[0] == 0 and d.excited_population[0, 0] == 0
    assert d.excited_population[-1, 0] > 0.3


def test_evolve_full_inhomogeneous_vs_mesolve():
    laser = inhomogeneous_laser()
    nphot = 4
    tlist = np.linspace(0, 1.5, 7)
    f = laser.evolve(tlist, "full", nphot=nphot)
    rho0 = qutip.tensor([qutip.fock_dm(nphot, 0)] + [qutip.fock_dm(2, 1)] * 3)
    sm = [qutip.tensor([qutip.qeye(nphot)] + [qutip.sigmam() if k == i else qutip.qeye(2)
                                             for k in range(3)]) for i in range(3)]
    me = qutip.mesolve(laser.hamiltonian(nphot), rho0, tlist, laser.c_ops(nphot),
                       e_ops=[s.dag() * s for s in sm] + [sm[0].dag() * sm[2]],
                       options={"atol": 1e-12, "rtol": 1e-10})
    for i in range(3):
        assert np.max(np.abs(f.excited_population[:, i] - me.expect[i])) < 1e-6
    assert np.max(np.abs(f.pair_correlation[:, 0, 2] - me.expect[3])) < 1e-6


def test_evolve_from_steady_state_is_stationary():
    # the steady state is a fixed point of the propagator (1e-10: residual ~1e-15)
    laser = make(3, ref.PLAIN)
    for method in ("dicke", "full"):
        ss = laser.steadystate(method, nphot=4, truncation_tol=1.0)
        ev = laser.evolve([0.0, 1.0, 5.0], method, nphot=4, initial=ss.state)
        assert np.max(np.abs(ev.photon_number - ss.photon_number)) < 1e-10
        assert np.max(np.abs(ev.excited_population - ss.excited_population)) < 1e-10


def test_liouvillian_sector_matches_full_superoperator():
    # the k = 0 sector of method="full" is a sub-block of qutip.liouvillian, and
    # the Dicke sector has the same steady state (cross-checked above); here: the
    # full-space Liouvillian equals qutip.liouvillian(H, c_ops) exactly.
    laser = make(2, ref.DEPHASED_DETUNED)
    L = laser.liouvillian("full", nphot=3)
    L_ref = qutip.liouvillian(laser.hamiltonian(3), laser.c_ops(3))
    assert (L - L_ref).norm("max") == 0
    Ld = laser.liouvillian("dicke", nphot=3)
    # trace preservation of the weighted Dicke representation: population
    # columns sum to zero when restricted to the diagonal rows (1e-12)
    ss = laser.steadystate("dicke", nphot=3, truncation_tol=1.0)
    w = ss.state.space.diagonal.astype(float)
    assert np.max(np.abs(w @ Ld.full())) < 1e-12


@pytest.mark.parametrize("N", [2, 3])
def test_evolve_bad_cavity_vs_mesolve(N):
    # bad-cavity model (no mode) in the Dicke basis vs qutip.mesolve on 2^N spins
    p = dict(collective_emission=0.3, emission=0.1, pumping=1.0, dephasing=0.2)
    H, c_ops, sm = ref.bad_cavity_tensor(N, detuning=0.4, collective_shift=0.25, **p)
    tlist = np.linspace(0, 3.0, 7)
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(N, detuning=0.4), collective_shift=0.25, **p)
    ev = bc.evolve(tlist)
    rho0 = qutip.tensor([qutip.fock_dm(2, 1)] * N)
    me = qutip.mesolve(H, rho0, tlist, c_ops, e_ops=[sm[0].dag() * sm[0], sm[0].dag() * sm[1]],
                       options={"atol": 1e-12, "rtol": 1e-10})
    # ODE integrator at rtol 1e-10 vs expm_multiply: 1e-8 absolute
    assert np.max(np.abs(ev.excited_population[:, 0] - me.expect[0])) < 1e-8
    assert np.max(np.abs(ev.pair_correlation[:, 0, 0] - me.expect[1])) < 1e-8
    # no κ given: the intracavity estimate flux/κ is undefined
    assert np.all(np.isnan(ev.photon_number))
