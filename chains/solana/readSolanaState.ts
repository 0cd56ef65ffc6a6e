/**
 * Read one Solana chain's reserve, token balances, Pyth price and clock in ONE RPC
 * (`getMultipleAccountsInfo`), so every figure comes from the same slot. Spec: scratch/SOLANA.md, "Accounts".
 */
import { struct, type Layout } from '@solana/buffer-layout';
import * as layoutUtils from '@solana/buffer-layout-utils';
import { unpackAccount, unpackMint } from '@solana/spl-token';
import { PublicKey, SYSVAR_CLOCK_PUBKEY, type AccountInfo, type Commitment, type Connection } from '@solana/web3.js';
import { WAD } from '../../planner/types.js';
import { SolanaReadError } from './errors.js';
import { decodePriceUpdateV2, PYTH_RECEIVER_PROGRAM_ID, type PriceUpdateV2 } from './pyth.js';
import { decodeDevReserve } from './reserve.js';

/** The accounts of one Solana chain in Ballast (config `solana.chains[]`; roles in scratch/SOLANA.md "Accounts"). */
export interface SolanaAccounts {
  /** The asset's SPL mint. */
  mint: PublicKey;
  /** The BallastDevReserve state account. */
  reserve: PublicKey;
  /** SPL token account with the reserve's available liquidity (must equal the reserve's liquidity_supply). */
  reserveLiquidity: PublicKey;
  /** The keeper's SPL token account. */
  treasury: PublicKey;
  /** The Wormhole custody SPL token account. */
  custody: PublicKey;
  /** Pyth PriceUpdateV2 account (owner: the Pyth receiver program). */
  pythPrice: PublicKey;
}

/** One chain's figures, all read at `slot`. Amounts are base units of the mint; `utilizationWad` is WAD (1e18 = 100%). */
export interface SolanaChainRead {
  chainKey: string;
  /** Slot of the read (the RPC response context). */
  slot: bigint;
  /** The Clock sysvar's unix_timestamp at that slot, seconds. */
  clockUnixSec: bigint;
  /** reserveLiquidity balance + borrowed. */
  supplied: bigint;
  /** The reserve's borrowed_amount. */
  borrowed: bigint;
  /** borrowed·1e18 / supplied, 0 when supplied is 0. */
  utilizationWad: bigint;
  /** Token balance of the reserve's liquidity account. */
  reserveLiquidity: bigint;
  /** Token balance of the keeper's treasury account. */
  treasury: bigint;
  /** Token balance of the Wormhole custody account. */
  custody: bigint;
  /** The mint's total supply. */
  mintSupply: bigint;
  /** The decoded Pyth price account (not judged here: staleness/confidence checks are the caller's). */
  price: PriceUpdateV2;
}

// The runtime module is fine; its type declarations are empty under NodeNext resolution (extensionless re-exports).
const { u64 } = layoutUtils as unknown as { u64: (property: string) => Layout<bigint> };

/** Clock sysvar layout (solana_program::clock::Clock, 40 bytes). */
const CLOCK_LAYOUT = struct<{ slot: bigint; epochStartTimestamp: bigint; epoch: bigint; leaderScheduleEpoch: bigint; unixTimestamp: bigint }>([
  u64('slot'),
  u64('epochStartTimestamp'), // i64 on chain; read as u64 and sign-converted below
  u64('epoch'),
  u64('leaderScheduleEpoch'),
  u64('unixTimestamp'), // i64
]);

const PYTH_RECEIVER = new PublicKey(PYTH_RECEIVER_PROGRAM_ID);

/** Decode the Clock sysvar's `unix_timestamp` (i64 seconds). @throws Error when the data is shorter than 40 bytes. */
export function decodeClockUnixSec(data: Uint8Array): bigint {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < CLOCK_LAYOUT.span) throw new Error(`Clock sysvar data is ${buf.length} bytes, expected ${CLOCK_LAYOUT.span}`);
  return BigInt.asIntN(64, CLOCK_LAYOUT.decode(buf).unixTimestamp);
}

/**
 * One `getMultipleAccountsInfo` call at `commitment` for mint, reserve, reserveLiquidity, treasury, custody,
 * pythPrice and the Clock sysvar; decodes them (spl-token `unpackMint`/`unpackAccount`, {@link decodeDevReserve},
 * `decodePriceUpdateV2`) and checks they belong together: the reserve's liquidity_mint and every token account's
 * mint equal `accounts.mint`, the reserve's liquidity_supply equals `accounts.reserveLiquidity`, the price account
 * is owned by the Pyth receiver program (`pythReceiver`, default Pyth's `rec5EK…`; a deployment such as Drift's
 * posts through its own receiver).
 * @throws SolanaReadError(chainKey, failed) listing every account missing, undecodable or mismatched (fail closed).
 *   Transport errors of the RPC propagate as thrown by web3.js (retryable).
 * @example
 *   const r = await readSolanaState({ connection, chainKey: 'solana', accounts, commitment: 'confirmed' });
 *   r.utilizationWad; // 750000000000000000n = 75%
 */
export async function readSolanaState(p: { connection: Connection; chainKey: string; accounts: SolanaAccounts; commitment: Commitment; pythReceiver?: PublicKey }): Promise<SolanaChainRead> {
  const pythReceiver = p.pythReceiver ?? PYTH_RECEIVER;
  const a = p.accounts;
  const keys = [a.mint, a.reserve, a.reserveLiquidity, a.treasury, a.custody, a.pythPrice, SYSVAR_CLOCK_PUBKEY];
  const { context, value } = await p.connection.getMultipleAccountsInfoAndContext(keys, { commitment: p.commitment });
  const [mintInfo, reserveInfo, liqInfo, treasuryInfo, custodyInfo, pythInfo, clockInfo] = value;
  const failed: string[] = [];

  /** Run one decoder; on failure record `role (address): why` and return undefined. */
  function decode<T>(role: string, address: PublicKey, info: AccountInfo<Buffer> | null | undefined, f: (info: AccountInfo<Buffer>) => T): T | undefined {
    if (!info) {
      failed.push(`${role} ${address.toBase58()}: account not found`);
      return undefined;
    }
    try {
      return f(info);
    } catch (err) {
      failed.push(`${role} ${address.toBase58()}: ${err instanceof Error ? `${err.name}${err.message ? `: ${err.message}` : ''}` : String(err)}`);
      return undefined;
    }
  }

  const mint = decode('mint', a.mint, mintInfo, (i) => unpackMint(a.mint, i));
  const reserve = decode('reserve', a.reserve, reserveInfo, (i) => decodeDevReserve(i.data));
  const liq = decode('reserveLiquidity', a.reserveLiquidity, liqInfo, (i) => unpackAccount(a.reserveLiquidity, i));
  const treasury = decode('treasury', a.treasury, treasuryInfo, (i) => unpackAccount(a.treasury, i));
  const custody = decode('custody', a.custody, custodyInfo, (i) => unpackAccount(a.custody, i));
  const price = decode('pythPrice', a.pythPrice, pythInfo, (i) => {
    if (!i.owner.equals(pythReceiver)) throw new Error(`owner is ${i.owner.toBase58()}, expected the Pyth receiver ${pythReceiver.toBase58()}`);
    return decodePriceUpdateV2(i.data);
  });
  const clockUnixSec = decode('clock sysvar', SYSVAR_CLOCK_PUBKEY, clockInfo, (i) => decodeClockUnixSec(i.data));

  if (reserve) {
    if (!reserve.liquidityMint.equals(a.mint)) failed.push(`reserve ${a.reserve.toBase58()}: liquidity_mint is ${reserve.liquidityMint.toBase58()}, expected mint ${a.mint.toBase58()}`);
    if (!reserve.liquiditySupply.equals(a.reserveLiquidity)) {
      failed.push(`reserve ${a.reserve.toBase58()}: liquidity_supply is ${reserve.liquiditySupply.toBase58()}, expected reserveLiquidity ${a.reserveLiquidity.toBase58()}`);
    }
  }
  for (const [role, acc] of [['reserveLiquidity', liq], ['treasury', treasury], ['custody', custody]] as const) {
    if (acc && !acc.mint.equals(a.mint)) failed.push(`${role} ${acc.address.toBase58()}: token account of mint ${acc.mint.toBase58()}, expected ${a.mint.toBase58()}`);
  }
  if (failed.length || !mint || !reserve || !liq || !treasury || !custody || !price || clockUnixSec === undefined) {
    throw new SolanaReadError(p.chainKey, failed);
  }

  const borrowed = reserve.borrowedAmount;
  const supplied = liq.amount + borrowed;
  return {
    chainKey: p.chainKey,
    slot: BigInt(context.slot),
    clockUnixSec,
    supplied,
    borrowed,
    utilizationWad: supplied === 0n ? 0n : (borrowed * WAD) / supplied,
    reserveLiquidity: liq.amount,
    treasury: treasury.amount,
    custody: custody.amount,
    mintSupply: mint.supply,
    price,
  };
}
