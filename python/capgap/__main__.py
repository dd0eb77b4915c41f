"""`python -m capgap ...` runs the capgap command-line program installed with the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig


def _program() -> str | None:
    name = "capgap.exe" if os.name == "nt" else "capgap"
    beside = os.path.join(sysconfig.get_path("scripts"), name)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which(name)


def main() -> int:
    program = _program()
    if program is None:
        print(
            "capgap: the command-line program is not installed; reinstall with `pip install .`",
            file=sys.stderr,
        )
        return 2
    return subprocess.call([program, *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
