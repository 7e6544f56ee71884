"""Audit routes of the fake Kiket API (anchors are seeded with ``seed_audit_anchor``).

``verify_audit_proof`` really checks the proof (sorted-pair SHA-256 up to the root); with a
``tx_hash`` it also needs a seeded, confirmed anchor of that root and transaction.

>>> from kiket_sdk.testing._fake_store import FakeKiketState
>>> state = FakeKiketState()
>>> anchor = state.seed_audit_anchor([{"id": 1, "action": "login"}, {"id": 2}])
>>> wanted = {"record_id": 1, "record_type": "AuditLog"}
>>> _, proof = ROUTES["get_audit_record_proof"](state, wanted, None)
>>> _, verdict = ROUTES["verify_audit_proof"](state, {}, {
...     "content_hash": proof["content_hash"], "merkle_root": proof["merkle_root"],
...     "proof": proof["proof"], "leaf_index": proof["leaf_index"], "tx_hash": proof["tx_hash"]})
>>> verdict["verified"], verdict["proof_valid"], verdict["blockchain_verified"]
(True, True, True)
"""

from __future__ import annotations

import math
from typing import Any

from kiket_sdk.testing._fake_audit import proof_leads_to_root
from kiket_sdk.testing._fake_problem import ProblemError
from kiket_sdk.testing._fake_routes import Answer, Params, RouteTable, timestamp
from kiket_sdk.testing._fake_store import FakeKiketState

__all__ = ["ROUTES"]

ROUTES = RouteTable()


def _without_records(anchor: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in anchor.items() if key != "records"}


def _anchor(state: FakeKiketState, merkle_root: str) -> dict[str, Any] | None:
    return next((a for a in state.audit_anchors if a["merkle_root"] == merkle_root), None)


@ROUTES.add("list_audit_anchors")
def _list_anchors(state: FakeKiketState, params: Params, body: Any) -> Answer:
    start = timestamp(params["from"], "from") if "from" in params else None
    end = timestamp(params["to"], "to") if "to" in params else None

    def wanted(anchor: dict[str, Any]) -> bool:
        created = timestamp(anchor["created_at"], "created_at")
        return (
            params.get("status", anchor.get("status")) == anchor.get("status")
            and params.get("network", anchor.get("network")) == anchor.get("network")
            and (start is None or created >= start)
            and (end is None or created <= end)
        )

    found = [_without_records(anchor) for anchor in state.audit_anchors if wanted(anchor)]
    page, per_page = params["page"], params["per_page"]
    pagination = {
        "page": page,
        "per_page": per_page,
        "total": len(found),
        "total_pages": math.ceil(len(found) / per_page),
    }
    return 200, {
        "anchors": found[(page - 1) * per_page : page * per_page],
        "pagination": pagination,
    }


@ROUTES.add("get_audit_anchor")
def _get_anchor(state: FakeKiketState, params: Params, body: Any) -> Answer:
    anchor = _anchor(state, params["merkle_root"])
    if anchor is None:
        raise ProblemError(404, f"No audit anchor with Merkle root {params['merkle_root']}.")
    return 200, dict(anchor) if params.get("include_records") else _without_records(anchor)


@ROUTES.add("get_audit_record_proof")
def _get_proof(state: FakeKiketState, params: Params, body: Any) -> Answer:
    key = (params["record_type"], str(params["record_id"]))
    proof = state.audit_proofs.get(key)
    if proof is None:
        raise ProblemError(
            404,
            f"Audit record {key[1]} ({key[0]}) is not anchored yet. "
            "Anchor it with fake.seed_audit_anchor([...]).",
        )
    return 200, dict(proof)


@ROUTES.add("verify_audit_proof")
def _verify(state: FakeKiketState, params: Params, body: Any) -> Answer:
    root = body["merkle_root"]
    proof_valid = proof_leads_to_root(body["content_hash"], body["proof"], root)
    anchor = _anchor(state, root)
    tx_hash = body.get("tx_hash")
    on_chain = (
        anchor is not None
        and anchor.get("status") == "confirmed"
        and (tx_hash is None or anchor.get("tx_hash") == tx_hash)
    )
    blockchain_verified = tx_hash is not None and on_chain
    verified = proof_valid and (blockchain_verified or tx_hash is None)
    error = None
    if not proof_valid:
        error = "Proof does not lead to the given root"
    elif not verified:
        error = "No confirmed anchor of this root in the given transaction"
    return 200, {
        "verified": verified,
        "proof_valid": proof_valid,
        "blockchain_verified": blockchain_verified,
        "content_hash": body["content_hash"],
        "merkle_root": root,
        "leaf_index": body["leaf_index"],
        "block_number": anchor.get("block_number") if anchor else None,
        "block_timestamp": anchor.get("block_timestamp") if anchor else None,
        "network": anchor.get("network") if anchor else None,
        "explorer_url": anchor.get("explorer_url") if anchor else None,
        "error": error,
    }
