"""Sparse backend (issue 16): lowered form, precompiled kernel, analytic Jacobian.

Oracles: :class:`~qutip_superrad.cumulant.engine.codegen.NumpyRHS` (einsum on the IR)
for the lowering, ``LoweredSystem.rhs_numpy``/``jacobian_weights_numpy`` for the
kernel, central finite differences for the Jacobian.  Every backend must agree with
the NumPy oracle to 1e-12 on random (unphysical) states.
"""
import itertools
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qutip_superrad.cumulant.engine import Atom, Mode, Model, Operator, codegen, parameters
from qutip_superrad.cumulant.engine import lower

from engine_models import cluster_laser, engine_params, vlevel_laser
from vlevel_laser import SMALL_N_LASER

SCAL = dict(kappa=2.0, Gamma=0.3, R=0.7, nu=0.1, xi=0.2, dc=0.4)


def _state(n, rng):
    return rng.normal(size=n) + 1j * rng.normal(size=n)


def _laser(M, rng):
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    clusters = dict(N=rng.integers(1, 9, M).astype(float), Delta=rng.normal(size=M),
                    g=rng.uniform(0.5, 1, M))
    return system, clusters


def _chain(sites):
    J, h, gam = parameters("J h gamma")
    at = [Atom(k) for k in range(1, sites + 1)]
    sx = [x.sp + x.sm for x in at]
    H = sum((J * sx[k] * sx[k + 1] for k in range(sites - 1)), start=0 * at[0].sz) + \
        sum((h * x.sz for x in at), start=0 * at[0].sz)
    return Model(H, [(gam, x.sm) for x in at])


def _fd_jacobian(rhs, y, h=1e-6):
    """Central differences of the real form ``[Re dy, Im dy]`` in ``[Re y, Im y]``."""
    n = y.size
    x = np.concatenate([y.real, y.imag])
    J = np.empty((2 * n, 2 * n))
    for j in range(2 * n):
        e = np.zeros(2 * n)
        e[j] = h
        fp, fm = rhs(x[:n] + e[:n] + 1j * (x[n:] + e[n:])), rhs(x[:n] - e[:n] + 1j * (x[n:] - e[n:]))
        J[:, j] = np.concatenate([(fp - fm).real, (fp - fm).imag]) / (2 * h)
    return J


def _check(system, params, clusters, M, rng, jac=True):
    """Sparse kernel, its NumPy oracle, table (M = 1) and C (M > 1) against NumpyRHS."""
    ref = system.solver(params, clusters, backend="numpy")
    sp = system.solver(params, clusters, backend="sparse")
    others = [system.solver(params, clusters, backend="table" if M == 1 else "c")]
    low = sp.rhs.lowered
    for _ in range(2):
        y = _state(ref.n, rng)
        want = ref.derivative(y)
        tol = 1e-12 * max(np.max(np.abs(want)), 1e-300)
        assert np.max(np.abs(sp.derivative(y) - want)) <= tol
        assert np.max(np.abs(low.rhs_numpy(y, sp.rhs._coef) - want)) <= tol
        for o in others:
            # the C evaluates the upper triangles of Hermitian pair families (packed
            # layout) and mirrors them: compare its packed entries on the state whose lower
            # triangles mirror the upper ones (M = 1: y itself, every entry)
            keep = o.rhs.packing[0]
            yh = o.rhs.unpack(o.rhs.pack(y))
            wh = ref.derivative(yh)[keep]
            assert np.max(np.abs(o.derivative(yh)[keep] - wh)) <= 1e-12 * np.max(np.abs(wh)), \
                o.rhs.backend
    if jac:
        y = 0.5 * _state(ref.n, rng)
        J = sp.jacobian(y)
        W = low.jacobian_weights_numpy(y, sp.rhs._coef)
        assert np.max(np.abs(low.jacobian_matrix(W).toarray() - J.toarray())) <= \
            1e-12 * max(np.max(np.abs(J.data)), 1.0)
        fd = _fd_jacobian(ref.derivative, y)
        assert np.max(np.abs(J.toarray() - fd)) <= 1e-6 * max(np.max(np.abs(fd)), 1.0)


# ------------------------------------------------------------------ property

@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(levels=st.lists(st.sampled_from([2, 3]), min_size=1, max_size=3),
       has_mode=st.booleans(), order=st.integers(1, 3), seed=st.integers(0, 2 ** 32 - 1))
def test_sparse_backend_matches_the_oracle_on_random_models(levels, has_mode, order, seed):
    """Random Hamiltonians and jumps (complex numbers, several parameters)."""
    rng = np.random.default_rng(seed)
    mode = Mode("a") if has_mode else None
    atoms = [Atom(k + 1, lv) for k, lv in enumerate(levels)]
    g, kappa, gamma = parameters("g kappa gamma")
    ops = []
    for x in atoms:
        i, j = rng.integers(1, x.levels + 1, size=2)
        ops.append(x.s(int(i), int(j)))
    if mode:
        ops += [mode.a, mode.adag * mode.a]
    H = Operator()
    for _ in range(3):
        A, B = rng.choice(len(ops), 2)
        c = complex(rng.normal(), rng.normal())
        term = c * ops[A] * ops[B]
        coupling = g * g if rng.random() < 0.5 else g                  # powers of parameters
        H = H + coupling * (term + term.dag())
    jumps = [(gamma, atoms[0].s(1, atoms[0].levels))]
    if mode:
        jumps.append((kappa, mode.a))
        H = H + kappa * mode.num()
    else:
        H = H + kappa * atoms[-1].s(atoms[-1].levels, atoms[-1].levels)
    system = Model(H, jumps).close(order)
    params = {"g": rng.uniform(0.2, 1.5), "kappa": rng.uniform(0.1, 1.0),
              "gamma": rng.uniform(0.1, 1.0)}
    params = {k: v for k, v in params.items() if k in system.scalar_parameters}
    _check(system, params, None, 1, rng, jac=len(system.families) <= 60)


# ------------------------------------------------------------------ named systems

@pytest.mark.parametrize("M", [1, 3])
def test_cluster_laser(M):
    rng = np.random.default_rng(M)
    system, clusters = _laser(M, rng)
    _check(system, SCAL, clusters, M, rng)


def test_seed002_and_spin_chain():
    rng = np.random.default_rng(5)
    a, cl, model = vlevel_laser()
    _check(model.close(2), engine_params(SMALL_N_LASER), {"N": [7.0]}, 1, rng)
    _check(_chain(4).close(3), dict(J=0.5, h=1.0, gamma=0.1), None, 1, rng, jac=False)


def test_kernel_rows_of_every_length_against_numpy():
    """The kernel on hand-made arrays: rows of 0..9 entries (padded to four inside the
    kernel), products of products, coefficient slots; NumPy computes the same sums."""
    from qutip_superrad._kernels import cumulant_sparse
    rng = np.random.default_rng(7)
    n, n_coef = 10, 3
    nbase = 1 + 4 * n
    first = nbase + n_coef
    a, b = [], []
    for k in range(12):                          # each product reads earlier slots only
        a.append(int(rng.integers(0, first + k)))
        b.append(int(rng.integers(0, first + k)))
    nslots = first + len(a)
    lengths = np.arange(n) % 10                  # 0, 1, ..., 9 entries
    row_ptr = np.concatenate([[0], np.cumsum(lengths)])
    ex = rng.integers(0, nslots, row_ptr[-1])
    ey = rng.integers(0, nslots, row_ptr[-1])
    k = cumulant_sparse.SparsePoly(n, n_coef, a, b, nslots, row_ptr, ex, ey, 1, 2,
                                   [0], [0], [0], [1.0])
    coef = _state(n_coef, rng)
    k.set_coefficients(np.ones(1, complex), coef)
    y = _state(n, rng)
    m = np.concatenate([[1.0], y, y.conj(), y + y.conj(), y - y.conj(), coef,
                        np.zeros(len(a))]).astype(complex)
    for j, (p, q) in enumerate(zip(a, b)):
        m[first + j] = m[p] * m[q]
    want = np.array([np.sum(m[ex[s:e]] * m[ey[s:e]]) for s, e in zip(row_ptr, row_ptr[1:])])
    out = np.full(n, np.nan, complex)
    k.rhs(y, out)
    assert np.max(np.abs(out - want)) <= 1e-13 * np.max(np.abs(want))
    assert out[0] == 0                           # the empty row
    with pytest.raises(ValueError, match="slot out of range"):
        cumulant_sparse.SparsePoly(n, n_coef, a, b, nslots, row_ptr, ex, ey + nslots, 1, 2,
                                   [0], [0], [0], [1.0])
    with pytest.raises(ValueError, match="row pointers"):
        cumulant_sparse.SparsePoly(n, n_coef, a, b, nslots, row_ptr[::-1], ex, ey, 1, 2,
                                   [0], [0], [0], [1.0])


def test_chain_lowers_to_few_products():
    """Layout of decision 42 on the 6-site chain at order 3: every entry is one product
    of two slots, and the products the right-hand side needs (sub-monomials and scaled
    factors) are few: 1 415 here, against 12 603 monomials as slots of their own."""
    low = lower.LoweredSystem(_chain(6).close(3), 1)
    assert low.n == 367 and low.ent_x.size == 21528
    assert low.n_coef <= 24
    assert low.n_rhs_monomials - low.nbase - low.n_coef < 1600
    # the Jacobian's derivative monomials come after the right-hand side's products
    assert low.n_monomials > low.n_rhs_monomials


def test_cluster_laser_against_c_on_a_physical_state():
    rng = np.random.default_rng(11)
    system, clusters = _laser(5, rng)
    y = system.solver(SCAL, clusters).evolve([0, 0.7]).ys[-1]
    want = system.solver(SCAL, clusters, backend="c").derivative(y)
    got = system.solver(SCAL, clusters, backend="sparse").derivative(y)
    assert np.max(np.abs(got - want)) < 1e-12 * np.max(np.abs(want))


def test_parameters_rebind_without_lowering_again():
    rng = np.random.default_rng(1)
    system, clusters = _laser(3, rng)
    sp = codegen.SparseRHS(system, 3)
    low = sp.lowered
    y = _state(sp.n, rng)
    for scale in (1.0, 0.3, 2.5):
        scal = {k: v * scale for k, v in SCAL.items()}
        cl = dict(clusters, g=clusters["g"] * scale)
        pvec = codegen._pack_params(system, scal, cl, 3)
        ref = codegen.NumpyRHS(system, 3)
        ref.bind(pvec)
        sp.bind(pvec)
        assert sp.lowered is low
        assert np.max(np.abs(sp(y) - ref(y))) < 1e-12 * np.max(np.abs(ref(y)))


def test_a_call_allocates_nothing():
    system = _chain(3).close(3)
    s = system.solver(dict(J=0.5, h=1.0, gamma=0.1))
    y = _state(s.n, np.random.default_rng(0))
    out = np.empty(s.n, complex)
    rhs = s.rhs
    rhs(y, out)
    loop = itertools.repeat(None, 200)           # iterating it allocates nothing
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        for _ in loop:
            rhs(y, out)
        cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base == 0 and cur - base == 0


def test_inputs_are_converted_or_refused():
    system = _chain(2).close(2)
    s = system.solver(dict(J=0.5, h=1.0, gamma=0.1))
    y = _state(s.n, np.random.default_rng(0))
    want = s.derivative(y)
    assert np.allclose(s.rhs(list(y)), want, rtol=0, atol=1e-15)        # converted
    strided = np.zeros(2 * s.n, complex)
    strided[::2] = y
    assert np.allclose(s.rhs(strided[::2]), want, rtol=0, atol=1e-15)
    real = np.real(y)
    assert np.allclose(s.rhs(real), s.derivative(real.astype(complex)), rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="entries"):
        s.rhs(y[:-1])
    with pytest.raises(ValueError, match="complex128"):
        s.rhs(y, out=np.empty(s.n))
    with pytest.raises(ValueError, match="no analytic Jacobian"):
        system.solver(dict(J=0.5, h=1.0, gamma=0.1), backend="table").jacobian(y)


def test_too_large_unrolled_form_is_refused(monkeypatch):
    rng = np.random.default_rng(0)
    system, clusters = _laser(3, rng)
    monkeypatch.setattr(lower, "MAX_CONCRETE_TERMS", 100)
    with pytest.raises(ValueError, match="backend='c'"):
        codegen.SparseRHS(system, 3)


# ------------------------------------------------------------------ solvers

def test_newton_and_implicit_integrators_use_the_analytic_jacobian():
    a, cl, model = vlevel_laser()
    system = model.close(2)
    p = engine_params(SMALL_N_LASER)
    sp = system.solver(p, {"N": [7.0]})
    assert sp.rhs.backend == "sparse" and sp.has_jacobian
    tab = system.solver(p, {"N": [7.0]}, backend="table")
    ss_sp, ss_tab = sp.steadystate(), tab.steadystate()
    assert np.max(np.abs(ss_sp.y - ss_tab.y)) < 1e-8 * np.max(np.abs(ss_tab.y))
    calls = []
    jac = sp.rhs.jacobian
    sp.rhs.jacobian = lambda y: calls.append(1) or jac(y)
    tl = np.linspace(0, 5, 6)
    bdf = sp.evolve(tl, options={"method": "BDF", "rtol": 1e-9, "atol": 1e-11})
    assert calls                                    # the integrator asked for it
    rk = tab.evolve(tl, options={"rtol": 1e-9, "atol": 1e-11})
    assert np.max(np.abs(bdf.ys - rk.ys)) < 1e-6 * np.max(np.abs(rk.ys))
    n = len(calls)
    sp.evolve(tl[:2], options={"method": "LSODA"})   # dense Jacobian for LSODA
    assert len(calls) >= n


def test_newton_with_mirrored_pair_families_matches_the_c_backend():
    """M > 1: Newton's reduced unknowns (upper triangle of Hermitian pairs)."""
    rng = np.random.default_rng(3)
    system, clusters = _laser(3, rng)
    scal = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)
    clusters["N"] = np.array([10.0, 20.0, 15.0])
    a = system.solver(scal, clusters, backend="sparse").steadystate()
    b = system.solver(scal, clusters, backend="c").steadystate()
    assert np.max(np.abs(a.y - b.y)) < 1e-8 * np.max(np.abs(b.y))
    assert a.residual < 1e-9 * scal["kappa"]


def test_newton_stops_at_the_last_finite_iterate_when_every_step_overflows():
    """A Newton step whose damped trials all give NaN (Newton outside its basin, seen on
    the driven Dicke model at the lasing threshold) must end this Newton run with the last
    finite iterate for the caller's verdict, not hand NaN to the next Jacobian (LAPACK
    then raised "array must not contain infs or NaNs")."""
    a, cl, model = vlevel_laser()
    sp = model.close(2).solver(engine_params(SMALL_N_LASER), {"N": [7.0]})
    y0 = sp.evolve([0.0, 0.1]).ys[-1]

    class Overflowing:                      # the kernel, NaN away from the start point
        def __init__(self, rhs):
            self.rhs = rhs

        def __getattr__(self, name):
            return getattr(self.rhs, name)

        def __call__(self, y, *args, **kw):
            return self.rhs(y) if np.array_equal(y, y0) else np.full(y.shape, np.nan + 0j)

        def packed(self, x, out=None):              # what Newton calls (decision 38)
            if np.array_equal(x, self.rhs.pack(y0)):
                return self.rhs.packed(x, out)
            return np.full(x.shape, np.nan + 0j)
    sp.rhs = Overflowing(sp.rhs)
    root, hist, _ = sp._newton(y0, 1e-10, 20)
    assert np.array_equal(root, y0) and len(hist) == 1 and np.isfinite(hist[0])


def test_newton_above_1000_real_unknowns_uses_the_sparse_lu():
    """Laser at M = 31: 1 118 reduced real unknowns (no dense Jacobian, no Krylov)."""
    rng = np.random.default_rng(4)
    system, clusters = _laser(31, rng)
    scal = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)
    clusters["N"] = rng.uniform(10.0, 30.0, 31)
    sp = system.solver(scal, clusters, backend="sparse")
    keep = sp._reduction()[0]
    assert 2 * keep.size > 1000
    y = sp.evolve([0.0, 5.0]).ys[-1]
    calls = []
    jac = sp.rhs.jacobian
    sp.rhs.jacobian = lambda y: calls.append(1) or jac(y)
    root, hist, J = sp._newton(y, 1e-10, 30)
    assert calls and J is None                    # sparse LU, no dense matrix kept
    assert hist[-1] < 1e-9 * scal["kappa"] * max(1.0, np.max(np.abs(root)))
    ref = system.solver(scal, clusters, backend="c").steadystate({"y0": y})
    assert np.max(np.abs(root - ref.y)) < 1e-7 * np.max(np.abs(ref.y))


def test_generated_c_borrows_the_jacobian_of_a_small_lowering(monkeypatch):
    from qutip_superrad.cumulant.engine import solve

    rng = np.random.default_rng(8)
    system, clusters = _laser(3, rng)
    c = system.solver(SCAL, clusters, backend="c")
    sp = system.solver(SCAL, clusters, backend="sparse")
    assert c.rhs.backend == "c" and c.has_jacobian
    y = 0.5 * _state(c.n, rng)
    assert np.max(np.abs((c.jacobian(y) - sp.jacobian(y)).toarray())) == 0.0
    monkeypatch.setattr(solve, "JACOBIAN_MAX_TERMS", 10)     # too large to lower: none
    c2 = system.solver(SCAL, clusters, backend="c")
    assert not c2.has_jacobian
    with pytest.raises(ValueError, match="no analytic Jacobian"):
        c2.jacobian(y)
    assert not system.solver(SCAL, clusters, backend="numpy").has_jacobian   # the oracle
