// SPDX-License-Identifier: MIT
//
// A deep copy of the hypervisor's state (x86/pv-build.ts copies a built
// domain for every run). Everything reachable is copied once, so shared
// objects stay shared and cycles (a vCPU and its domain) are kept; class
// instances keep their prototype. The caller names the objects that are not
// state but wiring (the machine's memory, the host's callbacks): each is
// replaced by what the copy is to use instead. A function met anywhere else
// is an error, since a closure would go on reaching the original's objects.

/** Replacements: an object of the original → what the copy holds in its place. */
export type CopyReplacements = ReadonlyMap<object, unknown>;

/** What deepCopy passes to a COPY method: copies a value of the same original, once (it may be called after deepCopy returned). */
export type CopyOf = <T>(value: T) => T;

/**
 * A method that copies its object its own way, given the copy of everything
 * else (frame-table.ts copies its entries only when first asked for).
 */
export const COPY = Symbol("deepCopy");

interface CopiesItself {
  [COPY](copyOf: CopyOf): object;
}

export class CopyError extends Error {
  override name = "CopyError";
}

/** A deep copy of `root`, with `replace`'s objects swapped in wherever they are reached. */
export function deepCopy<T>(root: T, replace: CopyReplacements = new Map()): T {
  const memo = new Map<object, unknown>(replace);
  const copy = (v: unknown, where: string): unknown => {
    if (typeof v === "function") {
      if (memo.has(v)) return memo.get(v);
      throw new CopyError(`cannot copy the function at ${where}: name it as a replacement or keep state out of closures`);
    }
    if (v === null || typeof v !== "object") return v;
    if (memo.has(v)) return memo.get(v);
    if (COPY in v) {
      const out = (v as CopiesItself)[COPY](copyOf);
      memo.set(v, out);
      return out;
    }
    if (Array.isArray(v)) {
      if (!v.some(isObject)) {
        // Numbers and the like (a free list, a p2m): one copy, holes kept.
        const flat = v.slice();
        memo.set(v, flat);
        return flat;
      }
      const out: unknown[] = new Array(v.length);
      memo.set(v, out);
      // Holes stay holes (the frame table makes its entries when first asked for).
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (x === undefined) continue;
        out[i] = x === null || (typeof x !== "object" && typeof x !== "function") ? x : copy(x, `${where}[${i}]`);
      }
      return out;
    }
    if (v instanceof Map) {
      const out = new Map();
      memo.set(v, out);
      for (const [k, x] of v) out.set(copy(k, `${where} key`), copy(x, `${where}.get(${String(k)})`));
      return out;
    }
    if (v instanceof Set) {
      let flat = true;
      for (const x of v) if (isObject(x)) flat = false;
      const out = flat ? new Set(v) : new Set();
      memo.set(v, out);
      if (!flat) for (const x of v) out.add(copy(x, `${where} member`));
      return out;
    }
    if (ArrayBuffer.isView(v)) {
      const out = (v as unknown as { slice(): unknown }).slice();
      memo.set(v, out);
      return out;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto !== Object.prototype && proto !== null && !isPlainClass(proto)) {
      throw new CopyError(`cannot copy the ${proto.constructor?.name ?? "unknown"} at ${where}`);
    }
    const out = Object.create(proto) as Record<string, unknown>;
    memo.set(v, out);
    const src = v as Record<string, unknown>;
    for (const k of Object.keys(src)) {
      const x = src[k];
      out[k] = x === null || (typeof x !== "object" && typeof x !== "function") ? x : copy(x, `${where}.${k}`);
    }
    return out;
  };
  const copyOf: CopyOf = (value) => copy(value, "a COPY method's value") as typeof value;
  return copy(root, "root") as T;
}

const isObject = (x: unknown) => x !== null && (typeof x === "object" || typeof x === "function");

/**
 * A class of our own whose instances are their own fields (no private
 * slots of a built-in: a Date, a WeakMap or a generator would copy wrong).
 */
function isPlainClass(proto: object): boolean {
  for (let p: object | null = proto; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (BUILT_INS.has(p)) return false;
  }
  return true;
}

const BUILT_INS = new Set<object>([
  Date.prototype, RegExp.prototype, Promise.prototype, WeakMap.prototype, WeakSet.prototype, Error.prototype,
  Object.getPrototypeOf(function* () {}).prototype as object,
]);
