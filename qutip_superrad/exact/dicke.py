"""Permutation-invariant Dicke basis with a cavity mode, per U(1) sector, in double precision.

For identical atoms with local processes the density matrix is block diagonal
in the total spin ``j`` (``j = N/2, N/2−1, …``), each block repeated ``d_j``
times.  We store the *degeneracy-weighted* elements

    σ_j(n m, n′ m′) = d_j ⟨n, j, m| ρ |n′, j, m′⟩

(``n`` photons, ``m`` the ``J_z`` eigenvalue), so that ``Tr ρ = Σ σ_j(nm, nm)``
and block weights stay O(1) even when ``d_j`` overflows a double (N ≳ 1000).
Only elements with a fixed excitation difference ``k = (n+m) − (n′+m′)`` are
built: the steady state lives in ``k = 0``, ``⟨a†(τ)a(0)⟩`` in ``k = −1``.

Local dissipators ``Σ_i A_i ρ A_i†`` move weight between neighbouring ``j``.
Their coefficients are derived by coupling the last spin to the other
``N−1`` (Clebsch–Gordan coefficients of ``j₁ ⊗ ½``)::

    σ′_{j′}(μ, μ′) += N Σ_{j₁} (d^{(N−1)}_{j₁} / d^{(N)}_j)
                      ⟨j′μ; j₁|A|j m; j₁⟩ ⟨j′μ′; j₁|A|j m′; j₁⟩ σ_j(m, m′)

which reproduces the formulas of Chase & Geremia (2008) and qutip.piqs
(Shammah et al. 2018) without their single-precision arithmetic.
"""
import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln

from .. import _validate as V
from ..results import EvolutionResult, SteadyStateResult
from ._common import (DEFAULT_MAX_MEMORY, check_steady_options as _check_steady_options,
                      check_truncation, propagate, qrt_spectrum, solve_steady)

__all__ = ["DickeSpace", "DickeState", "supports", "liouvillian", "steadystate", "evolve",
           "spectrum"]

_STEADY_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY, "strict": False,
                    "truncation_tol": 1e-6, "check_positivity": True}
_SPECTRUM_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY, "strict": False,
                      "truncation_tol": 1e-6}
_EVOLVE_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY}


def log_degeneracy(N, j):
    """``log d_j`` with ``d_j = (2j+1) N! / ((N/2+j+1)! (N/2−j)!)`` (multiplicity of spin j)."""
    j = np.asarray(j, float)
    return (np.log(2 * j + 1) + gammaln(N + 1) - gammaln(N / 2 + j + 2) - gammaln(N / 2 - j + 1))


def _cg(j1, J, M, s):
    """Clebsch–Gordan ``⟨j₁, M−s; ½, s | J, M⟩`` for ``J = j₁ ± ½`` (arrays)."""
    up = s > 0
    with np.errstate(invalid="ignore", divide="ignore"):     # j1 < 0 is masked below
        plus = np.sqrt(np.clip((j1 + M + 0.5) / (2 * j1 + 1), 0, None))
        minus = np.sqrt(np.clip((j1 - M + 0.5) / (2 * j1 + 1), 0, None))
    high = J > j1      # J = j1 + 1/2
    val = np.where(high, np.where(up, plus, minus), np.where(up, -minus, plus))
    valid = (np.abs(M - s) <= j1 + 1e-9) & (np.abs(M) <= J + 1e-9) & (j1 >= 0)
    return np.where(valid, val, 0.0)


class DickeSpace:
    """Index of the block-diagonal Dicke elements ⊗ Fock elements of one U(1) sector.

    Parameters
    ----------
    N : int
        Number of atoms.
    nphot : int
        Fock states of the mode (1 for a model without a mode).
    sector : int
        Excitation difference ``k = (n + m) − (n′ + m′)``.

    Attributes
    ----------
    jj, n, e, n2, e2 : ndarray of int
        For every element: ``jj = N/2 − j``, photon numbers ``n, n′`` and
        excitation numbers ``e = m + N/2``, ``e′ = m′ + N/2`` of ket and bra.
    """

    def __init__(self, N, nphot, sector):
        self.N, self.nphot, self.sector = int(N), int(nphot), int(sector)
        N, P, k = self.N, self.nphot, self.sector
        parts = []
        for jj in range(N // 2 + 1):
            n, e, n2 = np.meshgrid(np.arange(P), np.arange(jj, N - jj + 1), np.arange(P),
                                   indexing="ij")
            e2 = n + e - n2 - k
            ok = (e2 >= jj) & (e2 <= N - jj)
            parts.append(np.stack([np.full(ok.sum(), jj), n[ok], e[ok], n2[ok], e2[ok]]))
        self.jj, self.n, self.e, self.n2, self.e2 = np.concatenate(parts, axis=1).astype(np.int64)
        self.keys = self._key(self.jj, self.n, self.e, self.n2, self.e2)
        assert np.all(np.diff(self.keys) > 0)

    @staticmethod
    def size_estimate(N, nphot, sector):
        """Number of elements of a sector, counted without building it."""
        total = 0
        for jj in range(N // 2 + 1):
            width = N - 2 * jj + 1
            d = np.arange(nphot)[:, None] - np.arange(nphot)[None, :] - sector   # e2 - e = n - n2 - k
            total += int(np.clip(width - np.abs(d), 0, None).sum())
        return total

    def _key(self, jj, n, e, n2, e2):
        P, E = self.nphot, self.N + 1
        return (((jj * P + n) * E + e) * P + n2) * E + e2

    @property
    def dim(self):
        """Number of elements in the sector."""
        return self.keys.size

    def index(self, jj, n, e, n2, e2):
        """Positions of the given elements (``-1`` where an element is not in the sector)."""
        ok = ((jj >= 0) & (2 * jj <= self.N) & (n >= 0) & (n < self.nphot) & (n2 >= 0)
              & (n2 < self.nphot) & (e >= jj) & (e <= self.N - jj) & (e2 >= jj) & (e2 <= self.N - jj))
        key = self._key(jj, n, e, n2, e2)
        pos = np.searchsorted(self.keys, key)
        pos = np.minimum(pos, self.dim - 1)
        ok &= self.keys[pos] == key
        return np.where(ok, pos, -1)

    @property
    def diagonal(self):
        """Mask of the population elements (ket = bra)."""
        return (self.n == self.n2) & (self.e == self.e2)

    def jpjm(self, e, jj=None):
        """Eigenvalue ``(j+m)(j−m+1)`` of ``J⁺J⁻`` for excitation ``e`` (default: all elements' ``jj``)."""
        jj = self.jj if jj is None else jj
        return (e - jj) * (self.N - jj - e + 1.0)

    def jmjp(self, e, jj=None):
        """Eigenvalue ``(j−m)(j+m+1)`` of ``J⁻J⁺`` for excitation ``e``."""
        jj = self.jj if jj is None else jj
        return (self.N - jj - e) * (e - jj + 1.0)


class _Builder:
    """Accumulates COO triplets ``d target / dt += value · source``."""

    def __init__(self, space):
        self.space, self.rows, self.cols, self.vals = space, [], [], []

    def add(self, src, target, value):
        value = np.broadcast_to(np.asarray(value, complex), src.shape)
        ok = (target >= 0) & (value != 0)
        self.rows.append(target[ok])
        self.cols.append(src[ok])
        self.vals.append(value[ok])

    def matrix(self):
        n = self.space.dim
        if not self.rows:
            return sp.csr_matrix((n, n), dtype=complex)
        return sp.csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows),
                              np.concatenate(self.cols))), shape=(n, n))


def _rates(model):
    """The model's processes in Dicke language (identical atoms)."""
    ens = model.ensemble
    out = dict(N=int(round(ens.N)), delta=float(ens.detunings[0]), gamma=model.gamma,
               pump=model.pump, nu=model.atom_dephasing)
    if model.has_mode:
        out.update(g=float(ens.couplings[0]), kappa=model.kappa, xi=model.cavity_dephasing,
                   delta_c=model.cavity_detuning, gc=0.0, chi=0.0)
    else:
        out.update(g=0.0, kappa=0.0, xi=0.0, delta_c=0.0, gc=model.collective_decay,
                   chi=model.collective_shift)
    return out


def _local_jumps(space, b, rate, s, s2):
    """``rate · Σ_i A_i ρ A_i†`` with ``A = |s2⟩⟨s|`` (s = ±½ spin projections)."""
    if rate == 0:
        return
    N = space.N
    src = np.arange(space.dim)
    j = N / 2 - space.jj
    m, m2 = space.e - N / 2, space.e2 - N / 2
    logd = log_degeneracy(N, j)
    for dj1 in (0.5, -0.5):
        j1 = j + dj1
        ok1 = (j1 >= 0) & (j1 <= (N - 1) / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(ok1, np.exp(log_degeneracy(N - 1, np.where(ok1, j1, 0)) - logd), 0.0)
        for dj2 in (0.5, -0.5):
            jp = j1 + dj2
            mu, mu2 = m - s + s2, m2 - s + s2
            val = (rate * N * ratio * _cg(j1, j, m, s) * _cg(j1, jp, mu, s2)
                   * _cg(j1, j, m2, s) * _cg(j1, jp, mu2, s2))
            val = np.where(ok1 & (jp >= 0) & (jp <= N / 2), val, 0.0)
            jjp = np.rint(N / 2 - jp).astype(np.int64)
            tgt = space.index(jjp, space.n, np.rint(mu + N / 2).astype(np.int64), space.n2,
                              np.rint(mu2 + N / 2).astype(np.int64))
            b.add(src, tgt, val)


def build_liouvillian(space, p):
    """Sparse Liouvillian of one sector for the rates ``p`` (see :func:`_rates`).

    Keys of ``p``: ``N``, ``delta`` (−Δ Σσ⁺σ⁻), ``gamma``, ``pump``, ``nu`` (local
    D[σ⁻], D[σ⁺], D[σ⁺σ⁻]), ``g``, ``kappa``, ``xi``, ``delta_c`` (mode), ``gc``
    (collective decay D[J⁻]), ``chi`` (−χJ⁺J⁻), optional ``wc`` (collective pump D[J⁺]).
    """
    b = _Builder(space)
    src = np.arange(space.dim)
    n, n2, e, e2, N = space.n, space.n2, space.e, space.e2, space.N

    def energy(nn, ee):
        return p["delta_c"] * nn - p["delta"] * ee - p["chi"] * space.jpjm(ee)

    diag = (-1j * (energy(n, e) - energy(n2, e2))
            - 0.5 * p["kappa"] * (n + n2) - 0.5 * p["xi"] * (n - n2) ** 2
            - 0.5 * (p["gamma"] + p["nu"]) * (e + e2) - 0.5 * p["pump"] * (2 * N - e - e2)
            - 0.5 * p["gc"] * (space.jpjm(e) + space.jpjm(e2))
            - 0.5 * p.get("wc", 0.0) * (space.jmjp(e) + space.jmjp(e2)))
    b.add(src, src, diag)
    g = p["g"]
    if g:
        # −i g (a J⁺ + a† J⁻) ρ  and  + i g ρ (a J⁺ + a† J⁻)
        c_up = g * np.sqrt(n * space.jmjp(e))                 # a J⁺ on the ket
        c_dn = g * np.sqrt((n + 1) * space.jpjm(e))           # a† J⁻ on the ket
        b.add(src, space.index(space.jj, n - 1, e + 1, n2, e2), -1j * c_up)
        b.add(src, space.index(space.jj, n + 1, e - 1, n2, e2), -1j * c_dn)
        c_up2 = g * np.sqrt(n2 * space.jmjp(e2))
        c_dn2 = g * np.sqrt((n2 + 1) * space.jpjm(e2))
        b.add(src, space.index(space.jj, n, e, n2 - 1, e2 + 1), 1j * c_up2)
        b.add(src, space.index(space.jj, n, e, n2 + 1, e2 - 1), 1j * c_dn2)
    if p["kappa"]:
        b.add(src, space.index(space.jj, n - 1, e, n2 - 1, e2), p["kappa"] * np.sqrt(n * n2))
    if p["gc"]:
        b.add(src, space.index(space.jj, n, e - 1, n2, e2 - 1),
              p["gc"] * np.sqrt(space.jpjm(e) * space.jpjm(e2)))
    if p.get("wc", 0.0):                                   # collective pump w D[J⁺]
        b.add(src, space.index(space.jj, n, e + 1, n2, e2 + 1),
              p["wc"] * np.sqrt(space.jmjp(e) * space.jmjp(e2)))
    _local_jumps(space, b, p["gamma"], +0.5, -0.5)     # σ⁻
    _local_jumps(space, b, p["pump"], -0.5, +0.5)      # σ⁺
    _local_jumps(space, b, p["nu"], +0.5, +0.5)        # σ⁺σ⁻
    return b.matrix()


def supports(model):
    """Raise ``ValueError`` unless the model has identical atoms and an integer N."""
    ens = model.ensemble
    if not ens.is_identical:
        raise ValueError("method='dicke' needs identical atoms (one detuning and one coupling); "
                         "use method='full' for distinct atoms or method='cumulant' for clusters")
    if not ens.is_integer:
        raise ValueError(f"method='dicke' needs an integer number of atoms, got N={ens.N:g}")


def _memory_estimate(N, nphot, sector, p):
    dim = DickeSpace.size_estimate(N, nphot, sector)
    n_local = sum(bool(p[k]) for k in ("gamma", "pump", "nu"))
    per_row = 2 + 4 * bool(p["g"]) + bool(p["kappa"]) + bool(p["gc"]) + 4 * n_local
    # triplets (16+8+8 B) while assembling, CSR + LU fill-in (empirically ≲ 40× nnz)
    return dim, dim * per_row * 32 * 2 + dim * per_row * 16 * 40


def _space(model, opts, sector):
    p = _rates(model)
    nphot = V.check_int("nphot", opts["nphot"], minimum=2) if model.has_mode else 1
    dim, need = _memory_estimate(p["N"], nphot, sector, p)
    V.check_memory(need, opts["max_memory"], f"the Dicke-basis Liouvillian (sector k={sector}, {dim} elements)")
    return DickeSpace(p["N"], nphot, sector), p


def liouvillian(model, options, sector=0):
    """The sector Liouvillian as a Qobj acting on the weighted Dicke elements.

    See :class:`DickeSpace` for the ordering of the elements.
    """
    import qutip
    opts = V.check_options(options, _EVOLVE_DEFAULTS, "liouvillian(method='dicke')")
    space, p = _space(model, opts, sector)
    return qutip.Qobj(build_liouvillian(space, p), dims=[[space.dim], [space.dim]])


class DickeState:
    """A steady state in the weighted Dicke representation (sector k=0).

    Attributes
    ----------
    space : DickeSpace
    vector : ndarray
        Weighted elements ``σ_j(nm, n′m′)``.
    """

    def __init__(self, space, vector):
        self.space, self.vector = space, vector

    def block(self, j):
        """Dense matrix ``σ_j`` of spin ``j`` on ``(n, m)`` ⊗ ``(n′, m′)`` (weights included)."""
        s = self.space
        jj = int(round(s.N / 2 - j))
        sel = s.jj == jj
        size = s.nphot * (s.N - 2 * jj + 1)
        out = np.zeros((size, size), complex)
        W = s.N - 2 * jj + 1
        out[s.n[sel] * W + s.e[sel] - jj, s.n2[sel] * W + s.e2[sel] - jj] = self.vector[sel]
        return out

    def expect_diagonal(self, values):
        """``Σ values · σ`` over population elements (for operators diagonal in n, j, m)."""
        d = self.space.diagonal
        return float(np.real(np.sum(values[d] * self.vector[d])))


def _observables(space, x, model, opts):
    N = space.N
    state = DickeState(space, x)
    d = space.diagonal
    pop = x[d].real
    n, e, jj = space.n[d], space.e[d], space.jj[d]
    jpjm = space.jpjm(e, jj)
    sum_exc = float(np.sum(e * pop))
    JpJm = float(np.sum(jpjm * pop))
    checks = {}
    # Hermiticity: σ(nm, n′m′) = conj σ(n′m′, nm)
    swap = space.index(space.jj, space.n2, space.e2, space.n, space.e)
    checks["trace"] = float(np.sum(pop))
    checks["hermiticity"] = float(np.max(np.abs(x - np.conj(x[swap])))) if x.size else 0.0
    if opts.get("check_positivity", True):
        checks["min_eigenvalue"] = _min_eigenvalue(state)
    exc_pop = sum_exc / N
    pair = (JpJm - sum_exc) / (N * (N - 1)) if N > 1 else 0.0
    if model.has_mode:
        P = space.nphot
        pn = np.bincount(n, weights=pop, minlength=P)
        mean_n = float(np.sum(np.arange(P) * pn))
        nn = float(np.sum(np.arange(P) * (np.arange(P) - 1) * pn))
        checks["truncation"] = check_truncation(pn, P, opts["truncation_tol"], opts["strict"], mean_n)
        flux, g2 = model.kappa * mean_n, nn / mean_n ** 2 if mean_n > 0 else float("nan")
    else:
        pn, mean_n = None, None
        flux = model.collective_decay * JpJm
        # ⟨J⁺J⁺J⁻J⁻⟩ = Σ (j+m)(j−m+1)(j+m−1)(j−m+2) p
        four = jpjm * (e - 1 - jj) * (N - jj - e + 2.0)
        g2 = float(np.sum(four * pop)) / JpJm ** 2 if JpJm > 0 else float("nan")
        mean_n = flux / model.kappa if model.kappa else float("nan")
    return SteadyStateResult(method="dicke", photon_number=mean_n,
                             excited_population=np.array([exc_pop]),
                             pair_correlation=np.array([[pair]], complex), photon_flux=flux,
                             g2=g2, photon_distribution=pn, checks=checks, state=state,
                             model=model)


def _min_eigenvalue(state):
    """Smallest eigenvalue over the blocks ``σ_j`` (each block split by excitation number)."""
    s = state.space
    worst = np.inf
    for jj in np.unique(s.jj):
        sel = np.flatnonzero(s.jj == jj)
        tot = s.n[sel] + s.e[sel]            # ket excitation: the k=0 blocks decouple in it
        for t in np.unique(tot):
            idx = sel[tot == t]
            kets = np.unique(s.n[idx])
            pos = {v: i for i, v in enumerate(kets)}
            M = np.zeros((kets.size, kets.size), complex)
            M[[pos[v] for v in s.n[idx]], [pos[v] for v in s.n2[idx]]] = state.vector[idx]
            worst = min(worst, float(np.linalg.eigvalsh(0.5 * (M + M.conj().T))[0]))
    return worst


def _pivot_guess(space, p):
    """Candidate pivots: a population of independent atoms without photons, then the extremes.

    Atoms excited with probability ``P = R/(R+Γ)`` have ``e ≈ NP`` and a total
    spin ``j ≈ max(N|2P−1|/2, √(NP(1−P)))``; the solver switches pivots by
    itself if this guess is poor.
    """
    N = space.N
    rate = p["pump"] + p["gamma"]
    prob = p["pump"] / rate if rate > 0 else 0.0
    j = max(N * abs(2 * prob - 1) / 2, np.sqrt(N * prob * (1 - prob)))
    jj = int(np.clip(round(N / 2 - j), 0, N // 2))
    e = int(np.clip(round(N * prob), jj, N - jj))
    z = np.zeros(3, np.int64)
    jjs, es = np.array([jj, 0, 0]), np.array([e, 0, N])      # guess, ground, all excited
    return space.index(jjs, z, es, z, es)


def steadystate(model, options):
    """Exact steady state in the Dicke basis (sector k = 0).

    Options
    -------
    nphot : int, default 10
        Fock states of the mode (ignored without a mode).
    max_memory : float, default 8 GiB
        Refuse (before allocating) when the estimated memory exceeds it.
    strict : bool, default False
        Raise instead of warning when the photon space is truncated.
    truncation_tol : float, default 1e-6
        Allowed population of the top Fock state.
    check_positivity : bool, default True
        Compute the smallest eigenvalue of every block.
    """
    opts = _check_steady_options(options, _STEADY_DEFAULTS, "steadystate(method='dicke')")
    space, p = _space(model, opts, 0)
    L = build_liouvillian(space, p)
    swap = space.index(space.jj, space.n2, space.e2, space.n, space.e)
    x, residual, info = solve_steady(L, space.diagonal.astype(float), pivots=_pivot_guess(space, p),
                                     near=np.abs(space.n - space.n2) <= 1 if model.has_mode else None,
                                     swap=swap)
    res = _observables(space, x, model, opts)
    res.checks["residual"] = residual
    res.checks["solver"] = info
    res.checks["dimension"] = space.dim
    return res


def _ground(space):
    x = np.zeros(space.dim, complex)
    x[space.index(np.array([0]), np.array([0]), np.array([0]), np.array([0]), np.array([0]))] = 1.0
    return x


def evolve(model, tlist, initial, options):
    """Exact evolution in the Dicke basis from the ground state (all atoms in ``|g⟩``, vacuum).

    ``initial`` may be a :class:`DickeState` (e.g. a previous steady state).
    """
    tlist = V.check_grid("tlist", tlist)
    opts = V.check_options(options, _EVOLVE_DEFAULTS, "evolve(method='dicke')")
    space, p = _space(model, opts, 0)
    L = build_liouvillian(space, p)
    if initial is None:
        x0 = _ground(space)
    elif isinstance(initial, DickeState):
        s0 = initial.space
        if (s0.N, s0.nphot, s0.sector) != (space.N, space.nphot, space.sector):
            raise ValueError(f"initial state has N={s0.N}, nphot={s0.nphot}, sector={s0.sector}; "
                             f"the model needs N={space.N}, nphot={space.nphot}, sector=0")
        x0 = initial.vector
    else:
        raise TypeError("initial must be None or a DickeState")
    xs = propagate(L, x0, tlist)
    d = space.diagonal
    N = space.N
    pops = xs[:, d].real
    exc = pops @ space.e[d] / N
    jpjm = pops @ space.jpjm(space.e[d], space.jj[d])
    pair = (jpjm - exc * N) / (N * (N - 1)) if N > 1 else np.zeros_like(exc)
    photons = pops @ space.n[d] if model.has_mode else jpjm * model.collective_decay / (model.kappa or np.nan)
    return EvolutionResult(times=tlist, photon_number=photons, excited_population=exc[:, None],
                           pair_correlation=pair[:, None, None].astype(complex), method="dicke",
                           states=[DickeState(space, x) for x in xs])


def spectrum(model, omega, options):
    """Exact emission spectrum by the quantum regression theorem on sector k = −1.

    ``g⁽¹⁾(τ) = Tr[a† e^{Lτ}(aρ)]`` with a mode, ``Tr[J⁺ e^{Lτ}(J⁻ρ)]`` without.
    Options as for :func:`steadystate`.
    """
    omega = V.check_grid("omega", omega)
    opts = _check_steady_options(options, _SPECTRUM_DEFAULTS, "spectrum(method='dicke')")
    ss = steadystate(model, dict(opts, check_positivity=False))
    s0, x = ss.state.space, ss.state.vector
    space, p = _space(model, opts, -1)
    L = build_liouvillian(space, p)
    v = np.zeros(space.dim, complex)
    w = np.zeros(space.dim, complex)
    if model.has_mode:
        # (aρ): ket n → n−1 with √n ;  Tr(a† X) = Σ X(n m, n+1 m) √(n+1)
        v_idx = space.index(s0.jj, s0.n - 1, s0.e, s0.n2, s0.e2)
        ok = v_idx >= 0
        np.add.at(v, v_idx[ok], np.sqrt(s0.n[ok]) * x[ok])
        sel = (space.n2 == space.n + 1) & (space.e2 == space.e)
        w[sel] = np.sqrt(space.n[sel] + 1.0)
    else:
        v_idx = space.index(s0.jj, s0.n, s0.e - 1, s0.n2, s0.e2)
        ok = v_idx >= 0
        np.add.at(v, v_idx[ok], np.sqrt(s0.jpjm(s0.e[ok], s0.jj[ok])) * x[ok])
        sel = (space.e2 == space.e + 1) & (space.n2 == space.n)
        w[sel] = np.sqrt(space.jmjp(space.e[sel], space.jj[sel]))
    res = qrt_spectrum(L, v, w, omega, "dicke", {"steady_state": ss.checks})
    res.checks["g1_0"] = float(np.real(w @ v))
    res.steady_state = ss
    return res
