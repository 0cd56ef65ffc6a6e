/**
 * Multi-hop routing as a RELAXATION, for the bench only (`npm run bench`): how much could routing through an
 * intermediate chain save, before anyone builds it? The model is the planner's MILP (planner/milp.ts: amounts and
 * message counts per (from, to, bridge), fixed fee per message, each message ≤ the sender's maxTransfer and ≥ the
 * minimums, ≤ 4 messages per edge, the edge capacity) over EVERY quoted edge between planned chains (not only
 * giver → taker), with flow conservation instead of netting: a chain's net outflow ≤ its spare (givers), net
 * inflow + unmet need = need (takers), a chain in band only forwards what it receives, and every chain's gross
 * outflow ≤ what its outflow window has left. It ignores what a real multi-hop plan needs — sequenced delivery (an
 * intermediate forwards only after the first hop lands, under its buffer at that time) and its latency — so its
 * optimum is a lower bound on what multi-hop plans could reach: the saving it shows is the most building it could bring.
 */
import { solveMilp } from '../planner/lp.js';
import type { LpColumn, LpRow, LpTerm } from '../planner/lp.js';
import { maxB, minB, pos, pushTo } from '../planner/bigint.js';
import { lowerOf, makeCtx, messageCapOf, pairKey, RATE_DENOM, routeRules, UNMET_NEED_WEIGHT } from '../planner/routing.js';
import type { OptimalInput } from '../planner/routing.js';
import type { ChainPolicy, ChainState } from '../planner/types.js';

/** The relaxation's best plan found in the budget: objective (weighted, base units), its unmet need and fees (approximate, from the solver), and the proven bound. */
export interface MultiHopRelaxation {
  status: string;
  objective: number;
  bound: number;
  shortfall: number;
  fees: number;
  /** First-hop messages (to a chain that is not a taker, which forwards them), in the best plan found. */
  forwarded: number;
}

function windowLeft(c: ChainState, p: ChainPolicy): bigint {
  const cap = c.onChainCap;
  const used = c.blockTimestampSec >= cap.windowStartSec + cap.windowSec ? 0n : cap.outflowInWindow;
  return pos(minB(p.caps.maxOutflowPerWindow, cap.maxOutflowPerWindow) - used);
}

/** Solves the multi-hop relaxation of one instance within `timeLimitMs`. */
export async function multiHopRelaxation(input: OptimalInput, timeLimitMs: number): Promise<MultiHopRelaxation> {
  const ctx = makeCtx(input, routeRules());
  const K = ctx.rules.maxMessagesPerRoute;
  const nodes = [...ctx.nodes.values()];
  let maxAmt = 1n;
  for (const n of nodes) maxAmt = maxB(maxAmt, n.need, n.spare);
  const scale = 10n ** BigInt(Math.max(0, maxAmt.toString().length - 7));
  const u = (a: bigint): number => Number(a) / Number(scale);
  const W = Number(UNMET_NEED_WEIGHT);
  const columns: LpColumn[] = [];
  const objective: LpTerm[] = [];
  const rows: LpRow[] = [];
  const outT = new Map<string, LpTerm[]>();
  const inT = new Map<string, LpTerm[]>();
  const fixedOf = new Map<string, number>();
  const rateOf = new Map<string, number>();
  const receiverOf = new Map<string, string>();
  let i = 0;
  for (const e of ctx.edges.values()) {
    const from = ctx.nodes.get(e.from);
    const to = ctx.nodes.get(e.to);
    if (!from || !to || ctx.inFlightPairs.has(pairKey(e.from, e.to))) continue;
    const win = windowLeft(from.chain, from.policy);
    const cap = messageCapOf(e, from);
    const L = lowerOf(e, from, to);
    const M = minB(win, e.capacity ?? win, cap * BigInt(K));
    if (cap <= 0n || M <= 0n || M < L) continue;
    const x = `x${i}`;
    const y = `y${i}`;
    i++;
    columns.push({ name: x, lower: 0, upper: u(M) }, { name: y, lower: 0, upper: K, integer: true });
    const rate = Number(e.rate) / Number(RATE_DENOM);
    objective.push({ coef: rate, name: x });
    if (e.fixedFee > 0n) objective.push({ coef: u(e.fixedFee), name: y });
    rateOf.set(x, rate);
    fixedOf.set(y, u(e.fixedFee));
    receiverOf.set(y, e.to);
    rows.push({ name: `u${x}`, terms: [{ coef: 1, name: x }, { coef: -u(cap), name: y }], op: '<=', rhs: 0 });
    if (L > 0n) rows.push({ name: `l${x}`, terms: [{ coef: 1, name: x }, { coef: -u(L), name: y }], op: '>=', rhs: 0 });
    pushTo(outT, e.from, { coef: 1, name: x });
    pushTo(inT, e.to, { coef: 1, name: x });
  }
  const sCols: string[] = [];
  nodes.forEach((n, j) => {
    const out = outT.get(n.key) ?? [];
    const inn = inT.get(n.key) ?? [];
    const net = [...out, ...inn.map((t) => ({ coef: -1, name: t.name }))];
    if (out.length > 0) rows.push({ name: `w${j}`, terms: out, op: '<=', rhs: u(windowLeft(n.chain, n.policy)) });
    if (n.need > 0n) {
      const s = `s${j}`;
      sCols.push(s);
      columns.push({ name: s, lower: 0, upper: u(n.need) });
      objective.push({ coef: W, name: s });
      // in − out + s = need
      rows.push({ name: `t${j}`, terms: [...inn, ...out.map((t) => ({ coef: -1, name: t.name })), { coef: 1, name: s }], op: '=', rhs: u(n.need) });
    } else if (net.length > 0) {
      // out − in ≤ spare (a chain in band: spare 0, it forwards only what it receives) and in − out ≤ 0 (no chain
      // but a taker keeps what it receives).
      rows.push({ name: `g${j}`, terms: net, op: '<=', rhs: u(n.spare) });
      rows.push({ name: `k${j}`, terms: net.map((t) => ({ coef: -t.coef, name: t.name })), op: '<=', rhs: 0 });
    }
  });
  if (columns.length === 0 || sCols.length === 0) return { status: 'Trivial', objective: 0, bound: 0, shortfall: 0, fees: 0, forwarded: 0 };
  // As the planner: stop on a gap measured in fees (0.1% of the incumbent's), not relative to the weighted objective.
  const feeCoef = Float64Array.from(columns, (c) => rateOf.get(c.name) ?? fixedOf.get(c.name) ?? 0);
  const stopAtAbsGap = (col: Float64Array): number => 0.001 * col.reduce((acc, x, j) => acc + x * feeCoef[j]!, 0);
  const r = await solveMilp({ objective, objectiveConstant: 0, columns, rows }, undefined, { timeLimitMs, mipRelGap: 0, rins: true, stopAtAbsGap });
  const v = (n: string): number => r.values.get(n) ?? 0;
  const sc = Number(scale);
  let fees = 0;
  let forwarded = 0;
  for (const [x, rate] of rateOf) fees += rate * v(x) * sc;
  for (const [y, f] of fixedOf) {
    fees += f * Math.round(v(y)) * sc;
    // A message whose receiver is not a taker is a first hop: its receiver forwards what it gets.
    if (ctx.nodes.get(receiverOf.get(y)!)!.need === 0n) forwarded += Math.round(v(y));
  }
  const shortfall = sCols.reduce((s, c) => s + v(c), 0) * sc;
  return { status: r.status, objective: (r.objective ?? NaN) * sc, bound: r.bound * sc, shortfall, fees, forwarded };
}
