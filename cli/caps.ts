/**
 * `ballast caps show|set|approve`: the risk team's run-time caps (workflows/caps.ts has the rules).
 * Signing keys come from an environment variable (`--key-env`, default BALLAST_APPROVER_PRIVATE_KEY) or an
 * encrypted keystore (`--keystore` + `--password-env`); never from a flag's value.
 */
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/index.js';
import { connectClient } from '../keeper/client.js';
import { approveCaps, proposeCaps, readCaps } from '../keeper/caps.js';
import { signerAccount, withKeyOptions as keyOptions, type KeyOpts } from './signer.js';
import { CAP_FIELDS, type CapScope, type CapValues } from '../workflows/caps.js';
import { toJson, UsageError, type CliContext } from './io.js';

const baseUnits = (v: string): bigint => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a whole number of base units (got "${v}")`);
  return BigInt(v);
};

/** The approver's account: keystore when given, else the environment variable. */
const approverAccount = (o: KeyOpts) => signerAccount(o, 'approver');

const withKeyOptions = (c: Command) => keyOptions(c, 'approver', { keyEnv: 'BALLAST_APPROVER_PRIVATE_KEY', passwordEnv: 'BALLAST_APPROVER_KEYSTORE_PASSWORD' });

/**
 * Registers `caps` and its subcommands on `program`; their actions print through `ctx.io`.
 * @throws UsageError (from `set`) unless exactly one of --chain and a well-formed --route is given, and (from
 *   `approve`) for a change id that is not 0x + 64 lowercase hex digits.
 */
export function registerCaps(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const caps = program.command('caps').description("run-time risk caps: show them, propose a change, approve a raise");

  caps
    .command('show')
    .description('effective caps per chain and route, pending raises and the audit trail')
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (o: { config: string; json?: boolean }) => {
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      try {
        const view = await readCaps(client, config.deployment);
        if (!view) throw new Error('the monitor has not ticked yet: no caps to show');
        if (o.json) {
          io.out(toJson(view));
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
        for (const p of view.state.pending) {
          io.out(`PENDING ${p.request.changeId} ${'chainKey' in p.request.scope ? `chain ${p.request.scope.chainKey}` : `route ${p.request.scope.route.from}->${p.request.scope.route.to}`} ${toJson(p.request.set).replace(/\s+/g, ' ')} by ${p.proposedBy}${p.effectiveAtMs ? `, applies at ${new Date(p.effectiveAtMs).toISOString()} without a second approver` : ', needs a second approver'}`);
        }
        for (const a of view.state.audit.slice(-20)) {
          io.out(`${new Date(a.atMs).toISOString()} ${a.action.padEnd(19)} ${a.scope} ${toJson(a.old).replace(/\s+/g, ' ')} → ${toJson(a.new).replace(/\s+/g, ' ')} by ${a.who}: ${a.reason}`);
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
      .option('--expires-in-sec <sec>', 'the request is void after this many seconds', (v) => Number(baseUnits(v)), 3600)
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
      const { request, outcome } = await proposeCaps(client, config.deployment, account, { scope, set, reason: o.reason, expiresInSec: o.expiresInSec });
      if (o.json) io.out(toJson({ changeId: request.changeId, ...outcome }));
      else io.out(`${outcome.status === 'applied' ? 'applied' : `pending (a raise: needs a second approver — ballast caps approve ${request.changeId})`} ${request.changeId}`);
    } finally {
      await client.connection.close();
    }
  });

  withKeyOptions(
    caps
      .command('approve <changeId>')
      .description('approve a pending raise as a second, different approver')
      .requiredOption('-c, --config <file>', 'config file')
      .option('--json', 'print JSON'),
  ).action(async (changeId: string, o: KeyOpts & { config: string; json?: boolean }, cmd: Command) => {
    if (!/^0x[0-9a-f]{64}$/.test(changeId)) throw new UsageError(`changeId must be 0x + 64 lowercase hex digits (got "${changeId}")`, cmd);
    const config = loadConfig(o.config);
    const account = approverAccount(o);
    const client = await connectClient(config);
    try {
      const outcome = await approveCaps(client, config.deployment, account, changeId as `0x${string}`);
      io.out(o.json ? toJson(outcome) : `approved and applied ${changeId}`);
    } finally {
      await client.connection.close();
    }
  });
}
