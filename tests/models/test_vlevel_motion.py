"""Semiclassical MCWF trajectories of a moving V-level atom (seed 002, Sec. IV, Fig. 8).

Each physics check compares with something independent of the trajectory
kernel: ``qutip.mesolve`` of the same 3-level master equation, the exact
moments of an isotropic unit vector, and energy conservation of the
Ehrenfest dynamics.  Tolerances are stated with their reason next to each
assertion.  QuTiP convention of this package: level i of the 3-level atom is
``basis(3, 3 - i)`` (level 1 = ground = basis(3, 2), level 3 = basis(3, 0)).
"""
import math

import numpy as np
import pytest
import qutip

from qutip_superrad.models.vlevel_motion import MotionResult, motion_trajectories, strontium_recoil


def _level(i):
    return qutip.basis(3, 3 - i)


def _sigma(i, j):
    return _level(i) * _level(j).dag()


def test_strontium_recoil_numbers():
    # ħk²/2m for 461 nm / 689 nm, m = 88 u, in units of Γ_3 = 2π·32 MHz:
    # 3.334e-4 and 1.493e-4 (hand computation with CODATA ħ and u; rel 1e-3).
    rec = strontium_recoil()
    assert rec["k3"] == 1.0
    assert rec["k3"] ** 2 / (2 * rec["mass"]) == pytest.approx(3.334e-4, rel=1e-3)
    assert rec["k2"] ** 2 / (2 * rec["mass"]) == pytest.approx(1.493e-4, rel=1e-3)
    assert strontium_recoil(87.0)["mass"] == pytest.approx(rec["mass"] * 87 / 88, rel=1e-12)


def test_fixed_atom_matches_mesolve():
    # Atom held fixed (mass = inf) off the antinodes, all four jump channels
    # active: trajectory means of ⟨σ_11⟩, ⟨σ_22⟩, ⟨σ_33⟩ vs qutip.mesolve of
    # eqs 1-4 with the cos(k·r0) factors.  Tolerance: 3 standard errors
    # (statistics, 3000 trajectories) + 0.005 for the O(dt) jump-time
    # resolution of the fixed-step unravelling (jumps are applied at the end
    # of the step, dt = 0.02, rate ≤ 1.1).
    pars = dict(Delta2=2.0, Delta3=-1.0, Omega2=0.8, Omega3=0.5, Gamma2=0.2, Gamma3=1.0,
                nu2=0.1, nu3=0.3)
    k2, k3, r0 = 0.7, 1.0, (0.4, 0.9)
    tlist = np.linspace(0, 8, 9)
    res = motion_trajectories(tlist, **pars, recoil=dict(k2=k2, k3=k3, mass=math.inf), r0=r0,
                              ntraj=3000, seed=11, progress_bar=False)
    c2, c3 = math.cos(k2 * r0[0]), math.cos(k3 * r0[1])
    H = (-pars["Delta2"] * _sigma(2, 2) - pars["Delta3"] * _sigma(3, 3)
         + pars["Omega2"] * c2 * (_sigma(2, 1) + _sigma(1, 2))
         + pars["Omega3"] * c3 * (_sigma(3, 1) + _sigma(1, 3)))
    c_ops = [math.sqrt(pars["Gamma2"]) * _sigma(1, 2), math.sqrt(pars["Gamma3"]) * _sigma(1, 3),
             math.sqrt(pars["nu2"]) * _sigma(2, 2), math.sqrt(pars["nu3"]) * _sigma(3, 3)]
    me = qutip.mesolve(H, _level(1), tlist, c_ops, e_ops=[_sigma(i, i) for i in (1, 2, 3)],
                       options={"atol": 1e-10, "rtol": 1e-10})
    exact = np.array(me.expect)
    assert all(n > 100 for n in res.jumps.values())
    dev = np.abs(res.populations - exact)
    assert np.all(dev[:, 1:] <= 3 * res.populations_err[:, 1:] + 0.005), dev / res.populations_err
    assert np.allclose(res.inversion, res.populations[1] - res.populations[0], atol=1e-12)
    # no motion: the kinetic energy of an infinitely heavy atom is zero
    assert np.all(res.kinetic_energy == 0)


def test_recoil_kick_per_decay_is_k_squared_over_three():
    # Atom fixed at the antinode (sin(k·r0) = 0: no optical force), p0 = 0, so
    # the final momentum is the sum of the recoil kicks: per decay from j,
    # Δp_x = k_j s_x with s uniform on the unit sphere, ⟨s_x²⟩ = 1/3.  Hence
    # ⟨p_x²⟩ = ⟨p_y²⟩ = (k_2² N_2 + k_3² N_3)/(3 ntraj) and ⟨p_x⟩ = 0.
    # Tolerance: 3 standard errors of the sample mean over 2000 trajectories.
    k2, k3, ntraj = 0.5, 1.3, 2000
    res = motion_trajectories(np.linspace(0, 30, 4), Delta2=0.0, Delta3=0.0, Omega2=0.5, Omega3=0.5,
                              Gamma2=0.4, Gamma3=1.0, nu2=0.3, recoil=dict(k2=k2, k3=k3, mass=math.inf),
                              p0=0.0, ntraj=ntraj, seed=5, progress_bar=False)
    p = res.final_momentum
    expected = (k2 ** 2 * res.jumps["decay2"] + k3 ** 2 * res.jumps["decay3"]) / (3 * ntraj)
    assert res.jumps["decay2"] > 1000 and res.jumps["decay3"] > 1000 and res.jumps["dephase2"] > 1000
    for axis in range(2):
        p2 = p[:, axis] ** 2
        assert abs(p2.mean() - expected) < 3 * p2.std(ddof=1) / math.sqrt(ntraj)
        assert abs(p[:, axis].mean()) < 3 * p[:, axis].std(ddof=1) / math.sqrt(ntraj)


def test_dephasing_jumps_give_no_kick():
    # Only pump-linewidth jumps (Γ = 0): the momentum must stay exactly p0 = 0
    # (exact: no kick is ever added and there is no force at the antinode).
    res = motion_trajectories(np.linspace(0, 20, 3), Gamma2=0.0, Gamma3=0.0, nu2=0.5, nu3=0.5,
                              recoil=dict(mass=math.inf), p0=0.0, ntraj=50, seed=2, progress_bar=False)
    assert res.jumps["dephase2"] + res.jumps["dephase3"] > 50
    assert res.jumps["decay2"] == res.jumps["decay3"] == 0
    assert np.all(res.final_momentum == 0)


def _total_energy_drift(dt):
    res = motion_trajectories(np.linspace(0, 100, 201), Delta2=-1.0, Delta3=0.5, Omega2=1.0, Omega3=0.7,
                              Gamma2=0.0, Gamma3=0.0, recoil=dict(k2=1.0, k3=0.8, mass=20.0),
                              p0=(3.0, 2.0), r0=(0.3, 0.2), ntraj=1, seed=0,
                              options={"dt": dt}, progress_bar=False)
    kinetic = res.kinetic_energy.sum(0)
    total = kinetic + res.internal_energy
    return np.abs(total - total[0]).max(), np.ptp(kinetic)


def test_energy_conservation_without_dissipation():
    # Γ = ν = 0, one trajectory, light atom (strong coupling of motion and
    # internal state): p²/2m + ⟨H(r)⟩ is a constant of the Ehrenfest
    # dynamics (it is with the force sign of eq 14, −∇⟨H⟩).  Tolerance: the
    # RK4 error, < 1e-6 at dt = 0.02, and fourth order: halving dt reduces
    # the drift by > 8 (ideal 16).
    drift, swing = _total_energy_drift(0.02)
    assert swing > 0.05            # the test is not trivial: energy is exchanged
    assert drift < 1e-6
    drift_half, _ = _total_energy_drift(0.01)
    assert drift_half < drift / 8


def test_serial_and_parallel_identical():
    # Same seed and batch split: the maps must give bit-identical results.
    kw = dict(nu2=0.1, nu3=0.1, recoil=dict(mass=50.0), ntraj=24, seed=123, progress_bar=False)
    tlist = np.linspace(0, 20, 11)
    a = motion_trajectories(tlist, **kw, options={"map": "serial", "batch_size": 6})
    b = motion_trajectories(tlist, **kw, options={"map": "parallel", "num_cpus": 2, "batch_size": 6})
    assert isinstance(a, MotionResult)
    assert a.jumps == b.jumps
    for name in ("kinetic_energy", "kinetic_energy_err", "populations", "inversion",
                 "internal_energy", "final_momentum"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    # kinetic energy at t = 0 is p0² k_i²/2m, and T = 2⟨E⟩ over the chosen window
    rec = strontium_recoil()
    assert a.kinetic_energy[:, 0] == pytest.approx([(100 * rec["k2"]) ** 2 / 100, 100 ** 2 / 100])
    assert a.temperature(1.0) == pytest.approx(2 * a.kinetic_energy.mean(1))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(ntraj=0), ValueError, "ntraj"),
    (dict(ntraj=2.5), TypeError, "ntraj"),
    (dict(Gamma2=-1.0), ValueError, "Gamma2"),
    (dict(nu3=float("nan")), ValueError, "nu3"),
    (dict(Delta2="5"), TypeError, "Delta2"),
    (dict(recoil=dict(mass=0.0)), ValueError, "mass"),
    (dict(recoil=dict(mass=float("nan"))), ValueError, "mass"),
    (dict(recoil=dict(k2=-1.0)), ValueError, "k2"),
    (dict(recoil=dict(k3=0.0)), ValueError, "k3"),
    (dict(recoil=dict(m=1.0)), ValueError, "recoil key"),
    (dict(recoil=[1, 2, 3]), TypeError, "recoil"),
    (dict(r0=(0.0, 0.0, 0.0)), ValueError, "r0"),
    (dict(r0=0.0), TypeError, "r0"),
    (dict(r0=(0.0, float("inf"))), ValueError, r"r0\[1\]"),
    (dict(p0="100"), TypeError, "p0"),
    (dict(p0=(1.0, 2.0, 3.0)), ValueError, "p0"),
    (dict(options={"foo": 1}), ValueError, "unknown option"),
    (dict(options={"map": "threads"}), ValueError, "map"),
    (dict(options={"dt": -0.1}), ValueError, "dt"),
    (dict(options={"num_cpus": 0}), ValueError, "num_cpus"),
])
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        motion_trajectories(np.linspace(0, 1, 3), progress_bar=False, **kwargs)


def test_bad_tlist_and_fraction():
    with pytest.raises(ValueError, match="tlist"):
        motion_trajectories([0.0, 2.0, 1.0], progress_bar=False)
    res = motion_trajectories([0.0, 0.1], ntraj=2, seed=0, progress_bar=False)
    with pytest.raises(ValueError, match="fraction"):
        res.temperature(0.0)


def _captured_batch(**kwargs):
    """The arguments motion_trajectories hands to one batch (keys, grid, steps, parameters)."""
    from qutip_superrad.models import vlevel_motion as vm
    seen = {}
    orig = vm._run_batch

    def spy(keys, tlist, steps, par):
        seen.update(keys=keys, tlist=tlist, steps=steps, par=par)
        return orig(keys, tlist, steps, par)
    vm._run_batch = spy
    try:
        res = motion_trajectories(**kwargs)
    finally:
        vm._run_batch = orig
    return seen, res


@pytest.mark.parametrize("rates", [dict(nu2=1 / 4266, nu3=1 / 4266), dict(nu2=0.3, nu3=0.2)])
def test_kernel_equals_numpy_oracle(rates):
    """The compiled kernel and its NumPy oracle draw the same random numbers in the same
    order: the same jumps (counts equal) and observables equal to round-off (1e-11 relative,
    RK4 in a different summation order over ~10⁴ steps)."""
    from qutip_superrad.models.vlevel_motion import _run_batch
    seen, res = _captured_batch(tlist=np.linspace(0, 60, 7), ntraj=24, seed=11,
                                progress_bar=False, **rates)
    kern = _run_batch(seen["keys"], seen["tlist"], seen["steps"], seen["par"])
    ref = _run_batch(seen["keys"], seen["tlist"], seen["steps"], seen["par"], backend="numpy")
    assert np.array_equal(kern[2], ref[2]) and kern[2].sum() > 50      # jumps happened
    for a, b in zip(kern, ref):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11 * np.abs(b).max())


def test_results_independent_of_batches():
    """Every trajectory has its own random stream: batch size does not change anything."""
    t = np.linspace(0, 30, 4)
    a = motion_trajectories(t, ntraj=10, seed=5, progress_bar=False, options={"batch_size": 3})
    b = motion_trajectories(t, ntraj=10, seed=5, progress_bar=False, options={"batch_size": 10})
    np.testing.assert_allclose(a.final_momentum, b.final_momentum, rtol=1e-13)
    assert a.jumps == b.jumps


def test_counter_uniform_is_uniform():
    """The SplitMix64 counter stream: mean 1/2 and variance 1/12 within 5σ over 2·10⁵ draws."""
    from qutip_superrad.models.vlevel_motion import counter_uniform
    keys = np.random.SeedSequence(1).generate_state(1000, dtype=np.uint64)
    counters = np.zeros(1000, np.uint64)
    u = np.concatenate([counter_uniform(keys, counters) for _ in range(200)])
    assert np.all((u >= 0) & (u < 1)) and np.all(counters == 200)
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
