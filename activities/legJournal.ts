/**
 * The leg journal: the keeper's own transaction of a leg, kept with the leg across attempts in the activity's
 * Temporal heartbeat details, so that a retry (after a receipt timeout, a confirmation timeout, or a worker
 * killed between signing and broadcast) looks that transaction up first instead of signing a second one.
 *
 * Entries are keyed by `<chain>:<leg key>` (one activity may write more than once, e.g. a Wormhole delivery that
 * redeems). {@link recordLegTx} heartbeats at once with every entry (the worker flushes heartbeats within its
 * `maxHeartbeatThrottleInterval`, keeper/worker.ts); `timed` (activities/timed.ts) re-sends the same details on
 * its periodic heartbeat, so the entries are never overwritten with empty details. Outside an activity (direct
 * calls in tests) there is no journal: nothing is recorded and nothing is pending.
 *
 * The journal is an optimisation of the retry, never the only guard: every leg still reads the chain first
 * (`isDone`, memo lookup), and a revert of a keyed write is re-checked against the chain (chains/evm/writeOnce.ts).
 */
import { Context } from '@temporalio/activity';

/** Journal entries by `<chain>:<leg key>`: an EVM transaction (hash, nonce, serialized) or a Solana one. */
export type LegJournalEntries = Record<string, unknown>;

const journals = new WeakMap<Context, LegJournalEntries>();

function current(): { ctx: Context; entries: LegJournalEntries } | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined;
  }
  let entries = journals.get(ctx);
  if (!entries) {
    const prior = ctx.info.heartbeatDetails as { legJournal?: LegJournalEntries } | undefined;
    entries = { ...(prior?.legJournal ?? {}) };
    journals.set(ctx, entries);
  }
  return { ctx, entries };
}
/** The heartbeat details that carry the journal (what `timed` re-sends every second). */
export function legJournalDetails(): { legJournal: LegJournalEntries } | undefined {
  const c = current();
  return c && Object.keys(c.entries).length > 0 ? { legJournal: c.entries } : undefined;
}

/** The transaction an earlier attempt of this activity journaled for `chainKey`/`key`, if any. */
export function pendingLegTx<T>(chainKey: string, key: string): T | undefined {
  return current()?.entries[`${chainKey}:${key.toLowerCase()}`] as T | undefined;
}

/** Journals `tx` for `chainKey`/`key` and heartbeats it at once (before the transaction is broadcast). */
export function recordLegTx(chainKey: string, key: string, tx: unknown): void {
  const c = current();
  if (!c) return;
  c.entries[`${chainKey}:${key.toLowerCase()}`] = tx;
  c.ctx.heartbeat({ legJournal: c.entries });
}
