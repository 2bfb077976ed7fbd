// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv --hvm`: an x86-64 machine whose CPUs are the
// hypervisor's pCPUs, with the HVM host (hvm-host.ts) first in their exit
// chain, and its domains (d1, or --domains of them: d1..dN, or d0..dN-1
// with a privileged d0) each booted by the bare x86-64 boot protocol
// (emulator/machine/platform/x86/boot.ts) in its guest-physical memory: the
// image at its physical addresses, the boot-information block, the command
// line, the GDT and the boot page tables where the bare loader puts them,
// and every vCPU at e_entry in 64-bit mode with RDI = its number. So an
// image that runs bare runs here unchanged.
//
// Memory. Each domain's RAM is guest-physical [0, --dom-mem), and --dom-mem
// defaults to --mem: the guest sees the RAM the bare machine would give it.
// The machine has that much per domain and what the hypervisor keeps
// besides (the first MiB, the EPT tables, the M2P, hvmReserveBytes). The
// frames are the x86 hypervisor's (hypervisor.ts: its frame table, seeded
// allocator and M2P, which memory sharing needs); a domain's RAM frames
// hold their allocation reference only, as Xen's HVM RAM does, and are
// never a GFN's own number nor the frame after the previous GFN's,
// differently for each seed.

import { LoadError, type LoadTarget } from "../../../emulator/machine/core/elf-load.ts";
import { X86Platform, x86Machine, type PlatformOptions } from "../../../emulator/machine/platform/x86/platform.ts";
import { planLoad, writeX86BootMemory, x86BootState } from "../../../emulator/machine/platform/x86/boot.ts";
import { NO_DISASSEMBLER } from "../../../emulator/machine/core/disassembler.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import type { X86Registers, X86State } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { PAGE_SHIFT, PAGE_SIZE, maddr, type MachineMemory } from "../../common/memory.ts";
import { InvvpidType } from "../../../emulator/machine/cpu/x86-cpu.ts";
import { IoBus } from "../../../emulator/machine/platform/x86/devices.ts";
import { Hypervisor } from "../hypervisor.ts";
import { DomainConsoles } from "../boot.ts";
import { Ept } from "./ept.ts";
import { HvmHost, type HvmDomainSpec, type HvmHostOptions } from "./hvm-host.ts";
import type { HvmSaved } from "./vcpu.ts";

export const HVM_DOMID = 1;
/** Machine frames below this are not given out (as the PV host keeps the first MiB). */
const FIRST_MFN = 0x100;
/** The largest machine the hardware module holds (as --mem's limit). */
const MACHINE_MAX_BYTES = 3n << 30n;

/**
 * Machine RAM the hypervisor keeps beyond `domains` domains of `domBytes`:
 * the first MiB, each domain's EPT tables, the M2P (8 bytes per machine
 * frame) with its tables and the GDT, and 1 MiB to spare.
 */
export function hvmReserveBytes(domBytes: bigint, domains = 1): bigint {
  const pages = domBytes >> BigInt(PAGE_SHIFT);
  let tables = 1n;
  for (let n = pages; n > 1n; ) {
    n = (n + 511n) / 512n;
    tables += n;
  }
  const page = BigInt(PAGE_SIZE);
  const base = (BigInt(FIRST_MFN) << BigInt(PAGE_SHIFT)) + BigInt(domains) * tables * page + (1n << 20n);
  // The M2P covers every machine frame, its own included: one frame of entries per 512 frames, and a few tables.
  const frames = (BigInt(domains) * domBytes + base) / page;
  const m2p = (frames + frames / 512n + 16n) / 512n + 1n + 8n;
  return base + m2p * page;
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

/** Builds the machine, the HVM host and its domains; throws LoadError for an image or options it cannot run. */
export function bootHvmPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}, hooks: HvmHooks = {}): X86Platform {
  const hv = options.hv!;
  if (hv.nested || hv.forceIpi === false) throw new LoadError("--nested and --no-force-ipi are for x86-64 PV domains, not --hvm");
  const domMem = hv.domMemBytes;
  const plan = planLoad(image, domMem);
  const n = hv.domains;
  const machineBytes = BigInt(n) * domMem + hvmReserveBytes(domMem, n);
  if (machineBytes > MACHINE_MAX_BYTES) {
    const what = n === 1 ? `an HVM domain of ${domMem >> 20n} MiB` : `${n} HVM domains of ${domMem >> 20n} MiB`;
    throw new LoadError(`${what} need${n === 1 ? "s" : ""} a machine of ${machineBytes >> 20n} MiB with the EPT tables and the M2P, more than the ${MACHINE_MAX_BYTES >> 20n} MiB the machine can have (lower --dom-mem)`);
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
      shadow: 0,
    };
  };

  const seed = options.seed ?? 0n;
  const machineFrames = Number(m.options.ram[0]!.size >> BigInt(PAGE_SHIFT));
  let host: HvmHost | undefined;
  const x86 = new Hypervisor({
    memory: m.memory, firstMfn: FIRST_MFN, nrFrames: machineFrames - FIRST_MFN, nrPcpus: m.cpus.length, seed,
    pageLockCheck: hv.pageLockCheck ?? false, timeline: platform.timeline, step: () => platform.timeline.step,
    callbacks: {
      // A frame handed out again may be cached by any pCPU for any VPID: the filtered flush drops them all.
      flushLocal: (cpu) => void m.cpus[cpu]!.invvpid(InvvpidType.AllContext, 0),
      lockViolation: (v) => host?.report(v.cpu, v.message, { ...v }, v.pcpus),
      violation: (v) => host?.report(v.walker, v.message, { ...v, va: `0x${v.va.toString(16)}` }, [v.walker, v.actor]),
    },
  });
  const consoles = new DomainConsoles(n > 1, console);
  const first = hv.dom0 ? 0 : 1;
  const domains: HvmDomainSpec[] = [];
  for (let k = 0; k < n; k++) {
    const domain = x86.createDomain(first + k, Number(domMem >> BigInt(PAGE_SHIFT)), hv.vcpus);
    const ept = new Ept(m.memory, () => x86.allocator.takeTable((mfn) => m.memory.write(maddr(mfn), new Uint8Array(PAGE_SIZE))));
    x86.allocator.populateRam(domain, 0, (gfn, mfn) => {
      ept.set(gfn, mfn);
      x86.setGpfnFromMfn(mfn, BigInt(gfn));
    });
    // The bare protocol, in guest-physical memory: the boot information's CPU count is the vCPU count.
    writeX86BootMemory({ memory: guestWriter(m.memory, ept, domMem), cpus: { length: hv.vcpus } }, plan, domMem, { cmdline: options.cmdline });
    const io = n === 1 ? platform.io : new IoBus((byte) => consoles.write(domain.domid, Uint8Array.of(byte)));
    domains.push({ domain, ept, io, privileged: domain.domid === 0 });
  }
  m.hw.x86CodeChanged();

  host = new HvmHost(platform, {
    hv: x86, domains, start, seed, migrate: hv.migrate ?? 0,
    ...(hv.sharing ? { sharing: hv.sharing } : {}), ...(hv.sharingDaemon ? { sharingDaemon: true } : {}),
    ...(hooks.annotate ? { annotate: hooks.annotate } : {}),
  });
  platform.attach(host as never);
  hooks.host?.(host);
  return platform;
}
