// SPDX-License-Identifier: MIT
// Builds the package's library entry (emulator/index.ts): dist/index.js, one
// ES module for Node 20 with nothing to install beside it, and its type
// declarations in dist/types/ (tsconfig.types.json). The hardware module
// (dist/shootdown.wasm) is found from the package root at run time
// (emulator/machine/wasm.ts), so the installed package needs no set-up.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

await build({
  entryPoints: ["emulator/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});

rmSync("dist/types", { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", "tsconfig.types.json"], { stdio: "inherit" });

// The sources import "./x.ts"; a declaration file is found through "./x.js"
// by every TypeScript setting a user may have, "./x.ts" only by some.
function rewrite(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) rewrite(path);
    else if (path.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8");
      writeFileSync(path, text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']*)\.ts\2/g, "$1$2$3.js$2"));
    }
  }
}
rewrite("dist/types");
