// SPDX-License-Identifier: MIT
//
// `shootdown explore` as a user runs it (dist/cli.js, worker threads and
// all), on guest/x86_64/lost-update.s: it stops at the first failure and
// writes a schedule that `shootdown run --replay` follows to the same end at
// the same instruction, and that `shootdown run --strategy pct --seed S`
// makes again; --all counts every seed as single runs do; shards merge to
// what one search reports; --json has its shape; bad input is one line.

import { readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { calibratedOptions } from "../../emulator/run.ts";
import { withDefaults } from "../../emulator/run-guest.ts";
import { exploreRun } from "../../emulator/explore/outcome.ts";
import { exploreCommand, Progress } from "../../emulator/cli/explore.ts";
import { mergeShards, parseShard } from "../../emulator/explore/shard.ts";
import { UsageError } from "../../emulator/cli/options.ts";
import { ROOT, image, imageFile, shootdown, tmpFile } from "../helpers/run.ts";

const SOURCE = readFileSync(join(ROOT, "guest", "x86_64", "lost-update.s"), "utf8");
const BYTES = image(SOURCE);
let IMAGE: string;
/** The search every test makes: 2 CPUs, PCT at depth 2, quanta of 1 to 8 instructions. */
const SEARCH = ["--cpus", "2", "--quantum", "8", "--depth", "2", "--jobs", "2"];

beforeAll(() => {
  IMAGE = imageFile(BYTES, "lost-update.elf");
});

const json = (r: { stdout: string }) => JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, any>;

describe("shootdown explore", () => {
  it("stops at the first failure and writes a schedule that replays to the same end at the same instruction", () => {
    const schedule = tmpFile("first.json");
    const r = shootdown("explore", IMAGE, ...SEARCH, "--runs", "200", "--out-schedule", schedule);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^runs +\d+ \(stopped at the first failure\)$/m);
    const seed = /^first failing seed +(\d+)$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toMatch(new RegExp(`^runs +${Number(seed) + 1} `, "m"));
    expect(r.stdout).toMatch(/^ {2}debug-exit 0x1 +1$/m);
    const failure = new RegExp(`^first failure: seed ${seed}: debug-exit 0x1: CPU \\d wrote 0x1 to the debug-exit port: guest-reported failure \\(after (\\d+) instructions`, "m").exec(r.stdout);
    expect(failure).not.toBeNull();
    expect(r.stdout).toContain(`shootdown run ${IMAGE} --replay ${schedule}`);

    const replay = shootdown("run", IMAGE, "--replay", schedule, "--json");
    expect(replay.status).toBe(1);
    const end = json(replay);
    expect(end.end).toMatchObject({ kind: "debug-exit", code: 1 });
    expect(end.instructions).toBe(Number(failure![1]));
    expect(end.notes.join("\n")).toMatch(/replay reproduced the recorded run/);

    // Whatever the number of workers, the search reports the same runs.
    const alone = json(shootdown("explore", IMAGE, ...SEARCH.slice(0, -2), "--jobs", "1", "--runs", "200", "--json", "--out-schedule", tmpFile("alone.json")));
    expect({ runs: alone.runs, seed: alone.firstFailingSeed }).toEqual({ runs: Number(seed) + 1, seed });

    // The printed command runs the seed again, without the schedule: the same run.
    const rerun = /^ {2}(shootdown run .* --seed \d+)$/m.exec(r.stdout)![1]!.split(" ").slice(2);
    expect(rerun).toEqual(expect.arrayContaining(["--strategy", "pct", "--depth", "2", "--seed", seed]));
    const again = json(shootdown("run", ...rerun, "--json"));
    expect({ end: again.end, instructions: again.instructions, stateHash: again.stateHash })
      .toEqual({ end: end.end, instructions: end.instructions, stateHash: end.stateHash });
    // And so does --strategy pct --seed S alone: the horizon is measured the same way.
    const plain = json(shootdown("run", IMAGE, "--cpus", "2", "--quantum", "8", "--strategy", "pct", "--depth", "2", "--seed", seed, "--json"));
    expect(plain.stateHash).toBe(end.stateHash);
    expect(plain.options).toMatchObject({ mode: "pct", seed, pct: { depth: 2, horizon: end.options.pct.horizon } });
  });

  it("--all counts every seed, each as a single run ends", () => {
    const r = shootdown("explore", IMAGE, ...SEARCH, "--runs", "20", "--seed", "120", "--all", "--json", "--out-schedule", tmpFile("all.json"));
    expect(r.status).toBe(1);
    const s = json(r);
    const options = calibratedOptions(withDefaults({ cpus: 2, quantum: 8, mode: "pct", pct: { depth: 2, horizon: 0 } }, "x86_64"), BYTES);
    const outcomes = Array.from({ length: 20 }, (_, i) => exploreRun(BYTES, options, 120n + BigInt(i)));
    const failing = outcomes.filter((o) => o.status !== 0).map((o) => String(o.seed));
    expect(failing.length).toBeGreaterThan(0);
    expect(s.runs).toBe(20);
    expect(s.stoppedAtFirstFailure).toBe(false);
    expect(s.failures).toEqual({ total: failing.length, byKind: { "debug-exit 0x1": failing.length } });
    expect(s.failingSeeds).toEqual(failing);
    expect(s.firstFailingSeed).toBe(failing[0]);
    expect(s.instructionsPerRun).toBeCloseTo(outcomes.reduce((n, o) => n + o.instructions, 0) / 20, 1);
  });

  it("prints --json with the summary's fields, and passes (status 0) when no run fails", () => {
    const r = shootdown("explore", IMAGE, "--cpus", "2", "--jobs", "1", "--runs", "3", "--json");
    expect(r.status).toBe(0);
    const s = json(r);
    expect(Object.keys(s).sort()).toEqual([
      "failingSeeds", "failures", "firstFailingSeed", "firstFailure", "image", "instructionsPerRun", "runs", "runsPerSecondPerWorker",
      "seconds", "seeds", "stoppedAtFirstFailure", "strategy", "workerSeconds", "workers",
    ]);
    expect(s).toMatchObject({
      image: IMAGE, runs: 3, failures: { total: 0, byKind: {} }, failingSeeds: [], firstFailingSeed: null, firstFailure: null, workers: 1,
      seeds: [{ first: "0", end: "3" }],
    });
    expect(s.strategy).toMatch(/^PCT, depth 3, horizon \d+ decisions, quantum 1–1000$/);
    expect(s.runsPerSecondPerWorker).toBeGreaterThan(0);
    expect(s.instructionsPerRun).toBeGreaterThan(100);
  });

  it("--strategy random explores with shootdown run's seeded random interleaving", () => {
    const r = shootdown("explore", IMAGE, "--cpus", "2", "--quantum", "8", "--strategy", "random", "--jobs", "1", "--runs", "5", "--all", "--json", "--out-schedule", tmpFile("random.json"));
    const s = json(r);
    expect(s.strategy).toBe("random interleaving, quantum 1–8");
    const options = withDefaults({ cpus: 2, quantum: 8, seed: 0n }, "x86_64");
    const failing = [0n, 1n, 2n, 3n, 4n].filter((seed) => exploreRun(BYTES, options, seed).status !== 0).map(String);
    expect(s.failingSeeds).toEqual(failing);
  });
});

describe("progress", () => {
  /** A stream that keeps what is written to it. */
  const sink = (isTTY: boolean) => {
    const written: string[] = [];
    const stream = { isTTY, columns: 120, write: (text: string) => (written.push(String(text)), true), on: () => stream, removeListener: () => stream, cursorTo: () => true, clearLine: () => true, moveCursor: () => true };
    return { stream: stream as unknown as NodeJS.WriteStream, written };
  };

  it("is a plain line every five seconds when stderr is not a terminal, with runs, runs/s, failures and the time left", () => {
    const { stream, written } = sink(false);
    const p = new Progress(stream);
    p.update({ done: 10, total: 100, failures: 0, seconds: 1 });
    expect(written).toEqual([]);
    p.update({ done: 50, total: 100, failures: 2, seconds: 5 });
    p.update({ done: 60, total: 100, failures: 2, seconds: 6 });
    p.update({ done: 100, total: 100, failures: 3, seconds: 10 });
    p.stop();
    expect(written).toEqual([
      "explore: 50/100 runs, 10.0 runs/s, 2 failed, ETA 5 s\n",
      "explore: 100/100 runs, 10.0 runs/s, 3 failed, ETA 0 s\n",
    ]);
  });

  it("is a bar on a terminal", () => {
    const { stream, written } = sink(true);
    const p = new Progress(stream);
    p.update({ done: 30, total: 120, failures: 1, seconds: 3 });
    p.stop();
    expect(written.join("")).toMatch(/explore \[[█░]+\] 30\/120 runs \| 10 runs\/s \| 1 failed \| ETA/);
  });
});

describe("shards", () => {
  it("--seed-range A:B --out F runs exactly A..B-1, and merged shards give what one search gives", () => {
    const a = tmpFile("a.json");
    const b = tmpFile("b.json");
    const first = shootdown("explore", IMAGE, ...SEARCH, "--seed-range", "120:129", "--out", a, "--json");
    const second = shootdown("explore", IMAGE, ...SEARCH, "--seed-range", "129:140", "--out", b, "--json");
    const shard = JSON.parse(readFileSync(a, "utf8"));
    expect(shard).toMatchObject({ format: "shootdown-explore-shard", version: 1, seeds: [{ first: "120", end: "129" }], runs: 9 });
    expect(shard.failures).toEqual(json(first).failures.byKind);
    expect(JSON.parse(readFileSync(b, "utf8")).runs).toBe(11);
    const one = json(shootdown("explore", IMAGE, ...SEARCH, "--runs", "20", "--seed", "120", "--all", "--json", "--out-schedule", tmpFile("one.json")));
    expect(one.failures.total).toBeGreaterThan(0);
    expect(first.status! + second.status!).toBeGreaterThan(0);
    // A shard carries its first failure's schedule; nothing else is written where the search ran.
    expect(readdirSync(ROOT).filter((f) => /^explore-\d+-lost-update-seed-/.test(f))).toEqual([]);
    expect(shard.firstFailure.schedule).toMatchObject({ format: "shootdown-schedule", options: { seed: shard.firstFailure.seed } });
    const schedule = tmpFile("merged.json");
    const merged = shootdown("explore", "merge", b, a, "--json", "--out-schedule", schedule);
    expect(merged.status).toBe(1);
    const m = json(merged);
    const same = (s: Record<string, any>) => ({
      runs: s.runs, failures: s.failures, failingSeeds: s.failingSeeds, firstFailingSeed: s.firstFailingSeed,
      instructionsPerRun: s.instructionsPerRun, strategy: s.strategy, kind: s.firstFailure.kind, at: s.firstFailure.instructions,
    });
    expect(same(m)).toEqual(same(one));
    expect(m.seeds).toEqual([{ first: "129", end: "140" }, { first: "120", end: "129" }]);
    expect(m.workers).toBe(4);
    // The merged first failure's schedule, carried in its shard, replays.
    const replay = json(shootdown("run", IMAGE, "--replay", schedule, "--json"));
    expect(replay.instructions).toBe(m.firstFailure.instructions);
    // The table is the same table.
    const table = shootdown("explore", "merge", a, b, "--out-schedule", schedule).stdout;
    expect(table).toMatch(/^seeds +120–139$/m); // shards that meet are one range
    expect(table).toMatch(new RegExp(`^first failing seed +${one.firstFailingSeed}$`, "m"));
  });

  it("refuses a bad shard file with its name, and shards that overlap or differ", () => {
    const good = tmpFile("good.json");
    expect(shootdown("explore", IMAGE, "--cpus", "2", "--jobs", "1", "--seed-range", "0:2", "--out", good).status).toBe(0);
    const text = readFileSync(good, "utf8");
    const edited = (edit: (o: any) => void) => {
      const o = JSON.parse(text);
      edit(o);
      return JSON.stringify(o);
    };
    const cases: [string, RegExp][] = [
      [edited((o) => (o.format = "x")), /^s\.json is not a shard file of shootdown explore: format: /],
      [edited((o) => (o.runs = 5)), /: "runs" is 5 but "seeds" covers 2$/],
      [edited((o) => (o.seeds[0].first = "-1")), /: seeds\[0\]\.first: must be a decimal string$/],
      [edited((o) => (o.seeds[0].first = "2")), /: seeds\[0\]: first must be below end$/],
      [edited((o) => (o.failures = { deadlock: 1 })), /: "failingSeeds" lists 0 seeds but "failures" counts 1$/],
      [edited((o) => (o.failingSeeds = ["1"])), /: "failingSeeds" lists 1 seeds but "failures" counts 0$/],
      [edited((o) => (o.extra = 1)), /: the file: Unrecognized key: "extra"$/],
      ["shard?", /^s\.json is not a shard file of shootdown explore: not valid JSON/],
    ];
    for (const [body, message] of cases) expect(() => parseShard(body, "s.json"), body).toThrow(message);
    const shard = parseShard(text, "good.json");
    const other = parseShard(edited((o) => (o.options.cpus = 1)), "other.json");
    expect(() => mergeShards([shard, other], ["good.json", "other.json"])).toThrow(/^other\.json explored with other options/);
    const image2 = parseShard(edited((o) => (o.image.sha256 = "0".repeat(64))), "image.json");
    expect(() => mergeShards([shard, image2], ["good.json", "image.json"])).toThrow(/^image\.json explored another image/);

    // Through the command: the file named, exit 64, one line.
    const bad = tmpFile("bad.json");
    writeFileSync(bad, edited((o) => (o.runs = 5)));
    const r = shootdown("explore", "merge", good, bad);
    expect(r.stderr.trim()).toMatch(/^shootdown explore: \S*bad\.json is not a shard file of shootdown explore: "runs" is 5 but "seeds" covers 2$/);
    expect(r.status).toBe(64);
    const overlap = shootdown("explore", "merge", good, good, good.replace("good", "nothing"));
    expect(overlap.stderr.trim()).toMatch(/^shootdown explore: cannot read .*nothing\.json: ENOENT$/);
    expect(shootdown("explore", "merge", good, good).stderr.trim()).toMatch(/good\.json and .*good\.json both ran seeds 0–1$/);
  });
});

describe("bad input", () => {
  /** The usage error exploreCommand raises (main.ts prints it as "shootdown explore: MESSAGE" and exits 64). */
  const usage = async (args: string[]) => {
    try {
      await exploreCommand([IMAGE, ...args], () => {});
    } catch (e) {
      if (e instanceof UsageError) return e.message;
      throw e;
    }
    return "no usage error";
  };

  it("is a usage error for bad numbers, empty ranges and options that do not go together", async () => {
    const cases: [string[], string][] = [
      [["--depth", "0"], "--depth must be from 1 to 1000, not 0"],
      [["--jobs", "0"], "--jobs must be from 1 to 1024, not 0"],
      [["--runs", "many"], "--runs must be an integer, not 'many'"],
      [["--runs", "0"], "--runs must be from 1 to 9007199254740992, not 0"],
      [["--seed-range", "5:5"], "--seed-range 5:5 is empty: A must be below B"],
      [["--seed-range", "9:3"], "--seed-range 9:3 is empty: A must be below B"],
      [["--seed-range", "7"], "--seed-range must be A:B (seeds A to B-1), not '7'"],
      [["--seed-range", "0:x"], "--seed-range's B must be an integer, not 'x'"],
      [["--seed-range", "0:5", "--runs", "3"], "--seed-range and --runs cannot be used together"],
      [["--strategy", "fair"], "--strategy must be pct or random, not 'fair'"],
      [["--strategy", "random", "--depth", "2"], "--depth needs --strategy pct"],
      [["--record", "x.json"], "unknown option '--record' (see shootdown explore --help)"],
      [["--seed", "18446744073709551615", "--runs", "2"], "--seed 18446744073709551615 with --runs 2 goes past the last seed, 2^64-1"],
      [["--out", "/nonexistent-dir/shard.json"], "cannot write /nonexistent-dir/shard.json: ENOENT"],
    ];
    for (const [args, message] of cases) expect(await usage(args), args.join(" ")).toBe(message);
  });

  it("exits 64 with one line for a usage error and 2 for an image that cannot be loaded, never a stack", () => {
    const r = shootdown("explore", IMAGE, "--jobs", "0");
    expect(r.stderr.trim()).toBe("shootdown explore: --jobs must be from 1 to 1024, not 0");
    expect(r.status).toBe(64);
    const missing = shootdown("explore", join(ROOT, "no-such-image.elf"), "--runs", "2");
    expect(missing.stderr.trim()).toMatch(/^shootdown explore: cannot load .*no-such-image\.elf: cannot read it: ENOENT$/);
    expect(missing.status).toBe(2);
    const garbage = imageFile(new Uint8Array(64).fill(7), "garbage.elf");
    const g = shootdown("explore", garbage, "--runs", "2");
    expect(g.stderr.trim()).toMatch(/^shootdown explore: cannot load .*garbage\.elf: [^\n]+$/);
    expect(g.status).toBe(2);
    expect(existsSync(join(ROOT, "explore-garbage-seed-0.json"))).toBe(false);
  });

  it("shootdown run checks the strategy options too", () => {
    expect(shootdown("run", IMAGE, "--depth", "2").stderr.trim()).toBe("shootdown run: --depth needs --strategy pct");
    expect(shootdown("run", IMAGE, "--strategy", "pct", "--horizon", "0").stderr.trim()).toBe("shootdown run: --horizon must be from 1 to 4294967295, not 0");
  });
});
