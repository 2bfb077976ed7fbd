// SPDX-License-Identifier: MIT
//
// The GICv3 of QEMU's virt machine (QEMU 7.2, `-M virt,gic-version=3`), as
// software at EL1 sees it: the distributor at 0x0800_0000, one redistributor
// per CPU from 0x080A_0000 (RD_base, then SGI_base 64 KiB above it), and the
// CPU interface as ICC_* system registers. Arm IHI0069 ("GICv3 and GICv4
// Architecture Specification") is the manual cited below.
//
// The machine has one security state (GICD_CTLR.DS = 1, affinity routing
// always on), as QEMU's virt without secure=on: group 0 interrupts would be
// signalled as FIQ and group 1 interrupts as IRQ; the CPU takes only IRQs, so
// only group 1 reaches gicPendingIrq. Every INTID resets to group 0 (QEMU
// does so for an ELF image; only a Linux kernel boot makes them group 1), so
// software must set GICR_IGROUPR0 before SGIs or the timer reach it.
//
// What is not modelled: LPIs and the ITS (GICD_TYPER.LPIS and
// GICR_TYPER.PLPIS read 0, where QEMU 7.2 says 1), message-based SPIs,
// 1-of-N SPI routing, GICv4. SPIs can be programmed and set pending by
// software (GICD_ISPENDR) and are delivered by GICD_IROUTER; no device
// raises them yet.
//
// Level-sensitive inputs (the timer PPIs) are sampled: the timer sets the
// line whenever it is given the time (timer sysreg accesses,
// gicPendingIrq), and the pending state of a level-sensitive interrupt is
// its latch OR its line, as in IHI0069 4.1.

import { cpuCount } from "../cpu";
import { cpuBlocks, CPU_SIZE, CPU_COUNTERS, CNT_IPI_SENT, CNT_IPI_TAKEN } from "../layout";
import {
  gicDist, gicBlocks, GIC_CPU_SIZE, GICD_SIZE, GICD_NUM_IRQ, GICD_WORDS, GICD_CTLR_FIELD, GICD_GROUP, GICD_ENABLE,
  GICD_PEND, GICD_ACTIVE, GICD_EDGE, GICD_PRIO, GICD_ROUTE, GICR_WAKER_FIELD, GICR_GROUP, GICR_ENABLE, GICR_PEND,
  GICR_ACTIVE, GICR_EDGE, GICR_LEVEL, GICC_PMR, GICC_BPR0, GICC_BPR1, GICC_CTLR, GICC_IGRPEN0, GICC_IGRPEN1,
  GICC_AP0R0, GICC_AP1R0, GICR_PRIO,
} from "../layout";
import { timerSample, timerCpuReset } from "./timer";

// ── The memory map (QEMU hw/arm/virt.c: VIRT_GIC_DIST, VIRT_GIC_REDIST) ───────
export const GICD_BASE: u64 = 0x0800_0000;
export const GICD_REGION_SIZE: u64 = 0x1_0000;
export const GICR_BASE: u64 = 0x080A_0000;
/** Two 64 KiB frames per CPU: RD_base, then SGI_base. */
export const GICR_STRIDE_SHIFT: u32 = 17;
export const GICR_SGI_FRAME: u32 = 0x1_0000;

// ── Distributor register offsets (IHI0069 12.9) ──────────────────────────────
const GICD_CTLR: u32 = 0x0000;
const GICD_TYPER: u32 = 0x0004;
const GICD_IIDR: u32 = 0x0008;
const GICD_IGROUPR: u32 = 0x0080;
const GICD_ISENABLER: u32 = 0x0100;
const GICD_ICENABLER: u32 = 0x0180;
const GICD_ISPENDR: u32 = 0x0200;
const GICD_ICPENDR: u32 = 0x0280;
const GICD_ISACTIVER: u32 = 0x0300;
const GICD_ICACTIVER: u32 = 0x0380;
const GICD_IPRIORITYR: u32 = 0x0400;
const GICD_ICFGR: u32 = 0x0C00;
const GICD_IROUTER: u32 = 0x6000;
/** PIDR4 … CIDR3, the CoreSight identification block at the top of each frame. */
const ID_REGS: u32 = 0xFFD0;

/** GICD_CTLR with DS = 1 (IHI0069 12.9.4, "single Security state"). */
export const GICD_CTLR_ENABLE_GRP0: u32 = 1 << 0;
export const GICD_CTLR_ENABLE_GRP1: u32 = 1 << 1;
export const GICD_CTLR_ARE: u32 = 1 << 4;
export const GICD_CTLR_DS: u32 = 1 << 6;

/**
 * GICD_TYPER as QEMU 7.2 builds it for virt (288 INTIDs), without LPIS:
 * No1N (25), A3V (24), IDbits = 15 (23:19), ITLinesNumber = 256 SPIs / 32 - 1.
 */
const GICD_TYPER_VALUE: u32 = (1 << 25) | (1 << 24) | (15 << 19) | ((GICD_NUM_IRQ - 32) / 32 - 1);
/** GICD_IIDR / GICR_IIDR: Arm (0x43B), ProductID 0, r0p0, as QEMU says. */
const GIC_IIDR_VALUE: u32 = 0x43B;

// ── Redistributor register offsets (IHI0069 12.10, 12.11) ─────────────────────
const GICR_CTLR: u32 = 0x0000;
const GICR_IIDR: u32 = 0x0004;
const GICR_TYPER: u32 = 0x0008;
const GICR_WAKER: u32 = 0x0014;
/** In the SGI_base frame. */
const GICR_IGROUPR0: u32 = 0x0080;
const GICR_ISENABLER0: u32 = 0x0100;
const GICR_ICENABLER0: u32 = 0x0180;
const GICR_ISPENDR0: u32 = 0x0200;
const GICR_ICPENDR0: u32 = 0x0280;
const GICR_ISACTIVER0: u32 = 0x0300;
const GICR_ICACTIVER0: u32 = 0x0380;
const GICR_IPRIORITYR: u32 = 0x0400;
const GICR_ICFGR0: u32 = 0x0C00;
const GICR_ICFGR1: u32 = 0x0C04;

/** GICR_CTLR.CES: ICENABLER0 writes take effect at once (QEMU 7.2 sets it). */
const GICR_CTLR_CES: u32 = 1 << 1;
export const GICR_WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
export const GICR_WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
/** GICR_TYPER: CommonLPIAff = 1 (25:24), Processor_Number (23:8), Last (4), affinity in 63:32. */
const GICR_TYPER_COMMON_LPI_AFF: u64 = 1 << 24;
const GICR_TYPER_LAST: u64 = 1 << 4;

// ── CPU interface system registers: op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2 ─
export const ICC_PMR_EL1: u32 = (3 << 14) | (0 << 11) | (4 << 7) | (6 << 3) | 0;
export const ICC_IAR0_EL1: u32 = (3 << 14) | (12 << 7) | (8 << 3) | 0;
export const ICC_EOIR0_EL1: u32 = (3 << 14) | (12 << 7) | (8 << 3) | 1;
export const ICC_HPPIR0_EL1: u32 = (3 << 14) | (12 << 7) | (8 << 3) | 2;
export const ICC_BPR0_EL1: u32 = (3 << 14) | (12 << 7) | (8 << 3) | 3;
/** ICC_AP0R<n>_EL1 is op2 4 + n; ICC_AP1R<n>_EL1 is CRm 9, op2 n. */
export const ICC_AP0R0_EL1: u32 = (3 << 14) | (12 << 7) | (8 << 3) | 4;
export const ICC_AP1R0_EL1: u32 = (3 << 14) | (12 << 7) | (9 << 3) | 0;
export const ICC_DIR_EL1: u32 = (3 << 14) | (12 << 7) | (11 << 3) | 1;
export const ICC_RPR_EL1: u32 = (3 << 14) | (12 << 7) | (11 << 3) | 3;
export const ICC_SGI1R_EL1: u32 = (3 << 14) | (12 << 7) | (11 << 3) | 5;
export const ICC_ASGI1R_EL1: u32 = (3 << 14) | (12 << 7) | (11 << 3) | 6;
export const ICC_SGI0R_EL1: u32 = (3 << 14) | (12 << 7) | (11 << 3) | 7;
export const ICC_IAR1_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 0;
export const ICC_EOIR1_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 1;
export const ICC_HPPIR1_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 2;
export const ICC_BPR1_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 3;
export const ICC_CTLR_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 4;
export const ICC_SRE_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 5;
export const ICC_IGRPEN0_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 6;
export const ICC_IGRPEN1_EL1: u32 = (3 << 14) | (12 << 7) | (12 << 3) | 7;

/** ICC_SRE_EL1: SRE, DFB and DIB, all RAO/WI (the memory-mapped interface does not exist). */
const ICC_SRE_VALUE: u64 = 7;
/** ICC_CTLR_EL1 read-only part: A3V (15), IDbits = 1 (24 bits, 13:11), PRIbits = 4 (5 bits, 10:8). */
const ICC_CTLR_RO: u32 = (1 << 15) | (1 << 11) | (4 << 8);
export const ICC_CTLR_CBPR: u32 = 1 << 0;
export const ICC_CTLR_EOIMODE: u32 = 1 << 1;
/**
 * Five priority bits (ICC_CTLR_EL1.PRIbits, QEMU's -cpu max): the PMR keeps
 * 7:3. Bits 63:8 are RES0; QEMU 7.2 keeps them (0xFFFFFFFF reads back as
 * 0xFFFFFFF8), which no kernel relies on.
 */
const PRIORITY_MASK: u32 = 0xF8;
/** One active-priority bit per group priority: priority >> (8 - 5). */
const APR_SHIFT: u32 = 3;
/** The smallest binary points with five priority bits (IHI0069 12.2.4, 12.2.5). */
const BPR0_MIN: u32 = 2;
const BPR1_MIN: u32 = 3;

export const INTID_SPURIOUS: u32 = 1023;
const IDLE_PRIORITY: u32 = 0xFF;
const GROUP0: u32 = 0;
const GROUP1: u32 = 1;
/** hppi(): no candidate (priority 0x100 beats nothing). */
const NONE: u32 = (0x100 << 16) | INTID_SPURIOUS;

// ── State ────────────────────────────────────────────────────────────────────

@inline function gicr(cpu: u32): usize {
  return gicBlocks + <usize>cpu * GIC_CPU_SIZE;
}

@inline function dword(field: u32, irq: u32): usize {
  return gicDist + field + ((<usize>irq >> 5) << 2);
}

/** The affinity QEMU's virt gives CPU i with a GICv3: clusters of 16 (Aff1 = i / 16, Aff0 = i % 16). */
@inline function affinity(cpu: u32): u64 {
  return (<u64>(cpu >> 4) << 8) | <u64>(cpu & 15);
}

/** Pending state of INTIDs 0–31: the latch, or the line of a level-sensitive one (IHI0069 4.1.2). */
@inline function redistPending(b: usize): u32 {
  return load<u32>(b + GICR_PEND) | (load<u32>(b + GICR_LEVEL) & ~load<u32>(b + GICR_EDGE));
}

/** Resets the distributor and every redistributor, CPU interface and timer. */
export function gicReset(): void {
  memory.fill(gicDist, 0, GICD_SIZE);
  store<u32>(gicDist + GICD_CTLR_FIELD, GICD_CTLR_DS | GICD_CTLR_ARE);
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    const b = gicr(cpu);
    memory.fill(b, 0, GIC_CPU_SIZE);
    // The redistributor starts asleep and with every SGI edge-triggered (ICFGR0 is RO 0xAAAAAAAA).
    store<u32>(b + GICR_WAKER_FIELD, GICR_WAKER_PROCESSOR_SLEEP | GICR_WAKER_CHILDREN_ASLEEP);
    store<u32>(b + GICR_EDGE, 0xFFFF);
    gicCpuReset(cpu);
  }
}

/**
 * Resets what belongs to the CPU's own reset domain (PSCI CPU_ON): the CPU
 * interface and the generic timer. The redistributor is part of the GIC and
 * keeps its state, as on QEMU.
 */
export function gicCpuReset(cpu: u32): void {
  const b = gicr(cpu);
  store<u32>(b + GICC_PMR, 0);
  store<u32>(b + GICC_BPR0, BPR0_MIN);
  store<u32>(b + GICC_BPR1, BPR1_MIN);
  store<u32>(b + GICC_CTLR, 0);
  store<u32>(b + GICC_IGRPEN0, 0);
  store<u32>(b + GICC_IGRPEN1, 0);
  store<u32>(b + GICC_AP0R0, 0);
  store<u32>(b + GICC_AP1R0, 0);
  timerCpuReset(cpu);
}

/**
 * Sets the input line of a PPI (16–31) of one CPU: the timer's output. A
 * rising edge latches pending state when the PPI is configured edge-triggered.
 */
export function gicSetPpiLevel(cpu: u32, intid: u32, level: bool): void {
  const b = gicr(cpu);
  const bit: u32 = 1 << intid;
  const old = load<u32>(b + GICR_LEVEL);
  if (level) {
    if ((old & bit) == 0 && (load<u32>(b + GICR_EDGE) & bit) != 0) store<u32>(b + GICR_PEND, load<u32>(b + GICR_PEND) | bit);
    store<u32>(b + GICR_LEVEL, old | bit);
  } else {
    store<u32>(b + GICR_LEVEL, old & ~bit);
  }
}

/** Is the PPI's line asserted (as last sampled)? */
export function gicPpiLevel(cpu: u32, intid: u32): bool {
  return (load<u32>(gicr(cpu) + GICR_LEVEL) & (1 << intid)) != 0;
}

// ── MMIO ─────────────────────────────────────────────────────────────────────

/** The physical address is a GICD or GICR register (of a CPU that exists). */
export function gicOwns(pa: u64): bool {
  return pa - GICD_BASE < GICD_REGION_SIZE || pa - GICR_BASE < (<u64>cpuCount << GICR_STRIDE_SHIFT);
}

/**
 * A load of `size` bytes from a GIC register. Registers that do not exist,
 * and accesses of a size the register does not take, read as zero (QEMU
 * logs them as guest errors and returns 0: reserved is RAZ/WI).
 */
export function gicMmioRead(cpu: u32, pa: u64, size: u32): u64 {
  if (pa & <u64>(size - 1)) return 0;
  if (pa - GICD_BASE < GICD_REGION_SIZE) return distRead(<u32>(pa - GICD_BASE), size);
  const rel = pa - GICR_BASE;
  if (rel >= (<u64>cpuCount << GICR_STRIDE_SHIFT)) return 0;
  return redistRead(<u32>(rel >> GICR_STRIDE_SHIFT), <u32>rel & ((1 << GICR_STRIDE_SHIFT) - 1), size);
}

/** A store to a GIC register; writes to read-only or missing registers are ignored. */
export function gicMmioWrite(cpu: u32, pa: u64, size: u32, value: u64): void {
  if (pa & <u64>(size - 1)) return;
  if (pa - GICD_BASE < GICD_REGION_SIZE) {
    distWrite(<u32>(pa - GICD_BASE), size, value);
    return;
  }
  const rel = pa - GICR_BASE;
  if (rel >= (<u64>cpuCount << GICR_STRIDE_SHIFT)) return;
  redistWrite(<u32>(rel >> GICR_STRIDE_SHIFT), <u32>rel & ((1 << GICR_STRIDE_SHIFT) - 1), size, value);
}

/** PIDR4 … CIDR3 of the distributor (part 0x92) or a redistributor (0x93); ArchRev 3 in PIDR2. */
function idRegister(offset: u32, part: u32): u32 {
  switch ((offset - ID_REGS) >> 2) {
    case 0: return 0x44; // PIDR4
    case 4: return part; // PIDR0
    case 5: return 0xB4; // PIDR1
    case 6: return 0x3B; // PIDR2: ArchRev 3 (7:4), JEDEC (3), JEP106 ID bits
    case 8: return 0x0D; // CIDR0
    case 9: return 0xF0;
    case 10: return 0x05;
    case 11: return 0xB1;
    default: return 0;
  }
}

/** ICFGR layout: Int_config<1> (edge) in the odd bit of each INTID's pair; 16 INTIDs from `half` × 16 of a 32-bit edge word. */
function spreadEdge(edge: u32, half: u32): u32 {
  const e = (edge >> (half << 4)) & 0xFFFF;
  let out: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) out |= ((e >> i) & 1) << (2 * i + 1);
  return out;
}

function gatherEdge(value: u32): u32 {
  let out: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) out |= ((value >> (2 * i + 1)) & 1) << i;
  return out;
}

function distRead(off: u32, size: u32): u64 {
  if (size == 8) {
    if (off >= GICD_IROUTER + 32 * 8 && off < GICD_IROUTER + GICD_NUM_IRQ * 8) return load<u64>(gicDist + GICD_ROUTE + (off - GICD_IROUTER));
    return 0;
  }
  if (size == 1) {
    const irq = off - GICD_IPRIORITYR;
    if (off >= GICD_IPRIORITYR && irq >= 32 && irq < GICD_NUM_IRQ) return load<u8>(gicDist + GICD_PRIO + irq);
    return 0;
  }
  if (size != 4) return 0;
  if (off == GICD_CTLR) return load<u32>(gicDist + GICD_CTLR_FIELD);
  if (off == GICD_TYPER) return GICD_TYPER_VALUE;
  if (off == GICD_IIDR) return GIC_IIDR_VALUE;
  if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
    // Six banks of one bit per INTID: IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER.
    const bank = (off - GICD_IGROUPR) >> 7;
    const irq = ((off & 0x7F) >> 2) << 5;
    // INTIDs 0–31 live in the redistributors with affinity routing: RAZ here.
    if (irq < 32 || irq >= GICD_NUM_IRQ) return 0;
    return load<u32>(dword(bitmapField(bank), irq));
  }
  if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
    const irq = off - GICD_IPRIORITYR;
    return irq < 32 || irq >= GICD_NUM_IRQ ? 0 : load<u32>(gicDist + GICD_PRIO + irq);
  }
  if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
    const irq = (off - GICD_ICFGR) << 2;
    return irq < 32 || irq >= GICD_NUM_IRQ ? 0 : spreadEdge(load<u32>(dword(GICD_EDGE, irq)), (irq >> 4) & 1);
  }
  if (off >= GICD_IROUTER && off < GICD_IROUTER + 0x2000) {
    const irq = (off - GICD_IROUTER) >> 3;
    if (irq < 32 || irq >= GICD_NUM_IRQ) return 0;
    return load<u32>(gicDist + GICD_ROUTE + (off - GICD_IROUTER));
  }
  if (off >= ID_REGS) return idRegister(off, 0x92);
  return 0;
}

/** The state behind each 0x80-byte bank from GICD_IGROUPR: group, enable ×2, pending ×2, active ×2. */
function bitmapField(bank: u32): u32 {
  if (bank == 0) return GICD_GROUP;
  if (bank <= 2) return GICD_ENABLE;
  if (bank <= 4) return GICD_PEND;
  return GICD_ACTIVE;
}

function distWrite(off: u32, size: u32, value: u64): void {
  if (size == 8) {
    if (off >= GICD_IROUTER + 32 * 8 && off < GICD_IROUTER + GICD_NUM_IRQ * 8) store<u64>(gicDist + GICD_ROUTE + (off - GICD_IROUTER), value);
    return;
  }
  if (size == 1) {
    const irq = off - GICD_IPRIORITYR;
    if (off >= GICD_IPRIORITYR && irq >= 32 && irq < GICD_NUM_IRQ) store<u8>(gicDist + GICD_PRIO + irq, <u8>value);
    return;
  }
  if (size != 4) return;
  const v = <u32>value;
  if (off == GICD_CTLR) {
    // DS = 1: ARE and DS are RAO/WI; only the two group enables are writable (IHI0069 12.9.4).
    const mask = GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1;
    const p = gicDist + GICD_CTLR_FIELD;
    store<u32>(p, (load<u32>(p) & ~mask) | (v & mask));
    return;
  }
  if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR) {
    const bank = (off - GICD_IGROUPR) >> 7;
    const irq = ((off & 0x7F) >> 2) << 5;
    if (irq < 32 || irq >= GICD_NUM_IRQ) return;
    const p = dword(bitmapField(bank), irq);
    if (bank == 0) store<u32>(p, v);
    else if (bank & 1) store<u32>(p, load<u32>(p) | v); // IS*: writing 1 sets
    else store<u32>(p, load<u32>(p) & ~v); // IC*: writing 1 clears
    return;
  }
  if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400) {
    const irq = off - GICD_IPRIORITYR;
    if (irq >= 32 && irq < GICD_NUM_IRQ) store<u32>(gicDist + GICD_PRIO + irq, v);
    return;
  }
  if (off >= GICD_ICFGR && off < GICD_ICFGR + 0x100) {
    const irq = (off - GICD_ICFGR) << 2;
    if (irq < 32 || irq >= GICD_NUM_IRQ) return;
    const shift: u32 = ((irq >> 4) & 1) << 4;
    const p = dword(GICD_EDGE, irq);
    store<u32>(p, (load<u32>(p) & ~(<u32>0xFFFF << shift)) | (gatherEdge(v) << shift));
    return;
  }
  if (off >= GICD_IROUTER && off < GICD_IROUTER + 0x2000) {
    const irq = (off - GICD_IROUTER) >> 3;
    if (irq >= 32 && irq < GICD_NUM_IRQ) store<u32>(gicDist + GICD_ROUTE + (off - GICD_IROUTER), v);
  }
}

function redistRead(cpu: u32, off: u32, size: u32): u64 {
  const b = gicr(cpu);
  if (off < GICR_SGI_FRAME) {
    const typer = (affinity(cpu) << 32) | GICR_TYPER_COMMON_LPI_AFF | (<u64>cpu << 8) | (cpu + 1 == cpuCount ? GICR_TYPER_LAST : 0);
    if (size == 8) return off == GICR_TYPER ? typer : 0;
    if (size != 4) return 0;
    if (off == GICR_CTLR) return GICR_CTLR_CES;
    if (off == GICR_IIDR) return GIC_IIDR_VALUE;
    if (off == GICR_TYPER) return typer & 0xFFFF_FFFF;
    if (off == GICR_TYPER + 4) return typer >> 32;
    if (off == GICR_WAKER) return load<u32>(b + GICR_WAKER_FIELD);
    if (off >= ID_REGS) return idRegister(off, 0x93);
    return 0;
  }
  const o = off - GICR_SGI_FRAME;
  if (size == 1) return o >= GICR_IPRIORITYR && o < GICR_IPRIORITYR + 32 ? load<u8>(b + GICR_PRIO + (o - GICR_IPRIORITYR)) : 0;
  if (size != 4) return 0;
  switch (o) {
    case GICR_IGROUPR0: return load<u32>(b + GICR_GROUP);
    case GICR_ISENABLER0:
    case GICR_ICENABLER0: return load<u32>(b + GICR_ENABLE);
    case GICR_ISPENDR0:
    case GICR_ICPENDR0: return redistPending(b);
    case GICR_ISACTIVER0:
    case GICR_ICACTIVER0: return load<u32>(b + GICR_ACTIVE);
    case GICR_ICFGR0: return spreadEdge(load<u32>(b + GICR_EDGE), 0);
    case GICR_ICFGR1: return spreadEdge(load<u32>(b + GICR_EDGE), 1);
  }
  if (o >= GICR_IPRIORITYR && o < GICR_IPRIORITYR + 32) return load<u32>(b + GICR_PRIO + (o - GICR_IPRIORITYR));
  return 0;
}

@inline function setBits(p: usize, v: u32): void {
  store<u32>(p, load<u32>(p) | v);
}

@inline function clearBits(p: usize, v: u32): void {
  store<u32>(p, load<u32>(p) & ~v);
}

function redistWrite(cpu: u32, off: u32, size: u32, value: u64): void {
  const b = gicr(cpu);
  const v = <u32>value;
  if (off < GICR_SGI_FRAME) {
    if (size == 4 && off == GICR_WAKER) {
      // Only ProcessorSleep is writable; the interface quiesces at once, so
      // ChildrenAsleep follows it (IHI0069 12.11.44; QEMU does the same).
      const sleep = v & GICR_WAKER_PROCESSOR_SLEEP;
      store<u32>(b + GICR_WAKER_FIELD, sleep != 0 ? sleep | GICR_WAKER_CHILDREN_ASLEEP : 0);
    }
    return;
  }
  const o = off - GICR_SGI_FRAME;
  if (size == 1) {
    if (o >= GICR_IPRIORITYR && o < GICR_IPRIORITYR + 32) store<u8>(b + GICR_PRIO + (o - GICR_IPRIORITYR), <u8>v);
    return;
  }
  if (size != 4) return;
  switch (o) {
    case GICR_IGROUPR0: store<u32>(b + GICR_GROUP, v); return;
    case GICR_ISENABLER0: setBits(b + GICR_ENABLE, v); return;
    case GICR_ICENABLER0: clearBits(b + GICR_ENABLE, v); return;
    case GICR_ISPENDR0: setBits(b + GICR_PEND, v); return;
    case GICR_ICPENDR0: clearBits(b + GICR_PEND, v); return;
    case GICR_ISACTIVER0: setBits(b + GICR_ACTIVE, v); return;
    case GICR_ICACTIVER0: clearBits(b + GICR_ACTIVE, v); return;
    case GICR_ICFGR1: {
      // PPIs are configurable; SGIs (ICFGR0) are always edge-triggered.
      store<u32>(b + GICR_EDGE, (load<u32>(b + GICR_EDGE) & 0xFFFF) | (gatherEdge(v) << 16));
      return;
    }
  }
  if (o >= GICR_IPRIORITYR && o < GICR_IPRIORITYR + 32) store<u32>(b + GICR_PRIO + (o - GICR_IPRIORITYR), v);
}

// ── The CPU interface ────────────────────────────────────────────────────────

/**
 * The highest-priority pending interrupt of a CPU, among those enabled, not
 * active, and in a group enabled both in GICD_CTLR and in ICC_IGRPEN<n>
 * (IHI0069 4.7.1). Ties go to the lower INTID. Returns
 * intid | priority << 16 | group << 24, or NONE.
 */
function hppi(cpu: u32): u32 {
  const b = gicr(cpu);
  const ctlr = load<u32>(gicDist + GICD_CTLR_FIELD);
  const en0 = (ctlr & GICD_CTLR_ENABLE_GRP0) != 0 && load<u32>(b + GICC_IGRPEN0) != 0;
  const en1 = (ctlr & GICD_CTLR_ENABLE_GRP1) != 0 && load<u32>(b + GICC_IGRPEN1) != 0;
  if (!en0 && !en1) return NONE;
  const g0: u32 = en0 ? 0xFFFF_FFFF : 0;
  const g1: u32 = en1 ? 0xFFFF_FFFF : 0;
  let best: u32 = NONE;
  let bestPrio: u32 = 0x100;
  const group = load<u32>(b + GICR_GROUP);
  let cand = redistPending(b) & load<u32>(b + GICR_ENABLE) & ~load<u32>(b + GICR_ACTIVE) & ((group & g1) | (~group & g0));
  while (cand != 0) {
    const i = <u32>ctz(cand);
    cand &= cand - 1;
    const p = <u32>load<u8>(b + GICR_PRIO + i);
    if (p < bestPrio) {
      bestPrio = p;
      best = i | (p << 16) | (((group >> i) & 1) << 24);
    }
  }
  // SPIs routed to this CPU by GICD_IROUTER (IRM = 1, 1-of-N, is not supported: GICD_TYPER.No1N).
  const aff = affinity(cpu);
  for (let w: u32 = 1; w < GICD_WORDS; w++) {
    const dg = load<u32>(gicDist + GICD_GROUP + (w << 2));
    let spi = load<u32>(gicDist + GICD_PEND + (w << 2)) & load<u32>(gicDist + GICD_ENABLE + (w << 2)) &
      ~load<u32>(gicDist + GICD_ACTIVE + (w << 2)) & ((dg & g1) | (~dg & g0));
    while (spi != 0) {
      const irq = (w << 5) + <u32>ctz(spi);
      spi &= spi - 1;
      if ((load<u64>(gicDist + GICD_ROUTE + (<usize>irq << 3)) & 0xFF_80FF_FFFF) != aff) continue;
      const p = <u32>load<u8>(gicDist + GICD_PRIO + irq);
      if (p < bestPrio) {
        bestPrio = p;
        best = irq | (p << 16) | (((dg >> (irq & 31)) & 1) << 24);
      }
    }
  }
  return best;
}

/** The mask that keeps the group-priority bits of a priority (the GroupBits() pseudocode, IHI0069 4.8). */
function groupPriorityMask(b: usize, group: u32): u32 {
  if (group == GROUP0 || (load<u32>(b + GICC_CTLR) & ICC_CTLR_CBPR) != 0) return (<u32>0xFF << (load<u32>(b + GICC_BPR0) + 1)) & 0xFF;
  // ICC_BPR1_EL1 is one more than the equivalent ICC_BPR0_EL1 value.
  return (<u32>0xFF << load<u32>(b + GICC_BPR1)) & 0xFF;
}

/** ICC_RPR_EL1: the group priority of the highest active priority, 0xFF when idle. */
function runningPriority(b: usize): u32 {
  const apr = load<u32>(b + GICC_AP0R0) | load<u32>(b + GICC_AP1R0);
  return apr == 0 ? IDLE_PRIORITY : <u32>ctz(apr) << APR_SHIFT;
}

/** Can the interrupt hppi() found be signalled: above the PMR, and preempting the running priority? */
function canSignal(b: usize, h: u32): bool {
  if (h == NONE) return false;
  const prio = (h >> 16) & 0xFF;
  if (prio >= load<u32>(b + GICC_PMR)) return false;
  const running = runningPriority(b);
  if (running == IDLE_PRIORITY) return true;
  const mask = groupPriorityMask(b, h >> 24);
  return (prio & mask) < (running & mask);
}

/** ICC_IAR<group>_EL1: acknowledge, making the interrupt active and its priority the running one. */
function acknowledge(cpu: u32, group: u32): u32 {
  const b = gicr(cpu);
  const h = hppi(cpu);
  if (h == NONE || (h >> 24) != group || !canSignal(b, h)) return INTID_SPURIOUS;
  const irq = h & 0xFFFF;
  const bit: u32 = 1 << (irq & 31);
  if (irq < 16) countOn(cpu, CNT_IPI_TAKEN);
  if (irq < 32) {
    setBits(b + GICR_ACTIVE, bit);
    clearBits(b + GICR_PEND, bit);
  } else {
    setBits(dword(GICD_ACTIVE, irq), bit);
    clearBits(dword(GICD_PEND, irq), bit);
  }
  const prio = ((h >> 16) & 0xFF) & groupPriorityMask(b, group);
  setBits(b + (group == GROUP0 ? GICC_AP0R0 : GICC_AP1R0), 1 << (prio >> APR_SHIFT));
  return irq;
}

function deactivate(cpu: u32, irq: u32): void {
  if (irq >= GICD_NUM_IRQ) return;
  const bit: u32 = 1 << (irq & 31);
  if (irq < 32) clearBits(gicr(cpu) + GICR_ACTIVE, bit);
  else clearBits(dword(GICD_ACTIVE, irq), bit);
}

/**
 * ICC_EOIR<group>_EL1: drops the highest active priority when it belongs to
 * this group, then (EOImode 0) deactivates the INTID written. Special INTIDs
 * and a group mismatch are ignored, as QEMU does.
 */
function endOfInterrupt(cpu: u32, group: u32, value: u64): void {
  const irq = <u32>value & 0xFF_FFFF;
  if (irq >= GICD_NUM_IRQ) return;
  const b = gicr(cpu);
  const ap0 = load<u32>(b + GICC_AP0R0);
  const ap1 = load<u32>(b + GICC_AP1R0);
  const apr = ap0 | ap1;
  if (apr == 0) return;
  const lowest = apr & (~apr + 1);
  const activeGroup = (ap0 & lowest) != 0 ? GROUP0 : GROUP1;
  if (activeGroup != group) return;
  clearBits(b + (group == GROUP0 ? GICC_AP0R0 : GICC_AP1R0), lowest);
  if ((load<u32>(b + GICC_CTLR) & ICC_CTLR_EOIMODE) == 0) deactivate(cpu, irq);
}

/**
 * ICC_SGI0R_EL1 / ICC_SGI1R_EL1: INTID (27:24), TargetList (15:0) with
 * Aff1 (23:16), Aff2 (39:32), Aff3 (55:48) and RS (47:44), or IRM (40) for
 * every CPU but the sender. A target takes the SGI only when it has that
 * SGI in the group generated (IHI0069 12.2.21; QEMU gicv3_redist_send_sgi).
 */
function generateSgi(cpu: u32, value: u64, group: u32): void {
  const intid = <u32>(value >> 24) & 15;
  const bit: u32 = 1 << intid;
  if (((value >> 40) & 1) != 0) {
    for (let t: u32 = 0; t < cpuCount; t++) if (t != cpu) sendSgi(cpu, t, bit, group);
    return;
  }
  // Our CPUs have Aff3 = Aff2 = 0 and Aff0 < 16, so only RS = 0 names any.
  if (((value >> 32) & 0xFF) != 0 || ((value >> 48) & 0xFF) != 0 || ((value >> 44) & 15) != 0) return;
  const aff1 = <u32>(value >> 16) & 0xFF;
  let list = <u32>value & 0xFFFF;
  while (list != 0) {
    const t = (aff1 << 4) | <u32>ctz(list);
    list &= list - 1;
    if (t < cpuCount) sendSgi(cpu, t, bit, group);
  }
}

function sendSgi(sender: u32, target: u32, bit: u32, group: u32): void {
  const b = gicr(target);
  const inGroup1 = (load<u32>(b + GICR_GROUP) & bit) != 0;
  if (inGroup1 != (group == GROUP1)) return;
  setBits(b + GICR_PEND, bit);
  countOn(sender, CNT_IPI_SENT);
}

/** SGIs sent and taken go to the IPI counters of the CPU concerned (the summary's SGI line). */
function countOn(cpu: u32, counter: u32): void {
  const p = cpuBlocks + <usize>cpu * CPU_SIZE + CPU_COUNTERS + (<usize>counter << 3);
  store<u64>(p, load<u64>(p) + 1);
}

/** Is `key` an ICC_* register this CPU interface has? */
export function gicIsSysreg(key: u32): bool {
  return gicSysregAccess(key) != 0;
}

/** 1 if MRS may read the register, 2 if MSR may write it (3 both; 0 not a GIC register). */
export function gicSysregAccess(key: u32): u32 {
  switch (key) {
    case ICC_IAR0_EL1:
    case ICC_IAR1_EL1:
    case ICC_HPPIR0_EL1:
    case ICC_HPPIR1_EL1:
    case ICC_RPR_EL1: return 1;
    case ICC_EOIR0_EL1:
    case ICC_EOIR1_EL1:
    case ICC_DIR_EL1:
    case ICC_SGI0R_EL1:
    case ICC_SGI1R_EL1:
    case ICC_ASGI1R_EL1: return 2;
    case ICC_PMR_EL1:
    case ICC_BPR0_EL1:
    case ICC_BPR1_EL1:
    case ICC_CTLR_EL1:
    case ICC_SRE_EL1:
    case ICC_IGRPEN0_EL1:
    case ICC_IGRPEN1_EL1: return 3;
  }
  if (key - ICC_AP0R0_EL1 < 4 || key - ICC_AP1R0_EL1 < 4) return 3;
  return 0;
}

/** MRS of an ICC_* register. Write-only registers read 0 (the CPU decides whether such an MRS is UNDEFINED). */
export function gicSysregRead(cpu: u32, key: u32): u64 {
  const b = gicr(cpu);
  switch (key) {
    case ICC_IAR1_EL1: return acknowledge(cpu, GROUP1);
    case ICC_IAR0_EL1: return acknowledge(cpu, GROUP0);
    case ICC_HPPIR1_EL1:
    case ICC_HPPIR0_EL1: {
      // The highest-priority pending interrupt, whatever the PMR and running priority; 1023 if it is of the other group.
      const h = hppi(cpu);
      return h == NONE || (h >> 24) != (key == ICC_HPPIR1_EL1 ? GROUP1 : GROUP0) ? INTID_SPURIOUS : h & 0xFFFF;
    }
    case ICC_RPR_EL1: return runningPriority(b);
    case ICC_PMR_EL1: return load<u32>(b + GICC_PMR);
    case ICC_BPR0_EL1: return load<u32>(b + GICC_BPR0);
    case ICC_BPR1_EL1: {
      // With CBPR, BPR1 reads as BPR0 + 1 (saturated), IHI0069 12.2.5.
      if (load<u32>(b + GICC_CTLR) & ICC_CTLR_CBPR) return min<u32>(load<u32>(b + GICC_BPR0) + 1, 7);
      return load<u32>(b + GICC_BPR1);
    }
    case ICC_CTLR_EL1: return ICC_CTLR_RO | load<u32>(b + GICC_CTLR);
    case ICC_SRE_EL1: return ICC_SRE_VALUE;
    case ICC_IGRPEN0_EL1: return load<u32>(b + GICC_IGRPEN0);
    case ICC_IGRPEN1_EL1: return load<u32>(b + GICC_IGRPEN1);
    case ICC_AP0R0_EL1: return load<u32>(b + GICC_AP0R0);
    case ICC_AP1R0_EL1: return load<u32>(b + GICC_AP1R0);
  }
  return 0;
}

/** MSR to an ICC_* register. Read-only registers ignore the write. */
export function gicSysregWrite(cpu: u32, key: u32, v: u64): void {
  const b = gicr(cpu);
  const lo = <u32>v;
  switch (key) {
    case ICC_EOIR1_EL1: endOfInterrupt(cpu, GROUP1, v); return;
    case ICC_EOIR0_EL1: endOfInterrupt(cpu, GROUP0, v); return;
    case ICC_DIR_EL1: {
      // Only meaningful with EOImode 1; otherwise UNPREDICTABLE, and ignored as QEMU does.
      if (load<u32>(b + GICC_CTLR) & ICC_CTLR_EOIMODE) deactivate(cpu, lo & 0xFF_FFFF);
      return;
    }
    case ICC_SGI1R_EL1: generateSgi(cpu, v, GROUP1); return;
    case ICC_SGI0R_EL1: generateSgi(cpu, v, GROUP0); return;
    case ICC_PMR_EL1: store<u32>(b + GICC_PMR, lo & PRIORITY_MASK); return;
    case ICC_BPR0_EL1: store<u32>(b + GICC_BPR0, max<u32>(lo & 7, BPR0_MIN)); return;
    case ICC_BPR1_EL1: {
      if ((load<u32>(b + GICC_CTLR) & ICC_CTLR_CBPR) == 0) store<u32>(b + GICC_BPR1, max<u32>(lo & 7, BPR1_MIN));
      return;
    }
    case ICC_CTLR_EL1: store<u32>(b + GICC_CTLR, lo & (ICC_CTLR_CBPR | ICC_CTLR_EOIMODE)); return;
    case ICC_IGRPEN0_EL1: store<u32>(b + GICC_IGRPEN0, lo & 1); return;
    case ICC_IGRPEN1_EL1: store<u32>(b + GICC_IGRPEN1, lo & 1); return;
    case ICC_AP0R0_EL1: store<u32>(b + GICC_AP0R0, lo); return;
    case ICC_AP1R0_EL1: store<u32>(b + GICC_AP1R0, lo); return;
  }
  // ICC_ASGI1R_EL1 targets the other security state, which this machine does not have.
}

/**
 * Should the CPU take an IRQ (or leave WFI) at `cycles`? A group 1
 * interrupt is pending, enabled, in an enabled group, above the PMR and able
 * to preempt the running priority. The timer lines are sampled first.
 */
export function gicPendingIrq(cpu: u32, cycles: u64): bool {
  timerSample(cpu, cycles);
  const h = hppi(cpu);
  return h != NONE && (h >> 24) == GROUP1 && canSignal(gicr(cpu), h);
}

/** Folds the distributor and the CPUs' GIC blocks into an FNV-1a hash (for the machine's state hash). */
export function gicHash(hIn: u64): u64 {
  let h = hIn;
  for (let p = gicDist; p < gicDist + GICD_SIZE; p += 8) h = (h ^ load<u64>(p)) * 0x100000001B3;
  const end = gicr(cpuCount);
  for (let p = gicBlocks; p < end; p += 8) h = (h ^ load<u64>(p)) * 0x100000001B3;
  return h;
}

/** Base of one CPU's GIC block, and of the distributor block, for the host's views. */
export function gicBlock(cpu: u32): usize {
  return gicr(cpu);
}

export function gicDistBlock(): usize {
  return gicDist;
}
