"""What every ``kiket-sdk`` command shares: exit codes, the user-facing error, the printer.

Exit codes (also in ``kiket-sdk --help``):

- ``0`` (``EXIT_OK``): done;
- ``1`` (``EXIT_FAILED``): the command ran and the outcome is bad: ``manifest check`` found
  problems, ``send`` got a non-2xx answer, a network call failed (cannot connect, cannot listen);
- ``2`` (``EXIT_USAGE``): nothing was tried because the input is wrong: a bad argument, a
  missing or unreadable file, an invalid setting (``PORT=abc``, ``KIKET_BASE_URL=localhost``);
  argparse uses 2 for its own usage errors too;
- ``130``: interrupted (Ctrl-C).

Commands raise ``CLIError`` for mistakes the user can fix; ``main`` turns it into a single
``kiket-sdk: error: ...`` line on stderr with its exit code, so no traceback ever reaches the
terminal. Commands write their results with ``out``, which flushes at once: ``kiket-sdk dev``
streams its log while the server runs, and a pipe (``kiket-sdk events | head``) must see each
line as it is printed.
"""

from __future__ import annotations

__all__ = ["EXIT_CODES_HELP", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "CLIError", "out"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

EXIT_CODES_HELP = """\
exit codes:
  0    done
  1    the command ran and failed: manifest problems, a non-2xx answer,
       a network error (cannot connect, cannot listen)
  2    usage or configuration error: bad argument, missing file,
       invalid setting (PORT, HOST, KIKET_BASE_URL, ...)
  130  interrupted"""


class CLIError(Exception):
    """A user-facing error: printed as one line; exit code ``exit_code`` (default 2, usage)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def out(text: str = "") -> None:
    """Print one line of command output to stdout and flush it immediately."""
    print(text, flush=True)
