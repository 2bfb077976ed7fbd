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
  // One lookup per object reached (a copy is made once per run): a
  // replacement by undefined is kept as NONE, so that a miss is undefined.
  const memo = new Map<object, unknown>();
  for (const [k, v] of replace) memo.set(k, v === undefined ? NONE : v);
  // Where the copy is, for error messages only: path segments pushed and
  // popped, formatted when an error needs them.
  const path: PathSegment[] = [];
  const where = () => path.map((p) => (typeof p === "number" ? `[${p}]` : p)).join("");
  const copy = (v: unknown): unknown => {
    if (v === null || (typeof v !== "object" && typeof v !== "function")) return v;
    const known = memo.get(v);
    if (known !== undefined) return known === NONE ? undefined : known;
    if (typeof v === "function") {
      throw new CopyError(`cannot copy the function at ${where()}: name it as a replacement or keep state out of closures`);
    }
    if (COPY in v) {
      const out = (v as CopiesItself)[COPY](copyOf);
      memo.set(v, out);
      return out;
    }
    if (Array.isArray(v)) {
      if (!someObject(v)) {
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
        if (x === null || (typeof x !== "object" && typeof x !== "function")) out[i] = x;
        else {
          path.push(i);
          out[i] = copy(x);
          path.pop();
        }
      }
      return out;
    }
    if (v instanceof Map) {
      const out = new Map();
      memo.set(v, out);
      for (const [k, x] of v) {
        path.push(" key");
        const key = copy(k);
        path.pop();
        path.push(`.get(${String(k)})`);
        out.set(key, copy(x));
        path.pop();
      }
      return out;
    }
    if (v instanceof Set) {
      const flat = !someObject(v);
      const out = flat ? new Set(v) : new Set();
      memo.set(v, out);
      if (!flat) {
        path.push(" member");
        for (const x of v) out.add(copy(x));
        path.pop();
      }
      return out;
    }
    if (ArrayBuffer.isView(v)) {
      const out = (v as unknown as { slice(): unknown }).slice();
      memo.set(v, out);
      return out;
    }
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto !== Object.prototype && proto !== null && !isPlainClass(proto)) {
      throw new CopyError(`cannot copy the ${proto.constructor?.name ?? "unknown"} at ${where()}`);
    }
    const out = Object.create(proto) as Record<string, unknown>;
    memo.set(v, out);
    const src = v as Record<string, unknown>;
    for (const k of Object.keys(src)) {
      const x = src[k];
      if (x === null || (typeof x !== "object" && typeof x !== "function")) out[k] = x;
      else {
        path.push(`.${k}`);
        out[k] = copy(x);
        path.pop();
      }
    }
    return out;
  };
  const copyOf: CopyOf = (value) => {
    // A COPY method's value, which may be asked for after deepCopy returned.
    const depth = path.length;
    path.push(" (a COPY method's value)");
    try {
      return copy(value) as typeof value;
    } finally {
      path.length = depth;
    }
  };
  path.push("root");
  const out = copy(root) as T;
  path.pop();
  return out;
}

/** A path segment: a property (".name", " key", " member") or an array index. */
type PathSegment = string | number;

/** What the memo holds for an object replaced by undefined. */
const NONE = Symbol("replaced by undefined");

const isObject = (x: unknown) => x !== null && (typeof x === "object" || typeof x === "function");

/** Does any member of an array or set need copying? (A loop of its own: `some` with a callback took 90 µs over a free list.) */
function someObject(values: Iterable<unknown> & { length?: number }): boolean {
  if (Array.isArray(values)) {
    for (let i = 0; i < values.length; i++) {
      const x: unknown = values[i];
      if (typeof x === "object" ? x !== null : typeof x === "function") return true;
    }
    return false;
  }
  for (const x of values) if (isObject(x)) return true;
  return false;
}

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
