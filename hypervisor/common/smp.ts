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
export function* withInterrupts<R>(
  p: Pcpu, routine: Generator<StepLabel, R, void>, handler: () => Routine<void>,
  then?: (result: R) => Generator<StepLabel, R, void> | undefined,
): Generator<StepLabel, R, void> {
  for (;;) {
    while (interruptDeliverable(p)) yield* handler();
    const n = routine.next();
    if (!n.done) {
      yield n.value;
      continue;
    }
    const next = then?.(n.value);
    if (!next) return n.value;
    routine = next;
  }
}
