// SPDX-License-Identifier: MIT
//
// The debugger's hypervisor commands under --hvm (`shootdown repl|gdb IMAGE
// --hv --hvm`, and gdb's `monitor`): what the other hosts show, in HVM's
// terms. On x86 Xen's p2m is the EPT (p2m-ept.c), so `p2m GPA` walks it, as
// the Arm host's `p2m IPA` walks its stage 2; `domain` (or `vcpu`) lists the
// vCPUs with their VPID, where each is and its virtual APIC's pending
// vector; `hypercalls` the counts by call and result (the HVM host keeps
// counts, not a log). `frame` is the PV host's: an HVM guest's tables hold
// guest-physical frames, which `p2m` follows to machine frames.

import { ShootdownError } from "../../../emulator/machine/core/errors.ts";
import { eptWalkLines } from "../../../emulator/debug/ept-walk.ts";
import type { Domain } from "../../common/domain.ts";
import type { HvmViewHost, HvmVcpuView } from "./vcpu-view.ts";
import type { HvmHypercalls } from "./hypercall.ts";

/** What the commands read of the HVM host (hvm-host.ts). */
export interface HvmInspectHost extends HvmViewHost {
  readonly domain: Domain;
  readonly hypercalls: HvmHypercalls;
  vcpus(): HvmVcpuView;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const NUMBER = /^(0x[0-9a-f]+|[0-9]+)$/i;

/** Lines for one command; ShootdownError for a bad one. read64 reads machine memory (undefined outside RAM). */
export function inspectHvm(host: HvmInspectHost, read64: (pa: bigint) => bigint | undefined, command: string, args: readonly string[]): string[] {
  const d = host.domain;
  switch (command) {
    case "p2m": {
      const text = args[0] ?? "";
      if (args.length !== 1 || !NUMBER.test(text)) throw new ShootdownError(`p2m: the GPA must be a number, not '${args.join(" ")}' (usage: p2m GPA)`);
      const gpa = BigInt(text);
      const eptp = host.ept.eptp;
      const w = eptWalkLines(read64, eptp, gpa);
      if (!w.lines) throw new ShootdownError(`p2m: ${w.stop}`);
      return [`p2m: GPA ${hex(gpa)} of d${d.domid} through the EPT (EPTP ${hex(eptp)}, EPT PML4 MFN ${hex(host.ept.root)})`, ...w.lines];
    }
    case "domain": case "vcpu": {
      if (args.length > 1 || (args[0] !== undefined && !NUMBER.test(args[0]))) throw new ShootdownError(`${command}: the domain id must be a number, not '${args.join(" ")}' (usage: ${command} [ID])`);
      if (args[0] !== undefined && Number(args[0]) !== d.domid) return [`no domain ${args[0]} (the HVM host runs d${d.domid})`];
      const infos = host.vcpus().list();
      return [
        `d${d.domid}: ${d.totPages} pages of guest RAM, EPT PML4 MFN ${hex(host.ept.root)}, ${host.ept.tables.length} EPT tables${d.shutdownReason === undefined ? "" : ", shut down"}`,
        ...host.vcpuList.map((a, k) => {
          const info = infos[k]!;
          const where = info.pcpu !== undefined ? `running on pCPU ${info.pcpu}` : info.state === "runnable" ? "runnable, waiting for a pCPU" : info.state;
          const pending = a.vlapic.pending();
          const held = a.saved?.injection;
          const last = a.vcpu.dirtyCpu === undefined ? "" : `; last on pCPU ${a.vcpu.dirtyCpu}`;
          const irq = pending < 0 ? "" : `; vector ${hex(pending)} pending in its vlapic`;
          const inject = held ? `; ${held.type === "external-interrupt" ? `vector ${hex(held.vector)}` : `exception ${held.vector}`} held for injection` : "";
          return `  ${a.name}: ${where}; VPID ${a.vpid}${last}${irq}${inject}`;
        }),
      ];
    }
    case "hypercalls": {
      if (args.length) throw new ShootdownError("hypercalls takes no argument under --hvm: the HVM host counts hypercalls by call and result, it keeps no log of each");
      const calls = Object.entries(host.hypercalls.summary());
      if (!calls.length) return ["no hypercall yet"];
      return calls.map(([name, results]) => `${name}: ${Object.entries(results).map(([r, n]) => `${r} ×${n}`).join(", ")}`);
    }
    case "frame":
      throw new ShootdownError("frame: the HVM host keeps no page types (an HVM guest's tables hold guest-physical frames); p2m GPA shows the machine frame of a guest-physical address");
    default:
      throw new ShootdownError(`${command}: no such hypervisor command under --hvm (p2m GPA, domain, vcpu, hypercalls)`);
  }
}
