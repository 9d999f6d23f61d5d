"""Exact solver on the symmetric Dicke manifold ``j = N/2``.

For the model of Y. Shimshi and E. Shahmoon, *Dissipative phase transition and
metrology in collectively pumped superradiance* (2024), "the paper" below
(App. C, E).

The collective master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ

conserves the total spin ``j``; starting from the ground state (all atoms in
``|g⟩``, ``m = −j``) it never leaves the ``N + 1`` Dicke states ``|j, m⟩``.
The Liouvillian further splits into *diagonal sectors* ``Diag⁽ᵏ⁾`` spanned by
``|m⟩⟨m+k|`` (``k = 0 … N``; ``Diag⁽⁻ᵏ⁾ = Diag⁽ᵏ⁾†`` has the same spectrum).
Each sector is a real tridiagonal matrix of size ``N + 1 − k``::

    d/dt ρ_{m,m+k} = γ √(a_m a_{m+k}) ρ_{m+1,m+k+1} + w √(b_m b_{m+k}) ρ_{m−1,m+k−1}
                     − ½[γ (b_m + b_{m+k}) + w (a_m + a_{m+k})] ρ_{m,m+k}

with ``a_m = (j − m)(j + m + 1) = |⟨m+1|J⁺|m⟩|²`` and
``b_m = (j + m)(j − m + 1) = |⟨m−1|J⁻|m⟩|²``.  Because ``a_m = b_{m+1}``, the
product of the two off-diagonal entries of each pair is ``γ w a_m a_{m+k} ≥ 0``:
every sector is similar to a *symmetric* tridiagonal matrix, so all Liouvillian
eigenvalues are real and are computed here with the LAPACK tridiagonal
eigensolver (``scipy.linalg.eigh_tridiagonal``) in double precision — O(N) per
eigenvalue, which is what makes N = 1000 take milliseconds.

Index conventions
-----------------
Internally arrays are indexed by ``i = m + j`` (ascending ``m``; ``i = 0`` is
the collective ground state ``|g…g⟩``).  :class:`qutip.Qobj` objects returned
to the user use QuTiP's ordering of :func:`qutip.jmat`, i.e. *descending*
``m`` (index 0 is ``m = +j``, all atoms excited), consistent with
``basis(2, 0)`` being the excited state of one atom.
"""
import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from .._validate import check_count, check_grid, check_rate, check_int, check_options

__all__ = [
    "spin_operators", "sector_liouvillian", "sector_spectrum", "liouvillian_spectrum",
    "steady_populations", "relaxation_rate", "sector_gap", "manifold_liouvillian",
    "evolve_populations", "evolve_sector", "evolve_density_matrix", "jz_moments",
]


def _mvals(N):
    j = N / 2
    return np.arange(N + 1) - j, j


def _a(N):
    """``a_m = (j−m)(j+m+1)`` on ascending ``m`` (rate factor of ``m → m+1`` under J⁺)."""
    m, j = _mvals(N)
    return (j - m) * (j + m + 1)


def _b(N):
    """``b_m = (j+m)(j−m+1)`` on ascending ``m`` (rate factor of ``m → m−1`` under J⁻)."""
    m, j = _mvals(N)
    return (j + m) * (j - m + 1)


def spin_operators(N):
    """Collective spin operators on the ``j = N/2`` manifold, in double precision.

    Parameters
    ----------
    N : int
        Number of two-level atoms, ``N >= 1``.

    Returns
    -------
    jm, jp, jz : qutip.Qobj
        ``J⁻``, ``J⁺`` and ``J_z`` as ``(N+1) × (N+1)`` operators in QuTiP's
        ordering (index 0 is ``m = +N/2``, all atoms excited), identical to
        ``qutip.jmat(N/2, "-")`` etc.
    """
    import qutip
    N = check_count("N", N)
    m, j = _mvals(N)
    m_desc = m[::-1]
    # J⁻|m⟩ = √b_m |m−1⟩; in descending order |m⟩ is index i, |m−1⟩ is i+1.
    amp = np.sqrt((j + m_desc[:-1]) * (j - m_desc[:-1] + 1))
    jm = sp.diags(amp, -1, shape=(N + 1, N + 1), format="csr")
    jm_q = qutip.Qobj(jm, dims=[[N + 1], [N + 1]])
    jz_q = qutip.Qobj(sp.diags(m_desc, 0, format="csr"), dims=[[N + 1], [N + 1]])
    return jm_q, jm_q.dag(), jz_q


def _check_sector_args(N, gamma, w, k=0):
    N = check_count("N", N)
    gamma = check_rate("gamma", gamma)
    w = check_rate("pump (w)", w)
    k = check_int("k", k, minimum=-N, maximum=N)
    return N, gamma, w, abs(k)


def _sector_bands(N, gamma, w, k):
    """Diagonal, super- and sub-diagonal of the ``Diag⁽ᵏ⁾`` generator (ascending m)."""
    a, b = _a(N), _b(N)
    n = N + 1 - k
    a1, a2 = a[:n], a[k:k + n]          # a_m, a_{m+k}
    b1, b2 = b[:n], b[k:k + n]
    diag = -0.5 * (gamma * (b1 + b2) + w * (a1 + a2))
    # Row i (element m) gets γ√(a_m a_{m+k}) from element m+1 (column i+1) …
    upper = gamma * np.sqrt(a1[:-1] * a2[:-1])
    # … and w√(b_m b_{m+k}) from element m−1 (column i−1), for i >= 1.
    lower = w * np.sqrt(b1[1:] * b2[1:])
    return diag, upper, lower


def sector_liouvillian(N, gamma, w, k=0):
    """Generator of the sector ``Diag⁽ᵏ⁾`` as a sparse tridiagonal matrix.

    Parameters
    ----------
    N : int
        Number of atoms (``j = N/2``).
    gamma : float
        Collective decay rate ``γ`` of ``γ D[J⁻]``, ``>= 0``.
    w : float
        Collective pump rate of ``w D[J⁺]``, ``>= 0``.
    k : int
        Sector index, ``|k| <= N``; elements ``|m⟩⟨m+k|`` for ascending
        ``m = −j … j−k``.  ``Diag⁽⁻ᵏ⁾`` is the Hermitian conjugate sector and
        has the same (real) generator.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (N+1−|k|, N+1−|k|)
        ``d vec/dt = L_k vec`` with ``vec[i] = ρ_{m, m+k}``, ``m = i − j``.
        For ``k = 0`` this is the rate matrix of the populations; its columns
        sum to zero.
    """
    N, gamma, w, k = _check_sector_args(N, gamma, w, k)
    diag, upper, lower = _sector_bands(N, gamma, w, k)
    return sp.diags([lower, diag, upper], [-1, 0, 1], format="csr")


def _symmetric_bands(N, gamma, w, k):
    diag, upper, lower = _sector_bands(N, gamma, w, k)
    off = np.sqrt(upper * lower)          # = √(γ w a_m a_{m+k})
    return diag, off


def sector_spectrum(N, gamma, w, k=0):
    """All eigenvalues of the sector ``Diag⁽ᵏ⁾``, sorted from 0 downwards.

    The sector is similar to a real symmetric tridiagonal matrix (see module
    docstring), so the eigenvalues are real and obtained in O(N²) or better.

    Returns
    -------
    ndarray, shape (N+1−|k|,)
        Real eigenvalues in descending order (the first one of ``k = 0`` is the
        steady state, ``≈ 0``).
    """
    N, gamma, w, k = _check_sector_args(N, gamma, w, k)
    diag, off = _symmetric_bands(N, gamma, w, k)
    if diag.size == 1:
        return diag.copy()
    ev = scipy.linalg.eigh_tridiagonal(diag, off, eigvals_only=True)
    return ev[::-1]


def liouvillian_spectrum(N, gamma, w, sectors=None):
    """Spectra of several sectors.

    Parameters
    ----------
    sectors : iterable of int, optional
        Sector indices ``k >= 0`` (default: all, ``0 … N``).  ``Diag⁽⁻ᵏ⁾`` has
        the same spectrum as ``Diag⁽ᵏ⁾``.

    Returns
    -------
    dict
        ``{k: eigenvalues}``, each array sorted descending.
    """
    N = check_count("N", N)
    ks = range(N + 1) if sectors is None else [check_int("sectors (k)", k, 0, N) for k in sectors]
    return {k: sector_spectrum(N, gamma, w, k) for k in ks}


def sector_gap(N, gamma, w, k=0):
    """Smallest decay rate of sector ``k``.

    For ``k = 0`` the steady-state eigenvalue (the one closest to zero) is
    excluded: this is the relaxation rate ``λ(w)`` of the populations (the
    paper's App. C, E).  For ``k ≠ 0`` it is ``min |Re μ|`` over the whole sector (all
    coherences decay; the paper reports ``γ`` for ``k = ±1``).
    """
    N, gamma, w, k = _check_sector_args(N, gamma, w, k)
    diag, off = _symmetric_bands(N, gamma, w, k)
    n = diag.size
    if k == 0:
        if n < 2:
            raise ValueError("N must be >= 1 for a relaxation rate")
        if n == 2:
            ev = scipy.linalg.eigh_tridiagonal(diag, off, eigvals_only=True)
        else:
            ev = scipy.linalg.eigh_tridiagonal(diag, off, eigvals_only=True,
                                               select="i", select_range=(n - 2, n - 1))
        return float(-np.sort(ev)[0])
    if n == 1:
        return float(-diag[0])
    ev = scipy.linalg.eigh_tridiagonal(diag, off, eigvals_only=True,
                                       select="i", select_range=(n - 1, n - 1))
    return float(-ev[-1])


def relaxation_rate(N, gamma, w):
    """Exact relaxation rate ``λ(w)``: smallest non-zero ``|μ|`` of ``Diag⁽⁰⁾``.

    This is the asymptotic decay rate of ``⟨J_z(t)⟩`` and of ``C_zz(τ)``
    (the paper's App. E).  It is exact for every ``N``; for ``N = 100`` its minimum
    over ``w`` is ``≈ 2γ`` at ``w ≈ γ``.

    Returns
    -------
    float
    """
    return sector_gap(N, gamma, w, 0)


def steady_populations(N, gamma, w):
    """Exact steady-state populations ``p_m`` of the manifold (ascending ``m``).

    The population sector is a birth–death generator (tridiagonal, columns
    summing to zero); its stationary vector obeys detailed balance
    ``p_{m+1} L[m, m+1] = p_m L[m+1, m]``, which is evaluated from the matrix
    elements of :func:`sector_liouvillian` in log space (no overflow for
    ``N = 1000`` far from ``w = γ``).  It equals the thermal state
    ``e^{−βJ_z}/Z`` with ``β = −ln(w/γ)`` of the paper's eq. (3), which is *not*
    assumed here.

    Returns
    -------
    ndarray, shape (N+1,)
        ``p[i] = ⟨m|ρ_s|m⟩`` for ``m = i − N/2``.

    Raises
    ------
    ValueError
        If ``γ = w = 0`` (every state is stationary).
    """
    N, gamma, w, _ = _check_sector_args(N, gamma, w, 0)
    if gamma == 0 and w == 0:
        raise ValueError("collective_emission and collective_pumping are both 0: every state "
                         "is stationary (steady state not unique); give collective_emission > 0 "
                         "or collective_pumping > 0")
    diag, upper, lower = _sector_bands(N, gamma, w, 0)
    # rate up (i -> i+1) = lower[i] ; rate down (i+1 -> i) = upper[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.log(lower) - np.log(upper)
    if gamma == 0:
        p = np.zeros(N + 1)
        p[-1] = 1.0
        return p
    if w == 0:
        p = np.zeros(N + 1)
        p[0] = 1.0
        return p
    logp = np.concatenate([[0.0], np.cumsum(step)])
    logp -= logp.max()
    p = np.exp(logp)
    return p / p.sum()


def jz_moments(populations):
    """``(⟨J_z⟩, Var[J_z], ⟨J⁺J⁻⟩)`` from populations on ascending ``m``.

    ``populations`` may be a 1-D array (one state) or 2-D ``(T, N+1)``.
    """
    p = np.asarray(populations, dtype=float)
    N = p.shape[-1] - 1
    m, j = _mvals(N)
    mean = p @ m
    # centred second moment: accurate also when |⟨J_z⟩| ≈ j
    if p.ndim == 1:
        var = float(p @ (m - mean) ** 2)
        mean = float(mean)
    else:
        var = np.einsum("ti,ti->t", p, (m[None, :] - mean[:, None]) ** 2)
    jpjm = p @ _b(N)
    return mean, var, jpjm


def manifold_liouvillian(N, gamma, w):
    """Full ``(N+1)² × (N+1)²`` Liouvillian of ``γD[J⁻] + wD[J⁺]`` as a QuTiP superoperator.

    Built with :func:`qutip.liouvillian` from :func:`spin_operators`
    (QuTiP ordering).  Meant for cross-checks against :func:`qutip.steadystate`
    and :func:`qutip.mesolve`; the sector solvers above never build it.
    """
    import qutip
    N, gamma, w, _ = _check_sector_args(N, gamma, w, 0)
    jm, jp, _ = spin_operators(N)
    return qutip.liouvillian(None, [np.sqrt(gamma) * jm, np.sqrt(w) * jp])


_EVOLVE_DEFAULTS = {"rtol": 1e-8, "atol": 1e-11, "max_step": np.inf, "method": "BDF"}


def _pump_function(pump):
    if callable(pump):
        return _checked_pump(pump)
    wconst = check_rate("pump (w)", pump)
    return lambda t: wconst          # noqa: E731


def evolve_sector(N, gamma, pump, tlist, v0, k=0, options=None):
    """Integrate one sector ``Diag⁽ᵏ⁾`` with a (possibly time-dependent) pump.

    Parameters
    ----------
    N : int
    gamma : float
    pump : float or callable
        ``w`` or ``w(t)``; a callable must return a finite rate ``>= 0``
        (checked at every evaluation).  A :class:`qutip.Coefficient` works
        (it is callable as ``coeff(t)``).
    tlist : array_like
        Strictly increasing output times; integration starts at ``tlist[0]``.
    v0 : array_like, shape (N+1−|k|,)
        Initial elements ``ρ_{m,m+k}`` on *ascending* ``m`` (real for
        ``k = 0``; complex allowed otherwise).
    k : int
        Sector; ``Diag⁽⁻ᵏ⁾`` evolves as the complex conjugate of ``Diag⁽ᵏ⁾``.
    options : dict, optional
        ``rtol`` (1e-8), ``atol`` (1e-11), ``max_step`` (inf), ``method``
        (``"BDF"``; any implicit :func:`scipy.integrate.solve_ivp` method).
        The generator is stiff (eigenvalues up to ``~N²(γ+w)/2``): an implicit
        method with the exact sparse Jacobian is used.

    Returns
    -------
    ndarray, shape (len(tlist), N+1−|k|)
    """
    N = check_count("N", N)
    gamma = check_rate("gamma", gamma)
    k = abs(check_int("k", k, minimum=-N, maximum=N))
    tlist = check_grid("tlist", tlist)
    opts = check_options(options, _EVOLVE_DEFAULTS, "evolve_sector")
    v0 = np.asarray(v0)
    if v0.shape != (N + 1 - k,):
        raise ValueError(f"initial vector of sector k={k} must have shape ({N + 1 - k},), "
                         f"got {v0.shape}")
    if not np.all(np.isfinite(v0)):
        raise ValueError("initial state must be finite")
    v0 = v0.astype(float) if np.isrealobj(v0) else v0.astype(complex)
    wfun = _pump_function(pump)
    A = sector_liouvillian(N, gamma, 0.0, k).tocsc()       # γ part
    B = sector_liouvillian(N, 0.0, 1.0, k).tocsc()         # per unit w
    wfun(tlist[0])                                         # validate before integrating
    if tlist.size == 1:
        return v0[None, :].copy()

    def rhs(t, y):
        return A @ y + wfun(t) * (B @ y)

    def jac(t, y):
        return A + wfun(t) * B

    sol = solve_ivp(rhs, (tlist[0], tlist[-1]), v0, t_eval=tlist, jac=jac,
                    method=opts["method"], rtol=opts["rtol"], atol=opts["atol"],
                    max_step=opts["max_step"])
    if not sol.success:
        raise RuntimeError(f"sector k={k} integration failed: {sol.message}")
    return sol.y.T


def evolve_populations(N, gamma, pump, tlist, p0, options=None):
    """Integrate the population sector ``Diag⁽⁰⁾``; see :func:`evolve_sector`.

    ``p0`` are the initial populations on *ascending* ``m`` (shape ``(N+1,)``);
    returns the populations, shape ``(len(tlist), N+1)``.
    """
    p0 = np.asarray(p0, dtype=float)
    N = check_count("N", N)
    if p0.shape != (N + 1,):
        raise ValueError(f"initial populations must have shape ({N + 1},), got {p0.shape}")
    return evolve_sector(N, gamma, pump, tlist, p0, 0, options)


def evolve_density_matrix(N, gamma, pump, tlist, rho0, options=None, sectors=None):
    """Evolve a full density matrix on the manifold, sector by sector.

    Parameters
    ----------
    rho0 : qutip.Qobj
        Ket or density matrix of dimension ``N + 1`` (QuTiP ordering,
        index 0 is ``m = +N/2``).
    sectors : iterable of int, optional
        Sectors ``k >= 0`` to evolve (default: every ``k`` in which ``rho0``
        has a non-zero element).  Elements of other sectors are set to 0.
    options : dict, optional
        As for :func:`evolve_sector`.

    Returns
    -------
    list of qutip.Qobj
        ``ρ(t)`` at each time of ``tlist`` (QuTiP ordering).
    """
    import qutip
    N = check_count("N", N)
    if not isinstance(rho0, qutip.Qobj) or rho0.shape[0] != N + 1:
        raise ValueError(f"rho0 must be a Qobj of dimension N+1 = {N + 1}")
    rho = (rho0.proj() if rho0.isket else rho0).full()[::-1, ::-1]   # ascending m
    n = N + 1
    if sectors is None:
        sectors = [k for k in range(n) if np.any(np.abs(np.diagonal(rho, k)) > 0)]
    else:
        sectors = [check_int("k", k, 0, N) for k in sectors]
    tlist = check_grid("tlist", tlist)
    out = np.zeros((tlist.size, n, n), dtype=complex)
    i = np.arange(n)
    for k in sectors:
        v0 = np.diagonal(rho, k).copy()
        if k == 0:
            v0 = v0.real
        V = evolve_sector(N, gamma, pump, tlist, v0, k, options)
        out[:, i[:n - k], i[:n - k] + k] = V
        if k:
            out[:, i[:n - k] + k, i[:n - k]] = V.conj()
    return [qutip.Qobj(m[::-1, ::-1], dims=[[n], [n]]) for m in out]


def _checked_pump(pump):
    def wfun(t):
        val = pump(t)
        try:
            val = float(np.real(val))
        except (TypeError, ValueError):
            raise TypeError(f"pump(t) must return a real number, got {val!r} at t={t}") from None
        if not np.isfinite(val):
            raise ValueError(f"pump(t) must be finite, got {val} at t={t}")
        if val < 0:
            raise ValueError(f"pump(t) must be a rate >= 0, got {val} at t={t}")
        return val
    return wfun
