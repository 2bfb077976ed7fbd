// SPDX-License-Identifier: MIT
// Bundles the TypeScript CLI into dist/cli.js (the `shootdown` bin).
import { build } from "esbuild";
import { chmodSync } from "node:fs";

await build({
  entryPoints: ["emulator/cli/main.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
chmodSync("dist/cli.js", 0o755);
