"""The standing guard (issue 12): hypothesis-driven fuzzing of the public constructors and
solver calls.

Every example draws a constructor, its parameters (rates, sizes, detunings), a call
(``steadystate``, ``evolve``, ``spectrum``), a method, a grid, options and an initial state,
each from valid *and* invalid ranges, and runs it under a per-example wall-time limit.  The
example passes when it either

* returns a result whose checks pass (finite numbers, trace 1, positivity, a residual at
  rounding level; ``nan`` only where a flag says why, e.g. a dark spectrum), or
* raises ``ValueError``, ``TypeError`` or ``MemoryLimitError`` whose message names a
  parameter, from the package's own code (not from inside NumPy/SciPy);

anything else — a hang past the limit, another exception, a ``nan`` without a flag, an
error raised inside NumPy/SciPy, a NumPy floating-point warning — fails.

Two profiles: a short one (deterministic, every run, < 60 s) and a long one on demand
(``pytest -m slow tests/test_fuzz.py``).
"""
import contextlib
import math
import re
import signal
import traceback
import warnings

import numpy as np
import pytest
import qutip

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import qutip_superrad as qsr  # noqa: E402
from qutip_superrad import examples  # noqa: E402
from qutip_superrad.results import Result, TimeResult  # noqa: E402

#: examples per case: (short profile, long profile); per-example wall-time limit in seconds
EXAMPLES = {"short": 150, "long": 1000}
LIMIT = 30

#: a failing call's message must name one of these (the public parameters and options)
NAMES = ("kappa", "emission", "pumping", "dephasing", "cavity_dephasing", "cavity_detuning",
         "collective_emission", "collective_pumping", "collective_shift", "ensemble", "counts",
         "N", "g", "detuning", "sigma", "n_clusters", "width", "tlist", "omega", "initial",
         "method", "option", "nphot", "max_memory", "max_time", "atol", "rtol", "nsteps",
         "progress_bar", "ntraj", "spacing", "pumping", "rabi", "t", "w", "strict",
         "truncation_tol", "order", "sectors", "detunings", "couplings", "positions",
         "frequencies", "rates", "f", "e_ops", "f_pair")

BAD_REALS = [-1.0, -1e-300, float("nan"), float("inf"), -float("inf"), "1", None, True]

#: half of the examples draw every value from its valid range, so that the solvers run
#: (``valid()`` is set at the start of each example); the other half mix in invalid values
_VALID = [False]


def _either(good, bad):
    return good if _VALID[0] else st.one_of(good, st.sampled_from(bad))


def rates(low=0.0, high=3.0):
    """A rate, with the edges 0, tiny and large."""
    return _either(st.one_of(st.floats(low, high), st.sampled_from([low, 1e-9 + low, 50.0])),
                   BAD_REALS)


def reals():
    return _either(st.floats(-3, 3), [float("nan"), float("inf"), "0"])


def counts(high=5):
    return _either(st.integers(1, high), [0, -1, 2.5, float("nan"), "3", 10 ** 6])


def grids():
    good = [np.linspace(0.0, 1.0, 4), np.array([0.0, 0.3, 2.0]), np.array([0.5]),
            np.linspace(-2.0, 2.0, 9)]
    bad = [np.array([]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0]),
           np.array([0.0, np.nan]), "0 1", np.zeros((2, 2)), np.array([0.0, np.inf])]
    return _either(st.sampled_from(good), bad)


def nphots():
    return _either(st.integers(2, 5), [1, 0, -3, 2.5, "4", 10 ** 6])


def initials():
    good = [None, "ground", "excited", "superradiant", (0.5, 0.5), (1.5, -0.5)]
    bad = [(1.0, 0.0), "up", 3.0, (0.5,), qutip.basis(2, 0),
           qutip.basis(3, 0) * qutip.basis(3, 0).dag()]
    return _either(st.sampled_from(good), bad)


def options(evolve=False):
    good = [{}, {}, {"progress_bar": False}, {"max_time": 60.0}]
    good += [{"atol": 1e-6, "rtol": 1e-5}, {"nsteps": 5000}] if evolve else [{"strict": False}]
    bad = [{"max_memory": 1e3}, {"max_memory": -1}, {"foo": 1}, {"progress_bar": "fancy"},
           {"max_time": 0}]
    bad += [{"nsteps": 0}, {"atol": -1.0}] if evolve else [{"strict": "yes"},
                                                            {"truncation_tol": -1.0}]
    return _either(st.sampled_from(good), bad)


# -- the runner ---------------------------------------------------------------------------

class Hang(Exception):
    """The example ran past the per-example limit."""


@contextlib.contextmanager
def time_limit(seconds):
    def alarm(signum, frame):
        raise Hang(f"example exceeded {seconds} s")
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _raised_inside_numpy(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1].filename if frames else ""
    return "/numpy/" in last or "/scipy/" in last


def run(call):
    """Run ``call()`` under the rules of the module docstring; return the result or None."""
    with time_limit(LIMIT), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                result = call()
        except (ValueError, TypeError, qsr.MemoryLimitError) as exc:
            msg = str(exc)
            assert not _raised_inside_numpy(exc), \
                f"{type(exc).__name__} from inside NumPy/SciPy: {msg}"
            # a public name, or a user-defined parameter quoted as 'name'
            assert any(_names(n, msg) for n in NAMES) or re.search(r"'[A-Za-z_]\w*'", msg), \
                f"{type(exc).__name__} names no parameter: {msg!r}"
            return None
        except qsr.ConvergenceError as exc:
            # a documented non-convergence (e.g. the Lorenz–Haken limit cycle of the mean-field
            # laser in a bad cavity): allowed when it carries its diagnostics
            assert re.search(r"residual|iteration|limit cycle|error", str(exc)), \
                f"ConvergenceError without diagnostics: {exc}"
            return None
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)
               and ("/numpy/" in w.filename or "/scipy/" in w.filename
                    or "invalid value" in str(w.message) or "divide by zero" in str(w.message)
                    or "overflow" in str(w.message))]
    assert not numeric, f"floating-point warning: {numeric[0].message} ({numeric[0].filename})"
    check(result)
    return result


def _names(name, msg):
    """``name`` as a word of ``msg`` (``N`` must not match inside ``NaN``)."""
    return re.search(rf"(?<![A-Za-z_]){re.escape(name)}(?![A-Za-z_])", msg) is not None


def _finite(x, what):
    a = np.asarray(x)
    if a.dtype == object:
        return
    assert np.all(np.isfinite(a)), f"{what} is not finite without a flag: {x!r}"


def check(res):
    """The checks of a returned result (constructed objects: finite numbers)."""
    if isinstance(res, qsr.Ensemble):
        for name in ("counts", "detunings", "couplings"):
            _finite(getattr(res, name), name)
        return
    if isinstance(res, (qsr.SuperradiantLaser, qsr.BadCavityLaser, qsr.CollectivePumping,
                        qsr.DipoleArray, qsr.Model)):
        return
    if isinstance(res, qsr.SpectrumResult):
        _finite(res.S, "S")
        if res.checks.get("dark"):
            assert np.all(res.S == 0) and math.isnan(res.linewidth)
        else:
            _finite([res.linewidth, res.peak], "linewidth/peak")
        return
    flagged = "photon_number" in getattr(res, "checks", {})      # nan with its reason
    if isinstance(res, qsr.SteadyStateResult):
        if not flagged:
            _finite(res.photon_number, "photon_number")
        _finite(res.excited_population, "excited_population")
        _finite(res.pair_correlation, "pair_correlation")
        pop = np.asarray(res.excited_population)
        assert np.all(pop > -1e-6) and np.all(pop < 1 + 1e-6), pop
        assert flagged or res.photon_number > -1e-6
        _state_checks(res.checks)
        return
    if isinstance(res, qsr.EvolutionResult):
        if not flagged:
            _finite(res.photon_number, "photon_number")
        _finite(res.excited_population, "excited_population")
        for k, v in res.expect.items():
            _finite(v, f"expect[{k!r}]")
        return
    if isinstance(res, (Result, TimeResult)):
        for k, v in res.values.items():
            _finite(v, f"values[{k!r}]")
        _state_checks(res.checks)
        return
    name = type(res).__name__
    if name in ("PumpingSteadyState", "PumpingEvolution"):
        _finite(res.jz, "jz")
        _finite(res.jz_variance, "jz_variance")
        _state_checks(getattr(res, "checks", {}) or {})
        return
    raise AssertionError(f"unexpected result type {name}")


def _state_checks(checks):
    if "trace" in checks:
        assert abs(checks["trace"] - 1) < 1e-8, checks["trace"]
    if "residual" in checks and isinstance(checks["residual"], float):
        assert checks["residual"] < 1e-6, checks["residual"]
    if "min_eigenvalue" in checks and not math.isnan(checks["min_eigenvalue"]):
        assert checks["min_eigenvalue"] > -1e-6, checks["min_eigenvalue"]


# -- the cases ------------------------------------------------------------------------------

def case_laser(data):
    """SuperradiantLaser / BadCavityLaser: constructor, then one call."""
    bad_cavity = data.draw(st.booleans(), "bad_cavity")
    N = data.draw(counts(4), "N")
    g = data.draw(reals(), "g")
    kw = dict(emission=data.draw(rates(), "emission"), pumping=data.draw(rates(), "pumping"),
              dephasing=data.draw(rates(), "dephasing"))

    def build():
        ens = qsr.Ensemble.identical(N, g=g)
        if bad_cavity:
            return qsr.BadCavityLaser(ens, collective_emission=data.draw(rates(), "gc"), **kw)
        return qsr.SuperradiantLaser(ens, kappa=data.draw(rates(0.1, 10.0), "kappa"), **kw)

    laser = run(build)
    if laser is None:
        return
    call = data.draw(st.sampled_from(["steadystate", "evolve", "spectrum"]), "call")
    method = data.draw(st.sampled_from(["dicke", "dicke", "full", "cumulant", "exact"]), "method")
    opts = data.draw(options(call == "evolve"), "options")
    if method in ("dicke", "full"):
        opts = dict(opts, nphot=data.draw(nphots(), "nphot"))
    grid = data.draw(grids(), "grid")
    if call == "steadystate":
        run(lambda: laser.steadystate(method, **opts))
    elif call == "spectrum":
        run(lambda: laser.spectrum(grid, method, **opts))
    else:
        initial = data.draw(initials(), "initial")
        run(lambda: laser.evolve(grid, method, initial=initial, **opts))


def case_collective_pumping(data):
    N = data.draw(counts(6), "N")
    kw = dict(emission=data.draw(rates(), "emission"), dephasing=data.draw(rates(), "dephasing"))
    cp = run(lambda: qsr.CollectivePumping(N, data.draw(rates(), "gc"),
                                           data.draw(rates(), "w"), **kw))
    if cp is None:
        return
    if data.draw(st.booleans(), "steady"):
        method = data.draw(st.sampled_from(["manifold", "closed_form", "dicke", "piqs", "x"]))
        run(lambda: cp.steadystate(method, max_memory=2 ** 28))
    else:
        method = data.draw(st.sampled_from(["manifold", "cumulant", "piqs", "x"]))
        grid = data.draw(grids(), "grid")
        initial = data.draw(st.one_of(initials(), st.just("steady")), "initial")
        run(lambda: cp.evolve(grid, method, initial=initial))


def case_model(data):
    """The generic solvers on the example models of the description."""
    kind = data.draw(st.sampled_from(["driven_dicke", "dipoles", "laser"]), "kind")
    N = data.draw(counts(4), "N")
    if kind == "driven_dicke":
        build = lambda: examples.driven_dicke(N, data.draw(reals(), "rabi"),  # noqa: E731
                                              data.draw(rates(), "gc"),
                                              data.draw(rates(), "dephasing"))[0]
    elif kind == "dipoles":
        build = lambda: examples.all_to_all_dipoles(  # noqa: E731
            N, data.draw(rates(), "f"), data.draw(rates(), "emission"),
            data.draw(rates(), "pumping"))[0]
    else:
        build = lambda: examples.superradiant_laser(  # noqa: E731
            N, data.draw(reals(), "g"), data.draw(rates(0.1, 10), "kappa"),
            data.draw(rates(), "emission"), data.draw(rates(), "pumping"))[0]
    model = run(build)
    if model is None:
        return
    c, s = model.clusters, model.clusters.atom
    e_ops = [c.sum(s.s(2, 2))]
    method = data.draw(st.sampled_from(["auto", "dicke", "full", "manifold", "meanfield",
                                        "cumulant", "trajectories", "nope"]), "method")
    opts = data.draw(options(True), "options")
    if method in ("dicke", "full", "manifold", "trajectories") and model.modes:
        opts = dict(opts, nphot=data.draw(nphots(), "nphot"))
    if method == "trajectories":
        opts = dict(opts, ntraj=data.draw(st.sampled_from([2, 5, 1, 0]), "ntraj"))
    if data.draw(st.booleans(), "steady"):
        opts.pop("atol", None), opts.pop("nsteps", None), opts.pop("rtol", None)
        run(lambda: qsr.steadystate(model, method, e_ops=e_ops, **opts))
    else:
        grid = data.draw(grids(), "grid")
        initial = data.draw(initials(), "initial")
        run(lambda: qsr.evolve(model, grid, method, initial=initial, e_ops=e_ops, **opts))


def case_dipoles(data):
    N = data.draw(counts(4), "N")
    if data.draw(st.booleans(), "all_to_all"):
        build = lambda: qsr.DipoleArray.all_to_all(N, data.draw(rates(), "f"),  # noqa: E731
                                                   data.draw(rates(), "pumping"))
    else:
        build = lambda: qsr.DipoleArray.chain(N, data.draw(rates(0.05, 2), "spacing"),  # noqa
                                              data.draw(rates(), "pumping"))
    arr = run(build)
    if arr is None:
        return
    method = data.draw(st.sampled_from(["auto", "dicke", "full", "meanfield", "cumulant", "?"]))
    if data.draw(st.booleans(), "steady"):
        run(lambda: arr.steadystate(method))
    else:
        grid = data.draw(grids(), "grid")
        initial = data.draw(st.sampled_from([None, "ground", "excited", "superradiant", "x"]))
        run(lambda: arr.evolve(grid, method, initial=initial))


def case_ensemble(data):
    kind = data.draw(st.sampled_from(["identical", "gaussian", "atoms", "counts"]), "kind")
    if kind == "identical":
        run(lambda: qsr.Ensemble.identical(data.draw(counts(50)), g=data.draw(reals()),
                                           detuning=data.draw(reals())))
    elif kind == "gaussian":
        run(lambda: qsr.Ensemble.gaussian(data.draw(counts(50)), sigma=data.draw(rates()),
                                          n_clusters=data.draw(counts(12))))
    elif kind == "atoms":
        run(lambda: qsr.Ensemble.atoms(data.draw(st.lists(reals(), max_size=4))))
    else:
        run(lambda: qsr.Ensemble(data.draw(st.lists(counts(5), max_size=3)),
                                 detunings=data.draw(st.one_of(st.none(), st.lists(reals(),
                                                                                   max_size=3)))))


CASES = {"laser": case_laser, "collective_pumping": case_collective_pumping,
         "model": case_model, "dipoles": case_dipoles, "ensemble": case_ensemble}


def _test(case, profile):
    @settings(max_examples=EXAMPLES[profile], deadline=None, database=None,
              derandomize=profile == "short", print_blob=True,
              phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if profile == "long"
                                                           else []),
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def test(data):
        _VALID[0] = data.draw(st.booleans(), "valid")
        CASES[case](data)
    return test


for _case in CASES:
    globals()[f"test_fuzz_{_case}"] = _test(_case, "short")
    globals()[f"test_fuzz_{_case}_long"] = pytest.mark.slow(_test(_case, "long"))
