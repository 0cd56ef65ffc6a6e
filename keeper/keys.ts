/**
 * The keeper's signing key, from one of two places and nowhere else:
 * - an environment variable holding the raw key (`keeper.privateKeyEnv`, default `BALLAST_KEEPER_PRIVATE_KEY`), or
 * - an encrypted keystore file (`keeper.keystoreFile`) in the Web3 Secret Storage v3 format that geth
 *   and foundry (`cast wallet new`, `cast wallet import`) write, whose password is read from the
 *   environment variable named by `keeper.keystorePasswordEnv` (default `BALLAST_KEYSTORE_PASSWORD`).
 *
 * Decryption is done by ethers' `@ethersproject/json-wallets` (`decryptKeystoreSync`: scrypt or pbkdf2 KDF, AES-128-CTR,
 * keccak256 MAC), not by code of ours. Spec of the format:
 * https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/
 *
 * Every error names the variable or the file and says what to do; none contains the key or the
 * password (errors are logged and end up in Temporal histories).
 */
import fs from 'node:fs';
import { decryptKeystoreSync, isKeystoreWallet } from '@ethersproject/json-wallets';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { BallastConfig } from '../config/index.js';

const PRIVATE_KEY_HEX = /^0x[0-9a-fA-F]{64}$/;

/**
 * Loads the keeper's account as the config says: from `keeper.keystoreFile` when it is set (the
 * password from the variable named by `keeper.keystorePasswordEnv`), else from the variable named by
 * `keeper.privateKeyEnv`. Synchronous: a keystore's scrypt runs once at start-up (about 1 s at geth's
 * default cost).
 * @param config validated config (only `config.keeper` is read).
 * @param env where the variables are read; default `process.env`.
 * @throws Error naming the variable or file (never the key or the password) when the key is unset or
 *   malformed, both a keystore and a raw key are configured, the keystore is unreadable, not a v3
 *   keystore, or the password is unset or wrong.
 * @example
 *   // BALLAST_KEEPER_PRIVATE_KEY=0x… ballast worker -c ballast.yaml
 *   const account = loadKeeperAccount(config);
 */
export function loadKeeperAccount(config: BallastConfig, env: NodeJS.ProcessEnv = process.env): PrivateKeyAccount {
  const { keystoreFile, privateKeyEnv, keystorePasswordEnv } = config.keeper;
  if (keystoreFile) {
    if (env[privateKeyEnv]?.trim()) {
      throw new Error(
        `both keeper.keystoreFile (${keystoreFile}) and the environment variable ${privateKeyEnv} are set; ` +
          `unset ${privateKeyEnv} or remove keeper.keystoreFile so it is clear which key signs`,
      );
    }
    return loadKeystoreAccount(keystoreFile, keystorePasswordEnv, env);
  }
  return loadEnvAccount(privateKeyEnv, env, KEEPER_KEY_HINT);
}

/** Whose key {@link loadEnvAccount} reads, and where else it could come from: the "not set" error says both. */
export interface KeyHint {
  /** e.g. `the keeper's private key`, `the LP's private key`. */
  what: string;
  /** The other ways to give it, e.g. `or name another variable with --key-env, or give --keystore <file>`. */
  alternatives: string;
}

/** The keeper's: config `keeper.privateKeyEnv` names the variable, `keeper.keystoreFile` replaces it. */
export const KEEPER_KEY_HINT: KeyHint = {
  what: "the keeper's private key",
  alternatives: 'or name another variable in keeper.privateKeyEnv, or configure keeper.keystoreFile (its password in keeper.keystorePasswordEnv)',
};

/**
 * Reads a raw private key (`0x` + 64 hex digits, or the 64 digits alone) from `env[name]`.
 * @param hint whose key and its other sources, for the "not set" error (default: the keeper's, {@link KEEPER_KEY_HINT}).
 * @throws Error naming the variable (never the value) when it is unset or not a 32-byte hex key.
 */
export function loadEnvAccount(name: string, env: NodeJS.ProcessEnv = process.env, hint: KeyHint = KEEPER_KEY_HINT): PrivateKeyAccount {
  const raw = env[name]?.trim();
  if (!raw) throw new Error(`${hint.what} is not set: export ${name}=0x… (64 hex digits), ${hint.alternatives}`);
  const hex = raw.startsWith('0x') || raw.startsWith('0X') ? `0x${raw.slice(2)}` : `0x${raw}`;
  if (!PRIVATE_KEY_HEX.test(hex)) throw new Error(`${name} is not a 32-byte hex private key: expected 0x + 64 hex digits (value not shown)`);
  return toAccount(hex as `0x${string}`, `${name}`);
}

/**
 * Decrypts a Web3 Secret Storage v3 keystore file with the password in `env[passwordEnv]`.
 * When the keystore records an `address`, the decrypted key must match it. Errors start with `label` (where the
 * file was named: `keeper.keystoreFile` for the keeper, `--keystore` for a CLI signer) and the file.
 * @throws Error naming `file` and `passwordEnv` (never the password or the key) when the file cannot
 *   be read, is not a v3 keystore (or uses a KDF/cipher the format does not define), the variable is
 *   unset, or the password is wrong.
 * @example
 *   // cast wallet new ./keys  → ./keys/<uuid>;  BALLAST_KEYSTORE_PASSWORD=… in the environment
 *   const account = loadKeystoreAccount('./keys/keeper.json', 'BALLAST_KEYSTORE_PASSWORD');
 */
export function loadKeystoreAccount(file: string, passwordEnv: string, env: NodeJS.ProcessEnv = process.env, label = 'keeper.keystoreFile'): PrivateKeyAccount {
  let json: string;
  try {
    json = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'read error';
    throw new Error(`${label} ${file}: cannot read the keystore (${code}); check the path and its permissions`);
  }
  if (!isKeystoreWallet(json)) {
    throw new Error(
      `${label} ${file}: not a Web3 Secret Storage v3 keystore (expected JSON with "version": 3 and a "crypto" section, as written by geth or \`cast wallet new\`)`,
    );
  }
  const password = env[passwordEnv];
  if (password === undefined) {
    throw new Error(`${label} ${file} is encrypted: export its password in ${passwordEnv} (keystore passwords never go in the config file)`);
  }
  let privateKey: string;
  try {
    privateKey = decryptKeystoreSync(json, password).privateKey;
  } catch (e) {
    throw new Error(`${label} ${file}: ${describeKeystoreError(e, passwordEnv)}`);
  }
  return toAccount(privateKey as `0x${string}`, `${label} ${file}`);
}

/**
 * A safe description of a keystore decryption error. @ethersproject/json-wallets throws plain messages
 * (`invalid password`, `address mismatch`) or argument errors whose text may carry values: only the
 * known short reasons are passed on.
 */
function describeKeystoreError(e: unknown, passwordEnv: string): string {
  const message = e instanceof Error ? e.message : '';
  if (message === 'invalid password') {
    return `wrong password in ${passwordEnv} (the keystore's MAC does not match); check the variable`;
  }
  if (message === 'address mismatch') {
    return 'the decrypted key does not belong to the keystore\'s "address" field; the file is corrupt or was edited';
  }
  const reason = /^(unsupported cipher|unsupported key-derivation function|invalid key-derivation function parameters)/.exec(message)?.[1] ?? 'decryption failed';
  return `cannot decrypt the keystore (${reason}); it must be a v3 keystore with scrypt or pbkdf2 and aes-128-ctr`;
}

/** viem account from a checked key; the key is never part of the error. */
function toAccount(hex: `0x${string}`, where: string): PrivateKeyAccount {
  try {
    return privateKeyToAccount(hex);
  } catch {
    throw new Error(`${where}: not a valid secp256k1 private key (zero or above the curve order; value not shown)`);
  }
}
