/**
 * `ballast lp mandate|revoke|show`: LPs opt into auto-rebalancing with a signed mandate, revoke it, and see what
 * was moved and charged on their behalf (planner/mandates.ts has the rule, workflows/mandates.ts the state).
 * The LP's key comes from an environment variable (`--key-env`, default BALLAST_LP_PRIVATE_KEY) or an encrypted
 * keystore (`--keystore` + `--password-env`); never from a flag's value. Or the LP signs with its own wallet:
 * `--export-typed-data [FILE|-]` writes the EIP-712 typed data (no key needed), `--signature 0x… --typed-data FILE`
 * submits the signature once it recovers to the LP (cli/signer.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatEther, formatUnits, getAddress, isAddress, type Address, type Hex } from 'viem';
import { loadConfig, type BallastConfig } from '../config/index.js';
import { connectClient, monitorWorkflowId, withClient } from '../keeper/client.js';
import { readLp, registerLpMandate, revokeLpMandate } from '../keeper/lp.js';
import { mandateTypedData, revocationTypedData, verifyMandateSignature, verifyRevocationSignature, type MandateRevocation } from '../activities/mandateSignature.js';
import { KNOWN_BRIDGES, type Mandate } from '../planner/mandates.js';
import { currentRecord, lpMandatesQuery, registerMandateUpdate, revokeMandateUpdate, type MandateOutcome } from '../workflows/mandates.js';
import { exportTypedData, msgString, msgUint, readTypedDataFile, signerAccount, signingMode, withExternalSigningOptions, withKeyOptions, type ExternalSigningOpts, type KeyOpts } from './signer.js';
import { toJson, UsageError, type CliContext } from './io.js';

const intIn = (lo: number, hi: number) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < lo || n > hi) throw new InvalidArgumentError(`must be a whole number in ${lo}..${hi} (got "${v}")`);
  return n;
};
const uint = (v: string): bigint => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`must be a whole number (got "${v}")`);
  return BigInt(v);
};
const list = (v: string): string[] => {
  const xs = v.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (xs.length === 0) throw new InvalidArgumentError(`must be a comma-separated list (got "${v}")`);
  return xs;
};

const lpKeyOptions = (c: Command) =>
  withExternalSigningOptions(withKeyOptions(c, 'LP', { keyEnv: 'BALLAST_LP_PRIVATE_KEY', passwordEnv: 'BALLAST_LP_KEYSTORE_PASSWORD' }), 'LP', true).option(
    '--lp <address>',
    "with --export-typed-data: the LP's address (the signer; no key is read)",
  );

const strings = (m: Record<string, unknown>, k: string): string[] => {
  const v = m[k];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error(`"${k}" must be a list of strings`);
  return v;
};
const address = (m: Record<string, unknown>, k: string): `0x${string}` => {
  const v = msgString(m, k);
  if (!isAddress(v, { strict: false })) throw new Error(`"${k}" must be an address`);
  return v;
};
const bps = (m: Record<string, unknown>, k: string): number => {
  const v = m[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 10_000) throw new Error(`"${k}" must be a whole number of bps (0..10000)`);
  return v;
};

/**
 * The mandate in a typed data file `ballast lp mandate --export-typed-data` wrote.
 * @throws Error naming the file when it is not exactly the typed data of a mandate (cli/signer.ts `readTypedDataFile`).
 */
export function mandateFromTypedDataFile(file: string): Mandate {
  return readTypedDataFile(
    file,
    'Mandate',
    (m): Mandate => ({
      lp: address(m, 'lp'),
      deployment: msgString(m, 'deployment'),
      chains: strings(m, 'chains'),
      bridges: strings(m, 'bridges'),
      maxShareBps: bps(m, 'maxShareBps'),
      maxFeeBps: bps(m, 'maxFeeBps'),
      expiresAtSec: msgUint(m, 'expiresAtSec'),
      nonce: msgUint(m, 'nonce'),
    }),
    mandateTypedData,
  );
}

/**
 * The revocation in a typed data file `ballast lp revoke --export-typed-data` wrote.
 * @throws Error naming the file when it is not exactly the typed data of a revocation.
 */
export function revocationFromTypedDataFile(file: string): MandateRevocation {
  return readTypedDataFile(file, 'RevokeMandate', (m): MandateRevocation => ({ lp: address(m, 'lp'), deployment: msgString(m, 'deployment'), nonce: msgUint(m, 'nonce') }), revocationTypedData);
}

/** Why a signature does not verify, as one Error (the keeper's refusal, which names the signer and the LP). */
const notVerified = (err: unknown): Error => new Error(`--signature does not verify, nothing sent: ${err instanceof Error ? err.message : String(err)}`, { cause: err });

/**
 * Checks an externally made mandate signature as the keeper will (activities/mandateSignature.ts
 * `verifyMandateSignature`, with this config's deployment and chains): run before anything is sent.
 * @returns the LP's checksummed address and the mandate id.
 * @throws Error (`--signature does not verify, nothing sent: mandate refused: signed by 0x…, not by the LP 0x…`)
 *   when the signer is not `mandate.lp`, or the mandate has expired, names another deployment, an unknown chain
 *   or bridge.
 */
export async function checkMandateSignature(config: BallastConfig, mandate: Mandate, signature: Hex): Promise<{ lp: Address; mandateId: Hex }> {
  try {
    if (mandate.expiresAtSec <= BigInt(Math.floor(Date.now() / 1000))) throw new Error(`mandate refused: it expired at ${new Date(Number(mandate.expiresAtSec) * 1000).toISOString()}; export and sign a new one`);
    return await verifyMandateSignature({ deployment: config.deployment, chains: config.chains.map((c) => c.key), bridges: KNOWN_BRIDGES }, { mandate, signature });
  } catch (err) {
    throw notVerified(err);
  }
}

/**
 * Checks an externally made revocation signature as the keeper will (`verifyRevocationSignature`).
 * @throws Error naming the recovered signer and the LP when they differ, or the other deployment.
 */
export async function checkRevocationSignature(config: BallastConfig, revocation: MandateRevocation, signature: Hex): Promise<Address> {
  try {
    return await verifyRevocationSignature(config.deployment, { revocation, signature });
  } catch (err) {
    throw notVerified(err);
  }
}

/** The `--lp` of an export, checked. @throws UsageError when it is missing or not an address. */
function lpArg(o: { lp?: string }, cmd: Command): `0x${string}` {
  if (o.lp === undefined) throw new UsageError("--export-typed-data needs --lp <address>: the LP's address, which signs (no key is read)", cmd);
  if (!isAddress(o.lp, { strict: false })) throw new UsageError(`--lp must be an address, 0x + 40 hex (got "${o.lp}")`, cmd);
  return getAddress(o.lp);
}


/**
 * Registers `lp` and its subcommands on `program`; their actions print through `ctx.io`.
 * @throws UsageError (from `show`) for an argument that is not an address.
 */
export function registerLp(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const lp = program.command('lp').description('LP mandates: opt into auto-rebalancing, revoke, show moves and fees attributed');

  lpKeyOptions(
    lp
      .command('mandate')
      .description("sign a mandate with the LP's key (or export it to sign elsewhere, or submit a signature made elsewhere) and register it on the monitor (replaces the LP's current one)")
      .requiredOption('-c, --config <file>', 'config file')
      .option('--chains <a,b>', 'chains the keeper may move the position from and to (required unless --typed-data)', list)
      .option('--bridges <a,b>', 'bridges the keeper may use', list, ['layerzero'])
      .option('--max-share-bps <n>', 'largest share of the position on the source chain one move may take, bps (1..10000; required unless --typed-data)', intIn(1, 10_000))
      .option('--max-fee-bps <n>', 'largest fee of a move, bps of the moved amount (0..10000; required unless --typed-data)', intIn(0, 10_000))
      .option('--expires-in-sec <sec>', 'the mandate is void after this many seconds', intIn(1, Number.MAX_SAFE_INTEGER), 30 * 86_400)
      .option('--nonce <n>', "mandate nonce (default: one above the LP's last)", uint)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & ExternalSigningOpts & { config: string; lp?: string; chains?: string[]; bridges: string[]; maxShareBps?: number; maxFeeBps?: number; expiresInSec: number; nonce?: bigint; json?: boolean }, cmd: Command) => {
    const mode = signingMode(o, cmd, true);
    if (o.lp !== undefined && mode.kind === 'key') throw new UsageError("--lp goes with --export-typed-data (with a key, the key's address is the LP)", cmd);
    const given = ['chains', 'bridges', 'maxShareBps', 'maxFeeBps', 'expiresInSec', 'nonce', 'lp'].filter((k) => cmd.getOptionValueSource(k) === 'cli');
    if (mode.kind === 'signature' && given.length > 0) throw new UsageError(`--typed-data ${mode.typedData} holds the mandate: drop ${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, cmd);
    if (mode.kind !== 'signature') {
      for (const [k, flag] of [['chains', '--chains <a,b>'], ['maxShareBps', '--max-share-bps <n>'], ['maxFeeBps', '--max-fee-bps <n>']] as const) {
        if (o[k] === undefined) throw new UsageError(`required option '${flag}' not specified`, cmd);
      }
    }
    const print = (mandate: Mandate, outcome: MandateOutcome) => {
      if (o.json) io.out(toJson({ ...outcome, mandate }));
      else io.out(`registered ${outcome.mandateId} for ${outcome.lp} (nonce ${outcome.nonce}, expires ${new Date(Number(mandate.expiresAtSec) * 1000).toISOString()})`);
    };
    const lpAddr = mode.kind === 'export' ? lpArg(o, cmd) : undefined;
    const config = loadConfig(o.config);
    const terms = { chains: o.chains!, bridges: o.bridges, maxShareBps: o.maxShareBps!, maxFeeBps: o.maxFeeBps!, expiresInSec: o.expiresInSec, nonce: o.nonce };
    if (mode.kind === 'export' && lpAddr !== undefined) {
      const nonce = o.nonce ?? (await withClient(config, async (client) => ((await client.workflow.getHandle(monitorWorkflowId(config.deployment)).query(lpMandatesQuery)).lastNonce[lpAddr.toLowerCase()] ?? 0n) + 1n));
      const mandate: Mandate = { lp: lpAddr, deployment: config.deployment, chains: terms.chains, bridges: terms.bridges, maxShareBps: terms.maxShareBps, maxFeeBps: terms.maxFeeBps, expiresAtSec: BigInt(Math.floor(Date.now() / 1000)) + BigInt(terms.expiresInSec), nonce };
      exportTypedData(io, mode.target, mandateTypedData(mandate), `ballast lp mandate -c ${o.config} --typed-data FILE --signature <sig>`);
      return;
    }
    if (mode.kind === 'signature') {
      const mandate = mandateFromTypedDataFile(mode.typedData!);
      await checkMandateSignature(config, mandate, mode.signature);
      const outcome = await withClient(config, (client) => client.workflow.getHandle(monitorWorkflowId(config.deployment)).executeUpdate(registerMandateUpdate, { args: [{ mandate, signature: mode.signature }] }));
      print(mandate, outcome);
      return;
    }
    const account = signerAccount(o, 'LP');
    const { mandate, outcome } = await withClient(config, (client) => registerLpMandate(client, config.deployment, account, terms));
    print(mandate, outcome);
  });

  lpKeyOptions(
    lp
      .command('revoke')
      .description("revoke the LP's current mandate (immediate; a move already started finishes); or export the revocation to sign elsewhere, or submit a signature made elsewhere")
      .requiredOption('-c, --config <file>', 'config file')
      .option('--nonce <n>', "revocation nonce (default: the current mandate's; a higher one also voids mandates signed up to it)", uint)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & ExternalSigningOpts & { config: string; lp?: string; nonce?: bigint; json?: boolean }, cmd: Command) => {
    const mode = signingMode(o, cmd, true);
    if (o.lp !== undefined && mode.kind === 'key') throw new UsageError("--lp goes with --export-typed-data (with a key, the key's address is the LP)", cmd);
    if (mode.kind === 'signature' && (o.nonce !== undefined || o.lp !== undefined)) throw new UsageError(`--typed-data ${mode.typedData} holds the revocation: drop --nonce and --lp`, cmd);
    const lpAddr = mode.kind === 'export' ? lpArg(o, cmd) : undefined;
    const config = loadConfig(o.config);
    const print = (outcome: MandateOutcome) => io.out(o.json ? toJson(outcome) : `revoked ${outcome.mandateId} of ${outcome.lp} (nonce ${outcome.nonce})`);
    if (mode.kind === 'export' && lpAddr !== undefined) {
      const nonce =
        o.nonce ??
        (await withClient(config, async (client) => {
          const view = await client.workflow.getHandle(monitorWorkflowId(config.deployment)).query(lpMandatesQuery);
          const cur = currentRecord({ records: view.mandates, lastNonce: {}, pending: {}, attribution: {} }, lpAddr);
          if (!cur) throw new Error(`${lpAddr} has no mandate on ${config.deployment} to revoke (see \`ballast lp show ${lpAddr}\`)`);
          return cur.mandate.nonce;
        }));
      exportTypedData(io, mode.target, revocationTypedData({ lp: lpAddr, deployment: config.deployment, nonce }), `ballast lp revoke -c ${o.config} --typed-data FILE --signature <sig>`);
      return;
    }
    if (mode.kind === 'signature') {
      const revocation = revocationFromTypedDataFile(mode.typedData!);
      await checkRevocationSignature(config, revocation, mode.signature);
      print(await withClient(config, (client) => client.workflow.getHandle(monitorWorkflowId(config.deployment)).executeUpdate(revokeMandateUpdate, { args: [{ revocation, signature: mode.signature }] })));
      return;
    }
    const account = signerAccount(o, 'LP');
    print(await withClient(config, (client) => revokeLpMandate(client, config.deployment, account, o.nonce)));
  });

  lp.command('show <address>')
    .description("an LP's mandates and their status, and the moves and fees attributed to it")
    .requiredOption('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (address: string, o: { config: string; json?: boolean }, cmd: Command) => {
      if (!isAddress(address, { strict: false })) throw new UsageError(`<address> must be an address, 0x + 40 hex (got "${address}")`, cmd);
      const config = loadConfig(o.config);
      const client = await connectClient(config);
      try {
        const v = await readLp(client, config.deployment, address);
        if (o.json) {
          io.out(toJson(v));
          return;
        }
        const { decimals, symbol } = config.asset;
        const amt = (x: bigint) => `${x} (${formatUnits(x, decimals)} ${symbol})`;
        io.out(`LP ${address} on ${config.deployment}: mandates ${v.enforced === undefined ? 'enforcement not reported yet' : v.enforced ? 'enforced' : 'NOT enforced by the keeper'}`);
        if (v.mandates.length === 0) io.out('no mandate');
        for (const r of v.mandates) {
          const m = r.mandate;
          const end = r.revokedAtMs !== undefined ? `, revoked ${new Date(r.revokedAtMs).toISOString()}` : r.supersededAtMs !== undefined ? `, superseded ${new Date(r.supersededAtMs).toISOString()}` : '';
          io.out(
            `mandate ${r.mandateId} ${r.status.toUpperCase().padEnd(10)} chains ${m.chains.join(',')}  bridges ${m.bridges.join(',')}  maxShareBps ${m.maxShareBps}  maxFeeBps ${m.maxFeeBps}  expires ${new Date(Number(m.expiresAtSec) * 1000).toISOString()}  nonce ${m.nonce}  registered ${new Date(r.registeredAtMs).toISOString()}${end}`,
          );
        }
        const a = v.attribution;
        io.out(`attributed: moved ${amt(a.moved)} in ${a.moves} move(s); fees ${a.feesWei} wei (${formatEther(a.feesWei)} ETH)${a.feesBaseUnits > 0n ? ` + ${amt(a.feesBaseUnits)}` : ''}`);
        for (const [id, p] of Object.entries(v.inFlight)) io.out(`in flight ${id} ${p.from}->${p.to} over ${p.bridge}: ${amt(p.amount)}`);
        for (const m of a.recent) {
          io.out(`${new Date(m.atMs).toISOString()} ${m.outcome.padEnd(11)} ${m.rebalanceId} ${m.from}->${m.to} over ${m.bridge}: share ${amt(m.amount)} of ${m.moveAmount}, fee ${m.feeWei} wei${m.feeBaseUnits > 0n ? ` + ${m.feeBaseUnits} base units` : ''}`);
        }
      } finally {
        await client.connection.close();
      }
    });
}
