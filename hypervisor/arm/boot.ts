// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv` for an AArch64 image: a machine whose CPUs are
// the hypervisor's pCPUs, with the Arm hypervisor (arm-host.ts) first in
// their exit chain, and one domain built from the image as the bare
// platform would boot it (emulator/machine/platform/arm/boot.ts, QEMU virt's
// conventions): RAM at IPA 0x4000_0000, the ELF loaded at its physical
// addresses, the boot-information block at the top of RAM, vCPU 0 at the
// entry at EL1h with the MMU and caches off and the others off until PSCI
// CPU_ON. Machine RAM is at 0x4000_0000 too, all of it the hypervisor's:
// the domain's RAM and its p2m tables come from the seeded frame allocator,
// never identity-mapped and never contiguous.

import { LoadError, loadSegments, writeBootInfo, type LoadTarget } from "../../emulator/machine/core/elf-load.ts";
import { ArmPlatform, armMachine } from "../../emulator/machine/platform/arm/platform.ts";
import { planArmLoad, armBootInfoAddress, ARM_RAM_BASE, ARM_CMDLINE_OFFSET } from "../../emulator/machine/platform/arm/boot.ts";
import type { PlatformOptions } from "../../emulator/machine/platform/x86/platform.ts";
import { NO_DISASSEMBLER } from "../../emulator/machine/core/disassembler.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import { FrameTable } from "../common/frame-table.ts";
import { FrameAllocator } from "../common/alloc.ts";
import { Domain } from "../common/domain.ts";
import { PAGE_SHIFT, PAGE_SIZE, maddr, type MachineMemory } from "../common/memory.ts";
import { P2m } from "./p2m.ts";
import { ArmHost } from "./arm-host.ts";

/** The domain's id and its VMID. */
export const ARM_DOMID = 1;
/** Machine RAM the hypervisor keeps beyond the domain's: its p2m tables. */
const HV_RESERVE_BYTES = 2n << 20n;

/** Writes bytes at a guest-physical address through the p2m (the domain builder's copy_to_guest). */
function guestWriter(memory: MachineMemory, p2m: P2m, ramBytes: bigint): LoadTarget["memory"] {
  return {
    write(ipa: bigint, bytes: Uint8Array): void {
      let done = 0;
      while (done < bytes.length) {
        const at = ipa + BigInt(done);
        const e = p2m.lookup(Number(at >> BigInt(PAGE_SHIFT)));
        if (!e || at < ARM_RAM_BASE || at >= ARM_RAM_BASE + ramBytes) throw new LoadError(`IPA 0x${at.toString(16)} is outside the domain's RAM`);
        const offset = Number(at & BigInt(PAGE_SIZE - 1));
        const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
        memory.write(maddr(e.mfn, offset), bytes.subarray(done, done + n));
        done += n;
      }
    },
  };
}

/** Builds the machine, the hypervisor and its domain; throws LoadError when the image does not fit the domain. */
export function bootArmHvPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}): ArmPlatform {
  const hv = options.hv!;
  if (hv.domains !== 1) throw new LoadError("--hv on AArch64 runs one domain (--domains 1)");
  if (hv.nested || hv.forceIpi === false) throw new LoadError("--nested and --no-force-ipi are for x86-64 PV domains; this image is for AArch64");
  const domMem = hv.domMemBytes;
  const plan = planArmLoad(image, domMem);
  if (domMem + HV_RESERVE_BYTES > options.memBytes) {
    throw new LoadError(`a domain of ${domMem >> 20n} MiB needs --mem of at least ${(domMem + HV_RESERVE_BYTES) >> 20n}M (the hypervisor keeps 2 MiB for its p2m tables)`);
  }
  // Sanitizer event (a) (mechanisms §4.6) only when asked, as bare: a correct guest may poll, with its caches
  // off, a flag another vCPU has written but not yet cleaned (a secondary's holding pen does), and the check
  // would call that read stale; the set/way guest checks its own reads and fails with status 1 anyway.
  const m = armMachine(options, p);
  const platform = new ArmPlatform(m, plan, options.memBytes, console, p.disassembler ?? NO_DISASSEMBLER);
  // Every pCPU is on (it runs the hypervisor); the context a vCPU starts from is a CPU just powered on.
  for (const cpu of m.cpus) cpu.powerOn(0n);
  const resetContext = m.cpu(0).saveContext();

  const seed = options.seed ?? 0n;
  const frames = new FrameTable(Number(ARM_RAM_BASE >> BigInt(PAGE_SHIFT)), Number(options.memBytes >> BigInt(PAGE_SHIFT)));
  const alloc = new FrameAllocator(frames, seed);
  const domain = new Domain(ARM_DOMID, Number(domMem >> BigInt(PAGE_SHIFT)), hv.vcpus);
  const p2m = new P2m(m.memory, () => alloc.takeTable((mfn) => m.memory.write(maddr(mfn), new Uint8Array(PAGE_SIZE))), ARM_DOMID);
  const firstGfn = Number(ARM_RAM_BASE >> BigInt(PAGE_SHIFT));
  // The machine-to-guest map of the domain's frames (Xen's M2P), for naming a machine address by IPA.
  const m2p = new Map<number, number>();
  alloc.populateRam(domain, firstGfn, (gfn, mfn) => {
    p2m.set(gfn, mfn);
    m2p.set(mfn, gfn);
  });
  const guest: LoadTarget = { memory: guestWriter(m.memory, p2m, domMem), cpus: { length: hv.vcpus } };
  loadSegments(guest, plan);
  const info = armBootInfoAddress(domMem);
  writeBootInfo(guest, info, info + ARM_CMDLINE_OFFSET, domMem, options.cmdline);
  // p2m_domain_creation_finished: the root is invalidated once, so the first set/way flush walks only what the guest touched.
  p2m.invalidateRoot();
  p2m.needFlush = false;

  const host = new ArmHost(platform, {
    domain, p2m, resetContext, entry: plan.elf.entry, x0: info, seed, migrate: hv.migrate ?? 0, setWay: hv.setWay ?? "trap",
  });
  platform.attach(host as never);
  platform.ipaOf = (pa) => {
    const gfn = m2p.get(Number(pa >> BigInt(PAGE_SHIFT)));
    return gfn === undefined ? undefined : (BigInt(gfn) << BigInt(PAGE_SHIFT)) | (pa & BigInt(PAGE_SIZE - 1));
  };
  return platform;
}
