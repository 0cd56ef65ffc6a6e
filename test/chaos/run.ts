/**
 * Chaos runner: seeded random fault schedules over one real environment (Temporal dev server on a SQLite file,
 * two anvil chains with LayerZero EndpointV2 and the relayer, Wormhole cores and the devnet guardian, credit
 * messengers, the devnet Solana chain with its Wormhole custody, the keeper worker(s) as child processes behind
 * fault-injecting RPC proxies).
 *
 * Each schedule (one seed) starts 1–3 sagas, each on a route drawn from: LayerZero EVM↔EVM, Wormhole EVM↔EVM,
 * Wormhole EVM→Solana and Solana→EVM, and capacity moves over LayerZero and over Wormhole; and injects a random
 * subset of faults at random moments:
 * - RPC faults (timeouts, 5xx, dropped answers, stale reads, transactions accepted but never mined, "nonce too low");
 * - audit-only failures: for a window longer than the sagas' `auditDeadlineSec`, timed from the first pinned read it
 *   refuses, every pinned (historical) read fails while the legs' reads and writes go through;
 * - receipt timeouts with the transaction mined late (block production off on a chain past the keeper's receipt
 *   timeout, then on); Solana confirmation timeouts with the transaction landing late (the proxy answers the
 *   signature, forwards the transaction after the confirmation wait);
 * - the worker SIGKILLed between signing and broadcast (the proxy kills it on the broadcast, never forwards) or
 *   right after the broadcast (forwards, then kills);
 * - bridge faults (never delivered until the end of the schedule, delivered late, delivered twice);
 * - process faults (worker SIGKILLed and restarted, Temporal restarted on the same database).
 * A fault kind is counted in the tally only when it was actually injected (a transaction swallowed, a read
 * failed, a broadcast intercepted, a transaction held in the pool…), not when it was merely scheduled.
 * Then it checks every promise from the chains' own records (checks.ts): each saga ends completed / compensated /
 * stranded (with the funds located), the tokens and the lending capacity are conserved to the base unit, every
 * token outside the vaults belongs to a saga, each saga's outcome matches what moved on chain, and nothing was
 * sent, moved or delivered twice. The tally is per route.
 *
 * Usage:
 *   npm run chaos                       # short mode: 20 schedules
 *   npm run chaos:long                  # long mode: 200 schedules
 *   npm run chaos -- --seed 12345       # replay one schedule
 *   npm run chaos -- --schedules 50 --first-seed 1000 --json
 *   npm run chaos -- --block-time 2 --workers 2   # anvil mining every 2 s, two worker processes on the task queue
 *   npm run chaos -- --market aave      # the treasury in real Aave v3 Pools (AaveAllocator), not the CollateralVault
 *
 * `--market aave` (`npm run chaos:aave`): the EVM chains' liquidity is a supply position in a real Aave v3 reserve
 * held by the treasury's AaveAllocator (devnet `market: 'aave'`); the collateral legs withdraw from and deposit into
 * the allocator (same keeper ABI), whose outflow cap the environment raises; the books read the allocator's
 * `principal()` (exact; interest and rounding dust apart) and check its counters' identity after every schedule.
 * Capacity moves stay on the CollateralVault's credit lines (README "Aave v3 markets"), so every route still runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { bytesToHex, getAbiItem, keccak256, parseAbiItem, toHex, type Hex } from 'viem';
import { ALL_PROXY_FAULT_KINDS, RPC_FAULT_KINDS, type RpcFaultKind, type RpcFaultPlan } from '../../devnet/rpcFaultProxy.js';
import { mulberry32 } from '../../devnet/prng.js';
import type { DeliveredPacket } from '../../devnet/relayer.js';
import { decodePacket } from '../../chains/evm/layerzero.js';
import { creditMessengerAbi, endpointV2Abi, simpleMessageLibAbi, wormholeAdapterAbi } from '../../contracts/generated/abis.js';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import type { CapacityMoveInput, CapacityMoveResult } from '../../workflows/capacity.js';
import type { DevnetMarket } from '../../devnet/deploy.js';
import { startChaosEnv, CHAOS_CHAINS, SOLANA_KEY, type ChaosEnv } from './env.js';
import { capacityResidualOf, checkCapacity, checkRebalance, pendingCreditWormhole, readBooks, readCapacityFacts, readFacts, residualOf, type PendingWormhole, type Violation } from './checks.js';
import type { AllocatorBooks } from '../../chains/evm/ledgerReads.js';
import { allocatorIdentityDiff } from '../../ledger/treasury.js';

const oftReceivedEvent = parseAbiItem('event OFTReceived(bytes32 indexed guid, uint32 srcEid, address indexed toAddress, uint256 amountReceivedLD)');

// ------------------------------------------------------------------ plans

/** The routes a saga can take. */
export const ROUTES = ['layerzero', 'wormhole', 'evm->solana', 'solana->evm', 'capacity-layerzero', 'capacity-wormhole'] as const;
export type Route = (typeof ROUTES)[number];
const ROUTE_LABEL: Record<Route, string> = {
  layerzero: 'LayerZero EVM↔EVM',
  wormhole: 'Wormhole EVM↔EVM',
  'evm->solana': 'Wormhole EVM→Solana',
  'solana->evm': 'Wormhole Solana→EVM',
  'capacity-layerzero': 'capacity over LayerZero',
  'capacity-wormhole': 'capacity over Wormhole',
};
const isCapacity = (r: Route) => r === 'capacity-layerzero' || r === 'capacity-wormhole';
const bridgeOf = (r: Route): 'layerzero' | 'wormhole' => (r === 'layerzero' || r === 'capacity-layerzero' ? 'layerzero' : 'wormhole');

export type BridgeFaultKind = 'drop' | 'late' | 'duplicate';
export type ProcessFaultKind = 'workerKill' | 'temporalRestart';

/** Everything a schedule will do, drawn from its seed alone (so `--seed N` replays the same plan). */
export interface SchedulePlan {
  seed: number;
  rebalances: { route: Route; from: string; to: string; amount: bigint; deliveryDeadlineSec: number }[];
  rpc?: { chains: string[]; atMs: number; forMs: number; plan: RpcFaultPlan };
  bridge?: { kind: BridgeFaultKind; atMs: number; delayMs?: number };
  workerKill?: { atMs: number; pauseMs: number };
  temporalRestart?: { atMs: number; pauseMs: number };
  /** Pinned reads fail on every EVM chain from the first transaction after `atMs`, for the audit deadline + `extraMs`. */
  auditFail?: { atMs: number; extraMs: number };
  /** Block production off on `chain` from `atMs` for the receipt timeout + `extraMs`. */
  receiptLate?: { chain: string; atMs: number; extraMs: number };
  /** The next Solana broadcast after `atMs` lands the confirmation timeout + `extraMs` late. */
  solanaLate?: { atMs: number; extraMs: number };
  /** The worker is SIGKILLed at the next broadcast on `chain` after `atMs`, before or after forwarding it. */
  killAtSend?: { variant: 'before' | 'after'; chain: string; atMs: number; pauseMs: number };
}

const TOKEN = 10n ** 6n;
/** The generated config's per-transfer caps (config/example.ts): 100 .. 250,000 tokens. */
const MIN_TRANSFER = 100n * TOKEN;
const MAX_TRANSFER = 250_000n * TOKEN;
/**
 * `heartbeatTimeoutSec` given to every saga: how soon a killed worker's running leg is retried elsewhere (the
 * keeper's default is 10 s; the leg journal makes the retry settle the dead attempt's transaction either way).
 */
const HEARTBEAT_TIMEOUT_SEC = 3;

/** `auditDeadlineSec` given to every saga: how long it retries an audit before ending stranded. */
export const AUDIT_DEADLINE_SEC = 5;
/** How long an audit-read window stays armed waiting for the first pinned read to refuse, ms (then it closes). */
const AUDIT_ARM_MAX_MS = 20_000;

/** Per-kind fault rates used when a kind is picked for a schedule. */
const RPC_RATES: Record<(typeof RPC_FAULT_KINDS)[number], number> = { timeout: 0.05, http500: 0.2, http503: 0.2, drop: 0.2, stale: 0.4, swallowTx: 0.5, nonceTooLow: 0.5 };
/** Route weights (Σ = 1). */
const ROUTE_WEIGHTS: Record<Route, number> = { layerzero: 0.3, wormhole: 0.2, 'evm->solana': 0.15, 'solana->evm': 0.15, 'capacity-layerzero': 0.1, 'capacity-wormhole': 0.1 };

/**
 * Draws the plan of schedule `seed` (pure). The EVM chains, amounts, deadlines and the original fault kinds come
 * from the same PRNG stream as before routes existed (a seed keeps its fault timeline); routes and the newer fault
 * kinds from a second stream.
 */
export function planSchedule(seed: number): SchedulePlan {
  const rng = mulberry32(seed ^ 0x5bd1e995);
  const rng2 = mulberry32(seed ^ 0x2c1b3c6d);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  const int2 = (lo: number, hi: number) => lo + Math.floor(rng2() * (hi - lo + 1));
  const keys = CHAOS_CHAINS.map((c) => c.key);
  const n = int(1, 3);
  const rebalances: SchedulePlan['rebalances'] = [];
  for (let i = 0; i < n; i++) {
    const fromIdx = int(0, keys.length - 1);
    let from = keys[fromIdx]!;
    let to = keys[(fromIdx + int(1, keys.length - 1)) % keys.length]!;
    // A whole number of tokens plus random base units, so conservation is checked to the base unit.
    let amount = BigInt(int(100, 249_999)) * TOKEN + BigInt(int(0, 999_999));
    if (amount < MIN_TRANSFER) amount = MIN_TRANSFER;
    if (amount > MAX_TRANSFER) amount = MAX_TRANSFER;
    const deliveryDeadlineSec = int(15, 30);
    let x = rng2();
    let route: Route = 'layerzero';
    for (const r of ROUTES) {
      x -= ROUTE_WEIGHTS[r];
      if (x < 0) {
        route = r;
        break;
      }
    }
    if (route === 'evm->solana') to = SOLANA_KEY;
    if (route === 'solana->evm') from = SOLANA_KEY;
    rebalances.push({ route, from, to, amount, deliveryDeadlineSec });
  }
  const plan: SchedulePlan = { seed, rebalances };
  if (rng() < 0.6) {
    const kinds = RPC_FAULT_KINDS.filter(() => rng() < 0.3);
    if (kinds.length === 0) kinds.push(RPC_FAULT_KINDS[int(0, RPC_FAULT_KINDS.length - 1)]!);
    const rates: RpcFaultPlan['rates'] = {};
    for (const k of kinds) rates[k] = RPC_RATES[k];
    const chains = rng() < 0.5 ? keys : [keys[int(0, keys.length - 1)]!];
    plan.rpc = { chains, atMs: int(0, 600), forMs: int(1500, 6000), plan: { rates, timeoutHoldMs: 11_000, maxStaleBlocks: 3 } };
  }
  const b = rng();
  if (b < 0.5) {
    const kind: BridgeFaultKind = b < 0.17 ? 'drop' : b < 0.34 ? 'late' : 'duplicate';
    plan.bridge = { kind, atMs: int(0, 3000), delayMs: kind === 'late' ? int(1000, 25_000) : undefined };
  }
  if (rng() < 0.25) plan.workerKill = { atMs: int(200, 4000), pauseMs: int(0, 3000) };
  if (rng() < 0.15) plan.temporalRestart = { atMs: int(200, 4000), pauseMs: int(0, 2000) };
  // The newer kinds (second stream).
  const evmSources = rebalances.map((r) => r.from).filter((k) => k !== SOLANA_KEY);
  const sources = rebalances.map((r) => r.from);
  if (rng2() < 0.15) plan.auditFail = { atMs: int2(0, 1500), extraMs: int2(1000, 3000) };
  if (rng2() < 0.15 && evmSources.length) plan.receiptLate = { chain: evmSources[int2(0, evmSources.length - 1)]!, atMs: int2(0, 200), extraMs: int2(1000, 3000) };
  if (rng2() < 0.3 && rebalances.some((r) => r.from === SOLANA_KEY || r.to === SOLANA_KEY)) plan.solanaLate = { atMs: int2(0, 1000) % 100, extraMs: int2(1500, 4000) };
  if (rng2() < 0.15) plan.killAtSend = { variant: rng2() < 0.5 ? 'before' : 'after', chain: sources[int2(0, sources.length - 1)]!, atMs: int2(0, 500), pauseMs: int2(0, 1500) };
  return plan;
}

/** One line describing a plan, for logs. */
export function describePlan(p: SchedulePlan): string {
  const parts = [`${p.rebalances.length} saga(s): ${p.rebalances.map((r) => `[${r.route}] ${r.from}->${r.to} ${r.amount} (deadline ${r.deliveryDeadlineSec}s)`).join(', ')}`];
  if (p.rpc) parts.push(`rpc ${Object.keys(p.rpc.plan.rates).join('+')} on ${p.rpc.chains.join('+')} at ${p.rpc.atMs}ms for ${p.rpc.forMs}ms`);
  if (p.auditFail) parts.push(`audit reads fail at ${p.auditFail.atMs}ms for ${AUDIT_DEADLINE_SEC}s+${p.auditFail.extraMs}ms`);
  if (p.receiptLate) parts.push(`mining off on ${p.receiptLate.chain} at ${p.receiptLate.atMs}ms for the receipt timeout+${p.receiptLate.extraMs}ms`);
  if (p.solanaLate) parts.push(`solana tx lands late at ${p.solanaLate.atMs}ms (confirm timeout+${p.solanaLate.extraMs}ms)`);
  if (p.killAtSend) parts.push(`worker SIGKILL ${p.killAtSend.variant} a broadcast on ${p.killAtSend.chain} (armed at ${p.killAtSend.atMs}ms, restart after ${p.killAtSend.pauseMs}ms)`);
  if (p.bridge) parts.push(`bridge ${p.bridge.kind} at ${p.bridge.atMs}ms${p.bridge.delayMs ? ` (${p.bridge.delayMs}ms)` : ''}`);
  if (p.workerKill) parts.push(`worker SIGKILL at ${p.workerKill.atMs}ms, restart after ${p.workerKill.pauseMs}ms`);
  if (p.temporalRestart) parts.push(`temporal restart at ${p.temporalRestart.atMs}ms, down ${p.temporalRestart.pauseMs}ms`);
  return parts.join('; ');
}

// ------------------------------------------------------------------ tally

/** Per route: outcomes and the promises that must hold (all 0). */
export interface RouteTally {
  sagas: number;
  completed: number;
  compensated: number;
  stranded: number;
  hung: number;
  failed: number;
  /** Base units unaccounted for in schedules this route ran in (book violations are charged to every route of their schedule). */
  fundsLost: bigint;
  doubleSends: number;
  /** Sagas whose outcome the chain contradicts. */
  contradicted: number;
}

export interface Tally {
  mode: string;
  seeds: number[];
  schedulesRun: number;
  rebalances: number;
  /** Injected (not merely scheduled) faults by kind. */
  faults: {
    rpc: Record<RpcFaultKind, number>;
    /** Transactions held in a chain's pool past the receipt timeout (block production off). */
    receiptLate: number;
    bridge: Record<BridgeFaultKind, number> & { duplicateDeliveriesAttempted: number };
    process: Record<ProcessFaultKind, number>;
  };
  outcomes: { completed: number; compensated: number; stranded: number };
  routes: Record<Route, RouteTally>;
  /** Base units unaccounted for (conservation or ownership mismatches): must be 0. */
  fundsLost: bigint;
  doubleSends: number;
  /** Base units of sagas whose outcome does not match what moved on chain (e.g. "compensated" while the tokens sit in a route): must be 0. */
  fundsMisattributed: bigint;
  /** Sagas whose outcome the chain contradicts: must be 0. */
  contradicted: number;
  /** Sagas not ended within the hang limit. */
  hung: number;
  violations: (Violation & { seed: number })[];
  failingSeeds: number[];
  workerCrashes: number;
  wallTimeSec: number;
  /** Longest schedule, seconds, and its seed. */
  slowest: { seed: number; sec: number };
  /** `market: 'aave'`: each allocator's books at the start and at the end of the run (underlying base units). */
  treasury?: Record<string, { opening: AllocatorBooks; closing?: AllocatorBooks }>;
  /** `market`: `vault+aave` for two runs' tallies merged ({@link mergeTallies}). */
  options: { blockTimeSec?: number; workers: number; market: DevnetMarket | 'vault+aave' };
}

const emptyRoute = (): RouteTally => ({ sagas: 0, completed: 0, compensated: 0, stranded: 0, hung: 0, failed: 0, fundsLost: 0n, doubleSends: 0, contradicted: 0 });

function emptyTally(mode: string, options: Tally['options']): Tally {
  return {
    mode,
    seeds: [],
    schedulesRun: 0,
    rebalances: 0,
    faults: {
      rpc: Object.fromEntries(ALL_PROXY_FAULT_KINDS.map((k) => [k, 0])) as Record<RpcFaultKind, number>,
      receiptLate: 0,
      bridge: { drop: 0, late: 0, duplicate: 0, duplicateDeliveriesAttempted: 0 },
      process: { workerKill: 0, temporalRestart: 0 },
    },
    outcomes: { completed: 0, compensated: 0, stranded: 0 },
    routes: Object.fromEntries(ROUTES.map((r) => [r, emptyRoute()])) as Record<Route, RouteTally>,
    fundsLost: 0n,
    doubleSends: 0,
    fundsMisattributed: 0n,
    contradicted: 0,
    hung: 0,
    violations: [],
    failingSeeds: [],
    workerCrashes: 0,
    wallTimeSec: 0,
    slowest: { seed: 0, sec: 0 },
    options,
  };
}

/** The injected count of every kind in {@link FAULT_KINDS}. */
export function injectedByKind(t: Tally): Record<string, number> {
  const r = t.faults.rpc;
  return {
    ...Object.fromEntries(RPC_FAULT_KINDS.map((k) => [`rpc:${k}`, r[k]])),
    'audit:readFail': r.auditRead,
    'evm:receiptLate': t.faults.receiptLate,
    'solana:confirmLate': r.lateTx,
    'process:killBeforeSend': r.killBeforeSend,
    'process:killAfterSend': r.killAfterSend,
    'bridge:drop': t.faults.bridge.drop,
    'bridge:late': t.faults.bridge.late,
    'bridge:duplicate': t.faults.bridge.duplicate,
    'process:workerKill': t.faults.process.workerKill,
    'process:temporalRestart': t.faults.process.temporalRestart,
  };
}

/** The tally as text (one fact a line). */
export function formatTally(t: Tally, replay: (seed: number) => string): string {
  const market = { aave: 'treasury in Aave v3 (AaveAllocator)', vault: 'treasury in the CollateralVault', 'vault+aave': 'two environments: treasury in the CollateralVault / in Aave v3' }[t.options.market];
  const opt = `${market}, ${t.options.blockTimeSec ? `anvil --block-time ${t.options.blockTimeSec}` : 'anvil automine'}, ${t.options.workers} worker process(es)`;
  const inj = injectedByKind(t);
  const lines = [
    `chaos ${t.mode}: ${t.schedulesRun} schedules (seeds ${t.seeds[0]}..${t.seeds[t.seeds.length - 1]}), ${t.rebalances} sagas, ${opt}, wall time ${t.wallTimeSec.toFixed(1)} s (slowest schedule: seed ${t.slowest.seed}, ${t.slowest.sec.toFixed(1)} s)`,
    `faults injected (counted when injected, not when scheduled):`,
    `  rpc      ${RPC_FAULT_KINDS.map((k) => `${k}=${t.faults.rpc[k]}`).join(' ')}`,
    `  audit    readFail=${inj['audit:readFail']} (pinned reads failed while the legs' reads and writes went through)`,
    `  late tx  evm receiptLate=${inj['evm:receiptLate']} (held in the pool past the receipt timeout, then mined)  solana confirmLate=${inj['solana:confirmLate']} (landed after the confirmation wait)`,
    `  bridge   drop=${t.faults.bridge.drop} late=${t.faults.bridge.late} duplicate=${t.faults.bridge.duplicate} (messages re-submitted: ${t.faults.bridge.duplicateDeliveriesAttempted})`,
    `  process  workerKill=${t.faults.process.workerKill} killBeforeSend=${inj['process:killBeforeSend']} killAfterSend=${inj['process:killAfterSend']} temporalRestart=${t.faults.process.temporalRestart} (worker exits not caused by us: ${t.workerCrashes})`,
    `per route:`,
  ];
  const w = Math.max(...ROUTES.map((r) => ROUTE_LABEL[r].length));
  for (const r of ROUTES) {
    const x = t.routes[r];
    lines.push(
      `  ${ROUTE_LABEL[r].padEnd(w)}  sagas=${x.sagas} completed=${x.completed} compensated=${x.compensated} stranded=${x.stranded}${x.hung ? ` hung=${x.hung}` : ''}${x.failed ? ` failed=${x.failed}` : ''} | funds lost=${x.fundsLost} double sends=${x.doubleSends} contradicted=${x.contradicted}`,
    );
  }
  for (const [chain, a] of Object.entries(t.treasury ?? {})) {
    const c = a.closing;
    const net = (b: AllocatorBooks) => b.cumulativeWithdrawnToRoute - b.cumulativeDepositedFromRoute;
    lines.push(
      c
        ? `  Aave ${chain}: principal ${a.opening.principal} → ${c.principal} (keeper net outflow ${net(c) - net(a.opening)}: to route ${c.cumulativeWithdrawnToRoute - a.opening.cumulativeWithdrawnToRoute}, from route ${c.cumulativeDepositedFromRoute - a.opening.cumulativeDepositedFromRoute}), aToken balance ${c.suppliedBalance} (interest + rounding dust ${c.suppliedBalance - c.principal}), counters identity diff ${allocatorIdentityDiff(c)}`
        : `  Aave ${chain}: principal ${a.opening.principal} at the start (no closing read)`,
    );
  }
  lines.push(
    `outcomes: completed=${t.outcomes.completed} compensated=${t.outcomes.compensated} stranded=${t.outcomes.stranded}${t.hung ? ` hung=${t.hung}` : ''}`,
    `funds lost: ${t.fundsLost} base units (must be 0)`,
    `double sends: ${t.doubleSends} (must be 0)`,
    `outcomes contradicted by the chain: ${t.contradicted} sagas, ${t.fundsMisattributed} base units (must be 0)`,
  );
  const notInjected = FAULT_KINDS.filter((k) => !inj[k]);
  if (notInjected.length) lines.push(`fault kinds not injected in this run: ${notInjected.join(', ')}`);
  if (t.violations.length) {
    lines.push(`VIOLATIONS (${t.violations.length}):`);
    for (const v of t.violations) lines.push(`  seed ${v.seed}${v.route ? ` [${v.route}]` : ''} ${v.kind}${v.rebalanceId ? ` ${v.rebalanceId}` : ''}: ${v.detail}`);
    lines.push('replay a failing seed with:');
    for (const s of t.failingSeeds) lines.push(`  ${replay(s)}`);
  } else {
    lines.push('all promises held');
  }
  return lines.join('\n');
}

/** JSON of the tally (bigints as strings). */
export function tallyJson(t: Tally): string {
  return JSON.stringify(t, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

// ------------------------------------------------------------------ running

export interface RunChaosOptions {
  mode: 'short' | 'long' | 'custom';
  seeds: number[];
  /** A saga not ended after this many seconds is reported `hung` (default 600). */
  hangSec?: number;
  /** Keep every schedule's log (default: only failing ones). */
  keepLogs?: boolean;
  /** Progress lines (default: stderr). */
  progress?: (line: string) => void;
  /** anvil `--block-time` (default automine). */
  blockTimeSec?: number;
  /** Worker processes on the task queue (default 1). */
  workers?: number;
  /** Start the Solana chain (default true); false only for seeds without a Solana route (checked up front). */
  solana?: boolean;
  /** Where the treasury's liquidity sits on the EVM chains (default `vault`; `aave`: real Aave v3 + AaveAllocator). */
  market?: DevnetMarket;
  /**
   * Start the environment at once but run the schedules only once this settles (the suite starts the Aave
   * environment while the vault's schedules run, so its start-up is not on the critical path).
   */
  waitBeforeSchedules?: Promise<unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the schedules of `opts.seeds` on one environment; always stops everything it started. */
export async function runChaos(opts: RunChaosOptions): Promise<Tally & { workDir: string }> {
  const started = Date.now();
  const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
  const tally = emptyTally(opts.mode, { ...(opts.blockTimeSec ? { blockTimeSec: opts.blockTimeSec } : {}), workers: opts.workers ?? 1, market: opts.market ?? 'vault' });
  if (opts.solana === false) {
    const onSolana = opts.seeds.filter((seed) => planSchedule(seed).rebalances.some((r) => r.from === SOLANA_KEY || r.to === SOLANA_KEY));
    if (onSolana.length > 0) throw new Error(`chaos: seeds ${onSolana.join(', ')} plan Solana routes; they need the Solana chain (solana: true)`);
  }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-chaos-'));
  const logDir = path.join(workDir, 'schedules');
  fs.mkdirSync(logDir, { recursive: true });
  let env: ChaosEnv | undefined;
  const envLog = fs.createWriteStream(path.join(workDir, 'env.log'));
  let sink: (line: string) => void = (l) => envLog.write(l);
  let fatal: unknown;
  try {
    progress(`chaos: starting the environment in ${workDir}`);
    env = await startChaosEnv({
      workDir,
      seed: opts.seeds[0] ?? 1,
      ...(opts.blockTimeSec ? { blockTimeSec: opts.blockTimeSec } : {}),
      workers: opts.workers ?? 1,
      ...(opts.solana === false ? { solana: false } : {}),
      market: opts.market ?? 'vault',
      onProxyFault: (chain, f) => {
        if (!f.followUp) tally.faults.rpc[f.kind]++;
        sink(`${new Date(f.atMs).toISOString()} [proxy ${chain}] ${f.kind} ${f.method}${f.detail ? ` ${f.detail}` : ''}\n`);
      },
    });
    const e = env;
    e.setLogSink((l) => sink(l));
    e.devnet.relayer.setMaxListeners(50);
    const opening = await readBooks(e);
    if (opening.inFlightTotal !== 0n) throw new Error(`chaos: ${opening.inFlightTotal} in flight before any schedule`);
    if (e.market === 'aave') {
      const missing = Object.keys(e.chains).filter((k) => !opening.allocators[k]);
      if (missing.length) throw new Error(`chaos: market aave but no AaveAllocator on ${missing.join(', ')}`);
      tally.treasury = Object.fromEntries(Object.entries(opening.allocators).map(([k, a]) => [k, { opening: a }]));
    }
    /** Σ residual (tokens outside every vault) over every rebalance so far, by rebalance id. */
    const residuals = new Map<Hex, bigint>();
    const treasuryText = e.market === 'aave' ? `treasury in Aave: Σ allocator principal ${Object.values(opening.allocators).reduce((a, x) => a + x.principal, 0n)}` : `treasury in the vaults ${opening.vaults}`;
    progress(`chaos: ready (circulating supply ${opening.totalSupply}, ${treasuryText}, lending capacity ${opening.capacity}); running ${opts.seeds.length} schedule(s)`);
    if (opts.waitBeforeSchedules) {
      await opts.waitBeforeSchedules.catch(() => undefined);
      progress('chaos: go');
    }

    for (const seed of opts.seeds) {
      const logFile = path.join(logDir, `seed-${seed}.log`);
      const out = fs.createWriteStream(logFile);
      sink = (l) => out.write(l);
      const t0 = Date.now();
      const plan = planSchedule(seed);
      e.log(`[chaos] seed ${seed}: ${describePlan(plan)}`);
      let violations: Violation[];
      try {
        violations = await runSchedule(e, plan, tally, residuals, opening, opts.hangSec ?? 600);
        if (e.fatal) throw new Error(e.fatal);
      } catch (err) {
        // A harness failure is reported like a violation (with its seed), and the run stops: the environment may be broken.
        violations = [{ kind: 'harness', detail: `the schedule could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` }];
        fatal = err;
      }
      const sec = (Date.now() - t0) / 1000;
      tally.schedulesRun++;
      tally.seeds.push(seed);
      if (sec > tally.slowest.sec) tally.slowest = { seed, sec };
      for (const v of violations) e.log(`[chaos] VIOLATION ${v.kind} ${v.rebalanceId ?? ''}: ${v.detail}`);
      await new Promise((r) => out.end(r));
      sink = (l) => envLog.write(l);
      if (violations.length) {
        tally.violations.push(...violations.map((v) => ({ ...v, seed })));
        tally.failingSeeds.push(seed);
        progress(`chaos: seed ${seed} FAILED in ${sec.toFixed(1)} s (${violations.map((v) => v.kind).join(', ')}); log kept: ${logFile}`);
      } else {
        progress(`chaos: seed ${seed} ok in ${sec.toFixed(1)} s: ${describePlan(plan)}`);
        if (!opts.keepLogs) fs.rmSync(logFile, { force: true });
      }
      if (fatal) break;
    }
    tally.workerCrashes = e.workerCrashes;
    if (tally.treasury) {
      const closing = await readBooks(e);
      for (const [k, a] of Object.entries(closing.allocators)) if (tally.treasury[k]) tally.treasury[k].closing = a;
    }
  } finally {
    sink = (l) => envLog.write(l);
    await env?.stop().catch((err: unknown) => progress(`chaos: stopping the environment failed: ${String(err)}`));
    await new Promise((r) => envLog.end(r));
    tally.wallTimeSec = (Date.now() - started) / 1000;
    if (tally.failingSeeds.length === 0 && !opts.keepLogs && !fatal) fs.rmSync(workDir, { recursive: true, force: true });
  }
  tally.fundsLost = tally.violations.filter((v) => v.kind === 'fundsLost').reduce((a, v) => a + (v.lostBaseUnits ?? 0n), 0n);
  tally.fundsMisattributed = tally.violations.filter((v) => v.kind === 'outcomeMismatch').reduce((a, v) => a + (v.lostBaseUnits ?? 0n), 0n);
  tally.contradicted = new Set(tally.violations.filter((v) => v.kind === 'outcomeMismatch').map((v) => `${v.seed}:${v.rebalanceId}`)).size;
  tally.doubleSends = tally.violations.filter((v) => v.kind === 'doubleSend' || v.kind === 'duplicateDelivery').length;
  tally.hung = tally.violations.filter((v) => v.kind === 'hung').length;
  return { ...tally, workDir };
}

/** A saga of a schedule: its input, route and workflow handle. */
interface Started {
  route: Route;
  rebalanceId: Hex;
  from: string;
  to: string;
  amount: bigint;
  handle: { result(): Promise<unknown> };
}

/** Runs one schedule: start the sagas, inject the plan's faults, wait, clean the bridges, check. */
async function runSchedule(e: ChaosEnv, plan: SchedulePlan, tally: Tally, residuals: Map<Hex, bigint>, opening: Awaited<ReturnType<typeof readBooks>>, hangSec: number): Promise<Violation[]> {
  const violations: Violation[] = [];
  const relayer = e.devnet.relayer;
  const guardian = e.devnet.guardian;
  await e.startWorker();
  for (const [i, p] of Object.values(e.proxies).entries()) p.reseed((plan.seed * 7919 + i) >>> 0);
  const evmKeys = Object.keys(e.chains);

  // Delivered twice: every LayerZero packet delivered during this schedule is submitted again by the relayer key.
  let dupChain: Promise<void> = Promise.resolve();
  const onDelivered = (p: DeliveredPacket) => {
    dupChain = dupChain.then(() => deliverAgain(e, p, tally, violations)).catch((err: unknown) => e.log(`[chaos] re-delivery of ${p.guid} errored: ${String(err)}`));
  };

  const dupAttemptsBefore = tally.faults.bridge.duplicateDeliveriesAttempted;
  const tStart = Date.now();
  const started: Started[] = [];
  for (const [i, r] of plan.rebalances.entries()) {
    const rebalanceId = keccak256(toHex(`ballast-chaos:${plan.seed}:${i}`));
    const bridge = bridgeOf(r.route);
    // auditDeadlineSec: how long a saga retries an audit (workflows: default 600 s); short here so an audit-only
    // failure window outlasts it. Sagas from before the field existed ignore it.
    if (isCapacity(r.route)) {
      const input: CapacityMoveInput = { rebalanceId, from: r.from, to: r.to, amount: r.amount, reason: `chaos seed ${plan.seed} #${i}`, bridge, deliveryDeadlineSec: r.deliveryDeadlineSec, vaaPollIntervalMs: 200, auditDeadlineSec: AUDIT_DEADLINE_SEC, heartbeatTimeoutSec: HEARTBEAT_TIMEOUT_SEC };
      started.push({ route: r.route, rebalanceId, from: r.from, to: r.to, amount: r.amount, handle: await e.client.workflow.start('capacityMoveWorkflow', { taskQueue: e.taskQueue, workflowId: rebalanceId, args: [input] }) });
    } else {
      const input: RebalanceInput = { rebalanceId, from: r.from, to: r.to, amount: r.amount, reason: `chaos seed ${plan.seed} #${i}`, deliveryDeadlineSec: r.deliveryDeadlineSec, bridge, auditDeadlineSec: AUDIT_DEADLINE_SEC, heartbeatTimeoutSec: HEARTBEAT_TIMEOUT_SEC };
      started.push({ route: r.route, rebalanceId, from: r.from, to: r.to, amount: r.amount, handle: await e.client.workflow.start('rebalanceWorkflow', { taskQueue: e.taskQueue, workflowId: rebalanceId, args: [input] }) });
    }
    tally.routes[r.route].sagas++;
    e.log(`[chaos] started ${rebalanceId} [${r.route}] ${r.from}->${r.to} ${r.amount}`);
  }
  tally.rebalances += started.length;
  let sagasDone = false;
  /** Fault tasks keeping the worker down on purpose right now; otherwise the harness (as supervisor) keeps it up. */
  let holds = 0;
  const watchdog = setInterval(() => {
    if (holds === 0 && !sagasDone) void e.startWorker().catch((err: unknown) => e.log(`[chaos] supervisor: ${String(err)}`));
  }, 3000);
  watchdog.unref();

  // RPC plans per proxy: the random window and the audit-read window may overlap.
  const rpcOn = new Set<string>();
  let auditOn = false;
  const applyPlans = () => {
    for (const k of evmKeys) {
      const rates: RpcFaultPlan['rates'] = { ...(rpcOn.has(k) ? plan.rpc!.plan.rates : {}), ...(auditOn ? { auditRead: 1 } : {}) };
      if (Object.keys(rates).length === 0) e.proxies[k]!.setEnabled(false);
      else e.proxies[k]!.setPlan({ ...(plan.rpc?.plan ?? {}), rates, auditReadExempt: [e.devnet.deployment.chains[k]!.contracts.endpoint.toLowerCase()] });
    }
  };

  // The fault timeline. Every task's failure is caught at once (an unhandled rejection would kill the runner
  // before its finally) and reported as a harness violation.
  const at = (ms: number) => sleep(Math.max(0, tStart + ms - Date.now()));
  const tasks: Promise<void>[] = [];
  const task = (name: string, fn: () => Promise<void>) =>
    tasks.push(
      fn().catch((err: unknown) => {
        violations.push({ kind: 'harness', detail: `fault task ${name} failed: ${err instanceof Error ? err.message : String(err)}` });
      }),
    );
  if (plan.rpc) {
    const rpc = plan.rpc;
    task('rpc', async () => {
      await at(rpc.atMs);
      e.log(`[chaos] rpc faults ON (${JSON.stringify(rpc.plan.rates)}) on ${rpc.chains.join(', ')}`);
      for (const k of rpc.chains) rpcOn.add(k);
      applyPlans();
      // Every planned kind is injected at least once whatever the timing: a one-shot of each on a planned chain (a
      // saga's source when there is one; swallowTx / nonceTooLow on its next transaction), then the rates apply.
      const src = rpc.chains.find((k) => plan.rebalances.some((r) => r.from === k)) ?? rpc.chains[0]!;
      for (const kind of RPC_FAULT_KINDS) {
        if (!rpc.plan.rates[kind]) continue;
        if (kind === 'swallowTx' || kind === 'nonceTooLow') e.proxies[src]!.injectNext(kind, 'eth_sendRawTransaction');
        else e.proxies[src]!.injectNext(kind);
      }
      await sleep(rpc.forMs);
      rpcOn.clear();
      applyPlans();
      e.log('[chaos] rpc faults OFF');
    });
  }
  if (plan.auditFail) {
    const a = plan.auditFail;
    task('auditFail', async () => {
      await at(a.atMs);
      // After a successful leg: the window opens once a saga's source chain forwarded a transaction (its first
      // leg), or after 3 s at the latest.
      const src = plan.rebalances.map((r) => r.from).find((k) => k !== SOLANA_KEY) ?? evmKeys[0]!;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 3000);
        e.proxies[src]!.watchNextSend(() => {
          clearTimeout(t);
          resolve();
        });
      });
      e.log('[chaos] audit reads fail ON (pinned eth_calls on every EVM chain)');
      auditOn = true;
      applyPlans();
      // The outage is timed from the first pinned read it refuses (a saga's audit), so the audit really meets an outage
      // longer than its deadline whatever the machine's speed; with no audit within AUDIT_ARM_MAX_MS the window closes.
      const refusedBefore = tally.faults.rpc.auditRead;
      const armedAt = Date.now();
      while (tally.faults.rpc.auditRead === refusedBefore && Date.now() - armedAt < AUDIT_ARM_MAX_MS) await sleep(50);
      await sleep(AUDIT_DEADLINE_SEC * 1000 + a.extraMs);
      auditOn = false;
      applyPlans();
      e.log('[chaos] audit reads fail OFF');
    });
  }
  if (plan.receiptLate) {
    const r = plan.receiptLate;
    task('receiptLate', async () => {
      await at(r.atMs);
      e.log(`[chaos] block production OFF on ${r.chain}`);
      await e.setMining(r.chain, false);
      try {
        await sleep(e.receiptTimeoutSec * 1000 + r.extraMs);
      } finally {
        const pool = (await fetch(e.chains[r.chain]!.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'txpool_status', params: [] }) }).then((x) => x.json())) as { result?: { pending?: string } };
        const pending = Number(pool.result?.pending ?? 0);
        if (pending > 0) tally.faults.receiptLate++;
        await e.setMining(r.chain, true);
        e.log(`[chaos] block production ON on ${r.chain} (${pending} transaction(s) were held in the pool past the receipt timeout, now mined)`);
      }
    });
  }
  if (plan.solanaLate && e.proxies[SOLANA_KEY]) {
    const s = plan.solanaLate;
    task('solanaLate', async () => {
      await at(s.atMs);
      e.log('[chaos] next Solana broadcast lands late');
      e.proxies[SOLANA_KEY]!.armSend({ kind: 'lateTx', delayMs: e.confirmTimeoutSec * 1000 + s.extraMs });
    });
  }
  if (plan.killAtSend) {
    const k = plan.killAtSend;
    const proxy = e.proxies[k.chain];
    if (proxy) {
      task('killAtSend', async () => {
        await at(k.atMs);
        let fired = false;
        e.log(`[chaos] worker SIGKILL armed ${k.variant} the next broadcast on ${k.chain}`);
        proxy.armSend({
          kind: k.variant === 'before' ? 'killBeforeSend' : 'killAfterSend',
          run: async () => {
            holds++;
            e.log(`[chaos] SIGKILL worker ${k.variant} broadcasting on ${k.chain}`);
            await e.killWorker();
            fired = true;
          },
        });
        while (!fired && !sagasDone) await sleep(100);
        if (!fired) return;
        try {
          await sleep(k.pauseMs);
          e.log('[chaos] restarting worker');
          await e.startWorker();
          e.log('[chaos] worker ready again');
        } finally {
          holds--;
        }
      });
    }
  }
  if (plan.bridge) {
    const b = plan.bridge;
    task('bridge', async () => {
      await at(b.atMs);
      e.log(`[chaos] bridge fault ${b.kind}${b.delayMs ? ` ${b.delayMs} ms` : ''} (LayerZero relayer and Wormhole guardian)`);
      if (b.kind === 'drop') {
        relayer.setDropAll(true);
        guardian.pause();
      } else if (b.kind === 'late') {
        relayer.setDelayMs(b.delayMs ?? 0);
        guardian.setDelayMs(b.delayMs ?? 0);
        tally.faults.bridge.late++;
      } else relayer.on('delivered', onDelivered);
    });
  }
  if (plan.workerKill) {
    const w = plan.workerKill;
    task('workerKill', async () => {
      await at(w.atMs);
      e.log('[chaos] SIGKILL worker');
      holds++;
      try {
        await e.killWorker();
        tally.faults.process.workerKill++;
        await sleep(w.pauseMs);
        e.log('[chaos] restarting worker');
        await e.startWorker();
        e.log('[chaos] worker ready again');
      } finally {
        holds--;
      }
    });
  }
  if (plan.temporalRestart) {
    const t = plan.temporalRestart;
    task('temporalRestart', async () => {
      await at(t.atMs);
      e.log('[chaos] stopping Temporal');
      await e.restartTemporal(t.pauseMs);
      tally.faults.process.temporalRestart++;
      e.log('[chaos] Temporal is back');
    });
  }

  // Wait for every saga (result() is retried across Temporal restarts), up to the hang limit.
  const deadline = tStart + hangSec * 1000;
  const settled = await Promise.all(
    started.map(async (s) => {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        try {
          const hang = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), Math.max(1, deadline - Date.now()))));
          // No worker can start (the supervisor gave up): nothing will end these sagas; stop waiting.
          const noWorker = new Promise<'hung'>((resolve) => {
            const poll = setInterval(() => {
              if (e.fatal || Date.now() > deadline) {
                clearInterval(poll);
                resolve('hung');
              }
            }, 1000);
            void s.handle.result().then(() => clearInterval(poll), () => clearInterval(poll));
          });
          return await Promise.race([s.handle.result() as Promise<RebalanceResult | CapacityMoveResult>, hang, noWorker]);
        } catch (err) {
          if (err instanceof WorkflowFailedError) {
            violations.push({ kind: 'sagaFailed', route: s.route, rebalanceId: s.rebalanceId, detail: `the workflow failed instead of ending with an outcome: ${err.cause?.message ?? err.message}` });
            tally.routes[s.route].failed++;
            return undefined;
          }
          if (Date.now() > deadline) return 'hung' as const;
          await sleep(1000);
        } finally {
          clearTimeout(timer);
        }
      }
    }),
  );
  sagasDone = true;
  clearInterval(watchdog);
  await Promise.all(tasks);
  const results: { s: Started; r: RebalanceResult | CapacityMoveResult }[] = [];
  for (const [i, x] of settled.entries()) {
    const s = started[i]!;
    if (x === 'hung') {
      violations.push({ kind: 'hung', route: s.route, rebalanceId: s.rebalanceId, detail: e.fatal ? `no outcome: ${e.fatal}` : `no outcome after ${hangSec} s` });
      tally.routes[s.route].hung++;
    } else if (x) {
      results.push({ s, r: x });
      e.log(`[chaos] ${s.rebalanceId} [${s.route}] ${x.outcome}${x.reason ? `: ${x.reason}` : ''}; legs ${x.legs.map((l) => `${l.kind === 'compensation' ? '~' : ''}${l.leg}:${l.status}${l.alreadyDone ? '(already)' : ''}`).join(' ')}`);
      if (x.outcome in tally.outcomes) {
        tally.outcomes[x.outcome]++;
        tally.routes[s.route][x.outcome]++;
      }
    }
  }

  // Clean the bridges and the proxies so the next schedule starts clean: no drops, no delay, no re-delivery;
  // then deliver what is still in flight (the LayerZero relayer replays its dropped packets; Wormhole VAAs are
  // redeemed by the harness, as any relayer may).
  relayer.off('delivered', onDelivered);
  relayer.setDropAll(false);
  relayer.setDelayMs(0);
  guardian.resume();
  guardian.setDelayMs(0);
  guardian.clearFaults();
  const replayed = relayer.replayDropped();
  for (const p of Object.values(e.proxies)) {
    p.setEnabled(false);
    p.clearOneShots();
  }
  for (const k of evmKeys) await e.setMining(k, true);
  await dupChain;
  // A late Solana transaction lands before the checks (so a double move shows).
  for (const p of Object.values(e.proxies)) for (let i = 0; p.lateTxPending > 0 && i < 300; i++) await sleep(100);
  let pendingWh = [...(await readBooks(e)).pendingWormhole, ...(await pendingCreditWormhole(e))];
  if (plan.bridge?.kind === 'drop' && (replayed > 0 || pendingWh.length > 0)) tally.faults.bridge.drop++;
  if (replayed) e.log(`[chaos] replayed ${replayed} dropped LayerZero packet(s)`);
  if (pendingWh.length) e.log(`[chaos] redeeming ${pendingWh.length} undelivered Wormhole message(s)`);
  for (const w of pendingWh) await redeemWormhole(e, w);
  if (plan.bridge?.kind === 'duplicate') await redeliverWormhole(e, plan, started, tally, violations);
  if (plan.bridge?.kind === 'duplicate' && tally.faults.bridge.duplicateDeliveriesAttempted > dupAttemptsBefore) tally.faults.bridge.duplicate++;
  let after = await readBooks(e);
  const drainBy = Date.now() + 90_000;
  while (after.inFlightTotal > 0n && Date.now() < drainBy) {
    await sleep(250);
    pendingWh = after.pendingWormhole;
    for (const w of pendingWh) await redeemWormhole(e, w, 0);
    after = await readBooks(e);
  }
  const bookViolations: Violation[] = [];
  if (after.inFlightTotal > 0n) bookViolations.push({ kind: 'fundsLost', detail: `${after.inFlightTotal} still in flight 90 s after the bridges were cleaned (${[...after.inFlight.keys()].join(', ')})`, lostBaseUnits: 0n });

  // Per saga: outcome vs the on-chain record; double sends.
  for (const { s, r } of results) {
    let vs: Violation[];
    if (isCapacity(s.route)) {
      const f = await readCapacityFacts(e, s.rebalanceId, s.from, s.to);
      vs = checkCapacity(r as CapacityMoveResult, f);
      e.log(`[chaos] ${s.rebalanceId} capacity residual ${capacityResidualOf(f)}`);
    } else {
      const f = await readFacts(e, s.rebalanceId, s.from, s.to, bridgeOf(s.route));
      residuals.set(s.rebalanceId, residualOf(f));
      vs = checkRebalance(r as RebalanceResult, f);
    }
    for (const v of vs) {
      v.route = s.route;
      if (v.kind === 'outcomeMismatch') tally.routes[s.route].contradicted++;
      if (v.kind === 'doubleSend') tally.routes[s.route].doubleSends++;
    }
    violations.push(...vs);
  }
  // Sagas without a result (hung/failed) still own what they moved.
  for (const s of started) {
    if (results.some((x) => x.s === s) || isCapacity(s.route)) continue;
    const f = await readFacts(e, s.rebalanceId, s.from, s.to, bridgeOf(s.route));
    residuals.set(s.rebalanceId, residualOf(f));
    if (Object.values(f.events).some((n) => n > 1)) {
      violations.push({ kind: 'doubleSend', route: s.route, rebalanceId: s.rebalanceId, detail: `records per key ${JSON.stringify(f.events)}` });
      tally.routes[s.route].doubleSends++;
    }
  }

  // The books: supply and capacity conserved; every token outside the vaults belongs to some saga's residual.
  const owned = [...residuals.values()].reduce((a, b) => a + b, 0n);
  if (after.totalSupply + after.inFlightTotal !== opening.totalSupply) {
    const d = opening.totalSupply - after.totalSupply - after.inFlightTotal;
    bookViolations.push({ kind: 'fundsLost', detail: `after draining: Σ circulating supply ${after.totalSupply} + in flight ${after.inFlightTotal} ≠ opening ${opening.totalSupply} (${JSON.stringify(after.perChain, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))})`, lostBaseUnits: d < 0n ? -d : d });
  }
  if (after.routes + after.inFlightTotal !== owned || after.vaults !== opening.vaults - owned) {
    const d = after.routes + after.inFlightTotal - owned;
    bookViolations.push({
      kind: 'fundsLost',
      detail: `tokens outside the vaults: routes/treasury ${after.routes} + in flight ${after.inFlightTotal}, owned by sagas (Σ out − redeposit − return-deposit − deposit) ${owned}; ${e.market === 'aave' ? 'allocator principal' : 'vaults'}/reserve ${after.vaults} vs opening ${opening.vaults} − owned = ${opening.vaults - owned}`,
      lostBaseUnits: d < 0n ? -d : d,
    });
  }
  // On Aave: each allocator's principal is exactly its counters' (supplied − withdrawn) − (to route − from route).
  for (const [k, a] of Object.entries(after.allocators)) {
    const d = allocatorIdentityDiff(a);
    if (d !== 0n) {
      bookViolations.push({ kind: 'fundsLost', detail: `${k}: AaveAllocator principal() ${a.principal} ≠ (supplied ${a.cumulativeSupplied} − withdrawn ${a.cumulativeWithdrawn}) − (to route ${a.cumulativeWithdrawnToRoute} − from route ${a.cumulativeDepositedFromRoute}): diff ${d}`, lostBaseUnits: d < 0n ? -d : d });
    }
  }
  if (after.capacity !== opening.capacity) {
    const d = after.capacity - opening.capacity;
    bookViolations.push({ kind: 'fundsLost', detail: `lending capacity Σ (borrowLimit + reserved + sent − received + pending + orphaned) ${after.capacity} ≠ opening ${opening.capacity}`, lostBaseUnits: d < 0n ? -d : d });
  }
  const routesHere = [...new Set(started.map((s) => s.route))];
  for (const v of bookViolations) for (const r of routesHere) tally.routes[r].fundsLost += v.lostBaseUnits ?? 0n;
  violations.push(...bookViolations);
  return violations;
}

/** Redeems one undelivered Wormhole message with its guardian-signed VAA (anyone may): EVM adapter / messenger, or the Solana custody. */
async function redeemWormhole(e: ChaosEnv, w: PendingWormhole, waitMs = 10_000): Promise<void> {
  let vaa: Uint8Array | undefined;
  for (let i = 0; i <= waitMs / 200 && !vaa; i++) {
    vaa = e.devnet.guardian.signedVaa(w.emitterChain, w.emitter, w.sequence);
    if (!vaa) await sleep(200);
  }
  if (!vaa) {
    e.log(`[chaos] no signed VAA for ${w.emitterChain}/${w.emitter}/${w.sequence} (${w.kind} ${w.from}->${w.to})`);
    return;
  }
  try {
    if (w.to === SOLANA_KEY) {
      const r = await e.devnet.solana!.custody.redeem(bytesToHex(vaa));
      e.log(`[chaos] redeemed ${w.from}->${w.to} seq ${w.sequence} on Solana: ${r.signature}${r.consumed ? ' (already consumed)' : ''}`);
      return;
    }
    const dep = e.devnet.deployment.chains[w.to]!;
    const ch = e.chains[w.to]!;
    const hash =
      w.kind === 'tokens'
        ? await ch.relayer.writeContract({ address: dep.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [bytesToHex(vaa)], gas: 1_000_000n })
        : await ch.relayer.writeContract({ address: dep.contracts.creditMessenger, abi: creditMessengerAbi, functionName: 'receiveCreditVaa', args: [bytesToHex(vaa)], gas: 1_000_000n });
    const rc = await ch.pub.waitForTransactionReceipt({ hash });
    e.log(`[chaos] redeemed ${w.kind} ${w.from}->${w.to} seq ${w.sequence}: ${rc.status}`);
  } catch (err) {
    e.log(`[chaos] redeeming ${w.kind} ${w.from}->${w.to} seq ${w.sequence} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** Delivered twice over Wormhole: each delivered token VAA of this schedule's sagas is submitted again; it must change nothing. */
async function redeliverWormhole(e: ChaosEnv, plan: SchedulePlan, started: Started[], tally: Tally, violations: Violation[]): Promise<void> {
  for (const s of started) {
    if (s.route !== 'wormhole' && s.route !== 'solana->evm') continue;
    const f = await readFacts(e, s.rebalanceId, s.from, s.to, 'wormhole');
    if (f.sent === 0n || f.events.forwardDeliveries !== 1) continue;
    const dep = e.devnet.deployment.chains[s.to]!;
    const ch = e.chains[s.to]!;
    const received = await ch.pub.getLogs({ address: dep.contracts.wormholeAdapter, event: parseAbiItem('event WormholeReceived(bytes32 indexed rebalanceId, uint16 indexed emitterChain, uint64 indexed sequence, uint256 amount, bytes32 vmHash)'), args: { rebalanceId: s.rebalanceId }, fromBlock: 0n, toBlock: 'latest' });
    const l = received[0];
    if (!l) continue;
    const emitter = s.from === SOLANA_KEY ? (`0x${Buffer.from(new (await import('@solana/web3.js')).PublicKey(e.devnet.solana!.accounts.custody).toBytes()).toString('hex')}` as Hex) : e.devnet.deployment.chains[s.from]!.contracts.wormholeAdapter;
    const vaa = e.devnet.guardian.signedVaa(Number(l.args.emitterChain), emitter, l.args.sequence!);
    if (!vaa) continue;
    tally.faults.bridge.duplicateDeliveriesAttempted++;
    let status: string;
    try {
      const hash = await ch.relayer.writeContract({ address: dep.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'receiveMessage', args: [bytesToHex(vaa)], gas: 1_000_000n });
      status = (await ch.pub.waitForTransactionReceipt({ hash })).status;
    } catch (err) {
      status = `refused (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
    }
    e.log(`[chaos] seed ${plan.seed}: re-delivery of the Wormhole VAA of ${s.rebalanceId} on ${s.to}: ${status}`);
    if (status === 'success') violations.push({ kind: 'duplicateDelivery', route: s.route, rebalanceId: s.rebalanceId, detail: `the already redeemed VAA of ${s.rebalanceId} was accepted again on ${s.to}` });
  }
}

/** Submits a delivered packet again with the relayer key (verify, then execute): both must revert and change nothing. */
async function deliverAgain(e: ChaosEnv, p: DeliveredPacket, tally: Tally, violations: Violation[]): Promise<void> {
  const src = Object.entries(e.devnet.deployment.chains).find(([, c]) => c.eid === p.srcEid);
  const dst = Object.entries(e.devnet.deployment.chains).find(([, c]) => c.eid === p.dstEid);
  if (!src || !dst) return;
  const [srcKey, srcDep] = src;
  const [dstKey, dstDep] = dst;
  const logs = await e.chains[srcKey]!.pub.getLogs({ address: srcDep.contracts.endpoint, event: getAbiItem({ abi: endpointV2Abi, name: 'PacketSent' }), fromBlock: 0n, toBlock: 'latest' });
  const packet = logs.map((l) => decodePacket(l.args.encodedPayload as Hex)).find((x) => x.guid.toLowerCase() === p.guid.toLowerCase());
  if (!packet) {
    e.log(`[chaos] re-delivery: PacketSent of ${p.guid} not found on ${srcKey}`);
    return;
  }
  const relayer = e.devnet.relayer;
  relayer.pause();
  try {
    await relayer.pollOnce(); // any delivery in progress has finished; the relayer key's nonce is ours
    const ch = e.chains[dstKey]!;
    // Only token packets mint (OFTReceived); a credit packet's proof is the reverts and the capacity books.
    const isToken = packet.receiver.toLowerCase().endsWith(dstDep.contracts.token.slice(2).toLowerCase());
    const mints = async () => (isToken ? (await ch.pub.getLogs({ address: dstDep.contracts.token, event: oftReceivedEvent, args: { guid: p.guid }, fromBlock: 0n, toBlock: 'latest' })).length : 1);
    const mintsBefore = await mints();
    tally.faults.bridge.duplicateDeliveriesAttempted++;
    const receive = () =>
      ch.relayer.writeContract({ address: dstDep.contracts.endpoint, abi: endpointV2Abi, functionName: 'lzReceive', args: [{ srcEid: packet.srcEid, sender: packet.sender, nonce: packet.nonce }, `0x${packet.receiver.slice(-40)}`, packet.guid, packet.message, '0x'], gas: 1_000_000n });
    const attempts: [string, () => Promise<Hex>][] = [
      ['lzReceive', receive],
      ['validatePacket', () => ch.relayer.writeContract({ address: dstDep.contracts.sendLib, abi: simpleMessageLibAbi, functionName: 'validatePacket', args: [packet.encoded], gas: 1_000_000n })],
      ['lzReceive after validatePacket', receive],
    ];
    for (const [label, send] of attempts) {
      let status: string;
      try {
        const hash = await send();
        status = (await ch.pub.waitForTransactionReceipt({ hash })).status;
      } catch (err) {
        status = `refused (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
      }
      e.log(`[chaos] re-delivery of ${p.guid} on ${dstKey}: ${label} → ${status}`);
      if (status === 'success') violations.push({ kind: 'duplicateDelivery', detail: `${label} of the already delivered packet ${p.guid} succeeded on ${dstKey}` });
    }
    const mintsAfter = await mints();
    if (mintsBefore !== 1 || mintsAfter !== 1) {
      violations.push({ kind: 'duplicateDelivery', detail: `packet ${p.guid} minted ${mintsBefore} time(s) before and ${mintsAfter} after being delivered again on ${dstKey} (must be 1 and 1)`, lostBaseUnits: 0n });
    }
  } finally {
    relayer.resume();
  }
}

// ------------------------------------------------------------------ CLI

/** Default seeds: short = 20 schedules from seed 1, long = 200 from seed 1. */
export const SHORT_SCHEDULES = 20;
export const LONG_SCHEDULES = 200;

/** Every fault kind a schedule can inject. */
export const FAULT_KINDS: readonly string[] = [
  ...RPC_FAULT_KINDS.map((k) => `rpc:${k}`),
  'audit:readFail',
  'evm:receiptLate',
  'solana:confirmLate',
  'process:killBeforeSend',
  'process:killAfterSend',
  'bridge:drop',
  'bridge:late',
  'bridge:duplicate',
  'process:workerKill',
  'process:temporalRestart',
];

/** The fault kinds plan `p` schedules (`rpc:stale`, `bridge:late`, `process:workerKill`, …). */
export function plannedFaultKinds(p: SchedulePlan): string[] {
  const kinds = Object.keys(p.rpc?.plan.rates ?? {}).map((k) => `rpc:${k}`);
  if (p.auditFail) kinds.push('audit:readFail');
  if (p.receiptLate) kinds.push('evm:receiptLate');
  if (p.solanaLate) kinds.push('solana:confirmLate');
  if (p.killAtSend) kinds.push(p.killAtSend.variant === 'before' ? 'process:killBeforeSend' : 'process:killAfterSend');
  if (p.bridge) kinds.push(`bridge:${p.bridge.kind}`);
  if (p.workerKill) kinds.push('process:workerKill');
  if (p.temporalRestart) kinds.push('process:temporalRestart');
  return kinds;
}

/**
 * A rough wall-time estimate of schedule `p`, seconds: what it waits for by design (a late delivery's delay, a
 * dropped packet's delivery deadline, a killed worker's activity timeouts, a receipt or confirmation timeout, an
 * audit deadline), not a measurement. Used only to prefer cheap schedules in {@link suiteSeeds}.
 */
export function scheduleCostSec(p: SchedulePlan): number {
  // The fault timelines run side by side (each starts within a few seconds of the schedule's start): the schedule
  // waits for the longest of them, not for their sum.
  const waits = [0];
  if (p.bridge?.kind === 'late') waits.push((p.bridge.delayMs ?? 0) / 1000);
  if (p.bridge?.kind === 'drop') waits.push(Math.max(...p.rebalances.map((r) => r.deliveryDeadlineSec)));
  if (p.workerKill) waits.push(p.workerKill.atMs / 1000 + 12 + p.workerKill.pauseMs / 1000);
  if (p.killAtSend) waits.push(12 + p.killAtSend.pauseMs / 1000);
  if (p.temporalRestart) waits.push(p.temporalRestart.atMs / 1000 + 3 + p.temporalRestart.pauseMs / 1000);
  if (p.rpc) waits.push(p.rpc.forMs / 1000 + (p.rpc.plan.rates.timeout ? 11 : 0));
  if (p.auditFail) waits.push(AUDIT_DEADLINE_SEC + p.auditFail.extraMs / 1000 + 2);
  if (p.receiptLate) waits.push(4 + p.receiptLate.extraMs / 1000 + 2);
  if (p.solanaLate) waits.push(4 + p.solanaLate.extraMs / 1000 + 2);
  return 5 + Math.max(...waits) + p.rebalances.length;
}

/**
 * What a schedule covers towards the suite: its fault kinds and routes. An audit-read window counts only in a
 * schedule without a worker kill or Temporal restart: with the worker down, no audit runs in the window and
 * nothing is injected.
 */
const coverOf = (p: SchedulePlan): string[] => [
  ...plannedFaultKinds(p).filter((k) => k !== 'audit:readFail' || !(p.workerKill || p.killAtSend || p.temporalRestart)),
  ...p.rebalances.map((r) => `route:${r.route}`),
];

/**
 * The seeds `npm test` runs: a small set of schedules from seeds 1..`pool` that together plan every fault kind in
 * {@link FAULT_KINDS} and every route, chosen greedily (most uncovered kinds per estimated second first). Pure:
 * the same code gives the same seeds; `npm run chaos` still runs the 20 consecutive schedules and `chaos:long` 200.
 * @throws Error naming the kinds that no seed in 1..pool plans.
 */
export function suiteSeeds(pool = 150): number[] {
  const plans = Array.from({ length: pool }, (_, i) => planSchedule(i + 1));
  const uncovered = new Set([...FAULT_KINDS, ...ROUTES.map((r) => `route:${r}`)]);
  const chosen: number[] = [];
  while (uncovered.size > 0) {
    let best: { seed: number; score: number } | undefined;
    for (const p of plans) {
      if (chosen.includes(p.seed)) continue;
      const gain = coverOf(p).filter((k) => uncovered.has(k)).length;
      if (gain === 0) continue;
      const score = gain / scheduleCostSec(p);
      if (!best || score > best.score) best = { seed: p.seed, score };
    }
    if (!best) throw new Error(`chaos: no schedule among seeds 1..${pool} plans ${[...uncovered].join(', ')}`);
    chosen.push(best.seed);
    for (const k of coverOf(plans[best.seed - 1]!)) uncovered.delete(k);
  }
  return chosen.sort((a, b) => a - b);
}

/** The collateral routes (the ones whose legs touch the treasury contract: the vault, or the AaveAllocator on Aave). */
export const COLLATERAL_ROUTES: readonly Route[] = ROUTES.filter((r) => !isCapacity(r));

/**
 * The suite's seeds split over the two markets, pure: `aave` takes, greedily (most collateral routes not yet run on
 * Aave per estimated second), seeds until every collateral route runs on Aave, then the cheapest of the rest while
 * its estimated time stays below half of the total; `vault` keeps the others. Capacity moves stay on the
 * CollateralVault on both devnets (README "Aave v3 markets"), so they count on either side.
 * @throws Error naming the collateral routes no seed in `seeds` plans.
 */
export function suiteSplit(seeds: number[] = suiteSeeds()): { vault: number[]; aave: number[] } {
  const plans = new Map(seeds.map((s) => [s, planSchedule(s)]));
  const cost = (s: number) => scheduleCostSec(plans.get(s)!);
  const routesOf = (s: number) => new Set(plans.get(s)!.rebalances.map((r) => r.route));
  const uncovered = new Set<Route>(COLLATERAL_ROUTES);
  const aave: number[] = [];
  while (uncovered.size > 0) {
    let best: { seed: number; score: number } | undefined;
    for (const s of seeds) {
      if (aave.includes(s)) continue;
      const gain = [...routesOf(s)].filter((r) => uncovered.has(r)).length;
      if (gain === 0) continue;
      const score = gain / cost(s);
      if (!best || score > best.score) best = { seed: s, score };
    }
    if (!best) throw new Error(`chaos: no suite seed plans ${[...uncovered].join(', ')}`);
    aave.push(best.seed);
    for (const r of routesOf(best.seed)) uncovered.delete(r);
  }
  const total = seeds.reduce((a, s) => a + cost(s), 0);
  for (const s of [...seeds].filter((x) => !aave.includes(x)).sort((x, y) => cost(x) - cost(y))) {
    if (aave.reduce((a, x) => a + cost(x), 0) + cost(s) > total / 2) break;
    aave.push(s);
  }
  return { vault: seeds.filter((s) => !aave.includes(s)), aave: [...aave].sort((a, b) => a - b) };
}

/** Two runs' tallies as one (counts summed, seeds and violations concatenated, wall time = the longer: they overlap). */
export function mergeTallies(a: Tally, b: Tally): Tally {
  const add = <T extends Record<string, number>>(x: T, y: T): T => Object.fromEntries(Object.keys(x).map((k) => [k, x[k]! + y[k]!])) as T;
  const routes = Object.fromEntries(
    ROUTES.map((r) => {
      const x = a.routes[r];
      const y = b.routes[r];
      return [r, { ...add({ ...x, fundsLost: 0 }, { ...y, fundsLost: 0 }), fundsLost: x.fundsLost + y.fundsLost }];
    }),
  ) as Record<Route, RouteTally>;
  const aBridge = a.faults.bridge;
  const bBridge = b.faults.bridge;
  return {
    mode: a.mode,
    seeds: [...a.seeds, ...b.seeds],
    schedulesRun: a.schedulesRun + b.schedulesRun,
    rebalances: a.rebalances + b.rebalances,
    faults: { rpc: add(a.faults.rpc, b.faults.rpc), receiptLate: a.faults.receiptLate + b.faults.receiptLate, bridge: add(aBridge, bBridge), process: add(a.faults.process, b.faults.process) },
    outcomes: add(a.outcomes, b.outcomes),
    routes,
    fundsLost: a.fundsLost + b.fundsLost,
    doubleSends: a.doubleSends + b.doubleSends,
    fundsMisattributed: a.fundsMisattributed + b.fundsMisattributed,
    contradicted: a.contradicted + b.contradicted,
    hung: a.hung + b.hung,
    violations: [...a.violations, ...b.violations],
    failingSeeds: [...a.failingSeeds, ...b.failingSeeds],
    workerCrashes: a.workerCrashes + b.workerCrashes,
    wallTimeSec: Math.max(a.wallTimeSec, b.wallTimeSec),
    slowest: a.slowest.sec >= b.slowest.sec ? a.slowest : b.slowest,
    ...(a.treasury || b.treasury ? { treasury: { ...a.treasury, ...b.treasury } } : {}),
    options: { ...a.options, market: a.options.market === b.options.market ? a.options.market : 'vault+aave' },
  };
}

interface CliArgs {
  mode: 'short' | 'long' | 'custom';
  seeds: number[];
  json: boolean;
  keepLogs: boolean;
  hangSec?: number;
  blockTimeSec?: number;
  workers?: number;
  market?: DevnetMarket;
}

function parseArgs(argv: string[]): CliArgs {
  let mode: CliArgs['mode'] = 'short';
  let count: number | undefined;
  let first = 1;
  const seeds: number[] = [];
  let json = false;
  let keepLogs = false;
  let hangSec: number | undefined;
  let blockTimeSec: number | undefined;
  let workers: number | undefined;
  let market: DevnetMarket | undefined;
  let suite = false;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 0) throw new Error(`chaos: ${flag} needs a non-negative integer (got ${v ?? 'nothing'})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--long') mode = 'long';
    else if (a === '--short') mode = 'short';
    else if (a === '--suite') suite = true;
    else if (a === '--json') json = true;
    else if (a === '--keep-logs') keepLogs = true;
    else if (a === '--seed') seeds.push(num(a, argv[++i]));
    else if (a === '--schedules') count = num(a, argv[++i]);
    else if (a === '--first-seed') first = num(a, argv[++i]);
    else if (a === '--hang-sec') hangSec = num(a, argv[++i]);
    else if (a === '--block-time') blockTimeSec = num(a, argv[++i]) || undefined;
    else if (a === '--workers') workers = Math.max(1, num(a, argv[++i]));
    else if (a === '--market') {
      const m = argv[++i];
      if (m !== 'aave' && m !== 'vault') throw new Error(`chaos: --market needs aave or vault (got ${m ?? 'nothing'})`);
      market = m;
    } else throw new Error(`chaos: unknown argument ${a} (known: --short, --long, --suite, --seed N (repeatable), --schedules N, --first-seed N, --json, --keep-logs, --hang-sec N, --block-time SEC, --workers N, --market aave|vault)`);
  }
  const extra = { json, keepLogs, hangSec, blockTimeSec, workers, market };
  if (seeds.length) return { mode: 'custom', seeds, ...extra };
  if (suite) return { mode: 'custom', seeds: suiteSeeds(), ...extra };
  const n = count ?? (mode === 'long' ? LONG_SCHEDULES : SHORT_SCHEDULES);
  if (count !== undefined && mode === 'short') mode = 'custom';
  return { mode, seeds: Array.from({ length: n }, (_, i) => first + i), ...extra };
}

/** `npm run chaos -- --seed N`: the command that replays one schedule (with the run's options). */
export const replayCommand = (seed: number, opts: { blockTimeSec?: number; workers?: number; market?: DevnetMarket | 'vault+aave' } = {}) =>
  `npm run chaos -- --seed ${seed}${opts.market === 'aave' ? ' --market aave' : ''}${opts.blockTimeSec ? ` --block-time ${opts.blockTimeSec}` : ''}${opts.workers && opts.workers > 1 ? ` --workers ${opts.workers}` : ''}`;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const tally = await runChaos({ mode: args.mode, seeds: args.seeds, keepLogs: args.keepLogs, hangSec: args.hangSec, ...(args.blockTimeSec ? { blockTimeSec: args.blockTimeSec } : {}), ...(args.workers ? { workers: args.workers } : {}), ...(args.market ? { market: args.market } : {}) });
  if (args.json) console.log(tallyJson(tally));
  else console.log(formatTally(tally, (s) => replayCommand(s, args)));
  if (tally.failingSeeds.length) console.error(`logs of failing schedules: ${path.join(tally.workDir, 'schedules')}`);
  return tally.failingSeeds.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
