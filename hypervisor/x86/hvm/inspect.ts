// SPDX-License-Identifier: MIT
//
// What the debugger shows of the HVM host (the REPL's `frame MFN`, `shared
// [MFN]`, `domain [ID]` (or `vcpu`), `p2m GPA [ID]` and `hypercalls`):
// frames with their share state and page-lock holder, shared frames with
// their handle, sharers and locks, the domains with their vCPUs, and the
// EPT walk of a guest-physical address. Reads only; no step, no reference
// taken.

import { ShootdownError } from "../../../emulator/machine/core/errors.ts";
import { eptWalkLines } from "../../../emulator/debug/ept-walk.ts";
import { frameInfo } from "../inspect.ts";
import { SHARED_M2P_ENTRY } from "../public.ts";
import type { HvmHost } from "./hvm-host.ts";

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Who holds a frame's page lock, in words. */
function lockWords(host: HvmHost, mfn: number): string {
  const p = host.hv.frames.lookup(mfn);
  if (!p?.locked) return "page lock free";
  const spinners = host.hv.locks.spinnersOn(mfn);
  return `page lock held by pCPU ${p.lockedBy}${spinners.length ? `, pCPU ${spinners.join(", pCPU ")} spinning on it` : ""}`;
}

/**
 * `p2m GPA [ID]`: on x86 Xen's p2m is the EPT (p2m-ept.c), so this walks
 * domain ID's (default the first) as the Arm host's `p2m IPA` walks its
 * stage 2: each EPT entry with its rights and memory type, the machine
 * frame, and the p2m type the leaf carries.
 */
function p2mLines(host: HvmHost, args: readonly string[]): string[] {
  const number = /^(0x[0-9a-f]+|[0-9]+)$/i;
  if (args.length < 1 || args.length > 2 || !number.test(args[0]!)) throw new ShootdownError(`p2m: the GPA must be a number, not '${args.join(" ")}' (usage: p2m GPA [DOMAIN])`);
  if (args[1] !== undefined && !number.test(args[1])) throw new ShootdownError(`p2m: the domain id must be a number, not '${args[1]}' (usage: p2m GPA [DOMAIN])`);
  const gpa = BigInt(args[0]!);
  const d = args[1] === undefined ? host.domains[0]! : host.domains.find((x) => BigInt(x.domain.domid) === BigInt(args[1]!));
  if (!d) throw new ShootdownError(`p2m: no domain ${args[1]} (the HVM host runs ${host.domains.map((x) => `d${x.domain.domid}`).join(", ")})`);
  // The EPT tables are machine memory the hypervisor wrote; a debugger's write may point an entry outside RAM.
  const read64 = (pa: bigint): bigint | undefined => {
    try {
      return host.hv.mem.read64(pa);
    } catch (e) {
      if (e instanceof ShootdownError) return undefined;
      throw e;
    }
  };
  const w = eptWalkLines(read64, d.ept.eptp, gpa);
  if (!w.lines) throw new ShootdownError(`p2m: ${w.stop}`);
  const leaf = gpa >> 12n < BigInt(d.domain.maxPages) ? d.ept.entry(Number(gpa >> 12n)) : undefined;
  return [
    `p2m: GPA ${hex(gpa)} of d${d.domain.domid} through the EPT (EPTP ${hex(d.ept.eptp)}, EPT PML4 MFN ${hex(d.ept.root)})`,
    ...w.lines,
    ...(leaf ? [`  p2m type ${leaf.type}`] : []),
  ];
}

/** The debugger's commands for an HVM host; undefined for a command it does not know. */
export function inspectHvm(host: HvmHost, command: string, args: readonly string[]): string[] | undefined {
  const num = (text: string | undefined, what: string): number => {
    if (text === undefined || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) {
      throw new ShootdownError(`${command}: ${what} must be a number, not '${text ?? ""}'`);
    }
    return Number(text);
  };
  const ms = host.sharing.ms;
  switch (command) {
    case "frame": {
      const mfn = num(args[0], "MFN");
      const f = frameInfo(host.hv, mfn);
      if (!f) return [`MFN ${hex(mfn)} is not a frame the hypervisor manages (${hex(host.hv.frames.firstMfn)} to ${hex(host.hv.frames.endMfn - 1)})`];
      const flags = [f.allocated && "allocated", f.validated && "validated", f.locked && "locked", f.free && "free"].filter(Boolean).join(" ") || "-";
      const owner = f.owner === undefined ? "none" : f.owner === 0x7ff2 ? "dom_xen" : f.owner === 0x7ff3 ? "dom_cow" : `d${f.owner}`;
      const pfn = f.pfn === undefined ? "none" : f.pfn === SHARED_M2P_ENTRY ? "SHARED_M2P_ENTRY" : hex(f.pfn);
      const share = ms.shared.get(mfn);
      const mappedBy = share
        ? share.rmap.map((g) => `d${g.domid} gfn ${hex(g.gfn)}`)
        : host.domains.filter((d) => f.pfn !== undefined && f.pfn < BigInt(d.domain.maxPages) && d.ept.lookup(Number(f.pfn)) === mfn).map((d) => `d${d.domain.domid} gfn ${hex(f.pfn!)}`);
      return [
        `MFN ${hex(f.mfn)}: owner ${owner}, PFN ${pfn}`,
        `  type ${f.type}, type count ${f.typeCount}, count ${f.count}, ${flags}; ${lockWords(host, mfn)}`,
        share ? `  shared: handle ${share.handle}, ${share.rmap.length} sharer${share.rmap.length === 1 ? "" : "s"}` : "  not shared",
        mappedBy.length ? `  mapped by the EPT of ${mappedBy.join(", ")}` : "  no EPT maps it",
      ];
    }
    case "shared": {
      if (args[0] === undefined) {
        if (!ms.shared.size) return [`no shared frames (${ms.stats.nominated} nominated, ${ms.stats.shared} shares, ${ms.stats.unshared} unshares so far)`];
        return [
          `${ms.shared.size} shared frame${ms.shared.size === 1 ? "" : "s"}, ${ms.nrSavedMfns} frame${ms.nrSavedMfns === 1 ? "" : "s"} saved`,
          ...[...ms.shared].map(([mfn, s]) => `  MFN ${hex(mfn)}: handle ${s.handle}; ${s.rmap.map((g) => `d${g.domid}:${hex(g.gfn)}`).join(" ")}; ${lockWords(host, mfn)}`),
        ];
      }
      const mfn = num(args[0], "MFN");
      const s = ms.shared.get(mfn);
      if (!s) return [`MFN ${hex(mfn)} is not a shared frame (shared lists them)`];
      const p = host.hv.frames.page(mfn);
      return [
        `MFN ${hex(mfn)}: handle ${s.handle}, owner dom_cow, type count ${p.typeCount}, count ${p.count}; ${lockWords(host, mfn)}`,
        ...s.rmap.map((g) => {
          const d = host.domains.find((x) => x.domain.domid === g.domid);
          const e = d?.ept.entry(g.gfn);
          const p2m = d ? `, d${g.domid}'s p2m lock ${ms.p2mLockHolder(d.domain) < 0 ? "free" : `held by pCPU ${ms.p2mLockHolder(d.domain)}`}` : "";
          return `  d${g.domid} gfn ${hex(g.gfn)}: EPT ${e ? `${hex(e.mfn)} ${e.type}${d!.ept.writable(g.gfn) ? " writable" : " read-only"}` : "none"}${p2m}`;
        }),
      ];
    }
    case "domain": {
      const list = args[0] === undefined ? host.domains : host.domains.filter((d) => d.domain.domid === num(args[0], "domain id"));
      if (!list.length) return [`no domain ${args[0]}`];
      return list.flatMap((d) => [
        `d${d.domain.domid}${d.privileged ? " (privileged)" : ""}: ${d.domain.totPages} of ${d.domain.maxPages} pages, ${d.ept.tables.length} EPT tables` +
          `${d.exitCode === undefined ? "" : `, over (wrote ${d.exitCode} to its debug-exit port)`}`,
        ...d.vcpuList.map((a) => {
          const at = host.pcpuOf(a);
          const where = at >= 0 ? `running on pCPU ${at}` : a.paused ? "paused" : a.sleep !== "none" ? `asleep (${a.sleep})` : "runnable, waiting for a pCPU";
          return `  ${a.name}: ${where}; VPID ${a.vpid}${a.vcpu.dirtyCpu === undefined ? "" : `; last on pCPU ${a.vcpu.dirtyCpu}`}`;
        }),
      ]);
    }
    case "hypercalls": {
      if (args.length) throw new ShootdownError("hypercalls takes no argument under --hvm: the HVM host counts hypercalls by call and result, it keeps no log of each");
      const lines = host.domains.flatMap((d) => Object.entries(d.hypercalls.summary()).map(([call, results]) =>
        `d${d.domain.domid} ${call}: ${Object.entries(results).map(([r, n]) => `${r} ×${n}`).join(", ")}`));
      return lines.length ? lines : ["no hypercall yet"];
    }
    case "p2m":
      return p2mLines(host, args);
    case "vcpu":
      return inspectHvm(host, "domain", args);
    default:
      return undefined;
  }
}
