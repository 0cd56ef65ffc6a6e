/**
 * CollateralVault / BallastRoute / DevPriceFeed behaviour on real anvil chains deployed by deployDevnet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { keccak256, pad, toHex, type Hex } from 'viem';
import { ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, devPriceFeedAbi } from '../../contracts/generated/abis.js';
import { expectRevert, mined, startDevnetFixture, type DevnetFixture } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const LIQUIDITY = 1_000_000n * UNIT; // per chain; the cap is half of it
const CAP = LIQUIDITY / 2n;
const id = (label: string): Hex => keccak256(toHex(`contracts.test:${label}`));

describe('Ballast contracts on a 2-chain devnet', () => {
  let fx: DevnetFixture;

  before(async () => {
    fx = await startDevnetFixture({ chainCount: 2, initialLiquidity: LIQUIDITY });
  });
  after(async () => {
    await fx?.stop();
  });

  test('deployDevnet wires supply, roles, cap, peers and a 6-decimal OFT', async () => {
    const { pub, chain } = fx.clients('a');
    const { vault, token, route } = chain.contracts;
    const other = fx.deployment.chains.b!;
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }), LIQUIDITY);
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'route' }), route);
    assert.equal(await pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'vault' }), vault);
    assert.equal(await pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'decimals' }), 6);
    assert.equal(await pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'decimalConversionRate' }), 1n);
    assert.equal(
      await pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'peers', args: [other.eid] }),
      pad(other.contracts.token).toLowerCase(),
    );
    assert.equal(
      await pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'peerRoute', args: [other.eid] }),
      pad(other.contracts.route).toLowerCase(),
    );
    const [max, windowSec, used] = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'outflowCap' });
    assert.deepEqual([max, windowSec, used], [CAP, 3600n, 0n]);
  });

  test('withdrawToRoute moves tokens to the route, records the outflow and enforces the window cap', async () => {
    const { pub, keeper, chain } = fx.clients('a');
    const { vault, token, route } = chain.contracts;
    const first = 300_000n * UNIT;
    const { request } = await pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('cap-1'), first] });
    await mined(pub, keeper.writeContract(request));
    assert.equal(await pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [route] }), first);
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'outflowOf', args: [id('cap-1')] }), first);
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalSupplied' }), LIQUIDITY - first);

    // Second outflow in the same window: only CAP - first remains.
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('cap-2'), first] }),
      'OutflowCapExceeded',
      [first, CAP - first],
    );
    // The same check holds for a mined transaction, not only a simulation.
    const hash = await keeper.writeContract({ address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('cap-2'), first], gas: 200_000n });
    const receipt = await pub.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'reverted');

    // After the window expires the usage reads 0 and a new outflow is allowed.
    await pub.request({ method: 'evm_increaseTime' as never, params: [3600] as never });
    await pub.request({ method: 'evm_mine' as never, params: [] as never });
    const [, , usedAfter] = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'outflowCap' });
    assert.equal(usedAfter, 0n);
    const again = await pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('cap-2'), first] });
    await mined(pub, keeper.writeContract(again.request));
    const [, , usedNow] = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'outflowCap' });
    assert.equal(usedNow, first);
  });

  test('withdrawToRoute rejects a reused rebalanceId', async () => {
    const { pub, keeper, chain } = fx.clients('a');
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: chain.contracts.vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('cap-1'), 1n] }),
      'RebalanceIdUsed',
      [id('cap-1')],
    );
  });

  test('only the keeper can withdrawToRoute, and only the route can depositFromRoute', async () => {
    const { pub, keeper, market, deployer, chain } = fx.clients('a');
    const { vault } = chain.contracts;
    const keeperRole = await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'KEEPER_ROLE' });
    await expectRevert(
      pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('intruder'), 1n] }),
      'AccessControlUnauthorizedAccount',
      [market.account.address, keeperRole],
    );
    // Even the admin has no KEEPER_ROLE by default.
    await expectRevert(
      pub.simulateContract({ account: deployer.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('intruder'), 1n] }),
      'AccessControlUnauthorizedAccount',
    );
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'depositFromRoute', args: [id('fake-inflow'), 1n] }),
      'NotRoute',
      [keeper.account.address],
    );
    // The keeper cannot re-point the route.
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'setRoute', args: [keeper.account.address] }),
      'AccessControlUnauthorizedAccount',
    );
  });

  test('paused outflows revert OutflowPaused until the admin resumes them', async () => {
    const { pub, keeper, deployer, chain } = fx.clients('a');
    const { vault } = chain.contracts;
    const pause = await pub.simulateContract({ account: deployer.account, address: vault, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [true, false] });
    await mined(pub, deployer.writeContract(pause.request));
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'outflowPaused' }), true);
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('paused'), 1n] }),
      'OutflowPaused',
    );
    const resume = await pub.simulateContract({ account: deployer.account, address: vault, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [false, false] });
    await mined(pub, deployer.writeContract(resume.request));
    await pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('paused'), 1n] });
  });

  test('utilization, idle and borrow limits read right after a borrow', async () => {
    const { pub, market, chain } = fx.clients('b');
    const { vault, token } = chain.contracts;
    const borrowed = 250_000n * UNIT;
    const { request } = await pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'borrow', args: [borrowed] });
    await mined(pub, market.writeContract(request));
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'totalBorrowed' }), borrowed);
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'idle' }), LIQUIDITY - borrowed);
    assert.equal(await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'utilizationWad' }), 250_000_000_000_000_000n);
    assert.equal(await pub.readContract({ address: token, abi: ballastTokenAbi, functionName: 'balanceOf', args: [market.account.address] }), borrowed);
    await expectRevert(
      pub.simulateContract({ account: market.account, address: vault, abi: collateralVaultAbi, functionName: 'borrow', args: [LIQUIDITY] }),
      'InsufficientIdle',
      [LIQUIDITY, LIQUIDITY - borrowed],
    );
    // Keeper outflows are limited by idle liquidity too (the cap alone would allow CAP).
    const { keeper } = fx.clients('b');
    const over = LIQUIDITY - borrowed + 1n;
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: vault, abi: collateralVaultAbi, functionName: 'withdrawToRoute', args: [id('idle'), over] }),
      'InsufficientIdle',
      [over, LIQUIDITY - borrowed],
    );
  });

  test('route.send refuses a destination without an allow-listed peer route', async () => {
    const { pub, keeper, chain } = fx.clients('a');
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: chain.contracts.route, abi: ballastRouteAbi, functionName: 'send', args: [id('nowhere'), 49999, 1n, '0x'] }),
      'NoPeerRoute',
      [49999],
    );
  });

  test('DevPriceFeed serves the highest round written by its owner, Chainlink-style', async () => {
    const { pub, deployer, keeper, chain } = fx.clients('a');
    const feed = chain.contracts.priceFeed;
    assert.equal(await pub.readContract({ address: feed, abi: devPriceFeedAbi, functionName: 'decimals' }), 8);
    assert.equal(await pub.readContract({ address: feed, abi: devPriceFeedAbi, functionName: 'description' }), 'ETH / USD');
    await expectRevert(pub.readContract({ address: feed, abi: devPriceFeedAbi, functionName: 'latestRoundData' }), 'NoRoundData');
    for (const [round, answer] of [[2n, 3_100_00000000n], [1n, 3_000_00000000n]] as const) {
      const { request } = await pub.simulateContract({ account: deployer.account, address: feed, abi: devPriceFeedAbi, functionName: 'setRound', args: [round, answer, 1_700_000_000n, 1_700_000_100n, round] });
      await mined(pub, deployer.writeContract(request));
    }
    const latest = await pub.readContract({ address: feed, abi: devPriceFeedAbi, functionName: 'latestRoundData' });
    assert.deepEqual(latest, [2n, 3_100_00000000n, 1_700_000_000n, 1_700_000_100n, 2n]);
    const first = await pub.readContract({ address: feed, abi: devPriceFeedAbi, functionName: 'getRoundData', args: [1n] });
    assert.equal(first[1], 3_000_00000000n);
    await expectRevert(
      pub.simulateContract({ account: keeper.account, address: feed, abi: devPriceFeedAbi, functionName: 'setRound', args: [3n, 1n, 1n, 1n, 3n] }),
      'OwnableUnauthorizedAccount',
    );
  });
});
