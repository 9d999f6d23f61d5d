"""Semiclassical MCWF trajectories of a moving V-level atom (seed 002, Sec. IV, eqs 12–15).

One trajectory at a time in C: RK4 for the unnormalised amplitudes (c_1, c_2, c_3) and the
classical (x, y, p_x, p_y), a quantum jump when the norm falls below the trajectory's
threshold, recoil kicks along a random 3-D direction projected on the laser axes.
Random numbers come from the counter-based generator of
:func:`qutip_superrad.models.vlevel_motion.counter_uniform` (SplitMix64 of key + counter),
consumed in the same order as the NumPy oracle
:func:`qutip_superrad.models.vlevel_motion._run_batch_numpy`, so both give the same
trajectories.  GIL released.
"""
from libc.math cimport cos, sin, sqrt, M_PI
from libc.stdint cimport uint64_t

cdef uint64_t _GOLDEN = 0x9E3779B97F4A7C15ULL


cdef inline double _uniform(uint64_t key, uint64_t* counter) noexcept nogil:
    cdef uint64_t z = key + counter[0] * _GOLDEN
    counter[0] += 1
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    z = z ^ (z >> 31)
    return <double>(z >> 11) * (1.0 / 9007199254740992.0)


cdef struct Par:
    double k[2]
    double Om[2]
    double Delta[2]
    double hr[2]          # Re of −i H_eff on levels 2, 3: −decay/2
    double hi[2]          # Im: Δ
    double force[2]
    double inv_mass
    double rates[4]


cdef inline void _rhs(const Par* p, const double* c, const double* X, double* dc,
                      double* dX) noexcept nogil:
    # c = (Re c1, Im c1, Re c2, Im c2, Re c3, Im c3); g_i = −i Ω_i cos(k_i r_i)
    cdef double ph0 = p.k[0] * X[0], ph1 = p.k[1] * X[1]
    cdef double g0 = p.Om[0] * cos(ph0), g1 = p.Om[1] * cos(ph1)
    cdef double norm2 = c[0] * c[0] + c[1] * c[1] + c[2] * c[2] + c[3] * c[3] + c[4] * c[4] \
        + c[5] * c[5]
    # −i g (a + ib) = g b − i g a
    dc[0] = g0 * c[3] + g1 * c[5]
    dc[1] = -(g0 * c[2] + g1 * c[4])
    dc[2] = p.hr[0] * c[2] - p.hi[0] * c[3] + g0 * c[1]
    dc[3] = p.hr[0] * c[3] + p.hi[0] * c[2] - g0 * c[0]
    dc[4] = p.hr[1] * c[4] - p.hi[1] * c[5] + g1 * c[1]
    dc[5] = p.hr[1] * c[5] + p.hi[1] * c[4] - g1 * c[0]
    dX[0] = X[2] * p.inv_mass
    dX[1] = X[3] * p.inv_mass
    dX[2] = p.force[0] * sin(ph0) * (c[0] * c[2] + c[1] * c[3]) / norm2
    dX[3] = p.force[1] * sin(ph1) * (c[0] * c[4] + c[1] * c[5]) / norm2


cdef inline void _record(const Par* p, const double* c, const double* X, double* s,
                         double* q) noexcept nogil:
    cdef double norm2 = c[0] * c[0] + c[1] * c[1] + c[2] * c[2] + c[3] * c[3] + c[4] * c[4] \
        + c[5] * c[5]
    cdef double p1 = (c[0] * c[0] + c[1] * c[1]) / norm2
    cdef double p2 = (c[2] * c[2] + c[3] * c[3]) / norm2
    cdef double p3 = (c[4] * c[4] + c[5] * c[5]) / norm2
    cdef double cp0 = p.Om[0] * cos(p.k[0] * X[0]) * 2 * (c[0] * c[2] + c[1] * c[3]) / norm2
    cdef double cp1 = p.Om[1] * cos(p.k[1] * X[1]) * 2 * (c[0] * c[4] + c[1] * c[5]) / norm2
    cdef double o[7]
    cdef int i
    o[0] = 0.5 * p.inv_mass * X[2] * X[2]
    o[1] = 0.5 * p.inv_mass * X[3] * X[3]
    o[2] = p1
    o[3] = p2
    o[4] = p3
    o[5] = p2 - p1
    o[6] = -(p.Delta[0] * p2 + p.Delta[1] * p3) + cp0 + cp1
    for i in range(7):
        s[i] += o[i]
        q[i] += o[i] * o[i]


def run_batch(const uint64_t[::1] keys, const long[::1] nsub, const double[::1] h,
              const double[::1] k, const double[::1] Omega, const double[::1] Delta,
              const double[::1] decay, const double[::1] force, double inv_mass,
              const double[::1] rates, const double[::1] r0, const double[::1] p0,
              double[:, ::1] sums, double[:, ::1] squares, long[::1] counts,
              double[:, ::1] final_momentum):
    """Integrate ``len(keys)`` trajectories; accumulate sums / squares of the 7 observables
    at the ``len(nsub) + 1`` output times, the jump counts per channel and the final momenta
    (see the NumPy oracle for the meaning of every argument)."""
    cdef Par p
    cdef Py_ssize_t i, t, s, j, n = keys.shape[0], T = nsub.shape[0]
    cdef double c[6]
    cdef double X[4]
    cdef double k1c[6], k2c[6], k3c[6], k4c[6], tc[6]
    cdef double k1X[4], k2X[4], k3X[4], k4X[4], tX[4]
    cdef double u, hh, norm2, pop2, pop3, w[4], cum[4], r, ct, st, phi, kick
    cdef uint64_t counter
    cdef int ch, target
    for j in range(2):
        p.k[j] = k[j]
        p.Om[j] = Omega[j]
        p.Delta[j] = Delta[j]
        p.hr[j] = -0.5 * decay[j]
        p.hi[j] = Delta[j]
        p.force[j] = force[j]
    p.inv_mass = inv_mass
    for j in range(4):
        p.rates[j] = rates[j]
    cdef bint never = rates[0] + rates[1] + rates[2] + rates[3] == 0
    with nogil:
        for i in range(n):
            counter = 0
            for j in range(6):
                c[j] = 0.0
            c[0] = 1.0
            X[0] = r0[0]
            X[1] = r0[1]
            X[2] = p0[0]
            X[3] = p0[1]
            u = 0.0 if never else _uniform(keys[i], &counter)
            _record(&p, c, X, &sums[0, 0], &squares[0, 0])
            for t in range(T):
                hh = h[t]
                for s in range(nsub[t]):
                    _rhs(&p, c, X, k1c, k1X)
                    for j in range(6):
                        tc[j] = c[j] + 0.5 * hh * k1c[j]
                    for j in range(4):
                        tX[j] = X[j] + 0.5 * hh * k1X[j]
                    _rhs(&p, tc, tX, k2c, k2X)
                    for j in range(6):
                        tc[j] = c[j] + 0.5 * hh * k2c[j]
                    for j in range(4):
                        tX[j] = X[j] + 0.5 * hh * k2X[j]
                    _rhs(&p, tc, tX, k3c, k3X)
                    for j in range(6):
                        tc[j] = c[j] + hh * k3c[j]
                    for j in range(4):
                        tX[j] = X[j] + hh * k3X[j]
                    _rhs(&p, tc, tX, k4c, k4X)
                    for j in range(6):
                        c[j] += (hh / 6) * (k1c[j] + 2 * (k2c[j] + k3c[j]) + k4c[j])
                    for j in range(4):
                        X[j] += (hh / 6) * (k1X[j] + 2 * (k2X[j] + k3X[j]) + k4X[j])
                    norm2 = c[0] * c[0] + c[1] * c[1] + c[2] * c[2] + c[3] * c[3] \
                        + c[4] * c[4] + c[5] * c[5]
                    if norm2 >= u:
                        continue
                    # a jump: the channel, then (collapse, kick) or renormalisation
                    pop2 = c[2] * c[2] + c[3] * c[3]
                    pop3 = c[4] * c[4] + c[5] * c[5]
                    w[0] = p.rates[0] * pop2
                    w[1] = p.rates[1] * pop3
                    w[2] = p.rates[2] * pop2
                    w[3] = p.rates[3] * pop3
                    cum[0] = w[0]
                    for j in range(1, 4):
                        cum[j] = cum[j - 1] + w[j]
                    r = _uniform(keys[i], &counter) * cum[3]
                    ch = 0
                    for j in range(4):
                        if cum[j] < r:
                            ch += 1
                    if cum[3] == 0:       # norm lost without a jump rate (round-off)
                        norm2 = sqrt(norm2)
                        for j in range(6):
                            c[j] /= norm2
                        u = _uniform(keys[i], &counter)
                        continue
                    for j in range(6):
                        c[j] = 0.0
                    target = 0 if ch < 2 else ch - 1           # |1⟩, |1⟩, |2⟩, |3⟩
                    c[2 * target] = 1.0
                    ct = -1.0 + 2.0 * _uniform(keys[i], &counter)
                    phi = 2.0 * M_PI * _uniform(keys[i], &counter)
                    st = sqrt(1.0 - ct * ct)
                    kick = p.k[ch] if ch < 2 else 0.0
                    X[2] += kick * st * cos(phi)
                    X[3] += kick * st * sin(phi)
                    counts[ch] += 1
                    u = _uniform(keys[i], &counter)
                _record(&p, c, X, &sums[t + 1, 0], &squares[t + 1, 0])
            final_momentum[i, 0] = X[2]
            final_momentum[i, 1] = X[3]
