"""BLAS thread limit around the solvers (issue 11): on inside, restored outside."""
import sys
import time
import types

import pytest
from threadpoolctl import threadpool_info

from qutip_superrad import _threads
from qutip_superrad._threads import blas_threads, limited_blas


def _blas_threads_now():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_limit_inside_and_restored(monkeypatch):
    monkeypatch.delenv("QSR_BLAS_THREADS", raising=False)
    before = _blas_threads_now()
    if not before:
        pytest.skip("no BLAS library visible to threadpoolctl")
    inside = limited_blas(_blas_threads_now)()
    assert inside == [1] * len(before)
    assert _blas_threads_now() == before
    # nested decorated calls keep the outer limit
    assert limited_blas(lambda: limited_blas(_blas_threads_now)())() == [1] * len(before)


def test_environment_switch(monkeypatch):
    monkeypatch.setenv("QSR_BLAS_THREADS", "all")
    assert blas_threads() is None
    assert limited_blas(_blas_threads_now)() == _blas_threads_now()
    monkeypatch.setenv("QSR_BLAS_THREADS", "2")
    assert blas_threads() == 2
    for bad in ("0", "many"):
        monkeypatch.setenv("QSR_BLAS_THREADS", bad)
        with pytest.raises(ValueError, match="QSR_BLAS_THREADS"):
            blas_threads()


def test_controller_kept_between_calls(monkeypatch):
    """Scanning the shared libraries (3-17 ms) happens once, not at every solver call; a new
    import makes the next call look again (it may have loaded another BLAS)."""
    monkeypatch.delenv("QSR_BLAS_THREADS", raising=False)
    before = _blas_threads_now()
    if not before:
        pytest.skip("no BLAS library visible to threadpoolctl")
    f = limited_blas(_blas_threads_now)
    assert f() == [1] * len(before)
    ctl = _threads._controller[0]
    t0 = time.perf_counter()
    for _ in range(20):
        assert f() == [1] * len(before)
    per_call = (time.perf_counter() - t0) / 20
    assert _threads._controller[0] is ctl
    assert _blas_threads_now() == before
    monkeypatch.setitem(sys.modules, "_qsr_test_new_module", types.ModuleType("_qsr_test_new_module"))
    assert f() == [1] * len(before)
    assert _threads._controller[0] is not ctl
    assert _blas_threads_now() == before
    # generous bound (threadpool_info itself runs inside): the old rescanning cost 3-17 ms
    # per call *on top* of it
    assert per_call < 0.5
