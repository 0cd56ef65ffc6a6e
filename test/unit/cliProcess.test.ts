/**
 * The real binary, as a child process (`node bin/ballast.mjs …`): the exit status reaches the shell and the
 * output the terminal. The only CLI spawn test outside test/chaos and test/e2e (health, dev): every other CLI
 * test runs in-process (cli/main.ts `run`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { repoDir } from '../../config/fixtures.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/ballast.mjs …` from the repository root. */
function ballast(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.BALLAST_DEBUG;
    execFile(process.execPath, [path.join(repoDir(), 'bin', 'ballast.mjs'), ...args], { cwd: repoDir(), env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

// Three independent processes: run side by side (most of each is loading the CLI through tsx).
describe('bin/ballast.mjs (child process)', { concurrency: true }, () => {
  test("--version prints package.json's version, exit 0", async () => {
    const version = (JSON.parse(fs.readFileSync(path.join(repoDir(), 'package.json'), 'utf8')) as { version: string }).version;
    const r = await ballast(['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  });

  test('a usage error exits 2 with the error as the last line of stderr', async () => {
    const r = await ballast(['status', '-c', 'ballast.yaml', '--bogus']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: ballast status/m);
    assert.equal(lines(r.stderr).at(-1), "ballast status: unknown option '--bogus'");
  });

  test('a runtime error (missing config file) exits 1 with one line naming the file', async () => {
    const r = await ballast(['status', '-c', '/nonexistent.yaml']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.deepEqual(lines(r.stderr), ['ballast: /nonexistent.yaml: (root): cannot read the file (ENOENT); check the path (got nothing)']);
  });
});
