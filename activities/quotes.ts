/**
 * Fee quotes for the optimal planner (I/O: runs inside the `planRebalances` activity, never in workflow
 * code): for each (from, to, bridge) edge the planner may use, the bridge's native fee for one message,
 * converted into the asset with the source chain's oracle price from the snapshot (planner/bridgeFees.ts),
 * plus the bridge's configured proportional fee, latency and rate limit (config `bridges`).
 *
 * Bridges are quoted through {@link BRIDGE_QUOTERS}, one entry per bridge: adding a bridge (e.g. Wormhole:
 * core `messageFee()` + relay gas) is one entry there plus its config section. A bridge gets edges only
 * between two chains it is enabled on ({@link BridgeQuoter.enabledOn}) and only when config `bridges`
 * enables it.
 */
import { quoteLayerZeroFees } from '../chains/evm/quoteLayerZero.js';
import { nativeFeeToAsset } from '../planner/bridgeFees.js';
import type { BridgeEdge } from '../planner/optimal.js';
import type { ChainPolicy, Snapshot } from '../planner/types.js';
import { routeKey } from '../workflows/caps.js';
import { solanaChainOf, type BridgeSettings, type ChainRuntime, type KeeperContext } from './context.js';
import { lzReceiveOptions } from '../chains/evm/layerzero.js';
import { ballastRouteAbi } from '../contracts/generated/abis.js';

/** A native-fee quote of one message, or why there is none. */
export type NativeFeeQuote = { ok: true; nativeFeeWei: bigint } | { ok: false; error: string };

/** How to quote one bridge. */
export interface BridgeQuoter {
  /** Whether the bridge is deployed and configured on this chain (both ends of an edge must say yes). */
  enabledOn(ctx: KeeperContext, chain: ChainRuntime): boolean;
  /**
   * Native fee (wei of `from`'s gas token) of one message carrying `amount` from `from` to each of `to`,
   * one result per destination in order, read at `blockNumber` of `from` (the snapshot's block).
   * A destination the bridge refuses (e.g. no peer) is `ok: false` with the reason.
   * @throws only for a transport failure of the whole call.
   */
  quoteNativeFees(ctx: KeeperContext, from: ChainRuntime, to: readonly ChainRuntime[], amount: bigint, blockNumber: bigint): Promise<NativeFeeQuote[]>;
}

/**
 * The quoters by bridge name (the name of the edges, of config `bridges.<name>` and of `PlannedTransfer.bridge`).
 * - `layerzero`: `BallastRoute.quoteSend(dstEid, amount, lzReceiveOptions(layerzero.lzReceiveGas))`, all
 *   destinations of a source in one multicall (chains/evm/quoteLayerZero.ts); every configured chain has it.
 * - `wormhole`: the core's `messageFee` (through `BallastRoute.quoteSendWormhole`) + `bridges.wormhole.relayGas`
 *   × the destination's gas price (the keeper redeems the VAA itself); chains with a `wormhole` entry only.
 */
export const BRIDGE_QUOTERS: Readonly<Record<string, BridgeQuoter>> = {
  layerzero: {
    enabledOn: () => true,
    async quoteNativeFees(ctx, from, to, amount, blockNumber) {
      const quotes = await quoteLayerZeroFees({
        clients: from.clients,
        multicall3: from.contracts.multicall3,
        route: from.contracts.route,
        options: lzReceiveOptions(ctx.lzReceiveGas),
        requests: to.map((t) => ({ dstEid: t.eid, amount })),
        block: blockNumber,
      });
      return quotes.map((q) => (q.ok ? { ok: true, nativeFeeWei: q.nativeFeeWei } : { ok: false, error: q.error }));
    },
  },
  wormhole: {
    enabledOn: (ctx, chain) => ctx.wormhole !== undefined && chain.wormhole !== undefined,
    async quoteNativeFees(ctx, from, to, _amount, blockNumber) {
      // The core's message fee plus the keeper's own relay at the destination. Relay gas is paid in the destination's
      // gas token and counted 1:1 in the source's (every devnet and EVM L2 pair here uses ETH; a pair with different
      // gas tokens would need its own price).
      const messageFee = await wormholeMessageFee(from, blockNumber);
      return Promise.all(
        to.map(async (t): Promise<NativeFeeQuote> => {
          try {
            return { ok: true, nativeFeeWei: messageFee + (await wormholeRelayCost(ctx, t)) };
          } catch (err) {
            return { ok: false, error: `${t.chainKey}: gas price for the Wormhole relay: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
          }
        }),
      );
    },
  },
};

/** The Wormhole core's message fee on `c` (wei), through `BallastRoute.quoteSendWormhole`, at `blockNumber`. */
function wormholeMessageFee(c: ChainRuntime, blockNumber: bigint): Promise<bigint> {
  return c.clients.publicClient.readContract({ address: c.contracts.route, abi: ballastRouteAbi, functionName: 'quoteSendWormhole', blockNumber });
}

/** What the keeper spends to redeem a VAA on `dst` (wei): `bridges.wormhole.relayGas` × its current gas price. */
async function wormholeRelayCost(ctx: KeeperContext, dst: ChainRuntime): Promise<bigint> {
  const relayGas = BigInt(ctx.bridges?.wormhole?.relayGas ?? 0);
  return relayGas > 0n ? relayGas * (await dst.clients.publicClient.getGasPrice()) : 0n;
}

/**
 * The Wormhole fee of one move with a Solana end, in wei of the EVM end's gas token, and the EVM chain whose
 * oracle converts it into the asset: EVM → Solana = the source core's message fee (`quoteSendWormhole` at the
 * snapshot block; the custody service pays the release); Solana → EVM = `bridges.wormhole.relayGas` × the
 * destination's gas price (the keeper redeems the VAA there). The keeper's Solana transaction fees (lamports:
 * 5000 per signature plus the priority fee) are not counted.
 * @throws for a Solana-to-Solana pair (not supported) or a failed read.
 */
async function quoteSolanaEdge(ctx: KeeperContext, from: string, to: string, fromBlock: bigint): Promise<{ nativeFeeWei: bigint; priceChain: string }> {
  const evmSrc = ctx.chains.get(from);
  const evmDst = ctx.chains.get(to);
  if (evmSrc && evmSrc.wormhole) return { nativeFeeWei: await wormholeMessageFee(evmSrc, fromBlock), priceChain: from };
  if (evmDst && evmDst.wormhole) return { nativeFeeWei: await wormholeRelayCost(ctx, evmDst), priceChain: to };
  throw new Error(`${from} → ${to}: a Solana move needs an EVM end with a wormhole entry (Solana-to-Solana is not supported)`);
}

/** Bridge settings used when the context has none (config defaults: LayerZero only, 0 bps, 120 s). */
export const DEFAULT_BRIDGES: Readonly<Record<string, BridgeSettings>> = { layerzero: { feeBps: 0, latencySec: 120 } };

/** One quoted (from, to, bridge) edge as recorded with the plan; `error` set = no edge. */
export interface RouteQuote {
  from: string;
  to: string;
  bridge: string;
  /** Amount the message was quoted for (base units): the larger minTransfer of both ends, at least 1. */
  quotedAmount: bigint;
  /** Native fee of one message, wei of the source chain's gas token. */
  nativeFeeWei?: bigint;
  /** The source chain's oracle round used to convert it (answer scaled by 10^decimals). */
  price?: { answer: bigint; decimals: number };
  /** The native fee in asset base units, rounded up (planner/bridgeFees.ts `nativeFeeToAsset`). */
  fixedFee?: bigint;
  /** Config `bridges.<bridge>.feeBps`. */
  feeBps: number;
  latencySec: number;
  /** Config `bridges.<bridge>.rateLimit`, when set (base units). */
  rateLimit?: bigint;
  /** Why this edge has no quote (bridge refused it, RPC failure, no quoter for the bridge). */
  error?: string;
}

const cmpKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Quotes every enabled bridge on the given ordered chain pairs (the planner's giver → taker pairs).
 * Source chains are quoted in parallel, one call per (source, bridge). A failure is recorded on the edges it
 * concerns (`error`) rather than thrown: the plan is then made without those edges, and says so.
 * @param pairs ordered pairs of chains present in `snapshot.chains` (others are recorded as errors).
 * @param policies the chains' policies in force (their `minTransfer` sets the quoted amount).
 * @param quoters the quoters by bridge name (default {@link BRIDGE_QUOTERS}).
 * @returns one {@link RouteQuote} per (pair, bridge enabled in config and on both chains), sorted by from,
 *   to, bridge.
 */
export async function quoteRoutes(
  ctx: KeeperContext,
  snapshot: Snapshot,
  pairs: readonly { from: string; to: string }[],
  policies: readonly ChainPolicy[],
  quoters: Readonly<Record<string, BridgeQuoter>> = BRIDGE_QUOTERS,
): Promise<RouteQuote[]> {
  const bridges = ctx.bridges ?? DEFAULT_BRIDGES;
  const states = new Map(snapshot.chains.map((c) => [c.chainKey, c]));
  const minOf = new Map(policies.map((p) => [p.chainKey, p.caps.minTransfer]));
  const out: RouteQuote[] = [];
  const jobs: Promise<void>[] = [];
  for (const [bridge, settings] of Object.entries(bridges).sort(([a], [b]) => cmpKey(a, b))) {
    const quoter = quoters[bridge];
    const base = (from: string, to: string): RouteQuote => {
      const m = [minOf.get(from) ?? 0n, minOf.get(to) ?? 0n, 1n].reduce((x, y) => (y > x ? y : x));
      return { from, to, bridge, quotedAmount: m, feeBps: settings.feeBps, latencySec: settings.latencySec, ...(settings.rateLimit !== undefined ? { rateLimit: settings.rateLimit } : {}) };
    };
    const bySource = new Map<string, string[]>();
    for (const { from, to } of pairs) {
      if (solanaChainOf(ctx, from) || solanaChainOf(ctx, to)) {
        // A Solana end: Wormhole only (quoted below), no edge for any other bridge.
        if (bridge !== 'wormhole' || !ctx.wormhole) continue;
        if (!states.has(from) || !states.has(to)) {
          out.push({ ...base(from, to), error: `${!states.has(from) ? from : to} is not a chain of this snapshot` });
          continue;
        }
        jobs.push(
          quoteSolanaEdge(ctx, from, to, states.get(from)!.blockNumber).then(
            ({ nativeFeeWei, priceChain }) => {
              const st = states.get(priceChain)!;
              const price = { answer: st.oracle.answer, decimals: st.oracle.decimals };
              try {
                out.push({ ...base(from, to), nativeFeeWei, price, fixedFee: nativeFeeToAsset(nativeFeeWei, price, ctx.asset.decimals) });
              } catch (err) {
                out.push({ ...base(from, to), nativeFeeWei, price, error: err instanceof Error ? err.message : String(err) });
              }
            },
            (err: unknown) => {
              out.push({ ...base(from, to), error: `wormhole quote ${from} → ${to} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}` });
            },
          ),
        );
        continue;
      }
      const src = ctx.chains.get(from);
      const dst = ctx.chains.get(to);
      if (!quoter) out.push({ ...base(from, to), error: `no quoter for bridge "${bridge}" (activities/quotes.ts BRIDGE_QUOTERS); config enables it but the keeper cannot price it` });
      else if (!src || !dst || !states.has(from)) out.push({ ...base(from, to), error: `${!src || !states.has(from) ? from : to} is not a configured chain of this snapshot` });
      else if (!quoter.enabledOn(ctx, src) || !quoter.enabledOn(ctx, dst)) continue; // the bridge is not on both chains: no edge
      else bySource.set(from, [...(bySource.get(from) ?? []), to]);
    }
    if (!quoter) continue;
    for (const [from, tos] of bySource) {
      const src = ctx.chains.get(from)!;
      const state = states.get(from)!;
      const dsts = tos.map((t) => ctx.chains.get(t)!);
      // One amount per source (the quote of an OFT message does not depend on it); the largest minimum of its pairs.
      const amount = tos.map((t) => base(from, t).quotedAmount).reduce((x, y) => (y > x ? y : x));
      jobs.push(
        quoter.quoteNativeFees(ctx, src, dsts, amount, state.blockNumber).then(
          (quotes) => {
            tos.forEach((to, i) => {
              const q = quotes[i];
              const row = { ...base(from, to), quotedAmount: amount };
              if (!q) out.push({ ...row, error: `${bridge} quoter returned no quote for ${from} → ${to}` });
              else if (!q.ok) out.push({ ...row, error: q.error });
              else {
                const price = { answer: state.oracle.answer, decimals: state.oracle.decimals };
                try {
                  out.push({ ...row, nativeFeeWei: q.nativeFeeWei, price, fixedFee: nativeFeeToAsset(q.nativeFeeWei, price, ctx.asset.decimals) });
                } catch (err) {
                  out.push({ ...row, nativeFeeWei: q.nativeFeeWei, price, error: err instanceof Error ? err.message : String(err) });
                }
              }
            });
          },
          (err: unknown) => {
            const msg = `${bridge} quote from ${from} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
            for (const to of tos) out.push({ ...base(from, to), quotedAmount: amount, error: msg });
          },
        ),
      );
    }
  }
  await Promise.all(jobs);
  return out.sort((a, b) => cmpKey(a.from, b.from) || cmpKey(a.to, b.to) || cmpKey(a.bridge, b.bridge));
}

/**
 * The planner's edges from the quotes that have a fee: `fixedFee` the converted native fee, `feeBps` and
 * `latencySec` from config, `capacity` the smaller of the bridge's rate limit and the route's run-time
 * `maxTransfer` cap (workflows/caps.ts, keyed by `routeKey(from, to)`), when either is set.
 */
export function edgesFromQuotes(quotes: readonly RouteQuote[], routeMaxTransfer: Readonly<Record<string, bigint>> = {}): BridgeEdge[] {
  const edges: BridgeEdge[] = [];
  for (const q of quotes) {
    if (q.error !== undefined || q.fixedFee === undefined) continue;
    const caps = [q.rateLimit, routeMaxTransfer[routeKey(q.from, q.to)]].filter((x): x is bigint => x !== undefined);
    const capacity = caps.length === 0 ? undefined : caps.reduce((x, y) => (y < x ? y : x));
    edges.push({ from: q.from, to: q.to, bridge: q.bridge, feeBps: q.feeBps, fixedFee: q.fixedFee, latencySec: q.latencySec, ...(capacity !== undefined ? { capacity } : {}) });
  }
  return edges;
}
