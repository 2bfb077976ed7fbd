// SPDX-License-Identifier: MIT
//
// The typed API of the emulator: a Machine with CPUs and memory.

export { Machine, type StaleUseEvent, type StaleReadEvent, type HwEvent, type Arch, type CpuOf } from "./core/machine.ts";
export {
  ArmCpu, armAccessKind, type ArmRegisters, type ArmAccess, type ArmAccessOp, type ArmPrivilege, type ArmFault, type ArmFaultType,
  type ArmMapping, type ArmTranslation, type TlbiOp, type AtOp, type DcOp,
} from "./cpu/arm-cpu.ts";
export {
  ArmGic, ICC_REGISTERS, TIMER_REGISTERS, GICD_BASE, GICR_BASE, GICR_STRIDE, GICR_SGI_BASE, sysregKey, type IccRegister,
  type TimerRegister,
} from "./cpu/arm-gic.ts";
export { type Counters } from "./core/counters.ts";
export { Memory } from "./core/memory.ts";
export {
  X86Cpu, InvpcidType, InveptType, InvvpidType, EPT_QUALIFICATION, accessKind, type Access, type AccessOp, type Privilege, type X86Registers, type X86Mapping,
  type X86Fault, type X86Translation, type X86Outcome, type X86Counters, type MemoryType, type X86MemoryWalk,
  type X86WalkStep, type X86Exit, type X86State, type X86GuestControls, type X86GuestExit, type X86Injection, type X86Event,
  type X86EventType, type X86VmExitInfo,
} from "./cpu/x86-cpu.ts";
export { DEFAULT_TLB, DEFAULT_CACHES, type CacheGeometry, type MachineOptions, type TlbGeometry, type Geometry, type RamRange, type ChaosOptions } from "./core/options.ts";
export { ShootdownError } from "./core/errors.ts";
