// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv`: an x86-64 machine whose CPUs are the
// hypervisor's pCPUs, with the hypervisor (pv-host.ts) first in their exit
// chain. RAM starts at physical 0 as on the bare machine; the hypervisor
// takes the frames above the first MiB and builds the PV domains from the
// image there, so the bare boot protocol plays no part.

import { readElf, ElfError } from "../../asm/index.ts";
import { LoadError, type LoadPlan } from "../../emulator/machine/core/elf-load.ts";
import { X86Platform, x86Machine, type PlatformOptions } from "../../emulator/machine/platform/x86/platform.ts";
import { NO_DISASSEMBLER } from "../../emulator/machine/core/disassembler.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import { PvHost } from "./pv-host.ts";
import { perImage, type PerImage } from "./pv-build.ts";

/** Console lines of several domains, each prefixed "[dN] " (one domain: as it writes them). */
export class DomainConsoles {
  private readonly partial = new Map<number, number[]>();

  constructor(private readonly prefixed: boolean, private readonly sink: (byte: number) => void) {}

  write(domid: number, bytes: Uint8Array): void {
    if (!this.prefixed) {
      for (const b of bytes) this.sink(b);
      return;
    }
    const line = this.partial.get(domid) ?? [];
    for (const b of bytes) {
      line.push(b);
      if (b !== 10) continue;
      for (const c of Buffer.from(`[d${domid}] `)) this.sink(c);
      for (const c of line) this.sink(c);
      line.length = 0;
    }
    this.partial.set(domid, line);
  }
}

/** Each image's ELF, read once (`shootdown explore` boots the same image for every run; nothing changes a read ELF). */
const elfs: PerImage<ReturnType<typeof readElf>> = new WeakMap();

/** Builds the machine, the hypervisor and its domains; throws LoadError when the image is not a PV kernel that fits. */
export function bootPvPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}): X86Platform {
  const hv = options.hv!;
  let plan: LoadPlan;
  try {
    plan = { elf: perImage(elfs, image, () => readElf(image)), segments: [] };
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (plan.elf.arch !== "x86_64") throw new LoadError("--hv runs x86-64 PV kernels; this image is for AArch64");
  const need = BigInt(hv.domains) * hv.domMemBytes + (2n << 20n);
  if (need > options.memBytes) {
    throw new LoadError(`${hv.domains} domain${hv.domains === 1 ? "" : "s"} of ${hv.domMemBytes >> 20n} MiB need --mem of at least ${need >> 20n}M (the hypervisor keeps the first MiB and its own tables)`);
  }
  const m = x86Machine(options, options.memBytes, p);
  const platform = new X86Platform(m, plan, options.memBytes, console, p.disassembler ?? NO_DISASSEMBLER);
  const consoles = new DomainConsoles(hv.domains > 1, console);
  const host = new PvHost(platform, {
    image, cmdline: options.cmdline, domains: hv.domains, vcpus: hv.vcpus, domMemBytes: hv.domMemBytes, seed: options.seed ?? 0n,
    nested: hv.nested ?? false, forceIpi: hv.forceIpi ?? true, l0Assist: hv.l0Assist ?? true,
    console: (domid, bytes) => consoles.write(domid, bytes),
  });
  platform.attach(host as never);
  return platform;
}
