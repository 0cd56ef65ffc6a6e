/**
 * An Aave reserve's interest rate strategy read on chain (chains/evm/aaveReserve.ts, chains/evm/readChainState.ts) and
 * used by the yield planner's rate model (planner/rateModel.ts `rateModelOf`):
 * - the getters' ABI is the artifact's (`@aave/core-v3` 1.19.3 DefaultReserveInterestRateStrategy);
 * - the curve is read in the tick's ONE multicall once the strategy address is known (a hint, or the address this
 *   process last read), by a second multicall at the same block when it is not or it changed; a strategy that does not
 *   answer the getters leaves it absent (never a partial read);
 * - `rateModelOf` takes the on-chain curve, the override still wins.
 * The chain is a fake public client that answers `multicall` and counts the calls.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { toFunctionSignature, type Abi, type AbiFunction, type Address } from 'viem';
import { aaveRateStrategyReadAbi, decodeRateStrategy, RAY, type AaveReserveAddresses } from '../../chains/evm/aaveReserve.js';
import { knownRateStrategy, readChainState } from '../../chains/evm/readChainState.js';
import type { EvmClients } from '../../chains/evm/clients.js';
import { DEFAULT_RATE_MODEL, rateModelOf } from '../../planner/rateModel.js';
import { chain } from './plannerFixtures.js';

const addr = (n: number): Address => `0x${n.toString(16).padStart(40, '0')}`;
const contracts = { multicall3: addr(0xca11), vault: addr(0x7a), priceFeed: addr(0xfe), token: addr(0x70) };
const STRATEGY_A = addr(0x5a);
const STRATEGY_B = addr(0x5b);
const CURVE_A = { optimalUsageRatioRay: (80n * RAY) / 100n, baseVariableBorrowRateRay: RAY / 100n, variableRateSlope1Ray: (4n * RAY) / 100n, variableRateSlope2Ray: (75n * RAY) / 100n };
const CURVE_B = { optimalUsageRatioRay: (92n * RAY) / 100n, baseVariableBorrowRateRay: 0n, variableRateSlope1Ray: (6n * RAY) / 100n, variableRateSlope2Ray: (50n * RAY) / 100n };
const GETTERS = ['OPTIMAL_USAGE_RATIO', 'getBaseVariableBorrowRate', 'getVariableRateSlope1', 'getVariableRateSlope2'] as const;

/** A fake chain: one Aave reserve whose strategy is `state.strategy`; `calls` counts multicalls and records their blocks. */
function fakeChain(chainKey: string, state: { strategy: Address; curves: Record<Address, typeof CURVE_A | undefined> }) {
  const aave: AaveReserveAddresses = { pool: addr(0xa1), asset: contracts.token, aToken: addr(0xa3), variableDebtToken: addr(0xa4), stableDebtToken: addr(0xa5), holder: addr(0xa6) };
  const log: { size: number; blockNumber?: bigint; blockTag?: string; functions: string[] }[] = [];
  const answer = (c: { address: Address; functionName: string }): { status: 'success'; result: unknown } | { status: 'failure'; error: Error } => {
    const ok = (result: unknown) => ({ status: 'success' as const, result });
    switch (c.functionName) {
      case 'getBlockNumber':
        return ok(1234n);
      case 'getCurrentBlockTimestamp':
        return ok(1_700_000_000n);
      case 'outflowCap':
        return ok([1000n, 3600n, 0n, 0n]);
      case 'latestRoundData':
        return ok([1n, 100_000_000n, 0n, 1_700_000_000n, 1n]);
      case 'decimals':
        return ok(8);
      case 'totalSupply':
        return ok(1000n);
      case 'balanceOf':
        return ok(600n);
      case 'getReserveData':
        return ok({ configuration: { data: 1000n << 64n }, currentLiquidityRate: 0n, currentVariableBorrowRate: 0n, aTokenAddress: aave.aToken, interestRateStrategyAddress: state.strategy });
      default: {
        const curve = state.curves[c.address];
        const i = GETTERS.indexOf(c.functionName as (typeof GETTERS)[number]);
        if (!curve || i < 0) return { status: 'failure', error: new Error('execution reverted') };
        return ok([curve.optimalUsageRatioRay, curve.baseVariableBorrowRateRay, curve.variableRateSlope1Ray, curve.variableRateSlope2Ray][i]);
      }
    }
  };
  const publicClient = {
    multicall: async (args: { contracts: readonly { address: Address; functionName: string }[]; blockNumber?: bigint; blockTag?: string }) => {
      log.push({ size: args.contracts.length, blockNumber: args.blockNumber, blockTag: args.blockTag, functions: args.contracts.map((c) => c.functionName) });
      return args.contracts.map(answer);
    },
  };
  const clients = { chainKey, chain: { rpcUrls: { default: { http: ['http://127.0.0.1:1'] } } }, publicClient, rpcUrl: 'http://127.0.0.1:1' } as unknown as EvmClients;
  return { clients, aave, log };
}

describe('the reserve\'s rate strategy, read on chain', () => {
  test("the getters' ABI is the one of @aave/core-v3 1.19.3's DefaultReserveInterestRateStrategy artifact", () => {
    const require = createRequire(import.meta.url);
    const artifact = JSON.parse(fs.readFileSync(require.resolve('@aave/core-v3/artifacts/contracts/protocol/pool/DefaultReserveInterestRateStrategy.sol/DefaultReserveInterestRateStrategy.json'), 'utf8')) as { abi: Abi };
    const sig = (f: AbiFunction) => `${toFunctionSignature(f)} ${f.stateMutability} → ${f.outputs.map((o) => o.type).join(',')}`;
    const inArtifact = new Map(artifact.abi.filter((x): x is AbiFunction => x.type === 'function').map((f) => [f.name, sig(f)]));
    for (const f of aaveRateStrategyReadAbi) assert.equal(sig(f), inArtifact.get(f.name), f.name);
    assert.deepEqual(aaveRateStrategyReadAbi.map((f) => f.name), [...GETTERS]);
  });

  test('decodeRateStrategy: the four values in order, undefined when any call failed', () => {
    const ok = (result: bigint) => ({ status: 'success' as const, result });
    assert.deepEqual(decodeRateStrategy([ok(1n), ok(2n), ok(3n), ok(4n)]), { optimalUsageRatioRay: 1n, baseVariableBorrowRateRay: 2n, variableRateSlope1Ray: 3n, variableRateSlope2Ray: 4n });
    assert.equal(decodeRateStrategy([ok(1n), ok(2n), { status: 'failure' }, ok(4n)]), undefined);
    assert.equal(decodeRateStrategy([ok(1n), ok(2n), ok(3n)]), undefined);
  });

  test('first read: a second multicall at the SAME block; then the curve rides in the one multicall; a new strategy is followed', async () => {
    const state = { strategy: STRATEGY_A, curves: { [STRATEGY_A]: CURVE_A, [STRATEGY_B]: CURVE_B } as Record<Address, typeof CURVE_A | undefined> };
    const { clients, aave, log } = fakeChain('strategy-first', state);
    const first = await readChainState({ clients, contracts, aave });
    assert.deepEqual(first.market?.rateStrategy, CURVE_A);
    assert.equal(first.market?.interestRateStrategyAddress, STRATEGY_A);
    assert.equal(log.length, 2, 'no address known yet: the curve by a second multicall');
    assert.equal(log[0]!.size, 13); // the chain's calls, Multicall3 getBasefee(), the strategy's getters
    assert.deepEqual(log[1], { size: 4, blockNumber: 1234n, blockTag: undefined, functions: [...GETTERS] }, 'pinned to the block the first one read');
    assert.equal(knownRateStrategy('strategy-first', aave), STRATEGY_A);

    const second = await readChainState({ clients, contracts, aave });
    assert.deepEqual(second.market?.rateStrategy, CURVE_A);
    assert.equal(log.length, 3, 'the known address: ONE multicall');
    assert.deepEqual(log[2]!.functions.slice(-4), [...GETTERS]);

    state.strategy = STRATEGY_B; // the configurator points the reserve at another strategy
    const third = await readChainState({ clients, contracts, aave });
    assert.deepEqual(third.market?.rateStrategy, CURVE_B, 'the old strategy\'s answers are not taken');
    assert.equal(log.length, 5);
    assert.equal(knownRateStrategy('strategy-first', aave), STRATEGY_B);
  });

  test('a hint (the previous snapshot\'s address) puts the curve in the one multicall from the first read of a process', async () => {
    const { clients, aave, log } = fakeChain('strategy-hinted', { strategy: STRATEGY_A, curves: { [STRATEGY_A]: CURVE_A } });
    const s = await readChainState({ clients, contracts, aave, rateStrategyHint: STRATEGY_A, block: 99n });
    assert.deepEqual(s.market?.rateStrategy, CURVE_A);
    assert.equal(log.length, 1);
    assert.equal(log[0]!.blockNumber, 99n);
  });

  test('a strategy without these getters: no curve, no partial read, and no second multicall once its address is known', async () => {
    const { clients, aave, log } = fakeChain('strategy-other', { strategy: STRATEGY_A, curves: {} });
    const s = await readChainState({ clients, contracts, aave });
    assert.equal(s.market?.rateStrategy, undefined);
    assert.equal(s.market?.interestRateStrategyAddress, STRATEGY_A);
    assert.equal(s.supplied, 600n + 2000n, 'the reserve itself read fine (available + both debts)');
    await readChainState({ clients, contracts, aave });
    assert.equal(log.length, 3);
    assert.deepEqual(rateModelOf({ ...chain('x', 1, 0.5), market: s.market }), { ...DEFAULT_RATE_MODEL, reserveFactorBps: 1000n }, 'the default curve stands in');
  });

  test('rateModelOf: the on-chain curve and reserve factor; an override still wins; a vault chain keeps the default', () => {
    const { clients, aave } = fakeChain('strategy-model', { strategy: STRATEGY_B, curves: { [STRATEGY_B]: CURVE_B } });
    return readChainState({ clients, contracts, aave, rateStrategyHint: STRATEGY_B }).then((s) => {
      const c = { ...chain('x', 1, 0.5), market: s.market };
      assert.deepEqual(rateModelOf(c), { ...CURVE_B, reserveFactorBps: 1000n });
      assert.deepEqual(rateModelOf(c, { variableRateSlope2Ray: RAY, reserveFactorBps: 0n }), { ...CURVE_B, variableRateSlope2Ray: RAY, reserveFactorBps: 0n });
      assert.deepEqual(rateModelOf(chain('vault', 1, 0.5)), DEFAULT_RATE_MODEL);
    });
  });
});
