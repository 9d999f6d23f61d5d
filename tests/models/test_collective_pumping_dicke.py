"""CollectivePumping with local terms on the exact Dicke-basis route (double precision): the
generic ``dicke`` solver of its model description."""
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
    model = CollectivePumping(N, collective_emission=1.0, collective_pumping=0.7,
                              emission=emission, dephasing=dephasing)
    ss = model.steadystate("dicke")
    jz, var = _full_space(N, 1.0, 0.7, emission, dephasing)
    # exact vs exact in double precision: observed ≤ 3e-15
    assert abs(ss.jz - jz) <= 1e-10 * max(1.0, abs(jz))
    assert abs(ss.jz_variance - var) <= 1e-10 * max(1.0, var)
    assert abs(ss.checks["trace"] - 1) <= 1e-12 and ss.checks["positive"]


@pytest.mark.parametrize("N", [6, 12])
def test_dicke_route_equals_piqs(N):
    model = CollectivePumping(N, collective_emission=1.0, collective_pumping=1.3, emission=0.05,
                              dephasing=0.1)
    d, p = model.steadystate("dicke"), model.steadystate("piqs")
    # qutip.piqs builds its Liouvillian in single precision: agreement ~1e-7 relative
    assert abs(d.jz - p.jz) <= 1e-5 * max(1.0, abs(p.jz))
    assert abs(d.jz_variance - p.jz_variance) <= 1e-5 * max(1.0, p.jz_variance)


def test_dicke_route_needs_local_terms():
    with pytest.raises(ValueError, match="local emission or dephasing"):
        CollectivePumping(5, collective_emission=1.0, collective_pumping=0.5).steadystate("dicke")


def test_description_is_the_master_equation():
    """The description holds the class's numbers (the pump at t for w(t)) and its e_ops give
    the result fields; the dephasing is γ_φ D[σ⁺σ⁻] (= (γ_φ/4) D[σ_z], piqs)."""
    import qutip_superrad as qsr
    cp = CollectivePumping(3, collective_emission=0.8, collective_pumping=lambda t: 0.5 + t,
                           emission=0.2, dephasing=0.3)
    model = cp.description(t=0.25)
    assert model.parameters == dict(collective_emission=0.8, collective_pumping=0.75,
                                    emission=0.2, dephasing=0.3)
    assert model.N == 3 and model.symmetry == "U(1)"
    assert cp.description(t=0.0, w=2.0).parameters["collective_pumping"] == 2.0
    assert cp.description(t=1.0).symbolic is model.symbolic       # one template, re-bound
    with pytest.raises(ValueError, match="time t"):
        cp.description()
    # explicit form: the same c_ops as the independent tensor-space construction
    jz, var = _full_space(3, 0.8, 0.75, 0.2, 0.3)
    full = qsr.steadystate(model, "full", e_ops=cp.observables())
    assert abs(full.values["jz"] - jz) <= 1e-10 and abs(full.values["jz2"] - jz ** 2 - var) <= 1e-10
    ss = cp.steadystate("dicke", t=0.25)
    assert abs(ss.jz - jz) <= 1e-10 and abs(ss.jz_variance - var) <= 1e-10
    assert abs(ss.jplus_jminus - full.values["jpjm"]) <= 1e-10
    assert ss.pump == 0.75 and ss.method == "dicke" and ss.populations is None
    assert abs(ss.state.expect(cp.observables()["jz"]) - ss.jz) <= 1e-12
