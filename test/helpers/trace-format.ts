// SPDX-License-Identifier: MIT
//
// A checker of Chrome Trace Event Format files (Google's "Trace Event
// Format" document, JSON Object Format), written from the document rather
// than from shootdown's writer: it lists every rule a file breaks.
//
//   - the file parses as JSON: an object with a traceEvents array (or a bare array)
//   - every event has a known phase (ph), a pid and, but for process-wide
//     metadata, a tid; every event but metadata has a numeric ts (µs, ≥ 0)
//   - B/E events match per (pid, tid) as a stack, properly nested, with no
//     B left open; an E that names its span names the innermost open one
//   - complete (X) events have a dur ≥ 0, and on one track all slices (B/E
//     pairs and X events) are nested or disjoint, never overlapping in part
//   - timestamps are monotonic per track in file order
//   - instant events (i, I) have a scope s of g, p or t
//   - metadata: process_name for every pid, thread_name for every (pid, tid)
//     used, each with args.name
//   - flows (v2: bind_id with flow_out, flow_in) start once and end once

const PHASES = new Set(["B", "E", "X", "i", "I", "C", "b", "n", "e", "s", "t", "f", "P", "N", "O", "D", "M", "V", "v", "R", "c", "(", ")"]);
/** Slack for sums of microsecond floats (ts + dur): a thousandth of a nanosecond. */
const EPS = 1e-6;

type Ev = Record<string, unknown> & { ph?: unknown; pid?: unknown; tid?: unknown; ts?: unknown; dur?: unknown; name?: unknown };

export interface TraceCheck {
  problems: string[];
  events: Ev[];
}

export function checkTrace(text: string): TraceCheck {
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`not JSON: ${(e as Error).message}`], events: [] };
  }
  const events = (Array.isArray(json) ? json : (json as { traceEvents?: unknown })?.traceEvents) as Ev[] | undefined;
  if (!Array.isArray(events)) return { problems: ["no traceEvents array"], events: [] };
  const say = (i: number, what: string) => problems.push(`event ${i} (${JSON.stringify(events[i]).slice(0, 120)}): ${what}`);

  const processNames = new Set<unknown>();
  const threadNames = new Set<string>();
  const used = new Map<string, unknown>();
  const stacks = new Map<string, { name: unknown; ts: number }[]>();
  const lastTs = new Map<string, number>();
  const slices = new Map<string, { start: number; end: number; i: number }[]>();
  const flowOut = new Map<unknown, number>();
  const flowIn = new Map<unknown, number>();

  events.forEach((e, i) => {
    if (typeof e !== "object" || e === null) return say(i, "not an object");
    if (typeof e.ph !== "string" || !PHASES.has(e.ph)) return say(i, `unknown phase ${JSON.stringify(e.ph)}`);
    if (e.pid === undefined) say(i, "no pid");
    if (e.ph === "M") {
      const name = (e.args as { name?: unknown } | undefined)?.name;
      if (e.name === "process_name") {
        if (typeof name !== "string") say(i, "process_name without args.name");
        processNames.add(e.pid);
      } else if (e.name === "thread_name") {
        if (typeof name !== "string") say(i, "thread_name without args.name");
        threadNames.add(`${e.pid}/${e.tid}`);
      }
      return;
    }
    if (e.tid === undefined) say(i, "no tid");
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts) || e.ts < 0) return say(i, "ts is not a non-negative number of microseconds");
    const track = `${e.pid}/${e.tid}`;
    used.set(track, e.pid);
    if (e.ts < (lastTs.get(track) ?? 0) - EPS) say(i, `ts ${e.ts} goes back on track ${track} (last ${lastTs.get(track)})`);
    lastTs.set(track, e.ts);
    const stack = stacks.get(track) ?? [];
    stacks.set(track, stack);
    const trackSlices = slices.get(track) ?? [];
    slices.set(track, trackSlices);
    switch (e.ph) {
      case "B":
        if (typeof e.name !== "string") say(i, "B without a name");
        stack.push({ name: e.name, ts: e.ts });
        break;
      case "E": {
        const open = stack.pop();
        if (!open) say(i, `E with no open B on track ${track}`);
        else {
          if (e.name !== undefined && e.name !== open.name) say(i, `E names ${JSON.stringify(e.name)}, the open span is ${JSON.stringify(open.name)}`);
          trackSlices.push({ start: open.ts, end: e.ts, i });
        }
        break;
      }
      case "X":
        if (typeof e.dur !== "number" || !(e.dur >= 0)) say(i, "X without a dur ≥ 0");
        else trackSlices.push({ start: e.ts, end: e.ts + e.dur, i });
        if (typeof e.name !== "string") say(i, "X without a name");
        break;
      case "i":
      case "I":
        if (e.s !== undefined && !["g", "p", "t"].includes(e.s as string)) say(i, `instant scope ${JSON.stringify(e.s)} is not g, p or t`);
        break;
    }
    if (e.bind_id !== undefined) {
      if (e.flow_out === true) {
        if (flowOut.has(e.bind_id)) say(i, `flow ${String(e.bind_id)} starts twice`);
        flowOut.set(e.bind_id, e.ts);
      }
      if (e.flow_in === true) {
        if (flowIn.has(e.bind_id)) say(i, `flow ${String(e.bind_id)} ends twice`);
        flowIn.set(e.bind_id, e.ts);
      }
    }
  });

  for (const [track, stack] of stacks) {
    for (const open of stack) problems.push(`track ${track}: B ${JSON.stringify(open.name)} at ${open.ts} never ends`);
  }
  for (const [track, list] of slices) {
    // Nested or disjoint: sorted by start (longest first), each slice ends before the one enclosing it.
    const sorted = [...list].sort((a, b) => a.start - b.start || b.end - a.end);
    const enclosing: { start: number; end: number; i: number }[] = [];
    for (const s of sorted) {
      while (enclosing.length && enclosing.at(-1)!.end <= s.start + EPS) enclosing.pop();
      const outer = enclosing.at(-1);
      if (outer && s.end > outer.end + EPS) {
        problems.push(`track ${track}: slice of event ${s.i} [${s.start}, ${s.end}] overlaps event ${outer.i}'s [${outer.start}, ${outer.end}] in part`);
      }
      enclosing.push(s);
    }
  }
  for (const [track, pid] of used) {
    if (!processNames.has(pid)) problems.push(`pid ${String(pid)} has no process_name`);
    if (!threadNames.has(track)) problems.push(`track ${track} has no thread_name`);
  }
  for (const [id, ts] of flowOut) {
    const end = flowIn.get(id);
    if (end === undefined) problems.push(`flow ${String(id)} never ends`);
    else if (end < ts - EPS) problems.push(`flow ${String(id)} ends at ${end}, before it starts at ${ts}`);
  }
  for (const id of flowIn.keys()) if (!flowOut.has(id)) problems.push(`flow ${String(id)} ends but never starts`);
  return { problems: [...new Set(problems)], events };
}
