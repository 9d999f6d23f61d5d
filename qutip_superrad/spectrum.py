"""Model-independent analysis of emission spectra: peak, FWHM, number of peaks.

The features are refined with root finding on the spectrum itself (evaluated
at arbitrary frequencies), so a line far narrower than the grid spacing is
measured exactly instead of being read off the grid.
"""
import numpy as np
from scipy import optimize, signal

from ._validate import check_grid

__all__ = ["spectrum_features", "lorentzian_sum", "dark_spectrum", "Lorentzians",
           "pole_spectrum", "count_peaks", "DEFAULT_PROMINENCE"]

#: Default relative prominence threshold of ``n_peaks``: a local maximum counts as a
#: peak only if its prominence (:func:`scipy.signal.find_peaks`) exceeds this fraction
#: of the global maximum.  Small enough to count every resolved cluster line of a
#: discretised distribution; raise it (e.g. ``0.05``) to ignore discretisation ripple.
DEFAULT_PROMINENCE = 1e-3


def check_prominence(prominence):
    """``prominence`` as a float in ``[0, 1)`` (None: :data:`DEFAULT_PROMINENCE`)."""
    if prominence is None:
        return DEFAULT_PROMINENCE
    try:
        value = float(prominence)
    except (TypeError, ValueError):
        raise ValueError(f"prominence must be a number in [0, 1), got {prominence!r}") from None
    if not 0 <= value < 1:
        raise ValueError(f"prominence is relative to the maximum of the spectrum and must lie "
                         f"in [0, 1), got {prominence!r}")
    return value


def count_peaks(S, prominence=None):
    """Number of local maxima of the sampled spectrum ``S`` with prominence above
    ``prominence · max S`` (at least 1).

    The prominence of a maximum is its height above the higher of the two minima that
    separate it from higher ground (:func:`scipy.signal.find_peaks`); the grid ends
    count as ``−∞``, so a maximum at the edge of the grid is counted.  ``prominence``
    is relative to the global maximum (default :data:`DEFAULT_PROMINENCE` = 1e-3).
    A discretised distribution of M clusters shows a ripple with the period of the
    cluster spacing; choose ``prominence`` above its relative depth so that it is not
    counted (see ``docs/cluster_convergence.md``).
    """
    S = np.asarray(S, dtype=float)
    prominence = check_prominence(prominence)
    smax = float(np.max(S))
    found = signal.find_peaks(np.concatenate([[-np.inf], S, [-np.inf]]),
                              prominence=prominence * smax if prominence > 0 else None)[0]
    return max(1, int(found.size))


def dark_spectrum(omega, method, checks=None):
    """The spectrum of a system that emits nothing: ``S = 0``, ``linewidth = peak = nan``.

    Returned (with a ``RuntimeWarning``) instead of failing, so that a scan may start at
    zero pump or zero coupling; ``checks["dark"]`` is ``True`` (it is ``False`` for every
    spectrum with emission).
    """
    import warnings

    from .results import SpectrumResult

    warnings.warn("the steady state emits no incoherent light (⟨δB†δB⟩ = 0): zero spectrum, "
                  "linewidth and peak are nan (checks['dark'] is True)", RuntimeWarning,
                  stacklevel=3)
    omega = check_grid("omega", omega)
    return SpectrumResult(omega=omega, S=np.zeros(omega.shape), linewidth=float("nan"),
                          peak=float("nan"), n_peaks=0, method=method,
                          evaluate=_Zero(), checks=dict(checks or {}, dark=True))


def pole_spectrum(omega, poles, residues, method, *, hints=(), checks=None, shift=0.0,
                  scale=1.0, prominence=None, evaluate=None):
    """``SpectrumResult`` of ``S(ω) = 2 Re Σ_k c_k / (i(ω − shift) − λ_k)``.

    Peak, FWHM and number of peaks are refined on the exact sum
    (:func:`spectrum_features`); if every residue vanishes (below ``1e-13 · scale``)
    the system emits nothing and :func:`dark_spectrum` is returned instead.
    ``checks`` get ``poles``, ``residues``, ``dark`` and ``peak_prominence`` (the
    relative prominence threshold of ``n_peaks``; ``prominence`` as in
    :func:`spectrum_features`, default :data:`DEFAULT_PROMINENCE`).
    ``evaluate`` replaces the pole sum by another evaluator of the same spectrum
    (e.g. a resolvent when the residues are not accurate; ``residues`` then only
    decide whether the system is dark).
    """
    from .results import SpectrumResult

    omega = check_grid("omega", omega)
    poles, residues = np.asarray(poles), np.asarray(residues)
    prominence = check_prominence(prominence)
    checks = dict(checks or {}, poles=poles, residues=residues, peak_prominence=prominence)
    if not np.any(np.abs(residues) > 1e-13 * max(1.0, scale)):
        return dark_spectrum(omega, method, checks)
    if evaluate is None:
        evaluate = Lorentzians(poles, residues, shift)
    peak, width, npk, S = spectrum_features(evaluate, omega, hints=hints, prominence=prominence)
    return SpectrumResult(omega=omega, S=S, linewidth=width, peak=peak, n_peaks=npk,
                          method=method, evaluate=evaluate, checks=dict(checks, dark=False))


class _Zero:
    """``S(ω) = 0`` (a picklable evaluator)."""

    def __call__(self, w):
        return np.zeros(np.shape(w))

    def shifted(self, shift):
        """Still zero on the axis ``ω + shift``."""
        return self


class Lorentzians:
    """``S(ω) = 2 Re Σ_k c_k / (i(ω − shift) − λ_k)``: a spectrum evaluator that pickles
    (results can go through ``qutip.parallel_map``)."""

    def __init__(self, poles, residues, shift=0.0):
        self.poles = np.asarray(poles)
        self.residues = np.asarray(residues)
        self.shift = float(shift)

    def __call__(self, omega):
        return lorentzian_sum(np.asarray(omega, dtype=float) - self.shift, self.poles,
                              self.residues)

    def shifted(self, shift):
        """The same spectrum on the axis ``ω + shift``."""
        return Lorentzians(self.poles, self.residues, self.shift + shift)

    def __repr__(self):
        return f"Lorentzians({self.poles.size} poles, shift={self.shift:g})"


def lorentzian_sum(omega, poles, residues):
    """``S(ω) = 2 Re Σ_k c_k / (iω − λ_k)`` for ``g⁽¹⁾(τ) = Σ_k c_k e^{λ_k τ}``.

    Parameters
    ----------
    omega : array_like
        Frequencies.
    poles : array_like, complex
        Eigenvalues ``λ_k`` (``Re λ_k < 0``).
    residues : array_like, complex
        Amplitudes ``c_k``.
    """
    omega = np.asarray(omega, dtype=float)
    poles = np.asarray(poles)
    residues = np.asarray(residues)
    out = np.empty(omega.shape)
    flat = omega.ravel()
    for start in range(0, flat.size, 256):      # bounded memory for many poles
        w = flat[start:start + 256, None]
        out.ravel()[start:start + 256] = 2 * np.real(np.sum(residues / (1j * w - poles), axis=1))
    return out


def _root(fun, a, b):
    """Half-maximum crossing to machine precision *relative to the crossing*.

    ``xtol`` is essentially zero so that a line of width 1e-9 on a grid of
    span 100 is resolved as well as a broad one (only ``rtol`` acts).
    """
    lo, hi = sorted((a, b))
    return optimize.brentq(fun, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=2000,
                           disp=False)


def spectrum_features(evaluate, omega, hints=(), S=None, prominence=None):
    """Peak position, FWHM and number of peaks of a spectrum.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(w)`` returns ``S`` at the frequencies ``w`` (1-D array).
    omega : array_like
        Increasing frequency grid on which the spectrum is sampled.
    hints : sequence of float
        Frequencies where narrow peaks may sit (e.g. ``Im λ`` of the slowest
        eigenvalues); they are evaluated in addition to the grid so that a
        line narrower than the grid spacing cannot be missed.
    S : array_like, optional
        ``evaluate(omega)`` if already known.
    prominence : float, optional
        Relative prominence threshold of ``n_peaks`` in ``[0, 1)``: a local maximum
        counts if its prominence exceeds ``prominence × max S`` (default
        :data:`DEFAULT_PROMINENCE` = 1e-3; see :func:`count_peaks`).

    Returns
    -------
    peak : float
        Position of the global maximum, refined with a bounded scalar search.
    linewidth : float
        Full width at half maximum of the global maximum, the two half-maximum
        crossings found by Brent's method (the search extends beyond the grid
        when needed).
    n_peaks : int
        Number of local maxima of the sampled ``S`` (grid points only) with
        prominence above ``prominence`` (default 1e-3) of the maximum.
    S : ndarray
        The spectrum on ``omega``.

    Raises
    ------
    ValueError
        If the spectrum is not finite or has no positive maximum, or if it does
        not fall below half of its maximum on one side.
    """
    omega = check_grid("omega", omega)
    prominence = check_prominence(prominence)
    S = np.asarray(evaluate(omega) if S is None else S, dtype=float)
    hints = np.asarray([h for h in np.atleast_1d(hints) if np.isfinite(h)], dtype=float)
    pts = np.concatenate([omega, hints]) if hints.size else omega
    vals = np.concatenate([S, evaluate(hints)]) if hints.size else S
    if not np.all(np.isfinite(vals)):
        raise ValueError("spectrum is not finite: the correlation function does not decay "
                         "(unstable linearisation or missing damping)")
    order = np.argsort(pts)
    pts, vals = pts[order], vals[order]
    i = int(np.argmax(vals))
    smax = vals[i]
    if smax <= 0:
        raise ValueError(f"spectrum has no positive maximum (max S = {smax:g})")

    f = lambda w: float(evaluate(np.array([w]))[0])
    # Refine the maximum between the neighbouring sample points.
    lo = pts[i - 1] if i > 0 else pts[i] - (pts[1] - pts[0] if pts.size > 1 else 1.0)
    hi = pts[i + 1] if i + 1 < pts.size else pts[i] + (pts[-1] - pts[-2] if pts.size > 1 else 1.0)
    def refine(lo, hi, best):
        res = optimize.minimize_scalar(lambda w: -f(w), bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-10 * (hi - lo)})
        return (res.x, -res.fun) if -res.fun > best[1] else best

    peak, smax = refine(lo, hi, (pts[i], smax))
    half = smax / 2
    span = max(pts[-1] - pts[0], 1e-300)

    def crossing(direction):
        # walk over the samples from the peak outwards, then beyond the grid
        side = pts[pts > peak] if direction > 0 else pts[pts < peak][::-1]
        inner = peak
        for w in side:
            if f(w) < half:
                return _root(lambda x: f(x) - half, inner, w)
            inner = w
        step = span
        for _ in range(40):
            w = inner + direction * step
            if f(w) < half:
                return _root(lambda x: f(x) - half, inner, w)
            inner, step = w, 2 * step
        raise ValueError("spectrum does not fall below half of its maximum: no FWHM")

    right, left = crossing(+1), crossing(-1)
    # second pass inside the half-width window: exact even for sub-grid lines
    peak2, smax2 = refine(left, right, (peak, smax))
    if smax2 > smax * (1 + 1e-12):
        peak, smax, half = peak2, smax2, smax2 / 2
        right, left = crossing(+1), crossing(-1)
    linewidth = right - left
    # counted on the grid alone, so that the count does not depend on the hints
    return float(peak), float(linewidth), count_peaks(S, prominence), S
