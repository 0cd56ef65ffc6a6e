/**
 * EVM writes on real anvil chains (chains/evm/writeContract.ts, chains/evm/writeOnce.ts): a keyed write is never
 * sent twice after a receipt timeout, a revert of the keyed write is re-checked on chain before it is a failure, and
 * concurrent writes from one key (one process, or two) never collide on nonces.
 *
 * The contract is a minimal keyed one, compiled here with solc-js (~0.2 s): `act(k)` records `k` once and reverts
 * `RebalanceIdUsed(k)` after; `fail(k)` always reverts `Nope()`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import solc from 'solc';
import { createPublicClient, createWalletClient, custom, encodeFunctionData, http, keccak256, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { createEvmClients, type EvmClients } from '../../chains/evm/clients.js';
import { ContractRevertError, ReceiptTimeoutError } from '../../chains/evm/errors.js';
import { EvmNonceManager, simulateAndWrite, type PendingEvmTx } from '../../chains/evm/writeContract.js';
import { writeOnce } from '../../chains/evm/writeOnce.js';

const KEYED_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;
contract Keyed {
    error RebalanceIdUsed(bytes32 key);
    error Nope();
    mapping(bytes32 => bool) public used;
    function act(bytes32 key) external {
        if (used[key]) revert RebalanceIdUsed(key);
        used[key] = true;
    }
    function fail(bytes32) external pure {
        revert Nope();
    }
}`;

function compileKeyed(): { abi: Abi; bytecode: Hex } {
  const input = { language: 'Solidity', sources: { 'Keyed.sol': { content: KEYED_SOURCE } }, settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } } };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>> };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const c = out.contracts['Keyed.sol']!.Keyed!;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

const keyOf = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`;

interface Chain {
  anvil: AnvilInstance;
  clients: EvmClients;
  keyed: Address;
  keeper: Address;
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  nonce(tag: 'latest' | 'pending'): Promise<number>;
  used(key: Hex): Promise<boolean>;
}

async function startChain(chainId: number, contract: { abi: Abi; bytecode: Hex }, blockTimeSec?: number): Promise<Chain> {
  const anvil = await startAnvil({ chainId, blockTimeSec });
  const endpoint = { chainKey: `c${chainId}`, chainId, rpcUrl: anvil.rpcUrl, multicall3: zeroAddress };
  const account = privateKeyToAccount(DEVNET_ACCOUNTS.keeper);
  const clients = createEvmClients(endpoint, account);
  const deployer = createWalletClient({ chain: clients.chain, transport: http(anvil.rpcUrl), account: privateKeyToAccount(DEVNET_ACCOUNTS.deployer) });
  const deployHash = await deployer.deployContract({ abi: contract.abi, bytecode: contract.bytecode });
  const { contractAddress } = await clients.publicClient.waitForTransactionReceipt({ hash: deployHash });
  let id = 0;
  const rpc = async (method: string, params: unknown[] = []) => {
    const res = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) });
    const body = (await res.json()) as { result?: unknown; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
  const keyed = contractAddress!;
  return {
    anvil,
    clients,
    keyed,
    keeper: account.address,
    rpc,
    nonce: (blockTag) => clients.publicClient.getTransactionCount({ address: account.address, blockTag }),
    used: (key) => clients.publicClient.readContract({ address: keyed, abi: contract.abi, functionName: 'used', args: [key] }) as Promise<boolean>,
  };
}

/** Mines one block once the keeper has `count` transactions in the pool (polls every 50 ms, gives up after 10 s). */
async function mineWhenPooled(c: Chain, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await c.nonce('pending')) - (await c.nonce('latest')) < count) {
    if (Date.now() > deadline) throw new Error(`the pool never held ${count} keeper txs`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await c.rpc('evm_mine');
}

describe('EVM writes: no double send, no nonce collision (real anvil)', () => {
  let contract: { abi: Abi; bytecode: Hex };
  let auto: Chain;
  let timed: Chain;

  before(async () => {
    contract = compileKeyed();
    [auto, timed] = await Promise.all([startChain(31411, contract), startChain(31412, contract, 2)]);
  });
  after(async () => {
    await Promise.all([auto?.anvil.stop(), timed?.anvil.stop()]);
  });

  const act = (c: Chain, key: Hex, extra: { timeoutMs?: number; onSigned?: (tx: PendingEvmTx) => void | Promise<void>; nonceManager?: EvmNonceManager } = {}) =>
    simulateAndWrite({ clients: c.clients, address: c.keyed, abi: contract.abi, functionName: 'act', args: [key], timeoutMs: extra.timeoutMs ?? 10_000, onSigned: extra.onSigned, nonceManager: extra.nonceManager });

  test('a receipt timeout throws ReceiptTimeoutError (hash, nonce); the retry with `pending` waits for that tx and sends no second one', async (t) => {
    await auto.rpc('evm_setAutomine', [false]);
    const key = keyOf(1);
    const n0 = await auto.nonce('latest');
    let journal: PendingEvmTx | undefined;
    await assert.rejects(act(auto, key, { timeoutMs: 1_000, onSigned: (tx) => void (journal = tx) }), (err: unknown) => {
      assert.ok(err instanceof ReceiptTimeoutError, `expected ReceiptTimeoutError, got ${String(err)}`);
      assert.ok(journal, 'onSigned journaled the tx before broadcast');
      assert.equal(err.hash, journal.hash);
      assert.equal(err.nonce, n0);
      assert.match(err.message, new RegExp(`${journal.hash}.*nonce ${n0}`));
      return true;
    });
    // The Temporal retry comes while the tx is still pending; it mines 0.5 s later.
    const mining = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      await auto.rpc('evm_mine');
    })();
    let writes = 0;
    const retry = () =>
      writeOnce({ chainKey: auto.clients.chainKey, key, clients: auto.clients, isDone: () => auto.used(key), pending: journal, receiptTimeoutMs: 5_000, write: (onSigned) => (writes++, act(auto, key, { onSigned })) });
    const r = await retry();
    await mining;
    assert.equal(r.alreadyDone, true);
    assert.equal(r.txHash, journal!.hash);
    assert.equal(r.receipt?.status, 'success');
    // A later retry (the tx now mined) answers the same from the receipt alone.
    const again = await retry();
    assert.equal(again.alreadyDone, true);
    assert.equal(again.txHash, journal!.hash);
    assert.equal(writes, 0, 'no second write was attempted');
    assert.equal(await auto.nonce('latest'), n0 + 1, 'the account sent exactly one transaction');
    t.diagnostic(`receipt timeout: 1 tx sent (nonce ${n0}), retries sent 0, nonce advanced by ${(await auto.nonce('latest')) - n0}`);
  });

  test('a tx journaled but never broadcast (crash between record and send) is rebroadcast with the same hash on retry', async () => {
    await auto.rpc('evm_setAutomine', [true]);
    const key = keyOf(2);
    const n0 = await auto.nonce('latest');
    let journal: PendingEvmTx | undefined;
    await assert.rejects(
      act(auto, key, {
        onSigned: (tx) => {
          journal = tx;
          throw new Error('worker crashed after recording');
        },
      }),
      /worker crashed/,
    );
    assert.equal(await auto.nonce('pending'), n0, 'nothing was broadcast');
    let writes = 0;
    const r = await writeOnce({ chainKey: auto.clients.chainKey, key, clients: auto.clients, isDone: () => auto.used(key), pending: journal, write: (onSigned) => (writes++, act(auto, key, { onSigned })) });
    assert.equal(r.alreadyDone, true);
    assert.equal(r.txHash, journal!.hash);
    assert.equal(writes, 0);
    assert.equal(await auto.nonce('latest'), n0 + 1);
  });

  test('without `pending`, a retry whose second tx is mined reverted is re-checked on chain and reported alreadyDone', async (t) => {
    await auto.rpc('evm_setAutomine', [false]);
    const key = keyOf(3);
    const n0 = await auto.nonce('latest');
    // Attempt 1 signs tx1 and loses it in the network: it reaches the node only after attempt 2's simulation and gas
    // estimate passed (a load-balanced RPC, a slow peer). Attempt 2 has no journal, so it sends tx2; both mine in one
    // block, tx1 first: tx2 reverts RebalanceIdUsed on chain.
    const wallet = auto.clients.walletClient!;
    const tx1 = await wallet.signTransaction(await wallet.prepareTransactionRequest({ to: auto.keyed, data: encodeFunctionData({ abi: contract.abi, functionName: 'act', args: [key] }) }));
    let released = false;
    const request = async ({ method, params }: { method: string; params?: unknown }) => {
      const result = await auto.rpc(method, (params ?? []) as unknown[]);
      // viem estimates gas with eth_fillTransaction where the node has it (anvil does), else eth_estimateGas.
      if ((method === 'eth_estimateGas' || method === 'eth_fillTransaction') && !released) {
        released = true;
        await auto.rpc('eth_sendRawTransaction', [tx1]);
      }
      return result;
    };
    const lagging: EvmClients = {
      ...auto.clients,
      publicClient: createPublicClient({ chain: auto.clients.chain, transport: custom({ request }), pollingInterval: 100 }),
      walletClient: createWalletClient({ chain: auto.clients.chain, transport: custom({ request }), account: auto.clients.walletClient!.account }),
    };
    const mining = mineWhenPooled(auto, 2);
    mining.catch(() => undefined);
    const signed: PendingEvmTx[] = [];
    let writes = 0;
    const r = await writeOnce({
      chainKey: auto.clients.chainKey,
      key,
      clients: lagging,
      isDone: () => auto.used(key),
      record: (tx) => void signed.push(tx),
      write: (onSigned) => (writes++, simulateAndWrite({ clients: lagging, address: auto.keyed, abi: contract.abi, functionName: 'act', args: [key], onSigned })),
    });
    await mining;
    await auto.rpc('evm_setAutomine', [true]);
    assert.equal(writes, 1, 'the retry did send a second tx');
    assert.equal(signed.length, 1);
    assert.equal(signed[0]!.nonce, n0 + 1);
    const first = await auto.clients.publicClient.getTransactionReceipt({ hash: keccak256(tx1) });
    const second = await auto.clients.publicClient.getTransactionReceipt({ hash: signed[0]!.hash });
    assert.equal(first.status, 'success');
    assert.equal(second.status, 'reverted', 'the second tx reverted on chain (RebalanceIdUsed)');
    assert.equal(r.alreadyDone, true, 'a mined revert of the keyed write is not reported as a failure');
    assert.equal(await auto.nonce('latest'), n0 + 2);
    t.diagnostic(`second tx ${signed[0]!.hash} (nonce ${n0 + 1}) mined reverted; writeOnce answered alreadyDone`);
  });

  test('a revert the chain does not explain (action not done) is still rethrown as ContractRevertError', async () => {
    await auto.rpc('evm_setAutomine', [true]);
    const key = keyOf(4);
    await assert.rejects(
      writeOnce({
        chainKey: auto.clients.chainKey,
        key,
        clients: auto.clients,
        isDone: () => auto.used(key),
        write: (onSigned) => simulateAndWrite({ clients: auto.clients, address: auto.keyed, abi: contract.abi, functionName: 'fail', args: [key], onSigned }),
      }),
      (err: unknown) => err instanceof ContractRevertError && err.errorName === 'Nope',
    );
  });

  test('block time 2 s: 3 concurrent writes through one manager, and 3 + 3 through two managers (two processes), all land', async (t) => {
    const run = async (label: string, managers: EvmNonceManager[], perManager: number, firstKey: number) => {
      const n0 = await timed.nonce('latest');
      let signings = 0;
      const started = Date.now();
      const results = await Promise.allSettled(
        managers.flatMap((m, i) =>
          Array.from({ length: perManager }, (_, j) => act(timed, keyOf(firstKey + i * perManager + j), { nonceManager: m, onSigned: () => void signings++ })),
        ),
      );
      const landed = results.filter((x) => x.status === 'fulfilled');
      const refused = results.filter((x) => x.status === 'rejected');
      t.diagnostic(`${label}: sent ${results.length}, landed ${landed.length}, refused ${refused.length}, re-signed after a nonce refusal ${signings - results.length}, ${Date.now() - started} ms`);
      for (const x of refused) t.diagnostic(`  refused: ${String((x as PromiseRejectedResult).reason).split('\n')[0]}`);
      assert.equal(refused.length, 0);
      const nonces = landed.map((x) => (x as PromiseFulfilledResult<{ nonce: number; receipt: { status: string } }>).value);
      assert.ok(nonces.every((v) => v.receipt.status === 'success'));
      assert.deepEqual(nonces.map((v) => v.nonce).sort((a, b) => a - b), Array.from({ length: results.length }, (_, i) => n0 + i));
      assert.equal(await timed.nonce('latest'), n0 + results.length);
    };
    await run('one process (one manager)', [new EvmNonceManager()], 3, 100);
    await run('two processes (two managers)', [new EvmNonceManager(), new EvmNonceManager()], 3, 200);
  });
});
