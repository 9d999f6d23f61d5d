"""Several ``Clusters`` per model description: two species of two-level atoms (issue 9).

``tests/systems/two_species_laser.py`` writes the model with two ``Clusters`` (A: two
clusters, B: one) and with one explicit atom per atom.  Checked here: the counts and
values of the description, its messages, the cumulant methods against the explicit-atom
description (same equations: 1e-10), full against the explicit atoms (same tensor space:
1e-10), dicke (species as further clusters of one Dicke product space) against full
(1e-9), the order-3 cumulants of three atoms without a cavity against full (exact
closure: 1e-8), and the order-2 cumulants against full on the laser (an approximation).
"""
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr

from two_species_laser import description, species_form

PUMPS = dict(R_A=[0.4, 0.3], R_B=0.3)     # weak pumping: few photons, small Fock cutoff


def _exact(model, method, e_ops, **options):
    """A steady state of an exact method; the Fock cutoff is the same for the methods
    compared, so its truncation warning does not matter here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qsr.TruncationWarning)
        return qsr.steadystate(model, method, e_ops=e_ops, **options)


def _close(r, ref, keys, tol):
    for k in keys:
        assert abs(r.expect(k) - ref.expect(k)) < tol, (k, r.expect(k), ref.expect(k))


def test_counts_and_values_per_species():
    model, _ = description(counts_A=(2, 1), counts_B=(3,))
    A, B = list(model.cluster_counts)
    assert (A.name, B.name) == ("A", "B")
    counts = model.cluster_counts
    assert counts[A].tolist() == [2.0, 1.0] and counts[B].tolist() == [3.0]
    assert model.counts.tolist() == [2.0, 1.0, 3.0] and model.n_clusters == 3 and model.N == 6
    assert model.family_size(A) == 2 and model.family_size(B) == 1
    assert [(a.name, m) for a, m in model.sites(B)] == [("B1", 0), ("B2", 0), ("B3", 0)]
    assert [m for _, m in model.cluster_atoms()] == [0, 0, 1, 2, 2, 2]   # global index
    assert model.symmetry == "U(1)"
    assert "A: N=[2.0, 1.0], B: N=[3.0]" in repr(model)
    m2 = model.with_values(N={"B": [1, 2]}, Delta_B=[0.0, 0.1], g_B=[0.5, 0.6])
    assert m2.cluster_counts[B].tolist() == [1.0, 2.0]
    assert m2.cluster_counts[A].tolist() == [2.0, 1.0]
    m3 = model.with_values(R_B=0.5)
    assert m3.parameters["R_B"] == 0.5 and m3.counts.tolist() == [2.0, 1.0, 3.0]
    with pytest.raises(ValueError, match=r"several Clusters \['A', 'B'\].*cluster_counts"):
        model.clusters


def test_bad_counts_and_values_name_the_species():
    model, _ = description()
    with pytest.raises(ValueError, match=r"N must be a dict by family name for a model with "
                                         r"several Clusters \['A', 'B'\]"):
        model.with_values(N=3)
    H, jumps, _, _ = species_form()
    with pytest.raises(ValueError, match=r"N has no entry for Clusters 'B'"):
        qsr.Model(H, jumps, parameters=model.parameters, N={"A": [1, 1]})
    with pytest.raises(ValueError, match=r"N\['A'\] must be >= 1 atom per cluster"):
        model.with_values(N={"A": [1, 0]})
    with pytest.raises(ValueError, match=r"per-cluster parameter 'g_B' of Clusters 'B' needs 1 "
                                         r"values \(one per cluster\), got shape \(2,\)"):
        model.with_values(g_B=[0.8, 0.8])
    with pytest.raises(ValueError, match=r"per-cluster parameter 'R_A' of Clusters 'A' needs 2"):
        model.with_values(R_A=[1.0])
    with pytest.raises(ValueError, match=r"jump rate R_A must be a real number >= 0, got "
                                         r".* in cluster 1 of 'A'"):
        model.with_values(R_A=[1.0, -1.0])
    with pytest.raises(ValueError, match="one recorded distribution would not say which"):
        model.with_distribution(qsr.Ensemble.gaussian(10, 0.1, 2))


def test_cumulant_and_meanfield_equal_explicit_atoms():
    """Same equations: 1e-10 on ⟨a†a⟩, every cluster's population, ⟨J⁺_A J⁻_B⟩.  (The mean
    field of the detuned species has no fixed point here — the two species' fields beat,
    a limit cycle — so it is compared with every atom on resonance, where it lases.)"""
    for method, values in (("cumulant", None),
                           ("meanfield", dict(Delta_A=[0.0, 0.0], Delta_B=[0.0]))):
        model, e = description(values=values)
        ref_model, e2 = description(explicit=True, values=values)
        r = qsr.steadystate(model, method, e_ops=e)
        ref = qsr.steadystate(ref_model, method, e_ops=e2)
        _close(r, ref, e, 1e-10)
        assert r.expect("n").real > 1e-2 and abs(r.expect("JpA_JmB")) > 1e-2


def test_cumulant_evolution_equals_explicit_atoms():
    """From the excited state (every atom up, vacuum) the two forms integrate the same
    equations (RK45, rtol 1e-8: 1e-7)."""
    model, e = description()
    ref_model, e2 = description(explicit=True)
    t = np.linspace(0.0, 4.0, 5)
    ev = qsr.evolve(model, t, "cumulant", initial="excited", e_ops=e)
    ref = qsr.evolve(ref_model, t, "cumulant", initial="excited", e_ops=e2)
    for k in ("n", "pA0", "pA1", "pB0", "JpA_JmB"):
        np.testing.assert_allclose(ev.values[k], ref.values[k], atol=1e-7, err_msg=k)
    assert np.max(np.abs(ref.values["n"])) > 1e-2


def test_full_unrolls_every_species():
    """full on the species form is full on the explicit atoms A1, A2, B1 (1e-10)."""
    model, e = description()
    ref_model, e2 = description(explicit=True)
    assert [a.name for a, _ in model.cluster_atoms()] == ["A1", "A2", "B1"]
    full = _exact(model, "full", e, nphot=4)
    ref = _exact(ref_model, "full", e2, nphot=4)
    _close(full, ref, e, 1e-10)
    assert full.expect("n").real > 1e-3 and abs(full.expect("JpA_JmB")) > 1e-3


def test_dicke_takes_species_as_further_clusters():
    """dicke (a product of the clusters' Dicke spaces, species after species) equals full
    (1e-9) on the laser, with several atoms per cluster (A: [2, 1], B: [2])."""
    model, e = description(counts_A=(2, 1), counts_B=(2,))
    model = model.with_values(**PUMPS)
    assert qsr.solvers.dicke.supports(model) is None
    dicke = _exact(model, "dicke", e, nphot=3)
    full = _exact(model, "full", e, nphot=3)
    _close(dicke, full, e, 1e-9)
    assert dicke.expect("n").real > 1e-3


def test_spin_only_order_three_cumulants_are_exact():
    """Three atoms without a cavity: order-3 cumulants equal full (exact closure, 1e-8);
    dicke equals full (1e-10)."""
    model, e = description(cavity=False)
    full = qsr.steadystate(model, "full", e_ops=e)
    cum = qsr.steadystate(model, "cumulant", e_ops=e, order=3)
    dicke = qsr.steadystate(model, "dicke", e_ops=e)
    _close(cum, full, e, 1e-8)
    _close(dicke, full, e, 1e-10)
    assert abs(full.expect("JpA_JmB")) > 1e-3


def test_cross_validate_cumulant_against_full():
    """The order-2 cumulants of the tiny laser against full: an approximation (3 atoms,
    order 2; measured: ⟨a†a⟩ 0.2251 vs 0.2126, 5.9 %; populations within 0.025; asked
    10 % and 0.04)."""
    model, e = description()
    model = model.with_values(**PUMPS)
    full = _exact(model, "full", e, nphot=6)
    cum = qsr.steadystate(model, "cumulant", e_ops=e)
    assert abs(cum.expect("n") - full.expect("n")) < 0.1 * full.expect("n").real
    for k in ("pA0", "pA1", "pB0"):
        assert abs(cum.expect(k) - full.expect(k)) < 0.04


def test_supports_and_bound_solver():
    model, e = description()
    reasons = qsr.methods(model, "evolve")
    assert all(reasons[m] is None for m in ("full", "dicke", "meanfield", "cumulant",
                                            "trajectories"))
    assert "local jumps" in reasons["manifold"]
    H, jumps, _, _ = species_form()
    three = qsr.Clusters("C", levels=3)
    m3 = qsr.Model(H + three.sum(0.1 * three.atom.s(3, 3)), jumps, parameters=model.parameters,
                   N={"A": [1, 1], "B": [1], "C": 1})
    assert "two-level atoms in every species (Clusters 'C' has 3 levels)" in \
        qsr.solvers.dicke.supports(m3)
    assert not model.same_structure(model.with_values(N={"B": [1, 2]}, Delta_B=[0.0, 0.1],
                                                      g_B=[0.5, 0.6]))
    assert model.same_structure(model.with_values(kappa=1.5, N={"A": [2, 1], "B": [3]}))


def test_sweep_of_species_takes_the_grid_path():
    """Two species are two index sets, rebound per point like Modes families: the grid
    path's numbers equal the per-point path's (1e-8 relative, the steady-state solvers'
    tolerance)."""
    model, e = description()
    model = model.with_values(**PUMPS)
    obs = {k: e[k] for k in ("n", "pA0", "pB0")}
    task = qsr.SweepTask(model, "cumulant", observables=obs)
    assert task.grid_support(["kappa"]) is None
    grid = {"kappa": [1.0, 1.5, 2.0]}
    g = qsr.sweep(task, grid, progress_bar=False)
    p = qsr.sweep(task, grid, progress_bar=False, path="point")
    assert np.all(g.paths == "grid") and np.all(p.paths == "point")
    for k in obs:
        assert np.max(np.abs(g[k] - p[k]) / np.abs(p[k])) < 1e-8, k
