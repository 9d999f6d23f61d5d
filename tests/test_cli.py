"""The command line interface ``python -m qutip_superrad`` (subprocess and in-process)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qutip_superrad import __version__, cli

REPO_ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--N", "2", "--nphot", "4", "--omega-points", "101"]


def _env():
    env = dict(os.environ)
    # test this checkout even if another copy of the package is installed
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in
                                        env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def run_cli(args, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "qutip_superrad", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _table_rows(stdout):
    return {line.split()[0] for line in stdout.splitlines() if line.strip()}


def test_laser_small_table_json_plot(tmp_path):
    res = run_cli(["laser", *SMALL, "--json", "out.json", "--plot", "spec.png"], tmp_path)
    assert res.returncode == 0, res.stderr
    rows = _table_rows(res.stdout)
    assert {"full", "dicke", "bad-cavity"} <= rows
    data = json.loads((tmp_path / "out.json").read_text())
    assert data["command"] == "laser" and data["version"] == __version__
    assert data["parameters"]["N"] == 2 and data["parameters"]["nphot"] == 4
    full, dicke = data["results"]["full"], data["results"]["dicke"]
    # physics: the two exact methods solve the same master equation
    assert dicke["photon_number"] == pytest.approx(full["photon_number"], rel=1e-8, abs=1e-12)
    for key in ("excited_population", "pair_correlation", "g2", "linewidth"):
        assert dicke[key] == pytest.approx(full[key], rel=1e-6), key
    assert data["deviation_dicke_vs_full"]["photon_number"] < 1e-8
    assert 0 < full["photon_number"] < 4
    assert full["linewidth"] > 0
    # the bad-cavity limit is a different model but close for kappa >> g sqrt(N)
    bc = data["results"]["bad-cavity"]
    assert bc["photon_number"] == pytest.approx(full["photon_number"], rel=0.3)
    png = tmp_path / "spec.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_arguments_runs_laser_on_defaults(tmp_path):
    res = run_cli([], tmp_path)
    assert res.returncode == 0, res.stderr
    assert {"full", "dicke", "bad-cavity"} <= _table_rows(res.stdout)
    assert "N=4" in res.stdout
    assert (tmp_path / "superradiant_laser_spectrum.png").exists()


def _main_exit(args, capsys):
    """Run ``cli.main`` in process where argparse exits; return (status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_help_lists_subcommands(tmp_path):
    res = run_cli(["--help"], tmp_path)          # one real `python -m` call
    assert res.returncode == 0
    for sub in ("laser", "sweep", "info"):
        assert sub in res.stdout


def test_subcommand_help_lists_flags(capsys):
    code, out, _ = _main_exit(["laser", "--help"], capsys)
    assert code == 0
    for flag in ("--N", "--coupling", "--kappa", "--emission", "--pumping", "--dephasing",
                 "--cavity-dephasing", "--cavity-detuning", "--detuning", "--nphot", "--methods",
                 "--omega-min", "--omega-max", "--omega-points", "--plot", "--no-plot",
                 "--json", "--config", "--quiet"):
        assert flag in out, flag
    for old in ("--g ", "--gamma", "--pump ", "--atom-dephasing"):   # hidden former names
        assert old not in out, old
    code, out, _ = _main_exit(["sweep", "--help"], capsys)
    assert code == 0 and "--N" in out and "progress" in out


def test_negative_kappa_is_a_usage_error(tmp_path):
    res = run_cli(["laser", *SMALL, "--kappa", "-1"], tmp_path)
    assert res.returncode == 2
    assert "kappa" in res.stderr and "error" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "superradiant_laser_spectrum.png").exists()


@pytest.mark.parametrize("args, name", [(["--N", "0"], "N"), (["--nphot", "1"], "nphot"),
                                        (["--methods", "full,exact"], "methods"),
                                        (["--pumping", "nan"], "pumping"),
                                        (["--omega-min", "5"], "omega")])
def test_bad_values_name_the_parameter(tmp_path, monkeypatch, capsys, args, name):
    monkeypatch.chdir(tmp_path)                   # in process: argparse exits with status 2
    code, _, err = _main_exit(["laser", *SMALL, *args], capsys)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert "error" in last and name in last


def test_config_unknown_key(tmp_path, monkeypatch, capsys):
    (tmp_path / "bad.toml").write_text("N = 2\nnphot = 4\nkapa = 3.0\n")
    res = run_cli(["laser", "--config", "bad.toml"], tmp_path)
    assert res.returncode == 2
    assert "kapa" in res.stderr and "unknown key" in res.stderr
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad2.toml").write_text("[laser]\nN = 2\nfoo = 1\n")
    code, _, err = _main_exit(["laser", "--config", "bad2.toml"], capsys)
    assert code == 2 and "foo" in err
    (tmp_path / "bad3.toml").write_text("[sweep]\nN = [1, 2]\nbar = 1\n")   # other table
    code, _, err = _main_exit(["laser", "--config", "bad3.toml"], capsys)
    assert code == 2 and "bar" in err
    code, _, err = _main_exit(["laser", "--config", "missing.toml"], capsys)
    assert code == 2 and "missing.toml" in err


def test_config_values_and_flag_override(tmp_path):
    (tmp_path / "cfg.toml").write_text(
        'N = 2\nnphot = 4\nkappa = 5.0\nmethods = "dicke"\n[laser]\npumping = 0.5\n'
        'omega_points = 51\n')
    res = run_cli(["laser", "--config", "cfg.toml", "--kappa", "8", "--no-plot", "--quiet",
                   "--json", "o.json"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    data = json.loads((tmp_path / "o.json").read_text())
    p = data["parameters"]
    assert (p["N"], p["nphot"], p["kappa"], p["pumping"], p["methods"]) == (2, 4, 8.0, 0.5, ["dicke"])
    assert set(data["results"]) == {"dicke", "bad-cavity"}
    assert not list(tmp_path.glob("*.png"))


def test_config_wrong_type(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg.toml").write_text('kappa = "ten"\n')
    code, _, err = _main_exit(["laser", "--config", "cfg.toml"], capsys)
    assert code == 2 and "kappa" in err


def test_sweep_small(tmp_path):
    res = run_cli(["sweep", "--N", "1,2,3", "--nphot", "4", "--omega-points", "51",
                   "--json", "sw.json", "--plot", "sw.png"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "sweep over N" in res.stderr          # progress bar
    data = json.loads((tmp_path / "sw.json").read_text())
    assert [e["N"] for e in data["results"]] == [1, 2, 3]
    n = [e["dicke"]["photon_number"] for e in data["results"]]
    assert n[0] < n[1] < n[2]                       # more atoms, more light
    for e in data["results"]:
        assert e["bad-cavity"]["linewidth"] > 0
    assert (tmp_path / "sw.png").exists()


def test_info(tmp_path):
    res = run_cli(["info", "--json", "info.json"], tmp_path)
    assert res.returncode == 0, res.stderr
    assert __version__ in res.stdout and "qutip" in res.stdout
    data = json.loads((tmp_path / "info.json").read_text())
    assert data["qutip-superrad"] == __version__
    assert data["methods"]["dicke"] is True


# -- in process: the optional cumulant method never breaks the comparison ----------
def test_cumulant_missing_is_skipped(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "cumulant_available", lambda: False)
    assert cli.main(["laser", *SMALL, "--no-plot", "--json", "o.json"]) == 0
    data = json.loads((tmp_path / "o.json").read_text())
    assert "cumulant" not in data["results"]
    assert any("cumulant" in n for n in data["notes"])
    assert "dicke" in capsys.readouterr().out


def test_cumulant_failure_is_skipped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    solve = cli._solve

    def broken(model, method, omega, nphot, max_memory=None):
        if method == "cumulant":
            raise RuntimeError("simulated failure")
        return solve(model, method, omega, nphot, max_memory)

    monkeypatch.setattr(cli, "_solve", broken)
    assert cli.main(["laser", *SMALL, "--no-plot", "--quiet", "--json", "o.json",
                     "--methods", "full,dicke,cumulant"]) == 0
    data = json.loads((tmp_path / "o.json").read_text())
    assert set(data["results"]) == {"full", "dicke", "bad-cavity"}
    assert any("simulated failure" in n for n in data["notes"])


def test_exact_failure_exits_with_status_1(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def boom(*args, **kwargs):
        raise MemoryError("too big")

    monkeypatch.setattr(cli, "_solve", boom)
    assert cli.main(["laser", *SMALL, "--no-plot"]) == 1
    assert "too big" in capsys.readouterr().err


# -- former parameter names (one vocabulary after qutip.piqs) -----------------------
_OLD_NEW = [("--g", "--coupling", "0.8"), ("--gamma", "--emission", "0.2"),
            ("--pump", "--pumping", "0.7"), ("--atom-dephasing", "--dephasing", "0.05")]


@pytest.mark.parametrize("old, new, value", _OLD_NEW)
def test_former_flags_warn_and_agree(tmp_path, monkeypatch, capsys, old, new, value):
    monkeypatch.chdir(tmp_path)
    args = ["laser", "--N", "2", "--nphot", "4", "--omega-points", "31", "--methods", "dicke",
            "--no-bad-cavity", "--no-plot", "--quiet"]
    assert cli.main([*args, old, value, "--json", "old.json"]) == 0
    err = capsys.readouterr().err
    assert f"{old} is renamed to {new}" in err
    assert cli.main([*args, new, value, "--json", "new.json"]) == 0
    assert "renamed" not in capsys.readouterr().err
    a = json.loads((tmp_path / "old.json").read_text())
    b = json.loads((tmp_path / "new.json").read_text())
    assert {**a["parameters"], "json": ""} == {**b["parameters"], "json": ""}
    assert a["parameters"][new[2:].replace("-", "_")] == float(value)
    assert a["results"]["dicke"]["photon_number"] == b["results"]["dicke"]["photon_number"]


def test_former_and_new_flag_together_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = _main_exit(["laser", *SMALL, "--pump", "1", "--pumping", "2"], capsys)
    assert code == 2 and "--pumping" in err and "--pump" in err


def test_former_config_keys_warn_and_agree(tmp_path, monkeypatch, capsys):
    old = tmp_path / "old.toml"
    old.write_text("g = 0.8\ngamma = 0.2\n[laser]\npump = 0.7\natom_dephasing = 0.05\n")
    new = tmp_path / "new.toml"
    new.write_text("coupling = 0.8\nemission = 0.2\n[laser]\npumping = 0.7\ndephasing = 0.05\n")
    with pytest.warns(FutureWarning, match="is renamed to") as rec:
        p_old = cli.resolve_parameters("laser", old)
    assert {str(w.message).split("'")[1] for w in rec} == {"g", "gamma", "pump", "atom_dephasing"}
    p_new = cli.resolve_parameters("laser", new)
    assert p_old == p_new
    assert (p_new["coupling"], p_new["emission"], p_new["pumping"], p_new["dephasing"]) == \
        (0.8, 0.2, 0.7, 0.05)
    # through main: a warning line on stderr, not a traceback
    monkeypatch.chdir(tmp_path)
    assert cli.main(["laser", "--config", "old.toml", "--N", "2", "--nphot", "4",
                     "--omega-points", "31", "--methods", "dicke", "--no-plot", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning: config key 'pump'" in err and "renamed to 'pumping'" in err


def test_former_and_new_config_key_together(tmp_path):
    (tmp_path / "both.toml").write_text("pump = 1.0\npumping = 2.0\n")
    with pytest.raises(cli.ParameterError, match="pumping"):
        cli.resolve_parameters("laser", tmp_path / "both.toml")


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_output_paths_are_checked_before_the_computation(tmp_path, monkeypatch, capsys, flag):
    # issue 12, item 6: an unwritable path was found only after the computation
    def boom(*a, **k):                                     # the solvers must not be reached
        raise AssertionError("computation started")
    monkeypatch.setattr(cli, "run_laser", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main(["laser", *SMALL, flag, str(tmp_path / "missing" / "out.x")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag} " in err and "does not exist" in err


def test_a_failing_plot_does_not_lose_the_json(tmp_path, monkeypatch, capsys):
    def broken(*a, **k):
        raise RuntimeError("no backend")
    monkeypatch.setattr(cli, "_save_spectrum_plot", broken)
    out = tmp_path / "out.json"
    status = cli.main(["laser", *SMALL, "--methods", "dicke", "--json", str(out),
                       "--plot", str(tmp_path / "fig.png"), "-q"])
    assert status == 1
    assert "the plot could not be written (RuntimeError: no backend)" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["plot_error"] == "RuntimeError: no backend" and "dicke" in data["results"]


def test_max_memory_flag_limits_the_exact_methods(tmp_path, monkeypatch, capsys):
    # issue 12, item 5: the memory error told CLI users to raise max_memory, which had no flag
    monkeypatch.chdir(tmp_path)
    assert cli.main(["laser", *SMALL, "--methods", "full", "--max-memory", "1e-6",
                     "--no-plot"]) == 1
    err = capsys.readouterr().err
    assert "MemoryLimitError" in err and "--max-memory" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["laser", *SMALL, "--max-memory", "-1"])
    assert exc.value.code == 2
    assert "argument --max-memory: max_memory must be > 0 GiB" in capsys.readouterr().err


# -- sweep --model: any registered model through qsr.sweep --------------------------------
def test_parse_axis():
    from qutip_superrad._cli_sweep import parse_axis
    assert parse_axis("N=2,4,8") == ("N", [2, 4, 8])
    assert parse_axis("kappa=1:3:3") == ("kappa", [1, 2, 3])
    assert parse_axis("kappa=1.0:2:3") == ("kappa", [1.0, 1.5, 2.0])
    name, vals = parse_axis("pumping=0.1:10:3:log")
    assert name == "pumping" and vals == pytest.approx([0.1, 1.0, 10.0])
    assert parse_axis("method=full, dicke") == ("method", ["full", "dicke"])
    for bad, msg in [("kappa", "AXIS=SPEC"), ("kappa=1:2", "start:stop:count"),
                     ("kappa=a,b", "'a' is not a number"), ("kappa=1:2:0", "count must be"),
                     ("kappa=0:1:3:log", "positive ends")]:
        with pytest.raises(ValueError, match=msg):
            parse_axis(bad)


def test_model_sweep_takes_the_grid_path_by_default(tmp_path, monkeypatch, capsys):
    """sweep --model of a registered laser by cumulant (in process): the grid path (path
    auto), said on stderr and in the JSON; --path point opts out, with the same numbers
    (1e-8)."""
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "--model", "laser-gaussian", "--set", "n_clusters=3", "--grid",
            "pumping=0.01,0.02"]
    assert cli.main(args + ["--json", "g.json"]) == 0
    assert "2 point(s) by the grid path" in capsys.readouterr().err
    grid = json.loads((tmp_path / "g.json").read_text())["points"]
    assert [p["path"]["kind"] for p in grid] == ["grid", "grid"]
    assert cli.main(args + ["--path", "point", "-q", "--json", "p.json"]) == 0
    point = json.loads((tmp_path / "p.json").read_text())["points"]
    assert [p["path"]["kind"] for p in point] == ["point", "point"]
    for g, p in zip(grid, point):
        n = p["values"]["photon_number"]
        assert abs(g["values"]["photon_number"] - n) <= 1e-8 * abs(n)


def test_model_sweep_store_resume_json_plot(tmp_path):
    store, js, png = tmp_path / "run.sqlite", tmp_path / "r.json", tmp_path / "r.png"
    args = ["sweep", "--model", "dipoles", "--set", "N=4", "--grid", "pumping=0.5:2:4",
            "--grid", "collective_emission=1,2", "--store", str(store)]
    res = run_cli(args + ["--json", str(js), "--plot", str(png)], tmp_path)
    assert res.returncode == 0, res.stderr
    assert "order_parameter" in res.stdout and png.exists()
    report = json.loads(js.read_text())
    assert len(report["points"]) == 8 and {p["status"] for p in report["points"]} == {"ok"}
    import qutip_superrad as qsr
    direct = qsr.DipoleArray.all_to_all(4, 2, 1.0).steadystate("dicke").values["order_parameter"]
    pt = next(p for p in report["points"]
              if p["params"] == {"pumping": 1.0, "collective_emission": 2})
    assert pt["values"]["order_parameter"] == pytest.approx(float(direct), rel=1e-12)
    # rerun: resumed, nothing recomputed (the store's timestamps do not move)
    loaded = qsr.load_sweep(store)
    again = run_cli(args + ["-q"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert [r["finished"] for r in qsr.load_sweep(store).records] == \
        [r["finished"] for r in loaded.records]


@pytest.mark.parametrize("args, msg", [
    (["--model", "laser"], "--grid: give at least one axis"),
    (["--model", "laser", "--grid", "pump=1,2"], "'pump' is not a parameter of laser; valid"),
    (["--model", "laser", "--grid", "N=2", "--coupling", "2"], "--set NAME=VALUE"),
    (["--model", "laser", "--grid", "N=2", "--set", "coupling"], "--set 'coupling': write"),
    (["--grid", "N=2"], "--grid needs --model"),
    (["--model", "laser", "--grid", "N=2", "--store", "/nonexistent/dir/s.sqlite"],
     "does not exist"),
])
def test_model_sweep_bad_input(args, msg, capsys):
    code, _, err = _main_exit(["sweep"] + args, capsys)
    assert code == 2 and msg in err


def test_model_sweep_failed_points_exit_1(tmp_path):
    res = run_cli(["sweep", "--model", "collective-pumping", "--set", "emission=0.1",
                   "--grid", "N=3,4"], tmp_path)         # manifold method refuses local emission
    assert res.returncode == 1
    assert "local emission/dephasing break the j = N/2 manifold" in res.stderr


# -- run --model: one steady state of any registered model --------------------------------
def _api_values(name):
    """The Python API's numbers for the parameters of ``RUN_CASES[name]`` (written out with
    the classes, not through the registry)."""
    import numpy as np
    import qutip_superrad as qsr
    from qutip_superrad.models.spin_cats import TwoBodyLossSpins
    first = lambda x: float(np.real(np.ravel(x)[0]))          # noqa: E731
    if name == "laser":
        ss = qsr.SuperradiantLaser(qsr.Ensemble.identical(2, g=1.0), kappa=10.0, emission=0.1,
                                   pumping=1.5).steadystate("dicke", nphot=10)
        return {"photon_number": ss.photon_number,
                "excited_population": first(ss.excited_population), "g2": ss.g2}
    if name == "laser-gaussian":
        ens = qsr.Ensemble.gaussian(1000, 0.1, 5, width=3.0, g=1e-3)
        ss = qsr.SuperradiantLaser(ens, kappa=1.0, emission=1e-3,
                                   pumping=0.01).steadystate("cumulant")
        return {"photon_number": ss.photon_number, "photon_flux": ss.photon_flux}
    if name == "bad-cavity":
        ss = qsr.BadCavityLaser(qsr.Ensemble.identical(3), collective_emission=0.4,
                                emission=0.1, pumping=1.0).steadystate("dicke")
        return {"photon_flux": ss.photon_flux,
                "excited_population": first(ss.excited_population), "g2": ss.g2}
    if name == "collective-pumping":
        ss = qsr.CollectivePumping(6, 1.0, 0.5, emission=1.0).steadystate("dicke")
        return {"jz": ss.jz, "jz_variance": ss.jz_variance, "jplus_jminus": ss.jplus_jminus}
    if name == "dipoles":
        v = qsr.DipoleArray.all_to_all(3, 1.5, 2.0, emission=1.0).steadystate("dicke").values
        return {k: v[k] for k in ("order_parameter", "inversion", "pair_coherence")}
    if name == "vlevel":
        v = qsr.VLevelLaser(100, g=0.01, kappa=1.0, Delta2=5.0, Delta3=-1.0, Omega2=0.5,
                            Omega3=0.5).steadystate("cumulant").values
        return {"photon_number": v["photon_number"], "inversion": v["inversion"]}
    if name == "spin-cats":
        model, ops = TwoBodyLossSpins(4, 0.5, 1.0).description()
        v = qsr.steadystate(model, "manifold", e_ops={"Sz": ops["Sz"], "SpSm": ops["SpSm"]})
        return {"Sz": v.values["Sz"], "SpSm": v.values["SpSm"]}
    raise AssertionError(name)


RUN_CASES = {
    "laser": ["--set", "N=2", "--set", "pumping=1.5"],
    "laser-gaussian": ["--set", "N=1000", "--set", "n_clusters=5"],
    "bad-cavity": ["--set", "N=3"],
    "collective-pumping": ["--set", "N=6", "--set", "emission=1", "--method", "dicke"],
    "dipoles": ["--set", "N=3"],
    "vlevel": ["--set", "N=100", "--observables", "photon_number,inversion"],
    "spin-cats": ["--set", "N=4", "--set", "eta=0.5"],
}


def test_run_cases_cover_the_registry():
    from qutip_superrad.models.registry import MODELS
    assert sorted(RUN_CASES) == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_run_every_registered_model_equals_the_python_api(name, tmp_path, capsys):
    """Same parameters, same numbers: the JSON to 1e-10 (spin cats: the generic manifold
    solver against the projection from the ground state), the table to its 6 digits."""
    out = tmp_path / "r.json"
    assert cli.main(["run", "--model", name, *RUN_CASES[name], "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    expected = _api_values(name)
    assert data["command"] == "run" and data["model"] == name
    assert set(data["values"]) == set(expected)
    rows = {line.split()[0]: line.split()[1] for line in printed.splitlines()
            if len(line.split()) == 2}
    for key, value in expected.items():
        assert data["values"][key] == pytest.approx(float(value), rel=1e-10, abs=1e-14), key
        assert float(rows[key]) == pytest.approx(float(value), rel=1e-5, abs=1e-12), key


def test_run_list_and_help_model(capsys):
    from qutip_superrad.models.registry import MODELS
    assert cli.main(["run", "--list-models"]) == 0
    listing = capsys.readouterr().out
    for name, entry in MODELS.items():
        assert name in listing and ", ".join(entry.methods) in listing
    assert cli.main(["run", "--help-model", "collective-pumping"]) == 0
    text = capsys.readouterr().out
    for line in ("N                   = 10", "collective_pumping  = 0.5", "emission            = 0.0",
                 "methods (--method): manifold, closed_form, dicke, piqs (default manifold)"):
        assert line in text


@pytest.mark.parametrize("args, msg", [
    (["--model", "laser", "--set", "pump=1"], "--set pump: not a parameter of model laser; "
                                              "its parameters: N, coupling, kappa"),
    (["--model", "laser", "--set", "N=abc"], "--set N: 'abc' is not a number"),
    (["--model", "laser", "--set", "N=-2"], "N must be >= 1"),
    (["--model", "collective-pumping", "--set", "collective_pumping=-1"],
     "collective_pumping must be"),
    (["--model", "spin-cats", "--set", "eta=nan"], "eta must be finite"),
    (["--model", "laser", "--set", "coupling"], "--set 'coupling': write NAME=VALUE"),
    (["--model", "spin-cats", "--method", "dicke"],
     "--method dicke: model spin-cats has the methods manifold, meanfield, cumulant"),
    (["--model", "laser", "--observables", "nope"], "observable 'nope' not found"),
    (["--model", "laser", "--max-memory", "-1"], "--max-memory: max_memory must be > 0"),
    ([], "--model: name a registered model"),
    (["--help-model", "nope"], "model 'nope' is not registered"),
])
def test_run_bad_input_names_the_parameter(args, msg, capsys):
    code, _, err = _main_exit(["run"] + args, capsys)
    assert code == 2 and msg in err


@pytest.mark.parametrize("flag", ["--json", "--plot"])
def test_run_checks_output_paths_first(tmp_path, monkeypatch, capsys, flag):
    from qutip_superrad import _cli_run

    def boom(*a, **k):
        raise AssertionError("computation started")
    monkeypatch.setattr(_cli_run, "run_model", boom)
    code, _, err = _main_exit(["run", "--model", "laser", flag,
                               str(tmp_path / "missing" / "x")], capsys)
    assert code == 2 and f"{flag} " in err and "does not exist" in err


def test_run_writes_the_json_before_a_failing_plot(tmp_path, monkeypatch, capsys):
    from qutip_superrad import _cli_run

    def broken(*a, **k):
        raise RuntimeError("no backend")
    monkeypatch.setattr(_cli_run, "save_plot", broken)
    out = tmp_path / "r.json"
    assert cli.main(["run", "--model", "bad-cavity", "--set", "N=2", "--json", str(out),
                     "--plot", str(tmp_path / "r.png"), "-q"]) == 1
    assert "the plot could not be written (RuntimeError: no backend)" in capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["plot_error"] == "RuntimeError: no backend" and data["values"]["photon_flux"] > 0


def test_run_max_memory_and_plot(tmp_path, capsys):
    assert cli.main(["run", "--model", "laser", "--set", "N=3", "--method", "full",
                     "--max-memory", "1e-7"]) == 1
    err = capsys.readouterr().err
    assert "MemoryLimitError" in err and "--max-memory" in err
    png = tmp_path / "r.png"
    assert cli.main(["run", "--model", "vlevel", "--set", "N=10", "--max-memory", "1",
                     "--plot", str(png)]) == 0
    assert "--max-memory is ignored: method 'cumulant'" in capsys.readouterr().err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
