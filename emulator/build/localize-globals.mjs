// SPDX-License-Identifier: MIT
//
// A post-link pass over the hardware module: a function that reads a mutable
// global more than once reads it into a local on entry and uses the local,
// loading it again only after something that may write the global (a
// global.set, or a call to a function that writes it, directly or further
// down).
//
// Why: the hot paths read a few globals over and over (C, the selected CPU's
// block, above all), and V8 reloads a mutable global from memory at every
// read that follows a store to linear memory, because it does not know that a
// store cannot change a global. Binaryen does not do this either. On the cold
// x86-64 walk this is worth several per cent (bench/, README).
//
// It is safe because the module is single-threaded and not re-entered: the
// only import, if any, is AssemblyScript's abort, which throws. A function
// with any other import call, or an indirect call, is left alone.
//
// Input and output are the module's text (dist/shootdown.wat, with names);
// the binary is rebuilt from the text by Binaryen and validated.

// Binaryen as AssemblyScript ships it, so that the two always agree.
import binaryen from "assemblyscript/binaryen";
import { readFileSync, writeFileSync } from "node:fs";

// Functions named with --leave-alone are left as they are. An interpreter's
// run loop already keeps more values live across its dispatch than V8 has
// registers for; a local per global made it spill more, and measured slower
// (bench/cpu.ts: the x86-64 loop ran at 95 M instructions/s with its globals
// localized, 115 M without).
const USAGE = "usage: node localize-globals.mjs MODULE.wat MODULE.wasm [--leave-alone FUNCTION]...";
const args = process.argv.slice(2);
const [watPath, wasmPath] = args;
const LEAVE_ALONE = new Set();
for (let i = 2; i < args.length; i += 2) {
  if (args[i] !== "--leave-alone" || !args[i + 1]) {
    console.error(USAGE);
    process.exit(2);
  }
  LEAVE_ALONE.add(args[i + 1]);
}
if (!watPath || !wasmPath) {
  console.error(USAGE);
  process.exit(2);
}

/** Index just past the s-expression that opens at text[start] == "(". */
function skipSexpr(text, start) {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (ch === ";" && text[i + 1] === ";") {
      while (text[i] !== "\n") i++;
    } else if (ch === "(") {
      depth++;
    } else if (ch === ")") {
      if (--depth === 0) return i + 1;
    }
  }
  throw new Error("localize-globals: unbalanced parentheses in the module text");
}

// Binaryen prints the folded form, one s-expression per instruction, which is
// what the rewriting below reads.
const input = binaryen.parseText(readFileSync(watPath, "utf8"));
const text = input.emitText();
input.dispose();

// The module's top-level fields.
const fields = [];
for (let i = text.indexOf("(module") + "(module".length; ; ) {
  const open = text.indexOf("(", i);
  const close = text.indexOf(")", i);
  if (open < 0 || close < open) break;
  const end = skipSexpr(text, open);
  fields.push({ start: open, end, text: text.slice(open, end) });
  i = end;
}

const NAME = String.raw`\$[^\s()]+`;
const HEADER_FIELDS = new Set(["type", "param", "result", "local", "export", "import"]);
/** Mutable global → its value type. */
const mutableGlobals = new Map();
/** Function → what it may write ("*": anything), whom it calls, its result type, its text. */
const functions = new Map();
for (const f of fields) {
  let m;
  if ((m = new RegExp(String.raw`^\(global (${NAME}) \(mut (\w+)\)`).exec(f.text))) {
    mutableGlobals.set(m[1], m[2]);
  } else if ((m = new RegExp(String.raw`^\(import "([^"]*)" "([^"]*)" \(func (${NAME})`).exec(f.text))) {
    const throws = m[1] === "env" && m[2] === "abort";
    functions.set(m[3], { writes: new Set(throws ? [] : ["*"]), calls: [] });
  } else if ((m = new RegExp(String.raw`^\(func (${NAME})`).exec(f.text))) {
    const writes = new Set([...f.text.matchAll(new RegExp(String.raw`\(global\.set (${NAME})`, "g"))].map((x) => x[1]));
    if (/\((return_)?(call_indirect|call_ref)\b/.test(f.text)) writes.add("*");
    const calls = [...f.text.matchAll(new RegExp(String.raw`\((?:return_)?call (${NAME})`, "g"))].map((x) => x[1]);
    const bodyStart = findBodyStart(f.text);
    const result = /\(result (\w+)\)/.exec(f.text.slice(0, bodyStart))?.[1];
    functions.set(m[1], { writes, calls, result, field: f });
  }
}

/** Where a function's instructions start: after its type, params, result and locals. */
function findBodyStart(func) {
  for (let i = func.indexOf("(", 1); i >= 0; i = func.indexOf("(", skipSexpr(func, i))) {
    if (!HEADER_FIELDS.has(/^\(([\w.]+)/.exec(func.slice(i))?.[1])) return i;
  }
  return func.length - 1;
}

// What each function may write, through its calls too: iterate to a fixpoint.
for (let changed = true; changed; ) {
  changed = false;
  for (const fn of functions.values()) {
    for (const callee of fn.calls) {
      for (const g of functions.get(callee)?.writes ?? []) {
        if (!fn.writes.has(g)) {
          fn.writes.add(g);
          changed = true;
        }
      }
    }
  }
}

/**
 * Rewrites one function: reads of the chosen globals become reads of their
 * locals, and every write to one of them (a global.set, or a call that may
 * write it) is followed by reloading its local.
 */
function rewrite(fn, locals) {
  let out = fn.field.text;
  for (const { g, local } of locals) out = out.split(`(global.get ${g})`).join(`(local.get ${local})`);
  const reload = (written) => locals
    .filter(({ g }) => written.has(g))
    .map(({ g, local }) => `(local.set ${local} (global.get ${g}))`)
    .join(" ");
  // Wrap writes from the last to the first, so that positions before the one
  // being wrapped stay valid and an outer call sees its inner ones wrapped.
  const writes = [...out.matchAll(new RegExp(String.raw`\((global\.set|call) (${NAME})`, "g"))].reverse();
  let temps = 0;
  const tempDecls = [];
  for (const w of writes) {
    const [kind, target] = [w[1], w[2]];
    const written = kind === "global.set" ? new Set([target]) : functions.get(target)?.writes ?? new Set();
    const refresh = reload(written);
    if (!refresh) continue;
    const end = skipSexpr(out, w.index);
    const expr = out.slice(w.index, end);
    const type = kind === "call" ? functions.get(target)?.result : undefined;
    let wrapped;
    if (type) {
      const temp = `$localized:result${temps++}`;
      tempDecls.push(`(local ${temp} ${type})`);
      wrapped = `(block (result ${type}) (local.set ${temp} ${expr}) ${refresh} (local.get ${temp}))`;
    } else {
      wrapped = `(block ${expr} ${refresh})`;
    }
    out = out.slice(0, w.index) + wrapped + out.slice(end);
  }
  const bodyStart = findBodyStart(out);
  const decls = [...locals.map(({ g, local }) => `(local ${local} ${mutableGlobals.get(g)})`), ...tempDecls].join("\n  ");
  const loads = locals.map(({ g, local }) => `(local.set ${local} (global.get ${g}))`).join("\n  ");
  return `${out.slice(0, bodyStart)}${decls}\n  ${loads}\n  ${out.slice(bodyStart)}`;
}

for (const name of LEAVE_ALONE) {
  if (!functions.has(name)) {
    console.error(`localize-globals: ${name} (to leave alone) is not in the module; was it renamed?`);
    process.exit(1);
  }
}

let replaced = 0;
const edits = [];
for (const [name, fn] of functions) {
  if (!fn.field || fn.writes.has("*") || LEAVE_ALONE.has(name)) continue;
  const locals = [];
  for (const g of mutableGlobals.keys()) {
    const reads = fn.field.text.split(`(global.get ${g})`).length - 1;
    if (reads < 2) continue;
    locals.push({ g, local: `$localized:${locals.length}` });
    replaced += reads;
  }
  if (locals.length) edits.push({ field: fn.field, text: rewrite(fn, locals) });
}

let result = "";
let at = 0;
for (const e of edits) {
  result += text.slice(at, e.field.start) + e.text;
  at = e.field.end;
}
result += text.slice(at);

const module = binaryen.parseText(result);
module.setFeatures(binaryen.Features.All);
if (!module.validate()) {
  console.error("localize-globals: the rewritten module does not validate");
  process.exit(1);
}
// Let Binaryen tidy the blocks and locals the rewriting added.
binaryen.setOptimizeLevel(3);
binaryen.setShrinkLevel(0);
module.runPasses(["simplify-locals", "merge-blocks", "vacuum", "reorder-locals", "coalesce-locals"]);
writeFileSync(wasmPath, module.emitBinary());
writeFileSync(watPath, module.emitText());
module.dispose();
console.log(`localize-globals: ${replaced} global reads in ${edits.length} functions now read locals`);
