"""Convergence of cluster models in the number of clusters M (issue 17).

Parameters are those of seed 000 (Bychek et al. 2021, Fig 6): N = 10⁴,
g = Γ = 10⁻³κ, σ = 0.1κ, Δ ∈ [−3σ, 3σ]; the pump R = 0.05κ is above the
critical pump, where the spectrum of the continuum is one line.
"""
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.convergence import (ClusterConvergence, converge_clusters,
                                        next_cluster_number)
from qutip_superrad.cumulant import laser as cl
from qutip_superrad.spectrum import count_peaks

SIGMA = 0.1
OMEGA = np.linspace(-4 * SIGMA, 4 * SIGMA, 2001)


def seed_laser(M, placement="bins", pumping=0.05, sigma=SIGMA, N=1e4):
    ens = qsr.Ensemble.gaussian(N, sigma, M, width=3.0, g=1e-3, integer=False,
                                placement=placement)
    return qsr.SuperradiantLaser(ens, kappa=1.0, emission=1e-3, pumping=pumping)


# -- ensembles ---------------------------------------------------------------------
@pytest.mark.parametrize("placement", ["bins", "hermite", "legendre", "quadrature"])
def test_placements_conserve_atoms_and_record_distribution(placement):
    ens = qsr.Ensemble.gaussian(1e4, SIGMA, 15, g=1e-3, integer=False, placement=placement)
    assert ens.N == pytest.approx(1e4, rel=1e-12)
    assert ens.n_clusters == 15
    # mean 0 and variance σ² (exact for Gauss–Hermite; truncated at 3σ otherwise)
    w = ens.counts / ens.N
    assert np.sum(w * ens.detunings) == pytest.approx(0, abs=1e-12)
    var = np.sum(w * ens.detunings ** 2) / SIGMA ** 2
    # truncated at 3σ: 1 − 6φ(3)/(2Φ(3) − 1) = 0.97334; the bins carry an O(1/M) error
    exact = {"hermite": 1.0, "bins": 0.97334}.get(placement, 0.97334)
    assert var == pytest.approx(exact, abs=2e-2 if placement == "bins" else 1e-4)
    if placement != "hermite":
        assert np.max(np.abs(ens.detunings)) <= 3 * SIGMA * (1 + 1e-12)
    dist = ens.distribution
    assert dist.kind == "gaussian" and dist.n_clusters == 15
    assert dist.placement == ("legendre" if placement == "quadrature" else placement)
    fine = ens.refine(29)
    assert fine.n_clusters == 29 and fine.distribution.placement == dist.placement
    assert fine.N == pytest.approx(1e4)


def test_bins_refinement_is_nested():
    ens = qsr.Ensemble.gaussian(1e4, SIGMA, 11, integer=False)
    M = next_cluster_number(11)
    assert M == 21
    assert set(np.round(ens.detunings, 12)) <= set(np.round(ens.refine(M).detunings, 12))
    assert next_cluster_number(10) == 20 and next_cluster_number(11, "legendre") == 22
    assert next_cluster_number(1) == 2


def test_product_and_standing_wave_refine():
    freq = qsr.Ensemble.gaussian(1e4, SIGMA, 5, integer=False)
    pos = qsr.Ensemble.standing_wave(1e4, 1e-3, 3, integer=False)
    prod = qsr.Ensemble.product(freq, pos)
    assert prod.distribution.kind == "product"
    fine = prod.refine(9)
    assert fine.n_clusters == 27 and fine.N == pytest.approx(1e4)
    assert pos.refine(6).n_clusters == 6
    explicit = qsr.Ensemble([1.0, 2.0], [0.0, 0.1])
    assert explicit.distribution is None
    with pytest.raises(ValueError, match="records no distribution"):
        explicit.refine(4)
    with pytest.raises(ValueError, match="placement must be one of"):
        qsr.Ensemble.gaussian(10, 0.1, 5, placement="random")


# -- checks["clusters"] ---------------------------------------------------------------
def test_fixed_M_results_say_convergence_not_checked():
    laser = seed_laser(11)
    ss = laser.steadystate(method="cumulant")
    entry = ss.checks["clusters"]
    assert entry["M"] == 11 and entry["discretised"] and entry["checked"] is False
    assert "not checked" in entry["note"]
    sp = laser.spectrum(OMEGA, method="cumulant", state=ss)
    assert sp.checks["clusters"]["checked"] is False
    assert sp.checks["peak_prominence"] == 1e-3
    plain = qsr.SuperradiantLaser(qsr.Ensemble([10.0, 10.0], [0.0, 0.05], [0.1, 0.1]),
                                  kappa=1, emission=0.01, pumping=0.2)
    entry = plain.steadystate(method="cumulant").checks["clusters"]
    assert entry["discretised"] is False and entry["checked"] is False


# -- convergence -------------------------------------------------------------------
def test_bins_and_quadrature_agree_within_tol():
    """Converged photon number, linewidth and peak count agree between equally spaced bins
    and Gauss–Legendre quadrature of the same truncated Gaussian (tol = 1e-3)."""
    tol = 1e-3
    obs = ["photon_number", "linewidth", "n_peaks"]
    bins = converge_clusters(seed_laser(17), obs, tol=tol, omega=OMEGA, progress_bar=False)
    quad = converge_clusters(seed_laser(11, "quadrature"), obs, tol=tol, omega=OMEGA,
                             progress_bar=False)
    assert isinstance(bins, ClusterConvergence)
    assert bins.converged and quad.converged
    assert quad.placement == "legendre"
    for o in ("photon_number", "linewidth"):
        assert bins.value[o] == pytest.approx(quad.value[o], rel=tol)
    assert bins.value["n_peaks"] == quad.value["n_peaks"] == 1
    # the quadrature is far more accurate at equal M: its last change is much smaller
    assert quad.changes["photon_number"][-1] < 1e-2 * bins.changes["photon_number"][-1]
    # the results at the last M say that convergence was checked
    ss, sp = bins.results[-1]
    assert ss.checks["clusters"]["checked"] and ss.checks["clusters"]["converged"]
    assert sp.checks["clusters"]["M"] == bins.M_reached
    rows = bins.table()
    assert [r["M"] for r in rows] == bins.M.tolist() and np.isnan(rows[0]["change linewidth"])
    assert "converged" in bins.to_markdown()


def test_narrow_distribution_recovers_one_cluster():
    """σ → 0: M clusters reproduce the M = 1 (identical atoms) result."""
    ref = qsr.SuperradiantLaser(qsr.Ensemble.identical(1e4, g=1e-3), kappa=1.0,
                                emission=1e-3, pumping=0.05)
    ss1 = ref.steadystate(method="cumulant")
    w = np.linspace(-0.05, 0.05, 801)
    sp1 = ref.spectrum(w, method="cumulant", state=ss1)
    narrow = seed_laser(11, sigma=1e-8)
    conv = converge_clusters(narrow, ["photon_number", "linewidth", "peak"], tol=1e-6, omega=w,
                             progress_bar=False, M_max=41)
    assert conv.converged
    assert conv.value["photon_number"] == pytest.approx(ss1.photon_number, rel=1e-6)
    assert conv.value["linewidth"] == pytest.approx(sp1.linewidth, rel=1e-6)
    assert conv.value["peak"] == pytest.approx(sp1.peak, abs=1e-9)


def test_under_resolved_case_is_flagged():
    """Weak pumping (R = 0.01κ, Fig 4c): every cluster line is resolved, so the number of
    peaks follows M and the check must not report convergence."""
    laser = seed_laser(11, pumping=0.01)
    with pytest.warns(RuntimeWarning, match="not converged"):
        conv = converge_clusters(laser, ["photon_number", "n_peaks"], tol=1e-2, omega=OMEGA,
                                 M_max=41, progress_bar=False)
    assert not conv.converged
    assert conv.M.tolist() == [11, 21, 41]
    assert conv.changes["n_peaks"][-1] > 0
    ss, sp = conv.results[-1]
    assert ss.checks["clusters"]["checked"] and not ss.checks["clusters"]["converged"]


def test_factory_and_progress(capsys):
    factory = lambda M: seed_laser(M, "legendre")
    conv = converge_clusters(factory, "photon_number", tol=1e-2, M_start=5, progress_bar=True)
    assert conv.converged and conv.placement is None
    assert "converge_clusters: M = 5" in capsys.readouterr().err


def test_plot():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    conv = converge_clusters(seed_laser(5, "legendre"), ["photon_number", "linewidth"],
                             tol=1e-2, omega=OMEGA, progress_bar=False)
    axes = conv.plot()
    assert len(axes) == 2


# -- number of peaks with an explicit prominence -------------------------------------------
def test_prominence_threshold_is_explicit():
    x = np.linspace(-1, 1, 2001)
    S = np.exp(-x ** 2 / 2) * (1 + 0.02 * np.cos(40 * np.pi * x))   # 2 % ripple
    assert count_peaks(S) > 20                        # default 1e-3 counts the ripple
    assert count_peaks(S, prominence=0.05) == 1
    assert count_peaks(S, 0) == count_peaks(S, 1e-12)
    for bad in (-0.1, 1.0, "x"):
        with pytest.raises(ValueError, match="prominence"):
            count_peaks(S, bad)
    laser = seed_laser(41, pumping=0.02)
    ss = laser.steadystate(method="cumulant")
    default = laser.spectrum(OMEGA, method="cumulant", state=ss)
    strict = laser.spectrum(OMEGA, method="cumulant", state=ss, prominence=0.2)
    assert default.n_peaks > 1 and strict.n_peaks == 1
    assert strict.checks["peak_prominence"] == 0.2


def test_critical_pump_prominence_keyword():
    laser = seed_laser(11)
    rc_default = qsr.critical_pump(laser, OMEGA, (1e-5, 2.0), rtol=0.02)
    rc_strict = qsr.critical_pump(laser, OMEGA, (1e-5, 2.0), rtol=0.02, prominence=0.05)
    assert rc_default / SIGMA == pytest.approx(0.79, abs=0.02)   # table of issue 17
    assert rc_strict < 0.1 * rc_default


# -- bad input ------------------------------------------------------------------------------
def test_bad_input():
    laser = seed_laser(11)
    with pytest.raises(ValueError, match="tol must be > 0"):
        converge_clusters(laser, "photon_number", tol=0)
    with pytest.raises(ValueError, match="tol must be > 0"):
        converge_clusters(laser, "photon_number", tol=-1e-3)
    with pytest.raises(ValueError, match="M_max = 5 must be >= M_start = 11"):
        converge_clusters(laser, "photon_number", M_max=5)
    with pytest.raises(ValueError, match="unknown observable 'g2'"):
        converge_clusters(laser, ["photon_number", "g2"])
    with pytest.raises(ValueError, match="observables is empty"):
        converge_clusters(laser, [])
    with pytest.raises(ValueError, match="need a frequency grid omega"):
        converge_clusters(laser, "linewidth")
    with pytest.raises(ValueError, match="pump_range"):
        converge_clusters(laser, "R_c", omega=OMEGA)
    with pytest.raises(ValueError, match="placement must be one of"):
        converge_clusters(laser, "photon_number", placement="random")
    with pytest.raises(ValueError, match="a factory M -> model places its own"):
        converge_clusters(lambda M: seed_laser(M), "photon_number", placement="bins")
    # no spread: every cluster alike
    same = lambda M: qsr.SuperradiantLaser(qsr.Ensemble(np.full(M, 1e4 / M), np.zeros(M),
                                                        np.full(M, 1e-3)),
                                           kappa=1, emission=1e-3, pumping=0.05)
    with pytest.raises(ValueError, match="no spread"):
        converge_clusters(same, "photon_number")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        qsr.Ensemble.gaussian(1e4, 0.0, 11, integer=False)
    explicit = qsr.SuperradiantLaser(qsr.Ensemble([5.0, 5.0], [0.0, 0.1]), kappa=1,
                                     emission=0.01, pumping=0.1)
    with pytest.raises(ValueError, match="records no distribution"):
        converge_clusters(explicit, "photon_number")
    with pytest.raises(TypeError, match="laser model or a factory"):
        converge_clusters(42, "photon_number")
    bad_cavity = qsr.BadCavityLaser(qsr.Ensemble.gaussian(10, 0.1, 5, integer=False), collective_emission=0.1,
                                    emission=0.01, pumping=0.1)
    with pytest.raises(ValueError, match="cavity mode"):
        converge_clusters(bad_cavity, "photon_number")


# -- generic cluster models: a factory M -> Model -------------------------------------------
def _description_factory(placement="bins", N=1e4):
    """The seed laser as a generic Model (its description; the template's operators are
    shared by every M, so ``a†a`` of one is the observable of all)."""
    mode = seed_laser(5).description().modes[0]
    ops = {"n": mode.adag * mode.a, "field": mode.a}
    return (lambda M: (seed_laser(M, placement, N=N).description(), ops)), ops


def test_generic_model_results_carry_the_cluster_check():
    """A Model whose Clusters discretise a recorded distribution says, at fixed M, that
    convergence in M was not checked (cumulant, meanfield and the spectrum)."""
    model = seed_laser(11).description()
    assert model.distribution is not None and model.distribution.kind == "gaussian"
    mode = model.modes[0]
    n = mode.adag * mode.a
    for method in ("cumulant", "meanfield"):
        entry = qsr.steadystate(model, method, e_ops=[n]).checks["clusters"]
        assert entry["M"] == 11 and entry["discretised"] and entry["checked"] is False
        assert "converge_clusters" in entry["note"]
    sp = qsr.spectrum(model, OMEGA, "cumulant")
    assert sp.checks["clusters"]["checked"] is False
    # no distribution recorded (or another number of clusters): no entry
    plain = model.with_distribution(None)
    assert "clusters" not in qsr.steadystate(plain, "cumulant", e_ops=[n]).checks
    assert model.with_values(N=[5e3, 5e3], coupling=[1e-3] * 2,
                             detuning=[0.0, 0.1]).distribution is None
    with pytest.raises(TypeError, match="distribution must be a ClusterDistribution"):
        model.with_distribution("gaussian")
    with pytest.raises(ValueError, match="records no distribution"):
        model.with_distribution(qsr.Ensemble([1.0, 1.0]))


def test_generic_factory_converges_like_the_laser():
    """The same physics through the engine: photon number of the generic description
    equals the dedicated laser cumulants at every M (1e-9), same M sequence, and the
    last result says convergence was checked."""
    factory, ops = _description_factory()
    gen = converge_clusters(factory, ["n"], tol=1e-3, M_start=11, progress_bar=False)
    las = converge_clusters(seed_laser(11), ["photon_number"], tol=1e-3, progress_bar=False)
    assert gen.converged and las.converged
    assert gen.M.tolist() == las.M.tolist()
    np.testing.assert_allclose(gen.values["n"], las.values["photon_number"], rtol=1e-9)
    (res,) = gen.results[-1]
    assert res.checks["clusters"]["checked"] and res.checks["clusters"]["converged"]
    # operators given directly as e_ops, and a bare Model from the factory
    bare = converge_clusters(lambda M: seed_laser(M).description(), {"n": ops["n"]},
                             tol=1e-3, M_start=11, progress_bar=False)
    assert bare.value["n"] == pytest.approx(gen.value["n"], rel=1e-12)


def test_generic_bins_and_quadrature_agree_and_narrow_is_one_cluster():
    """Converged ⟨a†a⟩ of the generic model: bins and Gauss–Legendre agree within tol
    (the refinement follows the recorded placement: 2M − 1 for bins, 2M for Legendre);
    σ → 0 recovers the M = 1 model (identical atoms) to 1e-6.  (A Model needs at least
    one atom per cluster, which bounds M for 10⁴ atoms: M_max = 28 and 17.)"""
    tol = 1e-2
    bins = converge_clusters(_description_factory("bins")[0], "n", tol=tol, M_start=11,
                             progress_bar=False)
    quad = converge_clusters(_description_factory("legendre")[0], "n", tol=tol, M_start=14,
                             M_max=28, progress_bar=False)
    assert bins.converged and quad.converged
    assert bins.M.tolist() == [11, 21] and quad.M.tolist() == [14, 28]
    assert quad.placement == "legendre"
    assert bins.value["n"] == pytest.approx(quad.value["n"], rel=tol)
    one = qsr.SuperradiantLaser(qsr.Ensemble.identical(1e4, g=1e-3), kappa=1.0,
                                emission=1e-3, pumping=0.05).steadystate("cumulant")
    mode = seed_laser(5).description().modes[0]
    narrow = converge_clusters(lambda M: seed_laser(M, sigma=1e-8).description(),
                               {"n": mode.adag * mode.a}, tol=1e-6, M_start=3, M_max=17,
                               progress_bar=False)
    assert narrow.converged
    assert narrow.value["n"] == pytest.approx(one.photon_number, rel=1e-6)


def test_generic_bad_input():
    factory, ops = _description_factory()
    with pytest.raises(ValueError, match="tol must be > 0"):
        converge_clusters(factory, "n", tol=0)
    with pytest.raises(ValueError, match="M_max = 5 must be >= M_start = 11"):
        converge_clusters(factory, "n", M_start=11, M_max=5)
    with pytest.raises(ValueError, match=r"observable 'photon_number' is not an operator of "
                                         r"the model; it has \['field', 'n'\]"):
        converge_clusters(factory, ["n", "photon_number"], M_start=3)
    with pytest.raises(ValueError, match="observables is empty"):
        converge_clusters(factory, [], M_start=3)
    with pytest.raises(ValueError, match="returns a bare Model"):
        converge_clusters(lambda M: seed_laser(M).description(), "n", M_start=3)
    with pytest.raises(ValueError, match="omega applies to a laser model"):
        converge_clusters(factory, "n", M_start=3, omega=OMEGA)
    with pytest.raises(ValueError, match="method must be 'cumulant' or 'meanfield'"):
        converge_clusters(factory, "n", method="dicke")
    with pytest.raises(TypeError, match="a Model cannot be refined by itself"):
        converge_clusters(seed_laser(3).description(), "n")
    same = lambda M: (seed_laser(M).description().with_values(  # noqa: E731
        detuning=np.zeros(M), coupling=np.full(M, 1e-3)), ops)
    with pytest.raises(ValueError, match="no spread"):
        converge_clusters(same, "n", M_start=3)
    with pytest.raises(TypeError, match="expected a laser, a Model or a pair"):
        converge_clusters(lambda M: 42, "n", M_start=3)


# -- uniform and empirical distributions --------------------------------------------------
def _laser_of(ens):
    return qsr.SuperradiantLaser(ens, kappa=1.0, emission=1e-3, pumping=0.05)


def test_uniform_and_samples_converge_alike_bins_and_quadrature():
    """Converged ⟨a†a⟩ agrees between equal bins and quadrature (Gauss–Legendre for the
    uniform distribution, equal-count quantiles for samples) within tol = 1e-3; the
    quadrature needs fewer clusters.  For samples the continuum is the samples themselves:
    one cluster per sample gives the converged value within tol."""
    tol = 1e-3
    uni = {p: converge_clusters(_laser_of(qsr.Ensemble.uniform(1e4, 0.2, 11, g=1e-3,
                                                              integer=False, placement=p)),
                                "photon_number", tol=tol, progress_bar=False)
           for p in ("bins", "legendre")}
    assert all(c.converged for c in uni.values())
    assert uni["bins"].value["photon_number"] == pytest.approx(
        uni["legendre"].value["photon_number"], rel=tol)
    x = np.random.default_rng(7).normal(0.0, SIGMA, 300)
    smp = {p: converge_clusters(_laser_of(qsr.Ensemble.from_samples(x, 5, g=1e-3, N=1e4,
                                                                   placement=p)),
                                "photon_number", tol=tol, M_max=300, progress_bar=False)
           for p in ("bins", "quantiles")}
    assert all(c.converged for c in smp.values())
    assert smp["quantiles"].M_reached < smp["bins"].M_reached
    exact = _laser_of(qsr.Ensemble.from_samples(x, 300, g=1e-3, N=1e4,
                                                placement="quantiles")).steadystate("cumulant")
    for c in smp.values():
        assert c.value["photon_number"] == pytest.approx(exact.photon_number, rel=2 * tol)


def test_narrow_uniform_and_samples_recover_one_cluster():
    """Spread → 0: M clusters reproduce the identical-atom (M = 1) photon number."""
    one = _laser_of(qsr.Ensemble.identical(1e4, g=1e-3)).steadystate("cumulant").photon_number
    narrow = [qsr.Ensemble.uniform(1e4, 1e-9, 5, g=1e-3, integer=False, placement="legendre"),
              qsr.Ensemble.from_samples(1e-9 * np.random.default_rng(0).normal(size=200), 5,
                                        g=1e-3, N=1e4)]
    for ens in narrow:
        conv = converge_clusters(_laser_of(ens), "photon_number", tol=1e-8, M_max=40,
                                 progress_bar=False)
        assert conv.converged
        assert conv.value["photon_number"] == pytest.approx(one, rel=1e-6)


def test_samples_without_spread_and_wrong_placement():
    same = _laser_of(qsr.Ensemble.from_samples(np.full(50, 0.01), 5, g=1e-3, N=1e4))
    with pytest.raises(ValueError, match="no spread"):
        converge_clusters(same, "photon_number")
    uni = _laser_of(qsr.Ensemble.uniform(1e4, 0.2, 5, g=1e-3, integer=False))
    with pytest.raises(ValueError, match=r"placement must be one of \('bins', 'legendre'\)"):
        converge_clusters(uni, "photon_number", placement="hermite")
