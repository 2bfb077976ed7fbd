// SPDX-License-Identifier: MIT
//
// The long campaigns in bench/campaigns/ (issues 13, 18 and 19: 20,000
// explored runs that must find nothing). Each directory holds the shards
// bench/campaigns/run.sh wrote; this checks what they claim: together they
// cover seeds 0 to 19,999 once each, with the campaign's options, on the
// guest image committed today, and no run failed. A guest rebuilt since, a
// shard lost or a failure makes it fail: run the campaign again.

import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, shootdown } from "../helpers/run.ts";

const CAMPAIGNS: { name: string; image: string; cmdline: string; check: (o: Record<string, any>) => void }[] = [
  {
    name: "sharing-defaults", image: "guest/x86_64/sharing/kernel.elf", cmdline: "driver=dom0 rounds=5",
    check: (o) => {
      expect(o).toMatchObject({ cpus: 2, mode: "pct", pct: { depth: 3 }, quantum: 1000 });
      // The defaults: no --sharing-lock/-order/-release/-unshare option is recorded, and the daemon runs.
      expect(o.hv).toEqual({ domains: 3, vcpus: 2, domMem: String(16 << 20), hvm: true, dom0: true, sharingDaemon: true });
    },
  },
  ...["hyperv", "xen"].flatMap((flush) => ["rcu", "sync-ipi"].map((free) => ({
    name: `linux-${flush}-${free}`, image: "guest/x86_64/linux/kernel.elf", cmdline: `flush=${flush} tablefree=${free} workload=gup-race pages=32`,
    check: (o: Record<string, any>) => {
      expect(o).toMatchObject({ cpus: 4, mode: "pct", pct: { depth: 3 }, quantum: 50 });
      expect(o.hv).toMatchObject({ domains: 1, vcpus: 4, hvm: true });
    },
  }))),
  {
    name: "linux-ipi-direct-bare", image: "guest/x86_64/linux/kernel.elf", cmdline: "flush=ipi tablefree=direct workload=gup-race pages=32",
    check: (o) => {
      expect(o).toMatchObject({ cpus: 4, mode: "pct", pct: { depth: 3 }, quantum: 50 });
      expect(o.hv).toBeUndefined();
    },
  },
  ...[true, false].map((nested) => ({
    name: `pv-spurious-race-${nested ? "nested" : "ipi"}`, image: "guest/x86_64/pv/kernel.elf", cmdline: "workload=spurious-race",
    check: (o: Record<string, any>) => {
      expect(o).toMatchObject({ cpus: 4, mode: "pct", pct: { depth: 3 }, quantum: 1000 });
      // With the fix (force-IPI, the default): no forceIpi key is recorded.
      expect(o.hv).toEqual({ domains: 1, vcpus: 4, domMem: String(16 << 20), ...(nested ? { nested: true } : {}) });
    },
  })),
];

describe("bench/campaigns: 20,000 explored runs each, none failing", () => {
  for (const c of CAMPAIGNS) {
    it(`${c.name}: seeds 0–19999 once each, on today's ${c.image}, 0 failures`, () => {
      const dir = join(ROOT, "bench", "campaigns", c.name);
      const files = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => join(dir, f));
      const sha = createHash("sha256").update(readFileSync(join(ROOT, c.image))).digest("hex");
      for (const f of files) {
        const shard = JSON.parse(readFileSync(f, "utf8"));
        expect(shard.image.sha256, `${f} explored another build of ${c.image}: run bench/campaigns/run.sh ${c.name} again`).toBe(sha);
        expect(shard.options.cmdline).toBe(c.cmdline);
        c.check(shard.options);
      }
      const r = shootdown("explore", "merge", ...files, "--json");
      expect(r.status, r.stderr).toBe(0);
      const merged = JSON.parse(r.stdout);
      const ranges = (merged.seeds as { first: string; end: string }[]).map((s) => [Number(s.first), Number(s.end)]).sort((a, b) => a[0]! - b[0]!);
      let next = 0;
      for (const [first, end] of ranges) {
        expect(first, `seeds ${next}–${first! - 1} are missing`).toBe(next);
        next = end!;
      }
      expect(next).toBe(20_000);
      expect(merged.runs).toBe(20_000);
      expect(merged.failures.total).toBe(0);
    });
  }
});
