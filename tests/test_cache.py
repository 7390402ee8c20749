"""The numba caches of the engine follow edits of the generated kernels.

numba keys a cached function on its own source file only, so the compiled loops of
:mod:`rmtrisk.engine`, which inline the kernels of :mod:`rmtrisk._kernels`, would be reloaded
stale after the kernels change; :func:`rmtrisk.engine._cache.invalidate_stale_caches` deletes
them. These tests check that on a private copy of the package (the installed caches are never
touched) and that a broken cache directory is reported, not ignored.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numba.core.config
import pytest

import rmtrisk
from rmtrisk.engine import _cache

PACKAGE = Path(rmtrisk.__file__).resolve().parent

# One cheap compiled call; it also reports which copy of the package was imported and
# numba's cache statistics of the compiled loop that inlines the kernel mp_density.
PROBE = """
import json
import rmtrisk
import rmtrisk._kernels
from rmtrisk.engine import marchenko_pastur as mp
value = float(mp.density(0.5, 0.5))
stats = mp._density_grid.stats
print(json.dumps({
    "files": [rmtrisk.__file__, mp.__file__, rmtrisk._kernels.__file__],
    "value": value,
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
    "cache_path": stats.cache_path,
}))
"""


def _probe(root: Path) -> dict:
    """Run PROBE in a fresh interpreter on the copy of the package under ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON"))}
    env.update(PYTHONPATH=str(root), NUMBA_CACHE_DIR=str(root / "cache"),
               OPENBLAS_NUM_THREADS="1")
    # cwd=root: sys.path[0] of `python -c` is the cwd, which must not be the repository
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # the copy is imported, not the editable install of the repository
    expected = [root / "rmtrisk" / "__init__.py", root / "rmtrisk" / "engine" /
                "marchenko_pastur.py", root / "rmtrisk" / "_kernels.py"]
    assert [Path(f).resolve() for f in out["files"]] == [p.resolve() for p in expected]
    return out


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(directory)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def _double_mp_density(kernels: Path) -> None:
    """Textually scale the return value of the kernel mp_density by 2."""
    text = kernels.read_text()
    pattern = re.compile(r"(def mp_density\(.*?\n    return )(.*?)\n", re.DOTALL)
    new, n = pattern.subn(lambda m: f"{m.group(1)}2.0 * ({m.group(2)})\n", text, count=1)
    assert n == 1 and new != text, "mp_density's return line not found in _kernels.py"
    kernels.write_text(new)


def test_edited_kernel_is_picked_up_by_cached_engine_loop(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "rmtrisk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"

    first = _probe(tmp_path)
    # MP density at x = 1/2, gamma = 1/2, s = 1: sqrt((b - x)(x - a)) / (2 pi gamma x) = 2/pi
    assert first["value"] == pytest.approx(2 / math.pi, rel=1e-14)
    assert (first["hits"], first["misses"]) == (0, 1)
    cache_path = Path(first["cache_path"])
    assert cache_path.is_relative_to(cache)
    stamp = cache_path / "marchenko_pastur.rmtrisk-stamp"
    digest = stamp.read_text()
    assert list(cache_path.glob("marchenko_pastur._density_grid-*.nbi"))

    # unchanged sources: the cache is reused and nothing in it is rewritten
    before = _snapshot(cache)
    second = _probe(tmp_path)
    assert second["value"] == first["value"]
    assert (second["hits"], second["misses"]) == (1, 0)
    assert _snapshot(cache) == before

    # edited kernel: marchenko_pastur.py is untouched, so numba alone would reload the stale
    # _density_grid; the stamp must force a recompile that inlines the new kernel
    _double_mp_density(tmp_path / "rmtrisk" / "_kernels.py")
    third = _probe(tmp_path)
    assert third["value"] == pytest.approx(2 * first["value"], rel=1e-14)
    assert (third["hits"], third["misses"]) == (0, 1)
    assert stamp.read_text() != digest


# --------------------------------------------------------------------------------------------
# invalidate_stale_caches in-process, on a throwaway module with one cached dispatcher
# --------------------------------------------------------------------------------------------
PROBE_MODULE = """
from numba import njit


@njit(cache=True)
def plus_one(x):
    return x + 1.0
"""


@pytest.fixture
def probe_module(tmp_path, monkeypatch):
    """A fresh module ``cacheprobe`` with a cached dispatcher, its cache under tmp_path."""
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "cacheprobe.py"
    source.write_text(PROBE_MODULE)
    name = f"rmtrisk_cacheprobe_{abs(hash(str(tmp_path)))}"
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.plus_one(1.0) == 2.0  # compiles and writes the cache files
    cache_path = Path(module.plus_one.stats.cache_path)
    assert cache_path.is_relative_to(tmp_path / "cache")
    return module, cache_path


def test_invalidate_stale_caches_deletes_only_stale_files(probe_module, recwarn):
    module, cache_path = probe_module
    stamp = cache_path / "cacheprobe.rmtrisk-stamp"
    compiled = list(cache_path.glob("cacheprobe.plus_one-*.nb[ic]"))
    assert len(compiled) == 2 and not stamp.exists()
    other = cache_path / "othermodule.f-1.py311.nbi"
    other.write_bytes(b"")

    _cache.invalidate_stale_caches(vars(module), module.__name__)  # no stamp: stale
    assert not any(p.exists() for p in compiled)
    assert stamp.read_text() == _cache.source_digest()
    assert other.exists()

    fresh = cache_path / "cacheprobe.plus_one-9.py311.nbi"
    fresh.write_bytes(b"")
    _cache.invalidate_stale_caches(vars(module), module.__name__)  # stamp matches: keep
    assert fresh.exists()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def _stamp_is_a_directory(stamp: Path, monkeypatch) -> None:
    stamp.mkdir()  # read_text raises IsADirectoryError, also as root


def _stamp_write_fails(stamp: Path, monkeypatch) -> None:
    def fail(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "write_text", fail)  # root ignores chmod; patch instead


@pytest.mark.parametrize("breakage", [_stamp_is_a_directory, _stamp_write_fails])
def test_broken_cache_directory_warns(probe_module, monkeypatch, breakage):
    module, cache_path = probe_module
    breakage(cache_path / "cacheprobe.rmtrisk-stamp", monkeypatch)
    with pytest.warns(RuntimeWarning, match=re.escape(module.__name__)):
        _cache.invalidate_stale_caches(vars(module), module.__name__)
