r"""Poles and residues of a quantum-regression system, with a resolvent oracle (issue 16).

The regression equations of :meth:`~.solve.CumulantSolver.qrt_matrix` are
affine, ``u' = A u + b``; with ``δu = u(0) − u(∞)`` and ``e`` selecting
``⟨B†(τ)B(0)⟩``,

.. math::

    g(τ) − g(∞) = e^T e^{Aτ} δu,\qquad
    S(ω) = 2\,\mathrm{Re}\; e^T (iω − A)^{-1} δu .

With ``A = V Λ V⁻¹`` both become sums over the poles ``λ_k`` with residues
``c_k = (e^T V)_k (V⁻¹ δu)_k``: one eigendecomposition, after which a
spectrum on 10 000 frequencies costs as much as on 10
(:func:`regression_modes`); above :data:`DENSE_EIG_MAX` equations, Ritz poles
of a shift-invert Krylov model verified at the line (:func:`krylov_modes`).
When ``V`` is ill-conditioned (a defective or
nearly defective ``A``: coalescing poles, strongly non-normal matrices) the
residues lose digits; then the spectrum is taken frequency by frequency from
the resolvent (:class:`Resolvent`, one sparse LU per frequency) and the
correlation by propagation (:func:`propagate`).  The resolvent is also the
oracle of the poles in the tests.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.linalg import expm_multiply, splu

__all__ = ["Resolvent", "regression_modes", "krylov_modes", "propagate", "DENSE_EIG_MAX",
           "RCOND_MIN", "POLE_RTOL"]

DENSE_EIG_MAX = 3000
"""Largest regression system given a dense eigendecomposition (m = 1000: 2 s, one thread)."""

RCOND_MIN = 1e-10
"""Smallest reciprocal condition number of the eigenvector matrix accepted for residues."""

POLE_RTOL = 1e-9
"""Largest relative deviation of the pole sum from the resolvent at the probe frequencies."""


class Resolvent:
    """``S(ω) = 2 Re e^T (i(ω − shift) − A)^{-1} δu``, one sparse LU per frequency.

    A picklable spectrum evaluator, like :class:`~qutip_superrad.spectrum.Lorentzians`.

    Parameters
    ----------
    A : sparse or dense matrix, complex, ``m × m``
    e, du : ndarray, length ``m``
    shift : float
    """

    def __init__(self, A, e, du, shift=0.0):
        self.A = sp.csc_matrix(A, dtype=complex)
        self.e = np.asarray(e, dtype=complex)
        self.du = np.asarray(du, dtype=complex)
        self.shift = float(shift)

    def values(self, omega):
        """``e^T (iω − A)^{-1} δu`` (complex) at the frequencies ``omega``."""
        omega = np.asarray(omega, dtype=float)
        eye = sp.identity(self.A.shape[0], dtype=complex, format="csc")
        out = np.empty(omega.shape, dtype=complex)
        for k, w in enumerate(omega.ravel()):
            x = splu((1j * (w - self.shift)) * eye - self.A).solve(self.du)
            out.ravel()[k] = self.e @ x
        return out

    def __call__(self, omega):
        return 2 * self.values(omega).real

    def shifted(self, shift):
        """The same spectrum on the axis ``ω + shift``."""
        return Resolvent(self.A, self.e, self.du, self.shift + shift)

    def __repr__(self):
        return f"Resolvent({self.A.shape[0]} equations, shift={self.shift:g})"


def regression_modes(A, du, e, probes=()):
    """Poles and residues of ``e^T e^{Aτ} δu``, or the reason they cannot be trusted.

    Parameters
    ----------
    A : sparse or dense matrix, complex, ``m × m``
    du, e : ndarray, length ``m``
    probes : array_like of float
        Frequencies where the pole sum is checked against the resolvent
        (:class:`Resolvent`) to :data:`POLE_RTOL` of the largest ``|S|`` there.

    Returns
    -------
    poles : ndarray or None
        Eigenvalues ``λ_k`` (``None`` above :data:`DENSE_EIG_MAX` equations).
    residues : ndarray or None
        ``c_k``, or ``None`` when they are not accurate (then use the resolvent).
    info : dict
        ``eigvec_rcond`` (reciprocal 1-norm condition number of ``V``, estimated),
        ``probe_error`` (relative deviation at ``probes``), ``fallback`` (the
        reason the residues were refused, or ``None``).
    """
    m = A.shape[0]
    info = {"eigvec_rcond": float("nan"), "probe_error": float("nan"), "fallback": None}
    if m > DENSE_EIG_MAX:
        info["fallback"] = (f"{m} regression equations: above {DENSE_EIG_MAX}, no dense "
                            "eigendecomposition")
        info["too_large"] = True
        return None, None, info
    Ad = A.toarray() if sp.issparse(A) else np.asarray(A, dtype=complex)
    lam, V = np.linalg.eig(Ad)
    lu = sla.lu_factor(V, check_finite=False)
    gecon, = sla.get_lapack_funcs(("gecon",), (lu[0],))
    rcond, _ = gecon(lu[0], np.linalg.norm(V, 1), norm="1")
    info["eigvec_rcond"] = float(rcond)
    if not rcond >= RCOND_MIN:
        info["fallback"] = (f"eigenvector matrix ill-conditioned (condition number "
                            f"{1 / max(rcond, 1e-300):.2g} > {1 / RCOND_MIN:.0e}: defective or "
                            "nearly defective regression matrix)")
        return lam, None, info
    res = (e @ V) * sla.lu_solve(lu, du, check_finite=False)
    probes = np.asarray(probes, dtype=float)
    probes = probes[np.isfinite(probes)]
    if probes.size and np.all(lam.real < 0):
        want = Resolvent(A, e, du).values(probes)
        got = np.sum(res / (1j * probes[:, None] - lam), axis=1)
        err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-300))
        info["probe_error"] = err
        if not err <= POLE_RTOL:
            info["fallback"] = (f"pole sum deviates from the resolvent by {err:.2g} (relative) "
                                "at the probe frequencies")
            return lam, None, info
    return lam, res, info


def krylov_modes(A, du, e, omega):
    """Ritz poles and residues of a regression system too large for a dense eigensolver.

    Shift-invert Arnoldi around the line, the exact solver's method
    (:func:`qutip_superrad.exact._common._krylov_spectrum`): grown until the pole
    sum matches sparse direct solves at the peak and both half maxima to 1e-8.

    Returns
    -------
    poles, residues : ndarray
    info : dict
        Krylov dimension, verified error, expansion point.

    Raises
    ------
    RuntimeError
        If the reduced model does not converge.
    """
    from ...exact._common import _krylov_spectrum

    ev, _, info = _krylov_spectrum(sp.csc_matrix(A, dtype=complex),
                                   np.asarray(du, dtype=complex),
                                   np.asarray(e, dtype=complex), omega)
    return ev.poles, ev.residues, info


def propagate(A, du, e, tau):
    """``e^T e^{Aτ} δu`` at the delays ``tau`` (≥ 0) by sparse matrix exponentials.

    Steps between the sorted delays (``scipy.sparse.linalg.expm_multiply``),
    so that it needs no eigenvectors.
    """
    tau = np.asarray(tau, dtype=float)
    order = np.argsort(tau, kind="stable")
    A = sp.csc_matrix(A, dtype=complex)
    out = np.empty(tau.shape, dtype=complex)
    x, t = np.asarray(du, dtype=complex), 0.0
    for k in order:
        if tau[k] > t:
            x = expm_multiply((tau[k] - t) * A, x)
            t = tau[k]
        out[k] = e @ x
    return out
