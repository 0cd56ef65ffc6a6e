/**
 * `ballast deploy -c <config>`: deploys (when absent) and wires Ballast's contracts on every EVM chain of the config
 * (deploy/run.ts). Dry-run by default: prints every transaction it would send (chain, target, function, arguments,
 * why), sends nothing. `--execute` sends them (each simulated first), printing each hash and receipt status; a run
 * that finds everything as configured sends nothing and says so.
 *
 * The deployer's key: `--key-env` (default `BALLAST_DEPLOYER_PRIVATE_KEY`) or `--keystore` + `--password-env`, never
 * a flag's value (cli/signer.ts). A dry-run needs no key: `--from <address>` names the sender whose nonces predict the
 * new addresses; with `--json` its transactions carry their calldata, for an external signer (a Safe, `cast send`).
 *
 * Exit status: 0 planned / done, 1 failure (config, RPC, authority, a refused or reverted transaction), 2 usage.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { getAddress, isAddress, type Address } from 'viem';
import type { DeployResult } from '../deploy/run.js';
import type { DeployTx } from '../deploy/plan.js';
import { signerAccount, withKeyOptions, type KeyOpts } from './signer.js';
import { toJson, UsageError, type CliContext, type CliIo } from './io.js';

/** The parsed options of `ballast deploy`. */
interface DeployOpts extends KeyOpts {
  config: string;
  execute?: boolean;
  json?: boolean;
  from?: string;
  writeConfig?: string;
  addressesOut?: string;
}

/** Prints `r` as text: per chain its transactions, then the totals and the new addresses. */
function printResult(io: CliIo, r: DeployResult, describeTx: (tx: DeployTx) => string, addressesFragment: (a: DeployResult['newAddresses']) => string): void {
  const dry = r.mode === 'dry-run';
  io.out(`ballast deploy (${dry ? 'dry-run: nothing sent' : 'executed'}), signer ${r.signer}`);
  for (const c of r.chains) {
    const txs = r.transactions.filter((t) => t.chainKey === c.chainKey);
    io.out(`chain ${c.chainKey} (chain id ${c.chainId}, eid ${c.eid}): ${txs.length} transaction(s)${c.deployed.length > 0 ? `, deploys ${c.deployed.join(', ')}` : ''}`);
    txs.forEach((t, i) => {
      io.out(`  ${String(i + 1).padStart(3)}. ${describeTx(t)}${t.hash ? `  tx ${t.hash} ${t.status}` : ''}`);
      io.out(`       why: ${t.reason}`);
    });
  }
  if (r.transactions.length === 0) io.out('nothing to do: every chain is deployed and wired as configured (0 transactions sent)');
  else if (dry) io.out(`${r.transactions.length} transaction(s) would be sent; run with --execute to send them`);
  else io.out(`${r.sent} transaction(s) sent; re-read after sending: ${r.remaining === 0 ? 'wired as configured' : `${r.remaining} still differ`}`);
  if (Object.keys(r.newAddresses).length > 0) {
    io.out(`${dry ? 'addresses the new contracts would get' : 'new contracts (add them to the config)'}:\n${addressesFragment(r.newAddresses).trimEnd()}`);
  }
  if (r.wroteConfig) io.out(`wrote the config with the new addresses to ${r.wroteConfig}`);
}

/** Registers `ballast deploy` on `program`. */
export function registerDeploy(program: Command, ctx: CliContext): void {
  const { io } = ctx;
  const cmd = program
    .command('deploy')
    .description("deploy (when absent) and wire Ballast's contracts on every EVM chain of the config: dry-run by default, --execute sends")
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON) with a deploy: section per chain')
    .option('--execute', 'send the transactions (each simulated first); without it nothing is sent')
    .option('--json', 'print the result as JSON (transactions with their calldata, addresses, counts)')
    .option('--from <address>', 'dry-run without a key: the sender whose nonces predict the new addresses')
    .option('--write-config <file>', "with --execute: write the config with the new contracts' addresses to <file> (may be the -c file; comments kept)")
    .option('--addresses-out <file>', "write the new contracts' addresses as a config fragment (YAML, or JSON for *.json)");
  withKeyOptions(cmd, 'deployer', { keyEnv: 'BALLAST_DEPLOYER_PRIVATE_KEY', passwordEnv: 'BALLAST_DEPLOYER_KEYSTORE_PASSWORD' });
  cmd.action(async (o: DeployOpts) => {
    if (o.from !== undefined && !isAddress(o.from, { strict: false })) throw new UsageError(`--from must be an address, 0x + 40 hex digits (got "${o.from}")`, cmd);
    if (o.from !== undefined && o.execute) throw new UsageError('--from is for a dry-run; --execute signs with the deployer key (--key-env or --keystore)', cmd);
    if (o.writeConfig !== undefined && !o.execute) throw new UsageError('--write-config writes deployed addresses: give --execute too (a dry-run only predicts them)', cmd);
    const from: Address | undefined = o.from ? getAddress(o.from) : undefined;
    // A dry-run uses the key only for its address, when there is one.
    const keyGiven = o.keystore !== undefined || Boolean(process.env[o.keyEnv]?.trim());
    const account = o.execute || (!from && keyGiven) ? signerAccount(o, 'deployer') : undefined;
    if (!o.execute && !account && !from) throw new UsageError(`a dry-run needs the sender: --from <address>, or the deployer key (${o.keyEnv} or --keystore)`, cmd);
    // Loaded only for this command (contract artifacts, the devnet's Multicall3 bytecode reader).
    const [{ runDeploy, describeTx }, { addressesFragment }] = await Promise.all([import('../deploy/run.js'), import('../deploy/config.js')]);
    const r = await runDeploy({
      configFile: o.config,
      execute: o.execute === true,
      ...(account ? { account } : {}),
      ...(from ? { from } : {}),
      ...(o.writeConfig ? { writeConfig: o.writeConfig } : {}),
      log: (line) => (o.json ? io.err(line) : io.out(line)),
    });
    if (o.addressesOut) fs.writeFileSync(o.addressesOut, addressesFragment(r.newAddresses, o.addressesOut.toLowerCase().endsWith('.json')));
    if (o.json) io.out(toJson(r));
    else printResult(io, r, describeTx, addressesFragment);
  });
}
