import { describe, expect, it } from "vitest";
import { execRig, runToHalt } from "../../../helpers/x86-exec.ts";

describe("smoke", () => {
  it("runs a loop", () => {
    const { cpu } = execRig(`
      _start:
        mov $10, %ecx
        xor %eax, %eax
      1: add %rcx, %rax
        dec %ecx
        jnz 1b
        push %rax
        pop %rbx
        hlt
    `);
    const exit = runToHalt(cpu);
    expect(exit).toEqual({ reason: "hlt" });
    expect(cpu.state.rax).toBe(55n);
    expect(cpu.state.rbx).toBe(55n);
  });
});
