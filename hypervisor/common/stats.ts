// SPDX-License-Identifier: MIT
//
// What the hypervisor counts, for the run summary: hypercalls by name and
// result, page-type transitions, pins and unpins, flushes by kind, frames
// allocated, freed and scrubbed.

import { resultName } from "./errno.ts";

const bump = (m: Map<string, number>, k: string, by = 1) => m.set(k, (m.get(k) ?? 0) + by);

export class HvStats {
  /** hypercall name → result ("0", "-EINVAL", "3", …) → count. */
  readonly hypercalls = new Map<string, Map<string, number>>();
  /** "L1 → writable" → count, in the order each was first made. */
  get typeTransitions(): Map<string, number> {
    return new Map(this.transitionsSeen.map((t) => [t.name, t.count]));
  }
  /** The same by from and to (type names are constants: no string is made per transition). */
  private readonly transitions = new Map<string, Map<string, { name: string; count: number }>>();
  private readonly transitionsSeen: { name: string; count: number }[] = [];
  /** flush kind → requests and pCPUs they named. */
  readonly flushes = new Map<string, { requests: number; pcpus: number }>();
  /** Flushes by the path that carried them: "local", "ipi", "assisted". */
  readonly flushPaths = new Map<string, number>();
  /** Physical IPIs sent for flushes. */
  ipisSent = 0;
  /** pCPUs a filtered flush left out because the TLB-flush clock says they flushed since the frame's stamp. */
  pcpusSpared = 0;
  pins = 0;
  unpins = 0;
  framesAllocated = 0;
  framesFreed = 0;
  framesScrubbed = 0;

  hypercall(name: string, rc: number): void {
    let byResult = this.hypercalls.get(name);
    if (!byResult) this.hypercalls.set(name, (byResult = new Map()));
    // Positive results are counts (done, pages, booleans); group them so the table stays short.
    bump(byResult, rc > 0 ? ">0" : resultName(rc));
  }

  typeTransition(from: string, to: string): void {
    let byTo = this.transitions.get(from);
    if (!byTo) this.transitions.set(from, (byTo = new Map()));
    let t = byTo.get(to);
    if (!t) {
      byTo.set(to, (t = { name: `${from} → ${to}`, count: 0 }));
      this.transitionsSeen.push(t);
    }
    t.count++;
  }

  flush(kind: string, pcpus: number, path: string): void {
    bump(this.flushPaths, path);
    const f = this.flushes.get(kind) ?? { requests: 0, pcpus: 0 };
    f.requests++;
    f.pcpus += pcpus;
    this.flushes.set(kind, f);
  }

  /** Total hypercalls made. */
  totalHypercalls(): number {
    let n = 0;
    for (const m of this.hypercalls.values()) for (const c of m.values()) n += c;
    return n;
  }
}
