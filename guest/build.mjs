// SPDX-License-Identifier: MIT
// Assembles every guest image: guest/<arch>/*.s → guest/<arch>/*.elf (and
// guest/<arch>/<dir>/*.s, with -I <dir>, for guests of several files), with
// the CLI bundle (dist/cli.js), so it runs after `npm run build:cli`. Any
// assembly error fails the build with the assembler's messages.
//
//   node guest/build.mjs [DIR]     DIR instead of guest/ (for tests)
import { spawnSync } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "cli.js");
if (!existsSync(cli)) {
  console.error(`guest/build.mjs: ${cli} is missing; run 'npm run build:cli' first`);
  process.exit(1);
}

const guests = process.argv[2] ?? join(root, "guest");
let failed = 0;
let built = 0;
for (const arch of ["x86_64", "aarch64"]) {
  const top = join(guests, arch);
  if (!existsSync(top)) continue;
  // <arch>/*.s, and <arch>/<dir>/*.s for a guest of several files (pv/).
  const dirs = [top, ...readdirSync(top, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(top, e.name)).sort()];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith(".s")).sort()) {
      const src = join(dir, name);
      const out = join(dir, name.replace(/\.s$/, ".elf"));
      const r = spawnSync(process.execPath, [cli, "asm", "--arch", arch, "-I", dir, src, "-o", out], { encoding: "utf8" });
      if (r.status !== 0) {
        failed++;
        process.stderr.write(r.stderr || r.stdout || `exit status ${r.status}\n`);
        console.error(`guest/build.mjs: cannot assemble ${src}`);
      } else {
        built++;
      }
    }
  }
}
if (failed) process.exit(1);
console.log(`guest/build.mjs: ${built} guest image${built === 1 ? "" : "s"} built`);
