"""``FakeKiket``: an in-memory Kiket extension API, checked against the OpenAPI description.

Every request is matched to an operation of the spec (else 404), authorised (when a workspace
token is set), counted against the rate limit (429 past it), and its parameters and JSON body are
validated (400/415/422); errors are RFC 7807 problems, and the answer is chosen in this order:

1. an answer the test set for the operation: ``fake.respond(operation_id, body, status=...)``
   or a function registered with ``@fake.route(operation_id)``;
2. a stateful route of the test kit (``ROUTES``: custom data records, secrets, SLA events,
   intake forms, audit, ...) answering from ``FakeKiketState``;
3. the spec's own example of the success response (``_fake_defaults``), so an operation added
   to the spec answers something valid with no route written.

With ``strict_responses=True`` every answer is checked against the response schemas.

The core is one plain function, ``FakeKiket.handle(method, path, query, headers, body)``; the
ASGI app (``fake.app``), the in-process httpx transport (``fake.transport()``, sync and async) and
the real server (``fake.serve()``) all call it.

```python
import httpx
from kiket_sdk.testing import FakeKiket

fake = FakeKiket(workspace_token="wk_test", strict_responses=True)
with httpx.Client(transport=fake.transport(), base_url="http://kiket.test") as http:
    answer = http.post(
        "/api/v1/ext/custom_data/crm/contacts", params={"project_id": 42},
        json={"record": {"email": "a@example.com"}}, headers={"Authorization": "Bearer wk_test"},
    )
assert answer.json()["data"]["email"] == "a@example.com"
assert fake.calls[0].path == "/api/v1/ext/custom_data/crm/contacts"

fake.respond("get_rate_limit", {"rate_limit": {"limit": 1, "remaining": 0}})  # per test
```
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast
from urllib.parse import parse_qsl

from starlette.applications import Starlette

from kiket_sdk.testing import _fake_routes, _fake_routes_audit, _fake_routes_intake
from kiket_sdk.testing._fake_defaults import default_answer
from kiket_sdk.testing._fake_http import (
    FakeKiketTransport,
    FakeResponse,
    build_app,
)
from kiket_sdk.testing._fake_openapi import (
    Operation,
    match_operation,
    operations,
    read_body,
    read_parameters,
    response_errors,
)
from kiket_sdk.testing._fake_problem import PROBLEM_CONTENT_TYPE, ProblemError
from kiket_sdk.testing._fake_routes import Answer, Params, Route
from kiket_sdk.testing._fake_store import FakeKiketState, checked
from kiket_sdk.testing._server import serve_app
from kiket_sdk.testing._spec import error_messages, is_spec_object, schema_validator

__all__ = ["ROUTES", "FakeKiket", "FakeResponse", "RecordedCall"]

ROUTES = {**_fake_routes.ROUTES, **_fake_routes_intake.ROUTES, **_fake_routes_audit.ROUTES}
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request the fake received (header names lower-case; ``json`` is ``None`` without a
    JSON body), with the status it answered and the spec operation it matched."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int = 0
    operation_id: str | None = None


def _public_jwks(jwks: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    keys: list[Mapping[str, Any]]
    if is_spec_object(jwks):  # a JWKS document, or one key
        keys = list(jwks["keys"]) if "keys" in jwks else [jwks]
    else:  # not a mapping, so the annotation's other member: the keys themselves
        keys = list(cast("Iterable[Mapping[str, Any]]", jwks))
    public = [{k: v for k, v in key.items() if k not in _PRIVATE_JWK_MEMBERS} for key in keys]
    return checked("Jwks", {"keys": public}, "jwks")


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None


class FakeKiket(FakeKiketState):
    """An in-memory Kiket extension API that checks every call against the spec.

    ``workspace_token``: when set, calls need ``Authorization: Bearer <token>`` (401 otherwise);
    by default any credentials, or none, are accepted. ``rate_limit`` calls are allowed per
    ``rate_limit_window`` seconds. ``jwks``: the key set served at ``/.well-known/jwks.json`` (a
    JWKS, one JWK or a list of JWKs, e.g. from ``generate_signing_key()``; private members are
    dropped). ``strict_responses``: raise ``AssertionError`` when an answer of the fake does not
    match the spec. ``on_call``: called with each ``RecordedCall`` (from the server thread when
    serving).

    >>> fake = FakeKiket(rate_limit=2)
    >>> fake.handle("GET", "/api/v1/ext/rate_limit").json()["rate_limit"]["remaining"]
    1
    >>> fake.handle("GET", "/api/v1/nowhere").status, fake.calls[-1].operation_id
    (404, None)
    """

    def __init__(
        self,
        *,
        workspace_token: str | None = None,
        rate_limit: int = 600,
        rate_limit_window: float = 60.0,
        jwks: Mapping[str, Any] | Iterable[Mapping[str, Any]] | None = None,
        strict_responses: bool = False,
        on_call: Callable[[RecordedCall], object] | None = None,
        webhook_base_url: str = "https://kiket.dev",
    ) -> None:
        super().__init__(
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            webhook_base_url=webhook_base_url,
        )
        self.workspace_token = workspace_token
        self.strict_responses = strict_responses
        self.on_call = on_call
        self.calls: list[RecordedCall] = []
        self.url: str | None = None
        self._lock = threading.RLock()
        self._replays: dict[tuple[str, str, str], FakeResponse] = {}
        self.routes: dict[str, Route] = dict(ROUTES)
        if jwks is not None:
            self.jwks: dict[str, Any] = _public_jwks(jwks)

    # -- answers set by the test -------------------------------------------------------------------
    def route(self, operation_id: str) -> Callable[[Route], Route]:
        """Register ``function(state, params, body) -> (status, body)`` for one operation.

        ``params`` holds the checked path, query and header values by name; ``body`` the checked
        JSON body (``None`` without one); raise ``ProblemError`` for an error answer. Replaces a
        built-in route or the spec's default. ``ValueError`` for an id the spec does not know.

        >>> fake = FakeKiket()
        >>> @fake.route("get_jwks")
        ... def no_keys(state, params, body):
        ...     return 200, {"keys": []}
        >>> fake.handle("GET", "/.well-known/jwks.json").json()
        {'keys': []}
        """
        known = {operation.operation_id for operation in operations()}
        if operation_id not in known:
            raise ValueError(
                f"No operation {operation_id!r} in the spec; known: {', '.join(sorted(known))}."
            )

        def register(function: Route) -> Route:
            self.routes[operation_id] = function
            return function

        return register

    def respond(self, operation_id: str, body: Any = None, *, status: int = 200) -> None:
        """Answer every call of ``operation_id`` with ``status`` and the JSON ``body`` (a copy).

        ``body=None`` answers no body. With ``strict_responses=True`` the answer must still
        match the spec. ``ValueError`` for an id the spec does not know.

        >>> fake = FakeKiket()
        >>> fake.respond("get_secret", {"value": "canned"})
        >>> fake.handle("GET", "/api/v1/extensions/x/secrets/ANY").json()
        {'value': 'canned'}
        """
        frozen = json.dumps(body)

        def canned(state: FakeKiketState, params: Params, value: Any) -> Answer:
            return status, json.loads(frozen)

        self.route(operation_id)(canned)

    # -- the core ---------------------------------------------------------------------------------
    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> FakeResponse:
        """Answer one request and record it in ``calls``.

        ``path`` is the raw (percent-encoded) path; a ``?query`` on it is parsed when ``query``
        is not given. Header names may have any case.

        >>> fake = FakeKiket()
        >>> fake.handle("GET", "/api/v1/extensions/com.example/secrets/K").status
        404
        >>> path, body = "/api/v1/extensions/com.example/secrets/K", b'{"value": "v"}'
        >>> fake.handle("POST", path, None, {"Content-Type": "application/json"}, body).json()
        {'ok': True}
        """
        method = method.upper()
        if query is None and "?" in path:
            path, _, raw_query = path.partition("?")
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
        query = dict(query or {})
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        with self._lock:
            operation, response = self._answer(method, path, query, lowered, body)
            call = RecordedCall(
                method,
                path,
                query,
                _parse_json(body),
                lowered,
                response.status,
                operation.operation_id if operation else None,
            )
            self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        if self.strict_responses:
            self._check(operation, response)
        return response

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[Operation | None, FakeResponse]:
        matched = match_operation(method, path)
        if matched is None:
            problem = ProblemError(404, f"No operation {method} {path} in the Kiket extension API.")
            return None, self._problem(problem)
        operation, path_params = matched
        replay_key = (method, path, headers.get("idempotency-key", ""))
        try:
            self._authorize(operation, headers)
            if not self.rate_limiter.consume():
                retry_after = str(max(self.rate_limiter.reset_in, 1))
                raise ProblemError(
                    429,
                    f"Rate limit of {self.rate_limiter.limit} calls exceeded; retry in "
                    f"{retry_after} seconds.",
                    headers={"retry-after": retry_after},
                )
            if method != "GET" and replay_key[2] and replay_key in self._replays:
                return operation, self._with_limits(self._replays[replay_key])
            params = read_parameters(operation, path_params, query, headers)
            value = read_body(operation, headers, body)
            route = self.routes.get(operation.operation_id)
            status, payload = (
                route(self, params, value) if route is not None else default_answer(operation)
            )
        except ProblemError as problem:
            return operation, self._problem(problem)
        response = self._json(status, payload)
        if method != "GET" and replay_key[2] and 200 <= status < 300:
            self._replays[replay_key] = response
        return operation, response

    def _authorize(self, operation: Operation, headers: Mapping[str, str]) -> None:
        if self.workspace_token is None or not operation.needs_credentials:
            return
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.workspace_token:
            raise ProblemError(
                401,
                "Missing or wrong workspace token: send Authorization: Bearer <token> "
                "with the token the FakeKiket was created with.",
                headers={"www-authenticate": "Bearer"},
            )

    def _with_limits(self, response: FakeResponse) -> FakeResponse:
        headers = {**response.headers, **self.rate_limiter.headers()}
        return FakeResponse(response.status, headers, response.body)

    def _json(self, status: int, payload: Any) -> FakeResponse:
        if payload is None:
            return self._with_limits(FakeResponse(status, {}, b""))
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._with_limits(FakeResponse(status, {"content-type": "application/json"}, body))

    def _problem(self, problem: ProblemError) -> FakeResponse:
        body = json.dumps(problem.body(), separators=(",", ":")).encode()
        headers = {"content-type": PROBLEM_CONTENT_TYPE, **problem.headers}
        return self._with_limits(FakeResponse(problem.status, headers, body))

    def _check(self, operation: Operation | None, response: FakeResponse) -> None:
        content_type = response.headers.get("content-type", "")
        if operation is not None:
            errors = response_errors(operation, response.status, content_type, response.body)
        else:
            validator = schema_validator(("components", "schemas", "Problem"))
            errors = error_messages(validator, _parse_json(response.body))
        if errors:
            name = operation.operation_id if operation else "an unknown operation"
            raise AssertionError(
                f"FakeKiket answered {name} with {response.status}, which does not match the "
                f"spec: {'; '.join(errors)}"
            )

    @contextmanager
    def locked(self) -> Generator[FakeKiket, None, None]:
        """Hold the lock the fake answers each request under, to read or change its state
        between two calls while it serves on another thread (re-entrant).

        >>> fake = FakeKiket()
        >>> with fake.locked():
        ...     fake.secrets.setdefault("com.example", {})["API_KEY"] = "k"
        >>> fake.handle("GET", "/api/v1/extensions/com.example/secrets/API_KEY").json()
        {'value': 'k'}
        """
        with self._lock:
            yield self

    # -- ways in ----------------------------------------------------------------------------------
    @cached_property
    def app(self) -> Starlette:
        """An ASGI (Starlette) app serving the fake API."""
        return build_app(self.handle)

    def transport(self) -> FakeKiketTransport:
        """An in-process transport for ``httpx.Client`` and ``httpx.AsyncClient`` alike."""
        return FakeKiketTransport(self.handle)

    @contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Generator[str, None, None]:
        """Serve the fake with uvicorn in a background thread; yields the base URL.

        ``port=0`` picks a free port. ``fake.url`` holds the URL while serving.

        >>> import httpx
        >>> with FakeKiket().serve() as url:
        ...     httpx.get(url + "/.well-known/jwks.json").json()
        {'keys': []}
        """
        if self.url is not None:
            raise RuntimeError(f"this FakeKiket is already serving at {self.url}")
        with serve_app(self.app, host=host, port=port, lifespan="off") as url:
            self.url = url
            try:
                yield url
            finally:
                self.url = None
