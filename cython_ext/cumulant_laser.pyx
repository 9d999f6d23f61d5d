"""Second-order cluster cumulant equations of the superradiant laser (seed 000, eq 5 / A1).

Right-hand side and Jacobian–vector product, O(M²) per call, fused loops over
the cluster pairs (no M×M temporaries), double precision, GIL released.
The NumPy oracle with the same layout is
:func:`qutip_superrad.cumulant.laser.rhs_numpy` / ``jvp_numpy``.

State layout (real vector of length ``M² + 3M + 1``)::

    x[0]                    n     = <a†a>
    x[1 : 1+M]              Re b_m, b_m = <a σ⁺_m>
    x[1+M : 1+2M]           Im b_m
    x[1+2M : 1+3M]          p_m   = <σ⁺_m σ⁻_m>
    x[1+3M : 1+4M]          c_mm  = <σ⁺_{a,m} σ⁻_{b,m}>, a ≠ b (real)
    x[1+4M + 2k], x[..+1]   Re, Im c_mj = <σ⁺_m σ⁻_j>, pair k of (m < j) in row-major order
"""
from libc.stdlib cimport malloc, free


cdef void _rhs(const double* x, Py_ssize_t M, const double* N, const double* D,
               const double* g, double kappa, double gamma, double pump, double nu,
               double xi, double dc, double* out, double* S) noexcept nogil:
    cdef Py_ssize_t m, j, k
    cdef double n = x[0]
    cdef double gb = 0.5 * (kappa + xi + gamma + pump + nu)
    cdef double gp = gamma + pump + nu
    cdef double bmr, bmi, qm, bjr, bji, qj, cr, ci, Dmj, w, pm, flux
    cdef const double* br = x + 1
    cdef const double* bi = x + 1 + M
    cdef const double* p = x + 1 + 2 * M
    cdef const double* cd = x + 1 + 3 * M
    for m in range(2 * M):
        S[m] = 0.0
    k = 1 + 4 * M
    for m in range(M):
        bmr = br[m]
        bmi = bi[m]
        qm = 1.0 - 2.0 * p[m]
        for j in range(m + 1, M):
            cr = x[k]
            ci = x[k + 1]
            bjr = br[j]
            bji = bi[j]
            qj = 1.0 - 2.0 * p[j]
            Dmj = D[m] - D[j]
            # dc_mj = -(gp + iΔ_mj) c_mj + i g_m q_m conj(b_j) - i g_j q_j b_m
            out[k] = -gp * cr + Dmj * ci + g[m] * qm * bji + g[j] * qj * bmi
            out[k + 1] = -gp * ci - Dmj * cr + g[m] * qm * bjr - g[j] * qj * bmr
            # S_m += N_j g_j c_mj ; S_j += N_m g_m conj(c_mj)
            S[m] += N[j] * g[j] * cr
            S[M + m] += N[j] * g[j] * ci
            S[j] += N[m] * g[m] * cr
            S[M + j] -= N[m] * g[m] * ci
            k += 2
    flux = 0.0
    for m in range(M):
        bmr = br[m]
        bmi = bi[m]
        pm = p[m]
        qm = 1.0 - 2.0 * pm
        S[m] += (N[m] - 1.0) * g[m] * cd[m]
        out[1 + 3 * M + m] = -gp * cd[m] + 2.0 * g[m] * bmi * qm
        out[1 + 2 * M + m] = 2.0 * g[m] * bmi - (gamma + pump) * pm + pump
        w = dc + D[m]
        out[1 + m] = -gb * bmr + w * bmi + S[M + m]
        out[1 + M + m] = -gb * bmi - w * bmr - g[m] * (2.0 * n * pm - n + pm) - S[m]
        flux += N[m] * g[m] * bmi
    out[0] = -kappa * n - 2.0 * flux


cdef void _jvp(const double* x, const double* v, Py_ssize_t M, const double* N,
               const double* D, const double* g, double kappa, double gamma, double pump,
               double nu, double xi, double dc, double* out, double* S) noexcept nogil:
    cdef Py_ssize_t m, j, k
    cdef double n = x[0]
    cdef double dn = v[0]
    cdef double gb = 0.5 * (kappa + xi + gamma + pump + nu)
    cdef double gp = gamma + pump + nu
    cdef double bmr, bmi, qm, bjr, bji, qj, Dmj, w, pm, flux
    cdef double dbmr, dbmi, dqm, dbjr, dbji, dqj, dcr, dci, dpm
    cdef const double* br = x + 1
    cdef const double* bi = x + 1 + M
    cdef const double* p = x + 1 + 2 * M
    cdef const double* vbr = v + 1
    cdef const double* vbi = v + 1 + M
    cdef const double* vp = v + 1 + 2 * M
    cdef const double* vcd = v + 1 + 3 * M
    for m in range(2 * M):
        S[m] = 0.0
    k = 1 + 4 * M
    for m in range(M):
        bmr = br[m]
        bmi = bi[m]
        qm = 1.0 - 2.0 * p[m]
        dbmr = vbr[m]
        dbmi = vbi[m]
        dqm = -2.0 * vp[m]
        for j in range(m + 1, M):
            dcr = v[k]
            dci = v[k + 1]
            bjr = br[j]
            bji = bi[j]
            qj = 1.0 - 2.0 * p[j]
            dbjr = vbr[j]
            dbji = vbi[j]
            dqj = -2.0 * vp[j]
            Dmj = D[m] - D[j]
            out[k] = (-gp * dcr + Dmj * dci + g[m] * (qm * dbji + dqm * bji)
                      + g[j] * (qj * dbmi + dqj * bmi))
            out[k + 1] = (-gp * dci - Dmj * dcr + g[m] * (qm * dbjr + dqm * bjr)
                          - g[j] * (qj * dbmr + dqj * bmr))
            S[m] += N[j] * g[j] * dcr
            S[M + m] += N[j] * g[j] * dci
            S[j] += N[m] * g[m] * dcr
            S[M + j] -= N[m] * g[m] * dci
            k += 2
    flux = 0.0
    for m in range(M):
        bmi = bi[m]
        pm = p[m]
        qm = 1.0 - 2.0 * pm
        dbmr = vbr[m]
        dbmi = vbi[m]
        dpm = vp[m]
        S[m] += (N[m] - 1.0) * g[m] * vcd[m]
        out[1 + 3 * M + m] = -gp * vcd[m] + 2.0 * g[m] * (dbmi * qm - 2.0 * bmi * dpm)
        out[1 + 2 * M + m] = 2.0 * g[m] * dbmi - (gamma + pump) * dpm
        w = dc + D[m]
        out[1 + m] = -gb * dbmr + w * dbmi + S[M + m]
        out[1 + M + m] = (-gb * dbmi - w * dbmr
                          - g[m] * (2.0 * dn * pm + 2.0 * n * dpm - dn + dpm) - S[m])
        flux += N[m] * g[m] * dbmi
    out[0] = -kappa * dn - 2.0 * flux


def _check(Py_ssize_t size, Py_ssize_t M):
    if size != M * M + 3 * M + 1:
        raise ValueError(f"state has length {size}, expected M²+3M+1 = {M * M + 3 * M + 1}")


def rhs(const double[::1] x, const double[::1] counts, const double[::1] detunings,
        const double[::1] couplings, double kappa, double gamma, double pump, double nu,
        double xi, double dc, double[::1] out):
    """Write ``dx/dt`` into ``out`` (see the module docstring for the layout)."""
    cdef Py_ssize_t M = counts.shape[0]
    _check(x.shape[0], M)
    _check(out.shape[0], M)
    if detunings.shape[0] != M or couplings.shape[0] != M:
        raise ValueError("counts, detunings and couplings must have the same length")
    cdef double* S = <double*> malloc(2 * M * sizeof(double))
    if S == NULL:
        raise MemoryError()
    with nogil:
        _rhs(&x[0], M, &counts[0], &detunings[0], &couplings[0], kappa, gamma, pump, nu,
             xi, dc, &out[0], S)
    free(S)


def jvp(const double[::1] x, const double[::1] v, const double[::1] counts,
        const double[::1] detunings, const double[::1] couplings, double kappa, double gamma,
        double pump, double nu, double xi, double dc, double[::1] out):
    """Write the Jacobian–vector product ``J(x)·v`` into ``out``."""
    cdef Py_ssize_t M = counts.shape[0]
    _check(x.shape[0], M)
    _check(v.shape[0], M)
    _check(out.shape[0], M)
    if detunings.shape[0] != M or couplings.shape[0] != M:
        raise ValueError("counts, detunings and couplings must have the same length")
    cdef double* S = <double*> malloc(2 * M * sizeof(double))
    if S == NULL:
        raise MemoryError()
    with nogil:
        _jvp(&x[0], &v[0], M, &counts[0], &detunings[0], &couplings[0], kappa, gamma, pump,
             nu, xi, dc, &out[0], S)
    free(S)
