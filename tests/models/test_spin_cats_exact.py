"""Exact spin-cat dynamics (seed 004, Figs. 2–3): qutip_superrad.models.spin_cats.exact."""
import numpy as np
import pytest
import qutip

import qutip_superrad as qsr
from qutip_superrad.models.spin_cats import TwoBodyLossSpins, sample_detunings
from qutip_superrad.models.spin_cats.exact import (
    _detuning_operator, cat_fidelity_dynamics, hp_coherent_state, hp_steady_amplitude,
    hp_wigner, manifold_evolve, manifold_operators, manifold_steady_state, manifold_to_boson,
    meanfield_amplitude, stabilised_cat, stabilised_theta, amplitude_scan)
from qutip_superrad.models.spin_cats.states import fidelity, to_manifold

OPTS = {"atol": 1e-13, "rtol": 1e-11, "nsteps": 100000}


@pytest.mark.parametrize("N, parity", [(4, +1), (5, -1), (6, +1)])
def test_manifold_matches_full_tensor_space(N, parity):
    """δ = 0: the j = N/2 dynamics equals the 2^N one (fidelity, ⟨S+S−⟩ to 1e-8)."""
    eta, G = 0.7, 1.3
    model, ops = TwoBodyLossSpins(N, eta, G, phase=0.4).description()
    H, c_ops = model.hamiltonian(), model.c_ops()
    SpSm = model.to_qobj(ops["SpSm"])
    cat_f = stabilised_cat(N, eta, G, 0.4, parity, basis="full")
    cat_m = stabilised_cat(N, eta, G, 0.4, parity)
    assert abs(fidelity(cat_m, to_manifold(cat_f, N)) - 1) < 1e-12
    tlist = np.linspace(0, 3, 7)
    full = qutip.mesolve(H, cat_f, tlist, c_ops, e_ops=[cat_f * cat_f.dag(), SpSm], options=OPTS)
    Hm, cm = manifold_operators(N, eta, G, 0.4)
    Sm = qutip.jmat(N / 2, "-")
    man = manifold_evolve(N, eta, G, 0.4, initial=cat_m, tlist=tlist,
                          e_ops=[cat_m * cat_m.dag(), Sm.dag() * Sm], options=OPTS)
    for a, b in zip(full.expect, man.expect):
        np.testing.assert_allclose(np.real(a), np.real(b), atol=1e-8, rtol=0)
    assert np.ptp(np.real(man.expect[0])) > 1e-3       # something happens


def test_manifold_operators_match_package_manifold_method():
    """Own jmat Liouvillian vs qsr.evolve(method="manifold") from the ground state."""
    N, eta = 6, 2.0
    model, ops = TwoBodyLossSpins(N, eta, 1.0).description()
    tlist = np.linspace(0, 2, 5)
    res = qsr.evolve(model, tlist, "manifold", e_ops={"SpSm": ops["SpSm"], "Sz": ops["Sz"]})
    ground = qutip.basis(N + 1, N)
    Sm = qutip.jmat(N / 2, "-")
    man = manifold_evolve(N, eta, initial=ground, tlist=tlist,
                          e_ops=[Sm.dag() * Sm, qutip.jmat(N / 2, "z")], options=OPTS)
    np.testing.assert_allclose(res.values["SpSm"], man.expect[0], atol=1e-8)
    np.testing.assert_allclose(res.values["Sz"], man.expect[1], atol=1e-8)


def test_seed_steady_state_cat_fidelities():
    """N = 8, η/Γ_2 = 0.2, δ = 0: seed quotes 0.998 (even), 0.995 (odd); tolerance 5e-4."""
    F = {}
    for parity in (+1, -1):
        cat = stabilised_cat(8, 0.2, 1.0, 0.0, parity)
        ss = manifold_steady_state(8, 0.2, initial=cat)
        F[parity] = fidelity(cat, ss.rho)
        assert ss.parity_weights[0 if parity == 1 else 1] == pytest.approx(1, abs=1e-12)
        # the projection is the long-time limit of the evolution (gap ≈ 0.9 Γ_2)
        late = manifold_evolve(8, 0.2, initial=cat, tlist=[0, 40], options=OPTS).final_state
        assert (late - ss.rho).norm() < 1e-7
    assert F[+1] == pytest.approx(0.998, abs=5e-4)
    assert F[-1] == pytest.approx(0.995, abs=5e-4)
    theta, phi = stabilised_theta(8, 0.2)
    assert np.tan(theta / 2) == pytest.approx(np.sqrt(0.4 / 8))
    assert phi == pytest.approx(-np.pi / 4)


def test_metastable_projection_matches_evolution():
    """Coherent initial state: the projected state at t_obs equals mesolve at t_obs."""
    N, eta, t_obs = 12, 1.0, 60.0
    ss = manifold_steady_state(N, eta, t_obs=t_obs)
    psi0 = hp_coherent_state(N, np.sqrt(2 * eta) * np.exp(-1j * np.pi / 4))
    late = manifold_evolve(N, eta, initial=psi0, tlist=[0, t_obs], options=OPTS).final_state
    assert (late - ss.rho).norm() < 1e-6
    assert abs(ss.a) > 0.5
    assert ss.rho.tr() == pytest.approx(1, abs=1e-12)


def test_low_eta_limit_bosonic_amplitude():
    """|⟨a⟩| → √(2η/Γ_2) (eqs. 3–4) for η ≪ Γ_2 (relative tolerance 2e-3), and mean field."""
    for eta in (0.01, 0.05):
        amp = hp_steady_amplitude(40, eta)          # HP correction O(2η/N)
        assert amp == pytest.approx(np.sqrt(2 * eta), rel=2e-3)
        # eq. 19 carries an O(1/N) correction: √N A = √(2η)(1 − 1/N + …)
        assert meanfield_amplitude(100, eta) == pytest.approx(np.sqrt(2 * eta), rel=2e-2)
    assert np.isnan(meanfield_amplitude(100, 6.3))


def test_hp_map_and_wigner():
    N = 10
    psi = hp_coherent_state(N, 0.8j)
    b = manifold_to_boson(psi)
    assert qutip.expect(qutip.destroy(N + 1), b) == pytest.approx(0.8j, abs=1e-6)
    # manifold index N − n ↔ boson |n⟩
    assert abs(b.full()[0, 0]) == pytest.approx(abs(psi.full()[N, 0]))
    w = hp_wigner(N, etas=(0.5,), xvec=np.linspace(-3, 3, 31))
    W = w.W[0]
    dx = 6 / 30
    assert W.shape == (31, 31)
    assert np.sum(W) * dx * dx == pytest.approx(1, abs=1e-2)


def test_sphere_wigner_is_the_manifold_states():
    """The sphere option is the spin Wigner function of the same steady state (equal to
    qutip.spin_wigner at N = 8 to rounding) and is normalised (Gauss–Legendre in cos θ
    times the trapezoid rule in φ, exact for these trigonometric polynomials: 1e-10)."""
    from qutip_superrad.models.spin_cats import sphere_wigner
    N = 8
    x, w = np.polynomial.legendre.leggauss(N + 2)
    phi = np.linspace(0, 2 * np.pi, 2 * N + 2, endpoint=False)
    r = sphere_wigner(N, etas=(0.5, 2.0), theta=np.arccos(x), phi=phi)
    for W, st in zip(r.W, r.states):
        Wq, _, _ = qutip.spin_wigner(st.rho, np.arccos(x), phi)
        assert np.max(np.abs(W - Wq)) < 1e-12
        integral = np.sum(W * w[None, :]) * (2 * np.pi / phi.size)
        assert integral * np.sqrt((N + 1) / (4 * np.pi)) == pytest.approx(1, abs=1e-10)


def test_detuning_operator_is_the_models():
    d = sample_detunings(3, 0.1, seed=1)
    Hd = TwoBodyLossSpins(3, 0.4, detunings=d).description()[0].hamiltonian()
    H0 = TwoBodyLossSpins(3, 0.4).description()[0].hamiltonian()
    np.testing.assert_allclose((Hd - H0).full(), np.diag(_detuning_operator(3, d)), atol=1e-14)


def test_detuned_dynamics_physical():
    """Trace 1, Hermitian, positive; F(0) = 1; parity reduction is exact."""
    kw = dict(N=4, eta=0.3, widths=(0.2,), tlist=np.linspace(0, 4, 5), realizations=2, seed=3)
    res = cat_fidelity_dynamics(**kw, keep_final=True)
    assert res.samples.shape == (1, 2, 2, 5)
    np.testing.assert_allclose(res.samples[..., 0], 1, atol=1e-10)
    assert np.all(res.samples <= 1 + 1e-9) and np.all(res.samples >= -1e-9)
    assert np.ptp(res.samples) > 1e-4
    for _, rho in res.final_states:
        assert rho.tr() == pytest.approx(1, abs=1e-8)
        assert (rho - rho.dag()).norm() < 1e-10
        assert rho.eigenenergies().min() > -1e-8
    plain = cat_fidelity_dynamics(**kw, reduce_parity=False)
    np.testing.assert_allclose(plain.samples, res.samples, atol=1e-7)
    assert res.mean.shape == (1, 2, 5) and res.sem.shape == (1, 2, 5)


@pytest.mark.parametrize("call, name", [
    (lambda: cat_fidelity_dynamics(N=0), "N"),
    (lambda: cat_fidelity_dynamics(N=4, eta=-1), "eta"),
    (lambda: cat_fidelity_dynamics(N=4, Gamma2=-1), "Gamma2"),
    (lambda: cat_fidelity_dynamics(N=4, realizations=0), "realizations"),
    (lambda: manifold_steady_state(0, 1.0), "N"),
    (lambda: hp_steady_amplitude(10, -0.1), "eta"),
    (lambda: hp_steady_amplitude(10, 0.1, Gamma2=-2), "Gamma2"),
    (lambda: hp_wigner(10, xvec=[]), "xvec"),
    (lambda: hp_wigner(10, xvec=[0, 1], yvec=np.array([])), "yvec"),
    (lambda: amplitude_scan(10, etas=[]), "etas"),
    (lambda: manifold_steady_state(8, 0.2, t_obs=0.1), "t_obs"),
])
def test_bad_input(call, name):
    with pytest.raises((ValueError, RuntimeError), match=name):
        call()
