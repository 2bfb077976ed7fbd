// SPDX-License-Identifier: MIT
//
// Domains and their vCPUs: the state the hypervisor keeps for each (Xen's
// struct domain and struct vcpu). Scheduling vCPUs onto pCPUs belongs to the
// run engine; a vCPU here only records where it runs.

import { FrameSet } from "./frame-set.ts";

/** The registers a vCPU starts from (builder or VCPUOP_initialise). */
export interface VCpuContext {
  rip: bigint;
  rsp: bigint;
  rdi: bigint;
  rsi: bigint;
  rflags: bigint;
  /** The machine address of the L4 (xen_pfn_to_cr3 of its MFN). */
  cr3: bigint;
}

export class VCpu {
  /** Is the vCPU down (_VPF_down)? vCPU 0 starts up, the others down until VCPUOP_up. */
  down = true;
  /** Has it been given a context (v->is_initialised), by the builder or VCPUOP_initialise? */
  initialised = false;
  /** The registers it starts from, once initialised. */
  context: VCpuContext | null = null;
  /** The MFN of the L4 it runs on (v->arch.guest_table), holding a general and a type reference; 0 for none. */
  guestTable = 0;
  /** Which pCPU does it run on, or did it last run on (v->processor)? */
  processor = 0;
  /** Which pCPU may still hold its TLB entries (v->dirty_cpu)? undefined until it has run; the run engine keeps it. */
  dirtyCpu: number | undefined;
  /** Is it blocked in SCHEDOP_block until an event? */
  blocked = false;

  constructor(
    readonly domain: Domain,
    /** Which vCPU of its domain is this (v->vcpu_id)? */
    readonly vcpuId: number,
  ) {}
}

/** Where the builder put the p2m list, and what it held at build time. */
export interface P2mList {
  /** Its virtual address (start_info.mfn_list). */
  va: bigint;
  /** The MFN of each PFN when the domain was built. */
  mfns: readonly number[];
}

export class Domain {
  /** Which frames does the domain own (d->page_list)? In ascending order. */
  readonly pageList = new FrameSet();
  /** How many frames does it own (d->tot_pages)? */
  totPages = 0;
  /** How many frames may it own (d->max_pages)? */
  maxPages: number;
  readonly vcpus: VCpu[] = [];
  /** Which pCPUs may hold TLB entries of this domain (d->dirty_cpumask)? The run engine keeps it. */
  readonly dirtyCpumask = new Set<number>();
  /** The p2m list the builder made; undefined until built. */
  p2m: P2mList | undefined;
  /** The reason given to SCHEDOP_shutdown (SHUTDOWN_*), once the domain has shut down. */
  shutdownReason: number | undefined;

  constructor(
    /** The domain's id (domid_t). */
    readonly domid: number,
    maxPages: number,
    nrVcpus: number,
  ) {
    this.maxPages = maxPages;
    for (let i = 0; i < nrVcpus; i++) this.vcpus.push(new VCpu(this, i));
  }
}
