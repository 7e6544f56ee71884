"""The typed event payloads, generated from the OpenAPI description's ``webhooks``.

Every model keeps unknown fields (the platform adds fields over time) and types identifiers as
``int | str``. ``payload_model(event, version)`` finds a model at run time::

    from kiket_sdk.events import IssueCreated, payload_model

    event = IssueCreated.model_validate({"issue": {"id": 42, "title": "Printer on fire"}})
    assert payload_model("issue.created", "v1") is IssueCreated
"""

from kiket_sdk._generated import catalogue as _catalogue
from kiket_sdk._generated.catalogue import *  # noqa: F403 - the catalogue's __all__ is the API
from kiket_sdk._generated.models import (
    Actor,
    ApiInfo,
    Approval,
    Authentication,
    Comment,
    EventEnvelope,
    ExternalWebhook,
    ExternalWebhookEvent,
    Issue,
    Organization,
    Project,
    SlaInfo,
    Transition,
)

__all__ = [
    "Actor",
    "ApiInfo",
    "Approval",
    "Authentication",
    "Comment",
    "EventEnvelope",
    "ExternalWebhook",
    "ExternalWebhookEvent",
    "Issue",
    "Organization",
    "Project",
    "SlaInfo",
    "Transition",
]
__all__ += _catalogue.__all__  # a form type checkers follow (PEP 484 / pyright)
