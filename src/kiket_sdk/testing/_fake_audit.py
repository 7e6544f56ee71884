"""Merkle trees for the fake audit API, built the way Kiket's audit proofs are checked.

A record's content hash is ``0x`` + SHA-256 of its key-sorted compact JSON; two nodes combine as
SHA-256 of the byte-wise smaller one followed by the other (sorted pairs), so a proof is just the
list of sibling hashes from the leaf up. A node left without a sibling moves up unchanged.

>>> leaves = [content_hash({"id": n}) for n in (1, 2, 3)]
>>> root, proofs = merkle_tree(leaves)
>>> all(proof_leads_to_root(leaf, proofs[i], root) for i, leaf in enumerate(leaves))
True
>>> proof_leads_to_root(leaves[0], proofs[1], root)
False
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["content_hash", "merkle_tree", "proof_leads_to_root"]


def content_hash(record: Mapping[str, Any]) -> str:
    """``0x`` + hex SHA-256 of the record's key-sorted compact JSON."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return "0x" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _pair(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(min(left, right) + max(left, right)).digest()


def merkle_tree(leaves: Sequence[str]) -> tuple[str, list[list[str]]]:
    """The root of the tree over ``leaves`` (0x-hex hashes) and each leaf's proof."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = [_bytes(leaf) for leaf in leaves]
    members = [[index] for index in range(len(leaves))]  # leaves under each node of the level
    proofs: list[list[str]] = [[] for _ in leaves]
    while len(level) > 1:
        next_level: list[bytes] = []
        next_members: list[list[int]] = []
        for start in range(0, len(level), 2):
            if start + 1 == len(level):
                next_level.append(level[start])
                next_members.append(members[start])
                continue
            left, right = level[start], level[start + 1]
            for index in members[start]:
                proofs[index].append("0x" + right.hex())
            for index in members[start + 1]:
                proofs[index].append("0x" + left.hex())
            next_level.append(_pair(left, right))
            next_members.append(members[start] + members[start + 1])
        level, members = next_level, next_members
    return "0x" + level[0].hex(), proofs


def proof_leads_to_root(leaf: str, proof: Sequence[str], root: str) -> bool:
    """Whether hashing ``leaf`` with each sibling of ``proof`` in turn gives ``root``."""
    try:
        current = _bytes(leaf)
        for sibling in proof:
            current = _pair(current, _bytes(sibling))
        return current == _bytes(root)
    except ValueError:
        return False
