/**
 * Prometheus metrics (prefix `ballast_`), served on `/metrics` by the worker process.
 * Names follow ../DESIGN: per chain `utilization_ratio`, `idle_balance`, `oracle_price`,
 * `oracle_age_seconds`, `snapshot_freshness`; per route `rebalances_total{outcome}`,
 * `leg_duration_seconds{leg}`, `bridge_fee_paid`, `inflight_amount`.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WAD } from '../planner/types.js';

/** All Ballast metrics on one registry (one per process; tests may create their own). */
export class BallastMetrics {
  readonly registry = new Registry();
  readonly utilizationRatio = new Gauge({ name: 'ballast_utilization_ratio', help: 'Vault utilization = borrowed / supplied (0..1)', labelNames: ['chain'], registers: [this.registry] });
  readonly idleBalance = new Gauge({ name: 'ballast_idle_balance', help: 'Idle liquidity in the vault, whole tokens', labelNames: ['chain', 'asset'], registers: [this.registry] });
  readonly oraclePrice = new Gauge({ name: 'ballast_oracle_price', help: 'Latest oracle answer, in quote units (e.g. USD)', labelNames: ['chain'], registers: [this.registry] });
  readonly oracleAgeSeconds = new Gauge({ name: 'ballast_oracle_age_seconds', help: 'Age of the latest oracle round at the snapshot block', labelNames: ['chain'], registers: [this.registry] });
  readonly oracleRejected = new Gauge({ name: 'ballast_oracle_rejected', help: '1 when the chain is left out of planning because of its oracle round', labelNames: ['chain'], registers: [this.registry] });
  readonly snapshotFreshness = new Gauge({ name: 'ballast_snapshot_freshness', help: '2 fresh, 1 partial, 0 stale (per chain: 1 read and checked, 0 excluded)', labelNames: ['chain'], registers: [this.registry] });
  readonly rebalancesStarted = new Counter({ name: 'ballast_rebalances_started_total', help: 'Rebalance sagas started', labelNames: ['route', 'bridge'], registers: [this.registry] });
  readonly rebalancesTotal = new Counter({ name: 'ballast_rebalances_total', help: 'Rebalance sagas finished, by outcome (completed | compensated | stranded)', labelNames: ['route', 'bridge', 'outcome'], registers: [this.registry] });
  readonly legDurationSeconds = new Histogram({ name: 'ballast_leg_duration_seconds', help: 'Duration of one saga leg activity', labelNames: ['leg', 'route'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600], registers: [this.registry] });
  readonly bridgeFeePaid = new Counter({ name: 'ballast_bridge_fee_paid', help: 'Native bridge fee paid (ETH)', labelNames: ['route', 'bridge'], registers: [this.registry] });
  readonly ledgerMismatch = new Gauge({ name: 'ballast_ledger_mismatch', help: '1 when the funds ledger disagrees with the chains (new rebalances stopped), else 0', labelNames: [], registers: [this.registry] });
  readonly inflightAmount = new Gauge({ name: 'ballast_inflight_amount', help: 'Amount in flight on the route, whole tokens', labelNames: ['route', 'bridge'], registers: [this.registry] });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ballast_process_' });
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

/**
 * Serves `registry` on `http://host:port/metrics` (and `/healthz`). Resolves with the bound port
 * (pass 0 for a free one).
 * @throws Error when the port is in use (the message names it).
 */
export function serveMetrics(registry: Registry, port: number, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
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
    } else if (req.url === '/healthz') {
      res.writeHead(200);
      res.end('ok');
    } else {
      res.writeHead(404);
      res.end('not found: try /metrics');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics server: cannot listen on ${host}:${port}: ${err.message}`)));
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr ? addr.port : port;
      resolve({ port: bound, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}
