// SPDX-License-Identifier: MIT
//
// Numbers and structure layouts of Xen's public ABI for x86-64 PV guests
// (xen/include/public/xen.h, memory.h, vcpu.h, sched.h, version.h,
// arch-x86/xen.h, arch-x86/xen-x86_64.h). Offsets are for the LP64 layout.

/** Hypercall numbers (__HYPERVISOR_*). */
export const HYPERVISOR = {
  mmu_update: 1,
  memory_op: 12,
  multicall: 13,
  update_va_mapping: 14,
  xen_version: 17,
  console_io: 18,
  vcpu_op: 24,
  mmuext_op: 26,
  sched_op: 29,
} as const;

export const HYPERCALL_NAMES: Record<number, string> = Object.fromEntries(Object.entries(HYPERVISOR).map(([k, v]) => [v, k]));

/** mmu_update commands: the low 2 bits of mmu_update.ptr. */
export const MMU_NORMAL_PT_UPDATE = 0;
export const MMU_MACHPHYS_UPDATE = 1;
export const MMU_PT_UPDATE_PRESERVE_AD = 2;
export const MMU_PT_UPDATE_NO_TRANSLATE = 3;
/** struct mmu_update { u64 ptr; u64 val; } */
export const MMU_UPDATE_SIZE = 16;
/** The continuation flag in the count of mmu_update and mmuext_op. */
export const MMU_UPDATE_PREEMPTED = 0x8000_0000;

/** mmuext_op commands. */
export const MMUEXT = {
  PIN_L1_TABLE: 0,
  PIN_L2_TABLE: 1,
  PIN_L3_TABLE: 2,
  PIN_L4_TABLE: 3,
  UNPIN_TABLE: 4,
  NEW_BASEPTR: 5,
  TLB_FLUSH_LOCAL: 6,
  INVLPG_LOCAL: 7,
  TLB_FLUSH_MULTI: 8,
  INVLPG_MULTI: 9,
  TLB_FLUSH_ALL: 10,
  INVLPG_ALL: 11,
  FLUSH_CACHE: 12,
  SET_LDT: 13,
  NEW_USER_BASEPTR: 15,
  CLEAR_PAGE: 16,
  COPY_PAGE: 17,
  FLUSH_CACHE_GLOBAL: 18,
  MARK_SUPER: 19,
  UNMARK_SUPER: 20,
} as const;
/** struct mmuext_op { u32 cmd; (pad) union arg1 (mfn | linear_addr); union arg2 (nr_ents | vcpumask | src_mfn); } */
export const MMUEXT_OP = { CMD: 0, ARG1: 8, ARG2: 16, SIZE: 24 } as const;

/** update_va_mapping flags. */
export const UVMF_NONE = 0n;
export const UVMF_TLB_FLUSH = 1n;
export const UVMF_INVLPG = 2n;
export const UVMF_FLUSHTYPE_MASK = 3n;
export const UVMF_MULTI = 0n;
export const UVMF_LOCAL = 0n;
export const UVMF_ALL = 4n;

/** memory_op commands; the command is the low MEMOP_EXTENT_SHIFT bits, the start extent above them. */
export const XENMEM = {
  increase_reservation: 0,
  decrease_reservation: 1,
  maximum_ram_page: 2,
  current_reservation: 3,
  maximum_reservation: 4,
  populate_physmap: 6,
} as const;
export const MEMOP_EXTENT_SHIFT = 6;
export const MEMOP_CMD_MASK = (1 << MEMOP_EXTENT_SHIFT) - 1;
/** struct xen_memory_reservation { handle extent_start; xen_ulong_t nr_extents; u32 extent_order; u32 mem_flags; domid_t domid; } */
export const XEN_MEMORY_RESERVATION = { EXTENT_START: 0, NR_EXTENTS: 8, EXTENT_ORDER: 16, MEM_FLAGS: 20, DOMID: 24, SIZE: 32 } as const;
/** struct xen_memory_domain { domid_t domid; } */
export const XEN_MEMORY_DOMAIN_SIZE = 2;

/** struct multicall_entry { xen_ulong_t op, result; xen_ulong_t args[6]; } */
export const MULTICALL_ENTRY = { OP: 0, RESULT: 8, ARGS: 16, SIZE: 64 } as const;

export const CONSOLEIO_write = 0;
export const CONSOLEIO_read = 1;

export const VCPUOP = { initialise: 0, up: 1, down: 2, is_up: 3 } as const;

/** struct vcpu_guest_context (x86-64): the fields VCPUOP_initialise honours. */
export const VCPU_GUEST_CONTEXT = {
  FLAGS: 512,
  USER_REGS: 520,
  CTRLREG: 4984,
  SIZE: 5168,
} as const;
/** struct cpu_user_regs (x86-64) offsets within user_regs. */
export const CPU_USER_REGS = { RSI: 104, RDI: 112, RIP: 128, RFLAGS: 144, RSP: 152 } as const;

export const SCHEDOP = { yield: 0, block: 1, shutdown: 2 } as const;
export const SHUTDOWN = { poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5 } as const;
/** struct sched_shutdown { unsigned int reason; } */
export const SCHED_SHUTDOWN_SIZE = 4;

export const XENVER_version = 0;
/** The version XENVER_version reports: (major << 16) | minor. */
export const XEN_VERSION = { major: 4, minor: 19 } as const;

/** Domain ids with a meaning of their own (domid_t). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
/** The owner of shared (copy-on-write) frames (dom_cow). */
export const DOMID_COW = 0x7ff3;

/** The hypervisor's part of the address space (xen-x86_64.h). */
export const HYPERVISOR_VIRT_START = 0xffff_8000_0000_0000n;
export const HYPERVISOR_VIRT_END = 0xffff_8800_0000_0000n;
export const MACH2PHYS_VIRT_START = 0xffff_8000_0000_0000n;
export const MACH2PHYS_VIRT_END = 0xffff_8040_0000_0000n;
/** M2P entry of a frame no domain owns. */
export const INVALID_M2P_ENTRY = 0xffff_ffff_ffff_ffffn;
/** The M2P entry of a shared frame (SHARED_M2P_ENTRY: no single PFN). */
export const SHARED_M2P_ENTRY = 0xffff_ffff_ffff_fffen;

/** struct start_info (x86-64). */
export const START_INFO = {
  MAGIC: 0,
  NR_PAGES: 32,
  SHARED_INFO: 40,
  FLAGS: 48,
  STORE_MFN: 56,
  STORE_EVTCHN: 64,
  CONSOLE: 72,
  PT_BASE: 88,
  NR_PT_FRAMES: 96,
  MFN_LIST: 104,
  MOD_START: 112,
  MOD_LEN: 120,
  CMD_LINE: 128,
  FIRST_P2M_PFN: 1152,
  NR_P2M_FRAMES: 1160,
  SIZE: 1168,
} as const;
export const MAX_GUEST_CMDLINE = 1024;
export const START_INFO_MAGIC = "xen-3.0-x86_64";

/** ELF note type of the virtual base (xen/include/public/elfnote.h). */
export const XEN_ELFNOTE_VIRT_BASE = 3;
