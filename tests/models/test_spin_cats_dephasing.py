"""Seed 004, Sec. III: parity-sensitive inhomogeneous dephasing (eqs. 5–15, Fig. 1).

* per-realization fidelities against brute force in the 2^N tensor space (N <= 8) at 1e-10;
* sampled means over 4000 Gaussian realizations at N = 200 against eqs. (7), (13)
  within 4 standard errors, sampled variances against the exact variance within 15 %;
* the H_0 = ½Σδσz convention and the errata of eqs. (6) and (9), numerically;
* small-amplitude limits eqs. (8), (14), (15) to their stated orders;
* bad input.
"""
import numpy as np
import pytest
import qutip

from qutip_superrad.models.spin_cats import cat_state, coherent_spin_state
from qutip_superrad.models.spin_cats import dephasing as D

PARITY = {"even": +1, "odd": -1}


def full_state(N, theta, phi, state):
    if state == "coherent":
        return coherent_spin_state(N, theta, phi, basis="full")
    return cat_state(N, theta, PARITY[state], phi, basis="full")


def h0_full(det):
    """H_0 = ½ Σ δ_n σ^z_n on (C²)^⊗N with QuTiP operators."""
    N = len(det)
    ops = [qutip.qeye(2)] * N
    H = 0
    for n in range(N):
        o = list(ops)
        o[n] = qutip.sigmaz()
        H = H + 0.5 * det[n] * qutip.tensor(o)
    return H


def brute_force(t, det, theta, phi, state):
    psi = full_state(len(det), theta, phi, state)
    v = psi.full().ravel()
    diag = np.real(h0_full(det).diag())
    return np.array([abs(np.vdot(v, np.exp(-1j * diag * tt) * v)) ** 2 for tt in t])


# ----------------------------------------------------------------------------- exactness
@pytest.mark.parametrize("state", D.STATES)
@pytest.mark.parametrize("N,theta,phi", [(1, 0.7, 0.0), (3, 2.4, 0.4), (6, 0.9, 1.3),
                                         (8, 0.25, -0.7), (8, np.pi / 2, 0.0)])
def test_realization_matches_full_tensor_space(state, N, theta, phi):
    rng = np.random.default_rng(N)
    det = rng.normal(0.0, 1.0, N)
    t = np.linspace(0.0, 6.0, 13)
    F = D.realization_fidelity(t, det, theta, phi, state)
    assert np.max(np.abs(F - brute_force(t, det, theta, phi, state))) < 1e-10


def test_realization_matches_sesolve_and_stacks_rows():
    N, theta = 5, 0.8
    rng = np.random.default_rng(7)
    det = rng.normal(0.0, 1.0, (3, N))
    t = np.linspace(0.0, 4.0, 9)
    F = D.realization_fidelity(t, det, theta, state="odd")
    assert F.shape == (3, t.size)
    psi0 = full_state(N, theta, 0.0, "odd")
    res = qutip.sesolve(h0_full(det[1]), psi0, t, options={"atol": 1e-13, "rtol": 1e-12})
    F_se = np.array([abs(psi0.overlap(s)) ** 2 for s in res.states])
    assert np.max(np.abs(F[1] - F_se)) < 1e-9
    for r in range(3):   # rows are independent realizations
        np.testing.assert_allclose(F[r], D.realization_fidelity(t, det[r], theta, state="odd"),
                                   atol=1e-14)


def test_phi_does_not_matter_and_t0_is_one():
    det = np.random.default_rng(0).normal(0, 1, 50)
    for state in D.STATES:
        F0 = D.realization_fidelity([0.0, 0.5, 2.0], det, 0.3, 0.0, state)
        F1 = D.realization_fidelity([0.0, 0.5, 2.0], det, 0.3, 2.1, state)
        np.testing.assert_allclose(F0, F1, atol=1e-14)
        assert abs(F0[0] - 1.0) < 1e-13


def test_odd_cat_small_theta_is_w_state_without_cancellation():
    """θ → 0: |Cat_−⟩ → W state, F = |Σ_n e^{−iδ_n t}/N|²; mean (1 + (N−1)e^{−δ²t²})/N."""
    N = 10
    det = np.random.default_rng(3).normal(0, 1, N)
    t = np.linspace(0.0, 3.0, 7)
    w = np.abs(np.exp(-1j * np.outer(t, det)).mean(axis=1)) ** 2
    for theta in (1e-9, 1e-6):
        assert np.max(np.abs(D.realization_fidelity(t, det, theta, state="odd") - w)) < 1e-12
        w_mean = (1 + (N - 1) * np.exp(-t ** 2)) / N
        assert np.max(np.abs(D.mean_fidelity(t, N, theta, 1.0, "odd") - w_mean)) < 1e-12


def test_large_N_no_underflow():
    """N = 10⁴ at θ = π/2: |P|, |Q| ~ 2^{−N} individually, yet F is finite and exact at t = 0."""
    det = np.random.default_rng(1).normal(0, 1, (2, 10_000))
    for state in D.STATES:
        F = D.realization_fidelity([0.0, 1e-3, 1.0], det, np.pi / 2 - 0.1, state=state)
        assert np.all(np.isfinite(F)) and np.all((F >= 0) & (F <= 1 + 1e-12))
        np.testing.assert_allclose(F[:, 0], 1.0, atol=1e-12)
        Fbar = D.mean_fidelity([0.0, 1e-3, 1.0], 10_000, np.pi / 2 - 0.1, 1.0, state)
        assert np.all(np.isfinite(Fbar)) and abs(Fbar[0] - 1) < 1e-12
    # coherent log-sum against the plain product where the latter still works
    theta = 0.4
    t = np.array([0.3, 2.0])
    p = np.cos(theta / 2) ** 2 + np.sin(theta / 2) ** 2 * np.exp(-1j * np.outer(det[0, :300], t))
    np.testing.assert_allclose(D.realization_fidelity(t, det[0, :300], theta),
                               np.abs(np.prod(p, axis=0)) ** 2, rtol=1e-10)


# ----------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("state", ["even", "odd"])
@pytest.mark.parametrize("N,theta", [(1, 0.3), (2, 1.0), (7, 2.0), (200, 200 ** -0.5),
                                     (5000, 0.6), (9, 3.0)])
def test_eq13_at_t0_is_one(state, N, theta):
    assert abs(D.mean_fidelity(0.0, N, theta, 1.0, state) - 1.0) < 1e-12
    assert D.fidelity_variance(0.0, N, theta, 1.0, state) < 1e-10


@pytest.fixture(scope="module")
def sampled():
    """4000 Gaussian realizations at N = 200, θ = 1/√N (Fig. 1 parameters), δ = 1."""
    N, R = 200, 4000
    theta = N ** -0.5
    t = np.array([0.0, 0.5, 1.0, 2.0, 5.0])
    det = np.random.default_rng(2024).normal(0.0, 1.0, (R, N))
    F = {s: D.realization_fidelity(t, det, theta, state=s) for s in D.STATES}
    return dict(N=N, R=R, theta=theta, t=t, det=det, F=F)


@pytest.mark.parametrize("state", D.STATES)
def test_sampled_mean_matches_eq7_eq13(sampled, state):
    F, R = sampled["F"][state], sampled["R"]
    mean, se = F.mean(axis=0), F.std(axis=0, ddof=1) / np.sqrt(R)
    closed = D.mean_fidelity(sampled["t"], sampled["N"], sampled["theta"], 1.0, state)
    assert np.all(np.abs(mean - closed) <= 4 * se + 1e-12), (mean, closed, se)


@pytest.mark.parametrize("state", D.STATES)
def test_sampled_variance_matches_exact_variance(sampled, state):
    F = sampled["F"][state][:, 1:]                   # t > 0
    var = F.var(axis=0, ddof=1)
    exact = D.fidelity_variance(sampled["t"][1:], sampled["N"], sampled["theta"], 1.0, state)
    np.testing.assert_allclose(var, exact, rtol=0.15)


def test_convention_half_sigma_z(sampled):
    """Eq. (7) belongs to H_0 = ½Σδσz: with H_0 = Σδσz (detunings 2δ) the means miss it by
    dozens of standard errors, and eq. (7) then needs δ → 2δ."""
    t, N, th, R = sampled["t"][1:4], sampled["N"], sampled["theta"], sampled["R"]
    F2 = D.realization_fidelity(t, 2 * sampled["det"], th)      # e^{−iΣδσz t}
    mean, se = F2.mean(axis=0), F2.std(axis=0, ddof=1) / np.sqrt(R)
    assert np.all(np.abs(mean - D.mean_fidelity(t, N, th, 1.0)) > 20 * se)
    assert np.all(np.abs(mean - D.mean_fidelity(t, N, th, 2.0)) < 4 * se)


def test_eq6_as_printed_is_not_the_overlap():
    """Eq. (6) prints cos(θ/2) + e^{−iδt} sin(θ/2); the overlap has squares (|c(0)| = 1)."""
    N, theta = 6, 0.9
    det = np.random.default_rng(5).normal(0, 1, N)
    t = np.array([0.0, 0.7, 2.0])
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    ph = np.outer(det, t)
    printed = np.abs(np.prod(np.exp(0.5j * ph) * (c + np.exp(-1j * ph) * s), axis=0)) ** 2
    squares = np.abs(np.prod(np.exp(0.5j * ph) * (c ** 2 + np.exp(-1j * ph) * s ** 2),
                             axis=0)) ** 2
    bf = brute_force(t, det, theta, 0.0, "coherent")
    np.testing.assert_allclose(squares, bf, atol=1e-12)
    assert printed[0] > 10          # (c + s)^{2N} ≠ 1: not an overlap
    # per spin: |p|² = 1 − sin²θ sin²(δt/2)
    np.testing.assert_allclose(
        bf, np.prod(1 - np.sin(theta) ** 2 * np.sin(ph / 2) ** 2, axis=0), atol=1e-12)


def test_eq9_needs_the_square():
    """Var F = (Nθ⁴/8)(1 − e^{−δ²t²})² (leading order); the seed's eq. (9) drops the square.

    At δt = 0.5 the two differ by 4.5×; 4000 samples decide at > 10 σ."""
    N, R, theta = 200, 4000, 0.02
    t = np.array([0.5, 1.0, 4.0])
    det = np.random.default_rng(11).normal(0, 1, (R, N))
    F = D.realization_fidelity(t, det, theta)
    var = F.var(axis=0, ddof=1)
    lead = D.fidelity_variance(t, N, theta, 1.0, order="leading")
    exact = D.fidelity_variance(t, N, theta, 1.0)
    seed = N * theta ** 4 / 8 * (1 - np.exp(-t ** 2))
    np.testing.assert_allclose(exact, lead, rtol=1.5 * N * theta ** 2)   # O(Nθ²) corrections
    np.testing.assert_allclose(var, exact, rtol=0.12)
    assert var[0] < 0.4 * seed[0]                                 # seed's eq. 9: 4.5× too big
    # at large δt both forms agree on Nθ⁴/8
    np.testing.assert_allclose(var[-1], N * theta ** 4 / 8, rtol=0.12)


def test_odd_cat_variance_warns_when_round_off_dominates():
    with pytest.warns(RuntimeWarning, match="round-off"):
        D.fidelity_variance([1.0, 2.0], 200, np.sqrt(1e-3 / 200), 1.0, "odd")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D.fidelity_variance([1.0, 2.0], 200, 200 ** -0.5, 1.0, "odd")
        D.fidelity_variance([1.0, 2.0], 200, np.sqrt(0.05 / 200), 1.0, "even")


def test_exact_variance_leading_order_small_theta():
    t = np.linspace(0.1, 5, 11)
    for N, theta in [(100, 1e-2), (1000, 1e-3)]:
        np.testing.assert_allclose(D.fidelity_variance(t, N, theta, 1.0),
                                   D.fidelity_variance(t, N, theta, 1.0, order="leading"),
                                   rtol=3 * N * theta ** 2)


# ----------------------------------------------------------------------------- eqs 8, 14, 15
@pytest.mark.parametrize("N,eps", [(200, 0.1), (2000, 0.03), (20000, 0.01), (20000, 0.1)])
def test_small_amplitude_orders(N, eps):
    """ε = Nθ²/2 ≪ 1: eq. (8) error ≤ 0.2(Nθ²)²; eq. (14) infidelity relative error
    ≤ ε² + 2/N; eq. (15) error ≤ (Nθ²)²/8 + 1.1/N (the 1/N is the W-state floor
    (1 − e^{−δ²t²})/N that eq. 15 drops for N ≫ 1); resummed forms within 1.1/N + ε³."""
    theta = np.sqrt(2 * eps / N)
    x = N * theta ** 2
    t = np.array([0.3, 0.7, 1.0, 2.0, 5.0])
    coh = D.mean_fidelity(t, N, theta, 1.0)
    even = D.mean_fidelity(t, N, theta, 1.0, "even")
    odd = D.mean_fidelity(t, N, theta, 1.0, "odd")
    sa = {s: D.small_amplitude_fidelity(t, N, theta, 1.0, s) for s in D.STATES}
    assert np.max(np.abs(coh - sa["coherent"])) <= 0.2 * x ** 2
    assert np.max(np.abs((1 - even) / (1 - sa["even"]) - 1)) <= eps ** 2 + 2 / N
    assert np.max(np.abs(odd - sa["odd"])) <= x ** 2 / 8 + 1.1 / N
    # parity sensitivity: the even cat keeps F ≈ 1 − O(ε²), the odd one decays as e^{−δ²t²}
    assert 1 - even[-1] < x ** 2 / 15 and odd[-1] < 1.1 / N + x ** 2
    for s, f in [("coherent", coh), ("even", even), ("odd", odd)]:
        r = D.small_amplitude_fidelity(t, N, theta, 1.0, s, resummed=True)
        assert np.max(np.abs(f - r)) <= 1.1 / N + eps ** 3, s


def test_realizations_at_small_amplitude_follow_eq14_eq15():
    """Sampled (R = 2000, N = 200, Nθ² = 0.05) even-cat infidelity and odd-cat fidelity."""
    N, R = 200, 2000
    theta = np.sqrt(0.05 / N)
    t = np.array([0.5, 1.0, 3.0])
    det = np.random.default_rng(8).normal(0, 1, (R, N))
    inf_even = 1 - D.realization_fidelity(t, det, theta, state="even").mean(axis=0)
    odd = D.realization_fidelity(t, det, theta, state="odd")
    np.testing.assert_allclose(inf_even, N ** 2 * theta ** 4 / 16 * (1 - np.exp(-t ** 2)),
                               rtol=0.05)
    se = odd.std(axis=0, ddof=1) / np.sqrt(R)
    assert np.all(np.abs(odd.mean(axis=0) - np.exp(-t ** 2)) < 4 * se + 1.1 / N + 0.05 ** 2)


# ----------------------------------------------------------------------------- Fig. 1
def test_fig1_result_and_plot():
    import matplotlib
    matplotlib.use("Agg")
    res = D.fig1(N=200, realizations=4, t=np.linspace(0, 5, 26), seed=1)
    assert res.theta == pytest.approx(200 ** -0.5)
    assert res.detunings.shape == (4, 200)
    for s in D.STATES:
        assert res.realizations[s].shape == (4, 26) and res.mean[s].shape == (26,)
        np.testing.assert_allclose(res.realizations[s][:, 0], 1.0, atol=1e-12)
    # Fig. 1: even cat saturates near 1 − (Nθ²/4)² ≈ 0.94, odd decays, coherent ≈ e^{-1/2}
    assert res.mean["even"][-1] == pytest.approx(0.9402, abs=1e-3)
    assert res.mean["odd"][-1] < 0.006
    assert res.mean["coherent"][-1] == pytest.approx(np.exp(-0.5), abs=2e-3)
    assert np.max(np.abs(res.sampled_mean("odd") - res.mean["odd"])) < 0.1
    ax = res.plot()
    assert len(ax.lines) == 3 * 4 + 3
    import matplotlib.pyplot as plt
    plt.close(ax.figure)
    # same seed, same detunings
    np.testing.assert_array_equal(D.fig1(N=200, realizations=4, t=[0.0], seed=1).detunings,
                                  res.detunings)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call,match", [
    (lambda: D.mean_fidelity([1.0], 10, -0.1, 1.0), "theta"),
    (lambda: D.mean_fidelity([1.0], 10, 3.2, 1.0), "theta"),
    (lambda: D.mean_fidelity([1.0], 0, 0.1, 1.0), "N"),
    (lambda: D.mean_fidelity([1.0], 10, 0.1, -1.0), "width"),
    (lambda: D.mean_fidelity([], 10, 0.1, 1.0), "t"),
    (lambda: D.mean_fidelity([np.nan], 10, 0.1, 1.0), "t"),
    (lambda: D.mean_fidelity([1.0], 10, 0.1, 1.0, "cat"), "state"),
    (lambda: D.mean_fidelity([1.0], 10, 0.0, 1.0, "odd"), "odd cat"),
    (lambda: D.fidelity_variance([1.0], 10, 0.1, -2.0), "width"),
    (lambda: D.fidelity_variance([1.0], 10, 0.1, 1.0, "even", order="leading"), "leading"),
    (lambda: D.fidelity_variance([1.0], 10, 0.1, 1.0, order="first"), "order"),
    (lambda: D.small_amplitude_fidelity([1.0], 10, np.nan, 1.0), "theta"),
    (lambda: D.small_amplitude_fidelity([], 10, 0.1, 1.0), "t"),
    (lambda: D.realization_fidelity([1.0], [0.1, np.nan], 0.3), "detunings"),
    (lambda: D.realization_fidelity([1.0], [], 0.3), "detunings"),
    (lambda: D.realization_fidelity([1.0], np.zeros((2, 2, 2)), 0.3), "detunings"),
    (lambda: D.realization_fidelity([], [0.1, 0.2], 0.3), "t"),
    (lambda: D.realization_fidelity([1.0], [0.1, 0.2], 4.0), "theta"),
    (lambda: D.realization_fidelity([1.0], [0.1, 0.2], 0.0, state="odd"), "odd cat"),
    (lambda: D.realization_fidelity([1.0], [0.1, 0.2, 0.3], np.pi, state="even"), "even cat"),
    (lambda: D.fig1(N=0), "N"),
    (lambda: D.fig1(width=0.0), "width"),
    (lambda: D.fig1(realizations=0), "realizations"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
