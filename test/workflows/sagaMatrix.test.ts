/**
 * ONE test matrix for the one saga (workflows/moveSaga.ts `runMoveSaga`): every row is a fault schedule written in
 * the saga's roles (debit, send, deliver, credit and their compensations), run for both move kinds (collateral:
 * `rebalanceWorkflow`, capacity: `capacityMoveWorkflow`) over both bridges (LayerZero, Wormhole) on Temporal's
 * time-skipping test server with the activity doubles of test/workflows/sagaDoubles.ts (real workflow bundle, a model
 * of the chains' records). Time is skipped; every assertion is on results, recorded calls and the model's records.
 *
 * Each cell checks the invariant stated in moveSaga.ts, from the chains' records (the doubles' model, derived with the
 * keeper's own `deriveFromChain` / `deriveCapacityFromChain`), not from the saga's own word:
 * - the outcome label matches the chains: `completed` = all of the amount at the destination, `compensated` = all of
 *   it back at the source, `stranded` = where the row says, and exactly where the result's location says;
 * - the saga's ledger equals the chains' balances to the base unit;
 * - no leg key moves funds twice: each write leg acts (not `alreadyDone`) at most once.
 * Rows that pin a defect fixed in issue 11: "the audit after … cannot read the chains" (defect 1: the audit's failure was
 * taken for the leg's, and the saga compensated a leg that had happened — a redeposit of burned tokens after a send);
 * "… receipt is lost / times out, its transaction lands" (found by the chaos suite, seed 19: a withdraw labelled
 * `compensated` whose transaction then mined); "… never settles" (a write still unknown at the settle deadline ends
 * `stranded`, never compensated on a guess; when its transaction did land, the audit after it posts the leg instead of
 * calling the keeper's own late transaction a ledger mismatch that halts the monitor).
 * Kind-specific detail (inputs of each activity, Wormhole redemption, polling, mismatch texts, the monitor) stays in
 * sagaBranches.test.ts (collateral) and sagaBranchesCapacity.test.ts (capacity).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { keccak256, toHex, type Hex } from 'viem';
import type { RebalanceInput, RebalanceResult } from '../../workflows/types.js';
import type { CapacityMoveInput, CapacityMoveResult } from '../../workflows/capacity.js';
import { deriveFromChain, inflightAccount, nonZero } from '../../ledger/ledger.js';
import { deriveCapacityFromChain } from '../../ledger/credit.js';
import { ReceiptTimeoutError } from '../../chains/evm/errors.js';
import { afterWrite, always, firstAttempts, revert, startSagaWorld, transient, type Arrival, type CapacityScenario, type CollateralScenario, type Fault, type SagaWorld } from './sagaDoubles.js';

/** The saga's roles (moveSaga.ts `MoveLegNames` plus the bridge legs), and the audit/locate reads. */
type Role = 'debit' | 'undoDebit' | 'send' | 'deliver' | 'credit' | 'return' | 'return-deliver' | 'returnCredit' | 'observe' | 'locate';
/** Where an amount rests, in roles: `held`/`debited`/`arrived` on the source or destination (moveSaga.ts `accounts`), or in flight. */
type Place = 'held:from' | 'held:to' | 'debited:from' | 'arrived:to' | 'arrived:from' | 'inflight:forward' | 'inflight:return';

const AMOUNT = 250_000n * 10n ** 6n;
const DEADLINE = 120;
/** The settle deadline of these runs, seconds (skipped): a write whose outcome stays unknown that long ends `stranded`. */
const SETTLE_DEADLINE = 120;

/** One run of a row, in the kind's neutral terms. */
interface Cell {
  outcome: string;
  reason?: string;
  /** `kind:role:status`, in order. */
  legs: string[];
  ledger: Record<string, bigint>;
  unaudited?: string[];
  forwardId?: string;
  returnId?: string;
  /** Stranded only: the in-route and in-flight balances the result's location names (absent when it could not be read). */
  located?: Record<string, bigint>;
  /** The chains' balances at the end (the model's records through the keeper's derive function), non-zero only. */
  chain: Record<string, bigint>;
  /** Per write leg (the kind's leg name, the key it writes under): the attempts that acted on chain (ok and not `alreadyDone`). */
  acted: Record<string, number>;
  /** Calls of the write activities (every attempt) as `role:status`. */
  writes: string[];
  locateCalls: number;
}

/** A move kind under test: its names for the roles, its accounts, how to run it and read the chains afterwards. */
interface KindUnderTest {
  kind: 'collateral' | 'capacity';
  leg: Record<Role, string>;
  /** Further leg names a role's activities record (capacity over Wormhole: the VAA redemption of a delivery). */
  alsoLeg?: Record<string, Role>;
  /** The function a revert of each write role names (cosmetic: the saga only sees a ContractRevert). */
  fn: Partial<Record<Role, string>>;
  account: { held(c: string): string; debited(c: string): string; arrived(c: string): string };
  /** The account prefixes a location reports (the rest is vault/limit, where a stranded location does not look). */
  locatedPrefixes: string[];
  run(name: string, bridge: 'layerzero' | 'wormhole', row: Row): Promise<Cell>;
}

let w: SagaWorld;
let seq = 0;
const idFor = (name: string): Hex => keccak256(toHex(`saga-matrix:${name}:${++seq}`));

/** Faults written by role → keyed by the kind's leg names (Wormhole capacity deliveries: the fetch is `deliver`). */
const faultsFor = (k: KindUnderTest, faults: Row['faults'] = {}) => Object.fromEntries(Object.entries(faults).map(([role, f]) => [k.leg[role as Role], f(k)]));
const ROLE_OF = (k: KindUnderTest): Record<string, Role> => ({ ...Object.fromEntries(Object.entries(k.leg).map(([role, name]) => [name, role as Role])), ...k.alsoLeg });

/** The neutral view of a finished scenario's calls: roles' writes and how many attempts acted on chain. */
function callsView(k: KindUnderTest, calls: { leg?: string; status: string; result?: unknown }[]) {
  const roleOf = ROLE_OF(k);
  const acted: Record<string, number> = {};
  const writes: string[] = [];
  for (const c of calls) {
    const role = c.leg ? roleOf[c.leg] : undefined;
    if (!role || role === 'observe' || role === 'locate') continue;
    writes.push(`${role}:${c.status}`);
    if (c.status === 'ok' && (c.result as { alreadyDone?: boolean } | undefined)?.alreadyDone !== true) acted[c.leg!] = (acted[c.leg!] ?? 0) + 1;
  }
  return { acted, writes };
}
const legRoles = (k: KindUnderTest, legs: { kind: string; leg: string; status: string }[]) => {
  const roleOf = ROLE_OF(k);
  return legs.map((l) => `${l.kind}:${roleOf[l.leg] ?? l.leg}:${l.status}`);
};
/** Server time of the scenario's last call: the chains' records "now" at the end of the saga. */
const endOf = (s: { calls: { atMs: number }[] }) => Math.max(0, ...s.calls.map((c) => c.atMs));

/** The neutral cell of a finished run: what both kinds' results share, plus the kind's message ids, location and chain balances. */
function cellOf(
  k: KindUnderTest,
  r: { outcome: string; reason?: string; legs: { kind: string; leg: string; status: string }[]; ledger: { balances: Record<string, bigint> }; unauditedSteps?: string[] },
  s: { calls: { leg?: string; status: string; result?: unknown }[]; callsOf(activity: string): unknown[] },
  x: { forwardId?: string; returnId?: string; located?: Record<string, bigint>; chain: Record<string, bigint>; locateActivity: string },
): Cell {
  return {
    outcome: r.outcome,
    reason: r.reason,
    legs: legRoles(k, r.legs),
    ledger: nonZero(r.ledger.balances),
    unaudited: r.unauditedSteps?.map((leg) => ROLE_OF(k)[leg] ?? leg),
    forwardId: x.forwardId,
    returnId: x.returnId,
    located: r.outcome === 'stranded' ? x.located : undefined,
    chain: nonZero(x.chain),
    ...callsView(k, s.calls),
    locateCalls: s.callsOf(x.locateActivity).length,
  };
}

const COLLATERAL: KindUnderTest = {
  kind: 'collateral',
  leg: { debit: 'withdraw', undoDebit: 'redeposit', send: 'send', deliver: 'deliver', credit: 'deposit', return: 'return', 'return-deliver': 'return-deliver', returnCredit: 'return-deposit', observe: 'observe', locate: 'locate' },
  fn: { debit: 'withdrawToRoute', undoDebit: 'depositFromRoute', send: 'send', credit: 'depositFromRoute', return: 'send', returnCredit: 'depositFromRoute' },
  account: { held: (c) => `vault:${c}`, debited: (c) => `route:${c}`, arrived: (c) => `route:${c}` },
  locatedPrefixes: ['route:', 'inflight:'],
  async run(name, bridge, row) {
    const s: CollateralScenario = w.lab.collateral({ rebalanceId: idFor(`collateral:${bridge}:${name}`), amount: AMOUNT, bridge, faults: faultsFor(this, row.faults), arrival: row.arrival });
    const input: RebalanceInput = { rebalanceId: s.rebalanceId, from: s.from, to: s.to, amount: s.amount, reason: 'matrix', deliveryDeadlineSec: DEADLINE, bridge, settleDeadlineSec: SETTLE_DEADLINE, ...row.input };
    const r = await w.execute<RebalanceResult>('rebalanceWorkflow', input);
    const loc = r.fundsLocation;
    const located = loc && nonZero({ [`route:${s.from}`]: loc.sourceRouteBalance, [`route:${s.to}`]: loc.destinationRouteBalance, ...(loc.guid && loc.delivered === false ? { [inflightAccount(loc.guid)]: AMOUNT } : {}) });
    return cellOf(this, r, s, { forwardId: r.guid, returnId: r.returnGuid ?? s.returned?.guid, located, chain: deriveFromChain(s.factsAt(endOf(s))), locateActivity: 'locateFunds' });
  },
};

const CAPACITY: KindUnderTest = {
  kind: 'capacity',
  alsoLeg: { redeem: 'deliver', 'return-redeem': 'return-deliver' },
  leg: { debit: 'reserve', undoDebit: 'restore', send: 'send', deliver: 'deliver', credit: 'apply', return: 'return', 'return-deliver': 'return-deliver', returnCredit: 'return-apply', observe: 'observe', locate: 'locate' },
  fn: { debit: 'reserveCredit', undoDebit: 'restoreCredit', send: 'sendCredit', credit: 'applyCredit', return: 'returnCredit', returnCredit: 'applyCredit' },
  account: { held: (c) => `limit:${c}`, debited: (c) => `reserved:${c}`, arrived: (c) => `pending:${c}` },
  locatedPrefixes: ['reserved:', 'pending:', 'inflight:'],
  async run(name, bridge, row) {
    const s: CapacityScenario = w.lab.capacity({ rebalanceId: idFor(`capacity:${bridge}:${name}`), amount: AMOUNT, bridge, faults: faultsFor(this, row.faults), arrival: row.arrival });
    const input: CapacityMoveInput = { rebalanceId: s.rebalanceId, from: s.from, to: s.to, amount: s.amount, reason: 'matrix', deliveryDeadlineSec: DEADLINE, bridge, settleDeadlineSec: SETTLE_DEADLINE, ...row.input };
    const r = await w.execute<CapacityMoveResult>('capacityMoveWorkflow', input);
    const loc = r.creditLocation;
    const pendingAmt = (p: { amount: bigint; status: string }) => (p.status === 'pending' ? p.amount : 0n);
    const located =
      loc &&
      nonZero({
        [`reserved:${s.from}`]: loc.reservation.status === 'reserved' ? loc.reservation.amount : 0n,
        [`pending:${s.to}`]: pendingAmt(loc.pendingAtDestination),
        [`pending:${s.from}`]: pendingAmt(loc.pendingAtSource),
        ...(loc.sent && !loc.sent.delivered ? { [inflightAccount(loc.sent.id)]: loc.sent.amount } : {}),
        ...(loc.returned && !loc.returned.delivered ? { [inflightAccount(loc.returned.id)]: loc.returned.amount } : {}),
      });
    return cellOf(this, r, s, { forwardId: r.messageId, returnId: r.returnMessageId ?? s.returned?.id, located, chain: deriveCapacityFromChain(s.factsAt(endOf(s))), locateActivity: 'locateCredit' });
  },
};

/** A row of the matrix: faults by role, arrivals, what the saga must end with. */
interface Row {
  name: string;
  faults?: Partial<Record<Role, (k: KindUnderTest) => Fault>>;
  arrival?: { forward?: Arrival; return?: Arrival };
  input?: { auditDeadlineSec?: number };
  outcome: 'completed' | 'compensated' | 'stranded';
  /** Where the amount is at the end (also where the ledger and, when stranded, the location put it). */
  at: Place;
  /** The legs in roles, `kind:role:status`. */
  legs: string[];
  reason?: RegExp;
  unaudited?: string[];
  /** Write roles that must not have been called at all. */
  never?: Role[];
}

const chainOf = (role: Role) => (role === 'credit' || role === 'return' ? 'beta' : 'alpha');
/** Every attempt of `role` reverts (a decoded ContractRevert: non-retryable). */
const reverts = (role: Role) => (k: KindUnderTest) => always(revert(chainOf(role), k.fn[role] ?? role, 'InflowPaused'));
/** A receipt that never comes for `role`'s transaction: `landed` says whether the chain recorded it anyway. */
const receiptLost = (role: Role, attempts: number | 'always', landed: boolean) => (k: KindUnderTest) => {
  const make = () => new ReceiptTimeoutError(chainOf(role), k.fn[role] ?? role, `0x${'ab'.repeat(32)}`, 7, 15_000);
  if (attempts === 'always') return landed ? afterWrite(Number.MAX_SAFE_INTEGER, make) : always(make);
  return landed ? afterWrite(attempts, make) : firstAttempts(attempts, make);
};
/** The audit (every observe attempt) fails while the newest write that succeeded is `role`'s. */
const auditDownAfter =
  (role: Role) =>
  (k: KindUnderTest): Fault =>
  () => {
    const lastWrite = w.lab.running?.calls.filter((x) => x.leg && x.leg !== 'observe' && x.leg !== 'locate' && x.status === 'ok').at(-1);
    return lastWrite?.leg !== undefined && ROLE_OF(k)[lastWrite.leg] === role ? transient('alpha: fetch failed (RPC down)')() : undefined;
  };

const FORWARD = ['leg:debit:ok', 'leg:send:ok', 'leg:deliver:ok'];
const COMPLETED = [...FORWARD, 'leg:credit:ok'];
const RETURNED = [...FORWARD, 'leg:credit:failed', 'compensation:return:ok', 'compensation:return-deliver:ok'];

const ROWS: Row[] = [
  { name: 'every leg succeeds', outcome: 'completed', at: 'held:to', legs: COMPLETED },
  { name: 'the debit reverts: nothing to undo', faults: { debit: reverts('debit') }, outcome: 'compensated', at: 'held:from', legs: ['leg:debit:failed'], never: ['send', 'undoDebit'] },
  { name: 'the send reverts: the debit is undone', faults: { send: reverts('send') }, outcome: 'compensated', at: 'held:from', legs: ['leg:debit:ok', 'leg:send:failed', 'compensation:undoDebit:ok'] },
  {
    name: 'the send reverts and the undo reverts',
    faults: { send: reverts('send'), undoDebit: reverts('undoDebit') },
    outcome: 'stranded',
    at: 'debited:from',
    legs: ['leg:debit:ok', 'leg:send:failed', 'compensation:undoDebit:failed'],
    reason: /; compensation \S+ failed: /,
  },
  { name: 'the delivery never comes', arrival: { forward: 'never' }, outcome: 'stranded', at: 'inflight:forward', legs: ['leg:debit:ok', 'leg:send:ok', 'leg:deliver:failed'], reason: /not seen within 120s/, never: ['credit', 'return'] },
  { name: 'the delivery comes late, inside the deadline', arrival: { forward: 90_000 }, outcome: 'completed', at: 'held:to', legs: COMPLETED },
  { name: 'the credit reverts: returned and credited back', faults: { credit: reverts('credit') }, outcome: 'compensated', at: 'held:from', legs: [...RETURNED, 'compensation:returnCredit:ok'] },
  {
    name: 'the credit reverts, the return send reverts',
    faults: { credit: reverts('credit'), return: reverts('return') },
    outcome: 'stranded',
    at: 'arrived:to',
    legs: [...FORWARD, 'leg:credit:failed', 'compensation:return:failed'],
  },
  {
    name: 'the credit reverts, the return never arrives',
    faults: { credit: reverts('credit') },
    arrival: { return: 'never' },
    outcome: 'stranded',
    at: 'inflight:return',
    legs: [...FORWARD, 'leg:credit:failed', 'compensation:return:ok', 'compensation:return-deliver:failed'],
    never: ['returnCredit'],
  },
  { name: 'the credit reverts, the credit back reverts', faults: { credit: reverts('credit'), returnCredit: reverts('returnCredit') }, outcome: 'stranded', at: 'arrived:from', legs: [...RETURNED, 'compensation:returnCredit:failed'] },
  {
    name: 'the credit fails transiently past the writes policy (5 attempts): returned',
    faults: { credit: () => always(transient('beta: RPC 503')) },
    outcome: 'compensated',
    at: 'held:from',
    legs: [...RETURNED, 'compensation:returnCredit:ok'],
  },
  { name: 'the audit at open cannot read the chains: nothing moves', faults: { observe: () => always(transient('alpha: fetch failed (RPC down)')) }, input: { auditDeadlineSec: 30 }, outcome: 'compensated', at: 'held:from', legs: [], unaudited: ['open'], reason: /^nothing moved/ },
  ...(['debit', 'send', 'deliver'] as const).map(
    (role): Row => ({ name: `the audit after ${role} cannot read the chains: the legs decide`, faults: { observe: auditDownAfter(role) }, input: { auditDeadlineSec: 30 }, outcome: 'completed', at: 'held:to', legs: COMPLETED, unaudited: [role], never: ['undoDebit', 'return'] }),
  ),
  { name: 'the debit receipt is lost 5 times, its transaction lands: settled', faults: { debit: receiptLost('debit', 5, true) }, outcome: 'completed', at: 'held:to', legs: COMPLETED, never: ['undoDebit'] },
  { name: 'the credit receipt times out 5 times, then the transaction lands: settled', faults: { credit: receiptLost('credit', 5, false) }, outcome: 'completed', at: 'held:to', legs: COMPLETED, never: ['return'] },
  // A write whose outcome never settles: stranded, never compensated on a guess; the location says where the amount is.
  { name: 'the debit never settles (its transaction did not land)', faults: { debit: receiptLost('debit', 'always', false) }, outcome: 'stranded', at: 'held:from', legs: ['leg:debit:failed'], reason: /outcome unknown/, never: ['send', 'undoDebit'] },
  { name: 'the debit never settles (its transaction landed)', faults: { debit: receiptLost('debit', 'always', true) }, outcome: 'stranded', at: 'debited:from', legs: ['leg:debit:failed'], reason: /outcome unknown .*; the chains show it done/, never: ['send', 'undoDebit'] },
  { name: 'the credit never settles (its transaction did not land)', faults: { credit: receiptLost('credit', 'always', false) }, outcome: 'stranded', at: 'arrived:to', legs: [...FORWARD, 'leg:credit:failed'], reason: /outcome unknown/, never: ['return'] },
  {
    name: 'the undo never settles after a send revert',
    faults: { send: reverts('send'), undoDebit: receiptLost('undoDebit', 'always', false) },
    outcome: 'stranded',
    at: 'debited:from',
    legs: ['leg:debit:ok', 'leg:send:failed', 'compensation:undoDebit:failed'],
    reason: /compensation \S+ failed: \S+: outcome unknown/,
  },
];

/** The account of `place` in kind `k` for the run `c`. */
function accountOf(k: KindUnderTest, place: Place, c: Cell): string {
  switch (place) {
    case 'held:from':
      return k.account.held('alpha');
    case 'held:to':
      return k.account.held('beta');
    case 'debited:from':
      return k.account.debited('alpha');
    case 'arrived:to':
      return k.account.arrived('beta');
    case 'arrived:from':
      return k.account.arrived('alpha');
    case 'inflight:forward':
      return inflightAccount(c.forwardId!);
    case 'inflight:return':
      return inflightAccount(c.returnId!);
  }
}

before(async () => {
  w = await startSagaWorld();
});
after(async () => {
  await w?.stop();
});

for (const k of [COLLATERAL, CAPACITY]) {
  for (const bridge of ['layerzero', 'wormhole'] as const) {
    describe(`the one saga: ${k.kind} over ${bridge} (time-skipping, activity doubles)`, () => {
      for (const row of ROWS) {
        test(`${row.name} → ${row.outcome}`, async () => {
          const c = await k.run(row.name, bridge, row);
          const where = accountOf(k, row.at, c);
          assert.equal(c.outcome, row.outcome, c.reason);
          assert.deepEqual(c.legs, row.legs);
          if (row.reason) assert.match(c.reason ?? '', row.reason);
          assert.deepEqual(c.unaudited, row.unaudited);
          // The chains, the ledger and the label agree.
          assert.deepEqual(c.chain, { [where]: AMOUNT }, `the chains hold the amount in ${where}`);
          assert.deepEqual(c.ledger, c.chain, "the saga's ledger equals the chains to the base unit");
          if (c.outcome === 'completed') assert.deepEqual(c.chain, { [k.account.held('beta')]: AMOUNT }, 'completed = at the destination');
          if (c.outcome === 'compensated') assert.deepEqual(c.chain, { [k.account.held('alpha')]: AMOUNT }, 'compensated = back at the source');
          if (c.outcome === 'stranded') {
            assert.ok(c.locateCalls >= 1, 'a stranded saga locates its funds');
            const inRoute = Object.fromEntries(Object.entries(c.chain).filter(([a]) => k.locatedPrefixes.some((p) => a.startsWith(p))));
            assert.deepEqual(c.located, inRoute, 'stranded = exactly where the location says');
          } else assert.equal(c.locateCalls, 0);
          // No leg key moves funds twice.
          for (const [leg, n] of Object.entries(c.acted)) assert.ok(n <= 1, `${leg} acted ${n} times`);
          for (const role of row.never ?? []) assert.ok(!c.writes.some((x) => x.startsWith(`${role}:`)), `${role} was not called (${c.writes.join(', ')})`);
        });
      }
    });
  }
}
