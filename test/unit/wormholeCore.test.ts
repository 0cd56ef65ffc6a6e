/**
 * contracts/wormholeCore.ts: the Wormhole core artifacts fetched from the `@certusone/wormhole-sdk`
 * tarball (cached), the typechain-factory reader and the in-memory tar reader.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureWormholeCore, extractFromTarGz, parseTypechainFactory } from '../../contracts/wormholeCore.js';

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-wormhole-core-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('wormholeCore', () => {
  test('ensureWormholeCore yields Setup, the Wormhole proxy and Implementation with their ABIs and creation bytecode', async () => {
    const core = await ensureWormholeCore();
    const names = (abi: readonly { type: string; name?: string }[]) => abi.filter((e) => e.type === 'function').map((e) => e.name);
    assert.deepEqual(names(core.WormholeSetup.abi), ['setup']);
    const ctor = core.WormholeProxy.abi.find((e) => e.type === 'constructor') as { inputs: { type: string }[] } | undefined;
    assert.deepEqual(ctor?.inputs.map((i) => i.type), ['address', 'bytes']);
    for (const fn of ['publishMessage', 'parseAndVerifyVM', 'messageFee', 'chainId', 'evmChainId', 'submitSetMessageFee']) {
      assert.ok(names(core.WormholeImplementation.abi).includes(fn), `Implementation has no ${fn}`);
    }
    for (const a of Object.values(core)) assert.match(a.bytecode, /^0x60806040[0-9a-f]{200,}$/);
  });

  test('parseTypechainFactory reads a bare-key ABI literal with trailing commas and the bytecode, and names the file when they are missing', () => {
    const source = [
      'const _abi = [',
      '    {',
      '        type: "function",',
      '        name: "f",',
      '        inputs: [',
      '            { name: "x", type: "uint16", internalType: "uint16", },',
      '        ],',
      '        outputs: [],',
      '        stateMutability: "nonpayable",',
      '    },',
      '];',
      'const _bytecode = "0x6080";',
    ].join('\n');
    const a = parseTypechainFactory('F', source, 'f.js');
    assert.deepEqual(a, {
      contractName: 'F',
      abi: [{ type: 'function', name: 'f', inputs: [{ name: 'x', type: 'uint16', internalType: 'uint16' }], outputs: [], stateMutability: 'nonpayable' }],
      bytecode: '0x6080',
    });
    assert.throws(() => parseTypechainFactory('F', 'const x = 1;', 'pkg:f.js'), /pkg:f\.js: no `const _abi/);
  });

  test('extractFromTarGz reads members out of a gzipped tar (long paths too) and names the missing ones', () => {
    const deep = path.join(dir, 'package', 'lib', 'cjs', 'ethers-contracts', 'factories', 'a-rather-long-folder-name-to-pass-the-100-byte-ustar-name-field');
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package', 'a.txt'), 'alpha');
    fs.writeFileSync(path.join(deep, 'Setup__factory.js'), 'x'.repeat(1500));
    const tgz = path.join(dir, 'p.tgz');
    execFileSync('tar', ['czf', tgz, '-C', dir, 'package']);
    const longName = path.relative(dir, path.join(deep, 'Setup__factory.js')).split(path.sep).join('/');
    assert.ok(longName.length > 100);
    const files = extractFromTarGz(fs.readFileSync(tgz), ['package/a.txt', longName]);
    assert.equal(files.get('package/a.txt')?.toString(), 'alpha');
    assert.equal(files.get(longName)?.length, 1500);
    assert.throws(() => extractFromTarGz(fs.readFileSync(tgz), ['package/missing.js']), /tarball has no package\/missing\.js/);
  });
});
