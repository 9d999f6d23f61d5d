"""Parameter grids in one call (issue 16 item 5): steadystate_grid / evolve_grid.

Grid results must equal point-by-point ``steadystate()`` / ``evolve()`` on fresh
solvers to the solver tolerance (steady states: 1e-8 relative, Newton's residual
is 1e-10 of the rates; evolutions: same integrator, 1e-12); continuation from the
neighbour must cost fewer Newton iterations than solving every point from scratch
(recorded counts); bad grids are refused before any work.
"""
import io

import numpy as np
import pytest

from qutip_superrad.cumulant.engine import grid as grid_mod

from engine_models import cluster_laser, engine_params, filtered_laser, vlevel_laser
from vlevel_laser import SMALL_N_LASER

SCAL = dict(kappa=20.0, Gamma=0.1, R=2.0, nu=0.1, xi=0.2, dc=0.4)
GRID = {"R": [1.0, 2.0, 3.0], "kappa": [15.0, 20.0, 25.0, 30.0]}


@pytest.fixture(scope="module")
def laser():
    a, cl, model = cluster_laser()
    system = model.close(2, phase_charges={a: 1, cl: (0, 1)})
    rng = np.random.default_rng(4)
    clusters = dict(N=rng.integers(5, 50, 3).astype(float), Delta=0.3 * rng.normal(size=3),
                    g=rng.uniform(0.5, 1.5, 3))
    return system, clusters


def _fresh(system, clusters, point):
    return system.solver(dict(SCAL, **point), clusters)


def test_snake_order_visits_neighbours():
    order = grid_mod.snake_order((3, 4, 2))
    assert sorted(order) == list(np.ndindex(3, 4, 2))
    assert all(sum(abs(a - b) for a, b in zip(p, q)) == 1 for p, q in zip(order, order[1:]))


def test_steadystate_grid_equals_points(laser):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    g = sol.steadystate_grid(GRID)
    assert g.shape == (3, 4) and g.complete and np.all(g.status == "ok")
    n, p = g["a† a"], g["s22[i0]"]
    assert p.shape == (3, 4, 3)
    for i, R in enumerate(GRID["R"]):
        for j, kappa in enumerate(GRID["kappa"]):
            ss = _fresh(system, clusters, {"R": R, "kappa": kappa}).steadystate()
            assert abs(n[i, j] - ss["a† a"]) < 1e-8 * abs(ss["a† a"])
            assert np.max(np.abs(p[i, j] - ss["s22[i0]"])) < 1e-8
    assert sol.params == SCAL                             # the solver's own values are back
    assert abs(sol.steadystate()["a† a"] - n[1, 1]) < 1e-8 * abs(n[1, 1])


def test_continuation_reduces_newton_iterations(laser):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    cont = sol.steadystate_grid(GRID)
    scratch = sol.steadystate_grid(GRID, {"continuation": False})
    assert cont.continued.sum() == cont.continued.size - 1 and not cont.continued[0, 0]
    assert not scratch.continued.any()
    assert np.all(cont.newton_iterations >= 0) and np.all(scratch.newton_iterations > 0)
    # every continued point needs fewer iterations than the same point from scratch
    assert np.all(cont.newton_iterations[cont.continued] < scratch.newton_iterations[cont.continued])
    assert np.max(np.abs(cont["a† a"] - scratch["a† a"])) < 1e-8 * np.max(np.abs(scratch["a† a"]))


def test_vlevel_grid_equals_points():
    a, cl, m = vlevel_laser()
    system = m.close(2)
    P = engine_params(SMALL_N_LASER)
    sol = system.solver(P, {"N": [3.0]})
    grid = {"Omega_2": [0.5 * P["Omega_2"], P["Omega_2"]], "kappa": [P["kappa"], 2 * P["kappa"]]}
    g = sol.steadystate_grid(grid)
    for idx in np.ndindex(*g.shape):
        ss = system.solver(dict(P, **g.point(idx)), {"N": [3.0]}).steadystate()
        assert abs(g["a† a"][idx] - ss["a† a"]) < 1e-8 * abs(ss["a† a"])


def test_rebinding_cluster_values_equals_a_fresh_solver(laser):
    """Cluster sizes and per-cluster parameters are coefficients too: rebinding them (same
    M, what the sweeps' grid path does for N) gives the fresh solver's right-hand side and
    steady state; another M or a bad size is refused."""
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    other = dict(N=np.array([7.0, 30.0, 12.0]), Delta=np.array([0.1, -0.2, 0.0]),
                 g=np.array([1.0, 0.7, 1.3]))
    sol._bind(dict(SCAL, R=3.0), other)
    fresh = system.solver(dict(SCAL, R=3.0), other)
    y = np.random.default_rng(1).normal(size=sol.n) * (1 + 1j)
    assert np.max(np.abs(sol.derivative(y) - fresh.derivative(y))) < 1e-12
    a, b = sol.steadystate()["a† a"], fresh.steadystate()["a† a"]
    assert abs(a - b) < 1e-10 * abs(b)
    with pytest.raises(ValueError, match="M = 3 clusters"):
        sol._bind(SCAL, {"N": [1.0, 2.0]})
    with pytest.raises(ValueError, match="cluster sizes > 0"):
        sol._bind(SCAL, {"N": [1.0, 0.0, 2.0]})
    with pytest.raises(ValueError, match="unknown per-cluster parameter"):
        sol._bind(SCAL, {"kappa": [1.0, 1.0, 2.0]})


def test_rebinding_values_of_several_index_sets_equals_a_fresh_solver():
    """With several index sets (clusters of atoms and a Modes family of filter cavities)
    every family's per-index values are coefficients too: rebinding them (what the sweeps'
    grid path does for a model with Modes) gives the fresh solver's right-hand side and
    steady state; values of one family alone are merged; another size is refused."""
    model, charges = filtered_laser()
    system = model.close(2, phase_charges=charges)
    scal = dict(kappa=2.0, G=0.1, R=1.5, g=0.3)
    first = {"s": {"N": [3.0, 4.0], "Delta": [0.1, -0.2]},
             "b": {"Db": [0.2, -0.5, 1.0], "h": [0.4, 0.7, 0.3], "kb": [0.5, 1.0, 2.0]}}
    other = {"s": {"N": [5.0, 2.0], "Delta": [0.0, 0.3]},     # "M": as Bound passes it
             "b": {"M": 3, "Db": [0.1, 0.0, -0.4], "h": [0.5, 0.2, 0.6], "kb": [1.0, 0.7, 1.5]}}
    sol = system.solver(scal, first)
    assert sol.M == {"s": 2, "b": 3}
    sol._bind(dict(scal, R=2.5), other)
    fresh = system.solver(dict(scal, R=2.5), other)
    y = np.random.default_rng(2).normal(size=sol.n) * (1 + 1j)
    assert np.max(np.abs(sol.derivative(y) - fresh.derivative(y))) < 1e-12
    a, b = sol.steadystate()["a† a"], fresh.steadystate()["a† a"]
    assert abs(a - b) < 1e-10 * abs(b) and abs(b) > 1e-3
    sol._bind(scal, {"b": {"kb": [2.0, 2.0, 2.0]}})
    assert sol.clusters["s"]["N"].tolist() == [5.0, 2.0]
    assert sol.clusters["b"]["kb"].tolist() == [2.0] * 3
    with pytest.raises(ValueError, match=r"clusters\['b'\]\['Db'\] has 2 values; the solver "
                                         r"has M = 3 indices"):
        sol._bind(scal, {"b": {"Db": [0.0, 1.0]}})
    with pytest.raises(ValueError, match=r"clusters: unknown families \['x'\]"):
        sol._bind(scal, {"x": {}})
    with pytest.raises(ValueError, match="cluster sizes > 0"):
        sol._bind(scal, {"s": {"N": [1.0, 0.0]}})
    with pytest.raises(ValueError, match=r"unknown per-index parameter 'Delta' of 'b'"):
        sol._bind(scal, {"b": {"Delta": [0.0, 1.0, 2.0]}})
    with pytest.raises(ValueError, match=r"evaluates to -1.0 in cluster 1"):
        sol._bind(scal, {"b": {"kb": [1.0, -1.0, 1.0]}})
    assert sol.clusters["b"]["kb"].tolist() == [2.0] * 3           # a refused rebind keeps


def test_evolve_grid_equals_points(laser):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    t = np.linspace(0, 2, 5)
    g = sol.evolve_grid(t, {"R": [1.0, 3.0], "Gamma": [0.1, 0.5]})
    assert g["a† a"].shape == (2, 2, 5)
    for idx in np.ndindex(2, 2):
        ev = _fresh(system, clusters, g.point(idx)).evolve(t)
        assert np.max(np.abs(g["a† a"][idx] - ev["a† a"])) < 1e-12 * np.max(np.abs(ev["a† a"]))


def test_failed_point_is_recorded(laser):
    """R = 1e-13 (below 1e-9 of the largest rate) is refused by steadystate(); the grid
    records it and goes on."""
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    g = sol.steadystate_grid({"R": [2.0, 1e-13, 3.0]})
    assert list(g.status) == ["ok", "failed", "ok"]
    assert "R" in g.errors[(1,)] and np.isnan(g["a† a"][1])
    with pytest.raises(RuntimeError, match="1 of 3 points failed"):
        g.raise_if_incomplete()


def test_progress_bar(laser, monkeypatch):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    sol.steadystate_grid({"R": [1.0, 2.0]}, {"progress_bar": "text"})
    assert "steadystate_grid" in err.getvalue() and "100.0%" in err.getvalue()
    with pytest.raises(ValueError, match="progress_bar"):
        sol.steadystate_grid({"R": [1.0]}, {"progress_bar": "fancy"})


@pytest.mark.parametrize("grid, match", [
    ({"Rr": [1.0]}, "unknown parameter 'Rr'"),
    ({"R": [1.0, np.nan]}, r"params_grid\['R'\] must be finite"),
    ({"kappa": [1.0, -1.0]}, "kappa"),
    ({"R": []}, r"params_grid\['R'\] must be a non-empty"),
    ({"R": [[1.0]]}, r"params_grid\['R'\] must be a non-empty 1-D"),
    ({"R": ["x"]}, r"params_grid\['R'\] must be real"),
    ({"g": [1.0]}, "unknown parameter 'g'"),
])
def test_bad_grids_refused_before_work(laser, monkeypatch, grid, match):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)

    def boom(*a, **k):
        raise AssertionError("work started before validation")
    monkeypatch.setattr(sol, "steadystate", boom)
    monkeypatch.setattr(sol, "evolve", boom)
    with pytest.raises(ValueError, match=match):
        sol.steadystate_grid(grid)
    with pytest.raises(ValueError, match=match):
        sol.evolve_grid([0.0, 1.0], grid)
    assert sol.params == SCAL


def test_bad_options_refused(laser):
    system, clusters = laser
    sol = system.solver(SCAL, clusters)
    with pytest.raises(ValueError, match="contination"):
        sol.steadystate_grid({"R": [1.0]}, {"contination": False})
    with pytest.raises(TypeError, match="continuation"):
        sol.steadystate_grid({"R": [1.0]}, {"continuation": "yes"})
    with pytest.raises(TypeError, match="params_grid"):
        sol.steadystate_grid([("R", [1.0])])
