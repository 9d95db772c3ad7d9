"""Copies bench/out/ into bench/results/ and the results table into the README."""
import shutil
from pathlib import Path

root = Path(__file__).resolve().parent.parent
out, res = root / "bench" / "out", root / "bench" / "results"
res.mkdir(exist_ok=True)
for f in ["results.json", "results.md", "chart.png", "core.md", "npy.md", "arrow.md", "parquet_target.md", "record_batch.md"]:
    if (out / f).exists():
        shutil.copy(out / f, res / f)
readme = (root / "README.md").read_text()
head, rest = readme.split("<!-- results:begin -->", 1)
_, tail = rest.split("<!-- results:end -->", 1)
table = (res / "results.md").read_text()
(root / "README.md").write_text(head + "<!-- results:begin -->\n" + table + "<!-- results:end -->" + tail)
