"""Spectra from poles and residues of the regression matrix against the resolvent (issue 16).

The pole sum ``2 Re Σ c_k/(iω − λ_k)`` and the per-frequency solve
``2 Re eᵀ(iω − A)⁻¹δu`` are the same function; they must agree to 1e-10 of the
maximum on the laser (M = 1, 31), the seed-002 V-level laser and a 4-site Ising
chain.  The regression matrix from the sparse lowering must equal the one built
column by column from the NumPy right-hand side.  Above the dense limit, verified
Krylov poles.  A defective matrix (Jordan
block) must be refused by the poles and answered by the resolvent and the
propagation, against the closed form.
"""
import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.cumulant import laser as L
from qutip_superrad.cumulant.engine import Atom, Model, parameters, regression
from qutip_superrad.cumulant.engine.codegen import layout, make_rhs

from engine_models import cluster_laser, engine_params, vlevel_laser
from vlevel_laser import SMALL_N_LASER

SCAL = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)


def _laser_state(M):
    """Engine solver of the cluster laser and the hand kernel's steady state in it."""
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    rng = np.random.default_rng(M)
    N = rng.integers(5, 50, M).astype(float)
    D, g = 0.3 * rng.normal(size=M), rng.uniform(0.5, 1.5, M)
    sol = system.solver(SCAL, dict(N=N, Delta=D, g=g))
    laser = qsr.SuperradiantLaser(qsr.Ensemble(N, D, g), SCAL["kappa"], SCAL["Gamma"],
                                  SCAL["R"], SCAL["nu"], SCAL["xi"], SCAL["dc"])
    n, b, p, C = L.unpack(L.steadystate(laser).state, M)
    y = sol.initial_state({"s22[i0]": p, "a s21[i0]": b, "a† a": n, "s12[i0] s21[i1]": C.T})
    return sol, qsr.cumulant.engine.CumulantState(system, M, y, 0.0, {})


def _chain():
    J, h, gamma = parameters("J h gamma")
    at = [Atom(k) for k in range(1, 5)]
    sx = [x.sp + x.sm for x in at]
    H = sum((J * sx[k] * sx[k + 1] for k in range(1, 3)), J * sx[0] * sx[1])
    for x in at:
        H = H + h * x.sz
    sol = Model(H, [(gamma, x.sm) for x in at]).close(3).solver(dict(J=0.5, h=1.0, gamma=0.1))
    return sol, sol.steadystate(), at[0].s(1, 2)


def _cases():
    yield "laser M=1", (*_laser_state(1), None), np.linspace(-3, 3, 301)
    yield "laser M=31", (*_laser_state(31), None), np.linspace(-3, 3, 301)
    a, cl, m = vlevel_laser()
    sol = m.close(2).solver(engine_params(SMALL_N_LASER), {"N": [3.0]})
    yield "V-level", (sol, sol.steadystate(), None), np.linspace(-0.05, 0.05, 301)
    yield "Ising chain", _chain(), np.linspace(-4, 4, 301)


CASES = list(_cases())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_poles_equal_resolvent(case):
    _, (sol, ss, op), omega = case
    opt = {"state": ss, "operator": op}
    poles = sol.spectrum(omega, dict(opt, method="poles"))
    res = sol.spectrum(omega, dict(opt, method="resolvent"))
    assert poles.checks["spectrum_method"] == "poles" and poles.checks["fallback"] is None
    assert res.checks["spectrum_method"] == "resolvent" and res.checks["residues"] is None
    assert poles.checks["probe_error"] < 1e-10
    assert np.max(np.abs(poles.S - res.S)) < 1e-10 * np.max(res.S)
    assert poles.linewidth == pytest.approx(res.linewidth, rel=1e-8)
    # the correlation from the poles equals propagation by matrix exponentials
    tau = np.linspace(0, 5 / abs(np.max(poles.checks["poles"].real)), 7)
    g_p = sol.correlation(tau, dict(opt, method="poles"))
    g_r = sol.correlation(tau, dict(opt, method="resolvent"))
    assert np.max(np.abs(g_p - g_r)) < 1e-10 * abs(g_p[0])


@pytest.mark.parametrize("M", [1, 3, 31])
def test_lowered_matrix_equals_columns(M):
    """Analytic regression matrix (sparse lowering) vs m + 1 NumPy evaluations: exact."""
    sol, ss = _laser_state(M)
    A, *_ = sol.qrt_matrix(ss)
    qs, r = sol._qrt(None)
    nss = layout(sol.system, M)[1]
    base = np.zeros(nss + A.shape[0], complex)
    base[:nss] = ss.y
    rn = make_rhs(qs, M, "numpy")
    rn.bind(r._pvec)
    Ac = sol._qrt_matrix_columns(rn, base, nss, A.shape[0])
    assert abs(A - Ac).max() <= 1e-13 * abs(Ac).max()


def test_ill_conditioned_eigenvectors_fall_back(monkeypatch):
    """Refused residues (here: any conditioning) give the resolvent, the reason recorded."""
    sol, ss = _laser_state(3)
    omega = np.linspace(-3, 3, 101)
    ref = sol.spectrum(omega, {"state": ss})
    monkeypatch.setattr(regression, "RCOND_MIN", 1.0)
    sp = sol.spectrum(omega, {"state": ss})
    assert sp.checks["spectrum_method"] == "resolvent"
    assert "ill-conditioned" in sp.checks["fallback"]
    assert np.max(np.abs(sp.S - ref.S)) < 1e-10 * np.max(ref.S)
    assert sp.linewidth == pytest.approx(ref.linewidth, rel=1e-8)


def test_large_systems_take_verified_krylov_poles(monkeypatch):
    """Above DENSE_EIG_MAX equations (lowered here to 10 for the 100 of laser M = 99): Ritz
    poles of shift-invert Arnoldi (40 vectors), verified at the line (1e-8), against the
    dense poles on the whole grid; the correlation propagates."""
    sol, ss = _laser_state(99)
    omega = np.linspace(-3, 3, 201)
    ref = sol.spectrum(omega, {"state": ss})
    g_ref = sol.correlation([0.0, 0.5, 2.0], {"state": ss})
    monkeypatch.setattr(regression, "DENSE_EIG_MAX", 10)
    sp = sol.spectrum(omega, {"state": ss})
    assert sp.checks["spectrum_method"] == "krylov" and sp.checks["fallback"] is None
    assert sp.checks["krylov"]["verified_relative_error"] <= 1e-8
    assert sp.checks["krylov"]["krylov_dimension"] < sp.checks["qrt_size"]    # reduced
    assert np.max(np.abs(sp.S - ref.S)) < 1e-8 * np.max(ref.S)
    assert sp.linewidth == pytest.approx(ref.linewidth, rel=1e-7)
    g = sol.correlation([0.0, 0.5, 2.0], {"state": ss})
    assert np.max(np.abs(g - g_ref)) < 1e-10 * abs(g_ref[0])


def test_jordan_block():
    """A = [[λ, 1], [0, λ]] (defective): e^{Aτ}δu = e^{λτ}(δu + τ A₁δu) and
    S(ω) = 2 Re[(δu₀)/(iω − λ) + δu₁/(iω − λ)²] for e = (1, 0)."""
    lam = -0.3 + 0.2j
    A = np.array([[lam, 1.0], [0.0, lam]])
    du, e = np.array([0.7, 1.1 + 0.4j]), np.array([1.0, 0.0])
    poles, res, info = regression.regression_modes(A, du, e, probes=[0.0, 0.2, 1.0])
    assert res is None and "ill-conditioned" in info["fallback"]
    w = np.linspace(-2, 2, 9)
    S = 2 * np.real(du[0] / (1j * w - lam) + du[1] / (1j * w - lam) ** 2)
    assert np.max(np.abs(regression.Resolvent(A, e, du)(w) - S)) < 1e-13
    tau = np.array([3.0, 0.0, 1.5])
    g = np.exp(lam * tau) * (du[0] + tau * du[1])
    assert np.max(np.abs(regression.propagate(A, du, e, tau) - g)) < 1e-12


def test_method_option_is_validated():
    sol, ss = _laser_state(1)
    with pytest.raises(ValueError, match="'method'"):
        sol.spectrum([0.0, 1.0], {"state": ss, "method": "dense"})
