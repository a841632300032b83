"""A Zipkin v2 receiver on 127.0.0.1 for tests and benches: a thread serving
POST /api/v2/spans, keeping the spans (or, for a bench, reading and dropping them)."""
import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ZipkinReceiver:
    def __init__(self, keep: bool = True):
        self.spans: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                if keep and self.path == '/api/v2/spans':
                    receiver.spans.extend(json.loads(body))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_port}/api/v2/spans'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def trace(self, trace_id: str, name: str, timeout: float = 15) -> list[dict]:
        """The spans of the trace once its span `name` has arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            spans = [s for s in self.spans if s['traceId'] == trace_id]
            if any(s['name'] == name for s in spans):
                return spans
            await asyncio.sleep(0.1)
        raise AssertionError(f'no span {name!r} in trace {trace_id}: {self.spans}')

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
