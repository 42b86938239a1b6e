#!/usr/bin/env python3
"""Checks that README.md renders as meant and that its commands are real.

- Code fences are balanced, and no line outside them looks like TOML (a `[table]`
  header or a `key = value` line): that is a block closed too early.
- Every `tidings …` line in a ```sh block names subcommands and flags that the binary's
  `--help` lists (bracketed optional parts such as `[--id x]` included).

Usage: python3 tools/readme_check.py path/to/tidings [README.md]
Exits 1 with one line per problem.
"""

import re
import shlex
import subprocess
import sys

TOML_OUTSIDE = re.compile(r"^(\[\[?[a-z_.]+\]\]?\s*$|[a-z_]+ = \S)")
GLOBAL_WITH_VALUE = {"--config", "--data-dir", "--log-format"}


def help_text(binary, path, cache):
    key = tuple(path)
    if key not in cache:
        out = subprocess.run(
            [binary, *path, "--help"], capture_output=True, text=True, timeout=30
        )
        cache[key] = out.stdout if out.returncode == 0 else None
    return cache[key]


def subcommands(help_out):
    """The names listed under `Commands:` in a clap help text."""
    names, inside = set(), False
    for line in help_out.splitlines():
        if line.strip() == "Commands:":
            inside = True
            continue
        if inside:
            if not line.startswith("  "):
                break
            names.add(line.split()[0])
    return names


def check_command(binary, line, cache):
    tokens = shlex.split(line.replace("[", " ").replace("]", " "), comments=True)
    args = tokens[1:]
    path, rest, i = [], [], 0
    while i < len(args):
        a = args[i]
        if a in GLOBAL_WITH_VALUE:
            i += 2
            continue
        rest.append(a)
        i += 1
    words = [a for a in rest if not a.startswith("-")]
    for w in words:
        h = help_text(binary, path, cache)
        if h is None or w not in subcommands(h):
            break
        path.append(w)
    if words and not path:
        return [f"`tidings` has no subcommand {words[0]}"]
    h = help_text(binary, path, cache)
    if h is None:
        return [f"`tidings {' '.join(path)} --help` fails"]
    top = help_text(binary, [], cache) or ""
    problems = []
    for a in rest:
        if a.startswith("--"):
            flag = a.split("=", 1)[0]
            if flag == "--help":
                continue
            if not re.search(re.escape(flag) + r"\b", h + top):
                problems.append(f"`tidings {' '.join(path)}` has no flag {flag}")
    return problems


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    problems, cache = [], {}
    fence, fence_start = None, 0
    with open(readme, encoding="utf-8") as f:
        lines = f.read().splitlines()
    continued = ""
    for n, line in enumerate(lines, 1):
        # A shell line continued with a backslash is checked whole, at its last line.
        if fence == "sh" and line.endswith("\\"):
            continued += line[:-1] + " "
            continue
        line, continued = continued + line, ""
        if line.startswith("```"):
            if fence is None:
                fence, fence_start = line[3:].strip() or "plain", n
            else:
                fence = None
            continue
        if fence is None:
            if TOML_OUTSIDE.match(line):
                problems.append(f"{readme}:{n}: looks like TOML outside a code block: {line!r}")
        elif fence == "sh" and line.startswith("tidings "):
            for p in check_command(binary, line, cache):
                problems.append(f"{readme}:{n}: {p}")
    if fence is not None:
        problems.append(f"{readme}:{fence_start}: code block ({fence}) never closed")
    for p in problems:
        print(p)
    checked = sum(1 for t in cache.values() if t is not None)
    print(f"readme_check: {len(problems)} problems; {checked} help texts read", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
