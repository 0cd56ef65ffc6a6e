/**
 * The keeper's `/metrics` exposition with every series present: a {@link BallastMetrics} (Node process metrics
 * included) whose every metric is touched once, through the keeper's own setters where they shape the labels
 * (leg SLOs from the config deadlines, running legs of both saga kinds, the bounded `lp` label) and generically
 * for the rest (each label set to a sample value), so a metric added later is checked too.
 *
 * Usage: `npx tsx scripts/metrics-sample.ts | promtool check metrics` (`.ci/run`'s monitoring step; promtool
 * prints nothing and exits 0 when every name and type is clean). test/unit/monitoring.test.ts runs the same.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { BallastMetrics, SAGA_LEGS } from '../keeper/metrics.js';

/** Sample values of the labels the keeper uses; any other label gets `x`. */
const SAMPLE_LABELS: Readonly<Record<string, string>> = {
  chain: 'alpha',
  asset: 'USDC',
  route: 'alpha->beta',
  bridge: 'layerzero',
  kind: 'collateral',
  outcome: 'completed',
  leg: 'withdraw',
  planner: 'optimal',
  status: 'Optimal',
  chosen: 'solver',
  cap: 'onchain_outflow',
  scope: 'alpha',
  field: 'maxTransfer',
  action: 'applied',
};

/** Touches `m` once with every label set (a metric whose value is computed at scrape time is left alone). */
function touch(m: Metric): void {
  const labelNames = ((m as unknown as { labelNames?: string[] }).labelNames ?? []).filter((n) => n !== 'lp');
  const labels = Object.fromEntries(labelNames.map((n) => [n, SAMPLE_LABELS[n] ?? 'x']));
  if (m instanceof Counter) m.inc(labels, 1);
  else if (m instanceof Histogram) m.observe(labels, 0.5);
  else if (m instanceof Gauge) m.set(labels, 1);
}

/**
 * The exposition text of a keeper registry with every series touched once.
 * @param deadlines the bridges' delivery deadlines, seconds (config `layerzero.` / `wormhole.deliveryDeadlineSec`).
 */
export async function sampleMetrics(deadlines: { layerzero?: number; wormhole?: number } = { layerzero: 600, wormhole: 1800 }): Promise<{ text: string; metrics: BallastMetrics }> {
  const metrics = new BallastMetrics(true);
  const own = new Set(['ballast_leg_in_progress_seconds', 'ballast_ready', 'ballast_leg_slo_seconds', 'ballast_lp_moved_tokens_total', 'ballast_lp_fees_wei_total']);
  for (const m of metrics.registry.getMetricsAsArray() as unknown as Metric[]) {
    const name = (m as unknown as { name: string }).name;
    if (!own.has(name) && !name.startsWith('ballast_process_') && !name.startsWith('ballast_nodejs_')) touch(m);
  }
  metrics.setLegSlos(deadlines);
  for (const kind of ['collateral', 'capacity'] as const) {
    for (const l of SAGA_LEGS[kind]) metrics.legs.start(l.leg, 'alpha->beta', `0x${kind}`, { kind, ...(l.overBridge ? { bridge: l.bridges?.[0] ?? 'layerzero' } : {}) }, Date.now() - 5000);
    metrics.rebalancesTotal.inc({ kind, route: 'alpha->beta', bridge: 'wormhole', outcome: 'stranded' });
  }
  const lp = metrics.lpLabel('0x00000000000000000000000000000000000000Aa');
  metrics.lpMoved.inc({ lp }, 1.5);
  metrics.lpFeesWei.inc({ lp }, 21_000);
  metrics.readinessProbe = async () => ({ ready: true, checks: {} });
  return { text: await metrics.registry.metrics(), metrics };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write((await sampleMetrics()).text);
}
