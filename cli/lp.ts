/**
 * `ballast lp mandate|revoke|show`: LPs opt into auto-rebalancing with a signed mandate, revoke it, and see what
 * was moved and charged on their behalf (planner/mandates.ts has the rule, workflows/mandates.ts the state).
 * The LP's key comes from an environment variable (`--key-env`, default BALLAST_LP_PRIVATE_KEY) or an encrypted
 * keystore (`--keystore` + `--password-env`); never from a flag's value.
 */
import { Command, InvalidArgumentError } from 'commander';
import { formatEther, formatUnits, isAddress } from 'viem';
import { loadConfig } from '../config/index.js';
import { connectClient } from '../keeper/client.js';
import { readLp, registerLpMandate, revokeLpMandate } from '../keeper/lp.js';
import { signerAccount, withKeyOptions, type KeyOpts } from './signer.js';
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

const lpKeyOptions = (c: Command) => withKeyOptions(c, 'LP', { keyEnv: 'BALLAST_LP_PRIVATE_KEY', passwordEnv: 'BALLAST_LP_KEYSTORE_PASSWORD' });

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
      .description("sign a mandate with the LP's key and register it on the monitor (replaces the LP's current one)")
      .requiredOption('-c, --config <file>', 'config file')
      .requiredOption('--chains <a,b>', 'chains the keeper may move the position from and to', list)
      .option('--bridges <a,b>', 'bridges the keeper may use', list, ['layerzero'])
      .requiredOption('--max-share-bps <n>', 'largest share of the position on the source chain one move may take, bps (1..10000)', intIn(1, 10_000))
      .requiredOption('--max-fee-bps <n>', 'largest fee of a move, bps of the moved amount (0..10000)', intIn(0, 10_000))
      .option('--expires-in-sec <sec>', 'the mandate is void after this many seconds', intIn(1, Number.MAX_SAFE_INTEGER), 30 * 86_400)
      .option('--nonce <n>', "mandate nonce (default: one above the LP's last)", uint)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & { config: string; chains: string[]; bridges: string[]; maxShareBps: number; maxFeeBps: number; expiresInSec: number; nonce?: bigint; json?: boolean }) => {
    const config = loadConfig(o.config);
    const account = signerAccount(o, 'LP');
    const client = await connectClient(config);
    try {
      const { mandate, outcome } = await registerLpMandate(client, config.deployment, account, { chains: o.chains, bridges: o.bridges, maxShareBps: o.maxShareBps, maxFeeBps: o.maxFeeBps, expiresInSec: o.expiresInSec, nonce: o.nonce });
      if (o.json) io.out(toJson({ ...outcome, mandate }));
      else io.out(`registered ${outcome.mandateId} for ${outcome.lp} (nonce ${outcome.nonce}, expires ${new Date(Number(mandate.expiresAtSec) * 1000).toISOString()})`);
    } finally {
      await client.connection.close();
    }
  });

  lpKeyOptions(
    lp
      .command('revoke')
      .description("revoke the LP's current mandate (immediate; a move already started finishes)")
      .requiredOption('-c, --config <file>', 'config file')
      .option('--nonce <n>', "revocation nonce (default: the current mandate's; a higher one also voids mandates signed up to it)", uint)
      .option('--json', 'print JSON'),
  ).action(async (o: KeyOpts & { config: string; nonce?: bigint; json?: boolean }) => {
    const config = loadConfig(o.config);
    const account = signerAccount(o, 'LP');
    const client = await connectClient(config);
    try {
      const outcome = await revokeLpMandate(client, config.deployment, account, o.nonce);
      io.out(o.json ? toJson(outcome) : `revoked ${outcome.mandateId} of ${outcome.lp} (nonce ${outcome.nonce})`);
    } finally {
      await client.connection.close();
    }
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
