"""A router's scores per logged request, for `pick: score`: what a candidate router (RouteLLM, Not Diamond, a
company's own classifier) would save and cost in quality on your own traffic, before deploying it.

    request_id,score[,router,provider]
    chatcmpl-9xK2,0.12,routellm-mf,openai
    chatcmpl-9xK3,0.87,routellm-mf,openai

`score` is the router's estimate that the request needs its own (source) model — RouteLLM's strong-model win
rate, say; any scale, lower = safer to move. A ranked policy with `pick: score` moves the eligible requests with
the lowest scores first (floor(share × N) of them, as every pick), requests the router did not score after every
scored one. `request_id` and `provider` are matched to the ledger's request rows exactly as a shadow evaluation's
(simulate/shadow.py: `request_row_key(provider, id)`; without a provider an id is used when exactly one
provider's key for it is a replayed request row). A file may hold several routers (`router` column): pick one.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from simulate.scenario import Scenario, parse_scenario
from simulate.shadow import _records
from simulate.spec import ScenarioError, Strict
from warehouse.errors import field_path

_TITLE = "Invalid router scores"


class RouterScore(Strict):
    request_id: str = Field(min_length=1)
    score: float
    router: str | None = None
    provider: str | None = Field(None, description="ModelMix's provider id; needed when an id is not unique")

    @field_validator("request_id", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return str(v).strip() if isinstance(v, (int, str)) and not isinstance(v, bool) else v

    @field_validator("provider")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return None if v is None else v.strip().lower()


def parse(text: str, name: str = "router scores") -> list[RouterScore]:
    """Rows of a router-score file (CSV by default; JSON or YAML when `name` says so); errors name the row and
    column; a request scored twice by one router is an error."""
    out, seen = [], {}
    for i, r in enumerate(_records(text, name), start=1):
        try:
            row = RouterScore.model_validate(r)
        except ValidationError as e:
            err = e.errors()[0]
            field = field_path(err["loc"]) or "row"
            raise ScenarioError(f"{name}: row {i}, {field}: {err['msg']}", title=_TITLE) from e
        key = (row.router, row.provider, row.request_id)
        if key in seen:
            raise ScenarioError(f"{name}: row {i}, request_id: {row.request_id!r} is scored twice"
                                + (f" by {row.router!r}" if row.router else "") + f" (also row {seen[key]})",
                                title=_TITLE)
        seen[key] = i
        out.append(row)
    return out


def load(path: str | Path) -> list[RouterScore]:
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}", title=_TITLE) from e


def routers(rows: list[RouterScore]) -> list[str | None]:
    return sorted({r.router for r in rows}, key=lambda r: (r is None, r or ""))


def scores_data(rows: list[RouterScore], router: str | None = None) -> dict:
    """One router's scores as `assumptions.router_scores` data (a file of several routers needs `router`)."""
    names = routers(rows)
    if router is None and len(names) > 1:
        raise ScenarioError(f"the file scores requests for several routers ({', '.join(map(str, names))}): pick one",
                            title=_TITLE)
    if router is not None:
        rows = [r for r in rows if r.router == router]
        if not rows:
            raise ScenarioError(f"no scores of router {router!r}; the file has {', '.join(map(str, names))}",
                                title=_TITLE)
    return {"request_id": [r.request_id for r in rows], "provider": [r.provider for r in rows],
            "score": [r.score for r in rows], **({"router": rows[0].router} if rows[0].router else {})}


def with_scores(scenario: Scenario, rows: list[RouterScore], router: str | None = None) -> Scenario:
    """The scenario with one router's scores in `assumptions.router_scores`."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["assumptions"]["router_scores"] = scores_data(rows, router)
    return parse_scenario(data, scenario.name)
