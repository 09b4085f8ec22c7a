"""Under which licence a model's weights are published, for the families whose licence is
public and settled; every other model is "unknown" rather than a guess.

Matched on the model's own name (provider routes and vendor prefixes removed:
"together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo" is "llama-3.3-70b-instruct-turbo",
"bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0" is "claude-3-5-haiku-20241022-v1:0"),
the first rule that matches wins, so narrower rules come first. Each rule names where its
licence is published: the vendor's licence page or the model card that carries it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PROPRIETARY = "proprietary"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Licence:
    name: str
    open_weight: bool | None
    """True: the weights are published; False: reachable through an API only; None: unknown."""
    source: str = ""
    """Where the licence (or the API's terms) is published."""
    note: str = ""


UNKNOWN_LICENCE = Licence(UNKNOWN, None)

_LLAMA_2 = "https://ai.meta.com/llama/license/"
_APACHE = "Apache-2.0"

# (pattern searched in the model's own name, licence). Order matters: first match wins.
_RULES: tuple[tuple[str, Licence], ...] = (
    # -- open weights ----------------------------------------------------------------------
    (r"gpt-oss", Licence(_APACHE, True, "https://huggingface.co/openai/gpt-oss-120b")),
    (r"code-?llama", Licence("Llama 2 Community License", True, _LLAMA_2)),
    (r"llama-?2", Licence("Llama 2 Community License", True, _LLAMA_2)),
    (r"llama-?3\.1", Licence("Llama 3.1 Community License", True,
                             "https://www.llama.com/llama3_1/license/")),
    (r"llama-?3\.2", Licence("Llama 3.2 Community License", True,
                             "https://www.llama.com/llama3_2/license/")),
    (r"llama-?3\.3", Licence("Llama 3.3 Community License", True,
                             "https://www.llama.com/llama3_3/license/")),
    (r"llama-?3(?![.\d])", Licence("Meta Llama 3 Community License", True,
                                   "https://www.llama.com/llama3/license/")),
    (r"llama-?4", Licence("Llama 4 Community License", True,
                          "https://www.llama.com/llama4/license/")),
    (r"^(open-)?mistral(-7b|:7b|$|:latest)",
     Licence(_APACHE, True, "https://huggingface.co/mistralai/Mistral-7B-Instruct-v0.3")),
    (r"^(open-)?mixtral", Licence(_APACHE, True,
                                  "https://huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1")),
    (r"^(open-)?mistral-nemo",
     Licence(_APACHE, True, "https://huggingface.co/mistralai/Mistral-Nemo-Instruct-2407")),
    (r"^mistral-small-?(3|24b|2501|2503)",
     Licence(_APACHE, True, "https://huggingface.co/mistralai/Mistral-Small-24B-Instruct-2501")),
    (r"^pixtral-12b", Licence(_APACHE, True, "https://huggingface.co/mistralai/Pixtral-12B-2409")),
    (r"^(open-)?codestral-?(22b|2405|:)",
     Licence("Mistral AI Non-Production License", True,
             "https://huggingface.co/mistralai/Codestral-22B-v0.1")),
    # Qwen2.5's 3B and 72B are the exceptions to its Apache-2.0.
    (r"qwen-?2\.5[^/]*[-:]3b\b", Licence("Qwen Research License", True,
                                         "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct")),
    (r"qwen-?2\.5[^/]*[-:]72b\b", Licence("Qwen License", True,
                                          "https://huggingface.co/Qwen/Qwen2.5-72B-Instruct")),
    (r"qwen-?2\.5", Licence(_APACHE, True, "https://huggingface.co/Qwen/Qwen2.5-7B-Instruct")),
    (r"qwen-?3", Licence(_APACHE, True, "https://huggingface.co/Qwen/Qwen3-8B")),
    (r"^qwq", Licence(_APACHE, True, "https://huggingface.co/Qwen/QwQ-32B")),
    (r"deepseek-?r1", Licence("MIT", True, "https://huggingface.co/deepseek-ai/DeepSeek-R1")),
    (r"deepseek-v3(-0324|\.1|\.2)",
     Licence("MIT", True, "https://huggingface.co/deepseek-ai/DeepSeek-V3-0324")),
    (r"^deepseek-(chat|reasoner)$",
     Licence("MIT", True, "https://api-docs.deepseek.com/news/news250325",
             "DeepSeek's API serves its MIT-licensed V3/R1 weights; the API's own terms apply")),
    (r"^phi-?[34]", Licence("MIT", True, "https://huggingface.co/microsoft/phi-4")),
    (r"^gemma", Licence("Gemma Terms of Use", True, "https://ai.google.dev/gemma/terms")),
    (r"^olmo", Licence(_APACHE, True, "https://huggingface.co/allenai/OLMo-2-1124-7B")),
    (r"^(c4ai-)?command-r", Licence("CC-BY-NC-4.0", True,
                                    "https://huggingface.co/CohereForAI/c4ai-command-r-v01",
                                    "non-commercial weights; Cohere's API has its own terms")),
    # -- reachable through the vendor's API only -----------------------------------------
    (r"^(gpt-(3\.5|4|5)|chatgpt-|o\d(-|$)|text-embedding-)",
     Licence(PROPRIETARY, False, "https://openai.com/policies/services-agreement/")),
    (r"^claude", Licence(PROPRIETARY, False, "https://www.anthropic.com/legal/commercial-terms")),
    (r"^gemini", Licence(PROPRIETARY, False, "https://ai.google.dev/gemini-api/terms")),
    (r"^qwen-(max|plus|turbo)",
     Licence(PROPRIETARY, False, "https://www.alibabacloud.com/help/en/model-studio/models")),
    (r"^mistral-medium", Licence(PROPRIETARY, False, "https://mistral.ai/terms")),
)  # fmt: skip
_COMPILED = tuple((re.compile(pattern), licence) for pattern, licence in _RULES)
# Bedrock-style names carry the vendor (and a region) before a dot: "us.anthropic.claude-…".
_VENDOR_PREFIX = re.compile(
    r"^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|cohere|amazon|ai21|deepseek|qwen|openai)\."
)


def own_name(model: str) -> str:
    """The model's name without its provider route or vendor prefix, lower case."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    return _VENDOR_PREFIX.sub("", name)


def licence_of(model: str) -> Licence:
    name = own_name(model)
    for pattern, licence in _COMPILED:
        if pattern.search(name):
            return licence
    return UNKNOWN_LICENCE
