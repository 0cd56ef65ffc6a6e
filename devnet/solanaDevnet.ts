/**
 * The devnet's Solana chain, ready for the keeper: the LiteSVM-backed JSON-RPC endpoint
 * (devnet/solana/rpcServer.ts), the asset's SPL mint, the lending reserve (a `BallastDevReserve` account,
 * chains/solana/reserve.ts, and its liquidity token account), the keeper's treasury, the Wormhole custody and
 * its service (devnet/solanaCustody.ts), a Pyth `PriceUpdateV2` price account, and the EVM adapters' peer
 * entries for Solana (custody = emitter, treasury = recipient).
 *
 * Devnet stand-ins, stated plainly: the reserve's liquidity account is owned by the keeper key (a real lending
 * program's withdraw/deposit instructions are not implemented); borrowers are the devnet market, which moves
 * liquidity out of the reserve and records `borrowed_amount`; the Pyth account is written directly (no Wormhole
 * price attestation), from the same Chainlink history the EVM feeds replay, with a synthetic confidence of
 * {@link DEVNET_PYTH_CONF_BPS} bps and a devnet feed id.
 */
import { createHash } from 'node:crypto';
import { Connection, Keypair, LAMPORTS_PER_SOL, type Commitment, type PublicKey } from '@solana/web3.js';
import { ACCOUNT_SIZE, AccountLayout, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { address } from '@solana/kit';
import { createPublicClient, createWalletClient, bytesToHex, http, keccak256, stringToHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { wormholeAdapterAbi } from '../contracts/generated/abis.js';
import { encodeDevReserve, decodeDevReserve, RESERVE_SIZE } from '../chains/solana/reserve.js';
import { encodePriceUpdateV2, PYTH_RECEIVER_PROGRAM_ID, PRICE_UPDATE_V2_LEN } from '../chains/solana/pyth.js';
import { createSplMint, createTokenAccount, mintTo } from './solana/bootstrap.js';
import { startSolanaRpc, type SolanaRpcServer } from './solana/rpcServer.js';
import { DevnetSolanaCustody } from './solanaCustody.js';
import { DEVNET_ACCOUNTS } from './accounts.js';
import type { DevnetDeployment } from './deploy.js';
import type { DevnetGuardian } from './guardian.js';

/** Synthetic Pyth confidence of the devnet price, bps of the price (Chainlink history has none). */
export const DEVNET_PYTH_CONF_BPS = 5n;
/** The devnet Pyth feed id: keccak256("ballast devnet ETH/USD") (not a real Pyth feed). */
export const DEVNET_PYTH_FEED_ID: Hex = keccak256(stringToHex('ballast devnet ETH/USD'));

/** A devnet key from a public seed string. PUBLIC TEST KEYS, like anvil's: the devnet and tests only. */
export function devnetSolanaKeypair(name: 'keeper' | 'custody-authority' | 'mint-authority' | 'market' | 'reserve-program'): Keypair {
  return Keypair.fromSeed(createHash('sha256').update(`ballast devnet solana ${name}`).digest());
}

/** The Solana accounts of the devnet, base58 (config `solana.chains[].accounts`). */
export interface SolanaDevnetAccounts {
  mint: string;
  reserve: string;
  reserveLiquidity: string;
  treasury: string;
  custody: string;
  pythPrice: string;
}

export interface SolanaDevnet {
  chainKey: string;
  rpc: SolanaRpcServer;
  rpcUrl: string;
  connection: Connection;
  accounts: SolanaDevnetAccounts;
  /** The keeper's key (a public devnet key): pass its secret as `BALLAST_SOLANA_KEEPER_KEY` (JSON bytes). */
  keeper: Keypair;
  custody: DevnetSolanaCustody;
  custodyUrl: string;
  /** The reserve's liquidity at start, base units (the market's base supply). */
  baseSupply: bigint;
  /**
   * Moves the reserve to `utilizationWad` of its base supply: the market borrows (liquidity → market account,
   * `borrowed_amount` up) or repays; borrowing stops at the available liquidity. Atomic for readers: both token
   * balances and `borrowed_amount` change in one synchronous step, so `supplied` (liquidity + borrowed) is never seen
   * changed by a borrow or a repay.
   */
  setUtilization(utilizationWad: bigint): Promise<void>;
  /** Writes a Pyth PriceUpdateV2 (Full verification) with `price` × 10^`exponent`, published now. */
  setPrice(price: bigint, exponent: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartSolanaDevnetOptions {
  chainKey?: string;
  decimals: number;
  /** Initial reserve liquidity and custody float, base units. */
  initialLiquidity: bigint;
  /** The EVM side: every chain's WormholeAdapter gets Solana as a peer. */
  deployment: DevnetDeployment;
  guardian: DevnetGuardian;
  /** Wormhole chain id of Solana (1). */
  whChainId?: number;
  log?: (m: string) => void;
}

const WAD = 10n ** 18n;
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Starts and bootstraps the Solana devnet chain. On failure everything started is stopped. */
export async function startSolanaDevnet(opts: StartSolanaDevnetOptions): Promise<SolanaDevnet> {
  const log = opts.log ?? (() => undefined);
  const chainKey = opts.chainKey ?? 'solana';
  const whChainId = opts.whChainId ?? 1;
  const rpc = await startSolanaRpc({ port: 0 });
  let custody: DevnetSolanaCustody | undefined;
  try {
    const commitment: Commitment = 'confirmed';
    const connection = new Connection(rpc.url, { commitment });
    const keeper = devnetSolanaKeypair('keeper');
    const authority = devnetSolanaKeypair('custody-authority');
    const mintAuthority = devnetSolanaKeypair('mint-authority');
    const market = devnetSolanaKeypair('market');
    for (const k of [keeper, authority, mintAuthority, market]) await connection.confirmTransaction(await connection.requestAirdrop(k.publicKey, 100 * LAMPORTS_PER_SOL), commitment);
    const mint = await createSplMint(connection, mintAuthority, mintAuthority.publicKey, opts.decimals);
    const reserveLiquidity = await createTokenAccount(connection, mintAuthority, mint, keeper.publicKey);
    const treasury = await createTokenAccount(connection, mintAuthority, mint, keeper.publicKey);
    const custodyAccount = await createTokenAccount(connection, mintAuthority, mint, authority.publicKey);
    const marketAccount = await createTokenAccount(connection, mintAuthority, mint, market.publicKey);
    await mintTo(connection, mintAuthority, mint, reserveLiquidity, mintAuthority, opts.initialLiquidity);
    await mintTo(connection, mintAuthority, mint, custodyAccount, mintAuthority, opts.initialLiquidity);
    const reserve = Keypair.fromSeed(createHash('sha256').update('ballast devnet solana reserve account').digest()).publicKey;
    const pythPrice = Keypair.fromSeed(createHash('sha256').update('ballast devnet solana pyth account').digest()).publicKey;
    const reserveProgram = devnetSolanaKeypair('reserve-program').publicKey;
    const rent = (len: number) => rpc.svm.minimumBalanceForRentExemption(BigInt(len));
    const writeReserve = (borrowedAmount: bigint) =>
      rpc.setAccount(reserve.toBase58(), { lamports: rent(RESERVE_SIZE), owner: reserveProgram.toBase58(), data: encodeDevReserve({ liquidityMint: mint, liquiditySupply: reserveLiquidity, borrowedAmount, lastUpdateSlot: rpc.slot() }) });
    writeReserve(0n);
    const setPrice = async (price: bigint, exponent: number) => {
      const now = BigInt(Math.floor(Date.now() / 1000));
      const data = encodePriceUpdateV2({
        writeAuthority: mintAuthority.publicKey.toBase58(),
        verificationLevel: { kind: 'Full' },
        feedId: DEVNET_PYTH_FEED_ID,
        price,
        conf: (price * DEVNET_PYTH_CONF_BPS) / 10_000n,
        exponent,
        publishTimeSec: now,
        prevPublishTimeSec: now - 1n,
        emaPrice: price,
        emaConf: (price * DEVNET_PYTH_CONF_BPS) / 10_000n,
        postedSlot: rpc.slot(),
      });
      rpc.setAccount(pythPrice.toBase58(), { lamports: rent(PRICE_UPDATE_V2_LEN), owner: PYTH_RECEIVER_PROGRAM_ID, data });
    };
    await setPrice(2_000n * 10n ** 8n, -8);

    // Every EVM adapter accepts the custody as Solana's emitter and sends Solana-bound funds to the treasury.
    const custodyHex = bytesToHex(custodyAccount.toBytes());
    const treasuryHex = bytesToHex(treasury.toBytes());
    for (const c of Object.values(opts.deployment.chains)) {
      const chain = { id: c.chainId, name: c.chainKey, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [c.rpcUrl] } } } as const;
      const pub = createPublicClient({ chain, transport: http(c.rpcUrl) });
      const admin = createWalletClient({ chain, transport: http(c.rpcUrl), account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) });
      const { request } = await pub.simulateContract({ account: admin.account, address: c.contracts.wormholeAdapter, abi: wormholeAdapterAbi, functionName: 'setPeer', args: [whChainId, custodyHex, treasuryHex] });
      await pub.waitForTransactionReceipt({ hash: await admin.writeContract(request) });
    }
    custody = new DevnetSolanaCustody({
      chainKey,
      connection,
      whChainId,
      mint,
      decimals: opts.decimals,
      custody: custodyAccount,
      treasury,
      authority,
      guardian: opts.guardian,
      guardianSets: [{ index: 0, keys: [opts.guardian.guardianAddress] }],
      peers: new Map(Object.values(opts.deployment.chains).map((c) => [c.whChainId, c.contracts.wormholeAdapter] as [number, Hex])),
      log,
    });
    await custody.start();
    log(`Solana devnet (LiteSVM JSON-RPC) at ${rpc.url}: mint ${mint.toBase58()}, reserve ${reserve.toBase58()}, treasury ${treasury.toBase58()}, custody ${custodyAccount.toBase58()}, Pyth ${pythPrice.toBase58()}; EVM adapters peered with Wormhole chain ${whChainId}`);

    // One borrow or repay is ONE state change, as a lending program's instruction is: the reserve's liquidity account,
    // the market's token account and the reserve's borrowed_amount are written in the same synchronous step (no await
    // between), so no RPC read sees half of it. (As two steps, a transfer and then the reserve write, a read in between
    // saw supplied = liquidity + borrowed off by the amount: a false keeper-flow deficit in the deployment ledger,
    // whose Solana term is derived from `supplied`, ledger/treasury.ts.)
    const tokenAccount = (account: PublicKey) => {
      const a = rpc.svm.getAccount(address(account.toBase58()));
      if (!a.exists) throw new Error(`devnet Solana: token account ${account.toBase58()} missing`);
      return { lamports: BigInt(a.lamports), raw: AccountLayout.decode(Buffer.from(a.data)) };
    };
    const writeTokenAmount = (account: PublicKey, t: ReturnType<typeof tokenAccount>, amount: bigint) => {
      const data = Buffer.alloc(ACCOUNT_SIZE);
      AccountLayout.encode({ ...t.raw, amount }, data);
      rpc.setAccount(account.toBase58(), { lamports: t.lamports, data, owner: TOKEN_PROGRAM_ID.toBase58() });
    };
    const setUtilization = async (u: bigint) => {
      const borrowed = decodeDevReserve(rpc.getAccountData(reserve.toBase58())!).borrowedAmount;
      const liq = tokenAccount(reserveLiquidity);
      const mkt = tokenAccount(marketAccount);
      const target = (opts.initialLiquidity * u) / WAD;
      // Borrow at most the available liquidity; repay at most what the market holds (what it borrowed).
      const move = target > borrowed ? min(target - borrowed, liq.raw.amount) : -min(borrowed - target, mkt.raw.amount);
      if (move === 0n) return;
      writeTokenAmount(reserveLiquidity, liq, liq.raw.amount - move);
      writeTokenAmount(marketAccount, mkt, mkt.raw.amount + move);
      writeReserve(borrowed + move);
    };

    const accounts: SolanaDevnetAccounts = { mint: mint.toBase58(), reserve: reserve.toBase58(), reserveLiquidity: reserveLiquidity.toBase58(), treasury: treasury.toBase58(), custody: custodyAccount.toBase58(), pythPrice: pythPrice.toBase58() };
    const started = custody;
    return {
      chainKey,
      rpc,
      rpcUrl: rpc.url,
      connection,
      accounts,
      keeper,
      custody: started,
      custodyUrl: started.url,
      baseSupply: opts.initialLiquidity,
      setUtilization,
      setPrice,
      stop: async () => {
        await started.stop();
        await rpc.stop();
      },
    };
  } catch (err) {
    await custody?.stop();
    await rpc.stop();
    throw err;
  }
}

/** The keeper's devnet Solana key as the env var value the config's `solana.keeper.keyEnv` reads (JSON bytes). */
export function devnetSolanaKeeperEnv(): string {
  return JSON.stringify([...devnetSolanaKeypair('keeper').secretKey]);
}
