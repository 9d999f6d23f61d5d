/* Inner loops of cumulant_sparse.pyx on (re, im) pairs held in one 128-bit vector.
 *
 * GCC/Clang vector extensions: one load and one multiply-add per complex entry instead
 * of two scalar ones (the loops are load-bound).
 * Layouts: see cumulant_sparse.pyx and engine/lower.py. */
#ifndef QSR_CUMULANT_SPARSE_CORE_H
#define QSR_CUMULANT_SPARSE_CORE_H

typedef double qsr_v2d __attribute__((vector_size(16), aligned(8)));
typedef long long qsr_v2i __attribute__((vector_size(16)));

#if defined(__clang__)
#define QSR_SWAP(v) __builtin_shufflevector((v), (v), 1, 0)
#else
#define QSR_SWAP(v) __builtin_shuffle((v), (qsr_v2i){1, 0})
#endif

/* The two loops are compiled twice, with and without FMA, and the loader picks the
 * variant the CPU supports (GCC/Clang function multiversioning on x86-64 ELF): a fused
 * multiply-add per entry is 15-20% faster (33 against 40 us on the 6-site chain, AMD EPYC
 * with 512 KiB L2), while the package still builds and runs with the baseline x86-64 flags. */
#if defined(__x86_64__) && defined(__ELF__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define QSR_MULTIVERSION __attribute__((target_clones("fma", "default")))
#endif
#endif
#ifndef QSR_MULTIVERSION
#define QSR_MULTIVERSION
#endif

/* m[k] = m[a[k - nb]] * m[b[k - nb]] for nb <= k < count.  Scalar arithmetic: gcc's
 * code for the vector form needs four shuffles per product and measured 12% slower. */
QSR_MULTIVERSION static void qsr_monomials(double *m, const int *a, const int *b,
                                 long nb, long count) {
    for (long k = nb; k < count; k++) {
        const double *x = m + 2 * a[k - nb], *y = m + 2 * b[k - nb];
        const double xr = x[0], xi = x[1], yr = y[0], yi = y[1];
        m[2 * k] = xr * yr - xi * yi;
        m[2 * k + 1] = xr * yi + xi * yr;
    }
}

/* sum_{e < end} w[e] m[ix[e]], four partial sums (the additions are latency-bound) */
static inline __attribute__((always_inline)) qsr_v2d qsr_wsum(const qsr_v2d *m, const int *ix, const double *w,
                               long e, long end) {
    qsr_v2d s0 = {0.0, 0.0}, s1 = s0, s2 = s0, s3 = s0;
    for (; e + 4 <= end; e += 4) {
        s0 += m[ix[e]] * w[e];
        s1 += m[ix[e + 1]] * w[e + 1];
        s2 += m[ix[e + 2]] * w[e + 2];
        s3 += m[ix[e + 3]] * w[e + 3];
    }
    for (; e < end; e++)
        s0 += m[ix[e]] * w[e];
    return (s0 + s1) + (s2 + s3);
}

/* dy[r] = (real-weight segment of row r) + i (imaginary-weight segment) */
QSR_MULTIVERSION static void qsr_apply(double *dyd, const double *md, const int *seg, const int *ix,
                             const double *w, long n) {
    qsr_v2d *dy = (qsr_v2d *)dyd;
    const qsr_v2d *m = (const qsr_v2d *)md;
    const qsr_v2d i_times = {-1.0, 1.0};
    for (long r = 0; r < n; r++) {
        qsr_v2d re = qsr_wsum(m, ix, w, seg[2 * r], seg[2 * r + 1]);
        qsr_v2d im = qsr_wsum(m, ix, w, seg[2 * r + 1], seg[2 * r + 2]);
        dy[r] = re + QSR_SWAP(im) * i_times;
    }
}

#endif
