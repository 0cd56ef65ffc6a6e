/**
 * The devnet's market: replays REAL history onto the chains, compressed in time.
 * - Borrow demand: each chain follows an Aave v3 USDC utilization path (one day of history per `dayMs`).
 *   - On a CollateralVault chain (`market: 'vault'`): the market account borrows or repays so that borrowed =
 *     baseSupply × utilization(day) (borrowing stops at the vault's idle liquidity and its `borrowLimit`, the lending
 *     capacity). Demand is absolute (it does not follow the keeper's moves), so moving liquidity really changes
 *     utilization, as on a real market.
 *   - On an Aave v3 chain (`market: 'aave'`, devnet/deploy.ts): real borrowing on the Pool. The market account
 *     (funded once with WETH collateral, devnet/aave.ts `fundBorrower`) borrows or repays the asset at the variable
 *     rate so that the reserve's utilization, Aave's debt / (available + debt), is the day's: debt = u × (available +
 *     debt) (borrow/repay leave available + debt unchanged, so one write reaches it). It never borrows more than is
 *     available and repays only from what it holds (no token is minted after the deploy: the keeper's deployment
 *     ledger counts the supply), so the debt's accrued interest may stay. Between steps the keeper's moves change
 *     the reserve's utilization; each step sets it to the day's again (demand as a utilization, as the history is).
 * - Prices: one Chainlink ETH/USD round per step into every chain's feed (answer and round id from
 *   history; `updatedAt` = the chain's latest block time, since the history is years old). Aave's own feeds (the
 *   asset at $1, the collateral at $3000) stay fixed.
 * Where the fixtures are absent, marketData returns a clearly labelled synthetic path and says so.
 */
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  http,
  maxUint256,
  parseAbi,
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { collateralVaultAbi, devPriceFeedAbi, ballastTokenAbi } from '../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from './accounts.js';
import { loadPriceRounds, loadUtilizationPaths } from './marketData.js';
import type { DevnetAaveContracts, DevnetChainDeployment, DevnetDeployment } from './deploy.js';
import { estimateWithHeadroom } from '../chains/evm/writeContract.js';
import type { SolanaDevnet } from './solanaDevnet.js';
import { WAD } from '../planner/types.js';

/**
 * WETH collateral the borrower posts once per Aave chain (18 decimals): 100,000 WETH, $300M at the devnet's $3000,
 * borrowing power $240M at the 80% LTV, far above any devnet reserve (each starts at 2 × 10M tokens).
 */
export const DEFAULT_AAVE_BORROWER_COLLATERAL = 100_000n * 10n ** 18n;

/** Aave v3 Pool calls the driver makes (`@aave/core-v3` 1.19.3 IPool); interestRateMode 2 = variable. */
const aavePoolDemandAbi = parseAbi([
  'function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)',
  'function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf) returns (uint256)',
]);
const VARIABLE_RATE = 2n;

/** What one step did on one EVM chain. */
export interface MarketStepChain {
  chainKey: string;
  market: 'vault' | 'aave';
  /** The day's utilization target, WAD. */
  targetWad: bigint;
  /** The write made to reach it (`none`: already there, or nothing available). */
  action: 'borrow' | 'repay' | 'none';
  /** Base units borrowed or repaid. */
  amount: bigint;
}

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
  /** WETH (18 decimals) the borrower posts once on each Aave chain; default {@link DEFAULT_AAVE_BORROWER_COLLATERAL}. */
  aaveBorrowerCollateral?: bigint;
  log?: (msg: string) => void;
}

type Wallet = WalletClient<Transport, Chain, Account>;
interface ChainClients {
  c: DevnetChainDeployment;
  pub: PublicClient<Transport, Chain>;
  /** The market account: supplier and borrower. */
  market: Wallet;
  /** The deployer: admin of the price feed. */
  admin: Wallet;
}

/** Drives borrow demand and oracle prices; `start()` runs steps until `stop()`. */
export class MarketDriver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private day = 0;
  private round = 0;
  private baseSupply = new Map<string, bigint>();
  private clients = new Map<string, ChainClients>();
  /** Aave chains whose borrower has its collateral and its repay approval. */
  private aaveReady = new Set<string>();
  private readonly log: (msg: string) => void;
  readonly utilization: ReturnType<typeof loadUtilizationPaths>;
  readonly prices: ReturnType<typeof loadPriceRounds>;

  constructor(private readonly opts: MarketDriverOptions) {
    this.log = opts.log ?? (() => {});
    this.utilization = loadUtilizationPaths({ networks: [...Object.values(opts.networks), ...(opts.solana ? [opts.solana.network] : [])], symbol: 'USDC' });
    this.prices = loadPriceRounds();
  }

  private chain(chainKey: string): ChainClients {
    const hit = this.clients.get(chainKey);
    if (hit) return hit;
    const c = this.opts.deployment.chains[chainKey];
    if (!c) throw new Error(`market driver: no devnet chain ${chainKey}`);
    const chain = defineChain({ id: c.chainId, name: chainKey, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } });
    const transport = http(c.rpcUrl);
    const out: ChainClients = {
      c,
      pub: createPublicClient({ chain, transport, pollingInterval: 50 }),
      market: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.market), pollingInterval: 50 }),
      admin: createWalletClient({ chain, transport, account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer), pollingInterval: 50 }),
    };
    this.clients.set(chainKey, out);
    return out;
  }

  /** Current day of history (ISO date) and the utilization targets. */
  describe(): string {
    const date = this.utilization.days[Math.min(this.day, this.utilization.days.length - 1)];
    return `${this.utilization.source === 'fixture' ? 'Aave v3 history' : 'SYNTHETIC path'} day ${this.day} (${date})`;
  }

  /**
   * One step: set every chain's demand to the day's utilization and push one price round.
   * @returns what was borrowed or repaid per EVM chain.
   */
  async step(): Promise<MarketStepChain[]> {
    const days = this.utilization.days.length;
    const dayIdx = this.day % days;
    const round = this.prices.rounds[this.round % this.prices.rounds.length]!;
    // Chains in parallel: each has its own node and nonces.
    const out = await Promise.all(
      Object.entries(this.opts.networks).map(async ([chainKey, network]) => {
        const cc = this.chain(chainKey);
        const { c, pub, admin } = cc;
        const u = this.utilization.paths[network]?.[dayIdx] ?? 0n;
        const done = c.contracts.aave ? await this.aaveDemand(cc, c.contracts.aave, u) : await this.vaultDemand(cc, u);
        const block = await pub.getBlock();
        const h = await admin.writeContract({
          address: c.contracts.priceFeed,
          abi: devPriceFeedAbi,
          functionName: 'setRound',
          args: [round.roundId, round.answer, block.timestamp, block.timestamp, round.answeredInRound],
        });
        await pub.waitForTransactionReceipt({ hash: h });
        return done;
      }),
    );
    if (this.opts.solana) {
      const sol = this.opts.solana;
      await sol.devnet.setUtilization(this.utilization.paths[sol.network]?.[dayIdx] ?? 0n);
      await sol.devnet.setPrice(round.answer, -8);
    }
    this.day += 1;
    this.round += 1;
    return out;
  }

  /** CollateralVault demand: borrowed = baseSupply × u, within the idle liquidity and the borrow limit. */
  private async vaultDemand({ c, pub, market }: ChainClients, u: bigint): Promise<MarketStepChain> {
    const chainKey = c.chainKey;
    const vault = c.contracts.vault;
    if (!this.baseSupply.has(chainKey)) {
      this.baseSupply.set(chainKey, await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }));
      const h = await market.writeContract({ address: c.contracts.token, abi: ballastTokenAbi, functionName: 'approve', args: [vault, maxUint256] });
      await pub.waitForTransactionReceipt({ hash: h });
    }
    const target = (this.baseSupply.get(chainKey)! * u) / WAD;
    const [borrowed, supplied, borrowLimit] = await Promise.all([
      pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' }),
      pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }),
      pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'borrowLimit' }),
    ]);
    const report = (action: MarketStepChain['action'], amount: bigint): MarketStepChain => ({ chainKey, market: 'vault', targetWad: u, action, amount });
    if (target > borrowed) {
      // Borrowers get at most the idle liquidity and what the lending capacity (borrowLimit) still allows:
      // demand above the limit stays unmet, as on a capped market (capacity moves raise the limit).
      const idle = supplied - borrowed;
      const capacity = borrowLimit > borrowed ? borrowLimit - borrowed : 0n;
      const room = idle < capacity ? idle : capacity;
      const amount = target - borrowed < room ? target - borrowed : room;
      if (amount > 0n) {
        await this.vaultWrite(pub, market, vault, 'borrow', amount);
        return report('borrow', amount);
      }
    } else if (target < borrowed) {
      await this.vaultWrite(pub, market, vault, 'repay', borrowed - target);
      return report('repay', borrowed - target);
    }
    return report('none', 0n);
  }

  private async vaultWrite(pub: ChainClients['pub'], wallet: ChainClients['market'], vault: Address, fn: 'borrow' | 'repay', amount: bigint) {
    const { request } = await pub.simulateContract({ address: vault, abi: collateralVaultAbi, functionName: fn, args: [amount], account: wallet.account });
    const hash = await wallet.writeContract(request);
    await pub.waitForTransactionReceipt({ hash });
  }

  /**
   * Aave v3 demand: the market account borrows or repays on the Pool so that the reserve's debt / (available + debt)
   * is `u`. Borrows at most the available liquidity; repays at most its own debt and what it holds.
   */
  private async aaveDemand({ c, pub, market }: ChainClients, aave: DevnetAaveContracts, u: bigint): Promise<MarketStepChain> {
    const chainKey = c.chainKey;
    const asset = c.contracts.token;
    const me = market.account.address;
    if (!this.aaveReady.has(chainKey)) {
      // Funded once: a restarted driver finds the collateral and the approval already there.
      const [collateral, allowance] = await Promise.all([
        pub.readContract({ address: aave.deployment.collateralAToken, abi: erc20Abi, functionName: 'balanceOf', args: [me] }),
        pub.readContract({ address: asset, abi: erc20Abi, functionName: 'allowance', args: [me, aave.pool] }),
      ]);
      if (collateral === 0n) {
        const { fundBorrower } = await import('./aave.js');
        await fundBorrower({ rpcUrl: c.rpcUrl, chainId: c.chainId, deployment: aave.deployment, borrowerKey: DEVNET_ACCOUNTS.market, collateralAmount: this.opts.aaveBorrowerCollateral ?? DEFAULT_AAVE_BORROWER_COLLATERAL });
        this.log(`market driver: ${chainKey} borrower ${me} posted ${(this.opts.aaveBorrowerCollateral ?? DEFAULT_AAVE_BORROWER_COLLATERAL) / 10n ** 18n} WETH collateral on Aave`);
      }
      if (allowance < maxUint256 / 2n) {
        const h = await market.writeContract({ address: asset, abi: erc20Abi, functionName: 'approve', args: [aave.pool, maxUint256] });
        await pub.waitForTransactionReceipt({ hash: h });
      }
      this.aaveReady.add(chainKey);
    }
    const [available, variableDebt, stableDebt, myDebt, held] = await Promise.all([
      pub.readContract({ address: asset, abi: erc20Abi, functionName: 'balanceOf', args: [aave.aToken] }),
      pub.readContract({ address: aave.variableDebtToken, abi: erc20Abi, functionName: 'totalSupply' }),
      pub.readContract({ address: aave.stableDebtToken, abi: erc20Abi, functionName: 'totalSupply' }),
      pub.readContract({ address: aave.variableDebtToken, abi: erc20Abi, functionName: 'balanceOf', args: [me] }),
      pub.readContract({ address: asset, abi: erc20Abi, functionName: 'balanceOf', args: [me] }),
    ]);
    const debt = variableDebt + stableDebt;
    const target = ((available + debt) * u) / WAD;
    const report = (action: MarketStepChain['action'], amount: bigint): MarketStepChain => ({ chainKey, market: 'aave', targetWad: u, action, amount });
    const min = (a: bigint, b: bigint) => (a < b ? a : b);
    if (target > debt) {
      const amount = min(target - debt, available);
      if (amount > 0n) {
        await this.poolWrite(pub, market, aave.pool, 'borrow', [asset, amount, VARIABLE_RATE, 0, me]);
        return report('borrow', amount);
      }
    } else if (target < debt) {
      const amount = min(min(debt - target, myDebt), held);
      if (amount > 0n) {
        await this.poolWrite(pub, market, aave.pool, 'repay', [asset, amount, VARIABLE_RATE, me]);
        return report('repay', amount);
      }
    }
    return report('none', 0n);
  }

  private async poolWrite(
    pub: ChainClients['pub'],
    wallet: Wallet,
    pool: Address,
    ...call: ['borrow', readonly [Address, bigint, bigint, number, Address]] | ['repay', readonly [Address, bigint, bigint, Address]]
  ) {
    // Gas: the estimate + 25% (chains/evm/writeContract.ts `estimateWithHeadroom`: Aave's updateState costs more when the reserve was
    // last updated in an earlier second than the one the estimate ran in).
    let hash;
    if (call[0] === 'borrow') {
      const { request } = await pub.simulateContract({ address: pool, abi: aavePoolDemandAbi, functionName: 'borrow', args: call[1], account: wallet.account });
      hash = await wallet.writeContract({ ...request, gas: await estimateWithHeadroom(pub, request) });
    } else {
      const { request } = await pub.simulateContract({ address: pool, abi: aavePoolDemandAbi, functionName: 'repay', args: call[1], account: wallet.account });
      hash = await wallet.writeContract({ ...request, gas: await estimateWithHeadroom(pub, request) });
    }
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') {
      const tx = await pub.getTransaction({ hash });
      throw new Error(`market driver: Pool.${call[0]} on chain ${pub.chain.id} reverted (tx ${hash}, gas used ${receipt.gasUsed} of ${tx.gas})`);
    }
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
          .then(() => undefined)
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
