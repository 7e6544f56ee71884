"""The HTTP client core against a real uvicorn server on 127.0.0.1.

Every behaviour test runs twice, once with ``SyncAPIClient`` and once with ``AsyncAPIClient``
(fixture ``harness``), and expects the same results. The server records every request it
receives, so tests can count attempts and read the headers that went over the wire.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kiket_sdk._base_client import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    AsyncAPIClient,
    NotGiven,
    RateLimitInfo,
    SyncAPIClient,
)
from kiket_sdk._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    UnprocessableEntityError,
)
from kiket_sdk._retry import backoff_delay, parse_retry_after
from kiket_sdk._version import __version__
from kiket_sdk.testing import serve_app

T = TypeVar("T")
AnyClient = SyncAPIClient | AsyncAPIClient
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "100",
    "X-RateLimit-Remaining": "99",
    "X-RateLimit-Reset": "30",
}


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    raw_path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    requests: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seen: Seen) -> int:
        """Record a request; returns how many requests to the same path were seen so far."""
        with self.lock:
            self.requests.append(seen)
            return sum(1 for r in self.requests if r.path == seen.path)

    def to(self, path: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


RECORDER = Recorder()


async def endpoint(request: Request) -> Response:
    body = await request.body()
    path = request.url.path
    seen = Seen(
        method=request.method,
        path=path,
        raw_path=request.scope["raw_path"].decode(),
        query=parse_qsl(request.url.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )
    attempt = RECORDER.add(seen)
    if path.startswith("/echo"):
        payload = {
            "method": seen.method,
            "raw_path": seen.raw_path,
            "query": seen.query,
            "headers": seen.headers,
            "json": json.loads(body) if body else None,
        }
        return JSONResponse(payload, headers=RATE_LIMIT_HEADERS)
    if path == "/empty":
        return Response(status_code=204)
    if path == "/empty-200":
        return Response(status_code=200)
    if path == "/html":
        return Response("<html>hi</html>", media_type="text/html")
    if path == "/text-error":
        return PlainTextResponse("boom", status_code=500)
    if path == "/bad-rate-limit":
        return JSONResponse({}, headers={"X-RateLimit-Remaining": "lots"})
    if path.startswith("/problem/"):
        status = int(path.rsplit("/", 1)[1])
        problem = {"type": "about:blank", "title": "Nope", "status": status, "detail": "it broke"}
        return JSONResponse(problem, status_code=status, media_type="application/problem+json")
    if path == "/slow":
        await asyncio.sleep(0.5)
        return JSONResponse({"slow": True})
    if path.startswith("/flaky/"):
        return flaky(request, attempt)
    return JSONResponse({"error": "no such test route"}, status_code=404)


def flaky(request: Request, attempt: int) -> Response:
    """Fail the first ``fail`` attempts with ``status`` (a comma list is used in turn)."""
    q = request.query_params
    if attempt > int(q.get("fail", "1")):
        return JSONResponse({"attempts": attempt}, headers=RATE_LIMIT_HEADERS)
    statuses = q.get("status", "503").split(",")
    status = int(statuses[min(attempt, len(statuses)) - 1])
    headers: dict[str, str] = {}
    if "retry_after" in q:
        headers["Retry-After"] = q["retry_after"]
    if "retry_after_ms" in q:
        headers["retry-after-ms"] = q["retry_after_ms"]
    if "retry_in" in q:
        headers["Retry-After"] = email.utils.formatdate(
            time.time() + float(q["retry_in"]), usegmt=True
        )
    problem = {"title": "Try again", "status": status, "detail": f"attempt {attempt}"}
    return JSONResponse(problem, status_code=status, headers=headers)


APP = Starlette(
    routes=[Route("/{rest:path}", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    with serve_app(APP) as url:
        yield url


async def run(value: Awaitable[T] | T) -> T:
    """Await the result of an async client call; pass a sync client's result through."""
    if inspect.isawaitable(value):
        return await value
    return value


class Harness:
    """Builds clients of one kind (sync or async) and records the retry delays they request."""

    def __init__(self, kind: str, base_url: str) -> None:
        self.kind = kind
        self.base_url = base_url
        self.delays: list[float] = []
        self.made: list[AnyClient] = []

    def make(self, *, record_sleep: bool = True, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.base_url)
        client: AnyClient = (SyncAPIClient if self.kind == "sync" else AsyncAPIClient)(**kwargs)
        if record_sleep:
            self.record_sleep(client)
        self.made.append(client)
        return client

    def record_sleep(self, client: AnyClient) -> None:
        if isinstance(client, SyncAPIClient):
            client._sleep = self.delays.append
        else:

            async def record(delay: float) -> None:
                self.delays.append(delay)

            client._sleep = record


@pytest.fixture(params=["sync", "async"])
async def harness(request: pytest.FixtureRequest, server_url: str) -> AsyncIterator[Harness]:
    RECORDER.requests.clear()
    h = Harness(request.param, server_url)
    yield h
    for client in h.made:
        await run(client.close())


@pytest.fixture
def api(harness: Harness) -> Any:
    """A client of the harness's kind with a workspace token and the default retry budget."""
    return harness.make(workspace_token="wk_test")


class Echo(BaseModel):
    method: str
    raw_path: str
    headers: dict[str, str]


# --- headers ------------------------------------------------------------------------------------


async def test_sends_user_agent_accept_and_bearer(api: Any) -> None:
    echo = await run(api.request("GET", "/echo", cast_to=Echo))
    assert echo.headers["user-agent"] == f"kiket-sdk-python/{__version__}"
    assert echo.headers["accept"] == "application/json"
    assert echo.headers["authorization"] == "Bearer wk_test"


async def test_no_authorization_without_token(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIKET_WORKSPACE_TOKEN", raising=False)
    client = harness.make()
    echo = await run(client.request("GET", "/echo", cast_to=Echo))
    assert "authorization" not in echo.headers
    assert client.workspace_token is None


async def test_default_headers_then_extra_headers(harness: Harness) -> None:
    client = harness.make(default_headers={"X-Team": "a", "X-Override": "default"})
    echo = await run(
        client.request("GET", "/echo", cast_to=Echo, extra_headers={"x-override": "extra"})
    )
    assert echo.headers["x-team"] == "a"
    assert echo.headers["x-override"] == "extra"


async def test_with_options_merges_headers_and_shares_the_pool(harness: Harness) -> None:
    parent = harness.make(workspace_token="wk_parent", default_headers={"X-A": "1", "X-B": "1"})
    clone = parent.with_options(
        workspace_token="wk_clone",
        default_headers={"X-B": "2", "X-Kiket-Runtime-Token": "rt", "X-Kiket-Event-Version": "v1"},
        max_retries=0,
    )
    assert clone._client is parent._client
    assert type(clone) is type(parent)
    assert (clone.max_retries, parent.max_retries) == (0, DEFAULT_MAX_RETRIES)
    assert clone.base_url == parent.base_url
    seen = (await run(clone.request("GET", "/echo", cast_to=Echo))).headers
    assert seen["authorization"] == "Bearer wk_clone"
    assert (seen["x-a"], seen["x-b"]) == ("1", "2")
    assert (seen["x-kiket-runtime-token"], seen["x-kiket-event-version"]) == ("rt", "v1")
    await run(clone.close())  # a copy never closes the shared pool
    seen = (await run(parent.request("GET", "/echo", cast_to=Echo))).headers
    assert seen["authorization"] == "Bearer wk_parent"
    assert seen["x-b"] == "1"
    assert "x-kiket-runtime-token" not in seen


async def test_with_options_can_drop_the_token_and_keeps_recorded_sleep(harness: Harness) -> None:
    parent = harness.make(workspace_token="wk")
    clone = parent.with_options(workspace_token=None, timeout=5.0)
    assert clone.workspace_token is None
    assert clone.timeout == 5.0
    assert parent.timeout == DEFAULT_TIMEOUT
    echo = await run(clone.request("GET", "/echo", cast_to=Echo))
    assert "authorization" not in echo.headers
    await run(clone.request("GET", "/flaky/copy", params={"fail": 1}))
    assert len(harness.delays) == 1


# --- URL, query and body ------------------------------------------------------------------------


async def test_path_params_are_percent_encoded(api: Any) -> None:
    echo = await run(
        api.request(
            "GET",
            "/echo/{module_key}/{table}/{record_id}",
            path_params={"module_key": "a/b c", "table": "x?y#z", "record_id": 42},
            cast_to=Echo,
        )
    )
    assert echo.raw_path == "/echo/a%2Fb%20c/x%3Fy%23z/42"


@pytest.mark.parametrize("path_params", [None, {}, {"extension_id": None}])
async def test_missing_path_param_raises_before_sending(
    api: Any, path_params: dict[str, object] | None
) -> None:
    with pytest.raises(ConfigurationError, match="extension_id"):
        await run(
            api.request(
                "POST", "/echo/{extension_id}/events", path_params=path_params, body={"a": 1}
            )
        )
    assert RECORDER.requests == []


async def test_query_encoding(api: Any) -> None:
    params = {"active": True, "public": False, "skip": None, "tag": ["a", None, "b"], "limit": 5}
    echo = await run(api.get("/echo", params=params))
    assert echo["query"] == [
        ["active", "true"],
        ["public", "false"],
        ["tag", "a"],
        ["tag", "b"],
        ["limit", "5"],
    ]


class NewSubmission(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    project_id: int = Field(alias="projectId")
    data: dict[str, Any]
    metadata: dict[str, Any] | None = None


async def test_model_body_is_sent_by_alias_without_nones(api: Any) -> None:
    body = NewSubmission(project_id=7, data={"email": "a@example.com", "note": None})
    echo = (await run(api.request_raw("POST", "/echo", body=body))).json()
    assert echo["json"] == body.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert echo["json"]["projectId"] == 7
    assert "metadata" not in echo["json"]
    assert echo["headers"]["content-type"] == "application/json"


async def test_mapping_body_is_sent_as_is(api: Any) -> None:
    echo = await run(api.patch("/echo", json={"configuration": {"a": None, "b": [1, 2]}}))
    assert echo["json"] == {"configuration": {"a": None, "b": [1, 2]}}


async def test_no_body_sends_no_content_type(api: Any) -> None:
    echo = await run(api.get("/echo"))
    assert echo["json"] is None
    assert "content-type" not in echo["headers"]


# --- responses ----------------------------------------------------------------------------------


async def test_typed_parse(api: Any) -> None:
    echo = await run(api.request("GET", "/echo/typed", cast_to=Echo))
    assert isinstance(echo, Echo)
    assert (echo.method, echo.raw_path) == ("GET", "/echo/typed")


class Defaults(BaseModel):
    ok: bool = True


async def test_empty_responses(api: Any) -> None:
    assert await run(api.request("DELETE", "/empty")) is None
    assert await run(api.request("GET", "/empty", cast_to=None)) is None
    assert await run(api.delete("/empty")) is None
    assert await run(api.request("GET", "/empty-200", cast_to=Defaults)) == Defaults()


async def test_unexpected_body_is_an_api_error(api: Any) -> None:
    class Needs(BaseModel):
        required_field: int

    with pytest.raises(APIError, match=r"unexpected response body for GET /echo") as info:
        await run(api.request("GET", "/echo", cast_to=Needs))
    assert not isinstance(info.value, APIStatusError)
    assert "Needs does not fit: required_field: Field required" in str(info.value)
    assert "wk_test" not in str(info.value)  # the body (which echoes the token) is not quoted
    with pytest.raises(APIError, match=r"unexpected response body for GET /html"):
        await run(api.get("/html"))


async def test_request_raw_returns_the_response(api: Any) -> None:
    response = await run(api.request_raw("GET", "/echo/{x}", path_params={"x": "r"}))
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert response.json()["raw_path"] == "/echo/r"
    with pytest.raises(NotFoundError):
        await run(api.request_raw("GET", "/problem/404"))


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (500, InternalServerError),
    ],
)
async def test_problem_details_become_typed_errors(
    api: Any, status: int, error_class: type[APIStatusError]
) -> None:
    with pytest.raises(error_class) as info:
        await run(api.request("GET", f"/problem/{status}", cast_to=Echo))
    error = info.value
    assert error.status_code == status
    assert error.problem == {
        "type": "about:blank",
        "title": "Nope",
        "status": status,
        "detail": "it broke",
    }
    assert error.detail == "it broke"
    assert (
        str(error) == f"{status} {error.response.reason_phrase}: it broke (GET /problem/{status})"
    )
    if status == 404:
        assert str(error).startswith("404 Not Found: it broke")
    assert f"GET /problem/{status}" in str(error)
    assert error.response.status_code == status
    assert len(RECORDER.to(f"/problem/{status}")) == 1  # 4xx and 500 are not retried


async def test_non_json_error_body_gives_empty_problem(api: Any) -> None:
    with pytest.raises(InternalServerError) as info:
        await run(api.get("/text-error"))
    assert info.value.problem == {}
    assert str(info.value).startswith("500 Internal Server Error")


# --- retries ------------------------------------------------------------------------------------


async def test_retries_429_after_retry_after_then_succeeds(harness: Harness, api: Any) -> None:
    result = await run(
        api.get("/flaky/429", params={"fail": 1, "status": 429, "retry_after": "1.5"})
    )
    assert result == {"attempts": 2}
    assert harness.delays == [1.5]


async def test_retry_after_ms(harness: Harness, api: Any) -> None:
    await run(api.get("/flaky/ms", params={"fail": 1, "status": 503, "retry_after_ms": "250"}))
    assert harness.delays == [0.25]


async def test_retry_after_http_date(harness: Harness, api: Any) -> None:
    await run(api.get("/flaky/date", params={"fail": 1, "status": 429, "retry_in": 3}))
    assert len(harness.delays) == 1
    assert 1.5 < harness.delays[0] <= 3.0


async def test_retry_after_beyond_the_cap_raises_at_once(harness: Harness, api: Any) -> None:
    with pytest.raises(RateLimitError) as info:
        await run(api.get("/flaky/cap", params={"fail": 1, "status": 429, "retry_after": "120"}))
    assert info.value.status_code == 429
    assert harness.delays == []
    assert len(RECORDER.to("/flaky/cap")) == 1


async def test_really_waits_a_short_retry_after(harness: Harness) -> None:
    client = harness.make(record_sleep=False)
    started = time.monotonic()
    result = await run(
        client.get("/flaky/wait", params={"fail": 1, "status": 429, "retry_after": "0.05"})
    )
    assert result == {"attempts": 2}
    assert time.monotonic() - started >= 0.05


async def test_post_retry_reuses_one_idempotency_key(harness: Harness, api: Any) -> None:
    result = await run(api.request_raw("POST", "/flaky/post", params={"fail": 2}, body={"x": 1}))
    assert result.json() == {"attempts": 3}
    keys = {seen.headers.get("idempotency-key") for seen in RECORDER.to("/flaky/post")}
    assert len(keys) == 1
    (key,) = keys
    assert key is not None
    assert uuid.UUID(key).version == 4
    assert len(harness.delays) == 2
    assert 0.375 <= harness.delays[0] <= 0.5
    assert 0.75 <= harness.delays[1] <= 1.0


async def test_post_with_callers_idempotency_key(api: Any) -> None:
    await run(api.request("PATCH", "/flaky/key", params={"fail": 1}, idempotency_key="order-42"))
    seen = RECORDER.to("/flaky/key")
    assert [s.headers["idempotency-key"] for s in seen] == ["order-42", "order-42"]


async def test_post_without_idempotency_key_is_not_retried(harness: Harness, api: Any) -> None:
    with pytest.raises(InternalServerError) as info:
        await run(api.request("POST", "/flaky/nokey", params={"fail": 1}, idempotency_key=None))
    assert info.value.status_code == 503
    seen = RECORDER.to("/flaky/nokey")
    assert len(seen) == 1
    assert "idempotency-key" not in seen[0].headers
    assert harness.delays == []


async def test_get_and_put_carry_no_idempotency_key_but_are_retried(api: Any) -> None:
    await run(api.request("PUT", "/flaky/put", params={"fail": 1, "status": 502}))
    seen = RECORDER.to("/flaky/put")
    assert len(seen) == 2
    assert all("idempotency-key" not in s.headers for s in seen)


@pytest.mark.parametrize("status", [400, 404])
async def test_client_errors_are_not_retried(harness: Harness, api: Any, status: int) -> None:
    with pytest.raises(APIStatusError) as info:
        await run(api.get(f"/flaky/c{status}", params={"fail": 1, "status": status}))
    assert info.value.status_code == status
    assert len(RECORDER.to(f"/flaky/c{status}")) == 1
    assert harness.delays == []


async def test_exhausted_retries_raise_the_last_status(harness: Harness, api: Any) -> None:
    with pytest.raises(InternalServerError) as info:
        await run(api.get("/flaky/down", params={"fail": 9, "status": "502,503,504"}))
    assert info.value.status_code == 504
    assert info.value.problem["detail"] == "attempt 3"
    assert len(RECORDER.to("/flaky/down")) == 1 + DEFAULT_MAX_RETRIES
    assert len(harness.delays) == DEFAULT_MAX_RETRIES


async def test_max_retries_zero_and_with_options(harness: Harness) -> None:
    client = harness.make(max_retries=0)
    with pytest.raises(InternalServerError):
        await run(client.get("/flaky/zero", params={"fail": 1}))
    assert len(RECORDER.to("/flaky/zero")) == 1
    retrying = client.with_options(max_retries=1)
    assert await run(retrying.get("/flaky/zero", params={"fail": 1})) == {"attempts": 2}


async def test_connection_refused_after_retries(harness: Harness) -> None:
    with socket.socket() as sock:  # bound but not listening: connecting is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        client = harness.make(base_url=f"http://127.0.0.1:{port}")
        with pytest.raises(APIConnectionError) as info:
            await run(client.get("/anything"))
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert len(harness.delays) == DEFAULT_MAX_RETRIES


async def test_timeout_raises_api_timeout_error_after_retries(harness: Harness) -> None:
    client = harness.make(timeout=0.05, max_retries=1)
    with pytest.raises(APITimeoutError) as info:
        await run(client.get("/slow"))
    assert isinstance(info.value.__cause__, httpx.TimeoutException)
    assert len(harness.delays) == 1
    await asyncio.sleep(0.1)  # let the server notice both attempts
    assert len(RECORDER.to("/slow")) == 2


async def test_per_call_timeout(api: Any) -> None:
    with pytest.raises(APITimeoutError):
        await run(api.request("GET", "/slow", timeout=0.05))


# --- rate limits, helpers, configuration --------------------------------------------------------


async def test_rate_limit_headers_are_readable(api: Any) -> None:
    assert api.last_rate_limit is None
    await run(api.get("/echo"))
    assert api.last_rate_limit == RateLimitInfo(limit=100, remaining=99, reset=30.0)
    await run(api.delete("/empty"))  # a response without the headers keeps the last reading
    assert api.last_rate_limit == RateLimitInfo(limit=100, remaining=99, reset=30.0)
    await run(api.get("/bad-rate-limit"))  # a malformed value never raises
    assert api.last_rate_limit == RateLimitInfo(limit=None, remaining=None, reset=None)


async def test_json_helpers(api: Any) -> None:
    got = await run(api.get("/echo/g", params={"a": 1}))
    assert (got["method"], got["query"]) == ("GET", [["a", "1"]])
    posted = await run(api.post("/echo/p", json={"name": "runs", "value": 1}))
    assert posted["json"] == {"name": "runs", "value": 1}
    assert "idempotency-key" in posted["headers"]
    put = await run(api.put("/echo/u", json=[1, 2], extra_headers={"X-One": "1"}))
    assert (put["method"], put["json"], put["headers"]["x-one"]) == ("PUT", [1, 2], "1")
    patched = await run(api.patch("/echo/{literal}", json={}))
    assert patched["raw_path"] == "/echo/%7Bliteral%7D"  # helpers do not template paths
    deleted = await run(api.delete("/echo/d"))
    assert deleted["method"] == "DELETE"


async def test_env_fallbacks(
    harness: Harness, server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_BASE_URL", server_url + "/")
    monkeypatch.setenv("KIKET_WORKSPACE_TOKEN", "wk_env")
    client = harness.make(base_url=None)
    assert client.base_url == server_url
    echo = await run(client.get("/echo"))
    assert echo["headers"]["authorization"] == "Bearer wk_env"
    explicit = harness.make(workspace_token="wk_arg")
    assert explicit.workspace_token == "wk_arg"


async def test_defaults_without_env(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_BASE_URL", raising=False)
    monkeypatch.delenv("KIKET_WORKSPACE_TOKEN", raising=False)
    client = harness.make(base_url=None)
    assert client.base_url == "https://kiket.dev"
    assert client.workspace_token is None
    assert client.max_retries == DEFAULT_MAX_RETRIES
    assert client.timeout == DEFAULT_TIMEOUT


async def test_invalid_settings_are_configuration_errors(harness: Harness) -> None:
    with pytest.raises(ConfigurationError, match="KIKET_BASE_URL"):
        harness.make(base_url="kiket.dev")
    with pytest.raises(ConfigurationError, match="max_retries"):
        harness.make(max_retries=-1)


async def test_close_leaves_a_caller_owned_pool_open(harness: Harness) -> None:
    if harness.kind == "sync":
        with httpx.Client() as pool:
            with SyncAPIClient(base_url=harness.base_url, http_client=pool) as client:
                client.get("/echo")
            assert not pool.is_closed
        with SyncAPIClient(base_url=harness.base_url) as owned:
            owned.get("/echo")
        assert owned._client.is_closed
        with pytest.raises(ClientClosedError, match="was closed"):
            owned.get("/echo")
        with pytest.raises(ClientClosedError):  # copies share the closed pool
            owned.with_options(timeout=1.0).get("/echo")
    else:
        async with httpx.AsyncClient() as apool:
            async with AsyncAPIClient(base_url=harness.base_url, http_client=apool) as aclient:
                await aclient.get("/echo")
            assert not apool.is_closed
        async with AsyncAPIClient(base_url=harness.base_url) as aowned:
            await aowned.get("/echo")
            pool_of_this_loop = aowned._client
            copy = aowned.with_options(timeout=1.0)
        assert pool_of_this_loop.is_closed
        with pytest.raises(ClientClosedError, match="was closed"):
            await aowned.get("/echo")
        with pytest.raises(ClientClosedError):  # copies share the closed pools
            await copy.get("/echo")


# --- pure pieces --------------------------------------------------------------------------------


def test_not_given_sentinel() -> None:
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert NotGiven() is NOT_GIVEN


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0.05"}, 0.05),
        ({"Retry-After": " 3 "}, 3.0),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"retry-after-ms": "soon", "Retry-After": "9"}, 9.0),
        ({"Retry-After": "-4"}, 0.0),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "tomorrow-ish"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, 10.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = email.utils.parsedate_to_datetime("Wed, 21 Oct 2015 07:28:00 GMT").timestamp()
    assert parse_retry_after(httpx.Headers(headers), now=now) == expected


def test_backoff_is_exponential_capped_and_jittered() -> None:
    assert [backoff_delay(n, jitter=1.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff_delay(500, jitter=1.0) == 8.0
    for _ in range(200):
        assert 0.375 <= backoff_delay(0) <= 0.5
