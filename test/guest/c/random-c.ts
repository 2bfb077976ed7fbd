// SPDX-License-Identifier: MIT
//
// Random C functions for the property test (random-c.test.ts), in the
// spirit of Csmith: each is `uint64_t fN(uint64_t a, uint64_t b, uint64_t c)`
// built from integer expressions of every width and signedness, local
// arrays, loops, switches and 128-bit arithmetic, and free of undefined
// behaviour by construction, so that every correct compiler and CPU computes
// the same result:
//
// - arithmetic that may overflow is done on unsigned types (wrapping is
//   defined); signed types appear only where a value is compared, divided,
//   shifted right or converted, which cannot overflow;
// - a narrow unsigned operand is widened to uint32_t or uint64_t before a
//   shift or a multiplication, since C would promote it to a signed int;
// - shift counts are masked below the width; divisors are tested for 0,
//   and a signed division also for MIN / -1;
// - loops run a constant number of times and index arrays modulo their size.
//
// The same functions run as a shootdown kernel and as a host program (or
// under QEMU), and print one hash line per function.

import { Rng } from "../../emulator/x86/native/generate.ts";

interface CType {
  name: string;
  bits: number;
  signed: boolean;
}

const TYPES: CType[] = [8, 16, 32, 64].flatMap((bits) => [
  { name: `uint${bits}_t`, bits, signed: false },
  { name: `int${bits}_t`, bits, signed: true },
]);
const unsignedOf = (t: CType): CType => TYPES.find((u) => u.bits === t.bits && !u.signed)!;
/** The type arithmetic on t is done in: uint32_t or uint64_t (never a promoted signed int). */
const arith = (t: CType): CType => TYPES.find((u) => !u.signed && u.bits === Math.max(32, t.bits))!;

class FunctionBuilder {
  private readonly lines: string[] = [];
  private readonly vars: string[] = ["a", "b", "c"];
  private temp = 0;

  constructor(
    private readonly rng: Rng,
    private readonly name: string,
  ) {}

  private constant(t: CType): string {
    const rng = this.rng;
    const corners = [0n, 1n, 2n, 3n, 7n, 0x7fn, 0x80n, 0xffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x8000000000000000n];
    const raw = rng.chance(0.5) ? rng.pick(corners) : rng.u64();
    const v = BigInt.asUintN(t.bits, raw);
    return `(${t.name})0x${v.toString(16)}ull`;
  }

  /** An expression whose value has type t (as a C expression of that type after the cast). */
  expr(t: CType, depth: number): string {
    const rng = this.rng;
    if (depth <= 0 || rng.chance(0.2)) {
      return rng.chance(0.75) ? `(${t.name})${rng.pick(this.vars)}` : this.constant(t);
    }
    const w = arith(t);
    const sub = () => `(${w.name})${this.expr(rng.pick(TYPES), depth - 1)}`;
    const mask = w.bits - 1;
    switch (rng.below(12)) {
      case 0: case 1: {
        const op = rng.pick(["+", "-", "*", "&", "|", "^"]);
        return `(${t.name})(${sub()} ${op} ${sub()})`;
      }
      case 2:
        return `(${t.name})(${sub()} << (${sub()} & ${mask}))`;
      case 3: {
        // A right shift of a signed value is arithmetic in GCC (implementation-defined, the same on both targets).
        const s = rng.pick(TYPES.filter((x) => x.bits === w.bits));
        return `(${t.name})((${s.name})${sub()} >> (${sub()} & ${mask}))`;
      }
      case 4: {
        const u = rng.pick(TYPES);
        const x = this.temp++;
        const d = `d${x}`;
        const n = `n${x}`;
        this.lines.push(`\t${u.name} ${n} = (${u.name})${this.expr(u, depth - 1)};`);
        this.lines.push(`\t${u.name} ${d} = (${u.name})${this.expr(u, depth - 1)};`);
        if (!u.signed) return `(${t.name})(${d} ? (${arith(u).name})${n} ${rng.pick(["/", "%"])} ${d} : ${n})`;
        // Signed: widened to int64_t, whose MIN / -1 is the one case that overflows.
        const guard = `(${d} == 0 || ((int64_t)${n} == INT64_MIN && (int64_t)${d} == -1))`;
        return `(${t.name})(${guard} ? (int64_t)${n} : (int64_t)${n} ${rng.pick(["/", "%"])} (int64_t)${d})`;
      }
      case 5: {
        const s = rng.pick(TYPES);
        const op = rng.pick(["<", "<=", ">", ">=", "==", "!="]);
        return `(${t.name})((${s.name})${this.expr(s, depth - 1)} ${op} (${s.name})${this.expr(s, depth - 1)})`;
      }
      case 6:
        return `(${this.expr(rng.pick(TYPES), depth - 1)} ${rng.pick(["<", ">", "==", "!="])} ${this.expr(rng.pick(TYPES), depth - 1)} ? ${this.expr(t, depth - 1)} : ${this.expr(t, depth - 1)})`;
      case 7:
        return `(${t.name})(${rng.pick(["~", "-", "!"])}${sub()})`;
      case 8: {
        // 128-bit multiply high, shift and (guarded) division: libgcc's __udivti3 and kin, SHLD/SHRD, UMULH.
        const x = `((unsigned __int128)${sub()} << 64 | ${sub()})`;
        const y = `(uint64_t)${sub()}`;
        switch (rng.below(3)) {
          case 0: return `(${t.name})(((unsigned __int128)${sub()} * ${y}) >> 64)`;
          case 1: return `(${t.name})(${x} >> (${sub()} & 127))`;
          default: return `(${t.name})(${y} ? ${x} / (${y} | 1) : 0)`;
        }
      }
      case 9: {
        const f = rng.pick(["__builtin_popcountll", "__builtin_parityll", "__builtin_bswap64"]);
        const guarded = rng.pick(["__builtin_ctzll", "__builtin_clzll"]);
        if (rng.chance(0.5)) return `(${t.name})${f}(${sub()})`;
        const x = `g${this.temp++}`;
        this.lines.push(`\tuint64_t ${x} = (uint64_t)${this.expr(rng.pick(TYPES), depth - 1)};`);
        return `(${t.name})(${x} ? ${guarded}(${x}) : 64)`;
      }
      case 10: {
        const u = unsignedOf(t);
        const k = rng.range(1, u.bits - 1);
        return `(${t.name})((${arith(u).name})(${u.name})${this.expr(u, depth - 1)} >> ${k} | (${arith(u).name})(${u.name})${this.expr(u, depth - 1)} << ${k})`;
      }
      default:
        return `(${t.name})${rng.pick(this.vars)}`;
    }
  }

  private statement(depth: number): void {
    const rng = this.rng;
    const t = rng.pick(TYPES);
    switch (rng.below(6)) {
      case 0: {
        const v = `v${this.temp++}`;
        this.lines.push(`\t${t.name} ${v} = ${this.expr(t, depth)};`);
        this.vars.push(v);
        return;
      }
      case 1: {
        // A loop over a local array: filled, mixed and summed (zeroing and copies may become REP STOS/MOVS).
        const n = rng.range(3, 40);
        const arr = `arr${this.temp++}`;
        const e = this.expr(t, depth - 1);
        this.lines.push(`\t${t.name} ${arr}[${n}] = {0};`);
        this.lines.push(`\tfor (int i = 0; i < ${n}; i++) ${arr}[(i * 7) % ${n}] = (${t.name})((${arith(t).name})${e} + (${arith(t).name})i * 0x9e3779b9u);`);
        const copy = `cp${this.temp++}`;
        this.lines.push(`\tstruct { ${t.name} x[${n}]; } ${copy};`);
        this.lines.push(`\t__builtin_memcpy(&${copy}, ${arr}, sizeof(${arr}));`);
        this.lines.push(`\tfor (int i = 0; i < ${n}; i++) acc = acc * 31 + (uint64_t)${copy}.x[i];`);
        return;
      }
      case 2: {
        // Every expression first: the temporaries they declare must not sit inside the switch, where a jump to a case skips them.
        const selector = this.expr(TYPES[0]!, depth - 1);
        const arms = Array.from({ length: 6 }, () => this.expr(t, depth - 1));
        this.lines.push(`\tswitch ((unsigned)${selector} & 7) {`);
        arms.forEach((e, k) => this.lines.push(`\tcase ${k}: acc ^= (uint64_t)${e}; break;`));
        this.lines.push(`\tdefault: acc += 0x${rng.u32().toString(16)}u; break;`);
        this.lines.push(`\t}`);
        return;
      }
      case 3:
        this.lines.push(`\tif (${this.expr(t, depth - 1)} ${rng.pick(["<", ">", "!="])} ${this.expr(t, depth - 1)}) acc += (uint64_t)${this.expr(t, depth - 1)}; else acc -= (uint64_t)${this.expr(t, depth - 1)};`);
        return;
      default:
        this.lines.push(`\tacc = acc * 0x100000001b3ull ^ (uint64_t)${this.expr(t, depth)};`);
    }
  }

  build(): string {
    const n = this.rng.range(3, 8);
    for (let i = 0; i < n; i++) this.statement(this.rng.range(1, 4));
    return [
      `__attribute__((noinline)) uint64_t ${this.name}(uint64_t a, uint64_t b, uint64_t c)`,
      `{`,
      `\tuint64_t acc = a ^ (b << 1) ^ (c << 2);`,
      ...this.lines,
      `\treturn acc;`,
      `}`,
    ].join("\n");
  }
}

/** Inputs every function is called with. */
const INPUTS = [
  ["0", "0", "0"], ["1", "2", "3"], ["0xffffffffffffffffull", "0x8000000000000000ull", "0x7fffffffffffffffull"],
  ["0x123456789abcdef0ull", "0xfedcba9876543210ull", "0x80000000ull"], ["0xffffffffull", "0x7fffull", "0xffull"],
];

/**
 * One translation unit: `count` random functions and `run_all(report)`,
 * which calls each with every input and reports a hash per function.
 */
export function randomProgram(seed: number, count: number): string {
  const rng = new Rng(seed);
  const functions = Array.from({ length: count }, (_, i) => new FunctionBuilder(rng, `f${i}`).build());
  const calls = functions.map((_, i) => {
    const mixes = INPUTS.map(([a, b, c]) => `h = (h ^ f${i}(${a}, ${b}, ${c})) * 0x100000001b3ull;`).join(" ");
    return `\th = 0xcbf29ce484222325ull; ${mixes} report(${i}, h);`;
  });
  return [
    `/* Generated by test/guest/c/random-c.ts, seed ${seed}. */`,
    `#include <stdint.h>`,
    ...functions,
    `void run_all(void (*report)(unsigned, uint64_t))`,
    `{`,
    `\tuint64_t h;`,
    ...calls,
    `}`,
    "",
  ].join("\n");
}

/** The kernel around it: prints "fN: <hash>" through the examples' console. */
export const KERNEL_MAIN = `#include "kernel.h"
void run_all(void (*report)(unsigned, uint64_t));
static void report(unsigned i, uint64_t h) { kprintf("f%u: %016lx\\n", i, h); }
int kmain(unsigned cpu, const void *info) { (void)info; if (cpu) return 0; run_all(report); return 0; }
`;

/** The host program around it (x86-64 natively). */
export const HOST_MAIN = `#include <stdio.h>
#include <stdint.h>
void run_all(void (*report)(unsigned, uint64_t));
static void report(unsigned i, uint64_t h) { printf("f%u: %016llx\\n", i, (unsigned long long)h); }
int main(void) { run_all(report); return 0; }
`;
