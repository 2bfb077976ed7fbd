// SPDX-License-Identifier: MIT
//
// The hypercall entry (VMCALL: number in RAX, arguments in RDI, RSI, RDX,
// R10, R8; result in RAX) and the small hypercalls: multicall, console_io,
// vcpu_op, sched_op, xen_version. Anything else is -ENOSYS.

import { E2BIG, EFAULT, EEXIST, EINVAL, ENOENT, ENOSYS } from "../common/errno.ts";
import { PGT } from "../common/frame-table.ts";
import type { VCpu } from "../common/domain.ts";
import type { Routine } from "../common/routine.ts";
import { copyFromGuest, copyToGuest } from "./guest-access.ts";
import type { Cpu } from "./hypervisor.ts";
import { doMemoryOp } from "./memory-op.ts";
import { doMmuextOp, doMmuUpdate, doUpdateVaMapping } from "./mmu.ts";
import { getPageFromMfn, putPage } from "./page-ref.ts";
import { getPageType } from "./page-type.ts";
import {
  CONSOLEIO_read,
  CONSOLEIO_write,
  CPU_USER_REGS,
  HYPERCALL_NAMES,
  HYPERVISOR,
  MULTICALL_ENTRY,
  SCHED_SHUTDOWN_SIZE,
  SCHEDOP,
  SHUTDOWN,
  VCPU_GUEST_CONTEXT,
  VCPUOP,
  XEN_VERSION,
  XENVER_version,
} from "./public.ts";

const u32 = (v: bigint | undefined) => Number((v ?? 0n) & 0xffff_ffffn);

/** The hypercall entry: dispatches, counts the result, and returns RAX (a negative errno as two's complement). */
export function* hypercall(c: Cpu, nr: bigint, args: readonly bigint[]): Routine<bigint> {
  const rc = yield* dispatch(c, nr, args, false);
  c.hv.stats.hypercall(HYPERCALL_NAMES[Number(nr)] ?? "unknown", Number(rc));
  return BigInt.asUintN(64, BigInt(rc));
}

/** A hypercall's result: an errno or a count, a bigint where it may be wider than a double holds (memory_op's start_extent). */
function* dispatch(c: Cpu, nr: bigint, a: readonly bigint[], inMulticall: boolean): Routine<number | bigint> {
  const a0 = a[0] ?? 0n;
  const a1 = a[1] ?? 0n;
  const a2 = a[2] ?? 0n;
  const a3 = a[3] ?? 0n;
  // The number as a double (no bigint made per case); any number past the table is none of them.
  switch (nr < 64n ? Number(nr) : -1) {
    case HYPERVISOR.mmu_update:
      return yield* doMmuUpdate(c, a0, u32(a1), a2, u32(a3));
    case HYPERVISOR.mmuext_op:
      return yield* doMmuextOp(c, a0, u32(a1), a2, u32(a3));
    case HYPERVISOR.update_va_mapping:
      return yield* doUpdateVaMapping(c, a0, a1, a2);
    case HYPERVISOR.memory_op:
      return yield* doMemoryOp(c, a0, a1);
    case HYPERVISOR.multicall:
      return yield* doMulticall(c, a0, u32(a1), inMulticall);
    case HYPERVISOR.console_io:
      return yield* doConsoleIo(c, u32(a0), u32(a1), a2);
    case HYPERVISOR.vcpu_op:
      return yield* doVcpuOp(c, u32(a0), u32(a1), a2);
    case HYPERVISOR.sched_op:
      return yield* doSchedOp(c, u32(a0), a1);
    case HYPERVISOR.xen_version:
      return u32(a0) === XENVER_version ? (XEN_VERSION.major << 16) | XEN_VERSION.minor : -ENOSYS;
    default:
      return -ENOSYS;
  }
}

/**
 * do_multicall: runs each entry's hypercall and writes its result into the
 * entry; a failing entry does not stop the others. A multicall inside a
 * multicall is -EINVAL.
 */
function* doMulticall(c: Cpu, list: bigint, nr: number, inMulticall: boolean): Routine<number> {
  if (inMulticall) return -EINVAL;
  for (let i = 0; i < nr; i++) {
    const at = list + BigInt(i * MULTICALL_ENTRY.SIZE);
    const entry = yield* copyFromGuest(c, at, MULTICALL_ENTRY.SIZE);
    if (!entry) return -EFAULT;
    const v = new DataView(entry.buffer);
    const args = Array.from({ length: 6 }, (_, k) => v.getBigUint64(MULTICALL_ENTRY.ARGS + 8 * k, true));
    const op = v.getBigUint64(MULTICALL_ENTRY.OP, true);
    const rc = yield* dispatch(c, op, args, true);
    c.hv.stats.hypercall(`multicall:${HYPERCALL_NAMES[Number(op)] ?? "unknown"}`, Number(rc));
    const result = new Uint8Array(8);
    new DataView(result.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(rc)), true);
    if (!(yield* copyToGuest(c, at + BigInt(MULTICALL_ENTRY.RESULT), result))) return -EFAULT;
  }
  return 0;
}

/**
 * do_console_io: CONSOLEIO_write hands the bytes to the console callback (in
 * Xen's 127-byte chunks); there is no input, but a read count that would
 * overlap the errnos ((int)count < 0) is -E2BIG first, as in Xen.
 */
function* doConsoleIo(c: Cpu, cmd: number, count: number, buffer: bigint): Routine<number> {
  if (cmd === CONSOLEIO_read) return (count | 0) < 0 ? -E2BIG : 0;
  if (cmd !== CONSOLEIO_write) return -ENOSYS;
  for (let done = 0; done < count; ) {
    const n = Math.min(127, count - done);
    const bytes = yield* copyFromGuest(c, buffer + BigInt(done), n);
    if (!bytes) return -EFAULT;
    c.hv.callbacks.console?.(c.d, bytes);
    done += n;
  }
  return 0;
}

/** do_vcpu_op: initialise, up, down, is_up on a vCPU of the caller's domain. */
function* doVcpuOp(c: Cpu, cmd: number, vcpuid: number, arg: bigint): Routine<number> {
  const d = c.d;
  const v = d.vcpus[vcpuid];
  if (!v) return -ENOENT;
  switch (cmd) {
    case VCPUOP.initialise: {
      const ctx = yield* copyFromGuest(c, arg, VCPU_GUEST_CONTEXT.SIZE);
      if (!ctx) return -EFAULT;
      if (v.initialised) return -EEXIST;
      return yield* setInfoGuest(c, v, new DataView(ctx.buffer));
    }
    case VCPUOP.up:
      if (!v.initialised) return -EINVAL;
      if (v.down) {
        v.down = false;
        c.hv.callbacks.vcpuUp?.(v);
      }
      return 0;
    case VCPUOP.down:
      // The last vCPU going down shuts the domain down (SHUTDOWN_poweroff).
      if (!d.vcpus.some((o) => o !== v && !o.down)) {
        domainShutdown(c, SHUTDOWN.poweroff);
        return 0;
      }
      if (!v.down) {
        v.down = true;
        c.hv.callbacks.vcpuDown?.(v);
      }
      return 0;
    case VCPUOP.is_up:
      return v.down ? 0 : 1;
    default:
      return -ENOSYS;
  }
}

const canonical = (va: bigint) => va < 1n << 47n || va >= 0xffff_8000_0000_0000n;
/** X86_EFLAGS_ALL without VM, which a 64-bit guest cannot set, and the must-be-set bit 1. */
const RFLAGS_GUEST = 0x003d_7fd5n;

/**
 * arch_set_info_guest, as far as this ABI honours struct vcpu_guest_context:
 * user_regs.rip, rsp, rdi, rsi, rflags and ctrlreg[3], whose L4 must be the
 * domain's and validate (-EINVAL, or get_page_type's errno).
 */
function* setInfoGuest(c: Cpu, v: VCpu, ctx: DataView): Routine<number> {
  const reg = (off: number) => ctx.getBigUint64(VCPU_GUEST_CONTEXT.USER_REGS + off, true);
  const rip = reg(CPU_USER_REGS.RIP);
  const rsp = reg(CPU_USER_REGS.RSP);
  if (!canonical(rip) || !canonical(rsp)) return -EINVAL;
  const cr3 = ctx.getBigUint64(VCPU_GUEST_CONTEXT.CTRLREG + 3 * 8, true);
  const page = yield* getPageFromMfn(c, cr3 >> 12n, c.d);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, PGT.l4);
  if (rc) {
    yield* putPage(c, page);
    return rc;
  }
  v.guestTable = page.mfn;
  v.context = { rip, rsp, rdi: reg(CPU_USER_REGS.RDI), rsi: reg(CPU_USER_REGS.RSI), rflags: (reg(CPU_USER_REGS.RFLAGS) & RFLAGS_GUEST) | 2n, cr3: BigInt(page.mfn) << 12n };
  v.initialised = true;
  return 0;
}

/** domain_shutdown. */
function domainShutdown(c: Cpu, reason: number): void {
  c.d.shutdownReason = reason;
  c.hv.callbacks.shutdown?.(c.d, reason);
}

/** do_sched_op: yield, block, shutdown. */
function* doSchedOp(c: Cpu, cmd: number, arg: bigint): Routine<number> {
  switch (cmd) {
    case SCHEDOP.yield:
      c.hv.callbacks.yield?.(c.vcpu);
      return 0;
    case SCHEDOP.block:
      c.vcpu.blocked = true;
      c.hv.callbacks.block?.(c.vcpu);
      return 0;
    case SCHEDOP.shutdown: {
      const b = yield* copyFromGuest(c, arg, SCHED_SHUTDOWN_SIZE);
      if (!b) return -EFAULT;
      domainShutdown(c, b[0]!);
      return 0;
    }
    default:
      return -ENOSYS;
  }
}
