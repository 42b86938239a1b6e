#!/usr/bin/env python3
"""Plots a soak run's samples (soak.csv from examples/soak.rs): RSS and peak RSS, store
size on disk, stories held and stories stored per second, over time.

Usage: python3 benches/soak_plot.py /tmp/tidings-soak/soak.csv benches/soak.png
Needs matplotlib (pip install matplotlib).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: soak_plot.py SOAK.csv OUT.png")
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{sys.argv[1]}: no samples")
    minutes = [float(r["seconds"]) / 60 for r in rows]
    col = lambda name: [float(r[name]) for r in rows]  # noqa: E731
    fig, axes = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    axes[0].plot(minutes, col("rss_mb"), label="RSS")
    axes[0].plot(minutes, col("peak_rss_mb"), label="peak RSS", linestyle="--")
    axes[0].set_ylabel("MB")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(loc="lower right")
    axes[0].set_title("tidings soak: retention story_text=2m, identity 2m, stories 3m, events 5m")
    axes[1].plot(minutes, col("store_mb"), color="tab:green")
    axes[1].set_ylabel("store on disk, MB")
    axes[1].set_ylim(bottom=0)
    axes[2].plot(minutes, col("stories_held"), color="tab:purple", label="held")
    axes[2].set_ylabel("stories held")
    axes[2].set_ylim(bottom=0)
    axes[3].plot(minutes, col("stories_per_s"), color="tab:red")
    axes[3].set_ylabel("new stories / s")
    axes[3].set_ylim(bottom=0)
    axes[3].set_xlabel("minutes")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=90)


if __name__ == "__main__":
    main()
