// SPDX-License-Identifier: MIT
//
// The virtual local APIC of an HVM vCPU, in x2APIC mode (Xen's vlapic.c):
// every x2APIC MSR (0x800–0x8FF) the guest reads or writes exits and lands
// here, so the guest sees what the bare machine's x2APIC offers
// (emulator/hw/x86/cpu/apic.ts) with its vCPU number as APIC ID:
//
//   0x802 ID, 0x803 version, 0x808 TPR, 0x80A PPR, 0x80B EOI, 0x80D LDR,
//   0x80F SVR, 0x810–0x817 ISR, 0x818–0x81F TMR (0), 0x820–0x827 IRR,
//   0x828 ESR, 0x830 ICR, 0x832 LVT timer, 0x833–0x837 the other LVTs,
//   0x838 initial count, 0x839 current count, 0x83E divide, 0x83F SELF IPI
//
// Interrupts are not taken by the hardware: the host injects the highest
// deliverable vector (vlapic_has_pending_irq, vlapic_ack_pending_irq) at VM
// entry, and the CPU holds an injected external interrupt until the guest's
// RFLAGS.IF is 1 (an interrupt window). An ICR write names the target vCPUs
// (vlapic_ipi); the host sets the vector in each one's IRR (vlapic_set_irq)
// and kicks it. The timer counts the vCPU's clock (its pCPU's cycles, never
// going back across a migration, moved to the deadline when it halts
// waiting for it, as a bare CPU's halted clock is).

/** APIC version register: version 0x14, 6 LVT entries (as the bare x2APIC). */
const APIC_VERSION = 0x0005_0014n;
const LVT_MASKED = 1 << 16;
const TIMER_PERIODIC = 1 << 17;
const NO_DEADLINE = -1n;

/** What an ICR write asks for: fixed delivery of `vector` to these vCPUs (by APIC ID). */
export interface IpiRequest {
  vector: number;
  /** "self", "all", "all-but-self", or a physical destination (0xFFFFFFFF: broadcast). */
  to: "self" | "all" | "all-but-self" | number;
}

export class Vlapic {
  private tpr = 0;
  private svr = 0xff;
  private esr = 0;
  private icr = 0n;
  private lvtTimer = LVT_MASKED;
  private lvtOther = LVT_MASKED;
  private initCount = 0;
  private divide = 0;
  /** The vCPU clock at which the timer fires, or -1. */
  private deadline = NO_DEADLINE;
  private readonly irr = new Uint8Array(256);
  private readonly isr = new Uint8Array(256);

  constructor(readonly id: number) {}

  // ── Vectors ──────────────────────────────────────────────────────────────

  private static highest(bits: Uint8Array): number {
    for (let v = 255; v >= 0; v--) if (bits[v]) return v;
    return -1;
  }

  /** Processor priority: the higher of TPR and the class of the highest vector in service (SDM Vol.3A 11.8.3.1). */
  private ppr(): number {
    const isr = Vlapic.highest(this.isr);
    const isrClass = isr < 0 ? 0 : isr & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr : isrClass;
  }

  /** vlapic_set_irq: requests a vector (0–15 are not deliverable through the APIC and are dropped, as bare). */
  setIrq(vector: number): void {
    if (vector >= 16 && vector <= 255) this.irr[vector] = 1;
  }

  /** vlapic_has_pending_irq: the vector to inject now, or -1 (the highest requested, above the processor priority). */
  pending(): number {
    const v = Vlapic.highest(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /** vlapic_ack_pending_irq: the vector moves from requested to in service as it is injected. */
  ack(vector: number): void {
    this.irr[vector] = 0;
    this.isr[vector] = 1;
  }

  /** Is anything requested at all (a reason to wake a vCPU halted with interrupts on)? */
  get anyRequested(): boolean {
    return Vlapic.highest(this.irr) >= 0;
  }

  // ── The timer ────────────────────────────────────────────────────────────

  private divisor(): bigint {
    const code = (this.divide & 3) | ((this.divide >> 1) & 4);
    return code === 7 ? 1n : 2n << BigInt(code);
  }

  /** The clock value at which the timer fires next, or undefined. */
  get timerDeadline(): bigint | undefined {
    return this.deadline === NO_DEADLINE ? undefined : this.deadline;
  }

  /** Fires the timer if its deadline has come (now: the vCPU's clock): its vector requested, a periodic timer re-armed. */
  tick(now: bigint): void {
    while (this.deadline !== NO_DEADLINE && this.deadline <= now) {
      if (this.lvtTimer & TIMER_PERIODIC) {
        const period = BigInt(this.initCount) * this.divisor();
        this.deadline = period === 0n ? NO_DEADLINE : this.deadline + period;
      } else this.deadline = NO_DEADLINE;
      if (!(this.lvtTimer & LVT_MASKED)) this.setIrq(this.lvtTimer & 0xff);
      // A periodic timer that fell far behind fires once, not once per lost period.
      if (this.deadline !== NO_DEADLINE && this.deadline <= now) this.deadline = now + 1n;
    }
  }

  // ── Registers ────────────────────────────────────────────────────────────

  /** RDMSR of an x2APIC register; undefined for one that cannot be read (#GP, as bare). */
  read(msr: number, now: bigint): bigint | undefined {
    switch (msr) {
      case 0x802: return BigInt(this.id);
      case 0x803: return APIC_VERSION;
      case 0x808: return BigInt(this.tpr);
      case 0x80a: return BigInt(this.ppr());
      case 0x80d: return BigInt(this.id);
      case 0x80f: return BigInt(this.svr);
      case 0x828: return BigInt(this.esr);
      case 0x830: return this.icr;
      case 0x832: return BigInt(this.lvtTimer);
      case 0x833: case 0x834: case 0x835: case 0x836: case 0x837: return BigInt(this.lvtOther);
      case 0x838: return BigInt(this.initCount);
      case 0x839: {
        if (this.deadline === NO_DEADLINE || this.deadline <= now) return 0n;
        return ((this.deadline - now) / this.divisor()) & 0xffff_ffffn;
      }
      case 0x83e: return BigInt(this.divide);
    }
    if (msr >= 0x810 && msr <= 0x817) return this.word(this.isr, msr - 0x810);
    if (msr >= 0x820 && msr <= 0x827) return this.word(this.irr, msr - 0x820);
    if (msr >= 0x818 && msr <= 0x81f) return 0n;
    return undefined;
  }

  private word(bits: Uint8Array, w: number): bigint {
    let out = 0;
    for (let b = 0; b < 32; b++) if (bits[32 * w + b]) out |= 1 << b;
    return BigInt(out >>> 0);
  }

  /**
   * WRMSR of an x2APIC register: "ok", "#GP" for a register that cannot be
   * written (as bare), or the IPI an ICR or SELF IPI write asks for.
   */
  write(msr: number, value: bigint, now: bigint): "ok" | "#GP" | IpiRequest {
    const v32 = Number(value & 0xffff_ffffn);
    switch (msr) {
      case 0x808: this.tpr = v32 & 0xff; return "ok";
      case 0x80b: {
        // vlapic_EOI_set: the highest vector in service is done.
        const v = Vlapic.highest(this.isr);
        if (v >= 0) this.isr[v] = 0;
        return "ok";
      }
      case 0x80f: this.svr = v32 & 0x11ff; return "ok";
      case 0x828: this.esr = 0; return "ok";
      case 0x830: {
        this.icr = value;
        const vector = v32 & 0xff;
        const mode = (v32 >> 8) & 7;
        const shorthand = (v32 >> 18) & 3;
        // Only fixed delivery is modelled (as bare); other modes are ignored.
        if (mode !== 0) return "ok";
        const to = shorthand === 0 ? Number(value >> 32n) : shorthand === 1 ? "self" : shorthand === 2 ? "all" : "all-but-self";
        return { vector, to };
      }
      case 0x832: this.lvtTimer = v32 & 0x700ff; return "ok";
      case 0x833: case 0x834: case 0x835: case 0x836: case 0x837: this.lvtOther = v32; return "ok";
      case 0x838:
        this.initCount = v32;
        this.deadline = v32 === 0 ? NO_DEADLINE : now + BigInt(v32) * this.divisor();
        return "ok";
      case 0x83e: this.divide = v32 & 0xb; return "ok";
      case 0x83f: return { vector: v32 & 0xff, to: "self" };
    }
    return "#GP";
  }
}
