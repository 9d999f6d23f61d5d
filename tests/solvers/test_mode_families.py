"""Indexed mode families (``qsr.Modes``, issue 9): M modes written once with per-mode
parameters.

The cumulant engine keeps one index per family (the equations do not depend on M); the
exact methods unroll the family into explicit modes b1 … bM.  Checked here: the family
against the same model written mode by mode (engine and exact methods), full against
dicke, the second-order cumulants against the exact state of a linear (Gaussian) filter
chain and against its closed form, and the bad-input messages.
"""
import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.cumulant.engine import Mode, Model as EngineModel, parameters as eparams
from qutip_superrad.cumulant.engine.clusters import Clusters as EClusters, Modes as EModes

# laser with two detuned clusters whose cavity leaks into three detuned filter cavities
DB = np.array([0.2, -0.5, 1.0])        # filter detunings Δ_k
HB = np.array([0.4, 0.7, 0.3])         # cavity–filter couplings h_k
KB = np.array([0.5, 1.0, 2.0])         # filter linewidths κ_k
LASER = dict(kappa=2.0, G=0.1, R=1.5, g=0.3)
CLUSTERS = {"N": [3.0, 4.0], "Delta": [0.1, -0.2]}


def _engine_laser(filters_as_family):
    kappa, G, R, g = eparams("kappa G R g")
    a = Mode("a")
    atoms = EClusters("s")
    s = atoms.atom
    D = atoms.parameter("Delta")
    H = atoms.sum(D * s.s(2, 2) + g * (a.adag * s.sm + a.a * s.sp))
    jumps = [(kappa, a.a), (G, atoms.each(s.sm)), (R, atoms.each(s.sp))]
    charges = {a: 1, atoms: (0, 1)}
    if filters_as_family:
        fil = EModes("b")
        b = fil.mode
        Db, h, kb = fil.parameters("Db h kb")
        H = H + fil.sum(Db * b.num() + h * (a.adag * b.a + b.adag * a.a))
        jumps.append((kb, fil.each(b.a)))
        charges[fil] = 1
        values = {"s": dict(CLUSTERS), "b": {"Db": DB, "h": HB, "kb": KB}}
        return EngineModel(H, jumps), charges, values, (fil, b)
    bs = []
    for k in range(3):
        bk = Mode(f"b{k + 1}")
        Dk, hk, kk = eparams(f"Db{k} h{k} kb{k}")
        H = H + Dk * bk.num() + hk * (a.adag * bk.a + bk.adag * a.a)
        jumps.append((kk, bk.a))
        charges[bk] = 1
        bs.append(bk)
    scalars = {f"{n}{k}": v[k] for n, v in (("Db", DB), ("h", HB), ("kb", KB)) for k in range(3)}
    return EngineModel(H, jumps), charges, (scalars, dict(CLUSTERS)), bs


def test_engine_family_equals_explicit_modes():
    """Steady state of the family (8 families, arrays over the mode index) equals the
    one of three explicit modes (16 families) to 1e-10."""
    model, charges, values, (fil, b) = _engine_laser(True)
    system = model.close(2, phase_charges=charges)
    assert len(system.families) == 8
    assert system.n_equations({"s": 2, "b": 3}) == 2 + 2 + 1 + 4 + 6 + 3 + 3 + 9
    ss = system.solver(LASER, values).steadystate()

    model2, charges2, (scalars, clusters), bs = _engine_laser(False)
    system2 = model2.close(2, phase_charges=charges2)
    assert len(system2.families) == 16
    ss2 = system2.solver(dict(LASER, **scalars), clusters).steadystate()

    assert abs(ss["a† a"] - ss2["a† a"]) < 1e-10
    np.testing.assert_allclose(ss["s22[i0]"], ss2["s22[i0]"], atol=1e-10)
    nb = ss["b†[i0] b[i0]"]
    np.testing.assert_allclose(nb, [ss2[bk.num()] for bk in bs], atol=1e-10)
    # filter–filter coherences ⟨b_k b_l†⟩ (k ≠ l) of the pair family
    pair = ss["b[i0] b†[i1]"]
    for k in range(3):
        for l in range(3):
            if k != l:
                assert abs(pair[k, l] - ss2[bs[k].a * bs[l].adag]) < 1e-10
    assert nb.min() > 1e-3          # the filters are populated: the comparison is not 0 = 0


def test_engine_family_equations_do_not_depend_on_M():
    """One closed system serves every number of filters; its backends agree."""
    model, charges, values, _ = _engine_laser(True)
    system = model.close(2, phase_charges=charges)
    rng = np.random.default_rng(1)
    for M in (1, 2, 5):
        vals = {"s": dict(CLUSTERS), "b": {"Db": rng.normal(size=M), "h": rng.uniform(0.2, 0.6, M),
                                            "kb": rng.uniform(0.5, 2, M)}}
        solver = system.solver(LASER, vals)
        assert solver.n == system.n_equations({"s": 2, "b": M})
        y = rng.normal(size=solver.n) + 1j * rng.normal(size=solver.n)
        numpy_rhs = system.solver(LASER, vals, backend="numpy").rhs(y)
        np.testing.assert_allclose(solver.rhs(y), numpy_rhs, rtol=1e-12, atol=1e-12)


# -- the description layer: qsr.Model ---------------------------------------

def _qsr_laser(family, pumping=1.5, N=2):
    kappa, G, R, g = qsr.parameters("kappa emission pumping coupling")
    a = qsr.Mode("a")
    atoms = qsr.Clusters("s")
    s = atoms.atom
    H = atoms.sum(g * (a.adag * s.sm + a.a * s.sp))
    jumps = [(kappa, a.a), (G, atoms.each(s.sm)), (R, atoms.each(s.sp))]
    vals = dict(kappa=2.0, emission=0.1, pumping=pumping, coupling=0.5)
    Db, h, kb = DB[:2], HB[:2], KB[:2]
    e = {"n_a": a.num(), "e": atoms.sum(s.s(2, 2))}
    if family:
        fil = qsr.Modes("b")
        b = fil.mode
        pD, ph, pk = fil.parameters("Db h kb")
        H = H + fil.sum(pD * b.num() + ph * (a.adag * b.a + b.adag * a.a))
        jumps.append((pk, fil.each(b.a)))
        vals.update(Db=Db, h=h, kb=kb)
        e.update(n_b1=fil.sum(b.num(), cluster=0), n_b=fil.sum(b.num()),
                 coh=fil.sum(b.adag) * fil.sum(b.a), a_b=a.adag * fil.sum(b.a))
    else:
        bs = [qsr.Mode(f"b{k + 1}") for k in range(2)]
        for k, bk in enumerate(bs):
            pD, ph, pk = qsr.parameters(f"Db{k} h{k} kb{k}")
            H = H + pD * bk.num() + ph * (a.adag * bk.a + bk.adag * a.a)
            jumps.append((pk, bk.a))
            vals.update({f"Db{k}": Db[k], f"h{k}": h[k], f"kb{k}": kb[k]})
        e.update(n_b1=bs[0].num(), n_b=bs[0].num() + bs[1].num(),
                 coh=(bs[0].adag + bs[1].adag) * (bs[0].a + bs[1].a),
                 a_b=a.adag * (bs[0].a + bs[1].a))
    return qsr.Model(H, jumps, parameters=vals, N=N), e


def _driven_filter_chain():
    """A coherently driven cavity ``a`` feeding the filter family ``b`` (linear)."""
    Omega, kappa = qsr.parameters("Omega kappa")
    a = qsr.Mode("a")
    fil = qsr.Modes("b")
    b = fil.mode
    Db, h, kb = fil.parameters("Db h kb")
    H = Omega * (a.a + a.adag) + fil.sum(Db * b.num() + h * (a.adag * b.a + b.adag * a.a))
    model = qsr.Model(H, [(kappa, a.a), (kb, fil.each(b.a))],
                      parameters=dict(Omega=0.06, kappa=1.0, Db=DB, h=HB, kb=KB))
    return model, a, fil, b


def test_model_family_cumulant_equals_explicit_modes():
    fam, e = _qsr_laser(True)
    exp, e2 = _qsr_laser(False)
    assert [m.name for m in fam.modes] == ["a", "b1", "b2"]
    for method in ("cumulant", "meanfield"):
        r = qsr.steadystate(fam, method, e_ops=e)
        r2 = qsr.steadystate(exp, method, e_ops=e2)
        for k in e:
            assert abs(r.expect(k) - r2.expect(k)) < 1e-10, (method, k)
    assert r.expect("n_b") > 1e-3 or method == "meanfield"


def test_model_family_exact_full_equals_dicke_and_explicit_modes():
    """full and dicke unroll the family; both equal the explicit-mode model (1e-9)."""
    fam, e = _qsr_laser(True, pumping=0.4)
    exp, e2 = _qsr_laser(False, pumping=0.4)
    opts = dict(nphot=3)
    with pytest.warns(qsr.TruncationWarning):
        full = qsr.steadystate(fam, "full", e_ops=e, **opts)
        dicke = qsr.steadystate(fam, "dicke", e_ops=e, **opts)
        ref = qsr.steadystate(exp, "dicke", e_ops=e2, **opts)
    for k in e:
        assert abs(full.expect(k) - dicke.expect(k)) < 1e-9, k
        assert abs(dicke.expect(k) - ref.expect(k)) < 1e-9, k
    assert full.expect("n_b") > 1e-3


def test_linear_filter_chain_cumulant_is_exact():
    """A coherently driven cavity filtered by M cavities is linear: its state is a product
    of coherent states, so the cumulants (and the mean field) are exact.  Checked against
    the closed form (1e-10, M = 3) and against the exact tensor space (M = 1; the drive
    breaks U(1), and the full-space LU without symmetry sectors is slow beyond a few
    hundred states), whose only error is the Fock truncation: |β|² ≤ 0.02 with 5 Fock
    states per mode leaves P(n ≥ 5) ≈ |β|¹⁰/120 < 1e-10, so 1e-8 is generous."""
    model, a, fil, b = _driven_filter_chain()

    def closed_form(Db, h, kb):
        # 0 = −iΩ − κ/2 α − i Σ h_k β_k,   0 = −(iΔ_k + κ_k/2) β_k − i h_k α
        n = len(Db) + 1
        A = np.zeros((n, n), complex)
        A[0, 0] = -0.5
        A[0, 1:] = A[1:, 0] = -1j * np.asarray(h)
        A[1:, 1:] = np.diag(-1j * np.asarray(Db) - 0.5 * np.asarray(kb))
        return np.linalg.solve(A, np.r_[1j * 0.06, np.zeros(n - 1)])

    amp = closed_form(DB, HB, KB)
    # (a linear system closes on the first moments: ⟨a⟩, ⟨b_k⟩ are its families)
    e = {"a": a.a, "b1": fil.sum(b.a, cluster=0), "b": fil.sum(b.a)}
    for method in ("cumulant", "meanfield"):
        r = qsr.steadystate(model, method, e_ops=dict(e, b3=fil.sum(b.a, cluster=2)))
        assert abs(r.expect("a") - amp[0]) < 1e-10
        assert abs(r.expect("b1") - amp[1]) < 1e-10
        assert abs(r.expect("b3") - amp[3]) < 1e-10
        assert abs(r.expect("b") - np.sum(amp[1:])) < 1e-10
    assert np.max(abs(amp) ** 2) < 0.02 and abs(amp[1]) ** 2 > 1e-4

    one = model.with_values(Db=DB[:1], h=HB[:1], kb=KB[:1])
    assert one.mode_families[fil] == 1
    amp1 = closed_form(DB[:1], HB[:1], KB[:1])
    r = qsr.steadystate(one, "cumulant", e_ops=e)
    full = qsr.steadystate(one, "full", e_ops=dict(e, n_b=fil.sum(b.num()), n_a=a.num()),
                           nphot=5)
    for k in e:
        assert abs(full.expect(k) - r.expect(k)) < 1e-8, k
    assert abs(full.expect("n_b") - abs(amp1[1]) ** 2) < 1e-8
    assert abs(full.expect("n_a") - abs(amp1[0]) ** 2) < 1e-8


# -- bad input -----------------------------------------------------------------

def _filters():
    a = qsr.Mode("a")
    fil = qsr.Modes("b")
    b = fil.mode
    Db, kb = fil.parameters("Db kb")
    kappa = qsr.parameter("kappa")
    H = fil.sum(Db * b.num() + 0.3 * (a.adag * b.a + b.adag * a.a))
    return a, fil, b, H, [(kappa, a.a), (kb, fil.each(b.a))]


def test_per_mode_parameter_of_wrong_length():
    a, fil, b, H, jumps = _filters()
    with pytest.raises(ValueError, match=r"per-mode parameter 'kb' of Modes 'b' needs 3 "
                                         r"values \(one per mode\), got shape \(2,\)"):
        qsr.Model(H, jumps, parameters=dict(kappa=1.0, Db=[0, 1, 2], kb=[1, 1]), N={"b": 3})
    with pytest.raises(ValueError, match="per-mode parameters of Modes 'b' have different "
                                         "lengths"):
        qsr.Model(H, jumps, parameters=dict(kappa=1.0, Db=[0, 1, 2], kb=[1, 1]))
    with pytest.raises(ValueError, match=r"must be finite"):
        qsr.Model(H, jumps, parameters=dict(kappa=1.0, Db=[0, np.nan], kb=[1, 1]))


def test_mode_family_size_missing_or_unknown_family():
    a, fil, b, _, _ = _filters()
    H = fil.sum(0.3 * (a.adag * b.a + b.adag * a.a))
    with pytest.raises(ValueError, match=r"Modes 'b' has no per-mode parameter to count its "
                                         r"modes: give N=\{'b': M\}"):
        qsr.Model(H, [(1.0, a.a), (1.0, fil.each(b.a))])
    with pytest.raises(ValueError, match=r"N: unknown families \['c'\]"):
        qsr.Model(H, [(1.0, a.a)], N={"b": 2, "c": 3})
    with pytest.raises(ValueError, match=r"N\['b'\] \(number of modes\)"):
        qsr.Model(H, [(1.0, a.a)], N={"b": 0})
    m = qsr.Model(H, [(1.0, a.a), (1.0, fil.each(b.a))], N={"b": 2})
    assert m.mode_families[fil] == 2 and [x.name for x in m.modes] == ["a", "b1", "b2"]


def test_mixing_families_wrongly():
    a, fil, b, H, jumps = _filters()
    vals = dict(kappa=1.0, Db=[0, 1], kb=[1, 1])
    # the template outside a sum
    with pytest.raises(ValueError, match=r"template mode of Modes 'b' appears outside "
                                         r"Modes.sum\(\)/each\(\)"):
        qsr.Model(H + b.num(), jumps, parameters=vals)
    # each() acting on another subsystem than its own mode
    with pytest.raises(ValueError, match=r"b.each\(op\): op must act on the template mode "
                                         r"b.mode only"):
        qsr.Model(H, jumps + [(1.0, fil.each(b.a * a.a))], parameters=vals)
    # one per-index parameter in two families
    atoms = qsr.Clusters("s")
    x = fil.parameter("x")
    bad = fil.sum(x * b.num()) + atoms.sum(atoms.parameter("x") * atoms.atom.s(2, 2))
    with pytest.raises(ValueError, match=r"per-index parameter 'x' is used by two families"):
        qsr.Model(bad, jumps, parameters=dict(vals, x=[1, 1]), N=1)
    # a per-mode parameter outside its family's sum
    with pytest.raises(ValueError, match=r"per-cluster parameter 'Db' used outside"):
        qsr.Model(H + fil.parameter("Db") * a.num(), jumps, parameters=vals)
    # two families of one name, and an unrolled name that is a plain mode's
    with pytest.raises(ValueError, match=r"two indexed families share the name"):
        qsr.Model(H + qsr.Modes("b").sum(0.0 * qsr.Modes("b").mode.num()), jumps,
                  parameters=vals)
    with pytest.raises(ValueError, match=r"the unrolled modes \['b1'\] of a Modes family have "
                                         r"the names of plain modes"):
        qsr.Model(H + qsr.Mode("b1").num(), jumps, parameters=vals)
    # an observable on another family
    m = qsr.Model(H, jumps, parameters=vals)
    other = qsr.Modes("c")
    with pytest.raises(ValueError, match=r"Modes\('c'\), which is not the model's "
                                         r"Clusters or Modes"):
        qsr.steadystate(m, "full", e_ops={"x": other.sum(other.mode.num(), cluster=0)},
                        nphot=2)
    with pytest.raises(ValueError, match=r"sums over mode 2 \(Modes.sum\(\.\.\., "
                                         r"cluster=2\)\), but the model has 2 modes"):
        qsr.steadystate(m, "full", e_ops={"x": fil.sum(b.num(), cluster=2)}, nphot=2)
    with pytest.raises(ValueError, match=r"Modes\('c'\), which is not the model's "
                                         r"Clusters or Modes"):
        qsr.steadystate(m, "cumulant", e_ops={"x": other.sum(other.mode.num())})
    with pytest.raises(ValueError, match=r"one mode of a Modes family\) is ambiguous: "
                                         r"write .*Modes.sum"):
        qsr.steadystate(m, "cumulant", e_ops={"x": b.num()})


def test_engine_bad_input_several_index_sets():
    model, charges, values, _ = _engine_laser(True)
    system = model.close(2, phase_charges=charges)
    with pytest.raises(ValueError, match=r"generated C loops over one index set"):
        system.solver(LASER, values, backend="c")
    with pytest.raises(ValueError, match=r"clusters: unknown families \['x'\]"):
        system.solver(LASER, dict(values, x={}))
    bad = {"s": values["s"], "b": dict(values["b"], kb=[1.0, 2.0])}
    with pytest.raises(ValueError, match=r"clusters\['b'\]: arrays of different lengths"):
        system.solver(LASER, bad)
    with pytest.raises(ValueError, match=r"unknown per-index parameter 'Delta' of 'b'"):
        system.solver(LASER, {"s": values["s"], "b": dict(values["b"], Delta=DB)})
    with pytest.raises(ValueError, match=r"clusters\['s'\] needs the cluster sizes 'N'"):
        system.solver(LASER, {"s": {"Delta": [0.0]}, "b": values["b"]})


def test_family_spectrum_and_evolution_equal_explicit_modes():
    """Quantum regression (cavity spectrum) and time evolution through the family equal
    the explicit-mode model; evolution also agrees between full and dicke."""
    fam, e = _qsr_laser(True)
    exp, e2 = _qsr_laser(False)
    a = fam.modes[0]
    w = np.linspace(-3, 3, 7)
    s1 = qsr.spectrum(fam, w, method="cumulant", operator=a.a)
    s2 = qsr.spectrum(exp, w, method="cumulant", operator=a.a)
    assert np.max(np.abs(s1.S - s2.S)) < 1e-10 * np.max(np.abs(s2.S))
    t = np.linspace(0, 2, 5)
    r1 = qsr.evolve(fam, t, method="cumulant", e_ops=e)
    r2 = qsr.evolve(exp, t, method="cumulant", e_ops=e2)
    for k in ("n_b", "n_b1", "coh"):
        np.testing.assert_allclose(r1.expect(k), r2.expect(k), atol=1e-8)
    f = qsr.evolve(fam, t, method="full", e_ops=e, nphot=3)
    d = qsr.evolve(fam, t, method="dicke", e_ops=e, nphot=3)
    np.testing.assert_allclose(f.expect("n_b"), d.expect("n_b"), atol=1e-10)


def test_mode_family_alone_generated_c_matches_sparse_and_numpy():
    """A model whose only index set is a Modes family runs on every backend (one index
    set: generated C loops over the mode index)."""
    m, a, fil, b = _driven_filter_chain()
    vals = [qsr.steadystate(m, "cumulant", e_ops={"b": fil.sum(b.a)}, backend=be).expect("b")
            for be in ("c", "sparse", "numpy")]
    assert max(abs(v - vals[0]) for v in vals) < 1e-12


def test_with_values_keeps_counts_and_mode_numbers():
    fam, _ = _qsr_laser(True)
    m = fam.with_values(pumping=0.7)
    assert m.counts.tolist() == [2.0] and m.mode_families == fam.mode_families
    m = fam.with_values(N=[1, 3])
    assert m.counts.tolist() == [1.0, 3.0] and list(m.mode_families.values()) == [2]
    m = fam.with_values(Db=[0.0], h=[0.1], kb=[1.0])          # one filter now
    assert list(m.mode_families.values()) == [1] and [x.name for x in m.modes] == ["a", "b1"]


def test_sweep_of_a_mode_family_takes_the_grid_path():
    """A model with an indexed mode family (the laser with filter cavities: two index
    sets; the driven filter chain: one Modes family alone) is swept by the grid path, the
    per-index values of every family rebound per point; the numbers equal the per-point
    path's (1e-8 relative, the steady-state solvers' tolerance)."""
    fam, e = _qsr_laser(True)
    task = qsr.SweepTask(fam, "cumulant", observables=e)
    assert task.grid_support(["pumping", "N"]) is None
    grid = {"pumping": [1.0, 1.5, 2.5], "N": [2, 3]}
    g = qsr.sweep(task, grid, progress_bar=False)
    p = qsr.sweep(task, grid, progress_bar=False, path="point")
    assert np.all(g.paths == "grid") and np.all(p.paths == "point")
    assert [r["path"]["continued"] for r in g.records].count(False) == 1
    for k in e:
        assert np.max(np.abs(g[k] - p[k]) / np.abs(p[k])) < 1e-8, k
    chain, a, fil, b = _driven_filter_chain()
    # ⟨b†b⟩ of the linear chain is not reached from the first moments: closed on it too
    obs = {"nb": fil.sum(b.num()), "b1": fil.sum(b.a, cluster=0)}
    task = qsr.SweepTask(chain, "cumulant", observables=obs)
    grid = {"Omega": [0.03, 0.06], "kappa": [0.5, 1.0]}
    g = qsr.sweep(task, grid, progress_bar=False)
    p = qsr.sweep(task, grid, progress_bar=False, path="point")
    assert np.all(g.paths == "grid")
    for k in obs:
        assert np.max(np.abs(g[k] - p[k]) / np.abs(p[k])) < 1e-8, k
