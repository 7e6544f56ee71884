"""The parameter a scoped helper of ``ctx.endpoints`` binds, checked once when the helper is made.

A helper made with ``x-kiket-scope: {helper: custom_data, bound: project_id}`` in the spec
(``ctx.endpoints.custom_data(project_id)``, generated in ``kiket_sdk._generated.resources``)
sends its ``project_id`` with every call, so a missing one is refused up front rather than as a
400 from the platform on the first call. The generated ``__init__`` reads::

    if project_id is None or is_missing(project_id):
        raise missing_bound("custom_data", "project_id", project_id)

>>> is_missing(42), is_missing(" "), is_missing(None)
(False, True, True)
"""

from __future__ import annotations

from kiket_sdk._exceptions import ConfigurationError

__all__ = ["is_missing", "missing_bound"]


def is_missing(value: object) -> bool:
    """Whether a bound value counts as not given: ``None`` or a blank string."""
    return value is None or (isinstance(value, str) and not value.strip())


def missing_bound(helper: str, parameter: str, value: object) -> ConfigurationError:
    """The error for a helper made without its bound value, naming the call and what was given.

    >>> str(missing_bound("custom_data", "project_id", None))
    'custom_data(project_id) needs a project id, got None.'
    """
    wanted = parameter.removesuffix("_id").replace("_", " ")
    wanted += " id" if parameter.endswith("_id") else ""
    return ConfigurationError(f"{helper}({parameter}) needs a {wanted}, got {value!r}.")
