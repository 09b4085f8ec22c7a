"""Nunjucks templates (promptfoo's prompts) rendered by Jinja with Nunjucks' own filters.

Jinja reads the same `{{ var }}` and `{% tags %}`; what differs is the filters. A template
that starts with NUNJUCKS_MARKER (a Jinja comment, so it renders nothing) is rendered by
core.prompts.templates with exactly the filters below: Nunjucks 3.2's built-ins, with their
semantics where Jinja's differ (`dump` is JSON.stringify, `truncate` does not count the
ellipsis, `indent` takes `indentfirst`, `list` of a mapping gives {key, value} items, `join`
takes an attribute, `default` and `int`/`float` take Nunjucks' arguments, ...), and promptfoo's
`load` (JSON.parse). A filter outside this set (a custom one from promptfoo's
`nunjucksFilters`, or Nunjucks' `groupby` and `urlize`, whose results Jinja cannot use the same
way) is unknown, so the template is refused when it is read.

Values are written as JavaScript writes them (`finalize`): null as nothing, booleans as
true/false, whole floats without `.0`, lists joined by commas, mappings as [object Object].
"""

from __future__ import annotations

import json
import math
import random as _random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from jinja2 import Undefined, pass_context
from jinja2.filters import FILTERS as JINJA_FILTERS
from markupsafe import Markup, escape

NUNJUCKS_MARKER = "{# nunjucks #}"


def is_nunjucks(text: str) -> bool:
    return text.lstrip().startswith(NUNJUCKS_MARKER)


def mark_nunjucks(text: str) -> str:
    return text if is_nunjucks(text) else f"{NUNJUCKS_MARKER}\n{text}"


class NunjucksFilterError(ValueError):
    """A filter met a value Nunjucks would refuse; the message says which filter."""


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def _normalize(value: Any, default: Any) -> Any:
    return default if _missing(value) or value is False else value


def js_string(value: Any) -> str:
    """String(value) as JavaScript gives it (how Nunjucks writes a value)."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join("" if item is None else js_string(item) for item in value)
    return str(value)


def finalize(value: Any) -> Any:
    """What `{{ value }}` writes: Markup as it is, everything else as JavaScript writes it."""
    return value if isinstance(value, Markup) else js_string(value)


def load(text: Any) -> Any:
    """promptfoo's `load`: JSON.parse."""
    try:
        return json.loads(js_string(text))
    except ValueError as error:
        raise NunjucksFilterError(f"load: not JSON ({error})") from None


def dump(value: Any, spaces: Any = None) -> str:
    """JSON.stringify(value, null, spaces)."""
    if isinstance(value, Undefined):
        return ""
    indent: int | str | None = None
    if isinstance(spaces, int | float) and not isinstance(spaces, bool) and spaces >= 1:
        indent = min(int(spaces), 10)
    elif isinstance(spaces, str) and spaces:
        indent = spaces[:10]
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(_jsonable(value), ensure_ascii=False, indent=indent, separators=separators)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def default(value: Any, fallback: Any = None, boolean: bool = False) -> Any:
    if boolean:
        return value if value and not isinstance(value, Undefined) else fallback
    return fallback if isinstance(value, Undefined) else value


def capitalize(text: Any) -> str:
    lowered = js_string(_normalize(text, "")).lower()
    return lowered[:1].upper() + lowered[1:]


def center(text: Any, width: Any = 80) -> str:
    text = js_string(_normalize(text, ""))
    width = width or 80
    if len(text) >= width:
        return text
    spaces = width - len(text)
    before = spaces // 2  # Nunjucks repeats a space spaces/2 - spaces%2 times, rounded up
    return " " * before + text + " " * (spaces - before)


def dictsort(value: Any, case_sensitive: bool = False, by: str = "key") -> list[list[Any]]:
    if not isinstance(value, Mapping):
        raise NunjucksFilterError("dictsort filter: val must be an object")
    if by not in ("key", "value"):
        raise NunjucksFilterError("dictsort filter: You can only sort by either key or value")
    index = 0 if by == "key" else 1

    def key(pair: list[Any]) -> Any:
        item = pair[index]
        return item.upper() if isinstance(item, str) and not case_sensitive else item

    return sorted(([k, v] for k, v in value.items()), key=key)


def indent(text: Any, width: Any = 4, indentfirst: bool = False) -> str:
    text = js_string(_normalize(text, ""))
    if text == "":
        return ""
    pad = " " * (width or 4)
    lines = text.split("\n")
    return "\n".join(
        line if i == 0 and not indentfirst else pad + line for i, line in enumerate(lines)
    )


def join(items: Any, delimiter: Any = "", attribute: Any = None) -> str:
    values = list(items)
    if attribute:
        values = [_attribute(item, attribute) for item in values]
    return js_string(delimiter or "").join(
        js_string(item) if item is not None else "" for item in values
    )


def length(value: Any) -> int:
    value = _normalize(value, "")
    if isinstance(value, Mapping | str | list | tuple):
        return len(value)
    return 0


def to_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Mapping):
        return [{"key": key, "value": item} for key, item in value.items()]
    if isinstance(value, list | tuple):
        return list(value)
    raise NunjucksFilterError("list filter: type not iterable")


def lower(text: Any) -> str:
    return js_string(_normalize(text, "")).lower()


def upper(text: Any) -> str:
    return js_string(_normalize(text, "")).upper()


def nl2br(text: Any) -> str:
    if _missing(text):
        return ""
    return re.sub(r"\r\n|\n", "<br />\n", js_string(text))


def random(items: Sequence[Any]) -> Any:
    return _random.choice(list(items)) if items else None


def replace(text: Any, old: Any, new: Any, max_count: Any = None) -> Any:
    if isinstance(old, int | float) and not isinstance(old, bool):
        old = js_string(old)
    elif not isinstance(old, str):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = js_string(text)
    if not isinstance(text, str):
        return text
    new = js_string(new)
    if old == "":
        return new + new.join(text) + new
    count = -1 if max_count is None else int(max_count)
    return text.replace(old, new, count) if count != 0 else text


def reverse(value: Any) -> Any:
    if isinstance(value, str):
        return value[::-1]
    return list(value)[::-1]


def round_(value: Any, precision: Any = 0, method: str = "common") -> float:
    factor = 10 ** (precision or 0)
    scaled = float(value) * factor
    if method == "ceil":
        rounded = math.ceil(scaled)
    elif method == "floor":
        rounded = math.floor(scaled)
    else:
        rounded = math.floor(scaled + 0.5)  # Math.round: halves go up
    return rounded / factor


def slice_(items: Any, slices: int, fill_with: Any = None) -> list[list[Any]]:
    values = list(items)
    size, extra = divmod(len(values), slices)
    result, offset = [], 0
    for index in range(slices):
        start = offset + index * size
        if index < extra:
            offset += 1
        part = values[start : offset + (index + 1) * size]
        if fill_with and index >= extra:
            part.append(fill_with)
        result.append(part)
    return result


def sort(
    items: Any, reverse_: bool = False, case_sensitive: bool = False, attribute: Any = None
) -> list[Any]:
    def key(item: Any) -> Any:
        value = _attribute(item, attribute) if attribute else item
        return value.lower() if isinstance(value, str) and not case_sensitive else value

    return sorted(list(items), key=key, reverse=bool(reverse_))


def string(value: Any) -> str:
    return js_string(value)


def striptags(text: Any, preserve_linebreaks: bool = False) -> str:
    text = js_string(_normalize(text, ""))
    stripped = re.sub(r"</?([a-z][a-z0-9]*)\b[^>]*>|<!--[\s\S]*?-->", "", text, flags=re.I).strip()
    if preserve_linebreaks:
        stripped = re.sub(r"^ +| +$", "", stripped, flags=re.M)
        stripped = re.sub(r" +", " ", stripped).replace("\r\n", "\n")
        return re.sub(r"\n\n\n+", "\n\n", stripped)
    return re.sub(r"\s+", " ", stripped)


def sum_(items: Any, attribute: Any = None, start: Any = 0) -> Any:
    values = [_attribute(item, attribute) for item in items] if attribute else list(items)
    total = start
    for value in values:
        total = total + value
    return total


def title(text: Any) -> str:
    return " ".join(capitalize(word) for word in js_string(_normalize(text, "")).split(" "))


def trim(text: Any) -> str:
    return js_string(text).strip()


def truncate(text: Any, length_: Any = 255, killwords: bool = False, end: Any = None) -> str:
    text = js_string(_normalize(text, ""))
    limit = length_ or 255
    if len(text) <= limit:
        return text
    if killwords:
        text = text[:limit]
    else:
        cut = text.rfind(" ", 0, limit + 1)
        text = text[: limit if cut == -1 else cut]
    return text + ("..." if _missing(end) else js_string(end))


def urlencode(value: Any) -> str:
    def encode(item: Any) -> str:
        return quote(js_string(item), safe="-_.!~*'()")

    if isinstance(value, str):
        return encode(value)
    pairs = value.items() if isinstance(value, Mapping) else value
    return "&".join(f"{encode(key)}={encode(item)}" for key, item in pairs)


def wordcount(text: Any) -> int | None:
    words = re.findall(r"\w+", js_string(_normalize(text, "")), flags=re.ASCII)
    return len(words) if words else None


def to_float(value: Any, fallback: Any = None) -> Any:
    match = re.match(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", js_string(value))
    return float(match.group(0)) if match else fallback


def to_int(value: Any, fallback: Any = None, base: int = 10) -> Any:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"[:base]
    match = re.match(rf"^\s*([-+]?)([{digits}]+)", js_string(value), flags=re.I)
    return int(match.group(1) + match.group(2), base) if match else fallback


def selectattr(items: Any, attribute: Any) -> list[Any]:
    return [item for item in items if _attribute(item, attribute)]


def rejectattr(items: Any, attribute: Any) -> list[Any]:
    return [item for item in items if not _attribute(item, attribute)]


def _attribute(item: Any, name: Any) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, str(name), None)


def _jinja(name: str) -> Callable[..., Any]:
    return JINJA_FILTERS[name]  # type: ignore[no-any-return]


@pass_context
def _first(context: Any, items: Any) -> Any:
    values = list(items)
    return values[0] if values else context.environment.undefined("first of nothing")


def nunjucks_filters() -> dict[str, Callable[..., Any]]:
    """Nunjucks 3.2's built-in filters (without groupby and urlize) and promptfoo's `load`."""
    return {
        "abs": abs,
        "batch": _jinja("batch"),
        "capitalize": capitalize,
        "center": center,
        "default": default,
        "d": default,
        "dictsort": dictsort,
        "dump": dump,
        "escape": escape,
        "e": escape,
        "first": _first,
        "float": to_float,
        "forceescape": _jinja("forceescape"),
        "indent": indent,
        "int": to_int,
        "join": join,
        "last": lambda items: list(items)[-1] if list(items) else None,
        "length": length,
        "list": to_list,
        "load": load,
        "lower": lower,
        "nl2br": nl2br,
        "random": random,
        "reject": _jinja("reject"),
        "rejectattr": rejectattr,
        "replace": replace,
        "reverse": reverse,
        "round": round_,
        "safe": Markup,
        "select": _jinja("select"),
        "selectattr": selectattr,
        "slice": slice_,
        "sort": sort,
        "string": string,
        "striptags": striptags,
        "sum": sum_,
        "title": title,
        "trim": trim,
        "truncate": truncate,
        "upper": upper,
        "urlencode": urlencode,
        "wordcount": wordcount,
    }


def unknown_filters(text: str) -> list[tuple[str, int]]:
    """The filters a template uses that Nunjucks rendering here does not have: (name, line),
    line 1 being the template's first. TemplateSyntaxError when it is not a template."""
    from jinja2 import Environment, nodes

    known = nunjucks_filters()
    parsed = Environment().parse(text)
    return [
        (node.name, node.lineno) for node in parsed.find_all(nodes.Filter) if node.name not in known
    ]
