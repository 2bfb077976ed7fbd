// SPDX-License-Identifier: MIT
//
// How a run ends, and the exit status and the one line that say so. The same
// words serve `shootdown run`, the REPL and the gdb stub.

export type CrashReason =
  | "triple-fault" | "bus-error" | "deadlock" | "vmcall" | "breakpoint" | "stopped" | "emulator-error" | "replay-diverged"
  | "exception-loop" | "hvc" | "smc" | "trap" | "off" | "hypervisor" | "vm-exit";

export type RunEnd =
  | { kind: "debug-exit"; code: bigint; cpu: number }
  | { kind: "power-off"; reset: boolean; cpu: number }
  /** A guest under the hypervisor shut its domain down (SCHEDOP_shutdown); `status` is the run's. */
  | { kind: "shutdown"; status: number; reason: string; cpu: number }
  | { kind: "crash"; reason: CrashReason; message: string; cpu?: number; pc?: bigint }
  | { kind: "step-limit"; steps: bigint }
  /** The hypervisor's sanitizer found a race (--keep-going counts them instead of stopping). */
  | { kind: "violation"; cpu: number; message: string; step: number };

export const STATUS = { SUCCESS: 0, GUEST_FAILURE: 1, CRASH: 2, STEP_LIMIT: 3, VIOLATION: 4 } as const;

/** The exit status of a run that ended so. */
export function endStatus(end: RunEnd): number {
  return end.kind === "debug-exit" ? (end.code === 0n ? STATUS.SUCCESS : STATUS.GUEST_FAILURE)
    : end.kind === "power-off" ? (end.reset ? STATUS.GUEST_FAILURE : STATUS.SUCCESS)
    : end.kind === "shutdown" ? end.status
    : end.kind === "step-limit" ? STATUS.STEP_LIMIT
    : end.kind === "violation" ? STATUS.VIOLATION
    : STATUS.CRASH;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The run's end in one line: "CPU 0 wrote 0 to the debug-exit port: success", a crash's own message … */
export function describeEnd(end: RunEnd): string {
  switch (end.kind) {
    case "debug-exit":
      return end.code === 0n ? `CPU ${end.cpu} wrote 0 to the debug-exit port: success`
        : `CPU ${end.cpu} wrote ${hex(end.code)} to the debug-exit port: guest-reported failure`;
    case "power-off":
      return end.reset ? `CPU ${end.cpu} called PSCI SYSTEM_RESET: guest-reported failure` : `CPU ${end.cpu} called PSCI SYSTEM_OFF: success`;
    case "shutdown":
      return `CPU ${end.cpu}: the domain shut down (${end.reason})`;
    case "crash":
      return end.message;
    case "step-limit":
      return `--max-steps: ${end.steps} instructions retired`;
    case "violation":
      return `sanitizer violation at step ${end.step}: ${end.message}`;
  }
}
