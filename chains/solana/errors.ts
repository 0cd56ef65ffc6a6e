/**
 * Typed errors of the Solana adapter (chains/solana). Each names what was wrong, where, and what to do.
 * Activities translate them into Temporal failures: a failed simulation is deterministic for the state it ran
 * on (non-retryable until the state changes), a confirmation timeout is retryable (the pending transaction it
 * carries and the memo lookup make the retry safe), a read error is retryable (fail closed: no plan on a partial snapshot).
 */
import type { PendingSolanaTx } from './memoTransfer.js';

/**
 * A `BallastDevReserve` account's bytes are not that layout (too short, wrong discriminator).
 * `problem` says which part is wrong.
 */
export class ReserveDecodeError extends Error {
  override readonly name = 'ReserveDecodeError';
  constructor(readonly problem: string) {
    super(`BallastDevReserve decode failed: ${problem}; check that the configured reserve account is a BallastDevReserve`);
  }
}

/**
 * A {@link readSolanaState} snapshot could not be taken: some accounts were missing or undecodable, or did not
 * belong together (wrong mint, reserve pointing at another liquidity account). `failed` lists each problem,
 * naming the account role and address. Fail closed: no plan on a partial snapshot.
 */
export class SolanaReadError extends Error {
  override readonly name = 'SolanaReadError';
  constructor(
    readonly chainKey: string,
    readonly failed: string[],
  ) {
    super(`${chainKey}: Solana account read failed: ${failed.join('; ')}; no plan on a partial snapshot (check solana.chains[] accounts in the config)`);
  }
}

/**
 * `simulateTransaction` (or the node's preflight) rejected a transaction: it was NOT executed.
 * `reason` is the decoded cause (e.g. `spl-token: insufficient funds`), `logs` the program logs,
 * `err` the raw `TransactionError` JSON from the node.
 */
export class SolanaSimulationError extends Error {
  override readonly name = 'SolanaSimulationError';
  constructor(
    readonly what: string,
    readonly reason: string,
    readonly logs: string[],
    readonly err: unknown,
  ) {
    super(`${what}: simulation failed, not sent: ${reason}${logs.length ? `\nlogs:\n  ${logs.join('\n  ')}` : ''}`);
  }
}

/**
 * A sent transaction was not seen at the wanted commitment within `timeoutMs` (or its blockhash expired first,
 * `expired` true: then it can no longer land). It MAY still land (when not expired): it may be in flight, where
 * no memo lookup sees it. Retry the same call WITH `pending` (the signed transaction and its
 * lastValidBlockHeight, chains/solana/memoTransfer.ts `SolanaTxJournal`): the retry rebroadcasts it, or signs anew
 * only after it expired. `pending` is absent only for waits on a transaction this call did not sign.
 */
export class SolanaConfirmTimeoutError extends Error {
  override readonly name = 'SolanaConfirmTimeoutError';
  constructor(
    readonly signature: string,
    readonly timeoutMs: number,
    readonly commitment: string,
    readonly expired: boolean,
    /** The transaction waited for, to keep with the leg and pass back on retry. */
    readonly pending?: PendingSolanaTx,
  ) {
    super(
      expired
        ? `transaction ${signature} not ${commitment} before its blockhash expired (block height passed lastValidBlockHeight); it cannot land any more: retry (the memo lookup keeps the retry idempotent)`
        : `transaction ${signature} not ${commitment} within ${timeoutMs} ms; it may still land: retry with it as the pending transaction (rebroadcast, not re-signed)`,
    );
  }
}

/**
 * A transaction landed on chain but failed (`meta.err` set): the fee was paid, nothing else changed.
 * Rare after a successful simulation (state changed in between).
 */
export class SolanaTransactionFailedError extends Error {
  override readonly name = 'SolanaTransactionFailedError';
  constructor(
    readonly signature: string,
    readonly err: unknown,
  ) {
    super(`transaction ${signature} landed but failed: ${JSON.stringify(err)}; state changed after simulation, re-plan and retry`);
  }
}

/**
 * A Solana keypair could not be loaded. `source` names the env variable or file; the message NEVER contains key
 * material (no parser messages, which may quote the input).
 */
export class SolanaKeyError extends Error {
  override readonly name = 'SolanaKeyError';
  constructor(
    readonly source: string,
    problem: string,
  ) {
    super(`Solana keypair from ${source}: ${problem}`);
  }
}
