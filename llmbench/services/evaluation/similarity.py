"""The embedding function similarity uses, from the settings: None when `embedding_model` is
empty (similarity is then lexical only). One embedder per model per process, so its memory of
texts already embedded is shared by the editor's previews and the SDK's renders."""

from __future__ import annotations

import threading

from llmbench.config import Settings
from llmbench.core.prompts.fewshot import Embed

_embedders: dict[tuple[str, str | None], Embed] = {}
_lock = threading.Lock()


def embedder_for(settings: Settings) -> Embed | None:
    model = settings.models.embedding_model
    if not model:
        return None
    options = settings.model.get(model)
    api_base = (options.api_base or None) if options is not None else None
    timeout = (
        options.timeout_s
        if options is not None and options.timeout_s
        else settings.gateway.timeout_s
    )
    with _lock:
        key = (model, api_base)
        if key not in _embedders:
            from llmbench.gateway.embeddings import Embedder, FallbackEmbedder

            _embedders[key] = FallbackEmbedder(
                Embedder(model, api_base=api_base, timeout_s=timeout)
            )
        return _embedders[key]
