/**
 * Deploys and wires the Ballast devnet on N local EVM chains (anvil): per chain Multicall3, a real
 * LayerZero EndpointV2 with SimpleMessageLib as default send/receive library, the BallastToken OFT,
 * a DevPriceFeed, a CollateralVault and a BallastRoute, Wormhole's real core contract (Implementation
 * behind the `Wormhole` proxy, initialized by `Setup` with the devnet guardian as a one-guardian set)
 * and a WormholeAdapter; then OFT peers, route peers and Wormhole adapter peers for every pair, the
 * token's and route's adapter, roles, the outflow cap and the initial liquidity supplied by the
 * market account.
 *
 * With `market: 'aave'` the treasury's liquidity sits in a real Aave v3 Pool instead (devnet/aave.ts, `@aave/core-v3`
 * 1.19.3): per chain Aave v3 with the OFT listed as its USDC-like reserve, and an AaveAllocator
 * (contracts/src/AaveAllocator.sol) holding the treasury's aTokens, which becomes the route's vault; the
 * CollateralVault stays for lending capacity (credit lines) only.
 *
 * Needs compiled artifacts (`npx tsx contracts/compile.ts`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  getAddress,
  http,
  pad,
  parseAbi,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadBytecode } from '../contracts/artifacts.js';
import { estimateWithHeadroom } from '../chains/evm/writeContract.js';
import {
  aaveAllocatorAbi,
  ballastRouteAbi,
  ballastTokenAbi,
  collateralVaultAbi,
  creditMessengerAbi,
  devPriceFeedAbi,
  endpointV2Abi,
  simpleMessageLibAbi,
  wormholeAdapterAbi,
  wormholeImplementationAbi,
  wormholeProxyAbi,
  wormholeSetupAbi,
} from '../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS, DEVNET_WORMHOLE_GUARDIAN_KEY } from './accounts.js';
import type { AaveReserveParams, AaveV3Deployment } from './aave.js';

/**
 * Wormhole chain ids given to devnet chains that do not set `whChainId`, by position: real Wormhole
 * EVM chain ids (Ethereum 2, Arbitrum 23, Base 30, Optimism 24, Polygon 5, Avalanche 6, BSC 4,
 * Moonbeam 16), so the Wormhole SDK can name them when it builds VAAs.
 */
export const DEVNET_WORMHOLE_CHAIN_IDS = [2, 23, 30, 24, 5, 6, 4, 16] as const;

/**
 * Governance of the devnet Wormhole core contracts: Wormhole's devnet values (governance chain 1 =
 * Solana, governance emitter `0x…04`). Only guardian-signed governance VAAs from it can change the core
 * (e.g. `submitSetMessageFee`).
 */
export const DEVNET_WORMHOLE_GOVERNANCE = {
  chainId: 1,
  contract: pad('0x04', { size: 32 }),
} as const;

/** Consistency level of the devnet adapters' messages (Wormhole EVM: 1 = finalized). */
export const DEVNET_WORMHOLE_CONSISTENCY_LEVEL = 1;

/** One chain to deploy on. */
export interface DevnetChainInput {
  /** Short key used in logs and as the key of the result, e.g. "arbitrum". */
  chainKey: string;
  rpcUrl: string;
  /** EVM chain id (must match the node's). */
  chainId: number;
  /** LayerZero endpoint id for this chain (unique across the devnet). */
  eid: number;
  /**
   * Wormhole chain id of this chain (unique across the devnet; a real one such as 2, 23, 30, so the
   * Wormhole SDK knows it). Default: `DEVNET_WORMHOLE_CHAIN_IDS[position]`.
   */
  whChainId?: number;
  /**
   * The native fee (wei) SimpleMessageLib charges per LayerZero message sent from this chain, standing in for
   * the DVN + executor fees of production LayerZero (which differ by chain). Default: the library's own (100 wei).
   */
  lzNativeFeeWei?: bigint;
}

/**
 * Where the treasury's liquidity sits on the devnet's EVM chains: `vault` = the Ballast CollateralVault (the market
 * account supplies into it and borrows from it); `aave` = a real Aave v3 Pool per chain, the treasury's aTokens held
 * by an AaveAllocator (the route's vault), borrow demand on the Pool.
 */
export type DevnetMarket = 'vault' | 'aave';

/** One chain's Aave v3 market and the treasury's allocator in it (`market: 'aave'`). */
export interface DevnetAaveContracts {
  /** Aave's Pool (proxy). */
  pool: Address;
  /** The OFT's aToken, variable and stable debt tokens. */
  aToken: Address;
  variableDebtToken: Address;
  stableDebtToken: Address;
  /** The treasury's AaveAllocator: holds its aTokens; the route's vault; the keeper's collateral legs call it. */
  allocator: Address;
  /** Everything devnet/aave.ts deployed (configurator, oracle, collateral reserve, …). */
  deployment: AaveV3Deployment;
}

/** Addresses deployed on one chain. */
export interface DevnetContracts {
  multicall3: Address;
  endpoint: Address;
  sendLib: Address;
  token: Address;
  vault: Address;
  route: Address;
  priceFeed: Address;
  /** Wormhole core contract (the `Wormhole` ERC1967 proxy; call it with `wormholeImplementationAbi`). */
  wormholeCore: Address;
  /** Ballast's WormholeAdapter (the Wormhole emitter of this chain's sends). */
  wormholeAdapter: Address;
  /** CreditMessenger: the LayerZero OApp moving lending capacity (also `vault.creditMessenger()`). */
  creditMessenger: Address;
  /** With `market: 'aave'`: the chain's Aave v3 market and the treasury's allocator (absent with `market: 'vault'`). */
  aave?: DevnetAaveContracts;
}

export interface DevnetChainDeployment {
  chainKey: string;
  chainId: number;
  eid: number;
  /** Wormhole chain id (the core's `chainId()`). */
  whChainId: number;
  rpcUrl: string;
  contracts: DevnetContracts;
}

export interface DevnetDeployment {
  chains: Record<string, DevnetChainDeployment>;
  /** Where the treasury's liquidity sits on every chain (DeployDevnetOptions `market`). */
  market: DevnetMarket;
  /**
   * Addresses of the devnet accounts (devnet/accounts.ts) as wired into the contracts; `aaveLender` =
   * {@link DEVNET_AAVE_LENDER_KEY}'s account, the third-party supplier of the Aave reserves (`market: 'aave'`).
   */
  accounts: { deployer: Address; keeper: Address; relayer: Address; market: Address; wormholeGuardian: Address; aaveLender: Address };
}

export interface DeployDevnetOptions {
  chains: DevnetChainInput[];
  log?: (msg: string) => void;
  /** Base units (6 decimals) minted to the market account and supplied into each vault; default 10_000_000e6. */
  initialLiquidity?: bigint;
  /** Vault outflow cap per window, base units; default initialLiquidity / 2. */
  maxOutflowPerWindow?: bigint;
  /** Outflow cap window, seconds; default 3600. */
  outflowWindowSec?: bigint;
  /**
   * Where the treasury's liquidity sits (default `vault`). With `aave`, on every chain: Aave v3 listing the OFT
   * (asset price: Aave's MockAggregator at $1; the DevPriceFeed stays ETH/USD), an AaveAllocator(pool, token,
   * deployer) wired as the route's vault with the keeper's role and the outflow cap, `initialLiquidity` supplied
   * through it (the market account holds TREASURER_ROLE), and `aaveLenderSupply` supplied straight to the Pool by a
   * third party. The CollateralVault keeps its route, roles, `borrowLimit` and credit wiring (capacity moves).
   */
  market?: DevnetMarket;
  /**
   * `market: 'aave'`: base units the third-party lender ({@link DEVNET_AAVE_LENDER_KEY}) supplies to each chain's reserve
   * besides the treasury, so the treasury is one lender among others as on a real market; default `initialLiquidity`
   * (the treasury holds half of each reserve at the start). 0 = the treasury is the only lender.
   */
  aaveLenderSupply?: bigint;
  /** `market: 'aave'`: overrides of the reserve's rate strategy / caps (devnet/aave.ts DEFAULT_USDC_RESERVE). */
  aaveReserve?: Partial<AaveReserveParams>;
}

/** Default liquidity per chain: 10,000,000 tokens with 6 decimals. */
export const DEFAULT_INITIAL_LIQUIDITY = 10_000_000n * 10n ** 6n;

const require = createRequire(import.meta.url);

/**
 * The devnet's third-party Aave lender: anvil's account 4 of the same well-known public mnemonic ("test test … junk")
 * DEVNET_ACCOUNTS' keys (its accounts 0–3) come from, so anvil prefunds it with ETH. PUBLIC TEST KEY, devnet only.
 * With `market: 'aave'` it supplies `aaveLenderSupply` straight to each chain's reserve.
 */
export const DEVNET_AAVE_LENDER_KEY = '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a' as Hex;

let multicall3Cache: Hex | undefined;
/**
 * Creation bytecode of Multicall3 as shipped in viem (`multicall3Bytecode` in viem's
 * constants/contracts module, which the package's exports map does not expose, so it is read from disk).
 * @throws Error when the installed viem no longer contains the constant.
 */
export function multicall3Bytecode(): Hex {
  if (multicall3Cache) return multicall3Cache;
  const viemDir = path.dirname(require.resolve('viem/package.json'));
  const file = path.join(viemDir, '_esm', 'constants', 'contracts.js');
  const match = /export const multicall3Bytecode = '(0x[0-9a-fA-F]+)'/.exec(fs.readFileSync(file, 'utf8'));
  if (!match?.[1]) throw new Error(`multicall3Bytecode not found in ${file}: has the viem version changed?`);
  multicall3Cache = match[1] as Hex;
  return multicall3Cache;
}

type Wallet = WalletClient<Transport, Chain, Account>;

interface ChainCtx {
  input: DevnetChainInput & { whChainId: number };
  pub: PublicClient<Transport, Chain>;
  deployer: Wallet;
  keeper: Wallet;
  market: Wallet;
  /** The third-party Aave lender (`market: 'aave'` only). */
  lender?: Wallet;
  log: (msg: string) => void;
}

/** Waits for `hash`, throws naming `label` and the chain when the tx reverted. */
async function confirm(ctx: ChainCtx, label: string, hash: Promise<Hex>): Promise<void> {
  const receipt = await ctx.pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 });
  if (receipt.status !== 'success') {
    throw new Error(`devnet deploy on ${ctx.input.chainKey}: transaction "${label}" (${receipt.transactionHash}) reverted${await revertDetail(ctx, receipt)}`);
  }
}

/** Why a mined transaction reverted, as far as the node tells: gas used of the limit, and the replayed revert. */
async function revertDetail(ctx: ChainCtx, receipt: { transactionHash: Hex; gasUsed: bigint; blockNumber: bigint }): Promise<string> {
  try {
    const tx = await ctx.pub.getTransaction({ hash: receipt.transactionHash });
    let why = '';
    try {
      await ctx.pub.call({ account: tx.from, to: tx.to, data: tx.input, value: tx.value, gas: tx.gas, blockNumber: receipt.blockNumber - 1n });
      why = 'the replay on the parent block succeeds';
    } catch (err) {
      why = (err as { shortMessage?: string }).shortMessage ?? String(err);
    }
    return ` (gas used ${receipt.gasUsed} of ${tx.gas}; ${why})`;
  } catch {
    return '';
  }
}

/** Writes sent without waiting, confirmed together by `flush()` (each still simulated first). */
class TxBatch {
  private sent: { label: string; hash: Hex }[] = [];
  constructor(private readonly ctx: ChainCtx) {}

  async send(label: string, sim: Promise<{ request: Parameters<Wallet['writeContract']>[0] }>, wallet: Wallet): Promise<void> {
    let request: Parameters<Wallet['writeContract']>[0];
    try {
      ({ request } = await sim);
    } catch (err) {
      throw new Error(`devnet deploy on ${this.ctx.input.chainKey}: simulating "${label}" failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.sent.push({ label, hash: await wallet.writeContract({ ...request, gas: await estimateWithHeadroom(this.ctx.pub, request) }) });
  }

  async flush(): Promise<void> {
    const sent = this.sent.splice(0);
    await Promise.all(sent.map((s) => confirm(this.ctx, s.label, Promise.resolve(s.hash))));
  }
}

async function deploy(ctx: ChainCtx, label: string, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const hash = await ctx.deployer.deployContract({ abi, bytecode, args });
  const receipt = await ctx.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new Error(`devnet deploy on ${ctx.input.chainKey}: deploying ${label} failed (tx ${hash})`);
  }
  const address = getAddress(receipt.contractAddress);
  ctx.log(`[${ctx.input.chainKey}] ${label} at ${address}`);
  return address;
}

/** Deploys independent contracts back to back (nonces from the pending state), confirmed together. */
async function deployWave(
  ctx: ChainCtx,
  items: { label: string; abi: Abi; bytecode: Hex; args: readonly unknown[] }[],
): Promise<Address[]> {
  const hashes: Hex[] = [];
  for (const it of items) hashes.push(await ctx.deployer.deployContract({ abi: it.abi, bytecode: it.bytecode, args: it.args }));
  return Promise.all(
    hashes.map(async (hash, i) => {
      const receipt = await ctx.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      if (receipt.status !== 'success' || !receipt.contractAddress) {
        throw new Error(`devnet deploy on ${ctx.input.chainKey}: deploying ${items[i]!.label} failed (tx ${hash})`);
      }
      const address = getAddress(receipt.contractAddress);
      ctx.log(`[${ctx.input.chainKey}] ${items[i]!.label} at ${address}`);
      return address;
    }),
  );
}

function makeCtx(input: DevnetChainInput & { whChainId: number }, log: (msg: string) => void, market: DevnetMarket): ChainCtx {
  const chain = defineChain({
    id: input.chainId,
    name: `ballast-${input.chainKey}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [input.rpcUrl] } },
  });
  const transport = http(input.rpcUrl);
  const wallet = (key: Hex): Wallet =>
    createWalletClient({ account: privateKeyToAccount(key), chain, transport, pollingInterval: 20 });
  return {
    input,
    pub: createPublicClient({ chain, transport, pollingInterval: 20 }),
    deployer: wallet(DEVNET_ACCOUNTS.deployer),
    keeper: wallet(DEVNET_ACCOUNTS.keeper),
    market: wallet(DEVNET_ACCOUNTS.market),
    ...(market === 'aave' ? { lender: wallet(DEVNET_AAVE_LENDER_KEY) } : {}),
    log,
  };
}

/** Phase 1 on one chain: everything that does not need another chain's addresses. */
async function deployLocal(
  ctx: ChainCtx,
  otherEids: number[],
  accounts: DevnetDeployment['accounts'],
): Promise<DevnetContracts> {
  const { pub, deployer } = ctx;
  const chainId = await pub.getChainId();
  if (chainId !== ctx.input.chainId) {
    throw new Error(`devnet deploy: ${ctx.input.rpcUrl} reports chain id ${chainId}, expected ${ctx.input.chainId} for ${ctx.input.chainKey}`);
  }
  const multicall3 = await deploy(ctx, 'Multicall3', [], multicall3Bytecode(), []);
  const endpoint = await deploy(ctx, 'EndpointV2', endpointV2Abi, loadBytecode('EndpointV2'), [ctx.input.eid, accounts.deployer]);
  const sendLib = await deploy(ctx, 'SimpleMessageLib', simpleMessageLibAbi, loadBytecode('SimpleMessageLib'), [endpoint, accounts.deployer]);

  {
    const { request } = await pub.simulateContract({ account: deployer.account, address: endpoint, abi: endpointV2Abi, functionName: 'registerLibrary', args: [sendLib] });
    await confirm(ctx, 'EndpointV2.registerLibrary', deployer.writeContract(request));
  }
  const batch = new TxBatch(ctx);
  for (const eid of otherEids) {
    await batch.send(`EndpointV2.setDefaultSendLibrary(${eid})`, pub.simulateContract({ account: deployer.account, address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultSendLibrary', args: [eid, sendLib] }), deployer);
    await batch.send(`EndpointV2.setDefaultReceiveLibrary(${eid})`, pub.simulateContract({ account: deployer.account, address: endpoint, abi: endpointV2Abi, functionName: 'setDefaultReceiveLibrary', args: [eid, sendLib, 0n] }), deployer);
  }
  // Only the devnet relayer may validate packets (SimpleMessageLib checks nothing else).
  if (ctx.input.lzNativeFeeWei !== undefined) {
    await batch.send('SimpleMessageLib.setMessagingFee', pub.simulateContract({ account: deployer.account, address: sendLib, abi: simpleMessageLibAbi, functionName: 'setMessagingFee', args: [ctx.input.lzNativeFeeWei, 0n] }), deployer);
  }
  await batch.send('SimpleMessageLib.setWhitelistCaller', pub.simulateContract({ account: deployer.account, address: sendLib, abi: simpleMessageLibAbi, functionName: 'setWhitelistCaller', args: [accounts.relayer] }), deployer);
  await batch.flush();

  // Three waves of independent deploys (one block each on a block-time chain).
  const [token, priceFeed, whImplementation, whSetup] = await deployWave(ctx, [
    { label: 'BallastToken', abi: ballastTokenAbi, bytecode: loadBytecode('BallastToken'), args: ['Ballast USD', 'bUSD', endpoint, accounts.deployer] },
    { label: 'DevPriceFeed', abi: devPriceFeedAbi, bytecode: loadBytecode('DevPriceFeed'), args: [8, 'ETH / USD', accounts.deployer] },
    { label: 'Wormhole Implementation', abi: wormholeImplementationAbi, bytecode: loadBytecode('WormholeImplementation'), args: [] },
    { label: 'Wormhole Setup', abi: wormholeSetupAbi, bytecode: loadBytecode('WormholeSetup'), args: [] },
  ]);
  // Setup.setup runs in the proxy's constructor (delegatecall): one guardian, governance as on
  // Wormhole's devnet, and the EVM chain id, which the core requires to equal block.chainid.
  const initData = encodeFunctionData({
    abi: wormholeSetupAbi,
    functionName: 'setup',
    args: [whImplementation!, [accounts.wormholeGuardian], ctx.input.whChainId, DEVNET_WORMHOLE_GOVERNANCE.chainId, DEVNET_WORMHOLE_GOVERNANCE.contract, BigInt(chainId)],
  });
  const [vault, route, wormholeCore] = await deployWave(ctx, [
    { label: 'CollateralVault', abi: collateralVaultAbi, bytecode: loadBytecode('CollateralVault'), args: [token, accounts.deployer] },
    { label: 'BallastRoute', abi: ballastRouteAbi, bytecode: loadBytecode('BallastRoute'), args: [token, accounts.deployer] },
    { label: `Wormhole core (proxy, chain ${ctx.input.whChainId})`, abi: wormholeProxyAbi, bytecode: loadBytecode('WormholeProxy'), args: [whSetup, initData] },
  ]);
  const wormholeAdapter = await deploy(ctx, 'WormholeAdapter', wormholeAdapterAbi, loadBytecode('WormholeAdapter'), [wormholeCore, token, accounts.deployer, DEVNET_WORMHOLE_CONSISTENCY_LEVEL]);
  const creditMessenger = await deploy(ctx, 'CreditMessenger', creditMessengerAbi, loadBytecode('CreditMessenger'), [endpoint, accounts.deployer]);
  return { multicall3, endpoint, sendLib, token: token!, vault: vault!, route: route!, priceFeed: priceFeed!, wormholeCore: wormholeCore!, wormholeAdapter, creditMessenger };
}

/**
 * Phase 1b on one chain (`market: 'aave'`): Aave v3 listing the OFT (devnet/aave.ts `deployAaveV3`; the asset's price
 * from Aave's MockAggregator at $1, since the chain's DevPriceFeed is ETH/USD) and the treasury's AaveAllocator.
 * Runs after phase 1: both send from the deployer, whose nonces must not interleave.
 */
async function deployAaveMarket(ctx: ChainCtx, own: DevnetContracts, accounts: DevnetDeployment['accounts'], reserve: Partial<AaveReserveParams> | undefined): Promise<DevnetAaveContracts> {
  const { deployAaveV3 } = await import('./aave.js'); // loaded only for Aave devnets (reads @aave/core-v3's artifacts)
  const started = Date.now();
  const deployment = await deployAaveV3({
    rpcUrl: ctx.input.rpcUrl,
    chainId: ctx.input.chainId,
    deployerKey: DEVNET_ACCOUNTS.deployer,
    asset: own.token,
    ...(reserve ? { reserve } : {}),
  });
  const allocator = await deploy(ctx, 'AaveAllocator', aaveAllocatorAbi, loadBytecode('AaveAllocator'), [deployment.pool, own.token, accounts.deployer]);
  ctx.log(`[${ctx.input.chainKey}] Aave v3 Pool at ${deployment.pool} (aToken ${deployment.aToken}, collateral ${deployment.collateralAsset}) in ${Date.now() - started} ms`);
  return {
    pool: deployment.pool,
    aToken: deployment.aToken,
    variableDebtToken: deployment.variableDebtToken,
    stableDebtToken: deployment.stableDebtToken,
    allocator,
    deployment,
  };
}

/** Phase 2 on one chain: peers (needs every chain's addresses), roles, cap, liquidity. */
async function wireChain(
  ctx: ChainCtx,
  own: DevnetContracts,
  others: { eid: number; whChainId: number; contracts: DevnetContracts }[],
  accounts: DevnetDeployment['accounts'],
  liquidity: { initial: bigint; maxOutflowPerWindow: bigint; windowSec: bigint; lenderSupply: bigint },
): Promise<void> {
  const { pub, deployer, market } = ctx;
  const d = deployer.account;
  // Independent writes are simulated, sent back to back (nonces from the pending state) and then
  // confirmed together by `flush()`, so block-time chains need few blocks.
  const batch = new TxBatch(ctx);
  const run = (label: string, sim: Promise<{ request: Parameters<Wallet['writeContract']>[0] }>, wallet: Wallet = deployer) =>
    batch.send(label, sim, wallet);

  const aave = own.aave;
  // The route's vault is where the treasury's liquidity sits: the allocator on an Aave market. The CollateralVault
  // keeps its route either way (and, below, its roles, cap and credit lines).
  await run('vault.setRoute', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'setRoute', args: [own.route] }));
  await run(`route.setVault(${aave ? 'allocator' : 'vault'})`, pub.simulateContract({ account: d, address: own.route, abi: ballastRouteAbi, functionName: 'setVault', args: [aave ? aave.allocator : own.vault] }));
  for (const other of others) {
    await run(`token.setPeer(${other.eid})`, pub.simulateContract({ account: d, address: own.token, abi: ballastTokenAbi, functionName: 'setPeer', args: [other.eid, pad(other.contracts.token)] }));
    await run(`route.setPeerRoute(${other.eid})`, pub.simulateContract({ account: d, address: own.route, abi: ballastRouteAbi, functionName: 'setPeerRoute', args: [other.eid, pad(other.contracts.route)] }));
    await run(`wormholeAdapter.setPeer(${other.whChainId})`, pub.simulateContract({ account: d, address: own.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'setPeer', args: [other.whChainId, pad(other.contracts.wormholeAdapter), pad(other.contracts.route)] }));
  }
  await run('token.setWormholeAdapter', pub.simulateContract({ account: d, address: own.token, abi: ballastTokenAbi, functionName: 'setWormholeAdapter', args: [own.wormholeAdapter] }));
  await run('route.setWormholeAdapter', pub.simulateContract({ account: d, address: own.route, abi: ballastRouteAbi, functionName: 'setWormholeAdapter', args: [own.wormholeAdapter] }));
  await run('wormholeAdapter.setRoute', pub.simulateContract({ account: d, address: own.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'setRoute', args: [own.route] }));
  const [keeperRole, borrowerRole] = await Promise.all([
    pub.readContract({ address: own.vault, abi: collateralVaultAbi, functionName: 'KEEPER_ROLE' }),
    pub.readContract({ address: own.vault, abi: collateralVaultAbi, functionName: 'BORROWER_ROLE' }),
  ]);
  await run('vault.grantRole(KEEPER)', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'grantRole', args: [keeperRole, accounts.keeper] }));
  await run('route.grantRole(KEEPER)', pub.simulateContract({ account: d, address: own.route, abi: ballastRouteAbi, functionName: 'grantRole', args: [keeperRole, accounts.keeper] }));
  await run('vault.grantRole(BORROWER)', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'grantRole', args: [borrowerRole, accounts.market] }));
  await run('vault.setOutflowCap', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'setOutflowCap', args: [liquidity.maxOutflowPerWindow, liquidity.windowSec] }));
  await wireCredit(ctx, run, own, others, accounts, liquidity);
  if (aave) {
    await wireAllocator(ctx, batch, own, aave, accounts, liquidity);
    await batch.flush();
    ctx.log(`[${ctx.input.chainKey}] wired: ${others.length} peer(s) (OFT, route, Wormhole adapter), keeper/borrower roles, cap ${liquidity.maxOutflowPerWindow}/${liquidity.windowSec}s; Aave: allocator ${aave.allocator} is the route's vault, treasury supplied ${liquidity.initial}, third-party lender ${liquidity.lenderSupply}`);
    return;
  }

  if (liquidity.initial > 0n) {
    await run('token.mint(market)', pub.simulateContract({ account: d, address: own.token, abi: ballastTokenAbi, functionName: 'mint', args: [accounts.market, liquidity.initial] }));
    await run('token.approve(vault)', pub.simulateContract({ account: market.account, address: own.token, abi: ballastTokenAbi, functionName: 'approve', args: [own.vault, liquidity.initial] }), market);
    await batch.flush(); // supply needs the mint and the approval mined
    await run('vault.supply', pub.simulateContract({ account: market.account, address: own.vault, abi: collateralVaultAbi, functionName: 'supply', args: [liquidity.initial] }), market);
  }
  await batch.flush();
  ctx.log(`[${ctx.input.chainKey}] wired: ${others.length} peer(s) (OFT, route, Wormhole adapter), keeper/borrower roles, cap ${liquidity.maxOutflowPerWindow}/${liquidity.windowSec}s, supplied ${liquidity.initial}`);
}

/** Aave v3 `IPool.supply` (the one Pool call the deploy makes; the full ABI is devnet/aave.ts `aavePoolAbi`). */
const aavePoolSupplyAbi = parseAbi(['function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode)']);

/**
 * The treasury's AaveAllocator on one chain (queued on the caller's batch, which it flushes where a write needs the
 * previous ones mined): its route, the keeper's KEEPER_ROLE, the market account's TREASURER_ROLE, the outflow cap
 * (the same as the vault's), then the treasury's `initialLiquidity` minted to the market account and supplied through
 * the allocator (`allocator.supply`: the allocator holds the aTokens), and `lenderSupply` minted to the third-party
 * lender and supplied straight to the Pool. Both supplies go in before any borrowing, at Aave's initial liquidity
 * index (1 ray), so the aToken balances equal the amounts exactly.
 */
async function wireAllocator(
  ctx: ChainCtx,
  batch: TxBatch,
  own: DevnetContracts,
  aave: DevnetAaveContracts,
  accounts: DevnetDeployment['accounts'],
  liquidity: { initial: bigint; maxOutflowPerWindow: bigint; windowSec: bigint; lenderSupply: bigint },
): Promise<void> {
  const { pub, deployer, market, lender } = ctx;
  const d = deployer.account;
  const a = aave.allocator;
  const run = (label: string, sim: Promise<{ request: Parameters<Wallet['writeContract']>[0] }>, wallet: Wallet = deployer) => batch.send(label, sim, wallet);
  const [keeperRole, treasurerRole] = await Promise.all([
    pub.readContract({ address: a, abi: aaveAllocatorAbi, functionName: 'KEEPER_ROLE' }),
    pub.readContract({ address: a, abi: aaveAllocatorAbi, functionName: 'TREASURER_ROLE' }),
  ]);
  await run('allocator.setRoute', pub.simulateContract({ account: d, address: a, abi: aaveAllocatorAbi, functionName: 'setRoute', args: [own.route] }));
  await run('allocator.grantRole(KEEPER)', pub.simulateContract({ account: d, address: a, abi: aaveAllocatorAbi, functionName: 'grantRole', args: [keeperRole, accounts.keeper] }));
  await run('allocator.grantRole(TREASURER)', pub.simulateContract({ account: d, address: a, abi: aaveAllocatorAbi, functionName: 'grantRole', args: [treasurerRole, accounts.market] }));
  await run('allocator.setOutflowCap', pub.simulateContract({ account: d, address: a, abi: aaveAllocatorAbi, functionName: 'setOutflowCap', args: [liquidity.maxOutflowPerWindow, liquidity.windowSec] }));
  const lenderSupply = lender ? liquidity.lenderSupply : 0n;
  if (liquidity.initial > 0n) {
    await run('token.mint(market)', pub.simulateContract({ account: d, address: own.token, abi: ballastTokenAbi, functionName: 'mint', args: [accounts.market, liquidity.initial] }));
    await run('token.approve(allocator)', pub.simulateContract({ account: market.account, address: own.token, abi: ballastTokenAbi, functionName: 'approve', args: [a, liquidity.initial] }), market);
  }
  if (lender && lenderSupply > 0n) {
    await run('token.mint(lender)', pub.simulateContract({ account: d, address: own.token, abi: ballastTokenAbi, functionName: 'mint', args: [accounts.aaveLender, lenderSupply] }));
    await run('token.approve(pool)', pub.simulateContract({ account: lender.account, address: own.token, abi: ballastTokenAbi, functionName: 'approve', args: [aave.pool, lenderSupply] }), lender);
  }
  if (liquidity.initial === 0n && lenderSupply === 0n) return;
  await batch.flush(); // the supplies need the role, the mints and the approvals mined
  if (liquidity.initial > 0n) {
    await run('allocator.supply', pub.simulateContract({ account: market.account, address: a, abi: aaveAllocatorAbi, functionName: 'supply', args: [liquidity.initial] }), market);
  }
  if (lender && lenderSupply > 0n) {
    await run('Pool.supply(lender)', pub.simulateContract({ account: lender.account, address: aave.pool, abi: aavePoolSupplyAbi, functionName: 'supply', args: [own.token, lenderSupply, accounts.aaveLender, 0] }), lender);
  }
}

/**
 * Lending capacity on one chain (queued on the caller's batch): the vault's `borrowLimit` (= the initial
 * liquidity) and credit cap (= the outflow cap and window), the vault ↔ CreditMessenger link, the keeper
 * on the messenger, the messenger's LayerZero peers (the other chains' messengers; the endpoint's
 * default libraries and the devnet relayer already serve any OApp), its Wormhole core and its Wormhole
 * peers (the same messengers, by Wormhole chain id, each named by its eid).
 */
async function wireCredit(
  ctx: ChainCtx,
  run: (label: string, sim: Promise<{ request: Parameters<Wallet['writeContract']>[0] }>) => Promise<void>,
  own: DevnetContracts,
  others: { eid: number; whChainId: number; contracts: DevnetContracts }[],
  accounts: DevnetDeployment['accounts'],
  liquidity: { initial: bigint; maxOutflowPerWindow: bigint; windowSec: bigint },
): Promise<void> {
  const { pub } = ctx;
  const d = ctx.deployer.account;
  const m = own.creditMessenger;
  await run('vault.setCreditMessenger', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'setCreditMessenger', args: [m] }));
  await run('vault.setBorrowLimit', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'setBorrowLimit', args: [liquidity.initial] }));
  await run('vault.setCreditCap', pub.simulateContract({ account: d, address: own.vault, abi: collateralVaultAbi, functionName: 'setCreditCap', args: [liquidity.maxOutflowPerWindow, liquidity.windowSec] }));
  await run('creditMessenger.setVault', pub.simulateContract({ account: d, address: m, abi: creditMessengerAbi, functionName: 'setVault', args: [own.vault] }));
  await run('creditMessenger.setKeeper', pub.simulateContract({ account: d, address: m, abi: creditMessengerAbi, functionName: 'setKeeper', args: [accounts.keeper, true] }));
  await run('creditMessenger.setWormhole', pub.simulateContract({ account: d, address: m, abi: creditMessengerAbi, functionName: 'setWormhole', args: [own.wormholeCore, DEVNET_WORMHOLE_CONSISTENCY_LEVEL] }));
  for (const other of others) {
    await run(`creditMessenger.setPeer(${other.eid})`, pub.simulateContract({ account: d, address: m, abi: creditMessengerAbi, functionName: 'setPeer', args: [other.eid, pad(other.contracts.creditMessenger)] }));
    await run(`creditMessenger.setWormholePeer(${other.whChainId})`, pub.simulateContract({ account: d, address: m, abi: creditMessengerAbi, functionName: 'setWormholePeer', args: [other.whChainId, other.eid, pad(other.contracts.creditMessenger)] }));
  }
}

/**
 * Deploys and wires the Ballast contracts on every chain in `opts.chains` (chains in parallel).
 *
 * Accounts (devnet/accounts.ts): deployer = admin/owner of everything, keeper = KEEPER_ROLE on vault
 * and route, market = BORROWER_ROLE and supplier of `initialLiquidity`, relayer = the only caller
 * allowed to validate packets on SimpleMessageLib, wormholeGuardian (DEVNET_WORMHOLE_GUARDIAN_KEY) =
 * the one guardian of every Wormhole core. With `market: 'aave'` also: deployer = every Aave role and the
 * allocator's admin, keeper = KEEPER_ROLE on the allocator, market = the allocator's TREASURER_ROLE (supplies
 * `initialLiquidity` through it), aaveLender ({@link DEVNET_AAVE_LENDER_KEY}) = the reserve's third-party lender.
 * Aave adds ~1–2 s per chain (chains still in parallel).
 *
 * @throws Error naming the chain and step when a transaction reverts, the chain id does not match,
 *   eids or Wormhole chain ids are duplicated, or artifacts are missing (run `npx tsx contracts/compile.ts`).
 * @example
 *   const dep = await deployDevnet({ chains: [{ chainKey: 'a', rpcUrl, chainId: 31337, eid: 40101 }] });
 *   dep.chains.a.contracts.vault;
 *   const aave = await deployDevnet({ chains, market: 'aave' });
 *   aave.chains.a.contracts.aave?.allocator; // the route's vault, holding the treasury's aTokens
 */
export async function deployDevnet(opts: DeployDevnetOptions): Promise<DevnetDeployment> {
  const log = opts.log ?? (() => {});
  const eids = opts.chains.map((c) => c.eid);
  if (new Set(eids).size !== eids.length) throw new Error(`deployDevnet: duplicate eids in ${JSON.stringify(eids)}`);
  const keys = opts.chains.map((c) => c.chainKey);
  if (new Set(keys).size !== keys.length) throw new Error(`deployDevnet: duplicate chainKeys in ${JSON.stringify(keys)}`);
  const inputs = opts.chains.map((c, i) => {
    const whChainId = c.whChainId ?? DEVNET_WORMHOLE_CHAIN_IDS[i];
    if (whChainId === undefined) {
      throw new Error(`deployDevnet: chain ${c.chainKey} needs a whChainId (no default past ${DEVNET_WORMHOLE_CHAIN_IDS.length} chains)`);
    }
    if (!Number.isInteger(whChainId) || whChainId <= 0 || whChainId > 0xffff) {
      throw new Error(`deployDevnet: chain ${c.chainKey} has whChainId ${whChainId}; expected a Wormhole chain id 1..65535`);
    }
    return { ...c, whChainId };
  });
  const whIds = inputs.map((c) => c.whChainId);
  if (new Set(whIds).size !== whIds.length) {
    throw new Error(`deployDevnet: duplicate Wormhole chain ids ${JSON.stringify(whIds)} (set whChainId on each chain, or none to use the defaults)`);
  }
  const market: DevnetMarket = opts.market ?? 'vault';
  if (market !== 'vault' && market !== 'aave') throw new Error(`deployDevnet: market ${JSON.stringify(market)}; expected 'vault' or 'aave'`);
  const initial = opts.initialLiquidity ?? DEFAULT_INITIAL_LIQUIDITY;
  const liquidity = {
    initial,
    maxOutflowPerWindow: opts.maxOutflowPerWindow ?? initial / 2n,
    windowSec: opts.outflowWindowSec ?? 3600n,
    lenderSupply: opts.aaveLenderSupply ?? initial,
  };
  if (liquidity.lenderSupply < 0n) throw new Error(`deployDevnet: aaveLenderSupply ${liquidity.lenderSupply} must be >= 0`);
  const accounts = {
    deployer: privateKeyToAccount(DEVNET_ACCOUNTS.deployer).address,
    keeper: privateKeyToAccount(DEVNET_ACCOUNTS.keeper).address,
    relayer: privateKeyToAccount(DEVNET_ACCOUNTS.relayer).address,
    market: privateKeyToAccount(DEVNET_ACCOUNTS.market).address,
    wormholeGuardian: privateKeyToAccount(DEVNET_WORMHOLE_GUARDIAN_KEY).address,
    aaveLender: privateKeyToAccount(DEVNET_AAVE_LENDER_KEY).address,
  };
  const started = Date.now();
  const ctxs = inputs.map((c) => makeCtx(c, log, market));
  const contracts = await Promise.all(
    ctxs.map(async (ctx) => {
      const own = await deployLocal(ctx, eids.filter((e) => e !== ctx.input.eid), accounts);
      return market === 'aave' ? { ...own, aave: await deployAaveMarket(ctx, own, accounts, opts.aaveReserve) } : own;
    }),
  );
  await Promise.all(
    ctxs.map((ctx, i) =>
      wireChain(
        ctx,
        contracts[i]!,
        ctxs.flatMap((other, j) => (j === i ? [] : [{ eid: other.input.eid, whChainId: other.input.whChainId, contracts: contracts[j]! }])),
        accounts,
        liquidity,
      ),
    ),
  );
  const chains: Record<string, DevnetChainDeployment> = {};
  ctxs.forEach((ctx, i) => {
    const { chainKey, chainId, eid, whChainId, rpcUrl } = ctx.input;
    chains[chainKey] = { chainKey, chainId, eid, whChainId, rpcUrl, contracts: contracts[i]! };
  });
  log(`devnet deployed on ${opts.chains.length} chain(s)${market === 'aave' ? ' with Aave v3 markets' : ''} in ${Date.now() - started} ms`);
  return { chains, market, accounts };
}
