"""One vocabulary after qutip.piqs: the laser's former parameter names still work, with a warning.

``gamma`` → ``emission``, ``pump`` → ``pumping``, ``atom_dephasing`` → ``dephasing``,
``collective_decay`` → ``collective_emission``.  The former keywords give the same
model (and the same numbers) with a ``FutureWarning``; old and new name together
are a ``TypeError``; the former attribute names are read-only aliases (with the same
warning).
"""
import inspect
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import Ensemble

RENAMED = {"gamma": "emission", "pump": "pumping", "atom_dephasing": "dephasing"}
RENAMED_BAD_CAVITY = dict(RENAMED, collective_decay="collective_emission")

NEW = dict(kappa=3.0, emission=0.1, pumping=1.5, dephasing=0.2, cavity_dephasing=0.1,
           cavity_detuning=0.05)
OLD = dict(kappa=3.0, gamma=0.1, pump=1.5, atom_dephasing=0.2, cavity_dephasing=0.1,
           cavity_detuning=0.05)
NEW_BC = dict(collective_emission=0.3, emission=0.1, pumping=1.0, dephasing=0.2,
              collective_shift=0.05)
OLD_BC = dict(collective_decay=0.3, gamma=0.1, pump=1.0, atom_dephasing=0.2,
              collective_shift=0.05)


def _ens(N=3):
    return Ensemble.identical(N, g=1.0, detuning=0.1)


def _no_warning(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


# -- the new names are the signature ----------------------------------------------------
def test_signatures_use_the_new_names():
    sig = inspect.signature(qsr.SuperradiantLaser)
    assert list(sig.parameters) == ["ensemble", "kappa", "emission", "pumping", "dephasing",
                                    "cavity_dephasing", "cavity_detuning"]
    sig = inspect.signature(qsr.BadCavityLaser)
    assert list(sig.parameters) == ["ensemble", "collective_emission", "emission", "pumping",
                                    "dephasing", "collective_shift", "kappa", "parent"]


def test_new_names_do_not_warn():
    laser = _no_warning(qsr.SuperradiantLaser, _ens(), **NEW)
    bc = _no_warning(laser.eliminate_cavity)
    _no_warning(qsr.BadCavityLaser, _ens(), **NEW_BC)
    _no_warning(laser.with_ensemble, _ens(2))
    assert laser.parameters() == NEW
    assert "emission=0.1" in repr(laser) and "pumping=1.5" in repr(laser)
    assert "gamma" not in repr(laser) and "pump=" not in repr(laser)
    assert "collective_emission=" in repr(bc) and "collective_decay" not in repr(bc)


def test_positional_calls_keep_working():
    a = _no_warning(qsr.SuperradiantLaser, _ens(), 3.0, 0.1, 1.5, 0.2, 0.1, 0.05)
    assert a.parameters() == NEW
    b = _no_warning(qsr.BadCavityLaser, _ens(), 0.3, 0.1, 1.0, 0.2, 0.05)
    assert (b.collective_emission, b.emission, b.pumping, b.dephasing, b.collective_shift) == \
        (0.3, 0.1, 1.0, 0.2, 0.05)


# -- the former names warn and give the same model ----------------------------------------
@pytest.mark.parametrize("old, new", RENAMED.items())
def test_old_keyword_warns(old, new):
    kw = {k: v for k, v in NEW.items() if k != new}
    kw[old] = NEW[new]
    with pytest.warns(FutureWarning, match=f"'{old}' is renamed to '{new}'"):
        laser = qsr.SuperradiantLaser(_ens(), **kw)
    assert laser.parameters() == NEW


@pytest.mark.parametrize("old, new", RENAMED_BAD_CAVITY.items())
def test_old_keyword_warns_bad_cavity(old, new):
    kw = {k: v for k, v in NEW_BC.items() if k != new}
    kw[old] = NEW_BC[new]
    with pytest.warns(FutureWarning, match=f"'{old}' is renamed to '{new}'"):
        bc = qsr.BadCavityLaser(_ens(), **kw)
    assert getattr(bc, new) == NEW_BC[new]


def test_warning_points_at_the_caller():
    with pytest.warns(FutureWarning) as rec:
        qsr.SuperradiantLaser(_ens(), **OLD)
    assert len(rec) == 3
    assert all(w.filename == __file__ for w in rec)


def test_old_names_give_identical_results():
    new = qsr.SuperradiantLaser(_ens(), **NEW)
    with pytest.warns(FutureWarning):
        old = qsr.SuperradiantLaser(_ens(), **OLD)
    assert repr(old) == repr(new) and old.parameters() == new.parameters()
    a, b = new.steadystate("dicke", nphot=14), old.steadystate("dicke", nphot=14)
    assert a.photon_number == b.photon_number
    assert np.array_equal(a.excited_population, b.excited_population)
    assert np.array_equal(a.pair_correlation, b.pair_correlation)
    omega = np.linspace(-2, 2, 41)
    assert np.array_equal(new.spectrum(omega, "cumulant").S, old.spectrum(omega, "cumulant").S)
    # the bad-cavity limit, directly and by elimination
    bc_new = qsr.BadCavityLaser(_ens(), **NEW_BC)
    with pytest.warns(FutureWarning):
        bc_old = qsr.BadCavityLaser(_ens(), **OLD_BC)
    assert repr(bc_old) == repr(bc_new)
    assert bc_old.steadystate().photon_flux == bc_new.steadystate().photon_flux
    assert repr(old.eliminate_cavity()) == repr(new.eliminate_cavity())


# -- old and new together ----------------------------------------------------------------
@pytest.mark.parametrize("old, new", RENAMED.items())
def test_old_and_new_together_is_a_type_error(old, new):
    with pytest.raises(TypeError, match=f"both '{old}' and its new name '{new}'"):
        qsr.SuperradiantLaser(_ens(), **NEW, **{old: NEW[new]})


@pytest.mark.parametrize("old, new", RENAMED_BAD_CAVITY.items())
def test_old_and_new_together_is_a_type_error_bad_cavity(old, new):
    with pytest.raises(TypeError, match=f"both '{old}' and its new name '{new}'"):
        qsr.BadCavityLaser(_ens(), **NEW_BC, **{old: NEW_BC[new]})


def test_old_keyword_and_new_positional_is_a_type_error():
    with pytest.raises(TypeError, match="emission"), pytest.warns(FutureWarning):
        qsr.SuperradiantLaser(_ens(), 3.0, 0.1, 1.5, gamma=0.1)


# -- the former attribute names -----------------------------------------------------------
def test_old_attributes_are_read_only_aliases():
    laser = qsr.SuperradiantLaser(_ens(), **NEW)
    bc = laser.eliminate_cavity()
    for model, renamed in ((laser, RENAMED), (bc, RENAMED_BAD_CAVITY)):
        for old, new in renamed.items():
            with pytest.warns(FutureWarning, match=f"'{old}' is renamed to '{new}'") as rec:
                assert getattr(model, old) == getattr(model, new)
            assert rec[0].filename == __file__
            with pytest.raises(AttributeError):
                setattr(model, old, 1.0)
    assert not hasattr(qsr.SuperradiantLaser, "collective_decay")


def test_validation_messages_use_the_new_names():
    with pytest.raises(ValueError, match="emission must be a rate"):
        qsr.SuperradiantLaser(_ens(), kappa=1.0, emission=-1.0, pumping=1.0)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="pumping must be a rate"):
        qsr.SuperradiantLaser(_ens(), kappa=1.0, emission=1.0, pump=-1.0)
    with pytest.raises(ValueError, match="collective_emission must be a rate"):
        qsr.BadCavityLaser(_ens(), collective_emission=-1.0, emission=0.1, pumping=1.0)
