// SPDX-License-Identifier: MIT
//
// The domain's GICv3 (Xen's vgic-v3.c and gic-v3.c, reduced). How it is
// virtualised:
//
//   - Each vCPU owns a GIC context: its redistributor's SGI/PPI state, its
//     CPU interface and its generic timer (one block of the hardware's GIC
//     per CPU). The hypervisor switches that context with the vCPU, as Xen
//     saves and restores the list registers and the virtual timer
//     (gicv3_save_state/restore_state, virt_timer_save/restore), so the
//     guest's ICC_* accesses, its timer and the interrupts they raise act
//     on the running vCPU's own context, on whichever pCPU it runs, and an
//     interrupt pending there is taken at EL1 as a virtual IRQ.
//   - SGI generation is the part the CPU interface cannot virtualise: with
//     HCR_EL2.IMO set, writes of ICC_SGI0R/SGI1R/ASGI1R_EL1 trap to EL2
//     (EC 0x18), and sendSgi() makes the SGI pending in each target vCPU's
//     context, on its pCPU or in what was saved of it (vgic_to_sgi).
//   - The distributor and the redistributors are not mapped at stage 2: an
//     access is a stage-2 data abort, emulated here by forwarding it to the
//     hardware's registers of the vCPU's context (the redistributor frame k
//     is vCPU k's) or, for the distributor, to the one the domain shares.
//     GICR_TYPER reads the vCPU's affinity, number and Last bit.
//
// A vCPU's context off every pCPU is reached by borrowing the block of the
// pCPU that handles the trap for one step: its own context is put aside, the
// other vCPU's put in, the access made, and both put back.

import type { ArmCpu } from "../../emulator/machine/cpu/arm-cpu.ts";
import type { HwExports } from "../../emulator/machine/core/wasm.ts";

/** QEMU virt's GICv3 (hw/arm/virt.c VIRT_GIC_DIST, VIRT_GIC_REDIST) and the size of the frames of V vCPUs. */
export const GICD_BASE = 0x0800_0000n;
export const GICD_SIZE = 0x1_0000n;
export const GICR_BASE = 0x080a_0000n;
export const GICR_STRIDE_SHIFT = 17n;
const GICR_SGI_BASE = 0x1_0000n;
const GICR_TYPER = 0x8n;
const GICR_IGROUPR0 = GICR_SGI_BASE + 0x80n;
const GICR_ISPENDR0 = GICR_SGI_BASE + 0x200n;
/** GICR_TYPER: CommonLPIAff = 1 (25:24), Processor_Number (23:8), Last (4), affinity in 63:32. */
const TYPER_COMMON_LPI_AFF = 1n << 24n;
const TYPER_LAST = 1n << 4n;

/** The system-register keys of the SGI generation registers (op0:op1:CRn:CRm:op2). */
export const ICC_SGI1R_EL1 = (3 << 14) | (12 << 7) | (11 << 3) | 5;
export const ICC_ASGI1R_EL1 = (3 << 14) | (12 << 7) | (11 << 3) | 6;
export const ICC_SGI0R_EL1 = (3 << 14) | (12 << 7) | (11 << 3) | 7;

/** vCPU k's MPIDR_EL1 affinity, as the hardware numbers its CPUs: Aff1 = k / 16, Aff0 = k % 16. */
export const vcpuAffinity = (k: number): bigint => (BigInt(k >> 4) << 8n) | BigInt(k & 15);
/** MPIDR_EL1 of vCPU k (bit 31 RES1, U = 0), as on QEMU virt. */
export const vcpuMpidr = (k: number): bigint => 0x8000_0000n | vcpuAffinity(k);

/** Where a vCPU's GIC context is: on a pCPU, or saved (the bytes of its context). */
export type GicHome = { pcpu: number } | { saved: Uint8Array };

export interface VgicHost {
  readonly hw: HwExports;
  readonly cpus: readonly ArmCpu[];
  readonly nrVcpus: number;
  /** Where vCPU k's GIC context is now. */
  home(k: number): GicHome;
}

export interface VgicStats {
  sgisSent: number;
  sgisDropped: number;
  mmioReads: number;
  mmioWrites: number;
}

export class Vgic {
  readonly stats: VgicStats = { sgisSent: 0, sgisDropped: 0, mmioReads: 0, mmioWrites: 0 };

  constructor(private readonly host: VgicHost) {}

  /** Is the IPA a GIC register of this domain (the distributor, or the redistributor frame of one of its vCPUs)? */
  owns(ipa: bigint): boolean {
    return (ipa >= GICD_BASE && ipa < GICD_BASE + GICD_SIZE) || (ipa >= GICR_BASE && ipa < GICR_BASE + (BigInt(this.host.nrVcpus) << GICR_STRIDE_SHIFT));
  }

  /**
   * Runs `access(frameCpu)` with vCPU k's context in the hardware block of
   * pCPU `frameCpu`: its own pCPU when it runs, else the block of `borrower`
   * (the pCPU handling the trap), whose own context is put back after.
   */
  private withContext<R>(k: number, borrower: number, access: (frameCpu: number) => R): R {
    const home = this.host.home(k);
    if ("pcpu" in home) return access(home.pcpu);
    const block = this.host.cpus[borrower]!.gicContext();
    const own = block.slice();
    block.set(home.saved);
    try {
      return access(borrower);
    } finally {
      home.saved.set(block);
      block.set(own);
    }
  }

  /** A redistributor register of vCPU k's frame, at `offset` in it, from the pCPU that holds the context. */
  private frameAddress(frameCpu: number, offset: bigint): bigint {
    return GICR_BASE + (BigInt(frameCpu) << GICR_STRIDE_SHIFT) + offset;
  }

  /** vgic_v3_rdistr_mmio_read / vgic_v3_distr_mmio_read: the value a guest load of `size` bytes at ipa reads. */
  read(borrower: number, ipa: bigint, size: number): bigint {
    this.stats.mmioReads++;
    const hw = this.host.hw;
    if (ipa < GICD_BASE + GICD_SIZE) return BigInt.asUintN(64, hw.gicMmioRead(borrower, ipa, size));
    const k = Number((ipa - GICR_BASE) >> GICR_STRIDE_SHIFT);
    const offset = (ipa - GICR_BASE) & ((1n << GICR_STRIDE_SHIFT) - 1n);
    if (offset === GICR_TYPER || offset === GICR_TYPER + 4n) return this.typer(k, offset, size);
    return this.withContext(k, borrower, (c) => BigInt.asUintN(64, hw.gicMmioRead(c, this.frameAddress(c, offset), size)));
  }

  write(borrower: number, ipa: bigint, size: number, value: bigint): void {
    this.stats.mmioWrites++;
    const hw = this.host.hw;
    if (ipa < GICD_BASE + GICD_SIZE) return void hw.gicMmioWrite(borrower, ipa, size, value);
    const k = Number((ipa - GICR_BASE) >> GICR_STRIDE_SHIFT);
    const offset = (ipa - GICR_BASE) & ((1n << GICR_STRIDE_SHIFT) - 1n);
    this.withContext(k, borrower, (c) => hw.gicMmioWrite(c, this.frameAddress(c, offset), size, value));
  }

  /** GICR_TYPER of vCPU k: its affinity, its number and Last for the domain's last vCPU (IHI0069 12.11.39). */
  private typer(k: number, offset: bigint, size: number): bigint {
    const typer = (vcpuAffinity(k) << 32n) | TYPER_COMMON_LPI_AFF | (BigInt(k) << 8n) | (k + 1 === this.host.nrVcpus ? TYPER_LAST : 0n);
    if (size === 8) return offset === GICR_TYPER ? typer : 0n;
    if (size !== 4) return 0n;
    return offset === GICR_TYPER ? typer & 0xffff_ffffn : typer >> 32n;
  }

  /**
   * vgic_to_sgi: a trapped write of ICC_SGI{0,1}R_EL1 / ICC_ASGI1R_EL1 by
   * vCPU `sender`: INTID (27:24), TargetList (15:0) with Aff1 (23:16), Aff2
   * (39:32), RS (47:44), Aff3 (55:48), or IRM (40) for every vCPU but the
   * sender. A target takes the SGI only when it has that SGI in the group
   * generated (IHI0069 12.2.21), as the hardware does for physical SGIs.
   * Returns the vCPUs it was made pending on.
   */
  sendSgi(borrower: number, sender: number, key: number, value: bigint): number[] {
    const intid = Number((value >> 24n) & 15n);
    const group1 = key !== ICC_SGI0R_EL1;
    const targets: number[] = [];
    if ((value >> 40n) & 1n) {
      for (let t = 0; t < this.host.nrVcpus; t++) if (t !== sender) targets.push(t);
    } else if (((value >> 32n) & 0xffn) === 0n && ((value >> 48n) & 0xffn) === 0n) {
      const aff1 = Number((value >> 16n) & 0xffn);
      const rs = Number((value >> 44n) & 15n);
      for (let list = Number(value & 0xffffn), bit = 0; list; list >>>= 1, bit++) {
        if (!(list & 1)) continue;
        // Aff0 = RS × 16 + bit; vCPU k has Aff0 = k % 16 and Aff1 = k / 16, so only RS = 0 names one.
        const t = rs === 0 ? aff1 * 16 + bit : -1;
        if (t >= 0 && t < this.host.nrVcpus) targets.push(t);
      }
    }
    const pended: number[] = [];
    for (const t of targets) {
      const taken = this.withContext(t, borrower, (c) => {
        const inGroup1 = (BigInt.asUintN(64, this.host.hw.gicMmioRead(c, this.frameAddress(c, GICR_IGROUPR0), 4)) >> BigInt(intid)) & 1n;
        if ((inGroup1 === 1n) !== group1) return false;
        this.host.hw.gicMmioWrite(c, this.frameAddress(c, GICR_ISPENDR0), 4, 1n << BigInt(intid));
        return true;
      });
      if (taken) pended.push(t);
      else this.stats.sgisDropped++;
    }
    this.stats.sgisSent += pended.length;
    return pended;
  }
}
