/**
 * `ballast deploy` against LayerZero's real message libraries and workers on two anvil chains.
 *
 * Each chain first gets "its existing LayerZero", deployed as LayerZero runs it (artifacts read at run time from
 * `@layerzerolabs/lz-evm-messagelib-v2`, never vendored): EndpointV2 (the bytecode the devnet uses), SendUln302 and
 * ReceiveUln302 registered as the endpoint's default libraries with default ULN / executor configs, a PriceFeed, an
 * Executor with its ExecutorFeeLib, and a DVN (a one-signer multisig) with its DVNFeeLib. Then the command runs
 * in-process (cli/main.ts `run`): a dry-run plans and sends nothing, `--execute` deploys and wires, the OApps' ULN
 * and executor configs read back from `EndpointV2.getConfig` as configured, a second `--execute` sends nothing, and an
 * OFT transfer goes A → B through SendUln302, is verified by the DVN on ReceiveUln302 and delivered by
 * `EndpointV2.lzReceive`.
 *
 * The same two chains also have "their existing Wormhole" (Wormhole's own core contracts: Implementation, Setup and
 * the proxy, bytecode from the pinned Wormhole SDK tarball as the devnet uses it) and beta "its existing Aave v3
 * market" (real `@aave/core-v3` bytecode, devnet/aave.ts) listing a BallastToken that exists before the deploy; the
 * config names a `deploy.admin`. So the run also deploys the Wormhole adapters and beta's AaveAllocator, and the test
 * reads back the adapters' peers, the messengers' Wormhole peers, the allocator's route / cap / keeper role and the
 * route's vault (the allocator on beta), and the hand-off: the admin holds DEFAULT_ADMIN_ROLE, ownership and the
 * endpoint delegation, the deployer none of them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { PacketV1Codec } from '@layerzerolabs/lz-v2-utilities';
import YAML from 'yaml';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getAddress,
  http,
  keccak256,
  pad,
  parseEther,
  toHex,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { DEVNET_ACCOUNTS, DEVNET_WORMHOLE_GUARDIAN_KEY } from '../../devnet/accounts.js';
import { deployAaveV3, type AaveV3Deployment } from '../../devnet/aave.js';
import { DEVNET_WORMHOLE_GOVERNANCE } from '../../devnet/deploy.js';
import { loadBytecode } from '../../contracts/artifacts.js';
import {
  aaveAllocatorAbi,
  ballastRouteAbi,
  ballastTokenAbi,
  collateralVaultAbi,
  creditMessengerAbi,
  devPriceFeedAbi,
  endpointV2Abi,
  wormholeAdapterAbi,
  wormholeImplementationAbi,
  wormholeProxyAbi,
  wormholeSetupAbi,
} from '../../contracts/generated/abis.js';
import { packetsSentIn } from '../../chains/evm/layerzero.js';
import { runCaptured } from '../../cli/main.js';
import { CONFIG_TYPE_EXECUTOR, CONFIG_TYPE_ULN, decodeExecutorConfig, decodeUlnConfig } from '../../deploy/lzConfig.js';
import type { DeployResult } from '../../deploy/run.js';

const require = createRequire(import.meta.url);
/** A LayerZero messagelib artifact, read from node_modules at run time. */
function lzArtifact(rel: string): { abi: Abi; bytecode: Hex } {
  const file = require.resolve(`@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/${rel}`);
  const a = JSON.parse(fs.readFileSync(file, 'utf8')) as { abi: Abi; bytecode: Hex };
  return { abi: a.abi, bytecode: a.bytecode };
}
const ART = {
  sendUln: lzArtifact('uln/uln302/SendUln302.sol/SendUln302.json'),
  receiveUln: lzArtifact('uln/uln302/ReceiveUln302.sol/ReceiveUln302.json'),
  dvn: lzArtifact('uln/dvn/DVN.sol/DVN.json'),
  dvnFeeLib: lzArtifact('uln/dvn/DVNFeeLib.sol/DVNFeeLib.json'),
  priceFeed: lzArtifact('PriceFeed.sol/PriceFeed.json'),
  executor: lzArtifact('Executor.sol/Executor.json'),
  executorFeeLib: lzArtifact('ExecutorFeeLib.sol/ExecutorFeeLib.json'),
};

const deployer = privateKeyToAccount(DEVNET_ACCOUNTS.deployer); // Ballast's deployer (the command's signer)
const keeper = privateKeyToAccount(DEVNET_ACCOUNTS.keeper).address;
const lzOwner = privateKeyToAccount(DEVNET_ACCOUNTS.relayer); // owns the chains' LayerZero contracts, DVN admin
const dvnSigner = privateKeyToAccount(DEVNET_ACCOUNTS.market); // the DVN's one multisig signer
/** `deploy.admin`: the multisig the deployer hands everything over to (a fresh key, funded on both chains). */
const admin = privateKeyToAccount(generatePrivateKey());
const guardian = privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address;
const DEFAULT_ADMIN_ROLE: Hex = pad('0x00', { size: 32 });
const KEEPER_ROLE: Hex = keccak256(toHex('KEEPER_ROLE'));
const DVN_VID = 1;
/** The OApps' ULN config (a stricter one than LayerZero's default of 1 confirmation). */
const CONFIRMATIONS = [3, 2] as const;
const ENFORCED_GAS = 150_000;

interface LzChain {
  key: string;
  chainId: number;
  eid: number;
  /** Wormhole chain id (the testnets' ids: Sepolia 10002, Arbitrum Sepolia 10003). */
  whChainId: number;
  anvil: AnvilInstance;
  pub: PublicClient<Transport, Chain>;
  wallet: (a: Account) => WalletClient<Transport, Chain, Account>;
  endpoint: Address;
  sendLib: Address;
  receiveLib: Address;
  executor: Address;
  dvn: Address;
  priceFeed: Address;
  /** The chain's existing Wormhole core (proxy). */
  wormholeCore?: Address;
  /** beta: a BallastToken deployed before `ballast deploy` (owned by the deployer) and the Aave market listing it. */
  token?: Address;
  aave?: AaveV3Deployment;
}

async function mined(pub: PublicClient<Transport, Chain>, hash: Promise<Hex> | Hex, label: string): Promise<{ contractAddress?: Address | null | undefined; logs: readonly { address: Address; data: Hex; topics: [Hex, ...Hex[]] | [] }[] }> {
  const r = await pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 });
  assert.equal(r.status, 'success', `${label} reverted`);
  return r;
}

/** Deploys LayerZero as it stands on a real chain (the owner: `lzOwner`), for pathways to `remoteEid`. */
async function startLzChain(key: string, chainId: number, eid: number, whChainId: number, remoteEid: number): Promise<LzChain> {
  const anvil = await startAnvil({ chainId });
  const chain = defineChain({ id: chainId, name: key, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [anvil.rpcUrl] } } });
  const pub = createPublicClient({ chain, transport: http(anvil.rpcUrl), pollingInterval: 20 });
  const wallet = (a: Account) => createWalletClient({ chain, transport: http(anvil.rpcUrl), account: a, pollingInterval: 20 });
  const w = wallet(lzOwner);
  const create = async (label: string, abi: Abi, bytecode: Hex, args: readonly unknown[]) => getAddress((await mined(pub, w.deployContract({ abi, bytecode, args: args as unknown[] }), label)).contractAddress!);
  const write = async (label: string, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) => {
    const { request } = await pub.simulateContract({ account: lzOwner, address, abi, functionName, args: args as unknown[] });
    await mined(pub, w.writeContract(request as Parameters<typeof w.writeContract>[0]), label);
  };
  const endpoint = await create('EndpointV2', endpointV2Abi, loadBytecode('EndpointV2'), [eid, lzOwner.address]);
  const sendLib = await create('SendUln302', ART.sendUln.abi, ART.sendUln.bytecode, [endpoint, 0n, 0n]);
  const receiveLib = await create('ReceiveUln302', ART.receiveUln.abi, ART.receiveUln.bytecode, [endpoint]);
  const priceFeed = await create('PriceFeed', ART.priceFeed.abi, ART.priceFeed.bytecode, []);
  await write('PriceFeed.initialize', priceFeed, ART.priceFeed.abi, 'initialize', [lzOwner.address]);
  await write('PriceFeed.setPrice', priceFeed, ART.priceFeed.abi, 'setPrice', [[{ eid: remoteEid % 30_000, price: { priceRatio: 10n ** 20n, gasPriceInUnit: 1_000_000_000n, gasPerByte: 16 } }]]);
  await write('PriceFeed.setNativeTokenPriceUSD', priceFeed, ART.priceFeed.abi, 'setNativeTokenPriceUSD', [2_000n * 10n ** 20n]);
  const executorFeeLib = await create('ExecutorFeeLib', ART.executorFeeLib.abi, ART.executorFeeLib.bytecode, [eid, 10n ** 18n]);
  const executor = await create('Executor', ART.executor.abi, ART.executor.bytecode, []);
  await write('Executor.initialize', executor, ART.executor.abi, 'initialize', [endpoint, '0x0000000000000000000000000000000000000000', [sendLib], priceFeed, lzOwner.address, [lzOwner.address]]);
  await write('Executor.setWorkerFeeLib', executor, ART.executor.abi, 'setWorkerFeeLib', [executorFeeLib]);
  await write('Executor.setDstConfig', executor, ART.executor.abi, 'setDstConfig', [[{ dstEid: remoteEid, lzReceiveBaseGas: 5_000n, lzComposeBaseGas: 0n, multiplierBps: 12_000, floorMarginUSD: 0n, nativeCap: 10n ** 18n }]]);
  const dvnFeeLib = await create('DVNFeeLib', ART.dvnFeeLib.abi, ART.dvnFeeLib.bytecode, [eid, 10n ** 18n]);
  const dvn = await create('DVN', ART.dvn.abi, ART.dvn.bytecode, [eid, DVN_VID, [sendLib, receiveLib], priceFeed, [dvnSigner.address], 1n, [lzOwner.address]]);
  await write('DVN.setWorkerFeeLib', dvn, ART.dvn.abi, 'setWorkerFeeLib', [dvnFeeLib]);
  await write('DVN.setDstConfig', dvn, ART.dvn.abi, 'setDstConfig', [[{ dstEid: remoteEid, gas: 50_000n, multiplierBps: 12_000, floorMarginUSD: 0n }]]);
  // The defaults every OApp starts with (LayerZero's own on a real chain): 1 confirmation, this DVN, this executor.
  const defaultUln = { confirmations: 1n, requiredDVNCount: 1, optionalDVNCount: 0, optionalDVNThreshold: 0, requiredDVNs: [dvn], optionalDVNs: [] };
  await write('SendUln302.setDefaultUlnConfigs', sendLib, ART.sendUln.abi, 'setDefaultUlnConfigs', [[{ eid: remoteEid, config: defaultUln }]]);
  await write('SendUln302.setDefaultExecutorConfigs', sendLib, ART.sendUln.abi, 'setDefaultExecutorConfigs', [[{ eid: remoteEid, config: { maxMessageSize: 10_000, executor } }]]);
  await write('ReceiveUln302.setDefaultUlnConfigs', receiveLib, ART.receiveUln.abi, 'setDefaultUlnConfigs', [[{ eid: remoteEid, config: defaultUln }]]);
  for (const lib of [sendLib, receiveLib]) await write('EndpointV2.registerLibrary', endpoint, endpointV2Abi, 'registerLibrary', [lib]);
  await write('EndpointV2.setDefaultSendLibrary', endpoint, endpointV2Abi, 'setDefaultSendLibrary', [remoteEid, sendLib]);
  await write('EndpointV2.setDefaultReceiveLibrary', endpoint, endpointV2Abi, 'setDefaultReceiveLibrary', [remoteEid, receiveLib, 0n]);
  return { key, chainId, eid, whChainId, anvil, pub, wallet, endpoint, sendLib, receiveLib, executor, dvn, priceFeed };
}

/** Deploys Wormhole's core contracts as the devnet does (one guardian, the devnet governance), owned by no one of ours. */
async function startWormholeCore(c: LzChain): Promise<Address> {
  const w = c.wallet(lzOwner);
  const create = async (label: string, abi: Abi, bytecode: Hex, args: readonly unknown[]) => getAddress((await mined(c.pub, w.deployContract({ abi, bytecode, args: args as unknown[] }), label)).contractAddress!);
  const implementation = await create('Wormhole Implementation', wormholeImplementationAbi, loadBytecode('WormholeImplementation'), []);
  const setup = await create('Wormhole Setup', wormholeSetupAbi, loadBytecode('WormholeSetup'), []);
  const init = encodeFunctionData({ abi: wormholeSetupAbi, functionName: 'setup', args: [implementation, [guardian], c.whChainId, DEVNET_WORMHOLE_GOVERNANCE.chainId, DEVNET_WORMHOLE_GOVERNANCE.contract, BigInt(c.chainId)] });
  return create('Wormhole core', wormholeProxyAbi, loadBytecode('WormholeProxy'), [setup, init]);
}

/**
 * The keeper config of both chains, Ballast's own contracts left out (`ballast deploy` deploys them) but beta's token
 * (listed in its Aave market); both on the Wormhole route; beta's liquidity in Aave; `deploy.admin` set.
 */
function writeConfig(file: string, chains: LzChain[], oracles: Address[]): void {
  const config = {
    deployment: 'deploy-test',
    asset: { symbol: 'USDC', decimals: 6 },
    wormhole: { guardianUrl: 'http://127.0.0.1:1', guardianSets: [{ index: 0, keys: [guardian] }] },
    chains: chains.map((c, i) => ({
      key: c.key,
      chainId: c.chainId,
      rpcUrl: c.anvil.rpcUrl,
      eid: c.eid,
      contracts: { endpoint: c.endpoint, priceFeed: oracles[i], ...(c.token ? { token: c.token } : {}) },
      wormhole: { chainId: c.whChainId, core: c.wormholeCore },
      ...(c.aave ? { aave: { pool: c.aave.pool, aToken: c.aave.aToken, variableDebtToken: c.aave.variableDebtToken, stableDebtToken: c.aave.stableDebtToken } } : {}),
      band: { lowPct: 60, highPct: 80 },
      minBuffer: '1000 USDC',
      caps: { maxOutflowPerWindow: '500000 USDC', windowSec: 3600, maxTransfer: '100000 USDC', minTransfer: '10 USDC' },
      oracle: { maxStalenessSec: 86_400, maxDeviationBps: 500 },
      deploy: {
        keeper,
        admin: admin.address,
        layerzero: { sendLib: c.sendLib, receiveLib: c.receiveLib, executor: c.executor, confirmations: CONFIRMATIONS[i], requiredDVNs: [c.dvn], enforcedLzReceiveGas: ENFORCED_GAS },
      },
    })),
  };
  fs.writeFileSync(file, `# written by deployCommand.test.ts\n${YAML.stringify(config)}`);
}

describe('ballast deploy on two anvil chains with LayerZero SendUln302 / ReceiveUln302 and a DVN', () => {
  const chains: LzChain[] = [];
  let dir = '';
  let cfg = '';
  let executed: DeployResult;
  const env = { BALLAST_DEPLOYER_PRIVATE_KEY: DEVNET_ACCOUNTS.deployer };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-deploy-test-'));
    cfg = path.join(dir, 'ballast.yaml');
    const [a, b] = await Promise.all([startLzChain('alpha', 41_301, 40_301, 10_002, 40_302), startLzChain('beta', 41_302, 40_302, 10_003, 40_301)]);
    chains.push(a, b);
    await Promise.all(
      chains.map(async (c) => {
        await createTestClient({ mode: 'anvil', transport: http(c.anvil.rpcUrl) }).setBalance({ address: admin.address, value: parseEther('100') });
        c.wormholeCore = await startWormholeCore(c);
      }),
    );
    // beta's liquidity is an Aave v3 reserve of a token that exists before the deploy (the deployer owns it).
    b.token = getAddress((await mined(b.pub, b.wallet(lzOwner).deployContract({ abi: ballastTokenAbi, bytecode: loadBytecode('BallastToken'), args: ['Ballast USD', 'bUSD', b.endpoint, deployer.address] }), 'BallastToken')).contractAddress!);
    b.aave = await deployAaveV3({ rpcUrl: b.anvil.rpcUrl, chainId: b.chainId, deployerKey: DEVNET_ACCOUNTS.relayer, asset: b.token });
    // The chains' price oracle (an existing contract the keeper reads; the deploy only checks it has code).
    const oracles = await Promise.all(
      chains.map(async (c) => (await mined(c.pub, c.wallet(lzOwner).deployContract({ abi: devPriceFeedAbi, bytecode: loadBytecode('DevPriceFeed'), args: [8, 'ETH / USD', lzOwner.address] }), 'DevPriceFeed')).contractAddress!),
    );
    writeConfig(cfg, chains, oracles);
  });
  after(async () => {
    await Promise.all(chains.map((c) => c.anvil.stop()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a dry-run prints every transaction it would send and sends nothing', async () => {
    const nonces = await Promise.all(chains.map((c) => c.pub.getTransactionCount({ address: deployer.address })));
    const r = await runCaptured(['deploy', '-c', cfg, '--from', deployer.address]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /dry-run: nothing sent/);
    assert.match(r.stdout, /deploy BallastToken\(/);
    assert.match(r.stdout, /EndpointV2\(0x[0-9a-fA-F]{40}\)\.setConfig\(/);
    assert.match(r.stdout, /BallastToken\(0x[0-9a-fA-F]{40}\)\.setPeer\(40302, /);
    assert.match(r.stdout, /would be sent; run with --execute/);
    // The hand-off is printed, last, with its reasons.
    assert.match(r.stdout, new RegExp(`CollateralVault\\(0x[0-9a-fA-F]{40}\\)\\.grantRole\\(${DEFAULT_ADMIN_ROLE}, ${admin.address}\\)\\n\\s+why: admin ${admin.address} lacks DEFAULT_ADMIN_ROLE \\(deploy\\.admin hand-off\\)`));
    assert.match(r.stdout, new RegExp(`BallastToken\\(0x[0-9a-fA-F]{40}\\)\\.transferOwnership\\(${admin.address}\\)`));
    assert.match(r.stdout, new RegExp(`AaveAllocator\\(0x[0-9a-fA-F]{40}\\)\\.renounceRole\\(${DEFAULT_ADMIN_ROLE}, ${deployer.address}\\)\\n\\s+why: the signer ${deployer.address} still holds DEFAULT_ADMIN_ROLE; ${admin.address} holds it once the grant above is sent`));
    const json = await runCaptured(['deploy', '-c', cfg, '--json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout) as DeployResult;
    assert.equal(plan.mode, 'dry-run');
    assert.equal(plan.sent, 0);
    for (const c of chains) {
      const txs = plan.transactions.filter((t) => t.chainKey === c.key);
      // Multicall3, token (beta has one), vault, route, Wormhole adapter, messenger, beta's AaveAllocator; then the wiring.
      assert.deepEqual(
        txs.filter((t) => t.kind === 'deploy').map((t) => t.contract),
        c.token ? ['Multicall3', 'CollateralVault', 'BallastRoute', 'WormholeAdapter', 'CreditMessenger', 'AaveAllocator'] : ['Multicall3', 'BallastToken', 'CollateralVault', 'BallastRoute', 'WormholeAdapter', 'CreditMessenger'],
      );
      for (const fn of ['setSendLibrary', 'setReceiveLibrary', 'setConfig', 'setEnforcedOptions', 'setPeerRoute', 'grantRole', 'setOutflowCap', 'setCreditMessenger', 'setPeer', 'setWormholeAdapter', 'setWormhole', 'setWormholePeer', 'setDelegate', 'transferOwnership', 'renounceRole']) {
        assert.ok(txs.some((t) => t.functionName === fn), `${c.key}: plan has ${fn}`);
      }
      assert.ok(txs.every((t) => /^0x[0-9a-f]*$/i.test(t.data) && t.data.length > 2), 'every transaction carries its calldata');
      // The hand-off comes last, the renounces after every grant.
      const firstHandOff = txs.findIndex((t) => t.reason.includes('deploy.admin hand-off') || t.functionName === 'transferOwnership' || t.functionName === 'setDelegate');
      assert.ok(txs.slice(firstHandOff).every((t) => ['grantRole', 'setDelegate', 'transferOwnership', 'renounceRole'].includes(t.functionName)), `${c.key}: the hand-off is last`);
      assert.deepEqual(txs.slice(-(c.aave ? 3 : 2)).map((t) => `${t.contract}.${t.functionName}`), [`CollateralVault.renounceRole`, `BallastRoute.renounceRole`, ...(c.aave ? ['AaveAllocator.renounceRole'] : [])]);
    }
    assert.deepEqual(await Promise.all(chains.map((c) => c.pub.getTransactionCount({ address: deployer.address }))), nonces, 'nothing was sent');
  });

  test('--execute deploys and wires; the OApps read back the ULN and executor configs given; a second run sends 0 transactions', async () => {
    const r = await runCaptured(['deploy', '-c', cfg, '--execute', '--json', '--write-config', cfg], { env });
    assert.equal(r.code, 0, r.stderr);
    executed = JSON.parse(r.stdout) as DeployResult;
    assert.equal(executed.mode, 'execute');
    assert.equal(executed.sent, executed.transactions.length);
    assert.ok(executed.sent > 40, `sent ${executed.sent}`);
    assert.equal(executed.remaining, 0);
    assert.ok(executed.transactions.every((t) => t.status === 'success' && /^0x[0-9a-f]{64}$/.test(t.hash ?? '')));
    assert.match(r.stderr, /\[alpha\] deploy BallastToken\(.*tx 0x[0-9a-f]{64} success/);

    for (const [i, c] of chains.entries()) {
      const other = chains[1 - i]!;
      const a = executed.chains.find((x) => x.chainKey === c.key)!.addresses;
      for (const oapp of [a.token, a.creditMessenger]) {
        const sendUln = decodeUlnConfig((await c.pub.readContract({ address: c.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, c.sendLib, other.eid, CONFIG_TYPE_ULN] })) as Hex);
        assert.deepEqual(sendUln, { confirmations: BigInt(CONFIRMATIONS[i]!), requiredDVNCount: 1, optionalDVNCount: 0, optionalDVNThreshold: 0, requiredDVNs: [c.dvn], optionalDVNs: [] });
        const recvUln = decodeUlnConfig((await c.pub.readContract({ address: c.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, c.receiveLib, other.eid, CONFIG_TYPE_ULN] })) as Hex);
        assert.equal(recvUln.confirmations, BigInt(CONFIRMATIONS[1 - i]!), 'the receive side waits for the source chain\'s confirmations');
        assert.deepEqual(recvUln.requiredDVNs, [c.dvn]);
        const exec = decodeExecutorConfig((await c.pub.readContract({ address: c.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, c.sendLib, other.eid, CONFIG_TYPE_EXECUTOR] })) as Hex);
        assert.deepEqual(exec, { maxMessageSize: 10_000, executor: c.executor });
        assert.equal(await c.pub.readContract({ address: c.endpoint, abi: endpointV2Abi, functionName: 'isDefaultSendLibrary', args: [oapp, other.eid] }), false, 'the send library is pinned');
      }
      const peer = executed.chains.find((x) => x.chainKey === other.key)!.addresses;
      assert.equal(await c.pub.readContract({ address: a.token, abi: ballastTokenAbi, functionName: 'peers', args: [other.eid] }), pad(peer.token).toLowerCase());
      assert.equal(await c.pub.readContract({ address: a.creditMessenger, abi: creditMessengerAbi, functionName: 'isKeeper', args: [keeper] }), true);

      // Wormhole: the adapter (deployed on the chain's core) knows the other chain's adapter and route; the token,
      // route and messenger are wired to it and to the core.
      const ad = a.wormholeAdapter!;
      assert.ok(ad && peer.wormholeAdapter, `${c.key}: Wormhole adapters deployed`);
      const read = <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []) => c.pub.readContract({ address, abi, functionName, args: args as unknown[] }) as Promise<T>;
      assert.equal(await read<Address>(ad, wormholeAdapterAbi, 'wormhole'), c.wormholeCore);
      assert.equal(await read<number>(ad, wormholeAdapterAbi, 'wormholeChainId'), c.whChainId);
      assert.equal(await read<Address>(ad, wormholeAdapterAbi, 'route'), a.route);
      assert.equal(await read<Hex>(ad, wormholeAdapterAbi, 'peerAdapter', [other.whChainId]), pad(peer.wormholeAdapter).toLowerCase());
      assert.equal(await read<Hex>(ad, wormholeAdapterAbi, 'peerRoute', [other.whChainId]), pad(peer.route).toLowerCase());
      assert.equal(await read<Address>(a.token, ballastTokenAbi, 'wormholeAdapter'), ad);
      assert.equal(await read<Address>(a.route, ballastRouteAbi, 'wormholeAdapter'), ad);
      assert.equal(await read<Address>(a.creditMessenger, creditMessengerAbi, 'wormhole'), c.wormholeCore);
      assert.equal(await read<Hex>(a.creditMessenger, creditMessengerAbi, 'wormholePeer', [other.whChainId]), pad(peer.creditMessenger).toLowerCase());
      assert.equal(await read<number>(a.creditMessenger, creditMessengerAbi, 'eidOfWormholeChain', [other.whChainId]), other.eid);

      // Aave (beta): the allocator on the chain's Pool for the existing token, the route's vault, its route, cap and keeper.
      const capUnits = 500_000n * 10n ** 6n;
      if (c.aave) {
        const al = a.aaveAllocator!;
        assert.ok(al, 'AaveAllocator deployed');
        assert.equal(a.token, c.token, 'the token the config names is used, not redeployed');
        assert.equal(await read<Address>(al, aaveAllocatorAbi, 'pool'), c.aave.pool);
        assert.equal(await read<Address>(al, aaveAllocatorAbi, 'aToken'), c.aave.aToken);
        assert.equal(await read<Address>(al, aaveAllocatorAbi, 'route'), a.route);
        assert.deepEqual((await read<bigint[]>(al, aaveAllocatorAbi, 'outflowCap')).slice(0, 2), [capUnits, 3600n], 'cap per window, seconds');
        assert.equal(await read<boolean>(al, aaveAllocatorAbi, 'hasRole', [KEEPER_ROLE, keeper]), true);
        assert.equal(await read<Address>(a.route, ballastRouteAbi, 'vault'), al, "the route's vault is the allocator");
      } else {
        assert.equal(a.aaveAllocator, undefined);
        assert.equal(await read<Address>(a.route, ballastRouteAbi, 'vault'), a.vault);
      }
      assert.deepEqual((await read<bigint[]>(a.vault, collateralVaultAbi, 'outflowCap')).slice(0, 2), [capUnits, 3600n]);

      // The hand-off: the admin holds every authority, the deployer none.
      const accessControlled: [string, Address, Abi][] = [['CollateralVault', a.vault, collateralVaultAbi], ['BallastRoute', a.route, ballastRouteAbi], ...(a.aaveAllocator ? [['AaveAllocator', a.aaveAllocator, aaveAllocatorAbi] as [string, Address, Abi]] : [])];
      for (const [name, address, abi] of accessControlled) {
        assert.equal(await read<boolean>(address, abi, 'hasRole', [DEFAULT_ADMIN_ROLE, admin.address]), true, `${c.key} ${name}: the admin holds DEFAULT_ADMIN_ROLE`);
        assert.equal(await read<boolean>(address, abi, 'hasRole', [DEFAULT_ADMIN_ROLE, deployer.address]), false, `${c.key} ${name}: the deployer renounced DEFAULT_ADMIN_ROLE`);
      }
      for (const [name, address, abi] of [['BallastToken', a.token, ballastTokenAbi], ['CreditMessenger', a.creditMessenger, creditMessengerAbi], ['WormholeAdapter', ad, wormholeAdapterAbi]] as [string, Address, Abi][]) {
        assert.equal(await read<Address>(address, abi, 'owner'), admin.address, `${c.key} ${name}: owned by the admin`);
      }
      for (const oapp of [a.token, a.creditMessenger]) assert.equal(await read<Address>(c.endpoint, endpointV2Abi, 'delegates', [oapp]), admin.address, `${c.key}: the admin is the endpoint delegate`);
    }
    // The config now names the new contracts (comments kept) and still loads as the keeper's config.
    const written = fs.readFileSync(cfg, 'utf8');
    assert.match(written, /^# written by deployCommand\.test\.ts/);
    assert.equal((YAML.parse(written) as { chains: { contracts: { token: string } }[] }).chains[0]!.contracts.token, executed.chains[0]!.addresses.token);

    const nonces = await Promise.all(chains.map((c) => c.pub.getTransactionCount({ address: deployer.address })));
    const again = await runCaptured(['deploy', '-c', cfg, '--execute'], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do: every chain is deployed and wired as configured \(0 transactions sent\)/);
    assert.deepEqual(await Promise.all(chains.map((c) => c.pub.getTransactionCount({ address: deployer.address }))), nonces);
  });

  test('an OFT transfer goes alpha → beta through SendUln302, the DVN and ReceiveUln302, and is delivered by EndpointV2.lzReceive', async () => {
    assert.ok(executed, 'needs the executed deployment');
    const [a, b] = chains as [LzChain, LzChain];
    const tokenA = executed.chains[0]!.addresses.token;
    const tokenB = executed.chains[1]!.addresses.token;
    const amount = 1_234_000_000n;
    const recipient = keeper;
    const wa = a.wallet(deployer);
    // The token's owner is the admin now (the hand-off): it mints; the deployer sends.
    const { request: mint } = await a.pub.simulateContract({ account: admin, address: tokenA, abi: ballastTokenAbi, functionName: 'mint', args: [deployer.address, amount] });
    await mined(a.pub, a.wallet(admin).writeContract(mint), 'mint');
    const sendParam = { dstEid: b.eid, to: pad(recipient), amountLD: amount, minAmountLD: amount, extraOptions: '0x' as Hex, composeMsg: '0x' as Hex, oftCmd: '0x' as Hex };
    // Fees quoted by the real workers: the executor's and the DVN's fee libraries over the PriceFeed.
    const fee = await a.pub.readContract({ address: tokenA, abi: ballastTokenAbi, functionName: 'quoteSend', args: [sendParam, false] });
    assert.ok(fee.nativeFee > 0n, 'the executor and DVN charge a fee');
    const { request: send } = await a.pub.simulateContract({ account: deployer, address: tokenA, abi: ballastTokenAbi, functionName: 'send', args: [sendParam, fee, deployer.address], value: fee.nativeFee });
    const receipt = await mined(a.pub, wa.writeContract(send), 'OFT send');
    const [packet] = packetsSentIn(receipt.logs as never, a.endpoint);
    assert.ok(packet, 'PacketSent emitted by SendUln302 through the endpoint');
    const codec = PacketV1Codec.from(packet.encoded);
    const header = codec.header() as Hex;
    const payloadHash = codec.payloadHash() as Hex;

    // The DVN on beta verifies (its one signer signs, its admin submits), then anyone commits the verification.
    const callData = encodeFunctionData({ abi: ART.receiveUln.abi, functionName: 'verify', args: [header, payloadHash, BigInt(CONFIRMATIONS[0])] });
    const expiration = BigInt(Math.floor(Date.now() / 1000) + 3600);
    const hash = (await b.pub.readContract({ address: b.dvn, abi: ART.dvn.abi, functionName: 'hashCallData', args: [DVN_VID, b.receiveLib, callData, expiration] })) as Hex;
    const signatures = await dvnSigner.signMessage({ message: { raw: hash } });
    const wb = b.wallet(lzOwner);
    const { request: exec } = await b.pub.simulateContract({ account: lzOwner, address: b.dvn, abi: ART.dvn.abi, functionName: 'execute', args: [[{ vid: DVN_VID, target: b.receiveLib, callData, expiration, signatures }]] });
    await mined(b.pub, wb.writeContract(exec as Parameters<typeof wb.writeContract>[0]), 'DVN.execute');
    const { request: commit } = await b.pub.simulateContract({ account: lzOwner, address: b.receiveLib, abi: ART.receiveUln.abi, functionName: 'commitVerification', args: [header, payloadHash] });
    await mined(b.pub, wb.writeContract(commit as Parameters<typeof wb.writeContract>[0]), 'ReceiveUln302.commitVerification');
    assert.equal(await b.pub.readContract({ address: b.endpoint, abi: endpointV2Abi, functionName: 'inboundPayloadHash', args: [tokenB, a.eid, packet.sender, packet.nonce] }), payloadHash);

    // Delivery (the executor's job; permissionless on EndpointV2).
    const origin = { srcEid: a.eid, sender: packet.sender, nonce: packet.nonce };
    const { request: deliver } = await b.pub.simulateContract({ account: lzOwner, address: b.endpoint, abi: endpointV2Abi, functionName: 'lzReceive', args: [origin, tokenB, packet.guid, packet.message, '0x'], gas: BigInt(ENFORCED_GAS) + 100_000n });
    await mined(b.pub, wb.writeContract(deliver), 'EndpointV2.lzReceive');
    assert.equal(await b.pub.readContract({ address: tokenB, abi: ballastTokenAbi, functionName: 'balanceOf', args: [recipient] }), amount);
    assert.equal(await a.pub.readContract({ address: tokenA, abi: ballastTokenAbi, functionName: 'balanceOf', args: [deployer.address] }), 0n);
  });
});
