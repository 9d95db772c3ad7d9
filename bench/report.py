"""Turns bench/out/results.json into bench/out/results.md (tables) and bench/out/chart.png (file
size against full-read speed, per dataset)."""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
doc = json.loads((OUT / "results.json").read_text())
res = doc["results"]
m = doc["machine"]
lines = [
    f"Machine: {m['cpu']}, {m['cores']} cores; memcpy {m['memcpy_GBps']} GB/s (into fresh memory {m.get('memcpy_fresh_GBps', '?')} GB/s); `cp` of the particles .npy {m.get('cp_particles_npy_GBps', '?')} GB/s. "
    f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f". {'Quick run (1/10 size). ' if doc['quick'] else ''}Medians of {doc['runs']} runs{'' if doc['quick'] else ' (' + str(doc['runs'] * 3) + ' for tables under 100 MB)'}; writes run on while under 2 s in all, up to 3x as many; an operation whose first run took 2 s or more ran once.",
    "",
    "Ratio = in-memory bytes / file bytes. Speeds are MB/s of in-memory bytes. col = open + read one column; 1% = a 1% row range.",
]
datasets = []
for r in res:
    if r["dataset"] not in datasets:
        datasets.append(r["dataset"])
for ds in datasets:
    rows = [r for r in res if r["dataset"] == ds]
    speed_only = rows[0].get("speed_only")
    runs = max(r.get("runs", doc["runs"]) for r in rows)
    lines += ["", f"### {ds} ({rows[0]['raw_bytes'] / 1e6:.0f} MB in memory, medians of {runs} runs{'; speeds only: tiling repeats data, so sizes mean nothing' if speed_only else ''})", ""]
    lines += ["| contender | threads | size MB | ratio | write s | write MB/s | read MB/s | col ms | 1% ms |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    ok = sorted([r for r in rows if "error" not in r], key=lambda r: r["size"])
    for r in ok:
        raw = r["raw_bytes"] / 1e6
        size = "-" if speed_only else f"{r['size'] / 1e6:.1f}"
        ratio = "-" if speed_only else f"{r['raw_bytes'] / r['size']:.2f}"
        lines.append(f"| {r['contender']} | {r['threads']} | {size} | {ratio} | {r['write_s']:.2f} | {raw / r['write_s']:.0f} | {raw / r['read_s']:.0f} | {r['col_s'] * 1e3:.1f} | {r['range_s'] * 1e3:.1f} |")
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['contender']} | {r['threads']} | failed: {r['error'].replace('|', '/')} | | | | | | |")
(OUT / "results.md").write_text("\n".join(lines) + "\n")

sized = [d for d in datasets if not next(r for r in res if r["dataset"] == d).get("speed_only")]
fig, axes = plt.subplots(1, len(sized), figsize=(5 * len(sized), 4.5), squeeze=False)
for ax, ds in zip(axes[0], sized):
    for r in res:
        if r["dataset"] != ds or "error" in r:
            continue
        x = r["raw_bytes"] / r["size"]
        y = r["raw_bytes"] / 1e6 / r["read_s"]
        sheaf = r["contender"].startswith("sheaf")
        ax.scatter(x, y, c="tab:red" if sheaf else "tab:blue", s=40 if sheaf else 20)
        ax.annotate(r["contender"], (x, y), fontsize=6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compression ratio (higher is smaller)")
    ax.set_ylabel("full read MB/s")
    ax.set_title(ds)
fig.tight_layout()
fig.savefig(OUT / "chart.png", dpi=110)
print((OUT / "results.md").read_text())
