"""Several ``Clusters`` families in one engine model: two species of atoms (issue 9).

Each species is its own index set with its own per-cluster parameters and its own number
of clusters.  Checked against the same model written with one explicit atom per atom
(``tests/systems/two_species_laser.py``): the two forms are the same equations, so they
agree to the Newton tolerance.
"""
import numpy as np
import pytest

from qutip_superrad.cumulant.engine import Clusters, Mode, Model

from two_species_laser import (engine_charges, explicit_form, scalars, species_form)


def _species_system(order=2, cavity=True, counts_A=(1, 1), counts_B=(1,)):
    H, jumps, h, clusters = species_form(counts_A, counts_B, cavity)
    system = Model(H, jumps).close(order, phase_charges=engine_charges(h, cavity))
    return system, h, clusters


def test_two_species_laser_equals_explicit_atoms():
    """A = 2 clusters, B = 1 cluster, one atom each, order 2: ⟨a†a⟩ and the excited
    population of every cluster equal those of three explicit atoms to 1e-10."""
    system, h, clusters = _species_system()
    assert [f.name for f in system.index_sets] == ["A", "B"]
    assert system.indexed_keys == [("A", "Delta_A"), ("A", "N"), ("A", "R_A"),
                                   ("B", "Delta_B"), ("B", "N"), ("B", "g_B")]
    ss = system.solver(scalars(), clusters).steadystate()
    assert isinstance(ss.M, dict) and ss.M == {"A": 2, "B": 1}

    H, jumps, e = explicit_form()
    ref_system = Model(H, jumps).close(2, phase_charges=engine_charges(e))
    ref = ref_system.solver(scalars()).steadystate()
    (A0,), (A1,) = e["A"]
    (B0,), = e["B"]
    a = h["a"]
    assert abs(ss[a.num()] - ref[e["a"].num()]) < 1e-10
    assert ref[e["a"].num()].real > 1e-2                 # the cavity is populated
    np.testing.assert_allclose(ss["A22[i0]"], [ref[A0.s(2, 2)], ref[A1.s(2, 2)]], atol=1e-10)
    np.testing.assert_allclose(ss["B22[i0]"], [ref[B0.s(2, 2)]], atol=1e-10)
    # the inter-species correlation ⟨σ⁺_A σ⁻_B⟩ (an (M_A, M_B) array) and a photon-atom one
    sA, sB = h["A"].atom, h["B"].atom
    np.testing.assert_allclose(ss[sA.sp * sB.sm], [[ref[A0.sp * B0.sm]], [ref[A1.sp * B0.sm]]],
                               atol=1e-10)
    np.testing.assert_allclose(ss[a.adag * sB.sm], [ref[e["a"].adag * B0.sm]], atol=1e-10)
    assert abs(ref[A0.sp * B0.sm]) > 1e-3                 # not a comparison of zeros


def test_species_equations_do_not_depend_on_the_cluster_counts():
    """One closed system for any number of clusters per species; the sparse lowering and
    the NumPy oracle agree on random states (1e-12)."""
    system, h, _ = _species_system()
    n_families = len(system.families)
    rng = np.random.default_rng(3)
    for MA, MB in ((1, 1), (2, 3), (4, 2)):
        vals = {"A": {"N": rng.uniform(1, 5, MA), "Delta_A": rng.normal(size=MA),
                      "R_A": rng.uniform(0.5, 1, MA)},
                "B": {"N": rng.uniform(1, 5, MB), "Delta_B": rng.normal(size=MB),
                      "g_B": rng.uniform(0.2, 1, MB)}}
        solver = system.solver(scalars(), vals)
        assert solver.n == system.n_equations({"A": MA, "B": MB})
        assert solver.rhs.backend == "sparse"        # several index sets: sparse lowering
        y = rng.normal(size=solver.n) + 1j * rng.normal(size=solver.n)
        oracle = system.solver(scalars(), vals, backend="numpy").rhs(y)
        np.testing.assert_allclose(solver.rhs(y), oracle, rtol=1e-12, atol=1e-12)
    assert len(system.families) == n_families


def test_spin_only_species_order_three_is_exact():
    """Without a mode, three atoms (A: 2 clusters, B: 1) close exactly at order 3: the
    species form (exchange J⁺_A J⁻_B + h.c., collective decay D[J⁻_A + J⁻_B]) equals
    the explicit atoms' equations at order 3 (1e-10)."""
    system, h, clusters = _species_system(order=3, cavity=False)
    ss = system.solver(scalars(False), clusters).steadystate()
    H, jumps, e = explicit_form(cavity=False)
    ref = Model(H, jumps).close(3, phase_charges=engine_charges(e, False)).solver(
        scalars(False)).steadystate()
    (A0,), (A1,) = e["A"]
    (B0,), = e["B"]
    np.testing.assert_allclose(ss["A22[i0]"], [ref[A0.s(2, 2)], ref[A1.s(2, 2)]], atol=1e-10)
    np.testing.assert_allclose(ss["B22[i0]"], [ref[B0.s(2, 2)]], atol=1e-10)
    sA, sB = h["A"].atom, h["B"].atom
    np.testing.assert_allclose(ss[sA.sp * sB.sm][:, 0], [ref[A0.sp * B0.sm], ref[A1.sp * B0.sm]],
                               atol=1e-10)
    assert abs(ref[A0.sp * B0.sm]) > 1e-3


def test_species_bad_input_names_the_family():
    system, _, clusters = _species_system()
    with pytest.raises(ValueError, match=r"clusters\['B'\] needs the cluster sizes 'N'"):
        system.solver(scalars(), {"A": clusters["A"], "B": {"Delta_B": [0.1], "g_B": [1.0]}})
    with pytest.raises(ValueError, match=r"clusters\['A'\]: arrays of different lengths \[1, 2\]"):
        system.solver(scalars(), dict(clusters, A=dict(clusters["A"], N=[1.0])))
    with pytest.raises(ValueError, match=r"unknown per-index parameter 'g_B' of 'A'"):
        system.solver(scalars(), dict(clusters, A=dict(clusters["A"], g_B=[1.0, 1.0])))
    with pytest.raises(ValueError, match=r"jump rate R_A evaluates to -1.0 in cluster 1 of 'A'"):
        system.solver(scalars(), dict(clusters, A=dict(clusters["A"], R_A=[1.0, -1.0])))
    # a per-cluster parameter belongs to one species (its values are one per cluster)
    A, B = Clusters("A"), Clusters("B")
    a = Mode("a")
    gA, gB = A.parameter("g"), B.parameter("g")
    with pytest.raises(ValueError, match=r"per-index parameter 'g' is used by two families"):
        Model(A.sum(gA * (a.a * A.atom.sp + a.adag * A.atom.sm))
              + B.sum(gB * (a.a * B.atom.sp + a.adag * B.atom.sm)), [])
    with pytest.raises(ValueError, match="share the name"):
        Model(A.sum(A.atom.sz) + Clusters("A", 3).sum(Clusters("A", 3).atom.s(2, 2)), [])
