/**
 * The collateral saga's legs on a Solana chain: SPL transfers tagged with a memo naming the leg key
 * (chains/solana/memos.ts), so every leg is idempotent by rebalance id — the transfer's memo is looked up on
 * chain before anything is sent (chains/solana/memoTransfer.ts) — and simulated before it is sent.
 *
 *   withdraw  reserveLiquidity → treasury        (the EVM vault → route)
 *   deposit   treasury → reserveLiquidity        (route → vault; also redeposit and return-deposit)
 *   send      treasury → Wormhole custody        the custody attests it as a VAA: emitter chain = the chain's
 *             Wormhole chain id, emitter = the custody account, sequence = the transfer's slot, payload v1
 *             (contracts/src/WormholeAdapter.sol) naming the destination chain and route
 *   deliver   (from an EVM chain) fetch and verify the VAA keeper-side, hand it to the custody service
 *             (config `solana.custodyUrl`), which verifies it again and releases the amount custody → treasury
 *             with the memo `ballast:redeem:<key>`; done when that transfer is on chain
 *
 * Solana fees are paid in lamports by the keeper's key and are not added to the saga's wei fee total.
 */
import { ApplicationFailure } from '@temporalio/common';
import { bytesToHex, type Hex } from 'viem';
import type { Keypair } from '@solana/web3.js';
import { findMemoTransfer, listMemoTransfers, transferWithMemo, type MemoTransfer } from '../chains/solana/memoTransfer.js';
import { depositMemo, redeemMemo, withdrawMemo, wormholeSendMemo, wormholeSendMemoPrefix } from '../chains/solana/memos.js';
import { SolanaSimulationError } from '../chains/solana/errors.js';
import type { KeeperContext, SolanaChainRuntime } from './context.js';
import { FailureType } from './failures.js';
import { legKey } from './legKey.js';
import { fetchVerifiedVaa, wormholeMessageLabel } from './wormholeVaa.js';
import { wormholeGuid } from './wormholeLegs.js';
import type { DeliveryResult, LegResult, SendInput, SendResult, VaultLegInput } from './types.js';

/** A Solana account's 32 bytes as a Wormhole universal address (`0x` + 64 hex). */
export function solanaUniversalAddress(sc: SolanaChainRuntime, role: 'custody' | 'treasury'): Hex {
  return bytesToHex(sc.accounts[role].toBytes());
}

/** The keeper's Solana key. @throws non-retryable ConfigError in a read-only context (no key loaded). */
function signer(sc: SolanaChainRuntime): Keypair {
  if (!sc.keeper) throw ApplicationFailure.nonRetryable(`${sc.chainKey}: no Solana keeper key loaded (config solana.keeper); this context is read-only`, FailureType.Config);
  return sc.keeper;
}

/**
 * Runs a Solana write; a failed simulation (deterministic: e.g. insufficient funds) becomes the non-retryable
 * `ContractRevert` the saga compensates on, like an EVM revert. Timeouts and transport errors stay retryable
 * (the memo lookup keeps the retry from moving funds twice).
 */
async function solanaClassified<T>(sc: SolanaChainRuntime, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SolanaSimulationError) {
      throw ApplicationFailure.create({ type: FailureType.ContractRevert, message: `${sc.chainKey}: ${err.message}`, nonRetryable: true, details: [{ chainKey: sc.chainKey, functionName: 'transferChecked', errorName: err.reason }] });
    }
    throw err;
  }
}

/** One memo-tagged transfer by the keeper, idempotent on `memo` (see chains/solana/memoTransfer.ts). */
function transfer(sc: SolanaChainRuntime, source: 'reserveLiquidity' | 'treasury', destination: 'reserveLiquidity' | 'treasury' | 'custody', amount: bigint, memo: string) {
  const payer = signer(sc);
  return solanaClassified(sc, () =>
    transferWithMemo({
      connection: sc.connection,
      payer,
      mint: sc.accounts.mint,
      decimals: sc.decimals,
      source: sc.accounts[source],
      destination: sc.accounts[destination],
      amount,
      memo,
      priorityFeeMicroLamports: sc.priorityFeeMicroLamports,
      computeUnitLimit: sc.computeUnitLimit,
      commitment: sc.commitment,
      timeoutMs: sc.confirmTimeoutMs,
    }),
  );
}

/** Leg `withdraw` on Solana: reserveLiquidity → treasury, memo `ballast:withdraw:<key>`. */
export async function solanaWithdraw(ctx: KeeperContext, sc: SolanaChainRuntime, input: VaultLegInput): Promise<LegResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await transfer(sc, 'reserveLiquidity', 'treasury', input.amount, withdrawMemo(key));
  if (!r.alreadyDone) ctx.log.info({ rebalanceId: input.rebalanceId, chain: sc.chainKey, amount: input.amount.toString(), signature: r.signature }, 'withdrawn from the Solana reserve');
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), blockNumber: r.slot };
}

/** Leg `deposit` (and `redeposit`, `return-deposit`) on Solana: treasury → reserveLiquidity, memo `ballast:deposit:<key>`. */
export async function solanaDeposit(ctx: KeeperContext, sc: SolanaChainRuntime, input: VaultLegInput): Promise<LegResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await transfer(sc, 'treasury', 'reserveLiquidity', input.amount, depositMemo(key));
  if (!r.alreadyDone) ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, chain: sc.chainKey, amount: input.amount.toString(), signature: r.signature }, 'deposited into the Solana reserve');
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), blockNumber: r.slot };
}

/**
 * Leg `send` (and `return`) from Solana over Wormhole: treasury → custody with the send memo naming the
 * destination chain and its route. The message id: sequence = the transfer's slot, `guid` =
 * {@link wormholeGuid}(chain, custody, slot).
 * @param dst the destination's Wormhole chain id and route (32-byte universal address).
 */
export async function solanaSend(ctx: KeeperContext, sc: SolanaChainRuntime, input: SendInput, dst: { chainId: number; recipient: Hex }): Promise<SendResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await transfer(sc, 'treasury', 'custody', input.amount, wormholeSendMemo(key, dst.chainId, dst.recipient));
  const emitter = solanaUniversalAddress(sc, 'custody');
  const guid = wormholeGuid(sc.wormholeChainId, emitter, r.slot);
  if (!r.alreadyDone) {
    ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, message: wormholeMessageLabel({ emitterChain: sc.wormholeChainId, emitter, sequence: r.slot }), signature: r.signature }, 'sent into Wormhole custody on Solana');
  }
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), guid, nonce: r.slot, nativeFeeWei: 0n, blockNumber: r.slot };
}

/** The custody's release for `key` (custody → treasury, memo `ballast:redeem:<key>`), if it happened. */
export function solanaRedeemOf(sc: SolanaChainRuntime, key: Hex): Promise<MemoTransfer | undefined> {
  return findMemoTransfer({ connection: sc.connection, account: sc.accounts.treasury, memo: redeemMemo(key), commitment: sc.commitment, from: sc.accounts.custody, to: sc.accounts.treasury });
}

/** The keeper's send into custody for `key` (treasury → custody, any destination), if it happened. */
export async function solanaSendOf(sc: SolanaChainRuntime, key: Hex): Promise<MemoTransfer | undefined> {
  const found = await listMemoTransfers({ connection: sc.connection, account: sc.accounts.custody, memoPrefix: wormholeSendMemoPrefix(key), commitment: sc.commitment, from: sc.accounts.treasury, to: sc.accounts.custody });
  return found[0];
}

/** The reserve transfer (withdraw or deposit) recorded under `key`, if it happened. */
export function solanaReserveTransferOf(sc: SolanaChainRuntime, kind: 'withdraw' | 'deposit', key: Hex): Promise<MemoTransfer | undefined> {
  const memo = kind === 'withdraw' ? withdrawMemo(key) : depositMemo(key);
  const [from, to] = kind === 'withdraw' ? [sc.accounts.reserveLiquidity, sc.accounts.treasury] : [sc.accounts.treasury, sc.accounts.reserveLiquidity];
  return findMemoTransfer({ connection: sc.connection, account: sc.accounts.reserveLiquidity, memo, commitment: sc.commitment, from, to });
}

/** What the custody service answers to a redeem request. */
interface RedeemAnswer {
  signature?: string;
  slot?: string;
  error?: string;
  /** `consumed`: the VAA was redeemed before (by us or anyone): look the release up on chain. */
  code?: 'consumed' | 'rejected' | 'pending';
}

/**
 * Leg `deliver` (and `return-deliver`) to Solana: done when the custody's release for `key` is on chain;
 * otherwise fetch and verify the VAA (retryable `VaaPending` / `VaaRejected`), POST it to the custody service
 * (`<custodyUrl>/v1/custody/redeem`), and read the release back.
 * @param emitter the source chain's Wormhole emitter (EVM: its WormholeAdapter).
 * @throws non-retryable `ContractRevert` when the custody refuses the VAA for good (wrong recipient, unknown
 *   emitter: `code: rejected`); retryable otherwise (service down, release not visible yet).
 */
export async function solanaAwaitDelivery(ctx: KeeperContext, sc: SolanaChainRuntime, input: { from: string; to: string; guid: Hex; nonce: bigint; key: Hex }, emitter: { chainId: number; emitter: Hex }): Promise<DeliveryResult> {
  const done = await solanaRedeemOf(sc, input.key);
  if (done) return { guid: input.guid, deliveredAtBlock: done.slot, txHash: done.signature };
  const ref = { emitterChain: emitter.chainId, emitter: emitter.emitter, sequence: input.nonce };
  const { vaa } = await fetchVerifiedVaa(ctx, ref, `rebalance key ${input.key} (${input.from}->${input.to})`);
  const url = `${ctx.solana!.custodyUrl.replace(/\/$/, '')}/v1/custody/redeem`;
  let answer: RedeemAnswer;
  let status: number;
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chain: sc.wormholeChainId, vaa }), signal: AbortSignal.timeout(sc.confirmTimeoutMs) });
    status = res.status;
    answer = (await res.json().catch(() => ({ error: `custody answered HTTP ${res.status} without JSON` }))) as RedeemAnswer;
  } catch (err) {
    throw ApplicationFailure.retryable(`${sc.chainKey}: custody service ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`, 'CustodyUnavailable');
  }
  if (answer.code === 'rejected') {
    throw ApplicationFailure.create({ type: FailureType.ContractRevert, nonRetryable: true, message: `${sc.chainKey}: custody refused VAA ${wormholeMessageLabel(ref)}: ${answer.error ?? `HTTP ${status}`}`, details: [{ chainKey: sc.chainKey, functionName: 'custody.redeem', errorName: 'CustodyRejected' }] });
  }
  const released = await solanaRedeemOf(sc, input.key);
  if (released) {
    ctx.log.info({ key: input.key, message: wormholeMessageLabel(ref), signature: released.signature }, 'VAA redeemed by the Solana custody');
    return { guid: input.guid, deliveredAtBlock: released.slot, txHash: released.signature };
  }
  throw ApplicationFailure.retryable(`${sc.chainKey}: custody ${answer.code ?? (status >= 400 ? 'error' : 'accepted')} for ${wormholeMessageLabel(ref)}${answer.error ? `: ${answer.error}` : ''}; release not on chain yet`, FailureType.DeliveryPending);
}
