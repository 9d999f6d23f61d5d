"""Exact methods of the model description against each other, the closed forms and the
package's hand-written laser solvers.

Exact against exact: the full tensor space, the Dicke basis and the symmetric
manifold solve the same master equation, each by a sparse LU (or GMRES to
1e-11) with relative residuals ~1e-13, so observables must agree to 1e-9
relative (margin for conditioning of the sector problems).
"""
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import examples
from qutip_superrad.solvers import dicke as dicke_solver

TOL = 1e-9


def _close(a, b, tol=TOL):
    a, b = np.asarray(a), np.asarray(b)
    return np.max(np.abs(a - b)) <= tol * max(1.0, np.max(np.abs(b)))


def _ss(model, method, e_ops, **opts):
    return qsr.steadystate(model, method, e_ops=e_ops, **opts).values


# -- a single atom: closed forms ------------------------------------------------

@pytest.mark.parametrize("method", ["full", "dicke", "meanfield", "cumulant"])
def test_single_driven_atom_closed_form(method):
    """H = (Ω/2)(σ⁺ + σ⁻), γ D[σ⁻], γ_φ D[σ_z]: P_e = Ω² / (2γΓ₂ + 2Ω²) with the coherence
    decay Γ₂ = γ/2 + 2γ_φ (resonance fluorescence).  The Bloch equations are linear, so
    mean field and cumulants are exact for one atom too."""
    Om, gam, gphi = 1.3, 0.7, 0.2
    model, ops = examples.driven_dicke(1, rabi=Om, collective_emission=gam, dephasing=gphi)
    Pe = _ss(model, method, {"Jz": ops["Jz"]})["Jz"] + 0.5
    G2 = gam / 2 + 2 * gphi
    assert abs(Pe - Om ** 2 / (2 * gam * G2 + 2 * Om ** 2)) < 1e-8


# -- full vs Dicke vs manifold -------------------------------------------------------

def test_driven_dicke_full_vs_dicke():
    model, ops = examples.driven_dicke(4, rabi=1.0, collective_emission=0.5, dephasing=0.1)
    e = {k: ops[k] for k in ("Jx", "Jy", "Jz", "JpJm")}
    full, dk = _ss(model, "full", e), _ss(model, "dicke", e)
    for k in e:
        assert _close(dk[k], full[k]), k
    # the drive along x leaves ⟨J_x⟩ = 0 in the steady state, ⟨J_y⟩ carries the response
    assert abs(full["Jx"]) < 1e-10 and abs(full["Jy"]) > 0.1


def test_manifold_without_local_jumps():
    """Only collective operators: the total spin is conserved, so dicke and full refuse a
    steady state (not unique); the manifold's is the one reached from the ground state,
    checked against the full-space evolution at t = 40/γ (relaxed to e^{-40})."""
    model, ops = examples.driven_dicke(4, rabi=2.0, collective_emission=1.0)
    e = {"Jz": ops["Jz"], "JpJm": ops["JpJm"]}
    mf = _ss(model, "manifold", e)
    late = qsr.evolve(model, [0.0, 40.0], "full", e_ops=e)
    assert _close(mf["Jz"], late.values["Jz"][-1], 1e-8)
    assert _close(mf["JpJm"], late.values["JpJm"][-1], 1e-8)
    assert qsr.steadystate(model, "manifold").stats["dimension"] == 25     # (N+1)² elements
    for method in ("dicke", "full"):
        with pytest.raises(ValueError, match="not unique .* total spin .* method='manifold'"):
            qsr.steadystate(model, method)
    assert qsr.steadystate(model).stats["auto"] == "manifold"


def test_all_to_all_dipoles_full_vs_dicke():
    model, ops = examples.all_to_all_dipoles(5, collective_emission=0.8, emission=0.3, pumping=0.6)
    e = {"Jz": ops["Jz"], "JpJm": ops["JpJm"]}
    full, dk = _ss(model, "full", e), _ss(model, "dicke", e)
    assert _close(dk["Jz"], full["Jz"]) and _close(dk["JpJm"], full["JpJm"])


@pytest.mark.parametrize("local", ["sx", "sz", "mixed"])
def test_general_local_jumps(local):
    """Local jumps with several transitions (σ_x, σ_z, σ⁻ + 0.5σ⁺) go through the
    Clebsch–Gordan formula with different ket and bra transitions."""
    atoms = qsr.Clusters("s"); s = atoms.atom
    A = {"sx": s.sp + s.sm, "sz": s.sz, "mixed": s.sm + 0.5 * s.sp}[local]
    model = qsr.Model(0.7 * atoms.sum(s.sp + s.sm) + 0.3 * atoms.sum(s.sp) * atoms.sum(s.sm),
                      [(0.4, atoms.each(A)), (1.0, atoms.sum(s.sm))], N=4)
    ops = examples.collective_operators(atoms)
    full, dk = _ss(model, "full", ops), _ss(model, "dicke", ops)
    for k in ops:
        assert _close(dk[k], full[k]), k


def test_two_modes_full_vs_dicke():
    """Two cavity modes (different detunings) coupled to the same atoms."""
    a, b = qsr.Mode("a"), qsr.Mode("b")
    atoms = qsr.Clusters("s"); s = atoms.atom
    H = (0.5 * a.num() - 0.4 * b.num()
         + atoms.sum(1.0 * (a.a * s.sp + a.adag * s.sm) + 0.7 * (b.a * s.sp + b.adag * s.sm)))
    model = qsr.Model(H, [(2.0, a.a), (1.5, b.a), (0.8, atoms.each(s.sp)), (0.1, atoms.each(s.sm))],
                      N=2)
    e = {"na": a.num(), "nb": b.num(), "ab": a.adag * b.a}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qsr.TruncationWarning)
        full, dk = _ss(model, "full", e, nphot=5), _ss(model, "dicke", e, nphot=5)
    for k in e:
        assert _close(dk[k], full[k]), k


def test_parity_sector_full_vs_dicke():
    """Open Dicke–Rabi model: parity symmetry; the sector holds about half the elements."""
    a = qsr.Mode("a"); atoms = qsr.Clusters("s"); s = atoms.atom
    H = a.num() + atoms.sum(0.5 * s.sz) + 0.4 * (a.a + a.adag) * atoms.sum(s.sp + s.sm)
    model = qsr.Model(H, [(1.0, a.a), (0.2, atoms.each(s.sm))], N=2)
    e = {"n": a.num(), "Jz": atoms.sum(0.5 * s.sz), "x2": (a.a + a.adag) * (a.a + a.adag)}
    full = qsr.steadystate(model, "full", e_ops=e, nphot=8)
    dk = qsr.steadystate(model, "dicke", e_ops=e, nphot=8)
    for k in e:
        assert _close(dk.values[k], full.values[k]), k
    assert full.stats["dimension"] == (8 * 4) ** 2 // 2


# -- the package's hand-built laser solvers: every number unchanged -----------------

def test_laser_description_reproduces_superradiant_laser():
    N, P = 3, 8
    model, ops = examples.superradiant_laser(N, coupling=1.0, kappa=5.0, emission=0.1, pumping=1.5,
                                             dephasing=0.05, detuning=[0.2])
    laser = qsr.SuperradiantLaser(qsr.Ensemble(counts=[N], detunings=[0.2], couplings=[1.0]),
                                  kappa=5.0, emission=0.1, pumping=1.5, dephasing=0.05)
    e = {"n": ops["photon_number"], "exc": ops["excited"]}
    for method in ("full", "dicke"):
        old = laser.steadystate(method, nphot=P)
        new = qsr.steadystate(model, method, e_ops=e, nphot=P)
        assert _close(new.values["n"], old.photon_number, 1e-10)
        assert _close(new.values["exc"] / N, old.excited_population[0], 1e-10)
    omega = np.linspace(-4, 4, 81)
    old = laser.spectrum(omega, "dicke", nphot=P)
    for method in ("dicke", "full"):
        new = qsr.spectrum(model, omega, method, nphot=P)
        assert abs(new.linewidth - old.linewidth) < 1e-7 * old.linewidth
        assert _close(new.S, old.S, 1e-7)


@pytest.mark.parametrize("case", ["laser", "collective_pumping"])
def test_dicke_liouvillian_is_the_projected_full_one(case):
    """The word-based Dicke ⊗ Fock Liouvillian equals the full-space one (``qutip.liouvillian``
    of the explicit operators) restricted to permutation-invariant states: ``L_dicke = P L E``
    with ``E`` the embedding of the weighted elements, ``E σ = Σ_j Σ_α |j m α⟩⟨j m′ α| σ/d_j``,
    and ``P`` the trace over the multiplicity label ``α``.  All elements of every ``j`` block
    (no sector restriction), so Hamiltonian, collective and local terms are all compared."""
    import qutip
    if case == "laser":
        N, P = 4, 3
        model, _ = examples.superradiant_laser(N, coupling=0.7, kappa=3.0, emission=0.2,
                                               pumping=0.9, dephasing=0.1, detuning=[0.4])
        L_full = model.liouvillian(P).full()
    else:
        from qutip_superrad import CollectivePumping
        N, P = 5, 1
        model = CollectivePumping(N, collective_emission=1.0, collective_pumping=1.3,
                                  emission=0.05, dephasing=0.1).description()
        L_full = model.liouvillian().full()
    # collective spin of the explicit atoms (basis(2, 0) excited, as in Model.to_qobj)
    sm = [qutip.tensor([qutip.sigmam() if k == i else qutip.qeye(2)
                        for k in range(N)]).full().real for i in range(N)]
    Jm = sum(sm)
    Jz = 0.5 * sum(x.T @ x - x @ x.T for x in sm)
    J2 = Jm.T @ Jm + Jz @ Jz - Jz                       # J⁺J⁻ + J_z² − J_z
    jz_diag = np.diag(Jz)
    space = dicke_solver.DickeFockSpace(N, [P] if P > 1 else [], modulus=1)
    D = P * 2 ** N
    kets = {}                                   # (jj, n, e) -> [|n⟩ ⊗ |j m α⟩ for α]
    for jj in range(N // 2 + 1):
        j = N / 2 - jj
        top = np.flatnonzero(np.isclose(jz_diag, j))
        w, v = np.linalg.eigh(J2[np.ix_(top, top)])
        hw = np.zeros((2 ** N, int(np.sum(np.isclose(w, j * (j + 1))))))
        hw[top] = v[:, np.isclose(w, j * (j + 1))]       # highest weights |j j α⟩
        for e in range(N - jj, jj - 1, -1):             # lower with J⁻ (positive elements)
            for n in range(P):
                kets[jj, n, e] = np.kron(np.eye(P)[n], hw.T).T
            if e > jj:
                hw = Jm @ hw
                hw = hw / np.linalg.norm(hw, axis=0)
    n_ket = space.n[0] if P > 1 else np.zeros_like(space.e)
    n_bra = space.n2[0] if P > 1 else np.zeros_like(space.e)
    E = np.zeros((D * D, space.dim))
    Pr = np.zeros((space.dim, D * D))
    for i, (jj, n, e, n2, e2) in enumerate(zip(space.jj, n_ket, space.e, n_bra, space.e2)):
        u, v = kets[jj, n, e], kets[jj, n2, e2]
        M = u @ v.T                                     # Σ_α |u_α⟩⟨v_α| (real bases)
        E[:, i] = M.ravel(order="F") / u.shape[1]       # column-stacked vec, weight 1/d_j
        Pr[i] = M.ravel(order="F")                      # σ = Σ_α ⟨u_α|ρ|v_α⟩
    LE = L_full @ E
    L_proj = Pr @ LE
    scale = np.abs(L_proj).max()
    # the permutation-invariant span is invariant (the projection loses nothing) ...
    assert np.abs(E @ L_proj - LE).max() < 1e-12 * scale
    # ... and the Dicke-basis builder reproduces it element by element
    L_dicke = dicke_solver.liouvillian(model, space).toarray()
    assert np.abs(L_dicke - L_proj).max() < 1e-12 * scale


# -- evolution ---------------------------------------------------------------------

def test_evolution_full_vs_dicke():
    model, ops = examples.driven_dicke(3, rabi=1.5, collective_emission=0.6, dephasing=0.2)
    t = np.linspace(0, 4, 9)
    e = {"Jz": ops["Jz"], "JpJm": ops["JpJm"]}
    full = qsr.evolve(model, t, "full", e_ops=e)
    dk = qsr.evolve(model, t, "dicke", e_ops=e)
    assert np.allclose(full.values["Jz"][0], -1.5)          # starts in the ground state
    for k in e:
        assert _close(dk.values[k], full.values[k], 1e-8), k


# -- checks on the results ----------------------------------------------------------

def test_truncation_is_checked():
    model, ops = examples.superradiant_laser(4, coupling=1.0, kappa=1.0, emission=0.01, pumping=2.0)
    for method in ("full", "dicke"):
        with pytest.warns(qsr.TruncationWarning, match="photon space truncated"):
            r = qsr.steadystate(model, method, nphot=3)
        assert not r.checks["truncation"]["a"]["ok"]
        with pytest.raises(ValueError, match="photon space truncated"):
            qsr.steadystate(model, method, nphot=3, strict=True)


def test_memory_refused_before_building():
    model, _ = examples.driven_dicke(12, rabi=1.0, collective_emission=1.0, dephasing=0.1)
    with pytest.raises(qsr.MemoryLimitError, match="full-space Liouvillian"):
        qsr.steadystate(model, "full", max_memory=1e6)
    with pytest.raises(qsr.MemoryLimitError, match="Dicke-basis Liouvillian"):
        qsr.steadystate(model, "dicke", max_memory=1e3)


def test_state_checks_and_expect_on_demand():
    model, ops = examples.all_to_all_dipoles(4, collective_emission=1.0, emission=0.2, pumping=0.5)
    r = qsr.steadystate(model, "dicke", e_ops=[ops["Jz"]])
    assert abs(r.checks["trace"] - 1) < 1e-12 and r.checks["min_eigenvalue"] > -1e-12
    assert r.expect(0) == r.values[0]
    full = qsr.steadystate(model, "full")
    assert _close(r.expect(ops["JpJm"]), full.expect(ops["JpJm"]))


def test_correlation_full_vs_dicke_and_spectrum():
    """⟨a†(τ)a(0)⟩: full and Dicke agree (exact, 1e-9), equal ⟨a†a⟩ at τ = 0, and their
    Fourier transform (Simpson's rule on 2001 points to τ = 40, error < 1e-8) is the QRT
    spectrum."""
    from scipy.integrate import simpson
    model, ops = examples.superradiant_laser(3, coupling=1.0, kappa=4.0, emission=0.1,
                                             pumping=1.5)
    tau = np.linspace(0, 40, 2001)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qsr.TruncationWarning)
        g_full = qsr.correlation(model, tau, "full", nphot=6)
        g_dk = qsr.correlation(model, tau, "dicke", nphot=6)
        n = qsr.steadystate(model, "dicke", e_ops={"n": ops["photon_number"]}, nphot=6).values["n"]
        sp = qsr.spectrum(model, np.array([0.0, 0.5]), "dicke", nphot=6)
    assert _close(g_dk, g_full)
    assert abs(g_dk[0] - n) < 1e-10 * n
    assert abs(g_dk[-1]) < 1e-6 * n                   # no coherent part (U(1))
    for w, S in zip([0.0, 0.5], sp.S):
        f = np.exp(-1j * w * tau) * g_dk
        integral = 2 * np.real(simpson(f, x=tau))
        assert abs(integral - S) < 1e-6 * abs(S)


# -- several clusters: a product of Dicke spaces ------------------------------------

def test_two_cluster_laser_dicke_equals_full():
    """Two detuned sub-ensembles with a cavity, local pump, decay and dephasing: the
    product of the clusters' Dicke spaces solves the same master equation as the tensor
    space (steady state and cavity spectrum to 1e-9)."""
    model, ops = examples.superradiant_laser([2, 2], coupling=0.7, kappa=2.0, emission=0.1,
                                             pumping=0.9, dephasing=0.05, detuning=[0.4, -0.3])
    e = {"n": ops["photon_number"], "exc": ops["excited"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", qsr.TruncationWarning)
        full, dk = (qsr.steadystate(model, m, e_ops=e, nphot=6) for m in ("full", "dicke"))
        for k in e:
            assert _close(dk.values[k], full.values[k]), k
        assert dk.stats["dimension"] < full.stats["dimension"] / 2
        om = np.linspace(-2, 2, 9)
        sf, sd = (qsr.spectrum(model, om, m, nphot=6).S for m in ("full", "dicke"))
    assert _close(sd, sf)


def _pair_dipoles(N):
    model, ops = examples.all_to_all_dipoles([2, N - 2], collective_emission=1.5 / N,
                                             emission=1 - 1.5 / N, pumping=0.7)
    s = model.clusters.atom
    pair = model.clusters.sum(s.sm, cluster=0)
    return model, ops, pair


def test_pair_set_apart_as_a_cluster():
    """A pair of identical dipoles as its own cluster: ⟨J⁺_pair J⁻_pair⟩ and the pair's
    two-time correlation agree between dicke and full (1e-9); the cumulant observable of
    the restricted sum equals its expansion 2⟨σ⁺σ⁻⟩ + 2⟨σ⁺_aσ⁻_b⟩ over the moments of the
    one-cluster model (same equations: 1e-9)."""
    model, ops, pair = _pair_dipoles(5)
    s = model.clusters.atom
    e = {"pair": pair.dag() * pair, "pair_exc": model.clusters.sum(s.s(2, 2), cluster=0),
         "JpJm": ops["JpJm"]}
    dk, full = (qsr.steadystate(model, m, e_ops=e).values for m in ("dicke", "full"))
    for k in e:
        assert _close(dk[k], full[k]), k
    tau = np.linspace(0, 3, 5)
    assert _close(qsr.correlation(model, tau, "dicke", operator=pair),
                  qsr.correlation(model, tau, "full", operator=pair))
    cum = qsr.steadystate(model, "cumulant", e_ops=e).values
    one = model.with_values(N=5)
    v = qsr.steadystate(one, "cumulant", e_ops={"exc": one.clusters.sum(s.s(2, 2)),
                                               "JpJm": ops["JpJm"]}).values
    p = v["exc"] / 5
    pair_coh = (v["JpJm"] - v["exc"]) / 20
    assert abs(cum["pair"] - (2 * p + 2 * pair_coh)) < 1e-9
    assert abs(cum["pair_exc"] - 2 * p) < 1e-9


def test_two_cluster_manifold_evolution_equals_full():
    """No local jumps: every cluster keeps its total spin, the manifold j_c = N_c/2 of each
    is invariant; evolution from the ground state under per-cluster drives equals the
    tensor space (exact propagators, 1e-9)."""
    atoms = qsr.Clusters("s")
    s = atoms.atom
    Om = atoms.parameter("rabi")
    (gc,) = qsr.parameters("gc")
    model = qsr.Model(atoms.sum(Om * (s.sp + s.sm)), [(gc, atoms.sum(s.sm))],
                      parameters=dict(rabi=[1.0, 0.3], gc=0.4), N=[2, 3])
    e = {"exc": atoms.sum(s.s(2, 2)), "exc0": atoms.sum(s.s(2, 2), cluster=0)}
    t = np.linspace(0, 4, 5)
    man = qsr.evolve(model, t, "manifold", e_ops=e).values
    full = qsr.evolve(model, t, "full", e_ops=e).values
    for k in e:
        assert _close(man[k], full[k]), k
    assert np.max(np.abs(man["exc0"] - man["exc"])) > 0.1     # the clusters differ


def test_multi_cluster_size_estimate_is_exact():
    from qutip_superrad.solvers.dicke import DickeFockSpace
    for args in [([2, 3], [3], 0, 0), ([1, 4], [2], -1, 0), ([2, 2], [], 0, 2),
                 ([3, 1, 2], [], 1, 0), ([2, 3], [3], 0, 1), ([4, 3], [2], 0, 0, True)]:
        assert DickeFockSpace(*args).dim == DickeFockSpace.size_estimate(*args)


def test_multi_cluster_states_and_bad_input():
    model, ops, pair = _pair_dipoles(4)
    st = qsr.steadystate(model, "dicke").state
    rho = st.to_qobj("dicke")
    assert rho.dims[0] == [4, 4] and abs(rho.tr() - 1) < 1e-12     # j = 1 (3) + j = 0 (1), twice
    with pytest.raises(ValueError, match="representation='full' is available for one cluster"):
        st.to_qobj("full")
    with pytest.raises(ValueError, match="not a product over the 2 clusters"):
        qsr.evolve(model, [0, 1], "dicke", initial="superradiant")
    # from a Qobj in the clusters' Dicke representation: the same as from the state
    t = [0.0, 0.5]
    a = qsr.evolve(model, t, "dicke", initial=rho, e_ops={"p": pair.dag() * pair}).values["p"]
    b = qsr.evolve(model, t, "dicke", initial=st, e_ops={"p": pair.dag() * pair}).values["p"]
    assert _close(a, b)
    s = model.clusters.atom
    with pytest.raises(ValueError, match="cluster must be >= 0"):
        model.clusters.sum(s.sm, cluster=-1)
    with pytest.raises(TypeError, match="cluster must be an int"):
        model.clusters.sum(s.sm, cluster=1.0)
    with pytest.raises(ValueError, match=r"sums over cluster 2 .* the model has 2 clusters"):
        qsr.steadystate(model, "dicke", e_ops={"x": model.clusters.sum(s.s(2, 2), cluster=2)})
    with pytest.raises(ValueError, match=r"sums over cluster 1 .* the model has 1 cluster"):
        qsr.Model(model.clusters.sum(s.s(2, 2), cluster=1), [], N=3)
    driven = qsr.Model(model.clusters.sum(s.sp + s.sm, cluster=0),
                       [(1.0, model.clusters.each(s.sm))], N=[1, 2])
    assert "sums over one cluster only" in qsr.methods(driven)["cumulant"]
    with pytest.raises(ValueError, match="sums over one cluster only"):
        qsr.steadystate(driven, "cumulant")


def test_per_pair_parameters_between_clusters():
    """``cluster_pair_sum``/``cluster_correlated_decay`` (M × M matrices between clusters)
    against the same model with explicit atoms and the expanded per-atom matrices
    (``pair_sum``/``correlated_decay``): dicke and full equal the explicit reference to 1e-9;
    the cumulant method reads the same description (order 2, within 2 % here)."""
    from functools import reduce
    atoms = qsr.Clusters("s")
    s = atoms.atom
    F = np.array([[0.6, 0.3], [0.3, 0.5]])
    G = np.array([[0.4, -0.7], [-0.7, 0.2]])
    jumps, pf = qsr.cluster_correlated_decay(atoms, F)
    Hg, pg = qsr.cluster_pair_sum(atoms, G, s.sp, s.sm)
    W = qsr.parameter("W")
    model = qsr.Model(Hg, jumps + [(W, atoms.each(s.sp))], parameters=dict(pf, **pg, W=0.8),
                      N=[2, 3])
    ex = [qsr.Atom(f"x{i}") for i in range(5)]
    cl = [0, 0, 1, 1, 1]
    ref = qsr.Model(qsr.pair_sum(ex, G[np.ix_(cl, cl)], lambda a: a.sp, lambda a: a.sm),
                    qsr.correlated_decay(ex, F[np.ix_(cl, cl)]) + [(0.8, a.sp) for a in ex])
    total = lambda ops: reduce(lambda x, y: x + y, ops)              # noqa: E731
    e = {"exc": atoms.sum(s.s(2, 2)), "JpJm": atoms.sum(s.sp) * atoms.sum(s.sm),
         "exc0": atoms.sum(s.s(2, 2), cluster=0)}
    e_ref = {"exc": total([a.s(2, 2) for a in ex]),
             "JpJm": total([a.sp for a in ex]) * total([a.sm for a in ex]),
             "exc0": ex[0].s(2, 2) + ex[1].s(2, 2)}
    want = qsr.steadystate(ref, "full", e_ops=e_ref).values
    for method in ("dicke", "full"):
        got = qsr.steadystate(model, method, e_ops=e).values
        for k in e:
            assert _close(got[k], want[k]), (method, k)
    cum = qsr.steadystate(model, "cumulant", e_ops=e).values
    for k in e:
        assert abs(cum[k] - want[k]) < 0.02 * abs(want[k]), k


def test_per_pair_between_clusters_bad_input():
    atoms = qsr.Clusters("s")
    s = atoms.atom
    with pytest.raises(ValueError, match="square"):
        qsr.cluster_pair_sum(atoms, np.ones((2, 3)), s.sp, s.sm)
    with pytest.raises(ValueError, match="symmetric"):
        qsr.cluster_pair_sum(atoms, [[0, 1], [2, 0]], s.sp, s.sm)
    with pytest.raises(ValueError, match="positive semidefinite"):
        qsr.cluster_correlated_decay(atoms, [[0.1, 1.0], [1.0, 0.1]])
    with pytest.raises(TypeError, match="Clusters"):
        qsr.cluster_correlated_decay([qsr.Atom("a")], [[1.0]])
    with pytest.raises(ValueError, match="prefix"):
        qsr.cluster_correlated_decay(atoms, [[1.0]], prefix="no good")
    jumps, p = qsr.cluster_correlated_decay(atoms, np.eye(3))
    with pytest.raises(ValueError, match=r"needs 2 values \(one per cluster\), got shape \(3,\)"):
        qsr.Model(0, jumps, parameters=p, N=[1, 2])
