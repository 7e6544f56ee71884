"""Operation ids: unique for any set of routes, plain for the catalogue, URL-safe."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kiket_sdk._docs.operation_ids import fold_event_name, operation_id
from kiket_sdk._generated.catalogue import KNOWN_EVENTS

_VERSIONS = st.one_of(
    st.integers(0, 10**6).map(lambda n: f"v{n}"),
    st.dates().map(lambda d: d.isoformat()),
    st.none(),  # the unversioned route
)
_EVENT_CHARS = st.sampled_from([*"aAbB019._-~ {}/é事", "\u0301"])
_EVENTS = st.one_of(
    st.text(_EVENT_CHARS, min_size=1, max_size=12),
    st.sampled_from(sorted(KNOWN_EVENTS)),
    st.text(min_size=1, max_size=6),
)


@given(st.sets(st.tuples(_EVENTS, _VERSIONS), max_size=40))
def test_ids_of_distinct_routes_differ(routes: set[tuple[str, str | None]]) -> None:
    ids = {operation_id(event, version) for event, version in routes}
    assert len(ids) == len(routes)
    assert all(re.fullmatch(r"webhook_[A-Za-z0-9_]+", i) for i in ids)


def test_catalogued_events_keep_plain_ids() -> None:
    for event, versions in KNOWN_EVENTS.items():
        for version in versions:
            assert operation_id(event, version) == f"webhook_{fold_event_name(event)}_{version}"


def test_look_alike_names_are_told_apart_by_a_suffix() -> None:
    plain = operation_id("a.b", "v1")
    assert plain == "webhook_a_b_v1"
    for other in ("a_b", "a-b", "a b", "a.b."):
        assert re.fullmatch(r"webhook_a_b_v1_[0-9a-f]{8}", operation_id(other, "v1")), other
    catalogued = next(e for e in KNOWN_EVENTS if "_" in e)  # workflow.sla_status, ...
    look_alike = catalogued.replace("_", ".")
    assert operation_id(look_alike, "v1") != operation_id(catalogued, "v1")
