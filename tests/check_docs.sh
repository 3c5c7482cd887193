#!/bin/sh
# Checks that docs/api-reference.md documents every public function: each
# function the header declares with FF_API must appear in the reference as
# a heading "### `name`" (its own entry, not a passing mention).
# usage: check_docs.sh include/fastflow.h docs/api-reference.md
set -eu
header=$1
doc=$2
if [ ! -r "$header" ] || [ ! -r "$doc" ]; then
    echo "cannot read $header or $doc"
    exit 1
fi
declared=$(grep -v "^[[:space:]]*#" "$header" | tr "\n" " " | grep -o 'FF_API [^;(]*(' | sed 's/($//; s/.*[ *]//' | grep '^ff_' | sort -u)
n_decl=$(printf '%s\n' "$declared" | grep -c . || true)
if [ "$n_decl" -lt 10 ]; then
    echo "found only $n_decl FF_API functions in $header; the parser is out of date"
    exit 1
fi
missing=$(printf '%s\n' "$declared" | while read -r f; do
    grep -q "^### \`$f\`" "$doc" || echo "$f"
done)
# Entries for functions the header does not declare are reported.
documented=$(grep -o '^### `ff_[a-z0-9_]*`' "$doc" | sed 's/^### `//; s/`$//' | sort -u)
stale=$(printf '%s\n' "$documented" | while read -r f; do
    [ -z "$f" ] || printf '%s\n' "$declared" | grep -qx "$f" || echo "$f"
done)
echo "header: $n_decl functions; documented: $(printf '%s\n' "$documented" | grep -c . || true)"
fail=0
if [ -n "$missing" ]; then echo "not documented in $doc (add a '### \`name\`' entry):"; echo "$missing"; fail=1; fi
# A warning only: entries may be written before their declaration lands.
if [ -n "$stale" ]; then echo "warning: documented but not in $header (stale or not yet declared):"; echo "$stale"; fi
if [ $fail = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
