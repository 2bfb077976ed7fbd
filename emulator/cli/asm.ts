// SPDX-License-Identifier: MIT
//
// `shootdown asm` and `shootdown disasm`: like `as` (sources in, one linked
// ELF64 image out, GNU-as-style diagnostics on stderr, no output file when
// anything failed) and like `objdump -d`.

import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { ShootdownError } from "../machine/core/errors.ts";
import { UsageError, parseCommandLine, addressOption, choiceOption, shown } from "./options.ts";
import { readBounded, readBoundedText, InputFileError, MAX_DISASM_FILE_BYTES, MAX_SOURCE_FILE_BYTES } from "./input-file.ts";
import {
  assemble, backendFor, AsmError, formatDiagnostic, formatListing, readElf, toSource, writeElf, ElfError,
  type ArchName, type Program,
} from "../../asm/index.ts";

export const ASM_USAGE = `usage: shootdown asm --arch x86_64|aarch64 SRC... -o OUT [options]

Assembles GNU as sources (AT&T syntax on x86-64, standard syntax on AArch64)
into one statically linked ELF64 executable. Diagnostics go to stderr as
"file:line: Error: message"; when there is any error no output is written.

  --arch A              x86_64 or aarch64
  -o, --output OUT      the image to write
  --base ADDR           address of .text (default 0x100000 on x86_64,
                        0x40080000 on aarch64); later sections follow on
                        4 KiB boundaries
  -T NAME=ADDR          place a section, as ld's -Ttext=ADDR
                        (e.g. -Tdata=0x200000, -T.rodata=0x180000)
  -I DIR                search DIR for .include files
  -e, --entry SYM       the entry symbol (default _start, else .text)
  --binary              write the raw bytes from the lowest section address
                        instead of ELF (gaps zero-filled, .bss left out)

Exit status: 0 assembled; 1 a source has errors or cannot be read; 2 OUT
cannot be written; 64 bad options.`;

export const DISASM_USAGE = `usage: shootdown disasm [--arch x86_64|aarch64] FILE [options]

Disassembles the code sections of an ELF64 image as objdump -d prints them.

  --arch A              check the image is for A (needed with --raw)
  --source              print source that assembles back to the same bytes
  --raw                 FILE is raw bytes (with --arch and --base)
  --base ADDR           address of the first byte of a raw file

Exit status: 0 listed; 2 the file cannot be read or is not an image; 64 bad
options; 141 stdout was closed before the end (| head).`;

const ARCHES = ["x86_64", "aarch64"] as const satisfies readonly ArchName[];

function parseArch(value: string | undefined, required: boolean): ArchName | undefined {
  if (value === undefined) {
    if (required) throw new UsageError("--arch is required (x86_64 or aarch64)");
    return undefined;
  }
  return choiceOption("--arch", value, ARCHES);
}

const ASM_OPTIONS = {
  arch: { type: "string" },
  output: { type: "string", short: "o" },
  base: { type: "string" },
  section: { type: "string", short: "T", multiple: true },
  include: { type: "string", short: "I", multiple: true },
  entry: { type: "string", short: "e" },
  binary: { type: "boolean" },
  help: { type: "boolean" },
} as const;

const DISASM_OPTIONS = {
  arch: { type: "string" },
  source: { type: "boolean" },
  raw: { type: "boolean" },
  base: { type: "string" },
  help: { type: "boolean" },
} as const;

export function asmCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseCommandLine(args, ASM_OPTIONS, { command: "asm", afterDashDash: "operands" });
  if (values.help) {
    out(ASM_USAGE);
    return 0;
  }
  const arch = parseArch(values.arch, true)!;
  if (!positionals.length) throw new UsageError("no source files");
  if (!values.output) throw new UsageError("-o OUT is required");
  const starts = new Map<string, bigint>();
  if (values.base !== undefined) starts.set(".text", addressOption("--base", values.base));
  for (const spec of values.section ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(spec);
    if (!m) throw new UsageError(`-T wants NAME=ADDR (e.g. -Ttext=0x100000), not '-T${shown(spec)}'`);
    const name = m[1]!.startsWith(".") ? m[1]! : `.${m[1]}`;
    starts.set(name, addressOption(`-T${shown(m[1]!)}`, m[2]!));
  }

  const sources = [];
  const missing: string[] = [];
  for (const path of positionals) {
    try {
      sources.push({ path, text: readBoundedText(path, "a source file", MAX_SOURCE_FILE_BYTES) });
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      const why = e.message.slice(`cannot read ${path}: `.length);
      missing.push(`Error: can't open ${path} for reading: ${why === "ENOENT" ? "No such file or directory" : why}`);
    }
  }
  if (missing.length) {
    process.stderr.write(`Assembler messages:\n${missing.join("\n")}\n`);
    return 1;
  }
  // An .include of a FIFO or a huge file is refused as the sources are; a missing one is GNU as's "can't open".
  const readFile = (path: string) => {
    try {
      return readBoundedText(path, "an included file", MAX_SOURCE_FILE_BYTES);
    } catch (e) {
      if (!(e instanceof InputFileError)) throw e;
      if (/: ENOENT$|: ENOTDIR$/.test(e.message)) return undefined;
      throw new AsmError(e.message);
    }
  };
  const result = assemble(arch, { sources, readFile, includeDirs: values.include ?? [], sectionStarts: starts, ...(values.entry ? { entry: values.entry } : {}) });
  if (result.diagnostics.length) {
    const byFile = result.diagnostics[0]!.loc.file || positionals[0]!;
    process.stderr.write(`${byFile}: Assembler messages:\n${result.diagnostics.map(formatDiagnostic).join("\n")}\n`);
  }
  if (!result.program) return 1;
  const image = values.binary ? rawImage(result.program) : writeElf(result.program);
  try {
    writeFileSync(values.output, image);
  } catch (e) {
    throw new ShootdownError(`cannot write ${values.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return 0;
}

/** The loaded bytes from the lowest section address, as objcopy -O binary. */
function rawImage(p: Program): Uint8Array {
  const loaded = p.sections.filter((s) => s.flags.alloc && s.type === "progbits" && s.size > 0);
  if (!loaded.length) return new Uint8Array(0);
  const low = loaded.reduce((m, s) => (s.address < m ? s.address : m), loaded[0]!.address);
  const high = loaded.reduce((m, s) => (s.address + BigInt(s.size) > m ? s.address + BigInt(s.size) : m), 0n);
  if (high - low > 1n << 30n) throw new ShootdownError(`a raw image from 0x${low.toString(16)} to 0x${high.toString(16)} would be larger than 1 GiB; write ELF instead`);
  const out = new Uint8Array(Number(high - low));
  for (const s of loaded) out.set(s.bytes, Number(s.address - low));
  return out;
}

export function disasmCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseCommandLine(args, DISASM_OPTIONS, { command: "disasm", afterDashDash: "operands" });
  if (values.help) {
    out(DISASM_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `disasm takes one FILE, not ${positionals.length}` : "no FILE");
  const file = positionals[0]!;
  // Every option is checked before the file is read: a usage error is status 64 whatever the file.
  const want = parseArch(values.arch, values.raw ?? false);
  if (values.base !== undefined && !values.raw) throw new UsageError("--base is for --raw (an ELF image says where it is loaded)");
  const base = values.base === undefined ? 0n : addressOption("--base", values.base);
  const data: Uint8Array = readBounded(file, "a file to disassemble", MAX_DISASM_FILE_BYTES);
  let program: Program;
  if (values.raw) {
    program = {
      arch: want!,
      entry: base,
      symbols: [],
      sections: [{ name: ".text", type: "progbits", flags: { alloc: true, write: false, exec: true }, address: base, align: 1, size: data.length, bytes: data }],
    };
  } else {
    try {
      const elf = readElf(data);
      if (want && want !== elf.arch) throw new ShootdownError(`${file} is an ${elf.arch} image, not ${want}`);
      program = { arch: elf.arch, entry: elf.entry, sections: elf.sections, symbols: elf.symbols };
      for (const w of elf.warnings) process.stderr.write(`shootdown disasm: warning: ${file}: ${w}\n`);
    } catch (e) {
      if (e instanceof ElfError) throw new ShootdownError(`${file}: ${e.message}`);
      throw e;
    }
  }
  const backend = backendFor(program.arch);
  if (values.source) {
    const { text, sectionStarts } = toSource(program, backend);
    const placement = [...sectionStarts].map(([n, a]) => `-T${n}=0x${a.toString(16)}`).join(" ");
    out(`# shootdown asm --arch ${program.arch} ${placement} FILE -o OUT`);
    out(text.trimEnd());
  } else {
    out(formatListing(program, backend, basename(file)));
  }
  return 0;
}
