// SPDX-License-Identifier: MIT
//
// Instruction fetch. The CPU keeps a fetch window: the 4 KiB page RIP is
// in, translated once for an instruction fetch at the current privilege
// (with XD, SMEP, U/S and protection-key rules applied by the MMU), with its
// physical and host addresses. The window stays valid until RIP leaves the
// page, the privilege changes, or any TLB invalidation (which starts a new
// micro-TLB epoch) could have changed the mapping.

import { C } from "../../cpu";
import {
  X86_FETCH_VA, X86_FETCH_PA, X86_FETCH_HOST, X86_FETCH_EPOCH, X86_FETCH_KIND, CPU_MICRO_EPOCH,
} from "../../layout";
import { translate } from "../translate";
import { XLATE_FAILED } from "../../tlb/micro";
import { physHost } from "../../phys/ram";
import { ACC_FETCH, ACC_USER } from "../paging/permissions";
import { raiseTranslation, raiseBus } from "./fault";
import { cpl } from "./state";

/** The access kind of an instruction fetch at the current privilege. */
@inline export function fetchKind(): u32 {
  return cpl() == 3 ? ACC_FETCH | ACC_USER : ACC_FETCH;
}

/** Makes the window no longer match any RIP. */
export function dropFetchWindow(): void {
  store<u64>(C + X86_FETCH_VA, 1);
}

/** The physical address fetchPageHost translated to. */
let lastPa: u64 = 0;

/**
 * Host address of the instruction byte at `va`, translated for a fetch;
 * -1 with the fault raised (CR2 = va for a page fault) when it cannot be
 * fetched.
 */
export function fetchPageHost(va: u64): i64 {
  const pa = translate(va, fetchKind());
  if (pa & XLATE_FAILED) {
    raiseTranslation(<u32>pa & 0xFF, false);
    return -1;
  }
  // A whole page is in RAM or none of it is (ranges are page-aligned).
  const host = physHost(pa & ~<u64>0xFFF, 8);
  if (host < 0) {
    raiseBus(pa);
    return -1;
  }
  lastPa = pa;
  return host + <i64>(pa & 0xFFF);
}

/** Is the window valid for an instruction at `rip`? */
@inline export function windowHolds(rip: u64): bool {
  return ((rip ^ load<u64>(C + X86_FETCH_VA)) & ~<u64>0xFFF) == 0
    && load<u32>(C + X86_FETCH_EPOCH) == load<u32>(C + CPU_MICRO_EPOCH)
    && load<u32>(C + X86_FETCH_KIND) == fetchKind();
}

/** Moves the window to RIP's page; false with the fault raised when RIP cannot be fetched. */
export function refillWindow(rip: u64): bool {
  const host = fetchPageHost(rip);
  if (host < 0) return false;
  const offset = rip & 0xFFF;
  store<u64>(C + X86_FETCH_VA, rip & ~<u64>0xFFF);
  store<u64>(C + X86_FETCH_PA, lastPa - offset);
  store<u64>(C + X86_FETCH_HOST, <u64>host - offset);
  store<u32>(C + X86_FETCH_EPOCH, load<u32>(C + CPU_MICRO_EPOCH));
  store<u32>(C + X86_FETCH_KIND, fetchKind());
  return true;
}
