r"""Parity-sensitive inhomogeneous dephasing of spin coherent and spin cat states.

The seed's Sec. III (eqs. 5–15, Fig. 1): N spins evolve freely under the
inhomogeneous-broadening Hamiltonian

.. math::  H_0 = \tfrac12 \sum_n \delta_n \sigma^z_n, \qquad
           \delta_n \sim \mathcal N(0, \delta^2)\ \text{i.i.d.},

(``σ_z = |e⟩⟨e| − |g⟩⟨g|``, ``|e⟩ = basis(2, 0)``), starting from the spin
coherent state ``|θ, φ⟩`` (eq. 5) or the cats ``|Cat_±⟩ ∝ |θ,φ⟩ ± |θ,φ+π⟩``
(eq. 10).  The fidelity is ``F(t) = |⟨ψ|e^{−iH_0t}|ψ⟩|²``.

Convention (checked against the seed)
-------------------------------------
The seed's Sec. III writes ``H_0 = Σ_n δ_n σ^z_n``, but its eq. (6) carries the
phase ``e^{iδ_n t/2}`` and eq. (7) uses ``E[cos δ_n t] = e^{−δ²t²/2}``; both
belong to ``H_0 = ½ Σ_n δ_n σ^z_n``, the detuning term of the model's eq. (2).
(With ``Σ δ_n σ^z_n`` every ``δ`` in eqs. 7–15 would read ``2δ``.)  We use the
½ convention throughout.  Eq. (6) also misprints the single-spin overlap: it is

.. math::  ⟨θ,φ|e^{−iδ σ_z t/2}|θ,φ⟩ = e^{iδt/2}\big(\cos^2\tfrac{θ}{2}
           + e^{−iδt}\sin^2\tfrac{θ}{2}\big)

(squares, as printed the state would not even have unit overlap at ``t = 0``),
and ``|·|² = 1 − \sin^2θ \sin^2(δt/2)``, whose Gaussian mean gives eq. (7).
Finally the leading-order variance eq. (9) should read
``Var F = (Nθ⁴/8)(1 − e^{−δ²t²})²`` — squared: ``Var[cos δt] =
(1 − e^{−δ²t²})²/2``.  Both errata are verified numerically in the tests.

Exact per-realization fidelities
--------------------------------
``H_0`` is diagonal and the states are (sums of) product states, so no ``2^N``
space is needed: with ``w_n = e^{−iδ_n t}``, ``p_n = c² + s² w_n`` and
``q_n = c² − s² w_n`` (``c = cos θ/2``, ``s = sin θ/2``),

* coherent: ``F = Π_n |p_n|² = exp Σ_n log(1 − sin²θ sin²(δ_n t/2))``;
* cats: ``⟨Cat_±|e^{−iH_0 t}|Cat_±⟩ ∝ 2(P ± Q)/𝒩_±²`` with ``P = Π p_n``,
  ``Q = Π q_n`` (the four overlaps ``⟨θ,φ+aπ|e^{−iH_0t}|θ,φ+bπ⟩``: ``P`` for
  ``a = b``, ``Q`` for ``a ≠ b``; the common phase ``e^{iΣδ_n t/2}`` and ``φ``
  drop out).

Everything is evaluated from log-moduli and phases (``log1p``/``expm1``), so
``N = 10⁴`` neither underflows nor loses the odd cat's ``P − Q`` cancellation
at small ``Nθ²``.

Closed forms
------------
With ``u = e^{−δ²t²/2}`` (eqs. 7, 13)::

    F̄       = [1 − ½(1 − u) sin²θ]^N
    F̄_±     = 4/𝒩_±⁴ {[1 − ½(1 − u) sin²θ]^N + [1 − ½(1 + u) sin²θ]^N ± 2 cos^N θ}

and the exact variance follows from the fourth moments ``E[x₁x₂*x₃x₄*]`` of the
per-spin factors, each a trigonometric polynomial in ``δ_n t`` with Gaussian
mean ``E[e^{ikδt}] = e^{−k²δ²t²/2}``.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..._validate import check_count, check_int, check_rate, check_real, real_array
from .model import sample_detunings

__all__ = ["STATES", "mean_fidelity", "fidelity_variance", "small_amplitude_fidelity",
           "realization_fidelity", "fig1", "DephasingFig1"]

STATES = ("coherent", "even", "odd")
_PARITY = {"even": +1, "odd": -1}


# ----------------------------------------------------------------------------- validation
def _check_theta(theta):
    theta = check_real("theta", theta)
    if not 0.0 <= theta <= np.pi:
        raise ValueError(f"theta must lie in [0, π], got {theta}")
    return theta


def _check_state(state):
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}, got {state!r}")
    return state


def _check_common(t, N, theta, width, state):
    """The arguments shared by the closed forms, checked in the order of the signature."""
    return (_check_t(t), check_count("N", N), _check_theta(theta), check_rate("width", width),
            _check_state(state))


def _check_t(t):
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("t must be a real number or an array of real numbers") from None
    if arr.size == 0:
        raise ValueError("t must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError("t must be finite")
    return arr


def _log_norm2(N, theta, parity):
    """``log 𝒩_±² = log 2(1 ± cos^N θ)`` (accurate for the odd cat at small θ)."""
    c = np.cos(theta)
    if parity < 0 and theta < 0.5 * np.pi:
        # 1 − cos^N θ without cancellation (log cos θ = log1p(−2 sin²(θ/2)))
        one = -np.expm1(N * np.log1p(-2.0 * np.sin(0.5 * theta) ** 2))
    else:
        cN = np.sign(c) ** N * np.exp(N * np.log(abs(c))) if c != 0 else 0.0
        one = 1.0 + parity * cN
    if not one > 1e-300:
        kind = "odd" if parity < 0 else "even"
        raise ValueError(f"the {kind} cat of N = {N}, theta = {theta} does not exist "
                         "(𝒩 = 0); choose another theta")
    return np.log(2.0) + np.log(one)


def _cexpm1(z):
    """``e^z − 1`` for complex ``z`` without cancellation (also at ``Re z = −∞``)."""
    x, y = z.real, z.imag
    with np.errstate(invalid="ignore"):
        re = np.expm1(x) * np.cos(y) - 2.0 * np.sin(0.5 * y) ** 2
        im = np.exp(x) * np.sin(y)
    return re + 1j * im


# ----------------------------------------------------------------------------- closed forms
def mean_fidelity(t, N, theta, width, state="coherent"):
    r"""Realization-averaged fidelity under Gaussian inhomogeneous dephasing (eqs. 7, 13).

    Parameters
    ----------
    t : float or array_like
        Times (any shape; the result broadcasts over it).
    N : int
        Number of spins (>= 1).
    theta : float
        Polar angle of the coherent state, in ``[0, π]``.
    width : float
        Standard deviation ``δ >= 0`` of the Gaussian detunings.
    state : {"coherent", "even", "odd"}
        ``|θ, φ⟩`` (eq. 7) or ``|Cat_±⟩`` (eq. 13).

    Returns
    -------
    ndarray
        ``E[F(t)]``, same shape as ``t``.

    Raises
    ------
    ValueError
        ``theta`` outside ``[0, π]``, ``N < 1``, ``width < 0``, empty or
        non-finite ``t``, unknown ``state``, or a cat that does not exist
        (odd cat of ``θ = 0``).

    Notes
    -----
    With ``u = e^{−δ²t²/2}``, ``A = [1 − ½(1−u)sin²θ]^N``, ``B = [1 − ½(1+u)sin²θ]^N``
    and ``C = cos^N θ``: ``F̄ = A`` and ``F̄_± = 4(A + B ± 2C)/𝒩_±⁴``.  For the odd
    cat with ``θ < π/4`` the numerator is evaluated as
    ``2M[e^S cosh D − 1] + 2(M − C)`` with ``M = ((1+cos²θ)/2)^N``, which stays
    accurate down to ``Nθ² → 0`` where it tends to the W-state value
    ``(1 + (N−1)e^{−δ²t²})/N``.

    Examples
    --------
    >>> from qutip_superrad.models.spin_cats.dephasing import mean_fidelity
    >>> round(float(mean_fidelity(0.0, 200, 0.07, 1.0, "odd")), 12)
    1.0
    >>> round(float(mean_fidelity(50.0, 200, 200 ** -0.5, 1.0, "even")), 4)
    0.9402
    """
    t, N, theta, width, state = _check_common(t, N, theta, width, state)
    y = (width * t) ** 2
    one_minus_u = -np.expm1(-0.5 * y)
    u = np.exp(-0.5 * y)
    s2 = np.sin(theta) ** 2
    logA = N * np.log1p(-0.5 * one_minus_u * s2)
    if state == "coherent":
        return np.exp(logA)
    parity = _PARITY[state]
    log_n2 = _log_norm2(N, theta, parity)
    c = np.cos(theta)
    if parity < 0 and theta < 0.25 * np.pi:
        # stable odd-cat numerator A + B − 2C = 2M[e^S cosh D − 1] + 2(M − C)
        logm = np.log1p(-0.5 * s2)                   # m = (1 + cos²θ)/2 = 1 − sin²θ/2
        r = 0.5 * u * s2 / np.exp(logm)              # < 1 for θ < π/2
        S = 0.5 * N * np.log1p(-r * r)               # (l1 + l2)/2, l1,2 = N log(1 ± r)
        D = N * np.arctanh(r)                        # (l1 − l2)/2
        l1, l2 = S + D, S - D
        logM = N * logm
        small = D < 20.0
        Ds = np.where(small, D, 0.0)
        stable = np.exp(logM) * (np.expm1(S) * np.cosh(Ds) + 2.0 * np.sinh(0.5 * Ds) ** 2)
        direct = 0.5 * (np.exp(logM + l1) + np.exp(logM + l2)) - np.exp(logM)
        logc = np.log1p(-2.0 * np.sin(0.5 * theta) ** 2)
        d_mc = 2.0 * np.sin(0.5 * theta) ** 4        # m − cos θ = (1 − cos θ)²/2
        M_minus_C = np.exp(N * logc) * np.expm1(N * np.log1p(d_mc / c))
        num = 2.0 * np.where(small, stable, direct) + 2.0 * M_minus_C
    else:
        B = np.power(np.clip(1.0 - 0.5 * (1.0 + u) * s2, 0.0, None), N)
        cN = np.power(c, N) if c != 0 else 0.0
        num = np.exp(logA) + B + 2.0 * parity * cN
    return np.clip(4.0 * num * np.exp(-2.0 * log_n2), 0.0, None)


def _moment(eps, c2, s2, y):
    r"""``E_δ[x_1 x_2^* x_3 x_4^*]`` (or of two factors), ``x_i = c² + ε_i s² e^{−iδt}``.

    Expands the product into monomials ``e^{−ikδt}`` with Gaussian mean
    ``e^{−k² y/2}``, ``y = δ²t²``.
    """
    total = 0.0
    n = len(eps)
    for bits in itertools.product((0, 1), repeat=n):
        coef = 1.0
        k = 0
        for i, (b, e) in enumerate(zip(bits, eps)):
            if b:
                coef *= e * s2
                k += 1 if i % 2 == 0 else -1      # x (w) at even slots, x* (w̄) at odd
            else:
                coef *= c2
        if coef != 0.0:
            total = total + coef * np.exp(-0.5 * k * k * y)
    return total


def fidelity_variance(t, N, theta, width, state="coherent", order="exact"):
    r"""Variance over Gaussian detuning realizations of the fidelity ``F(t)``.

    Parameters
    ----------
    t : float or array_like
        Times (any shape).
    N, theta, width, state
        As in :func:`mean_fidelity`.
    order : {"exact", "leading"}
        ``"exact"``: from the fourth moments of the per-spin factors (all three
        states).  ``"leading"``: the leading small-θ term for the coherent
        state, ``(Nθ⁴/8)(1 − e^{−δ²t²})²`` — the seed's eq. (9) with the
        square it misses.

    Returns
    -------
    ndarray
        ``Var[F(t)]``, same shape as ``t``.

    Warns
    -----
    RuntimeWarning
        Cat states when the estimated round-off (``~256 N ε_mach/𝒩_±⁸``) exceeds
        both 10⁻⁹ and 1 % of the largest variance (the odd cat at ``Nθ² ≲ 10⁻²``).

    Notes
    -----
    Coherent state: ``F = Π f_n``, ``f_n = 1 − a(1 − cos δ_n t)``, ``a = ½ sin²θ``,
    so ``Var F = (E f)^{2N}[(1 + v)^N − 1]`` with ``v = a²(1 − e^{−δ²t²})²/(2(E f)²)``
    (evaluated with ``expm1``/``log1p``).  Cats: ``F ∝ |P ± Q|²`` and
    ``E|P ± Q|⁴`` is the signed sum of the 16 products ``Π_n E[x₁x₂*x₃x₄*]``,
    ``x ∈ {p, q}``.  The cat variance is a difference of O(1) numbers (absolute
    round-off ~10⁻¹¹ at N = 200); for the odd cat at very small ``Nθ²`` the
    cancellation grows like ``(Nθ²)⁻⁴`` — fine for ``Nθ² ≳ 10⁻²``.

    Examples
    --------
    >>> from qutip_superrad.models.spin_cats.dephasing import fidelity_variance
    >>> v = fidelity_variance([0.0, 100.0], 200, 0.01, 1.0)    # Nθ² = 0.02
    >>> lead = fidelity_variance([0.0, 100.0], 200, 0.01, 1.0, order="leading")
    >>> float(v[0]), round(float(v[1] / lead[1]), 3)            # ≈ e^{−Nθ²}
    (0.0, 0.98)
    """
    t, N, theta, width, state = _check_common(t, N, theta, width, state)
    if order not in ("exact", "leading"):
        raise ValueError(f"order must be 'exact' or 'leading', got {order!r}")
    y = (width * t) ** 2
    one_minus_u2 = -np.expm1(-y)                     # 1 − e^{−δ²t²}
    if order == "leading":
        if state != "coherent":
            raise ValueError("order='leading' (eq. 9) is for state='coherent' only")
        return N * theta ** 4 / 8.0 * one_minus_u2 ** 2
    if state == "coherent":
        a = 0.5 * np.sin(theta) ** 2
        Ef = 1.0 - a * (-np.expm1(-0.5 * y))
        v = a * a * one_minus_u2 ** 2 / (2.0 * Ef * Ef)
        return np.exp(2 * N * np.log(Ef)) * np.expm1(N * np.log1p(v))
    parity = _PARITY[state]
    log_n2 = _log_norm2(N, theta, parity)
    c2, s2 = np.cos(0.5 * theta) ** 2, np.sin(0.5 * theta) ** 2
    fourth = 0.0
    for eps in itertools.product((1, -1), repeat=4):     # +1: P factor, −1: Q factor
        sign = parity ** sum(e < 0 for e in eps)
        m = _moment(eps, c2, s2, y) + 0.0 * y
        fourth = fourth + sign * np.power(m, N)
    EF2 = 16.0 * fourth * np.exp(-4.0 * log_n2)
    EF = mean_fidelity(t, N, theta, width, state)
    var = np.clip(EF2 - EF ** 2, 0.0, None)
    # round-off of the 16-term sum, amplified by 16/𝒩⁸ (large for the odd cat at small Nθ²)
    roundoff = 256.0 * N * np.finfo(float).eps * np.exp(-4.0 * log_n2)
    if roundoff > max(1e-9, 1e-2 * float(np.max(var))):
        warnings.warn(f"fidelity_variance({state!r}): round-off ~{roundoff:.1e} is not small "
                      f"against the variance (max {np.max(var):.1e}); Nθ² = {N * theta ** 2:.1e} "
                      "is too small for the exact cat formula — sample realization_fidelity",
                      RuntimeWarning, stacklevel=2)
    return var


def small_amplitude_fidelity(t, N, theta, width, state="coherent", resummed=False):
    r"""Small-amplitude (``Nθ² ≪ 1``, ``N ≫ 1``) limits of the mean fidelity (eqs. 8, 14, 15).

    Parameters
    ----------
    t, N, theta, width, state
        As in :func:`mean_fidelity`.
    resummed : bool
        ``False`` (default): the seed's truncated series

        * coherent (eq. 8): ``1 − (Nθ²/2)(1 − e^{−δ²t²/2})``, error ``O(N²θ⁴)``;
        * even (eq. 14): ``1 − (N²θ⁴/16)(1 − e^{−δ²t²})``, error ``O(N³θ⁶)``;
        * odd (eq. 15): ``e^{−δ²t²}``, error ``O(N²θ⁴)``.

        ``True``: the ``N → ∞`` limit at fixed ``ε = Nθ²/2`` to all orders in
        ``ε`` (``u = e^{−δ²t²/2}``): ``e^{−ε(1−u)}``,
        ``cosh²(εu/2)/cosh²(ε/2)``, ``sinh²(εu/2)/sinh²(ε/2)``; eqs. (8, 14, 15)
        are their expansions.

    Returns
    -------
    ndarray
        Same shape as ``t``.

    Examples
    --------
    >>> from qutip_superrad.models.spin_cats.dephasing import small_amplitude_fidelity
    >>> round(float(small_amplitude_fidelity(1e9, 100, 0.01, 1.0, "even")), 10)
    0.99999375
    """
    t, N, theta, width, state = _check_common(t, N, theta, width, state)
    y = (width * t) ** 2
    if not resummed:
        if state == "coherent":
            return 1.0 - 0.5 * N * theta ** 2 * (-np.expm1(-0.5 * y))
        if state == "even":
            return 1.0 - N ** 2 * theta ** 4 / 16.0 * (-np.expm1(-y))
        return np.exp(-y)
    eps = 0.5 * N * theta ** 2
    u = np.exp(-0.5 * y)
    if state == "coherent":
        return np.exp(-eps * (1.0 - u))
    if state == "even":
        return (np.cosh(0.5 * eps * u) / np.cosh(0.5 * eps)) ** 2
    if eps == 0.0:
        return u ** 2
    return (np.sinh(0.5 * eps * u) / np.sinh(0.5 * eps)) ** 2


# ----------------------------------------------------------------------------- realizations
def _check_detunings(detunings):
    det = real_array("detunings", detunings)
    if det.ndim == 0:
        det = det.reshape(1)
    if det.ndim not in (1, 2):
        raise ValueError(f"detunings must have shape (N,) or (R, N), got {det.shape}")
    if det.shape[-1] < 1 or det.size == 0:
        raise ValueError(f"detunings must hold N >= 1 spins (and R >= 1 rows), got shape "
                         f"{det.shape}")
    if not np.all(np.isfinite(det)):
        raise ValueError("detunings must be finite (found NaN or inf)")
    return det


def realization_fidelity(t, detunings, theta, phi=0.0, state="coherent", *,
                         max_block=2 ** 22):
    r"""Exact fidelity ``|⟨ψ|e^{−iH_0t}|ψ⟩|²`` for given detunings, ``H_0 = ½Σ δ_n σ^z_n``.

    Costs ``O(R·N·n_t)``; no ``2^N`` space is built.

    Parameters
    ----------
    t : float or array_like, 1-D
        Times.
    detunings : array_like, shape (N,) or (R, N)
        One realization ``δ_n`` of the detunings, or ``R`` of them (rows).
    theta : float
        Polar angle in ``[0, π]``.
    phi : float
        Azimuth of ``|θ, φ⟩``.  The fidelity does not depend on it (``H_0``
        commutes with rotations about z); it is validated and accepted for
        symmetry with :func:`~qutip_superrad.models.spin_cats.cat_state`.
    state : {"coherent", "even", "odd"}
        ``|θ, φ⟩`` or ``|Cat_±⟩``.
    max_block : int
        Largest ``R·N·n_t`` block evaluated at once (memory bound).

    Returns
    -------
    ndarray
        Shape ``(n_t,)`` for 1-D ``detunings``, ``(R, n_t)`` for 2-D.

    Raises
    ------
    ValueError
        Empty or non-finite ``t``, NaN/inf detunings, ``theta`` outside
        ``[0, π]``, unknown ``state``, nonexistent cat.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_superrad.models.spin_cats.dephasing import realization_fidelity
    >>> F = realization_fidelity([0.0, 1.0], np.full(4, 0.3), 0.5, state="odd")
    >>> round(float(F[0]), 12)
    1.0
    """
    t = _check_t(t)
    if t.ndim > 1:
        raise ValueError(f"t must be a scalar or one-dimensional, got shape {t.shape}")
    t = t.reshape(-1)
    det = _check_detunings(detunings)
    theta = _check_theta(theta)
    check_real("phi", phi)
    state = _check_state(state)
    max_block = check_int("max_block", max_block, minimum=1)
    single = det.ndim == 1
    det2 = det.reshape(1, -1) if single else det
    R, N = det2.shape
    out = np.empty((R, t.size))
    s2theta = np.sin(theta) ** 2
    c2, s2 = np.cos(0.5 * theta) ** 2, np.sin(0.5 * theta) ** 2
    if state != "coherent":
        parity = _PARITY[state]
        log_n2 = _log_norm2(N, theta, parity)
    step = max(1, max_block // max(1, R * N))
    for i0 in range(0, t.size, step):
        tt = t[i0:i0 + step]
        ph = det2[:, :, None] * tt[None, None, :]          # (R, N, nt): δ_n t
        sh2 = np.sin(0.5 * ph)
        with np.errstate(divide="ignore"):
            # log|p|² = log(1 − sin²θ sin²(δt/2)), log|q|² = log(1 − sin²θ cos²(δt/2))
            if state == "coherent":
                out[:, i0:i0 + step] = np.exp(np.log1p(-s2theta * sh2 * sh2).sum(axis=1))
                continue
            ch2 = np.cos(0.5 * ph)
            lp = np.log1p(-s2theta * sh2 * sh2).sum(axis=1)
            lq = np.log1p(-s2theta * ch2 * ch2).sum(axis=1)
        sph = 2.0 * sh2 * ch2
        cph = 1.0 - 2.0 * sh2 * sh2
        ap = np.arctan2(-s2 * sph, c2 + s2 * cph).sum(axis=1)   # arg p_n, w = e^{−iδt}
        aq = np.arctan2(s2 * sph, c2 - s2 * cph).sum(axis=1)    # arg q_n
        # |P ± Q|² = |X|² |1 ± e^{L}|², X the larger of P, Q, L = log(Y/X)
        p_big = lp >= lq
        lx = np.where(p_big, lp, lq)
        with np.errstate(invalid="ignore"):
            L = np.where(p_big, 0.5 * (lq - lp) + 1j * (aq - ap),
                         0.5 * (lp - lq) + 1j * (ap - aq))
            em1 = _cexpm1(L)
            mod2 = np.abs(em1) ** 2 if parity < 0 else np.abs(2.0 + em1) ** 2
            with np.errstate(divide="ignore"):
                logF = np.log(4.0) + lx + np.log(mod2) - 2.0 * log_n2
            F = np.exp(logF)
        F = np.where(np.isfinite(lx), F, 0.0)                   # P = Q = 0
        out[:, i0:i0 + step] = np.nan_to_num(F, nan=0.0)
    return out[0] if single else out


# ----------------------------------------------------------------------------- Fig. 1
@dataclass
class DephasingFig1:
    """Result of :func:`fig1`.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
    N, theta, width : parameters
    detunings : ndarray, shape (R, N)
    realizations : dict ``state -> ndarray (R, n_t)``
        Exact fidelities of each realization.
    mean : dict ``state -> ndarray (n_t,)``
        Closed forms eq. (7) / (13).
    """
    t: np.ndarray
    N: int
    theta: float
    width: float
    detunings: np.ndarray
    realizations: dict = field(default_factory=dict)
    mean: dict = field(default_factory=dict)

    def sampled_mean(self, state):
        """Average of the realizations (to compare with ``mean[state]``)."""
        return self.realizations[state].mean(axis=0)

    def plot(self, ax=None):
        """Fig. 1 style: light lines per realization, dashed closed forms; returns the axes."""
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        x = self.width * self.t if self.width > 0 else self.t
        colors = {"coherent": "C2", "even": "C0", "odd": "C3"}
        labels = {"coherent": "coherent", "even": "even cat", "odd": "odd cat"}
        for state in STATES:
            for row in self.realizations[state]:
                ax.plot(x, row, color=colors[state], alpha=0.25, lw=0.8)
            ax.plot(x, self.mean[state], "--", color=colors[state], lw=1.8,
                    label=labels[state])
        ax.set_xlabel(r"$\delta t$" if self.width > 0 else "$t$")
        ax.set_ylabel(r"$F(t)$")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(rf"$N={self.N}$, $\theta={self.theta:.4f}$")
        ax.legend(frameon=False)
        return ax


def fig1(N=200, theta=None, width=1.0, t=None, realizations=10, seed=0):
    r"""Data of the seed's Fig. 1: fidelities of ``|θ,0⟩``, ``|Cat_+⟩``, ``|Cat_−⟩`` under ``H_0``.

    Parameters
    ----------
    N : int
        Number of spins (paper: 200).
    theta : float, optional
        Polar angle (default ``1/√N``, the paper's 0.0707).
    width : float
        Gaussian detuning width ``δ > 0`` (times are in units of ``1/δ``).
    t : array_like, optional
        Times (default 201 points on ``[0, 5/δ]``).
    realizations : int
        Number of detuning realizations (paper: 10).
    seed : int or None
        Seed of the detuning draws (:func:`sample_detunings`, Gaussian).

    Returns
    -------
    DephasingFig1

    Examples
    --------
    >>> from qutip_superrad.models.spin_cats.dephasing import fig1
    >>> res = fig1(N=50, realizations=3, t=[0.0, 1.0])
    >>> res.realizations["odd"].shape
    (3, 2)
    """
    N = check_count("N", N)
    theta = 1.0 / np.sqrt(N) if theta is None else _check_theta(theta)
    width = check_rate("width", width)
    if width == 0:
        raise ValueError("width must be > 0 for fig1 (times are in units of 1/width)")
    R = check_int("realizations", realizations, minimum=1)
    t = np.linspace(0.0, 5.0 / width, 201) if t is None else _check_t(t).reshape(-1)
    seeds = np.random.SeedSequence(seed).spawn(R)
    det = np.array([sample_detunings(N, width, "gaussian", seed=np.random.default_rng(s))
                    for s in seeds])
    res = DephasingFig1(t=t, N=N, theta=float(theta), width=width, detunings=det)
    for state in STATES:
        res.realizations[state] = realization_fidelity(t, det, theta, state=state)
        res.mean[state] = mean_fidelity(t, N, theta, width, state)
    return res
