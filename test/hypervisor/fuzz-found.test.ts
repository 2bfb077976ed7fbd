// SPDX-License-Identifier: MIT
//
// Defects the hypercall fuzz (test/fuzz/hypercalls.ts, `npm run fuzz --
// --surface hypercalls`) found, each as the smallest call that showed it,
// with the answer Xen gives and the function that gives it. After each, the
// recount must find the frame table and the page tables in agreement.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { finish, xen } from "../../hypervisor/index.ts";
import { E2BIG, ESRCH } from "../../hypervisor/common/errno.ts";
import { expectConsistent, makeHv, put, u64s, type TestDomain, type TestHv } from "./helpers.ts";

const { HYPERVISOR, XENMEM } = xen;

let t: TestHv;
let a: TestDomain;

beforeEach(() => {
  t = makeHv();
  a = t.doms[0]!;
});
afterEach(() => expectConsistent(t.hv));

/** A hypercall's RAX, exactly (no trip through a double). */
const rax = (nr: number, ...args: bigint[]) => finish(t.hv.hypercall(a.d, a.d.vcpus[0]!, BigInt(nr), args));

describe("memory_op's start_extent", () => {
  // cmd >> MEMOP_EXTENT_SHIFT has 58 bits; do_memory_op returns it as it is when the call cannot start.
  const start = (1n << 58n) - 1n;
  const cmd = (op: number) => (start << 6n) | BigInt(op);

  it("a reservation structure it cannot read: start_extent returned exactly, not rounded to a double (do_memory_op: copy_from_guest fails)", () => {
    for (const op of [XENMEM.increase_reservation, XENMEM.decrease_reservation, XENMEM.populate_physmap]) {
      expect(rax(HYPERVISOR.memory_op, cmd(op), 0x10_0000_0000n)).toBe(start);
    }
  });

  it("start_extent at or past nr_extents: start_extent returned exactly (do_memory_op: start_extent >= nr_extents)", () => {
    const r = new Uint8Array(xen.XEN_MEMORY_RESERVATION.SIZE);
    new DataView(r.buffer).setBigUint64(xen.XEN_MEMORY_RESERVATION.NR_EXTENTS, 1n, true);
    new DataView(r.buffer).setUint16(xen.XEN_MEMORY_RESERVATION.DOMID, xen.DOMID_SELF, true);
    expect(rax(HYPERVISOR.memory_op, cmd(XENMEM.populate_physmap), put(t, a, 0x300, r))).toBe(start);
    // A start just past what a double holds exactly, too.
    expect(rax(HYPERVISOR.memory_op, ((1n << 53n) + 1n) << 6n, put(t, a, 0x300, r))).toBe((1n << 53n) + 1n);
  });
});

describe("console_io", () => {
  it("CONSOLEIO_read with a count above INT_MAX: -E2BIG, as the result would overlap the errnos (do_console_io)", () => {
    expect(rax(HYPERVISOR.console_io, 1n, 0x8000_0000n, 0n)).toBe(BigInt.asUintN(64, BigInt(-E2BIG)));
    expect(rax(HYPERVISOR.console_io, 1n, 0xffff_ffffn, 0n)).toBe(BigInt.asUintN(64, BigInt(-E2BIG)));
    // At or below INT_MAX it reads what there is: nothing.
    expect(rax(HYPERVISOR.console_io, 1n, 0x7fff_ffffn, 0n)).toBe(0n);
  });
});

describe("mmu_update's page-table owner", () => {
  it("an unknown page-table owner (foreigndom >> 16): -ESRCH, returned before the path that writes pdone (do_mmu_update)", () => {
    const pdone = put(t, a, 0x400, u64s(0x1234_5678n));
    const reqs = put(t, a, 0x100, u64s(0n, 0n));
    const foreigndom = (0x99n << 16n) | BigInt(xen.DOMID_SELF);
    expect(rax(HYPERVISOR.mmu_update, reqs, 1n, pdone, foreigndom)).toBe(BigInt.asUintN(64, BigInt(-ESRCH)));
    expect(t.mem.read64(a.scratchMa + 0x400n)).toBe(0x1234_5678n);
  });
});
