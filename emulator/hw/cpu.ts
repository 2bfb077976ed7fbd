// SPDX-License-Identifier: MIT
//
// The current CPU. Every exported entry point selects a CPU first; the code
// below it then reaches that CPU's block and arrays through these globals,
// the way a hardware unit reaches its own registers.

import {
  cpuBlocks, cpuArrays, cpuArraysSize, CPU_SIZE, CPU_COUNTERS, CPU_STRUCTS, DESC_SIZE, FLOOR_MAP_SLOTS,
  FLOOR_MAP_SLOT_SIZE,
} from "./layout";

/** Block of the selected CPU. */
export let C: usize = 0;
/** Per-CPU array region of the selected CPU; it starts with the scoped-floor map. */
export let A: usize = 0;
export let selectedCpu: u32 = 0;
/** The selected CPU's micro-TLB. */
export let micro: usize = 0;

/** Offsets inside a CPU's array region, the same for every CPU. */
export const ARR_FLOOR_MAP: usize = 0;
export const ARR_MICRO: usize = FLOOR_MAP_SLOTS * FLOOR_MAP_SLOT_SIZE;

export let cpuCount: u32 = 0;
export let microMask: usize = 0;
/** Is the micro-TLB filled? Off when chaos or the detector needs every use to reach the TLB. */
export let microEnabled: bool = false;
export let features: u32 = 0;

export function setMachineShape(cpus: u32, microEntries: u32, feat: u32): void {
  cpuCount = cpus;
  features = feat;
  microMask = microEntries == 0 ? 0 : <usize>microEntries - 1;
  microEnabled = microEntries != 0;
}

export function disableMicro(): void {
  microEnabled = false;
}

export function select(cpu: u32): void {
  selectedCpu = cpu;
  C = cpuBlocks + <usize>cpu * CPU_SIZE;
  A = cpuArrays + <usize>cpu * cpuArraysSize;
  micro = A + ARR_MICRO;
}

@inline export function count(counter: u32): void {
  const p = C + CPU_COUNTERS + (<usize>counter << 3);
  store<u64>(p, load<u64>(p) + 1);
}

@inline export function addCount(counter: u32, n: u64): void {
  const p = C + CPU_COUNTERS + (<usize>counter << 3);
  store<u64>(p, load<u64>(p) + n);
}

@inline export function desc(structure: u32): usize {
  return C + CPU_STRUCTS + <usize>structure * DESC_SIZE;
}
