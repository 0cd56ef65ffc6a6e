/**
 * Prometheus metrics (prefix `ballast_`), served on `/metrics` by the worker process, next to the
 * `/healthz` and `/readyz` probes. Names pass `promtool check metrics` (.ci/run scrapes `scripts/metrics-sample.ts`):
 * counters end in `_total`, gauges do not, and the unit is in the name, one per quantity: seconds, wei for native
 * fees, `_tokens` for asset amounts (whole tokens), `_ratio` for 0..1. A series that covers both saga kinds has a
 * `kind` label (`collateral` | `capacity`); the `lp` label is bounded ({@link MAX_LP_SERIES}). The alert rules in
 * `deploy/prometheus/alerts.yml` and the Grafana dashboard use these names (a unit test checks it).
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WAD } from '../planner/types.js';

/** The two saga kinds: collateral (tokens move) and capacity (credit lines move); the `kind` label. */
export type MoveKind = 'collateral' | 'capacity';

/** The bridges a leg may go over; the `bridge` label of bridge legs. */
export const BRIDGES = ['layerzero', 'wormhole'] as const;

/**
 * The legs each saga kind tracks in `ballast_leg_in_progress_seconds`, and whether a leg goes over a bridge (its
 * series then carry `bridge`, and its SLO is per bridge). Write legs: SLO = the workflow's start-to-close timeout of
 * one attempt (2 minutes); `deliver`: the bridge's own delivery deadline ({@link BallastMetrics.setLegSlos}).
 */
export const SAGA_LEGS: Readonly<Record<MoveKind, readonly { leg: string; overBridge: boolean; bridges?: readonly string[] }[]>> = {
  collateral: [
    { leg: 'withdraw', overBridge: false },
    { leg: 'send', overBridge: true },
    { leg: 'deliver', overBridge: true },
    { leg: 'deposit', overBridge: false },
    { leg: 'redeposit', overBridge: false },
    { leg: 'return', overBridge: true },
    { leg: 'return-deposit', overBridge: false },
  ],
  capacity: [
    { leg: 'reserve', overBridge: false },
    { leg: 'restore', overBridge: false },
    { leg: 'send', overBridge: true },
    { leg: 'deliver', overBridge: true },
    { leg: 'redeem', overBridge: true, bridges: ['wormhole'] },
    { leg: 'apply', overBridge: false },
    { leg: 'return', overBridge: true },
    { leg: 'return-apply', overBridge: false },
  ],
};

/** SLO of a write leg, seconds: one attempt's start-to-close timeout. */
export const WRITE_LEG_SLO_SECONDS = 120;

/** Default delivery deadlines, seconds (config `layerzero.deliveryDeadlineSec`, `wormhole.deliveryDeadlineSec`). */
export const DEFAULT_DELIVERY_DEADLINE_SECONDS: Readonly<Record<(typeof BRIDGES)[number], number>> = { layerzero: 600, wormhole: 1800 };

/** At most this many distinct `lp` label values per process; later LPs are counted under `lp="other"`. */
export const MAX_LP_SERIES = 100;

/** Labels of a running leg besides leg and route: the saga kind, and the bridge when the leg goes over one. */
export interface LegLabels {
  kind?: MoveKind;
  bridge?: string;
}

/**
 * Legs running now, by `(leg, route, key)`, with their start time (ms since epoch). Read at scrape time
 * into `ballast_leg_in_progress_seconds`: the age of the oldest running leg per `(leg, route)`.
 */
export class LegTracker {
  private readonly running = new Map<string, { leg: string; route: string; kind: MoveKind; bridge?: string; startedAtMs: number }>();

  /**
   * Marks a leg as running (the first call for a key wins: retries keep the original start).
   * @param labels the saga kind (default `collateral`) and, for a leg over a bridge, the bridge.
   */
  start(leg: string, route: string, key: string, labels: LegLabels = {}, nowMs = Date.now()): void {
    const id = `${leg}|${route}|${key}`;
    if (!this.running.has(id)) this.running.set(id, { leg, route, kind: labels.kind ?? 'collateral', ...(labels.bridge ? { bridge: labels.bridge } : {}), startedAtMs: nowMs });
  }

  /** Marks a leg as ended (done, failed for good, or abandoned). Unknown keys are ignored. */
  end(leg: string, route: string, key: string): void {
    this.running.delete(`${leg}|${route}|${key}`);
  }

  /** Ends every running leg whose key is `key` (e.g. every leg of a finished rebalance). */
  endKey(key: string): void {
    for (const id of [...this.running.keys()]) if (id.endsWith(`|${key}`)) this.running.delete(id);
  }

  /** Oldest running leg per `(kind, bridge, leg, route)`: age in seconds. */
  oldest(nowMs = Date.now()): { leg: string; route: string; kind: MoveKind; bridge?: string; ageSec: number }[] {
    const out = new Map<string, { leg: string; route: string; kind: MoveKind; bridge?: string; ageSec: number }>();
    for (const r of this.running.values()) {
      const ageSec = Math.max(0, (nowMs - r.startedAtMs) / 1000);
      const k = `${r.kind}|${r.bridge ?? ''}|${r.leg}|${r.route}`;
      if ((out.get(k)?.ageSec ?? -1) < ageSec) out.set(k, { leg: r.leg, route: r.route, kind: r.kind, ...(r.bridge ? { bridge: r.bridge } : {}), ageSec });
    }
    return [...out.values()];
  }

  /** Number of legs running now. */
  get size(): number {
    return this.running.size;
  }
}

/** All Ballast metrics on one registry (one per process; tests may create their own). */
export class BallastMetrics {
  readonly registry = new Registry();
  readonly utilizationRatio = new Gauge({ name: 'ballast_utilization_ratio', help: 'Utilization = borrowed / supplied (0..1); on an Aave reserve, debt / (available + debt)', labelNames: ['chain'], registers: [this.registry] });
  readonly supplyApyRatio = new Gauge({ name: 'ballast_supply_apy_ratio', help: "Supply APY of the chain's Aave reserve (currentLiquidityRate compounded per second), 0..1", labelNames: ['chain'], registers: [this.registry] });
  readonly treasurySupplyTokens = new Gauge({ name: 'ballast_treasury_supply_tokens', help: "The treasury's supply in the chain's Aave reserve (its aToken balance), whole tokens", labelNames: ['chain', 'asset'], registers: [this.registry] });
  readonly idleBalance = new Gauge({ name: 'ballast_idle_tokens', help: 'Idle liquidity in the vault, whole tokens', labelNames: ['chain', 'asset'], registers: [this.registry] });
  readonly oraclePrice = new Gauge({ name: 'ballast_oracle_price', help: 'Latest oracle answer, in quote units (e.g. USD)', labelNames: ['chain'], registers: [this.registry] });
  readonly oracleAgeSeconds = new Gauge({ name: 'ballast_oracle_age_seconds', help: 'Age of the latest oracle round at the snapshot block', labelNames: ['chain'], registers: [this.registry] });
  readonly oracleRejected = new Gauge({ name: 'ballast_oracle_rejected', help: '1 when the chain is left out of planning because of its oracle round', labelNames: ['chain'], registers: [this.registry] });
  readonly snapshotFreshness = new Gauge({ name: 'ballast_snapshot_freshness', help: '2 fresh, 1 partial, 0 stale (per chain: 1 read and checked, 0 excluded)', labelNames: ['chain'], registers: [this.registry] });
  readonly rebalancesStarted = new Counter({ name: 'ballast_rebalances_started_total', help: 'Sagas started, by kind (collateral | capacity)', labelNames: ['kind', 'route', 'bridge'], registers: [this.registry] });
  readonly rebalancesTotal = new Counter({ name: 'ballast_rebalances_total', help: 'Sagas finished, by kind (collateral | capacity) and outcome (completed | compensated | stranded)', labelNames: ['kind', 'route', 'bridge', 'outcome'], registers: [this.registry] });
  readonly legDurationSeconds = new Histogram({ name: 'ballast_leg_duration_seconds', help: 'Duration of one saga leg activity (one attempt), by saga kind', labelNames: ['kind', 'leg', 'route'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600], registers: [this.registry] });
  readonly bridgeFeePaid = new Counter({ name: 'ballast_bridge_fee_paid_wei_total', help: 'Native bridge fees paid by the keeper, wei, by saga kind', labelNames: ['kind', 'route', 'bridge'], registers: [this.registry] });
  readonly ledgerMismatch = new Gauge({ name: 'ballast_ledger_mismatch', help: '1 when the funds ledger disagrees with the chains (new rebalances stopped), else 0', labelNames: [], registers: [this.registry] });
  readonly auditUnavailable = new Counter({ name: 'ballast_ledger_audit_unavailable_total', help: 'Saga ledger reconciliations that could not read the chains past their deadline (the saga went on by its legs)', labelNames: ['kind'], registers: [this.registry] });
  readonly inflightAmount = new Gauge({ name: 'ballast_inflight_tokens', help: 'Collateral in flight on the route, whole tokens', labelNames: ['route', 'bridge'], registers: [this.registry] });
  // Per tick, from the planRebalances activity (activities/plan.ts); the certificate fields are the optimal planner's (planner/optimal.ts).
  readonly planObjective = new Gauge({ name: 'ballast_plan_objective', help: "Objective of the last optimal plan: 1000 x unmet need + fees, base units (the certificate's)", labelNames: [], registers: [this.registry] });
  readonly planBound = new Gauge({ name: 'ballast_plan_bound', help: 'Lower bound the solver proved on the objective of any plan for the last tick, base units', labelNames: [], registers: [this.registry] });
  readonly planGapRatio = new Gauge({ name: 'ballast_plan_gap_ratio', help: 'Proven gap of the last optimal plan, (objective - bound) / objective (0.001 = 0.1%)', labelNames: [], registers: [this.registry] });
  readonly planFeeGapRatio = new Gauge({ name: 'ballast_plan_fee_gap_ratio', help: 'Proven gap of the last optimal plan on fees: (objective - bound) / fees of the plan, the most a plan with no more unmet need could save (0.001 = 0.1%)', labelNames: [], registers: [this.registry] });
  readonly planShortfallGapRatio = new Gauge({ name: 'ballast_plan_shortfall_gap_ratio', help: 'Proven gap of the last optimal plan on unmet need: (objective - bound) / 1000 / unmet need, the most a plan with no higher fees could still cover (0 when no need is left unmet)', labelNames: [], registers: [this.registry] });
  readonly planOptimal = new Gauge({ name: 'ballast_plan_optimal', help: '1 when the last optimal plan was proven optimal on unmet need and on fees (solver Optimal, both gaps <= 0.1%), else 0', labelNames: [], registers: [this.registry] });
  readonly planSolverStatus = new Gauge({ name: 'ballast_plan_solver_status', help: "1 for the last optimal plan's solver status (Optimal, TimeLimit, Trivial, ...) and which plan it acted on (solver, heuristic, greedy)", labelNames: ['status', 'chosen'], registers: [this.registry] });
  readonly planDurationSeconds = new Histogram({ name: 'ballast_plan_duration_seconds', help: 'Wall time of one tick of planning (quotes and solve included)', labelNames: ['planner'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 5, 10], registers: [this.registry] });
  readonly planFeesPlanned = new Gauge({ name: 'ballast_plan_fees_planned', help: 'Bridge fees of the last plan as planned (quoted native fees in the asset plus proportional fees), whole tokens; 0 for the greedy planner (not quoted)', labelNames: ['planner'], registers: [this.registry] });
  readonly planTransfers = new Gauge({ name: 'ballast_plan_transfers', help: 'Transfers in the last plan', labelNames: ['planner'], registers: [this.registry] });
  readonly planDeferred = new Counter({ name: 'ballast_plan_deferred_total', help: 'Yield-only transfers a plan held back (planner/timing.ts), by rule: gas (source base fee above its recent percentile and the wait pays) | batch', labelNames: ['rule'], registers: [this.registry] });
  /** Running legs; read into `ballast_leg_in_progress_seconds` at every scrape. */
  readonly legs = new LegTracker();
  readonly legInProgressSeconds: Gauge<'kind' | 'bridge' | 'leg' | 'route'>;
  readonly legSloSeconds = new Gauge({ name: 'ballast_leg_slo_seconds', help: 'How long one saga leg may run before it counts as stuck (BallastLegStuck), by saga kind and leg; per bridge for legs over a bridge', labelNames: ['kind', 'bridge', 'leg'], registers: [this.registry] });
  readonly capBreached = new Counter({ name: 'ballast_cap_breached_total', help: 'Moves refused by a cap: cap="onchain_outflow" the vault reverted OutflowCapExceeded', labelNames: ['chain', 'cap'], registers: [this.registry] });
  readonly capChanges = new Counter({ name: 'ballast_cap_changes_total', help: 'Run-time cap changes by action (applied | proposed | approved | applied-after-delay | expired | cancelled | superseded | frozen | unfreeze-proposed | unfrozen) and scope', labelNames: ['scope', 'action'], registers: [this.registry] });
  readonly capFrozen = new Gauge({ name: 'ballast_cap_frozen', help: '1 when the risk team froze the chain (no new outflow planned from it; `ballast caps freeze`), else 0', labelNames: ['chain'], registers: [this.registry] });
  readonly capValue = new Gauge({ name: 'ballast_cap_base_units', help: 'Effective cap the planner uses (base units; windowSec in seconds), by chain or route and field', labelNames: ['scope', 'field'], registers: [this.registry] });
  readonly lpMoved = new Counter({ name: 'ballast_lp_moved_tokens_total', help: `Amount of completed moves attributed to an LP under its mandate, whole tokens (lp: its address, lower case; "other" past ${MAX_LP_SERIES} LPs)`, labelNames: ['lp'], registers: [this.registry] });
  readonly lpFeesWei = new Counter({ name: 'ballast_lp_fees_wei_total', help: `Native bridge fees attributed to an LP under its mandate, wei (lp: its address, lower case; "other" past ${MAX_LP_SERIES} LPs)`, labelNames: ['lp'], registers: [this.registry] });
  readonly outflowWindowUsedRatio = new Gauge({ name: 'ballast_outflow_window_used_ratio', help: "Share of the vault's keeper outflow cap used in the current window (on chain; 1 = cap reached)", labelNames: ['chain'], registers: [this.registry] });
  /** Reads of a chain's oracle refused, by the first failed rule (planner/oracle.ts `OracleRefusalKind`); feed = the price feed's address (Pyth: the price account). */
  readonly oracleRefusals = new Counter({ name: 'ballast_oracle_refusals_total', help: 'Oracle reads refused (chain left out of planning that tick), by first failed rule: invalid_answer | incomplete_round | stale | carried_over | deviation | source', labelNames: ['chain', 'feed', 'reason'], registers: [this.registry] });
  /** Times the oracle guard re-anchored its deviation reference on agreeing rounds (planner/oracle.ts `guardOracle`). */
  readonly oracleReanchors = new Counter({ name: 'ballast_oracle_reanchors_total', help: 'Deviation reference re-anchored to a new price level after reanchorRounds agreeing rounds refused for deviation alone', labelNames: ['chain', 'feed'], registers: [this.registry] });
  readonly oracleMaxStalenessSeconds = new Gauge({ name: 'ballast_oracle_max_staleness_seconds', help: 'Configured oracle.maxStalenessSec of the chain (rounds older are refused)', labelNames: ['chain'], registers: [this.registry] });
  readonly pythConfidenceRatio = new Gauge({ name: 'ballast_pyth_confidence_ratio', help: 'Pyth price confidence interval / price of a Solana chain (0.001 = 10 bps)', labelNames: ['chain'], registers: [this.registry] });
  readonly pythVerified = new Gauge({ name: 'ballast_pyth_verified', help: "1 when the Solana chain's Pyth update is fully verified, 0 when partially", labelNames: ['chain'], registers: [this.registry] });
  readonly solanaSlot = new Gauge({ name: 'ballast_solana_slot', help: 'Slot of the last snapshot read of a Solana chain', labelNames: ['chain'], registers: [this.registry] });
  readonly custodyBalance = new Gauge({ name: 'ballast_custody_tokens', help: 'Wormhole custody balance on a Solana chain, whole tokens', labelNames: ['chain', 'asset'], registers: [this.registry] });
  readonly rpcUp = new Gauge({ name: 'ballast_chain_rpc_up', help: "1 when the chain's RPC answered the last readiness probe, else 0", labelNames: ['chain'], registers: [this.registry] });
  readonly ready: Gauge;
  /** Set by the worker: `ballast_ready` runs it at every scrape (probes are cached, see keeper/health.ts). */
  readinessProbe?: () => Promise<ReadinessReport>;
  private readonly lpLabels = new Set<string>();

  constructor(defaultMetrics = true) {
    if (defaultMetrics) {
      // prom-client's names already start with `process_` / `nodejs_`: prefix `ballast_` gives ballast_process_cpu_seconds_total,
      // ballast_nodejs_heap_size_used_bytes, … Its three `*_total` GAUGES (active handles, requests, resources: the sums
      // of the per-type gauges beside them) are removed, as promtool refuses `_total` on a non-counter.
      collectDefaultMetrics({ register: this.registry, prefix: 'ballast_' });
      for (const name of ['ballast_nodejs_active_handles_total', 'ballast_nodejs_active_requests_total', 'ballast_nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    }
    const legs = this.legs;
    this.legInProgressSeconds = new Gauge({
      name: 'ballast_leg_in_progress_seconds',
      help: 'Age of the oldest saga leg still running, per saga kind, leg and route, and bridge for a leg over one (absent when none runs)',
      labelNames: ['kind', 'bridge', 'leg', 'route'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const o of legs.oldest()) this.set({ kind: o.kind, leg: o.leg, route: o.route, ...(o.bridge ? { bridge: o.bridge } : {}) }, o.ageSec);
      },
    });
    const probe = () => this.readinessProbe;
    this.ready = new Gauge({
      name: 'ballast_ready',
      help: '1 when /readyz reports ready (worker running, Temporal and every chain RPC answering), else 0',
      registers: [this.registry],
      async collect() {
        const p = probe();
        if (p) this.set((await p()).ready ? 1 : 0);
      },
    });
    this.setLegSlos();
  }

  /**
   * Publishes `ballast_leg_slo_seconds{kind,bridge,leg}` for every leg of both saga kinds ({@link SAGA_LEGS}): write
   * legs {@link WRITE_LEG_SLO_SECONDS}; `deliver` per bridge, that bridge's delivery deadline (config
   * `layerzero.deliveryDeadlineSec`, `wormhole.deliveryDeadlineSec`; {@link DEFAULT_DELIVERY_DEADLINE_SECONDS} when
   * not given). Legs over a bridge get one series per bridge, the others none (`bridge` absent), as their
   * `ballast_leg_in_progress_seconds` series, so the alert joins on `(kind, bridge, leg)`.
   */
  setLegSlos(deliveryDeadlineSec: Partial<Record<(typeof BRIDGES)[number], number>> = {}): void {
    this.legSloSeconds.reset();
    for (const kind of ['collateral', 'capacity'] as const) {
      for (const l of SAGA_LEGS[kind]) {
        if (!l.overBridge) {
          this.legSloSeconds.set({ kind, leg: l.leg }, WRITE_LEG_SLO_SECONDS);
          continue;
        }
        for (const bridge of l.bridges ?? BRIDGES) {
          const deadline = deliveryDeadlineSec[bridge as (typeof BRIDGES)[number]] ?? DEFAULT_DELIVERY_DEADLINE_SECONDS[bridge as (typeof BRIDGES)[number]];
          this.legSloSeconds.set({ kind, bridge, leg: l.leg }, l.leg === 'deliver' ? deadline : WRITE_LEG_SLO_SECONDS);
        }
      }
    }
  }

  /**
   * The `lp` label value of an LP: its address in lower case, for the first {@link MAX_LP_SERIES} LPs this process
   * counts; `other` after that, so the label stays bounded however many LPs sign mandates.
   */
  lpLabel(lp: string): string {
    const key = lp.toLowerCase();
    if (this.lpLabels.has(key)) return key;
    if (this.lpLabels.size >= MAX_LP_SERIES) return 'other';
    this.lpLabels.add(key);
    return key;
  }
}

/** bigint base units → a Number of whole tokens, for display only (metrics, logs). Never used for money. */
export function toDisplayNumber(amount: bigint, decimals: number): number {
  const scale = 10n ** BigInt(decimals);
  return Number(amount / scale) + Number(amount % scale) / Number(scale);
}

/** WAD → a Number ratio, for display only. */
export function wadToNumber(wad: bigint): number {
  return Number((wad * 1_000_000n) / WAD) / 1_000_000;
}

/** One check of `/readyz`. */
export interface ReadinessCheck {
  ok: boolean;
  /** What was seen, e.g. `RUNNING`, `answered 1.2 s ago at block 123`, or the error. */
  detail: string;
}

/** Body of `/readyz`: ready when every check is ok. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** Options of {@link serveMetrics}. */
export interface ServeOptions {
  /** Computes `/readyz`; without it `/readyz` reports ready with no checks (a bare metrics server). */
  readiness?: () => Promise<ReadinessReport>;
}

/**
 * Serves on `http://host:port`:
 * - `/metrics`: `registry` in the Prometheus text format;
 * - `/healthz`: liveness, always `200 {"status":"ok","pid":…,"uptimeSec":…}` while the process serves;
 * - `/readyz`: readiness, `200` when `opts.readiness()` says ready, else `503`; the body is the
 *   {@link ReadinessReport} as JSON (each check with what it saw).
 * Resolves with the bound port (pass 0 for a free one).
 * @throws Error when the port is in use (the message names it).
 * @example
 *   const srv = await serveMetrics(metrics.registry, 0, '127.0.0.1', { readiness });
 *   await fetch(`http://127.0.0.1:${srv.port}/readyz`); // 200 or 503, JSON
 */
export function serveMetrics(registry: Registry, port: number, host = '127.0.0.1', opts: ServeOptions = {}): Promise<{ port: number; close(): Promise<void> }> {
  const startedAtMs = Date.now();
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    } else if (url === '/healthz') {
      json(res, 200, { status: 'ok', pid: process.pid, uptimeSec: Math.round((Date.now() - startedAtMs) / 1000) });
    } else if (url === '/readyz') {
      const check = opts.readiness ?? (async (): Promise<ReadinessReport> => ({ ready: true, checks: {} }));
      check().then(
        (report) => json(res, report.ready ? 200 : 503, report),
        (err: unknown) => json(res, 503, { ready: false, checks: { readiness: { ok: false, detail: `readiness check failed: ${err instanceof Error ? err.message : String(err)}` } } }),
      );
    } else {
      res.writeHead(404);
      res.end('not found: try /metrics, /healthz or /readyz');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics server: cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      resolve({
        port: bound,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
