/**
 * The local devnet as one object: N anvil chains with every contract deployed and wired, the
 * LayerZero relayer service, the Wormhole devnet guardian service, and a generated keeper config.
 * Used by `ballast dev` and the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startAnvil, type AnvilInstance } from './anvil.js';
import { deployDevnet, type DevnetDeployment, type DevnetMarket } from './deploy.js';
import { DevnetGuardian, preloadWormholeSdk } from './guardian.js';
import { LayerZeroRelayer } from './relayer.js';
import { startSolanaDevnet, type SolanaDevnet } from './solanaDevnet.js';
import { exampleConfig, parseConfig, writeConfigFile, type BallastConfig, type BallastConfigInput } from '../config/index.js';

/** A devnet chain: key, EVM chain id, LayerZero eid and Wormhole chain id (each unique across the devnet). */
export interface DevnetChainSpec {
  key: string;
  chainId: number;
  eid: number;
  /** Wormhole chain id (a real one, e.g. 2, 23, 30); default `DEVNET_WORMHOLE_CHAIN_IDS[position]` (devnet/deploy.ts). */
  whChainId?: number;
  /** LayerZero native fee per message from this chain, wei (devnet/deploy.ts `lzNativeFeeWei`). */
  lzNativeFeeWei?: bigint;
}

/** The default three chains, named after the Aave v3 markets the market driver replays. */
export const DEFAULT_DEVNET_CHAINS: DevnetChainSpec[] = [
  // LayerZero from Ethereum costs more (L1 DVN + executor gas), so the planner's quotes send some moves out
  // of Ethereum over Wormhole (message fee + the keeper's relay gas) and the others over LayerZero.
  { key: 'ethereum', chainId: 31101, eid: 40101, whChainId: 2, lzNativeFeeWei: 500_000_000_000_000n },
  { key: 'arbitrum', chainId: 31110, eid: 40110, whChainId: 23 },
  { key: 'base', chainId: 31184, eid: 40184, whChainId: 30, lzNativeFeeWei: 300_000_000_000_000n },
];

export interface StartDevnetOptions {
  chains?: DevnetChainSpec[];
  /** Seconds between blocks; omit for automine (tests). */
  blockTimeSec?: number;
  /** Folder for logs and the generated config (created). */
  workDir: string;
  /** Temporal frontend address the generated config points at. */
  temporalAddress: string;
  /** Metrics port written into the config (0 = any free port). */
  metricsPort?: number;
  /** Overrides merged into the generated config (e.g. tick interval, delivery deadline). */
  configOverrides?: (c: BallastConfigInput) => BallastConfigInput;
  /** Relayer poll interval (default 100 ms: the devnet's stand-in for LayerZero's executor). */
  relayerPollMs?: number;
  /** Wormhole guardian poll interval (default 100 ms). */
  guardianPollMs?: number;
  /**
   * Also start a Solana chain (devnet/solanaDevnet.ts: LiteSVM JSON-RPC, SPL mint, reserve, treasury, Wormhole
   * custody, Pyth account) named `solana`, peered with every EVM chain over Wormhole, and configure it.
   */
  solana?: boolean;
  /**
   * Where the treasury's liquidity sits on the EVM chains (devnet/deploy.ts `market`): `vault` (default: the
   * CollateralVault) or `aave` (a real Aave v3 Pool per chain, the treasury's aTokens held by an AaveAllocator; the
   * generated config then has `chains[].aave`). Solana keeps its devnet reserve either way.
   */
  market?: DevnetMarket;
  /** With `market: 'aave'`: the third-party lender's supply per reserve, base units (devnet/deploy.ts `aaveLenderSupply`). */
  aaveLenderSupply?: bigint;
  log?: (msg: string) => void;
}

export interface Devnet {
  anvils: Record<string, AnvilInstance>;
  deployment: DevnetDeployment;
  relayer: LayerZeroRelayer;
  /** The Wormhole devnet guardian (observes every core, signs and serves VAAs). */
  guardian: DevnetGuardian;
  /** Base URL of the guardian's REST API (`GET /v1/signed_vaa/{chain}/{emitter}/{sequence}`). */
  guardianUrl: string;
  /** The Solana chain, when started (`solana: true`); the keeper's key for it is `devnetSolanaKeeperEnv()`. */
  solana?: SolanaDevnet;
  config: BallastConfig;
  configFile: string;
  /** Stops the guardian, the relayer and the chains. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the chains, deploys, starts the relayer and the Wormhole guardian and writes `<workDir>/ballast.devnet.yaml`.
 * On failure everything started so far is stopped before the error is rethrown.
 */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const log = opts.log ?? (() => {});
  const specs = opts.chains ?? DEFAULT_DEVNET_CHAINS;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const anvils: Record<string, AnvilInstance> = {};
  let relayer: LayerZeroRelayer | undefined;
  let guardian: DevnetGuardian | undefined;
  let solana: SolanaDevnet | undefined;
  const stop = async () => {
    if (solana) await solana.stop();
    if (guardian) await guardian.stop();
    if (relayer) await relayer.stop();
    await Promise.all(Object.values(anvils).map((a) => a.stop()));
  };
  // Load the Wormhole SDK (~3 s) while the chains start and deploy; failures surface in guardian.start().
  preloadWormholeSdk().catch(() => {});
  try {
    for (const s of specs) {
      anvils[s.key] = await startAnvil({ chainId: s.chainId, blockTimeSec: opts.blockTimeSec, logFile: path.join(opts.workDir, `anvil-${s.key}.log`) });
      log(`chain ${s.key} (chainId ${s.chainId}, eid ${s.eid}) at ${anvils[s.key]!.rpcUrl}`);
    }
    const deployment = await deployDevnet({
      chains: specs.map((s) => ({ chainKey: s.key, rpcUrl: anvils[s.key]!.rpcUrl, chainId: s.chainId, eid: s.eid, whChainId: s.whChainId, lzNativeFeeWei: s.lzNativeFeeWei })),
      market: opts.market ?? 'vault',
      ...(opts.aaveLenderSupply !== undefined ? { aaveLenderSupply: opts.aaveLenderSupply } : {}),
      log,
    });
    relayer = new LayerZeroRelayer({
      chains: Object.values(deployment.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, eid: c.eid, endpoint: c.contracts.endpoint, sendLib: c.contracts.sendLib })),
      pollIntervalMs: opts.relayerPollMs ?? 100,
      log,
    });
    relayer.start();
    log('LayerZero relayer (devnet DVN + executor) started');
    guardian = new DevnetGuardian({
      chains: Object.values(deployment.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, whChainId: c.whChainId, core: c.contracts.wormholeCore })),
      pollIntervalMs: opts.guardianPollMs ?? 100,
      log,
    });
    await guardian.start();
    const decimals = 6;
    if (opts.solana) {
      solana = await startSolanaDevnet({ decimals, initialLiquidity: 10_000_000n * 10n ** BigInt(decimals), deployment, guardian, log });
    }
    let input = exampleConfig({
      chains: Object.values(deployment.chains).map((c) => ({
        key: c.chainKey,
        chainId: c.chainId,
        rpcUrl: c.rpcUrl,
        eid: c.eid,
        contracts: { multicall3: c.contracts.multicall3, endpoint: c.contracts.endpoint, token: c.contracts.token, vault: c.contracts.vault, route: c.contracts.route, priceFeed: c.contracts.priceFeed },
        wormhole: { chainId: c.whChainId, core: c.contracts.wormholeCore, adapter: c.contracts.wormholeAdapter },
      })),
      wormhole: { guardianUrl: guardian.url, guardianSets: [{ index: 0, keys: [guardian.guardianAddress] }] },
    });
    input = { ...input, temporal: { address: opts.temporalAddress }, metrics: { port: opts.metricsPort ?? 0 } };
    // On an Aave market the keeper's collateral legs call the allocator and its tick reads the reserve (config
    // `chains[].aave`); capacity moves stay on `contracts.vault`.
    input = {
      ...input,
      chains: input.chains.map((ch) => {
        const a = deployment.chains[ch.key]?.contracts.aave;
        return a ? { ...ch, aave: { pool: a.pool, aToken: a.aToken, variableDebtToken: a.variableDebtToken, stableDebtToken: a.stableDebtToken, allocator: a.allocator } } : ch;
      }),
    };
    if (solana) {
      const evm = input.chains[0]!;
      input = {
        ...input,
        solana: {
          custodyUrl: solana.custodyUrl,
          chains: [{ key: solana.chainKey, rpcUrl: solana.rpcUrl, commitment: 'confirmed', accounts: solana.accounts, band: evm.band, minBuffer: evm.minBuffer, caps: evm.caps, oracle: { ...evm.oracle, maxConfBps: 100 }, priorityFeeMicroLamports: 1000 }],
        },
      };
    }
    // Both bridges quoted by the planner: Wormhole's fee is the core's message fee plus the keeper's relay gas.
    input = { ...input, bridges: { ...input.bridges, wormhole: { relayGas: 200_000, latencySec: 60, ...input.bridges?.wormhole } } };
    if (opts.configOverrides) input = opts.configOverrides(input);
    const configFile = path.join(opts.workDir, 'ballast.devnet.yaml');
    writeConfigFile(configFile, input);
    const config = parseConfig(input, configFile);
    log(`config written to ${configFile}`);
    return { anvils, deployment, relayer, guardian, guardianUrl: guardian.url, ...(solana ? { solana } : {}), config, configFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
