"""Ties a child process of the local backend (a worker sandbox, the S3
server) to the runner that started it, so that no child outlives the runner,
even one killed with SIGKILL.

The child calls ``die_with_parent()`` first thing: on Linux it asks the
kernel for SIGKILL when its parent ends (``prctl(PR_SET_PDEATHSIG)``), then
exits at once if the parent is already gone (it died before the call). The
parent passes its pid in ``SIREN_PARENT_PID``; without it nothing is done.

The kernel sends that signal when the parent *thread* that forked the child
ends, not the parent process: ``local.py`` therefore starts every child
from one long-lived thread.

Import-free of ``siren``: ``local_host.py`` imports it by path as a sibling.
"""

from __future__ import annotations

import os
import signal
import sys

PARENT_ENV = "SIREN_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """See the module docstring; a no-op off Linux or without the variable."""
    parent = os.environ.get(PARENT_ENV, "")
    if not parent.isdigit():
        return
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl
            pass
    if os.getppid() != int(parent):
        os._exit(1)  # The runner is already gone.
