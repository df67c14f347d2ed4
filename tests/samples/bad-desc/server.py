#!/usr/bin/env python3
"""Sample app for the platform's deploy and router tests (python3 standard library only).

Binds 0.0.0.0:$PORT (PORT=0 picks a free port) and prints "listening on <host>:<port>".
  GET  .../healthz  -> 200 "ok"
  GET  .../stream   -> 200, a chunked body sent in 5 parts
  GET  .../ws       -> with "Upgrade: websocket": a WebSocket that echoes every message
  POST/PUT ...      -> the request body echoed back, streamed (chunked)
  GET  anything     -> 200 JSON: which app, env, module and process answered, the path and
                       the X-Script-Name / X-Forwarded-* headers it received
SIGTERM stops it cleanly (exit 0).
"""

import base64
import hashlib
import json
import os
import signal
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def env(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bk-sample"

    def log_message(self, fmt, *args):
        try:
            sys.stdout.write("%s %s\n" % (self.address_string(), fmt % args))
            sys.stdout.flush()
        except OSError:
            pass  # nobody reads our output any more; keep serving

    def send_body(self, status, body, content_type):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.endswith("/healthz"):
            return self.send_body(200, "ok\n", "text/plain")
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        if path.endswith("/stream"):
            return self.stream()
        info = {
            "app": env("BKPAAS_APP_ID", "APP_ID"),
            "env": env("BKPAAS_ENVIRONMENT", "BK_ENV"),
            "module": env("BKPAAS_APP_MODULE_NAME"),
            "process": env("BKPAAS_PROCESS_TYPE"),
            "sub_path": env("BKPAAS_SUB_PATH"),
            "message": env("HELLO_MESSAGE"),
            "secret_set": bool(env("BKPAAS_APP_SECRET", "APP_TOKEN")),
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "script_name": self.headers.get("X-Script-Name"),
            "forwarded_for": self.headers.get("X-Forwarded-For"),
            "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
            "forwarded_host": self.headers.get("X-Forwarded-Host"),
            "port": self.server.server_address[1],
            "pid": os.getpid(),
        }
        self.send_body(200, json.dumps(info, sort_keys=True) + "\n", "application/json")

    do_HEAD = do_GET

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(5):
            self.send_chunk(b"part %d\n" % i)
        self.send_chunk(b"")

    def do_POST(self):
        self.send_response(200)
        self.send_header("Content-Type", self.headers.get("Content-Type", "application/octet-stream"))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data = self.rfile.read(size)
                self.rfile.readline()
                self.send_chunk(data)
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    break
                left -= len(data)
                self.send_chunk(data)
        self.send_chunk(b"")

    do_PUT = do_POST

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if not key:
            return self.send_body(400, "missing Sec-WebSocket-Key\n", "text/plain")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        while True:
            frame = read_frame(self.rfile)
            if frame is None:
                break
            opcode, payload = frame
            if opcode == 8:
                send_frame(self.wfile, 8, payload[:2])
                break
            if opcode == 9:
                send_frame(self.wfile, 10, payload)
            elif opcode in (0, 1, 2):
                send_frame(self.wfile, opcode, payload)
        self.close_connection = True


def read_exact(stream, n):
    data = stream.read(n) if n else b""
    return data if len(data) == n else None


def read_frame(stream):
    head = read_exact(stream, 2)
    if head is None:
        return None
    opcode, masked, n = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
    if n >= 126:
        ext = read_exact(stream, 2 if n == 126 else 8)
        if ext is None:
            return None
        n = struct.unpack(">H" if n == 126 else ">Q", ext)[0]
    mask = read_exact(stream, 4) if masked else None
    payload = read_exact(stream, n)
    if payload is None or (masked and mask is None):
        return None
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload


def send_frame(stream, opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    stream.write(head + payload)
    stream.flush()


def main():
    host = os.environ.get("HOST", "0.0.0.0")
    server = ThreadingHTTPServer((host, int(os.environ.get("PORT", "5000"))), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on %s:%d" % (host, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
