// SPDX-License-Identifier: MIT
//
// The HVM hypercall surface (issue 18): a hostile HVM guest's VMCALLs, MSR
// accesses and CPUID leaves, thrown straight at the hypercall layer
// (hypervisor/x86/hvm/) over a sparse guest-physical memory
// (test/hypervisor/hvm/fake-guest.ts), as the HVM host hands them over. A
// case is a domain of 1 to 200 vCPUs with a random GPA width and a seeded
// sequence of up to 80 actions:
//
//   - Viridian flush hypercalls (EAX bit 31 set), well formed or spoiled in
//     exactly one way (test/hypervisor/hvm/calls.ts), and wholly random ones;
//   - Xen hypercalls: hvm_op with HVMOP_flush_tlbs and a NULL or other
//     handle, other hvm_ops, other numbers; and either ABI from CPL 1 to 3;
//   - writes and reads of the synthetic MSRs 0x40000000..0x400001ff;
//   - CPUID leaves around 0x40000000.
//
// After every action (kinds of failure as the harness names them):
//
//   stack-trace   a JavaScript exception escaped the layer
//   exit-status   a status or errno the layer does not define, or not the
//                 one the registers decide (a spoil's status; hvm_op's 0,
//                 -EINVAL or -ENOSYS; -EPERM above CPL 0); a flush asked for
//                 on a failure, or naming a VP outside the domain or a
//                 non-canonical page; guest memory changed by a hypercall;
//                 an MSR that does not read back what the TLFS says it holds;
//                 a hypercall page that is not Xen's code; a CPUID leaf
//                 without the remote-flush recommendation or the VP count
//
// One case in ten instead boots a guest generated for it under `run --hv
// --hvm` and makes its hypercalls from there (hvm-run.ts), with RAX checked
// against this layer's answer.
//
// A failure gives the action, its registers and the actions before it; it
// reruns alone with `npm run fuzz -- --surface hvm-hypercalls --seed S --from
// I --cases 1`, or in a test as hvmHypercallSurface.run(Random.forCase(S,
// "hvm-hypercalls", I)).

import { createHash } from "node:crypto";
import { HV_STATUS_NAMES, HV_STATUS_SUCCESS, HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_X64_MSR_HYPERCALL_ENABLE, HV_X64_MSR_VP_INDEX, HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED } from "../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { hvmHypercall, type HvmHypercallOutcome, type HvmHypercallRegs } from "../../hypervisor/x86/hvm/hvm-op.ts";
import { cpuidViridianLeaves, hypercallPage, newViridianDomain, rdmsrViridian, wrmsrViridian, type ViridianDomain } from "../../hypervisor/x86/hvm/viridian.ts";
import { buildFlushCall, FLUSH_CALL_CODES, SPOILS, type FlushCallChoices } from "../hypervisor/hvm/calls.ts";
import { fakeGuest, type FakeGuest } from "../hypervisor/hvm/fake-guest.ts";
import { type CaseResult, type Surface, Random } from "./harness.ts";
import { hvmRunCase } from "./hvm-run.ts";

const BLOCK_PAGES = [0x4000n, 0x5000n];
const READ_ONLY_PAGE = 0x6000n;
const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** A 64-bit value a boundary check might get wrong, or a random one. */
function word(r: Random): bigint {
  if (r.chance(0.5)) return r.interesting();
  return (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32));
}

function gva(r: Random): bigint {
  switch (r.int(3)) {
    case 0:
      return word(r) & ((1n << 47n) - 1n);
    case 1:
      return 0xffff_8000_0000_0000n | (word(r) & ((1n << 47n) - 1n));
    default:
      return word(r);
  }
}

export function flushChoices(r: Random): FlushCallChoices {
  return {
    code: r.pick(FLUSH_CALL_CODES),
    reps: 1 + r.int(12),
    start: r.int(1000),
    offset: r.int(201),
    flags: BigInt(r.int(8)),
    mask: word(r),
    sparse: r.chance(0.7),
    banksMask: r.chance(0.7) ? BigInt(r.int(8)) : word(r),
    bankWords: Array.from({ length: 64 }, () => word(r)),
    gvas: Array.from({ length: 12 }, () => gva(r)),
    spoil: r.chance(0.4) ? null : r.pick(SPOILS),
    junk: word(r),
  };
}

/** Every mapped page's contents, hashed: what a hypercall must leave as it was. */
function memoryHash(g: FakeGuest): string {
  const h = createHash("sha1");
  for (const [p, bytes] of [...g.pages].sort(([a], [b]) => (a < b ? -1 : 1))) h.update(`${p}:`).update(bytes);
  return h.digest("hex");
}

interface Action {
  readonly what: string;
  /** A message when the answer is wrong. */
  run(): string | undefined;
}

/** A VMCALL with these registers; `expect` is the status or errno the registers decide, if they do. */
function vmcall(g: FakeGuest, regs: HvmHypercallRegs, expect: string | undefined, what: string): Action {
  return {
    what: `${what} [rax ${hex(regs.rax)} rcx ${hex(regs.rcx)} rdx ${hex(regs.rdx)} rdi ${hex(regs.rdi)} rsi ${hex(regs.rsi)} cpl ${regs.cpl}]`,
    run() {
      const before = memoryHash(g);
      const o = hvmHypercall(regs, g);
      if (memoryHash(g) !== before) return "a hypercall changed guest memory";
      return checkOutcome(o, g, expect);
    },
  };
}

function checkOutcome(o: HvmHypercallOutcome, g: FakeGuest, expect: string | undefined): string | undefined {
  const known = o.abi === "viridian" && o.resultName !== "-EPERM" ? Object.values(HV_STATUS_NAMES) : ["0", "-EINVAL", "-ENOSYS", "-EPERM"];
  if (!known.includes(o.resultName)) return `the result ${o.resultName} is none this layer defines`;
  if (expect !== undefined && o.resultName !== expect) return `the result is ${o.resultName}; the registers decide ${expect}${o.why ? ` (${o.why})` : ""}`;
  const success = o.resultName === "0" || o.resultName === HV_STATUS_NAMES[HV_STATUS_SUCCESS];
  if (!success && o.flush) return "a refused call asks for a flush";
  if (success && o.abi === "viridian" && !o.flush) return "a successful flush call asks for no flush";
  if (o.flush) {
    if (!o.flush.vps.every((vp, i) => vp >= 0 && vp < g.vcpuCount && (i === 0 || vp > o.flush!.vps[i - 1]!))) return `the flush names VPs ${o.flush.vps.join(",")} of a ${g.vcpuCount}-vCPU domain`;
    const canonical = (a: bigint) => a < 1n << 47n || (a >= 0xffff_8000_0000_0000n && a < 1n << 64n);
    for (const range of o.flush.addresses === "all" ? [] : o.flush.addresses) {
      const last = range.va + BigInt(range.pages - 1) * 4096n;
      if (range.pages < 1 || range.pages > 4096 || !canonical(range.va) || !canonical(last)) return `the flush names the range ${hex(range.va)} + ${range.pages} pages`;
    }
  }
  return undefined;
}

/** One action drawn from r. */
function action(r: Random, g: FakeGuest, d: ViridianDomain): Action {
  const base = { rax: 0n, rcx: word(r), rdx: word(r), rsi: 0n, rdi: 0n, r8: word(r), r10: word(r), cpl: 0 };
  // EAX bit 31 marks Viridian; the other bits of RAX are whatever the guest left there.
  const viridianRax = () => 0x8000_0000n | (r.chance(0.7) ? 0n : word(r));
  switch (r.int(10)) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const c = buildFlushCall(flushChoices(r), r.pick(BLOCK_PAGES));
      c.words.forEach((w, i) => g.writeGuestPhys((c.gpa & ~7n) + 8n * BigInt(i), u64Bytes(w)));
      const expect = c.expect === undefined ? undefined : HV_STATUS_NAMES[c.expect];
      return vmcall(g, { ...base, rax: viridianRax(), rcx: c.rcx, rdx: c.gpa }, expect, "Viridian flush");
    }
    case 4:
      return vmcall(g, { ...base, rax: viridianRax(), rdx: r.chance(0.5) ? r.pick([...BLOCK_PAGES, READ_ONLY_PAGE]) + BigInt(r.int(4096)) : base.rdx }, undefined, "Viridian, any input");
    case 5: {
      const op = r.chance(0.6) ? 5n : word(r);
      const arg = r.chance(0.6) ? 0n : word(r);
      // A number with bits above 34 in RAX's upper half is not hvm_op: the whole of RAX is the number.
      const rax = r.chance(0.8) ? 34n : 34n | (BigInt(1 + r.int(2 ** 31)) << 32n);
      const expect = rax !== 34n || op !== 5n ? "-ENOSYS" : arg === 0n ? "0" : "-EINVAL";
      return vmcall(g, { ...base, rax, rdi: op, rsi: arg }, expect, "hvm_op");
    }
    case 6: {
      const nr = word(r) & ~0x8000_0000n;
      return vmcall(g, { ...base, rax: nr, rdi: 5n }, nr === 34n ? "0" : "-ENOSYS", "Xen hypercall");
    }
    case 7:
      return vmcall(g, { ...base, rax: r.chance(0.5) ? 34n : viridianRax(), rdi: 5n, cpl: 1 + r.int(3) }, "-EPERM", "hypercall from user mode");
    case 8:
      return msrAction(r, g, d);
    default:
      return cpuidAction(r, g, d);
  }
}

const u64Bytes = (w: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, w), true);
  return b;
};

function msrAction(r: Random, g: FakeGuest, d: ViridianDomain): Action {
  const msr = r.chance(0.8) ? r.pick([HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_X64_MSR_VP_INDEX]) : 0x4000_0000 + r.int(0x200);
  const page = r.pick([...BLOCK_PAGES, READ_ONLY_PAGE, 0x7000n, 1n << 50n]);
  const value = msr === HV_X64_MSR_HYPERCALL && r.chance(0.7) ? page | BigInt(r.int(4096)) : word(r);
  g.vpIndex = r.int(g.vcpuCount);
  return {
    what: `wrmsr ${hex(msr)} ${hex(value)} then rdmsr by VP ${g.vpIndex}`,
    run() {
      const osIdBefore = d.guestOsId;
      const w = wrmsrViridian(msr, value, d, g);
      const rd = rdmsrViridian(msr, d, g);
      if (!w || !rd) return "a synthetic MSR was left to the host";
      if (msr === HV_X64_MSR_VP_INDEX) return w.kind === "gp" && rd.kind === "ok" && rd.value === BigInt(g.vpIndex) ? undefined : "HV_X64_MSR_VP_INDEX is not a read-only VP index";
      if (msr === HV_X64_MSR_GUEST_OS_ID) return w.kind === "ok" && rd.kind === "ok" && rd.value === value ? undefined : "HV_X64_MSR_GUEST_OS_ID does not read back";
      if (msr !== HV_X64_MSR_HYPERCALL) return w.kind === "gp" && rd.kind === "gp" ? undefined : `the unimplemented MSR ${hex(msr)} did not #GP`;
      const gpa = value & ~0xfffn;
      if (gpa >> BigInt(g.physAddrBits) !== 0n) return w.kind === "gp" ? undefined : "a hypercall page beyond the GPA space did not #GP";
      const enabled = osIdBefore !== 0n && (value & HV_X64_MSR_HYPERCALL_ENABLE) !== 0n;
      const stored = enabled ? value : value & ~HV_X64_MSR_HYPERCALL_ENABLE;
      if (rd.kind !== "ok" || rd.value !== stored) return `HV_X64_MSR_HYPERCALL reads ${rd.kind === "ok" ? hex(rd.value) : "#GP"}, not ${hex(stored)}`;
      const writable = g.pages.has(gpa / 4096n) && gpa !== READ_ONLY_PAGE;
      if (enabled && writable) {
        const bytes = g.readGuestPhys(gpa, 4096);
        if (!bytes || !bytes.every((b, i) => b === hypercallPage()[i])) return `the hypercall page at ${hex(gpa)} is not Xen's code`;
      }
      if (enabled && !writable && !(w.kind === "ok" && w.warning)) return "no warning that the hypercall page could not be written";
      return undefined;
    },
  };
}

function cpuidAction(r: Random, g: FakeGuest, d: ViridianDomain): Action {
  const leaf = r.chance(0.8) ? 0x4000_0000 + r.int(8) : r.pick([0x3fff_ffff, 0x4000_00ff, 0x4000_0100, r.int(2 ** 32)]);
  return {
    what: `cpuid ${hex(leaf)}`,
    run() {
      const l = cpuidViridianLeaves(leaf, d, g);
      const ours = leaf >= 0x4000_0000 && leaf <= 0x4000_00ff;
      if (!l !== !ours) return `leaf ${hex(leaf)} ${ours ? "is not answered" : "is answered"} by the Viridian layer`;
      if (leaf === 0x4000_0000 && !(l!.eax >= 0x4000_0005)) return `the highest leaf is ${hex(l!.eax)}`;
      if (leaf === 0x4000_0004 && !(l!.eax & HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED)) return "no HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED";
      if (leaf === 0x4000_0005 && l!.eax !== g.vcpuCount) return `the VP limit is ${l!.eax}, not the ${g.vcpuCount} vCPUs`;
      return undefined;
    },
  };
}

/** Runs one case: a failure, or nothing. The sequence is a pure function of the Random, so a failure replays exactly. */
export function runHvmHypercallCase(r: Random): CaseResult {
  const g = fakeGuest(r.chance(0.2) ? 1 + r.int(200) : 1 + r.int(8), 0, r.pick([36, 39, 46, 52]));
  for (const p of [...BLOCK_PAGES, READ_ONLY_PAGE]) g.map(p);
  g.readOnly(READ_ONLY_PAGE);
  const d = newViridianDomain();
  const actions = 1 + r.int(80);
  const log: string[] = [];
  for (let i = 0; i < actions; i++) {
    const a = action(r, g, d);
    log.push(a.what);
    let wrong: string | undefined;
    try {
      wrong = a.run();
    } catch (e) {
      const message = e instanceof Error ? `${e.message} ${(e.stack ?? "").split("\n").slice(1, 3).map((s) => s.trim()).join(" | ")}` : String(e);
      return { failure: "stack-trace", detail: `action ${i + 1} of ${actions}: ${a.what}: ${message}` };
    }
    if (wrong) return { failure: "exit-status", detail: `action ${i + 1} of ${actions}: ${a.what}: ${wrong}${log.length > 1 ? ` [actions before: ${log.slice(-4, -1).join(" ; ")}]` : ""}` };
  }
  return {};
}

export const hvmHypercallSurface: Surface = {
  name: "hvm-hypercalls",
  run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
    // One case in ten makes its calls from a guest on a running HVM domain instead (hvm-run.ts).
    if (r.chance(0.1)) return hvmRunCase(r, scratch, flushChoices);
    return Promise.resolve(runHvmHypercallCase(r));
  },
};
