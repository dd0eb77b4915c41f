"""The package's build backend: scikit-build-core, with build-py/ kept across pip's builds.

A plain `pip install .` builds in an isolated environment, installed into a new temporary
directory each time. scikit-build-core records its own path in build-py/<tag>/
.skbuild-info.json and, when that path changes, deletes CMakeCache.txt and CMakeFiles/, where
the object files are: every `pip install .` compiled everything again.

When nothing but that directory changed (the same scikit-build-core version, source tree and
Python), this backend writes the new path into the record before scikit-build-core reads it
and drops the cached pybind11_DIR, which pointed into the old, deleted environment, so that
find_package looks again. CMake then reconfigures in place and Ninja rebuilds only what
changed; python/CMakeLists.txt compiles against a copy of pybind11's headers in the build
directory, so the compile commands do not name the temporary directory either. Anything else
(another scikit-build-core, another source tree) still starts over, as scikit-build-core
decides.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from scikit_build_core import __version__ as _skbuild_version
from scikit_build_core import build as _build
from scikit_build_core import cmake as _cmake

__all__ = list(_build.__all__)

# The hooks this backend does not change, as scikit-build-core provides them.
for _name in __all__:
    globals()[_name] = getattr(_build, _name)

#: The build directories, as pyproject.toml's [tool.scikit-build] build-dir names them.
BUILD_DIRS = "build-py/*/.skbuild-info.json"


def _drop_cached(cache: Path, names: tuple[str, ...]) -> None:
    """Removes the entries `names` from a CMakeCache.txt, with the `//` help lines above each
    (CMake refuses help lines that no entry follows)."""
    try:
        lines = cache.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError:
        return
    kept: list[str] = []
    for line in lines:
        if line.startswith(tuple(n + ":" for n in names)):
            while kept and kept[-1].startswith("//"):
                kept.pop()
            continue
        kept.append(line)
    if len(kept) != len(lines):
        cache.write_text("".join(kept), encoding="utf-8")


def keep_build_dirs(root: Path | None = None) -> list[Path]:
    """Points the build directories' records at this scikit-build-core when only its
    temporary location moved. Returns the directories kept."""
    root = Path.cwd() if root is None else root
    here = os.fspath(_cmake.DIR)
    kept = []
    for record in sorted(root.glob(BUILD_DIRS)):
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # scikit-build-core clears it
        if not isinstance(info, dict) or info.get("skbuild_path") in (None, here):
            continue
        same = (
            info.get("skbuild_version") == _skbuild_version
            and info.get("python_executable") == sys.executable
            and info.get("source_dir") == os.fspath(root.resolve())
        )
        if not same:
            continue
        info["skbuild_path"] = here
        record.write_text(json.dumps(info, indent=2), encoding="utf-8")
        _drop_cached(record.parent / "CMakeCache.txt", ("pybind11_DIR",))
        kept.append(record.parent)
    return kept


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    keep_build_dirs()
    return _build.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    keep_build_dirs()
    return _build.build_editable(wheel_directory, config_settings, metadata_directory)
