"""Compiled-kernel policy (docs/architecture.md, "Compiled kernels"): a missing
precompiled kernel is an ImportError naming the fix, at the point of use; no fallback."""
import sys
import warnings

import numpy as np
import pytest

from qutip_superrad import _kernels
from qutip_superrad.cumulant import laser as L
from qutip_superrad.cumulant.engine import Atom, Model, codegen, parameters

FIX = r"python -m pip install -e \."


def _hide(monkeypatch, name):
    """Make ``import qutip_superrad._kernels.<name>`` fail as for an install without it."""
    monkeypatch.setitem(sys.modules, f"qutip_superrad._kernels.{name}", None)


def test_load_names_the_fix(monkeypatch):
    assert _kernels.load("cumulant_laser").__name__ == "qutip_superrad._kernels.cumulant_laser"
    _hide(monkeypatch, "cumulant_laser")
    with pytest.raises(ImportError, match=FIX) as info:
        _kernels.load("cumulant_laser")
    msg = str(info.value)
    assert "qutip_superrad._kernels.cumulant_laser" in msg
    assert "C compiler" in msg and "cython_ext/" in msg
    with pytest.raises(ImportError, match=FIX):
        _kernels.load("no_such_kernel")


def test_laser_kernel_missing_raises_at_use(monkeypatch):
    par = L.LaserParameters([2, 3], [0.0, 0.1], [0.2, 0.3], kappa=1.0, gamma=0.1, pump=0.5)
    x = np.random.default_rng(0).normal(size=L.n_unknowns(par.M))
    ref = L.rhs(x, par)                                   # loads the real kernel
    monkeypatch.setattr(L, "_kernel", None)               # as if never loaded …
    _hide(monkeypatch, "cumulant_laser")                  # … and not built
    with pytest.raises(ImportError, match="cumulant_laser.*" + FIX):
        L.rhs(x, par)
    with pytest.raises(ImportError, match=FIX):
        L.jvp(x, x, par)
    # the NumPy oracle does not need the kernel (it is a backend choice, not a fallback)
    assert np.allclose(L.rhs(x, par, backend="numpy"), ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kernel, backends", [("cumulant_terms", ("table",)),
                                             ("cumulant_sparse", ("auto", "sparse"))])
def test_engine_kernels_missing_raise(monkeypatch, kernel, backends):
    g, k = parameters("g kappa")
    at = Atom(1)
    system = Model(g * (at.sp + at.sm), [(k, at.sm)]).close(2)
    _hide(monkeypatch, kernel)
    for backend in backends:                              # M = 1: a precompiled kernel
        with warnings.catch_warnings():
            warnings.simplefilter("error")                # no silent (warning) fallback
            with pytest.raises(ImportError, match=kernel + ".*" + FIX):
                codegen.make_rhs(system, 1, backend)
        with pytest.raises(ImportError, match=FIX):
            system.solver({"g": 1.0, "kappa": 0.5}, backend=backend)
    assert system.solver({"g": 1.0, "kappa": 0.5}, backend="numpy").rhs.backend == "numpy"
