"""``python -m kiket_sdk ...`` is the ``kiket-sdk`` command (see ``kiket-sdk --help``)."""

from kiket_sdk._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
