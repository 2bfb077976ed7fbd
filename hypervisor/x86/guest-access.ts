// SPDX-License-Identifier: MIT
//
// Hypercall arguments are guest virtual addresses (copy_from_guest,
// copy_to_guest). Xen dereferences them with the guest's page tables loaded
// and turns a fault into -EFAULT; here the hypervisor walks the vCPU's tables
// in software through machine memory (PV tables hold machine frame numbers).
// Writes need RW at every level, as Xen runs with CR0.WP set. Addresses in
// the hypervisor's hole fail before any walk (access_ok).
//
// Each access (the bytes of one page) is one step: the walk and the access
// together, as the MMU walks the tables and makes the access within one
// instruction, and neither an interrupt nor L0's forced exit comes between
// an instruction's walk and its access. The walk that may outlive a flush is
// the one that follows a failed access: spurious_page_fault's, with
// interrupts off and one step per table read (mechanisms §1.9 step 1).

import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { Cpu } from "./hypervisor.ts";
import { addrOk, pageNumberOffset, vaPageNumber, wordsMfn, _PAGE_PRESENT, _PAGE_RW } from "./pte.ts";
import { PFEC_WRITE, spuriousPageFault } from "./traps.ts";

const L_COPY_IN: StepLabel = { what: "copy_from_guest: read guest memory" };
const L_COPY_OUT: StepLabel = { what: "copy_to_guest: write guest memory" };

/** access_ok / guest_handle_okay: does [va, va + size) avoid the hypervisor's hole and not wrap? */
export function accessOk(va: bigint, size: bigint): boolean {
  if (size === 0n) return addrOk(va);
  const last = va + size - 1n;
  return last < 1n << 64n && addrOk(va) && addrOk(last);
}

const canonical = (va: bigint) => va < 1n << 47n || va >= 0xffff_8000_0000_0000n;

/** The machine address behind va as the MMU finds it now, or undefined where the access faults (no step: part of the access). */
function translate(c: Cpu, va: bigint, write: boolean): bigint | undefined {
  let mfn = c.vcpu.guestTable;
  if (!mfn || !canonical(va)) return undefined;
  const vpn = vaPageNumber(va);
  for (let level = 4; level >= 1; level--) {
    if (!c.hv.frames.valid(mfn)) return undefined;
    const words = c.hv.mem.words();
    const at = c.hv.mem.frameWord(mfn * PAGE_SIZE) + 2 * pageNumberOffset(vpn, level);
    const lo = words[at]!;
    if (!(lo & _PAGE_PRESENT) || (write && !(lo & _PAGE_RW))) return undefined;
    mfn = wordsMfn(lo, words[at + 1]!);
  }
  if (!c.hv.frames.valid(mfn)) return undefined;
  return maddr(mfn, Number(va & 0xfffn));
}

/**
 * One access to the page at va, as one step: `access` gets the machine
 * address, or the access faults (false). Where Xen's own access faults,
 * do_page_fault runs spurious_page_fault first (the fault came from
 * hypervisor context); a fault it finds spurious (the tables changed since)
 * is retried once, as the faulting instruction is.
 */
function* guestAccess(c: Cpu, va: bigint, write: boolean, label: StepLabel, access: (pa: bigint) => void): Routine<boolean> {
  yield label;
  let pa = translate(c, va, write);
  if (pa === undefined) {
    if (!c.vcpu.guestTable || !canonical(va)) return false;
    if ((yield* spuriousPageFault(c, va, write ? PFEC_WRITE : 0, c.vcpu.guestTable)) !== "spurious") return false;
    yield label;
    pa = translate(c, va, write);
    if (pa === undefined) return false;
  }
  access(pa);
  return true;
}

/** copy_from_guest: the bytes at va, or undefined on a fault. */
export function* copyFromGuest(c: Cpu, va: bigint, length: number): Routine<Uint8Array | undefined> {
  if (!accessOk(va, BigInt(length))) return undefined;
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const at = va + BigInt(done);
    const n = Math.min(length - done, PAGE_SIZE - Number(at & 0xfffn));
    if (!(yield* guestAccess(c, at, false, L_COPY_IN, (pa) => out.set(c.hv.mem.read(pa, n), done)))) return undefined;
    done += n;
  }
  return out;
}

/** copy_to_guest: writes bytes at va; false on a fault (bytes before the faulting page may have been written, as in Xen). */
export function* copyToGuest(c: Cpu, va: bigint, bytes: Uint8Array): Routine<boolean> {
  if (!accessOk(va, BigInt(bytes.length))) return false;
  for (let done = 0; done < bytes.length; ) {
    const at = va + BigInt(done);
    const n = Math.min(bytes.length - done, PAGE_SIZE - Number(at & 0xfffn));
    if (!(yield* guestAccess(c, at, true, L_COPY_OUT, (pa) => c.hv.mem.write(pa, bytes.subarray(done, done + n))))) return false;
    done += n;
  }
  return true;
}

/** A little-endian u64 from guest memory, or undefined on a fault. */
export function* readGuestU64(c: Cpu, va: bigint): Routine<bigint | undefined> {
  const b = yield* copyFromGuest(c, va, 8);
  return b && new DataView(b.buffer).getBigUint64(0, true);
}

/** Writes a little-endian u64 (or a u32 when width is 4) to guest memory; false on a fault. */
export function* writeGuestUint(c: Cpu, va: bigint, value: bigint, width: 4 | 8 = 8): Routine<boolean> {
  const b = new Uint8Array(width);
  const v = new DataView(b.buffer);
  if (width === 8) v.setBigUint64(0, BigInt.asUintN(64, value), true);
  else v.setUint32(0, Number(BigInt.asUintN(32, value)), true);
  return yield* copyToGuest(c, va, b);
}
