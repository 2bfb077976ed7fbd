// SPDX-License-Identifier: MIT
//
// README.md is the entry and docs/ the reference: every relative link in
// them leads to a file that exists, and every #anchor to a heading there.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

const ROOT = packageRoot();
const FILES = [join(ROOT, "README.md"), ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join(ROOT, "docs", f))];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");

function anchors(file: string): Set<string> {
  const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

describe("README.md and docs/", () => {
  it("every relative link leads to a file that exists, and every anchor to a heading", () => {
    const broken: string[] = [];
    for (const file of FILES) {
      const text = readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [path, anchor] = target!.split("#") as [string, string | undefined];
        const to = path ? join(dirname(file), path) : file;
        const where = `${relative(ROOT, file)}: ${target}`;
        if (!existsSync(to)) broken.push(`${where} (no such file)`);
        else if (anchor && to.endsWith(".md") && !anchors(to).has(anchor)) broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("README links every file of docs/", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    for (const file of FILES.slice(1)) expect(readme, relative(ROOT, file)).toContain(`](${relative(ROOT, file)})`);
  });
});
