"""Handler registration: every rule a handler must follow is checked when it is registered.

A handler is ``async def h(event, ctx)`` or ``def h(event, ctx)``; ``ctx`` may be left out:

- the first parameter receives the event; its annotation decides the form: a pydantic model (a
  generated event model or one of the user's) validates the body into it; ``dict``/``Mapping``/
  ``Any`` or no annotation hands over the parsed JSON object;
- the second parameter receives the context: ``HandlerContext`` for an ``async def`` handler,
  ``SyncHandlerContext`` for a plain ``def`` handler (run in a worker thread);
- any further parameter needs a default (nothing is passed to it); ``*args``/``**kwargs`` are fine.

String annotations (``from __future__ import annotations``) are resolved like the names in the
handler's body would be: its closure, its module, then the local names of the code that
registered it (a model imported inside a test or a factory function).

>>> def on_issue(event: dict, ctx): ...
>>> inspect_handler("issue.created", "v1", on_issue, ()).model is None
True
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
import types
import typing
import warnings
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from kiket_sdk._delivery.request import normalize_version
from kiket_sdk._exceptions import ConfigurationError
from kiket_sdk._generated.catalogue import EVENT_PAYLOADS, KNOWN_EVENTS, payload_model

__all__ = [
    "HandlerSpec",
    "RegistrationWarning",
    "bare_decorator_error",
    "check_route",
    "inspect_handler",
]

_CONTEXT_MODULE = "kiket_sdk._delivery.context"
_VERSION = re.compile(r"v[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SIMILAR = 0.88  # difflib ratio from which an unknown event name is taken for a misspelling
_EVENT_MODELS_MODULE = "kiket_sdk._generated.models"
_KIND_RULE = "async handlers take HandlerContext, plain def handlers take SyncHandlerContext"


class RegistrationWarning(UserWarning):
    """A registration that is probably a mistake but may be meant: an event name close to a
    catalogued one (``"issue.craeted"``), or a catalogued event at a version its spec does not
    list. The handler is registered all the same.

    A warning rather than a log line: it is raised where the handler is registered (file and
    line of the decorator), shown once per place, and a test suite can make it an error::

        warnings.simplefilter("error", kiket_sdk.RegistrationWarning)
    """


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


# -- where the user's code is ------------------------------------------------------------------


def _in_sdk(frame: types.FrameType) -> bool:
    name = frame.f_globals.get("__name__")
    return isinstance(name, str) and (name == "kiket_sdk" or name.startswith("kiket_sdk."))


def _user_frame() -> tuple[types.FrameType | None, int]:
    """The first frame outside kiket_sdk above the caller, and its ``stacklevel`` as seen from
    the caller (for `warnings.warn`)."""
    frame = inspect.currentframe()
    frame = frame.f_back if frame is not None else None  # the caller
    level = 1
    while frame is not None and _in_sdk(frame):
        frame, level = frame.f_back, level + 1
    return frame, level


def _warn(message: str) -> None:
    _, level = _user_frame()
    warnings.warn(message, RegistrationWarning, stacklevel=level)  # level counts _warn's caller


def _label(func: object) -> str:
    return str(getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or func)


# -- the route: event name and version ---------------------------------------------------------


def check_route(event: object, version: object) -> tuple[str, str]:
    """The (event, version) key of a registration; raises `ConfigurationError` for a name or
    version that cannot be meant, warns (`RegistrationWarning`) for one that may be a slip.

    Versions are ``v<digits>`` (``1`` and ``v1`` are the same) or a date ``YYYY-MM-DD``.

    >>> check_route(" issue.created ", "2")
    ('issue.created', 'v2')
    """
    if not isinstance(event, str):
        raise ConfigurationError(
            f"the event name must be a string such as 'issue.created', not {event!r}"
        )
    name = event.strip()
    if not name:
        raise ConfigurationError("event name must not be blank: write 'issue.created'")
    unroutable = sorted({c for c in name if c in "/?#%" or not c.isprintable()})
    if unroutable:
        # The route's event is one URL path segment: '/' splits it, '?' and '#' end it, and
        # '%' is decoded by the server, so a delivery could never reach such a handler.
        raise ConfigurationError(
            f"event name {name!r} cannot be a route (it holds {''.join(unroutable)!r}): "
            "Kiket posts to /v/<version>/webhooks/<event>; use letters, digits, '.', '_' or '-'"
        )
    if not isinstance(version, str):
        raise ConfigurationError(
            f'the version for {name} must be a string such as version="v1", not {version!r}'
        )
    normal = normalize_version(version)
    if not normal:
        raise ConfigurationError(f'version for {name} must not be blank: write version="v1"')
    if not _VERSION.fullmatch(normal):
        raise ConfigurationError(
            f'version {version!r} for {name} is not a schema version: write version="v1" '
            f"(v and a number{_known_versions_hint(name)}), or a date such as 2024-10-01"
        )
    known = KNOWN_EVENTS.get(name)
    if known is None:
        close = _closest_event(name)
        if close is not None:
            _warn(
                f"{name!r} is not a catalogued event; did you mean {close!r}? (registered as "
                f"written: an uncatalogued event is served with an untyped payload)"
            )
    elif normal not in known:
        _warn(
            f"{name} is catalogued at {', '.join(known)} only, not {normal}: registered as "
            f"written, but Kiket describes no {normal} payload for it"
        )
    return name, normal


def _known_versions_hint(event: str) -> str:
    known = KNOWN_EVENTS.get(event)
    return f"; {event} has {', '.join(known)}" if known else ""


def _closest_event(name: str) -> str | None:
    folded = {known.lower(): known for known in KNOWN_EVENTS}
    match = difflib.get_close_matches(name.lower()[:200], folded, n=1, cutoff=_SIMILAR)
    return folded[match[0]] if match else None


def bare_decorator_error(func: Callable[..., Any], decorator: str) -> ConfigurationError:
    """The error for ``@webhook`` used without its event: it cannot know which event to serve.

    The suggestion names the event of the handler's model when the catalogue has exactly one.
    """
    event, version = "issue.created", "v1"
    try:
        first = next(iter(inspect.signature(func).parameters.values()))
        model = _resolve(func, first.name, first.annotation, _namespace(func))
        routes = [key for key, payload in EVENT_PAYLOADS.items() if payload is model]
        if len(routes) == 1:
            event, version = routes[0]
    except Exception:  # noqa: S110 - only the example in the message depends on it
        pass
    return ConfigurationError(
        f"@{decorator} needs the event it handles: write "
        f'@{decorator}("{event}", version="{version}") above def {getattr(func, "__name__", "")}'
    )


# -- the handler -------------------------------------------------------------------------------


def _target(func: Callable[..., Any]) -> Any:
    """The plain function behind partials, bound methods, decorators and callable objects."""
    target: Any = func
    while isinstance(target, functools.partial):
        target = target.func
    target = inspect.unwrap(getattr(target, "__func__", target))
    if not inspect.isfunction(target):
        target = getattr(_class_of(target), "__call__", target)  # noqa: B004 - async __call__
    return target


def _is_async(func: Callable[..., Any]) -> bool:
    target = func
    while isinstance(target, functools.partial):
        target = target.func
    call = getattr(target, "__call__", None)  # noqa: B004 - callable objects with async __call__
    return inspect.iscoroutinefunction(target) or (
        not inspect.isfunction(target) and inspect.iscoroutinefunction(call)
    )


def _namespace(func: Callable[..., Any]) -> tuple[dict[str, Any], Mapping[str, Any]]:
    """(globals, locals) to resolve the handler's string annotations in: its closure, then the
    local names of the callers outside kiket_sdk up to module level (innermost first), then its
    module."""
    target = _target(func)
    module: dict[str, Any] = getattr(target, "__globals__", None) or {}
    closure: dict[str, Any] = {}
    code = getattr(target, "__code__", None)
    for name, cell in zip(
        getattr(code, "co_freevars", ()), getattr(target, "__closure__", None) or (), strict=False
    ):
        try:
            closure[name] = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
    # Python's own order: enclosing scopes before the module. With postponed annotations a
    # name used only in an annotation is not in the closure, so the local names of the code
    # registering the handler, and of the functions around it, stand for the enclosing scopes.
    enclosing: list[dict[str, Any]] = []
    frame, _ = _user_frame()
    while frame is not None and frame.f_code.co_name != "<module>" and len(enclosing) < 8:
        if not _in_sdk(frame):
            enclosing.append(dict(frame.f_locals))
        frame = frame.f_back
    return module, ChainMap(closure, *enclosing, module)


def _resolve(
    func: Callable[..., Any],
    name: str,
    annotation: Any,
    namespace: tuple[dict[str, Any], Mapping[str, Any]],
) -> Any:
    """``annotation`` evaluated (a string is looked up in ``namespace``); raises NameError and
    the other errors of evaluating it."""
    if annotation is inspect.Parameter.empty or not isinstance(annotation, str):
        return annotation
    holder = types.SimpleNamespace(__annotations__={name: annotation})
    globalns, localns = namespace
    return typing.get_type_hints(holder, globalns, dict(localns))[name]


def _context_kind(annotation: Any) -> Literal["async", "sync"] | None:
    """Which handler kind a context annotation is for (``None``: either, or not a context)."""
    if isinstance(annotation, str):  # unresolvable: go by the name as written
        written = annotation.strip().strip("'\"").rsplit(".", 1)[-1]
        return {"HandlerContext": "async", "SyncHandlerContext": "sync"}.get(written)  # type: ignore[return-value]
    if not isinstance(annotation, type):
        return None
    for cls in annotation.__mro__:
        if cls.__module__ == _CONTEXT_MODULE:
            if cls.__name__ == "HandlerContext":
                return "async"
            if cls.__name__ == "SyncHandlerContext":
                return "sync"
            return None
    return None


def _may_be_context(annotation: Any) -> bool:
    """Whether a context can be passed where ``annotation`` is written: no annotation, ``Any``,
    a name that could not be resolved, a context class, or a union holding one."""
    if annotation is inspect.Parameter.empty or annotation is Any or isinstance(annotation, str):
        return True
    if isinstance(annotation, type):
        return (
            annotation is object  # every context is one
            or getattr(annotation, "_is_protocol", False)  # a Protocol the context may satisfy
            or any(cls.__module__ == _CONTEXT_MODULE for cls in annotation.__mro__)
        )
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return False  # dict[str, Any], list[...]: not a context
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    return any(_may_be_context(member) for member in members)


def _check_catalogued_model(event: str, version: str, model: type[BaseModel] | None) -> None:
    """A generated event model on another event's route is a mix-up (``IssueCreated`` for
    ``workflow.sla_status``): its fields would not be there. The user's own models and
    ``dict`` are never questioned."""
    if model is None or model.__module__ != _EVENT_MODELS_MODULE:
        return
    expected = payload_model(event, version)
    if expected is not None and not issubclass(expected, model):
        raise ConfigurationError(
            f"{event}@{version} delivers {expected.__name__}, but its handler takes "
            f"{model.__name__} (the model of another event): annotate the event "
            f"{expected.__name__}, or use dict"
        )


def _payload_model(func: Callable[..., Any], annotation: Any) -> type[BaseModel] | None:
    if annotation is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(annotation) or annotation
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return origin
    if annotation is Any or (isinstance(origin, type) and issubclass(origin, Mapping | dict)):
        return None
    if _context_kind(annotation) is not None:
        raise ConfigurationError(
            f"the first parameter of {_label(func)!r} is annotated {annotation!r}: the event "
            f"comes first and the context second: def {_label(func)}(event, ctx)"
        )
    raise ConfigurationError(
        f"the first parameter of {_label(func)!r} is annotated "
        f"{annotation!r}; use an event model (from kiket_sdk.events), a pydantic model or dict"
    )


def _check_parameters(
    func: Callable[..., Any], route: str, params: list[inspect.Parameter]
) -> list[inspect.Parameter]:
    """The parameters that take the event and context (positional, ``*args`` included);
    raises `ConfigurationError` for a signature the SDK cannot call."""
    label = _label(func)
    expected = (
        f"async def {label}(event, ctx) or def {label}(event) (any other parameter needs a default)"
    )
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = [p for p in params if p.kind is p.VAR_POSITIONAL]
    if not positional and not star:
        raise ConfigurationError(
            f"handler {label} for {route} must accept the event: write {expected}"
        )
    required = [p.name for p in positional[2:] if p.default is p.empty]
    required += [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if required:
        raise ConfigurationError(
            f"handler {label} for {route} has parameters nothing is passed to "
            f"({', '.join(required)}): a handler receives the event and the context only; "
            f"write {expected}"
        )
    return positional[:2] + star


def inspect_handler(
    event: str, version: str, func: Callable[..., Any], required_scopes: Sequence[str] | None
) -> HandlerSpec:
    """Check ``func`` can serve ``event`` at ``version`` and work out how to call it; raises
    `ConfigurationError` saying what to write (see the module docstring for the rules)."""
    route = f"{event}@{version}"
    if not callable(func):
        raise ConfigurationError(f"handler for {route} is not callable: {func!r}")
    target = _target(func)
    if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
        raise ConfigurationError(
            f"handler {_label(func)} for {route} is a generator (it yields): a handler returns "
            f"its answer; use return instead of yield"
        )
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot inspect the handler for {route}") from exc
    takes = _check_parameters(func, route, params)
    namespace = _namespace(func)
    first = takes[0]
    try:
        model_annotation = _resolve(func, first.name, first.annotation, namespace)
    except Exception as exc:
        raise ConfigurationError(
            f"cannot resolve the annotation {first.annotation!r} of the first parameter of "
            f"{_label(func)} ({type(exc).__name__}: {exc}); import it at module level or where "
            f"the handler is defined or registered"
        ) from exc
    is_async = _is_async(func)
    wants_context = len(takes) >= 2 or first.kind is first.VAR_POSITIONAL
    if len(takes) >= 2 and takes[1].kind is not first.VAR_POSITIONAL:
        ctx = takes[1]
        try:
            ctx_annotation = _resolve(func, ctx.name, ctx.annotation, namespace)
        except Exception:  # e.g. imported under TYPE_CHECKING: go by the name as written
            ctx_annotation = ctx.annotation
        kind = _context_kind(ctx_annotation)
        if kind is None and not _may_be_context(ctx_annotation):
            right = "HandlerContext" if is_async else "SyncHandlerContext"
            raise ConfigurationError(
                f"the second parameter of {_label(func)} for {route} is annotated "
                f"{ctx_annotation!r}, but it receives the delivery's context: annotate it "
                f"{right} ({_KIND_RULE}) or leave it unannotated"
            )
        if kind is not None and (kind == "async") != is_async:
            label = _label(func)
            wrong, right = ("SyncHandlerContext", "HandlerContext")[:: 1 if is_async else -1]
            define = "async def" if is_async else "def"
            raise ConfigurationError(
                f"handler {label} for {route} is {'an async' if is_async else 'a plain def'} "
                f"handler but its context is annotated {wrong}: {_KIND_RULE}; write "
                f"{define} {getattr(func, '__name__', 'handler')}(event, {ctx.name}: {right})"
            )
    if isinstance(required_scopes, str):
        raise ConfigurationError(
            f"required_scopes of {route} takes a list of scopes, not one string: write "
            f"required_scopes=[{required_scopes!r}]"
        )
    scopes = tuple(required_scopes or ())
    if not all(_is_scope(scope) for scope in scopes):
        raise ConfigurationError(f"required_scopes of {route} must be non-blank strings")
    model = _payload_model(func, model_annotation)
    _check_catalogued_model(event, version, model)
    return HandlerSpec(
        event=event,
        version=version,
        func=func,
        model=model,
        is_async=is_async,
        wants_context=wants_context,
        required_scopes=scopes,
    )


def _class_of(value: object) -> type[object]:
    """``type(value)``, typed for any value."""
    return type(value)


def _is_scope(scope: object) -> bool:
    """A non-blank string (``required_scopes`` come from user code: the annotation is no
    guarantee)."""
    return isinstance(scope, str) and bool(scope.strip())
