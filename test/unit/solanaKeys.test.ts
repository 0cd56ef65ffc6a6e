import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBase58Decoder } from '@solana/kit';
import { Keypair } from '@solana/web3.js';
import { loadSolanaKeypair } from '../../chains/solana/keys.js';
import { SolanaKeyError } from '../../chains/solana/errors.js';

const kp = Keypair.generate();
const json = JSON.stringify(Array.from(kp.secretKey));
/** base58 of the 64-byte secret key, by an independent encoder (@solana/kit's codec: bytes -> base58 string). */
const base58 = getBase58Decoder().decode(kp.secretKey);

/** Fragments of the key that must never appear in an error message. */
function assertNoKeyMaterial(message: string): void {
  assert.ok(!message.includes(base58), 'message contains the base58 secret');
  assert.ok(!message.includes(base58.slice(0, 12)), 'message contains part of the base58 secret');
  assert.ok(!message.includes(json.slice(1, 16)), 'message contains the first secret bytes');
  assert.ok(!message.includes(Buffer.from(kp.secretKey).toString('hex').slice(0, 16)), 'message contains secret hex');
}

test('loadSolanaKeypair reads a JSON byte array from the env variable', () => {
  const k = loadSolanaKeypair({ env: 'SOL_KEY' }, { SOL_KEY: ` ${json}\n` });
  assert.ok(k.publicKey.equals(kp.publicKey));
});

test('loadSolanaKeypair reads a base58 secret key from the env variable', () => {
  const k = loadSolanaKeypair({ env: 'SOL_KEY' }, { SOL_KEY: base58 });
  assert.ok(k.publicKey.equals(kp.publicKey));
  assert.deepEqual(Buffer.from(k.secretKey), Buffer.from(kp.secretKey));
});

test('loadSolanaKeypair reads a solana-keygen file, and the env variable wins over the file when set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-solkey-'));
  try {
    const file = join(dir, 'id.json');
    writeFileSync(file, json);
    assert.ok(loadSolanaKeypair({ file }, {}).publicKey.equals(kp.publicKey));
    assert.ok(loadSolanaKeypair({ env: 'UNSET_VAR', file }, {}).publicKey.equals(kp.publicKey), 'unset variable falls back to the file');
    const other = Keypair.generate();
    const fromEnv = loadSolanaKeypair({ env: 'SOL_KEY', file }, { SOL_KEY: JSON.stringify(Array.from(other.secretKey)) });
    assert.ok(fromEnv.publicKey.equals(other.publicKey));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadSolanaKeypair names a missing variable without leaking key material from the environment', () => {
  assert.throws(
    () => loadSolanaKeypair({ env: 'BALLAST_SOLANA_KEYPAIR' }, { OTHER: json, ALSO: base58 }),
    (err: unknown) => {
      assert.ok(err instanceof SolanaKeyError);
      assert.match(err.message, /BALLAST_SOLANA_KEYPAIR/);
      assert.match(err.message, /not set/);
      assertNoKeyMaterial(err.message);
      return true;
    },
  );
});

test('loadSolanaKeypair errors on malformed or inconsistent keys name the source and never quote the key', () => {
  const cases: Array<[string, RegExp]> = [
    [json.slice(0, -5), /not valid JSON/], // truncated JSON: JSON.parse's own message would quote the input
    [JSON.stringify(Array.from(kp.secretKey.subarray(0, 32))), /32 bytes, expected 64/],
    [base58 + '0', /base58/], // '0' is outside the base58 alphabet
    [JSON.stringify([...Array.from(kp.secretKey.subarray(0, 32)), ...Array.from(Keypair.generate().publicKey.toBytes())]), /not a valid ed25519 key pair/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(
      () => loadSolanaKeypair({ env: 'SOL_KEY' }, { SOL_KEY: value }),
      (err: unknown) => {
        assert.ok(err instanceof SolanaKeyError, String(err));
        assert.match(err.message, /env SOL_KEY/);
        assert.match(err.message, expected);
        assertNoKeyMaterial(err.message);
        assert.equal((err as Error & { cause?: unknown }).cause, undefined);
        return true;
      },
    );
  }
});

test('loadSolanaKeypair names an unreadable file and a file that is not a JSON byte array', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ballast-solkey-'));
  try {
    const missing = join(dir, 'nope.json');
    assert.throws(() => loadSolanaKeypair({ file: missing }, {}), (err: unknown) => err instanceof SolanaKeyError && err.message.includes(missing) && /ENOENT/.test(err.message));
    const b58file = join(dir, 'b58.txt');
    writeFileSync(b58file, base58);
    assert.throws(
      () => loadSolanaKeypair({ file: b58file }, {}),
      (err: unknown) => {
        assert.ok(err instanceof SolanaKeyError);
        assert.match(err.message, /not a JSON byte array/);
        assertNoKeyMaterial(err.message);
        return true;
      },
    );
    assert.throws(() => loadSolanaKeypair({}, {}), /no env variable name or keypair file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
