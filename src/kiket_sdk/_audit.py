"""Audit anchors and Merkle proofs: ``ctx.endpoints.audit`` plus two local helpers.

``AuditClient`` (blocking) and ``AsyncAuditClient`` (awaited) call the platform: ``list_anchors``,
``get_anchor`` and ``get_proof`` are generated from the spec (``x-kiket-scope: {helper: audit}``);
``verify(proof)`` is written here because it takes a whole ``get_proof`` answer, which the spec's
flat request body cannot say. Two plain functions (also static methods of both classes) check a
record without the network:

- ``compute_content_hash(record)``: ``"0x"`` + lowercase hex SHA-256 of the record's canonical
  JSON: keys sorted at every depth, no whitespace (``","`` and ``":"``), non-ASCII characters
  escaped as ``\\uXXXX`` (Python's ``json`` default, as in the official Python SDK), NaN and
  Infinity refused; the text is hashed as UTF-8.
- ``verify_proof_locally(content_hash, proof, merkle_root, leaf_index=None)``; the rule:
  1. every hash is hex (``0x`` prefix optional, any case) and is used as raw bytes; a value that
     is not hex makes the result ``False``;
  2. the leaf is the content hash itself (not hashed again);
  3. for each sibling in ``proof``, leaf level first: ``node = sha256(min(node, sibling) +
     max(node, sibling))``, the pair ordered by comparing the raw bytes ("sorted pairs"), so a
     node's left/right position never matters;
  4. the proof holds when the last node equals ``merkle_root``;
  5. ``leaf_index`` does not enter the hashing (sorted pairs make position irrelevant, and a
     node left without a sibling moves up unchanged, so the proof may be shorter than the tree
     is deep); it is accepted for symmetry with the API and a negative one answers ``False``.

```python
proof = ctx.endpoints.audit.get_proof(981)
assert verify_proof_locally(proof.content_hash, proof.proof, proof.merkle_root, proof.leaf_index)
```
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from kiket_sdk._client_options import none_as_not_given
from kiket_sdk._exceptions import KiketSDKError
from kiket_sdk._generated.models import AuditProof, AuditVerifyResponse
from kiket_sdk._generated.resources import AsyncAuditScope, AuditScope
from kiket_sdk._serialization import to_jsonable

__all__ = ["AsyncAuditClient", "AuditClient", "compute_content_hash", "verify_proof_locally"]

_VERIFY_FIELDS = ("content_hash", "merkle_root", "proof", "leaf_index")


def compute_content_hash(record: Mapping[str, Any] | BaseModel) -> str:
    """``"0x"`` + SHA-256 hex of the record's canonical JSON (rule in the module docstring).

    >>> compute_content_hash({"b": 1, "a": "x"}) == compute_content_hash({"a": "x", "b": 1})
    True
    """
    canonical = json.dumps(
        to_jsonable(record),
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return "0x" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verify_proof_locally(
    content_hash: str,
    proof: Sequence[str],
    merkle_root: str,
    leaf_index: int | None = None,
) -> bool:
    """Whether ``proof`` leads from ``content_hash`` to ``merkle_root`` (rule: module docstring).

    Never raises on malformed input: it answers ``False``.
    """
    if leaf_index is not None and leaf_index < 0:
        return False
    node = _hash_bytes(content_hash)
    root = _hash_bytes(merkle_root)
    if node is None or root is None:
        return False
    for sibling_hex in proof:
        sibling = _hash_bytes(sibling_hex)
        if sibling is None:
            return False
        low, high = (node, sibling) if node <= sibling else (sibling, node)
        node = hashlib.sha256(low + high).digest()
    return node == root


def _hash_bytes(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    text = value[2:] if value[:2].lower() == "0x" else value
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _verify_fields(proof: AuditProof | Mapping[str, Any]) -> dict[str, Any]:
    """The body fields of a verify call taken from a proof (as returned by ``get_proof``)."""
    data = proof.model_dump() if isinstance(proof, AuditProof) else dict(proof)
    missing = [name for name in _VERIFY_FIELDS if data.get(name) is None]
    if missing:
        raise KiketSDKError(f"Cannot verify this proof: it has no {', '.join(missing)}.")
    fields = {name: data[name] for name in _VERIFY_FIELDS}
    fields["proof"] = list(fields["proof"])
    fields["tx_hash"] = none_as_not_given(data.get("tx_hash"))  # not nullable: left out
    return fields


class AuditClient(AuditScope):
    """Blocking audit calls: the generated ``list_anchors`` / ``get_anchor`` / ``get_proof``, plus
    ``verify(proof)`` (takes a ``get_proof`` answer) and the local helpers as static methods."""

    compute_content_hash = staticmethod(compute_content_hash)
    verify_proof_locally = staticmethod(verify_proof_locally)

    def verify(self, proof: AuditProof | Mapping[str, Any]) -> AuditVerifyResponse:
        """Ask the platform to check ``proof`` (a ``get_proof`` answer or a mapping alike).

        ``KiketSDKError`` before any request when it lacks ``content_hash``, ``merkle_root``,
        ``proof`` or ``leaf_index``.
        """
        return self._resource.verify(**_verify_fields(proof))


class AsyncAuditClient(AsyncAuditScope):
    """Awaited audit calls: the same methods as ``AuditClient``."""

    compute_content_hash = staticmethod(compute_content_hash)
    verify_proof_locally = staticmethod(verify_proof_locally)

    async def verify(self, proof: AuditProof | Mapping[str, Any]) -> AuditVerifyResponse:
        """Ask the platform to check ``proof`` (a ``get_proof`` answer or a mapping alike)."""
        return await self._resource.verify(**_verify_fields(proof))
