/**
 * The backtest report: `report.json` (every figure; amounts as exact base-unit strings and as token decimals),
 * `report.md` (a table per planner and a side-by-side ratio table per asset, the bridge model), `transfers.csv`
 * (every executed transfer) and `utilization.png` (backtest/chart.ts), written to one folder.
 *
 * Gas: every asset names its base-fee series in `sources.gas` (a `--gas-history` CSV, or `SYNTHETIC gas history …`) and
 * shows per chain the mean, p10 and p90 base fee over the run; a planner under gas timing (planner/timing.ts) shows
 * what it held back and the fees saved (backtest/run.ts `TimingFigures`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { WAD } from '../planner/types.js';
import { formatWadPct } from '../planner/greedy.js';
import { CHAIN_PARAMS, DESTINATION_GAS, SOURCE_GAS, defaultBridges, describeModel } from './model.js';
import type { BridgeModel } from './model.js';
import { renderUtilizationPng } from './chart.js';
import type { AssetResult, PlannerName, PlannerRun } from './run.js';
import { PLANNER_NAMES } from './planners.js';
import { assetScores, scoreTable } from './scores.js';
import type { AssetScores } from './scores.js';

/** An amount both exactly (base units) and readably (token decimals, truncated to `places`). */
export interface Amount {
  baseUnits: string;
  tokens: string;
}

/** One planner's figures on one asset, JSON-safe. */
export interface PlannerFigures {
  fees: Amount;
  volume: Amount;
  transfers: number;
  byBridge: Record<string, { transfers: number; volume: Amount; fees: Amount }>;
  /** Chain-hours outside the band (Σ over chains), above it, below it. */
  outOfBandHours: number;
  aboveBandHours: number;
  belowBandHours: number;
  /** Share of chain-time outside the band, percent. */
  outOfBandPct: number;
  maxUtilizationPct: string;
  stepsWithOracleExclusion: number;
  /** Oracle lock-out hours: wall-clock hours with at least one chain left out for its oracle; of which with a deviation refusal; re-anchors (Σ chains). */
  oracleLockoutHours: number;
  oracleDeviationLockoutHours: number;
  oracleReanchors: number;
  /** Σ supplied + in flight at start and end (conservation: equal). */
  conservation: { start: string; end: string; inFlightAtEnd: string };
  planMs: { p50: number; p95: number; max: number; total: number };
  certificates?: PlannerRun['certificates'];
  /** Gas timing (when it applied): held back, episodes, fees saved (base units and tokens), examples of reasons. */
  timing?: Omit<NonNullable<PlannerRun['timing']>, 'feesSaved' | 'droppedFirstFees'> & { feesSaved: Amount; droppedFirstFees: Amount };
  /** Where in the feed's history chains were left out (see {@link PlannerRun.exclusionSpans}). */
  oracleExclusionSpans: PlannerRun['exclusionSpans'];
  wallSec: number;
  perChain: {
    chain: string;
    band: string;
    outOfBandHours: number;
    aboveBandHours: number;
    belowBandHours: number;
    maxUtilizationPct: string;
    transfersOut: number;
    volumeOut: Amount;
    feesOut: Amount;
    oracleExcludedSteps: number;
    /** Hours this chain was left out for its oracle; re-anchors of its deviation reference. */
    oracleLockoutHours: number;
    oracleReanchors: number;
    exclusionKinds: Record<string, number>;
    firstExclusion?: { step: number; tSec: number; roundId: string; reason: string };
  }[];
}

/** Optimal ÷ greedy; `null` when greedy is 0 and optimal is not (1 when both are 0). */
export type Ratio = number | null;

/** The whole report, as written to report.json. */
export interface BacktestReport {
  generatedAt: string;
  fixturesDir: string;
  settings: { planners: PlannerName[]; stepSec: number; timeLimitMs: number; daysRequested: number | null; gasTiming?: string };
  assets: {
    symbol: string;
    label: string;
    source: 'fixture' | 'synthetic';
    /** Where the history, the prices and the base fees came from (file paths, or `SYNTHETIC …`). */
    sources: { history: string; prices: string; gas: string };
    /** The base-fee series: source, notes, and per chain over the run the mean, p10 and p90 (ETH-equivalent gwei, exact decimals). */
    gas: { source: string; synthetic: boolean; notes: string[]; perChain: Record<string, { meanGwei: string; p10Gwei: string; p90Gwei: string }> };
    /** What a treasury cares about, per planner and for the perfect-foresight bound (backtest/scores.ts). */
    scores: AssetScores;
    decimals: number;
    networks: string[];
    days: number;
    firstDay: string;
    lastDay: string;
    feed: AssetResult['feed'];
    notes: string[];
    planners: Partial<Record<PlannerName, PlannerFigures>>;
    ratios?: { fees: Ratio; volume: Ratio; transfers: Ratio; outOfBandHours: Ratio; aboveBandHours: Ratio; maxUtilization: Ratio };
  }[];
  model: {
    sourceGas: string;
    destinationGas: string;
    bridges: { name: string; feeBps: number }[];
    chains: ReturnType<typeof describeModel>;
  };
  chart: { file: string; widthPx: number; heightPx: number };
  notes: string[];
  wallSec: number;
}

/** `x` base units of a `decimals` token as a decimal string truncated to `places` decimals. */
export function formatUnits(x: bigint, decimals: number, places = 2): string {
  const neg = x < 0n;
  const abs = neg ? -x : x;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  const shown = Math.min(places, decimals);
  const frac = shown === 0 ? '' : `.${((abs % scale) / 10n ** BigInt(decimals - shown)).toString().padStart(shown, '0')}`;
  return `${neg ? '-' : ''}${whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/** Wei as gwei, exact (up to 9 decimals, trailing zeros trimmed). */
export function gwei(wei: bigint): string {
  const frac = (wei % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${wei / 1_000_000_000n}${frac === '' ? '' : `.${frac}`}`;
}
const amount = (x: bigint, decimals: number, places: number): Amount => ({ baseUnits: x.toString(), tokens: formatUnits(x, decimals, places).replace(/,/g, '') });
const hours = (sec: number): number => Math.round((sec / 3600) * 10) / 10;
const ratio = (o: number, g: number): Ratio => (g === 0 ? (o === 0 ? 1 : null) : Math.round((o / g) * 1000) / 1000);
const r2 = (x: number): number => Math.round(x * 100) / 100;
/** Decimals shown for an asset's amounts: cents for a stablecoin, 4 for an 18-decimal token. */
const placesOf = (decimals: number): number => (decimals <= 6 ? 2 : 4);

/** The JSON-safe figures of one run. */
export function plannerFigures(run: PlannerRun, decimals: number): PlannerFigures {
  const pl = placesOf(decimals);
  const t = run.totals;
  return {
    fees: amount(t.fees, decimals, pl),
    volume: amount(t.volume, decimals, pl),
    transfers: t.transfers,
    byBridge: Object.fromEntries(Object.entries(t.byBridge).map(([b, v]) => [b, { transfers: v.transfers, volume: amount(v.volume, decimals, pl), fees: amount(v.fees, decimals, pl) }])),
    outOfBandHours: hours(t.outOfBandSec),
    aboveBandHours: hours(t.aboveBandSec),
    belowBandHours: hours(t.belowBandSec),
    outOfBandPct: r2((t.outOfBandSec * 100) / Math.max(1, run.durationSec * run.perChain.length)),
    maxUtilizationPct: formatWadPct(t.maxUtilizationWad),
    stepsWithOracleExclusion: t.stepsWithExclusion,
    oracleLockoutHours: hours(t.oracleLockoutSec),
    oracleDeviationLockoutHours: hours(t.oracleDeviationLockoutSec),
    oracleReanchors: t.oracleReanchors,
    conservation: { start: t.suppliedStart.toString(), end: (t.suppliedEnd + t.inFlightEnd).toString(), inFlightAtEnd: t.inFlightEnd.toString() },
    planMs: { p50: r2(run.planMs.p50), p95: r2(run.planMs.p95), max: r2(run.planMs.max), total: Math.round(run.planMs.total) },
    ...(run.certificates ? { certificates: run.certificates } : {}),
    ...(run.timing ? { timing: { ...run.timing, feesSaved: amount(run.timing.feesSaved, decimals, pl), droppedFirstFees: amount(run.timing.droppedFirstFees, decimals, pl) } } : {}),
    oracleExclusionSpans: run.exclusionSpans,
    wallSec: r2(run.wallMs / 1000),
    perChain: run.perChain.map((c) => ({
      chain: c.chain,
      band: `${formatWadPct(c.band.lowWad)}–${formatWadPct(c.band.highWad)}`,
      outOfBandHours: hours(c.outOfBandSec),
      aboveBandHours: hours(c.aboveBandSec),
      belowBandHours: hours(c.belowBandSec),
      maxUtilizationPct: formatWadPct(c.maxUtilizationWad),
      transfersOut: c.transfersOut,
      volumeOut: amount(c.volumeOut, decimals, pl),
      feesOut: amount(c.feesOut, decimals, pl),
      oracleExcludedSteps: c.excludedSteps,
      oracleLockoutHours: hours(c.oracleLockoutSec),
      oracleReanchors: c.oracleReanchors,
      exclusionKinds: c.exclusionKinds,
      ...(c.firstExclusion ? { firstExclusion: { ...c.firstExclusion, roundId: c.firstExclusion.roundId.toString() } } : {}),
    })),
  };
}

/** Builds the report object (no I/O). `chart` is what {@link writeBacktestReport} rendered. */
export function buildReport(
  results: readonly AssetResult[],
  ctx: { fixturesDir: string; planners: PlannerName[]; stepSec: number; timeLimitMs: number; daysRequested?: number; notes: string[]; wallSec: number; chart: BacktestReport['chart']; bridges?: readonly BridgeModel[]; gasTiming?: string },
): BacktestReport {
  const bridges = ctx.bridges ?? defaultBridges();
  const chains = [...new Set(results.flatMap((r) => r.networks))].sort();
  return {
    generatedAt: new Date().toISOString(),
    fixturesDir: ctx.fixturesDir,
    settings: { planners: ctx.planners, stepSec: ctx.stepSec, timeLimitMs: ctx.timeLimitMs, daysRequested: ctx.daysRequested ?? null, ...(ctx.gasTiming !== undefined ? { gasTiming: ctx.gasTiming } : {}) },
    assets: results.map((r) => {
      const planners: Partial<Record<PlannerName, PlannerFigures>> = {};
      for (const [p, run] of Object.entries(r.runs) as [PlannerName, PlannerRun][]) planners[p] = plannerFigures(run, r.decimals);
      const g = r.runs.greedy;
      const o = r.runs.optimal;
      return {
        symbol: r.symbol,
        label: r.label,
        source: r.source,
        sources: r.sources,
        gas: {
          source: r.gas.source,
          synthetic: r.gas.synthetic,
          notes: r.gas.notes,
          perChain: Object.fromEntries(Object.entries(r.gas.perChain).map(([c, g]) => [c, { meanGwei: gwei(g.meanWei), p10Gwei: gwei(g.p10Wei), p90Gwei: gwei(g.p90Wei) }])),
        },
        scores: assetScores(r),
        decimals: r.decimals,
        networks: r.networks,
        days: r.days,
        firstDay: r.firstDay,
        lastDay: r.lastDay,
        feed: r.feed,
        notes: r.notes,
        planners,
        ...(g && o
          ? {
              ratios: {
                fees: ratio(Number(o.totals.fees), Number(g.totals.fees)),
                volume: ratio(Number(o.totals.volume), Number(g.totals.volume)),
                transfers: ratio(o.totals.transfers, g.totals.transfers),
                outOfBandHours: ratio(o.totals.outOfBandSec, g.totals.outOfBandSec),
                aboveBandHours: ratio(o.totals.aboveBandSec, g.totals.aboveBandSec),
                maxUtilization: ratio(Number((o.totals.maxUtilizationWad * 1_000_000n) / WAD), Number((g.totals.maxUtilizationWad * 1_000_000n) / WAD)),
              },
            }
          : {}),
      };
    }),
    model: {
      sourceGas: SOURCE_GAS.toString(),
      destinationGas: DESTINATION_GAS.toString(),
      bridges: bridges.map((b) => ({ name: b.name, feeBps: b.feeBps })),
      chains: describeModel(chains.filter((c) => CHAIN_PARAMS[c] !== undefined), bridges),
    },
    chart: ctx.chart,
    notes: ctx.notes,
    wallSec: ctx.wallSec,
  };
}

const fmtRatio = (x: Ratio | undefined): string => (x === undefined ? '–' : x === null ? 'n/a (greedy 0)' : x.toFixed(3));

/** Markdown table from a header and rows. */
function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The side-by-side summary of one asset (rows: figures; columns: planners and the ratio), as table rows. */
export function summaryRows(a: BacktestReport['assets'][number]): { head: string[]; rows: string[][] } {
  const ps = PLANNER_NAMES.filter((p) => a.planners[p] !== undefined);
  const head = ['figure', ...ps, ...(a.ratios ? ['optimal / greedy'] : [])];
  const f = (p: PlannerName): PlannerFigures => a.planners[p]!;
  const row = (label: string, get: (x: PlannerFigures) => string, r?: Ratio): string[] => [label, ...ps.map((p) => get(f(p))), ...(a.ratios ? [fmtRatio(r)] : [])];
  const rows = [
    row(`fees paid (${a.symbol})`, (x) => x.fees.tokens, a.ratios?.fees),
    row(`volume moved (${a.symbol})`, (x) => x.volume.tokens, a.ratios?.volume),
    row('transfers', (x) => `${x.transfers} (${Object.entries(x.byBridge).map(([b, v]) => `${b} ${v.transfers}`).join(', ') || 'none'})`, a.ratios?.transfers),
    row('gas timing: held back (gas / batch / both)', (x) => (x.timing ? `${x.timing.deferrals} (${x.timing.byRule.gas} / ${x.timing.byRule.batch} / ${x.timing.byRule.both})` : 'off')),
    row('time out of band (chain-hours)', (x) => `${x.outOfBandHours} (${x.outOfBandPct}%)`, a.ratios?.outOfBandHours),
    row('  of which above band', (x) => String(x.aboveBandHours), a.ratios?.aboveBandHours),
    row('max utilization', (x) => x.maxUtilizationPct, a.ratios?.maxUtilization),
    row('steps with a chain left out (oracle)', (x) => String(x.stepsWithOracleExclusion)),
    row('oracle lock-out hours (of which deviation; re-anchors)', (x) => `${x.oracleLockoutHours} (${x.oracleDeviationLockoutHours}; ${x.oracleReanchors})`),
    row('plan ms p50 / p95 / max', (x) => `${x.planMs.p50} / ${x.planMs.p95} / ${x.planMs.max}`),
  ];
  return { head, rows };
}

/** report.md. */
export function renderMarkdown(r: BacktestReport): string {
  const out: string[] = [];
  out.push(`# Ballast backtest: ${PLANNER_NAMES.filter((p) => r.assets.some((a) => a.planners[p])).join(', ')} vs the perfect-foresight bound`, '');
  const sources = [...new Set(r.assets.flatMap((a) => [a.sources.history, a.sources.prices, `gas: ${a.sources.gas}`]))];
  out.push(`Source: ${sources.join('; ')}.`, '');
  out.push(
    `Generated ${r.generatedAt} from ${r.fixturesDir}; one step every ${r.settings.stepSec} s; optimal planner budget ${r.settings.timeLimitMs} ms per step; ` +
      `run time ${r.wallSec} s. Each planner runs on its own copy of the vaults (same history, same model).`,
    '',
  );
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length > 0) out.push('');
  out.push(`![utilization vs band](${r.chart.file})`, '');
  for (const a of r.assets) {
    out.push(`## ${a.symbol}${a.source === 'synthetic' ? ' (SYNTHETIC history)' : ''}`, '');
    out.push(`${a.label}.`, '');
    out.push(
      `${a.networks.length} chains (${a.networks.join(', ')}); ${a.days} days of history (${a.firstDay} .. ${a.lastDay}); oracle ${a.feed.name} ` +
        `replayed from ${a.feed.originIso} (${a.feed.file}), limits maxStalenessSec ${a.feed.limits.maxStalenessSec}, maxDeviationBps ${a.feed.limits.maxDeviationBps}, reanchorRounds ${a.feed.limits.reanchorRounds}.`,
      '',
    );
    for (const n of a.notes) out.push(`- ${n}`);
    if (a.notes.length > 0) out.push('');
    out.push(`### Scores (history ${a.sources.history}; prices ${a.sources.prices}; gas ${a.sources.gas})`, '');
    const sc = scoreTable(a.symbol, a.scores);
    out.push(table(sc.head, sc.rows), '');
    for (const [p, why] of Object.entries(a.scores.skippedPlanners)) out.push(`- planner ${p} left out: ${why}`);
    if (a.scores.bound) {
      const b = a.scores.bound;
      out.push(
        `Bound: ${b.formulation} Banded: ${b.banded.status} (gap ${b.banded.gapPct}%, ${b.banded.solveMs} ms, shortage ${b.banded.shortageTokenDays ?? 0} token-days); ` +
          `relaxed: ${b.relaxed.status}, net yield ${b.relaxed.netYield?.tokens ?? '–'}${b.relaxed.provenUpperBound ? `, proven ≤ ${b.relaxed.provenUpperBound.tokens}` : ''} ${a.symbol}.`,
        '',
      );
    } else out.push(`Bound: none (${a.scores.boundMissing ?? 'not computed'}).`, '');
    const fc = a.scores.forecast;
    if (fc && 'unavailable' in fc) out.push(`Forecast: ${fc.unavailable}.`, '');
    else if (fc) out.push(`Utilization forecast (planner/forecast.ts) ${fc.horizonSec / 3600} h ahead: MAE ${fc.maePct} pp, RMSE ${fc.rmsePct} pp over ${fc.n} forecasts.`, '');
    const s = summaryRows(a);
    out.push('### Side by side', '', table(s.head, s.rows), '');
    for (const p of PLANNER_NAMES) {
      const f = a.planners[p];
      if (!f) continue;
      out.push(`### ${p}`, '');
      const rows = f.perChain.map((c) => [
        c.chain,
        c.band,
        String(c.outOfBandHours),
        String(c.aboveBandHours),
        String(c.belowBandHours),
        c.maxUtilizationPct,
        String(c.transfersOut),
        c.volumeOut.tokens,
        c.feesOut.tokens,
        c.oracleExcludedSteps === 0 ? '0' : `${c.oracleExcludedSteps} (${Object.entries(c.exclusionKinds).map(([k, v]) => `${k} ${v}`).join('; ')})`,
      ]);
      rows.push([
        '**total**',
        '',
        `**${f.outOfBandHours}**`,
        String(f.aboveBandHours),
        String(f.belowBandHours),
        f.maxUtilizationPct,
        `**${f.transfers}**`,
        `**${f.volume.tokens}**`,
        `**${f.fees.tokens}**`,
        `${f.stepsWithOracleExclusion} step(s)`,
      ]);
      out.push(
        table(['chain', 'band', 'out of band (h)', 'above (h)', 'below (h)', 'max utilization', 'transfers out', `volume out (${a.symbol})`, `fees (${a.symbol})`, 'oracle-excluded steps'], rows),
        '',
      );
      const first = f.perChain.find((c) => c.firstExclusion)?.firstExclusion;
      if (first) out.push(`First oracle refusal: step ${first.step} (t = ${first.tSec} s), round ${first.roundId}: ${first.reason}.`, '');
      if (f.oracleExclusionSpans.length > 0) {
        const spans = f.oracleExclusionSpans.map((x) => `steps ${x.fromStep}–${x.toStep} (feed ${x.feedFrom} .. ${x.feedTo}, ${x.chains} chain(s): ${x.kinds.join(', ')})`);
        out.push(`Chains left out for their oracle: ${spans.slice(0, 12).join('; ')}${spans.length > 12 ? `; … ${spans.length - 12} more in report.json` : ''}.`, '');
      }
      if (f.timing) {
        const t = f.timing;
        const rules = [t.policy.gas ? `waits above p${t.policy.gas.percentile} of its source's base fee over the last ${t.policy.gas.windowSec / 3600} h` : undefined, t.policy.batching ? `waits while its fixed fee > ${t.policy.batching.maxFixedFeeBps} bps of its amount` : undefined].filter((x) => x !== undefined);
        out.push(
          `Gas timing (planner/timing.ts; a transfer to a chain not in need ${rules.join(', and ')}): ${t.deferrals} proposals held back (gas ${t.byRule.gas}, batch ${t.byRule.batch}, both ${t.byRule.both}), ` +
            `${t.episodes} moves: ${t.sentAfterWait} sent after waiting (mean wait ${Math.round(t.waitSec.mean / 360) / 10} h, max ${Math.round(t.waitSec.max / 360) / 10} h), ${t.dropped} dropped by the planner (first quotes ${t.droppedFirstFees.tokens} ${a.symbol}), ${t.openAtEnd} still waiting at the end; ` +
            `fees saved by waiting ${t.feesSaved.tokens} ${a.symbol} (fee at the first held-back quote − fee paid, same amount).`,
          '',
        );
        if (t.examples.length > 0) out.push(...t.examples.slice(0, 3).map((x) => `- ${x}`), '');
      }
      if (f.certificates) {
        const c = f.certificates;
        out.push(`Plans returned: solver ${c.solver}, fee-aware heuristic ${c.heuristic}, greedy (nothing strictly cheaper) ${c.greedy}; not proved optimal within the budget: ${c.notProvedOptimal}.`, '');
      }
      out.push(`Conservation: Σ supplied + in flight ${f.conservation.start} at the start, ${f.conservation.end} at the end (${f.conservation.inFlightAtEnd} in flight).`, '');
    }
  }
  for (const a of r.assets) {
    out.push(`## Gas: ${a.symbol}${a.gas.synthetic ? ' (SYNTHETIC gas history)' : ''}`, '');
    out.push(`Base fees from ${a.gas.source}. Each step's fixed fees use both ends' base fee of that step.`, '');
    for (const n of a.gas.notes) out.push(`- ${n}`);
    if (a.gas.notes.length > 0) out.push('');
    out.push(table(['chain', 'mean (ETH-eq gwei)', 'p10', 'p90'], Object.entries(a.gas.perChain).map(([c, g]) => [c, g.meanGwei, g.p10Gwei, g.p90Gwei])), '');
  }
  out.push('## Bridge model', '');
  out.push(
    `Fixed fee per message (keeper-paid native gas, ETH-equivalent): source ${r.model.sourceGas} gas + destination ${r.model.destinationGas} gas at each chain's gas price, ` +
      'LayerZero ×1.2 on the destination plus 50 000 gwei (DVNs, executor), Wormhole at cost plus 10 000 gwei (relayer); converted to the asset at the step\'s accepted price. ' +
      `Proportional: ${r.model.bridges.map((b) => `${b.name} ${b.feeBps} bps`).join(', ')}. ` +
      'Latency: LayerZero = default confirmations × block time + 60 s; Wormhole = source finality + 60 s. Sources and assumptions: backtest/model.ts.',
    '',
  );
  const bridges = r.model.bridges.map((b) => b.name);
  out.push(
    table(
      ['chain', ...bridges.map((b) => `${b} latency out (s)`), 'model mean gas price (ETH-eq gwei)', 'assumed'],
      r.model.chains.map((c) => [c.chain, ...bridges.map((b) => String(c.latencySec[b] ?? '')), String(c.gasPriceGwei), c.assumed.join(', ')]),
    ),
    '',
  );
  out.push(
    '## Reading the figures',
    '',
    '- Time out of band is integrated over the run (chain-hours; % of all chain-time), arrivals inside a step at their own time. ' +
      'Below band is mostly not actionable (the planners only move liquidity TO chains above their band), above band is what rebalancing is for.',
    '- The optimal planner minimizes, per step, 1000 × unmet need + fees; it never returns a plan worse than greedy\'s on that objective for the same input. ' +
      'Across a run the two planners see different states (each moves its own vaults), so run totals can go either way.',
    '- Fees are paid by the keeper in native gas and not taken from the moved amount; amounts are exact base units in report.json.',
    '',
  );
  return out.join('\n');
}

/** transfers.csv: one line per executed transfer (amounts and fees in base units, times in seconds from the start). */
export function transfersCsv(results: readonly AssetResult[]): string {
  const lines = ['asset,planner,step,sent_sec,arrive_sec,from,to,bridge,amount,fee,fixed_fee,urgent,waited_sec'];
  for (const a of results) {
    for (const [p, run] of Object.entries(a.runs) as [PlannerName, PlannerRun][]) {
      for (const t of run.transfers) {
        lines.push([a.symbol, p, t.step, t.sentSec, t.arriveSec, t.from, t.to, t.bridge, t.amount, t.fee, t.fixedFee, t.urgent === undefined ? '' : String(t.urgent), t.waitedSec ?? ''].join(','));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes report.md, report.json, transfers.csv and utilization.png into `outDir` (created if needed); without
 * resvg (a production install) the chart is `utilization.svg` and a note says why.
 * @returns the report and the files written (absolute paths).
 */
export function writeBacktestReport(
  results: readonly AssetResult[],
  outDir: string,
  ctx: { fixturesDir: string; planners: PlannerName[]; stepSec: number; timeLimitMs: number; daysRequested?: number; notes: string[]; wallSec: number; gasTiming?: string },
): { report: BacktestReport; files: { markdown: string; json: string; png: string; csv: string } } {
  fs.mkdirSync(outDir, { recursive: true });
  const png = renderUtilizationPng(results);
  const chartFile = png.png ? 'utilization.png' : 'utilization.svg';
  const files = {
    markdown: path.resolve(outDir, 'report.md'),
    json: path.resolve(outDir, 'report.json'),
    png: path.resolve(outDir, chartFile),
    csv: path.resolve(outDir, 'transfers.csv'),
  };
  fs.writeFileSync(files.png, png.png ?? png.svg);
  const notes = png.png ? ctx.notes : [...ctx.notes, 'chart written as SVG: @resvg/resvg-js (a devDependency) is not installed, so no PNG'];
  const report = buildReport(results, { ...ctx, notes, chart: { file: chartFile, widthPx: png.widthPx, heightPx: png.heightPx } });
  fs.writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(files.markdown, renderMarkdown(report));
  fs.writeFileSync(files.csv, transfersCsv(results));
  return { report, files };
}
