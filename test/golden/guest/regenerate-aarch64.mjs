#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// The console output of the AArch64 guest images (guest/aarch64/*.s) on
// QEMU, kept as golden files in test/golden/guest/aarch64/<image>.txt: what
// `shootdown run IMAGE --cpus 4` must print byte for byte. They were made
// with Debian bookworm's QEMU 7.2 (package qemu-system-arm), and the parity
// test (test/guest/aarch64-parity.test.ts) checks them against a live QEMU
// whenever one is installed.
//
// The command line is QEMU's virt board as issue 6 fixes it, with the two
// choices a bare-metal image needs spelled out: GICv3 (virt's default is a
// GICv2, which has no redistributors) and the monitor off, so that stdout
// carries the guest's PL011 console and nothing else.
//
// Usage: npm run build; node test/golden/guest/regenerate-aarch64.mjs [--check]
// With --check nothing is written; the exit status says whether the files
// are current.

import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, "..", "..", "..");
export const GOLDEN_DIR = join(HERE, "aarch64");
export const GUEST_DIR = join(ROOT, "guest", "aarch64");
export const IMAGES = ["hello", "selftest"];
/**
 * Images that pass on QEMU but not on shootdown's default machine: setway
 * cleans its caches by set/way, which never reaches shootdown's system cache,
 * so its test (test/guest/setway.test.ts) runs it with --system-cache off.
 */
export const SCENARIO_IMAGES = ["setway"];

export const QEMU = "qemu-system-aarch64";
export const QEMU_ARGS = [
  "-M", "virt,gic-version=3", "-cpu", "max", "-smp", "4", "-m", "128M",
  "-nographic", "-monitor", "none", "-no-reboot",
];
/** Every image powers off within a second on QEMU; a hung image is killed after this. */
export const QEMU_TIMEOUT_MS = 30_000;

export function qemuAvailable() {
  return spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
}

/** Runs an image on QEMU; stdout is the guest's console, byte for byte. */
export function runQemu(elf) {
  const r = spawnSync(QEMU, [...QEMU_ARGS, "-kernel", elf], {
    stdio: ["ignore", "pipe", "pipe"],
    timeout: QEMU_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  return { status: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: (r.stderr ?? Buffer.alloc(0)).toString("utf8"), timedOut: r.error?.code === "ETIMEDOUT" };
}

export const goldenPath = (image) => join(GOLDEN_DIR, `${image}.txt`);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes("--check");
  if (!qemuAvailable()) {
    console.error(`${QEMU} is not installed (Debian: apt-get install qemu-system-arm)`);
    process.exit(1);
  }
  let stale = 0;
  for (const image of [...IMAGES, ...SCENARIO_IMAGES]) {
    const elf = join(GUEST_DIR, `${image}.elf`);
    if (!existsSync(elf)) {
      console.error(`${elf} is missing: run npm run build first`);
      process.exit(1);
    }
    const r = runQemu(elf);
    if (r.status !== 0 || r.timedOut) {
      console.error(`${QEMU} ${image}.elf: ${r.timedOut ? "timed out" : `exit status ${r.status}`}\n${r.stderr}`);
      process.exit(1);
    }
    const path = goldenPath(image);
    const same = existsSync(path) && Buffer.compare(readFileSync(path), r.stdout) === 0;
    if (check) {
      if (!same) {
        stale++;
        console.error(`${path} is not what QEMU prints now`);
      }
    } else {
      writeFileSync(path, r.stdout);
      console.log(`${path}: ${r.stdout.length} bytes${same ? " (unchanged)" : ""}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
