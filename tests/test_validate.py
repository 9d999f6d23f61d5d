"""cross_validate: report structure, input errors, and the cumulant-vs-exact deviations."""
import numpy as np
import pytest
import qutip

import qutip_superrad as qsr
from qutip_superrad.validate import CrossValidationReport, cross_validate


def _laser(g=0.1, **kw):
    rates = dict(kappa=1.0, emission=0.1, pumping=0.5)
    rates.update(kw)
    return qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=g), **rates)


def _qutip_reference(model, nphot=6):
    """Exact full-space steady state with plain QuTiP (independent of the package solvers)."""
    rho = qutip.steadystate(model.hamiltonian(nphot), model.c_ops(nphot))
    a, sm, _, _, _ = model._operators(nphot)
    p = np.array([qutip.expect(s.dag() * s, rho) for s in sm])
    M = len(sm)
    pair = np.array([[qutip.expect(sm[i].dag() * sm[j], rho) if i != j else 0
                      for j in range(M)] for i in range(M)])
    n = qutip.expect(a.dag() * a, rho)
    return qsr.SteadyStateResult("qutip", n, p, pair, photon_flux=model.kappa * n)


def test_report_with_callable_reference():
    """Distinct atoms (one per cluster) against plain QuTiP; table, markdown and plot."""
    ens = [qsr.Ensemble.atoms([0.0, 0.03], [0.05, 0.04]),
           qsr.Ensemble.atoms([0.0, 0.03, -0.02], [0.05, 0.04, 0.06])]
    laser = qsr.SuperradiantLaser(ens[0], kappa=1, emission=0.01, pumping=0.1, dephasing=0.01)
    rep = cross_validate(laser, ensembles=ens, reference=_qutip_reference)
    assert isinstance(rep, CrossValidationReport) and len(rep) == 2
    assert rep.reference == "_qutip_reference" and rep.approx == "cumulant"
    # measured: 1.3 % / 2.5 % in ⟨n⟩, pairs 9 % / 17 %
    assert np.all(rep.table["dev_photon_number"] < 0.03)
    assert np.all(rep.table["dev_population"] < 0.01)
    assert np.all(rep.table["dev_pair"] < 0.2)
    md = rep.to_markdown()
    assert "dev_photon_number" in md and md.count("\n|") >= 3
    import matplotlib
    matplotlib.use("Agg")
    ax = rep.plot()
    assert ax.get_ylabel().startswith("relative deviation")


def test_bad_input():
    laser = _laser()
    with pytest.raises(ValueError, match="exactly one"):
        cross_validate(laser)
    with pytest.raises(ValueError, match="exactly one"):
        cross_validate(laser, N=[1], ensembles=[laser.ensemble])
    with pytest.raises(ValueError):
        cross_validate(laser, N=[0])
    with pytest.raises(ValueError):
        cross_validate(laser, N=[1.5])
    with pytest.raises(ValueError, match="reference"):
        cross_validate(laser, N=[1], reference="exactest")
    with pytest.raises(TypeError):
        cross_validate(laser, ensembles=[1, 2])
    inhom = qsr.SuperradiantLaser(qsr.Ensemble.atoms([0, 0.1]), kappa=1, emission=0.1, pumping=0.5)
    with pytest.raises(ValueError, match="identical"):
        cross_validate(inhom, N=[1, 2])
    with pytest.raises(ValueError, match="increasing"):
        cross_validate(laser, N=[1], reference=_qutip_reference, omega=[1.0, 0.0])


def test_against_dicke_small_N():
    """Identical atoms, bad-cavity regime C = 4g²/κΓ = 0.4: a few % up to N = 5."""
    rep = cross_validate(_laser(), N=[1, 2, 5], reference_options={"nphot": 10})
    assert np.isnan(rep.table["dev_pair"][0])        # one atom: no pair
    assert np.all(rep.table["dev_photon_number"] < 0.1)
    assert np.all(rep.table["dev_population"] < 0.01)
    assert np.all(rep.table["dev_pair"][1:] < 0.2)


@pytest.mark.slow
def test_linewidth_against_dicke():
    w = np.linspace(-1.5, 1.5, 601)
    rep = cross_validate(_laser(), N=[2, 4], reference_options={"nphot": 10}, omega=w)
    assert np.all(np.isfinite(rep.table["dev_linewidth"]))
    assert np.all(rep.table["dev_linewidth"] < 0.3)


def test_auto_photon_cutoff():
    """nphot="auto": the cutoff grows with the photon number until the truncation check passes."""
    laser = _laser(g=1.0, kappa=10.0, emission=0.1, pumping=1.0)         # C = 4, ⟨n⟩ ≈ 0.02 … 0.8
    rep = cross_validate(laser, N=[1, 10, 20], reference_options={"nphot": "auto"})
    nphot = rep.table["nphot"]
    assert nphot[0] == 9 and nphot[-1] > nphot[0]
    for ref, _ in rep.results:
        assert ref.checks["truncation"]["ok"]
    # a fixed cutoff is reported as such; too small a cap keeps truncating and warns
    assert cross_validate(laser, N=[2], reference_options={"nphot": 7}).table["nphot"][0] == 7
    from qutip_superrad.exact._common import TruncationWarning
    with pytest.warns(TruncationWarning, match="nphot_max"):
        r = cross_validate(laser, N=[20], reference_options={"nphot": "auto", "nphot_max": 8})
    assert r.table["nphot"][0] == 8
    with pytest.raises(ValueError, match="auto"):
        cross_validate(laser, N=[1], reference_options={"nphot": "many"})
    with pytest.raises(ValueError, match="auto"):
        cross_validate(laser, N=[1], reference=_qutip_reference, reference_options={"nphot": "auto"})
