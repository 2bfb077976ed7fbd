// SPDX-License-Identifier: MIT
//
// `shootdown bench hv`: what a hypercall costs the hypervisor (issue 12).
// mmu_update of ordinary PTEs in batches of 1 and 64, and MMUEXT_PIN_L1_TABLE
// + MMUEXT_UNPIN_TABLE of an L1, each driven to its end as one CPU would run
// the routine (every step, no other CPU in between), quoted per second and
// as the number of bare guest instructions (the x86-64 loop of `bench cpu`,
// measured in the same run) that take as long. The soak's rate is
// `npm run soak`'s.

import { timeBest, perSecond, type BenchOptions } from "./cli.ts";
import { x86LoopNs } from "./cpu.ts";
import { makeHv, put, mmuextOp, spareMfns, u64s, call } from "../test/hypervisor/helpers.ts";
import { HYPERVISOR, MMUEXT } from "../hypervisor/x86/public.ts";
import { maddr } from "../hypervisor/index.ts";

const _PAGE_PRESENT = 1n;
const _PAGE_RW = 2n;

export function hvSuite({ scale, out }: BenchOptions): void {
  const rounds = 5;
  const t = makeHv({ domains: 1, frames: 1024 });
  const dom = t.doms[0]!;
  const v = dom.d.vcpus[0]!;
  const hv = t.hv;
  const [l1, data] = spareMfns(dom);
  // An L1 of ours, pinned once, whose entries the batches rewrite: map `data` and unmap it again.
  if (call(hv, v, HYPERVISOR.mmuext_op, put(t, dom, 0, mmuextOp(MMUEXT.PIN_L1_TABLE, BigInt(l1!))), 1n, 0n, 0x7ff0n) !== 0) throw new Error("bench hv: cannot pin the L1");
  const batch = (n: number, map: boolean) => {
    const reqs: bigint[] = [];
    for (let i = 0; i < n; i++) reqs.push(maddr(l1!) + 8n * BigInt(i), map ? maddr(data!) | _PAGE_PRESENT | _PAGE_RW : 0n);
    return put(t, dom, 0x800, u64s(...reqs));
  };
  const calls = Math.max(50, Math.round(20_000 * scale));
  const measure = (perCall: number, f: () => void) => {
    for (let i = 0; i < 20; i++) f();
    let best = Infinity;
    for (let r = 0; r < rounds; r++) best = Math.min(best, timeBest(1, calls * perCall, () => { for (let i = 0; i < calls; i++) f(); }));
    return best;
  };
  const mmu = (n: number) => {
    const mapReqs = batch(n, true);
    const unmapReqs = batch(n, false);
    let map = true;
    return measure(n, () => {
      const rc = call(hv, v, HYPERVISOR.mmu_update, map ? mapReqs : unmapReqs, BigInt(n), 0n, 0x7ff0n);
      if (rc !== 0) throw new Error(`bench hv: mmu_update failed (${rc})`);
      map = !map;
    });
  };
  const one = mmu(1);
  const sixtyFour = mmu(64);
  // Pin and unpin a second L1: validation and devalidation of 512 empty entries, and the type change.
  if (call(hv, v, HYPERVISOR.mmuext_op, put(t, dom, 0, mmuextOp(MMUEXT.UNPIN_TABLE, BigInt(l1!))), 1n, 0n, 0x7ff0n) !== 0) throw new Error("bench hv: cannot unpin");
  const pinOp = put(t, dom, 0x100, mmuextOp(MMUEXT.PIN_L1_TABLE, BigInt(l1!)));
  const unpinOp = put(t, dom, 0x200, mmuextOp(MMUEXT.UNPIN_TABLE, BigInt(l1!)));
  const pin = measure(1, () => {
    if (call(hv, v, HYPERVISOR.mmuext_op, pinOp, 1n, 0n, 0x7ff0n) !== 0) throw new Error("bench hv: pin failed");
    if (call(hv, v, HYPERVISOR.mmuext_op, unpinOp, 1n, 0n, 0x7ff0n) !== 0) throw new Error("bench hv: unpin failed");
  });
  const insn = x86LoopNs(Math.max(1_000_000, Math.round(20_000_000 * scale / 100_000) * 100_000), rounds);
  const line = (what: string, ns: number, per: string) =>
    out(`  ${what.padEnd(40)} ${(ns / 1000).toFixed(2).padStart(8)} µs ${per}  ${Math.round(1e9 / ns).toLocaleString("en").padStart(9)}/s   ${Math.round(ns / insn).toLocaleString("en").padStart(7)} guest instructions`);
  out(`hv: hypercalls run to their end on one pCPU, best of ${rounds} rounds of ${calls}; against the bare x86-64 loop of the same run`);
  out(`  bare guest instruction (baseline)        ${insn.toFixed(2).padStart(8)} ns           ${perSecond(insn).padStart(11)}`);
  line("mmu_update, 1 PTE", one, "a call   ");
  line("mmu_update, batch of 64 PTEs (per PTE)", sixtyFour, "a PTE    ");
  line("mmu_update, batch of 64 PTEs (per call)", sixtyFour * 64, "a call   ");
  line("pin + unpin of an L1", pin, "a pair   ");
  out("  the soak (random hypercalls, hostile ones too, recount after each): npm run soak");
}
