/**
 * Where the workflow tests find Temporal's time-skipping test server (test/workflows/timeSkipping.ts):
 * `TEMPORAL_TEST_SERVER_PATH`, else `.tools/bin/temporal-test-server` (scripts/install-temporal.sh), and a clear
 * error naming the fix when neither is there. Starts no server.
 */
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTimeSkippingEnv, temporalTestServerPath } from '../workflows/timeSkipping.js';

describe('time-skipping test server path', () => {
  const saved = process.env.TEMPORAL_TEST_SERVER_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEMPORAL_TEST_SERVER_PATH;
    else process.env.TEMPORAL_TEST_SERVER_PATH = saved;
  });

  test('TEMPORAL_TEST_SERVER_PATH that is not an executable file is refused, naming the variable and the install script', async () => {
    process.env.TEMPORAL_TEST_SERVER_PATH = path.join(os.tmpdir(), 'no-such-temporal-test-server');
    assert.throws(() => temporalTestServerPath(), /TEMPORAL_TEST_SERVER_PATH=.*no-such-temporal-test-server is not an executable file.*bash scripts\/install-temporal\.sh/);
    await assert.rejects(createTimeSkippingEnv(), /not an executable file.*install-temporal\.sh/, 'before any server is started');
  });

  test('TEMPORAL_TEST_SERVER_PATH naming an executable file is used as is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-tts-'));
    try {
      const exe = path.join(dir, 'temporal-test-server');
      fs.writeFileSync(exe, '#!/bin/sh\nexec true\n', { mode: 0o755 });
      process.env.TEMPORAL_TEST_SERVER_PATH = exe;
      assert.equal(temporalTestServerPath(), exe);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without the variable: <repo>/.tools/bin/temporal-test-server, or an error saying to run scripts/install-temporal.sh', () => {
    delete process.env.TEMPORAL_TEST_SERVER_PATH;
    const local = path.resolve(import.meta.dirname, '..', '..', '.tools', 'bin', 'temporal-test-server');
    if (fs.existsSync(local)) assert.equal(temporalTestServerPath(), local);
    else assert.throws(() => temporalTestServerPath(), /time-skipping test server not found: .*Run `bash scripts\/install-temporal\.sh`/);
  });
});
