#!/usr/bin/env bash
# Compares the ABI of a build with the released baselines in abi/ (abidiff)
# and fails on any incompatible change (docs/versioning.md):
#   fails:    a removed function or symbol, a changed function (any parameter
#             or return type, anywhere in the types it reaches), a removed or
#             changed type of the header (a renumbered or removed enumerator,
#             a changed typedef), a changed soname;
#   accepted: added functions, added types and added enumerators (what a
#             minor release may add), each listed in the report.
# Every baseline directory abi/<version>/ is checked: a 0.3 build must keep
# the ABI of 0.1 and of 0.2.
# usage: scripts/check-abi.sh BUILD_DIR [BASELINE_DIR...]
# Exit: 0 compatible, 1 incompatible, 2 cannot check (no abidw, no build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: scripts/check-abi.sh BUILD_DIR [BASELINE_DIR...]}
shift
if [ $# -gt 0 ]; then
    baselines=("$@")
else
    baselines=()
    for d in "$root"/abi/*/; do [ -f "$d/libfastflow.abi" ] && baselines+=("${d%/}"); done
fi
if [ ${#baselines[@]} -eq 0 ]; then
    echo "no baseline in $root/abi/ (scripts/update-abi-baseline.sh writes one)"
    exit 2
fi
for tool in abidw abidiff; do
    command -v $tool >/dev/null || { echo "$tool not found (Debian: apt-get install abigail-tools)"; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$root/scripts/abi-dump.sh" "$build" "$tmp/current" || exit 2

# Functions the header marks FF_EXPERIMENTAL (for the advice below).
experimental=$(perl -0777 -ne 'while (/FF_EXPERIMENTAL\s+FF_API\s[^;(]*?\b(ff_\w+)\s*\(/g) { print "$1\n" }' \
    "$root/include/fastflow.h" | sort -u)

fail=0
for base in "${baselines[@]}"; do
    for part in libfastflow types; do
        report=$tmp/$part.report
        set +e
        # -t (unreachable types) only for types.abi, which tracks them
        # (abidw --load-all-types); abidiff asserts on it for the other file.
        flags=()
        [ $part = libfastflow ] || flags=(-t)
        abidiff "${flags[@]}" "$base/$part.abi" "$tmp/current/$part.abi" > "$report" 2>&1
        rc=$?
        set -e
        if [ $((rc & 3)) -ne 0 ]; then
            echo "abidiff could not compare $base/$part.abi (exit $rc):"
            cat "$report"
            exit 2
        fi
        # Counts of removed and changed things in the summaries; abidiff sets
        # exit bit 8 only for removals, so changed signatures and enumerators
        # are found here.
        bad=$(grep -Eo '[1-9][0-9]* (Removed|removed|Changed|changed)' "$report" || true)
        soname=$(grep -E 'SONAME changed|architecture changed' "$report" || true)
        if [ $((rc & 8)) -ne 0 ] || [ -n "$bad" ] || [ -n "$soname" ]; then
            echo "INCOMPATIBLE: $part ABI against the baseline $base:"
            cat "$report"
            fail=1
            touched=$(grep -Eo "'function [^']*\b(ff_[a-z0-9_]+)\(" "$report" | grep -Eo 'ff_[a-z0-9_]+\($' | tr -d '(' | sort -u || true)
            if [ -n "$touched" ]; then
                stable=$(comm -23 <(echo "$touched") <(echo "$experimental"))
                exper=$(comm -12 <(echo "$touched") <(echo "$experimental"))
                [ -z "$stable" ] || echo "stable functions removed or changed: $(echo $stable)"
                [ -z "$exper" ] || echo "experimental (FF_EXPERIMENTAL) functions removed or changed: $(echo $exper)"
            fi
        elif [ $rc -ne 0 ]; then
            echo "compatible additions to the $part ABI since $(basename "$base"):"
            grep -E '^\s*\[A\]' "$report" || true
        fi
    done
done
if [ $fail -ne 0 ]; then
    cat <<EOF

The ABI changed incompatibly. Within a major version, stable functions and
released enum values never change (docs/versioning.md): restore them, or add
a new function instead. Experimental functions may change in a minor release:
if that is what you meant, regenerate the baseline in the same commit with
scripts/update-abi-baseline.sh and list the change in the release notes.
EOF
    echo "0 passed, 1 failed"
    exit 1
fi
echo "ABI compatible with ${#baselines[@]} baseline(s): $(for b in "${baselines[@]}"; do basename "$b"; done | tr '\n' ' ')"
echo "1 passed, 0 failed"
