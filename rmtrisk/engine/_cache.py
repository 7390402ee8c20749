"""Keep numba's on-disk caches of the engine consistent with the generated kernels.

numba keys a cached function on the modification time of *its own* source file. The engine's
loops inline the generated kernels of :mod:`rmtrisk._kernels` and each other's bodies across
modules, so regenerating the kernels, or editing one engine module, would leave the cached
machine code of the other modules calling the old code. Each engine module therefore calls
:func:`invalidate_stale_caches` when it is imported: a stamp (a hash of ``_kernels.py`` and of
every engine module) is kept next to the module's cache files, and when it differs those
cache files are deleted so that numba recompiles.

Only public numba API is used (``Dispatcher.stats.cache_path``); a failure is reported as a
:class:`RuntimeWarning`, never ignored silently.
"""

from __future__ import annotations

import functools
import hashlib
import warnings
from pathlib import Path
from typing import Any

from .. import _kernels

__all__ = ["invalidate_stale_caches", "source_digest"]


@functools.cache
def source_digest() -> str:
    """Hash of the sources compiled code depends on: the kernels and every engine module."""
    here = Path(__file__).resolve().parent
    sources = [Path(_kernels.__file__).resolve(), *sorted(here.glob("*.py"))]
    h = hashlib.sha256()
    for path in sources:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:32]


def invalidate_stale_caches(namespace: dict[str, Any], module: str) -> None:
    """Delete the numba cache files of ``module`` when the engine sources changed.

    Parameters
    ----------
    namespace : dict
        The module's ``globals()``; its numba dispatchers defined in ``module`` are checked.
    module : str
        The module's ``__name__``.
    """
    dispatchers = [obj for obj in namespace.values()
                   if getattr(obj, "py_func", None) is not None and hasattr(obj, "stats")
                   and obj.py_func.__module__ == module]
    if not dispatchers:
        return
    try:
        cache_dir = Path(dispatchers[0].stats.cache_path)
        stem = Path(namespace["__file__"]).stem
        stamp = cache_dir / f"{stem}.rmtrisk-stamp"
        digest = source_digest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        for path in list(cache_dir.glob(f"{stem}.*.nbi")) + list(cache_dir.glob(f"{stem}.*.nbc")):
            path.unlink(missing_ok=True)
        cache_dir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    except (OSError, AttributeError, TypeError) as exc:
        warnings.warn(f"rmtrisk could not check the numba cache of {module} ({exc!r}); "
                      "compiled code may be stale: delete the __pycache__ folders or set "
                      "NUMBA_CACHE_DIR to a fresh directory", RuntimeWarning, stacklevel=2)
