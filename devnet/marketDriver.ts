/**
 * The devnet's market: replays REAL history onto the chains, compressed in time.
 * - Borrow demand: each chain follows an Aave v3 USDC utilization path (one day of history per
 *   `dayMs`): the market account borrows or repays so that borrowed = baseSupply × utilization(day)
 *   (borrowing stops at the vault's idle liquidity and its `borrowLimit`, the lending capacity).
 *   Demand is absolute (it does not follow the keeper's moves), so moving liquidity really changes
 *   utilization, as on a real market.
 * - Prices: one Chainlink ETH/USD round per step into every chain's feed (answer and round id from
 *   history; `updatedAt` = the chain's latest block time, since the history is years old).
 * Where the fixtures are absent, marketData returns a clearly labelled synthetic path and says so.
 */
import { createPublicClient, createWalletClient, http, maxUint256, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { collateralVaultAbi, devPriceFeedAbi, ballastTokenAbi } from '../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from './accounts.js';
import { loadPriceRounds, loadUtilizationPaths } from './marketData.js';
import type { DevnetDeployment } from './deploy.js';
import type { SolanaDevnet } from './solanaDevnet.js';
import { WAD } from '../planner/types.js';

export interface MarketDriverOptions {
  deployment: DevnetDeployment;
  /** Devnet chain key → Aave network name in the fixture (e.g. `{ ethereum: 'ethereum', arbitrum: 'arbitrum', base: 'base' }`). */
  networks: Record<string, string>;
  /** Milliseconds of wall time per day of history (default 4000). */
  dayMs?: number;
  /**
   * The Solana chain, driven like the EVM ones: its reserve follows the Aave USDC path of `network` (the
   * fixture has no Solana market, so one of its networks stands in; said in the log), its Pyth account gets the
   * same Chainlink rounds (exponent −8, the feed's 8 decimals).
   */
  solana?: { network: string; devnet: Pick<SolanaDevnet, 'chainKey' | 'setUtilization' | 'setPrice'> };
  log?: (msg: string) => void;
}

/** Drives borrow demand and oracle prices; `start()` runs steps until `stop()`. */
export class MarketDriver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private day = 0;
  private round = 0;
  private baseSupply = new Map<string, bigint>();
  private readonly log: (msg: string) => void;
  readonly utilization: ReturnType<typeof loadUtilizationPaths>;
  readonly prices: ReturnType<typeof loadPriceRounds>;

  constructor(private readonly opts: MarketDriverOptions) {
    this.log = opts.log ?? (() => {});
    this.utilization = loadUtilizationPaths({ networks: [...Object.values(opts.networks), ...(opts.solana ? [opts.solana.network] : [])], symbol: 'USDC' });
    this.prices = loadPriceRounds();
  }

  private chain(chainKey: string) {
    const c = this.opts.deployment.chains[chainKey]!;
    const chain = { id: c.chainId, name: chainKey, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
    const transport = http(c.rpcUrl);
    return {
      c,
      pub: createPublicClient({ chain, transport }),
      market: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.market) }),
      admin: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) }),
    };
  }

  /** Current day of history (ISO date) and the utilization targets. */
  describe(): string {
    const date = this.utilization.days[Math.min(this.day, this.utilization.days.length - 1)];
    return `${this.utilization.source === 'fixture' ? 'Aave v3 history' : 'SYNTHETIC path'} day ${this.day} (${date})`;
  }

  /** One step: set every chain's demand to the day's utilization and push one price round. */
  async step(): Promise<void> {
    const days = this.utilization.days.length;
    const dayIdx = this.day % days;
    const round = this.prices.rounds[this.round % this.prices.rounds.length]!;
    for (const [chainKey, network] of Object.entries(this.opts.networks)) {
      const { c, pub, market, admin } = this.chain(chainKey);
      const vault = c.contracts.vault;
      if (!this.baseSupply.has(chainKey)) {
        this.baseSupply.set(chainKey, await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }));
        const h = await market.writeContract({ address: c.contracts.token, abi: ballastTokenAbi, functionName: 'approve', args: [vault, maxUint256] });
        await pub.waitForTransactionReceipt({ hash: h });
      }
      const u = this.utilization.paths[network]?.[dayIdx] ?? 0n;
      const target = (this.baseSupply.get(chainKey)! * u) / WAD;
      const [borrowed, supplied, borrowLimit] = await Promise.all([
        pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' }),
        pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }),
        pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'borrowLimit' }),
      ]);
      if (target > borrowed) {
        // Borrowers get at most the idle liquidity and what the lending capacity (borrowLimit) still allows:
        // demand above the limit stays unmet, as on a capped market (capacity moves raise the limit).
        const idle = supplied - borrowed;
        const capacity = borrowLimit > borrowed ? borrowLimit - borrowed : 0n;
        const room = idle < capacity ? idle : capacity;
        const amount = target - borrowed < room ? target - borrowed : room;
        if (amount > 0n) await this.write(pub, market, vault, 'borrow', amount);
      } else if (target < borrowed) {
        await this.write(pub, market, vault, 'repay', borrowed - target);
      }
      const block = await pub.getBlock();
      const h = await admin.writeContract({
        address: c.contracts.priceFeed,
        abi: devPriceFeedAbi,
        functionName: 'setRound',
        args: [round.roundId, round.answer, block.timestamp, block.timestamp, round.answeredInRound],
      });
      await pub.waitForTransactionReceipt({ hash: h });
    }
    if (this.opts.solana) {
      const sol = this.opts.solana;
      await sol.devnet.setUtilization(this.utilization.paths[sol.network]?.[dayIdx] ?? 0n);
      await sol.devnet.setPrice(round.answer, -8);
    }
    this.day += 1;
    this.round += 1;
  }

  private async write(pub: ReturnType<MarketDriver['chain']>['pub'], wallet: ReturnType<MarketDriver['chain']>['market'], vault: Address, fn: 'borrow' | 'repay', amount: bigint) {
    const { request } = await pub.simulateContract({ address: vault, abi: collateralVaultAbi, functionName: fn, args: [amount], account: wallet.account });
    const hash = await wallet.writeContract(request);
    await pub.waitForTransactionReceipt({ hash });
  }

  /** Runs one step now, then one every `dayMs`. A failed step is logged and retried next time. */
  async start(): Promise<void> {
    this.log(`market driver: ${this.utilization.note}`);
    this.log(`market driver: ${this.prices.note}`);
    if (this.opts.solana) this.log(`market driver: ${this.opts.solana.devnet.chainKey} reserve follows the Aave v3 ${this.opts.solana.network} USDC path (the fixture has no Solana market); its Pyth account gets the Chainlink rounds`);
    await this.step();
    const loop = () => {
      this.timer = setTimeout(() => {
        this.running = this.step()
          .catch((err: unknown) => this.log(`market driver step failed (will retry): ${err instanceof Error ? err.message : String(err)}`))
          .finally(() => {
            if (this.timer) loop();
          });
      }, this.opts.dayMs ?? 4000);
    };
    loop();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
