/**
 * The Ballast config file schema (zod). This module owns every default and every validation
 * message of the config; `load.ts` reads files and turns zod issues into a {@link ConfigError}.
 *
 * Units in the file:
 * - amounts (`minBuffer`, `caps.*` except `windowSec`, `capacity.minMove`/`maxMove`, `bridges.*.rateLimit`) are
 *   whole numbers of the asset's BASE UNITS, written as a decimal string (`"250000000000"`) or a plain integer;
 *   they become `bigint`. Integers above 2^53 must be strings (a JSON number that large has already lost digits).
 *   `parseConfig` (load.ts) also accepts them in TOKEN UNITS (`"250000 USDC"`, `"0.5 USDC"`, `"250k"`, `"5m"`) and
 *   converts them exactly first (amounts.ts); this schema alone sees base units only.
 * - band edges are percents (`60`, `72.5`, at most 2 decimals); they become WAD `bigint`
 *   (1e18 = 100%) by string arithmetic, never float math.
 * - times are integers named with their unit (`...Sec`).
 * - addresses are `0x` + 40 hex; returned EIP-55 checksummed (viem `getAddress`).
 *
 * Keys are never in the config: `keeper.privateKeyEnv` names the environment variable holding it, or
 * `keeper.keystoreFile` points at an encrypted keystore whose password is in the environment variable
 * named by `keeper.keystorePasswordEnv`.
 */
import { z } from 'zod';
import { getAddress, isAddress } from 'viem';
import { PublicKey } from '@solana/web3.js';
import { PYTH_RECEIVER_PROGRAM_ID } from '../chains/solana/programs.js';
import { WAD } from '../planner/types.js';
import type { ChainPolicy } from '../planner/types.js';

/** Defaults applied when a field is absent. Exported so docs and the CLI can show them. */
export const CONFIG_DEFAULTS = {
  temporal: { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'ballast' },
  metrics: { port: 9464, host: '127.0.0.1' },
  tick: { intervalSec: 10, maxTicksBeforeContinueAsNew: 100 },
  keeper: { privateKeyEnv: 'BALLAST_KEEPER_PRIVATE_KEY', keystorePasswordEnv: 'BALLAST_KEYSTORE_PASSWORD' },
  layerzero: { lzReceiveGas: 200_000, deliveryDeadlineSec: 600 },
  wormhole: { deliveryDeadlineSec: 1800, vaaPollIntervalMs: 1000 },
  planner: { kind: 'optimal', timeBudgetMs: 1000 },
  /**
   * `planner.objective`, `planner.yieldHorizonSec` and `planner.forecastHorizonSec` when absent (kept apart so a parsed
   * config's `planner` is unchanged).
   */
  plannerYield: { objective: 'band', yieldHorizonSec: 30 * 86_400, forecastHorizonSec: 86_400 },
  /**
   * `planner.gasTiming` when absent or when a field of it is (on with the yield objective; planner/timing.ts): wait above
   * the 24 h median base fee, a wait expected to last 6 h (planner/timing.ts `DEFAULT_TIMING_POLICY`).
   */
  plannerGasTiming: { percentile: 50, windowSec: 86_400, expectedWaitSec: 21_600 },
  bridges: { layerzero: { feeBps: 0, latencySec: 120 }, wormhole: { feeBps: 0, latencySec: 1200 } },
  confirmations: 1,
  receiptTimeoutSec: 60,
  risk: { approvalWindowSec: 86_400 },
  lp: { requireMandates: false },
  deploy: { maxMessageSize: 10_000, tokenName: 'Ballast USD', tokenSymbol: 'bUSD', wormholeConsistencyLevel: 1 },
  /** Oracle guard (planner/oracle.ts `guardOracle`; the same value as its `DEFAULT_REANCHOR_ROUNDS`). */
  oracle: { reanchorRounds: 3 },
  solana: { keyEnv: 'BALLAST_SOLANA_KEEPER_KEY', pythReceiverProgram: PYTH_RECEIVER_PROGRAM_ID, maxConfBps: 200, priorityFeeMicroLamports: 1000, computeUnitLimit: 60_000, confirmTimeoutSec: 60 },
} as const;

const SLUG = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;
const CHAIN_KEY = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const PERCENT = /^\d{1,3}(?:\.\d{1,2})?$/;
const BASE_UNITS = /^-?\d+$/;

/** What a config file may hold for an amount: base units as a decimal string or an integer. */
export type AmountInput = string | number | bigint;

/**
 * Parse an amount in base units. Exported for the CLI (e.g. `--amount`).
 * @returns the amount, or a message saying why it is not one.
 */
export function parseAmount(v: unknown): { ok: true; value: bigint } | { ok: false; message: string } {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) {
      return { ok: false, message: 'amounts are whole numbers of base units (no decimals); scale by 10^asset.decimals' };
    }
    if (!Number.isSafeInteger(v)) {
      return { ok: false, message: 'integer above 2^53 cannot be represented exactly; write it as a quoted string of base units' };
    }
    n = BigInt(v);
  } else if (typeof v === 'string') {
    const s = v.trim();
    if (!BASE_UNITS.test(s)) {
      return {
        ok: false,
        message: 'must be a whole number of base units as a decimal string, e.g. "250000000000" (no decimals, units or separators)',
      };
    }
    n = BigInt(s);
  } else if (v === undefined) {
    return { ok: false, message: 'required' };
  } else {
    return { ok: false, message: 'must be a whole number of base units (string or integer)' };
  }
  if (n < 0n) return { ok: false, message: 'must be ≥ 0' };
  return { ok: true, value: n };
}

/**
 * Stands in for an amount that `parseConfig` could not convert from token units (amounts.ts): the schema reports
 * `message` at the amount's path, in order with every other issue.
 */
export interface UnconvertibleAmount {
  readonly unconvertibleAmount: string;
}

/** Whether `v` is an {@link UnconvertibleAmount}. */
export function isUnconvertibleAmount(v: unknown): v is UnconvertibleAmount {
  return typeof v === 'object' && v !== null && typeof (v as { unconvertibleAmount?: unknown }).unconvertibleAmount === 'string';
}

const amount = z.custom<AmountInput>(() => true).transform((v, ctx): bigint => {
  const r = isUnconvertibleAmount(v) ? { ok: false as const, message: v.unconvertibleAmount } : parseAmount(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message, input: v });
    return z.NEVER;
  }
  return r.value;
});

/**
 * Convert a percent (`60`, `"72.5"`, `0.01`; 0..100, at most 2 decimals) to WAD exactly.
 * @example percentToWad('72.5') // 725000000000000000n
 */
export function percentToWad(v: unknown): { ok: true; value: bigint } | { ok: false; message: string } {
  if (v === undefined) return { ok: false, message: 'required' };
  if (typeof v !== 'number' && typeof v !== 'string' && typeof v !== 'bigint') {
    return { ok: false, message: 'must be a percent number, e.g. 60 or 72.5' };
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return { ok: false, message: 'must be a finite percent' };
  // String(number) of a value with at most 2 decimals is its shortest round-trip form ("72.5", "0.01").
  const s = String(v).trim();
  if (!PERCENT.test(s)) {
    return { ok: false, message: 'must be a percent between 0 and 100 with at most 2 decimals, e.g. 60 or 72.5' };
  }
  const [whole, frac = ''] = s.split('.') as [string, string?];
  const wad = BigInt(whole) * (WAD / 100n) + BigInt(frac.padEnd(2, '0')) * (WAD / 10_000n);
  if (wad > WAD) return { ok: false, message: 'must be between 0 and 100' };
  return { ok: true, value: wad };
}

const percent = z.custom<number | string>(() => true).transform((v, ctx): bigint => {
  const r = percentToWad(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.message, input: v });
    return z.NEVER;
  }
  return r.value;
});

const address = z
  .string()
  .regex(ADDRESS, { error: 'must be an EVM address: 0x followed by 40 hex digits' })
  .refine((s) => !ADDRESS.test(s) || isAddress(s, { strict: true }), {
    error: 'bad EIP-55 checksum (mixed case that does not match); write it all-lowercase or correctly checksummed',
  })
  .transform((s) => getAddress(s));

/** A contract address: an {@link address} that is not `0x000…0` (no code lives there; calls to it "succeed" with empty data). */
const contractAddress = address.refine((a) => BigInt(a) !== 0n, {
  error: 'must not be the zero address: set the deployed contract\'s address',
});

/** A Wormhole chain id: uint16, 1..65535 (0 is "unset" in Wormhole). */
const wormholeChainId = z
  .number({ error: 'must be a Wormhole chain id, an integer 1..65535 (e.g. 2 Ethereum, 23 Arbitrum, 30 Base; not the EVM chain id)' })
  .int({ error: 'must be a Wormhole chain id, an integer 1..65535 (e.g. 2 Ethereum, 23 Arbitrum, 30 Base; not the EVM chain id)' })
  .min(1, { error: 'must be a Wormhole chain id, an integer 1..65535 (e.g. 2 Ethereum, 23 Arbitrum, 30 Base; not the EVM chain id)' })
  .max(65_535, { error: 'must be a Wormhole chain id, an integer 1..65535 (e.g. 2 Ethereum, 23 Arbitrum, 30 Base; not the EVM chain id)' });

const posInt = (what = 'a positive integer') => z.number({ error: `must be ${what}` }).int({ error: `must be ${what}` }).positive({ error: `must be ${what}` });

/**
 * A refinement reporting a value used in two roles of one object (`path: [role]`), e.g. one address as both the
 * route and the vault. `key` normalizes a value (undefined = skip it: invalid, reported elsewhere).
 */
function distinctRoles(key: (v: unknown) => string | undefined, message: (firstRole: string) => string) {
  return (obj: Record<string, unknown> | undefined, ctx: z.RefinementCtx): void => {
    const seen = new Map<string, string>();
    for (const [role, v] of Object.entries(obj ?? {})) {
      const k = key(v);
      if (k === undefined) continue;
      const first = seen.get(k);
      if (first === undefined) seen.set(k, role);
      else ctx.addIssue({ code: 'custom', path: [role], message: message(first) });
    }
  };
}

/** A chain's utilization band: percents in the file, WAD out (`lowWad < highWad`). */
const bandSchema = z
    .strictObject({ lowPct: percent, highPct: percent })
    .superRefine(
      (b, ctx) => {
        if (typeof b?.lowPct === 'bigint' && typeof b.highPct === 'bigint' && b.lowPct >= b.highPct) {
          ctx.addIssue({ code: 'custom', path: ['lowPct'], message: `must be < band.highPct (${fmtPct(b.highPct)})` });
        }
      },
      { when: () => true },
    )
    .transform((b) => ({ lowWad: b.lowPct, highWad: b.highPct }));

/** A chain's caps: amounts in base units, `windowSec` seconds (`minTransfer ≤ maxTransfer`). */
const capsSchema = z
    .strictObject({
      maxOutflowPerWindow: amount,
      windowSec: posInt('a positive integer number of seconds'),
      maxTransfer: amount,
      minTransfer: amount,
    })
    .superRefine(
      (c, ctx) => {
        if (typeof c?.minTransfer === 'bigint' && typeof c.maxTransfer === 'bigint' && c.minTransfer > c.maxTransfer) {
          ctx.addIssue({ code: 'custom', path: ['minTransfer'], message: `must be ≤ caps.maxTransfer (${c.maxTransfer})` });
        }
      },
      { when: () => true },
    );

/** An integer number of basis points, 1..10000. */
const bpsSchema = z
  .number({ error: 'must be an integer number of basis points, 1..10000' })
  .int({ error: 'must be an integer number of basis points, 1..10000' })
  .min(1, { error: 'must be ≥ 1 bps' })
  .max(10_000, { error: 'must be ≤ 10000 bps (100%)' });

/** The name of an environment variable (never its value); `example` and `note` go into the error message. */
const envName = (example: string, note = '') => z.string().regex(ENV_NAME, { error: `must be an environment variable name, e.g. "${example}"${note}` });

/**
 * A chain's oracle limits: staleness in seconds, deviation between accepted answers in bps, and how the deviation
 * reference recovers from a real move larger than the limit (planner/oracle.ts `guardOracle`):
 * - `reanchorRounds` (default 3): that many consecutive rounds (distinct round ids, each fresh, complete, positive,
 *   refused for deviation alone) agreeing with each other re-anchor the reference to the new level; evidence, never
 *   elapsed time. 0 = never re-anchor (a refused move keeps the chain out until the price comes back: not
 *   recommended); 1 is refused (it would accept every jump at once, i.e. no deviation check).
 * - `reanchorAgreementBps` (default `maxDeviationBps`): how close those rounds must be to each other (every pair).
 */
const oracleSchema = z.strictObject({
    maxStalenessSec: posInt('a positive integer number of seconds'),
    maxDeviationBps: bpsSchema,
    reanchorRounds: z
      .number({ error: 'must be an integer number of rounds: 0 (never re-anchor) or 2..100' })
      .int({ error: 'must be an integer number of rounds: 0 (never re-anchor) or 2..100' })
      .min(0, { error: 'must be ≥ 0 (0 = never re-anchor)' })
      .max(100, { error: 'must be ≤ 100 rounds' })
      .refine((n) => n !== 1, { error: 'must be 0 (never re-anchor) or ≥ 2: 1 would accept every jump at once (no deviation check)' })
      .default(CONFIG_DEFAULTS.oracle.reanchorRounds),
    reanchorAgreementBps: bpsSchema.optional(),
  });

/** An EVM JSON-RPC URL (may carry an API key: print it only through `redactRpcUrl`, chains/evm/errors.ts). */
const evmRpcUrl = z.url({ protocol: /^(?:https?|wss?)$/, error: 'must be an http(s):// or ws(s):// URL' });

/**
 * LayerZero settings `ballast deploy` pins on every Ballast OApp of a chain (the BallastToken OFT and the
 * CreditMessenger), for each pathway to another configured chain, through the chain's EndpointV2:
 * - `sendLib` / `receiveLib`: the message libraries (SendUln302 / ReceiveUln302 on production LayerZero; registered on
 *   the endpoint) set with `setSendLibrary` / `setReceiveLibrary` (grace period 0).
 * - `executor`, `maxMessageSize` (bytes): the send library's executor config (`CONFIG_TYPE_EXECUTOR` = 1).
 * - `requiredDVNs`, `optionalDVNs`, `optionalDVNThreshold`: DVN contracts ON THIS CHAIN. They go in the ULN config
 *   (`CONFIG_TYPE_ULN` = 2) of this chain's send library for messages it sends, and of its receive library for messages it
 *   receives; the same DVN providers must be configured on the other chains (their own addresses there).
 * - `confirmations`: blocks of THIS chain the DVNs wait before verifying a message sent from it (the send config
 *   here, and the receive config of every other chain for messages from here); 0 = none.
 * - `enforcedLzReceiveGas`: gas every OFT send to another chain carries at least (`setEnforcedOptions`, executor
 *   lzReceive option); default: the top-level `layerzero.lzReceiveGas`.
 */
const lzDeploySchema = z
  .strictObject({
    sendLib: contractAddress,
    receiveLib: contractAddress,
    executor: contractAddress,
    maxMessageSize: posInt('a positive integer number of bytes').default(CONFIG_DEFAULTS.deploy.maxMessageSize),
    confirmations: z
      .number({ error: 'must be a whole number of blocks ≥ 0' })
      .int({ error: 'must be a whole number of blocks ≥ 0' })
      .min(0, { error: 'must be a whole number of blocks ≥ 0' }),
    requiredDVNs: z.array(contractAddress, { error: 'must be a list of DVN addresses on this chain' }).max(127, { error: 'at most 127 DVNs' }),
    optionalDVNs: z.array(contractAddress, { error: 'must be a list of DVN addresses on this chain' }).max(127, { error: 'at most 127 DVNs' }).default([]),
    optionalDVNThreshold: z
      .number({ error: 'must be an integer 0..optionalDVNs.length' })
      .int({ error: 'must be an integer 0..optionalDVNs.length' })
      .min(0, { error: 'must be ≥ 0' })
      .default(0),
    enforcedLzReceiveGas: posInt('a positive integer amount of gas').optional(),
  })
  .superRefine(
    (l, ctx) => {
      for (const list of ['requiredDVNs', 'optionalDVNs'] as const) {
        const seen = new Set<string>();
        (Array.isArray(l?.[list]) ? l[list] : []).forEach((a, i) => {
          if (typeof a !== 'string') return;
          if (seen.has(a.toLowerCase())) ctx.addIssue({ code: 'custom', path: [list, i], message: 'duplicate DVN' });
          seen.add(a.toLowerCase());
        });
      }
      const optional = Array.isArray(l?.optionalDVNs) ? l.optionalDVNs.length : 0;
      const threshold = typeof l?.optionalDVNThreshold === 'number' ? l.optionalDVNThreshold : 0;
      if (threshold > optional) ctx.addIssue({ code: 'custom', path: ['optionalDVNThreshold'], message: `must be ≤ the number of optionalDVNs (${optional})` });
      if (optional > 0 && threshold === 0) ctx.addIssue({ code: 'custom', path: ['optionalDVNThreshold'], message: 'must be ≥ 1 when optionalDVNs are listed' });
      if (Array.isArray(l?.requiredDVNs) && l.requiredDVNs.length === 0 && threshold === 0) {
        ctx.addIssue({ code: 'custom', path: ['requiredDVNs'], message: 'needs at least one DVN (or optionalDVNs with optionalDVNThreshold ≥ 1): LayerZero refuses a pathway nobody verifies' });
      }
    },
    { when: () => true },
  );

/**
 * What `ballast deploy` (deploy/, README "Deploying to real chains") needs on one chain besides the chain's own
 * fields (optional: the keeper never reads it). `keeper`: the keeper's address (KEEPER_ROLE on the vault, the route
 * and the allocator; a keeper of the CreditMessenger). `admin`: who administers the contracts once wired (default: the
 * deploying signer; when another address, e.g. a multisig, the last steps grant it DEFAULT_ADMIN_ROLE, make it the
 * endpoint delegate and transfer it the ownership of the OApps and the Wormhole adapter). `tokenName` / `tokenSymbol`:
 * of a BallastToken deployed here. `wormholeConsistencyLevel`: of a WormholeAdapter deployed here and of the
 * CreditMessenger's Wormhole messages (Wormhole EVM: 1 = finalized, 200 = instant).
 */
const chainDeploySchema = z.strictObject({
  keeper: address,
  admin: address.optional(),
  tokenName: z.string().min(1, { error: 'must not be empty' }).default(CONFIG_DEFAULTS.deploy.tokenName),
  tokenSymbol: z.string().min(1, { error: 'must not be empty' }).default(CONFIG_DEFAULTS.deploy.tokenSymbol),
  wormholeConsistencyLevel: z
    .number({ error: 'must be a Wormhole consistency level, an integer 0..255' })
    .int({ error: 'must be a Wormhole consistency level, an integer 0..255' })
    .min(0, { error: 'must be ≥ 0' })
    .max(255, { error: 'must be ≤ 255' })
    .default(CONFIG_DEFAULTS.deploy.wormholeConsistencyLevel),
  layerzero: lzDeploySchema,
});

/**
 * One EVM chain. Its RPC: `rpcUrl` (one URL) or `rpcUrls` (several, in order of preference: the keeper sends each
 * request to the first and falls over to the next when one does not answer; viem `fallback`, chains/evm/clients.ts);
 * exactly one of the two. The validated entry has both: `rpcUrls` (all) and `rpcUrl` (the first).
 */
const chainSchema = z.strictObject({
  key: z.string().regex(CHAIN_KEY, { error: 'must be a lowercase slug: a-z, 0-9 and single dashes, e.g. "arbitrum"' }),
  chainId: posInt('a positive integer (EVM chain id)'),
  rpcUrl: evmRpcUrl.optional(),
  rpcUrls: z
    .array(evmRpcUrl, { error: 'must be a list of http(s):// or ws(s):// URLs, in order of preference' })
    .min(1, { error: 'needs at least one URL' })
    .superRefine(
      (urls, ctx) => {
        urls.forEach((u, i) => {
          const first = urls.indexOf(u);
          if (typeof u === 'string' && first < i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate: rpcUrls[${first}] is the same URL` });
        });
      },
      { when: () => true },
    )
    .optional(),
  eid: posInt('a positive integer (LayerZero endpoint id)'),
  contracts: z
    .strictObject({
      multicall3: contractAddress,
      endpoint: contractAddress,
      token: contractAddress,
      vault: contractAddress,
      route: contractAddress,
      priceFeed: contractAddress,
    })
    // One address in two roles is a copy-paste error (e.g. the route set to the vault).
    .superRefine(
      distinctRoles(
        (a) => (typeof a === 'string' && ADDRESS.test(a) && BigInt(a) !== 0n ? a.toLowerCase() : undefined), // others already reported
        (first) => `same address as contracts.${first}; each contract has its own address`,
      ),
      { when: () => true },
    ),
  /**
   * Where this chain's liquidity sits when it is an Aave v3 reserve (optional: without it, in the Ballast
   * `contracts.vault`). `pool` is Aave's Pool (proxy), `aToken` / `variableDebtToken` / `stableDebtToken` the
   * reserve's tokens for `contracts.token`, and `allocator` the treasury's AaveAllocator (contracts/src/AaveAllocator.sol:
   * holds the treasury's aTokens; the keeper's collateral legs supply to and withdraw from the Pool through it, within
   * its outflow cap, only to `contracts.route`). Capacity moves stay on `contracts.vault` (see the README).
   */
  aave: z
    .strictObject({
      pool: contractAddress,
      aToken: contractAddress,
      variableDebtToken: contractAddress,
      stableDebtToken: contractAddress,
      allocator: contractAddress,
    })
    .optional(),
  band: bandSchema,
  minBuffer: amount,
  caps: capsSchema,
  oracle: oracleSchema,
  confirmations: posInt('a positive integer number of blocks').default(CONFIG_DEFAULTS.confirmations),
  /** How long a write waits for its receipt before the activity fails and Temporal retries it (idempotently). */
  receiptTimeoutSec: posInt('a positive integer number of seconds').default(CONFIG_DEFAULTS.receiptTimeoutSec),
  /**
   * This chain on the Wormhole route (optional: without it the chain moves funds over LayerZero only).
   * `chainId` is the Wormhole chain id (not the EVM one), `core` the Wormhole core contract (proxy),
   * `adapter` Ballast's WormholeAdapter (the emitter of this chain's sends, the redeemer of VAAs for it).
   * Needs the top-level `wormhole` section.
   */
  wormhole: z
    .strictObject({
      chainId: wormholeChainId,
      core: contractAddress,
      adapter: contractAddress,
    })
    .superRefine(
      (w, ctx) => {
        if (typeof w?.core === 'string' && typeof w.adapter === 'string' && ADDRESS.test(w.core) && w.core.toLowerCase() === w.adapter.toLowerCase()) {
          ctx.addIssue({ code: 'custom', path: ['adapter'], message: 'same address as wormhole.core; the adapter is its own contract' });
        }
      },
      { when: () => true },
    )
    .optional(),
  /**
   * Capacity moves for this chain (lending capacity as credit lines, planner/capacity.ts; optional: without it
   * the chain takes no part in them, and a move needs both ends configured). Usage = borrowed / borrowLimit:
   * above `highPct` the chain takes capacity (back to the middle of the marks), a chain gives only what keeps
   * it at or below `lowPct`. `minMove` / `maxMove`: per move, base units. `bridge`: the bridge this chain
   * prefers for capacity messages; a move goes over Wormhole when both ends prefer it (and the top-level
   * `wormhole` section is set); when both ends accept Wormhole and one says `auto`, over the bridge whose quote
   * is lower (activities/capacityPlan.ts); else over LayerZero.
   */
  capacity: z
    .strictObject({
      highPct: percent,
      lowPct: percent,
      minMove: amount,
      maxMove: amount,
      bridge: z.enum(['layerzero', 'wormhole', 'auto'], { error: 'must be "layerzero", "wormhole" or "auto"' }).default('layerzero'),
    })
    .superRefine(
      (c, ctx) => {
        if (typeof c?.lowPct === 'bigint' && c.lowPct === 0n) ctx.addIssue({ code: 'custom', path: ['lowPct'], message: 'must be > 0' });
        if (typeof c?.lowPct === 'bigint' && typeof c.highPct === 'bigint' && c.lowPct >= c.highPct) {
          ctx.addIssue({ code: 'custom', path: ['lowPct'], message: `must be < capacity.highPct (${fmtPct(c.highPct)})` });
        }
        if (typeof c?.maxMove === 'bigint' && c.maxMove === 0n) ctx.addIssue({ code: 'custom', path: ['maxMove'], message: 'must be > 0' });
        if (typeof c?.minMove === 'bigint' && typeof c.maxMove === 'bigint' && c.minMove > c.maxMove) {
          ctx.addIssue({ code: 'custom', path: ['minMove'], message: `must be ≤ capacity.maxMove (${c.maxMove})` });
        }
      },
      { when: () => true },
    )
    .transform((c) => ({ highWad: c.highPct, lowWad: c.lowPct, minMove: c.minMove, maxMove: c.maxMove, bridge: c.bridge }))
    .optional(),
  /** How `ballast deploy` deploys and wires this chain (see chainDeploySchema); the keeper ignores it. */
  deploy: chainDeploySchema.optional(),
})
  .superRefine(
    (c, ctx) => {
      const one = c?.rpcUrl !== undefined;
      const many = c?.rpcUrls !== undefined;
      if (one && many) ctx.addIssue({ code: 'custom', path: ['rpcUrls'], message: 'set either rpcUrl or rpcUrls, not both (put every URL in rpcUrls)' });
      else if (!one && !many) {
        ctx.addIssue({ code: 'custom', path: ['rpcUrl'], message: "required: the chain's RPC URL (rpcUrl), or several in order of preference (rpcUrls: [...])" });
      }
    },
    { when: () => true },
  )
  .transform(({ rpcUrl, rpcUrls, ...c }) => {
    const urls = rpcUrls ?? [rpcUrl!];
    return { ...c, rpcUrl: urls[0]!, rpcUrls: urls };
  });

/** A Solana account address: base58 of 32 bytes (returned as written, validated with web3.js `PublicKey`). */
const solanaAddress = z
  .string({ error: 'must be a Solana address (base58, 32 bytes), e.g. "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"' })
  .refine(
    (s) => {
      try {
        return /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(s) && new PublicKey(s).toBase58() === s;
      } catch {
        return false;
      }
    },
    { error: 'must be a Solana address (base58 of 32 bytes)' },
  );

/**
 * One Solana chain (config `solana.chains[]`; the adapter is chains/solana/, the design README "Solana"). Accounts, all
 * base58: `mint` the asset's SPL mint; `reserve` the lending reserve's state account and `reserveLiquidity` its
 * liquidity token account (the EVM vault's role); `treasury` the keeper's token account (the route's role);
 * `custody` the Wormhole custody token account (the emitter of this chain's messages); `pythPrice` a Pyth
 * `PriceUpdateV2` account. Reads are made at `commitment`; writes wait for it. `oracle.maxConfBps`: the widest
 * Pyth confidence interval accepted, bps of the price. `priorityFeeMicroLamports`: compute-unit price of every
 * transaction. `wormholeChainId`: 1 on Solana.
 */
const solanaChainSchema = z.strictObject({
  key: z.string().regex(CHAIN_KEY, { error: 'must be a lowercase slug: a-z, 0-9 and single dashes, e.g. "solana"' }),
  rpcUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL of a Solana JSON-RPC endpoint' }),
  commitment: z.enum(['confirmed', 'finalized'], { error: 'must be "confirmed" or "finalized"' }).default('confirmed'),
  wormholeChainId: wormholeChainId.default(1),
  accounts: z
    .strictObject({
      mint: solanaAddress,
      reserve: solanaAddress,
      reserveLiquidity: solanaAddress,
      treasury: solanaAddress,
      custody: solanaAddress,
      pythPrice: solanaAddress,
    })
    .superRefine(
      distinctRoles(
        (v) => (typeof v === 'string' ? v : undefined),
        (first) => `same account as accounts.${first}; each role has its own account`,
      ),
      { when: () => true },
    ),
  band: bandSchema,
  minBuffer: amount,
  caps: capsSchema,
  oracle: oracleSchema.extend({
    maxConfBps: bpsSchema.default(CONFIG_DEFAULTS.solana.maxConfBps),
  }),
  priorityFeeMicroLamports: z
    .number({ error: 'must be a non-negative integer number of micro-lamports per compute unit' })
    .int({ error: 'must be a non-negative integer number of micro-lamports per compute unit' })
    .min(0, { error: 'must be ≥ 0' })
    .default(CONFIG_DEFAULTS.solana.priorityFeeMicroLamports),
  computeUnitLimit: posInt('a positive integer number of compute units').default(CONFIG_DEFAULTS.solana.computeUnitLimit),
  /** The program that owns `pythPrice` (Pyth's receiver by default; some deployments post through their own). */
  pythReceiverProgram: solanaAddress.default(CONFIG_DEFAULTS.solana.pythReceiverProgram),
  confirmTimeoutSec: posInt('a positive integer number of seconds').default(CONFIG_DEFAULTS.solana.confirmTimeoutSec),
});

/**
 * Solana (optional section). `keeper`: the keeper's Solana key, from the environment variable `keyEnv` (a JSON
 * byte array or base58 secret key) or a solana-keygen `keypairFile`; never in this file. `custodyUrl`: the
 * custody service that releases tokens from custody against a verified VAA (the devnet guardian serves one).
 * Needs the top-level `wormhole` section: every move to or from Solana goes over Wormhole.
 */
const solanaSchema = z.strictObject({
  keeper: z
    .strictObject({
      keyEnv: envName('BALLAST_SOLANA_KEEPER_KEY').default(CONFIG_DEFAULTS.solana.keyEnv),
      keypairFile: z.string().min(1, { error: 'must be a file path' }).optional(),
    })
    .prefault({}),
  custodyUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL of the custody service, e.g. "http://127.0.0.1:7071"' }),
  chains: z
    .array(solanaChainSchema, { error: 'must be a list of Solana chains' })
    .min(1, { error: 'needs at least 1 chain' }),
});

/** One guardian set written in the config: its index and the guardian addresses in guardian-index order. */
const guardianSetSchema = z.strictObject({
  index: z
    .number({ error: 'must be a guardian set index, an integer ≥ 0' })
    .int({ error: 'must be a guardian set index, an integer ≥ 0' })
    .min(0, { error: 'must be a guardian set index, an integer ≥ 0' }),
  keys: z
    .array(address, { error: 'must be a list of guardian addresses (0x + 40 hex), in guardian-index order' })
    .min(1, { error: 'needs at least one guardian address' })
    .max(255, { error: 'at most 255 guardians (a VAA guardian index is one byte)' }),
});

/**
 * The Wormhole route, shared by every chain that has a `wormhole` entry (optional section).
 * - `guardianUrl`: a guardian REST API (`GET /v1/signed_vaa/{chain}/{emitter}/{sequence}`), e.g. the
 *   devnet guardian's URL, or a public Wormhole API.
 * - the guardian sets VAAs are verified against, keeper-side: `guardianSetsFile` (JSON, the format read
 *   by chains/wormhole/guardianSets.ts) or `guardianSets` inline; exactly one of them.
 * - `deliveryDeadlineSec`: how long `deliver` waits for the VAA and its redemption before `stranded`.
 * - `vaaPollIntervalMs`: how often the keeper asks the guardian API for a VAA not served yet (404).
 */
const wormholeSchema = z
  .strictObject({
    guardianUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL of a guardian REST API, e.g. "http://127.0.0.1:7071"' }),
    guardianSetsFile: z.string().min(1, { error: 'must be a file path' }).optional(),
    guardianSets: z
      .array(guardianSetSchema, { error: 'must be a list of { index, keys }' })
      .min(1, { error: 'needs at least one guardian set' })
      .superRefine(
        (sets, ctx) => {
          const seen = new Map<number, number>();
          sets.forEach((g, i) => {
            if (typeof g?.index !== 'number') return;
            const first = seen.get(g.index);
            if (first === undefined) seen.set(g.index, i);
            else ctx.addIssue({ code: 'custom', path: [i, 'index'], message: `duplicate: guardianSets[${first}].index has the same value` });
          });
        },
        { when: () => true },
      )
      .optional(),
    deliveryDeadlineSec: posInt('a positive integer number of seconds').default(CONFIG_DEFAULTS.wormhole.deliveryDeadlineSec),
    vaaPollIntervalMs: posInt('a positive integer number of milliseconds').default(CONFIG_DEFAULTS.wormhole.vaaPollIntervalMs),
  })
  .superRefine(
    (w, ctx) => {
      const hasFile = w?.guardianSetsFile !== undefined;
      const hasInline = w?.guardianSets !== undefined;
      if (hasFile && hasInline) {
        ctx.addIssue({ code: 'custom', path: ['guardianSets'], message: 'set either wormhole.guardianSetsFile or wormhole.guardianSets, not both' });
      } else if (!hasFile && !hasInline) {
        ctx.addIssue({
          code: 'custom',
          path: ['guardianSetsFile'],
          message: 'required: the guardian sets VAAs are verified against (a JSON file, or wormhole.guardianSets inline)',
        });
      }
    },
    { when: () => true },
  );

/**
 * What the planner needs to know about one bridge besides its quoted fee: a proportional fee in basis points
 * (a multiple of 0.01, 0 ≤ feeBps < 10000), the expected delivery latency (reported with each transfer), and
 * optionally the route's rate limit: the largest amount one transfer may carry over this bridge (base units).
 * `enabled: false` keeps the bridge out of planning.
 */
const bridgeSchema = (defaults: { feeBps: number; latencySec: number }) =>
  z.strictObject({
    enabled: z.boolean({ error: 'must be true or false' }).default(true),
    feeBps: z
      .number({ error: 'must be a number of basis points, 0 ≤ feeBps < 10000, in steps of 0.01' })
      .min(0, { error: 'must be ≥ 0 bps' })
      .lt(10_000, { error: 'must be < 10000 bps (100%)' })
      .refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, { error: 'must be a multiple of 0.01 bps (e.g. 1.25)' })
      .default(defaults.feeBps),
    latencySec: posInt('a positive integer number of seconds').default(defaults.latencySec),
    rateLimit: amount.optional(),
    /** Gas the keeper spends on the destination to complete a message (Wormhole: redeeming the VAA); quoted at the destination's gas price. */
    relayGas: posInt('a positive integer amount of gas').optional(),
  });

/** Hosts that bind every interface: a listener there takes the port on every host. */
const WILDCARD_HOSTS = new Set(['', '*', '0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

/** A listen host as compared for clashes: brackets, case and surrounding space dropped. */
const bindHost = (host: string): string => host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');

/**
 * Whether two listeners, `host:port` each, would want the same socket: the same port (0, an ephemeral port, never
 * clashes) on the same host, on `localhost` and a loopback address (it resolves to one of them), or with either host a
 * wildcard (`0.0.0.0`, `::`), which binds the port on every interface. Hosts are compared as written (no DNS).
 * @example listenersClash({ host: '0.0.0.0', port: 9464 }, { host: '127.0.0.1', port: 9464 }) // true
 */
export function listenersClash(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const [x, y] = [bindHost(a.host), bindHost(b.host)];
  if (x === y || WILDCARD_HOSTS.has(x) || WILDCARD_HOSTS.has(y)) return true;
  const loopback = (h: string) => h === '::1' || /^127\./.test(h);
  return (x === 'localhost' && loopback(y)) || (y === 'localhost' && loopback(x));
}

function fmtPct(wad: bigint): string {
  const hundredths = (wad * 10_000n) / WAD;
  return `${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}%`;
}

/** The whole config file. Parse with `parseConfig` (load.ts) to get readable errors. */
export const configSchema = z
  .strictObject({
    deployment: z.string().regex(SLUG, { error: 'must be a lowercase id: a-z, 0-9, "-" or "_", e.g. "devnet"' }),
    asset: z.strictObject({
      symbol: z.string().min(1, { error: 'must not be empty' }),
      decimals: z
        .number({ error: 'must be an integer 0..36' })
        .int({ error: 'must be an integer 0..36' })
        .min(0, { error: 'must be ≥ 0' })
        .max(36, { error: 'must be ≤ 36' }),
    }),
    /**
     * Where Temporal is and how to reach it (keeper/temporalConnection.ts resolves the connection: these fields,
     * then the `TEMPORAL_*` environment variables, then a Temporal env-config profile, then the defaults).
     * - `address`, `namespace`: default `127.0.0.1:7233` and `default`, but only when neither the environment nor a
     *   profile names them: the parsed section remembers which of the two the file left out (`defaulted`, not
     *   enumerable: not part of the config's value).
     * - `profile`, `configFile`: a profile of a Temporal env-config TOML file (the Temporal CLI's
     *   `temporal.toml`); `configFile` default `TEMPORAL_CONFIG_FILE`, else the CLI's default file.
     * - `tls`: TLS with the system's roots when present (`tls: {}`); `clientCertPath` + `clientKeyPath` for mTLS
     *   (both or neither), `serverRootCACertPath` for a private CA, `serverName` to override SNI / the name checked;
     *   `disabled: true` turns off TLS a profile or an API key would turn on.
     * - `apiKey`: sent as `Authorization: Bearer …` (turns TLS on unless `tls.disabled`); write it as
     *   `${SOME_VARIABLE}` (config/env.ts), not in the file.
     * - `sdkMetricsAddress`: host:port where the Temporal SDK's own metrics (Runtime telemetry, names prefixed
     *   `temporal_`) are served for Prometheus at `/metrics`, next to Ballast's; default: not served. Refused when it
     *   is Ballast's own listener, `metrics.host` + `metrics.port` (the same port on the same host, on a wildcard host
     *   or on `localhost` and a loopback address: see {@link listenersClash}).
     */
    temporal: z
      .strictObject({
        address: z
          .string()
          .regex(HOST_PORT, { error: 'must be host:port, e.g. "127.0.0.1:7233"' })
          .optional(),
        namespace: z.string().min(1, { error: 'must not be empty' }).optional(),
        taskQueue: z.string().min(1, { error: 'must not be empty' }).default(CONFIG_DEFAULTS.temporal.taskQueue),
        profile: z.string().min(1, { error: 'must be a profile name of the env-config file' }).optional(),
        configFile: z.string().min(1, { error: 'must be a file path' }).optional(),
        tls: z
          .strictObject({
            disabled: z.boolean({ error: 'must be true or false' }).optional(),
            clientCertPath: z.string().min(1, { error: 'must be a file path' }).optional(),
            clientKeyPath: z.string().min(1, { error: 'must be a file path' }).optional(),
            serverRootCACertPath: z.string().min(1, { error: 'must be a file path' }).optional(),
            serverName: z.string().min(1, { error: 'must not be empty' }).optional(),
          })
          .refine((t) => (t.clientCertPath === undefined) === (t.clientKeyPath === undefined), {
            error: 'clientCertPath and clientKeyPath go together (mTLS needs both), or neither',
          })
          .optional(),
        apiKey: z.string().min(1, { error: 'must not be empty (write ${VARIABLE} to take it from the environment)' }).optional(),
        sdkMetricsAddress: z
          .string()
          .regex(HOST_PORT, { error: 'must be host:port, e.g. "127.0.0.1:9465"' })
          .refine((a) => /:0*[1-9]\d*$/.test(a) && Number(a.slice(a.lastIndexOf(':') + 1)) <= 65_535, {
            error: 'must be host:port with a port 1..65535 (the SDK does not report a port chosen for 0)',
          })
          .optional(),
      })
      .prefault({})
      .transform((t) => {
        const out = { ...t, address: t.address ?? CONFIG_DEFAULTS.temporal.address, namespace: t.namespace ?? CONFIG_DEFAULTS.temporal.namespace };
        const defaulted: ('address' | 'namespace')[] = [];
        if (t.address === undefined) defaulted.push('address');
        if (t.namespace === undefined) defaulted.push('namespace');
        Object.defineProperty(out, 'defaulted', { value: Object.freeze(defaulted), enumerable: false });
        return out as typeof out & { readonly defaulted?: readonly ('address' | 'namespace')[] };
      }),
    metrics: z
      .strictObject({
        port: z
          .number({ error: 'must be a TCP port 0..65535' })
          .int({ error: 'must be a TCP port 0..65535' })
          .min(0, { error: 'must be a TCP port 0..65535' })
          .max(65_535, { error: 'must be a TCP port 0..65535' })
          .default(CONFIG_DEFAULTS.metrics.port),
        host: z.string().min(1, { error: 'must not be empty' }).default(CONFIG_DEFAULTS.metrics.host),
      })
      .prefault({}),
    tick: z
      .strictObject({
        intervalSec: posInt('a positive integer number of seconds').default(CONFIG_DEFAULTS.tick.intervalSec),
        maxTicksBeforeContinueAsNew: posInt().default(CONFIG_DEFAULTS.tick.maxTicksBeforeContinueAsNew),
      })
      .prefault({}),
    keeper: z
      .strictObject({
        privateKeyEnv: envName('BALLAST_KEEPER_PRIVATE_KEY').default(CONFIG_DEFAULTS.keeper.privateKeyEnv),
        /** Web3 Secret Storage v3 keystore (geth, `cast wallet new`); used instead of `privateKeyEnv` when set. */
        keystoreFile: z.string().min(1, { error: 'must be a file path' }).optional(),
        /** Name of the environment variable holding the keystore's password (never the password itself). */
        keystorePasswordEnv: envName('BALLAST_KEYSTORE_PASSWORD', ' (the password itself never goes in the file)').default(CONFIG_DEFAULTS.keeper.keystorePasswordEnv),
      })
      .prefault({}),
    layerzero: z
      .strictObject({
        lzReceiveGas: posInt('a positive integer amount of gas').default(CONFIG_DEFAULTS.layerzero.lzReceiveGas),
        deliveryDeadlineSec: posInt('a positive integer number of seconds').default(
          CONFIG_DEFAULTS.layerzero.deliveryDeadlineSec,
        ),
      })
      .prefault({}),
    /**
     * Who may change caps at run time (`ballast caps set|approve`, EIP-712 signatures) and how a raise is
     * approved: by a second, different approver within `approvalWindowSec`, or, when `raiseDelaySec` is
     * set, after that delay. Without approvers every cap change is refused.
     */
    risk: z
      .strictObject({
        capApprovers: z
          .array(z.strictObject({ name: z.string().min(1, { error: 'must not be empty' }), address }), { error: 'must be a list of { name, address }' })
          .default([])
          .superRefine(
            (list, ctx) => {
              const seen = new Set<string>();
              list.forEach((a, i) => {
                const k = typeof a?.address === 'string' ? a.address.toLowerCase() : '';
                if (k && seen.has(k)) ctx.addIssue({ code: 'custom', path: [i, 'address'], message: 'duplicate approver address' });
                seen.add(k);
              });
            },
            { when: () => true },
          ),
        approvalWindowSec: posInt('a positive integer number of seconds').default(CONFIG_DEFAULTS.risk.approvalWindowSec),
        raiseDelaySec: posInt('a positive integer number of seconds').optional(),
      })
      .prefault({}),
    /**
     * LP mandates (planner/mandates.ts): with `requireMandates`, the keeper moves out of a chain only what the
     * LPs' signed mandates allow (`ballast lp mandate`), and attributes each move and its fees to them.
     */
    lp: z
      .strictObject({
        requireMandates: z.boolean({ error: 'must be true or false' }).default(CONFIG_DEFAULTS.lp.requireMandates),
      })
      .prefault({}),
    /**
     * Which planner the keeper runs each tick: `optimal` (planner/optimal.ts: the HiGHS MILP over quoted
     * (chain, chain, bridge) edges, greedy as its starting incumbent and floor; its certificate is recorded
     * with the plan) or `greedy` (planner/greedy.ts, the baseline). `timeBudgetMs`: the optimal solve's
     * wall-clock budget per tick; the keeper acts on the best plan found in it.
     */
    planner: z
      .strictObject({
        kind: z.enum(['optimal', 'greedy'], { error: 'must be "optimal" or "greedy"' }).default(CONFIG_DEFAULTS.planner.kind),
        timeBudgetMs: posInt('a positive integer number of milliseconds').default(CONFIG_DEFAULTS.planner.timeBudgetMs),
        /**
         * What the optimal planner optimizes: `band` (absent = `band`, as before: bring chains back inside their band
         * at least fees) or `yield` (planner/yield.ts: the treasury's net yield over `yieldHorizonSec` — Σ supply rate ×
         * the treasury's supply per market, with the move's own rate impact through Aave v3's interest-rate model —
         * minus bridge fees; the band's needs, buffers and caps stay hard rules). Only with `kind: optimal`.
         */
        objective: z.enum(['band', 'yield'], { error: 'must be "band" or "yield"' }).optional(),
        /** The horizon the yield objective is earned over, seconds (absent: 30 days). */
        yieldHorizonSec: posInt('a positive integer number of seconds').optional(),
        /**
         * With `objective: yield`: how far ahead each market's utilization is forecast, seconds (absent: 86 400, one
         * day). The monitor smooths each market's debt once per tick (planner/forecast.ts: Holt's level + trend, the
         * tick as the step); the plan divides the debt forecast this far ahead by the supply now. A chain forecast
         * above its high mark is served before it crosses; a donor gives for yield only what keeps its forecast 20
         * points under its high mark (planner/yield.ts).
         */
        forecastHorizonSec: posInt('a positive integer number of seconds').optional(),
        /**
         * With `objective: yield`: gas timing (planner/timing.ts). A yield-only transfer (its destination is not in
         * need now nor by the forecast) waits while its source chain's base fee is above the `percentile`-th
         * percentile (nearest rank, 1..100; absent: 50) of the base fees the monitor sampled over the last
         * `windowSec` seconds (absent: 86 400; at most 86 400, the history the monitor keeps), and only when what the
         * wait could save beats the yield it forgoes over `expectedWaitSec` (absent: 21 600, 6 h). An urgent transfer
         * always goes. Absent: on with these defaults; `false`: off (every planned transfer is sent).
         */
        gasTiming: z
          .union(
            [
              z.literal(false),
              z.strictObject({
                percentile: z.number({ error: 'must be an integer from 1 to 100' }).int({ error: 'must be an integer from 1 to 100' }).min(1, { error: 'must be an integer from 1 to 100' }).max(100, { error: 'must be an integer from 1 to 100' }).optional(),
                windowSec: posInt('a positive integer number of seconds').max(86_400, { error: 'must be at most 86400 seconds (the base-fee history the monitor keeps)' }).optional(),
                expectedWaitSec: posInt('a positive integer number of seconds').optional(),
              }),
            ],
            { error: 'must be false or { percentile, windowSec, expectedWaitSec }' },
          )
          .optional(),
      })
      .prefault({}),
    /**
     * Per bridge: proportional fee, latency, rate limit (see bridgeSchema). LayerZero is on by default for
     * every chain; Wormhole, when this entry is set, for the chains that have a `wormhole` entry. The optimal
     * planner gets a bridge's edges only between two chains that both have it.
     */
    bridges: z
      .strictObject({
        layerzero: bridgeSchema(CONFIG_DEFAULTS.bridges.layerzero).prefault({}),
        wormhole: bridgeSchema(CONFIG_DEFAULTS.bridges.wormhole).optional(),
      })
      .prefault({}),
    chains: z
      .array(chainSchema, { error: 'must be a list of chains' })
      .min(2, { error: 'needs at least 2 chains to rebalance between' })
      .superRefine(
        (chains, ctx) => {
          for (const field of ['key', 'chainId', 'eid'] as const) {
            const seen = new Map<unknown, number>();
            chains.forEach((c, i) => {
              const v: unknown = (c as Partial<ChainConfig> | undefined)?.[field];
              if (v === undefined) return;
              const first = seen.get(v);
              if (first === undefined) seen.set(v, i);
              else ctx.addIssue({ code: 'custom', path: [i, field], message: `duplicate: chains[${first}].${field} has the same value` });
            });
          }
          const seenWormhole = new Map<number, number>();
          chains.forEach((c, i) => {
            const id = (c as Partial<ChainConfig> | undefined)?.wormhole?.chainId;
            if (typeof id !== 'number') return;
            const first = seenWormhole.get(id);
            if (first === undefined) seenWormhole.set(id, i);
            else ctx.addIssue({ code: 'custom', path: [i, 'wormhole', 'chainId'], message: `duplicate: chains[${first}].wormhole.chainId has the same value` });
          });
        },
        { when: () => true },
      ),
    /** The Wormhole route (optional; required when any chain has a `wormhole` entry). */
    wormhole: wormholeSchema.optional(),
    /** Solana chains (optional); their moves go over Wormhole. */
    solana: solanaSchema.optional(),
  })
  .superRefine(
    (c, ctx) => {
      // Ballast's /metrics and the Temporal SDK's metrics are two HTTP listeners: the second to bind would fail at start.
      const sdk = c?.temporal?.sdkMetricsAddress;
      const m = c?.metrics;
      if (typeof sdk === 'string' && HOST_PORT.test(sdk) && typeof m?.host === 'string' && typeof m.port === 'number') {
        const sdkListener = { host: sdk.slice(0, sdk.lastIndexOf(':')), port: Number(sdk.slice(sdk.lastIndexOf(':') + 1)) };
        if (listenersClash(sdkListener, { host: m.host, port: m.port })) {
          const shown = m.host.includes(':') && !m.host.startsWith('[') ? `[${m.host}]:${m.port}` : `${m.host}:${m.port}`;
          ctx.addIssue({
            code: 'custom',
            path: ['temporal', 'sdkMetricsAddress'],
            message: `clashes with metrics.host + metrics.port (${shown}, Ballast's /metrics): the Temporal SDK's metrics need a port of their own (e.g. ${m.port + 1 <= 65_535 ? m.port + 1 : m.port - 1}); change temporal.sdkMetricsAddress or metrics.port`,
          });
        }
      }
      if (c?.solana !== undefined && Array.isArray(c.solana.chains)) {
        const keys = new Set((Array.isArray(c.chains) ? c.chains : []).map((ch) => (ch as Partial<ChainConfig> | undefined)?.key));
        const whIds = new Set((Array.isArray(c.chains) ? c.chains : []).map((ch) => (ch as Partial<ChainConfig> | undefined)?.wormhole?.chainId));
        c.solana.chains.forEach((sc, i) => {
          if (keys.has(sc?.key)) ctx.addIssue({ code: 'custom', path: ['solana', 'chains', i, 'key'], message: `duplicate: an EVM chain has the key "${sc.key}"` });
          if (whIds.has(sc?.wormholeChainId)) ctx.addIssue({ code: 'custom', path: ['solana', 'chains', i, 'wormholeChainId'], message: `duplicate: an EVM chain has Wormhole chain id ${sc.wormholeChainId}` });
          keys.add(sc?.key);
        });
        if (c.wormhole === undefined) {
          ctx.addIssue({ code: 'custom', path: ['wormhole'], message: 'required when solana is set: moves to and from Solana go over Wormhole (add wormhole.guardianUrl and the guardian sets)' });
        }
      }
      if (c?.wormhole !== undefined || !Array.isArray(c?.chains)) return;
      const i = c.chains.findIndex((ch) => (ch as Partial<ChainConfig> | undefined)?.wormhole !== undefined);
      if (i >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['wormhole'],
          message: `required when a chain is on the Wormhole route (chains[${i}].wormhole is set): add wormhole.guardianUrl and the guardian sets`,
        });
      }
    },
    { when: () => true },
  );

/** Validated config: amounts `bigint` base units, bands WAD, addresses checksummed, defaults filled. */
export type BallastConfig = z.output<typeof configSchema>;
/** One validated chain entry of {@link BallastConfig}. */
export type ChainConfig = BallastConfig['chains'][number];
/** One validated Solana chain entry of {@link BallastConfig}. */
export type SolanaChainConfig = NonNullable<BallastConfig['solana']>['chains'][number];
/** What a config file may contain (before defaults and conversions). */
export type BallastConfigInput = z.input<typeof configSchema>;
/** One chain entry as written in the file. */
export type ChainConfigInput = BallastConfigInput['chains'][number];
/** One chain's validated `deploy` section (`ballast deploy`; absent from chains it does not deploy to). */
export type ChainDeployConfig = NonNullable<ChainConfig['deploy']>;

/**
 * The planner's per-chain policies from a validated config, in config order (EVM chains, then Solana chains).
 * @example planGreedy({ chains, policies: chainPolicies(config), inFlight })
 */
export function chainPolicies(config: BallastConfig): ChainPolicy[] {
  return [...config.chains, ...(config.solana?.chains ?? [])].map((c) => ({
    chainKey: c.key,
    band: { lowWad: c.band.lowWad, highWad: c.band.highWad },
    minBufferAmount: c.minBuffer,
    caps: {
      maxOutflowPerWindow: c.caps.maxOutflowPerWindow,
      windowSec: BigInt(c.caps.windowSec),
      maxTransfer: c.caps.maxTransfer,
      minTransfer: c.caps.minTransfer,
    },
  }));
}
