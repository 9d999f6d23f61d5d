"""Sweeps: QuTiP's maps, the SQLite store, resume after SIGKILL, MPI, bad input."""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import examples
from qutip_superrad.sweeps import point_seed
from qutip_superrad.models.registry import MODELS, registered


def _noisy(x, y, seed):
    """A cheap stochastic point: deterministic given its seed."""
    return {"f": x * y + np.random.default_rng(seed).normal(), "g": complex(x, y)}


def _fails_at_two(x):
    if x == 2:
        raise RuntimeError("boom at x=2")
    return x ** 2


def _sleeps(x):
    if x == 1:
        time.sleep(30)
    return float(x)


# -- physics through the sweep ----------------------------------------------------------
def test_laser_sweep_equals_direct_solves():
    """Each point is exactly the direct steady state (same code path, no tolerance)."""
    res = qsr.sweep("laser", {"pumping": [0.5, 2.0], "N": [2, 3]}, progress_bar=False)
    assert res.complete and res.shape == (2, 2)
    for i, R in enumerate([0.5, 2.0]):
        for j, N in enumerate([2, 3]):
            direct = registered("laser").factory(N=N, pumping=R).steadystate("dicke", nphot=10)
            assert res["photon_number"][i, j] == direct.photon_number
            assert res["g2"][i, j] == direct.g2
    # more pumping, more photons (below the second threshold at R ~ N g²/κ)
    assert np.all(np.diff(res["photon_number"], axis=0) > 0)


def test_method_axis_cross_validates_full_against_dicke():
    """Exact vs exact over a method axis: full tensor space and Dicke basis agree to 1e-8
    (both are exact; the tolerance is the steady-state solvers' residual)."""
    task = qsr.SweepTask("laser", fixed={"pumping": 1.0}, call_kwargs={"nphot": 6})
    res = qsr.sweep(task, {"N": [2, 3], "method": ["full", "dicke"]}, progress_bar=False)
    n = res["photon_number"]
    assert res.dims == ("N", "method")
    np.testing.assert_allclose(n[:, 0], n[:, 1], rtol=1e-8)
    np.testing.assert_allclose(res["g2"][:, 0], res["g2"][:, 1], rtol=1e-7)


def test_model_description_sweep_matches_direct():
    """A user Model: axes are its parameters, observables its e_ops."""
    model, ops = examples.driven_dicke(N=4, rabi=1.0, collective_emission=0.5, dephasing=0.1)
    task = qsr.SweepTask(model, "dicke", observables={"Jz": ops["Jz"]})
    res = qsr.sweep(task, {"rabi": [0.2, 1.0, 3.0]}, progress_bar=False)
    for rabi, jz in zip([0.2, 1.0, 3.0], res["Jz"]):
        direct = qsr.steadystate(model.with_values(rabi=rabi), "dicke", e_ops={"Jz": ops["Jz"]})
        assert jz == pytest.approx(float(np.real(direct.values["Jz"])), abs=1e-12)
    # strong drive saturates towards <Jz> = 0 from below
    assert res["Jz"][0] < res["Jz"][2] < 0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_sweeps(name):
    """Two points of every registered model at cheap sizes, default method and observables."""
    small = {"laser": {"N": 2}, "laser-gaussian": {"N": 1000.0, "n_clusters": 5},
             "bad-cavity": {"N": 3}, "collective-pumping": {"N": 4}, "dipoles": {"N": 4},
             "vlevel": {"N": 1000.0}, "spin-cats": {"N": 4}}[name]
    entry = registered(name)
    axis = next(k for k in ("pumping", "collective_pumping", "kappa", "eta")
                if k in entry.parameters)
    base = entry.defaults[axis]
    res = qsr.sweep(qsr.SweepTask(name, fixed=small), {axis: [base, 2 * base]},
                    progress_bar=False)
    assert res.complete, res.failed
    assert res.observables == list(entry.observables)
    for o in res.observables:
        assert np.all(np.isfinite(res[o]))


def test_registered_exact_options_reach_only_the_exact_methods():
    """The laser's nphot (an exact option) is not passed to its cumulant method (which
    refused it); the numbers are those of the class, and spin cats sweep over eta."""
    res = qsr.sweep(qsr.SweepTask("laser", "cumulant", fixed={"N": 3}),
                    {"pumping": [1.0, 2.0]}, progress_bar=False)
    assert res.complete, res.failed
    for R, n in zip([1.0, 2.0], res["photon_number"]):
        laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(3, g=1.0), kappa=10.0,
                                      emission=0.1, pumping=R)
        assert n == pytest.approx(laser.steadystate("cumulant").photon_number, rel=1e-12)
    assert registered("laser").kwargs_for("dicke") == {"nphot": 10}
    assert registered("laser").kwargs_for("cumulant") == {}
    cats = qsr.sweep(qsr.SweepTask("spin-cats", fixed={"N": 4}), {"eta": [0.2, 0.5]},
                     progress_bar=False)
    for eta, sz in zip([0.2, 0.5], cats["Sz"]):
        assert sz == pytest.approx(qsr.TwoBodyLossSpins(4, eta).steadystate().values["Sz"],
                                   rel=1e-12)


# -- maps ---------------------------------------------------------------------------------
@pytest.mark.parametrize("map_name", ["parallel", "loky"])
def test_parallel_maps_identical_to_serial(map_name):
    grid = {"x": [1.0, 2.0, 3.0], "y": [0.5, -1.0]}
    serial = qsr.sweep(_noisy, grid, progress_bar=False)
    par = qsr.sweep(_noisy, grid, map=map_name, map_kw={"num_cpus": 2}, progress_bar=False)
    assert np.array_equal(serial["f"], par["f"]) and np.array_equal(serial["g"], par["g"])
    assert len({r["host"] for r in par.records}) == 2        # really two workers


def test_seeds_depend_on_the_point_only():
    a = point_seed(7, {"x": 1.0, "y": 2.0})
    assert a == point_seed(7, {"y": 2.0, "x": 1.0}) != point_seed(8, {"x": 1.0, "y": 2.0})
    one = qsr.sweep(_noisy, {"x": [1.0, 2.0], "y": [3.0]}, progress_bar=False)
    rev = qsr.sweep(_noisy, [{"x": 2.0, "y": 3.0}, {"x": 1.0, "y": 3.0}], progress_bar=False)
    assert one["f"][1, 0] == rev["f"][0] and one["f"][0, 0] == rev["f"][1]
    other = qsr.sweep(_noisy, {"x": [1.0, 2.0], "y": [3.0]}, seed=1, progress_bar=False)
    assert not np.array_equal(one["f"], other["f"])


MPI_SCRIPT = """
import numpy as np, qutip_superrad as qsr
def f(x, y, seed):
    return {"f": x * y + np.random.default_rng(seed).normal()}
if __name__ == "__main__":
    grid = {"x": [1.0, 2.0, 3.0], "y": [0.5, 1.5]}
    r = qsr.sweep(f, grid, map="mpi", map_kw={"num_cpus": 2}, progress_bar=False)
    s = qsr.sweep(f, grid, progress_bar=False)
    print("RESULT", r.complete, bool(np.array_equal(r["f"], s["f"])),
          len({rec["host"] for rec in r.records}))
"""


def _checkout_env():
    """Environment of a child Python that imports this checkout, whatever is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1])]
                                        + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                           if p])
    return env


def _mpiexec():
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def test_mpi_two_ranks_identical_to_serial(tmp_path):
    """Two MPI worker ranks (mpich from the test extra), results identical to serial."""
    pytest.importorskip("mpi4py")
    mpiexec = _mpiexec()
    assert mpiexec, "mpiexec not found: install the test extra (mpich wheel)"
    script = tmp_path / "mpi_sweep.py"
    script.write_text(MPI_SCRIPT)
    out = subprocess.run([mpiexec, "-n", "3", sys.executable, "-m", "mpi4py.futures",
                          str(script)], capture_output=True, text=True, timeout=300,
                         env=_checkout_env())
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT"))
    assert line.split()[1:] == ["True", "True", "2"]


# -- the store -----------------------------------------------------------------------------
def test_store_resumes_without_recomputing(tmp_path):
    path = tmp_path / "run.sqlite"
    grid = {"x": [1.0, 2.0], "y": [1.0, 2.0, 3.0]}
    first = qsr.sweep(_noisy, {"x": [1.0], "y": [1.0, 2.0, 3.0]}, store=path, progress_bar=False)
    stamps = {r["key"]: r["finished"] for r in first.records}
    full = qsr.sweep(_noisy, grid, store=path, progress_bar=False)   # grid extended
    assert full.complete and full.shape == (2, 3)
    for r in full.records:
        if r["key"] in stamps:
            assert r["finished"] == stamps[r["key"]]                    # not recomputed
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM points").fetchone() == (6, 6)
    con.close()
    loaded = qsr.load_sweep(path)
    assert np.array_equal(loaded["f"], full["f"]) and np.array_equal(loaded["g"], full["g"])
    assert loaded["g"].dtype == complex


def test_store_refuses_another_task_and_overwrite(tmp_path):
    path = tmp_path / "run.sqlite"
    qsr.sweep(_noisy, {"x": [1.0], "y": [1.0]}, store=path, progress_bar=False)
    with pytest.raises(ValueError, match="belongs to another task.*seed"):
        qsr.sweep(_noisy, {"x": [1.0], "y": [1.0]}, store=path, seed=3, progress_bar=False)
    with pytest.raises(ValueError, match="belongs to another task"):
        qsr.sweep(qsr.SweepTask("laser", fixed={"N": 2}), {"pumping": [1.0]}, store=path,
                  progress_bar=False)
    with pytest.raises(ValueError, match="exists; pass resume=True"):
        qsr.sweep(_noisy, {"x": [1.0], "y": [1.0]}, store=path, resume=False,
                  progress_bar=False)


KILL_TASK = """
import time
import numpy as np
def point(x, seed):
    time.sleep(0.02)
    return {"f": x + np.random.default_rng(seed).normal()}
"""
KILL_RUN = """
import sys
sys.path.insert(0, {dir!r})
import numpy as np, qutip_superrad as qsr
from killtask import point
qsr.sweep(point, {{"x": list(np.arange(200.0))}}, store=sys.argv[1], progress_bar=False)
"""


def test_sigkill_then_resume_gives_every_point_once(tmp_path):
    """Kill a 200-point sweep mid-way, resume: each point exactly once, results identical
    to an uninterrupted run, and the database intact."""
    (tmp_path / "killtask.py").write_text(KILL_TASK)
    run = tmp_path / "run.py"
    run.write_text(KILL_RUN.format(dir=str(tmp_path)))
    killed, clean = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite"
    proc = subprocess.Popen([sys.executable, str(run), str(killed)], env=_checkout_env())
    try:
        t0 = time.time()
        while time.time() - t0 < 120:
            time.sleep(0.2)
            if killed.exists():
                try:
                    con = sqlite3.connect(killed, timeout=5)
                    n = con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
                    con.close()
                except sqlite3.OperationalError:
                    continue
                if n >= 30:
                    break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    con = sqlite3.connect(killed)
    n_before = con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
    con.close()
    assert 30 <= n_before < 200
    for path in (killed, clean):                       # resume, and an uninterrupted run
        assert subprocess.run([sys.executable, str(run), str(path)], timeout=300,
                              env=_checkout_env()).returncode == 0
    a, b = qsr.load_sweep(killed), qsr.load_sweep(clean)     # reading needs no task
    assert a.complete and b.complete and len(a) == 200
    assert np.array_equal(a["f"], b["f"])
    con = sqlite3.connect(killed)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM points").fetchone() == (200, 200)
    con.close()


# -- failures --------------------------------------------------------------------------------
def test_failed_point_recorded_and_sweep_goes_on(tmp_path):
    res = qsr.sweep(_fails_at_two, {"x": [1, 2, 3]}, store=tmp_path / "s.sqlite",
                    progress_bar=False)
    assert res.status.tolist() == ["ok", "error", "ok"]
    assert res.failed[0]["error"] == "RuntimeError: boom at x=2"
    assert np.isnan(res["value"][1]) and res["value"][2] == 9
    with pytest.raises(qsr.SweepError, match="boom at x=2"):
        qsr.sweep(_fails_at_two, {"x": [1, 2, 3]}, map_kw={"fail_fast": True},
                  progress_bar=False)
    # retried on request only
    again = qsr.sweep(_fails_at_two, {"x": [1, 2, 3]}, store=tmp_path / "s.sqlite",
                      progress_bar=False)
    assert again.failed[0]["finished"] == res.failed[0]["finished"]
    retried = qsr.sweep(_fails_at_two, {"x": [1, 2, 3]}, store=tmp_path / "s.sqlite",
                        retry_failed=True, progress_bar=False)
    assert retried.failed[0]["finished"] > res.failed[0]["finished"]


@pytest.mark.parametrize("map_name", ["serial", "parallel"])
def test_hanging_point_recorded_as_timeout(map_name):
    t0 = time.time()
    res = qsr.sweep(_sleeps, {"x": [0, 1, 2]}, map=map_name,
                    map_kw={"point_timeout": 1.0, "num_cpus": 2}, progress_bar=False)
    assert time.time() - t0 < 15
    assert res.status.tolist() == ["ok", "timeout", "ok"]
    assert "point_timeout" in res.failed[0]["error"]


def test_sweep_timeout_leaves_points_for_resume(tmp_path):
    path = tmp_path / "t.sqlite"
    res = qsr.sweep(_sleeps, {"x": [0, 1, 2]}, store=path, map_kw={"timeout": 1.0},
                    progress_bar=False)
    assert res.status.tolist() == ["ok", "missing", "missing"]   # interrupted, not failed


# -- results --------------------------------------------------------------------------------
def test_xarray_netcdf_dataframe_plot(tmp_path):
    xr = pytest.importorskip("xarray")
    res = qsr.sweep(_noisy, {"x": [1.0, 2.0, 3.0], "y": [0.5, 1.5]}, progress_bar=False)
    ds = res.to_xarray()
    assert ds["f"].dims == ("x", "y") and list(ds["x"].values) == [1.0, 2.0, 3.0]
    assert float(ds["f"].sel(x=2.0, y=1.5)) == res["f"][1, 1]
    path = res.to_netcdf(tmp_path / "r.nc")
    back = xr.open_dataset(path)
    np.testing.assert_array_equal(back["g_imag"].values, res["g"].imag)
    back.close()
    df = res.to_dataframe()
    assert len(df) == 6 and set(df.columns) >= {"x", "y", "f", "status", "wall_time"}
    import matplotlib
    matplotlib.use("Agg")
    ax = res.plot("f")
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"
    assert ax.figure.axes[-1].get_ylabel() == "f"                 # the colour bar
    ax1 = qsr.sweep(_fails_at_two, {"x": [1, 2, 3]}, progress_bar=False).plot()
    assert ax1.get_xlabel() == "x" and any(t.get_text() == "failed / missing"
                                           for t in ax1.get_legend().get_texts())


def test_real_observables_are_real_and_scalars_scalar():
    res = qsr.sweep(qsr.SweepTask("dipoles", fixed={"N": 4}), {"pumping": [1.0]},
                    progress_bar=False)
    rec = res.records[0]["values"]
    assert all(isinstance(v, float) for v in rec.values()), rec


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("grid, exc, match", [
    ({}, ValueError, "at least one axis"),
    ({"pumping": []}, ValueError, "axis 'pumping' is empty"),
    ({"pumping": ["a"]}, TypeError, "axis 'pumping': values must be numbers"),
    ({"pumping": [1.0, float("nan")]}, ValueError, "finite"),
    ({"pumping": [1.0, 1.0]}, ValueError, "repeats"),
    ({"pump": [1.0]}, ValueError, "'pump' is not a parameter of laser; valid axes: N, coupling"),
    ([], ValueError, "list of points is empty"),
    ([{"N": 2}, {"pumping": 1.0}], ValueError, "point 1 sets"),
    (3, TypeError, "grid must be a dict"),
])
def test_bad_grids(grid, exc, match):
    with pytest.raises(exc, match=match):
        qsr.sweep("laser", grid, progress_bar=False)


def test_bad_options(tmp_path):
    with pytest.raises(ValueError, match="directory .*missing.* does not exist"):
        qsr.sweep("laser", {"N": [2]}, store=tmp_path / "missing" / "s.sqlite")
    with pytest.raises(ValueError, match="map must be one of serial, parallel, loky, mpi"):
        qsr.sweep("laser", {"N": [2]}, map="dask")
    with pytest.raises(ValueError, match=r"map_kw: unknown keys \['cpus'\]"):
        qsr.sweep("laser", {"N": [2]}, map_kw={"cpus": 2})
    with pytest.raises(ValueError, match="point_timeout.*positive"):
        qsr.sweep("laser", {"N": [2]}, map_kw={"point_timeout": -1})
    with pytest.raises(ValueError, match="progress_bar must be"):
        qsr.sweep("laser", {"N": [2]}, progress_bar="fancy")
    with pytest.raises(ValueError, match="model 'lasr' is not registered; known models: bad-cavity"):
        qsr.sweep("lasr", {"N": [2]})
    with pytest.raises(ValueError, match="fixed: \\['pump'\\] are not parameters"):
        qsr.SweepTask("laser", fixed={"pump": 1.0})
    model, ops = examples.driven_dicke(N=2, rabi=1.0, collective_emission=0.5)
    with pytest.raises(TypeError, match="a Model needs observables"):
        qsr.sweep(model, {"rabi": [1.0]})
    bad_obs = qsr.sweep(qsr.SweepTask("laser", observables=["photons"], fixed={"N": 2}),
                        {"pumping": [1.0]}, progress_bar=False)
    assert bad_obs.failed[0]["error"].startswith("ValueError: observable 'photons' not found")
    assert "photon_number" in bad_obs.failed[0]["error"]
    (tmp_path / "junk.sqlite").write_text("not a database at all" * 100)
    with pytest.raises(ValueError, match="not a sweep store"):
        qsr.sweep("laser", {"N": [2]}, store=tmp_path / "junk.sqlite")


def test_warnings_of_a_point_are_recorded_and_marked():
    """A truncated photon space warns inside the worker: the record keeps it, the plot marks it."""
    res = qsr.sweep(qsr.SweepTask("laser", fixed={"N": 6}, call_kwargs={"nphot": 4}),
                    {"pumping": [0.001, 3.0]}, progress_bar=False)
    assert res.status.tolist() == ["ok", "ok"]
    assert not res.records[0]["warnings"]                    # almost no photons: fine
    assert any("truncated" in w for w in res.records[1]["warnings"])
    import matplotlib
    matplotlib.use("Agg")
    ax = res.plot("photon_number")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["warning"]


def test_trajectory_points_seeded_from_the_master_seed():
    """Quantum trajectories: parallel and serial sweeps draw the same records; another
    master seed draws others; the mean is within 5 standard errors of the exact value."""
    model, ops = examples.driven_dicke(N=2, rabi=1.0, collective_emission=1.0)
    task = qsr.SweepTask(model, "trajectories", call="evolve", args=([0.0, 1.0],),
                         observables={"Jz": ops["Jz"]}, call_kwargs={"options": {"ntraj": 40}})
    grid = {"rabi": [0.5, 2.0]}
    a = qsr.sweep(task, grid, progress_bar=False)
    b = qsr.sweep(task, grid, map="parallel", map_kw={"num_cpus": 2}, progress_bar=False)
    c = qsr.sweep(task, grid, seed=5, progress_bar=False)
    assert a["Jz"].shape == (2, 2) and np.array_equal(a["Jz"], b["Jz"])
    assert not np.array_equal(a["Jz"], c["Jz"])
    for rabi, jz in zip([0.5, 2.0], a["Jz"][:, 1]):
        exact = qsr.evolve(model.with_values(rabi=rabi), [0.0, 1.0], "full",
                           e_ops={"Jz": ops["Jz"]}).values["Jz"][1]
        # Jz of 2 spins is bounded by 1: standard error <= 1/sqrt(40)
        assert abs(jz - np.real(exact)) < 5 / np.sqrt(40)


# -- the grid path (issue 16 item 5): one bound cumulant solver, continuation -----------------
def _cluster_laser_task(call="steadystate", **kw):
    """Three clusters of a detuned laser (generated C, 10 equations), two observables."""
    model, ops = examples.superradiant_laser(
        N=[10.0, 20.0, 30.0], coupling=1.0, kappa=20.0, emission=0.1, pumping=2.0,
        dephasing=0.1, detuning=[-0.3, 0.0, 0.4])
    return qsr.SweepTask(model, "cumulant", call=call,
                         observables={"n": ops["photon_number"], "e": ops["excited"]}, **kw)


GRID_2D = {"pumping": [0.5, 1.0, 2.0, 3.0], "kappa": [10.0, 20.0, 30.0]}


def _rel(a, b):
    return float(np.max(np.abs(a - b) / np.abs(b)))


def test_grid_path_equals_point_path():
    """The grid path (one bound solver, Newton continued from the neighbour) gives the
    per-point steady states to the solver's tolerance, and says it was taken."""
    task = _cluster_laser_task()
    grid = qsr.sweep(task, GRID_2D, progress_bar=False)
    point = qsr.sweep(task, GRID_2D, progress_bar=False, path="point")
    assert grid.complete and point.complete
    assert np.all(grid.paths == "grid") and np.all(point.paths == "point")
    for name in ("n", "e"):
        assert _rel(grid[name], point[name]) <= 1e-10
    # snake order: only the first point starts from scratch, the others continue
    continued = [r["path"]["continued"] for r in grid.records]
    assert continued.count(False) == 1 and continued[0] is False
    assert grid.to_dataframe()["path"].eq("grid").all()
    # and the per-point path is qsr.steadystate itself
    model = task.model.with_values(pumping=3.0, kappa=30.0)
    direct = qsr.steadystate(model, "cumulant", e_ops=task.observables)
    assert point["n"][-1, -1] == direct.values["n"].real


def test_grid_path_evolve_and_meanfield():
    t = np.linspace(0.0, 2.0, 5)
    task = _cluster_laser_task("evolve", args=(t,), call_kwargs={"initial": "excited"})
    grid = qsr.sweep(task, {"pumping": [1.0, 2.0], "kappa": [10.0, 20.0]}, progress_bar=False)
    point = qsr.sweep(task, {"pumping": [1.0, 2.0], "kappa": [10.0, 20.0]},
                      progress_bar=False, path="point")
    assert np.all(grid.paths == "grid") and grid["n"].shape == (2, 2, 5)
    assert _rel(grid["e"], point["e"]) <= 1e-10
    model, ops = examples.driven_dicke(N=10, rabi=1.0, collective_emission=0.5, dephasing=0.2)
    mf = qsr.SweepTask(model, "meanfield", observables={"Jz": ops["Jz"]})
    g = qsr.sweep(mf, {"rabi": [0.5, 1.0, 2.0]}, progress_bar=False)
    p = qsr.sweep(mf, {"rabi": [0.5, 1.0, 2.0]}, progress_bar=False, path="point")
    assert np.all(g.paths == "grid") and _rel(g["Jz"], p["Jz"]) <= 1e-10


def test_grid_path_store_resume_and_failed_points(tmp_path, monkeypatch):
    """Stored points are not recomputed; a point the grid path cannot solve goes through
    the per-point path, recorded; a point that fails there too is an error, not NaN."""
    from qutip_superrad.solvers import BoundSolver
    task = _cluster_laser_task()
    path = tmp_path / "grid.sqlite"
    first = qsr.sweep(task, {"pumping": [1.0, 2.0], "kappa": [10.0, 20.0, 30.0]}, store=path,
                      progress_bar=False)
    assert first.complete and np.all(first.paths == "grid")
    kept = {r["key"]: r["finished"] for r in first.records}
    real = BoundSolver.steadystate

    def flaky(self, model, e_ops=None, previous=None):
        if model.parameters["pumping"] == 0.5 and model.parameters["kappa"] == 20.0:
            raise RuntimeError("no convergence (test)")
        return real(self, model, e_ops, previous)

    monkeypatch.setattr(BoundSolver, "steadystate", flaky)
    grid = {"pumping": [-1.0, 0.5, 1.0, 2.0], "kappa": [10.0, 20.0, 30.0]}
    res = qsr.sweep(task, grid, store=path, progress_bar=False)
    for r in res.records:
        if r["key"] in kept:                       # not recomputed
            assert r["finished"] == kept[r["key"]]
    bad = [r for r in res.records if r["params"]["pumping"] == -1.0]
    assert all(r["status"] == "error" and "pumping" in r["error"] and r["values"] == {}
               for r in bad)
    assert all(r["path"]["kind"] == "point" and "ValueError" in r["path"]["fallback"]
               for r in bad)
    fell = res.records[res.points.index({"pumping": 0.5, "kappa": 20.0})]
    assert fell["status"] == "ok" and fell["path"] == {
        "kind": "point", "fallback": "RuntimeError: no convergence (test)"}
    monkeypatch.undo()
    point = qsr.sweep(task, {"pumping": [0.5, 1.0, 2.0], "kappa": [10.0, 20.0, 30.0]},
                      progress_bar=False, path="point")
    assert _rel(res["n"][1:], point["n"]) <= 1e-10
    assert list(res.status[0]) == ["error"] * 3 and (res.status[1:] == "ok").all()
    # the store keeps the paths
    loaded = qsr.load_sweep(path)
    assert (loaded.paths == res.paths).all()


def test_grid_path_parallel_chains_and_old_stores(tmp_path):
    """map="parallel": one contiguous chain per worker, each starting from scratch once."""
    task = _cluster_laser_task()
    par = qsr.sweep(task, GRID_2D, map="parallel", map_kw={"num_cpus": 2}, progress_bar=False)
    ser = qsr.sweep(task, GRID_2D, progress_bar=False, path="point")
    assert np.all(par.paths == "grid") and _rel(par["n"], ser["n"]) <= 1e-10
    assert [r["path"]["continued"] for r in par.records].count(False) == 2
    assert len({r["host"] for r in par.records}) == 2
    # a store written before paths were recorded (no column) resumes; its paths are unknown
    path = tmp_path / "old.sqlite"
    qsr.sweep(task, {"pumping": [1.0]}, store=path, progress_bar=False)
    import sqlite3
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE points DROP COLUMN path")
    con.commit()
    con.close()
    res = qsr.sweep(task, {"pumping": [1.0, 2.0]}, store=path, progress_bar=False)
    assert list(res.paths) == ["unknown", "grid"]


def test_grid_path_only_where_it_fits(capsys):
    task = _cluster_laser_task()
    with pytest.raises(ValueError, match="'N' along the grid: one count for a model of 3"):
        qsr.sweep(task, {"N": [10.0, 20.0]}, path="grid", progress_bar=False)
    dicke_model, ops = examples.driven_dicke(N=3, rabi=1.0, collective_emission=0.5, dephasing=0.2)
    dicke = qsr.SweepTask(dicke_model, "dicke", observables={"Jz": ops["Jz"]})
    with pytest.raises(ValueError, match="method 'dicke' has no bound solver"):
        qsr.sweep(dicke, {"rabi": [1.0]}, path="grid", progress_bar=False)
    with pytest.raises(ValueError, match="path must be one of"):
        qsr.sweep(task, {"pumping": [1.0]}, path="bound", progress_bar=False)
    assert task.grid_support(["pumping"]) is None
    assert "method 'dicke' has no bound solver" in qsr.SweepTask("laser").grid_support(["N"])
    assert "neither a Model nor a registered" in qsr.SweepTask(_noisy, call=None).grid_support(
        ["x"])
    # N of several clusters along the grid: the per-point path, automatically
    res = qsr.sweep(task, {"N": [10.0, 20.0]}, progress_bar=False)
    assert list(res.paths) == ["point", "point"]
    # N of one cluster is a number of the equations: the grid path
    cumulant = qsr.SweepTask(dicke_model, "cumulant", observables={"Jz": ops["Jz"]})
    res = qsr.sweep(cumulant, {"N": [3, 30, 300], "rabi": [0.5, 2.0]}, progress_bar=False)
    point = qsr.sweep(cumulant, {"N": [3, 30, 300], "rabi": [0.5, 2.0]}, progress_bar=False,
                      path="point")
    assert res.complete and np.all(res.paths == "grid") and _rel(res["Jz"], point["Jz"]) <= 1e-10
    # the progress bar counts points on the grid path too
    qsr.sweep(task, {"pumping": [1.0, 2.0, 3.0]}, progress_bar="text")
    out = capsys.readouterr()
    assert "100" in out.out + out.err and "33" in out.out + out.err


def _grid_equals_point(name, fixed, grid, observables=None):
    """Sweeps of a registered model by both paths; their numbers agree to 1e-8 relative
    (the steady-state solvers' tolerance); returns the grid path's result."""
    task = qsr.SweepTask(name, fixed=fixed, observables=observables)
    g = qsr.sweep(task, grid, progress_bar=False)
    p = qsr.sweep(task, grid, progress_bar=False, path="point")
    assert g.complete and np.all(g.paths == "grid") and np.all(p.paths == "point")
    for k in g.observables:
        assert _rel(g[k], p[k]) <= 1e-8, k
    assert np.min(g["photon_number"]) > 1e-3                # lasing: not 0 = 0
    return g


def test_registered_models_take_the_grid_path():
    """A registered model whose class writes its steady state as a generic call takes the
    grid path: the class is built per point and its description rebound.  The numbers
    equal the per-point path's — the class's own solver, for the laser the hand-derived
    cluster cumulants — derived observables included (photon_flux = κ⟨a†a⟩)."""
    g = _grid_equals_point("laser-gaussian", {"N": 1e4, "n_clusters": 5},
                           {"pumping": [0.005, 0.01, 0.02], "sigma": [0.05, 0.1]})
    assert g.observables == ["photon_number", "photon_flux"]
    assert [r["path"]["continued"] for r in g.records].count(False) == 1


@pytest.mark.slow
def test_registered_vlevel_takes_the_grid_path_and_starts_afresh():
    """The V-level laser's policy accept="any" has several physical roots here (N = 20 000,
    Ω₂ = 1: 62.6 photons from a fresh start, 37.4 continued from Ω₂ = 0.9), so its points
    are solved afresh on the grid path (one bound solver, no continuation): the per-point
    numbers, coherent_photons = |⟨a⟩|² included.  (≈ 25 s: the fresh solves.)"""
    g = _grid_equals_point("vlevel", {}, {"N": [10000.0, 20000.0], "Omega2": [0.5, 1.0]},
                           ("photon_number", "inversion", "coherent_photons", "S3"))
    assert not any(r["path"]["continued"] for r in g.records)


def test_registered_models_left_on_the_point_path_say_why():
    """An observable the class does not read from a generic result (the laser's g2 at
    second order), a class without generic_call, or a grid that changes the number of
    clusters: the per-point path, with the reason in every record."""
    res = qsr.sweep(qsr.SweepTask("laser", "cumulant", fixed={"N": 3}),
                    {"pumping": [1.0, 2.0]}, progress_bar=False)
    assert list(res.paths) == ["point"] * 2
    assert "['g2']" in res.records[0]["path"]["reason"]
    fine = qsr.SweepTask("laser", "cumulant", fixed={"N": 3},
                         observables=["photon_number", "excited_population", "inversion"])
    g = qsr.sweep(fine, {"pumping": [1.0, 2.0]}, progress_bar=False)
    assert list(g.paths) == ["grid"] * 2
    assert _rel(g["photon_number"], res["photon_number"]) <= 1e-8
    assert _rel(g["excited_population"], res["excited_population"]) <= 1e-8
    assert _rel(g["inversion"], 2 * res["excited_population"] - 1) <= 1e-8
    task = qsr.SweepTask("laser-gaussian", fixed={"N": 1e4})
    why = task.grid_support(["n_clusters"], [{"n_clusters": 3}, {"n_clusters": 5}])
    assert "changes structure along the grid" in why
    with pytest.raises(ValueError, match="changes structure along the grid"):
        qsr.sweep(task, {"n_clusters": [3, 5]}, path="grid", progress_bar=False)
    assert "has no generic_call" in qsr.SweepTask("dipoles", "meanfield").grid_support(
        ["pumping"])
    with pytest.raises(ValueError, match=r"options \['tol'\] of the hand-derived"):
        qsr.SuperradiantLaser(qsr.Ensemble.identical(2), kappa=1.0, emission=0.1,
                              pumping=1.0).generic_call("cumulant", options={"tol": 1e-9})


def test_grid_path_point_timeout_is_recorded():
    """A point past point_timeout on the grid path is a "timeout" of that path (no fallback:
    the per-point path would not be faster); the next point starts afresh."""
    task = _cluster_laser_task()
    res = qsr.sweep(task, {"pumping": [1.0, 2.0]}, map_kw={"point_timeout": 1e-4},
                    progress_bar=False)
    assert list(res.status) == ["timeout", "timeout"]
    assert [r["path"] for r in res.records] == [{"kind": "grid"}] * 2
