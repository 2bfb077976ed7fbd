// SPDX-License-Identifier: MIT
//
// guest/x86_64/sharing/kernel.elf, the memory-sharing scenario guest of
// issue 19 (its README is the contract with the host): the committed ELF is
// what its C sources build and carries the identical pages' first content
// at the region's address; bare and under --hv --hvm it passes with its
// final line; each bad command-line word is one line and status 2; its
// checker fails on another domain's data, a stale generation, a torn word,
// a wrong frame and a generation nobody in the domain wrote, poked into the
// region in the middle of a run; and the driver's XENMEM_sharing_op calls
// are what memory.h lays out, checked against a stand-in for the
// hypervisor's side until shootdown has it.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Engine } from "../../emulator/machine/core/engine.ts";
import type { RunEnd } from "../../emulator/machine/core/run-end.ts";
import { withDefaults } from "../../emulator/run-guest.ts";
import { engineFor } from "../../emulator/run.ts";
import type { X86Cpu } from "../../emulator/machine/cpu/x86-cpu.ts";
import { bootHvmPlatform } from "../../hypervisor/x86/hvm/boot.ts";
import type { HvmHost } from "../../hypervisor/x86/hvm/hvm-host.ts";
import type { HvmVcpu } from "../../hypervisor/x86/hvm/vcpu.ts";
import { ROOT, shootdown } from "../helpers/run.ts";
import { compilerAvailable } from "./c/build.mjs";

const DIR = join(ROOT, "guest", "x86_64", "sharing");
const ELF = join(DIR, "kernel.elf");
const KERNEL = readFileSync(ELF);

// The region and its words (README.md, "The region" and "What a word holds").
const REGION_BASE = 0x800000n;
const REGION_GFN = 0x800n;
const MAX_PAGES = 64;
const WORDS = 512;
const TAG_IDENTICAL = 0xffff;

function regionWord(tag: number, page: number, word: number, gen: number): bigint {
  const hi = (BigInt(tag) << 48n) | (BigInt(page) << 42n) | (BigInt(word) << 33n) | (BigInt(gen) << 12n);
  const check = (BigInt.asUintN(64, (hi >> 12n) * 0x9e3779b97f4a7c15n) >> 52n) ^ 0x5a5n;
  return hi | check;
}
const fields = (x: bigint) => ({
  tag: Number(x >> 48n), page: Number((x >> 42n) & 63n), word: Number((x >> 33n) & 511n), gen: Number((x >> 12n) & 0x1fffffn),
});
const wordAddress = (page: number, word: number) => REGION_BASE + BigInt(page * 4096 + word * 8);

const FINAL = /^sharing: dom(\d+) vcpus=(\d+) pages=(\d+) same=(\d+) rounds=(\d+) reads=(\d+) writes=(\d+) changed=(\d+) driver=(none|dom0): data correct$/m;

/** The final line's numbers, checked against the command line: every vCPU did every round, its reads and its writes. */
function expectFinalLine(console: string, o: { domid?: number; vcpus: number; pages?: number; same?: number; rounds?: number; reads?: number }) {
  const m = console.match(FINAL);
  expect(m, console).not.toBeNull();
  const [domid, vcpus, pages, same, rounds, reads, writes, changed] = m!.slice(1, 9).map(Number);
  const expected = { pages: 16, rounds: 100, reads: 2, domid: 1, ...o };
  expect({ domid, vcpus, pages, same, rounds }).toEqual({
    domid: expected.domid, vcpus: o.vcpus, pages: expected.pages, same: expected.same ?? Math.floor(expected.pages / 2), rounds: expected.rounds,
  });
  expect(reads).toBe(expected.rounds * expected.reads * o.vcpus);
  // A vCPU that owns a page writes one each round; with more vCPUs than pages some own none.
  expect(writes).toBe(expected.rounds * Math.min(o.vcpus, expected.pages));
  expect(changed).toBeGreaterThan(0);
  expect(changed).toBeLessThanOrEqual(reads!);
}

/** In-process, bare: the console, how it ended, and a chance to write RAM after `pokeAt` instructions. */
function runBare(cmdline: string, o: { cpus?: number; seed?: bigint; quantum?: number; pokeAt?: bigint; poke?: (m: Memory) => void } = {}) {
  const bytes: number[] = [];
  const engine = engineFor({
    cpus: o.cpus ?? 4, memBytes: 64n << 20n, cmdline, mode: o.seed === undefined ? "round-robin" : "random", seed: o.seed,
    quantum: o.quantum ?? 1000, maxSteps: 100_000_000n, tlbChaos: undefined, image: KERNEL, console: (b) => bytes.push(b), record: false,
  });
  const memory = engine.platform.machine.memory as unknown as Memory;
  if (o.poke) {
    expect(engine.resume(o.pokeAt!)).toMatchObject({ kind: "reached" });
    o.poke(memory);
  }
  const end = engine.runToEnd();
  engine.platform.machine.release();
  return { end, console: Buffer.from(bytes).toString("latin1") };
}
interface Memory {
  read64(pa: bigint): bigint;
  write64(pa: bigint, value: bigint): void;
}

describe("guest/x86_64/sharing/kernel.elf", () => {
  const gcc = compilerAvailable("x86_64");
  it.skipIf(!gcc)(`is what its sources build with guest/c's Makefile${gcc ? "" : " (skipped: gcc or make is not installed)"}`, () => {
    const out = join(mkdtempSync(join(tmpdir(), "shootdown-sharing-")), "kernel.elf");
    const r = spawnSync("make", ["-s", "-C", DIR, `OUT=${out}`], { encoding: "utf8" });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(Buffer.compare(readFileSync(out), KERNEL), "guest/x86_64/sharing/kernel.elf is stale: run make -C guest/x86_64/sharing and commit it").toBe(0);
  });

  it("loads the identical pages' generation-0 content at the region's address, clear of the kernel's own segment", () => {
    const v = new DataView(KERNEL.buffer, KERNEL.byteOffset, KERNEL.byteLength);
    const phoff = Number(v.getBigUint64(0x20, true));
    const segments = [];
    for (let i = 0; i < v.getUint16(0x38, true); i++) {
      const at = phoff + i * v.getUint16(0x36, true);
      if (v.getUint32(at, true) !== 1) continue; // PT_LOAD
      segments.push({ offset: Number(v.getBigUint64(at + 8, true)), paddr: v.getBigUint64(at + 24, true), filesz: Number(v.getBigUint64(at + 32, true)), memsz: v.getBigUint64(at + 40, true) });
    }
    const region = segments.find((s) => s.paddr === REGION_BASE)!;
    expect(region).toMatchObject({ filesz: MAX_PAGES * 4096, memsz: BigInt(MAX_PAGES * 4096) });
    for (const s of segments) if (s !== region) expect(s.paddr + s.memsz).toBeLessThanOrEqual(REGION_BASE);
    for (let page = 0; page < MAX_PAGES; page++) {
      for (let word = 0; word < WORDS; word++) {
        const x = v.getBigUint64(region.offset + page * 4096 + word * 8, true);
        if (x !== regionWord(TAG_IDENTICAL, page, word, 0)) expect.fail(`page ${page} word ${word}: ${x.toString(16)}`);
      }
    }
  });

  describe("bare", () => {
    it("passes on 1 and on 4 CPUs with the defaults, round-robin: one final line, status 0", () => {
      for (const cpus of [1, 4]) {
        const r = runBare("", { cpus });
        expectFinalLine(r.console, { vcpus: cpus });
        expect(r.console.split("\n")).toHaveLength(2);
        expect(r.end).toMatchObject({ kind: "debug-exit", code: 0n });
      }
    });

    it("passes when the vCPUs interleave a few instructions at a time, readers inside writes (seeded)", () => {
      for (const seed of [1n, 2n, 3n]) {
        const r = runBare("rounds=15 pages=4 reads=3", { seed, quantum: 20 });
        expectFinalLine(r.console, { vcpus: 4, pages: 4, rounds: 15, reads: 3 });
        expect(r.end).toMatchObject({ kind: "debug-exit", code: 0n });
      }
    });

    it("passes with more vCPUs than pages, every page identical, and every page distinct", () => {
      expectFinalLine(runBare("pages=3 rounds=10", { cpus: 5 }).console, { vcpus: 5, pages: 3, rounds: 10 });
      expectFinalLine(runBare("pages=8 same=8 rounds=10").console, { vcpus: 4, pages: 8, same: 8, rounds: 10 });
      expectFinalLine(runBare("pages=64 same=0 rounds=10").console, { vcpus: 4, pages: 64, same: 0, rounds: 10 });
    });

    it("driver=dom0 with no Xen says the interface is missing and ends with status 3", () => {
      const r = runBare("driver=dom0", { cpus: 2 });
      expect(r.console).toBe('sharing: driver=dom0: no Xen (no "XenVMMXenVMM" CPUID leaf from 0x40000000), so no XENMEM_sharing_op\n');
      expect(r.end).toMatchObject({ kind: "debug-exit", code: 3n });
    });

    it("a bad command line is one line naming the word, and status 2", () => {
      const cases: [string, string][] = [
        ["pages=65", "sharing: bad command line: pages wants a number from 1 to 64\n"],
        ["pages=0", "sharing: bad command line: pages wants a number from 1 to 64\n"],
        ["pages=8 same=9", "sharing: bad command line: same=9 is more than pages=8\n"],
        ["same=x", "sharing: bad command line: same wants a number from 0 to 64\n"],
        ["rounds=0", "sharing: bad command line: rounds wants a number from 1 to 100000\n"],
        ["reads=65", "sharing: bad command line: reads wants a number from 0 to 64\n"],
        ["driver=dom1", "sharing: bad command line: driver=dom1 (one of: none dom0)\n"],
        ["targets=", "sharing: bad command line: targets= (one of: identical any)\n"],
        ["domains=1", "sharing: bad command line: domains wants a number from 2 to 32751\n"],
        ["shares=100001", "sharing: bad command line: shares wants a number from 0 to 100000\n"],
        ["seed=-1", "sharing: bad command line: seed wants a number from 0 to 4294967295\n"],
        ["driver=dom0 same=0", "sharing: bad command line: driver=dom0 targets=identical needs same= of at least 1\n"],
        ["speed=9", "sharing: bad command line: unknown word 'speed=9' (pages= same= rounds= reads= driver= targets= domains= shares= seed=)\n"],
        ["pages", "sharing: bad command line: unknown word 'pages' (pages= same= rounds= reads= driver= targets= domains= shares= seed=)\n"],
      ];
      for (const [cmdline, message] of cases) {
        const r = runBare(cmdline, { cpus: 2 });
        expect(r.console, cmdline).toBe(message);
        expect(r.end).toMatchObject({ kind: "debug-exit", code: 2n });
      }
    });
  });

  describe("its checker fails on data that is not this domain's, poked into the region half-way through a run", () => {
    const LINE = /^sharing: dom1 vcpu(\d): page (\d+) word (\d+): expected ([0-9a-f]{16}), found ([0-9a-f]{16}): (.*)\n$/;
    /** The default run on 4 CPUs with `poke` applied after 8M of its 16M instructions: status 1 and one line, parsed. */
    function poked(poke: (m: Memory) => void) {
      const r = runBare("", { pokeAt: 8_000_000n, poke });
      expect(r.end).toMatchObject({ kind: "debug-exit", code: 1n });
      const m = r.console.match(LINE);
      expect(m, r.console).not.toBeNull();
      const [page, word] = [Number(m![2]), Number(m![3])];
      const expected = BigInt(`0x${m![4]}`), found = BigInt(`0x${m![5]}`);
      // What it expected is this domain's word for that place, at some generation.
      const e = fields(expected);
      expect(expected).toBe(regionWord(page < 8 ? TAG_IDENTICAL : 1, page, word, e.gen));
      return { page, word, found, why: m![6]!, e };
    }
    const eachWord = (pages: number[], f: (m: Memory, page: number, word: number) => void) => (m: Memory) => {
      for (const page of pages) for (let word = 0; word < WORDS; word++) f(m, page, word);
    };
    const DISTINCT = [8, 9, 10, 11, 12, 13, 14, 15];
    const IDENTICAL = [0, 1, 2, 3, 4, 5, 6, 7];

    it("another domain's data in a distinct page: 'another domain's write seen'", () => {
      const r = poked(eachWord(DISTINCT, (m, page, word) => m.write64(wordAddress(page, word), regionWord(2, page, word, fields(m.read64(wordAddress(page, word))).gen))));
      expect(r.why).toBe("another domain's write seen (domain 2's data)");
      expect(fields(r.found)).toMatchObject({ tag: 2, page: r.page, word: r.word });
    });

    it("generation 0 back in distinct pages long since rewritten: a stale read", () => {
      const r = poked(eachWord(DISTINCT, (m, page, word) => m.write64(wordAddress(page, word), regionWord(1, page, word, 0))));
      expect(r.why).toMatch(/^generation 0 where (\d+) or later was due \(a stale read: the writer or this vCPU's earlier reads had got further\)$/);
      expect(r.found).toBe(regionWord(1, r.page, r.word, 0));
      expect(r.e.gen).toBeGreaterThan(0);
    });

    it("a word with a bit flipped: its check bits fail", () => {
      const r = poked(eachWord(DISTINCT, (m, page, word) => {
        if (word === 100) m.write64(wordAddress(page, word), m.read64(wordAddress(page, word)) ^ (1n << 20n));
      }));
      expect(r.why).toBe("not a word of this guest's (its check bits are wrong: torn, zeroed or foreign)");
      expect(r.word).toBe(100);
    });

    it("the next page's data in each distinct page: a wrong frame", () => {
      const r = poked((m) => {
        for (const page of DISTINCT.slice(0, -1)) for (let word = 0; word < WORDS; word++) m.write64(wordAddress(page, word), m.read64(wordAddress(page + 1, word)));
      });
      expect(r.why).toBe(`the data of page ${r.page + 1} (a wrong frame)`);
    });

    it("identical pages a few generations ahead (another domain's write to a shared frame): a generation this domain never wrote", () => {
      const r = poked(eachWord(IDENTICAL, (m, page, word) => m.write64(wordAddress(page, word), regionWord(TAG_IDENTICAL, page, word, fields(m.read64(wordAddress(page, 0))).gen + 3))));
      expect(r.why).toMatch(/^generation (\d+), which this domain has not written to this page \(its latest is (\d+)\): another domain's write\?$/);
      const [, seen, latest] = r.why.match(/generation (\d+), .*its latest is (\d+)/)!.map(Number);
      expect(seen).toBeGreaterThan(latest!);
      expect(fields(r.found)).toMatchObject({ tag: TAG_IDENTICAL, page: r.page, gen: seen });
    });
  });

  describe("under --hv --hvm, one domain", () => {
    it("passes on 2 pCPUs with 4 vCPUs: `run kernel.elf --hv --hvm --cpus 2 --vcpus 4`", () => {
      const r = shootdown("run", ELF, "--hv", "--hvm", "--cpus", "2", "--vcpus", "4");
      expectFinalLine(r.stdout, { vcpus: 4 });
      expect(r.status, r.stderr).toBe(0);
    });
  });
});

// ── The driver, against a stand-in for the hypervisor's side ────────────────
//
// Until shootdown's HVM host gives domain ids and XENMEM_sharing_op, these
// tests give one domain Xen's leaf base+4 with XEN_HVM_CPUID_DOMID_PRESENT
// and answer its VMCALLs with a fake that records each call: enough to hold
// the driver to the ABI the README states (memory.h's layout, nominate's
// handle out, the pairs of opposite shares), not a model of sharing.

const XEN_HVM_LEAF = 0x40000104;
const XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;

interface SharingCall {
  vcpu: number;
  op: number;
  domain: number;
  gfn: bigint;
  sourceHandle: bigint;
  clientGfn: bigint;
  clientHandle: bigint;
  clientDomain: number;
  raw: Uint8Array;
  rc: number;
  /** The handle a successful nominate was given back. */
  handle?: bigint;
}

/**
 * Boots the image as one HVM domain whose CPUID says domain `domid`, with
 * XENMEM_sharing_op answered by `answer` (a result for each call; nominate
 * gets a fresh handle).
 */
function runWithFakeSharing(cmdline: string, answer: (c: SharingCall, n: number) => number, o: { domid?: number; vcpus?: number } = {}) {
  const bytes: number[] = [];
  const calls: SharingCall[] = [];
  const other: bigint[] = [];
  const options = withDefaults({ cpus: 2, cmdline, maxSteps: 100_000_000n, hv: { domains: 1, vcpus: o.vcpus ?? 4, domMemBytes: 16n << 20n, hvm: true } }, "x86_64");
  let host: HvmHost | undefined;
  let handles = 0n;
  const engine = new Engine({
    options, log: false, console: (b) => bytes.push(b),
    build: (opts, console) => bootHvmPlatform(KERNEL, opts, console, {}, {
      host: (h) => {
        host = h;
        const cpuid = h.hypercalls.cpuid.bind(h.hypercalls);
        h.hypercalls.cpuid = (leaf) => (leaf === XEN_HVM_LEAF ? [XEN_HVM_CPUID_DOMID_PRESENT, 0, o.domid ?? 0, 0] : cpuid(leaf));
        h.hypercalls.vmcall = function* (cpu: X86Cpu, a: HvmVcpu) {
          yield { what: "the test's XENMEM_sharing_op" };
          const [rax, rdi, rsi] = [cpu.gpr("rax"), cpu.gpr("rdi"), cpu.gpr("rsi")];
          if (rax !== 12n || rdi !== 22n) {
            other.push(rax);
            return { rax: BigInt.asUintN(64, -38n), restart: false };
          }
          const raw = h.readGuestPhys(rsi, 48)!;
          const v = new DataView(raw.buffer, raw.byteOffset, 48);
          const c: SharingCall = {
            vcpu: a.vcpu.vcpuId, op: v.getUint8(0), domain: v.getUint16(2, true), gfn: v.getBigUint64(8, true),
            sourceHandle: v.getBigUint64(16, true), clientGfn: v.getBigUint64(24, true), clientHandle: v.getBigUint64(32, true),
            clientDomain: v.getUint16(40, true), raw, rc: 0,
          };
          c.rc = answer(c, calls.length);
          calls.push(c);
          if (c.op === 0 && c.rc === 0) {
            const out = new Uint8Array(8);
            c.handle = ++handles + 0x1000n;
            new DataView(out.buffer).setBigUint64(0, c.handle, true);
            h.writeGuestPhys(rsi + 16n, out);
          }
          return { rax: BigInt.asUintN(64, BigInt(c.rc)), restart: false };
        };
      },
    }),
  });
  const end: RunEnd = engine.runToEnd();
  return { end, console: Buffer.from(bytes).toString("latin1"), calls, other, host: host! };
}

const SUMMARY = /^sharing: dom0 driver vcpus=(\d+) shares=(\d+) domains=(\d+) targets=(identical|any) seed=(\d+): nominate ok=(\d+) einval=(\d+) eexist=(\d+) e2big=(\d+) enomem=(\d+); share ok=(\d+) einval=(\d+) s-handle-invalid=(\d+) c-handle-invalid=(\d+) eexist=(\d+) e2big=(\d+) enomem=(\d+)\n$/;

describe("the driver (driver=dom0) against a stand-in XENMEM_sharing_op", () => {
  it("nominates two domains' same gfn and shares one into the other, vCPUs 0 and 1 in opposite directions, as memory.h lays the argument out", () => {
    const r = runWithFakeSharing("driver=dom0 shares=25 domains=3", () => 0);
    expect(r.other).toEqual([]);
    const m = r.console.match(SUMMARY);
    expect(m, r.console).not.toBeNull();
    expect(m!.slice(1, 6)).toEqual(["4", "25", "3", "identical", "1"]);
    // Every vCPU: 25 × (nominate, nominate, share), all answered 0.
    expect(m!.slice(6).map(Number)).toEqual([200, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0]);
    expect(r.end).toMatchObject({ kind: "debug-exit", code: 0n });

    const byVcpu = [0, 1, 2, 3].map((k) => r.calls.filter((c) => c.vcpu === k));
    for (const calls of byVcpu) {
      expect(calls.map((c) => c.op)).toEqual(Array.from({ length: 75 }, (_, i) => (i % 3 === 2 ? 2 : 0)));
      for (let i = 0; i < calls.length; i += 3) {
        const [n1, n2, s] = [calls[i]!, calls[i + 1]!, calls[i + 2]!];
        // Identical pages only (same= defaults to pages/2 = 8), in two different domains of 1..3.
        expect(n1.gfn).toBeGreaterThanOrEqual(REGION_GFN);
        expect(n1.gfn).toBeLessThan(REGION_GFN + 8n);
        expect(n2.gfn).toBe(n1.gfn);
        expect(n1.domain).not.toBe(n2.domain);
        for (const d of [n1.domain, n2.domain]) expect(d === 1 || d === 2 || d === 3).toBe(true);
        // share: source = the first nominated, client = the second, each with the handle nominate gave back.
        expect(s).toMatchObject({ domain: n1.domain, gfn: n1.gfn, clientGfn: n1.gfn, clientDomain: n2.domain });
        expect([s.sourceHandle, s.clientHandle]).toEqual([n1.handle, n2.handle]);
        // The bytes memory.h leaves unnamed are zero: op's padding, the union's alignment gap, share's tail.
        for (const at of [1, 4, 5, 6, 7, 42, 43, 44, 45, 46, 47]) expect(s.raw[at], `byte ${at}`).toBe(0);
        for (const at of [1, 4, 5, 6, 7]) expect(n1.raw[at]).toBe(0);
      }
    }
    // vCPUs 0 and 1 take the same choices and share them in opposite directions; 2 and 3 choose on their own.
    const shares = (k: number) => byVcpu[k]!.filter((c) => c.op === 2);
    for (let i = 0; i < 25; i++) {
      const [a, b] = [shares(0)[i]!, shares(1)[i]!];
      expect({ gfn: b.gfn, domain: b.domain, clientDomain: b.clientDomain }).toEqual({ gfn: a.gfn, domain: a.clientDomain, clientDomain: a.domain });
    }
    expect(shares(2).map((c) => c.gfn)).not.toEqual(shares(3).map((c) => c.gfn));
    expect(new Set(r.calls.map((c) => c.gfn)).size).toBeGreaterThan(4);
  });

  it("targets=any shares distinct pages too; seed= changes the choices", () => {
    const any = runWithFakeSharing("driver=dom0 shares=40 targets=any", () => 0, { vcpus: 2 });
    const gfns = new Set(any.calls.map((c) => Number(c.gfn - REGION_GFN)));
    expect(Math.max(...gfns)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...gfns)).toBeLessThan(16);
    for (const c of any.calls) expect([1, 2]).toContain(c.domain);
    const other = runWithFakeSharing("driver=dom0 shares=40 targets=any seed=7", () => 0, { vcpus: 2 });
    expect(other.calls.map((c) => c.gfn)).not.toEqual(any.calls.map((c) => c.gfn));
  });

  it("counts each expected error by kind, skips the share when a nominate failed, and ends with status 0", () => {
    const nominateErrors = [0, 0, 0, -22, 0, -17, 0, -7, 0, -12];
    const shareErrors = [0, -22, -10, -9, -12, -17, -7];
    const r = runWithFakeSharing("driver=dom0 shares=30", (c, n) => (c.op === 0 ? nominateErrors[n % 10]! : shareErrors[n % 7]!));
    expect(r.end).toMatchObject({ kind: "debug-exit", code: 0n });
    const m = r.console.match(SUMMARY)!;
    const count = (op: number, rc: number) => r.calls.filter((c) => c.op === op && c.rc === rc).length;
    expect(m.slice(6).map(Number)).toEqual([
      count(0, 0), count(0, -22), count(0, -17), count(0, -7), count(0, -12),
      count(2, 0), count(2, -22), count(2, -10), count(2, -9), count(2, -17), count(2, -7), count(2, -12),
    ]);
    for (const k of [0, -22, -10, -9, -12, -17, -7]) expect(count(2, k), `share ${k}`).toBeGreaterThan(0);
    // A share follows two nominations that both succeeded, never a failed one.
    for (const vcpu of [0, 1, 2, 3]) {
      const calls = r.calls.filter((c) => c.vcpu === vcpu);
      calls.forEach((c, i) => {
        if (c.op === 2) expect([calls[i - 1]!.rc, calls[i - 2]!.rc, calls[i - 1]!.op, calls[i - 2]!.op]).toEqual([0, 0, 0, 0]);
      });
    }
  });

  it("an unexpected result is one line naming the call and status 1; -ENOSYS is status 3", () => {
    const eperm = runWithFakeSharing("driver=dom0", (c) => (c.op === 2 ? -1 : 0), { vcpus: 1 });
    const s = eperm.calls.find((c) => c.op === 2)!;
    expect(eperm.console).toBe(
      `sharing: dom0 vcpu0: XENMEM_sharing_op share d${s.domain} gfn ${s.gfn.toString(16)} handle ${s.sourceHandle.toString(16)} into d${s.clientDomain} gfn ${s.clientGfn.toString(16)} handle ${s.clientHandle.toString(16)} returned -1, not an expected result\n`,
    );
    expect(eperm.end).toMatchObject({ kind: "debug-exit", code: 1n });
    const handle = runWithFakeSharing("driver=dom0", () => -10, { vcpus: 1 });
    expect(handle.console).toMatch(/^sharing: dom0 vcpu0: XENMEM_sharing_op nominate_gfn d[12] gfn 80[0-7] returned -10, not an expected result\n$/);
    const enosys = runWithFakeSharing("driver=dom0", () => -38, { vcpus: 1 });
    expect(enosys.console).toBe("sharing: dom0 vcpu0: XENMEM_sharing_op nominate_gfn returned -ENOSYS: the hypervisor has no memory sharing\n");
    expect(enosys.end).toMatchObject({ kind: "debug-exit", code: 3n });
  });

  it("a domain whose CPUID says domain 2 runs the workload under driver=dom0, its distinct pages tagged 2, and makes no hypercall", () => {
    const r = runWithFakeSharing("driver=dom0 rounds=20", () => 0, { domid: 2 });
    expectFinalLine(r.console, { domid: 2, vcpus: 4, rounds: 20 });
    expect(r.calls).toEqual([]);
    expect(r.other).toEqual([]);
    const word = r.host.readGuestPhys(wordAddress(9, 5), 8)!;
    const x = new DataView(word.buffer, word.byteOffset, 8).getBigUint64(0, true);
    expect(fields(x)).toMatchObject({ tag: 2, page: 9, word: 5 });
    // Under the driver the identical pages keep generation 0 in every domain, so the driver may share them unseen.
    const id = r.host.readGuestPhys(wordAddress(3, 7), 8)!;
    expect(new DataView(id.buffer, id.byteOffset, 8).getBigUint64(0, true)).toBe(regionWord(TAG_IDENTICAL, 3, 7, 0));
  });
});
