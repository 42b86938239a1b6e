#!/usr/bin/env python3
"""Parse speed, side by side: tidings (Rust, release) against Python feedparser.

Both read the same feed files (by default the real BBC/NYT/CNN captures in
../shared/feeds/news-snapshots/), from memory, the same number of rounds each after one
untimed warm-up round; parse only, no network, no store. Reported per round: the
median, min and max seconds for

  - feed-rs alone (the Rust parser tidings uses),
  - tidings parse + normalise (`parser::parse_feed`: feed-rs, then each entry made a
    Candidate: canonical URL, HTML to plain text, dates, language),
  - feedparser.parse(bytes) (which also sanitises the HTML of each entry, resolves
    relative links and parses dates: roughly the same job as parse + normalise),

and the ratio of the medians. The Rust side times itself inside one process
(examples/parse_snapshots.rs), so its start-up is not counted; neither is Python's.

Needs feedparser (this script installs nothing):   pip install feedparser
Run from the repository root:                       python3 tools/feedparser_compare.py
Options: --rounds N (default 10), --no-build, FILE|DIR ... (default: the snapshots).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIR = os.path.join(ROOT, "..", "shared", "feeds", "news-snapshots")
EXAMPLE = os.path.join(ROOT, "target", "release", "examples", "parse_snapshots")


def xml_files(inputs):
    files = []
    for path in inputs:
        if os.path.isdir(path):
            for base, _, names in os.walk(path):
                files.extend(os.path.join(base, n) for n in names if n.endswith(".xml"))
        else:
            files.append(path)
    return sorted(os.path.abspath(f) for f in files)


def summary(name, seconds, nbytes):
    med = statistics.median(seconds)
    return (
        f"{name:<28} median {med * 1000:8.1f} ms   min {min(seconds) * 1000:8.1f}   "
        f"max {max(seconds) * 1000:8.1f}   {nbytes / med / 1e6:6.1f} MB/s"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--no-build", action="store_true", help="use the built example as is")
    ap.add_argument("inputs", nargs="*", default=[DEFAULT_DIR])
    args = ap.parse_args()

    try:
        import feedparser
    except ImportError:
        sys.exit("feedparser is not installed: pip install feedparser")

    files = xml_files(args.inputs)
    if not files:
        sys.exit(f"no .xml files in {args.inputs} (is ../shared/feeds present?)")
    bodies = [open(f, "rb").read() for f in files]
    nbytes = sum(len(b) for b in bodies)
    print(f"{len(files)} files, {nbytes / 1e6:.2f} MB; {args.rounds} rounds each, after 1 warm-up round")

    # tidings: the release example, over the same files.
    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--example", "parse_snapshots"],
            cwd=ROOT,
            check=True,
        )
    out = subprocess.run(
        [EXAMPLE, "--rounds", str(args.rounds), "--warmup", "1", *files],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rust = json.loads(out)

    # feedparser, in this process.
    def feedparser_round():
        entries = 0
        for body in bodies:
            entries += len(feedparser.parse(body).entries)
        return entries

    feedparser_round()
    py_seconds = []
    py_entries = 0
    for _ in range(args.rounds):
        t = time.perf_counter()
        py_entries = feedparser_round()
        py_seconds.append(time.perf_counter() - t)

    print(f"entries: tidings {rust['entries']}, feed-rs {rust['feed_rs_entries']}, feedparser {py_entries}")
    print(summary("feed-rs only", rust["feed_rs_s"], nbytes))
    print(summary("tidings parse+normalise", rust["tidings_s"], nbytes))
    print(summary(f"feedparser {feedparser.__version__}", py_seconds, nbytes))
    med_t = statistics.median(rust["tidings_s"])
    med_f = statistics.median(rust["feed_rs_s"])
    med_p = statistics.median(py_seconds)
    print(f"feedparser / tidings parse+normalise: {med_p / med_t:.1f}x (median over median)")
    print(f"feedparser / feed-rs only:            {med_p / med_f:.1f}x")
    print(f"python {sys.version.split()[0]}; one run on a shared machine: expect some noise")


if __name__ == "__main__":
    main()
