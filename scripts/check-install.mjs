#!/usr/bin/env node
// Checks that node_modules holds exactly what package-lock.json locks for THIS platform, by versions, not by the
// lock's bytes. Used by scripts/install-npm.sh after every install (npm ci or its fallback).
//
// Why versions and not bytes: the npm registry's set of served optional platform packages changes from day to day
// (other platforms' `@foundry-rs/anvil-*`, `@swc/core-*`, `litesvm-*` binaries appear and disappear). A lock made on
// a day when one of them was missing lacks its entry, and `npm ci` then refuses the whole lock ("Missing: X from lock
// file") although nothing this platform installs is affected. The fallback (`npm install` against the same lock)
// installs the same locked versions and only adds entries for packages this platform skips; this script proves it:
//   - every lock entry this platform needs is installed at the lock's version (a non-optional entry, or an optional
//     one whose os/cpu/libc match this machine);
//   - nothing is installed that the lock does not name (the registry resolved something new: the lock is stale).
// Exit 0 when it holds; exit 1 naming each package and what to do.
//
// Usage: node scripts/check-install.mjs [--omit=dev] [--quiet]
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const omitDev = process.argv.includes('--omit=dev');
const quiet = process.argv.includes('--quiet');

const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
if (lock.lockfileVersion < 2 || !lock.packages) {
  console.error('[check-install] package-lock.json has no "packages" section (lockfileVersion < 2): regenerate it with npm ≥ 7');
  process.exit(1);
}

const libc = process.report?.getReport?.().header?.glibcVersionRuntime ? 'glibc' : 'musl';
/** npm's own rule (npm-install-checks): a list matches when it names the value, or holds only negations none of which is it. */
const matches = (list, value) => {
  if (!Array.isArray(list) || list.length === 0) return true;
  if (list.includes(value)) return true;
  if (list.includes(`!${value}`)) return false;
  return list.every((x) => x.startsWith('!'));
};
const forThisPlatform = (e) => matches(e.os, process.platform) && matches(e.cpu, process.arch) && (process.platform !== 'linux' || matches(e.libc, libc));
const nameOf = (p) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length);
const installedVersion = (p) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, p, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
};

const problems = [];
let checked = 0;
for (const [p, e] of Object.entries(lock.packages)) {
  if (p === '' || !p.startsWith('node_modules/') || e.link || e.extraneous) continue;
  if (omitDev && e.dev) continue;
  const needed = !e.optional || forThisPlatform(e);
  const v = installedVersion(p);
  if (v === undefined) {
    if (needed) problems.push(`${nameOf(p)}@${e.version} is locked${e.optional ? ' (optional, built for this platform)' : ''} but not installed at ${p}`);
    continue;
  }
  checked++;
  if (v !== e.version) problems.push(`${nameOf(p)} is installed at ${v} but the lock says ${e.version} (${p})`);
}

// What npm installed that the lock does not name: npm's hidden lockfile lists every installed package.
const hiddenFile = path.join(root, 'node_modules', '.package-lock.json');
if (fs.existsSync(hiddenFile)) {
  const hidden = JSON.parse(fs.readFileSync(hiddenFile, 'utf8'));
  for (const [p, e] of Object.entries(hidden.packages ?? {})) {
    if (!p.startsWith('node_modules/') || e.link || lock.packages[p]) continue;
    problems.push(`${nameOf(p)}@${e.version} is installed at ${p} but the lock does not name it`);
  }
}

if (problems.length > 0) {
  console.error(`[check-install] node_modules does not match package-lock.json for ${process.platform}-${process.arch}-${libc}:`);
  for (const m of problems) console.error(`  - ${m}`);
  console.error(
    '[check-install] what to do: if the registry no longer serves a locked version, pick a served one in package.json, ' +
      'run `npm install` and commit package-lock.json; otherwise remove node_modules and run `bash scripts/setup.sh` again.',
  );
  process.exit(1);
}
if (!quiet) console.log(`[check-install] ${checked} installed packages match package-lock.json (${process.platform}-${process.arch}-${libc}${omitDev ? ', production set' : ''})`);
