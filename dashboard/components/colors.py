"""One colour per provider and one per model, the same on every chart of every page and for any date range (a
model's colour depends on its name only, never on its rank in the chart), and the short model names legends
show (the full id stays in the hover). Pure: no streamlit, no queries."""

from __future__ import annotations

import re
import zlib

PROVIDER_COLORS = {
    "openai": "#10a37f",
    "azure-openai": "#0078d4",
    "anthropic": "#d97757",
    "google-vertex": "#4285f4",
    "google": "#4285f4",
    "aws-bedrock": "#ff9900",
    "openrouter": "#6467f2",
    "mistral": "#fa520f",
    "deepseek": "#4d6bfe",
}
OTHER_COLOR = "#9aa0a6"          # the summed rest of a top-N chart
CREDITS_COLOR = "#5f6368"        # credits, refunds and adjustments: a line of their own
OTHER_NAMES = {"other"}
CREDIT_NAMES = {"credit", "adjustment", "refund", "tax", "purchase", "credits & adjustments"}

# distinct colours for the models finance teams meet most, fixed so they never collide with each other
MODEL_COLORS = {
    "gpt-4o": "#1b9e77", "gpt-4o-mini": "#66c2a5", "gpt-4.1": "#00796b", "gpt-4.1-mini": "#80cbc4",
    "gpt-5": "#2e7d32", "gpt-5-mini": "#9ccc65", "gpt-5-nano": "#c5e1a5", "o4-mini": "#827717", "o3": "#558b2f",
    "claude-sonnet-4-5": "#d95f02", "claude-haiku-4-5": "#fdb462", "claude-opus-4-1": "#a6361c",
    "claude-sonnet-4-0": "#e7298a", "claude-3-5-sonnet": "#f4a6c7", "claude-3-haiku": "#b15928",
    "gemini-2.5-pro": "#1f4e9c", "gemini-2.5-flash": "#4e9bd8", "gemini-2.5-flash-lite": "#a6cee3",
    "text-embedding-3-small": "#8d6e63", "text-embedding-3-large": "#5d4037",
    "deepseek-reasoner": "#7570b3", "deepseek-chat": "#bcbddc",
}
# any other model: a colour picked by its name (stable across pages and ranges)
FALLBACK = ["#e6ab02", "#a6761d", "#6a3d9a", "#cab2d6", "#b2df8a", "#fb9a99", "#ff7f00", "#8dd3c7",
            "#bebada", "#80b1d3", "#fccde5", "#bc80bd", "#ccebc5", "#ffed6f", "#9e0142", "#5e4fa2"]


def provider_color(name: str) -> str:
    if name in OTHER_NAMES:
        return OTHER_COLOR
    if name.lower() in CREDIT_NAMES:
        return CREDITS_COLOR
    return PROVIDER_COLORS.get(name) or FALLBACK[zlib.crc32(name.encode()) % len(FALLBACK)]


def model_color(name: str) -> str:
    """The model's colour: its own for a well-known model, else one chosen by its id, so a model is the same
    colour in every chart whatever else the chart shows."""
    if name in OTHER_NAMES:
        return OTHER_COLOR
    if name.lower() in CREDIT_NAMES:
        return CREDITS_COLOR
    return MODEL_COLORS.get(name) or FALLBACK[zlib.crc32(name.encode()) % len(FALLBACK)]


def color_of(dimension: str, name: str) -> str:
    """The colour of a series of a chart grouped by `dimension` (provider and model have fixed colours; other
    dimensions, such as team, get one by name so they too match across charts)."""
    if dimension == "provider":
        return provider_color(name)
    if dimension == "model":
        return model_color(name)
    if name in OTHER_NAMES:
        return OTHER_COLOR
    return FALLBACK[zlib.crc32(name.encode()) % len(FALLBACK)]


_ROUTE = re.compile(r"^(?:(?:us|eu|apac|global|regional)\.)?(?:(?:anthropic|meta|amazon|mistral|cohere|ai21|"
                    r"deepseek|openai|qwen|writer)\.)")
_SUFFIX = re.compile(r"(?:-v\d+(?::\d+)?|-\d{8}|@\d{8}|:\d+)+$")
SHORT_MAX = 24


def short_model(name: str) -> str:
    """A model id as a legend shows it: no router or vendor prefix (`meta-llama/`, `regional.anthropic.`), no
    version or date suffix (`-v1:0`, `-20250929`), at most SHORT_MAX characters (an ellipsis when cut).
    'regional.anthropic.claude-sonnet-4-5-20250929-v1:0' -> 'claude-sonnet-4-5'."""
    if name in OTHER_NAMES:
        return name
    if name.lower() in CREDIT_NAMES:
        return "Credits & adjustments"
    short = _SUFFIX.sub("", _ROUTE.sub("", name.rsplit("/", 1)[-1])) or name
    return short if len(short) <= SHORT_MAX else short[:SHORT_MAX - 1] + "…"


def short_labels(names: list[str]) -> dict[str, str]:
    """Each name's legend label: `short_model`, unless two names would read the same; those keep their routing
    prefix ('claude-sonnet-4-5 (regional)') or, failing that, their full id."""
    shorts = {n: short_model(n) for n in names}
    seen: dict[str, int] = {}
    for label in shorts.values():
        seen[label] = seen.get(label, 0) + 1
    out = {}
    for n, label in shorts.items():
        if seen[label] > 1 and n != label:
            route = n.split(".", 1)[0] if "." in n and "/" not in n else ""
            label = f"{label} ({route})" if route and not route[0].isdigit() else n
        out[n] = label
    return out
