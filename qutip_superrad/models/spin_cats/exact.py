r"""Exact quantum dynamics of the spin-cat seed: its Fig. 2 (tensor space) and Fig. 3 (manifold).

Model (seed eqs. 1–2, :class:`TwoBodyLossSpins`)::

    H = ½ Σ_i δ_i σ^z_i + (η/N)(e^{iφ} S_−² + e^{−iφ} S_+²),   dρ/dt = −i[H, ρ] + (Γ_2/N²) D[S_−²]ρ

**Stabilised cats (Fig. 2).**  The bosonic limit (eqs. 3–4) has steady states
spanned by ``|±α⟩``, ``α = √(2η/Γ_2) e^{−i(φ/2 + π/4)}``.  The spin coherent
state ``|θ, ϕ⟩`` has Holstein–Primakoff (HP) amplitudes
``√C(N,k) cos^{N−k}(θ/2) sin^k(θ/2) e^{ikϕ}`` → a boson coherent state of
amplitude ``√N tan(θ/2) e^{iϕ}`` for large N, so the stabilised cat uses
``tan(θ/2) = |α|/√N``, ``ϕ = arg α`` (:func:`stabilised_cat`).  With this choice
the δ = 0 steady states reached from the cats have the seed's fidelities
0.998 (even) and 0.995 (odd) for N = 8, η/Γ_2 = 0.2 (we get 0.99790 and
0.99480; ``sin(θ/2) = |α|/√N`` would give 0.99876 / 0.99571, i.e. 0.999 / 0.996).

**Non-unique steady state.**  Every term changes the number of excitations
``k`` by 0 or ±2, so the Liouvillian is block diagonal in the parities of the
ket and the bra of ``ρ_{k,k'}``: four blocks ``(k mod 2, k' mod 2)``.

* Each parity-diagonal block (ee, oo) has one exact zero eigenvalue whose left
  vector is the identity restricted to that parity (the parity projectors
  ``Π_±`` are conserved: ``Tr(Π_± ρ)`` is constant).  Its steady state ``σ_±`` is
  found by one sparse solve with the trace condition.
* The parity-coherence block (eo, and its adjoint oe) carries ``⟨a⟩`` and
  ``⟨S_−⟩``.  For finite N it has **no** exact conserved quantity (unlike the
  bosonic model): its slowest eigenvalue ``λ_1`` is tiny but non-zero
  (``≈ −3×10⁻⁶ Γ_2`` for N = 8, η = 0.2; for N = 100 below ``10⁻¹³`` up to
  η ≈ 7 Γ_2, then ``6×10⁻¹⁰`` at 8, ``5×10⁻⁷`` at 9, ``9×10⁻⁵`` at 10,
  ``4×10⁻³`` at 11, ``0.037`` at 12).  The infinite-time state has ``⟨a⟩ = 0``;
  the "steady state" of Fig. 3 is the metastable state seen at times
  ``1/|λ_2| ≪ t``.  We therefore define the steady state at an observation time
  ``t_obs`` (default ``10⁴/Γ_2``) by spectral projection::

      ρ_ss = Σ_± Tr(Π_± ρ_0) σ_± + [e^{λ_1 t_obs} r_1 ⟨l_1, ρ_0⟩/⟨l_1, r_1⟩ + h.c.]

  with the left/right eigenvectors ``l_1, r_1`` of the eo block (sparse
  shift-invert).  This is exact up to ``e^{Re λ_2 t_obs}`` (λ_2: the next mode of
  any block); :class:`RuntimeError` is raised when that is not below 1e−10,
  i.e. when ``t_obs`` is too short for the fast modes to have decayed.  The
  drop of ``|⟨a⟩|`` is where ``|λ_1| t_obs ~ 1``; since ``λ_1`` grows by about
  two decades per unit of η there, the drop position moves only slightly
  with ``t_obs``: for N = 100 |⟨a⟩| falls from ≈ 4.85 (η = 9) to ≈ 0 at
  η ≈ 10 (2.13 at η = 10, 0 at 11) for ``t_obs = 10⁴``, at ≈ 10.5–11 for 10³
  and at ≈ 9–9.5 for 10⁶.

**HP boson.**  ``S_− = √(N − a†a) a``; the boson basis ``|n⟩`` (n = 0…N) is
the Dicke state with ``n`` excitations (manifold index ``N − n``).  ``⟨a⟩`` and
Wigner functions are computed from the ``(N+1)``-dimensional boson density
matrix, not from ``⟨S_−⟩/√N``.  The bosonic coherent initial state is
truncated at ``n ≤ N`` and renormalised.

Functions
---------
manifold_operators, hp_coherent_state, stabilised_cat, manifold_to_boson,
manifold_steady_state, hp_steady_amplitude, meanfield_amplitude,
amplitude_scan, hp_wigner, sphere_wigner, cat_fidelity_dynamics, manifold_evolve
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import qutip
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..._threads import limited_blas
from ..._validate import check_int, check_rate, check_real
from .model import TwoBodyLossSpins, sample_detunings, stabilised_amplitude
from .states import cat_state, fidelity, hp_number_index

__all__ = [
    "manifold_operators", "hp_coherent_state", "stabilised_cat", "stabilised_theta",
    "manifold_to_boson", "manifold_evolve", "manifold_steady_state", "ManifoldSteadyState",
    "hp_steady_amplitude", "meanfield_amplitude", "amplitude_scan", "AmplitudeScan",
    "hp_wigner", "WignerResult", "sphere_wigner", "SphereWignerResult",
    "cat_fidelity_dynamics", "CatFidelityResult",
]

_DEFAULT_T_OBS = 1e4          # in units of 1/Γ_2


# --------------------------------------------------------------------- checks
def _check_model_args(N, eta, Gamma2, phase=0.0, *, positive_gamma=True):
    N = check_int("N", N, minimum=1)
    eta = check_rate("eta", eta)
    Gamma2 = check_rate("Gamma2", Gamma2)
    if positive_gamma and Gamma2 == 0:
        raise ValueError("Gamma2 must be > 0 (the stabilised amplitude is √(2η/Γ_2))")
    phase = check_real("phase", phase)
    return N, eta, Gamma2, phase


# ----------------------------------------------------------------- manifold
def manifold_operators(N, eta, Gamma2=1.0, phase=0.0):
    """``(H, c_ops)`` on the symmetric manifold ``j = N/2`` (``qutip.jmat`` ordering, S_− = J_−).

    ``H = (η/N)(e^{iφ}S_−² + e^{−iφ}S_+²)``, ``c_ops = [√Γ_2/N · S_−²]``.
    """
    N, eta, Gamma2, phase = _check_model_args(N, eta, Gamma2, phase, positive_gamma=False)
    Sm = qutip.jmat(N / 2, "-")
    Sm2 = Sm * Sm
    H = (eta / N) * (np.exp(1j * phase) * Sm2 + np.exp(-1j * phase) * Sm2.dag())
    return H, [np.sqrt(Gamma2) / N * Sm2]


def stabilised_theta(N, eta, Gamma2=1.0, phase=0.0):
    """``(θ, ϕ)`` of the stabilised spin coherent states: ``tan(θ/2) = |α|/√N``, ``ϕ = arg α``."""
    N, eta, Gamma2, phase = _check_model_args(N, eta, Gamma2, phase)
    alpha = stabilised_amplitude(eta, Gamma2, phase)
    return float(2 * np.arctan(abs(alpha) / np.sqrt(N))), float(np.angle(alpha))


def stabilised_cat(N, eta, Gamma2=1.0, phase=0.0, parity=+1, basis="manifold"):
    """The even/odd spin cat stabilised by the dynamics (θ, ϕ from :func:`stabilised_theta`)."""
    theta, phi = stabilised_theta(N, eta, Gamma2, phase)
    return cat_state(N, theta, parity, phi, basis=basis)


def hp_coherent_state(N, alpha):
    """Boson coherent state ``|α⟩`` mapped to the manifold by the exact HP map.

    Fock state ``|n⟩`` ↦ Dicke state with ``n`` excitations (index ``N − n``);
    the expansion is truncated at ``n ≤ N`` and renormalised.
    """
    N = check_int("N", N, minimum=1)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Number) \
            or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number, got {alpha!r}")
    n = np.arange(N + 1)
    from scipy.special import gammaln
    with np.errstate(divide="ignore"):
        logamp = n * np.log(abs(alpha)) - 0.5 * gammaln(n + 1) if alpha != 0 else \
            np.where(n == 0, 0.0, -np.inf)
    amp = np.exp(logamp - np.max(logamp)) * np.exp(1j * n * np.angle(alpha))
    vec = np.zeros(N + 1, complex)
    vec[hp_number_index(N, n)] = amp
    vec /= np.linalg.norm(vec)
    return qutip.Qobj(vec.reshape(-1, 1))


def manifold_to_boson(state):
    """Reorder a manifold ket / density matrix (``jmat`` order) to the HP boson basis ``|n⟩``."""
    if not isinstance(state, qutip.Qobj):
        raise TypeError("state must be a Qobj")
    arr = state.full()[::-1]
    if not state.isket:
        arr = arr[:, ::-1]
    return qutip.Qobj(np.ascontiguousarray(arr))


@limited_blas
def manifold_evolve(N, eta, Gamma2=1.0, phase=0.0, *, initial, tlist, e_ops=None,
                    options=None):
    """:func:`qutip.mesolve` on the manifold (``initial``: manifold ket or density matrix)."""
    H, c_ops = manifold_operators(N, eta, Gamma2, phase)
    opts = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100000}
    opts.update(options or {})
    return qutip.mesolve(H, initial, np.asarray(tlist, float), c_ops, e_ops=e_ops, options=opts)


def _parity_blocks(N, L):
    """Indices (column-stacked vec) and sub-matrices of the 4 parity blocks of L."""
    d = N + 1
    idx = np.arange(d * d)
    i, j = idx % d, idx // d                     # ρ[i, j] at i + d j (QuTiP column stacking)
    ki, kj = (N - i) % 2, (N - j) % 2            # excitation parities of ket / bra
    out = {}
    for p in (0, 1):
        for q in (0, 1):
            sel = np.flatnonzero((ki == p) & (kj == q))
            out[(p, q)] = (sel, L[sel][:, sel].tocsc())
    return out, i, j


def _slow_modes(B, k=2, tol=1e-12):
    """The ``k`` eigenvalues of B closest to 0 (shift-invert), sorted by |Re|, with vectors."""
    n = B.shape[0]
    if n <= 60:
        w, v = np.linalg.eig(B.toarray())
    else:
        sigma = 1e-3                          # all Re λ ≤ 0: no eigenvalue at the shift
        # a generous Krylov space: the next modes are often (nearly) degenerate pairs
        w, v = spla.eigs(B, k=min(k, n - 2), sigma=sigma, which="LM",
                         ncv=min(n - 1, max(30, 6 * k)), tol=tol)
    order = np.argsort(np.abs(w.real) + 1e-3 * np.abs(w.imag))
    return w[order], v[:, order]


@dataclass
class ManifoldSteadyState:
    """Steady state selected by the initial state (see module docstring).

    Attributes
    ----------
    rho : Qobj
        Manifold density matrix (``qutip.jmat`` order).
    rho_boson : Qobj
        The same in the HP boson basis ``|n⟩``, n = 0…N.
    parity_weights : (float, float)
        ``Tr(Π_even ρ_0)``, ``Tr(Π_odd ρ_0)`` (conserved).
    coherence_rate : complex
        Slowest eigenvalue ``λ_1`` of the parity-coherence block (``ρ_{even,odd}``).
    neglected_rate : float
        Slowest dropped rate ``|Re λ_2|`` over all blocks.
    t_obs : float
    """
    N: int
    eta: float
    Gamma2: float
    rho: qutip.Qobj
    rho_boson: qutip.Qobj
    parity_weights: tuple
    coherence_rate: complex
    neglected_rate: float
    t_obs: float

    @property
    def a(self):
        """``⟨a⟩`` of the HP boson."""
        return complex(qutip.expect(qutip.destroy(self.N + 1), self.rho_boson))

    def wigner(self, xvec, yvec):
        """:func:`qutip.wigner` of the boson state (``α = (x + iy)/√2``)."""
        return qutip.wigner(self.rho_boson, _grid("xvec", xvec), _grid("yvec", yvec))

    def spin_wigner(self, theta, phi):
        """Spin Wigner function on the sphere, ``W[φ, θ]``
        (:func:`qutip_superrad.phase_space.spin_wigner`; ``θ = 0`` is ``|j, j⟩``)."""
        from ...phase_space import spin_wigner
        return spin_wigner(self.rho, _grid("theta", theta), _grid("phi", phi))[0]


@limited_blas
def manifold_steady_state(N, eta, Gamma2=1.0, phase=0.0, *, initial=None, t_obs=None,
                          tol=1e-10, check_gap=True):
    """Steady state on the manifold reached from ``initial`` (spectral projection).

    Parameters
    ----------
    initial : Qobj, optional
        Manifold ket or density matrix; default the HP image of the boson
        coherent state ``α = √(2η/Γ_2) e^{−i(φ/2 + π/4)}`` (seed's Fig. 3).
    t_obs : float, optional
        Observation time (default ``10⁴/Γ_2``); ``np.inf`` keeps only exact
        conserved quantities (then ``⟨a⟩ = 0`` unless ``λ_1`` underflows to 0).
    tol : float
        Raise :class:`RuntimeError` if the dropped modes have not decayed below
        ``tol`` at ``t_obs`` (``e^{−|Re λ_2| t_obs} > tol``).
    check_gap : bool
        Also compute ``λ_2`` of the parity-diagonal blocks for that check (two
        extra sparse eigen-solves; the parity-coherence block is always checked).
    """
    N, eta, Gamma2, phase = _check_model_args(N, eta, Gamma2, phase)
    t_obs = _DEFAULT_T_OBS / Gamma2 if t_obs is None else float(t_obs)
    if not t_obs > 0:
        raise ValueError(f"t_obs must be > 0, got {t_obs}")
    if initial is None:
        initial = hp_coherent_state(N, stabilised_amplitude(eta, Gamma2, phase))
    if not isinstance(initial, qutip.Qobj) or initial.shape[0] != N + 1:
        raise ValueError(f"initial must be a manifold Qobj of dimension N + 1 = {N + 1}")
    rho0 = (initial * initial.dag() if initial.isket else initial).full()
    d = N + 1
    H, c_ops = manifold_operators(N, eta, Gamma2, phase)
    L = qutip.liouvillian(H, c_ops).data.as_scipy().tocsr()
    blocks, i, j = _parity_blocks(N, L)
    x0 = rho0.reshape(-1, order="F")
    x = np.zeros(d * d, complex)
    weights, neglected = [], np.inf
    for p in (0, 1):
        sel, B = blocks[(p, p)]
        diag = i[sel] == j[sel]
        w0 = float(np.real(x0[sel][diag].sum()))
        weights.append(w0)
        if B.shape[0] > 1 and check_gap:
            wv, _ = _slow_modes(B, k=2, tol=1e-6)
            neglected = min(neglected, abs(wv[1].real))
        if w0 == 0:
            continue
        A = B.tolil()
        r = np.flatnonzero(diag)[0]
        A[r, :] = diag.astype(float)
        rhs = np.zeros(len(sel), complex)
        rhs[r] = 1.0
        x[sel] = w0 * spla.spsolve(A.tocsc(), rhs)
    lam1 = 0j
    sel, B = blocks[(0, 1)]
    if B.shape[0] >= 1:
        wv, vr = _slow_modes(B, k=3)
        lam1 = wv[0]
        if len(wv) > 1:
            neglected = min(neglected, abs(wv[1].real))
        wl, vl = _slow_modes(B.conj().T.tocsc(), k=1)
        l1 = vl[:, np.argmin(np.abs(wl - np.conj(lam1)))]
        r1 = vr[:, 0]
        amp = (l1.conj() @ x0[sel]) / (l1.conj() @ r1)
        decay = np.exp(lam1 * t_obs) if np.isfinite(t_obs) else float(lam1 == 0)
        x[sel] = decay * amp * r1
    rho = x.reshape(d, d, order="F")
    # the (odd, even) block is the adjoint of the (even, odd) block
    par = (N - np.arange(d)) % 2
    oe = np.ix_(par == 1, par == 0)
    eo = np.ix_(par == 0, par == 1)
    rho[oe] = rho[eo].conj().T
    rho = 0.5 * (rho + rho.conj().T)
    if np.isfinite(neglected) and np.exp(-neglected * t_obs) > tol:
        raise RuntimeError(f"t_obs = {t_obs:g} is too short: the slowest neglected mode "
                           f"(rate {neglected:.3g}) has not decayed below tol = {tol:g}")
    rho_q = qutip.Qobj(rho)
    return ManifoldSteadyState(N, eta, Gamma2, rho_q, manifold_to_boson(rho_q),
                               tuple(weights), complex(lam1),
                               float(neglected), t_obs)


def hp_steady_amplitude(N, eta, Gamma2=1.0, *, t_obs=None):
    """``|⟨a⟩|`` of the HP boson in the steady state reached from the coherent state (Fig. 3)."""
    return abs(manifold_steady_state(N, eta, Gamma2, t_obs=t_obs).a)


def meanfield_amplitude(N, eta, Gamma2=1.0):
    """Mean-field ``√N A`` of the seed's eq. 19 (NaN beyond ``η/Γ_2 = N/16``)."""
    N = check_int("N", N, minimum=1)
    Gamma2 = check_rate("Gamma2", Gamma2)
    e = np.asarray(eta, float) / Gamma2
    with np.errstate(invalid="ignore"):
        root = np.sqrt(1 - 16 * e / N)
        val = np.sqrt((4 * e - 1 + root) / 2)
    return np.where(e <= N / 16, val, np.nan)


@dataclass
class AmplitudeScan:
    """|⟨a⟩| against η/Γ_2 (seed's Fig. 3, top)."""
    N: int
    Gamma2: float
    etas: np.ndarray
    amplitude: np.ndarray
    coherence_rate: np.ndarray
    meanfield: np.ndarray
    t_obs: float

    @property
    def drop(self):
        """η where |⟨a⟩| falls most steeply between neighbouring scan points (midpoint)."""
        k = int(np.argmin(np.diff(self.amplitude)))
        return float(0.5 * (self.etas[k] + self.etas[k + 1]))

    @property
    def peak(self):
        """``(η, |⟨a⟩|)`` at the maximum."""
        k = int(np.argmax(self.amplitude))
        return float(self.etas[k]), float(self.amplitude[k])

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(self.etas / self.Gamma2, self.amplitude, "o-", ms=3, label="quantum (manifold)")
        ax.plot(self.etas / self.Gamma2, self.meanfield, "k--", label="mean field (eq. 19)")
        ax.set_xlabel(r"$\eta/\Gamma_2$")
        ax.set_ylabel(r"$|\langle a\rangle|$")
        ax.set_title(f"N = {self.N}, $\\Gamma_2 t_{{obs}}$ = {self.t_obs * self.Gamma2:g}")
        ax.legend()
        return ax


@limited_blas
def amplitude_scan(N=100, etas=None, Gamma2=1.0, *, t_obs=None):
    """Steady-state ``|⟨a⟩|`` over ``etas`` (default 0.25 … 20 in steps of 0.25)."""
    N = check_int("N", N, minimum=1)
    Gamma2 = check_rate("Gamma2", Gamma2)
    etas = np.arange(0.25, 20.01, 0.25) if etas is None else _grid("etas", etas)
    if np.any(etas < 0):
        raise ValueError("etas must be >= 0")
    amp, lam = [], []
    for e in etas:
        ss = manifold_steady_state(N, float(e), Gamma2, t_obs=t_obs)
        amp.append(abs(ss.a))
        lam.append(ss.coherence_rate)
    t = _DEFAULT_T_OBS / Gamma2 if t_obs is None else float(t_obs)
    return AmplitudeScan(N, Gamma2, np.asarray(etas, float), np.array(amp), np.array(lam),
                         meanfield_amplitude(N, etas, Gamma2), t)


def _grid(name, values):
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


@dataclass
class WignerResult:
    """Wigner functions of the HP boson steady states (seed's Fig. 3, bottom)."""
    N: int
    etas: tuple
    xvec: np.ndarray
    yvec: np.ndarray
    W: list
    states: list = field(repr=False)

    def plot(self, axes=None):
        import matplotlib.pyplot as plt
        if axes is None:
            _, axes = plt.subplots(1, len(self.W), figsize=(4 * len(self.W), 3.6))
        axes = np.atleast_1d(axes)
        for ax, e, W in zip(axes, self.etas, self.W):
            lim = np.max(np.abs(W))
            im = ax.contourf(self.xvec, self.yvec, W, 60, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"η/Γ₂ = {e:g}")
            ax.set_xlabel("x")
            ax.set_ylabel("p")
            ax.set_aspect("equal")
            plt.colorbar(im, ax=ax)
        return axes


@limited_blas
def hp_wigner(N=100, etas=(5.0, 12.0), Gamma2=1.0, xvec=None, yvec=None, *, t_obs=None):
    """Wigner functions (``qutip.wigner``, ``α = (x + ip)/√2``) of the steady HP boson states."""
    xvec = np.linspace(-8, 8, 121) if xvec is None else _grid("xvec", xvec)
    yvec = xvec if yvec is None else _grid("yvec", yvec)
    N, etas, states = _steady_states(N, etas, Gamma2, t_obs)
    return WignerResult(N, etas, xvec, yvec, [s.wigner(xvec, yvec) for s in states], states)


def _steady_states(N, etas, Gamma2, t_obs):
    """``(N, etas, [ManifoldSteadyState, ...])`` of the Wigner figures."""
    N = check_int("N", N, minimum=1)
    etas = tuple(float(e) for e in np.atleast_1d(etas))
    if not etas:
        raise ValueError("etas must not be empty")
    return N, etas, [manifold_steady_state(N, e, Gamma2, t_obs=t_obs) for e in etas]


@dataclass
class SphereWignerResult:
    """Spin Wigner functions on the sphere of the manifold steady states (Fig. 3 option).

    ``W[i]`` has shape ``(len(phi), len(theta))`` for ``etas[i]``.
    """
    N: int
    etas: tuple
    theta: np.ndarray
    phi: np.ndarray
    W: list
    states: list = field(repr=False)

    def plot(self, axes=None):
        """Mollweide maps (longitude ``φ``, latitude ``π/2 − θ``: ``|j, j⟩`` at the top)."""
        import matplotlib.pyplot as plt
        if axes is None:
            fig = plt.figure(figsize=(5 * len(self.W), 3.2))
            axes = [fig.add_subplot(1, len(self.W), i + 1, projection="mollweide")
                    for i in range(len(self.W))]
        lon = np.angle(np.exp(1j * self.phi))           # φ in (−π, π]
        order = np.argsort(lon)
        lat = np.pi / 2 - self.theta
        for ax, e, W in zip(np.atleast_1d(axes), self.etas, self.W):
            lim = np.max(np.abs(W))
            im = ax.pcolormesh(lon[order], lat, W[order].T, cmap="RdBu_r", vmin=-lim,
                               vmax=lim, shading="auto")
            ax.set_title(f"η/Γ₂ = {e:g}")
            ax.grid(True, alpha=0.3)
            plt.colorbar(im, ax=ax, orientation="horizontal", pad=0.08)
        return axes


@limited_blas
def sphere_wigner(N=100, etas=(5.0, 12.0), Gamma2=1.0, theta=None, phi=None, *, t_obs=None):
    """Spin Wigner functions on the sphere of the steady states of :func:`hp_wigner`.

    Parameters
    ----------
    N, etas, Gamma2, t_obs
        As :func:`hp_wigner`.
    theta, phi : array_like, optional
        Polar and azimuthal grids (default 91 × 181 points over the sphere).

    Returns
    -------
    SphereWignerResult
    """
    theta = np.linspace(0, np.pi, 91) if theta is None else _grid("theta", theta)
    phi = np.linspace(-np.pi, np.pi, 181) if phi is None else _grid("phi", phi)
    N, etas, states = _steady_states(N, etas, Gamma2, t_obs)
    return SphereWignerResult(N, etas, theta, phi, [s.spin_wigner(theta, phi) for s in states],
                              states)


# ------------------------------------------------------------ Fig. 2 (tensor)
def _parity_subspace(N, parity):
    """Tensor-space indices with excitation parity of the cat (|e⟩ = basis(2, 0) is bit 0)."""
    idx = np.arange(2 ** N)
    exc = N - np.array([bin(v).count("1") for v in idx])
    return np.flatnonzero(exc % 2 == (0 if parity == 1 else 1))


@dataclass
class CatFidelityResult:
    """Mean fidelity with the initial cat under the full dissipative dynamics (seed's Fig. 2).

    ``samples[w, p, r, t]``: width ``widths[w]``, parity ``parity[p]``,
    realization ``r``; ``mean``/``sem`` average over realizations (standard
    error ``std/√R``, ``ddof = 1``).  ``steady_fidelity[p]``: δ = 0 steady state.
    """
    N: int
    eta: float
    Gamma2: float
    widths: tuple
    parity: tuple
    tlist: np.ndarray
    samples: np.ndarray
    steady_fidelity: tuple
    final_states: list = field(repr=False, default_factory=list)

    @property
    def mean(self):
        return self.samples.mean(axis=2)

    @property
    def sem(self):
        R = self.samples.shape[2]
        if R < 2:
            return np.zeros_like(self.mean)
        return self.samples.std(axis=2, ddof=1) / np.sqrt(R)

    def plot(self, ax=None):
        import matplotlib.pyplot as plt
        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 3.8))
        styles = {1: ("tab:blue", "o", "even"), -1: ("tab:red", "s", "odd")}
        fills = ["full", "none", "left", "right"]
        t = self.tlist * self.Gamma2
        for w, width in enumerate(self.widths):
            for p, par in enumerate(self.parity):
                c, m, name = styles[par]
                every = max(1, len(t) // 25)
                ax.errorbar(t, self.mean[w, p], yerr=self.sem[w, p], color=c, marker=m,
                            fillstyle=fills[w % 4], markevery=every, errorevery=every, lw=1,
                            label=f"{name}, δ/Γ₂ = {width / self.Gamma2:g}")
        ax.set_xlabel(r"$\Gamma_2 t$")
        ax.set_ylabel(r"$\overline{F(t)}$")
        ax.set_title(f"N = {self.N}, η/Γ₂ = {self.eta / self.Gamma2:g}")
        ax.legend(fontsize=8)
        return ax


def _detuning_operator(N, detunings):
    sz = qutip.sigmaz()                          # |e⟩⟨e| − |g⟩⟨g| with |e⟩ = basis(2, 0)
    diag = np.zeros(2 ** N)
    for n, dlt in enumerate(detunings):
        ops = [qutip.qeye(2)] * N
        ops[n] = sz
        diag += 0.5 * dlt * np.real(qutip.tensor(ops).diag())
    return diag


@limited_blas
def cat_fidelity_dynamics(N=8, eta=0.2, Gamma2=1.0, widths=(1e-3, 1e-2), tlist=None,
                          realizations=10, seed=0, parity=(+1, -1), *, phase=0.0,
                          reduce_parity=True, keep_final=False, options=None):
    """Fidelity with the initial stabilised cat under eq. (1) with Gaussian detunings.

    Full tensor space (``2^N``): ``H`` and ``c_ops`` are the model's
    (:meth:`TwoBodyLossSpins.description` → ``hamiltonian()``, ``c_ops()``) plus
    ``½ Σ δ_i σ^z_i`` with ``δ_i ~ N(0, width²)`` drawn by
    :func:`sample_detunings` with seed ``[seed, r]`` for realization ``r`` (the
    same standard-normal draws for every width and parity).  The excitation
    parity is conserved (H and S_−² change it by 0 or 2), so with
    ``reduce_parity`` (default) :func:`qutip.mesolve` runs on the
    ``2^{N−1}``-dimensional parity subspace of the cat — exact.

    Returns
    -------
    CatFidelityResult
    """
    N, eta, Gamma2, phase = _check_model_args(N, eta, Gamma2, phase)
    if N > 12:
        raise ValueError(f"N = {N} is too large for the tensor space (N <= 12)")
    realizations = check_int("realizations", realizations, minimum=1)
    widths = tuple(check_rate("widths", w) for w in np.atleast_1d(widths))
    if not widths:
        raise ValueError("widths must not be empty")
    parity = tuple(np.atleast_1d(parity).tolist())
    if not parity or any(p not in (1, -1) for p in parity):
        raise ValueError(f"parity must be a sequence of +1/-1, got {parity!r}")
    tlist = np.linspace(0, 300 / Gamma2, 61) if tlist is None else _grid("tlist", tlist)
    opts = {"atol": 1e-10, "rtol": 1e-8, "nsteps": 100000, "store_states": False,
            "store_final_state": True}
    opts.update(options or {})

    model, _ = TwoBodyLossSpins(N, eta, Gamma2, phase=phase).description()
    H0 = model.hamiltonian().data.as_scipy().tocsr()          # keep everything sparse:
    C = [c.data.as_scipy().tocsr() for c in model.c_ops()]    # a dense 2^N Liouvillian is huge
    zs = [sample_detunings(N, 1.0, "gaussian", seed=[seed, r]) for r in range(realizations)]
    samples = np.zeros((len(widths), len(parity), realizations, len(tlist)))
    finals = []
    steady = []
    for p, par in enumerate(parity):
        cat = stabilised_cat(N, eta, Gamma2, phase, par, basis="full").full().ravel()
        sel = _parity_subspace(N, par) if reduce_parity else np.arange(2 ** N)
        c_ops = [qutip.Qobj(c[sel][:, sel]).to("csr") for c in C]
        psi0 = qutip.Qobj(cat[sel].reshape(-1, 1))
        proj = psi0 * psi0.dag()
        steady.append(fidelity(stabilised_cat(N, eta, Gamma2, phase, par),
                               manifold_steady_state(N, eta, Gamma2, phase,
                                                     initial=stabilised_cat(
                                                         N, eta, Gamma2, phase, par)).rho))
        for w, width in enumerate(widths):
            for r in range(realizations):
                diag = _detuning_operator(N, width * zs[r])
                H = qutip.Qobj(H0[sel][:, sel] + sp.diags(diag[sel])).to("csr")
                res = qutip.mesolve(H, psi0, tlist, c_ops, e_ops=[proj], options=opts)
                samples[w, p, r] = np.real(res.expect[0])
                if keep_final:
                    finals.append(((width, par, r), res.final_state))
    return CatFidelityResult(N, eta, Gamma2, widths, parity, tlist, samples, tuple(steady),
                             finals)
