/**
 * Signing keys of CLI commands that sign typed data (`ballast caps`, `ballast lp`): from an environment
 * variable (`--key-env`) or an encrypted keystore (`--keystore` + `--password-env`), never from a flag's value.
 * Loading is keeper/keys.ts'.
 */
import type { Command } from 'commander';
import type { PrivateKeyAccount } from 'viem';
import { loadEnvAccount, loadKeystoreAccount } from '../keeper/keys.js';

/** The parsed key options. */
export interface KeyOpts {
  keyEnv: string;
  keystore?: string;
  passwordEnv: string;
}

/**
 * Adds `--key-env`, `--keystore` and `--password-env` to `c`.
 * @param who whose key, for the help text (`approver`, `LP`).
 * @param defaults the default variable names.
 */
export function withKeyOptions(c: Command, who: string, defaults: { keyEnv: string; passwordEnv: string }): Command {
  return c
    .option('--key-env <name>', `environment variable holding the ${who}'s private key`, defaults.keyEnv)
    .option('--keystore <file>', `encrypted keystore of the ${who} (instead of --key-env)`)
    .option('--password-env <name>', "environment variable holding the keystore's password", defaults.passwordEnv);
}

/**
 * The signer's account: the keystore when given, else the environment variable.
 * @param who whose key, for errors (`approver`, `LP`).
 * @throws Error naming the variable or file (never the key) when it is unset, malformed or undecryptable; an
 *   unset key names this command's own options (`--key-env`, `--keystore`, `--password-env`).
 */
export function signerAccount(o: KeyOpts, who: string): PrivateKeyAccount {
  if (o.keystore) return loadKeystoreAccount(o.keystore, o.passwordEnv, process.env, '--keystore');
  return loadEnvAccount(o.keyEnv, process.env, {
    what: `the ${who}'s private key`,
    alternatives: `or name another variable with --key-env <name>, or give --keystore <file> (its password in --password-env, default ${o.passwordEnv})`,
  });
}
