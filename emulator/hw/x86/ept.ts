// SPDX-License-Identifier: MIT
//
// EPT slots. Entries built through EPT are tagged with the EP4TA (the EPT
// PML4 address) of the EPTP they were built with (SDM Vol.3C 29.4.1). Rather
// than 40 bits in every entry, each CPU keeps a small table of EP4TAs and
// entries carry the slot index; reusing a slot first invalidates whatever is
// tagged with it, which the architecture permits at any time.

import { C } from "../cpu";
import { CPU_EPTP, CPU_EPT_SLOTS, CPU_EPT_NEXT, CPU_EPT_FLOORS, EPT_SLOTS } from "../layout";
import { raiseFloorAt } from "../tlb/floors";

/** EPTP bits 51:12, the EP4TA. */
export const EPTP_ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;

/** A slot holds the EP4TA with bit 0 set, so that an empty (zero) slot matches nothing. */
const SLOT_VALID: u64 = 1;

/** The slot of an EP4TA, allocating one (and flushing its previous tenant) when absent. */
export function eptSlotOf(ep4ta: u64): u32 {
  const found = findEptSlot(ep4ta);
  if (found) return found;
  let next = load<u32>(C + CPU_EPT_NEXT);
  if (next < 1 || next >= EPT_SLOTS) next = 1;
  store<u32>(C + CPU_EPT_NEXT, next + 1);
  store<u64>(C + CPU_EPT_SLOTS + (next << 3), ep4ta | SLOT_VALID);
  raiseFloorAt(CPU_EPT_FLOORS + (next << 2));
  return next;
}

/** The slot of the EP4TA already in a slot, or 0. */
export function findEptSlot(ep4ta: u64): u32 {
  for (let slot: u32 = 1; slot < EPT_SLOTS; slot++) {
    if (load<u64>(C + CPU_EPT_SLOTS + (slot << 3)) == (ep4ta | SLOT_VALID)) return slot;
  }
  return 0;
}

/** The EPT slot of the CPU's EPTP, or 0 when EPT is off (EPTP = 0). */
export function currentEptSlot(): u32 {
  const eptp = load<u64>(C + CPU_EPTP);
  return eptp == 0 ? 0 : eptSlotOf(eptp & EPTP_ADDR_MASK);
}
