// SPDX-License-Identifier: MIT
// Types for regenerate-aarch64.mjs, which the AArch64 parity test imports.

export const ROOT: string;
export const GOLDEN_DIR: string;
export const GUEST_DIR: string;
export const IMAGES: string[];
export const SCENARIO_IMAGES: string[];
export const QEMU: string;
export const QEMU_ARGS: string[];
export const QEMU_TIMEOUT_MS: number;
export function qemuAvailable(): boolean;
export function runQemu(elf: string): { status: number | null; stdout: Buffer; stderr: string; timedOut: boolean };
export function goldenPath(image: string): string;
