import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ApplicationFailure } from '@temporalio/common';
import {
  AUDIT_LIMIT,
  MAX_REQUEST_LIFETIME_SEC,
  applyCapControl,
  approveCapChange,
  effectivePolicies,
  emptyCapsState,
  plannerPolicies,
  previewApproval,
  proposeCapChange,
  raisedFields,
  settlePendingCaps,
  validateCapApproval,
  validateCapChange,
  validateCapControl,
  type CapChangeRequest,
  type CapControlRequest,
  type CapsState,
} from '../../workflows/caps.js';
import { CAP_DOMAIN, CAP_TYPES, capChangeId, capChangeMessage, signedParts, verifyCapSignature } from '../../activities/capApproval.js';
import { clipToRouteCaps, planRebalances } from '../../activities/plan.js';
import { WAD, type ChainPolicy } from '../../planner/types.js';
import { exampleConfig, parseConfig } from '../../config/index.js';
import { buildReadOnlyKeeperContext } from '../../keeper/runtime.js';
import { chain } from './plannerFixtures.js';
import { runCaptured } from '../../cli/main.js';

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

let c = 0;
/** A cancel, freeze or unfreeze request with a fresh id (ids here need not be content hashes: no signature is checked). */
function control(over: Partial<CapControlRequest> & Pick<CapControlRequest, 'action'>): CapControlRequest {
  c += 1;
  const base = { changeId: `0x${(0xc000_0000 + c).toString(16).padStart(64, '0')}` as const, reason: 'incident drill', expiresAtSec: NOW_SEC + 3600n };
  return (over.action === 'cancel' ? { ...base, target: `0x${'0'.repeat(64)}`, ...over } : { ...base, chains: ['alpha'], ...over }) as CapControlRequest;
}
const valueOf = (s: CapsState, k: string) => effectivePolicies(POLICIES, s).policies.find((p) => p.chainKey === k)!;

describe('emergency semantics (workflows/caps.ts): a later cut holds, cancel, replay after eviction, freeze', () => {
  test('a raise proposed before a cut and approved after it: the cut field stays, the others apply; show previews it', () => {
    const s = emptyCapsState();
    const raise = req({ set: { maxTransfer: 900_000n, maxOutflowPerWindow: 2_000_000n } });
    proposeCapChange(s, POLICIES, RULES, raise, 'risk-a', NOW_MS);
    const cut = req({ set: { maxTransfer: 50_000n } });
    assert.equal(proposeCapChange(s, POLICIES, RULES, cut, 'risk-b', NOW_MS + 1000)[0]!.action, 'applied');
    assert.deepEqual(s.pending[0]!.cutSince, ['maxTransfer']);
    const preview = previewApproval(s, POLICIES, raise.changeId)!;
    assert.equal(preview.kind, 'raise');
    assert.equal(preview.changes, true);
    assert.match(preview.text, /maxOutflowPerWindow 1000000 → 2000000; maxTransfer stays 50000 \(held: cut after the proposal; proposed 900000\)/);
    const rec = approveCapChange(s, POLICIES, raise.changeId, 'risk-b', NOW_MS + 2000);
    assert.equal(rec[0]!.action, 'approved');
    assert.deepEqual(rec[0]!.new, { maxOutflowPerWindow: '2000000', maxTransfer: '50000' });
    assert.match(rec[0]!.note ?? '', /maxTransfer stays 50000 \(held/);
    assert.equal(valueOf(s, 'alpha').caps.maxTransfer, 50_000n, 'the cut survives');
    assert.equal(valueOf(s, 'alpha').caps.maxOutflowPerWindow, 2_000_000n);
  });

  test('an approval that would change nothing after a cut is refused by the validator (re-propose); the delay drops it as superseded', () => {
    const s = emptyCapsState();
    const raise = req({ set: { minBuffer: 0n } });
    proposeCapChange(s, POLICIES, RULES, raise, 'risk-a', NOW_MS);
    proposeCapChange(s, POLICIES, RULES, req({ set: { minBuffer: 5_000n } }), 'risk-b', NOW_MS + 1);
    assert.equal(validateCapApproval(s, raise.changeId, NOW_MS + 2, RULES), undefined, 'the handler-side check does not judge content');
    assert.match(validateCapApproval(s, raise.changeId, NOW_MS + 2, RULES, POLICIES) ?? '', /would change nothing .*minBuffer stays 5000 .*propose the raise again/);

    const d = emptyCapsState();
    const delayed = { approvalWindowSec: 600, raiseDelaySec: 120 };
    const r2 = req({ set: { maxTransfer: 900_000n } });
    proposeCapChange(d, POLICIES, delayed, r2, 'risk-a', NOW_MS);
    proposeCapChange(d, POLICIES, delayed, req({ set: { maxTransfer: 10_000n } }), 'risk-b', NOW_MS + 1000);
    assert.deepEqual(settlePendingCaps(d, POLICIES, delayed, NOW_MS + 120_000).map((x) => x.action), ['superseded']);
    assert.equal(valueOf(d, 'alpha').caps.maxTransfer, 10_000n);
    assert.equal(d.pending.length, 0);
  });

  test('a raise not cut since its proposal applies as proposed (a cut on another chain or field holds nothing)', () => {
    const s = emptyCapsState();
    const raise = req({ set: { maxTransfer: 900_000n } });
    proposeCapChange(s, POLICIES, RULES, raise, 'risk-a', NOW_MS);
    proposeCapChange(s, POLICIES, RULES, req({ scope: { chainKey: 'beta' }, set: { maxTransfer: 1n } }), 'risk-b', NOW_MS);
    proposeCapChange(s, POLICIES, RULES, req({ set: { minBuffer: 2_000n } }), 'risk-b', NOW_MS);
    assert.equal(s.pending[0]!.cutSince, undefined);
    approveCapChange(s, POLICIES, raise.changeId, 'risk-b', NOW_MS + 1);
    assert.equal(valueOf(s, 'alpha').caps.maxTransfer, 900_000n);
  });

  test('cancel: any approver (the proposer too) drops a pending raise; it never applies, also after raiseDelaySec', () => {
    const s = emptyCapsState();
    const delayed = { approvalWindowSec: 600, raiseDelaySec: 120 };
    const raise = req({ set: { maxTransfer: 900_000n } });
    proposeCapChange(s, POLICIES, delayed, raise, 'risk-a', NOW_MS);
    const cancel = control({ action: 'cancel', target: raise.changeId, reason: 'not during the incident' });
    assert.equal(validateCapControl(s, POLICIES, cancel, NOW_MS + 1000), undefined);
    const out = applyCapControl(s, POLICIES, cancel, 'risk-a', NOW_MS + 1000);
    assert.equal(out.status, 'cancelled');
    assert.deepEqual(out.records.map((r) => [r.action, r.changeId, r.requestId, r.reason]), [['cancelled', raise.changeId, cancel.changeId, 'not during the incident']]);
    assert.deepEqual(settlePendingCaps(s, POLICIES, delayed, NOW_MS + 3_600_000), []);
    assert.equal(valueOf(s, 'alpha').caps.maxTransfer, 500_000n);
    assert.match(validateCapControl(s, POLICIES, control({ action: 'cancel', target: raise.changeId }), NOW_MS) ?? '', /no pending cap raise or unfreeze/);
    assert.match(validateCapControl(s, POLICIES, cancel, NOW_MS) ?? '', /already submitted/);
    assert.match(validateCapApproval(s, raise.changeId, NOW_MS + 2000, delayed) ?? '', /no pending/);
  });

  test('replay: a request whose audit record was evicted is still refused until it expires; lifetimes are bounded', () => {
    const s = emptyCapsState();
    const r = req({ set: { maxTransfer: 400_000n } });
    proposeCapChange(s, POLICIES, RULES, r, 'risk-a', NOW_MS);
    for (let i = 0; i < AUDIT_LIMIT / 2 + 1; i += 1) applyCapControl(s, POLICIES, control({ action: 'freeze', chains: 'all' }), 'risk-b', NOW_MS);
    assert.equal(s.audit.length, AUDIT_LIMIT);
    assert.ok(!s.audit.some((a) => a.changeId === r.changeId), 'evicted from the audit');
    assert.match(validateCapChange(s, POLICIES, r, NOW_MS + 1000) ?? '', /already submitted/);
    // Its expiry forgets it: the request is refused as expired instead.
    settlePendingCaps(s, POLICIES, RULES, Number(r.expiresAtSec) * 1000);
    assert.equal(s.used?.[r.changeId], undefined);
    assert.match(validateCapChange(s, POLICIES, r, Number(r.expiresAtSec) * 1000) ?? '', /expired/);
    const far = req({ expiresAtSec: NOW_SEC + BigInt(MAX_REQUEST_LIFETIME_SEC) + 1n });
    assert.match(validateCapChange(emptyCapsState(), POLICIES, far, NOW_MS, { atAdmission: true }) ?? '', /more than 604800s from now/);
    assert.equal(validateCapChange(emptyCapsState(), POLICIES, far, NOW_MS), undefined, 'a request already in history is not re-judged on its lifetime');
  });

  test('freeze: one approver, at once; the planner gets no outflow from the chain; unfreeze needs a second approver', () => {
    const s = emptyCapsState();
    const freeze = control({ action: 'freeze', chains: ['beta'], reason: 'bridge exploit' });
    const f = applyCapControl(s, POLICIES, freeze, 'risk-a', NOW_MS);
    assert.equal(f.status, 'frozen');
    assert.deepEqual(f.records.map((r) => [r.action, r.scope, r.old.frozen, r.new.frozen]), [['frozen', 'chain beta', 'false', 'true']]);
    const pp = plannerPolicies(POLICIES, s);
    assert.equal(pp.policies.find((p) => p.chainKey === 'beta')!.caps.maxOutflowPerWindow, 0n);
    assert.equal(pp.policies.find((p) => p.chainKey === 'alpha')!.caps.maxOutflowPerWindow, 1_000_000n);
    assert.equal(effectivePolicies(POLICIES, s).policies.find((p) => p.chainKey === 'beta')!.caps.maxOutflowPerWindow, 1_000_000n, 'the caps themselves are untouched');
    assert.match(validateCapControl(s, POLICIES, control({ action: 'unfreeze', chains: ['alpha'] }), NOW_MS) ?? '', /not frozen: alpha/);
    assert.match(validateCapControl(s, POLICIES, control({ action: 'freeze', chains: ['gamma'] }), NOW_MS) ?? '', /unknown chain "gamma"/);

    const unfreeze = control({ action: 'unfreeze', chains: 'all', reason: 'patched' });
    const u = applyCapControl(s, POLICIES, unfreeze, 'risk-a', NOW_MS + 1000);
    assert.equal(u.status, 'pending');
    assert.ok(s.frozen?.beta, 'still frozen');
    assert.throws(() => approveCapChange(s, POLICIES, unfreeze.changeId, 'risk-a', NOW_MS + 2000), /an unfreeze needs a second, different approver/);
    assert.equal(previewApproval(s, POLICIES, unfreeze.changeId)!.text, 'unfreezes beta');
    const done = approveCapChange(s, POLICIES, unfreeze.changeId, 'risk-b', NOW_MS + 2000);
    assert.deepEqual(done.map((r) => [r.action, r.scope]), [['unfrozen', 'chain beta']]);
    assert.equal(s.frozen?.beta, undefined);
  });

  test('an unfreeze releases only the freezes it saw: a chain frozen again since stays frozen; an unapproved unfreeze expires', () => {
    const s = emptyCapsState();
    applyCapControl(s, POLICIES, control({ action: 'freeze', chains: 'all' }), 'risk-a', NOW_MS);
    const unfreeze = control({ action: 'unfreeze', chains: ['alpha', 'beta'] });
    applyCapControl(s, POLICIES, unfreeze, 'risk-a', NOW_MS);
    const again = control({ action: 'freeze', chains: ['beta'], reason: 'second incident' });
    applyCapControl(s, POLICIES, again, 'risk-c', NOW_MS + 1);
    assert.match(previewApproval(s, POLICIES, unfreeze.changeId)!.text, /^unfreezes alpha; beta unchanged \(frozen again since the proposal/);
    approveCapChange(s, POLICIES, unfreeze.changeId, 'risk-b', NOW_MS + 2);
    assert.deepEqual(Object.keys(s.frozen ?? {}), ['beta']);
    assert.equal(s.frozen!.beta!.changeId, again.changeId);

    const late = control({ action: 'unfreeze', chains: ['beta'] });
    applyCapControl(s, POLICIES, late, 'risk-a', NOW_MS + 3);
    assert.match(validateCapApproval(s, late.changeId, NOW_MS + 601_000, RULES) ?? '', /approval window/);
    assert.deepEqual(settlePendingCaps(s, POLICIES, { approvalWindowSec: 600, raiseDelaySec: 1 }, NOW_MS + 601_000).map((r) => r.action), ['expired'], 'raiseDelaySec never releases a freeze');
    assert.ok(s.frozen?.beta);
  });

  test('planRebalances: a frozen donor gives nothing and is listed in unresolved; unfrozen it gives', async () => {
    const addr = (i: number, j: number): `0x${string}` => `0x${(i * 16 + j + 1).toString(16).padStart(40, '0')}`;
    const cfg = parseConfig({
      ...exampleConfig({
        chains: ['alpha', 'beta'].map((key, i) => ({ key, chainId: 31_000 + i, rpcUrl: `http://127.0.0.1:${1 + i}`, eid: 40_000 + i, contracts: { multicall3: addr(i, 0), endpoint: addr(i, 1), token: addr(i, 2), vault: addr(i, 3), route: addr(i, 4), priceFeed: addr(i, 5) } })),
      }),
      planner: { kind: 'greedy' },
    });
    const ctx = buildReadOnlyKeeperContext(cfg);
    const snapshot = { takenAtMs: 1, chains: [chain('alpha', 1, 0.95), chain('beta', 2, 0.8)], excluded: [], freshness: 'fresh' as const };
    const s = emptyCapsState();
    const open = await planRebalances(ctx, { snapshot, inFlight: [], caps: s });
    assert.deepEqual(open.transfers.map((t) => [t.from, t.to]), [['beta', 'alpha']]);
    applyCapControl(s, [...ctx.chains.values()].map((x) => x.policy), control({ action: 'freeze', chains: ['beta'], reason: 'bridge exploit' }), 'risk-a (0xA)', NOW_MS);
    const frozen = await planRebalances(ctx, { snapshot, inFlight: [], caps: s });
    assert.deepEqual(frozen.transfers, []);
    assert.ok(frozen.unresolved.some((u) => u.chainKey === 'beta' && /beta frozen by risk-a \(0xA\) at .*\(bridge exploit\); no outflow planned from it/.test(u.reason)), JSON.stringify(frozen.unresolved));
  });
});

describe('ballast caps cancel|freeze|unfreeze: usage errors exit 2 before any config is read', () => {
  const lastLine = (t: string) => t.trim().split('\n').pop();
  test('freeze/unfreeze need exactly one of --chain and --all; cancel and approve a well-formed change id; a reason is required', async () => {
    for (const cmd of ['freeze', 'unfreeze']) {
      const none = await runCaptured(['caps', cmd, '-c', '/nonexistent.yaml', '--reason', 'x']);
      assert.equal(none.code, 2);
      assert.equal(lastLine(none.stderr), `ballast caps ${cmd}: give exactly one of --chain <keys> or --all`);
      const both = await runCaptured(['caps', cmd, '-c', '/nonexistent.yaml', '--reason', 'x', '--chain', 'alpha', '--all']);
      assert.equal(both.code, 2);
      const bad = await runCaptured(['caps', cmd, '-c', '/nonexistent.yaml', '--reason', 'x', '--chain', 'Alpha;beta']);
      assert.match(lastLine(bad.stderr) ?? '', /--chain must be chain keys separated by commas/);
    }
    const cancel = await runCaptured(['caps', 'cancel', '0x12', '-c', '/nonexistent.yaml', '--reason', 'x']);
    assert.equal(cancel.code, 2);
    assert.equal(lastLine(cancel.stderr), 'ballast caps cancel: changeId must be 0x + 64 lowercase hex digits (got "0x12")');
    const noReason = await runCaptured(['caps', 'freeze', '-c', '/nonexistent.yaml', '--all']);
    assert.equal(noReason.code, 2);
    assert.match(lastLine(noReason.stderr) ?? '', /required option '--reason <text>' not specified/);
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

  test('emergency requests: own ids over scope/changes strings, signed with their action; an unfreeze is also approved', async () => {
    const freezeContent = { action: 'freeze' as const, chains: ['alpha', 'beta'], reason: 'exploit', expiresAtSec: 2_000_000_000n };
    assert.deepEqual(signedParts(freezeContent), { scope: 'chains:alpha,beta', changes: 'freeze' });
    assert.deepEqual(signedParts({ action: 'cancel', target: request.changeId, reason: 'r', expiresAtSec: 1n }), { scope: `change:${request.changeId}`, changes: 'cancel' });
    const freeze = { ...freezeContent, changeId: capChangeId('devnet', freezeContent, salt) };
    assert.notEqual(freeze.changeId, capChangeId('devnet', { ...freezeContent, action: 'unfreeze' }, salt), 'the action is part of the id');
    const sig = (action: 'freeze' | 'approve', r: CapControlRequest = freeze) => a.signTypedData({ domain: CAP_DOMAIN, types: CAP_TYPES, primaryType: 'CapChange', message: capChangeMessage('devnet', action, r) });
    assert.equal((await verifyCapSignature('devnet', approvers, { action: 'freeze', request: freeze, salt, signature: await sig('freeze') })).name, 'risk-a');
    const refusedBy = async (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: unknown) => e instanceof ApplicationFailure && re.test(e.message));
    await refusedBy(verifyCapSignature('devnet', approvers, { action: 'approve', request: freeze, signature: await sig('approve') }), /action approve does not fit/);
    await refusedBy(verifyCapSignature('devnet', approvers, { action: 'cancel', request: freeze, salt, signature: await sig('freeze') }), /action cancel does not fit/);
    const unfreeze = { ...freeze, action: 'unfreeze' as const };
    assert.equal((await verifyCapSignature('devnet', approvers, { action: 'approve', request: unfreeze, signature: await sig('approve', unfreeze) })).name, 'risk-a');
  });
});
