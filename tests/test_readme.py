"""The README's quickstart and its test example run as written (in a scratch project)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"


def _block(marker: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (found,) = [b for b in blocks if b.startswith(marker)]
    return found


@pytest.mark.slow
def test_readme_quickstart_and_its_test_pass(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(_block("# main.py"))
    (tmp_path / "test_main.py").write_text(_block("# test_main.py"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_main.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
def test_readme_recipe_survives_a_suite_of_tests(pytester: pytest.Pytester) -> None:
    # The recipe as written, with the sdk imported once at module level, three times over:
    # each test gets its own fake (and the previous one is stopped) yet sees its own calls.
    recipe = _block("# test_main.py")
    _, test_source = recipe.split("from main import sdk\n", 1)
    tests = [
        test_source.replace("test_issue_created", f"test_issue_created_{n}").replace(
            "Printer on fire", f"Printer {n} on fire"
        )
        for n in range(3)
    ]
    pytester.makepyfile(
        main=_block("# main.py"),
        test_main="from main import sdk\n" + "\n".join(tests),
        test_async=_block("# test_async.py"),
    )
    # pytest-asyncio in its default (strict) mode, as a user's project has it
    result = pytester.runpytest_subprocess(
        "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-o", "asyncio_mode=strict"
    )
    result.assert_outcomes(passed=4)


@pytest.mark.slow
def test_readme_quickstart_passes_strict_mypy(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(_block("# main.py"))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "main.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_quickstart_registers_its_handlers() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block("# main.py"), "main.py", "exec"), namespace)
    sdk = namespace["sdk"]
    assert sdk.registered_events == [  # type: ignore[attr-defined]
        "extension.testConnection@v1",
        "issue.created@v1",
    ]


def test_readme_types_example_runs() -> None:
    exec(compile(_block("# kiket_sdk.types"), "README.md", "exec"), {})


def test_readme_observability_example_runs() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_block("# observability"), "README.md", "exec"), namespace)
    sdk = namespace["sdk"]
    assert len(sdk.observers.observers) == 2  # type: ignore[attr-defined]


def _yaml_block(marker: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (found,) = [b for b in blocks if b.startswith(marker)]
    return found


@pytest.mark.slow
def test_readme_inspector_seed_makes_the_quickstart_find_its_contact(tmp_path: Path) -> None:
    # `kiket-sdk dev main:sdk --seed seed.yaml` as the README's inspector section says, driven
    # through the JSON API the way its curl line does.
    (tmp_path / "main.py").write_text(_block("# main.py"))
    (tmp_path / "seed.yaml").write_text(_yaml_block("# seed.yaml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIKET_")}
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "kiket_sdk", "dev", "main:sdk", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--seed", "seed.yaml"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if line.startswith("inspector"):
                break
        else:
            pytest.fail("no inspector line: " + "".join(seen))
        url = line.split()[1]
        with httpx.Client(base_url=url + "api", timeout=30.0) as client:
            sent = client.post("/send", json={"event": "issue.created", "version": "v1"})
            assert sent.status_code == 200, sent.text
            result = sent.json()
            assert result["status"] == 200
            assert json.loads(result["answer"])["metadata"] == {"synced": 1}
            entry = client.get(f"/deliveries/{result['serial']}").json()
            secrets = client.get("/fake").json()["secrets"]
        calls = [(c["method"], c["path"]) for c in entry["timeline"] if c["kind"] == "outbound"]
        path = "/api/v1/ext/custom_data/com.example.crm.contacts/automation_records"
        assert ("GET", path) in calls
        assert secrets == {"com.example.marketing": {"API_KEY": "k_test"}}
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
