#!/usr/bin/env python3
"""An HTTP proxy that holds every request for a fixed time before forwarding it.

    python3 bench/latency_proxy.py UPSTREAM_URL LATENCY_MS [--port PORT]

Put in front of the AWS emulator by `bench/run.py --aws-latency MS`. moto answers an EC2
call in about 5 ms of CPU and serves one call at a time, so against moto alone the time of
an apply is moto's CPU time and `-parallelism` cannot show: there is no waiting to overlap.
Real AWS is the other way round: 50-300 ms per call, many calls served at once. This proxy
makes the emulator look like that: each request waits LATENCY_MS (one thread per
connection, so any number wait at once), then goes to moto unchanged.

Only the standard library; HTTP/1.1 with keep-alive (the AWS SDK reuses connections);
request bodies by Content-Length or chunked; the response is passed back with its status
and headers (hop-by-hop headers dropped, the body re-framed by Content-Length). Listens on
127.0.0.1 only. Prints `listening on http://127.0.0.1:PORT` once ready.
"""

import argparse
import http.client
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}


def make_handler(upstream, latency):
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def setup(self):
            super().setup()
            # The status line and headers go out in one write and the body in another;
            # with Nagle's algorithm the second waits for the client's delayed ACK (40 ms).
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def upstream_conn(self, fresh=False):
            if fresh or getattr(local, "conn", None) is None:
                local.conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
                local.conn.connect()
                local.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return local.conn

        def forward(self):
            body = self.read_body()
            time.sleep(latency)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            for attempt in (0, 1):
                conn = self.upstream_conn(fresh=attempt == 1)
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    if attempt == 1:
                        self.send_error(502, "upstream failed")
                        return
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("upstream")
    ap.add_argument("latency_ms", type=float)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    upstream = urllib.parse.urlparse(args.upstream)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(upstream, args.latency_ms / 1000.0))
    server.daemon_threads = True
    server.request_queue_size = 128
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
