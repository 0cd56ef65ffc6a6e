/**
 * AaveAllocator on one anvil chain against a REAL Aave v3 deployment (`@aave/core-v3` 1.19.3 through
 * devnet/aave.ts): the treasury supplies the Ballast OFT into Aave through the allocator, the keeper moves it
 * to / from a `BallastRoute` with the same calls it makes on a `CollateralVault` (`withdrawToRoute`,
 * `BallastRoute.depositToVault` → `depositFromRoute`), bounded by the fixed-window outflow cap, and a borrower's
 * debt makes the aTokens earn interest while `principal()` stays exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  getAddress,
  http,
  keccak256,
  maxUint256,
  toHex,
  zeroHash,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { estimateWithHeadroom } from '../../chains/evm/writeContract.js';
import { loadBytecode } from '../../contracts/artifacts.js';
import { compileContracts } from '../../contracts/compile.js';
import { aaveAllocatorAbi, ballastRouteAbi, ballastTokenAbi, collateralVaultAbi, endpointV2Abi } from '../../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { aavePoolAbi, deployAaveV3, fundBorrower, readAaveReserve, type AaveV3Deployment } from '../../devnet/aave.js';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { expectRevert, mined } from './devnetFixture.js';

const CHAIN_ID = 31337;
const UNIT = 10n ** 6n; // the OFT has 6 decimals
const SUPPLY = 1_000_000n * UNIT;
const CAP = 100_000n * UNIT;
const WINDOW_SEC = 3600n;
const BORROW = 800_000n * UNIT;
const COLLATERAL = 1_000n * 10n ** 18n; // 1,000 WETH at $3000, LTV 80%: up to $2.4M of debt
const YEAR_SEC = 365 * 24 * 3600;

/** Anvil's well-known mnemonic (public test keys): accounts 5 and 6 play the treasurer and an outsider. */
const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
const TREASURER = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 5 });
const OUTSIDER = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 6 });
const DEPLOYER = privateKeyToAccount(DEVNET_ACCOUNTS.deployer);
const KEEPER = privateKeyToAccount(DEVNET_ACCOUNTS.keeper);

type Wallet = WalletClient<Transport, Chain, Account>;
type Pub = PublicClient<Transport, Chain>;

let seq = 0;
const freshId = (label: string): Hex => keccak256(toHex(`aaveAllocator.test:${label}:${seq++}:${process.pid}`));

describe('AaveAllocator on a real Aave v3 market', { timeout: 120_000 }, () => {
  let anvil: AnvilInstance;
  let pub: Pub;
  let deployer: Wallet;
  let keeper: Wallet;
  let treasurer: Wallet;
  let outsider: Wallet;
  let borrower: Wallet;
  let aave: AaveV3Deployment;
  let token: Address;
  let route: Address;
  let allocator: Address;
  let keeperRole: Hex;
  let treasurerRole: Hex;

  const balanceOf = (asset: Address, who: Address) => pub.readContract({ address: asset, abi: erc20Abi, functionName: 'balanceOf', args: [who] });
  const read = <F extends 'principal' | 'suppliedBalance'>(fn: F) => pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: fn });
  const rpc = (method: string, params: unknown[]) => pub.request({ method, params } as never);

  /** Simulates `call` as `wallet`'s account, sends it and waits for success. */
  async function write(wallet: Wallet, call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] }) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const { request } = await pub.simulateContract({ account: wallet.account, ...call } as any);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return mined(pub, wallet.writeContract({ ...request, gas: await estimateWithHeadroom(pub, request) } as any));
  }
  const allocatorWrite = (wallet: Wallet, functionName: string, args: readonly unknown[]) => write(wallet, { address: allocator, abi: aaveAllocatorAbi, functionName, args });
  const allocatorSim = (account: Account, functionName: string, args: readonly unknown[]) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    pub.simulateContract({ account, address: allocator, abi: aaveAllocatorAbi, functionName, args } as any);

  /** Everything a refused call must leave untouched. */
  async function snapshot() {
    const [aBal, principal, routeBal, keeperBal, outsiderBal, allocatorBal] = await Promise.all([
      read('suppliedBalance'),
      read('principal'),
      balanceOf(token, route),
      balanceOf(token, KEEPER.address),
      balanceOf(token, OUTSIDER.address),
      balanceOf(token, allocator),
    ]);
    return { aBal, principal, routeBal, keeperBal, outsiderBal, allocatorBal };
  }

  before(async () => {
    const started = Date.now();
    await compileContracts({ log: () => {} });
    anvil = await startAnvil({ chainId: CHAIN_ID });
    const chain = defineChain({
      id: CHAIN_ID,
      name: 'aave-allocator-test',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    });
    const transport = http(anvil.rpcUrl);
    pub = createPublicClient({ chain, transport, pollingInterval: 20 });
    const wallet = (account: Account): Wallet => createWalletClient({ account, chain, transport, pollingInterval: 20 });
    deployer = wallet(DEPLOYER);
    keeper = wallet(KEEPER);
    treasurer = wallet(TREASURER);
    outsider = wallet(OUTSIDER);
    borrower = wallet(privateKeyToAccount(DEVNET_ACCOUNTS.market));

    const deploy = async (abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> => {
      const receipt = await mined(pub, deployer.deployContract({ abi, bytecode, args }));
      assert.ok(receipt.contractAddress);
      return getAddress(receipt.contractAddress);
    };
    // The devnet's asset: the Ballast OFT (6 decimals), which needs a LayerZero endpoint to exist.
    const endpoint = await deploy(endpointV2Abi, loadBytecode('EndpointV2'), [40101, DEPLOYER.address]);
    token = await deploy(ballastTokenAbi, loadBytecode('BallastToken'), ['Ballast USD', 'bUSD', endpoint, DEPLOYER.address]);
    aave = await deployAaveV3({ rpcUrl: anvil.rpcUrl, chainId: CHAIN_ID, deployerKey: DEVNET_ACCOUNTS.deployer, asset: token });
    allocator = await deploy(aaveAllocatorAbi, loadBytecode('AaveAllocator'), [aave.pool, token, DEPLOYER.address]);
    route = await deploy(ballastRouteAbi, loadBytecode('BallastRoute'), [token, DEPLOYER.address]);

    keeperRole = await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'KEEPER_ROLE' });
    treasurerRole = await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'TREASURER_ROLE' });
    // Wired like devnet/deploy.ts wires a vault and its route.
    await allocatorWrite(deployer, 'setRoute', [route]);
    await write(deployer, { address: route, abi: ballastRouteAbi, functionName: 'setVault', args: [allocator] });
    await allocatorWrite(deployer, 'grantRole', [keeperRole, KEEPER.address]);
    await write(deployer, { address: route, abi: ballastRouteAbi, functionName: 'grantRole', args: [keeperRole, KEEPER.address] });
    await allocatorWrite(deployer, 'grantRole', [treasurerRole, TREASURER.address]);
    await allocatorWrite(deployer, 'setOutflowCap', [CAP, WINDOW_SEC]);
    await write(deployer, { address: token, abi: ballastTokenAbi, functionName: 'mint', args: [TREASURER.address, SUPPLY] });
    console.log(`anvil + Aave v3 + allocator deployed and wired in ${Date.now() - started} ms`);
  });

  after(async () => {
    await anvil?.stop();
  });

  test('views: pool, asset, aToken from getReserveData, route; the keeper role id is CollateralVault\'s', async () => {
    const [pool, asset, aToken, routeRead] = await Promise.all([
      pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'pool' }),
      pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'asset' }),
      pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'aToken' }),
      pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'route' }),
    ]);
    assert.equal(pool, aave.pool);
    assert.equal(asset, token);
    assert.equal(aToken, aave.aToken);
    assert.equal(routeRead, route);
    const reserve = (await pub.readContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'getReserveData', args: [token] })) as { aTokenAddress: Address };
    assert.equal(getAddress(reserve.aTokenAddress), aToken);
    assert.equal(keeperRole, keccak256(toHex('KEEPER_ROLE')));
    // The keeper's legs call the vault through collateralVaultAbi: every keeper-facing item the allocator has
    // must have the identical ABI entry there (names, inputs, outputs, mutability).
    for (const name of ['KEEPER_ROLE', 'withdrawToRoute', 'depositFromRoute', 'outflowOf', 'inflowOf', 'route', 'outflowPaused', 'inflowPaused', 'setRoute', 'setOutflowCap', 'setKeeperFlowsPaused', 'outflowCap', 'asset', 'idle']) {
      const mine = aaveAllocatorAbi.find((x) => x.type === 'function' && x.name === name);
      const theirs = collateralVaultAbi.find((x) => x.type === 'function' && x.name === name);
      assert.ok(mine && theirs, `${name} in both ABIs`);
      assert.deepEqual(mine, theirs, `${name}: same ABI entry as CollateralVault`);
    }
    for (const name of ['WithdrawnToRoute', 'DepositedFromRoute', 'RouteSet', 'OutflowCapSet', 'KeeperFlowsPausedSet', 'Supplied']) {
      assert.deepEqual(
        aaveAllocatorAbi.find((x) => x.type === 'event' && x.name === name),
        collateralVaultAbi.find((x) => x.type === 'event' && x.name === name),
        `event ${name}: same as CollateralVault`,
      );
    }
    for (const name of ['ZeroAddress', 'ZeroAmount', 'RebalanceIdUsed', 'OutflowPaused', 'InflowPaused', 'OutflowCapExceeded', 'RouteNotSet', 'NotRoute']) {
      assert.deepEqual(
        aaveAllocatorAbi.find((x) => x.type === 'error' && x.name === name),
        collateralVaultAbi.find((x) => x.type === 'error' && x.name === name),
        `error ${name}: same as CollateralVault`,
      );
    }
  });

  test('the treasury supplies: the allocator holds aTokens, principal is exact; only a treasurer or the admin may supply', async () => {
    await write(treasurer, { address: token, abi: ballastTokenAbi, functionName: 'approve', args: [allocator, SUPPLY] });
    await expectRevert(allocatorSim(OUTSIDER, 'supply', [SUPPLY]), 'AccessControlUnauthorizedAccount', [OUTSIDER.address, treasurerRole]);
    await expectRevert(allocatorSim(TREASURER, 'supply', [0n]), 'ZeroAmount');
    await allocatorWrite(treasurer, 'supply', [SUPPLY]);
    const s = await snapshot();
    assert.equal(s.principal, SUPPLY);
    // Fresh reserve: liquidity index exactly 1 ray, so no rounding dust yet.
    assert.equal(s.aBal, SUPPLY);
    assert.equal(s.allocatorBal, 0n, 'nothing idle in the allocator: all of it is in Aave');
    assert.equal(await balanceOf(token, aave.aToken), SUPPLY, 'the underlying sits in the aToken');
    assert.equal(await balanceOf(token, TREASURER.address), 0n);
    assert.equal(await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'cumulativeSupplied' }), SUPPLY);
  });

  test('withdrawToRoute moves exactly `amount` to the route and burns the aTokens; an id works once', async () => {
    const amount = 40_000n * UNIT + 7n;
    const id = freshId('w1');
    const before = await snapshot();
    await allocatorWrite(keeper, 'withdrawToRoute', [id, amount]);
    const after = await snapshot();
    assert.equal(after.routeBal - before.routeBal, amount, 'the route received exactly amount');
    assert.equal(after.principal, before.principal - amount, 'principal exact');
    const burnt = before.aBal - after.aBal;
    assert.ok(burnt >= amount - 1n && burnt <= amount + 1n, `aToken balance fell by amount ± 1 wei (fell by ${burnt})`);
    assert.equal(after.allocatorBal, 0n);
    assert.equal(await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'outflowOf', args: [id] }), amount);
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [id, 1n]), 'RebalanceIdUsed', [id]);
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [freshId('zero'), 0n]), 'ZeroAmount');
  });

  test('the fixed-window outflow cap: over it reverts OutflowCapExceeded, the window resets after windowSec', async () => {
    const [, , used] = await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'outflowCap' });
    const remaining = CAP - used;
    assert.equal(remaining, 60_000n * UNIT - 7n);
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [freshId('over'), remaining + 1n]), 'OutflowCapExceeded', [remaining + 1n, remaining]);
    const before = await snapshot();
    await allocatorWrite(keeper, 'withdrawToRoute', [freshId('rest'), remaining]);
    assert.equal((await snapshot()).routeBal - before.routeBal, remaining);
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [freshId('one'), 1n]), 'OutflowCapExceeded', [1n, 0n]);
    // A broadcast without simulation is mined reverted too, nothing moves.
    const s0 = await snapshot();
    const hash = await keeper.writeContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'withdrawToRoute', args: [freshId('blind'), UNIT], gas: 1_000_000n });
    assert.equal((await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })).status, 'reverted');
    assert.deepEqual(await snapshot(), s0);

    await rpc('evm_increaseTime', [Number(WINDOW_SEC)]);
    await rpc('evm_mine', []);
    const [max, windowSec, usedNow] = await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'outflowCap' });
    assert.deepEqual([max, windowSec, usedNow], [CAP, WINDOW_SEC, 0n], 'new window: nothing used');
    const b = await snapshot();
    await allocatorWrite(keeper, 'withdrawToRoute', [freshId('next-window'), UNIT]);
    const a = await snapshot();
    assert.equal(a.routeBal - b.routeBal, UNIT);
    assert.equal(a.principal, SUPPLY - CAP - UNIT);
    // Paused outflows refuse even within the cap.
    await allocatorWrite(deployer, 'setKeeperFlowsPaused', [true, false]);
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [freshId('paused'), 1n]), 'OutflowPaused');
    await allocatorWrite(deployer, 'setKeeperFlowsPaused', [false, false]);
  });

  test('a stolen keeper key can only withdrawToRoute; an outsider can do nothing', async () => {
    const before = await snapshot();
    const adminRole = zeroHash;
    // An address without KEEPER_ROLE.
    await expectRevert(allocatorSim(OUTSIDER, 'withdrawToRoute', [freshId('outsider'), UNIT]), 'AccessControlUnauthorizedAccount', [OUTSIDER.address, keeperRole]);
    const hash = await outsider.writeContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'withdrawToRoute', args: [freshId('outsider-blind'), UNIT], gas: 1_000_000n });
    assert.equal((await pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })).status, 'reverted');
    await expectRevert(allocatorSim(OUTSIDER, 'withdraw', [UNIT, OUTSIDER.address]), 'AccessControlUnauthorizedAccount', [OUTSIDER.address, adminRole]);

    // Every state-changing function of the allocator, and what the keeper key gets from it. A new write
    // function fails this test until it is classified here.
    const keeperAttempts: Record<string, { args: readonly unknown[]; error: string; errorArgs?: readonly unknown[] } | 'allowed'> = {
      withdrawToRoute: 'allowed', // to the route only (no recipient argument), under the cap: the tests above
      supply: { args: [UNIT], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, treasurerRole] },
      withdraw: { args: [UNIT, KEEPER.address], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      depositFromRoute: { args: [freshId('fake-inflow'), UNIT], error: 'NotRoute', errorArgs: [KEEPER.address] },
      setRoute: { args: [KEEPER.address], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      setOutflowCap: { args: [maxUint256, 1n], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      setKeeperFlowsPaused: { args: [false, false], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      grantRole: { args: [treasurerRole, KEEPER.address], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      revokeRole: { args: [keeperRole, KEEPER.address], error: 'AccessControlUnauthorizedAccount', errorArgs: [KEEPER.address, adminRole] },
      // Only ever the caller's own role (here: someone else's is refused); moves nothing.
      renounceRole: { args: [keeperRole, DEPLOYER.address], error: 'AccessControlBadConfirmation' },
    };
    const writes = (aaveAllocatorAbi as Abi)
      .flatMap((x) => (x.type === 'function' && (x.stateMutability === 'nonpayable' || x.stateMutability === 'payable') ? [x.name] : []))
      .sort();
    assert.deepEqual(writes, Object.keys(keeperAttempts).sort(), 'every write function is classified');
    for (const [fn, attempt] of Object.entries(keeperAttempts)) {
      if (attempt === 'allowed') continue;
      await expectRevert(allocatorSim(KEEPER, fn, attempt.args), attempt.error, attempt.errorArgs);
    }
    // The one keeper write takes no recipient: funds can only go to `route`, which only the admin sets.
    const w = aaveAllocatorAbi.find((x) => x.type === 'function' && x.name === 'withdrawToRoute');
    assert.deepEqual(w && 'inputs' in w ? w.inputs.map((i) => i.type) : [], ['bytes32', 'uint256']);
    assert.deepEqual(await snapshot(), before, 'nothing moved');
  });

  test('depositFromRoute (through BallastRoute.depositToVault, as the keeper leg does) supplies to Aave', async () => {
    const amount = 100_000n * UNIT;
    const id = freshId('inflow');
    const before = await snapshot();
    assert.ok(before.routeBal >= amount);
    await write(keeper, { address: route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [id, amount] });
    const after = await snapshot();
    assert.equal(before.routeBal - after.routeBal, amount);
    assert.equal(after.principal, before.principal + amount, 'principal exact');
    const minted = after.aBal - before.aBal;
    assert.ok(minted >= amount - 1n && minted <= amount + 1n, `aToken balance rose by amount ± 1 wei (rose by ${minted})`);
    assert.equal(after.allocatorBal, 0n, 'supplied, not left idle');
    assert.equal(await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'inflowOf', args: [id] }), amount);
    // Only the route may call it, and the allocator refuses a reused id even from the route.
    await expectRevert(allocatorSim(KEEPER, 'depositFromRoute', [freshId('direct'), 1n]), 'NotRoute', [KEEPER.address]);
    await expectRevert(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      pub.simulateContract({ account: route, address: allocator, abi: aaveAllocatorAbi, functionName: 'depositFromRoute', args: [id, 1n] } as any),
      'RebalanceIdUsed',
      [id],
    );
  });

  test('with a borrower in debt, interest accrues: suppliedBalance() > principal(), principal stays exact', async () => {
    await fundBorrower({ rpcUrl: anvil.rpcUrl, chainId: CHAIN_ID, deployment: aave, borrowerKey: DEVNET_ACCOUNTS.market, collateralAmount: COLLATERAL });
    await write(borrower, { address: aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [token, BORROW, 2n, 0, borrower.account.address] });
    const p0 = await read('principal');
    const expected = SUPPLY - CAP - UNIT + 100_000n * UNIT;
    assert.equal(p0, expected);
    const r0 = await readAaveReserve({ rpcUrl: anvil.rpcUrl, chainId: CHAIN_ID, deployment: aave, holder: allocator });
    assert.equal(r0.totalVariableDebt, BORROW);
    assert.ok(r0.liquidityRateRay > 0n, 'a positive supply rate');

    await rpc('evm_increaseTime', [YEAR_SEC]);
    await rpc('evm_mine', []);
    const [bal, principal] = await Promise.all([read('suppliedBalance'), read('principal')]);
    assert.equal(principal, p0, 'time does not change principal');
    assert.ok(bal > principal, `interest: suppliedBalance ${bal} > principal ${principal}`);
    const interest = bal - principal;
    // 80% utilization, slope1 5.5% at 90% optimal → ~4.9% borrow rate, ~3.5% supply rate after the 10% reserve factor.
    assert.ok(interest > (principal * 2n) / 100n && interest < (principal * 6n) / 100n, `~3-4% a year (got ${interest})`);

    // Moves after interest keep principal exact to the base unit (the interest stays the difference).
    const before = await snapshot();
    await allocatorWrite(keeper, 'withdrawToRoute', [freshId('after-interest'), 50_000n * UNIT]);
    const to = TREASURER.address;
    const tBefore = await balanceOf(token, to);
    await allocatorWrite(deployer, 'withdraw', [10_000n * UNIT + 3n, to]);
    const after = await snapshot();
    assert.equal(after.routeBal - before.routeBal, 50_000n * UNIT);
    assert.equal((await balanceOf(token, to)) - tBefore, 10_000n * UNIT + 3n);
    assert.equal(after.principal, p0 - 60_000n * UNIT - 3n);
    assert.equal(
      await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'cumulativeWithdrawn' }),
      10_000n * UNIT + 3n,
    );
    const interestAfter = after.aBal - after.principal;
    assert.ok(interestAfter >= interest - 2n, `interest kept (± dust): ${interestAfter} vs ${interest}`);
  });

  test('a withdrawal above the reserve\'s available liquidity (borrowed out) reverts inside Aave; exactly the available liquidity goes', async () => {
    await allocatorWrite(deployer, 'setOutflowCap', [maxUint256, WINDOW_SEC]);
    const r = await readAaveReserve({ rpcUrl: anvil.rpcUrl, chainId: CHAIN_ID, deployment: aave, holder: allocator });
    const available = r.availableLiquidity;
    assert.ok(r.holderATokenBalance! > available, 'the allocator owns more than Aave can pay out now');
    const idle = await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'idle' });
    assert.equal(idle, available, 'idle() = min(aToken balance, available liquidity)');

    const before = await snapshot();
    const over = available + 1n;
    const id = freshId('over-liquidity');
    // Thunks, awaited one at a time: a second promise rejecting while the first is awaited is an unhandled rejection.
    for (const attempt of [() => allocatorSim(KEEPER, 'withdrawToRoute', [id, over]), () => allocatorSim(DEPLOYER, 'withdraw', [over, DEPLOYER.address])]) {
      try {
        await attempt();
        assert.fail('a withdrawal above the available liquidity succeeded');
      } catch (err) {
        assert.ok(err instanceof BaseError, String(err));
        const revert = err.walk((e) => e instanceof ContractFunctionRevertedError);
        assert.ok(revert instanceof ContractFunctionRevertedError, err.shortMessage);
        // Aave 1.19.3: the rate strategy's availableLiquidity − liquidityTaken underflows (the reserve has debt).
        assert.equal(revert.data?.errorName, 'Panic', `Aave's own revert, not the allocator's: ${revert.shortMessage}`);
        assert.deepEqual(revert.data?.args, [0x11n]);
      }
    }
    assert.equal(await pub.readContract({ address: allocator, abi: aaveAllocatorAbi, functionName: 'outflowOf', args: [id] }), 0n);
    assert.deepEqual(await snapshot(), before, 'nothing moved');

    await allocatorWrite(keeper, 'withdrawToRoute', [id, available]);
    const after = await snapshot();
    assert.equal(after.routeBal - before.routeBal, available);
    assert.equal(after.principal, before.principal - available);
    assert.equal(await balanceOf(token, aave.aToken), 0n, 'the reserve is fully borrowed out');
    await expectRevert(allocatorSim(KEEPER, 'withdrawToRoute', [freshId('dry'), 1n]), 'Panic', [0x11n]);
  });
});
