"""Packed layout of Hermitian pair families (issue 16 item 6, decision 38).

The generated C evaluates the upper triangles of Hermitian pair families natively
(``rhs.packed``) and the full layout through them; the other evaluators expand.  Oracle:
:class:`~qutip_superrad.cumulant.engine.codegen.NumpyRHS` on the expanded state (lower
triangles the conjugates of the upper ones, diagonals left complex), to 1e-12 relative
on random, unphysical states.
"""
import numpy as np
import pytest

from qutip_superrad.cumulant.engine import codegen

from engine_models import cluster_laser, engine_params, vlevel_laser
from vlevel_laser import SMALL_N_LASER

SCAL = dict(kappa=2.0, Gamma=0.3, R=0.7, nu=0.1, xi=0.2, dc=0.4)


def _state(n, rng):
    return rng.normal(size=n) + 1j * rng.normal(size=n)


@pytest.fixture(scope="module")
def laser():
    a, cl, model = cluster_laser()
    return model.close(2, phase_charges={a: 1, cl: (0, 1)})


@pytest.fixture(scope="module")
def vlevel():
    return vlevel_laser()[2].close(2)


def _laser_clusters(M, rng):
    return dict(N=rng.integers(1, 9, M).astype(float), Delta=rng.normal(size=M),
                g=rng.uniform(0.5, 1, M))


def _agree(system, params, clusters, rng, backends=("c", "sparse")):
    """Every backend's packed and full RHS against the oracle on random states.

    Full layout: the packed entries (the lower triangles of the C are the mirrors of the
    upper ones, which is the oracle's value only on a physical state: tested with one in
    test_codegen).
    """
    ref = system.solver(params, clusters, backend="numpy")
    keep = ref.rhs.packing[0]
    solvers = [system.solver(params, clusters, backend=b) for b in backends]
    for _ in range(3):
        x = _state(keep.size, rng)
        y = ref.rhs.unpack(x)
        want = ref.derivative(y)
        tol = 1e-12 * np.max(np.abs(want))
        assert np.max(np.abs(ref.rhs.packed(x) - want[keep])) <= tol
        for s in solvers:
            assert np.max(np.abs(s.rhs.packed(x) - want[keep])) <= tol, s.rhs.backend
            assert np.max(np.abs(s.derivative(y)[keep] - want[keep])) <= tol, s.rhs.backend
    return ref, solvers


def test_packing_keeps_the_upper_triangles_row_by_row(laser):
    M = 4
    rhs = codegen.NumpyRHS(laser, M)
    keep, dst, src = rhs.packing
    fam, _, _ = laser.lookup("s12[i0] s21[i1]")
    assert fam.hermitian_swap
    assert rhs.n_packed == rhs.n - M * (M - 1) // 2 and dst.size == src.size == M * (M - 1) // 2
    o = rhs.offsets[fam.index]
    y = _state(rhs.n, np.random.default_rng(0))
    Y = y[o:o + M * M].reshape(M, M)
    x = rhs.pack(y)
    po = int(np.searchsorted(keep, o))
    assert np.array_equal(x[po:po + M * (M + 1) // 2], Y[np.triu_indices(M)])
    z = rhs.unpack(x)
    Z = z[o:o + M * M].reshape(M, M)
    assert np.array_equal(np.triu(Z), np.triu(Y))
    assert np.array_equal(np.tril(Z, -1), np.tril(Z.conj().T, -1))   # mirrored
    assert np.array_equal(np.diag(Z), np.diag(Y))                     # diagonal as stored
    assert np.array_equal(rhs.unpack(np.stack([x, 2 * x]))[1], 2 * z)  # rows of states


@pytest.mark.parametrize("M", [1, 2, 5, 17])
def test_laser_packed_and_full_agree_with_the_oracle(laser, M):
    rng = np.random.default_rng(10 + M)
    backends = ("c", "sparse", "table") if M == 1 else ("c", "sparse")
    ref, (c, *_) = _agree(laser, SCAL, _laser_clusters(M, rng), rng, backends)
    assert c.rhs.n_packed == ref.n - M * (M - 1) // 2
    # the full-layout C reads the upper triangles only: a lower triangle that is not the
    # mirror of the upper one is ignored
    y = _state(ref.n, rng)
    keep, dst, src = ref.rhs.packing
    want = ref.derivative(ref.rhs.unpack(ref.rhs.pack(y)))[keep]
    got = c.derivative(y)
    assert np.max(np.abs(got[keep] - want)) <= 1e-12 * np.max(np.abs(want))
    assert np.array_equal(got[dst], np.conj(got[src]))


@pytest.mark.parametrize("M", [1, 3])
def test_vlevel_several_hermitian_families_agree_with_the_oracle(vlevel, M):
    """Seed-002 V-level laser with M clusters: several Hermitian pair families, read also
    below the diagonal inside cluster sums (``hget``)."""
    herm = [f for f in vlevel.families if f.hermitian_swap]
    assert len(herm) >= 2
    rng = np.random.default_rng(20 + M)
    p = engine_params(SMALL_N_LASER)
    _, (c, _) = _agree(vlevel, p, {"N": rng.uniform(2, 9, M)}, rng)
    assert "hget(" in c.rhs.source          # the unordered read is exercised here


def test_packed_kernel_gives_the_same_steady_state_and_evolution(laser):
    """Newton and evolve on the packed unknowns: generated C (native) and NumPy (expanded)
    follow the same trajectory; the pairs come back Hermitian."""
    M = 4
    rng = np.random.default_rng(5)
    clusters = _laser_clusters(M, rng)
    c = laser.solver(SCAL, clusters, backend="c")
    ref = laser.solver(SCAL, clusters, backend="numpy")
    y0 = c.rhs.unpack(0.1 * _state(c.rhs.n_packed, rng))
    tl = np.linspace(0, 2, 5)
    ev_c, ev_n = c.evolve(tl, y0), ref.evolve(tl, y0)
    assert np.max(np.abs(ev_c.ys - ev_n.ys)) < 1e-9 * np.max(np.abs(ev_n.ys))
    C = ev_c["s12[i0] s21[i1]"][-1]
    assert np.array_equal(np.tril(C, -1), np.tril(C.conj().T, -1))
    # lasing clusters (as test_sparse): C and the sparse kernel reach the same root
    scal = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)
    clusters["N"] = np.array([10.0, 20.0, 15.0, 12.0])
    ss_c = laser.solver(scal, clusters, backend="c").steadystate()
    ss_s = laser.solver(scal, clusters, backend="sparse").steadystate()
    assert np.max(np.abs(ss_c.y - ss_s.y)) < 1e-8 * np.max(np.abs(ss_s.y))
    resid = laser.solver(scal, clusters, backend="numpy").derivative(ss_c.y)
    assert np.max(np.abs(resid)) < 1e-9 * scal["kappa"] * max(1.0, np.max(np.abs(ss_c.y)))


def test_reduced_jacobian_is_the_derivative_of_the_packed_kernel(laser):
    """The Jacobian borrowed from the sparse lowering, reduced to the packed unknowns,
    against central differences of the generated C's packed kernel."""
    M = 3
    rng = np.random.default_rng(9)
    c = laser.solver(SCAL, _laser_clusters(M, rng), backend="c")
    keep, dst, src = c._reduction()
    n = keep.size
    jac = c._reduced_jacobian(keep, dst, src, lambda v: c.rhs.unpack(v[:n] + 1j * v[n:]))
    x = 0.5 * _state(n, rng)
    v = np.concatenate([x.real, x.imag])
    J = jac(v).toarray()
    h = 1e-6
    fd = np.empty((2 * n, 2 * n))
    for j in range(2 * n):
        e = np.zeros(2 * n)
        e[j] = h
        fp = c.rhs.packed((v + e)[:n] + 1j * (v + e)[n:])
        fm = c.rhs.packed((v - e)[:n] + 1j * (v - e)[n:])
        fd[:, j] = np.concatenate([(fp - fm).real, (fp - fm).imag]) / (2 * h)
    assert np.max(np.abs(J - fd)) <= 1e-6 * max(np.max(np.abs(fd)), 1.0)


def test_packed_input_is_checked(laser):
    c = laser.solver(SCAL, _laser_clusters(3, np.random.default_rng(0)), backend="c")
    with pytest.raises(ValueError, match="entries"):
        c.rhs.packed(np.zeros(c.n, complex))          # a full vector is not a packed one
    x = _state(c.rhs.n_packed, np.random.default_rng(1))
    assert np.array_equal(c.rhs.packed(list(x)), c.rhs.packed(x))    # converted
    with pytest.raises(ValueError, match="out must be"):
        c.rhs.packed(x, out=np.empty(c.n, complex))   # the C would write past its end
    with pytest.raises(ValueError, match="out must be"):
        c.rhs(c.rhs.unpack(x), out=np.empty(c.rhs.n_packed, complex))
