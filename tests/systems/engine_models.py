"""Engine models shared by the engine tests (seed 000 laser with clusters, seed 002, a
laser with a family of filter cavities)."""
from qutip_superrad.cumulant.engine import Clusters, Mode, Model, parameters
from qutip_superrad.cumulant.engine.clusters import Modes


def cluster_laser():
    """Seed-000 superradiant laser with clusters (same conventions as cumulant.laser)."""
    a = Mode("a")
    kappa, G, R, nu, dc, xi = parameters("kappa Gamma R nu dc xi")
    cl = Clusters("s", 2)
    t = cl.atom
    g, D = cl.parameters("g Delta")
    H = dc * a.num() + cl.sum(-D * t.sp * t.sm + g * (a.a * t.sp + a.adag * t.sm))
    model = Model(H, [(kappa, a.a), (xi, a.num()), (G, cl.each(t.sm)), (R, cl.each(t.sp)),
                      (nu, cl.each(t.sp * t.sm))])
    return a, cl, model


def vlevel_laser():
    """Seed-002 V-level laser (eq 5-10; κ·D[a] as in the seed's App. C)."""
    a = Mode("a")
    Dc, g, D2, D3, O2, O3, G2, G3, kappa, nu2, nu3 = parameters(
        "Delta_c g Delta_2 Delta_3 Omega_2 Omega_3 Gamma_2 Gamma_3 kappa nu_2 nu_3")
    cl = Clusters("s", 3)
    t = cl.atom
    H = -Dc * a.num() + cl.sum(g * (a.adag * t.s(1, 2) + a.a * t.s(2, 1))
                               - D2 * t.s(2, 2) - D3 * t.s(3, 3)
                               + O2 * (t.s(2, 1) + t.s(1, 2)) + O3 * (t.s(3, 1) + t.s(1, 3)))
    jumps = [(kappa, a.a), (G2, cl.each(t.s(1, 2))), (G3, cl.each(t.s(1, 3))),
             (nu3, cl.sum(t.s(3, 3))), (nu2, a.num() + cl.sum(t.s(2, 2)))]
    return a, cl, Model(H, jumps)


def filtered_laser():
    """Clusters of detuned atoms in a cavity ``a`` that leaks into a family of filter
    cavities ``b`` (a Modes family): two index sets, ``s`` and ``b``.  Returns the model
    and its U(1) charges."""
    kappa, G, R, g = parameters("kappa G R g")
    a = Mode("a")
    atoms = Clusters("s")
    s = atoms.atom
    D = atoms.parameter("Delta")
    fil = Modes("b")
    b = fil.mode
    Db, h, kb = fil.parameters("Db h kb")
    H = (atoms.sum(D * s.s(2, 2) + g * (a.adag * s.sm + a.a * s.sp))
         + fil.sum(Db * b.num() + h * (a.adag * b.a + b.adag * a.a)))
    jumps = [(kappa, a.a), (G, atoms.each(s.sm)), (R, atoms.each(s.sp)), (kb, fil.each(b.a))]
    return Model(H, jumps), {a: 1, atoms: (0, 1), fil: 1}


def engine_params(P):
    """Engine parameter names from the keys of tests/systems/vlevel_laser.py."""
    return dict(Delta_c=P["Delta_c"], g=P["g"], Delta_2=P["Delta2"], Delta_3=P["Delta3"],
                Omega_2=P["Omega2"], Omega_3=P["Omega3"], Gamma_2=P["Gamma2"],
                Gamma_3=P["Gamma3"], kappa=P["kappa"], nu_2=P["nu2"], nu_3=P["nu3"])
