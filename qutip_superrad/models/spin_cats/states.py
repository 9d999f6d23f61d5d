r"""Spin coherent and spin cat states, in the symmetric manifold and the tensor space.

``|θ, φ⟩ = ⊗_n (cos(θ/2)|g⟩ + e^{iφ} sin(θ/2)|e⟩)`` (the seed's eq. 5) and
``|Cat_±⟩ = (|θ, φ⟩ ± |θ, φ + π⟩)/𝒩_±``, ``𝒩_± = √(2(1 ± cos^N θ))`` (eqs. 10–11).

Bases (QuTiP conventions, as everywhere in the package):

* ``"full"``: ``(C²)^{⊗N}``, ``|e⟩ = basis(2, 0)``, ``|g⟩ = basis(2, 1)`` (so that
  ``sigmam()`` lowers ``|e⟩`` to ``|g⟩``);
* ``"manifold"``: the Dicke states ``|j = N/2, m⟩`` in the order of
  ``qutip.jmat(N/2)`` (index 0 is ``m = +N/2``, all spins excited).  The
  Holstein–Primakoff boson number is the number of excitations
  ``k = m + N/2``, i.e. index ``N − k`` (:func:`hp_number_index`).
"""
from __future__ import annotations

import numpy as np
import qutip
from scipy.special import gammaln

from ..._validate import check_int, check_real

__all__ = ["coherent_spin_state", "cat_state", "fidelity", "hp_number_index", "to_manifold",
           "BASES"]

BASES = ("manifold", "full")


def _check(N, theta, phi, basis):
    N = check_int("N", N, minimum=1)
    theta = check_real("theta", theta)
    if not 0 <= theta <= np.pi:
        raise ValueError(f"theta must lie in [0, π], got {theta}")
    phi = check_real("phi", phi)
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    if basis == "full" and N > 20:
        raise ValueError(f"basis='full' needs 2^N amplitudes; N = {N} is too large (use "
                         "'manifold')")
    return N, theta, phi


def hp_number_index(N, k):
    """Index of the Dicke state with ``k`` excitations in the ``qutip.jmat`` ordering."""
    return N - np.asarray(k)


def coherent_spin_state(N, theta, phi=0.0, basis="manifold"):
    """The spin coherent state ``|θ, φ⟩`` (eq. 5) as a ket Qobj.

    In the manifold the amplitude of ``k`` excitations is
    ``√C(N, k) cos^{N−k}(θ/2) sin^k(θ/2) e^{ikφ}``.
    """
    N, theta, phi = _check(N, theta, phi, basis)
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    if basis == "full":
        one = c * qutip.basis(2, 1) + np.exp(1j * phi) * s * qutip.basis(2, 0)
        return qutip.tensor([one] * N)
    k = np.arange(N + 1)
    with np.errstate(divide="ignore"):
        logamp = (0.5 * (gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1))
                  + (N - k) * np.log(c) + k * np.log(s))
    amp = np.where(np.isfinite(logamp), np.exp(np.where(np.isfinite(logamp), logamp, 0.0)), 0.0)
    vec = np.zeros(N + 1, dtype=complex)
    vec[hp_number_index(N, k)] = amp * np.exp(1j * k * phi)
    return qutip.Qobj(vec.reshape(-1, 1))


def cat_state(N, theta, parity=+1, phi=0.0, basis="manifold"):
    """Even (``parity=+1``) or odd (``-1``) spin cat ``(|θ,φ⟩ ± |θ,φ+π⟩)/𝒩_±`` (eq. 10).

    Raises
    ------
    ValueError
        ``parity`` not ±1, or the odd cat of ``θ = 0`` (it does not exist).
    """
    if parity not in (1, -1):
        raise ValueError(f"parity must be +1 (even cat) or -1 (odd cat), got {parity!r}")
    N, theta, phi = _check(N, theta, phi, basis)
    norm2 = 2 * (1 + parity * np.cos(theta) ** N)
    if norm2 < 1e-300:
        raise ValueError(f"the odd cat of theta = {theta} does not exist (𝒩_− = 0)")
    psi = (coherent_spin_state(N, theta, phi, basis)
           + parity * coherent_spin_state(N, theta, phi + np.pi, basis))
    return psi / np.sqrt(norm2)


def to_manifold(state, N):
    """Project a tensor-space state (ket or density matrix) on the symmetric manifold.

    The symmetric Dicke states are built explicitly (N ≤ 20).
    """
    N = check_int("N", N, minimum=1, maximum=20)
    dim = 2 ** N
    pop = np.array([bin(i).count("1") for i in range(dim)])   # bit 1 = |g⟩ = basis(2, 1)
    k = N - pop                                                  # excitations
    P = np.zeros((N + 1, dim))
    for kk in range(N + 1):
        sel = k == kk
        P[hp_number_index(N, kk), sel] = 1.0 / np.sqrt(sel.sum())
    if state.isket:
        return qutip.Qobj(P @ state.full())
    return qutip.Qobj(P @ state.full() @ P.T)


def fidelity(target, state):
    """``|⟨ψ|φ⟩|²`` of kets, or ``⟨ψ|ρ|ψ⟩`` with a pure ``target`` and a density matrix.

    (For pure targets this is the seed's fidelity; QuTiP's :func:`qutip.fidelity`
    is its square root.)
    """
    if not isinstance(target, qutip.Qobj) or not target.isket:
        raise TypeError("target must be a ket Qobj")
    if not isinstance(state, qutip.Qobj):
        raise TypeError("state must be a Qobj (ket or density matrix)")
    if state.shape[0] != target.shape[0]:
        raise ValueError(f"state dimension {state.shape[0]} != target dimension "
                         f"{target.shape[0]}")
    if state.isket:
        return float(abs(target.overlap(state)) ** 2)
    return float(np.real(qutip.expect(state, target)))
