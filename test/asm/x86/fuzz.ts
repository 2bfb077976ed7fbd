// SPDX-License-Identifier: MIT
//
// Random statements over the floor (a seeded generator, so a failure
// reproduces): registers of every size, immediates near the edges of each
// field, and memory operands with and without base, index, displacement,
// segment override and 32-bit addressing. Some combinations are invalid on
// purpose; GNU as decides which.

import { prng } from "../../helpers/prng.ts";

const R64 = "rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15".split(" ");
const R32 = "eax ecx edx ebx esp ebp esi edi r8d r9d r10d r11d r12d r13d r14d r15d".split(" ");
const R16 = "ax cx dx bx sp bp si di r8w r9w r10w r11w r12w r13w r14w r15w".split(" ");
const R8 = "al cl dl bl spl bpl sil dil r8b r9b r10b r11b r12b r13b r14b r15b ah ch dh bh".split(" ");
const REGS: Record<number, string[]> = { 8: R8, 16: R16, 32: R32, 64: R64 };
const SUFFIX: Record<number, string> = { 8: "b", 16: "w", 32: "l", 64: "q" };
const IMMEDIATES = ["0", "1", "-1", "2", "0x7f", "0x80", "-0x80", "-0x81", "0xff", "0x100", "0x7fff", "0x8000", "0xffff", "-0x8000", "0x12345678", "0x7fffffff", "0x80000000", "-0x80000000", "0xffffffff", "0xffffff80", "0x123456789", "-2", "3", "63"];
const DISPLACEMENTS = ["", "", "0", "1", "-1", "0x7f", "0x80", "-0x80", "-0x81", "0x1234", "-0x1234", "0x7fffffff", "-0x80000000"];
const CONDITIONS = "o no b c nae ae nb nc e z ne nz be na a nbe s ns p pe np po l nge ge nl le ng g nle".split(" ");


export function fuzzStatements(seed: number, count: number): string[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const size = () => pick([8, 16, 32, 64]);
  const reg = (s: number) => `%${pick(REGS[s]!)}`;
  const imm = () => `$${pick(IMMEDIATES)}`;
  const mem = () => {
    const a32 = rnd() < 0.08;
    const names = a32 ? R32 : R64;
    const seg = rnd() < 0.08 ? `%${pick(["fs", "gs", "ds", "ss", "es", "cs"])}:` : "";
    if (rnd() < 0.08) return `${seg}${pick(["0x10", "0x1234", "-8", "0x7ffffff0"])}${a32 ? "" : "(%rip)"}`;
    if (rnd() < 0.08) return `${seg}${pick(["0x10", "0x1234", "-8", "0x7fffffff"])}`;
    const base = rnd() < 0.85 ? `%${pick(names)}` : "";
    const index = rnd() < 0.4 ? `,%${pick(names.filter((r) => r !== "rsp" && r !== "esp"))}${rnd() < 0.7 ? `,${pick([1, 2, 4, 8])}` : ""}` : "";
    if (!base && !index) return `${seg}${pick(["0x10", "-8"])}`;
    return `${seg}${pick(DISPLACEMENTS)}(${base}${index})`;
  };
  const rm = (s: number) => (rnd() < 0.5 ? reg(s) : mem());
  const sfx = (s: number, operandIsMem: boolean) => (operandIsMem || rnd() < 0.3 ? SUFFIX[s]! : "");

  const forms: (() => string)[] = [
    () => {
      const op = pick(["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "mov", "test", "xchg"]);
      const s = size();
      const r = rnd();
      if (r < 0.35) return `${op} ${reg(s)},${reg(s)}`;
      if (r < 0.55) return `${op} ${reg(s)},${mem()}`;
      if (r < 0.7 && op !== "test") return `${op} ${mem()},${reg(s)}`;
      if (op === "xchg") return `${op} ${reg(s)},${reg(s)}`;
      const m = rnd() < 0.4;
      return `${op}${sfx(s, m)} ${imm()},${m ? mem() : reg(s)}`;
    },
    () => {
      const op = pick(["inc", "dec", "neg", "not", "mul", "imul", "div", "idiv"]);
      const s = size();
      const m = rnd() < 0.5;
      return `${rnd() < 0.1 && m && ["inc", "dec", "neg", "not"].includes(op) ? "lock " : ""}${op}${sfx(s, m)} ${m ? mem() : reg(s)}`;
    },
    () => {
      const s = pick([16, 32, 64]);
      const r = rnd();
      if (r < 0.4) return `imul ${rm(s)},${reg(s)}`;
      if (r < 0.7) return `imul ${imm()},${rm(s)},${reg(s)}`;
      return `imul ${imm()},${reg(s)}`;
    },
    () => {
      const op = pick(["rol", "ror", "rcl", "rcr", "shl", "sal", "shr", "sar"]);
      const s = size();
      const m = rnd() < 0.4;
      const dst = m ? mem() : reg(s);
      return pick([`${op}${sfx(s, m)} ${dst}`, `${op}${sfx(s, m)} $1,${dst}`, `${op}${sfx(s, m)} $${pick(["2", "7", "31", "63", "0x80", "0xff"])},${dst}`, `${op}${sfx(s, m)} %cl,${dst}`]);
    },
    () => {
      const op = pick(["bt", "bts", "btr", "btc"]);
      const s = pick([16, 32, 64]);
      const m = rnd() < 0.5;
      return rnd() < 0.5 ? `${op} ${reg(s)},${m ? mem() : reg(s)}` : `${op}${sfx(s, m)} $${pick(["0", "5", "31", "63", "0xff"])},${m ? mem() : reg(s)}`;
    },
    () => `set${pick(CONDITIONS)} ${rm(8)}`,
    () => {
      const s = pick([16, 32, 64]);
      return `cmov${pick(CONDITIONS)} ${rm(s)},${reg(s)}`;
    },
    () => {
      const op = pick(["push", "pop"]);
      const s = pick([16, 64]);
      const r = rnd();
      if (r < 0.4) return `${op} ${reg(s)}`;
      if (r < 0.7) return `${op}${s === 16 ? "w" : pick(["", "q"])} ${mem()}`;
      return op === "push" ? `push${pick(["", "q", "w"])} ${imm()}` : `pop ${reg(64)}`;
    },
    () => `lea ${mem()},${reg(pick([16, 32, 64]))}`,
    () => {
      const s = pick([8, 16, 32, 64]);
      return `${rnd() < 0.3 ? "lock " : ""}${pick(["cmpxchg", "xadd"])} ${reg(s)},${rm(s)}`;
    },
    () => {
      const [mn, src, dst] = pick([["movzb", 8, pick([16, 32, 64])], ["movzw", 16, pick([32, 64])], ["movsb", 8, pick([16, 32, 64])], ["movsw", 16, pick([32, 64])], ["movsl", 32, 64]] as const);
      return `${mn}${SUFFIX[dst]} ${rm(src)},${reg(dst)}`;
    },
    () => `${pick(["call", "jmp"])} *${rnd() < 0.5 ? reg(64) : mem()}`,
    () => pick([`in $${pick(["0", "0x60", "0xff"])},%${pick(["al", "ax", "eax"])}`, `in %dx,%${pick(["al", "ax", "eax"])}`, `out %${pick(["al", "ax", "eax"])},$${pick(["0", "0x80"])}`, `out %${pick(["al", "ax", "eax"])},%dx`]),
    () => pick([`nop${pick(["w", "l", "q"])} ${mem()}`, `nop ${reg(pick([16, 32, 64]))}`, `invlpg ${mem()}`, `clflush ${mem()}`, `lidt ${mem()}`, `lgdt ${mem()}`, `invpcid ${mem()},${reg(64)}`, `ltr ${rm(16)}`]),
    () => {
      const r = rnd();
      if (r < 0.3) return `mov %cr${pick([0, 2, 3, 4, 8])},${reg(64)}`;
      if (r < 0.6) return `mov ${reg(64)},%cr${pick([0, 2, 3, 4, 8])}`;
      if (r < 0.8) return `movabs $${pick(["0x123456789abcdef0", "-1", "0x80000000"])},${reg(64)}`;
      return `mov $${pick(IMMEDIATES)},${reg(64)}`;
    },
    () => `${pick(["{load} ", "{store} ", "{disp8} ", "{disp32} ", "lock ", ""])}${pick(["add", "mov", "sub", "cmp"])} ${reg(32)},${rnd() < 0.5 ? reg(32) : mem()}`,
  ];
  return Array.from({ length: count }, () => pick(forms)());
}

/** One-byte and 0F opcodes of the floor (and some neighbours) for random byte strings. */
const ONE_BYTE = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x09, 0x0b, 0x0d, 0x10, 0x13, 0x18, 0x1b, 0x20, 0x23, 0x25, 0x28, 0x2b, 0x30, 0x31, 0x33, 0x38, 0x39, 0x3b, 0x3c,
  0x50, 0x53, 0x58, 0x5c, 0x63, 0x68, 0x69, 0x6a, 0x6b, 0x70, 0x74, 0x7f, 0x80, 0x81, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x8f, 0x90,
  0x91, 0x97, 0x98, 0x99, 0x9c, 0x9d, 0xa0, 0xa1, 0xa2, 0xa3, 0xa8, 0xa9, 0xb0, 0xb4, 0xb8, 0xbc, 0xc0, 0xc1, 0xc2, 0xc3, 0xc6, 0xc7, 0xc8, 0xc9, 0xcc, 0xcd,
  0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xeb, 0xec, 0xed, 0xee, 0xef, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd,
  0xfe, 0xff,
];
const TWO_BYTE = [
  0x00, 0x01, 0x05, 0x07, 0x08, 0x09, 0x0b, 0x1f, 0x20, 0x22, 0x30, 0x31, 0x32, 0x40, 0x44, 0x4f, 0x80, 0x84, 0x8f, 0x90, 0x94, 0x9f, 0xa2, 0xa3, 0xab, 0xae,
  0xaf, 0xb0, 0xb1, 0xb3, 0xb6, 0xb7, 0xba, 0xbb, 0xbe, 0xbf, 0xc0, 0xc1, 0xc8, 0xcf,
];
const PREFIXES = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x64, 0x65, 0x26, 0x36];
const MODRM_BYTES = [0x00, 0x04, 0x05, 0x24, 0x25, 0x44, 0x45, 0x80, 0x84, 0xc0, 0xff, 0x7f];

/** Random byte strings that start with an instruction of the floor or near it, with random prefixes and REX. */
export function fuzzBytes(seed: number, count: number): string[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const bytes: number[] = [];
    while (rnd() < 0.25) bytes.push(pick(PREFIXES));
    if (rnd() < 0.4) bytes.push(0x40 + Math.floor(rnd() * 16));
    if (rnd() < 0.3) bytes.push(0x0f, ...(rnd() < 0.03 ? [0x38, 0x82] : [pick(TWO_BYTE)]));
    else bytes.push(pick(ONE_BYTE));
    for (let i = 0; i < 12; i++) bytes.push(rnd() < 0.3 ? pick(MODRM_BYTES) : Math.floor(rnd() * 256));
    return Buffer.from(bytes).toString("hex");
  });
}
