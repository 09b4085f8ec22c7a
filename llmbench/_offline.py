"""Environment defaults that keep litellm and tiktoken from reaching the network.

This module must stay import-light: it runs on every start, before the first frame.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_LITELLM_DEFAULTS = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
}


def litellm_tokenizer_dir() -> Path | None:
    """Folder of the tiktoken encodings litellm ships, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "litellm_core_utils" / "tokenizers"
        if candidate.is_dir():
            return candidate
    return None


def configure_offline_environment() -> None:
    """Set offline defaults unless the user already chose values."""
    for name, value in _LITELLM_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        folder = litellm_tokenizer_dir()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
