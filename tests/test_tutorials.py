"""Run every tutorial (tutorials/*.md, jupytext markdown) as a script in short mode.

Each tutorial is converted with jupytext to a ``py:percent`` script and run in
a fresh interpreter with ``QSR_TUTORIAL_SHORT=1`` (small problem sizes),
``MPLBACKEND=Agg`` and the working directory set to a temporary directory, so
that the figures it saves do not land in the repository.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO_ROOT / "tutorials").glob("*.md"))
TIMEOUT = 300


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in
                                        env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["QSR_TUTORIAL_SHORT"] = "1"
    env["MPLBACKEND"] = "Agg"
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


def test_tutorials_found():
    assert TUTORIALS, "no tutorials/*.md found"


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.name for p in TUTORIALS])
def test_tutorial_runs(path, tmp_path):
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    script = tmp_path / (path.stem + ".py")
    script.write_text(jupytext.writes(nb, fmt="py:percent"), encoding="utf-8")
    try:
        res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=_env(),
                             capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name} did not finish within {TIMEOUT} s in short mode\n"
                    f"--- stdout ---\n{exc.stdout}\n--- stderr ---\n{exc.stderr}")
    if res.returncode != 0:
        print(res.stdout[-5000:])
        print(res.stderr, file=sys.stderr)
    assert res.returncode == 0, f"{path.name} failed (exit {res.returncode}):\n{res.stderr[-5000:]}"
