/**
 * devnet/rpcFaultProxy.ts in front of a real anvil: every fault kind, batches, run-time switching,
 * seeded reproducibility and fault counts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicClient, createWalletClient, http, parseEther, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { startAnvil, type AnvilInstance } from '../../devnet/anvil.js';
import { DEVNET_ACCOUNTS } from '../../devnet/accounts.js';
import { startRpcFaultProxy, type RpcFaultProxy } from '../../devnet/rpcFaultProxy.js';
import { mulberry32 } from '../../devnet/prng.js';

const CHAIN_ID = 31399;

async function rpc(url: string, body: unknown): Promise<{ status: number; json?: unknown; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
const call = (method: string, params: unknown[] = [], id = 1) => ({ jsonrpc: '2.0', id, method, params });

describe('rpcFaultProxy in front of anvil', () => {
  let anvil: AnvilInstance;
  let proxy: RpcFaultProxy;
  const account = privateKeyToAccount(DEVNET_ACCOUNTS.market);
  const chain = { id: CHAIN_ID, name: 'proxytest', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: ['http://127.0.0.1'] } } } as const;

  before(async () => {
    anvil = await startAnvil({ chainId: CHAIN_ID });
    proxy = await startRpcFaultProxy({ target: anvil.rpcUrl, seed: 1 });
    // a few blocks so stale reads have somewhere to go
    const wallet = createWalletClient({ chain, account, transport: http(anvil.rpcUrl) });
    for (let i = 0; i < 5; i++) await wallet.sendTransaction({ to: account.address, value: 1n });
  });
  after(async () => {
    await proxy?.stop();
    await anvil?.stop();
  });

  test('faults off: calls and batches pass through unchanged', async () => {
    const direct = await rpc(anvil.rpcUrl, call('eth_blockNumber'));
    const via = await rpc(proxy.url, call('eth_blockNumber'));
    assert.deepEqual(via.json, direct.json);
    const batch = await rpc(proxy.url, [call('eth_chainId', [], 7), call('eth_blockNumber', [], 8)]);
    assert.ok(Array.isArray(batch.json));
    const [a, b] = batch.json as { id: number; result: Hex }[];
    assert.equal(a!.id, 7);
    assert.equal(Number(a!.result), CHAIN_ID);
    assert.equal(b!.id, 8);
  });

  test('http500 / http503: a 5xx answer, counted, node not called', async () => {
    proxy.injectNext('http503');
    const r = await rpc(proxy.url, call('eth_chainId'));
    assert.equal(r.status, 503);
    proxy.injectNext('http500');
    assert.equal((await rpc(proxy.url, call('eth_chainId'))).status, 500);
    assert.equal(proxy.counts.http503, 1);
    assert.equal(proxy.counts.http500, 1);
  });

  test('drop: the call reaches the node (side effect happens) but the socket is destroyed', async () => {
    const before = BigInt(((await rpc(anvil.rpcUrl, call('eth_blockNumber'))).json as { result: Hex }).result);
    proxy.injectNext('drop', 'evm_mine');
    await assert.rejects(rpc(proxy.url, call('evm_mine')));
    const afterBlock = BigInt(((await rpc(anvil.rpcUrl, call('eth_blockNumber'))).json as { result: Hex }).result);
    assert.equal(afterBlock, before + 1n, 'the block was mined although the answer was lost');
    assert.equal(proxy.counts.drop, 1);
  });

  test('stale: eth_blockNumber and eth_getBalance answered 1..k blocks behind', async () => {
    const latest = BigInt(((await rpc(anvil.rpcUrl, call('eth_blockNumber'))).json as { result: Hex }).result);
    proxy.injectNext('stale', 'eth_blockNumber');
    const stale = BigInt(((await rpc(proxy.url, call('eth_blockNumber'))).json as { result: Hex }).result);
    assert.ok(stale < latest && stale >= latest - 3n, `stale ${stale} vs latest ${latest}`);
    // the market account paid gas in the last blocks: an older block shows a higher balance
    const fresh = BigInt(((await rpc(proxy.url, call('eth_getBalance', [account.address, 'latest']))).json as { result: Hex }).result);
    proxy.injectNext('stale', 'eth_getBalance');
    const old = BigInt(((await rpc(proxy.url, call('eth_getBalance', [account.address, 'latest']))).json as { result: Hex }).result);
    assert.ok(old >= fresh, 'read at an older block');
    proxy.injectNext('stale', 'eth_getTransactionCount');
    const nonceFresh = Number(((await rpc(anvil.rpcUrl, call('eth_getTransactionCount', [account.address, 'pending']))).json as { result: Hex }).result);
    const nonceStale = Number(((await rpc(proxy.url, call('eth_getTransactionCount', [account.address, 'pending']))).json as { result: Hex }).result);
    assert.ok(nonceStale < nonceFresh, `stale nonce ${nonceStale} < ${nonceFresh}`);
    assert.equal(proxy.counts.stale, 3);
  });

  test('stale inside a batch touches only the drawn call', async () => {
    proxy.injectNext('stale', 'eth_blockNumber');
    const r = await rpc(proxy.url, [call('eth_chainId', [], 1), call('eth_blockNumber', [], 2)]);
    const [a, b] = r.json as { id: number; result: Hex }[];
    assert.equal(Number(a!.result), CHAIN_ID);
    const latest = BigInt(((await rpc(anvil.rpcUrl, call('eth_blockNumber'))).json as { result: Hex }).result);
    assert.ok(BigInt(b!.result) < latest);
  });

  test('swallowTx: the hash comes back, the tx is never mined; nonceTooLow: an error, nothing sent', async () => {
    const wallet = createWalletClient({ chain, account, transport: http(proxy.url, { retryCount: 0 }) });
    const pub = createPublicClient({ chain, transport: http(anvil.rpcUrl) });
    const nonce = await pub.getTransactionCount({ address: account.address, blockTag: 'pending' });
    proxy.injectNext('swallowTx');
    const hash = await wallet.sendTransaction({ to: account.address, value: parseEther('0.001') });
    await assert.rejects(pub.waitForTransactionReceipt({ hash, timeout: 1500, pollingInterval: 100 }), /Timed out|could not be found/i);
    assert.equal(await pub.getTransactionCount({ address: account.address, blockTag: 'pending' }), nonce, 'nothing reached the node');
    proxy.injectNext('nonceTooLow');
    await assert.rejects(wallet.sendTransaction({ to: account.address, value: 1n }), /nonce/i);
    assert.equal(await pub.getTransactionCount({ address: account.address, blockTag: 'pending' }), nonce);
    assert.equal(proxy.counts.swallowTx, 1);
    assert.equal(proxy.counts.nonceTooLow, 1);
  });

  test('timeout: the answer is held past the client timeout', async () => {
    proxy.injectNext('timeout');
    proxy.setPlan({ rates: {}, timeoutHoldMs: 1500 });
    proxy.setEnabled(false);
    const pub = createPublicClient({ chain, transport: http(proxy.url, { timeout: 300, retryCount: 0 }) });
    const t0 = Date.now();
    await assert.rejects(pub.getChainId(), /timed out|took too long/i);
    assert.ok(Date.now() - t0 < 1400);
    assert.equal(proxy.counts.timeout, 1);
  });

  test('rates drive faults from the seed, switchable at run time: same seed, same faults', async () => {
    const outcome = async (seed: number) => {
      proxy.reseed(seed);
      proxy.setPlan({ rates: { http503: 0.5 } });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await rpc(proxy.url, call('eth_chainId'))).status);
      proxy.setEnabled(false);
      return statuses;
    };
    const a = await outcome(42);
    const b = await outcome(42);
    assert.deepEqual(a, b);
    assert.ok(a.includes(503) && a.includes(200), `mix of faults and answers: ${a.join(',')}`);
    assert.equal((await rpc(proxy.url, call('eth_chainId'))).status, 200, 'off means off');
  });

  test('mulberry32 is deterministic', () => {
    const r1 = mulberry32(7);
    const r2 = mulberry32(7);
    const xs = [r1(), r1(), r1()];
    assert.deepEqual(xs, [r2(), r2(), r2()]);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });
});
