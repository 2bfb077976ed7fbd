// SPDX-License-Identifier: MIT
//
// The A64 data-processing instructions (DDI0487 C4.1.86 "Data Processing --
// Immediate", C4.1.88 "Data Processing -- Register"), with the arithmetic of
// alu.ts. An unallocated encoding in these classes is UNDEFINED.

import {
  pstate, xr, setX, xsp, setXsp, setXs, conditionHolds, setNzcv,
} from "./state";
import { raiseUndef } from "./exception";
import {
  addWithCarry, logicNzcv, nzcvOut, shiftReg, extendReg, decodeBitMasks, wmask, tmask, rorN, datasizeMask,
  reverseBits, rev16, rev32, countLeadingSign, sdiv, udiv, sext, SHIFT_ROR,
} from "./alu";
import { mulHigh, imulHigh } from "../../common/mul128";

// ── The hot forms ───────────────────────────────────────────────────────────
//
// The encodings kernels and benchmarks run most, which the run loop also
// executes inline (execute.ts): no calls, no flags through a global. Each
// returns false for an unallocated encoding and then changes nothing.

/** AddWithCarry(a, b, 0) or AddWithCarry(a, NOT(b), 1) for a subtraction, with NZCV written to PSTATE. */
@inline export function addSubSetFlags(a: u64, b: u64, sub: bool, sf: bool): u64 {
  const mask = datasizeMask(sf);
  const top: u64 = sf ? 63 : 31;
  const x = a & mask;
  const y = b & mask;
  const r = (sub ? x - y : x + y) & mask;
  const c: u64 = (sub ? x >= y : r < x) ? 1 : 0;
  const v = (((sub ? x ^ y : ~(x ^ y)) & (x ^ r)) >> top) & 1;
  setNzcv(((r >> top) << 3) | (r == 0 ? 4 : 0) | (c << 1) | v);
  return r;
}

/** ADD/ADDS/SUB/SUBS (immediate), C6.2.4: Rn and (unless S) Rd may be SP. */
@inline export function addSubImmediate(insn: u32): void {
  const sf = (insn >> 31) != 0;
  const sub = ((insn >> 30) & 1) != 0;
  const rd = insn & 31;
  let imm = <u64>((insn >> 10) & 0xFFF);
  if (insn & (1 << 22)) imm <<= 12;
  const a = xsp((insn >> 5) & 31);
  if (insn & (1 << 29)) setX(rd, addSubSetFlags(a, imm, sub, sf));
  else setXsp(rd, (sub ? a - imm : a + imm) & datasizeMask(sf));
}

/**
 * The last logical immediates decoded, direct-mapped by sf:N:immr:imms: a
 * loop's AND with a mask then needs no DecodeBitMasks. Slot: u64 key + 1
 * (0 is empty), u64 wmask.
 */
const LOGIMM_SLOTS: u32 = 64;
const logImmCache: usize = memory.data(<i32>(LOGIMM_SLOTS * 16));
/** The mask logicalImmMask found. */
let immMask: u64 = 0;

/** wmask of a valid logical immediate (sf, N, immr, imms of insn), through logImmCache; false for a reserved one. */
@inline function logicalImmMask(insn: u32, sf: bool): bool {
  const key = ((insn >> 10) & 0x1FFF) | ((insn >> 18) & 0x2000);
  const slot = logImmCache + <usize>(key & (LOGIMM_SLOTS - 1)) * 16;
  if (load<u64>(slot) == <u64>key + 1) {
    immMask = load<u64>(slot, 8);
    return true;
  }
  if (!decodeBitMasks((insn >> 22) & 1, (insn >> 10) & 63, (insn >> 16) & 63, true, sf)) return false;
  store<u64>(slot, <u64>key + 1);
  store<u64>(slot, wmask, 8);
  immMask = wmask;
  return true;
}

/** AND/ORR/EOR/ANDS (immediate), C6.2.12: Rd may be SP unless ANDS. */
@inline export function logicalImmediate(insn: u32): bool {
  const sf = (insn >> 31) != 0;
  const n = (insn >> 22) & 1;
  if (!sf && n) return false;
  if (!logicalImmMask(insn, sf)) return false;
  const a = xr((insn >> 5) & 31);
  const opc = (insn >> 29) & 3;
  let r: u64;
  if (opc == 0 || opc == 3) r = a & immMask;
  else if (opc == 1) r = a | immMask;
  else r = a ^ immMask;
  r &= datasizeMask(sf);
  if (opc == 3) {
    setNzcv(logicNzcv(r, sf));
    setX(insn & 31, r);
  } else setXsp(insn & 31, r);
  return true;
}

/** AND BIC ORR ORN EOR EON ANDS BICS (shifted register), C6.2.13. */
@inline export function logicalShifted(insn: u32): bool {
  const sf = (insn >> 31) != 0;
  const mask = datasizeMask(sf);
  const amount = (insn >> 10) & 63;
  if (!sf && amount >= 32) return false;
  let b = shiftReg(xr((insn >> 16) & 31), (insn >> 22) & 3, amount, sf);
  if (insn & (1 << 21)) b = ~b & mask;
  const a = xr((insn >> 5) & 31) & mask;
  const opc = (insn >> 29) & 3;
  let r: u64;
  if (opc == 0 || opc == 3) r = a & b;
  else if (opc == 1) r = a | b;
  else r = a ^ b;
  if (opc == 3) setNzcv(logicNzcv(r, sf));
  setX(insn & 31, r);
  return true;
}

/** ADD/ADDS/SUB/SUBS (shifted register), C6.2.5 (bit 21 clear). */
@inline export function addSubShifted(insn: u32): bool {
  const sf = (insn >> 31) != 0;
  const type = (insn >> 22) & 3;
  const amount = (insn >> 10) & 63;
  if (type == SHIFT_ROR || (!sf && amount >= 32)) return false;
  const sub = ((insn >> 30) & 1) != 0;
  const a = xr((insn >> 5) & 31);
  const b = shiftReg(xr((insn >> 16) & 31), type, amount, sf);
  const r = insn & (1 << 29) ? addSubSetFlags(a, b, sub, sf) : (sub ? a - b : a + b) & datasizeMask(sf);
  setX(insn & 31, r);
  return true;
}

// ── Data processing (immediate), C4.1.86 ─────────────────────────────────────

export function dataProcessingImmediate(insn: u32, pc: u64): void {
  const sf = (insn >> 31) != 0;
  const rd = insn & 31;
  const rn = (insn >> 5) & 31;
  const group = (insn >> 23) & 7;
  switch (group) {
    case 0b000:
    case 0b001: {
      // ADR / ADRP.
      const imm = sext((<u64>((insn >> 5) & 0x7FFFF) << 2) | <u64>((insn >> 29) & 3), 21);
      setX(rd, sf ? (pc & ~<u64>0xFFF) + (imm << 12) : pc + imm);
      return;
    }
    case 0b010:
      addSubImmediate(insn);
      return;
    case 0b100:
      if (logicalImmediate(insn)) return;
      break;
    case 0b101: {
      // MOVN / MOVZ / MOVK.
      const opc = (insn >> 29) & 3;
      const hw = (insn >> 21) & 3;
      if (opc == 1 || (!sf && hw >= 2)) break;
      const pos = <u64>hw << 4;
      const imm = <u64>((insn >> 5) & 0xFFFF) << pos;
      let r: u64;
      if (opc == 0) r = ~imm;
      else if (opc == 2) r = imm;
      else r = (xr(rd) & ~(<u64>0xFFFF << pos)) | imm;
      setXs(rd, r, sf);
      return;
    }
    case 0b110: {
      // SBFM / BFM / UBFM.
      const opc = (insn >> 29) & 3;
      const n = (insn >> 22) & 1;
      const immr = (insn >> 16) & 63;
      const imms = (insn >> 10) & 63;
      if (opc == 3 || n != (sf ? 1 : 0)) break;
      if (!sf && (immr >= 32 || imms >= 32)) break;
      if (!decodeBitMasks(n, imms, immr, false, sf)) break;
      const size: u32 = sf ? 64 : 32;
      const src = xr(rn) & datasizeMask(sf);
      const bot0 = rorN(src, immr, size) & wmask;
      let r: u64;
      if (opc == 1) {
        const dst = xr(rd);
        const bot = (dst & ~wmask) | bot0;
        r = (dst & ~tmask) | (bot & tmask);
      } else if (opc == 2) {
        r = bot0 & tmask;
      } else {
        const top = (src >> imms) & 1 ? datasizeMask(sf) : 0;
        r = (top & ~tmask) | (bot0 & tmask);
      }
      setXs(rd, r, sf);
      return;
    }
    case 0b111: {
      // EXTR (and ROR (immediate)).
      const n = (insn >> 22) & 1;
      const lsb = (insn >> 10) & 63;
      if (((insn >> 29) & 3) != 0 || (insn & (1 << 21)) || n != (sf ? 1 : 0) || (!sf && lsb >= 32)) break;
      const hi = xr(rn);
      const lo = xr((insn >> 16) & 31);
      let r: u64;
      if (sf) r = lsb == 0 ? lo : (lo >> lsb) | (hi << (64 - lsb));
      else r = ((((hi & 0xFFFF_FFFF) << 32) | (lo & 0xFFFF_FFFF)) >> lsb) & 0xFFFF_FFFF;
      setX(rd, r);
      return;
    }
    default:
      break;
  }
  raiseUndef();
}

// ── Data processing (register), C4.1.88 ──────────────────────────────────────

export function dataProcessingRegister(insn: u32): void {
  const sf = (insn >> 31) != 0;
  const rd = insn & 31;
  const rn = (insn >> 5) & 31;
  const rm = (insn >> 16) & 31;
  const mask = datasizeMask(sf);
  if ((insn & 0x1F00_0000) == 0x0A00_0000) {
    if (!logicalShifted(insn)) raiseUndef();
    return;
  }
  if ((insn & 0x1F00_0000) == 0x0B00_0000) {
    const sub = (insn >> 30) & 1;
    const s = (insn >> 29) & 1;
    if (insn & (1 << 21)) {
      // ADD/SUB (extended register): Rn and (unless S) Rd may be SP.
      const shift = (insn >> 10) & 7;
      if (shift > 4 || ((insn >> 22) & 3) != 0) {
        raiseUndef();
        return;
      }
      const b = extendReg(xr(rm), (insn >> 13) & 7, shift);
      const r = addWithCarry(xsp(rn), sub ? ~b : b, sub, sf);
      if (s) {
        setNzcv(nzcvOut);
        setXs(rd, r, sf);
      } else setXsp(rd, r & mask);
      return;
    }
    if (!addSubShifted(insn)) raiseUndef();
    return;
  }
  if ((insn & 0x1F00_0000) == 0x1B00_0000) {
    dataProcessing3(insn, sf, rd, rn, rm);
    return;
  }
  const op = (insn >> 21) & 0xFF;
  if ((insn & 0x1FE0_0000) == 0x1A00_0000) {
    // ADC/ADCS/SBC/SBCS.
    if ((insn >> 10) & 63) {
      raiseUndef();
      return;
    }
    const sub = (insn >> 30) & 1;
    const b = xr(rm);
    const r = addWithCarry(xr(rn), sub ? ~b : b, (pstate() >> 29) & 1, sf);
    if ((insn >> 29) & 1) setNzcv(nzcvOut);
    setXs(rd, r, sf);
    return;
  }
  if ((insn & 0x1FE0_0000) == 0x1A40_0000) {
    // CCMN / CCMP (register or immediate).
    if (!((insn >> 29) & 1) || (insn & (1 << 10)) || (insn & (1 << 4))) {
      raiseUndef();
      return;
    }
    if (conditionHolds((insn >> 12) & 15)) {
      const b = insn & (1 << 11) ? <u64>rm : xr(rm);
      const sub = (insn >> 30) & 1;
      addWithCarry(xr(rn), sub ? ~b : b, sub, sf);
      setNzcv(nzcvOut);
    } else setNzcv(<u64>(insn & 15));
    return;
  }
  if ((insn & 0x1FE0_0000) == 0x1A80_0000) {
    // CSEL / CSINC / CSINV / CSNEG.
    const op2 = (insn >> 10) & 3;
    if ((insn >> 29) & 1 || op2 > 1) {
      raiseUndef();
      return;
    }
    let r: u64;
    if (conditionHolds((insn >> 12) & 15)) r = xr(rn);
    else {
      r = xr(rm);
      const inv = (insn >> 30) & 1;
      if (inv) r = ~r;
      if (op2 == 1) r += 1;
    }
    setXs(rd, r, sf);
    return;
  }
  if (op == 0xD6 && !((insn >> 29) & 1)) {
    const opcode = (insn >> 10) & 63;
    if (insn & (1 << 30)) {
      // Data-processing (1 source): RBIT REV16 REV32 REV CLZ CLS.
      if (rm != 0) {
        raiseUndef();
        return;
      }
      const a = xr(rn) & mask;
      let r: u64;
      switch (opcode) {
        case 0: r = reverseBits(a, sf); break;
        case 1: r = rev16(a, sf); break;
        case 2: r = sf ? rev32(a) : <u64>bswap<u32>(<u32>a); break;
        case 3:
          if (!sf) {
            raiseUndef();
            return;
          }
          r = bswap<u64>(a);
          break;
        case 4: r = sf ? <u64>clz<u64>(a) : <u64>clz<u32>(<u32>a); break;
        case 5: r = countLeadingSign(a, sf); break;
        default:
          raiseUndef();
          return;
      }
      setX(rd, r);
      return;
    }
    // Data-processing (2 source): UDIV SDIV LSLV LSRV ASRV RORV.
    const a = xr(rn);
    const b = xr(rm);
    let r: u64;
    switch (opcode) {
      case 2: r = udiv(a, b, sf); break;
      case 3: r = sdiv(a, b, sf); break;
      case 8: case 9: case 10: case 11:
        r = shiftReg(a, opcode - 8, <u32>(b & (sf ? 63 : 31)), sf);
        break;
      default:
        raiseUndef();
        return;
    }
    setXs(rd, r, sf);
    return;
  }
  raiseUndef();
}

/** MADD MSUB SMADDL SMSUBL UMADDL UMSUBL SMULH UMULH. */
function dataProcessing3(insn: u32, sf: bool, rd: u32, rn: u32, rm: u32): void {
  const op31 = (insn >> 21) & 7;
  const o0 = (insn >> 15) & 1;
  const ra = (insn >> 10) & 31;
  if ((insn >> 29) & 3) {
    raiseUndef();
    return;
  }
  const a = xr(rn);
  const b = xr(rm);
  if (op31 == 0) {
    const p = a * b;
    setXs(rd, o0 ? xr(ra) - p : xr(ra) + p, sf);
    return;
  }
  if (!sf) {
    raiseUndef();
    return;
  }
  switch (op31) {
    case 1:
    case 5: {
      const p = op31 == 1 ? <u64>(<i64>(<i32>a) * <i64>(<i32>b)) : (a & 0xFFFF_FFFF) * (b & 0xFFFF_FFFF);
      setX(rd, o0 ? xr(ra) - p : xr(ra) + p);
      return;
    }
    case 2:
      if (o0 || ra != 31) break;
      setX(rd, imulHigh(a, b));
      return;
    case 6:
      if (o0 || ra != 31) break;
      setX(rd, mulHigh(a, b));
      return;
    default:
      break;
  }
  raiseUndef();
}
