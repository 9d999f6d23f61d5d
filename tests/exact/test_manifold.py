"""Exact symmetric-manifold solver (seed 003, App. C, E) against independent references.

References: exact rational sums of the Boltzmann weights, the closed-form
spectrum at ``w = γ`` (``−γ[l(l+1) − k²]``, derived in
``tests/systems/collective_pumping_reference.py``), QuTiP's own
``jmat``/``liouvillian``/``steadystate``/``mesolve`` and dense ``numpy``
diagonalisation of the full ``(N+1)²`` Liouvillian.
"""
from fractions import Fraction

import numpy as np
import pytest
import qutip

from qutip_superrad.exact import manifold as mf

import collective_pumping_reference as ref


def test_spin_operators_match_jmat():
    # our double-precision construction equals qutip.jmat exactly (same ordering)
    for N in (1, 2, 5, 10):
        jm, jp, jz = mf.spin_operators(N)
        assert (jm - qutip.jmat(N / 2, "-")).norm() < 1e-13
        assert (jp - qutip.jmat(N / 2, "+")).norm() < 1e-13
        assert (jz - qutip.jmat(N / 2, "z")).norm() < 1e-13


def test_population_sector_is_a_rate_matrix():
    L0 = mf.sector_liouvillian(7, 1.3, 0.4, 0).toarray()
    # columns sum to zero (trace preservation) and off-diagonals are rates >= 0
    assert np.allclose(L0.sum(axis=0), 0, atol=1e-12)
    off = L0 - np.diag(np.diag(L0))
    assert np.all(off >= 0)


@pytest.mark.parametrize("w", [0.0, 0.3, 1.0, 2.5])
def test_sectors_reproduce_full_liouvillian(w):
    # Union of all sector spectra (k and −k) == spectrum of the full (N+1)^2
    # Liouvillian built by qutip.liouvillian; dense eig is accurate to ~1e-12
    # at these sizes (tolerance 1e-9 relative to the largest rate ~N^2).
    N, gamma = 6, 1.0
    L = mf.manifold_liouvillian(N, gamma, w).full()
    full = np.sort(np.linalg.eigvals(L).real)
    assert np.max(np.abs(np.linalg.eigvals(L).imag)) < 1e-9     # spectrum is real
    spec = mf.liouvillian_spectrum(N, gamma, w)
    secs = np.sort(np.concatenate([np.repeat(v, 1 if k == 0 else 2) for k, v in spec.items()]))
    assert np.max(np.abs(full - secs)) < 1e-9 * N ** 2

    # each sector block equals the corresponding entries of the full Liouvillian
    # (QuTiP column-stacking, descending m)
    n = N + 1
    for k in (0, 1, 3):
        Lk = mf.sector_liouvillian(N, gamma, w, k).toarray()
        # ascending m index i <-> QuTiP index n-1-i
        idx = [(n - 1 - i) + (n - 1 - (i + k)) * n for i in range(n - k)]
        assert np.allclose(L[np.ix_(idx, idx)].real, Lk, atol=1e-12)


@pytest.mark.parametrize("N", [1, 4, 50, 300])
def test_spectrum_at_transition_closed_form(N):
    # at w = γ the eigenvalues are −γ[l(l+1) − k²]; tridiagonal LAPACK error is
    # ~eps·N² in absolute terms: tolerance 1e-9·N².
    for k in sorted({0, 1, min(2, N), N // 2, N}):
        ev = mf.sector_spectrum(N, 1.0, 1.0, k)
        assert np.allclose(ev, ref.sector_spectrum_at_transition(N, k), atol=1e-9 * N ** 2)


def test_gaps_at_transition():
    # App. C: Diag(0) gap 2γ, smallest gap of all other sectors γ in Diag(±1)
    N, gamma = 100, 0.7
    assert mf.sector_gap(N, gamma, gamma, 0) == pytest.approx(2 * gamma, rel=1e-10)
    gaps = [mf.sector_gap(N, gamma, gamma, k) for k in range(1, N + 1)]
    assert np.argmin(gaps) == 0
    assert gaps[0] == pytest.approx(gamma, rel=1e-10)


@pytest.mark.parametrize("N", [1, 2, 7, 40])
@pytest.mark.parametrize("q", [Fraction(0), Fraction(1, 3), Fraction(1), Fraction(21, 20),
                               Fraction(5, 2)])
def test_steady_populations_vs_exact_rationals(N, q):
    # reference: exact rational arithmetic; tolerance 1e-12 relative (double rounding)
    p = mf.steady_populations(N, 1.0, float(q))
    mean, var, _ = mf.jz_moments(p)
    if q == 0:
        assert mean == -N / 2 and var == 0
        return
    rmean, rvar = ref.thermal_moments_exact(N, q)
    assert mean == pytest.approx(rmean, rel=1e-12, abs=1e-12 * N)
    assert var == pytest.approx(rvar, rel=1e-12, abs=1e-12 * N ** 2)


def test_steady_state_vs_qutip_steadystate():
    # qutip.steadystate on the (N+1)^2 Liouvillian from qutip.jmat; LU solve
    # accurate to ~1e-13 at N = 8.
    N, gamma, w = 8, 1.0, 0.8
    jm = qutip.jmat(N / 2, "-")
    rho = qutip.steadystate(qutip.liouvillian(None, [np.sqrt(gamma) * jm,
                                                     np.sqrt(w) * jm.dag()]))
    p = mf.steady_populations(N, gamma, w)
    assert np.allclose(np.real(rho.full().diagonal())[::-1], p, atol=1e-12)
    # steady state is diagonal (coherence sectors have no zero mode)
    assert np.abs(rho.full() - np.diag(rho.full().diagonal())).max() < 1e-12


def test_unique_steady_state():
    # exactly one eigenvalue ≈ 0 over all sectors (here N = 30, several w)
    for w in (0.2, 1.0, 3.0):
        spec = mf.liouvillian_spectrum(30, 1.0, w)
        near0 = sum(int(np.sum(np.abs(v) < 1e-8)) for v in spec.values())
        assert near0 == 1


def test_evolve_populations_vs_mesolve_time_dependent():
    # w(t) ramp, N = 6: qutip.mesolve with QobjEvo (tight tolerances) vs the
    # sector integrator; agreement 1e-6 limited by the ODE tolerances.
    N, gamma = 6, 1.0
    wf = lambda t: 0.1 + 0.5 * t       # noqa: E731
    tl = np.linspace(0, 3, 31)
    p0 = np.zeros(N + 1)
    p0[0] = 1
    P = mf.evolve_populations(N, gamma, wf, tl, p0)
    jm, jp, jz = mf.spin_operators(N)
    L = qutip.QobjEvo([qutip.liouvillian(None, [jm]), [qutip.lindblad_dissipator(jp), wf]])
    rho0 = qutip.basis(N + 1, N).proj()          # m = −j is the last QuTiP index
    res = qutip.mesolve(L, rho0, tl, e_ops=[jz], options={"atol": 1e-12, "rtol": 1e-10})
    assert np.max(np.abs(mf.jz_moments(P)[0] - res.expect[0])) < 1e-6


def test_density_matrix_evolution_with_coherences_vs_mesolve():
    # coherent spin state (all sectors populated) under a w(t) ramp: the
    # sector-by-sector evolution equals qutip.mesolve on the full Liouvillian
    # (tolerance 1e-7 in trace norm, set by the ODE tolerances)
    N = 6
    jm, jp, jz = mf.spin_operators(N)
    psi = qutip.spin_coherent(N / 2, np.pi / 3, 0.4)
    wf = lambda t: 0.2 + 0.5 * t        # noqa: E731
    tl = np.linspace(0, 2, 11)
    states = mf.evolve_density_matrix(N, 1.0, wf, tl, psi, {"rtol": 1e-10, "atol": 1e-12})
    L = qutip.QobjEvo([qutip.liouvillian(None, [jm]), [qutip.lindblad_dissipator(jp), wf]])
    res = qutip.mesolve(L, psi, tl, options={"atol": 1e-12, "rtol": 1e-10,
                                             "store_states": True})
    assert max((a - b).norm("tr") for a, b in zip(states, res.states)) < 1e-7


def test_relaxation_rate_is_asymptotic_decay_of_jz():
    # ⟨J_z(t)⟩ − ⟨J_z⟩_ss ∝ e^{−λt} at long times (App. E); fitted slope within 5e-3
    N, gamma, w = 20, 1.0, 1.3
    lam = mf.relaxation_rate(N, gamma, w)
    tl = np.linspace(0, 8 / lam, 60)
    p0 = np.zeros(N + 1)
    p0[0] = 1
    P = mf.evolve_populations(N, gamma, w, tl, p0, {"rtol": 1e-11, "atol": 1e-14})
    dev = np.abs(mf.jz_moments(P)[0] - mf.jz_moments(mf.steady_populations(N, gamma, w))[0])
    sl = slice(40, 58)
    slope = np.polyfit(tl[sl], np.log(dev[sl]), 1)[0]
    assert -slope == pytest.approx(lam, rel=5e-3)   # next mode decays ≥ 2× faster


def test_bad_inputs():
    with pytest.raises(ValueError, match="N"):
        mf.sector_liouvillian(0, 1, 1)
    with pytest.raises(ValueError, match="gamma"):
        mf.sector_spectrum(5, -1, 1)
    with pytest.raises(ValueError, match="pump"):
        mf.steady_populations(5, 1, float("nan"))
    with pytest.raises(ValueError, match="k"):
        mf.sector_spectrum(5, 1, 1, 7)
    with pytest.raises(ValueError, match="not unique"):
        mf.steady_populations(5, 0, 0)
    p0 = np.eye(6)[0]
    with pytest.raises(ValueError, match="increasing"):
        mf.evolve_populations(5, 1, 1, [0, 2, 1], p0)
    with pytest.raises(ValueError, match="finite"):
        mf.evolve_populations(5, 1, lambda t: float("inf"), [0, 1], p0)
    with pytest.raises(ValueError, match=">= 0"):
        mf.evolve_populations(5, 1, lambda t: -1.0, [0, 1], p0)
    with pytest.raises(ValueError, match="unknown option"):
        mf.evolve_populations(5, 1, 1, [0, 1], p0, {"tol": 1})
    with pytest.raises(ValueError, match="shape"):
        mf.evolve_populations(5, 1, 1, [0, 1], np.ones(3) / 3)
