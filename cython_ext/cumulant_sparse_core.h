/* Inner loops of cumulant_sparse.pyx on (re, im) pairs held in one 128-bit vector.
 *
 * Both loops read their operands through byte offsets into the slot vector m, packed
 * two per 64-bit word (low 32 bits: first factor, high 32 bits: second): one load and
 * two integer operations per pair instead of two index loads and two shifts.  The
 * loops are bound by loads (two per cycle on the hosts measured), so every load saved
 * counts.  Layouts: see cumulant_sparse.pyx and engine/lower.py. */
#ifndef QSR_CUMULANT_SPARSE_CORE_H
#define QSR_CUMULANT_SPARSE_CORE_H

#include <stdint.h>

typedef double qsr_v2d __attribute__((vector_size(16), aligned(8)));
typedef long long qsr_v2i __attribute__((vector_size(16)));

#if defined(__clang__)
#define QSR_SWAP(v) __builtin_shufflevector((v), (v), 1, 0)
#else
#define QSR_SWAP(v) __builtin_shuffle((v), (qsr_v2i){1, 0})
#endif

/* The two loops are compiled twice, with and without FMA, and the loader picks the
 * variant the CPU supports (GCC/Clang function multiversioning on x86-64 ELF): fused
 * multiply-adds take the 6-site chain from 28.3 to 22.0 us per call (AMD EPYC), while
 * the package still builds and runs with the baseline x86-64 flags. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define QSR_MULTIVERSION __attribute__((target_clones("fma", "default")))
#endif
#endif
#ifndef QSR_MULTIVERSION
#define QSR_MULTIVERSION
#endif

#define QSR_AT(mb, off) (*(const qsr_v2d *)((mb) + (off)))

/* m[start + k] = m[a] * m[b] for the packed offsets ab[k], k < count.  Scalar
 * arithmetic: gcc's code for the vector form needs four shuffles per product. */
QSR_MULTIVERSION static void qsr_products(double *m, const uint64_t *ab, long start, long count) {
    const char *mb = (const char *)m;
    double *o = m + 2 * start;
    for (long k = 0; k < count; k++) {
        const uint64_t p = ab[k];
        const double *x = (const double *)(mb + (uint32_t)p), *y = (const double *)(mb + (p >> 32));
        const double xr = x[0], xi = x[1], yr = y[0], yi = y[1];
        o[2 * k] = xr * yr - xi * yi;
        o[2 * k + 1] = xr * yi + xi * yr;
    }
}

/* One entry x * y of a row: A += (xr yr, xi yi) and B += (xr yi, xi yr); the row is
 * (ΣA_0 - ΣA_1) + i (ΣB_0 + ΣB_1).  One shuffle and two multiply-adds per entry. */
#define QSR_ENTRY(A, B, k) { const uint64_t p_ = xy[k]; \
    const qsr_v2d x_ = QSR_AT(mb, (uint32_t)p_), y_ = QSR_AT(mb, p_ >> 32); \
    A += x_ * y_; B += x_ * QSR_SWAP(y_); }

/* dy[r] = Σ_{e in row r} m[x_e] m[y_e]; every row holds a multiple of four entries
 * (padded with 1 · 0), so there is no remainder loop to mispredict. */
QSR_MULTIVERSION static void qsr_row_sums(double *dyd, const double *m, const int64_t *rp,
                                          const uint64_t *xy, long n) {
    const char *mb = (const char *)m;
    qsr_v2d *dy = (qsr_v2d *)dyd;
    for (long r = 0; r < n; r++) {
        qsr_v2d a0 = {0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int64_t e = rp[r]; e < rp[r + 1]; e += 4) {
            QSR_ENTRY(a0, b0, e) QSR_ENTRY(a1, b1, e + 1)
            QSR_ENTRY(a2, b2, e + 2) QSR_ENTRY(a3, b3, e + 3)
        }
        const qsr_v2d a = (a0 + a1) + (a2 + a3), b = (b0 + b1) + (b2 + b3);
        dy[r] = (qsr_v2d){a[0] - a[1], b[0] + b[1]};
    }
}

#undef QSR_ENTRY
#endif
