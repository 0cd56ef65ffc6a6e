/**
 * `ballast caps show|set|approve|cancel|freeze|unfreeze`: the risk team's run-time caps (workflows/caps.ts has
 * the rules). Signing keys come from an environment variable (`--key-env`, default BALLAST_APPROVER_PRIVATE_KEY)
 * or an encrypted keystore (`--keystore` + `--password-env`); never from a flag's value.
 *
 * Exit status: 2 for a usage error (no scope or two, a malformed change id or chain list), 1 when the monitor
 * refuses (the reason printed as `ballast: <cause>`) or Temporal is unreachable.
 */
import { Command, InvalidArgumentError } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { loadConfig } from '../config/index.js';
import { connectClient, updateRefusal } from '../keeper/client.js';
import { approveCaps, controlCaps, proposeCaps, readCaps, type CapControlInput } from '../keeper/caps.js';
import { signerAccount, withKeyOptions as keyOptions, type KeyOpts } from './signer.js';
import { CAP_FIELDS, previewApproval, type CapScope, type CapValues } from '../workflows/caps.js';
import type { CapChangeOutcome } from '../workflows/messages.js';
import { toJson, UsageError, type CliContext } from './io.js';

const baseUnits = (v: string): bigint => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a whole number of base units (got "${v}")`);
  return BigInt(v);
};

/** The approver's account: keystore when given, else the environment variable. */
const approverAccount = (o: KeyOpts) => signerAccount(o, 'approver');

const withKeyOptions = (c: Command) => keyOptions(c, 'approver', { keyEnv: 'BALLAST_APPROVER_PRIVATE_KEY', passwordEnv: 'BALLAST_APPROVER_KEYSTORE_PASSWORD' });

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
      .description('propose a cap change, signed by an approver: a cut applies at once, a raise needs a second approver (or the configured delay)')
      .requiredOption('-c, --config <file>', 'config file')
      .option('--chain <key>', 'the chain whose caps change')
      .option('--route <from->to>', 'the route whose maxTransfer changes')
      .option('--max-outflow <baseUnits>', 'maxOutflowPerWindow (base units)', baseUnits)
      .option('--window-sec <sec>', 'windowSec (seconds)', baseUnits)
      .option('--max-transfer <baseUnits>', 'maxTransfer (base units)', baseUnits)
      .option('--min-buffer <baseUnits>', 'minBuffer (base units)', baseUnits)
      .requiredOption('--reason <text>', 'why (kept in the audit trail)')
      .option('--expires-in-sec <sec>', 'the request is void after this many seconds (at most 7 days)', (v) => Number(baseUnits(v)), 3600)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & { config: string; chain?: string; route?: string; maxOutflow?: bigint; windowSec?: bigint; maxTransfer?: bigint; minBuffer?: bigint; reason: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    if (!o.chain === !o.route) throw new UsageError('give exactly one of --chain <key> or --route <from->to>', cmd);
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
    const account = approverAccount(o);
    const client = await connectClient(config);
    try {
      const { request, outcome } = await refusalShown(proposeCaps(client, config.deployment, account, { scope, set, reason: o.reason, expiresInSec: o.expiresInSec }));
      if (o.json) io.out(toJson({ changeId: request.changeId, ...outcome }));
      else io.out(`${outcome.status === 'applied' ? 'applied' : `pending (a raise: needs a second approver — ballast caps approve ${request.changeId})`} ${request.changeId}`);
    } finally {
      await client.connection.close();
    }
  });

  withKeyOptions(
    caps
      .command('approve <changeId>')
      .description('approve a pending raise or unfreeze as a second, different approver (judged against the caps in force now: see `caps show`)')
      .requiredOption('-c, --config <file>', 'config file')
      .option('--json', 'print JSON'),
  ).action(async (changeId: string, o: KeyOpts & { config: string; json?: boolean }, cmd: Command) => {
    const id = changeIdArg(changeId, 'changeId', cmd);
    const config = loadConfig(o.config);
    const account = approverAccount(o);
    const client = await connectClient(config);
    try {
      const outcome = await refusalShown(approveCaps(client, config.deployment, account, id));
      const note = notes(outcome);
      if (o.json) io.out(toJson(outcome));
      else if (outcome.status === 'superseded') io.out(`approved ${id}, but it changed nothing any more and was dropped: ${note}`);
      else io.out(`approved and applied ${id}${note ? `: ${note}` : ''}`);
    } finally {
      await client.connection.close();
    }
  });

  /** Signs `input` with the approver's key and sends it as the Update `capControl`; prints what `done` says. */
  const control = async (o: KeyOpts & { config: string; expiresInSec: number; json?: boolean }, input: CapControlInput, done: (changeId: string, outcome: CapChangeOutcome) => string) => {
    const config = loadConfig(o.config);
    const account = approverAccount(o);
    const client = await connectClient(config);
    try {
      const { request, outcome } = await refusalShown(controlCaps(client, config.deployment, account, input, { expiresInSec: o.expiresInSec }));
      io.out(o.json ? toJson({ changeId: request.changeId, ...outcome }) : done(request.changeId, outcome));
    } finally {
      await client.connection.close();
    }
  };
  const expiresOption = (c: Command) => c.option('--expires-in-sec <sec>', 'the request is void after this many seconds (at most 7 days)', (v) => Number(baseUnits(v)), 3600);

  withKeyOptions(
    expiresOption(
      caps
        .command('cancel <changeId>')
        .description('cancel a pending raise or unfreeze (any one approver, the proposer too; audited): it never applies')
        .requiredOption('-c, --config <file>', 'config file')
        .requiredOption('--reason <text>', 'why (kept in the audit trail)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (changeId: string, o: KeyOpts & { config: string; reason: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    const target = changeIdArg(changeId, 'changeId', cmd);
    await control(o, { action: 'cancel', target, reason: o.reason }, (id) => `cancelled ${target} (cancel request ${id})`);
  });

  withKeyOptions(
    expiresOption(
      caps
        .command('freeze')
        .description('freeze chains at once (any one approver; audited): no new outflow is planned or started from them')
        .requiredOption('-c, --config <file>', 'config file')
        .option('--chain <keys>', 'the chains to freeze (keys, comma-separated)')
        .option('--all', 'every configured chain')
        .requiredOption('--reason <text>', 'why (kept in the audit trail)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (o: KeyOpts & { config: string; chain?: string; all?: boolean; reason: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    const chains = chainsArg(o, cmd);
    await control(o, { action: 'freeze', chains, reason: o.reason }, (id, outcome) => `frozen ${outcome.audit.map((a) => a.scope.replace(/^chain /, '')).join(', ')} (${id}): no new outflow until unfrozen by two approvers`);
  });

  withKeyOptions(
    expiresOption(
      caps
        .command('unfreeze')
        .description('propose to unfreeze chains: a second, different approver applies it with `caps approve`')
        .requiredOption('-c, --config <file>', 'config file')
        .option('--chain <keys>', 'the frozen chains to unfreeze (keys, comma-separated)')
        .option('--all', 'every frozen chain')
        .requiredOption('--reason <text>', 'why (kept in the audit trail)')
        .option('--json', 'print JSON'),
    ),
  ).action(async (o: KeyOpts & { config: string; chain?: string; all?: boolean; reason: string; expiresInSec: number; json?: boolean }, cmd: Command) => {
    const chains = chainsArg(o, cmd);
    await control(o, { action: 'unfreeze', chains, reason: o.reason }, (id) => `pending (an unfreeze: needs a second approver — ballast caps approve ${id}) ${id}`);
  });
}
