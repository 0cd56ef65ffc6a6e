/**
 * LP mandates: the clip (eligibility by chain, bridge, fee, expiry and revocation; shared allowances), the exact
 * pro-rata attribution, the monitor's state rules, and the EIP-712 signature checks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { hashTypedData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { mulberry32 } from '../../devnet/prng.js';
import { WAD, type ChainPolicy } from '../../planner/types.js';
import { allowanceOf, attributeMove, clipToMandates, routeFeeKey, splitProRata, transferFeeBps, type Mandate, type MandatePlanInput } from '../../planner/mandates.js';
import { mandateId, mandateTypedData, revocationTypedData, verifyMandateSignature, verifyRevocationSignature } from '../../activities/mandateSignature.js';
import { CONFIG_DEFAULTS, ConfigError, exampleConfig, parseConfig } from '../../config/index.js';
import {
  activeMandates,
  admitTransfer,
  attributeFinished,
  emptyMandatesState,
  LP_RECENT_LIMIT,
  mandateStatus,
  recordStarted,
  registerMandate,
  revokeMandate,
  validateMandate,
  validateRevocation,
} from '../../workflows/mandates.js';

// Anvil's public test accounts 5 and 6 (devnet only).
const LP_A = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
const LP_B = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e');
const A = LP_A.address.toLowerCase();
const B = LP_B.address.toLowerCase();
const NOW_MS = 1_700_000_000_000;
const NOW_SEC = BigInt(NOW_MS / 1000);

const policy = (chainKey: string, minTransfer = 1_000n): ChainPolicy => ({
  chainKey,
  band: { lowWad: (60n * WAD) / 100n, highWad: (80n * WAD) / 100n },
  minBufferAmount: 0n,
  caps: { maxOutflowPerWindow: 10n ** 12n, windowSec: 3600n, maxTransfer: 10n ** 12n, minTransfer },
});
const POLICIES = [policy('alpha'), policy('beta'), policy('gamma')];

function mandate(lp: `0x${string}`, over: Partial<Mandate> = {}): Mandate {
  return { lp, deployment: 'test', chains: ['alpha', 'beta', 'gamma'], bridges: ['layerzero'], maxShareBps: 1_000, maxFeeBps: 100, expiresAtSec: NOW_SEC + 3600n, nonce: 1n, ...over };
}
function input(mandates: Mandate[], positions: Record<string, Record<string, bigint>>, fixedFee = 0n): MandatePlanInput {
  const routeFees: MandatePlanInput['routeFees'] = {};
  for (const f of ['alpha', 'beta', 'gamma']) for (const t of ['alpha', 'beta', 'gamma']) if (f !== t) routeFees[routeFeeKey(f, t, 'layerzero')] = { fixedFee };
  return { mandates, positions, routeFees, nowMs: NOW_MS };
}
const T = (from: string, to: string, amount: bigint, extra: Record<string, unknown> = {}) => ({ from, to, amount, reason: 'alpha 90% > 80%', ...extra });

describe('clipToMandates (planner/mandates.ts)', () => {
  test('a transfer is clipped to Σ position × maxShareBps / 10_000 of the eligible LPs, with the reason and the LPs', () => {
    const r = clipToMandates([T('alpha', 'beta', 250_000n)], input([mandate(LP_A.address), mandate(LP_B.address, { maxShareBps: 500 })], { alpha: { [A]: 1_000_000n, [B]: 600_000n } }), POLICIES);
    assert.equal(allowanceOf(600_000n, 500), 30_000n);
    assert.equal(r.transfers.length, 1);
    assert.equal(r.transfers[0]!.amount, 130_000n);
    assert.match(r.transfers[0]!.reason, /^alpha 90% > 80%; clipped to LP mandates 130000 \(2 LP\(s\) allow 130000\)$/);
    assert.deepEqual(r.transfers[0]!.lpAllowances, [
      { lp: A, nonce: 1n, allowance: 100_000n },
      { lp: B, nonce: 1n, allowance: 30_000n },
    ].sort((x, y) => (x.lp < y.lp ? -1 : 1)));
    // within the allowance: kept whole
    const w = clipToMandates([T('alpha', 'beta', 50_000n)], input([mandate(LP_A.address)], { alpha: { [A]: 1_000_000n } }), POLICIES);
    assert.equal(w.transfers[0]!.amount, 50_000n);
    assert.match(w.transfers[0]!.reason, /within LP mandates/);
  });

  test('eligibility: source and destination chain, bridge, expiry; without any eligible mandate nothing moves and the reason says why', () => {
    const pos = { alpha: { [A]: 1_000_000n } };
    const cases: [Mandate, ReturnType<typeof T>, RegExp][] = [
      [mandate(LP_A.address, { chains: ['beta', 'gamma'] }), T('alpha', 'beta', 10_000n), /no valid LP mandate allows alpha->beta over layerzero/],
      [mandate(LP_A.address, { chains: ['alpha', 'gamma'] }), T('alpha', 'beta', 10_000n), /no valid LP mandate/],
      [mandate(LP_A.address), T('alpha', 'beta', 10_000n, { bridge: 'wormhole' }), /no valid LP mandate allows alpha->beta over wormhole/],
      [mandate(LP_A.address, { expiresAtSec: NOW_SEC }), T('alpha', 'beta', 10_000n), /no valid LP mandate/],
    ];
    for (const [m, t, re] of cases) {
      const r = clipToMandates([t], input([m], pos), POLICIES);
      assert.equal(r.transfers.length, 0, re.source);
      assert.equal(r.dropped[0]!.chainKey, 'alpha');
      assert.match(r.dropped[0]!.reason, re);
    }
    // a bridge the mandate names is fine
    assert.equal(clipToMandates([T('alpha', 'beta', 10_000n, { bridge: 'wormhole', fee: 0n })], input([mandate(LP_A.address, { bridges: ['layerzero', 'wormhole'] })], pos), POLICIES).transfers.length, 1);
    // no position on the source chain: nothing to move
    assert.match(clipToMandates([T('beta', 'alpha', 10_000n)], input([mandate(LP_A.address)], pos), POLICIES).dropped[0]!.reason, /no allowance left on beta/);
    // no mandates at all
    assert.equal(clipToMandates([T('alpha', 'beta', 10_000n)], input([], pos), POLICIES).transfers.length, 0);
  });

  test('fee: an LP is eligible only when maxFeeBps ≥ the fee in bps at the clipped amount (a fixed fee weighs more on less)', () => {
    const pos = { alpha: { [A]: 1_000_000n, [B]: 2_000_000n } };
    // A: allowance 100k, accepts 50 bps; B: allowance 200k, accepts 10 bps.
    const ms = [mandate(LP_A.address, { maxFeeBps: 50 }), mandate(LP_B.address, { maxFeeBps: 10 })];
    const both = clipToMandates([T('alpha', 'beta', 1_000_000n)], input(ms, pos, 100n), POLICIES); // 100/300k = 4 bps
    assert.equal(both.transfers[0]!.amount, 300_000n);
    assert.equal(both.transfers[0]!.lpAllowances.length, 2);
    const onlyA = clipToMandates([T('alpha', 'beta', 1_000_000n)], input(ms, pos, 400n), POLICIES); // 400/300k = 14 bps > 10; 400/100k = 40 ≤ 50
    assert.equal(onlyA.transfers[0]!.amount, 100_000n);
    assert.deepEqual(onlyA.transfers[0]!.lpAllowances.map((x) => x.lp), [A]);
    const none = clipToMandates([T('alpha', 'beta', 1_000_000n)], input(ms, pos, 1_000n), POLICIES); // 34 bps > 10; 100 bps > 50
    assert.equal(none.transfers.length, 0);
    assert.match(none.dropped[0]!.reason, /fee \(\d+ bps at the planned amount\) is above every eligible mandate's maxFeeBps \(highest 50\)/);
    // the transfer's own fee (from the planner) wins over the route quote
    assert.equal(clipToMandates([T('alpha', 'beta', 1_000_000n, { fee: 1_000n })], input(ms, pos, 100n), POLICIES).transfers.length, 0);
    // an unknown fee: only a mandate accepting any fee covers it
    const unknown = { ...input(ms, pos), routeFees: {} };
    assert.match(clipToMandates([T('alpha', 'beta', 1_000n)], unknown, POLICIES).dropped[0]!.reason, /fee is unknown/);
    assert.equal(clipToMandates([T('alpha', 'beta', 50_000n)], { ...unknown, mandates: [mandate(LP_A.address, { maxFeeBps: 10_000 })] }, POLICIES).transfers[0]!.amount, 50_000n);
    assert.equal(transferFeeBps(300_000n, 100_000_000_000n), 1n);
  });

  test('transfers of one plan out of the same chain share the allowances; below minTransfer a transfer is dropped', () => {
    const pos = { alpha: { [A]: 1_000_000n } };
    const r = clipToMandates([T('alpha', 'beta', 70_000n), T('alpha', 'gamma', 70_000n), T('alpha', 'beta', 5_000n)], input([mandate(LP_A.address)], pos), POLICIES);
    assert.deepEqual(r.transfers.map((t) => t.amount), [70_000n, 30_000n]);
    assert.equal(r.transfers[1]!.lpAllowances[0]!.allowance, 30_000n, 'the second transfer sees what is left');
    assert.match(r.dropped[0]!.reason, /no allowance left on alpha/);
    const small = clipToMandates([T('alpha', 'beta', 70_000n)], input([mandate(LP_A.address, { maxShareBps: 5 })], pos), POLICIES);
    assert.match(small.dropped[0]!.reason, /LP mandates allow 500, below minTransfer 1000/);
  });
});

describe('pro-rata attribution', () => {
  test('splitProRata is exact: parts add up, leftovers go to the largest remainders, ties to the lower key', () => {
    assert.deepEqual(splitProRata(10n, [{ key: 'a', weight: 1n }, { key: 'b', weight: 2n }]), [3n, 7n]);
    assert.deepEqual(splitProRata(1n, [{ key: 'b', weight: 1n }, { key: 'a', weight: 1n }]), [0n, 1n]);
    assert.deepEqual(splitProRata(5n, [{ key: 'a', weight: 0n }, { key: 'b', weight: 3n }]), [0n, 5n]);
    assert.deepEqual(splitProRata(0n, []), []);
    assert.throws(() => splitProRata(1n, [{ key: 'a', weight: 0n }]), /no positive weight/);
    assert.throws(() => splitProRata(1n, [{ key: 'a', weight: -1n }]), /negative/);
  });

  test('property: Σ parts = total, |part − exact| < 1, and part ≤ weight when total ≤ Σ weights (500 seeded cases)', () => {
    const rnd = mulberry32(6);
    for (let i = 0; i < 500; i++) {
      const n = 1 + Math.floor(rnd() * 6);
      const weights = Array.from({ length: n }, (_, j) => ({ key: `0x${j}`, weight: BigInt(Math.floor(rnd() * 1e9)) * (rnd() < 0.2 ? 0n : 1n) }));
      const sum = weights.reduce((s, w) => s + w.weight, 0n);
      if (sum === 0n) continue;
      const total = rnd() < 0.5 ? BigInt(Math.floor(rnd() * Number(sum))) : BigInt(Math.floor(rnd() * 1e15));
      const parts = splitProRata(total, weights);
      assert.equal(parts.reduce((s, p) => s + p, 0n), total);
      weights.forEach((w, j) => {
        const exactNum = total * w.weight; // part·sum within (exactNum − sum, exactNum + sum)
        assert.ok(parts[j]! * sum > exactNum - sum && parts[j]! * sum < exactNum + sum, `case ${i} key ${w.key}`);
        if (total <= sum) assert.ok(parts[j]! <= w.weight);
      });
    }
  });

  test('attributeMove splits the amount and both fees by allowance', () => {
    const s = attributeMove([{ lp: A, nonce: 1n, allowance: 100_000n }, { lp: B, nonce: 1n, allowance: 30_000n }], 130_000n, 1_000_000_000_001n, 7n);
    assert.deepEqual(s.map((x) => x.amount), [100_000n, 30_000n]);
    assert.equal(s[0]!.feeWei + s[1]!.feeWei, 1_000_000_000_001n);
    assert.equal(s[0]!.feeBaseUnits + s[1]!.feeBaseUnits, 7n);
    assert.deepEqual(s.map((x) => x.feeBaseUnits), [5n, 2n]);
  });
});

describe('mandates on the monitor (workflows/mandates.ts)', () => {
  test('the validator refuses bad bps, expiry, too few chains, duplicates and a nonce not above the last', () => {
    const s = emptyMandatesState();
    const cases: [Partial<Mandate>, RegExp][] = [
      [{ maxShareBps: 0 }, /maxShareBps must be an integer in 1..10000/],
      [{ maxShareBps: 10_001 }, /maxShareBps/],
      [{ maxFeeBps: 1.5 }, /maxFeeBps must be an integer/],
      [{ expiresAtSec: NOW_SEC }, /expired/],
      [{ chains: ['alpha'] }, /at least two/],
      [{ chains: ['alpha', 'alpha'] }, /twice/],
      [{ bridges: [] }, /bridges must list at least one/],
      [{ lp: '0x1234' }, /lp must be an address/],
    ];
    for (const [over, re] of cases) assert.match(validateMandate(s, mandate(LP_A.address, over), NOW_MS) ?? '', re);
    assert.equal(validateMandate(s, mandate(LP_A.address), NOW_MS), undefined);
    registerMandate(s, mandate(LP_A.address, { nonce: 3n }), '0x01', NOW_MS);
    assert.match(validateMandate(s, mandate(LP_A.address, { nonce: 3n }), NOW_MS) ?? '', /nonce 3 is not above the LP's last nonce 3 \(sign a new mandate with nonce 4\)/);
  });

  test('a new mandate supersedes the LP\'s current one; a revocation is immediate and voids re-registering the old one', () => {
    const s = emptyMandatesState();
    registerMandate(s, mandate(LP_A.address, { nonce: 1n }), '0x01', NOW_MS);
    registerMandate(s, mandate(LP_A.address, { nonce: 2n, maxShareBps: 200 }), '0x02', NOW_MS + 1);
    registerMandate(s, mandate(LP_B.address), '0x03', NOW_MS + 2);
    assert.deepEqual(s.records.map((r) => mandateStatus(r, NOW_MS + 3)), ['superseded', 'active', 'active']);
    assert.deepEqual(activeMandates(s, NOW_MS + 3).map((m) => m.maxShareBps), [200, 1_000]);

    // planned before the revocation, started after: refused
    const t = { rebalanceId: '0xaa', from: 'alpha', to: 'beta', amount: 50_000n, lpAllowances: [{ lp: A, nonce: 2n, allowance: 20_000n }, { lp: B, nonce: 1n, allowance: 100_000n }] };
    assert.equal(admitTransfer(s, t, NOW_MS + 3), undefined);
    assert.match(validateRevocation(s, { lp: LP_A.address, deployment: 'test', nonce: 1n }) ?? '', /below the mandate's nonce 2/);
    revokeMandate(s, { lp: LP_B.address, deployment: 'test', nonce: 1n }, NOW_MS + 4);
    assert.match(admitTransfer(s, t, NOW_MS + 5) ?? '', /now allow 20000 < 50000/);
    assert.deepEqual(activeMandates(s, NOW_MS + 5).map((m) => m.lp), [LP_A.address]);
    assert.match(validateMandate(s, mandate(LP_B.address, { nonce: 1n }), NOW_MS + 5) ?? '', /not above the LP's last nonce 1/);
    assert.match(validateRevocation(s, { lp: LP_B.address, deployment: 'test', nonce: 9n }) ?? '', /has no mandate to revoke/);
    // expiry needs nothing
    assert.equal(mandateStatus(s.records[1]!, Number(NOW_SEC + 3600n) * 1000), 'expired');
  });

  test('attribution on finish: a completed move\'s amount and fees go to its LPs exactly; a compensated one only charges fees', () => {
    const s = emptyMandatesState();
    const lpAllowances = [{ lp: A, nonce: 1n, allowance: 2n }, { lp: B, nonce: 1n, allowance: 1n }];
    recordStarted(s, { rebalanceId: '0x01', from: 'alpha', to: 'beta', amount: 100_001n, lpAllowances });
    recordStarted(s, { rebalanceId: '0x02', from: 'alpha', to: 'beta', amount: 50_000n, lpAllowances });
    recordStarted(s, { rebalanceId: '0x03', from: 'alpha', to: 'beta', amount: 50_000n }); // planned without mandates: not attributed
    const recs = attributeFinished(s, { rebalanceId: '0x01', outcome: 'completed', feePaidWei: 10n }, NOW_MS);
    assert.equal(recs.reduce((x, r) => x + r.amount, 0n), 100_001n);
    assert.deepEqual(recs.map((r) => [r.lp, r.amount, r.feeWei]), [[A, 66_667n, 7n], [B, 33_334n, 3n]]);
    attributeFinished(s, { rebalanceId: '0x02', outcome: 'compensated', feePaidWei: 3n }, NOW_MS + 1);
    assert.deepEqual(attributeFinished(s, { rebalanceId: '0x03', outcome: 'completed', feePaidWei: 3n }, NOW_MS), []);
    assert.deepEqual(attributeFinished(s, { rebalanceId: '0x01', outcome: 'completed', feePaidWei: 10n }, NOW_MS), [], 'a repeated signal attributes nothing');
    assert.equal(s.attribution[A]!.moved, 66_667n);
    assert.equal(s.attribution[A]!.feesWei, 9n);
    assert.equal(s.attribution[A]!.moves, 2);
    assert.equal(s.attribution[B]!.moved + s.attribution[A]!.moved, 100_001n);
    assert.deepEqual(s.attribution[A]!.recent.map((r) => r.outcome), ['compensated', 'completed']);
    assert.deepEqual(s.pending, {});
    for (let i = 0; i < LP_RECENT_LIMIT + 5; i++) {
      recordStarted(s, { rebalanceId: `0x1${i}`, from: 'alpha', to: 'beta', amount: 3n, lpAllowances });
      attributeFinished(s, { rebalanceId: `0x1${i}`, outcome: 'completed', feePaidWei: 0n }, NOW_MS + 10 + i);
    }
    assert.equal(s.attribution[A]!.recent.length, LP_RECENT_LIMIT, 'bounded');
    assert.equal(s.attribution[A]!.moves, 2 + LP_RECENT_LIMIT + 5);
  });
});

describe('EIP-712 mandates (activities/mandateSignature.ts)', () => {
  const KNOWN = { deployment: 'test', chains: ['alpha', 'beta', 'gamma'], bridges: ['layerzero', 'wormhole'] };
  const refused = (re: RegExp) => (e: unknown) => e instanceof ApplicationFailure && e.type === 'MandateRefused' && e.nonRetryable && re.test(e.message);

  test('an LP\'s signature of its mandate recovers to the LP; the id is the EIP-712 digest', async () => {
    const m = mandate(LP_A.address);
    const signature = await LP_A.signTypedData(mandateTypedData(m));
    const r = await verifyMandateSignature(KNOWN, { mandate: m, signature });
    assert.equal(r.lp, LP_A.address);
    assert.equal(r.mandateId, hashTypedData(mandateTypedData(m)));
    assert.equal(r.mandateId, mandateId(m));
    const rev = { lp: LP_A.address, deployment: 'test', nonce: 1n };
    assert.equal(await verifyRevocationSignature('test', { revocation: rev, signature: await LP_A.signTypedData(revocationTypedData(rev)) }), LP_A.address);
  });

  test('refused: signed by someone else, a field changed after signing, another deployment, unknown chain or bridge, a revocation signature as a mandate', async () => {
    const m = mandate(LP_A.address);
    const sigA = await LP_A.signTypedData(mandateTypedData(m));
    await assert.rejects(verifyMandateSignature(KNOWN, { mandate: m, signature: await LP_B.signTypedData(mandateTypedData(m)) }), refused(/signed by 0x[0-9a-fA-F]{40}, not by the LP/));
    await assert.rejects(verifyMandateSignature(KNOWN, { mandate: { ...m, maxShareBps: 10_000 }, signature: sigA }), refused(/not by the LP/));
    await assert.rejects(verifyMandateSignature(KNOWN, { mandate: { ...m, chains: ['alpha', 'beta'] }, signature: sigA }), refused(/not by the LP/));
    await assert.rejects(verifyMandateSignature({ ...KNOWN, deployment: 'prod' }, { mandate: m, signature: sigA }), refused(/for deployment "test", this keeper runs "prod"/));
    await assert.rejects(verifyMandateSignature({ ...KNOWN, chains: ['alpha', 'beta'] }, { mandate: m, signature: sigA }), refused(/unknown chain "gamma"/));
    await assert.rejects(verifyMandateSignature({ ...KNOWN, bridges: ['wormhole'] }, { mandate: m, signature: sigA }), refused(/unknown bridge "layerzero"/));
    await assert.rejects(verifyMandateSignature(KNOWN, { mandate: m, signature: '0x1234' }), refused(/malformed signature/));
    const rev = { lp: LP_A.address, deployment: 'test', nonce: 1n };
    const revSig = await LP_A.signTypedData(revocationTypedData(rev));
    await assert.rejects(verifyMandateSignature(KNOWN, { mandate: m, signature: revSig }), refused(/not by the LP/));
    await assert.rejects(verifyRevocationSignature('test', { revocation: { ...rev, nonce: 2n }, signature: revSig }), refused(/not by the LP/));
    await assert.rejects(verifyRevocationSignature('test', { revocation: { ...rev, lp: LP_B.address }, signature: revSig }), refused(/not by the LP/));
  });
});

describe('config lp', () => {
  const base = () =>
    exampleConfig({
      chains: ['alpha', 'beta'].map((key, i) => {
        const a = (role: number) => `0x${(i + 1).toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'ab'.repeat(18)}` as `0x${string}`;
        return { key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${8545 + i}`, eid: 40_000 + i, contracts: { multicall3: a(1), endpoint: a(2), token: a(3), vault: a(4), route: a(5), priceFeed: a(6) } };
      }),
    });

  test('mandates are not required by default; requireMandates must be a boolean', () => {
    assert.equal(parseConfig(base()).lp.requireMandates, false);
    assert.equal(CONFIG_DEFAULTS.lp.requireMandates, false);
    assert.equal(parseConfig({ ...base(), lp: { requireMandates: true } }).lp.requireMandates, true);
    assert.throws(() => parseConfig({ ...base(), lp: { requireMandates: 'yes' } }), (e: unknown) => e instanceof ConfigError && /lp\.requireMandates: must be true or false/.test(e.message));
  });
});
