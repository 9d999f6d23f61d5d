"""Mean-field synchronization of the spin-cat seed (Sec. IV, eqs 16–22, App. A)."""
import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.models.spin_cats import TwoBodyLossSpins
from qutip_superrad.models.spin_cats.meanfield import (
    SYNC_LIMIT, _two_rhs, cluster_description, ellipse_boundary, fit_boundary,
    identical_fixed_point, identical_rhs, identical_steady_state, meanfield_rhs,
    phase_spread_map, reduced_rhs, small_zeta_solution, solve_two_ensembles,
    two_ensemble_state,
)


def _engine_rhs(model, sp, sz, cluster_params=None):
    """The engine's order-1 right-hand side, as d⟨σ⁺⟩/dt and dz/dt per cluster."""
    system = model.symbolic.close(1)
    scalars = {k: model.parameters[k] for k in system.scalar_parameters}
    clusters = dict(N=model.counts, **(cluster_params or {}))
    solver = system.solver(scalars, clusters)
    y = solver.initial_state({"s12[i0]": np.conj(sp), "s22[i0]": (1 + sz) / 2})
    d = solver.derivative(y)
    M = model.counts.size
    return np.conj(d[:M]), 2 * d[M:].real  # σ⁻ = |1⟩⟨2|, ⟨σ_22⟩ = (1 + z)/2


def _random_state(rng, M):
    return 0.3 * (rng.normal(size=M) + 1j * rng.normal(size=M)), rng.uniform(-1, 1, M)


# --------------------------------------------------------------------------- eqs 16–17
@pytest.mark.parametrize("N", [10, 1e4])
def test_identical_engine_vs_eqs_16_17(N):
    """TwoBodyLossSpins' single Clusters: drive terms exact, Γ₂ terms = exact order 1."""
    rng = np.random.default_rng(0)
    sp, sz = _random_state(rng, 1)
    for eta, G, phase in [(0.7, 0.0, 0.4), (0.0, 1.3, 0.0), (0.7, 1.3, 1.1)]:
        model, _ = TwoBodyLossSpins(int(N), eta, G, phase=phase).description()
        e = _engine_rhs(model, sp, sz)
        exact = meanfield_rhs(sp, sz, [0.0], eta=eta, Gamma2=G, theta=phase, weights=[N],
                              exclude_self=True)
        np.testing.assert_allclose(e[0], exact[0], rtol=1e-12, atol=1e-14 * N)
        np.testing.assert_allclose(e[1], exact[1], rtol=1e-12, atol=1e-14 * N)
        paper = meanfield_rhs(sp, sz, [0.0], eta=eta, Gamma2=G, theta=phase, weights=[N])
        if G == 0:   # squeezing drive (eqs A1–A2): eqs 16–17 are exact
            np.testing.assert_allclose(paper[0], e[0], rtol=1e-12)
            np.testing.assert_allclose(paper[1], e[1], rtol=1e-12)


def test_clusters_engine_term_by_term():
    """Three detuned clusters: δ and η terms exact; Γ₂ terms of eqs 16–17 off by O(1/N)."""
    rng = np.random.default_rng(1)
    M = 3
    det = rng.normal(size=M)
    sp, sz = _random_state(rng, M)
    parts = {"delta": (0.0, 0.0, det), "eta": (0.8, 0.0, 0 * det), "loss": (0.0, 1.3, 0 * det)}
    loss_dev = {}
    for N in (1e3, 1e5):
        counts = np.full(M, N / M)
        for name, (eta, G, d) in parts.items():
            model, _ = cluster_description(counts, d, eta, G, phase=0.3)
            e = _engine_rhs(model, sp, sz, {"delta": d})
            paper = meanfield_rhs(sp, sz, d, eta=eta, Gamma2=G, theta=0.3, weights=counts)
            exact = meanfield_rhs(sp, sz, d, eta=eta, Gamma2=G, theta=0.3, weights=counts,
                                  exclude_self=True)
            for k in range(2):
                np.testing.assert_allclose(exact[k], e[k], rtol=1e-11, atol=1e-12)
                scale = np.max(np.abs(e[k]))
                if scale == 0:   # δ alone leaves z unchanged
                    assert np.max(np.abs(paper[k])) == 0
                    continue
                dev = np.max(np.abs(paper[k] - e[k])) / scale
                if name == "loss":   # App. A replaces Σ_{i≠j}, Σ_{i≠j≠k} by full sums
                    loss_dev[N, k] = dev
                else:
                    assert dev < 1e-13, (name, k, dev)
    for k in range(2):   # the difference scales as 1/N (factor 100 between N = 1e3, 1e5)
        ratio = loss_dev[1e3, k] / loss_dev[1e5, k]
        assert 60 < ratio < 160, (k, ratio, loss_dev)
        assert loss_dev[1e5, k] < 5e-3   # ~ 100–200/N for this state


def test_meanfield_rhs_sign_of_terms():
    """Physical signs: decay lowers z; δ rotates σ⁺ as e^{iδt}; the drive pumps at φ = π/4."""
    sp, sz = np.array([0.1 + 0j, 0.1 + 0j]), np.array([-0.5, -0.5])
    dsp, dsz = meanfield_rhs(sp, sz, [2.0, 2.0], eta=0.0, Gamma2=0.0)
    np.testing.assert_allclose(dsp, 2j * sp)
    _, dsz = meanfield_rhs(sp, sz, [0, 0], eta=0.0, Gamma2=1.0)
    assert np.all(dsz < 0)
    sp = 0.1 * np.exp(1j * np.pi / 4) * np.ones(2)
    _, dsz = meanfield_rhs(sp, sz, [0, 0], eta=1.0, Gamma2=0.0)
    assert np.all(dsz > 0)   # 8η Im(⟨σ⁺⟩c₁) = 8η A² sin(π/2)/N > 0


# --------------------------------------------------------------------------- eqs 18–19
def test_eq18_is_large_N_reduction_and_phi_typo():
    rng = np.random.default_rng(2)
    N = 1e4
    for _ in range(3):
        A, phi, z = rng.uniform(0.1, 0.3), rng.uniform(0, np.pi), rng.uniform(-1, -0.5)
        eta = rng.uniform(0, N / 16)
        sp = np.array([A * np.exp(1j * phi)])
        dsp, dsz = meanfield_rhs(sp, [z], [0.0], eta=eta, weights=[N])
        full = np.array([(dsp[0] / sp[0]).real * A, (dsp[0] / sp[0]).imag, dsz[0]])
        red = identical_rhs([A, phi, z], N, eta)
        np.testing.assert_allclose(red, full, rtol=2e-3, atol=2e-3 * eta * A)
        printed = identical_rhs([A, phi, z], N, eta, as_printed=True)
        np.testing.assert_allclose(printed[1], A * full[1], rtol=2e-3)  # spurious factor A


@pytest.mark.parametrize("x", [0.005, 0.03, 0.06])
def test_eq19_is_the_steady_state(x):
    N = 10_000
    A, phi, z = identical_steady_state(N, x * N)
    # fixed point of eq 18 (large N): residual << individual terms (~ηA)
    assert np.max(np.abs(identical_rhs([A, phi, z], N, x * N))) < 1e-3 * x * N * A
    # finite-N fixed point of eqs 16–17: O(1/N) away
    Af, _, zf = identical_fixed_point(N, x * N)
    assert abs(Af - A) < 5e-3 * A and abs(zf - z) < 5e-3
    # the engine's mean field (Newton from eq 19) is a stable steady state near eq 19
    model, ops = TwoBodyLossSpins(N, x * N, 1.0).description()
    r = qsr.steadystate(model, "meanfield", e_ops={"Sp": ops["Sp"], "Sz": ops["Sz"]},
                        options={"steadystate": {"y0": np.array([A * np.exp(-1j * phi),
                                                                 (1 + z) / 2])}})
    assert r.checks["solver"]["converged"] and r.checks["solver"]["max_growth_rate"] < 0
    np.testing.assert_allclose(r.values["Sp"] / N, A * np.exp(1j * np.pi / 4), rtol=1e-3)
    assert abs(2 * r.values["Sz"] / N - z) < 1e-3
    # and the dynamics from the spin coherent state relax to it (δ = 0)
    sol = solve_two_ensembles(N, x * N, 0.0)
    assert sol["synchronized"]
    assert abs(sol["A"] - A) < 1e-3 * A and abs(sol["z"] - z) < 1e-3 and abs(sol["zeta"]) < 1e-8


def test_sync_breakdown_at_one_sixteenth():
    N = 10_000
    identical_steady_state(N, SYNC_LIMIT * N)  # marginal: s = 0
    with pytest.raises(ValueError, match="eta"):
        identical_steady_state(N, 1.001 * SYNC_LIMIT * N)
    assert np.isfinite(identical_fixed_point(N, 0.0624 * N)[0])
    assert np.isnan(identical_fixed_point(N, 0.0628 * N)[0])
    # dynamics: locked below, collapse of the amplitude above the limit
    assert solve_two_ensembles(N, 0.0615 * N, 0.0)["synchronized"]
    above = solve_two_ensembles(N, 0.064 * N, 0.0)
    assert not above["synchronized"] and above["status"] == "collapse"


# --------------------------------------------------------------------------- eqs 20–21
def test_eq20_against_full_two_ensembles():
    """Eq 20 vs eqs 16–17 with N/2 + N/2 spins: same trajectories to O(1/N) (N = 10⁴)."""
    from scipy.integrate import solve_ivp
    N, x, y = 10_000, 0.03, 0.02
    eta, delta = x * N, y
    y0 = two_ensemble_state(N, eta)
    A0, z0 = np.hypot(y0[0], y0[2]), y0[4]
    ts = np.linspace(0, 60, 7)
    full = solve_ivp(_two_rhs, (0, 60), y0, args=(N, eta, delta, 1.0), method="LSODA",
                     t_eval=ts, rtol=1e-10, atol=1e-12).y
    red = solve_ivp(lambda t, v: reduced_rhs(v, N, eta, delta), (0, 60), [A0, 0.0, z0],
                    method="LSODA", t_eval=ts, rtol=1e-10, atol=1e-12).y
    printed = solve_ivp(lambda t, v: reduced_rhs(v, N, eta, delta, as_printed=True), (0, 60),
                        [A0, 0.0, z0], method="LSODA", t_eval=ts, rtol=1e-10, atol=1e-12).y
    # eq 20 as printed (no −2Γ₂(c₂/N + |c₁|²) in Ȧ/A) does not lock: ζ → π/2, z > 1
    assert abs(printed[1, -1] - np.pi / 2) < 1e-2 and printed[2, -1] > 1
    sp1, sp2 = full[0] + 1j * full[2], full[1] + 1j * full[3]
    np.testing.assert_allclose(np.abs(sp1), np.abs(sp2), rtol=1e-8)     # symmetric ansatz
    np.testing.assert_allclose(full[4], full[5], atol=1e-8)
    assert abs(full[0, -1] + 1j * full[2, -1]) > 0.25 and np.all(full[4] < -0.7)  # locking
    np.testing.assert_allclose(np.angle(sp1) - np.pi / 4, red[1], atol=1e-4)
    np.testing.assert_allclose(np.abs(sp1), red[0], rtol=1e-4)
    np.testing.assert_allclose(full[4], red[2], atol=1e-4)


@pytest.mark.parametrize("x, y", [(0.02, 0.0005), (0.04, 0.001)])
def test_eq21_small_zeta(x, y):
    N = 10_000
    A21, zeta21, z21 = small_zeta_solution(N, x * N, y)
    assert zeta21 < 0.1
    sol = solve_two_ensembles(N, x * N, y)
    assert sol["synchronized"]
    assert abs(sol["zeta"] - zeta21) < 0.03 * zeta21   # O(ζ², 1/N)
    assert abs(sol["A"] - A21) < 0.01 * A21 and abs(sol["z"] - z21) < 0.01


# --------------------------------------------------------------------------- Fig. 4
def test_phase_spread_map_small():
    N = 10_000
    x = np.array([0.03, 0.065])
    y = np.array([0.01, 0.075])
    m = phase_spread_map(N, y * N ** 2, x * N, progress_bar=False)
    assert m.zeta.shape == (2, 2)
    assert np.array_equal(np.isnan(m.zeta), m.not_converged)
    assert m.synchronized[0, 0] and not m.synchronized[0, 1] and not m.synchronized[1, 0]
    assert 0 < m.zeta[0, 0] < np.pi / 2
    np.testing.assert_allclose(m.x, x)
    np.testing.assert_allclose(m.y, y)


@pytest.mark.parametrize("N", [1_000, 100_000])
def test_boundary_N_independent_in_scaled_units(N):
    """At η̃/N = 1/32 the locking edge sits at δ/Γ₂ = δ̃/N² ≈ 0.069 for every N."""
    x = 1 / 32
    assert solve_two_ensembles(N, x * N, 0.066)["synchronized"]
    assert not solve_two_ensembles(N, x * N, 0.072)["synchronized"]


def test_fit_boundary_recovers_ellipse():
    a, b = 0.03125, 2.2077
    xs = np.linspace(0.034, 0.062, 12)
    f = fit_boundary(xs, ellipse_boundary(xs, a, b))
    assert abs(f["a"] - a) < 1e-8 and abs(f["b"] - b) < 1e-6
    assert abs(f["delta_c"] - a * b) < 1e-8


# --------------------------------------------------------------------------- bad input
def test_bad_input():
    with pytest.raises(ValueError, match="N"):
        solve_two_ensembles(11, 1.0, 0.1)
    with pytest.raises(ValueError, match="N"):
        phase_spread_map(101, [0.0], [1.0], progress_bar=False)
    with pytest.raises(ValueError, match="eta"):
        identical_steady_state(100, -1.0)
    with pytest.raises(ValueError, match="eta"):
        meanfield_rhs([0.1], [0.0], [0.0], eta=-1)
    with pytest.raises(ValueError, match="Gamma2"):
        solve_two_ensembles(10, 1.0, 0.1, Gamma2=-1.0)
    with pytest.raises(ValueError, match="Gamma2"):
        small_zeta_solution(100, 1.0, 0.1, Gamma2=-2)
    with pytest.raises(ValueError, match="detunings"):
        meanfield_rhs([0.1, 0.2], [0.0, 0.0], [0.0, np.nan])
    with pytest.raises(ValueError, match="detunings"):
        cluster_description([5, 5], [0.1, np.nan], 1.0)
    with pytest.raises(ValueError, match="delta_tilde"):
        phase_spread_map(10, [np.nan], [1.0], progress_bar=False)
    with pytest.raises(ValueError, match="map"):
        phase_spread_map(10, [0.0], [1.0], map="threads", progress_bar=False)
