// SPDX-License-Identifier: MIT
//
// A set of CPU numbers for the engine's per-decision bookkeeping (idle,
// yielding and waiting CPUs). The engine adds, clears and asks these sets at
// every decision; a JavaScript Set allocates a new hash table on each clear
// and hashes on each lookup, which showed in profiles of `shootdown explore`.
// This one is a flag per CPU and a count: no allocation after construction.

/** What a scheduler asks of the CPUs it may pass over. A Set<number> is one too. */
export interface CpuSetView {
  readonly size: number;
  has(cpu: number): boolean;
}

export class CpuSet implements CpuSetView {
  private flags: Uint8Array;
  private count = 0;

  constructor(capacity = 0) {
    this.flags = new Uint8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  has(cpu: number): boolean {
    return this.flags[cpu] === 1;
  }

  add(cpu: number): void {
    if (cpu >= this.flags.length) this.grow(cpu + 1);
    if (this.flags[cpu] === 1) return;
    this.flags[cpu] = 1;
    this.count++;
  }

  delete(cpu: number): void {
    if (this.flags[cpu] !== 1) return;
    this.flags[cpu] = 0;
    this.count--;
  }

  clear(): void {
    if (!this.count) return;
    // A loop, not fill(): a handful of flags, and fill is a call into the engine's runtime.
    const flags = this.flags;
    for (let c = 0; c < flags.length; c++) flags[c] = 0;
    this.count = 0;
  }

  private grow(capacity: number): void {
    const flags = new Uint8Array(Math.max(capacity, 2 * this.flags.length));
    flags.set(this.flags);
    this.flags = flags;
  }
}
