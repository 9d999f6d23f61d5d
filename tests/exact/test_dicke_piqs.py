"""The generic Dicke-basis solver against an independent construction with ``qutip.piqs``.

PIQS (Shammah et al. 2018) builds the permutation-invariant Lindbladian of
local and collective processes in the Dicke basis from its own formulas.  Here
the model descriptions (:class:`qutip_superrad.Model`) are solved by the
generic ``dicke`` solver (:class:`qutip_superrad.solvers.dicke.DickeFockSpace`,
:func:`qutip_superrad.solvers.dicke.liouvillian`, results through
:func:`qutip_superrad.steadystate`).  Conventions checked here:

* ``piqs.Dicke(N, emission=Γ, pumping=R, dephasing=γφ, collective_emission=Γc,
  collective_pumping=w, collective_dephasing=γc)`` is ``Γ Σ D[σ⁻] + R Σ D[σ⁺]
  + (γφ/4) Σ D[σz] + Γc D[J⁻] + w D[J⁺] + γc D[J_z]``, with
  ``(γφ/4)D[σz] = γφ D[σ⁺σ⁻]`` (``σz = 2σ⁺σ⁻ − 1``).
* A PIQS density matrix holds the degeneracy-weighted block elements (the
  same convention as :class:`~qutip_superrad.solvers.dicke.DickeFockSpace`):
  ``Tr ρ = Σ_i ρ_ii``; its blocks are ``j = N/2, N/2 − 1, …`` with ``m``
  descending, so every element of ours is one element of PIQS's.
* The PIQS Liouvillian acts on all ``nds²`` elements but only the
  block-diagonal ones (``piqs.block_matrix``) are meaningful; outside them its
  rows are zero, which makes ``qutip.steadystate`` fail ("Matrix is singular").
  We therefore restrict it to the block-diagonal support (it does not couple
  into the rest) and append the trace row, then solve by least squares.

PIQS evaluates its coefficients in single precision, so agreement is expected
at ~1e-7 relative; the tolerance is 1e-5 (relative).
"""

import numpy as np
import pytest
import qutip
from qutip import piqs

import qutip_superrad as qsr
from qutip_superrad.solvers import dicke as dicke_solver

PIQS_RTOL = 1e-5

#: Every process PIQS knows, each with its own rate (for the Liouvillian itself).
ALL_PIQS_RATES = dict(collective_emission=0.3, collective_pumping=0.45, collective_dephasing=0.15,
                      emission=0.1, pumping=0.7, dephasing=0.2)
#: Bad-cavity spins: collective emission and local emission, pumping, dephasing.
BAD_CAVITY = dict(collective_emission=0.3, emission=0.1, pumping=1.0, dephasing=0.2)
#: Cavity model for the PIQS ⊗ mode comparison (δ_c a†a − Δ J₂₂ + g(aJ⁺ + a†J⁻)).
CAVITY = dict(coupling=1.0, detuning=0.2, kappa=3.0, emission=0.1, pumping=1.5, dephasing=0.2,
              cavity_dephasing=0.1, cavity_detuning=0.3)


def spins(N, rates):
    """The PIQS processes as a description; ``dephasing`` written as ``(γφ/4) D[σz]``."""
    atoms = qsr.Clusters("s")
    s = atoms.atom
    p = dict(zip(rates, qsr.parameters(" ".join(rates))))
    ops = {"collective_emission": atoms.sum(s.sm), "collective_pumping": atoms.sum(s.sp),
           "collective_dephasing": atoms.sum(0.5 * s.sz), "emission": atoms.each(s.sm),
           "pumping": atoms.each(s.sp), "dephasing": atoms.each(s.sz)}
    jumps = [(0.25 * p[k] if k == "dephasing" else p[k], ops[k]) for k in rates]
    Jp, Jm = atoms.sum(s.sp), atoms.sum(s.sm)
    e_ops = {"jz": atoms.sum(0.5 * s.sz), "jpjm": Jp * Jm, "four": Jp * Jp * Jm * Jm,
             "exc": atoms.sum(s.s(2, 2))}
    return qsr.Model(0, jumps, parameters=rates, N=N), e_ops


def cavity(N, rates):
    """Mode ⊗ identical atoms with local emission, pumping and ``dephasing · D[σ⁺σ⁻]``."""
    a = qsr.Mode("a")
    atoms = qsr.Clusters("s")
    s = atoms.atom
    g, D, kappa, gam, R, nu, xi, dc = qsr.parameters(
        "coupling detuning kappa emission pumping dephasing cavity_dephasing cavity_detuning")
    H = dc * a.num() + atoms.sum(-D * s.sp * s.sm + g * (a.a * s.sp + a.adag * s.sm))
    jumps = [(kappa, a.a), (xi, a.num()), (gam, atoms.each(s.sm)), (R, atoms.each(s.sp)),
             (nu, atoms.each(s.sp * s.sm))]
    e_ops = {"n": a.num(), "jz": atoms.sum(0.5 * s.sz), "jpjm": atoms.sum(s.sp) * atoms.sum(s.sm)}
    return qsr.Model(H, jumps, parameters=rates, N=N), e_ops


def piqs_index(N, space):
    """Position of every element of ``space`` in PIQS's column-stacked ``nds²`` vector."""
    nds = piqs.num_dicke_states(N)
    offset = np.cumsum([0] + [N - 2 * jj + 1 for jj in range(N // 2 + 1)])
    row = offset[space.jj] + (N - space.jj - space.e)          # m descending in each block
    col = offset[space.jj] + (N - space.jj - space.e2)
    return row + col * nds


def steady_on_support(L, mask):
    """Steady state of the dense superoperator ``L`` (column-stacked vec) on ``mask``.

    Returns the full vector (zeros outside the support) and the largest
    element of ``L`` leading from the support out of it.
    """
    mask = np.asarray(mask, bool)
    idx = np.flatnonzero(mask)
    leak = np.max(np.abs(L[np.ix_(np.flatnonzero(~mask), idx)]), initial=0.0)
    A = L[np.ix_(idx, idx)]
    d = int(round(np.sqrt(L.shape[0])))
    trace = np.eye(d).ravel(order="F")[idx]
    M = np.vstack([A, trace])
    b = np.zeros(idx.size + 1, complex)
    b[-1] = 1
    x = np.linalg.lstsq(M, b, rcond=None)[0]
    out = np.zeros(L.shape[0], complex)
    out[idx] = x
    return out, leak


@pytest.mark.parametrize("N", [1, 2, 3, 4, 7])
def test_liouvillian_vs_piqs(N):
    """Element by element, on every element of every ``j`` block (all U(1) sectors)."""
    model, _ = spins(N, ALL_PIQS_RATES)
    space = dicke_solver.DickeFockSpace(N, [], modulus=1)
    L = dicke_solver.liouvillian(model, space).toarray()
    L_piqs = piqs.Dicke(N, **ALL_PIQS_RATES).liouvillian().full()
    idx = piqs_index(N, space)
    assert np.unique(idx).size == space.dim == np.count_nonzero(piqs.block_matrix(N).toarray())
    scale = np.abs(L).max()
    assert np.abs(L - L_piqs[np.ix_(idx, idx)]).max() <= PIQS_RTOL * scale
    # nothing leaves the block-diagonal support in PIQS either
    outside = np.setdiff1d(np.arange(L_piqs.shape[0]), idx)
    assert np.abs(L_piqs[np.ix_(outside, idx)]).max(initial=0.0) == 0


@pytest.mark.parametrize("N", [4, 5, 6, 7, 8, 9, 10])
def test_bad_cavity_vs_piqs(N):
    p = BAD_CAVITY
    system = piqs.Dicke(N, **p)
    L = system.liouvillian().full()
    nds = piqs.num_dicke_states(N)
    mask = piqs.block_matrix(N).toarray().ravel(order="F") != 0
    x, leak = steady_on_support(L, mask)
    assert leak == 0          # block-diagonal support is invariant
    rho = qutip.Qobj(x.reshape(nds, nds, order="F"))
    jz, jp, jm = (piqs.jspin(N, op) for op in ("z", "+", "-"))
    jz_piqs = qutip.expect(jz, rho)
    jpjm_piqs = qutip.expect(jp * jm, rho)
    g2_piqs = qutip.expect(jp * jp * jm * jm, rho) / jpjm_piqs ** 2

    model, e_ops = spins(N, p)
    ss = qsr.steadystate(model, "dicke", e_ops=e_ops)
    v = ss.values
    g2 = v["four"] / v["jpjm"] ** 2
    assert abs(v["jz"] - jz_piqs) <= PIQS_RTOL * abs(jz_piqs)
    assert abs(v["jpjm"] - jpjm_piqs) <= PIQS_RTOL * abs(jpjm_piqs)
    assert abs(g2 - g2_piqs) <= PIQS_RTOL * g2_piqs
    # the stored state is the one PIQS finds, element by element
    space = ss.state.space
    x_piqs = x[piqs_index(N, space)]
    assert np.abs(ss.state.vector - x_piqs).max() <= PIQS_RTOL * np.abs(x_piqs).max()
    assert abs(ss.checks["trace"] - 1) < 1e-12 and ss.checks["min_eigenvalue"] > -1e-12
    # collective effects are present: ⟨σ⁺_1σ⁻_2⟩ = (⟨J⁺J⁻⟩ − ⟨Σσ⁺σ⁻⟩)/(N(N−1)) is not 0
    assert (v["jpjm"] - v["exc"]) / (N * (N - 1)) > 1e-3


def cavity_piqs_steady_state(N, nphot, r):
    """Steady state of mode ⊗ (PIQS spins), restricted to the block-diagonal spin support."""
    g, D = r["coupling"], r["detuning"]
    nds = piqs.num_dicke_states(N)
    spin = piqs.Dicke(N, emission=r["emission"], pumping=r["pumping"], dephasing=r["dephasing"])
    Ls = spin.lindbladian()
    Ls = qutip.Qobj(Ls.full(), dims=[[[nds], [nds]], [[nds], [nds]]], superrep="super")
    jz, jp, jm = (qutip.Qobj(piqs.jspin(N, op, basis="dicke").full()) for op in ("z", "+", "-"))
    Is, Ia, a = qutip.qeye(nds), qutip.qeye(nphot), qutip.destroy(nphot)
    A = qutip.tensor(a, Is)
    H = (r["cavity_detuning"] * A.dag() * A - D * qutip.tensor(Ia, jz + 0.5 * N * Is)
         + g * (qutip.tensor(a, jp) + qutip.tensor(a.dag(), jm)))
    L_mode = qutip.liouvillian(H, [np.sqrt(r["kappa"]) * A,
                                   np.sqrt(r["cavity_dephasing"]) * A.dag() * A])
    L = (L_mode + qutip.super_tensor(qutip.to_super(Ia), Ls)).full()
    blocks = piqs.block_matrix(N).toarray() != 0
    mask = np.kron(np.ones((nphot, nphot)), blocks).ravel(order="F") != 0
    x, leak = steady_on_support(L, mask)
    rho = qutip.Qobj(x.reshape(nphot * nds, nphot * nds, order="F"), dims=[[nphot, nds]] * 2)
    return {"n": qutip.expect(A.dag() * A, rho), "jz": qutip.expect(qutip.tensor(Ia, jz), rho),
            "jpjm": qutip.expect(qutip.tensor(Ia, jp * jm), rho),
            "pn": np.real(rho.ptrace(0).diag()), "leak": leak}


@pytest.mark.parametrize("N,nphot", [(2, 5), (3, 5), (4, 4)])
def test_cavity_vs_piqs_tensor_mode(N, nphot):
    piq = cavity_piqs_steady_state(N, nphot, CAVITY)
    assert piq["leak"] == 0
    model, e_ops = cavity(N, CAVITY)
    ss = qsr.steadystate(model, "dicke", e_ops=e_ops, nphot=nphot, truncation_tol=1.0)
    v = ss.values
    pn = ss.state.photon_distribution(0)
    assert abs(v["n"] - piq["n"]) <= PIQS_RTOL * piq["n"]
    assert abs(v["jz"] - piq["jz"]) <= PIQS_RTOL * abs(piq["jz"])
    assert abs(v["jpjm"] - piq["jpjm"]) <= PIQS_RTOL * piq["jpjm"]
    assert np.max(np.abs(pn - piq["pn"])) <= PIQS_RTOL * np.max(piq["pn"])
