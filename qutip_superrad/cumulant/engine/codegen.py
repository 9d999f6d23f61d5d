"""Numerical right-hand sides of closed equations (:class:`~.ir.ClosedEquations`).

Four evaluators of the same equations:

* :class:`NumpyRHS` -- ``numpy.einsum`` per term (the oracle, and the
  fallback when no C compiler is available);
* :class:`CompiledRHS` -- generated C with loops over cluster indices,
  compiled at run time with the system C compiler into a cache directory
  keyed by the SHA-256 of the source (as QuTiP does for string
  coefficients), loaded as a small extension module (buffer protocol, no NumPy headers);
* :class:`TableRHS` -- for ``M = 1``, a term table evaluated by the kernel
  ``_kernels.cumulant_terms`` precompiled at install;
* :class:`SparseRHS` -- the equations lowered once to monomials and one
  sparse product (:mod:`.lower`), evaluated by the precompiled kernel
  ``_kernels.cumulant_sparse``, with an analytic sparse Jacobian; the
  default for ``M = 1``.

Compiled kernels (``docs/architecture.md``): a missing *precompiled* kernel
is an ``ImportError`` naming the fix (reinstall); run-time C generation
without a compiler falls back to NumPy with a ``RuntimeWarning``.

Layout: the unknowns are one complex vector; family ``f`` occupies
``M ** f.slots`` entries (C order over its cluster indices).  Parameters are
one real vector: the scalar parameters in ``system.scalar_parameters``
order, then each indexed parameter (``system.indexed_parameters``, which
includes the cluster sizes ``N``) as ``M`` values.

Packed layout (:func:`packing`, :meth:`_RHS.packed`): the independent
unknowns only.  A Hermitian pair family (``Y[j, m] = conj(Y[m, j])``,
``Family.hermitian_swap``) keeps its upper triangle ``m ≤ j`` row by row
(``M (M + 1) / 2`` entries), every other family is stored as above.  The
solver loops (Newton, ``evolve``) work on it; the generated C evaluates it
natively, the other evaluators expand it.

Sums over clusters whose summand does not involve every index of the
equation are *hoisted*: ``Σ_c N_c g_c ⟨σ_c σ_j⟩`` in the equation of
``⟨σ_m σ_j⟩`` is computed once per ``j`` into a temporary array, so that the
laser's pair equations cost ``O(M²)``, as the hand-written kernel.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from collections import Counter

import numpy as np

from ... import _kernels
from .ir import family_shape, param_key, var_size

__all__ = ["NumpyRHS", "CompiledRHS", "TableRHS", "SparseRHS", "make_rhs", "layout", "packing",
           "cache_dir", "find_compiler"]


def layout(system, M):
    """Offsets of the families in the state vector and its length."""
    offs, n = [], 0
    for f in system.families:
        offs.append(n)
        n += int(np.prod(family_shape(f, M), dtype=np.int64))
    return offs, n


def packing(system, M):
    """Map between the full state vector and the packed one (module docstring).

    Returns
    -------
    keep : ndarray of int
        Full-layout indices of the packed entries, in packed order (``x = y[keep]``):
        the upper triangle of each Hermitian pair family, row by row, and every
        entry of the other families.
    dst, src : ndarray of int
        Full-layout indices of the lower triangles and of their mirrors:
        ``y[dst] = conj(y[src])`` completes a full vector from ``y[keep]``.
    """
    offsets, n = layout(system, M)
    keep = np.ones(n, bool)
    dst, src = [], []
    for fam, o in zip(system.families, offsets):
        if getattr(fam, "hermitian_swap", False):   # QRT families may not carry it
            m = family_shape(fam, M)[0]
            i, j = np.tril_indices(m, -1)
            dst.append(o + i * m + j)
            src.append(o + j * m + i)
    if dst:
        dst, src = np.concatenate(dst), np.concatenate(src)
        keep[dst] = False
    else:
        dst = src = np.zeros(0, np.intp)
    return np.flatnonzero(keep), dst, src


def _pack_params(system, params, clusters, M):
    """Parameter vector (see module docstring) from dicts; validates names."""
    vec = []
    for name in system.scalar_parameters:
        if name not in params:
            raise KeyError(f"parameter {name!r} is not bound (params needs "
                           f"{system.scalar_parameters})")
        vec.append(float(params[name]))
    if isinstance(M, dict):                      # several index sets: {family: {name: values}}
        for fam, name in system.indexed_keys:
            values = (clusters or {}).get(fam, {})
            if name not in values:
                raise KeyError(f"per-index parameter {name!r} of {fam!r} is not bound")
            arr = np.asarray(values[name], dtype=float).ravel()
            if arr.size != M[fam]:
                raise ValueError(f"clusters[{fam!r}][{name!r}] has {arr.size} values, "
                                 f"expected {M[fam]}")
            vec.extend(arr)
        return np.ascontiguousarray(vec, dtype=float)
    for name in system.indexed_parameters:
        if name not in clusters:
            raise KeyError(f"per-cluster parameter {name!r} is not bound (clusters needs "
                           f"{system.indexed_parameters})")
        arr = np.asarray(clusters[name], dtype=float).ravel()
        if arr.size != M:
            raise ValueError(f"clusters[{name!r}] has {arr.size} values, expected M={M}")
        vec.extend(arr)
    return np.ascontiguousarray(vec, dtype=float)


def _param_offsets(system, M):
    off = {n: i for i, n in enumerate(system.scalar_parameters)}
    base = len(system.scalar_parameters)
    if isinstance(M, dict):
        ioff = {}
        for key in system.indexed_keys:
            ioff[key] = base
            base += M[key[0]]
        return off, ioff
    ioff = {n: base + k * M for k, n in enumerate(system.indexed_parameters)}
    return off, ioff


def _n_params(system, M):
    """Length of the parameter vector."""
    if isinstance(M, dict):
        return len(system.scalar_parameters) + sum(M[f] for f, _ in system.indexed_keys)
    return len(system.scalar_parameters) + M * len(system.indexed_parameters)


class _RHS:
    """Layout, parameter binding and state checks shared by the evaluators."""

    def __init__(self, system, M):
        self.system = system
        self.M = dict(M) if isinstance(M, dict) else int(M)
        self.offsets, self.n = layout(system, self.M)

    def bind(self, pvec):
        """Store the parameter vector (see :func:`_pack_params`)."""
        self._pvec = np.asarray(pvec, dtype=float)
        off, ioff = _param_offsets(self.system, self.M)
        self._scal = {n: self._pvec[i] for n, i in off.items()}
        size = (lambda k: self.M[k[0]]) if isinstance(self.M, dict) else (lambda k: self.M)
        self._ind = {n: self._pvec[i:i + size(n)] for n, i in ioff.items()}

    def _io(self, y, out, n=None):
        """Contiguous complex state of the right size (``n``, default the full
        length) and the output array."""
        n = self.n if n is None else n
        if not isinstance(y, np.ndarray) or y.dtype != np.complex128 or not y.flags.c_contiguous:
            y = np.ascontiguousarray(y, dtype=complex)
        if y.size != n:
            raise ValueError(f"state has {y.size} entries, expected {n}")
        return y, (np.empty(n, dtype=complex) if out is None else out)

    @property
    def packing(self):
        """``(keep, dst, src)`` of :func:`packing` for this layout (computed once)."""
        if not hasattr(self, "_packing"):
            self._packing = packing(self.system, self.M)
        return self._packing

    @property
    def n_packed(self):
        """Length of the packed state vector (module docstring)."""
        return self.packing[0].size

    def pack(self, y):
        """Packed vector of a full one (the lower triangles of Hermitian pair
        families are dropped, not checked)."""
        return np.asarray(y)[..., self.packing[0]]

    def unpack(self, x):
        """Full vector (or rows of full vectors) from packed ones: lower
        triangles are the conjugates of the upper ones."""
        keep, dst, src = self.packing
        x = np.asarray(x, dtype=complex)
        y = np.empty(x.shape[:-1] + (self.n,), dtype=complex)
        y[..., keep] = x
        y[..., dst] = np.conj(y[..., src])
        return y

    def packed(self, x, out=None):
        """``dx/dt`` of the packed unknowns ``x`` (module docstring).

        The derivative of the full vector :meth:`unpack` ``(x)``, restricted
        to the packed entries; evaluators without a packed kernel expand,
        evaluate and select.
        """
        if self.packing[1].size == 0:
            # nothing mirrored (no Hermitian pair family, e.g. every M = 1 system): the
            # packed layout is the full one, and the copies would double a µs call
            return self(x, out=out)
        x, out = self._io(x, out, self.n_packed)
        np.take(self(self.unpack(x)), self.packing[0], out=out)
        return out


class NumpyRHS(_RHS):
    """Vectorised NumPy evaluation of the closed equations (reference oracle).

    Parameters
    ----------
    system : ClosedSystem
    M : int
        Number of clusters (``1`` without clusters).
    """

    backend = "numpy"

    def __init__(self, system, M):
        super().__init__(system, M)
        self._plans = [self._plan(f) for f in system.families]

    def _plan(self, fam):
        out_vars = [f"i{k}" for k in range(fam.slots)]
        plans = []
        for t in self.system.rhs[fam.index]:
            letters = {}
            for v in out_vars + t.variables():
                if v not in letters:
                    letters[v] = chr(ord("a") + len(letters))
            ops = []
            for name, v, p in t.params:
                if v is not None:
                    ops.append(("p", param_key(name, v, fam, self.M), p, letters[v]))
                else:
                    ops.append(("s", name, p, None))
            for fi, fv, cj in t.factors:
                ops.append(("y", fi, cj, "".join(letters[v] for v in fv)))
            present = [v for v in out_vars if v in t.variables()]
            shape = tuple(var_size(v, fam, self.M) if v in present else 1 for v in out_vars)
            outsub = "".join(letters[v] for v in present)
            plans.append((t.number, ops, outsub, shape))
        return plans

    def __call__(self, y, out=None):
        M = self.M
        y, _ = self._io(y, out)
        shapes = [family_shape(f, M) for f in self.system.families]
        arrays = [y[o:o + int(np.prod(sh))].reshape(sh)
                  for o, sh in zip(self.offsets, shapes)]
        dy = np.zeros(self.n, dtype=complex) if out is None else out
        for fam, o, plans, sh in zip(self.system.families, self.offsets, self._plans, shapes):
            acc = np.zeros(sh, dtype=complex)
            for num, ops, outsub, shape in plans:
                c = complex(num)
                operands, subs = [], []
                for kind, a, b, sub in ops:
                    if kind == "s":
                        c *= self._scal[a] ** b
                    elif kind == "p":
                        operands.append(self._ind[a] ** b)
                        subs.append(sub)
                    else:
                        x = arrays[a]
                        operands.append(np.conj(x) if b else x)
                        subs.append(sub)
                if operands:
                    r = np.einsum(",".join(subs) + "->" + outsub, *operands, optimize=True)
                else:
                    r = np.asarray(1.0)
                acc = acc + c * np.reshape(r, shape)
            dy[o:o + acc.size] = acc.ravel()
        return dy


# --------------------------------------------------------------------------
# C code generation
# --------------------------------------------------------------------------

def _cnum(z):
    z = complex(z)
    re, im = repr(z.real), repr(z.imag)
    if z.imag == 0:
        return f"({re})"
    if z.real == 0:
        return f"({im}*I)"
    return f"({re}+{im}*I)"


class _Gen:
    """C source of the packed right-hand side (module docstring) and its full-layout
    entry point.

    A Hermitian pair family ``Y`` is read as ``Y[a, b] = y[OFF + PK(a, b)]`` when
    ``a ≤ b`` is known where the read is generated (same index, the family loop
    ``i0 ≤ i1`` of a Hermitian family, the upper-triangle row sums), else through
    ``hget`` (``conj`` of the mirrored entry below the diagonal).
    """

    def __init__(self, system):
        self.system = system
        self.off_sym = {f.index: f"OFF{f.index}" for f in system.families}
        self.scal = {n: i for i, n in enumerate(system.scalar_parameters)}
        self.ind = {n: k for k, n in enumerate(system.indexed_parameters)}
        self.nscal = len(system.scalar_parameters)
        self.temps = {}      # key -> (name, dims vars (canonical), code)
        self.temp_code = []
        self.ordered = set()  # index pairs (a, b) with a ≤ b in the loop being generated

    def idx(self, vars_):
        if not vars_:
            return "0"
        e = vars_[0]
        for v in vars_[1:]:
            e = f"({e})*M+{v}"
        return e

    def param(self, name, var, p):
        if var is None:
            s = f"p[{self.scal[name]}]"
        else:
            s = f"p[{self.nscal}+{self.ind[name]}*M+{var}]"
        return "*".join([s] * p)

    def moment(self, fi, vars_, cj):
        if self.system.families[fi].hermitian_swap:
            a, b = vars_
            # Y[i1, i0] in the loop i0 ≤ i1 goes through hget too: on the diagonal it is
            # Y[i0, i0] itself, not its conjugate (a diagonal need not be real)
            if a == b or (a, b) in self.ordered:
                s = f"y[OFF{fi}+PK({a},{b})]"
            else:
                s = f"hget(y+OFF{fi},M,{a},{b})"
        else:
            s = f"y[OFF{fi}+{self.idx(list(vars_))}]"
        return f"conj({s})" if cj else s

    def factor_exprs(self, t):
        """``(C expression, index variables)`` of the parameters and moments of a term.

        (A Hermitian pair entry needs no reordering for memory order: ``hget`` reads
        the packed upper triangle either way.)
        """
        ex = []
        for name, v, p in t.params:
            ex.append((self.param(name, v, p), {v} if v else set()))
        for fi, fv, cj in t.factors:
            ex.append((self.moment(fi, fv, cj), set(fv)))
        return ex

    def temp(self, cs, dep, dvars):
        """Temporary ``T[dvars] = Σ_{cs} Π dep`` (deduplicated across equations)."""
        import re

        # a temporary runs over full index ranges: it must not read a packed entry
        # through the ordering of the family loop (i0 ≤ i1)
        assert not any(f"PK({a},{b})" in e for a, b in self.ordered for e in dep), dep
        ren = {v: f"d{k}" for k, v in enumerate(dvars)}
        ren.update({c: f"cc{k}" for k, c in enumerate(cs)})

        def rn(x):
            return re.sub(r"\b(i\d+|c\d+)\b", lambda m: ren.get(m.group(1), m.group(1)), x)
        body = "*".join(rn(e) for e in dep) or "1.0"
        key = (len(dvars), len(cs), body)
        if key not in self.temps:
            name = f"T{len(self.temps)}"
            size = "*".join(["M"] * len(dvars)) or "1"
            offset = " + ".join(["0"] + [sz for _, sz in self.temp_code])
            dims = [f"d{k}" for k in range(len(dvars))]
            loops = "".join(f"for(int {d}=0;{d}<M;{d}++)" for d in dims)
            code = (f"  {{ double complex *{name} = tmp + ({offset});\n"
                    f"  {loops}{{ {_sum_code([f'cc{k}' for k in range(len(cs))], body)} "
                    f"{name}[{self.idx(dims)}] = s; }} }}\n")
            self.temps[key] = (name, offset)
            self.temp_code.append((code, size))
        name, offset = self.temps[key]
        self.used_temps.add(key)
        return f"{name}[{self.idx(list(dvars))}]"

    def term(self, fam, t):
        """One summand; sums over clusters are factorised into hoisted temporaries.

        The summed indices are split into groups connected by factors that
        involve several of them; each group whose factors leave out some of
        the equation's own indices becomes a temporary computed once per call
        (``Σ_c N_c g_c ⟨σ_c σ_j⟩`` in the pair equation: ``O(M²)``, not
        ``O(M³)``; separable double sums ``Σ_{c,c'} f(c) g(c')``: two ``O(M)`` sums).
        """
        out_vars = [f"i{k}" for k in range(fam.slots)]
        summed = [v for v in t.variables() if v not in out_vars]
        ex = self.factor_exprs(t)
        num = _cnum(t.number)
        if not summed:
            return "acc += " + "*".join([num] + [e for e, _ in ex]) + ";"
        # connected groups of summed indices
        groups = [{c} for c in summed]
        for _, vs in ex:
            hit = [g for g in groups if g & vs]
            if len(hit) > 1:
                merged = set().union(*hit)
                groups = [g for g in groups if not g & vs] + [merged]
        indep = [e for e, vs in ex if not vs & set(summed)]
        factors, inline = [], []
        for g in groups:
            row = self.row_sum(t, g, ex, out_vars)
            if row is not None:
                factors.append(row)
                continue
            dep = [e for e, vs in ex if vs & g]
            dvars = sorted(set().union(*(vs for e, vs in ex if vs & g)) - g,
                           key=lambda v: int(v[1:]))
            if len(dvars) < len(out_vars):
                factors.append(self.temp(sorted(g), dep, dvars))
            else:
                inline.append((sorted(g), dep))
        expr = "*".join([num] + indep + factors)
        if not inline:
            return "acc += " + expr + ";"
        cs = [c for g, _ in inline for c in g]
        body = "*".join([e for _, dep in inline for e in dep] or ["1.0"])
        return "{ " + _sum_code(cs, body) + " acc += " + expr + "*s; }"

    def row_sum(self, t, group, ex, out_vars):
        """Temporary ``R[d] = Σ_c w(c) Y[d, c]`` read from the upper triangle of ``Y``.

        For a sum over one index ``c`` of a Hermitian pair family ``Y`` (packed
        upper triangle, ``Y[c, d] = conj(Y[d, c])``) times factors of ``c`` only: one
        pass over the upper triangle adds ``w(c) Y[d, c]`` to ``R[d]`` and
        ``w(d) conj(Y[d, c])`` to ``R[c]`` — half the memory of the row sums
        (laser ``Σ_c N_c g_c ⟨σ⁺_m σ⁻_c⟩`` at M = 1000: 1.6 → 0.8 ms).  ``None``
        if the sum has another form.
        """
        import re

        if len(group) != 1:
            return None
        c, = group
        pair = [(fi, fv, cj) for fi, fv, cj in t.factors if c in fv]
        if len(pair) != 1:
            return None
        fi, fv, cj = pair[0]
        if not self.system.families[fi].hermitian_swap or len(set(fv)) != 2:
            return None
        cjd = cj                  # the diagonal Y[d, d] as written: it need not be real
        if fv[0] == c:
            fv, cj = (fv[1], fv[0]), not cj
        if fv[0] not in out_vars:
            return None
        others = [(e, vs) for e, vs in ex if c in vs and vs != set(fv)]
        if any(vs != {c} for _, vs in others):
            return None

        def at(expr, v):
            return re.sub(rf"\b{c}\b", v, expr)
        w = "*".join(e for e, _ in others) or "1.0"
        # parameters are real: a weight of parameters only is a real factor (two
        # multiplications per complex product instead of four and two additions)
        params = {self.param(name, v, p) for name, v, p in t.params}
        wtype = "double" if all(e in params for e, _ in others) else "double complex"
        y = f"y[OFF{fi}+PK(d0,cc0)]"              # row d0 of the packed triangle
        v = f"conj({y})" if cj else y
        yd = f"y[OFF{fi}+PK(d0,d0)]"
        vd = f"conj({yd})" if cjd else yd
        key = ("row", fi, cj, cjd, w)
        if key not in self.temps:
            name = f"T{len(self.temps)}"
            offset = " + ".join(["0"] + [sz for _, sz in self.temp_code])
            code = (f"  {{ double complex *{name} = tmp + ({offset});\n"
                    f"  for(int d0=0;d0<M;d0++) {name}[d0] = 0;\n"
                    f"  for(int d0=0;d0<M;d0++){{ const {wtype} wd = {at(w, 'd0')}; "
                    f"double complex s = {name}[d0] + wd*{vd}; "
                    f"for(int cc0=d0+1;cc0<M;cc0++){{ const double complex v = {v}; "
                    f"s += ({at(w, 'cc0')})*v; {name}[cc0] += wd*conj(v); }} "
                    f"{name}[d0] = s; }} }}\n")
            self.temps[key] = (name, offset)
            self.temp_code.append((code, "M"))
        name, _ = self.temps[key]
        self.used_temps.add(key)
        return f"{name}[{fv[0]}]"

    def family_lines(self, fam):
        """C statements of one equation; plain terms sharing their moments are grouped."""
        out_vars = {f"i{k}" for k in range(fam.slots)}
        groups, plain, lines = {}, [], []
        for t in self.system.rhs[fam.index]:
            if all(v in out_vars for v in t.variables()):
                plain.append(t)
            else:
                lines.append(self.term(fam, t))
        if fam.slots >= 2:
            return self.separable_lines(fam, plain) + lines
        for t in plain:
            coef = "*".join([_cnum(t.number)] + [self.param(n, v, p) for n, v, p in t.params])
            groups.setdefault(t.factors, []).append(coef)
        for factors, coefs in groups.items():
            moms = [self.moment(fi, fv, cj) for fi, fv, cj in factors]
            lines.insert(0, "acc += " + "*".join(["(" + " + ".join(coefs) + ")"] + moms) + ";")
        return lines

    def separable_lines(self, fam, plain):
        """Plain terms of a family with several indices, factored per index.

        A term ``A(i0) B(i1) C(i0, i1)`` is grouped with the terms that share
        every factor except those of one index ``v``; their ``v`` parts are
        summed once per call into a temporary over ``v`` (``O(M)``), so each
        of the ``M²`` entries costs one product per group, as in the hand
        kernel (``i g_j (1 − 2p_j) b_m*``).  Groups with the same remaining
        factors share one product: ``C (T[i0] + T'[i1])``.
        """
        out_vars = [f"i{k}" for k in range(fam.slots)]
        items = [(_cnum(t.number), self.factor_exprs(t)) for t in plain]

        def keys(ex):
            return {(v, tuple(sorted(e for e, vs in ex if vs and vs != {v}))) for v in out_vars}
        # greedy: the largest group first; ties: one that shares a product with a group
        # formed already, then the last index (contiguous in memory)
        left, groups = list(range(len(items))), []
        while left:
            count = Counter(k for i in left for k in keys(items[i][1]))
            formed = {rest for (_, rest), _ in groups}
            best = max(count, key=lambda k: (count[k], k[1] in formed, k[0] == out_vars[-1], k))
            members = [i for i in left if best in keys(items[i][1])]
            left = [i for i in left if i not in members]
            groups.append((best, [(items[i][0], [(e, vs) for e, vs in items[i][1]
                                                 if not vs or vs == {best[0]}])
                                  for i in members]))
        merged = {}
        for (v, rest), parts in groups:
            body = " + ".join("*".join([num] + [e for e, _ in part]) for num, part in parts)
            if any(vs for _, part in parts for _, vs in part):
                body = self.temp([], [f"({body})"], [v])
            merged.setdefault(rest, []).append(f"({body})")
        return ["acc += " + "*".join(list(rest) + ["(" + " + ".join(sides) + ")"]) + ";"
                for rest, sides in merged.items()]

    def source(self):
        """C source: one static function per family (keeps gcc fast on big systems).

        ``qsr_rhs_packed`` evaluates the packed layout (module docstring): a Hermitian
        pair family's equation runs over its upper triangle ``i0 ≤ i1`` and writes
        it, nothing else.  ``qsr_rhs`` is the full layout: it packs the upper
        triangles into a scratch vector, calls ``qsr_rhs_packed`` and writes the
        result back with the mirrored lower triangles (one code path for both).
        """
        fams = self.system.families
        herm = [fam for fam in fams if fam.hermitian_swap]
        offs, foffs, o, fo = [], [], "0", "0"
        for fam in fams:
            offs.append(f"#define OFF{fam.index} ({o})")
            foffs.append(f"#define FOFF{fam.index} ({fo})")
            size = "*".join(["M"] * fam.slots or ["1"])
            o = f"OFF{fam.index}+" + ("M*(M+1)/2" if fam.hermitian_swap else size)
            fo = f"FOFF{fam.index}+{size}"
        funcs, calls = [], []
        for fam in fams:
            out_vars = [f"i{k}" for k in range(fam.slots)]
            loops = "".join(f"for(int {v}=0;{v}<M;{v}++)" for v in out_vars)
            self.used_temps = set()
            if fam.hermitian_swap:
                loops = "for(int i0=0;i0<M;i0++)for(int i1=i0;i1<M;i1++)"
                self.ordered = {("i0", "i1")}
                store = f"dy[OFF{fam.index}+PK(i0,i1)] = acc;"
            else:
                store = f"dy[OFF{fam.index}+{self.idx(out_vars)}] = acc;"
            lines = self.family_lines(fam)
            self.ordered = set()
            decl = "".join(f"  const double complex *{self.temps[k][0]} = tmp + ({self.temps[k][1]});\n"
                           for k in sorted(self.used_temps, key=lambda k: self.temps[k][0]))
            funcs.append(
                f"/* d/dt <{fam.name}> */\n"
                f"static void f{fam.index}(const long M, const double complex *restrict y, "
                "double complex *restrict dy, const double *restrict p, "
                "const double complex *restrict tmp) {\n" + decl
                + f"  {loops}{{\n    double complex acc = 0;\n    " + "\n    ".join(lines)
                + f"\n    {store}\n  }}\n}}\n")
            calls.append(f"  f{fam.index}(M, y, dy, p, tmp);\n")
        tsizes = " + ".join(s for _, s in self.temp_code) or "0"
        sig = ("(const long M, const double complex *restrict y, "
               "double complex *restrict dy, const double *restrict p)")
        if herm:
            # full layout through the packed kernel: gather the upper triangles, scatter
            # them back with their conjugate mirrors
            gather, scatter = [], []
            for fam in fams:
                k = fam.index
                if fam.hermitian_swap:
                    gather.append(f"  for(long i=0;i<M;i++)for(long j=i;j<M;j++) "
                                  f"x[OFF{k}+PK(i,j)] = y[FOFF{k}+i*M+j];\n")
                    scatter.append(f"  for(long i=0;i<M;i++){{ dy[FOFF{k}+i*M+i] = dx[OFF{k}+PK(i,i)]; "
                                   f"for(long j=i+1;j<M;j++){{ const double complex v = "
                                   f"dx[OFF{k}+PK(i,j)]; dy[FOFF{k}+i*M+j] = v; "
                                   f"dy[FOFF{k}+j*M+i] = conj(v); }} }}\n")
                else:
                    size = "*".join(["M"] * fam.slots or ["1"])
                    gather.append(f"  memcpy(x+OFF{k}, y+FOFF{k}, sizeof(double complex)*({size}));\n")
                    scatter.append(f"  memcpy(dy+FOFF{k}, dx+OFF{k}, sizeof(double complex)*({size}));\n")
            last = fams[-1].index
            np_ = f"(OFF{last}+" + ("M*(M+1)/2" if fams[-1].hermitian_swap
                                     else "*".join(["M"] * fams[-1].slots or ["1"])) + ")"
            full = (f"int qsr_rhs{sig} {{\n"
                    f"  const long NP = {np_};\n"
                    "  double complex *x = malloc(sizeof(double complex)*(2*NP+1));\n"
                    "  if (!x) return -1;\n"
                    "  double complex *dx = x + NP;\n"
                    + "".join(gather)
                    + "  const int r = qsr_rhs_packed(M, x, dx, p);\n"
                    + "".join(scatter)
                    + "  free(x);\n  return r;\n}\n")
        else:
            full = f"int qsr_rhs{sig} {{ return qsr_rhs_packed(M, y, dy, p); }}\n"
        src = ("/* generated by qutip_superrad.cumulant.engine.codegen */\n"
               "#include <complex.h>\n#include <stdlib.h>\n#include <string.h>\n"
               "/* entry (i, j), i <= j, of a packed Hermitian pair family (row by row) */\n"
               "#define PK(i,j) ((long)(i)*M-((long)(i)*((long)(i)+1))/2+(j))\n"
               "static inline double complex hget(const double complex *Y, const long M, "
               "const long a, const long b) {\n"
               "  return a <= b ? Y[PK(a,b)] : conj(Y[PK(b,a)]);\n}\n"
               + "\n".join(offs) + "\n" + "\n".join(foffs) + "\n\n" + "".join(funcs)
               + f"int qsr_rhs_packed{sig} {{\n"
               + f"  double complex *tmp = malloc(sizeof(double complex)*(1+{tsizes}));\n"
               "  if (!tmp) return -1;\n"
               + "".join(c for c, _ in self.temp_code)
               + "".join(calls)
               + "  free(tmp);\n  return 0;\n}\n" + full)
        return src


def _sum_code(cs, body):
    """C statements declaring ``s = Σ body`` over the cluster indices ``cs``.

    The innermost loop runs two accumulators: with one, every addition waits
    for the previous (laser pair sums at M = 201: 2.2 → 1.3 cycles per entry).
    """
    import re

    if not cs:
        return f"double complex s = {body};"
    *outer, c = cs
    loops = "".join(f"for(int {x}=0;{x}<M;{x}++)" for x in outer)
    body1 = re.sub(rf"\b{c}\b", f"({c}+1)", body)
    return (f"double complex s0 = 0, s1 = 0; {loops}{{ int {c} = 0; "
            f"for(; {c}+1<M; {c}+=2){{ s0 += {body}; s1 += {body1}; }} "
            f"if ({c}<M) s0 += {body}; }} double complex s = s0 + s1;")


_WRAPPER = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
/* rhs(M, y, dy, p), rhs_packed(M, x, dx, p): buffers of complex128, complex128 (writable),
   float64; full and packed layouts (sizes checked by the caller) */
#define QSR_CALL(pyname, cname) \
static PyObject *pyname(PyObject *self, PyObject *args) { \
  long M; Py_buffer y, dy, p; int r; \
  if (!PyArg_ParseTuple(args, "ly*w*y*", &M, &y, &dy, &p)) return NULL; \
  r = cname(M, (const double complex *)y.buf, (double complex *)dy.buf, (const double *)p.buf); \
  PyBuffer_Release(&y); PyBuffer_Release(&dy); PyBuffer_Release(&p); \
  if (r) return PyErr_NoMemory(); \
  Py_RETURN_NONE; \
}
QSR_CALL(call, qsr_rhs)
QSR_CALL(call_packed, qsr_rhs_packed)
static PyMethodDef methods[] = {{"rhs", call, METH_VARARGS, "generated right-hand side"},
                                {"rhs_packed", call_packed, METH_VARARGS,
                                 "generated right-hand side, packed layout"},
                                {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "%(name)s", NULL, -1, methods};
PyMODINIT_FUNC PyInit_%(name)s(void) { return PyModule_Create(&mod); }
"""


def cache_dir():
    """Directory of compiled right-hand sides (``$QSR_CACHE_DIR`` or ``~/.cache``)."""
    d = os.environ.get("QSR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "qutip_superrad", "cumulant")
    os.makedirs(d, exist_ok=True)
    return d


def find_compiler():
    """Path of a C compiler (``$CC``, Python's ``CC``, ``cc``, ``gcc``) or ``None``."""
    cands = []
    if os.environ.get("CC"):
        cands.append(os.environ["CC"].split()[0])
    cc = sysconfig.get_config_var("CC")
    if cc:
        cands.append(cc.split()[0])
    cands += ["cc", "gcc", "clang"]
    for c in cands:
        p = shutil.which(c)
        if p:
            return p
    return None


_FLAGS = ["-O2", "-fPIC", "-shared", "-std=gnu99", "-fcx-limited-range", "-fno-math-errno"]


class CompiledRHS(_RHS):
    """Generated C right-hand side, compiled and cached (see module docstring).

    Raises
    ------
    RuntimeError
        If no compiler is found or compilation fails (:func:`make_rhs`
        turns this into a warning and a NumPy fallback).
    """

    backend = "c"

    def __init__(self, system, M):
        if isinstance(M, dict):
            raise ValueError("generated C loops over one index set; a model with several "
                             "indexed families (Clusters, Modes) uses backend='sparse' or "
                             "'numpy'")
        super().__init__(system, M)
        src = _Gen(system).source()
        self.source = src
        h = hashlib.sha256((src + " ".join(_FLAGS) + sys.version).encode()).hexdigest()[:20]
        name = f"qsr_{h}"
        full = src + _WRAPPER % {"name": name}
        d = cache_dir()
        lib = os.path.join(d, name + (sysconfig.get_config_var("EXT_SUFFIX") or ".so"))
        self.cached = os.path.exists(lib)
        if not self.cached:
            cc = find_compiler()
            if cc is None:
                raise RuntimeError("no C compiler found (set $CC)")
            inc = sysconfig.get_paths()["include"]
            with tempfile.TemporaryDirectory(dir=d) as tmp:
                cfile = os.path.join(tmp, name + ".c")
                with open(cfile, "w") as fh:
                    fh.write(full)
                out = os.path.join(tmp, "mod.so")
                # big systems: -O1 compiles ~4x faster than -O2 for straight-line code
                flags = _FLAGS if len(full) < 200_000 else ["-O1"] + _FLAGS[1:]
                r = subprocess.run([cc, *flags, "-I", inc, cfile, "-o", out, "-lm"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise RuntimeError(f"compilation failed ({cc}):\n{r.stderr[-2000:]}")
                os.replace(out, lib)
        self.library = lib
        spec = importlib.util.spec_from_file_location(name, lib)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self._fn = module.rhs
        self._fn_packed = module.rhs_packed
        self._np = self.n_packed

    @staticmethod
    def _out(out, n):
        """``out`` checked for the C kernel, which writes ``n`` complex entries (the
        buffer protocol refuses non-contiguous arrays; one cheap test per call)."""
        if out is not None and out.nbytes != 16 * n:
            raise ValueError(f"out must be a contiguous complex128 array of {n} entries")
        return out

    def __call__(self, y, out=None):
        y, dy = self._io(y, self._out(out, self.n))
        self._fn(self.M, y, dy, self._pvec)
        return dy

    def packed(self, x, out=None):
        """``dx/dt`` of the packed unknowns, evaluated natively (no expansion)."""
        x, dx = self._io(x, self._out(out, self._np), self._np)
        self._fn_packed(self.M, x, dx, self._pvec)
        return dx


class TableRHS(_RHS):
    """Table-driven evaluation for ``M = 1`` (concrete atoms or a single cluster).

    With one cluster every index is 0, so the equations are a plain sparse
    polynomial; the precompiled kernel ``_kernels.cumulant_terms`` evaluates
    its table.  No run-time compilation: a 6-site spin chain at third order
    (tens of thousands of terms) is ready in milliseconds instead of the
    minutes gcc needs for the equivalent straight-line C.

    Raises
    ------
    ImportError
        If the precompiled kernel is missing (the message names the fix).
    """

    backend = "table"

    def __init__(self, system, M):
        if isinstance(M, dict) or M != 1:
            raise ValueError("the table backend is for M = 1")
        kernel = _kernels.load("cumulant_terms")   # ImportError naming the fix

        super().__init__(system, 1)
        self._kernel = kernel.poly_rhs
        targets, starts, idx, conj, self._terms = [], [0], [], [], []
        for fam, o in zip(system.families, self.offsets):
            for t in system.rhs[fam.index]:
                targets.append(o)
                for fi, _, cj in t.factors:
                    idx.append(self.offsets[fi])
                    conj.append(1 if cj else 0)
                starts.append(len(idx))
                self._terms.append((t.number, t.params))
        self._target = np.asarray(targets, dtype=np.intc)
        self._start = np.asarray(starts, dtype=np.intc)
        self._idx = np.asarray(idx if idx else [0], dtype=np.intc)
        self._conj = np.asarray(conj if conj else [0], dtype=np.uint8)

    def bind(self, pvec):
        super().bind(pvec)
        vals = dict(self._scal)
        vals.update({n: a[0] for n, a in self._ind.items()})
        coef = np.empty(len(self._terms), dtype=complex)
        for k, (num, params) in enumerate(self._terms):
            c = complex(num)
            for name, _, pw in params:
                c *= vals[name] ** pw
            coef[k] = c
        self._coef = coef

    def __call__(self, y, out=None):
        y, dy = self._io(y, out)
        self._kernel(y, dy, self._coef, self._target, self._start, self._idx, self._conj)
        return dy


class SparseRHS(_RHS):
    """Products of slots + row sums of products, evaluated by a precompiled kernel.

    The equations are lowered once (:class:`~.lower.LoweredSystem`); binding
    parameters only recomputes the group coefficients.  Calls with ``out``
    allocate nothing.  Also gives the analytic sparse Jacobian
    (:meth:`jacobian`).

    Raises
    ------
    ImportError
        If the precompiled kernel ``_kernels.cumulant_sparse`` is missing.
    ValueError
        If the unrolled equations are too large (many clusters: use ``"c"``).
    """

    backend = "sparse"

    def __init__(self, system, M):
        from .lower import LoweredSystem

        kernel = _kernels.load("cumulant_sparse")    # ImportError naming the fix
        super().__init__(system, M)
        self.lowered = low = LoweredSystem(system, self.M)
        self._kernel = kernel.SparsePoly(low.n, low.n_coef, low.mono_a, low.mono_b,
                                         low.n_rhs_monomials, low.row_ptr, low.ent_x,
                                         low.ent_y, low.grp_num.size, 2 * len(low.pattern[0]),
                                         low.jac_w, low.jac_g, low.jac_m, low.jac_s)
        self._W = np.empty(2 * len(low.pattern[0]), dtype=complex)

    def bind(self, pvec):
        super().bind(pvec)
        self._coef = self.lowered.coefficients(self._pvec)
        self._kernel.set_coefficients(self._coef, self.lowered.slot_coefficients(self._coef))

    def __call__(self, y, out=None):
        if out is None:
            out = np.empty(self.n, dtype=complex)
        try:
            self._kernel.rhs(y, out)       # no conversion, no allocation
        except (ValueError, TypeError, BufferError):
            y, out = self._io(y, out)      # other dtypes/layouts: convert, or raise
            self._kernel.rhs(y, out)
        return out

    def wirtinger(self, y):
        """``(rows, cols, ∂dy/∂y, ∂dy/∂ȳ)`` at ``y``: the complex derivatives on the
        sparsity pattern of the lowered equations (arrays of equal length)."""
        y, _ = self._io(y, self._W)
        self._kernel.jacobian_weights(y, self._W)
        rows, cols = self.lowered.pattern
        return rows, cols, self._W[0::2].copy(), self._W[1::2].copy()

    def jacobian(self, y):
        """Real Jacobian ``∂[Re dy, Im dy]/∂[Re y, Im y]`` at ``y`` (``scipy.sparse`` CSR)."""
        y, _ = self._io(y, self._W)
        self._kernel.jacobian_weights(y, self._W)
        return self.lowered.jacobian_matrix(self._W)


_BACKENDS = ("auto", "sparse", "c", "table", "numpy")


def make_rhs(system, M, backend="auto"):
    """Right-hand side evaluator.

    ``backend``: ``"auto"`` (the precompiled sparse kernel for ``M = 1``,
    generated C with cluster loops otherwise, NumPy with a warning if no C
    compiler is available), ``"sparse"`` (any ``M`` whose unrolled equations
    stay below :data:`~.lower.MAX_CONCRETE_TERMS`), ``"c"``, ``"table"``
    (``M = 1``) or ``"numpy"``.  A missing precompiled kernel raises
    ``ImportError`` (an installation error, not a fallback case; see the
    module docstring).  Measured choice (``benchmarks/RESULTS.md``): for
    ``M = 1`` the sparse kernel is the fastest (6-site Ising chain at order 3:
    23 µs against 150 µs for the table and 126 µs for generated C after 100 s
    of gcc); with clusters the generated C loops are ``O(M²)`` where the
    unrolled sparse form is ``O(M³)``.
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, _BACKENDS))}, "
                         f"got {backend!r}")
    if backend == "numpy":
        return NumpyRHS(system, M)
    if backend == "table":
        return TableRHS(system, M)
    if backend == "sparse" or (backend == "auto" and M == 1):
        return SparseRHS(system, M)
    if isinstance(M, dict):
        from .lower import MAX_CONCRETE_TERMS, concrete_term_count
        if backend == "c":
            return CompiledRHS(system, M)            # raises: one index set only
        if concrete_term_count(system, M) <= MAX_CONCRETE_TERMS:
            return SparseRHS(system, M)
        warnings.warn("cumulant engine: several index sets too large for the sparse form; "
                      "falling back to the NumPy right-hand side", RuntimeWarning, stacklevel=2)
        return NumpyRHS(system, M)
    try:
        return CompiledRHS(system, M)
    except (RuntimeError, OSError) as exc:
        if backend == "c":
            raise
        warnings.warn(f"cumulant engine: falling back to the NumPy right-hand side ({exc})",
                      RuntimeWarning, stacklevel=2)
        return NumpyRHS(system, M)
