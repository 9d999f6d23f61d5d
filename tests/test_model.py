"""The model description: validation, symmetry detection, explicit form."""
import numpy as np
import pytest
import qutip

import qutip_superrad as qsr
from qutip_superrad import examples


def _laser(N=2, **kw):
    return examples.superradiant_laser(N, coupling=1.0, kappa=2.0, emission=0.1, pumping=1.0, **kw)


# -- symmetry ----------------------------------------------------------------

def test_symmetry_detection():
    assert _laser()[0].symmetry == "U(1)"
    assert examples.driven_dicke(3, 1.0, 0.5)[0].symmetry == "none"
    # open Dicke–Rabi model: (a + a†)(J⁺ + J⁻) changes the excitation by 0 or ±2
    a = qsr.Mode("a"); atoms = qsr.Clusters("s"); s = atoms.atom
    H = a.num() + atoms.sum(0.5 * s.sz) + 0.3 * (a.a + a.adag) * atoms.sum(s.sp + s.sm)
    m = qsr.Model(H, [(1.0, a.a)], N=2)
    assert (m.symmetry, m.sector_modulus) == ("parity", 2)


def test_explicit_form_matches_hand_built_qutip():
    """The laser's H and c_ops in the tensor space, as built by hand in QuTiP (mode first,
    basis(2, 0) = excited, σ⁻ = sigmam)."""
    model, _ = _laser(N=2, detuning=[0.3], dephasing=0.05)
    P = 4
    a = qutip.tensor(qutip.destroy(P), qutip.qeye(2), qutip.qeye(2))
    sm = [qutip.tensor(qutip.qeye(P), qutip.sigmam(), qutip.qeye(2)),
          qutip.tensor(qutip.qeye(P), qutip.qeye(2), qutip.sigmam())]
    H = sum(-0.3 * s.dag() * s + 1.0 * (a * s.dag() + a.dag() * s) for s in sm)
    assert (model.hamiltonian(P) - H).norm() < 1e-12
    c_ops = [np.sqrt(2.0) * a] + [np.sqrt(r) * op for s in sm
                                  for r, op in ((0.1, s), (1.0, s.dag()), (0.05, s.dag() * s))]
    L = qutip.liouvillian(H, c_ops)
    assert (model.liouvillian(P) - L).norm() < 1e-12


def test_pair_sum_per_pair_couplings():
    atoms = [qsr.Atom(k) for k in (1, 2, 3)]
    G = np.array([[0, 1.0, 0.5], [1.0, 0, 2.0], [0.5, 2.0, 0]])
    H = qsr.pair_sum(atoms, G, lambda at: at.sp, lambda at: at.sm)
    m = qsr.Model(H, [(1.0, at.sm) for at in atoms])
    Hq = m.hamiltonian()
    sm = [qutip.tensor([qutip.sigmam() if k == i else qutip.qeye(2) for k in range(3)])
          for i in range(3)]
    ref = sum(G[i, j] * sm[i].dag() * sm[j] for i in range(3) for j in range(3) if i != j)
    assert (Hq - ref).norm() < 1e-12


def test_with_values_rebinds_numbers():
    model, ops = _laser(N=2)
    bigger = model.with_values(N=5, pumping=2.0)
    assert bigger.N == 5 and bigger.parameters["pumping"] == 2.0
    assert model.N == 2 and model.parameters["pumping"] == 1.0


# -- bad input: each a clear message -------------------------------------------

def test_non_hermitian_hamiltonian_is_refused_with_opt_out():
    a = qsr.Mode("a"); at = qsr.Atom(1)
    with pytest.raises(ValueError, match="H is not Hermitian.*check_hermitian=False"):
        qsr.Model(2.0 * a.adag * at.sm, [(1.0, a.a)])
    qsr.Model(2.0 * a.adag * at.sm, [(1.0, a.a)], check_hermitian=False)


def _simple(parameters, N=2):
    a = qsr.Mode("a"); atoms = qsr.Clusters("s"); s = atoms.atom
    g, k, R = qsr.parameters("g kappa pump")
    Delta = atoms.parameter("Delta")
    H = atoms.sum(-Delta * s.sp * s.sm + g * (a.a * s.sp + a.adag * s.sm))
    return qsr.Model(H, [(k, a.a), (R, atoms.each(s.sp))], parameters=parameters, N=N)


GOOD = dict(g=1.0, kappa=2.0, pump=1.0, Delta=[0.0])


@pytest.mark.parametrize("change, N, exc, msg", [
    (dict(typo=1.0), 2, ValueError, r"unknown parameters \['typo'\]"),
    (dict(pump=None), 2, ValueError, r"parameters \['pump'\] need values"),
    (dict(kappa=-1.0), 2, ValueError, r"jump rate kappa must be a real number >= 0"),
    (dict(kappa=float("nan")), 2, ValueError, r"parameter 'kappa' must be finite"),
    (dict(), 0, ValueError, r"N must be >= 1 atom per cluster"),
    (dict(Delta=[0.0, 1.0]), 2, ValueError, r"'Delta' needs 1 values \(one per cluster\)"),
    (dict(g="1"), 2, TypeError, r"parameter 'g' must be a real number"),
])
def test_bad_values(change, N, exc, msg):
    pars = {k: v for k, v in dict(GOOD, **change).items() if v is not None}
    with pytest.raises(exc, match=msg):
        _simple(pars, N)
    _simple(GOOD, 2)


def test_bad_operator_types():
    a = qsr.Mode("a")
    with pytest.raises(TypeError, match="H must be an Operator"):
        qsr.Model(qutip.destroy(3), [])
    with pytest.raises(TypeError, match="jumps must be"):
        qsr.Model(a.num(), a.a)
    with pytest.raises(TypeError, match="jump operator must be an Operator"):
        qsr.Model(a.num(), [(1.0, qutip.destroy(3))])
    with pytest.raises(TypeError, match=r"\(rate, operator\) pairs"):
        qsr.Model(a.num(), [a.a])


def test_N_without_clusters_and_missing_N():
    a = qsr.Mode("a")
    with pytest.raises(ValueError, match="has no Clusters"):
        qsr.Model(a.num(), [(1.0, a.a)], N=3)
    atoms = qsr.Clusters("s")
    with pytest.raises(ValueError, match=r"N \(atoms per cluster\) is required"):
        qsr.Model(atoms.sum(atoms.atom.sz), [])


def test_pair_sum_bad_matrices():
    atoms = [qsr.Atom(k) for k in (1, 2)]
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        qsr.pair_sum(atoms, np.ones((3, 3)), lambda at: at.sp)
    with pytest.raises(ValueError, match="finite"):
        qsr.pair_sum(atoms, [[0, np.nan], [np.nan, 0]], lambda at: at.sp)
    with pytest.raises(ValueError, match="real"):
        qsr.pair_sum(atoms, [[0, 1j], [1j, 0]], lambda at: at.sp)


def test_nphot_required_and_checked():
    model, _ = _laser(N=1)
    with pytest.raises(ValueError, match="nphot .* is required"):
        model.hamiltonian()
    with pytest.raises(ValueError, match="nphot must be >= 2"):
        model.hamiltonian(1)


# -- per-pair matrices -----------------------------------------------------------------

def test_correlated_decay_equals_all_to_all_clusters():
    """Explicit atoms with the decay matrix f_ab = f (a ≠ b), f_aa = Γ reproduce the
    cluster description f D[J⁻] + (Γ − f) Σ D[σ⁻] (both exact, full space: 1e-10)."""
    N, f, Gam, W = 3, 0.3, 1.0, 0.7
    atoms = [qsr.Atom(k) for k in range(1, N + 1)]
    F = np.full((N, N), f) + (Gam - f) * np.eye(N)
    jumps = qsr.correlated_decay(atoms, F) + [(W, at.sp) for at in atoms]
    explicit = qsr.Model(0, jumps)
    JpJm = sum((at.sp for at in atoms), qsr.Atom(1).sp * 0) * sum((at.sm for at in atoms),
                                                                     qsr.Atom(1).sm * 0)
    ex = qsr.steadystate(explicit, "full", e_ops={"JpJm": JpJm}).values["JpJm"]
    clustered, ops = examples.all_to_all_dipoles(N, collective_emission=f, emission=Gam - f,
                                                 pumping=W)
    cl = qsr.steadystate(clustered, "full", e_ops={"JpJm": ops["JpJm"]}).values["JpJm"]
    assert abs(ex - cl) < 1e-10 * abs(cl)


def test_correlated_decay_bad_matrices():
    atoms = [qsr.Atom(k) for k in (1, 2)]
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        qsr.correlated_decay(atoms, np.eye(3))
    with pytest.raises(ValueError, match="symmetric"):
        qsr.correlated_decay(atoms, [[1.0, 0.5], [0.2, 1.0]])
    with pytest.raises(ValueError, match=r"positive semidefinite .* smallest eigenvalue is -1 "):
        qsr.correlated_decay(atoms, [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="symmetric"):
        qsr.pair_sum(atoms, [[0.0, 1.0], [2.0, 0.0]], lambda at: at.sp, lambda at: at.sm)


def test_e_ops_on_unknown_subsystems_and_wrong_types():
    model, ops = examples.driven_dicke(2, rabi=1.0, collective_emission=1.0, dephasing=0.1)
    b = qsr.Mode("b")
    with pytest.raises(ValueError, match=r"e_ops\['n'\] acts on Mode\('b'\), which is not part"):
        qsr.steadystate(model, "dicke", e_ops={"n": b.num()})
    other = qsr.Clusters("t")
    with pytest.raises(ValueError, match="not the model's Clusters"):
        qsr.steadystate(model, "full", e_ops=[other.sum(other.atom.sz)])
    with pytest.raises(TypeError, match=r"e_ops\[0\] must be an Operator"):
        qsr.steadystate(model, "full", e_ops=[qutip.sigmaz()])
    res = qsr.steadystate(model, "dicke")
    with pytest.raises(ValueError, match="not part of the model"):
        res.expect(b.num())


def test_jumps_on_unknown_or_wrong_subsystems():
    a = qsr.Mode("a")
    A, B = qsr.Clusters("s"), qsr.Clusters("t")
    with pytest.raises(ValueError, match=r"s.each\(op\): op must act on the template atom s.atom"):
        qsr.Model(A.sum(A.atom.sz), [(1.0, A.each(B.atom.sm))], N=2)
    with pytest.raises(ValueError, match=r"s.each\(op\).*acts on Mode\('a'\)"):
        qsr.Model(A.sum(A.atom.sz) + a.num(), [(1.0, A.each(a.a))], N=2)
    with pytest.raises(ValueError, match="appears outside Clusters.sum"):
        qsr.Model(A.sum(A.atom.sz), [(1.0, A.atom.sm)], N=2)
    # two Clusters are two species: their counts go by name (tests/solvers/test_species.py)
    with pytest.raises(ValueError, match=r"N must be a dict by family name for a model with "
                                         r"several Clusters \['s', 't'\]"):
        qsr.Model(A.sum(A.atom.sz), [(1.0, B.sum(B.atom.sm))], N=2)
