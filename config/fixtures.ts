/**
 * Where the real public data set (`../shared/fixtures`) lives.
 */
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Repository root (the folder holding package.json). */
export function repoDir(): string {
  return repoRoot;
}

/**
 * The fixtures folder: `BALLAST_FIXTURES_DIR` if set, else `<repo>/../shared/fixtures`.
 * It may not exist (a user's machine); check with {@link fixturePath}.
 */
export function fixturesDir(): string {
  return process.env.BALLAST_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures');
}

/**
 * Absolute path of a fixture file, or `undefined` when it is absent.
 * @param rel path inside the fixtures folder, e.g. `layerzero/packets.json`.
 */
export function fixturePath(rel: string): string | undefined {
  const p = path.join(fixturesDir(), rel);
  return fs.existsSync(p) ? p : undefined;
}
