"""Lazy exports for a package ``__init__``: a name's module is imported on first access.

Keeps ``import kiket_sdk`` (and the pytest plugin's ``import kiket_sdk.testing``) cheap::

    _EXPORTS = {"KiketSDK": "kiket_sdk._app"}
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS, __all__)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    namespace: dict[str, Any],
    exports: Mapping[str, str],
    public: Sequence[str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each lazily imported name to its module; a resolved name is cached in
    ``namespace`` (the package's ``globals()``), so the lookup happens once.
    """

    def module_getattr(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def module_dir() -> list[str]:
        return sorted(public)

    return module_getattr, module_dir
