"""Unit tests of the operator algebra rules of the cumulant engine."""
import numpy as np
import pytest
import qutip

from qutip_superrad.cumulant.engine import (
    Atom, Coeff, Mode, Operator, anticommutator, collective, commutator,
    identity, jminus, jplus, jz, parameter, parameters, to_qobj,
)


@pytest.fixture
def sys3():
    return Mode("a"), Atom(1, levels=3), Atom(2, levels=3)


# ---------------------------------------------------------------- coefficients

def test_coeff_polynomial_arithmetic():
    g, k = parameters("g kappa")
    c = (g + 2) * (g - k) - g * g
    assert c == 2 * g - g * k - 2 * k
    assert c.free_parameters == {"g", "kappa"}
    assert c.evaluate({"g": 1.5, "kappa": -2}) == pytest.approx(
        (1.5 + 2) * (1.5 + 2) - 1.5 ** 2)
    assert (g - g).is_zero()
    assert Coeff(3).is_number() and not g.is_number()
    assert (1j * g).conj() == -1j * g          # parameters are real
    assert ((g * k + 1) / 2).subs({"g": 4}) == 2 * k + 0.5
    with pytest.raises(KeyError):
        g.evaluate({})
    with pytest.raises(ValueError):
        parameter("not a name")


def test_coeff_printing():
    g, k = parameters("g kappa")
    assert str(g) == "g"
    assert str(-g) == "-g"
    assert str(Coeff(0)) == "0"
    assert str(2 * g * g * k) == "2*g**2*kappa"
    assert str(g + 1) == "(1 + g)"


# ---------------------------------------------------------------- bosons

def test_boson_commutator_and_normal_order():
    m = Mode("a")
    a, ad = m.a, m.adag
    assert commutator(a, ad) == identity()
    assert commutator(a, ad) == 1
    assert commutator(a, a) == 0
    # a a† = a† a + 1 ; a^2 a†^2 = a†^2 a^2 + 4 a† a + 2
    assert a * ad == m.num() + 1
    assert a ** 2 * ad ** 2 == ad ** 2 * a ** 2 + 4 * ad * a + 2
    # [a, (a†)^n] = n a†^(n-1)
    for n in range(1, 5):
        assert commutator(a, ad ** n) == n * ad ** (n - 1)
    assert str(a * ad * ad) == "2 a† + a†^2 a"
    assert m.num().boson_degree() == 2


def test_two_modes_commute():
    a, b = Mode("a"), Mode("b")
    assert commutator(a.a, b.adag) == 0
    assert a.a * b.adag == b.adag * a.a
    assert str(b.adag * a.a) == "a b†"


# ---------------------------------------------------------------- atoms

def test_same_atom_product_rule(sys3):
    _, at, _ = sys3
    for i in range(1, 4):
        for j in range(1, 4):
            for k in range(1, 4):
                for l in range(1, 4):
                    expect = at.s(i, l) if j == k else Operator()
                    assert at.s(i, j) * at.s(k, l) == expect


def test_completeness_eliminates_ground_projector(sys3):
    _, at, _ = sys3
    s11 = at.s(1, 1)
    assert s11 == 1 - at.s(2, 2) - at.s(3, 3)
    assert at.s(1, 1) + at.s(2, 2) + at.s(3, 3) == identity()
    assert at.s(1, 2) * at.s(2, 1) == s11
    # no monomial ever contains sigma_11
    prod = (at.s(1, 2) + at.s(2, 1)) * (at.s(1, 3) + at.s(3, 1)) * at.s(1, 1)
    for k in prod.terms:
        assert all(f != (1, 1) for _, f in k)
    # projector property survives elimination
    assert s11 * s11 == s11


def test_two_level_shortcuts():
    at = Atom("x")
    sp, sm, sz = at.sp, at.sm, at.sz
    assert commutator(sp, sm) == sz
    assert commutator(sz, sp) == 2 * sp
    assert commutator(sz, sm) == -2 * sm
    assert sz * sz == 1
    assert anticommutator(sp, sm) == 1
    assert sm * sm == 0
    assert sz == 2 * at.s(2, 2) - 1
    with pytest.raises(ValueError):
        Atom(1, levels=3).sm
    with pytest.raises(ValueError):
        Atom(1, levels=3).s(0, 1)
    with pytest.raises(ValueError):
        Atom(1, levels=1)


def test_different_atoms_commute_and_collective():
    atoms = [Atom(i) for i in range(1, 4)]
    assert commutator(atoms[0].sp, atoms[1].sm) == 0
    J = jminus(atoms)
    assert J == collective(atoms, 1, 2)
    # su(2): [J+, J-] = 2 Jz, [Jz, J±] = ±J±
    assert commutator(jplus(atoms), J) == 2 * jz(atoms)
    assert commutator(jz(atoms), jplus(atoms)) == jplus(atoms)
    # (J-)^2 = 2 Σ_{k<l} σ_k^- σ_l^- (σ^- squared vanishes)
    pairs = Operator()
    for k in range(3):
        for l in range(k + 1, 3):
            pairs = pairs + atoms[k].sm * atoms[l].sm
    assert J ** 2 == 2 * pairs


def test_natural_ordering_of_atom_names():
    a2, a10 = Atom(2), Atom(10)
    assert str(a10.sp * a2.sm) == "σ[2]_12 σ[10]_21"


# ---------------------------------------------------------------- dag

def test_dag(sys3):
    m, at, bt = sys3
    g = parameter("g")
    x = (2 + 1j) * g * m.adag ** 2 * m.a * at.s(1, 3) * bt.s(2, 2) + 1j * at.s(2, 3)
    xd = x.dag()
    assert xd == (2 - 1j) * g * m.adag * m.a ** 2 * at.s(3, 1) * bt.s(2, 2) - 1j * at.s(3, 2)
    assert xd.dag() == x
    assert (x * xd).is_hermitian()
    y = m.a + at.s(2, 1)
    assert (x * y).dag() == y.dag() * x.dag()


# ---------------------------------------------------------------- to_qobj

def test_to_qobj_conventions():
    at = Atom(1)
    dims = [at]
    assert to_qobj(at.sm, dims) == qutip.sigmam()
    assert to_qobj(at.sp, dims) == qutip.sigmap()
    assert to_qobj(at.sz, dims) == qutip.sigmaz()
    # excited level 2 is basis(2, 0)
    assert to_qobj(at.s(2, 2), dims) == qutip.basis(2, 0).proj()
    a3 = Atom(2, levels=3)
    # level i -> basis(N, N - i)
    assert to_qobj(a3.s(1, 3), [a3]) == qutip.basis(3, 2) * qutip.basis(3, 0).dag()
    assert to_qobj(a3.s(1, 1), [a3]) == qutip.basis(3, 2).proj()
    m = Mode("a")
    q = to_qobj(m.adag * m.a * at.sm, [(m, 5), at])
    assert q == qutip.tensor(qutip.num(5), qutip.sigmam())
    q = to_qobj(at.sm, [(m, 5), at])          # identity on the mode
    assert q == qutip.tensor(qutip.qeye(5), qutip.sigmam())
    assert to_qobj(identity() * 2, {m: 3}) == 2 * qutip.qeye(3)


def test_to_qobj_parameters_and_errors():
    m, at = Mode("a"), Atom(1)
    g = parameter("g")
    q = to_qobj(g * m.a, [(m, 4)], params={"g": 0.5})
    assert q == 0.5 * qutip.destroy(4)
    with pytest.raises(KeyError):
        to_qobj(g * m.a, [(m, 4)])
    with pytest.raises(ValueError):
        to_qobj(at.sm, [(m, 4)])              # atom missing from dims
    with pytest.raises(ValueError):
        to_qobj(m.a, [m])                      # cutoff missing
    with pytest.raises(ValueError):
        to_qobj(at.sm, [(at, 3)])              # wrong atom dimension


def test_algebra_matches_matrices():
    """Random products agree with the matrix product of their Qobj images
    (atoms only, so no Fock truncation is involved)."""
    rng = np.random.default_rng(0)
    atoms = [Atom(1, 3), Atom(2, 2)]
    gens = [at.s(i, j) for at in atoms for i in range(1, at.levels + 1)
            for j in range(1, at.levels + 1)]
    for _ in range(20):
        ops = []
        for _ in range(3):
            idx = rng.choice(len(gens), size=3)
            c = rng.normal(size=3) + 1j * rng.normal(size=3)
            ops.append(sum((ci * gens[i] for ci, i in zip(c, idx)), Operator()))
        prod = ops[0] * ops[1].dag() * ops[2]
        Q = [to_qobj(o, atoms) for o in ops]
        ref = Q[0] * Q[1].dag() * Q[2]
        assert np.abs((to_qobj(prod, atoms) - ref).full()).max() < 1e-12


def test_printing_and_latex():
    m, at = Mode("a"), Atom(1)
    g = parameter("g")
    x = g * m.adag * at.sm - 1j * m.a ** 2
    assert str(x) == "-1j a^2 + g a† σ[1]_12"
    assert "\\sigma^{(1)}_{12}" in x.latex()
    assert x._repr_latex_().startswith("$")
    assert str(Operator()) == "0"
    assert "Operator(" in repr(x)


def test_docstring_examples():
    import doctest

    import qutip_superrad.cumulant.engine.algebra as alg
    import qutip_superrad.cumulant.engine.derive as der
    for mod in (alg, der):
        res = doctest.testmod(mod, globs={**vars(mod), **vars(alg)})
        assert res.failed == 0 and res.attempted > 0


def test_public_api():
    import qutip_superrad.cumulant.engine as eng
    for name in eng.__all__:
        assert hasattr(eng, name)


def test_latex_parameter_names():
    gamma, k1 = parameters("gamma kappa_1")
    assert (gamma * k1 * k1)._latex() == r"\gamma \kappa_{1}^{2}"
