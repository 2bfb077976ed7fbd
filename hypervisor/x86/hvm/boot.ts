// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv --hvm`: an x86-64 machine whose CPUs are the
// hypervisor's pCPUs, with the HVM host (hvm-host.ts) first in their exit
// chain, and one domain (d1) booted by the bare x86-64 boot protocol
// (emulator/machine/platform/x86/boot.ts) in guest-physical memory: the
// image at its physical addresses, the boot-information block, the command
// line, the GDT and the boot page tables where the bare loader puts them,
// and every vCPU at e_entry in 64-bit mode with RDI = its number. So an
// image that runs bare runs here unchanged.
//
// Memory. The domain's RAM is guest-physical [0, --dom-mem), and --dom-mem
// defaults to --mem: the guest sees the RAM the bare machine would give it.
// The machine has that much and what the hypervisor keeps besides (the
// first MiB and the EPT tables, hvmReserveBytes); machine frames come from
// the seeded frame allocator, never a GFN's own number and never the frame
// after the previous GFN's, differently for each seed.

import { LoadError, type LoadTarget } from "../../../emulator/machine/core/elf-load.ts";
import { X86Platform, x86Machine, type PlatformOptions } from "../../../emulator/machine/platform/x86/platform.ts";
import { planLoad, writeX86BootMemory, x86BootState } from "../../../emulator/machine/platform/x86/boot.ts";
import { NO_DISASSEMBLER } from "../../../emulator/machine/core/disassembler.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import type { X86Registers, X86State } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { FrameTable } from "../../common/frame-table.ts";
import { FrameAllocator } from "../../common/alloc.ts";
import { Domain } from "../../common/domain.ts";
import { PAGE_SHIFT, PAGE_SIZE, maddr, type MachineMemory } from "../../common/memory.ts";
import { Ept } from "./ept.ts";
import { HvmHost, type HvmHostOptions } from "./hvm-host.ts";
import type { HvmSaved } from "./vcpu.ts";

export const HVM_DOMID = 1;
/** Machine frames below this are not given out (as the PV host keeps the first MiB). */
const FIRST_MFN = 0x100;
/** The largest machine the hardware module holds (as --mem's limit). */
const MACHINE_MAX_BYTES = 3n << 30n;

/** Machine RAM the hypervisor keeps beyond a domain of `domBytes`: the first MiB, the EPT tables, and 1 MiB to spare. */
export function hvmReserveBytes(domBytes: bigint): bigint {
  const pages = domBytes >> BigInt(PAGE_SHIFT);
  let tables = 1n;
  for (let n = pages; n > 1n; ) {
    n = (n + 511n) / 512n;
    tables += n;
  }
  return (BigInt(FIRST_MFN) << BigInt(PAGE_SHIFT)) + tables * BigInt(PAGE_SIZE) + (1n << 20n);
}

/** Writes guest-physical bytes through the EPT (the domain builder's copy_to_guest). */
function guestWriter(memory: MachineMemory, ept: Ept, ramBytes: bigint): LoadTarget["memory"] {
  return {
    write(gpa: bigint, bytes: Uint8Array): void {
      let done = 0;
      while (done < bytes.length) {
        const at = gpa + BigInt(done);
        const mfn = at < ramBytes ? ept.lookup(Number(at >> BigInt(PAGE_SHIFT))) : undefined;
        if (mfn === undefined) throw new LoadError(`GPA 0x${at.toString(16)} is outside the domain's RAM`);
        const offset = Number(at & BigInt(PAGE_SIZE - 1));
        const n = Math.min(PAGE_SIZE - offset, bytes.length - done);
        memory.write(maddr(mfn, offset), bytes.subarray(done, done + n));
        done += n;
      }
    },
  };
}

/** What a caller may attach: the sanitizer's annotation hook, and a look at the host (tests, the debugger). */
export interface HvmHooks {
  annotate?: HvmHostOptions["annotate"];
  host?: (host: HvmHost) => void;
}

/** Builds the machine, the HVM host and its domain; throws LoadError for an image or options it cannot run. */
export function bootHvmPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}, hooks: HvmHooks = {}): X86Platform {
  const hv = options.hv!;
  if (hv.domains !== 1) throw new LoadError("--hvm runs one domain (--domains 1)");
  if (hv.nested || hv.forceIpi === false) throw new LoadError("--nested and --no-force-ipi are for x86-64 PV domains, not --hvm");
  const domMem = hv.domMemBytes;
  const plan = planLoad(image, domMem);
  const machineBytes = domMem + hvmReserveBytes(domMem);
  if (machineBytes > MACHINE_MAX_BYTES) {
    throw new LoadError(`an HVM domain of ${domMem >> 20n} MiB needs a machine of ${machineBytes >> 20n} MiB with its EPT tables, more than the ${MACHINE_MAX_BYTES >> 20n} MiB the machine can have`);
  }
  const m = x86Machine(options, machineBytes > options.memBytes ? machineBytes : options.memBytes, p);
  // Crash lines name guest-physical addresses against the domain's RAM, as the bare machine names its own.
  const platform = new X86Platform(m, plan, domMem, console, p.disassembler ?? NO_DISASSEMBLER);

  // Every pCPU starts from reset; a vCPU's context is a reset CPU's with the boot protocol's registers.
  for (const cpu of m.cpus) cpu.reset();
  const resetState: X86State = m.cpus[0]!.state;
  const resetRegisters: X86Registers = m.cpus[0]!.registers;
  const bsp = m.cpus[0]!.state.apicBase;
  const ap = m.cpus.length > 1 ? m.cpus[1]!.state.apicBase : bsp & ~(1n << 8n);
  const start = (id: number): HvmSaved => {
    const boot = x86BootState(plan, id);
    return {
      state: { ...resetState, ...boot.state, apicBase: id === 0 ? bsp : ap } as X86State,
      registers: { ...resetRegisters, ...boot.registers },
      injection: null,
    };
  };

  const seed = options.seed ?? 0n;
  const machineFrames = Number(m.options.ram[0]!.size >> BigInt(PAGE_SHIFT));
  const frames = new FrameTable(FIRST_MFN, machineFrames - FIRST_MFN);
  const alloc = new FrameAllocator(frames, seed);
  const domain = new Domain(HVM_DOMID, Number(domMem >> BigInt(PAGE_SHIFT)), hv.vcpus);
  const ept = new Ept(m.memory, () => alloc.takeTable((mfn) => m.memory.write(maddr(mfn), new Uint8Array(PAGE_SIZE))));
  alloc.populateRam(domain, 0, (gfn, mfn) => ept.set(gfn, mfn));
  // The bare protocol, in guest-physical memory: the boot information's CPU count is the vCPU count.
  writeX86BootMemory({ memory: guestWriter(m.memory, ept, domMem), cpus: { length: hv.vcpus } }, plan, domMem, { cmdline: options.cmdline });
  m.hw.x86CodeChanged();

  const host = new HvmHost(platform, { domain, ept, start, seed, migrate: hv.migrate ?? 0, ...(hooks.annotate ? { annotate: hooks.annotate } : {}) });
  platform.attach(host as never);
  hooks.host?.(host);
  return platform;
}
