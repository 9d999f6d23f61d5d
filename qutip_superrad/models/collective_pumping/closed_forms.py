"""Closed forms of collectively pumped superradiance (seed 003, eqs. 3–4, 7, D2–D5, E5).

The steady state of ``γ D[J⁻] + w D[J⁺]`` on the ``j = N/2`` manifold is
thermal, ``ρ ∝ e^{−βJ_z}`` with ``β = −ln(w/γ)``; its moments follow from
``Z(β) = sinh((N+1)β/2)/sinh(β/2)``.  The functions here need no model
object; ``γ`` is the keyword ``collective_emission`` (formerly ``gamma``: still
accepted, with a ``FutureWarning``).

Contents
--------
* :func:`thermal_beta`, :func:`thermal_jz`, :func:`thermal_jz_variance` —
  ``β``, ``⟨J_z⟩`` and ``Var[J_z]`` of the thermal steady state.
* :func:`cumulant_relaxation_rate` — second-order cumulant ``λ(w)`` (eq. E5
  or its large-N form eq. 7).
* :func:`fit_power_law` — ``y = A x^η`` fit (Fig. 4 exponent of the widths).
* ``_g``, ``_gprime`` — ``coth x − 1/x`` and its derivative without
  cancellation near ``x = 0``.
"""
import numpy as np
import scipy.special

from ..._validate import check_array, check_count, check_rate
from ..._validate import renamed_keywords

__all__ = [
    "thermal_beta", "thermal_jz", "thermal_jz_variance", "cumulant_relaxation_rate",
    "fit_power_law",
]


# coth x − 1/x = Σ_{n≥1} 2^{2n} B_{2n} x^{2n−1} / (2n)!
_NSER = 12
_B2N = scipy.special.bernoulli(2 * _NSER)[2::2]
_GCOEF = np.array([2.0 ** (2 * n) * _B2N[n - 1] / scipy.special.factorial(2 * n)
                   for n in range(1, _NSER + 1)])


def _g(x):
    """``coth x − 1/x`` without cancellation (odd, smooth, ``g(0) = 0``)."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    xs = x[small]
    out[small] = sum(c * xs ** (2 * n + 1) for n, c in enumerate(_GCOEF))
    xl = x[~small]
    out[~small] = 1.0 / np.tanh(xl) - 1.0 / xl
    return out


def _gprime(x):
    """``d/dx (coth x − 1/x) = 1/x² − 1/sinh² x`` without cancellation or overflow."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    small = np.abs(x) < 0.5
    xs = x[small]
    out[small] = sum((2 * n + 1) * c * xs ** (2 * n) for n, c in enumerate(_GCOEF))
    xl = np.abs(x[~small])
    e = np.exp(-2 * xl)
    out[~small] = 1.0 / xl ** 2 - 4 * e / (1 - e) ** 2
    return out


@renamed_keywords(gamma="collective_emission")
def thermal_beta(collective_emission, w):
    """Effective inverse temperature ``β = −ln(w/γ)`` of the steady state (eq. 3).

    ``collective_emission`` is ``γ`` (formerly ``gamma``), ``w`` the collective pump rate.
    """
    gamma = check_rate("collective_emission", collective_emission)
    w = check_rate("pump (w)", w)
    if gamma == 0 or w == 0:
        raise ValueError("beta = -ln(w/gamma) needs collective_emission > 0 and w > 0")
    return -np.log(w / gamma)


def thermal_jz(N, beta):
    """Closed form ``⟨J_z⟩ = −∂_β ln Z(β)``, ``Z = sinh((N+1)β/2)/sinh(β/2)``.

    ``⟨J_z⟩ = ½ coth(β/2) − ((N+1)/2) coth((N+1)β/2)``, evaluated as
    ``½ g(β/2) − ((N+1)/2) g((N+1)β/2)`` with ``g(x) = coth x − 1/x`` so that
    there is no cancellation near the transition ``β = 0`` (``w = γ``).

    Parameters
    ----------
    N : int
        Number of atoms.
    beta : float or array_like
        ``β = −ln(w/γ)``; ``±inf`` give ``∓N/2``.
    """
    N = check_count("N", N)
    beta = np.asarray(beta, dtype=float)
    fin = np.isfinite(beta)
    out = np.where(beta > 0, -N / 2, N / 2).astype(float)
    b = beta[fin]
    out[fin] = 0.5 * _g(b / 2) - 0.5 * (N + 1) * _g((N + 1) * b / 2)
    return out if out.ndim else float(out)


def thermal_jz_variance(N, beta):
    """Closed form ``Var[J_z] = ∂²_β ln Z(β) = −∂_β⟨J_z⟩`` (eq. D3).

    ``Var = ((N+1)²/4) g'((N+1)β/2) − ¼ g'(β/2)``; at ``β = 0`` it is
    ``N(N+2)/12`` (the seed's eq. D5 quotes the large-N value ``N²/12``).
    """
    N = check_count("N", N)
    beta = np.asarray(beta, dtype=float)
    fin = np.isfinite(beta)
    out = np.zeros(beta.shape)
    b = beta[fin]
    out[fin] = 0.25 * (N + 1) ** 2 * _gprime((N + 1) * b / 2) - 0.25 * _gprime(b / 2)
    return out if out.ndim else float(out)


@renamed_keywords(gamma="collective_emission")
def cumulant_relaxation_rate(N, collective_emission, w, form="E5"):
    """Second-order cumulant estimate of the relaxation rate ``λ(w)``.

    Parameters
    ----------
    N : int
    collective_emission : float
        Collective decay rate ``γ > 0`` (formerly ``gamma``).
    w : float or array_like
        Collective pump rate(s).
    form : {"E5", "eq7"}
        ``"E5"``: ``λ = w + γ + 2(w − γ)⟨J_z⟩(w)`` with the exact thermal
        ``⟨J_z⟩`` (seed eq. E5).  ``"eq7"``: the large-N form
        ``λ = N(w − γ)/tanh(N(w/γ − 1)/2)`` (seed eq. 7; equals E5 with the
        large-N ``⟨J_z⟩`` of eq. 4 minus the subleading ``w − γ``).
        Both give ``2γ`` at ``w = γ``.
    """
    N = check_count("N", N)
    gamma = check_rate("collective_emission", collective_emission)
    if gamma == 0:
        raise ValueError("collective_emission must be > 0 for the cumulant relaxation rate")
    warr = np.asarray(w, dtype=float)
    if np.any(~np.isfinite(warr)) or np.any(warr < 0):
        raise ValueError("pump (w) must be finite and >= 0")
    if form == "E5":
        with np.errstate(divide="ignore"):
            beta = -np.log(warr / gamma)
        out = warr + gamma + 2 * (warr - gamma) * np.asarray(thermal_jz(N, beta))
    elif form == "eq7":
        u = N * (warr / gamma - 1) / 2
        out = 2 * gamma * (1 + u * _g(np.atleast_1d(u)).reshape(np.shape(u)))
    else:
        raise ValueError(f"form must be 'E5' or 'eq7', got {form!r}")
    return out if np.ndim(out) else float(out)


def fit_power_law(x, y):
    """Least-squares fit ``y = A x^η`` in log–log; returns ``(η, A)``."""
    x = check_array("x", x, positive=True)
    y = check_array("y", y, size=x.size, positive=True)
    if x.size < 2:
        raise ValueError("need at least two points for a power-law fit")
    eta, logA = np.polyfit(np.log(x), np.log(y), 1)
    return float(eta), float(np.exp(logA))
