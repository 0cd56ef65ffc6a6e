/**
 * The third-party addresses and ids of deploy/ballast.example.yaml (Ethereum Sepolia + Arbitrum Sepolia) against their
 * publishers, so a wrong one fails here rather than on a testnet:
 * - Wormhole: core bridge, Wormhole chain id, Circle's test USDC and the testnet guardian, from the constants of
 *   `@wormhole-foundation/sdk-base` (installed: `@wormhole-foundation/sdk-definitions` depends on it), the EVM chain
 *   ids from its `nativeChainIds`;
 * - Multicall3: viem's chain definitions (`viem/chains`);
 * - LayerZero: EndpointV2, SendUln302, ReceiveUln302, the executor and LayerZero Labs' DVN, and the eids, pinned below
 *   from `@layerzerolabs/lz-evm-sdk-v2` 3.1.10 `deployments/<network>/<Contract>.json` and `@layerzerolabs/lz-definitions`
 *   3.1.13 (`TestnetV2EndpointId`); neither is a dependency (200 MB of artifacts for a table). To check the pins against
 *   a newer release: `cd $(mktemp -d) && npm pack @layerzerolabs/lz-evm-sdk-v2 @layerzerolabs/lz-definitions && for f in
 *   *.tgz; do mkdir ${f%.tgz}; tar xzf $f -C ${f%.tgz}; done`, then run this file with BALLAST_LZ_EVM_SDK_V2=<dir>/
 *   layerzerolabs-lz-evm-sdk-v2-<v>/package and BALLAST_LZ_DEFINITIONS=<dir>/layerzerolabs-lz-definitions-<v>/package.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isAddressEqual, type Address } from 'viem';
import * as viemChains from 'viem/chains';
import { chainToChainId, circle, contracts, guardians, nativeChainIds } from '@wormhole-foundation/sdk-base';
import { repoDir } from '../../config/fixtures.js';
import { loadConfig } from '../../config/index.js';

const EXAMPLE = path.join(repoDir(), 'deploy', 'ballast.example.yaml');
/** The `${VAR}`s of the example's RPC URLs (never contacted here). */
const ENV = { ALCHEMY_API_KEY: 'test-key', INFURA_API_KEY: 'test-key' };

/** LayerZero's testnet deployments by EVM chain id: `@layerzerolabs/lz-evm-sdk-v2` 3.1.10 and `@layerzerolabs/lz-definitions` 3.1.13. */
const LAYERZERO: Record<number, { network: string; eidName: string; eid: number; EndpointV2: Address; SendUln302: Address; ReceiveUln302: Address; Executor: Address; DVN: Address }> = {
  11155111: {
    network: 'sepolia-testnet',
    eidName: 'SEPOLIA_V2_TESTNET',
    eid: 40161,
    EndpointV2: '0x6EDCE65403992e310A62460808c4b910D972f10f',
    SendUln302: '0xcc1ae8Cf5D3904Cef3360A9532B477529b177cCE',
    ReceiveUln302: '0xdAf00F5eE2158dD58E0d3857851c432E34A3A851',
    Executor: '0x718B92b5CB0a5552039B593faF724D182A881eDA',
    DVN: '0x8eebf8b423B73bFCa51a1Db4B7354AA0bFCA9193',
  },
  421614: {
    network: 'arbsep-testnet',
    eidName: 'ARBSEP_V2_TESTNET',
    eid: 40231,
    EndpointV2: '0x6EDCE65403992e310A62460808c4b910D972f10f',
    SendUln302: '0x4f7cd4DA19ABB31b0eC98b9066B9e857B1bf9C0E',
    ReceiveUln302: '0x75Db67CDab2824970131D5aa9CECfC9F69c69636',
    Executor: '0x5Df3a1cEbBD9c8BA7F8dF51Fd632A9aef8308897',
    DVN: '0x53f488E93b4f1b60E8E83aa374dBe1780A1EE8a8',
  },
};
/** Base Sepolia, named in the example's comments (and the README) as the other L2 one could pair. */
const BASE_SEPOLIA = { chainId: 84532, eidName: 'BASESEP_V2_TESTNET', eid: 40245, wormhole: 'BaseSepolia' } as const;

const same = (a: string | undefined, b: string | undefined, what: string) => {
  assert.ok(a && b, `${what}: ${a} vs ${b}`);
  assert.ok(isAddressEqual(a as Address, b as Address), `${what}: the example has ${a}, the publisher ${b}`);
};

/** The Wormhole SDK's name of the testnet chain with EVM chain id `chainId` (sdk-base `nativeChainIds`). */
function wormholeTestnetChain(chainId: number): string {
  const [network, chain] = nativeChainIds.platformNativeChainIdToNetworkChain('Evm', BigInt(chainId)) as [string, string];
  assert.equal(network, 'Testnet', `EVM chain ${chainId} is a Wormhole testnet chain`);
  return chain;
}

describe('deploy/ballast.example.yaml: third-party addresses and ids match their publishers', () => {
  const text = fs.readFileSync(EXAMPLE, 'utf8');
  const config = loadConfig(EXAMPLE, { env: ENV });

  test('the example is Ethereum Sepolia + Arbitrum Sepolia, and nothing is left marked "verify"', () => {
    assert.deepEqual(config.chains.map((c) => c.chainId), [11155111, 421614]);
    assert.deepEqual(config.chains.map((c) => wormholeTestnetChain(c.chainId)), ['Sepolia', 'ArbitrumSepolia']);
    assert.doesNotMatch(text, /verify/i, 'every third-party address names its source');
  });

  test('Wormhole: core bridge, Wormhole chain id, test USDC and the guardian set (@wormhole-foundation/sdk-base)', () => {
    for (const c of config.chains) {
      const name = wormholeTestnetChain(c.chainId) as Parameters<typeof chainToChainId>[0];
      assert.ok(c.wormhole, `${c.key} has a wormhole entry`);
      assert.equal(c.wormhole.chainId, chainToChainId(name), `${c.key} wormhole.chainId`);
      same(c.wormhole.core, contracts.coreBridge.get('Testnet', name), `${c.key} wormhole.core`);
      same(c.contracts.token, circle.usdcContract.get('Testnet', name as never), `${c.key} contracts.token (Circle's USDC)`);
    }
    // The testnet's one guardian; every configured key must be a testnet guardian of the SDK.
    const sets = config.wormhole?.guardianSets ?? [];
    assert.equal(sets.length, 1);
    assert.equal(sets[0]!.keys.length, 1);
    same(sets[0]!.keys[0], guardians.guardianNameToKey.get('Testnet', 'Testnet guardian'), 'wormhole.guardianSets[0].keys[0]');
    for (const k of sets[0]!.keys) assert.deepEqual(guardians.guardianKeyToName.get(k as never), ['Testnet', 'Testnet guardian']);
    // The comments' Base Sepolia alternative.
    assert.equal(chainToChainId(BASE_SEPOLIA.wormhole), 10004);
    assert.equal(nativeChainIds.networkChainToNativeChainId.get('Testnet', BASE_SEPOLIA.wormhole), BigInt(BASE_SEPOLIA.chainId));
    assert.match(text, /Wormhole chain id of Arbitrum Sepolia \(Base Sepolia would be 10004\)/);
  });

  test('Multicall3: the address of viem\'s chain definitions', () => {
    for (const c of config.chains) {
      const def = Object.values(viemChains).find((x) => typeof x === 'object' && x !== null && 'id' in x && x.id === c.chainId && !('testnet' in x && x.testnet === false)) as { contracts?: { multicall3?: { address: Address } } } | undefined;
      same(c.contracts.multicall3, def?.contracts?.multicall3?.address, `${c.key} contracts.multicall3`);
    }
  });

  test('LayerZero: EndpointV2, SendUln302, ReceiveUln302, executor, DVN and eid of each chain', () => {
    for (const c of config.chains) {
      const lz = LAYERZERO[c.chainId]!;
      assert.ok(lz, `${c.key}: pinned LayerZero deployment`);
      assert.equal(c.eid, lz.eid, `${c.key} eid (${lz.eidName})`);
      same(c.contracts.endpoint, lz.EndpointV2, `${c.key} contracts.endpoint`);
      const d = c.deploy?.layerzero;
      assert.ok(d, `${c.key} has deploy.layerzero`);
      same(d.sendLib, lz.SendUln302, `${c.key} deploy.layerzero.sendLib`);
      same(d.receiveLib, lz.ReceiveUln302, `${c.key} deploy.layerzero.receiveLib`);
      same(d.executor, lz.Executor, `${c.key} deploy.layerzero.executor`);
      assert.equal(d.requiredDVNs.length, 1);
      same(d.requiredDVNs[0], lz.DVN, `${c.key} deploy.layerzero.requiredDVNs[0] (LayerZero Labs)`);
    }
    assert.match(text, /\(Base Sepolia would be 40245\)/);
  });

  const sdkDir = process.env.BALLAST_LZ_EVM_SDK_V2;
  test('the LayerZero pins against an unpacked @layerzerolabs/lz-evm-sdk-v2 (BALLAST_LZ_EVM_SDK_V2)', { skip: sdkDir ? false : 'BALLAST_LZ_EVM_SDK_V2 is not set (see the top of this file)' }, () => {
    const version = (JSON.parse(fs.readFileSync(path.join(sdkDir!, 'package.json'), 'utf8')) as { name: string; version: string });
    assert.equal(version.name, '@layerzerolabs/lz-evm-sdk-v2');
    for (const lz of Object.values(LAYERZERO)) {
      for (const contract of ['EndpointV2', 'SendUln302', 'ReceiveUln302', 'Executor', 'DVN'] as const) {
        const file = path.join(sdkDir!, 'deployments', lz.network, `${contract}.json`);
        const published = (JSON.parse(fs.readFileSync(file, 'utf8')) as { address: Address }).address;
        same(lz[contract], published, `${version.name}@${version.version} deployments/${lz.network}/${contract}.json`);
      }
    }
  });

  const defsDir = process.env.BALLAST_LZ_DEFINITIONS;
  test('the eids against an unpacked @layerzerolabs/lz-definitions (BALLAST_LZ_DEFINITIONS)', { skip: defsDir ? false : 'BALLAST_LZ_DEFINITIONS is not set (see the top of this file)' }, () => {
    const dts = fs.readFileSync(path.join(defsDir!, 'dist', 'index.d.ts'), 'utf8');
    const testnetV2 = /declare enum TestnetV2EndpointId \{([^}]*)\}/.exec(dts)?.[1] ?? '';
    for (const { eidName, eid } of [...Object.values(LAYERZERO), BASE_SEPOLIA]) {
      assert.equal(Number(new RegExp(`\\b${eidName} = (\\d+)`).exec(testnetV2)?.[1]), eid, `TestnetV2EndpointId.${eidName}`);
    }
  });
});
