// SPDX-License-Identifier: MIT
//
// The x86-64 decoder (64-bit mode, SDM Vol.2 chapter 2 and appendix A):
// prefixes, REX, the one- and two-byte opcode maps of the subset, ModRM,
// SIB, displacement and immediate, into a decoded entry (ops.ts). It runs
// only on a decoded-instruction cache miss, so it is written for clarity.
//
// An opcode outside the subset decodes to OP_UD (the CPU raises #UD when it
// executes it), as does LOCK on an instruction or operand that does not take
// it. More than 15 bytes is OP_GP_LONG (#GP(0)).

import {
  D_OP, D_LEN, D_FLAGS, D_OSIZE, D_REG, D_RM, D_BASE, D_INDEX, D_SCALE, D_SUB, D_SEG, D_DISP, D_IMM,
  RM_MEM, BASE_NONE, BASE_RIP, INDEX_NONE, SEG_NONE, SEG_FS, SEG_GS,
  F_LOCK, F_REP, F_ADDR32, F_CL, F_DX, F_CROSS, F_REXW,
  OP_UD, OP_ALU_EG, OP_ALU_GE, OP_ALU_EI, OP_TEST_EG, OP_TEST_EI, OP_MOV_EG, OP_MOV_GE, OP_MOV_EI, OP_MOV_RI,
  OP_LEA, OP_MOVZX, OP_MOVSX, OP_XCHG, OP_CMPXCHG, OP_XADD, OP_INC, OP_DEC, OP_NEG, OP_NOT, OP_SHIFT, OP_MUL,
  OP_IMUL1, OP_DIV, OP_IDIV, OP_IMUL_GE, OP_IMUL_GEI, OP_BT_G, OP_BT_I, OP_SETCC, OP_CMOV, OP_PUSH_R, OP_POP_R,
  OP_PUSH_I, OP_PUSH_E, OP_POP_E, OP_JCC, OP_JMP, OP_CALL, OP_JMP_E, OP_CALL_E, OP_RET, OP_NOP, OP_PAUSE, OP_CBW,
  OP_CWD, OP_FLAGOP, OP_PUSHF, OP_POPF, OP_CLI, OP_STI, OP_HLT, OP_INT, OP_INT3, OP_IRETQ, OP_SYSCALL, OP_SYSRET,
  OP_SWAPGS, OP_MOV_FROM_CR, OP_MOV_TO_CR, OP_LGDT, OP_LIDT, OP_SGDT, OP_SIDT, OP_LTR, OP_INVLPG, OP_INVPCID,
  OP_WRMSR, OP_RDMSR, OP_RDTSC, OP_CPUID, OP_IN, OP_OUT, OP_VMCALL, OP_WBINVD, OP_CLFLUSH, OP_FENCE, OP_STAC,
  OP_CLAC, OP_RDPKRU, OP_WRPKRU, OP_UD2, OP_GP_LONG, OP_LEAVE, OP_MOV_MOFFS, OP_STRING, OP_SHIFT_DOUBLE, OP_BIT_SCAN,
  OP_BSWAP, OP_CMPXCHG_DOUBLE, OP_SAHF, OP_LAHF, OP_MOV_FROM_SREG, OP_MOV_TO_SREG, OP_FSGSBASE, STR_REPNE,
  SCAN_BSF, SCAN_BSR, SCAN_TZCNT, SCAN_LZCNT, SCAN_POPCNT,
  ALU_CMP, FLAGOP_CLC, FLAGOP_STC, FLAGOP_CMC, FLAGOP_CLD, FLAGOP_STD, FENCE_L, FENCE_M, FENCE_S,
} from "./ops";
import { fetchPageHost } from "./fetch";

/** The longest instruction (SDM Vol.2A 2.3.11). */
const MAX_LENGTH: u32 = 15;

// ── Reading the instruction's bytes ──────────────────────────────────────────

/** Host address of the instruction's first byte, bytes left in its page, and the next page once needed. */
let host: usize = 0;
let avail: u32 = 0;
let nextHost: i64 = -1;
let ripNow: u64 = 0;
/** Bytes consumed so far. */
let pos: u32 = 0;
/** Did reading run past the page, and did that fault? */
let crossed = false;
let fetchFaulted = false;

function byte(): u32 {
  const i = pos++;
  if (i < avail) return load<u8>(host + i);
  if (pos > MAX_LENGTH + 1 || fetchFaulted) return 0;
  crossed = true;
  if (nextHost < 0) {
    nextHost = fetchPageHost(ripNow + <u64>avail);
    if (nextHost < 0) {
      fetchFaulted = true;
      return 0;
    }
  }
  return load<u8>(<usize>nextHost + (i - avail));
}

function imm8(): i64 {
  return <i64>(<i8>byte());
}

function imm16(): i64 {
  const lo = byte();
  return <i64>(<i16>(lo | (byte() << 8)));
}

function imm32(): i64 {
  const b0 = byte();
  const b1 = byte();
  const b2 = byte();
  const b3 = byte();
  return <i64>(<i32>(b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)));
}

function imm64(): i64 {
  const lo = <u64>(<u32>imm32());
  const hi = <u64>(<u32>imm32());
  return <i64>(lo | (hi << 32));
}

/** An immediate of the operand size, at most 32 bits sign-extended (Iz). */
function immZ(osize: u32): i64 {
  return osize == 2 ? imm16() : imm32();
}

// ── Decoding state ───────────────────────────────────────────────────────────

let rex: u32 = 0;
let osize16 = false;
/** The last of the F2 and F3 prefixes (REPNE or REP; a mandatory prefix in the 0F map), or 0. */
let repByte: u32 = 0;
let flags: u8 = 0;
let entry: usize = 0;

@inline function rexW(): bool {
  return (rex & 8) != 0;
}

/** Operand size of a "v" operand: 8 with REX.W, 2 with 0x66, else 4. */
function vsize(): u32 {
  return rexW() ? 8 : osize16 ? 2 : 4;
}

/** Operand size of an instruction that defaults to 64 bits in 64-bit mode (push, pop, near branches): 2 with 0x66. */
function dsize(): u32 {
  return osize16 && !rexW() ? 2 : 8;
}

/** A byte register number: without REX, 4..7 are AH CH DH BH (16..19). */
function byteReg(r: u32): u8 {
  return <u8>(rex == 0 && r >= 4 && r < 8 ? r + 12 : r);
}

function setOp(op: u16, osize: u32): void {
  store<u16>(entry, op, D_OP);
  store<u8>(entry, <u8>osize, D_OSIZE);
}

/**
 * Reads ModRM (and SIB and displacement) into the entry. Register operands
 * are given as byte registers when `size` is 1.
 */
function modrm(size: u32): u32 {
  const m = byte();
  const mod = m >> 6;
  const reg = ((m >> 3) & 7) | ((rex & 4) << 1);
  let rm = (m & 7) | ((rex & 1) << 3);
  store<u8>(entry, size == 1 ? byteReg(reg) : <u8>reg, D_REG);
  if (mod == 3) {
    store<u8>(entry, size == 1 ? byteReg(rm) : <u8>rm, D_RM);
    return m;
  }
  store<u8>(entry, RM_MEM, D_RM);
  let base: u32 = rm;
  let index: u32 = INDEX_NONE;
  let scale: u32 = 0;
  if ((m & 7) == 4) {
    const sib = byte();
    scale = sib >> 6;
    index = ((sib >> 3) & 7) | ((rex & 2) << 2);
    if (index == 4) index = INDEX_NONE;
    base = (sib & 7) | ((rex & 1) << 3);
    if ((sib & 7) == 5 && mod == 0) base = BASE_NONE;
  } else if ((m & 7) == 5 && mod == 0) {
    base = BASE_RIP;
  }
  let disp: i32 = 0;
  if (mod == 1) disp = <i32>imm8();
  else if (mod == 2 || ((base == BASE_NONE || base == BASE_RIP) && mod == 0)) disp = <i32>imm32();
  store<u8>(entry, <u8>base, D_BASE);
  store<u8>(entry, <u8>index, D_INDEX);
  store<u8>(entry, <u8>scale, D_SCALE);
  store<i32>(entry, disp, D_DISP);
  return m;
}

@inline function isMem(m: u32): bool {
  return m < 0xC0;
}

function setImm(v: i64): void {
  store<i64>(entry, v, D_IMM);
}

function setSub(v: u32): void {
  store<u8>(entry, <u8>v, D_SUB);
}

// ── The decoder ──────────────────────────────────────────────────────────────

/**
 * Decodes the instruction at `rip` into entry `d`. `hostAddr` is where its
 * first byte is, `bytesLeft` how many bytes its page has from there. Returns
 * false when reading the rest of it from the next page faulted (the fault
 * is raised by the page reader); an undefined instruction is not a failure
 * here: it decodes to OP_UD.
 */
export function decode(rip: u64, hostAddr: usize, bytesLeft: u32, d: usize): bool {
  host = hostAddr;
  avail = bytesLeft;
  nextHost = -1;
  ripNow = rip;
  pos = 0;
  crossed = false;
  fetchFaulted = false;
  entry = d;
  rex = 0;
  osize16 = false;
  repByte = 0;
  flags = 0;
  let seg: u8 = SEG_NONE;
  memory.fill(d + D_OP, 0, 24);
  store<u8>(d, RM_MEM, D_RM);

  // Prefixes; a REX prefix counts only right before the opcode.
  let b = byte();
  for (;;) {
    if (b == 0x66) osize16 = true;
    else if (b == 0x67) flags |= F_ADDR32;
    else if (b == 0xF0) flags |= F_LOCK;
    else if (b == 0xF2 || b == 0xF3) {
      flags |= F_REP;
      repByte = b;
    }
    else if (b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26) {
      // CS, SS, DS, ES overrides mean nothing in 64-bit mode.
    } else if (b == 0x64) seg = SEG_FS;
    else if (b == 0x65) seg = SEG_GS;
    else if ((b & 0xF0) == 0x40) {
      rex = b;
      b = byte();
      if (b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65 || (b & 0xF0) == 0x40) {
        rex = 0;
        continue;
      }
      break;
    } else break;
    if (pos > MAX_LENGTH) break;
    b = byte();
  }
  const rep = (flags & F_REP) != 0;
  const f3 = rep;
  if (rexW()) flags |= F_REXW;
  store<u8>(d, seg, D_SEG);

  let lockable = false;
  if (b != 0x0F) {
    lockable = oneByte(b, f3);
  } else {
    lockable = twoByte(byte());
  }

  const length = pos;
  if (fetchFaulted) return false;
  if (crossed) flags |= F_CROSS;
  if (length > MAX_LENGTH) setOp(OP_GP_LONG, 0);
  // LOCK is only for read-modify-write instructions with a memory destination (SDM Vol.2A LOCK).
  if ((flags & F_LOCK) && !(lockable && load<u8>(d, D_RM) == RM_MEM)) setOp(OP_UD, 0);
  store<u8>(d, <u8>length, D_LEN);
  store<u8>(d, flags, D_FLAGS);
  return true;
}

/** The one-byte opcode map. Returns whether LOCK is allowed. */
function oneByte(b: u32, f3: bool): bool {
  // ADD OR ADC SBB AND SUB XOR CMP: 00-3F, rows of 8 with the last two opcodes not ALU.
  if (b < 0x40 && (b & 7) < 6) {
    const alu = b >> 3;
    setSub(alu);
    const form = b & 7;
    if (form == 0 || form == 2) {
      modrm(1);
      setOp(form == 0 ? OP_ALU_EG : OP_ALU_GE, 1);
      return form == 0 && alu != ALU_CMP;
    }
    if (form == 1 || form == 3) {
      const size = vsize();
      modrm(size);
      setOp(form == 1 ? OP_ALU_EG : OP_ALU_GE, size);
      return form == 1 && alu != ALU_CMP;
    }
    // AL, Ib / rAX, Iz: the accumulator as a register operand.
    const size = form == 4 ? 1 : vsize();
    store<u8>(entry, 0, D_RM);
    setImm(size == 1 ? imm8() : immZ(size));
    setOp(OP_ALU_EI, size);
    return false;
  }
  if (b >= 0x50 && b <= 0x57) {
    store<u8>(entry, <u8>((b & 7) | ((rex & 1) << 3)), D_REG);
    setOp(OP_PUSH_R, dsize());
    return false;
  }
  if (b >= 0x58 && b <= 0x5F) {
    store<u8>(entry, <u8>((b & 7) | ((rex & 1) << 3)), D_REG);
    setOp(OP_POP_R, dsize());
    return false;
  }
  if (b >= 0x70 && b <= 0x7F) {
    setSub(b & 15);
    setImm(imm8());
    setOp(OP_JCC, 8);
    return false;
  }
  if (b >= 0x91 && b <= 0x97) {
    // XCHG rAX, r: the register in the opcode, rAX as the r/m operand.
    store<u8>(entry, <u8>((b & 7) | ((rex & 1) << 3)), D_REG);
    store<u8>(entry, 0, D_RM);
    setOp(OP_XCHG, vsize());
    return false;
  }
  if (b >= 0xB0 && b <= 0xB7) {
    store<u8>(entry, byteReg((b & 7) | ((rex & 1) << 3)), D_REG);
    setImm(<i64>(<u8>byte()));
    setOp(OP_MOV_RI, 1);
    return false;
  }
  if (b >= 0xB8 && b <= 0xBF) {
    const size = vsize();
    store<u8>(entry, <u8>((b & 7) | ((rex & 1) << 3)), D_REG);
    setImm(size == 8 ? imm64() : size == 2 ? <i64>(<u16>imm16()) : <i64>(<u32>imm32()));
    setOp(OP_MOV_RI, size);
    return false;
  }
  switch (b) {
    case 0x63: {
      // MOVSXD Gv, Ed: with REX.W; without it a plain 32-bit move.
      const size = vsize();
      modrm(size);
      setSub(4);
      setOp(size == 8 ? OP_MOVSX : OP_MOV_GE, size);
      return false;
    }
    case 0x68:
      setImm(immZ(dsize()));
      setOp(OP_PUSH_I, dsize());
      return false;
    case 0x6A:
      setImm(imm8());
      setOp(OP_PUSH_I, dsize());
      return false;
    case 0x69:
    case 0x6B: {
      const size = vsize();
      modrm(size);
      setImm(b == 0x6B ? imm8() : immZ(size));
      setOp(OP_IMUL_GEI, size);
      return false;
    }
    case 0x80:
    case 0x81:
    case 0x83: {
      const size = b == 0x80 ? 1 : vsize();
      const m = modrm(size);
      const alu = (m >> 3) & 7;
      setSub(alu);
      setImm(b == 0x81 ? immZ(size) : imm8());
      setOp(OP_ALU_EI, size);
      return alu != ALU_CMP;
    }
    case 0x84:
    case 0x85:
      modrm(b == 0x84 ? 1 : vsize());
      setOp(OP_TEST_EG, b == 0x84 ? 1 : vsize());
      return false;
    case 0x86:
    case 0x87:
      modrm(b == 0x86 ? 1 : vsize());
      setOp(OP_XCHG, b == 0x86 ? 1 : vsize());
      return true;
    case 0x88:
    case 0x89:
      modrm(b == 0x88 ? 1 : vsize());
      setOp(OP_MOV_EG, b == 0x88 ? 1 : vsize());
      return false;
    case 0x8A:
    case 0x8B:
      modrm(b == 0x8A ? 1 : vsize());
      setOp(OP_MOV_GE, b == 0x8A ? 1 : vsize());
      return false;
    case 0x8C: {
      // MOV Ev, Sw: a register destination takes the operand size (the selector zero-extended), memory 16 bits.
      const m = modrm(vsize());
      const sreg = (m >> 3) & 7;
      store<u8>(entry, <u8>sreg, D_REG);
      setOp(sreg <= 5 ? OP_MOV_FROM_SREG : OP_UD, isMem(m) ? 2 : vsize());
      return false;
    }
    case 0x8E: {
      // MOV Sw, Ew: CS cannot be loaded this way (SDM Vol.2B MOV: "#UD If attempt is made to load the CS register").
      const m = modrm(2);
      const sreg = (m >> 3) & 7;
      store<u8>(entry, <u8>sreg, D_REG);
      setOp(sreg <= 5 && sreg != 1 ? OP_MOV_TO_SREG : OP_UD, 2);
      return false;
    }
    case 0x9E:
      setOp(OP_SAHF, 1);
      return false;
    case 0x9F:
      setOp(OP_LAHF, 1);
      return false;
    case 0xA0:
    case 0xA1:
    case 0xA2:
    case 0xA3: {
      // MOV AL/rAX, moffs and back: the offset is as wide as the address (64 bits, or 32 with 0x67).
      const size = (b & 1) == 0 ? 1 : vsize();
      setImm(flags & F_ADDR32 ? <i64>(<u32>imm32()) : imm64());
      setSub((b >> 1) & 1);
      setOp(OP_MOV_MOFFS, size);
      return false;
    }
    case 0xA4:
    case 0xA5:
    case 0xA6:
    case 0xA7:
    case 0xAA:
    case 0xAB:
    case 0xAC:
    case 0xAD:
    case 0xAE:
    case 0xAF: {
      // MOVS CMPS (A4-A7), STOS LODS SCAS (AA-AF): the kind from the opcode's pair, REPNE kept apart from REP.
      const kind: u32 = b <= 0xA7 ? (b - 0xA4) >> 1 : ((b - 0xAA) >> 1) + 2;
      setSub(kind | (repByte == 0xF2 ? STR_REPNE : 0));
      setOp(OP_STRING, (b & 1) == 0 ? 1 : vsize());
      return false;
    }
    case 0xC9:
      setOp(OP_LEAVE, dsize());
      return false;
    case 0x8D: {
      const m = modrm(vsize());
      setOp(isMem(m) ? OP_LEA : OP_UD, vsize());
      return false;
    }
    case 0x8F: {
      const m = modrm(dsize());
      setOp(((m >> 3) & 7) == 0 ? OP_POP_E : OP_UD, dsize());
      return false;
    }
    case 0x90:
      // XCHG eAX, eAX is NOP; with REX.B it is XCHG rAX, r8; F3 90 is PAUSE.
      if (rex & 1) {
        store<u8>(entry, 8, D_REG);
        store<u8>(entry, 0, D_RM);
        setOp(OP_XCHG, vsize());
      } else {
        setOp(f3 ? OP_PAUSE : OP_NOP, 0);
      }
      return false;
    case 0x98:
      setOp(OP_CBW, vsize());
      return false;
    case 0x99:
      setOp(OP_CWD, vsize());
      return false;
    case 0x9C:
      setOp(OP_PUSHF, dsize());
      return false;
    case 0x9D:
      setOp(OP_POPF, dsize());
      return false;
    case 0xA8:
    case 0xA9: {
      const size = b == 0xA8 ? 1 : vsize();
      store<u8>(entry, 0, D_RM);
      setImm(size == 1 ? imm8() : immZ(size));
      setOp(OP_TEST_EI, size);
      return false;
    }
    case 0xC0:
    case 0xC1:
    case 0xD0:
    case 0xD1:
    case 0xD2:
    case 0xD3: {
      const size = (b & 1) == 0 ? 1 : vsize();
      const m = modrm(size);
      setSub((m >> 3) & 7);
      if (b == 0xD2 || b == 0xD3) flags |= F_CL;
      else setImm(b <= 0xC1 ? <i64>(<u8>byte()) : 1);
      setOp(OP_SHIFT, size);
      return false;
    }
    case 0xC2:
      setImm(<i64>(<u16>imm16()));
      setOp(OP_RET, dsize());
      return false;
    case 0xC3:
      setOp(OP_RET, dsize());
      return false;
    case 0xC6:
    case 0xC7: {
      const size = b == 0xC6 ? 1 : vsize();
      const m = modrm(size);
      setImm(size == 1 ? imm8() : immZ(size));
      setOp(((m >> 3) & 7) == 0 ? OP_MOV_EI : OP_UD, size);
      return false;
    }
    case 0xCC:
      setOp(OP_INT3, 0);
      return false;
    case 0xCD:
      setImm(<i64>(<u8>byte()));
      setOp(OP_INT, 0);
      return false;
    case 0xCF:
      setOp(rexW() ? OP_IRETQ : OP_UD, 8);
      return false;
    case 0xE4:
    case 0xE5:
    case 0xE6:
    case 0xE7:
    case 0xEC:
    case 0xED:
    case 0xEE:
    case 0xEF: {
      const size = (b & 1) == 0 ? 1 : osize16 ? 2 : 4;
      if (b >= 0xEC) flags |= F_DX;
      else setImm(<i64>(<u8>byte()));
      setOp((b & 2) == 0 ? OP_IN : OP_OUT, size);
      return false;
    }
    case 0xE8:
      setImm(imm32());
      setOp(OP_CALL, 8);
      return false;
    case 0xE9:
      setImm(imm32());
      setOp(OP_JMP, 8);
      return false;
    case 0xEB:
      setImm(imm8());
      setOp(OP_JMP, 8);
      return false;
    case 0xF4:
      setOp(OP_HLT, 0);
      return false;
    case 0xF5:
      setSub(FLAGOP_CMC);
      setOp(OP_FLAGOP, 0);
      return false;
    case 0xF6:
    case 0xF7: {
      const size = b == 0xF6 ? 1 : vsize();
      const m = modrm(size);
      const r = (m >> 3) & 7;
      if (r == 0 || r == 1) {
        setImm(size == 1 ? imm8() : immZ(size));
        setOp(OP_TEST_EI, size);
        return false;
      }
      setOp(r == 2 ? OP_NOT : r == 3 ? OP_NEG : r == 4 ? OP_MUL : r == 5 ? OP_IMUL1 : r == 6 ? OP_DIV : OP_IDIV, size);
      return r == 2 || r == 3;
    }
    case 0xF8:
      setSub(FLAGOP_CLC);
      setOp(OP_FLAGOP, 0);
      return false;
    case 0xF9:
      setSub(FLAGOP_STC);
      setOp(OP_FLAGOP, 0);
      return false;
    case 0xFA:
      setOp(OP_CLI, 0);
      return false;
    case 0xFB:
      setOp(OP_STI, 0);
      return false;
    case 0xFC:
      setSub(FLAGOP_CLD);
      setOp(OP_FLAGOP, 0);
      return false;
    case 0xFD:
      setSub(FLAGOP_STD);
      setOp(OP_FLAGOP, 0);
      return false;
    case 0xFE: {
      const m = modrm(1);
      const r = (m >> 3) & 7;
      setOp(r == 0 ? OP_INC : r == 1 ? OP_DEC : OP_UD, 1);
      return r <= 1;
    }
    case 0xFF: {
      // INC DEC CALL (CALLF) JMP (JMPF) PUSH: near branches and PUSH default to 64 bits.
      const peek = byte();
      pos--;
      const r = (peek >> 3) & 7;
      const size = r == 2 || r == 4 || r == 6 ? dsize() : vsize();
      modrm(size);
      if (r == 0) setOp(OP_INC, size);
      else if (r == 1) setOp(OP_DEC, size);
      else if (r == 2) setOp(OP_CALL_E, 8);
      else if (r == 4) setOp(OP_JMP_E, 8);
      else if (r == 6) setOp(OP_PUSH_E, size);
      else setOp(OP_UD, size);
      return r <= 1;
    }
    default:
      setOp(OP_UD, 0);
      return false;
  }
}

/** The two-byte opcode map (0F xx). Returns whether LOCK is allowed. */
function twoByte(b: u32): bool {
  if (b >= 0x40 && b <= 0x4F) {
    const size = vsize();
    modrm(size);
    setSub(b & 15);
    setOp(OP_CMOV, size);
    return false;
  }
  if (b >= 0x80 && b <= 0x8F) {
    setSub(b & 15);
    setImm(imm32());
    setOp(OP_JCC, 8);
    return false;
  }
  if (b >= 0x90 && b <= 0x9F) {
    modrm(1);
    setSub(b & 15);
    setOp(OP_SETCC, 1);
    return false;
  }
  switch (b) {
    case 0x00: {
      // Group 6: /3 LTR Ew.
      const m = modrm(2);
      setOp(((m >> 3) & 7) == 3 ? OP_LTR : OP_UD, 2);
      return false;
    }
    case 0x01: {
      const m = modrm(8);
      const r = (m >> 3) & 7;
      if (isMem(m)) {
        setOp(r == 0 ? OP_SGDT : r == 1 ? OP_SIDT : r == 2 ? OP_LGDT : r == 3 ? OP_LIDT : r == 7 ? OP_INVLPG : OP_UD, 8);
        return false;
      }
      switch (m) {
        case 0xC1: setOp(OP_VMCALL, 0); break;
        case 0xCA: setOp(OP_CLAC, 0); break;
        case 0xCB: setOp(OP_STAC, 0); break;
        case 0xEE: setOp(OP_RDPKRU, 0); break;
        case 0xEF: setOp(OP_WRPKRU, 0); break;
        case 0xF8: setOp(OP_SWAPGS, 0); break;
        default: setOp(OP_UD, 0);
      }
      return false;
    }
    case 0x05:
      setOp(OP_SYSCALL, 0);
      return false;
    case 0x07:
      setOp(OP_SYSRET, rexW() ? 8 : 4);
      return false;
    case 0x09:
      setOp(OP_WBINVD, 0);
      return false;
    case 0x0B:
      setOp(OP_UD2, 0);
      return false;
    case 0x18:
    case 0x19:
    case 0x1A:
    case 0x1B:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F: {
      // NOP Ev (the multi-byte NOP) and the hint space 0F 18-1E around it: prefetches, and
      // ENDBR64 (F3 0F 1E FA), all NOPs to a CPU without caches to warm or CET
      // (SDM Vol.2B NOP, PREFETCHh; Vol.1 17.3.1 ENDBR64 "treated as NOP" without CET).
      modrm(vsize());
      setOp(OP_NOP, vsize());
      return false;
    }
    case 0x20:
    case 0x22: {
      // MOV r64, CRn / MOV CRn, r64: the r/m is always a register; mod is ignored (SDM Vol.2B MOV—Move to/from Control Registers).
      const m = byte();
      const cr = ((m >> 3) & 7) | ((rex & 4) << 1);
      store<u8>(entry, <u8>cr, D_REG);
      store<u8>(entry, <u8>((m & 7) | ((rex & 1) << 3)), D_RM);
      setOp(b == 0x20 ? OP_MOV_FROM_CR : OP_MOV_TO_CR, 8);
      return false;
    }
    case 0x30:
      setOp(OP_WRMSR, 0);
      return false;
    case 0x31:
      setOp(OP_RDTSC, 0);
      return false;
    case 0x32:
      setOp(OP_RDMSR, 0);
      return false;
    case 0x38: {
      // Three-byte map 0F 38: 66 0F 38 82 INVPCID Gy, Mdq.
      const c = byte();
      if (c == 0x82 && osize16) {
        const m = modrm(8);
        setOp(isMem(m) ? OP_INVPCID : OP_UD, 8);
      } else {
        setOp(OP_UD, 0);
      }
      return false;
    }
    case 0xA2:
      setOp(OP_CPUID, 0);
      return false;
    case 0xA4:
    case 0xA5:
    case 0xAC:
    case 0xAD: {
      // SHLD / SHRD Ev, Gv, Ib or CL.
      const size = vsize();
      modrm(size);
      setSub(b >= 0xAC ? 1 : 0);
      if (b & 1) flags |= F_CL;
      else setImm(<i64>(<u8>byte()));
      setOp(OP_SHIFT_DOUBLE, size);
      return false;
    }
    case 0xB8: {
      // F3 0F B8 POPCNT; without F3 it is JMPE, which 64-bit processors do not have.
      const size = vsize();
      modrm(size);
      setSub(SCAN_POPCNT);
      setOp(repByte == 0xF3 ? OP_BIT_SCAN : OP_UD, size);
      return false;
    }
    case 0xBC:
    case 0xBD: {
      // BSF / BSR; with F3, TZCNT / LZCNT (BMI1 and LZCNT, which CPUID reports).
      const size = vsize();
      modrm(size);
      const tz = repByte == 0xF3;
      setSub(b == 0xBC ? (tz ? SCAN_TZCNT : SCAN_BSF) : tz ? SCAN_LZCNT : SCAN_BSR);
      setOp(OP_BIT_SCAN, size);
      return false;
    }
    case 0xC7: {
      // Group 9: /1 with memory is CMPXCHG8B, or CMPXCHG16B with REX.W; the rest is not modelled.
      const m = modrm(8);
      const ok = isMem(m) && ((m >> 3) & 7) == 1;
      setOp(ok ? OP_CMPXCHG_DOUBLE : OP_UD, rexW() ? 16 : 8);
      return ok;
    }
    case 0xC8:
    case 0xC9:
    case 0xCA:
    case 0xCB:
    case 0xCC:
    case 0xCD:
    case 0xCE:
    case 0xCF:
      store<u8>(entry, <u8>((b & 7) | ((rex & 1) << 3)), D_RM);
      setOp(OP_BSWAP, vsize());
      return false;
    case 0xA3:
    case 0xAB:
    case 0xB3:
    case 0xBB: {
      const size = vsize();
      modrm(size);
      setSub(b == 0xA3 ? 0 : b == 0xAB ? 1 : b == 0xB3 ? 2 : 3);
      setOp(OP_BT_G, size);
      return b != 0xA3;
    }
    case 0xAE: {
      const m = modrm(8);
      const r = (m >> 3) & 7;
      if (!isMem(m) && repByte == 0xF3 && r < 4) {
        // F3 0F AE /0-/3 with a register: RDFSBASE RDGSBASE WRFSBASE WRGSBASE.
        setSub(r);
        setOp(OP_FSGSBASE, rexW() ? 8 : 4);
        return false;
      }
      if (isMem(m)) {
        setOp(r == 7 ? OP_CLFLUSH : OP_UD, 1);
      } else {
        store<u8>(entry, RM_MEM, D_RM);
        setSub(r == 5 ? FENCE_L : r == 6 ? FENCE_M : FENCE_S);
        setOp(r >= 5 ? OP_FENCE : OP_UD, 0);
      }
      return false;
    }
    case 0xAF: {
      const size = vsize();
      modrm(size);
      setOp(OP_IMUL_GE, size);
      return false;
    }
    case 0xB0:
    case 0xB1: {
      const size = b == 0xB0 ? 1 : vsize();
      modrm(size);
      setOp(OP_CMPXCHG, size);
      return true;
    }
    case 0xB6:
    case 0xB7:
    case 0xBE:
    case 0xBF: {
      const size = vsize();
      const srcSize: u32 = (b & 1) == 0 ? 1 : 2;
      // The source is the r/m operand: decode it with the source's width (byte registers).
      const m = modrm(srcSize);
      // The destination is a full register, not a byte one.
      store<u8>(entry, <u8>(((m >> 3) & 7) | ((rex & 4) << 1)), D_REG);
      setSub(srcSize);
      setOp(b < 0xBE ? OP_MOVZX : OP_MOVSX, size);
      return false;
    }
    case 0xBA: {
      const size = vsize();
      const m = modrm(size);
      const r = (m >> 3) & 7;
      setImm(<i64>(<u8>byte()));
      setSub(r - 4);
      setOp(r >= 4 ? OP_BT_I : OP_UD, size);
      return r > 4;
    }
    case 0xC0:
    case 0xC1: {
      const size = b == 0xC0 ? 1 : vsize();
      modrm(size);
      setOp(OP_XADD, size);
      return true;
    }
    default:
      setOp(OP_UD, 0);
      return false;
  }
}
