"""Handler registration: what a handler receives is decided by its first parameter's annotation.

- a pydantic model (a generated event model or one of the user's): the body is validated into it;
- ``dict``/``Mapping``/``Any`` or no annotation: the parsed JSON object.

>>> def on_issue(event: dict, ctx): ...
>>> inspect_handler("issue.created", "v1", on_issue, ()).model is None
True
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kiket_sdk._exceptions import ConfigurationError

__all__ = ["HandlerSpec", "inspect_handler"]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """One registered handler of an (event, version)."""

    event: str
    version: str
    func: Callable[..., Any]
    model: type[BaseModel] | None
    """Validate the body into this model; ``None`` means hand over the parsed JSON dict."""
    is_async: bool
    wants_context: bool
    required_scopes: tuple[str, ...]

    @property
    def name(self) -> str:
        """``module.qualname`` of the handler, for logs."""
        return f"{getattr(self.func, '__module__', '?')}.{getattr(self.func, '__qualname__', '?')}"


def _is_async(func: Callable[..., Any]) -> bool:
    target = func
    while isinstance(target, functools.partial):
        target = target.func
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return inspect.iscoroutinefunction(target) or (
        not inspect.isfunction(target) and inspect.iscoroutinefunction(call)
    )


def _payload_model(func: Callable[..., Any], first: inspect.Parameter) -> type[BaseModel] | None:
    annotation: Any = first.annotation
    if annotation is inspect.Parameter.empty:
        return None
    if isinstance(annotation, str):
        try:
            annotation = typing.get_type_hints(func).get(first.name, annotation)
        except Exception as exc:
            raise ConfigurationError(
                f"cannot resolve the annotation {annotation!r} of {func!r}: {exc}"
            ) from exc
    origin = typing.get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return origin
    if annotation is Any or (isinstance(origin, type) and issubclass(origin, Mapping | dict)):
        return None
    raise ConfigurationError(
        f"the first parameter of {getattr(func, '__qualname__', func)!r} is annotated "
        f"{annotation!r}; use an event model (from kiket_sdk.events), a pydantic model or dict"
    )


def inspect_handler(
    event: str, version: str, func: Callable[..., Any], required_scopes: Sequence[str] | None
) -> HandlerSpec:
    """Check ``func`` can serve ``event`` and work out how to call it."""
    if not callable(func):
        raise ConfigurationError(f"handler for {event}@{version} is not callable: {func!r}")
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot inspect the handler for {event}@{version}") from exc
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    if not positional:
        raise ConfigurationError(
            f"handler {func!r} for {event}@{version} must accept the event: def h(event, ctx)"
        )
    wants_context = len(positional) >= 2 or positional[0].kind is inspect.Parameter.VAR_POSITIONAL
    return HandlerSpec(
        event=event,
        version=version,
        func=func,
        model=_payload_model(func, positional[0]),
        is_async=_is_async(func),
        wants_context=wants_context,
        required_scopes=tuple(required_scopes or ()),
    )
