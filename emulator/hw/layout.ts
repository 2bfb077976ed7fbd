// SPDX-License-Identifier: MIT
//
// The one memory map of the hardware module. Every region's offset is computed
// here from the one before it and exported; the TypeScript side builds its
// views from these exports and never from literals.
//
//   ┌────────────────────────────────────────┐ 0
//   │ AssemblyScript static data             │
//   ├────────────────────────────────────────┤ __heap_base, rounded up to 64
//   │ config block         CFG_SIZE          │ written by the host before init()
//   ├────────────────────────────────────────┤ usageRecord
//   │ what the last init() laid out USAGE_SIZE│ kept across a reuse (phys/pages.ts)
//   ├────────────────────────────────────────┤ ramTable
//   │ RAM ranges   MAX_RAM_RANGES × RANGE_SIZE│ sorted by guest-physical base
//   ├────────────────────────────────────────┤ eventRing
//   │ events       EVENT_CAPACITY × EVENT_SIZE│ missing-invalidation reports
//   ├────────────────────────────────────────┤ gicDist
//   │ GICv3 distributor    GICD_SIZE         │ AArch64 only (arm/gic.ts)
//   ├────────────────────────────────────────┤ gicBlocks
//   │ GIC blocks MAX_CPUS × GIC_CPU_SIZE     │ redistributor, CPU interface,
//   │                                        │ generic timer, per CPU
//   ├────────────────────────────────────────┤ pageState
//   │ page states  PAGE_STATE_BYTES          │ a byte per 4 KiB of linear memory:
//   │                                        │ written? decoded code? (phys/pages.ts)
//   ├────────────────────────────────────────┤ cpuBlocks
//   │ CPU blocks   cpus × CPU_SIZE           │ registers, result, counters …
//   ├────────────────────────────────────────┤ cpuArrays
//   │ per-CPU arrays cpus × cpuArraysSize    │ scoped floors, micro-TLB, TLBs,
//   │                                        │ walk caches, sources, L1 cache
//   ├────────────────────────────────────────┤ systemCache
//   │ shared system cache (when modelled)    │
//   ├────────────────────────────────────────┤ decodeCache
//   │ decoded instructions                   │ shared by every CPU
//   │ per-page cache line counts (caches on) │
//   ├────────────────────────────────────────┤ ramHostBase
//   │ guest RAM, bump-allocated per range    │ grows with memory.grow
//   └────────────────────────────────────────┘
//
// Nothing here allocates through the AssemblyScript runtime: the module is
// built with the stub runtime and a test checks that no allocation function
// survives in the compiled code.

// ── Config block (host writes, init() reads) ─────────────────────────────────
export const CFG_CPUS: u32 = 0;
export const CFG_ARCH: u32 = 4;
export const CFG_MAXPHYADDR: u32 = 8;
export const CFG_FEATURES: u32 = 12;
/** u32 sets per structure, indexed by STRUCT_* (power of two). */
export const CFG_SETS: u32 = 16;
/** u32 ways per structure, indexed by STRUCT_*. */
export const CFG_WAYS: u32 = 48;
export const CFG_MICRO_ENTRIES: u32 = 80;
export const CFG_CHAOS_MEAN: u32 = 84;
export const CFG_CHAOS_SEED: u32 = 88;
/** Data cache geometry: per-CPU L1 sets and ways, shared system cache sets and ways (u32 each). */
export const CFG_L1_SETS: u32 = 96;
export const CFG_L1_WAYS: u32 = 100;
export const CFG_SC_SETS: u32 = 104;
export const CFG_SC_WAYS: u32 = 108;
export const CFG_SIZE: u32 = 128;

export const ARCH_X86_64: u32 = 1;
export const ARCH_AARCH64: u32 = 2;

/** Does the CPU support 1 GiB pages (CPUID.80000001H:EDX.Page1GB)? */
export const FEATURE_PAGE1GB: u32 = 1 << 0;
/** Does every TLB entry remember its source descriptors (missing-invalidation detector)? */
export const FEATURE_DETECT: u32 = 1 << 1;
/** Does the TLB drop entries at random (seeded chaos eviction)? */
export const FEATURE_CHAOS: u32 = 1 << 2;
/** Do data accesses go through modelled caches (per-CPU L1, system cache)? */
export const FEATURE_CACHES: u32 = 1 << 3;
/**
 * With FEATURE_CACHES: does every non-cacheable read check that it returns
 * the latest value written to its bytes, and record EVENT_STALE_READ when it
 * does not (arm/cache.ts checkUncachedRead)?
 */
export const FEATURE_STALE_READS: u32 = 1 << 4;

// ── Translation structures, each a set-associative array of ENTRY_SIZE entries ─
export const STRUCT_TLB_4K: u32 = 0;
export const STRUCT_TLB_2M: u32 = 1;
export const STRUCT_TLB_1G: u32 = 2;
/**
 * Walk caches (x86 paging-structure caches, SDM Vol.3 4.10.3; Arm walk
 * caches), named by the x86 level of the entry they hold: a PDE-cache entry
 * maps 2 MiB to a last-level table (on AArch64, a level 2 table descriptor).
 */
export const STRUCT_PSC_PDE: u32 = 3;
export const STRUCT_PSC_PDPTE: u32 = 4;
export const STRUCT_PSC_PML4E: u32 = 5;
export const STRUCT_PSC_PML5E: u32 = 6;
export const STRUCT_COUNT: u32 = 7;

// ── Fixed capacities ─────────────────────────────────────────────────────────
export const MAX_CPUS: u32 = 64;
export const MAX_RAM_RANGES: u32 = 1024;
/** RAM range record: base u64, size u64, host offset u64. */
export const RANGE_SIZE: u32 = 24;
export const EVENT_CAPACITY: u32 = 1024;
export const EVENT_SIZE: u32 = 64;
export const PCID_COUNT: u32 = 4096;
/** Scoped floors per CPU: an open-addressed map of (scope key → floor). */
export const FLOOR_MAP_SLOTS: u32 = 4096;
export const FLOOR_MAP_SLOT_SIZE: u32 = 16;

// ── CPU block ────────────────────────────────────────────────────────────────
//
// Each field's offset follows from the one before it.
//
//    0 x86 registers: CR0 CR2 CR3 CR4 EFER RFLAGS IA32_PAT PKRU (u64 each)
//   64 AArch64 system registers, ARM_REG_COUNT × u64 (index ARM_*)
//  320 VMX context: VPID u32, pad, EPTP u64
//  336 result: PA u64, info u64
//  352 fault: kind u32, code u32, address u64, level u32, flags u32, IPA u64
//  384 TLB clock and floors (u32): clock, all, EPT all, guests, per space ×4
//  416 current context (u32): ctx word, ASID, floor, global floor, walk-cache
//      floor, stage-2 floor, micro epoch, chaos countdown, AC kind bit
//  452 latest fills (u32): TLB, global TLB, walk cache;  464 PRNG u64
//  472 EPT slots: EP4TA u64 × EPT_SLOTS, next victim u32
//  …   structure descriptors, counters, walk scratch, allow table, reserved
//      bits, walk trace
export const CPU_CR0: u32 = 0;
export const CPU_CR2: u32 = 8;
export const CPU_CR3: u32 = 16;
export const CPU_CR4: u32 = 24;
export const CPU_EFER: u32 = 32;
export const CPU_RFLAGS: u32 = 40;
export const CPU_PAT: u32 = 48;
export const CPU_PKRU: u32 = 56;

/** AArch64 system registers, u64 each at CPU_ARM + 8 × index. */
export const CPU_ARM: u32 = 64;
export const ARM_SCTLR_EL1: u32 = 0;
export const ARM_TCR_EL1: u32 = 1;
export const ARM_TTBR0_EL1: u32 = 2;
export const ARM_TTBR1_EL1: u32 = 3;
export const ARM_MAIR_EL1: u32 = 4;
export const ARM_PAR_EL1: u32 = 5;
export const ARM_HCR_EL2: u32 = 6;
export const ARM_VTTBR_EL2: u32 = 7;
export const ARM_VTCR_EL2: u32 = 8;
export const ARM_CSSELR_EL1: u32 = 9;
/** PSTATE bits the MMU needs: PAN (bit 22, as in SPSR). */
export const ARM_PSTATE: u32 = 10;
export const ARM_SCTLR_EL2: u32 = 11;
export const ARM_TCR_EL2: u32 = 12;
export const ARM_TTBR0_EL2: u32 = 13;
export const ARM_MAIR_EL2: u32 = 14;
export const ARM_REG_COUNT: u32 = 32;

export const CPU_VPID: u32 = CPU_ARM + ARM_REG_COUNT * 8;
export const CPU_EPTP: u32 = CPU_VPID + 8;

export const CPU_RES_PA: u32 = CPU_EPTP + 8;
export const CPU_RES_INFO: u32 = CPU_RES_PA + 8;
export const CPU_FAULT_KIND: u32 = CPU_RES_INFO + 8;
export const CPU_FAULT_CODE: u32 = CPU_FAULT_KIND + 4;
export const CPU_FAULT_ADDR: u32 = CPU_FAULT_CODE + 4;
export const CPU_FAULT_LEVEL: u32 = CPU_FAULT_ADDR + 8;
/** FAULT_STAGE2 | FAULT_S1PTW | … */
export const CPU_FAULT_FLAGS: u32 = CPU_FAULT_LEVEL + 4;
/** The IPA / guest-physical address of a stage-2 fault. */
export const CPU_FAULT_IPA: u32 = CPU_FAULT_FLAGS + 4;

export const CPU_CLOCK: u32 = CPU_FAULT_IPA + 8;
export const CPU_FLOOR_ALL: u32 = CPU_CLOCK + 4;
/** Entries built through EPT, any EP4TA (INVEPT all-context). */
export const CPU_FLOOR_EPT_ALL: u32 = CPU_FLOOR_ALL + 4;
/** Stage-1 entries of every guest context, VPID/VMID 1 and up (INVVPID all-context). */
export const CPU_FLOOR_GUESTS: u32 = CPU_FLOOR_EPT_ALL + 4;
/** u32 × 4, indexed by SPACE_*. */
export const CPU_FLOOR_SPACE: u32 = CPU_FLOOR_GUESTS + 4;
export const CPU_CUR_CTX: u32 = CPU_FLOOR_SPACE + 16;
export const CPU_CUR_ASID: u32 = CPU_CUR_CTX + 4;
export const CPU_CUR_FLOOR: u32 = CPU_CUR_ASID + 4;
export const CPU_CUR_GLOBAL_FLOOR: u32 = CPU_CUR_FLOOR + 4;
export const CPU_CUR_PSC_FLOOR: u32 = CPU_CUR_GLOBAL_FLOOR + 4;
export const CPU_CUR_S2_FLOOR: u32 = CPU_CUR_PSC_FLOOR + 4;
export const CPU_MICRO_EPOCH: u32 = CPU_CUR_S2_FLOOR + 4;
export const CPU_CHAOS_COUNT: u32 = CPU_MICRO_EPOCH + 4;
export const CPU_AC_KIND: u32 = CPU_CHAOS_COUNT + 4;
/**
 * Clock of the latest fill of a non-global TLB entry, of a global one, and of a
 * walk-cache entry: a probe skips structures that a flush has emptied since.
 */
export const CPU_TLB_LAST_FILL: u32 = CPU_AC_KIND + 4;
export const CPU_TLB_LAST_GLOBAL_FILL: u32 = CPU_TLB_LAST_FILL + 4;
export const CPU_PSC_LAST_FILL: u32 = CPU_TLB_LAST_GLOBAL_FILL + 4;
export const CPU_PRNG: u32 = CPU_PSC_LAST_FILL + 4;
/** EP4TAs of the EPT slots entries are tagged with (slot 0 means "no EPT"). */
export const EPT_SLOTS: u32 = 16;
export const CPU_EPT_SLOTS: u32 = CPU_PRNG + 8;
/** Floor per EPT slot (INVEPT single-context), u32 × EPT_SLOTS. */
export const CPU_EPT_FLOORS: u32 = CPU_EPT_SLOTS + EPT_SLOTS * 8;
export const CPU_EPT_NEXT: u32 = CPU_EPT_FLOORS + EPT_SLOTS * 4;
/** Keys in this CPU's scoped-floor map. */
export const CPU_FLOOR_MAP_COUNT: u32 = CPU_EPT_NEXT + 4;
export const CPU_STRUCTS: u32 = CPU_FLOOR_MAP_COUNT + 8;
export const CPU_COUNTERS: u32 = CPU_STRUCTS + 7 * 32;
export const CPU_WALK_SRC: u32 = CPU_COUNTERS + 48 * 8;
/** Allow table: 32 access kinds × 256 bits. */
export const CPU_ALLOW: u32 = CPU_WALK_SRC + 416;
/** Reserved-bit masks: u64 × (level 0..5) × (PS 0, 1). */
export const CPU_RSVD: u32 = CPU_ALLOW + 32 * 32;
/** Walk trace: (PA u64, descriptor u64) × level 0..5, what the last stage-1 walk read. */
export const CPU_WALK_TRACE: u32 = CPU_RSVD + 12 * 8;
/** Paging mode: levels of the walk (x86: 4 or 5) u32. */
export const CPU_WALK_TOP: u32 = CPU_WALK_TRACE + 6 * 16;
/**
 * What the allow table was last built from (permissions.ts allowKey): a
 * register load that leaves CR0.WP, CR4.SMEP/SMAP/PKE, EFER.NXE and PKRU as
 * they were does not rebuild it. u64; 0 (a fresh block) means never built.
 */
export const CPU_ALLOW_KEY: u32 = (CPU_WALK_TOP + 4 + 7) & ~7;

// ── x86-64 execution state ──────────────────────────────────────────────────
//
// The interpreter's registers. GPRs by register number (RAX RCX RDX RBX RSP
// RBP RSI RDI R8 … R15). The arithmetic flags are lazy: the last operation
// that set them is recorded (X86_LAZY_*) and CF/PF/AF/ZF/SF/OF are worked
// out when something reads them; CPU_RFLAGS holds every other bit, and the
// arithmetic ones too while X86_LAZY_OP is LAZY_NONE.
export const CPU_X86: u32 = CPU_ALLOW_KEY + 8;
export const X86_GPR: u32 = CPU_X86;
export const X86_RIP: u32 = X86_GPR + 16 * 8;
export const X86_LAZY_RES: u32 = X86_RIP + 8;
export const X86_LAZY_A: u32 = X86_LAZY_RES + 8;
export const X86_LAZY_B: u32 = X86_LAZY_A + 8;
/** LAZY_* (0: the flags are in CPU_RFLAGS). */
export const X86_LAZY_OP: u32 = X86_LAZY_B + 8;
/** Operand size of the lazy operation in bytes. */
export const X86_LAZY_SIZE: u32 = X86_LAZY_OP + 4;
/** Current privilege level, 0 or 3. */
export const X86_CPL: u32 = X86_LAZY_SIZE + 4;
/** HLT executed and no interrupt taken since. */
export const X86_HALTED: u32 = X86_CPL + 4;
/** Instructions left in the STI / MOV SS interrupt shadow (1 right after STI). */
export const X86_SHADOW: u32 = X86_HALTED + 4;
/** The CPU stopped (triple fault, bus error): it runs no more. */
export const X86_STOPPED: u32 = X86_SHADOW + 4;
/** Segment selectors CS, SS, DS, ES, FS, GS (u16 each). */
export const X86_SEL: u32 = X86_STOPPED + 4;
export const SEL_CS: u32 = 0;
export const SEL_SS: u32 = 1;
export const SEL_DS: u32 = 2;
export const SEL_ES: u32 = 3;
export const SEL_FS: u32 = 4;
export const SEL_GS: u32 = 5;
export const X86_FS_BASE: u32 = X86_SEL + 16;
export const X86_GS_BASE: u32 = X86_FS_BASE + 8;
export const X86_KERNEL_GS_BASE: u32 = X86_GS_BASE + 8;
export const X86_GDTR_BASE: u32 = X86_KERNEL_GS_BASE + 8;
export const X86_IDTR_BASE: u32 = X86_GDTR_BASE + 8;
export const X86_GDTR_LIMIT: u32 = X86_IDTR_BASE + 8;
export const X86_IDTR_LIMIT: u32 = X86_GDTR_LIMIT + 4;
/** Task register selector (u32) and the 64-bit TSS base LTR loaded. */
export const X86_TR: u32 = X86_IDTR_LIMIT + 4;
export const X86_TSS_BASE: u32 = X86_TR + 8;
export const X86_STAR: u32 = X86_TSS_BASE + 8;
export const X86_LSTAR: u32 = X86_STAR + 8;
export const X86_CSTAR: u32 = X86_LSTAR + 8;
export const X86_FMASK: u32 = X86_CSTAR + 8;
/** IA32_APIC_BASE. */
export const X86_APIC_BASE: u32 = X86_FMASK + 8;
/** IA32_TSC_AUX (RDTSCP) and spare. */
export const X86_TSC_AUX: u32 = X86_APIC_BASE + 8;
/** Instructions retired and modelled cycles (the TSC reads the cycles). */
export const X86_INSTRUCTIONS: u32 = X86_TSC_AUX + 8;
export const X86_CYCLES: u32 = X86_INSTRUCTIONS + 8;

/** Why x86Run returned (EXIT_*), and what TypeScript needs to act on it. */
export const X86_EXIT_REASON: u32 = X86_CYCLES + 8;
/** I/O exits: port, size in bytes, 1 for OUT. */
export const X86_EXIT_PORT: u32 = X86_EXIT_REASON + 4;
export const X86_EXIT_SIZE: u32 = X86_EXIT_PORT + 4;
export const X86_EXIT_WRITE: u32 = X86_EXIT_SIZE + 4;
/** OUT: the value written. Triple fault / bus error: the address involved. */
export const X86_EXIT_VALUE: u32 = X86_EXIT_WRITE + 4;
/** RIP of the instruction that caused the exit (before it, for a crash). */
export const X86_EXIT_RIP: u32 = X86_EXIT_VALUE + 8;
/** Crash detail: the exception vectors that led to a triple fault (first | second << 8 | third << 16). */
export const X86_EXIT_DETAIL: u32 = X86_EXIT_RIP + 8;

/** Exception being delivered: depth (0 none, 1 first, 2 #DF), and the vector of the first. */
export const X86_DELIVERY_DEPTH: u32 = X86_EXIT_DETAIL + 8;
export const X86_DELIVERY_VECTOR: u32 = X86_DELIVERY_DEPTH + 4;
/** The fetch window: the page RIP is in, its PA and host address, the micro epoch it was made in. */
export const X86_FETCH_VA: u32 = X86_DELIVERY_VECTOR + 4;
export const X86_FETCH_PA: u32 = X86_FETCH_VA + 8;
export const X86_FETCH_HOST: u32 = X86_FETCH_PA + 8;
export const X86_FETCH_EPOCH: u32 = X86_FETCH_HOST + 8;
/** The access kind the window was made for (CPL changes it). */
export const X86_FETCH_KIND: u32 = X86_FETCH_EPOCH + 4;

// The local x2APIC.
export const X86_APIC_ID: u32 = X86_FETCH_KIND + 4;
export const X86_APIC_SVR: u32 = X86_APIC_ID + 4;
export const X86_APIC_TPR: u32 = X86_APIC_SVR + 4;
export const X86_APIC_LVT_TIMER: u32 = X86_APIC_TPR + 4;
export const X86_APIC_INIT_COUNT: u32 = X86_APIC_LVT_TIMER + 4;
export const X86_APIC_DIVIDE: u32 = X86_APIC_INIT_COUNT + 4;
export const X86_APIC_ESR: u32 = X86_APIC_DIVIDE + 4;
export const X86_APIC_LVT_OTHER: u32 = X86_APIC_ESR + 4;
/** Cycle count at which the timer next fires (u64, ~0 when stopped), and when it was started. */
export const X86_APIC_DEADLINE: u32 = X86_APIC_LVT_OTHER + 4;
export const X86_APIC_STARTED: u32 = X86_APIC_DEADLINE + 8;
export const X86_APIC_ICR: u32 = X86_APIC_STARTED + 8;
/** 256-bit vectors: requested, in service, and requested by an IPI (for the counters). */
export const X86_APIC_IRR: u32 = X86_APIC_ICR + 8;
export const X86_APIC_ISR: u32 = X86_APIC_IRR + 32;
export const X86_APIC_FROM_IPI: u32 = X86_APIC_ISR + 32;
/** Non-zero when something may need the CPU's attention before the next instruction (an interrupt, the timer). */
export const X86_EVENTS: u32 = X86_APIC_FROM_IPI + 32;
/** Breakpoint addresses (linear RIP), X86_BREAKPOINT_MAX of them, unused ones ~0. */
export const X86_BREAKPOINT_COUNT: u32 = X86_EVENTS + 4;
export const X86_BREAKPOINTS: u32 = X86_BREAKPOINT_COUNT + 4;
export const X86_BREAKPOINT_MAX: u32 = 16;
/** 1 + the RIP of this CPU's last breakpoint exit, whose breakpoint the next run steps over; 0 when none. */
export const X86_RESUME_FROM: u32 = X86_BREAKPOINTS + X86_BREAKPOINT_MAX * 8;

// Guest mode (VMX non-root operation; emulator/hw/x86/guest/): the controls a
// hypervisor sets, the VM-exit information fields the last VM exit wrote, and
// the event to inject at the next run (the VM-entry interruption fields).
//
//    0 mode u32 (1: guest)   4 controls u32 (GC_*)   8 exception bitmap u32
//   12 exiting u32, 16 exceptions exiting u32: the controls and the bitmap
//      while in guest mode, 0 in host mode (what the instruction sites test)
//   20 exit reason u32 (VMX_EXIT_*)
//   24 exit qualification u64   32 guest-linear address u64
//   40 guest-physical address u64
//   48 exit interruption info u32, error code u32
//   56 IDT-vectoring info u32, error code u32
//   64 exit instruction length u32, instruction info u32
//   72 entry interruption info u32, error code u32
//   80 entry instruction length u32, write CR2 u32   88 CR2 to write u64
//   96 the event being delivered through the IDT (interruption info u32,
//      error code u32): the IDT-vectoring information of an exit during it
export const X86_GUEST: u32 = X86_RESUME_FROM + 8;
export const X86_GUEST_MODE: u32 = X86_GUEST;
export const X86_GUEST_CONTROLS: u32 = X86_GUEST_MODE + 4;
export const X86_GUEST_EXCEPTION_BITMAP: u32 = X86_GUEST_CONTROLS + 4;
export const X86_GUEST_EXITING: u32 = X86_GUEST_EXCEPTION_BITMAP + 4;
export const X86_GUEST_EXCEPTIONS_EXITING: u32 = X86_GUEST_EXITING + 4;
export const X86_VMEXIT_REASON: u32 = X86_GUEST_EXCEPTIONS_EXITING + 4;
export const X86_VMEXIT_QUALIFICATION: u32 = X86_VMEXIT_REASON + 4;
export const X86_VMEXIT_GUEST_LINEAR: u32 = X86_VMEXIT_QUALIFICATION + 8;
export const X86_VMEXIT_GUEST_PHYSICAL: u32 = X86_VMEXIT_GUEST_LINEAR + 8;
export const X86_VMEXIT_INTR_INFO: u32 = X86_VMEXIT_GUEST_PHYSICAL + 8;
export const X86_VMEXIT_INTR_ERROR: u32 = X86_VMEXIT_INTR_INFO + 4;
export const X86_VMEXIT_IDT_VECTORING: u32 = X86_VMEXIT_INTR_ERROR + 4;
export const X86_VMEXIT_IDT_VECTORING_ERROR: u32 = X86_VMEXIT_IDT_VECTORING + 4;
export const X86_VMEXIT_INSTRUCTION_LENGTH: u32 = X86_VMEXIT_IDT_VECTORING_ERROR + 4;
export const X86_VMEXIT_INSTRUCTION_INFO: u32 = X86_VMEXIT_INSTRUCTION_LENGTH + 4;
export const X86_ENTRY_INTR_INFO: u32 = X86_VMEXIT_INSTRUCTION_INFO + 4;
export const X86_ENTRY_INTR_ERROR: u32 = X86_ENTRY_INTR_INFO + 4;
export const X86_ENTRY_INSTRUCTION_LENGTH: u32 = X86_ENTRY_INTR_ERROR + 4;
export const X86_ENTRY_WRITE_CR2: u32 = X86_ENTRY_INSTRUCTION_LENGTH + 4;
export const X86_ENTRY_CR2: u32 = X86_ENTRY_WRITE_CR2 + 4;
export const X86_DELIVERING_INFO: u32 = X86_ENTRY_CR2 + 8;
export const X86_DELIVERING_ERROR: u32 = X86_DELIVERING_INFO + 4;
export const X86_END: u32 = X86_DELIVERING_ERROR + 4;

/** Guest-mode controls (X86_GUEST_CONTROLS), after the VM-execution controls of SDM Vol.3C 25.6.2. */
export const GC_HLT_EXITING: u32 = 1 << 0;
export const GC_INVLPG_EXITING: u32 = 1 << 1;
export const GC_INVPCID_EXITING: u32 = 1 << 2;
export const GC_CR3_LOAD_EXITING: u32 = 1 << 3;
/** Every MOV to CR0 exits (a CR0 guest/host mask of all ones whose read shadow never matches). */
export const GC_CR0_EXITING: u32 = 1 << 4;
export const GC_CR4_EXITING: u32 = 1 << 5;
/** Every RDMSR / WRMSR exits ("use MSR bitmaps" = 0). */
export const GC_RDMSR_EXITING: u32 = 1 << 6;
export const GC_WRMSR_EXITING: u32 = 1 << 7;
/** Unconditional I/O exiting: every IN and OUT. */
export const GC_IO_EXITING: u32 = 1 << 8;
export const GC_VMCALL_EXITING: u32 = 1 << 9;
/** External-interrupt exiting, with "acknowledge interrupt on exit" (Xen always sets both). */
export const GC_EXTERNAL_INTERRUPT_EXITING: u32 = 1 << 10;
/** RFLAGS.IF is the vCPU's virtual IF: CLI, STI, POPF and IRETQ change it at any privilege. */
export const GC_VIRTUAL_IF: u32 = 1 << 11;
/**
 * CPUID exits. In VMX non-root operation CPUID exits unconditionally (SDM
 * Vol.3C 26.1.2); here it is a control so that a PV guest, which Xen lets
 * run CPUID natively, keeps doing so.
 */
export const GC_CPUID_EXITING: u32 = 1 << 12;
export const GC_ALL: u32 = (1 << 13) - 1;

/** Basic exit reasons (SDM Vol.3C Appendix C). */
export const VMX_EXIT_EXCEPTION_NMI: u32 = 0;
export const VMX_EXIT_EXTERNAL_INTERRUPT: u32 = 1;
export const VMX_EXIT_TRIPLE_FAULT: u32 = 2;
export const VMX_EXIT_CPUID: u32 = 10;
export const VMX_EXIT_HLT: u32 = 12;
export const VMX_EXIT_INVLPG: u32 = 14;
export const VMX_EXIT_VMCALL: u32 = 18;
export const VMX_EXIT_CR_ACCESS: u32 = 28;
export const VMX_EXIT_IO_INSTRUCTION: u32 = 30;
export const VMX_EXIT_RDMSR: u32 = 31;
export const VMX_EXIT_WRMSR: u32 = 32;
export const VMX_EXIT_EPT_VIOLATION: u32 = 48;
export const VMX_EXIT_EPT_MISCONFIG: u32 = 49;
export const VMX_EXIT_INVPCID: u32 = 58;

/** Interruption-information fields (SDM Vol.3C 25.8.3, 25.9.2, 25.9.3): vector 7:0, type 10:8, error code valid 11, valid 31. */
export const INTR_INFO_VECTOR_MASK: u32 = 0xFF;
export const INTR_INFO_TYPE_SHIFT: u32 = 8;
export const INTR_INFO_DELIVER_CODE: u32 = 1 << 11;
export const INTR_INFO_VALID: u32 = 1 << 31;
export const INTR_TYPE_EXTERNAL_INTERRUPT: u32 = 0;
export const INTR_TYPE_HARDWARE_EXCEPTION: u32 = 3;
export const INTR_TYPE_SOFTWARE_INTERRUPT: u32 = 4;
export const INTR_TYPE_SOFTWARE_EXCEPTION: u32 = 6;

// ── A64 execution state ─────────────────────────────────────────────────────
//
// The A64 interpreter's registers (emulator/hw/arm/cpu/). PSTATE is kept in
// SPSR_ELx format (DDI0487 C5.2.18): NZCV 31:28, PAN 22, IL 20, D A I F 9:6,
// M[3:0] = EL << 2 | SPSel; its PAN bit is mirrored into ARM_PSTATE, which the
// MMU reads. The exception registers of EL2 exist so that the state a
// hypervisor reads after a trap exit is where the architecture puts it.
export const CPU_A64: u32 = (X86_END + 7) & ~7;
/** X0 … X30, u64 each. */
export const A64_X: u32 = CPU_A64;
export const A64_SP_EL0: u32 = A64_X + 31 * 8;
export const A64_SP_EL1: u32 = A64_SP_EL0 + 8;
export const A64_PC: u32 = A64_SP_EL1 + 8;
export const A64_PSTATE: u32 = A64_PC + 8;
export const A64_ELR_EL1: u32 = A64_PSTATE + 8;
export const A64_SPSR_EL1: u32 = A64_ELR_EL1 + 8;
export const A64_ESR_EL1: u32 = A64_SPSR_EL1 + 8;
export const A64_FAR_EL1: u32 = A64_ESR_EL1 + 8;
export const A64_VBAR_EL1: u32 = A64_FAR_EL1 + 8;
export const A64_ESR_EL2: u32 = A64_VBAR_EL1 + 8;
export const A64_FAR_EL2: u32 = A64_ESR_EL2 + 8;
export const A64_HPFAR_EL2: u32 = A64_FAR_EL2 + 8;
export const A64_ELR_EL2: u32 = A64_HPFAR_EL2 + 8;
export const A64_SPSR_EL2: u32 = A64_ELR_EL2 + 8;
export const A64_VBAR_EL2: u32 = A64_SPSR_EL2 + 8;
/** Registers that only hold what software wrote (A64_PLAIN_COUNT × u64, index PLAIN_*). */
export const A64_PLAIN: u32 = A64_VBAR_EL2 + 8;
export const PLAIN_TPIDR_EL0: u32 = 0;
export const PLAIN_TPIDRRO_EL0: u32 = 1;
export const PLAIN_TPIDR_EL1: u32 = 2;
export const PLAIN_CONTEXTIDR_EL1: u32 = 3;
export const PLAIN_CPACR_EL1: u32 = 4;
export const PLAIN_AMAIR_EL1: u32 = 5;
export const PLAIN_ACTLR_EL1: u32 = 6;
export const PLAIN_AFSR0_EL1: u32 = 7;
export const PLAIN_AFSR1_EL1: u32 = 8;
export const PLAIN_MDSCR_EL1: u32 = 9;
export const PLAIN_TPIDR_EL2: u32 = 10;
export const PLAIN_VPIDR_EL2: u32 = 11;
export const PLAIN_VMPIDR_EL2: u32 = 12;
export const PLAIN_CPTR_EL2: u32 = 13;
export const PLAIN_MDCR_EL2: u32 = 14;
export const PLAIN_HSTR_EL2: u32 = 15;
export const A64_PLAIN_COUNT: u32 = 16;
/** MPIDR_EL1 (set by the host at power-on; 0x8000_0000 | CPU index). */
export const A64_MPIDR: u32 = A64_PLAIN + A64_PLAIN_COUNT * 8;
/** The exclusive monitor: the PA of the reservation granule held (64 bytes), A64_EXCL_NONE when open. */
export const A64_EXCL_PA: u32 = A64_MPIDR + 8;
/** Instructions retired and modelled cycles (CNTVCT_EL0 reads the cycles). */
export const A64_INSTRUCTIONS: u32 = A64_EXCL_PA + 8;
export const A64_CYCLES: u32 = A64_INSTRUCTIONS + 8;
/** Why a64Run returned (EXIT_*), and what TypeScript needs to act on it. */
export const A64_EXIT_REASON: u32 = A64_CYCLES + 8;
/** MMIO: access size in bytes; 1 for a write. */
export const A64_EXIT_SIZE: u32 = A64_EXIT_REASON + 4;
export const A64_EXIT_WRITE: u32 = A64_EXIT_SIZE + 4;
/** MMIO read: destination register | MMIO_SIGNED | MMIO_W (written when the host completes the read). Trap: TRAP_*. */
export const A64_EXIT_DETAIL: u32 = A64_EXIT_WRITE + 4;
/** MMIO / bus error: the physical address. Exception loop: the vector address. Trap on an abort: the IPA. */
export const A64_EXIT_ADDRESS: u32 = A64_EXIT_DETAIL + 4;
/** MMIO write: the value. HVC/SMC: the immediate. */
export const A64_EXIT_VALUE: u32 = A64_EXIT_ADDRESS + 8;
/** The address of the instruction that caused the exit. */
export const A64_EXIT_PC: u32 = A64_EXIT_VALUE + 8;
/** Trap and exception loop: the syndrome (ESR_ELx). */
export const A64_EXIT_ESR: u32 = A64_EXIT_PC + 8;
/** The CPU is powered off (1) or stopped by a bus error or an exception loop (2): it runs no more. */
export const A64_OFF: u32 = A64_EXIT_ESR + 8;
/** The event register of WFE/SEV (DDI0487 D1.6.1). */
export const A64_EVENT: u32 = A64_OFF + 4;
/** Asleep in WFI (A64_WAIT_WFI) or WFE (A64_WAIT_WFE) until something wakes it, else 0. */
export const A64_WAITING: u32 = A64_EVENT + 4;
/** Breakpoint addresses, A64_BREAKPOINT_MAX of them. */
export const A64_BREAKPOINT_COUNT: u32 = A64_WAITING + 4;
export const A64_BREAKPOINTS: u32 = A64_BREAKPOINT_COUNT + 4;
export const A64_BREAKPOINT_MAX: u32 = 16;
/** Synchronous exceptions taken, by exception class (64 × u64), and exits by reason (16 × u64). */
export const A64_CNT_EC: u32 = A64_BREAKPOINTS + A64_BREAKPOINT_MAX * 8;
export const A64_CNT_EXIT: u32 = A64_CNT_EC + 64 * 8;
/**
 * The last synchronous fault taken (PC and syndrome) since the last ERET,
 * A64_NO_FAULT when none: the same fault at the same PC again with no ERET in
 * between can only repeat for ever (an exception loop).
 */
export const A64_LAST_FAULT_PC: u32 = A64_CNT_EXIT + 16 * 8;
export const A64_LAST_FAULT_ESR: u32 = A64_LAST_FAULT_PC + 8;
/** 1 + the PC of this CPU's last breakpoint exit, which its next run starts at without stopping again; 0 when none. */
export const A64_RESUME_FROM: u32 = A64_LAST_FAULT_ESR + 8;
export const A64_END: u32 = A64_RESUME_FROM + 8;
export const A64_NO_FAULT: u64 = u64.MAX_VALUE;
export const A64_WAIT_WFI: u32 = 1;
export const A64_WAIT_WFE: u32 = 2;

/** A64_EXCL_PA when the monitor is open (holds no address). */
export const A64_EXCL_NONE: u64 = u64.MAX_VALUE;
/** A64_EXIT_DETAIL of an MMIO read: sign-extend the value; the destination is a W register. */
export const MMIO_SIGNED: u32 = 0x100;
export const MMIO_W: u32 = 0x200;
/** The access writes its base register back (pre- or post-index): a stage-2 abort of it has no instruction syndrome (ISV = 0). */
export const MMIO_WB: u32 = 0x400;
/** A64_EXIT_DETAIL of a trap exit. */
export const TRAP_SYSREG: u32 = 1;
export const TRAP_SET_WAY: u32 = 2;
export const TRAP_WFI: u32 = 3;
/** A stage-2 abort (HCR_EL2.VM): the hypervisor's to handle; A64_EXIT_ADDRESS holds the IPA. */
export const TRAP_ABORT: u32 = 4;

export const CPU_SIZE: u32 = (A64_END + 63) & ~63;

/** Lazy flag operations (X86_LAZY_OP). */
export const LAZY_NONE: u32 = 0;
export const LAZY_ADD: u32 = 1;
export const LAZY_SUB: u32 = 2;
export const LAZY_LOGIC: u32 = 3;
export const LAZY_INC: u32 = 4;
export const LAZY_DEC: u32 = 5;
export const LAZY_NEG: u32 = 6;

/** Why x86Run returned. */
/** The instruction budget is used up. */
export const EXIT_BUDGET: u32 = 1;
/** HLT: nothing to run until an interrupt arrives. */
export const EXIT_HLT: u32 = 2;
/** IN or OUT: X86_EXIT_PORT/SIZE/WRITE/VALUE say which; RIP is past the instruction. For IN, TypeScript writes the value into RAX. */
export const EXIT_IO: u32 = 3;
/** VMCALL; RIP is past the instruction. */
export const EXIT_VMCALL: u32 = 4;
/** A fault while delivering #DF: the CPU is stopped. */
export const EXIT_TRIPLE_FAULT: u32 = 5;
/** An access outside RAM (a page walk or an instruction's own access): the CPU is stopped. */
export const EXIT_BUS_ERROR: u32 = 6;
/** RIP reached a breakpoint; the instruction there has not run. */
export const EXIT_BREAKPOINT: u32 = 7;
/** The CPU was stopped before (triple fault, bus error): it does nothing. */
export const EXIT_STOPPED: u32 = 8;
/** A64: WFI or WFE with nothing to wake the CPU; PC is past it. */
export const EXIT_WFI: u32 = 9;
/** A64: HVC / SMC; PC is past it, A64_EXIT_VALUE holds the immediate. */
export const EXIT_HVC: u32 = 10;
export const EXIT_SMC: u32 = 11;
/** A64: a single-register load or store to a PA that is neither RAM nor GIC; PC is past it. */
export const EXIT_MMIO: u32 = 12;
/** A64: an operation HCR_EL2 traps to EL2 (TRAP_* in A64_EXIT_DETAIL); PC is at it. */
export const EXIT_TRAP: u32 = 13;
/** A64: a synchronous exception at the vector it would be taken to: the CPU is stopped. */
export const EXIT_EXCEPTION_LOOP: u32 = 14;
/** A64: the CPU is powered off. */
export const EXIT_OFF: u32 = 15;
/** x86-64 in guest mode (or under EPT): a VM exit; X86_VMEXIT_* say why, guest state is as the SDM leaves it. */
export const EXIT_VMEXIT: u32 = 16;

/** Translation spaces: what an entry maps. */
/** Stage 1 (or combined stage 1+2): VA → PA. */
export const SPACE_S1: u32 = 0;
/** Stage 2 only: IPA / guest-physical → PA. */
export const SPACE_S2: u32 = 1;
/** The AArch64 EL2 regime. */
export const SPACE_EL2: u32 = 2;

/** Fault flags. */
export const FAULT_STAGE2: u32 = 1;
/** The stage-2 fault happened on a stage-1 table walk. */
export const FAULT_S1PTW: u32 = 2;

/**
 * Structure descriptor (u32 each): base, set mask, ways, lg of the region an
 * entry maps, sources base, and the bytes of one set (ways · ENTRY_SIZE).
 */
export const DESC_BASE: u32 = 0;
export const DESC_SET_MASK: u32 = 4;
export const DESC_WAYS: u32 = 8;
export const DESC_SHIFT: u32 = 12;
export const DESC_SRC: u32 = 16;
export const DESC_SET_BYTES: u32 = 20;
/** The clock at the structure's last fill: below CPU_FLOOR_ALL, it holds nothing live. */
export const DESC_LAST_FILL: u32 = 24;
export const DESC_SIZE: u32 = 32;

// ── Counters (u64 each, per CPU) ─────────────────────────────────────────────
//
// Each counter's @counter tag is its name in the TypeScript API
// (Counters in emulator/machine/counters.ts, generated from these tags).
/** @counter tlbHits */
export const CNT_TLB_HIT: u32 = 0;
/** @counter tlbMisses */
export const CNT_TLB_MISS: u32 = 1;
/** Descriptor reads of every walk, stage 2 included. @counter walkReads */
export const CNT_WALK_READ: u32 = 2;
/** @counter pagingStructureCacheHits */
export const CNT_PSC_HIT: u32 = 3;
/** @counter pageFaults */
export const CNT_PAGE_FAULT: u32 = 4;
/** @counter invlpg */
export const CNT_INVLPG: u32 = 5;
/** @counter invpcidAddress */
export const CNT_INVPCID_ADDR: u32 = 6;
/** @counter invpcidSingleContext */
export const CNT_INVPCID_SINGLE: u32 = 7;
/** @counter invpcidAllIncludingGlobal */
export const CNT_INVPCID_ALL_GLOBAL: u32 = 8;
/** @counter invpcidAllExcludingGlobal */
export const CNT_INVPCID_ALL: u32 = 9;
/** @counter cr3Flush */
export const CNT_CR3_FLUSH: u32 = 10;
/** @counter cr3NoFlush */
export const CNT_CR3_NOFLUSH: u32 = 11;
/** @counter flushAll */
export const CNT_FLUSH_ALL: u32 = 12;
/** @counter flushPcid */
export const CNT_FLUSH_PCID: u32 = 13;
/** @counter faultInvalidations */
export const CNT_FAULT_INVAL: u32 = 14;
/** @counter evictions */
export const CNT_EVICT: u32 = 15;
/** @counter chaosEvictions */
export const CNT_CHAOS_EVICT: u32 = 16;
/** @counter accessedDirtyWrites */
export const CNT_AD_WRITE: u32 = 17;
/** @counter staleUses */
export const CNT_STALE_USE: u32 = 18;
/** @counter busErrors */
export const CNT_BUS_ERROR: u32 = 19;
/** @counter dirtyRewalks */
export const CNT_DIRTY_REWALK: u32 = 20;
/** Reads of stage-2 descriptors (a subset of CNT_WALK_READ). @counter stage2WalkReads */
export const CNT_S2_WALK_READ: u32 = 21;
/** @counter stage2TlbHits */
export const CNT_S2_TLB_HIT: u32 = 22;
/** @counter invept */
export const CNT_INVEPT: u32 = 23;
/** @counter invvpid */
export const CNT_INVVPID: u32 = 24;
/** TLBI operations this CPU executed, and those it received from another CPU's broadcast. @counter tlbi */
export const CNT_TLBI: u32 = 25;
/** @counter tlbiReceived */
export const CNT_TLBI_RECEIVED: u32 = 26;
/** @counter floorMapOverflows */
export const CNT_FLOOR_MAP_OVERFLOW: u32 = 27;
/** @counter cacheHits */
export const CNT_CACHE_HIT: u32 = 28;
/** @counter cacheMisses */
export const CNT_CACHE_MISS: u32 = 29;
/** @counter cacheWritebacks */
export const CNT_CACHE_WRITEBACK: u32 = 30;
/** @counter dcSetWay */
export const CNT_DC_SETWAY: u32 = 31;
/** @counter dcByAddress */
export const CNT_DC_VA: u32 = 32;
/** @counter uncachedAccesses */
export const CNT_UNCACHED: u32 = 33;
/** @counter icInvalidations */
export const CNT_IC_INVAL: u32 = 34;
/** x86 CPU: exceptions and interrupts delivered, IPIs sent and taken, exits by reason. @counter exceptions */
export const CNT_EXCEPTION: u32 = 35;
/** @counter interrupts */
export const CNT_INTERRUPT: u32 = 36;
/** @counter ipisSent */
export const CNT_IPI_SENT: u32 = 37;
/** @counter ipisTaken */
export const CNT_IPI_TAKEN: u32 = 38;
/** @counter ioExits */
export const CNT_EXIT_IO: u32 = 39;
/** @counter hltExits */
export const CNT_EXIT_HLT: u32 = 40;
/** @counter vmcallExits */
export const CNT_EXIT_VMCALL: u32 = 41;
/**
 * Decoded-instruction cache misses (on AArch64, of instructions fetched
 * through the fetch window), and writes to code that made decoded
 * instructions stale (x86-64: flushes of the whole cache; AArch64: stores
 * that overwrote a decoded word; on both, host writes to code). @counter decodes
 */
export const CNT_DECODE: u32 = 42;
/** @counter codeWriteFlushes */
export const CNT_SMC_FLUSH: u32 = 43;
export const COUNTER_COUNT: u32 = 48;

// ── Entry of every translation structure (TLB and paging-structure cache) ─────
//
//   0 tag u64    VA of the region's base (canonical; low `shift` bits clear)
//   8 out u64    TLB: frame PA | info bits (as the micro-TLB data word);
//                PSC: next table's PA
//  16 stamp u32  TLB clock at fill; the entry is live while stamp >= its floor
//  20 pcid u16   22 attrs u8 (ATTR_*)   23 flags u8 (EF_*)
//                (bytes 16..23 are written by a fill as one u64)
//  24 victim u32 (way 0 only: the set's next victim)
//  28 context word u32: VPID/VMID (16) | space (8) << 16 | EPT slot (8) << 24
export const ENTRY_SIZE: u32 = 32;
export const E_TAG: u32 = 0;
export const E_OUT: u32 = 8;
export const E_STAMP: u32 = 16;
export const E_PCID: u32 = 20;
export const E_ATTRS: u32 = 22;
export const E_FLAGS: u32 = 23;
export const E_VICTIM: u32 = 24;
export const E_CTX: u32 = 28;

/** Is this TLB entry global (G=1 with CR4.PGE=1 when filled)? */
export const EF_GLOBAL: u8 = 1;
/** Has the detector already reported this entry as stale? */
export const EF_REPORTED: u8 = 2;
/** Guest annotations (common/annotate.ts): was the table this entry points at, or one its sources sit in, freed since the fill? */
export const EF_ANNOT_TABLE: u8 = 4;
/** Was a frame this user-accessible TLB entry maps freed since the fill? */
export const EF_ANNOT_FRAME: u8 = 8;
/** With EF_ANNOT_TABLE: flagged through a source descriptor, whose PFN the source record keeps at byte 28. */
export const EF_ANNOT_SOURCE: u8 = 16;

/**
 * Detector sources per entry: count u32, a level byte per source (bit 7 set
 * for a stage-2 descriptor), at byte 28 the PFN of a freed table the entry was
 * built from (guest annotations, EF_ANNOT_SOURCE), then SRC_MAX × (PA u64,
 * value u64).
 */
export const SRC_MAX: u32 = 24;
export const SRC_PAIRS: u32 = 32;
export const SRC_SIZE: u32 = SRC_PAIRS + SRC_MAX * 16;
export const SRC_STAGE2: u32 = 0x80;

// ── Micro-TLB entry (16 bytes): tag = VA page | epoch (12 bits); data word ─────
//
//  data: bits 51:12 frame PA of this 4 KiB fragment, 7:0 ATTR_*,
//        10:8 PAT index, 11 global, 53:52 page size (0 4K, 1 2M, 2 1G)
export const MICRO_ENTRY_SIZE: u32 = 16;
export const INFO_PAT_SHIFT: u32 = 8;
export const INFO_GLOBAL: u64 = 1 << 11;
export const INFO_SIZE_SHIFT: u32 = 52;

// ── Event record ─────────────────────────────────────────────────────────────
//   0 kind u32  4 cpu u32  8 va u64  16 source PA u64  24 cached value u64
//  32 current value u64  40 level u32  44 pcid u32  48 sequence u64
export const EVENT_STALE_TLB: u32 = 1;
export const EVENT_STALE_PSC: u32 = 2;
/**
 * A non-cacheable read returned RAM's value while a cache held a newer one
 * (FEATURE_STALE_READS). Its record reuses the fields: source PA = the PA
 * read, cached value = the latest value (the cache's copy), current value =
 * the value read (RAM's), level = where the latest copy sits (a CPU index
 * for that CPU's L1, 0xFFFFFFFF for the system cache), pcid = the access
 * size in bytes.
 */
export const EVENT_STALE_READ: u32 = 3;
/**
 * Guest-annotation events (common/annotate.ts): (a) a walker's load from a
 * frame freed during its section, (b) a walk-cache or TLB entry used after a
 * table it was built from was freed, (c) a user TLB entry used after the
 * frame it maps was freed. Fields: source PA = the freed frame, cached value
 * = the CPU that freed it, current value = the decision at which it did
 * (0xFFFFFFFF for both when no longer known), level = the decision at which
 * the walker section began for (a), the structure (STRUCT_*) for (b) and (c).
 */
export const EVENT_ANNOT_LOAD: u32 = 4;
export const EVENT_ANNOT_TABLE: u32 = 5;
export const EVENT_ANNOT_FRAME: u32 = 6;

// ── GICv3 and generic timer (AArch64; emulator/hw/arm/gic.ts, timer.ts) ─────
//
// Kept apart from the CPU block: the interrupt controller is a device every
// CPU reaches (an SGI writes the target's redistributor state directly).
// Interrupt state is one bit per INTID in u32 words, as the GICR_/GICD_
// registers that show it.
//
// Distributor block (gicDist), GICD_NUM_IRQ INTIDs (QEMU virt: 256 SPIs):
//    0 GICD_CTLR u32        4 spare
//    8 bitmaps, GICD_WORDS × u32 each: group, enable, pending latch, active,
//      edge-triggered (ICFGR Int_config<1>)
//    …  IPRIORITYR, one byte per INTID;  IROUTER, u64 per INTID
export const GICD_NUM_IRQ: u32 = 288;
export const GICD_WORDS: u32 = GICD_NUM_IRQ / 32;
export const GICD_CTLR_FIELD: u32 = 0;
export const GICD_GROUP: u32 = 8;
export const GICD_ENABLE: u32 = GICD_GROUP + GICD_WORDS * 4;
export const GICD_PEND: u32 = GICD_ENABLE + GICD_WORDS * 4;
export const GICD_ACTIVE: u32 = GICD_PEND + GICD_WORDS * 4;
export const GICD_EDGE: u32 = GICD_ACTIVE + GICD_WORDS * 4;
export const GICD_PRIO: u32 = GICD_EDGE + GICD_WORDS * 4;
export const GICD_ROUTE: u32 = (GICD_PRIO + GICD_NUM_IRQ + 7) & ~7;
export const GICD_SIZE: u32 = (GICD_ROUTE + GICD_NUM_IRQ * 8 + 63) & ~63;

// GIC block of one CPU (gicBlocks + cpu × GIC_CPU_SIZE):
//    0 redistributor (u32 each): WAKER, IGROUPR0, enable, pending latch,
//      active, edge-triggered (ICFGR0/1), input level (the timer PPIs, as
//      last sampled)
//   28 CPU interface (u32 each): PMR, BPR0, BPR1, CTLR (CBPR, EOImode),
//      IGRPEN0, IGRPEN1, AP0R0, AP1R0
//   60 spare;  64 IPRIORITYR0–7, one byte per INTID 0–31
//   96 generic timer: CNTV_CTL, CNTP_CTL, CNTKCTL u32, CNTFRQ u32;
//      CNTV_CVAL, CNTP_CVAL u64
export const GICR_WAKER_FIELD: u32 = 0;
export const GICR_GROUP: u32 = 4;
export const GICR_ENABLE: u32 = 8;
export const GICR_PEND: u32 = 12;
export const GICR_ACTIVE: u32 = 16;
export const GICR_EDGE: u32 = 20;
export const GICR_LEVEL: u32 = 24;
export const GICC_PMR: u32 = 28;
export const GICC_BPR0: u32 = 32;
export const GICC_BPR1: u32 = 36;
export const GICC_CTLR: u32 = 40;
export const GICC_IGRPEN0: u32 = 44;
export const GICC_IGRPEN1: u32 = 48;
export const GICC_AP0R0: u32 = 52;
export const GICC_AP1R0: u32 = 56;
export const GICR_PRIO: u32 = 64;
export const TIMER_CNTV_CTL: u32 = 96;
export const TIMER_CNTP_CTL: u32 = 100;
export const TIMER_CNTKCTL: u32 = 104;
export const TIMER_CNTFRQ: u32 = 108;
export const TIMER_CNTV_CVAL: u32 = 112;
export const TIMER_CNTP_CVAL: u32 = 120;
export const GIC_CPU_SIZE: u32 = 128;

// ── Region bases, set by init() ──────────────────────────────────────────────
export let cfgBase: usize = 0;
export let usageRecord: usize = 0;
export let ramTable: usize = 0;
export let eventRing: usize = 0;
export let cpuBlocks: usize = 0;
export let gicDist: usize = 0;
export let gicBlocks: usize = 0;
export let pageState: usize = 0;
export let cpuArrays: usize = 0;
export let cpuArraysSize: usize = 0;
export let systemCache: usize = 0;
/** The decoded-instruction cache (DECODE_ENTRIES × 32 bytes). */
export let decodeCache: usize = 0;
/** With the data caches modelled: per 4 KiB of linear memory, a u16 count of the lines that may differ from RAM (arm/cache.ts). */
export let cachePages: usize = 0;
export let ramHostBase: usize = 0;

/** Decoded-instruction cache entries, direct-mapped by physical address. */
export const DECODE_ENTRIES: u32 = 1 << 16;
export const DECODE_ENTRY_SIZE: u32 = 32;
/** One byte per 4 KiB of the 4 GiB linear memory can hold. */
export const PAGE_STATE_BYTES: u32 = 1 << 20;
/** The usage record: the end of the structures the last init() laid out (u32), 0 before the first. */
export const USAGE_STRUCT_END: u32 = 0;
export const USAGE_SIZE: u32 = 64;
/** One u16 per 4 KiB of the 4 GiB linear memory can hold. */
export const CACHE_PAGES_BYTES: u32 = 1 << 21;

@inline export function align(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

/** Places the config block; called once when the module starts. */
export function layoutConfig(): void {
  cfgBase = align(__heap_base, 64);
  usageRecord = cfgBase + CFG_SIZE;
  ramTable = usageRecord + USAGE_SIZE;
  eventRing = ramTable + MAX_RAM_RANGES * RANGE_SIZE;
  gicDist = eventRing + EVENT_CAPACITY * EVENT_SIZE;
  gicBlocks = gicDist + GICD_SIZE;
  pageState = align(gicBlocks + MAX_CPUS * GIC_CPU_SIZE, 64);
  cpuBlocks = pageState + PAGE_STATE_BYTES;
}

/** Makes sure linear memory reaches `end`; false when it cannot grow. */
export function ensureMemory(end: usize): bool {
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  const pages = <i32>((end - have + 0xFFFF) >> 16);
  return memory.grow(pages) >= 0;
}
