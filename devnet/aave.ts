/**
 * Real Aave v3 on a local anvil chain: deploys the contracts of `@aave/core-v3` 1.19.3 (Aave v3.0.2, the Hardhat
 * artifacts shipped in the npm package, read from node_modules at run time, never copied into the repo) in
 * aave-v3-deploy's order, lists an existing ERC20 (the treasury's USDC-like token) as a borrowable reserve with a
 * configurable rate strategy, caps and reserve factor, plus a collateral reserve (Aave's `MintableERC20` "WETH")
 * borrowers post collateral in; and reads the reserve as the keeper sees it.
 *
 * Deployment (one deployer key holds every role: PoolAddressesProvider owner, ACL admin, pool admin, risk admin,
 * emergency admin, asset-listing admin; it is also the reserves' treasury):
 *   libraries (BorrowLogic, BridgeLogic, EModeLogic, FlashLoanLogic → BorrowLogic, LiquidationLogic, PoolLogic,
 *   SupplyLogic, ConfiguratorLogic; linked into Pool / PoolConfigurator through the artifacts' `linkReferences`,
 *   resolved recursively) → PoolAddressesProvider(marketId, deployer) → setACLAdmin → ACLManager → setACLManager,
 *   roles → Pool implementation → setPoolImpl (the provider deploys and initializes the proxy) → PoolConfigurator
 *   implementation → setPoolConfiguratorImpl → AaveOracle (USD, 8 decimals) → setPriceOracle →
 *   AaveProtocolDataProvider → setPoolDataProvider → AToken / StableDebtToken / VariableDebtToken implementations →
 *   DefaultReserveInterestRateStrategy per reserve → PoolConfigurator.initReserves → collateral parameters,
 *   borrowing, reserve factor and caps.
 *
 * Every write is simulated first (eth_call, also for contract creations) and its receipt awaited; independent
 * transactions are sent back to back in "waves" and confirmed together (on anvil's automine that is one block each).
 * No contract exceeds EIP-170's 24,576-byte runtime limit (largest: PoolConfigurator, 24,267 bytes; Pool 21,673
 * bytes, its libraries being external), so anvil's default code-size limit is fine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeDeployData,
  erc20Abi,
  getAddress,
  http,
  zeroAddress,
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
import { decodeReserveConfiguration } from '../chains/evm/aaveReserve.js';
import { estimateWithHeadroom } from '../chains/evm/writeContract.js';
import { DEFAULT_RATE_MODEL } from '../planner/rateModel.js';
import type { RateModel } from '../planner/rateModel.js';

/** 1e27: Aave's ray (rates and indexes). */
export const AAVE_RAY = 10n ** 27n;

/** Largest supply / borrow cap Aave's configuration bitmap holds (36 bits, whole tokens; 0 = no cap). */
export const AAVE_MAX_CAP_TOKENS = 68_719_476_735n;

/**
 * Interest rate strategy + risk parameters of the reserve (Aave units: rates in ray = 1e27, ratios in bps, caps in
 * whole tokens as Aave's configurator takes them).
 * - `optimalUsageRatioRay`: the kink of the rate curve, ray (0.9e27 = 90%); must be in (0, 1e27].
 * - `baseVariableBorrowRateRay`, `variableRateSlope1Ray`, `variableRateSlope2Ray`: per-year rates, ray. Below the
 *   kink the variable borrow rate is base + slope1 · U / optimal; above it base + slope1 + slope2 · (U − optimal) /
 *   (1 − optimal).
 * - `reserveFactorBps`: share of borrow interest kept by the treasury, bps (0..10,000).
 * - `supplyCapTokens`, `borrowCapTokens`: whole tokens (not base units), 0 = no cap, at most AAVE_MAX_CAP_TOKENS.
 * The rate-strategy fields and the reserve factor are the planner's {@link RateModel} (planner/rateModel.ts).
 */
export interface AaveReserveParams extends RateModel {
  supplyCapTokens: bigint;
  borrowCapTokens: bigint;
}

/**
 * A USDC-like reserve (close to Aave v3 Arbitrum's USDC): optimal usage 90%, base rate 0, slope1 5.5%, slope2 60%,
 * reserve factor 10%, supply cap 2,000,000,000 tokens, borrow cap 1,800,000,000 tokens. Its strategy and reserve
 * factor are the yield planner's default, planner/rateModel.ts {@link DEFAULT_RATE_MODEL} (one definition).
 */
export const DEFAULT_USDC_RESERVE: AaveReserveParams = {
  ...DEFAULT_RATE_MODEL,
  supplyCapTokens: 2_000_000_000n,
  borrowCapTokens: 1_800_000_000n,
};

/**
 * The collateral reserve (WETH-like, close to Aave v3 mainnet WETH): optimal usage 80%, base 0, slope1 3.3%, slope2
 * 80%, reserve factor 15%, no caps; LTV 80%, liquidation threshold 82.5%, liquidation bonus 105% (bps); borrowing
 * stays disabled, so it is collateral only.
 */
export const DEFAULT_COLLATERAL_RESERVE: AaveReserveParams & { ltvBps: bigint; liquidationThresholdBps: bigint; liquidationBonusBps: bigint } = {
  optimalUsageRatioRay: (80n * AAVE_RAY) / 100n,
  baseVariableBorrowRateRay: 0n,
  variableRateSlope1Ray: (33n * AAVE_RAY) / 1000n,
  variableRateSlope2Ray: (80n * AAVE_RAY) / 100n,
  reserveFactorBps: 1500n,
  supplyCapTokens: 0n,
  borrowCapTokens: 0n,
  ltvBps: 8000n,
  liquidationThresholdBps: 8250n,
  liquidationBonusBps: 10500n,
};

/**
 * Stable-rate parameters given to every DefaultReserveInterestRateStrategy (aave-v3-deploy's defaults). Stable
 * borrowing is never enabled on the devnet, so they never take effect; the constructor needs them.
 */
const STABLE_RATE_PARAMS = {
  stableRateSlope1: (2n * AAVE_RAY) / 100n,
  stableRateSlope2: (60n * AAVE_RAY) / 100n,
  baseStableRateOffset: (2n * AAVE_RAY) / 100n,
  stableRateExcessOffset: (5n * AAVE_RAY) / 100n,
  optimalStableToTotalDebtRatio: (20n * AAVE_RAY) / 100n,
};

/** Market id given to PoolAddressesProvider. */
export const AAVE_DEVNET_MARKET_ID = 'Ballast Devnet Market';

export interface DeployAaveV3Options {
  rpcUrl: string;
  /** EVM chain id; must equal the node's (checked). */
  chainId: number;
  /** Admin of everything (provider owner, ACL admin, pool admin, risk admin, emergency admin, asset-listing admin) and treasury. */
  deployerKey: `0x${string}`;
  /** An existing ERC20 (the treasury's USDC-like token, 6 decimals on our devnet) to list as a reserve; its decimals() and symbol() are read. */
  asset: `0x${string}`;
  /** A Chainlink-style aggregator (latestAnswer, 8 decimals, USD); default: deploy Aave's MockAggregator at 1e8 ($1). */
  assetPriceFeed?: `0x${string}`;
  /** Overrides of DEFAULT_USDC_RESERVE. */
  reserve?: Partial<AaveReserveParams>;
  /**
   * A second, collateral-only-ish reserve borrowers post collateral in (default: Aave's MintableERC20 "WETH", 18
   * decimals, MockAggregator at $3000, LTV 80%, liq. threshold 82.5%, bonus 105%). `priceUsd8`: USD price with 8
   * decimals (3000e8 = $3000).
   */
  collateral?: { symbol?: string; priceUsd8?: bigint };
  log?: (msg: string) => void;
}

/** Addresses of one Aave v3 deployment (all checksummed). */
export interface AaveV3Deployment {
  addressesProvider: Address;
  /** The Pool proxy (call with `aavePoolAbi`). */
  pool: Address;
  /** The PoolConfigurator proxy (call with `aavePoolConfiguratorAbi`). */
  poolConfigurator: Address;
  aclManager: Address;
  /** AaveOracle (USD base currency, 8 decimals). */
  oracle: Address;
  /** AaveProtocolDataProvider. */
  dataProvider: Address;
  /** The listed asset (as given). */
  asset: Address;
  /** The asset's aToken proxy. */
  aToken: Address;
  variableDebtToken: Address;
  stableDebtToken: Address;
  /** The asset's DefaultReserveInterestRateStrategy. */
  rateStrategy: Address;
  /** The asset's price source in the oracle (given, or the deployed MockAggregator). */
  assetPriceFeed: Address;
  /** The collateral token (MintableERC20; anyone may mint). */
  collateralAsset: Address;
  collateralAToken: Address;
  /** The collateral's MockAggregator. */
  collateralPriceFeed: Address;
}

// ---------------------------------------------------------------------------------------------------------------
// Artifacts

/** Shape of a Hardhat artifact in `@aave/core-v3/artifacts` (the fields used here). */
export interface AaveArtifact {
  contractName: string;
  sourceName: string;
  abi: Abi;
  /** Creation bytecode, 0x-prefixed, with `__$…$__` placeholders where libraries are linked. */
  bytecode: Hex;
  /** source file → library name → byte offsets (into `bytecode` without 0x) of 20-byte placeholders. */
  linkReferences: Record<string, Record<string, { start: number; length: number }[]>>;
}

/** Source files (under the package's `contracts/`) of the Aave contracts this module deploys or calls. */
const AAVE_SOURCES = {
  PoolAddressesProvider: 'protocol/configuration/PoolAddressesProvider.sol',
  ACLManager: 'protocol/configuration/ACLManager.sol',
  Pool: 'protocol/pool/Pool.sol',
  PoolConfigurator: 'protocol/pool/PoolConfigurator.sol',
  DefaultReserveInterestRateStrategy: 'protocol/pool/DefaultReserveInterestRateStrategy.sol',
  AaveOracle: 'misc/AaveOracle.sol',
  AaveProtocolDataProvider: 'misc/AaveProtocolDataProvider.sol',
  AToken: 'protocol/tokenization/AToken.sol',
  StableDebtToken: 'protocol/tokenization/StableDebtToken.sol',
  VariableDebtToken: 'protocol/tokenization/VariableDebtToken.sol',
  MintableERC20: 'mocks/tokens/MintableERC20.sol',
  MockAggregator: 'mocks/oracle/CLAggregators/MockAggregator.sol',
} as const;

/** Names of the Aave contracts `loadAaveArtifact` knows by name. */
export type AaveContractName = keyof typeof AAVE_SOURCES;

let aaveDirCache: string | undefined;
/**
 * Directory of the installed `@aave/core-v3` package (a devDependency).
 * @throws Error when the package is not installed (run `npm ci`).
 */
export function aaveCoreDir(): string {
  if (aaveDirCache) return aaveDirCache;
  try {
    aaveDirCache = path.dirname(createRequire(import.meta.url).resolve('@aave/core-v3/package.json'));
  } catch {
    throw new Error('@aave/core-v3 is not installed (a devDependency of this repo): run `npm ci`');
  }
  return aaveDirCache;
}

const artifactCache = new Map<string, AaveArtifact>();
/** Loads `artifacts/<sourceName>/<name>.json` of @aave/core-v3 (sourceName like `contracts/protocol/pool/Pool.sol`). */
function loadArtifactAt(sourceName: string, name: string): AaveArtifact {
  const key = `${sourceName}:${name}`;
  const hit = artifactCache.get(key);
  if (hit) return hit;
  const file = path.join(aaveCoreDir(), 'artifacts', sourceName, `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`Aave artifact ${file} is missing: is @aave/core-v3@1.19.3 installed (npm ci)?`);
  const art = JSON.parse(fs.readFileSync(file, 'utf8')) as AaveArtifact;
  if (!art.bytecode?.startsWith('0x') || !Array.isArray(art.abi)) throw new Error(`Aave artifact ${file} has no abi/bytecode`);
  art.linkReferences ??= {};
  artifactCache.set(key, art);
  return art;
}

/**
 * The Hardhat artifact of an Aave v3 contract from `@aave/core-v3` (cached).
 * @throws Error when the package or the artifact is missing.
 * @example loadAaveArtifact('Pool').linkReferences
 */
export function loadAaveArtifact(name: AaveContractName): AaveArtifact {
  return loadArtifactAt(`contracts/${AAVE_SOURCES[name]}`, name);
}

/** Pool (IPool: supply, borrow, withdraw, repay, getReserveData, getReservesList, getReserveNormalizedIncome, …). */
export const aavePoolAbi: Abi = loadAaveArtifact('Pool').abi;
/** PoolConfigurator (initReserves, configureReserveAsCollateral, setReserveFreeze, setReservePause, caps, …). */
export const aavePoolConfiguratorAbi: Abi = loadAaveArtifact('PoolConfigurator').abi;
/** PoolAddressesProvider (getPool, getPoolConfigurator, getPriceOracle, getACLManager, …). */
export const aavePoolAddressesProviderAbi: Abi = loadAaveArtifact('PoolAddressesProvider').abi;
/** ACLManager (addPoolAdmin, isPoolAdmin, addRiskAdmin, …). */
export const aaveAclManagerAbi: Abi = loadAaveArtifact('ACLManager').abi;
/** AaveOracle (getAssetPrice in USD, 8 decimals; getSourceOfAsset). */
export const aaveOracleAbi: Abi = loadAaveArtifact('AaveOracle').abi;
/** AaveProtocolDataProvider (getReserveConfigurationData, getReserveCaps, getReserveData, getUserReserveData, …). */
export const aaveProtocolDataProviderAbi: Abi = loadAaveArtifact('AaveProtocolDataProvider').abi;
/** AToken (ERC20 + scaledBalanceOf, UNDERLYING_ASSET_ADDRESS, RESERVE_TREASURY_ADDRESS, …). */
export const aaveATokenAbi: Abi = loadAaveArtifact('AToken').abi;
/** VariableDebtToken (balanceOf/totalSupply with accrued interest, scaledTotalSupply, …). */
export const aaveVariableDebtTokenAbi: Abi = loadAaveArtifact('VariableDebtToken').abi;
/** StableDebtToken. */
export const aaveStableDebtTokenAbi: Abi = loadAaveArtifact('StableDebtToken').abi;
/** DefaultReserveInterestRateStrategy (OPTIMAL_USAGE_RATIO, getBaseVariableBorrowRate, getVariableRateSlope1/2, calculateInterestRates). */
export const aaveRateStrategyAbi: Abi = loadAaveArtifact('DefaultReserveInterestRateStrategy').abi;
/** Aave's MintableERC20 mock (ERC20 + permissionless `mint(uint256)` to the caller and `mint(address,uint256)`). */
export const aaveMintableErc20Abi: Abi = loadAaveArtifact('MintableERC20').abi;
/** Aave's MockAggregator (Chainlink-style `latestAnswer()`, fixed at construction). */
export const aaveMockAggregatorAbi: Abi = loadAaveArtifact('MockAggregator').abi;

const PLACEHOLDER = /__\$[0-9a-fA-F]{34}\$__/;

/**
 * `art.bytecode` with its library placeholders replaced by `libraries[`${source}:${name}`]`.
 * @throws Error naming a library with no address, or when a placeholder is left.
 */
function linkBytecode(art: AaveArtifact, libraries: Map<string, Address>): Hex {
  let code = art.bytecode.slice(2);
  for (const [source, libs] of Object.entries(art.linkReferences)) {
    for (const [name, refs] of Object.entries(libs)) {
      const address = libraries.get(`${source}:${name}`);
      if (!address) throw new Error(`Aave ${art.contractName}: library ${name} (${source}) is not deployed`);
      const hex = address.slice(2).toLowerCase();
      for (const { start, length } of refs) {
        if (length !== 20) throw new Error(`Aave ${art.contractName}: link reference of ${name} has length ${length}, expected 20`);
        code = code.slice(0, start * 2) + hex + code.slice((start + length) * 2);
      }
    }
  }
  if (PLACEHOLDER.test(code)) throw new Error(`Aave ${art.contractName}: unlinked library placeholder left in bytecode`);
  return `0x${code}`;
}

/**
 * Libraries the given artifacts need, recursively (libraries linking libraries, e.g. FlashLoanLogic → BorrowLogic),
 * grouped by depth: level 0 links nothing, level n links only libraries of levels < n.
 * @throws Error on a cyclic link reference.
 */
function libraryLevels(roots: AaveArtifact[]): { key: string; art: AaveArtifact }[][] {
  const level = new Map<string, number>();
  const arts = new Map<string, AaveArtifact>();
  const visit = (source: string, name: string, stack: string[]): number => {
    const key = `${source}:${name}`;
    const known = level.get(key);
    if (known !== undefined) return known;
    if (stack.includes(key)) throw new Error(`Aave libraries link each other in a cycle: ${[...stack, key].join(' → ')}`);
    const art = loadArtifactAt(source, name);
    let lvl = 0;
    for (const [s, libs] of Object.entries(art.linkReferences)) {
      for (const n of Object.keys(libs)) lvl = Math.max(lvl, visit(s, n, [...stack, key]) + 1);
    }
    level.set(key, lvl);
    arts.set(key, art);
    return lvl;
  };
  for (const root of roots) {
    for (const [s, libs] of Object.entries(root.linkReferences)) for (const n of Object.keys(libs)) visit(s, n, [root.contractName]);
  }
  const out: { key: string; art: AaveArtifact }[][] = [];
  for (const [key, lvl] of [...level.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    (out[lvl] ??= []).push({ key, art: arts.get(key)! });
  }
  return Array.from(out, (l) => l ?? []); // Array.from fills holes (levels with no library)
}

// ---------------------------------------------------------------------------------------------------------------
// Clients and transactions

type Wallet = WalletClient<Transport, Chain, Account>;
type Pub = PublicClient<Transport, Chain>;

interface Ctx {
  pub: Pub;
  where: string;
  log: (msg: string) => void;
}

function clients(rpcUrl: string, chainId: number): { chain: Chain; pub: Pub; wallet: (key: Hex) => Wallet } {
  const chain = defineChain({
    id: chainId,
    name: `aave-devnet-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl);
  return {
    chain,
    pub: createPublicClient({ chain, transport, pollingInterval: 20 }),
    wallet: (key) => createWalletClient({ account: privateKeyToAccount(key), chain, transport, pollingInterval: 20 }),
  };
}

async function checkChainId(pub: Pub, rpcUrl: string, chainId: number, what: string): Promise<void> {
  const actual = await pub.getChainId();
  if (actual !== chainId) throw new Error(`${what}: ${rpcUrl} reports chain id ${actual}, expected ${chainId}`);
}

/** The revert reason / custom error of a viem error, else its short message. */
function revertReason(err: unknown): string {
  if (err instanceof BaseError) {
    const rev = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (rev instanceof ContractFunctionRevertedError) {
      if (rev.reason) return `reverted: ${rev.reason}`;
      if (rev.data?.errorName) return `reverted: ${rev.data.errorName}`;
    }
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

/** One transaction of a wave: a contract creation or a contract call. */
type Step =
  | { label: string; deploy: { abi: Abi; bytecode: Hex; args: readonly unknown[] }; wallet: Wallet }
  | { label: string; call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }; wallet: Wallet };

/**
 * Runs independent steps: simulates all (eth_call against the latest state), sends them back to back (nonces from
 * the pending state) and waits for every receipt. Returns each step's created contract address (undefined for calls).
 * @throws Error naming the step and the chain when a simulation or a transaction reverts.
 */
async function wave(ctx: Ctx, steps: Step[]): Promise<(Address | undefined)[]> {
  const fail = (label: string, what: string, err?: unknown): Error =>
    new Error(`Aave v3 on ${ctx.where}: ${what} "${label}" failed${err === undefined ? '' : `: ${revertReason(err)}`}`);
  const prepared = await Promise.all(
    steps.map(async (s) => {
      try {
        if ('deploy' in s) {
          const data = encodeDeployData(s.deploy);
          await ctx.pub.call({ account: s.wallet.account, data });
          return { data };
        }
        const { request } = await ctx.pub.simulateContract({ account: s.wallet.account, ...s.call });
        return { request };
      } catch (err) {
        throw fail(s.label, 'simulating', err);
      }
    }),
  );
  const hashes: Hex[] = [];
  for (const [i, s] of steps.entries()) {
    const p = prepared[i]!;
    try {
      if ('data' in p && p.data) {
        hashes.push(await s.wallet.sendTransaction({ data: p.data }));
      } else {
        // Gas: the estimate + 25% (Aave's Pool costs more when mined a second after it was estimated).
        const request = (p as { request: Parameters<Wallet['writeContract']>[0] }).request;
        hashes.push(await s.wallet.writeContract({ ...request, gas: await estimateWithHeadroom(ctx.pub, request) }));
      }
    } catch (err) {
      throw fail(s.label, 'sending', err);
    }
  }
  return Promise.all(
    hashes.map(async (hash, i) => {
      const s = steps[i]!;
      const receipt = await ctx.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
      if (receipt.status !== 'success') throw fail(s.label, `transaction ${hash}`);
      if ('deploy' in s) {
        if (!receipt.contractAddress) throw fail(s.label, `deployment ${hash} (no contract address)`);
        const address = getAddress(receipt.contractAddress);
        ctx.log(`[aave ${ctx.where}] ${s.label} at ${address}`);
        return address;
      }
      return undefined;
    }),
  );
}

function checkParams(p: AaveReserveParams, what: string): void {
  const bad = (msg: string) => new Error(`deployAaveV3: ${what} ${msg}`);
  if (p.optimalUsageRatioRay <= 0n || p.optimalUsageRatioRay > AAVE_RAY) throw bad(`optimalUsageRatioRay ${p.optimalUsageRatioRay} must be in (0, 1e27]`);
  for (const k of ['baseVariableBorrowRateRay', 'variableRateSlope1Ray', 'variableRateSlope2Ray'] as const) {
    if (p[k] < 0n) throw bad(`${k} ${p[k]} must be >= 0`);
  }
  if (p.reserveFactorBps < 0n || p.reserveFactorBps > 10_000n) throw bad(`reserveFactorBps ${p.reserveFactorBps} must be in [0, 10000]`);
  for (const k of ['supplyCapTokens', 'borrowCapTokens'] as const) {
    if (p[k] < 0n || p[k] > AAVE_MAX_CAP_TOKENS) throw bad(`${k} ${p[k]} must be in [0, ${AAVE_MAX_CAP_TOKENS}] (whole tokens)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Deployment

/**
 * Deploys Aave v3 (real `@aave/core-v3` 1.19.3 bytecode) on the chain at `opts.rpcUrl` and lists `opts.asset` as a
 * borrowable reserve (rate strategy and risk parameters: DEFAULT_USDC_RESERVE overridden by `opts.reserve`) next to
 * a collateral reserve (DEFAULT_COLLATERAL_RESERVE: a fresh MintableERC20, 18 decimals, priced by a MockAggregator).
 * The listed asset gets LTV 0 (not collateral), borrowing enabled (variable rate only), the reserve factor and caps.
 * About 35 transactions from `deployerKey`; ~1 s on anvil automine.
 * @returns the addresses (AaveV3Deployment).
 * @throws Error when the node's chain id is not `opts.chainId`, a reserve parameter is out of Aave's range, the
 *   asset does not answer decimals()/symbol(), or any simulation/transaction reverts (the message names the step
 *   and the chain).
 * @example
 *   const aave = await deployAaveV3({ rpcUrl, chainId: 31337, deployerKey: DEVNET_ACCOUNTS.deployer, asset: usdc });
 *   await readAaveReserve({ rpcUrl, chainId: 31337, deployment: aave });
 */
export async function deployAaveV3(opts: DeployAaveV3Options): Promise<AaveV3Deployment> {
  const log = opts.log ?? (() => {});
  const where = `chain ${opts.chainId} (${opts.rpcUrl})`;
  const reserve: AaveReserveParams = { ...DEFAULT_USDC_RESERVE, ...opts.reserve };
  checkParams(reserve, 'reserve');
  const coll = { ...DEFAULT_COLLATERAL_RESERVE, symbol: opts.collateral?.symbol ?? 'WETH', priceUsd8: opts.collateral?.priceUsd8 ?? 3000n * 10n ** 8n };
  if (coll.priceUsd8 <= 0n) throw new Error(`deployAaveV3: collateral priceUsd8 ${coll.priceUsd8} must be > 0`);
  const started = Date.now();
  const { pub, wallet } = clients(opts.rpcUrl, opts.chainId);
  await checkChainId(pub, opts.rpcUrl, opts.chainId, 'deployAaveV3');
  const ctx: Ctx = { pub, where, log };
  const w = wallet(opts.deployerKey);
  const admin = w.account.address;
  const asset = getAddress(opts.asset);

  let assetDecimals: number;
  let assetSymbol: string;
  try {
    [assetDecimals, assetSymbol] = await Promise.all([
      pub.readContract({ address: asset, abi: erc20Abi, functionName: 'decimals' }),
      pub.readContract({ address: asset, abi: erc20Abi, functionName: 'symbol' }),
    ]);
  } catch (err) {
    throw new Error(`Aave v3 on ${where}: asset ${asset} does not answer decimals()/symbol(): ${revertReason(err)}`);
  }

  const art = (n: AaveContractName) => loadAaveArtifact(n);
  const deployStep = (label: string, name: AaveContractName, args: readonly unknown[], bytecode?: Hex): Step => ({
    label,
    deploy: { abi: art(name).abi, bytecode: bytecode ?? art(name).bytecode, args },
    wallet: w,
  });
  const callStep = (label: string, address: Address, abi: Abi, functionName: string, args: readonly unknown[]): Step => ({
    label,
    call: { address, abi, functionName, args },
    wallet: w,
  });
  const read = async <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []): Promise<T> =>
    (await pub.readContract({ address, abi, functionName, args })) as T;

  // Wave 1: libraries that link nothing, the provider, the collateral token and the price feeds.
  const levels = libraryLevels([art('Pool'), art('PoolConfigurator')]);
  const libraries = new Map<string, Address>();
  const libStep = (l: { key: string; art: AaveArtifact }): Step => ({
    label: l.art.contractName,
    deploy: { abi: l.art.abi, bytecode: linkBytecode(l.art, libraries), args: [] },
    wallet: w,
  });
  const lib0 = levels[0] ?? [];
  const w1 = await wave(ctx, [
    ...lib0.map(libStep),
    deployStep('PoolAddressesProvider', 'PoolAddressesProvider', [AAVE_DEVNET_MARKET_ID, admin]),
    deployStep(`collateral MintableERC20 ${coll.symbol}`, 'MintableERC20', [coll.symbol, coll.symbol, 18]),
    deployStep(`MockAggregator ${coll.symbol}/USD`, 'MockAggregator', [coll.priceUsd8]),
    ...(opts.assetPriceFeed ? [] : [deployStep(`MockAggregator ${assetSymbol}/USD`, 'MockAggregator', [10n ** 8n])]),
  ]);
  lib0.forEach((l, i) => libraries.set(l.key, w1[i]!));
  const [provider, collateralAsset, collateralPriceFeed, assetFeed] = w1.slice(lib0.length) as Address[];
  const assetPriceFeed = opts.assetPriceFeed ? getAddress(opts.assetPriceFeed) : assetFeed!;

  // Wave 2: libraries linking libraries, the ACL admin, and everything that only needs the provider's address.
  const rateArgs = (p: AaveReserveParams) => [
    provider,
    p.optimalUsageRatioRay,
    p.baseVariableBorrowRateRay,
    p.variableRateSlope1Ray,
    p.variableRateSlope2Ray,
    STABLE_RATE_PARAMS.stableRateSlope1,
    STABLE_RATE_PARAMS.stableRateSlope2,
    STABLE_RATE_PARAMS.baseStableRateOffset,
    STABLE_RATE_PARAMS.stableRateExcessOffset,
    STABLE_RATE_PARAMS.optimalStableToTotalDebtRatio,
  ];
  const lib1 = levels[1] ?? [];
  const w2 = await wave(ctx, [
    ...lib1.map(libStep),
    callStep('PoolAddressesProvider.setACLAdmin', provider!, aavePoolAddressesProviderAbi, 'setACLAdmin', [admin]),
    deployStep(`DefaultReserveInterestRateStrategy ${assetSymbol}`, 'DefaultReserveInterestRateStrategy', rateArgs(reserve)),
    deployStep(`DefaultReserveInterestRateStrategy ${coll.symbol}`, 'DefaultReserveInterestRateStrategy', rateArgs(coll)),
    deployStep('AaveProtocolDataProvider', 'AaveProtocolDataProvider', [provider]),
    deployStep('AaveOracle', 'AaveOracle', [provider, [asset, collateralAsset], [assetPriceFeed, collateralPriceFeed], zeroAddress, zeroAddress, 10n ** 8n]),
  ]);
  lib1.forEach((l, i) => libraries.set(l.key, w2[i]!));
  const [, rateStrategy, collateralRateStrategy, dataProvider, oracle] = w2.slice(lib1.length) as Address[];
  for (const lvl of levels.slice(2)) {
    const addrs = await wave(ctx, lvl.map(libStep));
    lvl.forEach((l, i) => libraries.set(l.key, addrs[i]!));
  }

  // Wave 3: ACLManager (reads the ACL admin) and the implementations with linked libraries.
  const [aclManager, poolImpl, configuratorImpl] = (await wave(ctx, [
    deployStep('ACLManager', 'ACLManager', [provider]),
    deployStep('Pool implementation', 'Pool', [provider], linkBytecode(art('Pool'), libraries)),
    deployStep('PoolConfigurator implementation', 'PoolConfigurator', [], linkBytecode(art('PoolConfigurator'), libraries)),
  ])) as Address[];

  // Wave 4: ACL, roles, the Pool proxy (the provider creates and initializes it), oracle, data provider.
  await wave(ctx, [
    callStep('PoolAddressesProvider.setACLManager', provider!, aavePoolAddressesProviderAbi, 'setACLManager', [aclManager]),
    callStep('ACLManager.addPoolAdmin', aclManager!, aaveAclManagerAbi, 'addPoolAdmin', [admin]),
    callStep('ACLManager.addRiskAdmin', aclManager!, aaveAclManagerAbi, 'addRiskAdmin', [admin]),
    callStep('ACLManager.addEmergencyAdmin', aclManager!, aaveAclManagerAbi, 'addEmergencyAdmin', [admin]),
    callStep('ACLManager.addAssetListingAdmin', aclManager!, aaveAclManagerAbi, 'addAssetListingAdmin', [admin]),
    callStep('PoolAddressesProvider.setPoolImpl', provider!, aavePoolAddressesProviderAbi, 'setPoolImpl', [poolImpl]),
    callStep('PoolAddressesProvider.setPriceOracle', provider!, aavePoolAddressesProviderAbi, 'setPriceOracle', [oracle]),
    callStep('PoolAddressesProvider.setPoolDataProvider', provider!, aavePoolAddressesProviderAbi, 'setPoolDataProvider', [dataProvider]),
  ]);
  const pool = getAddress(await read<Address>(provider!, aavePoolAddressesProviderAbi, 'getPool'));
  if (pool === zeroAddress) throw new Error(`Aave v3 on ${where}: PoolAddressesProvider.getPool() is zero after setPoolImpl`);
  log(`[aave ${where}] Pool proxy at ${pool}`);

  // Wave 5: the configurator proxy (its initialize reads getPool) and the token implementations (bound to the pool).
  const [, aTokenImpl, stableDebtImpl, variableDebtImpl] = (await wave(ctx, [
    callStep('PoolAddressesProvider.setPoolConfiguratorImpl', provider!, aavePoolAddressesProviderAbi, 'setPoolConfiguratorImpl', [configuratorImpl]),
    deployStep('AToken implementation', 'AToken', [pool]),
    deployStep('StableDebtToken implementation', 'StableDebtToken', [pool]),
    deployStep('VariableDebtToken implementation', 'VariableDebtToken', [pool]),
  ])) as Address[];
  const poolConfigurator = getAddress(await read<Address>(provider!, aavePoolAddressesProviderAbi, 'getPoolConfigurator'));
  log(`[aave ${where}] PoolConfigurator proxy at ${poolConfigurator}`);

  // Wave 6: list both reserves.
  const initInput = (underlying: Address, decimals: number, symbol: string, strategy: Address) => ({
    aTokenImpl,
    stableDebtTokenImpl: stableDebtImpl,
    variableDebtTokenImpl: variableDebtImpl,
    underlyingAssetDecimals: decimals,
    interestRateStrategyAddress: strategy,
    underlyingAsset: underlying,
    treasury: admin,
    incentivesController: zeroAddress,
    aTokenName: `Aave Devnet ${symbol}`,
    aTokenSymbol: `aDev${symbol}`,
    variableDebtTokenName: `Aave Devnet Variable Debt ${symbol}`,
    variableDebtTokenSymbol: `variableDebtDev${symbol}`,
    stableDebtTokenName: `Aave Devnet Stable Debt ${symbol}`,
    stableDebtTokenSymbol: `stableDebtDev${symbol}`,
    params: '0x' as Hex,
  });
  await wave(ctx, [
    callStep('PoolConfigurator.initReserves', poolConfigurator, aavePoolConfiguratorAbi, 'initReserves', [
      [initInput(asset, assetDecimals, assetSymbol, rateStrategy!), initInput(collateralAsset!, 18, coll.symbol, collateralRateStrategy!)],
    ]),
  ]);

  // Wave 7: risk parameters.
  const cfg = (label: string, fn: string, args: readonly unknown[]) => callStep(`PoolConfigurator.${label}`, poolConfigurator, aavePoolConfiguratorAbi, fn, args);
  await wave(ctx, [
    cfg(`configureReserveAsCollateral(${coll.symbol})`, 'configureReserveAsCollateral', [collateralAsset, coll.ltvBps, coll.liquidationThresholdBps, coll.liquidationBonusBps]),
    cfg(`setReserveFactor(${coll.symbol})`, 'setReserveFactor', [collateralAsset, coll.reserveFactorBps]),
    cfg(`setReserveBorrowing(${assetSymbol})`, 'setReserveBorrowing', [asset, true]),
    cfg(`setReserveFactor(${assetSymbol})`, 'setReserveFactor', [asset, reserve.reserveFactorBps]),
    cfg(`setSupplyCap(${assetSymbol})`, 'setSupplyCap', [asset, reserve.supplyCapTokens]),
    cfg(`setBorrowCap(${assetSymbol})`, 'setBorrowCap', [asset, reserve.borrowCapTokens]),
  ]);

  const [assetData, collData] = await Promise.all([
    read<AaveReserveData>(pool, aavePoolAbi, 'getReserveData', [asset]),
    read<AaveReserveData>(pool, aavePoolAbi, 'getReserveData', [collateralAsset]),
  ]);
  const deployment: AaveV3Deployment = {
    addressesProvider: provider!,
    pool,
    poolConfigurator,
    aclManager: aclManager!,
    oracle: oracle!,
    dataProvider: dataProvider!,
    asset,
    aToken: getAddress(assetData.aTokenAddress),
    variableDebtToken: getAddress(assetData.variableDebtTokenAddress),
    stableDebtToken: getAddress(assetData.stableDebtTokenAddress),
    rateStrategy: rateStrategy!,
    assetPriceFeed,
    collateralAsset: collateralAsset!,
    collateralAToken: getAddress(collData.aTokenAddress),
    collateralPriceFeed: collateralPriceFeed!,
  };
  log(`[aave ${where}] Aave v3 deployed, ${assetSymbol} listed (aToken ${deployment.aToken}) in ${Date.now() - started} ms`);
  return deployment;
}

/**
 * Deploys Aave's `MintableERC20` mock (anyone may mint: `mint(uint256)` to the caller, `mint(address,uint256)`), e.g.
 * as a USDC stand-in ("USDC", 6 decimals).
 * @returns the token's address.
 * @throws Error naming the chain when the chain id does not match or the deployment reverts.
 */
export async function deployMintableErc20(opts: {
  rpcUrl: string;
  chainId: number;
  deployerKey: `0x${string}`;
  name: string;
  symbol: string;
  decimals: number;
}): Promise<Address> {
  const { pub, wallet } = clients(opts.rpcUrl, opts.chainId);
  await checkChainId(pub, opts.rpcUrl, opts.chainId, 'deployMintableErc20');
  const art = loadAaveArtifact('MintableERC20');
  const [address] = await wave({ pub, where: `chain ${opts.chainId} (${opts.rpcUrl})`, log: () => {} }, [
    { label: `MintableERC20 ${opts.symbol}`, deploy: { abi: art.abi, bytecode: art.bytecode, args: [opts.name, opts.symbol, opts.decimals] }, wallet: wallet(opts.deployerKey) },
  ]);
  return address!;
}

/**
 * Mints collateral to `borrowerKey`'s account (MintableERC20.mint as that account), supplies it to the Pool, so it
 * can borrow the asset (the first supply of an asset with LTV > 0 enables it as collateral). `collateralAmount` in the
 * collateral token's base units (18 decimals by default: 10n ** 18n = 1 WETH, worth $3000 at the default price).
 * @throws Error naming the step and the chain when a simulation or transaction reverts (e.g. the reserve is frozen).
 * @example await fundBorrower({ rpcUrl, chainId, deployment, borrowerKey: DEVNET_ACCOUNTS.market, collateralAmount: 300n * 10n ** 18n });
 */
export async function fundBorrower(opts: {
  rpcUrl: string;
  chainId: number;
  deployment: AaveV3Deployment;
  borrowerKey: `0x${string}`;
  collateralAmount: bigint;
}): Promise<void> {
  const { pub, wallet } = clients(opts.rpcUrl, opts.chainId);
  await checkChainId(pub, opts.rpcUrl, opts.chainId, 'fundBorrower');
  const ctx: Ctx = { pub, where: `chain ${opts.chainId} (${opts.rpcUrl})`, log: () => {} };
  const w = wallet(opts.borrowerKey);
  const { collateralAsset, pool } = opts.deployment;
  const amount = opts.collateralAmount;
  await wave(ctx, [
    { label: 'collateral mint', call: { address: collateralAsset, abi: aaveMintableErc20Abi, functionName: 'mint', args: [amount] }, wallet: w },
    { label: 'collateral approve(Pool)', call: { address: collateralAsset, abi: aaveMintableErc20Abi, functionName: 'approve', args: [pool, amount] }, wallet: w },
  ]);
  await wave(ctx, [
    { label: 'Pool.supply(collateral)', call: { address: pool, abi: aavePoolAbi, functionName: 'supply', args: [collateralAsset, amount, w.account.address, 0] }, wallet: w },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** `DataTypes.ReserveData` as `Pool.getReserveData` returns it (Aave v3.0.2). Rates and indexes in ray. */
export interface AaveReserveData {
  configuration: { data: bigint };
  liquidityIndex: bigint;
  currentLiquidityRate: bigint;
  variableBorrowIndex: bigint;
  currentVariableBorrowRate: bigint;
  currentStableBorrowRate: bigint;
  lastUpdateTimestamp: number;
  id: number;
  aTokenAddress: Address;
  stableDebtTokenAddress: Address;
  variableDebtTokenAddress: Address;
  interestRateStrategyAddress: Address;
  accruedToTreasury: bigint;
  unbacked: bigint;
  isolationModeTotalDebt: bigint;
}

/** The reserve's state as `readAaveReserve` returns it; all reads at one block (`blockNumber`). */
export interface AaveReserveState {
  /** aToken totalSupply (principal + accrued supply interest), asset base units. */
  totalSupply: bigint;
  /** Variable debt token totalSupply (with accrued interest), asset base units. */
  totalVariableDebt: bigint;
  /** asset.balanceOf(aToken): what can be withdrawn or borrowed now, base units. */
  availableLiquidity: bigint;
  /** totalVariableDebt · 10000 / (availableLiquidity + totalVariableDebt), floor; 0 when both are 0. */
  utilizationBps: bigint;
  /** Supply rate per year, ray (as of the reserve's last update). */
  liquidityRateRay: bigint;
  /** Variable borrow rate per year, ray (as of the reserve's last update). */
  variableBorrowRateRay: bigint;
  /** Whole tokens; 0 = no cap. */
  supplyCapTokens: bigint;
  /** Whole tokens; 0 = no cap. */
  borrowCapTokens: bigint;
  frozen: boolean;
  paused: boolean;
  active: boolean;
  /** aToken balance of `holder` (base units), when a holder was given. */
  holderATokenBalance?: bigint;
  /** Extra: reserve factor, bps. */
  reserveFactorBps: bigint;
  /** Extra: whether variable borrowing is enabled. */
  borrowingEnabled: boolean;
  /** Extra: liquidity index and variable borrow index, ray (as of the last update). */
  liquidityIndexRay: bigint;
  variableBorrowIndexRay: bigint;
  /** Extra: unix seconds of the reserve's last update (the rates above were computed then). */
  lastUpdateTimestamp: bigint;
  /** Extra: the block all figures were read at. */
  blockNumber: bigint;
}

/**
 * The reserve's state as the keeper will read it: from Pool.getReserveData(asset) (rates, the configuration bitmap
 * decoded by chains/evm/aaveReserve.ts `decodeReserveConfiguration`)
 * and the token contracts, all at the latest block number read once first.
 * @returns AaveReserveState (base units of the asset, rates in ray, caps in whole tokens).
 * @throws Error naming the chain when the chain id does not match; viem errors when a read fails.
 * @example const r = await readAaveReserve({ rpcUrl, chainId, deployment, holder: supplier }); r.utilizationBps
 */
export async function readAaveReserve(opts: {
  rpcUrl: string;
  chainId: number;
  deployment: AaveV3Deployment;
  holder?: Address;
}): Promise<AaveReserveState> {
  const { pub } = clients(opts.rpcUrl, opts.chainId);
  const [chainId, blockNumber] = await Promise.all([pub.getChainId(), pub.getBlockNumber()]);
  if (chainId !== opts.chainId) throw new Error(`readAaveReserve: ${opts.rpcUrl} reports chain id ${chainId}, expected ${opts.chainId}`);
  const d = opts.deployment;
  const [data, totalSupply, totalVariableDebt, availableLiquidity, holderATokenBalance] = await Promise.all([
    pub.readContract({ address: d.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [d.asset], blockNumber }) as Promise<AaveReserveData>,
    pub.readContract({ address: d.aToken, abi: erc20Abi, functionName: 'totalSupply', blockNumber }),
    pub.readContract({ address: d.variableDebtToken, abi: erc20Abi, functionName: 'totalSupply', blockNumber }),
    pub.readContract({ address: d.asset, abi: erc20Abi, functionName: 'balanceOf', args: [d.aToken], blockNumber }),
    opts.holder ? pub.readContract({ address: d.aToken, abi: erc20Abi, functionName: 'balanceOf', args: [opts.holder], blockNumber }) : undefined,
  ]);
  const cfg = decodeReserveConfiguration(data.configuration.data);
  const denom = availableLiquidity + totalVariableDebt;
  return {
    totalSupply,
    totalVariableDebt,
    availableLiquidity,
    utilizationBps: denom === 0n ? 0n : (totalVariableDebt * 10_000n) / denom,
    liquidityRateRay: data.currentLiquidityRate,
    variableBorrowRateRay: data.currentVariableBorrowRate,
    supplyCapTokens: cfg.supplyCapTokens,
    borrowCapTokens: cfg.borrowCapTokens,
    frozen: cfg.frozen,
    paused: cfg.paused,
    active: cfg.active,
    ...(holderATokenBalance === undefined ? {} : { holderATokenBalance }),
    reserveFactorBps: cfg.reserveFactorBps,
    borrowingEnabled: cfg.borrowingEnabled,
    liquidityIndexRay: data.liquidityIndex,
    variableBorrowIndexRay: data.variableBorrowIndex,
    lastUpdateTimestamp: BigInt(data.lastUpdateTimestamp),
    blockNumber,
  };
}
