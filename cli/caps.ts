/**
 * `ballast caps show|set|approve|cancel|freeze|unfreeze`: the risk team's run-time caps (workflows/caps.ts has
 * the rules). Signing keys come from an environment variable (`--key-env`, default BALLAST_APPROVER_PRIVATE_KEY)
 * or an encrypted keystore (`--keystore` + `--password-env`); never from a flag's value. Or the approver signs
 * with their own wallet: `--export-typed-data [FILE|-]` writes the EIP-712 typed data (no key needed) and
 * `--signature 0x…` submits the signature once it recovers to a configured approver (`set`, `cancel`, `freeze`,
 * `unfreeze`: with `--typed-data FILE --salt 0x…`, as the export printed; `approve`: the pending request is read
 * from the monitor). See cli/signer.ts.
 *
 * Exit status: 2 for a usage error (no scope or two, a malformed change id or chain list), 1 when the monitor
 * refuses (the reason printed as `ballast: <cause>`) or Temporal is unreachable.
 */
import { Command, InvalidArgumentError } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { bytesToHex, type Hex } from 'viem';
import { randomBytes } from 'node:crypto';
import { loadConfig, type BallastConfig } from '../config/index.js';
import { connectClient, monitorWorkflowId, updateRefusal, withClient } from '../keeper/client.js';
import { approveCaps, controlCaps, proposeCaps, readCaps, type CapControlInput } from '../keeper/caps.js';
import { capChangeId, capTypedData, verifyCapSignature, type CapAction, type CapApprover, type CapRequestContent } from '../activities/capApproval.js';
import { exportTypedData, msgString, msgUint, readTypedDataFile, signerAccount, signingMode, withExternalSigningOptions, withKeyOptions as keyOptions, type ExternalSigningOpts, type KeyOpts, type SigningMode } from './signer.js';
import { CAP_FIELDS, findPending, previewApproval, type CapControlRequest, type CapScope, type CapValues, type SignedCapRequest } from '../workflows/caps.js';
import { approveCapChangeUpdate, capControlUpdate, capsQuery, proposeCapChangeUpdate, type CapChangeOutcome } from '../workflows/messages.js';
import { toJson, UsageError, type CliContext } from './io.js';

const baseUnits = (v: string): bigint => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a whole number of base units (got "${v}")`);
  return BigInt(v);
};

/** The approver's account: keystore when given, else the environment variable. */
const approverAccount = (o: KeyOpts) => signerAccount(o, 'approver');

/**
 * Key options and the external signing ones; `salted` (a request signed with a fresh salt: set, cancel, freeze,
 * unfreeze) adds `--typed-data` and `--salt`.
 */
const withKeyOptions = (c: Command, salted = true) => {
  const k = withExternalSigningOptions(keyOptions(c, 'approver', { keyEnv: 'BALLAST_APPROVER_PRIVATE_KEY', passwordEnv: 'BALLAST_APPROVER_KEYSTORE_PASSWORD' }), 'approver', salted);
  return salted ? k.option('--salt <hex>', 'the request\'s 32-byte salt (0x + 64 hex): with --export-typed-data (default: random) and, as the export printed it, with --signature') : k;
};

/** The `--salt` of an export (random when absent) or of a submission (required); refused with a local key. */
function saltArg(o: { salt?: string }, mode: SigningMode, cmd: Command): Hex {
  if (o.salt === undefined) {
    if (mode.kind === 'signature') throw new UsageError('--signature needs --salt <hex>: the salt --export-typed-data printed with the typed data', cmd);
    return bytesToHex(randomBytes(32));
  }
  if (mode.kind === 'key') throw new UsageError('--salt goes with --export-typed-data or --signature (signing with a key picks a fresh one)', cmd);
  if (!/^0x[0-9a-fA-F]{64}$/.test(o.salt)) throw new UsageError(`--salt must be 0x + 64 hex digits (got "${o.salt}")`, cmd);
  return o.salt.toLowerCase() as Hex;
}

/** Options a `--typed-data` file replaces: usage error when one was given on the command line. */
function refuseGiven(cmd: Command, mode: SigningMode, names: string[]): void {
  if (mode.kind !== 'signature') return;
  const given = names.filter((k) => cmd.getOptionValueSource(k) === 'cli');
  if (given.length > 0) throw new UsageError(`--typed-data ${mode.typedData} holds the request: drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, cmd);
}

/** `CAP_FIELDS` values from a signed `changes` string (`maxTransfer=100;windowSec=60`). */
function parseChanges(changes: string): CapValues {
  const set: CapValues = {};
  for (const part of changes.split(';')) {
    const m = /^([A-Za-z]+)=(\d+)$/.exec(part);
    const f = m && CAP_FIELDS.find((x) => x === m[1]);
    if (!m || !f) throw new Error(`"changes" must be field=value pairs of ${CAP_FIELDS.join(', ')} joined by ";" (got "${changes}")`);
    set[f] = BigInt(m[2]!);
  }
  return set;
}

/** The request a `CapChange` message of `action` signs (inverse of activities/capApproval.ts `signedParts`). */
function requestFromMessage(m: Record<string, unknown>, action: Exclude<CapAction, 'approve'>): SignedCapRequest {
  if (m.action !== action) throw new Error(`"action" is ${JSON.stringify(m.action)}, this command submits "${action}"`);
  const changeId = msgString(m, 'changeId');
  if (!/^0x[0-9a-f]{64}$/.test(changeId)) throw new Error('"changeId" must be 0x + 64 lowercase hex digits');
  const base = { changeId: changeId as Hex, reason: msgString(m, 'reason'), expiresAtSec: msgUint(m, 'expiresAtSec') };
  const scope = msgString(m, 'scope');
  const changes = msgString(m, 'changes');
  if (action === 'propose') {
    const chain = /^chain:([a-z0-9-]+)$/.exec(scope);
    const route = /^route:([a-z0-9-]+)->([a-z0-9-]+)$/.exec(scope);
    if (!chain && !route) throw new Error(`"scope" must be chain:<key> or route:<from>-><to> (got "${scope}")`);
    return { ...base, scope: chain ? { chainKey: chain[1]! } : { route: { from: route![1]!, to: route![2]! } }, set: parseChanges(changes) };
  }
  if (action === 'cancel') {
    const t = /^change:(0x[0-9a-f]{64})$/.exec(scope);
    if (!t) throw new Error(`"scope" must be change:<changeId> (got "${scope}")`);
    return { ...base, action, target: t[1] as Hex };
  }
  const c = /^chains:(.+)$/.exec(scope);
  if (!c) throw new Error(`"scope" must be chains:all or chains:<a,b> (got "${scope}")`);
  return { ...base, action, chains: c[1] === 'all' ? 'all' : c[1]!.split(',') };
}

/**
 * The request in a typed data file `ballast caps set|cancel|freeze|unfreeze --export-typed-data` wrote, for
 * this `deployment` and `action` (`propose` for `set`).
 * @throws Error naming the file when it is not exactly the typed data of such a request, or is for another deployment.
 */
export function capRequestFromTypedDataFile(file: string, deployment: string, action: Exclude<CapAction, 'approve'>): SignedCapRequest {
  let signedFor = deployment;
  const request = readTypedDataFile(
    file,
    'CapChange',
    (m) => {
      signedFor = msgString(m, 'deployment');
      return requestFromMessage(m, action);
    },
    (r) => capTypedData(signedFor, action, r),
  );
  if (signedFor !== deployment) throw new Error(`--typed-data ${file} is for deployment "${signedFor}", the config runs "${deployment}"`);
  return request;
}

/**
 * Checks an externally made approver signature as the keeper will (activities/capApproval.ts
 * `verifyCapSignature`, with this config's deployment and `risk.capApprovers`): run before anything is sent.
 * @returns the approver the signature recovers to.
 * @throws Error (`--signature does not verify, nothing sent: cap change 0x… refused: signer 0x… is not a
 *   configured approver (alice 0x…, …)`) when the signer is no approver, the id does not match the content and
 *   salt, or the action does not fit.
 */
export async function checkCapSignature(config: BallastConfig, input: { action: CapAction; request: SignedCapRequest; salt?: Hex; signature: Hex }): Promise<CapApprover> {
  try {
    return await verifyCapSignature(config.deployment, config.risk.capApprovers, input);
  } catch (err) {
    throw new Error(`--signature does not verify, nothing sent: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}


/** Unix seconds `expiresInSec` from now. */
const expiresAt = (expiresInSec: number): bigint => BigInt(Math.floor(Date.now() / 1000)) + BigInt(expiresInSec);

const CHANGE_ID = /^0x[0-9a-f]{64}$/;

/** `0x…` + 64 lowercase hex digits, else a usage error naming `what`. */
function changeIdArg(v: string, what: string, cmd: Command): `0x${string}` {
  if (!CHANGE_ID.test(v)) throw new UsageError(`${what} must be 0x + 64 lowercase hex digits (got "${v}")`, cmd);
  return v as `0x${string}`;
}

/**
 * The chains of `freeze`/`unfreeze`: `--chain a,b` or `--all` (exactly one).
 * @throws UsageError for neither or both, or a key that is not lowercase letters, digits and dashes.
 */
function chainsArg(o: { chain?: string; all?: boolean }, cmd: Command): 'all' | string[] {
  if (!o.chain === !o.all) throw new UsageError('give exactly one of --chain <keys> or --all', cmd);
  if (o.all) return 'all';
  const keys = o.chain!.split(',').map((k) => k.trim());
  if (keys.some((k) => !/^[a-z0-9-]+$/.test(k))) throw new UsageError(`--chain must be chain keys separated by commas, e.g. "arbitrum,base" (got "${o.chain}")`, cmd);
  return keys;
}

/**
 * Awaits an Update; when the monitor refuses it, rethrows an Error whose message is the refusal (the causes'
 * messages joined: WorkflowUpdateFailedError's own message says only that the Update failed), so the run
 * exits 1 with `ballast: the monitor refused it: cap … refused: <why>`.
 */
async function refusalShown<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    throw new Error(`the monitor refused it: ${updateRefusal(err, ': ') || err.message}`, { cause: err });
  }
}

/** The audit notes of an outcome (fields held at the value in force, chains left frozen), joined. */
const notes = (outcome: CapChangeOutcome): string => [...new Set(outcome.audit.map((a) => a.note).filter((n): n is string => n !== undefined))].join('; ');

/**
 * Registers `caps` and its subcommands on `program`; their actions print through `ctx.io`.
 * @throws UsageError (from `set`) unless exactly one of --chain and a well-formed --route is given; (from
 *   `freeze`/`unfreeze`) unless exactly one of --chain and --all is given; (from `approve`/`cancel`) for a
 *   change id that is not 0x + 64 lowercase hex digits.
 */
export function registerCaps(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const caps = program.command('caps').description('run-time risk caps: show them, propose a change, approve or cancel one, freeze and unfreeze chains');

  caps
    .command('show')
    .description('effective caps per chain and route, frozen chains, pending raises and unfreezes (with what approving each now would do) and the audit trail')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (o: { config: string; json?: boolean }) => {
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      try {
        const view = await readCaps(client, config.deployment);
        if (!view) throw new Error('the monitor has not ticked yet: no caps to show');
        // What approving each pending change now would do, judged against the caps in force (workflows/caps.ts).
        const approvals = [...view.state.pending.map((p) => p.request.changeId), ...(view.state.unfreezes ?? []).map((u) => u.request.changeId)].map((id) => previewApproval(view.state, view.policies, id)!);
        if (o.json) {
          io.out(toJson({ ...view, approvals }));
          return;
        }
        for (const p of view.effective) {
          const base = view.policies.find((x) => x.chainKey === p.chainKey);
          const mark = (a: bigint, b: bigint | undefined) => (b !== undefined && a !== b ? ` (config ${b})` : '');
          io.out(
            `chain ${p.chainKey.padEnd(10)} maxOutflowPerWindow ${p.caps.maxOutflowPerWindow}${mark(p.caps.maxOutflowPerWindow, base?.caps.maxOutflowPerWindow)}  windowSec ${p.caps.windowSec}${mark(p.caps.windowSec, base?.caps.windowSec)}  maxTransfer ${p.caps.maxTransfer}${mark(p.caps.maxTransfer, base?.caps.maxTransfer)}  minBuffer ${p.minBufferAmount}${mark(p.minBufferAmount, base?.minBufferAmount)}`,
          );
        }
        for (const [route, max] of Object.entries(view.routeMaxTransfer)) io.out(`route ${route.padEnd(20)} maxTransfer ${max}`);
        for (const [k, f] of Object.entries(view.state.frozen ?? {})) {
          io.out(`FROZEN chain ${k} since ${new Date(f.atMs).toISOString()} by ${f.by}: ${f.reason} (freeze ${f.changeId}; no new outflow; unfreezing needs two approvers)`);
        }
        const preview = (id: string) => approvals.find((a) => a.changeId === id);
        for (const p of view.state.pending) {
          io.out(`PENDING ${p.request.changeId} ${'chainKey' in p.request.scope ? `chain ${p.request.scope.chainKey}` : `route ${p.request.scope.route.from}->${p.request.scope.route.to}`} ${toJson(p.request.set).replace(/\s+/g, ' ')} by ${p.proposedBy}${p.effectiveAtMs ? `, applies at ${new Date(p.effectiveAtMs).toISOString()} without a second approver` : ', needs a second approver'}`);
          const a = preview(p.request.changeId);
          io.out(`  approving now: ${a?.changes ? a.text : `changes nothing (${a?.text ?? '?'}); propose again against the caps in force`}`);
        }
        for (const u of view.state.unfreezes ?? []) {
          io.out(`PENDING UNFREEZE ${u.request.changeId} ${Object.keys(u.releases).join(', ')} by ${u.proposedBy}, needs a second approver: ${u.request.reason}`);
          const a = preview(u.request.changeId);
          io.out(`  approving now: ${a?.changes ? a.text : `unfreezes nothing (${a?.text ?? '?'})`}`);
        }
        for (const a of view.state.audit.slice(-20)) {
          io.out(`${new Date(a.atMs).toISOString()} ${a.action.padEnd(19)} ${a.scope} ${toJson(a.old).replace(/\s+/g, ' ')} → ${toJson(a.new).replace(/\s+/g, ' ')} by ${a.who}: ${a.reason}${a.note ? ` [${a.note}]` : ''}`);
        }
      } finally {
        await client.connection.close();
      }
    });

  withKeyOptions(
    caps
      .command('set')
      .description('propose a cap change, signed by an approver (or export it to sign elsewhere, or submit a signature made elsewhere): a cut applies at once, a raise needs a second approver (or the configured delay)')
      .requiredOption('-c, --config <file>', 'config file')
      .option('--chain <key>', 'the chain whose caps change')
      .option('--route <from->to>', 'the route whose maxTransfer changes')
      .option('--max-outflow <baseUnits>', 'maxOutflowPerWindow (base units)', baseUnits)
      .option('--window-sec <sec>', 'windowSec (seconds)', baseUnits)
      .option('--max-transfer <baseUnits>', 'maxTransfer (base units)', baseUnits)
      .option('--min-buffer <baseUnits>', 'minBuffer (base units)', baseUnits)
      .option('--reason <text>', 'why (kept in the audit trail; required unless --typed-data)')
      .option('--expires-in-sec <sec>', 'the request is void after this many seconds (at most 7 days)', (v) => Number(baseUnits(v)), 3600)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & ExternalSigningOpts & { salt?: string; config: string; chain?: string; route?: string; maxOutflow?: bigint; windowSec?: bigint; maxTransfer?: bigint; minBuffer?: bigint; reason?: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    const mode = signingMode(o, cmd, true);
    refuseGiven(cmd, mode, ['chain', 'route', 'maxOutflow', 'windowSec', 'maxTransfer', 'minBuffer', 'reason', 'expiresInSec']);
    const salt = mode.kind === 'key' && o.salt === undefined ? undefined : saltArg(o, mode, cmd);
    const print = (changeId: string, outcome: CapChangeOutcome) => {
      if (o.json) io.out(toJson({ changeId, ...outcome }));
      else io.out(`${outcome.status === 'applied' ? 'applied' : `pending (a raise: needs a second approver — ballast caps approve ${changeId})`} ${changeId}`);
    };
    if (mode.kind === 'signature') {
      const config = loadConfig(o.config);
      const request = capRequestFromTypedDataFile(mode.typedData!, config.deployment, 'propose');
      if ('action' in request) throw new Error('unreachable: a propose message is a cap change');
      await checkCapSignature(config, { action: 'propose', request, salt, signature: mode.signature });
      const outcome = await withClient(config, (client) => refusalShown(client.workflow.getHandle(monitorWorkflowId(config.deployment)).executeUpdate(proposeCapChangeUpdate, { args: [{ request, salt: salt!, signature: mode.signature }] })));
      print(request.changeId, outcome);
      return;
    }
    if (!o.chain === !o.route) throw new UsageError('give exactly one of --chain <key> or --route <from->to>', cmd);
    if (o.reason === undefined) throw new UsageError("required option '--reason <text>' not specified", cmd);
    let scope: CapScope;
    if (o.chain) scope = { chainKey: o.chain };
    else {
      const m = /^([a-z0-9-]+)->([a-z0-9-]+)$/.exec(o.route!);
      if (!m) throw new UsageError(`--route must look like "arbitrum->base" (got "${o.route}")`, cmd);
      scope = { route: { from: m[1]!, to: m[2]! } };
    }
    const set: CapValues = { maxOutflowPerWindow: o.maxOutflow, windowSec: o.windowSec, maxTransfer: o.maxTransfer, minBuffer: o.minBuffer };
    for (const f of CAP_FIELDS) if (set[f] === undefined) delete set[f];
    const config = loadConfig(o.config);
    if (mode.kind === 'export') {
      const content = { scope, set, reason: o.reason, expiresAtSec: expiresAt(o.expiresInSec) };
      const request = { ...content, changeId: capChangeId(config.deployment, content, salt!) };
      exportTypedData(io, mode.target, capTypedData(config.deployment, 'propose', request), `ballast caps set -c ${o.config} --typed-data FILE --salt ${salt} --signature <sig>`);
      return;
    }
    const account = approverAccount(o);
    const { request, outcome } = await withClient(config, (client) => refusalShown(proposeCaps(client, config.deployment, account, { scope, set, reason: o.reason!, expiresInSec: o.expiresInSec })));
    print(request.changeId, outcome);
  });

  withKeyOptions(
    caps
      .command('approve <changeId>')
      .description('approve a pending raise or unfreeze as a second, different approver (judged against the caps in force now: see `caps show`); or export it to sign elsewhere, or submit a signature made elsewhere')
      .requiredOption('-c, --config <file>', 'config file')
      .option('--json', 'print JSON'),
    false,
  ).action(async (changeId: string, o: KeyOpts & ExternalSigningOpts & { config: string; json?: boolean }, cmd: Command) => {
    const id = changeIdArg(changeId, 'changeId', cmd);
    const mode = signingMode(o, cmd, false);
    const config = loadConfig(o.config);
    let outcome: CapChangeOutcome;
    if (mode.kind === 'key') {
      const account = approverAccount(o);
      outcome = await withClient(config, (client) => refusalShown(approveCaps(client, config.deployment, account, id)));
    } else {
      const done = await withClient(config, async (client) => {
        const handle = client.workflow.getHandle(monitorWorkflowId(config.deployment));
        const view = await handle.query(capsQuery);
        const found = view ? findPending(view.state, id) : undefined;
        if (!found) throw new Error(`no pending cap raise or unfreeze ${id} on ${config.deployment} (see \`ballast caps show\`)`);
        if (mode.kind === 'export') {
          exportTypedData(io, mode.target, capTypedData(config.deployment, 'approve', found.pending.request), `ballast caps approve ${id} -c ${o.config} --signature <sig>`);
          return undefined;
        }
        const who = await checkCapSignature(config, { action: 'approve', request: found.pending.request, signature: mode.signature });
        if (who.name.toLowerCase() === found.pending.proposedBy.toLowerCase()) throw new Error(`--signature is by ${who.name} ${who.address}, who proposed ${id}: a second, different approver must sign; nothing sent`);
        return refusalShown(handle.executeUpdate(approveCapChangeUpdate, { args: [{ changeId: id, signature: mode.signature }] }));
      });
      if (!done) return;
      outcome = done;
    }
    const note = notes(outcome);
    if (o.json) io.out(toJson(outcome));
    else if (outcome.status === 'superseded') io.out(`approved ${id}, but it changed nothing any more and was dropped: ${note}`);
    else io.out(`approved and applied ${id}${note ? `: ${note}` : ''}`);
  });

  /**
   * Signs `input` with the approver's key and sends it as the Update `capControl`, or exports its typed data, or
   * submits a `--signature` of the typed data file; prints what `done` says.
   */
  const control = async (
    o: KeyOpts & ExternalSigningOpts & { salt?: string; config: string; reason?: string; expiresInSec: number; json?: boolean },
    cmd: Command,
    action: 'cancel' | 'freeze' | 'unfreeze',
    input: () => CapControlInput,
    done: (changeId: string, outcome: CapChangeOutcome) => string,
    checkFile?: (request: CapControlRequest) => void,
  ) => {
    const mode = signingMode(o, cmd, true);
    refuseGiven(cmd, mode, ['chain', 'all', 'reason', 'expiresInSec']);
    const salt = mode.kind === 'key' && o.salt === undefined ? undefined : saltArg(o, mode, cmd);
    if (mode.kind === 'signature') {
      const config = loadConfig(o.config);
      const request = capRequestFromTypedDataFile(mode.typedData!, config.deployment, action);
      if (!('action' in request)) throw new Error('unreachable: a control message is a control request');
      checkFile?.(request);
      await checkCapSignature(config, { action, request, salt, signature: mode.signature });
      const outcome = await withClient(config, (client) => refusalShown(client.workflow.getHandle(monitorWorkflowId(config.deployment)).executeUpdate(capControlUpdate, { args: [{ request, salt: salt!, signature: mode.signature }] })));
      io.out(o.json ? toJson({ changeId: request.changeId, ...outcome }) : done(request.changeId, outcome));
      return;
    }
    const what = input();
    if (o.reason === undefined) throw new UsageError("required option '--reason <text>' not specified", cmd);
    const config = loadConfig(o.config);
    if (mode.kind === 'export') {
      const content = { ...what, expiresAtSec: expiresAt(o.expiresInSec) } as CapRequestContent;
      const request = { ...content, changeId: capChangeId(config.deployment, content, salt!) } as SignedCapRequest;
      exportTypedData(io, mode.target, capTypedData(config.deployment, action, request), `ballast caps ${action}${action === 'cancel' ? ` ${(what as { target: string }).target}` : ''} -c ${o.config} --typed-data FILE --salt ${salt} --signature <sig>`);
      return;
    }
    const account = approverAccount(o);
    const { request, outcome } = await withClient(config, (client) => refusalShown(controlCaps(client, config.deployment, account, what, { expiresInSec: o.expiresInSec })));
    io.out(o.json ? toJson({ changeId: request.changeId, ...outcome }) : done(request.changeId, outcome));
  };
  const expiresOption = (c: Command) => c.option('--expires-in-sec <sec>', 'the request is void after this many seconds (at most 7 days)', (v) => Number(baseUnits(v)), 3600);

  withKeyOptions(
    expiresOption(
      caps
        .command('cancel <changeId>')
        .description('cancel a pending raise or unfreeze (any one approver, the proposer too; audited): it never applies')
        .requiredOption('-c, --config <file>', 'config file')
        .option('--reason <text>', 'why (kept in the audit trail; required unless --typed-data)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (changeId: string, o: KeyOpts & ExternalSigningOpts & { salt?: string; config: string; reason?: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    const target = changeIdArg(changeId, 'changeId', cmd);
    await control(o, cmd, 'cancel', () => ({ action: 'cancel', target, reason: o.reason! }), (id) => `cancelled ${target} (cancel request ${id})`, (r) => {
      if (r.action === 'cancel' && r.target !== target) throw new Error(`--typed-data cancels ${r.target}, not ${target}`);
    });
  });

  withKeyOptions(
    expiresOption(
      caps
        .command('freeze')
        .description('freeze chains at once (any one approver; audited): no new outflow is planned or started from them')
        .requiredOption('-c, --config <file>', 'config file')
        .option('--chain <keys>', 'the chains to freeze (keys, comma-separated)')
        .option('--all', 'every configured chain')
        .option('--reason <text>', 'why (kept in the audit trail; required unless --typed-data)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (o: KeyOpts & ExternalSigningOpts & { salt?: string; config: string; chain?: string; all?: boolean; reason?: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    await control(o, cmd, 'freeze', () => ({ action: 'freeze', chains: chainsArg(o, cmd), reason: o.reason! }), (id, outcome) => `frozen ${outcome.audit.map((a) => a.scope.replace(/^chain /, '')).join(', ')} (${id}): no new outflow until unfrozen by two approvers`);
  });

  withKeyOptions(
    expiresOption(
      caps
        .command('unfreeze')
        .description('propose to unfreeze chains: a second, different approver applies it with `caps approve`')
        .requiredOption('-c, --config <file>', 'config file')
        .option('--chain <keys>', 'the frozen chains to unfreeze (keys, comma-separated)')
        .option('--all', 'every frozen chain')
        .option('--reason <text>', 'why (kept in the audit trail; required unless --typed-data)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (o: KeyOpts & ExternalSigningOpts & { salt?: string; config: string; chain?: string; all?: boolean; reason?: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    await control(o, cmd, 'unfreeze', () => ({ action: 'unfreeze', chains: chainsArg(o, cmd), reason: o.reason! }), (id) => `pending (an unfreeze: needs a second approver — ballast caps approve ${id}) ${id}`);
  });
}
