"""Benchmark of the collective-pumping solvers (seed 003), printed as a markdown table.

Run from the repository root::

    python benchmarks/bench_collective_pumping.py [--quick] [--loaded | --both]

``--loaded`` keeps every core busy (one spinning process per core); ``--both`` measures
idle, then loaded, and prints the two side by side (issue 11).

Measures, side by side in one run:

* N = 1000: exact steady state + relaxation rate (acceptance: < 1 s), full
  ``Diag⁽⁰⁾`` spectrum, a full hysteresis loop (two scans at r = 16γ);
* N = 50: the same quantities with :mod:`qutip.piqs` (Dicke-basis Liouvillian,
  ``j = N/2`` block, :func:`qutip.steadystate`, dense eigenvalues,
  :func:`qutip.mesolve`), with the ratio piqs/manifold and the agreement;
* with local emission and dephasing: ``steadystate(method="dicke")`` (the
  generic ``dicke`` solver of ``model.description()``) at N = 50 and 200, and
  ``method="piqs"`` at N = 50.

Rates: ``collective_emission = γ``, ``collective_pumping = w`` (``emission``,
``dephasing`` local).
"""
import argparse
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qutip                                                   # noqa: E402
from qutip import piqs                                         # noqa: E402

from qutip_superrad.models.collective_pumping import (         # noqa: E402
    CollectivePumping, hysteresis_loop)
from _load import best_of, run_with_load                                   # noqa: E402


def piqs_block(N, collective_emission, w):
    """j = N/2 block of the piqs Liouvillian (the full one has one steady state per j)."""
    L = piqs.Dicke(N, collective_emission=collective_emission, collective_pumping=w).liouvillian()
    nds = piqs.num_dicke_states(N)
    n = N + 1
    idx = np.array([r + c * nds for c in range(n) for r in range(n)])
    sub = L.data_as("csr_matrix")[idx][:, idx]
    return qutip.Qobj(sub, dims=[[[n], [n]], [[n], [n]]], superrep="super")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    run_with_load(ap, measure)


def measure(args):
    rep = 1 if args.quick else 3
    gamma, w = 1.0, 1.02
    rows = []
    times = []                 # (case, seconds) for the idle/loaded table (--both)

    # ---- N = 1000, manifold -------------------------------------------------
    N = 1000
    m = CollectivePumping(N, collective_emission=gamma, collective_pumping=w)
    t_ss, ss = best_of(lambda: m.steadystate(), rep)
    t_gap, lam = best_of(lambda: m.relaxation_rate(), rep)
    closed = m.steadystate("closed_form")
    times += [("manifold steady state, N=1000", t_ss), ("relaxation rate, N=1000", t_gap),
              ("steady state + rate, N=1000", t_ss + t_gap)]
    rows.append(("steady state, N=1000", f"{t_ss * 1e3:.2f} ms", "—", "—",
                 f"|Δ⟨Jz⟩| vs closed form {abs(ss.jz - closed.jz):.1e}"))
    rows.append(("relaxation rate λ, N=1000", f"{t_gap * 1e3:.2f} ms", "—", "—",
                 f"λ = {lam:.6f} γ"))
    rows.append(("steady state + λ, N=1000", f"{(t_ss + t_gap) * 1e3:.2f} ms", "—", "—",
                 "acceptance < 1 s"))
    t_spec, spec = best_of(lambda: m.sector_spectrum(0), rep)
    times.append(("full Diag(0) spectrum, N=1000", t_spec))
    rows.append(("full Diag(0) spectrum, N=1000", f"{t_spec * 1e3:.1f} ms", "—", "—",
                 f"{spec.size} eigenvalues"))
    t_h, loop = best_of(lambda: hysteresis_loop(N, 16.0, collective_emission=gamma), 1)
    times.append(("hysteresis loop r=16, N=1000", t_h))
    rows.append(("hysteresis loop r=16γ, N=1000 (2 scans)", f"{t_h:.2f} s", "—", "—",
                 f"Δw_H N/2γ = {loop.scaled_width:.3f}"))

    # ---- N = 50 vs qutip.piqs -------------------------------------------------
    N = 50
    m = CollectivePumping(N, collective_emission=gamma, collective_pumping=w)
    t_ours, ss = best_of(lambda: m.steadystate(), rep)
    # plain qutip.steadystate(Dicke(...).liouvillian()) is singular (one steady
    # state per j block): solve on the j = N/2 block, (a) by qutip.steadystate,
    # (b) by sparse LU with the trace row (what method="piqs" does)
    t_piqs, rho = best_of(lambda: qutip.steadystate(piqs_block(N, gamma, w)), rep)
    times += [("manifold steady state, N=50", t_ours), ("baseline piqs + qutip.steadystate, N=50", t_piqs)]
    jz_p = qutip.expect(qutip.Qobj(piqs.jspin(N, "z").full()[:N + 1, :N + 1]), rho)
    rows.append(("steady state, N=50 (piqs: qutip.steadystate)", f"{t_ours * 1e3:.2f} ms",
                 f"{t_piqs * 1e3:.1f} ms", f"{t_piqs / t_ours:.0f}×",
                 f"|Δ⟨Jz⟩| = {abs(jz_p - ss.jz):.1e}"))
    t_piqs, ssp = best_of(lambda: m.steadystate("piqs"), rep)
    times.append(("baseline piqs + sparse LU (method='piqs'), N=50", t_piqs))
    rows.append(("steady state, N=50 (piqs: LU, method='piqs')", f"{t_ours * 1e3:.2f} ms",
                 f"{t_piqs * 1e3:.1f} ms", f"{t_piqs / t_ours:.0f}×",
                 f"|Δ⟨Jz⟩| = {abs(ssp.jz - ss.jz):.1e}"))

    t_ours, lam = best_of(lambda: m.relaxation_rate(), rep)

    def piqs_gap():
        # population entries |m⟩⟨m| of the j = N/2 block: the Diag(0) sector
        L = piqs.Dicke(N, collective_emission=gamma, collective_pumping=w).liouvillian()
        nds = piqs.num_dicke_states(N)
        pos = np.array([r + r * nds for r in range(N + 1)])
        ev = np.linalg.eigvals(L.data_as("csr_matrix")[pos][:, pos].toarray())
        return np.sort(-ev.real)[1]
    t_piqs, lam_p = best_of(piqs_gap, rep)
    times += [("relaxation rate, N=50", t_ours), ("baseline piqs rate, N=50", t_piqs)]
    rows.append(("relaxation rate λ, N=50", f"{t_ours * 1e3:.2f} ms",
                 f"{t_piqs * 1e3:.1f} ms (Liouvillian + eig of Diag(0))",
                 f"{t_piqs / t_ours:.0f}×",
                 f"|Δλ| = {abs(lam - lam_p):.1e}"))

    tl = np.linspace(0, 5, 51)
    wf = lambda t: 0.5 + 0.2 * t          # noqa: E731
    mt = CollectivePumping(N, collective_emission=gamma, collective_pumping=wf)
    t_ours, ev = best_of(lambda: mt.evolve(tl), rep)
    t_piqs, evp = best_of(lambda: mt.evolve(tl, method="piqs"), 1)
    times += [("evolution with w(t), N=50", t_ours), ("baseline piqs mesolve evolution, N=50", t_piqs)]
    rows.append(("evolution with w(t), N=50, 51 times", f"{t_ours * 1e3:.1f} ms",
                 f"{t_piqs:.2f} s (mesolve, j=N/2 block)", f"{t_piqs / t_ours:.0f}×",
                 f"max |Δ⟨Jz⟩| = {np.max(np.abs(ev.jz - evp.jz)):.1e}"))

    # ---- local emission and dephasing: generic dicke solver (and piqs at N = 50) -------
    local = dict(emission=0.05, dephasing=0.1)
    for N in (50, 200):
        m = CollectivePumping(N, collective_emission=gamma, collective_pumping=1.3, **local)
        t_ours, ss = best_of(lambda: m.steadystate("dicke"), rep)
        times.append((f"local terms, method='dicke', N={N}", t_ours))
        if N <= 50:
            t_piqs, ssp = best_of(lambda: m.steadystate("piqs"), 1)
            times.append((f"baseline local terms, method='piqs', N={N}", t_piqs))
            piqs_cols = (f"{t_piqs:.2f} s (LU, method='piqs')", f"{t_piqs / t_ours:.0f}×",
                         f"|Δ⟨Jz⟩| = {abs(ssp.jz - ss.jz):.1e}")
        else:
            piqs_cols = ("—", "—", f"dimension {ss.checks['dimension']}")
        rows.append((f"steady state with local terms, N={N} (method='dicke')",
                     f"{t_ours * 1e3:.1f} ms") + piqs_cols)

    print(f"Collective pumping benchmark — python {platform.python_version()}, "
          f"qutip {qutip.__version__}, numpy {np.__version__}, {platform.machine()}\n")
    print("| task | qutip-superrad (manifold; dicke with local terms) | qutip.piqs | ratio "
          "| check |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return times


if __name__ == "__main__":
    main()
