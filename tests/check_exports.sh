#!/bin/sh
# Checks the shared library's exports against the version script and the
# public header, in both directions:
#   - every symbol the library exports is named in lib/fastflow.map and
#     declared FF_API in include/fastflow.h (nothing internal leaks);
#   - every function the header declares is named in the map and exported;
#   - every name in the map is declared in the header (no stale entry);
#   - the map names its symbols one by one (no wildcard such as ff_* in a
#     global: list) and every exported symbol carries a FASTFLOW_ version.
# usage: check_exports.sh libfastflow.so include/fastflow.h lib/fastflow.map
set -eu
lib=$1
header=$2
map=$3
for f in "$lib" "$header" "$map"; do
    [ -r "$f" ] || { echo "cannot read $f"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name@@VERSION of every defined dynamic symbol (functions and data)
nm -D --defined-only --with-symbol-versions "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' |
    grep -v '^FASTFLOW_[0-9.]*$' | sort -u > "$tmp/versioned"
sed 's/@.*//' "$tmp/versioned" | sort -u > "$tmp/exported"
# the map without its comments; names listed under global:
perl -0777 -pe 's{/\*.*?\*/}{}gs' "$map" > "$tmp/map_nocomment"
awk '
    /global:/ {g = 1; sub(/.*global:/, "")}
    /local:/ {g = 0}
    /}/ {g = 0}
    g {print}' "$tmp/map_nocomment" | tr ';' '\n' | tr -d ' \t' | grep . | sort > "$tmp/map_all" || true
sort -u "$tmp/map_all" > "$tmp/map"
# FF_API declarations of the header (comments and preprocessor lines removed)
perl -0777 -pe 's{/\*.*?\*/}{}gs; s{^[ \t]*#.*$}{}mg' "$header" | tr '\n' ' ' |
    grep -o 'FF_API [^;(]*(' | sed 's/($//; s/.*[ *]//' | sort -u > "$tmp/declared"

n_exp=$(grep -c . "$tmp/exported" || true)
n_map=$(grep -c . "$tmp/map" || true)
n_decl=$(grep -c . "$tmp/declared" || true)
echo "exported: $n_exp symbols; in $map: $n_map names; declared FF_API in the header: $n_decl functions"
fail=0
report() { # title file
    if [ -s "$2" ]; then echo "$1:"; sed 's/^/  /' "$2"; fail=1; fi
}
if [ "$n_decl" -lt 10 ]; then echo "found only $n_decl FF_API functions in $header; the parser is out of date"; fail=1; fi
grep '[*?]' "$tmp/map" > "$tmp/wild" || true
report "wildcards in a global: list of $map (list every function by name)" "$tmp/wild"
sort "$tmp/map_all" | uniq -d > "$tmp/dup" || true
report "names listed twice in $map" "$tmp/dup"
comm -23 "$tmp/exported" "$tmp/map" > "$tmp/x" || true
report "exported but not named in $map" "$tmp/x"
comm -23 "$tmp/exported" "$tmp/declared" > "$tmp/x" || true
report "exported but not declared FF_API in $header" "$tmp/x"
comm -23 "$tmp/declared" "$tmp/map" > "$tmp/x" || true
report "declared in $header but not named in $map (add it to the newest node)" "$tmp/x"
comm -23 "$tmp/declared" "$tmp/exported" > "$tmp/x" || true
report "declared in $header but not exported by $lib" "$tmp/x"
comm -23 "$tmp/map" "$tmp/declared" | grep -v '[*?]' > "$tmp/x" || true
report "named in $map but not declared in $header (stale entry)" "$tmp/x"
grep -v '@@*FASTFLOW_[0-9][0-9.]*$' "$tmp/versioned" > "$tmp/x" || true
report "exported without a FASTFLOW_ symbol version" "$tmp/x"
if [ $fail = 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
