"""The served dashboard never sends an element as a reference to the browser's message cache (`modelmix serve`'s
`cli.main.NO_MESSAGE_CACHE`). Streamlit sends an element of 10 KB or more as its hash when the rerun request
lists that hash as cached; a browser that dropped the message meanwhile (its cache ages entries per finished run,
and under load reruns queue and interleave) stops for good with "Connection error … Cached ForwardMsg MISS"
(docs/reliability.md, "Many people at once"). A real server started with the serve options, spoken to over its
websocket with the installed streamlit's own protobufs, as the browser does: the second run of Overview lists
every large element of the first as cached, and must still get each one whole."""

from __future__ import annotations

import asyncio
import os
import subprocess

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from test_browser import ROOT, _free_port, _wait_healthy, serve_command

STREAMLIT_MIN_CACHED = 10_000      # Streamlit's default global.minCachedMessageSize


async def overview_runs(url: str) -> tuple[list[ForwardMsg], list[ForwardMsg]]:
    """Overview run twice on one session: the second rerun lists the first run's large elements as cached."""
    import websockets

    async with websockets.connect(url + "/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        async def run(cached: list[str]) -> list[ForwardMsg]:
            msg = BackMsg()
            msg.rerun_script.page_script_hash = ""
            msg.rerun_script.context_info.timezone = "UTC"
            msg.rerun_script.cached_message_hashes.extend(cached)
            await ws.send(msg.SerializeToString())
            got = []
            while True:
                fwd = ForwardMsg()
                fwd.ParseFromString(await asyncio.wait_for(ws.recv(), 120))
                got.append(fwd)
                if fwd.WhichOneof("type") == "script_finished":
                    return got

        first = await run([])
        large = [m.hash for m in first
                 if m.WhichOneof("type") == "delta" and len(m.SerializeToString()) >= STREAMLIT_MIN_CACHED]
        return first, await run(large)


def test_no_element_is_sent_as_a_cache_reference(sample_db, tmp_path):
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(serve_command(sample_db, port), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "MODELMIX_DB": str(sample_db), "MODELMIX_WARM_UP": "false"})
    try:
        _wait_healthy(proc, port, log)
        first, second = asyncio.run(overview_runs(f"ws://127.0.0.1:{port}"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    large = [m for m in first if m.WhichOneof("type") == "delta" and len(m.SerializeToString()) >= STREAMLIT_MIN_CACHED]
    assert large, "Overview drew no element of 10 KB or more: the test would prove nothing"
    assert not [m for m in second if m.WhichOneof("type") == "ref_hash"], log.read_text()[-2000:]
    assert not any(m.metadata.cacheable for m in first + second)
    assert sum(m.WhichOneof("type") == "delta" and len(m.SerializeToString()) >= STREAMLIT_MIN_CACHED
               for m in second) >= len(large)
