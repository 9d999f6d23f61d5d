"""Physics checks of qutip_superrad.quantum_info against independent closed forms.

Tolerances: discord/mutual information 1e-9 (bits) against closed forms;
X state 1e-12 against an exact partial trace; QFI 1e-10 (relative) against
closed forms and the SLD definition, 1e-4 against a finite-difference
fidelity.
"""
import numpy as np
import pytest
import qutip
from scipy.linalg import solve_sylvester

from qutip_superrad.quantum_info import (
    CollectiveQFI, DiscordResult, collective_qfi, mutual_information, quantum_discord,
    quantum_fisher_information, separable_qfi_bound, two_qubit_state,
)

SX, SY, SZ = qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()
UP, DN = qutip.basis(2, 0), qutip.basis(2, 1)


def h2(p):
    """Binary entropy in bits."""
    p = np.clip(p, 0, 1)
    return -sum(x * np.log2(x) for x in (p, 1 - p) if x > 0)


def xlog2x(x):
    return x * np.log2(x) if x > 0 else 0.0


def random_unitary(rng, d=2):
    z = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    q, r = np.linalg.qr(z)
    return qutip.Qobj(q * (np.diag(r) / np.abs(np.diag(r))))


def random_qubit_dm(rng, r_max=0.95):
    v = rng.normal(size=3)
    r = r_max * rng.uniform() ** (1 / 3) * v / np.linalg.norm(v)
    return 0.5 * (qutip.qeye(2) + r[0] * SX + r[1] * SY + r[2] * SZ), r


def collective_ops(N):
    """J_α = Σ σ_α/2 built with qutip.tensor (independent of the module)."""
    def site(op, i):
        return qutip.tensor([op if k == i else qutip.qeye(2) for k in range(N)])
    return [sum(site(s, i) for i in range(N)) / 2 for s in (SX, SY, SZ)]


# -- mutual information ------------------------------------------------------
def test_mutual_information_closed_forms():
    d = 3
    max_ent = sum(qutip.tensor(qutip.basis(d, k), qutip.basis(d, k)) for k in range(d)).unit()
    assert mutual_information(max_ent) == pytest.approx(2 * np.log2(3), abs=1e-12)
    assert mutual_information(qutip.ket2dm(max_ent), base=np.e) == pytest.approx(
        2 * np.log(3), abs=1e-12)
    prod = qutip.tensor(qutip.rand_dm(3, seed=1), qutip.rand_dm(2, seed=2))
    assert mutual_information(prod) == pytest.approx(0, abs=1e-12)
    classical = 0.5 * (qutip.ket2dm(qutip.tensor(UP, UP)) + qutip.ket2dm(qutip.tensor(DN, DN)))
    assert mutual_information(classical) == pytest.approx(1, abs=1e-12)
    res = quantum_discord(classical, return_details=True)
    assert res.discord == pytest.approx(0, abs=1e-12)
    assert res.classical_correlation == pytest.approx(1, abs=1e-12)
    assert abs(res.direction[2]) == pytest.approx(1, abs=1e-6)   # measure σz


# -- discord: Bell-diagonal states (Luo, PRA 77, 042303 (2008)) ---------------
def luo_eigs(c):
    c1, c2, c3 = c
    return [0.25 * (1 + (-1) ** a * c1 - (-1) ** (a + b) * c2 + (-1) ** b * c3)
            for a in (0, 1) for b in (0, 1)]


def bell_diagonal(c):
    return 0.25 * (qutip.tensor(qutip.qeye(2), qutip.qeye(2))
                   + sum(ci * qutip.tensor(s, s) for ci, s in zip(c, (SX, SY, SZ))))


def random_bell_c(rng):
    lam = rng.dirichlet(np.ones(4))
    M = np.array([[1, (-1) ** a, -(-1) ** (a + b), (-1) ** b]
                  for a in (0, 1) for b in (0, 1)]) / 4
    x = np.linalg.solve(M, lam)
    assert x[0] == pytest.approx(1, abs=1e-12)
    return x[1:]


@pytest.mark.parametrize("seed", range(8))
def test_discord_bell_diagonal_luo(seed):
    c = random_bell_c(np.random.default_rng(seed))
    rho = bell_diagonal(c)
    lam = luo_eigs(c)
    assert np.allclose(sorted(lam), rho.eigenenergies(), atol=1e-12)
    I = 2 + sum(xlog2x(x) for x in lam)
    cm = max(abs(c))
    J = 0.5 * (xlog2x(1 - cm) + xlog2x(1 + cm))
    for measured in (0, 1):
        res = quantum_discord(rho, measured=measured, return_details=True)
        assert isinstance(res, DiscordResult)
        assert res.mutual_information == pytest.approx(I, abs=1e-9)
        assert res.classical_correlation == pytest.approx(J, abs=1e-9)
        assert res.discord == pytest.approx(I - J, abs=1e-9)
        assert np.linalg.norm(res.direction) == pytest.approx(1, abs=1e-12)
    assert mutual_information(rho) == pytest.approx(I, abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.1, 1 / 3, 0.5, 0.8, 1.0])
def test_discord_werner(p):
    singlet = (qutip.tensor(UP, DN) - qutip.tensor(DN, UP)).unit()
    rho = p * qutip.ket2dm(singlet) + (1 - p) * qutip.tensor(qutip.qeye(2), qutip.qeye(2)) / 4
    expected = (0.25 * xlog2x(1 - p) - 0.5 * xlog2x(1 + p) + 0.25 * xlog2x(1 + 3 * p))
    assert quantum_discord(rho) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_discord_pure_states(seed):
    rng = np.random.default_rng(seed)
    alpha = rng.uniform(0, np.pi / 2)
    schmidt = np.cos(alpha) * qutip.tensor(UP, UP) + np.sin(alpha) * qutip.tensor(DN, DN)
    psi = qutip.tensor(random_unitary(rng), random_unitary(rng)) * schmidt
    psi.dims = [[2, 2], [1, 1]]
    E = h2(np.cos(alpha) ** 2)
    for state in (psi, qutip.ket2dm(psi)):
        assert mutual_information(state) == pytest.approx(2 * E, abs=1e-9)
        for measured in (0, 1):
            res = quantum_discord(state, measured=measured, return_details=True)
            assert res.discord == pytest.approx(E, abs=1e-9)
            assert res.classical_correlation == pytest.approx(E, abs=1e-9)


def test_discord_product_and_classical_quantum_asymmetry():
    rng = np.random.default_rng(7)
    prod = qutip.tensor(random_qubit_dm(rng)[0], random_qubit_dm(rng)[0])
    assert quantum_discord(prod) == pytest.approx(0, abs=1e-10)
    assert quantum_discord(prod, measured=1) == pytest.approx(0, abs=1e-10)
    assert mutual_information(prod) == pytest.approx(0, abs=1e-12)
    # classical on A in a rotated basis, non-commuting conditional states of B
    U = random_unitary(rng)
    k0, k1 = U * UP, U * DN
    rho_b0 = qutip.ket2dm(UP)
    rho_b1 = qutip.ket2dm((UP + DN).unit())
    cq = 0.4 * qutip.tensor(qutip.ket2dm(k0), rho_b0) + 0.6 * qutip.tensor(qutip.ket2dm(k1), rho_b1)
    res = quantum_discord(cq, measured=0, return_details=True)
    assert res.discord == pytest.approx(0, abs=1e-10)
    n_opt = qutip.Qobj(sum(n * s.full() for n, s in zip(res.direction, (SX, SY, SZ))))
    assert abs(qutip.expect(n_opt, k0)) == pytest.approx(1, abs=1e-6)   # measures in {k0, k1}
    d_ab = quantum_discord(cq, measured=1)
    assert d_ab > 0.05                                            # D_{A|B} ≠ D_{B|A}
    swapped = cq.permute([1, 0])
    assert quantum_discord(swapped, measured=0) == pytest.approx(d_ab, abs=1e-10)
    assert quantum_discord(swapped, measured=1) == pytest.approx(0, abs=1e-10)


def brute_force_J(rho, n_theta=90, n_phi=180):
    """J_{B|A} on a θ–φ grid with explicit projectors (independent implementation)."""
    r = rho.full().reshape(2, 2, 2, 2)
    th, ph = np.meshgrid(np.linspace(0, np.pi, n_theta), np.linspace(0, 2 * np.pi, n_phi))
    n = np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1).reshape(-1, 3)
    sig = np.array([SX.full(), SY.full(), SZ.full()])
    ns = np.einsum("mk,kij->mij", n, sig)
    cond = np.zeros(len(n))
    for sgn in (1, -1):
        Pi = 0.5 * (np.eye(2) + sgn * ns)
        rb = np.einsum("mji,ibjc->mbc", Pi, r)
        lam = np.clip(np.linalg.eigvalsh(rb), 0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = lam.sum(1)
            q = np.where(lam > 0, lam / p[:, None], 1)
            cond += -p * np.sum(q * np.log2(q), 1)
    rB = rho.ptrace(1)
    return qutip.entropy_vn(rB, base=2) - cond.min()


@pytest.mark.parametrize("seed", range(4))
def test_discord_random_states_bounds_and_optimum(seed):
    rng = np.random.default_rng(seed)
    if seed % 2:
        rho = qutip.rand_dm([2, 2], distribution="ginibre", rank=int(rng.integers(1, 5)), seed=seed)
    else:   # U(1)-symmetric X state as in the synchronization problem
        rho = two_qubit_state(*x_moments_from_random_state(rng))
    res = quantum_discord(rho, return_details=True)
    assert 0 <= res.discord <= res.mutual_information + 1e-12
    assert res.classical_correlation >= 0
    Jb = brute_force_J(rho)
    assert res.classical_correlation >= Jb - 1e-12          # never misses the grid optimum
    assert res.classical_correlation - Jb < 2e-3            # grid spacing ~ 2°
    assert res.mutual_information + 1e-12 >= max(
        res.discord, quantum_discord(rho, measured=1))


# -- X state from moments ------------------------------------------------------
def u1_invariant_state(N, rng, pure=False):
    dims = [[2] * N, [2] * N]
    n_exc = np.array([bin(s).count("1") for s in range(2 ** N)])
    if pure:
        k = N // 2
        v = np.where(n_exc == k, rng.normal(size=2 ** N) + 1j * rng.normal(size=2 ** N), 0)
        return qutip.ket2dm(qutip.Qobj(v / np.linalg.norm(v), dims=[[2] * N, [1] * N]))
    rho = qutip.rand_dm(2 ** N, seed=int(rng.integers(1 << 30))).full()
    pinched = np.where(n_exc[:, None] == n_exc[None, :], rho, 0)   # Σ_k P_k ρ P_k
    return qutip.Qobj(pinched, dims=dims)


def pair_moments(rho, a, b):
    N = len(rho.dims[0])

    def op(**ops):
        return qutip.tensor([ops.get(f"q{k}", qutip.qeye(2)) for k in range(N)])
    return (qutip.expect(op(**{f"q{a}": SZ}), rho), qutip.expect(op(**{f"q{b}": SZ}), rho),
            qutip.expect(op(**{f"q{a}": SZ, f"q{b}": SZ}), rho),
            qutip.expect(op(**{f"q{a}": qutip.sigmap(), f"q{b}": qutip.sigmam()}), rho))


def x_moments_from_random_state(rng):
    return pair_moments(u1_invariant_state(4, rng), 0, 2)


@pytest.mark.parametrize("pure", [False, True])
@pytest.mark.parametrize("pair", [(0, 1), (1, 3)])
def test_two_qubit_state_reproduces_partial_trace(pure, pair):
    rng = np.random.default_rng(11)
    rho = u1_invariant_state(4, rng, pure=pure)
    assert (rho * (collective_ops(4)[2]) - collective_ops(4)[2] * rho).norm() < 1e-12
    moments = pair_moments(rho, *pair)
    assert abs(moments[3]) > 1e-3                                   # coherence present
    x = two_qubit_state(*moments)
    exact = rho.ptrace(list(pair))
    assert x.dims == [[2, 2], [2, 2]]
    assert np.max(np.abs(x.full() - exact.full())) < 1e-12


def test_two_qubit_state_conventions():
    # |↑↓⟩ with ↑ = basis(2, 0): ⟨σz_a⟩ = 1, ⟨σz_b⟩ = −1
    x = two_qubit_state(1.0, -1.0, -1.0, 0.0)
    assert np.allclose(x.full(), qutip.ket2dm(qutip.tensor(UP, DN)).full(), atol=1e-15)
    t0 = (qutip.tensor(UP, DN) + 1j * qutip.tensor(DN, UP)).unit()
    m = pair_moments(qutip.ket2dm(t0), 0, 1)
    assert m[3] == pytest.approx(0.5j)      # ⟨ψ|↑↓⟩⟨↓↑|ψ⟩ = (1/√2)(i/√2)
    assert np.allclose(two_qubit_state(*m).full(), qutip.ket2dm(t0).full(), atol=1e-15)


def test_two_qubit_state_invalid_moments():
    with pytest.raises(ValueError, match="not a valid two-qubit state"):
        two_qubit_state(0.0, 0.0, -1.0, 0.6)      # |spsm|² > P_↑↓ P_↓↑
    with pytest.raises(ValueError, match="not a valid two-qubit state"):
        two_qubit_state(1.0, 1.0, -1.0, 0.0)      # negative population
    with pytest.raises(ValueError, match="sz_b"):
        two_qubit_state(0.0, np.nan, 0.0, 0.0)
    with pytest.raises(ValueError, match="spsm"):
        two_qubit_state(0.0, 0.0, 0.0, complex(np.inf, 0))
    with pytest.raises(TypeError, match="szsz"):
        two_qubit_state(0.0, 0.0, "1", 0.0)
    with pytest.raises(TypeError, match="spsm"):
        two_qubit_state(0.0, 0.0, 0.0, None)
    two_qubit_state(0.0, 0.0, -1.0, 0.5 + 1e-12)  # within the 1e-10 tolerance


# -- quantum Fisher information ----------------------------------------------
def ghz(N):
    return (qutip.basis([2] * N, [0] * N) + qutip.basis([2] * N, [1] * N)).unit()


def dicke(N, k):
    """Symmetric state with k excitations (|J=N/2, M=N/2−k⟩)."""
    v = np.array([1.0 if bin(s).count("1") == N - k else 0.0 for s in range(2 ** N)])
    return qutip.Qobj(v / np.linalg.norm(v), dims=[[2] * N, [1] * N])


def test_collective_operators_match_qutip():
    for N in (1, 3):
        for ours, ref in zip(CollectiveQFI(N).operators, collective_ops(N)):
            assert ours.dims == ref.dims
            assert np.max(np.abs(ours.full() - ref.full())) < 1e-15


@pytest.mark.parametrize("N", [2, 3, 5, 8])
def test_qfi_ghz(N):
    comp = collective_qfi(ghz(N), components=True)
    Fx = 4.0 if N == 2 else N
    Fy = 0.0 if N == 2 else N
    assert np.allclose(comp, [Fx, Fy, N ** 2], atol=1e-10)
    assert collective_qfi(ghz(N)) == pytest.approx(N * (N + 2) / 3, abs=1e-10)
    assert quantum_fisher_information(ghz(N), collective_ops(N)[2]) == pytest.approx(N ** 2, abs=1e-10)


@pytest.mark.parametrize("N", [1, 4, 7])
def test_qfi_product_states_give_separable_bound(N):
    rng = np.random.default_rng(N)
    m = rng.normal(size=3)
    m /= np.linalg.norm(m)
    th, ph = np.arccos(m[2]), np.arctan2(m[1], m[0])
    q = np.cos(th / 2) * UP + np.exp(1j * ph) * np.sin(th / 2) * DN
    css = qutip.tensor([q] * N)
    # identical spin-coherent state along m: F(J_α) = N (1 − m_α²), sum = 2N
    assert np.allclose(collective_qfi(css, components=True), N * (1 - m ** 2), atol=1e-10)
    assert collective_qfi(css) == pytest.approx(2 * N / 3, abs=1e-10)
    assert separable_qfi_bound(N) == pytest.approx(2 * N / 3)
    # coherent state along x with the perpendicular generator J_z: F = N
    xs = qutip.tensor([(UP + DN).unit()] * N)
    assert quantum_fisher_information(xs, collective_ops(N)[2]) == pytest.approx(N, abs=1e-10)
    # product of different pure states: still exactly 2N in total
    prod = qutip.tensor([random_unitary(rng) * UP for _ in range(N)])
    assert collective_qfi(prod) == pytest.approx(2 * N / 3, abs=1e-10)
    # product of mixed qubits: F(J_α) = Σ_i (|r_i|² − r_iα²)
    dms, rs = zip(*(random_qubit_dm(rng) for _ in range(N)))
    rs = np.array(rs)
    expected = np.sum(np.sum(rs ** 2, 1)[:, None] - rs ** 2, axis=0)
    assert np.allclose(collective_qfi(qutip.tensor(list(dms)), components=True), expected,
                       rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("N", [2, 4, 6])
def test_qfi_dicke_states(N):
    J = N / 2
    for k in range(N + 1):
        M = J - k
        comp = collective_qfi(dicke(N, k), components=True)
        expected = 2 * (J * (J + 1) - M ** 2)
        assert np.allclose(comp, [expected, expected, 0.0], atol=1e-10)
    assert collective_qfi(dicke(N, N // 2)) == pytest.approx(N * (N + 2) / 3, abs=1e-10)


def test_qfi_qubit_mixed_closed_form():
    rng = np.random.default_rng(3)
    for _ in range(10):
        rho, r = random_qubit_dm(rng)
        assert quantum_fisher_information(rho, SZ / 2) == pytest.approx(r[0] ** 2 + r[1] ** 2, abs=1e-12)
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        H = sum(ni * s for ni, s in zip(n, (SX, SY, SZ))) / 2
        assert quantum_fisher_information(rho, H) == pytest.approx(r @ r - (r @ n) ** 2, abs=1e-12)
    assert quantum_fisher_information(qutip.qeye(2) / 2, SZ) == 0.0


def sld_qfi(rho, H):
    """F = Tr[ρ L²] with the symmetric logarithmic derivative ρL + Lρ = 2∂ρ."""
    r, h = rho.full(), H.full()
    drho = -1j * (h @ r - r @ h)
    L = solve_sylvester(r, r, 2 * drho)
    return np.trace(r @ L @ L).real


def test_qfi_mixed_against_sld_and_pure_limit():
    for seed in range(4):
        H = qutip.rand_herm(5, seed=seed + 100)
        rho = qutip.rand_dm(5, seed=seed)                     # full rank
        assert quantum_fisher_information(rho, H) == pytest.approx(sld_qfi(rho, H), rel=1e-9)
        # rank 2: compare with the full-rank SLD value of ρ(1−ε) + ε/d
        low = qutip.rand_dm(5, rank=2, seed=seed)
        eps = 1e-10
        mixed = (1 - eps) * low + eps * qutip.qeye(5) / 5
        assert quantum_fisher_information(low, H) == pytest.approx(sld_qfi(mixed, H), rel=1e-6)
        # pure limit: rank-1 density matrix = 4 Var(H) of the ket
        psi = qutip.rand_ket(5, seed=seed)
        var4 = 4 * (qutip.expect(H * H, psi) - qutip.expect(H, psi) ** 2)
        assert quantum_fisher_information(psi, H) == pytest.approx(var4, rel=1e-12)
        assert quantum_fisher_information(qutip.ket2dm(psi), H) == pytest.approx(var4, rel=1e-10)


def root_fidelity(a, b):
    w, v = np.linalg.eigh(a)
    sa = (v * np.sqrt(np.clip(w, 0, None))) @ v.conj().T
    return np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(sa @ b @ sa), 0, None)))


def test_qfi_against_fidelity_susceptibility():
    rho = qutip.rand_dm(4, seed=5)
    H = qutip.rand_herm(4, seed=6)
    delta = 1e-3
    U = (-1j * delta * H).expm()
    Fnum = 8 * (1 - root_fidelity(rho.full(), (U * rho * U.dag()).full())) / delta ** 2
    assert quantum_fisher_information(rho, H) == pytest.approx(Fnum, rel=1e-4)


def test_qfi_batches_and_convexity():
    N = 4
    rng = np.random.default_rng(0)
    kets = [qutip.rand_ket([2] * N, seed=s) for s in range(7)]
    qfi = CollectiveQFI(N)
    single = np.array([qfi(k) for k in kets])
    assert np.allclose(qfi(kets), single, atol=1e-12)
    arr = np.array([k.full().ravel() for k in kets])
    assert np.allclose(qfi(arr), single, atol=1e-12)
    assert np.allclose(collective_qfi(arr), single, atol=1e-12)
    assert qfi(arr[0]) == pytest.approx(single[0], abs=1e-12)
    mixed_list = [kets[0], qutip.ket2dm(kets[1]), kets[2]]
    assert np.allclose(qfi(mixed_list), single[:3], atol=1e-10)
    # generic generator on a batch
    Jz = collective_ops(N)[2]
    assert np.allclose(quantum_fisher_information(kets, Jz), qfi.components(kets)[:, 2], atol=1e-12)
    # convexity: the ensemble state never has a larger QFI than the trajectory mean
    p = rng.dirichlet(np.ones(len(kets)))
    ens = sum(pk * qutip.ket2dm(k) for pk, k in zip(p, kets))
    assert qfi(ens) <= p @ single + 1e-12
    assert qfi.is_entangled(ghz(N)) and not qfi.is_entangled(qutip.tensor([UP] * N))


def test_qfi_twelve_qubits_vectorised():
    N = 12
    qfi = CollectiveQFI(N)
    rng = np.random.default_rng(1)
    kets = rng.normal(size=(40, 2 ** N)) + 1j * rng.normal(size=(40, 2 ** N))
    kets /= np.linalg.norm(kets, axis=1, keepdims=True)
    out = qfi(np.vstack([ghz(N).full().ravel(), kets]))
    assert out.shape == (41,)
    assert out[0] == pytest.approx(N * (N + 2) / 3, rel=1e-12)
    assert np.all((out >= 0) & (out <= qfi.maximum + 1e-9))


# -- bad input ---------------------------------------------------------------
def test_bad_density_matrices():
    good = qutip.rand_dm([2, 2], seed=1)
    m = good.full()
    cases = [
        (qutip.Qobj(m * 1.1, dims=good.dims), ValueError, "rho must have unit trace"),
        (qutip.Qobj(m + np.triu(np.ones((4, 4)), 1) * 0.01, dims=good.dims), ValueError,
         "rho is not Hermitian"),
        (qutip.Qobj(np.diag([1.2, -0.2, 0, 0]), dims=good.dims), ValueError,
         "rho is not positive semidefinite"),
        (qutip.Qobj(np.where(np.eye(4) > 0, np.nan, m), dims=good.dims), ValueError, "rho contains NaN"),
        (qutip.rand_dm(4, seed=1), ValueError, r"rho must have dims"),
        (qutip.rand_dm([2, 2, 2], seed=1), ValueError, r"ptrace"),
        (m, TypeError, "rho must be a qutip.Qobj"),
        (qutip.tensor(UP, UP).dag(), TypeError, "rho must be a density matrix"),
        (2 * qutip.tensor(UP, UP), ValueError, "normalised ket"),
    ]
    for rho, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            quantum_discord(rho)
        if "rho must have dims" not in msg:
            with pytest.raises(exc, match=msg):
                mutual_information(rho)
    with pytest.raises(ValueError, match="qubits"):
        quantum_discord(qutip.rand_dm([2, 3], seed=1))
    mutual_information(qutip.rand_dm([2, 3], seed=1))          # any bipartite dims are fine
    with pytest.raises(ValueError, match="measured"):
        quantum_discord(good, measured=2)
    with pytest.raises(ValueError, match="base"):
        mutual_information(good, base=1)
    with pytest.raises(TypeError, match="base"):
        quantum_discord(good, base="2")


def test_bad_qfi_input():
    psi = ghz(3)
    Jz = collective_ops(3)[2]
    with pytest.raises(ValueError, match="generator must be Hermitian"):
        quantum_fisher_information(psi, Jz + 1j * Jz)
    with pytest.raises(ValueError, match="to match the generator"):
        quantum_fisher_information(psi, collective_ops(2)[2])
    with pytest.raises(ValueError, match="generator contains NaN"):
        quantum_fisher_information(psi, Jz * np.nan)
    with pytest.raises(ValueError, match=r"state\[1\] must be a normalised ket"):
        quantum_fisher_information([psi, 2 * psi], Jz)
    with pytest.raises(ValueError, match="state must have unit trace"):
        quantum_fisher_information(2 * qutip.ket2dm(psi), Jz)
    with pytest.raises(ValueError, match="state contains NaN"):
        quantum_fisher_information(np.full(8, np.nan), Jz)
    with pytest.raises(TypeError, match="state must be a qutip.Qobj"):
        quantum_fisher_information("psi", Jz)
    with pytest.raises(TypeError, match="generator"):
        quantum_fisher_information(psi, "Jz")
    with pytest.raises(ValueError, match="expected"):
        quantum_fisher_information(qutip.rand_ket([4, 2], seed=0), Jz)
    with pytest.raises(ValueError, match="expected 8"):
        CollectiveQFI(3)(np.ones(4) / 2)
    with pytest.raises(ValueError, match="N must be >= 1"):
        CollectiveQFI(0)
    with pytest.raises(ValueError, match="N-qubit"):
        collective_qfi(qutip.rand_ket(3, seed=0))
    with pytest.raises(ValueError, match="eig_tol"):
        collective_qfi(psi, eig_tol=-1.0)
