"""Solver front end for closed cumulant equations: evolve, steady state, spectrum.

A laser of 20 pumped atoms in one cluster, second order:

>>> import numpy as np
>>> from qutip_superrad.cumulant.engine import Clusters, Mode, Model, parameters
>>> a = Mode("a"); atoms = Clusters("s"); s = atoms.atom
>>> kappa, R = parameters("kappa R"); g, = atoms.parameters("g")
>>> model = Model(atoms.sum(g * (a.a * s.sp + a.adag * s.sm)),
...               [(kappa, a.a), (R, atoms.each(s.sp))])
>>> system = model.close(2, phase_charges={a: 1, atoms: (0, 1)})
>>> solver = system.solver(params={"kappa": 10.0, "R": 1.0}, clusters={"N": [20], "g": [1.0]})
>>> ss = solver.steadystate()
>>> ss["a† a"] == ss[a.num()]                      # lookup by name or by operator
True
>>> round(ss["a† a"].real, 4)
0.9244
>>> sp = solver.spectrum(np.linspace(-2, 2, 201))  # QRT, S(ω) = 2 Re ∫ e^{−iωτ}⟨a†(τ)a(0)⟩dτ
>>> round(sp.linewidth, 4)
0.3718
>>> grid = solver.steadystate_grid({"kappa": [5.0, 10.0], "R": [0.5, 1.0, 2.0]})
>>> grid.shape, bool(np.all(grid.status == "ok"))  # one lowered system, 6 points
((2, 3), True)
>>> round(float(grid["a† a"][1, 1].real), 4)         # the point kappa = 10, R = 1
0.9244

Steady state (:meth:`CumulantSolver.steadystate`): relax by integration
(``scipy.integrate.solve_ivp``: LSODA up to 500 complex unknowns, explicit
Runge–Kutta above) over geometrically growing chunks, then Newton on the real
and imaginary parts with the analytic sparse Jacobian of the sparse backend
(``backend="sparse"``, the default for ``M = 1``; :meth:`CumulantSolver.jacobian`),
otherwise a finite-difference one (dense up to 1000 real unknowns, Newton–Krylov
above).  The analytic Jacobian is also handed to implicit integrators
(``evolve(..., options={"method": "BDF"})``).  Which root is accepted is the option
``accept``: the stable, physical fixed point the dynamics reaches (default),
the first stable one, or any physical one (found by pseudo-transient
continuation).  A run that does not converge raises ``RuntimeError`` with the
residual; NaN or overflow raise as well, and ``max_time`` bounds the wall
time.  Jump rates are checked (real, finite, ≥ 0) when the numbers are bound.
"""
from __future__ import annotations

import re
import time
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from ..._progress import Monitor
from ..._threads import limited_blas
from ..._validate import (ConvergenceError, NoSteadyStateError, TimeLimitError, check_grid,
                          check_options, check_real)
from ...spectrum import pole_spectrum
from .algebra import Atom, Mode, Operator
from .codegen import _pack_params, layout, make_rhs
from .ir import (ClosedEquations, _NotClosed, _Vanishes, _dag_fixed, _family_terms, _gc_paused,
                 _make_family, _moment_name, _parameter_names, _slotify, _split,
                 cumulant_expansion, family_shape, moment_order, set_size)
from .regression import DENSE_EIG_MAX, Resolvent, krylov_modes, propagate, regression_modes

__all__ = ["CumulantSolver", "CumulantState", "CumulantEvolution"]


def _fsize(fam, M):
    """Number of values of ``fam``."""
    return int(np.prod(family_shape(fam, M), dtype=np.int64))


class _Values:
    """Lookup of moments in a state vector (shared by states and evolutions)."""

    def __init__(self, system, M):
        self.system = system
        self.M = M
        self._offsets, _ = layout(system, M)

    def _family_array(self, fam, y):
        o = self._offsets[fam.index]
        sh = family_shape(fam, self.M)
        return y[..., o:o + _fsize(fam, self.M)].reshape(y.shape[:-1] + sh)

    def _get(self, key, y):
        try:
            fam, vars_, conj = self.system.lookup(key)
        except _Vanishes as exc:
            return np.zeros(y.shape[:-1] + tuple(set_size(self.M, n) for n in exc.sets),
                            dtype=complex)
        except _NotClosed:
            # a higher moment: evaluate it from the closed ones by the cumulant expansion
            if y.ndim != 1:
                raise KeyError(f"⟨{key}⟩ is not a family of the closed system; evaluate "
                               "it on a single state (e.g. evo.final_state)") from None
            key = _slotify(next(iter(key.terms)), self.system.clusters)
            val = _operator_value(self.system, self, Operator({key: 1}), self.M)
            return complex(val) if np.ndim(val) == 0 else val
        arr = self._family_array(fam, y)
        lead = arr.ndim - fam.slots
        if fam.slots:
            perm = [int(v[1:]) for v in vars_]
            arr = np.transpose(arr, list(range(lead)) + [lead + p for p in np.argsort(perm)])
        arr = np.conj(arr) if conj else arr
        return complex(arr) if np.ndim(arr) == 0 else arr

    def keys(self):
        """Names of the moment families."""
        return [f.name for f in self.system.families]


class CumulantState(_Values):
    """Values of all moments at one time (steady state or final state).

    ``state["a† a"]`` or ``state[a.num()]`` returns the moment (a complex
    number); for a family with cluster atoms an array over the clusters
    (``state["s22[i0]"]``, shape ``(M,)``; pairs ``(M, M)``).  Moments removed
    by the U(1) filter are zero; higher moments given as operators
    (``state[a.num() * atom.s(2, 2)]``) are evaluated by the cumulant expansion
    of the system's order.

    Attributes
    ----------
    y : ndarray, complex
        The state vector.
    residual : float
        ``max |dy/dt|`` at ``y``.
    info : dict
        Solver diagnostics.
    """

    def __init__(self, system, M, y, residual, info):
        super().__init__(system, M)
        self.y = y
        self.residual = residual
        self.info = info

    def __getitem__(self, key):
        return self._get(key, self.y)

    def __repr__(self):
        head = ", ".join(f"{f.name}" for f in self.system.families[:4])
        return f"CumulantState({len(self.system.families)} families: {head}, …; residual {self.residual:.2g})"


class CumulantEvolution(_Values):
    """Time evolution: ``evo["a† a"]`` is the moment at all ``evo.times``."""

    def __init__(self, system, M, times, ys):
        super().__init__(system, M)
        self.times = times
        self.ys = ys

    def __getitem__(self, key):
        return self._get(key, self.ys)

    @property
    def final_state(self):
        return CumulantState(self.system, self.M, self.ys[-1], np.nan, {})


_SS_DEFAULTS = {"t_max": None, "tol": 1e-10, "maxiter": 50, "rtol": 1e-8, "atol": 1e-10,
                "y0": None, "accept": "attractor", "max_time": 600.0}
_ACCEPT = ("attractor", "stable", "any")
_SSG_DEFAULTS = dict(_SS_DEFAULTS, continuation=True, progress_bar=None)
#: a default relaxation ``t_max = 200/min(rate)`` longer than this many times the fastest time
#: scale (a rate below 1e-6 of the largest) is not integrated: Newton alone, or a ValueError
MAX_RELAXATION_SPAN = 2e8
_EV_DEFAULTS = {"rtol": 1e-8, "atol": 1e-10, "method": "RK45", "max_step": np.inf,
                "max_time": None, "progress_bar": None}
_SP_DEFAULTS = {"operator": None, "state": None, "steadystate": None, "reference": None,
                "method": "poles"}
_SP_METHODS = ("poles", "resolvent")


JACOBIAN_MAX_TERMS = 50_000
"""Largest unrolled size for which generated C gets the analytic Jacobian (lowering ≈ 1.5 s)."""


def _check_index_sets(system, clusters):
    """``({family: size}, clusters)`` for a system with several index sets; ``clusters``
    maps every family name to its per-index values (``N``: atoms per cluster of a
    :class:`~.clusters.Clusters`; a :class:`~.clusters.Modes` family has one mode per
    index and takes its size from ``"M"`` or its parameters)."""
    names = [f.name for f in system.index_sets]
    unknown = set(clusters) - set(names)
    if unknown:
        raise ValueError(f"clusters: unknown families {sorted(unknown)}; with several index "
                         f"sets clusters maps each family {names} to its values")
    used = {}
    for fam, name in system.indexed_keys:
        used.setdefault(fam or names[0], set()).add(name)
    M, out = {}, {}
    for f in system.index_sets:
        vals = dict(clusters.get(f.name, {}))
        if not isinstance(vals, dict):
            raise TypeError(f"clusters[{f.name!r}] must be a dict {{name: values}}")
        atoms = hasattr(f, "levels")
        if atoms and "N" not in vals:
            raise ValueError(f"clusters[{f.name!r}] needs the cluster sizes 'N'")
        size = vals.pop("M", None)
        arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in vals.items()}
        for k in arrays:
            if k not in used.get(f.name, set()) and k != "N":
                raise ValueError(f"unknown per-index parameter {k!r} of {f.name!r}; the "
                                 f"equations use {sorted(used.get(f.name, set()))}")
        sizes = {a.size for a in arrays.values()} | ({int(size)} if size is not None else set())
        if len(sizes) > 1:
            raise ValueError(f"clusters[{f.name!r}]: arrays of different lengths {sorted(sizes)}")
        if not sizes:
            raise ValueError(f"clusters[{f.name!r}] needs its size 'M' (no per-index values)")
        M[f.name] = sizes.pop()
        for k, a in arrays.items():
            if not np.all(np.isfinite(a)):
                raise ValueError(f"clusters[{f.name!r}][{k!r}] must be finite")
        if atoms and np.any(arrays["N"] <= 0):
            raise ValueError(f"clusters[{f.name!r}]['N'] must be cluster sizes > 0")
        out[f.name] = arrays
    return M, out


def _check_clusters(system, clusters):
    """``(M, clusters)`` of the per-index values ``clusters`` of a solver of ``system``
    (validated): ``M`` the number of clusters (``1`` without index sets), or
    ``{family: size}`` with several index sets (:func:`_check_index_sets`)."""
    clusters = dict(clusters or {})
    if len(system.index_sets) > 1 or (system.clusters is not None
                                      and not hasattr(system.clusters, "levels")):
        # several index sets, or one Modes family (one mode per index, no 'N')
        one = len(system.index_sets) == 1
        M, clusters = _check_index_sets(
            system, {system.clusters.name: clusters} if one else clusters)
        if one:
            M, clusters = M[system.clusters.name], clusters[system.clusters.name]
    elif system.clusters is None:
        if clusters:
            raise ValueError("clusters given but the model has no Clusters")
        M = 1
    else:
        if "N" not in clusters:
            raise ValueError("clusters needs the cluster sizes 'N'")
        counts = np.asarray(clusters["N"], dtype=float).ravel()
        if counts.size < 1 or not np.all(np.isfinite(counts)) or np.any(counts <= 0):
            raise ValueError("clusters['N'] must be finite cluster sizes > 0")
        M = counts.size
        for k, v in clusters.items():
            if k not in system.indexed_parameters and k != "N":
                raise ValueError(f"unknown per-cluster parameter {k!r}; the equations use "
                                 f"{system.indexed_parameters}")
            arr = np.asarray(v, dtype=float).ravel()
            if arr.size != M:
                raise ValueError(f"clusters[{k!r}] has {arr.size} values, expected M={M}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"clusters[{k!r}] must be finite")
        clusters.setdefault("N", counts)
    return M, clusters


def _check_jump_rates(model, params, clusters, M):
    """Every jump rate must evaluate to a finite real number >= 0 (in every cluster).

    A negative rate makes the equations explode (the integration then never ends).
    """
    for rate, kind, c in model.jump_list:
        per = clusters
        n = M
        fam = None
        if isinstance(M, dict):
            fam = c.clusters.name if kind == "each" else None
            per = clusters.get(fam, {}) if fam else {}
            n = M[fam] if fam else 1
        for m in range(n):
            vals = {}
            for mono in rate.terms:
                for name, _ in mono:
                    if name.endswith("]") and "[@" in name:
                        base = name.partition("[")[0]
                        if base in per:          # (not in the equations: nothing to check)
                            vals[name] = float(np.ravel(per[base])[m])
                    elif name in params:
                        vals[name] = params[name]
            try:
                v = complex(rate.evaluate(vals))
            except (KeyError, TypeError):        # a parameter without value: reported later
                continue
            if not (np.isfinite(v.real) and v.imag == 0 and v.real >= 0):
                where = ((f" in cluster {m}" if n > 1 else "")
                         + (f" of {fam!r}" if fam and len(M) > 1 else ""))
                shown = v.real if v.imag == 0 else v
                shown_rate = re.sub(r"\[@\w*\]", "", str(rate))
                raise ValueError(f"jump rate {shown_rate} evaluates to "
                                 f"{shown}{where}; rates must be real, finite and >= 0")


class CumulantSolver:
    """Numerical solver for a :class:`~.closure.ClosedSystem`.

    Parameters
    ----------
    system : ClosedSystem
    params : dict
        Values of the scalar parameters (all of ``system.scalar_parameters``;
        unknown names are rejected).
    clusters : dict, optional
        Per-cluster values (arrays of length ``M``) for
        ``system.indexed_parameters``; ``N`` are the cluster sizes (> 0).  With
        several indexed families (several :class:`~.clusters.Clusters` — species of
        atoms — or :class:`~.clusters.Modes`) one dict per family name,
        ``{"A": {"N": [...], "g": [...]}, "B": {"N": [...]}, "b": {"M": 3}}``: each
        family has its own number of indices.
    backend : {"auto", "sparse", "c", "table", "numpy"}
        ``"auto"``: the precompiled sparse kernel for ``M = 1``, generated C
        with cluster loops otherwise (NumPy with a warning without a
        compiler); see :func:`~.codegen.make_rhs`.
    """

    def __init__(self, system, params=None, clusters=None, backend="auto"):
        if not isinstance(system, ClosedEquations):
            raise TypeError("system must be a ClosedSystem (from Model.close)")
        for name, value in (("params", params), ("clusters", clusters)):
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"{name} must be a dict {{name: value}}, got "
                                f"{type(value).__name__}")
        params = dict(params or {})
        known = set(system.scalar_parameters) | system.model.parameter_names
        for k, v in params.items():
            if k not in known:
                raise ValueError(f"unknown parameter {k!r}; the model has "
                                 f"{sorted(known)}")
            check_real(k, v)
        for k in system.scalar_parameters:
            if k not in params:
                raise ValueError(f"parameter {k!r} is not given (the equations use "
                                 f"{system.scalar_parameters})")
        M, clusters = _check_clusters(system, clusters)
        _check_jump_rates(system.model, params, clusters, M)
        self.system = system
        self.M = M
        self.clusters = clusters
        self.rhs = make_rhs(system, M, backend)
        self.offsets, self.n = layout(system, M)
        self._qrt_cache = {}
        self._jac_rhs = None
        self._bind(params)

    def _bind(self, params, clusters=None):
        """Bind scalar parameter values (validated) to every evaluator of this solver.

        The lowered or compiled equations are kept; only their coefficients change
        (what :meth:`steadystate_grid` and :meth:`evolve_grid` rely on).  ``clusters``
        (optional) replaces per-index values, given as to the constructor (with several
        index sets ``{family: {name: values}}``, the cluster sizes ``N`` of a
        :class:`~.clusters.Clusters` and a family's size ``M`` included): they are
        coefficients too, but the number of indices of each family cannot change.
        """
        if clusters is not None:
            new = self._rebound(clusters)
            _check_jump_rates(self.system.model, params, new, self.M)
            self.clusters = new
        self.params = dict(params)
        self.pvec = _pack_params(self.system, self.params, self.clusters, self.M)
        self.rhs.bind(self.pvec)
        if self._jac_rhs:
            self._jac_rhs.bind(self.pvec)
        for qs, r in self._qrt_cache.values():
            r.bind(_pack_params(qs, self.params, self.clusters, self.M))
        per_index = (self.clusters.items() if not isinstance(self.M, dict) else
                     [kv for d in self.clusters.values() for kv in d.items()])
        self.rate_scale = max([abs(v) for v in self.params.values()]
                              + [float(np.max(np.abs(np.asarray(v, float))))
                                 for k, v in per_index if k != "N"] + [1e-300])
        if self.rate_scale <= 1e-200 and self.n:
            # every rate is a plain number of the equations (no named parameters): take
            # the scale from the right-hand side itself (a finite-difference Jacobian norm)
            y0 = self.initial_state()
            dy = 1e-3 * np.random.default_rng(0).standard_normal(self.n)
            jac = np.max(np.abs(np.asarray(self.rhs(y0 + dy)) - np.asarray(self.rhs(y0))))
            self.rate_scale = max(float(jac) / 1e-3, 1e-300)     # ≈ largest row norm of J

    def _rebound(self, clusters):
        """The solver's per-index values with ``clusters`` replacing some, validated as
        by the constructor; a family's size must stay."""
        several = isinstance(self.M, dict)
        given = clusters if several else {None: clusters}
        old = self.clusters if several else {None: self.clusters}
        for fam, vals in given.items():
            if not isinstance(vals, dict):
                raise TypeError((f"clusters[{fam!r}]" if several else "clusters")
                                + " must be a dict {name: values}")
            if fam not in old:                      # reported with the valid names below
                continue
            want = self.M[fam] if several else self.M
            for k, v in vals.items():
                n = int(v) if k == "M" else np.size(v)
                if n != want:
                    what = f"clusters[{fam!r}][{k!r}]" if several else f"clusters[{k!r}]"
                    raise ValueError(f"{what} has {n} values; the solver has M = {want} "
                                     f"{'indices' if several else 'clusters'} (a new size "
                                     "needs a new solver)")
        merged = {f: dict(old.get(f, {}), **given.get(f, {})) for f in set(old) | set(given)}
        _, new = _check_clusters(self.system, merged if several else merged[None])
        return new

    # ------------------------------------------------------------------
    def initial_state(self, values=None):
        """State vector: all moments zero (vacuum, all atoms in level 1) plus ``values``.

        ``values`` maps family names to values (scalars or arrays over clusters).
        """
        y = np.zeros(self.n, dtype=complex)
        for name, v in (values or {}).items():
            fam, _, _ = self.system.lookup(name)
            o = self.offsets[fam.index]
            y[o:o + _fsize(fam, self.M)] = np.broadcast_to(
                np.asarray(v, complex), family_shape(fam, self.M)).ravel()
        return y

    def derivative(self, y):
        """``dy/dt`` at ``y`` (complex vector)."""
        return self.rhs(np.asarray(y, dtype=complex))

    @property
    def has_jacobian(self):
        """Whether an analytic Jacobian is available (see :meth:`jacobian`)."""
        return self._jacobian_source() is not None

    def _jacobian_source(self):
        """The evaluator whose lowered form gives the Jacobian, or ``None``.

        The sparse backend itself; for generated C (clusters) a sparse lowering
        built on first use when the unrolled equations are small
        (:data:`JACOBIAN_MAX_TERMS`): the C keeps the faster right-hand side,
        the lowering gives Newton its Jacobian (laser M = 31: first steady
        state 4.8 s → 1.3 s).
        """
        if hasattr(self.rhs, "jacobian"):
            return self.rhs
        if self._jac_rhs is None and self.rhs.backend == "c":
            from .codegen import SparseRHS
            from .lower import concrete_term_count

            if concrete_term_count(self.system, self.M) <= JACOBIAN_MAX_TERMS:
                self._jac_rhs = SparseRHS(self.system, self.M)
                self._jac_rhs.bind(self.pvec)
            else:
                self._jac_rhs = False
        return self._jac_rhs or None

    def jacobian(self, y):
        """Analytic Jacobian of the real form at ``y`` (``scipy.sparse`` CSR, ``2n × 2n``).

        Rows ``[Re dy/dt, Im dy/dt]``, columns ``[Re y, Im y]``: the form the
        ODE integrators and Newton work with.  From the sparse lowering of the
        equations (``backend="sparse"``, or generated C with small unrolled
        equations).
        """
        src = self._jacobian_source()
        if src is None:
            raise ValueError(f"no analytic Jacobian with the {self.rhs.backend!r} backend for "
                             "these equations; use backend='sparse'")
        return src.jacobian(np.asarray(y, dtype=complex))

    def _unphysical(self, y, positivity=False):
        """Size of the worst violation of physics by the moments (zero physically).

        Self-adjoint monomials (fixed part self-adjoint, cluster transitions σ_ii) must
        have real values; with ``positivity`` the moments of positive operators
        (``a†ᵐaᵐ`` and projectors ``σ_ii``, on distinct atoms) must also be ``≥ 0``.
        """
        worst = 0.0
        for fixed, sl, adjoint in self._diagonal_families():
            vals = y[sl]
            if adjoint:
                worst = max(worst, float(np.max(np.abs(vals.imag), initial=0.0)))
            if positivity and all(f[0] == f[1] for _, f in fixed):
                worst = max(worst, float(np.max(-vals.real, initial=0.0)))
        return worst

    def _diagonal_families(self):
        """``(fixed part, slice, self-adjoint)`` of the families whose cluster transitions
        are all ``σ_ii``."""
        for fam, o in zip(self.system.families, self.offsets):
            fixed, trans = fam.pattern
            if all(t[1][0] == t[1][1] for t in trans):
                yield fixed, slice(o, o + _fsize(fam, self.M)), _dag_fixed(fixed) == fixed

    def physical_part(self, y):
        """``y`` with the imaginary parts of its self-adjoint moments removed.

        Those imaginary parts are conserved by the equations (``d Im⟨A⟩/dt = 0`` for
        ``A = A†``), so a start vector that has them (a random seed) relaxes to a point
        of a spurious continuum that :meth:`steadystate` rightly refuses.
        """
        y = np.array(y, dtype=complex)
        for _, sl, adjoint in self._diagonal_families():
            if adjoint:
                y[sl] = y[sl].real
        return y

    def _check_finite(self, y, where):
        if not np.all(np.isfinite(y)):
            raise RuntimeError(f"{where}: the cumulant equations produced NaN/inf "
                               "(unstable truncation or too large a time step)")

    @limited_blas
    def evolve(self, tlist, y0=None, options=None):
        """Integrate from ``y0`` (default :meth:`initial_state`) over ``tlist``.

        The integrator works on the packed unknowns (:meth:`_reduction`): a Hermitian
        pair family is integrated as its upper triangle and its lower triangle is the
        conjugate, also at ``t = 0`` (the lower triangle of ``y0`` is not read).
        """
        opt = check_options(options, _EV_DEFAULTS, "cumulant evolve")
        tlist = check_grid("tlist", tlist)
        y0 = self.initial_state() if y0 is None else np.asarray(y0, complex)
        if y0.shape != (self.n,):
            raise ValueError(f"y0 must have {self.n} entries, got {y0.shape}")
        keep, dst, src = self._reduction()
        n = keep.size
        packed = self.rhs.packed

        def f(t, x):
            d = packed(x[:n] + 1j * x[n:])
            return np.concatenate([d.real, d.imag])

        extra = {}
        if opt["method"] in ("BDF", "Radau", "LSODA") and self.has_jacobian:
            # implicit methods: the analytic Jacobian (LSODA takes dense matrices only)
            dense = opt["method"] == "LSODA"
            jacobian = self._reduced_jacobian(keep, dst, src,
                                              lambda x: self.rhs.unpack(x[:n] + 1j * x[n:]))

            def jac(t, x):
                J = jacobian(x)
                return J.toarray() if dense else J
            extra["jac"] = jac
        hint = (f" (method {opt['method']}); the equations may be stiff or exploding — check "
                "the rates, or raise max_time")
        x0 = self.rhs.pack(y0)
        with Monitor(f, tlist, opt["max_time"], opt["progress_bar"], "cumulant evolve",
                     hint) as watched:
            y = watched.solve(tlist, np.concatenate([x0.real, x0.imag]), method=opt["method"],
                              rtol=opt["rtol"], atol=opt["atol"], max_step=opt["max_step"],
                              **extra)
        ys = self.rhs.unpack(y[:, :n] + 1j * y[:, n:])
        self._check_finite(ys, "evolve")
        return CumulantEvolution(self.system, self.M, tlist, ys)

    def _reduction(self):
        """``(keep, dst, src)`` of the packed layout (:func:`~.codegen.packing`): the
        independent unknowns.  Hermitian pair families (``Y[j, m] = conj(Y[m, j])``)
        keep their upper triangle only — the lower one is not independent, and keeping
        it would make the Jacobian singular."""
        return self.rhs.packing

    def _newton(self, y, tol, maxiter, ptc=None):
        """Damped Newton on the real form; with ``ptc = h0`` pseudo-transient continuation.

        PTC takes implicit-Euler steps ``(I/h − J) Δx = f`` with ``h`` growing as the
        residual falls (switched evolution relaxation), i.e. it follows the damped
        dynamics and becomes Newton near the fixed point: fast and oscillations are
        damped, where time integration must resolve them.  The unknowns are the
        packed ones (:meth:`_reduction`), evaluated by the packed kernel of the
        generated C (no expansion per call).
        """
        keep, dst, src = self._reduction()
        n = keep.size
        scale = self.rate_scale
        packed = self.rhs.packed
        out = np.empty(n, dtype=complex)

        def expand(x):
            return self.rhs.unpack(x[:n] + 1j * x[n:])

        def F(x):
            d = packed(x[:n] + 1j * x[n:], out)
            return np.concatenate([d.real, d.imag])

        jacobian = self._reduced_jacobian(keep, dst, src, expand) if self.has_jacobian else None
        y = self.rhs.pack(np.asarray(y, dtype=complex))
        x = np.concatenate([y.real, y.imag])
        fx = F(x)
        hist = [float(np.max(np.abs(fx)))]
        J = None
        for it in range(maxiter):
            # iterate past `tol` until the residual stagnates (machine precision)
            if hist[-1] <= 1e-4 * tol * scale * max(1.0, float(np.max(np.abs(x)))):
                break
            if len(hist) > 2 and hist[-1] > 0.5 * hist[-2] and \
                    hist[-1] <= tol * scale * max(1.0, float(np.max(np.abs(x)))):
                break
            if ptc is not None and 2 * n > 1000:
                raise ValueError("pseudo-transient continuation needs a dense Jacobian "
                                 "(at most 1000 real unknowns)")
            if 2 * n <= 1000:
                if jacobian is not None:
                    J = jacobian(x).toarray()
                else:
                    J = np.empty((2 * n, 2 * n))
                    for j in range(2 * n):
                        h = 1e-7 * max(1.0, abs(x[j]))
                        xp = x.copy()
                        xp[j] += h
                        J[:, j] = (F(xp) - fx) / h
                if ptc is not None:
                    # keep h below 1/(2 λ+) of the growing modes at this point, so that
                    # implicit Euler is repelled by unstable fixed points as the dynamics is
                    grow = float(np.max(np.linalg.eigvals(J).real))
                    if grow > 0:
                        ptc = min(ptc, 0.5 / grow)
                A = J if ptc is None else J - np.eye(2 * n) / ptc
                try:
                    with warnings.catch_warnings():   # near-singular J: handled by the caller
                        warnings.simplefilter("ignore", sla.LinAlgWarning)
                        dx = sla.solve(A, -fx)
                except (sla.LinAlgError, ValueError):
                    dx = sla.lstsq(A, -fx)[0]
            elif jacobian is not None:
                # large systems: sparse LU of the analytic Jacobian
                from scipy.sparse.linalg import lsqr, splu

                Js = jacobian(x)
                try:
                    dx = splu(Js.tocsc()).solve(-fx)
                except RuntimeError:               # exactly singular: least squares
                    dx = lsqr(Js, -fx, atol=1e-14, btol=1e-14)[0]
            else:
                from scipy.sparse.linalg import LinearOperator, gmres

                def mv(v):
                    h = 1e-7 * max(1.0, float(np.max(np.abs(x)))) / max(np.linalg.norm(v), 1e-300)
                    return (F(x + h * v) - fx) / h
                dx, _ = gmres(LinearOperator((2 * n, 2 * n), matvec=mv), -fx, rtol=1e-10,
                              restart=200, maxiter=20)
            if ptc is not None:
                xn = x + dx
                fn = F(xn)
                if not np.all(np.isfinite(fn)):
                    ptc /= 10
                    continue
                # SER: h grows as the residual falls (and slowly while it stagnates)
                ptc *= 1.1 * min(max(hist[-1] / max(float(np.max(np.abs(fn))), 1e-300), 0.5), 10.0)
                x, fx = xn, fn
                hist.append(float(np.max(np.abs(fx))))
                continue
            # damped step: accept the first that reduces the residual
            lam = 1.0
            while lam > 1e-4:
                xn = x + lam * dx
                fn = F(xn)
                if np.all(np.isfinite(fn)) and np.max(np.abs(fn)) < hist[-1]:
                    break
                lam /= 2
            if not np.all(np.isfinite(fn)):
                # every damped step overflows: Newton has left the basin here; stop with the
                # last finite iterate (the caller's verdict rejects it and relaxes further)
                break
            x, fx = xn, fn
            hist.append(float(np.max(np.abs(fx))))
        return expand(x), hist, J

    def _reduced_jacobian(self, keep, dst, src, expand):
        """``x ↦`` analytic Jacobian of Newton's reduced real unknowns (sparse).

        Chain rule through :meth:`_reduction`: kept rows, and the columns of a
        mirrored entry ``z[dst] = conj(z[src])`` added to those of ``src``.
        """
        N, n = self.n, keep.size
        if n == N:
            # nothing mirrored (every M = 1 system): the packed unknowns are the full ones,
            # and the two sparse products per call would cost more than the Jacobian
            return lambda x: self.jacobian(expand(x))
        col = np.full(N, -1)
        col[keep] = np.arange(n)
        rows = np.concatenate([keep, N + keep, dst, N + dst])
        cols = np.concatenate([col[keep], n + col[keep], col[src], n + col[src]])
        vals = np.concatenate([np.ones(2 * n), np.ones(dst.size), -np.ones(dst.size)])
        E = sp.csr_matrix((vals, (rows, cols)), shape=(2 * N, 2 * n))
        pick = np.concatenate([keep, N + keep])

        def jacobian(x):
            return (self.jacobian(expand(x))[pick] @ E).tocsr()
        return jacobian

    def _verdict(self, yn, J, tol, accept):
        """``(acceptable, growth rate, eigenvalues)`` of a Newton result ``yn``.

        A root must be finite, solve the equations to ``tol`` and be physical: the
        truncated equations also have spurious roots (e.g. ⟨σ22⟩ complex, or
        ⟨a†a⟩ < 0) that can even be stable.  Unless ``accept == "any"`` it must be
        linearly stable (a laser also has the unstable dark fixed point).
        """
        if not np.all(np.isfinite(yn)):
            return False, None, None
        size = max(1.0, float(np.max(np.abs(yn))))
        if float(np.max(np.abs(self.rhs(yn)))) > tol * self.rate_scale * size:
            return False, None, None
        eig = np.linalg.eigvals(J) if J is not None else np.array([-np.inf])
        growth = float(np.max(eig.real))
        if accept != "any" and growth > 1e-8 * self.rate_scale:
            return False, growth, eig
        return self._unphysical(yn, positivity=accept == "any") <= 1e-8 * size, growth, eig

    def _tiny_parameters(self):
        """Parameters below 1e-9 of the largest rate: the time scales they set are beyond
        any relaxation (an ill-posed input rather than a failure of the method)."""
        return sorted(k for k, v in self.params.items() if 0 < abs(v) <= 1e-9 * self.rate_scale)

    @limited_blas
    def steadystate(self, options=None):
        """Steady state by integration followed by Newton polishing.

        Options (dict, unknown keys rejected): ``t_max`` (integration time,
        default ``200 / min rate``), ``tol`` (residual relative to the largest
        rate, 1e-10), ``maxiter`` (Newton, 50), ``rtol``/``atol`` (ODE),
        ``y0`` (start vector), ``accept`` (``"attractor"``, ``"stable"`` or ``"any"``
        fixed point), ``max_time`` (600 s: ``TimeLimitError`` with the time reached).

        Returns
        -------
        CumulantState

        Raises
        ------
        ValueError
            The equations have no dynamics (every parameter zero), or do not settle
            because of parameters below 1e-9 of the largest rate (named).
        NoSteadyStateError
            (a ``RuntimeError`` and a ``ValueError``) if every fixed point Newton finds
            is unstable and the relaxation does not settle (limit cycle, chaos).
        RuntimeError
            If the residual does not fall below ``tol`` (the system may have a
            limit cycle or no stable fixed point at this order).
        """
        try:
            return self._steadystate(options)
        except RuntimeError as exc:
            tiny = self._tiny_parameters()
            if not tiny or isinstance(exc, TimeLimitError):
                raise
            raise ValueError(f"cumulant steady state: the parameters {tiny} are below 1e-9 of "
                             f"the largest rate ({self.rate_scale:.3g}); the dynamics they "
                             f"drive does not settle ({exc}); set them to 0 or rescale") from None

    @limited_blas
    def steadystate_grid(self, params_grid, options=None):
        """Steady states on a grid of scalar parameters, with one lowered system.

        Parameters
        ----------
        params_grid : dict
            ``{name: 1-D values}`` of scalar parameters; the grid is their
            Cartesian product (axes in the order given).  The other parameters
            and the clusters keep this solver's values.  Unknown names,
            non-finite values and jump rates that are negative at some point
            raise ``ValueError`` naming the parameter, before any solve.
        options : dict, optional
            Those of :meth:`steadystate` (for every point), and
            ``continuation`` (default ``True``: Newton from the steady state of
            the previous point, a grid neighbour; accepted under the same
            residual, stability and physicality conditions, otherwise the point
            is solved from scratch) and ``progress_bar`` (QuTiP's values).

        Returns
        -------
        CumulantGrid
            ``grid["a† a"]`` shaped like the grid; per-point ``status``,
            ``errors``, ``newton_iterations``, ``continued``, ``wall_time``
            (see :mod:`.grid`).  A point that fails does not stop the grid.

        Notes
        -----
        Continuation follows a branch of fixed points: in a bistable region it
        keeps the attractor connected to the previous point.  Above 1000 real
        unknowns the stability of a continued root is not checked (as after a
        relaxation in :meth:`steadystate`).
        """
        from .grid import run_grid

        opt = check_options(options, _SSG_DEFAULTS, "cumulant steadystate_grid")
        if opt["accept"] not in _ACCEPT:
            raise ValueError(f"option 'accept' must be one of {_ACCEPT}, got {opt['accept']!r}")
        if not isinstance(opt["continuation"], bool):
            raise TypeError(f"option 'continuation' must be True or False, got "
                            f"{opt['continuation']!r}")
        single = {k: opt[k] for k in _SS_DEFAULTS}

        def work(idx, params, previous):
            return self.steadystate_near(previous if opt["continuation"] else None, single)

        return run_grid(self, "steadystate", params_grid, work, opt["progress_bar"])

    def steadystate_near(self, previous, options=None):
        """Steady state at the bound parameters, continued from a neighbour's if possible.

        The step of :meth:`steadystate_grid` at one point, also used by the grid
        path of :func:`qutip_superrad.sweep`.

        Parameters
        ----------
        previous : CumulantState or None
            Steady state of a neighbouring parameter point (same equations).  Newton
            starts from it; the root is accepted under the conditions of
            :meth:`steadystate` (residual, stability, physical moments), otherwise the
            point is solved from scratch.  ``None``: from scratch.
        options : dict, optional
            Those of :meth:`steadystate`.

        Returns
        -------
        state : CumulantState
        newton_iterations : int
            Every Newton iteration spent (the continuation attempt included).
        continued : bool
            Whether the root came from ``previous``.
        """
        opt = check_options(options, _SS_DEFAULTS, "cumulant steadystate")
        spent = 0
        if previous is not None:
            if not isinstance(previous, CumulantState) or previous.y.shape != (self.n,):
                raise TypeError("previous must be a CumulantState of these equations")
            state, spent = self._continue(previous.y, opt)
            if state is not None:
                return state, spent, True
        state = self.steadystate(opt)
        return state, spent + state.info["newton_iterations"], False

    def _continue(self, y, opt):
        """``(state or None, Newton iterations)``: Newton from a neighbour's steady state
        ``y``, accepted as :meth:`steadystate` accepts a root."""
        if self.rate_scale <= 1e-200 or (opt["t_max"] is None and self._tiny_parameters()):
            return None, 0
        yn, hist, J = self._newton(y, opt["tol"], opt["maxiter"])
        good, growth, _ = self._verdict(yn, J, opt["tol"], opt["accept"])
        if not good:
            return None, len(hist) - 1
        info = {"t_relax": 0.0, "newton_residuals": hist, "converged": True,
                "max_growth_rate": growth, "newton_iterations": len(hist) - 1,
                "continued": True}
        return (CumulantState(self.system, self.M, yn, float(np.max(np.abs(self.rhs(yn)))),
                              info), len(hist) - 1)

    @limited_blas
    def evolve_grid(self, tlist, params_grid, y0=None, options=None):
        """Evolutions on a grid of scalar parameters, with one lowered system.

        Parameters
        ----------
        tlist : array_like
            Times (as for :meth:`evolve`).
        params_grid : dict
            As for :meth:`steadystate_grid` (validated before any work).
        y0 : array_like, optional
            Start vector of every point (default :meth:`initial_state`).
        options : dict, optional
            Those of :meth:`evolve`; ``progress_bar`` counts grid points.

        Returns
        -------
        CumulantGrid
            ``grid["a† a"]`` has shape ``grid.shape + (len(tlist),)``.
        """
        from .grid import run_grid

        opt = check_options(options, _EV_DEFAULTS, "cumulant evolve_grid")
        tlist = check_grid("tlist", tlist)
        if y0 is not None:
            y0 = np.asarray(y0, complex)
            if y0.shape != (self.n,):
                raise ValueError(f"y0 must have {self.n} entries, got {y0.shape}")
        single = dict(opt, progress_bar=None)

        def work(idx, params, previous):
            return self.evolve(tlist, y0, single), -1, False

        return run_grid(self, "evolve", params_grid, work, opt["progress_bar"])

    def _slow_steadystate(self, y, t_max, opt):
        """Steady state when relaxing would span more than :data:`MAX_RELAXATION_SPAN`
        of the fastest time scale (a rate barely above the 1e-9 cut-off integrates for
        hours): pseudo-transient Newton only, accepting a linearly stable physical fixed
        point; otherwise a ``ValueError`` naming the slow parameters."""
        slow = sorted(k for k, v in self.params.items()
                      if 0 < abs(v) <= 200.0 / MAX_RELAXATION_SPAN * self.rate_scale)
        if 2 * self.n <= 1000:
            yn, hist, J = self._newton(y, opt["tol"], max(opt["maxiter"], 500),
                                       ptc=1.0 / self.rate_scale)
            good, growth, _ = self._verdict(yn, J, opt["tol"], "stable")
            if good:
                self._check_finite(yn, "steadystate")
                info = {"t_relax": 0.0, "newton_residuals": hist, "converged": True,
                        "max_growth_rate": growth, "newton_iterations": len(hist) - 1,
                        "route": "pseudo-transient Newton (the "
                        f"slow parameters {slow} make a relaxation hopeless)"}
                return CumulantState(self.system, self.M, yn,
                                     float(np.max(np.abs(self.rhs(yn)))), info)
        raise ValueError(f"cumulant steady state: the parameters {slow} are at most "
                         f"{200.0 / MAX_RELAXATION_SPAN:.0e} of the largest rate "
                         f"({self.rate_scale:.3g}): relaxing over their time scale (t = "
                         f"{t_max:.3g}, {t_max * self.rate_scale:.2g} times the fastest) is "
                         "hopeless and Newton found no stable fixed point without it; set "
                         "them to 0, rescale, or give the option t_max")

    def _steadystate(self, options=None):
        """The steady state of :meth:`steadystate` (without the diagnosis of tiny rates)."""
        opt = check_options(options, _SS_DEFAULTS, "cumulant steadystate")
        if self.rate_scale <= 1e-200:
            # no rate and no coupling: every state is stationary (a tolerance relative to a
            # zero scale would otherwise be 1e-310 and never met)
            zero = sorted(k for k, v in self.params.items() if v == 0)
            raise ValueError(f"cumulant steady state: the equations have no dynamics (the "
                             f"parameters {zero} are zero), so every state is stationary and "
                             "the steady state is not unique; make a rate > 0")
        if opt["t_max"] is None and self._tiny_parameters():
            # the default relaxation time 200/min(rate) would be ≥ 2e11 of the fastest time
            # scale: an integration that runs for hours
            raise ValueError(f"cumulant steady state: the parameters {self._tiny_parameters()} "
                             f"are at most 1e-9 of the largest rate ({self.rate_scale:.3g}); "
                             "relaxing over their time scale is hopeless: set them to 0, "
                             "rescale, or give the option t_max")
        t0 = time.perf_counter()
        rates = [abs(v) for v in self.params.values() if v != 0]
        t_max = opt["t_max"] or 200.0 / max(min(rates) if rates else 1.0, 1e-12)
        t_max = check_real("t_max", t_max)
        y = self.initial_state() if opt["y0"] is None else np.asarray(opt["y0"], complex)
        if y.shape != (self.n,):
            raise ValueError(f"y0 must have {self.n} entries, got {y.shape}")
        if opt["t_max"] is None and t_max * self.rate_scale > MAX_RELAXATION_SPAN:
            return self._slow_steadystate(y, t_max, opt)
        # Relax over geometrically growing chunks and try Newton after each; accept a root
        # only if it is a *stable* fixed point (a laser also has the unstable dark one).
        # Small stiff systems: LSODA (stiff/non-stiff switching; BDF with its finite-difference
        # Jacobian crawls near a fixed point with slow modes: V-level laser 22 s vs 1.3 s);
        # large ones: explicit RK.
        method = "LSODA" if 2 * self.n <= 1000 else "RK45"
        accept = opt["accept"]
        if accept not in _ACCEPT:
            raise ValueError(f"option 'accept' must be one of {_ACCEPT}, got {accept!r}")
        t_done, ok, unstable, candidate, growth = 0.0, False, None, None, float("nan")
        iterations = 0                                  # Newton iterations, all attempts
        if accept != "attractor" and 2 * self.n <= 1000:
            # pseudo-transient continuation from the start: follows the damped dynamics
            # without resolving its oscillations (which cost time integration dearly)
            yn, hist, J = self._newton(y, opt["tol"], max(opt["maxiter"], 500),
                                       ptc=1.0 / self.rate_scale)
            iterations += len(hist) - 1
            verdict = self._verdict(yn, J, opt["tol"], accept)
            if verdict[0]:
                y, ok, growth = yn, True, verdict[1]
        residuals = []                     # |rhs| at the end of each relaxation chunk

        def schedule():
            """Chunks of the relaxation: up to t_max, then (when t_max was not given) at most
            two more of 4.5 t_max while |rhs| still falls by half from chunk to chunk
            (slowly damped relaxation oscillations around a circle of lasing fixed points
            outlast 200/min(rate); a limit cycle does not fall and stops here)."""
            yield from t_max * np.array([1e-4, 1e-3, 1e-2, 1e-1, 0.9])
            for _ in range(2 if opt["t_max"] is None else 0):
                if len(residuals) < 2 or not residuals[-1] < 0.5 * residuals[-2]:
                    return
                yield 4.5 * t_max

        for dt in ([] if ok else schedule()):
            left = (None if opt["max_time"] is None
                    else opt["max_time"] - (time.perf_counter() - t0))
            if left is not None and left <= 0:
                raise TimeLimitError("cumulant steady state exceeded max_time = "
                                 f"{opt['max_time']:.3g} s after relaxing to t = {t_done:.3g}")
            evo = self.evolve([0.0, dt], y, {"rtol": opt["rtol"], "atol": opt["atol"],
                                             "method": method, "max_time": left})
            y = evo.ys[-1]
            t_done += dt
            residuals.append(float(np.max(np.abs(self.rhs(y)))))
            small = residuals[-1] < 1e-5 * self.rate_scale * max(1.0, float(np.max(np.abs(y))))
            if 2 * self.n > 1000 and not small:
                continue   # large systems: stability is certified by the relaxation itself
            yn, hist, J = self._newton(y, opt["tol"], opt["maxiter"])
            iterations += len(hist) - 1
            good, growth, eig = self._verdict(yn, J, opt["tol"], accept)
            if not good:
                if growth is not None and growth > 1e-8 * self.rate_scale:
                    unstable = growth
                continue
            if accept == "attractor":
                # A root far from the relaxed state may belong to another attractor (mean
                # field is often bistable).  Accept it only once Newton from two successive
                # points of the trajectory lands on it while the trajectory approaches it.
                # A (near-)zero eigenvalue means a continuum of fixed points (a conserved
                # quantity, e.g. the total spin) along which Newton slides: there, accept
                # only the point the dynamics itself reached.
                size = max(1.0, float(np.max(np.abs(yn))))
                dist = float(np.max(np.abs(yn - y)))
                marginal = float(np.min(np.abs(eig))) < 1e-6 * self.rate_scale
                if not small and dist > 1e-3 * size:
                    confirmed = (not marginal and candidate is not None
                                 and np.max(np.abs(yn - candidate[0])) < 1e-6 * size
                                 and dist < candidate[1])
                    candidate = (yn, dist)
                    if not confirmed:
                        continue
            y, ok = yn, True
            break
        self._check_finite(y, "steadystate")
        res = float(np.max(np.abs(self.rhs(y))))
        if not ok:
            if unstable is not None and len(residuals) >= 2 \
                    and not residuals[-1] < 0.5 * residuals[-2]:
                raise NoSteadyStateError(
                    f"cumulant steady state: no stable fixed point at order "
                    f"{self.system.order} ("
                    f"{'method=' + repr('meanfield') if self.system.order == 1 else 'cumulants'}"
                    "): Newton found only unstable fixed points "
                    f"(growth rate {unstable:.3g}) and the "
                    f"relaxation does not settle (residual {residuals[-1]:.3g} after t = "
                    f"{t_done:.3g}): the dynamics oscillates (limit cycle) or is chaotic; "
                    "use evolve(), or another order or method")
            extra = (f"; Newton found only unstable fixed points (growth rate {unstable:.3g})"
                     if unstable is not None else "")
            raise ConvergenceError(f"cumulant steady state did not converge: residual {res:.3g} "
                                   f"(tolerance {opt['tol'] * self.rate_scale:.3g}, relative "
                                   f"to the largest moment) after t = {t_done:.3g}{extra}; the "
                                   "dynamics may oscillate (limit cycle) or the truncation may "
                                   "have no stable fixed point at this order — try evolve(), a "
                                   "larger t_max or another order")
        info = {"t_relax": t_done, "newton_residuals": hist, "converged": ok,
                "max_growth_rate": growth, "newton_iterations": iterations}
        return CumulantState(self.system, self.M, y, res, info)

    # ------------------------------------------------------------------
    def correlation_system(self, operator=None):
        """Quantum-regression equations for ``⟨Y(τ) B(0)⟩``, see :func:`qrt_system`.

        Derived once per operator and kept, with its bound evaluator, so that
        repeated spectra and correlations do not re-derive them.
        """
        return self._qrt(operator)[0]

    def _qrt(self, operator):
        cache = self._qrt_cache
        if operator not in cache:
            from .lower import MAX_CONCRETE_TERMS, concrete_term_count

            qs = qrt_system(self.system, operator)
            # the sparse lowering gives the regression matrix analytically (one Jacobian
            # evaluation); NumPy column by column only beyond the lowering's limit
            backend = "sparse" if concrete_term_count(qs, self.M) <= MAX_CONCRETE_TERMS \
                else "numpy"
            r = make_rhs(qs, self.M, backend)
            r.bind(_pack_params(qs, self.params, self.clusters, self.M))
            cache[operator] = (qs, r)
        return cache[operator]

    @limited_blas
    def spectrum(self, omega, options=None):
        """Emission spectrum from the quantum regression theorem at order ``k``.

        ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨δB†(τ) δB(0)⟩ dτ`` with ``δB = B − ⟨B⟩``
        (coherent part removed; its weight ``|⟨B⟩|²`` is in
        ``checks["coherent"]``).

        Parameters
        ----------
        omega : array_like
            Increasing frequencies.
        options : dict, optional
            ``operator`` (``B``, default the annihilation operator of the model's
            mode), ``state`` (a :class:`CumulantState`), ``steadystate`` (options
            for it), ``reference`` (see :meth:`qrt_matrix`), ``method``:
            ``"poles"`` (default: poles and residues of the regression matrix, so
            the cost does not grow with ``len(omega)``; above 3000 equations Ritz
            poles of a shift-invert Krylov model verified at the line,
            ``checks["spectrum_method"] == "krylov"``; falls back to the
            resolvent when the eigenvectors are ill-conditioned, the reason in
            ``checks["fallback"]``) or ``"resolvent"`` (one sparse solve per
            frequency: the oracle).

        Returns
        -------
        SpectrumResult
            ``checks["spectrum_method"]`` is the method used; ``checks["eigvec_rcond"]``
            and ``checks["probe_error"]`` the conditioning checks of the poles.
        """
        opt = check_options(options, _SP_DEFAULTS, "cumulant spectrum")
        omega = check_grid("omega", omega)
        q = self._qrt_modes(opt, probes=omega[[0, omega.size // 2, -1]], omega=omega)
        checks = {"coherent": q["coherent"], "qrt_size": q["size"],
                  "spectrum_method": q["method"], "fallback": q["fallback"],
                  "eigvec_rcond": q["eigvec_rcond"], "probe_error": q["probe_error"],
                  "krylov": q.get("krylov")}
        lam = q["poles"]
        hints = lam.imag[np.argsort(-lam.real)[:5]] if lam is not None else ()
        if q["method"] != "resolvent":
            out = pole_spectrum(omega, lam, q["residues"], "cumulant-engine", hints=hints,
                                checks=checks, scale=abs(q["coherent"]))
        else:
            # δu = 0 means nothing is emitted (dark); the residues themselves are not used
            out = pole_spectrum(omega, np.zeros(0) if lam is None else lam, q["du"],
                                "cumulant-engine", hints=hints, checks=checks,
                                scale=abs(q["coherent"]),
                                evaluate=Resolvent(q["A"], q["e"], q["du"]))
            out.checks["residues"] = None
        out.steady_state = q["state"]
        return out

    def _qrt_modes(self, opt, probes=(), omega=None):
        """Regression data of ``⟨δB†(τ)δB(0)⟩ = Σ c_k e^{λ_k τ}``: a dict with the steady
        ``state``, ``A``, ``e``, ``du`` (``u0 − u∞``), ``coherent``, ``size``, ``poles``,
        ``residues`` and ``method`` (``"poles"``; ``"krylov"`` for a spectrum of more than
        :data:`~.regression.DENSE_EIG_MAX` equations; or ``"resolvent"`` with the
        ``fallback`` reason when the residues are not trusted)."""
        method = opt["method"]
        if method not in _SP_METHODS:
            raise ValueError(f"option 'method' must be one of {_SP_METHODS}, got {method!r}")
        ss = opt["state"] or self.steadystate(opt["steadystate"])
        if not isinstance(ss, CumulantState):
            raise TypeError("option 'state' must be a CumulantState of this solver")
        A, u0, uinf, e, _ = self.qrt_matrix(ss, opt["operator"], opt["reference"])
        q = {"state": ss, "A": A, "e": e, "du": u0 - uinf, "coherent": complex(e @ uinf),
             "size": A.shape[0], "fallback": None, "eigvec_rcond": float("nan"),
             "probe_error": float("nan"), "residues": None}
        if method == "poles":
            lam, res, info = regression_modes(A, q["du"], e, probes)
            too_large = info.pop("too_large", False)
            q.update(info)
            if too_large and omega is not None:
                # a spectrum of a large system: Ritz poles verified at the line
                try:
                    lam, res, q["krylov"] = krylov_modes(A, q["du"], e, omega)
                    q["fallback"], method = None, "krylov"
                except RuntimeError as exc:
                    q["fallback"] += f"; shift-invert Krylov did not converge ({exc})"
        else:
            lam = (np.linalg.eigvals(A.toarray()) if A.shape[0] <= DENSE_EIG_MAX else None)
        if lam is not None and np.any(lam.real >= 0):
            raise ValueError(f"regression matrix has a non-decaying pole (max Re λ = "
                             f"{lam.real.max():.3g}); the correlation does not decay")
        if method != "resolvent" and q["fallback"] is None:
            q.update(poles=lam, residues=res, method=method)
        else:
            q.update(poles=lam, method="resolvent")
        return q

    @limited_blas
    def correlation(self, taulist, options=None):
        """Two-time correlation ``⟨B†(τ) B(0)⟩`` in the steady state (quantum regression).

        Parameters
        ----------
        taulist : array_like
            Non-negative delays.
        options : dict, optional
            As for :meth:`spectrum` (``operator``, ``state``, ``steadystate``,
            ``reference``, ``method``; ``"resolvent"`` and the fallback of
            ``"poles"`` propagate with sparse matrix exponentials instead).

        Returns
        -------
        ndarray, complex
            ``⟨B†(τ)B(0)⟩ = ⟨B†⟩⟨B⟩ + Σ_k c_k e^{λ_k τ}`` (the constant is the
            coherent part; ``g⁽¹⁾(0) = ⟨B†B⟩``).
        """
        opt = check_options(options, _SP_DEFAULTS, "cumulant correlation")
        tau = np.asarray(taulist, dtype=float)
        if tau.ndim != 1 or not np.all(np.isfinite(tau)) or np.any(tau < 0):
            raise ValueError("taulist must be a 1-D array of finite delays >= 0")
        q = self._qrt_modes(opt)
        if q["method"] == "poles":
            return q["coherent"] + np.exp(np.outer(tau, q["poles"])) @ q["residues"]
        return q["coherent"] + propagate(q["A"], q["du"], q["e"], tau)

    def qrt_matrix(self, state, operator=None, reference=None):
        """``(A, u0, u∞, e, system)`` of ``d/dτ u = A u + b`` for ``u = ⟨Y(τ)B⟩``.

        ``A`` is a ``scipy.sparse`` CSR matrix: the analytic derivative of the
        sparse lowering of the regression equations (column by column from the
        NumPy right-hand side when they are too large to lower,
        :meth:`_qrt_matrix_columns`).  ``e`` selects ``Y = B†``; ``u∞ = −A⁻¹b``
        is the ``τ → ∞`` limit.

        ``reference = {"rate": ν, "charges": {subsystem: charge(s)}}`` measures the
        correlation against a stable reference instead of the model's rotating
        frame, when that frame follows a laser whose phase diffuses with
        ``⟨φ̇φ̇⟩ = ν δ`` and the model carries the resulting collective dephasing
        ``ν D[K]`` (``K`` the generator given by the charges, e.g. ``a†a + S_2``).
        ``ν D[K]`` damps ``⟨Y(τ)B⟩`` by ``½ν m²`` (``m`` the charge of ``Y``); in
        the stable frame it is ``½ν (m − m₀)²`` with ``m₀`` the charge of ``B†``
        (C. Hotter et al., PRR 3, 013243 (2021), App. B; Stratonovich → Itô).
        ``ν`` is a number or the name of a model parameter.  The coherent part
        ``⟨B†⟩⟨B⟩`` is kept as in the model's frame.
        """
        from scipy.sparse.linalg import splu

        qs, r = self._qrt(operator)
        M = self.M
        offs, ntot = layout(qs, M)
        nss = layout(self.system, M)[1]
        base = np.zeros(ntot, complex)
        base[:nss] = state.y
        b = r(base)[nss:]
        m = ntot - nss
        A = self._qrt_matrix_lowered(r, base, nss, m) if hasattr(r, "wirtinger") else \
            self._qrt_matrix_columns(r, base, nss, m)
        if reference is not None:
            A = (A + sp.diags(self._reference_shift(qs, offs, nss, m, reference))).tocsr()
        uinf = -splu(A.tocsc()).solve(b) if np.any(b) else np.zeros(m, complex)
        # u0 = ⟨Y B⟩ at equal times
        u0 = np.zeros(m, complex)
        for fam in qs.families[len(self.system.families):]:
            o = offs[fam.index] - nss
            val = _operator_value(self.system, state, fam.operator * qs.B, M)
            u0[o:o + _fsize(fam, M)] = np.ravel(val)
        e = np.zeros(m)
        fam, _, _ = qs.lookup_corr(next(iter(qs.B.dag().terms)))
        e[offs[fam.index] - nss] = 1.0
        return A, u0, uinf, e, qs

    @staticmethod
    def _qrt_matrix_lowered(r, base, nss, m):
        """Regression matrix from the Wirtinger derivatives of the lowered equations."""
        rows, cols, dy, dyc = r.wirtinger(base)
        sel = (rows >= nss) & (cols >= nss)
        if np.any(dyc[sel]):
            raise RuntimeError("regression equations depend on conjugated correlations")
        return sp.csr_matrix((dy[sel], (rows[sel] - nss, cols[sel] - nss)), shape=(m, m))

    @staticmethod
    def _qrt_matrix_columns(r, base, nss, m):
        """Regression matrix column by column from the right-hand side (the oracle of
        :meth:`_qrt_matrix_lowered`; ``m + 1`` evaluations)."""
        b = r(base)[nss:]
        A = np.empty((m, m), complex)
        for j in range(m):
            v = base.copy()
            v[nss + j] = 1.0
            A[:, j] = r(v)[nss:] - b
        return sp.csr_matrix(A)

    def _reference_shift(self, qs, offs, nss, m, reference):
        """Diagonal ``ν (m m₀ − ½ m₀²)`` per regression family (see :meth:`qrt_matrix`)."""
        from .closure import _charge, _normalise_charges

        if not isinstance(reference, dict) or set(reference) != {"rate", "charges"}:
            raise ValueError("option 'reference' must be a dict with keys 'rate' and 'charges'")
        rate = reference["rate"]
        if isinstance(rate, str):
            if rate not in self.params:
                raise ValueError(f"reference rate {rate!r} is not a parameter of the model; "
                                 f"known: {sorted(self.params)}")
            rate = self.params[rate]
        rate = check_real("reference rate", rate)
        if rate < 0:
            raise ValueError(f"reference rate must be >= 0, got {rate}")
        charges = _normalise_charges(reference["charges"])
        m0 = _charge(next(iter(qs.B.dag().terms)), charges)
        d = np.zeros(m)
        for fam in qs.families[len(self.system.families):]:
            q = _charge(next(iter(fam.operator.terms)), charges)
            o = offs[fam.index] - nss
            d[o:o + _fsize(fam, self.M)] = rate * (q * m0 - 0.5 * m0 ** 2)
        return d


class MomentNotReachedError(ValueError):
    """An observable needs a moment that the closure never reached (not a family)."""


def _operator_value(system, state, op, M, missing=None):
    """⟨op⟩ from a state, cumulant-expanding moments of order > k.

    Cluster atoms of ``op`` must be the slots ``i0, i1, …``; the result is
    an array over them (broadcast to ``(M,) * slots``).  A moment that is not a family
    of the closed system raises :class:`MomentNotReachedError`, or is added to the set
    ``missing`` (and counted as zero) when one is given.
    """
    sites = {s.var: s.clusters.name for k in op.terms for s, _ in k if hasattr(s, "clusters")}
    nslots = len(sites)
    sizes = [set_size(M, sites[f"i{k}"]) if isinstance(M, dict) else M for k in range(nslots)]
    total = np.zeros(tuple(sizes), dtype=complex)
    for key, c in op.terms.items():
        cv = c.evaluate({})
        if not key:
            total = total + cv
            continue
        for blocks, num in cumulant_expansion(key, system.order).items():
            val = np.full(tuple(sizes), cv * num, dtype=complex)
            for bk in blocks:
                try:
                    r = system.registry.lookup(bk, create=False)
                except KeyError:
                    if missing is not None:
                        missing.add(bk)
                        r = None
                    else:
                        raise MomentNotReachedError(
                            f"⟨{_moment_name(bk)}⟩ is not a moment of the closed equations: the "
                            f"closure (order {system.order}) starts from the first moments, and "
                            "their equations never reach it (e.g. a model of modes only, whose "
                            "first moments vanish by the U(1) filter). Use an exact method "
                            "(method='full' or 'dicke'), or close the equations on it: "
                            "model.symbolic.close(order, operators=[...])") from None
                if r is None:
                    val = 0 * val
                    break
                fam, vars_, conj = r
                arr = state._family_array(fam, state.y)
                arr = np.conj(arr) if conj else arr
                # axis a of arr is slot i_{vars_[a]}: move to its place in the result
                pos = [int(v[1:]) for v in vars_]
                order = np.argsort(pos)
                arr = np.transpose(arr, order) if fam.slots else arr
                shape = [1] * nslots
                for p_ in sorted(pos):
                    shape[p_] = sizes[p_]
                val = val * np.reshape(arr, shape)
            total = total + val
    return total


class _QRTSystem:
    """Steady families (frozen, no equations) followed by correlation families."""

    def __init__(self, system, B):
        self.system = system
        self.B = B
        self.clusters = system.clusters
        self.index_sets = system.index_sets
        self.sets = {f.name: f for f in system.index_sets}
        self.order = system.order
        self.families = list(system.families)
        self.rhs = [[] for _ in system.families]
        self.corr = {}

    def lookup_corr(self, key):
        """``(family, vars, False)`` of ``⟨Y(τ)B(0)⟩`` for the monomial ``Y`` (cluster
        atoms already named by the equation's index variables)."""
        fixed, cl = _split(key)
        cl.sort()
        pattern = (fixed, tuple(t for t, _ in cl))
        if pattern not in self.corr:
            fam = _make_family(len(self.families), pattern, self.sets)
            fam.name = fam.name + "(τ)·" + Operator.monomial_str(next(iter(self.B.terms)))
            self.families.append(fam)
            self.corr[pattern] = fam
        return self.corr[pattern], tuple(v for _, v in cl), False


def qrt_system(system, operator=None):
    """Correlation equations ``d/dτ ⟨Y(τ)B(0)⟩`` closed at the system's order.

    ``Y`` runs over moments of order ``≤ k − 1`` reached from ``B†``; products
    ``⟨X(τ)B(0)⟩`` of higher order are cumulant expanded with ``B(0)`` as one
    more element, the factors without ``B(0)`` taken from the steady state.
    """
    model = system.model
    if operator is None:
        modes = [s for s in model.subsystems if s.kind == "mode"]
        if len(modes) != 1:
            raise ValueError("give options['operator']: the model has "
                             f"{len(modes)} modes")
        operator = modes[0].a
    if not isinstance(operator, Operator) or len(operator.terms) != 1:
        raise TypeError("operator must be a single monomial Operator (e.g. a.a)")
    (bkey, _), = operator.terms.items()
    if any(hasattr(s, "clusters") for s, _ in bkey):
        raise ValueError("the correlation operator must act on modes or concrete atoms")
    if moment_order(bkey) != 1:
        raise ValueError("the correlation operator must be a single element (a, a†, σ_ij)")
    if system.order < 2:
        raise ValueError("correlations need order >= 2")
    # B(0) is a separate subsystem (it does not act at time τ)
    s0, f0 = bkey[0]
    frozen = Mode(s0.name + "₀") if s0.kind == "mode" else Atom(s0.name + "₀", s0.levels)
    B0key = ((frozen, f0),)
    qs = _QRTSystem(system, operator)
    reg = system.registry
    qcharge = reg.charge(bkey)
    k = system.order

    def expand(key):
        # ⟨Y(τ)B(0)⟩ vanishes unless charge(Y) + charge(B) = 0
        if reg.charge(key) + qcharge != 0:
            return {}
        full = tuple(sorted(key + B0key, key=lambda x: x[0]._key()))
        return {(full,): 1.0} if moment_order(key) + 1 <= k else cumulant_expansion(full, k)

    def lookup(block):
        if all(s != frozen for s, _ in block):
            return reg.lookup(block, create=False)          # steady-state moment
        rest = tuple((s, f) for s, f in block if s != frozen)
        if not rest:
            return reg.lookup(bkey, create=False)           # ⟨B⟩
        if reg.charge(rest) + qcharge != 0:
            return None
        return qs.lookup_corr(rest)

    qs.lookup_corr(next(iter(operator.dag().terms)))
    done = len(system.families)
    memo = {}
    with _gc_paused():
        while done < len(qs.families):
            qs.rhs.append(_family_terms(model, qs.families[done], k, lookup, expand, memo))
            done += 1
    sc, ix, keys = _parameter_names(qs.families[len(system.families):],
                                    qs.rhs[len(system.families):], len(system.index_sets) > 1)
    sc |= set(system.scalar_parameters)
    ix |= set(system.indexed_parameters)
    keys |= set(system.indexed_keys)
    qs.scalar_parameters = sorted(sc)
    qs.indexed_parameters = sorted(ix)
    qs.indexed_keys = sorted(keys)
    return qs
