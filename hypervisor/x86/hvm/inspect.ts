// SPDX-License-Identifier: MIT
//
// What the debugger shows of the HVM host (the REPL's `frame MFN`, `shared
// [MFN]`, `domain [ID]` and `hypercalls`): frames with their share state and
// page-lock holder, shared frames with their handle, sharers and locks, and
// the domains with their vCPUs. Reads only; no step, no reference taken.

import { ShootdownError } from "../../../emulator/machine/core/errors.ts";
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
      const lines = host.domains.flatMap((d) => Object.entries(d.hypercalls.summary()).map(([call, results]) =>
        `d${d.domain.domid} ${call}: ${Object.entries(results).map(([r, n]) => `${r} ×${n}`).join(", ")}`));
      return lines.length ? lines : ["no hypercall yet"];
    }
    case "p2m": case "vcpu":
      throw new ShootdownError(`${command}: the Arm hypervisor's command; under --hvm, frame MFN and domain show the EPT and the vCPUs`);
    default:
      return undefined;
  }
}
