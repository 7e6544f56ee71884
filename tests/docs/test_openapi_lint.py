"""The extension's OpenAPI documents -- the SDK's own ``/openapi.json`` and a host app's after
``include_router(sdk.router)`` -- validate (openapi-spec-validator) and lint clean (``redocly
lint``, recommended rules) for an awkward set of handlers, and say what the routes do: the
HMAC security schemes, every answer of the README's table, scopes, the spec's examples, the
unversioned route, unique operation ids and component names that never collide."""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from collections.abc import Iterator
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from openapi_spec_validator import validate
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.testclient import TestClient

from kiket_sdk import Allow as GeneratedAllow
from kiket_sdk import HandlerContext, KiketSDK, SyncHandlerContext, allow
from kiket_sdk._generated.catalogue import EVENT_PAYLOADS
from kiket_sdk.events import IssueCreated as GeneratedIssueCreated
from kiket_sdk.events import IssueCreatedV2
from kiket_sdk.testing import event_payload

from ._linters import REDOCLY_VERSION, install_redocly, redocly_errors, redocly_lint

README = Path(__file__).resolve().parents[2] / "README.md"
CI_RUN = Path(__file__).resolve().parents[2] / ".ci" / "run"

# -- an extension with every awkward handler we could think of ---------------------------------


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Size(IntEnum):
    S = 1
    M = 2


class Part(BaseModel):
    color: Color
    size: Size = Size.M


class Order(BaseModel):
    parts: list[Part]
    main: Part
    note: str | None = None
    kind: Literal["a", "b"] = "a"


def _other_order() -> type[BaseModel]:
    class Order(BaseModel):  # the same name as the module-level Order, other fields
        reference: str

    return Order


OtherOrder = _other_order()


class IssueCreated(BaseModel):
    """The user's own model, named like the generated one."""

    title: str
    part: Part | None = None


class Allow(BaseModel):
    """An answer of the user's, named like the generated ``Allow``."""

    granted: bool


class Receipt(BaseModel):
    order_id: int
    color: Color


class Événement(BaseModel):
    nom: str


class Opaque:
    """Not a pydantic type: a model with such a field has no JSON Schema."""


class OpaqueModel(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


async def on_generated(event: GeneratedIssueCreated, ctx: HandlerContext) -> GeneratedAllow:
    """Files the issue."""
    return allow()


async def on_generated_v2(event: IssueCreatedV2, ctx: HandlerContext) -> Allow:
    return Allow(granted=True)


async def on_user_issue(event: IssueCreated, ctx: HandlerContext) -> Receipt:
    return Receipt(order_id=1, color=Color.RED)


async def on_dict(event: dict[str, Any], ctx: HandlerContext) -> Any:
    return None


async def on_unicode(event: Événement, ctx: HandlerContext) -> Receipt | Allow:
    return Allow(granted=False)


async def on_order(event: Order, ctx: HandlerContext) -> Order:
    return event


async def on_other_order(event: OtherOrder, ctx: HandlerContext) -> Any:  # type: ignore[valid-type]
    return None


async def on_opaque(event: OpaqueModel, ctx: HandlerContext) -> OpaqueModel:
    return event


def on_sync(event: dict[str, Any], ctx: SyncHandlerContext) -> None:
    """A plain def handler."""


# (event, version, handler, required scopes)
HANDLERS: list[tuple[str, str, Any, list[str]]] = [
    ("issue.created", "v1", on_generated, ["issues.read"]),
    ("issue.created", "v2", on_generated_v2, ["issues.read", "issues.write"]),
    ("issue.updated", "v1", on_user_issue, []),
    ("a.b", "v1", on_dict, []),
    ("a_b", "v1", on_dict, []),
    ("a-b", "v1", on_dict, ["*"]),
    ("A.B", "v1", on_dict, []),
    ("café.commandé", "v1", on_unicode, []),
    ("事件", "v1", on_dict, []),
    ("活动", "v1", on_dict, []),
    ("odd{name} with space", "v1", on_order, []),
    ("orders.placed", "v1", on_order, []),
    ("orders.placed", "v2", on_other_order, []),
    ("orders.placed", "2024-10-01", on_dict, []),
    ("workflow.sla_status", "v1", on_dict, []),
    ("workflow.sla.status", "v1", on_dict, []),
    ("workflow_sla_status", "v1", on_dict, []),
    ("slack.notify", "v1", on_sync, ["notify.send"]),
    ("opaque.thing", "v1", on_opaque, []),
]


def awkward_sdk() -> KiketSDK:
    sdk = KiketSDK(webhook_secret="sh_test", extension_id="com.example.awkward")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # look-alike names are the point here
        for event, version, handler, scopes in HANDLERS:
            sdk.register(event, handler, version=version, required_scopes=scopes)
    return sdk


def sdk_document(sdk: KiketSDK) -> dict[str, Any]:
    with TestClient(sdk) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def host_document(sdk: KiketSDK, *, own_route: bool = True) -> dict[str, Any]:
    host = FastAPI()
    if own_route:  # the host's own operation (unsecured: the host's business, not linted)

        @host.get("/hello")
        def hello() -> dict[str, str]:
            return {"hello": "world"}

    host.include_router(sdk.router, prefix="/kiket")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # FastAPI warns of duplicate operation ids
        document: dict[str, Any] = TestClient(host).get("/openapi.json").json()
    return document


# -- the linters ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redocly() -> Path:
    """The ``redocly`` executable; skipped only where npm is missing, never in CI."""
    try:
        executable = install_redocly()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"npm could not install @redocly/cli {REDOCLY_VERSION}: {output!r}")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("npm is missing in CI: .ci/run installs nodejs and npm")
        pytest.skip("npm is not installed on this machine: redocly lint cannot run")
    return executable


def test_ci_installs_the_pinned_redocly() -> None:
    assert "tests/docs/_linters.py" in CI_RUN.read_text()


# -- what every operation must say ------------------------------------------------------------


def _readme_statuses() -> set[int]:
    """The error statuses of the README's "Answers" table (``| 413 / 415 |`` is two)."""
    text = README.read_text()
    table = text[text.index("| status | when |") :].split("\n\n", 1)[0]
    statuses = {int(s) for row in table.splitlines() for s in re.findall(r"\b[45]\d\d\b", row[:14])}
    assert {400, 401, 409, 503} <= statuses, table
    return statuses - {405}  # 405 answers other methods than POST: no POST operation gets it


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), ref
        mapping = cast(dict[str, Any], node)
        assert part in mapping, f"{ref} resolves to nothing"
        node = mapping[part]
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        mapping = cast(dict[str, Any], node)
        if isinstance(mapping.get("$ref"), str):
            yield mapping["$ref"]
        for value in mapping.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in cast(list[Any], node):
            yield from _refs(value)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "post" and "webhooks/" in path:
                yield path, operation


def _body_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    resolved: dict[str, Any] = _resolve(document, schema["$ref"]) if "$ref" in schema else schema
    return resolved


def _accepts(model: type[BaseModel] | None, payload: dict[str, Any]) -> bool:
    try:
        return model is None or bool(model.model_validate(payload))
    except ValidationError:
        return False


def check_document(document: dict[str, Any], sdk: KiketSDK, prefix: str = "") -> None:
    """Everything the task asks of a document, beyond what the linters check."""
    validate(document)
    for ref in _refs(document):
        _resolve(document, ref)
    schemes = document["components"]["securitySchemes"]
    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        "KiketSignature": ("apiKey", "header", "X-Kiket-Signature"),
        "KiketTimestamp": ("apiKey", "header", "X-Kiket-Timestamp"),
    }
    assert "runtime_token" in schemes["KiketSignature"]["description"]
    names = set(document["components"]["schemas"])
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in names), names

    operations = dict(_operations(document))
    ids = [operation["operationId"] for operation in operations.values()]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids), ids
    statuses = _readme_statuses()
    for path, operation in operations.items():
        assert operation["security"] == [{"KiketSignature": [], "KiketTimestamp": []}, {}], path
        assert {int(s) for s in operation["responses"]} == {200, *statuses}, path
        for status in statuses:
            answer = operation["responses"][str(status)]
            error = _resolve(document, answer["content"]["application/json"]["schema"]["$ref"])
            assert error["required"] == ["error"], (path, status)
            assert ("Retry-After" in answer.get("headers", {})) == (status in (409, 503))
        assert "X-Kiket-Duplicate" in operation["responses"]["200"]["headers"]

    events: dict[str, list[str]] = {}
    for (event, version), spec in sdk.handlers.items():
        events.setdefault(event, []).append(version)
        operation = operations[f"{prefix}/v/{version}/webhooks/{quote(event, safe='')}"]
        scopes = list(spec.required_scopes)
        assert operation.get("x-kiket-required-scopes", []) == scopes
        assert all(f"`{scope}`" in operation["description"] for scope in scopes)
        examples = operation["requestBody"]["content"]["application/json"].get("examples", {})
        spec_example = event_payload(event, version)
        if (event, version) in EVENT_PAYLOADS and _accepts(spec.model, spec_example):
            example = examples[version]["value"]
            assert example == {**spec_example, "id": example["id"]}
        else:  # no spec example, or one the handler's own model would refuse
            assert examples == {}
    for event, versions in events.items():
        unversioned = operations[f"{prefix}/webhooks/{quote(event, safe='')}"]
        parameters = {(p["in"], p["name"]): p for p in unversioned["parameters"]}
        assert set(parameters) == {("header", "X-Kiket-Event-Version"), ("query", "version")}
        assert all(set(p["schema"]["examples"]) == set(versions) for p in parameters.values())
    assert len(operations) == len(sdk.handlers) + len(events)

    # the user's IssueCreated and Allow are not the generated ones, and both are documented
    generated = _body_schema(document, operations[f"{prefix}/v/v1/webhooks/issue.created"])
    user = _body_schema(document, operations[f"{prefix}/v/v1/webhooks/issue.updated"])
    assert "title" in user["properties"]
    assert "issue" in generated["properties"]
    answers = operations[f"{prefix}/v/v2/webhooks/issue.created"]["responses"]["200"]
    user_allow = _resolve(document, answers["content"]["application/json"]["schema"]["$ref"])
    assert "granted" in user_allow["properties"]


# -- the tests -------------------------------------------------------------------------------------


def test_sdk_document_of_awkward_handlers_validates_and_says_everything() -> None:
    sdk = awkward_sdk()
    check_document(sdk_document(sdk), sdk)


def test_host_document_of_awkward_handlers_validates_and_says_everything() -> None:
    sdk = awkward_sdk()
    document = host_document(sdk)
    check_document(document, sdk, prefix="/kiket")
    assert "/hello" in document["paths"]  # the host's own paths are untouched


def test_sdk_document_lints_clean_with_redocly(redocly: Path, tmp_path: Path) -> None:
    report = redocly_lint(redocly, sdk_document(awkward_sdk()), tmp_path)
    assert redocly_errors(report) == []


def test_host_document_lints_clean_with_redocly(redocly: Path, tmp_path: Path) -> None:
    # `servers` is the host's to declare (FastAPI writes none by default), not the SDK's
    report = redocly_lint(
        redocly,
        host_document(awkward_sdk(), own_route=False),
        tmp_path,
        rules_off=("no-empty-servers",),
    )
    assert redocly_errors(report) == []


def test_redocly_finds_what_the_document_would_otherwise_get_wrong(
    redocly: Path, tmp_path: Path
) -> None:
    """The lint can fail: the same document without security or with a dangling reference."""
    document = sdk_document(awkward_sdk())
    for item in document["paths"].values():
        item["post"].pop("security")
    first = next(iter(document["paths"].values()))["post"]
    first["requestBody"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/Nowhere"
    }
    errors = redocly_errors(redocly_lint(redocly, document, tmp_path))
    rules = {line.split(" ", 1)[0] for line in errors}
    assert {"security-defined", "no-unresolved-refs"} <= rules


def test_a_handler_registered_after_the_router_is_documented() -> None:
    sdk = KiketSDK(webhook_secret="sh_test")
    sdk.register("orders.placed", on_order, version="v1")
    host = FastAPI()
    host.include_router(sdk.router, prefix="/kiket")
    sdk.register("orders.placed", on_dict, version="v2")
    document = TestClient(host).get("/openapi.json").json()
    validate(document)
    assert "/kiket/v/v2/webhooks/orders.placed" in document["paths"]
    unversioned = document["paths"]["/kiket/webhooks/orders.placed"]["post"]
    assert unversioned["parameters"][0]["schema"]["examples"] == ["v1", "v2"]


def test_operation_ids_do_not_depend_on_the_other_handlers() -> None:
    everything = {op["operationId"] for _, op in _operations(sdk_document(awkward_sdk()))}
    sdk = KiketSDK(webhook_secret="sh_test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for event, version, handler, scopes in HANDLERS[::3]:
            sdk.register(event, handler, version=version, required_scopes=scopes)
    some = {op["operationId"] for _, op in _operations(sdk_document(sdk))}
    assert some
    assert some - {i for i in some if i.endswith("_unversioned")} <= everything
