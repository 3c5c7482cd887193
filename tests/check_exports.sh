#!/bin/sh
# Checks the shared library's dynamic symbol table: every exported symbol
# starts with ff_ (nothing internal leaks), and every function the public
# header declares with FF_API is exported.
# usage: check_exports.sh libfastflow.so include/fastflow.h
set -eu
lib=$1
header=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -v '^ff_' || true)
declared=$(grep -v "^[[:space:]]*#" "$header" | tr "\n" " " | grep -o 'FF_API [^;(]*(' | sed 's/($//; s/.*[ *]//' | sort -u)
missing=$(printf '%s\n' "$declared" | while read -r f; do printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"; done)
n_exp=$(printf '%s\n' "$exported" | grep -c . || true)
n_decl=$(printf '%s\n' "$declared" | grep -c . || true)
echo "exported: $n_exp symbols; declared in the header: $n_decl functions"
fail=0
if [ -n "$bad" ]; then echo "exported symbols without the ff_ prefix:"; echo "$bad"; fail=1; fi
if [ -n "$missing" ]; then echo "declared but not exported:"; echo "$missing"; fail=1; fi
if [ $fail = 0 ]; then echo "2 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
