"""A local fake of the OpenAI, Anthropic and OpenRouter admin APIs: `http.server` in a thread on 127.0.0.1 (a free
port), answering in the documented shapes (docs/research.md "OpenAI Usage API", "OpenAI Costs API", "Anthropic Admin
API usage report", "Anthropic Admin API cost report", "OpenRouter"): daily buckets including empty
ones, `has_more`/`next_page` paging (at most `page_size` buckets a page), auth headers checked. Faults are
scripted per request number (429 with Retry-After, 500) or by `die_after_pages` (the server stops for good)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DAY = 86400
OPENAI_USAGE = "/v1/organization/usage/"
OPENAI_COSTS = "/v1/organization/costs"
ANTHROPIC_USAGE = "/v1/organizations/usage_report/messages"
ANTHROPIC_COSTS = "/v1/organizations/cost_report"
OPENROUTER_ACTIVITY = "/api/v1/activity"


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


class FakeProviderApi:
    """`data[path][day_start_unix] -> list of result objects`; paths as in the module constants (OpenAI usage
    paths end with the endpoint, e.g. /v1/organization/usage/completions). For OpenRouter, `data[path]
    ["YYYY-MM-DD"]` is the list of activity items."""

    def __init__(self, data: dict, *, key: str, page_size: int = 3):
        self.data = data
        self.key = key
        self.page_size = page_size
        self.faults: dict[int, tuple] = {}       # request number (1-based) -> ("status", code, headers)
        self.die_after_pages: int | None = None  # after this many pages served, the server stops
        self.requests: list[tuple[str, dict]] = []
        self.pages_served = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        self.alive = True

    def stop(self) -> None:
        if self.alive:
            self.alive = False
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviderApi:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- answering ---------------------------------------------------------------------------------------------
    def _send(self, h: BaseHTTPRequestHandler, code: int, body: dict, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        q = {k: v if k.endswith("[]") else v[-1] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.requests.append((url.path, q))
            n = len(self.requests)
            fault = self.faults.pop(n, None)
        if fault:
            _, code, headers = fault
            return self._send(h, code, {"error": {"message": f"fault {code}"}}, headers)
        anthropic = url.path.startswith("/v1/organizations/")
        given = h.headers.get("x-api-key") if anthropic else (h.headers.get("Authorization") or "")[7:]
        if given != self.key:
            return self._send(h, 401, {"error": {"type": "authentication_error", "message": "invalid x-api-key"}
                                       if anthropic else {"message": "Incorrect API key provided"}})
        if anthropic and h.headers.get("anthropic-version") != "2023-06-01":
            return self._send(h, 400, {"error": {"message": "anthropic-version header required"}})
        if url.path == OPENROUTER_ACTIVITY:
            items = self.data.get(url.path, {}).get(q.get("date"), [])
            return self._page(h, {"data": items})
        if url.path.startswith(OPENAI_USAGE) or url.path == OPENAI_COSTS:
            start, end = int(q["start_time"]), int(q["end_time"])
            buckets = [{"object": "bucket", "start_time": t, "end_time": t + DAY,
                        "results": self.data.get(url.path, {}).get(t, [])} for t in range(start, end, DAY)]
            return self._paged(h, q, buckets, openai=True)
        if url.path in (ANTHROPIC_USAGE, ANTHROPIC_COSTS):
            start, end = _epoch(q["starting_at"]), _epoch(q["ending_at"])
            buckets = [{"starting_at": _iso(t), "ending_at": _iso(t + DAY),
                        "results": self.data.get(url.path, {}).get(t, [])} for t in range(start, end, DAY)]
            return self._paged(h, q, buckets, openai=False)
        return self._send(h, 404, {"error": {"message": f"no route {url.path}"}})

    def _paged(self, h, q: dict, buckets: list[dict], *, openai: bool) -> None:
        first = int(q["page"].split("_")[1]) if q.get("page") else 0
        size = min(int(q.get("limit", 7)), self.page_size)
        chunk = buckets[first:first + size]
        more = first + size < len(buckets)
        body = {"data": chunk, "has_more": more, "next_page": f"page_{first + size}" if more else None}
        if openai:
            body = {"object": "page", **body}
        self._page(h, body)

    def _page(self, h, body: dict) -> None:
        with self._lock:
            if self.die_after_pages is not None and self.pages_served >= self.die_after_pages:
                dying = True
            else:
                dying = False
                self.pages_served += 1
        if dying:
            # the server dies: no answer to this request, and nothing listens any more
            h.close_connection = True
            threading.Thread(target=self.stop, daemon=True).start()
            return
        self._send(h, 200, body)


def day(y: int, m: int, d: int) -> int:
    return int(dt.datetime(y, m, d, tzinfo=dt.timezone.utc).timestamp())


def openai_completion(model: str, project: str, n: int, batch: bool = False) -> dict:
    return {"object": "organization.usage.completions.result", "input_tokens": 1000 * n,
            "input_cached_tokens": 100 * n, "input_cache_write_tokens": 0, "input_uncached_tokens": 900 * n,
            "output_tokens": 200 * n, "num_model_requests": n, "project_id": project, "user_id": None,
            "api_key_id": "key_abc", "model": model, "batch": batch, "service_tier": "default"}


def openai_embedding(n: int) -> dict:
    return {"object": "organization.usage.embeddings.result", "input_tokens": 500 * n, "num_model_requests": n,
            "project_id": "proj_a", "user_id": None, "api_key_id": "key_abc", "model": "text-embedding-3-small"}


def openai_cost(line_item: str, value: float) -> dict:
    return {"object": "organization.costs.result", "amount": {"value": value, "currency": "usd"},
            "line_item": line_item, "project_id": "proj_a", "api_key_id": None, "quantity": None,
            "quantity_unit": None}


def anthropic_usage(model: str, uncached: int) -> dict:
    return {"uncached_input_tokens": uncached, "cache_creation": {"ephemeral_5m_input_tokens": 10,
                                                                 "ephemeral_1h_input_tokens": 0},
            "cache_read_input_tokens": 50, "output_tokens": uncached // 4,
            "server_tool_use": {"web_search_requests": 0}, "api_key_id": "apikey_01", "workspace_id": None,
            "model": model, "service_tier": "standard", "context_window": "0-200k", "inference_geo": "global"}


def anthropic_cost(description: str, cents: str) -> dict:
    return {"amount": cents, "currency": "USD", "description": description, "cost_type": "tokens",
            "token_type": "uncached_input_tokens", "model": "claude-sonnet-4-20250514", "service_tier": "standard",
            "context_window": "0-200k", "inference_geo": "global", "workspace_id": None}


def openrouter_item(date: str, model: str, endpoint: str, usage: float, requests: int) -> dict:
    return {"date": date, "model": model, "model_permaslug": model + "-20250514", "endpoint_id": endpoint,
            "provider_name": "Anthropic", "usage": usage, "byok_usage_inference": 0, "requests": requests,
            "prompt_tokens": 1000 * requests, "completion_tokens": 100 * requests, "reasoning_tokens": 0}
