/**
 * What the activities need at run time: one {@link ChainRuntime} per configured chain, metrics
 * and a logger. Built once per worker process from the config (see `keeper/runtime.ts`).
 */
import type { Address } from 'viem';
import type { Connection, Keypair, PublicKey } from '@solana/web3.js';
import type { SolanaAccounts } from '../chains/solana/readSolanaState.js';
import type { EvmClients } from '../chains/evm/clients.js';
import type { ChainPolicy } from '../planner/types.js';
import type { OracleLimits } from '../planner/oracle.js';
import type { BallastMetrics } from '../keeper/metrics.js';
import type { Logger } from '../keeper/logger.js';
import type { CapApprover } from './capApproval.js';
import type { CapRules } from '../workflows/caps.js';
import type { CapacitySettings, WormholeSettings } from '../config/capacity.js';
import type { AaveReserveAddresses } from '../chains/evm/aaveReserve.js';

/** Addresses of the Ballast and LayerZero contracts on one EVM chain. */
export interface ChainContracts {
  multicall3: Address;
  endpoint: Address;
  token: Address;
  vault: Address;
  route: Address;
  priceFeed: Address;
}

export interface ChainRuntime {
  chainKey: string;
  chainId: number;
  /** LayerZero endpoint id. */
  eid: number;
  contracts: ChainContracts;
  /** Clients with the keeper's signing account. */
  clients: EvmClients;
  policy: ChainPolicy;
  /** Staleness (s), deviation (bps) and the deviation guard's re-anchor rule (config `chains[].oracle`). */
  oracleLimits: OracleLimits;
  confirmations: number;
  /** Receipt wait per write, ms. */
  receiptTimeoutMs: number;
  /** Wormhole on this chain (config `chains[].wormhole`): its Wormhole chain id, the core and the token's adapter. */
  wormhole?: { chainId: number; core: Address; adapter: Address };
  /** The chain's liquidity is an Aave v3 reserve (config `chains[].aave`); `holder` is the treasury's AaveAllocator. */
  aave?: AaveReserveAddresses;
}

/**
 * The contract holding the treasury's liquidity on an EVM chain, which the keeper's collateral legs call
 * (`withdrawToRoute`, `depositFromRoute`, `outflowOf`, `inflowOf`, `outflowCap`: the same keeper ABI on both): the
 * AaveAllocator where the chain's liquidity is an Aave reserve, else the Ballast `CollateralVault`. The one place that
 * chooses between them.
 */
export function treasuryHolder(c: Pick<ChainRuntime, 'aave' | 'contracts'>): Address {
  return c.aave?.holder ?? c.contracts.vault;
}

/**
 * One Solana chain at run time (config `solana.chains[]`): the web3.js connection, the keeper's key (absent in
 * read-only contexts: every write then refuses), the accounts, and the chain's policy and limits.
 */
export interface SolanaChainRuntime {
  chainKey: string;
  connection: Connection;
  /** The keeper's Solana key (signs and pays); absent = read-only. */
  keeper?: Keypair;
  accounts: SolanaAccounts;
  /** The program that must own the Pyth price account (config `pythReceiverProgram`). */
  pythReceiver: PublicKey;
  /** Commitment of reads and of the confirmation every write waits for. */
  commitment: 'confirmed' | 'finalized';
  /** Wormhole chain id (1 on Solana). */
  wormholeChainId: number;
  policy: ChainPolicy;
  /** Staleness (s), deviation (bps) and re-anchor rule as on EVM chains, plus the widest Pyth confidence accepted (bps of the price). */
  oracleLimits: OracleLimits & { maxConfBps: number };
  /** Compute-unit price (micro-lamports) and limit of every transaction. */
  priorityFeeMicroLamports: number;
  computeUnitLimit: number;
  /** How long a write waits for its confirmation, ms. */
  confirmTimeoutMs: number;
  /** The asset's decimals (the mint's). */
  decimals: number;
}

/** One bridge's settings from config `bridges` (besides its quoted fee): see config/schema.ts. */
export interface BridgeSettings {
  /** Proportional fee, basis points (multiple of 0.01). */
  feeBps: number;
  /** Expected delivery latency, seconds (reported, not optimized). */
  latencySec: number;
  /** Largest amount one transfer may carry over this bridge (base units); absent = no limit of its own. */
  rateLimit?: bigint;
  /** Gas the keeper spends on the destination per message (Wormhole: `receiveMessage`), priced at its gas price. */
  relayGas?: number;
}

export interface KeeperContext {
  deployment: string;
  asset: { symbol: string; decimals: number };
  chains: ReadonlyMap<string, ChainRuntime>;
  /** Gas for the executor's `lzReceive` on the destination (LayerZero executor option type 1). */
  lzReceiveGas: number;
  metrics: BallastMetrics;
  log: Logger;
  /** Which planner `planRebalances` runs and the optimal solve's budget (config `planner`); absent = optimal, 1000 ms. */
  planner?: {
    kind: 'optimal' | 'greedy';
    timeBudgetMs: number;
    objective?: 'band' | 'yield';
    yieldHorizonSec?: number;
    forecastHorizonSec?: number;
    /** With `objective: yield`: gas timing (config `planner.gasTiming`; absent = on with the defaults, `false` = off). */
    gasTiming?: false | { percentile?: number; windowSec?: number; expectedWaitSec?: number };
  };
  /** The enabled bridges' settings by name (config `bridges`); absent = `layerzero` with fee 0 bps, latency 120 s. */
  bridges?: Readonly<Record<string, BridgeSettings>>;
  /** Who may change caps at run time and how raises are approved (config `risk`); absent = every change refused. */
  risk?: { approvers: readonly CapApprover[]; rules: CapRules };
  /** LP mandates (config `lp`); absent = not required (planner/mandates.ts). */
  lp?: { requireMandates: boolean };
  /** Capacity moves (config `chains[].capacity`, config/capacity.ts); absent = none planned. */
  capacity?: CapacitySettings;
  /** The keeper side of Wormhole (config `wormhole`): guardian API and the guardian sets VAAs are verified against. */
  wormhole?: WormholeSettings;
  /** Solana chains (config `solana`), keyed by chain key, and the custody service that redeems VAAs for them. */
  solana?: { custodyUrl: string; chains: ReadonlyMap<string, SolanaChainRuntime> };
}

/** The Solana chain `chainKey`, or undefined when it is not a Solana chain of this context. */
export function solanaChainOf(ctx: KeeperContext, chainKey: string): SolanaChainRuntime | undefined {
  return ctx.solana?.chains.get(chainKey);
}

/** Every configured chain's policy from the config, EVM chains then Solana chains. */
export function configuredPolicies(ctx: KeeperContext): ChainPolicy[] {
  return [...[...ctx.chains.values()].map((c) => c.policy), ...[...(ctx.solana?.chains.values() ?? [])].map((c) => c.policy)];
}

/** Every configured chain key, EVM chains then Solana chains. */
export function allChainKeys(ctx: KeeperContext): string[] {
  return [...ctx.chains.keys(), ...(ctx.solana?.chains.keys() ?? [])];
}

/** Looks up a chain by key. @throws Error naming the unknown key and the configured ones. */
export function chainOf(ctx: KeeperContext, chainKey: string): ChainRuntime {
  const c = ctx.chains.get(chainKey);
  if (!c) {
    if (ctx.solana?.chains.has(chainKey)) throw new Error(`chain "${chainKey}" is a Solana chain; this step needs an EVM chain`);
    throw new Error(`unknown chain "${chainKey}" (configured: ${allChainKeys(ctx).join(', ')})`);
  }
  return c;
}
