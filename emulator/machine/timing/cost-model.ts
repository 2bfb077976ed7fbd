// SPDX-License-Identifier: MIT
//
// The cycle cost model: what each thing a pCPU does costs, in cycles of a
// modelled clock. The emulator counts instructions, not time; the model
// turns the timeline (core/timeline.ts) and the CPUs' counters into cycles
// so that flush paths can be compared (issue 13: "the assisted path is
// cheaper, force-IPI gives back part of the gain") and so that a trace has
// a time axis. Every constant is an order of magnitude for a recent Intel
// server core at the modelled clock rate, with where it comes from; where
// no published figure fits, it says "estimate" and why. mechanisms.md
// (../shared/reference/mechanisms.md) describes the mechanisms but gives no
// figures, so the figures come from the sources named beside each constant.
//
// `shootdown run --cost-model FILE.json` overrides any of them (a JSON
// object of some of these keys, each a non-negative number of cycles;
// clockMHz a positive number), see cost-model-file.ts.

/** The constants of the model; each is in cycles unless its name says otherwise. */
export interface CostModel {
  /** The modelled clock rate: trace timestamps are cycles / clockMHz microseconds. */
  clockMHz: number;
  guestInstruction: number;
  walkLevel: number;
  invlpg: number;
  fullFlush: number;
  ipiSend: number;
  ipiDelivery: number;
  interruptEntry: number;
  vmExit: number;
  vmEntry: number;
  hypercall: number;
  l0FlushHypercall: number;
  hypervisorStep: number;
  cleanToPocPage: number;
  p2mEntrySkipped: number;
  tlbiBroadcast: number;
}

export const COST_MODEL: Readonly<CostModel> = Object.freeze({
  // 3 GHz, the base clock of a typical server part; only the conversion of
  // cycles to trace microseconds depends on it.
  clockMHz: 3000,
  // Estimate: one cycle per retired instruction (an IPC of 1, the order of
  // what server workloads sustain; a core can retire 4 or more a cycle).
  guestInstruction: 1,
  // One page-walk read (per level, the CPU's walkReads counter, stage 2
  // included): the Intel 64 and IA-32 Architectures Optimization Reference
  // Manual gives load-to-use latencies of 4–5 cycles for the L1 data cache
  // and 12–14 for L2 on Skylake-class cores; walk reads mostly hit one of
  // the two, so 10 (an estimate between them).
  walkLevel: 10,
  // INVLPG of one page (also INVPCID individual-address, and an AArch64
  // TLBI). Estimate: a serialising instruction of the order of 100–250
  // cycles; Linux's tlb_single_page_flush_ceiling of 33 (arch/x86/mm/tlb.c,
  // Dave Hansen's measurements) says some 33 of them cost about one full
  // flush with its refills.
  invlpg: 200,
  // A whole-TLB flush (MOV to CR3, INVPCID single/all context, a CR4.PGE
  // toggle), without the refills: those are priced as they happen, by
  // walkLevel. Estimate: a few hundred cycles, more than one INVLPG.
  fullFlush: 500,
  // Writing the x2APIC ICR (a WRMSR): estimate of a few hundred cycles, the
  // cost of a serialising MSR write. When the hypervisor runs nested (an L1
  // guest of an L0, --nested) each IPI it sends also costs vmExit + vmEntry:
  // without IPI virtualization, a WRMSR to the ICR is not among the APIC
  // accesses VMX virtualizes (Intel SDM Vol. 3C, "Virtualizing MSR-Based
  // APIC Accesses": only self-IPIs are), so it exits to L0. This is the cost
  // the L0-assisted flush avoids (mechanisms §1.3, e9aca9470e).
  ipiSend: 300,
  // From the ICR write to the target taking the interrupt: a latency, not
  // work (a target never runs behind send + ipiDelivery). Estimate, ~0.5 µs
  // at 3 GHz. Amit, "Optimizing the TLB Shootdown Algorithm with Page-Access
  // Tracking" (USENIX ATC 2017) measures a one-page shootdown at a few
  // thousand cycles, most of it the IPI's delivery and the remote handler;
  // ipiSend + ipiDelivery + interruptEntry + invlpg here is 2,300.
  ipiDelivery: 1500,
  // Interrupt or exception delivery through the IDT and the IRET back: an
  // estimate of some hundreds of cycles (~100 ns).
  interruptEntry: 300,
  // A VM exit and the VM entry back: Agesen et al., "Software Techniques for
  // Avoiding Hardware Virtualization Exits" (USENIX ATC 2012, Figure 1)
  // show hardware round trips falling to some 500 cycles by Sandy Bridge;
  // with the state a hypervisor saves and restores, a null exit (KVM's
  // kvm-unit-tests `vmexit cpuid`) is of the order of 1,000–1,500 cycles.
  // The round trip is taken as 1,000; the even split is an estimate. For a
  // PV guest the "exit" is its trap into the hypervisor.
  vmExit: 500,
  vmEntry: 500,
  // The hypercall's dispatch on top of the exit and entry that carry it
  // (argument checks, the hypercall table): estimate.
  hypercall: 100,
  // HVMOP_flush_tlbs as an L1 hypervisor's round trip (mechanisms §1.4): an
  // exit to L0 and the entry back (1,000), and L0's IPIs to the pCPUs that
  // run the domain's vCPUs, waited for until taken (ipiSend + ipiDelivery,
  // 1,800). Estimate: 3,000. Each target also pays one forced exit and
  // entry (vmExit + vmEntry) when L0's IPI reaches it.
  l0FlushHypercall: 3000,
  // One step of a hypervisor routine (hypervisor/README.md: the code
  // between two points where another pCPU may interleave, e.g. one iteration
  // of a cmpxchg loop or one test of a spin): estimate, tens of instructions.
  hypervisorStep: 50,
  // Arm's p2m_cache_flush_range cleaning one 4 KiB page to the point of
  // coherency by VA (flush_page_to_ram: 64 DC CIVAC of 64-byte lines, then
  // DSB SY). Estimate: some 20 cycles a line for lines no cache holds (the
  // maintenance is broadcast and looked up in every cache), more for dirty
  // ones written back to memory, so 64 × 20 = 1,280. Xen's own accounting
  // prices a page 10 units against 1 for a skipped entry (mechanisms §4.4).
  cleanToPocPage: 1280,
  // p2m_cache_flush_range passing over a p2m entry whose valid bit is 0
  // (p2m_get_entry's walk from the root, up to three table reads that hit
  // the data cache): estimate, 3 × walkLevel.
  p2mEntrySkipped: 30,
  // The Arm p2m flush's TLBI VMALLS12E1IS after it clears valid bits, with
  // the DSB ISH that waits for it: every PE of the inner shareable domain
  // drops the VMID's entries and the issuer waits for the last of them (a
  // DVM message and its sync). Estimate: of the order of an IPI's delivery,
  // 1,500; the refills it causes on the other pCPUs are priced as they
  // happen, by walkLevel. Priced here instead of as the issuer's `tlbi`
  // counter (invlpg), which counts it too.
  tlbiBroadcast: 1500,
});

/** What each constant prices, for the README's table and `--cost-model` errors. */
export const COST_MODEL_MEANING: Readonly<Record<keyof CostModel, string>> = {
  clockMHz: "the modelled clock rate (MHz): trace timestamps are cycles / clockMHz µs",
  guestInstruction: "one retired guest instruction",
  walkLevel: "one page-walk read (per level of a TLB-miss walk)",
  invlpg: "INVLPG (one page)",
  fullFlush: "a full TLB flush",
  ipiSend: "sending an IPI (the ICR write)",
  ipiDelivery: "an IPI's delivery latency (send to take)",
  interruptEntry: "interrupt entry (and return)",
  vmExit: "a VM exit",
  vmEntry: "a VM entry",
  hypercall: "a hypercall's dispatch",
  l0FlushHypercall: "the L0 flush hypercall (HVMOP_flush_tlbs round trip)",
  hypervisorStep: "one step of a hypervisor routine",
  cleanToPocPage: "cleaning and invalidating one 4 KiB page to PoC by VA (Arm p2m flush)",
  p2mEntrySkipped: "a p2m entry the Arm p2m flush skips (valid bit 0)",
  tlbiBroadcast: "the Arm p2m flush's TLBI VMALLS12E1IS and DSB ISH (every PE drops the VMID's entries)",
};

export const COST_MODEL_KEYS = Object.keys(COST_MODEL) as (keyof CostModel)[];
