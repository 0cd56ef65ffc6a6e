/**
 * Load the keeper's Solana keypair from the environment or a `solana-keygen` file. Error messages name the
 * variable or file and what is wrong with it, and NEVER contain key material (parser messages, which may quote
 * their input, are not passed on, nor attached as `cause`).
 */
import { readFileSync } from 'node:fs';
import { Keypair } from '@solana/web3.js';
import { SolanaKeyError } from './errors.js';

/** Where to find the key: an env variable name and/or a keypair file path (the variable wins when set). */
export interface SolanaKeySource {
  /** Name of an environment variable holding the 64-byte secret key as a JSON byte array or base58. */
  env?: string;
  /** Path of a `solana-keygen` keypair file (JSON array of 64 bytes). */
  file?: string;
}

/**
 * Load a Keypair from `environment[source.env]` (JSON byte array `[12,34,…]` or base58 string of the 64-byte
 * secret key) or, when that variable is unset or empty, from `source.file` (JSON byte array, as written by
 * `solana-keygen new -o file`). The secret key's public half must match its private half.
 * @throws SolanaKeyError naming the variable/file: neither given, variable unset and no file, file unreadable,
 *   not JSON bytes / base58, not 64 bytes, or an inconsistent key pair. Never includes key bytes.
 * @example
 *   const keeper = loadSolanaKeypair({ env: 'BALLAST_SOLANA_KEYPAIR', file: '~/.config/solana/id.json' });
 */
export function loadSolanaKeypair(source: SolanaKeySource, environment: Record<string, string | undefined> = process.env): Keypair {
  if (!source.env && !source.file) throw new SolanaKeyError('(nowhere)', 'no env variable name or keypair file given; set one in the config');
  if (source.env) {
    const raw = environment[source.env]?.trim();
    if (raw) return keypairFromText(raw, `env ${source.env}`, true);
    if (!source.file) throw new SolanaKeyError(`env ${source.env}`, 'variable is not set (or empty); set it to the keypair as a JSON byte array or base58, or configure a keypair file');
  }
  const file = source.file as string;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SolanaKeyError(`file ${file}${source.env ? ` (env ${source.env} not set)` : ''}`, `cannot read it (${code ?? 'read error'}); check the path and permissions`);
  }
  return keypairFromText(text.trim(), `file ${file}`, false);
}

/** Parse a JSON byte array (or, when `allowBase58`, a base58 string) into a Keypair. */
function keypairFromText(text: string, where: string, allowBase58: boolean): Keypair {
  let bytes: Uint8Array;
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SolanaKeyError(where, 'not valid JSON (expected a JSON array of 64 bytes)');
    }
    if (!Array.isArray(parsed) || !parsed.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw new SolanaKeyError(where, 'not an array of bytes 0..255 (expected a JSON array of 64 bytes)');
    }
    bytes = Uint8Array.from(parsed as number[]);
  } else if (allowBase58) {
    const decoded = decodeBase58(text);
    if (!decoded) throw new SolanaKeyError(where, 'neither a JSON byte array nor base58 (found a character outside the base58 alphabet)');
    bytes = decoded;
  } else {
    throw new SolanaKeyError(where, 'not a JSON byte array (a solana-keygen keypair file holds [n, n, …], 64 bytes)');
  }
  if (bytes.length !== 64) throw new SolanaKeyError(where, `secret key is ${bytes.length} bytes, expected 64 (32-byte seed + 32-byte public key)`);
  try {
    return Keypair.fromSecretKey(bytes);
  } catch {
    throw new SolanaKeyError(where, 'the 64 bytes are not a valid ed25519 key pair (the public half does not match the private half)');
  }
}

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Bitcoin-alphabet base58 decode (leading '1's are zero bytes); undefined on a character outside the alphabet. */
function decodeBase58(s: string): Uint8Array | undefined {
  let n = 0n;
  for (const c of s) {
    const d = BASE58_ALPHABET.indexOf(c);
    if (d < 0) return undefined;
    n = n * 58n + BigInt(d);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.push(Number(n & 0xffn));
    n >>= 8n;
  }
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body.reverse()]);
}
