#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/host-instructions.sh [CLI] [-- EXPLORE ARGS]
#
# Host instructions per explored run, counted by valgrind (callgrind), for
# comparing two builds on a machine whose pace moves by ±15% from one minute
# to the next (shared hosts): the count moves by about ±3% instead. It runs
# `explore` twice under callgrind, with FEW and MANY runs, and divides the
# difference of the totals by MANY - FEW, so that starting node, loading the
# image, building the domain once and the JIT's first compilations cancel
# out. V8 runs with --single-threaded so that compilation and GC are counted
# on one thread, as they cost. Instructions are not time (a build that makes
# fewer bigints saves cheap instructions, one that misses the cache fewer
# costly ones), so compare wall-clock runs too (README, "The explorer").
#
#   bench/host-instructions.sh                       # dist/cli.js, the race scenario
#   bench/host-instructions.sh /tmp/old/dist/cli.js  # another build, same scenario
#
# The other build must be a checkout of its own (a git worktree with its
# dist/ built): explore's workers load dist/cli.js of the package the CLI
# sits in, so a CLI file copied into this checkout runs this checkout's
# workers, and the two counts then compare the same code.
#
# Needs valgrind (apt-get install valgrind); about two minutes on two cores.

set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cli=$here/dist/cli.js
if [ $# -gt 0 ] && [ "$1" != "--" ]; then cli=$1; shift; fi
if [ "${1:-}" = "--" ]; then shift; fi
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=("$here/guest/x86_64/pv/kernel.elf" --hv --cpus 4 --nested -- workload=spurious-race)
fi
FEW=${FEW:-10}
MANY=${MANY:-30}

command -v valgrind >/dev/null || { echo "host-instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[ -f "$cli" ] || { echo "host-instructions: no CLI at $cli (npm run build)" >&2; exit 2; }

# explore's own arguments go before the image's `--`.
split=${#args[@]}
for i in "${!args[@]}"; do if [ "${args[$i]}" = "--" ]; then split=$i; break; fi; done
before=("${args[@]:0:$split}")
after=("${args[@]:$split}")

count() {
  valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
    node --single-threaded "$cli" explore "${before[@]}" --runs "$1" --jobs 1 --all "${after[@]}" 2>&1 >/dev/null |
    awk '/Collected/ { gsub(",", "", $4); print $4 }'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count "$FEW" > "$tmp/few" &
count "$MANY" > "$tmp/many"
wait
few=$(cat "$tmp/few")
many=$(cat "$tmp/many")
[ -n "$few" ] && [ -n "$many" ] || { echo "host-instructions: valgrind gave no count" >&2; exit 1; }
echo "$(( (many - few) / (MANY - FEW) )) host instructions per run ($cli; $FEW runs: $few, $MANY runs: $many)"
