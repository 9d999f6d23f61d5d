r"""Semiclassical Monte Carlo wave-function trajectories of a moving V-level atom.

Sec. IV (eqs 12–16, Fig. 8) of C. Hotter, D. Plankensteiner and H. Ritsch,
*Continuous narrowband lasing with coherently driven V-level atoms*, Phys. Rev.
Research 3, 013243 (2021), arXiv:2007.12522: one V-level atom (1 = ground,
2 = narrow, 3 = broad line; no cavity) in two perpendicular standing-wave pump
beams, ``k_2`` along x and ``k_3`` along y.  The internal state is quantum, the
motion in the plane is classical (ħ = 1, rates and energies in units of your
choice, Γ_3 = 1 in the paper)::

    H(r)  = Σ_{i=2,3} [ −Δ_i σ_ii + Ω_i cos(k_i·r) (σ_i1 + σ_1i) ]          (12)
    r'    = p / m                                                         (13)
    p_i'  = −∂_i ⟨H⟩ = k_i Ω_i sin(k_i·r) 2 Re⟨σ_1i⟩ + ξ_i(t)              (14)
    jumps : √Γ_2 σ_12, √Γ_3 σ_13 (decay, eq 3),  √ν_2 σ_22, √ν_3 σ_33 (pump linewidth, eq 4)

with ``σ_ij = |i⟩⟨j|``, ``Δ_i = ω_ℓi − ω_i`` (Δ_i < 0: red detuning).

**Sign of the force.**  ``⟨σ_i1 + σ_1i⟩ = 2 Re⟨σ_1i⟩`` and ``∂_x cos(k_2 x) =
−k_2 sin(k_2 x)``, so the Ehrenfest force ``−∂_x⟨H⟩ = +k_2 Ω_2 sin(k_2 x)
2 Re⟨σ_12⟩``: the seed's eq 14 has the right sign and is used as printed.  It
is the choice that conserves ``p²/2m + ⟨H(r)⟩`` without dissipation (tested).

**Recoil (eq 15).**  At each decay jump from level j ∈ {2, 3} the momentum
gets ``k_j (s_x, s_y)``, ``s`` a uniformly random 3-D unit vector of which
only the components along the two beams are kept, so ``⟨Δp_x²⟩ = ⟨Δp_y²⟩ =
k_j²/3`` per jump.  Dephasing jumps (pump linewidth) give no kick.

**Units of the motion.**  Positions are measured such that ``k_i·r`` is the
phase (default length unit ``1/k_3``), momenta in the same inverse length, the
mass such that ``k_j²/(2m) = ω_r,j`` is the recoil frequency in the units of
the rates.  :func:`strontium_recoil` gives ⁸⁸Sr (689 nm narrow, 461 nm broad
line, m = 88 u, Γ_3 = 2π·32 MHz as in the paper)::

    ω_r,3 = ħk_3²/2m = 2π·10.67 kHz = 3.334e-4 Γ_3,
    ω_r,2 = ħk_2²/2m = 2π·4.78 kHz  = 1.493e-4 Γ_3,
    k_3 = 1, k_2 = 461/689 = 0.6691, m = 1/(2 ω_r,3) = 1499.8.

(The paper writes m = 87 u in eq 16; ⁸⁸Sr has 87.906 u and the recoil
frequencies change by 1 %.)  The start ``p_i(0) = 100 k_i`` then has
``E_x(0) = 10⁴ ω_r,2 = 1.49 Γ_3`` and ``E_y(0) = 10⁴ ω_r,3 = 3.33 Γ_3``.

**Unravelling.**  Standard MCWF (Dum, Zoller, Ritsch; Mølmer, Castin,
Dalibard) with the classical variables: ``H_eff = H(r(t)) − (i/2) Σ c†c`` and
the ODEs of r, p are integrated together by fixed-step RK4 (a compiled kernel,
``cython_ext/vlevel_motion.pyx``, one trajectory at a time; its NumPy oracle
:func:`_run_batch_numpy` runs a batch in lockstep) until ``‖ψ‖² < u`` (u uniform);
then a channel is drawn with weights ``⟨c†c⟩``, the state is replaced by the
normalised ``cψ`` and decays kick the momentum.  A jump is applied at the end
of the step in which the norm crossed u, i.e. jump times are resolved to
``dt`` (the default ``dt = 0.1/max(|Δ_i|, Ω_i, Γ_i + ν_i)`` = 0.02/Γ_3 for the
paper's point).  Batches of trajectories run through :func:`qutip.serial_map`
or :func:`qutip.parallel_map`; every trajectory has its own random stream (the
counter-based :func:`counter_uniform` keyed by
``numpy.random.SeedSequence(seed).generate_state``), so the results depend
neither on the map nor on the batches.

**Which signs cool** (measured with this module: 500 trajectories, ⁸⁸Sr
recoil, ν_2 = ν_3 = Γ_2, p_i(0) = 100 k_i, Ω_2 = Ω_3 = 0.5Γ_3).  The module
uses eq 12 as printed, ``Δ_i = ω_ℓi − ω_i``; no sign was changed to match the
paper.  Along k_3 (broad, non-inverted line) Δ_3 = −Γ_3 (red, the Fig. 8
caption) cools — ``E_y`` falls from 3.33 Γ_3 to 2.64 Γ_3 at t = 2000/Γ_3
and 1.76 Γ_3 at 10⁴/Γ_3 — and Δ_3 = +Γ_3 heats (5.07 Γ_3 at t = 4000/Γ_3).
Along k_2 the narrow pump barely matters on these time scales: with the
lasing point Δ_2 = +5Γ_3, ``E_x`` rises from 1.49 to 1.54(2) Γ_3 in
10⁴/Γ_3, which is the recoil heating by the broad line's spontaneous
photons (0.042 Γ_3 expected from the number of decay-3 jumps); with
Δ_2 = −5Γ_3 ``E_x`` first drops by 0.027 Γ_3 while the atom is not yet
inverted, then rises again.  The paper's sentence "Δ_2 < 0 and Δ_3 > 0 is
required to achieve cooling" therefore contradicts its own Fig. 8 caption in
the convention of its eq 12 (Δ_3 > 0 heats here); it reads correctly in the
opposite convention ``Δ_i → −Δ_i`` (a symmetry of the internal dynamics that
the paper mentions in Sec. II): red detuning on the broad line, blue on the
inverted narrow line.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import qutip

from .._progress import qutip_progress_bar
from .._validate import (PROGRESS_RENAMES, check_grid, check_int, check_options, check_rate,
                         check_real, renamed_keywords)

__all__ = ["motion_trajectories", "MotionResult", "strontium_recoil"]

# ħ, atomic mass unit (CODATA 2018)
_HBAR = 1.054571817e-34
_AMU = 1.66053906660e-27


def strontium_recoil(mass_u=88.0, lambda2_nm=689.0, lambda3_nm=461.0, Gamma3_hz=32e6):
    """Recoil parameters ``dict(k2, k3, mass)`` of ⁸⁸Sr in units Γ_3 = 1, length 1/k_3.

    ``k_3 = 1``, ``k_2 = λ_3/λ_2`` and ``mass = k_3²/(2 ω_r,3)`` with the recoil
    frequency ``ω_r,3 = ħk_3²/(2m)`` in units of ``Γ_3``.  Defaults: ⁸⁸Sr,
    689 nm (¹S₀–³P₁, narrow) and 461 nm (¹S₀–¹P₁, broad), ``Γ_3 = 2π·32 MHz``
    (the paper's value), m = 88 u: ``ω_r,3 = 3.334e-4``, ``ω_r,2 = 1.493e-4``,
    ``k_2 = 0.6691``, ``mass = 1499.8``.  The paper's eq 16 uses m = 87 u.
    (Its Sec. II labels |2⟩ ≡ ¹P₁ and |3⟩ ≡ ³P₁, swapped with respect to the
    decay rates it gives; here, as in its equations, 2 is the narrow 689 nm
    line ³P₁ and 3 the broad 461 nm line ¹P₁.)

    Parameters
    ----------
    mass_u : float
        Atomic mass in u.
    lambda2_nm, lambda3_nm : float
        Wavelengths of the narrow (2) and broad (3) transition in nm.
    Gamma3_hz : float
        ``Γ_3/2π`` in Hz (the unit of time is ``1/Γ_3``).

    Returns
    -------
    dict
        ``{"k2": ..., "k3": 1.0, "mass": ...}`` for ``recoil=`` of
        :func:`motion_trajectories`.
    """
    values = [check_real(n, v) for n, v in (("mass_u", mass_u), ("lambda2_nm", lambda2_nm),
                                            ("lambda3_nm", lambda3_nm), ("Gamma3_hz", Gamma3_hz))]
    for name, v in zip(("mass_u", "lambda2_nm", "lambda3_nm", "Gamma3_hz"), values):
        if v <= 0:
            raise ValueError(f"{name} must be > 0, got {v}")
    mass_u, lambda2_nm, lambda3_nm, Gamma3_hz = values
    k3 = 2 * np.pi / (lambda3_nm * 1e-9)
    omega_r3 = _HBAR * k3 ** 2 / (2 * mass_u * _AMU) / (2 * np.pi * Gamma3_hz)
    return {"k2": lambda3_nm / lambda2_nm, "k3": 1.0, "mass": 1.0 / (2 * omega_r3)}


@dataclass
class MotionResult:
    """Trajectory averages of :func:`motion_trajectories` (``*_err``: standard errors).

    Attributes
    ----------
    times : ndarray, shape (T,)
    kinetic_energy, kinetic_energy_err : ndarray, shape (2, T)
        ``⟨p_x²/2m⟩`` (along k_2) and ``⟨p_y²/2m⟩`` (along k_3).
    populations, populations_err : ndarray, shape (3, T)
        ``⟨σ_11⟩, ⟨σ_22⟩, ⟨σ_33⟩`` (levels 1, 2, 3 in this order).
    inversion, inversion_err : ndarray, shape (T,)
        ``⟨σ_22⟩ − ⟨σ_11⟩``.
    internal_energy, internal_energy_err : ndarray, shape (T,)
        ``⟨H(r)⟩`` (eq 12); ``kinetic_energy.sum(0) + internal_energy`` is the
        mean total energy.
    jumps : dict
        Total number of jumps per channel over all trajectories:
        ``"decay2"``, ``"decay3"``, ``"dephase2"``, ``"dephase3"``.
    final_momentum : ndarray, shape (ntraj, 2)
        ``(p_x, p_y)`` of every trajectory at ``times[-1]``.
    ntraj : int
    dt : float
        RK4 step used.
    parameters : dict
        The model parameters of the run.
    """
    times: np.ndarray
    kinetic_energy: np.ndarray
    kinetic_energy_err: np.ndarray
    populations: np.ndarray
    populations_err: np.ndarray
    inversion: np.ndarray
    inversion_err: np.ndarray
    internal_energy: np.ndarray
    internal_energy_err: np.ndarray
    jumps: dict
    final_momentum: np.ndarray
    ntraj: int
    dt: float
    parameters: dict = field(default_factory=dict)

    def temperature(self, fraction=0.25):
        """``k_B T`` per axis, ``[T_x (k_2), T_y (k_3)]``, from the last ``fraction`` of the run.

        One classical degree of freedom has ``⟨p_i²/2m⟩ = k_B T/2``, so
        ``k_B T_i = 2 ⟨E_i⟩`` averaged over the times in the last ``fraction``
        of ``[times[0], times[-1]]`` (same units as the rates).
        """
        fraction = check_real("fraction", fraction)
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        t = self.times
        late = t >= t[-1] - fraction * (t[-1] - t[0])
        return 2.0 * self.kinetic_energy[:, late].mean(axis=1)

    def plot(self, axes=None, label=None, **kwargs):
        """Three panels like Fig. 8: ``E_x``, ``E_y`` and ``⟨σ_22⟩ − ⟨σ_11⟩`` versus time.

        Parameters
        ----------
        axes : sequence of 3 matplotlib axes, optional
            Draw into these (e.g. to overlay several runs); new figure otherwise.
        label : str, optional
            Legend entry.
        **kwargs
            Passed to ``Axes.plot``.

        Returns
        -------
        list of matplotlib axes
        """
        import matplotlib.pyplot as plt
        if axes is None:
            _, axes = plt.subplots(3, 1, sharex=True, figsize=(6, 7))
        ylabels = [r"$\langle p_x^2\rangle/2m$ ($k_2$ axis)", r"$\langle p_y^2\rangle/2m$ ($k_3$ axis)",
                   r"$\langle\sigma_{22}\rangle-\langle\sigma_{11}\rangle$"]
        curves = [(self.kinetic_energy[0], self.kinetic_energy_err[0]),
                  (self.kinetic_energy[1], self.kinetic_energy_err[1]),
                  (self.inversion, self.inversion_err)]
        for ax, ylabel, (y, err) in zip(axes, ylabels, curves):
            line, = ax.plot(self.times, y, label=label, **kwargs)
            ax.fill_between(self.times, y - err, y + err, color=line.get_color(), alpha=0.2, lw=0)
            ax.set_ylabel(ylabel)
        axes[-1].set_xlabel("time")
        if label is not None:
            axes[0].legend()
        return list(axes)


# --------------------------------------------------------------------------
# the equations: NumPy oracle of the compiled kernel (cython_ext/vlevel_motion.pyx)
# --------------------------------------------------------------------------

_NOBS = 7    # E_x, E_y, P1, P2, P3, P2 − P1, ⟨H⟩


def _rhs(c, X, par):
    """Time derivatives of the (unnormalised) amplitudes c (3, n) and X = (x, y, p_x, p_y)."""
    phase = par["k"] * X[:2]
    g = par["minus_i_Omega"] * np.cos(phase)                  # −i Ω_i cos(k_i r_i), (2, n)
    dc = np.empty_like(c)
    dc[0] = g[0] * c[1] + g[1] * c[2]
    dc[1:] = par["minus_i_Heff_diag"] * c[1:] + g * c[0]
    dX = np.empty_like(X)
    dX[:2] = X[2:] * par["inv_mass"]
    norm2 = (c.real ** 2 + c.imag ** 2).sum(0)
    dX[2:] = par["force"] * np.sin(phase) * (c[0].conj() * c[1:]).real / norm2
    return dc, dX


def _observables(c, X, par):
    norm2 = (c.real ** 2 + c.imag ** 2).sum(0)
    pops = (c.real ** 2 + c.imag ** 2) / norm2
    coupling = par["Omega"] * np.cos(par["k"] * X[:2]) * 2 * (c[0].conj() * c[1:]).real / norm2
    energy = -(par["Delta"] * pops[1:]).sum(0) + coupling.sum(0)
    return np.vstack([0.5 * par["inv_mass"] * X[2:] ** 2, pops, pops[1] - pops[0], energy])


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def counter_uniform(keys, counters):
    """Uniform numbers in [0, 1) of a counter-based generator, one per trajectory.

    SplitMix64 (Steele, Lea and Flood, OOPSLA 2014) of ``key + counter · φ``; ``counters``
    is advanced in place.  Each trajectory owns its stream, so the compiled kernel and this
    NumPy oracle draw the same numbers in the same order.
    """
    with np.errstate(over="ignore"):
        z = keys + counters * _GOLDEN                       # uint64 arithmetic wraps
        counters += np.uint64(1)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(float) * (1.0 / 9007199254740992.0)


def _run_batch_numpy(keys, tlist, steps, par):
    """NumPy oracle of the kernel ``_kernels.vlevel_motion.run_batch``: all trajectories of
    the batch in lockstep; returns sums / sums of squares of the observables, jump counts
    and final momenta."""
    n = keys.size
    counters = np.zeros(n, np.uint64)
    c = np.zeros((3, n), complex)
    c[0] = 1.0
    X = np.empty((4, n))
    X[:2] = par["r0"][:, None]
    X[2:] = par["p0"][:, None]
    never = par["rates"].sum() == 0
    u = np.zeros(n) if never else counter_uniform(keys, counters)
    counts = np.zeros(4, np.int64)
    sums = np.zeros((len(tlist), _NOBS))
    squares = np.zeros((len(tlist), _NOBS))

    def record(i):
        obs = _observables(c, X, par)
        sums[i] = obs.sum(1)
        squares[i] = (obs ** 2).sum(1)

    record(0)
    for i, (nsub, h) in enumerate(steps, start=1):
        for _ in range(nsub):
            k1c, k1X = _rhs(c, X, par)
            k2c, k2X = _rhs(c + 0.5 * h * k1c, X + 0.5 * h * k1X, par)
            k3c, k3X = _rhs(c + 0.5 * h * k2c, X + 0.5 * h * k2X, par)
            k4c, k4X = _rhs(c + h * k3c, X + h * k3X, par)
            c += (h / 6) * (k1c + 2 * (k2c + k3c) + k4c)
            X += (h / 6) * (k1X + 2 * (k2X + k3X) + k4X)
            jumped = np.flatnonzero((c.real ** 2 + c.imag ** 2).sum(0) < u)
            if jumped.size:
                _jump(c, X, u, jumped, keys, counters, counts, par)
        record(i)
    return sums, squares, counts, X[2:].T.copy()


def _jump(c, X, u, idx, keys, counters, counts, par):
    """Quantum jumps of the trajectories ``idx``: channel, collapse, recoil kick, new threshold."""
    def take(sel):               # one number per trajectory of ``sel``, their counters advanced
        out = counter_uniform(keys[sel], counters[sel].copy())
        counters[sel] += np.uint64(1)
        return out

    pop = c[1:, idx].real ** 2 + c[1:, idx].imag ** 2                 # |c_2|², |c_3|²
    weights = par["rates"][:, None] * np.vstack([pop, pop])            # Γ2, Γ3, ν2, ν3
    cum = np.cumsum(weights, axis=0)
    channel = (cum < take(idx) * cum[-1]).sum(0)
    idle = cum[-1] == 0          # norm lost without any jump rate (RK4 round-off): renormalise only
    if idle.any():
        sel = idx[idle]
        c[:, sel] /= np.sqrt((np.abs(c[:, sel]) ** 2).sum(0))
        u[sel] = take(sel)
        idx, channel = idx[~idle], channel[~idle]
    c[:, idx] = 0.0
    c[par["target"][channel], idx] = 1.0                              # |1⟩, |1⟩, |2⟩, |3⟩
    cos_theta = -1.0 + 2.0 * take(idx)
    phi = 2 * np.pi * take(idx)
    sin_theta = np.sqrt(1.0 - cos_theta ** 2)
    kick = np.where(channel < 2, par["k"][np.minimum(channel, 1), 0], 0.0)
    X[2, idx] += kick * sin_theta * np.cos(phi)
    X[3, idx] += kick * sin_theta * np.sin(phi)
    counts += np.bincount(channel, minlength=4)
    u[idx] = take(idx)


def _run_batch(keys, tlist, steps, par, backend="kernel"):
    """One batch (the trajectories' random keys) by the compiled kernel or the NumPy oracle."""
    n = keys.size
    if backend == "numpy":
        return _run_batch_numpy(keys, tlist, steps, par)
    from .._kernels import load
    kernel = load("vlevel_motion")
    sums = np.zeros((len(tlist), _NOBS))
    squares = np.zeros((len(tlist), _NOBS))
    counts = np.zeros(4, np.int64)
    final = np.zeros((n, 2))
    nsub = np.array([s for s, _ in steps], dtype=np.int64)
    h = np.array([dt for _, dt in steps], dtype=float)
    kernel.run_batch(keys, nsub, h, par["k"][:, 0].copy(), par["Omega"][:, 0].copy(),
                     par["Delta"][:, 0].copy(), par["decay"], par["force"][:, 0].copy(),
                     float(par["inv_mass"]), par["rates"], par["r0"], par["p0"], sums, squares,
                     counts, final)
    return sums, squares, counts, final


# --------------------------------------------------------------------------
# public entry point
# --------------------------------------------------------------------------

_OPTIONS = {"dt": None, "map": "serial", "num_cpus": None, "batch_size": 256}


def _pair(name, value, kind, scalar=False):
    """A pair (or, if ``scalar``, also one number) of finite reals → float array of length 2."""
    if scalar and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = [value, value]
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")
    if len(value) != 2:
        raise ValueError(f"{name} must be {kind}, got length {len(value)}")
    return np.array([check_real(f"{name}[{i}]", v) for i, v in enumerate(value)])


def _recoil(recoil):
    merged = strontium_recoil()
    if recoil is not None:
        if not isinstance(recoil, dict):
            raise TypeError(f"recoil must be a dict with keys k2, k3, mass, got {type(recoil).__name__}")
        unknown = sorted(set(recoil) - set(merged))
        if unknown:
            raise ValueError(f"unknown recoil key(s) {unknown}; allowed: ['k2', 'k3', 'mass']")
        merged.update(recoil)
    for name in ("k2", "k3"):
        merged[name] = check_real(f"recoil['{name}']", merged[name])
        if merged[name] <= 0:
            raise ValueError(f"recoil['{name}'] (wavevector) must be > 0, got {merged[name]}")
    mass = merged["mass"]
    if isinstance(mass, bool) or not isinstance(mass, numbers.Real):
        raise TypeError(f"recoil['mass'] must be a real number, got {type(mass).__name__}")
    if not float(mass) > 0:
        raise ValueError(f"recoil['mass'] must be > 0 (math.inf holds the atom fixed), got {mass}")
    merged["mass"] = float(mass)
    return merged


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def motion_trajectories(tlist, *, Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5,
                        Gamma2=1 / 4266, Gamma3=1.0, nu2=0.0, nu3=0.0, recoil=None,
                        p0=100, r0=(0.0, 0.0), ntraj=500, seed=None, options=None,
                        progress_bar=True):
    r"""MCWF trajectories of a V-level atom with classical 2-D motion (Sec. IV, Fig. 8).

    Each trajectory starts in the ground state at ``r0`` with momentum
    ``p_i(0) = p0 · k_i``; see the module docstring for the model (eqs
    12–15), the force sign, the units and the unravelling.

    Parameters
    ----------
    tlist : array_like
        Strictly increasing output times; the run starts at ``tlist[0]``.
        The time axis of the paper's Fig. 8 is not in its text; ``t_final =
        2000/Γ_3`` is this package's default choice (benchmarks), but the
        kinetic energy along k_3 decays with an e-folding time of ≈ 6000/Γ_3,
        so final temperatures need ``t ≳ 2·10⁴/Γ_3`` (see Notes).
    Delta2, Delta3 : float
        Pump detunings ``ω_ℓi − ω_i`` (default: the paper's lasing point
        Δ_2 = 5, Δ_3 = −1 in units of Γ_3).
    Omega2, Omega3 : float
        Pump amplitudes (coefficient of ``σ_i1 + σ_1i`` at an antinode).
    Gamma2, Gamma3 : float
        Decay rates of levels 2 and 3 to the ground state (⁸⁸Sr: Γ_3/Γ_2 = 4266).
    nu2, nu3 : float
        Pump linewidths, dephasing ``ν_i D[σ_ii]`` (eq 4); Fig. 8 uses
        ``ν = Γ_2`` and ``10Γ_2``.
    recoil : dict, optional
        ``k2``, ``k3`` (wavevectors, > 0) and ``mass`` (> 0; ``math.inf``
        holds the atom fixed: no motion, kicks still recorded in p).  Missing
        keys are taken from :func:`strontium_recoil` (⁸⁸Sr, Γ_3 = 1).
    p0 : float or (float, float)
        Initial momentum in units of ``k_i`` per axis (paper: 100).
    r0 : (float, float)
        Initial position (x, y); ``(0, 0)`` is the antinode of both beams.
    ntraj : int
        Number of trajectories (paper: 500).
    seed : int, numpy.random.SeedSequence or None
        Seed; with the same seed ``map="serial"`` and ``"parallel"`` agree.
    options : dict, optional
        ``dt`` (RK4 step; default ``0.1/max(|Δ_i|, Ω_i, Γ_i + ν_i)``, reduced to
        divide every output interval), ``map`` (``"serial"`` or
        ``"parallel"``), ``num_cpus`` (for ``"parallel"``), ``batch_size``
        (trajectories per task of the map, default 256; the results do not
        depend on it: every trajectory has its own random stream).
    progress_bar : None, bool or str
        QuTiP's values: None/False/"" off, True/"text", "enhanced", "tqdm"
        (formerly ``progress``, deprecated): QuTiP's bar over the batches.

    Returns
    -------
    MotionResult

    Notes
    -----
    The paper quotes final temperatures along k_3 of ``k_B T ≈ Γ_3/2`` for
    the lasing set (Fig. 8, blue) and ``≈ 3Γ_3/10`` for its "optimal cooling"
    set (orange; its parameters are not given in the paper — choose them
    yourself).  With this module (lasing set, ⁸⁸Sr recoil, m = 88 u, 500
    trajectories, ν_2 = ν_3 = Γ_2):

    * from the paper's start ``p_i(0) = 100 k_i`` the energy along k_3 decays
      at ≈ 1.5–1.8·10⁻⁴ Γ_3 (e-folding ≈ 6000/Γ_3), as the two-beam,
      low-saturation Doppler friction predicts: ``2β/m = 32 ω_r,3 s |Δ_3| /
      (Γ_3 (1 + s + 4Δ_3²/Γ_3²)²) = 1.76·10⁻⁴ Γ_3`` with ``s = 2Ω_3²/Γ_3² =
      0.5`` per running wave.  At t = 2000/Γ_3 ``E_y`` is still 2.64 Γ_3, at
      10⁴/Γ_3 1.76 Γ_3;
    * started near equilibrium (``p0 = 30``) and run to 2·10⁴/Γ_3,
      ``temperature()`` (last quarter) gives ``k_B T_y = 0.38 Γ_3`` along
      k_3 — the order of the paper's Γ_3/2; the same two-beam theory with
      3-D emission (``⟨s_y²⟩ = 1/3``) gives ``k_B T = Γ_3 (4/3)(1 + s +
      4Δ_3²/Γ_3²) Γ_3/(16|Δ_3|) = 0.46 Γ_3`` — and ``k_B T_x = 0.29 Γ_3``
      along k_2 (still drifting);
    * the inversion ``⟨σ_22⟩ − ⟨σ_11⟩`` of the moving atom reaches only
      ≈ 0.2–0.3 by t = 10⁴/Γ_3 (the paper: "significantly decreased").
    """
    tlist = check_grid("tlist", tlist)
    Delta = np.array([check_real("Delta2", Delta2), check_real("Delta3", Delta3)])
    Omega = np.array([check_real("Omega2", Omega2), check_real("Omega3", Omega3)])
    rates = np.array([check_rate(n, v) for n, v in
                      (("Gamma2", Gamma2), ("Gamma3", Gamma3), ("nu2", nu2), ("nu3", nu3))])
    rec = _recoil(recoil)
    k = np.array([rec["k2"], rec["k3"]])
    p0 = _pair("p0", p0, "a real number or a pair (p_x, p_y) in units of k_i", scalar=True) * k
    r0 = _pair("r0", r0, "a pair (x, y) of real numbers")
    ntraj = check_int("ntraj", ntraj, minimum=1)
    opts = check_options(options, _OPTIONS, "motion_trajectories")
    if opts["map"] not in ("serial", "parallel"):
        raise ValueError(f"options['map'] must be 'serial' or 'parallel', got {opts['map']!r}")
    batch_size = check_int("options['batch_size']", opts["batch_size"], minimum=1)
    num_cpus = opts["num_cpus"]
    if num_cpus is not None:
        num_cpus = check_int("options['num_cpus']", num_cpus, minimum=1)
    decay = rates[:2] + rates[2:]
    if opts["dt"] is None:
        fastest = max(np.abs(Delta).max(), np.abs(Omega).max(), decay.max())
        dt = 0.1 / fastest if fastest > 0 else 0.1
    else:
        dt = check_real("options['dt']", opts["dt"])
        if dt <= 0:
            raise ValueError(f"options['dt'] must be > 0, got {dt}")
    intervals = np.diff(tlist)
    nsub = np.maximum(1, np.ceil(intervals / dt - 1e-9)).astype(int)
    steps = list(zip(nsub.tolist(), (intervals / nsub).tolist()))

    par = {"k": k[:, None], "Omega": Omega[:, None], "Delta": Delta[:, None],
           "minus_i_Omega": -1j * Omega[:, None],
           "minus_i_Heff_diag": (-1j * (-Delta - 0.5j * decay))[:, None],
           "force": (2 * k * Omega)[:, None], "inv_mass": 1.0 / rec["mass"],
           "rates": rates, "target": np.array([0, 0, 1, 2]), "r0": r0, "p0": p0,
           "decay": decay}

    # one random stream per trajectory: the results do not depend on batches or the map
    keys = (seed if isinstance(seed, np.random.SeedSequence)
            else np.random.SeedSequence(seed)).generate_state(ntraj, dtype=np.uint64)
    batches = [keys[s:s + batch_size] for s in range(0, ntraj, batch_size)]
    mapper = qutip.serial_map if opts["map"] == "serial" else qutip.parallel_map
    out = mapper(_run_batch, batches,
                 task_kwargs={"tlist": tlist, "steps": steps, "par": par},
                 map_kw={"num_cpus": num_cpus} if num_cpus else None,
                 progress_bar=qutip_progress_bar(progress_bar))

    sums = sum(o[0] for o in out)
    squares = sum(o[1] for o in out)
    mean = sums / ntraj
    err = (np.sqrt(np.maximum(squares - ntraj * mean ** 2, 0.0) / ((ntraj - 1) * ntraj))
           if ntraj > 1 else np.full_like(mean, np.nan))
    counts = sum(o[2] for o in out)
    return MotionResult(
        times=tlist, kinetic_energy=mean[:, :2].T, kinetic_energy_err=err[:, :2].T,
        populations=mean[:, 2:5].T, populations_err=err[:, 2:5].T,
        inversion=mean[:, 5], inversion_err=err[:, 5],
        internal_energy=mean[:, 6], internal_energy_err=err[:, 6],
        jumps=dict(zip(("decay2", "decay3", "dephase2", "dephase3"), counts.tolist())),
        final_momentum=np.concatenate([o[3] for o in out]), ntraj=ntraj,
        dt=float((intervals / nsub).max()) if intervals.size else dt,
        parameters=dict(Delta2=Delta[0], Delta3=Delta[1], Omega2=Omega[0], Omega3=Omega[1],
                        Gamma2=rates[0], Gamma3=rates[1], nu2=rates[2], nu3=rates[3],
                        recoil=rec, p_initial=p0, r_initial=r0))
