"""The demo's image call (m015): the newest call mentioning a refund carries a receipt photo,
stored as a reference with its part row, its tokens and cost counting the image, and the
audit log still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from llmbench.core.costs.pricing import cost_of
from llmbench.core.media import describe, image_tokens, referenced_sha256
from llmbench.core.models import Price, Usage
from llmbench.demo.build import build_demo
from llmbench.gateway.chain_key import load_chain_key
from llmbench.store.audit.log import database_id, verify_chain
from llmbench.store.audit.media_parts import parts_of
from llmbench.store.db import open_db

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


def test_the_demo_has_one_image_call_with_its_part(tmp_path: Path) -> None:
    summary = build_demo(tmp_path / "media.db", calls=500, now=NOW)
    with open_db(summary.path, create=False) as store:
        db = store.read()
        ((call_id, count),) = db.execute(
            "SELECT call_id, count(*) FROM call_parts GROUP BY call_id"
        ).fetchall()
        assert count == 1
        (messages, model, prompt, completion, cached, cost, prices) = db.execute(
            "SELECT messages, model, prompt_tokens, completion_tokens, cached_tokens, cost,"
            " json_array(input_price, output_price, cached_price) FROM calls WHERE id = ?",
            [call_id],
        ).fetchone()
        # The newest call that mentions a refund: the one F6's detail screenshot opens.
        (newest,) = db.execute(
            "SELECT max(id) FROM calls"
            " WHERE lower(messages || ' ' || coalesce(response, '')) LIKE '%refund%'"
        ).fetchone()
        assert newest == call_id
        (stored,) = parts_of(db, call_id)
        assert (stored.part.width, stored.part.height, stored.part.media_type) == (
            1024, 768, "image/png",
        )  # fmt: skip
        assert describe(stored.part).startswith("[image 1024×768 png ")
        assert stored.tokens == image_tokens(model, 1024, 768, None) and not stored.kept_bytes
        assert referenced_sha256(messages) == {1: stored.part.sha256}
        assert "base64" not in messages and len(messages) < 4000
        user = [m for m in json.loads(messages) if m["role"] == "user"][-1]
        assert [part["type"] for part in user["content"]] == ["text", "image_url"]
        assert prompt > stored.tokens
        price = Price(*json.loads(prices))
        assert (
            cost == cost_of(Usage(prompt, completion, cached), price)
            or abs(cost - cost_of(Usage(prompt, completion, cached), price)) < 1e-8
        )
        key = load_chain_key(database_id(db), create=False)
        assert verify_chain(db, key).ok
