"""Bad input to the engine's closure and solver: clear errors naming the culprit."""
import numpy as np
import pytest

from qutip_superrad.cumulant.engine import Atom, Clusters, Mode, Model, parameters


@pytest.fixture(scope="module")
def laser():
    a = Mode("a")
    kappa, G, R = parameters("kappa Gamma R")
    cl = Clusters("s", 2)
    t = cl.atom
    (g,) = cl.parameters("g")
    model = Model(cl.sum(g * (a.a * t.sp + a.adag * t.sm)),
                  [(kappa, a.a), (G, cl.each(t.sm)), (R, cl.each(t.sp))])
    return model.close(2, phase_charges={a: 1, cl: (0, 1)})


GOOD = dict(kappa=1.0, Gamma=0.1, R=0.5)


@pytest.mark.parametrize("params, clusters, match", [
    (dict(GOOD, kapa=1.0), {"N": [2.0], "g": [1.0]}, "unknown parameter 'kapa'"),
    (dict(kappa=1.0, Gamma=0.1), {"N": [2.0], "g": [1.0]}, "parameter 'R' is not given"),
    (dict(GOOD, R=float("nan")), {"N": [2.0], "g": [1.0]}, "R must be finite"),
    (GOOD, {"g": [1.0]}, "cluster sizes 'N'"),
    (GOOD, {"N": [0.0], "g": [1.0]}, r"clusters\['N'\] must be finite cluster sizes > 0"),
    (GOOD, {"N": [2.0, 3.0], "g": [1.0]}, r"clusters\['g'\] has 1 values, expected M=2"),
    (GOOD, {"N": [2.0], "g": [np.inf]}, r"clusters\['g'\] must be finite"),
    (GOOD, {"N": [2.0], "g": [1.0], "Delta": [0.0]}, "unknown per-cluster parameter 'Delta'"),
    # issue 12: a negative rate made the steady state integrate an exploding system forever
    (dict(GOOD, kappa=-2.0), {"N": [2.0], "g": [1.0]},
     "jump rate kappa evaluates to -2.0; rates must be real, finite and >= 0"),
])
def test_solver_rejects_bad_parameters(laser, params, clusters, match):
    with pytest.raises(ValueError, match=match):
        laser.solver(params, clusters)


def test_missing_per_cluster_parameter(laser):
    with pytest.raises(KeyError, match="per-cluster parameter 'g' is not bound"):
        laser.solver(GOOD, {"N": [2.0]})


def test_solver_options_and_states(laser):
    s = laser.solver(GOOD, {"N": [2.0], "g": [1.0]})
    with pytest.raises(ValueError, match="unknown option"):
        s.steadystate({"tolerance": 1e-3})
    with pytest.raises(ValueError, match="y0 must have"):
        s.evolve([0, 1], y0=np.zeros(3))
    with pytest.raises(ValueError, match="strictly increasing"):
        s.evolve([1, 0])
    with pytest.raises(ValueError, match="backend must be"):
        laser.solver(GOOD, {"N": [2.0], "g": [1.0]}, backend="fortran")
    with pytest.raises(KeyError, match="no family named"):
        s.initial_state({"a a": 1.0})


def test_model_input_errors():
    a = Mode("a")
    with pytest.raises(TypeError, match="H must be an Operator"):
        Model("a†a", [])
    with pytest.raises(ValueError, match="non-negative real"):
        Model(a.num(), [(-1.0, a.a)])
    with pytest.raises(TypeError, match="jump operator must be an Operator"):
        Model(a.num(), [(1.0, "a")])
    with pytest.raises(ValueError, match="order must be an integer >= 1"):
        Model(a.num(), [(1.0, a.a)]).close(1.5)
    at = Atom(1)
    with pytest.raises(ValueError, match="not a phase invariant|phase invariant"):
        Model(a.num(), [(1.0, a.a + at.sm * 0 + a.adag)]).close(2, phase_charges={a: 1})
    with pytest.raises(ValueError, match="needs concrete atoms"):
        cl = Clusters("s", 2)
        Model(cl.sum(cl.atom.sz), []).rhs(a.num())


def test_per_cluster_rates_are_checked_in_every_cluster():
    a = Mode("a")
    (kappa,) = parameters("kappa")
    cl = Clusters("s", 2)
    t = cl.atom
    g, G = cl.parameters("g G")
    model = Model(cl.sum(g * (a.a * t.sp + a.adag * t.sm)), [(kappa, a.a), (G, cl.each(t.sp))])
    with pytest.raises(ValueError, match="jump rate G evaluates to -1.0 in cluster 1"):
        model.close(2).solver({"kappa": 1.0}, {"N": [1.0, 2.0], "g": [1.0, 1.0],
                                               "G": [1.0, -1.0]})


def test_integration_stops_at_max_time_with_diagnostics(laser):
    sol = laser.solver(GOOD, {"N": [2.0], "g": [1.0]})
    with pytest.raises(RuntimeError, match=r"exceeded max_time = 0.2 s at t = .* right-hand sides"):
        sol.evolve([0.0, 1e9], options={"max_time": 0.2})
    with pytest.raises(ValueError, match="max_time must be > 0"):
        sol.evolve([0.0, 1.0], options={"max_time": -1.0})
    with pytest.raises(RuntimeError, match="steady state exceeded max_time|exceeded max_time"):
        sol.steadystate({"max_time": 1e-3, "t_max": 1e9})


def test_parameters_must_be_dicts(laser):
    with pytest.raises(TypeError, match=r"params must be a dict \{name: value\}, got list"):
        laser.solver([1, 2, 3, 4])
    with pytest.raises(TypeError, match="clusters must be a dict"):
        laser.solver(GOOD, [2.0])


def test_non_hermitian_hamiltonian_is_refused_unless_asked():
    # issue 12: g a† σ⁻ alone was accepted and gave unphysical equations
    a = Mode("a")
    cl = Clusters("s", 2)
    (g,) = cl.parameters("g")
    with pytest.raises(ValueError, match="H is not Hermitian"):
        Model(cl.sum(g * a.adag * cl.atom.sm), [])
    with pytest.raises(ValueError, match="H is not Hermitian"):
        Model(1j * a.num() + Atom(1).sz, [])
    Model(cl.sum(g * a.adag * cl.atom.sm), [], check_hermitian=False)   # on purpose
    Model(cl.sum(cl.atom.sp) * cl.sum(cl.atom.sm), [])                  # J⁺J⁻ is Hermitian


def test_spectrum_reference_frame_is_validated(laser):
    sol = laser.solver(GOOD, {"N": [2.0], "g": [1.0]})
    w = np.linspace(-1, 1, 11)
    with pytest.raises(ValueError, match="'reference' must be a dict with keys 'rate' and 'charges'"):
        sol.spectrum(w, {"reference": {"rate": 0.1}})
    with pytest.raises(ValueError, match="reference rate 'nu' is not a parameter of the model"):
        sol.spectrum(w, {"reference": {"rate": "nu", "charges": {}}})
    with pytest.raises(ValueError, match="reference rate must be >= 0"):
        sol.spectrum(w, {"reference": {"rate": -1.0, "charges": {}}})


def test_numeric_rates_without_named_parameters_converge():
    """Regression: a model whose rates are plain numbers (no named parameters) had a rate
    scale of 1e-300, so no steady state could meet its tolerance.  The same model with a
    named pump must give the same steady state (to 1e-10)."""
    import qutip_superrad as qsr
    atoms = [qsr.Atom(f"d{i}", 2) for i in range(3)]
    H = 0.5 * atoms[0].sz + 0.3 * (atoms[0].sp * atoms[1].sm + atoms[1].sp * atoms[0].sm)
    F = [[1, 0.5, 0.2], [0.5, 1, 0.5], [0.2, 0.5, 1]]
    plain = qsr.Model(H, qsr.correlated_decay(atoms, F) + [(2.0, a.sp) for a in atoms])
    W = qsr.parameter("W")
    named = qsr.Model(H, qsr.correlated_decay(atoms, F) + [(W, a.sp) for a in atoms],
                      parameters=dict(W=2.0))
    e = {"z": atoms[0].sz, "c": atoms[0].sp * atoms[2].sm}
    a = qsr.steadystate(plain, "cumulant", e_ops=e).values
    b = qsr.steadystate(named, "cumulant", e_ops=e).values
    for k in e:
        assert abs(a[k] - b[k]) < 1e-10
