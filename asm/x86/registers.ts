// SPDX-License-Identifier: MIT
//
// The registers an AT&T operand can name, as GNU as spells them, and the
// names objdump prints for a register number of a given size.
//
// A general register's number is the 4-bit value the encoding carries: the
// low three bits in ModRM.reg, ModRM.rm, SIB or the opcode, the fourth in
// REX.R, REX.B or REX.X (SDM Vol.2A 2.2.1.2). Numbers 4-7 of the byte
// registers are %ah/%ch/%dh/%bh without a REX prefix and %spl/%bpl/%sil/%dil
// with one (SDM Vol.2A 3.7.2.1, Table 3-2), which is why the high-byte
// registers cannot appear in an instruction that needs REX.

export type Size = 8 | 16 | 32 | 64;

export type Register =
  | { kind: "gpr"; name: string; size: Size; num: number; /** %spl..%dil: only with REX */ needsRex?: boolean; /** %ah..%bh: only without REX */ high?: boolean }
  | { kind: "cr"; name: string; num: number }
  | { kind: "seg"; name: string; num: number; /** the segment-override prefix byte */ prefix: number }
  | { kind: "rip"; name: string; size: 32 | 64 };

export type GeneralRegister = Extract<Register, { kind: "gpr" }>;

export const NAMES_64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
export const NAMES_32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
export const NAMES_16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
/** Byte registers when the instruction has a REX prefix. */
export const NAMES_8_REX = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];
/** Byte registers 0-7 without REX. */
export const NAMES_8_LEGACY = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];

/** Segment registers in the order of the Sreg field (SDM Vol.2A Table B-6) with their override prefixes. */
export const SEGMENTS = [
  { name: "es", prefix: 0x26 },
  { name: "cs", prefix: 0x2e },
  { name: "ss", prefix: 0x36 },
  { name: "ds", prefix: 0x3e },
  { name: "fs", prefix: 0x64 },
  { name: "gs", prefix: 0x65 },
];

const REGISTERS = new Map<string, Register>();

function addGprs(names: string[], size: Size): void {
  names.forEach((name, num) => REGISTERS.set(name, { kind: "gpr", name, size, num }));
}
addGprs(NAMES_64, 64);
addGprs(NAMES_32, 32);
addGprs(NAMES_16, 16);
NAMES_8_REX.forEach((name, num) => {
  REGISTERS.set(name, { kind: "gpr", name, size: 8, num, needsRex: num >= 4 && num < 8 });
});
["ah", "ch", "dh", "bh"].forEach((name, i) => REGISTERS.set(name, { kind: "gpr", name, size: 8, num: 4 + i, high: true }));
for (let num = 0; num < 16; num++) REGISTERS.set(`cr${num}`, { kind: "cr", name: `cr${num}`, num });
SEGMENTS.forEach(({ name, prefix }, num) => REGISTERS.set(name, { kind: "seg", name, num, prefix }));
REGISTERS.set("rip", { kind: "rip", name: "rip", size: 64 });
REGISTERS.set("eip", { kind: "rip", name: "eip", size: 32 });

/** The register GNU as knows by this name (without the %), any case. */
export function lookupRegister(name: string): Register | undefined {
  return REGISTERS.get(name.toLowerCase());
}

/** objdump's name for general register `num` of `size`; `rex` says whether the instruction has a REX prefix. */
export function gprName(num: number, size: Size, rex: boolean): string {
  switch (size) {
    case 64: return NAMES_64[num]!;
    case 32: return NAMES_32[num]!;
    case 16: return NAMES_16[num]!;
    case 8: return rex ? NAMES_8_REX[num]! : NAMES_8_LEGACY[num]!;
  }
}

/** The suffix letter GNU as and objdump use for an operand size. */
export const SUFFIX: Record<Size, string> = { 8: "b", 16: "w", 32: "l", 64: "q" };
export const SUFFIX_SIZE: Record<string, Size> = { b: 8, w: 16, l: 32, q: 64 };
