r"""Exact solver in the permutation-invariant Dicke basis ⊗ Fock modes, for any model of
identical two-level atoms.

Representation
    For ``N`` identical atoms with local processes the density matrix is
    block diagonal in the total spin ``j`` (``j = N/2, N/2−1, …``), each block
    repeated ``d_j`` times.  We store the *degeneracy-weighted* elements

        σ_j(n e, n′ e′) = d_j ⟨n, j, m| ρ |n′, j, m′⟩

    (``n`` the photon numbers of all modes, ``m`` the ``J_z`` eigenvalue,
    ``e = m + N/2`` the atomic excitation), so that ``Tr ρ = Σ σ_j(n e, n e)``
    and the block weights stay O(1) even when ``d_j`` overflows a double
    (N ≳ 1000; :func:`log_degeneracy`).  When the model conserves the
    excitation difference between ket and bra (U(1) or parity,
    :attr:`Model.symmetry`) only the elements of one sector are built: the
    steady state lives in ``k = 0``, ``⟨a†(τ)a(0)⟩`` in ``k = −1``.
Operators
    Every collective operator of a two-level :class:`Clusters` model is a
    polynomial in ``J_ij = Σ_a σ^a_ij`` (``J⁺ = J_21``, ``J⁻ = J_12``,
    ``J_22 = J_z + N/2``) and mode operators ``a†^p a^q``.  Each monomial (a
    *word*) maps a basis state to one basis state with a coefficient, so the
    Liouvillian of any Hamiltonian and collective jump is assembled element
    by element without building operator matrices.
Local processes
    Local dissipators ``Σ_a A_a ρ A_a†`` (any single-atom ``A``) move weight
    between neighbouring ``j``.  Their coefficients are derived by coupling
    the last spin to the other ``N−1`` (Clebsch–Gordan coefficients of
    ``j₁ ⊗ ½``, :func:`_cg`)::

        σ′_{j′}(μ, μ′) += N Σ_{j₁} (d^{(N−1)}_{j₁} / d^{(N)}_j)
                          ⟨j′μ; j₁|A|j m; j₁⟩ ⟨j′μ′; j₁|A|j m′; j₁⟩ σ_j(m, m′)

    which reproduces the formulas of Chase & Geremia (2008) and qutip.piqs
    (Shammah et al. 2018) without their single-precision arithmetic;
    ``Σ_a A_a† A_a`` is again collective (a word).
Manifold
    Without local jumps the symmetric block ``j = N/2`` is invariant: the
    ``manifold`` method is this module restricted to that block.
"""
from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import gammaln

from .. import _validate as V
from ..cumulant.engine.algebra import Operator
from ..cumulant.engine.algebra import Mode
from ..cumulant.engine.clusters import ClusterAtom, ClusterMode, IndexedOperator, Modes
from .._progress import Progress
from ..exact._common import (DEFAULT_MAX_MEMORY, EVOLVE_OPTIONS, STEADY_OPTIONS,
                             TruncationWarning, check_evolve_options, check_smoother,
                             check_steady_options,
                             check_truncation, propagate, qrt_spectrum, solve_steady)
from ..results import Result, TimeResult, normalise_e_ops
from ._shared import physical_or_raise, solve_unique, unique_or_raise
from ..states import dicke_index, dicke_to_full, full_to_dicke, num_dicke_states, parse_initial

__all__ = ["supports", "estimate", "steadystate", "evolve", "spectrum", "correlation",
           "correlation_function",
           "DickeFockSpace",
           "DickeFockState", "words", "liouvillian"]

NAME = "dicke"
EXACT = True
_DEFAULTS = {"nphot": 10, "jmax": None, "max_memory": DEFAULT_MAX_MEMORY, **STEADY_OPTIONS,
             "linear_solver": "auto", "smoother": "auto"}
_EVOLVE_DEFAULTS = {"nphot": 10, "jmax": None, "max_memory": DEFAULT_MAX_MEMORY,
                    **EVOLVE_OPTIONS}
#: sector size above which ``linear_solver="auto"`` goes iterative (one cluster; several
#: clusters fill a sector LU far more — 54 s direct against 5 s iterative at N = [5, 5],
#: 17 644 elements — and go iterative beyond a tenth of it)
DIRECT_LIMIT = 20000
#: the same without bosonic modes (bad cavity, cavity eliminated): the blocks of one cluster
#: are thin and fill little, so the direct LU stays cheaper — N = 1000, 251 001 elements:
#: LU 4.9 s of CPU against 13.4 s for the aggregation GMRES (350 iterations), and 31 s
#: against 83 s with the spectrum (issue 11)
DIRECT_LIMIT_SPINS = 300000
#: excitation numbers ``n + e`` per slab of the smoother ``"excitation"`` (decision 41;
#: laser C = 4, N = 50: 42, 33, 25 iterations and 12, 22, 44 LU entries per element with
#: 1, 2, 4 excitations per slab, the time lowest from 2 on)
SLAB_WIDTH = 2
#: LU entries per element of that smoother, for the memory estimate (measured 20–33 on the
#: laser sectors of 7·10⁴ to 1.5·10⁶ elements; more with more photon states per slab)
SLAB_FILL = 40


def _direct_limit(opts, space):
    if len(space.counts) > 1:
        auto = DIRECT_LIMIT // 10
    else:
        auto = DIRECT_LIMIT if space.cutoffs else DIRECT_LIMIT_SPINS
    return {"auto": auto, "direct": np.inf, "iterative": 0}[opts["linear_solver"]]


def _slabs(space):
    """Smoother slabs of :data:`SLAB_WIDTH` excitation numbers: the label ``(E + E′) //
    (2·SLAB_WIDTH)`` with ``E``, ``E′`` the total excitations (photons and atoms) of ket
    and bra, the same for an element and its conjugate partner."""
    total = space.e + space.e2
    for k in range(len(space.cutoffs)):
        total = total + space.n[k] + space.n2[k]
    return total // (2 * SLAB_WIDTH)


# ----------------------------------------------------------------------------
# degeneracies and Clebsch–Gordan coefficients of j₁ ⊗ ½
# ----------------------------------------------------------------------------

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


def supports(model, symmetric_only=False):
    """``None`` if the model fits the Dicke basis, else the reason."""
    if model.atoms:
        return ("needs identical atoms in a Clusters object; the model has explicit atoms "
                f"{[a.name for a in model.atoms]}")
    species = list(model.cluster_counts)
    if not species:
        return "needs atoms in a Clusters object"
    for fam in species:
        # every species is further clusters of one product of Dicke spaces: spins ½ only
        if fam.levels != 2:
            return (f"needs two-level atoms (the Clusters have {fam.levels} levels)"
                    if len(species) == 1 else
                    f"needs two-level atoms in every species (Clusters {fam.name!r} has "
                    f"{fam.levels} levels)")
    if not model.is_integer:
        return f"needs an integer number of atoms per cluster (N={model.counts.tolist()})"
    for rate, kind, c in model.symbolic.jump_list:
        if (kind == "each" and not isinstance(c.clusters, Modes)
                and any(s.kind == "mode" for s in c.op.subsystems)):
            return "a local jump (Clusters.each) may act on the atom only, not on a mode"
    if symmetric_only and model.has_local_jumps():
        return ("local jumps (Clusters.each) couple the symmetric manifold j = N/2 to lower "
                "total spin; use method='dicke'")
    return None


# ----------------------------------------------------------------------------
# words: monomials in J_ij and a†^p a^q
# ----------------------------------------------------------------------------

def words(model, op):
    """``[(coefficient, ops), ...]``: the operator as a sum of collective monomials.

    ``ops`` is a tuple of elementary operators in product order, each
    ``("J", c, i, j)`` (``Σ_{a ∈ cluster c} σ^a_ij``) or ``("a", k, p, q)``
    (``a_k†^p a_k^q``).  A sum over the atoms is split over the clusters, with the
    per-cluster parameters of each.  With several species (:class:`Clusters`) ``c`` is
    the global cluster index (the species' clusters follow each other in name order,
    as in ``model.counts``).
    """
    modes = {m: k for k, m in enumerate(model.modes)}
    counts = [] if model.counts is None else [float(n) for n in model.counts]
    first = _first_cluster(model)

    def monomial(key, cluster_of):
        ops, touched = [], set()
        for s, f in key:
            if isinstance(s, ClusterMode):        # a mode of a Modes family: its explicit mode
                ops.append(("a", modes[Mode(f"{s.clusters.name}{cluster_of[s.var] + 1}")],
                            f[0], f[1]))
            elif s.kind == "mode":
                ops.append(("a", modes[s], f[0], f[1]))
            elif isinstance(s, ClusterAtom):
                ops.append(("J", first[s.clusters] + cluster_of[s.var], f[0], f[1]))
                touched.add(s.var)
            else:
                raise ValueError(f"the Dicke basis has no explicit atom {s.name!r}")
        return tuple(ops), touched

    if isinstance(op, Operator):
        out = []
        for key, c in op.terms.items():
            if any(isinstance(s, ClusterAtom) for s, _ in key):
                raise ValueError("an operator on one atom of the Clusters is not permutation "
                                 "invariant; write it as a Clusters.sum(...)")
            out.append((model._bind_indexed(c, {}), monomial(key, {})[0]))
        return out
    if not isinstance(op, IndexedOperator):
        raise TypeError(f"expected an Operator or a Clusters sum, got {type(op).__name__}")
    out = []
    for c, factors, phs in op.terms:
        for choice in itertools.product(*(_clusters_of(p, model.family_size(p.clusters))
                                          for p in phs)):
            cluster_of = {p.var: m for p, m in zip(phs, choice)}
            combos = [(model._bind_indexed(c, cluster_of), (), frozenset())]
            for f in factors:
                nxt = []
                for key, fc in f.terms.items():
                    ops, touched = monomial(key, cluster_of)
                    v = model._bind_indexed(fc, cluster_of)
                    nxt += [(cc * v, w + ops, t | touched) for cc, w, t in combos]
                combos = nxt
            for cc, w, t in combos:
                # a sum whose monomial does not touch its atom counts the atoms: Σ_a 1 = N_c
                for p, m in zip(phs, choice):
                    if p.var not in t and not isinstance(p.clusters, Modes):
                        cc = cc * counts[first[p.clusters] + m]
                out.append((cc, w))
    return [(c, w) for c, w in out if c != 0]


def _first_cluster(model):
    """``{Clusters: global index of its first cluster}`` (species in name order)."""
    out, g = {}, 0
    for fam, c in model.cluster_counts.items():
        out[fam] = g
        g += c.size
    return out


def _clusters_of(placeholder, n_clusters):
    """Clusters a summation index runs over (one when the sum is restricted to a cluster)."""
    pinned = getattr(placeholder, "cluster", None)
    return range(n_clusters) if pinned is None else (pinned,)


def _dag(word):
    c, ops = word
    out = []
    for o in reversed(ops):
        out.append(("J", o[1], o[3], o[2]) if o[0] == "J" else ("a", o[1], o[3], o[2]))
    return np.conj(c), tuple(out)


def _product(w1, w2):
    return [(c1 * c2, o1 + o2) for c1, o1 in w1 for c2, o2 in w2]


def _pair_count(h, sector, modulus):
    """``#{(a, b): x_a − x_b − sector ≡ 0 (mod modulus)}`` for the histogram ``h`` of ``x``."""
    n = h.size
    if modulus == 1:
        return float(h.sum()) ** 2
    if modulus == 0:
        k = int(sector)
        if abs(k) >= n:
            return 0.0
        return float(np.dot(h[k:], h[:n - k])) if k >= 0 else float(np.dot(h[:n + k], h[-k:]))
    cls = np.bincount(np.arange(n) % modulus, weights=h, minlength=modulus)
    return float(sum(cls[a] * cls[(a - sector) % modulus] for a in range(modulus)))


class DickeFockSpace:
    """Weighted Dicke ⊗ Fock elements of one symmetry sector, for one or several clusters.

    With several clusters of identical atoms (sizes ``N_c``) every cluster has its own
    total spin ``j_c`` and excitation ``e_c``: the space is the product of the clusters'
    Dicke spaces, an element is ``(j_1…j_C, n, e_1…e_C; n′, e′_1…e′_C)``, weighted by
    ``Π_c d_{j_c}`` (the multiplicities of the clusters).

    Parameters
    ----------
    N : int or sequence of int
        Number of atoms, or atoms per cluster.
    cutoffs : sequence of int
        Fock states of each mode (empty without modes).
    sector : int, default 0
        Excitation difference ``k = (Σn + Σe) − (Σn′ + Σe′)``.
    modulus : int, default 0
        ``0``: ``k`` exactly (U(1)); ``2``: ``k`` modulo 2 (parity); ``1``: all elements.
    symmetric : bool, default False
        Keep only ``j_c = N_c/2`` (the symmetric manifold of every cluster).
    jmax : float, sequence of float or None, default None
        Largest total spin kept in every cluster (one value, or one per cluster): the
        blocks ``j_c > jmax`` are left out, and the local channels into them are removed
        (gain and loss together, so the generator stays trace preserving and of Lindblad
        form).  ``None`` keeps every ``j_c ≤ N_c/2``.

    Attributes
    ----------
    counts : tuple of int
        Atoms per cluster; ``N`` is their sum.
    block : ndarray
        Label of the total-spin block ``(j_1 … j_C)`` of every element (elements are
        sorted by it); with one cluster it is ``jj = N/2 − j``.
    jjs, es, e2s : ndarray, shape (clusters, dim)
        ``N_c/2 − j_c`` and the excitations of ket and bra in every cluster.
    e, e2 : ndarray
        Total atomic excitations of ket and bra.
    n, n2 : ndarray, shape (modes, dim)
        Photon numbers of ket and bra.
    """

    def __init__(self, N, cutoffs=(), sector=0, modulus=0, symmetric=False, jmax=None):
        self.counts = tuple(int(c) for c in np.atleast_1d(N))
        self.N = sum(self.counts)
        self.cutoffs = tuple(int(c) for c in cutoffs)
        self.sector, self.modulus, self.symmetric = int(sector), int(modulus), bool(symmetric)
        self.jmax = jmax
        K = len(self.cutoffs)
        self._radix = self.cutoffs + tuple(n + 1 for n in self.counts)
        self._S = int(np.prod(self._radix, dtype=float))
        # the blocks kept: jj = N_c/2 − j_c from _jj_lo to _jj_lo + radix − 1
        self._jj_lo, top = _jj_window(self.counts, symmetric, jmax)
        self._block_radix = tuple(t - lo + 1 for lo, t in zip(self._jj_lo, top))
        if float(self._S) ** 2 * float(np.prod(self._block_radix, dtype=float)) >= 2.0 ** 62:
            raise ValueError(f"the Dicke ⊗ Fock labels of N={list(self.counts)}, cutoffs "
                             f"{list(self.cutoffs)} overflow 64-bit keys; use fewer clusters "
                             "or photon states")
        parts = []
        for bid, jjs in enumerate(np.ndindex(*self._block_radix)):
            jjs = tuple(lo + v for lo, v in zip(self._jj_lo, jjs))
            kets = self._kets(jjs)                   # (K+C, S_b): photon numbers, e_c
            a, b = self._pairs(kets.sum(axis=0))
            flat = self._flat(kets)
            parts.append(np.stack([np.full(a.size, bid), flat[a], flat[b]]))
        block, ka, kb = np.concatenate(parts, axis=1).astype(np.int64)
        self.keys = (block * self._S + ka) * self._S + kb
        order = np.argsort(self.keys)
        self.keys = self.keys[order]
        self.block = block[order]
        self.jjs = self._unflat_block(self.block)
        ket, bra = self._unflat(ka[order]), self._unflat(kb[order])
        self.n, self.es = ket[:K], ket[K:]
        self.n2, self.e2s = bra[:K], bra[K:]
        self.e, self.e2 = self.es.sum(axis=0), self.e2s.sum(axis=0)

    @property
    def jj(self):
        """``N/2 − j`` of every element (one cluster; with several see :attr:`jjs`)."""
        if len(self.counts) != 1:
            raise AttributeError(f"a space of {len(self.counts)} clusters has one total spin "
                                 "per cluster: use jjs (or block)")
        return self.jjs[0]

    @property
    def truncated(self):
        """Whether a ``jmax`` below some ``N_c/2`` leaves total-spin blocks out."""
        return any(lo > 0 for lo in self._jj_lo)

    def _unflat_block(self, block):
        out = []
        for r, lo in zip(reversed(self._block_radix), reversed(self._jj_lo)):
            out.append(block % r + lo)
            block = block // r
        return np.stack(out[::-1]).astype(np.int64)

    def _flat_block(self, jjs):
        out = np.zeros(np.shape(jjs)[1:], dtype=np.int64)
        for r, lo, v in zip(self._block_radix, self._jj_lo, jjs):
            out = out * r + (v - lo)
        return out

    def _kets(self, jjs):
        axes = [np.arange(c) for c in self.cutoffs]
        axes += [np.arange(jj, n - jj + 1) for jj, n in zip(jjs, self.counts)]
        grids = np.meshgrid(*axes, indexing="ij")
        return np.stack([g.ravel() for g in grids])

    def _pairs(self, x):
        """Ket and bra positions ``(a, b)`` with ``x_a − x_b`` in the sector."""
        if self.modulus != 0:
            return np.nonzero(self._allowed(x[:, None] - x[None, :]))
        # U(1): for each ket the bras of excitation x − k, a contiguous run once sorted
        order = np.argsort(x, kind="stable")
        xs = x[order]
        lo = np.searchsorted(xs, x - self.sector, "left")
        cnt = np.searchsorted(xs, x - self.sector, "right") - lo
        a = np.repeat(np.arange(x.size), cnt)
        first = np.cumsum(cnt) - cnt
        b = order[np.repeat(lo - first, cnt) + np.arange(a.size)]
        return a, b

    def _allowed(self, diff):
        diff = diff - self.sector
        if self.modulus == 0:
            return diff == 0
        return diff % self.modulus == 0

    def _flat(self, state):
        out = np.zeros(state.shape[1:], dtype=np.int64)
        for r, v in zip(self._radix, state):
            out = out * r + v
        return out

    def _unflat(self, flat):
        out = []
        for r in reversed(self._radix):
            out.append(flat % r)
            flat = flat // r
        return np.stack(out[::-1])

    @staticmethod
    def size_estimate(N, cutoffs, sector=0, modulus=0, symmetric=False, jmax=None):
        """Number of elements, counted in ``O(N)`` without building them.

        The pairs of a block with excitation histogram ``h`` number the autocorrelation
        of ``h`` at lag ``k``; ``h`` is a convolution (photons, clusters) and the
        autocorrelation of a convolution is the convolution of the autocorrelations, so
        the sum over the blocks factorises per cluster.
        """
        photons = np.ones(1)
        for c in cutoffs:
            photons = np.convolve(photons, np.ones(c))
        total = np.correlate(photons, photons, "full")          # lags −(P−1) … P−1
        counts = [int(n) for n in np.atleast_1d(N).astype(int)]
        for n, lo, hi in zip(counts, *_jj_window(counts, symmetric, jmax)):
            d = np.abs(np.arange(-n, n + 1))
            top = n + 1 - d                                  # pairs of the block jj = 0
            # Σ_jj max(top − 2jj, 0) over jj = lo … hi: an arithmetic series, the sum over
            # jj < T being T·top − T(T − 1)
            last = np.minimum(hi, (top - 1) // 2) + 1
            tri = np.where(last > lo, (last - lo) * top - last * (last - 1) + lo * (lo - 1), 0)
            total = (np.convolve(total, tri) if total.size * tri.size < 5e7
                     else np.rint(_fftconvolve(total, tri)))
        lags = np.arange(total.size) - (total.size - 1) // 2
        if modulus == 1:
            return int(round(float(total.sum())))
        keep = lags == sector if modulus == 0 else (lags - sector) % modulus == 0
        return int(round(float(total[keep].sum())))

    @property
    def dim(self):
        return self.keys.size

    def index(self, jjs, n, es, n2, e2s):
        """Positions of elements (``-1`` for elements outside the space or the sector).

        ``jjs``, ``es``, ``e2s`` have one row per cluster (a 1-D array for one cluster).
        """
        K, C = len(self.cutoffs), len(self.counts)
        L = np.size(es) // C
        jjs, es, e2s = (np.reshape(x, (C, L)) for x in (jjs, es, e2s))
        ok = np.ones(L, bool)
        for c, N in enumerate(self.counts):
            lo = self._jj_lo[c]
            ok &= (jjs[c] >= lo) & (jjs[c] < lo + self._block_radix[c])
            ok &= (es[c] >= jjs[c]) & (es[c] <= N - jjs[c])
            ok &= (e2s[c] >= jjs[c]) & (e2s[c] <= N - jjs[c])
        n, n2 = np.reshape(n, (K, L)), np.reshape(n2, (K, L))
        for k in range(K):
            ok &= (n[k] >= 0) & (n[k] < self.cutoffs[k]) & (n2[k] >= 0) & (n2[k] < self.cutoffs[k])
        ket = np.where(ok, np.concatenate([n, es]), 0)
        bra = np.where(ok, np.concatenate([n2, e2s]), 0)
        block = self._flat_block(np.where(ok, jjs, 0))
        key = (block * self._S + self._flat(ket)) * self._S + self._flat(bra)
        pos = np.minimum(np.searchsorted(self.keys, key), self.dim - 1)
        ok &= self.keys[pos] == key
        return np.where(ok, pos, -1)

    @property
    def diagonal(self):
        """Mask of the populations (ket = bra)."""
        return np.all(self.es == self.e2s, axis=0) & np.all(self.n == self.n2, axis=0)

    def swap(self):
        """Position of the conjugate partner ``(bra, ket)`` of every element."""
        return self.index(self.jjs, self.n2, self.e2s, self.n, self.es)

    def apply(self, ops, jjs, n, es):
        """Apply a word to states ``(jjs, n, es)``; returns ``(n′, es′, coefficient)``.

        The coefficient is 0 where the result leaves the space (truncated modes).
        """
        n = np.array(n, dtype=np.int64, copy=True)
        es = np.array(es, dtype=np.int64, copy=True).reshape(len(self.counts), -1)
        jjs = np.reshape(jjs, es.shape)
        c = np.ones(es.shape[1])
        for o in reversed(ops):
            if o[0] == "a":
                _, k, p, q = o
                nk = n[k]
                low = nk - q
                ok = low >= 0
                low = np.where(ok, low, 0)
                top = low + p
                ok &= top < self.cutoffs[k]
                c = c * np.where(ok, np.exp(0.5 * (gammaln(nk + 1.0) + gammaln(top + 1.0))
                                            - gammaln(low + 1.0)), 0.0)
                n[k] = np.where(ok, top, nk)
            else:
                _, cl, i, j = o
                N, jj, e = self.counts[cl], jjs[cl], es[cl]
                if (i, j) == (2, 1):
                    c = c * np.sqrt(np.clip((N - jj - e) * (e - jj + 1.0), 0, None))
                    e = e + 1
                elif (i, j) == (1, 2):
                    c = c * np.sqrt(np.clip((e - jj) * (N - jj - e + 1.0), 0, None))
                    e = e - 1
                elif (i, j) == (2, 2):
                    c = c * e
                else:                                   # σ_11: ground-state count
                    c = c * (N - e)
                bad = (e < jj) | (e > N - jj)
                c = np.where(bad, 0.0, c)
                es[cl] = np.where(bad, jj, e)
        return n, es, c


def _jj_window(counts, symmetric=False, jmax=None):
    """``(lo, hi)``: the blocks ``jj = N_c/2 − j_c`` kept in every cluster."""
    hi = [0 if symmetric else n // 2 for n in counts]
    if jmax is None:
        return [0] * len(counts), hi
    jm = np.broadcast_to(np.asarray(jmax, float), (len(counts),))
    lo = [max(0, int(np.ceil(n / 2 - j - 1e-9))) for n, j in zip(counts, jm)]
    for c, (n, l, h) in enumerate(zip(counts, lo, hi)):
        if l > h:
            raise ValueError(f"jmax={jm[c]:g} leaves no total-spin block of cluster {c} "
                             f"(N={n}: j ≤ {n / 2:g}" + (", symmetric manifold j = N/2 only)"
                                                        if symmetric else f", j ≥ {n % 2 / 2:g})"))
    return lo, hi


def _fftconvolve(a, b):
    from scipy.signal import fftconvolve
    return fftconvolve(a, b)


class _Builder:
    """COO triplets ``d target / dt += value · source``."""

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


def _left(space, b, wordlist, factor):
    """``factor · W ρ`` for ``W = Σ c w``."""
    s = space
    src = np.arange(s.dim)
    for c, ops in wordlist:
        n, e, a = s.apply(ops, s.jjs, s.n, s.es)
        b.add(src, s.index(s.jjs, n, e, s.n2, s.e2s), factor * c * a)


def _right(space, b, wordlist, factor):
    """``factor · ρ W`` for ``W = Σ c w``: apply ``w†`` to the bra."""
    s = space
    src = np.arange(s.dim)
    for c, ops in wordlist:
        _, dops = _dag((c, ops))
        n2, e2, a = s.apply(dops, s.jjs, s.n2, s.e2s)
        b.add(src, s.index(s.jjs, s.n, s.es, n2, e2), factor * c * a)


def _sandwich(space, b, wordlist, rate):
    """``rate · C ρ C†`` for ``C = Σ c w``."""
    s = space
    src = np.arange(s.dim)
    for c1, o1 in wordlist:
        n, e, a1 = s.apply(o1, s.jjs, s.n, s.es)
        for c2, o2 in wordlist:
            n2, e2, a2 = s.apply(o2, s.jjs, s.n2, s.e2s)
            b.add(src, s.index(s.jjs, n, e, n2, e2), rate * c1 * np.conj(c2) * a1 * a2)


_SPIN = {1: -0.5, 2: 0.5}                     # level 1 = ground = spin down


def _local_matrix(model, op, cluster=0, family=None):
    """2×2 matrix ``A[i−1, j−1]`` of a single-atom operator written with the template atom
    of ``family`` (per-cluster parameters of its ``cluster``; default: the one Clusters)."""
    family = model.clusters if family is None else family
    A = np.zeros((2, 2), complex)
    for key, c in op.terms.items():
        v = model._bind_indexed(c, {family.tvar: cluster})
        if not key:
            A += v * np.eye(2)
        else:
            (_, (i, j)), = key
            A[i - 1, j - 1] += v
    return A


def _local_sandwich(space, b, rate, A, cluster=0):
    """``rate · Σ_{a ∈ cluster} A_a ρ A_a†`` through the Clebsch–Gordan coefficients of ``j₁ ⊗ ½``.

    With ``A = Σ A[i, j] |i⟩⟨j|`` this is ``Σ A[i,j] A[i′,j′]* Σ_a |i⟩⟨j|_a ρ |j′⟩⟨i′|_a``;
    each pair of transitions moves weight from ``σ_j(m, m′)`` to
    ``σ_{j′}(m − s + s₂, m′ − r + r₂)`` with
    ``N Σ_{j₁} (d^{(N−1)}_{j₁}/d^{(N)}_j) ⟨j′μ; j₁|A|j m; j₁⟩⟨j′μ′; j₁|A′|j m′; j₁⟩``
    (``N``, ``j``, ``m`` those of the cluster; the other clusters are spectators).
    """
    s = space
    N = s.counts[cluster]
    src = np.arange(s.dim)
    j = N / 2 - s.jjs[cluster]
    m, m2 = s.es[cluster] - N / 2, s.e2s[cluster] - N / 2
    logd = log_degeneracy(N, j)
    trans = [((i, jx), A[i - 1, jx - 1]) for i in (1, 2) for jx in (1, 2) if A[i - 1, jx - 1] != 0]

    def amplitude(j1, jp, m, t):                 # ⟨j′, m − s_in + s_out; j₁| |i⟩⟨j| |j m; j₁⟩
        s_in, s_out = _SPIN[t[1]], _SPIN[t[0]]
        return _cg(j1, j, m, s_in) * _cg(j1, jp, m - s_in + s_out, s_out)

    jjs, es, e2s = s.jjs.copy(), s.es.copy(), s.e2s.copy()
    lo = s._jj_lo[cluster]
    kept = np.zeros(s.dim)                       # cancels −½{K†K, ρ} of the channels left out
    for dj1 in (0.5, -0.5):
        j1 = j + dj1
        ok1 = (j1 >= 0) & (j1 <= (N - 1) / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(ok1, np.exp(log_degeneracy(N - 1, np.where(ok1, j1, 0)) - logd), 0.0)
        for dj2 in (0.5, -0.5):
            jp = j1 + dj2
            okp = ok1 & (jp >= 0) & (jp <= N / 2)
            jjs[cluster] = np.rint(N / 2 - jp).astype(np.int64)
            dropped = okp & (jjs[cluster] < lo)  # into a block above jmax
            any_dropped = bool(dropped.any())
            if any_dropped and len({_SPIN[i] - _SPIN[jx] for (i, jx), _ in trans}) > 1:
                raise ValueError("jmax below N/2 needs local jumps that change the excitation "
                                 f"by one definite amount (σ⁻, σ⁺, σ⁺σ⁻, σ_z); got {A.tolist()}")
            for t1, c1 in trans:
                k1 = amplitude(j1, jp, m, t1)
                es[cluster] = np.rint(m - _SPIN[t1[1]] + _SPIN[t1[0]] + N / 2).astype(np.int64)
                for t2, c2 in trans:
                    k2 = amplitude(j1, jp, m2, t2)
                    w = rate * c1 * np.conj(c2) * N * ratio
                    val = np.where(okp, w * k1 * k2, 0.0)
                    e2s[cluster] = np.rint(m2 - _SPIN[t2[1]] + _SPIN[t2[0]]
                                           + N / 2).astype(np.int64)
                    b.add(src, s.index(jjs, s.n, es, s.n2, e2s), val)
                    if any_dropped:
                        # K†K is diagonal in m (one excitation shift): ½(X_m + X_m′)
                        x = (k1 * amplitude(j1, jp, m, t2)
                             + amplitude(j1, jp, m2, t1) * k2)
                        kept += np.where(dropped, 0.5 * w * x, 0.0).real
    if kept.any():
        b.add(src, src, kept)


def _local_count(A, cluster=0):
    """Words of ``Σ_{a ∈ cluster} A_a† A_a`` (a single-atom operator summed over the atoms)."""
    B = A.conj().T @ A
    return [(B[i - 1, j - 1], (("J", cluster, i, j),)) for i in (1, 2) for j in (1, 2)
            if B[i - 1, j - 1] != 0]


def liouvillian(model, space):
    """Sparse Liouvillian of ``model`` on the elements of ``space``."""
    b = _Builder(space)
    H = words(model, model.symbolic.H_indexed)
    _left(space, b, H, -1j)
    _right(space, b, H, 1j)
    counts = []                                   # (rate, words of C†C) for −½{C†C, ρ}
    for rate, kind, c in model.symbolic.jump_list:
        if kind == "each" and isinstance(c.clusters, Modes):     # one jump per mode
            for r, op in model.each_jumps(rate, c):
                C = words(model, op)
                _sandwich(space, b, C, r)
                counts.append((r, _product([_dag(w) for w in C], C)))
            continue
        if kind == "each":
            g0 = _first_cluster(model)[c.clusters]       # this species' first cluster
            for cl in range(model.family_size(c.clusters)):
                r = model._bind(rate, cl).real
                if r != 0:
                    A = _local_matrix(model, c.op, cl, c.clusters)
                    _local_sandwich(space, b, r, A, g0 + cl)
                    counts.append((r, _local_count(A, g0 + cl)))
            continue
        r = model._bind(rate).real
        if r != 0:
            C = words(model, c)
            _sandwich(space, b, C, r)
            counts.append((r, _product([_dag(w) for w in C], C)))
    for r, count in counts:
        _left(space, b, count, -0.5 * r)
        _right(space, b, count, -0.5 * r)
    return b.matrix()


def _cutoffs(model, nphot):
    from ..model import _cutoffs as cut
    c = cut(model.modes, nphot)
    return [c[m] for m in model.modes]


def estimate(model, options, symmetric=False):
    """Number of elements and a memory estimate (bytes), without building anything.

    Also the smoother of the iterative solve (``"smoother"``: ``"spin"``, or
    ``"excitation"`` when ``smoother="auto"`` and the exact LUs of the total-spin blocks
    would exceed ``max_memory``) and the estimate with each (``"memory_by_smoother"``).
    """
    # only these are read: the steady-state, evolution and spectrum options all pass here
    read = ("nphot", "jmax", "smoother", "max_memory")
    opts = V.check_options({k: v for k, v in (options or {}).items() if k in read},
                           _DEFAULTS, "dicke")
    check_smoother(opts["smoother"])
    cut = _cutoffs(model, opts["nphot"]) if model.modes else []
    mod = model.sector_modulus
    n_words = sum(len(words(model, c)) ** 2 + 2 * len(words(model, c)) ** 2
                  for _, kind, c in model.symbolic.jump_list if kind != "each")
    n_words += 2 * len(words(model, model.symbolic.H_indexed)) + 1
    n_words += 16 * model.has_local_jumps() * max(model.n_clusters, 1)
    # assembly triplets and CSR (64 B per entry), LU fill of the j blocks (12 B per entry;
    # measured 140 per element at 8.8e4 elements, growing like dim^0.22: laser N = 30, 50)
    # and the GMRES basis; ×1.5 for temporaries (measured peak 1.66 GiB at N = 50, nphot = 24)
    counts = [] if model.counts is None else np.rint(model.counts).astype(int)
    dim = DickeFockSpace.size_estimate(counts, cut, 0, mod, symmetric,
                                       _check_jmax(model, opts["jmax"], symmetric))
    fill_growth = max(dim / 8.8e4, 1.0) ** 0.25
    if model.n_clusters > 1:
        # every further cluster adds an excitation ladder to the blocks, whose LUs then fill
        # like a lattice of one more dimension: measured fill per element against one
        # cluster ≈ r^1.3 with r = Π (N_c + 1) over all but the largest cluster (N = [1, 12]
        # … [6, 6], [3, 3, 3], up to 126 000 elements), ×1.5 for the scatter
        r = np.prod(np.sort(np.asarray(counts, float))[:-1] + 1)
        fill_growth *= 1.5 * r ** 1.3
    # excitation slabs (decision 41): SLAB_FILL LU entries per element and the permuted
    # copy of the sector (+130 B)
    base = dim * n_words * 64 + 60 * 8 * dim
    by = {"spin": int(1.5 * (base + 12 * 140 * dim * fill_growth)),
          "excitation": int(1.5 * (base + (12 * SLAB_FILL + 130) * dim))}
    smoother = opts["smoother"]
    if smoother == "auto":
        limit = opts["max_memory"]
        smoother = "spin" if limit is None or by["spin"] <= limit else "excitation"
    return {"size": dim, "memory": by[smoother], "smoother": smoother,
            "memory_by_smoother": by}



def _space(model, opts, sector=0, symmetric=False):
    reason = supports(model, symmetric)
    if reason:
        raise ValueError(f"method={'manifold' if symmetric else 'dicke'!r}: {reason}")
    est = estimate(model, opts, symmetric)
    V.check_memory(est["memory"], opts["max_memory"],
                   f"the Dicke-basis Liouvillian ({est['size']} elements)")
    cut = _cutoffs(model, opts["nphot"]) if model.modes else []
    return DickeFockSpace(model.counts.astype(int), cut, sector, model.sector_modulus, symmetric,
                          _check_jmax(model, opts["jmax"], symmetric))


def _check_jmax(model, jmax, symmetric=False):
    """``None`` or one float per cluster; a clear error for anything else."""
    if jmax is None:
        return None
    C = max(model.n_clusters, 1)
    vals = np.atleast_1d(np.asarray(jmax, dtype=object))
    if vals.ndim != 1 or vals.size not in (1, C):
        raise ValueError(f"jmax must be a number or one number per cluster ({C}); got {jmax!r}")
    out = np.array([V.check_real("jmax", v) for v in vals], float)
    if np.any(out < 0):
        raise ValueError(f"jmax must be >= 0 (a total spin), got {jmax!r}")
    counts = np.rint(model.counts).astype(int)
    out = np.broadcast_to(out, (C,))
    if symmetric and np.any(out < counts / 2):
        raise ValueError(f"jmax={jmax!r} leaves out the symmetric manifold j = N/2 of "
                         "method='manifold'")
    _jj_window(counts, symmetric, out)           # raises if a cluster keeps no block
    return None if np.all(out >= counts / 2) else tuple(float(v) for v in out)


class DickeFockState:
    """A state in the weighted Dicke ⊗ Fock representation.

    Attributes
    ----------
    space : DickeFockSpace
    vector : ndarray
        Weighted elements ``σ_j(n e, n′ e′)``; ``Tr ρ = Σ`` of the populations.
    """

    def __init__(self, model, space, vector):
        self.model, self.space, self.vector = model, space, vector

    def expect(self, op):
        """``⟨op⟩`` for a collective operator (mode operators and ``Clusters.sum``)."""
        s, x = self.space, self.vector
        total = 0j
        for c, ops in words(self.model, op):
            n, e, a = s.apply(ops, s.jjs, s.n, s.es)
            hit = np.all(e == s.e2s, axis=0) & np.all(n == s.n2, axis=0)
            total += c * np.sum(a[hit] * x[hit])
        return complex(total)

    def _dicke_matrix(self):
        """Dense Dicke representation ``(photons·D, photons·D)`` (modes first, then the
        clusters, each in piqs order; ``D`` the product of the clusters' sizes)."""
        s = self.space
        D = int(np.prod([num_dicke_states(n) for n in s.counts]))
        P = int(np.prod(s.cutoffs, dtype=int))
        M = np.zeros((P * D, P * D), complex)
        M[_dicke_rows(s, s.n, s.es), _dicke_rows(s, s.n2, s.e2s)] = self.vector
        return M, P, D

    def to_qobj(self, representation="dicke", *, max_memory=DEFAULT_MAX_MEMORY):
        """The state as a density-matrix :class:`qutip.Qobj`.

        Parameters
        ----------
        representation : {"dicke", "full"}
            ``"dicke"``: the block-diagonal Dicke representation of :mod:`qutip.piqs`
            (dimension ``num_dicke_states(N)``, blocks ``j = N/2, N/2 − 1, …``,
            ``m = j … −j`` within a block, each block ``d_j ρ_j`` so the trace is 1),
            tensored after the Fock spaces of the modes: ``dims = [[nphot…, D], [nphot…,
            D]]``.  ``"full"``: the state in the tensor space of the modes and the ``N``
            atoms (``dims = [[nphot…, 2, …, 2], …]``), the space of ``method="full"``
            — a block ``j < N/2`` becomes the permutation-invariant mixture over its
            ``d_j`` copies.  QuTiP's convention: ``basis(2, 0)`` is the excited state.
        max_memory : float, default 8 GiB
            Refuse (``MemoryLimitError``) when the dense matrix would exceed it
            (``"full"`` needs ``16·(nphot·2^N)²`` bytes).

        Returns
        -------
        qutip.Qobj
        """
        import qutip
        s = self.space
        if representation not in ("dicke", "full"):
            raise ValueError(f"representation must be 'dicke' or 'full', got {representation!r}")
        if representation == "full" and len(s.counts) > 1:
            raise ValueError("representation='full' is available for one cluster; a state of "
                             f"{len(s.counts)} clusters converts with representation='dicke' "
                             "(one Dicke factor per cluster)")
        D = int(np.prod([num_dicke_states(n) for n in s.counts]))
        P = int(np.prod(s.cutoffs, dtype=float))
        side = P * (D if representation == "dicke" else 2.0 ** s.N)
        V.check_memory(16.0 * side ** 2 * (1 if representation == "dicke" else 4),
                       max_memory, f"the {representation!r} density matrix (dimension {side:.0f})")
        M, P, D = self._dicke_matrix()
        if representation == "dicke":
            dims = list(s.cutoffs) + [num_dicke_states(n) for n in s.counts]
            return qutip.Qobj(M, dims=[dims, dims])
        dims = list(s.cutoffs) + [2] * s.N
        return qutip.Qobj(dicke_to_full(M, s.N, P), dims=[dims, dims])

    def photon_distribution(self, k=0):
        """``P(n)`` of mode ``k``."""
        s = self.space
        d = s.diagonal
        return np.bincount(s.n[k][d], weights=self.vector[d].real, minlength=s.cutoffs[k])

    def min_eigenvalue(self):
        """Smallest eigenvalue over the blocks of ``σ_j`` (a positivity check)."""
        s = self.space
        worst = np.inf
        kets = s._flat(np.concatenate([s.n, s.es]))
        bras = s._flat(np.concatenate([s.n2, s.e2s]))
        # with U(1) the k = 0 elements couple only kets and bras of equal excitation
        exc = s.e + s.n.sum(axis=0) if s.modulus == 0 else np.zeros_like(s.e)
        group = s.block * (s.N + 1 + sum(s.cutoffs)) + exc
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
        sizes = np.diff(np.r_[starts, order.size])
        lone = order[starts[sizes == 1]]         # lone populations: their own eigenvalue
        if lone.size:
            worst = min(worst, float(np.min(self.vector[lone].real)))
        for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
            sel = order[start:start + size]
            u, inv = np.unique(np.concatenate([kets[sel], bras[sel]]), return_inverse=True)
            Mx = np.zeros((u.size, u.size), complex)
            Mx[inv[:sel.size], inv[sel.size:]] = self.vector[sel]
            worst = min(worst, float(np.linalg.eigvalsh(0.5 * (Mx + Mx.conj().T))[0]))
        return worst


def _dicke_rows(space, n, es):
    """Rows of the dense Dicke representation: photons, then one piqs index per cluster."""
    out = _photon_flat(space, n)
    for N, jj, e in zip(space.counts, space.jjs, es):
        out = out * num_dicke_states(N) + dicke_index(N, jj, e)
    return out


def _photon_flat(space, n):
    """Flat index of the photon numbers ``n`` (shape ``(modes, L)``), first mode slowest."""
    out = np.zeros(np.shape(n)[1:], dtype=np.int64)
    for c, nk in zip(space.cutoffs, n):
        out = out * c + nk
    return out


_ACCEPTED = ("None, 'ground', 'excited', 'superradiant', a Dicke state (j, m), a DickeFockState "
             "of the same space, or a Qobj (ket or density matrix) in the Dicke representation "
             "(dims [[nphot…, num_dicke_states(N)], …]) or in the tensor space (dims [[nphot…, "
             "2, …, 2], …])")


def _qobj_dicke_matrix(initial, counts, cutoffs):
    """A Qobj initial state as a dense Dicke-representation matrix (validated)."""
    rho = initial.proj() if initial.isket else initial
    cut = [int(c) for c in cutoffs]
    dicke = cut + [num_dicke_states(n) for n in counts]
    P = int(np.prod(cut, dtype=int))
    dims = [int(d) for d in rho.dims[0]]
    if not rho.isoper or rho.dims[0] != rho.dims[1]:
        raise ValueError(f"initial must be a ket or a density matrix, got a Qobj of type "
                         f"{rho.type!r}")
    if dims == dicke:
        return rho.full()
    if len(counts) == 1 and dims == cut + [2] * counts[0]:
        return full_to_dicke(rho.full(), counts[0], P)
    tensor = f" (or the tensor space {cut + [2] * counts[0]})" if len(counts) == 1 else ""
    raise ValueError(f"initial has dims {dims}; the Dicke representation of this model needs "
                     f"{dicke}{tensor}")


def _initial(model, opts, initial, symmetric, name):
    """``(space, x0)``: the sector space and the weighted elements of ``initial``."""
    N = int(model.N)
    spec = parse_initial(initial, N, accepted=_ACCEPTED)
    space = _space(model, opts, 0, symmetric)
    K, C = len(space.cutoffs), len(space.counts)
    if spec is not None:
        if spec[0] == "product":
            jjs = np.zeros((C, 1), np.int64)
            es = np.array([[0 if spec[1] == "ground" else n] for n in space.counts])
        elif C > 1:
            raise ValueError(f"initial={initial!r}: a Dicke state of the total spin is not a "
                             f"product over the {C} clusters; give 'ground', 'excited', or a "
                             "Qobj in the clusters' Dicke representation")
        else:
            j, m = spec[1:]
            jjs, es = np.array([[int(round(N / 2 - j))]]), np.array([[int(round(m + N / 2))]])
            if symmetric and jjs[0, 0]:
                raise ValueError(f"initial={initial!r} has j = {j:g} < N/2, outside the "
                                 f"symmetric manifold of method={name!r}; use method='dicke'")
        x0 = np.zeros(space.dim, complex)
        z = np.zeros((K, 1), np.int64)
        pos = space.index(jjs, z, es, z, es)
        if np.any(pos < 0):
            raise ValueError(f"initial={initial!r} has a total spin above jmax={space.jmax!r}; "
                             "raise jmax")
        x0[pos] = 1.0
        return space, x0
    if isinstance(initial, DickeFockState):
        s0 = initial.space
        if s0.keys.shape != space.keys.shape or np.any(s0.keys != space.keys):
            def count(c):
                return c[0] if len(c) == 1 else list(c)
            raise ValueError(f"initial state has N={count(s0.counts)}, Fock cutoffs "
                             f"{list(s0.cutoffs)}, sector {s0.sector}; the model needs "
                             f"N={count(space.counts)}, Fock cutoffs {list(space.cutoffs)}, "
                             "sector 0")
        return space, initial.vector
    import qutip
    if not isinstance(initial, qutip.Qobj):
        raise TypeError(f"initial must be {_ACCEPTED}; got {type(initial).__name__}")
    M = _qobj_dicke_matrix(initial, space.counts, space.cutoffs)
    total = float(np.abs(M).sum())
    for modulus in (space.modulus, 1):
        # coherences outside the sector k = 0: evolve every element of the blocks
        if modulus != space.modulus:
            space = DickeFockSpace(space.counts, space.cutoffs, 0, 1, symmetric, space.jmax)
        x0 = M[_dicke_rows(space, space.n, space.es), _dicke_rows(space, space.n2, space.e2s)]
        if total - float(np.abs(x0).sum()) <= 1e-12 * max(total, 1e-300):
            return space, x0.astype(complex)
    where = ("the symmetric manifold j = N/2" if symmetric else
             "the blocks of equal j" + (f" up to jmax={space.jmax!r}" if space.truncated else ""))
    raise ValueError(f"initial has weight outside {where} of method={name!r}"
                     + ("; use method='dicke'" if symmetric else ""))


def _state_checks(model, state, opts):
    s, x = state.space, state.vector
    d = s.diagonal
    swap = s.swap()
    checks = {"trace": float(np.sum(x[d].real)),
              "hermiticity": float(np.max(np.abs(x - np.conj(x[swap])))) if x.size else 0.0,
              "min_eigenvalue": state.min_eigenvalue() if s.dim < 200000 else float("nan"),
              "truncation": {}}
    for k, m in enumerate(model.modes):
        pn = state.photon_distribution(k)
        mean = float(np.sum(np.arange(pn.size) * pn))
        checks["truncation"][m.name] = check_truncation(pn, pn.size, opts["truncation_tol"],
                                                        opts["strict"], mean)
    if s.truncated:
        checks["truncation"]["spin"] = _check_spin_truncation(state, opts)
    return checks


def _check_spin_truncation(state, opts):
    """Weight of the highest kept total-spin block of every cluster (``jmax`` given): warn,
    or raise if ``strict``, when it exceeds ``truncation_tol`` — as for a photon cutoff."""
    s, x = state.space, state.vector
    d = s.diagonal
    tol = opts["truncation_tol"]
    tops, suggested = [], []
    for c, (N, lo) in enumerate(zip(s.counts, s._jj_lo)):
        weights = np.bincount(s.jjs[c][d] - lo, weights=x[d].real, minlength=3)
        top = float(weights[0]) if lo > 0 else 0.0
        tops.append(top)
        # the tail's decay per block from the two blocks below the top (the top one feels
        # the cutoff): blocks needed to reach the tolerance
        ratio = weights[1] / weights[2] if weights[2] > 0 else 1.0
        steps = (np.log(tol / top) / np.log(ratio) if 0 < ratio < 1 and top > tol
                 else np.inf)
        suggested.append(float(min(N / 2, N / 2 - lo + np.ceil(steps) + 1)) if top > tol
                         else N / 2 - lo)
        if top > tol:
            msg = (f"total spin truncated: the block j = {N / 2 - lo:g} (jmax) of cluster {c} "
                   f"holds {top:.3g} > truncation_tol = {tol:g}; use jmax >= {suggested[-1]:g}")
            if opts["strict"]:
                raise ValueError(msg)
            warnings.warn(msg, TruncationWarning, stacklevel=4)
    return {"top_block_population": tops, "jmax": s.jmax, "tolerance": tol,
            "ok": all(t <= tol for t in tops), "suggested_jmax": suggested}


def _values(state, e_ops):
    out = {}
    for k, op in e_ops.items():
        v = state.expect(op)
        out[k] = v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v)) else v
    return out


def _local_excitation(model, cluster=0):
    """Excited population ``P`` of one atom of ``cluster`` (global index) under the local
    jumps alone (0 without any)."""
    first = _first_cluster(model)
    family = max((f for f in first if first[f] <= cluster), key=first.get)
    local = cluster - first[family]
    L = np.zeros((4, 4), complex)             # vec(ρ) row-major, basis (g, e)
    I = np.eye(2)
    for rate, kind, c in model.symbolic.jump_list:
        if kind != "each" or c.clusters is not family:
            continue
        A = _local_matrix(model, c.op, local, family)
        r = model._bind(rate, local).real
        AdA = A.conj().T @ A
        L += r * (np.kron(A, A.conj()) - 0.5 * np.kron(AdA, I) - 0.5 * np.kron(I, AdA.T))
    w, v = np.linalg.eig(L)
    if np.sum(np.abs(w) < 1e-12 * max(np.abs(L).max(), 1e-300)) != 1:
        return 0.0
    rho = v[:, np.argmin(np.abs(w))].reshape(2, 2)
    rho = rho / np.trace(rho)
    return float(np.clip(rho[1, 1].real, 0, 1))


def _pivots(model, space):
    """Candidate pivots: independent atoms with the local rates (excitation ``N_c P_c``,
    total spin ``j_c ≈ max(N_c|2P_c−1|/2, √(N_c P_c(1−P_c)))`` in every cluster) and no
    photons, then the extremes."""
    jjs, es = [], []
    for cl, N in enumerate(space.counts):
        P = _local_excitation(model, cl)
        j = max(N * abs(2 * P - 1) / 2, np.sqrt(N * P * (1 - P)))
        lo = space._jj_lo[cl]
        jj0 = int(np.clip(round(N / 2 - j), lo, lo + space._block_radix[cl] - 1))
        e0 = int(np.clip(round(N * P), jj0, N - jj0))
        jjs.append([jj0, lo, lo, lo])
        es.append([e0, lo, N - lo, N // 2])
    z = np.zeros((len(space.cutoffs), 4), np.int64)
    return space.index(np.array(jjs), z, np.array(es), z, np.array(es))


def steadystate(model, e_ops=None, options=None, *, symmetric=False):
    """Exact steady state in the Dicke basis (per symmetry sector).

    Options
    -------
    nphot : int or dict, default 10
        Fock states per mode.
    jmax : float, sequence of float or None, default None
        Largest total spin kept in every cluster (one value or one per cluster); the
        blocks above it and the local channels into them are left out, so the generator
        stays trace preserving.  With local pumping and decay the weight sits at
        ``j ~ √N`` (laser, C = 10, N = 100: mean j = 10.7, weight < 10⁻⁶ above j = 35),
        so ``jmax ≈ N/3`` cuts the elements several-fold at large ``N``.  The weight of
        the top kept block is checked like a photon cutoff (``truncation_tol``,
        ``strict``; ``checks["truncation"]["spin"]``); measured, it bounds the relative
        error of ``⟨a†a⟩``.
    max_memory : float, default 8 GiB
    strict : bool, default False
        Raise instead of warning when a photon space is truncated.
    truncation_tol : float, default 1e-6
    max_time : float, default 600
        Wall-time limit (s) of the iterative (GMRES) solve of large sectors;
        ``TimeLimitError`` with the iterations and residual when exceeded.
    progress_bar : None, bool or str
        QuTiP's values; stages weighted by their estimated cost.
    linear_solver : {"auto", "direct", "iterative"}, default "auto"
        ``direct``: one sparse LU of the sector; ``iterative``: GMRES with the two-level
        preconditioner of the total-spin blocks (aggregation of the block weights, block
        Gauss–Seidel with exact block LUs); ``auto``: direct up to 20 000 elements with a
        bosonic mode (2 000 for several clusters), up to 300 000 without one (bad cavity).
        For spectra the same choice applies to the regression sector (``iterative``:
        shift-invert Krylov with block-preconditioned GMRES solves).
    smoother : {"auto", "spin", "excitation"}, default "auto"
        Block Gauss–Seidel sweep of the iterative solve: ``spin``, exact LUs of the
        total-spin blocks; ``excitation``, exact LUs of slabs of two excitation numbers
        ``n + e`` inside every block — ~8× less LU memory (≈ 20 instead of 170 entries per
        element at 2.6·10⁵ elements), ~2× the GMRES iterations; ``auto``: ``spin`` unless
        its estimated memory exceeds ``max_memory``.  Spectra use the same choice for the
        preconditioner of the regression sector (``checks["qrt"]["smoother"]``).
    """
    name = "manifold" if symmetric else "dicke"
    opts = check_steady_options(options, _DEFAULTS, f"steadystate(method={name!r})")
    if not symmetric:
        unique_or_raise(model, name)
    e_ops = normalise_e_ops(e_ops)
    t0 = time.perf_counter()
    bar = Progress(4, f"steadystate(method={name!r})", opts["progress_bar"])
    space = _space(model, opts, 0, symmetric)
    L = liouvillian(model, space)
    bar.advance(1, "Liouvillian")                 # the sparse solve costs ~3× the assembly
    # total-spin blocks j: only the local processes couple them (slow, weak coupling)
    # the smoother: exact LUs of the total-spin blocks, or of their excitation slabs when
    # those do not fit in max_memory (decision 41)
    smoother = estimate(model, opts, symmetric)["smoother"]
    x, residual, info = solve_unique(model, name, solve_steady, L, space.diagonal.astype(float),
                                     pivots=_pivots(model, space), blocks=_blocks(space),
                                     swap=space.swap(), direct_limit=_direct_limit(opts, space),
                                     max_time=opts["max_time"],
                                     slabs=_slabs(space) if smoother == "excitation" else None)
    bar.advance(3, "solve")
    bar.close()
    state = DickeFockState(model, space, x)
    checks = _state_checks(model, state, opts)
    checks.update(residual=residual, solver=info)
    physical_or_raise(model, name, checks)
    return Result(name, model, state=state, values=_values(state, e_ops), checks=checks,
                  stats={"dimension": space.dim, "symmetry": model.symmetry,
                         "time": time.perf_counter() - t0},
                  evaluator=state.expect, e_ops=e_ops)


def evolve(model, tlist, initial=None, e_ops=None, options=None, *, symmetric=False):
    """Exact evolution in the Dicke basis.

    ``initial``: ``None``/``"ground"`` (vacuum, every atom in level 1 = ``basis(2, 1)``),
    ``"excited"``, ``"superradiant"``, a Dicke state ``(j, m)``, a
    :class:`DickeFockState` of the same space, or a Qobj in the Dicke representation or
    the tensor space (see :meth:`DickeFockState.to_qobj`; a tensor-space state must be
    permutation invariant).  Coherences outside the sector ``k = 0`` are evolved too.

    Options: ``nphot``, ``max_memory``, QuTiP's ``atol``/``rtol``/``nsteps`` (the Adams
    integrator instead of the exact propagator), ``max_time``, ``progress_bar``; their
    meanings and defaults are documented by :func:`qutip_superrad.evolve`.
    """
    name = "manifold" if symmetric else "dicke"
    tlist = V.check_grid("tlist", tlist)
    opts = check_evolve_options(V.check_options(options, _EVOLVE_DEFAULTS,
                                                f"evolve(method={name!r})"))
    e_ops = normalise_e_ops(e_ops)
    space, x0 = _initial(model, opts, initial, symmetric, name)
    L = liouvillian(model, space)
    xs = propagate(L, x0, tlist, opts)
    states = [DickeFockState(model, space, x) for x in xs]
    values = {k: np.array([st.expect(op) for st in states]) for k, op in e_ops.items()}
    values = {k: v.real if np.all(np.abs(v.imag) <= 1e-12 * np.maximum(1, np.abs(v))) else v
              for k, v in values.items()}
    return TimeResult(name, model, tlist, values, states=states, e_ops=e_ops,
                      stats={"dimension": space.dim})


def _regression(model, operator, opts, symmetric):
    """``(L_k, v, w, steady state, space)`` with ``⟨B†(τ)B(0)⟩ = wᵀ e^{L_k τ} v`` (``v = Bρ``)."""
    ss = steadystate(model, None, opts, symmetric=symmetric)
    s0, x = ss.state.space, ss.state.vector
    Bw = words(model, operator)
    shifts = set()
    for _, ops in Bw:
        shifts.add(sum(o[3] - o[2] for o in ops))
    if len(shifts) != 1:
        raise ValueError("B must change the excitation number by a definite amount")
    k = -shifts.pop() if model.sector_modulus != 1 else 0
    space = DickeFockSpace(s0.counts, s0.cutoffs, k, model.sector_modulus, symmetric, s0.jmax)
    L = liouvillian(model, space)
    v = np.zeros(space.dim, complex)
    for c, ops in Bw:                           # v = B ρ
        n, e, a = s0.apply(ops, s0.jjs, s0.n, s0.es)
        idx = space.index(s0.jjs, n, e, s0.n2, s0.e2s)
        ok = idx >= 0
        np.add.at(v, idx[ok], c * a[ok] * x[ok])
    w = np.zeros(space.dim, complex)           # Tr(B† X) = Σ ⟨bra|B†|ket⟩ X[ket, bra]
    for c, ops in (_dag(wd) for wd in Bw):
        n, e, a = space.apply(ops, space.jjs, space.n, space.es)
        hit = np.all(e == space.e2s, axis=0) & np.all(n == space.n2, axis=0)
        w[hit] += c * a[hit]
    return L, v, w, ss, space


def _blocks(space):
    """Start indices of the total-spin blocks (elements are sorted by them)."""
    return np.flatnonzero(np.r_[True, np.diff(space.block) != 0])


def spectrum(model, omega, operator, options=None, *, symmetric=False):
    """``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨B†(τ)B(0)⟩ dτ`` by the quantum regression theorem.

    ``B`` must change the excitation number by a definite amount (``a``, ``J⁻``…).
    """
    name = "manifold" if symmetric else "dicke"
    omega = V.check_grid("omega", omega)
    opts = check_steady_options(options, dict(_DEFAULTS, prominence=None),
                                f"spectrum(method={name!r})")
    prominence = opts.pop("prominence")
    # the regression sector's preconditioner uses the smoother of the steady state (the
    # excitation slabs when the total-spin blocks' LUs would not fit, decision 41); the
    # sector has about the size of the steady state's
    est = estimate(model, opts, symmetric)
    V.check_memory(est["memory"], opts["max_memory"],
                   f"the Dicke-basis regression sector ({est['size']} elements)")
    with Progress(2, f"spectrum(method={name!r})", opts["progress_bar"]) as bar:
        L, v, w, ss, space = _regression(model, operator, dict(opts, progress_bar=None),
                                         symmetric)
        bar.advance(1, "steady state")
        res = qrt_spectrum(L, v, w, omega, name, {"steady_state": ss.checks},
                           blocks=_blocks(space), direct_limit=_direct_limit(opts, space),
                           prominence=prominence,
                           slabs=_slabs(space) if est["smoother"] == "excitation" else None)
        bar.advance(1, "spectrum")
    res.checks["g1_0"] = float(np.real(w @ v))
    res.steady_state = ss
    return res


def correlation(model, taulist, operator, options=None, *, symmetric=False):
    """``⟨B†(τ)B(0)⟩`` in the steady state on ``taulist`` (quantum regression, exact ``e^{Lτ}``)."""
    taulist = V.check_grid("taulist", taulist)
    return correlation_function(model, operator, options, symmetric=symmetric)(taulist)


def correlation_function(model, operator, options=None, *, symmetric=False):
    """``τ ↦ ⟨B†(τ)B(0)⟩`` as a function of delay grids, the steady state solved once
    (for callers that evaluate it on several grids, e.g. an adaptive fit window)."""
    name = "manifold" if symmetric else "dicke"
    opts = check_steady_options(options, _DEFAULTS, f"correlation(method={name!r})")
    L, v, w, _, _ = _regression(model, operator, opts, symmetric)
    return lambda taulist: propagate(L, v, taulist) @ w
