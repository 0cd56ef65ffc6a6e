/**
 * Threat model: the keeper's hot key is stolen.
 *
 * The attacker holds the keeper's key (devnet/accounts.ts `keeper`: KEEPER_ROLE on every vault and
 * route, nothing else) and talks to the contracts directly, on real anvil chains with LayerZero's
 * EndpointV2. What the contracts promise (README "On-chain bounds"), each checked below:
 *
 *   T1  Drain through the keeper path → at most `maxOutflowPerWindow` per window, and only into the route.
 *   T2  Pay itself from the vault or the route → there is no such path (no supply to withdraw, no
 *       borrower role, no allowance, no admin role to re-point the route or grant itself roles).
 *   T3  Bridge the funds to an address of its choosing → `route.send` has no recipient parameter; funds
 *       only ever arrive at the allow-listed peer route, and the keeper cannot change the allow-list
 *       (nor the OFT's peers).
 *   T4  Lift the bounds → `setOutflowCap`, unpausing, `depositFromRoute` are refused.
 *
 * Every refusal is checked twice: the simulation reverts with the decoded custom error, and the same
 * transaction broadcast anyway (fixed gas, no simulation, as an attacker would) is mined as reverted
 * with no change in balances.
 *
 * Plus the keeper's own discipline (issue 4, "every write is simulated before it is sent"):
 * `simulateAndWrite` never broadcasts a write that would revert.
 *
 * The whole model runs once per market (README "Aave v3 markets"): `vault` — the treasury's liquidity in Ballast's
 * CollateralVault — and `aave` — a supply position in a real Aave v3 Pool (`@aave/core-v3` 1.19.3, devnet/aave.ts),
 * the aTokens held by the treasury's AaveAllocator, which is then the keeper's treasury contract and the route's
 * vault. On Aave the same bounds hold for the same calls (the allocator's keeper ABI is the vault's): the cap drains
 * the allocator's principal (and its aTokens) by at most the cap, into the route only; T2's other doors are Aave's
 * own and the allocator's: the treasury exit `withdraw(amount, to)` is the admin's, `Pool.withdraw` pays the caller's
 * own aTokens only (the keeper has none: Aave's '32'), borrowing on the allocator's behalf needs a credit delegation
 * nobody gave, and the aTokens cannot be pulled with `transferFrom` (no allowance: Aave's checked arithmetic panics).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { erc20Abi, keccak256, pad, parseEventLogs, toHex, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { aaveAllocatorAbi, ballastRouteAbi, ballastTokenAbi, collateralVaultAbi } from '../../contracts/generated/abis.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import type { DevnetMarket } from '../../devnet/deploy.js';
import { aavePoolAbi } from '../../devnet/aave.js';
import { LayerZeroRelayer } from '../../devnet/relayer.js';
import { lzReceiveOptions } from '../../chains/evm/layerzero.js';
import { createEvmClients } from '../../chains/evm/clients.js';
import { simulateAndWrite } from '../../chains/evm/writeContract.js';
import { ContractRevertError } from '../../chains/evm/errors.js';
import { expectRevert, mined, startDevnetFixture, type ChainClients, type DevnetFixture } from './devnetFixture.js';

const UNIT = 10n ** 6n;
const LIQUIDITY = 10_000_000n * UNIT;
const CAP = LIQUIDITY / 2n; // deployDevnet's default maxOutflowPerWindow (the vault's and the allocator's)
const WINDOW_SEC = 3600n; // deployDevnet's default window
const OPTIONS = lzReceiveOptions(200_000);
const KEEPER = privateKeyToAccount(DEVNET_ACCOUNTS.keeper).address;

let seq = 0;
const freshId = (label: string): Hex => keccak256(toHex(`compromised-keeper:${label}:${seq++}:${process.pid}`));

interface Call {
  address: Address;
  abi: Abi;
  functionName: string;
  args: readonly unknown[];
  value?: bigint;
}

async function tokenBalance(c: ChainClients, who: Address): Promise<bigint> {
  return c.pub.readContract({ address: c.chain.contracts.token, abi: erc20Abi, functionName: 'balanceOf', args: [who] });
}

/** The contract holding the treasury's liquidity and answering the keeper's legs: the allocator on Aave, else the vault. */
const treasuryOf = (c: ChainClients): Address => c.chain.contracts.aave?.allocator ?? c.chain.contracts.vault;
/** Its ABI for the keeper's calls (withdrawToRoute, outflowCap, setOutflowCap, pause, roles: the same on both). */
const treasuryAbiOf = (c: ChainClients): Abi => (c.chain.contracts.aave ? aaveAllocatorAbi : collateralVaultAbi);

/**
 * What must not move when an attack is refused: the treasury (the vault's tokens; on Aave the allocator's principal
 * and its aToken balance), the route, and the keeper's own tokens (and aTokens).
 */
async function holdings(c: ChainClients) {
  const aave = c.chain.contracts.aave;
  const [treasury, principal, route, keeper, keeperATokens] = await Promise.all([
    aave ? c.pub.readContract({ address: aave.allocator, abi: aaveAllocatorAbi, functionName: 'suppliedBalance' }) : tokenBalance(c, c.chain.contracts.vault),
    aave ? c.pub.readContract({ address: aave.allocator, abi: aaveAllocatorAbi, functionName: 'principal' }) : tokenBalance(c, c.chain.contracts.vault),
    tokenBalance(c, c.chain.contracts.route),
    tokenBalance(c, KEEPER),
    aave ? c.pub.readContract({ address: aave.aToken, abi: erc20Abi, functionName: 'balanceOf', args: [KEEPER] }) : 0n,
  ]);
  return { treasury, principal, route, keeper, keeperATokens };
}

/**
 * The keeper key attempts `call`: the simulation reverts with `errorName` (decoded; Aave's string errors decode as
 * `Error`, its checked arithmetic as `Panic`), and the same transaction broadcast without simulation is mined as
 * reverted; nothing moves.
 */
async function refused(c: ChainClients, call: Call, errorName: string, args?: readonly unknown[]): Promise<void> {
  const before = await holdings(c);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await expectRevert(c.pub.simulateContract({ account: c.keeper.account, ...call } as any), errorName, args);
  // An attacker does not simulate: broadcast with a fixed gas limit so no estimate stops it first.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const hash = await c.keeper.writeContract({ ...call, gas: 1_000_000n } as any);
  const receipt = await c.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 });
  assert.equal(receipt.status, 'reverted', `${call.functionName} by the keeper was mined as a success`);
  assert.deepEqual(await holdings(c), before, `${call.functionName}: nothing moved`);
}

async function keeperWrite(c: ChainClients, call: Call) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const { request } = await c.pub.simulateContract({ account: c.keeper.account, ...call } as any);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return mined(c.pub, c.keeper.writeContract(request as any));
}

async function rpc(c: ChainClients, method: string, params: unknown[]): Promise<void> {
  await c.pub.request({ method, params } as never);
}

for (const market of ['vault', 'aave'] as const satisfies readonly DevnetMarket[]) {
  describe(`a compromised keeper key is bounded by the contracts (market: ${market})`, { timeout: 120_000 }, () => {
    let fx: DevnetFixture;
    let relayer: LayerZeroRelayer;
    const treasuryName = market === 'aave' ? 'allocator' : 'vault';
    before(async () => {
      fx = await startDevnetFixture({ chainCount: 2, initialLiquidity: LIQUIDITY, market });
      relayer = new LayerZeroRelayer({ chains: fx.relayerChains(), pollIntervalMs: 50 });
      relayer.start();
    });
    after(async () => {
      await relayer?.stop();
      await fx?.stop();
    });

    test(`T1: withdrawToRoute with fresh ids drains at most the window cap from the ${treasuryName}, into the route only; the next window allows at most one cap more`, async () => {
      const a = fx.clients('a');
      const treasury = treasuryOf(a);
      const abi = treasuryAbiOf(a);
      const withdraw = (id: Hex, amount: bigint): Call => ({ address: treasury, abi, functionName: 'withdrawToRoute', args: [id, amount] });
      const [cap, windowSec] = (await a.pub.readContract({ address: treasury, abi: collateralVaultAbi, functionName: 'outflowCap' })) as readonly [bigint, bigint, bigint, bigint];
      assert.equal(cap, CAP);
      assert.equal(windowSec, WINDOW_SEC);
      const start = await holdings(a);
      const chunk = 1_500_000n * UNIT; // 3 fit under a 5M cap, the 4th does not
      let drained = 0n;
      let stoppedBy: string | undefined;
      for (let i = 0; i < 10; i++) {
        const call = withdraw(freshId('drain'), chunk);
        if (drained + chunk > CAP) {
          await refused(a, call, 'OutflowCapExceeded', [chunk, CAP - drained]);
          stoppedBy = 'OutflowCapExceeded';
          break;
        }
        await keeperWrite(a, call);
        drained += chunk;
      }
      assert.equal(stoppedBy, 'OutflowCapExceeded', 'the cap stopped the drain');
      assert.ok(drained <= CAP, `drained ${drained} ≤ cap ${CAP}`);
      // Even the exact remainder plus one base unit is refused; the remainder itself is the last that fits.
      const remaining = CAP - drained;
      await refused(a, withdraw(freshId('rem+1'), remaining + 1n), 'OutflowCapExceeded', [remaining + 1n, remaining]);
      await keeperWrite(a, withdraw(freshId('rem'), remaining));
      drained += remaining;
      await refused(a, withdraw(freshId('one'), 1n), 'OutflowCapExceeded', [1n, 0n]);
      const after = await holdings(a);
      assert.equal(drained, CAP);
      assert.equal(after.treasury, start.treasury - CAP, `the ${treasuryName} lost exactly the cap`);
      assert.equal(after.principal, start.principal - CAP, `the ${treasuryName}'s books: exactly the cap out`);
      assert.equal(after.route, start.route + CAP, 'everything that left sits in the route');
      assert.deepEqual([after.keeper, after.keeperATokens], [0n, 0n], 'nothing reached the keeper');
      // A used id cannot be replayed either.
      const id = freshId('replay');
      await rpc(a, 'evm_increaseTime', [Number(WINDOW_SEC)]);
      await rpc(a, 'evm_mine', []);
      await keeperWrite(a, withdraw(id, UNIT));
      await refused(a, withdraw(id, UNIT), 'RebalanceIdUsed', [id]);
      // One window later: at most one more cap (the rate bound), and never more in one window, even with
      // plenty of liquidity (the admin supplies 10M more so the cap, not the balance, is what binds).
      await mined(a.pub, a.deployer.writeContract({ address: a.chain.contracts.token, abi: ballastTokenAbi, functionName: 'mint', args: [a.deployer.account.address, LIQUIDITY] }));
      await mined(a.pub, a.deployer.writeContract({ address: a.chain.contracts.token, abi: ballastTokenAbi, functionName: 'approve', args: [treasury, LIQUIDITY] }));
      if (market === 'aave') await mined(a.pub, a.deployer.writeContract({ address: treasury, abi: aaveAllocatorAbi, functionName: 'supply', args: [LIQUIDITY], gas: 1_000_000n }));
      else await mined(a.pub, a.deployer.writeContract({ address: treasury, abi: collateralVaultAbi, functionName: 'supply', args: [LIQUIDITY] }));
      await refused(a, withdraw(freshId('w2'), CAP), 'OutflowCapExceeded', [CAP, CAP - UNIT]);
    });

    test(`T2: no path moves ${treasuryName} or route funds to the keeper's own address`, async () => {
      const a = fx.clients('a');
      const { route, token } = a.chain.contracts;
      const treasury = treasuryOf(a);
      const abi = treasuryAbiOf(a);
      const amount = 1_000n * UNIT;
      const admin = (await a.pub.readContract({ address: treasury, abi: collateralVaultAbi, functionName: 'DEFAULT_ADMIN_ROLE' })) as Hex;
      const aave = a.chain.contracts.aave;
      let grantable: Hex;
      if (aave) {
        // The treasury's exit names a recipient, and is the admin's alone.
        await refused(a, { address: aave.allocator, abi: aaveAllocatorAbi, functionName: 'withdraw', args: [amount, KEEPER] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
        // Aave pays a withdrawal from the caller's own aTokens: the keeper has none (Errors.NOT_ENOUGH_AVAILABLE_USER_BALANCE).
        await refused(a, { address: aave.pool, abi: aavePoolAbi, functionName: 'withdraw', args: [token, amount, KEEPER] }, 'Error', ['32']);
        // Borrowing on the allocator's behalf needs its credit delegation (and collateral), which nobody gave.
        const borrow = { address: aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [token, amount, 2n, 0, aave.allocator] };
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const borrowReverts = await a.pub.simulateContract({ account: a.keeper.account, ...borrow } as any).then(() => undefined, (e: unknown) => e);
        assert.ok(borrowReverts, 'Pool.borrow on behalf of the allocator reverts');
        const before = await holdings(a);
        const rc = await a.pub.waitForTransactionReceipt({ hash: await a.keeper.writeContract({ ...borrow, gas: 1_000_000n } as never), pollingInterval: 20 });
        assert.equal(rc.status, 'reverted', 'Pool.borrow on behalf of the allocator was mined as a success');
        assert.deepEqual(await holdings(a), before);
        // Pulling the aTokens themselves: no allowance (AToken's transferFrom subtracts it with checked arithmetic).
        await refused(a, { address: aave.aToken, abi: erc20Abi, functionName: 'transferFrom', args: [aave.allocator, KEEPER, amount] }, 'Panic', [0x11n]);
        grantable = (await a.pub.readContract({ address: aave.allocator, abi: aaveAllocatorAbi, functionName: 'TREASURER_ROLE' })) as Hex;
      } else {
        // The vault's supplier exit pays only the supplier, and the keeper supplied nothing.
        await refused(a, { address: treasury, abi, functionName: 'withdraw', args: [amount] }, 'InsufficientSupplied', [amount, 0n]);
        // Borrowing pays the caller, but needs BORROWER_ROLE.
        grantable = (await a.pub.readContract({ address: treasury, abi: collateralVaultAbi, functionName: 'BORROWER_ROLE' })) as Hex;
        await refused(a, { address: treasury, abi, functionName: 'borrow', args: [amount] }, 'AccessControlUnauthorizedAccount', [KEEPER, grantable]);
      }
      // Pulling tokens straight out of the treasury contract or the route: neither approved the keeper.
      await refused(a, { address: token, abi: ballastTokenAbi, functionName: 'transferFrom', args: [treasury, KEEPER, amount] }, 'ERC20InsufficientAllowance', [KEEPER, 0n, amount]);
      await refused(a, { address: token, abi: ballastTokenAbi, functionName: 'transferFrom', args: [route, KEEPER, amount] }, 'ERC20InsufficientAllowance', [KEEPER, 0n, amount]);
      // Re-pointing the treasury's route (or the route's vault) at itself, or granting itself a role: admin only.
      await refused(a, { address: treasury, abi, functionName: 'setRoute', args: [KEEPER] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
      await refused(a, { address: route, abi: ballastRouteAbi, functionName: 'setVault', args: [KEEPER] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
      await refused(a, { address: treasury, abi, functionName: 'grantRole', args: [grantable, KEEPER] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
      // And no keeper-callable function takes an address at all (so none can name a recipient).
      for (const fnAbi of [abi, ballastRouteAbi] as const) {
        const keeperFns = fnAbi.filter((x) => x.type === 'function' && ['withdrawToRoute', 'send', 'depositToVault'].includes(x.name));
        assert.ok(keeperFns.length > 0);
        for (const fn of keeperFns) {
          assert.ok(fn.type === 'function' && fn.inputs.every((i) => i.type !== 'address' && !(i.type === 'bytes32' && /to|recipient|receiver/i.test(i.name ?? ''))), `${fn.type === 'function' ? fn.name : ''} takes no recipient`);
        }
      }
      assert.equal(await tokenBalance(a, KEEPER), 0n);
    });

    test(`T3: route.send has no recipient: funds only ever arrive at the allow-listed peer route (and from there the ${treasuryName}), and the keeper cannot change the allow-list`, async () => {
      const a = fx.clients('a');
      const b = fx.clients('b');
      const { route, token } = a.chain.contracts;
      const admin = await a.pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'DEFAULT_ADMIN_ROLE' });
      const peer = await a.pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'peerRoute', args: [b.chain.eid] });
      assert.equal(peer, pad(b.chain.contracts.route).toLowerCase(), 'the allow-listed peer is b\'s route');
      // The route's vault is the treasury contract (the allocator on Aave).
      assert.equal((await b.pub.readContract({ address: b.chain.contracts.route, abi: ballastRouteAbi, functionName: 'vault' })).toLowerCase(), treasuryOf(b).toLowerCase());
      // Re-pointing the peer (or the OFT's peer) at the keeper: admin / owner only.
      await refused(a, { address: route, abi: ballastRouteAbi, functionName: 'setPeerRoute', args: [b.chain.eid, pad(KEEPER)] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
      await refused(a, { address: token, abi: ballastTokenAbi, functionName: 'setPeer', args: [b.chain.eid, pad(KEEPER)] }, 'OwnableUnauthorizedAccount', [KEEPER]);
      // An endpoint with no allow-listed peer: refused.
      const amount = 250_000n * UNIT;
      await refused(a, { address: route, abi: ballastRouteAbi, functionName: 'send', args: [freshId('nopeer'), 40_999, amount, OPTIONS] }, 'NoPeerRoute', [40_999]);

      // The drained funds from T1 sit in a's route; the attacker sends them to b. They arrive at b's route.
      const beforeB = await holdings(b);
      const fee = await a.pub.readContract({ address: route, abi: ballastRouteAbi, functionName: 'quoteSend', args: [b.chain.eid, amount, OPTIONS] });
      const receipt = await keeperWrite(a, { address: route, abi: ballastRouteAbi, functionName: 'send', args: [freshId('send'), b.chain.eid, amount, OPTIONS], value: fee });
      const [sent] = parseEventLogs({ abi: ballastRouteAbi, eventName: 'RouteSent', logs: receipt.logs });
      assert.ok(sent);
      const [oftSent] = parseEventLogs({ abi: ballastTokenAbi, eventName: 'OFTSent', logs: receipt.logs });
      assert.equal(oftSent?.args.fromAddress, route, 'the tokens left from the route, not from the keeper');
      await relayer.waitForDelivery(sent.args.guid, 15_000);
      const received = await b.pub.getContractEvents({ address: b.chain.contracts.token, abi: ballastTokenAbi, eventName: 'OFTReceived', args: { guid: sent.args.guid }, fromBlock: 0n });
      assert.equal(received.length, 1);
      assert.equal(received[0]!.args.toAddress, b.chain.contracts.route, 'the recipient is the peer route');
      const afterB = await holdings(b);
      assert.equal(afterB.route, beforeB.route + amount, 'all of it arrived at b\'s route');
      assert.equal(afterB.keeper, 0n, 'none of it reached the keeper on b');
      // From b's route the only way on is into b's treasury (or back over the bridge to a's route).
      await keeperWrite(b, { address: b.chain.contracts.route, abi: ballastRouteAbi, functionName: 'depositToVault', args: [sent.args.rebalanceId, amount] });
      const inB = await holdings(b);
      assert.equal(inB.treasury, beforeB.treasury + amount, `into b's ${treasuryName}`);
      assert.equal(inB.principal, beforeB.principal + amount);
      assert.equal(await tokenBalance(a, KEEPER), 0n);
      assert.equal(await tokenBalance(b, KEEPER), 0n);
    });

    test('T4: the keeper cannot lift its bounds: setOutflowCap, unpausing, depositFromRoute', async () => {
      const a = fx.clients('a');
      const treasury = treasuryOf(a);
      const abi = treasuryAbiOf(a);
      const admin = (await a.pub.readContract({ address: treasury, abi: collateralVaultAbi, functionName: 'DEFAULT_ADMIN_ROLE' })) as Hex;
      await refused(a, { address: treasury, abi, functionName: 'setOutflowCap', args: [LIQUIDITY * 100n, 1n] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
      // The admin pauses keeper flows (incident response); the keeper cannot unpause.
      await mined(a.pub, a.deployer.writeContract({ address: treasury, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [true, true] }));
      try {
        await refused(a, { address: treasury, abi, functionName: 'setKeeperFlowsPaused', args: [false, false] }, 'AccessControlUnauthorizedAccount', [KEEPER, admin]);
        await refused(a, { address: treasury, abi, functionName: 'withdrawToRoute', args: [freshId('paused'), UNIT] }, 'OutflowPaused');
      } finally {
        await mined(a.pub, a.deployer.writeContract({ address: treasury, abi: collateralVaultAbi, functionName: 'setKeeperFlowsPaused', args: [false, false] }));
      }
      // Crediting the treasury's books directly (inflating totalSupplied / principal) is for the route alone.
      await refused(a, { address: treasury, abi, functionName: 'depositFromRoute', args: [freshId('inflate'), UNIT] }, 'NotRoute', [KEEPER]);
      const [cap] = (await a.pub.readContract({ address: treasury, abi: collateralVaultAbi, functionName: 'outflowCap' })) as readonly [bigint, bigint, bigint, bigint];
      assert.equal(cap, CAP, 'the cap is unchanged');
    });

    test('every keeper write is simulated first: a write that would revert is never broadcast, and the error names the decoded custom error', async () => {
      const b = fx.clients('b');
      const clients = createEvmClients({ chainKey: 'b', chainId: b.chain.chainId, rpcUrl: b.chain.rpcUrl, multicall3: b.chain.contracts.multicall3 }, privateKeyToAccount(DEVNET_ACCOUNTS.keeper));
      const nonceBefore = await b.pub.getTransactionCount({ address: KEEPER, blockTag: 'pending' });
      const blockBefore = await b.pub.getBlockNumber();
      const tooMuch = CAP + 1n;
      let err: unknown;
      try {
        await simulateAndWrite({ clients, address: treasuryOf(b), abi: treasuryAbiOf(b), functionName: 'withdrawToRoute', args: [freshId('sim'), tooMuch] });
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof ContractRevertError, `expected ContractRevertError, got ${String(err)}`);
      assert.equal(err.errorName, 'OutflowCapExceeded');
      assert.deepEqual(err.errorArgs, [tooMuch, CAP]);
      assert.equal(err.message, `b: withdrawToRoute reverted: OutflowCapExceeded(${tooMuch}, ${CAP})`);
      assert.equal(await b.pub.getTransactionCount({ address: KEEPER, blockTag: 'pending' }), nonceBefore, 'no transaction was sent: the nonce did not move');
      assert.equal(await b.pub.getBlockNumber(), blockBefore, 'nothing was mined (automine would have mined a sent tx)');
      const pending = (await b.pub.request({ method: 'txpool_content' } as never)) as { pending: Record<string, unknown> };
      assert.equal(Object.keys(pending.pending).length, 0, 'nothing waits in the mempool either');
    });
  });
}
