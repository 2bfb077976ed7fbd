// SPDX-License-Identifier: MIT
//
// Writes emulator/generated/hw-exports.ts, the TypeScript side's view of the
// hardware module's exports: the interface of its functions and the names of
// the memory map's constants. Nothing on the TypeScript side lists an export
// by hand, so an export added, renamed or removed in emulator/hw shows up here
// (and in the type checker) at the next `npm run build:hw`.
//
// Three inputs:
//   - dist/shootdown.d.ts, asc's own bindings (`bindings: ["raw"]` in
//     emulator/hw/asconfig.json), for the names, parameters and AssemblyScript
//     types of the exports;
//   - dist/shootdown.wasm, the module itself, whose export section must hold
//     exactly what the bindings declare: a mismatch (an export the module does
//     not have, or one the bindings miss) stops the build;
//   - emulator/hw/layout.ts, for the @counter tag of each CNT_* counter: its
//     name in the TypeScript API (Counters), so that a counter is added in
//     one place.
//
// asc types its bindings for its own adapting loader; the machine uses the
// instance's raw exports, so a `bool` is the i32 0 or 1 (a number) and an i64
// is a bigint that comes back signed.
//
// The output is not committed (emulator/generated/ is in .gitignore):
// `npm install` and `npm test` build it before anything reads it.

import ts from "typescript";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DTS_PATH = join(ROOT, "dist", "shootdown.d.ts");
export const WASM_PATH = join(ROOT, "dist", "shootdown.wasm");
export const LAYOUT_PATH = join(ROOT, "emulator", "hw", "layout.ts");
export const OUT_PATH = join(ROOT, "emulator", "generated", "hw-exports.ts");

/** The namespace asc declares the module's exports in. */
const NAMESPACE = "__AdaptedExports";

/**
 * The exports asc's bindings declare: functions (name, parameters, result, the
 * AssemblyScript signature), constants and variables (globals, by whether
 * they have a setter) and the memory.
 */
export function readBindings(dtsText) {
  const source = ts.createSourceFile("shootdown.d.ts", dtsText, ts.ScriptTarget.ES2022, true);
  const ns = source.statements.find((s) => ts.isModuleDeclaration(s) && s.name.text === NAMESPACE);
  if (!ns?.body || !ts.isModuleBlock(ns.body)) throw new Error(`hw-bindings: no 'namespace ${NAMESPACE}' in asc's bindings`);
  const out = { functions: [], constants: [], variables: [], memories: [] };
  for (const st of ns.body.statements) {
    if (ts.isFunctionDeclaration(st)) {
      out.functions.push(functionOf(st));
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) out[globalKind(d)].push(globalOf(d));
    } else {
      throw new Error(`hw-bindings: unexpected ${ts.SyntaxKind[st.kind]} in asc's bindings at ${lineOf(source, st)}`);
    }
  }
  return out;
}

function lineOf(source, node) {
  return `line ${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
}

/** asc's doc comment of an export: its source path, then `@param name \`type\`` and `@returns \`type\``. */
function ascDoc(node) {
  const doc = ts.getJSDocCommentsAndTags(node).find(ts.isJSDoc);
  const where = typeof doc?.comment === "string" ? doc.comment.trim() : "";
  const types = new Map();
  for (const tag of doc?.tags ?? []) {
    const text = typeof tag.comment === "string" ? tag.comment : "";
    const asType = /`([^`]+)`/.exec(text)?.[1];
    if (!asType) continue;
    if (ts.isJSDocParameterTag(tag)) types.set(tag.name.getText(), asType);
    else if (tag.tagName.text === "returns") types.set("", asType);
    else if (tag.tagName.text === "type") types.set("", asType);
  }
  return { where, types };
}

/** The raw instance's JavaScript type for a type asc wrote for its loader. */
function rawType(tsType) {
  if (tsType === "boolean") return "number";
  if (tsType === "number" || tsType === "bigint" || tsType === "void") return tsType;
  throw new Error(`hw-bindings: no raw WebAssembly type for '${tsType}'`);
}

function functionOf(fn) {
  const name = fn.name.text;
  const { where, types } = ascDoc(fn);
  const params = fn.parameters.map((p) => ({ name: p.name.getText(), type: rawType(p.type.getText()), asType: types.get(p.name.getText()) ?? "?" }));
  const result = rawType(fn.type.getText());
  return { name, where, params, result, asResult: types.get("") ?? "void" };
}

/** "constants" (getter only), "variables" (getter and setter), or "memories". */
function globalKind(decl) {
  const type = decl.type;
  if (type && ts.isTypeReferenceNode(type) && type.typeName.getText() === "WebAssembly.Memory") return "memories";
  if (!type || !ts.isTypeLiteralNode(type)) throw new Error(`hw-bindings: export ${decl.name.getText()} has no type asc would write`);
  return type.members.some(ts.isSetAccessorDeclaration) ? "variables" : "constants";
}

function globalOf(decl) {
  const name = decl.name.getText();
  const getter = decl.type && ts.isTypeLiteralNode(decl.type) ? decl.type.members.find(ts.isGetAccessorDeclaration) : undefined;
  const { where, types } = ascDoc(decl);
  return { name, where, type: getter ? rawType(getter.type.getText()) : "memory", asType: types.get("") ?? "" };
}

/**
 * Checks the bindings against the module's export section (as
 * WebAssembly.Module.exports lists it): the same names, each of the kind the
 * bindings say. Throws, naming every difference.
 */
export function checkAgainstModule(bindings, moduleExports) {
  const expected = new Map();
  for (const f of bindings.functions) expected.set(f.name, "function");
  for (const g of [...bindings.constants, ...bindings.variables]) expected.set(g.name, "global");
  for (const m of bindings.memories) expected.set(m.name, "memory");
  const problems = [];
  const actual = new Map(moduleExports.map((e) => [e.name, e.kind]));
  for (const [name, kind] of expected) {
    const got = actual.get(name);
    if (got === undefined) problems.push(`the bindings declare ${kind} '${name}', which the module does not export`);
    else if (got !== kind) problems.push(`the bindings declare '${name}' as a ${kind}, the module exports a ${got}`);
  }
  for (const [name, kind] of actual) {
    if (!expected.has(name)) problems.push(`the module exports ${kind} '${name}', which the bindings do not declare`);
  }
  if (problems.length) throw new Error(`hw-bindings: asc's bindings and dist/shootdown.wasm disagree:\n  ${problems.join("\n  ")}`);
}

/** emulator/hw/x86/exports.ts for asc's "emulator/hw/x86/exports/x86Run". */
/** The file an export comes from: an AssemblyScript module's path, or a build script that added it. */
const sourceFile = (where) => {
  const file = where.slice(0, where.lastIndexOf("/"));
  return file.endsWith(".mjs") ? file : `${file}.ts`;
};

/**
 * The counters of emulator/hw/layout.ts: every exported CNT_* constant but
 * COUNTER_COUNT, with the API name its @counter tag gives and its doc text.
 * Throws for a counter without a tag, or a name given twice.
 */
export function readCounters(layoutText) {
  const source = ts.createSourceFile("layout.ts", layoutText, ts.ScriptTarget.ES2022, true);
  const counters = [];
  for (const st of source.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      const constant = d.name.getText();
      if (!constant.startsWith("CNT_") || constant === "COUNTER_COUNT") continue;
      const doc = ts.getJSDocCommentsAndTags(st).filter(ts.isJSDoc).at(-1);
      const tag = doc?.tags?.find((t) => t.tagName.text === "counter");
      const name = typeof tag?.comment === "string" ? tag.comment.trim() : "";
      if (!/^[a-z][A-Za-z0-9]*$/.test(name)) {
        throw new Error(`hw-bindings: ${constant} (emulator/hw/layout.ts ${lineOf(source, st)}) needs a '@counter camelCaseName' tag: its name in Counters`);
      }
      if (counters.some((c) => c.name === name)) throw new Error(`hw-bindings: two counters are called '${name}'`);
      counters.push({ name, constant, doc: typeof doc?.comment === "string" ? doc.comment.trim() : "" });
    }
  }
  return counters;
}

const names = (list) => list.map((x) => `  "${x.name}",`).join("\n");

/** The text of emulator/generated/hw-exports.ts. */
export function renderBindings(b, counters) {
  for (const c of counters) {
    if (!b.constants.some((k) => k.name === c.constant && k.type === "number")) {
      throw new Error(`hw-bindings: counter ${c.constant} (${c.name}) is not a 32-bit constant the module exports`);
    }
  }
  const counterFields = counters.map((c) => `${c.doc ? `  /** ${c.doc} */\n` : ""}  ${c.name}: bigint;`);
  const numberConstants = b.constants.filter((c) => c.type === "number");
  const bigintConstants = b.constants.filter((c) => c.type === "bigint");
  const methods = b.functions.map((f) => {
    const asSig = `${f.name}(${f.params.map((p) => `${p.name}: ${p.asType}`).join(", ")}): ${f.asResult}`;
    const sig = `${f.name}(${f.params.map((p) => `${p.name}: ${p.type}`).join(", ")}): ${f.result};`;
    return `  /** \`${asSig}\` in ${sourceFile(f.where)} */\n  ${sig}`;
  });
  return `// SPDX-License-Identifier: MIT
//
// GENERATED by emulator/build/hw-bindings.mjs from the hardware module's
// exports (asc's bindings, checked against dist/shootdown.wasm). Do not edit:
// \`npm run build:hw\` writes it again.

/**
 * The functions the hardware module exports, as a WebAssembly instance hands
 * them to JavaScript: an i64 is a bigint (a u64 result comes back signed), a
 * bool the number 0 or 1, every other type a number.
 */
export interface HwFunctions {
${methods.join("\n")}
}

/** The memory map's 32-bit constants (emulator/hw/layout.ts and the other exported constants). */
export const LAYOUT_NAMES = [
${names(numberConstants)}
] as const;
export type LayoutName = (typeof LAYOUT_NAMES)[number];

/**
 * The memory map as one object literal, each constant read by \`value\`. V8
 * keeps an object made this way in fast mode, so that code reading
 * \`layout.X86_RIP\` loads a field; one given its hundreds of names one at a
 * time becomes a dictionary, and every such read a generic lookup.
 */
export function layoutLiteral(value: (name: LayoutName) => number): Readonly<Record<LayoutName, number>> {
  return {
${numberConstants.map((c) => `    ${c.name}: value("${c.name}"),`).join("\n")}
  };
}

/** The 64-bit constants. */
export const LAYOUT_U64_NAMES = [
${names(bigintConstants)}
] as const;
export type LayoutU64Name = (typeof LAYOUT_U64_NAMES)[number];

/** Globals the module itself sets (the region bases init() places). */
export const HW_VARIABLE_NAMES = [
${names(b.variables)}
] as const;
export type HwVariableName = (typeof HW_VARIABLE_NAMES)[number];

export const HW_FUNCTION_NAMES = [
${names(b.functions)}
] as const;

/** A CPU's counters, by the names the @counter tags of emulator/hw/layout.ts give them. */
export interface HwCounters {
${counterFields.join("\n")}
}

/** The index (a CNT_* constant) of each counter in the CPU block's counters. */
export const COUNTER_INDEX: Readonly<Record<keyof HwCounters, LayoutName>> = {
${counters.map((c) => `  ${c.name}: "${c.constant}",`).join("\n")}
};

/** Every export of the hardware module. */
export type HwExports = HwFunctions & { readonly memory: WebAssembly.Memory } & {
  readonly [name in LayoutName | LayoutU64Name | HwVariableName]: WebAssembly.Global;
};
`;
}

/** Reads both inputs, checks them against each other and returns the generated text. */
export function generate(dtsPath = DTS_PATH, wasmPath = WASM_PATH, layoutPath = LAYOUT_PATH) {
  for (const p of [dtsPath, wasmPath, layoutPath]) {
    if (!existsSync(p)) throw new Error(`hw-bindings: ${p} is missing: run 'npm run build:hw'`);
  }
  const bindings = readBindings(readFileSync(dtsPath, "utf8"));
  checkAgainstModule(bindings, WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(wasmPath))));
  return renderBindings(bindings, readCounters(readFileSync(layoutPath, "utf8")));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const text = generate();
    mkdirSync(dirname(OUT_PATH), { recursive: true });
    // Written only when it changes, so that watchers and esbuild see no churn.
    if (!existsSync(OUT_PATH) || readFileSync(OUT_PATH, "utf8") !== text) writeFileSync(OUT_PATH, text);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
