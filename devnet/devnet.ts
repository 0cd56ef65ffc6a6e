/**
 * The local devnet as one object: N anvil chains with every contract deployed and wired, the
 * LayerZero relayer service, and a generated keeper config. Used by `ballast dev` and the tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startAnvil, type AnvilInstance } from './anvil.js';
import { deployDevnet, type DevnetDeployment } from './deploy.js';
import { LayerZeroRelayer } from './relayer.js';
import { findFreePort } from './temporal.js';
import { exampleConfig, parseConfig, writeConfigFile, type BallastConfig, type BallastConfigInput } from '../config/index.js';

/** A devnet chain: key, EVM chain id and LayerZero eid (unique across the devnet). */
export interface DevnetChainSpec {
  key: string;
  chainId: number;
  eid: number;
}

/** The default three chains, named after the Aave v3 markets the market driver replays. */
export const DEFAULT_DEVNET_CHAINS: DevnetChainSpec[] = [
  { key: 'ethereum', chainId: 31101, eid: 40101 },
  { key: 'arbitrum', chainId: 31110, eid: 40110 },
  { key: 'base', chainId: 31184, eid: 40184 },
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
  /** Relayer poll interval (default 250 ms). */
  relayerPollMs?: number;
  log?: (msg: string) => void;
}

export interface Devnet {
  anvils: Record<string, AnvilInstance>;
  deployment: DevnetDeployment;
  relayer: LayerZeroRelayer;
  config: BallastConfig;
  configFile: string;
  /** Stops the relayer and the chains. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the chains, deploys, starts the relayer and writes `<workDir>/ballast.devnet.yaml`.
 * On failure everything started so far is stopped before the error is rethrown.
 */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const log = opts.log ?? (() => {});
  const specs = opts.chains ?? DEFAULT_DEVNET_CHAINS;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const anvils: Record<string, AnvilInstance> = {};
  let relayer: LayerZeroRelayer | undefined;
  const stop = async () => {
    if (relayer) await relayer.stop();
    await Promise.all(Object.values(anvils).map((a) => a.stop()));
  };
  try {
    for (const s of specs) {
      const port = await findFreePort();
      anvils[s.key] = await startAnvil({ port, chainId: s.chainId, blockTimeSec: opts.blockTimeSec, logFile: path.join(opts.workDir, `anvil-${s.key}.log`) });
      log(`chain ${s.key} (chainId ${s.chainId}, eid ${s.eid}) at ${anvils[s.key]!.rpcUrl}`);
    }
    const deployment = await deployDevnet({
      chains: specs.map((s) => ({ chainKey: s.key, rpcUrl: anvils[s.key]!.rpcUrl, chainId: s.chainId, eid: s.eid })),
      log,
    });
    relayer = new LayerZeroRelayer({
      chains: Object.values(deployment.chains).map((c) => ({ chainKey: c.chainKey, rpcUrl: c.rpcUrl, eid: c.eid, endpoint: c.contracts.endpoint, sendLib: c.contracts.sendLib })),
      pollIntervalMs: opts.relayerPollMs ?? 250,
      log,
    });
    relayer.start();
    log('LayerZero relayer (devnet DVN + executor) started');
    let input = exampleConfig({
      chains: Object.values(deployment.chains).map((c) => ({
        key: c.chainKey,
        chainId: c.chainId,
        rpcUrl: c.rpcUrl,
        eid: c.eid,
        contracts: { multicall3: c.contracts.multicall3, endpoint: c.contracts.endpoint, token: c.contracts.token, vault: c.contracts.vault, route: c.contracts.route, priceFeed: c.contracts.priceFeed },
      })),
    });
    input = { ...input, temporal: { address: opts.temporalAddress }, metrics: { port: opts.metricsPort ?? 0 } };
    if (opts.configOverrides) input = opts.configOverrides(input);
    const configFile = path.join(opts.workDir, 'ballast.devnet.yaml');
    writeConfigFile(configFile, input);
    const config = parseConfig(input, configFile);
    log(`config written to ${configFile}`);
    return { anvils, deployment, relayer, config, configFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
