"""pyarrow reading one column of a Parquet file over HTTP by ranges, as it reads any remote file:
a seekable file whose reads are HTTP range requests (pyarrow has no HTTP filesystem of its own;
fsspec's would do the same requests). The server's log counts them. Prints {"rows": N}.

    python remote_parquet.py URL COLUMN
"""

import io
import json
import sys
import urllib.request

import pyarrow as pa
import pyarrow.parquet as pq


class HttpRangeFile(io.RawIOBase):
    """A read-only, seekable file over HTTP: each read is one ranged GET."""

    def __init__(self, url):
        self.url = url
        self.pos = 0
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD")) as r:
            self.size = int(r.headers["Content-Length"])

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def tell(self):
        return self.pos

    def readinto(self, b):
        n = min(len(b), self.size - self.pos)
        if n <= 0:
            return 0
        req = urllib.request.Request(self.url, headers={"Range": f"bytes={self.pos}-{self.pos + n - 1}"})
        with urllib.request.urlopen(req) as r:
            data = r.read()
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)


url, column = sys.argv[1], sys.argv[2]
f = pq.ParquetFile(pa.PythonFile(HttpRangeFile(url), mode="r"))
table = f.read(columns=[column])
print(json.dumps({"rows": table.num_rows}))
