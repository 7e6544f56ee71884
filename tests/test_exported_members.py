"""Each public module's ``__all__`` is exactly its API: every name resolves, nothing private."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PUBLIC_MODULES = [
    "kiket_sdk",
    "kiket_sdk.auth",
    "kiket_sdk.events",
    "kiket_sdk.observation",
    "kiket_sdk.otel",
    "kiket_sdk.stores",
    "kiket_sdk.testing",
    "kiket_sdk.types",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_resolve_and_are_public(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    for attr in exported:
        assert getattr(module, attr) is not None
        assert not attr.startswith("_") or attr == "__version__"


def test_top_level_api_names() -> None:
    import kiket_sdk

    for required in (
        "KiketSDK",
        "HandlerContext",
        "Allow",
        "Deny",
        "Pending",
        "allow",
        "deny",
        "pending",
        "KiketClient",
        "AsyncKiketClient",
        "KiketSDKError",
        "WebhookVerificationError",
        "MemoryDeliveryStore",
        "RedisDeliveryStore",
    ):
        assert required in kiket_sdk.__all__
    assert sorted(dir(kiket_sdk)) == sorted(kiket_sdk.__all__)
    with pytest.raises(AttributeError):
        kiket_sdk.not_a_name  # noqa: B018


def test_allow_deny_pending_are_the_generated_models() -> None:
    from kiket_sdk import Allow, KiketSDK, allow
    from kiket_sdk._generated import models

    assert Allow is models.Allow
    assert KiketSDK.allow is allow


def test_catalogue_types_issue_created_and_keeps_unknown_fields() -> None:
    from kiket_sdk.events import IssueCreated, payload_model

    model = payload_model("issue.created", "v1")
    assert model is IssueCreated
    assert IssueCreated.model_fields["issue"].annotation.model_fields["title"].annotation is str
    event = IssueCreated.model_validate(
        {"issue": {"id": "ISS-42", "title": "t", "new_field": 1}, "brand_new": {"x": 1}}
    )
    assert event.model_extra == {"brand_new": {"x": 1}}
    assert event.issue.model_extra == {"new_field": 1}
    assert event.issue.id == "ISS-42"
    assert IssueCreated.model_validate({"issue": {"id": 42, "title": "t"}}).issue.id == 42


def test_stores_module_is_what_a_store_author_needs() -> None:
    import kiket_sdk
    import kiket_sdk.stores

    assert kiket_sdk.stores.DeliveryStore is kiket_sdk.DeliveryStore
    assert kiket_sdk.stores.MemoryDeliveryStore is kiket_sdk.MemoryDeliveryStore
    for name in ("ProofBinding", "Claim", "ClaimState", "StoredResponse", "DeliveryStoreError"):
        assert name in kiket_sdk.stores.__all__
    assert isinstance(kiket_sdk.stores.MemoryDeliveryStore(), kiket_sdk.stores.DeliveryStore)


def test_stores_module_example_runs() -> None:
    import re

    import kiket_sdk.stores

    code = re.search(r"```python\n(.*?)```", kiket_sdk.stores.__doc__ or "", re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    exec(compile(code.group(1), "kiket_sdk.stores docstring", "exec"), namespace)
    assert repr(namespace["sdk"].delivery_store) == "RedisDeliveryStore(prefix='my-ext:')"  # type: ignore[attr-defined]


def _type_checking_imports(module_name: str) -> dict[str, str]:
    """Name -> module of the ``if TYPE_CHECKING:`` imports in a package's ``__init__``."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__ or "").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                for alias in statement.names:
                    found[alias.asname or alias.name] = str(statement.module)
    return found


@pytest.mark.parametrize("name", ["kiket_sdk", "kiket_sdk.testing"])
def test_lazy_exports_are_visible_to_type_checkers(name: str) -> None:
    """Type checkers read the ``TYPE_CHECKING`` imports (the lazy ``__getattr__`` is hidden
    from them, so a misspelt name is an error, not ``Any``): they must name the same objects
    as the run-time table."""
    module = importlib.import_module(name)
    exports: dict[str, str] = module._EXPORTS
    assert _type_checking_imports(name) == exports
    assert set(exports) <= set(module.__all__)
    for attr, source in exports.items():
        assert getattr(module, attr) is getattr(importlib.import_module(source), attr)


def test_import_stays_lazy() -> None:
    """``import kiket_sdk`` loads none of the modules behind its names."""
    code = (
        "import sys, kiket_sdk;"
        "print(sorted(m for m in ('fastapi', 'httpx', 'pydantic', 'kiket_sdk._app',"
        " 'kiket_sdk._generated.models') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
