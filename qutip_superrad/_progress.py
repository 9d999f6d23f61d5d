"""Progress reporting for long loops (sweeps, spectra, figure scripts)."""
import sys
import time

__all__ = ["progress"]


def progress(iterable, total=None, desc="", enabled=True, stream=None):
    """Yield from ``iterable`` while printing a one-line progress bar.

    Parameters
    ----------
    iterable : iterable
        Items to loop over.
    total : int, optional
        Number of items (``len(iterable)`` if omitted and available).
    desc : str
        Label printed before the bar.
    enabled : bool
        If False the items are yielded silently (tests, batch runs).
    stream : file, optional
        Where to write (default ``sys.stderr``).
    """
    if not enabled:
        yield from iterable
        return
    stream = sys.stderr if stream is None else stream
    total = len(iterable) if total is None and hasattr(iterable, "__len__") else total
    start = time.perf_counter()
    for i, item in enumerate(iterable):
        yield item
        done = i + 1
        elapsed = time.perf_counter() - start
        if total:
            frac = done / total
            bar = "#" * int(30 * frac)
            eta = elapsed / frac - elapsed
            stream.write(f"\r{desc} [{bar:<30}] {done}/{total} {elapsed:6.1f}s eta {eta:6.1f}s")
        else:
            stream.write(f"\r{desc} {done} {elapsed:6.1f}s")
        stream.flush()
    stream.write("\n")
    stream.flush()
