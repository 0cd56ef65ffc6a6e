/**
 * An unreachable RPC is reported with its chain key, its URL reduced to scheme://host:port (API keys live in paths,
 * queries and userinfo) and the transport cause: refused, timeout, HTTP status (chains/evm/errors.ts,
 * chains/evm/readChainState.ts). Local servers only: a closed port, one answering 503, one never answering.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createEvmClients } from '../../chains/evm/clients.js';
import { readChainState } from '../../chains/evm/readChainState.js';
import { redactRpcUrl, redactUrls, RpcUnreachableError } from '../../chains/evm/errors.js';

const ZERO = '0x0000000000000000000000000000000000000001';
const contracts = { multicall3: ZERO, vault: ZERO, priceFeed: ZERO, token: ZERO } as const;
const read = (rpcUrl: string, timeoutMs = 300) => readChainState({ clients: createEvmClients({ chainKey: 'alpha', chainId: 1, rpcUrl, multicall3: ZERO }, undefined, timeoutMs), contracts });

test('redactRpcUrl keeps scheme://host:port only; redactUrls does it inside a message', () => {
  assert.equal(redactRpcUrl('https://user:pw@eth-mainnet.g.alchemy.com/v2/KEY?x=1#f'), 'https://eth-mainnet.g.alchemy.com');
  assert.equal(redactRpcUrl('http://127.0.0.1:8545/'), 'http://127.0.0.1:8545');
  assert.equal(redactRpcUrl('wss://rpc.example.org:8443/ws/KEY'), 'wss://rpc.example.org:8443');
  assert.equal(redactRpcUrl('not a url/KEY'), 'not a url');
  assert.equal(redactUrls('HTTP request failed. URL: https://x.io/v2/KEY?k=1 Details: fetch failed'), 'HTTP request failed. URL: https://x.io Details: fetch failed');
});

describe('readChainState against an RPC that does not answer', () => {
  let closed: number;
  let server: http.Server;
  let port: number;
  before(async () => {
    closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/hang')) return; // never answers
      res.writeHead(503);
      res.end('upstream down');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const expectUnreachable = async (url: string, cause: RegExp, host: string) => {
    const err = await read(url).then(
      () => assert.fail('read succeeded'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RpcUnreachableError, String(err));
    assert.equal(err.chainKey, 'alpha');
    assert.equal(err.url, host);
    assert.match(err.transport, cause);
    assert.match(err.message, new RegExp(`^alpha: RPC ${host.replace(/[.]/g, '\\.')} unreachable: `));
    assert.doesNotMatch(err.message, /KEY|secret|user/);
  };

  test('connection refused', () => expectUnreachable(`http://user:secret@127.0.0.1:${closed}/v2/KEY`, /^connection refused \(ECONNREFUSED\)$/, `http://127.0.0.1:${closed}`));
  test('an HTTP error status', () => expectUnreachable(`http://127.0.0.1:${port}/v2/KEY?apikey=KEY`, /^HTTP 503$/, `http://127.0.0.1:${port}`));
  test('a timeout, with the transport timeout', () => expectUnreachable(`http://127.0.0.1:${port}/hang/KEY`, /^timeout after 300 ms$/, `http://127.0.0.1:${port}`));
});
