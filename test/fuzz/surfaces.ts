// SPDX-License-Identifier: MIT
//
// The input surfaces of `shootdown` and their case generators: ELF images
// for `run` on both architectures, vector files, assembly sources, bytes for
// the disassembler, REPL command lines (the gdb stub is in gdb.ts). Each
// generator starts from something valid (the built guests, the sample
// vectors, the guest sources) and breaks it, or builds something hostile
// from a grammar, so that cases reach past the first check.
//
// Schedule files: a real recording of hello (version 2, with the image's
// hash), mutated as JSON, replayed with `run IMAGE --replay FILE`. Cost-model
// files: the default table mutated as JSON, for `run --cost-model FILE`.

import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { type CaseResult, type Surface, ROOT, Random, cliCase, mutateBytes, scratchFile } from "./harness.ts";
import { gdbSurface, hypervisorArgs } from "./gdb.ts";
import { hypercallSurface } from "./hypercalls.ts";
import { hvmHypercallSurface } from "./hvm-hypercalls.ts";
import { hvmSharingSurface } from "./hvm-sharing.ts";
import { COST_MODEL } from "../../emulator/machine/timing/cost-model.ts";

const read = (...path: string[]) => readFileSync(join(ROOT, ...path));

/** Statuses each command documents (README, --help): anything else is a failure. */
const STATUS = {
  run: [0, 1, 2, 3, 64],
  walk: [0, 1, 2],
  asm: [0, 1, 2],
  disasm: [0, 2],
  repl: [0, 2, 64],
} as const;

// ── ELF images for `run` ─────────────────────────────────────────────────────

/** ELF header fields worth hitting: e_type, e_machine, e_entry, e_phoff, e_shoff, sizes and counts, e_shstrndx. */
const ELF_HOT = [16, 18, 24, 32, 40, 54, 56, 58, 60, 62];

/** The program and section header fields of an image, as offsets to hit. */
function headerOffsets(image: Uint8Array): number[] {
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const out = [...ELF_HOT];
  const phoff = Number(v.getBigUint64(32, true));
  for (let i = 0; i < v.getUint16(56, true); i++) for (const f of [0, 8, 16, 24, 32, 40]) out.push(phoff + 56 * i + f);
  const shoff = Number(v.getBigUint64(40, true));
  for (let i = 0; i < v.getUint16(60, true); i++) for (const f of [0, 4, 24, 32, 40]) out.push(shoff + 64 * i + f);
  return out.filter((o) => o < image.length);
}

function imageSurface(name: string, guest: string[]): Surface {
  let base: Uint8Array | undefined;
  let hot: number[] = [];
  return {
    name,
    run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
      base ??= new Uint8Array(read(...guest));
      if (!hot.length) hot = headerOffsets(base);
      const image = mutateBytes(r, base, hot);
      const path = scratchFile(`${scratch}.elf`, image);
      const args = ["run", path, "--max-steps", String(1 + r.int(300_000)), "--cpus", String(1 + r.int(4))];
      if (r.chance(0.3)) args.push("--seed", String(r.int(1000)), "--quantum", String(1 + r.int(50)));
      if (r.chance(0.2)) args.push("--tlb-chaos", r.pick(["0.5", "0.01", "1"]));
      return cliCase({ args, allowed: STATUS.run, timeoutMs: 30_000, what: `run ${args.slice(2).join(" ")}` });
    },
  };
}

// ── Vector files for `walk` ──────────────────────────────────────────────────

const JSON_VALUES: unknown[] = [null, true, 0, -1, 1.5, 1e300, "", "0x", "0x1g", "-0x1", "0x" + "f".repeat(17), "1".repeat(30), [], {}, [[1]], "\u001b[2J\n", "x".repeat(300)];

/** Replaces, deletes or adds one field somewhere in a parsed case. */
function mutateJson(r: Random, value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length && r.chance(0.7)) {
      const i = r.int(copy.length);
      copy[i] = r.chance(0.3) ? r.pick(JSON_VALUES) : mutateJson(r, copy[i], depth + 1);
    } else if (r.chance(0.5) && copy.length) copy.push(copy[r.int(copy.length)]);
    else copy.splice(r.int(copy.length + 1), 1);
    return copy;
  }
  if (value && typeof value === "object") {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const k = r.pick(keys.length ? keys : ["x"]);
    const op = r.int(4);
    if (op === 0) delete copy[k];
    else if (op === 1) copy[r.pick(["extra", "mem_afer", "__proto__", "id"])] = r.pick(JSON_VALUES);
    else if (op === 2 || depth > 3) copy[k] = r.pick(JSON_VALUES);
    else copy[k] = mutateJson(r, copy[k], depth + 1);
    return copy;
  }
  return r.chance(0.5) ? r.pick(JSON_VALUES) : `0x${r.interesting().toString(16)}`;
}

const vectorSurface: Surface = {
  name: "vectors",
  run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
    const samples = [...String(read("test", "golden", "vectors", "x86_64-sample.jsonl")).split("\n"), ...String(read("test", "golden", "vectors", "aarch64-sample.jsonl")).split("\n")].filter(Boolean);
    const lines: string[] = [];
    const n = r.int(12);
    for (let i = 0; i < n; i++) {
      const sample = r.pick(samples);
      const kind = r.int(10);
      if (kind < 6) lines.push(JSON.stringify(mutateJson(r, JSON.parse(sample))));
      else if (kind < 8) lines.push(sample);
      else if (kind === 8) lines.push(sample.slice(0, r.int(sample.length)));
      else lines.push(Buffer.from(r.bytes(r.int(80))).toString("latin1"));
    }
    const path = scratchFile(`${scratch}.jsonl`, lines.join(r.chance(0.1) ? "\r\n" : "\n"));
    const args = ["walk", "--vectors", path, ...(r.chance(0.3) ? ["--json"] : [])];
    return cliCase({ args, allowed: STATUS.walk, timeoutMs: 30_000, what: `walk ${lines.length} lines` });
  },
};

// ── Assembly sources for `asm` ───────────────────────────────────────────────

/** Fragments of hostile or unusual source, joined at random. */
function asmFragment(r: Random, arch: "x86_64" | "aarch64"): string {
  const expr = () => {
    const depth = r.pick([1, 10, 100, 3000]);
    const core = r.pick(["1", "x", "_start", ".", "1b", "0x7fffffffffffffff", "'a", "(1/0)"]);
    return r.pick([
      `${"(".repeat(depth)}${core}${")".repeat(depth)}`,
      `${"-".repeat(depth)}${core}`,
      `${"-~".repeat(depth)}${core}`,
      `${core}${" + 1".repeat(depth)}`,
      `${core} ${r.pick(["<<", ">>", "/", "%", "&&", "!", "<>"])} ${r.pick(["64", "0", "-1", "x"])}`,
    ]);
  };
  const insn = arch === "x86_64"
    ? r.pick(["nop", "mov $1, %eax", "jmp 1f", "jl _start", "ret", "movq (%rax,%rbx,8), %rcx", "lea x(%rip), %rax", "int $3", "frob %eax"])
    : r.pick(["nop", "mov x0, #1", "b 1f", "b.lt _start", "ret", "ldr x1, [x2, #8]", "adr x0, x", "svc #0", "frob x0"]);
  return r.pick([
    insn,
    `.quad ${expr()}`,
    `x = ${expr()}`,
    `.rept ${r.pick(["0", "3", "1000", "-1", "100000000", "x"])}\n${insn}\n${r.chance(0.7) ? ".endr" : ""}`,
    `.irp v,${r.pick(["1,2,3", "", "a b c"])}\n.byte \\v\n${r.chance(0.7) ? ".endr" : ""}`,
    `.macro m${r.int(3)} a=1\n${r.pick(["m0 \\a\\a", "m1", ".byte \\a", insn])}\n${r.chance(0.8) ? ".endm" : ""}`,
    `m${r.int(3)} ${r.pick(["1", "x", "'q'", "\"s\""])}`,
    `${r.int(10)}:`,
    `.org ${r.pick(["0x10", "0x100000000", "-1"])}`,
    `.space ${r.pick(["10", "0x40000000", "-1", "x"])}`,
    `.if ${expr()}\n${insn}\n${r.chance(0.8) ? ".endif" : ""}`,
    `.include "${r.pick(["/dev/zero", "/nonexistent", "common.inc", "/etc"])}"`,
    `.section ${r.pick([".text", ".data", ".bss", ".weird"])}`,
    `.ascii "${"\\".repeat(r.int(3))}${Buffer.from(r.bytes(8)).toString("latin1").replace(/["\n\\]/g, "")}"`,
    `.align ${r.pick(["0", "3", "4096", "1073741824", "-1"])}`,
    Buffer.from(r.bytes(1 + r.int(40))).toString("latin1"),
  ]);
}

function asmSurface(arch: "x86_64" | "aarch64"): Surface {
  return {
    name: `asm-${arch === "x86_64" ? "x86" : "arm"}`,
    run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
      let text: string;
      if (r.chance(0.3)) {
        // A guest source with lines deleted, duplicated or replaced.
        const lines = String(read("guest", arch === "x86_64" ? "x86_64" : "aarch64", arch === "x86_64" ? "hello.s" : r.pick(["hello.s", "selftest.s"]))).split("\n");
        for (let i = 0, n = 1 + r.int(5); i < n; i++) {
          const at = r.int(lines.length);
          const op = r.int(3);
          if (op === 0) lines.splice(at, 1);
          else if (op === 1) lines.splice(at, 0, lines[r.int(lines.length)]!);
          else lines[at] = asmFragment(r, arch);
        }
        text = lines.join("\n");
      } else {
        text = Array.from({ length: 1 + r.int(12) }, () => asmFragment(r, arch)).join("\n") + "\n";
      }
      const src = scratchFile(`${scratch}.s`, text);
      const args = ["asm", "--arch", arch, src, "-o", scratchFile(`${scratch}.elf`, ""), "-I", join(ROOT, "guest", arch === "x86_64" ? "x86_64" : "aarch64")];
      return cliCase({ args, allowed: STATUS.asm, timeoutMs: 30_000, what: `asm ${arch}` });
    },
  };
}

// ── Bytes for `disasm` ───────────────────────────────────────────────────────

const disasmSurface: Surface = {
  name: "disasm",
  run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
    const arch = r.pick(["x86_64", "aarch64"] as const);
    const args = ["disasm"];
    let bytes: Uint8Array;
    if (r.chance(0.5)) {
      bytes = r.bytes(r.int(4096));
      args.push("--raw", "--arch", arch, "--base", `0x${r.interesting().toString(16)}`);
    } else {
      const guest = arch === "x86_64" ? ["guest", "x86_64", "hello.elf"] : ["guest", "aarch64", "hello.elf"];
      const base = new Uint8Array(read(...guest));
      bytes = mutateBytes(r, base, headerOffsets(base));
    }
    if (r.chance(0.4)) args.push("--source");
    args.push(scratchFile(`${scratch}.bin`, bytes));
    return cliCase({ args, allowed: STATUS.disasm, timeoutMs: 30_000, what: `disasm ${args.join(" ")}` });
  },
};

// ── REPL command lines ───────────────────────────────────────────────────────

function replLine(r: Random): string {
  const addr = () => r.pick(["_start", "$pc", "$rsp", "$sp", "0x0", "0x100000", "0x40080000", "0x10000000000000000", "-1", "_start+0x10", "nosuch", "$nosuch", "0xffffffffffffffff"]);
  const n = () => r.pick(["1", "8", "0", "-1", "4096", "4097", "99999999", "0x10", "1e3", ""]);
  return r.pick([
    `x/${n()}${r.pick(["", "b", "h", "w", "g", "gp", "xz"])} ${addr()}`,
    `disasm ${addr()} ${n()}`,
    `step ${n()}`, `stepi ${n()}`, "continue", `cpu ${r.pick(["0", "1", "-1", "64", "x", "0x1"])}`,
    `break ${addr()}`, `delete ${addr()}`, `watch ${addr()}`, "regs", `walk ${addr()} ${r.pick(["read", "write", "fetch", "jump"])} ${r.pick(["kernel", "user", "root"])}`,
    `tlb ${r.pick(["", "0", "all", "9 all", "p0", "d1v1"])}`, "cache", "sched", `goto ${n()}`, `replay ${r.pick(["/dev/zero", "/nonexistent", "/etc"])}`,
    `p2m ${addr()} ${r.pick(["", "1", "2", "x"])}`, `domain ${r.pick(["", "1", "9", "x"])}`, "vcpu", `hypercalls ${n()}`, `cpu ${r.pick(["d1v1", "d2v0", "p0", "p9"])}`,
    r.pick([".load /etc/hostname", ".save /tmp/x", ".editor", ".break", ".help", "help"]),
    Buffer.from(r.bytes(1 + r.int(30))).toString("latin1").replace(/[\n\r\x03\x04]/g, " "),
  ]);
}

function replSurface(): Surface {
  return {
    name: "repl",
    run(r: Random): Promise<CaseResult> {
      const lines = Array.from({ length: 1 + r.int(15) }, () => replLine(r));
      const arch = r.pick(["x86_64", "aarch64"] as const);
      const image = join(ROOT, "guest", arch, "hello.elf");
      return cliCase({ args: ["repl", image, "--cpus", String(1 + r.int(4)), ...hypervisorArgs(r, arch)], input: lines.join("\n") + "\n", allowed: STATUS.repl, timeoutMs: 60_000, errorsOn: "stdout", what: `repl: ${lines.join(" | ")}` });
    },
  };
}

/** A schedule file recorded from hello on 2 CPUs, made once per process with the bundled CLI. */
let recorded: string | undefined;
function recordedSchedule(scratch: string): string {
  if (recorded) return recorded;
  // In the scratch directory, never the working tree.
  const path = scratchFile(`${scratch}-recorded.json`, "");
  const r = spawnSync(process.execPath, [join(ROOT, "dist", "cli.js"), "run", join(ROOT, "guest", "x86_64", "hello.elf"), "--cpus", "2", "--seed", "3", "--quantum", "200", "--record", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`fuzz: cannot record a schedule to mutate: ${r.stderr}`);
  recorded = readFileSync(path, "utf8");
  return recorded;
}

const scheduleSurface: Surface = {
  name: "schedules",
  run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
    const base = JSON.parse(recordedSchedule(scratch)) as Record<string, unknown>;
    const kind = r.int(10);
    let text: string;
    if (kind < 6) text = JSON.stringify(mutateJson(r, base));
    else if (kind < 8) {
      // A hostile decision list: huge counts, CPUs that do not exist, continuation steps with nothing to step.
      const d = [r.int(4), r.pick([1, 0, -1, 2 ** 53]), r.int(3), r.pick([1, 1e9, 2 ** 40])];
      text = JSON.stringify({ ...base, decisions: [r.chance(0.5) ? d : [r.int(3), "hv", r.pick([1, 1e9, 0])]] });
    } else if (kind === 8) text = JSON.stringify(base).slice(0, r.int(JSON.stringify(base).length));
    else text = Buffer.from(r.bytes(r.int(200))).toString("latin1");
    const path = scratchFile(`${scratch}.json`, text);
    // A schedule may ask for a billion decisions, each followed one at a time: --max-steps bounds the replay (hello takes some 13,000).
    const args = ["run", join(ROOT, "guest", "x86_64", "hello.elf"), "--replay", path, "--max-steps", String(1 + r.int(2_000_000))];
    return cliCase({ args, allowed: STATUS.run, timeoutMs: 60_000, what: `run --replay (kind ${kind})` });
  },
};

/**
 * Cost-model files for `run --cost-model` (with --stats and a --trace, so
 * that odd constants reach the clock and the trace writer): the default
 * table mutated as JSON, cut short, or bytes.
 */
const costModelSurface: Surface = {
  name: "cost-models",
  run(r: Random, _index: number, scratch: string): Promise<CaseResult> {
    const kind = r.int(10);
    const base = { ...COST_MODEL };
    const text = kind < 7 ? JSON.stringify(mutateJson(r, base))
      : kind < 9 ? JSON.stringify(base).slice(0, r.int(JSON.stringify(base).length))
      : Buffer.from(r.bytes(r.int(200))).toString("latin1");
    const path = scratchFile(`${scratch}.json`, text);
    const trace = scratchFile(`${scratch}.trace.json`, "");
    const args = ["run", join(ROOT, "guest", "x86_64", "hello.elf"), "--cpus", String(1 + r.int(4)), "--cost-model", path, "--stats", "--trace", trace];
    return cliCase({ args, allowed: STATUS.run, timeoutMs: 60_000, what: `run --cost-model (kind ${kind})` });
  },
};

/** Every surface, in the order the report lists them. */
export const SURFACES: Surface[] = [
  imageSurface("run-x86", ["guest", "x86_64", "hello.elf"]),
  imageSurface("run-arm", ["guest", "aarch64", "hello.elf"]),
  vectorSurface,
  asmSurface("x86_64"),
  asmSurface("aarch64"),
  disasmSurface,
  gdbSurface,
  replSurface(),
  scheduleSurface,
  costModelSurface,
  hypercallSurface,
  hvmHypercallSurface,
  hvmSharingSurface,
];
