"""Seed 004: the two-body-loss spin model and its states (exact identities)."""
import numpy as np
import pytest
import qutip

from qutip_superrad.models.spin_cats import (TwoBodyLossSpins, cat_state, coherent_spin_state,
                                             fidelity, sample_detunings, to_manifold)


def _direct(N, eta, G2, phase, det):
    """Eqs. (1)–(2) written directly with QuTiP (|e⟩ = basis(2, 0), sigmam lowers it)."""
    sm = [qutip.tensor([qutip.sigmam() if k == i else qutip.qeye(2) for k in range(N)])
          for i in range(N)]
    Sm = sum(sm)
    H = (eta / N) * (np.exp(1j * phase) * Sm * Sm + np.exp(-1j * phase) * Sm.dag() * Sm.dag())
    H += sum(0.5 * d * (2 * s.dag() * s - 1) for d, s in zip(det, sm))
    return H, np.sqrt(G2) / N * Sm * Sm


@pytest.mark.parametrize("det", [np.zeros(4), np.array([0.3, -0.1, 0.0, 0.2])])
def test_description_is_the_seed_master_equation(det):
    """Clustered (identical) and explicit (detuned) descriptions equal eqs. (1)–(2) exactly."""
    spins = TwoBodyLossSpins(4, 0.7, 1.3, phase=0.4, detunings=det)
    model, _ = spins.description()
    H, c = _direct(4, 0.7, 1.3, 0.4, det)
    assert (model.hamiltonian() - H).norm() < 1e-12
    L = qutip.liouvillian(model.hamiltonian(), model.c_ops())
    assert (L - qutip.liouvillian(H, [c])).norm() < 1e-12
    assert spins.identical == (np.ptp(det) == 0)


def test_states_manifold_equals_full_space():
    """|θ, φ⟩ and both cats: the tensor-space kets projected on j = N/2 equal the manifold
    kets (1e-12), cats are normalised by eq. (11), and ⟨J_z⟩ = −(N/2) cos θ."""
    N, th, ph = 6, 0.9, 0.3
    for par in (+1, -1):
        full = cat_state(N, th, par, ph, "full")
        man = cat_state(N, th, par, ph, "manifold")
        assert full.norm() == pytest.approx(1, abs=1e-12)
        assert (to_manifold(full, N) - man).norm() < 1e-12
    coh = coherent_spin_state(N, th, ph)
    assert qutip.expect(qutip.jmat(N / 2, "z"), coh) == pytest.approx(-N / 2 * np.cos(th))
    # even and odd cats are orthogonal (opposite excitation parity)
    assert fidelity(cat_state(N, th, 1, ph), cat_state(N, th, -1, ph)) < 1e-28
    # fidelity of a ket with its own density matrix
    assert fidelity(coh, qutip.ket2dm(coh)) == pytest.approx(1.0)


def test_small_angle_state_is_the_hp_coherent_state():
    """Weak excitation: |θ, φ⟩ ≈ bosonic coherent state with α = √N tan(θ/2) e^{iφ}, i.e.
    excitation amplitudes close to Poissonian (deviation O(|α|²/N))."""
    N = 400
    th = 2 * np.arctan(0.5 / np.sqrt(N))
    coh = coherent_spin_state(N, th, 0.0).full().ravel()
    k = np.arange(6)
    amp = np.abs(coh[N - k])
    from scipy.special import factorial
    pois = np.exp(-0.125) * 0.5 ** k / np.sqrt(factorial(k))
    assert np.max(np.abs(amp - pois)) < 2e-3


def test_sample_detunings():
    d = sample_detunings(8, 0.5, "two-groups")
    assert np.allclose(d, [0.5] * 4 + [-0.5] * 4)
    g = sample_detunings(20000, 0.1, seed=1)
    assert np.std(g) == pytest.approx(0.1, rel=0.02)
    assert np.array_equal(sample_detunings(5, 1.0, seed=3), sample_detunings(5, 1.0, seed=3))


@pytest.mark.parametrize("call, exc, match", [
    (lambda: TwoBodyLossSpins(0, 1.0), ValueError, "N must be >= 1"),
    (lambda: TwoBodyLossSpins(4, -1.0), ValueError, "eta must be a rate >= 0"),
    (lambda: TwoBodyLossSpins(4, 1.0, -2.0), ValueError, "Gamma2 must be a rate >= 0"),
    (lambda: TwoBodyLossSpins(3, 1.0, detunings=[0, np.nan, 0]), ValueError, "finite"),
    (lambda: TwoBodyLossSpins(3, 1.0, detunings=[0, 1]), ValueError, "shape"),
    (lambda: coherent_spin_state(4, 4.0), ValueError, r"theta must lie in \[0, π\]"),
    (lambda: cat_state(0, 0.3), ValueError, "N must be >= 1"),
    (lambda: cat_state(4, 0.0, -1), ValueError, "odd cat"),
    (lambda: cat_state(4, 0.3, 2), ValueError, "parity"),
    (lambda: sample_detunings(5, 0.1, "two-groups"), ValueError, "even N"),
    (lambda: sample_detunings(5, 0.1, "cauchy"), ValueError, "distribution"),
    (lambda: coherent_spin_state(30, 0.3, basis="full"), ValueError, "too large"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("eta, G", [(0.3, 1.0), (1.0, 0.5)])
def test_steadystate_two_spins_closed_form(eta, G):
    """N = 2, from the ground state: |1,−1⟩ ↔ |1,+1⟩ is a resonantly driven two-level system
    (matrix element η of (η/2)(S₋² + S₊²), Ω = 2η) decaying at (Γ_2/4)|⟨−1|S₋²|+1⟩|² = Γ_2;
    P₊ = η²/(Γ_2²/4 + 2η²), ⟨S_z⟩ = 2P₊ − 1, ⟨S₊S₋⟩ = 2P₊ (to 1e-10)."""
    P = eta ** 2 / (G ** 2 / 4 + 2 * eta ** 2)
    res = TwoBodyLossSpins(2, eta, G).steadystate("manifold")
    assert res.values["Sz"] == pytest.approx(2 * P - 1, abs=1e-10)
    assert res.values["SpSm"] == pytest.approx(2 * P, abs=1e-10)
    with pytest.raises(ValueError, match="not unique"):
        TwoBodyLossSpins(2, eta, G).steadystate("dicke")
