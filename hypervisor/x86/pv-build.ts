// SPDX-License-Identifier: MIT
//
// The PV domains as the builder leaves them, built once and copied for each
// run. Building is most of what a run's start costs (every frame of a
// domain allocated, and the builder's tables validated entry by entry, as
// the toolstack's pin of the L4 does), and `shootdown explore` starts
// thousands of runs whose image and options are the same: only the seed
// differs, and the build does not depend on it. The builder's frames, and
// the hypervisor's own (the M2P and the GDT), come from the allocator seeded
// with LAYOUT_SEED whatever the run's seed; once the domains are built the
// run's seed takes the allocator over, so the frames a domain gets later
// (populate_physmap) still differ from seed to seed.
//
// A build is kept per image and options (the last few): the hypervisor's
// state, and the machine pages the build wrote that are not all zeros. A
// run gets a copy of the state (Hypervisor.copyFor) wired to its own
// machine, and the pages written into that machine's memory, which starts
// all zeros. Every run takes a copy, the first included, so what a run does
// never depends on what its process ran before.

import type { MachineMemory } from "../common/memory.ts";
import { PAGE_SIZE } from "../common/memory.ts";
import { Hypervisor, type HvCallbacks, type HvWiring } from "./hypervisor.ts";
import { buildPvDomain } from "./builder.ts";

/** The allocator's seed while the hypervisor and its domains are built. */
export const LAYOUT_SEED = 0x6c61_796f_7574n;

/** What a build depends on. */
export interface PvBuildOptions {
  image: Uint8Array;
  cmdline: string;
  /** Domains 1..domains, each of `vcpus` vCPUs and `domMemBytes` of RAM. */
  domains: number;
  vcpus: number;
  domMemBytes: bigint;
  /** The machine frames the hypervisor manages, and its pCPUs. */
  firstMfn: number;
  nrFrames: number;
  nrPcpus: number;
  nested: boolean;
  forceIpi: boolean;
  l0Assist: boolean;
}

interface Built {
  hv: Hypervisor;
  /** Machine pages the build left not all zeros: page number → its bytes. */
  pages: Map<number, Uint8Array>;
}

/** Builds kept per image, by the rest of the options; a few per image. */
const builds: PerImage<Map<string, Built>> = new WeakMap();
const KEPT_PER_IMAGE = 4;

/** What is kept for an image, with the bytes it had then: a caller may change an image in place between runs. */
export type PerImage<T> = WeakMap<Uint8Array, { bytes: Uint8Array; value: T }>;

/** `kept`'s value for the image, made by `make` the first time and again whenever the image's bytes changed since. */
export function perImage<T>(kept: PerImage<T>, image: Uint8Array, make: () => T): T {
  const k = kept.get(image);
  if (k && Buffer.compare(k.bytes, image) === 0) return k.value;
  const value = make();
  kept.set(image, { bytes: image.slice(), value });
  return value;
}

/**
 * The hypervisor with its domains built, for a run with `seed` on a machine
 * whose memory is `memory` (all zeros where the build writes): a copy of the
 * kept build, wired to the run. Throws what the builder throws (LoadError for
 * an image that cannot be built), and keeps nothing then.
 */
export function builtPvDomains(o: PvBuildOptions, memory: MachineMemory, wiring: Omit<HvWiring, "memory">, seed: bigint): Hypervisor {
  const built = keptBuild(o, memory, wiring.callbacks);
  for (const [page, bytes] of built.pages) memory.write(BigInt(page) * BigInt(PAGE_SIZE), bytes);
  const hv = built.hv.copyFor({ ...wiring, memory });
  hv.allocator.reseed(seed);
  return hv;
}

function keptBuild(o: PvBuildOptions, memory: MachineMemory, callbacks: HvCallbacks | undefined): Built {
  const { image, ...rest } = o;
  const key = JSON.stringify(rest, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  const byOptions = perImage(builds, image, () => new Map<string, Built>());
  let built = byOptions.get(key);
  if (!built) {
    built = build(o, memory, callbacks);
    if (byOptions.size >= KEPT_PER_IMAGE) byOptions.delete(byOptions.keys().next().value!);
    byOptions.set(key, built);
  }
  return built;
}

/** Builds in `memory` (a run's, which the run then uses as it is) and notes the pages written. */
function build(o: PvBuildOptions, memory: MachineMemory, callbacks: HvCallbacks | undefined): Built {
  const recorder = new PageRecorder(memory);
  const hv = new Hypervisor({
    memory: recorder, firstMfn: o.firstMfn, nrFrames: o.nrFrames, nrPcpus: o.nrPcpus, seed: LAYOUT_SEED,
    callbacks: noCallbacksWhileBuilding(callbacks), nested: o.nested, forceIpi: o.forceIpi, l0Assist: o.l0Assist, engineDriven: true,
  });
  const nrPages = Number(o.domMemBytes >> 12n);
  for (let id = 1; id <= o.domains; id++) {
    const d = hv.createDomain(id, nrPages, o.vcpus);
    buildPvDomain(hv, { image: o.image, domain: d, nrPages, cmdline: o.cmdline });
  }
  const pages = new Map<number, Uint8Array>();
  for (const page of [...recorder.pages].sort((a, b) => a - b)) {
    const bytes = memory.read(BigInt(page) * BigInt(PAGE_SIZE), PAGE_SIZE);
    if (!allZero(bytes)) pages.set(page, bytes);
  }
  return { hv, pages };
}

function allZero(bytes: Uint8Array): boolean {
  if (bytes.byteOffset % 4 || bytes.length % 4) return bytes.every((b) => b === 0);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * Callbacks for the build: each the run's host has is an error. A build
 * reaches none (it has no vCPU running, flushes nothing and writes no
 * console), and one that did would lose its effect on the runs that copy the
 * build. Those the host leaves out do nothing, in the build as in the run.
 */
function noCallbacksWhileBuilding(host: HvCallbacks | undefined): HvCallbacks {
  const out: Record<string, () => never> = {};
  for (const name of Object.keys(host ?? {})) {
    out[name] = () => {
      throw new Error(`the PV builder called the hypervisor's ${name} callback, which a shared build cannot pass on to its runs`);
    };
  }
  return out as HvCallbacks;
}

/**
 * Machine memory that notes which pages are written through it. Zeroing
 * notes nothing: a run's memory starts all zeros, so a page only ever
 * zeroed has nothing to restore (and one written, then zeroed, is found
 * zero when the build is kept).
 */
class PageRecorder implements MachineMemory {
  readonly pages = new Set<number>();

  constructor(private readonly memory: MachineMemory) {}

  read64(pa: bigint): bigint {
    return this.memory.read64(pa);
  }

  words(): Uint32Array {
    return this.memory.words();
  }

  frameWord(pa: number): number {
    return this.memory.frameWord(pa);
  }

  read(pa: bigint, length: number): Uint8Array {
    return this.memory.read(pa, length);
  }

  write64(pa: bigint, value: bigint): void {
    this.note(pa, 8);
    this.memory.write64(pa, value);
  }

  write(pa: bigint, bytes: Uint8Array): void {
    this.note(pa, bytes.length);
    this.memory.write(pa, bytes);
  }

  zero(pa: bigint, length: number): void {
    this.memory.zero(pa, length);
  }

  private note(pa: bigint, length: number): void {
    if (length <= 0) return;
    const first = Number(pa / BigInt(PAGE_SIZE));
    const last = Number((pa + BigInt(length) - 1n) / BigInt(PAGE_SIZE));
    for (let p = first; p <= last; p++) this.pages.add(p);
  }
}
