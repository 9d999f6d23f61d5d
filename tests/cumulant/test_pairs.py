"""Per-pair mean-field and second-order cumulants of dipole arrays (seed 001, Zhu et al. 2015).

Oracles: the package's general cumulant engine with explicit atoms (independent code;
same closure, so agreement to rounding), the exact full space (a physics check with a
stated tolerance), the seed's closed forms (eqs 5–7, 10) and the exact two-time
correlations.
"""
import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.cumulant.pairs import (PairCumulants, PairState, fit_damped_cosine,
                                           pair_parameters, product_state)
from qutip_superrad.solvers.cumulant import _solver


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def random_model(N, seed, g_scale=0.5, d_scale=0.5):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(N, N))
    F = A @ A.T / N + 0.5 * np.eye(N)           # PSD, Γ_a ~ 1
    G = rng.normal(size=(N, N)) * g_scale
    G = 0.5 * (G + G.T)
    delta = rng.normal(size=N) * d_scale
    W = rng.uniform(0.5, 2.0, size=N)
    return F, G, delta, W


def engine_model(F, G, delta, W):
    N = len(delta)
    atoms = [qsr.Atom(f"d{i}", 2) for i in range(N)]
    H = sum(0.5 * float(delta[i]) * atoms[i].sz for i in range(N))
    if G is not None and np.any(G != 0):
        H = H + 0.5 * qsr.pair_sum(atoms, G, lambda a: a.sp, lambda a: a.sm)
    W = np.broadcast_to(np.asarray(W, float), (N,))
    pump = qsr.parameters("pump")[0]       # a named rate gives the engine its rate scale
    W0 = float(W.max())
    jumps = qsr.correlated_decay(atoms, F) + [(pump * float(W[i] / W0), atoms[i].sp)
                                             for i in range(N)]
    return qsr.Model(H, jumps, parameters={"pump": W0}), atoms


def moment_ops(atoms, with_sm=False):
    N = len(atoms)
    e = {("s", a): atoms[a].sz for a in range(N)}
    if with_sm:
        e.update({("m", a): atoms[a].sm for a in range(N)})
    for a in range(N):
        for b in range(N):
            if a != b:
                e[("C", a, b)] = atoms[a].sp * atoms[b].sm
                e[("D", a, b)] = atoms[a].sz * atoms[b].sz
    return e


def mine(state, key):
    if key[0] == "s":
        return state.s[key[1]]
    if key[0] == "m":
        return state.sm[key[1]]
    return getattr(state, key[0])[key[1], key[2]]


def z_eq10(W, feff, gam=1.0):
    x = feff * (W - gam) - (W + gam) ** 2
    return np.sqrt(max(x, 0.0)) / (np.sqrt(2) * feff)


def all_to_all(N, feff, gam=1.0):
    f = np.full((N, N), feff / N)
    np.fill_diagonal(f, gam)
    return f


def power_law(N, coeff, alpha, gam=1.0):
    r = np.abs(np.subtract.outer(np.arange(N), np.arange(N))).astype(float)
    with np.errstate(divide="ignore"):
        f = coeff * r ** (-alpha)
    np.fill_diagonal(f, gam)
    return f


# --------------------------------------------------------------------------------------
# against the general cumulant engine (oracle, same closure): rounding-level agreement
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("N, seed", [(3, 1), (5, 2)])
def test_order2_steadystate_matches_engine(N, seed):
    F, G, delta, W = random_model(N, seed)
    model, atoms = engine_model(F, G, delta, W)
    e = moment_ops(atoms)
    ref = qsr.steadystate(model, "cumulant", e_ops=e)
    st = PairCumulants(F, G, delta, W, order=2).steadystate({"tol": 1e-13})
    err = max(abs(ref.values[k] - mine(st, k)) for k in e)
    assert err < 1e-8
    # C Hermitian, D symmetric, zero diagonals
    assert np.allclose(st.C, st.C.conj().T, atol=0) and np.all(np.diag(st.C) == 0)
    assert np.allclose(st.D, st.D.T, atol=0)


def test_order2_evolution_matches_engine():
    N = 4
    F, G, delta, W = random_model(N, 3)
    model, atoms = engine_model(F, G, delta, W)
    rng = np.random.default_rng(7)
    s0 = rng.uniform(-1, 1, N)
    _, solver = _solver(model, {"order": 2, "backend": "auto"}, True)
    vals = {f"σ[d{a}]22": (1 + s0[a]) / 2 for a in range(N)}
    for a in range(N):
        for b in range(a + 1, N):
            vals[f"σ[d{a}]22 σ[d{b}]22"] = (1 + s0[a]) * (1 + s0[b]) / 4
    tl = np.linspace(0, 3, 16)
    tight = {"rtol": 1e-11, "atol": 1e-13}
    e = moment_ops(atoms)
    ref = qsr.evolve(model, tl, "cumulant", e_ops=e, initial=solver.initial_state(vals),
                     options={"evolve": tight})
    ev = PairCumulants(F, G, delta, W).evolve(tl, {"sz": s0}, tight)
    err = max(np.max(np.abs(ref.values[k] - np.array([mine(s, k) for s in ev.states])))
              for k in e)
    assert err < 1e-8
    assert np.allclose(ev.s[0], s0) and np.allclose(ev.states[0].D[0, 1], s0[0] * s0[1])


def test_order2_default_initial_is_all_down():
    F, G, delta, W = random_model(3, 4)
    ev = PairCumulants(F, G, delta, W).evolve([0.0, 0.1])
    assert np.all(ev.s[0] == -1) and np.all(ev.states[0].D[~np.eye(3, dtype=bool)] == 1)


def test_order1_evolution_matches_engine_meanfield():
    """Mean field from a state with nonzero <σ⁻> (random phases) against the engine."""
    N = 4
    F, G, delta, W = random_model(N, 5)
    model, atoms = engine_model(F, G, delta, W)
    rng = np.random.default_rng(8)
    s0 = rng.uniform(-0.9, 0.9, N)
    init = product_state(N, s0, phases=rng.uniform(0, 2 * np.pi, N))
    _, solver = _solver(model, {"order": 1, "backend": "auto"}, False)
    vals = {}
    for a in range(N):
        vals[f"σ[d{a}]22"] = (1 + s0[a]) / 2
        vals[f"σ[d{a}]12"] = init["sm"][a]          # σ_12 = |1><2| = σ⁻
    tl = np.linspace(0, 3, 16)
    tight = {"rtol": 1e-11, "atol": 1e-13}
    e = {k: v for k, v in moment_ops(atoms, with_sm=True).items() if k[0] in "sm"}
    ref = qsr.evolve(model, tl, "meanfield", e_ops=e, initial=solver.initial_state(vals),
                     options={"evolve": tight})
    ev = PairCumulants(F, G, delta, W, order=1).evolve(tl, init, tight)
    err = max(np.max(np.abs(ref.values[k] - (ev.s[:, k[1]] if k[0] == "s" else ev.sm[:, k[1]])))
              for k in e)
    assert err < 1e-8
    assert np.max(np.abs(ev.sm[-1])) > 1e-4      # the coherences are really exercised


# --------------------------------------------------------------------------------------
# seed eqs (5)-(7) and (10)
# --------------------------------------------------------------------------------------
def test_seed_equations_5_to_7():
    """The RHS against the printed eqs (5)–(7) at random states.

    Convention: S⊥_a e^{iφ_a} = ρ_a^{↑↓} = <σ⁻_a> (the seed's Bloch vector), Sz = <σz>/2.
    Eqs (5) and (6) hold as printed; eq (7) holds with −δ_a instead of +δ_a (with
    H ∋ +½δσz, <σ⁻> rotates as e^{−iδt}).
    """
    N = 6
    F, G, delta, W = random_model(N, 11, g_scale=1.0, d_scale=1.0)
    eq = PairCumulants(F, G, delta, W, order=1).equations()
    rng = np.random.default_rng(12)
    gam = np.diag(F)
    for _ in range(5):
        Sz = rng.uniform(-0.5, 0.5, N)
        Sp = rng.uniform(0.05, 1.0, N) * np.sqrt(0.25 - Sz ** 2)
        phi = rng.uniform(0, 2 * np.pi, N)
        m = Sp * np.exp(1j * phi)
        dm, ds = eq.derivs(m, 2 * Sz)
        dSz = ds / 2
        dSp = np.real(dm * np.exp(-1j * phi))
        dphi = np.imag(dm * np.exp(-1j * phi)) / Sp
        dph = phi[None, :] - phi[:, None]           # δφ_ba at [a, b]
        off = ~np.eye(N, dtype=bool)
        fc = np.where(off, F, 0) * np.cos(dph)
        fs = np.where(off, F, 0) * np.sin(dph)
        gc = np.where(off, G, 0) * np.cos(dph)
        gs = np.where(off, G, 0) * np.sin(dph)
        eq5 = -Sp * ((fc - gs) @ Sp) - gam * (0.5 + Sz) + W * (0.5 - Sz)
        eq6 = -Sz * ((gs - fc) @ Sp) - (gam + W) / 2 * Sp
        eq7_printed = delta + Sz * ((gc + fs) @ Sp) / Sp
        eq7_ours = -delta + Sz * ((gc + fs) @ Sp) / Sp
        assert np.allclose(dSz, eq5, atol=1e-13)
        assert np.allclose(dSp, eq6, atol=1e-13)
        assert np.allclose(dphi, eq7_ours, atol=1e-12)
        assert not np.allclose(dphi, eq7_printed, atol=1e-3)    # the documented sign


@pytest.mark.parametrize("feff", [6.0, 12.0, 30.0])
def test_eq10_order_parameter(feff):
    """Z of the synchronised mean field, all-to-all f_ab = f_eff/N, δ = g = 0.

    Exact for finite N with f_eff → f_eff (N−1)/N; eq (10) itself (N → ∞) within O(1/N).
    """
    N = 60
    fp = feff * (N - 1) / N
    for W in [0.5, 2.0, feff / 2 - 1.0, 0.8 * feff]:
        st = PairCumulants(all_to_all(N, feff), pumping=W, order=1).steadystate()
        assert abs(st.order_parameter - z_eq10(W, fp)) < 1e-8
        # N → ∞: the finite-N shift f_eff/N of the coupling, to first order
        dzdf = (z_eq10(W, feff * 1.001) - z_eq10(W, feff * 0.999)) / (0.002 * feff)
        assert abs(st.order_parameter - z_eq10(W, feff)) <= 1.1 * abs(dzdf) * feff / N + 1e-12
        assert abs(st.frequency) < 1e-8                                   # eq (9): ω = 0
        if z_eq10(W, fp) > 0:
            assert np.ptp(st.phases) < 1e-8                               # phase locked
            assert np.allclose(st.s, (1 + W) / fp)                        # s = (Γ+W)/f


def test_optimal_pumping_tends_to_half_feff():
    """Z is maximal at W_opt = f/2 − Γ (f = f_eff (N−1)/N), Z_max = sqrt(1/8) sqrt(1 − 8/f),
    so W_opt/f_eff → 1/2 as f_eff grows."""
    N = 100            # f_eff/N <= Γ keeps f positive semidefinite
    ratios = []
    for feff in [20.0, 100.0]:
        fp = feff * (N - 1) / N
        Wopt = fp / 2 - 1.0

        def z(W, feff=feff):
            return PairCumulants(all_to_all(N, feff), pumping=W, order=1).steadystate() \
                .order_parameter

        zopt = z(Wopt)
        assert abs(zopt - np.sqrt(1 / 8) * np.sqrt(1 - 8 / fp)) < 1e-8
        assert zopt > z(Wopt - 0.02 * feff) and zopt > z(Wopt + 0.02 * feff)
        ratios.append(Wopt / feff)
    assert abs(ratios[1] - 0.5) < abs(ratios[0] - 0.5) and abs(ratios[1] - 0.5) < 0.02


def test_order1_random_phases_synchronise_and_unsynchronised_below_threshold():
    N, feff = 30, 20.0
    rng = np.random.default_rng(3)
    pc = PairCumulants(all_to_all(N, feff), pumping=feff / 2, order=1)
    init = product_state(N, 0.0, phases=rng.uniform(0, 2 * np.pi, N))
    ev = pc.evolve(np.linspace(0, 20, 5), init, {"states": False})
    assert ev.order_parameter[0] < 0.3
    assert abs(ev.order_parameter[-1] - z_eq10(feff / 2, feff * (N - 1) / N)) < 1e-5
    # below threshold, f (W − Γ) < (W + Γ)²: the unsynchronised state
    below = PairCumulants(all_to_all(N, feff), pumping=1.2, order=1).steadystate()
    assert below.order_parameter == 0 and not below.stats["synchronized"]


def test_order1_collective_frequency_sign():
    """Uniform δ_0 and all-to-all g: <σ⁻_a>(t) = sm_a e^{−iωt} with ω = δ_0 − R g'/(2f')
    (f' = f_eff (N−1)/N, g' likewise).  The seed's ω = g_eff Q/(2 f_eff) (Sec. III) has
    the opposite sign of the g shift relative to δ — the eq (7) sign discussed above."""
    N, feff, geff, W, d0 = 20, 20.0, 3.0, 9.0, 0.7
    g = np.full((N, N), geff / N)
    st = PairCumulants(all_to_all(N, feff), g, d0, W, order=1).steadystate()
    fp, gp = feff * (N - 1) / N, geff * (N - 1) / N
    assert abs(st.frequency - (d0 - (1 + W) * gp / (2 * fp))) < 1e-9
    assert abs(st.order_parameter - z_eq10(W, fp)) < 1e-9      # g only shifts the frequency


def test_order1_two_drifting_groups_raise():
    """Two internally coupled groups at ±3Γ detuning, weakly coupled: each group locks, the
    groups drift — no rotating steady state, so steadystate must raise (not return)."""
    n = 20
    f = np.full((2 * n, 2 * n), 0.02)
    f[:n, :n] = f[n:, n:] = 1.0
    np.fill_diagonal(f, 1.5)
    delta = np.r_[np.full(n, 3.0), np.full(n, -3.0)]
    with pytest.raises(RuntimeError, match="no rotating steady state"):
        PairCumulants(f, None, delta, 5.0, order=1).steadystate({"t_relax": 30})


# --------------------------------------------------------------------------------------
# against the exact full space
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("N", [4, 5])
def test_order2_against_exact_power_law(N):
    """Power-law f_ab = 0.8 (1/r)^0.5, f_aa = 1, detunings.  Second-order cumulants are
    an approximation: the measured deviation of C_ab, s_a is 1.3e-3–3.2e-3 for W >= 2Γ
    (the state is close to a product of strongly pumped dipoles) and grows at weak
    pumping (subradiant correlations, the seed's App. B caveat; 4.6e-3 at W = 0.5Γ,
    N = 5); tolerance 5e-3 for W >= 2Γ, 1e-2 at W = 0.5Γ."""
    F = power_law(N, 0.8, 0.5)
    delta = np.linspace(-0.2, 0.3, N)
    for W, tol in [(0.5, 1e-2), (2.0, 5e-3), (6.0, 5e-3)]:
        model, atoms = engine_model(F, None, delta, np.full(N, W))
        e = {k: v for k, v in moment_ops(atoms).items() if k[0] in "sC"}
        ex = qsr.steadystate(model, "full", e_ops=e)
        st = PairCumulants(F, None, delta, W).steadystate()
        dev = max(abs(ex.values[k] - mine(st, k)) for k in e)
        print(f"N={N} W={W}: max deviation of s, C from exact = {dev:.3g}")
        assert dev < tol
        zq_exact = np.sqrt(max(np.mean([ex.values[k].real for k in e if k[0] == "C"]), 0))
        assert abs(st.order_parameter - zq_exact) < 10 * tol


# --------------------------------------------------------------------------------------
# quantum regression
# --------------------------------------------------------------------------------------
def test_regression_against_exact_correlation():
    """Z_ab(τ) and G_aa(τ) for N = 4 strongly pumped (W = 8Γ), f_ab = 0.8 (1/r)^0.5,
    detunings: the App. B closure (⟨σz(τ)σ⁺(τ)σ⁻(0)⟩ ≈ ⟨σz⟩⟨σ⁺(τ)σ⁻(0)⟩) deviates by
    ~1.1 % of Z_ab(0) here (3–4 % at W = 2Γ); tolerance 2 %."""
    N, W = 4, 8.0
    F = power_law(N, 0.8, 0.5)
    delta = np.array([0.3, -0.2, 0.1, 0.0])
    model, atoms = engine_model(F, None, delta, np.full(N, W))
    pc = PairCumulants(F, None, delta, W)
    st = pc.steadystate()
    tau = np.linspace(0, 3, 31)
    pairs = [(0, 1), (0, 3), (1, 2)]
    Z = pc.correlation(tau, pairs, state=st)
    reg = pc.regression(st)
    for (a, b), z in zip(pairs, Z):
        ex = qsr.correlation(model, tau, "full", operator=atoms[a].sm + atoms[b].sm)
        assert np.max(np.abs(ex - z)) < 0.02 * abs(ex[0])
        # the decomposition reproduces Z(0) = G_aa + G_ab + G_ba + G_bb exactly
        assert abs(z[0] - (2 + st.s[a] + st.s[b]) / 2 - 2 * st.C[a, b].real) < 1e-12
    exa = qsr.correlation(model, tau, "full", operator=atoms[2].sm)
    assert np.max(np.abs(exa - reg.G(tau, 2, 2))) < 0.02 * abs(exa[0])
    # eig and expm paths agree
    expm = pc.regression(st, {"method": "expm"})
    assert np.allclose(expm.Z(tau[:5], pairs), Z[:, :5], atol=1e-10)


def test_fit_recovers_damped_cosine():
    tau = np.linspace(0, 10, 401)
    for A, nu, gam in [(0.3, 1.7, 0.2), (1.0, 0.0, 0.5), (0.1, 4.0, 1.0)]:
        fit = fit_damped_cosine(tau, A * np.cos(nu * tau) * np.exp(-gam * tau))
        assert abs(fit["nu"] - nu) < 1e-6 and abs(fit["gamma"] - gam) < 1e-6
        assert abs(fit["amplitude"] - A) < 1e-6 and abs(fit["omega"]) < 1e-6
    # a common rotation and two modes of equal weight: ν = half the frequency difference
    z = 0.5 * np.exp(-0.3 * tau) * (np.exp(1j * 2.0 * tau) + np.exp(1j * 0.8 * tau))
    fit = fit_damped_cosine(tau, z)
    assert abs(fit["nu"] - 0.6) < 1e-6 and abs(fit["omega"] - 1.4) < 1e-6
    assert abs(fit["gamma"] - 0.3) < 1e-6 and fit["residual"] < 1e-8


def test_entrainment_identical_vs_detuned():
    N = 6
    F = all_to_all(N, 3.0) + 0 * np.eye(N)
    delta = np.zeros(N)
    delta[5] = 6.0                            # far off resonance: drifts
    pc = PairCumulants(F, detunings=delta, pumping=2.0)
    res = pc.entrainment(0, [1, 2, 5], np.linspace(0, 6, 241))
    assert np.all(res.nu[:2] < 1e-3)          # identical dipoles: entrained, ν = 0
    assert res.nu[2] > 2.0                    # detuned dipole: beat ≈ δ/2
    assert np.all(res.gamma > 0)


# --------------------------------------------------------------------------------------
# results and API
# --------------------------------------------------------------------------------------
def test_pair_mean_and_order_parameter():
    rng = np.random.default_rng(0)
    N = 5
    C = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
    C = C + C.conj().T
    np.fill_diagonal(C, 0)
    st = PairState(2, np.zeros(N), C=C, D=np.zeros((N, N)))
    sites = [1, 2, 4]
    manual = np.mean([C[a, b].real for a in sites for b in sites if a != b])
    assert abs(st.pair_mean(sites) - manual) < 1e-14
    assert abs(st.pair_mean() - C.real.sum() / (N * (N - 1))) < 1e-14
    m = 0.3 * np.exp(1j * rng.uniform(0, 2 * np.pi, N))
    s1 = PairState(1, np.zeros(N), sm=m)
    assert abs(s1.order_parameter - abs(m.mean())) < 1e-15
    assert abs(s1.pair_mean() - (abs(m.sum()) ** 2 - np.sum(abs(m) ** 2)) / (N * (N - 1))) < 1e-14


def test_unknowns_and_real_mode():
    f = power_law(7, 0.25, 1.0)
    assert PairCumulants(f, pumping=1.0).unknowns() == 7 + 7 * 6
    assert PairCumulants(f, detunings=np.arange(7.0), pumping=1.0).unknowns() == 7 + 3 * 21
    real = PairCumulants(f, pumping=2.0).steadystate()
    cplx = PairCumulants(f, pumping=2.0).steadystate({"real": False})
    assert real.stats["real"] and not cplx.stats["real"]
    assert np.max(np.abs(real.C - cplx.C)) < 1e-9 and np.max(np.abs(real.s - cplx.s)) < 1e-9


def test_steadystate_failure_is_loud():
    F, G, delta, W = random_model(4, 9)
    with pytest.raises(RuntimeError, match="residual"):
        PairCumulants(F, G, delta, W).steadystate({"maxiter": 1, "tol": 1e-15})
    with pytest.raises(ValueError, match="unknown option"):
        PairCumulants(F, G, delta, W).steadystate({"tolerance": 1e-3})
    with pytest.raises(ValueError, match="unknown option"):
        PairCumulants(F, G, delta, W).evolve([0, 1], options={"foo": 1})


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(f=np.ones((2, 3))), "f must be a square"),
    (dict(f=np.zeros((0, 0))), "N >= 1"),
    (dict(f=np.array([[1.0, np.nan], [np.nan, 1.0]])), "f must be finite"),
    (dict(f=np.array([[1.0, 0.2], [0.3, 1.0]])), "f must be symmetric"),
    (dict(f=np.array([[1.0, 2.0], [2.0, 1.0]])), "f must be positive semidefinite"),
    (dict(f=np.array([[1.0, 0.5j], [0.5j, 1.0]])), "f must be real"),
    (dict(f=np.eye(2), g=np.ones((3, 3))), r"g must have shape \(2, 2\)"),
    (dict(f=np.eye(2), g=np.array([[0, 1.0], [2.0, 0]])), "g must be symmetric"),
    (dict(f=np.eye(2), detunings=[1.0, 2.0, 3.0]),
     r"detunings must be a scalar or have shape \(2,\)"),
    (dict(f=np.eye(2), detunings=[np.inf, 0]), "detunings must be finite"),
    (dict(f=np.eye(2), pumping=-1.0), "pumping must be a rate >= 0"),
    (dict(f=np.eye(2), pumping=[1.0, 1.0, 1.0]), r"pumping must be a scalar or have shape \(2,\)"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pair_parameters(**kwargs)
    with pytest.raises(ValueError, match=message):
        PairCumulants(**kwargs)


def test_bad_order_and_initial():
    with pytest.raises(ValueError, match="order must be <= 2"):
        PairCumulants(np.eye(2), order=3)
    pc = PairCumulants(np.eye(2), pumping=1.0)
    with pytest.raises(ValueError, match="phase invariant"):
        pc.evolve([0, 1], product_state(2, 0.0, phases=[0, 1]))
    with pytest.raises(ValueError, match="unknown key"):
        pc.evolve([0, 1], {"s": 0.0})
    with pytest.raises(ValueError, match="sz must lie"):
        product_state(2, 2.0)
    with pytest.raises(ValueError, match="unphysical"):
        product_state(2, 0.8, sm=0.4)
    with pytest.raises(ValueError, match="order=2"):
        PairCumulants(np.eye(2), pumping=1.0, order=1).regression()
