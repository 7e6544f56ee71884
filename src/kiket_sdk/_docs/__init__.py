"""The extension's OpenAPI document: every registered webhook as an operation that validates
(openapi-spec-validator) and lints clean (``redocly lint``) for any set of handlers.

One description, two documents: `kiket_sdk._docs.routes` makes one documentation ``APIRoute``
per operation, and FastAPI writes from them both the SDK's own ``/openapi.json``
(`install_docs`, with ``/docs`` served offline) and a host app's, after
``app.include_router(sdk.router)``.

- `kiket_sdk._docs.routes`: the operations (paths, bodies, answers, parameters, examples);
- `kiket_sdk._docs.answers`: the 200 answer and every error status, with their headers;
- `kiket_sdk._docs.security`: the HMAC headers as security schemes, the runtime-token mode;
- `kiket_sdk._docs.examples`: the spec's request examples;
- `kiket_sdk._docs.operation_ids`: unique, stable operation ids;
- `kiket_sdk._docs.serving`: the SDK app's ``/openapi.json`` and ``/docs``.

Imported lazily (by ``sdk.app``, ``sdk.router`` and registrations after ``sdk.router``), so
``import kiket_sdk`` stays cheap.
"""

from __future__ import annotations

from kiket_sdk._docs.routes import (
    documentation_routes,
    documented_route,
    documented_unversioned_route,
    replace_documentation_routes,
)
from kiket_sdk._docs.serving import install_docs, webhook_document

__all__ = [
    "documentation_routes",
    "documented_route",
    "documented_unversioned_route",
    "install_docs",
    "replace_documentation_routes",
    "webhook_document",
]
