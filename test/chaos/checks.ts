/**
 * What the chains say, read directly from anvil (never through the fault proxies): token supply, tokens
 * in flight over LayerZero (OFTSent without OFTReceived, by GUID), and per rebalance the on-chain
 * record of every leg, so each saga's outcome can be checked against the money it moved.
 */
import { erc20Abi, parseAbiItem, type Hex } from 'viem';
import { ballastRouteAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import { legKey } from '../../activities/legKey.js';
import type { RebalanceResult } from '../../workflows/types.js';
import type { ChaosEnv } from './env.js';

const oftSent = parseAbiItem('event OFTSent(bytes32 indexed guid, uint32 dstEid, address indexed fromAddress, uint256 amountSentLD, uint256 amountReceivedLD)');
const oftReceived = parseAbiItem('event OFTReceived(bytes32 indexed guid, uint32 srcEid, address indexed toAddress, uint256 amountReceivedLD)');
const routeSent = parseAbiItem('event RouteSent(bytes32 indexed rebalanceId, bytes32 indexed guid, uint32 dstEid, uint256 amount, uint256 nativeFee)');
const withdrawnToRoute = parseAbiItem('event WithdrawnToRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount, uint256 outflowInWindow)');
const depositedFromRoute = parseAbiItem('event DepositedFromRoute(bytes32 indexed rebalanceId, address indexed route, uint256 amount)');

/** Token totals over every chain (base units). */
export interface Books {
  /** Σ OFT totalSupply over chains. */
  totalSupply: bigint;
  /** Sent (burned) and not yet received (minted), by GUID. */
  inFlight: Map<Hex, bigint>;
  inFlightTotal: bigint;
  /** Σ vault token balances, Σ route token balances. */
  vaults: bigint;
  routes: bigint;
  perChain: Record<string, { supply: bigint; vault: bigint; route: bigint }>;
}

/** Reads supply, balances and in-flight packets on every chain. */
export async function readBooks(env: ChaosEnv): Promise<Books> {
  const perChain: Books['perChain'] = {};
  const sent = new Map<Hex, bigint>();
  const received = new Set<Hex>();
  for (const [key, ch] of Object.entries(env.chains)) {
    const c = env.devnet.deployment.chains[key]!.contracts;
    const [supply, vault, route, s, r] = await Promise.all([
      ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'totalSupply' }),
      ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.vault] }),
      ch.pub.readContract({ address: c.token, abi: erc20Abi, functionName: 'balanceOf', args: [c.route] }),
      ch.pub.getLogs({ address: c.token, event: oftSent, fromBlock: 0n, toBlock: 'latest' }),
      ch.pub.getLogs({ address: c.token, event: oftReceived, fromBlock: 0n, toBlock: 'latest' }),
    ]);
    perChain[key] = { supply, vault, route };
    for (const l of s) sent.set(l.args.guid!.toLowerCase() as Hex, l.args.amountSentLD!);
    for (const l of r) received.add(l.args.guid!.toLowerCase() as Hex);
  }
  const inFlight = new Map<Hex, bigint>();
  for (const [g, a] of sent) if (!received.has(g)) inFlight.set(g, a);
  const sum = (f: (x: { supply: bigint; vault: bigint; route: bigint }) => bigint) => Object.values(perChain).reduce((t, x) => t + f(x), 0n);
  return {
    totalSupply: sum((x) => x.supply),
    inFlight,
    inFlightTotal: [...inFlight.values()].reduce((a, b) => a + b, 0n),
    vaults: sum((x) => x.vault),
    routes: sum((x) => x.route),
    perChain,
  };
}

/** The on-chain record of one rebalance (amounts in base units; counts of events). */
export interface RebalanceFacts {
  /** from vault `outflowOf(id)`. */
  out: bigint;
  /** from route `sends(id).amount`. */
  sent: bigint;
  sentGuid: Hex;
  /** to vault `inflowOf(id)`. */
  deposited: bigint;
  /** from vault `inflowOf(legKey(id, 'redeposit'))`. */
  redeposited: bigint;
  /** to route `sends(legKey(id, 'return')).amount`. */
  returned: bigint;
  /** from vault `inflowOf(legKey(id, 'return-deposit'))`. */
  returnDeposited: bigint;
  /** Event counts: RouteSent for the forward and the return keys, WithdrawnToRoute, DepositedFromRoute per key. */
  events: { forwardSends: number; returnSends: number; withdrawals: number; deposits: number; redeposits: number; returnDeposits: number };
}

/** Reads {@link RebalanceFacts} for `id` moving `from` → `to`. */
export async function readFacts(env: ChaosEnv, id: Hex, from: string, to: string): Promise<RebalanceFacts> {
  const F = env.devnet.deployment.chains[from]!.contracts;
  const T = env.devnet.deployment.chains[to]!.contracts;
  const pf = env.chains[from]!.pub;
  const pt = env.chains[to]!.pub;
  const kRedeposit = legKey(id, 'redeposit');
  const kReturn = legKey(id, 'return');
  const kReturnDeposit = legKey(id, 'return-deposit');
  const count = async (p: typeof pf, address: Hex, event: typeof routeSent | typeof withdrawnToRoute | typeof depositedFromRoute, key: Hex) =>
    (await p.getLogs({ address, event, args: { rebalanceId: key }, fromBlock: 0n, toBlock: 'latest' } as never)).length;
  const [out, sendRec, deposited, redeposited, retRec, returnDeposited, forwardSends, returnSends, withdrawals, deposits, redeposits, returnDeposits] = await Promise.all([
    pf.readContract({ address: F.vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [id] }),
    pf.readContract({ address: F.route, abi: ballastRouteAbi, functionName: 'sends', args: [id] }),
    pt.readContract({ address: T.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [id] }),
    pf.readContract({ address: F.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [kRedeposit] }),
    pt.readContract({ address: T.route, abi: ballastRouteAbi, functionName: 'sends', args: [kReturn] }),
    pf.readContract({ address: F.vault, abi: collateralVaultAbi, functionName: 'inflowOf', args: [kReturnDeposit] }),
    count(pf, F.route, routeSent, id),
    count(pt, T.route, routeSent, kReturn),
    count(pf, F.vault, withdrawnToRoute, id),
    count(pt, T.vault, depositedFromRoute, id),
    count(pf, F.vault, depositedFromRoute, kRedeposit),
    count(pf, F.vault, depositedFromRoute, kReturnDeposit),
  ]);
  return {
    out,
    sent: sendRec[2],
    sentGuid: sendRec[0],
    deposited,
    redeposited,
    returned: retRec[2],
    returnDeposited,
    events: { forwardSends, returnSends, withdrawals, deposits, redeposits, returnDeposits },
  };
}

/** Tokens of a rebalance that are in no vault (in a route or in flight): out − redeposit − return-deposit − deposit. */
export function residualOf(f: RebalanceFacts): bigint {
  return f.out - f.redeposited - f.returnDeposited - f.deposited;
}

/** A broken promise, classified. */
export interface Violation {
  kind: 'fundsLost' | 'doubleSend' | 'outcomeMismatch' | 'badOutcome' | 'hung' | 'sagaFailed' | 'duplicateDelivery';
  rebalanceId?: Hex;
  detail: string;
  /** `fundsLost` / `duplicateDelivery`: base units unaccounted for; `outcomeMismatch`: the saga's amount (misattributed). */
  lostBaseUnits?: bigint;
}

/**
 * Checks one finished rebalance against its on-chain record:
 * - outcome ∈ {completed, compensated, stranded}; stranded ⇒ fundsLocation;
 * - no double send or double move: each RouteSent / WithdrawnToRoute / DepositedFromRoute key at most once,
 *   outflowOf(id) ≤ amount, inflowOf(id) ≤ amount;
 * - the outcome matches what moved: completed = withdrawn, sent, deposited at the destination;
 *   compensated = nothing moved, or withdrawn and redeposited (not sent), or sent, returned and
 *   redeposited at the source; stranded = exactly `amount` outside the vaults, located by the send's
 *   GUID when the send happened.
 */
export function checkRebalance(r: RebalanceResult, f: RebalanceFacts): Violation[] {
  const v: Violation[] = [];
  const id = r.rebalanceId;
  const A = r.amount;
  const add = (kind: Violation['kind'], detail: string) => v.push({ kind, rebalanceId: id, detail, lostBaseUnits: kind === 'outcomeMismatch' ? A : undefined });
  if (!['completed', 'compensated', 'stranded'].includes(r.outcome)) add('badOutcome', `outcome ${String(r.outcome)} is not completed/compensated/stranded`);
  if (r.outcome === 'stranded' && !r.fundsLocation) add('badOutcome', 'stranded without fundsLocation');
  const e = f.events;
  if (e.forwardSends > 1) add('doubleSend', `${e.forwardSends} RouteSent events for the forward send`);
  if (e.returnSends > 1) add('doubleSend', `${e.returnSends} RouteSent events for the return send`);
  if (e.withdrawals > 1 || e.deposits > 1 || e.redeposits > 1 || e.returnDeposits > 1) add('doubleSend', `vault moves per key: ${JSON.stringify(e)}`);
  for (const [name, x] of [['outflowOf', f.out], ['sends.amount', f.sent], ['inflowOf', f.deposited], ['redeposit', f.redeposited], ['return', f.returned], ['return-deposit', f.returnDeposited]] as const) {
    if (x > A) add('doubleSend', `${name} = ${x} > amount ${A}`);
  }
  const pattern = `out=${f.out} sent=${f.sent} deposited=${f.deposited} redeposited=${f.redeposited} returned=${f.returned} returnDeposited=${f.returnDeposited}`;
  const is = (out: bigint, sent: bigint, dep: bigint, redep: bigint, ret: bigint, retDep: bigint) =>
    f.out === out && f.sent === sent && f.deposited === dep && f.redeposited === redep && f.returned === ret && f.returnDeposited === retDep;
  if (r.outcome === 'completed' && !is(A, A, A, 0n, 0n, 0n)) add('outcomeMismatch', `completed but on chain ${pattern}`);
  if (r.outcome === 'compensated' && !(is(0n, 0n, 0n, 0n, 0n, 0n) || is(A, 0n, 0n, A, 0n, 0n) || is(A, A, 0n, 0n, A, A))) {
    add('outcomeMismatch', `compensated but on chain ${pattern}${f.sent > 0n && f.returned === 0n ? ' (sent over the bridge, never returned: those tokens are outside every vault and no saga owns them)' : ''}`);
  }
  if (r.outcome === 'stranded' && f.sent > 0n && r.fundsLocation && r.fundsLocation.guid?.toLowerCase() !== f.sentGuid.toLowerCase()) {
    add('outcomeMismatch', `stranded after a send, but the funds are not located by its GUID: fundsLocation.guid ${r.fundsLocation.guid ?? 'absent'}, route.sends(id).guid ${f.sentGuid} (${r.fundsLocation.summary})`);
  }
  if (r.outcome === 'stranded' && residualOf(f) !== A) add('outcomeMismatch', `stranded but ${residualOf(f)} (not the amount ${A}) is outside the vaults: ${pattern}`);
  return v;
}
