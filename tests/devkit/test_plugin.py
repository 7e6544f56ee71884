"""The pytest plugin's fixtures, exercised in a separate pytest run."""

from __future__ import annotations

pytest_plugins = ["pytester"]

USER_TESTS = """
import httpx
from kiket_sdk import KiketSDK, allow
from kiket_sdk.events import IssueCreated
from kiket_sdk.testing import FakeKiket, event_payload


def make_sdk(base_url=None):
    sdk = KiketSDK(webhook_secret="plugin-secret", extension_id="com.example.p", base_url=base_url)

    @sdk.webhook("issue.created", version="v1")
    async def on_issue(event: IssueCreated, ctx):
        if ctx.settings.get("CALL"):
            await ctx.endpoints.log_event("seen", title=event.issue.title)
        return allow(message=event.issue.title)

    return sdk


def test_deliver_builds_the_payload(kiket_deliver):
    answer = kiket_deliver(make_sdk(), "issue.created", issue__title="From plugin")
    assert answer.status_code == 200
    assert answer.json()["message"] == "From plugin"


def test_deliver_with_payload(kiket_deliver):
    payload = event_payload("issue.created", issue__title="Given")
    assert kiket_deliver(make_sdk(), "issue.created", payload).json()["message"] == "Given"


def test_signed_headers(kiket_signed_headers):
    sdk = make_sdk()
    body = b'{"event":"issue.created","issue":{"id":1,"title":"t"}}'
    headers = kiket_signed_headers("plugin-secret", body, version="v1")
    assert headers["Content-Type"] == "application/json"
    bad = kiket_signed_headers("other", body)
    transport = httpx.ASGITransport(app=sdk)
    import asyncio

    async def post(h):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            return await http.post("/v/v1/webhooks/issue.created", content=body, headers=h)

    assert asyncio.run(post(headers)).status_code == 200
    assert asyncio.run(post(bad)).status_code == 401


def test_fake_is_served_and_records_calls(kiket_fake, kiket_deliver):
    assert isinstance(kiket_fake, FakeKiket)
    assert httpx.get(kiket_fake.url + "/.well-known/jwks.json").json() == {"keys": []}
    sdk = make_sdk(base_url=kiket_fake.url)
    sdk.settings["CALL"] = True
    answer = kiket_deliver(sdk, "issue.created")
    assert answer.status_code == 200, answer.text
    assert [c.path for c in kiket_fake.calls][-1] == "/api/v1/extensions/com.example.p/events"


# One sdk for the module, as users write it; each test below has its own fake.
MODULE_SDK = make_sdk()
MODULE_SDK.settings["CALL"] = True


def test_module_sdk_calls_this_tests_fake_1(kiket_fake, kiket_deliver):
    answer = kiket_deliver(MODULE_SDK, "issue.created", id="same-id", issue__title="First")
    assert answer.status_code == 200
    assert [e["data"] for e in kiket_fake.events] == [{"title": "First"}]


def test_module_sdk_calls_this_tests_fake_2(kiket_fake, kiket_deliver):
    # the same event id again: a new test starts with an empty ledger, so the handler runs
    answer = kiket_deliver(MODULE_SDK, "issue.created", id="same-id", issue__title="Second")
    assert answer.status_code == 200
    assert "x-kiket-duplicate" not in answer.headers
    assert [e["data"] for e in kiket_fake.events] == [{"title": "Second"}]


def test_module_sdk_points_back_after_the_tests():
    assert MODULE_SDK.base_url == "https://kiket.dev"


def test_explicit_api_base_url_is_used_as_given(kiket_fake, kiket_deliver):
    sdk = make_sdk()
    seen = []

    @sdk.webhook("issue.updated", version="v1")
    async def on_updated(event: dict, ctx):
        seen.append(event["api"]["base_url"])
        return allow()

    kiket_deliver(sdk, "issue.updated", api__base_url=kiket_fake.url + "/")
    kiket_deliver(sdk, "issue.updated")
    assert seen == [kiket_fake.url + "/", kiket_fake.url]
"""


def test_fixtures_work_in_a_user_project(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=8)


def test_plugin_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, kiket_sdk.testing._pytest_plugin as p;"
        "heavy = [m for m in ('fastapi', 'httpx', 'kiket_sdk.testing._fake_kiket', 'uvicorn')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_route_outbound_moves_the_api_telemetry_with_the_base_url() -> None:
    from kiket_sdk import KiketSDK
    from kiket_sdk.testing import FakeKiket, route_outbound

    sdk = KiketSDK(webhook_secret="s", workspace_token="wk_test", base_url="https://kiket.dev")
    assert sdk.telemetry.target is not None
    assert sdk.telemetry.target.url == "https://kiket.dev/api/v1/ext/telemetry"
    fake = FakeKiket()
    with fake.serve() as url:
        previous = route_outbound(sdk, url)
        assert sdk.telemetry.target.url == url + "/api/v1/ext/telemetry"
        route_outbound(sdk, previous)
    assert sdk.telemetry.target.url == "https://kiket.dev/api/v1/ext/telemetry"
