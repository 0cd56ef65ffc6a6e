/**
 * The saga's legs as idempotent activities. Each one is keyed by `legKey(rebalanceId, purpose)`, reads the chain
 * to see whether it already happened (a retry after a crash, a replay), and only then simulates and sends; the
 * keeper's own transaction of a leg is kept in the leg journal (activities/legJournal.ts) so a retry looks it up
 * first. The contracts also refuse a reused key (`RebalanceIdUsed`), so even a race cannot move funds twice.
 *
 * - vault legs (`withdraw`, `deposit` and its compensations) by chain family: EVM here (`CollateralVault` through
 *   `BallastRoute`), Solana in activities/solanaLegs.ts;
 * - bridge legs (`send`, `deliver`, `return`, `return-deliver`) and `locateFunds` through the Bridge port
 *   (activities/bridges/: one module per bridge end, chosen in one place, `routeEnds`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { erc20Abi, type Abi, type Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, endpointV2Abi } from '../contracts/generated/abis.js';
import { chainOf, solanaChainOf, treasuryHolder, type KeeperContext } from './context.js';
import { solanaDeposit, solanaWithdraw } from './solanaLegs.js';
import { keyedWrite } from './evmWrite.js';
import { FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { routeEnds } from './bridges/index.js';
import type { DeliveryInput, DeliveryResult, FundsLocation, LegResult, SendInput, SendResult, VaultLegInput } from './types.js';

export { quoteLayerZeroFee as quoteBridgeFee } from './bridges/layerzeroEvm.js';

/** Every custom error a vault leg can bubble up (route → vault → token), decoded by name. */
const vaultErrorsAbi: Abi = [...collateralVaultAbi, ...ballastRouteAbi, ...ballastTokenAbi, ...endpointV2Abi].filter((x) => x.type === 'error');

/**
 * Leg `withdraw`: source vault → source route (`CollateralVault.withdrawToRoute`); on Solana reserve → treasury.
 * Idempotent on `vault.outflowOf(key)`. @throws ContractRevert (non-retryable) e.g. OutflowCapExceeded.
 */
export async function withdrawFromVault(ctx: KeeperContext, input: VaultLegInput): Promise<LegResult> {
  const sc = solanaChainOf(ctx, input.chainKey);
  if (sc) return solanaWithdraw(ctx, sc, input);
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const isDone = async () => (await pc.readContract({ address: treasuryHolder(c), abi: collateralVaultAbi, functionName: 'outflowOf', args: [key] })) > 0n;
  const r = await keyedWrite(c, key, isDone, { address: treasuryHolder(c), abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [key, input.amount], errorsAbi: vaultErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, ...(r.txHash ? { txHash: r.txHash } : {}), blockNumber: r.receipt?.blockNumber ?? (await pc.getBlockNumber({ cacheTime: 0 })) };
  ctx.log.info({ rebalanceId: input.rebalanceId, chain: c.chainKey, amount: input.amount.toString(), txHash: r.txHash }, 'withdrawn to route');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Leg `deposit` (and the compensations `redeposit`, `return-deposit`): route → vault on `chainKey`
 * (`BallastRoute.depositToVault`); on Solana treasury → reserve. Idempotent on `vault.inflowOf(key)`.
 * @throws ContractRevert (non-retryable) e.g. InflowPaused, or ERC20 balance errors when the tokens are not there.
 */
export async function depositToVault(ctx: KeeperContext, input: VaultLegInput): Promise<LegResult> {
  const sc = solanaChainOf(ctx, input.chainKey);
  if (sc) return solanaDeposit(ctx, sc, input);
  const c = chainOf(ctx, input.chainKey);
  const key = legKey(input.rebalanceId, input.purpose);
  const pc = c.clients.publicClient;
  const isDone = async () => (await pc.readContract({ address: treasuryHolder(c), abi: collateralVaultAbi, functionName: 'inflowOf', args: [key] })) > 0n;
  const r = await keyedWrite(c, key, isDone, { address: c.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [key, input.amount], errorsAbi: vaultErrorsAbi } as const);
  if (r.alreadyDone) return { legKey: key, alreadyDone: true, ...(r.txHash ? { txHash: r.txHash } : {}), blockNumber: r.receipt?.blockNumber ?? (await pc.getBlockNumber({ cacheTime: 0 })) };
  ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: c.chainKey, amount: input.amount.toString(), txHash: r.txHash }, 'deposited into vault');
  return { legKey: key, txHash: r.txHash, alreadyDone: false, blockNumber: r.receipt.blockNumber };
}

/**
 * Leg `send` (and the compensation `return`) over `input.bridge`, from the source's bridge end.
 * @throws ConfigError (non-retryable) for a route no bridge end serves; otherwise as the bridge end's `send`.
 */
export async function sendOverBridge(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
  return routeEnds(ctx, input.bridge, input.from, input.to).src.send(ctx, input);
}

/**
 * Leg `deliver` (and `return-deliver`): waits (bounded) until the destination's bridge end shows the message
 * delivered, redeeming it where the keeper relays; until then the retryable `DeliveryPending` / `VaaPending`,
 * and the workflow's retry policy (bounded by the delivery deadline) waits on.
 */
export async function awaitDelivery(ctx: KeeperContext, input: DeliveryInput): Promise<DeliveryResult> {
  const { dst } = routeEnds(ctx, input.bridge, input.from, input.to);
  if (input.bridge === 'wormhole' && !input.key) throw ApplicationFailure.nonRetryable("a Wormhole delivery needs the send's leg key", FailureType.Config);
  return dst.awaitDelivery(ctx, { from: input.from, to: input.to, guid: input.guid, nonce: input.nonce, key: input.key ?? input.guid });
}

/** The route's (EVM) or treasury's (Solana) token balance on `chainKey`, base units. */
async function routeBalanceOf(ctx: KeeperContext, chainKey: string): Promise<bigint> {
  const sc = solanaChainOf(ctx, chainKey);
  if (sc) return BigInt((await sc.connection.getTokenAccountBalance(sc.accounts.treasury, sc.commitment)).value.amount);
  const c = chainOf(ctx, chainKey);
  return c.clients.publicClient.readContract({ address: c.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.contracts.route] });
}

/**
 * Reads where a rebalance's tokens are: the two routes' (Solana: treasuries') balances and, if sent, the
 * message's delivery state from the receiving bridge end. `from`/`to` are the saga's source and destination;
 * `returned: true` says the message named is the compensation's return, which goes `to` → `from`.
 */
export async function locateFunds(ctx: KeeperContext, input: { from: string; to: string; guid?: Hex; nonce?: bigint; bridge?: string; key?: Hex; returned?: boolean }): Promise<FundsLocation> {
  const [sourceRouteBalance, destinationRouteBalance] = await Promise.all([routeBalanceOf(ctx, input.from), routeBalanceOf(ctx, input.to)]);
  const parts = [`${input.from} route holds ${sourceRouteBalance}`, `${input.to} route holds ${destinationRouteBalance}`];
  const [msgFrom, msgTo] = input.returned ? [input.to, input.from] : [input.from, input.to];
  if (!input.guid || input.nonce === undefined || (input.bridge === 'wormhole' && !input.key)) return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid };
  const { dst } = routeEnds(ctx, input.bridge, msgFrom, msgTo);
  const m = await dst.locate(ctx, { from: msgFrom, to: msgTo, guid: input.guid, nonce: input.nonce, key: input.key ?? input.guid });
  parts.push(`${input.returned ? 'return ' : ''}${m.summary}`);
  return { summary: parts.join('; '), sourceRouteBalance, destinationRouteBalance, guid: input.guid, delivered: m.delivered, verified: m.verified };
}
