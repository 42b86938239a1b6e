#!/usr/bin/env bash
# Checks deploy/systemd/tidings.service with systemd's own tools; CI runs it.
#
#   bash deploy/check.sh
#
# - `systemd-analyze verify`: the unit must load with no warning or error about it.
# - `systemd-analyze security --offline`: prints the sandbox's exposure score and fails
#   if it rises above MAX_EXPOSURE (a regression in the hardening).
#
# Without systemd-analyze on the machine it prints "skipped: ..." and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

UNIT=deploy/systemd/tidings.service
NAME=tidings.service
# Highest accepted exposure, in tenths as `systemd-analyze security --threshold` takes it
# (20 = 2.0). The unit scores 1.2 with systemd 252.
MAX_EXPOSURE=20

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "skipped: systemd-analyze not found"
  exit 0
fi
systemd-analyze --version | head -n 1

# `systemd-analyze verify` fails a unit whose ExecStart= program does not exist, and on a
# build or CI machine /usr/local/bin/tidings is not installed. As packaging projects do, we
# verify a copy of the unit, under the same file name, in which only the program path of
# ExecStart= is replaced by an existing binary (/bin/true); every other line, the
# arguments included, is kept as it is, so everything else is still checked.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -E 's|^ExecStart=/usr/local/bin/tidings( \|$)|ExecStart=/bin/true\1|' "$UNIT" >"$tmp/$NAME"
if ! grep -q '^ExecStart=/bin/true ' "$tmp/$NAME"; then
  echo "FAIL: $UNIT: expected ExecStart=/usr/local/bin/tidings ... (the check rewrites that line)" >&2
  exit 1
fi
if [ "$(diff "$UNIT" "$tmp/$NAME" | grep -c '^[<>]')" -ne 2 ]; then
  echo "FAIL: rewriting ExecStart= changed more than that one line" >&2
  exit 1
fi

fail=0

echo "== systemd-analyze verify $UNIT"
# verify exits 0 on many problems (unknown keys, unparsable values are "ignoring" warnings)
# and reports them on stderr, so its output is read too. Lines that name our unit fail the
# check; lines about other units on this machine (pulled in as dependencies) are shown only.
set +e
out=$(cd "$tmp" && systemd-analyze verify --man=no "./$NAME" 2>&1)
rc=$?
set -e
# Name the real file in messages; line numbers match, since only one line was rewritten.
out=${out//"$tmp/$NAME"/"$UNIT"}
[ -n "$out" ] && printf '%s\n' "$out"
if [ "$rc" -ne 0 ]; then
  echo "FAIL: systemd-analyze verify exited $rc" >&2
  fail=1
fi
if grep -q -F "$NAME" <<<"$out"; then
  echo "FAIL: systemd-analyze verify reported problems in $UNIT" >&2
  fail=1
fi
[ "$fail" -eq 0 ] && echo "ok: no warnings"

echo "== systemd-analyze security --offline=true $UNIT"
if grep -q -- "--offline" <<<"$(systemd-analyze security --help 2>/dev/null || true)"; then
  set +e
  sec=$(cd "$tmp" && systemd-analyze security --offline=true --threshold="$MAX_EXPOSURE" "./$NAME" 2>&1)
  rc=$?
  set -e
  grep -E "Overall exposure level" <<<"$sec" || printf "%s\n" "$sec"
  if [ "$rc" -ne 0 ]; then
    echo "FAIL: exposure above $((MAX_EXPOSURE / 10)).$((MAX_EXPOSURE % 10)), or the review failed (exit $rc):" >&2
    grep -E "^✗" <<<"$sec" >&2 || true
    fail=1
  fi
else
  echo "skipped: this systemd-analyze has no offline security review (needs systemd 250+)"
fi

if [ "$fail" -ne 0 ]; then
  exit 1
fi
echo "deploy/check.sh: ok"
