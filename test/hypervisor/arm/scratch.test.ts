import { it } from "vitest";
import { readFileSync } from "node:fs";
import { engineFor } from "../../../emulator/run.ts";
import { readElf } from "../../../asm/index.ts";
it("scratch", () => {
  const image = new Uint8Array(readFileSync("guest/aarch64/hello.elf"));
  const elf = readElf(image);
  const sym = (n: string) => elf.symbols.find((s) => s.name === n)!.value;
  const e = engineFor({ image, cpus: 4, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined,
    hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n }, console: (b: number) => process.stdout.write(String.fromCharCode(b)), record: false } as never);
  const host = (e.platform as any).attached;
  const m = (e.platform as any).m;
  for (let i = 0; i < 5000 && !(e as any).ended && m.cpus[0].registers.sctlr_el1 % 2n === 0n; i++) e.step(1, 0);
  const l1 = sym("l1");
  console.log("l1", l1.toString(16));
  const en = host.p2m.lookup(Number(l1 >> 12n));
  console.log("l1 mfn", en.mfn.toString(16), en.valid);
  const w = m.memory.read64(BigInt(en.mfn) << 12n | (l1 & 0xfffn));
  console.log("l1[0] via p2m", w.toString(16), "l1[1]", m.memory.read64((BigInt(en.mfn) << 12n | (l1 & 0xfffn)) + 8n).toString(16));
  const cpu = m.cpus[0];
  console.log("pc", cpu.state.pc.toString(16), "sctlr", cpu.registers.sctlr_el1.toString(16), "ttbr0", cpu.registers.ttbr0_el1.toString(16), "esr", cpu.state.esr_el1.toString(16), "far", cpu.state.far_el1.toString(16));
  const w1 = m.memory.read64((BigInt(en.mfn) << 12n | (l1 & 0xfffn)) + 8n); const l2a = host.p2m.lookup(Number((w1 & 0xfffffffff000n) >> 12n));
  console.log("next table", (w1 & 0xfffffffff000n).toString(16), l2a && l2a.mfn.toString(16), l2a.valid); console.log("peek", JSON.stringify(cpu.peek(cpu.state.pc, {op:"fetch",priv:"kernel"}), (k,v)=>typeof v==="bigint"?v.toString(16):v));
  for (let k = 0n; k < 8n; k++) console.log(" l2[" + k + "]", m.memory.read64((BigInt(l2a.mfn) << 12n) + k*8n).toString(16));
});
