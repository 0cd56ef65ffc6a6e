/**
 * The deployment ledger in the treasury's terms: where the treasury's liquidity is (Aave aTokens held by an
 * AaveAllocator, a CollateralVault, a Solana reserve) and whether the keeper's flows between those holders are all
 * accounted for, to the base unit. Pure: no I/O, safe in workflows and unit tests (the reads are
 * chains/evm/ledgerReads.ts and activities/ledger.ts `checkDeploymentLedger`).
 *
 * Every amount is a bigint in the asset's base units (the underlying, e.g. 6-decimal USDC units; an aToken balance is
 * counted in the underlying it redeems for). Signed figures are said to be signed.
 *
 * Two checks, both exact (no tolerance):
 *
 * 1. Allocator counters, per Aave chain c (contracts/src/AaveAllocator.sol):
 *
 *        principal_c = (cumulativeSupplied_c − cumulativeWithdrawn_c) − (cumulativeWithdrawnToRoute_c − cumulativeDepositedFromRoute_c)
 *
 *    where the right side is signed and `principal()` saturates at 0 (it is `max(right side, 0)`). Treasurer/admin
 *    flows are the first bracket, keeper flows the second. A mismatch names the chain and the difference.
 *
 * 2. Keeper flows, over ALL treasury holders H of the deployment:
 *
 *        Σ_{c∈H} keeperNetOutflow_c  =  Σ_c route_c + inFlightUndelivered + acceptedDiff
 *
 *    - `keeperNetOutflow_c`, what the keeper took out of chain c's holder net of what it brought back, and where each
 *      figure comes from:
 *        · AaveAllocator and CollateralVault: a COUNTER, `cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute`
 *          (contracts/src/KeeperFlows.sol, the base both share: Σ `withdrawToRoute` − Σ `depositFromRoute`, updated in
 *          the same transaction as the transfer, exact). A vault whose bytecode predates the counters (both getters
 *          revert) has no such figure: the check is then not made, and says which chain.
 *        · Solana reserve (BallastDevReserve, chains/solana/reserve.ts, a data account with no counters): DERIVED,
 *          `openingSupplied − supplied`, where `supplied = liquidity balance + borrowed_amount` and `openingSupplied`
 *          is the same figure recorded at the first check that read the chain (`solanaOpening`, carried by the monitor
 *          like the supply check's opening supply). Exact because on this reserve only the keeper's legs change
 *          `supplied`: its withdraw / deposit legs move tokens between the liquidity account and the keeper's account
 *          (activities/solanaLegs.ts), the market's borrow and repay move liquidity ↔ borrowed and leave `supplied`
 *          unchanged (devnet/solanaDevnet.ts `setUtilization`, one atomic step), and the reserve accrues no interest.
 *          It would not be exact on a real lending program (interest and other suppliers change `supplied`): such a
 *          reserve needs a counter of its own. The keeper's net outflow before the opening is not known: on a
 *          deployment the monitor watched from the start the opening is taken before any rebalance (the first check
 *          runs on the first tick, with nothing in flight) so nothing is missed; a monitor started on a deployment
 *          whose Solana reserve already had keeper flows finds their difference at its first check (a deficit or a
 *          surplus), which `ballast resume` acknowledges like any other. Without `solanaOpening` in the input (a
 *          caller from before it) the Solana chain is not counted and the check is not made, saying why.
 *    - `route_c`: the asset held by chain c's route between legs: the BallastRoute's balance (`token.balanceOf(route)`)
 *      on an EVM chain, the keeper's token account (the Solana legs' route) on Solana;
 *    - `inFlightUndelivered`: stranded sends still burned (locked) and not minted (released) (the monitor's stranded
 *      list, located on the destination), exactly as in the supply check;
 *    - `acceptedDiff`: 0 from deployment; a difference an operator acknowledged with `ballast resume` after a halt
 *      (the next check records the difference it finds then, like the supply check re-opens; the Solana opening is
 *      kept: the acknowledged difference covers whatever happened there too).
 *    Valid when no saga is mid-flight (the monitor checks only then). `diff = Σ route + inFlight − Σ net outflow −
 *    acceptedDiff`: diff < 0 is a DEFICIT (tokens the keeper sent out of a holder that are in no route and not in
 *    flight: halts); diff > 0 is a SURPLUS (a route holds tokens the keeper never sent there: anyone can transfer
 *    tokens to a route, so it is reported and never halts; an inflation by a bridge shows in the supply check).
 *    The check is deployment-wide: a chain's route legitimately differs from its own net outflow by what was
 *    bridged in and out, which no contract totals, so a difference cannot be attributed to one chain; every chain's
 *    terms are listed with it (a derived one marked so).
 *
 * Interest and rounding dust (Aave core-v3 1.19.3 ray math, see AaveAllocator.sol): the underlying moved by
 * supply / withdraw is exact, so the counters and both checks above are exact; the aToken balance is a scaled
 * balance times the liquidity index, rounded half up at each supply / withdrawal (±1 wei per operation while the
 * index is below 2 ray). Per Aave chain, `gain = suppliedBalance − principal` (signed) is reported split in two,
 * neither ever folded into principal nor into the checks:
 *    `interest = max(gain, 0)` (accrued interest; may include the positive rounding of past operations, which an
 *    aToken does not record separately), and `roundingDust = min(gain, 0)` (signed, ≤ 0: the aToken balance rounded
 *    below principal, e.g. −1 right after a supply at an index with no interest accrued since; what a withdrawal of
 *    exactly `principal()` would miss). `suppliedBalance = principal + interest + roundingDust` exactly.
 */

/** One Aave chain's allocator and route, read at one block. Amounts: underlying base units. */
export interface AllocatorReading {
  chainKey: string;
  /** The block every figure of this chain was read at. */
  block: bigint;
  /** `AaveAllocator.principal()`: Σ in − Σ out, saturating at 0. */
  principal: bigint;
  /** `AaveAllocator.suppliedBalance()`: the allocator's aToken balance (interest and rounding included). */
  suppliedBalance: bigint;
  /** Σ `supply` (treasurer / admin). */
  cumulativeSupplied: bigint;
  /** Σ `withdraw` (admin). */
  cumulativeWithdrawn: bigint;
  /** Σ `withdrawToRoute` (keeper). */
  cumulativeWithdrawnToRoute: bigint;
  /** Σ `depositFromRoute` (route, keeper-driven). */
  cumulativeDepositedFromRoute: bigint;
  /** The asset held by the chain's BallastRoute. */
  routeBalance: bigint;
}

/** One CollateralVault chain's treasury position, read at one block. Amounts: base units. */
export interface VaultReading {
  chainKey: string;
  block: bigint;
  /** `CollateralVault.totalSupplied()` (suppliers' and keeper flows together). */
  totalSupplied: bigint;
  /** `CollateralVault.totalBorrowed()`. */
  totalBorrowed: bigint;
  /** `token.balanceOf(vault)`: should be `totalSupplied − totalBorrowed` exactly. */
  vaultBalance: bigint;
  /** The asset held by the chain's BallastRoute. */
  routeBalance: bigint;
  /** Σ `withdrawToRoute` (KeeperFlows.sol counter). Absent (with the next) for a vault deployed before the counters. */
  cumulativeWithdrawnToRoute?: bigint;
  /** Σ `depositFromRoute` (KeeperFlows.sol counter). */
  cumulativeDepositedFromRoute?: bigint;
}

/** One Solana chain's treasury position (chains/solana/readSolanaState.ts), read at one slot. Amounts: base units of the mint. */
export interface SolanaTreasuryReading {
  chainKey: string;
  slot: bigint;
  /** Reserve liquidity + borrowed. */
  supplied: bigint;
  borrowed: bigint;
  /** Token balance of the reserve's liquidity account (available). */
  reserveLiquidity: bigint;
  /** Token balance of the keeper's treasury account (the Solana legs' route: between legs). */
  keeperAccount: bigint;
}

/** A Solana reserve's `supplied` (liquidity balance + borrowed, base units) at the check that opened it, and that slot. */
export interface SolanaOpening {
  supplied: bigint;
  slot: bigint;
}

/** What {@link checkTreasuryLedger} takes: every holder's reading and the stranded amount still in flight. */
export interface TreasuryLedgerInput {
  allocators: AllocatorReading[];
  vaults: VaultReading[];
  solana: SolanaTreasuryReading[];
  /** Σ of stranded sends not delivered now (base units), as located for the supply check. */
  inFlightUndelivered: bigint;
  /** The keeper-flow difference an operator acknowledged (signed, base units; default 0). */
  acceptedDiff?: bigint;
  /** True on the first check after `ballast resume`: the difference found now becomes `acceptedDiff`. */
  reopen?: boolean;
  /**
   * Per Solana chain, its opening figure (the module doc, check 2). A chain read now and absent here is opened by
   * this check (its opening = this reading: net outflow 0). Absent altogether: Solana chains are not counted.
   */
  solanaOpening?: Record<string, SolanaOpening>;
}

/** An Aave chain's position: the reading and what follows from it. Amounts: underlying base units. */
export interface AllocatorPosition extends AllocatorReading {
  /** Signed: (cumulativeSupplied − cumulativeWithdrawn) − (cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute). */
  principalFromCounters: bigint;
  /** Signed: cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute. */
  keeperNetOutflow: bigint;
  /** Signed: suppliedBalance − principalFromCounters = interest + roundingDust. */
  gain: bigint;
  /** max(gain, 0). */
  interest: bigint;
  /** min(gain, 0): signed, ≤ 0. */
  roundingDust: bigint;
}

/** A vault chain's position. Amounts: base units. */
export interface VaultPosition extends VaultReading {
  /** totalSupplied − totalBorrowed (signed). */
  idle: bigint;
  /** vaultBalance − idle (signed; 0 when the vault's books match its tokens). */
  unaccounted: bigint;
  /** Signed: cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute (a counter); absent without the counters. */
  keeperNetOutflow?: bigint;
}

/** A Solana chain's position. Amounts: base units of the mint. */
export interface SolanaPosition extends SolanaTreasuryReading {
  /** The figure its keeper flows are derived from (absent: no opening given to the check). */
  opening?: SolanaOpening;
  /** True when this check opened it (`opening` is this reading). */
  openedNow?: boolean;
  /** Signed, DERIVED (not a counter): opening.supplied − supplied. Absent without an opening. */
  keeperNetOutflow?: bigint;
}

/** One chain's terms of the keeper-flow conservation. Amounts: base units, signed. */
export interface KeeperFlowTerms {
  chainKey: string;
  netOutflow: bigint;
  /** The route's balance (on Solana, the keeper's token account). */
  route: bigint;
  /** Set when `netOutflow` is derived (a Solana reserve: opening supplied − supplied), not a contract's counter. */
  derived?: true;
}

/** The keeper-flow conservation (check 2 of the module doc). Amounts: base units, signed. */
export type KeeperFlowConservation =
  | {
      checked: true;
      /** Σ keeper net outflow over every holder: the counters' (cumulativeWithdrawnToRoute − cumulativeDepositedFromRoute), Solana's derived. */
      netOutflow: bigint;
      /** Σ route balances (EVM routes and Solana keeper accounts). */
      inRoutes: bigint;
      inFlightUndelivered: bigint;
      /** The acknowledged difference this check used. */
      acceptedDiff: bigint;
      /** inRoutes + inFlightUndelivered − netOutflow − acceptedDiff: 0 balanced, < 0 deficit, > 0 surplus. */
      diff: bigint;
      perChain: KeeperFlowTerms[];
    }
  | {
      checked: false;
      /** Why not: the holders without cumulative keeper-flow counters. */
      reason: string;
      /** Carried unchanged. */
      acceptedDiff: bigint;
    };

/** Something that does not add up, named. */
export interface TreasuryFinding {
  /** The chain, when the finding is one chain's (absent: deployment-wide). */
  chainKey?: string;
  kind: 'principal-counters' | 'keeper-flow-deficit' | 'keeper-flow-surplus' | 'vault-balance';
  /** Signed difference, base units (observed − expected). */
  diff: bigint;
  /** Whether it stops new rebalances (exact and not explainable by interest, rounding or a third party's transfer). */
  halts: boolean;
  text: string;
}

/** The treasury section of the deployment ledger. */
export interface TreasuryLedger {
  allocators: AllocatorPosition[];
  vaults: VaultPosition[];
  solana: SolanaPosition[];
  /** The Solana openings after this check (the input's, plus any chain opened now); absent when none was given. */
  solanaOpening?: Record<string, SolanaOpening>;
  /** Sums over the Aave chains (underlying base units; `principalFromCounters`, `roundingDust` signed). */
  totals: { principal: bigint; principalFromCounters: bigint; treasuryFlows: bigint; keeperNetOutflow: bigint; suppliedBalance: bigint; interest: bigint; roundingDust: bigint };
  keeperFlows: KeeperFlowConservation;
  findings: TreasuryFinding[];
  /** No finding at all. */
  balanced: boolean;
  /** A finding that halts new rebalances. */
  halts: boolean;
  /** The findings, one sentence each, when not balanced. */
  where?: string;
}

const max0 = (x: bigint): bigint => (x > 0n ? x : 0n);
const min0 = (x: bigint): bigint => (x < 0n ? x : 0n);
const sum = <T>(xs: readonly T[], f: (x: T) => bigint): bigint => xs.reduce((s, x) => s + f(x), 0n);

/**
 * An allocator's counter identity (check 1 of the module doc): `principal() − max((supplied − withdrawn) − (to route −
 * from route), 0)`, signed, underlying base units; 0 when it holds. The monitor's check and the chaos checks use it.
 */
export function allocatorIdentityDiff(a: Pick<AllocatorReading, 'principal' | 'cumulativeSupplied' | 'cumulativeWithdrawn' | 'cumulativeWithdrawnToRoute' | 'cumulativeDepositedFromRoute'>): bigint {
  return a.principal - max0(a.cumulativeSupplied - a.cumulativeWithdrawn - (a.cumulativeWithdrawnToRoute - a.cumulativeDepositedFromRoute));
}

/**
 * Checks the treasury's books (see the module doc for the two checks, their terms and units).
 * @returns the positions per chain, the totals (over the Aave chains), the keeper-flow conservation (over every
 *   holder: counters on EVM chains, derived on Solana; not checked when a holder has no figure, with the reason), the
 *   Solana openings to carry to the next check, and the findings; `halts` when a finding stops new rebalances (a
 *   counter identity broken, or a keeper-flow deficit).
 * @example
 *   checkTreasuryLedger({ allocators: [a, b], vaults: [v], solana: [s], solanaOpening: {}, inFlightUndelivered: 0n }).keeperFlows
 *   // { checked: true, netOutflow: 0n, inRoutes: 0n, diff: 0n, … } (s opened by this check)
 */
export function checkTreasuryLedger(input: TreasuryLedgerInput): TreasuryLedger {
  const findings: TreasuryFinding[] = [];
  const allocators: AllocatorPosition[] = input.allocators.map((a) => {
    const keeperNetOutflow = a.cumulativeWithdrawnToRoute - a.cumulativeDepositedFromRoute;
    const principalFromCounters = a.cumulativeSupplied - a.cumulativeWithdrawn - keeperNetOutflow;
    const gain = a.suppliedBalance - principalFromCounters;
    const expected = max0(principalFromCounters);
    if (allocatorIdentityDiff(a) !== 0n) {
      findings.push({
        chainKey: a.chainKey,
        kind: 'principal-counters',
        diff: a.principal - expected,
        halts: true,
        text: `${a.chainKey}: allocator principal() ${a.principal} ≠ (supplied ${a.cumulativeSupplied} − withdrawn ${a.cumulativeWithdrawn}) − (to route ${a.cumulativeWithdrawnToRoute} − from route ${a.cumulativeDepositedFromRoute}) = ${principalFromCounters}${principalFromCounters < 0n ? ' (saturates at 0)' : ''}: diff ${a.principal - expected} at block ${a.block}`,
      });
    }
    return { ...a, principalFromCounters, keeperNetOutflow, gain, interest: max0(gain), roundingDust: min0(gain) };
  });

  const vaults: VaultPosition[] = input.vaults.map((v) => {
    const idle = v.totalSupplied - v.totalBorrowed;
    const unaccounted = v.vaultBalance - idle;
    if (unaccounted !== 0n) {
      findings.push({
        chainKey: v.chainKey,
        kind: 'vault-balance',
        diff: unaccounted,
        halts: false,
        text: `${v.chainKey}: vault holds ${v.vaultBalance}, its books say supplied ${v.totalSupplied} − borrowed ${v.totalBorrowed} = ${idle}: diff ${unaccounted} at block ${v.block} (reported, not halting)`,
      });
    }
    const counted = v.cumulativeWithdrawnToRoute !== undefined && v.cumulativeDepositedFromRoute !== undefined;
    return { ...v, idle, unaccounted, ...(counted ? { keeperNetOutflow: v.cumulativeWithdrawnToRoute! - v.cumulativeDepositedFromRoute! } : {}) };
  });

  const solanaOpening = input.solanaOpening ? { ...input.solanaOpening } : undefined;
  const solana: SolanaPosition[] = input.solana.map((s) => {
    if (!solanaOpening) return { ...s };
    const known = solanaOpening[s.chainKey];
    const opening = known ?? { supplied: s.supplied, slot: s.slot };
    solanaOpening[s.chainKey] = opening;
    return { ...s, opening, ...(known ? {} : { openedNow: true as const }), keeperNetOutflow: opening.supplied - s.supplied };
  });

  const uncounted = [
    ...vaults.filter((v) => v.keeperNetOutflow === undefined).map((v) => `${v.chainKey} (CollateralVault without keeper-flow counters: deployed before them)`),
    ...solana.filter((s) => s.keeperNetOutflow === undefined).map((s) => `${s.chainKey} (Solana reserve: no opening figure given to derive its keeper flows from)`),
  ];
  let keeperFlows: KeeperFlowConservation;
  if (uncounted.length > 0) {
    keeperFlows = { checked: false, reason: `keeper flows not totalled on ${uncounted.join(', ')}`, acceptedDiff: input.acceptedDiff ?? 0n };
  } else {
    const perChain: KeeperFlowTerms[] = [
      ...allocators.map((a) => ({ chainKey: a.chainKey, netOutflow: a.keeperNetOutflow, route: a.routeBalance })),
      ...vaults.map((v) => ({ chainKey: v.chainKey, netOutflow: v.keeperNetOutflow!, route: v.routeBalance })),
      ...solana.map((s) => ({ chainKey: s.chainKey, netOutflow: s.keeperNetOutflow!, route: s.keeperAccount, derived: true as const })),
    ];
    const netOutflow = sum(perChain, (t) => t.netOutflow);
    const inRoutes = sum(perChain, (t) => t.route);
    const raw = inRoutes + input.inFlightUndelivered - netOutflow;
    const acceptedDiff = input.reopen ? raw : (input.acceptedDiff ?? 0n);
    const diff = raw - acceptedDiff;
    keeperFlows = { checked: true, netOutflow, inRoutes, inFlightUndelivered: input.inFlightUndelivered, acceptedDiff, diff, perChain };
    if (diff !== 0n) {
      const terms = `Σ(to route − from route) ${netOutflow} [${perChain.map((t) => `${t.chainKey} ${t.netOutflow}${t.derived ? ' (derived)' : ''}`).join(', ')}] vs Σ routes ${inRoutes} [${perChain.map((t) => `${t.chainKey} ${t.route}`).join(', ')}] + in flight ${input.inFlightUndelivered}${acceptedDiff !== 0n ? ` + acknowledged ${acceptedDiff}` : ''}`;
      findings.push(
        diff < 0n
          ? { kind: 'keeper-flow-deficit', diff, halts: true, text: `keeper flows: ${terms}: diff ${diff} (deficit: ${-diff} base units the keeper sent out of the treasury holders are in no route and not in flight)` }
          : { kind: 'keeper-flow-surplus', diff, halts: false, text: `keeper flows: ${terms}: diff +${diff} (surplus: the routes hold ${diff} base units the keeper never sent there; reported, not halting)` },
      );
    }
  }

  const treasuryFlows = sum(allocators, (a) => a.cumulativeSupplied - a.cumulativeWithdrawn);
  const keeperNetOutflow = sum(allocators, (a) => a.keeperNetOutflow);
  const totals = {
    principal: sum(allocators, (a) => a.principal),
    principalFromCounters: treasuryFlows - keeperNetOutflow,
    treasuryFlows,
    keeperNetOutflow,
    suppliedBalance: sum(allocators, (a) => a.suppliedBalance),
    interest: sum(allocators, (a) => a.interest),
    roundingDust: sum(allocators, (a) => a.roundingDust),
  };
  const balanced = findings.length === 0;
  return {
    allocators,
    vaults,
    solana,
    ...(solanaOpening ? { solanaOpening } : {}),
    totals,
    keeperFlows,
    findings,
    balanced,
    halts: findings.some((f) => f.halts),
    ...(balanced ? {} : { where: findings.map((f) => f.text).join('; ') }),
  };
}
