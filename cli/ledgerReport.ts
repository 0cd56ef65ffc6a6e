/**
 * `ballast status --ledger` in text: the deployment ledger the monitor last checked (workflows/messages.ts
 * `MonitorStatus.ledger`): the supply section, then the treasury section (ledger/treasury.ts). Amounts are printed
 * exactly, in base units; signed figures with their sign.
 */
import type { MonitorStatus } from '../workflows/messages.js';
import type { TreasuryLedger } from '../ledger/treasury.js';

const signed = (x: bigint): string => (x > 0n ? `+${x}` : `${x}`);

/**
 * The supply section's lines (unchanged wording since before the treasury section).
 * @param l the monitor's `status.ledger`; `symbol` the asset's symbol.
 */
export function supplyLedgerLines(l: MonitorStatus['ledger'], symbol: string): string[] {
  const lines = [`deployment ledger (${symbol}, base units): ${l.halted ? `HALTED: ${l.halted}` : l.last ? (l.last.balanced ? 'balanced' : 'NOT BALANCED') : 'not checked yet (sagas in flight)'}`];
  if (l.last) {
    lines.push(`  opening supply ${l.openingSupply}; now ${l.last.totalSupply} (${Object.entries(l.last.perChain).map(([k, v]) => `${k} ${v}`).join(', ')}) + stranded in flight ${l.last.inFlightUndelivered}`);
    lines.push(`  checked at ${new Date(l.checkedAtMs ?? 0).toISOString()} at blocks ${Object.entries(l.last.blocks).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return lines;
}

/**
 * The treasury section's lines: per chain its position (Aave: principal, aToken balance, interest, rounding dust
 * (signed), the allocator's counters; vault: supplied, borrowed, idle, the vault's balance, its keeper-flow counters;
 * Solana: the reserve, its derived keeper net outflow (opening supplied − supplied) and the keeper's account), the
 * principal identity, the keeper-flow conservation line (over every holder; the derived terms named), and the
 * verdict: `balanced`, or each finding with its chain and difference. Amounts in base units.
 * @param t the ledger's `treasury` (absent: a monitor from before the treasury section, or not checked yet).
 */
export function treasuryLedgerLines(t: TreasuryLedger | undefined, symbol: string): string[] {
  if (!t) return [`treasury ledger (${symbol}, base units): not checked yet`];
  const verdict = t.balanced ? 'balanced' : t.halts ? 'NOT BALANCED (new rebalances halted)' : 'NOT BALANCED (reported, not halting)';
  const lines = [`treasury ledger (${symbol}, base units): ${verdict}`];
  for (const a of t.allocators) {
    lines.push(
      `  ${a.chainKey.padEnd(10)} Aave   principal ${a.principal}  aToken balance ${a.suppliedBalance}  interest ${a.interest}  rounding dust ${signed(a.roundingDust)}  ` +
        `(supplied ${a.cumulativeSupplied} − withdrawn ${a.cumulativeWithdrawn}; to route ${a.cumulativeWithdrawnToRoute} − from route ${a.cumulativeDepositedFromRoute}; route holds ${a.routeBalance})  block ${a.block}`,
    );
  }
  for (const v of t.vaults) {
    const flows = v.keeperNetOutflow === undefined ? 'no keeper-flow counters' : `to route ${v.cumulativeWithdrawnToRoute} − from route ${v.cumulativeDepositedFromRoute}`;
    lines.push(`  ${v.chainKey.padEnd(10)} vault  supplied ${v.totalSupplied}  borrowed ${v.totalBorrowed}  idle ${v.idle}  vault holds ${v.vaultBalance}${v.unaccounted !== 0n ? ` (${signed(v.unaccounted)} off its books)` : ''}  (${flows}; route holds ${v.routeBalance})  block ${v.block}`);
  }
  for (const s of t.solana) {
    // The Solana reserve keeps no counters: its keeper net outflow is derived from `supplied` (ledger/treasury.ts).
    const flows =
      s.keeperNetOutflow === undefined || !s.opening
        ? 'keeper flows not derived (no opening figure)'
        : s.openedNow
          ? `opened here: keeper net outflow (derived) = opening supplied ${s.opening.supplied} − supplied ${s.supplied} = 0 from slot ${s.opening.slot}`
          : `keeper net outflow (derived) ${s.keeperNetOutflow} = opening supplied ${s.opening.supplied} (slot ${s.opening.slot}) − supplied ${s.supplied}`;
    lines.push(`  ${s.chainKey.padEnd(10)} Solana reserve supplied ${s.supplied}  borrowed ${s.borrowed}  available ${s.reserveLiquidity}  (${flows}; keeper account ${s.keeperAccount})  slot ${s.slot}`);
  }
  if (t.allocators.length > 0) {
    const x = t.totals;
    const off = t.findings.filter((f) => f.kind === 'principal-counters');
    lines.push(
      `  Σ principal ${x.principal} = Σ(supplied − withdrawn) ${x.treasuryFlows} − Σ(to route − from route) ${x.keeperNetOutflow}: ${off.length === 0 ? 'balanced' : off.map((f) => `${f.chainKey} diff ${signed(f.diff)}`).join(', ')}` +
        `;  Σ aToken balance ${x.suppliedBalance} = principal + interest ${x.interest} + rounding dust ${signed(x.roundingDust)}`,
    );
  }
  const k = t.keeperFlows;
  if (k.checked) {
    const derived = k.perChain.filter((c) => c.derived).map((c) => c.chainKey);
    lines.push(
      `  keeper flows: Σ(to route − from route) ${k.netOutflow}${derived.length ? ` (${derived.join(', ')}: derived, opening supplied − supplied)` : ''} = Σ routes ${k.inRoutes} + in flight ${k.inFlightUndelivered}${k.acceptedDiff !== 0n ? ` + acknowledged ${signed(k.acceptedDiff)}` : ''}: ${k.diff === 0n ? 'balanced' : `diff ${signed(k.diff)} (${k.diff < 0n ? 'deficit' : 'surplus'})`}`,
    );
  } else {
    lines.push(`  keeper flows: not checked (${k.reason})`);
  }
  for (const f of t.findings) lines.push(`  ${f.halts ? 'MISMATCH' : 'NOTE'}: ${f.text}`);
  return lines;
}

/** Both sections, as `ballast status --ledger` prints them before the recent rebalances. */
export function deploymentLedgerLines(l: MonitorStatus['ledger'], symbol: string): string[] {
  return [...supplyLedgerLines(l, symbol), ...treasuryLedgerLines(l.last?.treasury, symbol)];
}
