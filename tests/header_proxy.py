"""A sign-in proxy for real-browser tests of trusted-header mode: a TCP proxy on loopback that adds fixed
request headers (`X-Forwarded-Email`, `X-Forwarded-Groups`) to every request it forwards to the dashboard,
WebSocket upgrades included, as oauth2-proxy or IAP do.

Playwright's `extra_http_headers` can't stand in for it: Chromium does not send them on the WebSocket upgrade
(measured: the page request carries them, the `/_stcore/stream` upgrade does not), and Streamlit reads
`st.context.headers` from that upgrade. Each connection carries one request (`Connection: close` is forced on
plain requests), so every request head passes through here and gets the headers; an incoming header of the
same name is dropped first (the proxy overwrites, never passes through)."""

from __future__ import annotations

import socket
import threading


class HeaderProxy:
    def __init__(self, upstream_port: int, headers: dict[str, str]):
        self.upstream = ("127.0.0.1", upstream_port)
        self.headers = headers
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> HeaderProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _rewrite(self, head: bytes) -> bytes:
        lines = head.split(b"\r\n")
        names = {k.lower().encode() for k in self.headers}
        kept = [lines[0]] + [ln for ln in lines[1:] if ln and ln.split(b":", 1)[0].strip().lower() not in names]
        upgrade = any(ln.lower().startswith(b"upgrade:") for ln in kept)
        if not upgrade:
            kept = [ln for ln in kept if not ln.lower().startswith(b"connection:")] + [b"Connection: close"]
        kept += [f"{k}: {v}".encode() for k, v in self.headers.items()]
        return b"\r\n".join(kept) + b"\r\n\r\n"

    def _serve(self, client: socket.socket) -> None:
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    client.close()
                    return
                data += chunk
            head, rest = data.split(b"\r\n\r\n", 1)
            upstream = socket.create_connection(self.upstream)
            upstream.sendall(self._rewrite(head) + rest)
        except OSError:
            client.close()
            return

        def pipe(src: socket.socket, dst: socket.socket) -> None:
            try:
                while chunk := src.recv(65536):
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)
