/**
 * The main job as a smoke test: `ballast dev --until 1` starts Temporal, three anvil chains, the
 * contracts, the relayer, the market driver replaying real history, the worker and the monitor, and
 * exits 0 once a rebalance completed through LayerZero's EndpointV2, printing the deployment ledger as
 * `ballast status --ledger` does and then stopping everything it started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoDir } from '../../config/fixtures.js';

test('ballast dev --until 1 completes a rebalance end to end, shows it in the terminal and /metrics, and exits 0', { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, [path.join(repoDir(), 'bin', 'ballast.mjs'), 'dev', '--until', '1', '--timeout', '240', '--day-ms', '1500', '--tick', '2'], {
    cwd: repoDir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, out.slice(-4000));
  assert.match(out, /Web UI: http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /list its workflows: temporal workflow list --address 127\.0\.0\.1:\d+/);
  assert.match(out, /market driver: (Aave v3 USDC implied utilization from|.*SYNTHETIC)/);
  assert.match(out, /✔ rebalance 0x[0-9a-f]{8}… completed: \w+ → \w+ [\d.]+ USDC, (?:layerzero GUID 0x[0-9a-f]{64}|wormhole, message sequence \d+), legs \[withdraw✓ send✓ deliver✓ deposit✓\], fee [\d.e-]+ ETH, \d+s/);
  assert.match(out, /ballast_rebalances_total\{[^}]*outcome="completed"[^}]*\} [1-9]/);
  // The Solana chain runs too: its utilization and Pyth price (with confidence and verification) reach /metrics.
  assert.match(out, /Solana devnet \(LiteSVM JSON-RPC\) at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /ballast_utilization_ratio\{chain="solana"\} 0\.\d+/);
  assert.match(out, /ballast_oracle_price\{chain="solana"\} [1-9]\d*(\.\d+)?/);
  assert.match(out, /ballast_pyth_verified\{chain="solana"\} 1/);
  // Before stopping, the deployment ledger as `ballast status --ledger` prints it (the CLI run in-process), balanced,
  // with the keeper-flow conservation checked over every chain (the Solana reserve's term derived).
  assert.match(out, /\[ballast dev\] deployment ledger(?: as the monitor checked it at \S+, after the last rebalance|: no check after the last rebalance .*the monitor's last check)/);
  assert.match(out, /\[ballast dev\] {3}deployment ledger \(USDC, base units\): balanced\n/);
  assert.match(out, /\[ballast dev\] {3}treasury ledger \(USDC, base units\): balanced\n/);
  assert.match(out, /\[ballast dev\] {5}solana {5}Solana reserve supplied \d+ .*keeper net outflow \(derived\)/);
  assert.match(out, /\[ballast dev\] {5}keeper flows: Σ\(to route − from route\) -?\d+ \(solana: derived, opening supplied − supplied\) = Σ routes \d+ \+ in flight \d+: balanced\n/);
  assert.ok(out.indexOf('treasury ledger (USDC, base units)') < out.indexOf('stopping: worker'), 'printed before anything stops');
  assert.match(out, /stopped cleanly/);
});
