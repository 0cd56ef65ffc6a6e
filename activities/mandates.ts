/**
 * Activities behind LP mandates (workflows/mandates.ts holds the state, planner/mandates.ts the rule): the
 * EIP-712 signature checks of mandates and revocations, the LPs' positions and the route fees the planner
 * needs, and the per-LP attribution metrics.
 *
 * Fees in the asset: a LayerZero route's fee is the native fee `quoteSend` asks for (wei, per message; one
 * multicall per source chain, chains/evm/quoteLayerZero.ts), converted to asset base units with the SOURCE
 * chain's oracle round of the snapshot (planner/bridgeFees.ts `nativeFeeToAsset`: the oracle prices the gas
 * token in USD, the asset is a USD stablecoin, as on the devnet). A route whose fee cannot be quoted has an
 * unknown fee (only a mandate accepting any fee covers it).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Hex } from 'viem';
import { collateralVaultAbi } from '../contracts/generated/abis.js';
import { KNOWN_BRIDGES, routeFeeKey, type Mandate, type RouteFee } from '../planner/mandates.js';
import { verifyMandateSignature, verifyRevocationSignature, type MandateRevocation } from './mandateSignature.js';
import { quoteLayerZeroFees } from '../chains/evm/quoteLayerZero.js';
import { nativeFeeToAsset } from '../planner/bridgeFees.js';
import { lzReceiveOptions } from '../chains/evm/layerzero.js';
import type { KeeperContext } from './context.js';
import { toDisplayNumber } from '../keeper/metrics.js';

/** The snapshot facts {@link createMandateActivities}' `readMandateInputs` needs per chain. */
export interface MandateChainRef {
  chainKey: string;
  /** Block the snapshot was read at: positions are read there. */
  blockNumber: bigint;
  /** The chain's oracle answer and decimals (native token priced in the asset), for fee conversion. */
  answer: bigint;
  decimals: number;
}

/** What the planner needs besides the mandates: positions (chain → lowercase LP → base units) and route fees. */
export interface MandateInputs {
  /** Whether the worker's config requires mandates (`lp.requireMandates`). When false nothing else is read. */
  enforced: boolean;
  positions: Record<string, Record<string, bigint>>;
  routeFees: Record<string, RouteFee>;
}

/** Builds the mandate activities bound to `ctx`. */
export function createMandateActivities(ctx: KeeperContext) {
  /** Per LP, the totals already added to the counters by this process (counters only go up, once per unit). */
  const exported = new Map<string, { moved: bigint; feesWei: bigint }>();
  return {
    /**
     * Checks a mandate for this keeper (deployment, chains, bridges) and that the LP signed it.
     * @throws non-retryable `MandateRefused` also when this keeper does not enforce mandates
     *   (`lp.requireMandates` is false: a mandate would promise what the keeper does not do).
     */
    async verifyMandateSignature(input: { mandate: Mandate; signature: Hex }) {
      if (!ctx.lp?.requireMandates) throw ApplicationFailure.nonRetryable('mandate refused: LP mandates are not enforced by this keeper (config lp.requireMandates is false)', 'MandateRefused');
      const r = await verifyMandateSignature({ deployment: ctx.deployment, chains: [...ctx.chains.keys()], bridges: KNOWN_BRIDGES }, input);
      ctx.log.info({ lp: r.lp, mandateId: r.mandateId, chains: input.mandate.chains, bridges: input.mandate.bridges, maxShareBps: input.mandate.maxShareBps, maxFeeBps: input.mandate.maxFeeBps, expiresAtSec: input.mandate.expiresAtSec.toString(), nonce: input.mandate.nonce.toString() }, 'LP mandate signature verified');
      return r;
    },
    /** Checks that the LP signed a revocation. @throws non-retryable `MandateRefused`. */
    async verifyRevocationSignature(input: { revocation: MandateRevocation; signature: Hex }) {
      const lp = await verifyRevocationSignature(ctx.deployment, input);
      ctx.log.info({ lp, nonce: input.revocation.nonce.toString() }, 'LP mandate revocation signature verified');
      return lp;
    },
    /**
     * The LPs' positions (`CollateralVault.suppliedBy`, one multicall per chain at the snapshot's block) and the
     * LayerZero fee of every route between the snapshot's chains, in asset base units. A chain that cannot be
     * read gets no positions (nothing moves out of it under mandates); a route that cannot be quoted has no
     * fee entry. Never throws for RPC failures (they are logged).
     */
    async readMandateInputs(input: { lps: string[]; chains: MandateChainRef[] }): Promise<MandateInputs> {
      if (!ctx.lp?.requireMandates) return { enforced: false, positions: {}, routeFees: {} };
      const positions: Record<string, Record<string, bigint>> = {};
      const routeFees: Record<string, RouteFee> = {};
      const known = input.chains.filter((c) => ctx.chains.has(c.chainKey));
      await Promise.all(
        known.map(async (ref) => {
          const c = ctx.chains.get(ref.chainKey)!;
          try {
            const res = await c.clients.publicClient.multicall({
              contracts: input.lps.map((lp) => ({ address: c.contracts.vault, abi: collateralVaultAbi, functionName: 'suppliedBy' as const, args: [lp as `0x${string}`] })),
              allowFailure: false,
              blockNumber: ref.blockNumber,
            });
            positions[ref.chainKey] = Object.fromEntries(input.lps.map((lp, i) => [lp.toLowerCase(), res[i] as bigint]));
          } catch (err) {
            ctx.log.warn({ chain: ref.chainKey, error: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'LP positions not read: nothing moves out of this chain under mandates this tick');
          }
        }),
      );
      await Promise.all(
        known.map(async (from) => {
          const src = ctx.chains.get(from.chainKey)!;
          const dsts = known.filter((b) => b.chainKey !== from.chainKey).map((b) => ctx.chains.get(b.chainKey)!);
          try {
            const quotes = await quoteLayerZeroFees({
              clients: src.clients,
              multicall3: src.contracts.multicall3,
              route: src.contracts.route,
              options: lzReceiveOptions(ctx.lzReceiveGas),
              requests: dsts.map((d) => ({ dstEid: d.eid, amount: src.policy.caps.maxTransfer })),
              block: from.blockNumber,
            });
            quotes.forEach((q, i) => {
              const to = dsts[i]!.chainKey;
              if (q.ok) routeFees[routeFeeKey(from.chainKey, to, 'layerzero')] = { fixedFee: nativeFeeToAsset(q.nativeFeeWei, from, ctx.asset.decimals) };
              else ctx.log.warn({ route: `${from.chainKey}->${to}`, error: q.error }, 'bridge fee not quoted: the route fee is unknown to LP mandates this tick');
            });
          } catch (err) {
            ctx.log.warn({ chain: from.chainKey, error: err instanceof Error ? err.message.split('\n')[0] : String(err) }, 'bridge fees not quoted: route fees from this chain are unknown to LP mandates this tick');
          }
        }),
      );
      return { enforced: true, positions, routeFees };
    },
    /**
     * Exports the monitor's per-LP totals as `ballast_lp_moved_tokens_total{lp}` (whole tokens) and
     * `ballast_lp_fees_wei_total{lp}` (wei): each counter grows by what it has not counted yet, so a retried or
     * repeated call counts nothing twice (a restarted worker counts from 0 again, a counter reset). The `lp` label
     * is bounded (`BallastMetrics.lpLabel`: past the first LPs, `other`).
     */
    async recordLpAttribution(input: { totals: { lp: string; moved: bigint; feesWei: bigint }[] }): Promise<void> {
      for (const t of input.totals) {
        const seen = exported.get(t.lp) ?? { moved: 0n, feesWei: 0n };
        const lp = ctx.metrics.lpLabel(t.lp);
        if (t.moved > seen.moved) ctx.metrics.lpMoved.inc({ lp }, toDisplayNumber(t.moved - seen.moved, ctx.asset.decimals));
        if (t.feesWei > seen.feesWei) ctx.metrics.lpFeesWei.inc({ lp }, Number(t.feesWei - seen.feesWei));
        exported.set(t.lp, { moved: t.moved > seen.moved ? t.moved : seen.moved, feesWei: t.feesWei > seen.feesWei ? t.feesWei : seen.feesWei });
      }
    },
  };
}
