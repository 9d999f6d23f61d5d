r"""Quantum trajectories of radiating dipole arrays: conditional QFI and ``Z_Q``.

The master equation of :mod:`qutip_superrad.models.dipoles` (Zhu et al.,
*Synchronization of interacting quantum dipoles*, NJP 17, 083063 (2015)) is
unravelled into pure-state quantum trajectories in the ``2^N``-dimensional
tensor space.  Two questions of the paper need them:

* **Conditional entanglement (Sec. IV B, App. C, Fig. 2c,d).**  A single
  trajectory is the state of the array *conditioned on a continuous
  measurement record* of the emitted light.  Its collective quantum Fisher
  information ``F_Q = (1/3) Σ_{α=x,y,z} 4 Var(J_α)`` (``J_α = Σ_a σ^α_a/2``)
  exceeds the separability bound ``2N/3`` in the synchronized regime, while
  the QFI of the unconditional (averaged) density matrix stays below it —
  :func:`conditional_qfi`, :func:`qfi_scan`.
* **Order parameter of large arrays (Sec. VI, Fig. 5).**  ``Z_Q`` of 12–16
  dipoles with the full dipolar ``f`` and ``g``: the density matrix has
  ``4^N`` entries, a state vector ``2^N`` — :func:`trajectory_order_parameter`,
  :func:`fig5_scan`.

Unravelings
-----------
``"counting"``
    Photon counting of the model's jump operators (``qutip.mcsolve``): the
    eigen-channels ``√λ_k Σ_b v_kb σ⁻_b`` of the decay matrix ``f``
    (:func:`~qutip_superrad.correlated_decay`; for all-to-all arrays the
    collective ``√(f_eff/N) J⁻`` and the local ``√Γ σ⁻_a``) and the local
    repumps ``√W σ⁺_a``.
``"homodyne"``
    Diffusive unraveling (``qutip.ssesolve``, homodyne detection of the
    quadrature ``c + c†`` of every jump operator ``c``): the normalised,
    non-linear stochastic Schrödinger equation — quantum state diffusion,
    the unraveling the paper uses.  The local-oscillator phase is fixed
    (``c + c†``); another phase is another unraveling with another
    conditional QFI.  Fixed step ``dt`` (default ``0.02/max‖c†c‖``, at most
    ``0.01``), method ``"rouchon"`` (qutip's default ``"platen"`` is several
    times slower here); the step error of the averages is checked in the tests.

Every unraveling reproduces the master equation *on average*:
``E[|ψ_c⟩⟨ψ_c|] = ρ(t)``, because the Lindblad generator is invariant under
the unitary remixings and shifts of the jump operators that distinguish the
unravelings, and the trajectory equations are constructed so that the
average of the projector obeys it.  Quantities *linear* in the state
(``⟨J⁺J⁻⟩``, ``⟨J_z⟩``, ``Z_Q²``) therefore have unraveling-independent
trajectory averages.  The conditional QFI ``4 Var_ψ(J_α)`` is *quadratic* in
the state (it contains ``⟨J_α⟩_ψ²``), so its average depends on what is
measured: it describes the state an observer with that measurement record
holds.  Since the QFI is convex, ``F_Q(ρ) ≤ E[F_Q(ψ_c)]`` for every
unraveling.

Expectation values along a trajectory are those of the *normalised*
conditional state: qutip 5.3's ``mcsolve`` divides the state by its norm
before every output (``MCIntegrator.integrate``), and ``ssesolve`` is run
with ``normalize_output=True``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import qutip
import scipy.sparse as sp

from .. import _validate as V
from .._progress import progress as _progress
from .._progress import qutip_progress_bar
from .._validate import PROGRESS_RENAMES, renamed_keywords
from .dipoles import MAGIC_ANGLE, DipoleArray

__all__ = ["conditional_qfi", "qfi_scan", "trajectory_order_parameter", "fig5_scan",
           "ConditionalQFI", "QFIScan", "OrderParameterTrajectories", "Fig5Scan", "SteadyMean",
           "collective_spin_operators", "UNRAVELINGS", "DEFAULT_N",
           "Z_MAX"]

#: Unravelings of the master equation (see the module notes).
UNRAVELINGS = ("counting", "homodyne")
#: Default number of dipoles of Fig. 2c,d (the paper does not state it).
DEFAULT_N = 8
#: Largest ``Z_Q`` (``1/√8``).
Z_MAX = 1.0 / math.sqrt(8.0)

_DEFAULTS = {
    "max_memory": 8 * 2 ** 30,   # bytes for operators, state vectors and stored runs
    "method": None,              # mcsolve ODE method ("adams", "vern7"...; qutip's default) or
                                 # ssesolve SDE method (default "rouchon"; "euler", "platen")
    "atol": None, "rtol": None,  # mcsolve ODE tolerances (qutip defaults if None)
    "dt": None,                  # homodyne time step (default from the largest jump rate)
    "map": "serial",             # qutip trajectory map ("serial", "parallel", "loky")
    "num_cpus": None,
    "exact_max_N": 6,            # unconditional QFI of the exact ρ(t) for N up to this
}


# --------------------------------------------------------------------------
# operators and the mixed-state QFI
# --------------------------------------------------------------------------
def collective_spin_operators(N):
    """``J_x, J_y, J_z`` (``Σ_a σ^α_a/2``) as sparse Qobjs of dims ``[[2]*N, [2]*N]``.

    Level 2 (up) is ``basis(2, 0)``, as in :meth:`Model.to_qobj`
    (:attr:`qutip_superrad.quantum_info.CollectiveQFI.operators`).
    """
    from ..quantum_info import CollectiveQFI
    return list(CollectiveQFI(V.check_int("N", N, minimum=1)).operators)


def _dicke_collective_qfi(state, N):
    """Collective QFI of a U(1)-symmetric Dicke steady state (diagonal in every j block).

    ``ρ = ⊕_j σ_j ⊗ 1_{d_j}/d_j`` with ``σ_j`` diagonal (populations of
    ``|j, m⟩`` weighted by the multiplicity), generators block diagonal:
    ``F(J_α) = Σ_j 2 Σ_{mm'} (p_m − p_m')²/(p_m + p_m') |⟨j m|J_α|j m'⟩|²``;
    ``F(J_z) = 0``.
    """
    s, x = state.space, state.vector
    if getattr(s, "cutoffs", ()) or np.any(s.e != s.e2):
        raise ValueError("the Dicke steady state is not diagonal in the excitation number")
    total = 0.0
    for jj in np.unique(s.jj):
        sel = s.jj == jj
        e = s.e[sel]
        p = np.zeros(N + 1)
        p[e] = x[sel].real
        j = N / 2 - jj
        ms = np.arange(jj, N - jj + 1)            # excitations e ↔ m = e − N/2
        pm = np.clip(p[ms], 0.0, None)
        m = ms - N / 2
        # ⟨m+1|J⁺|m⟩ = √(j(j+1) − m(m+1));  |⟨m+1|J_x|m⟩|² = |⟨m+1|J_y|m⟩|² = (J⁺)²/4
        c2 = (j * (j + 1) - m[:-1] * (m[:-1] + 1)) / 4.0
        a, b = pm[:-1], pm[1:]
        ssum = a + b
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(ssum > 1e-14, (a - b) ** 2 / np.where(ssum > 1e-14, ssum, 1.0), 0.0)
        total += 2.0 * 2.0 * np.sum(w * c2)       # both orders (m, m+1) and (m+1, m)
    # F(J_x) = F(J_y) = total, F(J_z) = 0
    return float(2.0 * total / 3.0)


def _unconditional_steady_qfi(array, max_full_N):
    """Collective QFI of the exact steady state (Dicke basis for all-to-all arrays)."""
    from ..solvers import steadystate
    model, _ = array.description()
    N = array.N
    if array._collective and np.all(array.detunings == 0):
        return _dicke_collective_qfi(steadystate(model, "dicke").state, N)
    if N > max_full_N:
        return float("nan")
    from ..quantum_info import collective_qfi
    return float(collective_qfi(qutip.steadystate(model.hamiltonian(), model.c_ops())))


# --------------------------------------------------------------------------
# validation and the trajectory engine
# --------------------------------------------------------------------------
def _check_array(array):
    if not isinstance(array, DipoleArray):
        raise TypeError(f"array must be a DipoleArray, got {type(array).__name__}")
    return array


def _check_unraveling(unraveling):
    if unraveling not in UNRAVELINGS:
        raise ValueError(f"unraveling must be one of {UNRAVELINGS}, got {unraveling!r}")
    return unraveling


def _check_ntraj(ntraj):
    return V.check_int("ntraj", ntraj, minimum=1)


def _check_tlist(tlist):
    t = V.check_grid("tlist", tlist)
    if t.size < 2:
        raise ValueError("tlist must contain at least two times (a start and an end)")
    return t


def _memory_estimate(N, n_jumps, n_e, ntraj, nt, homodyne):
    """Bytes for sparse operators (≈ 24 B per stored element), work vectors and runs."""
    dim = 2.0 ** N
    # elements per row: H and H_eff ~ N²/4 each, J_α² ~ N²/2 each, jumps ~ N/2, J_α ~ N
    rows = 0.5 * N * N + n_e * N * N / 4 + n_jumps * N / 2 + 3 * N
    ops = 2 * 24.0 * dim * rows                     # ×2: intermediate sums while building
    work = 16.0 * dim * (30 + (4 * n_jumps if homodyne else n_jumps))
    runs = 8.0 * ntraj * nt * n_e
    return ops + work + runs


def _check_memory(N, n_e, ntraj, nt, unraveling, opts):
    n_jumps = 2 * N + 1     # N eigen-channels of f (or collective + N local) + N repumps
    V.check_memory(_memory_estimate(N, n_jumps, n_e, ntraj, nt, unraveling == "homodyne"),
                   opts["max_memory"],
                   f"the trajectories of {N} dipoles (Hilbert dimension 2**{N} = {2 ** N})")


def _check_initial(initial, N):
    if initial is None:
        return qutip.basis([2] * N, [1] * N)       # every dipole down (level 1)
    if not (isinstance(initial, qutip.Qobj) and initial.isket and initial.shape[0] == 2 ** N):
        raise TypeError(f"initial must be a ket Qobj of dimension 2**N = {2 ** N} "
                        f"(dims [[2]*{N}, [1]*{N}]), got {initial!r:.80}")
    nrm = initial.norm()
    if not np.isfinite(nrm) or nrm == 0:
        raise ValueError("initial must be a non-zero, finite state vector")
    return qutip.Qobj(initial.full(), dims=[[2] * N, [1] * N]) / nrm


def _homodyne_dt(c_ops, tlist):
    rate = 0.0
    for c in c_ops:
        n = (c.dag() * c).data.as_scipy()
        rate = max(rate, float(np.max(np.abs(n).sum(axis=1))))    # ≥ spectral norm
    dt = min(1e-2, 0.02 / max(rate, 1e-12))
    span = float(np.min(np.diff(tlist)))
    return min(dt, span)


def _run(array, tlist, e_ops, *, ntraj, unraveling, seed, initial, progress_bar, opts):
    """Per-trajectory expectation values ``(n_e, ntraj, nt)`` of the normalised conditional state."""
    N = array.N
    _check_memory(N, len(e_ops), ntraj, tlist.size, unraveling, opts)
    psi0 = _check_initial(initial, N)
    for k in ("atol", "rtol", "dt"):                 # option values: checked before building
        if opts[k] is not None and V.check_real(k, opts[k]) <= 0:
            raise ValueError(f"{k} must be > 0, got {opts[k]}")
    if opts["num_cpus"] is not None:
        V.check_int("num_cpus", opts["num_cpus"], minimum=1)
    if opts["map"] not in ("serial", "parallel", "loky", "mpi"):
        raise ValueError(f"map must be 'serial', 'parallel', 'loky' or 'mpi', got {opts['map']!r}")
    t0 = time.perf_counter()
    model, _ = array.description()
    H = model.hamiltonian()
    c_ops = model.c_ops()
    ops = list(e_ops)
    t_build = time.perf_counter() - t0
    qopts = {"keep_runs_results": True, "store_states": False, "store_final_state": False,
             "progress_bar": qutip_progress_bar(progress_bar), "map": opts["map"]}
    if opts["num_cpus"] is not None:
        qopts["num_cpus"] = V.check_int("num_cpus", opts["num_cpus"], minimum=1)
    if opts["method"] is not None:
        qopts["method"] = opts["method"]
    t1 = time.perf_counter()
    if unraveling == "counting":
        for k in ("atol", "rtol"):
            if opts[k] is not None:
                qopts[k] = V.check_real(k, opts[k])
        res = qutip.mcsolve(H, psi0, tlist, c_ops, e_ops=ops, ntraj=ntraj, options=qopts,
                            seeds=int(seed))
    else:
        dt = _homodyne_dt(c_ops, tlist) if opts["dt"] is None else V.check_real("dt", opts["dt"])
        if dt <= 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        qopts.update(dt=dt, normalize_output=True)
        qopts.setdefault("method", "rouchon")      # much faster than qutip's default "platen"
        res = qutip.ssesolve(H, psi0, tlist, sc_ops=c_ops, heterodyne=False, e_ops=ops,
                             ntraj=ntraj, options=qopts, seeds=int(seed))
    runs = np.array([np.asarray(r).real for r in res.runs_expect])   # (n_e, ntraj, nt)
    if runs.shape != (len(ops), ntraj, tlist.size):
        raise RuntimeError(f"unexpected shape of the trajectory results {runs.shape}")
    stats = {"unraveling": unraveling, "ntraj": ntraj, "dimension": 2 ** N,
             "n_jump_operators": len(c_ops), "build time": t_build,
             "run time": time.perf_counter() - t1, "seed": int(seed)}
    if unraveling == "homodyne":
        stats["dt"] = qopts["dt"]
    return runs, stats, model, H, c_ops, psi0


def _se(x, axis=0):
    n = x.shape[axis]
    if n < 2:
        return np.full(np.delete(x.shape, axis), np.nan) if x.ndim > 1 else float("nan")
    return np.std(x, axis=axis, ddof=1) / np.sqrt(n)


class SteadyMean(NamedTuple):
    """A time- and trajectory-averaged value with its standard error."""
    value: float
    std_error: float
    n_times: int


def _steady(times, traj, t_min):
    t_min = V.check_real("t_min", t_min)
    if not times[0] <= t_min <= times[-1]:
        raise ValueError(f"t_min must lie in [{times[0]:g}, {times[-1]:g}] (the stored times), "
                         f"got {t_min:g}")
    sel = times >= t_min
    per = traj[:, sel].mean(axis=1)          # one number per trajectory: independent samples
    return SteadyMean(float(per.mean()), float(_se(per)), int(sel.sum()))


# --------------------------------------------------------------------------
# conditional QFI
# --------------------------------------------------------------------------
class _PerTrajectory:
    """Shared by results holding one row per trajectory in ``trajectories``."""

    @property
    def ntraj(self):
        """Number of trajectories."""
        return self.trajectories.shape[0]

    @property
    def mean(self):
        """Mean over trajectories at every time."""
        return self.trajectories.mean(axis=0)

    def steady_mean(self, t_min):
        """Average over ``t ≥ t_min`` and the trajectories.

        Each trajectory is first averaged over the window; the standard error
        is that of these ``ntraj`` independent numbers, so correlations in
        time along a trajectory are accounted for.
        """
        return _steady(self.times, self.trajectories, t_min)


@dataclass
class ConditionalQFI(_PerTrajectory):
    """Conditional quantum Fisher information along quantum trajectories.

    Attributes
    ----------
    times : ndarray (nt,)
    trajectories : ndarray (ntraj, nt)
        ``F_Q = (1/3) Σ_α 4 Var(J_α)`` of every conditional state.
    components : ndarray (3, nt)
        Trajectory means of ``4 Var(J_x)``, ``4 Var(J_y)``, ``4 Var(J_z)``.
    moments, moments_std_error : dict of ndarray (nt,)
        Trajectory means (and standard errors) of ``⟨J_x⟩ … ⟨J_z²⟩`` and of
        ``⟨J⁺J⁻⟩ = ⟨J_x² + J_y² + J_z⟩`` — linear in the state, so they equal
        the master equation's values for every unraveling.
    N : int
    unraveling : str
    unconditional : ndarray (nt,) or None
        Collective QFI of the exact density matrix ``ρ(t)`` (small N only).
    stats : dict
    """
    times: np.ndarray
    trajectories: np.ndarray
    components: np.ndarray
    N: int
    unraveling: str
    unconditional: np.ndarray | None = None
    moments: dict = field(default_factory=dict, repr=False)
    moments_std_error: dict = field(default_factory=dict, repr=False)
    stats: dict = field(default_factory=dict)

    @property
    def std_error(self):
        """Standard error of :attr:`mean` (NaN for one trajectory)."""
        return _se(self.trajectories)

    @property
    def witness(self):
        """Separability bound ``2N/3`` (``F_Q > 2N/3`` ⇒ entangled)."""
        return 2.0 * self.N / 3.0

    def plot(self, ax=None, trajectory=0):
        """Fig. 2c: one trajectory (dashed), the mean (solid), ``2N/3`` (dotted)."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots()
        trajectory = V.check_int("trajectory", trajectory, minimum=0, maximum=self.ntraj - 1)
        ax.plot(self.times, self.trajectories[trajectory], "--", lw=1,
                label=f"trajectory {trajectory}")
        ax.plot(self.times, self.mean, "-", lw=2, label=f"mean of {self.ntraj}")
        if self.unconditional is not None:
            ax.plot(self.times, self.unconditional, "-.", label="unconditional ρ(t)")
        ax.axhline(self.witness, ls=":", color="k", label="2N/3")
        ax.set_xlabel("Γt")
        ax.set_ylabel("conditional QFI  $F_Q$")
        ax.legend()
        return ax


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def conditional_qfi(array, tlist, *, ntraj=50, unraveling="counting", seed=0, initial=None,
                    progress_bar=False, options=None, exact="auto"):
    r"""Collective QFI of the conditional pure states of quantum trajectories.

    For every trajectory and time, ``F_Q = (1/3) Σ_{α=x,y,z} 4 Var_ψ(J_α)``,
    ``J_α = Σ_a σ^α_a/2`` (the paper's App. C), computed from the
    per-trajectory expectation values of ``J_α`` and ``J_α²`` (the states are
    not stored).  ``F_Q > 2N/3`` witnesses entanglement.

    Unravelings: ``"counting"`` (photon counting of the model's jump
    operators, ``qutip.mcsolve``) or ``"homodyne"`` (diffusive quantum state
    diffusion, ``qutip.ssesolve``).  Both average to the master equation —
    ``E|ψ_c⟩⟨ψ_c| = ρ(t)`` — but the conditional QFI is quadratic in the
    state, so its average depends on the unraveling (the measurement that
    the conditioning refers to); by convexity it is never below the QFI of
    ``ρ(t)``.  See the module notes.

    Parameters
    ----------
    array : DipoleArray
    tlist : array_like
        Increasing output times (at least two); the trajectories start at ``tlist[0]``.
    ntraj : int, default 50
    unraveling : {"counting", "homodyne"}
    seed : int
        Seed of the random numbers (reproducible).
    initial : ket Qobj, optional
        Initial pure state (default: every dipole down, ``basis(2, 1)``).
    progress_bar : None, bool or str
        QuTiP's values: None/False/"" off, True/"text", "enhanced", "tqdm"
        (formerly ``progress``, deprecated): QuTiP's bar over the trajectories.
    options : dict, optional
        ``max_memory`` (bytes, default 8 GiB), ``method``, ``atol``, ``rtol``
        (mcsolve ODE), ``dt`` (homodyne step), ``map``/``num_cpus`` (parallel
        trajectories), ``exact_max_N`` (default 6).
    exact : {"auto", True, False}
        Also compute the QFI of the exact density matrix ``ρ(t)`` (``mesolve``);
        ``"auto"``: when ``N ≤ exact_max_N``.

    Returns
    -------
    ConditionalQFI
    """
    array = _check_array(array)
    tlist = _check_tlist(tlist)
    ntraj = _check_ntraj(ntraj)
    unraveling = _check_unraveling(unraveling)
    seed = V.check_int("seed", seed, minimum=0)
    opts = V.check_options(options, _DEFAULTS, "conditional_qfi")
    if exact not in ("auto", True, False):
        raise ValueError(f"exact must be 'auto', True or False, got {exact!r}")
    N = array.N
    _check_memory(N, 6, ntraj, tlist.size, unraveling, opts)
    J = collective_spin_operators(N)
    e_ops = list(J) + [j * j for j in J]
    runs, stats, model, H, c_ops, psi0 = _run(array, tlist, e_ops, ntraj=ntraj,
                                               unraveling=unraveling, seed=seed,
                                               initial=initial, progress_bar=progress_bar, opts=opts)
    var = 4.0 * (runs[3:] - runs[:3] ** 2)          # (3, ntraj, nt)
    var = np.clip(var, 0.0, None)
    F = var.mean(axis=0)
    unconditional = None
    if exact is True or (exact == "auto" and N <= opts["exact_max_N"]):
        me = qutip.mesolve(H, qutip.ket2dm(psi0), tlist, c_ops,
                           options={"store_states": True, "progress_bar": False})
        from ..quantum_info import collective_qfi
        unconditional = np.asarray(collective_qfi(list(me.states)), dtype=float)
    names = ("Jx", "Jy", "Jz", "JxJx", "JyJy", "JzJz")
    lin = dict(zip(names, runs))
    lin["JpJm"] = runs[3] + runs[4] + runs[2]      # J⁺J⁻ = J_x² + J_y² + J_z
    moments = {k: v.mean(axis=0) for k, v in lin.items()}
    moments_se = {k: _se(v) for k, v in lin.items()}
    return ConditionalQFI(tlist, F, var.mean(axis=1), N, unraveling, unconditional, moments,
                          moments_se, stats)


# --------------------------------------------------------------------------
# Fig. 2d
# --------------------------------------------------------------------------
@dataclass
class QFIScan:
    """Steady-state conditional QFI vs repump rate (Fig. 2d).

    Attributes
    ----------
    pumping : ndarray
    mean, std_error : ndarray
        Steady-state mean conditional QFI and its standard error.
    unconditional : ndarray
        QFI of the exact steady state (NaN where not computed).
    N : int
    collective_emission : float
    unraveling : str
    results : list of ConditionalQFI
    """
    pumping: np.ndarray
    mean: np.ndarray
    std_error: np.ndarray
    unconditional: np.ndarray
    N: int
    collective_emission: float
    unraveling: str
    results: list = field(default_factory=list, repr=False)

    @property
    def witness(self):
        """``2N/3``."""
        return 2.0 * self.N / 3.0

    def plot(self, ax=None):
        """Fig. 2d: conditional (error bars), unconditional and ``2N/3``."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots()
        ax.errorbar(self.pumping, self.mean, yerr=self.std_error, fmt="o-",
                    label=f"conditional ({self.unraveling})")
        if np.any(np.isfinite(self.unconditional)):
            ax.plot(self.pumping, self.unconditional, "s-", label="unconditional ρ")
        ax.axhline(self.witness, ls="--", color="k", label="2N/3")
        ax.set_xlabel("W/Γ")
        ax.set_ylabel("steady-state QFI")
        ax.legend()
        return ax


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def qfi_scan(N=DEFAULT_N, collective_emission=15.0, pumping_values=(2.0, 4.0, 7.0, 10.0, 13.0),
             *, t_final=4.0, t_min=2.0, ntraj=40, n_times=81, emission=1.0,
             unraveling="counting", seed=0, exact=True, progress_bar=True, options=None):
    """Fig. 2d: steady-state mean conditional QFI vs ``W`` for all-to-all dipoles.

    The paper does not state N for Fig. 2c,d; the default here is
    ``N = 8`` (:data:`DEFAULT_N`), ``f_eff = 15Γ``.

    Parameters
    ----------
    N, collective_emission : all-to-all array ``f_ab = f_eff/N`` (``f_aa = Γ + f_eff/N``)
    pumping_values : sequence of float
        Repump rates ``W``.
    t_final, t_min : float
        Trajectories run on ``linspace(0, t_final, n_times)`` from all-down;
        the steady state is averaged over ``t ≥ t_min``.
    ntraj, unraveling, seed, options : see :func:`conditional_qfi`
    exact : bool
        Also the QFI of the exact steady state (Dicke basis; full space for
        N ≤ 8 otherwise).
    progress_bar : None, bool or str
        QuTiP's values: None/False/"" off, True/"text", "enhanced", "tqdm"
        (formerly ``progress``, deprecated).
        Progress bar over the ``W`` values.

    Returns
    -------
    QFIScan
    """
    N = V.check_int("N", N, minimum=1)
    fe = V.check_rate("collective_emission", collective_emission)
    W = V.check_array("pumping_values", pumping_values, nonnegative=True)
    if W.size < 1:
        raise ValueError("pumping_values must not be empty")
    t_final = V.check_real("t_final", t_final)
    if t_final <= 0:
        raise ValueError(f"t_final must be > 0, got {t_final}")
    t_min = V.check_real("t_min", t_min)
    if not 0 <= t_min < t_final:
        raise ValueError(f"t_min must lie in [0, t_final) = [0, {t_final:g}), got {t_min:g}")
    ntraj = _check_ntraj(ntraj)
    n_times = V.check_int("n_times", n_times, minimum=2)
    _check_unraveling(unraveling)
    V.check_options(options, _DEFAULTS, "qfi_scan")
    tlist = np.linspace(0.0, t_final, n_times)
    base = DipoleArray.all_to_all(N, fe, float(W[0]), emission=emission)
    opts = dict(options or {})
    opts.setdefault("exact_max_N", 0)          # no time-dependent exact ρ(t) here
    mean, se, unc, results = [], [], [], []
    for w in _progress(list(W), desc=f"QFI scan N={N}", progress_bar=progress_bar):
        arr = base.with_pumping(float(w))
        r = conditional_qfi(arr, tlist, ntraj=ntraj, unraveling=unraveling, seed=seed,
                            options=opts, exact="auto")
        m = r.steady_mean(t_min)
        mean.append(m.value)
        se.append(m.std_error)
        unc.append(_unconditional_steady_qfi(arr, 8) if exact else float("nan"))
        results.append(r)
    return QFIScan(W, np.array(mean), np.array(se), np.array(unc), N, fe, unraveling, results)


# --------------------------------------------------------------------------
# order parameter (Fig. 5)
# --------------------------------------------------------------------------
@dataclass
class OrderParameterTrajectories(_PerTrajectory):
    """``Z_Q`` from quantum trajectories.

    Attributes
    ----------
    times : ndarray (nt,)
    trajectories : ndarray (ntraj, nt)
        ``Z_Q² = (⟨J⁺J⁻⟩ − N/2 − ⟨J_z⟩)/(N(N−1))`` of every conditional state
        (linear in the state: its average is unraveling-independent).
    N : int
    t_min : float
    value, std_error : float
        ``Z_Q`` over ``t ≥ t_min`` and trajectories, and its standard error.
    z2, z2_std_error : float
        The same for ``Z_Q²``.
    stats : dict
    """
    times: np.ndarray
    trajectories: np.ndarray
    N: int
    t_min: float
    value: float
    std_error: float
    z2: float
    z2_std_error: float
    stats: dict = field(default_factory=dict)

    @property
    def normalised(self):
        """``Z_Q / Z_Q^max`` (``Z_Q^max = 1/√8``)."""
        return self.value / Z_MAX


def _z_from_z2(z2, se2):
    z = math.sqrt(max(z2, 0.0))
    se = se2 / (2 * z) if z > 0 else math.sqrt(max(se2, 0.0)) if np.isfinite(se2) else se2
    return z, se


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def trajectory_order_parameter(array, t_final, *, t_min, ntraj=20, n_times=61,
                               unraveling="counting", seed=0, initial=None, progress_bar=False,
                               options=None):
    r"""``Z_Q`` of any dipole array by quantum trajectories (the paper's Fig. 5).

    ``Z_Q² = mean_{a≠b} ⟨σ⁺_a σ⁻_b⟩ = (⟨J⁺J⁻⟩ − N/2 − ⟨J_z⟩)/(N(N−1))``,
    averaged over the trajectories and the window ``t_min ≤ t ≤ t_final``
    (each trajectory first, so that the standard error accounts for the
    correlations in time).  For N = 12–16 dipoles with the full dipolar ``f``
    and ``g`` the exact steady state has ``4^N`` unknowns (1.7·10⁷ at N = 12,
    4.3·10⁹ at N = 16) — too large for a direct solve — while a trajectory
    holds ``2^N`` amplitudes.  ``Z_Q²`` is linear in the state, so its
    average is the master equation's for every unraveling.

    Parameters
    ----------
    array : DipoleArray
    t_final : float
        End of the trajectories (from ``t = 0``, all dipoles down unless ``initial``).
    t_min : float
        Start of the steady-state window, ``0 ≤ t_min < t_final``.
    ntraj : int, default 20
    n_times : int, default 61
        Output times ``linspace(0, t_final, n_times)``.
    unraveling, seed, initial, progress_bar, options : see :func:`conditional_qfi`

    Returns
    -------
    OrderParameterTrajectories
    """
    array = _check_array(array)
    t_final = V.check_real("t_final", t_final)
    if t_final <= 0:
        raise ValueError(f"t_final must be > 0, got {t_final}")
    t_min = V.check_real("t_min", t_min)
    if not 0 <= t_min < t_final:
        raise ValueError(f"t_min must lie in [0, t_final) = [0, {t_final:g}), got {t_min:g}")
    ntraj = _check_ntraj(ntraj)
    n_times = V.check_int("n_times", n_times, minimum=2)
    unraveling = _check_unraveling(unraveling)
    seed = V.check_int("seed", seed, minimum=0)
    opts = V.check_options(options, _DEFAULTS, "trajectory_order_parameter")
    N = array.N
    if N < 2:
        raise ValueError("the order parameter Z_Q needs N >= 2 dipoles")
    tlist = np.linspace(0.0, t_final, n_times)
    _check_memory(N, 2, ntraj, tlist.size, unraveling, opts)
    Jx, Jy, Jz = collective_spin_operators(N)
    Jp = Jx + 1j * Jy
    e_ops = [Jp * Jp.dag(), Jz]
    runs, stats, *_ = _run(array, tlist, e_ops, ntraj=ntraj, unraveling=unraveling, seed=seed,
                           initial=initial, progress_bar=progress_bar, opts=opts)
    z2 = (runs[0] - N / 2 - runs[1]) / (N * (N - 1))
    m = _steady(tlist, z2, t_min)
    z, se = _z_from_z2(m.value, m.std_error)
    return OrderParameterTrajectories(tlist, z2, N, t_min, z, se, m.value, m.std_error, stats)


def _optimal_pumping_dicke(N, collective_emission, emission=1.0):
    """``W`` maximising the exact ``Z_Q`` of the all-to-all array with the same ``f_eff``."""
    from scipy.optimize import minimize_scalar
    from ..solvers import steadystate
    base = DipoleArray.all_to_all(N, collective_emission, emission, emission=emission)
    model, ops = base.description()

    def neg(w):
        m = model.with_values(W=float(w))
        v = steadystate(m, "dicke", e_ops={"JpJm": ops["JpJm"], "Jz": ops["Jz"]}).values
        return -(v["JpJm"] - N / 2 - v["Jz"]) / (N * (N - 1))

    hi = max(2.0 * collective_emission, 4.0 * emission)
    r = minimize_scalar(neg, bounds=(1e-3 * emission, hi), method="bounded",
                        options={"xatol": 1e-3 * hi})
    return float(r.x)


@dataclass
class Fig5Scan:
    """``Z_Q/Z_Q^max`` of a chain on a grid of spacings × angles (Fig. 5a)."""
    spacings: np.ndarray
    thetas: np.ndarray
    value: np.ndarray          # (n_spacings, n_thetas) Z_Q/Z_max
    std_error: np.ndarray
    pumping: np.ndarray        # W used at each grid point
    N: int
    elastic: bool
    results: list = field(default_factory=list, repr=False)


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def fig5_scan(N=12, spacings=(0.1,), thetas=(MAGIC_ANGLE,), *, pumping=None, elastic=True,
              t_final=3.0, t_min=1.5, ntraj=16, n_times=31, wavelength=1.0, emission=1.0,
              seed=0, progress_bar=True, options=None):
    """Fig. 5a: ``Z_Q/Z_Q^max`` of an N-dipole chain vs lattice spacing and dipole angle.

    ``pumping=None`` uses, at every grid point, the ``W`` that maximises the
    exact (Dicke-basis) ``Z_Q`` of the all-to-all array with the same
    ``f_eff = Σ_{a, b≠a} f_ab/(N−1)`` (the paper's "optimal rate"; Fig. 5b
    shows the two systems behave alike).  ``elastic=False`` drops ``g``.
    """
    N = V.check_int("N", N, minimum=2)
    a_list = V.check_array("spacings", spacings, positive=True)
    th_list = V.check_array("thetas", thetas)
    if pumping is not None:
        pumping = V.check_rate("pumping", pumping)
    t_final = V.check_real("t_final", t_final)
    if t_final <= 0:
        raise ValueError(f"t_final must be > 0, got {t_final}")
    t_min = V.check_real("t_min", t_min)
    if not 0 <= t_min < t_final:
        raise ValueError(f"t_min must lie in [0, t_final) = [0, {t_final:g}), got {t_min:g}")
    _check_ntraj(ntraj)
    V.check_options(options, _DEFAULTS, "fig5_scan")
    val = np.full((a_list.size, th_list.size), np.nan)
    err, Ws = np.full_like(val, np.nan), np.full_like(val, np.nan)
    results = []
    grid = [(i, j) for i in range(a_list.size) for j in range(th_list.size)]
    for i, j in _progress(grid, desc=f"Fig. 5 scan N={N}", progress_bar=progress_bar):
        arr = DipoleArray.chain(N, float(a_list[i]), 1.0, wavelength=wavelength,
                                theta=float(th_list[j]), emission=emission, elastic=elastic)
        w = pumping if pumping is not None else _optimal_pumping_dicke(
            N, arr.effective_coupling[0], emission)
        r = trajectory_order_parameter(arr.with_pumping(w), t_final, t_min=t_min, ntraj=ntraj,
                                       n_times=n_times, seed=seed, options=options)
        val[i, j], err[i, j], Ws[i, j] = r.value / Z_MAX, r.std_error / Z_MAX, w
        results.append(r)
    return Fig5Scan(a_list, th_list, val, err, Ws, N, bool(elastic), results)
