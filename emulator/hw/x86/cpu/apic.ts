// SPDX-License-Identifier: MIT
//
// The local APIC in x2APIC mode (SDM Vol.3A 11.12): registers as MSRs
// 0x800–0x8FF. Fixed-delivery IPIs with physical destinations and the
// self / all / all-but-self shorthands; the LVT timer, one-shot and
// periodic, counting the CPU's modelled cycles; EOI, TPR and PPR; IRR and ISR
// as 256-bit vectors.
//
// A CPU's APIC lives in its CPU block, so an IPI sets bits directly in the
// destination's block (every CPU's block is reachable from any CPU): the
// destination takes it at its next instruction boundary with IF=1, when the
// scheduler next runs it.

import { C, selectedCpu, cpuCount, count } from "../../cpu";
import {
  cpuBlocks, CPU_SIZE, X86_APIC_ID, X86_APIC_SVR, X86_APIC_TPR, X86_APIC_LVT_TIMER, X86_APIC_INIT_COUNT,
  X86_APIC_DIVIDE, X86_APIC_ESR, X86_APIC_LVT_OTHER, X86_APIC_DEADLINE, X86_APIC_STARTED, X86_APIC_ICR,
  X86_APIC_IRR, X86_APIC_ISR, X86_APIC_FROM_IPI, X86_EVENTS, X86_CYCLES, CNT_IPI_SENT,
} from "../../layout";

export const APIC_BASE_ADDRESS: u64 = 0xFEE0_0000;
/** IA32_APIC_BASE: BSP (bit 8), x2APIC enable EXTD (bit 10), global enable EN (bit 11). */
export const APIC_BASE_BSP: u64 = 1 << 8;
export const APIC_BASE_EXTD: u64 = 1 << 10;
export const APIC_BASE_EN: u64 = 1 << 11;

const LVT_MASKED: u32 = 1 << 16;
const TIMER_PERIODIC: u32 = 1 << 17;
const NO_DEADLINE: u64 = u64.MAX_VALUE;

/** What an MSR access returned: ok, or #GP (unknown register, read-only, reserved bits). */
export let apicFault = false;

// ── 256-bit vectors ──────────────────────────────────────────────────────────

@inline function setBit(block: usize, field: u32, v: u32): void {
  const p = block + field + ((<usize>v >> 5) << 2);
  store<u32>(p, load<u32>(p) | (1 << (v & 31)));
}

@inline function clearBit(block: usize, field: u32, v: u32): void {
  const p = block + field + ((<usize>v >> 5) << 2);
  store<u32>(p, load<u32>(p) & ~(1 << (v & 31)));
}

@inline export function testBit(block: usize, field: u32, v: u32): bool {
  return ((load<u32>(block + field + ((<usize>v >> 5) << 2)) >> (v & 31)) & 1) != 0;
}

/** The highest set vector of a 256-bit field, or -1. */
export function highest(block: usize, field: u32): i32 {
  for (let w: i32 = 7; w >= 0; w--) {
    const word = load<u32>(block + field + (<usize>w << 2));
    if (word) return (w << 5) + 31 - <i32>clz(word);
  }
  return -1;
}

// ── Priorities ───────────────────────────────────────────────────────────────

/** Processor priority: the higher of TPR and the class of the highest vector in service (SDM Vol.3A 11.8.3.1). */
export function ppr(): u32 {
  const tpr = load<u32>(C + X86_APIC_TPR) & 0xFF;
  const isr = highest(C, X86_APIC_ISR);
  const isrClass: u32 = isr < 0 ? 0 : <u32>isr & 0xF0;
  return (tpr & 0xF0) >= isrClass ? tpr : isrClass;
}

/** The vector to deliver now, if any: the highest requested whose class is above the processor priority. */
export function deliverable(): i32 {
  const v = highest(C, X86_APIC_IRR);
  if (v < 0) return -1;
  return (<u32>v & 0xF0) > (ppr() & 0xF0) ? v : -1;
}

/** Moves a vector from requested to in service; true when an IPI requested it. */
export function acknowledge(v: u32): bool {
  clearBit(C, X86_APIC_IRR, v);
  setBit(C, X86_APIC_ISR, v);
  const fromIpi = testBit(C, X86_APIC_FROM_IPI, v);
  if (fromIpi) clearBit(C, X86_APIC_FROM_IPI, v);
  return fromIpi;
}

/** Requests a vector on a CPU (an IPI, a device, the timer) and makes it look at its APIC. */
export function request(cpu: u32, v: u32, fromIpi: bool): void {
  const block = cpuBlocks + <usize>cpu * CPU_SIZE;
  // Vectors 0–15 are not deliverable through the APIC; they are dropped (the ESR would say "illegal vector").
  if (v < 16) return;
  setBit(block, X86_APIC_IRR, v);
  if (fromIpi) setBit(block, X86_APIC_FROM_IPI, v);
  store<u32>(block + X86_EVENTS, 1);
}

// ── The timer ────────────────────────────────────────────────────────────────

function divisor(): u64 {
  const dcr = load<u32>(C + X86_APIC_DIVIDE);
  const code = (dcr & 3) | ((dcr >> 1) & 4);
  return code == 7 ? 1 : <u64>2 << <u64>code;
}

/** The cycle at which the timer fires next (~0 when it does not). */
@inline export function timerDeadline(): u64 {
  return load<u64>(C + X86_APIC_DEADLINE);
}

function startTimer(): void {
  const init = <u64>load<u32>(C + X86_APIC_INIT_COUNT);
  const now = load<u64>(C + X86_CYCLES);
  store<u64>(C + X86_APIC_STARTED, now);
  store<u64>(C + X86_APIC_DEADLINE, init == 0 ? NO_DEADLINE : now + init * divisor());
}

/** Called when the cycle count reaches the deadline: requests the timer's vector, re-arms a periodic timer. */
export function timerFired(): void {
  const lvt = load<u32>(C + X86_APIC_LVT_TIMER);
  if (lvt & TIMER_PERIODIC) {
    const period = <u64>load<u32>(C + X86_APIC_INIT_COUNT) * divisor();
    const deadline = load<u64>(C + X86_APIC_DEADLINE) + period;
    store<u64>(C + X86_APIC_STARTED, deadline - period);
    store<u64>(C + X86_APIC_DEADLINE, period == 0 ? NO_DEADLINE : deadline);
  } else {
    store<u64>(C + X86_APIC_DEADLINE, NO_DEADLINE);
  }
  if (!(lvt & LVT_MASKED)) request(selectedCpu, lvt & 0xFF, false);
}

function currentCount(): u32 {
  const deadline = load<u64>(C + X86_APIC_DEADLINE);
  if (deadline == NO_DEADLINE) return 0;
  const now = load<u64>(C + X86_CYCLES);
  return deadline <= now ? 0 : <u32>((deadline - now) / divisor());
}

// ── IPIs ─────────────────────────────────────────────────────────────────────

/** ICR write: fixed delivery to a physical destination or a shorthand (SDM Vol.3A 11.12.9). */
function sendIpi(icr: u64): void {
  const vector = <u32>icr & 0xFF;
  const mode = (<u32>icr >> 8) & 7;
  const shorthand = (<u32>icr >> 18) & 3;
  const dest = <u32>(icr >> 32);
  // Only fixed delivery (mode 0) is modelled; others are ignored.
  if (mode != 0) return;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    const take = shorthand == 0 ? cpu == dest || dest == 0xFFFF_FFFF
      : shorthand == 1 ? cpu == selectedCpu
      : shorthand == 2 ? true
      : cpu != selectedCpu;
    if (!take) continue;
    request(cpu, vector, true);
    count(CNT_IPI_SENT);
  }
}

// ── Registers ────────────────────────────────────────────────────────────────

/** Reads x2APIC register MSR 0x800 + r; sets apicFault for one that cannot be read. */
export function apicRead(msr: u32): u64 {
  apicFault = false;
  switch (msr) {
    case 0x802: return <u64>load<u32>(C + X86_APIC_ID);
    case 0x803: return 0x0005_0014;
    case 0x808: return <u64>load<u32>(C + X86_APIC_TPR);
    case 0x80A: return <u64>ppr();
    case 0x80D: return <u64>load<u32>(C + X86_APIC_ID);
    case 0x80F: return <u64>load<u32>(C + X86_APIC_SVR);
    case 0x828: return <u64>load<u32>(C + X86_APIC_ESR);
    case 0x830: return load<u64>(C + X86_APIC_ICR);
    case 0x832: return <u64>load<u32>(C + X86_APIC_LVT_TIMER);
    case 0x833:
    case 0x834:
    case 0x835:
    case 0x836:
    case 0x837:
      return <u64>load<u32>(C + X86_APIC_LVT_OTHER);
    case 0x838: return <u64>load<u32>(C + X86_APIC_INIT_COUNT);
    case 0x839: return <u64>currentCount();
    case 0x83E: return <u64>load<u32>(C + X86_APIC_DIVIDE);
  }
  if (msr >= 0x810 && msr <= 0x817) return <u64>load<u32>(C + X86_APIC_ISR + ((msr - 0x810) << 2));
  if (msr >= 0x820 && msr <= 0x827) return <u64>load<u32>(C + X86_APIC_IRR + ((msr - 0x820) << 2));
  if (msr >= 0x818 && msr <= 0x81F) return 0;
  apicFault = true;
  return 0;
}

/** Writes x2APIC register MSR 0x800 + r; sets apicFault for a read-only or unknown one. */
export function apicWrite(msr: u32, value: u64): void {
  apicFault = false;
  const v32 = <u32>value;
  switch (msr) {
    case 0x808:
      store<u32>(C + X86_APIC_TPR, v32 & 0xFF);
      store<u32>(C + X86_EVENTS, 1);
      return;
    case 0x80B: {
      // EOI: the highest vector in service is done.
      const v = highest(C, X86_APIC_ISR);
      if (v >= 0) clearBit(C, X86_APIC_ISR, <u32>v);
      store<u32>(C + X86_EVENTS, 1);
      return;
    }
    case 0x80F:
      store<u32>(C + X86_APIC_SVR, v32 & 0x11FF);
      return;
    case 0x828:
      store<u32>(C + X86_APIC_ESR, 0);
      return;
    case 0x830:
      store<u64>(C + X86_APIC_ICR, value);
      sendIpi(value);
      return;
    case 0x832:
      store<u32>(C + X86_APIC_LVT_TIMER, v32 & 0x700FF);
      return;
    case 0x833:
    case 0x834:
    case 0x835:
    case 0x836:
    case 0x837:
      store<u32>(C + X86_APIC_LVT_OTHER, v32);
      return;
    case 0x838:
      store<u32>(C + X86_APIC_INIT_COUNT, v32);
      startTimer();
      return;
    case 0x83E:
      store<u32>(C + X86_APIC_DIVIDE, v32 & 0xB);
      return;
    case 0x83F:
      // SELF IPI.
      request(selectedCpu, v32 & 0xFF, true);
      count(CNT_IPI_SENT);
      return;
  }
  apicFault = true;
}

/** The APIC after reset: its ID, the timer stopped, nothing requested or in service. */
export function apicReset(cpu: u32): void {
  store<u32>(C + X86_APIC_ID, cpu);
  store<u32>(C + X86_APIC_SVR, 0xFF);
  store<u32>(C + X86_APIC_TPR, 0);
  store<u32>(C + X86_APIC_LVT_TIMER, LVT_MASKED);
  store<u32>(C + X86_APIC_LVT_OTHER, LVT_MASKED);
  store<u32>(C + X86_APIC_INIT_COUNT, 0);
  store<u32>(C + X86_APIC_DIVIDE, 0);
  store<u64>(C + X86_APIC_DEADLINE, NO_DEADLINE);
  memory.fill(C + X86_APIC_IRR, 0, 96);
}
