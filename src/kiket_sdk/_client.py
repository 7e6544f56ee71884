"""``KiketClient`` and ``AsyncKiketClient``: the Kiket API grouped by resource.

Both are the generated operations (``client.custom_data``, ``client.secrets``,
``client.extension``, ``client.intake_forms``, ``client.sla_events``, ``client.webhooks``,
``client.inbound_emails``, ``client.audit``, ``client.telemetry``, ``client.jwks``,
``client.with_raw_response``) on top of the HTTP core in ``_base_client`` (retries, errors,
``with_options``, ``get``/``post``/... for paths the spec does not describe).

One SDK instance owns one root client, hence one connection pool. Inside a webhook delivery the
runtime builds ``client.for_delivery(runtime_token, event_version)``: a copy that shares the
pool and adds ``X-Kiket-Runtime-Token`` / ``X-Kiket-Event-Version`` to every call.
"""

from __future__ import annotations

from typing import Self

from kiket_sdk._generated.operations import GeneratedAsyncClient, GeneratedSyncClient

__all__ = ["EVENT_VERSION_HEADER", "RUNTIME_TOKEN_HEADER", "AsyncKiketClient", "KiketClient"]

RUNTIME_TOKEN_HEADER = "X-Kiket-Runtime-Token"  # noqa: S105 (a header name)
EVENT_VERSION_HEADER = "X-Kiket-Event-Version"
_DELIVERY_HEADERS = (RUNTIME_TOKEN_HEADER.lower(), EVENT_VERSION_HEADER.lower())


class KiketClient(GeneratedSyncClient):
    """Blocking client of the Kiket extension API.

    ``base_url``: argument, else env ``KIKET_BASE_URL``, else ``https://kiket.dev``.
    ``workspace_token``: argument, else env ``KIKET_WORKSPACE_TOKEN``; sent as
    ``Authorization: Bearer ...``. Other options (``timeout``, ``max_retries``,
    ``default_headers``, ``http_client``) are those of ``SyncAPIClient``.

    Example:

    ```python
    from kiket_sdk import KiketClient

    with KiketClient(base_url="http://127.0.0.1:3000", workspace_token="wk_live") as client:
        budget = client.extension.rate_limit().rate_limit
        print(budget.remaining, "requests left, reset in", budget.reset_in, "s")
        rows = client.custom_data.list("com.example.crm", "contacts", project_id=42, limit=10)
        for row in rows.data:
            print(row.id)
        raw = client.with_raw_response.webhooks.get_url(action_name="inbound_email")
        print(raw.status_code, raw.headers.get("x-ratelimit-remaining"))
    ```
    """

    def for_delivery(
        self,
        runtime_token: str | None,
        event_version: str | None,
        base_url: str | None = None,
    ) -> Self:
        """A copy for one webhook delivery that shares this client's connection pool.

        Every call of the copy sends ``X-Kiket-Runtime-Token: <runtime_token>`` and
        ``X-Kiket-Event-Version: <event_version>``; a header whose value is ``None`` (or empty)
        is not sent, even when this client carried one. ``base_url`` (the delivery's verified
        ``api.base_url``) replaces the API root for the copy. Closing the copy leaves the pool
        open; the client it came from is not changed.

        ```python
        delivery = client.for_delivery("rt_abc", "v1")
        delivery.extension.notify(title="Synced", body="3 contacts")
        ```
        """
        # A copy of a copy must not keep the previous delivery's token or version.
        headers = _delivery_headers(runtime_token, event_version)
        return self._with_headers_replaced(headers, _DELIVERY_HEADERS, base_url)


class AsyncKiketClient(GeneratedAsyncClient):
    """Asynchronous twin of ``KiketClient``: the same resources and options, awaited calls.

    Example:

    ```python
    import asyncio
    from kiket_sdk import AsyncKiketClient

    async def main() -> None:
        async with AsyncKiketClient(base_url="http://127.0.0.1:3000") as client:  # token from env
            budget = (await client.extension.rate_limit()).rate_limit
            events = await client.sla_events.list(project_id=42, state="breached", limit=5)
            print(budget.remaining, [event.issue_id for event in events.data])

    asyncio.run(main())
    ```
    """

    def for_delivery(
        self,
        runtime_token: str | None,
        event_version: str | None,
        base_url: str | None = None,
    ) -> Self:
        """A copy for one webhook delivery that shares this client's connection pool.

        Same rules as ``KiketClient.for_delivery``:

        ```python
        delivery = client.for_delivery("rt_abc", "v1")
        await delivery.extension.notify(title="Synced", body="3 contacts")
        ```
        """
        # A copy of a copy must not keep the previous delivery's token or version.
        headers = _delivery_headers(runtime_token, event_version)
        return self._with_headers_replaced(headers, _DELIVERY_HEADERS, base_url)


def _delivery_headers(runtime_token: str | None, event_version: str | None) -> dict[str, str]:
    """The per-delivery headers to send: only those with a value."""
    headers: dict[str, str] = {}
    if runtime_token:
        headers[RUNTIME_TOKEN_HEADER] = runtime_token
    if event_version:
        headers[EVENT_VERSION_HEADER] = event_version
    return headers
