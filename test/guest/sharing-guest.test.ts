// SPDX-License-Identifier: MIT
//
// guest/x86_64/sharing/kernel.elf, the memory-sharing scenario guest of
// issue 19 (its README is the contract with the host): the committed ELF is
// what its C sources build and carries the identical pages' first content
// at the region's address; bare and under --hv --hvm it passes with its
// final line; each bad command-line word is one line and status 2; its
// checker fails on another domain's data, a stale generation, a torn word,
// a wrong frame and a generation nobody in the domain wrote, poked into the
// region in the middle of a run; and on shootdown's memory sharing with
// several domains the driver's XENMEM_sharing_op calls are what memory.h
// lays out, its shares take effect and the workload sees only its own data.

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
import { ROOT, shootdown, stats } from "../helpers/run.ts";
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

// ── Several domains, on shootdown's memory sharing ─────────────────────────

const XEN_SHARING_OPS = { nominate: 0, share: 2 };

interface SharingCall {
  domid: number;
  vcpu: number;
  /** The argument before the call and after it (nominate's handle comes back in it). */
  before: Uint8Array;
  after: Uint8Array;
  rc: number;
}
const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);
const u64 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);

/**
 * Runs the image in-process as HVM domains 0..n-1 (`--domains 0,1,…`, d0
 * privileged) on shootdown's host, recording every VMCALL domain 0 makes
 * (its argument before and after, its result) on the way to the host,
 * which answers it.
 */
function runDomains(cmdline: string, o: { domains?: number; vcpus?: number; cpus?: number; sharingDaemon?: boolean } = {}) {
  const bytes: number[] = [];
  const calls: SharingCall[] = [];
  const options = withDefaults({
    cpus: o.cpus ?? 4, cmdline, maxSteps: 200_000_000n,
    hv: { domains: o.domains ?? 3, vcpus: o.vcpus ?? 2, domMemBytes: 16n << 20n, hvm: true, dom0: true, ...(o.sharingDaemon ? { sharingDaemon: true } : {}) },
  }, "x86_64");
  let host: HvmHost | undefined;
  const engine = new Engine({
    options, log: false, console: (b) => bytes.push(b),
    build: (opts, console) => bootHvmPlatform(KERNEL, opts, console, {}, {
      host: (h) => {
        host = h;
        for (const dom of h.domains) {
          const real = dom.hypercalls.vmcall.bind(dom.hypercalls);
          dom.hypercalls.vmcall = function* (cpu: X86Cpu, a: HvmVcpu) {
            const rsi = cpu.gpr("rsi");
            const before = dom.readGuestPhys(rsi, 48)!;
            const r = yield* real(cpu, a);
            calls.push({ domid: dom.domain.domid, vcpu: a.vcpu.vcpuId, before, after: dom.readGuestPhys(rsi, 48)!, rc: Number(BigInt.asIntN(64, r.rax)) });
            return r;
          };
        }
      },
    }),
  });
  const end: RunEnd = engine.runToEnd();
  return { end, console: Buffer.from(bytes).toString("latin1"), calls, host: host!, summary: engine.platform.hypervisorSummary() as Record<string, any> };
}

const SUMMARY = /^\[d0\] sharing: dom0 driver vcpus=(\d+) shares=(\d+) domains=(\d+) targets=(identical|any) seed=(\d+): nominate ok=(\d+) einval=(\d+) eexist=(\d+) e2big=(\d+) enomem=(\d+); share ok=(\d+) einval=(\d+) s-handle-invalid=(\d+) c-handle-invalid=(\d+) eexist=(\d+) e2big=(\d+) enomem=(\d+)$/m;

describe("several HVM domains on shootdown's memory sharing (--hv --hvm --domains 0,1,2)", () => {
  it("driver=dom0: domain 0 nominates and shares the identical pages of 1 and 2, vCPUs 0 and 1 in opposite directions, as memory.h lays the argument out; 1 and 2 see only their own data through the unshares", () => {
    const r = runDomains("driver=dom0 shares=30 rounds=40");
    expect(r.end, r.console).toMatchObject({ kind: "debug-exit", code: 0n });
    for (const d of [1, 2]) expectFinalLine(r.console.split("\n").filter((l) => l.startsWith(`[d${d}] `)).map((l) => l.slice(5)).join("\n"), { domid: d, vcpus: 2, rounds: 40 });
    const m = r.console.match(SUMMARY);
    expect(m, r.console).not.toBeNull();
    expect(m!.slice(1, 6)).toEqual(["2", "30", "2", "identical", "1"]);

    // Only domain 0 calls, only XENMEM_sharing_op's nominate_gfn and share, and its counts are the results it got.
    expect(new Set(r.calls.map((c) => c.domid))).toEqual(new Set([0]));
    const count = (op: number, rc: number) => r.calls.filter((c) => c.before[0] === op && c.rc === rc).length;
    expect(m!.slice(6).map(Number)).toEqual([
      count(0, 0), count(0, -22), count(0, -17), count(0, -7), count(0, -12),
      count(2, 0), count(2, -22), count(2, -10), count(2, -9), count(2, -17), count(2, -7), count(2, -12),
    ]);
    expect(count(2, 0)).toBeGreaterThan(0);
    // The shares really took effect and the workload's writes unshared them.
    expect(r.summary.sharing).toMatchObject({ shared: expect.any(Number), cowFaults: expect.any(Number) });
    expect(r.summary.sharing.shared).toBeGreaterThan(0);
    expect(r.summary.sharing.cowFaults).toBeGreaterThan(0);
    expect(r.summary.lockViolations).toBe(0);

    const byVcpu = [0, 1].map((k) => r.calls.filter((c) => c.vcpu === k));
    for (const calls of byVcpu) {
      let i = 0;
      while (i < calls.length) {
        const [n1, n2] = [calls[i]!, calls[i + 1]!];
        for (const n of [n1, n2]) {
          expect(n.before[0]).toBe(XEN_SHARING_OPS.nominate);
          for (const at of [1, 4, 5, 6, 7, ...Array.from({ length: 24 }, (_, k) => 24 + k)]) expect(n.before[at], `nominate byte ${at}`).toBe(0);
          // Identical pages only: same= defaults to pages/2 = 8.
          expect(u64(n.before, 8) - REGION_GFN).toBeLessThan(8n);
        }
        expect(u64(n2.before, 8)).toBe(u64(n1.before, 8));
        expect(u16(n1.before, 2)).not.toBe(u16(n2.before, 2));
        for (const d of [u16(n1.before, 2), u16(n2.before, 2)]) expect([1, 2]).toContain(d);
        if (n1.rc !== 0 || n2.rc !== 0) {
          i += 2;
          continue;
        }
        // share: source = the first nominated, client = the second, each with the handle its nominate gave back.
        const s = calls[i + 2]!;
        expect(s.before[0]).toBe(XEN_SHARING_OPS.share);
        expect({ domain: u16(s.before, 2), sourceGfn: u64(s.before, 8), sourceHandle: u64(s.before, 16), clientGfn: u64(s.before, 24), clientHandle: u64(s.before, 32), clientDomain: u16(s.before, 40) }).toEqual({
          domain: u16(n1.before, 2), sourceGfn: u64(n1.before, 8), sourceHandle: u64(n1.after, 16), clientGfn: u64(n1.before, 8), clientHandle: u64(n2.after, 16), clientDomain: u16(n2.before, 2),
        });
        expect(u64(n1.after, 16)).not.toBe(0n);
        for (const at of [1, 4, 5, 6, 7, 42, 43, 44, 45, 46, 47]) expect(s.before[at], `share byte ${at}`).toBe(0);
        i += 3;
      }
    }
    // vCPUs 0 and 1 make the same choices, each time in opposite directions.
    const choices = (k: number) => byVcpu[k]!.filter((c) => c.before[0] === 0).map((c) => `${u64(c.before, 8)} d${u16(c.before, 2)}`);
    const pairs = (list: string[]) => list.flatMap((x, i) => (i % 2 ? [] : [[x, list[i + 1]]]));
    const [zero, one] = [pairs(choices(0)), pairs(choices(1))];
    expect(zero).toHaveLength(30);
    expect(one).toEqual(zero.map(([a, b]) => [b, a]));
  });

  it("driver=dom0 under each of Xen's earlier sharing locks stops at the lock sanitizer's report (status 4) in its first shares", () => {
    const histories: [string[], RegExp][] = [
      [["--sharing-lock", "generic", "--page-lock-check"], /--page-lock-check: a CPU holds at most one page lock, Xen cf4b30dca0/],
      [["--sharing-order", "unordered"], /out of MFN order, an ABBA deadlock/],
      [["--sharing-release", "before-unlock"], /spins in _put_page_type on MFN 0x[0-9a-f]+ until its page lock is released, and pCPU \d holds that lock itself/],
    ];
    for (const [options, report] of histories) {
      const r = shootdown("run", ELF, "--hv", "--hvm", "--domains", "0,1,2", "--cpus", "4", "--vcpus", "2", ...options, "--", "driver=dom0", "rounds=30");
      expect(r.status, options.join(" ")).toBe(4);
      expect(r.stderr).toMatch(report);
    }
  });

  it("driver=dom0 targets=any: shares of distinct pages show in the domains as each other's data (status 1)", () => {
    const r = shootdown("run", ELF, "--hv", "--hvm", "--domains", "0,1,2", "--cpus", "4", "--vcpus", "2", "--", "driver=dom0", "targets=any", "rounds=40");
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^\[d([12])\] sharing: dom\1 vcpu\d: page (\d+) word \d+: expected [0-9a-f]{16}, found [0-9a-f]{16}: another domain's write seen \(domain [12]'s data\)$/m);
    expect(r.stdout).toMatch(/^\[d0\] sharing: dom0 driver vcpus=2 shares=100 domains=2 targets=any seed=1: nominate ok=\d+ .* share ok=[1-9]/m);
  });

  it("the sharing daemon (--sharing-daemon) on two domains: shares their identical pages, the writes unshare them, both see only their own data", () => {
    const r = shootdown("run", ELF, "--hv", "--hvm", "--domains", "2", "--cpus", "4", "--vcpus", "2", "--dom-mem", "9M", "--sharing-daemon", "--stats", "--", "rounds=40");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const d of [1, 2]) expect(r.stdout).toMatch(new RegExp(`^\\[d${d}\\] sharing: dom${d} vcpus=2 pages=16 same=8 rounds=40 reads=160 writes=80 changed=\\d+ driver=none: data correct$`, "m"));
    const sharing = stats(r).hypervisor.sharing;
    expect(sharing.daemon.shared).toBeGreaterThan(0);
    expect(sharing.cowFaults).toBeGreaterThan(0);
  });

  it("a share naming a domain that does not exist is one line and status 1; without driver=dom0 domain 0 runs the workload too", () => {
    const missing = shootdown("run", ELF, "--hv", "--hvm", "--domains", "0,1", "--cpus", "2", "--vcpus", "2", "--", "driver=dom0", "rounds=10");
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/^\[d0\] sharing: dom0 vcpu[01]: XENMEM_sharing_op nominate_gfn d2 gfn 80[0-7] returned -3, not an expected result$/m);
    const all = runDomains("rounds=10", { domains: 3 });
    expect(all.end).toMatchObject({ kind: "debug-exit", code: 0n });
    expect(all.calls).toEqual([]);
    for (const d of [0, 1, 2]) expect(all.console).toMatch(new RegExp(`^\\[d${d}\\] sharing: dom${d} vcpus=2 .* driver=none: data correct$`, "m"));
    // Each domain's distinct pages carry its own id; its identical pages the same bytes as every other's.
    for (const dom of all.host.domains) {
      const word = dom.readGuestPhys(wordAddress(9, 5), 8)!;
      expect(fields(u64(word, 0))).toMatchObject({ tag: dom.domain.domid, page: 9, word: 5 });
    }
  });
});
