"""Invalid input to the laser models and exact solvers raises a clear error naming the parameter."""
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import Ensemble, MemoryLimitError
from qutip_superrad.exact._common import TruncationWarning

RATES = dict(kappa=1.0, emission=0.1, pumping=1.0)


def laser(N=2, **kw):
    return qsr.SuperradiantLaser(Ensemble.identical(N), **{**RATES, **kw})


# -- rates -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["kappa", "emission", "pumping", "dephasing", "cavity_dephasing"])
@pytest.mark.parametrize("value", [-0.5, np.nan, np.inf])
def test_bad_rate(name, value):
    with pytest.raises(ValueError, match=name):
        laser(**{name: value})


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_bad_cavity_detuning(value):
    with pytest.raises(ValueError, match="cavity_detuning"):
        laser(cavity_detuning=value)


def test_kappa_zero():
    with pytest.raises(ValueError, match="kappa must be > 0"):
        laser(kappa=0.0)


@pytest.mark.parametrize("name", ["kappa", "emission", "pumping"])
def test_rate_wrong_type(name):
    with pytest.raises(TypeError, match=name):
        laser(**{name: "1.0"})
    with pytest.raises(TypeError, match=name):
        laser(**{name: True})            # bools are not rates


@pytest.mark.parametrize("name", ["collective_emission", "emission", "pumping", "dephasing"])
def test_bad_cavity_laser_rates(name):
    kw = dict(collective_emission=0.1, emission=0.1, pumping=1.0)
    kw[name] = -1.0
    with pytest.raises(ValueError, match=name):
        qsr.BadCavityLaser(Ensemble.identical(3), **kw)


def test_ensemble_type():
    with pytest.raises(TypeError, match="ensemble"):
        qsr.SuperradiantLaser([1, 2], **RATES)


# -- atom numbers ---------------------------------------------------------------
@pytest.mark.parametrize("N", [0, 0.5, -3])
def test_N_below_one(N):
    with pytest.raises(ValueError, match="N must be >= 1"):
        Ensemble.identical(N)


def test_N_nan():
    with pytest.raises(ValueError, match="N must be finite"):
        Ensemble.identical(np.nan)


def test_non_integer_N_dicke():
    with pytest.raises(ValueError, match="N=2.5"):
        qsr.SuperradiantLaser(Ensemble.identical(2.5), **RATES).steadystate("dicke")


def test_non_integer_N_full():
    with pytest.raises(ValueError, match="counts"):
        qsr.SuperradiantLaser(Ensemble.identical(2.5), **RATES).steadystate("full")


def test_non_integer_counts_atom_parameters():
    with pytest.raises(ValueError, match="counts"):
        Ensemble([1.5, 2]).atom_parameters()


# -- ensembles ---------------------------------------------------------------------
def test_mismatched_detunings():
    with pytest.raises(ValueError, match="detunings must have length 2"):
        Ensemble([1, 2], detunings=[0.1])


def test_mismatched_couplings():
    with pytest.raises(ValueError, match="couplings must have length 2"):
        Ensemble([1, 2], couplings=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="couplings must have length 2"):
        Ensemble.atoms([0.1, 0.2], couplings=[1.0])


def test_empty_and_negative_counts():
    with pytest.raises(ValueError, match="counts"):
        Ensemble([])
    with pytest.raises(ValueError, match="counts must be > 0"):
        Ensemble([1, -2])
    with pytest.raises(ValueError, match="detunings"):
        Ensemble.atoms([])


def test_nan_detuning():
    with pytest.raises(ValueError, match="detunings must be finite"):
        Ensemble([1, 1], detunings=[0.0, np.nan])


def test_two_dimensional_counts():
    with pytest.raises(ValueError, match="counts must be one-dimensional"):
        Ensemble([[1, 2], [3, 4]])


def test_bad_ensemble_constructors():
    with pytest.raises(ValueError, match="sigma"):
        Ensemble.gaussian(10, sigma=0.0, n_clusters=3)
    with pytest.raises(ValueError, match="n_clusters"):
        Ensemble.gaussian(10, sigma=1.0, n_clusters=0)
    with pytest.raises(ValueError, match="N must be an integer"):
        Ensemble.gaussian(10.5, sigma=1.0, n_clusters=3)
    with pytest.raises(ValueError, match="n_positions"):
        Ensemble.standing_wave(10, g0=1.0, n_positions=0)
    with pytest.raises(TypeError, match="frequencies and positions"):
        Ensemble.product(Ensemble.identical(2), "positions")


# -- solver options ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["dicke", "full"])
def test_nphot_below_two(method):
    with pytest.raises(ValueError, match="nphot must be >= 2"):
        laser().steadystate(method, nphot=1)


def test_nphot_not_integer():
    with pytest.raises(TypeError, match="nphot"):
        laser().steadystate("dicke", nphot=2.5)


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_unknown_option(method):
    with pytest.raises(ValueError, match=r"unknown option.*'nphott'"):
        laser().steadystate(method, nphott=4)
    with pytest.raises(ValueError, match=r"unknown option.*'foo'"):
        laser().spectrum([0.0, 1.0], method, options={"foo": 1})
    with pytest.raises(ValueError, match=r"unknown option.*'strict'"):
        laser().evolve([0.0, 1.0], method, strict=True)


def test_options_not_a_dict():
    with pytest.raises(TypeError, match="options must be a dict"):
        laser().steadystate("dicke", options=[("nphot", 4)])


# -- methods ---------------------------------------------------------------------------
def test_dicke_needs_identical_atoms():
    distinct = qsr.SuperradiantLaser(Ensemble.atoms([0.0, 0.1]), **RATES)
    with pytest.raises(ValueError, match="method='dicke' needs identical atoms"):
        distinct.steadystate("dicke")
    couplings = qsr.SuperradiantLaser(Ensemble.atoms([0.0, 0.0], couplings=[1.0, 0.5]), **RATES)
    with pytest.raises(ValueError, match="method='dicke' needs identical atoms"):
        couplings.spectrum([0.0, 1.0], "dicke")


def test_full_on_bad_cavity_laser():
    bc = qsr.BadCavityLaser(Ensemble.identical(3), collective_emission=0.1, emission=0.1, pumping=1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        bc.steadystate("full")


@pytest.mark.parametrize("method", ["exact", "Dicke", None, 3])
def test_unknown_method(method):
    with pytest.raises(ValueError, match="method must be one of"):
        laser().steadystate(method)


def test_liouvillian_unknown_method():
    with pytest.raises(ValueError, match="method must be 'full' or 'dicke'"):
        laser().liouvillian("cumulant")


def test_eliminate_cavity_needs_identical_couplings():
    distinct = qsr.SuperradiantLaser(Ensemble.atoms([0.0, 0.0], couplings=[1.0, 2.0]), **RATES)
    with pytest.raises(ValueError, match="identical couplings"):
        distinct.eliminate_cavity()


# -- memory ------------------------------------------------------------------------------
def test_memory_limit_dicke_before_allocation(monkeypatch):
    from qutip_superrad.solvers import dicke

    def boom(*args, **kwargs):
        raise AssertionError("allocated before the memory check")

    monkeypatch.setattr(dicke, "liouvillian", boom)
    monkeypatch.setattr(dicke.DickeFockSpace, "__init__", boom)
    with pytest.raises(MemoryLimitError, match="max_memory") as info:
        laser().steadystate("dicke", max_memory=1e3)
    assert "estimated" in str(info.value)
    assert isinstance(info.value, MemoryError)


def test_memory_limit_full_before_allocation(monkeypatch):
    import qutip
    from qutip_superrad.solvers import full

    def boom(*args, **kwargs):
        raise AssertionError("allocated before the memory check")

    monkeypatch.setattr(qutip, "liouvillian", boom)
    monkeypatch.setattr(full.qutip, "liouvillian", boom)
    big = qsr.SuperradiantLaser(Ensemble.identical(14), **RATES)
    # 10·2¹⁴ = 163840 states: the superoperator would need ~2.7e5 GiB (default limit 8 GiB)
    with pytest.raises(MemoryLimitError, match=r"estimated [\d.e+]+ GiB.*max_memory=8 GiB"):
        big.steadystate("full")
    with pytest.raises(MemoryLimitError, match="Hilbert dimension 163840"):
        big.spectrum([0.0, 1.0], "full")


def test_memory_message_quotes_small_estimate():
    with pytest.raises(MemoryLimitError) as info:
        laser().steadystate("dicke", max_memory=1e3)
    assert "0.00 GiB" not in str(info.value)


def test_negative_max_memory():
    with pytest.raises(ValueError, match="max_memory"):
        laser().steadystate("dicke", max_memory=-5)


# -- grids -----------------------------------------------------------------------------------
@pytest.mark.parametrize("omega", [[0.0, 2.0, 1.0], [0.0, 0.0, 1.0], [1.0, 0.0]])
def test_omega_not_increasing(omega):
    with pytest.raises(ValueError, match="omega must be strictly increasing"):
        laser().spectrum(omega, "dicke", nphot=3)


def test_omega_nan():
    with pytest.raises(ValueError, match="omega must be finite"):
        laser().spectrum([0.0, np.nan], "dicke", nphot=3)


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_tlist_not_increasing(method):
    with pytest.raises(ValueError, match="tlist must be strictly increasing"):
        laser().evolve([0.0, 1.0, 0.5], method, nphot=3)


def test_evolve_initial_wrong_type():
    with pytest.raises(TypeError, match="initial"):
        laser().evolve([0.0, 1.0], "dicke", nphot=3, initial=np.eye(2))
    with pytest.raises(TypeError, match="initial"):
        laser().evolve([0.0, 1.0], "full", nphot=3, initial=np.eye(2))


# -- truncation ------------------------------------------------------------------------------
STRONG = dict(kappa=1.0, emission=0.05, pumping=2.0)      # ⟨a†a⟩ ≈ 1.8 for N = 4: nphot = 3 is too small


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_truncation_warning(method):
    l = qsr.SuperradiantLaser(Ensemble.identical(4), **STRONG)
    with pytest.warns(TruncationWarning, match="nphot >= "):
        ss = l.steadystate(method, nphot=3)
    trunc = ss.checks["truncation"]
    assert not trunc["ok"] and trunc["top_fock_population"] > 0.1
    assert trunc["suggested_nphot"] > 3


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_truncation_strict_raises(method):
    l = qsr.SuperradiantLaser(Ensemble.identical(4), **STRONG)
    with pytest.raises(ValueError, match=r"photon space truncated.*nphot"):
        l.steadystate(method, nphot=3, strict=True)
    with pytest.raises(ValueError, match="photon space truncated"):
        l.spectrum([0.0, 1.0], method, nphot=3, strict=True)


def test_no_truncation_warning_when_converged():
    l = qsr.SuperradiantLaser(Ensemble.identical(2), kappa=10.0, emission=0.1, pumping=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = l.steadystate("dicke", nphot=8, strict=True)
    assert ss.checks["truncation"]["ok"]


@pytest.mark.filterwarnings("ignore::qutip_superrad.exact._common.TruncationWarning")
def test_negative_truncation_tol():
    with pytest.raises(ValueError, match="truncation_tol"):
        laser().steadystate("dicke", nphot=10, truncation_tol=-1.0)


def test_evolve_initial_from_other_dicke_space():
    a = qsr.SuperradiantLaser(Ensemble.identical(1), **RATES)
    b = qsr.SuperradiantLaser(Ensemble.identical(2), **RATES)
    ss = a.steadystate("dicke", nphot=6, truncation_tol=1.0)
    with pytest.raises(ValueError, match="initial state has N=1"):
        b.evolve([0.0, 1.0], "dicke", nphot=3, initial=ss.state)


# -- physical edge cases (issue 12, item 2) ----------------------------------------
@pytest.mark.parametrize("method, kw", [("dicke", {"nphot": 4}), ("full", {"nphot": 4}),
                                        ("cumulant", {})])
@pytest.mark.parametrize("change", [{"pumping": 0.0}, {"g": 0.0}])
def test_a_dark_laser_has_a_zero_spectrum_and_says_so(method, kw, change):
    # no pump (or no coupling): nothing is emitted — a zero spectrum with nan width and
    # checks["dark"], not a LinAlgError, so that a pump scan may start at zero
    change = dict(change)
    g = change.pop("g", 1.0)
    las = qsr.SuperradiantLaser(Ensemble.identical(3, g=g), **{**RATES, **change})
    with pytest.warns(RuntimeWarning, match="emits no incoherent light"):
        sp = las.spectrum(np.linspace(-2, 2, 21), method, **kw)
    assert sp.checks["dark"] and np.all(sp.S == 0) and np.isnan(sp.linewidth)


def test_dark_bad_cavity_laser_and_description():
    bc = laser(3, pumping=0.0).eliminate_cavity()
    with pytest.warns(RuntimeWarning, match="emits no incoherent light"):
        assert bc.spectrum(np.linspace(-1, 1, 11)).checks["dark"]
    model, _ = qsr.examples.vlevel_laser(1, Omega2=0.0, Omega3=0.0)
    for method, kw in (("full", {"nphot": 3}), ("cumulant", {})):
        with pytest.warns(RuntimeWarning, match="emits no incoherent light"):
            assert qsr.spectrum(model, np.linspace(-1, 1, 11), method, **kw).checks["dark"]
    bright = laser(3).spectrum(np.linspace(-2, 2, 41), "dicke", nphot=4)
    assert bright.checks["dark"] is False and np.isfinite(bright.linewidth)


def test_spectra_pickle_and_have_short_reprs():
    # issue 12, item 7: a SpectrumResult held a local lambda (qutip.parallel_map failed)
    # and its repr dumped every frequency
    import pickle
    w = np.linspace(-2, 2, 201)
    for sp in (laser(3).spectrum(w, "dicke", nphot=4), laser(3).spectrum(w, "cumulant"),
               qsr.VLevelLaser.strontium(2000).spectrum(w * 1e-2)):
        back = pickle.loads(pickle.dumps(sp))
        assert np.array_equal(back.evaluate(w), sp.evaluate(w))
        assert len(repr(sp)) < 200 and "linewidth=" in repr(sp)


def test_advice_names_what_the_user_can_do():
    # issue 12, item 5: the bad-cavity class has only 'dicke'; the sector message names
    # the parameter the user passed
    bc = qsr.SuperradiantLaser(Ensemble.atoms([0.0, 0.1]), **RATES).eliminate_cavity()
    with pytest.raises(ValueError, match=r"no other method.*qsr.steadystate\(laser.description"):
        bc.steadystate()
    cp = qsr.CollectivePumping(10, collective_emission=1.0, collective_pumping=0.5)
    with pytest.raises(ValueError, match=r"sectors \(k\) must be <= 10, got 100"):
        cp.spectrum(sectors=[100])


def test_piqs_memory_guard_before_building():
    """Issue 12.4: the qutip.piqs route estimates its memory (≈ 100 B per (Dicke states)²)
    and refuses before building, pointing to method='dicke'; N = 200 (measured 6.3 GB
    unguarded) is refused under a 4 GiB limit, and at once."""
    import time
    m = qsr.CollectivePumping(200, 1.0, 0.5, emission=0.1)
    t0 = time.perf_counter()
    with pytest.raises(qsr.MemoryLimitError, match=r"qutip.piqs Liouvillian.*method='dicke'"):
        m.steadystate(method="piqs", max_memory=4 * 2 ** 30)
    assert time.perf_counter() - t0 < 1.0
