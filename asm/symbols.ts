// SPDX-License-Identifier: MIT
//
// The symbol table, and expression values as GNU as sees them: absolute, or
// an offset into a section (relocatable). Values are computed three ways:
//   while parsing  labels are (fragment, offset); a difference of two labels
//                  in one fragment is a number, anything else not known yet;
//   while relaxing labels are section offsets from the current layout round;
//   at the end     labels are addresses.

import { AsmError } from "./backend.ts";
import { applyBinary, applyUnary, type Expr } from "./expr.ts";
import type { Frag, Section } from "./frags.ts";
import type { Location } from "./source.ts";

export type SymbolDef =
  | { kind: "label"; section: Section; frag: Frag; offset: number; loc: Location }
  | { kind: "equ"; expr: Expr; loc: Location; fixed: boolean };

export interface AsmSymbol {
  name: string;
  global: boolean;
  type: "notype" | "func" | "object";
  size: Expr | undefined;
  def: SymbolDef | undefined;
  /** Where it was first used, for "undefined symbol" messages. */
  firstUse: Location | undefined;
}

/** A value: a number, or an offset in a section; `frag` is set while parsing only. */
export interface Value {
  section: Section | undefined;
  frag?: Frag;
  value: bigint;
}

export type Phase = "parse" | "relax" | "final";

export class SymbolTable {
  private readonly table = new Map<string, AsmSymbol>();

  get(name: string): AsmSymbol {
    let s = this.table.get(name);
    if (!s) {
      s = { name, global: false, type: "notype", size: undefined, def: undefined, firstUse: undefined };
      this.table.set(name, s);
    }
    return s;
  }

  peek(name: string): AsmSymbol | undefined {
    return this.table.get(name);
  }

  all(): IterableIterator<AsmSymbol> {
    return this.table.values();
  }

  /**
   * The value of an expression in a phase, or undefined when it has none
   * yet (an undefined symbol, a difference GNU as could not know while
   * parsing). Throws AsmError for an operation on relocatable values that
   * has no meaning (adding two labels, multiplying one).
   */
  value(e: Expr, phase: Phase): Value | undefined {
    try {
      return this.valueAt(e, phase, 0);
    } catch (err) {
      // Definitions that each nest deep expressions can together outrun the call stack (the parser bounds one expression, not a chain of them).
      if (err instanceof RangeError && /call stack/i.test(err.message)) throw new AsmError("expression too deeply nested (symbol definitions nest too many operators)");
      throw err;
    }
  }

  private valueAt(e: Expr, phase: Phase, depth: number): Value | undefined {
    if (depth > 100) throw new AsmError("symbol definition loop");
    switch (e.kind) {
      case "num":
        return { section: undefined, value: e.value };
      case "sym":
        return this.symbolValue(this.get(e.name), phase, depth);
      case "unary": {
        const a = this.valueAt(e.arg, phase, depth);
        if (!a) return undefined;
        if (a.section) {
          if (e.op === "+") return a;
          throw new AsmError(`can't apply '${e.op}' to a relocatable value`);
        }
        return { section: undefined, value: applyUnary(e.op, a.value) };
      }
      case "binary": {
        const a = this.valueAt(e.left, phase, depth);
        const b = this.valueAt(e.right, phase, depth);
        if (!a || !b) return undefined;
        if (!a.section && !b.section) return { section: undefined, value: applyBinary(e.op, a.value, b.value) };
        if (e.op === "+") {
          if (a.section && b.section) throw new AsmError("can't add two relocatable values");
          const r = a.section ? a : b;
          const n = a.section ? b : a;
          return { section: r.section, frag: r.frag, value: r.value + n.value };
        }
        if (e.op === "-") {
          if (a.section && !b.section) return { section: a.section, frag: a.frag, value: a.value - b.value };
          if (a.section && b.section && a.section === b.section) {
            // While parsing, only two labels of one fragment are a fixed distance apart.
            if (phase === "parse" && a.frag !== b.frag) return undefined;
            return { section: undefined, value: BigInt.asIntN(64, a.value - b.value) };
          }
          if (a.section && b.section) throw new AsmError("can't subtract labels of different sections");
          throw new AsmError("can't subtract a relocatable value from a number");
        }
        // Comparisons of two labels in one section are fine once their distance is known.
        if (a.section && b.section && a.section === b.section && (phase !== "parse" || a.frag === b.frag)) {
          return { section: undefined, value: applyBinary(e.op, a.value, b.value) };
        }
        if (phase === "parse") return undefined;
        throw new AsmError(`can't apply '${e.op}' to a relocatable value`);
      }
    }
  }

  private symbolValue(s: AsmSymbol, phase: Phase, depth: number): Value | undefined {
    const def = s.def;
    if (!def) return undefined;
    if (def.kind === "equ") return this.valueAt(def.expr, phase, depth + 1);
    const base = phase === "parse" ? 0 : def.frag.offset;
    const value = BigInt(base + def.offset) + (phase === "final" ? def.section.address : 0n);
    if (phase === "final") return { section: def.section, value };
    return { section: def.section, frag: phase === "parse" ? def.frag : undefined, value };
  }
}
