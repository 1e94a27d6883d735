"""The spend bridges as one line of text each (docs/finance.md "One spend"): `Total $A = term $B + term $C − …`,
every term from the bridge's named query, rounded to the cent, so the line adds up exactly. Labels hold no
`=`, `+` or `−` (tests read the terms back from the rendered text). Pure: no streamlit."""

from __future__ import annotations

from typing import Any

from dashboard.components.formatting import usd

SPEND_DEFINITION = ("**Spend** is the provider's bill where a billing source covers the provider and day, else the "
                    "cost in the request log (billed, or the list price where the log has none); where sources "
                    "overlap, only one counts.")


def equation(total: tuple[str, float], terms: list[tuple[str, str, float]]) -> str:
    """`**label $total** = first $x + second $y − third $z`; terms are (sign '+' or '−', label, amount), the first
    term's sign is not written, and zero terms after the first are left out."""
    label, amount = total
    parts = []
    for i, (sign, name, value) in enumerate(terms):
        if i and not round(value, 2):
            continue
        parts.append(("" if i == 0 else f" {sign} ") + f"{name} {usd(value)}")
    return f"**{label} {usd(amount)}** = " + "".join(parts)


def spend_from_costing(b: dict[str, Any]) -> str:
    """Overview: spend by how each dollar was costed."""
    return equation(("Spend", b["spend_usd"]), [
        ("+", "billed for priced usage", b["billed_priced_usd"]),
        ("+", "billed for models the catalog cannot price", b["billed_unpriced_usd"]),
        ("+", "bill lines with no token counts (cost exports, fees, credits)", b["cost_only_usd"]),
        ("+", "usage with no bill, at list price", b["list_only_usd"]),
        ("+", "rounding", b["rounding_usd"]),
    ])


def billed_all_sources(b: dict[str, Any]) -> str:
    """Reconciliation: billed across all sources, from spend."""
    sources = b.get("superseded_sources") or "overlapping sources"
    days = b.get("superseded_provider_days") or 0
    return equation(("Billed, all sources", b["billed_all_usd"]), [
        ("+", "spend", b["spend_usd"]),
        ("+", f"what {sources} recorded on {days:,} provider-days a provider's bill already covers",
         b["superseded_billed_usd"]),
        ("−", "spend with no bill, at list price", b["list_only_usd"]),
        ("−", "spend billed for models the catalog cannot price", b["billed_unpriced_usd"]),
        ("−", "spend on bill lines with no token counts (cost exports, fees, credits)", b["cost_only_usd"]),
        ("+", "rounding", b["rounding_usd"]),
    ])


def replay_baseline(b: Any) -> str:
    """What-if and Outlook: the replay's baseline, from spend (a simulate.SpendBridge)."""
    sources = b.replay_sources or "request logs"
    return equation(("Replay baseline", b.replay_baseline_usd), [
        ("+", "spend", b.spend_usd),
        ("−", f"the bill on {b.replaced_provider_days:,} provider-days the replay reads from {sources} instead",
         b.replaced_usd),
        ("+", f"what {sources} recorded on those days", b.replay_source_usd),
        ("−", "usage outside the scenario's scope", b.outside_scope_usd),
        ("+", "rounding", b.rounding_usd),
    ])


def all_sources_why(b: dict[str, Any]) -> str:
    """Why billed across all sources is not spend (empty when nothing overlaps)."""
    if not b.get("superseded_provider_days"):
        return ""
    return (f"Each source is reconciled on its own, so {b['superseded_sources']} appears here beside the "
            "provider's bill for the same days; spend counts the bill only.")


def replay_why(b: Any) -> str:
    """Why the replay baseline is not spend (empty when the replay reads the sources spend counts)."""
    if not b.replaced_provider_days:
        return ""
    return (f"The replay needs individual requests, so it reads {b.replay_sources} wherever that log covers a "
            "provider and day. Traffic the bill includes but the log does not see (callers that bypass the "
            "gateway) is not replayed: savings cover the logged traffic only.")
