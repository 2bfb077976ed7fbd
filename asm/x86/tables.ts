// SPDX-License-Identifier: MIT
//
// The instruction table the encoder and the decoder share: one row per
// encoding, written as the SDM writes it (Vol.2A 3.1.1 "Instruction Format",
// Vol.2D Appendix A.2 "Key to Abbreviations"): the opcode column
// ("0F B6 /r", "83 /0", "B8+r", "F3 90", "0F 01 F8") and the operands in
// Intel order with the opcode map's codes:
//
//   E  ModRM.rm: a general register or memory     G  ModRM.reg: a general register
//   M  ModRM.rm: memory only                       R  ModRM.rm: a general register only
//   C  ModRM.reg: a control register               Z  the low three bits of the opcode ("+r")
//   I  an immediate                                J  a relative branch offset
//   O  a 64-bit absolute address (moffs)           AL rAX eAX CL DX 1  that operand itself
//   X  memory at DS:rSI (string source)            Y  memory at ES:rDI (string destination)
//   S  ModRM.reg: a segment register
//
// and the size codes b (byte), w (word), d (doubleword), q (quadword),
// v (the operand size: 16, 32 or 64), y (32 or 64), z (the operand size, but
// at most 32 bits: the immediate of a 64-bit operation is sign-extended),
// and bs (a byte sign-extended to the operand size, SDM "imm8" under 83 and
// 6B). Byte forms of the ALU take "Iz" at operand size 8, as GNU as treats
// their immediate like any other operand-size immediate.
//
// Rows for one mnemonic are in GNU as's template order (opcodes/i386-opc.tbl):
// the assembler takes the first row that fits, which is how GNU as picks
// the sign-extended imm8 form over imm32 and the %al/%ax/%eax/%rax short
// forms over ModRM ones. objdump's mnemonic is the row's mnemonic; GNU as
// also reaches a row through `gas` aliases and suffixes (add + l).
//
// Flags:
//   sizes=16,64  operand sizes (default: 16,32,64 with a v code, 32,64 with y, 8 for a byte register or r/m)
//   d64          64-bit operand size without REX.W (SDM "d64"/"f64": push, pop, near branches, mov to CRn)
//   lock         takes LOCK with a memory destination (SDM Vol.3A 9.1.2.2)
//   store/load   the two directions of a reg,reg form; GNU as picks store unless {load}
//   sfx=Q|P|R    objdump's suffix: Q for a memory operand, P only for 16-bit (push), R always (movzbl)
//   imm=size|type|trunc   GNU as's complaint about an immediate out of range
//   asm          assembler only (an operand order or spelling; the decoder uses the canonical row)
//   dis          decoder only (an alias encoding GNU as never writes, such as SAL's /6)
//   dup          the G register is also the E operand (imul $imm,%reg)
//   moffs        gas's `mov` takes this row only for an address beyond signed 32 bits
//   rep          takes a REP/REPZ prefix (repz ret)
//   hle=any|release  takes XACQUIRE/XRELEASE without LOCK (xchg), or XRELEASE on a store (mov); rows
//                marked lock take them with LOCK (SDM Vol.1 16.3.3)
//   noreverse    AT&T keeps Intel's operand order (enter)
//   gas=mov      another mnemonic GNU as accepts for this row

import type { Size } from "./registers.ts";

export type Method = "E" | "G" | "M" | "R" | "C" | "Z" | "I" | "J" | "O" | "X" | "Y" | "S" | "AL" | "rAX" | "eAX" | "CL" | "DX" | "1";
export type Width = "b" | "w" | "d" | "q" | "v" | "y" | "z" | "bs" | "";

export interface Spec {
  method: Method;
  width: Width;
}

export interface Form {
  /** objdump's mnemonic (without any suffix objdump adds). */
  mnemonic: string;
  /** Further mnemonics GNU as accepts for this row. */
  gas: string[];
  /** A mandatory prefix (SDM "66", "F3" in the opcode column). */
  prefix?: number;
  opcode: number[];
  /** ModRM.reg as an opcode extension, "/digit". */
  ext?: number;
  /** A whole ModRM byte fixed by the opcode (0F 01 F8 SWAPGS). */
  modrm?: number;
  /** The register is added to the last opcode byte ("+r"). */
  plusReg: boolean;
  /** Operands in Intel order. */
  operands: Spec[];
  sizes: Size[];
  default64: boolean;
  lock: boolean;
  direction?: "load" | "store";
  suffix: "" | "Q" | "P" | "R";
  immError: "size" | "type" | "trunc";
  asmOnly: boolean;
  disOnly: boolean;
  dup: boolean;
  moffs: boolean;
  rep: boolean;
  hle?: "any" | "release";
  noReverse: boolean;
  /** Position in FORMS. */
  index: number;
}

/** Whether the form has a ModRM byte. */
export function hasModrm(f: Form): boolean {
  return f.modrm !== undefined || f.ext !== undefined || f.operands.some((s) => "EGMRCS".includes(s.method));
}

/** The size in bits of an operand with this width at operand size `osize`. */
export function widthSize(width: Width, osize: Size | undefined): Size | undefined {
  switch (width) {
    case "b": case "bs": return 8;
    case "w": return 16;
    case "d": return 32;
    case "q": return 64;
    case "v": case "y": return osize;
    case "z": return osize === 64 ? 32 : osize;
    case "": return undefined;
  }
}

/** The condition codes in encoding order (SDM Vol.2D Table B-1), objdump's spelling first, then the other spellings GNU as accepts. */
export const CONDITIONS: string[][] = [
  ["o"], ["no"], ["b", "c", "nae"], ["ae", "nb", "nc"], ["e", "z"], ["ne", "nz"], ["be", "na"], ["a", "nbe"],
  ["s"], ["ns"], ["p", "pe"], ["np", "po"], ["l", "nge"], ["ge", "nl"], ["le", "ng"], ["g", "nle"],
];

type Row = [mnemonic: string, opcode: string, operands: string, flags?: string];

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");

/** ADD, OR, ADC, SBB, AND, SUB, XOR, CMP: the opcode column is the same for all eight but the base and /digit (SDM Vol.2D Table A-6 group 1). */
function alu(name: string, digit: number): Row[] {
  const base = digit * 8;
  const lock = name === "cmp" ? "" : "lock ";
  return [
    [name, `${hex(base)} /r`, "Eb,Gb", `${lock}store`],
    [name, `${hex(base + 1)} /r`, "Ev,Gv", `${lock}store`],
    [name, `${hex(base + 2)} /r`, "Gb,Eb", "load"],
    [name, `${hex(base + 3)} /r`, "Gv,Ev", "load"],
    [name, `83 /${digit}`, "Ev,Ibs", `${lock}sfx=Q`],
    [name, hex(base + 4), "AL,Iz"],
    [name, hex(base + 5), "rAX,Iz"],
    [name, `80 /${digit}`, "Eb,Iz", `${lock}sfx=Q`],
    [name, `81 /${digit}`, "Ev,Iz", `${lock}sfx=Q`],
  ];
}

/** Group 3 one-operand forms: NOT, NEG, MUL, IMUL, DIV, IDIV (F6/F7 /digit). */
function unary(name: string, digit: number, flags = ""): Row[] {
  return [
    [name, `F6 /${digit}`, "Eb", `sfx=Q ${flags}`],
    [name, `F7 /${digit}`, "Ev", `sfx=Q ${flags}`],
  ];
}

/** Group 2 rotates and shifts (C0, C1, D0-D3 /digit). */
function shift(name: string, digit: number, gas = ""): Row[] {
  return [
    [name, `D0 /${digit}`, "Eb,1", `sfx=Q ${gas}`],
    [name, `D1 /${digit}`, "Ev,1", `sfx=Q ${gas}`],
    [name, `C0 /${digit}`, "Eb,Ib", `sfx=Q imm=type ${gas}`],
    [name, `C1 /${digit}`, "Ev,Ib", `sfx=Q imm=type ${gas}`],
    [name, `D2 /${digit}`, "Eb,CL", `sfx=Q ${gas}`],
    [name, `D3 /${digit}`, "Ev,CL", `sfx=Q ${gas}`],
    // GNU as's one-operand spelling of a shift by one.
    [name, `D0 /${digit}`, "Eb", `sfx=Q asm ${gas}`],
    [name, `D1 /${digit}`, "Ev", `sfx=Q asm ${gas}`],
  ];
}

/** BT, BTS, BTR, BTC (SDM Vol.2A; 0F BA is group 8). */
function bitTest(name: string, opcode: number, digit: number): Row[] {
  const lock = name === "bt" ? "" : "lock ";
  return [
    [name, `0F ${hex(opcode)} /r`, "Ev,Gv", lock],
    [name, `0F BA /${digit}`, "Ev,Ib", `${lock}sfx=Q imm=type`],
  ];
}

const conditional = (make: (cc: string, n: number) => Row[]): Row[] =>
  CONDITIONS.flatMap((names, n) => make(names[0]!, n));

const ROWS: Row[] = [
  // MOV (SDM Vol.2B "MOV"; moffs rows are objdump's movabs).
  ["movabs", "A0", "AL,Ob", "moffs gas=mov"],
  ["movabs", "A1", "rAX,Ov", "moffs gas=mov"],
  ["movabs", "A2", "Ob,AL", "moffs gas=mov"],
  ["movabs", "A3", "Ov,rAX", "moffs gas=mov"],
  ["mov", "88 /r", "Eb,Gb", "store hle=release"],
  ["mov", "89 /r", "Ev,Gv", "store hle=release"],
  ["mov", "8A /r", "Gb,Eb", "load"],
  ["mov", "8B /r", "Gv,Ev", "load"],
  ["mov", "B0+r", "Zb,Iz"],
  ["mov", "B8+r", "Zv,Iz", "sizes=16,32"],
  ["mov", "C6 /0", "Eb,Iz", "sfx=Q hle=release"],
  ["mov", "C7 /0", "Ev,Iz", "sfx=Q hle=release"],
  ["movabs", "B8+r", "Zv,Iv", "sizes=64 gas=mov"],
  // MOV to and from control registers: always 64-bit in 64-bit mode (SDM Vol.2B "MOV—Move to/from Control Registers").
  ["mov", "0F 20 /r", "Ry,Cy", "sizes=64 d64"],
  ["mov", "0F 22 /r", "Cy,Ry", "sizes=64 d64"],
  // MOV to and from segment registers (SDM Vol.2B "MOV", 8C and 8E). GNU as writes 66 only for a 16-bit
  // register destination of 8C and never REX.W (the selector is zero-extended anyway); objdump reads
  // 66 and REX.W as the register's size.
  ["mov", "8C /r", "Mw,Sw", "asm"],
  ["mov", "8C /r", "Rv,Sw", "asm sizes=16,32"],
  ["mov", "8C /r", "Rq,Sw", "asm"],
  ["mov", "8E /r", "Sw,Mw", "asm"],
  ["mov", "8E /r", "Sw,Rw", "asm"],
  ["mov", "8E /r", "Sw,Rd", "asm"],
  ["mov", "8E /r", "Sw,Rq", "asm"],
  ["mov", "8C /r", "Ev,Sw", "dis"],
  ["mov", "8E /r", "Sw,Ev", "dis"],

  // MOVZX, MOVSX, MOVSXD in GNU as's spellings movzbl, movswq, movslq...
  ["movzb", "0F B6 /r", "Gv,Eb", "sfx=R gas=movzx"],
  ["movzw", "0F B7 /r", "Gy,Ew", "sfx=R gas=movzx"],
  ["movzw", "0F B7 /r", "Gv,Ew", "sizes=16 sfx=R dis"],
  ["movsb", "0F BE /r", "Gv,Eb", "sfx=R gas=movsx"],
  ["movsw", "0F BF /r", "Gy,Ew", "sfx=R gas=movsx"],
  ["movsw", "0F BF /r", "Gv,Ew", "sizes=16 sfx=R dis"],
  ["movsl", "63 /r", "Gv,Ed", "sizes=64 sfx=R gas=movsx,movsxd"],
  ["movsxd", "63 /r", "Gv,Ed", "sizes=16,32"],

  ["lea", "8D /r", "Gv,M"],

  // XCHG commutes: GNU as takes either order and puts the first AT&T operand in ModRM.reg.
  ["xchg", "90+r", "Zv,rAX"],
  ["xchg", "90+r", "rAX,Zv", "asm"],
  ["xchg", "86 /r", "Eb,Gb", "lock hle=any"],
  ["xchg", "87 /r", "Ev,Gv", "lock hle=any"],
  ["xchg", "86 /r", "Gb,Eb", "lock asm hle=any"],
  ["xchg", "87 /r", "Gv,Ev", "lock asm hle=any"],

  ["cmpxchg", "0F B0 /r", "Eb,Gb", "lock"],
  ["cmpxchg", "0F B1 /r", "Ev,Gv", "lock"],
  ["xadd", "0F C0 /r", "Eb,Gb", "lock"],
  ["xadd", "0F C1 /r", "Ev,Gv", "lock"],

  ...alu("add", 0),
  ...alu("or", 1),
  ...alu("adc", 2),
  ...alu("sbb", 3),
  ...alu("and", 4),
  ...alu("sub", 5),
  ...alu("xor", 6),
  ...alu("cmp", 7),

  ["test", "84 /r", "Eb,Gb"],
  ["test", "85 /r", "Ev,Gv"],
  ["test", "84 /r", "Gb,Eb", "asm"],
  ["test", "85 /r", "Gv,Ev", "asm"],
  ["test", "A8", "AL,Iz"],
  ["test", "A9", "rAX,Iz"],
  ["test", "F6 /0", "Eb,Iz", "sfx=Q"],
  ["test", "F7 /0", "Ev,Iz", "sfx=Q"],
  // Group 3 /1 is reserved in the SDM (Table A-6) but decodes as TEST, as objdump shows.
  ["test", "F6 /1", "Eb,Iz", "sfx=Q dis"],
  ["test", "F7 /1", "Ev,Iz", "sfx=Q dis"],

  ["inc", "FE /0", "Eb", "lock sfx=Q"],
  ["inc", "FF /0", "Ev", "lock sfx=Q"],
  ["dec", "FE /1", "Eb", "lock sfx=Q"],
  ["dec", "FF /1", "Ev", "lock sfx=Q"],
  ...unary("not", 2, "lock"),
  ...unary("neg", 3, "lock"),
  ...unary("mul", 4),
  ...unary("imul", 5),
  ["imul", "0F AF /r", "Gv,Ev"],
  ["imul", "6B /r", "Gv,Ev,Ibs"],
  ["imul", "69 /r", "Gv,Ev,Iz"],
  ["imul", "6B /r", "Gv,Ibs", "asm dup"],
  ["imul", "69 /r", "Gv,Iz", "asm dup"],
  ...unary("div", 6),
  ...unary("idiv", 7),

  ...shift("rol", 0),
  ...shift("ror", 1),
  ...shift("rcl", 2),
  ...shift("rcr", 3),
  ...shift("shl", 4, "gas=sal"),
  ...shift("shr", 5),
  ...shift("sar", 7),
  // SDM Vol.2D Table A-6 leaves group 2 /6 reserved; processors execute it as SHL and objdump prints it so.
  ["shl", "D0 /6", "Eb,1", "sfx=Q dis"],
  ["shl", "D1 /6", "Ev,1", "sfx=Q dis"],
  ["shl", "C0 /6", "Eb,Ib", "sfx=Q dis"],
  ["shl", "C1 /6", "Ev,Ib", "sfx=Q dis"],
  ["shl", "D2 /6", "Eb,CL", "sfx=Q dis"],
  ["shl", "D3 /6", "Ev,CL", "sfx=Q dis"],

  ...bitTest("bt", 0xa3, 4),
  ...bitTest("bts", 0xab, 5),
  ...bitTest("btr", 0xb3, 6),
  ...bitTest("btc", 0xbb, 7),

  // SETcc ignores ModRM.reg (SDM Vol.2B "SETcc"); GNU as writes 0.
  ...conditional((cc, n): Row[] => [[`set${cc}`, `0F ${hex(0x90 + n)}`, "Eb"]]),
  ...conditional((cc, n): Row[] => [[`cmov${cc}`, `0F ${hex(0x40 + n)} /r`, "Gv,Ev"]]),
  ...conditional((cc, n): Row[] => [
    [`j${cc}`, hex(0x70 + n), "Jb"],
    [`j${cc}`, `0F ${hex(0x80 + n)}`, "Jz"],
  ]),

  // Stack operations default to 64 bits and cannot be 32 bits (SDM Vol.1 3.6.1, Vol.2B "PUSH").
  ["push", "50+r", "Zv", "sizes=16,64 d64"],
  ["push", "FF /6", "Ev", "sizes=16,64 d64 sfx=P"],
  ["push", "6A", "Ibs", "sizes=16,64 d64 sfx=P"],
  ["push", "68", "Iz", "sizes=16,64 d64 sfx=P imm=size"],
  ["pop", "58+r", "Zv", "sizes=16,64 d64"],
  ["pop", "8F /0", "Ev", "sizes=16,64 d64 sfx=P"],
  ["pushf", "9C", "", "sizes=16,64 d64 sfx=P"],
  ["popf", "9D", "", "sizes=16,64 d64 sfx=P"],

  ["call", "E8", "Jz", "sizes=64 d64"],
  ["call", "FF /2", "Ev", "sizes=64 d64"],
  ["jmp", "EB", "Jb", "sizes=64 d64"],
  ["jmp", "E9", "Jz", "sizes=64 d64"],
  ["jmp", "FF /4", "Ev", "sizes=64 d64"],
  ["ret", "C3", "", "sizes=16,64 d64 sfx=P rep"],
  ["ret", "C2", "Iw", "sizes=16,64 d64 sfx=P imm=size"],
  ["leave", "C9", "", "sizes=16,64 d64 sfx=P"],
  ["enter", "C8", "Iw,Ib", "sizes=16,64 d64 sfx=P noreverse"],

  ["nop", "90", "", "rep"],
  ["nop", "0F 1F /0", "Ev", "sfx=Q"],
  // SDM Vol.2B "NOP": 0F 1F takes any ModRM.reg; GNU as writes /0.
  ...[1, 2, 3, 4, 5, 6, 7].map((digit): Row => ["nop", `0F 1F /${digit}`, "Ev", "sfx=Q dis"]),
  ["pause", "F3 90", ""],

  ["cbtw", "98", "", "sizes=16"],
  ["cwtl", "98", "", "sizes=32"],
  ["cltq", "98", "", "sizes=64"],
  ["cwtd", "99", "", "sizes=16"],
  ["cltd", "99", "", "sizes=32"],
  ["cqto", "99", "", "sizes=64"],
  ["bswap", "0F C8+r", "Zy"],
  // SDM Vol.2A "BSWAP": undefined for 16-bit registers; objdump prints it with the 16-bit name.
  ["bswap", "0F C8+r", "Zv", "sizes=16 dis"],

  // String instructions (SDM Vol.2B MOVS, CMPS, STOS, LODS, SCAS), as objdump writes them out; GNU as also
  // takes them without operands (movsb, stosq...), and movsb/movsw/movsl are MOVSX's stems too.
  ["movs", "A4", "Yb,Xb", "sfx=R rep"],
  ["movs", "A5", "Yv,Xv", "sfx=R rep"],
  ["cmps", "A6", "Xb,Yb", "sfx=R rep"],
  ["cmps", "A7", "Xv,Yv", "sfx=R rep"],
  ["stos", "AA", "Yb,AL", "rep"],
  ["stos", "AB", "Yv,rAX", "rep"],
  ["lods", "AC", "AL,Xb", "rep"],
  ["lods", "AD", "rAX,Xv", "rep"],
  ["scas", "AE", "AL,Yb", "rep"],
  ["scas", "AF", "rAX,Yv", "rep"],
  ...(["movs", "cmps", "stos", "lods", "scas"] as const).flatMap((name, i): Row[] => {
    const op = [0xa4, 0xa6, 0xaa, 0xac, 0xae][i]!;
    const rows: Row[] = [[name, hex(op), "", "asm rep sizes=8"], [name, hex(op + 1), "", "asm rep sizes=16,32,64"]];
    if (name === "movs") {
      for (const [suffix, size] of [["b", 8], ["w", 16], ["l", 32]] as const) {
        const opc = hex(size === 8 ? op : op + 1);
        const sized = size === 8 ? "" : ` sizes=${size}`;
        rows.push([`movs${suffix}`, opc, "", `asm rep${sized}`], [`movs${suffix}`, opc, size === 8 ? "Yb,Xb" : "Yv,Xv", `asm rep${sized}`]);
      }
    }
    return rows;
  }),
  ["sahf", "9E", ""],
  ["lahf", "9F", ""],
  // Double shifts and bit scans (SDM Vol.2B SHLD, SHRD; Vol.2A BSF, BSR, LZCNT; Vol.2B POPCNT, TZCNT).
  ["shld", "0F A4 /r", "Ev,Gv,Ib", "imm=type"],
  ["shld", "0F A5 /r", "Ev,Gv,CL"],
  ["shrd", "0F AC /r", "Ev,Gv,Ib", "imm=type"],
  ["shrd", "0F AD /r", "Ev,Gv,CL"],
  // GNU as's two-operand spelling of a double shift by CL.
  ["shld", "0F A5 /r", "Ev,Gv", "asm"],
  ["shrd", "0F AD /r", "Ev,Gv", "asm"],
  ["bsf", "0F BC /r", "Gv,Ev"],
  ["bsr", "0F BD /r", "Gv,Ev"],
  ["tzcnt", "F3 0F BC /r", "Gv,Ev"],
  ["lzcnt", "F3 0F BD /r", "Gv,Ev"],
  ["popcnt", "F3 0F B8 /r", "Gv,Ev"],
  ["cmpxchg8b", "0F C7 /1", "M", "lock"],
  ["cmpxchg16b", "0F C7 /1", "M", "sizes=64 lock"],
  ["endbr64", "F3 0F 1E FA", ""],

  ["clc", "F8", ""],
  ["stc", "F9", ""],
  ["cmc", "F5", ""],
  ["cld", "FC", ""],
  ["std", "FD", ""],
  ["cli", "FA", ""],
  ["sti", "FB", ""],
  ["hlt", "F4", ""],

  // Port I/O (SDM Vol.2A "IN", Vol.2B "OUT"): there is no 64-bit form.
  ["in", "E4", "AL,Ib", "imm=trunc"],
  ["in", "E5", "eAX,Ib", "sizes=16,32 imm=trunc"],
  ["in", "EC", "AL,DX"],
  ["in", "ED", "eAX,DX", "sizes=16,32"],
  ["out", "E6", "Ib,AL", "imm=trunc"],
  ["out", "E7", "Ib,eAX", "sizes=16,32 imm=trunc"],
  ["out", "EE", "DX,AL"],
  ["out", "EF", "DX,eAX", "sizes=16,32"],

  // System instructions (SDM Vol.2 and Vol.3A 2.8).
  ["int3", "CC", ""],
  ["int", "CD", "Ib", "imm=size"],
  ["iretw", "CF", "", "sizes=16"],
  ["iret", "CF", "", "sizes=32"],
  ["iretq", "CF", "", "sizes=64"],
  ["syscall", "0F 05", ""],
  ["sysretq", "0F 07", "", "sizes=64"],
  ["sysretl", "0F 07", ""],
  ["sgdt", "0F 01 /0", "M"],
  ["sidt", "0F 01 /1", "M"],
  ["lgdt", "0F 01 /2", "M"],
  ["lidt", "0F 01 /3", "M"],
  ["invlpg", "0F 01 /7", "M"],
  ["vmcall", "0F 01 C1", ""],
  ["clac", "0F 01 CA", ""],
  ["stac", "0F 01 CB", ""],
  ["rdpkru", "0F 01 EE", ""],
  ["wrpkru", "0F 01 EF", ""],
  ["swapgs", "0F 01 F8", ""],
  ["rdtscp", "0F 01 F9", ""],
  ["ltr", "0F 00 /3", "Ew"],
  ["invd", "0F 08", ""],
  ["wbinvd", "0F 09", ""],
  ["ud2", "0F 0B", ""],
  ["wrmsr", "0F 30", ""],
  ["rdtsc", "0F 31", ""],
  ["rdmsr", "0F 32", ""],
  ["cpuid", "0F A2", ""],
  // LFENCE ignores ModRM.rm (SDM Vol.2A "LFENCE": 0F AE E8-EF), and objdump agrees; GNU as writes rm = 0.
  ...Array.from({ length: 8 }, (_, rm): Row => ["lfence", `0F AE ${hex(0xe8 + rm)}`, "", rm ? "dis" : ""]),
  ["mfence", "0F AE F0", ""],
  ["sfence", "0F AE F8", ""],
  ["clflush", "0F AE /7", "M"],
  ["invpcid", "66 0F 38 82 /r", "Gq,M"],
  // The FS/GS base instructions take a register only (SDM Vol.2B RDFSBASE/RDGSBASE, WRFSBASE/WRGSBASE).
  ["rdfsbase", "F3 0F AE /0", "Ry"],
  ["rdgsbase", "F3 0F AE /1", "Ry"],
  ["wrfsbase", "F3 0F AE /2", "Ry"],
  ["wrgsbase", "F3 0F AE /3", "Ry"],
];

function parseSpec(code: string): Spec {
  if (["AL", "rAX", "eAX", "CL", "DX", "1"].includes(code)) {
    const width: Width = code === "AL" || code === "CL" ? "b" : code === "DX" ? "w" : code === "1" ? "" : "v";
    return { method: code as Method, width };
  }
  const method = code[0] as Method;
  const width = code.slice(1) as Width;
  if (!"EGMRCZIJOXYS".includes(method) || !["b", "w", "d", "q", "v", "y", "z", "bs", ""].includes(width)) {
    throw new Error(`bad operand code ${code}`);
  }
  return { method, width };
}

function parseRow([mnemonic, opcodeText, operandText, flagText = ""]: Row, index: number): Form {
  const operands = operandText === "" ? [] : operandText.split(",").map(parseSpec);
  const flags = flagText.split(/\s+/).filter((f) => f !== "");
  const flag = (name: string) => flags.includes(name);
  const value = (name: string) => flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);

  const tokens = opcodeText.split(/\s+/);
  let prefix: number | undefined;
  if (tokens.length > 1 && ["66", "F2", "F3"].includes(tokens[0]!)) prefix = parseInt(tokens.shift()!, 16);
  const opcode: number[] = [];
  let ext: number | undefined;
  let modrm: number | undefined;
  let plusReg = false;
  for (const t of tokens) {
    if (t === "/r") continue;
    if (/^\/[0-7]$/.test(t)) ext = Number(t[1]);
    else if (t.endsWith("+r")) {
      opcode.push(parseInt(t, 16));
      plusReg = true;
    } else {
      // After a complete opcode (one byte, 0F xx, or 0F 38 xx) a further byte is a fixed ModRM.
      const complete = opcode.length > 0 && (opcode[0] !== 0x0f || (opcode.length === 2 && opcode[1] !== 0x38) || opcode.length === 3);
      if (complete) modrm = parseInt(t, 16);
      else opcode.push(parseInt(t, 16));
    }
  }

  let sizes: Size[];
  const sizeText = value("sizes");
  if (sizeText) sizes = sizeText.split(",").map((s) => Number(s) as Size);
  else if (operands.some((s) => s.width === "v")) sizes = [16, 32, 64];
  else if (operands.some((s) => s.width === "y")) sizes = [32, 64];
  else if (operands.some((s) => s.width === "b" && !"IJ".includes(s.method) && s.method !== "CL")) sizes = [8];
  else if (operands.some((s) => s.width === "z" && s.method !== "J")) sizes = [16, 32, 64];
  else sizes = [];

  const direction = flag("load") ? "load" : flag("store") ? "store" : undefined;
  return {
    mnemonic,
    gas: (value("gas") ?? "").split(",").filter((s) => s !== ""),
    ...(prefix !== undefined ? { prefix } : {}),
    opcode,
    ...(ext !== undefined ? { ext } : {}),
    ...(modrm !== undefined ? { modrm } : {}),
    plusReg,
    operands,
    sizes,
    default64: flag("d64"),
    lock: flag("lock"),
    ...(direction ? { direction } : {}),
    suffix: (value("sfx") ?? "") as Form["suffix"],
    immError: (value("imm") ?? "type") as Form["immError"],
    asmOnly: flag("asm"),
    disOnly: flag("dis"),
    dup: flag("dup"),
    moffs: flag("moffs"),
    rep: flag("rep"),
    ...(value("hle") ? { hle: value("hle") as "any" | "release" } : {}),
    noReverse: flag("noreverse"),
    index,
  };
}

export const FORMS: readonly Form[] = ROWS.map(parseRow);

/** GNU as mnemonic (without suffix) → the rows it reaches, in table order. */
export const BY_MNEMONIC = new Map<string, Form[]>();
for (const f of FORMS) {
  if (f.disOnly) continue;
  for (const name of [f.mnemonic, ...f.gas]) {
    const list = BY_MNEMONIC.get(name) ?? [];
    list.push(f);
    BY_MNEMONIC.set(name, list);
  }
}
// The other spellings of the condition codes (jz, setnae, cmovpe...).
for (const names of CONDITIONS) {
  for (const alias of names.slice(1)) {
    for (const stem of ["j", "set", "cmov"]) BY_MNEMONIC.set(stem + alias, BY_MNEMONIC.get(stem + names[0])!);
  }
}
