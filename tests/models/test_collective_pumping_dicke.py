"""CollectivePumping with local terms on the exact Dicke-basis route (double precision)."""
import numpy as np
import pytest
import qutip

from qutip_superrad import CollectivePumping


def _full_space(N, gamma, w, emission, dephasing):
    """Independent reference: the 2^N tensor space with qutip.steadystate."""
    sm = [qutip.tensor([qutip.sigmam() if k == i else qutip.qeye(2) for k in range(N)])
          for i in range(N)]
    Jm = sum(sm)
    Jz = sum(0.5 * (s.dag() * s - s * s.dag()) for s in sm)
    c_ops = ([np.sqrt(gamma) * Jm, np.sqrt(w) * Jm.dag()] + [np.sqrt(emission) * s for s in sm]
             + [np.sqrt(dephasing) * s.dag() * s for s in sm])
    rho = qutip.steadystate(0 * Jz, c_ops)
    jz = qutip.expect(Jz, rho)
    return jz, qutip.expect(Jz * Jz, rho) - jz ** 2


@pytest.mark.parametrize("N", [1, 2, 3, 4])
@pytest.mark.parametrize("emission,dephasing", [(0.3, 0.0), (0.0, 0.4), (0.3, 0.2)])
def test_dicke_route_equals_full_space(N, emission, dephasing):
    model = CollectivePumping(N, gamma=1.0, pump=0.7, emission=emission, dephasing=dephasing)
    ss = model.steadystate("dicke")
    jz, var = _full_space(N, 1.0, 0.7, emission, dephasing)
    # exact vs exact in double precision: observed ≤ 3e-15
    assert abs(ss.jz - jz) <= 1e-10 * max(1.0, abs(jz))
    assert abs(ss.jz_variance - var) <= 1e-10 * max(1.0, var)
    assert abs(ss.checks["trace"] - 1) <= 1e-12 and ss.checks["positive"]


@pytest.mark.parametrize("N", [6, 12])
def test_dicke_route_equals_piqs(N):
    model = CollectivePumping(N, gamma=1.0, pump=1.3, emission=0.05, dephasing=0.1)
    d, p = model.steadystate("dicke"), model.steadystate("piqs")
    # qutip.piqs builds its Liouvillian in single precision: agreement ~1e-7 relative
    assert abs(d.jz - p.jz) <= 1e-5 * max(1.0, abs(p.jz))
    assert abs(d.jz_variance - p.jz_variance) <= 1e-5 * max(1.0, p.jz_variance)


def test_dicke_route_needs_local_terms():
    with pytest.raises(ValueError, match="local emission or dephasing"):
        CollectivePumping(5, gamma=1.0, pump=0.5).steadystate("dicke")
