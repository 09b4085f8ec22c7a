"""What the provider's prompt cache served the versions that mark sections cacheable (m017):
per version and model in a window, the tokens read from the cache and written to it, and what
each saved or cost at the unit prices the calls were charged."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database


@dataclass(frozen=True)
class CacheUse:
    """One marked version's calls on one model in a window."""

    version_id: int
    prompt: str
    version: int
    model: str
    sections: str  # JSON, as stored
    cacheable: tuple[str, ...]
    calls: int
    prompt_tokens: int
    cached_tokens: int
    cache_write_tokens: int
    read_saving: float
    """USD: the cache-read tokens at the input price minus what they were billed (cached)."""
    write_cost: float
    """USD: what writing to the cache cost above the input price (Anthropic's 1.25×)."""
    input_price: float | None  # mean USD per million uncached input tokens
    cached_price: float | None


def cache_use(db: Database, since: str, until: str) -> list[CacheUse]:
    rows = db.execute(
        """
        WITH used AS (
            SELECT prompt_version_id AS vid, model, count(*) AS calls,
                   coalesce(sum(prompt_tokens), 0) AS pt,
                   coalesce(sum(cached_tokens), 0) AS ct,
                   coalesce(sum(cache_write_tokens), 0) AS cw,
                   -- a call without prices saved nothing that can be told
                   coalesce(sum(coalesce(cached_tokens, 0)
                       * (input_price - coalesce(cached_price, input_price))), 0) / 1e6 AS read,
                   coalesce(sum(coalesce(cache_write_tokens, 0)
                       * (coalesce(cache_write_price, input_price) - input_price)), 0) / 1e6
                       AS written,
                   avg(input_price) AS ip, avg(cached_price) AS cp
            FROM calls
            WHERE ts >= ? AND ts < ? AND prompt_version_id IS NOT NULL AND status = 'ok'
            GROUP BY prompt_version_id, model
        )
        SELECT used.vid, p.name, v.version, used.model, v.sections, v.cacheable, used.calls,
               used.pt, used.ct, used.cw, used.read, used.written, used.ip, used.cp
        FROM used JOIN prompt_versions v ON v.id = used.vid JOIN prompts p ON p.id = v.prompt_id
        WHERE v.cacheable != '[]'
        ORDER BY used.read - used.written DESC, p.name, v.version, used.model
        """,
        [since, until],
    ).fetchall()
    return [
        CacheUse(
            version_id=row[0],
            prompt=row[1],
            version=row[2],
            model=row[3],
            sections=row[4],
            cacheable=tuple(json.loads(row[5])),
            calls=row[6],
            prompt_tokens=row[7],
            cached_tokens=row[8],
            cache_write_tokens=row[9],
            read_saving=float(row[10]),
            write_cost=float(row[11]),
            input_price=row[12],
            cached_price=row[13],
        )
        for row in rows
    ]
