// SPDX-License-Identifier: MIT
//
// Guest annotations under --hv --hvm (docs/annotations.md): the guest names
// guest-physical frames, the host translates them through the EPT, and the
// sanitizer reports the same event as bare, on the machine frame.

import { describe, expect, it } from "vitest";
import { imageFile, shootdown, stats } from "../../../helpers/run.ts";

/** Event (a): vCPU 0 enters a walker section, vCPU 1 frees `victim`, then vCPU 0 reads it (flags order them). */
const WALKER = `
        .equ DEBUG_EXIT, 0xf4
        .equ SD_PORT, 0x5d0
        .text
        .globl _start
_start:
        test %edi, %edi
        jnz cpu1
        mov $SD_PORT + 2, %dx           # SD_ANNOT_WALK_BEGIN
        out %eax, %dx
        movl $1, flag1(%rip)
1:      pause
        cmpl $0, flag2(%rip)
        je 1b
        mov victim(%rip), %rax
        mov $SD_PORT + 3, %dx           # SD_ANNOT_WALK_END
        out %eax, %dx
        xor %eax, %eax
        out %al, $DEBUG_EXIT
cpu1:
1:      pause
        cmpl $0, flag1(%rip)
        je 1b
        lea victim(%rip), %rax
        shr $12, %rax
        mov $SD_PORT, %dx               # SD_ANNOT_FREE of victim's PFN
        out %eax, %dx
        movl $1, flag2(%rip)
2:      cli
        hlt
        jmp 2b
        .data
        .balign 8
flag1:  .long 0
flag2:  .long 0
        .balign 4096
victim: .quad 0x1234
        .balign 4096
`;

describe("guest annotations under --hv --hvm", () => {
  it("the query at port 0x5D0 answers as bare", () => {
    const elf = imageFile(`
        .text
        .globl _start
_start: mov $0x5d0, %dx
        in %dx, %eax
        cmp $0x5d5d0001, %eax
        jne 1f
        xor %eax, %eax
        out %al, $0xf4
1:      mov $1, %eax
        out %al, $0xf4
`, "annot-query.elf");
    expect(shootdown("run", elf, "--hv", "--hvm").status).toBe(0);
  });

  it("(a) a walker's load of a frame freed after its section began stops the run with status 4, on the frame EPT maps the PFN to", () => {
    const elf = imageFile(WALKER, "annot-walker.elf");
    const bare = stats(shootdown("run", elf, "--cpus", "2", "--stats"));
    expect(bare.status).toBe(4);
    for (const args of [["--cpus", "2"], ["--cpus", "1", "--vcpus", "2"]]) {
      const r = shootdown("run", elf, "--hv", "--hvm", ...args, "--stats");
      const s = stats(r);
      expect(s.status, r.stderr).toBe(4);
      expect(s.end.kind).toBe("violation");
      expect(s.end.message).toMatch(/inside its walker section \(begun at step \d+\) read VA 0x[0-9a-f]+ in frame 0x[0-9a-f]+000 \(PFN 0x[0-9a-f]+\), freed by CPU \d at step \d+ after the section began/);
      // The same VA, but the frame is the machine frame behind the guest's PFN, not the PFN itself.
      const frameOf = (m: string) => /in frame (0x[0-9a-f]+)/.exec(m)![1];
      const vaOf = (m: string) => /read VA (0x[0-9a-f]+)/.exec(m)![1];
      expect(vaOf(s.end.message)).toBe(vaOf(bare.end.message));
      expect(frameOf(s.end.message)).not.toBe(frameOf(bare.end.message));
    }
  });
});
