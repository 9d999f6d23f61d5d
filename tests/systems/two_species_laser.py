"""Two-species laser: two species of two-level atoms in one cavity (issue 9, several
``Clusters`` per model).

Master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``), species ``A`` and ``B``::

    H = Σ_{a ∈ A} [−Δ_A(a) σ⁺_aσ⁻_a + g_A (a σ⁺_a + a† σ⁻_a)]
      + Σ_{b ∈ B} [−Δ_B(b) σ⁺_bσ⁻_b + g_B(b) (a σ⁺_b + a† σ⁻_b)]
    dρ/dt = −i[H, ρ] + κD[a]ρ + Σ_a (ΓD[σ⁻_a] + R_A(a)D[σ⁺_a])ρ
                               + Σ_b (ΓD[σ⁻_b] + R_B D[σ⁺_b] + ν_B D[σ⁺_bσ⁻_b])ρ

``Δ_A``, ``R_A`` (a local pump rate) are per cluster of ``A``; ``Δ_B``, ``g_B`` per
cluster of ``B``: each species has its own per-cluster parameters and its own number of
clusters (two index sets).  The same model is written with the atoms in two ``Clusters``
families and with one explicit ``Atom`` per atom (the numbers of its cluster inlined);
both forms are the same equations, so the tests compare them to the solver tolerance.

The spin-only variant (``cavity=False``) couples the species by an exchange
``χ (J⁺_A J⁻_B + J⁺_B J⁻_A)`` and a common collective decay ``γ_c D[J⁻_A + J⁻_B]``:
without a mode the cumulant closure of order ``k`` is exact when ``k`` is at least the
number of atoms (no moment holds more atom factors than there are atoms).
"""
import qutip_superrad as qsr
from qutip_superrad.cumulant.engine import Atom, Clusters, Mode, Model, parameters

#: scalar parameters (χ and γ_c of the spin-only variant, κ and g_A of the laser)
SCALARS = dict(kappa=2.0, Gamma=0.1, g_A=0.5, R_B=0.8, nu_B=0.2, chi=0.7, gamma_c=0.4)
#: per-cluster values: two clusters of A, one of B
PER_CLUSTER = {"A": {"Delta_A": [0.3, -0.2], "R_A": [1.0, 0.6]},
               "B": {"Delta_B": [0.5], "g_B": [0.8]}}


def scalars(cavity=True):
    """The scalar parameters the model uses."""
    drop = ("chi", "gamma_c") if cavity else ("kappa", "g_A")
    return {k: v for k, v in SCALARS.items() if k not in drop}


def per_cluster(X, cavity=True, values=None):
    """The per-cluster values of species ``X`` the model uses (``g_B`` couples to the
    cavity only), ``values`` replacing some of :data:`PER_CLUSTER`."""
    out = {k: (values or {}).get(k, v) for k, v in PER_CLUSTER[X].items()}
    return {k: v for k, v in out.items() if cavity or k != "g_B"}


def species_form(counts_A=(1, 1), counts_B=(1,), cavity=True, values=None):
    """Two ``Clusters`` families ``A``, ``B``: ``(H, jumps, handles, clusters)``.

    ``clusters`` are the engine's per-family values (``solver(params, clusters)``);
    ``handles`` the mode ``a`` and the two Clusters.
    """
    kappa, G, gA, RB, nuB, chi, gc = parameters("kappa Gamma g_A R_B nu_B chi gamma_c")
    a = Mode("a")
    A, B = Clusters("A"), Clusters("B")
    sa, sb = A.atom, B.atom
    DA, RA = A.parameters("Delta_A R_A")
    DB, gB = B.parameters("Delta_B g_B")
    H = A.sum(-DA * sa.s(2, 2)) + B.sum(-DB * sb.s(2, 2))
    jumps = [(G, A.each(sa.sm)), (RA, A.each(sa.sp)),
             (G, B.each(sb.sm)), (RB, B.each(sb.sp)), (nuB, B.each(sb.s(2, 2)))]
    if cavity:
        H = H + A.sum(gA * (a.a * sa.sp + a.adag * sa.sm)) + B.sum(gB * (a.a * sb.sp
                                                                       + a.adag * sb.sm))
        jumps.append((kappa, a.a))
    else:
        H = H + chi * (A.sum(sa.sp) * B.sum(sb.sm) + B.sum(sb.sp) * A.sum(sa.sm))
        jumps.append((gc, A.sum(sa.sm) + B.sum(sb.sm)))
    clusters = {"A": dict(per_cluster("A", cavity, values), N=list(counts_A)),
                "B": dict(per_cluster("B", cavity, values), N=list(counts_B))}
    return H, jumps, dict(a=a, A=A, B=B), clusters


def explicit_form(counts_A=(1, 1), counts_B=(1,), cavity=True, values=None):
    """One explicit ``Atom`` per atom: ``(H, jumps, handles)``; ``handles["A"][m]`` lists
    the atoms of cluster ``m`` of species A (``values`` as in :func:`per_cluster`)."""
    kappa, G, gA, RB, nuB, chi, gc = parameters("kappa Gamma g_A R_B nu_B chi gamma_c")
    a = Mode("a")
    atoms = {X: [[Atom(f"{X}{m}_{k}") for k in range(int(n))] for m, n in enumerate(counts)]
             for X, counts in (("A", counts_A), ("B", counts_B))}
    pA = [{k: float(v[m]) for k, v in per_cluster("A", True, values).items()}
          for m in range(len(counts_A))]
    pB = [{k: float(v[m]) for k, v in per_cluster("B", True, values).items()}
          for m in range(len(counts_B))]
    A = [(at, pA[m]) for m, cl in enumerate(atoms["A"]) for at in cl]
    B = [(at, pB[m]) for m, cl in enumerate(atoms["B"]) for at in cl]
    H = _total(-p[f"Delta_{X}"] * at.s(2, 2) for X, atoms_ in (("A", A), ("B", B))
               for at, p in atoms_)
    jumps = []
    for at, p in A:
        jumps += [(G, at.sm), (p["R_A"], at.sp)]
    for at, p in B:
        jumps += [(G, at.sm), (RB, at.sp), (nuB, at.s(2, 2))]
    if cavity:
        for at, p in A:
            H = H + gA * (a.a * at.sp + a.adag * at.sm)
        for at, p in B:
            H = H + p["g_B"] * (a.a * at.sp + a.adag * at.sm)
        jumps.append((kappa, a.a))
    else:
        JpA, JmA = collective(at for at, _ in A)
        JpB, JmB = collective(at for at, _ in B)
        H = H + chi * (JpA * JmB + JpB * JmA)
        jumps.append((gc, JmA + JmB))
    return H, jumps, dict(a=a, **atoms)


def collective(atoms):
    """``(J⁺, J⁻)`` of explicit atoms."""
    atoms = list(atoms)
    Jp, Jm = atoms[0].sp, atoms[0].sm
    for at in atoms[1:]:
        Jp, Jm = Jp + at.sp, Jm + at.sm
    return Jp, Jm


def engine_charges(handles, cavity=True):
    """U(1) phase charges of the engine form (photon 1, excited level 1)."""
    out = {handles["a"]: 1} if cavity else {}
    for X in ("A", "B"):
        fam = handles[X]
        for at in ([fam] if isinstance(fam, Clusters) else [at for cl in fam for at in cl]):
            out[at] = (0, 1)
    return out


def description(counts_A=(1, 1), counts_B=(1,), explicit=False, cavity=True, values=None):
    """The model description (:class:`qutip_superrad.Model`) and its observables, the same
    names in both forms: ``n`` (⟨a†a⟩, with the cavity), the excited population of every
    cluster ``pA0, pA1, …, pB0, …``, of each species ``eA``, ``eB``, and the
    inter-species coherence ``JpA_JmB`` = ⟨J⁺_A J⁻_B⟩.  ``values`` replaces per-cluster
    values of :data:`PER_CLUSTER` in both forms."""
    numbers = scalars(cavity)
    if not explicit:
        H, jumps, h, _ = species_form(counts_A, counts_B, cavity, values)
        e_ops = {"n": h["a"].num()} if cavity else {}
        for X, counts in (("A", counts_A), ("B", counts_B)):
            fam = h[X]
            numbers.update(per_cluster(X, cavity, values))
            for m in range(len(counts)):
                e_ops[f"p{X}{m}"] = fam.sum(fam.atom.s(2, 2), cluster=m)
            e_ops[f"e{X}"] = fam.sum(fam.atom.s(2, 2))
        e_ops["JpA_JmB"] = h["A"].sum(h["A"].atom.sp) * h["B"].sum(h["B"].atom.sm)
        model = qsr.Model(H, jumps, parameters=numbers,
                          N={"A": list(counts_A), "B": list(counts_B)}, name="two species")
        return model, e_ops
    H, jumps, h = explicit_form(counts_A, counts_B, cavity, values)
    e_ops = {"n": h["a"].num()} if cavity else {}
    for X in ("A", "B"):
        for m, cl in enumerate(h[X]):
            e_ops[f"p{X}{m}"] = _total(at.s(2, 2) for at in cl)
        e_ops[f"e{X}"] = _total(at.s(2, 2) for cl in h[X] for at in cl)
    e_ops["JpA_JmB"] = (collective(at for cl in h["A"] for at in cl)[0]
                        * collective(at for cl in h["B"] for at in cl)[1])
    return qsr.Model(H, jumps, parameters=numbers, name="two species, explicit atoms"), e_ops


def _total(ops):
    ops = list(ops)
    out = ops[0]
    for op in ops[1:]:
        out = out + op
    return out
