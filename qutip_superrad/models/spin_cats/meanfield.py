r"""Mean-field synchronization of the spin-cat model (seed Sec. IV, eqs 16–22, App. A).

Product-state mean field of ``(Γ_2/N²) D[S_−²]`` plus the squeezing drive
``(η/N)(e^{iθ}S_−² + e^{−iθ}S_+²)`` and detunings ``½δ_m σ^z_m`` (the seed
writes ``φ`` for the squeezing phase in eq 2 and ``θ`` in eqs 16–17; both are the
same angle, here ``theta``).  Per spin ``m`` (eqs 16–17)::

    d⟨σ⁺_m⟩/dt = iδ_m⟨σ⁺_m⟩ − 2iη e^{iθ} z_m c₁* − 2Γ₂⟨σ⁺_m⟩(c₂/N + |c₁|²)
                 + Γ₂ z_m c₁ (2c₂ + N|c₁|²)
    dz_m/dt    = 8η Im(e^{−iθ}⟨σ⁺_m⟩c₁) − 4Γ₂(1 + z_m)(c₂/N + |c₁|²)
                 − 4Γ₂ Re[⟨σ⁺_m⟩ c₁* (2c₂ + N|c₁|²)]

with ``c₁,m = (1/N)Σ_{j≠m}⟨σ⁺_j⟩`` and ``c₂,m = (1/2N)Σ_{j≠m}(1 + z_j)``
(App. A).  :func:`meanfield_rhs` evaluates them vectorised, per spin or per
cluster of identical spins (``weights`` = spins per cluster, any positive reals).

The order-1 cumulant equations of the package's engine (from
:class:`TwoBodyLossSpins` or :func:`cluster_description`) agree with eqs 16–17
exactly in the drive and detuning terms; in the ``Γ₂`` terms eqs 16–17 keep the
``i = j`` (self) terms of ``Σ_{i≠j}⟨σ⁺_i⟩⟨σ⁻_j⟩`` and of the triple sums (App. A
replaces restricted sums by full ones), which the engine excludes — a relative
``O(1/N)`` difference (checked in the tests).

Identical spins reduce to eq 18 (``A, φ, z``), whose synchronized fixed point
is eq 19 (:func:`identical_steady_state`, real for ``η/(NΓ₂) ≤ 1/16``).  Two
sub-ensembles of ``N/2`` spins at ``±δ`` reduce to eq 20
(:func:`reduced_rhs`, ``A, ζ, z``) with the small-``ζ`` solution eq 21
(:func:`small_zeta_solution`).  :func:`phase_spread_map` computes the steady
phase spread ``ζ`` of Fig. 4 from the full eqs 16–17 (two clusters ``±δ``).

>>> from qutip_superrad.models.spin_cats.meanfield import identical_steady_state
>>> A, phi, z = identical_steady_state(10_000, 300.0)   # η/(NΓ₂) = 0.03
>>> round(10_000 * A ** 2, 3), round(z, 4)
(599.861, -0.8606)
"""
from __future__ import annotations

import time

import numpy as np

from ..._progress import qutip_progress_bar
from ..._validate import (PROGRESS_RENAMES, check_int, check_rate, check_real, real_array,
                           renamed_keywords)

__all__ = [
    "meanfield_rhs", "cluster_description", "identical_rhs", "identical_steady_state",
    "identical_fixed_point", "reduced_rhs", "small_zeta_solution", "two_ensemble_state",
    "solve_two_ensembles", "phase_spread_map", "PhaseSpreadMap", "fit_boundary",
    "ellipse_boundary", "SYNC_LIMIT",
]

#: ``η/(NΓ₂)`` above which eq 19 has no real synchronized solution.
SYNC_LIMIT = 1.0 / 16.0


# ----------------------------------------------------------------------------------
# validation helpers
def _check_N(N, *, even=False, integer=False):
    if integer or even:
        N = check_int("N", N, minimum=2 if even else 1)
        if even and N % 2:
            raise ValueError(f"N must be even for two sub-ensembles of N/2 spins, got N = {N}")
        return N
    N = check_real("N", N)
    if N < 1:
        raise ValueError(f"N must be >= 1, got {N}")
    return N


def _check_positive(name, value):
    value = check_rate(name, value)
    if value == 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _finite_array(name, value, dtype=float):
    arr = real_array(name, value, dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


# ----------------------------------------------------------------------------------
# eqs 16–17
def meanfield_rhs(sp, sz, detunings, N=None, eta=0.0, Gamma2=1.0, theta=0.0, weights=None,
                  exclude_self=False):
    r"""Right-hand side of the mean-field eqs 16–17 (vectorised).

    Parameters
    ----------
    sp : array_like, complex, shape (..., M)
        ``⟨σ⁺_m⟩`` of every spin (or of every cluster of identical spins).
    sz : array_like, real, shape (..., M)
        ``⟨σ^z_m⟩``.
    detunings : array_like, shape (M,) or broadcastable
        ``δ_m``.
    N : float, optional
        Total number of spins (default ``Σ weights``).
    eta, Gamma2, theta : float
        Squeezing strength ``η >= 0``, two-body loss ``Γ₂ >= 0`` and squeezing
        phase ``θ`` (``φ`` of eq 2).
    weights : array_like, shape (M,), optional
        Spins per entry (default 1: one entry per spin).
    exclude_self : bool
        False (default): eqs 16–17 as printed (App. A replaces the restricted sums
        ``Σ_{i≠j}``, ``Σ_{i≠j≠k}`` over the other spins by full sums of ``c₁, c₂``).
        True: the exact product-state (order-1 cumulant) equations, which keep the
        restrictions; they equal the engine's order-1 equations and differ from eqs
        16–17 by relative ``O(1/N)``.

    Returns
    -------
    (dsp, dsz) : complex and real arrays of the shapes of ``sp`` and ``sz``.
    """
    sp = _finite_array("sp", sp, complex)
    sz = _finite_array("sz", sz, float)
    det = _finite_array("detunings", detunings, float)
    eta = check_rate("eta", eta)
    Gamma2 = check_rate("Gamma2", Gamma2)
    theta = check_real("theta", theta)
    M = sp.shape[-1]
    w = np.ones(M) if weights is None else _finite_array("weights", weights, float)
    if w.shape != (M,) or np.any(w <= 0):
        raise ValueError(f"weights must be {M} positive numbers, got shape {w.shape}")
    N = float(np.sum(w)) if N is None else _check_N(N)
    if exclude_self:
        return _rhs_exact(sp, sz, det, N, eta, Gamma2, theta, w)
    return _rhs(sp, sz, det, N, eta, Gamma2, theta, w)


def _rhs_exact(sp, sz, det, N, eta, G, theta, w):
    """Product-state equations with restricted sums (= the engine's order 1)."""
    n = (1.0 + sz) / 2.0

    def others(v):  # Σ_{j≠m} w_j v_j for every m
        return np.sum(w * v, axis=-1, keepdims=True) - v

    S, P = others(sp), others(n)
    Q, S2 = others(np.abs(sp) ** 2), others(sp * sp)
    C, T = others(np.abs(sp) ** 2 * sp), others(n * sp)
    RR = P + np.abs(S) ** 2 - Q                     # ⟨R†R⟩, R = Σ_{j≠m} σ⁻_j
    R2R = 2 * (P * S - T) + S * S * S.conj() - S2 * S.conj() - 2 * Q * S + 2 * C  # ⟨R†²R⟩
    eith = np.exp(1j * theta)
    c1 = S / N
    g = G / N ** 2
    dsp = 1j * det * sp - 2j * eta * eith * sz * c1.conj() + g * (-2 * sp * RR + sz * R2R)
    dsz = (8.0 * eta * (sp * c1 / eith).imag
           - 4 * g * ((1 + sz) * RR + (sp.conj() * R2R).real))
    return dsp, dsz


def _rhs(sp, sz, det, N, eta, G, theta, w):
    S = np.sum(w * sp, axis=-1, keepdims=True)
    P = np.sum(w * (1.0 + sz), axis=-1, keepdims=True) / 2.0
    c1 = (S - sp) / N
    c2 = (P - (1.0 + sz) / 2.0) / N
    ac2 = (c1 * c1.conj()).real
    loss = c2 / N + ac2
    gain = 2.0 * c2 + N * ac2
    eith = np.exp(1j * theta)
    dsp = (1j * det * sp - 2j * eta * eith * sz * c1.conj()
           - 2.0 * G * sp * loss + G * sz * c1 * gain)
    dsz = (8.0 * eta * (sp * c1 / eith).imag - 4.0 * G * (1.0 + sz) * loss
           - 4.0 * G * (sp * c1.conj() * gain).real)
    return dsp, dsz


def cluster_description(counts, detunings, eta, Gamma2=1.0, phase=0.0):
    r"""The spin-cat model with ``M`` clusters of identical spins and per-cluster ``δ``.

    ``counts`` spins (any positive reals) at ``detunings``; the couplings use the
    total ``N = Σ counts`` as in eqs 1–2.  Returns ``(model, ops)`` like
    :meth:`TwoBodyLossSpins.description` (a :class:`~qutip_superrad.Model` whose
    ``symbolic.close(1)`` is the engine's order-1 mean field).
    """
    from ...cumulant.engine.algebra import parameters
    from ...cumulant.engine.clusters import Clusters
    from ...model import Model
    counts = _finite_array("counts", np.atleast_1d(counts), float).ravel()
    det = _finite_array("detunings", np.atleast_1d(detunings), float).ravel()
    if counts.size == 0 or np.any(counts <= 0):
        raise ValueError("counts must be positive cluster sizes")
    if det.shape != counts.shape:
        raise ValueError(f"detunings must have {counts.size} values, got {det.size}")
    eta = check_rate("eta", eta)
    Gamma2 = check_rate("Gamma2", Gamma2)
    phase = check_real("phase", phase)
    N = float(counts.sum())
    atoms = Clusters("s")
    s = atoms.atom
    ec, es, loss = parameters("eta_c eta_s loss")
    d = atoms.parameter("delta")
    Sm, Sp = atoms.sum(s.sm), atoms.sum(s.sp)
    H = (ec * (Sm * Sm + Sp * Sp) + 1j * es * (Sm * Sm - Sp * Sp)
         + atoms.sum(0.5 * d * s.sz))
    values = dict(eta_c=eta * np.cos(phase) / N, eta_s=eta * np.sin(phase) / N,
                  loss=Gamma2 / N ** 2, delta=det)
    model = Model(H, [(loss, Sm * Sm)], parameters=values, N=counts,
                  name="two-body loss spins (clusters)")
    return model, {"Sp": Sp, "Sm": Sm, "Sz": atoms.sum(0.5 * s.sz)}


# ----------------------------------------------------------------------------------
# identical spins: eqs 18–19
def identical_rhs(y, N, eta, Gamma2=1.0, as_printed=False):
    r"""Eq 18 (large-N identical spins): ``d(A, φ, z)/dt`` at ``y = (A, φ, z)``.

    The seed prints ``φ̇ = −2ηzA cos 2φ``; eq 16 gives ``φ̇ = Im(d⟨σ⁺⟩/dt / ⟨σ⁺⟩)
    = −2ηz cos 2φ`` (no factor ``A``; the printed ``A`` is a typo).  Default: the
    corrected form; ``as_printed=True`` for the printed one.  Both vanish at
    ``φ = π/4``, so eq 19 is unaffected.
    """
    A, phi, z = (np.asarray(v, float) for v in y)
    G = Gamma2
    dA = A * (-2 * eta * z * np.sin(2 * phi) - 2 * G * A ** 2 + N * G * z * A ** 2)
    dphi = -2 * eta * z * (A if as_printed else 1.0) * np.cos(2 * phi)
    dz = A ** 2 * (8 * eta * np.sin(2 * phi) - 4 * G * (1 + z) - 4 * G * N * A ** 2)
    return np.array([dA, dphi, dz])


def identical_steady_state(N, eta, Gamma2=1.0):
    r"""Eq 19: synchronized fixed point ``(A, φ, z)`` of eq 18 (closed form, large N).

    ``A² = (4η/Γ₂ − 1 + s)/(2N)``, ``φ = π/4``, ``z = −(1 + s)/2`` with
    ``s = √(1 − 16η/(NΓ₂))``; ``ValueError`` (naming ``eta``) beyond the
    synchronization limit ``η/(NΓ₂) = 1/16``.
    """
    N = _check_N(N)
    eta = check_rate("eta", eta)
    Gamma2 = _check_positive("Gamma2", Gamma2)
    r = eta / (N * Gamma2)
    if r > SYNC_LIMIT:
        raise ValueError(f"eta/(N Gamma2) = {r:.6g} > 1/16: eq 19 has no real synchronized "
                         "solution (synchronization is broken); lower eta")
    s = np.sqrt(1.0 - 16.0 * r)
    A2 = (4 * eta / Gamma2 - 1 + s) / (2 * N)
    return float(np.sqrt(max(A2, 0.0))), np.pi / 4, float(-(1 + s) / 2)


def identical_fixed_point(N, eta, Gamma2=1.0, exclude_self=False):
    r"""Synchronized fixed point ``(A, φ, z)`` of eqs 16–17 for N identical spins (finite N).

    Solves ``d⟨σ⁺⟩/dt = 0``, ``dz/dt = 0`` of :func:`meanfield_rhs` (one cluster of
    N spins, ``θ = 0``) at ``φ = π/4`` by Newton iteration from eq 19.  Returns NaN
    for ``A`` and ``z`` when the iteration finds no synchronized root (beyond the
    limit ``η/(NΓ₂) ≈ 1/16``).
    """
    from scipy.optimize import fsolve
    N = _check_N(N)
    eta = check_rate("eta", eta)
    Gamma2 = _check_positive("Gamma2", Gamma2)
    r = eta / (N * Gamma2)
    s = np.sqrt(max(1 - 16 * r, 0.0))
    # unknowns: u = N A² (O(η)), v = N (1 + z) (O(η)) — well scaled for large N
    x0 = [(4 * eta / Gamma2 - 1 + s) / 2, N * (1 - s) / 2]

    def F(x):
        u, v = x
        A = np.sqrt(abs(u) / N)
        sp = np.array([A * np.exp(1j * np.pi / 4)])
        sz = np.array([v / N - 1])
        dsp, dsz = meanfield_rhs(sp, sz, [0.0], eta=eta, Gamma2=Gamma2, weights=[N],
                                 exclude_self=exclude_self)
        scale = Gamma2 * max(eta / Gamma2, 1.0) / N
        return [(dsp[0] * np.exp(-1j * np.pi / 4)).real / max(A, 1e-300) / scale,
                dsz[0] / scale * N]

    x, info, ier, _ = fsolve(F, x0, full_output=True, xtol=1e-13)
    ok = ier == 1 and x[0] > 0 and np.max(np.abs(F(x))) < 1e-8 and 0 <= x[1] <= N
    if not ok:
        return np.nan, np.pi / 4, np.nan
    return float(np.sqrt(x[0] / N)), np.pi / 4, float(x[1] / N - 1)


# ----------------------------------------------------------------------------------
# two sub-ensembles ±δ: eqs 20–21
def reduced_rhs(y, N, eta, delta, Gamma2=1.0, as_printed=False):
    r"""Eq 20: ``d(A, ζ, z)/dt`` for two sub-ensembles of N/2 spins at ``±δ``.

    ``⟨σ⁺⟩ = A e^{i(π/4 ± ζ)}`` in the two halves, common ``z`` (``θ = 0``).

    ``as_printed=True`` is eq 20 as printed in the seed.  The printed ``Ȧ/A`` lacks
    the loss term ``−2Γ₂(c₂/N + |c₁|²) = −2Γ₂[(N−1)(1+z)/2N² + A²((1−2/N)cos²ζ
    + 1/N²)]`` of eq 16 (the analogue of ``−2Γ₂A²`` in eq 18).  It is O(1/N) of the
    leading terms, but those cancel in the locked state, so the printed eq 20 loses
    the locking (ζ → π/2, z > 1) where eqs 16–17 lock.  Default: the printed eq 20
    plus this term, which follows eqs 16–17 with N/2 + N/2 spins to O(1/N).
    """
    A, zeta, z = (np.asarray(v, float) for v in y)
    G = Gamma2
    c2z = np.cos(zeta) ** 2
    B = 1 + z + N * A ** 2 * (1 - 2 / N) * c2z
    dA = A * (-2 * eta * z * (c2z - np.cos(2 * zeta) / N) + G * z * (c2z - 1 / N) * B)
    if not as_printed:
        dA = dA - 2 * G * A * ((N - 1) * (1 + z) / (2 * N ** 2)
                               + A ** 2 * ((1 - 2 / N) * c2z + 1 / N ** 2))
    dzeta = (delta + eta * z * (1 - 2 / N) * np.sin(2 * zeta)
             - G / 2 * z * B * np.sin(2 * zeta))
    dz = A ** 2 * (8 * eta * (c2z - np.cos(2 * zeta) / N) - 4 * G * (c2z - 1 / N) * B
                   - 4 * G * (1 + z) * c2z)
    return np.array([dA, dzeta, dz])


def small_zeta_solution(N, eta, delta, Gamma2=1.0):
    r"""Eq 21: ``(A, ζ, z)`` of the synchronized state for small ``ζ`` (to O(ζ), O(1/N)).

    ``A² = (4η/Γ₂ − 1 + s)/(2N)``, ``ζ = (1 + s) N²Γ₂δ/(32η²)``, ``z = −(1+s)/2``,
    ``s = √(1 − 16η/(NΓ₂))``.
    """
    N = _check_N(N)
    eta = _check_positive("eta", eta)
    Gamma2 = _check_positive("Gamma2", Gamma2)
    delta = check_real("delta", delta)
    A, _, z = identical_steady_state(N, eta, Gamma2)
    s = np.sqrt(1 - 16 * eta / (N * Gamma2))
    zeta = (1 + s) * N ** 2 * Gamma2 * delta / (32 * eta ** 2)
    return A, float(zeta), z


def two_ensemble_state(N, eta, Gamma2=1.0):
    r"""Initial state of the Fig. 4 runs: the spin coherent state of the bosonic amplitude.

    Every spin at ``⟨σ⁺⟩ = ½ sin ϑ e^{iπ/4}``, ``z = −cos ϑ`` with
    ``N sin²(ϑ/2) = |α|² = 2η/Γ₂`` (``ϑ = π`` cap), i.e. both halves synchronized
    (``ζ = 0``).  Returns ``y`` = (Re σ⁺₁, Re σ⁺₂, Im σ⁺₁, Im σ⁺₂, z₁, z₂).
    """
    s2 = min(2 * eta / (Gamma2 * N), 1.0)
    th = 2 * np.arcsin(np.sqrt(s2))
    sp = 0.5 * np.sin(th) * np.exp(1j * np.pi / 4)
    if abs(sp) < 1e-8:  # η = 0: seed a tiny coherence so that ζ is defined
        sp = 1e-8 * np.exp(1j * np.pi / 4)
    z = -np.cos(th)
    return np.array([sp.real, sp.real, sp.imag, sp.imag, z, z])


def _two_rhs(t, y, N, eta, delta, G):
    """Eqs 16–17 for two clusters of N/2 spins at ±δ in real variables (vectorised in y)."""
    sp = (y[0:2] + 1j * y[2:4]).T
    sz = y[4:6].T
    det = np.array([delta, -delta])
    dsp, dsz = _rhs(sp, sz, det, N, eta, G, 0.0, np.array([N / 2, N / 2]))
    return np.concatenate([dsp.real.T, dsp.imag.T, dsz.T])


def _zeta_A(y):
    sp1 = y[0] + 1j * y[2]
    sp2 = y[1] + 1j * y[3]
    zeta = 0.5 * np.angle(sp1 * np.conj(sp2))
    return zeta, 0.5 * (abs(sp1) + abs(sp2))


def _slip_event(t, y, N, eta, delta, G):
    """Zero when the phase difference of the halves reaches ±(π − 0.05): a phase slip."""
    return abs(np.angle((y[0] + 1j * y[2]) * (y[1] - 1j * y[3]))) - (np.pi - 0.05)


_slip_event.terminal = True
_slip_event.direction = 1


def solve_two_ensembles(N, eta, delta, Gamma2=1.0, t_final=None, y0=None, *, rtol=1e-8,
                        atol=1e-11, tol=1e-4, collapse=0.05, max_seconds=None,
                        method="LSODA"):
    r"""Integrate eqs 16–17 for N/2 + N/2 spins at ``±δ`` and judge synchronization.

    Starts from :func:`two_ensemble_state` (``ζ = 0``) unless ``y0``.  The run stops
    early on a phase slip (the phase difference of the halves reaches ``π − 0.05``:
    no locking), on an amplitude collapse (``A < collapse · A(0)``), after
    ``max_seconds`` of wall time (default ``None``: no wall-clock limit, so that the
    result does not depend on the machine's load; the run is bounded by ``t_final``),
    or once stationary.

    Returns a dict: ``zeta`` (final ``½ arg(σ⁺₁ σ⁺₂*)``), ``A``, ``z`` (means), ``y``
    (final state), ``t`` (time reached), ``status`` (``"synchronized"``, ``"slip"``,
    ``"collapse"``, ``"not stationary"``, ``"timeout"``, ``"failed"``),
    ``converged`` (stationary: ``ζ``, ``A/A(0)``, ``z`` change by less than ``tol``
    over the last quarter of the time reached and ``|ζ̇|·t/4 < tol``) and
    ``synchronized`` (``status == "synchronized"``).  Default ``t_final``:
    ``max(2000, 40/r)/Γ₂`` (≤ 10⁶/Γ₂) with the slow locking rate ``r = 32(η/NΓ₂)²``.
    """
    N = _check_N(N, even=True)
    eta = check_rate("eta", eta)
    Gamma2 = _check_positive("Gamma2", Gamma2)
    delta = check_real("delta", delta)
    from scipy.integrate import solve_ivp
    x = eta / (N * Gamma2)
    if t_final is None:
        t_final = max(2000.0, 40.0 / max(32 * x * x, 1e-12)) / Gamma2
        t_final = min(t_final, 1e6 / Gamma2)
    t_final = _check_positive("t_final", t_final)
    y = two_ensemble_state(N, eta, Gamma2) if y0 is None else np.asarray(y0, float).copy()
    A0 = _zeta_A(y)[1]
    args = (N, eta, delta, Gamma2)

    def collapse_event(t, yy, *a):
        return _zeta_A(yy)[1] - collapse * A0
    collapse_event.terminal = True
    collapse_event.direction = -1

    out = dict(N=N, eta=eta, delta=delta, Gamma2=Gamma2, t_final=t_final)
    start = time.perf_counter()
    n_chunks = 16
    edges = np.linspace(0.0, t_final, n_chunks + 1)
    hist = [(0.0, y)]
    status = None
    for k in range(n_chunks):
        sol = solve_ivp(_two_rhs, (edges[k], edges[k + 1]), y, method=method, args=args,
                        rtol=rtol, atol=atol, events=[_slip_event, collapse_event])
        if sol.status < 0:
            status = "failed"
            break
        y = sol.y[:, -1]
        hist.append((sol.t[-1], y))
        if sol.status == 1:
            status = "slip" if sol.t_events[0].size else "collapse"
            break
        if max_seconds is not None and time.perf_counter() - start > max_seconds:
            status = "timeout"
            break
        if k >= 3 and _stationary(hist, args, tol, A0)[0]:
            break
    t_end = hist[-1][0]
    zeta, A = _zeta_A(y)
    stat, change, drift = _stationary(hist, args, tol, A0)
    if status is None:
        status = "synchronized" if stat else "not stationary"
    out.update(zeta=float(zeta), A=float(A), z=float(0.5 * (y[4] + y[5])), y=y, t=float(t_end),
               status=status, converged=bool(stat and status == "synchronized"),
               synchronized=status == "synchronized", change=change, drift=drift,
               seconds=time.perf_counter() - start)
    return out


def _stationary(hist, args, tol, A0):
    """(stationary?, change over the last quarter, remaining ζ drift) of a run."""
    t_end, y = hist[-1]
    if t_end <= 0:
        return False, np.inf, np.inf
    ref = next((h for h in hist if h[0] >= 0.75 * t_end), hist[-1])
    if ref[0] >= t_end:
        ref = hist[-2] if len(hist) > 1 else hist[-1]
    z0, a0 = _zeta_A(ref[1])
    z1, a1 = _zeta_A(y)
    change = max(abs(z1 - z0), abs(a1 - a0) / max(A0, 1e-300),
                 abs(0.5 * (y[4] + y[5] - ref[1][4] - ref[1][5])))
    dy = _two_rhs(0.0, y, *args)
    sp1, sp2 = y[0] + 1j * y[2], y[1] + 1j * y[3]
    if abs(sp1) < 1e-300 or abs(sp2) < 1e-300:
        return False, float(change), np.inf
    dzeta = 0.5 * ((dy[0] + 1j * dy[2]) / sp1 - (dy[1] + 1j * dy[3]) / sp2).imag
    drift = abs(dzeta) * t_end / 4
    return bool(change < tol and drift < tol), float(change), float(drift)


# ----------------------------------------------------------------------------------
# Fig. 4
def ellipse_boundary(x, a, b):
    r"""Eq 22 in scaled units: ``y = b √(a² − (x − a)²)`` (``x = η̃/N``, ``y = δ̃/N²``)."""
    x = np.asarray(x, float)
    return b * np.sqrt(np.clip(a * a - (x - a) ** 2, 0, None))


def _map_point(N, delta_tilde, eta_tilde, t_final, tol, max_seconds):
    """One point of Fig. 4 (a sweep task: plain numbers in, a dict of numbers out)."""
    r = solve_two_ensembles(N, eta_tilde, delta_tilde / N ** 2, 1.0, t_final=t_final, tol=tol,
                            max_seconds=max_seconds)
    return {k: r[k] for k in ("zeta", "synchronized", "converged", "A", "z")}


class PhaseSpreadMap:
    r"""Steady phase spread ``ζ`` over ``(δ̃, η̃)`` (seed Fig. 4).

    Attributes
    ----------
    N : int
    delta_tilde, eta_tilde : ndarray
        Axes (``δ̃ = N²δ/Γ₂``, ``η̃ = η/Γ₂``).
    zeta : ndarray, shape (len(delta_tilde), len(eta_tilde))
        ``|ζ|`` of the synchronized steady state; NaN where ``not synchronized``.
    synchronized : ndarray of bool
        Converged within ``t_final`` to a stationary state with non-zero amplitude.
    converged : ndarray of bool
        Stationary within ``t_final`` (possibly the trivial ``A → 0`` state).
    not_converged : ndarray of bool
        ``~synchronized``: the points left white (NaN) in :meth:`plot`.
    A, z : ndarray
        Final amplitude and inversion (all points).
    seconds : float
        Wall time.
    """

    def __init__(self, N, delta_tilde, eta_tilde, zeta, synchronized, converged, A, z,
                 t_final, seconds):
        self.N = N
        self.delta_tilde = delta_tilde
        self.eta_tilde = eta_tilde
        self.zeta_raw = zeta
        self.synchronized = synchronized
        self.converged = converged
        self.not_converged = ~synchronized
        self.zeta = np.where(synchronized, np.abs(zeta), np.nan)
        self.A = A
        self.z = z
        self.t_final = t_final
        self.seconds = seconds

    @property
    def x(self):
        """``η̃/N = η/(NΓ₂)`` (axis of the fit)."""
        return self.eta_tilde / self.N

    @property
    def y(self):
        """``δ̃/N² = δ/Γ₂`` (axis of the fit)."""
        return self.delta_tilde / self.N ** 2

    def boundary_points(self):
        """Upper edge of the synchronized region: ``(x, y)`` per δ̃-row (midpoints)."""
        xs, ys = [], []
        x = self.x
        for i, yv in enumerate(self.y):
            row = self.synchronized[i]
            if not row.any():
                continue
            j = np.where(row)[0][-1]
            if j + 1 < x.size:
                xs.append(0.5 * (x[j] + x[j + 1]))
                ys.append(yv)
        return np.array(xs), np.array(ys)

    def fit(self):
        """Fit of eq 22 (:func:`fit_boundary`) to :meth:`boundary_points`."""
        return fit_boundary(*self.boundary_points())

    def plot(self, ax=None, fit=True, scaled=True):
        """Colour map of ``ζ`` (NaN = white), with the fitted ellipse eq 22."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 4))
        X = self.x if scaled else self.eta_tilde
        Y = self.y if scaled else self.delta_tilde
        im = ax.pcolormesh(X, Y, np.ma.masked_invalid(self.zeta), shading="nearest",
                           cmap="viridis")
        plt.colorbar(im, ax=ax, label=r"$\zeta$")
        if fit:
            try:
                f = self.fit()
            except (ValueError, RuntimeError):
                f = None
            if f is not None:
                xx = np.linspace(0, 2 * f["a"], 400)
                yy = ellipse_boundary(xx, f["a"], f["b"])
                sx, sy = (1, 1) if scaled else (self.N, self.N ** 2)
                ax.plot(xx * sx, yy * sy, "r-", label=f"eq 22: a={f['a']:.4g}, b={f['b']:.4g}")
                ax.legend(loc="upper right", fontsize=7)
        ax.set_xlabel(r"$\tilde\eta/N$" if scaled else r"$\tilde\eta$")
        ax.set_ylabel(r"$\tilde\delta/N^2=\delta/\Gamma_2$" if scaled else r"$\tilde\delta$")
        ax.set_title(f"N = {self.N}")
        return ax


def fit_boundary(x, y):
    r"""Least-squares fit of eq 22, ``y = b√(a² − (x − a)²)``, to boundary points.

    ``x = η̃/N``, ``y = δ̃/N²``.  Returns ``{"a", "b", "eta_c" = 2a, "delta_c" = ab}``
    in these scaled units (``δ_c/Γ₂ = ab``, ``η̃_c/N = 2a``).
    """
    from scipy.optimize import least_squares
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size < 3:
        raise ValueError("fit_boundary needs at least 3 boundary points")

    def res(p):
        a, b = p
        return (x - a) ** 2 + (y / b) ** 2 - a * a

    a0 = max(x.max() / 2, 1e-6)
    b0 = max(y.max() / a0, 1e-6)
    r = least_squares(res, [a0, b0], bounds=([1e-12, 1e-12], [np.inf, np.inf]))
    a, b = (float(v) for v in r.x)
    return dict(a=a, b=b, eta_c=2 * a, delta_c=a * b, cost=float(r.cost))


@renamed_keywords(PROGRESS_RENAMES, category=DeprecationWarning)
def phase_spread_map(N, delta_tilde, eta_tilde, t_final=None, map="serial", num_cpus=None,
                     progress_bar=True, tol=1e-4, max_seconds=None, store=None):
    r"""Steady phase spread ``ζ`` of two sub-ensembles ``±δ`` (seed Fig. 4, Sec. IV B).

    Parameters
    ----------
    N : int
        Even number of spins (N/2 at ``+δ``, N/2 at ``−δ``).
    delta_tilde, eta_tilde : array_like
        Grid of ``δ̃ = N²δ/Γ₂`` (rows) and ``η̃ = η/Γ₂`` (columns), Γ₂ = 1.
    t_final : float, optional
        Simulation time (units of 1/Γ₂); default per point, see
        :func:`solve_two_ensembles`.  Points that are not stationary by then are
        NaN in ``zeta`` and flagged in ``not_converged``.
    map : {"serial", "parallel", "loky", "mpi"}
        QuTiP's map, through :func:`qutip_superrad.sweep`.
    num_cpus : int, optional
        Workers of the parallel maps.
    progress_bar : None, bool or str
        QuTiP's values, as in :func:`qutip_superrad.sweep` (formerly ``progress``,
        deprecated).
    tol, max_seconds : float
        Stationarity tolerance and wall-time limit per point (:func:`solve_two_ensembles`).
    store : str or Path, optional
        SQLite store of the sweep: a rerun with the same arguments resumes.

    Returns
    -------
    PhaseSpreadMap
    """
    from ...sweeps import SweepTask, sweep
    N = _check_N(N, even=True)
    dt = _finite_array("delta_tilde", np.atleast_1d(delta_tilde), float).ravel()
    et = _finite_array("eta_tilde", np.atleast_1d(eta_tilde), float).ravel()
    if np.any(et < 0):
        raise ValueError("eta_tilde must be >= 0")
    if t_final is not None:
        t_final = _check_positive("t_final", t_final)
    task = SweepTask(_map_point, call=None, fixed=dict(N=N, t_final=t_final, tol=tol,
                                                        max_seconds=max_seconds))
    t0 = time.perf_counter()
    res = sweep(task, {"delta_tilde": list(dt), "eta_tilde": list(et)}, map=map,
                map_kw={"num_cpus": num_cpus} if num_cpus else None, store=store,
                progress_bar=progress_bar).raise_if_incomplete("phase_spread_map")
    secs = time.perf_counter() - t0
    return PhaseSpreadMap(N, dt, et, res["zeta"], res["synchronized"].astype(bool),
                          res["converged"].astype(bool), res["A"].astype(float),
                          res["z"].astype(float), t_final, secs)
