/**
 * Minimal, deterministic reproductions of keeper bugs found by the chaos runner: one saga, one exact
 * sequence of one-shot RPC faults (no randomness), then the same checks as the runner.
 *
 *   npx tsx test/chaos/repro.ts                 # every scenario
 *   npx tsx test/chaos/repro.ts withdraw-retry-stale-read
 *
 * Exit 0 when every scenario keeps every promise, 1 otherwise (the violations are printed).
 */
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256, toHex } from 'viem';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import { startChaosEnv, type ChaosEnv } from './env.js';
import { checkRebalance, readBooks, readFacts, type Violation } from './checks.js';

const TOKEN = 10n ** 6n;

/** A reproduction: arms faults on `env`, runs sagas, returns what to check. */
export interface Scenario {
  name: string;
  what: string;
  run(env: ChaosEnv, saga: (tag: string, over?: Partial<RebalanceInput>) => Promise<RebalanceResult>): Promise<RebalanceResult[]>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'withdraw-retry-stale-read',
    what:
      'withdraw tx mined but its answer lost (drop on eth_sendRawTransaction); the retried activity reads outflowOf(id) one block behind (stale eth_call) → sees 0 → simulates/sends again → RebalanceIdUsed → non-retryable ContractRevert → saga "compensated" with nothing to compensate, while the amount sits in the source route',
    async run(env, saga) {
      env.proxies.alpha!.injectNext('drop', 'eth_sendRawTransaction');
      env.proxies.alpha!.injectNext('stale', 'eth_call', { method: 'eth_sendRawTransaction' });
      return [await saga('withdraw-stale')];
    },
  },
  {
    name: 'send-stale-record',
    what:
      'send tx mined; the read of route.sends(id) right after it is answered one block behind (stale eth_call) → GUID 0 → non-retryable PacketMismatch → the saga runs the withdraw compensation (redeposit) although the tokens were burned and are on their way',
    async run(env, saga) {
      // 1st tx on alpha = withdraw, 2nd = send: the first eth_call after the 2nd is the route.sends(id) read.
      env.proxies.alpha!.injectNext('stale', 'eth_call', { method: 'eth_sendRawTransaction', times: 2 });
      return [await saga('send-stale')];
    },
  },
  {
    name: 'send-stale-record-foreign-tokens',
    what:
      'as send-stale-record, but the source route holds tokens of an earlier stranded saga: the wrong redeposit succeeds with those tokens, the saga ends "compensated", and its own amount is minted into the destination route where no saga owns it',
    async run(env, saga) {
      // Strand a beta → alpha move (packet dropped until after the deadline), then land it: alpha's route holds it.
      env.devnet.relayer.setDropAll(true);
      const stranded = await saga('strand-first', { from: 'beta', to: 'alpha', amount: 90_000n * TOKEN, deliveryDeadlineSec: 3 });
      env.devnet.relayer.setDropAll(false);
      env.devnet.relayer.replayDropped();
      for (let i = 0; i < 100 && (await readBooks(env)).inFlightTotal > 0n; i++) await new Promise((r) => setTimeout(r, 200));
      env.proxies.alpha!.injectNext('stale', 'eth_call', { method: 'eth_sendRawTransaction', times: 2 });
      return [stranded, await saga('send-stale-foreign', { amount: 50_000n * TOKEN })];
    },
  },
];

async function runScenario(s: Scenario): Promise<Violation[]> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `ballast-repro-${s.name}-`));
  const logFile = path.join(workDir, 'repro.log');
  const out = fs.createWriteStream(logFile);
  let env: ChaosEnv | undefined;
  const violations: Violation[] = [];
  try {
    env = await startChaosEnv({ workDir, seed: 1, onProxyFault: (chain, f) => out.write(`${new Date(f.atMs).toISOString()} [proxy ${chain}] ${f.kind} ${f.method} ${f.detail ?? ''}\n`) });
    env.setLogSink((l) => out.write(l));
    const e = env;
    const opening = await readBooks(e);
    const saga = (tag: string, over: Partial<RebalanceInput> = {}) => {
      const rebalanceId = keccak256(toHex(`ballast-repro:${s.name}:${tag}`));
      const input: RebalanceInput = { rebalanceId, from: 'alpha', to: 'beta', amount: 50_000n * TOKEN, reason: `repro ${s.name}`, deliveryDeadlineSec: 20, ...over };
      return e.client.workflow.execute('rebalanceWorkflow', { taskQueue: e.taskQueue, workflowId: rebalanceId, args: [input] }) as Promise<RebalanceResult>;
    };
    const results = await s.run(e, saga);
    for (let i = 0; i < 100 && (await readBooks(e)).inFlightTotal > 0n; i++) await new Promise((r) => setTimeout(r, 200));
    const books = await readBooks(e);
    console.log(`\n== ${s.name}: ${s.what}`);
    for (const r of results) {
      const facts = await readFacts(e, r.rebalanceId, r.from, r.to);
      console.log(`   saga ${r.rebalanceId.slice(0, 12)}… ${r.from}->${r.to} ${r.amount}: ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`);
      console.log(`     legs: ${r.legs.map((l) => `${l.kind === 'compensation' ? '~' : ''}${l.leg}:${l.status}${l.alreadyDone ? '(already)' : ''}`).join(' ')}`);
      if (r.fundsLocation) console.log(`     fundsLocation: ${r.fundsLocation.summary}`);
      console.log(`     on chain: out=${facts.out} sent=${facts.sent} deposited=${facts.deposited} redeposited=${facts.redeposited} returned=${facts.returned} returnDeposited=${facts.returnDeposited}`);
      violations.push(...checkRebalance(r, facts));
    }
    console.log(`   books: supply ${books.totalSupply} (opening ${opening.totalSupply}), in flight ${books.inFlightTotal}, vaults ${books.vaults} (opening ${opening.vaults}), routes ${books.routes}`);
    for (const v of violations) console.log(`   VIOLATION ${v.kind}: ${v.detail}`);
    if (!violations.length) console.log('   all promises held');
  } finally {
    await env?.stop();
    await new Promise((r) => out.end(r));
    if (violations.length) console.log(`   log: ${logFile}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }
  return violations;
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const chosen = names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  if (names.length && chosen.length !== names.length) throw new Error(`unknown scenario; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  let bad = 0;
  for (const s of chosen) if ((await runScenario(s)).length) bad++;
  console.log(`\n${chosen.length - bad}/${chosen.length} scenarios kept every promise`);
  return bad ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (c) => process.exit(c),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}

