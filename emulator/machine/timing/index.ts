// SPDX-License-Identifier: MIT
//
// Timing a run: the cost model's clock (modelled-clock.ts) as the
// platform's timeline sink, and optionally a Chrome trace (chrome-trace.ts)
// fed by it. `shootdown run --stats/--trace/--cost-model` and the flush
// bench attach it to a booted platform before the run and call finish()
// after it.

import type { Platform } from "../core/platform.ts";
import type { CostModel } from "./cost-model.ts";
import { ChromeTrace } from "./chrome-trace.ts";
import { ModelledClock, type ModelledCycles } from "./modelled-clock.ts";

export { COST_MODEL, COST_MODEL_MEANING, type CostModel } from "./cost-model.ts";
export { parseCostModel } from "./cost-model-file.ts";
export { ModelledClock, COST_KINDS, type ClockOptions, type ModelledCycles, type PcpuCycles, type FlushPathCycles, type SpanCycles, type CostKind } from "./modelled-clock.ts";
export { ChromeTrace, type TraceHeader } from "./chrome-trace.ts";
export { TraceFile } from "./trace-file.ts";

export interface TraceOutput {
  /** Receives the trace's text in order, in pieces. */
  write(text: string): void;
  processName: string;
  otherData?: Record<string, unknown>;
}

export interface Timing {
  clock: ModelledClock;
  /** Prices what is left, ends the trace, and gives the modelled cycles. */
  finish(): ModelledCycles;
}

/** Makes the platform's timeline report to a modelled clock (and a trace); the run then pays for the events. */
export function attachTiming(platform: Platform, model: CostModel, trace?: TraceOutput, options: { nested?: boolean } = {}): Timing {
  const observer = trace && new ChromeTrace({
    clockMHz: model.clockMHz, cpus: platform.cpuCount, processName: trace.processName,
    otherData: { costModel: model, ...trace.otherData },
  }, trace.write);
  const clock = new ModelledClock(model, { counters: (i) => platform.counters(i), cpus: platform.cpuCount, observer, ...options });
  platform.timeline.sink = clock;
  return {
    clock,
    finish: () => {
      platform.timeline.sink = undefined;
      clock.finish();
      return clock.summary();
    },
  };
}
