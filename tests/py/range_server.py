"""A range-capable HTTP file server for the remote-read tests, started by the tests on 127.0.0.1.

Serves the files under ROOT: HEAD, GET with one ``Range`` (``bytes=a-b``, ``bytes=a-``,
``bytes=-n``; 206 with ``Content-Range``), and PUT (written to a temporary file and renamed into
place, so a failed upload leaves the old file). Every request is appended to LOG as one JSON line
(method, path, range asked for, status, body bytes sent): the tests count requests and bytes from
it. Prints the port it listens on, then serves until killed.

    python range_server.py ROOT LOG
"""

import email.utils
import http.server
import json
import os
import re
import sys
import tempfile
import threading

ROOT = os.path.abspath(sys.argv[1])
LOG = sys.argv[2]
LOG_LOCK = threading.Lock()
RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the JSON log is the record
        pass

    def _record(self, status, sent):
        entry = {"method": self.command, "path": self.path, "range": self.headers.get("Range"), "status": status, "bytes": sent}
        with LOG_LOCK, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def _file(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        full = os.path.abspath(os.path.join(ROOT, rel))
        if not full.startswith(ROOT + os.sep):
            return None
        return full

    def _empty_reply(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self._record(status, 0)

    def _head_or_get(self, body):
        path = self._file()
        if path is None or not os.path.isfile(path):
            return self._empty_reply(404)
        size = os.path.getsize(path)
        start, end, status = 0, size, 200
        asked = self.headers.get("Range")
        if asked:
            m = RANGE.match(asked.strip())
            if not m or (m.group(1) == "" and m.group(2) == ""):
                return self._empty_reply(416)
            if m.group(1) == "":
                start = max(0, size - int(m.group(2)))
            else:
                start = int(m.group(1))
                end = min(size, int(m.group(2)) + 1) if m.group(2) else size
            if start >= size or start >= end:
                return self._empty_reply(416)
            status = 206
        stat = os.stat(path)
        self.send_response(status)
        self.send_header("Content-Length", str(end - start))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("ETag", f'"{stat.st_mtime_ns:x}-{size:x}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.end_headers()
        sent = 0
        if body:
            with open(path, "rb") as f:
                f.seek(start)
                left = end - start
                while left:
                    piece = f.read(min(left, 1 << 20))
                    self.wfile.write(piece)
                    left -= len(piece)
                    sent += len(piece)
        self._record(status, sent)

    def do_HEAD(self):
        self._head_or_get(False)

    def do_GET(self):
        self._head_or_get(True)

    def do_PUT(self):
        path = self._file()
        if path is None:
            return self._empty_reply(403)
        length = int(self.headers.get("Content-Length", "0"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
        with os.fdopen(fd, "wb") as f:
            left = length
            while left:
                piece = self.rfile.read(min(left, 1 << 20))
                if not piece:
                    break
                f.write(piece)
                left -= len(piece)
        if left:
            os.unlink(tmp)
            return self._empty_reply(400)
        os.replace(tmp, path)
        self._empty_reply(201)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
