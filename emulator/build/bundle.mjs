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
  // CommonJS packages in the bundle (cli-progress) require Node's built-in modules; an ES module has no require of its own.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __shootdownCreateRequire } from \"node:module\";\nconst require = __shootdownCreateRequire(import.meta.url);" },
  logLevel: "warning",
});
chmodSync("dist/cli.js", 0o755);
