#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/campaigns/run.sh NAME [FIRST LAST [SHARD]]: runs a long campaign of
# `shootdown explore` as shards of SHARD seeds (default 500) from FIRST to
# LAST-1 (default 0 to 20000), each written to bench/campaigns/NAME/ by
# --seed-range A:B --out, skipping shards already there; several copies of
# the script may run at once (a shard is claimed by mkdir). Then
#   npx shootdown explore merge bench/campaigns/NAME/*.json
# adds them up. Run it from a checkout whose dist/ is built (npm install).
set -u
name=$1; first=${2:-0}; last=${3:-20000}; size=${4:-500}
root=$(cd "$(dirname "$0")/../.." && pwd)
# From the checkout's root, so that shards record the image by its path in the repository.
cd "$root" || exit 70
cli="node dist/cli.js"
case $name in
  sharing-defaults)
    args=(explore "guest/x86_64/sharing/kernel.elf" --hv --hvm --cpus 2 --vcpus 2 --domains 0,1,2 --dom-mem 16M --mem 16M
      --sharing-daemon --strategy pct --depth 3 -- driver=dom0 rounds=5) ;;
  linux-hyperv-rcu|linux-hyperv-sync-ipi|linux-xen-rcu|linux-xen-sync-ipi)
    flush=${name#linux-}; flush=${flush%%-*}
    args=(explore "guest/x86_64/linux/kernel.elf" --cpus 4 --hv --hvm --quantum 50 --strategy pct --depth 3
      -- "flush=$flush" "tablefree=${name#linux-"$flush"-}" workload=gup-race pages=32) ;;
  linux-ipi-direct-bare)
    args=(explore "guest/x86_64/linux/kernel.elf" --cpus 4 --quantum 50 --strategy pct --depth 3
      -- flush=ipi tablefree=direct workload=gup-race pages=32) ;;
  pv-spurious-race-nested)
    args=(explore "guest/x86_64/pv/kernel.elf" --hv --cpus 4 --nested --strategy pct --depth 3 -- workload=spurious-race) ;;
  pv-spurious-race-ipi)
    args=(explore "guest/x86_64/pv/kernel.elf" --hv --cpus 4 --strategy pct --depth 3 -- workload=spurious-race) ;;
  *) echo "run.sh: no campaign named '$name' (sharing-defaults, linux-{hyperv,xen}-{rcu,sync-ipi}, linux-ipi-direct-bare, pv-spurious-race-nested, pv-spurious-race-ipi)" >&2; exit 64 ;;
esac
dir="$root/bench/campaigns/$name"
mkdir -p "$dir" "$dir/.claims"
for ((a = first; a < last; a += size)); do
  b=$((a + size)); out="$dir/$a-$b.json"
  [ -f "$out" ] && continue
  mkdir "$dir/.claims/$a" 2>/dev/null || continue
  # --jobs 1: one worker per copy of the script, so the copies share the machine's cores.
  if $cli "${args[@]:0:2}" --jobs 1 --seed-range "$a:$b" --out "$out.tmp" "${args[@]:2}" >/dev/null 2>"$dir/.claims/$a/stderr"; then
    mv "$out.tmp" "$out"; echo "$name: seeds $a:$b done, no failure"
  else
    rc=$?
    # Status 1 is a failing run, recorded in the shard; anything else is the campaign's own failure.
    if [ $rc -eq 1 ] && [ -f "$out.tmp" ]; then mv "$out.tmp" "$out"; echo "$name: seeds $a:$b done, with failures"; else echo "run.sh: shard $a:$b ended with status $rc (see $dir/.claims/$a/stderr)" >&2; exit $rc; fi
  fi
  rmdir "$dir/.claims/$a" 2>/dev/null || rm -rf "$dir/.claims/$a"
done
