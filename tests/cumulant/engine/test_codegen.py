"""Generated C, table kernel and NumPy oracle evaluate the same equations; the compile
cache is keyed by the source; without a compiler the engine falls back to NumPy."""
import warnings
from pathlib import Path

import numpy as np
import pytest

from qutip_superrad.cumulant.engine import Atom, Model, parameters
from qutip_superrad.cumulant.engine import codegen

from engine_models import cluster_laser, engine_params, vlevel_laser
from vlevel_laser import SMALL_N_LASER


def _random_state(n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=n) + 1j * rng.normal(size=n)


@pytest.mark.parametrize("M", [1, 3, 17])
def test_backends_agree_on_the_cluster_laser(M):
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    rng = np.random.default_rng(M)
    clusters = dict(N=rng.integers(1, 9, M).astype(float), Delta=rng.normal(size=M),
                    g=rng.uniform(0.5, 1, M))
    scal = dict(kappa=2.0, Gamma=0.3, R=0.7, nu=0.1, xi=0.2, dc=0.4)
    ref = system.solver(scal, clusters, backend="numpy")
    # a physical state (Hermitian pairs, real populations): the C kernel relies on it
    y = system.solver(scal, clusters).evolve([0, 0.7]).ys[-1]
    assert np.max(np.abs(y)) > 1e-3
    want = ref.derivative(y)
    for backend in ("c", "auto", "sparse") + (("table",) if M == 1 else ()):
        got = system.solver(scal, clusters, backend=backend).derivative(y)
        assert np.max(np.abs(got - want)) < 1e-12 * np.max(np.abs(want)), backend


def test_backends_agree_on_seed002_and_a_spin_chain():
    a, cl, model = vlevel_laser()
    system = model.close(2)
    p = engine_params(SMALL_N_LASER)
    ref = system.solver(p, {"N": [7.0]}, backend="numpy")
    y = system.solver(p, {"N": [7.0]}).evolve([0, 3.0]).ys[-1]     # physical state
    assert np.max(np.abs(y)) > 1e-2
    for backend in ("c", "table", "sparse"):
        got = system.solver(p, {"N": [7.0]}, backend=backend).derivative(y)
        assert np.max(np.abs(got - ref.derivative(y))) < 1e-12 * np.max(np.abs(got))
    # 4-site transverse-field Ising chain at order 3 (concrete atoms: sparse kernel)
    J, h, gam = parameters("J h gamma")
    at = [Atom(k) for k in range(1, 5)]
    sx = [x.sp + x.sm for x in at]
    H = sum((J * sx[k] * sx[k + 1] for k in range(3)), start=0 * at[0].sz) + \
        sum((h * x.sz for x in at), start=0 * at[0].sz)
    chain = Model(H, [(gam, x.sm) for x in at]).close(3)
    pr = dict(J=0.5, h=1.0, gamma=0.1)
    r1 = chain.solver(pr, backend="numpy")
    r2 = chain.solver(pr)
    assert r2.rhs.backend == "sparse"
    y = _random_state(r1.n, 2)
    for backend in ("sparse", "table"):
        got = chain.solver(pr, backend=backend).derivative(y)
        assert np.max(np.abs(r1.derivative(y) - got)) < 1e-12 * np.max(np.abs(got)), backend


def test_compile_cache_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("QSR_CACHE_DIR", str(tmp_path))
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    first = codegen.CompiledRHS(system, 2)
    assert not first.cached and Path(first.library).parent == tmp_path
    second = codegen.CompiledRHS(system, 5)     # M is a run-time argument: same library
    assert second.cached and second.library == first.library
    # a different model gives a different hash
    other = model.close(2)                      # without the U(1) filter
    assert codegen.CompiledRHS(other, 2).library != first.library


def test_fallback_to_numpy_without_compiler(tmp_path, monkeypatch):
    monkeypatch.setenv("QSR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(codegen, "find_compiler", lambda: None)
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    scal = dict(kappa=2.0, Gamma=0.3, R=0.7, nu=0.1, xi=0.2, dc=0.4)
    with pytest.warns(RuntimeWarning, match="falling back to the NumPy"):
        s = system.solver(scal, dict(N=[3.0, 4.0], Delta=[0.1, -0.1], g=[1.0, 1.0]))
    assert s.rhs.backend == "numpy"
    with pytest.raises(RuntimeError, match="no C compiler"):
        system.solver(scal, dict(N=[3.0, 4.0], Delta=[0.1, -0.1], g=[1.0, 1.0]), backend="c")


def test_closed_equations_print_as_text_and_latex():
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    text = str(system)
    assert "d/dt ⟨a† a⟩ = " in text and "Σ_c0 N[c0] g[c0]" in text
    tex = system.latex()
    assert r"\frac{d}{dt}\langle a† a\rangle" in tex and r"\sum_{c0}" in tex
    assert system._repr_latex_().startswith("$")
