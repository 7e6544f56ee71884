"""Environment references and the environment variables a manifest's values stand for.

The rules come from the Kiket contract, sections 3 and 4:

* ``env:NAME``, ``env.NAME`` and ``${NAME}`` mean "the value of environment variable NAME";
  ``${NAME}`` may also sit inside a longer string (``https://${HOST}/hooks``).
* ``KIKET_SECRET_<KEY>`` overrides the value of a secret setting ``<KEY>``.

Example:

```python
from kiket_sdk._manifest.environment import resolve_env_reference, secret_env_name

env = {"HOST": "ext.example.com", "KIKET_WEBHOOK_SECRET": "sh_123"}
assert resolve_env_reference("env.KIKET_WEBHOOK_SECRET", env) == "sh_123"
assert resolve_env_reference("https://${HOST}/hooks", env) == "https://ext.example.com/hooks"
assert resolve_env_reference("env:MISSING", env) is None
assert secret_env_name("example.apiKey") == "KIKET_SECRET_EXAMPLE_APIKEY"
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = [
    "SECRET_ENV_PREFIX",
    "WEBHOOK_SECRET_ENV",
    "env_or_os",
    "env_reference_name",
    "referenced_env_names",
    "resolve_env_reference",
    "secret_env_name",
]

# Names of environment variables, not secrets.
WEBHOOK_SECRET_ENV = "KIKET_WEBHOOK_SECRET"  # noqa: S105
SECRET_ENV_PREFIX = "KIKET_SECRET_"  # noqa: S105

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_WHOLE_REFERENCE = re.compile(rf"env[:.](?P<prefixed>{_NAME})|\$\{{(?P<braced>{_NAME})\}}")
_EMBEDDED_REFERENCE = re.compile(rf"\$\{{({_NAME})\}}")
_NON_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]+")


def env_or_os(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """``environ``, or ``os.environ`` when it is ``None``."""
    return os.environ if environ is None else environ


def env_reference_name(value: object) -> str | None:
    """The variable name when ``value`` is, as a whole, an env reference; else ``None``.

    ``"env.API_KEY"``, ``"env:API_KEY"`` and ``"${API_KEY}"`` (surrounding blanks ignored) give
    ``"API_KEY"``; ``"https://${HOST}"`` and non-strings give ``None``.
    """
    if not isinstance(value, str):
        return None
    match = _WHOLE_REFERENCE.fullmatch(value.strip())
    if match is None:
        return None
    return match.group("prefixed") or match.group("braced")


def referenced_env_names(value: object) -> tuple[str, ...]:
    """Every environment variable ``value`` refers to (whole-string or embedded ``${NAME}``)."""
    whole = env_reference_name(value)
    if whole is not None:
        return (whole,)
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(_EMBEDDED_REFERENCE.findall(value)))


def resolve_env_reference(value: object, environ: Mapping[str, str] | None = None) -> object:
    """Replace environment references in ``value`` by the variables' values.

    A whole-string reference (``env:NAME``, ``env.NAME``, ``${NAME}``) becomes the variable's
    value, or ``None`` when it is unset. Embedded ``${NAME}`` references are substituted in place;
    if any of them is unset the result is ``None`` too (a half-substituted URL or token is never
    right, and ``None`` makes the gap visible). Anything else, including non-strings, comes back
    unchanged. ``environ`` defaults to ``os.environ``.
    """
    env = env_or_os(environ)
    name = env_reference_name(value)
    if name is not None:
        return env.get(name)
    names = referenced_env_names(value)
    if not names or not isinstance(value, str):
        return value
    if any(n not in env for n in names):
        return None
    return _EMBEDDED_REFERENCE.sub(lambda match: env[match.group(1)], value)


def secret_env_name(key: str) -> str:
    """The environment variable that overrides secret setting ``key``.

    ``KIKET_SECRET_`` + the key upper-cased, with every run of characters other than ASCII
    letters and digits turned into one ``_``: ``example.apiKey`` -> ``KIKET_SECRET_EXAMPLE_APIKEY``.
    """
    return SECRET_ENV_PREFIX + _NON_ALPHANUMERIC.sub("_", key).upper()
