"""Issue 12 items 8, 9 and the iterative limits of item 1: states as Qobj, named initial
states, QuTiP's integrator options and progress bars, time limits."""
import io
import re
import warnings

import numpy as np
import pytest
import qutip
import scipy.sparse as sp
from qutip import piqs

import qutip_superrad as qsr
from qutip_superrad import states as S
from qutip_superrad._progress import Progress, progress

T = np.linspace(0.0, 1.5, 6)


@pytest.fixture(scope="module")
def bad_cavity():
    """Three identical atoms with collective emission and local rates (no mode)."""
    return qsr.BadCavityLaser(qsr.Ensemble.identical(3, g=1), collective_emission=1.0,
                              emission=0.1, pumping=0.5, dephasing=0.2).description()


@pytest.fixture(scope="module")
def cavity():
    return qsr.SuperradiantLaser(qsr.Ensemble.identical(2, g=1), kappa=2, emission=0.1,
                                 pumping=0.5).description()


def _jz(model):
    s = model.clusters.atom
    return model.clusters.sum(s.s(2, 2))


# -- the Dicke representation ------------------------------------------------------------

@pytest.mark.parametrize("N", [3, 4, 5])
def test_dicke_index_is_the_piqs_order(N):
    for jj in range(N // 2 + 1):
        j = N / 2 - jj
        for e in range(jj, N - jj + 1):
            rho = piqs.dicke(N, j, e - N / 2).full()
            assert rho[S.dicke_index(N, jj, e), S.dicke_index(N, jj, e)] == 1
    assert S.num_dicke_states(N) == piqs.num_dicke_states(N)


def test_to_qobj_dicke_matches_piqs_operators(bad_cavity):
    """The block-diagonal representation is qutip.piqs's: its J_z and J⁺J⁻ give the same
    expectation values as the solver's own evaluation."""
    ss = qsr.steadystate(bad_cavity, "dicke")
    rho = ss.state.to_qobj()
    N = 3
    assert rho.dims == [[piqs.num_dicke_states(N)]] * 2
    assert rho.tr() == pytest.approx(1.0, abs=1e-12)
    s = bad_cavity.clusters.atom
    Jp, Jm = bad_cavity.clusters.sum(s.sp), bad_cavity.clusters.sum(s.sm)
    jz = qutip.expect(piqs.jspin(N, "z"), rho)
    jpjm = qutip.expect(piqs.jspin(N, "+") * piqs.jspin(N, "-"), rho)
    assert jz == pytest.approx(ss.expect(_jz(bad_cavity)) - N / 2, abs=1e-12)
    assert jpjm == pytest.approx(ss.expect(Jp * Jm), abs=1e-12)


def test_to_qobj_full_agrees_with_dicke_and_full_steady_state(cavity):
    """Full vs Dicke: the Dicke steady state mapped to the tensor space is the full
    method's steady state."""
    d = qsr.steadystate(cavity, "dicke", nphot=6)
    f = qsr.steadystate(cavity, "full", nphot=6)
    rho = d.state.to_qobj("full")
    assert rho.dims == f.state.dims == [[6, 2, 2], [6, 2, 2]]
    assert np.max(np.abs((rho - f.state).full())) < 1e-9
    back = S.full_to_dicke(rho.full(), 2, 6)
    assert np.allclose(back, d.state.to_qobj().full(), atol=1e-12)


def test_full_to_dicke_refuses_a_state_that_is_not_permutation_invariant(bad_cavity):
    psi = qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 1), qutip.basis(2, 1))
    with pytest.raises(ValueError, match="initial is not representable in the Dicke basis: "
                                         "it is not a permutation-invariant state"):
        qsr.evolve(bad_cavity, T, "dicke", initial=psi)


def test_to_qobj_checks_its_arguments(bad_cavity):
    st = qsr.steadystate(bad_cavity, "dicke").state
    with pytest.raises(ValueError, match="representation must be 'dicke' or 'full'"):
        st.to_qobj("piqs")
    with pytest.raises(qsr.MemoryLimitError, match="the 'full' density matrix"):
        st.to_qobj("full", max_memory=100)


# -- named initial states, every method ----------------------------------------------------

@pytest.mark.parametrize("initial", ["ground", "excited", "superradiant", (0.5, 0.5),
                                     (1.5, -0.5)])
def test_named_states_full_equals_dicke(bad_cavity, initial):
    jz = _jz(bad_cavity)
    d = qsr.evolve(bad_cavity, T, "dicke", initial=initial, e_ops=[jz])
    f = qsr.evolve(bad_cavity, T, "full", initial=initial, e_ops=[jz])
    assert np.max(np.abs(d.values[0] - f.values[0])) < 1e-10


def test_named_states_have_their_quantum_numbers(bad_cavity):
    s = bad_cavity.clusters.atom
    c = bad_cavity.clusters
    J2 = c.sum(s.sp) * c.sum(s.sm)
    for initial, (exc, jpjm) in {"ground": (0, 0), "excited": (3, 3),
                                 "superradiant": (2, 4),      # |3/2, 1/2⟩: j(j+1) − m(m−1)
                                 (0.5, 0.5): (2, 1)}.items():
        r = qsr.evolve(bad_cavity, [0.0], "full", initial=initial, e_ops=[_jz(bad_cavity), J2])
        assert r.values[0][0] == pytest.approx(exc, abs=1e-12)
        assert r.values[1][0] == pytest.approx(jpjm, abs=1e-12)


def test_qobj_initial_equals_named_initial(cavity):
    """Evolving from the Qobj of a state (Dicke representation or tensor space) is
    evolving from the state itself, in both exact methods."""
    jz = _jz(cavity)
    ref = qsr.evolve(cavity, T, "dicke", initial="superradiant", e_ops=[jz], nphot=5)
    start = ref.states[2]
    for rep in ("dicke", "full"):
        for method in ("dicke", "full"):
            r = qsr.evolve(cavity, T[2:], method, initial=start.to_qobj(rep), e_ops=[jz],
                           nphot=5)
            assert np.max(np.abs(r.values[0] - ref.values[0][2:])) < 1e-9, (rep, method)
    ket = qutip.tensor(qutip.basis(5, 0), qutip.basis(2, 0), qutip.basis(2, 0))
    a = qsr.evolve(cavity, T, "full", initial=ket, e_ops=[jz], nphot=5)
    b = qsr.evolve(cavity, T, "dicke", initial="excited", e_ops=[jz], nphot=5)
    assert np.max(np.abs(a.values[0] - b.values[0])) < 1e-10


def test_dicke_evolves_coherences_outside_the_sector(bad_cavity):
    """A superposition of |3/2, 3/2⟩ and |3/2, 1/2⟩ has k = 1 coherences: both exact
    methods keep them (J⁻ oscillates), Dicke and full agree."""
    c, s = bad_cavity.clusters, bad_cavity.clusters.atom
    B = S.dicke_basis(3)
    psi = qutip.Qobj((B[(1.5, 1.5)][:, 0] + B[(1.5, 0.5)][:, 0]) / np.sqrt(2),
                     dims=[[2, 2, 2], [1, 1, 1]])
    Jm = c.sum(s.sm)
    d = qsr.evolve(bad_cavity, T, "dicke", initial=psi, e_ops=[Jm])
    f = qsr.evolve(bad_cavity, T, "full", initial=psi, e_ops=[Jm])
    assert abs(d.values[0][0]) == pytest.approx(np.sqrt(3) / 2, abs=1e-12)
    assert np.max(np.abs(d.values[0] - f.values[0])) < 1e-10


def test_manifold_refuses_a_lower_j():
    m = qsr.BadCavityLaser(qsr.Ensemble.identical(3, g=1), collective_emission=1.0,
                           emission=0.0, pumping=0.0).description()
    with pytest.raises(ValueError, match=re.escape(
            "initial=(0.5, 0.5) has j = 0.5 < N/2, outside the symmetric manifold of "
            "method='manifold'; use method='dicke'")):
        qsr.evolve(m, T, "manifold", initial=(0.5, 0.5))
    r = qsr.evolve(m, T, "manifold", initial="excited", e_ops=[_jz(m)])
    assert r.values[0][0] == pytest.approx(3.0)


def test_trajectories_named_states(cavity):
    jz = _jz(cavity)
    f = qsr.evolve(cavity, T, "full", initial="superradiant", e_ops=[jz], nphot=4)
    t = qsr.evolve(cavity, T, "trajectories", initial="superradiant", e_ops=[jz], nphot=4,
                   ntraj=100)
    assert t.values[0][0] == pytest.approx(1.0)
    assert np.all(np.abs(t.values[0] - f.values[0]) <= 5 * t.std[0] + 1e-9)
    with pytest.raises(ValueError, match=re.escape(
            "initial=(0, 0): trajectories need a ket; Dicke states with j < N/2 are mixed")):
        qsr.evolve(cavity, T, "trajectories", initial=(0, 0), nphot=4, ntraj=2)


def test_cumulant_excited_state_is_exact_without_coupling():
    """Independent decaying atoms: the product state stays a product state, so the
    cumulant closure from "excited" is exact (⟨σ₂₂⟩ = N e^{−Γt})."""
    c = qsr.Clusters("s")
    s = c.atom
    m = qsr.Model(0 * c.sum(s.sp * s.sm), [(0.7, c.each(s.sm))], N=4)
    r = qsr.evolve(m, T, "cumulant", initial="excited", e_ops=[c.sum(s.s(2, 2))])
    assert np.allclose(r.values[0], 4 * np.exp(-0.7 * T), atol=1e-6)
    f = qsr.evolve(m, T, "dicke", initial="excited", e_ops=[c.sum(s.s(2, 2))])
    assert np.allclose(f.values[0], r.values[0], atol=1e-6)


@pytest.mark.parametrize("initial", ["superradiant", (1.5, 0.5)])
def test_cumulant_refuses_entangled_states(bad_cavity, initial):
    with pytest.raises(ValueError, match=re.escape(
            f"initial={initial!r} is not a product state, which is all the cumulant closure "
            "represents; initial must be None, 'ground', 'excited'")):
        qsr.evolve(bad_cavity, T, "cumulant", initial=initial)


@pytest.mark.parametrize("initial, kind, message", [
    ("up", ValueError, "initial must be None, 'ground', 'excited', 'superradiant', a Dicke "
                       "state (j, m)"),
    ((1, 0), ValueError, "initial: j of the Dicke state (j, m) must be one of N/2, N/2 − 1, … "
                         "≥ 0 with N = 3, got j = 1"),
    ((0.5, 1.5), ValueError, "initial: m of the Dicke state (j, m) must be one of j, j − 1, "
                             "…, −j (j = 0.5), got m = 1.5"),
    ((0.25, 0.25), ValueError, "initial: j of the Dicke state (j, m) must be an integer or "
                               "half-integer, got 0.25"),
    ((1.5,), ValueError, "initial: a Dicke state is the tuple (j, m), got (1.5,)"),
    (3.0, TypeError, "initial must be None, 'ground', 'excited'"),
])
@pytest.mark.parametrize("method", ["dicke", "full"])
def test_bad_initial_names_the_parameter(bad_cavity, method, initial, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        qsr.evolve(bad_cavity, T, method, initial=initial)


def test_wrong_dims_name_the_expected_dims(cavity):
    with pytest.raises(ValueError, match=re.escape(
            "initial has dims [4, 2, 2]; the Dicke representation of this model needs "
            "[5, 4] (or the tensor space [5, 2, 2])")):
        qsr.evolve(cavity, T, "dicke", nphot=5,
                   initial=qutip.tensor(qutip.basis(4, 0), qutip.basis(2, 0), qutip.basis(2, 0)))


def test_laser_evolve_initial_and_e_ops():
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(3, g=1), kappa=4, emission=0.1,
                                  pumping=1.0)
    m = laser.description()
    d = laser.evolve(T, "dicke", nphot=6, initial="superradiant", e_ops={"n": m.modes[0].num()})
    f = laser.evolve(T, "full", nphot=6, initial="superradiant", e_ops={"n": m.modes[0].num()})
    assert np.allclose(d.expect["n"], d.photon_number, atol=1e-12)
    assert np.allclose(f.expect["n"], d.expect["n"], atol=1e-10)
    assert d.excited_population[0, 0] == pytest.approx(2 / 3)
    a = qutip.tensor(qutip.destroy(6), *[qutip.qeye(2)] * 3)
    q = laser.evolve(T, "full", nphot=6, initial=d.states[0].to_qobj("full"), e_ops=[a.dag() * a])
    assert np.allclose(q.expect[0], d.photon_number, atol=1e-10)
    with pytest.raises(TypeError, match=r"e_ops\[0\]: a Qobj acts on the tensor space of "
                                        "method='full'"):
        laser.evolve(T, "dicke", nphot=6, e_ops=[a.dag() * a])
    with pytest.raises(ValueError, match="e_ops needs method='full' or 'dicke'"):
        laser.evolve(T, "cumulant", e_ops=[m.modes[0].num()])


def test_collective_pumping_named_states_manifold_equals_piqs():
    cp = qsr.CollectivePumping(4, 1.0, 0.5)
    for initial in ("ground", "excited", "superradiant", (2, 1)):
        a = cp.evolve(T, initial=initial)
        b = cp.evolve(T, "piqs", initial=initial)
        assert np.max(np.abs(a.jz - b.jz)) < 1e-6, initial
    local = qsr.CollectivePumping(4, 1.0, 0.5, emission=0.1)
    a = local.evolve(T, "piqs", initial=(1, 0))
    b = local.evolve(T, "piqs", initial=piqs.dicke(4, 1, 0))
    assert np.allclose(a.jz, b.jz) and a.jz[0] == 0
    with pytest.raises(ValueError, match=re.escape(
            "initial=(1, 0) has j = 1 < N/2, outside the symmetric manifold; method='piqs' "
            "represents it")):
        cp.evolve(T, initial=(1, 0))


def test_dipole_array_product_states():
    arr = qsr.DipoleArray.chain(4, 0.3, pumping=1.0)
    r = arr.evolve([0.0, 0.1], "cumulant", initial="excited")
    assert r.values["inversion"][0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="initial='superradiant' is not a product state, which "
                                         "is all the per-pair closure represents"):
        arr.evolve([0.0, 0.1], "cumulant", initial="superradiant")


# -- QuTiP's integrator options, limits ---------------------------------------------------

def test_exact_evolve_integrator_options_agree_with_the_propagator(cavity):
    jz = _jz(cavity)
    exact = qsr.evolve(cavity, T, "dicke", e_ops=[jz], nphot=5, initial="excited")
    ode = qsr.evolve(cavity, T, "dicke", e_ops=[jz], nphot=5, initial="excited",
                     atol=1e-11, rtol=1e-9)
    assert np.max(np.abs(exact.values[0] - ode.values[0])) < 1e-7
    full = qsr.evolve(cavity, T, "full", e_ops=[jz], nphot=5, initial="excited", nsteps=5000)
    assert np.max(np.abs(exact.values[0] - full.values[0])) < 1e-5


def test_nsteps_and_max_time_raise_with_diagnostics(cavity):
    with pytest.raises(qsr.TimeLimitError, match=r"evolve: the integrator stopped at t = .* "
                                                  r"\(more than nsteps = 2 steps between "
                                                  "output times"):
        qsr.evolve(cavity, T, "dicke", nphot=5, initial="excited", nsteps=2)
    with pytest.raises(qsr.TimeLimitError, match=r"evolve exceeded max_time = 1e-09 s at t = "):
        qsr.evolve(cavity, T, "full", nphot=5, max_time=1e-9)


def test_trajectory_limits(cavity):
    with pytest.raises(qsr.TimeLimitError, match=r"evolve\(method='trajectories'\) exceeded "
                                                  r"max_time = 0.02 s after \d+ of 5000 "
                                                  "trajectories"):
        qsr.evolve(cavity, T, "trajectories", nphot=4, ntraj=5000, max_time=0.02)
    with pytest.raises(qsr.TimeLimitError, match="the integrator stopped .*raise nsteps"):
        qsr.evolve(cavity, T, "trajectories", nphot=4, ntraj=2, nsteps=1)


def test_gmres_time_limit():
    """The iterative (aggregation) steady state stops at max_time with its diagnostics."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(6, g=1), kappa=2, emission=0.1,
                                  pumping=0.5)
    with pytest.raises(qsr.TimeLimitError, match=r"steady state: GMRES exceeded max_time = "
                                                  r"1e-09 s after 1 iterations on \d+ unknowns "
                                                  r"\(preconditioned residual"):
        laser.steadystate("dicke", nphot=6, linear_solver="iterative", max_time=1e-9)


@pytest.mark.parametrize("options, kind, message", [
    ({"atol": -1.0}, ValueError, "atol must be > 0, got -1.0"),
    ({"rtol": "x"}, TypeError, "rtol must be a real number"),
    ({"nsteps": 0}, ValueError, "nsteps must be >= 1, got 0"),
    ({"max_time": 0}, ValueError, "max_time must be > 0 (or None for no limit), got 0.0"),
    ({"progress_bar": "fancy"}, ValueError, "progress_bar must be one of None, False, True, '', "
                                            "'text', 'enhanced', 'tqdm' (QuTiP's values), got "
                                            "'fancy'"),
    ({"nstep": 10}, ValueError, "unknown option(s) ['nstep'] for evolve(method='dicke')"),
])
def test_bad_evolve_options_name_the_option(bad_cavity, options, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        qsr.evolve(bad_cavity, T, "dicke", **options)


# -- progress bars -------------------------------------------------------------------------

def test_progress_is_weighted_by_cost():
    out = io.StringIO()
    list(progress(["a", "b", "c"], desc="scan", progress_bar="text", stream=out,
                  weights=[1, 1, 8]))
    # three redraws are throttled to the last one; the total is the cost, not the count
    assert "100.0%" in out.getvalue()
    bar = Progress(10, "x", "enhanced", stream=io.StringIO())
    bar.advance(1, item="N=2")
    assert "10.0%" in bar.stream.getvalue() and "(N=2)" in bar.stream.getvalue()
    for off in (None, False, ""):
        out = io.StringIO()
        list(progress(range(3), progress_bar=off, stream=out))
        assert out.getvalue() == ""


@pytest.mark.parametrize("value", [True, "text", "enhanced"])
def test_progress_bar_values_in_solvers(bad_cavity, capsys, value):
    qsr.steadystate(bad_cavity, "dicke", progress_bar=value)
    qsr.evolve(bad_cavity, T, "dicke", progress_bar=value)
    err = capsys.readouterr().err
    assert "steadystate(method='dicke')" in err and "evolve" in err and "100.0%" in err


def test_show_progress_is_a_deprecated_alias():
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=0.1), kappa=1, emission=0.1,
                                  pumping=0.5)
    with pytest.warns(DeprecationWarning, match="cross_validate\\(\\): 'show_progress' is "
                                                "renamed to 'progress_bar'"):
        qsr.cross_validate(laser, N=[1], reference_options={"nphot": 4}, show_progress=False)
    with pytest.raises(TypeError, match="got both 'show_progress' and its new name "
                                        "'progress_bar'"):
        qsr.cross_validate(laser, N=[1], show_progress=False, progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        qsr.cross_validate(laser, N=[1], reference_options={"nphot": 4}, progress_bar=False)


def test_trajectory_progress_option_is_deprecated(cavity):
    with pytest.warns(DeprecationWarning, match="'progress' is renamed to 'progress_bar'"):
        qsr.evolve(cavity, [0.0, 0.1], "trajectories", nphot=3, ntraj=2, progress=False)
