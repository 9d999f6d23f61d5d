"""Progress reporting for long calls (scans, sweeps, spectra, evolutions, steady states).

One keyword everywhere, ``progress_bar``, with QuTiP's values: ``None``, ``False`` or
``""`` (off), ``True`` or ``"text"`` (a one-line text bar), ``"enhanced"`` (the text bar
with the remaining time and the current item) and ``"tqdm"`` (:mod:`tqdm`, if installed).
Progress is counted in *estimated cost*, not in items, when the caller knows the items
differ (a scan over N, time steps of different length), so the remaining time is honest.
"""
import sys
import time

__all__ = ["progress", "Progress", "check_progress_bar", "qutip_progress_bar"]

_VALUES = (None, False, True, "", "text", "enhanced", "tqdm")


def check_progress_bar(value, name="progress_bar"):
    """``value`` as one of ``None`` (off), ``"text"``, ``"enhanced"``, ``"tqdm"``."""
    if not any(value is v or (isinstance(v, str) and value == v) for v in _VALUES):
        raise ValueError(f"{name} must be one of None, False, True, '', 'text', 'enhanced', "
                         f"'tqdm' (QuTiP's values), got {value!r}")
    if value is True:
        return "text"
    if value in (None, False, ""):
        return None
    if value == "tqdm":
        try:
            import tqdm  # noqa: F401
        except ImportError:
            raise ValueError(f"{name}='tqdm' needs the tqdm package (pip install tqdm); use "
                             "'text'") from None
    return value


def qutip_progress_bar(value):
    """The value to hand to a QuTiP solver's ``progress_bar`` option (``False`` when off)."""
    value = check_progress_bar(value)
    return value or False


class Progress:
    """A progress meter over a total cost; :meth:`advance` adds the cost of finished work.

    Parameters
    ----------
    total : float
        Total estimated cost (any unit: items, seconds, flops).
    desc : str
        Label printed before the bar.
    progress_bar : None, bool or str
        QuTiP's values (see the module docstring).
    stream : file, optional
        Where the text bar is written (default ``sys.stderr``).
    """

    def __init__(self, total, desc="", progress_bar="text", stream=None):
        self.kind = check_progress_bar(progress_bar)
        self.total = float(total) if total else 0.0
        self.done = 0.0
        self.desc = desc
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._written = -float("inf")
        self._tqdm = None
        if self.kind == "tqdm":
            from tqdm import tqdm
            self._tqdm = tqdm(total=self.total or None, desc=desc, file=self.stream)

    def advance(self, cost=1.0, item=None):
        """Mark ``cost`` more as done (``item``: shown by ``"enhanced"``)."""
        self.done += cost
        if self.kind is None:
            return
        if self._tqdm is not None:
            self._tqdm.update(cost)
            return
        now = time.perf_counter()
        finished = self.total and self.done >= self.total
        if now - self._written < 0.1 and not finished:
            return                              # redraw at most ten times a second
        self._written = now
        elapsed = now - self.start
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(30 * frac)
            line = f"\r{self.desc} [{bar:<30}] {100 * frac:5.1f}% {elapsed:6.1f}s"
            if self.kind == "enhanced" and frac > 0:
                line += f" eta {elapsed / frac - elapsed:6.1f}s"
        else:
            line = f"\r{self.desc} {self.done:g} {elapsed:6.1f}s"
        if self.kind == "enhanced" and item is not None:
            line += f" ({item})"
        self.stream.write(line)
        self.stream.flush()

    def close(self):
        """End the line (or the tqdm bar)."""
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.kind is not None:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(iterable, total=None, desc="", progress_bar="text", stream=None, weights=None,
             enabled=True):
    """Yield from ``iterable`` while a :class:`Progress` meter advances.

    Parameters
    ----------
    iterable : iterable
        Items to loop over.
    total : int, optional
        Number of items, for an iterable without ``len`` (it is listed otherwise).
    desc : str
        Label printed before the bar.
    progress_bar : None, bool or str
        QuTiP's values: ``None``/``False``/``""`` off, ``True``/``"text"``,
        ``"enhanced"``, ``"tqdm"``.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    weights : sequence of float, optional
        Estimated cost of each item (default 1 each): the bar and its remaining time
        advance by cost, so one expensive item at the end does not sit at "5/6".
    enabled : bool, default True
        ``False`` switches the bar off whatever ``progress_bar`` says (for callers that
        hold a quiet flag).
    """
    if weights is None and total is not None:
        n = int(total)
    else:
        iterable = list(iterable) if not hasattr(iterable, "__len__") else iterable
        n = len(iterable)
    weights = [1.0] * n if weights is None else [float(w) for w in weights]
    if len(weights) != n:
        raise ValueError(f"weights has {len(weights)} entries for {n} items")
    with Progress(sum(weights), desc, progress_bar if enabled else None, stream) as bar:
        for item, w in zip(iterable, weights):
            yield item
            bar.advance(w, item if isinstance(item, (int, float, str)) else None)


class Monitor:
    """An ODE right-hand side watched: progress by the time reached, a wall-time limit.

    ``Monitor(fun, tlist, max_time, progress_bar, what)`` is called like ``fun(t, y)``;
    past ``max_time`` seconds it raises :class:`~qutip_superrad.TimeLimitError` saying
    where the integration stopped (one code path for every integrating solver).  Use it
    as a context manager around the integration so the bar is closed.

    Attributes
    ----------
    calls : int
        Right-hand sides evaluated.
    start : float
        ``time.perf_counter()`` at construction.
    """

    def __init__(self, fun, tlist, max_time=None, progress_bar=None, what="evolve", hint=""):
        from ._validate import check_time_limit
        self.fun, self.what, self.hint = fun, what, hint
        self.t_end, self.reached = float(tlist[-1]), float(tlist[0])
        self.limit = check_time_limit(max_time)
        self.calls, self.start = 0, time.perf_counter()
        self.bar = Progress(self.t_end - self.reached, what, progress_bar)

    def __call__(self, t, y):
        from ._validate import TimeLimitError
        self.calls += 1
        if self.limit is not None and time.perf_counter() - self.start > self.limit:
            raise TimeLimitError(f"{self.what} exceeded max_time = {self.limit:.3g} s at t = "
                                 f"{t:.6g} of {self.t_end:.6g} after {self.calls} right-hand "
                                 f"sides{self.hint}")
        if t > self.reached:                    # trial steps may go back: count the front only
            self.bar.advance(t - self.reached)
            self.reached = t
        return self.fun(t, y)

    def solve(self, tlist, y0, **kwargs):
        """``y(t)`` on ``tlist`` (shape ``(T, n)``) by :func:`scipy.integrate.solve_ivp` with
        this monitor as right-hand side; a single time needs no integration.  ``kwargs``
        go to ``solve_ivp``; a failed integration raises ``RuntimeError``."""
        import numpy as np
        from scipy.integrate import solve_ivp
        if len(tlist) == 1:                     # solve_ivp needs an interval
            return np.asarray(y0)[None, :]
        sol = solve_ivp(self, (tlist[0], tlist[-1]), y0, t_eval=tlist, **kwargs)
        if not sol.success:
            raise RuntimeError(f"{self.what} failed: {sol.message}")
        self.result = sol
        return sol.y.T

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
