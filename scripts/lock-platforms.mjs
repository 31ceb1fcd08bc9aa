#!/usr/bin/env node
// Adds lockfile entries for the platform binaries of Biome and DuckDB that the registry mirror of
// our build machines does not carry (it answers 404 for them), so `npm ci` accepts the lockfile
// here and still installs the right binary on macOS, Windows, musl or arm64. Run it after any
// `npm install` that rewrites package-lock.json:  node scripts/lock-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const FAMILIES = {
  '@biomejs/cli-': { parent: 'node_modules/@biomejs/biome', dev: true },
  '@duckdb/node-bindings-': { parent: 'node_modules/@duckdb/node-bindings', dev: true },
};

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
let added = 0;
for (const [prefix, { parent, dev }] of Object.entries(FAMILIES)) {
  const owner = lock.packages[parent];
  if (!owner) continue;
  for (const [name, version] of Object.entries(owner.optionalDependencies ?? {})) {
    if (!name.startsWith(prefix)) continue;
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    const platform = name.slice(prefix.length); // e.g. darwin-arm64, linux-x64-musl, win32-x64
    const [os, cpu, libc] = platform.split('-');
    const entry = { version, cpu: [cpu], dev, optional: true, os: [os] };
    if (os === 'linux') entry.libc = [libc === 'musl' ? 'musl' : 'glibc'];
    lock.packages[key] = entry;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platforms: added ${added} platform entries`);
