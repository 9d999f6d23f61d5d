"""Scanned pumping, hysteresis and metrology (seed 003, Figs 3–4, eqs. 8–9, App. F).

The pump is swept linearly through the transition ``w = γ`` at the scan rate
``r = ẇN/(2γ)``; each scan is integrated exactly on the population sector of
the ``j = N/2`` manifold (:mod:`qutip_superrad.exact.manifold`).  ``γ`` is the
collective decay rate, the keyword ``collective_emission`` of every function
(formerly ``gamma``: still accepted, with a ``FutureWarning``).

Contents
--------
* :func:`linear_scan` — the pump ``w(t)`` of a linear scan.
* :func:`hysteresis_loop`, :func:`hysteresis_widths` — up/down scans and the
  hysteresis width ``Δw_H(r)`` (Figs 3b, 4).
* :func:`adiabatic_boundaries` — freezing/thawing points ``w±(r)`` (Fig. 3a,
  eq. 8).
* :func:`scan_sensitivity` — sensitivity of repeated scans (eq. 9).
"""
import numpy as np
from scipy.optimize import brentq

from ..._validate import check_array, check_count, check_int, check_options, check_rate, check_real
from ..._progress import progress
from ...exact import manifold as _mf
from ..._validate import renamed_keywords
from .closed_forms import cumulant_relaxation_rate
from .results import HysteresisLoop

__all__ = [
    "linear_scan", "hysteresis_loop", "hysteresis_widths", "adiabatic_boundaries",
    "scan_sensitivity",
]


@renamed_keywords(gamma="collective_emission")
def linear_scan(N, r, collective_emission=1.0, direction=+1, w0=None):
    """Pump ``w(t) = w0 ± (2γr/N) t`` of a linear scan at rate ``r = ẇN/(2γ)``.

    Returns a callable (``w(t)`` clipped at 0 so that it remains a rate).
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    gamma = check_rate("collective_emission", collective_emission)
    w0 = gamma if w0 is None else check_rate("w0", w0)
    if direction not in (+1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    wdot = 2 * gamma * r / N * direction
    return lambda t: max(w0 + wdot * t, 0.0)


_HYST_DEFAULTS = {"span": None, "npoints": 801, "rtol": 1e-7, "atol": 1e-10}


@renamed_keywords(gamma="collective_emission")
def hysteresis_loop(N, r, collective_emission=1.0, options=None):
    """Scan ``w`` linearly up and down through ``γ`` and record ``⟨J_z⟩`` (Fig. 3b).

    The scan variable is ``x = (w/γ − 1) N/2``; it runs over ``[−X, X]``
    (clipped below at ``w = 0``) in time ``2X/r`` (``ẇ = 2γr/N``).  Each
    scan starts in the exact steady state at its first pump value and is
    integrated exactly on the population sector.

    Parameters
    ----------
    N : int
    r : float
        Scan rate ``r = ẇN/(2γ)`` in units of ``γ``, ``> 0``.
    collective_emission : float
        Collective decay rate ``γ`` (formerly ``gamma``), default 1.
    options : dict, optional
        ``span`` (``X``; default ``10 + 4√(r/γ)``), ``npoints`` (801 output
        points per scan), ``rtol`` (1e-7), ``atol`` (1e-10).

    Returns
    -------
    HysteresisLoop
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    if r == 0:
        raise ValueError("r must be > 0 (a scan rate)")
    gamma = check_rate("collective_emission", collective_emission)
    if gamma == 0:
        raise ValueError("collective_emission must be > 0")
    opts = check_options(options, _HYST_DEFAULTS, "hysteresis_loop")
    X = 10 + 4 * np.sqrt(r / gamma) if opts["span"] is None else check_rate("span", opts["span"])
    npts = check_int("npoints", opts["npoints"], minimum=11)
    x_lo = max(-X, -N / 2)
    x_hi = X
    wdot = 2 * gamma * r / N
    T = (x_hi - x_lo) * 2 * gamma / N / wdot
    tlist = np.linspace(0, T, npts)
    w_lo = gamma * (1 + 2 * x_lo / N)
    w_hi = gamma * (1 + 2 * x_hi / N)
    ode = {"rtol": opts["rtol"], "atol": opts["atol"]}
    out = {}
    for name, w_start, sgn in (("up", w_lo, +1), ("down", w_hi, -1)):
        wfun = (lambda t, w0=w_start, s=sgn: max(w0 + s * wdot * t, 0.0))
        p0 = _mf.steady_populations(N, gamma, w_start)
        P = _mf.evolve_populations(N, gamma, wfun, tlist, p0, ode)
        jz, var, _ = _mf.jz_moments(P)
        out[name] = (np.array([wfun(t) for t in tlist]), jz, var)
    cu = _zero_crossing(*out["up"][:2], rising=True)
    cd = _zero_crossing(*out["down"][:2], rising=False)
    width = cu - cd
    return HysteresisLoop(N, r, out["up"][0], out["up"][1], out["down"][0], out["down"][1],
                          cu, cd, width, width * N / (2 * gamma), gamma,
                          out["up"][2], out["down"][2])


def _zero_crossing(w, jz, rising):
    s = np.sign(jz)
    idx = np.nonzero((s[:-1] <= 0) & (s[1:] > 0))[0] if rising else \
        np.nonzero((s[:-1] >= 0) & (s[1:] < 0))[0]
    if idx.size == 0:
        return float("nan")
    i = idx[-1]
    return float(w[i] - jz[i] * (w[i + 1] - w[i]) / (jz[i + 1] - jz[i]))


@renamed_keywords(gamma="collective_emission")
def hysteresis_widths(N, rates, collective_emission=1.0, options=None,
                      progress_bar=False):
    """Scaled hysteresis widths ``Δw_H N/(2γ)`` for several scan rates (Fig. 4).

    Parameters
    ----------
    N : int
    rates : array_like
        Scan rates ``r = ẇN/(2γ)``, ``> 0``.
    collective_emission : float
    options : dict, optional
        Options of :func:`hysteresis_loop`.
    progress_bar : None, bool or str
        Progress over the rates, weighted by the scan duration ``∝ 1/r``: QuTiP's
        values None/False/"" (off), True/"text", "enhanced", "tqdm".

    Returns
    -------
    ndarray
        ``Δw_H(r) N/(2γ)`` for each ``r`` in ``rates``.
    """
    rates = check_array("rates", rates, positive=True)
    return np.array([hysteresis_loop(N, r, collective_emission, options).scaled_width
                     for r in progress(rates, desc=f"hysteresis N={N}", progress_bar=progress_bar,
                                       weights=1.0 / rates)])     # slow scans integrate longer


@renamed_keywords(gamma="collective_emission")
def adiabatic_boundaries(N, r, collective_emission=1.0,
                         rate="cumulant_large_n"):
    """Freezing/thawing boundaries ``w±(r)``: solutions of ``ẇ/|w − γ| = λ(w)`` (Fig. 3a).

    Parameters
    ----------
    N : int
    r : float
        Scan rate ``r = ẇN/(2γ)``, ``> 0``.
    collective_emission : float
        Collective decay rate ``γ`` (formerly ``gamma``), default 1.
    rate : {"cumulant_large_n", "cumulant", "exact"}
        Which ``λ(w)`` to use: eq. 7 (the seed's choice), eq. E5, or the
        exact Liouvillian gap.

    Returns
    -------
    (w_minus, w_plus) : tuple of float
        ``w_minus < γ < w_plus``; their difference estimates ``Δw_H``
        (eq. 8: ``(2γ/N) r/γ`` for ``r ≪ γ``, ``(2γ/N)√(2r/γ)`` for ``r ≫ γ``).
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    gamma = check_rate("collective_emission", collective_emission)
    if r == 0 or gamma == 0:
        raise ValueError("r and collective_emission must be > 0")
    if rate == "exact":
        lam = lambda w: _mf.relaxation_rate(N, gamma, w)           # noqa: E731
    elif rate == "cumulant":
        lam = lambda w: cumulant_relaxation_rate(N, gamma, w, "E5")  # noqa: E731
    elif rate == "cumulant_large_n":
        lam = lambda w: cumulant_relaxation_rate(N, gamma, w, "eq7")  # noqa: E731
    else:
        raise ValueError(f"rate must be 'exact', 'cumulant' or 'cumulant_large_n', got {rate!r}")
    wdot = 2 * gamma * r / N

    def f(w):
        return lam(w) * abs(w - gamma) - wdot

    out = []
    for sgn in (-1, +1):
        d = gamma / N
        while f(gamma + sgn * d) < 0:
            d *= 2
            if sgn < 0 and d >= gamma:
                d = gamma
                break
        if sgn < 0 and f(gamma - d) < 0:
            out.append(0.0)
            continue
        lo, hi = sorted((gamma + sgn * 1e-15 * gamma, gamma + sgn * d))
        out.append(brentq(f, lo, hi, xtol=1e-14 * gamma, rtol=1e-12))
    return out[0], out[1]


@renamed_keywords(gamma="collective_emission")
def scan_sensitivity(N, r, T, collective_emission=1.0, C=4.0, eta=None,
                     width=None):
    """Total sensitivity of repeated scans in a time ``T`` (seed eq. 9).

    One scan covers ``Δw_scan = C δw(r)`` with ``δw(r) = max(√12γ/N, Δw_H(r))``;
    ``N_s = ẇT/(2Δw_scan)`` independent scans fit in ``T`` (``ẇ = 2γr/N``), and
    ``δw_total = δw(r)/√N_s``.

    Parameters
    ----------
    N : int
    r : float
        Scan rate (units of ``γ``).
    T : float
        Total experiment time (e.g. the single-atom emission time).
    collective_emission : float
        Collective decay rate ``γ`` (formerly ``gamma``), default 1.
    C : float
        ``C > 1``: scan range in units of the single-scan uncertainty.
    eta : float, optional
        If given (with ``width`` None), ``Δw_H = (2γ/N)(r/γ)^η`` for ``r > γ``
        and ``(2γ/N) r/γ`` below (eq. 8 with the fitted exponent).
    width : float, optional
        A measured ``Δw_H(r)`` (e.g. ``hysteresis_loop(N, r).width``).
        If neither ``eta`` nor ``width`` is given, the width is simulated.

    Returns
    -------
    float
        ``δw_total``.
    """
    N = check_count("N", N)
    r = check_rate("r", r)
    T = check_rate("T", T)
    gamma = check_rate("collective_emission", collective_emission)
    C = check_real("C", C)
    if r == 0 or T == 0 or gamma == 0 or C <= 1:
        raise ValueError("need r > 0, T > 0, collective_emission > 0 and C > 1")
    if width is None:
        if eta is None:
            width = hysteresis_loop(N, r, gamma).width
        else:
            eta = check_real("eta", eta)
            rr = r / gamma
            width = 2 * gamma / N * (rr if rr <= 1 else rr ** eta)
    else:
        width = check_rate("width", width)
    dw = max(np.sqrt(12) * gamma / N, width)
    wdot = 2 * gamma * r / N
    Ns = wdot * T / (2 * C * dw)
    return float(dw / np.sqrt(Ns))
