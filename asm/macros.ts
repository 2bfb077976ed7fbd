// SPDX-License-Identifier: MIT
//
// .macro, .rept, .irp and .irpc: bodies kept as statements, expanded by
// substituting arguments into their text, as GNU as does.
//
//   .macro name a, b=default, c:req, d:vararg      \a \b … in the body,
//                                                   \() separates, \@ counts
//   name x, y   or   name x y   or   name b=y, a=x  (keyword arguments)

import { AsmError } from "./backend.ts";
import { splitOperands, stringEnd, type Statement } from "./source.ts";

export interface MacroParam {
  name: string;
  default: string;
  required: boolean;
  vararg: boolean;
}

export interface Macro {
  name: string;
  params: MacroParam[];
  body: Statement[];
}

const NAME = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;

/** Parses the parameter list of `.macro name params…`. */
export function parseMacroHeader(text: string): { name: string; params: MacroParam[] } {
  const m = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,?\s*(.*)$/.exec(text);
  if (!m) throw new AsmError("expected a macro name after .macro");
  const params: MacroParam[] = [];
  for (const raw of splitArguments(m[2]!)) {
    const eq = raw.indexOf("=");
    let spec = eq >= 0 ? raw.slice(0, eq).trim() : raw.trim();
    const def = eq >= 0 ? unquote(raw.slice(eq + 1).trim()) : "";
    let required = false;
    let vararg = false;
    const q = /^(.*?):(req|vararg)$/.exec(spec);
    if (q) {
      spec = q[1]!;
      required = q[2] === "req";
      vararg = q[2] === "vararg";
    }
    if (!NAME.test(spec)) throw new AsmError(`bad macro parameter '${raw}'`);
    if (params.some((p) => p.name === spec)) throw new AsmError(`duplicate macro parameter '${spec}'`);
    params.push({ name: spec, default: def, required, vararg });
  }
  if (params.slice(0, -1).some((p) => p.vararg)) throw new AsmError("only the last macro parameter can be :vararg");
  return { name: m[1]!, params };
}

/**
 * Splits macro arguments as GNU as does: at commas, and at blanks between
 * two words (not at blanks around an operator, so `1 + 1` is one argument).
 * Parentheses and strings group.
 */
export function splitArguments(text: string): string[] {
  const out: string[] = [];
  let current = "";
  let depth = 0;
  let sawComma = false;
  const word = /[A-Za-z0-9_.$%"')\]\\]/;
  const wordStart = /[A-Za-z0-9_.$%"'(\[\\]/;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = stringEnd(text, i);
      current += text.slice(i, end);
      i = end - 1;
    } else if (ch === "(" || ch === "[") {
      depth++;
      current += ch;
    } else if (ch === ")" || ch === "]") {
      depth--;
      current += ch;
    } else if (ch === "," && depth === 0) {
      out.push(current.trim());
      current = "";
      sawComma = true;
    } else if (/\s/.test(ch) && depth === 0) {
      let j = i;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      const prev = current.trimEnd().slice(-1);
      const next = text[j] ?? "";
      if (prev && next && word.test(prev) && wordStart.test(next) && current.trim() !== "") {
        out.push(current.trim());
        current = "";
      } else {
        current += " ";
      }
      i = j - 1;
    } else {
      current += ch;
    }
  }
  if (current.trim() !== "" || sawComma) out.push(current.trim());
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Binds invocation arguments to parameters; throws AsmError for a missing required one or too many. */
export function bindArguments(macro: Macro, argText: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const p of macro.params) values.set(p.name, p.default);
  const args = argText.trim() === "" ? [] : splitArguments(argText);
  let position = 0;
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const kw = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)\s*(.*)$/.exec(arg);
    if (kw && macro.params.some((p) => p.name === kw[1])) {
      values.set(kw[1]!, unquote(kw[2]!));
      given.add(kw[1]!);
      continue;
    }
    const p = macro.params[position++];
    if (!p) throw new AsmError("too many positional arguments");
    if (p.vararg) {
      values.set(p.name, args.slice(i).join(", "));
      given.add(p.name);
      break;
    }
    if (arg !== "") {
      values.set(p.name, unquote(arg));
      given.add(p.name);
    }
  }
  for (const p of macro.params) {
    if (p.required && !given.has(p.name)) throw new AsmError(`Missing value for required parameter \`${p.name}' of macro \`${macro.name}'`);
  }
  return values;
}

/** Substitutes \name, \() and \@ in one line of a body. */
export function substitute(text: string, values: Map<string, string>, counter: number): string {
  return text.replace(/\\(\(\)|@|[A-Za-z_.$][A-Za-z0-9_.$]*)/g, (whole, name: string) => {
    if (name === "()") return "";
    if (name === "@") return String(counter);
    const v = values.get(name);
    return v === undefined ? whole : v;
  });
}

/** The values of an .irp list: `sym, a, b, c`. */
export function parseIrp(text: string): { name: string; values: string[] } {
  const parts = splitOperands(text);
  const name = parts[0] ?? "";
  if (!NAME.test(name)) throw new AsmError("expected a symbol name after .irp");
  const rest = parts.slice(1);
  // `.irp sym a b c` separates values by blanks too.
  const values = rest.length === 1 ? splitArguments(rest[0]!) : rest;
  return { name, values };
}
