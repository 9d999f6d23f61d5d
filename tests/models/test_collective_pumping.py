"""CollectivePumping (seed 003): closed forms, relaxation rate, scans, metrology, App. B.

Each physics check compares with something independent of the code under test:
exact rational sums / hand-derived closed forms
(``tests/systems/collective_pumping_reference.py``), ``qutip.piqs``,
``qutip.mesolve`` and explicit tensor-product operators.  Tolerances are
stated with their reason next to each assertion.
"""
from fractions import Fraction

import numpy as np
import pytest
import qutip

from qutip_superrad.models import collective_pumping as cp
from qutip_superrad.models.collective_pumping import CollectivePumping

import collective_pumping_reference as ref

W_GRID = [1e-3, 0.5, 0.9, 0.99, 0.999, 1 - 1e-9, 1.0, 1 + 1e-7, 1.001, 1.01, 1.1, 2.0, 1e3]


# --------------------------------------------------------------------------
# steady state: exact manifold vs closed forms (acceptance: 1e-10 up to N=1000)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("N", [1, 2, 3, 10, 100, 1000])
def test_exact_steady_state_equals_closed_form(N):
    # manifold solver (detailed balance of the sector generator) vs the
    # closed forms from Z(β) (eqs. 3–4, D3), evaluated without cancellation;
    # tolerance 1e-10 relative (acceptance criterion; measured ≤ 3e-12).
    for w in W_GRID:
        m = CollectivePumping(N, 1.0, w)
        a, b = m.steadystate(), m.steadystate("closed_form")
        scale_jz = max(1.0, abs(b.jz))
        scale_var = max(1.0, b.jz_variance)
        assert abs(a.jz - b.jz) < 1e-10 * scale_jz, (N, w)
        assert abs(a.jz_variance - b.jz_variance) < 1e-10 * scale_var, (N, w)
        assert a.jplus_jminus == pytest.approx(b.jplus_jminus, rel=1e-9, abs=1e-9)
        assert a.checks["residual"] < 1e-9 * N ** 2 and a.checks["positive"]


@pytest.mark.parametrize("N", [3, 100, 1000])
def test_closed_form_vs_direct_sum(N):
    # closed form vs an fsum-compensated direct sum of Boltzmann weights and
    # exact rationals (tolerance 1e-11 relative: double rounding of the sums)
    for beta in [-0.3, -1e-3, -1e-6, 0.0, 1e-8, 2e-2, 1.0, 5.0]:
        mean, var = ref.thermal_moments_fsum(N, beta)
        assert cp.thermal_jz(N, beta) == pytest.approx(mean, rel=1e-11, abs=1e-11 * N)
        assert cp.thermal_jz_variance(N, beta) == pytest.approx(var, rel=1e-11, abs=1e-11)
    rm, rv = ref.thermal_moments_exact(N, Fraction(101, 100))
    assert cp.thermal_jz(N, -np.log(1.01)) == pytest.approx(rm, rel=1e-12)
    assert cp.thermal_jz_variance(N, -np.log(1.01)) == pytest.approx(rv, rel=1e-12)


def test_variance_at_transition_and_large_n_form():
    for N in (10, 100, 1000):
        ss = CollectivePumping(N, 2.0, 2.0).steadystate()
        assert ss.jz == pytest.approx(0, abs=1e-10 * N)
        assert ss.jz_variance == pytest.approx(ref.variance_at_transition(N), rel=1e-12)
    # eq. 4 (large N, |w/γ−1| ≪ 1) agrees with the exact ⟨J_z⟩ to O(1/N) relative
    N = 1000
    for x in (1e-4, 1e-3, 5e-3):
        exact = CollectivePumping(N, 1.0, 1 + x).steadystate().jz
        assert exact == pytest.approx(ref.jz_large_n(N, 1 + x), rel=2e-3)


def test_steady_state_vs_piqs():
    # qutip.piqs Dicke-basis Liouvillian (j = N/2 block) solved by sparse LU;
    # agreement to 1e-9 relative.
    m = CollectivePumping(12, 1.0, 1.15)
    a, b = m.steadystate(), m.steadystate("piqs")
    assert b.jz == pytest.approx(a.jz, rel=1e-9)
    assert b.jz_variance == pytest.approx(a.jz_variance, rel=1e-9)
    assert np.allclose(b.populations, a.populations, atol=1e-10)


def test_steady_state_qobj_and_qutip_steadystate():
    m = CollectivePumping(6, 1.0, 0.6)
    ss = m.steadystate()
    rho = qutip.steadystate(m.liouvillian())
    assert (rho - ss.state).norm() < 1e-12
    jm, jp, jz = m.spin_operators()
    assert qutip.expect(jz, ss.state) == pytest.approx(ss.jz, abs=1e-13)
    assert qutip.expect(jp * jm, ss.state) == pytest.approx(ss.jplus_jminus, abs=1e-12)
    assert len(m.c_ops()) == 2


# --------------------------------------------------------------------------
# relaxation rate (Fig. 2b, App. E)
# --------------------------------------------------------------------------

def test_minimum_relaxation_rate_is_2gamma_at_transition():
    # acceptance: min over w of λ(w) is 2γ (1 %) at w = γ for N = 100
    gamma = 1.0
    m = CollectivePumping(100, gamma, 1.0)
    ws = np.linspace(0.9, 1.1, 401)
    lam = np.array([m.relaxation_rate(w=w) for w in ws])
    i = np.argmin(lam)
    assert lam[i] == pytest.approx(2 * gamma, rel=1e-2)
    assert ws[i] == pytest.approx(gamma, abs=2e-3)
    assert m.relaxation_rate() == pytest.approx(2 * gamma, rel=1e-10)   # exactly 2γ at w = γ
    assert m.sector_gap(1) == pytest.approx(gamma, rel=1e-10)          # App. C: Diag(±1) gap γ


def test_cumulant_rate_agrees_to_order_gamma():
    # Fig. 2b: E5 and the exact gap agree up to O(γ) (measured max 3.33γ for
    # N = 100 and 3.22γ for N = 1000, independent of N); both 2γ at w = γ.
    N, gamma = 100, 1.0
    m = CollectivePumping(N, gamma, 1.0)
    for w in (0.9, 0.99, 1.01, 1.1):
        big = CollectivePumping(1000, gamma, w)
        assert abs(big.relaxation_rate("cumulant") - big.relaxation_rate()) < 4 * gamma
    assert m.relaxation_rate("cumulant") == pytest.approx(2 * gamma, rel=1e-12)
    assert m.relaxation_rate("cumulant_large_n") == pytest.approx(2 * gamma, rel=1e-12)
    for w in np.linspace(0.5, 1.5, 41):
        ex = m.relaxation_rate(w=w)
        assert abs(m.relaxation_rate("cumulant", w=w) - ex) < 4 * gamma
        # eq. 7 = E5 − (w − γ): check the algebra
        assert m.relaxation_rate("cumulant_large_n", w=w) == pytest.approx(
            m.relaxation_rate("cumulant", w=w) - (w - gamma) + 2 * (w - gamma) *
            (ref.jz_large_n(N, w) - cp.thermal_jz(N, -np.log(w))) if abs(w - 1) > 1e-9
            else 2.0, rel=1e-9, abs=1e-9)


def test_cumulant_equations_vs_exact_dynamics():
    # The cumulant ODEs are exact but for the third-cumulant closure: the
    # fixed point at w = γ is exact (N(N+2)/12) and the mean follows the exact
    # one to a few % of N/2 during relaxation.
    N = 40
    m = CollectivePumping(N, 1.0, 1.0)
    tl = np.linspace(0, 8, 41)
    ex = m.evolve(tl)
    cu = m.evolve(tl, method="cumulant")
    assert cu.jz[-1] == pytest.approx(0, abs=1e-3)
    assert cu.jz_variance[-1] == pytest.approx(ref.variance_at_transition(N), rel=1e-3)
    assert np.max(np.abs(cu.jz - ex.jz)) < 0.1 * N / 2
    mt = CollectivePumping(N, 1.0, lambda t: 0.5 + 0.5 * t)
    assert np.max(np.abs(mt.evolve(tl, "cumulant").jz - mt.evolve(tl).jz)) < 0.1 * N / 2


# --------------------------------------------------------------------------
# time dependence
# --------------------------------------------------------------------------

def test_time_dependent_pump_vs_piqs_and_coefficient():
    # w(t) as a Python function and as a qutip.Coefficient give the same
    # evolution, equal to qutip.mesolve on the piqs Liouvillian (1e-6: ODE tol)
    wf = lambda t: 0.3 + 0.4 * t        # noqa: E731
    tl = np.linspace(0, 3, 16)
    a = CollectivePumping(8, 1.0, wf).evolve(tl)
    b = CollectivePumping(8, 1.0, qutip.coefficient(wf)).evolve(tl)
    c = CollectivePumping(8, 1.0, wf).evolve(tl, method="piqs")
    assert np.allclose(a.jz, b.jz, atol=1e-10)
    assert np.max(np.abs(a.jz - c.jz)) < 1e-5
    assert np.allclose(a.pump, wf(tl))


def test_initial_states():
    m = CollectivePumping(5, 1.0, 0.5)
    tl = [0.0, 0.1]
    assert m.evolve(tl).jz[0] == -2.5
    assert m.evolve(tl, initial="excited").jz[0] == 2.5
    assert m.evolve(tl, initial="steady").jz[0] == pytest.approx(m.steadystate().jz)
    ket = qutip.basis(6, 0)                       # QuTiP index 0 is m = +j
    assert m.evolve(tl, initial=ket).jz[0] == 2.5
    with pytest.raises(ValueError, match="dimension"):
        m.evolve(tl, initial=qutip.basis(4, 0))
    # store_states keeps the coherences of a coherent spin state
    psi = qutip.spin_coherent(2.5, np.pi / 2, 0.0)
    ev = m.evolve(tl, initial=psi, options={"store_states": True})
    jx = qutip.jmat(2.5, "x")
    assert qutip.expect(jx, ev.states[0]) == pytest.approx(2.5, abs=1e-12)
    assert qutip.expect(qutip.jmat(2.5, "z"), ev.states[-1]) == pytest.approx(ev.jz[-1],
                                                                                abs=1e-7)


# --------------------------------------------------------------------------
# scanned pumping (Figs 3, 4)
# --------------------------------------------------------------------------

def test_adiabatic_boundaries_eq8_limits():
    # the boundaries from λ of eq. 7 reproduce both asymptotes of eq. 8
    # (N = 1000 so that the r = 1e4 boundary stays above w = 0)
    N = 1000
    wm, wp = cp.adiabatic_boundaries(N, 0.01)
    assert (wp - wm) == pytest.approx(ref.hysteresis_width_eq8(N, 0.01), rel=1e-3)
    wm, wp = cp.adiabatic_boundaries(N, 1e4)
    assert (wp - wm) == pytest.approx(ref.hysteresis_width_eq8(N, 1e4), rel=2e-2)
    assert wm < 1 < wp


def test_hysteresis_loop_short():
    # N = 50, r = 16: the loop opens (width > transition width 2γ/N), is
    # centred on w = γ (by the w ↔ symmetry of the scan, to 1 %), and both
    # branches end on the steady state.
    loop = cp.hysteresis_loop(50, 16.0)
    assert loop.scaled_width == pytest.approx(9.0, rel=0.05)   # measured 9.01 (N=100, 1000)
    centre = 0.5 * (loop.w_cross_up + loop.w_cross_down)
    assert centre == pytest.approx(1.0, abs=0.01 * loop.width + 1e-6)
    end_up = CollectivePumping(50, 1.0, loop.w_up[-1]).steadystate().jz
    assert loop.jz_up[-1] == pytest.approx(end_up, rel=1e-3)
    # slow scan: Δw_H ≈ (2γ/N) r (eq. 8, r ≪ γ)
    slow = cp.hysteresis_loop(50, 0.1)
    assert slow.scaled_width == pytest.approx(0.1, rel=0.05)
    # adiabatic limit of the single-scan resolution: eq. (5), γ√(12/(N(N+2)))
    # (1 %: finite r and the grid derivative)
    res = cp.hysteresis_loop(50, 0.01, options={"npoints": 2001}).scan_resolution()
    assert res == pytest.approx(ref.sensitivity_at_transition(50), rel=1e-2)


@pytest.mark.slow
def test_hysteresis_exponent_and_collapse():
    # Fig. 4: η ≈ 0.6 for r ≫ γ (seed: 0.61), η = 1 for r ≪ γ, N-collapse
    rs = np.logspace(1, 2.5, 7)
    w100 = cp.hysteresis_widths(100, rs)
    w200 = cp.hysteresis_widths(200, rs)
    eta, _ = cp.fit_power_law(rs, w100)
    assert 0.55 < eta < 0.7
    assert np.allclose(w100, w200, rtol=0.02)
    slow = np.array([0.05, 0.1, 0.2])
    eta_slow, A = cp.fit_power_law(slow, cp.hysteresis_widths(100, slow))
    assert eta_slow == pytest.approx(1.0, abs=0.02)


# --------------------------------------------------------------------------
# metrology (eq. 5, App. D, eq. 9)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("N,w", [(10, 0.2), (100, 1.0), (1000, 1.0), (1000, 1.001), (1000, 1.3)])
def test_fisher_information_equals_variance(N, w):
    # numerical (finite-difference) classical and quantum Fisher information of
    # the exact steady state vs Var[J_z] from the closed form (App. D);
    # 5-point stencil: relative error ≤ 1e-7 (measured).
    m = CollectivePumping(N, 1.0, w)
    var = m.steadystate("closed_form").jz_variance
    assert m.fisher_information("beta") == pytest.approx(var, rel=1e-6)
    if N <= 100:     # generic SLD formula diagonalises the (N+1)² density matrix
        assert m.fisher_information("beta", "quantum") == pytest.approx(var, rel=1e-6)
    assert m.fisher_information("w") * w ** 2 == pytest.approx(var, rel=1e-6)


def test_sensitivity_approaches_sqrt12_over_n():
    for N in (10, 100, 1000):
        dw = CollectivePumping(N, 1.0, 1.0).sensitivity()
        assert dw == pytest.approx(ref.sensitivity_at_transition(N), rel=1e-6)
    dw = CollectivePumping(1000, 1.0, 1.0).sensitivity()
    assert dw * 1000 == pytest.approx(np.sqrt(12), rel=1.5e-3)   # √(N/(N+2)) correction


def test_scan_sensitivity_eq9():
    N, T = 100, 1e4
    slow = cp.scan_sensitivity(N, 0.1, T, eta=0.6)
    # r ≪ γ: δw_total = √(C δw · 2 · δw / (ẇ T)) with δw = √12γ/N
    dw = np.sqrt(12) / N
    assert slow == pytest.approx(dw * np.sqrt(2 * 4 * dw / (2 * 0.1 / N * T)), rel=1e-12)
    # r ≫ γ grows as r^{(3η−1)/2}
    a, b = cp.scan_sensitivity(N, 100, T, eta=0.6), cp.scan_sensitivity(N, 1000, T, eta=0.6)
    assert np.log(b / a) / np.log(10) == pytest.approx((3 * 0.6 - 1) / 2, rel=1e-9)
    assert cp.scan_sensitivity(N, 16, T, width=cp.hysteresis_loop(N, 16).width) > 0


# --------------------------------------------------------------------------
# local terms (Dicke basis through qutip.piqs)
# --------------------------------------------------------------------------

def test_local_terms_use_piqs_route():
    m = CollectivePumping(4, 1.0, 1.0, emission=0.1)
    with pytest.raises(ValueError, match="piqs"):
        m.steadystate()
    with pytest.raises(ValueError, match="piqs"):
        m.relaxation_rate()
    ss = m.steadystate("piqs")
    # cross-check against qutip.mesolve in the full 2^N tensor space, long time
    N = 4
    sm = [qutip.tensor([qutip.sigmam() if k == n else qutip.qeye(2) for k in range(N)])
          for n in range(N)]
    Jm = sum(sm)
    Jz = 0.5 * sum(s.dag() * s - s * s.dag() for s in sm)
    c_ops = [Jm, Jm.dag()] + [np.sqrt(0.1) * s for s in sm]
    ground = qutip.tensor([qutip.basis(2, 1)] * N)     # basis(2, 1) is |g⟩
    rho = qutip.steadystate(qutip.liouvillian(None, c_ops))
    # unique full-space steady state with local emission; piqs builds its
    # Liouvillian with a ~1e-7 relative error (measured 5e-8 here), hence 1e-6
    assert qutip.expect(Jz, rho) == pytest.approx(ss.jz, abs=1e-6)
    # dephasing convention: piqs dephasing=γφ is (γφ/4) D[σz] per atom (N = 3)
    sm3 = [qutip.tensor([qutip.sigmam() if k == n else qutip.qeye(2) for k in range(3)])
           for n in range(3)]
    c3 = [sum(sm3), np.sqrt(0.8) * sum(sm3).dag()] + [np.sqrt(0.1) * s for s in sm3] + \
         [np.sqrt(0.3 / 4) * (2 * s.dag() * s - 1) for s in sm3]
    Jz3 = 0.5 * sum(s.dag() * s - s * s.dag() for s in sm3)
    full3 = qutip.expect(Jz3, qutip.steadystate(qutip.liouvillian(None, c3)))
    ss3 = CollectivePumping(3, 1.0, 0.8, emission=0.1, dephasing=0.3).steadystate("piqs")
    assert ss3.jz == pytest.approx(full3, abs=1e-6)
    ev = CollectivePumping(4, 1.0, 1.0, emission=0.1).evolve([0, 1], method="piqs")
    r = qutip.mesolve(qutip.liouvillian(None, c_ops), ground.proj(), [0, 1],
                      e_ops=[Jz], options={"atol": 1e-10, "rtol": 1e-8})
    assert ev.jz[-1] == pytest.approx(r.expect[0][-1], abs=1e-6)


# --------------------------------------------------------------------------
# Appendix B: 3-level model → effective collective pumping
# --------------------------------------------------------------------------

def test_schwinger_operators_match_tensor_products():
    # the symmetric-subspace J_{μν} equal the tensor-product ones restricted
    # to symmetrised states (N = 3, exact up to rounding)
    import itertools
    N = 3
    J, states = cp._symmetric_three_level(N)
    Jf = cp._full_three_level(N)
    cols = []
    for s in states:
        labels = [0] * s[0] + [1] * s[1] + [2] * s[2]
        perms = set(itertools.permutations(labels))
        ket = sum(qutip.tensor([qutip.basis(3, l) for l in p]) for p in perms)
        cols.append(ket.unit().full().ravel())
    V = np.array(cols).T
    for mu in range(3):
        for nu in range(3):
            A = Jf[mu][nu].full()
            assert np.allclose(A @ V, V @ J[mu][nu].full(), atol=1e-12)


def test_three_level_converges_to_effective_pumping():
    # w = γ_r(Ω/δ)² fixed; the deviation of ⟨J_z⟩ decreases with δ down to a
    # floor O(N w/γ_r) set by the |r⟩ population (App. B conditions B14/B16).
    N, gamma, gamma_r, w = 4, 1.0, 4000.0, 1.2
    ref_jz = CollectivePumping(N, gamma, w).steadystate().jz
    devs = []
    for delta in (1e4, 1e5, 1e6):
        s = cp.three_level_pumping(N, gamma, gamma_r, delta * np.sqrt(w / gamma_r), delta)
        assert s.effective_pump == pytest.approx(w)
        devs.append(abs(s.jz - ref_jz))
    assert devs[0] > devs[1] > devs[2]
    assert devs[2] < 2e-3 * N / 2


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------

def test_bad_inputs():
    with pytest.raises(ValueError, match="N"):
        CollectivePumping(0, 1, 1)
    with pytest.raises(ValueError, match="N"):
        CollectivePumping(2.5, 1, 1)
    with pytest.raises(ValueError, match="collective_emission"):
        CollectivePumping(5, -1, 1)
    with pytest.raises(ValueError, match="collective_pumping"):
        CollectivePumping(5, 1, -0.1)
    with pytest.raises(ValueError, match="collective_pumping"):
        CollectivePumping(5, 1, float("inf"))
    with pytest.raises(TypeError, match="collective_pumping"):
        CollectivePumping(5, 1, "fast")
    with pytest.raises(ValueError, match="emission"):
        CollectivePumping(5, 1, 1, emission=-1)
    m = CollectivePumping(5, 1, lambda t: float("nan"))
    with pytest.raises(ValueError, match="finite"):
        m.evolve([0, 1])
    with pytest.raises(ValueError, match="time t"):
        m.steadystate()
    with pytest.raises(ValueError, match="increasing"):
        CollectivePumping(5, 1, 1).evolve([0, 1, 1])
    with pytest.raises(ValueError, match="method"):
        CollectivePumping(5, 1, 1).steadystate("magic")
    with pytest.raises(ValueError, match="method"):
        CollectivePumping(5, 1, 1).relaxation_rate("magic")
    with pytest.raises(ValueError, match="unknown option"):
        cp.hysteresis_loop(5, 1.0, options={"spam": 1})
    with pytest.raises(ValueError, match="r must be > 0"):
        cp.hysteresis_loop(5, 0.0)
    with pytest.raises(ValueError, match="delta"):
        cp.three_level_pumping(2, 1, 1, 1, 0)
    ts = CollectivePumping(5, 1, lambda t: 1.0 + t)
    assert ts.steadystate(t=1.0).pump == 2.0


# --------------------------------------------------------------------------
# vocabulary: collective_emission / collective_pumping (formerly gamma / pump)
# --------------------------------------------------------------------------

def test_old_keywords_warn_and_give_the_same_result():
    import inspect
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # the new names do not warn
        new = CollectivePumping(6, collective_emission=1.0, collective_pumping=1.3,
                                emission=0.05, dephasing=0.1)
        positional = CollectivePumping(6, 1.0, 1.3, emission=0.05, dephasing=0.1)
        loop_new = cp.hysteresis_loop(20, 4.0, collective_emission=1.5)
    assert list(inspect.signature(CollectivePumping).parameters)[:3] == [
        "N", "collective_emission", "collective_pumping"]
    with pytest.warns(FutureWarning, match="'gamma' is renamed to 'collective_emission'"):
        with pytest.warns(FutureWarning, match="'pump' is renamed to 'collective_pumping'"):
            old = CollectivePumping(6, gamma=1.0, pump=1.3, emission=0.05, dephasing=0.1)
    assert repr(old) == repr(new) == repr(positional)
    for method in ("dicke", "piqs"):
        a, b = new.steadystate(method), old.steadystate(method)
        assert (a.jz, a.jz_variance, a.jplus_jminus) == (b.jz, b.jz_variance, b.jplus_jminus)
    with pytest.warns(FutureWarning, match="'pump'"):
        pure_old = CollectivePumping(50, 1.0, pump=1.02)          # manifold route too
    assert pure_old.steadystate().jz == CollectivePumping(50, 1.0, 1.02).steadystate().jz
    # the old attribute names read (with the warning), but cannot be set
    with pytest.warns(FutureWarning, match="'gamma' is renamed"):
        assert new.gamma == new.collective_emission == 1.0
    with pytest.warns(FutureWarning, match="'pump' is renamed"):
        assert new.pump == new.collective_pumping == 1.3
    with pytest.raises(AttributeError):
        new.gamma = 2.0
    # old and new together are an error
    with pytest.raises(TypeError, match="both 'gamma' and its new name"):
        CollectivePumping(6, collective_emission=1.0, gamma=1.0, collective_pumping=1.3)
    # the module-level functions: gamma -> collective_emission
    with pytest.warns(FutureWarning, match="hysteresis_loop\\(\\): 'gamma' is renamed"):
        loop_old = cp.hysteresis_loop(20, 4.0, gamma=1.5)
    assert np.array_equal(loop_old.jz_up, loop_new.jz_up) and loop_old.width == loop_new.width
    assert loop_new.collective_emission == 1.5
    with pytest.warns(FutureWarning):
        assert loop_new.gamma == 1.5
    calls = [(cp.adiabatic_boundaries, (100, 2.0)), (cp.thermal_beta, ()),
             (cp.cumulant_relaxation_rate, (100,)), (cp.linear_scan, (100, 2.0)),
             (cp.scan_sensitivity, (100, 0.1, 1e4))]
    for fn, args in calls:
        extra = {"w": 1.1} if fn in (cp.thermal_beta, cp.cumulant_relaxation_rate) else {}
        extra.update({"eta": 0.6} if fn is cp.scan_sensitivity else {})
        with pytest.warns(FutureWarning, match="'gamma' is renamed to 'collective_emission'"):
            a = fn(*args, gamma=1.5, **extra)
        b = fn(*args, collective_emission=1.5, **extra)
        if callable(a):
            assert a(3.0) == b(3.0)
        else:
            assert a == b
    with pytest.warns(FutureWarning, match="three_level_pumping"):
        a = cp.three_level_pumping(2, gamma=1.0, gamma_r=400.0, omega=10.0, delta=1e3)
    b = cp.three_level_pumping(2, collective_emission=1.0, gamma_r=400.0, omega=10.0, delta=1e3)
    assert a.jz == b.jz
