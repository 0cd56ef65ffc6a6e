/**
 * Wormhole on a Solana chain ({@link BridgeEnd}). The devnet's stand-in for Wormhole's token bridge on Solana
 * (devnet/solanaCustody.ts) holds a custody token account:
 *
 *   send     treasury → Wormhole custody with the send memo naming the destination chain and route; the custody
 *            attests it as a VAA: emitter chain = the chain's Wormhole chain id, emitter = the custody account,
 *            sequence = the custody's per-emitter message counter (the send's ordinal among all sends into
 *            custody, chains/solana/memoTransfer.ts `listCustodySends`, read back from chain history after the
 *            send), payload v1 (contracts/src/WormholeAdapter.sol). Idempotent on the memo (and the leg journal).
 *   deliver  (from an EVM chain) fetch and verify the VAA keeper-side, hand it to the custody service
 *            (config `solana.custodyUrl`), which verifies it again and releases the amount custody → treasury
 *            with the memo `ballast:redeem:<key>`; done when that transfer is on chain.
 */
import { ApplicationFailure } from '@temporalio/common';
import { bytesToHex, pad, type Hex } from 'viem';
import { findMemoTransfer, listCustodySends, type CustodySend, type MemoTransfer } from '../../chains/solana/memoTransfer.js';
import { redeemMemo, wormholeSendMemo, wormholeSendMemoPrefix } from '../../chains/solana/memos.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { chainOf, solanaChainOf, type KeeperContext, type SolanaChainRuntime } from '../context.js';
import { FailureType } from '../failures.js';
import { legKey } from '../legKey.js';
import { solanaTransfer } from '../solanaLegs.js';
import { awaitVerifiedVaa, wormholeMessageLabel } from '../wormholeVaa.js';
import type { DeliveryResult, SendInput, SendResult } from '../types.js';
import type { BridgeEnd, BridgeMessage, RecordedSend } from './port.js';
import { wormholeEmitterOf } from './wormholeEmitter.js';

/** The Solana chain `chainKey`. @throws non-retryable ConfigError when it is not one. */
function solanaChain(ctx: KeeperContext, chainKey: string): SolanaChainRuntime {
  const sc = solanaChainOf(ctx, chainKey);
  if (!sc) throw ApplicationFailure.nonRetryable(`${chainKey}: not a Solana chain of this config`, FailureType.Config);
  return sc;
}

/** A Solana account's 32 bytes as a Wormhole universal address (`0x` + 64 hex). */
export function solanaUniversalAddress(sc: SolanaChainRuntime, role: 'custody' | 'treasury'): Hex {
  return bytesToHex(sc.accounts[role].toBytes());
}

/**
 * Leg `send` (and `return`) from Solana over Wormhole: treasury → custody with the send memo naming the
 * destination chain and its route. The message id: sequence = the custody's sequence of this send, learned
 * from chain history after it landed ({@link solanaSendSequence}); `nonce` = that sequence, `guid` =
 * {@link wormholeGuid}(chain, custody, sequence), `blockNumber` = the slot it landed in.
 * @param dst the destination's Wormhole chain id and route (32-byte universal address).
 * @throws as activities/solanaLegs.ts `solanaWithdraw`; retryable `StaleRead` when the landed send is not in the custody's history yet.
 */
export async function solanaSend(ctx: KeeperContext, sc: SolanaChainRuntime, input: SendInput, dst: { chainId: number; recipient: Hex }): Promise<SendResult> {
  const key = legKey(input.rebalanceId, input.purpose);
  const r = await solanaTransfer(sc, 'treasury', 'custody', input.amount, wormholeSendMemo(key, dst.chainId, dst.recipient), undefined);
  const sequence = await solanaSendSequence(sc, r.signature);
  const emitter = solanaUniversalAddress(sc, 'custody');
  const guid = wormholeGuid(sc.wormholeChainId, emitter, sequence);
  if (!r.alreadyDone) {
    ctx.log.info({ rebalanceId: input.rebalanceId, purpose: input.purpose, route: `${input.from}->${input.to}`, message: wormholeMessageLabel({ emitterChain: sc.wormholeChainId, emitter, sequence }), signature: r.signature, slot: r.slot.toString() }, 'sent into Wormhole custody on Solana');
  }
  return { legKey: key, alreadyDone: r.alreadyDone, ...(r.alreadyDone ? {} : { txHash: r.signature }), guid, nonce: sequence, nativeFeeWei: 0n, blockNumber: r.slot };
}

/**
 * The Wormhole sequence of the custody send `signature` (base58): its ordinal among all sends into the custody
 * at the chain's commitment (chains/solana/memoTransfer.ts `listCustodySends`, the rule the custody stand-in
 * numbers its messages by). Reads the custody's whole history.
 * @throws retryable `StaleRead` when `signature` is not (yet) a send in that history.
 */
export async function solanaSendSequence(sc: SolanaChainRuntime, signature: string): Promise<bigint> {
  const sends = await listCustodySends({ connection: sc.connection, custody: sc.accounts.custody, commitment: sc.commitment });
  const mine = sends.find((s) => s.signature === signature);
  if (!mine) throw ApplicationFailure.retryable(`${sc.chainKey}: send ${signature} is not among the ${sends.length} sends in custody ${sc.accounts.custody.toBase58()}'s history at ${sc.commitment} yet; retrying`, 'StaleRead');
  return mine.sequence;
}

/** The custody's release for `key` (custody → treasury, memo `ballast:redeem:<key>`), if it happened. */
export function solanaRedeemOf(sc: SolanaChainRuntime, key: Hex): Promise<MemoTransfer | undefined> {
  return findMemoTransfer({ connection: sc.connection, account: sc.accounts.treasury, memo: redeemMemo(key), commitment: sc.commitment, from: sc.accounts.custody, to: sc.accounts.treasury });
}

/**
 * Every send into custody for `key` by the keeper (treasury → custody, any destination), oldest first, each with
 * its Wormhole sequence: more than one means the send moved funds more than once (the ledger sums them).
 * Reads the custody's whole history (the sequences need it).
 */
export async function solanaSendsOf(sc: SolanaChainRuntime, key: Hex): Promise<CustodySend[]> {
  const prefix = wormholeSendMemoPrefix(key);
  const sends = await listCustodySends({ connection: sc.connection, custody: sc.accounts.custody, commitment: sc.commitment });
  return sends.filter((s) => s.memo.startsWith(prefix) && s.source.equals(sc.accounts.treasury));
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
  const { vaa } = await awaitVerifiedVaa(ctx, ref, `rebalance key ${input.key} (${input.from}->${input.to})`);
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

/** Wormhole on a Solana chain. */
export const wormholeSolana: BridgeEnd = {
  bridge: 'wormhole',
  family: 'solana',
  /** From Solana to an EVM chain (the destination's route as recipient). @throws ConfigError for Solana-to-Solana. */
  async send(ctx: KeeperContext, input: SendInput): Promise<SendResult> {
    const sc = solanaChain(ctx, input.from);
    if (solanaChainOf(ctx, input.to)) throw ApplicationFailure.nonRetryable(`${input.from} -> ${input.to}: Solana-to-Solana moves are not supported`, FailureType.Config);
    const dst = chainOf(ctx, input.to);
    return solanaSend(ctx, sc, input, { chainId: wormholeEmitterOf(ctx, input.to).chainId, recipient: pad(dst.contracts.route, { size: 32 }) });
  },
  awaitDelivery(ctx: KeeperContext, m: BridgeMessage): Promise<DeliveryResult> {
    return solanaAwaitDelivery(ctx, solanaChain(ctx, m.to), m, wormholeEmitterOf(ctx, m.from));
  },
  async locate(ctx: KeeperContext, m: BridgeMessage) {
    const delivered = (await solanaRedeemOf(solanaChain(ctx, m.to), m.key)) !== undefined;
    const e = wormholeEmitterOf(ctx, m.from);
    return { delivered, summary: `Wormhole message ${e.chainId}/${e.emitter}/${m.nonce} ${delivered ? 'redeemed' : 'not redeemed'} on ${m.to}` };
  },
  /**
   * Reads the custody's sends and releases (memo-tagged transfers; the slot was waited for by the caller). Amounts
   * are the SUM of every send recorded under the key (a send that moved funds twice shows as a ledger mismatch);
   * the message id is that of the first (oldest) send.
   */
  reader(ctx: KeeperContext, chainKey: string) {
    const sc = solanaChain(ctx, chainKey);
    const custody = solanaUniversalAddress(sc, 'custody');
    return {
      async sent(key: Hex): Promise<RecordedSend | undefined> {
        const all = await solanaSendsOf(sc, key);
        const first = all[0];
        return first ? { amount: all.reduce((sum, t) => sum + t.amount, 0n), guid: wormholeGuid(sc.wormholeChainId, custody, first.sequence), nonce: first.sequence } : undefined;
      },
      received: async (key: Hex) => (await solanaRedeemOf(sc, key)) !== undefined,
    };
  },
};
