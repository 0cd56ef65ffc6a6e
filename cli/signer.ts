/**
 * Signing keys of CLI commands that sign typed data (`ballast caps`, `ballast lp`): from an environment
 * variable (`--key-env`) or an encrypted keystore (`--keystore` + `--password-env`), never from a flag's value.
 * Loading is keeper/keys.ts'.
 *
 * Or signing where the signer is: `--export-typed-data [FILE|-]` writes the EIP-712 typed data as JSON (what
 * `cast wallet sign --data --from-file FILE` and `eth_signTypedData_v4` take: `types` with `EIP712Domain`,
 * `primaryType`, `domain`, `message`, every integer above 2^53 as a decimal string), no key needed; the signer
 * signs it with their own wallet and hands back the signature, which `--signature 0x…` submits (with
 * `--typed-data FILE` when the command's typed data is not rebuilt from the monitor's state). The typed data
 * comes from the same builder the keeper verifies with (activities/mandateSignature.ts, capApproval.ts).
 */
import fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import { getTypesForEIP712Domain, type Hex, type PrivateKeyAccount, type TypedDataDomain } from 'viem';
import { loadEnvAccount, loadKeystoreAccount } from '../keeper/keys.js';
import { toJson, UsageError, type CliIo } from './io.js';

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
    alternatives: `or name another variable with --key-env <name>, or give --keystore <file> (its password in --password-env, default ${o.passwordEnv}), or sign with your own wallet: --export-typed-data, then --signature`,
  });
}

/** The parsed options of {@link withExternalSigningOptions}. */
export interface ExternalSigningOpts {
  /** `true` (no value) or `-`: stdout; else a file. */
  exportTypedData?: string | true;
  signature?: string;
  typedData?: string;
}

/**
 * Adds `--export-typed-data [file]` and `--signature <hex>` (and `--typed-data <file>` with `typedDataFile`) to `c`.
 * @param who whose signature, for the help text (`approver`, `LP`).
 * @param typedDataFile whether `--signature` needs the exported file back (the typed data holds values this
 *   command cannot rebuild: an expiry from the clock, a nonce, a random salt).
 */
export function withExternalSigningOptions(c: Command, who: string, typedDataFile: boolean): Command {
  c.option('--export-typed-data [file]', `write the EIP-712 typed data the ${who} signs to <file> (stdout: - or no value) instead of signing; no key needed`).option(
    '--signature <hex>',
    `the ${who}'s 65-byte signature (0x + 130 hex) over the exported typed data, made by their own wallet: submitted instead of signing with a key${typedDataFile ? ' (with --typed-data)' : ''}`,
  );
  if (typedDataFile) c.option('--typed-data <file>', 'with --signature: the typed data file that was signed, as --export-typed-data wrote it');
  return c;
}

/** How a command gets its signature: with a local key, by exporting the typed data, or from `--signature`. */
export type SigningMode = { kind: 'key' } | { kind: 'export'; target: string | true } | { kind: 'signature'; signature: Hex; typedData?: string };

/**
 * The signing mode of `o`, checked.
 * @param typedDataFile whether `--signature` needs `--typed-data <file>`.
 * @throws UsageError for `--export-typed-data` with `--signature`, a malformed `--signature` (not 65 bytes of
 *   hex, or a last byte other than 0, 1, 27 or 28), `--signature` without `--typed-data` (when needed), or
 *   `--typed-data` without `--signature`.
 */
export function signingMode(o: ExternalSigningOpts, cmd: Command, typedDataFile: boolean): SigningMode {
  if (o.exportTypedData !== undefined && o.signature !== undefined) throw new UsageError('give --export-typed-data (to sign elsewhere) or --signature (to submit that signature), not both', cmd);
  if (o.typedData !== undefined && o.signature === undefined) throw new UsageError('--typed-data names the file a --signature signs: give --signature <hex> too', cmd);
  if (o.exportTypedData !== undefined) return { kind: 'export', target: o.exportTypedData };
  if (o.signature === undefined) return { kind: 'key' };
  const sig = o.signature;
  if (!/^0x[0-9a-fA-F]{130}$/.test(sig)) {
    throw new UsageError(`--signature must be a 65-byte signature, 0x + 130 hex digits (got ${sig.length > 20 ? `${sig.slice(0, 20)}… (${sig.length} chars)` : `"${sig}"`})`, cmd);
  }
  if (!['00', '01', '1b', '1c'].includes(sig.slice(-2).toLowerCase())) throw new UsageError(`--signature must end with a recovery byte v of 00, 01, 1b or 1c (got ${sig.slice(-2)})`, cmd);
  if (typedDataFile && o.typedData === undefined) throw new UsageError('--signature needs --typed-data <file>: the typed data that was signed, as --export-typed-data wrote it', cmd);
  return { kind: 'signature', signature: sig.toLowerCase() as Hex, typedData: o.typedData };
}

/** Typed data as the builders in activities/ return it (viem's shape, without `EIP712Domain`). */
export interface BuiltTypedData {
  domain: TypedDataDomain;
  types: Readonly<Record<string, readonly { name: string; type: string }[]>>;
  primaryType: string;
  message: Record<string, unknown>;
}

/**
 * The JSON of `td` as external wallets take it (`cast wallet sign --data`, `eth_signTypedData_v4`): `types`
 * with `EIP712Domain` first (from the domain's fields), `primaryType`, `domain`, `message`; bigints as decimal
 * strings. Signing its parse gives the same signature as signing `td` itself.
 */
export function typedDataJson(td: BuiltTypedData): string {
  return toJson({ types: { EIP712Domain: getTypesForEIP712Domain({ domain: td.domain }), ...td.types }, primaryType: td.primaryType, domain: td.domain, message: td.message });
}

/**
 * Writes `td` as {@link typedDataJson} to `target` (`true` or `-`: stdout), then tells on stderr how to sign
 * it and what to run with the signature.
 * @param next the command to run with the signature, `<sig>` standing for it.
 */
export function exportTypedData(io: CliIo, target: string | true, td: BuiltTypedData, next: string): void {
  const json = typedDataJson(td);
  const toStdout = target === true || target === '-';
  if (toStdout) io.out(json);
  else fs.writeFileSync(target, `${json}\n`);
  const file = toStdout ? 'FILE' : target;
  io.err(
    `${toStdout ? 'the typed data above' : `wrote the typed data to ${target}`}: sign it with your own wallet (e.g. \`cast wallet sign --data --from-file ${file}\`, a hardware wallet's eth_signTypedData_v4), then run: ${next.replaceAll('FILE', file)}`,
  );
}

/**
 * Reads back a typed data file and returns what its message holds, after checking the file is exactly what
 * `build` makes of it (domain, types, primary type and every field's encoding): so the signature checked and
 * submitted is over the typed data the keeper verifies.
 * @param fromMessage the command's value (a mandate, a request) from the file's `message`; throws when a field
 *   is missing or malformed.
 * @throws Error naming the file when it is unreadable, not JSON, of another primary type, or differs from
 *   what `build` makes of its message.
 */
export function readTypedDataFile<T>(file: string, primaryType: string, fromMessage: (message: Record<string, unknown>) => T, build: (value: T) => BuiltTypedData): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--typed-data ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { primaryType?: unknown; message?: unknown };
  if (obj.primaryType !== primaryType) throw new Error(`--typed-data ${file}: primaryType is ${JSON.stringify(obj.primaryType)}, this command submits a ${primaryType}`);
  if (typeof obj.message !== 'object' || obj.message === null) throw new Error(`--typed-data ${file}: no "message" object`);
  let value: T;
  try {
    value = fromMessage(obj.message as Record<string, unknown>);
  } catch (err) {
    throw new Error(`--typed-data ${file}: not a ${primaryType} message: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!isDeepStrictEqual(JSON.parse(typedDataJson(build(value))), parsed)) {
    throw new Error(`--typed-data ${file} is not the typed data Ballast builds for its message (domain, types or a field's format differ): sign and submit the file exactly as --export-typed-data wrote it`);
  }
  return value;
}

/** A field of a typed data message: a string. */
export function msgString(m: Record<string, unknown>, k: string): string {
  const v = m[k];
  if (typeof v !== 'string') throw new Error(`"${k}" must be a string`);
  return v;
}

/** A field of a typed data message: an unsigned integer as a decimal string (or a safe JSON number). */
export function msgUint(m: Record<string, unknown>, k: string): bigint {
  const v = m[k];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new Error(`"${k}" must be an unsigned integer as a decimal string`);
  return BigInt(v);
}
