/**
 * `ballast dev` prints the deployment ledger when it stops (devnet/dev.ts `printLedgerAtStop`): it waits, bounded,
 * for a monitor check taken after the last rebalance closed and says which check it printed; when the CLI cannot
 * answer it prints the same sections from the last polled status. (The real CLI against a real monitor is
 * test/e2e/dev.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printLedgerAtStop } from '../../devnet/dev.js';
import type { MonitorStatus } from '../../workflows/messages.js';

/** A monitor status whose ledger was last checked at `checkedAtMs` (balanced, nothing else). */
function status(checkedAtMs: number | undefined, over: Partial<MonitorStatus> = {}): MonitorStatus {
  const last = { totalSupply: 10n, perChain: { a: 10n }, blocks: { a: 7n }, inFlightUndelivered: 0n, openingSupply: 10n, balanced: true };
  return {
    deployment: 'd',
    paused: false,
    ticks: 1,
    totalTicks: 1,
    inFlight: [],
    lastUnresolved: [],
    started: 0,
    finished: { completed: 0, compensated: 0, stranded: 0 },
    recent: [],
    ledger: { stranded: [], ...(checkedAtMs === undefined ? {} : { openingSupply: 10n, last, checkedAtMs }) },
    ...over,
  };
}

const MISSING_CONFIG = '/nonexistent/ballast.devnet.yaml'; // the CLI exits 1: the fallback is printed

test('waits for a check after the last rebalance, says so, and falls back to the last polled status when the CLI fails', async () => {
  const answers = [status(1_000, { inFlight: [{} as never] }), status(1_500), status(2_500)];
  let asked = 0;
  const lines: string[] = [];
  const t0 = Date.now();
  await printLedgerAtStop({
    query: async () => answers[Math.min(asked++, answers.length - 1)]!,
    configFile: MISSING_CONFIG,
    symbol: 'USDC',
    afterMs: 2_000,
    waitMs: 10_000,
    lastPolled: { status: status(2_500), atMs: 3_000 },
    print: (l) => lines.push(l),
  });
  assert.equal(asked, 3, 'polled until the check at 2500 (≥ the last close at 2000)');
  assert.ok(Date.now() - t0 < 5_000);
  assert.equal(lines[0], `deployment ledger as the monitor checked it at ${new Date(2_500).toISOString()}, after the last rebalance that closed (the last rebalance closed at ${new Date(2_000).toISOString()})`);
  assert.match(lines[1]!, /^ballast status --ledger exited 1: ballast: /);
  assert.equal(lines[2], `the same sections from the monitor status this run last polled, at ${new Date(3_000).toISOString()} (cli/ledgerReport.ts; without the recent rebalances' accounts):`);
  assert.equal(lines[3], '  deployment ledger (USDC, base units): balanced');
  assert.equal(lines.at(-1), '  treasury ledger (USDC, base units): not checked yet');
});

test('bounded: with sagas still in flight it prints the last check before, and why; a halt is not waited for; Temporal gone: the last polled status', async () => {
  const lines: string[] = [];
  const t0 = Date.now();
  await printLedgerAtStop({ query: async () => status(1_000, { inFlight: [{} as never, {} as never] }), configFile: MISSING_CONFIG, symbol: 'USDC', afterMs: 2_000, waitMs: 1_200, print: (l) => lines.push(l) });
  assert.ok(Date.now() - t0 >= 1_200, 'waited the bound');
  assert.equal(lines[0], `deployment ledger: no check after the last rebalance (the last rebalance closed at ${new Date(2_000).toISOString()}) within 1 s (2 saga(s) in flight); the monitor's last check, at ${new Date(1_000).toISOString()}, taken before it`);

  const halted: string[] = [];
  const t1 = Date.now();
  await printLedgerAtStop({ query: async () => status(1_000, { ledger: { ...status(1_000).ledger, halted: 'treasury ledger: keeper flows: … diff -1' } }), configFile: MISSING_CONFIG, symbol: 'USDC', afterMs: 2_000, waitMs: 10_000, print: (l) => halted.push(l) });
  assert.ok(Date.now() - t1 < 5_000, 'a halted monitor takes no check: not waited for');
  assert.match(halted[0]!, /\(the ledger is halted: treasury ledger: keeper flows: … diff -1\)/);

  // The Temporal server gone (a terminal's Ctrl-C): no query, no CLI run; the last polled status at once.
  const gone: string[] = [];
  let queried = 0;
  await printLedgerAtStop({ query: async () => (queried++, status(1_000)), configFile: MISSING_CONFIG, symbol: 'USDC', afterMs: 2_000, waitMs: 10_000, lastPolled: { status: status(1_000), atMs: 1_500 }, temporalAlive: () => false, print: (l) => gone.push(l) });
  assert.equal(queried, 0);
  assert.equal(gone[0], 'deployment ledger: the Temporal server has stopped (a terminal\'s Ctrl-C reaches the whole process group), so `ballast status --ledger` cannot run');
  assert.equal(gone[1], `the same sections from the monitor status this run last polled, at ${new Date(1_500).toISOString()} (cli/ledgerReport.ts; without the recent rebalances' accounts):`);
  assert.equal(gone[2], '  deployment ledger (USDC, base units): balanced');

  const never: string[] = [];
  await printLedgerAtStop({ query: async () => status(undefined), configFile: MISSING_CONFIG, symbol: 'USDC', afterMs: undefined, waitMs: 0, print: (l) => never.push(l) });
  assert.equal(never[0], 'deployment ledger: the monitor has not checked it yet');
});
