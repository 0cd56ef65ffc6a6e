import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ApplicationFailure } from '@temporalio/common';
import {
  approveCapChange,
  effectivePolicies,
  emptyCapsState,
  proposeCapChange,
  raisedFields,
  settlePendingCaps,
  validateCapApproval,
  validateCapChange,
  type CapChangeRequest,
} from '../../workflows/caps.js';
import { CAP_DOMAIN, CAP_TYPES, capChangeId, capChangeMessage, verifyCapSignature } from '../../activities/capApproval.js';
import { clipToRouteCaps } from '../../activities/plan.js';
import { WAD, type ChainPolicy } from '../../planner/types.js';

const policy = (chainKey: string): ChainPolicy => ({
  chainKey,
  band: { lowWad: (60n * WAD) / 100n, highWad: (80n * WAD) / 100n },
  minBufferAmount: 1_000n,
  caps: { maxOutflowPerWindow: 1_000_000n, windowSec: 3600n, maxTransfer: 500_000n, minTransfer: 100n },
});
const POLICIES = [policy('alpha'), policy('beta')];
const RULES = { approvalWindowSec: 600 };
const NOW_MS = 1_700_000_000_000;
const NOW_SEC = BigInt(NOW_MS / 1000);

let n = 0;
function req(over: Partial<CapChangeRequest> = {}): CapChangeRequest {
  n += 1;
  return { changeId: `0x${n.toString(16).padStart(64, '0')}`, scope: { chainKey: 'alpha' }, set: { maxTransfer: 100_000n }, reason: 'incident drill', expiresAtSec: NOW_SEC + 3600n, ...over };
}

describe('run-time caps (workflows/caps.ts)', () => {
  test('a cut applies at once and the planner policy follows it; the audit records old and new', () => {
    const s = emptyCapsState();
    const rec = proposeCapChange(s, POLICIES, RULES, req(), 'risk-a', NOW_MS);
    assert.equal(rec.length, 1);
    assert.equal(rec[0]!.action, 'applied');
    assert.deepEqual(rec[0]!.old, { maxTransfer: '500000' });
    assert.deepEqual(rec[0]!.new, { maxTransfer: '100000' });
    const eff = effectivePolicies(POLICIES, s).policies.find((p) => p.chainKey === 'alpha')!;
    assert.equal(eff.caps.maxTransfer, 100_000n);
    assert.equal(effectivePolicies(POLICIES, s).policies.find((p) => p.chainKey === 'beta')!.caps.maxTransfer, 500_000n);
  });

  test('a raise is pending until a second, different approver approves it; the proposer cannot approve it', () => {
    const s = emptyCapsState();
    const r = req({ set: { maxOutflowPerWindow: 2_000_000n } });
    assert.equal(proposeCapChange(s, POLICIES, RULES, r, 'risk-a', NOW_MS)[0]!.action, 'proposed');
    assert.equal(effectivePolicies(POLICIES, s).policies[0]!.caps.maxOutflowPerWindow, 1_000_000n);
    assert.throws(() => approveCapChange(s, POLICIES, r.changeId, 'RISK-A', NOW_MS + 1000), /second, different approver/);
    const done = approveCapChange(s, POLICIES, r.changeId, 'risk-b', NOW_MS + 1000);
    assert.equal(done[0]!.action, 'approved');
    assert.equal(effectivePolicies(POLICIES, s).policies[0]!.caps.maxOutflowPerWindow, 2_000_000n);
    assert.equal(s.pending.length, 0);
  });

  test('a pending raise expires after the approval window; with a delay configured it applies after the delay', () => {
    const s = emptyCapsState();
    const r = req({ set: { maxTransfer: 900_000n } });
    proposeCapChange(s, POLICIES, RULES, r, 'risk-a', NOW_MS);
    assert.match(validateCapApproval(s, r.changeId, NOW_MS + 601_000, RULES) ?? '', /approval window/);
    const expired = settlePendingCaps(s, POLICIES, RULES, NOW_MS + 601_000);
    assert.deepEqual(expired.map((x) => x.action), ['expired']);
    assert.equal(effectivePolicies(POLICIES, s).policies[0]!.caps.maxTransfer, 500_000n);

    const d = emptyCapsState();
    const delayed = { approvalWindowSec: 600, raiseDelaySec: 120 };
    const r2 = req({ set: { maxTransfer: 900_000n } });
    proposeCapChange(d, POLICIES, delayed, r2, 'risk-a', NOW_MS);
    assert.deepEqual(settlePendingCaps(d, POLICIES, delayed, NOW_MS + 119_000), []);
    assert.deepEqual(settlePendingCaps(d, POLICIES, delayed, NOW_MS + 120_000).map((x) => x.action), ['applied-after-delay']);
    assert.equal(effectivePolicies(POLICIES, d).policies[0]!.caps.maxTransfer, 900_000n);
  });

  test('which fields raise risk: larger caps, shorter window, smaller buffer', () => {
    const old = { maxOutflowPerWindow: 10n, windowSec: 100n, maxTransfer: 5n, minBuffer: 7n };
    assert.deepEqual(raisedFields(old, { maxOutflowPerWindow: 9n, windowSec: 200n, maxTransfer: 5n, minBuffer: 8n }), []);
    assert.deepEqual(raisedFields(old, { windowSec: 50n }), ['windowSec']);
    assert.deepEqual(raisedFields(old, { minBuffer: 6n, maxTransfer: 6n }), ['maxTransfer', 'minBuffer']);
  });

  test('the validator refuses unknown chains and routes, negative values, an inverted pair, empty reasons, expiry and reuse', () => {
    const s = emptyCapsState();
    const v = (r: CapChangeRequest) => validateCapChange(s, POLICIES, r, NOW_MS);
    assert.match(v(req({ scope: { chainKey: 'gamma' } })) ?? '', /unknown chain "gamma"/);
    assert.match(v(req({ scope: { route: { from: 'alpha', to: 'gamma' } } })) ?? '', /unknown route alpha->gamma/);
    assert.match(v(req({ scope: { route: { from: 'alpha', to: 'beta' } }, set: { minBuffer: 1n } })) ?? '', /maxTransfer only/);
    assert.match(v(req({ set: { maxTransfer: -1n } })) ?? '', /maxTransfer must be ≥ 0/);
    assert.match(v(req({ set: { windowSec: 0n } })) ?? '', /windowSec must be > 0/);
    assert.match(v(req({ set: { maxTransfer: 2_000_000n } })) ?? '', /would exceed maxOutflowPerWindow 1000000/);
    assert.match(v(req({ reason: '  ' })) ?? '', /reason must not be empty/);
    assert.match(v(req({ expiresAtSec: NOW_SEC })) ?? '', /expired/);
    assert.match(v(req({ set: {} })) ?? '', /sets no cap/);
    const ok = req();
    assert.equal(v(ok), undefined);
    proposeCapChange(s, POLICIES, RULES, ok, 'risk-a', NOW_MS);
    assert.match(v(ok) ?? '', /already submitted/);
  });

  test('a route cap clips the planned transfer, or drops it below the larger minTransfer', () => {
    const t = [{ from: 'alpha', to: 'beta', amount: 1_000n, reason: 'r' }, { from: 'beta', to: 'alpha', amount: 1_000n, reason: 'r' }];
    const clipped = clipToRouteCaps(t, POLICIES, { 'alpha->beta': 400n });
    assert.equal(clipped.length, 2);
    assert.equal(clipped[0]!.amount, 400n);
    assert.match(clipped[0]!.reason, /clipped to route cap 400/);
    assert.equal(clipped[1]!.amount, 1_000n);
    assert.equal(clipToRouteCaps(t, POLICIES, { 'alpha->beta': 99n }).length, 1);
  });
});

describe('cap approvals are EIP-712 signatures (activities/capApproval.ts)', () => {
  // Anvil's public test accounts 5 and 6 (devnet only).
  const a = privateKeyToAccount('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
  const b = privateKeyToAccount('0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e');
  const approvers = [{ name: 'risk-a', address: a.address }];
  const salt = bytesToHex(new Uint8Array(32).fill(7));
  const content = { scope: { chainKey: 'alpha' } as const, set: { maxTransfer: 1n }, reason: 'drill', expiresAtSec: 2_000_000_000n };
  const request = { ...content, changeId: capChangeId('devnet', content, salt) };
  const sign = (acct: typeof a, deployment = 'devnet', action: 'propose' | 'approve' = 'propose') =>
    acct.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage(deployment, action, request) });

  test('an approver\'s signature recovers to its name and address', async () => {
    const who = await verifyCapSignature('devnet', approvers, { action: 'propose', request, salt, signature: await sign(a) });
    assert.equal(who.name, 'risk-a');
    assert.equal(who.address, a.address);
  });

  test('refused: not an approver, another deployment, the other action, a changed request, no approvers', async () => {
    const refused = async (p: Promise<unknown>, re: RegExp) => {
      await assert.rejects(p, (e: unknown) => e instanceof ApplicationFailure && e.type === 'CapApprovalRefused' && re.test(e.message));
    };
    await refused(verifyCapSignature('devnet', approvers, { action: 'propose', request, salt, signature: await sign(b) }), /not a configured approver/);
    await refused(verifyCapSignature('devnet', approvers, { action: 'propose', request, salt, signature: await sign(a, 'mainnet') }), /not a configured approver/);
    await refused(verifyCapSignature('devnet', approvers, { action: 'approve', request, salt, signature: await sign(a) }), /not a configured approver/);
    await refused(verifyCapSignature('devnet', approvers, { action: 'propose', request: { ...request, set: { maxTransfer: 2n } }, salt, signature: await sign(a) }), /changeId does not match/);
    await refused(verifyCapSignature('devnet', [], { action: 'propose', request, salt, signature: await sign(a) }), /no approvers/);
  });
});
