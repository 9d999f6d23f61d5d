"""Spin Wigner function against qutip.spin_wigner (small j) and closed forms (large j)."""
import numpy as np
import pytest
import qutip

import qutip_superrad as qsr


@pytest.mark.parametrize("j", [0.5, 1, 2.5, 4])
def test_equals_qutip_spin_wigner(j):
    """Same function and normalisation as QuTiP's Clebsch–Gordan sum (1e-12: rounding)."""
    rho = qutip.rand_dm(int(2 * j + 1), seed=7)
    th, ph = np.linspace(0, np.pi, 7), np.linspace(0, 2 * np.pi, 5)
    W, T, P = qsr.spin_wigner(rho, th, ph)
    Wq, Tq, Pq = qutip.spin_wigner(rho, th, ph)
    assert np.max(np.abs(W - Wq)) < 1e-12
    assert np.array_equal(T, Tq) and np.array_equal(P, Pq)


@pytest.mark.parametrize("j", [10, 50, 100])
def test_large_spin_normalisation_and_rotation(j):
    """At large j (where qutip.spin_wigner cannot go) the closed properties hold.
    Normalisation √((2j+1)/4π) ∫ W dΩ = 1: for a φ-independent state W is a polynomial
    of degree 2j in cos θ, so Gauss–Legendre with 2j + 2 nodes integrates it exactly
    (1e-10: rounding).  A coherent state |θ₀, φ₀⟩ peaks at θ₀ along φ₀ (grid step)."""
    th0, ph0 = 0.9, 1.3
    th = np.linspace(0.6, 1.2, 61)
    W, _, _ = qsr.spin_wigner(qutip.spin_coherent(j, th0, ph0), th, [ph0])
    assert abs(th[np.argmax(W[0])] - th0) < 0.011
    x, w = np.polynomial.legendre.leggauss(2 * j + 2)
    for state in (qutip.spin_coherent(j, 0.0, 0.0), qutip.spin_state(j, j - 3)):
        Wp, _, _ = qsr.spin_wigner(state, np.arccos(x), [0.0])
        integral = 2 * np.pi * np.sum(w * Wp[0])
        assert abs(np.sqrt((2 * j + 1) / (4 * np.pi)) * integral - 1) < 1e-10
    # a cat (|j,j⟩ + |j,−j⟩)/√2 has interference fringes cos(2jφ) at the equator
    cat = (qutip.spin_state(j, j) + qutip.spin_state(j, -j)).unit()
    phs = np.linspace(0, np.pi / j, 41)
    Wc, _, _ = qsr.spin_wigner(cat, [np.pi / 2], phs)
    fringe = Wc[:, 0] - Wc[:, 0].mean()
    assert np.corrcoef(fringe, np.cos(2 * j * phs))[0, 1] > 0.999


def test_bad_input():
    with pytest.raises(ValueError, match="rho must be"):
        qsr.spin_wigner(np.ones((2, 3)), [0.0], [0.0])
    with pytest.raises(ValueError, match="finite"):
        qsr.spin_wigner(np.array([[np.nan, 0], [0, 1]]), [0.0], [0.0])
    with pytest.raises(ValueError, match="theta"):
        qsr.spin_wigner(qutip.spin_state(1, 1), [[0.0]], [0.0])
