"""Registration mistakes are caught where they are made: at the decorator, with what to write.

Each test names the mistake; the handlers that are accepted are also delivered to, signed, to
show the SDK calls them the way it checked them.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

import kiket_sdk
from kiket_sdk import (
    BaseHandlerContext,
    ConfigurationError,
    HandlerContext,
    KiketSDK,
    RegistrationWarning,
    SyncHandlerContext,
)
from kiket_sdk.testing import deliver_sync, event_payload, signed_headers

SECRET = "sh_registration"


@pytest.fixture
def sdk() -> KiketSDK:
    return KiketSDK(webhook_secret=SECRET, telemetry_enabled=False, extension_id="com.example")


@pytest.fixture(autouse=True)
def _warnings_are_errors() -> Iterator[None]:
    """A test that expects no warning fails on any `RegistrationWarning`."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RegistrationWarning)
        yield


def _deliver(sdk: KiketSDK, event: str = "issue.created", version: str = "v1") -> Any:
    payload = {**event_payload("issue.created"), "event": event, "event_type": event}
    answer = deliver_sync(sdk, event, payload, version=version)
    assert answer.status_code == 200, answer.text
    return answer.json()


# -- 1. the decorator without its event ------------------------------------------------------


def test_bare_sdk_webhook_raises_and_says_what_to_write(sdk: KiketSDK) -> None:
    from kiket_sdk.events import IssueCreated

    with pytest.raises(ConfigurationError) as caught:

        @sdk.webhook  # type: ignore[call-overload]
        async def on_issue(event: IssueCreated, ctx: HandlerContext) -> None: ...

    assert '@sdk.webhook("issue.created", version="v1") above def on_issue' in str(caught.value)
    assert sdk.handlers == {}


def test_bare_kiket_webhook_marker_raises(sdk: KiketSDK) -> None:
    with pytest.raises(ConfigurationError, match=r'@webhook\("issue.created", version="v1"\)'):

        @kiket_sdk.webhook  # type: ignore[call-overload]
        def on_anything(event: dict[str, Any]) -> None: ...


def test_webhook_given_a_function_as_event_raises(sdk: KiketSDK) -> None:
    def on_issue(event: dict[str, Any]) -> None: ...

    with pytest.raises(ConfigurationError, match="needs the event it handles"):
        sdk.webhook(on_issue)  # type: ignore[call-overload]


def test_register_with_arguments_swapped_raises(sdk: KiketSDK) -> None:
    def on_issue(event: dict[str, Any]) -> None: ...

    with pytest.raises(
        ConfigurationError, match=r"write sdk.register\('issue.created', on_issue\)"
    ):
        sdk.register(on_issue, "issue.created")  # type: ignore[arg-type]


@pytest.mark.parametrize("event", [42, None, b"issue.created", "  "])
def test_event_name_must_be_a_non_blank_string(sdk: KiketSDK, event: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"issue\.created"):
        sdk.register(event, lambda event: None)


# -- 2. handler kind against its context annotation ------------------------------------------


async def _async_with_sync_ctx(event: dict[str, Any], ctx: SyncHandlerContext) -> None: ...


def _def_with_async_ctx(event: dict[str, Any], ctx: HandlerContext) -> None: ...


def _compiled_without_imports(source: str) -> Any:
    """A handler whose annotations name nothing importable (as under ``if TYPE_CHECKING:``)."""
    namespace: dict[str, Any] = {}
    exec(f"from __future__ import annotations\n{source}", namespace)
    return namespace["h"]


_async_with_sync_ctx_by_name = _compiled_without_imports(
    "async def h(event: dict, ctx: SyncHandlerContext) -> None: ..."
)


async def _async_with_quoted_sync_ctx(
    event: dict[str, Any], ctx: kiket_sdk.SyncHandlerContext
) -> None: ...


class _AsyncCallable:
    async def __call__(self, event: dict[str, Any], ctx: SyncHandlerContext) -> None: ...


@pytest.mark.parametrize(
    ("handler", "write"),
    [
        (_async_with_sync_ctx, "async def _async_with_sync_ctx(event, ctx: HandlerContext)"),
        (_def_with_async_ctx, "def _def_with_async_ctx(event, ctx: SyncHandlerContext)"),
        (_async_with_sync_ctx_by_name, "ctx: HandlerContext"),
        (_async_with_quoted_sync_ctx, "ctx: HandlerContext"),
        (_AsyncCallable(), "ctx: HandlerContext"),
    ],
)
def test_context_of_the_other_kind_raises(sdk: KiketSDK, handler: Any, write: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        sdk.register("issue.created", handler)
    text = str(caught.value)
    assert "async handlers take HandlerContext, plain def handlers take SyncHandlerContext" in text
    assert write in text
    assert sdk.handlers == {}


def test_marker_checks_the_context_where_it_marks() -> None:
    with pytest.raises(ConfigurationError, match="plain def handlers take SyncHandlerContext"):

        @kiket_sdk.webhook("issue.created")
        def on_issue(event: dict[str, Any], ctx: HandlerContext) -> None: ...


def test_matching_contexts_are_served(sdk: KiketSDK) -> None:
    seen: list[str] = []

    @sdk.webhook("custom.async", version="v1")
    async def a(event: dict[str, Any], ctx: HandlerContext) -> None:
        seen.append(type(ctx).__name__)

    @sdk.webhook("custom.sync", version="v1")
    def s(event: dict[str, Any], ctx: SyncHandlerContext) -> None:
        seen.append(type(ctx).__name__)

    @sdk.webhook("custom.base", version="v1")
    def b(event: dict[str, Any], ctx: BaseHandlerContext) -> None:
        seen.append(type(ctx).__name__)

    def untyped(event, ctx):  # type: ignore[no-untyped-def]
        seen.append(type(ctx).__name__)

    sdk.register("custom.untyped", untyped)

    @sdk.webhook("custom.noctx", version="v1")
    async def n(event: dict[str, Any]) -> None:
        seen.append("-")

    for event in ("custom.async", "custom.sync", "custom.base", "custom.untyped", "custom.noctx"):
        _deliver(sdk, event)
    assert seen == [
        "HandlerContext",
        "SyncHandlerContext",
        "SyncHandlerContext",
        "SyncHandlerContext",
        "-",
    ]


# -- 3. the signature ------------------------------------------------------------------------


def _extra(event: dict[str, Any], ctx: Any, extra: int) -> None: ...


def _required_keyword(event: dict[str, Any], *, flag: bool) -> None: ...


def _nothing() -> None: ...


def _only_keywords(**kwargs: Any) -> None: ...


def _generator(event: dict[str, Any]) -> Iterator[int]:
    yield 1


async def _async_generator(event: dict[str, Any]) -> Any:
    yield 1


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_extra, r"nothing is passed to \(extra\).*write async def _extra\(event, ctx\)"),
        (_required_keyword, r"nothing is passed to \(flag\)"),
        (_nothing, r"must accept the event: write async def _nothing\(event, ctx\)"),
        (_only_keywords, "must accept the event"),
        (_generator, "use return instead of yield"),
        (_async_generator, "use return instead of yield"),
    ],
)
def test_uncallable_signatures_raise(sdk: KiketSDK, handler: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        sdk.register("issue.created", handler)


def test_extra_parameters_with_defaults_are_fine(sdk: KiketSDK) -> None:
    @sdk.webhook("custom.defaults", version="v1")
    def d(event: dict[str, Any], ctx: SyncHandlerContext, extra: int = 1, *, k: str = "k") -> Any:
        return {"extra": extra, "k": k}

    @sdk.webhook("custom.star", version="v1")
    def star(*args: Any, **kwargs: Any) -> Any:
        return {"n": len(args)}

    assert _deliver(sdk, "custom.defaults") == {"extra": 1, "k": "k"}
    assert _deliver(sdk, "custom.star") == {"n": 2}


# -- 4. string annotations resolved where the handler was written -----------------------------


def test_model_imported_inside_the_test_resolves(sdk: KiketSDK) -> None:
    from kiket_sdk.events import IssueCreated

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx: HandlerContext) -> Any:
        return {"title": event.issue.title, "model": type(event).__name__}

    assert sdk.handlers["issue.created", "v1"].model is IssueCreated
    assert _deliver(sdk)["model"] == "IssueCreated"


def test_model_defined_inside_the_test_resolves(sdk: KiketSDK) -> None:
    class Local(BaseModel):
        event: str

    def on_event(event: Local) -> Any:
        return {"model": type(event).__name__}

    sdk.register("custom.local", on_event)
    assert _deliver(sdk, "custom.local") == {"model": "Local"}


def _factory() -> Any:
    class Built(BaseModel):
        event: str

    def on_event(event: Built) -> Any:  # uses Built in its body: it is in the closure
        return {"model": Built.__name__}

    return on_event


def test_model_from_a_factory_closure_resolves(sdk: KiketSDK) -> None:
    sdk.register("custom.factory", _factory())
    assert sdk.handlers["custom.factory", "v1"].model.__name__ == "Built"  # type: ignore[union-attr]


def test_unresolvable_model_raises_clearly(sdk: KiketSDK) -> None:
    def on_issue(event: NoSuchModel) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(ConfigurationError, match="cannot resolve the annotation 'NoSuchModel'"):
        sdk.register("issue.created", on_issue)


def test_unresolvable_context_annotation_is_not_an_error(sdk: KiketSDK) -> None:
    def on_issue(event: dict[str, Any], ctx: NotImportedAtRunTime) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    sdk.register("issue.created", on_issue)
    assert sdk.handlers["issue.created", "v1"].wants_context


# -- 5. event names and versions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "meant"),
    [
        ("issue.craeted", "issue.created"),
        ("Issue.Created", "issue.created"),
        ("issues.created", "issue.created"),
        ("issue_created", "issue.created"),
        ("extension.test_connection", "extension.testConnection"),
    ],
)
def test_misspelt_catalogued_event_warns(sdk: KiketSDK, event: str, meant: str) -> None:
    with pytest.warns(RegistrationWarning, match=f"did you mean {meant!r}") as record:
        sdk.register(event, lambda event: None)
    assert record[0].filename == __file__  # points at the registration, not into the SDK
    assert (event, "v1") in sdk.handlers  # registered as written


def test_misspelt_event_warns_at_the_decorator_line(sdk: KiketSDK) -> None:
    with pytest.warns(RegistrationWarning) as record:

        @sdk.webhook("issue.craeted")
        def h(event: dict[str, Any]) -> None: ...

    assert record[0].filename == __file__


@pytest.mark.parametrize(
    "event", ["mailjet.connectParseApi", "custom.thing", "approval.rejected", "issue.closed"]
)
def test_other_unknown_events_register_silently(sdk: KiketSDK, event: str) -> None:
    sdk.register(event, lambda event: None)  # the autouse fixture turns a warning into an error
    assert (event, "v1") in sdk.handlers


@pytest.mark.parametrize("version", ["latest", "v1.0", "stable", "1.2", "vv1", " "])
def test_version_that_is_not_a_schema_version_raises(sdk: KiketSDK, version: str) -> None:
    with pytest.raises(ConfigurationError, match='version="v1"'):
        sdk.register("issue.created", lambda event: None, version=version)


def test_version_error_lists_the_catalogued_versions(sdk: KiketSDK) -> None:
    with pytest.raises(ConfigurationError, match=r"issue\.created has v1, v2"):
        sdk.register("issue.created", lambda event: None, version="latest")


@pytest.mark.parametrize(
    ("version", "key"), [("1", "v1"), ("V2", "v2"), ("2024-10-01", "2024-10-01")]
)
def test_schema_versions_accepted(sdk: KiketSDK, version: str, key: str) -> None:
    sdk.register("custom.versioned", lambda event: None, version=version)
    assert ("custom.versioned", key) in sdk.handlers


def test_catalogued_event_at_an_unlisted_version_warns(sdk: KiketSDK) -> None:
    with pytest.warns(
        RegistrationWarning, match=r"issue.created is catalogued at v1, v2 only, not v3"
    ):
        sdk.register("issue.created", lambda event: None, version="v3")
    assert ("issue.created", "v3") in sdk.handlers


def test_marker_checks_the_route_where_it_marks() -> None:
    with pytest.raises(ConfigurationError, match="not a schema version"):
        kiket_sdk.webhook("issue.created", version="latest")


# -- 6. a delivery to a route with no handler ------------------------------------------------


def _post(sdk: KiketSDK, path: str, payload: dict[str, Any], secret: str | None = SECRET) -> Any:
    body = json.dumps(payload).encode()
    headers = signed_headers(secret, body) if secret else {"Content-Type": "application/json"}
    with TestClient(sdk) as client:
        return client.post(path, content=body, headers=headers)


def test_404_names_the_closest_registered_route(sdk: KiketSDK) -> None:
    sdk.register("issue.created", lambda event: None)
    sdk.register("sla.breach", lambda event: None)
    answer = _post(sdk, "/v/1/webhooks/issue.craeted", event_payload("issue.created"))
    assert answer.status_code == 404
    assert answer.json()["error"] == (
        "no handler registered for event 'issue.craeted'; did you mean issue.created@v1?"
    )
    other_version = _post(sdk, "/v/3/webhooks/issue.created", event_payload("issue.created"))
    assert other_version.json()["error"] == (
        "no handler for issue.created@v3; registered versions of issue.created: v1; "
        "did you mean issue.created@v1?"
    )


def test_404_without_a_close_route_has_no_hint(sdk: KiketSDK) -> None:
    sdk.register("issue.created", lambda event: None)
    answer = _post(sdk, "/v/1/webhooks/mailjet.connectParseApi", {"id": "e1"})
    assert answer.json()["error"] == "no handler registered for event 'mailjet.connectParseApi'"


def test_404_echoes_at_most_100_characters_of_the_request(sdk: KiketSDK) -> None:
    sdk.register("issue.created", lambda event: None)
    event, version = "issue.created" + "x" * 5000, "v" + "9" * 5000
    answer = _post(sdk, f"/v/{version}/webhooks/{event}", {"id": "e1"})
    error = answer.json()["error"]
    assert answer.status_code == 404
    assert "x" * 101 not in error
    assert "9" * 101 not in error
    assert len(error) < 400


# -- 7. one kind of proof sent, another expected ---------------------------------------------


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIKET_WEBHOOK_SECRET", raising=False)


@pytest.mark.parametrize(
    "token", [None, "example.runtime.token", "eyJhbGciOiJFUzI1NiJ9x.e30.c2ln", "not-a-jwt"]
)
@pytest.mark.usefixtures("no_secret_env")
def test_signed_delivery_to_an_sdk_without_a_secret_says_so(token: str | None) -> None:
    sdk = KiketSDK(telemetry_enabled=False)
    sdk.register("issue.created", lambda event: None)
    payload = event_payload("issue.created")
    payload.pop("authentication")
    if token is not None:
        payload["authentication"] = {"runtime_token": token}
    answer = _post(sdk, "/v/1/webhooks/issue.created", payload, secret="the-platform-secret")
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error.startswith(
        "the delivery is signed (X-Kiket-Signature) but no webhook secret is configured: set "
        "KIKET_WEBHOOK_SECRET or pass webhook_secret="
    ), error


def test_unsigned_delivery_to_an_sdk_with_a_secret_says_hmac_is_expected(sdk: KiketSDK) -> None:
    sdk.register("issue.created", lambda event: None)
    answer = _post(sdk, "/v/1/webhooks/issue.created", event_payload("issue.created"), None)
    assert answer.status_code == 401
    assert answer.json()["error"].startswith(
        "missing X-Kiket-Signature header: a webhook secret is configured, so only HMAC-signed "
        "deliveries are accepted"
    )


def test_hmac_delivery_without_the_token_verify_runtime_token_wants() -> None:
    sdk = KiketSDK(webhook_secret=SECRET, verify_runtime_token=True, telemetry_enabled=False)
    sdk.register("issue.created", lambda event: None)
    payload = event_payload("issue.created")
    payload.pop("authentication")
    answer = _post(sdk, "/v/1/webhooks/issue.created", payload)
    assert answer.status_code == 401
    assert "verify_runtime_token=True" in answer.json()["error"]


@pytest.mark.usefixtures("no_secret_env")
def test_no_secret_is_logged_once_at_start(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        sdk = KiketSDK(telemetry_enabled=False)
        sdk.register("issue.created", lambda event: None)
        for _ in range(2):
            _post(sdk, "/v/1/webhooks/issue.created", event_payload("issue.created"), "s")
    said = [r.getMessage() for r in caplog.records if "no webhook secret" in r.getMessage()]
    assert said == [
        "no webhook secret is configured (set KIKET_WEBHOOK_SECRET or pass webhook_secret=): "
        "only deliveries carrying a runtime token, checked against the keys published by "
        "https://kiket.dev, will be accepted; HMAC-signed deliveries will be refused"
    ]


@pytest.mark.usefixtures("no_secret_env")
@pytest.mark.parametrize(
    "options", [{"webhook_secret": SECRET}, {"webhook_secrets": [SECRET]}, {"verify": False}]
)
def test_no_runtime_token_warning_when_a_secret_or_verify_false(
    caplog: pytest.LogCaptureFixture, options: dict[str, Any]
) -> None:
    with caplog.at_level(logging.WARNING, logger="kiket_sdk"):
        KiketSDK(telemetry_enabled=False, **options)
    assert not [r for r in caplog.records if "no webhook secret" in r.getMessage()]


# -- found by a fresh user after the first round --------------------------------------------


class Payload(BaseModel):  # a module-level model that a local one of the same name shadows
    other: str


def test_a_local_model_shadows_a_module_level_one_of_the_same_name(sdk: KiketSDK) -> None:
    class Payload(BaseModel):
        event: str

    def on_event(event: Payload) -> Any:  # the annotation names the local class (Python's rule)
        return {"fields": sorted(type(event).model_fields)}

    sdk.register("custom.shadowed", on_event)
    assert _deliver(sdk, "custom.shadowed") == {"fields": ["event"]}


def test_a_name_imported_two_scopes_up_resolves(sdk: KiketSDK) -> None:
    from kiket_sdk.events import IssueCreated as ImportedUpThere

    def register_inside() -> None:
        def on_issue(event: ImportedUpThere) -> Any:
            return {"model": type(event).__name__}

        sdk.register("issue.created", on_issue)

    register_inside()
    assert sdk.handlers["issue.created", "v1"].model is ImportedUpThere


@pytest.mark.parametrize("scopes", ["issues.read", ["issues.read", ""], [1]])
def test_required_scopes_must_be_a_list_of_scope_names(sdk: KiketSDK, scopes: Any) -> None:
    def on_issue(event: dict[str, Any]) -> None: ...

    with pytest.raises(ConfigurationError, match="required_scopes"):
        sdk.register("issue.created", on_issue, required_scopes=scopes)
    with pytest.raises(ConfigurationError, match="required_scopes"):
        sdk.webhook("issue.created", required_scopes=scopes)(on_issue)


@pytest.mark.parametrize("annotation", [int, str, "int", dict[str, Any]])
def test_a_second_parameter_that_cannot_take_a_context_raises(
    sdk: KiketSDK, annotation: Any
) -> None:
    async def on_issue(event: dict[str, Any], ctx: Any) -> None: ...

    on_issue.__annotations__["ctx"] = annotation
    with pytest.raises(ConfigurationError, match="receives the delivery's context"):
        sdk.register("issue.created", on_issue)


@pytest.mark.parametrize(
    "annotation", [BaseHandlerContext, "HandlerContext | None", Any, object, "object"]
)
def test_context_annotations_that_can_take_a_context_register(
    sdk: KiketSDK, annotation: Any
) -> None:
    async def on_issue(event: dict[str, Any], ctx: Any) -> Any:
        return {"ctx": type(ctx).__name__}

    on_issue.__annotations__["ctx"] = annotation
    sdk.register("issue.created", on_issue)
    assert _deliver(sdk) == {"ctx": "HandlerContext"}


def test_another_events_generated_model_on_a_catalogued_route_raises(sdk: KiketSDK) -> None:
    from kiket_sdk.events import IssueCreated

    def on_sla(event: IssueCreated) -> None: ...

    with pytest.raises(ConfigurationError, match=r"delivers WorkflowSlaStatus.*takes IssueCreated"):
        sdk.register("workflow.sla_status", on_sla)


@pytest.mark.parametrize("event", ["a/b", "a%2Fb", "pct%41", "q?x", "hash#x", "tab\there"])
def test_event_names_that_cannot_be_a_route_raise(sdk: KiketSDK, event: str) -> None:
    def on_event(event: dict[str, Any]) -> None: ...

    with pytest.raises(ConfigurationError, match="cannot be a route"):
        sdk.register(event, on_event)


def test_the_testing_kit_delivers_to_names_with_reserved_url_characters(sdk: KiketSDK) -> None:
    seen: list[str] = []

    def on_event(event: dict[str, Any]) -> None:
        seen.append(event["event"])

    sdk.register("custom.ünïcode name", on_event)
    answer = deliver_sync(sdk, "custom.ünïcode name", {"id": "1", "event": "custom.ünïcode name"})
    assert answer.status_code == 200, answer.text
    assert seen == ["custom.ünïcode name"]
