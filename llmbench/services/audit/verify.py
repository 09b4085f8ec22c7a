"""Proving the audit log intact: verification and checkpoints."""

from __future__ import annotations

from pathlib import Path

from llmbench.core.audit.chain import ChainReport
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import chain_head, database_id, verify_chain
from llmbench.store.db import Store


class BadCheckpoint(ValueError):
    pass


def parse_checkpoint(text: str) -> tuple[int, str]:
    """A checkpoint as printed by `llmbench audit checkpoint`: ID:HASH."""
    call_id, _, digest = text.partition(":")
    if not call_id.isdigit() or len(digest) != 64:
        raise BadCheckpoint(f"{text!r} is not a checkpoint (expected ID:HASH, 64 hex digits)")
    return int(call_id), digest


def verify(
    store: Store, *, key_file: Path | None = None, checkpoint: str | None = None
) -> ChainReport:
    db = store.read()
    key = load_chain_key(database_id(db), create=False, explicit_file=key_file)
    head = parse_checkpoint(checkpoint) if checkpoint else None
    return verify_chain(db, key, head)


def checkpoint(store: Store) -> str:
    call_id, digest = chain_head(store.read())
    return f"{call_id}:{digest}"
