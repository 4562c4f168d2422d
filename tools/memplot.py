#!/usr/bin/env python3
"""Samples resident memory every 50 ms while sigma encodes a file, streaming and with a
load-everything encoder (`--full-load`), and draws resident MiB against bytes processed as
an SVG (no dependencies). Bytes processed = bytes the process has read (/proc/PID/io rchar),
so the streaming run uses the read path (--no-mmap)."""
import os
import subprocess
import sys
import tempfile
import time

sigma, path, svg = sys.argv[1], sys.argv[2], sys.argv[3]
size = os.path.getsize(path)


def field(pid, fname, key):
    try:
        with open(f"/proc/{pid}/{fname}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def sample(args):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)
        p = subprocess.Popen(args + ["-f", "-o", os.path.join(d, "out.sigma"), path])
        points = []
        while p.poll() is None:
            rss = field(p.pid, "status", "VmRSS:")
            rchar = field(p.pid, "io", "rchar:")
            if rss is not None and rchar is not None:
                points.append((min(rchar, size), rss / 1024))
            time.sleep(0.05)
        if p.returncode != 0:
            sys.exit(f"{args} failed")
        return points


runs = [
    ("sigma encode -T2 --no-mmap (streaming)", "#1f77b4", sample([sigma, "encode", "-T2", "--no-mmap"])),
    ("load-everything encoder (sigma --full-load)", "#d62728", sample([sigma, "encode", "--full-load"])),
]
W, H, L, B, R, T = 760, 420, 70, 50, 20, 40
ymax = max(max((y for _, y in pts), default=1) for _, _, pts in runs) * 1.1
xmax = size


def X(x):
    return L + (W - L - R) * x / xmax


def Y(y):
    return H - B - (H - B - T) * y / ymax


parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">Resident memory while encoding {os.path.basename(path)} ({size/2**20:.0f} MiB)</text>',
         f'<line x1="{L}" y1="{H-B}" x2="{W-R}" y2="{H-B}" stroke="black"/>',
         f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H-B}" stroke="black"/>',
         f'<text x="{W/2}" y="{H-10}" text-anchor="middle">input bytes processed (MiB)</text>',
         f'<text x="15" y="{H/2}" text-anchor="middle" transform="rotate(-90 15 {H/2})">resident MiB</text>']
for i in range(6):
    xv = xmax * i / 5
    yv = ymax * i / 5
    parts.append(f'<text x="{X(xv)}" y="{H-B+16}" text-anchor="middle">{xv/2**20:.0f}</text>')
    parts.append(f'<text x="{L-6}" y="{Y(yv)+4}" text-anchor="end">{yv:.0f}</text>')
    parts.append(f'<line x1="{L}" y1="{Y(yv)}" x2="{W-R}" y2="{Y(yv)}" stroke="#ddd"/>')
for i, (label, color, pts) in enumerate(runs):
    if pts:
        d = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{d}"/>')
        peak = max(y for _, y in pts)
        label = f"{label}: peak {peak:.0f} MiB"
    parts.append(f'<rect x="{L+15}" y="{T+8+18*i}" width="12" height="4" fill="{color}"/>')
    parts.append(f'<text x="{L+32}" y="{T+14+18*i}">{label}</text>')
parts.append("</svg>")
with open(svg, "w") as f:
    f.write("\n".join(parts))
for label, _, pts in runs:
    print(f"{label}: {len(pts)} samples, peak {max((y for _, y in pts), default=0):.1f} MiB")
