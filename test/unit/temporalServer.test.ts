/**
 * Real `temporal server start-dev` processes started through devnet/temporal.ts.
 * Needs the CLI (`bash scripts/install-temporal.sh`); skipped with that reason when absent, except under CI=true.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { findFreePort, startTemporalDevServer, temporalCliPath } from '../../devnet/temporal.js';

function cliMissingReason(): string | undefined {
  try {
    temporalCliPath();
    return undefined;
  } catch (e) {
    if (process.env.CI === 'true') return undefined; // in CI the CLI must be there: let the test fail
    return (e as Error).message;
  }
}
const skip = cliMissingReason();

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

test('temporalCliPath rejects a TEMPORAL_CLI_PATH that is not executable and names the install script', () => {
  const saved = process.env.TEMPORAL_CLI_PATH;
  process.env.TEMPORAL_CLI_PATH = path.join(os.tmpdir(), 'definitely-not-a-temporal-binary');
  try {
    assert.throws(() => temporalCliPath(), /TEMPORAL_CLI_PATH=.*not an executable file.*install-temporal\.sh/);
  } finally {
    if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
    else process.env.TEMPORAL_CLI_PATH = saved;
  }
});

test('dev server on a free port answers getSystemInfo, creates the namespace, runs a workflow start, and stops', { skip }, async () => {
  const server = await startTemporalDevServer({ namespace: 'ballast-test' });
  const port = Number(server.address.split(':')[1]);
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.uiUrl, undefined, 'headless by default');
    assert.ok(server.startupMs > 0 && server.startupMs < 60_000, `startupMs=${server.startupMs}`);
    console.log(`temporal dev server ready in ${server.startupMs} ms at ${server.address}`);

    const connection = await Connection.connect({ address: server.address });
    try {
      const info = await connection.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion, 'server reports a version');
      const ns = await connection.workflowService.describeNamespace({ namespace: 'ballast-test' });
      assert.equal(ns.namespaceInfo?.name, 'ballast-test');

      // No worker: the workflow stays running, which is enough to prove the server accepts and stores it.
      const client = new Client({ connection, namespace: 'ballast-test' });
      const handle = await client.workflow.start('noSuchWorkflowType', { taskQueue: 'tq-none', workflowId: 'wf-smoke', args: [] });
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'RUNNING');
      await handle.terminate('test done');
      assert.equal((await handle.describe()).status.name, 'TERMINATED');
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
  }
  assert.ok(server.process.exitCode !== null || server.process.signalCode !== null, 'process has exited');
  assert.equal(await portAcceptsConnections(port), false, 'frontend port is closed after stop()');
  await server.stop(); // idempotent
});

test('dev server with dbFile keeps workflows across a restart', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-temporal-'));
  const dbFile = path.join(dir, 'nested', 'dev.db');
  const logFile = path.join(dir, 'server.log');
  try {
    const first = await startTemporalDevServer({ dbFile, logFile });
    try {
      const connection = await Connection.connect({ address: first.address });
      const client = new Client({ connection });
      await client.workflow.start('noSuchWorkflowType', { taskQueue: 'tq-none', workflowId: 'wf-persisted', args: [] });
      await connection.close();
    } finally {
      await first.stop();
    }
    assert.ok(fs.statSync(dbFile).size > 0, 'sqlite file written');
    assert.ok(fs.existsSync(logFile), 'log file created');

    const second = await startTemporalDevServer({ dbFile });
    try {
      const connection = await Connection.connect({ address: second.address });
      const desc = await new Client({ connection }).workflow.getHandle('wf-persisted').describe();
      assert.equal(desc.workflowId, 'wf-persisted');
      assert.equal(desc.status.name, 'RUNNING');
      await connection.close();
    } finally {
      await second.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('dev server on a port that is already taken fails fast with the log tail', { skip }, async () => {
  const port = await findFreePort();
  const blocker = net.createServer((sock) => sock.destroy()); // accepted sockets would keep the test process alive
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  const t0 = Date.now();
  try {
    await assert.rejects(startTemporalDevServer({ port, startTimeoutMs: 30_000 }), (err: Error) => {
      assert.match(err.message, new RegExp(`exited early.*port ${port} in use\\?\\)\\. Log tail:\\n.+`, 's'));
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000, `failed after ${Date.now() - t0} ms, not after the timeout`);
  } finally {
    blocker.close();
  }
});
