"""Configuration is checked when the SDK or a client is built, and when ``run()`` starts.

Each bad value is one ``ConfigurationError`` saying what to write, instead of a server that
answers every delivery with 500 (``base_url="localhost:9999"``) or a raw ``ValueError``
traceback (``PORT=abc``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from kiket_sdk import AsyncKiketClient, KiketClient, KiketSDK
from kiket_sdk._exceptions import ConfigurationError

URL_RULE = "must be an http:// or https:// URL with a host, like https://kiket.dev"


@pytest.fixture(autouse=True)
def _no_host_or_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)


@pytest.mark.parametrize("value", ["localhost:9999", "kiket.dev", "ftp://kiket.dev", "http://"])
def test_base_url_needs_a_scheme_and_a_host(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=f"^base_url {URL_RULE}") as info:
        KiketSDK(base_url=value)
    assert repr(value) in str(info.value)
    monkeypatch.setenv("KIKET_BASE_URL", value)
    with pytest.raises(ConfigurationError, match=f"^KIKET_BASE_URL {URL_RULE}"):
        KiketSDK()


def test_good_base_urls_are_kept_without_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    assert KiketSDK(base_url="http://127.0.0.1:9999/").base_url == "http://127.0.0.1:9999"
    monkeypatch.setenv("KIKET_BASE_URL", " https://kiket.example/api/ ")
    assert KiketSDK().base_url == "https://kiket.example/api"
    assert KiketSDK(base_url="http://[::1]:8080").base_url == "http://[::1]:8080"


def test_telemetry_url_is_checked_when_telemetry_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=f"^telemetry_url {URL_RULE}"):
        KiketSDK(telemetry_url="collector:4318")
    monkeypatch.setenv("KIKET_SDK_TELEMETRY_URL", "collector:4318")
    with pytest.raises(ConfigurationError, match=f"^KIKET_SDK_TELEMETRY_URL {URL_RULE}"):
        KiketSDK()
    KiketSDK(telemetry_enabled=False)  # not used, so not in the way
    monkeypatch.setenv("KIKET_SDK_TELEMETRY_URL", "http://collector:4318")
    KiketSDK()


@pytest.mark.parametrize("client", [KiketClient, AsyncKiketClient])
def test_clients_check_their_base_url(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=URL_RULE):
        client(base_url="localhost:9999")
    monkeypatch.setenv("KIKET_BASE_URL", "localhost:9999")
    with pytest.raises(ConfigurationError, match=URL_RULE):
        client()


def test_credentials_in_a_bad_url_are_not_echoed() -> None:
    with pytest.raises(ConfigurationError) as info:
        KiketSDK(base_url="kiket://bot:s3cret@kiket.example")
    assert "s3cret" not in str(info.value)
    assert "'kiket://***@kiket.example'" in str(info.value)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    return calls


def test_run_binds_loopback_by_default(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sdk = KiketSDK()
    sdk.run()
    assert served[-1] == {"host": "127.0.0.1", "port": 8000}
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8080")
    sdk.run()
    assert served[-1] == {"host": "0.0.0.0", "port": 8080}
    sdk.run(host="::1", port=9000, log_level="info")
    assert served[-1] == {"host": "::1", "port": 9000, "log_level": "info"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "abc", "PORT must be a port number (1-65535), got 'abc'"),
        ("PORT", "0", "PORT must be a port number (1-65535), got '0'"),
        ("PORT", "70000", "PORT must be a port number (1-65535), got '70000'"),
        ("PORT", "80.5", "PORT must be a port number (1-65535), got '80.5'"),
        ("HOST", "http://0.0.0.0", "HOST must be an interface address or host name"),
        ("HOST", "0.0.0.0:8080", "HOST must be an interface address or host name"),
    ],
)
def test_run_refuses_bad_host_and_port_env(
    name: str,
    value: str,
    message: str,
    served: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:  # run() is the process's entry point
        KiketSDK().run()
    assert info.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"kiket-sdk: error: {message}")
    assert stderr.count("\n") == 1  # one line, no traceback
    assert served == []


def test_run_refuses_bad_host_and_port_arguments(
    served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        KiketSDK().run(port=0)
    assert "port must be a port number (1-65535)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        KiketSDK().run(host="not a host")
    assert "host must be an interface address" in capsys.readouterr().err
    assert served == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"webhook_secrets": "abc"}, "webhook_secrets takes a list"),
        ({"webhook_secrets": [b"abc"]}, "webhook secrets must be strings"),
        ({"signature_tolerance": "300"}, "signature_tolerance must be a number of seconds"),
        ({"signature_tolerance": -5}, "signature_tolerance must be a number of seconds >= 0"),
        ({"shutdown_grace": -1}, "shutdown_grace must be a number of seconds >= 0"),
        ({"handler_timeout": 0}, "handler_timeout must be a number of seconds > 0"),
        ({"body_timeout": float("nan")}, "body_timeout must be a number of seconds > 0"),
        ({"max_body_size": 1.5}, "max_body_size must be a whole number"),
        ({"settings": "x"}, "settings must be a mapping"),
        ({"allowed_api_hosts": "kiket.dev"}, "allowed_api_hosts takes a list"),
        ({"allowed_api_hosts": ["http://x.com"]}, "not URLs"),
        ({"base_url": "http://bot:pw@kiket.example"}, "must not hold credentials"),
    ],
)
def test_constructor_refuses_values_that_would_fail_every_delivery(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)) as info:
        KiketSDK(webhook_secret="sh", **options)
    assert "pw" not in str(info.value)


def test_clients_refuse_a_bad_timeout() -> None:
    for bad in (-1, 0, "30", float("inf")):
        with pytest.raises(ConfigurationError, match="timeout must be"):
            KiketClient(base_url="http://127.0.0.1:9", timeout=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="timeout must be"):
            AsyncKiketClient(base_url="http://127.0.0.1:9").with_options(timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("localhost:6379", "must start with redis://"),
        ("http://127.0.0.1:6379", "must start with redis://"),
        ("redis://:s3cret@127.0.0.1:notaport/0", "check its port"),
    ],
)
def test_redis_url_is_checked_at_start_without_echoing_it(
    value: str, rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIKET_REDIS_URL", value)
    with pytest.raises(ConfigurationError, match=rule) as info:
        KiketSDK(webhook_secret="sh")
    assert "s3cret" not in str(info.value)
    assert value not in str(info.value)
    # a store given explicitly is the SDK's whole configuration: the variable is not read
    from kiket_sdk import MemoryDeliveryStore

    assert KiketSDK(webhook_secret="sh", delivery_store=MemoryDeliveryStore()) is not None
