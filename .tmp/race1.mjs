// .tmp/race1.ts
import { readFileSync as readFileSync2 } from "node:fs";

// asm/backend.ts
var AsmError = class extends Error {
  name = "AsmError";
};

// asm/expr.ts
var PRECEDENCE = {
  "*": 4,
  "/": 4,
  "%": 4,
  "<<": 4,
  ">>": 4,
  "|": 3,
  "&": 3,
  "^": 3,
  "!": 3,
  "+": 2,
  "-": 2,
  "==": 2,
  "!=": 2,
  "<": 2,
  ">": 2,
  "<=": 2,
  ">=": 2,
  "&&": 1,
  "||": 1
};
var OPERATORS = [
  ["<<", "<<"],
  [">>", ">>"],
  ["==", "=="],
  ["!=", "!="],
  ["<>", "!="],
  ["<=", "<="],
  [">=", ">="],
  ["&&", "&&"],
  ["||", "||"],
  ["*", "*"],
  ["/", "/"],
  ["%", "%"],
  ["|", "|"],
  ["&", "&"],
  ["^", "^"],
  ["!", "!"],
  ["+", "+"],
  ["-", "-"],
  ["<", "<"],
  [">", ">"]
];
var SYMBOL_START = /[A-Za-z_.$]/;
var SYMBOL_CHAR = /[A-Za-z0-9_.$]/;
var MAX_EXPR_DEPTH = 1e3;
var num = (value) => ({ e: { kind: "num", value }, depth: 1 });
function makeUnary(op, arg) {
  const a = arg.e;
  if (a.kind === "num") return num(applyUnary(op, a.value));
  if (op === "+") return arg;
  if ((op === "-" || op === "~") && a.kind === "unary" && a.op === op) return { e: a.arg, depth: arg.depth - 1 };
  return { e: { kind: "unary", op, arg: a }, depth: arg.depth + 1 };
}
function offsetForm(e) {
  if (e.kind !== "binary" || e.right.kind !== "num") return void 0;
  if (e.op === "+") return [e.left, e.right.value];
  if (e.op === "-") return [e.left, -e.right.value];
  return void 0;
}
function makeBinary(op, left, right) {
  const l = left.e;
  const r = right.e;
  if (l.kind === "num" && r.kind === "num" && !((op === "/" || op === "%") && r.value === 0n)) return num(applyBinary(op, l.value, r.value));
  if ((op === "+" || op === "-") && r.kind === "num") {
    const inner = offsetForm(l);
    if (inner) {
      const offset = BigInt.asIntN(64, inner[1] + (op === "+" ? r.value : -r.value));
      return { e: { kind: "binary", op: "+", left: inner[0], right: { kind: "num", value: offset } }, depth: left.depth };
    }
  }
  return { e: { kind: "binary", op, left: l, right: r }, depth: Math.max(left.depth, right.depth) + 1 };
}
var Parser = class {
  constructor(text, local) {
    this.text = text;
    this.local = local;
  }
  text;
  local;
  pos = 0;
  parseAll() {
    const operands = [];
    const pending = [];
    let parens = 0;
    const reduce = () => {
      const top = pending.pop();
      const right = operands.pop();
      const left = operands.pop();
      operands.push(this.bounded(makeBinary(top.op, left, right)));
    };
    const operand = (e) => {
      let v = e;
      for (let top = pending.at(-1); top?.kind === "unary"; top = pending.at(-1)) {
        pending.pop();
        v = this.bounded(makeUnary(top.op, v));
      }
      operands.push(v);
    };
    for (; ; ) {
      this.skipSpace();
      const ch = this.text[this.pos];
      if (ch === "-" || ch === "~" || ch === "!" || ch === "+") {
        this.pos++;
        pending.push({ kind: "unary", op: ch });
        continue;
      }
      if (ch === "(") {
        this.pos++;
        parens++;
        pending.push({ kind: "paren" });
        continue;
      }
      operand({ e: this.primary(), depth: 1 });
      for (; ; ) {
        this.skipSpace();
        if (this.text[this.pos] !== ")" || parens === 0) break;
        this.pos++;
        parens--;
        while (pending.at(-1)?.kind === "binary") reduce();
        pending.pop();
        operand(operands.pop());
      }
      const op = this.peekOperator();
      if (!op) break;
      for (let top = pending.at(-1); top?.kind === "binary" && PRECEDENCE[top.op] >= PRECEDENCE[op]; top = pending.at(-1)) reduce();
      this.pos += this.operatorLength(op);
      pending.push({ kind: "binary", op });
    }
    if (parens > 0) throw new AsmError("missing ')'");
    while (pending.length) reduce();
    this.skipSpace();
    if (this.pos < this.text.length) throw new AsmError(`junk at end of expression: '${this.text.slice(this.pos)}'`);
    return operands[0].e;
  }
  bounded(s) {
    if (s.depth > MAX_EXPR_DEPTH) throw new AsmError(`expression too deeply nested (more than ${MAX_EXPR_DEPTH} levels of operators on symbols)`);
    return s;
  }
  skipSpace() {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
  peekOperator() {
    this.skipSpace();
    for (const [spelling, op] of OPERATORS) {
      if (this.text.startsWith(spelling, this.pos)) return op;
    }
    return void 0;
  }
  operatorLength(op) {
    for (const [spelling, o2] of OPERATORS) if (o2 === op && this.text.startsWith(spelling, this.pos)) return spelling.length;
    return op.length;
  }
  /** A number, a symbol, a local label reference or a character constant. */
  primary() {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (rest.length === 0) throw new AsmError("missing expression");
    if (rest[0] === "'") return this.character();
    let m;
    if ((m = /^([0-9]+)([bf])(?![A-Za-z0-9_.$])/.exec(rest)) && !/^0[bB][01]/.test(rest)) {
      this.pos += m[0].length;
      return { kind: "sym", name: this.local(m[1], m[2]) };
    }
    if (m = /^0[xX]([0-9a-fA-F]+)/.exec(rest)) return this.number(m[0], BigInt("0x" + m[1]));
    if (m = /^0[bB]([01]+)/.exec(rest)) return this.number(m[0], BigInt("0b" + m[1]));
    if (m = /^0([0-7]+)/.exec(rest)) return this.number(m[0], BigInt("0o" + m[1]));
    if (m = /^[0-9]+/.exec(rest)) return this.number(m[0], BigInt(m[0]));
    if (SYMBOL_START.test(rest[0])) {
      let end = 1;
      while (end < rest.length && SYMBOL_CHAR.test(rest[end])) end++;
      this.pos += end;
      return { kind: "sym", name: rest.slice(0, end) };
    }
    throw new AsmError(`bad expression: '${rest}'`);
  }
  number(spelling, value) {
    this.pos += spelling.length;
    if (SYMBOL_CHAR.test(this.text[this.pos] ?? "")) throw new AsmError(`bad number: '${spelling}${this.text[this.pos]}'`);
    return { kind: "num", value: BigInt.asIntN(64, value) };
  }
  /** 'c, with the C escapes GNU as takes (\n, \t, \\, \', \0, octal). */
  character() {
    this.pos++;
    let ch = this.text[this.pos];
    if (ch === void 0) throw new AsmError("missing character after '");
    let code;
    if (ch === "\\") {
      this.pos++;
      ch = this.text[this.pos];
      const escapes = { n: 10, t: 9, r: 13, b: 8, f: 12, "\\": 92, "'": 39, '"': 34 };
      if (ch !== void 0 && /[0-7]/.test(ch)) {
        const m = /^[0-7]{1,3}/.exec(this.text.slice(this.pos));
        code = parseInt(m[0], 8) & 255;
        this.pos += m[0].length;
      } else if (ch !== void 0 && ch in escapes) {
        code = escapes[ch];
        this.pos++;
      } else {
        throw new AsmError(`bad escape in character constant: '\\${ch ?? ""}'`);
      }
    } else {
      code = ch.charCodeAt(0);
      this.pos++;
    }
    if (this.text[this.pos] === "'") this.pos++;
    return { kind: "num", value: BigInt(code) };
  }
};
function parseExpr(text, local = (d, dir) => `${d}${dir}`) {
  return new Parser(text, local).parseAll();
}
var wrap = (v) => BigInt.asIntN(64, v);
function applyBinary(op, a, b) {
  switch (op) {
    case "*":
      return wrap(a * b);
    case "/":
      if (b === 0n) throw new AsmError("division by zero");
      return wrap(a / b);
    case "%":
      if (b === 0n) throw new AsmError("division by zero");
      return wrap(a % b);
    case "<<":
      return b >= 64n || b < 0n ? 0n : wrap(a << b);
    // GNU as shifts its unsigned value type right.
    case ">>":
      return b >= 64n || b < 0n ? 0n : wrap(BigInt.asUintN(64, a) >> b);
    case "|":
      return wrap(a | b);
    case "&":
      return wrap(a & b);
    case "^":
      return wrap(a ^ b);
    case "!":
      return wrap(a | ~b);
    case "+":
      return wrap(a + b);
    case "-":
      return wrap(a - b);
    case "==":
      return a === b ? -1n : 0n;
    case "!=":
      return a !== b ? -1n : 0n;
    case "<":
      return a < b ? -1n : 0n;
    case ">":
      return a > b ? -1n : 0n;
    case "<=":
      return a <= b ? -1n : 0n;
    case ">=":
      return a >= b ? -1n : 0n;
    case "&&":
      return a !== 0n && b !== 0n ? 1n : 0n;
    case "||":
      return a !== 0n || b !== 0n ? 1n : 0n;
  }
}
function applyUnary(op, a) {
  switch (op) {
    case "-":
      return wrap(-a);
    case "~":
      return wrap(~a);
    case "!":
      return a === 0n ? 1n : 0n;
    case "+":
      return a;
  }
}
function evaluate(e, lookup3) {
  switch (e.kind) {
    case "num":
      return e.value;
    case "sym":
      return lookup3(e.name);
    case "unary": {
      const a = evaluate(e.arg, lookup3);
      return a === void 0 ? void 0 : applyUnary(e.op, a);
    }
    case "binary": {
      const a = evaluate(e.left, lookup3);
      const b = evaluate(e.right, lookup3);
      return a === void 0 || b === void 0 ? void 0 : applyBinary(e.op, a, b);
    }
  }
}

// asm/assembler.ts
var MAX_SECTION_BYTES = 64 << 20;
var MAX_EXPANSION_BYTES = 128 << 20;
var MAX_EXPANDED_LINE_BYTES = 1 << 20;

// asm/x86/prefixes.ts
var SLOT_ORDER = ["seg", "addr", "data", "rep", "lock"];
var LEGACY_PREFIXES = {
  38: { slot: "seg", name: "es" },
  46: { slot: "seg", name: "cs" },
  54: { slot: "seg", name: "ss" },
  62: { slot: "seg", name: "ds" },
  100: { slot: "seg", name: "fs" },
  101: { slot: "seg", name: "gs" },
  102: { slot: "data", name: "data16" },
  103: { slot: "addr", name: "addr32" },
  240: { slot: "lock", name: "lock" },
  242: { slot: "rep", name: "repnz" },
  243: { slot: "rep", name: "repz" }
};
var PREFIX_WORDS = {
  es: 38,
  cs: 46,
  ss: 54,
  ds: 62,
  fs: 100,
  gs: 101,
  data16: 102,
  addr32: 103,
  lock: 240,
  rep: 243,
  repe: 243,
  repz: 243,
  repne: 242,
  repnz: 242,
  // Hardware lock elision reuses F2 and F3 (SDM Vol.1 16.3.1).
  xacquire: 242,
  xrelease: 243
};
var REX = 64;
var REX_W = 8;
var REX_R = 4;
var REX_X = 2;
var REX_B = 1;
function rexName(rex) {
  const bits2 = (rex & REX_W ? "W" : "") + (rex & REX_R ? "R" : "") + (rex & REX_X ? "X" : "") + (rex & REX_B ? "B" : "");
  return bits2 === "" ? "rex" : `rex.${bits2}`;
}
function rexWord(word2) {
  const m = /^rex(?:\.([wrxb]+))?$/i.exec(word2);
  if (!m) return void 0;
  let rex = REX;
  for (const ch of (m[1] ?? "").toLowerCase()) rex |= { w: REX_W, r: REX_R, x: REX_X, b: REX_B }[ch];
  return rex;
}
var PSEUDO_PREFIXES = ["disp8", "disp32", "load", "store"];

// asm/x86/registers.ts
var NAMES_64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
var NAMES_32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
var NAMES_16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
var NAMES_8_REX = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];
var NAMES_8_LEGACY = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"];
var SEGMENTS = [
  { name: "es", prefix: 38 },
  { name: "cs", prefix: 46 },
  { name: "ss", prefix: 54 },
  { name: "ds", prefix: 62 },
  { name: "fs", prefix: 100 },
  { name: "gs", prefix: 101 }
];
var REGISTERS = /* @__PURE__ */ new Map();
function addGprs(names, size) {
  names.forEach((name, num2) => REGISTERS.set(name, { kind: "gpr", name, size, num: num2 }));
}
addGprs(NAMES_64, 64);
addGprs(NAMES_32, 32);
addGprs(NAMES_16, 16);
NAMES_8_REX.forEach((name, num2) => {
  REGISTERS.set(name, { kind: "gpr", name, size: 8, num: num2, needsRex: num2 >= 4 && num2 < 8 });
});
["ah", "ch", "dh", "bh"].forEach((name, i) => REGISTERS.set(name, { kind: "gpr", name, size: 8, num: 4 + i, high: true }));
for (let num2 = 0; num2 < 16; num2++) REGISTERS.set(`cr${num2}`, { kind: "cr", name: `cr${num2}`, num: num2 });
SEGMENTS.forEach(({ name, prefix }, num2) => REGISTERS.set(name, { kind: "seg", name, num: num2, prefix }));
REGISTERS.set("rip", { kind: "rip", name: "rip", size: 64 });
REGISTERS.set("eip", { kind: "rip", name: "eip", size: 32 });
function lookupRegister(name) {
  return REGISTERS.get(name.toLowerCase());
}
function gprName(num2, size, rex) {
  switch (size) {
    case 64:
      return NAMES_64[num2];
    case 32:
      return NAMES_32[num2];
    case 16:
      return NAMES_16[num2];
    case 8:
      return rex ? NAMES_8_REX[num2] : NAMES_8_LEGACY[num2];
  }
}
var SUFFIX = { 8: "b", 16: "w", 32: "l", 64: "q" };
var SUFFIX_SIZE = { b: 8, w: 16, l: 32, q: 64 };

// asm/x86/decode-modrm.ts
var Reader = class {
  constructor(bytes, pos) {
    this.bytes = bytes;
    this.pos = pos;
  }
  bytes;
  pos;
  get available() {
    return this.bytes.length - this.pos;
  }
  /** Reads a little-endian field of `size` bytes; undefined past the end. */
  read(size) {
    if (this.available < size) return void 0;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = v << 8n | BigInt(this.bytes[this.pos + i]);
    this.pos += size;
    return v;
  }
};
var signExtend = (v, bits2) => BigInt.asIntN(bits2, v);
var mask = (v, bits2) => BigInt.asUintN(bits2, v);
function displacementText(v) {
  if (v < 0n) return v === -(1n << 63n) ? "-0x8000000000000000" : `-0x${(-v).toString(16)}`;
  return `0x${v.toString(16)}`;
}
function decodeMemory(modrm, r, rex, addr32, useRex) {
  const mod = modrm >> 6;
  const rmField = modrm & 7;
  useRex(REX_B);
  const addB = rex & REX_B ? 8 : 0;
  let hasSib = false;
  let base2 = rmField;
  let index = 4;
  let haveIndex = false;
  let scale = 0;
  if (rmField === 4) {
    if (r.available < 1) return void 0;
    const sib = r.bytes[r.pos++];
    hasSib = true;
    useRex(REX_X);
    index = sib >> 3 & 7 | (rex & REX_X ? 8 : 0);
    haveIndex = index !== 4;
    scale = sib >> 6;
    base2 = sib & 7;
  }
  let haveBase = true;
  let ripRelative = false;
  let disp = 0n;
  let dispSize = 0;
  if (mod === 0 && base2 === 5) {
    haveBase = false;
    ripRelative = !hasSib;
    const raw = r.read(4);
    if (raw === void 0) return void 0;
    disp = signExtend(raw, 32);
    dispSize = 4;
  } else if (mod === 1) {
    const raw = r.read(1);
    if (raw === void 0) return void 0;
    disp = signExtend(raw, 8);
    dispSize = 1;
  } else if (mod === 2) {
    const raw = r.read(4);
    if (raw === void 0) return void 0;
    disp = signExtend(raw, 32);
    dispSize = 4;
  }
  let needIndex = false;
  if (hasSib && !haveBase && !haveIndex && addr32) {
    disp = mask(disp, 32);
    needIndex = true;
  }
  const haveDisp = haveBase || needIndex || hasSib && (haveIndex || scale !== 0);
  const names = (n) => addr32 ? gprName(n, 32, true) : gprName(n, 64, true);
  let text = "";
  if (mod !== 0 || base2 === 5) {
    text += haveDisp || ripRelative ? displacementText(disp) : `0x${mask(disp, 64).toString(16)}`;
    if (ripRelative) text += addr32 ? "(%eip)" : "(%rip)";
  }
  let unspellable = false;
  if (haveDisp) {
    text += "(";
    if (haveBase) text += `%${names(base2 + addB)}`;
    if (hasSib && (scale !== 0 || needIndex || haveIndex || haveBase && base2 !== 4)) {
      let indexName;
      if (haveIndex) indexName = `%${names(index)}`;
      else {
        indexName = addr32 ? "%eiz" : "%riz";
        unspellable = true;
      }
      text += `,${indexName},${1 << scale}`;
    }
    text += ")";
  }
  const mem = {
    text,
    dispSize,
    disp,
    unspellable,
    baseIsBp: haveBase && (base2 & 7) === 5,
    hasBase: haveBase,
    addr32
  };
  return {
    mem,
    resolve(end) {
      if (ripRelative) mem.rip = { target: mask(end + disp, 64) };
    }
  };
}

// asm/x86/tables.ts
function hasModrm(f) {
  return f.modrm !== void 0 || f.ext !== void 0 || f.operands.some((s) => "EGMRCS".includes(s.method));
}
function widthSize(width, osize) {
  switch (width) {
    case "b":
    case "bs":
      return 8;
    case "w":
      return 16;
    case "d":
      return 32;
    case "q":
      return 64;
    case "v":
    case "y":
      return osize;
    case "z":
      return osize === 64 ? 32 : osize;
    case "":
      return void 0;
  }
}
var CONDITIONS = [
  ["o"],
  ["no"],
  ["b", "c", "nae"],
  ["ae", "nb", "nc"],
  ["e", "z"],
  ["ne", "nz"],
  ["be", "na"],
  ["a", "nbe"],
  ["s"],
  ["ns"],
  ["p", "pe"],
  ["np", "po"],
  ["l", "nge"],
  ["ge", "nl"],
  ["le", "ng"],
  ["g", "nle"]
];
var hex = (n) => n.toString(16).toUpperCase().padStart(2, "0");
function alu(name, digit) {
  const base2 = digit * 8;
  const lock = name === "cmp" ? "" : "lock ";
  return [
    [name, `${hex(base2)} /r`, "Eb,Gb", `${lock}store`],
    [name, `${hex(base2 + 1)} /r`, "Ev,Gv", `${lock}store`],
    [name, `${hex(base2 + 2)} /r`, "Gb,Eb", "load"],
    [name, `${hex(base2 + 3)} /r`, "Gv,Ev", "load"],
    [name, `83 /${digit}`, "Ev,Ibs", `${lock}sfx=Q`],
    [name, hex(base2 + 4), "AL,Iz"],
    [name, hex(base2 + 5), "rAX,Iz"],
    [name, `80 /${digit}`, "Eb,Iz", `${lock}sfx=Q`],
    [name, `81 /${digit}`, "Ev,Iz", `${lock}sfx=Q`]
  ];
}
function unary(name, digit, flags = "") {
  return [
    [name, `F6 /${digit}`, "Eb", `sfx=Q ${flags}`],
    [name, `F7 /${digit}`, "Ev", `sfx=Q ${flags}`]
  ];
}
function shift(name, digit, gas = "") {
  return [
    [name, `D0 /${digit}`, "Eb,1", `sfx=Q ${gas}`],
    [name, `D1 /${digit}`, "Ev,1", `sfx=Q ${gas}`],
    [name, `C0 /${digit}`, "Eb,Ib", `sfx=Q imm=type ${gas}`],
    [name, `C1 /${digit}`, "Ev,Ib", `sfx=Q imm=type ${gas}`],
    [name, `D2 /${digit}`, "Eb,CL", `sfx=Q ${gas}`],
    [name, `D3 /${digit}`, "Ev,CL", `sfx=Q ${gas}`],
    // GNU as's one-operand spelling of a shift by one.
    [name, `D0 /${digit}`, "Eb", `sfx=Q asm ${gas}`],
    [name, `D1 /${digit}`, "Ev", `sfx=Q asm ${gas}`]
  ];
}
function bitTest(name, opcode, digit) {
  const lock = name === "bt" ? "" : "lock ";
  return [
    [name, `0F ${hex(opcode)} /r`, "Ev,Gv", lock],
    [name, `0F BA /${digit}`, "Ev,Ib", `${lock}sfx=Q imm=type`]
  ];
}
var conditional = (make) => CONDITIONS.flatMap((names, n) => make(names[0], n));
var ROWS = [
  // MOV (SDM Vol.2B "MOV"; moffs rows are objdump's movabs).
  ["movabs", "A0", "AL,Ob", "moffs gas=mov"],
  ["movabs", "A1", "rAX,Ov", "moffs gas=mov"],
  ["movabs", "A2", "Ob,AL", "moffs gas=mov"],
  ["movabs", "A3", "Ov,rAX", "moffs gas=mov"],
  ["mov", "88 /r", "Eb,Gb", "store hle=release"],
  ["mov", "89 /r", "Ev,Gv", "store hle=release"],
  ["mov", "8A /r", "Gb,Eb", "load"],
  ["mov", "8B /r", "Gv,Ev", "load"],
  ["mov", "B0+r", "Zb,Iz"],
  ["mov", "B8+r", "Zv,Iz", "sizes=16,32"],
  ["mov", "C6 /0", "Eb,Iz", "sfx=Q hle=release"],
  ["mov", "C7 /0", "Ev,Iz", "sfx=Q hle=release"],
  ["movabs", "B8+r", "Zv,Iv", "sizes=64 gas=mov"],
  // MOV to and from control registers: always 64-bit in 64-bit mode (SDM Vol.2B "MOV—Move to/from Control Registers").
  ["mov", "0F 20 /r", "Ry,Cy", "sizes=64 d64"],
  ["mov", "0F 22 /r", "Cy,Ry", "sizes=64 d64"],
  // MOV to and from segment registers (SDM Vol.2B "MOV", 8C and 8E). GNU as writes 66 only for a 16-bit
  // register destination of 8C and never REX.W (the selector is zero-extended anyway); objdump reads
  // 66 and REX.W as the register's size.
  ["mov", "8C /r", "Mw,Sw", "asm"],
  ["mov", "8C /r", "Rv,Sw", "asm sizes=16,32"],
  ["mov", "8C /r", "Rq,Sw", "asm"],
  ["mov", "8E /r", "Sw,Mw", "asm"],
  ["mov", "8E /r", "Sw,Rw", "asm"],
  ["mov", "8E /r", "Sw,Rd", "asm"],
  ["mov", "8E /r", "Sw,Rq", "asm"],
  ["mov", "8C /r", "Ev,Sw", "dis"],
  ["mov", "8E /r", "Sw,Ev", "dis"],
  // MOVZX, MOVSX, MOVSXD in GNU as's spellings movzbl, movswq, movslq...
  ["movzb", "0F B6 /r", "Gv,Eb", "sfx=R gas=movzx"],
  ["movzw", "0F B7 /r", "Gy,Ew", "sfx=R gas=movzx"],
  ["movzw", "0F B7 /r", "Gv,Ew", "sizes=16 sfx=R dis"],
  ["movsb", "0F BE /r", "Gv,Eb", "sfx=R gas=movsx"],
  ["movsw", "0F BF /r", "Gy,Ew", "sfx=R gas=movsx"],
  ["movsw", "0F BF /r", "Gv,Ew", "sizes=16 sfx=R dis"],
  ["movsl", "63 /r", "Gv,Ed", "sizes=64 sfx=R gas=movsx,movsxd"],
  ["movsxd", "63 /r", "Gv,Ed", "sizes=16,32"],
  ["lea", "8D /r", "Gv,M"],
  // XCHG commutes: GNU as takes either order and puts the first AT&T operand in ModRM.reg.
  ["xchg", "90+r", "Zv,rAX"],
  ["xchg", "90+r", "rAX,Zv", "asm"],
  ["xchg", "86 /r", "Eb,Gb", "lock hle=any"],
  ["xchg", "87 /r", "Ev,Gv", "lock hle=any"],
  ["xchg", "86 /r", "Gb,Eb", "lock asm hle=any"],
  ["xchg", "87 /r", "Gv,Ev", "lock asm hle=any"],
  ["cmpxchg", "0F B0 /r", "Eb,Gb", "lock"],
  ["cmpxchg", "0F B1 /r", "Ev,Gv", "lock"],
  ["xadd", "0F C0 /r", "Eb,Gb", "lock"],
  ["xadd", "0F C1 /r", "Ev,Gv", "lock"],
  ...alu("add", 0),
  ...alu("or", 1),
  ...alu("adc", 2),
  ...alu("sbb", 3),
  ...alu("and", 4),
  ...alu("sub", 5),
  ...alu("xor", 6),
  ...alu("cmp", 7),
  ["test", "84 /r", "Eb,Gb"],
  ["test", "85 /r", "Ev,Gv"],
  ["test", "84 /r", "Gb,Eb", "asm"],
  ["test", "85 /r", "Gv,Ev", "asm"],
  ["test", "A8", "AL,Iz"],
  ["test", "A9", "rAX,Iz"],
  ["test", "F6 /0", "Eb,Iz", "sfx=Q"],
  ["test", "F7 /0", "Ev,Iz", "sfx=Q"],
  // Group 3 /1 is reserved in the SDM (Table A-6) but decodes as TEST, as objdump shows.
  ["test", "F6 /1", "Eb,Iz", "sfx=Q dis"],
  ["test", "F7 /1", "Ev,Iz", "sfx=Q dis"],
  ["inc", "FE /0", "Eb", "lock sfx=Q"],
  ["inc", "FF /0", "Ev", "lock sfx=Q"],
  ["dec", "FE /1", "Eb", "lock sfx=Q"],
  ["dec", "FF /1", "Ev", "lock sfx=Q"],
  ...unary("not", 2, "lock"),
  ...unary("neg", 3, "lock"),
  ...unary("mul", 4),
  ...unary("imul", 5),
  ["imul", "0F AF /r", "Gv,Ev"],
  ["imul", "6B /r", "Gv,Ev,Ibs"],
  ["imul", "69 /r", "Gv,Ev,Iz"],
  ["imul", "6B /r", "Gv,Ibs", "asm dup"],
  ["imul", "69 /r", "Gv,Iz", "asm dup"],
  ...unary("div", 6),
  ...unary("idiv", 7),
  ...shift("rol", 0),
  ...shift("ror", 1),
  ...shift("rcl", 2),
  ...shift("rcr", 3),
  ...shift("shl", 4, "gas=sal"),
  ...shift("shr", 5),
  ...shift("sar", 7),
  // SDM Vol.2D Table A-6 leaves group 2 /6 reserved; processors execute it as SHL and objdump prints it so.
  ["shl", "D0 /6", "Eb,1", "sfx=Q dis"],
  ["shl", "D1 /6", "Ev,1", "sfx=Q dis"],
  ["shl", "C0 /6", "Eb,Ib", "sfx=Q dis"],
  ["shl", "C1 /6", "Ev,Ib", "sfx=Q dis"],
  ["shl", "D2 /6", "Eb,CL", "sfx=Q dis"],
  ["shl", "D3 /6", "Ev,CL", "sfx=Q dis"],
  ...bitTest("bt", 163, 4),
  ...bitTest("bts", 171, 5),
  ...bitTest("btr", 179, 6),
  ...bitTest("btc", 187, 7),
  // SETcc ignores ModRM.reg (SDM Vol.2B "SETcc"); GNU as writes 0.
  ...conditional((cc, n) => [[`set${cc}`, `0F ${hex(144 + n)}`, "Eb"]]),
  ...conditional((cc, n) => [[`cmov${cc}`, `0F ${hex(64 + n)} /r`, "Gv,Ev"]]),
  ...conditional((cc, n) => [
    [`j${cc}`, hex(112 + n), "Jb"],
    [`j${cc}`, `0F ${hex(128 + n)}`, "Jz"]
  ]),
  // Stack operations default to 64 bits and cannot be 32 bits (SDM Vol.1 3.6.1, Vol.2B "PUSH").
  ["push", "50+r", "Zv", "sizes=16,64 d64"],
  ["push", "FF /6", "Ev", "sizes=16,64 d64 sfx=P"],
  ["push", "6A", "Ibs", "sizes=16,64 d64 sfx=P"],
  ["push", "68", "Iz", "sizes=16,64 d64 sfx=P imm=size"],
  ["pop", "58+r", "Zv", "sizes=16,64 d64"],
  ["pop", "8F /0", "Ev", "sizes=16,64 d64 sfx=P"],
  ["pushf", "9C", "", "sizes=16,64 d64 sfx=P"],
  ["popf", "9D", "", "sizes=16,64 d64 sfx=P"],
  ["call", "E8", "Jz", "sizes=64 d64"],
  ["call", "FF /2", "Ev", "sizes=64 d64"],
  ["jmp", "EB", "Jb", "sizes=64 d64"],
  ["jmp", "E9", "Jz", "sizes=64 d64"],
  ["jmp", "FF /4", "Ev", "sizes=64 d64"],
  ["ret", "C3", "", "sizes=16,64 d64 sfx=P rep"],
  ["ret", "C2", "Iw", "sizes=16,64 d64 sfx=P imm=size"],
  ["leave", "C9", "", "sizes=16,64 d64 sfx=P"],
  ["enter", "C8", "Iw,Ib", "sizes=16,64 d64 sfx=P noreverse"],
  ["nop", "90", "", "rep"],
  ["nop", "0F 1F /0", "Ev", "sfx=Q"],
  // SDM Vol.2B "NOP": 0F 1F takes any ModRM.reg; GNU as writes /0.
  ...[1, 2, 3, 4, 5, 6, 7].map((digit) => ["nop", `0F 1F /${digit}`, "Ev", "sfx=Q dis"]),
  ["pause", "F3 90", ""],
  ["cbtw", "98", "", "sizes=16"],
  ["cwtl", "98", "", "sizes=32"],
  ["cltq", "98", "", "sizes=64"],
  ["cwtd", "99", "", "sizes=16"],
  ["cltd", "99", "", "sizes=32"],
  ["cqto", "99", "", "sizes=64"],
  ["bswap", "0F C8+r", "Zy"],
  // SDM Vol.2A "BSWAP": undefined for 16-bit registers; objdump prints it with the 16-bit name.
  ["bswap", "0F C8+r", "Zv", "sizes=16 dis"],
  // String instructions (SDM Vol.2B MOVS, CMPS, STOS, LODS, SCAS), as objdump writes them out; GNU as also
  // takes them without operands (movsb, stosq...), and movsb/movsw/movsl are MOVSX's stems too.
  ["movs", "A4", "Yb,Xb", "sfx=R rep"],
  ["movs", "A5", "Yv,Xv", "sfx=R rep"],
  ["cmps", "A6", "Xb,Yb", "sfx=R rep"],
  ["cmps", "A7", "Xv,Yv", "sfx=R rep"],
  ["stos", "AA", "Yb,AL", "rep"],
  ["stos", "AB", "Yv,rAX", "rep"],
  ["lods", "AC", "AL,Xb", "rep"],
  ["lods", "AD", "rAX,Xv", "rep"],
  ["scas", "AE", "AL,Yb", "rep"],
  ["scas", "AF", "rAX,Yv", "rep"],
  ...["movs", "cmps", "stos", "lods", "scas"].flatMap((name, i) => {
    const op = [164, 166, 170, 172, 174][i];
    const rows2 = [[name, hex(op), "", "asm rep sizes=8"], [name, hex(op + 1), "", "asm rep sizes=16,32,64"]];
    if (name === "movs") {
      for (const [suffix, size] of [["b", 8], ["w", 16], ["l", 32]]) {
        const opc = hex(size === 8 ? op : op + 1);
        const sized = size === 8 ? "" : ` sizes=${size}`;
        rows2.push([`movs${suffix}`, opc, "", `asm rep${sized}`], [`movs${suffix}`, opc, size === 8 ? "Yb,Xb" : "Yv,Xv", `asm rep${sized}`]);
      }
    }
    return rows2;
  }),
  ["sahf", "9E", ""],
  ["lahf", "9F", ""],
  // Double shifts and bit scans (SDM Vol.2B SHLD, SHRD; Vol.2A BSF, BSR, LZCNT; Vol.2B POPCNT, TZCNT).
  ["shld", "0F A4 /r", "Ev,Gv,Ib", "imm=type"],
  ["shld", "0F A5 /r", "Ev,Gv,CL"],
  ["shrd", "0F AC /r", "Ev,Gv,Ib", "imm=type"],
  ["shrd", "0F AD /r", "Ev,Gv,CL"],
  // GNU as's two-operand spelling of a double shift by CL.
  ["shld", "0F A5 /r", "Ev,Gv", "asm"],
  ["shrd", "0F AD /r", "Ev,Gv", "asm"],
  ["bsf", "0F BC /r", "Gv,Ev"],
  ["bsr", "0F BD /r", "Gv,Ev"],
  ["tzcnt", "F3 0F BC /r", "Gv,Ev"],
  ["lzcnt", "F3 0F BD /r", "Gv,Ev"],
  ["popcnt", "F3 0F B8 /r", "Gv,Ev"],
  ["cmpxchg8b", "0F C7 /1", "M", "lock"],
  ["cmpxchg16b", "0F C7 /1", "M", "sizes=64 lock"],
  ["endbr64", "F3 0F 1E FA", ""],
  ["clc", "F8", ""],
  ["stc", "F9", ""],
  ["cmc", "F5", ""],
  ["cld", "FC", ""],
  ["std", "FD", ""],
  ["cli", "FA", ""],
  ["sti", "FB", ""],
  ["hlt", "F4", ""],
  // Port I/O (SDM Vol.2A "IN", Vol.2B "OUT"): there is no 64-bit form.
  ["in", "E4", "AL,Ib", "imm=trunc"],
  ["in", "E5", "eAX,Ib", "sizes=16,32 imm=trunc"],
  ["in", "EC", "AL,DX"],
  ["in", "ED", "eAX,DX", "sizes=16,32"],
  ["out", "E6", "Ib,AL", "imm=trunc"],
  ["out", "E7", "Ib,eAX", "sizes=16,32 imm=trunc"],
  ["out", "EE", "DX,AL"],
  ["out", "EF", "DX,eAX", "sizes=16,32"],
  // System instructions (SDM Vol.2 and Vol.3A 2.8).
  ["int3", "CC", ""],
  ["int", "CD", "Ib", "imm=size"],
  ["iretw", "CF", "", "sizes=16"],
  ["iret", "CF", "", "sizes=32"],
  ["iretq", "CF", "", "sizes=64"],
  ["syscall", "0F 05", ""],
  ["sysretq", "0F 07", "", "sizes=64"],
  ["sysretl", "0F 07", ""],
  ["sgdt", "0F 01 /0", "M"],
  ["sidt", "0F 01 /1", "M"],
  ["lgdt", "0F 01 /2", "M"],
  ["lidt", "0F 01 /3", "M"],
  ["invlpg", "0F 01 /7", "M"],
  ["vmcall", "0F 01 C1", ""],
  ["clac", "0F 01 CA", ""],
  ["stac", "0F 01 CB", ""],
  ["rdpkru", "0F 01 EE", ""],
  ["wrpkru", "0F 01 EF", ""],
  ["swapgs", "0F 01 F8", ""],
  ["rdtscp", "0F 01 F9", ""],
  ["ltr", "0F 00 /3", "Ew"],
  ["invd", "0F 08", ""],
  ["wbinvd", "0F 09", ""],
  ["ud2", "0F 0B", ""],
  ["wrmsr", "0F 30", ""],
  ["rdtsc", "0F 31", ""],
  ["rdmsr", "0F 32", ""],
  ["cpuid", "0F A2", ""],
  // LFENCE ignores ModRM.rm (SDM Vol.2A "LFENCE": 0F AE E8-EF), and objdump agrees; GNU as writes rm = 0.
  ...Array.from({ length: 8 }, (_, rm2) => ["lfence", `0F AE ${hex(232 + rm2)}`, "", rm2 ? "dis" : ""]),
  ["mfence", "0F AE F0", ""],
  ["sfence", "0F AE F8", ""],
  ["clflush", "0F AE /7", "M"],
  ["invpcid", "66 0F 38 82 /r", "Gq,M"],
  // The FS/GS base instructions take a register only (SDM Vol.2B RDFSBASE/RDGSBASE, WRFSBASE/WRGSBASE).
  ["rdfsbase", "F3 0F AE /0", "Ry"],
  ["rdgsbase", "F3 0F AE /1", "Ry"],
  ["wrfsbase", "F3 0F AE /2", "Ry"],
  ["wrgsbase", "F3 0F AE /3", "Ry"]
];
function parseSpec(code) {
  if (["AL", "rAX", "eAX", "CL", "DX", "1"].includes(code)) {
    const width2 = code === "AL" || code === "CL" ? "b" : code === "DX" ? "w" : code === "1" ? "" : "v";
    return { method: code, width: width2 };
  }
  const method = code[0];
  const width = code.slice(1);
  if (!"EGMRCZIJOXYS".includes(method) || !["b", "w", "d", "q", "v", "y", "z", "bs", ""].includes(width)) {
    throw new Error(`bad operand code ${code}`);
  }
  return { method, width };
}
function parseRow([mnemonic2, opcodeText, operandText2, flagText = ""], index) {
  const operands = operandText2 === "" ? [] : operandText2.split(",").map(parseSpec);
  const flags = flagText.split(/\s+/).filter((f) => f !== "");
  const flag = (name) => flags.includes(name);
  const value = (name) => flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
  const tokens = opcodeText.split(/\s+/);
  let prefix;
  if (tokens.length > 1 && ["66", "F2", "F3"].includes(tokens[0])) prefix = parseInt(tokens.shift(), 16);
  const opcode = [];
  let ext;
  let modrm;
  let plusReg = false;
  for (const t2 of tokens) {
    if (t2 === "/r") continue;
    if (/^\/[0-7]$/.test(t2)) ext = Number(t2[1]);
    else if (t2.endsWith("+r")) {
      opcode.push(parseInt(t2, 16));
      plusReg = true;
    } else {
      const complete = opcode.length > 0 && (opcode[0] !== 15 || opcode.length === 2 && opcode[1] !== 56 || opcode.length === 3);
      if (complete) modrm = parseInt(t2, 16);
      else opcode.push(parseInt(t2, 16));
    }
  }
  let sizes2;
  const sizeText = value("sizes");
  if (sizeText) sizes2 = sizeText.split(",").map((s) => Number(s));
  else if (operands.some((s) => s.width === "v")) sizes2 = [16, 32, 64];
  else if (operands.some((s) => s.width === "y")) sizes2 = [32, 64];
  else if (operands.some((s) => s.width === "b" && !"IJ".includes(s.method) && s.method !== "CL")) sizes2 = [8];
  else if (operands.some((s) => s.width === "z" && s.method !== "J")) sizes2 = [16, 32, 64];
  else sizes2 = [];
  const direction = flag("load") ? "load" : flag("store") ? "store" : void 0;
  return {
    mnemonic: mnemonic2,
    gas: (value("gas") ?? "").split(",").filter((s) => s !== ""),
    ...prefix !== void 0 ? { prefix } : {},
    opcode,
    ...ext !== void 0 ? { ext } : {},
    ...modrm !== void 0 ? { modrm } : {},
    plusReg,
    operands,
    sizes: sizes2,
    default64: flag("d64"),
    lock: flag("lock"),
    ...direction ? { direction } : {},
    suffix: value("sfx") ?? "",
    immError: value("imm") ?? "type",
    asmOnly: flag("asm"),
    disOnly: flag("dis"),
    dup: flag("dup"),
    moffs: flag("moffs"),
    rep: flag("rep"),
    ...value("hle") ? { hle: value("hle") } : {},
    noReverse: flag("noreverse"),
    index
  };
}
var FORMS = ROWS.map(parseRow);
var BY_MNEMONIC = /* @__PURE__ */ new Map();
for (const f of FORMS) {
  if (f.disOnly) continue;
  for (const name of [f.mnemonic, ...f.gas]) {
    const list = BY_MNEMONIC.get(name) ?? [];
    list.push(f);
    BY_MNEMONIC.set(name, list);
  }
}
for (const names of CONDITIONS) {
  for (const alias of names.slice(1)) {
    for (const stem of ["j", "set", "cmov"]) BY_MNEMONIC.set(stem + alias, BY_MNEMONIC.get(stem + names[0]));
  }
}

// asm/x86/decode.ts
var INDEX = /* @__PURE__ */ new Map();
for (const form of FORMS) {
  if (form.asmOnly) continue;
  const last = form.opcode[form.opcode.length - 1];
  for (let r = 0; r < (form.plusReg ? 8 : 1); r++) {
    const key = [...form.opcode.slice(0, -1), last + r].join(",");
    const list = INDEX.get(key) ?? [];
    list.push(form);
    INDEX.set(key, list);
  }
}
var isBranch = (f) => f.operands.some((s) => s.method === "J") || f.mnemonic === "ret" || f.opcode[0] === 255 && (f.ext === 2 || f.ext === 4);
function operandSize(form, has66, rexW) {
  if (form.sizes.length === 0) return { osize: void 0, used66: false, usedW: false };
  if (form.sizes.length === 1 && form.sizes[0] === 8) return { osize: 8, used66: false, usedW: false };
  let osize;
  let used66 = false;
  let usedW = false;
  if (rexW && form.sizes.includes(64)) {
    osize = 64;
    usedW = !form.default64;
  } else if (has66 && !rexW && form.sizes.includes(16)) {
    osize = 16;
    used66 = true;
  } else osize = form.default64 ? 64 : 32;
  return form.sizes.includes(osize) ? { osize, used66, usedW } : void 0;
}
function decodeInsn(bytes, offset, address) {
  const r = new Reader(bytes, offset);
  const prefixes = [];
  while (r.available > 0 && LEGACY_PREFIXES[bytes[r.pos]] && prefixes.length < 14) {
    prefixes.push({ byte: bytes[r.pos], used: false });
    r.pos++;
  }
  let rex = 0;
  if (r.available > 0 && (bytes[r.pos] & 240) === 64) rex = bytes[r.pos++];
  if (r.available === 0) return void 0;
  const opcode = [bytes[r.pos++]];
  if (opcode[0] === 15) {
    if (r.available === 0) return void 0;
    opcode.push(bytes[r.pos++]);
    if (opcode[1] === 56) {
      if (r.available === 0) return void 0;
      opcode.push(bytes[r.pos++]);
    }
  }
  const rows2 = INDEX.get(opcode.join(","));
  if (!rows2) return void 0;
  const modrm = r.available > 0 ? bytes[r.pos] : void 0;
  const has = (byte) => prefixes.some((p) => p.byte === byte);
  const lastOf = (pred) => {
    for (let i = prefixes.length - 1; i >= 0; i--) if (pred(prefixes[i].byte)) return prefixes[i];
    return void 0;
  };
  let best;
  for (const form of rows2) {
    if (form.prefix !== void 0 && !has(form.prefix)) continue;
    if (hasModrm(form)) {
      if (modrm === void 0) return void 0;
      if (form.modrm !== void 0 && modrm !== form.modrm) continue;
      if (form.ext !== void 0 && (modrm >> 3 & 7) !== form.ext) continue;
      if (form.operands.some((s) => s.method === "M") && modrm >> 6 === 3) continue;
      if (form.operands.some((s) => s.method === "R") && !form.operands.some((s) => s.method === "C") && modrm >> 6 !== 3) continue;
    }
    if (form.mnemonic === "nop" && form.opcode[0] === 144 && (rex & REX_B || has(102))) continue;
    const size = operandSize(form, has(102) && form.prefix !== 102, (rex & REX_W) !== 0);
    if (!size) continue;
    const score = form.prefix ? 8 : form.mnemonic === "nop" ? 4 : (size.usedW ? 2 : 0) + (size.used66 ? 1 : 0);
    if (!best || score > best.score) best = { form, size, score };
  }
  if (!best || unsupported(best.form, has, (rex & REX_W) !== 0, opcode, modrm)) return void 0;
  const insn = decodeOperands(best.form, best.size, r, prefixes, rex, address, lastOf);
  return insn && insn.length <= 15 ? insn : void 0;
}
function unsupported(form, has, rexW, opcode, modrm) {
  const jump = form.operands[0]?.method === "J";
  const jcc = jump && form.mnemonic !== "jmp" && form.mnemonic !== "call";
  if (isBranch(form) && has(242)) return true;
  if (jcc && has(46) !== has(62)) return true;
  const branch16 = jump && form.operands[0].width === "z" || form.opcode[0] === 255 && (form.ext === 2 || form.ext === 4);
  if (branch16 && has(102) && !rexW) return true;
  if (has(242) && opcode[0] === 15 && [184, 188, 189].includes(opcode[1])) return true;
  if (form.prefix === 102 && (has(242) || has(243))) return true;
  const prefixed = has(102) || has(242) || has(243);
  if (prefixed && form.prefix === void 0 && opcode[0] === 15 && (opcode[1] === 9 || opcode[1] === 174)) return true;
  return prefixed && opcode[0] === 15 && opcode[1] === 1 && (modrm === 238 || modrm === 239);
}
function decodeOperands(form, size, r, prefixes, rex, address, lastOf) {
  const { osize } = size;
  const start = r.pos - form.opcode.length - prefixes.length - (rex ? 1 : 0);
  let rexUsed = 0;
  const useRex = (bit2) => {
    if (rex & bit2) rexUsed |= bit2 | 64;
  };
  if (size.usedW) useRex(REX_W);
  const hasRex = rex !== 0;
  const addr32 = prefixes.some((p) => p.byte === 103);
  const opcodeLast = r.bytes[r.pos - 1];
  const gpr = (num2, sz, bit2) => {
    if (bit2) useRex(bit2);
    if (sz === 8 && num2 & 4) rexUsed |= 64;
    return { kind: "reg", name: gprName(num2, sz, hasRex) };
  };
  let modrm;
  let memory;
  let memoryFixup;
  if (hasModrm(form)) {
    modrm = r.bytes[r.pos++];
    const needsMemory = form.operands.some((s) => s.method === "E" || s.method === "M");
    if (needsMemory && modrm >> 6 !== 3) {
      const decoded = decodeMemory(modrm, r, rex, addr32, useRex);
      if (!decoded) return void 0;
      memory = decoded.mem;
      memoryFixup = decoded.resolve;
    }
  }
  const reg = modrm === void 0 ? 0 : modrm >> 3 & 7 | (rex & REX_R ? 8 : 0);
  const rm2 = modrm === void 0 ? 0 : modrm & 7 | (rex & REX_B ? 8 : 0);
  const operands = [];
  const rels = [];
  for (const spec of form.operands) {
    const sz = widthSize(spec.width, osize);
    switch (spec.method) {
      case "G":
        operands.push(gpr(reg, sz, REX_R));
        break;
      case "C":
        useRex(REX_R);
        operands.push({ kind: "reg", name: `cr${reg}` });
        break;
      case "S": {
        const names = ["es", "cs", "ss", "ds", "fs", "gs"];
        if ((reg & 7) > 5) return void 0;
        operands.push({ kind: "reg", name: names[reg & 7] });
        break;
      }
      case "R":
        operands.push(gpr(rm2, sz, REX_B));
        break;
      case "E":
      case "M":
        if (memory) {
          operands.push({ kind: "mem", mem: memory });
        } else operands.push(gpr(rm2, sz, REX_B));
        break;
      case "Z":
        operands.push(gpr(opcodeLast & 7 | (rex & REX_B ? 8 : 0), sz, REX_B));
        break;
      case "AL":
      case "rAX":
      case "eAX":
        operands.push({ kind: "reg", name: gprName(0, sz, hasRex) });
        break;
      case "CL":
        operands.push({ kind: "reg", name: "cl" });
        break;
      case "DX":
        operands.push({ kind: "reg", name: "(dx)" });
        break;
      case "1":
        operands.push({ kind: "one" });
        break;
      case "I": {
        const bytes = spec.width === "b" || spec.width === "bs" ? 1 : spec.width === "w" ? 2 : sz / 8;
        const raw = r.read(bytes);
        if (raw === void 0) return void 0;
        let value;
        if (spec.width === "bs") value = mask(signExtend(raw, 8), osize ?? 64);
        else if (spec.width === "z" && osize === 64) value = mask(signExtend(raw, 32), 64);
        else value = raw;
        operands.push({ kind: "imm", value });
        break;
      }
      case "J": {
        const bytes = spec.width === "b" ? 1 : 4;
        const raw = r.read(bytes);
        if (raw === void 0) return void 0;
        rels.push({ index: operands.length, rel: signExtend(raw, bytes * 8) });
        operands.push({ kind: "rel", target: 0n });
        break;
      }
      case "X": {
        const fsgs = lastOf((b) => b === 100 || b === 101);
        operands.push({ kind: "string", text: `%${fsgs ? LEGACY_PREFIXES[fsgs.byte].name : "ds"}:(%${addr32 ? "esi" : "rsi"})` });
        break;
      }
      case "Y":
        operands.push({ kind: "string", text: `%es:(%${addr32 ? "edi" : "rdi"})` });
        break;
      case "O": {
        const raw = r.read(addr32 ? 4 : 8);
        if (raw === void 0) return void 0;
        operands.push({ kind: "moffs", address: raw });
        break;
      }
    }
  }
  const length = r.pos - start;
  const end = address + BigInt(length);
  for (const { index, rel } of rels) operands[index] = { kind: "rel", target: mask(end + rel, 64) };
  memoryFixup?.(end);
  const last66 = lastOf((b) => b === 102);
  const prefixTable = form.prefix === void 0 && form.opcode.length === 2 && form.opcode[0] === 15 && [188, 189].includes(opcodeLast);
  const takes66 = form.mnemonic === "movsl" && !memory || form.mnemonic === "xchg" && form.opcode.length === 1 && opcodeLast === 144 || prefixTable;
  const segmentMemory = memory !== void 0 && form.operands.some((s) => s.method === "S");
  if (segmentMemory) rexUsed &= ~REX_W;
  if (last66 && (size.used66 || form.prefix === 102 || takes66) && !segmentMemory) last66.used = true;
  if (form.prefix === 243 || form.prefix === 242) lastOf((b) => b === form.prefix).used = true;
  const hasMemory = memory !== void 0 || operands.some((o2) => o2.kind === "moffs");
  const last67 = lastOf((b) => b === 103);
  const stringOps = form.operands.some((s) => s.method === "X" || s.method === "Y");
  if (last67 && (memory || stringOps)) last67.used = true;
  if (stringOps) {
    if (form.operands.some((s) => s.method === "X")) {
      const seg = lastOf((b) => LEGACY_PREFIXES[b].slot === "seg");
      if (seg) seg.used = true;
    }
    const compares = form.mnemonic === "cmps" || form.mnemonic === "scas";
    for (const p of prefixes) if (p.byte === 243 && !compares) p.name = "rep";
    return { form, osize, length, prefixes, rex, rexUsed, operands, hasRex };
  }
  const lastSeg = lastOf((b) => LEGACY_PREFIXES[b].slot === "seg");
  const notrack = lastSeg?.byte === 62 && form.opcode[0] === 255 && (form.ext === 2 || form.ext === 4);
  if (notrack) lastSeg.name = "notrack";
  const active = notrack ? void 0 : lastOf((b) => b === 100 || b === 101);
  if (active && hasMemory) {
    lastSeg.used = true;
    const seg = LEGACY_PREFIXES[active.byte].name;
    if (memory) memory.seg = seg;
    for (const o2 of operands) if (o2.kind === "moffs") o2.seg = seg;
  }
  if (memory) {
    const lock = prefixes.some((p) => p.byte === 240);
    const f2 = lastOf((b) => b === 242);
    const f3 = lastOf((b) => b === 243);
    if (form.hle === "any" || form.lock && lock && form.hle !== "release") {
      if (f2) f2.name = "xacquire";
      if (f3) f3.name = "xrelease";
    } else if (form.hle === "release" && f3 && lastOf((b) => b === 242 || b === 243) === f3) f3.name = "xrelease";
  }
  return { form, osize, length, prefixes, rex, rexUsed, operands, hasRex };
}

// asm/x86/fields.ts
var hex64 = (v) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");
var hex2 = (v) => `0x${BigInt.asUintN(64, v).toString(16)}`;
function offsetInRange(v, bytes) {
  const mask3 = (1n << BigInt(bytes * 8)) - 1n;
  const u = BigInt.asUintN(64, v);
  if ((u & ~mask3) !== 0n && (BigInt.asUintN(64, -v) & ~mask3) !== 0n) {
    throw new AsmError(`${hex2(v)} shortened to ${hex2(u & mask3)}`);
  }
  return u & mask3;
}
function writeLE(bytes, offset, size, value) {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}
function rangeError(field, v, at) {
  const bits2 = BigInt(field.size * 8);
  if (field.size === 8 || field.check === "none") return void 0;
  const mask3 = BigInt.asUintN(64, ~0n << (field.check === "unsigned" ? bits2 : bits2 - 1n));
  const u = BigInt.asUintN(64, v);
  const tooLarge = field.check === "unsigned" ? (u & mask3) !== 0n && (BigInt.asUintN(64, -v) & mask3) !== 0n : (u & mask3) !== 0n && (u & mask3) !== mask3;
  if (!tooLarge) return void 0;
  if (field.check === "pcrel" && field.size === 4) {
    const name = field.expr?.kind === "sym" ? field.expr.name : "*ABS*";
    return `relocation truncated to fit: R_X86_64_PC32 against \`${name}'`;
  }
  return `value of ${hex64(v)} too large for field of ${field.size} byte${field.size > 1 ? "s" : ""} at ${hex64(at)}`;
}
function makeFixup(field, offset, length) {
  return {
    offset,
    expr: field.expr,
    apply(bytes, value, address) {
      const v = field.check === "pcrel" ? BigInt.asIntN(64, value - (address + BigInt(length))) : value;
      const error = rangeError(field, v, address + BigInt(offset));
      if (error) return error;
      writeLE(bytes, offset, field.size, v);
      return void 0;
    }
  };
}

// asm/x86/match.ts
var fitsSigned = (v, bits2) => v >= -(1n << BigInt(bits2 - 1)) && v < 1n << BigInt(bits2 - 1);
function normalizeImmediate(v, osize) {
  if ((osize === 8 || osize === 16) && v >= 0n && v <= 0xffffn) return BigInt.asIntN(16, v);
  if ((osize === 8 || osize === 16 || osize === 32) && v >= 0n && v <= 0xffffffffn) return BigInt.asIntN(32, v);
  return v;
}
var isGpr = (op) => op.kind === "reg" && op.reg.kind === "gpr";
var isPlainAddress = (op) => op.kind === "mem" && !op.base && !op.index;
var isIndirectBranch = (f) => f.opcode[0] === 255 && (f.ext === 2 || f.ext === 4);
function kindFits(form, spec, op, cands, st, ctx) {
  if (op.kind !== "imm" && op.indirect && !(spec.method === "E" && isIndirectBranch(form))) return false;
  switch (spec.method) {
    case "E":
      if (op.kind === "mem") {
        if (isIndirectBranch(form) && !op.indirect) return false;
        return absoluteFits(op, ctx);
      }
      return isGpr(op);
    case "M":
      return op.kind === "mem" && absoluteFits(op, ctx);
    case "G":
    case "R":
    case "Z":
      return isGpr(op);
    case "C":
      return op.kind === "reg" && op.reg.kind === "cr";
    case "S":
      return op.kind === "reg" && op.reg.kind === "seg";
    case "AL":
    case "rAX":
    case "eAX":
      return isGpr(op) && op.reg.num === 0;
    case "CL":
      return isGpr(op) && op.reg.num === 1 && op.reg.size === 8;
    case "DX":
      return isGpr(op) && op.reg.num === 2 && op.reg.size === 16;
    case "1":
      return op.kind === "imm" && ctx.knownValue(op.expr) === 1n;
    case "I":
      return op.kind === "imm";
    case "J":
      if (!isPlainAddress(op) || op.seg || op.indirect) return false;
      if (spec.width === "b") return !st.pseudo.has("disp32") && ctx.knownValue(op.disp) === void 0;
      return true;
    case "X":
    case "Y": {
      if (op.kind !== "mem" || op.index || op.disp !== void 0 || op.base?.kind !== "gpr") return false;
      if (op.base.num !== (spec.method === "X" ? 6 : 7) || op.base.size !== 64 && op.base.size !== 32) return false;
      return spec.method === "X" || op.seg === void 0 || op.seg.prefix === 38;
    }
    case "O": {
      if (!isPlainAddress(op)) return false;
      if (cands.stem === "movabs" || st.pseudo.has("disp32")) return true;
      const v = ctx.knownValue(op.disp);
      if (st.prefixes.addr === 103) return v === void 0 || v >= -(1n << 31n) && v < 1n << 32n;
      return v !== void 0 && !fitsSigned(v, 32);
    }
  }
}
function absoluteFits(op, ctx) {
  if (!isPlainAddress(op) || op.disp === void 0) return true;
  const v = ctx.knownValue(op.disp);
  return v === void 0 || fitsSigned(v, 32);
}
function sizeFits(form, spec, op, osize, ctx) {
  const size = widthSize(spec.width, osize);
  switch (spec.method) {
    case "E":
    case "G":
    case "R":
    case "Z":
    case "AL":
    case "rAX":
    case "eAX":
      if (isGpr(op) && op.reg.size !== size) return "size";
      return true;
    case "I": {
      if (op.kind !== "imm") return "type";
      const raw = ctx.knownValue(op.expr);
      if (raw === void 0) return spec.width === "bs" ? "type" : true;
      const v = normalizeImmediate(raw, osize);
      switch (spec.width) {
        case "bs":
          return fitsSigned(v, 8) ? true : "type";
        case "b":
          if (form.immError === "trunc") return true;
          return v >= -128n && v <= 255n ? true : immReason(form);
        case "w":
          return v >= -32768n && v <= 65535n ? true : immReason(form);
        case "z":
          if (osize === 64) return fitsSigned(v, 32) ? true : immReason(form);
          return true;
        default:
          return true;
      }
    }
    default:
      return true;
  }
}
var immReason = (form) => form.immError === "size" ? "size" : "type";
function sizes(spec, op) {
  return isGpr(op) && ["E", "G", "R", "Z", "AL", "rAX", "eAX"].includes(spec.method) && spec.width !== "w" && spec.width !== "d" && spec.width !== "q";
}
var failure = (reason, message) => ({
  reason,
  ...message ? { message } : {},
  priority: message ? 4 : { count: 0, suffix: 1, type: 2, size: 3 }[reason]
});
function tryForm(form, opsAtt, cands, st, ctx) {
  const ops = form.noReverse ? opsAtt : [...opsAtt].reverse();
  if (ops.length !== form.operands.length) return failure("count");
  for (let i = 0; i < ops.length; i++) {
    if (!kindFits(form, form.operands[i], ops[i], cands, st, ctx)) return failure(isGpr(ops[i]) && ops.length === 1 ? "size" : "type");
  }
  if (form.direction && ops.every((op) => op.kind === "reg")) {
    if (st.pseudo.has("load") && form.direction === "store") return failure("type");
    if (st.pseudo.has("store") && form.direction === "load") return failure("type");
  }
  const sized = ops.some((op, i) => sizes(form.operands[i], op));
  let candidates = form.sizes.length ? [...form.sizes] : [void 0];
  const segmentMove = form.sizes.length === 0 && form.operands.some((s) => s.method === "S");
  if (cands.suffix !== void 0 && segmentMove) {
    const other = ops.find((op) => !(op.kind === "reg" && op.reg.kind === "seg"));
    if ((other && isGpr(other) ? other.reg.size : 16) !== cands.suffix) return failure("suffix");
  } else if (cands.suffix !== void 0) {
    if (!form.sizes.includes(cands.suffix)) return failure("suffix");
    candidates = [cands.suffix];
  } else if (form.default64 && !sized) {
    candidates = candidates.filter((s) => s === 64);
  }
  let reason = "size";
  let immFailure;
  const fitting = candidates.filter((osize2) => {
    for (let i = 0; i < ops.length; i++) {
      const r = sizeFits(form, form.operands[i], ops[i], osize2, ctx);
      if (r === true) continue;
      reason = r;
      if (form.operands[i].method === "I" && form.operands[i].width !== "bs" && form.operands.every((spec, j) => j === i || sizeFits(form, spec, ops[j], osize2, ctx) === true)) {
        immFailure = failure(r, `operand ${r} mismatch for \`${cands.stem}'`);
      }
      return false;
    }
    return true;
  });
  const xchgAcc = form.mnemonic === "xchg" && form.plusReg && ops.every((op) => isGpr(op) && op.reg.num === 0);
  const fits2 = xchgAcc ? fitting.filter((s) => s !== 32) : fitting;
  if (fits2.length === 0) {
    if (xchgAcc && fitting.length) return failure("type");
    if (immFailure) return immFailure;
    const conflict = registerConflict(form, ops, cands);
    if (conflict) return failure("size", conflict);
    const typeOnly = form.operands.some((spec) => spec.method === "R" || spec.method === "C" || spec.method === "I" && spec.width === "v");
    return failure(typeOnly ? "type" : reason);
  }
  let osize = fits2[0];
  if (fits2.length > 1) {
    if (form.default64 && fits2.includes(64)) osize = 64;
    else throw new AsmError("no instruction mnemonic suffix given and no register operands; can't size instruction");
  }
  return { match: { form, osize, ops } };
}
function registerConflict(form, ops, cands) {
  const widths = new Set(form.operands.filter((spec, i) => sizes(spec, ops[i])).map((spec) => spec.width === "b" ? "b" : "v"));
  if (widths.size !== 1 || form.sizes.length === 0 || form.sizes.length === 1 && form.sizes[0] !== 8) return void 0;
  const regs = ops.filter((op, i) => sizes(form.operands[i], op)).filter(isGpr);
  if (cands.suffix !== void 0) {
    const wrong = regs.find((op) => op.reg.size !== cands.suffix);
    if (!wrong) return void 0;
    if (cands.suffix === 8) return `\`%${wrong.reg.name}' not allowed with \`${cands.stem}${cands.suffixLetter}'`;
    return `incorrect register \`%${wrong.reg.name}' used with \`${cands.suffixLetter}' suffix`;
  }
  const regSizes = [...new Set(regs.map((r) => r.reg.size))];
  if (regSizes.length < 2) return void 0;
  if (cands.stem === "mov") return "operand type mismatch for `mov'";
  const sameArity = cands.forms.filter((f) => f.operands.length === ops.length);
  if (regSizes.some((size) => !sameArity.some((f) => f.sizes.includes(size)))) return `operand size mismatch for \`${cands.stem}'`;
  return `register type mismatch for \`${cands.stem}'`;
}
function selectForm(cands, opsAtt, st, ctx) {
  if (cands.suffix !== void 0 && !cands.forms.some((f) => f.sizes.includes(cands.suffix))) {
    throw new AsmError(`invalid instruction suffix for \`${cands.stem}'`);
  }
  let worst = failure("count");
  for (const form of cands.forms) {
    const a = tryForm(form, opsAtt, cands, st, ctx);
    if ("match" in a) {
      checkAmbiguity(a.match, cands, opsAtt, st, ctx);
      return a.match;
    }
    if (a.priority > worst.priority) worst = a;
  }
  if (worst.message) throw new AsmError(worst.message);
  switch (worst.reason) {
    case "count":
      throw new AsmError(`number of operands mismatch for \`${cands.stem}'`);
    case "suffix":
      throw new AsmError(`operand type mismatch for \`${cands.stem}'`);
    case "size":
      throw new AsmError(`operand size mismatch for \`${cands.stem}'`);
    case "type":
      throw new AsmError(`operand type mismatch for \`${cands.stem}'`);
  }
}
function checkAmbiguity(m, cands, opsAtt, st, ctx) {
  if (cands.suffix !== void 0 || m.form.sizes.length === 0 || m.form.default64) return;
  if (m.ops.some((op, i) => sizes(m.form.operands[i], op))) return;
  if (!m.ops.some((op, i) => op.kind === "mem" && "EM".includes(m.form.operands[i].method))) return;
  const shape = (f) => f.operands.map((s) => s.method).join(",");
  const sibling = cands.forms.find(
    (f) => f !== m.form && shape(f) === shape(m.form) && f.sizes.join() !== m.form.sizes.join() && "match" in tryForm(f, opsAtt, cands, st, ctx)
  );
  if (sibling) throw new AsmError("no instruction mnemonic suffix given and no register operands; can't size instruction");
}

// asm/x86/operands.ts
function splitOperands2(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") i++;
    else if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth > 0) throw new AsmError(`unbalanced parenthesis in operand ${out.length + 1}.`);
  const last = text.slice(start).trim();
  if (last !== "" || out.length > 0) out.push(last);
  return out;
}
function register(text) {
  const reg = lookupRegister(text.slice(1).trim());
  if (!reg) throw new AsmError(`bad register name \`${text}'`);
  return reg;
}
function parseOperand(text, ctx) {
  let rest = text.trim();
  if (rest === "") throw new AsmError("missing operand");
  let indirect = false;
  if (rest.startsWith("*")) {
    indirect = true;
    rest = rest.slice(1).trim();
  }
  if (rest.startsWith("$")) {
    if (indirect) throw new AsmError(`immediate operand illegal with absolute jump`);
    return { kind: "imm", expr: ctx.parseExpr(rest.slice(1)) };
  }
  let seg;
  const segMatch = /^%([a-z]s)\s*:/i.exec(rest);
  if (segMatch) {
    const reg = register(`%${segMatch[1]}`);
    if (reg.kind !== "seg") throw new AsmError(`\`%${segMatch[1]}' is not a valid segment register`);
    seg = reg;
    rest = rest.slice(segMatch[0].length).trim();
  }
  if (!seg && /^%[A-Za-z0-9]+$/.test(rest)) return { kind: "reg", reg: register(rest), indirect };
  return { ...parseMemory(rest, ctx), indirect, ...seg ? { seg } : {} };
}
function parseMemory(text, ctx) {
  if (text.endsWith(")")) {
    let depth = 0;
    let open = -1;
    for (let i = text.length - 1; i >= 0; i--) {
      if (text[i] === ")") depth++;
      else if (text[i] === "(" && --depth === 0) {
        open = i;
        break;
      }
    }
    if (open < 0) throw new AsmError(`unbalanced parenthesis in operand 1.`);
    const inner = text.slice(open + 1, -1).trim();
    if (inner.startsWith("%") || inner.startsWith(",")) {
      const dispText = text.slice(0, open).trim();
      const baseIndexText = text.slice(open);
      const parts = inner.split(",").map((p) => p.trim());
      if (parts.length > 3) throw new AsmError(`\`${baseIndexText}' is not a valid base/index expression`);
      const base2 = parts[0] ? register(parts[0]) : void 0;
      const index = parts[1] ? register(parts[1]) : void 0;
      let scale = 1;
      if (parts[2]) {
        if (!index) throw new AsmError(`\`${baseIndexText}' is not a valid base/index expression`);
        const value = ctx.knownValue(ctx.parseExpr(parts[2]));
        if (value !== 1n && value !== 2n && value !== 4n && value !== 8n) {
          throw new AsmError(`expecting scale factor of 1, 2, 4, or 8: got \`${parts[2]}'`);
        }
        scale = Number(value);
      }
      return {
        kind: "mem",
        ...dispText !== "" ? { disp: ctx.parseExpr(dispText) } : {},
        ...base2 ? { base: base2 } : {},
        ...index ? { index } : {},
        scale,
        baseIndexText
      };
    }
  }
  if (text.includes("%")) throw new AsmError(`bad memory operand \`${text}'`);
  return { kind: "mem", disp: ctx.parseExpr(text), scale: 1, baseIndexText: "" };
}

// asm/x86/statement.ts
function splitStatement(mnemonic2, operands) {
  const st = { text: "", prefixes: {}, rex: 0, pseudo: /* @__PURE__ */ new Set(), mnemonic: "", operands: "" };
  let word2 = mnemonic2.trim();
  let rest = operands.trim();
  for (; ; ) {
    const lower = word2.toLowerCase();
    if (word2.startsWith("{")) {
      const close = word2.indexOf("}");
      const name = word2.slice(1, close).toLowerCase();
      if (close < 0 || !PSEUDO_PREFIXES.includes(name)) throw new AsmError(`unknown pseudo-prefix \`${word2.slice(0, close + 1 || void 0)}'`);
      st.pseudo.add(name);
      word2 = word2.slice(close + 1);
    } else if (lower === "notrack") {
      if (st.prefixes.seg !== void 0) throw new AsmError("same type of prefix used twice");
      st.prefixes.seg = 62;
      st.notrack = true;
      word2 = "";
    } else if (PREFIX_WORDS[lower] !== void 0) {
      const byte = PREFIX_WORDS[lower];
      const slot = LEGACY_PREFIXES[byte].slot;
      if (st.prefixes[slot] !== void 0) throw new AsmError("same type of prefix used twice");
      st.prefixes[slot] = byte;
      if (slot === "rep") st.repWord = lower;
      word2 = "";
    } else if (rexWord(lower) !== void 0) {
      if (st.rex) throw new AsmError("same type of prefix used twice");
      st.rex = rexWord(lower);
      word2 = "";
    } else break;
    if (word2 === "") {
      if (rest === "") break;
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      word2 = m[1];
      rest = m[2];
    }
  }
  st.mnemonic = word2;
  st.operands = rest;
  st.text = `${word2} ${rest}`.trim();
  return st;
}
function lookup(mnemonic2) {
  const name = mnemonic2.toLowerCase();
  const exact = BY_MNEMONIC.get(name);
  if (exact) return { stem: name, forms: exact };
  const letter = name.slice(-1);
  const suffix = SUFFIX_SIZE[letter];
  const forms = suffix ? BY_MNEMONIC.get(name.slice(0, -1)) : void 0;
  if (forms && suffix) return { stem: name.slice(0, -1), forms, suffix, suffixLetter: letter };
  return void 0;
}
function prefixesOnly(st) {
  if (st.pseudo.size) throw new AsmError("pseudo prefix without instruction");
  const bytes = [];
  for (const slot of SLOT_ORDER) if (st.prefixes[slot] !== void 0) bytes.push(st.prefixes[slot]);
  if (st.rex) bytes.push(st.rex);
  return { bytes: Uint8Array.from(bytes), fixups: [] };
}

// asm/x86/encode.ts
function defaultSegment(op) {
  return op.base?.kind === "gpr" && (op.base.num === 4 || op.base.num === 5) ? 54 : 62;
}
function validateMemory(op) {
  const bad = () => new AsmError(`\`${op.baseIndexText}' is not a valid base/index expression`);
  const { base: base2, index } = op;
  if (base2 && !(base2.kind === "rip" || base2.kind === "gpr" && (base2.size === 64 || base2.size === 32))) throw bad();
  if (index && !(index.kind === "gpr" && (index.size === 64 || index.size === 32) && index.num !== 4)) throw bad();
  if (base2?.kind === "rip" && index) throw bad();
  const baseSize = base2?.kind === "gpr" ? base2.size : base2?.kind === "rip" ? base2.size : void 0;
  if (baseSize && index?.kind === "gpr" && index.size !== baseSize) throw bad();
}
function encodeMemory(op, reg, st, ctx) {
  const { base: base2, index } = op;
  const addr32 = base2?.kind === "gpr" && base2.size === 32 || base2?.kind === "rip" && base2.size === 32 || index?.kind === "gpr" && index.size === 32;
  const regBits = (reg & 7) << 3;
  const rex = (reg & 8 ? REX_R : 0) | (index?.kind === "gpr" && index.num & 8 ? REX_X : 0) | (base2?.kind === "gpr" && base2.num & 8 ? REX_B : 0);
  const dispValue = op.disp === void 0 ? 0n : ctx.knownValue(op.disp);
  const disp32 = (check) => dispValue === void 0 ? { size: 4, expr: op.disp, check } : { size: 4, value: dispValue };
  const checkDisp = (v) => {
    if (addr32) return BigInt.asIntN(32, v);
    if (!fitsSigned(v, 32)) throw new AsmError(`${hex2(v)} out of range of signed 32bit displacement`);
    return v;
  };
  if (base2?.kind === "rip") {
    if (dispValue !== void 0) checkDisp(dispValue);
    return { modrm: 5 | regBits, disp: disp32("pcrel"), rex, addr32 };
  }
  if (!base2) {
    const sib = (index ? Math.log2(op.scale) : 0) << 6 | (index?.kind === "gpr" ? index.num & 7 : 4) << 3 | 5;
    if (dispValue !== void 0) checkDisp(dispValue);
    return { modrm: 4 | regBits, sib, disp: disp32("signed"), rex, addr32 };
  }
  if (base2.kind !== "gpr") throw new AsmError(`\`${op.baseIndexText}' is not a valid base/index expression`);
  let dispSize;
  let value = dispValue;
  if (value === void 0 || st.pseudo.has("disp32")) dispSize = 4;
  else {
    value = checkDisp(value);
    if (value === 0n && (base2.num & 7) !== 5 && !st.pseudo.has("disp8")) dispSize = 0;
    else if (fitsSigned(value, 8)) dispSize = 1;
    else dispSize = 4;
  }
  const mod = dispSize === 0 ? 0 : dispSize === 1 ? 64 : 128;
  const disp = dispSize === 0 ? void 0 : value === void 0 ? { size: 4, expr: op.disp, check: "signed" } : { size: dispSize, value };
  if (index || (base2.num & 7) === 4) {
    const sib = (index ? Math.log2(op.scale) : 0) << 6 | (index?.kind === "gpr" ? index.num & 7 : 4) << 3 | base2.num & 7;
    return { modrm: mod | regBits | 4, sib, ...disp ? { disp } : {}, rex, addr32 };
  }
  return { modrm: mod | regBits | base2.num & 7, ...disp ? { disp } : {}, rex, addr32 };
}
function checkHle(form, word2, memory, lock, stem) {
  if (form.hle === "release") {
    if (word2 === "xacquire") throw new AsmError(`instruction \`${stem}' after \`${word2}' not allowed`);
    if (!memory) throw new AsmError(`memory destination needed for instruction \`${stem}' after \`${word2}'`);
  } else if (form.hle === "any") {
    if (!memory) throw new AsmError(`memory destination needed for instruction \`${stem}' after \`${word2}'`);
  } else if (form.lock) {
    if (!lock) throw new AsmError(`missing \`lock' with \`${word2}'`);
  } else throw new AsmError(`instruction \`${stem}' after \`${word2}' not allowed`);
}
function emit(m, st, cands, ctx) {
  const { form, osize, ops } = m;
  const prefixes = { ...st.prefixes };
  const setPrefix = (slot, byte) => {
    if (prefixes[slot] !== void 0 && prefixes[slot] !== byte) throw new AsmError("same type of prefix used twice");
    if (prefixes[slot] === byte && st.prefixes[slot] === byte && slot !== "seg") throw new AsmError("same type of prefix used twice");
    prefixes[slot] = byte;
  };
  let rex = 0;
  const xchgAcc = form.mnemonic === "xchg" && form.plusReg && ops.every((op) => isGpr(op) && op.reg.num === 0);
  if (osize === 16 && form.sizes.length) setPrefix("data", 102);
  if (osize === 64 && !form.default64 && !xchgAcc) rex |= REX_W;
  if (form.prefix === 102) setPrefix("data", 102);
  if (form.prefix === 243 || form.prefix === 242) setPrefix("rep", form.prefix);
  const memIndex = ops.findIndex((op, i) => op.kind === "mem" && "EM".includes(form.operands[i].method));
  if (prefixes.lock !== void 0 && !(form.lock && memIndex >= 0)) throw new AsmError("expecting lockable instruction after `lock'");
  if (st.repWord === "xacquire" || st.repWord === "xrelease") checkHle(form, st.repWord, memIndex >= 0, prefixes.lock !== void 0, cands.stem);
  else if (st.repWord && !form.rep) throw new AsmError(`invalid instruction \`${cands.stem}' after \`${st.repWord}'`);
  if (st.notrack && !isIndirectBranch(form)) throw new AsmError("expecting indirect branch instruction after `notrack'");
  let reg = form.ext ?? 0;
  let rm2;
  let opreg = 0;
  const imms = [];
  let rel;
  let moffs;
  const registers = [];
  form.operands.forEach((spec, i) => {
    const op = ops[i];
    if (op.kind === "reg") registers.push(op.reg);
    const size = widthSize(spec.width, osize);
    switch (spec.method) {
      case "G":
      case "C":
      case "S":
        reg = op.reg.num;
        if (form.dup) rm2 = op;
        break;
      case "E":
      case "M":
      case "R":
        rm2 = op;
        break;
      case "Z":
        opreg = op.reg.num;
        break;
      case "I": {
        const expr = op.expr;
        const known = ctx.knownValue(expr);
        const bytes2 = spec.width === "b" || spec.width === "bs" ? 1 : spec.width === "w" ? 2 : size / 8;
        if (known === void 0) {
          imms.push({ size: bytes2, expr, check: bytes2 === 8 ? "none" : spec.width === "z" && osize === 64 ? "signed" : "unsigned" });
        } else {
          const v = normalizeImmediate(known, osize);
          imms.push({ size: bytes2, value: bytes2 === 8 || spec.width === "bs" ? v : offsetInRange(v, bytes2) });
        }
        break;
      }
      case "J":
        rel = { size: spec.width === "b" ? 1 : 4, expr: op.disp, check: "pcrel" };
        break;
      case "X":
      case "Y": {
        const mem = op;
        if (spec.method === "X" && mem.seg && mem.seg.prefix !== 62) setPrefix("seg", mem.seg.prefix);
        if (mem.base?.kind === "gpr" && mem.base.size === 32) {
          if (prefixes.addr !== 103) setPrefix("addr", 103);
        } else if (prefixes.addr === 103 && st.prefixes.addr === void 0) {
          throw new AsmError(`\`${mem.baseIndexText}' is not a valid base/index expression`);
        }
        break;
      }
      case "O": {
        const mem = op;
        if (mem.seg && mem.seg.prefix !== 62) setPrefix("seg", mem.seg.prefix);
        const known = ctx.knownValue(mem.disp);
        const addr32 = prefixes.addr === 103;
        const width = addr32 ? 4 : 8;
        moffs = known === void 0 ? { size: width, expr: mem.disp, check: addr32 ? "unsigned" : "none" } : { size: width, value: addr32 ? BigInt.asUintN(32, known) : known };
        break;
      }
    }
  });
  let modrmBytes = [];
  let disp;
  if (hasModrm(form)) {
    if (form.modrm !== void 0) modrmBytes = [form.modrm];
    else if (rm2?.kind === "mem") {
      validateMemory(rm2);
      if (rm2.seg && rm2.seg.prefix !== defaultSegment(rm2)) setPrefix("seg", rm2.seg.prefix);
      const parts = encodeMemory(rm2, reg, st, ctx);
      if (parts.addr32) setPrefix("addr", 103);
      rex |= parts.rex;
      modrmBytes = parts.sib === void 0 ? [parts.modrm] : [parts.modrm, parts.sib];
      disp = parts.disp;
    } else {
      const rmNum = rm2?.kind === "reg" ? rm2.reg.num : 0;
      rex |= (reg & 8 ? REX_R : 0) | (rmNum & 8 ? REX_B : 0);
      modrmBytes = [192 | (reg & 7) << 3 | rmNum & 7];
    }
  }
  if (opreg & 8) rex |= REX_B;
  if (st.rex && rex & 15) throw new AsmError("same type of prefix used twice");
  rex |= st.rex;
  if (registers.some((r) => r.kind === "gpr" && r.needsRex)) rex |= REX;
  if (rex) {
    rex |= REX;
    const high = registers.find((r) => r.kind === "gpr" && r.high);
    if (high) throw new AsmError(`can't encode register '%${high.name}' in an instruction requiring REX prefix.`);
  }
  const head = [];
  for (const slot of SLOT_ORDER) if (prefixes[slot] !== void 0) head.push(prefixes[slot]);
  if (rex) head.push(rex);
  const opcode = [...form.opcode];
  opcode[opcode.length - 1] += opreg & 7;
  head.push(...opcode, ...modrmBytes);
  const fields = [disp, rel, moffs, ...imms].filter((f) => f !== void 0);
  const length = head.length + fields.reduce((n, f) => n + f.size, 0);
  const bytes = new Uint8Array(length);
  bytes.set(head);
  const fixups = [];
  let offset = head.length;
  for (const field of fields) {
    if (field.value !== void 0 && field.check !== "pcrel") writeLE(bytes, offset, field.size, field.value);
    else fixups.push(makeFixup(field, offset, length));
    offset += field.size;
  }
  return { bytes, fixups };
}
function assemble(mnemonic2, operands, ctx) {
  const st = splitStatement(mnemonic2, operands);
  if (st.mnemonic === "") return prefixesOnly(st);
  const cands = lookup(st.mnemonic);
  if (!cands) throw new AsmError(`no such instruction: \`${st.text}'`);
  const ops = splitOperands2(st.operands).map((text) => portOperand(parseOperand(text, ctx)));
  let m = selectForm(cands, ops, st, ctx);
  if (m.form.mnemonic === "int" && ops[0]?.kind === "imm" && ctx.knownValue(ops[0].expr) === 3n) {
    m = { form: BY_MNEMONIC.get("int3")[0], osize: void 0, ops: [] };
  }
  const encoding = emit(m, st, cands, ctx);
  const jump = m.form.operands[0]?.method === "J" && m.form.operands[0].width === "b";
  if (!jump) return encoding;
  const longForm = FORMS[m.form.index + 1];
  const long = emit({ ...m, form: longForm }, st, cands, ctx);
  const shortLength = BigInt(encoding.bytes.length);
  return {
    ...encoding,
    relax: {
      target: m.ops[0].disp,
      long,
      fits: (target3, address) => fitsSigned(BigInt.asIntN(64, target3 - (address + shortLength)), 8)
    }
  };
}
function portOperand(op) {
  if (op.kind === "mem" && !op.indirect && !op.disp && !op.index && !op.seg && op.base?.kind === "gpr" && op.base.name === "dx") {
    return { kind: "reg", reg: op.base, indirect: false };
  }
  return op;
}

// asm/x86/format.ts
var isIndirectBranch2 = (insn) => insn.form.opcode[0] === 255 && (insn.form.ext === 2 || insn.form.ext === 4);
function mnemonic(insn) {
  const { form, osize, operands } = insn;
  if (operands.some((o2) => o2.kind === "moffs") && insn.prefixes.some((p) => p.byte === 103)) return "mov";
  const hasMemory = operands.some((o2) => o2.kind === "mem");
  const hasRegister = operands.some((o2) => o2.kind === "reg" && o2.name !== "(dx)");
  switch (form.suffix) {
    case "Q":
      return hasMemory && osize ? form.mnemonic + SUFFIX[osize] : form.mnemonic;
    case "P":
      return osize === 16 && !hasRegister ? `${form.mnemonic}w` : form.mnemonic;
    case "R":
      return form.mnemonic + SUFFIX[osize];
    case "":
      return form.mnemonic;
  }
}
function unusedPrefixes(insn) {
  const names = insn.prefixes.filter((p) => !p.used).map((p) => p.name ?? LEGACY_PREFIXES[p.byte].name);
  if (insn.rex && insn.rex !== insn.rexUsed) names.push(rexName(insn.rex));
  return names;
}
function attOrder(insn) {
  const ops = insn.form.noReverse ? insn.operands : [...insn.operands].reverse();
  return ops.filter((o2) => o2.kind !== "one");
}
function operandText(insn, o2, name, source) {
  const star = isIndirectBranch2(insn) ? "*" : "";
  switch (o2.kind) {
    case "reg":
      return o2.name === "(dx)" ? "(%dx)" : `${star}%${o2.name}`;
    case "imm":
      return `$0x${o2.value.toString(16)}`;
    case "rel":
      return name(o2.target);
    case "moffs":
      return `${o2.seg ? `%${o2.seg}:` : ""}0x${o2.address.toString(16)}`;
    case "string":
      return o2.text;
    case "mem": {
      const seg = o2.mem.seg ? `%${o2.mem.seg}:` : "";
      if (source && o2.mem.rip) return `${star}${seg}${name(o2.mem.rip.target)}(%${o2.mem.addr32 ? "eip" : "rip"})`;
      return `${star}${seg}${o2.mem.text}`;
    }
    case "one":
      return "";
  }
}
function objdumpText(insn, name) {
  const head = [...unusedPrefixes(insn), mnemonic(insn)].join(" ");
  const ops = attOrder(insn);
  if (ops.length === 0) return head;
  let text = `${head.padEnd(6)} ${ops.map((o2) => operandText(insn, o2, name, false)).join(",")}`;
  const rip = insn.operands.find((o2) => o2.kind === "mem" && o2.mem.rip);
  if (rip?.kind === "mem") text += `        # ${name(rip.mem.rip.target)}`;
  return text;
}
function sourceText(insn, name, extraPrefixes = []) {
  const words = [...extraPrefixes, ...unusedPrefixes(insn).map((p) => p.toLowerCase())];
  const pseudo = [];
  if (insn.form.direction === "load" && insn.operands.every((o2) => o2.kind === "reg")) pseudo.push("{load}");
  for (const o2 of insn.operands) {
    if (o2.kind !== "mem") continue;
    if (o2.mem.unspellable) return void 0;
    if (!o2.mem.hasBase || o2.mem.rip) continue;
    const d = o2.mem.disp;
    const natural = d === 0n && !o2.mem.baseIsBp ? 0 : d >= -128n && d <= 127n ? 1 : 4;
    if (o2.mem.dispSize !== natural) pseudo.push(o2.mem.dispSize === 1 ? "{disp8}" : "{disp32}");
  }
  const jump = insn.form.operands[0]?.method === "J" && insn.form.operands[0].width === "z" && insn.form.mnemonic !== "call";
  if (jump) pseudo.push("{disp32}");
  const ops = attOrder(insn).map((o2) => operandText(insn, o2, name, true));
  return [...words, ...pseudo, mnemonic(insn)].join(" ") + (ops.length ? ` ${ops.join(",")}` : "");
}

// asm/x86/disassemble.ts
var byteList = (bytes) => Array.from(bytes, (b) => `0x${b.toString(16)}`).join(",");
var TARGET = "__x86_target";
function reassembles(source, bytes, address, target3) {
  const lookup3 = (name) => name === TARGET ? target3 : void 0;
  const ctx = { parseExpr: (text) => parseExpr(text), knownValue: (e) => evaluate(e, () => void 0) };
  try {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(source);
    const insn = assemble(m[1], m[2], ctx);
    const out = Uint8Array.from(insn.bytes);
    for (const fixup of insn.fixups) {
      const value = evaluate(fixup.expr, lookup3);
      if (value === void 0 || fixup.apply(out, value, address) !== void 0) return false;
    }
    return out.length === bytes.length && out.every((b, i) => b === bytes[i]);
  } catch {
    return false;
  }
}
function targetOf(insn) {
  for (const o2 of insn.operands) {
    if (o2.kind === "rel") return o2.target;
    if (o2.kind === "mem" && o2.mem.rip) return o2.mem.rip.target;
  }
  return void 0;
}
function unknown(byte) {
  const text = `.byte 0x${byte.toString(16)}`;
  return { length: 1, text, source: text, unknown: true };
}
function decode(bytes, offset, address, names) {
  if (offset >= bytes.length) return unknown(0);
  try {
    return decodeOne(bytes, offset, address, names);
  } catch {
    return unknown(bytes[offset]);
  }
}
function decodeOne(bytes, offset, address, names) {
  const insn = decodeInsn(bytes, offset, address);
  if (!insn) return lonePrefix(bytes, offset) ?? unknown(bytes[offset]);
  const own = bytes.subarray(offset, offset + insn.length);
  const text = objdumpText(insn, (a) => names.objdump(a));
  const extra = hiddenPrefixes(insn).find((words) => {
    const checked = sourceText(insn, () => TARGET, words);
    return checked !== void 0 && reassembles(checked, own, address, targetOf(insn));
  });
  const source = extra ? sourceText(insn, (a) => names.source(a), extra) : `.byte ${byteList(own)}`;
  return { length: insn.length, text, source };
}
function hiddenPrefixes(insn) {
  const tries = [[]];
  const rexUsed = insn.rex !== 0 && insn.rex === insn.rexUsed;
  const data16 = insn.prefixes.some((p) => p.byte === 102 && p.used) && !insn.form.prefix;
  if (rexUsed) tries.push([rexName(insn.rex).toLowerCase()]);
  if (data16) tries.push(["data16"]);
  if (rexUsed && data16) tries.push(["data16", rexName(insn.rex).toLowerCase()]);
  return tries;
}
function lonePrefix(bytes, offset) {
  let end = offset;
  while (end < bytes.length && (LEGACY_PREFIXES[bytes[end]] || (bytes[end] & 240) === 64)) end++;
  if (end !== bytes.length) return void 0;
  const byte = bytes[offset];
  const text = LEGACY_PREFIXES[byte]?.name ?? rexName(byte);
  return { length: 1, text, source: text.toLowerCase() };
}

// asm/x86/nops.ts
var NOPS = [
  [144],
  [102, 144],
  [15, 31, 0],
  [15, 31, 64, 0],
  [15, 31, 68, 0, 0],
  [102, 15, 31, 68, 0, 0],
  [15, 31, 128, 0, 0, 0, 0],
  [15, 31, 132, 0, 0, 0, 0, 0],
  [102, 15, 31, 132, 0, 0, 0, 0, 0],
  [102, 46, 15, 31, 132, 0, 0, 0, 0, 0],
  [102, 102, 46, 15, 31, 132, 0, 0, 0, 0, 0]
];
var MAX_NOP = NOPS.length;
var MAX_NUMBER_OF_NOPS = 7;
function outputNops(out, at, count) {
  let pos = at;
  const end = at + count;
  while (end - pos >= MAX_NOP) {
    out.set(NOPS[MAX_NOP - 1], pos);
    pos += MAX_NOP;
  }
  if (end > pos) out.set(NOPS[end - pos - 1], pos);
}
function codeFill(size) {
  const out = new Uint8Array(size);
  if (Math.floor(size / MAX_NOP) <= MAX_NUMBER_OF_NOPS) {
    outputNops(out, 0, size);
    return out;
  }
  const rest8 = size - 2;
  if (rest8 <= 127) {
    out[0] = 235;
    out[1] = rest8;
    outputNops(out, 2, rest8);
    return out;
  }
  const rest32 = size - 5;
  out[0] = 233;
  new DataView(out.buffer).setUint32(1, rest32, true);
  outputNops(out, 5, rest32);
  return out;
}

// asm/x86/index.ts
var x86Backend = {
  arch: "x86_64",
  elfMachine: 62,
  // EM_X86_64
  wordSize: 2,
  alignIsPowerOfTwo: false,
  nopFill: 144,
  assemble,
  codeFill: (size) => codeFill(size),
  decode
};

// asm/a64/fixups.ts
function readWord(bytes, offset = 0) {
  return (bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16 | bytes[offset + 3] << 24) >>> 0;
}
function writeWord(bytes, word2, offset = 0) {
  bytes[offset] = word2 & 255;
  bytes[offset + 1] = word2 >>> 8 & 255;
  bytes[offset + 2] = word2 >>> 16 & 255;
  bytes[offset + 3] = word2 >>> 24 & 255;
}
function word(w, fixups = []) {
  const bytes = new Uint8Array(4);
  writeWord(bytes, w >>> 0);
  return { bytes, fixups };
}
function setField(bytes, mask3, bits2) {
  writeWord(bytes, (readWord(bytes) & ~mask3 | bits2 & mask3) >>> 0);
}
var fits = (v, bits2) => v >= -(1n << BigInt(bits2 - 1)) && v < 1n << BigInt(bits2 - 1);
var PCREL = {
  /** B, BL: imm26 at [25:0], offset / 4 (R_AARCH64_JUMP26, CALL26). */
  branch26: { bits: 26, shift: 0, scale: 2, misaligned: "branch target not word aligned", range: "branch out of range" },
  /** B.cond, CBZ, CBNZ: imm19 at [23:5] (R_AARCH64_CONDBR19). */
  cond19: { bits: 19, shift: 5, scale: 2, misaligned: "conditional branch target not word aligned", range: "conditional branch out of range" },
  /** TBZ, TBNZ: imm14 at [18:5] (R_AARCH64_TSTBR14). */
  tbz14: { bits: 14, shift: 5, scale: 2, misaligned: "conditional branch target not word aligned", range: "conditional branch out of range" },
  /** LDR (literal), LDRSW (literal): imm19 at [23:5] (R_AARCH64_LD_PREL_LO19). */
  literal19: { bits: 19, shift: 5, scale: 2, misaligned: "pc-relative load offset not word aligned", range: "pc-relative load offset out of range" }
};
function pcRelFixup(expr, f) {
  const mask3 = (1 << f.bits) - 1 << f.shift;
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const delta = BigInt.asIntN(64, value - address);
      if (f.misaligned && delta & (1n << BigInt(f.scale)) - 1n) return f.misaligned;
      const scaled = delta >> BigInt(f.scale);
      if (!fits(scaled, f.bits)) return f.range;
      setField(bytes, mask3, Number(BigInt.asUintN(f.bits, scaled)) << f.shift);
      return void 0;
    }
  };
}
function setAdrImmediate(bytes, imm21) {
  const v = Number(BigInt.asUintN(21, imm21));
  setField(bytes, 3 << 29 | 524287 << 5, (v & 3) << 29 | v >> 2 << 5);
}
function adrFixup(expr) {
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const delta = BigInt.asIntN(64, value - address);
      if (!fits(delta, 21)) return "pc-relative address offset out of range";
      setAdrImmediate(bytes, delta);
      return void 0;
    }
  };
}
function adrpFixup(expr) {
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const pages = BigInt.asIntN(64, (value & ~0xfffn) - (address & ~0xfffn)) >> 12n;
      if (!fits(pages, 21)) return "relocation truncated to fit: R_AARCH64_ADR_PREL_PG_HI21";
      setAdrImmediate(bytes, pages);
      return void 0;
    }
  };
}
function lo12Fixup(expr, accessBytes) {
  const name = accessBytes === 0 ? "R_AARCH64_ADD_ABS_LO12_NC" : `R_AARCH64_LDST${accessBytes * 8}_ABS_LO12_NC`;
  const scale = BigInt(Math.max(accessBytes, 1));
  return {
    offset: 0,
    expr,
    apply(bytes, value) {
      const lo = value & 0xfffn;
      if (lo % scale) return `relocation truncated to fit: ${name}`;
      setField(bytes, 4095 << 10, Number(lo / scale) << 10);
      return void 0;
    }
  };
}
function lateFixup(expr, encode) {
  return {
    offset: 0,
    expr,
    apply(bytes, value) {
      try {
        writeWord(bytes, encode(value) >>> 0);
        return void 0;
      } catch (e) {
        if (e instanceof AsmError) return e.message;
        throw e;
      }
    }
  };
}
function lateImmediate(imm, encode) {
  if (imm.value !== void 0) return word(encode(imm.value));
  let placeholder = 0;
  try {
    placeholder = encode(0n);
  } catch {
  }
  return word(placeholder, [lateFixup(imm.expr, encode)]);
}

// asm/a64/format.ts
var hex3 = (v) => "0x" + v.toString(16);
var immHex = (v) => "#" + hex3(v);
var immDec = (v) => "#" + v.toString();
var wordHex = (word2) => "0x" + (word2 >>> 0).toString(16).padStart(8, "0");
var instSource = (word2) => `.inst ${wordHex(word2)}`;
function undefinedInsn(word2) {
  return { length: 4, text: `.inst	${wordHex(word2)} ; undefined`, source: instSource(word2), unknown: true };
}
function render(insn, names) {
  const printed = insn.operands.map((op) => typeof op === "string" ? op : names.objdump(op.target));
  const text = (printed.length ? `${insn.mnemonic}	${printed.join(", ")}` : insn.mnemonic) + (insn.comment ?? "");
  let source = insn.source;
  if (source === void 0) {
    const ops = insn.operands.map((op) => typeof op === "string" ? op.trimEnd() : names.source(op.target));
    source = ops.length ? `${insn.mnemonic} ${ops.join(", ")}` : insn.mnemonic;
  }
  return { length: 4, text, source };
}

// asm/a64/bitmask.ts
var MASK64 = (1n << 64n) - 1n;
var ones = (n) => (1n << BigInt(n)) - 1n;
function ror(value, shift3, esize) {
  const e = BigInt(esize);
  const s = BigInt(shift3 % esize);
  return (value >> s | value << e - s) & ones(esize);
}
function replicate(elem, esize, width) {
  let out = 0n;
  for (let i = 0; i < width; i += esize) out |= elem << BigInt(i);
  return out;
}
function decodeBitmask({ N, immr, imms }, width) {
  if (width === 32 && N) return void 0;
  const combined = N << 6 | ~imms & 63;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return void 0;
  const levels = (1 << len) - 1;
  if ((imms & levels) === levels) return void 0;
  const s = imms & levels;
  const r = immr & levels;
  const esize = 1 << len;
  return replicate(ror(ones(s + 1), r, esize), esize, width);
}
function encodeBitmask(value, width) {
  let v = BigInt.asUintN(64, value);
  if (width === 32) {
    const high = v >> 32n;
    if (high !== 0n && high !== 0xffffffffn) return void 0;
    v &= 0xffffffffn;
    v |= v << 32n;
  }
  if (v === 0n || v === MASK64) return void 0;
  let esize = 64;
  while (esize > 2) {
    const half = esize / 2;
    const lo = v & ones(half);
    if (replicate(lo, half, 64) !== v) break;
    esize = half;
  }
  const elem = v & ones(esize);
  let count = 0;
  for (let b = elem; b; b >>= 1n) count += Number(b & 1n);
  const run = ones(count);
  for (let r = 0; r < esize; r++) {
    if (ror(run, r, esize) === elem) {
      const imms = -esize << 1 & 63 | count - 1;
      return { N: esize === 64 ? 1 : 0, immr: r, imms };
    }
  }
  return void 0;
}
function wideShift(value, width) {
  let v = BigInt.asUintN(64, value);
  if (width === 32) {
    const high = v >> 32n;
    if (high !== 0n && high !== 0xffffffffn) return void 0;
    v &= 0xffffffffn;
  }
  for (let shift3 = 0; shift3 < width; shift3 += 16) {
    if ((v & 0xffffn << BigInt(shift3)) === v) return shift3;
  }
  return void 0;
}

// asm/a64/registers.ts
var ALIASES = { ip0: 16, ip1: 17, fp: 29, lr: 30 };
function parseGReg(text) {
  const t2 = text.trim();
  if (t2 !== t2.toLowerCase() && t2 !== t2.toUpperCase()) return void 0;
  const name = t2.toLowerCase();
  const m = /^([xw])([0-9]{1,2})$/.exec(name);
  if (m) {
    const num2 = Number(m[2]);
    if (num2 > 30 || m[2].length > 1 && m[2][0] === "0") return void 0;
    return { num: num2, width: m[1] === "x" ? 64 : 32, kind: "r" };
  }
  switch (name) {
    case "xzr":
      return { num: 31, width: 64, kind: "zr" };
    case "wzr":
      return { num: 31, width: 32, kind: "zr" };
    case "sp":
      return { num: 31, width: 64, kind: "sp" };
    case "wsp":
      return { num: 31, width: 32, kind: "sp" };
  }
  const alias = ALIASES[name];
  return alias === void 0 ? void 0 : { num: alias, width: 64, kind: "r" };
}
function gregName(num2, width, spForm = false) {
  if (num2 === 31) return spForm ? width === 64 ? "sp" : "wsp" : width === 64 ? "xzr" : "wzr";
  return (width === 64 ? "x" : "w") + num2;
}
var xOrW = (num2, sf, spForm = false) => gregName(num2, sf ? 64 : 32, spForm);

// asm/a64/decode/fields.ts
function bits(w, hi, lo) {
  return w >>> lo & (hi - lo === 31 ? 4294967295 : (1 << hi - lo + 1) - 1);
}
var bit = (w, n) => w >>> n & 1;
function signExtend2(v, width) {
  return BigInt.asIntN(width, BigInt(v));
}
var rdOf = (w) => bits(w, 4, 0);
var rnOf = (w) => bits(w, 9, 5);
var rmOf = (w) => bits(w, 20, 16);

// asm/a64/decode/dataproc-imm.ts
function pcRelAddressing(w, ctx) {
  const imm = signExtend2(bits(w, 23, 5) << 2 | bits(w, 30, 29), 21);
  const page = bit(w, 31);
  const target3 = page ? BigInt.asUintN(64, (ctx.address & ~0xfffn) + (imm << 12n)) : BigInt.asUintN(64, ctx.address + imm);
  return { mnemonic: page ? "adrp" : "adr", operands: [xOrW(rdOf(w), 1), { target: target3 }] };
}
function addSubImmediate(w) {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), sh = bit(w, 22);
  const imm12 = bits(w, 21, 10), n = rnOf(w), d = rdOf(w);
  const shift3 = sh ? ["lsl #12"] : [];
  if (!op && !S && !sh && imm12 === 0 && (d === 31 || n === 31)) {
    return { mnemonic: "mov", operands: [xOrW(d, sf, true), xOrW(n, sf, true)] };
  }
  if (S && d === 31) {
    return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf, true), immHex(imm12), ...shift3] };
  }
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf, !S), xOrW(n, sf, true), immHex(imm12), ...shift3] };
}
function movImmediate(mnemonic2, d, value, width) {
  const v = BigInt.asUintN(width, value);
  return {
    mnemonic: mnemonic2,
    operands: [d, ("#0x" + v.toString(16)).padEnd(23)],
    comment: `	// #${BigInt.asIntN(width, v)}`
  };
}
var LOGICAL = ["and", "orr", "eor", "ands"];
function logicalImmediate(w) {
  const sf = bit(w, 31), opc = bits(w, 30, 29);
  const width = sf ? 64 : 32;
  const fields = { N: bit(w, 22), immr: bits(w, 21, 16), imms: bits(w, 15, 10) };
  const value = decodeBitmask(fields, width);
  if (value === void 0) return void 0;
  const insn = logicalImmediateAlias(sf, opc, rnOf(w), rdOf(w), value, width);
  const canonical3 = encodeBitmask(value, width);
  if (canonical3?.immr !== fields.immr || canonical3.imms !== fields.imms || canonical3.N !== fields.N) insn.source = instSource(w);
  return insn;
}
function logicalImmediateAlias(sf, opc, n, d, value, width) {
  if (opc === 1 && n === 31 && (d === 31 || wideShift(value, width) === void 0 && wideShift(~value, width) === void 0)) {
    return movImmediate("mov", xOrW(d, sf, true), value, width);
  }
  if (opc === 3 && d === 31) return { mnemonic: "tst", operands: [xOrW(n, sf), immHex(value)] };
  return { mnemonic: LOGICAL[opc], operands: [xOrW(d, sf, opc !== 3), xOrW(n, sf), immHex(value)] };
}
function moveWide(w) {
  const sf = bit(w, 31), opc = bits(w, 30, 29), hw = bits(w, 22, 21);
  if (opc === 1 || !sf && hw >= 2) return void 0;
  const imm16 = bits(w, 20, 5), d = xOrW(rdOf(w), sf);
  const width = sf ? 64 : 32;
  const shift3 = hw ? [`lsl #${hw * 16}`] : [];
  const plain = { mnemonic: ["movn", "", "movz", "movk"][opc], operands: [d, immHex(imm16), ...shift3] };
  if (opc === 3 || imm16 === 0 && hw !== 0) return plain;
  const value = BigInt(imm16) << BigInt(hw * 16);
  if (opc === 2) return movImmediate("mov", d, value, width);
  if (wideShift(~value, width) !== void 0) return plain;
  return movImmediate("mov", d, ~value, width);
}
function bfxPreferred(sf, uns, imms, immr) {
  if (imms < immr) return false;
  if (imms === (sf ? 63 : 31)) return false;
  if (immr === 0) {
    if (!sf && (imms === 7 || imms === 15)) return false;
    if (sf && !uns && (imms === 7 || imms === 15 || imms === 31)) return false;
  }
  return true;
}
function bitfield(w) {
  const sf = bit(w, 31), opc = bits(w, 30, 29), N = bit(w, 22);
  const immr = bits(w, 21, 16), imms = bits(w, 15, 10);
  if (opc === 3 || N !== sf || !sf && (immr >= 32 || imms >= 32)) return void 0;
  const n = rnOf(w), d = rdOf(w);
  const width = sf ? 64 : 32;
  const top = width - 1;
  const rd2 = xOrW(d, sf), rn2 = xOrW(n, sf);
  const field = (name, lsb, len) => ({ mnemonic: name, operands: [rd2, rn2, immDec(lsb), immDec(len)] });
  const insert = (name) => field(name, (width - immr) % width, imms + 1);
  const extract2 = (name) => field(name, immr, imms - immr + 1);
  if (opc === 1) {
    if (imms < immr) {
      if (n === 31) {
        const lsb = (width - immr) % width;
        return { mnemonic: "bfc", operands: [rd2, immDec(lsb), immDec(imms + 1)], source: `bfi ${rd2}, ${rn2}, #${lsb}, #${imms + 1}` };
      }
      return insert("bfi");
    }
    return extract2("bfxil");
  }
  const unsigned = opc === 2;
  if (imms === top) return { mnemonic: unsigned ? "lsr" : "asr", operands: [rd2, rn2, immDec(immr)] };
  if (unsigned && imms + 1 === immr) return { mnemonic: "lsl", operands: [rd2, rn2, immDec(top - imms)] };
  if (imms < immr) return insert(unsigned ? "ubfiz" : "sbfiz");
  if (bfxPreferred(sf, opc >> 1, imms, immr)) return extract2(unsigned ? "ubfx" : "sbfx");
  const size = { 7: "b", 15: "h", 31: "w" }[imms];
  return { mnemonic: (unsigned ? "uxt" : "sxt") + size, operands: [rd2, xOrW(n, 0)] };
}
function extract(w) {
  const sf = bit(w, 31), imms = bits(w, 15, 10);
  if (bits(w, 30, 29) !== 0 || bit(w, 21) !== 0 || bit(w, 22) !== sf || !sf && imms >= 32) return void 0;
  const n = rnOf(w), m = bits(w, 20, 16);
  if (n === m) return { mnemonic: "ror", operands: [xOrW(rdOf(w), sf), xOrW(n, sf), immDec(imms)] };
  return { mnemonic: "extr", operands: [xOrW(rdOf(w), sf), xOrW(n, sf), xOrW(m, sf), immDec(imms)] };
}
function decodeDataProcessingImmediate(w, ctx) {
  switch (bits(w, 25, 23)) {
    case 0:
    case 1:
      return pcRelAddressing(w, ctx);
    case 2:
      return addSubImmediate(w);
    case 4:
      return logicalImmediate(w);
    case 5:
      return moveWide(w);
    case 6:
      return bitfield(w);
    case 7:
      return extract(w);
    default:
      return void 0;
  }
}

// asm/a64/conditions.ts
var CONDITIONS2 = [
  ["eq", "none"],
  ["ne", "any"],
  ["cs", "hs", "nlast"],
  ["cc", "lo", "ul", "last"],
  ["mi", "first"],
  ["pl", "nfrst"],
  ["vs"],
  ["vc"],
  ["hi", "pmore"],
  ["ls", "plast"],
  ["ge", "tcont"],
  ["lt", "tstop"],
  ["gt"],
  ["le"],
  ["al"],
  ["nv"]
];
var BY_NAME = new Map(CONDITIONS2.flatMap((names, code) => names.map((n) => [n, code])));
function parseCondition(text) {
  const t2 = text.trim();
  if (t2 !== t2.toLowerCase() && t2 !== t2.toUpperCase()) return void 0;
  return BY_NAME.get(t2.toLowerCase());
}
var invertCondition = (cond) => cond ^ 1;
var conditionName = (cond) => CONDITIONS2[cond][0];
function conditionComment(cond) {
  const [name, ...others] = CONDITIONS2[cond];
  return others.length ? `${name} = ${others.join(", ")}` : "";
}
function branchConditionComment(cond) {
  return CONDITIONS2[cond].slice(1).map((n) => `b.${n}`).join(", ");
}

// asm/a64/operands.ts
var OperandError = class extends Error {
  constructor(detail, operand) {
    super(detail);
    this.detail = detail;
    this.operand = operand;
  }
  detail;
  operand;
};
function splitOperands3(text) {
  const out = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") {
      i += text[i + 1] === "\\" ? 2 : 1;
    } else if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (last !== "" || out.length) out.push(last);
  return out;
}
var WORD_CHAR = /[A-Za-z0-9_.$]/;
function scrubStatement(mnemonic2, operands) {
  const t2 = operands.trim();
  let out = "";
  for (let i = 0; i < t2.length; i++) {
    const ch = t2[i];
    if (/\s/.test(ch)) {
      let j = i;
      while (j < t2.length && /\s/.test(t2[j])) j++;
      if (WORD_CHAR.test(out[out.length - 1] ?? "") && WORD_CHAR.test(t2[j] ?? "")) out += " ";
      i = j - 1;
    } else out += ch;
  }
  return out ? `${mnemonic2} ${out}` : mnemonic2;
}
var EXTENDS = ["uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx"];
var SHIFTS = ["lsl", "lsr", "asr", "ror"];
var Operands = class {
  constructor(text, ctx) {
    this.ctx = ctx;
    this.items = splitOperands3(text);
  }
  ctx;
  items;
  /** How many items the instruction takes, and which operand GNU as blames for more (a shift belongs to the operand before it). */
  max = Infinity;
  blame = 0;
  get length() {
    return this.items.length;
  }
  /** Operand i's text; a missing one is reported as GNU as does when it looks for it, after the ones before it. */
  text(i, missing = "comma expected between operands") {
    const t2 = this.items[i];
    if (t2 === void 0 || t2 === "") throw new OperandError(missing, i + 1);
    return t2;
  }
  /**
   * Sets how many items the instruction takes. Anything more is reported by
   * finish(), once the operands before it parsed, as GNU as does; GNU as
   * blames the last operand it took.
   */
  allow(max, blame = max) {
    this.max = max;
    this.blame = blame;
  }
  finish() {
    if (this.items.length > this.max) throw new OperandError("unexpected characters following instruction", this.blame || void 0);
  }
  isReg(i) {
    return this.items[i] !== void 0 && parseGReg(this.items[i]) !== void 0;
  }
  /**
   * A general-purpose register. `accept` says what number 31 may be written
   * as here: the zero register ("zr"), SP ("sp"), or either, for forms that
   * check it themselves ("any").
   */
  reg(i, accept = "zr", spMessage) {
    const plain = `operand ${i + 1} must be an integer register`;
    const withSp = `operand ${i + 1} must be an integer or stack pointer register`;
    const r = parseGReg(i === 0 ? this.items[0] ?? "" : this.text(i));
    if (!r) throw new OperandError(accept === "zr" ? plain : withSp);
    if (r.kind === "sp" && accept === "zr") throw spMessage ? new OperandError(spMessage, i + 1) : new OperandError(plain);
    if (r.kind === "zr" && accept === "sp") throw new OperandError(withSp);
    return r;
  }
  /**
   * An immediate: "#expr" or "expr". Only the operands that take a
   * relocation operator ("#:lo12:sym") pass `reloc`; elsewhere GNU as cannot
   * parse one.
   */
  imm(i, reloc = false) {
    const imm = parseImm(this.text(i, i === 0 ? "missing immediate expression" : void 0), this.ctx, i);
    if (imm.reloc && !reloc) throw new OperandError("bad expression", i + 1);
    return imm;
  }
  /** An immediate that must be a constant now (shift amounts, bit numbers, field widths). */
  constant(i) {
    const imm = this.imm(i);
    if (imm.value === void 0 || imm.reloc) throw new OperandError("constant expression required", i + 1);
    return imm.value;
  }
  /**
   * A shift ("lsl #3") or extend ("uxtw #2", "sxtx") operator in item i, or
   * undefined if there is none. GNU as counts it as part of the operand
   * before it, and so do its messages.
   */
  modifier(i) {
    const t2 = this.items[i];
    if (t2 === void 0) return void 0;
    return parseModifier(t2, this.ctx, i - 1);
  }
  mem(i) {
    return parseMem(this.text(i), this.ctx, i);
  }
};
function parseImm(text, ctx, i, registersAreSymbols = false) {
  let t2 = text.trim();
  if (t2.startsWith("#")) t2 = t2.slice(1).trim();
  if (!registersAreSymbols && parseGReg(t2)) throw new OperandError("unexpected register in the immediate operand", i + 1);
  let reloc;
  const m = /^:([A-Za-z0-9_]+):/.exec(t2);
  if (m) {
    if (m[1].toLowerCase() !== "lo12") throw new OperandError(`unknown relocation modifier`, i + 1);
    reloc = "lo12";
    t2 = t2.slice(m[0].length);
  }
  if (t2 === "") throw new OperandError("immediate operand required", i + 1);
  const expr = ctx.parseExpr(t2);
  const value = ctx.knownValue(expr);
  const imm = { expr };
  if (value !== void 0) imm.value = value;
  if (reloc) imm.reloc = reloc;
  return imm;
}
function parseModifier(text, ctx, i) {
  const m = /^([A-Za-z]+)\s*(.*)$/s.exec(text.trim());
  const op = m?.[1].toLowerCase();
  if (!m || !op || !SHIFTS.includes(op) && !EXTENDS.includes(op)) {
    throw new OperandError(parseGReg(text) ? "unexpected register in the immediate operand" : "shift expression expected", i + 1);
  }
  let rest = m[2].trim();
  if (rest === "") {
    if (SHIFTS.includes(op)) throw new OperandError("missing shift amount", i + 1);
    return { op };
  }
  if (rest.startsWith("#")) rest = rest.slice(1);
  if (parseGReg(rest)) throw new OperandError("unexpected register in the immediate operand", i + 1);
  const value = ctx.knownValue(ctx.parseExpr(rest));
  if (value === void 0) throw new OperandError("constant expression required", i + 1);
  if (value < 0n || value > 63n) throw new OperandError("shift amount out of range 0 to 63", i + 1);
  return { op, amount: Number(value) };
}
function parseMem(text, ctx, i) {
  let t2 = text.trim();
  if (!t2.startsWith("[")) throw new OperandError("invalid addressing mode", i + 1);
  let pre = false;
  if (t2.endsWith("!")) {
    pre = true;
    t2 = t2.slice(0, -1).trim();
  }
  if (!t2.endsWith("]")) throw new OperandError("missing ']'", i + 1);
  const parts = splitOperands3(t2.slice(1, -1));
  const base2 = parseGReg(parts[0] ?? "");
  if (!base2 || base2.width !== 64 || base2.kind === "zr") throw new OperandError("64-bit integer or SP register expected", i + 1);
  if (parts.length === 1) {
    if (pre) throw new OperandError("invalid addressing mode", i + 1);
    return { mode: "offset", base: base2 };
  }
  const index = parseGReg(parts[1]);
  if (index) {
    if (pre) throw new OperandError("register offset not allowed in pre-indexed addressing mode", i + 1);
    if (parts.length > 3) throw new OperandError("invalid addressing mode", i + 1);
    if (index.kind === "sp") throw new OperandError("integer or zero register expected", i + 1);
    const mem = { mode: "reg", base: base2, index };
    if (parts.length === 3) mem.modifier = parseModifier(parts[2], ctx, i);
    return mem;
  }
  if (parts.length > 2) throw new OperandError("invalid addressing mode", i + 1);
  const offset = parseImm(parts[1], ctx, i);
  return pre ? { mode: "pre", base: base2, offset } : { mode: "offset", base: base2, offset };
}
function lateError(message) {
  throw new AsmError(message);
}

// asm/a64/decode/dataproc-reg.ts
function joinShift(m, shift3, amount) {
  return shift3 === 0 && amount === 0 ? m : `${m}, ${SHIFTS[shift3]} #${amount}`;
}
var LOGICAL2 = [["and", "bic"], ["orr", "orn"], ["eor", "eon"], ["ands", "bics"]];
function logicalShifted(w) {
  const sf = bit(w, 31), opc = bits(w, 30, 29), shift3 = bits(w, 23, 22), N = bit(w, 21), imm6 = bits(w, 15, 10);
  if (!sf && imm6 >= 32) return void 0;
  const d = rdOf(w), n = rnOf(w);
  const rm2 = joinShift(xOrW(rmOf(w), sf), shift3, imm6);
  if (opc === 1 && n === 31) {
    if (!N && shift3 === 0 && imm6 === 0) return { mnemonic: "mov", operands: [xOrW(d, sf), rm2] };
    if (N) return { mnemonic: "mvn", operands: [xOrW(d, sf), rm2] };
  }
  if (opc === 3 && !N && d === 31) return { mnemonic: "tst", operands: [xOrW(n, sf), rm2] };
  return { mnemonic: LOGICAL2[opc][N], operands: [xOrW(d, sf), xOrW(n, sf), rm2] };
}
function addSubShifted(w) {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), shift3 = bits(w, 23, 22), imm6 = bits(w, 15, 10);
  if (shift3 === 3 || !sf && imm6 >= 32) return void 0;
  const d = rdOf(w), n = rnOf(w);
  const rm2 = joinShift(xOrW(rmOf(w), sf), shift3, imm6);
  if (S && d === 31) return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf), rm2] };
  if (op && n === 31) return { mnemonic: S ? "negs" : "neg", operands: [xOrW(d, sf), rm2] };
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf), xOrW(n, sf), rm2] };
}
function addSubExtended(w) {
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), option = bits(w, 15, 13), imm3 = bits(w, 12, 10);
  if (bits(w, 23, 22) !== 0 || imm3 > 4) return void 0;
  const d = rdOf(w), n = rnOf(w);
  const isX = sf && (option & 3) === 3;
  const m = xOrW(rmOf(w), isX ? 1 : 0);
  const alias = S && d === 31;
  const spNearby = !alias && !S && d === 31 || n === 31;
  let ext = EXTENDS[option];
  if (spNearby && (sf && option === 3 || !sf && option === 2)) ext = "lsl";
  const rm2 = ext === "lsl" && imm3 === 0 ? m : imm3 ? `${m}, ${ext} #${imm3}` : `${m}, ${ext}`;
  if (alias) return { mnemonic: op ? "cmp" : "cmn", operands: [xOrW(n, sf, true), rm2] };
  return { mnemonic: (op ? "sub" : "add") + (S ? "s" : ""), operands: [xOrW(d, sf, !S), xOrW(n, sf, true), rm2] };
}
function withCarry(w) {
  if (bits(w, 15, 10) !== 0) return void 0;
  const sf = bit(w, 31), op = bit(w, 30), S = bit(w, 29), n = rnOf(w);
  const suffix = S ? "s" : "";
  if (op && n === 31) return { mnemonic: "ngc" + suffix, operands: [xOrW(rdOf(w), sf), xOrW(rmOf(w), sf)] };
  return { mnemonic: (op ? "sbc" : "adc") + suffix, operands: [xOrW(rdOf(w), sf), xOrW(n, sf), xOrW(rmOf(w), sf)] };
}
function withCondition(insn, cond) {
  const comment = conditionComment(cond);
  insn.operands.push(conditionName(cond));
  if (comment) insn.comment = `	// ${comment}`;
  return insn;
}
function condCompare(w) {
  if (!bit(w, 29) || bit(w, 10) || bit(w, 4)) return void 0;
  const sf = bit(w, 31), op = bit(w, 30);
  const second = bit(w, 11) ? immHex(rmOf(w)) : xOrW(rmOf(w), sf);
  return withCondition({ mnemonic: op ? "ccmp" : "ccmn", operands: [xOrW(rnOf(w), sf), second, immHex(bits(w, 3, 0))] }, bits(w, 15, 12));
}
function condSelect(w) {
  const sf = bit(w, 31), op = bit(w, 30), op2 = bits(w, 11, 10);
  if (bit(w, 29) || op2 > 1) return void 0;
  const d = xOrW(rdOf(w), sf), n = rnOf(w), m = rmOf(w), cond = bits(w, 15, 12);
  const names = [["csel", "csinc"], ["csinv", "csneg"]][op][op2];
  if (cond < 14) {
    const inverse = invertCondition(cond);
    if (n === 31 && m === 31 && op2 !== op) return withCondition({ mnemonic: op ? "csetm" : "cset", operands: [d] }, inverse);
    if (n === m && (op || op2)) return withCondition({ mnemonic: ["cinc", "cinv", "cneg"][op * 2 + op2 - 1], operands: [d, xOrW(n, sf)] }, inverse);
  }
  return withCondition({ mnemonic: names, operands: [d, xOrW(n, sf), xOrW(m, sf)] }, cond);
}
var DP2 = { 2: "udiv", 3: "sdiv", 8: "lsl", 9: "lsr", 10: "asr", 11: "ror" };
function dataProcessing2(w) {
  const name = DP2[bits(w, 15, 10)];
  if (!name || bit(w, 29)) return void 0;
  const sf = bit(w, 31);
  return { mnemonic: name, operands: [xOrW(rdOf(w), sf), xOrW(rnOf(w), sf), xOrW(rmOf(w), sf)] };
}
function dataProcessing1(w) {
  const sf = bit(w, 31), opcode = bits(w, 15, 10);
  if (bit(w, 29) || bits(w, 20, 16) !== 0) return void 0;
  const names = sf ? ["rbit", "rev16", "rev32", "rev", "clz", "cls"] : ["rbit", "rev16", "rev", void 0, "clz", "cls"];
  const name = names[opcode];
  if (!name) return void 0;
  return { mnemonic: name, operands: [xOrW(rdOf(w), sf), xOrW(rnOf(w), sf)] };
}
var DP3 = {
  0: ["madd", "msub", "mul", "mneg"],
  1: ["smaddl", "smsubl", "smull", "smnegl"],
  5: ["umaddl", "umsubl", "umull", "umnegl"]
};
function dataProcessing3(w) {
  const sf = bit(w, 31), op31 = bits(w, 23, 21), o0 = bit(w, 15), a = bits(w, 14, 10);
  if (bits(w, 30, 29) !== 0 || !sf && op31 !== 0) return void 0;
  const d = rdOf(w), n = rnOf(w), m = rmOf(w);
  if (op31 === 2 || op31 === 6) {
    if (o0) return void 0;
    const insn = { mnemonic: op31 === 2 ? "smulh" : "umulh", operands: [xOrW(d, 1), xOrW(n, 1), xOrW(m, 1)] };
    if (a !== 31) insn.source = instSource(w);
    return insn;
  }
  const names = DP3[op31];
  if (!names) return void 0;
  const wide = op31 !== 0;
  const src = wide ? 0 : sf;
  const ops = [xOrW(d, sf), xOrW(n, src), xOrW(m, src)];
  if (a === 31) return { mnemonic: names[2 + o0], operands: ops };
  return { mnemonic: names[o0], operands: [...ops, xOrW(a, sf)] };
}
function decodeDataProcessingRegister(w) {
  if (!bit(w, 28)) {
    if (!bit(w, 24)) return logicalShifted(w);
    return bit(w, 21) ? addSubExtended(w) : addSubShifted(w);
  }
  switch (bits(w, 24, 21)) {
    case 0:
      return withCarry(w);
    case 2:
      return condCompare(w);
    case 4:
      return condSelect(w);
    case 6:
      return bit(w, 30) ? dataProcessing1(w) : dataProcessing2(w);
    default:
      return bit(w, 24) ? dataProcessing3(w) : void 0;
  }
}

// asm/a64/decode/loadstore.ts
var SINGLE = [
  [["strb", 0], ["ldrb", 0], ["ldrsb", 1], ["ldrsb", 0]],
  [["strh", 0], ["ldrh", 0], ["ldrsh", 1], ["ldrsh", 0]],
  [["str", 0], ["ldr", 0], ["ldrsw", 1], void 0],
  [["str", 1], ["ldr", 1], void 0, void 0]
];
var unscaledName = (name) => name.replace(/^(ld|st)r/, "$1ur");
var base = (w) => xOrW(rnOf(w), 1, true);
function single(w, unsignedOffset) {
  const size = bits(w, 31, 30), opc = bits(w, 23, 22);
  const form = SINGLE[size][opc];
  if (!form) return void 0;
  const [name, x] = form;
  const rt = xOrW(rdOf(w), x);
  if (unsignedOffset) {
    const offset = bits(w, 21, 10) << size;
    return { mnemonic: name, operands: [rt, offset ? `[${base(w)}, ${immDec(offset)}]` : `[${base(w)}]`] };
  }
  const imm92 = signExtend2(bits(w, 20, 12), 9);
  switch (bits(w, 11, 10)) {
    case 0:
      return { mnemonic: unscaledName(name), operands: [rt, imm92 ? `[${base(w)}, ${immDec(imm92)}]` : `[${base(w)}]`] };
    case 1:
      return { mnemonic: name, operands: [rt, `[${base(w)}]`, immDec(imm92)] };
    case 3:
      return { mnemonic: name, operands: [rt, `[${base(w)}, ${immDec(imm92)}]!`] };
    default:
      return void 0;
  }
}
var REGISTER_OPTIONS = {
  2: ["uxtw", 0],
  3: ["lsl", 1],
  6: ["sxtw", 0],
  7: ["sxtx", 1]
};
function registerOffset(w) {
  const size = bits(w, 31, 30), opc = bits(w, 23, 22);
  const form = SINGLE[size][opc];
  const option = REGISTER_OPTIONS[bits(w, 15, 13)];
  if (!form || !option) return void 0;
  const [name, x] = form;
  const S = bit(w, 12);
  const [ext, indexX] = option;
  const index = xOrW(rmOf(w), indexX);
  let modifier = "";
  if (S) modifier = `, ${ext} #${size}`;
  else if (ext !== "lsl") modifier = `, ${ext}`;
  return { mnemonic: name, operands: [xOrW(rdOf(w), x), `[${base(w)}, ${index}${modifier}]`] };
}
function literal(w, ctx) {
  const opc = bits(w, 31, 30);
  if (opc === 3) return void 0;
  const target3 = BigInt.asUintN(64, ctx.address + (signExtend2(bits(w, 23, 5), 19) << 2n));
  return { mnemonic: opc === 2 ? "ldrsw" : "ldr", operands: [xOrW(rdOf(w), opc === 0 ? 0 : 1), { target: target3 }] };
}
function pair(w) {
  const opc = bits(w, 31, 30), mode = bits(w, 25, 23), L = bit(w, 22);
  if (mode === 0 || opc === 3 || opc === 1 && !L) return void 0;
  const name = opc === 1 ? "ldpsw" : L ? "ldp" : "stp";
  const t2 = rdOf(w), n = rnOf(w), t22 = bits(w, 14, 10);
  if (opc === 1 && (t2 === t22 || bit(w, 23) && (t2 === n || t22 === n) && n !== 31)) return void 0;
  const x = opc === 0 ? 0 : 1;
  const scale = opc === 2 ? 3n : 2n;
  const offset = signExtend2(bits(w, 21, 15), 7) << scale;
  const regs = [xOrW(t2, x), xOrW(t22, x)];
  switch (mode) {
    case 1:
      return { mnemonic: name, operands: [...regs, `[${base(w)}]`, immDec(offset)] };
    case 2:
      return { mnemonic: name, operands: [...regs, offset ? `[${base(w)}, ${immDec(offset)}]` : `[${base(w)}]`] };
    default:
      return { mnemonic: name, operands: [...regs, `[${base(w)}, ${immDec(offset)}]!`] };
  }
}
var SIZE_SUFFIX = ["b", "h", "", ""];
function exclusive(w) {
  const size = bits(w, 31, 30), o2 = bit(w, 23), L = bit(w, 22), o1 = bit(w, 21), o0 = bit(w, 15);
  const s = rmOf(w), t2 = bits(w, 14, 10), t3 = rdOf(w);
  const x = size === 3 ? 1 : 0;
  const suffix = SIZE_SUFFIX[size];
  const addr = `[${base(w)}]`;
  let insn;
  let canonical3;
  if (!o2 && !o1) {
    canonical3 = t2 === 31 && (!L || s === 31);
    insn = L ? { mnemonic: (o0 ? "ldaxr" : "ldxr") + suffix, operands: [xOrW(t3, x), addr] } : { mnemonic: (o0 ? "stlxr" : "stxr") + suffix, operands: [xOrW(s, 0), xOrW(t3, x), addr] };
  } else if (!o2 && o1) {
    if (size < 2) {
      if (t2 !== 31 || s & 1 || t3 & 1) return void 0;
      const px2 = size & 1;
      const pairOf = (r) => [xOrW(r, px2), xOrW(r + 1, px2)];
      return { mnemonic: "casp" + (L ? "a" : "") + (o0 ? "l" : ""), operands: [...pairOf(s), ...pairOf(t3), addr] };
    }
    const px = size & 1;
    canonical3 = !L || s === 31;
    insn = L ? { mnemonic: o0 ? "ldaxp" : "ldxp", operands: [xOrW(t3, px), xOrW(t2, px), addr] } : { mnemonic: o0 ? "stlxp" : "stxp", operands: [xOrW(s, 0), xOrW(t3, px), xOrW(t2, px), addr] };
  } else if (o2 && !o1) {
    if (!o0) return void 0;
    canonical3 = s === 31 && t2 === 31;
    if (L && !canonical3) return void 0;
    insn = { mnemonic: (L ? "ldar" : "stlr") + suffix, operands: [xOrW(t3, x), addr] };
  } else {
    if (t2 !== 31) return void 0;
    return { mnemonic: "cas" + (L ? "a" : "") + (o0 ? "l" : "") + suffix, operands: [xOrW(s, x), xOrW(t3, x), addr] };
  }
  if (!canonical3) insn.source = instSource(w);
  return insn;
}
var LD_OPS = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];
function atomic(w) {
  const size = bits(w, 31, 30), A = bit(w, 23), R = bit(w, 22), o3 = bit(w, 15), opc = bits(w, 14, 12);
  const x = size === 3 ? 1 : 0;
  const order = (A ? "a" : "") + (R ? "l" : "");
  const suffix = SIZE_SUFFIX[size];
  const s = xOrW(rmOf(w), x), t2 = rdOf(w), addr = `[${base(w)}]`;
  if (o3) {
    if (opc !== 0) return void 0;
    return { mnemonic: `swp${order}${suffix}`, operands: [s, xOrW(t2, x), addr] };
  }
  if (!A && t2 === 31) return { mnemonic: `st${LD_OPS[opc]}${order}${suffix}`, operands: [s, addr] };
  return { mnemonic: `ld${LD_OPS[opc]}${order}${suffix}`, operands: [s, xOrW(t2, x), addr] };
}
function decodeLoadStore(w, ctx) {
  if (bit(w, 26)) return void 0;
  switch (bits(w, 29, 24)) {
    case 8:
      return exclusive(w);
    case 24:
      return literal(w, ctx);
    case 57:
      return single(w, true);
    case 56:
      if (!bit(w, 21)) return single(w, false);
      if (bits(w, 11, 10) === 2) return registerOffset(w);
      if (bits(w, 11, 10) === 0) return atomic(w);
      return void 0;
    case 40:
    case 41:
      return pair(w);
    default:
      return void 0;
  }
}

// asm/a64/sysops.ts
var rows = (crn, list) => list.map(([name, op1, crm, op2, xt2]) => ({ name, op1, crn, crm, op2, xt: xt2 }));
var TLBI_OPS = rows(8, [
  // Stage 1, EL1&0; Inner Shareable (CRm = 3), Outer Shareable (CRm = 1, FEAT_TLBIOS), local (CRm = 7).
  ["vmalle1is", 0, 3, 0, false],
  ["vae1is", 0, 3, 1, true],
  ["aside1is", 0, 3, 2, true],
  ["vaae1is", 0, 3, 3, true],
  ["vale1is", 0, 3, 5, true],
  ["vaale1is", 0, 3, 7, true],
  ["vmalle1os", 0, 1, 0, false],
  ["vae1os", 0, 1, 1, true],
  ["aside1os", 0, 1, 2, true],
  ["vaae1os", 0, 1, 3, true],
  ["vale1os", 0, 1, 5, true],
  ["vaale1os", 0, 1, 7, true],
  ["vmalle1", 0, 7, 0, false],
  ["vae1", 0, 7, 1, true],
  ["aside1", 0, 7, 2, true],
  ["vaae1", 0, 7, 3, true],
  ["vale1", 0, 7, 5, true],
  ["vaale1", 0, 7, 7, true],
  // Stage 2 by IPA (CRm = 0 IS, 4 local and OS).
  ["ipas2e1is", 4, 0, 1, true],
  ["ipas2le1is", 4, 0, 5, true],
  ["ipas2e1", 4, 4, 1, true],
  ["ipas2le1", 4, 4, 5, true],
  ["ipas2e1os", 4, 4, 0, true],
  ["ipas2le1os", 4, 4, 4, true],
  // EL2 and all of EL1&0.
  ["alle2is", 4, 3, 0, false],
  ["vae2is", 4, 3, 1, true],
  ["alle1is", 4, 3, 4, false],
  ["vale2is", 4, 3, 5, true],
  ["vmalls12e1is", 4, 3, 6, false],
  ["alle2os", 4, 1, 0, false],
  ["vae2os", 4, 1, 1, true],
  ["alle1os", 4, 1, 4, false],
  ["vale2os", 4, 1, 5, true],
  ["vmalls12e1os", 4, 1, 6, false],
  ["alle2", 4, 7, 0, false],
  ["vae2", 4, 7, 1, true],
  ["alle1", 4, 7, 4, false],
  ["vale2", 4, 7, 5, true],
  ["vmalls12e1", 4, 7, 6, false],
  // EL3.
  ["alle3is", 6, 3, 0, false],
  ["vae3is", 6, 3, 1, true],
  ["vale3is", 6, 3, 5, true],
  ["alle3", 6, 7, 0, false],
  ["vae3", 6, 7, 1, true],
  ["vale3", 6, 7, 5, true]
]);
var DC_OPS = rows(7, [
  ["ivac", 0, 6, 1, true],
  ["isw", 0, 6, 2, true],
  ["csw", 0, 10, 2, true],
  ["cisw", 0, 14, 2, true],
  ["zva", 3, 4, 1, true],
  ["cvac", 3, 10, 1, true],
  ["cvau", 3, 11, 1, true],
  ["civac", 3, 14, 1, true]
]);
var IC_OPS = rows(7, [
  ["ialluis", 0, 1, 0, false],
  ["iallu", 0, 5, 0, false],
  ["ivau", 3, 5, 1, true]
]);
var AT_OPS = rows(7, [
  ["s1e1r", 0, 8, 0, true],
  ["s1e1w", 0, 8, 1, true],
  ["s1e0r", 0, 8, 2, true],
  ["s1e0w", 0, 8, 3, true],
  ["s1e2r", 4, 8, 0, true],
  ["s1e2w", 4, 8, 1, true],
  ["s12e1r", 4, 8, 4, true],
  ["s12e1w", 4, 8, 5, true],
  ["s12e0r", 4, 8, 6, true],
  ["s12e0w", 4, 8, 7, true],
  ["s1e3r", 6, 8, 0, true],
  ["s1e3w", 6, 8, 1, true]
]);
var SYS_ALIASES = {
  tlbi: TLBI_OPS,
  dc: DC_OPS,
  ic: IC_OPS,
  at: AT_OPS
};
var sysKey = (op1, crn, crm, op2) => op1 << 11 | crn << 7 | crm << 3 | op2;
var BY_ENCODING = /* @__PURE__ */ new Map();
for (const [mnemonic2, ops] of Object.entries(SYS_ALIASES)) {
  for (const op of ops) BY_ENCODING.set(sysKey(op.op1, op.crn, op.crm, op.op2), { mnemonic: mnemonic2, op });
}
function sysAlias(op1, crn, crm, op2) {
  return BY_ENCODING.get(sysKey(op1, crn, crm, op2));
}
var BARRIER_OPTIONS = {
  1: "oshld",
  2: "oshst",
  3: "osh",
  5: "nshld",
  6: "nshst",
  7: "nsh",
  9: "ishld",
  10: "ishst",
  11: "ish",
  13: "ld",
  14: "st",
  15: "sy"
};
var BARRIER_BY_NAME = new Map(Object.entries(BARRIER_OPTIONS).map(([crm, name]) => [name, Number(crm)]));
var PSTATE_FIELDS = {
  spsel: { op1: 0, op2: 5 },
  daifset: { op1: 3, op2: 6 },
  daifclr: { op1: 3, op2: 7 },
  pan: { op1: 0, op2: 4 },
  uao: { op1: 0, op2: 3 }
};
var HINTS = ["nop", "yield", "wfe", "wfi", "sev", "sevl"];

// asm/a64/sysregs.ts
var SYSREGS = [
  // Identification (D23.2).
  ["midr_el1", 3, 0, 0, 0, 0],
  ["mpidr_el1", 3, 0, 0, 0, 5],
  ["revidr_el1", 3, 0, 0, 0, 6],
  ["id_aa64pfr0_el1", 3, 0, 0, 4, 0],
  ["id_aa64pfr1_el1", 3, 0, 0, 4, 1],
  ["id_aa64dfr0_el1", 3, 0, 0, 5, 0],
  ["id_aa64dfr1_el1", 3, 0, 0, 5, 1],
  ["id_aa64isar0_el1", 3, 0, 0, 6, 0],
  ["id_aa64isar1_el1", 3, 0, 0, 6, 1],
  ["id_aa64mmfr0_el1", 3, 0, 0, 7, 0],
  ["id_aa64mmfr1_el1", 3, 0, 0, 7, 1],
  ["id_aa64mmfr2_el1", 3, 0, 0, 7, 2],
  ["ccsidr_el1", 3, 1, 0, 0, 0],
  ["clidr_el1", 3, 1, 0, 0, 1],
  ["aidr_el1", 3, 1, 0, 0, 7],
  ["csselr_el1", 3, 2, 0, 0, 0],
  ["ctr_el0", 3, 3, 0, 0, 1],
  ["dczid_el0", 3, 3, 0, 0, 7],
  ["vpidr_el2", 3, 4, 0, 0, 0],
  ["vmpidr_el2", 3, 4, 0, 0, 5],
  // System control and translation (D23.2).
  ["sctlr_el1", 3, 0, 1, 0, 0],
  ["actlr_el1", 3, 0, 1, 0, 1],
  ["cpacr_el1", 3, 0, 1, 0, 2],
  ["sctlr_el2", 3, 4, 1, 0, 0],
  ["actlr_el2", 3, 4, 1, 0, 1],
  ["hcr_el2", 3, 4, 1, 1, 0],
  ["mdcr_el2", 3, 4, 1, 1, 1],
  ["cptr_el2", 3, 4, 1, 1, 2],
  ["hstr_el2", 3, 4, 1, 1, 3],
  ["hacr_el2", 3, 4, 1, 1, 7],
  ["sctlr_el3", 3, 6, 1, 0, 0],
  ["scr_el3", 3, 6, 1, 1, 0],
  ["ttbr0_el1", 3, 0, 2, 0, 0],
  ["ttbr1_el1", 3, 0, 2, 0, 1],
  ["tcr_el1", 3, 0, 2, 0, 2],
  ["ttbr0_el2", 3, 4, 2, 0, 0],
  ["ttbr1_el2", 3, 4, 2, 0, 1],
  ["tcr_el2", 3, 4, 2, 0, 2],
  ["vttbr_el2", 3, 4, 2, 1, 0],
  ["vtcr_el2", 3, 4, 2, 1, 2],
  ["ttbr0_el3", 3, 6, 2, 0, 0],
  ["tcr_el3", 3, 6, 2, 0, 2],
  // Exception state (D23.2, C5.2 special-purpose registers).
  ["spsr_el1", 3, 0, 4, 0, 0],
  ["elr_el1", 3, 0, 4, 0, 1],
  ["sp_el0", 3, 0, 4, 1, 0],
  ["spsel", 3, 0, 4, 2, 0],
  ["currentel", 3, 0, 4, 2, 2],
  ["pan", 3, 0, 4, 2, 3],
  ["uao", 3, 0, 4, 2, 4],
  ["icc_pmr_el1", 3, 0, 4, 6, 0],
  ["nzcv", 3, 3, 4, 2, 0],
  ["daif", 3, 3, 4, 2, 1],
  ["fpcr", 3, 3, 4, 4, 0],
  ["fpsr", 3, 3, 4, 4, 1],
  ["spsr_el2", 3, 4, 4, 0, 0],
  ["elr_el2", 3, 4, 4, 0, 1],
  ["sp_el1", 3, 4, 4, 1, 0],
  ["spsr_el3", 3, 6, 4, 0, 0],
  ["elr_el3", 3, 6, 4, 0, 1],
  ["sp_el2", 3, 6, 4, 1, 0],
  // Faults.
  ["afsr0_el1", 3, 0, 5, 1, 0],
  ["afsr1_el1", 3, 0, 5, 1, 1],
  ["esr_el1", 3, 0, 5, 2, 0],
  ["afsr0_el2", 3, 4, 5, 1, 0],
  ["afsr1_el2", 3, 4, 5, 1, 1],
  ["esr_el2", 3, 4, 5, 2, 0],
  ["esr_el3", 3, 6, 5, 2, 0],
  ["far_el1", 3, 0, 6, 0, 0],
  ["far_el2", 3, 4, 6, 0, 0],
  ["hpfar_el2", 3, 4, 6, 0, 4],
  ["far_el3", 3, 6, 6, 0, 0],
  ["par_el1", 3, 0, 7, 4, 0],
  // Performance monitors (a few).
  ["pmcr_el0", 3, 3, 9, 12, 0],
  ["pmccntr_el0", 3, 3, 9, 13, 0],
  // Memory attributes.
  ["mair_el1", 3, 0, 10, 2, 0],
  ["amair_el1", 3, 0, 10, 3, 0],
  ["mair_el2", 3, 4, 10, 2, 0],
  ["amair_el2", 3, 4, 10, 3, 0],
  ["mair_el3", 3, 6, 10, 2, 0],
  // Vectors and interrupt status.
  ["vbar_el1", 3, 0, 12, 0, 0],
  ["isr_el1", 3, 0, 12, 1, 0],
  ["vbar_el2", 3, 4, 12, 0, 0],
  ["vbar_el3", 3, 6, 12, 0, 0],
  // GICv3 CPU interface (DDI0487 does not define these; Arm IHI0069 12.2).
  ["icc_iar0_el1", 3, 0, 12, 8, 0],
  ["icc_eoir0_el1", 3, 0, 12, 8, 1],
  ["icc_hppir0_el1", 3, 0, 12, 8, 2],
  ["icc_bpr0_el1", 3, 0, 12, 8, 3],
  ["icc_dir_el1", 3, 0, 12, 11, 1],
  ["icc_rpr_el1", 3, 0, 12, 11, 3],
  ["icc_sgi1r_el1", 3, 0, 12, 11, 5],
  ["icc_asgi1r_el1", 3, 0, 12, 11, 6],
  ["icc_sgi0r_el1", 3, 0, 12, 11, 7],
  ["icc_iar1_el1", 3, 0, 12, 12, 0],
  ["icc_eoir1_el1", 3, 0, 12, 12, 1],
  ["icc_hppir1_el1", 3, 0, 12, 12, 2],
  ["icc_bpr1_el1", 3, 0, 12, 12, 3],
  ["icc_ctlr_el1", 3, 0, 12, 12, 4],
  ["icc_sre_el1", 3, 0, 12, 12, 5],
  ["icc_igrpen0_el1", 3, 0, 12, 12, 6],
  ["icc_igrpen1_el1", 3, 0, 12, 12, 7],
  ["icc_sre_el2", 3, 4, 12, 9, 5],
  ["ich_hcr_el2", 3, 4, 12, 11, 0],
  ["ich_vtr_el2", 3, 4, 12, 11, 1],
  ["ich_misr_el2", 3, 4, 12, 11, 2],
  ["ich_vmcr_el2", 3, 4, 12, 11, 7],
  // Thread and context IDs.
  ["contextidr_el1", 3, 0, 13, 0, 1],
  ["tpidr_el1", 3, 0, 13, 0, 4],
  ["tpidr_el0", 3, 3, 13, 0, 2],
  ["tpidrro_el0", 3, 3, 13, 0, 3],
  ["contextidr_el2", 3, 4, 13, 0, 1],
  ["tpidr_el2", 3, 4, 13, 0, 2],
  // Generic timer (D23.8).
  ["cntkctl_el1", 3, 0, 14, 1, 0],
  ["cntfrq_el0", 3, 3, 14, 0, 0],
  ["cntpct_el0", 3, 3, 14, 0, 1],
  ["cntvct_el0", 3, 3, 14, 0, 2],
  ["cntp_tval_el0", 3, 3, 14, 2, 0],
  ["cntp_ctl_el0", 3, 3, 14, 2, 1],
  ["cntp_cval_el0", 3, 3, 14, 2, 2],
  ["cntv_tval_el0", 3, 3, 14, 3, 0],
  ["cntv_ctl_el0", 3, 3, 14, 3, 1],
  ["cntv_cval_el0", 3, 3, 14, 3, 2],
  ["cntvoff_el2", 3, 4, 14, 0, 3],
  ["cnthctl_el2", 3, 4, 14, 1, 0],
  ["cnthp_tval_el2", 3, 4, 14, 2, 0],
  ["cnthp_ctl_el2", 3, 4, 14, 2, 1],
  ["cnthp_cval_el2", 3, 4, 14, 2, 2],
  // Debug (op0 = 2, D23.3).
  ["mdccsr_el0", 2, 3, 0, 1, 0],
  ["mdscr_el1", 2, 0, 0, 2, 2],
  ["oslar_el1", 2, 0, 1, 0, 4],
  ["oslsr_el1", 2, 0, 1, 1, 4],
  ["osdlr_el1", 2, 0, 1, 3, 4]
];
var sysRegKey = (op0, op1, crn, crm, op2) => op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
var BY_NAME2 = new Map(SYSREGS.map(([name, ...f]) => [name, sysRegKey(...f)]));
var BY_KEY = new Map(SYSREGS.map(([name, ...f]) => [sysRegKey(...f), name]));
var SYSREG_NAMES = SYSREGS.map((r) => r[0]);
function parseSysReg(text) {
  const t2 = text.trim();
  if (t2 !== t2.toLowerCase() && t2 !== t2.toUpperCase()) return void 0;
  const name = t2.toLowerCase();
  const known = BY_NAME2.get(name);
  if (known !== void 0) return known;
  const m = /^s([23])_([0-7])_c([0-9]|1[0-5])_c([0-9]|1[0-5])_([0-7])$/.exec(name);
  return m ? sysRegKey(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) : void 0;
}
function sysRegName(key) {
  const known = BY_KEY.get(key);
  if (known) return known;
  const op0 = key >> 14, op1 = key >> 11 & 7, crn = key >> 7 & 15, crm = key >> 3 & 15, op2 = key & 7;
  if (op0 === 3 && (crn === 11 || crn === 15)) return `s${op0}_${op1}_c${crn}_c${crm}_${op2}`;
  return void 0;
}

// asm/a64/decode/system.ts
var target = (ctx, offset) => ({ target: BigInt.asUintN(64, ctx.address + offset) });
function branchImmediate(w, ctx) {
  return { mnemonic: bit(w, 31) ? "bl" : "b", operands: [target(ctx, signExtend2(bits(w, 25, 0), 26) << 2n)] };
}
function branchConditional(w, ctx) {
  if (bit(w, 24) || bit(w, 4)) return void 0;
  const cond = bits(w, 3, 0);
  const others = branchConditionComment(cond);
  const insn = { mnemonic: `b.${conditionName(cond)}`, operands: [target(ctx, signExtend2(bits(w, 23, 5), 19) << 2n)] };
  if (others) insn.comment = `  // ${others}`;
  return insn;
}
function compareBranch(w, ctx) {
  return {
    mnemonic: bit(w, 24) ? "cbnz" : "cbz",
    operands: [xOrW(rdOf(w), bit(w, 31)), target(ctx, signExtend2(bits(w, 23, 5), 19) << 2n)]
  };
}
function testBranch(w, ctx) {
  const b5 = bit(w, 31);
  return {
    mnemonic: bit(w, 24) ? "tbnz" : "tbz",
    operands: [xOrW(rdOf(w), b5), `#${b5 << 5 | bits(w, 23, 19)}`, target(ctx, signExtend2(bits(w, 18, 5), 14) << 2n)]
  };
}
function branchRegister(w) {
  const opc = bits(w, 24, 21), n = rnOf(w);
  if (bits(w, 20, 16) !== 31 || bits(w, 15, 10) !== 0 || bits(w, 4, 0) !== 0) return void 0;
  switch (opc) {
    case 0:
      return { mnemonic: "br", operands: [xOrW(n, 1)] };
    case 1:
      return { mnemonic: "blr", operands: [xOrW(n, 1)] };
    case 2:
      return { mnemonic: "ret", operands: n === 30 ? [] : [xOrW(n, 1)] };
    case 4:
      return n === 31 ? { mnemonic: "eret", operands: [] } : void 0;
    default:
      return void 0;
  }
}
var EXCEPTIONS = { 1: "svc", 2: "hvc", 3: "smc", 4: "brk", 8: "hlt" };
function exception(w) {
  const name = EXCEPTIONS[bits(w, 23, 21) << 2 | bits(w, 1, 0)];
  if (!name || bits(w, 4, 2) !== 0) return void 0;
  return { mnemonic: name, operands: [immHex(bits(w, 20, 5))] };
}
function barrier(crm, op2) {
  const option = BARRIER_OPTIONS[crm] ?? "#0x" + crm.toString(16).padStart(2, "0");
  switch (op2) {
    case 2:
      return { mnemonic: "clrex", operands: crm === 15 ? [] : [immHex(crm)] };
    case 4:
      if (crm === 0) return { mnemonic: "ssbb", operands: [] };
      if (crm === 4) return { mnemonic: "pssbb", operands: [] };
      return { mnemonic: "dsb", operands: [option] };
    case 5:
      return { mnemonic: "dmb", operands: [option] };
    case 6:
      return { mnemonic: "isb", operands: crm === 15 ? [] : [immHex(crm)] };
    default:
      return void 0;
  }
}
function msrImmediate(op1, crm, op2) {
  const field = Object.entries(PSTATE_FIELDS).find(([, f]) => f.op1 === op1 && f.op2 === op2);
  if (!field || crm > 1 && !field[0].startsWith("daif")) return void 0;
  return { mnemonic: "msr", operands: [field[0], immHex(crm)] };
}
function sys(w, op1, crn, crm, op2) {
  const t2 = rdOf(w);
  const generic = `sys #${op1}, C${crn}, C${crm}, #${op2}` + (t2 === 31 ? "" : `, ${xOrW(t2, 1)}`);
  const alias = sysAlias(op1, crn, crm, op2);
  if (alias) {
    const insn = { mnemonic: alias.mnemonic, operands: alias.op.xt ? [alias.op.name, xOrW(t2, 1)] : [alias.op.name] };
    if (!alias.op.xt && t2 !== 31) insn.source = generic;
    return insn;
  }
  if (crn >= 7 && crn <= 9) return void 0;
  return { mnemonic: "sys", operands: [`#${op1}`, `C${crn}`, `C${crm}`, `#${op2}`, ...t2 === 31 ? [] : [xOrW(t2, 1)]] };
}
function system(w) {
  const L = bit(w, 21), op0 = bits(w, 20, 19), op1 = bits(w, 18, 16), crn = bits(w, 15, 12), crm = bits(w, 11, 8), op2 = bits(w, 7, 5), t2 = rdOf(w);
  if (op0 === 0) {
    if (L || t2 !== 31) return void 0;
    if (crn === 4) return msrImmediate(op1, crm, op2);
    if (op1 !== 3) return void 0;
    if (crn === 2) {
      const n = crm << 3 | op2;
      return n < HINTS.length ? { mnemonic: HINTS[n], operands: [] } : void 0;
    }
    return crn === 3 ? barrier(crm, op2) : void 0;
  }
  if (op0 === 1) {
    if (!L) return sys(w, op1, crn, crm, op2);
    return { mnemonic: "sysl", operands: [xOrW(t2, 1), `#${op1}`, `C${crn}`, `C${crm}`, `#${op2}`] };
  }
  const key = bits(w, 20, 5);
  const name = sysRegName(key);
  if (!name) return void 0;
  return L ? { mnemonic: "mrs", operands: [xOrW(t2, 1), name] } : { mnemonic: "msr", operands: [name, xOrW(t2, 1)] };
}
function decodeBranchSystem(w, ctx) {
  if ((w & 2080374784) === 335544320) return branchImmediate(w, ctx);
  if ((w & 4261412864) >>> 0 === 1409286144) return branchConditional(w, ctx);
  if ((w & 2113929216) === 872415232) return compareBranch(w, ctx);
  if ((w & 2113929216) === 905969664) return testBranch(w, ctx);
  if ((w & 4278190080) >>> 0 === 3556769792) return exception(w);
  if ((w & 4290772992) >>> 0 === 3573547008) return system(w);
  if ((w & 4261412864) >>> 0 === 3590324224) return branchRegister(w);
  return void 0;
}

// asm/a64/decode/index.ts
function decodeWord(w, ctx) {
  const op0 = w >>> 25 & 15;
  if ((op0 & 14) === 8) return decodeDataProcessingImmediate(w, ctx);
  if ((op0 & 14) === 10) return decodeBranchSystem(w, ctx);
  if ((op0 & 5) === 4) return decodeLoadStore(w, ctx);
  if ((op0 & 7) === 5) return decodeDataProcessingRegister(w);
  return void 0;
}
function decodeA64(bytes, offset, address, names) {
  const left = bytes.length - offset;
  if (left < 4) {
    const list = Array.from(bytes.subarray(offset), (b) => "0x" + b.toString(16).padStart(2, "0")).join(", ");
    return { length: Math.max(left, 1), text: `.byte	${list}`, source: `.byte ${list}`, unknown: true };
  }
  const w = readWord(bytes, offset);
  try {
    const insn = decodeWord(w, { address });
    return insn ? render(insn, names) : undefinedInsn(w);
  } catch {
    return undefinedInsn(w);
  }
}

// asm/a64/encode/common.ts
var sfOf = (r) => r.width === 64 ? 1 : 0;
function sameWidth(...regs) {
  for (const r of regs) if (r.width !== regs[0].width) throw new OperandError("operand mismatch");
}
function constantIn(ops, i, lo, hi) {
  const v = ops.constant(i);
  if (v < BigInt(lo) || v > BigInt(hi)) throw new OperandError(`immediate value out of range ${lo} to ${hi}`, i + 1);
  return Number(v);
}
var rd = (r) => typeof r === "number" ? r : r.num;
var rn = (r) => rd(r) << 5;
var rm = (r) => rd(r) << 16;

// asm/a64/encode/arith.ts
var ADDSUB_IMM = 285212672;
var ADDSUB_SHIFTED = 184549376;
var ADDSUB_EXTENDED = 186646528;
var opBits = (sf, op, S) => (sf << 31 | op << 30 | S << 29) >>> 0;
function encodeAddSubImm(value, sf, op, S, d, n, explicitShift) {
  let v = BigInt.asIntN(64, value);
  let o2 = op;
  if (v < 0n) {
    o2 ^= 1;
    v = -v;
  }
  let sh = explicitShift === 12 ? 1 : 0;
  if (explicitShift === void 0 && v > 0xfffn && (v & 0xfffn) === 0n && v <= 0xfff000n) {
    v >>= 12n;
    sh = 1;
  }
  if (v > 0xfffn) lateError("immediate out of range");
  return (opBits(sf, o2, S) | ADDSUB_IMM | sh << 22 | Number(v) << 10 | n << 5 | d) >>> 0;
}
function anyReg(ops, i) {
  return ops.reg(i, "any");
}
function checkKind(r, i, allowSp) {
  if (r.kind === "sp" && !allowSp) throw new OperandError(`operand ${i + 1} must be an integer register`);
  if (r.kind === "zr" && allowSp) throw new OperandError(`operand ${i + 1} must be an integer or stack pointer register`);
}
function addSubOperands(ops, op, S, d, n, first, dIsZr) {
  const sf = sfOf(n);
  const mIdx = first;
  const mod = ops.modifier(mIdx + 1);
  if (ops.isReg(mIdx)) {
    const m = ops.reg(mIdx);
    const usesSp = d.kind === "sp" || n.kind === "sp";
    const extend2 = mod && EXTENDS.includes(mod.op);
    if (extend2 || usesSp || sf && m.width === 32) {
      if (sf && m.width === 32 && !mod) throw new OperandError("missing extend operator", mIdx + 1);
      return word(extendedForm(sf, op, S, d, n, m, mod, mIdx));
    }
    sameWidth(n, m);
    if (!dIsZr) checkKind(d, 0, false);
    checkKind(n, first - 1, false);
    const shift3 = mod?.op ?? "lsl";
    const amount = mod?.amount ?? 0;
    if (shift3 === "ror") throw new OperandError("'ROR' operator not allowed", mIdx + 1);
    if (amount >= (sf ? 64 : 32)) throw new OperandError(`shift amount out of range 0 to ${sf ? 63 : 31}`, mIdx + 1);
    const shiftBits = ["lsl", "lsr", "asr"].indexOf(shift3);
    return word(opBits(sf, op, S) | ADDSUB_SHIFTED | shiftBits << 22 | rm(m) | amount << 10 | rn(n) | d.num);
  }
  if (!dIsZr) checkKind(d, 0, S === 0);
  if (n.kind === "zr") throw new OperandError(`operand ${first} must be an integer or stack pointer register`);
  let explicitShift;
  if (mod) {
    if (mod.op !== "lsl") throw new OperandError("only 'LSL' shift is permitted", mIdx + 1);
    if (mod.amount !== 0 && mod.amount !== 12) throw new OperandError("shift amount must be 0 or 12", mIdx + 1);
    explicitShift = mod.amount;
  }
  const imm = ops.imm(mIdx, op === 0 && S === 0);
  if (imm.reloc === "lo12") {
    const base2 = opBits(sf, op, S) | ADDSUB_IMM | rn(n) | d.num;
    if (imm.value !== void 0) return word(base2 | Number(imm.value & 0xfffn) << 10);
    return word(base2, [lo12Fixup(imm.expr, 0)]);
  }
  return lateImmediate(imm, (v) => encodeAddSubImm(v, sf, op, S, d.num, n.num, explicitShift));
}
function extendedForm(sf, op, S, d, n, m, mod, mIdx) {
  if (d.kind === "zr" && S === 0) throw new OperandError("operand 1 must be an integer or stack pointer register");
  if (d.kind === "sp" && S === 1) throw new OperandError("operand 1 must be an integer register");
  if (n.kind === "zr") throw new OperandError(`operand ${mIdx} must be an integer or stack pointer register`);
  if (d.width !== n.width) throw new OperandError("operand mismatch");
  let ext = mod?.op ?? "lsl";
  if (ext === "lsl") {
    if (d.kind !== "sp" && n.kind !== "sp") throw new OperandError("operand mismatch");
    ext = sf ? "uxtx" : "uxtw";
  }
  const option = EXTENDS.indexOf(ext);
  if (option < 0) throw new OperandError(`'${ext.toUpperCase()}' operator not allowed`, mIdx + 1);
  const wantWidth = sf && (option & 3) === 3 ? 64 : 32;
  if (m.width !== wantWidth) throw new OperandError("operand mismatch");
  const amount = mod?.amount ?? 0;
  if (amount > 4) throw new OperandError("shift amount out of range 0 to 4", mIdx + 1);
  return (opBits(sf, op, S) | ADDSUB_EXTENDED | rm(m) | option << 13 | amount << 10 | rn(n) | d.num) >>> 0;
}
function addSub(op, S) {
  return (ops) => {
    ops.allow(4, 3);
    const d = anyReg(ops, 0);
    const n = anyReg(ops, 1);
    if (d.width !== n.width) throw new OperandError("operand mismatch");
    return addSubOperands(ops, op, S, d, n, 2, false);
  };
}
function compare(op) {
  return (ops) => {
    ops.allow(3, 2);
    const n = anyReg(ops, 0);
    const zr = { num: 31, width: n.width, kind: "zr" };
    return addSubOperands(ops, op, 1, zr, n, 1, true);
  };
}
function negate(S) {
  return (ops) => {
    ops.allow(3, 2);
    const d = ops.reg(0);
    const m = ops.reg(1, "zr", "integer or zero register expected");
    sameWidth(d, m);
    const sf = sfOf(d);
    const mod = ops.modifier(2);
    const shift3 = mod?.op ?? "lsl";
    const amount = mod?.amount ?? 0;
    const shiftBits = ["lsl", "lsr", "asr"].indexOf(shift3);
    if (shiftBits < 0) throw new OperandError(`'${shift3.toUpperCase()}' operator not allowed`, 2);
    if (amount >= (sf ? 64 : 32)) throw new OperandError(`shift amount out of range 0 to ${sf ? 63 : 31}`, 2);
    return word(opBits(sf, 1, S) | ADDSUB_SHIFTED | shiftBits << 22 | rm(m) | amount << 10 | rn(31) | d.num);
  };
}
function withCarry2(op, S, negated = false) {
  return (ops) => {
    ops.allow(negated ? 2 : 3);
    const d = ops.reg(0);
    const n = negated ? { num: 31, width: d.width, kind: "zr" } : ops.reg(1);
    const m = ops.reg(negated ? 1 : 2);
    sameWidth(d, n, m);
    return word(opBits(sfOf(d), op, S) | 436207616 | rm(m) | rn(n) | d.num);
  };
}
function condCompare2(op) {
  return (ops) => {
    ops.allow(4);
    const n = ops.reg(0);
    const nzcv = constantIn(ops, 2, 0, 15);
    const cond = parseCondition(ops.text(3));
    if (cond === void 0) throw new OperandError("invalid condition", 4);
    const base2 = opBits(sfOf(n), op, 1) | 440401920 | cond << 12 | rn(n) | nzcv;
    if (ops.isReg(1)) {
      const m = ops.reg(1);
      sameWidth(n, m);
      return word(base2 | rm(m));
    }
    return word(base2 | 1 << 11 | constantIn(ops, 1, 0, 31) << 16);
  };
}
var ARITH = {
  add: addSub(0, 0),
  adds: addSub(0, 1),
  sub: addSub(1, 0),
  subs: addSub(1, 1),
  cmn: compare(0),
  cmp: compare(1),
  neg: negate(0),
  negs: negate(1),
  adc: withCarry2(0, 0),
  adcs: withCarry2(0, 1),
  sbc: withCarry2(1, 0),
  sbcs: withCarry2(1, 1),
  ngc: withCarry2(1, 0, true),
  ngcs: withCarry2(1, 1, true),
  ccmn: condCompare2(0),
  ccmp: condCompare2(1)
};

// asm/a64/encode/atomics.ts
var EXCLUSIVE = 134217728;
var ATOMIC = 941621248;
function baseOnly(ops, i) {
  if (ops.length > i + 1) throw new OperandError("invalid addressing mode", i + 1);
  const mem = ops.mem(i);
  if (mem.mode !== "offset") throw new OperandError("invalid addressing mode", i + 1);
  if (mem.offset && (mem.offset.value !== 0n || mem.offset.reloc)) {
    throw new OperandError("the optional immediate offset can only be 0", i + 1);
  }
  return mem.base;
}
function sizeOf(fixedSize, rt) {
  if (fixedSize !== void 0) {
    if (rt.width !== 32) throw new OperandError("operand mismatch");
    return fixedSize;
  }
  return rt.width === 64 ? 3 : 2;
}
function exclusive2(f) {
  return (ops) => {
    let i = 0;
    let rs = 31;
    if (f.status) {
      const s = ops.reg(i++);
      if (s.width !== 32) throw new OperandError("operand mismatch");
      rs = s.num;
    }
    const t2 = ops.reg(i++);
    let t22 = 31;
    if (f.pair) {
      const r2 = ops.reg(i++);
      if (r2.width !== t2.width) throw new OperandError("operand mismatch");
      t22 = r2.num;
    }
    const n = baseOnly(ops, i);
    const size = f.pair ? t2.width === 64 ? 3 : 2 : sizeOf(f.size, t2);
    return word(size << 30 | EXCLUSIVE | f.o2 << 23 | f.L << 22 | f.o1 << 21 | rs << 16 | f.o0 << 15 | t22 << 10 | n.num << 5 | t2.num);
  };
}
function cas(A, R, size) {
  return (ops) => {
    const s = ops.reg(0), t2 = ops.reg(1);
    if (s.width !== t2.width) throw new OperandError("operand mismatch");
    const n = baseOnly(ops, 2);
    return word(sizeOf(size, t2) << 30 | EXCLUSIVE | 1 << 23 | A << 22 | 1 << 21 | s.num << 16 | R << 15 | 31 << 10 | n.num << 5 | t2.num);
  };
}
function casp(A, R) {
  return (ops) => {
    const regs = [0, 1, 2, 3].map((i) => ops.reg(i));
    if (regs.some((r) => r.width !== regs[0].width)) throw new OperandError("operand mismatch");
    for (const first of [0, 2]) {
      if (regs[first].num & 1) throw new OperandError("reg pair must start from even reg", first + 1);
      if (regs[first + 1].num !== regs[first].num + 1) throw new OperandError("reg pair must be contiguous", first + 2);
    }
    const n = baseOnly(ops, 4);
    const sz = regs[0].width === 64 ? 1 : 0;
    return word(sz << 30 | EXCLUSIVE | A << 22 | 1 << 21 | regs[0].num << 16 | R << 15 | 31 << 10 | n.num << 5 | regs[2].num);
  };
}
function atomic2(o3, opc, A, R, size, store) {
  return (ops) => {
    const s = ops.reg(0);
    const t2 = store ? { num: 31, width: s.width, kind: "zr" } : ops.reg(1);
    if (s.width !== t2.width) throw new OperandError("operand mismatch");
    const n = baseOnly(ops, store ? 1 : 2);
    return word(sizeOf(size, t2) << 30 | ATOMIC | A << 23 | R << 22 | s.num << 16 | o3 << 15 | opc << 12 | n.num << 5 | t2.num);
  };
}
var ORDERINGS = [["", 0, 0], ["a", 1, 0], ["al", 1, 1], ["l", 0, 1]];
var SIZES = [["", void 0], ["b", 0], ["h", 1]];
var LD_OPS2 = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];
function buildAtomics() {
  const t2 = {};
  for (const [sizeName, size] of SIZES) {
    for (const [order, A, R] of ORDERINGS) {
      t2[`cas${order}${sizeName}`] = cas(A, R, size);
      if (size === void 0) t2[`casp${order}`] = casp(A, R);
      t2[`swp${order}${sizeName}`] = atomic2(1, 0, A, R, size, false);
      LD_OPS2.forEach((op, opc) => {
        t2[`ld${op}${order}${sizeName}`] = atomic2(0, opc, A, R, size, false);
        if (A === 0) t2[`st${op}${order}${sizeName}`] = atomic2(0, opc, 0, R, size, true);
      });
    }
  }
  return t2;
}
var ex = (o2, L, o1, o0, status, pair3) => (size) => exclusive2({ o2, L, o1, o0, status, pair: pair3, ...size === void 0 ? {} : { size } });
var LDXR = ex(0, 1, 0, 0, false, false);
var LDAXR = ex(0, 1, 0, 1, false, false);
var STXR = ex(0, 0, 0, 0, true, false);
var STLXR = ex(0, 0, 0, 1, true, false);
var LDAR = ex(1, 1, 0, 1, false, false);
var STLR = ex(1, 0, 0, 1, false, false);
var ATOMICS = {
  ldxr: LDXR(),
  ldxrb: LDXR(0),
  ldxrh: LDXR(1),
  ldaxr: LDAXR(),
  ldaxrb: LDAXR(0),
  ldaxrh: LDAXR(1),
  stxr: STXR(),
  stxrb: STXR(0),
  stxrh: STXR(1),
  stlxr: STLXR(),
  stlxrb: STLXR(0),
  stlxrh: STLXR(1),
  ldar: LDAR(),
  ldarb: LDAR(0),
  ldarh: LDAR(1),
  stlr: STLR(),
  stlrb: STLR(0),
  stlrh: STLR(1),
  ldxp: ex(0, 1, 1, 0, false, true)(),
  ldaxp: ex(0, 1, 1, 1, false, true)(),
  stxp: ex(0, 0, 1, 0, true, true)(),
  stlxp: ex(0, 0, 1, 1, true, true)(),
  ...buildAtomics()
};

// asm/a64/encode/bitfield.ts
var BITFIELD = 318767104;
var SBFM = 0;
var BFM = 1;
var UBFM = 2;
var EXTRACT = 327155712;
var DP22 = 448790528;
var SHIFTV = [8, 9, 10, 11];
function encodeBitfield(sf, opc, immr, imms, n, d) {
  return word(sf << 31 | opc << 29 | BITFIELD | sf << 22 | immr << 16 | imms << 10 | n << 5 | d);
}
function twoRegs(ops) {
  const d = ops.reg(0);
  const n = ops.reg(1);
  sameWidth(d, n);
  return [d, n];
}
function bitfield2(opc) {
  return (ops) => {
    ops.allow(4);
    const [d, n] = twoRegs(ops);
    const top = d.width - 1;
    return encodeBitfield(sfOf(d), opc, constantIn(ops, 2, 0, top), constantIn(ops, 3, 0, top), n.num, d.num);
  };
}
function fieldWidth(ops, i, lsb, datasize) {
  const max = datasize - lsb;
  if (max === 1) {
    const v = ops.constant(i);
    if (v !== 1n) throw new OperandError("immediate value must be 1", i + 1);
    return 1;
  }
  return constantIn(ops, i, 1, max);
}
function extractField(opc) {
  return (ops) => {
    ops.allow(4);
    const [d, n] = twoRegs(ops);
    const lsb = constantIn(ops, 2, 0, d.width - 1);
    const width = fieldWidth(ops, 3, lsb, d.width);
    return encodeBitfield(sfOf(d), opc, lsb, lsb + width - 1, n.num, d.num);
  };
}
function insertField(opc, clear = false) {
  return (ops) => {
    ops.allow(clear ? 3 : 4);
    const d = ops.reg(0);
    const n = clear ? 31 : ops.reg(1);
    if (typeof n !== "number") sameWidth(d, n);
    const first = clear ? 1 : 2;
    const lsb = constantIn(ops, first, 0, d.width - 1);
    const width = fieldWidth(ops, first + 1, lsb, d.width);
    return encodeBitfield(sfOf(d), opc, (d.width - lsb) % d.width, width - 1, typeof n === "number" ? n : n.num, d.num);
  };
}
function extend(opc, imms) {
  return (ops) => {
    ops.allow(2);
    const d = ops.reg(0);
    const n = ops.reg(1);
    if (n.width !== 32) throw new OperandError("operand mismatch");
    if (opc === UBFM) return encodeBitfield(0, opc, 0, imms, n.num, d.num);
    if (imms === 31 && d.width !== 64) throw new OperandError("operand mismatch");
    return encodeBitfield(sfOf(d), opc, 0, imms, n.num, d.num);
  };
}
function extr(ops) {
  ops.allow(4);
  const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
  sameWidth(d, n, m);
  const sf = sfOf(d);
  const lsb = constantIn(ops, 3, 0, d.width - 1);
  return word(sf << 31 | EXTRACT | sf << 22 | rm(m) | lsb << 10 | rn(n) | d.num);
}
function shift2(kind) {
  return (ops) => {
    ops.allow(3);
    const [d, n] = twoRegs(ops);
    const sf = sfOf(d);
    if (ops.isReg(2)) {
      const m = ops.reg(2);
      sameWidth(d, m);
      return word(sf << 31 | DP22 | rm(m) | SHIFTV[kind] << 10 | rn(n) | d.num);
    }
    const top = d.width - 1;
    const s = constantIn(ops, 2, 0, top);
    switch (kind) {
      case 0:
        return encodeBitfield(sf, UBFM, (d.width - s) % d.width, top - s, n.num, d.num);
      case 1:
        return encodeBitfield(sf, UBFM, s, top, n.num, d.num);
      case 2:
        return encodeBitfield(sf, SBFM, s, top, n.num, d.num);
      default:
        return word(sf << 31 | EXTRACT | sf << 22 | rm(n) | s << 10 | rn(n) | d.num);
    }
  };
}
function shiftVariable(kind) {
  return (ops) => {
    ops.allow(3);
    const [d, n] = twoRegs(ops);
    const m = ops.reg(2);
    sameWidth(d, m);
    return word(sfOf(d) << 31 | DP22 | rm(m) | SHIFTV[kind] << 10 | rn(n) | d.num);
  };
}
var BITFIELD_OPS = {
  sbfm: bitfield2(SBFM),
  bfm: bitfield2(BFM),
  ubfm: bitfield2(UBFM),
  sbfx: extractField(SBFM),
  bfxil: extractField(BFM),
  ubfx: extractField(UBFM),
  sbfiz: insertField(SBFM),
  bfi: insertField(BFM),
  ubfiz: insertField(UBFM),
  bfc: insertField(BFM, true),
  sxtb: extend(SBFM, 7),
  sxth: extend(SBFM, 15),
  sxtw: extend(SBFM, 31),
  uxtb: extend(UBFM, 7),
  uxth: extend(UBFM, 15),
  extr,
  lsl: shift2(0),
  lsr: shift2(1),
  asr: shift2(2),
  ror: shift2(3),
  lslv: shiftVariable(0),
  lsrv: shiftVariable(1),
  asrv: shiftVariable(2),
  rorv: shiftVariable(3)
};

// asm/a64/encode/branch.ts
var B = 335544320;
var BL = 2483027968;
var B_COND = 1409286144;
var CBZ = 872415232;
var TBZ = 905969664;
var BR = 3592355840;
var BLR = 3594452992;
var RET = 3596550144;
var ADR = 268435456;
var ADRP = 2415919104;
function target2(ops, i) {
  return parseImm(ops.text(i, i === 0 ? "invalid address" : void 0), ops.ctx, i, true).expr;
}
function unconditional(base2) {
  return (ops) => {
    ops.allow(1);
    return word(base2, [pcRelFixup(target2(ops, 0), PCREL.branch26)]);
  };
}
function conditionalBranch(cond) {
  return (ops) => {
    ops.allow(1);
    return word(B_COND | cond, [pcRelFixup(target2(ops, 0), PCREL.cond19)]);
  };
}
function branchCondition(mnemonic2) {
  const m = /^b\.?([a-z]+)$/.exec(mnemonic2);
  return m ? parseCondition(m[1]) : void 0;
}
function compareBranch2(op) {
  return (ops) => {
    ops.allow(2);
    const t2 = ops.reg(0);
    return word((sfOf(t2) << 31 | CBZ | op << 24 | t2.num) >>> 0, [pcRelFixup(target2(ops, 1), PCREL.cond19)]);
  };
}
function testBranch2(op) {
  return (ops) => {
    ops.allow(3);
    const t2 = ops.reg(0);
    const bit2 = constantIn(ops, 1, 0, t2.width - 1);
    return word((bit2 >> 5 << 31 | TBZ | op << 24 | (bit2 & 31) << 19 | t2.num) >>> 0, [pcRelFixup(target2(ops, 2), PCREL.tbz14)]);
  };
}
function register2(base2, optional) {
  return (ops) => {
    if (optional && ops.length === 0) return word(base2 | rn(30));
    ops.allow(1);
    const n = ops.reg(0);
    if (n.width !== 64) throw new OperandError("operand mismatch");
    return word(base2 | rn(n));
  };
}
function pcRelAddress(base2, page) {
  return (ops) => {
    ops.allow(2);
    const d = ops.reg(0);
    if (d.width !== 64) throw new OperandError("operand mismatch");
    const expr = target2(ops, 1);
    return word(base2 | d.num, [page ? adrpFixup(expr) : adrFixup(expr)]);
  };
}
var BRANCH = {
  b: unconditional(B),
  bl: unconditional(BL),
  cbz: compareBranch2(0),
  cbnz: compareBranch2(1),
  tbz: testBranch2(0),
  tbnz: testBranch2(1),
  br: register2(BR, false),
  blr: register2(BLR, false),
  ret: register2(RET, true),
  adr: pcRelAddress(ADR, false),
  adrp: pcRelAddress(ADRP, true)
};

// asm/a64/encode/loadstore.ts
var LDST_UNSIGNED = 956301312;
var LDST_IMM9 = 939524096;
var POST_INDEX = 1024;
var PRE_INDEX = 3072;
var LDST_REGISTER = 941623296;
var LDR_LITERAL = 402653184;
var LDST_PAIR = 671088640;
var bySize = (size) => () => size;
var fromWidth = (rt) => rt.width === 64 ? 3 : 2;
var fixed = (opc) => () => opc;
var signed = (rt) => rt.width === 64 ? 2 : 3;
var STR = { size: fromWidth, opc: fixed(0), rt: "both" };
var LDR = { size: fromWidth, opc: fixed(1), rt: "both", literal: (rt) => sfOf(rt) };
var STRB = { size: bySize(0), opc: fixed(0), rt: 32 };
var LDRB = { size: bySize(0), opc: fixed(1), rt: 32 };
var STRH = { size: bySize(1), opc: fixed(0), rt: 32 };
var LDRH = { size: bySize(1), opc: fixed(1), rt: 32 };
var LDRSB = { size: bySize(0), opc: signed, rt: "both" };
var LDRSH = { size: bySize(1), opc: signed, rt: "both" };
var LDRSW = { size: bySize(2), opc: fixed(2), rt: 64, literal: () => 2 };
var unscaled = (f) => ({ size: f.size, opc: f.opc, rt: f.rt, unscaled: true });
function imm9Fits(v) {
  return v >= -256n && v <= 255n;
}
function encodeImm9(base2, v) {
  return (base2 | Number(BigInt.asUintN(9, v)) << 12) >>> 0;
}
function encodeOffset(value, size, sizeOpcRnRt) {
  const scale = 1n << BigInt(size);
  if (value >= 0n && value % scale === 0n && value / scale <= 0xfffn) {
    return (LDST_UNSIGNED | sizeOpcRnRt | Number(value / scale) << 10) >>> 0;
  }
  if (imm9Fits(value)) return encodeImm9(LDST_IMM9 | sizeOpcRnRt, value);
  return lateError("immediate offset out of range");
}
function imm9(imm, base2, operand) {
  if (imm.reloc) throw new OperandError("relocation not allowed", operand);
  if (imm.value !== void 0 && !imm9Fits(imm.value)) throw new OperandError("immediate offset out of range -256 to 255", operand);
  return lateImmediate(imm, (v) => imm9Fits(v) ? encodeImm9(base2, v) : lateError("immediate offset out of range"));
}
function registerOffset2(mem, size, operand) {
  const op = mem.modifier?.op ?? "lsl";
  const options = { uxtw: 2, lsl: 3, sxtw: 6, sxtx: 7 };
  const option = options[op];
  if (option === void 0) throw new OperandError("invalid shift for the register offset addressing mode", operand);
  const wantsW = op === "uxtw" || op === "sxtw";
  if (wantsW && mem.index.width !== 32) throw new OperandError("invalid use of 64-bit register offset", operand);
  if (!wantsW && mem.index.width !== 64) throw new OperandError("invalid use of 32-bit register offset", operand);
  const amount = mem.modifier?.amount;
  if (amount !== void 0 && amount !== 0 && amount !== size) throw new OperandError("invalid shift amount", operand);
  const S = amount === void 0 ? 0 : size === 0 ? 1 : amount === size && amount !== 0 ? 1 : 0;
  return option << 13 | S << 12 | mem.index.num << 16;
}
function single2(form) {
  return (ops) => {
    ops.allow(3, 2);
    const rt = ops.reg(0);
    if (form.rt !== "both" && rt.width !== form.rt) throw new OperandError("operand mismatch");
    const size = form.size(rt);
    const opc = form.opc(rt);
    const addrText = ops.text(1);
    if (!addrText.startsWith("[")) {
      if (!form.literal) throw new OperandError("invalid addressing mode", 2);
      if (addrText.startsWith("=")) throw new OperandError("literal pools are not supported", 2);
      ops.allow(2);
      const target3 = ops.imm(1);
      return word(form.literal(rt) << 30 | LDR_LITERAL | rt.num, [pcRelFixup(target3.expr, PCREL.literal19)]);
    }
    const mem = ops.mem(1);
    const sizeOpcRnRt = size << 30 | opc << 22 | mem.base.num << 5 | rt.num;
    if (ops.length === 3) {
      if (mem.mode !== "offset" || mem.offset) throw new OperandError("unexpected characters following instruction", 2);
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return imm9(ops.imm(2, true), LDST_IMM9 | POST_INDEX | sizeOpcRnRt, 2);
    }
    if (mem.mode === "pre") {
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return imm9(mem.offset, LDST_IMM9 | PRE_INDEX | sizeOpcRnRt, 2);
    }
    if (mem.mode === "reg") {
      if (form.unscaled) throw new OperandError("invalid addressing mode", 2);
      return word(LDST_REGISTER | sizeOpcRnRt | registerOffset2(mem, size, 2));
    }
    const offset = mem.offset;
    if (form.unscaled) {
      if (!offset) return word(LDST_IMM9 | sizeOpcRnRt);
      return imm9(offset, LDST_IMM9 | sizeOpcRnRt, 2);
    }
    if (!offset) return word(LDST_UNSIGNED | sizeOpcRnRt);
    if (offset.reloc === "lo12") {
      const bytes = 1 << size;
      if (offset.value !== void 0) {
        const lo = offset.value & 0xfffn;
        if (lo % BigInt(bytes)) lateError(`relocation truncated to fit: R_AARCH64_LDST${bytes * 8}_ABS_LO12_NC`);
        return word(LDST_UNSIGNED | sizeOpcRnRt | Number(lo / BigInt(bytes)) << 10);
      }
      return word(LDST_UNSIGNED | sizeOpcRnRt, [lo12Fixup(offset.expr, bytes)]);
    }
    return lateImmediate(offset, (v) => encodeOffset(v, size, sizeOpcRnRt));
  };
}
function pair2(L, signedWord = false) {
  return (ops) => {
    ops.allow(4, 3);
    const t1 = ops.reg(0), t2 = ops.reg(1);
    if (t1.width !== t2.width || signedWord && t1.width !== 64) throw new OperandError("operand mismatch");
    const opc = signedWord ? 1 : t1.width === 64 ? 2 : 0;
    const scale = signedWord || t1.width === 32 ? 4 : 8;
    const mem = ops.mem(2);
    if (mem.mode === "reg") throw new OperandError("invalid addressing mode", 3);
    let mode = 2;
    let offset = mem.offset;
    if (ops.length === 4) {
      if (mem.mode !== "offset" || mem.offset) throw new OperandError("unexpected characters following instruction", 3);
      mode = 1;
      offset = ops.imm(3, true);
    } else if (mem.mode === "pre") mode = 3;
    const base2 = (opc << 30 | LDST_PAIR | mode << 23 | L << 22 | t2.num << 10 | mem.base.num << 5 | t1.num) >>> 0;
    if (!offset) return word(base2);
    if (offset.reloc) throw new OperandError("relocation not allowed", 3);
    const s = BigInt(scale);
    const fits2 = (v) => v % s === 0n && v / s >= -64n && v / s <= 63n;
    if (offset.value !== void 0) {
      if (offset.value % s) throw new OperandError(`immediate value must be a multiple of ${scale}`, 3);
      if (!fits2(offset.value)) throw new OperandError(`immediate offset out of range ${-64 * scale} to ${63 * scale}`, 3);
    }
    return lateImmediate(
      offset,
      (v) => fits2(v) ? (base2 | Number(BigInt.asUintN(7, v / s)) << 15) >>> 0 : lateError("immediate offset out of range")
    );
  };
}
var LOADSTORE = {
  str: single2(STR),
  ldr: single2(LDR),
  strb: single2(STRB),
  ldrb: single2(LDRB),
  strh: single2(STRH),
  ldrh: single2(LDRH),
  ldrsb: single2(LDRSB),
  ldrsh: single2(LDRSH),
  ldrsw: single2(LDRSW),
  stur: single2(unscaled(STR)),
  ldur: single2(unscaled(LDR)),
  sturb: single2(unscaled(STRB)),
  ldurb: single2(unscaled(LDRB)),
  sturh: single2(unscaled(STRH)),
  ldurh: single2(unscaled(LDRH)),
  ldursb: single2(unscaled(LDRSB)),
  ldursh: single2(unscaled(LDRSH)),
  ldursw: single2(unscaled(LDRSW)),
  stp: pair2(0),
  ldp: pair2(1),
  ldpsw: pair2(1, true)
};

// asm/a64/encode/logical.ts
var LOGICAL_IMM = 301989888;
var LOGICAL_SHIFTED = 167772160;
var MOVE_WIDE = 310378496;
var MOVN = 0;
var MOVZ = 2;
var MOVK = 3;
var ADD_IMM = 285212672;
function encodeLogicalImm(value, sf, opc, d, n) {
  const f = encodeBitmask(value, sf ? 64 : 32);
  if (!f) return void 0;
  return (sf << 31 | opc << 29 | LOGICAL_IMM | f.N << 22 | f.immr << 16 | f.imms << 10 | n << 5 | d) >>> 0;
}
function encodeMoveWide(sf, opc, hw, imm16, d) {
  return (sf << 31 | opc << 29 | MOVE_WIDE | hw << 21 | imm16 << 5 | d) >>> 0;
}
function encodeMovImm(value, d) {
  const width = d.width;
  const sf = sfOf(d);
  if (d.kind !== "sp") {
    const z = wideShift(value, width);
    if (z !== void 0) return encodeMoveWide(sf, MOVZ, z / 16, Number(BigInt.asUintN(64, value) >> BigInt(z) & 0xffffn), d.num);
    const inverted = ~value;
    const n = wideShift(inverted, width);
    if (n !== void 0) return encodeMoveWide(sf, MOVN, n / 16, Number(BigInt.asUintN(64, inverted) >> BigInt(n) & 0xffffn), d.num);
  }
  const orr = encodeLogicalImm(value, sf, 1, d.num, 31);
  if (orr === void 0) lateError("immediate cannot be moved by a single instruction");
  return orr;
}
function shiftedRegister(ops, i, width) {
  const m = ops.reg(i);
  if (m.width !== width) throw new OperandError("operand mismatch");
  const mod = ops.modifier(i + 1);
  const shift3 = SHIFTS.indexOf(mod?.op ?? "lsl");
  if (shift3 < 0) throw new OperandError("shift operator expected", i + 1);
  const amount = mod?.amount ?? 0;
  if (amount >= width) throw new OperandError(`shift amount out of range 0 to ${width - 1}`, i + 1);
  return { m, shift: shift3, amount };
}
function logicalShifted2(sf, opc, N, d, n, s) {
  return (sf << 31 | opc << 29 | LOGICAL_SHIFTED | s.shift << 22 | N << 21 | rm(s.m) | s.amount << 10 | n << 5 | d) >>> 0;
}
function logicalImmediate2(ops, i, sf, opc, d, n, invert) {
  const imm = ops.imm(i);
  if (imm.value !== void 0) {
    const w = encodeLogicalImm(invert ? ~imm.value : imm.value, sf, opc, d, n);
    if (w === void 0) throw new OperandError("immediate out of range", i + 1);
    return word(w);
  }
  return lateImmediate(imm, (v) => encodeLogicalImm(invert ? ~v : v, sf, opc, d, n) ?? lateError("invalid immediate"));
}
function logical(opc, N) {
  return (ops, mnemonic2) => {
    ops.allow(4, 3);
    if (!ops.isReg(2)) {
      if (N && mnemonic2 !== "bic") throw new OperandError("integer register expected in the extended/shifted operand register", 3);
      noShift(ops, 3);
      const d2 = ops.reg(0, opc === 3 ? "zr" : "sp");
      const n2 = ops.reg(1);
      sameWidth(d2, n2);
      return logicalImmediate2(ops, 2, sfOf(d2), opc, d2.num, n2.num, N === 1);
    }
    const d = ops.reg(0);
    const n = ops.reg(1);
    sameWidth(d, n);
    return word(logicalShifted2(sfOf(d), opc, N, d.num, n.num, shiftedRegister(ops, 2, d.width)));
  };
}
function tst(ops) {
  ops.allow(3, 2);
  const n = ops.reg(0);
  if (!ops.isReg(1)) {
    noShift(ops, 2);
    return logicalImmediate2(ops, 1, sfOf(n), 3, 31, n.num, false);
  }
  return word(logicalShifted2(sfOf(n), 3, 0, 31, n.num, shiftedRegister(ops, 1, n.width)));
}
function mvn(ops) {
  ops.allow(3, 2);
  const d = ops.reg(0);
  return word(logicalShifted2(sfOf(d), 1, 1, d.num, 31, shiftedRegister(ops, 1, d.width)));
}
function mov(ops) {
  ops.allow(2);
  const d = ops.reg(0, "any");
  if (ops.isReg(1)) {
    const m = ops.reg(1, "any");
    if (d.width !== m.width) throw new OperandError("operand mismatch");
    if (ops.length > 2) {
      ops.allow(3, 2);
      if (d.kind === "sp") throw new OperandError("operand 1 must be an integer register");
      return word(logicalShifted2(sfOf(d), 1, 0, d.num, 31, shiftedRegister(ops, 1, d.width)));
    }
    if (d.kind === "sp" || m.kind === "sp") {
      if (d.kind === "zr" || m.kind === "zr") throw new OperandError("operand mismatch");
      return word(sfOf(d) << 31 | ADD_IMM | rn(m) | d.num);
    }
    return word(logicalShifted2(sfOf(d), 1, 0, d.num, 31, { m, shift: 0, amount: 0 }));
  }
  const imm = ops.imm(1);
  if (imm.reloc) throw new OperandError("bad expression", 2);
  return lateImmediate(imm, (v) => encodeMovImm(v, d));
}
function uxtw(ops) {
  ops.allow(2);
  const d = ops.reg(0), n = ops.reg(1);
  if (n.width !== 32) throw new OperandError("operand mismatch");
  return word(logicalShifted2(0, 1, 0, d.num, 31, { m: n, shift: 0, amount: 0 }));
}
function noShift(ops, i) {
  const extra = ops.items[i];
  if (extra !== void 0) {
    const isShift = /^(lsl|lsr|asr|ror)\b/i.test(extra);
    throw new OperandError(isShift ? "unexpected shift operator" : "unexpected characters following instruction", i);
  }
}
function moveWide2(opc) {
  return (ops) => {
    ops.allow(3, 2);
    const d = ops.reg(0);
    const sf = sfOf(d);
    const mod = ops.modifier(2);
    let shift3 = 0;
    if (mod) {
      if (mod.op !== "lsl") throw new OperandError("only 'LSL' shift is permitted", 2);
      shift3 = mod.amount ?? 0;
      if (shift3 % 16) throw new OperandError("shift amount must be a multiple of 16", 2);
      if (shift3 >= d.width) throw new OperandError(`shift amount out of range 0 to ${d.width - 16}`, 2);
    }
    return lateImmediate(ops.imm(1), (v) => {
      if (v < 0n || v > 0xffffn) lateError("immediate out of range");
      return encodeMoveWide(sf, opc, shift3 / 16, Number(v), d.num);
    });
  };
}
var LOGICAL3 = {
  and: logical(0, 0),
  bic: logical(0, 1),
  orr: logical(1, 0),
  orn: logical(1, 1),
  eor: logical(2, 0),
  eon: logical(2, 1),
  ands: logical(3, 0),
  bics: logical(3, 1),
  tst,
  mvn,
  mov,
  uxtw,
  movn: moveWide2(MOVN),
  movz: moveWide2(MOVZ),
  movk: moveWide2(MOVK)
};

// asm/a64/encode/multiply.ts
var DP32 = 452984832;
var DP23 = 448790528;
var DP1 = 1522532352;
var CSEL = 444596224;
function multiplyAdd(op31, o0, hasRa) {
  const widening = op31 !== 0;
  return (ops) => {
    ops.allow(hasRa ? 4 : 3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    const a = hasRa ? ops.reg(3) : { num: 31, width: d.width, kind: "zr" };
    if (widening) {
      if (d.width !== 64 || n.width !== 32 || m.width !== 32 || a.width !== 64) throw new OperandError("operand mismatch");
    } else sameWidth(d, n, m, a);
    return word(sfOf(d) << 31 | DP32 | op31 << 21 | rm(m) | o0 << 15 | a.num << 10 | rn(n) | d.num);
  };
}
function multiplyHigh(op31) {
  return (ops) => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    if (d.width !== 64 || n.width !== 64 || m.width !== 64) throw new OperandError("operand mismatch");
    return word(1 << 31 | DP32 | op31 << 21 | rm(m) | 31 << 10 | rn(n) | d.num);
  };
}
function divide(opcode) {
  return (ops) => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    sameWidth(d, n, m);
    return word(sfOf(d) << 31 | DP23 | rm(m) | opcode << 10 | rn(n) | d.num);
  };
}
function condition(ops, i, standard) {
  const cond = parseCondition(ops.text(i));
  if (cond === void 0) throw new OperandError("invalid condition", i + 1);
  if (standard && cond >= 14) throw new OperandError(`operand ${i + 1} must be one of the standard conditions, excluding AL and NV.`);
  return cond;
}
function encodeCsel(sf, op, op2, d, n, m, cond) {
  return word(sf << 31 | op << 30 | CSEL | rm(m) | cond << 12 | op2 << 10 | rn(n) | d);
}
function condSelect2(op, op2) {
  return (ops) => {
    ops.allow(4);
    const d = ops.reg(0), n = ops.reg(1), m = ops.reg(2);
    sameWidth(d, n, m);
    return encodeCsel(sfOf(d), op, op2, d.num, n.num, m.num, condition(ops, 3, false));
  };
}
function condSet(op) {
  return (ops) => {
    ops.allow(2);
    const d = ops.reg(0);
    return encodeCsel(sfOf(d), op, 1 - op, d.num, 31, 31, invertCondition(condition(ops, 1, true)));
  };
}
function condOne(op, op2) {
  return (ops) => {
    ops.allow(3);
    const d = ops.reg(0), n = ops.reg(1);
    sameWidth(d, n);
    return encodeCsel(sfOf(d), op, op2, d.num, n.num, n.num, invertCondition(condition(ops, 2, true)));
  };
}
function oneSource(opcode, only64 = false) {
  return (ops) => {
    ops.allow(2);
    const d = ops.reg(0), n = ops.reg(1);
    sameWidth(d, n);
    const sf = sfOf(d);
    if (only64 && !sf) throw new OperandError("operand mismatch");
    const code = typeof opcode === "number" ? opcode : opcode(sf);
    return word(sf << 31 | DP1 | code << 10 | rn(n) | d.num);
  };
}
var MULTIPLY = {
  madd: multiplyAdd(0, 0, true),
  msub: multiplyAdd(0, 1, true),
  mul: multiplyAdd(0, 0, false),
  mneg: multiplyAdd(0, 1, false),
  smaddl: multiplyAdd(1, 0, true),
  smsubl: multiplyAdd(1, 1, true),
  smull: multiplyAdd(1, 0, false),
  smnegl: multiplyAdd(1, 1, false),
  umaddl: multiplyAdd(5, 0, true),
  umsubl: multiplyAdd(5, 1, true),
  umull: multiplyAdd(5, 0, false),
  umnegl: multiplyAdd(5, 1, false),
  smulh: multiplyHigh(2),
  umulh: multiplyHigh(6),
  udiv: divide(2),
  sdiv: divide(3),
  csel: condSelect2(0, 0),
  csinc: condSelect2(0, 1),
  csinv: condSelect2(1, 0),
  csneg: condSelect2(1, 1),
  cset: condSet(0),
  csetm: condSet(1),
  cinc: condOne(0, 1),
  cinv: condOne(1, 0),
  cneg: condOne(1, 1),
  rbit: oneSource(0),
  rev16: oneSource(1),
  rev32: oneSource(2, true),
  rev: oneSource((sf) => sf ? 3 : 2),
  clz: oneSource(4),
  cls: oneSource(5)
};

// asm/a64/encode/system.ts
var SVC = 3556769793;
var HVC = 3556769794;
var SMC = 3556769795;
var BRK = 3558866944;
var HLT = 3560964096;
var ERET = 3600745440;
var HINT = 3573751839;
var CLREX = 3573755999;
var DSB = 3573756063;
var DMB = 3573756095;
var ISB = 3573756127;
var MSR_IMM = 3573563423;
var SYS = 3574071296;
var SYSL = 3576168448;
var MSR_REG = 3574595584;
var MRS = 3576692736;
function noOperands(w) {
  return (ops) => {
    ops.allow(0);
    return word(w);
  };
}
function exception2(base2) {
  return (ops) => {
    ops.allow(1);
    const imm = ops.imm(0);
    if (imm.value !== void 0 && (imm.value < 0n || imm.value > 0xffffn)) {
      throw new OperandError("immediate value out of range 0 to 65535", 1);
    }
    return lateImmediate(imm, (v) => v >= 0n && v <= 0xffffn ? (base2 | Number(v) << 5) >>> 0 : lateError("immediate out of range"));
  };
}
function hint(ops) {
  ops.allow(1);
  return word(HINT | constantIn(ops, 0, 0, 127) << 5);
}
function barrier2(base2) {
  return (ops) => {
    if (ops.length === 0) throw new OperandError("missing immediate expression", 1);
    ops.allow(1);
    const named = BARRIER_BY_NAME.get(ops.text(0).toLowerCase());
    return word(base2 | (named ?? constantIn(ops, 0, 0, 15)) << 8);
  };
}
function optionalBarrier(base2, acceptsSy) {
  return (ops) => {
    if (ops.length === 0) return word(base2 | 15 << 8);
    ops.allow(1);
    const name = ops.text(0).toLowerCase();
    if (acceptsSy && name === "sy") return word(base2 | 15 << 8);
    if (BARRIER_BY_NAME.has(name)) throw new OperandError("the specified option is not accepted in ISB", 1);
    return word(base2 | constantIn(ops, 0, 0, 15) << 8);
  };
}
function xt(ops, i) {
  const r = ops.reg(i);
  if (r.width !== 64) throw new OperandError("operand mismatch");
  return r.num;
}
function sysReg(ops, i) {
  const key = parseSysReg(ops.text(i));
  if (key === void 0) throw new OperandError("unknown or missing system register name", i + 1);
  return key;
}
function mrs(ops) {
  ops.allow(2);
  const t2 = xt(ops, 0);
  return word((MRS | sysReg(ops, 1) << 5 | t2) >>> 0);
}
function msr(ops) {
  ops.allow(2);
  const field = PSTATE_FIELDS[ops.text(0).toLowerCase()];
  if (field && !ops.isReg(1)) {
    const max = ops.text(0).toLowerCase().startsWith("daif") ? 15 : 1;
    const crm = constantIn(ops, 1, 0, max);
    return word(MSR_IMM | field.op1 << 16 | crm << 8 | field.op2 << 5);
  }
  const key = sysReg(ops, 0);
  return word((MSR_REG | (key & 32767) << 5 | xt(ops, 1)) >>> 0);
}
function crField(ops, i) {
  const m = /^[cC]([0-9]+)$/.exec(ops.text(i));
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= 0 && v <= 15)) throw new OperandError("C0 - C15 expected", i + 1);
  return v;
}
function sys2(ops) {
  ops.allow(5);
  const op1 = constantIn(ops, 0, 0, 7), crn = crField(ops, 1), crm = crField(ops, 2), op2 = constantIn(ops, 3, 0, 7);
  const t2 = ops.length === 5 ? xt(ops, 4) : 31;
  return word(SYS | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | t2);
}
function sysl(ops) {
  ops.allow(5);
  const t2 = xt(ops, 0);
  const op1 = constantIn(ops, 1, 0, 7), crn = crField(ops, 2), crm = crField(ops, 3), op2 = constantIn(ops, 4, 0, 7);
  return word(SYSL | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | t2);
}
function sysAlias2(mnemonic2) {
  return (ops) => {
    const name = ops.items[0]?.toLowerCase() ?? "";
    const op = SYS_ALIASES[mnemonic2].find((o2) => o2.name === name);
    if (!op) throw new OperandError("unknown or missing operation name", 1);
    let t2 = 31;
    if (op.xt) {
      if (ops.length < 2) {
        throw new OperandError(mnemonic2 === "dc" || mnemonic2 === "at" ? "comma expected between operands" : "missing register", 2);
      }
      ops.allow(2);
      t2 = xt(ops, 1);
    } else if (ops.length > 1) {
      throw new OperandError("extraneous register", 2);
    }
    return word(SYS | op.op1 << 16 | op.crn << 12 | op.crm << 8 | op.op2 << 5 | t2);
  };
}
var SYSTEM = {
  svc: exception2(SVC),
  hvc: exception2(HVC),
  smc: exception2(SMC),
  brk: exception2(BRK),
  hlt: exception2(HLT),
  eret: noOperands(ERET),
  ...Object.fromEntries(HINTS.map((name, i) => [name, noOperands(HINT | i << 5)])),
  hint,
  ssbb: noOperands(DSB),
  pssbb: noOperands(DSB | 4 << 8),
  dsb: barrier2(DSB),
  dmb: barrier2(DMB),
  isb: optionalBarrier(ISB, true),
  clrex: optionalBarrier(CLREX, false),
  mrs,
  msr,
  sys: sys2,
  sysl,
  tlbi: sysAlias2("tlbi"),
  dc: sysAlias2("dc"),
  ic: sysAlias2("ic"),
  at: sysAlias2("at")
};

// asm/a64/encode/index.ts
var MNEMONICS = {
  ...ARITH,
  ...LOGICAL3,
  ...BITFIELD_OPS,
  ...MULTIPLY,
  ...LOADSTORE,
  ...ATOMICS,
  ...BRANCH,
  ...SYSTEM
};
var MNEMONIC_LIST = Object.keys(MNEMONICS);
function lookup2(m) {
  const handler = Object.hasOwn(MNEMONICS, m) ? MNEMONICS[m] : void 0;
  if (handler) return handler;
  const cond = branchCondition(m);
  return cond === void 0 ? void 0 : conditionalBranch(cond);
}
function assembleA64(mnemonic2, operands, ctx) {
  const lower = mnemonic2.toLowerCase();
  const statement = () => scrubStatement(lower, operands);
  const handler = lookup2(lower);
  if (!handler) throw new AsmError(`unknown mnemonic \`${lower}' -- \`${statement()}'`);
  try {
    const ops = new Operands(operands, ctx);
    const insn = handler(ops, lower);
    ops.finish();
    return insn;
  } catch (e) {
    if (e instanceof OperandError) {
      const where2 = e.operand === void 0 ? "" : ` at operand ${e.operand}`;
      throw new AsmError(`${e.detail}${where2} -- \`${statement()}'`);
    }
    throw e;
  }
}

// asm/a64/index.ts
var NOP = [31, 32, 3, 213];
function codeFill2(size) {
  const out = new Uint8Array(size);
  const zeros = size & 3;
  for (let i = zeros; i + 4 <= size; i += 4) out.set(NOP, i);
  return out;
}
var a64Backend = {
  arch: "aarch64",
  elfMachine: 183,
  wordSize: 4,
  alignIsPowerOfTwo: true,
  assemble: assembleA64,
  codeFill: codeFill2,
  decode: decodeA64
};

// asm/elf.ts
var EM_X86_64 = 62;
var EM_AARCH64 = 183;
var ET_EXEC = 2;
var PT_LOAD = 1;
var SHT_PROGBITS = 1;
var SHT_SYMTAB = 2;
var SHT_NOBITS = 8;
var SHF_WRITE = 1;
var SHF_ALLOC = 2;
var SHF_EXECINSTR = 4;
var SHN_ABS = 65521;
var STB_LOCAL = 0;
var STT_NOTYPE = 0;
var STT_OBJECT = 1;
var STT_FUNC = 2;
var ElfError = class extends Error {
  name = "ElfError";
};
var MAX_SIZE = 1n << 40n;
function readElf(data) {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (off, len, what2) => {
    if (off < 0 || off + len > data.length) throw new ElfError(`truncated: ${what2} at offset 0x${off.toString(16)} (+${len} bytes) is past the end of the ${data.length}-byte file`);
  };
  need(0, 64, "the ELF header");
  if (v.getUint32(0, false) !== 2135247942) throw new ElfError("not an ELF file (bad magic at offset 0)");
  if (data[4] !== 2) throw new ElfError(`not a 64-bit ELF file (EI_CLASS is ${data[4]} at offset 4; want 2, ELFCLASS64)`);
  if (data[5] !== 1) throw new ElfError(`not a little-endian ELF file (EI_DATA is ${data[5]} at offset 5; want 1)`);
  const type = v.getUint16(16, true);
  if (type !== ET_EXEC) throw new ElfError(`not an executable (e_type is ${type} at offset 16; want 2, ET_EXEC: link it first)`);
  const machine = v.getUint16(18, true);
  const arch = machine === EM_X86_64 ? "x86_64" : machine === EM_AARCH64 ? "aarch64" : void 0;
  if (!arch) throw new ElfError(`unsupported machine ${machine} (e_machine at offset 18; want 62 x86-64 or 183 AArch64)`);
  const entry = v.getBigUint64(24, true);
  const phoff = v.getBigUint64(32, true);
  const shoff = v.getBigUint64(40, true);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (phnum && phentsize !== 56) throw new ElfError(`e_phentsize is ${phentsize} at offset 54; want 56`);
  if (shnum && shentsize !== 64) throw new ElfError(`e_shentsize is ${shentsize} at offset 58; want 64`);
  const table = (offset, count, entrySize, field, at, what2) => {
    if (count && offset >= MAX_SIZE) {
      throw new ElfError(`${field} (offset ${at}) is 0x${offset.toString(16)}: the ${what2} (${count} entries of ${entrySize} bytes) would lie far past the end of the ${data.length}-byte file`);
    }
  };
  table(phoff, phnum, 56, "e_phoff", 32, "program header table");
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + 56 * i;
    need(at, 56, `program header ${i}`);
    const filesz = v.getBigUint64(at + 32, true);
    const memsz = v.getBigUint64(at + 40, true);
    const offset = v.getBigUint64(at + 8, true);
    const seg = {
      type: v.getUint32(at, true),
      flags: v.getUint32(at + 4, true),
      offset: Number(offset),
      vaddr: v.getBigUint64(at + 16, true),
      paddr: v.getBigUint64(at + 24, true),
      filesz: Number(filesz),
      memsz: Number(memsz)
    };
    if (seg.type === PT_LOAD) {
      if (filesz > memsz) throw new ElfError(`program header ${i}: p_filesz 0x${filesz.toString(16)} is larger than p_memsz 0x${memsz.toString(16)}`);
      if (memsz > MAX_SIZE) throw new ElfError(`program header ${i}: p_memsz 0x${memsz.toString(16)} is too large`);
      if (seg.filesz) need(seg.offset, seg.filesz, `the contents of program header ${i}`);
    }
    segments.push(seg);
  }
  const warnings = [];
  let sections = [];
  let symbols = [];
  try {
    table(shoff, shnum, 64, "e_shoff", 40, "section header table");
    ({ sections, symbols } = readSections(data, v, Number(shoff), shnum, shstrndx, need, warnings));
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    warnings.push(`section headers ignored (no section names or symbols): ${e.message}`);
  }
  return { arch, entry, segments, sections, symbols, warnings };
}
function readSections(data, v, shoff, shnum, shstrndx, need, warnings) {
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + 64 * i;
    need(at, 64, `section header ${i}`);
    const size = v.getBigUint64(at + 32, true);
    if (size > MAX_SIZE) throw new ElfError(`section header ${i}: sh_size 0x${size.toString(16)} is too large`);
    raw.push({
      name: v.getUint32(at, true),
      type: v.getUint32(at + 4, true),
      flags: v.getBigUint64(at + 8, true),
      addr: v.getBigUint64(at + 16, true),
      offset: Number(v.getBigUint64(at + 24, true)),
      size: Number(size),
      link: v.getUint32(at + 40, true),
      align: Number(v.getBigUint64(at + 48, true))
    });
  }
  const strings = (section, what2) => {
    if (!section) return (_) => "";
    need(section.offset, section.size, what2);
    const bytes = data.subarray(section.offset, section.offset + section.size);
    return (at) => {
      if (at >= bytes.length) throw new ElfError(`a name at offset ${at} is outside ${what2}`);
      const end = bytes.indexOf(0, at);
      return new TextDecoder().decode(bytes.subarray(at, end < 0 ? bytes.length : end));
    };
  };
  if (shnum && shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} at offset 62 is not a section (there are ${shnum})`);
  const sectionName = strings(shnum ? raw[shstrndx] : void 0, "the section name table");
  const sections = [];
  const byIndex = /* @__PURE__ */ new Map();
  raw.forEach((s, i) => {
    if (s.type !== SHT_PROGBITS && s.type !== SHT_NOBITS) return;
    const name = sectionName(s.name);
    byIndex.set(i, name);
    if (s.type === SHT_PROGBITS) need(s.offset, s.size, `section ${name}`);
    sections.push({
      name,
      type: s.type === SHT_NOBITS ? "nobits" : "progbits",
      flags: { alloc: (s.flags & BigInt(SHF_ALLOC)) !== 0n, write: (s.flags & BigInt(SHF_WRITE)) !== 0n, exec: (s.flags & BigInt(SHF_EXECINSTR)) !== 0n },
      address: s.addr,
      align: Math.max(1, s.align),
      size: s.size,
      // A copy (a Node Buffer's slice would share the file's memory).
      bytes: s.type === SHT_PROGBITS ? new Uint8Array(data.subarray(s.offset, s.offset + s.size)) : new Uint8Array(0)
    });
  });
  const symtab = raw.find((s) => s.type === SHT_SYMTAB);
  let symbols = [];
  if (symtab) {
    try {
      symbols = readSymbols(v, symtab, strings(raw[symtab.link], "the symbol name table"), byIndex, need);
    } catch (e) {
      if (!(e instanceof ElfError)) throw e;
      warnings.push(`symbol table ignored: ${e.message}`);
    }
  }
  return { sections, symbols };
}
function readSymbols(v, symtab, name, byIndex, need) {
  const symbols = [];
  need(symtab.offset, symtab.size, "the symbol table");
  for (let at = symtab.offset + 24; at + 24 <= symtab.offset + symtab.size; at += 24) {
    const info = v.getUint8(at + 4);
    const shndx = v.getUint16(at + 6, true);
    const t2 = info & 15;
    if (t2 !== STT_NOTYPE && t2 !== STT_OBJECT && t2 !== STT_FUNC) continue;
    const symName = name(v.getUint32(at, true));
    if (!symName) continue;
    const section = shndx === SHN_ABS ? null : byIndex.get(shndx);
    if (section === void 0) continue;
    symbols.push({
      name: symName,
      value: v.getBigUint64(at + 8, true),
      section,
      global: info >> 4 !== STB_LOCAL,
      type: t2 === STT_FUNC ? "func" : t2 === STT_OBJECT ? "object" : "notype",
      size: Number(v.getBigUint64(at + 16, true))
    });
  }
  return symbols;
}

// asm/disasm.ts
var hex4 = (v) => v.toString(16);
function isMappingSymbol(s) {
  return s.name.startsWith("$");
}
function preference(a, b) {
  const rank = (s) => (s.type === "func" ? 0 : s.type === "object" ? 1 : 2) * 2 + (s.global ? 0 : 1);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
var SymbolLookup = class {
  constructor(program) {
    this.program = program;
    for (const s of program.symbols) {
      if (s.section === null || isMappingSymbol(s)) continue;
      const list = this.bySection.get(s.section) ?? [];
      list.push(s);
      this.bySection.set(s.section, list);
    }
    for (const list of this.bySection.values()) list.sort((a, b) => a.value < b.value ? -1 : a.value > b.value ? 1 : preference(a, b));
  }
  program;
  /** Per section: symbols by ascending address, the preferred one first at each address. */
  bySection = /* @__PURE__ */ new Map();
  sectionAt(address) {
    return this.program.sections.find((s) => s.flags.alloc && address >= s.address && address < s.address + BigInt(Math.max(s.size, 1)));
  }
  /** The preferred symbol at or below the address in its section. */
  nearest(address) {
    const section = this.sectionAt(address);
    const list = section ? this.bySection.get(section.name) : void 0;
    if (!list) return void 0;
    let best;
    for (const s of list) {
      if (s.value > address) break;
      if (!best || s.value > best.value) best = s;
    }
    return best;
  }
  /** The preferred symbol exactly at the address. */
  at(address) {
    const s = this.nearest(address);
    return s && s.value === address ? s : void 0;
  }
  /** "foo+0x10", or "foo" at the symbol itself; "" when no symbol is near. */
  label(address) {
    const s = this.nearest(address);
    if (!s) return "";
    const off = address - s.value;
    return `${s.name}${off ? `+0x${hex4(off)}` : ""}`;
  }
  /** objdump's "401000 <foo+0x10>". */
  objdump(address) {
    const label = this.label(address);
    return label ? `${hex4(address)} <${label}>` : hex4(address);
  }
};

// asm/index.ts
var BACKENDS = { x86_64: x86Backend, aarch64: a64Backend };
function backendFor(arch) {
  return BACKENDS[arch];
}

// emulator/machine/core/errors.ts
var ShootdownError = class extends Error {
  name = "ShootdownError";
};

// emulator/machine/core/elf-load.ts
var LoadError = class extends ShootdownError {
  name = "LoadError";
};
var hex5 = (v) => `0x${v.toString(16)}`;
function programOf(plan) {
  const e = plan.elf;
  return { arch: e.arch, entry: e.entry, sections: e.sections, symbols: e.symbols };
}
var E_MACHINE = { x86_64: "62, EM_X86_64", aarch64: "183, EM_AARCH64" };
function planElf(image, rules) {
  let elf;
  try {
    elf = readElf(image);
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (elf.arch !== rules.arch) {
    throw new LoadError(`an ${elf.arch} image (e_machine at offset 18 is ${E_MACHINE[elf.arch]}); this machine boots ${rules.arch} images (${E_MACHINE[rules.arch]})`);
  }
  const ramEnd = rules.ramBase + rules.ramBytes;
  const { reserved } = rules;
  const segments = [];
  elf.segments.forEach((s, i) => {
    if (s.type !== 1 || s.memsz === 0) return;
    const start = s.paddr;
    const end = s.paddr + BigInt(s.memsz);
    const what2 = `program header ${i} (p_paddr ${hex5(start)}, p_memsz ${hex5(s.memsz)})`;
    if (start < rules.ramBase || end > ramEnd) {
      const edge = start < rules.ramBase ? `starts at ${hex5(start)}` : `reaches ${hex5(end)}`;
      const advice = start < rules.ramBase ? `link the image at or above ${hex5(rules.ramBase)}` : "give more memory with --mem or link the image lower";
      throw new LoadError(`${what2} ${edge}, outside RAM [${hex5(rules.ramBase)}, ${hex5(ramEnd)}); ${advice}`);
    }
    if (start < reserved.end && end > reserved.start) {
      throw new LoadError(
        `${what2} overlaps the loader's reserved area ${hex5(reserved.start)}\u2013${hex5(reserved.end - 1n)} (${reserved.what}); images must load outside it`
      );
    }
    segments.push({ paddr: start, bytes: image.subarray(s.offset, s.offset + s.filesz), memsz: BigInt(s.memsz) });
  });
  if (!segments.length) throw new LoadError("the image has no PT_LOAD segment to load");
  return { elf, segments };
}
function loadSegments(m, plan) {
  for (const s of plan.segments) {
    m.memory.write(s.paddr, s.bytes);
    const rest = s.memsz - BigInt(s.bytes.length);
    if (rest > 0n) zero(m, s.paddr + BigInt(s.bytes.length), rest);
  }
}
function zero(m, at, length) {
  const chunk = 1n << 20n;
  for (let a = at; a < at + length; a += chunk) {
    const n = a + chunk <= at + length ? chunk : at + length - a;
    m.memory.write(a, new Uint8Array(Number(n)));
  }
}
var CMDLINE_MAX_BYTES = 3072;
function encodeCmdline(cmdline) {
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length > CMDLINE_MAX_BYTES - 1) {
    throw new ShootdownError(`the guest command line is ${bytes.length} bytes; at most ${CMDLINE_MAX_BYTES - 1} fit (3 KiB with its NUL)`);
  }
  if (bytes.includes(0)) throw new ShootdownError("the guest command line must not contain NUL characters");
  return bytes;
}
var BOOT_MAGIC = 0x544f4f424e444853n;
var BOOT_VERSION = 1;
var BOOT_INFO = { MAGIC: 0, VERSION: 8, CPUS: 12, RAM_BYTES: 16, CMDLINE_ADDR: 24, CMDLINE_LEN: 32, SIZE: 40 };
function writeBootInfo(m, at, cmdlineAt, ramBytes, cmdline) {
  const bytes = encodeCmdline(cmdline);
  const info = new Uint8Array(BOOT_INFO.SIZE);
  const v = new DataView(info.buffer);
  v.setBigUint64(BOOT_INFO.MAGIC, BOOT_MAGIC, true);
  v.setUint32(BOOT_INFO.VERSION, BOOT_VERSION, true);
  v.setUint32(BOOT_INFO.CPUS, m.cpus.length, true);
  v.setBigUint64(BOOT_INFO.RAM_BYTES, ramBytes, true);
  v.setBigUint64(BOOT_INFO.CMDLINE_ADDR, cmdlineAt, true);
  v.setUint32(BOOT_INFO.CMDLINE_LEN, bytes.length, true);
  m.memory.write(at, info);
  const withNul = new Uint8Array(bytes.length + 1);
  withNul.set(bytes);
  m.memory.write(cmdlineAt, withNul);
}

// emulator/machine/core/scheduler.ts
var Xoshiro128 = class {
  s0;
  s1;
  s2;
  s3;
  constructor(seed) {
    let x = BigInt.asUintN(64, seed);
    const next64 = () => {
      x = BigInt.asUintN(64, x + 0x9e3779b97f4a7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ z >> 30n) * 0xbf58476d1ce4e5b9n);
      z = BigInt.asUintN(64, (z ^ z >> 27n) * 0x94d049bb133111ebn);
      return z ^ z >> 31n;
    };
    const a = next64();
    const b = next64();
    this.s0 = Number(a & 0xffffffffn);
    this.s1 = Number(a >> 32n);
    this.s2 = Number(b & 0xffffffffn);
    this.s3 = Number(b >> 32n);
  }
  /** The next 32-bit output. */
  nextU32() {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t2 = this.s1 << 9 >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t2) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
  /** An integer in [0, n), n at most 2^32, without modulo bias (Lemire's method would do; rejection is simpler). */
  below(n) {
    if (n <= 1) return 0;
    const limit = 4294967296 - 4294967296 % n;
    for (; ; ) {
      const r = this.nextU32();
      if (r < limit) return r % n;
    }
  }
};
var rotl = (x, k) => (x << k | x >>> 32 - k) >>> 0;
var RoundRobin = class {
  constructor(quantum) {
    this.quantum = quantum;
  }
  quantum;
  mode = "round-robin";
  last = -1;
  next(live) {
    const cpu = live.find((c) => c > this.last) ?? live[0];
    this.last = cpu;
    return { cpu, budget: this.quantum };
  }
};
var RandomInterleaving = class {
  constructor(seed, quantum) {
    this.quantum = quantum;
    this.rng = new Xoshiro128(seed);
  }
  quantum;
  mode = "random";
  rng;
  next(live) {
    const cpu = live[this.rng.below(live.length)];
    return { cpu, budget: 1 + this.rng.below(this.quantum) };
  }
};
var PriorityChangePoints = class {
  constructor(seed, quantum, cpus, p) {
    this.quantum = quantum;
    this.p = p;
    if (!Number.isSafeInteger(p.depth) || p.depth < 1) throw new ShootdownError(`PCT depth must be a positive integer, not ${p.depth}`);
    if (!Number.isSafeInteger(p.horizon) || p.horizon < 1) throw new ShootdownError(`PCT horizon must be a positive integer, not ${p.horizon}`);
    this.rng = new Xoshiro128(seed);
    this.priority = Array.from({ length: cpus }, (_, i) => p.depth + i);
    for (let i = cpus - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [this.priority[i], this.priority[j]] = [this.priority[j], this.priority[i]];
    }
    const points = Math.min(p.depth - 1, p.horizon);
    for (let i = 1; i <= points; i++) {
      let k;
      do
        k = this.rng.below(p.horizon);
      while (this.changes.has(k));
      this.changes.set(k, p.depth - i);
    }
  }
  quantum;
  p;
  mode = "pct";
  rng;
  priority;
  /** Decision index → the priority the running CPU drops to there. */
  changes = /* @__PURE__ */ new Map();
  decision = 0;
  /** The change points, in the order the paper numbers them (k_1 first), for tests and the summary. */
  get changePoints() {
    return [...this.changes.keys()];
  }
  next(live, waiting) {
    const at = this.decision++;
    let ready = waiting?.size ? live.filter((c) => !waiting.has(c)) : live;
    if (!ready.length) ready = live;
    let cpu;
    if (at >= this.p.horizon) cpu = ready[this.rng.below(ready.length)];
    else {
      cpu = this.highest(ready);
      const lowered = this.changes.get(at);
      if (lowered !== void 0) {
        this.priority[cpu] = lowered;
        cpu = this.highest(ready);
      }
    }
    return { cpu, budget: 1 + this.rng.below(this.quantum) };
  }
  highest(cpus) {
    let best = cpus[0];
    for (const c of cpus) if ((this.priority[c] ?? 0) > (this.priority[best] ?? 0)) best = c;
    return best;
  }
};
var isHvStep = (s) => s[1] === "hv";
var ReplayDiverged = class extends ShootdownError {
  name = "ReplayDiverged";
};
var Replay = class {
  constructor(packed) {
    this.packed = packed;
  }
  packed;
  mode = "replay";
  entry = 0;
  /** Repetitions of the current entry already taken. */
  taken = 0;
  decisions = 0;
  /** Decisions taken so far. */
  get position() {
    return this.decisions;
  }
  get done() {
    return this.entry >= this.packed.length;
  }
  next(live) {
    const p = this.packed[this.entry];
    if (!p) throw new ReplayDiverged(`the schedule ended after ${this.decisions} decisions but the run did not`);
    const at = this.decisions;
    if (++this.taken >= repeatCount(p)) {
      this.entry++;
      this.taken = 0;
    }
    this.decisions++;
    if (!live.includes(p[0])) throw new ReplayDiverged(`decision ${at} runs CPU ${p[0]}, which is not live`);
    if (isHvStep(p)) return { cpu: p[0], hv: true };
    const [cpu, asked, retired] = p;
    return { cpu, budget: asked, expect: retired ?? asked };
  }
};
function repeatCount(p) {
  return isHvStep(p) ? p[2] ?? 1 : p[3] ?? 1;
}

// emulator/machine/core/schedule-file.ts
function scheduleDescription(o2) {
  const seed = o2.seed === void 0 ? "" : `, seed ${o2.seed}`;
  if (o2.mode === "pct") return `PCT${seed}, depth ${o2.pct?.depth}, horizon ${o2.pct?.horizon} decisions, quantum 1\u2013${o2.quantum}`;
  return o2.mode === "random" ? `random interleaving${seed}, quantum 1\u2013${o2.quantum}` : `round-robin, quantum ${o2.quantum}`;
}
var MEM_MIN = 2n << 20n;
var MEM_MAX = 3n << 30n;

// emulator/machine/core/run-end.ts
var STATUS = { SUCCESS: 0, GUEST_FAILURE: 1, CRASH: 2, STEP_LIMIT: 3, VIOLATION: 4 };
function endStatus(end) {
  return end.kind === "debug-exit" ? end.code === 0n ? STATUS.SUCCESS : STATUS.GUEST_FAILURE : end.kind === "power-off" ? end.reset ? STATUS.GUEST_FAILURE : STATUS.SUCCESS : end.kind === "shutdown" ? end.status : end.kind === "step-limit" ? STATUS.STEP_LIMIT : end.kind === "violation" ? STATUS.VIOLATION : STATUS.CRASH;
}
var hex6 = (v) => `0x${v.toString(16)}`;
function describeEnd(end) {
  switch (end.kind) {
    case "debug-exit":
      return end.code === 0n ? `CPU ${end.cpu} wrote 0 to the debug-exit port: success` : `CPU ${end.cpu} wrote ${hex6(end.code)} to the debug-exit port: guest-reported failure`;
    case "power-off":
      return end.reset ? `CPU ${end.cpu} called PSCI SYSTEM_RESET: guest-reported failure` : `CPU ${end.cpu} called PSCI SYSTEM_OFF: success`;
    case "shutdown":
      return `CPU ${end.cpu}: the domain shut down (${end.reason})`;
    case "crash":
      return end.message;
    case "step-limit":
      return `--max-steps: ${end.steps} instructions retired`;
    case "violation":
      return `sanitizer violation at step ${end.step}: ${end.message}`;
  }
}

// emulator/machine/core/engine.ts
var NO_EVENTS = [];
var NO_CPUS = /* @__PURE__ */ new Set();
var Engine = class {
  constructor(config) {
    this.config = config;
    this.options = config.options;
    this.replayPacked = config.replay;
    this.recorded = config.recorded;
    this.platform = this.boot();
    this.scheduler = this.makeScheduler();
  }
  config;
  platform;
  /** The CPU the user looks at (the debugger's `cpu N`). */
  current = 0;
  options;
  replayPacked;
  recorded;
  scheduler;
  pending;
  continuations = [];
  breakpoints = [];
  /** Watched physical bytes: their value when last looked at, their length, and the VA they were set by. */
  watchpoints = /* @__PURE__ */ new Map();
  /** CPUs that stopped at a breakpoint and resume past it. */
  resumeAt = /* @__PURE__ */ new Map();
  taken = [];
  /** How each logged decision ended (going back in time makes them again). */
  takenStops = [];
  consoleSeen = 0;
  consoleAt = 0;
  steps = 0n;
  hvSteps = 0n;
  decisionCount = 0;
  ended;
  idleCpus = /* @__PURE__ */ new Set();
  /** waiting()'s answer, one set for the whole run. */
  waitingCpus = /* @__PURE__ */ new Set();
  lastStopCpu = 0;
  exitCounts = [];
  events = [];
  /**
   * After a goto backwards: the decisions that had been made past that
   * point, and the one in progress, to be made again before the schedule is
   * asked for more.
   */
  redo = [];
  /** Run one instruction per decision piece until this step, while looking for the instruction that used a stale entry. */
  preciseUntil = 0n;
  /** What the last continuation step did (the debugger's `step` says it). */
  lastStep;
  /** Each CPU's continuation's last announced step (a wait is only no progress when announced twice in a row). */
  announcedSteps = [];
  /** CPUs whose guest yielded since another CPU last made progress (StepLabel.yields). */
  yieldingCpus = /* @__PURE__ */ new Set();
  /** Stop at events (the debugger); a run only collects them. */
  stopOnEvents = false;
  /** Set by a gdb interrupt (Ctrl-C) to end a continue early. */
  interruptRequested = false;
  boot() {
    const p = this.config.build(this.options, (b) => this.consoleByte(b));
    this.continuations.length = 0;
    this.exitCounts = Array.from({ length: p.cpuCount }, () => ({}));
    return p;
  }
  consoleByte(byte) {
    if (++this.consoleAt <= this.consoleSeen) return;
    this.consoleSeen++;
    this.config.console?.(byte);
  }
  makeScheduler() {
    if (this.replayPacked) return new Replay(this.replayPacked);
    const o2 = this.options;
    if (o2.mode === "pct") {
      if (!o2.pct) throw new ShootdownError("a PCT run needs its depth and horizon");
      return new PriorityChangePoints(o2.seed ?? 0n, o2.quantum, o2.cpus, o2.pct);
    }
    return o2.mode === "random" ? new RandomInterleaving(o2.seed ?? 0n, o2.quantum) : new RoundRobin(o2.quantum);
  }
  /** Back to the machine as booted, with no decision taken. */
  restart() {
    this.platform = this.boot();
    this.platform.setBreakpoints(this.breakpoints);
    this.scheduler = this.makeScheduler();
    this.pending = void 0;
    this.redo = [];
    this.preciseUntil = 0n;
    this.taken = [];
    this.takenStops = [];
    this.consoleAt = 0;
    this.steps = 0n;
    this.hvSteps = 0n;
    this.decisionCount = 0;
    this.ended = void 0;
    this.idleCpus = /* @__PURE__ */ new Set();
    this.announcedSteps = [];
    this.yieldingCpus = /* @__PURE__ */ new Set();
    this.events = [];
    this.resumeAt.clear();
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }
  get instructionsSoFar() {
    return this.steps;
  }
  get hypervisorSteps() {
    return this.hvSteps;
  }
  get decisions() {
    return this.decisionCount;
  }
  /** The decisions taken so far (a schedule file's). */
  get schedule() {
    return this.taken;
  }
  get mode() {
    return this.scheduler.mode;
  }
  /** Exits each CPU took, by reason. */
  get exits() {
    return this.exitCounts;
  }
  /** Everything reported so far (stale TLB uses, sanitizer violations). */
  get reported() {
    return this.events;
  }
  /** Has CPU i a continuation in progress? */
  inHypervisor(i) {
    return this.continuations[i] !== void 0;
  }
  // ── One decision ──────────────────────────────────────────────────────────
  /**
   * Runs CPU `cpu` for up to `budget` instructions and carries out its exit;
   * a CPU that stopped at a breakpoint where it now is first runs the
   * instruction there with breakpoints off.
   */
  runPiece(cpu, budget, honourBreakpoints) {
    const pc = this.platform.pc(cpu);
    const skip = !honourBreakpoints || this.resumeAt.get(cpu) === pc;
    this.resumeAt.delete(cpu);
    if (skip && this.breakpoints.length) {
      this.platform.setBreakpoints([]);
      const first = this.runOnce(cpu, honourBreakpoints ? 1 : budget);
      this.platform.setBreakpoints(this.breakpoints);
      if (honourBreakpoints && budget > 1 && first.stop === "budget") {
        const rest = this.runPiece(cpu, budget - 1, true);
        return { ...rest, retired: first.retired + rest.retired };
      }
      return first;
    }
    return this.runOnce(cpu, budget);
  }
  /** One run call, logged, with its exit handled. */
  runOnce(cpu, budget) {
    const timeline = this.platform.timeline;
    timeline.step = this.decisionCount;
    const { retired, exit } = this.platform.run(cpu, budget);
    this.steps += BigInt(retired);
    if (timeline.on && retired) timeline.emit({ kind: "guest", cpu, retired });
    const counts = this.exitCounts[cpu];
    counts[exit.reason] = (counts[exit.reason] ?? 0) + 1;
    let piece;
    const bp = this.platform.breakpointPc(exit);
    if (bp !== void 0 && this.breakpoints.length) piece = { retired, stop: "breakpoint", pc: bp };
    else if (exit.reason === "budget") {
      const h = this.platform.hasHypervisor ? this.handle(cpu, () => this.platform.handleExit(cpu, exit)) : void 0;
      piece = { retired, stop: h && h.kind !== "done" ? this.settle(cpu, h) : "budget" };
    } else piece = { retired, stop: this.settle(cpu, this.handle(cpu, () => this.platform.handleExit(cpu, exit))) };
    this.log([cpu, budget, retired], piece.stop);
    return piece;
  }
  /**
   * A CPU that runs guest code (or nothing) and has an interrupt the
   * hypervisor must take (a flush IPI) takes it before anything else: the
   * handler becomes its continuation, as a VM exit for an external interrupt
   * would start it. A CPU already in the hypervisor takes interrupts between
   * the steps of its routine, when its own interrupt flag allows.
   */
  takeInterrupt(cpu) {
    if (this.continuations[cpu]) return;
    const routine = this.platform.interrupt(cpu);
    if (routine) this.continuations[cpu] = routine;
  }
  /** One step of CPU `cpu`'s continuation, logged. */
  hvStep(cpu) {
    const routine = this.continuations[cpu];
    this.hvSteps++;
    const timeline = this.platform.timeline;
    timeline.step = this.decisionCount;
    let piece;
    const r = this.handle(cpu, () => {
      const n = routine.next();
      if (!n.done) {
        piece = { retired: 0, stop: "hv", label: n.value };
        if (timeline.on) timeline.emit({ kind: "hv-step", cpu, what: n.value.what, wait: n.value.wait === true });
        return void 0;
      }
      this.continuations[cpu] = void 0;
      return n.value ?? { kind: "done" };
    });
    if (r !== void 0) piece = { retired: 0, stop: this.settle(cpu, r), label: { what: "return to the guest" } };
    this.log([cpu, "hv"], piece.stop);
    return piece;
  }
  /** Runs a handler; a bug in it (an exception) ends the run with one line, never a stack. */
  handle(cpu, f) {
    try {
      return f();
    } catch (e) {
      if (e instanceof ShootdownError) return { kind: "end", end: { kind: "crash", reason: "emulator-error", cpu, message: e.message } };
      const message = `emulator error (a bug in shootdown): ${e.message ?? String(e)}`;
      return { kind: "end", end: { kind: "crash", reason: "emulator-error", cpu, message } };
    }
  }
  /** Acts on a handler's answer. */
  settle(cpu, h) {
    if (!h || h.kind === "done") return "exit";
    if (h.kind === "continue") {
      this.continuations[cpu] = h.routine;
      return "exit";
    }
    this.finish(h.end);
    return "end";
  }
  log(step, stop) {
    this.decisionCount++;
    if (this.config.log === false) return;
    this.taken.push(step);
    this.takenStops.push(stop);
  }
  finish(end) {
    this.ended ??= end;
  }
  // ── Running under the schedule ────────────────────────────────────────────
  live() {
    const out = [];
    for (let i = 0; i < this.platform.cpuCount; i++) if (this.platform.live(i)) out.push(i);
    return out;
  }
  /** The next decision: a redo item, a replayed one, or the scheduler's. Ends the run when there is none. */
  decide() {
    const item = this.redo.shift();
    if (item) return "pending" in item ? item.pending : "hv" in item ? item : { cpu: item.cpu, left: item.budget, retired: 0, expect: item.expect };
    const live = this.live();
    if (!live.length) return void this.finish(this.platform.noneLive());
    const max = this.options.maxSteps;
    if (max !== void 0 && this.steps >= max) return void this.finish({ kind: "step-limit", steps: this.steps });
    if (live.every((c) => this.idleCpus.has(c) && !this.platform.interrupt(c))) return void this.finish(this.platform.deadlock(live));
    try {
      const d = this.scheduler.next(live, this.waiting());
      this.takeInterrupt(d.cpu);
      if ("hv" in d) {
        if (!this.continuations[d.cpu]) throw new ReplayDiverged(`decision ${this.decisionCount} steps CPU ${d.cpu}'s continuation, and it has none`);
        return { hv: d.cpu };
      }
      if (this.continuations[d.cpu]) {
        if ("expect" in d) throw new ReplayDiverged(`decision ${this.decisionCount} runs CPU ${d.cpu}, which is in the hypervisor`);
        return { hv: d.cpu };
      }
      let budget = d.budget;
      if (max !== void 0 && BigInt(budget) > max - this.steps) budget = Number(max - this.steps);
      return { cpu: d.cpu, left: budget, retired: 0, ..."expect" in d ? { expect: d.expect } : {} };
    } catch (e) {
      if (!(e instanceof ReplayDiverged)) throw e;
      return void this.finish({ kind: "crash", reason: "replay-diverged", message: `replay diverged: ${e.message}` });
    }
  }
  /**
   * CPU c made progress: no CPU is idle any more, and the CPUs that yielded
   * to let another run may be chosen again (c's own yield stands until
   * another CPU moves).
   */
  progressBy(c) {
    this.idleCpus.clear();
    if (!this.yieldingCpus.size) return;
    const mine = this.yieldingCpus.has(c);
    this.yieldingCpus.clear();
    if (mine) this.yieldingCpus.add(c);
  }
  /**
   * The CPUs that made no progress since the last decision that did and
   * have no interrupt to take, and those whose guest yielded since (the
   * scheduler may pass them over).
   */
  waiting() {
    if (!this.idleCpus.size && !this.yieldingCpus.size) return NO_CPUS;
    const out = this.waitingCpus;
    out.clear();
    for (const c of this.idleCpus) if (!this.platform.interrupt(c)) out.add(c);
    for (const c of this.yieldingCpus) if (!this.platform.interrupt(c)) out.add(c);
    return out;
  }
  /**
   * Runs under the schedule until something stops it, or until `until`
   * instructions have been retired over all CPUs (goto: breakpoints,
   * watchpoints and events do not stop it then).
   */
  resume(until, chunk) {
    const honour = until === void 0;
    const limit = until ?? (chunk === void 0 ? void 0 : this.steps + chunk);
    if (chunk === void 0) this.interruptRequested = false;
    for (; ; ) {
      if (this.ended) return this.endStop();
      if (limit !== void 0 && this.steps >= limit) return { kind: honour ? "paused" : "reached", cpu: this.lastStopCpu };
      if (this.interruptRequested) return { kind: "interrupted", cpu: this.lastStopCpu };
      if (!this.pending) {
        const d = this.decide();
        if (!d) continue;
        if ("hv" in d) {
          const stop2 = this.afterHvStep(d.hv, honour);
          if (stop2) return stop2;
          continue;
        }
        this.pending = d;
      }
      const p = this.pending;
      let piece = p.left;
      if ((this.watchpoints.size || this.steps < this.preciseUntil) && honour) piece = 1;
      if (limit !== void 0 && BigInt(piece) > limit - this.steps) piece = Number(limit - this.steps);
      const logged = this.taken.length;
      const resumeFrom = this.resumeAt.get(p.cpu);
      const r = this.runPiece(p.cpu, piece, honour);
      if (this.stopOnEvents && honour && piece > 1 && this.platform.eventsPending()) {
        this.rewind(logged);
        if (resumeFrom !== void 0) this.resumeAt.set(p.cpu, resumeFrom);
        this.preciseUntil = this.steps + BigInt(r.retired);
        continue;
      }
      p.left -= r.retired;
      p.retired += r.retired;
      this.lastStopCpu = p.cpu;
      const decisionOver = r.stop === "exit" || r.stop === "end" || p.left <= 0;
      if (decisionOver) {
        this.pending = void 0;
        if (p.expect !== void 0 && p.retired !== p.expect) {
          this.finish({
            kind: "crash",
            reason: "replay-diverged",
            cpu: p.cpu,
            message: `replay diverged: decision ${this.decisionCount - 1}: CPU ${p.cpu} retired ${p.retired} instructions, the schedule says ${p.expect}`
          });
          return this.endStop();
        }
        if (p.retired > 0) this.progressBy(p.cpu);
        else if (this.continuations[p.cpu]) this.idleCpus.delete(p.cpu);
        else this.idleCpus.add(p.cpu);
      }
      const stop = this.afterPiece(p.cpu, r, honour);
      if (stop) return stop;
    }
  }
  /** What stops the engine after a piece: events, a watchpoint, a breakpoint, the end. */
  afterPiece(cpu, r, honour) {
    const events = this.platform.eventsPending() ? this.platform.takeEvents() : NO_EVENTS;
    this.events.push(...events);
    const violation = events.find((e) => e.kind === "violation");
    if (violation && !this.options.keepGoing) {
      const step = typeof violation.detail?.step === "number" ? violation.detail.step : this.decisionCount - 1;
      this.finish({ kind: "violation", cpu: violation.cpu, message: violation.message, step });
      if (!(honour && this.stopOnEvents)) return this.endStop();
    }
    if (events.length) this.preciseUntil = 0n;
    const stopForEvents = events.length && honour && this.stopOnEvents;
    if (r.stop === "end" && !stopForEvents) return this.endStop();
    if (stopForEvents) return { kind: "violation", cpu: events[0].cpu, messages: events.map((v) => v.message) };
    if (honour) {
      const w = this.watchHit(cpu);
      if (w) return w;
    }
    if (r.stop === "breakpoint") {
      this.resumeAt.set(cpu, r.pc);
      this.current = cpu;
      return { kind: "breakpoint", cpu, pc: r.pc };
    }
    return void 0;
  }
  /** One continuation step as a decision of its own. */
  afterHvStep(cpu, honour) {
    const r = this.hvStep(cpu);
    const announced = this.announcedSteps[cpu];
    if (announced?.wait && r.label?.wait && r.label.what === announced.what) this.idleCpus.add(cpu);
    else this.progressBy(cpu);
    if (r.label?.yields) this.yieldingCpus.add(cpu);
    this.announcedSteps[cpu] = r.stop === "hv" ? r.label : void 0;
    this.lastStep = r.label;
    this.lastStopCpu = cpu;
    return this.afterPiece(cpu, r, honour);
  }
  endStop() {
    const e = this.ended;
    const cpu = "cpu" in e && e.cpu !== void 0 ? e.cpu : 0;
    return { kind: "end", cpu, status: endStatus(e), message: describeEnd(e) };
  }
  /** Runs to the end of the run (`shootdown run`): no breakpoints, nothing stops it but the end. */
  runToEnd() {
    try {
      while (!this.ended) this.resume();
    } catch (e) {
      this.finish({ kind: "crash", reason: "emulator-error", message: `emulator error (a bug in shootdown): ${e.message ?? String(e)}` });
    }
    return this.ended;
  }
  /** N instructions on one CPU, each a decision of its own (a CPU in the hypervisor takes N hypervisor steps). */
  step(n = 1, cpu = this.current) {
    if (this.ended) return this.endStop();
    if (!this.platform.live(cpu)) {
      throw new ShootdownError(this.platform.arch === "aarch64" ? `CPU ${cpu} is off (PSCI CPU_ON starts it)` : `CPU ${cpu} is stopped`);
    }
    this.resumeAt.set(cpu, this.platform.pc(cpu));
    for (let i = 0; i < n; i++) {
      this.takeInterrupt(cpu);
      if (this.continuations[cpu]) {
        const stop2 = this.afterHvStep(cpu, true);
        if (stop2) return stop2;
        if (i === n - 1) return { kind: "hv-step", cpu, what: this.lastStep?.what ?? "return to the guest" };
        continue;
      }
      const r = this.runPiece(cpu, 1, true);
      const stop = this.afterPiece(cpu, r, true);
      if (stop) return stop;
      if (r.retired === 0 && !this.continuations[cpu]) return { kind: "idle", cpu };
    }
    this.resumeAt.set(cpu, this.platform.pc(cpu));
    return { kind: "step", cpu };
  }
  // ── Breakpoints and watchpoints ───────────────────────────────────────────
  setBreakpoint(address) {
    if (!this.breakpoints.includes(address)) {
      this.breakpoints.push(address);
      this.platform.setBreakpoints(this.breakpoints);
    }
  }
  removeBreakpoint(address) {
    const before = this.breakpoints.length;
    if (address === void 0) this.breakpoints.length = 0;
    else {
      const i = this.breakpoints.indexOf(address);
      if (i >= 0) this.breakpoints.splice(i, 1);
    }
    this.platform.setBreakpoints(this.breakpoints);
    return this.breakpoints.length !== before;
  }
  /** Physical bytes as a debugger reads them; undefined outside RAM. The debugger reads through the data caches. */
  peekPhysical(pa, length) {
    const m = this.platform.machine.memory;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const at = pa + BigInt(i);
      const word2 = m.peek64(at & ~7n);
      if (word2 === void 0) return void 0;
      out[i] = Number(word2 >> 8n * (at & 7n) & 0xffn);
    }
    return out;
  }
  watchValue(pa, length) {
    const b = this.peekPhysical(pa, length);
    if (!b) return -1n;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = v << 8n | BigInt(b[i]);
    return v;
  }
  /** The first watchpoint whose bytes changed, updating the remembered values. */
  watchHit(cpu) {
    let hit;
    for (const [pa, w] of this.watchpoints) {
      const now = this.watchValue(pa, w.length);
      if (now !== w.value) {
        hit ??= { kind: "watchpoint", cpu, pa, old: w.value, now, ...w.va !== void 0 ? { va: w.va } : {} };
        w.value = now;
      }
    }
    return hit;
  }
  /**
   * Watches `length` bytes at physical pa for a change by any CPU (`va`:
   * the virtual address it was asked for, which a stop reports); returns
   * their value now.
   */
  watch(pa, length = 8, va) {
    const value = this.watchValue(pa, length);
    if (value < 0n) throw new ShootdownError(`physical address 0x${pa.toString(16)} is not RAM`);
    this.watchpoints.set(pa, { value, length, ...va !== void 0 ? { va } : {} });
    return value;
  }
  unwatch(pa) {
    return this.watchpoints.delete(pa);
  }
  // ── The end, and replays ──────────────────────────────────────────────────
  get endedWith() {
    if (!this.ended) return void 0;
    const s = this.endStop();
    return { status: s.status, message: s.message, cpu: s.cpu };
  }
  /** How the run ended, as a record. */
  get end() {
    return this.ended;
  }
  /** After a replayed run ended: did it end as the recording says? */
  replayVerdict() {
    if (!this.recorded || !this.ended) return void 0;
    const hash = this.platform.stateHash();
    const r = this.recorded;
    const status = endStatus(this.ended);
    if (r.status === status && r.stateHash === hash) return `the replay reproduced the recorded run (state hash 0x${hash.toString(16)})`;
    return `the recorded run ended with status ${r.status} and state hash 0x${r.stateHash.toString(16)}, this one with status ${status} and 0x${hash.toString(16)}`;
  }
  /** The CPU the last decision ran. */
  get lastCpu() {
    return this.lastStopCpu;
  }
  /** How the decisions are made: "round-robin, quantum 1000", "replay of N recorded decisions" … */
  get scheduleName() {
    const o2 = this.options;
    if (this.replayPacked) return `replay of ${this.replayPacked.length} recorded decisions`;
    return scheduleDescription(o2);
  }
  /** The decision a stop interrupted, still to be finished. */
  get unfinished() {
    return this.pending && { cpu: this.pending.cpu, left: this.pending.left };
  }
  /** Follows a recorded schedule from step 0 (the debugger's `replay F`). */
  replayFrom(options, decisions, recorded) {
    this.options = options;
    this.replayPacked = decisions;
    this.recorded = recorded;
    this.restart();
  }
  // ── Going back in time ────────────────────────────────────────────────────
  /**
   * Back to the state after the first `calls` logged decisions: a fresh
   * machine, and those decisions again, each for what it retired (an exit
   * ends a call on the instruction that caused it, so it ends there again),
   * with breakpoints off. The scheduler's own state is not touched: the
   * decisions after the rewind are the ones that would have come anyway.
   */
  rewind(calls) {
    const log = this.taken.slice(0, calls);
    const stops = this.takenStops.slice(0, calls);
    this.platform = this.boot();
    this.consoleAt = 0;
    this.taken = [];
    this.takenStops = [];
    this.steps = 0n;
    this.hvSteps = 0n;
    this.decisionCount = 0;
    this.ended = void 0;
    this.events = [];
    log.forEach((step, i) => {
      if (step[1] === "hv") return void this.hvStep(step[0]);
      const [cpu, asked, retired] = step;
      if (retired === 0 && stops[i] === "breakpoint") return;
      this.runOnce(cpu, retired > 0 ? retired : asked);
    });
    this.platform.takeEvents();
    this.platform.setBreakpoints(this.breakpoints);
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }
  /** Back to an earlier step: the machine as it was at the last decision that ended at or before it, the rest to redo. */
  travelBack(target3) {
    let calls = 0;
    let at = 0n;
    const retiredOf = (s) => s[1] === "hv" ? 0 : s[2];
    while (calls < this.taken.length && at + BigInt(retiredOf(this.taken[calls])) <= target3) at += BigInt(retiredOf(this.taken[calls++]));
    const tail = this.taken.slice(calls).map((step, i) => ({ step, stop: this.takenStops[calls + i] }));
    const pending = this.pending;
    this.rewind(calls);
    this.preciseUntil = 0n;
    this.idleCpus = /* @__PURE__ */ new Set();
    this.announcedSteps = [];
    this.yieldingCpus = /* @__PURE__ */ new Set();
    this.resumeAt.clear();
    this.pending = void 0;
    const again = [];
    for (const { step, stop } of tail) {
      if (step[1] === "hv") again.push({ hv: step[0] });
      else if (step[2] > 0 || stop !== "breakpoint") again.push({ cpu: step[0], budget: step[2] > 0 ? step[2] : step[1], expect: step[2] });
    }
    this.redo = [...again, ...pending ? [{ pending: { ...pending } }] : [], ...this.redo];
  }
  /** Runs, or goes back and runs, until `target` instructions over all CPUs (or the run ends). */
  goto(target3) {
    if (target3 < this.steps) this.travelBack(target3);
    const stop = this.resume(target3);
    if (stop.kind !== "end") this.current = this.lastStopCpu;
    return stop;
  }
};

// emulator/machine/core/report.ts
import { createHash } from "node:crypto";
function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}
function chaosInterval(p) {
  return Math.max(1, Math.round(1 / p));
}
function reportOf(engine, image, record, stateHash = "eager") {
  const end = engine.end;
  const p = engine.platform;
  const cpus = Array.from({ length: p.cpuCount }, (_, i) => ({
    index: i,
    instructions: p.instructions(i),
    cycles: p.cycles(i),
    ...p.snapshot(i),
    exits: engine.exits[i],
    counters: p.counters(i)
  }));
  const report = {
    arch: p.arch,
    end,
    status: endStatus(end),
    cpus,
    mode: engine.mode,
    steps: engine.instructionsSoFar,
    hypervisorSteps: engine.hypervisorSteps,
    decisions: engine.decisions,
    consoleBytes: p.consoleBytes(),
    unknownPorts: p.unknownPorts(),
    events: engine.reported,
    stateHash: 0n,
    imageSha256: sha256(image),
    ...record ? { schedule: [...engine.schedule] } : {},
    ...p.hypervisorSummary() ? { hypervisor: p.hypervisorSummary() } : {}
  };
  if (stateHash !== "on-demand") {
    report.stateHash = p.stateHash();
    return report;
  }
  let hash;
  return Object.defineProperty(report, "stateHash", { enumerable: true, get: () => hash ??= p.stateHash() });
}

// emulator/machine/core/wasm.ts
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
var compiled = /* @__PURE__ */ new Map();
var moduleOfExports = /* @__PURE__ */ new WeakMap();
var defaultPath;
var spares = /* @__PURE__ */ new Map();
var SPARES_MAX = 2;
var pristine = /* @__PURE__ */ new WeakMap();
var released = /* @__PURE__ */ new WeakSet();
var poolStats = { instantiated: 0, reused: 0 };
function packageRoot() {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (; ; ) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new ShootdownError("cannot find the shootdown package root");
    dir = up;
  }
}
function wasmPath() {
  return join(packageRoot(), "dist", "shootdown.wasm");
}
function compile(path) {
  const known = compiled.get(path);
  if (known) return known;
  if (!existsSync(path)) {
    throw new ShootdownError(`${path} is missing: run 'npm install' (or 'npm run build') to build the hardware module`);
  }
  const module = new WebAssembly.Module(readFileSync(path));
  compiled.set(path, module);
  return module;
}
function instantiate(path) {
  const module = compile(path ?? (defaultPath ??= wasmPath()));
  const spare = spares.get(module)?.pop();
  if (spare) {
    released.delete(spare);
    new Uint8Array(spare.memory.buffer).set(pristine.get(spare), 0);
    spare.resetGlobals();
    poolStats.reused++;
    return spare;
  }
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg, _file, line, column) {
        throw new Error(`shootdown hardware module aborted at ${line}:${column} (an emulator bug)`);
      }
    }
  });
  const hw = instance.exports;
  moduleOfExports.set(hw, module);
  if (reusable(hw)) pristine.set(hw, new Uint8Array(hw.memory.buffer, 0, constant(hw, "usageRecord")).slice());
  poolStats.instantiated++;
  return hw;
}
function release(hw) {
  const module = moduleOfExports.get(hw);
  if (!module || released.has(hw) || !pristine.has(hw)) return;
  const kept = spares.get(module) ?? [];
  if (kept.length >= SPARES_MAX) return;
  kept.push(hw);
  spares.set(module, kept);
  released.add(hw);
}
function reusable(hw) {
  const exports = hw;
  return typeof exports.resetGlobals === "function" && exports.usageRecord instanceof WebAssembly.Global;
}
function moduleOf(hw) {
  return moduleOfExports.get(hw);
}
function constant(hw, name) {
  const g = hw[name];
  if (!(g instanceof WebAssembly.Global)) throw new Error(`hardware module does not export ${name}`);
  return Number(g.value);
}

// emulator/generated/hw-exports.ts
var LAYOUT_NAMES = [
  "CFG_CPUS",
  "CFG_ARCH",
  "CFG_MAXPHYADDR",
  "CFG_FEATURES",
  "CFG_SETS",
  "CFG_WAYS",
  "CFG_MICRO_ENTRIES",
  "CFG_CHAOS_MEAN",
  "CFG_CHAOS_SEED",
  "CFG_L1_SETS",
  "CFG_L1_WAYS",
  "CFG_SC_SETS",
  "CFG_SC_WAYS",
  "CFG_SIZE",
  "ARCH_X86_64",
  "ARCH_AARCH64",
  "FEATURE_PAGE1GB",
  "FEATURE_DETECT",
  "FEATURE_CHAOS",
  "FEATURE_CACHES",
  "STRUCT_TLB_4K",
  "STRUCT_TLB_2M",
  "STRUCT_TLB_1G",
  "STRUCT_PSC_PDE",
  "STRUCT_PSC_PDPTE",
  "STRUCT_PSC_PML4E",
  "STRUCT_PSC_PML5E",
  "STRUCT_COUNT",
  "MAX_CPUS",
  "MAX_RAM_RANGES",
  "RANGE_SIZE",
  "EVENT_CAPACITY",
  "EVENT_SIZE",
  "PCID_COUNT",
  "FLOOR_MAP_SLOTS",
  "FLOOR_MAP_SLOT_SIZE",
  "CPU_CR0",
  "CPU_CR2",
  "CPU_CR3",
  "CPU_CR4",
  "CPU_EFER",
  "CPU_RFLAGS",
  "CPU_PAT",
  "CPU_PKRU",
  "CPU_ARM",
  "ARM_SCTLR_EL1",
  "ARM_TCR_EL1",
  "ARM_TTBR0_EL1",
  "ARM_TTBR1_EL1",
  "ARM_MAIR_EL1",
  "ARM_PAR_EL1",
  "ARM_HCR_EL2",
  "ARM_VTTBR_EL2",
  "ARM_VTCR_EL2",
  "ARM_CSSELR_EL1",
  "ARM_PSTATE",
  "ARM_SCTLR_EL2",
  "ARM_TCR_EL2",
  "ARM_TTBR0_EL2",
  "ARM_MAIR_EL2",
  "ARM_REG_COUNT",
  "CPU_VPID",
  "CPU_EPTP",
  "CPU_RES_PA",
  "CPU_RES_INFO",
  "CPU_FAULT_KIND",
  "CPU_FAULT_CODE",
  "CPU_FAULT_ADDR",
  "CPU_FAULT_LEVEL",
  "CPU_FAULT_FLAGS",
  "CPU_FAULT_IPA",
  "CPU_CLOCK",
  "CPU_FLOOR_ALL",
  "CPU_FLOOR_EPT_ALL",
  "CPU_FLOOR_GUESTS",
  "CPU_FLOOR_SPACE",
  "CPU_CUR_CTX",
  "CPU_CUR_ASID",
  "CPU_CUR_FLOOR",
  "CPU_CUR_GLOBAL_FLOOR",
  "CPU_CUR_PSC_FLOOR",
  "CPU_CUR_S2_FLOOR",
  "CPU_MICRO_EPOCH",
  "CPU_CHAOS_COUNT",
  "CPU_AC_KIND",
  "CPU_TLB_LAST_FILL",
  "CPU_TLB_LAST_GLOBAL_FILL",
  "CPU_PSC_LAST_FILL",
  "CPU_PRNG",
  "EPT_SLOTS",
  "CPU_EPT_SLOTS",
  "CPU_EPT_FLOORS",
  "CPU_EPT_NEXT",
  "CPU_FLOOR_MAP_COUNT",
  "CPU_STRUCTS",
  "CPU_COUNTERS",
  "CPU_WALK_SRC",
  "CPU_ALLOW",
  "CPU_RSVD",
  "CPU_WALK_TRACE",
  "CPU_WALK_TOP",
  "CPU_X86",
  "X86_GPR",
  "X86_RIP",
  "X86_LAZY_RES",
  "X86_LAZY_A",
  "X86_LAZY_B",
  "X86_LAZY_OP",
  "X86_LAZY_SIZE",
  "X86_CPL",
  "X86_HALTED",
  "X86_SHADOW",
  "X86_STOPPED",
  "X86_SEL",
  "SEL_CS",
  "SEL_SS",
  "SEL_DS",
  "SEL_ES",
  "SEL_FS",
  "SEL_GS",
  "X86_FS_BASE",
  "X86_GS_BASE",
  "X86_KERNEL_GS_BASE",
  "X86_GDTR_BASE",
  "X86_IDTR_BASE",
  "X86_GDTR_LIMIT",
  "X86_IDTR_LIMIT",
  "X86_TR",
  "X86_TSS_BASE",
  "X86_STAR",
  "X86_LSTAR",
  "X86_CSTAR",
  "X86_FMASK",
  "X86_APIC_BASE",
  "X86_TSC_AUX",
  "X86_INSTRUCTIONS",
  "X86_CYCLES",
  "X86_EXIT_REASON",
  "X86_EXIT_PORT",
  "X86_EXIT_SIZE",
  "X86_EXIT_WRITE",
  "X86_EXIT_VALUE",
  "X86_EXIT_RIP",
  "X86_EXIT_DETAIL",
  "X86_DELIVERY_DEPTH",
  "X86_DELIVERY_VECTOR",
  "X86_FETCH_VA",
  "X86_FETCH_PA",
  "X86_FETCH_HOST",
  "X86_FETCH_EPOCH",
  "X86_FETCH_KIND",
  "X86_APIC_ID",
  "X86_APIC_SVR",
  "X86_APIC_TPR",
  "X86_APIC_LVT_TIMER",
  "X86_APIC_INIT_COUNT",
  "X86_APIC_DIVIDE",
  "X86_APIC_ESR",
  "X86_APIC_LVT_OTHER",
  "X86_APIC_DEADLINE",
  "X86_APIC_STARTED",
  "X86_APIC_ICR",
  "X86_APIC_IRR",
  "X86_APIC_ISR",
  "X86_APIC_FROM_IPI",
  "X86_EVENTS",
  "X86_BREAKPOINT_COUNT",
  "X86_BREAKPOINTS",
  "X86_BREAKPOINT_MAX",
  "X86_RESUME_FROM",
  "X86_GUEST",
  "X86_GUEST_MODE",
  "X86_GUEST_CONTROLS",
  "X86_GUEST_EXCEPTION_BITMAP",
  "X86_GUEST_EXITING",
  "X86_GUEST_EXCEPTIONS_EXITING",
  "X86_VMEXIT_REASON",
  "X86_VMEXIT_QUALIFICATION",
  "X86_VMEXIT_GUEST_LINEAR",
  "X86_VMEXIT_GUEST_PHYSICAL",
  "X86_VMEXIT_INTR_INFO",
  "X86_VMEXIT_INTR_ERROR",
  "X86_VMEXIT_IDT_VECTORING",
  "X86_VMEXIT_IDT_VECTORING_ERROR",
  "X86_VMEXIT_INSTRUCTION_LENGTH",
  "X86_VMEXIT_INSTRUCTION_INFO",
  "X86_ENTRY_INTR_INFO",
  "X86_ENTRY_INTR_ERROR",
  "X86_ENTRY_INSTRUCTION_LENGTH",
  "X86_ENTRY_WRITE_CR2",
  "X86_ENTRY_CR2",
  "X86_DELIVERING_INFO",
  "X86_DELIVERING_ERROR",
  "X86_END",
  "GC_HLT_EXITING",
  "GC_INVLPG_EXITING",
  "GC_INVPCID_EXITING",
  "GC_CR3_LOAD_EXITING",
  "GC_CR0_EXITING",
  "GC_CR4_EXITING",
  "GC_RDMSR_EXITING",
  "GC_WRMSR_EXITING",
  "GC_IO_EXITING",
  "GC_VMCALL_EXITING",
  "GC_EXTERNAL_INTERRUPT_EXITING",
  "GC_VIRTUAL_IF",
  "GC_ALL",
  "VMX_EXIT_EXCEPTION_NMI",
  "VMX_EXIT_EXTERNAL_INTERRUPT",
  "VMX_EXIT_TRIPLE_FAULT",
  "VMX_EXIT_HLT",
  "VMX_EXIT_INVLPG",
  "VMX_EXIT_VMCALL",
  "VMX_EXIT_CR_ACCESS",
  "VMX_EXIT_IO_INSTRUCTION",
  "VMX_EXIT_RDMSR",
  "VMX_EXIT_WRMSR",
  "VMX_EXIT_EPT_VIOLATION",
  "VMX_EXIT_EPT_MISCONFIG",
  "VMX_EXIT_INVPCID",
  "INTR_INFO_VECTOR_MASK",
  "INTR_INFO_TYPE_SHIFT",
  "INTR_INFO_DELIVER_CODE",
  "INTR_INFO_VALID",
  "INTR_TYPE_EXTERNAL_INTERRUPT",
  "INTR_TYPE_HARDWARE_EXCEPTION",
  "INTR_TYPE_SOFTWARE_INTERRUPT",
  "INTR_TYPE_SOFTWARE_EXCEPTION",
  "CPU_A64",
  "A64_X",
  "A64_SP_EL0",
  "A64_SP_EL1",
  "A64_PC",
  "A64_PSTATE",
  "A64_ELR_EL1",
  "A64_SPSR_EL1",
  "A64_ESR_EL1",
  "A64_FAR_EL1",
  "A64_VBAR_EL1",
  "A64_ESR_EL2",
  "A64_FAR_EL2",
  "A64_HPFAR_EL2",
  "A64_ELR_EL2",
  "A64_SPSR_EL2",
  "A64_VBAR_EL2",
  "A64_PLAIN",
  "PLAIN_TPIDR_EL0",
  "PLAIN_TPIDRRO_EL0",
  "PLAIN_TPIDR_EL1",
  "PLAIN_CONTEXTIDR_EL1",
  "PLAIN_CPACR_EL1",
  "PLAIN_AMAIR_EL1",
  "PLAIN_ACTLR_EL1",
  "PLAIN_AFSR0_EL1",
  "PLAIN_AFSR1_EL1",
  "PLAIN_MDSCR_EL1",
  "PLAIN_TPIDR_EL2",
  "PLAIN_VPIDR_EL2",
  "PLAIN_VMPIDR_EL2",
  "PLAIN_CPTR_EL2",
  "PLAIN_MDCR_EL2",
  "PLAIN_HSTR_EL2",
  "A64_PLAIN_COUNT",
  "A64_MPIDR",
  "A64_EXCL_PA",
  "A64_INSTRUCTIONS",
  "A64_CYCLES",
  "A64_EXIT_REASON",
  "A64_EXIT_SIZE",
  "A64_EXIT_WRITE",
  "A64_EXIT_DETAIL",
  "A64_EXIT_ADDRESS",
  "A64_EXIT_VALUE",
  "A64_EXIT_PC",
  "A64_EXIT_ESR",
  "A64_OFF",
  "A64_EVENT",
  "A64_WAITING",
  "A64_BREAKPOINT_COUNT",
  "A64_BREAKPOINTS",
  "A64_BREAKPOINT_MAX",
  "A64_CNT_EC",
  "A64_CNT_EXIT",
  "A64_LAST_FAULT_PC",
  "A64_LAST_FAULT_ESR",
  "A64_RESUME_FROM",
  "A64_END",
  "A64_WAIT_WFI",
  "A64_WAIT_WFE",
  "MMIO_SIGNED",
  "MMIO_W",
  "TRAP_SYSREG",
  "TRAP_SET_WAY",
  "TRAP_WFI",
  "TRAP_ABORT",
  "TRAP_IRQ",
  "CPU_SIZE",
  "LAZY_NONE",
  "LAZY_ADD",
  "LAZY_SUB",
  "LAZY_LOGIC",
  "LAZY_INC",
  "LAZY_DEC",
  "LAZY_NEG",
  "EXIT_BUDGET",
  "EXIT_HLT",
  "EXIT_IO",
  "EXIT_VMCALL",
  "EXIT_TRIPLE_FAULT",
  "EXIT_BUS_ERROR",
  "EXIT_BREAKPOINT",
  "EXIT_STOPPED",
  "EXIT_WFI",
  "EXIT_HVC",
  "EXIT_SMC",
  "EXIT_MMIO",
  "EXIT_TRAP",
  "EXIT_EXCEPTION_LOOP",
  "EXIT_OFF",
  "EXIT_VMEXIT",
  "SPACE_S1",
  "SPACE_S2",
  "SPACE_EL2",
  "FAULT_STAGE2",
  "FAULT_S1PTW",
  "DESC_BASE",
  "DESC_SET_MASK",
  "DESC_WAYS",
  "DESC_SHIFT",
  "DESC_SRC",
  "DESC_SET_BYTES",
  "DESC_LAST_FILL",
  "DESC_SIZE",
  "CNT_TLB_HIT",
  "CNT_TLB_MISS",
  "CNT_WALK_READ",
  "CNT_PSC_HIT",
  "CNT_PAGE_FAULT",
  "CNT_INVLPG",
  "CNT_INVPCID_ADDR",
  "CNT_INVPCID_SINGLE",
  "CNT_INVPCID_ALL_GLOBAL",
  "CNT_INVPCID_ALL",
  "CNT_CR3_FLUSH",
  "CNT_CR3_NOFLUSH",
  "CNT_FLUSH_ALL",
  "CNT_FLUSH_PCID",
  "CNT_FAULT_INVAL",
  "CNT_EVICT",
  "CNT_CHAOS_EVICT",
  "CNT_AD_WRITE",
  "CNT_STALE_USE",
  "CNT_BUS_ERROR",
  "CNT_DIRTY_REWALK",
  "CNT_S2_WALK_READ",
  "CNT_S2_TLB_HIT",
  "CNT_INVEPT",
  "CNT_INVVPID",
  "CNT_TLBI",
  "CNT_TLBI_RECEIVED",
  "CNT_FLOOR_MAP_OVERFLOW",
  "CNT_CACHE_HIT",
  "CNT_CACHE_MISS",
  "CNT_CACHE_WRITEBACK",
  "CNT_DC_SETWAY",
  "CNT_DC_VA",
  "CNT_UNCACHED",
  "CNT_IC_INVAL",
  "CNT_EXCEPTION",
  "CNT_INTERRUPT",
  "CNT_IPI_SENT",
  "CNT_IPI_TAKEN",
  "CNT_EXIT_IO",
  "CNT_EXIT_HLT",
  "CNT_EXIT_VMCALL",
  "CNT_DECODE",
  "CNT_SMC_FLUSH",
  "COUNTER_COUNT",
  "ENTRY_SIZE",
  "E_TAG",
  "E_OUT",
  "E_STAMP",
  "E_PCID",
  "E_ATTRS",
  "E_FLAGS",
  "E_VICTIM",
  "E_CTX",
  "EF_GLOBAL",
  "EF_REPORTED",
  "SRC_MAX",
  "SRC_PAIRS",
  "SRC_SIZE",
  "SRC_STAGE2",
  "MICRO_ENTRY_SIZE",
  "INFO_PAT_SHIFT",
  "INFO_SIZE_SHIFT",
  "EVENT_STALE_TLB",
  "EVENT_STALE_PSC",
  "GICD_NUM_IRQ",
  "GICD_WORDS",
  "GICD_CTLR_FIELD",
  "GICD_GROUP",
  "GICD_ENABLE",
  "GICD_PEND",
  "GICD_ACTIVE",
  "GICD_EDGE",
  "GICD_PRIO",
  "GICD_ROUTE",
  "GICD_SIZE",
  "GICR_WAKER_FIELD",
  "GICR_GROUP",
  "GICR_ENABLE",
  "GICR_PEND",
  "GICR_ACTIVE",
  "GICR_EDGE",
  "GICR_LEVEL",
  "GICC_PMR",
  "GICC_BPR0",
  "GICC_BPR1",
  "GICC_CTLR",
  "GICC_IGRPEN0",
  "GICC_IGRPEN1",
  "GICC_AP0R0",
  "GICC_AP1R0",
  "GICR_PRIO",
  "TIMER_CNTV_CTL",
  "TIMER_CNTP_CTL",
  "TIMER_CNTKCTL",
  "TIMER_CNTFRQ",
  "TIMER_CNTV_CVAL",
  "TIMER_CNTP_CVAL",
  "GIC_CPU_SIZE",
  "DECODE_ENTRIES",
  "DECODE_ENTRY_SIZE",
  "PAGE_STATE_BYTES",
  "USAGE_STRUCT_END",
  "USAGE_SIZE",
  "CACHE_PAGES_BYTES",
  "INIT_OK",
  "INIT_ERR_CPUS",
  "INIT_ERR_MAXPHYADDR",
  "INIT_ERR_GEOMETRY",
  "INIT_ERR_MICRO",
  "INIT_ERR_MEMORY",
  "INIT_ERR_ARCH"
];
var COUNTER_INDEX = {
  tlbHits: "CNT_TLB_HIT",
  tlbMisses: "CNT_TLB_MISS",
  walkReads: "CNT_WALK_READ",
  pagingStructureCacheHits: "CNT_PSC_HIT",
  pageFaults: "CNT_PAGE_FAULT",
  invlpg: "CNT_INVLPG",
  invpcidAddress: "CNT_INVPCID_ADDR",
  invpcidSingleContext: "CNT_INVPCID_SINGLE",
  invpcidAllIncludingGlobal: "CNT_INVPCID_ALL_GLOBAL",
  invpcidAllExcludingGlobal: "CNT_INVPCID_ALL",
  cr3Flush: "CNT_CR3_FLUSH",
  cr3NoFlush: "CNT_CR3_NOFLUSH",
  flushAll: "CNT_FLUSH_ALL",
  flushPcid: "CNT_FLUSH_PCID",
  faultInvalidations: "CNT_FAULT_INVAL",
  evictions: "CNT_EVICT",
  chaosEvictions: "CNT_CHAOS_EVICT",
  accessedDirtyWrites: "CNT_AD_WRITE",
  staleUses: "CNT_STALE_USE",
  busErrors: "CNT_BUS_ERROR",
  dirtyRewalks: "CNT_DIRTY_REWALK",
  stage2WalkReads: "CNT_S2_WALK_READ",
  stage2TlbHits: "CNT_S2_TLB_HIT",
  invept: "CNT_INVEPT",
  invvpid: "CNT_INVVPID",
  tlbi: "CNT_TLBI",
  tlbiReceived: "CNT_TLBI_RECEIVED",
  floorMapOverflows: "CNT_FLOOR_MAP_OVERFLOW",
  cacheHits: "CNT_CACHE_HIT",
  cacheMisses: "CNT_CACHE_MISS",
  cacheWritebacks: "CNT_CACHE_WRITEBACK",
  dcSetWay: "CNT_DC_SETWAY",
  dcByAddress: "CNT_DC_VA",
  uncachedAccesses: "CNT_UNCACHED",
  icInvalidations: "CNT_IC_INVAL",
  exceptions: "CNT_EXCEPTION",
  interrupts: "CNT_INTERRUPT",
  ipisSent: "CNT_IPI_SENT",
  ipisTaken: "CNT_IPI_TAKEN",
  ioExits: "CNT_EXIT_IO",
  hltExits: "CNT_EXIT_HLT",
  vmcallExits: "CNT_EXIT_VMCALL",
  decodes: "CNT_DECODE",
  codeWriteFlushes: "CNT_SMC_FLUSH"
};

// emulator/machine/core/layout.ts
var cached = /* @__PURE__ */ new WeakMap();
function layoutOf(hw) {
  const module = moduleOf(hw);
  const known = module && cached.get(module);
  if (known) return known;
  const out = {};
  for (const name of LAYOUT_NAMES) out[name] = constant(hw, name);
  if (module) cached.set(module, out);
  return out;
}

// emulator/machine/core/options.ts
var DEFAULT_CACHES = {
  l1: { sets: 64, ways: 4 },
  system: { sets: 512, ways: 8 }
};
var DEFAULT_TLB = {
  tlb4k: { sets: 256, ways: 8 },
  tlb2m: { sets: 32, ways: 8 },
  tlb1g: { sets: 4, ways: 4 },
  pde: { sets: 32, ways: 4 },
  pdpte: { sets: 8, ways: 4 },
  pml4e: { sets: 4, ways: 2 },
  pml5e: { sets: 2, ways: 2 }
};
var STRUCT_ORDER = ["tlb4k", "tlb2m", "tlb1g", "pde", "pdpte", "pml4e", "pml5e"];
var isPow2 = (n) => Number.isInteger(n) && n > 0 && (n & n - 1) === 0;
function checkInteger(name, value, lo, hi) {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new ShootdownError(`${name} must be an integer from ${lo} to ${hi}, not ${value}`);
  }
}
function resolveOptions(o2) {
  const arch = o2.arch ?? "x86_64";
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new ShootdownError(`unsupported architecture '${String(arch)}' (x86_64 or aarch64)`);
  }
  const cpus = o2.cpus ?? 1;
  checkInteger("cpus", cpus, 1, 64);
  const maxPhysAddr = o2.maxPhysAddr ?? (arch === "aarch64" ? 48 : 46);
  checkInteger("maxPhysAddr", maxPhysAddr, 32, 52);
  const tlb = { ...DEFAULT_TLB, ...o2.tlb ?? {} };
  for (const name of STRUCT_ORDER) {
    const g = tlb[name];
    if (!isPow2(g.sets)) throw new ShootdownError(`tlb.${name}.sets must be a power of two, not ${g.sets}`);
    checkInteger(`tlb.${name}.ways`, g.ways, 1, 64);
    if (g.sets * g.ways > 1 << 20) throw new ShootdownError(`tlb.${name} has more than 2^20 entries`);
  }
  const microTlbEntries = o2.microTlbEntries ?? 256;
  if (microTlbEntries !== 0 && (!isPow2(microTlbEntries) || microTlbEntries > 65536)) {
    throw new ShootdownError(`microTlbEntries must be 0 or a power of two up to 65536, not ${microTlbEntries}`);
  }
  if (o2.chaos) {
    if (!Number.isInteger(o2.chaos.meanInterval) || o2.chaos.meanInterval < 1 || o2.chaos.meanInterval > 2147483647) {
      throw new ShootdownError(`chaos.meanInterval must be a positive integer, not ${o2.chaos.meanInterval}`);
    }
  }
  let caches;
  if (o2.caches === void 0 ? arch === "aarch64" : o2.caches !== false) {
    if (arch !== "aarch64") throw new ShootdownError("caches are modelled for aarch64 machines only");
    caches = { ...DEFAULT_CACHES, ...typeof o2.caches === "object" ? o2.caches : {} };
    for (const name of ["l1", "system"]) {
      const g = caches[name];
      if (!isPow2(g.sets)) throw new ShootdownError(`caches.${name}.sets must be a power of two, not ${g.sets}`);
      checkInteger(`caches.${name}.ways`, g.ways, 1, 64);
    }
  }
  return {
    arch,
    caches,
    cpus,
    maxPhysAddr,
    page1GB: o2.page1GB ?? true,
    ram: o2.ram ?? [{ base: 0n, size: 64n << 20n }],
    tlb,
    microTlbEntries,
    detectMissingInvalidation: o2.detectMissingInvalidation ?? false,
    chaos: o2.chaos
  };
}

// emulator/machine/core/memory.ts
var hex7 = (v) => `0x${v.toString(16)}`;
var RAM_ERRORS = {
  1: "base and size must be non-zero multiples of 4 KiB",
  2: "it overlaps another RAM range",
  3: "too many RAM ranges",
  4: "the host cannot back that much RAM (WebAssembly memory is limited to 4 GiB)",
  5: "it reaches beyond MAXPHYADDR"
};
var Memory = class {
  constructor(hw, layout) {
    this.hw = hw;
    this.layout = layout;
  }
  hw;
  layout;
  /** Adds zero-filled RAM at [base, base+size). */
  addRange(range) {
    const status = this.hw.ramAdd(range.base, range.size);
    if (status !== 0) {
      throw new ShootdownError(
        `cannot add RAM at ${hex7(range.base)} size ${hex7(range.size)}: ${RAM_ERRORS[status] ?? `error ${status}`}`
      );
    }
  }
  /** Forgets all RAM. */
  clear() {
    this.hw.ramReset();
  }
  ranges() {
    const table = this.hw.regionRamTable();
    const view = new DataView(this.hw.memory.buffer);
    const out = [];
    for (let i = 0; i < this.hw.ramRangeCount(); i++) {
      const at = table + i * this.layout.RANGE_SIZE;
      out.push({ base: view.getBigUint64(at, true), size: view.getBigUint64(at + 8, true) });
    }
    return out;
  }
  /** Host offset of [pa, pa+len), or undefined when it is not all in one RAM range. */
  host(pa, len) {
    if (pa < 0n || pa >= 1n << 64n) return void 0;
    const h = this.hw.ramHost(pa, len);
    return h < 0n ? void 0 : Number(h);
  }
  hostOrThrow(pa, len) {
    const h = this.host(pa, len);
    if (h === void 0) throw new ShootdownError(`no RAM at physical address ${hex7(pa)} (${len} bytes)`);
    return h;
  }
  read64(pa) {
    return new DataView(this.hw.memory.buffer).getBigUint64(this.hostOrThrow(pa, 8), true);
  }
  write64(pa, value) {
    const h = this.hostOrThrow(pa, 8);
    new DataView(this.hw.memory.buffer).setBigUint64(h, BigInt.asUintN(64, value), true);
    this.hw.hostWrote(h, 8);
  }
  /** The u64 at pa, or undefined when it is not RAM. */
  peek64(pa) {
    const h = this.host(pa, 8);
    return h === void 0 ? void 0 : new DataView(this.hw.memory.buffer).getBigUint64(h, true);
  }
  read(pa, length) {
    const h = this.hostOrThrow(pa, length);
    return new Uint8Array(this.hw.memory.buffer, h, length).slice();
  }
  write(pa, bytes) {
    const h = this.hostOrThrow(pa, bytes.length);
    new Uint8Array(this.hw.memory.buffer, h, bytes.length).set(bytes);
    if (bytes.length) this.hw.hostWrote(h, bytes.length);
  }
};

// emulator/machine/core/counters.ts
function readCounters(cpuBlock, layout) {
  const out = {};
  for (const [name, constant2] of Object.entries(COUNTER_INDEX)) {
    out[name] = cpuBlock.getBigUint64(layout.CPU_COUNTERS + 8 * layout[constant2], true);
  }
  out.walks = out.tlbMisses + out.dirtyRewalks;
  return out;
}

// emulator/machine/cpu/x86-guest.ts
var CONTROL_BITS = [
  ["hltExiting", "GC_HLT_EXITING"],
  ["invlpgExiting", "GC_INVLPG_EXITING"],
  ["invpcidExiting", "GC_INVPCID_EXITING"],
  ["cr3LoadExiting", "GC_CR3_LOAD_EXITING"],
  ["cr0Exiting", "GC_CR0_EXITING"],
  ["cr4Exiting", "GC_CR4_EXITING"],
  ["rdmsrExiting", "GC_RDMSR_EXITING"],
  ["wrmsrExiting", "GC_WRMSR_EXITING"],
  ["ioExiting", "GC_IO_EXITING"],
  ["vmcallExiting", "GC_VMCALL_EXITING"],
  ["externalInterruptExiting", "GC_EXTERNAL_INTERRUPT_EXITING"],
  ["virtualIf", "GC_VIRTUAL_IF"]
];
function encodeControls(c, L) {
  let word2 = 0;
  for (const [name, bit2] of CONTROL_BITS) {
    if (typeof c[name] !== "boolean") throw new ShootdownError(`guest control ${name} must be true or false`);
    if (c[name]) word2 |= L[bit2];
  }
  if (typeof c.guestMode !== "boolean") throw new ShootdownError("guest control guestMode must be true or false");
  if (!Number.isInteger(c.exceptionBitmap) || c.exceptionBitmap < 0 || c.exceptionBitmap > 4294967295) {
    throw new ShootdownError("the exception bitmap must be an integer from 0 to 0xffffffff");
  }
  return word2;
}
function mergeControls(current, update) {
  for (const name of Object.keys(update)) {
    if (!(name in current)) throw new ShootdownError(`unknown guest control '${name}'`);
  }
  return { ...current, ...update };
}
function decodeControls(guest, word2, exceptionBitmap, L) {
  const out = { guestMode: guest, exceptionBitmap };
  for (const [name, bit2] of CONTROL_BITS) out[name] = (word2 & L[bit2]) !== 0;
  return out;
}
var EVENT_TYPES = { 0: "external-interrupt", 3: "hardware-exception", 4: "software-interrupt", 6: "software-exception" };
var EVENT_TYPE_CODES = { "external-interrupt": 0, "hardware-exception": 3, "software-interrupt": 4, "software-exception": 6 };
function decodeEvent(info, errorCode, L) {
  if (!(info & L.INTR_INFO_VALID)) return null;
  const event = { vector: info & 255, type: EVENT_TYPES[info >>> L.INTR_INFO_TYPE_SHIFT & 7] ?? "hardware-exception" };
  if (info & L.INTR_INFO_DELIVER_CODE) event.errorCode = errorCode;
  return event;
}
var WITH_ERROR_CODE = /* @__PURE__ */ new Set([8, 10, 11, 12, 13, 14, 17, 21]);
function encodeInjection(e) {
  const { vector } = e;
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new ShootdownError(`vector must be 0 to 255, not ${String(vector)}`);
  const type = e.type ?? (vector < 32 ? "hardware-exception" : "external-interrupt");
  const code = EVENT_TYPE_CODES[type];
  if (code === void 0) throw new ShootdownError(`unknown event type '${String(type)}' (${Object.keys(EVENT_TYPE_CODES).join(", ")})`);
  if ((type === "hardware-exception" || type === "software-exception") && vector >= 32) throw new ShootdownError(`an exception's vector is below 32, not ${vector}`);
  const needsCode = type === "hardware-exception" && WITH_ERROR_CODE.has(vector);
  if (needsCode && e.errorCode === void 0) throw new ShootdownError(`exception ${vector} pushes an error code: give errorCode`);
  if (!needsCode && e.errorCode !== void 0) throw new ShootdownError(`a ${type} with vector ${vector} has no error code`);
  if (e.errorCode !== void 0 && (!Number.isInteger(e.errorCode) || e.errorCode < 0 || e.errorCode > 4294967295)) {
    throw new ShootdownError("errorCode must be a 32-bit unsigned integer");
  }
  if (e.cr2 !== void 0) {
    if (type !== "hardware-exception" || vector !== 14) throw new ShootdownError("cr2 goes only with a #PF (vector 14, hardware exception)");
    if (typeof e.cr2 !== "bigint" || e.cr2 < 0n || e.cr2 >= 1n << 64n) throw new ShootdownError("cr2 must be a 64-bit unsigned bigint");
  }
  const software = type === "software-interrupt" || type === "software-exception";
  const length = e.instructionLength ?? 0;
  if (software ? !Number.isInteger(length) || length < 1 || length > 15 : e.instructionLength !== void 0) {
    throw new ShootdownError(software ? "a software interrupt or exception needs its instructionLength (1 to 15)" : `a ${type} has no instructionLength`);
  }
  return [vector, code, needsCode ? 1 : 0, e.errorCode ?? 0, length, e.cr2 === void 0 ? 0 : 1, e.cr2 ?? 0n];
}
function readExitFields(v, L) {
  return {
    exitReason: v.getUint32(L.X86_VMEXIT_REASON, true),
    qualification: v.getBigUint64(L.X86_VMEXIT_QUALIFICATION, true),
    guestLinear: v.getBigUint64(L.X86_VMEXIT_GUEST_LINEAR, true),
    guestPhysical: v.getBigUint64(L.X86_VMEXIT_GUEST_PHYSICAL, true),
    interruptionInfo: v.getUint32(L.X86_VMEXIT_INTR_INFO, true),
    interruptionErrorCode: v.getUint32(L.X86_VMEXIT_INTR_ERROR, true),
    idtVectoringInfo: v.getUint32(L.X86_VMEXIT_IDT_VECTORING, true),
    idtVectoringErrorCode: v.getUint32(L.X86_VMEXIT_IDT_VECTORING_ERROR, true),
    instructionLength: v.getUint32(L.X86_VMEXIT_INSTRUCTION_LENGTH, true),
    instructionInfo: v.getUint32(L.X86_VMEXIT_INSTRUCTION_INFO, true)
  };
}
function decodeGuestExit(f, regs, detail, L) {
  const common = {
    guest: true,
    rip: regs.rip,
    instructionLength: f.instructionLength,
    duringDelivery: decodeEvent(f.idtVectoringInfo, f.idtVectoringErrorCode, L),
    fields: f
  };
  const q = f.qualification;
  switch (f.exitReason) {
    case L.VMX_EXIT_EXCEPTION_NMI: {
      const event = decodeEvent(f.interruptionInfo, f.interruptionErrorCode, L);
      const vector = event?.vector ?? 0;
      const type = event?.type === "software-exception" ? "software-exception" : "hardware-exception";
      return {
        ...common,
        reason: "exception",
        vector,
        type,
        ...event?.errorCode !== void 0 ? { errorCode: event.errorCode } : {},
        ...vector === 14 ? { address: q } : {}
      };
    }
    case L.VMX_EXIT_EXTERNAL_INTERRUPT:
      return { ...common, reason: "external-interrupt", vector: f.interruptionInfo & 255 };
    case L.VMX_EXIT_TRIPLE_FAULT:
      return { ...common, reason: "triple-fault", vectors: [Number(detail & 0xffn), Number(detail >> 8n & 0xffn), Number(detail >> 16n & 0xffn)] };
    case L.VMX_EXIT_HLT:
      return { ...common, reason: "hlt" };
    case L.VMX_EXIT_INVLPG:
      return { ...common, reason: "invlpg", address: q };
    case L.VMX_EXIT_INVPCID: {
      const register3 = GPR_NAMES[f.instructionInfo >>> 28 & 15];
      return { ...common, reason: "invpcid", type: regs[register3], descriptor: f.guestLinear };
    }
    case L.VMX_EXIT_VMCALL:
      return { ...common, reason: "vmcall" };
    case L.VMX_EXIT_CR_ACCESS: {
      const register3 = GPR_NAMES[Number(q >> 8n & 15n)];
      return { ...common, reason: "cr-access", cr: Number(q & 15n), register: register3, value: regs[register3] };
    }
    case L.VMX_EXIT_IO_INSTRUCTION: {
      const size = Number(q & 7n) + 1;
      const write = (q & 8n) === 0n;
      const value = write ? regs.rax & (1n << BigInt(8 * size)) - 1n : 0n;
      return { ...common, reason: "io", port: Number(q >> 16n & 0xffffn), size, write, value };
    }
    case L.VMX_EXIT_RDMSR:
    case L.VMX_EXIT_WRMSR: {
      const write = f.exitReason === L.VMX_EXIT_WRMSR;
      const value = write ? (regs.rdx & 0xffffffffn) << 32n | regs.rax & 0xffffffffn : 0n;
      return { ...common, reason: "msr", msr: Number(regs.rcx & 0xffffffffn), write, value };
    }
    case L.VMX_EXIT_EPT_VIOLATION: {
      const qualification = Number(q);
      return {
        ...common,
        reason: "ept-violation",
        gpa: f.guestPhysical,
        qualification,
        ...qualification & 1 << 7 ? { guestLinear: f.guestLinear } : {}
      };
    }
    case L.VMX_EXIT_EPT_MISCONFIG:
      return { ...common, reason: "ept-misconfig", gpa: f.guestPhysical };
    default:
      throw new Error(`the hardware module reported an unknown VM exit reason ${f.exitReason}`);
  }
}

// emulator/machine/cpu/x86-cpu.ts
var MEMORY_TYPES = ["UC", "WC", "reserved", "reserved", "WT", "WP", "WB", "UC-"];
var EPT_QUALIFICATION = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  FETCH: 1 << 2,
  READABLE: 1 << 3,
  WRITABLE: 1 << 4,
  EXECUTABLE: 1 << 5,
  LINEAR_VALID: 1 << 7,
  /** The access was to the translation of the linear address, not to a guest paging-structure entry. */
  FINAL: 1 << 8
};
var GPR_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"];
var STATE_U64 = [
  ["rip", "X86_RIP"],
  ["fsBase", "X86_FS_BASE"],
  ["gsBase", "X86_GS_BASE"],
  ["kernelGsBase", "X86_KERNEL_GS_BASE"],
  ["gdtrBase", "X86_GDTR_BASE"],
  ["idtrBase", "X86_IDTR_BASE"],
  ["tssBase", "X86_TSS_BASE"],
  ["star", "X86_STAR"],
  ["lstar", "X86_LSTAR"],
  ["cstar", "X86_CSTAR"],
  ["fmask", "X86_FMASK"],
  ["apicBase", "X86_APIC_BASE"]
];
var REGISTER_OFFSETS = [
  ["cr0", "CPU_CR0"],
  ["cr2", "CPU_CR2"],
  ["cr3", "CPU_CR3"],
  ["cr4", "CPU_CR4"],
  ["efer", "CPU_EFER"],
  ["rflags", "CPU_RFLAGS"],
  ["pat", "CPU_PAT"],
  ["pkru", "CPU_PKRU"]
];
var ACC_WRITE = 1;
var ACC_FETCH = 2;
var ACC_USER = 4;
var ACC_IMPLICIT = 8;
var MODE_PEEK = 1;
var MODE_NO_CACHE = 2;
function accessKind(access) {
  let kind = 0;
  if (access.op === "write") kind |= ACC_WRITE;
  else if (access.op === "fetch") kind |= ACC_FETCH;
  else if (access.op !== "read") throw new ShootdownError(`unknown access op '${String(access.op)}' (read, write or fetch)`);
  if (access.priv === "user") kind |= ACC_USER;
  else if (access.priv === "implicit") kind |= ACC_IMPLICIT;
  else if (access.priv !== "kernel") throw new ShootdownError(`unknown privilege '${String(access.priv)}' (user, kernel or implicit)`);
  return kind;
}
function u64(name, v) {
  if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) throw new ShootdownError(`${name} must be a 64-bit unsigned bigint`);
  return v;
}
var X86Cpu = class {
  constructor(hw, layout, index) {
    this.hw = hw;
    this.layout = layout;
    this.index = index;
  }
  hw;
  layout;
  index;
  /** The CPU block's view, made again only when linear memory has grown (a new buffer): the engine reads it at every decision. */
  blockView;
  view() {
    const buffer = this.hw.memory.buffer;
    if (this.blockView?.buffer === buffer) return this.blockView;
    return this.blockView = new DataView(buffer, this.hw.cpuBlock(this.index), this.layout.CPU_SIZE);
  }
  /** A snapshot of the paging registers. */
  get registers() {
    const v = this.view();
    const out = {};
    for (const [name, off] of REGISTER_OFFSETS) {
      out[name] = name === "pkru" ? BigInt(v.getUint32(this.layout[off], true)) : v.getBigUint64(this.layout[off], true);
    }
    return out;
  }
  /**
   * Loads registers as they are, with none of the invalidations the MOV
   * instructions cause (e.g. to set up a state, as a VM entry or a test does).
   */
  setRegisters(regs) {
    for (const [name, off] of REGISTER_OFFSETS) {
      const value = regs[name];
      if (value === void 0) continue;
      u64(name, value);
      if (name === "pkru" && value > 0xffffffffn) throw new ShootdownError("pkru is a 32-bit register");
      const index = this.layout[off] / 8;
      if (this.hw.x86GetRegister(this.index, index) === value) continue;
      this.hw.x86SetRegister(this.index, index, value);
    }
  }
  /** Translates va for an access, with every side effect the hardware has. */
  translate(va, access) {
    const status = this.hw.x86Translate(this.index, u64("va", va), accessKind(access));
    return this.result(status);
  }
  /**
   * The side-effect-free twin of translate: no Accessed/Dirty update, TLB
   * fill, counter, CR2 write or invalidation. With memoryOnly it ignores the
   * TLBs and walks the tables in memory (what the debugger's `walk` shows).
   */
  peek(va, access, opts = {}) {
    const mode = MODE_PEEK | (opts.memoryOnly ? MODE_NO_CACHE : 0);
    return this.result(this.hw.x86TranslateMode(this.index, u64("va", va), accessKind(access), mode));
  }
  /**
   * Reads the page tables in memory for va, level by level, ignoring every
   * TLB and cache and changing nothing (not even Accessed flags).
   */
  walkMemory(va) {
    const stop = this.hw.x86WalkTrace(this.index, u64("va", va));
    const last = this.hw.walkStopLevel();
    const v = this.view();
    const top = v.getUint32(this.layout.CPU_WALK_TOP, true);
    const steps = [];
    for (let level = top; level >= last; level--) {
      const at = this.layout.CPU_WALK_TRACE + 16 * level;
      steps.push({ level, entryPa: v.getBigUint64(at, true), value: v.getBigUint64(at + 8, true) });
    }
    if (stop === 1) steps[steps.length - 1].value = 0n;
    const stops = ["leaf", "bus-error", "not-present", "reserved-bit"];
    return { steps, stop: stops[stop] ?? "leaf" };
  }
  /**
   * Runs fn (peeks and walks) with this CPU's paging registers set to regs,
   * then puts back every byte of the CPU's block: the debugger looks through
   * the page tables of a vCPU that is off every pCPU with the same walker,
   * and this CPU goes on as if nothing had happened. The TLBs are not in the
   * block, so fn must not look at them (peek with memoryOnly). With
   * CR4.PCIDE clear in both register sets the translation context does not
   * change, so not even the micro-TLB is flushed.
   */
  lookThrough(regs, fn) {
    const block = new Uint8Array(this.hw.memory.buffer, this.hw.cpuBlock(this.index), this.layout.CPU_SIZE);
    const before = block.slice();
    try {
      this.setRegisters(regs);
      return fn();
    } finally {
      new Uint8Array(this.hw.memory.buffer, this.hw.cpuBlock(this.index), this.layout.CPU_SIZE).set(before);
    }
  }
  result(status) {
    const v = this.view();
    const L = this.layout;
    if (status === 0) {
      const info = v.getBigUint64(L.CPU_RES_INFO, true);
      const attrs = Number(info & 0xffn);
      const patIndex = Number(info >> BigInt(L.INFO_PAT_SHIFT) & 7n);
      const pat = v.getBigUint64(L.CPU_PAT, true);
      const sizeClass = Number(info >> BigInt(L.INFO_SIZE_SHIFT) & 3n);
      return {
        ok: true,
        pa: v.getBigUint64(L.CPU_RES_PA, true),
        pageSize: 4096 * 512 ** sizeClass,
        memoryType: MEMORY_TYPES[Number(pat >> BigInt(8 * patIndex) & 7n)] ?? "reserved",
        patIndex,
        global: (info & 0x800n) !== 0n,
        user: (attrs & 1) !== 0,
        writable: (attrs & 2) !== 0,
        executeDisable: (attrs & 4) !== 0,
        dirty: (attrs & 8) !== 0,
        pkey: attrs >> 4
      };
    }
    const code = v.getUint32(L.CPU_FAULT_CODE, true);
    const address = v.getBigUint64(L.CPU_FAULT_ADDR, true);
    const level = v.getUint32(L.CPU_FAULT_LEVEL, true);
    if (status === 1) return { ok: false, fault: { kind: "page-fault", vector: 14, errorCode: code, address, level } };
    if (status === 2) return { ok: false, fault: { kind: "general-protection", vector: 13, errorCode: 0, address } };
    const gpa = v.getBigUint64(L.CPU_FAULT_IPA, true);
    if (status === 4) return { ok: false, fault: { kind: "ept-violation", gpa, qualification: code, guestLinear: address, level } };
    if (status === 5) return { ok: false, fault: { kind: "ept-misconfig", gpa, guestLinear: address, level } };
    return { ok: false, fault: { kind: "bus-error", address, level } };
  }
  invlpg(va) {
    this.hw.x86Invlpg(this.index, u64("va", va));
  }
  invpcid(type, pcid, va = 0n) {
    return this.hw.x86Invpcid(this.index, type, u64("pcid", pcid), u64("va", va)) === 0 ? "ok" : "#GP";
  }
  movToCr0(value) {
    return this.hw.x86MovToCr0(this.index, u64("cr0", value)) === 0 ? "ok" : "#GP";
  }
  /** MOV to CR3; with CR4.PCIDE=1, bit 63 of the value asks for no invalidation. */
  movToCr3(value) {
    return this.hw.x86MovToCr3(this.index, u64("cr3", value)) === 0 ? "ok" : "#GP";
  }
  movToCr4(value) {
    return this.hw.x86MovToCr4(this.index, u64("cr4", value)) === 0 ? "ok" : "#GP";
  }
  writeEfer(value) {
    return this.hw.x86WriteEfer(this.index, u64("efer", value)) === 0 ? "ok" : "#GP";
  }
  /** WRPKRU. */
  writePkru(value) {
    if (u64("pkru", value) > 0xffffffffn) throw new ShootdownError("pkru is a 32-bit register");
    this.hw.x86WritePkru(this.index, Number(value));
  }
  writeRflags(value) {
    this.hw.x86WriteRflags(this.index, u64("rflags", value));
  }
  /**
   * Translate as a guest: with this VPID (1 to 65535; 0 is the host) and,
   * when eptp is not 0, through EPT (eptp as the VMCS holds it: bits 51:12
   * the EPT PML4, bits 5:3 the walk length less one, bit 6 accessed/dirty).
   */
  setVmx(ctx) {
    if (!Number.isInteger(ctx.vpid) || ctx.vpid < 0 || ctx.vpid > 65535) throw new ShootdownError("vpid must be 0 to 65535");
    this.hw.x86SetVmx(this.index, ctx.vpid, u64("eptp", ctx.eptp));
  }
  /** INVEPT; "VMfail" for an invalid type. */
  invept(type, eptp = 0n) {
    return this.hw.x86Invept(this.index, type, u64("eptp", eptp)) === 0 ? "ok" : "VMfail";
  }
  /** INVVPID; "VMfail" for an invalid type, VPID 0 (but for all-context) or a non-canonical address. */
  invvpid(type, vpid, la = 0n) {
    if (!Number.isInteger(vpid) || vpid < 0 || vpid > 65535) return "VMfail";
    return this.hw.x86Invvpid(this.index, type, vpid, u64("la", la)) === 0 ? "ok" : "VMfail";
  }
  /** Empties every TLB and paging-structure cache of this CPU (no counter). */
  flushAll() {
    this.hw.x86FlushAll(this.index);
  }
  /** Registers to reset values, TLBs empty, counters zero. */
  reset() {
    this.hw.cpuReset(this.index);
  }
  counters() {
    return readCounters(this.view(), this.layout);
  }
  // ── Execution ──────────────────────────────────────────────────────────────
  /** The interpreter's registers. */
  get state() {
    const rflags = BigInt.asUintN(64, this.hw.x86MaterializeFlags(this.index));
    const v = this.view();
    const L = this.layout;
    const out = {};
    GPR_NAMES.forEach((name, i) => out[name] = v.getBigUint64(L.X86_GPR + 8 * i, true));
    for (const [name, off] of STATE_U64) out[name] = v.getBigUint64(L[off], true);
    out.rflags = rflags;
    out.cpl = v.getUint32(L.X86_CPL, true);
    out.cs = v.getUint16(L.X86_SEL + 2 * L.SEL_CS, true);
    out.ss = v.getUint16(L.X86_SEL + 2 * L.SEL_SS, true);
    out.gdtrLimit = v.getUint32(L.X86_GDTR_LIMIT, true);
    out.idtrLimit = v.getUint32(L.X86_IDTR_LIMIT, true);
    out.tr = v.getUint32(L.X86_TR, true);
    return out;
  }
  /** Loads interpreter registers as they are (as a loader, a debugger or a VM entry does). */
  setState(state) {
    const L = this.layout;
    if (state.rflags !== void 0) this.hw.x86SetRegister(this.index, L.CPU_RFLAGS / 8, u64("rflags", state.rflags) | 2n);
    const v = this.view();
    GPR_NAMES.forEach((name, i) => {
      const value = state[name];
      if (value !== void 0) v.setBigUint64(L.X86_GPR + 8 * i, u64(name, value), true);
    });
    for (const [name, off] of STATE_U64) {
      const value = state[name];
      if (value !== void 0) v.setBigUint64(L[off], u64(name, value), true);
    }
    const small = (name, value, max) => {
      if (value === void 0) return void 0;
      if (!Number.isInteger(value) || value < 0 || value > max) throw new ShootdownError(`${name} must be an integer from 0 to ${max}`);
      return value;
    };
    const cpl = small("cpl", state.cpl, 3);
    if (cpl !== void 0) v.setUint32(L.X86_CPL, cpl, true);
    const cs = small("cs", state.cs, 65535);
    if (cs !== void 0) v.setUint16(L.X86_SEL + 2 * L.SEL_CS, cs, true);
    const ss = small("ss", state.ss, 65535);
    if (ss !== void 0) v.setUint16(L.X86_SEL + 2 * L.SEL_SS, ss, true);
    const gl = small("gdtrLimit", state.gdtrLimit, 65535);
    if (gl !== void 0) v.setUint32(L.X86_GDTR_LIMIT, gl, true);
    const il = small("idtrLimit", state.idtrLimit, 65535);
    if (il !== void 0) v.setUint32(L.X86_IDTR_LIMIT, il, true);
    const tr = small("tr", state.tr, 65535);
    if (tr !== void 0) v.setUint32(L.X86_TR, tr, true);
    this.hw.x86RegistersChanged(this.index);
  }
  /** Runs up to `budget` instructions (at least 1), until an exit. */
  run(budget) {
    const n = BigInt(budget);
    if (n < 1n || n >= 1n << 64n) throw new ShootdownError("the instruction budget must be a positive integer");
    const reason = this.hw.x86Run(this.index, n);
    const v = this.view();
    const L = this.layout;
    const rip = v.getBigUint64(L.X86_EXIT_RIP, true);
    switch (reason) {
      case L.EXIT_BUDGET:
        return { reason: "budget" };
      case L.EXIT_HLT:
        return { reason: "hlt" };
      case L.EXIT_IO:
        return {
          reason: "io",
          port: v.getUint32(L.X86_EXIT_PORT, true),
          size: v.getUint32(L.X86_EXIT_SIZE, true),
          write: v.getUint32(L.X86_EXIT_WRITE, true) === 1,
          value: v.getBigUint64(L.X86_EXIT_VALUE, true),
          rip
        };
      case L.EXIT_VMCALL:
        return { reason: "vmcall", rip };
      case L.EXIT_TRIPLE_FAULT: {
        const d = v.getBigUint64(L.X86_EXIT_DETAIL, true);
        return { reason: "triple-fault", rip, vectors: [Number(d & 0xffn), Number(d >> 8n & 0xffn), Number(d >> 16n & 0xffn)] };
      }
      case L.EXIT_BUS_ERROR:
        return { reason: "bus-error", rip, address: v.getBigUint64(L.X86_EXIT_VALUE, true) };
      case L.EXIT_BREAKPOINT:
        return { reason: "breakpoint", rip: v.getBigUint64(L.X86_RIP, true) };
      case L.EXIT_VMEXIT:
        return decodeGuestExit(readExitFields(v, L), this.state, v.getBigUint64(L.X86_EXIT_DETAIL, true), L);
      default:
        return { reason: "stopped" };
    }
  }
  // ── Guest mode ─────────────────────────────────────────────────────────────
  /** The guest-mode controls (all off, guest mode off, after reset). */
  get guestControls() {
    const v = this.view();
    const L = this.layout;
    const guest = v.getUint32(L.X86_GUEST_MODE, true) !== 0;
    return decodeControls(guest, v.getUint32(L.X86_GUEST_CONTROLS, true), v.getUint32(L.X86_GUEST_EXCEPTION_BITMAP, true), L);
  }
  /**
   * Changes some of the guest-mode controls (the others keep their values):
   * `setGuestControls({ guestMode: true, exceptionBitmap: 1 << 14, cr3LoadExiting: true })`.
   * In guest mode run() returns the VM exits of X86GuestExit; with guest
   * mode off every control is inert and the CPU behaves as in host mode.
   */
  setGuestControls(update) {
    const c = mergeControls(this.guestControls, update);
    const word2 = encodeControls(c, this.layout);
    if (this.hw.x86SetGuestControls(this.index, c.guestMode ? 1 : 0, word2, c.exceptionBitmap >>> 0) !== 0) {
      throw new Error("the hardware module refused guest controls that TypeScript accepted");
    }
  }
  /**
   * Injects an event at the next run (VM-entry event injection, SDM Vol.3C
   * 27.6): delivered through the guest's IDT before its next instruction as
   * the CPU delivers any event (gate and privilege checks, stack switch,
   * error code), without consulting the exception bitmap; for #PF with `cr2`
   * CR2 is written first. An external interrupt waits while RFLAGS.IF is 0.
   * A fault during the delivery is handled as one during any delivery: it
   * exits if its bitmap bit is set, else #DF or a triple fault. Replaces an
   * injection still pending.
   */
  inject(event) {
    const [vector, type, hasCode, code, length, writeCr2, cr2] = encodeInjection(event);
    const status = this.hw.x86Inject(this.index, vector, type, hasCode, code, length, writeCr2, cr2);
    if (status !== 0) throw new Error(`the hardware module refused an injection that TypeScript accepted (${status})`);
  }
  /** The injected event still waiting to be delivered (an external interrupt waiting for IF), or null. */
  get pendingInjection() {
    const v = this.view();
    const L = this.layout;
    return decodeEvent(v.getUint32(L.X86_ENTRY_INTR_INFO, true), v.getUint32(L.X86_ENTRY_INTR_ERROR, true), L);
  }
  /** An EOI to this CPU's local APIC: ends the highest interrupt in service (one acknowledged on a VM exit). */
  endOfInterrupt() {
    this.hw.x86EndOfInterrupt(this.index);
  }
  /** Requests an interrupt vector (16–255) on this CPU's local APIC, as a device would. */
  requestInterrupt(vector) {
    if (!Number.isInteger(vector) || vector < 16 || vector > 255) throw new ShootdownError(`interrupt vector must be 16 to 255, not ${vector}`);
    this.hw.x86RequestInterrupt(this.index, vector);
  }
  /** Instructions retired and modelled cycles so far. */
  /** RIP read straight from the CPU block (state would materialise the lazy flags, which the state hash sees). */
  get rip() {
    return this.view().getBigUint64(this.layout.X86_RIP, true);
  }
  get progress() {
    const v = this.view();
    const L = this.layout;
    return {
      instructions: v.getBigUint64(L.X86_INSTRUCTIONS, true),
      cycles: v.getBigUint64(L.X86_CYCLES, true),
      halted: v.getUint32(L.X86_HALTED, true) !== 0,
      stopped: v.getUint32(L.X86_STOPPED, true) !== 0
    };
  }
  /** Breakpoints at linear addresses (at most X86_BREAKPOINT_MAX). */
  setBreakpoints(addresses) {
    const L = this.layout;
    if (addresses.length > L.X86_BREAKPOINT_MAX) throw new ShootdownError(`at most ${L.X86_BREAKPOINT_MAX} breakpoints`);
    const v = this.view();
    addresses.forEach((a, i) => v.setBigUint64(L.X86_BREAKPOINTS + 8 * i, u64("breakpoint", a), true));
    v.setUint32(L.X86_BREAKPOINT_COUNT, addresses.length, true);
    this.hw.x86RegistersChanged(this.index);
  }
};

// emulator/machine/cpu/arm-cpu.ts
var REGISTER_INDEX = {
  sctlr_el1: "ARM_SCTLR_EL1",
  tcr_el1: "ARM_TCR_EL1",
  ttbr0_el1: "ARM_TTBR0_EL1",
  ttbr1_el1: "ARM_TTBR1_EL1",
  mair_el1: "ARM_MAIR_EL1",
  par_el1: "ARM_PAR_EL1",
  hcr_el2: "ARM_HCR_EL2",
  vttbr_el2: "ARM_VTTBR_EL2",
  vtcr_el2: "ARM_VTCR_EL2",
  csselr_el1: "ARM_CSSELR_EL1",
  pstate: "ARM_PSTATE"
};
var FAULT_TYPES = ["address_size", "translation", "access_flag", "permission", void 0, "external_walk"];
var TLBI_OPS2 = ["VAE1", "VALE1", "VAAE1", "VAALE1", "ASIDE1", "VMALLE1", "VMALLS12E1", "IPAS2E1", "IPAS2LE1", "ALLE1", "ALLE2"];
var TLBI_IS = 256;
var DC_OPS2 = ["IVAC", "CVAC", "CIVAC", "ISW", "CSW", "CISW", "ZVA"];
function checkSize(va, size) {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new ShootdownError(`access size must be 1, 2, 4 or 8, not ${size}`);
  if (va % BigInt(size) !== 0n) throw new ShootdownError(`a ${size}-byte access must be aligned (0x${va.toString(16)})`);
}
var AT_WRITE = 1;
var AT_EL0 = 2;
var AT_STAGE12 = 4;
var ACC_WRITE2 = 1;
var ACC_FETCH2 = 2;
var ACC_EL0 = 4;
var MODE_PEEK2 = 1;
var MODE_NO_CACHE2 = 2;
function u642(name, v) {
  if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) throw new ShootdownError(`${name} must be a 64-bit unsigned bigint`);
  return v;
}
function armAccessKind(access) {
  let kind = 0;
  if (access.op === "write") kind |= ACC_WRITE2;
  else if (access.op === "fetch") kind |= ACC_FETCH2;
  else if (access.op !== "read") throw new ShootdownError(`unknown access op '${String(access.op)}' (read, write or fetch)`);
  if (access.priv === "user") kind |= ACC_EL0;
  else if (access.priv !== "kernel") throw new ShootdownError(`unknown privilege '${String(access.priv)}' (user or kernel)`);
  return kind;
}
var ARM_GPR_COUNT = 31;
var STATE_OFFSETS = [
  ["sp_el0", "A64_SP_EL0"],
  ["sp_el1", "A64_SP_EL1"],
  ["pc", "A64_PC"],
  ["elr_el1", "A64_ELR_EL1"],
  ["spsr_el1", "A64_SPSR_EL1"],
  ["esr_el1", "A64_ESR_EL1"],
  ["far_el1", "A64_FAR_EL1"],
  ["vbar_el1", "A64_VBAR_EL1"],
  ["esr_el2", "A64_ESR_EL2"],
  ["far_el2", "A64_FAR_EL2"],
  ["hpfar_el2", "A64_HPFAR_EL2"],
  ["elr_el2", "A64_ELR_EL2"],
  ["spsr_el2", "A64_SPSR_EL2"],
  ["vbar_el2", "A64_VBAR_EL2"],
  ["mpidr_el1", "A64_MPIDR"]
];
var PLAIN_OFFSETS = [
  ["tpidr_el0", "PLAIN_TPIDR_EL0"],
  ["tpidrro_el0", "PLAIN_TPIDRRO_EL0"],
  ["tpidr_el1", "PLAIN_TPIDR_EL1"],
  ["contextidr_el1", "PLAIN_CONTEXTIDR_EL1"]
];
var MMU_REGISTERS = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "par_el1", "hcr_el2", "vttbr_el2", "vtcr_el2", "csselr_el1"];
var EXIT_NAMES = {
  budget: "EXIT_BUDGET",
  wfi: "EXIT_WFI",
  hvc: "EXIT_HVC",
  smc: "EXIT_SMC",
  mmio: "EXIT_MMIO",
  trap: "EXIT_TRAP",
  "bus-error": "EXIT_BUS_ERROR",
  "exception-loop": "EXIT_EXCEPTION_LOOP",
  breakpoint: "EXIT_BREAKPOINT",
  off: "EXIT_OFF",
  stopped: "EXIT_STOPPED"
};
var ArmCpu = class {
  constructor(hw, layout, index) {
    this.hw = hw;
    this.layout = layout;
    this.index = index;
  }
  hw;
  layout;
  index;
  /** The CPU block's view, made again only when linear memory has grown (a new buffer): the engine reads it at every decision. */
  blockView;
  view() {
    const buffer = this.hw.memory.buffer;
    if (this.blockView?.buffer === buffer) return this.blockView;
    return this.blockView = new DataView(buffer, this.hw.cpuBlock(this.index), this.layout.CPU_SIZE);
  }
  /** PC read straight from the CPU block. */
  get pc() {
    return this.view().getBigUint64(this.layout.A64_PC, true);
  }
  get registers() {
    const out = {};
    for (const [name, index] of Object.entries(REGISTER_INDEX)) {
      out[name] = BigInt.asUintN(64, this.hw.armGetRegister(this.index, this.layout[index]));
    }
    return out;
  }
  /** Loads registers as they are (MSR has no invalidation side effects on AArch64). */
  setRegisters(regs) {
    for (const [name, value] of Object.entries(regs)) {
      if (value === void 0) continue;
      const index = REGISTER_INDEX[name];
      if (index === void 0) throw new ShootdownError(`unknown AArch64 register '${name}'`);
      this.hw.armSetRegister(this.index, this.layout[index], u642(name, value));
    }
  }
  /** Translates va with every side effect the hardware has (EL1&0 regime). */
  translate(va, access) {
    return this.result(this.hw.armTranslateVa(this.index, u642("va", va), armAccessKind(access)), va);
  }
  /** The side-effect-free twin of translate; memoryOnly ignores the TLBs. */
  peek(va, access, opts = {}) {
    const mode = MODE_PEEK2 | (opts.memoryOnly ? MODE_NO_CACHE2 : 0);
    return this.result(this.hw.armTranslateMode(this.index, u642("va", va), armAccessKind(access), mode), va);
  }
  /**
   * AT: translates without using or filling the TLB (the walk still sets AF
   * and dirty state). Returns PAR_EL1 (also written to the register) and the
   * translation it describes, with the full PA.
   */
  at(op, va) {
    const flags = {
      S1E1R: 0,
      S1E1W: AT_WRITE,
      S1E0R: AT_EL0,
      S1E0W: AT_EL0 | AT_WRITE,
      S12E1R: AT_STAGE12,
      S12E1W: AT_STAGE12 | AT_WRITE,
      S12E0R: AT_STAGE12 | AT_EL0,
      S12E0W: AT_STAGE12 | AT_EL0 | AT_WRITE
    };
    const f = flags[op];
    if (f === void 0) throw new ShootdownError(`unknown AT operation '${op}'`);
    const par = BigInt.asUintN(64, this.hw.armAtOp(this.index, u642("va", va), f));
    return { par, translation: this.result((par & 1n) === 1n ? 1 : 0, va) };
  }
  /**
   * TLBI <op>[IS], Xt. The IS forms reach every CPU of the machine. Xt is as
   * the instruction takes it: VA[55:12] in bits 43:0 and the ASID in 63:48, or
   * IPA[51:12] in bits 39:0.
   */
  tlbi(op, xt2 = 0n) {
    const broadcast = op.endsWith("IS");
    const code = TLBI_OPS2.indexOf(broadcast ? op.slice(0, -2) : op);
    if (code < 0) throw new ShootdownError(`unknown TLBI operation '${op}' (operations: ${TLBI_OPS2.join(", ")}, each also with IS)`);
    this.hw.armTlbiOp(this.index, code | (broadcast ? TLBI_IS : 0), u642("xt", xt2));
  }
  /**
   * A load of 1, 2, 4 or 8 bytes (naturally aligned) as the CPU makes it:
   * through the MMU, then the data caches when the memory is cacheable
   * (SCTLR_EL1.M and C, a cacheable MAIR type) or straight to RAM.
   */
  load(va, size, priv = "kernel") {
    checkSize(va, size);
    const status = this.hw.armAccess(this.index, u642("va", va), size, armAccessKind({ op: "read", priv }), 0n);
    if (status !== 0) return this.failure(va);
    return { ok: true, value: BigInt.asUintN(64, this.hw.armLoadedValue()) };
  }
  /** A store, as load() describes. */
  store(va, size, value, priv = "kernel") {
    checkSize(va, size);
    const status = this.hw.armAccess(this.index, u642("va", va), size, armAccessKind({ op: "write", priv }), u642("value", value));
    return status === 0 ? { ok: true } : this.failure(va);
  }
  /**
   * DC <op>, Xt. By address (IVAC, CVAC, CIVAC, ZVA) Xt is a VA; by set/way
   * (ISW, CSW, CISW) it is the set/way/level operand the instruction takes.
   */
  dc(op, xt2, priv = "kernel") {
    const code = DC_OPS2.indexOf(op);
    if (code < 0) throw new ShootdownError(`unknown DC operation '${op}'`);
    const status = this.hw.armDcOp(this.index, code, u642("xt", xt2), priv === "user" ? 1 : 0);
    return status === 0 ? { ok: true } : this.failure(xt2);
  }
  /** IC IALLU(IS): instruction caches are not modelled; counted. */
  icInvalidateAll() {
    this.hw.armIcOp(this.index);
  }
  /** CLIDR_EL1 and CCSIDR_EL1 (for the cache CSSELR_EL1 selects), as guest code reads them to walk the cache by set/way. */
  cacheIdRegisters() {
    return {
      clidr: BigInt.asUintN(64, this.hw.armCacheIdRegister(this.index, 0)),
      ccsidr: BigInt.asUintN(64, this.hw.armCacheIdRegister(this.index, 1))
    };
  }
  // ── Execution ──────────────────────────────────────────────────────────────
  /** The interpreter's registers. */
  get state() {
    const v = this.view();
    const L = this.layout;
    const out = { x: [] };
    for (let i = 0; i < ARM_GPR_COUNT; i++) out.x.push(v.getBigUint64(L.A64_X + 8 * i, true));
    out.pstate = v.getBigUint64(L.A64_PSTATE, true);
    for (const [name, off] of STATE_OFFSETS) out[name] = v.getBigUint64(L[off], true);
    for (const [name, index] of PLAIN_OFFSETS) out[name] = v.getBigUint64(L.A64_PLAIN + 8 * L[index], true);
    const regs = this.registers;
    for (const name of MMU_REGISTERS) out[name] = regs[name];
    return out;
  }
  /** Loads registers as they are (as a loader, a debugger or the hypervisor does). */
  setState(state) {
    for (const key of Object.keys(state)) {
      if (key !== "x" && key !== "pstate" && !STATE_OFFSETS.some(([n]) => n === key) && !PLAIN_OFFSETS.some(([n]) => n === key) && !MMU_REGISTERS.includes(key)) {
        throw new ShootdownError(`unknown AArch64 state field '${key}'`);
      }
      const value = state[key];
      if (key === "x") {
        if (!Array.isArray(value) || value.length > ARM_GPR_COUNT) throw new ShootdownError(`x must be an array of at most ${ARM_GPR_COUNT} registers`);
        value.forEach((r, i) => u642(`x${i}`, r));
      } else if (value !== void 0) u642(key, value);
    }
    const v = this.view();
    const L = this.layout;
    if (state.pstate !== void 0) {
      const m = state.pstate & 0x1fn;
      if (m !== 0n && m !== 4n && m !== 5n) throw new ShootdownError(`pstate.M must be EL0t (0), EL1t (4) or EL1h (5), not ${m}`);
    }
    state.x?.forEach((value, i) => v.setBigUint64(L.A64_X + 8 * i, value, true));
    if (state.pstate !== void 0) v.setBigUint64(L.A64_PSTATE, state.pstate, true);
    for (const [name, off] of STATE_OFFSETS) {
      const value = state[name];
      if (value !== void 0) v.setBigUint64(L[off], u642(name, value), true);
    }
    for (const [name, index] of PLAIN_OFFSETS) {
      const value = state[name];
      if (value !== void 0) v.setBigUint64(L.A64_PLAIN + 8 * L[index], u642(name, value), true);
    }
    const regs = {};
    for (const name of MMU_REGISTERS) if (state[name] !== void 0) regs[name] = state[name];
    this.setRegisters(regs);
    this.hw.a64RegistersChanged(this.index);
  }
  /** Runs up to `budget` instructions (at least 1), until an exit. */
  run(budget) {
    if (typeof budget !== "bigint" && !Number.isSafeInteger(budget)) throw new ShootdownError("the instruction budget must be a positive integer");
    const n = BigInt(budget);
    if (n < 1n || n >= 1n << 64n) throw new ShootdownError("the instruction budget must be a positive integer");
    const reason = this.hw.a64Run(this.index, n);
    const v = this.view();
    const L = this.layout;
    const pc = v.getBigUint64(L.A64_EXIT_PC, true);
    const esr = v.getBigUint64(L.A64_EXIT_ESR, true);
    const address = v.getBigUint64(L.A64_EXIT_ADDRESS, true);
    switch (reason) {
      case L.EXIT_BUDGET:
        return { reason: "budget" };
      case L.EXIT_WFI:
        return { reason: "wfi" };
      case L.EXIT_HVC:
        return { reason: "hvc", imm: Number(v.getBigUint64(L.A64_EXIT_VALUE, true)), pc };
      case L.EXIT_SMC:
        return { reason: "smc", imm: Number(v.getBigUint64(L.A64_EXIT_VALUE, true)), pc };
      case L.EXIT_MMIO: {
        const detail = v.getUint32(L.A64_EXIT_DETAIL, true);
        const write = v.getUint32(L.A64_EXIT_WRITE, true) === 1;
        const size = v.getUint32(L.A64_EXIT_SIZE, true);
        const value = BigInt.asUintN(8 * size, v.getBigUint64(L.A64_EXIT_VALUE, true));
        return { reason: "mmio", address, size, write, value, register: write ? -1 : detail & 31, pc };
      }
      case L.EXIT_TRAP: {
        const kinds = { [L.TRAP_SYSREG]: "sysreg", [L.TRAP_SET_WAY]: "set-way", [L.TRAP_WFI]: "wfi", [L.TRAP_ABORT]: "abort", [L.TRAP_IRQ]: "irq" };
        const kind = kinds[v.getUint32(L.A64_EXIT_DETAIL, true)] ?? "sysreg";
        return kind === "abort" ? { reason: "trap", kind, esr, pc, ipa: address } : { reason: "trap", kind, esr, pc };
      }
      case L.EXIT_BUS_ERROR:
        return { reason: "bus-error", pc, address };
      case L.EXIT_EXCEPTION_LOOP:
        return { reason: "exception-loop", pc, esr, vector: address };
      case L.EXIT_BREAKPOINT:
        return { reason: "breakpoint", pc };
      case L.EXIT_OFF:
        return { reason: "off" };
      default:
        return { reason: "stopped" };
    }
  }
  /** Completes the MMIO read run() exited for: the value goes to the load's register, extended as the load says. */
  completeMmioRead(value) {
    if (this.hw.a64CompleteMmioRead(this.index, BigInt.asUintN(64, u642("value", value))) !== 0) {
      throw new ShootdownError("completeMmioRead: the CPU's last exit was not an MMIO read");
    }
  }
  /**
   * Powers the CPU on at `entry` (PSCI CPU_ON, or the boot CPU): EL1h, DAIF
   * masked, SCTLR_EL1 at reset (MMU and caches off), X0 = contextId, every
   * other register zero. TLBs and caches keep their contents.
   */
  powerOn(entry, contextId = 0n) {
    this.hw.a64PowerOn(this.index, u642("entry", entry), u642("contextId", contextId));
  }
  powerOff() {
    this.hw.a64PowerOff(this.index);
  }
  /** The CPU's clock moves on to `cycles` (never back), as time passes while it sleeps. */
  skipTo(cycles) {
    this.hw.a64SkipTo(this.index, u642("cycles", cycles));
  }
  /** Instructions retired, modelled cycles, whether the CPU is off or stopped. */
  get progress() {
    const v = this.view();
    const L = this.layout;
    const off = v.getUint32(L.A64_OFF, true);
    return {
      instructions: v.getBigUint64(L.A64_INSTRUCTIONS, true),
      cycles: v.getBigUint64(L.A64_CYCLES, true),
      waiting: v.getUint32(L.A64_WAITING, true) !== 0,
      off: off === 1,
      stopped: off === 2
    };
  }
  /** Synchronous exceptions taken by exception class (ESR_ELx.EC), and exits by reason. */
  get executionCounters() {
    const v = this.view();
    const L = this.layout;
    const exceptionsByClass = /* @__PURE__ */ new Map();
    for (let ec = 0; ec < 64; ec++) {
      const n = v.getBigUint64(L.A64_CNT_EC + 8 * ec, true);
      if (n !== 0n) exceptionsByClass.set(ec, n);
    }
    const exits = {};
    for (const [name, code] of Object.entries(EXIT_NAMES)) {
      exits[name] = v.getBigUint64(L.A64_CNT_EXIT + 8 * (L[code] & 15), true);
    }
    return { exceptionsByClass, exits };
  }
  /** Breakpoints at virtual addresses (at most A64_BREAKPOINT_MAX). */
  setBreakpoints(pcs) {
    const L = this.layout;
    if (!Array.isArray(pcs) || pcs.length > L.A64_BREAKPOINT_MAX) throw new ShootdownError(`at most ${L.A64_BREAKPOINT_MAX} breakpoints`);
    const v = this.view();
    pcs.forEach((a, i) => v.setBigUint64(L.A64_BREAKPOINTS + 8 * i, u642("breakpoint", a), true));
    v.setUint32(L.A64_BREAKPOINT_COUNT, pcs.length, true);
  }
  failure(va) {
    const r = this.result(1, va);
    if (r.ok) throw new Error("unreachable");
    return r;
  }
  /** Empties this CPU's TLBs and walk caches (no counter). */
  flushAll() {
    this.hw.x86FlushAll(this.index);
  }
  reset() {
    this.hw.cpuReset(this.index);
  }
  counters() {
    return readCounters(this.view(), this.layout);
  }
  result(status, va) {
    const v = this.view();
    const L = this.layout;
    if (status === 0) {
      const info = v.getBigUint64(L.CPU_RES_INFO, true);
      return {
        ok: true,
        pa: v.getBigUint64(L.CPU_RES_PA, true),
        pageSize: 4096 * 512 ** Number(info >> 52n & 3n),
        attr: Number(info >> 56n & 0xffn),
        sh: Number(info >> 54n & 3n),
        global: (info & 0x800n) !== 0n
      };
    }
    const fsc = v.getUint32(L.CPU_FAULT_CODE, true);
    const flags = v.getUint32(L.CPU_FAULT_FLAGS, true);
    return {
      ok: false,
      fault: {
        type: FAULT_TYPES[fsc >> 2] ?? "translation",
        level: v.getUint32(L.CPU_FAULT_LEVEL, true),
        stage2: (flags & 1) !== 0,
        s1ptw: (flags & 2) !== 0,
        fsc,
        va,
        ipa: v.getBigUint64(L.CPU_FAULT_IPA, true)
      }
    };
  }
};

// emulator/machine/core/machine.ts
var INIT_ERRORS = {
  1: "the CPU count is out of range",
  2: "MAXPHYADDR is out of range",
  3: "a TLB geometry is invalid",
  4: "the micro-TLB size is invalid",
  5: "the TLBs do not fit in WebAssembly memory; use fewer CPUs or smaller TLBs",
  6: "the architecture is not supported"
};
var Machine = class {
  options;
  memory;
  cpus;
  /** The hardware module itself, for benchmarks and tools that drive it in bulk. */
  hw;
  layout;
  /**
   * `hardwareModule` is the path of another build of the hardware module to
   * run instead of the package's own (bench/ compares builds this way); it
   * must have the same memory map.
   */
  constructor(options = {}, hardwareModule) {
    this.options = resolveOptions(options);
    this.hw = instantiate(hardwareModule);
    this.layout = layoutOf(this.hw);
    this.configure();
    this.memory = new Memory(this.hw, this.layout);
    for (const range of this.options.ram) this.memory.addRange(range);
    const make = (i) => this.options.arch === "aarch64" ? new ArmCpu(this.hw, this.layout, i) : new X86Cpu(this.hw, this.layout, i);
    this.cpus = Array.from({ length: this.options.cpus }, (_, i) => make(i));
  }
  configure() {
    const o2 = this.options;
    const L = this.layout;
    const cfg = new DataView(this.hw.memory.buffer, this.hw.configBlock(), L.CFG_SIZE);
    cfg.setUint32(L.CFG_CPUS, o2.cpus, true);
    cfg.setUint32(L.CFG_ARCH, o2.arch === "aarch64" ? L.ARCH_AARCH64 : L.ARCH_X86_64, true);
    cfg.setUint32(L.CFG_MAXPHYADDR, o2.maxPhysAddr, true);
    let features = 0;
    if (o2.page1GB) features |= L.FEATURE_PAGE1GB;
    if (o2.detectMissingInvalidation) features |= L.FEATURE_DETECT;
    if (o2.chaos) features |= L.FEATURE_CHAOS;
    if (o2.caches) {
      features |= L.FEATURE_CACHES;
      cfg.setUint32(L.CFG_L1_SETS, o2.caches.l1.sets, true);
      cfg.setUint32(L.CFG_L1_WAYS, o2.caches.l1.ways, true);
      cfg.setUint32(L.CFG_SC_SETS, o2.caches.system.sets, true);
      cfg.setUint32(L.CFG_SC_WAYS, o2.caches.system.ways, true);
    }
    cfg.setUint32(L.CFG_FEATURES, features, true);
    STRUCT_ORDER.forEach((name, i) => {
      cfg.setUint32(L.CFG_SETS + 4 * i, o2.tlb[name].sets, true);
      cfg.setUint32(L.CFG_WAYS + 4 * i, o2.tlb[name].ways, true);
    });
    cfg.setUint32(L.CFG_MICRO_ENTRIES, o2.microTlbEntries, true);
    cfg.setUint32(L.CFG_CHAOS_MEAN, o2.chaos?.meanInterval ?? 0, true);
    cfg.setBigUint64(L.CFG_CHAOS_SEED, BigInt.asUintN(64, o2.chaos?.seed ?? 0n), true);
    const status = this.hw.init();
    if (status !== L.INIT_OK) throw new ShootdownError(`cannot build the machine: ${INIT_ERRORS[status] ?? `error ${status}`}`);
  }
  /**
   * Hands the hardware module's instance back for the next Machine to reuse
   * (wasm.ts): this machine, its CPUs and its memory must not be used again.
   */
  release() {
    release(this.hw);
  }
  cpu(index) {
    const c = this.cpus[index];
    if (!c) throw new ShootdownError(`no CPU ${index} (the machine has ${this.cpus.length})`);
    return c;
  }
  /**
   * Translates va on CPU `cpu` for an access `op` at privilege `priv`, as
   * that CPU's `translate` does: a physical address and attributes, or a
   * fault record. A machine-level shorthand for `machine.cpu(cpu).translate`.
   */
  translate(cpu, va, op, priv) {
    const c = this.cpu(cpu);
    return c.translate(va, { op, priv });
  }
  /**
   * Changes MAXPHYADDR; all RAM is forgotten (add ranges again). Used by the
   * conformance runner, whose vectors each name the width they assume.
   */
  setMaxPhysAddr(bits2) {
    if (!Number.isInteger(bits2) || this.hw.setMaxPhysAddr(bits2) !== 0) {
      throw new ShootdownError(`MAXPHYADDR must be an integer from 32 to 52, not ${bits2}`);
    }
    this.options.maxPhysAddr = bits2;
  }
  /** Removes and returns the missing-invalidation events recorded so far. */
  takeEvents() {
    const L = this.layout;
    const n = this.hw.eventsPending();
    const first = this.hw.eventsFirst();
    const ring = this.hw.regionEvents();
    const view = new DataView(this.hw.memory.buffer);
    const out = [];
    for (let i = 0; i < n; i++) {
      const at = ring + Number((first + BigInt(i)) % BigInt(L.EVENT_CAPACITY)) * L.EVENT_SIZE;
      out.push({
        kind: view.getUint32(at, true) === L.EVENT_STALE_TLB ? "stale-tlb-entry" : "stale-paging-structure-cache-entry",
        cpu: view.getUint32(at + 4, true),
        va: view.getBigUint64(at + 8, true),
        sourcePa: view.getBigUint64(at + 16, true),
        cachedValue: view.getBigUint64(at + 24, true),
        currentValue: view.getBigUint64(at + 32, true),
        level: view.getUint32(at + 40, true),
        pcid: view.getUint32(at + 44, true),
        sequence: view.getBigUint64(at + 48, true)
      });
    }
    this.hw.eventsConsume(n);
    return out;
  }
  /** Events lost because the ring was full before they were taken. */
  droppedEvents() {
    return this.hw.eventsDroppedCount();
  }
};

// emulator/machine/platform/x86/page-tables.ts
var PTE = {
  P: 1n << 0n,
  RW: 1n << 1n,
  US: 1n << 2n,
  PWT: 1n << 3n,
  PCD: 1n << 4n,
  A: 1n << 5n,
  D: 1n << 6n,
  PS: 1n << 7n,
  G: 1n << 8n,
  PAT_LARGE: 1n << 12n,
  XD: 1n << 63n
};
var PAGE_4K = 1n << 12n;
var PAGE_2M = 1n << 21n;
var PAGE_1G = 1n << 30n;

// emulator/machine/platform/x86/boot.ts
var RESERVED_BASE = 0x1000n;
var RESERVED_END = 0x9000n;
var BOOT_INFO_ADDR = 0x1000n;
var CMDLINE_ADDR = 0x1100n;
var GDT_ADDR = 0x2000n;
var PML4_ADDR = 0x3000n;
var PDPT_ADDR = 0x4000n;
var PD_ADDR = 0x5000n;
var IDENTITY_MAP_BYTES = 4n << 30n;
var GDT_SELECTORS = { KERNEL_CS: 8, KERNEL_DS: 16, USER_DS: 24, USER_CS: 32, TSS: 40 };
var GDT_DESCRIPTORS = [0n, 0x00209a0000000000n, 0x0000920000000000n, 0x0000f20000000000n, 0x0020fa0000000000n, 0n, 0n];
var GDT_LIMIT = 8 * GDT_DESCRIPTORS.length - 1;
var BOOT_CR0 = 0x80010031n;
var BOOT_CR4 = 0x20n;
var BOOT_EFER = 0xd00n;
var BOOT_RFLAGS = 0x2n;
function planLoad(image, ramBytes) {
  return planElf(image, {
    arch: "x86_64",
    ramBase: 0n,
    ramBytes,
    reserved: { start: RESERVED_BASE, end: RESERVED_END, what: "boot info, GDT, page tables" }
  });
}
function bootX86(m, plan, params) {
  const ramBytes = m.memory.ranges().reduce((n, r) => r.base === 0n ? r.size : n, 0n);
  loadSegments(m, plan);
  writeBootInfo(m, BOOT_INFO_ADDR, CMDLINE_ADDR, ramBytes, params.cmdline);
  GDT_DESCRIPTORS.forEach((d, i) => m.memory.write64(GDT_ADDR + BigInt(8 * i), d));
  const table = PTE.P | PTE.RW;
  m.memory.write(PML4_ADDR, new Uint8Array(24576));
  m.memory.write64(PML4_ADDR, PDPT_ADDR | table);
  const pdCount = Number(IDENTITY_MAP_BYTES >> 30n);
  const pds = new Uint8Array(4096 * pdCount);
  const pv = new DataView(pds.buffer);
  for (let gib = 0; gib < pdCount; gib++) {
    const pd = PD_ADDR + BigInt(4096 * gib);
    m.memory.write64(PDPT_ADDR + BigInt(8 * gib), pd | table);
    for (let i = 0; i < 512; i++) {
      const pa = BigInt(gib) << 30n | BigInt(i) << 21n;
      pv.setBigUint64(4096 * gib + 8 * i, pa | PTE.P | PTE.RW | PTE.PS, true);
    }
  }
  m.memory.write(PD_ADDR, pds);
  for (const cpu of m.cpus) {
    cpu.reset();
    cpu.setRegisters({ cr0: BOOT_CR0, cr3: PML4_ADDR, cr4: BOOT_CR4, efer: BOOT_EFER });
    const zeroGprs = { rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
    cpu.setState({
      ...zeroGprs,
      rip: plan.elf.entry,
      rflags: BOOT_RFLAGS,
      rdi: BigInt(cpu.index),
      rsi: BOOT_INFO_ADDR,
      cs: GDT_SELECTORS.KERNEL_CS,
      ss: GDT_SELECTORS.KERNEL_DS,
      cpl: 0,
      gdtrBase: GDT_ADDR,
      gdtrLimit: GDT_LIMIT,
      idtrBase: 0n,
      idtrLimit: 0
    });
  }
  m.hw.x86CodeChanged();
}

// emulator/machine/platform/x86/devices.ts
var COM1_BASE = 1016;
var UART_THR = 0;
var UART_LCR = 3;
var UART_LSR = 5;
var UART_LSR_IDLE = 0x60n;
var LCR_DLAB = 128;
var DEBUG_EXIT_PORT = 244;
var Uart = class {
  constructor(sink) {
    this.sink = sink;
  }
  sink;
  lcr = 0;
  /** Bytes sent, for the summary. */
  bytesOut = 0;
  in(offset) {
    return offset === UART_LSR ? UART_LSR_IDLE : 0n;
  }
  out(offset, value) {
    const byte = Number(value & 0xffn);
    if (offset === UART_LCR) this.lcr = byte;
    if (offset === UART_THR && !(this.lcr & LCR_DLAB)) {
      this.bytesOut++;
      this.sink(byte);
    }
  }
};
var mask2 = (size) => (1n << BigInt(8 * size)) - 1n;
var IoBus = class {
  uart;
  unknown = /* @__PURE__ */ new Map();
  constructor(sink) {
    this.uart = new Uart(sink);
  }
  access(a) {
    if (a.port >= COM1_BASE && a.port < COM1_BASE + 8) {
      if (a.write) {
        this.uart.out(a.port - COM1_BASE, a.value);
        return { value: 0n };
      }
      return { value: this.uart.in(a.port - COM1_BASE) & mask2(a.size) };
    }
    if (a.port === DEBUG_EXIT_PORT && a.write) return { value: 0n, exit: { code: a.value & mask2(a.size) } };
    let u = this.unknown.get(a.port);
    if (!u) this.unknown.set(a.port, u = { port: a.port, reads: 0, writes: 0 });
    if (a.write) {
      u.writes++;
      return { value: 0n };
    }
    u.reads++;
    return { value: mask2(a.size) };
  }
  /** Ports no device answered, in port order. */
  unknownPorts() {
    return [...this.unknown.values()].sort((a, b) => a.port - b.port);
  }
};
function raxAfterIn(rax, size, value) {
  if (size === 4) return value & 0xffffffffn;
  const m = mask2(size);
  return rax & ~m | value & m;
}

// emulator/machine/core/timeline.ts
var Timeline = class {
  sink;
  /** The engine's decision count (set by the engine before each decision). */
  step = 0;
  get on() {
    return this.sink !== void 0;
  }
  emit(e) {
    this.sink?.event(e, this.step);
  }
};

// emulator/machine/core/platform.ts
var ArchPlatform = class {
  constructor(machine, cpus) {
    this.machine = machine;
    this.cpus = cpus;
  }
  machine;
  cpus;
  timeline = new Timeline();
  get cpuCount() {
    return this.cpus.length;
  }
  /**
   * CPUs the hypervisor has nothing to run on: a decision for one runs no
   * instruction and hands the chain a "parked" exit, where the hypervisor
   * may give it work. A parked CPU is live and idle.
   */
  parked = /* @__PURE__ */ new Set();
  park(i) {
    this.parked.add(i);
  }
  unpark(i) {
    this.parked.delete(i);
  }
  isParked(i) {
    return this.parked.has(i);
  }
  run(i, budget) {
    if (this.parked.has(i)) return { retired: 0, exit: { reason: "parked" } };
    const cpu = this.cpus[i];
    const before = cpu.progress.instructions;
    const exit = cpu.run(budget);
    return { retired: Number(cpu.progress.instructions - before), exit };
  }
  breakpointPc(exit) {
    const e = exit;
    return e.reason === "breakpoint" ? e.pc ?? e.rip : void 0;
  }
  handleExit(i, exit) {
    return this.chain.handle(this.cpus[i], exit);
  }
  attach(handler) {
    this.chain = this.chain.withFirst(handler);
    this.hasHypervisor = true;
    this.attached = handler;
  }
  attached;
  interrupt(i) {
    return this.attached?.interrupt?.(i);
  }
  inspectHypervisor(command, args) {
    return this.attached?.inspect?.(command, args);
  }
  /** The attached hypervisor's vCPUs, their saved registers in this architecture's register file R. */
  vcpus() {
    return this.attached?.vcpus?.();
  }
  hypervisorSummary() {
    return this.attached?.summary?.();
  }
  hasHypervisor = false;
  instructions(i) {
    return this.cpus[i].progress.instructions;
  }
  cycles(i) {
    return this.cpus[i].progress.cycles;
  }
  counters(i) {
    return this.cpus[i].counters();
  }
  setBreakpoints(addresses) {
    for (const cpu of this.cpus) cpu.setBreakpoints([...addresses]);
  }
  eventsPending() {
    return this.machine.hw.eventsPending() > 0 || this.attached?.eventsPending?.() === true;
  }
  /** The machine's own events (the missing-invalidation detector), then the hypervisor's (its sanitizer). */
  takeEvents() {
    const own = this.machineEvents();
    const more = this.attached?.takeEvents?.();
    return more?.length ? [...own, ...more] : own;
  }
};

// emulator/machine/core/exits.ts
var DONE = { kind: "done" };
var ExitChain = class _ExitChain {
  constructor(handlers) {
    this.handlers = handlers;
  }
  handlers;
  /** A chain with `first` in front (the hypervisor goes before the platform). */
  withFirst(first) {
    return new _ExitChain([first, ...this.handlers]);
  }
  handle(cpu, exit) {
    for (const h of this.handlers) {
      const r = h.handle(cpu, exit);
      if (r) return r;
    }
    throw new Error(`no handler took a ${exit.reason} exit (the crash describer must take every exit)`);
  }
};

// emulator/machine/core/disassembler.ts
var NO_DISASSEMBLER = {
  label: () => void 0,
  decode: () => void 0
};

// emulator/machine/platform/x86/platform.ts
var hex8 = (v) => `0x${v.toString(16)}`;
var VECTOR_NAMES = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)", "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"];
var vectorName = (v) => VECTOR_NAMES[v] ?? `vector ${v}`;
var VEC_DF = 8;
function deliveryChain(vectors) {
  const df = vectors.indexOf(VEC_DF, 1);
  const chain = df < 0 ? vectors : vectors.slice(0, df + 1);
  return chain.map(vectorName).join(" \u2192 ") + (df < 0 ? " \u2192 \u2026" : "");
}
var LEVEL_NAMES = { 5: "PML5E", 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };
function bootX86Platform(image, options, console2, p = {}) {
  const plan = planLoad(image, options.memBytes);
  const chaos = options.tlbChaos === void 0 ? void 0 : { seed: options.seed ?? 0n, meanInterval: chaosInterval(options.tlbChaos) };
  const m = new Machine({
    cpus: options.cpus,
    maxPhysAddr: 46,
    ram: [{ base: 0n, size: options.memBytes }],
    ...chaos ? { chaos } : {},
    ...p.detector ? { detectMissingInvalidation: true } : {}
  });
  bootX86(m, plan, { cmdline: options.cmdline });
  return new X86Platform(m, plan, options.memBytes, console2, p.disassembler ?? NO_DISASSEMBLER);
}
var X86Platform = class extends ArchPlatform {
  constructor(m, plan, memBytes, console2, disassembler) {
    super(m, m.cpus);
    this.m = m;
    this.plan = plan;
    this.io = new IoBus(console2);
    this.describer = new X86CrashDescriber(m, memBytes, disassembler);
    this.chain = new ExitChain([new X86Devices(this.io), this.describer]);
  }
  m;
  plan;
  arch = "x86_64";
  io;
  chain;
  describer;
  live(i) {
    return !this.m.cpus[i].progress.stopped;
  }
  idle(i) {
    return this.isParked(i) || this.m.cpus[i].progress.halted;
  }
  /** RIP read straight from the CPU block: cpu.state would materialise the lazy flags, which the state hash sees. */
  pc(i) {
    return this.m.cpus[i].rip;
  }
  snapshot(i) {
    const cpu = this.m.cpus[i];
    const p = cpu.progress;
    return { pc: cpu.state.rip, halted: p.halted, stopped: p.stopped };
  }
  noneLive() {
    return { kind: "crash", reason: "stopped", message: "every CPU is stopped and none wrote the debug-exit port" };
  }
  deadlock(live) {
    const cpus = live.map((i) => this.m.cpus[i]);
    const halted = cpus.every((cpu) => cpu.progress.halted);
    const where2 = (cpu, rip) => this.describer.where(cpu, rip);
    const each = cpus.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.halted) return `CPU ${cpu.index} retiring nothing at ${where2(cpu, s.rip)}`;
      const hlt = instructionBytes(this.m, cpu, s.rip - 1n, 1)[0] === 244 ? s.rip - 1n : s.rip;
      return `CPU ${cpu.index} halted with IF=${s.rflags >> 9n & 1n} at ${where2(cpu, hlt)}`;
    });
    const what2 = halted ? "all CPUs halted with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what2} (${each.join("; ")})`, cpu: cpus[0].index, pc: cpus[0].state.rip };
  }
  machineEvents() {
    return this.m.takeEvents().map((e) => ({
      kind: "stale-use",
      cpu: e.cpu,
      message: `CPU ${e.cpu} used a stale ${e.kind === "stale-tlb-entry" ? "TLB entry" : "paging-structure-cache entry"} for VA ${hex8(e.va)} (PCID ${e.pcid}): the ${LEVEL_NAMES[e.level] ?? `level-${e.level} entry`} at ${hex8(e.sourcePa)} was ${hex8(e.cachedValue)} and is now ${hex8(e.currentValue)}, with no invalidation in between`,
      detail: { ...e }
    }));
  }
  /** After reading every CPU's state, which works out the lazy flags. */
  stateHash() {
    for (const cpu of this.m.cpus) void cpu.state;
    return BigInt.asUintN(64, this.m.hw.stateHash());
  }
  consoleBytes() {
    return this.io.uart.bytesOut;
  }
  unknownPorts() {
    return this.io.unknownPorts();
  }
};
var X86Devices = class {
  constructor(io) {
    this.io = io;
  }
  io;
  name = "platform";
  handle(cpu, exit) {
    if ("guest" in exit) return void 0;
    switch (exit.reason) {
      case "budget":
      case "parked":
      case "hlt":
        return DONE;
      case "io": {
        const r = this.io.access(exit);
        if (r.exit) return { kind: "end", end: { kind: "debug-exit", code: r.exit.code, cpu: cpu.index } };
        if (!exit.write) cpu.setState({ rax: raxAfterIn(cpu.state.rax, exit.size, r.value) });
        return DONE;
      }
      default:
        return void 0;
    }
  }
};
var X86CrashDescriber = class {
  constructor(m, memBytes, disassembler) {
    this.m = m;
    this.memBytes = memBytes;
    this.disassembler = disassembler;
  }
  m;
  memBytes;
  disassembler;
  name = "crash describer";
  /** Words crash lines with this disassembler from now on. */
  useDisassembler(d) {
    this.disassembler = d;
  }
  handle(cpu, exit) {
    const end = (reason, rip, what2) => ({ kind: "end", end: { kind: "crash", reason, cpu: cpu.index, pc: rip, message: `CPU ${cpu.index}: ${what2} at ${this.where(cpu, rip)}` } });
    if ("guest" in exit) return end("vm-exit", exit.rip, `VM exit (${exit.reason}) with no hypervisor to handle it`);
    switch (exit.reason) {
      case "triple-fault": {
        const noIdt = cpu.state.idtrLimit === 0 ? "; no IDT is loaded" : "";
        return end("triple-fault", exit.rip, `triple fault (could not deliver ${deliveryChain(exit.vectors)}${noIdt})`);
      }
      case "bus-error":
        return end("bus-error", exit.rip, `bus error: access to physical address ${hex8(exit.address)}, outside RAM [0, ${hex8(this.memBytes)})`);
      case "vmcall":
        return end("vmcall", exit.rip, "VMCALL with no hypervisor to handle it");
      case "breakpoint":
        return end("breakpoint", exit.rip, "stopped at a breakpoint");
      case "stopped":
        return end("stopped", cpu.state.rip, "the CPU is stopped");
      default: {
        const e = exit;
        return end("trap", e.rip ?? cpu.state.rip, `a ${e.reason} exit with nothing to handle it`);
      }
    }
  }
  /** "RIP 0x100005 <_start+0x5> [0f 0b: ud2]", read through the CPU's MMU without side effects. */
  where(cpu, rip) {
    const bytes = instructionBytes(this.m, cpu, rip);
    const label = this.disassembler.label(rip);
    const name = label ? ` <${label}>` : "";
    if (!bytes.length) return `RIP ${hex8(rip)}${name} [unreadable]`;
    const d = this.disassembler.decode(bytes, rip);
    const used = bytes.subarray(0, Math.min(d?.length ?? bytes.length, bytes.length));
    const text = d?.text ?? "not an instruction shootdown knows";
    return `RIP ${hex8(rip)}${name} [${[...used].map((b) => b.toString(16).padStart(2, "0")).join(" ")}: ${text}]`;
  }
};
function instructionBytes(m, cpu, rip, max = 15) {
  const out = [];
  let page = -1n;
  let pa = 0n;
  for (let i = 0; i < max; i++) {
    const va = BigInt.asUintN(64, rip + BigInt(i));
    if (va >> 12n !== page) {
      const t2 = cpu.peek(va, { op: "fetch", priv: cpu.state.cpl === 3 ? "user" : "kernel" });
      if (!t2.ok) break;
      page = va >> 12n;
      pa = t2.pa - (va & 0xfffn);
    }
    const at = pa + (va & 0xfffn);
    const word2 = m.memory.peek64(at & ~7n);
    if (word2 === void 0) break;
    out.push(Number(word2 >> 8n * (at & 7n) & 0xffn));
  }
  return new Uint8Array(out);
}

// emulator/machine/platform/arm/boot.ts
var ARM_RAM_BASE = 0x40000000n;
var ARM_RESERVED_BYTES = 0x2000n;
var ARM_CMDLINE_OFFSET = 0x100n;
function armBootInfoAddress(ramBytes) {
  return ARM_RAM_BASE + ramBytes - ARM_RESERVED_BYTES;
}
function planArmLoad(image, ramBytes) {
  const info = armBootInfoAddress(ramBytes);
  return planElf(image, {
    arch: "aarch64",
    ramBase: ARM_RAM_BASE,
    ramBytes,
    reserved: { start: info, end: info + ARM_RESERVED_BYTES, what: "boot information and command line" }
  });
}
function bootArm(m, plan, params) {
  const ramBytes = m.memory.ranges().reduce((n, r) => r.base === ARM_RAM_BASE ? r.size : n, 0n);
  loadSegments(m, plan);
  const info = armBootInfoAddress(ramBytes);
  writeBootInfo(m, info, info + ARM_CMDLINE_OFFSET, ramBytes, params.cmdline);
  for (const cpu of m.cpus) cpu.powerOff();
  m.cpu(0).powerOn(plan.elf.entry, info);
}

// emulator/machine/platform/arm/devices.ts
var PL011_BASE = 0x09000000n;
var PL011_SIZE = 0x1000n;
var PL011_DR = 0x00n;
var PL011_FR = 0x18n;
var PL011_FR_IDLE = 0x90n;
var Pl011 = class {
  constructor(sink) {
    this.sink = sink;
  }
  sink;
  /** Bytes sent, for the summary. */
  bytesOut = 0;
  read(offset) {
    return offset === PL011_FR ? PL011_FR_IDLE : 0n;
  }
  write(offset, value) {
    if (offset !== PL011_DR) return;
    this.bytesOut++;
    this.sink(Number(value & 0xffn));
  }
};
var MmioBus = class {
  uart;
  constructor(sink) {
    this.uart = new Pl011(sink);
  }
  access(a) {
    if (a.address >= PL011_BASE && a.address < PL011_BASE + PL011_SIZE) {
      const offset = a.address - PL011_BASE;
      if (a.write) {
        this.uart.write(offset, a.value);
        return { ok: true, value: 0n };
      }
      return { ok: true, value: this.uart.read(offset) };
    }
    return { ok: false };
  }
};

// emulator/machine/platform/arm/psci.ts
var PSCI = {
  VERSION: 2214592512,
  CPU_SUSPEND: 3288334337,
  CPU_OFF: 2214592514,
  CPU_ON: 3288334339,
  AFFINITY_INFO: 3288334340,
  MIGRATE_INFO_TYPE: 2214592518,
  SYSTEM_OFF: 2214592520,
  SYSTEM_RESET: 2214592521,
  FEATURES: 2214592522
};
var PSCI_RET = {
  SUCCESS: 0n,
  NOT_SUPPORTED: -1n,
  INVALID_PARAMETERS: -2n,
  ALREADY_ON: -4n
};
var PSCI_VERSION_VALUE = 0x00010001n;
var AFFINITY_ON = 0n;
var AFFINITY_OFF = 1n;
var MIGRATE_NOT_REQUIRED = 2n;
function isPsciCall(fn) {
  const base2 = (fn & ~31) >>> 0;
  return base2 === 2214592512 || base2 === 3288334336;
}
function cpuOfMpidr(mpidr, cpus) {
  if (mpidr >> 8n) return void 0;
  const i = Number(mpidr);
  return i < cpus ? i : void 0;
}
var s64 = (v) => BigInt.asUintN(64, v);
function psciCall(fn, x1, x2, x3, m) {
  const ret = (v) => ({ kind: "return", x0: s64(v) });
  switch (fn) {
    case PSCI.VERSION:
      return ret(PSCI_VERSION_VALUE);
    case PSCI.CPU_ON: {
      const target3 = cpuOfMpidr(x1, m.cpus);
      if (target3 === void 0) return ret(PSCI_RET.INVALID_PARAMETERS);
      if (m.isOn(target3)) return ret(PSCI_RET.ALREADY_ON);
      return { kind: "cpu-on", target: target3, entry: x2, contextId: x3 };
    }
    case PSCI.CPU_OFF:
      return { kind: "cpu-off" };
    case PSCI.AFFINITY_INFO: {
      const target3 = cpuOfMpidr(x1, m.cpus);
      if (target3 === void 0 || x2 !== 0n) return ret(PSCI_RET.INVALID_PARAMETERS);
      return ret(m.isOn(target3) ? AFFINITY_ON : AFFINITY_OFF);
    }
    case PSCI.CPU_SUSPEND:
      return ret(PSCI_RET.SUCCESS);
    case PSCI.MIGRATE_INFO_TYPE:
      return ret(MIGRATE_NOT_REQUIRED);
    case PSCI.SYSTEM_OFF:
      return { kind: "system-off" };
    case PSCI.SYSTEM_RESET:
      return { kind: "system-reset" };
    case PSCI.FEATURES: {
      const asked = Number(x1 & 0xffffffffn);
      const known = [PSCI.VERSION, PSCI.CPU_SUSPEND, PSCI.CPU_OFF, PSCI.CPU_ON, PSCI.AFFINITY_INFO, PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET, PSCI.FEATURES];
      return ret(known.includes(asked) ? PSCI_RET.SUCCESS : PSCI_RET.NOT_SUPPORTED);
    }
    default:
      return ret(PSCI_RET.NOT_SUPPORTED);
  }
}

// emulator/machine/platform/arm/platform.ts
var hex9 = (v) => `0x${v.toString(16)}`;
function bootArmPlatform(image, options, console2, p = {}) {
  const plan = planArmLoad(image, options.memBytes);
  const chaos = options.tlbChaos === void 0 ? void 0 : { seed: options.seed ?? 0n, meanInterval: chaosInterval(options.tlbChaos) };
  const m = new Machine({
    arch: "aarch64",
    cpus: options.cpus,
    maxPhysAddr: 48,
    ram: [{ base: ARM_RAM_BASE, size: options.memBytes }],
    ...chaos ? { chaos } : {},
    ...p.detector ? { detectMissingInvalidation: true } : {}
  });
  bootArm(m, plan, { cmdline: options.cmdline });
  return new ArmPlatform(m, plan, options.memBytes, console2, p.disassembler ?? NO_DISASSEMBLER);
}
var EC_NAMES = {
  0: "an undefined instruction",
  1: "a trapped WFI/WFE",
  14: "an illegal execution state",
  21: "an SVC",
  22: "an HVC",
  23: "an SMC",
  24: "a trapped system-register access",
  32: "an instruction abort from EL0",
  33: "an instruction abort",
  34: "a PC alignment fault",
  36: "a data abort from EL0",
  37: "a data abort",
  38: "an SP alignment fault",
  60: "a BRK"
};
function describeEsr(esr) {
  const ec = Number(esr >> 26n & 0x3fn);
  return `${EC_NAMES[ec] ?? `exception class ${hex9(ec)}`} (ESR ${hex9(esr)})`;
}
var ArmPlatform = class extends ArchPlatform {
  constructor(m, plan, memBytes, console2, disassembler) {
    super(m, m.cpus);
    this.m = m;
    this.plan = plan;
    this.mmio = new MmioBus(console2);
    this.describer = new ArmCrashDescriber(m, memBytes, disassembler);
    this.chain = new ExitChain([new ArmFirmwareAndDevices(m, this.mmio), this.describer]);
  }
  m;
  plan;
  arch = "aarch64";
  mmio;
  chain;
  describer;
  /** Powered on and not stopped. */
  live(i) {
    const p = this.m.cpus[i].progress;
    return !p.off && !p.stopped;
  }
  idle(i) {
    return this.isParked(i) || this.m.cpus[i].progress.waiting;
  }
  /** PC read straight from the CPU block: the engine asks before every run call. */
  pc(i) {
    return this.m.cpus[i].pc;
  }
  snapshot(i) {
    const cpu = this.m.cpus[i];
    const p = cpu.progress;
    return { pc: cpu.state.pc, halted: p.waiting, stopped: p.off || p.stopped };
  }
  noneLive() {
    return { kind: "crash", reason: "off", message: "every CPU is off (or stopped) and none called PSCI SYSTEM_OFF" };
  }
  deadlock(live) {
    const cpus = live.map((i) => this.m.cpus[i]);
    const waiting = cpus.every((cpu) => cpu.progress.waiting);
    const each = cpus.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.waiting) return `CPU ${cpu.index} retiring nothing at ${this.describer.where(cpu, s.pc)}`;
      const daif = s.pstate >> 6n & 0xfn;
      return `CPU ${cpu.index} waiting with DAIF=${hex9(daif)} at ${this.describer.where(cpu, s.pc - 4n)}`;
    });
    const what2 = waiting ? "all CPUs wait (WFI) with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what2} (${each.join("; ")})`, cpu: cpus[0].index, pc: cpus[0].state.pc };
  }
  machineEvents() {
    return this.m.takeEvents().map((e) => {
      const stage2 = (e.level & 128) !== 0;
      const what2 = `the ${stage2 ? "stage-2 " : ""}L${e.level & 127} descriptor at ${hex9(e.sourcePa)}`;
      const kind = e.kind === "stale-tlb-entry" ? "TLB entry" : "walk-cache entry";
      return {
        kind: "stale-use",
        cpu: e.cpu,
        message: `CPU ${e.cpu} used a stale ${kind} for VA ${hex9(e.va)} (ASID ${e.pcid}): ${what2} was ${hex9(e.cachedValue)} and is now ${hex9(e.currentValue)}, with no TLBI in between`,
        detail: { ...e }
      };
    });
  }
  stateHash() {
    return BigInt.asUintN(64, this.m.hw.stateHash());
  }
  consoleBytes() {
    return this.mmio.uart.bytesOut;
  }
  unknownPorts() {
    return [];
  }
};
function setX0(cpu, value) {
  const x = cpu.state.x.slice();
  x[0] = value;
  cpu.setState({ x });
}
var ArmFirmwareAndDevices = class {
  constructor(m, mmio) {
    this.m = m;
    this.mmio = mmio;
  }
  m;
  mmio;
  name = "platform";
  handle(cpu, exit) {
    switch (exit.reason) {
      case "budget":
      case "parked":
      case "wfi":
      case "off":
        return DONE;
      case "hvc":
        return this.hvc(cpu);
      case "mmio": {
        const r = this.mmio.access(exit);
        if (!r.ok) return void 0;
        if (!exit.write) cpu.completeMmioRead(r.value);
        return DONE;
      }
      default:
        return void 0;
    }
  }
  /** HVC (PC is past it): PSCI when the function ID is in its ranges; anything else goes on down the chain. */
  hvc(cpu) {
    const s = cpu.state;
    const fn = Number(s.x[0] & 0xffffffffn);
    if (!isPsciCall(fn)) return void 0;
    const cpus = this.m.cpus;
    const action = psciCall(fn, s.x[1], s.x[2], s.x[3], { cpus: cpus.length, isOn: (i) => !cpus[i].progress.off });
    switch (action.kind) {
      case "return":
        setX0(cpu, action.x0);
        return DONE;
      case "cpu-on":
        this.m.cpu(action.target).powerOn(action.entry, action.contextId);
        setX0(cpu, PSCI_RET.SUCCESS);
        return DONE;
      case "cpu-off":
        cpu.powerOff();
        return DONE;
      case "system-off":
        return { kind: "end", end: { kind: "power-off", reset: false, cpu: cpu.index } };
      case "system-reset":
        return { kind: "end", end: { kind: "power-off", reset: true, cpu: cpu.index } };
    }
  }
};
var ArmCrashDescriber = class {
  constructor(m, memBytes, disassembler) {
    this.m = m;
    this.memBytes = memBytes;
    this.disassembler = disassembler;
  }
  m;
  memBytes;
  disassembler;
  name = "crash describer";
  /** Words crash lines with this disassembler from now on. */
  useDisassembler(d) {
    this.disassembler = d;
  }
  handle(cpu, exit) {
    const end = (reason, pc, what2) => ({ kind: "end", end: { kind: "crash", reason, cpu: cpu.index, pc, message: `CPU ${cpu.index}: ${what2} at ${this.where(cpu, pc)}` } });
    const ram = `RAM [${hex9(ARM_RAM_BASE)}, ${hex9(ARM_RAM_BASE + this.memBytes)})`;
    switch (exit.reason) {
      case "stopped":
        return end("stopped", cpu.state.pc, "the CPU is stopped");
      case "hvc": {
        const fn = Number(cpu.state.x[0] & 0xffffffffn);
        return end("hvc", exit.pc, `HVC with function ${hex9(fn)} in w0: not a PSCI call, and there is no hypervisor to handle it`);
      }
      case "smc":
        return end("smc", exit.pc, `SMC #${hex9(exit.imm)} with no EL3 firmware to handle it`);
      case "mmio":
        return end("bus-error", exit.pc, `bus error: ${exit.write ? "write to" : "read from"} physical address ${hex9(exit.address)}, outside ${ram}, the GIC and the PL011 UART`);
      case "trap":
        return end("trap", exit.pc, `${describeEsr(exit.esr)} trapped to EL2, with no hypervisor to handle it`);
      case "bus-error":
        return end("bus-error", exit.pc, `bus error: access to physical address ${hex9(exit.address)}, outside ${ram}`);
      case "exception-loop": {
        const s = cpu.state;
        const why = s.vbar_el1 === 0n ? "; VBAR_EL1 is 0, no vector table is set" : "";
        const first = `${describeEsr(s.esr_el1)} at ${this.where(cpu, s.elr_el1)}`;
        return end("exception-loop", exit.pc, `exception loop: after ${first}, ${describeEsr(exit.esr)} is taken again and again (vector ${hex9(exit.vector)}${why})`);
      }
      case "breakpoint":
        return end("breakpoint", exit.pc, "stopped at a breakpoint");
      default: {
        const e = exit;
        return end("trap", e.pc ?? cpu.state.pc, `a ${e.reason} exit with nothing to handle it`);
      }
    }
  }
  /** "PC 0x40080004 <_start+0x4> [d4000002: hvc #0x0]", read through the CPU's MMU without side effects. */
  where(cpu, pc) {
    const label = this.disassembler.label(pc);
    const name = label ? ` <${label}>` : "";
    const priv = (cpu.state.pstate >> 2n & 3n) === 0n ? "user" : "kernel";
    const t2 = cpu.peek(pc, { op: "fetch", priv });
    const word2 = t2.ok ? this.m.memory.peek64(t2.pa & ~7n) : void 0;
    if (word2 === void 0) return `PC ${hex9(pc)}${name} [unreadable]`;
    const insn = Number(word2 >> 8n * (t2.ok ? t2.pa & 4n : 0n) & 0xffffffffn);
    const bytes = new Uint8Array(new Uint32Array([insn]).buffer);
    const text = this.disassembler.decode(bytes, pc)?.text ?? "not an instruction shootdown knows";
    return `PC ${hex9(pc)}${name} [${insn.toString(16).padStart(8, "0")}: ${text}]`;
  }
};

// emulator/disassembler.ts
var hex10 = (v) => `0x${v.toString(16)}`;
function asmDisassembler(arch, program) {
  const symbols = new SymbolLookup(program);
  const names = { objdump: (a) => symbols.objdump(a), source: (a) => hex10(a) };
  const backend = backendFor(arch);
  return {
    label: (address) => symbols.label(address),
    decode(bytes, pc) {
      const d = backend.decode(bytes, 0, pc, names);
      return { length: d.length, text: d.unknown ? void 0 : d.text.replace(/\s+/g, " ").trim() };
    }
  };
}

// hypervisor/common/frame-table.ts
var PGT = {
  none: 0,
  l1: 1,
  l2: 2,
  l3: 3,
  l4: 4,
  shared: 6,
  writable: 7
};
var PAGE_TYPE_NAMES = { 0: "none", 1: "L1", 2: "L2", 3: "L3", 4: "L4", 6: "shared", 7: "writable" };
var isPageTableType = (t2) => t2 >= PGT.l1 && t2 <= PGT.l4;
var PGT_COUNT_MAX = 2 ** 53 - 1;
var PGC_COUNT_MAX = 2 ** 53 - 3;
var PageInfo = class {
  constructor(mfn) {
    this.mfn = mfn;
  }
  mfn;
  /** Which domain owns this frame (page_get_owner)? null while it is free. */
  owner = null;
  /** How many references does the frame have (PGC_count), the allocation reference included? */
  count = 0;
  /** Does the owner still hold its allocation reference (PGC_allocated)? */
  allocated = false;
  /** What is the frame used as (PGT_type_mask)? */
  type = PGT.none;
  /** How many references of that type does it have (PGT_count_mask)? */
  typeCount = 0;
  /** Has the frame's content been validated for its current type (PGT_validated)? */
  validated = false;
  /** Has the guest pinned the frame's type (PGT_pinned)? A pin holds one general and one type reference. */
  pinned = false;
  /** Does some pCPU hold the frame's page_lock (PGT_locked)? The lock holds one type reference. */
  locked = false;
  /** Which pCPU holds the page_lock (for the debugger and checks); -1 when unlocked. */
  lockedBy = -1;
  /** How is the frame used in linear page tables (linear_pt_count)? > 0: it holds that many linear entries; < 0: that many entries elsewhere use it linearly. */
  linearPtCount = 0;
  /** When (on the TLB-flush clock) did the frame last lose a use that could leave TLB entries behind (tlbflush_timestamp)? */
  tlbflushTimestamp = 0;
  /** Is the frame on the allocator's free list? */
  free = true;
  /** Does a freed frame need a TLB flush before it is handed out again (u.free.need_tlbflush)? */
  needTlbflush = false;
  /** Does a freed frame still hold its last owner's data, to be zeroed before it is handed out (PGC_need_scrub)? */
  needScrub = false;
};
var FrameTable = class {
  constructor(firstMfn, nrFrames) {
    this.firstMfn = firstMfn;
    this.nrFrames = nrFrames;
    this.pages = Array.from({ length: nrFrames }, (_, i) => new PageInfo(firstMfn + i));
  }
  firstMfn;
  nrFrames;
  pages;
  /** One past the highest MFN (Xen's max_page). */
  get endMfn() {
    return this.firstMfn + this.nrFrames;
  }
  /** Is there a frame-table entry for this MFN (mfn_valid)? */
  valid(mfn) {
    const m = Number(mfn);
    return Number.isSafeInteger(m) && m >= this.firstMfn && m < this.endMfn;
  }
  /** The frame's entry; callers check valid() first. */
  page(mfn) {
    const p = this.pages[mfn - this.firstMfn];
    if (!p) throw new Error(`MFN 0x${mfn.toString(16)} is outside the frame table`);
    return p;
  }
  /** The entry, or undefined for an MFN the table does not cover. */
  lookup(mfn) {
    return this.valid(mfn) ? this.pages[Number(mfn) - this.firstMfn] : void 0;
  }
  all() {
    return this.pages;
  }
};

// hypervisor/common/alloc.ts
var FrameAllocator = class {
  constructor(frames, seed) {
    this.frames = frames;
    this.rng = new Xoshiro128(seed);
    for (const p of frames.all()) this.freeList.push(p.mfn);
  }
  frames;
  freeList = [];
  rng;
  /** How many frames are free. */
  get nrFree() {
    return this.freeList.length;
  }
  /**
   * Takes a free frame chosen by the seeded generator, or undefined when none
   * is left. `accept` may refuse candidates (the builder refuses an MFN equal
   * to the PFN it will back, or next to the previous one): after a few
   * random refusals the free list is searched from a random place, and when
   * no frame is acceptable the random one is taken.
   */
  take(accept) {
    const n = this.freeList.length;
    if (!n) return void 0;
    let i = this.rng.below(n);
    if (accept && !accept(this.freeList[i])) {
      let tries = 0;
      for (; tries < 16 && !accept(this.freeList[i]); tries++) i = this.rng.below(n);
      for (let k = 0; k < n && !accept(this.freeList[i]); k++) i = (i + 1) % n;
      if (!accept(this.freeList[i])) i = this.rng.below(n);
    }
    const mfn = this.freeList[i];
    this.freeList[i] = this.freeList[n - 1];
    this.freeList.pop();
    const page = this.frames.page(mfn);
    page.free = false;
    return page;
  }
  /** Puts a frame back on the free list; the caller has scrubbed it and cleared its owner. */
  give(page) {
    if (page.free) throw new Error(`MFN 0x${page.mfn.toString(16)} freed twice`);
    page.free = true;
    this.freeList.push(page.mfn);
  }
};

// hypervisor/common/domain.ts
var VCpu = class {
  constructor(domain, vcpuId) {
    this.domain = domain;
    this.vcpuId = vcpuId;
  }
  domain;
  vcpuId;
  /** Is the vCPU down (_VPF_down)? vCPU 0 starts up, the others down until VCPUOP_up. */
  down = true;
  /** Has it been given a context (v->is_initialised), by the builder or VCPUOP_initialise? */
  initialised = false;
  /** The registers it starts from, once initialised. */
  context = null;
  /** The MFN of the L4 it runs on (v->arch.guest_table), holding a general and a type reference; 0 for none. */
  guestTable = 0;
  /** Which pCPU does it run on, or did it last run on (v->processor)? */
  processor = 0;
  /** Which pCPU may still hold its TLB entries (v->dirty_cpu)? undefined until it has run; the run engine keeps it. */
  dirtyCpu;
  /** Is it blocked in SCHEDOP_block until an event? */
  blocked = false;
};
var Domain = class {
  constructor(domid, maxPages, nrVcpus) {
    this.domid = domid;
    this.maxPages = maxPages;
    for (let i = 0; i < nrVcpus; i++) this.vcpus.push(new VCpu(this, i));
  }
  domid;
  /** Which frames does the domain own (d->page_list)? */
  pageList = /* @__PURE__ */ new Set();
  /** How many frames does it own (d->tot_pages)? */
  totPages = 0;
  /** How many frames may it own (d->max_pages)? */
  maxPages;
  vcpus = [];
  /** Which pCPUs may hold TLB entries of this domain (d->dirty_cpumask)? The run engine keeps it. */
  dirtyCpumask = /* @__PURE__ */ new Set();
  /** The p2m list the builder made; undefined until built. */
  p2m;
  /** The reason given to SCHEDOP_shutdown (SHUTDOWN_*), once the domain has shut down. */
  shutdownReason;
};

// hypervisor/common/errno.ts
var EPERM = 1;
var ENOENT = 2;
var ESRCH = 3;
var ENXIO = 6;
var ENOMEM = 12;
var EACCES = 13;
var EFAULT = 14;
var EBUSY = 16;
var EEXIST = 17;
var EINVAL = 22;
var ENOSYS = 38;
var EOPNOTSUPP = 95;
var NAMES = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [ESRCH]: "ESRCH",
  [ENXIO]: "ENXIO",
  [ENOMEM]: "ENOMEM",
  [EACCES]: "EACCES",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EEXIST]: "EEXIST",
  [EINVAL]: "EINVAL",
  [ENOSYS]: "ENOSYS",
  [EOPNOTSUPP]: "EOPNOTSUPP"
};
function resultName(rc) {
  if (rc >= 0) return String(rc);
  return `-${NAMES[-rc] ?? String(-rc)}`;
}

// hypervisor/common/stats.ts
var bump = (m, k, by = 1) => m.set(k, (m.get(k) ?? 0) + by);
var HvStats = class {
  /** hypercall name → result ("0", "-EINVAL", "3", …) → count. */
  hypercalls = /* @__PURE__ */ new Map();
  /** "L1 → writable" → count. */
  typeTransitions = /* @__PURE__ */ new Map();
  /** flush kind → requests and pCPUs they named. */
  flushes = /* @__PURE__ */ new Map();
  /** Flushes by the path that carried them: "local", "ipi", "assisted". */
  flushPaths = /* @__PURE__ */ new Map();
  /** Physical IPIs sent for flushes. */
  ipisSent = 0;
  /** pCPUs a filtered flush left out because the TLB-flush clock says they flushed since the frame's stamp. */
  pcpusSpared = 0;
  pins = 0;
  unpins = 0;
  framesAllocated = 0;
  framesFreed = 0;
  framesScrubbed = 0;
  hypercall(name, rc) {
    let byResult = this.hypercalls.get(name);
    if (!byResult) this.hypercalls.set(name, byResult = /* @__PURE__ */ new Map());
    bump(byResult, rc > 0 ? ">0" : resultName(rc));
  }
  typeTransition(from, to) {
    bump(this.typeTransitions, `${from} \u2192 ${to}`);
  }
  flush(kind, pcpus, path) {
    bump(this.flushPaths, path);
    const f = this.flushes.get(kind) ?? { requests: 0, pcpus: 0 };
    f.requests++;
    f.pcpus += pcpus;
    this.flushes.set(kind, f);
  }
  /** Total hypercalls made. */
  totalHypercalls() {
    let n = 0;
    for (const m of this.hypercalls.values()) for (const c of m.values()) n += c;
    return n;
  }
};

// hypervisor/common/flush.ts
var FLUSH_ORDER_MASK = 255;
var FLUSH_ORDER = (order) => order + 1;
var FLUSH_TLB = 256;
var FLUSH_TLB_GLOBAL = 512;
var FLUSH_VA_VALID = 2048;
var FLUSH_NO_ASSIST = 32768;
function flushKind(r) {
  const what2 = r.flags & FLUSH_ORDER_MASK ? "invlpg" : r.flags & FLUSH_TLB_GLOBAL ? "tlb-global" : "tlb";
  const remote = r.mask.some((c) => c !== r.initiator);
  return `${what2}${remote ? "" : "-local"}${r.flags & FLUSH_NO_ASSIST ? "+no-assist" : ""}`;
}
var TlbFlushClock = class {
  /** tlbflush_clock: starts at 1. Tests may set it. */
  time = 1;
  /** tlb_clk_enabled. */
  enabled = true;
  /** tlbflush_time[cpu]: the clock when that pCPU last flushed its whole TLB. */
  cpuTime;
  constructor(nrPcpus) {
    this.cpuTime = new Array(nrPcpus).fill(0);
  }
  /** tlbflush_current_time(): 0 when the clock is off. */
  get now() {
    return this.enabled ? this.time : 0;
  }
  set now(t2) {
    this.time = t2 >>> 0;
  }
  /**
   * pre_flush: ticks the clock before a full flush and returns the new time
   * (0 when off). Ticking first matters: an entry another pCPU changes
   * during the flush gets a stamp no older than the flush. Xen lets one pCPU
   * lead a wrap of the 32-bit clock; this model's runs are far too short to
   * wrap it, so a wrap is an error here rather than a path never tested.
   */
  preFlush() {
    if (!this.enabled) return 0;
    if (this.time === 4294967295) throw new Error("the TLB-flush clock would wrap (more than 4 billion flushes)");
    return ++this.time;
  }
  /** post_flush: the pCPU flushed at time t. */
  postFlush(cpu, t2) {
    if (this.enabled) this.cpuTime[cpu] = t2;
  }
  /** NEED_FLUSH: may a pCPU that flushed at cpuStamp still hold entries from pageStamp? */
  needFlush(cpuStamp, pageStamp) {
    const now = this.now;
    return now === 0 || cpuStamp <= pageStamp && pageStamp <= now;
  }
  /** tlbflush_filter: the pCPUs of mask that may still hold entries from pageStamp. */
  filter(mask3, pageStamp) {
    const out = [];
    for (const cpu of mask3) if (this.needFlush(this.cpuTime[cpu] ?? 0, pageStamp)) out.push(cpu);
    return out.sort((a, b) => a - b);
  }
};

// hypervisor/x86/public.ts
var HYPERVISOR = {
  mmu_update: 1,
  memory_op: 12,
  multicall: 13,
  update_va_mapping: 14,
  xen_version: 17,
  console_io: 18,
  vcpu_op: 24,
  mmuext_op: 26,
  sched_op: 29
};
var HYPERCALL_NAMES = Object.fromEntries(Object.entries(HYPERVISOR).map(([k, v]) => [v, k]));
var MMU_NORMAL_PT_UPDATE = 0;
var MMU_MACHPHYS_UPDATE = 1;
var MMU_PT_UPDATE_PRESERVE_AD = 2;
var MMU_PT_UPDATE_NO_TRANSLATE = 3;
var MMU_UPDATE_SIZE = 16;
var MMU_UPDATE_PREEMPTED = 2147483648;
var MMUEXT = {
  PIN_L1_TABLE: 0,
  PIN_L2_TABLE: 1,
  PIN_L3_TABLE: 2,
  PIN_L4_TABLE: 3,
  UNPIN_TABLE: 4,
  NEW_BASEPTR: 5,
  TLB_FLUSH_LOCAL: 6,
  INVLPG_LOCAL: 7,
  TLB_FLUSH_MULTI: 8,
  INVLPG_MULTI: 9,
  TLB_FLUSH_ALL: 10,
  INVLPG_ALL: 11,
  FLUSH_CACHE: 12,
  SET_LDT: 13,
  NEW_USER_BASEPTR: 15,
  CLEAR_PAGE: 16,
  COPY_PAGE: 17,
  FLUSH_CACHE_GLOBAL: 18,
  MARK_SUPER: 19,
  UNMARK_SUPER: 20
};
var MMUEXT_OP = { CMD: 0, ARG1: 8, ARG2: 16, SIZE: 24 };
var UVMF_TLB_FLUSH = 1n;
var UVMF_INVLPG = 2n;
var UVMF_FLUSHTYPE_MASK = 3n;
var UVMF_LOCAL = 0n;
var UVMF_ALL = 4n;
var XENMEM = {
  increase_reservation: 0,
  decrease_reservation: 1,
  maximum_ram_page: 2,
  current_reservation: 3,
  maximum_reservation: 4,
  populate_physmap: 6
};
var MEMOP_EXTENT_SHIFT = 6;
var MEMOP_CMD_MASK = (1 << MEMOP_EXTENT_SHIFT) - 1;
var XEN_MEMORY_RESERVATION = { EXTENT_START: 0, NR_EXTENTS: 8, EXTENT_ORDER: 16, MEM_FLAGS: 20, DOMID: 24, SIZE: 32 };
var MULTICALL_ENTRY = { OP: 0, RESULT: 8, ARGS: 16, SIZE: 64 };
var CONSOLEIO_write = 0;
var CONSOLEIO_read = 1;
var VCPUOP = { initialise: 0, up: 1, down: 2, is_up: 3 };
var VCPU_GUEST_CONTEXT = {
  FLAGS: 512,
  USER_REGS: 520,
  CTRLREG: 4984,
  SIZE: 5168
};
var CPU_USER_REGS = { RSI: 104, RDI: 112, RIP: 128, RFLAGS: 144, RSP: 152 };
var SCHEDOP = { yield: 0, block: 1, shutdown: 2 };
var SHUTDOWN = { poweroff: 0, reboot: 1, suspend: 2, crash: 3, watchdog: 4, soft_reset: 5 };
var SCHED_SHUTDOWN_SIZE = 4;
var XENVER_version = 0;
var XEN_VERSION = { major: 4, minor: 19 };
var DOMID_FIRST_RESERVED = 32752;
var DOMID_SELF = 32752;
var DOMID_IO = 32753;
var DOMID_XEN = 32754;
var HYPERVISOR_VIRT_START = 0xffff800000000000n;
var HYPERVISOR_VIRT_END = 0xffff880000000000n;
var MACH2PHYS_VIRT_START = 0xffff800000000000n;
var INVALID_M2P_ENTRY = 0xffffffffffffffffn;
var START_INFO = {
  MAGIC: 0,
  NR_PAGES: 32,
  SHARED_INFO: 40,
  FLAGS: 48,
  STORE_MFN: 56,
  STORE_EVTCHN: 64,
  CONSOLE: 72,
  PT_BASE: 88,
  NR_PT_FRAMES: 96,
  MFN_LIST: 104,
  MOD_START: 112,
  MOD_LEN: 120,
  CMD_LINE: 128,
  FIRST_P2M_PFN: 1152,
  NR_P2M_FRAMES: 1160,
  SIZE: 1168
};
var MAX_GUEST_CMDLINE = 1024;
var START_INFO_MAGIC = "xen-3.0-x86_64";
var XEN_ELFNOTE_VIRT_BASE = 3;

// hypervisor/common/memory.ts
var PAGE_SHIFT = 12;
var PAGE_SIZE = 1 << PAGE_SHIFT;
var maddr = (mfn, offset = 0) => (BigInt(mfn) << 12n) + BigInt(offset);

// hypervisor/x86/pte.ts
var _PAGE_PRESENT = 1;
var _PAGE_RW = 2;
var _PAGE_USER = 4;
var _PAGE_PWT = 8;
var _PAGE_PCD = 16;
var _PAGE_ACCESSED = 32;
var _PAGE_DIRTY = 64;
var _PAGE_PAT = 128;
var _PAGE_PSE = 128;
var _PAGE_GLOBAL = 256;
var _PAGE_AVAIL = 3584;
var _PAGE_AVAIL_HIGH = 2047 << 12;
var _PAGE_NX = 1 << 23;
var PAGE_CACHE_ATTRS = _PAGE_PAT | _PAGE_PCD | _PAGE_PWT;
var GUEST_FLAGS = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_AVAIL | _PAGE_AVAIL_HIGH | _PAGE_NX;
var BASE_DISALLOW_MASK = ~GUEST_FLAGS & 16777215;
var L1_DISALLOW_MASK = BASE_DISALLOW_MASK & ~_PAGE_GLOBAL;
var L2_DISALLOW_MASK = BASE_DISALLOW_MASK;
var L3_DISALLOW_MASK = BASE_DISALLOW_MASK;
var L4_DISALLOW_MASK = BASE_DISALLOW_MASK;
var DISALLOW_MASK = { 1: L1_DISALLOW_MASK, 2: L2_DISALLOW_MASK, 3: L3_DISALLOW_MASK, 4: L4_DISALLOW_MASK };
var FASTPATH_FLAG_WHITELIST = _PAGE_NX | _PAGE_AVAIL_HIGH | _PAGE_AVAIL | _PAGE_GLOBAL | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_USER;
var MFN_MASK = 0x000ffffffffff000n;
var pteFlags = (e) => Number(e >> 40n & 0xfff000n | e & 0xfffn);
var pteMfn = (e) => Number((e & MFN_MASK) >> 12n);
var makePte = (mfn, flags) => BigInt(mfn) << 12n | BigInt(flags & 4095) | BigInt(flags & 16773120) << 40n;
var isPresent = (e) => (e & 1n) === 1n;
function hasChanged(a, b, ignoredFlags) {
  const keep = ~BigInt(ignoredFlags & 4095) & ~(BigInt(ignoredFlags & 16773120) << 40n);
  return ((a ^ b) & BigInt.asUintN(64, keep)) !== 0n;
}
var INVALID_PTE_MFN = 1099511627775;
var L1_PAGETABLE_ENTRIES = 512;
var ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;
var ROOT_PAGETABLE_LAST_XEN_SLOT = 271;
var isGuestL4Slot = (slot) => slot < ROOT_PAGETABLE_FIRST_XEN_SLOT || slot > ROOT_PAGETABLE_LAST_XEN_SLOT;
var tableOffset = (va, level) => Number(va >> BigInt(12 + 9 * (level - 1)) & 0x1ffn);
var addrOk = (va) => va < 1n << 47n || va >= 0xffff880000000000n;

// hypervisor/x86/xen-area.ts
var GDT_VIRT_START = 0xffff820000000000n;
var XEN_RO = _PAGE_PRESENT | _PAGE_ACCESSED;
function buildXenArea(hv2) {
  const take = () => {
    const page = hv2.allocator.take();
    if (!page) throw new ShootdownError("the hypervisor's frames are too few even for its own M2P and GDT");
    page.owner = hv2.domXen;
    page.count = 1;
    page.allocated = true;
    hv2.domXen.pageList.add(page.mfn);
    hv2.domXen.totPages++;
    hv2.mem.write(maddr(page.mfn), new Uint8Array(PAGE_SIZE));
    return page.mfn;
  };
  const mapReadOnly = (va, leaves) => {
    let level = [...leaves];
    for (let lvl = 1; lvl <= 3; lvl++) {
      const tables = [];
      const first = tableOffset(va, lvl);
      level.forEach((mfn, i) => {
        const slot = first + i;
        if (lvl === 3 && slot >= 512) throw new ShootdownError("the M2P does not fit in one L4 slot");
        const t2 = Math.floor(slot / 512);
        if (tables[t2] === void 0) tables[t2] = take();
        hv2.mem.write64(maddr(tables[t2], slot % 512 * 8), makePte(mfn, XEN_RO));
      });
      level = tables;
      if (lvl === 3 && level.length !== 1) throw new ShootdownError("the M2P does not fit in one L4 slot");
    }
    return level[0];
  };
  const nrM2pFrames = Math.ceil(hv2.frames.endMfn * 8 / PAGE_SIZE);
  const m2pMfns = [];
  const invalid = new Uint8Array(PAGE_SIZE).fill(255);
  for (let i = 0; i < nrM2pFrames; i++) {
    const mfn = take();
    hv2.mem.write(maddr(mfn), invalid);
    m2pMfns.push(mfn);
  }
  const m2pL3 = mapReadOnly(MACH2PHYS_VIRT_START, m2pMfns);
  const gdtMfn = take();
  GDT_DESCRIPTORS.forEach((d, i) => hv2.mem.write64(maddr(gdtMfn, 8 * i), d));
  const gdtL3 = mapReadOnly(GDT_VIRT_START, [gdtMfn]);
  const l4Slots = [];
  for (let slot = ROOT_PAGETABLE_FIRST_XEN_SLOT; slot <= ROOT_PAGETABLE_LAST_XEN_SLOT; slot++) {
    l4Slots.push(slot === tableOffset(MACH2PHYS_VIRT_START, 4) ? makePte(m2pL3, XEN_RO) : slot === tableOffset(GDT_VIRT_START, 4) ? makePte(gdtL3, XEN_RO) : 0n);
  }
  return {
    l4Slots,
    m2pMfns,
    gdtMfn,
    m2pEntryMaddr: (mfn) => {
      const frame = m2pMfns[Math.floor(mfn / 512)];
      if (frame === void 0 || mfn < 0) throw new Error(`MFN 0x${mfn.toString(16)} has no M2P entry`);
      return maddr(frame, mfn % 512 * 8);
    }
  };
}

// hypervisor/x86/traps.ts
var PFEC_WRITE = 2;
var PFEC_USER = 4;
var PFEC_INSN_FETCH = 16;
var L_IRQ_OFF = { what: "spurious_page_fault: disable interrupts and start the walk" };
var L_IRQ_ON = { what: "spurious_page_fault: the walk is over, enable interrupts" };
var L_READ = [1, 2, 3, 4].map((l) => ({ what: `__page_fault_type: read the L${l} entry` }));
function* spuriousPageFault(c, va, errorCode, cr3Mfn) {
  const hv2 = c.hv;
  const pcpu = hv2.pcpus[c.cpu];
  yield L_IRQ_OFF;
  pcpu.irqEnabled = false;
  hv2.timeline?.emit({ kind: "irq-off", cpu: c.cpu });
  hv2.sanitizer.beginWalk(c.cpu, va);
  const root = hv2.frames.lookup(cr3Mfn);
  if (root) hv2.sanitizer.read(c.cpu, root, "L4");
  hv2.timeline?.emit({ kind: "walk-begin", cpu: c.cpu, va });
  const verdict = yield* pageFaultType(c, va, errorCode, cr3Mfn);
  yield L_IRQ_ON;
  hv2.sanitizer.endWalk(c.cpu);
  hv2.timeline?.emit({ kind: "walk-end", cpu: c.cpu, verdict });
  pcpu.irqEnabled = true;
  hv2.timeline?.emit({ kind: "irq-on", cpu: c.cpu });
  return verdict;
}
function* pageFaultType(c, va, errorCode, cr3Mfn) {
  const hv2 = c.hv;
  const required = _PAGE_PRESENT | (errorCode & PFEC_WRITE ? _PAGE_RW : 0) | (errorCode & PFEC_USER ? _PAGE_USER : 0);
  const disallowed = errorCode & PFEC_INSN_FETCH ? _PAGE_NX : 0;
  let mfn = cr3Mfn;
  for (let level = 4; level >= 1; level--) {
    yield L_READ[level - 1];
    const page = hv2.frames.lookup(mfn);
    if (!page) return "real";
    const entry = hv2.mem.read64(maddr(mfn) + BigInt(tableOffset(va, level) * 8));
    hv2.sanitizer.read(c.cpu, page, `L${level}`);
    if (hv2.timeline?.on) hv2.timeline.emit({ kind: "walk-read", cpu: c.cpu, level, mfn, entry });
    const flags = pteFlags(entry);
    if ((flags & required) !== required || flags & disallowed) return "real";
    if (level > 1 && level < 4 && flags & _PAGE_PSE) return "spurious";
    mfn = pteMfn(entry);
    const next = level > 1 ? hv2.frames.lookup(mfn) : void 0;
    if (next) hv2.sanitizer.read(c.cpu, next, `L${level - 1}`);
  }
  return "spurious";
}

// hypervisor/x86/guest-access.ts
var L_WALK = { what: "guest access: read a guest page-table entry" };
var L_COPY_IN = { what: "copy_from_guest: read guest memory" };
var L_COPY_OUT = { what: "copy_to_guest: write guest memory" };
function accessOk(va, size) {
  if (size === 0n) return addrOk(va);
  const last = va + size - 1n;
  return last < 1n << 64n && addrOk(va) && addrOk(last);
}
var canonical = (va) => va < 1n << 47n || va >= 0xffff800000000000n;
function* guestTranslate(c, va, write) {
  const pa = yield* softwareWalk(c, va, write);
  if (pa !== void 0 || !c.vcpu.guestTable || !canonical(va)) return pa;
  if ((yield* spuriousPageFault(c, va, write ? PFEC_WRITE : 0, c.vcpu.guestTable)) !== "spurious") return void 0;
  return yield* softwareWalk(c, va, write);
}
function* softwareWalk(c, va, write) {
  let mfn = c.vcpu.guestTable;
  if (!mfn || !canonical(va)) return void 0;
  for (let level = 4; level >= 1; level--) {
    yield L_WALK;
    if (!c.hv.frames.valid(mfn)) return void 0;
    const e = c.hv.mem.read64(maddr(mfn, tableOffset(va, level) * 8));
    if (!isPresent(e) || write && !(e & BigInt(_PAGE_RW))) return void 0;
    mfn = pteMfn(e);
  }
  if (!c.hv.frames.valid(mfn)) return void 0;
  return maddr(mfn, Number(va & 0xfffn));
}
function* copyFromGuest(c, va, length) {
  if (!accessOk(va, BigInt(length))) return void 0;
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const at = va + BigInt(done);
    const pa = yield* guestTranslate(c, at, false);
    if (pa === void 0) return void 0;
    const n = Math.min(length - done, PAGE_SIZE - Number(at & 0xfffn));
    yield L_COPY_IN;
    out.set(c.hv.mem.read(pa, n), done);
    done += n;
  }
  return out;
}
function* copyToGuest(c, va, bytes) {
  if (!accessOk(va, BigInt(bytes.length))) return false;
  for (let done = 0; done < bytes.length; ) {
    const at = va + BigInt(done);
    const pa = yield* guestTranslate(c, at, true);
    if (pa === void 0) return false;
    const n = Math.min(bytes.length - done, PAGE_SIZE - Number(at & 0xfffn));
    yield L_COPY_OUT;
    c.hv.mem.write(pa, bytes.subarray(done, done + n));
    done += n;
  }
  return true;
}
function* readGuestU64(c, va) {
  const b = yield* copyFromGuest(c, va, 8);
  return b && new DataView(b.buffer).getBigUint64(0, true);
}
function* writeGuestUint(c, va, value, width = 8) {
  const b = new Uint8Array(width);
  const v = new DataView(b.buffer);
  if (width === 8) v.setBigUint64(0, BigInt.asUintN(64, value), true);
  else v.setUint32(0, Number(BigInt.asUintN(32, value)), true);
  return yield* copyToGuest(c, va, b);
}

// hypervisor/common/routine.ts
var MAX_ROUTINE_STEPS = 5e7;
function runRoutine(routine, maxSteps = MAX_ROUTINE_STEPS) {
  let steps = 0;
  for (; ; ) {
    const r = routine.next();
    if (r.done) return { result: r.value, steps };
    if (++steps > maxSteps) throw new Error(`hypervisor routine did not finish within ${maxSteps} steps; last step: ${r.value.what}`);
  }
}
function finish(routine, maxSteps = MAX_ROUTINE_STEPS) {
  return runRoutine(routine, maxSteps).result;
}

// hypervisor/common/smp.ts
function makePcpus(n) {
  return Array.from({ length: n }, (_, cpu) => ({ cpu, irqEnabled: true, ipiFrom: void 0 }));
}
function interruptDeliverable(p) {
  return p.ipiFrom !== void 0 && p.irqEnabled;
}
function* withInterrupts(p, routine, handler) {
  for (; ; ) {
    while (interruptDeliverable(p)) yield* handler();
    const n = routine.next();
    if (n.done) return n.value;
    yield n.value;
  }
}

// hypervisor/x86/flush.ts
var L_FLUSH = { what: "flush_area_mask: flush the local TLB and decide the path" };
var L_L0 = { what: "hypervisor_flush_tlb: HVMOP_flush_tlbs to L0 (assisted flush)" };
var L_LOCK = { what: "flush_area_mask: take flush_lock" };
var L_WAIT_LOCK = { what: "flush_area_mask: wait for flush_lock", wait: true };
var L_SEND = { what: "flush_area_mask: send INVALIDATE_TLB_VECTOR to the targets" };
var L_WAIT_ACKS = { what: "flush_area_mask: wait until flush_cpumask is empty", wait: true };
var L_UNLOCK = { what: "flush_area_mask: release flush_lock" };
var L_INTERRUPT = { what: "invalidate_interrupt: take the flush IPI" };
var L_ACK = { what: "invalidate_interrupt: flush and clear this pCPU's bit in flush_cpumask" };
var ASSISTABLE = FLUSH_TLB | FLUSH_TLB_GLOBAL | FLUSH_VA_VALID | FLUSH_ORDER_MASK;
var emptyIpiFlushState = () => ({ lock: void 0, cpumask: /* @__PURE__ */ new Set(), va: void 0, flags: 0 });
var what = (va, flags) => flags & FLUSH_ORDER_MASK && va !== void 0 ? "invlpg" : flags & FLUSH_TLB_GLOBAL ? "tlb-global" : "tlb";
function flushAreaLocal(hv2, cpu, va, flags) {
  const w = what(va, flags);
  if (w === "invlpg") {
    hv2.callbacks.flushLocal?.(cpu, va, flags);
  } else {
    const t2 = hv2.clock.preFlush();
    hv2.callbacks.flushLocal?.(cpu, void 0, flags);
    hv2.clock.postFlush(cpu, t2);
  }
  hv2.timeline?.emit({ kind: "local-flush", cpu, what: w });
}
function* flushMask(c, mask3, va, flags, reason, filtered = 0) {
  const hv2 = c.hv;
  if (!hv2.forceIpi) flags &= ~FLUSH_NO_ASSIST;
  const targets = [...new Set(mask3)].sort((a, b) => a - b);
  if (!targets.length) return;
  yield L_FLUSH;
  const request = { initiator: c.cpu, mask: targets, va, flags, reason };
  hv2.callbacks.flush?.(request);
  if (targets.includes(c.cpu)) flushAreaLocal(hv2, c.cpu, va, flags);
  const others = targets.filter((t2) => t2 !== c.cpu);
  const path = !others.length ? "local" : hv2.nested && !(flags & ~ASSISTABLE) ? "assisted" : "ipi";
  hv2.stats.flush(flushKind(request), targets.length, path);
  hv2.timeline?.emit({ kind: "flush", cpu: c.cpu, path, targets, what: what(va, flags), filtered, reason });
  if (path === "local") return;
  if (!hv2.pcpus[c.cpu].irqEnabled) throw new Error(`flush_area_mask: a remote flush from pCPU ${c.cpu} with interrupts disabled`);
  hv2.lastFlushPath[c.cpu] = path;
  if (path === "assisted") {
    yield L_L0;
    hv2.callbacks.l0FlushTlbs?.(c.cpu);
    hv2.timeline?.emit({ kind: "l0-flush", cpu: c.cpu });
    return;
  }
  const s = hv2.ipiFlush;
  for (let waiting = false; ; waiting = true) {
    yield waiting ? L_WAIT_LOCK : L_LOCK;
    if (s.lock === void 0) break;
  }
  s.lock = c.cpu;
  yield L_SEND;
  for (const t2 of others) s.cpumask.add(t2);
  s.va = va;
  s.flags = flags;
  for (const t2 of others) {
    hv2.pcpus[t2].ipiFrom = c.cpu;
    hv2.stats.ipisSent++;
    hv2.timeline?.emit({ kind: "ipi-send", cpu: c.cpu, target: t2, vector: "INVALIDATE_TLB_VECTOR" });
  }
  for (; ; ) {
    if (!hv2.engineDriven) {
      for (const t2 of others) if (interruptDeliverable(hv2.pcpus[t2])) finish(invalidateInterrupt(hv2, t2));
    }
    if (!s.cpumask.size) break;
    yield L_WAIT_ACKS;
  }
  yield L_UNLOCK;
  s.lock = void 0;
}
function* invalidateInterrupt(hv2, cpu) {
  const p = hv2.pcpus[cpu];
  yield L_INTERRUPT;
  const from = p.ipiFrom;
  p.ipiFrom = void 0;
  hv2.timeline?.emit({ kind: "ipi-take", cpu, from: from ?? -1, vector: "INVALIDATE_TLB_VECTOR" });
  yield L_ACK;
  const s = hv2.ipiFlush;
  if (s.cpumask.has(cpu)) {
    flushAreaLocal(hv2, cpu, s.va, s.flags);
    s.cpumask.delete(cpu);
  }
}
function flushLocal(c, va, reason) {
  return flushMask(c, [c.cpu], va, va === void 0 ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}
function flushTlbMask(c, mask3, va, reason) {
  return flushMask(c, mask3, va, va === void 0 ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}
function* filteredFlush(c, mask3, stamp, flags, reason) {
  const all = [...mask3];
  const need = c.hv.clock.filter(all, stamp);
  c.hv.stats.pcpusSpared += all.length - need.length;
  if (need.length) yield* flushMask(c, need, void 0, flags, reason, all.length - need.length);
}

// hypervisor/x86/page-table.ts
var L_READ_ENTRY = { what: "read a page-table entry" };
var L_XEN_SLOTS = { what: "init_xen_l4_slots: write the hypervisor's L4 slots" };
var L_LINEAR_ENTRIES = { what: "inc_linear_entries" };
var L_LINEAR_USES = { what: "inc_linear_uses" };
var L_LINEAR_TYPE = { what: "get_lN_linear_pagetable: take a type reference" };
function* readEntry(c, mfn, index) {
  yield L_READ_ENTRY;
  return c.hv.mem.read64(maddr(mfn, index * 8));
}
function* getPageFromL1e(c, l1e, l1eOwner, pgOwner) {
  const flags = pteFlags(l1e);
  if (flags & DISALLOW_MASK[1]) return -EINVAL;
  const mfn = pteMfn(l1e);
  const page = c.hv.frames.lookup(mfn);
  if (!page) return mfn === INVALID_PTE_MFN ? -EINVAL : -EPERM;
  const realOwner = yield* getPageOwnerAndReference(c, page);
  if (realOwner !== pgOwner || pgOwner !== l1eOwner) {
    if (realOwner) yield* putPage(c, page);
    return -EBUSY;
  }
  if (flags & _PAGE_RW && (yield* getPageType(c, page, PGT.writable)) !== 0) {
    yield* putPage(c, page);
    return -EBUSY;
  }
  return 0;
}
function* putPageFromL1e(c, l1e) {
  if (!isPresent(l1e)) return;
  const page = c.hv.frames.lookup(pteMfn(l1e));
  if (!page) return;
  if (pteFlags(l1e) & _PAGE_RW) yield* putPageAndType(c, page);
  else yield* putPage(c, page);
}
function* getPageFromUpperEntry(c, level, e, tableMfn, d) {
  if (pteFlags(e) & DISALLOW_MASK[level]) return -EINVAL;
  let rc = yield* getPageAndTypeFromMfn(c, pteMfn(e), level - 1, d);
  if (rc === -EINVAL && (yield* getLinearPagetable(c, level, e, tableMfn, d))) rc = 0;
  return rc;
}
function* getLinearPagetable(c, level, pde, pdeMfn, d) {
  if (pteFlags(pde) & _PAGE_RW) return false;
  const mfn = pteMfn(pde);
  if (mfn === pdeMfn) return true;
  const ptpg = c.hv.frames.page(pdeMfn);
  if (ptpg.owner !== d) return false;
  const page = yield* getPageFromMfn(c, mfn, d);
  if (!page) return false;
  yield L_LINEAR_ENTRIES;
  if (ptpg.linearPtCount < 0) {
    yield* putPage(c, page);
    return false;
  }
  ptpg.linearPtCount++;
  yield L_LINEAR_USES;
  if (page.linearPtCount > 0) {
    ptpg.linearPtCount--;
    yield* putPage(c, page);
    return false;
  }
  page.linearPtCount--;
  yield L_LINEAR_TYPE;
  if (page.typeCount >= PGT_COUNT_MAX || page.type !== level || !page.validated) {
    page.linearPtCount++;
    ptpg.linearPtCount--;
    yield* putPage(c, page);
    return false;
  }
  page.typeCount++;
  return true;
}
function* putPageFromUpperEntry(c, e, tableMfn) {
  if (!isPresent(e)) return;
  const mfn = pteMfn(e);
  if (mfn === tableMfn) return;
  const page = c.hv.frames.page(mfn);
  yield* putPageType(c, page, c.hv.frames.page(tableMfn));
  yield* putPage(c, page);
}
var isGuestSlot = (level, i) => level !== 4 || isGuestL4Slot(i);
function* promoteTable(c, page, level) {
  const d = page.owner;
  let rc = 0;
  let i = 0;
  for (; i < L1_PAGETABLE_ENTRIES; i++) {
    if (!isGuestSlot(level, i)) continue;
    const e = yield* readEntry(c, page.mfn, i);
    if (!isPresent(e)) continue;
    rc = level === 1 ? yield* getPageFromL1e(c, e, d, d) : yield* getPageFromUpperEntry(c, level, e, page.mfn, d);
    if (rc !== 0) break;
  }
  if (rc !== 0) {
    while (i-- > 0) {
      if (!isGuestSlot(level, i)) continue;
      const e = yield* readEntry(c, page.mfn, i);
      if (level === 1) yield* putPageFromL1e(c, e);
      else yield* putPageFromUpperEntry(c, e, page.mfn);
    }
    return rc;
  }
  if (level === 4) {
    yield L_XEN_SLOTS;
    c.hv.xenArea.l4Slots.forEach((e, k) => c.hv.mem.write64(maddr(page.mfn, (ROOT_PAGETABLE_FIRST_XEN_SLOT + k) * 8), e));
  }
  return 0;
}
function* demoteTable(c, page, level) {
  if (level === 1) {
    for (let i = 0; i < L1_PAGETABLE_ENTRIES; i++) yield* putPageFromL1e(c, yield* readEntry(c, page.mfn, i));
    return;
  }
  for (let i = L1_PAGETABLE_ENTRIES - 1; i >= 0; i--) {
    if (!isGuestSlot(level, i)) continue;
    yield* putPageFromUpperEntry(c, yield* readEntry(c, page.mfn, i), page.mfn);
  }
}

// hypervisor/x86/page-type.ts
var L_GET_TYPE = { what: "_get_page_type: take a type reference" };
var L_WAIT_VALIDATE = { what: "_get_page_type: wait for another pCPU's validation", wait: true };
var L_VALIDATED = { what: "_get_page_type: mark the frame validated" };
var L_PUT_TYPE = { what: "_put_page_type: drop a type reference" };
var L_WAIT_UNLOCK = { what: "_put_page_type: wait for page_unlock", wait: true };
var L_PUT_FINAL = { what: "_put_final_page_type: drop the last type reference" };
var L_VALIDATE_DONE = { what: "validate_page: record the result" };
var L_LOCK2 = { what: "page_lock: take the lock" };
var L_WAIT_LOCK2 = { what: "page_lock: wait for the lock", wait: true };
var L_UNLOCK2 = { what: "page_unlock: release the lock" };
var L_LINEAR = { what: "dec_linear_uses/entries" };
var typeName = (t2) => PAGE_TYPE_NAMES[t2];
function* getPageType(c, page, type) {
  let oldType;
  for (; ; ) {
    yield L_GET_TYPE;
    if (page.typeCount + 1 > PGT_COUNT_MAX) return -EINVAL;
    if (page.typeCount === 0) {
      oldType = page.type;
      if (page.type !== type) {
        page.type = type;
        page.validated = false;
      }
      page.typeCount = 1;
      break;
    }
    if (page.type !== type) return -EINVAL;
    if (page.validated) {
      page.typeCount++;
      return 0;
    }
    const seenCount = page.typeCount;
    while (page.type === type && page.typeCount === seenCount && !page.validated) yield L_WAIT_VALIDATE;
  }
  if (page.validated) return 0;
  if (oldType !== type) {
    c.hv.stats.typeTransition(typeName(oldType), typeName(type));
    c.hv.callbacks.frameEvent?.({ kind: "retype", cpu: c.cpu, mfn: page.mfn, from: typeName(oldType), to: typeName(type) });
    const owner = page.owner;
    if (owner) yield* filteredFlush(c, owner.dirtyCpumask, page.tlbflushTimestamp, isPageTableType(oldType) ? FLUSH_TLB | FLUSH_NO_ASSIST : FLUSH_TLB, "_get_page_type");
  }
  if (!isPageTableType(type)) {
    yield L_VALIDATED;
    c.hv.sanitizer.retyped(c.cpu, page, typeName(oldType), typeName(type));
    page.validated = true;
    return 0;
  }
  page.linearPtCount = 0;
  return yield* validatePage(c, page, type, oldType);
}
function* validatePage(c, page, type, oldType) {
  const rc = yield* promoteTable(c, page, type);
  yield L_VALIDATE_DONE;
  if (rc === 0) {
    c.hv.sanitizer.retyped(c.cpu, page, typeName(oldType), typeName(type));
    page.validated = true;
  } else {
    c.hv.stats.typeTransition(typeName(type), typeName(PGT.none));
    page.type = PGT.none;
    page.typeCount = 0;
    page.validated = false;
  }
  return rc;
}
function* putPageType(c, page, ptpg) {
  for (let waiting = false; ; ) {
    yield waiting ? L_WAIT_UNLOCK : L_PUT_TYPE;
    if (page.typeCount <= 0) throw new Error(`_put_page_type on MFN 0x${page.mfn.toString(16)} with no type references`);
    if (!page.validated) throw new Error(`_put_page_type on MFN 0x${page.mfn.toString(16)}, which is not validated`);
    const next = page.typeCount - 1;
    if (next === 0) {
      if (page.locked) throw new Error(`the last type reference of locked MFN 0x${page.mfn.toString(16)} dropped`);
      if (isPageTableType(page.type)) {
        page.validated = false;
        return yield* putFinalPageType(c, page, page.type, ptpg);
      }
      if (!ptpg || ptpg.type !== page.type) page.tlbflushTimestamp = c.hv.clock.now;
      page.typeCount = 0;
      if (ptpg && ptpg.type === page.type) yield* decLinear(page, ptpg);
      return 0;
    }
    if (next === 1 && page.locked) {
      waiting = true;
      continue;
    }
    page.typeCount = next;
    if (ptpg && ptpg.type === page.type) yield* decLinear(page, ptpg);
    return 0;
  }
}
function* putFinalPageType(c, page, type, ptpg) {
  yield* demoteTable(c, page, type);
  if (ptpg && ptpg.type === type) yield* decLinear(page, ptpg);
  yield L_PUT_FINAL;
  page.tlbflushTimestamp = c.hv.clock.now;
  page.typeCount--;
  return 0;
}
function* decLinear(page, ptpg) {
  yield L_LINEAR;
  page.linearPtCount++;
  ptpg.linearPtCount--;
}
function* getPageTypeOk(c, page, type) {
  return (yield* getPageType(c, page, type)) === 0;
}
function* getPageAndTypeFromMfn(c, mfn, type, d) {
  const page = yield* getPageFromMfn(c, mfn, d);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, type);
  if (rc !== 0) yield* putPage(c, page);
  return rc;
}
function* pageLock(c, page) {
  for (let waiting = false; ; waiting = true) {
    yield waiting ? L_WAIT_LOCK2 : L_LOCK2;
    if (page.locked) continue;
    if (!page.validated || page.typeCount === 0 || page.typeCount + 1 > PGT_COUNT_MAX) return false;
    page.locked = true;
    page.lockedBy = c.cpu;
    page.typeCount++;
    return true;
  }
}
function* pageUnlock(c, page) {
  yield L_UNLOCK2;
  if (!page.locked || page.lockedBy !== c.cpu) throw new Error(`page_unlock of MFN 0x${page.mfn.toString(16)}, which pCPU ${c.cpu} does not hold`);
  if (page.typeCount < 2) throw new Error(`page_unlock would drop the last type reference of MFN 0x${page.mfn.toString(16)}`);
  page.locked = false;
  page.lockedBy = -1;
  page.typeCount--;
}

// hypervisor/x86/page-ref.ts
var L_GET_REF = { what: "page_get_owner_and_reference: take a general reference" };
var L_PUT_REF = { what: "put_page: drop a general reference" };
var L_ALLOC = { what: "alloc_heap_pages: take a free frame" };
var L_ASSIGN = { what: "assign_pages: give the frame to its domain" };
var L_FREE = { what: "free_domheap_pages: take the frame from its owner" };
var L_SCRUB = { what: "scrub_one_page: zero the frame" };
var L_FREE_LIST = { what: "free_heap_pages: put the frame on the free list" };
var L_ALLOC_REF = { what: "put_page_alloc_ref: drop the allocation reference" };
var ZERO_PAGE = new Uint8Array(PAGE_SIZE);
function* getPageOwnerAndReference(_c, page) {
  yield L_GET_REF;
  if (page.count === 0 || page.count >= PGC_COUNT_MAX) return null;
  page.count++;
  return page.owner;
}
function* getPage(c, page, d) {
  const owner = yield* getPageOwnerAndReference(c, page);
  if (owner === d) return true;
  if (owner) yield* putPage(c, page);
  return false;
}
function* getPageFromMfn(c, mfn, d) {
  const page = c.hv.frames.lookup(mfn);
  if (!page) return null;
  return (yield* getPage(c, page, d)) ? page : null;
}
function* putPage(c, page) {
  yield L_PUT_REF;
  if (page.count <= 0) throw new Error(`put_page on MFN 0x${page.mfn.toString(16)} with no references`);
  page.count--;
  if (page.count > 0) return;
  if (page.type === PGT.writable) {
    if (page.typeCount !== 0) throw new Error(`MFN 0x${page.mfn.toString(16)} freed with ${page.typeCount} writable references`);
    page.type = PGT.none;
    page.validated = false;
  }
  yield* freeDomheapPage(c, page);
}
function* putPageAndType(c, page) {
  yield* putPageType(c, page);
  yield* putPage(c, page);
}
function* putPageAllocRef(c, page) {
  yield L_ALLOC_REF;
  if (!page.allocated) return;
  page.allocated = false;
  yield* putPage(c, page);
}
function* allocDomheapPage(c, d, accept) {
  yield L_ALLOC;
  if (d.totPages + 1 > d.maxPages) return null;
  const page = c.hv.allocator.take(accept);
  if (!page) return null;
  const needFlush = page.needTlbflush;
  page.needTlbflush = false;
  c.hv.callbacks.frameEvent?.({ kind: "alloc", cpu: c.cpu, mfn: page.mfn, owner: d.domid });
  if (needFlush) yield* filteredFlush(c, allCpus(c), page.tlbflushTimestamp, FLUSH_TLB | FLUSH_NO_ASSIST, "filtered_flush_tlb_mask");
  if (page.needScrub) {
    yield L_SCRUB;
    c.hv.sanitizer.frameChanged(c.cpu, page, "scrubbed");
    c.hv.mem.write(maddr(page.mfn), ZERO_PAGE);
    page.needScrub = false;
    c.hv.stats.framesScrubbed++;
    c.hv.callbacks.frameEvent?.({ kind: "scrub", cpu: c.cpu, mfn: page.mfn });
  }
  yield L_ASSIGN;
  c.hv.sanitizer.frameChanged(c.cpu, page, `handed to d${d.domid}`);
  page.owner = d;
  page.count = 1;
  page.allocated = true;
  page.type = PGT.none;
  page.typeCount = 0;
  page.validated = false;
  page.pinned = false;
  page.linearPtCount = 0;
  d.pageList.add(page.mfn);
  d.totPages++;
  c.hv.stats.framesAllocated++;
  return page;
}
function allCpus(c) {
  return Array.from({ length: c.hv.nrPcpus }, (_, i) => i);
}
function* freeDomheapPage(c, page) {
  yield L_FREE;
  const owner = page.owner;
  if (owner) {
    owner.pageList.delete(page.mfn);
    owner.totPages--;
  }
  page.needTlbflush = owner !== null;
  if (page.needTlbflush) page.tlbflushTimestamp = c.hv.clock.now;
  page.needScrub = owner !== null;
  page.owner = null;
  page.allocated = false;
  c.hv.setGpfnFromMfn(page.mfn, INVALID_M2P_ENTRY);
  c.hv.callbacks.frameEvent?.({ kind: "free", cpu: c.cpu, mfn: page.mfn, owner: owner?.domid ?? -1 });
  yield L_FREE_LIST;
  c.hv.allocator.give(page);
  c.hv.stats.framesFreed++;
}

// hypervisor/x86/memory-op.ts
var L_PHYSMAP = { what: "guest_physmap_add_page: write the M2P entry" };
var UINT_MAX = 4294967295;
function* doMemoryOp(c, cmd, arg) {
  const op = Number(cmd & BigInt(MEMOP_CMD_MASK));
  const startExtent = cmd >> BigInt(MEMOP_EXTENT_SHIFT);
  switch (op) {
    case XENMEM.increase_reservation:
    case XENMEM.decrease_reservation:
    case XENMEM.populate_physmap:
      return yield* reservationOp(c, op, startExtent, arg);
    case XENMEM.maximum_ram_page:
      if (startExtent) return -EINVAL;
      return c.hv.frames.endMfn;
    case XENMEM.current_reservation:
    case XENMEM.maximum_reservation: {
      if (startExtent) return -EINVAL;
      const b = yield* copyFromGuest(c, arg, 2);
      if (!b) return -EFAULT;
      const d = c.hv.domainByAnyId(b[0] | b[1] << 8, c.d);
      if (!d) return -ESRCH;
      if (d !== c.d) return -EPERM;
      return op === XENMEM.current_reservation ? d.totPages : d.maxPages;
    }
    default:
      return -ENOSYS;
  }
}
function* reservationOp(c, op, startExtent, arg) {
  const start = Number(startExtent);
  const b = yield* copyFromGuest(c, arg, XEN_MEMORY_RESERVATION.SIZE);
  if (!b) return start;
  const v = new DataView(b.buffer);
  const list = v.getBigUint64(XEN_MEMORY_RESERVATION.EXTENT_START, true);
  const nrExtents = v.getBigUint64(XEN_MEMORY_RESERVATION.NR_EXTENTS, true);
  const order = v.getUint32(XEN_MEMORY_RESERVATION.EXTENT_ORDER, true);
  const memFlags = v.getUint32(XEN_MEMORY_RESERVATION.MEM_FLAGS, true);
  const domid = v.getUint16(XEN_MEMORY_RESERVATION.DOMID, true);
  if (nrExtents > BigInt(UINT_MAX >>> MEMOP_EXTENT_SHIFT) || startExtent >= nrExtents) return start;
  const d = c.hv.domainByAnyId(domid, c.d);
  if (!d) return start;
  const addressBits = memFlags & 255;
  if (addressBits !== 0 && addressBits <= 12) return start;
  if ((memFlags >>> 8 & 255) !== 0 && memFlags & 1 << 17) return start;
  if (d !== c.d) return start;
  if (order !== 0) return -EINVAL;
  const nr = Number(nrExtents);
  const listOk = accessOk(list + 8n * BigInt(start), 8n * BigInt(nr - start));
  let i = start;
  if (op === XENMEM.increase_reservation) {
    if (list !== 0n && !listOk) return start;
    for (; i < nr; i++) {
      const page = yield* allocDomheapPage(c, d);
      if (!page) break;
      if (list !== 0n && !(yield* writeGuestUint(c, list + 8n * BigInt(i), BigInt(page.mfn)))) break;
    }
  } else if (op === XENMEM.populate_physmap) {
    if (!listOk) return start;
    for (; i < nr; i++) {
      const gpfn = yield* readGuestU64(c, list + 8n * BigInt(i));
      if (gpfn === void 0) break;
      const page = yield* allocDomheapPage(c, d);
      if (!page) break;
      yield L_PHYSMAP;
      c.hv.setGpfnFromMfn(page.mfn, gpfn);
      if (!(yield* writeGuestUint(c, list + 8n * BigInt(i), BigInt(page.mfn)))) break;
    }
  } else {
    if (!listOk) return start;
    for (; i < nr; i++) {
      const gmfn = yield* readGuestU64(c, list + 8n * BigInt(i));
      if (gmfn === void 0) break;
      if ((yield* guestRemovePage(c, d, gmfn)) !== 0) break;
    }
  }
  return i;
}
function* guestRemovePage(c, d, gmfn) {
  const page = c.hv.frames.lookup(gmfn);
  if (!page) return -EINVAL;
  if (!(yield* getPage(c, page, d))) return -ENXIO;
  yield* putPageAllocRef(c, page);
  yield* putPage(c, page);
  return 0;
}

// hypervisor/x86/mod-entry.ts
var L_READ_OLD = { what: "mod_lN_entry: read the old entry" };
var L_UPDATE = { what: "UPDATE_ENTRY: write the new entry" };
var AD = BigInt(_PAGE_ACCESSED | _PAGE_DIRTY);
function* updateEntry(c, pa, value, preserveAd) {
  yield L_UPDATE;
  const current = c.hv.mem.read64(pa);
  c.hv.mem.write64(pa, preserveAd ? value | current & AD : value);
  return current;
}
function* modL1Entry(c, pa, nl1e, preserveAd, ptDom, pgDom) {
  yield L_READ_OLD;
  const ol1e = c.hv.mem.read64(pa);
  if (isPresent(nl1e)) {
    if (pteFlags(nl1e) & DISALLOW_MASK[1]) return -EINVAL;
    if (!hasChanged(ol1e, nl1e, FASTPATH_FLAG_WHITELIST)) {
      yield* updateEntry(c, pa, nl1e, preserveAd);
      return 0;
    }
    const rc = yield* getPageFromL1e(c, nl1e, ptDom, pgDom);
    if (rc !== 0) return rc;
  }
  const old = yield* updateEntry(c, pa, nl1e, preserveAd);
  yield* putPageFromL1e(c, old);
  return 0;
}
function* modUpperEntry(c, level, pa, ne, mfn, preserveAd, d) {
  const slot = Number((pa & 0xfffn) >> 3n);
  if (level === 4 && !isGuestL4Slot(slot)) return -EINVAL;
  yield L_READ_OLD;
  const oe = c.hv.mem.read64(pa);
  if (isPresent(ne)) {
    if (pteFlags(ne) & DISALLOW_MASK[level]) return -EINVAL;
    if (!hasChanged(oe, ne, FASTPATH_FLAG_WHITELIST)) {
      yield* updateEntry(c, pa, ne, preserveAd);
      return 0;
    }
    const rc = yield* getPageFromUpperEntry(c, level, ne, mfn, d);
    if (rc < 0) return rc;
  }
  const old = yield* updateEntry(c, pa, ne, preserveAd);
  yield* putPageFromUpperEntry(c, old, mfn);
  return 0;
}

// hypervisor/x86/mmu.ts
var L_WRITE_WRITABLE = { what: "mmu_update: write an entry of a writable frame" };
var L_M2P = { what: "set_gpfn_from_mfn: write an M2P entry" };
var L_PIN = { what: "mmuext_op: test and set PGT_pinned" };
var L_UNPIN = { what: "mmuext_op: test and clear PGT_pinned" };
var L_CLEAR = { what: "clear_domain_page" };
var L_COPY = { what: "copy_domain_page" };
var L_BASEPTR = { what: "new_guest_cr3: switch the vCPU's L4" };
var domIo = new Domain(DOMID_IO, 0, 0);
function getPgOwner(c, domid) {
  if (domid === c.d.domid) return void 0;
  if (domid === DOMID_IO) return domIo;
  if (domid === DOMID_XEN) return c.hv.domXen;
  return c.hv.domainByAnyId(domid, c.d);
}
function* doMmuUpdate(c, ureqs, countArg, pdone, foreigndom) {
  const d = c.d;
  let count = countArg;
  let done = 0;
  if (count === MMU_UPDATE_PREEMPTED && ureqs === 0n) return foreigndom | 0;
  if (count & MMU_UPDATE_PREEMPTED) {
    count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
    if (pdone !== 0n) {
      const b = yield* copyFromGuest(c, pdone, 4);
      if (b) done = new DataView(b.buffer).getUint32(0, true);
    }
  }
  if (!accessOk(ureqs, BigInt(count) * BigInt(MMU_UPDATE_SIZE))) return -EFAULT;
  let rc = 0;
  let i = 0;
  let ptOwner = d;
  const ptDom = foreigndom >>> 16;
  out: {
    if (ptDom !== 0) {
      const owner = c.hv.domains.get(ptDom - 1);
      if (!owner) {
        rc = -ESRCH;
        break out;
      }
      ptOwner = owner;
    }
    const pgOwner = getPgOwner(c, foreigndom & 65535);
    if (!pgOwner) {
      rc = -ESRCH;
      break out;
    }
    let flushLinearPt = false;
    for (; i < count; i++) {
      const req = yield* copyFromGuest(c, ureqs + BigInt(i * MMU_UPDATE_SIZE), MMU_UPDATE_SIZE);
      if (!req) {
        rc = -EFAULT;
        break;
      }
      const view = new DataView(req.buffer);
      const ptr = view.getBigUint64(0, true);
      const val = view.getBigUint64(8, true);
      const cmd = Number(ptr & 7n);
      switch (cmd) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_PRESERVE_AD:
        case MMU_PT_UPDATE_NO_TRANSLATE:
          if (ptOwner !== d || pgOwner !== d && pgOwner !== domIo) rc = -EPERM;
          else rc = yield* normalPtUpdate(c, ptr - BigInt(cmd), val, cmd === MMU_PT_UPDATE_PRESERVE_AD, ptOwner, pgOwner, () => flushLinearPt = true);
          break;
        case MMU_MACHPHYS_UPDATE:
          if (d !== ptOwner || pgOwner !== d && pgOwner !== domIo) {
            rc = -EPERM;
            break;
          }
          rc = yield* machphysUpdate(c, ptr, val, pgOwner);
          break;
        default:
          rc = -ENOSYS;
      }
      if (rc) break;
    }
    if (flushLinearPt) {
      const others = [...ptOwner.dirtyCpumask].filter((cpu) => cpu !== c.cpu);
      if (ptOwner.dirtyCpumask.has(c.cpu)) yield* flushLocal(c, void 0, "do_mmu_update");
      yield* flushTlbMask(c, others, void 0, "do_mmu_update");
    }
  }
  if (pdone !== 0n) yield* writeGuestUint(c, pdone, BigInt(done + i), 4);
  return rc;
}
function* normalPtUpdate(c, pa, val, preserveAd, ptOwner, pgOwner, linearChanged) {
  const page = yield* getPageFromMfn(c, pa >> 12n, ptOwner);
  if (!page) return -EINVAL;
  let rc = -EINVAL;
  if (yield* pageLock(c, page)) {
    const type = page.type;
    if (type === PGT.l1) {
      rc = yield* modL1Entry(c, pa, val, preserveAd, ptOwner, pgOwner);
    } else if (type === PGT.l2 || type === PGT.l3 || type === PGT.l4) {
      if (pgOwner === ptOwner) {
        rc = yield* modUpperEntry(c, type, pa, val, page.mfn, preserveAd, ptOwner);
        if (!rc) linearChanged();
      }
    } else if (type === PGT.writable) {
      yield L_WRITE_WRITABLE;
      c.hv.mem.write64(pa, val);
      rc = 0;
    }
    yield* pageUnlock(c, page);
  } else if (yield* getPageTypeOk(c, page, PGT.writable)) {
    yield L_WRITE_WRITABLE;
    c.hv.mem.write64(pa, val);
    yield* putPageType(c, page);
    rc = 0;
  }
  yield* putPage(c, page);
  return rc;
}
function* machphysUpdate(c, ptr, val, pgOwner) {
  const page = yield* getPageFromMfn(c, ptr >> 12n, pgOwner);
  if (!page) return -EINVAL;
  yield L_M2P;
  c.hv.setGpfnFromMfn(page.mfn, val);
  yield* putPage(c, page);
  return 0;
}
function* newGuestCr3(c, mfn) {
  const old = c.vcpu.guestTable;
  if (old === mfn) {
    c.hv.callbacks.baseptrChanged?.(c.vcpu);
    return 0;
  }
  const rc = yield* getPageAndTypeFromMfn(c, mfn, PGT.l4, c.d);
  if (rc) return rc;
  yield L_BASEPTR;
  c.vcpu.guestTable = mfn;
  c.hv.callbacks.baseptrChanged?.(c.vcpu);
  if (old) yield* putPageAndType(c, c.hv.frames.page(old));
  return 0;
}
function* vcpumaskToPcpumask(c, bmap) {
  const d = c.d;
  const mask3 = /* @__PURE__ */ new Set();
  for (let offs = 0; ; offs++) {
    const bias = offs * 64;
    if (bias >= d.vcpus.length) return [...mask3];
    const word2 = yield* readGuestU64(c, bmap + BigInt(offs * 8));
    if (word2 === void 0) return -EFAULT;
    for (let bit2 = 0; bit2 < 64; bit2++) {
      if (!(word2 >> BigInt(bit2) & 1n)) continue;
      const id = bias + bit2;
      if (id >= d.vcpus.length) return [...mask3];
      const cpu = d.vcpus[id].dirtyCpu;
      if (cpu !== void 0) mask3.add(cpu);
    }
  }
}
function* doMmuextOp(c, uops, countArg, pdone, foreigndom) {
  let count = countArg;
  let done = 0;
  if (count === MMU_UPDATE_PREEMPTED && uops === 0n) return foreigndom | 0;
  if (count & MMU_UPDATE_PREEMPTED) {
    count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
    if (pdone !== 0n) {
      const b = yield* copyFromGuest(c, pdone, 4);
      if (b) done = new DataView(b.buffer).getUint32(0, true);
    }
  }
  if (!accessOk(uops, BigInt(count) * BigInt(MMUEXT_OP.SIZE))) return -EFAULT;
  const pgOwner = getPgOwner(c, foreigndom & 65535);
  if (!pgOwner) return -ESRCH;
  if (pgOwner !== c.d) return -EPERM;
  let rc = 0;
  let i = 0;
  for (; i < count; i++) {
    const op = yield* copyFromGuest(c, uops + BigInt(i * MMUEXT_OP.SIZE), MMUEXT_OP.SIZE);
    if (!op) {
      rc = -EFAULT;
      break;
    }
    const v = new DataView(op.buffer);
    rc = yield* mmuextOne(c, v.getUint32(MMUEXT_OP.CMD, true), v.getBigUint64(MMUEXT_OP.ARG1, true), v.getBigUint64(MMUEXT_OP.ARG2, true), pgOwner);
    if (rc) break;
  }
  if (pdone !== 0n) yield* writeGuestUint(c, pdone, BigInt(done + i), 4);
  return rc;
}
function* mmuextOne(c, cmd, arg1, arg2, pgOwner) {
  switch (cmd) {
    case MMUEXT.PIN_L1_TABLE:
    case MMUEXT.PIN_L2_TABLE:
    case MMUEXT.PIN_L3_TABLE:
    case MMUEXT.PIN_L4_TABLE:
      return yield* pinTable(c, arg1, cmd - MMUEXT.PIN_L1_TABLE + 1, pgOwner);
    case MMUEXT.UNPIN_TABLE: {
      const page = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!page) return -EINVAL;
      yield L_UNPIN;
      if (!page.pinned) {
        yield* putPage(c, page);
        return -EINVAL;
      }
      page.pinned = false;
      c.hv.stats.unpins++;
      yield* putPageAndType(c, page);
      yield* putPage(c, page);
      return 0;
    }
    case MMUEXT.NEW_BASEPTR:
      return yield* newGuestCr3(c, Number(arg1));
    case MMUEXT.TLB_FLUSH_LOCAL:
      yield* flushLocal(c, void 0, "MMUEXT_TLB_FLUSH_LOCAL");
      return 0;
    case MMUEXT.INVLPG_LOCAL:
      if (arg1 < 1n << 47n || arg1 >= 0xffff800000000000n) yield* flushLocal(c, arg1, "MMUEXT_INVLPG_LOCAL");
      return 0;
    case MMUEXT.TLB_FLUSH_MULTI:
    case MMUEXT.INVLPG_MULTI: {
      const mask3 = yield* vcpumaskToPcpumask(c, arg2);
      if (!Array.isArray(mask3)) return -EINVAL;
      if (cmd === MMUEXT.TLB_FLUSH_MULTI) yield* flushTlbMask(c, mask3, void 0, "MMUEXT_TLB_FLUSH_MULTI");
      else if (addrOk(arg1)) yield* flushTlbMask(c, mask3, arg1, "MMUEXT_INVLPG_MULTI");
      return 0;
    }
    case MMUEXT.TLB_FLUSH_ALL:
      yield* flushTlbMask(c, c.d.dirtyCpumask, void 0, "MMUEXT_TLB_FLUSH_ALL");
      return 0;
    case MMUEXT.INVLPG_ALL:
      if (addrOk(arg1)) yield* flushTlbMask(c, c.d.dirtyCpumask, arg1, "MMUEXT_INVLPG_ALL");
      return 0;
    case MMUEXT.CLEAR_PAGE: {
      const page = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!page) return -EINVAL;
      if (!(yield* getPageTypeOk(c, page, PGT.writable))) {
        yield* putPage(c, page);
        return -EINVAL;
      }
      yield L_CLEAR;
      c.hv.mem.write(maddr(page.mfn), new Uint8Array(PAGE_SIZE));
      yield* putPageAndType(c, page);
      return 0;
    }
    case MMUEXT.COPY_PAGE: {
      const src = yield* getPageFromMfn(c, arg2, pgOwner);
      if (!src) return -EINVAL;
      const dst = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!dst || !(yield* getPageTypeOk(c, dst, PGT.writable))) {
        yield* putPage(c, src);
        if (dst) yield* putPage(c, dst);
        return -EINVAL;
      }
      yield L_COPY;
      c.hv.mem.write(maddr(dst.mfn), c.hv.mem.read(maddr(src.mfn), PAGE_SIZE));
      yield* putPageAndType(c, dst);
      yield* putPage(c, src);
      return 0;
    }
    case MMUEXT.FLUSH_CACHE:
    case MMUEXT.FLUSH_CACHE_GLOBAL:
      return -EACCES;
    case MMUEXT.MARK_SUPER:
    case MMUEXT.UNMARK_SUPER:
      return -EOPNOTSUPP;
    default:
      return -ENOSYS;
  }
}
function* pinTable(c, mfn, type, pgOwner) {
  const page = yield* getPageFromMfn(c, mfn, pgOwner);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, type);
  if (rc) {
    yield* putPage(c, page);
    return rc;
  }
  yield L_PIN;
  if (page.pinned) {
    yield* putPageAndType(c, page);
    return -EINVAL;
  }
  page.pinned = true;
  c.hv.stats.pins++;
  return 0;
}
function* mapGuestL1e(c, va) {
  if (!addrOk(va)) return void 0;
  let mfn = c.vcpu.guestTable;
  if (!mfn) return void 0;
  for (let level = 4; level >= 2; level--) {
    yield L_READ_GUEST_TABLE;
    const e = c.hv.mem.read64(maddr(mfn, tableOffset(va, level) * 8));
    const flags = pteFlags(e);
    if (!isPresent(e) || level === 2 && (flags & (_PAGE_PRESENT | _PAGE_PSE)) !== _PAGE_PRESENT) return void 0;
    mfn = pteMfn(e);
    if (!c.hv.frames.valid(mfn)) return void 0;
  }
  return mfn;
}
var L_READ_GUEST_TABLE = { what: "map_guest_l1e: read a guest page-table entry" };
function* doUpdateVaMapping(c, va, val, flags) {
  const d = c.d;
  const gl1mfn = yield* mapGuestL1e(c, va);
  if (gl1mfn === void 0) return -EINVAL;
  const gl1pg = yield* getPageFromMfn(c, gl1mfn, d);
  if (!gl1pg) return -EINVAL;
  if (!(yield* pageLock(c, gl1pg))) {
    yield* putPage(c, gl1pg);
    return -EINVAL;
  }
  let rc = -EINVAL;
  if (gl1pg.type === PGT.l1) rc = yield* modL1Entry(c, maddr(gl1mfn, tableOffset(va, 1) * 8), val, false, d, d);
  yield* pageUnlock(c, gl1pg);
  yield* putPage(c, gl1pg);
  if (rc) return rc;
  const kind = flags & UVMF_FLUSHTYPE_MASK;
  if (kind !== UVMF_TLB_FLUSH && kind !== UVMF_INVLPG) return 0;
  const flushVa = kind === UVMF_INVLPG ? va : void 0;
  const bmap = flags & ~UVMF_FLUSHTYPE_MASK;
  if (bmap === UVMF_LOCAL) {
    yield* flushLocal(c, flushVa, "do_update_va_mapping");
    return 0;
  }
  let mask3 = [];
  if (bmap === UVMF_ALL) mask3 = [...d.dirtyCpumask];
  else {
    const m = yield* vcpumaskToPcpumask(c, bmap);
    if (Array.isArray(m)) mask3 = m;
    else rc = m;
  }
  yield* flushTlbMask(c, mask3, flushVa, "do_update_va_mapping");
  return rc;
}

// hypervisor/x86/hypercall.ts
var u32 = (v) => Number((v ?? 0n) & 0xffffffffn);
function* hypercall(c, nr, args) {
  const rc = yield* dispatch(c, nr, args, false);
  c.hv.stats.hypercall(HYPERCALL_NAMES[Number(nr)] ?? "unknown", rc);
  return BigInt.asUintN(64, BigInt(rc));
}
function* dispatch(c, nr, a, inMulticall) {
  const [a0 = 0n, a1 = 0n, a2 = 0n, a3 = 0n] = a;
  switch (nr) {
    case BigInt(HYPERVISOR.mmu_update):
      return yield* doMmuUpdate(c, a0, u32(a1), a2, u32(a3));
    case BigInt(HYPERVISOR.mmuext_op):
      return yield* doMmuextOp(c, a0, u32(a1), a2, u32(a3));
    case BigInt(HYPERVISOR.update_va_mapping):
      return yield* doUpdateVaMapping(c, a0, a1, a2);
    case BigInt(HYPERVISOR.memory_op):
      return yield* doMemoryOp(c, a0, a1);
    case BigInt(HYPERVISOR.multicall):
      return yield* doMulticall(c, a0, u32(a1), inMulticall);
    case BigInt(HYPERVISOR.console_io):
      return yield* doConsoleIo(c, u32(a0), u32(a1), a2);
    case BigInt(HYPERVISOR.vcpu_op):
      return yield* doVcpuOp(c, u32(a0), u32(a1), a2);
    case BigInt(HYPERVISOR.sched_op):
      return yield* doSchedOp(c, u32(a0), a1);
    case BigInt(HYPERVISOR.xen_version):
      return u32(a0) === XENVER_version ? XEN_VERSION.major << 16 | XEN_VERSION.minor : -ENOSYS;
    default:
      return -ENOSYS;
  }
}
function* doMulticall(c, list, nr, inMulticall) {
  if (inMulticall) return -EINVAL;
  for (let i = 0; i < nr; i++) {
    const at = list + BigInt(i * MULTICALL_ENTRY.SIZE);
    const entry = yield* copyFromGuest(c, at, MULTICALL_ENTRY.SIZE);
    if (!entry) return -EFAULT;
    const v = new DataView(entry.buffer);
    const args = Array.from({ length: 6 }, (_, k) => v.getBigUint64(MULTICALL_ENTRY.ARGS + 8 * k, true));
    const op = v.getBigUint64(MULTICALL_ENTRY.OP, true);
    const rc = yield* dispatch(c, op, args, true);
    c.hv.stats.hypercall(`multicall:${HYPERCALL_NAMES[Number(op)] ?? "unknown"}`, rc);
    const result = new Uint8Array(8);
    new DataView(result.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(rc)), true);
    if (!(yield* copyToGuest(c, at + BigInt(MULTICALL_ENTRY.RESULT), result))) return -EFAULT;
  }
  return 0;
}
function* doConsoleIo(c, cmd, count, buffer) {
  if (cmd === CONSOLEIO_read) return 0;
  if (cmd !== CONSOLEIO_write) return -ENOSYS;
  for (let done = 0; done < count; ) {
    const n = Math.min(127, count - done);
    const bytes = yield* copyFromGuest(c, buffer + BigInt(done), n);
    if (!bytes) return -EFAULT;
    c.hv.callbacks.console?.(c.d, bytes);
    done += n;
  }
  return 0;
}
function* doVcpuOp(c, cmd, vcpuid, arg) {
  const d = c.d;
  const v = d.vcpus[vcpuid];
  if (!v) return -ENOENT;
  switch (cmd) {
    case VCPUOP.initialise: {
      const ctx = yield* copyFromGuest(c, arg, VCPU_GUEST_CONTEXT.SIZE);
      if (!ctx) return -EFAULT;
      if (v.initialised) return -EEXIST;
      return yield* setInfoGuest(c, v, new DataView(ctx.buffer));
    }
    case VCPUOP.up:
      if (!v.initialised) return -EINVAL;
      if (v.down) {
        v.down = false;
        c.hv.callbacks.vcpuUp?.(v);
      }
      return 0;
    case VCPUOP.down:
      if (!d.vcpus.some((o2) => o2 !== v && !o2.down)) {
        domainShutdown(c, SHUTDOWN.poweroff);
        return 0;
      }
      if (!v.down) {
        v.down = true;
        c.hv.callbacks.vcpuDown?.(v);
      }
      return 0;
    case VCPUOP.is_up:
      return v.down ? 0 : 1;
    default:
      return -ENOSYS;
  }
}
var canonical2 = (va) => va < 1n << 47n || va >= 0xffff800000000000n;
var RFLAGS_GUEST = 0x003d7fd5n;
function* setInfoGuest(c, v, ctx) {
  const reg = (off) => ctx.getBigUint64(VCPU_GUEST_CONTEXT.USER_REGS + off, true);
  const rip = reg(CPU_USER_REGS.RIP);
  const rsp = reg(CPU_USER_REGS.RSP);
  if (!canonical2(rip) || !canonical2(rsp)) return -EINVAL;
  const cr3 = ctx.getBigUint64(VCPU_GUEST_CONTEXT.CTRLREG + 3 * 8, true);
  const page = yield* getPageFromMfn(c, cr3 >> 12n, c.d);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, PGT.l4);
  if (rc) {
    yield* putPage(c, page);
    return rc;
  }
  v.guestTable = page.mfn;
  v.context = { rip, rsp, rdi: reg(CPU_USER_REGS.RDI), rsi: reg(CPU_USER_REGS.RSI), rflags: reg(CPU_USER_REGS.RFLAGS) & RFLAGS_GUEST | 2n, cr3: BigInt(page.mfn) << 12n };
  v.initialised = true;
  return 0;
}
function domainShutdown(c, reason) {
  c.d.shutdownReason = reason;
  c.hv.callbacks.shutdown?.(c.d, reason);
}
function* doSchedOp(c, cmd, arg) {
  switch (cmd) {
    case SCHEDOP.yield:
      c.hv.callbacks.yield?.(c.vcpu);
      return 0;
    case SCHEDOP.block:
      c.vcpu.blocked = true;
      c.hv.callbacks.block?.(c.vcpu);
      return 0;
    case SCHEDOP.shutdown: {
      const b = yield* copyFromGuest(c, arg, SCHED_SHUTDOWN_SIZE);
      if (!b) return -EFAULT;
      domainShutdown(c, b[0]);
      return 0;
    }
    default:
      return -ENOSYS;
  }
}

// hypervisor/common/sanitizer.ts
var hex11 = (v) => `0x${v.toString(16)}`;
var Sanitizer = class {
  constructor(step, flushPath, report) {
    this.step = step;
    this.flushPath = flushPath;
    this.report = report;
  }
  step;
  flushPath;
  report;
  walks = /* @__PURE__ */ new Map();
  /** Every violation found, in order. */
  violations = [];
  /** A walk that relies on the flush barrier begins on pCPU cpu. */
  beginWalk(cpu, va) {
    this.walks.set(cpu, { va, step: this.step(), frames: /* @__PURE__ */ new Map() });
  }
  /** The walk on pCPU cpu read an entry of this frame, or learned it as its next table, of type `as`. */
  read(cpu, page, as) {
    this.walks.get(cpu)?.frames.set(page.mfn, as);
  }
  endWalk(cpu) {
    this.walks.delete(cpu);
  }
  /** Is a walk running on pCPU cpu? */
  walking(cpu) {
    return this.walks.has(cpu);
  }
  /**
   * pCPU `actor` is about to change the frame as `change` says (it becomes
   * usable with another type, is scrubbed, or is handed out): a violation
   * for every other pCPU's running walk that read it.
   */
  frameChanged(actor, page, change) {
    if (!this.walks.size) return;
    for (const [walker, walk] of this.walks) {
      if (walker === actor) continue;
      const readAs = walk.frames.get(page.mfn);
      if (readAs === void 0) continue;
      const step = this.step();
      const flushPath = this.flushPath(actor);
      const message = `pCPU ${walker}'s page walk for VA ${hex11(walk.va)} (interrupts off since step ${walk.step}) read MFN ${hex11(page.mfn)} as ${readAs}; pCPU ${actor} ${change} while the walk still runs (its last remote flush went by ${flushPath})`;
      const v = { walker, actor, mfn: page.mfn, readAs, change, flushPath, walkStep: walk.step, step, va: walk.va, message };
      this.violations.push(v);
      this.report(v);
    }
  }
  /** A frame becomes usable as `to` after a retype from `from`: a change for walks that read it as anything else. */
  retyped(actor, page, from, to) {
    if (!this.walks.size) return;
    for (const walk of this.walks.values()) {
      const readAs = walk.frames.get(page.mfn);
      if (readAs !== void 0 && readAs !== to) {
        this.frameChanged(actor, page, `retyped it ${from} \u2192 ${to}`);
        return;
      }
    }
  }
};

// hypervisor/x86/hypervisor.ts
var Hypervisor = class {
  mem;
  frames;
  allocator;
  stats = new HvStats();
  clock;
  nrPcpus;
  callbacks;
  domains = /* @__PURE__ */ new Map();
  /** The owner of the hypervisor's own frames (dom_xen): the M2P, its tables and the GDT. */
  domXen = new Domain(DOMID_XEN, Number.MAX_SAFE_INTEGER, 0);
  /** The hypervisor's L4 slots, the M2P and the GDT. */
  xenArea;
  /** Each pCPU's interrupt flag and pending flush IPI. */
  pcpus;
  /** Runs under an L0 with the assisted flush (--nested). */
  nested;
  /** Honour FLUSH_NO_ASSIST (false: --no-force-ipi). */
  forceIpi;
  /** flush_lock and the request it guards. */
  ipiFlush = emptyIpiFlushState();
  /** The path of each pCPU's last remote flush, for the sanitizer's reports. */
  lastFlushPath;
  timeline;
  sanitizer;
  engineDriven;
  constructor(o2) {
    if (!Number.isSafeInteger(o2.firstMfn) || o2.firstMfn < 0 || !Number.isSafeInteger(o2.nrFrames) || o2.nrFrames <= 0) {
      throw new ShootdownError(`the hypervisor needs a non-empty range of machine frames (got first MFN ${o2.firstMfn}, ${o2.nrFrames} frames)`);
    }
    if (!Number.isInteger(o2.nrPcpus) || o2.nrPcpus < 1) throw new ShootdownError(`the hypervisor needs at least one pCPU (got ${o2.nrPcpus})`);
    this.mem = o2.memory;
    this.frames = new FrameTable(o2.firstMfn, o2.nrFrames);
    this.allocator = new FrameAllocator(this.frames, o2.seed ?? 0n);
    this.clock = new TlbFlushClock(o2.nrPcpus);
    this.nrPcpus = o2.nrPcpus;
    this.callbacks = o2.callbacks ?? {};
    this.nested = o2.nested ?? false;
    this.forceIpi = o2.forceIpi ?? true;
    this.clock.enabled = !this.nested;
    this.pcpus = makePcpus(o2.nrPcpus);
    this.lastFlushPath = new Array(o2.nrPcpus).fill("none");
    this.timeline = o2.timeline;
    this.engineDriven = o2.engineDriven ?? false;
    const step = o2.step ?? (() => 0);
    this.sanitizer = new Sanitizer(step, (cpu) => this.lastFlushPath[cpu] ?? "none", (v) => this.callbacks.violation?.(v));
    this.xenArea = buildXenArea(this);
  }
  /** Creates an empty domain (the builder fills it). */
  createDomain(domid, maxPages, nrVcpus) {
    if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_FIRST_RESERVED) throw new ShootdownError(`domain id ${domid} is outside 0..0x7fef`);
    if (this.domains.has(domid)) throw new ShootdownError(`domain ${domid} exists already`);
    if (!Number.isInteger(nrVcpus) || nrVcpus < 1) throw new ShootdownError(`a domain needs at least one vCPU (got ${nrVcpus})`);
    const d = new Domain(domid, maxPages, nrVcpus);
    this.domains.set(domid, d);
    return d;
  }
  /** rcu_lock_domain_by_any_id: DOMID_SELF names the caller. */
  domainByAnyId(domid, self) {
    return domid === DOMID_SELF ? self : this.domains.get(domid);
  }
  /** A Cpu for routines run on behalf of vcpu. */
  on(vcpu) {
    return { hv: this, cpu: vcpu.processor, vcpu, d: vcpu.domain };
  }
  /**
   * The hypercall entry: number and arguments as the guest left them in RAX
   * and RDI, RSI, RDX, R10, R8; the routine's result is the value for RAX
   * (a negative errno as its 64-bit two's complement).
   */
  hypercall(domain, vcpu, nr, args) {
    if (vcpu.domain !== domain) throw new Error(`vCPU ${vcpu.vcpuId} of d${vcpu.domain.domid} makes a hypercall for d${domain.domid}`);
    return hypercall(this.on(vcpu), nr, args);
  }
  /**
   * MOV to CR3 from the guest, emulated as MMUEXT_NEW_BASEPTR with the same
   * checks (new_guest_cr3): 0, or the negative errno for which the engine
   * injects #GP. The CR3 value is a machine address (xen_pfn_to_cr3).
   */
  newBaseptr(vcpu, cr3) {
    return newGuestCr3(this.on(vcpu), Number(cr3 >> 12n));
  }
  /** INVLPG from the guest, emulated as MMUEXT_INVLPG_LOCAL: a local flush of one page. */
  invlpg(vcpu, va) {
    return flushLocal(this.on(vcpu), va, "MMUEXT_INVLPG_LOCAL");
  }
  /** The M2P entry of a frame: its PFN in its owner, or ~0. */
  getGpfnFromMfn(mfn) {
    return this.mem.read64(this.xenArea.m2pEntryMaddr(mfn));
  }
  /** set_gpfn_from_mfn. */
  setGpfnFromMfn(mfn, pfn) {
    this.mem.write64(this.xenArea.m2pEntryMaddr(mfn), pfn);
  }
  /** The virtual address of a frame's M2P entry, as a guest sees it. */
  m2pEntryVa(mfn) {
    return MACH2PHYS_VIRT_START + 8n * BigInt(mfn);
  }
};

// hypervisor/x86/builder.ts
var PT_LOAD2 = 1;
var PT_NOTE = 4;
var MIB = 1n << 20n;
var PAGE = BigInt(PAGE_SIZE);
var hex12 = (v) => `0x${v.toString(16)}`;
var roundUp = (v, to) => (v + to - 1n) / to * to;
function virtBaseNote(elf, image) {
  for (const [i, s] of elf.segments.entries()) {
    if (s.type !== PT_NOTE) continue;
    if (s.offset + s.filesz > image.length) throw new LoadError(`program header ${i} (PT_NOTE) reaches past the end of the image`);
    const v = new DataView(image.buffer, image.byteOffset + s.offset, s.filesz);
    for (let at = 0; at + 12 <= s.filesz; ) {
      const namesz = v.getUint32(at, true);
      const descsz = v.getUint32(at + 4, true);
      const type = v.getUint32(at + 8, true);
      const nameAt = at + 12;
      const descAt = nameAt + roundUpN(namesz, 4);
      if (descAt + descsz > s.filesz) throw new LoadError(`program header ${i} (PT_NOTE): a note at offset ${hex12(at)} runs past the segment`);
      const name = new TextDecoder().decode(image.subarray(s.offset + nameAt, s.offset + nameAt + namesz)).replace(/\0+$/, "");
      if (name === "Xen" && type === XEN_ELFNOTE_VIRT_BASE) {
        if (descsz !== 8 && descsz !== 4) throw new LoadError(`the XEN_ELFNOTE_VIRT_BASE note has ${descsz} bytes of value; want 4 or 8`);
        return descsz === 8 ? v.getBigUint64(descAt, true) : BigInt(v.getUint32(descAt, true));
      }
      at = descAt + roundUpN(descsz, 4);
    }
  }
  return void 0;
}
var roundUpN = (v, to) => Math.ceil(v / to) * to;
function countTables(base2, end) {
  const span = (shift3) => Number((end - 1n >> shift3) - (base2 >> shift3) + 1n);
  return { l3: span(39n), l2: span(30n), l1: span(21n) };
}
var inHole = (start, end) => start < HYPERVISOR_VIRT_END && end > HYPERVISOR_VIRT_START;
var nonCanonical = (start, end) => start < 0xffff800000000000n && end > 1n << 47n;
function buildPvDomain(hv2, o2) {
  const d = o2.domain;
  let elf;
  try {
    elf = readElf(o2.image);
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (elf.arch !== "x86_64") throw new LoadError(`an ${elf.arch} image; a PV domain needs an x86-64 kernel (e_machine 62)`);
  const loads = elf.segments.map((s, i) => ({ ...s, i })).filter((s) => s.type === PT_LOAD2 && s.memsz > 0);
  if (!loads.length) throw new LoadError("the image has no PT_LOAD segment: it is not a PV kernel");
  for (const s of loads) {
    const end = s.vaddr + BigInt(s.memsz);
    const what2 = `program header ${s.i} (p_vaddr ${hex12(s.vaddr)}, p_memsz ${hex12(s.memsz)})`;
    if (end > 1n << 64n || nonCanonical(s.vaddr, end)) throw new LoadError(`${what2} is not in a canonical half of the address space`);
    if (inHole(s.vaddr, end)) throw new LoadError(`${what2} overlaps the hypervisor's range ${hex12(HYPERVISOR_VIRT_START)}\u2013${hex12(HYPERVISOR_VIRT_END - 1n)}; link the kernel elsewhere`);
    for (const t2 of loads) {
      if (t2.i <= s.i) continue;
      const tEnd = t2.vaddr + BigInt(t2.memsz);
      if (s.vaddr >> 12n <= tEnd - 1n >> 12n && t2.vaddr >> 12n <= end - 1n >> 12n) {
        throw new LoadError(`${what2} and program header ${t2.i} (p_vaddr ${hex12(t2.vaddr)}) share a page; each page of a PV kernel comes from one segment`);
      }
    }
  }
  const lowest = loads.reduce((m, s) => s.vaddr < m ? s.vaddr : m, loads[0].vaddr);
  const note = virtBaseNote(elf, o2.image);
  const virtBase = note ?? lowest / (4n * MIB) * (4n * MIB);
  if (note !== void 0 && (note & PAGE - 1n) !== 0n) throw new LoadError(`XEN_ELFNOTE_VIRT_BASE ${hex12(note)} is not page-aligned`);
  if (lowest < virtBase) throw new LoadError(`program header at ${hex12(lowest)} lies below virt_base ${hex12(virtBase)} (XEN_ELFNOTE_VIRT_BASE)`);
  const kernelEnd = roundUp(loads.reduce((m, s) => s.vaddr + BigInt(s.memsz) > m ? s.vaddr + BigInt(s.memsz) : m, 0n), PAGE);
  if (!loads.some((s) => elf.entry >= s.vaddr && elf.entry < s.vaddr + BigInt(s.memsz))) {
    throw new LoadError(`the entry point ${hex12(elf.entry)} is in no PT_LOAD segment`);
  }
  const nrPages = o2.nrPages;
  const p2mVa = kernelEnd;
  const startInfoVa = p2mVa + roundUp(BigInt(nrPages) * 8n, PAGE);
  const ptBase = startInfoVa + PAGE;
  let nrPt = 4;
  let vEnd = 0n;
  let tables = { l3: 1, l2: 1, l1: 1 };
  for (; ; ) {
    const stackEnd = ptBase + BigInt(nrPt) * PAGE + PAGE;
    vEnd = roundUp(stackEnd + 512n * 1024n, 4n * MIB);
    tables = countTables(virtBase, vEnd);
    const need = 1 + tables.l3 + tables.l2 + tables.l1;
    if (need <= nrPt) break;
    nrPt = need;
  }
  const nrPtFrames = 1 + tables.l3 + tables.l2 + tables.l1;
  const stackTop = ptBase + BigInt(nrPt) * PAGE + PAGE;
  if (inHole(virtBase, vEnd) || nonCanonical(virtBase, vEnd) || vEnd > 1n << 64n) {
    throw new LoadError(`the builder's region after the kernel, ${hex12(kernelEnd)}\u2013${hex12(vEnd - 1n)}, overlaps the hypervisor's range or leaves the canonical half of the address space`);
  }
  const mappedPages = Number(vEnd - virtBase >> 12n);
  if (mappedPages > nrPages) {
    throw new LoadError(`the kernel and its boot data need ${mappedPages} pages (${hex12(virtBase)}\u2013${hex12(vEnd - 1n)}) but the domain has ${nrPages}; give it more memory`);
  }
  if (nrPages > d.maxPages) throw new LoadError(`the domain's ${nrPages} pages exceed its maximum of ${d.maxPages}`);
  if (nrPages > hv2.allocator.nrFree) throw new LoadError(`the domain needs ${nrPages} frames and the hypervisor has ${hv2.allocator.nrFree} free`);
  const cmdline = new TextEncoder().encode(o2.cmdline ?? "");
  if (cmdline.length >= MAX_GUEST_CMDLINE) throw new LoadError(`the guest command line is ${cmdline.length} bytes; start_info holds at most ${MAX_GUEST_CMDLINE - 1}`);
  const c = hv2.on(d.vcpus[0]);
  const p2m = [];
  for (let pfn = 0; pfn < nrPages; pfn++) {
    const prev = p2m[pfn - 1];
    const page = finish(allocDomheapPage(c, d, (mfn) => mfn !== pfn && (prev === void 0 || Math.abs(mfn - prev) !== 1)));
    if (!page) throw new LoadError(`the hypervisor ran out of frames while building domain ${d.domid}`);
    p2m.push(page.mfn);
    hv2.setGpfnFromMfn(page.mfn, BigInt(pfn));
    hv2.mem.write(maddr(page.mfn), new Uint8Array(PAGE_SIZE));
  }
  const va2ma = (va) => maddr(p2m[Number(va - virtBase >> 12n)], Number(va & PAGE - 1n));
  const writeVirt = (va, bytes) => {
    for (let done = 0; done < bytes.length; ) {
      const at = va + BigInt(done);
      const n = Math.min(bytes.length - done, PAGE_SIZE - Number(at & PAGE - 1n));
      hv2.mem.write(va2ma(at), bytes.subarray(done, done + n));
      done += n;
    }
  };
  for (const s of loads) writeVirt(s.vaddr, o2.image.subarray(s.offset, s.offset + s.filesz));
  const p2mBytes = new Uint8Array(nrPages * 8);
  p2m.forEach((mfn, pfn) => new DataView(p2mBytes.buffer).setBigUint64(pfn * 8, BigInt(mfn), true));
  writeVirt(p2mVa, p2mBytes);
  const si = new Uint8Array(START_INFO.SIZE);
  const sv = new DataView(si.buffer);
  si.set(new TextEncoder().encode(START_INFO_MAGIC), START_INFO.MAGIC);
  sv.setBigUint64(START_INFO.NR_PAGES, BigInt(nrPages), true);
  sv.setBigUint64(START_INFO.PT_BASE, ptBase, true);
  sv.setBigUint64(START_INFO.NR_PT_FRAMES, BigInt(nrPtFrames), true);
  sv.setBigUint64(START_INFO.MFN_LIST, p2mVa, true);
  si.set(cmdline, START_INFO.CMD_LINE);
  writeVirt(startInfoVa, si);
  const ptVa = (k) => ptBase + BigInt(k) * PAGE;
  const l3First = 1;
  const l2First = l3First + tables.l3;
  const l1First = l2First + tables.l2;
  const tableMfn = (k) => p2m[Number(ptVa(k) - virtBase >> 12n)];
  const isPtVa = (va) => va >= ptBase && va < ptBase + BigInt(nrPtFrames) * PAGE;
  const UPPER = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED;
  const index = (va, shift3) => Number((va >> shift3) - (virtBase >> shift3));
  for (let va = virtBase; va < vEnd; va += PAGE) {
    const l1 = l1First + index(va, 21n);
    const l2 = l2First + index(va, 30n);
    const l3 = l3First + index(va, 39n);
    hv2.mem.write64(maddr(tableMfn(l1), tableOffset(va, 1) * 8), makePte(p2m[Number(va - virtBase >> 12n)], isPtVa(va) ? _PAGE_PRESENT | _PAGE_ACCESSED : UPPER));
    hv2.mem.write64(maddr(tableMfn(l2), tableOffset(va, 2) * 8), makePte(tableMfn(l1), UPPER));
    hv2.mem.write64(maddr(tableMfn(l3), tableOffset(va, 3) * 8), makePte(tableMfn(l2), UPPER));
    hv2.mem.write64(maddr(tableMfn(0), tableOffset(va, 4) * 8), makePte(tableMfn(l3), UPPER));
  }
  const l4Mfn = tableMfn(0);
  const pin = finish(getPageAndTypeFromMfn(c, l4Mfn, PGT.l4, d));
  if (pin !== 0) throw new Error(`the builder's own tables failed validation (${pin})`);
  hv2.frames.page(l4Mfn).pinned = true;
  hv2.stats.pins++;
  if (finish(getPageAndTypeFromMfn(c, l4Mfn, PGT.l4, d)) !== 0) throw new Error("the builder's L4 would not take vCPU 0's reference");
  const v0 = d.vcpus[0];
  v0.guestTable = l4Mfn;
  const vcpu0 = { rip: elf.entry, rsi: startInfoVa, rsp: stackTop, rdi: 0n, rflags: 2n, cr3: maddr(l4Mfn) };
  v0.context = vcpu0;
  v0.initialised = true;
  v0.down = false;
  d.p2m = { va: p2mVa, mfns: p2m };
  return { virtBase, vEnd, p2mVa, startInfoVa, ptBase, nrPtFrames, stackTop, p2m, l4Mfn, vcpu0 };
}

// hypervisor/x86/inspect.ts
function frameInfo(hv2, mfn) {
  const p = hv2.frames.lookup(mfn);
  if (!p) return void 0;
  const m2p = hv2.getGpfnFromMfn(mfn);
  return {
    mfn,
    owner: p.owner?.domid,
    pfn: m2p === INVALID_M2P_ENTRY ? void 0 : m2p,
    type: PAGE_TYPE_NAMES[p.type],
    count: p.count,
    typeCount: p.typeCount,
    allocated: p.allocated,
    validated: p.validated,
    pinned: p.pinned,
    locked: p.locked,
    free: p.free,
    tlbflushTimestamp: p.tlbflushTimestamp,
    mappers: mappersOf(hv2, mfn)
  };
}
function mappersOf(hv2, mfn) {
  const out = [];
  const tables = hv2.frames.all().filter((t2) => !t2.free && t2.owner !== hv2.domXen && isPageTableType(t2.type) && t2.validated);
  for (const t2 of tables) {
    const level = t2.type;
    const words = new DataView(hv2.mem.read(maddr(t2.mfn), PAGE_SIZE).buffer);
    for (let slot = 0; slot < 512; slot++) {
      if (level === 4 && !isGuestL4Slot(slot)) continue;
      const entry = words.getBigUint64(slot * 8, true);
      if (isPresent(entry) && pteMfn(entry) === mfn) out.push({ tableMfn: t2.mfn, level, slot, entry });
    }
  }
  return out;
}

// hypervisor/x86/vcpu-view.ts
var PAT_RESET = 0x0007040600070406n;
var vcpuName = (v) => `d${v.domain.domid}v${v.vcpuId}`;
var PvVcpuView = class {
  constructor(s) {
    this.s = s;
  }
  s;
  all() {
    return [...this.s.domains()].sort((a, b) => a.domid - b.domid).flatMap((d) => d.vcpus);
  }
  list() {
    return this.all().map((v) => {
      const pcpu = this.s.pcpuOf(v);
      return { name: vcpuName(v), pcpu, state: pcpu !== void 0 ? "running" : where(v, this.s.runnable(v)) };
    });
  }
  saved(k) {
    const v = this.all()[k];
    if (!v || this.s.pcpuOf(v) !== void 0) return void 0;
    const saved = this.s.saved.get(v);
    if (saved) return { state: { ...saved.state }, registers: savedRegisters(saved) };
    return v.context ? this.fromContext(v.context) : void 0;
  }
  setSaved(k, file) {
    const v = this.all()[k];
    if (!v || this.s.pcpuOf(v) !== void 0) return false;
    const saved = this.s.saved.get(v);
    if (saved) {
      saved.state = { ...file.state };
      const { rflags: _rflags, ...paging } = file.registers;
      saved.registers = paging;
      return true;
    }
    if (!v.context) return false;
    const { state, registers } = file;
    const context = { rip: state.rip, rsp: state.rsp, rdi: state.rdi, rsi: state.rsi, rflags: state.rflags, cr3: registers.cr3 };
    const would = this.fromContext(context);
    const same = Object.keys(would.state).every((n) => would.state[n] === state[n]) && Object.keys(would.registers).every((n) => would.registers[n] === registers[n]);
    if (!same) return false;
    v.context = context;
    return true;
  }
  /** What load() puts on a pCPU for a vCPU that starts from its context; the registers it leaves alone read as 0. */
  fromContext(c) {
    const st = this.s.start;
    const state = Object.fromEntries(GPR_NAMES.map((n) => [n, 0n]));
    const rflags = c.rflags | 2n;
    return {
      state: {
        ...state,
        rip: c.rip,
        rsp: c.rsp,
        rdi: c.rdi,
        rsi: c.rsi,
        rflags,
        cpl: 0,
        cs: 8,
        ss: 16,
        fsBase: 0n,
        gsBase: 0n,
        kernelGsBase: 0n,
        gdtrBase: st.gdtrBase,
        gdtrLimit: st.gdtrLimit,
        idtrBase: 0n,
        idtrLimit: 0,
        tr: 0,
        tssBase: 0n,
        star: 0n,
        lstar: 0n,
        cstar: 0n,
        fmask: 0n,
        apicBase: 0n
      },
      registers: { cr0: st.cr0, cr2: 0n, cr3: c.cr3, cr4: st.cr4, efer: st.efer, rflags, pat: PAT_RESET, pkru: 0n }
    };
  }
};
function savedRegisters(saved) {
  const r = saved.registers;
  return {
    cr0: r.cr0 ?? 0n,
    cr2: r.cr2 ?? 0n,
    cr3: r.cr3 ?? 0n,
    cr4: r.cr4 ?? 0n,
    efer: r.efer ?? 0n,
    rflags: saved.state.rflags,
    pat: r.pat ?? PAT_RESET,
    pkru: r.pkru ?? 0n
  };
}
function where(v, runnable) {
  if (v.domain.shutdownReason !== void 0) return "shut down";
  if (v.down) return "down";
  if (runnable) return "runnable";
  if (v.blocked) return "blocked";
  return "off the pCPUs";
}

// hypervisor/x86/pv-host.ts
var errnoName = (e) => resultName(-e).replace(/^-/, "");
var X86_GP = 13;
var X86_PF = 14;
var TIME_SLICE = 20000n;
var HYPERCALL_LOG = 256;
var MIGRATE_ONE_IN = 4;
var FIRST_MFN = 256;
var CR0_PV = 0x80010033n;
var CR4_PV = 0x20n;
var EFER_PV = 0xd01n;
var GUEST_CONTROLS = {
  guestMode: true,
  exceptionBitmap: 1 << X86_PF,
  hltExiting: true,
  invlpgExiting: true,
  invpcidExiting: true,
  cr3LoadExiting: true,
  cr0Exiting: true,
  cr4Exiting: true,
  rdmsrExiting: false,
  wrmsrExiting: true,
  ioExiting: true,
  vmcallExiting: true,
  externalInterruptExiting: false,
  virtualIf: true
};
var RESULT_STATUS = { [SHUTDOWN.poweroff]: 0 };
var PvHost = class {
  constructor(platform, o2) {
    this.platform = platform;
    this.o = o2;
    const m = platform.m;
    this.cpus = m.cpus;
    const frames = Number(m.options.ram[0].size >> 12n);
    this.rng = new Xoshiro128(o2.seed ^ 0x7076686f7374n);
    this.hv = new Hypervisor({
      memory: m.memory,
      firstMfn: FIRST_MFN,
      nrFrames: frames - FIRST_MFN,
      nrPcpus: m.cpus.length,
      seed: o2.seed,
      callbacks: {
        console: (d, bytes) => o2.console(d.domid, bytes),
        // A vCPU taken down and brought up again before it left its pCPU is still there: it goes on running.
        vcpuUp: (v) => {
          if (!this.runq.includes(v) && !this.pcpus.some((p) => p.current === v)) this.runq.push(v);
        },
        yield: (v) => this.yielded.add(v),
        baseptrChanged: (v) => this.baseptrChanged(v),
        flushLocal: (cpu, va, flags) => this.flushLocal(cpu, va, flags),
        l0FlushTlbs: () => {
          for (const c of this.cpus) c.invvpid(2 /* AllContext */, 0);
        },
        violation: (v) => this.violation(v),
        frameEvent: (e) => this.frameEvent(e)
      },
      nested: o2.nested ?? false,
      forceIpi: o2.forceIpi ?? true,
      timeline: platform.timeline,
      step: () => platform.timeline.step,
      engineDriven: true
    });
    const nrPages = Number(o2.domMemBytes >> 12n);
    let vpid = 1;
    for (let id = 1; id <= o2.domains; id++) {
      const d = this.hv.createDomain(id, nrPages, o2.vcpus);
      buildPvDomain(this.hv, { image: o2.image, domain: d, nrPages, cmdline: o2.cmdline });
      for (const v of d.vcpus) this.vpids.set(v, vpid++);
      this.runq.push(d.vcpus[0]);
    }
    this.pcpus = m.cpus.map(() => ({ current: void 0, sliceStart: 0n }));
    for (const cpu of m.cpus) {
      cpu.setGuestControls({ guestMode: false });
      platform.park(cpu.index);
    }
  }
  platform;
  o;
  name = "hypervisor";
  hv;
  cpus;
  pcpus;
  runq = [];
  saved = /* @__PURE__ */ new Map();
  vpids = /* @__PURE__ */ new Map();
  rng;
  exitCounts = /* @__PURE__ */ new Map();
  migrations = 0;
  preemptions = 0;
  transitions = /* @__PURE__ */ new Map();
  /** The last hypercalls, for the debugger's `hypercalls`. */
  log = [];
  /** Sanitizer violations not yet taken by the engine, and the first, which ends the run unless --keep-going. */
  events = [];
  stopFor;
  spuriousFaults = 0;
  count(what2) {
    this.exitCounts.set(what2, (this.exitCounts.get(what2) ?? 0) + 1);
  }
  frameEvent(e) {
    if (e.kind === "retype") this.transitions.set(`${e.from} \u2192 ${e.to}`, (this.transitions.get(`${e.from} \u2192 ${e.to}`) ?? 0) + 1);
  }
  handle(cpu, exit) {
    const h = this.exit(cpu, exit);
    return h?.kind === "continue" ? { kind: "continue", routine: this.onPcpu(cpu, h.routine) } : h;
  }
  /**
   * A routine as it runs on a pCPU: flush IPIs are taken between its steps
   * while interrupts are enabled, and when it ends by starting another
   * routine (a hypercall that yields the pCPU) that one runs on.
   */
  *onPcpu(cpu, routine) {
    const pcpu = this.hv.pcpus[cpu.index];
    for (; ; ) {
      const h = yield* withInterrupts(pcpu, routine, () => this.takeIpi(cpu));
      if (h?.kind !== "continue") {
        if (this.pcpus[cpu.index].current && h?.kind !== "end") this.platform.timeline.emit({ kind: "vmentry", cpu: cpu.index });
        return h;
      }
      routine = h.routine;
    }
  }
  /** A flush IPI taken on a pCPU (invalidate_interrupt). */
  takeIpi(cpu) {
    this.count("external-interrupt");
    return invalidateInterrupt(this.hv, cpu.index);
  }
  /**
   * A pCPU running guest code, or parked, with a flush IPI pending takes it
   * now: the interrupt makes the VM exit whatever the guest's own IF says.
   */
  interrupt(i) {
    if (!interruptDeliverable(this.hv.pcpus[i])) return void 0;
    return this.interrupted(i);
  }
  *interrupted(i) {
    const inGuest = this.pcpus[i].current !== void 0;
    if (inGuest) this.platform.timeline.emit({ kind: "vmexit", cpu: i, reason: "external-interrupt" });
    while (interruptDeliverable(this.hv.pcpus[i])) yield* this.takeIpi(this.cpus[i]);
    if (inGuest) this.platform.timeline.emit({ kind: "vmentry", cpu: i });
    return { kind: "done" };
  }
  takeEvents() {
    return this.events.splice(0);
  }
  eventsPending() {
    return this.events.length > 0;
  }
  violation(v) {
    this.platform.timeline.emit({ kind: "violation", cpu: v.actor, message: v.message });
    this.events.push({ kind: "violation", cpu: v.walker, message: v.message, detail: { ...v, va: `0x${v.va.toString(16)}` } });
  }
  exit(cpu, exit) {
    const p = this.pcpus[cpu.index];
    if (exit.reason === "parked") return this.runq.length ? { kind: "continue", routine: this.schedule(cpu) } : { kind: "done" };
    const v = p.current;
    if (!v) return void 0;
    if (v.down || v.domain.shutdownReason !== void 0) return { kind: "continue", routine: this.afterHypercallSteps(cpu, v) };
    if (exit.reason === "budget") {
      if (cpu.progress.instructions - p.sliceStart < TIME_SLICE) return void 0;
      const migrate = !this.runq.length && this.rng.below(MIGRATE_ONE_IN) === 0;
      if (!this.runq.length && !migrate) {
        p.sliceStart = cpu.progress.instructions;
        return void 0;
      }
      this.preemptions++;
      return { kind: "continue", routine: this.preempt(cpu, v, migrate) };
    }
    if (!("guest" in exit)) return void 0;
    const reason = exit.reason === "exception" ? `exception ${exit.vector}` : exit.reason;
    this.count(reason);
    this.platform.timeline.emit({ kind: "vmexit", cpu: cpu.index, reason });
    return { kind: "continue", routine: this.vmexit(cpu, v, exit) };
  }
  /** MMUEXT_NEW_BASEPTR or VCPUOP_initialise gave a vCPU a new L4: write_ptbase, as a MOV to CR3 (its non-global entries go). */
  baseptrChanged(v) {
    const cr3 = BigInt(v.guestTable) << 12n;
    const at = this.pcpus.findIndex((p) => p.current === v);
    if (at >= 0) this.cpus[at].movToCr3(cr3);
    else {
      const saved = this.saved.get(v);
      if (saved) saved.registers.cr3 = cr3;
      else if (v.context) v.context = { ...v.context, cr3 };
    }
  }
  // ── Scheduling ─────────────────────────────────────────────────────────────
  /** A parked pCPU takes a runnable vCPU. */
  *schedule(cpu) {
    yield { what: "schedule: take a vCPU from the run queue" };
    if (!this.runq.length || this.pcpus[cpu.index].current) return { kind: "done" };
    const v = this.runq.splice(this.rng.below(this.runq.length), 1)[0];
    this.load(cpu, v);
    return { kind: "done" };
  }
  *preempt(cpu, v, park) {
    if (!park) return yield* this.reschedule(cpu, v, { what: `schedule: d${v.domain.domid}v${v.vcpuId}'s time slice is over` });
    yield { what: `schedule: d${v.domain.domid}v${v.vcpuId}'s time slice is over` };
    this.save(cpu, v);
    this.runq.push(v);
    return { kind: "done" };
  }
  /**
   * schedule() on a pCPU whose vCPU gives it up (a yield, HLT, the end of
   * its slice): one step picks the next vCPU at random among the runnable
   * ones and v itself. When that is v, nothing is switched (as in Xen, the
   * same vCPU simply goes on), which spares a save and a load.
   */
  *reschedule(cpu, v, label) {
    yield label;
    const k = this.rng.below(this.runq.length + 1);
    if (k === this.runq.length) return { kind: "done" };
    const next = this.runq.splice(k, 1)[0];
    this.save(cpu, v);
    this.runq.push(v);
    this.load(cpu, next);
    return { kind: "done" };
  }
  /** Puts vCPU v on pCPU cpu: its registers, its VPID, guest mode. */
  load(cpu, v) {
    const i = cpu.index;
    const vpid = this.vpids.get(v);
    if (v.dirtyCpu !== void 0 && v.dirtyCpu !== i) this.migrations++;
    if (v.dirtyCpu !== i) cpu.invvpid(1 /* SingleContext */, vpid);
    cpu.setVmx({ vpid, eptp: 0n });
    const saved = this.saved.get(v);
    if (saved) {
      cpu.setRegisters(saved.registers);
      cpu.setState(saved.state);
      if (saved.injection) cpu.inject(saved.injection);
      this.saved.delete(v);
    } else {
      const c = v.context;
      cpu.setRegisters({ cr0: CR0_PV, cr3: c.cr3, cr4: CR4_PV, efer: EFER_PV });
      cpu.setState({
        rip: c.rip,
        rsp: c.rsp,
        rdi: c.rdi,
        rsi: c.rsi,
        rflags: c.rflags | 2n,
        cs: 8,
        ss: 16,
        cpl: 0,
        gdtrBase: GDT_VIRT_START,
        gdtrLimit: GDT_LIMIT,
        idtrBase: 0n,
        idtrLimit: 0
      });
    }
    cpu.setGuestControls(GUEST_CONTROLS);
    v.processor = i;
    v.dirtyCpu = i;
    v.domain.dirtyCpumask.add(i);
    const p = this.pcpus[i];
    p.current = v;
    p.sliceStart = cpu.progress.instructions;
    this.platform.unpark(i);
    this.platform.timeline.emit({ kind: "vcpu-load", cpu: i, vcpu: `d${v.domain.domid}v${v.vcpuId}` });
  }
  /** Takes vCPU v off pCPU cpu, keeping its registers. */
  save(cpu, v) {
    this.platform.timeline.emit({ kind: "vcpu-save", cpu: cpu.index, vcpu: `d${v.domain.domid}v${v.vcpuId}` });
    const r = cpu.registers;
    this.saved.set(v, {
      state: cpu.state,
      registers: { cr0: r.cr0, cr2: r.cr2, cr3: r.cr3, cr4: r.cr4, efer: r.efer, pat: r.pat, pkru: r.pkru },
      injection: cpu.pendingInjection
    });
    this.pcpus[cpu.index].current = void 0;
    cpu.setGuestControls({ guestMode: false });
    this.platform.park(cpu.index);
  }
  // ── VM exits ───────────────────────────────────────────────────────────────
  *vmexit(cpu, v, exit) {
    const past = () => cpu.setState({ rip: exit.rip + BigInt(exit.instructionLength) });
    const gp = () => cpu.inject({ vector: X86_GP, errorCode: 0 });
    switch (exit.reason) {
      case "vmcall": {
        const s = cpu.state;
        const args = [s.rdi, s.rsi, s.rdx, s.r10, s.r8];
        this.platform.timeline.emit({ kind: "hypercall", cpu: cpu.index, name: HYPERCALL_NAMES[Number(s.rax)] ?? `#${s.rax}` });
        const rax = yield* this.hv.hypercall(v.domain, v, s.rax, args);
        this.log.push({ cpu: cpu.index, vcpu: `d${v.domain.domid}v${v.vcpuId}`, nr: s.rax, args, result: rax });
        if (this.log.length > HYPERCALL_LOG) this.log.shift();
        cpu.setState({ rax });
        past();
        return this.afterHypercall(cpu, v);
      }
      case "exception": {
        if (exit.vector !== X86_PF) {
          yield { what: `exception ${exit.vector}: reflect it to the guest` };
          cpu.inject({ vector: exit.vector, ...exit.errorCode !== void 0 ? { errorCode: exit.errorCode } : {} });
          return { kind: "done" };
        }
        const va = exit.address ?? 0n;
        const errorCode = exit.errorCode ?? 0;
        yield { what: `do_page_fault: #PF at 0x${va.toString(16)}, error code ${errorCode}` };
        const cr3Mfn = Number(cpu.registers.cr3 >> 12n & 0xffffffffffn);
        if ((yield* spuriousPageFault(this.hv.on(v), va, errorCode, cr3Mfn)) === "spurious") {
          this.spuriousFaults++;
          cpu.invvpid(0 /* Address */, this.vpids.get(v), va);
          return { kind: "done" };
        }
        cpu.inject({ vector: X86_PF, errorCode, cr2: va });
        return { kind: "done" };
      }
      case "cr-access": {
        if (exit.cr !== 3) {
          yield { what: `MOV to CR${exit.cr}: #GP` };
          gp();
          return { kind: "done" };
        }
        const rc = yield* this.hv.newBaseptr(v, exit.value & 0x000ffffffffff000n);
        if (rc !== 0) gp();
        else {
          cpu.movToCr3(exit.value & 0x000ffffffffff000n);
          past();
        }
        return { kind: "done" };
      }
      case "invlpg":
        yield* this.hv.invlpg(v, exit.address);
        past();
        return { kind: "done" };
      case "hlt":
        past();
        return yield* this.reschedule(cpu, v, { what: `d${v.domain.domid}v${v.vcpuId}: HLT, the vCPU yields`, yields: true });
      case "triple-fault":
        yield { what: `domain_crash: d${v.domain.domid} triple fault` };
        return this.domainShutdown(cpu, v.domain, SHUTDOWN.crash);
      default:
        yield { what: `${exit.reason}: #GP(0), a PV kernel may not` };
        gp();
        return { kind: "done" };
    }
  }
  /** After a hypercall: the domain may have shut down, the vCPU gone down, yielded or blocked. */
  *afterHypercallSteps(cpu, v) {
    const gone = v.down || v.domain.shutdownReason !== void 0;
    if (!gone) return yield* this.reschedule(cpu, v, { what: `d${v.domain.domid}v${v.vcpuId} yields the pCPU`, yields: true });
    yield { what: `d${v.domain.domid}v${v.vcpuId} leaves the pCPU${v.down ? " (down)" : ""}` };
    this.save(cpu, v);
    if (!v.down) this.runq.push(v);
    return yield* this.schedule(cpu);
  }
  afterHypercall(cpu, v) {
    const d = v.domain;
    if (d.shutdownReason !== void 0) return this.domainShutdown(cpu, d, d.shutdownReason);
    if (v.down || v.blocked || this.yielded.delete(v)) {
      v.blocked = false;
      return { kind: "continue", routine: this.afterHypercallSteps(cpu, v) };
    }
    return { kind: "done" };
  }
  yielded = /* @__PURE__ */ new Set();
  /** A domain shut down: its vCPUs leave the pCPUs; when every domain has, the run ends. */
  domainShutdown(cpu, d, reason) {
    d.shutdownReason ??= reason;
    for (const p of this.pcpus) {
      if (p.current?.domain === d) {
        const c = this.cpus[this.pcpus.indexOf(p)];
        this.save(c, p.current);
      }
    }
    for (let k = this.runq.length - 1; k >= 0; k--) if (this.runq[k].domain === d) this.runq.splice(k, 1);
    const all = [...this.hv.domains.values()];
    if (all.some((x) => x.shutdownReason === void 0)) return { kind: "done" };
    const failed = all.find((x) => x.shutdownReason !== SHUTDOWN.poweroff);
    const end = {
      kind: "shutdown",
      cpu: cpu.index,
      status: failed ? 1 : RESULT_STATUS[reason] ?? 1,
      reason: all.map((x) => `d${x.domid} ${shutdownName(x.shutdownReason)}`).join(", ")
    };
    return { kind: "end", end };
  }
  // ── Flushes ────────────────────────────────────────────────────────────────
  /**
   * flush_area_local's hardware part on pCPU i: one page of every VPID that
   * may have entries there (the vCPUs that last ran on it), or all of the
   * pCPU's entries.
   */
  flushLocal(i, va, flags) {
    const cpu = this.cpus[i];
    if (!(flags & FLUSH_ORDER_MASK && va !== void 0) || flags & FLUSH_TLB_GLOBAL) {
      cpu.invvpid(2 /* AllContext */, 0);
      return;
    }
    for (const [v, vpid] of this.vpids) if (v.dirtyCpu === i) cpu.invvpid(0 /* Address */, vpid, va);
  }
  // ── The debugger ───────────────────────────────────────────────────────────
  /** The REPL's frame, domain and hypercalls commands. */
  inspect(command, args) {
    const hex13 = (v) => `0x${v.toString(16)}`;
    const num2 = (text, what2) => {
      if (text === void 0 || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text) || Number(text) > Number.MAX_SAFE_INTEGER) throw new ShootdownError(`${command}: ${what2} must be a number, not '${text ?? ""}'`);
      return Number(text);
    };
    if (command === "frame") {
      const mfn = num2(args[0], "MFN");
      const f = frameInfo(this.hv, mfn);
      if (!f) return [`MFN ${hex13(mfn)} is not a frame the hypervisor manages (${hex13(this.hv.frames.firstMfn)} to ${hex13(this.hv.frames.endMfn - 1)})`];
      const flags = [f.allocated && "allocated", f.validated && "validated", f.pinned && "pinned", f.locked && "locked", f.free && "free"].filter(Boolean).join(" ") || "-";
      return [
        `MFN ${hex13(f.mfn)}: owner ${f.owner === void 0 ? "none" : f.owner === 32754 ? "dom_xen" : `d${f.owner}`}, PFN ${f.pfn === void 0 ? "none" : hex13(f.pfn)}`,
        `  type ${f.type}, type count ${f.typeCount}, count ${f.count}, ${flags}, TLB-flush stamp ${f.tlbflushTimestamp}`,
        ...f.mappers.length ? f.mappers.map((m) => `  mapped by L${m.level} MFN ${hex13(m.tableMfn)} slot ${m.slot}: ${hex13(m.entry)}`) : ["  no validated table maps it"]
      ];
    }
    if (command === "domain") {
      const ids = args[0] === void 0 ? [...this.hv.domains.keys()] : [num2(args[0], "domain id")];
      return ids.flatMap((id) => {
        const d = this.hv.domains.get(id);
        if (!d) return [`no domain ${id}`];
        const pinned = [...d.pageList].filter((m) => this.hv.frames.lookup(BigInt(m))?.pinned).map((m) => hex13(m));
        return [
          `d${d.domid}: ${d.totPages} of ${d.maxPages} pages${d.shutdownReason === void 0 ? "" : `, shut down (${shutdownName(d.shutdownReason)})`}; pinned tables ${pinned.join(" ") || "none"}`,
          ...d.vcpus.map((v) => {
            const on = this.pcpus.findIndex((p) => p.current === v);
            const where2 = on >= 0 ? `running on pCPU ${on}` : v.down ? "down" : this.runq.includes(v) ? "runnable, waiting for a pCPU" : "off the pCPUs";
            return `  vCPU ${v.vcpuId}: ${where2}; VPID ${this.vpids.get(v)}; L4 MFN ${hex13(v.guestTable)}${v.dirtyCpu === void 0 ? "" : `; last on pCPU ${v.dirtyCpu}`}`;
          })
        ];
      });
    }
    const n = args[0] === void 0 ? 10 : num2(args[0], "count");
    const last = this.log.slice(-n);
    if (!last.length) return ["no hypercall yet"];
    return last.map((h) => {
      const name = HYPERCALL_NAMES[Number(h.nr)] ?? `#${h.nr}`;
      const rc = BigInt.asIntN(64, h.result);
      return `pCPU ${h.cpu} ${h.vcpu}: ${name}(${h.args.map(hex13).join(", ")}) = ${rc < 0n ? `-${errnoName(Number(-rc))}` : rc}`;
    });
  }
  // ── The debugger's vCPUs (vcpu-view.ts) ────────────────────────────────────
  vcpuView;
  /** The guests' vCPUs as the debugger's threads: where each runs, and the registers kept of those off every pCPU. */
  vcpus() {
    return this.vcpuView ??= new PvVcpuView({
      domains: () => this.hv.domains.values(),
      pcpuOf: (v) => {
        const at = this.pcpus.findIndex((p) => p.current === v);
        return at < 0 ? void 0 : at;
      },
      runnable: (v) => this.runq.includes(v),
      saved: this.saved,
      start: { cr0: CR0_PV, cr4: CR4_PV, efer: EFER_PV, gdtrBase: GDT_VIRT_START, gdtrLimit: GDT_LIMIT }
    });
  }
  // ── The summary ────────────────────────────────────────────────────────────
  summary() {
    const s = this.hv.stats;
    const hypercalls = {};
    for (const [name, results] of s.hypercalls) hypercalls[name] = Object.fromEntries(results);
    return {
      domains: [...this.hv.domains.values()].map((d) => ({
        domid: d.domid,
        vcpus: d.vcpus.length,
        pages: d.totPages,
        maxPages: d.maxPages,
        shutdown: d.shutdownReason === void 0 ? null : shutdownName(d.shutdownReason)
      })),
      hypercalls,
      typeTransitions: Object.fromEntries(this.transitions),
      pins: s.pins,
      unpins: s.unpins,
      flushes: Object.fromEntries(s.flushes),
      frames: { allocated: s.framesAllocated, freed: s.framesFreed, scrubbed: s.framesScrubbed },
      migrations: this.migrations,
      preemptions: this.preemptions,
      exits: Object.fromEntries([...this.exitCounts].sort()),
      flushPaths: Object.fromEntries(s.flushPaths),
      ipisSent: s.ipisSent,
      pcpusSparedByClock: s.pcpusSpared,
      spuriousPageFaults: this.spuriousFaults,
      flushMode: this.hv.nested ? this.hv.forceIpi ? "nested (assisted flush, FLUSH_NO_ASSIST honoured)" : "nested (assisted flush, --no-force-ipi)" : "IPIs",
      violations: this.hv.sanitizer.violations.length
    };
  }
};
var SHUTDOWN_NAMES = Object.fromEntries(Object.entries(SHUTDOWN).map(([k, v]) => [v, k]));
var shutdownName = (reason) => SHUTDOWN_NAMES[reason] ?? `reason ${reason}`;

// hypervisor/x86/boot.ts
var DomainConsoles = class {
  constructor(prefixed, sink) {
    this.prefixed = prefixed;
    this.sink = sink;
  }
  prefixed;
  sink;
  partial = /* @__PURE__ */ new Map();
  write(domid, bytes) {
    if (!this.prefixed) {
      for (const b of bytes) this.sink(b);
      return;
    }
    const line = this.partial.get(domid) ?? [];
    for (const b of bytes) {
      line.push(b);
      if (b !== 10) continue;
      for (const c of Buffer.from(`[d${domid}] `)) this.sink(c);
      for (const c of line) this.sink(c);
      line.length = 0;
    }
    this.partial.set(domid, line);
  }
};
function bootPvPlatform(image, options, console2, p = {}) {
  const hv2 = options.hv;
  let plan;
  try {
    plan = { elf: readElf(image), segments: [] };
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (plan.elf.arch !== "x86_64") throw new LoadError("--hv runs x86-64 PV kernels; this image is for AArch64");
  const need = BigInt(hv2.domains) * hv2.domMemBytes + (2n << 20n);
  if (need > options.memBytes) {
    throw new LoadError(`${hv2.domains} domain${hv2.domains === 1 ? "" : "s"} of ${hv2.domMemBytes >> 20n} MiB need --mem of at least ${need >> 20n}M (the hypervisor keeps the first MiB and its own tables)`);
  }
  const chaos = options.tlbChaos === void 0 ? void 0 : { seed: options.seed ?? 0n, meanInterval: chaosInterval(options.tlbChaos) };
  const m = new Machine({
    cpus: options.cpus,
    maxPhysAddr: 46,
    ram: [{ base: 0n, size: options.memBytes }],
    ...chaos ? { chaos } : {},
    ...p.detector ? { detectMissingInvalidation: true } : {}
  });
  const platform = new X86Platform(m, plan, options.memBytes, console2, p.disassembler ?? NO_DISASSEMBLER);
  const consoles = new DomainConsoles(hv2.domains > 1, console2);
  const host = new PvHost(platform, {
    image,
    cmdline: options.cmdline,
    domains: hv2.domains,
    vcpus: hv2.vcpus,
    domMemBytes: hv2.domMemBytes,
    seed: options.seed ?? 0n,
    nested: hv2.nested ?? false,
    forceIpi: hv2.forceIpi ?? true,
    console: (domid, bytes) => consoles.write(domid, bytes)
  });
  platform.attach(host);
  return platform;
}

// emulator/run.ts
var EM_AARCH642 = 183;
function imageArch(image) {
  const isElf = image.length >= 20 && image[0] === 127 && image[1] === 69 && image[2] === 76 && image[3] === 70;
  return isElf && (image[18] | image[19] << 8) === EM_AARCH642 ? "aarch64" : "x86_64";
}
function bootPlatform(image, options, console2, p = {}) {
  if (options.hv) return withDisassembler(bootPvPlatform(image, options, console2, p), "x86_64");
  if (imageArch(image) === "aarch64") return withDisassembler(bootArmPlatform(image, options, console2, p), "aarch64");
  return withDisassembler(bootX86Platform(image, options, console2, p), "x86_64");
}
function withDisassembler(platform, arch) {
  if (platform.plan) platform.describer.useDisassembler(asmDisassembler(arch, programOf(platform.plan)));
  return platform;
}
function engineFor(config, p = {}) {
  return new Engine({
    options: config,
    console: config.console,
    log: config.record === true,
    ...config.replay ? { replay: config.replay } : {},
    build: (options, console2) => bootPlatform(config.image, options, console2, p)
  });
}
function runImage(config, observe) {
  const engine = engineFor(config, { detector: config.checkStale === true });
  observe?.(engine.platform);
  engine.runToEnd();
  const report = reportOf(engine, config.image, config.record === true, "eager");
  engine.platform.machine.release();
  return report;
}
function calibratedOptions(options, image) {
  if (options.mode !== "pct" || !options.pct || options.pct.horizon > 0) return options;
  const engine = engineFor({ ...options, pct: { depth: 1, horizon: Number.MAX_SAFE_INTEGER }, seed: 0n, image, console: () => {
  }, record: false });
  engine.runToEnd();
  return { ...options, pct: { ...options.pct, horizon: Math.max(1, engine.decisions) } };
}

// emulator/run-guest.ts
var DEFAULTS = { cpus: 1, cmdline: "", quantum: 1e3, pctDepth: 3 };
var DEFAULT_MEM = { x86_64: 64n << 20n, aarch64: 128n << 20n };
function withDefaults(given, arch) {
  const mode = given.mode ?? (given.seed === void 0 ? "round-robin" : "random");
  return {
    cpus: given.cpus ?? DEFAULTS.cpus,
    memBytes: given.memBytes ?? DEFAULT_MEM[arch],
    cmdline: given.cmdline ?? DEFAULTS.cmdline,
    mode,
    seed: given.seed ?? (mode === "round-robin" ? void 0 : 0n),
    ...mode === "pct" ? { pct: { depth: given.pct?.depth || DEFAULTS.pctDepth, horizon: given.pct?.horizon ?? 0 } } : {},
    quantum: given.quantum ?? DEFAULTS.quantum,
    maxSteps: given.maxSteps,
    tlbChaos: given.tlbChaos,
    ...given.hv ? { hv: { ...given.hv, vcpus: given.hv.vcpus || (given.cpus ?? DEFAULTS.cpus) } } : {},
    ...given.keepGoing ? { keepGoing: true } : {}
  };
}

// .tmp/race1.ts
var img = readFileSync2("/work/main/guest/x86_64/pv/kernel.elf");
var o = calibratedOptions({ ...withDefaults({ cpus: 4, cmdline: "workload=spurious-race", hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n, nested: true } }, "x86_64"), mode: "pct", pct: { depth: 3, horizon: 0 } }, img);
var t = performance.now();
var hv = 0n;
var ins = 0n;
var dec = 0;
for (let i = 0; i < 10; i++) {
  const r = runImage({ ...o, seed: BigInt(i), image: img, console: () => {
  } });
  hv += r.hypervisorSteps;
  ins += r.steps;
  dec += r.decisions;
}
console.log(((performance.now() - t) / 10).toFixed(1), "ms/run", hv / 10n, "hv steps", ins / 10n, "instr", dec / 10, "decisions");
