"""What every ``kiket-sdk`` command shares: the user-facing error and the output printer.

Commands raise ``CLIError`` for mistakes the user can fix (a bad argument, a missing file);
``main`` turns it into a single ``kiket-sdk: error: ...`` line on stderr and exit code 1,
so no traceback ever reaches the terminal. Commands write their results with ``out``, which
flushes at once: ``kiket-sdk dev`` streams its log while the server runs, and a pipe
(``kiket-sdk events | head``) must see each line as it is printed.
"""

from __future__ import annotations

__all__ = ["CLIError", "out"]


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def out(text: str = "") -> None:
    """Print one line of command output to stdout and flush it immediately."""
    print(text, flush=True)
