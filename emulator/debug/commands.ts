// SPDX-License-Identifier: MIT
//
// The REPL's commands over a session (session.ts): parsing a command line,
// and showing what the target reports, aligned (and coloured on a terminal).
// The gdb stub runs the same commands for `monitor`.

import { ShootdownError } from "../machine/core/errors.ts";
import { packSteps } from "../machine/core/scheduler.ts";
import { CONTINUE_LIMIT, type Session, type StopReason } from "./session.ts";
import { hex, leValue, type CacheLineView, type WalkOp, type WalkPriv } from "./target.ts";
import { checkReadable, MAX_SCHEDULE_FILE_BYTES } from "../cli/input-file.ts";

/** ANSI styling for a terminal; identity functions when output is not one. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export const PLAIN: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
const sgr = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const ANSI: Style = { bold: sgr(1), dim: sgr(2), red: sgr(31), green: sgr(32), yellow: sgr(33), cyan: sgr(36) };

/**
 * Bounds on what one command may ask for, so that neither the REPL nor the
 * gdb stub (whose monitor runs these commands between packets) is held for
 * minutes or made to build output larger than memory: gdb's own x and
 * disassemble have none, but gdb streams what it prints.
 */
export const MAX_EXAMINE_BYTES = 64 * 1024;
export const MAX_DISASM_INSTRUCTIONS = 4096;
/** As many as one continue runs before it pauses (session.ts). */
export const MAX_STEPS = Number(CONTINUE_LIMIT);
const COUNT_LIMIT = 1_000_000_000;

const COMMANDS = [
  "step", "stepi", "cpu", "continue", "break", "delete", "watch", "regs", "x", "disasm", "walk", "tlb", "cache", "sched",
  "replay", "goto", "frame", "shared", "domain", "hypercalls", "p2m", "vcpu", "help", "quit",
];

export const HELP = `commands (addresses are numbers, symbols, symbol+offset or $register):
  step [N] | stepi [N]     run N instructions (default 1) on the current CPU
  cpu K                    make CPU K the current one (--hv: vCPU K, numbered
                           domain by domain, or by name: cpu d2v1; cpu pN:
                           pCPU N itself)
  continue                 run every CPU under the schedule until a breakpoint,
                           watchpoint, missing invalidation, or the end
  break ADDR|SYMBOL        stop any CPU when it reaches ADDR (linear address)
  delete [ADDR]            remove a breakpoint (all without ADDR)
  watch PADDR              stop when the 8 bytes at physical PADDR change
  regs                     registers of the current CPU, with the paging ones
  x/N[bhwg][p] ADDR        N units at virtual ADDR through the current CPU's
                           MMU (p: ADDR is physical)
  disasm [ADDR] [N]        N instructions (default 8) from ADDR (default PC)
  walk VA [op] [priv]      the page walk for VA from the tables in memory:
                           every level and the permission decision
                           (op read|write|fetch, priv kernel|user)
  tlb [CPU] [all]          live TLB and walk-cache entries, stale ones marked
                           (all: the invalidated ones too)
  cache [CPU] [all]        data-cache lines by level, set and way (AArch64):
                           the L1 of the CPU (--hv: of the pCPU the vCPU
                           runs on; cache pN: pCPU N's), then the shared
                           system cache; the dirty lines, or all: every
                           valid one, clean or dirty
  sched                    the schedule so far
  replay F                 load the schedule recorded in F (run --record)
  goto STEP                run (or rerun) until STEP instructions in all
  frame MFN                (--hv) a machine frame: owner, PFN, type, counts,
                           flags, flush stamp, the entries that map it
                           (--hvm: its share state, page-lock holder, and
                           the EPTs that map it)
  shared [MFN]             (--hvm) the shared frames, or one: its handle, its
                           sharers and their EPT entries, who holds its page
                           lock and the sharers' p2m locks
  domain [ID]              (--hv) domains: frames, pinned tables, vCPUs and
                           where they run
  hypercalls [N]           (--hv) the last N hypercalls (default 10), with
                           arguments and results
  p2m IPA                  (--hv, AArch64) the stage-2 walk of an IPA: each
                           entry, its valid bit, the machine frame
  vcpu                     (--hv, AArch64) each vCPU: where it runs,
                           need_flush_to_ram, TVM
  quit`;

export class Commands {
  constructor(
    readonly session: Session,
    public style: Style = PLAIN,
  ) {}

  /** Is this line a `continue` (which a terminal runs in chunks, so that Ctrl-C can stop it)? */
  static isContinue(line: string): boolean {
    return /^\s*(continue|c|cont)\s*$/.test(line);
  }

  /**
   * `continue` in chunks of instructions, yielding to the event loop between
   * them so that an interrupt (session.interruptRequested, set by Ctrl-C)
   * can stop it; no limit on how long it runs.
   */
  async continueInterruptibly(chunk = 1_000_000n): Promise<string[]> {
    this.session.interruptRequested = false;
    for (;;) {
      const stop = this.session.resume(undefined, chunk);
      if (stop.kind !== "paused") return this.describe(stop);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Command names and symbols, for completion. */
  completions(): string[] {
    return [...COMMANDS, ...this.session.target.symbolTable.map((s) => s.name)];
  }

  /** Runs one command line; returns its output lines. Throws ShootdownError for a bad command. */
  execute(line: string): string[] {
    const text = line.trim();
    if (!text || text.startsWith("#")) return [];
    const xm = /^x\/(\S*)\s+(.+)$/.exec(text);
    if (xm) return this.examine(xm[1]!, xm[2]!);
    const [cmd, ...args] = text.split(/\s+/);
    switch (cmd) {
      case "step": case "stepi": case "s": case "si": {
        const n = args[0] === undefined ? 1 : this.count(args[0], "a step count", 1, MAX_STEPS);
        if (!this.session.threadsAreVcpus) return this.describe(this.session.step(n));
        return this.describe(this.session.step(n, this.stepCpu(this.session.thread)));
      }
      case "cpu": {
        if (args.length !== 1) throw new ShootdownError("usage: cpu K");
        const k = this.cpuArg(args[0]!);
        this.session.thread = k;
        if (!this.session.threadsAreVcpus) return [`current CPU ${k}`, ...this.here(k)];
        if (!this.session.threads()[k]!.vcpu) return [`current ${this.threadName(k)}`, ...this.here(k)];
        return [`current vCPU ${k}: ${this.threadName(k)}`, ...this.here(k)];
      }
      case "continue": case "c": case "cont":
        return this.describe(this.session.resume());
      case "break": case "b": {
        if (args.length !== 1) throw new ShootdownError("usage: break ADDR|SYMBOL");
        const a = this.address(args[0]!);
        this.session.setBreakpoint(a);
        const s = this.session.target.symbols.label(a);
        return [`breakpoint at ${hex(a)}${s ? ` <${s}>` : ""}`];
      }
      case "delete": {
        const a = args[0] === undefined ? undefined : this.address(args[0]);
        if (!this.session.removeBreakpoint(a)) throw new ShootdownError(a === undefined ? "no breakpoints" : `no breakpoint at ${hex(a)}`);
        return [a === undefined ? "all breakpoints deleted" : `breakpoint at ${hex(a)} deleted`];
      }
      case "watch": {
        if (args.length !== 1) throw new ShootdownError("usage: watch PADDR");
        const pa = this.number(args[0]!);
        const now = this.session.watch(pa);
        return [`watchpoint on physical ${hex(pa)} (8 bytes, now ${hex(now)})`];
      }
      case "regs": case "registers":
        return this.regs(args[0] === undefined ? this.session.thread : this.cpuArg(args[0]));
      case "disasm": case "dis":
        if (args.length > 2) throw new ShootdownError("usage: disasm [ADDR] [N]");
        return this.disasm(args[0] === undefined ? undefined : this.address(args[0]), args[1] === undefined ? 8 : this.count(args[1], "an instruction count", 1, MAX_DISASM_INSTRUCTIONS));
      case "walk":
        return this.walkCommand(args);
      case "tlb":
        return this.tlbCommand(args);
      case "cache":
        return this.cacheCommand(args);
      case "sched":
        return this.sched();
      case "replay":
        if (args.length !== 1) throw new ShootdownError("usage: replay FILE");
        return this.replay(args[0]!);
      case "goto":
        if (args.length !== 1) throw new ShootdownError("usage: goto STEP");
        return this.goto(this.number(args[0]!));
      case "frame": case "shared": case "domain": case "hypercalls": case "p2m": case "vcpu": {
        const lines = this.session.platform.inspectHypervisor(cmd, args);
        if (!lines) throw new ShootdownError(`${cmd}: the machine runs no hypervisor (shootdown repl IMAGE --hv)`);
        return lines;
      }
      case "help": case ".help":
        return HELP.split("\n");
      default:
        throw new ShootdownError(`unknown command '${cmd}' (help lists them)`);
    }
  }

  /** A count from min to max; a negative one or one past the bound is named as such. */
  private count(text: string, what: string, min = 1, max = COUNT_LIMIT): number {
    if (!/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`${what} must be a number, not '${text}'`);
    const v = text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text);
    if (v < BigInt(min) || v > BigInt(max)) throw new ShootdownError(`${what} must be from ${min} to ${max}, not ${text}`);
    return Number(v);
  }

  /** The pCPU a `step` on thread k runs: the one it is on; a vCPU off every pCPU cannot be stepped. */
  stepCpu(k: number): number {
    const t = this.session.threads()[k]!;
    if (t.cpu === undefined) {
      throw new ShootdownError(`${t.name} is off every pCPU (${t.state}): nothing to step; continue lets the scheduler put it on one, or pick a vCPU that runs (cpu N)`);
    }
    return t.cpu;
  }

  /** How output names thread k: "CPU 2", or "d1v0 on pCPU 1", "d1v3 off every pCPU (runnable)", "pCPU 1, running d1v0". */
  threadName(k: number): string {
    const t = this.session.threads()[k]!;
    if (!t.vcpu && !this.session.threadsAreVcpus) return t.name;
    if (!t.vcpu) {
      const on = this.session.threadOn(t.cpu!);
      return `${t.name}, running ${on === undefined ? "no vCPU" : this.session.threads()[on]!.name}`;
    }
    return t.cpu !== undefined ? `${t.name} on pCPU ${t.cpu}` : `${t.name} off every pCPU (${t.state})`;
  }

  /** How output names the CPU something happened on: "CPU 2", or "d1v0 on pCPU 2", or "pCPU 2" when it runs no vCPU. */
  private cpuName(cpu: number): string {
    if (!this.session.threadsAreVcpus) return `CPU ${cpu}`;
    const k = this.session.threadOn(cpu);
    return k === undefined ? `pCPU ${cpu}` : `${this.session.threads()[k]!.name} on pCPU ${cpu}`;
  }

  /** Thread k's short name in messages: "CPU 2", "d1v0". */
  private shortName(k: number): string {
    return this.session.threads()[k]!.name;
  }

  private cpuArg(text: string): number {
    if (this.session.threadsAreVcpus) return this.vcpuArg(text);
    const cpus = this.session.target.cpuCount;
    const k = /^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text) ? (text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text)) : undefined;
    if (k === undefined) throw new ShootdownError(`a CPU is a number from 0 to ${cpus - 1}, not '${text}'`);
    if (k < 0n) throw new ShootdownError(`no CPU ${text}: CPUs are numbered from 0 to ${cpus - 1}`);
    if (k >= BigInt(cpus)) throw new ShootdownError(`no CPU ${text} (the machine has ${cpus})`);
    return Number(k);
  }

  /** A vCPU by its number or its name (d2v1), or a pCPU (p1). */
  private vcpuArg(text: string): number {
    const all = this.session.threads();
    const threads = all.filter((t) => t.vcpu);
    const pm = /^p([0-9]+)$/i.exec(text);
    if (pm) {
      const n = Number(pm[1]);
      if (n >= all.length - threads.length) throw new ShootdownError(`no pCPU ${n} (the machine has ${all.length - threads.length}: p0 to p${all.length - threads.length - 1})`);
      return threads.length + n;
    }
    const range = `the guests have ${threads.length} vCPU${threads.length === 1 ? "" : "s"}: 0 to ${threads.length - 1}, or by name ${threads[0]!.name} to ${threads.at(-1)!.name}`;
    if (/^d[0-9]+v[0-9]+$/i.test(text)) {
      const k = threads.findIndex((t) => t.name === text.toLowerCase());
      if (k < 0) throw new ShootdownError(`no vCPU ${text} (${range})`);
      return k;
    }
    if (!/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`a vCPU is a number or a name like d1v0, not '${text}' (${range})`);
    const k = text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text);
    if (k < 0n || k >= BigInt(threads.length)) throw new ShootdownError(`no vCPU ${text} (${range})`);
    return Number(k);
  }

  /** A literal address: decimal or 0x hex, at most 64 bits (never silently truncated). */
  private number(text: string): bigint {
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`'${text}' is not an address`);
    const v = BigInt(text);
    if (v >> 64n) throw new ShootdownError(`'${text}' is wider than 64 bits`);
    return v;
  }

  /** A number, a symbol, symbol±offset, or $register of the current CPU. */
  address(text: string): bigint {
    const m = /^([^+-]+)(?:([+-])(.+))?$/.exec(text);
    if (!m) throw new ShootdownError(`'${text}' is not an address`);
    let base: bigint;
    const head = m[1]!;
    if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(head)) base = this.number(head);
    else if (head.startsWith("$")) {
      const name = head.slice(1) === "pc" ? this.session.target.registers().find((r) => r.type === "code_ptr")?.name : head.slice(1);
      const i = this.session.target.registers().findIndex((r) => r.name === name);
      if (i < 0) throw new ShootdownError(`no register '${head}'`);
      base = this.session.target.readRegisters(this.session.thread)[i]!;
    } else {
      const s = this.session.target.symbolTable.find((x) => x.name === head);
      if (!s) throw new ShootdownError(`unknown symbol '${head}'`);
      base = s.value;
    }
    if (m[2]) base = m[2] === "+" ? base + this.number(m[3]!) : base - this.number(m[3]!);
    return BigInt.asUintN(64, base);
  }

  private where(a: bigint): string {
    const s = this.session.target.symbols.label(a);
    return `${hex(a)}${s ? ` <${s}>` : ""}`;
  }

  /** The instruction a thread is at. */
  private here(cpu: number): string[] {
    if (!this.session.threadsAreVcpus) return this.disasmLines(cpu, this.session.target.pc(cpu), 1);
    try {
      return this.disasmLines(cpu, this.session.target.pc(cpu), 1);
    } catch (e) {
      // A vCPU that is down and was never initialised has no instruction to show.
      if (!(e instanceof ShootdownError)) throw e;
      return [e.message];
    }
  }

  /** Lines that say why the machine stopped. */
  describe(stop: StopReason): string[] {
    const st = this.style;
    const out: string[] = [];
    switch (stop.kind) {
      case "breakpoint":
        out.push(st.yellow(`${this.cpuName(stop.cpu)} stopped at breakpoint ${this.where(stop.pc)}`));
        this.session.followStop(stop.cpu);
        break;
      case "watchpoint":
        out.push(st.yellow(`${this.cpuName(stop.cpu)} wrote physical ${hex(stop.pa)}: ${hex(stop.old)} → ${hex(stop.now)} (watchpoint)`));
        this.session.followStop(stop.cpu);
        break;
      case "violation":
        this.session.followStop(stop.cpu);
        out.push(...stop.messages.map((m) => st.red(`violation: ${m}`)));
        break;
      case "idle":
        out.push(`${this.cpuName(stop.cpu)} is halted, waiting for an interrupt (continue lets the other CPUs run)`);
        break;
      case "end": {
        this.session.flushConsole();
        const verdict = this.session.replayVerdict();
        return [st.bold(`the run ended: ${stop.message} (status ${stop.status})`), ...(verdict ? [verdict] : [])];
      }
      case "interrupted":
        out.push(`interrupted on ${this.cpuName(stop.cpu)}`);
        break;
      case "reached":
        out.push(`at step ${this.session.instructionsSoFar}`);
        break;
      case "paused":
        out.push(`still running after ${CONTINUE_LIMIT} instructions (continue again to go on)`);
        break;
      case "hv-step":
        out.push(st.cyan(`${this.cpuName(stop.cpu)} in the hypervisor: ${stop.what}`));
        break;
      case "step":
        break;
    }
    this.session.flushConsole();
    // With vCPUs, the instruction shown is the current vCPU's (the one stepped, or the one that stopped), wherever it now is.
    if (this.session.threadsAreVcpus) return [...out, ...this.here(this.session.thread)];
    return [...out, ...this.here(stop.kind === "reached" ? this.session.current : stop.cpu)];
  }

  private regs(cpu: number): string[] {
    const st = this.style;
    const regs = this.session.target.registers();
    const out = [st.bold(this.threadName(cpu))];
    let values: bigint[] | undefined;
    try {
      values = this.session.target.readRegisters(cpu);
    } catch (e) {
      // The system registers may be there when the general ones are not (AArch64 before its CPU).
      if (!(e instanceof ShootdownError)) throw e;
      out.push(`general registers: ${e.message}`);
    }
    if (values) {
      const v = values;
      const cells = regs.map((r, i) => ({ r, v: v[i]! })).filter(({ r }) => r.group === "general")
        .map(({ r, v }) => `${st.cyan(r.name.padEnd(7))} ${hex(v).padEnd(18)}`);
      for (let i = 0; i < cells.length; i += 3) out.push(cells.slice(i, i + 3).join("  ").trimEnd());
    }
    out.push(...this.session.target.systemRegisterLines(cpu));
    return out;
  }

  private examine(format: string, addrText: string): string[] {
    const m = /^([0-9]*)([bhwgxp]*)$/.exec(format);
    if (!m) throw new ShootdownError(`bad format '/${format}' (x/N[bhwg][p] ADDR)`);
    const letters = m[2]!;
    const size = letters.includes("b") ? 1 : letters.includes("h") ? 2 : letters.includes("w") ? 4 : 8;
    const n = m[1] ? this.count(m[1], `x/N${letters}`, 1, MAX_EXAMINE_BYTES / size) : 1;
    const physical = letters.includes("p");
    const addr = physical ? this.number(addrText) : this.address(addrText);
    const length = n * size;
    let bytes: Uint8Array;
    let faultAt: bigint | undefined;
    if (physical) {
      const b = this.session.target.readPhysical(addr, length);
      if (!b) throw new ShootdownError(`physical ${hex(addr)}: not RAM`);
      bytes = b;
    } else {
      ({ bytes, faultAt } = this.session.target.readVirtual(this.session.thread, addr, length));
      if (!bytes.length) throw new ShootdownError(`cannot read ${hex(addr)}: not mapped on ${this.shortName(this.session.thread)}`);
    }
    const perLine = Math.max(1, 16 / size);
    const out: string[] = [];
    for (let i = 0; i * size < bytes.length; i += perLine) {
      const at = addr + BigInt(i * size);
      const words: string[] = [];
      for (let j = i; j < Math.min(i + perLine, Math.floor(bytes.length / size)); j++) {
        words.push(`0x${leValue(bytes.subarray(j * size, (j + 1) * size)).toString(16).padStart(2 * size, "0")}`);
      }
      if (!words.length) break;
      out.push(`${physical ? `phys ${hex(at)}` : this.where(at)}:  ${words.join(" ")}`);
    }
    if (faultAt !== undefined) out.push(this.style.red(`cannot read ${hex(faultAt)}: not mapped on ${this.shortName(this.session.thread)}`));
    return out;
  }

  private disasmLines(cpu: number, from: bigint, n: number): string[] {
    const pc = this.session.target.pc(cpu);
    const out: string[] = [];
    let a = from;
    for (let i = 0; i < n; i++) {
      const d = this.session.target.disassembleOne(cpu, a);
      const mark = a === pc ? "=>" : "  ";
      if (!d) {
        out.push(`${mark} ${this.where(a)}: ${this.style.red("cannot fetch (not mapped)")}`);
        break;
      }
      const bytes = [...d.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      out.push(`${mark} ${this.where(a)}:  ${bytes.padEnd(24)} ${d.text}`);
      a += BigInt(d.length);
    }
    return out;
  }

  private disasm(addr: bigint | undefined, n: number): string[] {
    return this.disasmLines(this.session.thread, addr ?? this.session.target.pc(this.session.thread), n);
  }

  private walkCommand(args: string[]): string[] {
    if (!args.length || args.length > 3) throw new ShootdownError("usage: walk VA [read|write|fetch] [kernel|user]");
    const va = this.address(args[0]!);
    const op = (args[1] ?? "read") as WalkOp;
    if (!["read", "write", "fetch"].includes(op)) throw new ShootdownError(`op must be read, write or fetch, not '${op}'`);
    const priv = (args[2] ?? "kernel") as WalkPriv;
    if (!["kernel", "user"].includes(priv)) throw new ShootdownError(`priv must be kernel or user, not '${priv}'`);
    return this.walkLines(this.session.thread, va, op, priv);
  }

  walkLines(cpu: number, va: bigint, op: WalkOp, priv: WalkPriv): string[] {
    const st = this.style;
    const w = this.session.target.walk(cpu, va, op, priv);
    const out = [st.bold(`walk ${this.where(va)} on ${this.shortName(cpu)} from ${w.root}`)];
    for (const l of w.levels) {
      out.push(`  ${l.name.padEnd(6)} at ${hex(l.entryPa).padEnd(14)} = 0x${l.value.toString(16).padStart(16, "0")}  ${l.decoded}`);
    }
    if (w.stop) out.push(`  stop: ${w.stop}`);
    out.push(`  ${w.ok ? st.green(w.decision) : st.red(w.decision)}`);
    return out;
  }

  /** `[CPU] [all]`, as tlb and cache take them: the thread (default the current one), and whether `all` ends the line. */
  private threadAndAll(command: string, args: string[]): { cpu: number; all: boolean } {
    const all = args.at(-1) === "all";
    const rest = all ? args.slice(0, -1) : args;
    if (rest.length > 1) throw new ShootdownError(`usage: ${command} [CPU] [all]`);
    return { cpu: rest[0] === undefined ? this.session.thread : this.cpuArg(rest[0]), all };
  }

  private tlbCommand(args: string[]): string[] {
    const { cpu, all } = this.threadAndAll("tlb", args);
    const st = this.style;
    const entries = this.session.target.tlb(cpu, all);
    const live = entries.filter((e) => e.stale !== "dead").length;
    const out = [st.bold(`${this.threadName(cpu)}: ${live} live entries${all ? `, ${entries.length - live} dead` : ""}`)];
    const rows = entries.map((e) => [
      e.structure, hex(e.va), `→ ${hex(e.pa)}`, e.tags, e.perms,
      e.stale === "fresh" ? "ok" : e.stale === "unknown" ? "? (another address space)" : e.stale === "dead" ? "dead (invalidated or flushed)" : `STALE: ${e.stale.why}`,
    ]);
    const widths = [0, 1, 2, 3, 4].map((c) => Math.max(0, ...rows.map((r) => r[c]!.length)));
    for (const r of rows) {
      const cells = r.slice(0, 5).map((c, i) => c.padEnd(widths[i]!));
      const last = r[5]!;
      out.push(`  ${cells.join("  ")}  ${last.startsWith("STALE") ? st.red(last) : last === "ok" ? st.green(last) : st.dim(last)}`);
    }
    return out;
  }

  private cacheCommand(args: string[]): string[] {
    const { cpu, all } = this.threadAndAll("cache", args);
    const st = this.style;
    const lines = this.session.target.cache(cpu, all);
    const dirty = lines.filter((l) => l.dirty).length;
    const name = this.threadName(cpu);
    if (!all) return [st.bold(`${name}: ${dirty} dirty lines`), ...lines.map((l) => this.cacheLine(l))];
    const levels = (["L1", "system"] as const).map((level) => {
      const of = lines.filter((l) => l.level === level);
      return `${level === "L1" ? "L1" : "system cache"} ${of.length} (${of.filter((l) => l.dirty).length} dirty)`;
    });
    return [st.bold(`${name}: ${lines.length} valid lines, ${dirty} dirty; ${levels.join(", ")}`), ...lines.map((l) => this.cacheLine(l))];
  }

  /** One line: level, set, way, PA, state, and its first 16 bytes. */
  private cacheLine(l: CacheLineView): string {
    const bytes = [...l.bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const state = `${l.dirty ? "dirty" : "clean"}${l.ramNewer ? ", RAM newer" : ""}`;
    const text = `  ${l.level.padEnd(6)} set ${String(l.set).padStart(4)} way ${String(l.way).padStart(2)}  PA ${hex(l.pa).padEnd(14)} ${state.padEnd(17)} ${bytes} …`;
    return l.dirty ? this.style.yellow(text) : text;
  }

  private sched(): string[] {
    const p = this.session.unfinished;
    const out = [
      `schedule: ${this.session.scheduleName}; ${this.session.schedule.length} decisions taken, ${this.session.instructionsSoFar} instructions`,
      ...(p ? [`unfinished decision: CPU ${p.cpu}, ${p.left} instructions left`] : []),
      ...((this.session.endedWith ? [`the run ended: ${this.session.endedWith.message} (status ${this.session.endedWith.status})`] : [])),
    ];
    const packed = packSteps(this.session.schedule);
    const tail = packed.slice(-12);
    if (packed.length > tail.length) out.push(`  … ${packed.length - tail.length} earlier`);
    for (const s of tail) out.push(`  ${JSON.stringify(s)}`);
    out.push(`state hash ${hex(this.session.target.stateHash())}`);
    return out;
  }




  private replay(path: string): string[] {
    checkReadable(path, "a schedule file", MAX_SCHEDULE_FILE_BYTES);
    const r = this.session.loadReplay(path);
    return [`loaded ${r.decisions} decisions (${r.instructions} instructions) from ${path}; the machine is back at step 0 (goto STEP runs to a step)`];
  }

  private goto(target: bigint): string[] {
    // Like continue, one goto runs at most MAX_STEPS instructions, so that a step far beyond the run's end cannot hold the REPL or the stub.
    const now = this.session.instructionsSoFar;
    if (target > now + BigInt(MAX_STEPS)) {
      throw new ShootdownError(`goto ${target} is more than ${MAX_STEPS} instructions past step ${now}; goto ${now + BigInt(MAX_STEPS)} first`);
    }
    const stop = this.session.goto(target);
    if (stop.kind === "end") return this.describe(stop);
    this.session.flushConsole();
    const cpu = this.session.current;
    if (!this.session.threadsAreVcpus) return [`at step ${this.session.instructionsSoFar}, CPU ${cpu}`, ...this.here(cpu)];
    const name = this.cpuName(cpu);
    return [`at step ${this.session.instructionsSoFar}, ${name}`, ...this.here(this.session.followStop(cpu))];
  }
}
