// SPDX-License-Identifier: MIT
//
// The backend's tables against the architecture and GNU binutils: logical
// immediates (DDI0487 DecodeBitMasks: 5334 distinct 64-bit and 1302 32-bit
// values), and every system register, TLBI/DC/IC/AT operation and barrier
// option of the tables assembled by GNU as in the corpus.

import { describe, expect, it } from "vitest";
import { decodeBitmask, encodeBitmask } from "../../../asm/a64/bitmask.ts";
import { SYSREG_NAMES } from "../../../asm/a64/sysregs.ts";
import { AT_OPS, BARRIER_OPTIONS, DC_OPS, IC_OPS, TLBI_OPS } from "../../../asm/a64/sysops.ts";
import { a64Backend } from "../../../asm/a64/index.ts";
import { golden, symbolizerFrom, type CorpusFile } from "./support.ts";

const corpus = golden<{ files: CorpusFile[] }>("corpus.json");
const sources = corpus.files.flatMap((f) => f.entries.map((e) => e.source.toLowerCase()));

describe("logical immediates", () => {
  for (const width of [32, 64] as const) {
    it(`has ${width === 64 ? 5334 : 1302} distinct ${width}-bit values, each encoded back to its canonical fields`, () => {
      const values = new Set<bigint>();
      for (let N = 0; N <= (width === 64 ? 1 : 0); N++) {
        for (let immr = 0; immr < 64; immr++) {
          for (let imms = 0; imms < 64; imms++) {
            const v = decodeBitmask({ N, immr, imms }, width);
            if (v === undefined) continue;
            values.add(v);
            const f = encodeBitmask(v, width)!;
            expect(decodeBitmask(f, width)).toBe(v);
          }
        }
      }
      expect(values.size).toBe(width === 64 ? 5334 : 1302);
    });
  }

  it("refuses zero, all ones, and 32-bit values with a stray upper half", () => {
    expect(encodeBitmask(0n, 64)).toBeUndefined();
    expect(encodeBitmask(-1n, 64)).toBeUndefined();
    expect(encodeBitmask(0xffffffffn, 32)).toBeUndefined();
    expect(encodeBitmask(0x1_0000_0001n, 32)).toBeUndefined();
    expect(encodeBitmask(~1n, 32)).toEqual({ N: 0, immr: 31, imms: 30 });
  });
});

describe("system names checked against GNU as", () => {
  it("has the system registers the MMU, caches, exceptions, timer and GICv3 code use", () => {
    const floor = [
      "sctlr_el1", "sctlr_el2", "tcr_el1", "tcr_el2", "ttbr0_el1", "ttbr1_el1", "ttbr0_el2", "mair_el1", "mair_el2", "vbar_el1", "vbar_el2",
      "esr_el1", "esr_el2", "far_el1", "far_el2", "elr_el1", "elr_el2", "spsr_el1", "spsr_el2", "sp_el0", "sp_el1", "par_el1", "hcr_el2",
      "vttbr_el2", "vtcr_el2", "hpfar_el2", "mpidr_el1", "midr_el1", "currentel", "daif", "nzcv", "spsel", "tpidr_el0", "tpidr_el1",
      "contextidr_el1", "cpacr_el1", "clidr_el1", "ccsidr_el1", "csselr_el1", "ctr_el0", "dczid_el0", "id_aa64mmfr0_el1",
      "id_aa64mmfr1_el1", "id_aa64pfr0_el1", "cntfrq_el0", "cntvct_el0", "cntpct_el0", "cntv_ctl_el0", "cntv_cval_el0", "cntv_tval_el0",
      "cntp_ctl_el0", "cntp_cval_el0", "cntp_tval_el0", "cntkctl_el1", "cnthctl_el2", "cntvoff_el2", "icc_sgi1r_el1", "icc_iar1_el1",
      "icc_eoir1_el1", "icc_pmr_el1", "icc_igrpen1_el1", "icc_sre_el1", "icc_sre_el2", "icc_bpr1_el1", "icc_ctlr_el1", "icc_dir_el1",
      "icc_rpr_el1", "icc_hppir1_el1", "mdscr_el1", "oslar_el1", "actlr_el1", "amair_el1", "afsr0_el1", "afsr1_el1", "osdlr_el1",
    ];
    expect(floor.filter((n) => !SYSREG_NAMES.includes(n))).toEqual([]);
  });

  const appears = (pattern: RegExp) => sources.some((s) => pattern.test(s));

  it("assembles every register of the table with GNU as in the corpus", () => {
    expect(SYSREG_NAMES.filter((n) => !appears(new RegExp(`^(mrs x\\d+, ${n}|msr ${n}, x\\d+)$`)))).toEqual([]);
  });

  it("assembles every TLBI, DC, IC and AT operation with GNU as in the corpus", () => {
    const missing = [
      ...TLBI_OPS.map((o) => `tlbi ${o.name}`), ...DC_OPS.map((o) => `dc ${o.name}`),
      ...IC_OPS.map((o) => `ic ${o.name}`), ...AT_OPS.map((o) => `at ${o.name}`),
    ].filter((op) => !appears(new RegExp(`^${op}(,|$)`)));
    expect(missing).toEqual([]);
  });

  it("assembles every barrier option with GNU as in the corpus", () => {
    const missing = Object.values(BARRIER_OPTIONS).flatMap((o) => [`dsb ${o}`, `dmb ${o}`]).filter((b) => !sources.includes(b));
    expect(missing).toEqual([]);
  });
});

describe("decoding at the end of the bytes", () => {
  it("shows a trailing fragment of a word as bytes, without throwing", () => {
    const d = a64Backend.decode(new Uint8Array([0x1f, 0x20, 0x03, 0xd5, 0x01, 0x02]), 4, 0x40080004n, symbolizerFrom([]));
    expect(d).toMatchObject({ length: 2, unknown: true, text: ".byte\t0x01, 0x02" });
  });
});
