/**
 * What the chains say, read directly from the nodes (never through the fault proxies) and only from the chains'
 * own records — contract storage, events, Solana memo-tagged transfers — never from the keeper's logs or results:
 * - the books: circulating supply (Σ EVM OFT totalSupply + Solana mint supply outside the Wormhole custody), tokens
 *   in flight per message (LayerZero OFTSent without OFTReceived by GUID; Wormhole WormholeSent / a custody send
 *   without its WormholeReceived / custody release), the treasury per chain and route balances (the treasury is the
 *   CollateralVault's token balance, or on an Aave chain the AaveAllocator's `principal()` — exact, interest and
 *   rounding dust apart — with its four counters; the Solana reserve and treasury count as vault and route), and
 *   the lending capacity total Σ (borrowLimit + reserved + sent − received + pending + orphaned) over both chains
 *   (capacity stays on the CollateralVault on an Aave devnet);
 * - per collateral rebalance (any route) the record of every leg, with event / transfer counts per leg key;
 * - per capacity move the reservation, messages, deliveries and applications by key;
 * so each saga's outcome can be checked against what moved, and double moves are seen.
 */
import { erc20Abi, parseAbiItem, type Hex } from 'viem';
import { PublicKey } from '@solana/web3.js';
import { unpackMint } from '@solana/spl-token';
import { aaveAllocatorAbi, ballastRouteAbi, collateralVaultAbi, creditMessengerAbi } from '../../contracts/generated/abis.js';
import { legKey } from '../../activities/legKey.js';
import type { AllocatorBooks } from '../../chains/evm/ledgerReads.js';
import { wormholeGuid } from '../../chains/wormhole/messageId.js';
import { listCustodySends, listMemoTransfers, type MemoTransfer } from '../../chains/solana/memoTransfer.js';
import { depositMemo, parseWormholeSendMemo, redeemMemo, withdrawMemo, wormholeSendMemoPrefix } from '../../chains/solana/memos.js';
import type { RebalanceResult } from '../../workflows/types.js';
import type { CapacityMoveResult } from '../../workflows/capacity.js';
import { SOLANA_KEY, treasuryHolderOf, type ChaosEnv } from './env.js';

const oftSent = parseAbiItem('event OFTSent(bytes32 indexed guid, uint32 dstEid, address indexed fromAddress, uint256 amountSentLD, uint256 amountReceivedLD)');
const oftReceived = parseAbiItem('event OFTReceived(bytes32 indexed guid, uint32 srcEid, address indexed toAddress, uint256 amountReceivedLD)');
const routeSent = parseAbiItem('event RouteSent(bytes32 indexed rebalanceId, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint256 nativeFee)');
const routeSentWormhole = parseAbiItem('event RouteSentWormhole(bytes32 indexed rebalanceId, uint64 indexed sequence, uint16 dstChain, uint256 amount, uint256 fee)');
const withdrawnToRoute = parseAbiItem('event WithdrawnToRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount, uint256 outflowInWindow)');
const depositedFromRoute = parseAbiItem('event DepositedFromRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount)');
const wormholeSent = parseAbiItem('event WormholeSent(bytes32 indexed rebalanceId, uint64 indexed sequence, uint16 indexed dstChain, uint256 amount, bytes32 recipient, uint256 fee)');
const wormholeReceived = parseAbiItem('event WormholeReceived(bytes32 indexed rebalanceId, uint16 indexed emitterChain, uint64 indexed sequence, uint256 amount, bytes32 vmHash)');
const creditReserved = parseAbiItem('event CreditReserved(bytes32 indexed key, uint256 amount, uint256 borrowLimit, uint256 creditOutInWindow)');
const creditRestored = parseAbiItem('event CreditRestored(bytes32 indexed key, uint256 amount, uint256 borrowLimit)');
const creditApplied = parseAbiItem('event CreditApplied(bytes32 indexed key, uint32 indexed srcEid, uint256 amount, uint256 borrowLimit)');
const creditSent = parseAbiItem('event CreditSent(bytes32 indexed key, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint64 nonce, uint256 nativeFee)');
const creditSentWormhole = parseAbiItem('event CreditSentWormhole(bytes32 indexed key, uint64 indexed sequence, uint32 dstEid, uint16 dstChain, uint256 amount, uint256 fee)');
const creditReturned = parseAbiItem('event CreditReturned(bytes32 indexed key, bytes32 indexed returnKey, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint64 nonce, uint256 nativeFee)');
const creditReturnedWormhole = parseAbiItem('event CreditReturnedWormhole(bytes32 indexed key, bytes32 indexed returnKey, uint64 indexed sequence, uint32 dstEid, uint16 dstChain, uint256 amount, uint256 fee)');
const creditReceived = parseAbiItem('event CreditReceived(bytes32 indexed key, bytes32 indexed guid, uint32 srcEid, uint256 amount)');
const creditOrphaned = parseAbiItem('event CreditOrphaned(bytes32 indexed key, bytes32 indexed guid, uint32 srcEid, uint256 amount)');
const wormholeCreditRedeemed = parseAbiItem('event WormholeCreditRedeemed(bytes32 indexed key, uint16 indexed emitterChain, uint64 indexed sequence, bytes32 vmHash)');

type AnyEvent = ReturnType<typeof parseAbiItem>;

/** A Wormhole message not delivered yet: what it takes to redeem it (anyone may). */
export interface PendingWormhole {
  kind: 'tokens' | 'credit';
  from: string;
  to: string;
  emitterChain: number;
  emitter: Hex;
  sequence: bigint;
  key: Hex;
  amount: bigint;
}

/** Token and capacity totals over every chain (base units). */
export interface Books {
  /** Σ EVM OFT totalSupply + (Solana mint supply − custody balance). */
  totalSupply: bigint;
  /** Sent and not yet received, by message id (`lz:<guid>`, `wh:<chain>:<sequence>`). */
  inFlight: Map<string, bigint>;
  inFlightTotal: bigint;
  /** Token Wormhole messages in flight (to redeem when cleaning up). */
  pendingWormhole: PendingWormhole[];
  /**
   * Σ treasury per chain: the CollateralVault's token balance, or on an Aave chain the AaveAllocator's `principal()`
   * (+ the Solana reserve liquidity); Σ route balances (+ the Solana treasury).
   */
  vaults: bigint;
  routes: bigint;
  /** Σ over EVM chains of borrowLimit + reservedCredit + messenger (totalSent − totalReceived + totalPending + totalOrphaned). */
  capacity: bigint;
  perChain: Record<string, { supply: bigint; vault: bigint; route: bigint }>;
  /** Per Aave chain: the allocator's books, read in the same block-less pass (no keeper write runs while the checks read). */
  allocators: Record<string, AllocatorBooks>;
}

async function readAllocator(pub: ChaosEnv['chains'][string]['pub'], address: Hex): Promise<AllocatorBooks> {
  const r = (functionName: 'principal' | 'suppliedBalance' | 'cumulativeSupplied' | 'cumulativeWithdrawn' | 'cumulativeWithdrawnToRoute' | 'cumulativeDepositedFromRoute') =>
    pub.readContract({ address, abi: aaveAllocatorAbi, functionName });
  const [principal, suppliedBalance, cumulativeSupplied, cumulativeWithdrawn, cumulativeWithdrawnToRoute, cumulativeDepositedFromRoute] = await Promise.all([
    r('principal'),
    r('suppliedBalance'),
    r('cumulativeSupplied'),
    r('cumulativeWithdrawn'),
    r('cumulativeWithdrawnToRoute'),
    r('cumulativeDepositedFromRoute'),
  ]);
  return { principal, suppliedBalance, cumulativeSupplied, cumulativeWithdrawn, cumulativeWithdrawnToRoute, cumulativeDepositedFromRoute };
}

const lower = (h: string) => h.toLowerCase() as Hex;

/** Every memo transfer into or out of `account` whose memo starts with `prefix` (oldest first). */
function memoTransfers(env: ChaosEnv, account: string, prefix: string, from: string, to: string): Promise<MemoTransfer[]> {
  return listMemoTransfers({ connection: env.solana!, account: new PublicKey(account), memoPrefix: prefix, commitment: 'confirmed', from: new PublicKey(from), to: new PublicKey(to), searchLimit: 100_000 });
}

/** Reads supply, balances, capacity and in-flight messages on every chain. */
export async function readBooks(env: ChaosEnv): Promise<Books> {
  const perChain: Books['perChain'] = {};
  const sent = new Map<string, bigint>();
  const received = new Set<string>();
  const whSent: PendingWormhole[] = [];
  const deps = env.devnet.deployment.chains;
  const whChainOfKey = (k: string) => (k === SOLANA_KEY ? 1 : deps[k]!.whChainId);
  const keyOfWhChain = (c: number) => (c === 1 ? SOLANA_KEY : Object.values(deps).find((d) => d.whChainId === c)?.chainKey ?? `wh${c}`);
  let capacity = 0n;
  const allocators: Books['allocators'] = {};
  for (const [key, ch] of Object.entries(env.chains)) {
    const c = deps[key]!.contracts;
    const m = c.creditMessenger;
    const logs = <E extends AnyEvent>(address: Hex, event: E) => ch.pub.getLogs({ address, event, fromBlock: 0n, toBlock: 'latest' } as never) as unknown as Promise<{ args: Record<string, unknown> }[]>;
    // The treasury: the vault's token balance, or the allocator's principal (its tokens are in Aave's aToken contract).
    const treasury = c.aave
      ? readAllocator(ch.pub, c.aave.allocator).then((a) => {
          allocators[key] = a;
          return a.principal;
        })
      : ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.vault] });
    const [supply, vault, route, s, r, ws, wr, limit, reserved, cSent, cReceived, cPending, cOrphaned] = await Promise.all([
      ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'totalSupply' }),
      treasury,
      ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.route] }),
      logs(c.token, oftSent),
      logs(c.token, oftReceived),
      logs(c.wormholeAdapter, wormholeSent),
      logs(c.wormholeAdapter, wormholeReceived),
      ch.pub.readContract({ address: c.vault, abi: collateralVaultAbi, functionName: 'borrowLimit' }),
      ch.pub.readContract({ address: c.vault, abi: collateralVaultAbi, functionName: 'reservedCredit' }),
      ch.pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalSent' }),
      ch.pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalReceived' }),
      ch.pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalPending' }),
      ch.pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'totalOrphaned' }),
    ]);
    perChain[key] = { supply, vault, route };
    capacity += limit + reserved + cSent - cReceived + cPending + cOrphaned;
    for (const l of s) sent.set(`lz:${lower(l.args.guid as Hex)}`, l.args.amountSentLD as bigint);
    for (const l of r) received.add(`lz:${lower(l.args.guid as Hex)}`);
    const whChain = deps[key]!.whChainId;
    for (const l of ws) {
      const id = `wh:${whChain}:${String(l.args.sequence)}`;
      const dstChain = Number(l.args.dstChain);
      sent.set(id, l.args.amount as bigint);
      whSent.push({ kind: 'tokens', from: key, to: keyOfWhChain(dstChain), emitterChain: whChain, emitter: c.wormholeAdapter, sequence: l.args.sequence as bigint, key: l.args.rebalanceId as Hex, amount: l.args.amount as bigint });
    }
    for (const l of wr) received.add(`wh:${String(l.args.emitterChain)}:${String(l.args.sequence)}`);
  }
  const sol = env.devnet.solana;
  if (sol && env.solana) {
    const a = sol.accounts;
    const bal = async (acct: string) => BigInt((await env.solana!.getTokenAccountBalance(new PublicKey(acct), 'confirmed')).value.amount);
    const [reserve, treasury, custody, mintInfo, sends, redeems] = await Promise.all([
      bal(a.reserveLiquidity),
      bal(a.treasury),
      bal(a.custody),
      env.solana.getAccountInfo(new PublicKey(a.mint), 'confirmed'),
      // The custody's Wormhole sequence is its per-emitter message counter (devnet/solanaCustody.ts), from chain history.
      listCustodySends({ connection: env.solana, custody: new PublicKey(a.custody), commitment: 'confirmed' }),
      memoTransfers(env, a.treasury, 'ballast:redeem:', a.custody, a.treasury),
    ]);
    if (!mintInfo) throw new Error(`chaos: Solana mint ${a.mint} not found`);
    const mintSupply = unpackMint(new PublicKey(a.mint), mintInfo).supply;
    perChain[SOLANA_KEY] = { supply: mintSupply - custody, vault: reserve, route: treasury };
    const custodyHex = `0x${Buffer.from(new PublicKey(a.custody).toBytes()).toString('hex')}` as Hex;
    for (const t of sends) {
      const memo = parseWormholeSendMemo(t.memo);
      if (!memo) continue;
      const id = `wh:1:${t.sequence}`;
      sent.set(id, t.amount);
      whSent.push({ kind: 'tokens', from: SOLANA_KEY, to: keyOfWhChain(memo.dstChain), emitterChain: 1, emitter: custodyHex, sequence: t.sequence, key: memo.key, amount: t.amount });
    }
    // A release by the custody names the message key, not the sequence: match the EVM sends to Solana by key.
    const redeemed = new Set(redeems.map((t) => t.memo.slice('ballast:redeem:'.length).toLowerCase()));
    for (const w of whSent) if (w.to === SOLANA_KEY && redeemed.has(lower(w.key))) received.add(`wh:${w.emitterChain}:${w.sequence}`);
  }
  void whChainOfKey;
  const inFlight = new Map<string, bigint>();
  for (const [g, amt] of sent) if (!received.has(g)) inFlight.set(g, amt);
  const sum = (f: (x: { supply: bigint; vault: bigint; route: bigint }) => bigint) => Object.values(perChain).reduce((t, x) => t + f(x), 0n);
  return {
    totalSupply: sum((x) => x.supply),
    inFlight,
    inFlightTotal: [...inFlight.values()].reduce((x, y) => x + y, 0n),
    pendingWormhole: whSent.filter((w) => inFlight.has(`wh:${w.emitterChain}:${w.sequence}`)),
    vaults: sum((x) => x.vault),
    routes: sum((x) => x.route),
    capacity,
    perChain,
    allocators,
  };
}

/** Capacity Wormhole messages sent and not redeemed (to redeem when cleaning up). */
export async function pendingCreditWormhole(env: ChaosEnv): Promise<PendingWormhole[]> {
  const deps = env.devnet.deployment.chains;
  const out: PendingWormhole[] = [];
  const redeemed = new Set<string>();
  for (const [key, ch] of Object.entries(env.chains)) {
    const m = deps[key]!.contracts.creditMessenger;
    const logs = <E extends AnyEvent>(event: E) => ch.pub.getLogs({ address: m, event, fromBlock: 0n, toBlock: 'latest' } as never) as unknown as Promise<{ args: Record<string, unknown> }[]>;
    const [sends, returns, redeems] = await Promise.all([logs(creditSentWormhole), logs(creditReturnedWormhole), logs(wormholeCreditRedeemed)]);
    const toKey = (eid: number) => Object.values(deps).find((d) => d.eid === eid)?.chainKey ?? '';
    for (const l of sends) out.push({ kind: 'credit', from: key, to: toKey(Number(l.args.dstEid)), emitterChain: deps[key]!.whChainId, emitter: m, sequence: l.args.sequence as bigint, key: l.args.key as Hex, amount: l.args.amount as bigint });
    for (const l of returns) out.push({ kind: 'credit', from: key, to: toKey(Number(l.args.dstEid)), emitterChain: deps[key]!.whChainId, emitter: m, sequence: l.args.sequence as bigint, key: l.args.returnKey as Hex, amount: l.args.amount as bigint });
    for (const l of redeems) redeemed.add(`${String(l.args.emitterChain)}:${String(l.args.sequence)}`);
  }
  return out.filter((p) => !redeemed.has(`${p.emitterChain}:${p.sequence}`));
}

/** The on-chain record of one collateral rebalance (amounts in base units; counts of records per leg key). */
export interface RebalanceFacts {
  /** Withdrawn from the source vault / reserve under `id`. */
  out: bigint;
  /** The forward send's amount and message id (LayerZero GUID or the Wormhole message's ledger id). */
  sent: bigint;
  sentGuid: Hex;
  /** Deposited into the destination vault / reserve under `id`. */
  deposited: bigint;
  redeposited: bigint;
  returned: bigint;
  returnDeposited: bigint;
  /** Records per key: sends, vault moves and bridge deliveries (each must be ≤ 1). */
  events: { forwardSends: number; returnSends: number; withdrawals: number; deposits: number; redeposits: number; returnDeposits: number; forwardDeliveries: number; returnDeliveries: number };
}

/** One end of a rebalance, read by family. */
interface End {
  /** Σ and count of vault (reserve) moves under `key`: out of it (`withdraw`) or into it (`deposit`). */
  vault(kind: 'withdraw' | 'deposit', key: Hex): Promise<{ amount: bigint; count: number }>;
  /** The send recorded under `key` here over `bridge`: amount, message id, count of send records. */
  sent(key: Hex, bridge: string): Promise<{ amount: bigint; guid: Hex; count: number }>;
  /** How many times a message under `key` was delivered here (`guid`: LayerZero GUID). */
  deliveries(key: Hex, bridge: string, guid: Hex | undefined): Promise<number>;
}

const ZERO32 = `0x${'0'.repeat(64)}` as Hex;

function evmEnd(env: ChaosEnv, chainKey: string): End {
  const d = env.devnet.deployment.chains[chainKey]!;
  const c = d.contracts;
  const pub = env.chains[chainKey]!.pub;
  // The collateral legs' records are the treasury holder's: the AaveAllocator on an Aave chain (same ABI and events).
  const holder = treasuryHolderOf(env, chainKey);
  const count = async (address: Hex, event: AnyEvent, args: Record<string, unknown>) => (await pub.getLogs({ address, event, args, fromBlock: 0n, toBlock: 'latest' } as never)).length;
  return {
    async vault(kind, key) {
      const [amount, n] = await Promise.all([
        pub.readContract({ address: holder, abi: collateralVaultAbi, functionName: kind === 'withdraw' ? 'outflowOf' : 'inflowOf', args: [key] }),
        count(holder, kind === 'withdraw' ? withdrawnToRoute : depositedFromRoute, { rebalanceId: key }),
      ]);
      return { amount, count: n };
    },
    async sent(key, bridge) {
      if (bridge === 'wormhole') {
        const [rec, n] = await Promise.all([pub.readContract({ address: c.route, abi: ballastRouteAbi, functionName: 'wormholeSends', args: [key] }), count(c.route, routeSentWormhole, { rebalanceId: key })]);
        const r = rec as readonly unknown[];
        const amount = r[2] as bigint;
        return { amount, guid: amount === 0n ? ZERO32 : wormholeGuid(d.whChainId, c.wormholeAdapter, r[1] as bigint), count: n };
      }
      const [rec, n] = await Promise.all([pub.readContract({ address: c.route, abi: ballastRouteAbi, functionName: 'sends', args: [key] }), count(c.route, routeSent, { rebalanceId: key })]);
      return { amount: rec[2], guid: rec[0], count: n };
    },
    async deliveries(key, bridge, guid) {
      if (bridge === 'wormhole') return count(c.wormholeAdapter, wormholeReceived, { rebalanceId: key });
      if (!guid || guid === ZERO32) return 0;
      return count(c.token, oftReceived, { guid });
    },
  };
}

function solanaEnd(env: ChaosEnv): End {
  const a = env.devnet.solana!.accounts;
  const custodyHex = `0x${Buffer.from(new PublicKey(a.custody).toBytes()).toString('hex')}` as Hex;
  const total = (ts: MemoTransfer[]) => ({ amount: ts.reduce((x, t) => x + t.amount, 0n), count: ts.length });
  return {
    async vault(kind, key) {
      return total(kind === 'withdraw' ? await memoTransfers(env, a.reserveLiquidity, withdrawMemo(key), a.reserveLiquidity, a.treasury) : await memoTransfers(env, a.reserveLiquidity, depositMemo(key), a.treasury, a.reserveLiquidity));
    },
    async sent(key) {
      const prefix = wormholeSendMemoPrefix(key);
      const ts = (await listCustodySends({ connection: env.solana!, custody: new PublicKey(a.custody), commitment: 'confirmed' })).filter((t) => t.memo.startsWith(prefix) && t.source.equals(new PublicKey(a.treasury)));
      const first = ts[0];
      return { ...total(ts), guid: first ? wormholeGuid(1, custodyHex, first.sequence) : ZERO32 };
    },
    async deliveries(key) {
      return (await memoTransfers(env, a.treasury, redeemMemo(key), a.custody, a.treasury)).length;
    },
  };
}

const endOf = (env: ChaosEnv, chainKey: string): End => (chainKey === SOLANA_KEY ? solanaEnd(env) : evmEnd(env, chainKey));

/** Reads {@link RebalanceFacts} for `id` moving `from` → `to` over `bridge`. */
export async function readFacts(env: ChaosEnv, id: Hex, from: string, to: string, bridge = 'layerzero'): Promise<RebalanceFacts> {
  const src = endOf(env, from);
  const dst = endOf(env, to);
  const kRedeposit = legKey(id, 'redeposit');
  const kReturn = legKey(id, 'return');
  const kReturnDeposit = legKey(id, 'return-deposit');
  const [out, fwd, deposited, redeposited, ret, returnDeposited] = await Promise.all([
    src.vault('withdraw', id),
    src.sent(id, bridge),
    dst.vault('deposit', id),
    src.vault('deposit', kRedeposit),
    dst.sent(kReturn, bridge),
    src.vault('deposit', kReturnDeposit),
  ]);
  const [forwardDeliveries, returnDeliveries] = await Promise.all([dst.deliveries(id, bridge, fwd.guid), src.deliveries(kReturn, bridge, ret.guid)]);
  return {
    out: out.amount,
    sent: fwd.amount,
    sentGuid: fwd.guid,
    deposited: deposited.amount,
    redeposited: redeposited.amount,
    returned: ret.amount,
    returnDeposited: returnDeposited.amount,
    events: { forwardSends: fwd.count, returnSends: ret.count, withdrawals: out.count, deposits: deposited.count, redeposits: redeposited.count, returnDeposits: returnDeposited.count, forwardDeliveries, returnDeliveries },
  };
}

/** Tokens of a rebalance that are in no vault (in a route or in flight): out − redeposit − return-deposit − deposit. */
export function residualOf(f: RebalanceFacts): bigint {
  return f.out - f.redeposited - f.returnDeposited - f.deposited;
}

/** A broken promise, classified. */
export interface Violation {
  kind: 'fundsLost' | 'doubleSend' | 'outcomeMismatch' | 'badOutcome' | 'hung' | 'sagaFailed' | 'duplicateDelivery' | 'harness';
  rebalanceId?: Hex;
  /** The route of the saga (run.ts route names), when the violation is about one. */
  route?: string;
  detail: string;
  /** `fundsLost` / `duplicateDelivery`: base units unaccounted for; `outcomeMismatch`: the saga's amount (misattributed). */
  lostBaseUnits?: bigint;
}

/**
 * Checks one finished rebalance against its on-chain record:
 * - outcome ∈ {completed, compensated, stranded}; stranded ⇒ fundsLocation;
 * - no double send or double move: each send / vault move / delivery per key at most once, no amount above the
 *   saga's amount;
 * - the outcome matches what moved: completed = withdrawn, sent, deposited at the destination;
 *   compensated = nothing moved, or withdrawn and redeposited (not sent), or sent, returned and
 *   redeposited at the source; stranded = exactly `amount` outside the vaults, located by the send's
 *   message id when the send happened.
 */
export function checkRebalance(r: RebalanceResult, f: RebalanceFacts): Violation[] {
  const v: Violation[] = [];
  const id = r.rebalanceId;
  const A = r.amount;
  const add = (kind: Violation['kind'], detail: string) => v.push({ kind, rebalanceId: id, detail, lostBaseUnits: kind === 'outcomeMismatch' ? A : undefined });
  if (!['completed', 'compensated', 'stranded'].includes(r.outcome)) add('badOutcome', `outcome ${String(r.outcome)} is not completed/compensated/stranded`);
  if (r.outcome === 'stranded' && !r.fundsLocation) add('badOutcome', `stranded without fundsLocation (${r.reason ?? 'no reason'})`);
  const e = f.events;
  if (e.forwardSends > 1) add('doubleSend', `${e.forwardSends} send records for the forward send`);
  if (e.returnSends > 1) add('doubleSend', `${e.returnSends} send records for the return send`);
  if (e.withdrawals > 1 || e.deposits > 1 || e.redeposits > 1 || e.returnDeposits > 1 || e.forwardDeliveries > 1 || e.returnDeliveries > 1) add('doubleSend', `moves per key: ${JSON.stringify(e)}`);
  for (const [name, x] of [['withdrawn', f.out], ['sent', f.sent], ['deposited', f.deposited], ['redeposit', f.redeposited], ['return', f.returned], ['return-deposit', f.returnDeposited]] as const) {
    if (x > A) add('doubleSend', `${name} = ${x} > amount ${A}`);
  }
  const pattern = `out=${f.out} sent=${f.sent} deposited=${f.deposited} redeposited=${f.redeposited} returned=${f.returned} returnDeposited=${f.returnDeposited}`;
  const is = (out: bigint, sent: bigint, dep: bigint, redep: bigint, ret: bigint, retDep: bigint) =>
    f.out === out && f.sent === sent && f.deposited === dep && f.redeposited === redep && f.returned === ret && f.returnDeposited === retDep;
  if (r.outcome === 'completed' && !is(A, A, A, 0n, 0n, 0n)) add('outcomeMismatch', `completed but on chain ${pattern}`);
  if (r.outcome === 'compensated' && !(is(0n, 0n, 0n, 0n, 0n, 0n) || is(A, 0n, 0n, A, 0n, 0n) || is(A, A, 0n, 0n, A, A))) {
    add('outcomeMismatch', `compensated but on chain ${pattern}${f.sent > 0n && f.returned === 0n ? ' (sent over the bridge, never returned: those tokens are outside every vault and no saga owns them)' : ''}`);
  }
  if (r.outcome === 'stranded' && f.sent > 0n && r.fundsLocation && r.fundsLocation.guid !== undefined && r.fundsLocation.guid.toLowerCase() !== f.sentGuid.toLowerCase() && residualOf(f) === A && f.returned === 0n) {
    add('outcomeMismatch', `stranded after a send, but the funds are not located by its message id: fundsLocation.guid ${r.fundsLocation.guid}, on chain ${f.sentGuid} (${r.fundsLocation.summary})`);
  }
  if (r.outcome === 'stranded' && residualOf(f) !== A) add('outcomeMismatch', `stranded but ${residualOf(f)} (not the amount ${A}) is outside the vaults: ${pattern}`);
  return v;
}

/** The on-chain record of one capacity move. */
export interface CapacityFacts {
  reserved: bigint;
  /** Reservation status on the source vault (CollateralVault.ReservationStatus): 0 none, 1 reserved, 2 sent, 3 restored. */
  reservationStatus: number;
  sent: bigint;
  /** Applied on the destination under `id`, and back on the source under the return key. */
  applied: bigint;
  returned: bigint;
  returnApplied: bigint;
  events: { reserves: number; restores: number; sends: number; returns: number; forwardReceipts: number; returnReceipts: number; applies: number; returnApplies: number };
}

/** Reads {@link CapacityFacts} for capacity move `id` from `from` to `to`. */
export async function readCapacityFacts(env: ChaosEnv, id: Hex, from: string, to: string): Promise<CapacityFacts> {
  const deps = env.devnet.deployment.chains;
  const F = deps[from]!.contracts;
  const T = deps[to]!.contracts;
  const pf = env.chains[from]!.pub;
  const pt = env.chains[to]!.pub;
  const kReturn = legKey(id, 'return');
  const count = async (p: typeof pf, address: Hex, event: AnyEvent, args: Record<string, unknown>) => (await p.getLogs({ address, event, args, fromBlock: 0n, toBlock: 'latest' } as never)).length;
  const [res, lz, wh, applied, retLz, retWh, returnApplied, reserves, restores, sendsLz, sendsWh, returnsLz, returnsWh, fr, fo, rr, ro, applies, returnApplies] = await Promise.all([
    pf.readContract({ address: F.vault, abi: collateralVaultAbi, functionName: 'creditReservations', args: [id] }),
    pf.readContract({ address: F.creditMessenger, abi: creditMessengerAbi, functionName: 'sends', args: [id] }),
    pf.readContract({ address: F.creditMessenger, abi: creditMessengerAbi, functionName: 'wormholeSends', args: [id] }),
    pt.readContract({ address: T.vault, abi: collateralVaultAbi, functionName: 'appliedCreditOf', args: [id] }),
    pt.readContract({ address: T.creditMessenger, abi: creditMessengerAbi, functionName: 'sends', args: [kReturn] }),
    pt.readContract({ address: T.creditMessenger, abi: creditMessengerAbi, functionName: 'wormholeSends', args: [kReturn] }),
    pf.readContract({ address: F.vault, abi: collateralVaultAbi, functionName: 'appliedCreditOf', args: [kReturn] }),
    count(pf, F.vault, creditReserved, { key: id }),
    count(pf, F.vault, creditRestored, { key: id }),
    count(pf, F.creditMessenger, creditSent, { key: id }),
    count(pf, F.creditMessenger, creditSentWormhole, { key: id }),
    count(pt, T.creditMessenger, creditReturned, { key: id }),
    count(pt, T.creditMessenger, creditReturnedWormhole, { key: id }),
    count(pt, T.creditMessenger, creditReceived, { key: id }),
    count(pt, T.creditMessenger, creditOrphaned, { key: id }),
    count(pf, F.creditMessenger, creditReceived, { key: kReturn }),
    count(pf, F.creditMessenger, creditOrphaned, { key: kReturn }),
    count(pt, T.vault, creditApplied, { key: id }),
    count(pf, F.vault, creditApplied, { key: kReturn }),
  ]);
  const r = res as readonly unknown[];
  const amountOf = (x: unknown, i: number) => (x as readonly unknown[])[i] as bigint;
  return {
    reserved: r[0] as bigint,
    reservationStatus: Number(r[1]),
    sent: amountOf(lz, 2) + amountOf(wh, 3),
    applied,
    returned: amountOf(retLz, 2) + amountOf(retWh, 3),
    returnApplied,
    events: { reserves, restores, sends: sendsLz + sendsWh, returns: returnsLz + returnsWh, forwardReceipts: fr + fo, returnReceipts: rr + ro, applies, returnApplies },
  };
}

/** `CollateralVault.ReservationStatus.Restored`. */
const RESTORED = 3;

/** Capacity outside every borrow limit for this move: reserved − restored − applied − return-applied. */
export function capacityResidualOf(f: CapacityFacts): bigint {
  return f.reserved - (f.reservationStatus === RESTORED ? f.reserved : 0n) - f.applied - f.returnApplied;
}

/** {@link checkRebalance} for a capacity move. */
export function checkCapacity(r: CapacityMoveResult, f: CapacityFacts): Violation[] {
  const v: Violation[] = [];
  const A = r.amount;
  const add = (kind: Violation['kind'], detail: string) => v.push({ kind, rebalanceId: r.rebalanceId, detail, lostBaseUnits: kind === 'outcomeMismatch' ? A : undefined });
  if (!['completed', 'compensated', 'stranded'].includes(r.outcome)) add('badOutcome', `outcome ${String(r.outcome)} is not completed/compensated/stranded`);
  const e = f.events;
  if (Object.values(e).some((n) => n > 1)) add('doubleSend', `capacity records per key: ${JSON.stringify(e)}`);
  for (const [name, x] of [['reserved', f.reserved], ['sent', f.sent], ['applied', f.applied], ['returned', f.returned], ['return-applied', f.returnApplied]] as const) {
    if (x > A) add('doubleSend', `${name} = ${x} > amount ${A}`);
  }
  const pattern = `reserved=${f.reserved} (status ${f.reservationStatus}) sent=${f.sent} applied=${f.applied} returned=${f.returned} returnApplied=${f.returnApplied}`;
  const restored = f.reservationStatus === RESTORED;
  if (r.outcome === 'completed' && !(f.reserved === A && f.sent === A && f.applied === A && f.returned === 0n && f.returnApplied === 0n)) add('outcomeMismatch', `completed but on chain ${pattern}`);
  if (r.outcome === 'compensated' && !(f.reserved === 0n || (restored && f.sent === 0n) || (f.sent === A && f.applied === 0n && f.returned === A && f.returnApplied === A))) add('outcomeMismatch', `compensated but on chain ${pattern}`);
  if (r.outcome === 'stranded' && capacityResidualOf(f) !== A) add('outcomeMismatch', `stranded but ${capacityResidualOf(f)} (not the amount ${A}) of capacity is outside the limits: ${pattern}`);
  return v;
}
