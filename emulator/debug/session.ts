// SPDX-License-Identifier: MIT
//
// A debugging session: the run engine (machine/core/engine.ts) over one
// target (target.ts), which the REPL's commands (commands.ts) and the gdb
// stub (gdb-stub.ts) both drive. The engine steps the machine, exactly as
// `shootdown run` does, with breakpoints, watchpoints, a stop at every use
// of a stale TLB entry, and going back in time; the session adds what a
// person looks at (the target) and the console in whole lines.

import { readFileSync } from "node:fs";
import { ShootdownError } from "../machine/core/errors.ts";
import { Engine, CONTINUE_LIMIT, type StopReason } from "../machine/core/engine.ts";
import type { PackedStep } from "../machine/core/scheduler.ts";
import { parseSchedule, scheduleTotals, type RecordedOptions } from "../machine/core/schedule-file.ts";
import { sha256 } from "../machine/core/report.ts";
import type { DebugTarget } from "./target.ts";

export { CONTINUE_LIMIT, type StopReason };

export interface SessionConfig {
  image: Uint8Array;
  options: RecordedOptions;
  /** Follow these decisions (a replay) instead of the scheduler's. */
  replay?: PackedStep[];
  /** How the replayed run ended when it was recorded. */
  recorded?: { status: number; stateHash: bigint };
  /** Builds a target for an image (x86-64 or AArch64, targets.ts), over a freshly booted platform. */
  makeTarget(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void): DebugTarget;
  /** Guest console output, line by line as it is written. */
  console?: (text: string) => void;
}

export class Session extends Engine {
  private readonly view: { target?: DebugTarget; line: string };

  constructor(private readonly session: SessionConfig) {
    const view: { target?: DebugTarget; line: string } = { line: "" };
    super({
      options: session.options,
      ...(session.replay ? { replay: session.replay } : {}),
      ...(session.recorded ? { recorded: session.recorded } : {}),
      console: (byte) => {
        if (byte === 10) {
          session.console?.(`${view.line}\n`);
          view.line = "";
        } else if (byte !== 13) {
          view.line += String.fromCharCode(byte);
        }
      },
      build: (options, console) => {
        view.target = session.makeTarget(session.image, options, console);
        return view.target.platform;
      },
    });
    this.view = view;
    this.stopOnEvents = true;
  }

  /** What the user looks at: registers, memory, walks, TLBs of the machine as it is now. */
  get target(): DebugTarget {
    return this.view.target!;
  }

  /** A partial console line is shown when a command ends. */
  flushConsole(): void {
    if (this.view.line) this.session.console?.(`${this.view.line}\n`);
    this.view.line = "";
  }

  protected override peekPhysical(pa: bigint, length: number): Uint8Array | undefined {
    return this.target.readPhysical(pa, length);
  }

  /** Loads a recorded schedule (`replay F`) and goes back to step 0 under it. */
  loadReplay(path: string): { decisions: number; instructions: number } {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new ShootdownError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const s = parseSchedule(text);
    if (s.imageSha256 !== sha256(this.session.image)) throw new ShootdownError(`${path} was recorded with another image`);
    this.replayFrom(s.options, s.decisions, { status: s.status, stateHash: s.stateHash });
    return scheduleTotals(s.decisions);
  }
}
