/**
 * keeper/keys.ts: the keeper key from the environment or from an encrypted Web3 Secret Storage v3
 * keystore, and errors that name the variable or file but never contain the key or the password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encryptKeystore } from '@ethersproject/json-wallets';
import { privateKeyToAccount } from 'viem/accounts';
import { exampleConfig, parseConfig, type BallastConfig } from '../../config/index.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { loadEnvAccount, loadKeeperAccount, loadKeystoreAccount } from '../../keeper/keys.js';

const KEY = DEVNET_ACCOUNTS.keeper;
const ADDRESS = privateKeyToAccount(KEY).address;
const PASSWORD = 'correct horse battery staple';
/** Low scrypt cost so the tests run fast (geth's default is N = 2^18). */
const FAST_SCRYPT = { scrypt: { N: 1 << 10, r: 8, p: 1 } };

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-keys-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function config(keeper: Record<string, string> = {}): BallastConfig {
  const c = (i: number) => `0x${String(i).padStart(2, '0')}${'ab'.repeat(19)}`;
  return parseConfig({
    ...exampleConfig({
      chains: ['alpha', 'beta'].map((key, i) => ({
        key,
        chainId: 31_000 + i,
        rpcUrl: `http://127.0.0.1:${9000 + i}`,
        eid: 40_000 + i,
        contracts: { multicall3: c(10 * i + 1), endpoint: c(10 * i + 2), token: c(10 * i + 3), vault: c(10 * i + 4), route: c(10 * i + 5), priceFeed: c(10 * i + 6) },
      })),
    }),
    keeper,
  });
}

async function writeKeystore(name: string, privateKey = KEY, password = PASSWORD): Promise<string> {
  const file = path.join(dir, name);
  const json = await encryptKeystore({ address: privateKeyToAccount(privateKey).address, privateKey }, password, FAST_SCRYPT);
  fs.writeFileSync(file, json, { mode: 0o600 });
  return file;
}

/** Every spelling of the key an error could leak: with and without 0x, lower and upper case. */
function keyForms(hex: string): string[] {
  const bare = hex.replace(/^0x/i, '');
  return [bare.toLowerCase(), bare.toUpperCase()];
}

/** Runs `fn`, which must throw; asserts the message matches and contains neither secret. */
function thrownMessage(fn: () => unknown, secrets: string[]): string {
  let message: string | undefined;
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    message = `${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}`;
  }
  assert.ok(message !== undefined, 'expected an error');
  for (const s of secrets) assert.ok(!message.toLowerCase().includes(s.toLowerCase()), `the error contains a secret: ${message}`);
  return message;
}

describe('loadKeeperAccount from the environment', () => {
  test('reads the key from the variable named by keeper.privateKeyEnv, with or without 0x', () => {
    assert.equal(loadKeeperAccount(config(), { BALLAST_KEEPER_PRIVATE_KEY: KEY }).address, ADDRESS);
    assert.equal(loadKeeperAccount(config({ privateKeyEnv: 'MY_KEY' }), { MY_KEY: ` ${KEY.slice(2).toUpperCase()}\n` }).address, ADDRESS);
  });

  test('an unset variable is named in the error', () => {
    const msg = thrownMessage(() => loadKeeperAccount(config({ privateKeyEnv: 'MY_KEY' }), {}), []);
    assert.match(msg, /private key is not set: export MY_KEY=0x/);
  });

  test('a malformed key is refused without echoing it: too short, not hex, zero, above the curve order', () => {
    const bad = [KEY.slice(0, 60), `${KEY.slice(0, 64)}zz`, `0x${'0'.repeat(64)}`, `0x${'f'.repeat(64)}`, `${KEY}00`];
    for (const value of bad) {
      const msg = thrownMessage(() => loadEnvAccount('BALLAST_KEEPER_PRIVATE_KEY', { BALLAST_KEEPER_PRIVATE_KEY: value }), [value.replace(/^0x/, ''), ...keyForms(KEY)]);
      assert.match(msg, /BALLAST_KEEPER_PRIVATE_KEY.*(not a 32-byte hex private key|not a valid secp256k1 private key)/);
      assert.match(msg, /value not shown/);
    }
  });
});

describe('loadKeeperAccount from an encrypted keystore (Web3 Secret Storage v3)', async () => {
  test('decrypts a scrypt keystore with the password from BALLAST_KEYSTORE_PASSWORD (the default name)', async () => {
    const file = await writeKeystore('keeper.json');
    const account = loadKeeperAccount(config({ keystoreFile: file }), { BALLAST_KEYSTORE_PASSWORD: PASSWORD });
    assert.equal(account.address, ADDRESS);
  });

  test('the password variable name is configurable (keeper.keystorePasswordEnv)', async () => {
    const file = await writeKeystore('named.json');
    const cfg = config({ keystoreFile: file, keystorePasswordEnv: 'KEEPER_PASS' });
    assert.equal(cfg.keeper.keystorePasswordEnv, 'KEEPER_PASS');
    assert.equal(loadKeeperAccount(cfg, { KEEPER_PASS: PASSWORD }).address, ADDRESS);
  });

  test('opens the Web3 Secret Storage definition\'s own pbkdf2 test vector (a keystore we did not write)', async () => {
    // Test vector of https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/#test-vectors
    const vector = {
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
        ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
        kdf: 'pbkdf2',
        kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
        mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
      },
      id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
      version: 3,
    };
    const file = path.join(dir, 'vector.json');
    fs.writeFileSync(file, JSON.stringify(vector));
    const account = loadKeystoreAccount(file, 'PW', { PW: 'testpassword' });
    assert.equal(account.address.toLowerCase(), '0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b');
  });

  test('a wrong password names the file and the variable, never the password or the key', async () => {
    const file = await writeKeystore('wrong.json');
    const wrong = 'not-the-password-123';
    const msg = thrownMessage(() => loadKeeperAccount(config({ keystoreFile: file }), { BALLAST_KEYSTORE_PASSWORD: wrong }), [wrong, PASSWORD, ...keyForms(KEY)]);
    assert.match(msg, new RegExp(`keeper\\.keystoreFile ${escape(file)}: wrong password in BALLAST_KEYSTORE_PASSWORD`));
  });

  test('an unset password variable is named, and the config never holds a password', async () => {
    const file = await writeKeystore('nopass.json');
    const msg = thrownMessage(() => loadKeeperAccount(config({ keystoreFile: file }), {}), [PASSWORD]);
    assert.match(msg, /is encrypted: export its password in BALLAST_KEYSTORE_PASSWORD/);
    assert.throws(() => config({ keystoreFile: file, keystorePassword: PASSWORD }), (e: Error) => /keeper\.keystorePassword/.test(e.message) && !e.message.includes(PASSWORD));
  });

  test('a missing file, a non-keystore file and a tampered keystore name the file', async () => {
    const missing = path.join(dir, 'absent.json');
    assert.match(thrownMessage(() => loadKeystoreAccount(missing, 'PW', { PW: PASSWORD }), []), new RegExp(`${escape(missing)}: cannot read the keystore \\(ENOENT\\)`));

    const notKeystore = path.join(dir, 'plain.json');
    fs.writeFileSync(notKeystore, JSON.stringify({ privateKey: KEY }));
    const msg = thrownMessage(() => loadKeystoreAccount(notKeystore, 'PW', { PW: PASSWORD }), keyForms(KEY));
    assert.match(msg, /plain\.json: not a Web3 Secret Storage v3 keystore/);

    const tampered = await writeKeystore('tampered.json');
    const ks = JSON.parse(fs.readFileSync(tampered, 'utf8')) as { Crypto?: { ciphertext: string }; crypto?: { ciphertext: string } };
    const section = (ks.crypto ?? ks.Crypto)!; // geth writes "crypto", ethers "Crypto"; both are read
    const ct = section.ciphertext;
    section.ciphertext = `${ct.slice(0, -2)}${ct.endsWith('00') ? '01' : '00'}`;
    fs.writeFileSync(tampered, JSON.stringify(ks));
    assert.match(thrownMessage(() => loadKeystoreAccount(tampered, 'PW', { PW: PASSWORD }), [PASSWORD, ...keyForms(KEY)]), /tampered\.json: wrong password in PW \(the keystore's MAC does not match\)/);
  });

  test('a keystore whose "address" is not its key is refused', async () => {
    const file = await writeKeystore('mismatch.json');
    const ks = JSON.parse(fs.readFileSync(file, 'utf8')) as { address: string };
    ks.address = privateKeyToAccount(DEVNET_ACCOUNTS.market).address.slice(2).toLowerCase();
    fs.writeFileSync(file, JSON.stringify(ks));
    assert.match(thrownMessage(() => loadKeystoreAccount(file, 'PW', { PW: PASSWORD }), [PASSWORD, ...keyForms(KEY)]), /mismatch\.json: the decrypted key does not belong to the keystore's "address" field/);
  });

  test('a keystore and a raw key in the environment at once is ambiguous and refused, naming both', async () => {
    const file = await writeKeystore('both.json');
    const msg = thrownMessage(() => loadKeeperAccount(config({ keystoreFile: file }), { BALLAST_KEYSTORE_PASSWORD: PASSWORD, BALLAST_KEEPER_PRIVATE_KEY: KEY }), keyForms(KEY));
    assert.match(msg, /both keeper\.keystoreFile .*both\.json.* and the environment variable BALLAST_KEEPER_PRIVATE_KEY are set/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
