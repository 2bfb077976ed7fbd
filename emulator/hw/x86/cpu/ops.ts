// SPDX-License-Identifier: MIT
//
// Decoded instructions: what the decoder leaves in the decoded-instruction
// cache and the executor reads. An entry is 32 bytes:
//
//    0 tag    u64  PA of the first byte | generation << 52 (0: empty)
//    8 op     u16  OP_* (which handler)
//   10 len    u8   length in bytes (1..15)
//   11 flags  u8   F_*
//   12 osize  u8   operand size in bytes (1, 2, 4, 8)
//   13 reg    u8   ModRM.reg (with REX.R), or the register in the opcode;
//                  byte registers: 0..15 low bytes, 16..19 AH CH DH BH
//   14 rm     u8   the r/m register operand, or RM_MEM for a memory operand
//   15 base   u8   memory: base register, BASE_NONE, or BASE_RIP
//   16 index  u8   memory: index register or INDEX_NONE
//   17 scale  u8   memory: log2 of the scale
//   18 sub    u8   the operation within a group: ALU_*, SHIFT_*, BT_*, a
//                  condition code, a source size
//   19 seg    u8   SEG_NONE, SEG_FS, SEG_GS
//   20 disp   i32  memory displacement
//   24 imm    i64  immediate (sign- or zero-extended as the form says), or
//                  a branch displacement from the next instruction

export const D_TAG: u32 = 0;
export const D_OP: u32 = 8;
export const D_LEN: u32 = 10;
export const D_FLAGS: u32 = 11;
export const D_OSIZE: u32 = 12;
export const D_REG: u32 = 13;
export const D_RM: u32 = 14;
export const D_BASE: u32 = 15;
export const D_INDEX: u32 = 16;
export const D_SCALE: u32 = 17;
export const D_SUB: u32 = 18;
export const D_SEG: u32 = 19;
export const D_DISP: u32 = 20;
export const D_IMM: u32 = 24;
export const DECODED_SIZE: u32 = 32;

export const RM_MEM: u8 = 0xFF;
export const BASE_NONE: u8 = 0xFF;
export const BASE_RIP: u8 = 0xFE;
export const INDEX_NONE: u8 = 0xFF;
export const SEG_NONE: u8 = 0;
export const SEG_FS: u8 = 1;
export const SEG_GS: u8 = 2;

/** LOCK prefix. */
export const F_LOCK: u8 = 1;
/** REP / REPE (F3) or REPNE (F2) prefix present. */
export const F_REP: u8 = 2;
/** 0x67: 32-bit addressing. */
export const F_ADDR32: u8 = 4;
/** Shift by CL (else by the immediate). */
export const F_CL: u8 = 8;
/** Port in DX (else in the immediate). */
export const F_DX: u8 = 16;
/** The instruction crosses a page: not cached, decoded again each time. */
export const F_CROSS: u8 = 32;
/** REX.W. */
export const F_REXW: u8 = 64;

// ── Operations ───────────────────────────────────────────────────────────────
// Integer, in execute.ts.
export const OP_UD: u16 = 0;
export const OP_ALU_EG: u16 = 1;
export const OP_ALU_GE: u16 = 2;
export const OP_ALU_EI: u16 = 3;
export const OP_TEST_EG: u16 = 4;
export const OP_TEST_EI: u16 = 5;
export const OP_MOV_EG: u16 = 6;
export const OP_MOV_GE: u16 = 7;
export const OP_MOV_EI: u16 = 8;
export const OP_MOV_RI: u16 = 9;
export const OP_LEA: u16 = 10;
export const OP_MOVZX: u16 = 11;
export const OP_MOVSX: u16 = 12;
export const OP_XCHG: u16 = 13;
export const OP_CMPXCHG: u16 = 14;
export const OP_XADD: u16 = 15;
export const OP_INC: u16 = 16;
export const OP_DEC: u16 = 17;
export const OP_NEG: u16 = 18;
export const OP_NOT: u16 = 19;
export const OP_SHIFT: u16 = 20;
export const OP_MUL: u16 = 21;
export const OP_IMUL1: u16 = 22;
export const OP_DIV: u16 = 23;
export const OP_IDIV: u16 = 24;
export const OP_IMUL_GE: u16 = 25;
export const OP_IMUL_GEI: u16 = 26;
export const OP_BT_G: u16 = 27;
export const OP_BT_I: u16 = 28;
export const OP_SETCC: u16 = 29;
export const OP_CMOV: u16 = 30;
export const OP_PUSH_R: u16 = 31;
export const OP_POP_R: u16 = 32;
export const OP_PUSH_I: u16 = 33;
export const OP_PUSH_E: u16 = 34;
export const OP_POP_E: u16 = 35;
export const OP_JCC: u16 = 36;
export const OP_JMP: u16 = 37;
export const OP_CALL: u16 = 38;
export const OP_JMP_E: u16 = 39;
export const OP_CALL_E: u16 = 40;
export const OP_RET: u16 = 41;
export const OP_NOP: u16 = 42;
export const OP_PAUSE: u16 = 43;
export const OP_CBW: u16 = 44;
export const OP_CWD: u16 = 45;
export const OP_FLAGOP: u16 = 46;
export const OP_PUSHF: u16 = 47;
export const OP_POPF: u16 = 48;
// System, in system.ts.
export const OP_CLI: u16 = 64;
export const OP_STI: u16 = 65;
export const OP_HLT: u16 = 66;
export const OP_INT: u16 = 67;
export const OP_INT3: u16 = 68;
export const OP_IRETQ: u16 = 69;
export const OP_SYSCALL: u16 = 70;
export const OP_SYSRET: u16 = 71;
export const OP_SWAPGS: u16 = 72;
export const OP_MOV_FROM_CR: u16 = 73;
export const OP_MOV_TO_CR: u16 = 74;
export const OP_LGDT: u16 = 75;
export const OP_LIDT: u16 = 76;
export const OP_SGDT: u16 = 77;
export const OP_SIDT: u16 = 78;
export const OP_LTR: u16 = 79;
export const OP_INVLPG: u16 = 80;
export const OP_INVPCID: u16 = 81;
export const OP_WRMSR: u16 = 82;
export const OP_RDMSR: u16 = 83;
export const OP_RDTSC: u16 = 84;
export const OP_CPUID: u16 = 85;
export const OP_IN: u16 = 86;
export const OP_OUT: u16 = 87;
export const OP_VMCALL: u16 = 88;
export const OP_WBINVD: u16 = 89;
export const OP_CLFLUSH: u16 = 90;
export const OP_FENCE: u16 = 91;
export const OP_STAC: u16 = 92;
export const OP_CLAC: u16 = 93;
export const OP_RDPKRU: u16 = 94;
export const OP_WRPKRU: u16 = 95;
export const OP_UD2: u16 = 96;
/** Longer than 15 bytes: #GP(0). */
export const OP_GP_LONG: u16 = 97;

// Integer instructions compiled C needs beyond the first subset, in general.ts
// (which hands string instructions to string.ts, bit operations to bitops.ts
// and segment registers to segment.ts). Numbered apart from the others so
// that other families can grow without renumbering.
export const OP_LEAVE: u16 = 128;
/** MOV AL/rAX to or from a 64-bit absolute address (A0-A3): D_IMM the address, D_SUB 1 for a store. */
export const OP_MOV_MOFFS: u16 = 129;
/** MOVS CMPS STOS LODS SCAS: D_SUB a STR_* kind, STR_REPNE when the prefix was F2. */
export const OP_STRING: u16 = 130;
/** SHLD and SHRD: D_SUB 0 for SHLD, 1 for SHRD; the count in D_IMM or CL (F_CL). */
export const OP_SHIFT_DOUBLE: u16 = 131;
/** BSF BSR TZCNT LZCNT POPCNT: D_SUB a SCAN_* kind. */
export const OP_BIT_SCAN: u16 = 132;
export const OP_BSWAP: u16 = 133;
/** CMPXCHG8B, or CMPXCHG16B with REX.W (operand size 16). */
export const OP_CMPXCHG_DOUBLE: u16 = 134;
export const OP_SAHF: u16 = 135;
export const OP_LAHF: u16 = 136;
/** MOV r/m16, Sreg and MOV Sreg, r/m16: D_REG the segment register as ModRM.reg numbers it (0 ES .. 5 GS). */
export const OP_MOV_FROM_SREG: u16 = 137;
export const OP_MOV_TO_SREG: u16 = 138;
/** RDFSBASE RDGSBASE WRFSBASE WRGSBASE: D_SUB ModRM.reg (0..3), the register in D_RM. */
export const OP_FSGSBASE: u16 = 139;

/** String instructions (OP_STRING), by the low bits of their opcode (A4 MOVS, A6 CMPS, AA STOS, AC LODS, AE SCAS). */
export const STR_MOVS: u8 = 0;
export const STR_CMPS: u8 = 1;
export const STR_STOS: u8 = 2;
export const STR_LODS: u8 = 3;
export const STR_SCAS: u8 = 4;
/** Set in D_SUB when the repeat prefix was F2 (REPNE): CMPS and SCAS stop on equality. */
export const STR_REPNE: u8 = 8;

/** Bit scans (OP_BIT_SCAN). */
export const SCAN_BSF: u8 = 0;
export const SCAN_BSR: u8 = 1;
export const SCAN_TZCNT: u8 = 2;
export const SCAN_LZCNT: u8 = 3;
export const SCAN_POPCNT: u8 = 4;

/** ALU operations, in the order of the opcode map's group 1 (ADD OR ADC SBB AND SUB XOR CMP). */
export const ALU_ADD: u8 = 0;
export const ALU_OR: u8 = 1;
export const ALU_ADC: u8 = 2;
export const ALU_SBB: u8 = 3;
export const ALU_AND: u8 = 4;
export const ALU_SUB: u8 = 5;
export const ALU_XOR: u8 = 6;
export const ALU_CMP: u8 = 7;

/** Group 2 shifts and rotates, by ModRM.reg. */
export const SHIFT_ROL: u8 = 0;
export const SHIFT_ROR: u8 = 1;
export const SHIFT_RCL: u8 = 2;
export const SHIFT_RCR: u8 = 3;
export const SHIFT_SHL: u8 = 4;
export const SHIFT_SHR: u8 = 5;
export const SHIFT_SAL: u8 = 6;
export const SHIFT_SAR: u8 = 7;

/** Bit tests, by the 0F BA group's ModRM.reg - 4. */
export const BT_BT: u8 = 0;
export const BT_BTS: u8 = 1;
export const BT_BTR: u8 = 2;
export const BT_BTC: u8 = 3;

/** Flag instructions (OP_FLAGOP). */
export const FLAGOP_CLC: u8 = 0;
export const FLAGOP_STC: u8 = 1;
export const FLAGOP_CMC: u8 = 2;
export const FLAGOP_CLD: u8 = 3;
export const FLAGOP_STD: u8 = 4;

/** Fences (OP_FENCE). */
export const FENCE_L: u8 = 0;
export const FENCE_M: u8 = 1;
export const FENCE_S: u8 = 2;
