"""Every failure the fuzz test (tests/test_fuzz.py) found, as a regression test with the
expected message (issue 12, the standing guard)."""
import re
import time

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import examples
from qutip_superrad.solvers.dicke import DickeFockSpace

T = np.linspace(0.0, 1.0, 4)


def test_undamped_atom_steady_state_is_not_unique():
    """Found: RuntimeError 'steady state is not unique or the sector Liouvillian is singular'
    from the sparse solve; now a ValueError naming the rates that are zero."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=0.0), kappa=0.1, emission=0.0,
                                  pumping=0.0)
    for method in ("dicke", "full"):
        with pytest.raises(ValueError, match=re.escape(
                f"method={method!r}: the steady state is not unique: the sector Liouvillian is "
                "singular")) as info:
            laser.steadystate(method, nphot=2)
        assert "the parameters that are zero: ['cavity_dephasing', 'cavity_detuning', " \
               "'coupling', 'dephasing', 'detuning', 'emission', 'pumping']" in str(info.value)


def test_meanfield_without_dynamics():
    """Found: RuntimeError 'did not converge: residual 0 (tolerance 1e-310 …)'."""
    model = examples.driven_dicke(1, 0.0, 0.0, 0.0)[0]
    with pytest.raises(ValueError, match=re.escape(
            "steadystate: every jump rate of the model is zero (the parameters that are zero: "
            "['collective_emission', 'dephasing', 'rabi'])")):
        qsr.steadystate(model, "meanfield")
    # the engine's own check, for a solver built directly
    from qutip_superrad.solvers import cumulant as C
    _, solver = C._solver(model, dict(C._DEFAULTS, order=1), False)
    with pytest.raises(ValueError, match=re.escape(
            "cumulant steady state: the equations have no dynamics (the parameters "
            "['collective_emission', 'dephasing', 'rabi'] are zero)")):
        solver.steadystate()


@pytest.mark.parametrize("rabi, gc, dephasing", [
    (0.0, 2.220446049250313e-16, 0.7319757320267433),
    (-2.7033988043455753e-248, 0.0, 0.7319757320267433),
    (1.0, 0.0, 1e-9)])
def test_meanfield_with_negligible_rates(rabi, gc, dephasing):
    """Found: RuntimeError 'did not converge' after t = 2e14, LSODA's 'Unexpected istate'
    (a rabi frequency of 1e-248), and a relaxation running for minutes (dephasing 1e-9 of
    the Rabi frequency): parameters at most 1e-9 of the largest rate are named at once."""
    model = examples.driven_dicke(1, rabi, gc, dephasing)[0]
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"cumulant steady state: the parameters \[.*\] are at "
                                         r"most 1e-9 of the largest rate"):
        qsr.steadystate(model, "meanfield")
    assert time.perf_counter() - t0 < 5


def test_dicke_size_estimate_is_linear_in_memory():
    """Found: the estimate itself allocated an N×N matrix (7.28 TiB at N = 10⁶)."""
    for args in [(6, [3], 0, 0), (6, [3], -1, 0), (5, [2, 3], 0, 2), (5, [], 1, 2),
                 (4, [3], 0, 1), (7, [], 0, 0, True)]:
        assert DickeFockSpace(*args).dim == DickeFockSpace.size_estimate(*args)
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(10 ** 6), kappa=1e-9, emission=0.0,
                                  pumping=0.0, dephasing=50.0)
    t0 = time.perf_counter()
    with pytest.raises(qsr.MemoryLimitError, match="the Dicke-basis regression sector"):
        laser.spectrum(T, "dicke", nphot=5)
    assert time.perf_counter() - t0 < 5


def test_a_million_atoms_is_refused_at_once():
    """Found: OverflowError 'cannot convert float infinity to integer' (full-space
    estimate) and a hang of the exact count (method='auto')."""
    model = examples.driven_dicke(10 ** 6, 0.0, 0.0, 0.0)[0]
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="method='auto': no exact method fits in max_memory"):
        qsr.evolve(model, T, "auto")
    with pytest.raises(qsr.MemoryLimitError, match=re.escape(
            "the full-space Liouvillian of 1000000 atoms (Hilbert dimension above 2^64)")):
        qsr.evolve(model, T, "full")
    with pytest.raises(qsr.MemoryLimitError, match=re.escape(
            "the trajectory operators (Hilbert dimension above 2^64)")):
        qsr.evolve(model, T, "trajectories")
    assert time.perf_counter() - t0 < 10


def test_dipole_chain_pair_matrices_are_guarded():
    """Found: numpy's ArrayMemoryError (21.8 TiB for the (N, N, 3) separations)."""
    with pytest.raises(qsr.MemoryLimitError, match=re.escape(
            "the pair couplings of 1000000 positions (N×N matrices); for identical couplings "
            "use DipoleArray.all_to_all")):
        qsr.DipoleArray.chain(10 ** 6, 1.0, pumping=0.0)


def test_bad_cavity_photon_number_without_kappa_is_flagged():
    """Found: photon_number nan without a flag (BadCavityLaser built without kappa)."""
    laser = qsr.BadCavityLaser(qsr.Ensemble.identical(3), collective_emission=2.5,
                               emission=1.02, pumping=50.0)
    ev = laser.evolve(T, "dicke", initial=(0.5, 0.5))
    ss = laser.steadystate("dicke")
    for res in (ev, ss):
        assert np.all(np.isnan(res.photon_number))
        assert res.checks["photon_number"].startswith("nan: the BadCavityLaser has no kappa")
    assert np.isfinite(ss.photon_flux)


def test_piqs_steady_state_without_rates():
    """Found: SuperLU's RuntimeError 'failed to factorize matrix' from inside SciPy."""
    cp = qsr.CollectivePumping(2, 0.0, 0.0)
    with pytest.raises(ValueError, match=re.escape(
            "steadystate(method='piqs'): the steady state is not unique (the Liouvillian is "
            "singular); the rates that are zero: ['collective_emission', 'collective_pumping', "
            "'emission', 'dephasing']")):
        cp.steadystate("piqs")


def test_single_output_time():
    """Found: AttributeError/TypeError from solve_ivp's result for a one-point tlist."""
    model = examples.driven_dicke(3, 1.0, 1.0, 0.1)[0]
    sz = model.clusters.sum(model.clusters.atom.sz)
    assert qsr.evolve(model, [0.5], "cumulant", e_ops=[sz]).values[0] == pytest.approx([-3.0])
    arr = qsr.DipoleArray.chain(4, 0.3, pumping=1.0)
    assert arr.evolve([0.5], "cumulant").values["inversion"] == pytest.approx([-0.5])
    cp = qsr.CollectivePumping(3, 1.0, 0.5)
    assert cp.evolve([0.5], "cumulant").jz == pytest.approx([-1.5])
    assert cp.evolve([0.5], "piqs").jz == pytest.approx([-1.5])


def test_all_to_all_dipoles_with_negative_pair_decay():
    """Found: 'jump rate f_pair must be a real number >= 0' for two dipoles 1.94 λ apart
    (f_ab < 0 is physical: f stays positive semidefinite); such arrays now take the explicit
    route (full space, per-pair equations), and the cumulants agree with the exact result."""
    arr = qsr.DipoleArray.chain(2, 1.9421613648177818, pumping=0.5)
    assert arr.is_all_to_all and arr.f[0, 1] < 0
    with pytest.raises(ValueError, match=re.escape(
            "method='dicke' needs f_ab >= 0 (here f_ab = -0.02913: f_ab D[J⁻] would have a "
            "negative rate); use 'full'")):
        arr.steadystate("dicke")
    exact = arr.steadystate("auto")
    assert exact.method == "full"
    approx = arr.steadystate("cumulant")
    assert approx.values["inversion"] == pytest.approx(exact.values["inversion"], abs=1e-3)
    ev = arr.evolve(T, "cumulant", initial="excited")
    assert ev.values["inversion"][0] == pytest.approx(0.5)


def test_g2_of_almost_no_light():
    """Found: ZeroDivisionError in g⁽²⁾ = ⟨J⁺J⁺J⁻J⁻⟩/⟨J⁺J⁻⟩² when ⟨J⁺J⁻⟩² underflows (a
    pump of 1.8e-271)."""
    laser = qsr.BadCavityLaser(qsr.Ensemble.identical(1, g=0.0), collective_emission=1.0,
                               emission=0.0, pumping=1.7914907741982275e-271)
    ss = laser.steadystate("dicke")
    assert np.isnan(ss.g2) and ss.excited_population[0] == pytest.approx(0.0)


def test_exact_steady_state_with_a_negligible_rate_is_refused():
    """Found: a 'steady state' with eigenvalue −5.6e14 returned silently (dephasing 7.5e-259
    is the only process that makes it unique)."""
    cp = qsr.CollectivePumping(5, 1.0, 1.0, dephasing=7.495108587682775e-259)
    with pytest.raises(ValueError, match=re.escape(
            "the linear system is numerically singular; the parameters ['dephasing'] are "
            "below 1e-9 of the largest (1): set them to 0 or rescale")):
        cp.steadystate("dicke")


def test_laser_cumulant_with_a_negligible_pump_does_not_hang():
    """Found: a hang (explicit relaxation over t = 200/R = 2e15 with steps ~ 1/κ)."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=1.0), kappa=1.0, emission=0.0,
                                  pumping=1e-13)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=re.escape(
            "emission + pumping + dephasing = 1e-13 is below 1e-9 of the largest rate (1)")):
        laser.steadystate("cumulant")
    assert time.perf_counter() - t0 < 10


def test_laser_cumulant_names_initial_for_dicke_states():
    """Found: 'cumulant state must have length M²+3M+1 = 5, got shape (2,)' for
    initial=(1.5, -0.5)."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(3, g=1.0), kappa=1.0, emission=0.1,
                                  pumping=1.0)
    with pytest.raises(ValueError, match=re.escape(
            "initial must be None, 'ground', 'excited', a state vector or a cumulant "
            "SteadyStateResult for method='cumulant' (product states only")):
        laser.evolve(T, "cumulant", initial=(1.5, -0.5))


def test_manifold_message_uses_the_current_names():
    """Found: 'gamma and pump are both 0' (former names) from CollectivePumping."""
    with pytest.raises(ValueError, match=re.escape(
            "collective_emission and collective_pumping are both 0")):
        qsr.CollectivePumping(1, 0.0, 0.0).steadystate()


@pytest.mark.parametrize("rabi, dephasing", [(2.0, 0.5), (-3.0, 0.00390625)])
def test_meanfield_seed_is_physical(rabi, dephasing):
    """Found: 'did not converge: residual 7e-20' (and a run past 30 s) for a driven atom with
    dephasing: the random mean-field seed gave ⟨σ₂₂⟩ an imaginary part, which the equations
    conserve, so the relaxation ended on a spurious continuum.  The steady state is the
    maximally mixed state, ⟨σ_z⟩ = 0."""
    model = examples.driven_dicke(1, rabi, 0.0, dephasing)[0]
    sz = model.clusters.sum(model.clusters.atom.sz)
    assert qsr.steadystate(model, "meanfield", e_ops=[sz]).values[0] == pytest.approx(0, abs=1e-9)


def test_steady_state_of_a_unitary_model_is_refused():
    """Found: 'cumulant steady state did not converge: residual 0.458' for a driven atom
    without any dissipation (Rabi oscillations for ever); every method now refuses at once."""
    model = examples.driven_dicke(1, 1.0, 0.0, 0.0)[0]
    for method in ("meanfield", "cumulant", "full", "dicke"):
        with pytest.raises(ValueError, match=re.escape(
                "steadystate: every jump rate of the model is zero (the parameters that are "
                "zero: ['collective_emission', 'dephasing']): the dynamics is unitary")):
            qsr.steadystate(model, method)


@pytest.mark.parametrize("build, name", [
    (lambda d: qsr.Ensemble.atoms(d), "detunings"),
    (lambda d: qsr.Ensemble([1, 1], detunings=d), "detunings"),
    (lambda d: qsr.Ensemble([1, 1], couplings=d), "couplings"),
    (lambda d: qsr.DipoleArray(np.eye(2), pumping=1.0, detunings=d), "detunings"),
    (lambda d: qsr.TwoBodyLossSpins(2, 0.5, detunings=d), "detunings"),
    (lambda d: qsr.TwoBodyLossSpins(2, 0.5).with_detunings(d), "detunings")])
def test_string_detunings_are_refused(build, name):
    """Found: detunings=["1", "2"] accepted through NumPy's string conversion."""
    with pytest.raises(TypeError, match=rf"^{name} must be (a )?real number"):
        build(["1", "2"])
    with pytest.raises(TypeError, match=name):
        build(np.array(["1", "2"]))
    build([1.0, 2.0])                                  # numbers still pass


def test_string_per_cluster_parameter_is_refused():
    """The same through a per-cluster parameter of a Model."""
    atoms = qsr.Clusters("s")
    delta = atoms.parameter("delta")
    H = atoms.sum(delta * atoms.atom.sz)
    jumps = [(1.0, atoms.each(atoms.atom.sm))]
    with pytest.raises(TypeError, match="parameter 'delta' must be real numbers"):
        qsr.Model(H, jumps, parameters={"delta": ["1", "2"]}, N=[1, 1])


@pytest.mark.parametrize("rabi, gc, dephasing, sz", [
    (1.0, 0.0, 2e-9, 0.0),          # dephasing only: the maximally mixed state
    (1.0, 0.0, 5e-7, 0.0),
    (0.0, 1.0, 3e-9, -1.0)])        # decay only: the ground state
def test_meanfield_with_rates_just_above_the_cutoff_is_fast(rabi, gc, dephasing, sz):
    """Found: dephasing 2e-9 of the Rabi frequency, just above the 1e-9 cut-off of
    ``_tiny_parameters``, relaxed over t = 200/2e-9 (> 30 s, an hour by extrapolation).
    A relaxation over more than MAX_RELAXATION_SPAN of the fastest time goes to Newton
    alone; the fixed point is the exact steady state (closed form, 1e-9)."""
    model = examples.driven_dicke(1, rabi, gc, dephasing)[0]
    op = model.clusters.sum(model.clusters.atom.sz)
    for method in ("meanfield", "cumulant"):
        t0 = time.perf_counter()
        res = qsr.steadystate(model, method, e_ops=[op])
        assert time.perf_counter() - t0 < 5
        assert res.values[0] == pytest.approx(sz, abs=1e-9)
        assert "pseudo-transient Newton" in res.checks["solver"]["route"]


def test_slow_relaxation_without_a_stable_fixed_point_is_a_clear_error(monkeypatch):
    """When Newton finds no stable fixed point the slow parameters are named at once."""
    from qutip_superrad.cumulant.engine import solve
    model = examples.driven_dicke(1, 1.0, 0.0, 2e-9)[0]
    monkeypatch.setattr(solve.CumulantSolver, "_verdict",
                        lambda self, *a, **k: (False, 1.0, None))
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=re.escape(
            "cumulant steady state: the parameters ['dephasing'] are at most 1e-06 of the "
            "largest rate (1): relaxing over their time scale")):
        qsr.steadystate(model, "meanfield")
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_tiny_coupling_evolves_without_scipy_warnings(method):
    """Found: 'overflow encountered in divide' from SciPy's expm_multiply (its 1-norm
    estimate divides subnormal numbers) at g = 3.9e-168.  Entries of L below 1e-30 of the
    largest are dropped: the evolution equals that at g = 0 to rounding."""
    def run(g):
        laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=g), kappa=1.0,
                                      emission=50.0, pumping=1.0, dephasing=50.0)
        return laser.evolve(np.array([0.0, 0.3, 2.0]), method, nphot=3)
    import warnings
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        tiny = run(3.9e-168)
    zero = run(0.0)
    np.testing.assert_allclose(tiny.excited_population, zero.excited_population,
                               atol=1e-14, rtol=0)
    # a population that actually moves: the test would see a broken propagation
    assert np.ptp(np.ravel(zero.excited_population)) > 1e-3


def test_meanfield_laser_with_slow_relaxation_oscillations():
    """Found (this branch's fuzz run): 'cumulant steady state did not converge ... after
    t = 404' for a mean-field laser (N = 4, g = −1.76, κ = 4.9, R = 0.5, Γ = 0): relaxation
    oscillations around the circle of lasing fixed points outlast t_max = 200/min(rate).
    While |rhs| keeps falling the relaxation goes on (at most 10 t_max); the steady state is
    the long-time limit of the evolution (to 1e-6)."""
    model = examples.superradiant_laser(4, -1.756418000054269, 4.896710286322809, 0.0,
                                        0.5)[0]
    c, s = model.clusters, model.clusters.atom
    mode = model.modes[0]
    ops = {"pe": c.sum(s.s(2, 2)), "n": mode.adag * mode.a}
    t0 = time.perf_counter()
    ss = qsr.steadystate(model, "meanfield", e_ops=ops)
    assert time.perf_counter() - t0 < 10
    late = qsr.evolve(model, [0.0, 4000.0], "meanfield", e_ops=ops)
    for k in ops:
        assert ss.values[k] == pytest.approx(late.values[k][-1], abs=1e-6)
    assert ss.values["n"] > 0.1                                  # lasing


def test_meanfield_laser_without_a_stable_fixed_point():
    """Found (this branch's fuzz run, R = 0.4): 'did not converge' (a RuntimeError) for a
    mean-field laser in a bad cavity (κ = 4.9 ≫ R, Γ = 0) whose Maxwell–Bloch dynamics never
    settles (the Lorenz–Haken instability: ⟨σ22⟩ still swings by more than 0.5 between
    t = 10³ and 2·10³, i.e. 400 pump times after the start; the swing is 2.7 there and still
    2.0 between 2·10³ and 4·10³).  Every fixed point is unstable: NoSteadyStateError, a ValueError
    (the parameters admit no steady state) and the RuntimeError it refines, at once."""
    model = examples.superradiant_laser(4, -1.756418000054269, 4.896710286322809, 0.0,
                                        0.4)[0]
    pe = model.clusters.sum(model.clusters.atom.s(2, 2))
    t0 = time.perf_counter()
    with pytest.raises(qsr.NoSteadyStateError, match=re.escape(
            "cumulant steady state: no stable fixed point at order 1 (method='meanfield'): "
            "Newton found only unstable fixed points (growth rate")) as info:
        qsr.steadystate(model, "meanfield", e_ops=[pe])
    assert time.perf_counter() - t0 < 10
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    late = qsr.evolve(model, np.linspace(1e3, 2e3, 41), "meanfield",
                      initial=qsr.evolve(model, [0.0, 1e3], "meanfield").states[-1],
                      e_ops=[pe])
    assert np.ptp(np.real(late.values[0])) > 0.5
