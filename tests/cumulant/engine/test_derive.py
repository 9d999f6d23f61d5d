"""Exact equations of motion of the cumulant engine.

The central test is the property test ``test_exact_before_truncation``: for
random small systems the derived right hand side ``R`` of ``d⟨O⟩/dt = ⟨R⟩``
must satisfy ``Tr(R ρ) == Tr(O L[ρ])`` with ``L = qutip.liouvillian(H, c_ops)``
for random density matrices ``ρ``, and the closure's own derivation
(:func:`~qutip_superrad.cumulant.engine.ir.family_rhs`, on flat operators) must
give the same ``R``.

Fock cutoff.  With ``P`` the projector on the ``cutoff`` lowest Fock states,
:func:`to_qobj` returns the compression ``P X P`` of every operator (for a
normal-ordered ``a†^m a^n`` because ``(a_t†)^m a_t^n = (a_t^m)† a_t^n`` and the
truncated ``a_t`` lowers exactly).  Hence ``Tr(R_t ρ) = Tr(R ρ)`` for any ``ρ``
inside the cutoff, whatever the order of ``R``.  On the other side,
``L_t[ρ]`` multiplies ``ρ`` from one side by at most ``H`` or ``c†c``; if
``ρ`` is supported on Fock states ``n <= n0`` these products stay inside the
truncated space provided ``cutoff - 1 >= n0 + max(deg H, 2 deg c)`` (``deg`` =
number of ``a``/``a†`` factors), so ``L_t[ρ] = P L[ρ] P = L[ρ]`` and
``Tr(O_t L_t[ρ]) = Tr(O L[ρ])`` for an ``O`` of any order.  The test chooses
the cutoff from the degrees actually drawn and ``ρ`` supported on ``n <= n0``.
"""
import numpy as np
import pytest
import qutip
from hypothesis import HealthCheck, example, given, settings, strategies as st

from qutip_superrad.cumulant.engine import (
    Atom, Equation, Mode, Model, Operator, commutator, derive_equations,
    heisenberg_rhs, identity, jminus, jplus, parameters, to_qobj,
)
from qutip_superrad.cumulant.engine.ir import family_rhs

TOL = 1e-10


# ----------------------------------------------------------------- helpers

def _random_monomial(rng, mode, atoms, max_boson):
    """Random product of one local factor (or identity) per subsystem."""
    op = identity()
    if mode is not None and max_boson > 0:
        tot = rng.integers(0, max_boson + 1)
        m = rng.integers(0, tot + 1)
        op = op * mode.adag ** int(m) * mode.a ** int(tot - m)
    for at in atoms:
        if rng.random() < 0.6:
            i, j = rng.integers(1, at.levels + 1, size=2)
            op = op * at.s(int(i), int(j))          # (1, 1) expands
    return op


def _cplx(rng):
    return complex(rng.normal(), rng.normal())


def _random_system(rng, mode, atoms, d_H, d_c):
    g, kappa, gamma = parameters("g kappa gamma")
    params = {"g": rng.uniform(0.2, 1.5), "kappa": rng.uniform(0.1, 1.0),
              "gamma": rng.uniform(0.1, 1.0)}
    H = Operator()
    for _ in range(3):
        x = _cplx(rng) * _random_monomial(rng, mode, atoms, d_H)
        H = H + x + x.dag()
    if mode is not None:                              # collective coupling
        H = H + g * (mode.adag * jminus(atoms) + mode.a * jplus(atoms))
        H = H + rng.normal() * mode.num() if d_H >= 2 else H
    # catalogue of jump operators, each with boson degree <= d_c
    cat = [(gamma, jminus(atoms)),                      # collective decay
           (rng.uniform(0.1, 1), jminus(atoms) ** 2),   # two-body loss
           (gamma, atoms[0].s(1, atoms[0].levels))]     # single-atom decay
    for at in atoms:                                    # dephasing
        cat.append((rng.uniform(0.1, 1), at.s(at.levels, at.levels)))
        if at.levels == 2:
            cat.append((rng.uniform(0.1, 1), at.sz))
    if mode is not None and d_c >= 1:
        cat += [(kappa, mode.a), (rng.uniform(0.1, 1), mode.adag)]
    if mode is not None and d_c >= 2:
        cat += [(rng.uniform(0.1, 1), mode.num()), (rng.uniform(0.1, 1), mode.a ** 2)]
    # plus one random non-Hermitian combination
    cat.append((rng.uniform(0.1, 1),
                _cplx(rng) * _random_monomial(rng, mode, atoms, d_c)
                + _cplx(rng) * _random_monomial(rng, mode, atoms, d_c)))
    picks = rng.choice(len(cat), size=min(4, len(cat)), replace=False)
    jumps = [cat[i] for i in picks]
    return H, jumps, params


def _random_rho(rng, dims_list, mode_dim, n0, n_atom_dim):
    """Random density matrix supported on Fock states n <= n0 (mode first)."""
    D = (mode_dim or 1) * n_atom_dim
    k = (min(n0 + 1, mode_dim) if mode_dim else 1) * n_atom_dim
    A = rng.normal(size=(k, k)) + 1j * rng.normal(size=(k, k))
    sub = A @ A.conj().T
    sub /= np.trace(sub)
    rho = np.zeros((D, D), dtype=complex)
    rho[:k, :k] = sub                  # mode is the first tensor factor
    return qutip.Qobj(rho, dims=[dims_list, dims_list])


# ----------------------------------------------------------------- property

MAX_DEV = [0.0, 0]      # (max |deviation| seen, number of comparisons)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.lists(st.sampled_from([2, 3]), min_size=1, max_size=3),
       has_mode=st.booleans(),
       d_H=st.integers(0, 2), d_c=st.integers(0, 2), d_O=st.integers(0, 3),
       n0=st.integers(0, 1), seed=st.integers(0, 2 ** 32 - 1))
@example(levels=[3, 3, 3], has_mode=True, d_H=2, d_c=2, d_O=3, n0=1, seed=1)  # largest
def test_exact_before_truncation(levels, has_mode, d_H, d_c, d_O, n0, seed):
    rng = np.random.default_rng(seed)
    mode = Mode("a") if has_mode else None
    atoms = [Atom(k + 1, lv) for k, lv in enumerate(levels)]
    H, jumps, params = _random_system(rng, mode, atoms, d_H, d_c)
    model = Model(H, jumps)

    cutoff = n0 + max(d_H, 1, 2 * d_c) + 1 if has_mode else None
    dims = ([(mode, cutoff)] if has_mode else []) + atoms
    dims_list = ([cutoff] if has_mode else []) + levels
    Hq, c_ops = model.to_qutip(dims, params)
    L = qutip.liouvillian(Hq, c_ops)
    n_atom_dim = int(np.prod(levels))

    for _ in range(2):
        O = _cplx(rng) * _random_monomial(rng, mode, atoms, d_O)
        if rng.random() < 0.5:
            O = O + _cplx(rng) * _random_monomial(rng, mode, atoms, d_O)
        R = model.rhs(O)
        # the closure derives on flat operators (ir.family_rhs): the same R, to rounding
        flat = family_rhs(model, O, []).get((), Operator())
        assert all(abs(v) < 1e-12 for c in (flat - R).terms.values() for v in c.terms.values())
        Oq, Rq = to_qobj(O, dims, params), to_qobj(R, dims, params)
        for _ in range(2):
            rho = _random_rho(rng, dims_list, cutoff, n0, n_atom_dim)
            Lrho = qutip.vector_to_operator(L * qutip.operator_to_vector(rho))
            ref = (Oq * Lrho).tr()
            got = (Rq * rho).tr()
            dev = abs(got - ref)
            MAX_DEV[0] = max(MAX_DEV[0], dev)
            MAX_DEV[1] += 1
            assert dev < TOL, (str(O), str(R), got, ref)


# ----------------------------------------------------------------- known equations

def test_photon_number_equation_of_tavis_cummings_laser():
    g, kappa, gamma = parameters("g kappa gamma")
    a = Mode("a")
    atoms = [Atom(1), Atom(2)]
    H = g * (a.adag * jminus(atoms) + a.a * jplus(atoms))
    rhs = heisenberg_rhs(a.num(), H, [(kappa, a.a), (gamma, atoms[0].sm)])
    expect = -kappa * a.num() + 1j * g * (a.a * jplus(atoms) - a.adag * jminus(atoms))
    assert rhs == expect


def test_two_level_decay_dephasing_and_pump():
    at = Atom(1)
    gamma, nu, R = parameters("gamma nu R")
    H = Operator()
    # decay: d<σ22>/dt = -γ<σ22>,  d<σ12>/dt = -γ/2 <σ12>
    assert heisenberg_rhs(at.s(2, 2), H, [(gamma, at.sm)]) == -gamma * at.s(2, 2)
    assert heisenberg_rhs(at.sm, H, [(gamma, at.sm)]) == -0.5 * gamma * at.sm
    # σ_z dephasing: coherence decays at 2ν, populations untouched
    assert heisenberg_rhs(at.sm, H, [(nu, at.sz)]) == -2 * nu * at.sm
    assert heisenberg_rhs(at.s(2, 2), H, [(nu, at.sz)]) == 0
    # incoherent pump: d<σ22>/dt = R (1 - <σ22>)  (σ11 eliminated)
    assert heisenberg_rhs(at.s(2, 2), H, [(R, at.sp)]) == R - R * at.s(2, 2)


def test_two_body_loss_of_collective_operator():
    atoms = [Atom(1), Atom(2)]
    J = jminus(atoms)
    # (J-)^2 = 2 σ1- σ2- : both atoms decay together, d<σ1_22>/dt = -4 Γ <σ1_22 σ2_22>
    rhs = heisenberg_rhs(atoms[0].s(2, 2), Operator(), [(1.0, J ** 2)])
    assert rhs == -4 * atoms[0].s(2, 2) * atoms[1].s(2, 2)


def test_hamiltonian_part_is_commutator():
    a = Mode("a")
    at = Atom(1, levels=3)
    H = 0.3 * a.num() + 0.7 * at.s(3, 3) + (a.adag * at.s(1, 3) + a.a * at.s(3, 1))
    for O in (a.a, at.s(1, 3), a.adag * at.s(2, 3)):
        assert heisenberg_rhs(O, H) == 1j * commutator(H, O)


def test_equation_objects_and_printing():
    g, kappa = parameters("g kappa")
    a, at = Mode("a"), Atom(1)
    eqs = derive_equations([a.a, at.sm], g * (a.adag * at.sm + a.a * at.sp),
                           [(kappa, a.a)])
    assert all(isinstance(e, Equation) for e in eqs)
    assert str(eqs[0]) == "d/dt ⟨a⟩ = -0.5*kappa ⟨a⟩ - 1j*g ⟨σ[1]_12⟩"
    assert eqs[0].latex().startswith(r"\frac{d}{dt}\langle a\rangle")
    assert "i g" in eqs[0].latex()
    assert [str(m) for _, m in eqs[0].expectations()] == ["a", "σ[1]_12"]
    assert "Equation(" in repr(eqs[0]) and eqs[0]._repr_latex_().startswith("$")


def test_model_input_errors():
    a = Mode("a")
    with pytest.raises(TypeError):
        Model(qutip.num(3))
    with pytest.raises(TypeError):
        Model(a.num(), [a.a])
    with pytest.raises(TypeError):
        Model(a.num(), [(1.0, qutip.destroy(3))])
    with pytest.raises(ValueError):
        Model(a.num(), [(-1.0, a.a)]).to_qutip([(a, 3)])
