"""Engine laser (clusters, order 2) against the hand-derived kernel of cumulant.laser.

Both implement the same second-order equations, so they must agree to rounding
(asked: 1e-10; measured ~1e-15 for the RHS, 1e-14 for steady states and spectra).
"""

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.cumulant import laser as L

from engine_models import cluster_laser

SCAL = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)


def _setup(M, seed):
    rng = np.random.default_rng(seed)
    N = rng.integers(5, 50, M).astype(float)
    D = 0.3 * rng.normal(size=M)
    g = rng.uniform(0.5, 1.5, M)
    return N, D, g


@pytest.fixture(scope="module")
def system():
    a, cl, model = cluster_laser()
    return model.close(2, phase_charges={a: 1, cl: (0, 1)})


def test_families(system):
    assert [f.name for f in system.families] == [
        "s22[i0]", "a s21[i0]", "a† a", "s12[i0] s21[i1]"]


@pytest.mark.parametrize("M", [1, 3, 31])
@pytest.mark.parametrize("backend", ["c", "numpy", "auto", "sparse"])
def test_rhs_matches_hand_kernel(system, M, backend):
    N, D, g = _setup(M, M)
    rng = np.random.default_rng(7)
    par = L.LaserParameters(N, D, g, SCAL["kappa"], SCAL["Gamma"], SCAL["R"], SCAL["nu"],
                            SCAL["xi"], SCAL["dc"])
    n, b, p = 1.3, rng.normal(size=M) + 1j * rng.normal(size=M), rng.uniform(size=M)
    C = rng.normal(size=(M, M)) + 1j * rng.normal(size=(M, M))
    C = C + C.conj().T
    x = L.pack(n, b, p, C)
    dn, db, dp, dC = L.unpack(L.rhs(x, par), M)
    solver = system.solver(SCAL, dict(N=N, Delta=D, g=g), backend=backend)
    y = solver.initial_state({"s22[i0]": p, "a s21[i0]": b, "a† a": n, "s12[i0] s21[i1]": C.T})
    st = qsr.cumulant.engine.CumulantState(system, M, solver.derivative(y), 0.0, {})
    scale = max(abs(dn), np.abs(db).max(), np.abs(dC).max())
    for got, want in ((st["a† a"], dn), (st["a s21[i0]"], db), (st["s22[i0]"], dp),
                      (st["s12[i0] s21[i1]"], dC.T)):
        assert np.max(np.abs(got - want)) < 1e-10 * scale


@pytest.mark.parametrize("M", [1, 3, 31])
def test_steady_state_and_spectrum_match_hand_kernel(system, M):
    N, D, g = _setup(M, 2 + M)
    solver = system.solver(SCAL, dict(N=N, Delta=D, g=g))
    ss = solver.steadystate()
    laser = qsr.SuperradiantLaser(qsr.Ensemble(N, D, g), SCAL["kappa"], SCAL["Gamma"],
                                  SCAL["R"], SCAL["nu"], SCAL["xi"], SCAL["dc"])
    n, b, p, C = L.unpack(L.steadystate(laser).state, M)
    assert abs(ss["a† a"] - n) < 1e-10 * n
    assert np.max(np.abs(ss["s22[i0]"] - p)) < 1e-10
    assert np.max(np.abs(ss["a s21[i0]"] - b)) < 1e-10 * np.max(np.abs(b))
    assert np.max(np.abs(ss["s12[i0] s21[i1]"] - C.T)) < 1e-10 * np.max(np.abs(C))
    omega = np.linspace(-3, 3, 121)
    sp = solver.spectrum(omega, {"state": ss})
    ref = L.spectrum(laser, omega)
    assert np.max(np.abs(sp.S - ref.S)) < 1e-10 * np.max(ref.S)
    assert abs(sp.linewidth - ref.linewidth) < 1e-9 * ref.linewidth
    assert sp.checks["qrt_size"] == M + 1


def test_correlation_function(system):
    """g(τ) = ⟨a†(τ)a(0)⟩: g(0) = ⟨a†a⟩, decays to |⟨a⟩|² = 0, and its Fourier transform
    is the spectrum (checked at three frequencies by quadrature, tolerance 1e-6)."""
    N, D, g = _setup(3, 5)
    solver = system.solver(SCAL, dict(N=N, Delta=D, g=g))
    ss = solver.steadystate()
    tau = np.linspace(0, 400, 400001)
    G = solver.correlation(tau, {"state": ss})
    assert G[0] == pytest.approx(ss["a† a"], rel=1e-10)
    assert abs(G[-1]) < 1e-8 * abs(G[0])
    sp = solver.spectrum(np.linspace(-2, 2, 41), {"state": ss})
    for w in (-0.5, 0.0, 0.7):
        S = 2 * np.real(np.trapezoid(np.exp(-1j * w * tau) * G, tau))
        assert S == pytest.approx(sp.evaluate(np.array([w]))[0], rel=1e-6)
    with pytest.raises(ValueError, match="delays >= 0"):
        solver.correlation([-1.0, 0.0])
