"""``mypy --strict`` accepts correctly typed handlers and rejects a mismatched payload model."""

from __future__ import annotations

from pathlib import Path

import mypy.api as mypy_api
import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(target: Path, cache_dir: Path) -> tuple[str, int]:
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache_dir),
            "--no-incremental",
            "--show-error-codes",
            str(target),
        ]
    )
    return stdout + stderr, status


def test_typed_handlers_pass_strict_mypy(cache_dir: Path) -> None:
    output, status = _mypy(HERE / "typing_check.py", cache_dir)
    assert status == 0, output


def test_wrong_event_model_is_a_type_error(cache_dir: Path, tmp_path: Path) -> None:
    snippet = tmp_path / "wrong_model.py"
    snippet.write_text(
        "from kiket_sdk import Allow, HandlerContext, KiketSDK, allow\n"
        "from kiket_sdk.events import SlaBreach\n"
        "\n"
        'sdk = KiketSDK(webhook_secret="sh_123")\n'
        "\n"
        "\n"
        '@sdk.webhook("issue.created", version="v1")\n'
        "async def h(event: SlaBreach, ctx: HandlerContext) -> Allow:\n"
        "    return allow()\n"
    )
    output, status = _mypy(snippet, cache_dir)
    assert status == 1, output
    assert "wrong_model.py:7" in output
    assert "[call-overload]" in output  # no accepted handler shape matches
    assert "IssueCreated" in output  # the overloads listed name the expected model
