r"""The driven-dissipative spin model of the spin-cat seed (its eqs. 1–2).

N two-level spins (``σ_z = |e⟩⟨e| − |g⟩⟨g|``, ``S_± = Σ_i σ^±_i``), ħ = 1::

    H = ½ Σ_i δ_i σ^z_i + (η/N)(e^{iφ} S_−² + e^{−iφ} S_+²)
    dρ/dt = −i[H, ρ] + (Γ_2/N²) D[S_−²]ρ

With all ``δ_i = 0`` the dynamics stays in each total-spin block; from a
symmetric state it is the symmetric manifold ``j = N/2`` (Holstein–Primakoff
boson ``S_− = √(N − a†a) a``), whose steady states near ``±α``,
``α = √(2η/Γ_2) e^{−i(φ/2 + π/4)}``, are spin coherent states; their even/odd
superpositions are the spin cats.  Inhomogeneous detunings ``δ_i`` break the
permutation symmetry.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..._validate import check_int, check_rate, check_real, real_array

__all__ = ["TwoBodyLossSpins", "sample_detunings"]


def stabilised_amplitude(eta, Gamma2, phase=0.0):
    """``α = √(2η/Γ_2) e^{−i(φ/2 + π/4)}``: the coherent states ``±α`` the bosonic model
    (eqs. 3–4) stabilises (unchecked; :attr:`TwoBodyLossSpins.alpha` checks)."""
    return np.sqrt(2 * eta / Gamma2) * np.exp(-1j * (phase / 2 + np.pi / 4))


def sample_detunings(N, width, distribution="gaussian", seed=None):
    """Detunings ``δ_i`` of N spins: ``"gaussian"`` (N(0, width²), the paper's Fig. 1–2),
    ``"lorentzian"`` (half width ``width``), ``"uniform"`` (in ``[−width, width]``) or
    ``"two-groups"`` (``+width`` for the first N/2 spins, ``−width`` for the rest; N even).
    """
    N = check_int("N", N, minimum=1)
    width = check_rate("width", width)
    rng = np.random.default_rng(seed)
    if distribution == "gaussian":
        return rng.normal(0.0, width, N)
    if distribution == "lorentzian":
        return width * np.tan(np.pi * (rng.uniform(size=N) - 0.5))
    if distribution == "uniform":
        return rng.uniform(-width, width, N)
    if distribution == "two-groups":
        if N % 2:
            raise ValueError(f"two sub-ensembles ±δ need an even N, got N = {N}")
        return np.concatenate([np.full(N // 2, width), np.full(N // 2, -width)])
    raise ValueError("distribution must be 'gaussian', 'lorentzian', 'uniform' or 'two-groups', "
                     f"got {distribution!r}")


class TwoBodyLossSpins:
    r"""N spins with a collective squeezing drive and collective two-body loss.

    Parameters
    ----------
    N : int
        Number of spins (>= 1).
    eta : float
        Squeezing strength ``η >= 0``.
    Gamma2 : float
        Two-body loss rate ``Γ_2 >= 0`` (of ``(Γ_2/N²) D[S_−²]``).
    phase : float
        Squeezing phase ``φ``.
    detunings : float or array_like, shape (N,)
        ``δ_i`` (default 0: identical spins); see :func:`sample_detunings`.

    Notes
    -----
    :meth:`description` is the model as a :class:`~qutip_superrad.Model`:
    one :class:`Clusters` of identical spins when all ``δ_i`` are equal
    (``manifold``, ``dicke``, ``meanfield``, ``cumulant`` for any N), explicit
    spins otherwise (``full`` for N ≤ 10).
    """

    def __init__(self, N, eta, Gamma2=1.0, *, phase=0.0, detunings=0.0):
        self.N = check_int("N", N, minimum=1)
        self.eta = check_rate("eta", eta)
        self.Gamma2 = check_rate("Gamma2", Gamma2)
        self.phase = check_real("phase", phase)
        if isinstance(detunings, numbers.Real) and not isinstance(detunings, bool):
            det = np.full(self.N, check_real("detunings", detunings))
        else:
            det = real_array("detunings", detunings)
        if det.shape != (self.N,):
            raise ValueError(f"detunings must be a number or have shape ({self.N},), "
                             f"got {det.shape}")
        if not np.all(np.isfinite(det)):
            raise ValueError("detunings must be finite (no NaN or inf)")
        self.detunings = det
        self._cache = {}

    @property
    def identical(self):
        """True if all spins have the same detuning (permutation symmetry)."""
        return bool(np.ptp(self.detunings) == 0)

    @property
    def alpha(self):
        """Bosonic steady-state amplitude ``√(2η/Γ_2) e^{−i(φ/2 + π/4)}`` (eq. 4 model)."""
        if self.Gamma2 == 0:
            raise ValueError("alpha needs Gamma2 > 0")
        return stabilised_amplitude(self.eta, self.Gamma2, self.phase)

    def with_detunings(self, detunings):
        """The same spins with other detunings."""
        return TwoBodyLossSpins(self.N, self.eta, self.Gamma2, phase=self.phase,
                                detunings=detunings)

    def __repr__(self):
        return (f"TwoBodyLossSpins(N={self.N}, eta={self.eta:.4g}, Gamma2={self.Gamma2:.4g}, "
                f"phase={self.phase:.4g}, {'identical' if self.identical else 'detuned'})")

    def steadystate(self, method: str = "manifold", *, e_ops=None, options: dict | None = None,
                    **kwargs):
        """Steady state of :meth:`description` by :func:`qutip_superrad.steadystate`.

        Parameters
        ----------
        method : {"manifold", "meanfield", "cumulant", "full"}
            ``"manifold"`` (identical spins: the symmetric block ``j = N/2``; without
            detunings and ``e_ops`` the state reached from the ground state, by
            :func:`~qutip_superrad.models.spin_cats.manifold_steady_state`, options
            ``t_obs``, ``tol``, ``check_gap``), ``"meanfield"`` / ``"cumulant"`` (identical spins, any N),
            ``"full"`` (tensor space, N ≲ 10, also detuned spins).  ``"dicke"`` refuses:
            without local processes the total spin is conserved.  The pair of cat states
            ``±α`` is metastable; :func:`~qutip_superrad.models.spin_cats.manifold_steady_state`
            resolves the state reached from a given initial state.
        e_ops : dict, optional
            ``{name: operator}`` (default ``"Sp"``, ``"Sm"``, ``"Sz"``, ``"SpSm"`` of
            :meth:`description`).
        options : dict, optional
            Options of the method (also as keywords; unknown keys raise ``ValueError``).

        Returns
        -------
        Result
            ``values["Sz"]`` (``⟨S_z⟩``, ``S_z = Σσ_z/2``), ``values["SpSm"]`` (``⟨S₊S₋⟩``),
            ``values["Sp"]``, ``values["Sm"]``.
        """
        from ...solvers import steadystate
        model, ops = self.description()
        if (method == "manifold" and e_ops is None and self.identical
                and self.detunings[0] == 0):
            return self._manifold_steadystate(model, dict(options or {}, **kwargs))
        if e_ops is None:
            e_ops = {k: v for k, v in ops.items() if k != "spins"}
        return steadystate(model, method, e_ops=e_ops, options=options, **kwargs)

    def _manifold_steadystate(self, model, options):
        """The state reached from the ground state |j, −j⟩ (the manifold's steady state is
        not unique: each parity sector, and for N = 2 the dark |1, 0⟩, is stationary)."""
        import qutip

        from ...results import Result
        from ..._validate import check_options
        from .exact import manifold_steady_state
        opts = check_options(options, {"t_obs": None, "tol": 1e-10, "check_gap": True},
                             "TwoBodyLossSpins.steadystate(method='manifold')")
        N = self.N
        ss = manifold_steady_state(N, self.eta, self.Gamma2, self.phase,
                                   initial=qutip.basis(N + 1, N), **opts)
        Jp, Jz = qutip.jmat(N / 2, "+"), qutip.jmat(N / 2, "z")
        values = {"Sp": qutip.expect(Jp, ss.rho), "Sm": qutip.expect(Jp.dag(), ss.rho),
                  "Sz": float(qutip.expect(Jz, ss.rho)),
                  "SpSm": float(qutip.expect(Jp * Jp.dag(), ss.rho))}
        return Result("manifold", model, state=ss.rho, values=values,
                      checks={"trace": float(ss.rho.tr().real),
                              "route": "spectral projection from the ground state "
                                       "(spin_cats.manifold_steady_state)",
                              "parity_weights": ss.parity_weights})

    def description(self):
        """``(model, observables)``: the :class:`~qutip_superrad.Model` and ``{"Sp", "Sm",
        "Sz", "SpSm"}`` (``S_z = Σσ_z/2``)."""
        if "description" not in self._cache:
            self._cache["description"] = (self._clustered() if self.identical
                                          else self._explicit())
        return self._cache["description"]

    def _values(self):
        c, s = np.cos(self.phase), np.sin(self.phase)
        return dict(eta_c=self.eta * c / self.N, eta_s=self.eta * s / self.N,
                    loss=self.Gamma2 / self.N ** 2)

    def _clustered(self):
        from ...cumulant.engine.algebra import parameters
        from ...cumulant.engine.clusters import Clusters
        from ...model import Model
        atoms = Clusters("s")
        s = atoms.atom
        ec, es, loss, d = parameters("eta_c eta_s loss delta")
        Sm, Sp = atoms.sum(s.sm), atoms.sum(s.sp)
        # (η/N)(e^{iφ}S−² + e^{−iφ}S+²) = ηc (S−² + S+²) + i ηs (S−² − S+²)
        H = ec * (Sm * Sm + Sp * Sp) + 1j * es * (Sm * Sm - Sp * Sp) + d * atoms.sum(0.5 * s.sz)
        model = Model(H, [(loss, Sm * Sm)], parameters=dict(self._values(),
                                                            delta=float(self.detunings[0])),
                      N=self.N, name="two-body loss spins")
        return model, {"Sp": Sp, "Sm": Sm, "Sz": atoms.sum(0.5 * s.sz), "SpSm": Sp * Sm}

    def _explicit(self):
        from ...cumulant.engine.algebra import Atom, parameters
        from ...model import Model
        spins = [Atom(f"s{i}", 2) for i in range(self.N)]
        ec, es, loss = parameters("eta_c eta_s loss")
        Sm = sum((a.sm for a in spins[1:]), spins[0].sm)
        Sp = sum((a.sp for a in spins[1:]), spins[0].sp)
        Sz = sum((0.5 * a.sz for a in spins[1:]), 0.5 * spins[0].sz)
        H = ec * (Sm * Sm + Sp * Sp) + 1j * es * (Sm * Sm - Sp * Sp)
        for a, d in zip(spins, self.detunings):
            if d != 0:
                H = H + (0.5 * float(d)) * a.sz
        model = Model(H, [(loss, Sm * Sm)], parameters=self._values(), name="two-body loss spins")
        return model, {"Sp": Sp, "Sm": Sm, "Sz": Sz, "SpSm": Sp * Sm, "spins": spins}
