// SPDX-License-Identifier: MIT
//
// Sections as GNU as builds them: a chain of fragments. A fragment has a
// fixed part (bytes whose size no longer changes) and may end in a variable
// part whose size is only known once addresses are: a relaxable branch, an
// alignment, an .org, a .skip of a size not known yet. Labels point into
// fixed parts. Two labels in the same fragment are a constant distance
// apart, which is what lets a line use their difference as a plain number
// while it is parsed (and choose a short encoding), exactly as GNU as does.
//
// Layout (relax) runs per section from offset 0 as GNU as's relax_segment
// does: relaxable branches start short and only ever grow; each pass moves
// every fragment by the growth before it, estimates forward targets the way
// GNU as does, and recomputes alignments; passes end when nothing grows.

import type { Expr } from "./expr.ts";
import type { Fixup, Instruction } from "./backend.ts";
import type { Location } from "./source.ts";
import type { SectionFlags } from "./program.ts";

/** Bytes in a fixed part that carry fixups: an instruction or a data value naming a symbol. */
export interface Piece {
  /** Offset in the fragment's fixed part. */
  offset: number;
  length: number;
  fixups: Fixup[];
  loc: Location;
}

export type Variable =
  | { kind: "relax"; instr: Instruction; long: boolean; loc: Location }
  | { kind: "align"; boundary: number; fill: number | undefined; max: number | undefined; code: boolean }
  | { kind: "org"; target: Expr; fill: number; loc: Location }
  | { kind: "space"; size: Expr; fill: number; loc: Location };

export class Frag {
  /** The fixed part. */
  readonly data: number[] = [];
  readonly pieces: Piece[] = [];
  variable: Variable | undefined;
  /** Offset of the fragment in its section, and the size of its variable part, from the last layout round. */
  offset = 0;
  variableSize = 0;
  /** Relaxation bookkeeping, as GNU as keeps it: the alignment-bounded region, and the last pass that moved the frag. */
  region = 0;
  pass = 0;

  constructor(readonly index: number) {}

  get size(): number {
    return this.data.length + this.variableSize;
  }
}

export class Section {
  readonly frags: Frag[] = [new Frag(0)];
  /** Largest alignment asked for inside the section. */
  align = 1;
  /** Set once placed. */
  address = 0n;
  /** AArch64 mapping state: what the last mapping symbol said ($x code, $d data). */
  mapState: "none" | "data" | "insn" = "none";

  constructor(
    readonly name: string,
    readonly type: "progbits" | "nobits",
    readonly flags: SectionFlags,
  ) {}

  get current(): Frag {
    return this.frags[this.frags.length - 1]!;
  }

  /** Ends the current fragment with a variable part and opens the next. */
  closeWith(variable: Variable): void {
    this.current.variable = variable;
    this.frags.push(new Frag(this.frags.length));
  }

  get size(): number {
    const last = this.current;
    return last.offset + last.size;
  }

  get isCode(): boolean {
    return this.flags.exec;
  }
}

/** Size of an alignment's padding at `offset`, or 0 when it would exceed `max`. */
export function alignPadding(offset: number, boundary: number, max: number | undefined): number {
  const pad = (boundary - (offset % boundary)) % boundary;
  return max !== undefined && pad > max ? 0 : pad;
}
