"""Output paths, checked before the work starts: the one rule every ``siren``
command applies to what it writes.

A file output (``--out``, ``--json``, ``-o``, ``--onnx``, ...) must not be a
folder, its folder must already exist (nothing is created on the user's
behalf: a typo in a folder name fails at once instead of after the run) and
must be writable, and so must the file if it exists. A run folder (``siren
train --out DIR``) is created with its missing parents, since the command
owns it; it must not be a file, and the nearest folder that exists must be
writable.

Each check raises OSError (FileNotFoundError, IsADirectoryError,
NotADirectoryError, PermissionError) whose message names the option, the
path and what was expected; the command line prints it as
``siren: error: <message>`` with exit status 2.

    check_output_file("sweep.json", "--json")
    check_output_folder("runs/a", "--out")
"""

from __future__ import annotations

import os

__all__ = ["check_output_file", "check_output_folder"]


def check_output_file(path: str | os.PathLike[str], option: str) -> None:
    """Raises OSError naming `option` when a file could not be written at `path`."""
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError(f"{option}: the path is empty; expected a file path")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{option} {path!r} is a folder; expected a file path inside one, "
                                f"e.g. {os.path.join(path, 'out')!r}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(parent):
        raise FileNotFoundError(f"{option} {path!r}: folder {parent!r} does not exist "
                                "(create it first; output folders are not created)")
    if not os.path.isdir(parent):
        raise NotADirectoryError(f"{option} {path!r}: {parent!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise PermissionError(f"{option} {path!r} is not writable")


def check_output_folder(path: str | os.PathLike[str], option: str) -> None:
    """Raises OSError naming `option` when the folder `path` could not be used
    for output: it is a file, or the nearest existing folder is not writable.
    The folder itself may not exist yet (the command creates it)."""
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError(f"{option}: the path is empty; expected a folder")
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(f"{option} {path!r} is a file; expected a folder")
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NotADirectoryError(f"{option} {path!r}: {existing!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"{option} {path!r}: folder {existing!r} is not writable")
