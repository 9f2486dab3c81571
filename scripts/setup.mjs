#!/usr/bin/env node
// Makes a fresh clone runnable: installs dependencies when node_modules is missing or
// older than package-lock.json (npm's postinstall then prepares SST's platform types).
// Runs before `npm start`, `npm test` and `npm run bench`; a no-op when up to date.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const installed = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });
  if (r.status !== 0) {
    console.error(
      `[setup] \`${cmd} ${args.join(" ")}\` failed (exit ${r.status}). Check access to the npm registry, then run \`npm run setup\` again.`,
    );
    process.exit(r.status ?? 1);
  }
};

const stale = !existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  console.error("[setup] installing dependencies (first run on this clone)…");
  // `npm install` honours package-lock.json. `npm ci` would refuse it: the lock cannot list
  // optional packages for other platforms that the registry mirror does not serve.
  run("npm", ["install", "--no-audit", "--no-fund"]);
} else {
  // A no-op (~0.1 s) unless SST's platform types are missing or stale.
  run(process.execPath, [join(root, "scripts", "sst-install.mjs")]);
}
