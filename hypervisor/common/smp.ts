// SPDX-License-Identifier: MIT
//
// Physical CPUs as the hypervisor sees them: each has an interrupt flag for
// the hypervisor code it runs and a pending flush IPI (Xen's
// INVALIDATE_TLB_VECTOR). An IPI sent to a pCPU is taken:
//
//   - by a pCPU running guest code, or parked with nothing to run, at its
//     next scheduler decision (a physical interrupt makes a VM exit whatever
//     the guest's own IF says; the engine asks Platform.interrupt);
//   - by a pCPU in a hypervisor routine with interrupts enabled, between two
//     steps of that routine (withInterrupts below);
//   - never while the pCPU runs hypervisor code with interrupts disabled: it
//     stays pending until the routine enables them again. That is what makes
//     an IRQ-disabled page walk a barrier for IPI flushes (mechanisms §1.5).

import type { Routine, StepLabel } from "./routine.ts";

export interface Pcpu {
  readonly cpu: number;
  /** The hypervisor's interrupt flag on this pCPU (local_irq_enable/disable). */
  irqEnabled: boolean;
  /** A flush IPI sent and not yet taken, and who sent it. */
  ipiFrom: number | undefined;
}

export function makePcpus(n: number): Pcpu[] {
  return Array.from({ length: n }, (_, cpu) => ({ cpu, irqEnabled: true, ipiFrom: undefined }));
}

/** Can this pCPU take its pending IPI now? */
export function interruptDeliverable(p: Pcpu): boolean {
  return p.ipiFrom !== undefined && p.irqEnabled;
}

/**
 * Runs `routine` on pCPU p, taking a pending IPI between any two of its steps
 * while p's interrupts are enabled: `handler` (the interrupt's own steps) runs
 * first, then the routine goes on where it was, as an interrupt handler
 * nests in whatever code it interrupted. When the routine ends, `then` may
 * name the routine that follows on the same pCPU (a hypercall's return
 * leading into the schedule), which runs the same way.
 */
export function withInterrupts<R>(
  p: Pcpu, routine: Generator<StepLabel, R, void>, handler: () => Routine<void>,
  then?: (result: R) => Generator<StepLabel, R, void> | undefined,
): Generator<StepLabel, R, void> {
  return new OnPcpu(p, routine, handler, then);
}

/**
 * withInterrupts' routine, written out as an iterator rather than a
 * generator: every step of every routine on a pCPU passes through it, and a
 * generator here would add a level of resumption to each (and a result
 * object: this one hands on the inner routine's). It behaves as the
 * generator would: before each step of the routine, the pending IPIs
 * deliverable then are taken, each handler to its end.
 */
class OnPcpu<R> implements Generator<StepLabel, R, void> {
  /** The interrupt handler being run, if one is. */
  private irq: Routine<void> | undefined;
  private finished = false;

  constructor(
    private readonly p: Pcpu,
    private routine: Generator<StepLabel, R, void>,
    private readonly handler: () => Routine<void>,
    private readonly then: ((result: R) => Generator<StepLabel, R, void> | undefined) | undefined,
  ) {}

  next(): IteratorResult<StepLabel, R> {
    if (this.finished) return { value: undefined as R, done: true };
    try {
      for (;;) {
        if (this.irq) {
          const n = this.irq.next();
          if (!n.done) return n;
          this.irq = undefined;
        }
        if (interruptDeliverable(this.p)) {
          this.irq = this.handler();
          continue;
        }
        const n = this.routine.next();
        if (!n.done) return n;
        const next = this.then?.(n.value);
        if (!next) {
          this.finished = true;
          return n;
        }
        this.routine = next;
      }
    } catch (e) {
      this.finished = true;
      throw e;
    }
  }

  /** Ends it early, as a generator's return() does: the routine (and a handler under way) end too. */
  return(value: R): IteratorResult<StepLabel, R> {
    if (!this.finished) {
      this.finished = true;
      this.irq?.return();
      this.routine.return(value);
    }
    return { value, done: true };
  }

  throw(e: unknown): IteratorResult<StepLabel, R> {
    this.finished = true;
    throw e;
  }

  [Symbol.iterator](): Generator<StepLabel, R, void> {
    return this;
  }
}
