"""BLAS thread limit around the solvers (issue 11): on inside, restored outside."""
import pytest
from threadpoolctl import threadpool_info

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
