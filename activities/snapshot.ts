/**
 * Activity `readSnapshot`: every chain read in one multicall each (in parallel), oracle checked,
 * metrics updated.
 */
import { readChainState } from '../chains/evm/readChainState.js';
import { redactUrls } from '../chains/evm/errors.js';
import { formatPrice, guardOracle, guardStateFields, guardStateOf, type OracleGuardResult } from '../planner/oracle.js';
import type { ChainState, Snapshot } from '../planner/types.js';
import type { KeeperContext } from './context.js';
import { toDisplayNumber, wadToNumber } from '../keeper/metrics.js';
import { readSolanaChain } from './solanaSnapshot.js';

/**
 * Reads all configured chains at `latest` (each chain's block, or a Solana chain's slot, is recorded in its ChainState).
 * An Aave chain's reserve is read with its rate strategy's curve in the same multicall, at the strategy address of
 * `previous` (chains/evm/readChainState.ts `rateStrategyHint`).
 * A chain whose read fails is listed in `excluded` and makes the snapshot `partial` (no plan that tick:
 * fail closed). A chain whose oracle round fails the checks stays in `chains` with `oracleCheck.ok = false`;
 * the planner leaves it out. Never throws for a chain failure; throws only on programming errors.
 */
export async function readSnapshot(ctx: KeeperContext, previous?: Snapshot): Promise<Snapshot> {
  const takenAtMs = Date.now();
  const chains = [...ctx.chains.values()];
  const settled = await Promise.allSettled(
    chains.map((c) => {
      // An Aave reserve's rate strategy as the previous snapshot saw it: its curve is read in the same multicall.
      const hint = c.aave ? previous?.chains.find((p) => p.chainKey === c.chainKey)?.market?.interestRateStrategyAddress : undefined;
      return readChainState({ clients: c.clients, contracts: c.contracts, aave: c.aave, block: 'latest', ...(hint ? { rateStrategyHint: hint } : {}) });
    }),
  );
  const out: ChainState[] = [];
  const excluded: Snapshot['excluded'] = [];
  settled.forEach((r, i) => {
    const c = chains[i]!;
    if (r.status === 'rejected') {
      // An unreachable RPC says so with its transport cause (chains/evm/errors.ts RpcUnreachableError); any URL is
      // reduced to scheme://host:port (API keys live in paths and queries).
      const reason = redactUrls(r.reason instanceof Error ? r.reason.message : String(r.reason));
      excluded.push({ chainKey: c.chainKey, reason });
      ctx.metrics.snapshotFreshness.set({ chain: c.chainKey }, 0);
      ctx.metrics.oracleRejected.remove({ chain: c.chainKey }); // unknown this tick: no stale verdict on show
      ctx.log.warn({ chain: c.chainKey, reason }, 'chain read failed; no plan this tick');
      return;
    }
    const raw = r.value;
    // Deviation is measured against the last ACCEPTED answer: a refused jump does not become the reference by
    // itself, only `reanchorRounds` agreeing rounds do (planner/oracle.ts guardOracle; state carried in the snapshot).
    const guard = guardOracle(raw.oracle, raw.blockTimestampSec, c.oracleLimits, guardStateOf(previous?.chains.find((p) => p.chainKey === c.chainKey)));
    const oracleCheck = guard.check;
    out.push({ ...raw, oracleCheck, ...guardStateFields(guard.state) });
    reportOracleGuard(ctx, c.chainKey, c.contracts.priceFeed.toLowerCase(), raw.oracle.decimals, guard);
    const m = ctx.metrics;
    m.utilizationRatio.set({ chain: c.chainKey }, wadToNumber(raw.utilizationWad));
    m.idleBalance.set({ chain: c.chainKey, asset: ctx.asset.symbol }, toDisplayNumber(raw.idle, ctx.asset.decimals));
    if (raw.market) {
      m.supplyApyRatio.set({ chain: c.chainKey }, Number(raw.market.supplyApyBps) / 10_000);
      m.treasurySupplyTokens.set({ chain: c.chainKey, asset: ctx.asset.symbol }, toDisplayNumber(raw.market.treasuryBalance, ctx.asset.decimals));
    }
    m.oraclePrice.set({ chain: c.chainKey }, toDisplayNumber(raw.oracle.answer < 0n ? 0n : raw.oracle.answer, raw.oracle.decimals));
    m.oracleAgeSeconds.set({ chain: c.chainKey }, Number(oracleCheck.ageSec));
    m.oracleRejected.set({ chain: c.chainKey }, oracleCheck.ok ? 0 : 1);
    m.snapshotFreshness.set({ chain: c.chainKey }, 1);
  });
  // Solana chains: one getMultipleAccountsInfo each, in parallel; the same fail-closed rules.
  const solana = [...(ctx.solana?.chains.values() ?? [])];
  const solanaSettled = await Promise.allSettled(solana.map((sc) => readSolanaChain(sc, guardStateOf(previous?.chains.find((p) => p.chainKey === sc.chainKey)))));
  solanaSettled.forEach((r, i) => {
    const sc = solana[i]!;
    const m = ctx.metrics;
    if (r.status === 'rejected') {
      const reason = redactUrls(r.reason instanceof Error ? r.reason.message : String(r.reason));
      excluded.push({ chainKey: sc.chainKey, reason });
      m.snapshotFreshness.set({ chain: sc.chainKey }, 0);
      m.oracleRejected.remove({ chain: sc.chainKey });
      ctx.log.warn({ chain: sc.chainKey, reason }, 'Solana chain read failed; no plan this tick');
      return;
    }
    const { state, read, guard } = r.value;
    out.push(state);
    reportOracleGuard(ctx, sc.chainKey, sc.accounts.pythPrice.toBase58(), state.oracle.decimals, guard, 'Pyth price');
    m.utilizationRatio.set({ chain: sc.chainKey }, wadToNumber(state.utilizationWad));
    m.idleBalance.set({ chain: sc.chainKey, asset: ctx.asset.symbol }, toDisplayNumber(state.idle, ctx.asset.decimals));
    m.oraclePrice.set({ chain: sc.chainKey }, toDisplayNumber(state.oracle.answer < 0n ? 0n : state.oracle.answer, state.oracle.decimals));
    m.oracleAgeSeconds.set({ chain: sc.chainKey }, Number(state.oracleCheck.ageSec));
    m.oracleRejected.set({ chain: sc.chainKey }, state.oracleCheck.ok ? 0 : 1);
    m.snapshotFreshness.set({ chain: sc.chainKey }, 1);
    m.pythConfidenceRatio.set({ chain: sc.chainKey }, read.price.price > 0n ? Number((read.price.conf * 1_000_000n) / read.price.price) / 1_000_000 : 0);
    m.pythVerified.set({ chain: sc.chainKey }, read.price.verificationLevel.kind === 'Full' ? 1 : 0);
    m.solanaSlot.set({ chain: sc.chainKey }, Number(read.slot));
    m.custodyBalance.set({ chain: sc.chainKey, asset: ctx.asset.symbol }, toDisplayNumber(read.custody, ctx.asset.decimals));
  });
  const freshness: Snapshot['freshness'] = excluded.length === 0 ? 'fresh' : out.length === 0 ? 'stale' : 'partial';
  return { takenAtMs, chains: out, excluded, freshness };
}

/**
 * Logs and counts one oracle guard verdict: a refusal (warn, `ballast_oracle_refusals_total{chain,feed,reason}`) or a
 * re-anchor of the deviation reference (warn, `ballast_oracle_reanchors_total{chain,feed}`). `feed` is the price
 * feed's address (EVM, lower case) or the Pyth price account (Solana).
 */
function reportOracleGuard(ctx: KeeperContext, chain: string, feed: string, decimals: number, guard: OracleGuardResult, what = 'oracle round'): void {
  if (guard.refusal) {
    ctx.metrics.oracleRefusals.inc({ chain, feed, reason: guard.refusal.kind });
    const evidence = guard.refusal.needed > 0 ? { evidence: guard.refusal.evidence, reanchorRounds: guard.refusal.needed } : {};
    ctx.log.warn({ chain, feed, reason: guard.check.reason, rule: guard.refusal.kind, ...evidence }, `${what} refused; chain left out of planning`);
  }
  if (guard.reanchor) {
    ctx.metrics.oracleReanchors.inc({ chain, feed });
    const { from, to, roundIds } = guard.reanchor;
    ctx.log.warn(
      { chain, feed, from: formatPrice(from, decimals), to: formatPrice(to, decimals), rounds: roundIds.map(String) },
      `${what}: deviation reference re-anchored after ${roundIds.length} agreeing rounds`,
    );
  }
}
