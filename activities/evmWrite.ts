/**
 * One keyed write of a leg on an EVM chain — the only way an activity writes to an EVM chain:
 * `writeOnce` (chains/evm/writeOnce.ts: the leg's own earlier transaction first, then the chain's record, then
 * simulate-and-send, and a revert re-checked against the chain) + `simulateAndWrite` (simulation, one nonce
 * discipline per chain and account) + the leg journal (activities/legJournal.ts: the signed transaction kept in
 * the heartbeat details before it is broadcast) + `classified` (a revert the chain confirms is the non-retryable
 * `ContractRevert`).
 */
import type { Abi, ContractFunctionName, Hex } from 'viem';
import { writeOnce, type WriteOnceResult } from '../chains/evm/writeOnce.js';
import { simulateAndWrite, type PendingEvmTx, type WriteParams } from '../chains/evm/writeContract.js';
import type { ChainRuntime } from './context.js';
import { classified } from './failures.js';
import { pendingLegTx, recordLegTx } from './legJournal.js';

/** The call of a keyed write: contract, function, arguments, value and the extra error ABI to decode reverts. */
export type KeyedCall<abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>> = Omit<WriteParams<abi, fn>, 'clients' | 'confirmations' | 'timeoutMs' | 'onSigned' | 'nonceManager'>;

/**
 * Writes `call` on chain `c` at most once under leg key `key`.
 * @param isDone reads the chain: whether the action under `key` already happened (by us or anyone).
 * @param call the call, or a function building it right before sending (e.g. to quote the fee it pays).
 * @returns `alreadyDone: true` (with the hash and receipt when it was this leg's own earlier transaction), or the
 *   write's hash, receipt and nonce.
 * @throws non-retryable `ContractRevert` when the write reverted and the chain shows the action not done;
 *   retryable failures otherwise (receipt timeout, nonce conflict, lagging node: `StaleRead`, `WritePending`).
 */
export function keyedWrite<const abi extends Abi, fn extends ContractFunctionName<abi, 'nonpayable' | 'payable'>>(
  c: ChainRuntime,
  key: Hex,
  isDone: () => Promise<boolean>,
  call: KeyedCall<abi, fn> | (() => Promise<KeyedCall<abi, fn>>),
): Promise<WriteOnceResult> {
  return classified(() =>
    writeOnce({
      chainKey: c.chainKey,
      key,
      clients: c.clients,
      isDone,
      pending: pendingLegTx<PendingEvmTx>(c.chainKey, key),
      record: (tx) => recordLegTx(c.chainKey, key, tx),
      receiptTimeoutMs: c.receiptTimeoutMs,
      confirmations: c.confirmations,
      write: async (onSigned) => {
        const p = typeof call === 'function' ? await call() : call;
        return simulateAndWrite({ ...p, clients: c.clients, confirmations: c.confirmations, timeoutMs: c.receiptTimeoutMs, onSigned } as WriteParams<abi, fn>);
      },
    }),
  );
}
