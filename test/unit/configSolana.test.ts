/**
 * The config's `solana` section (config/schema.ts): Solana chains with base58 accounts, their policies joining
 * the EVM chains' (chainPolicies), defaults, and the validation messages.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Keypair } from '@solana/web3.js';
import { ConfigError, CONFIG_DEFAULTS, chainPolicies, exampleConfig, parseConfig, type BallastConfigInput } from '../../config/index.js';
import { solanaRawChainState } from '../../activities/solanaSnapshot.js';
import { PYTH_RECEIVER_PROGRAM_ID } from '../../chains/solana/programs.js';
import type { SolanaChainRead } from '../../chains/solana/readSolanaState.js';

const addr = (chain: number, role: number): string => `0x${chain.toString(16).padStart(2, '0')}${role.toString(16).padStart(2, '0')}${'cd'.repeat(18)}`;
/** Distinct, valid Solana addresses (random keys; nothing secret is used). */
const pk = (): string => Keypair.generate().publicKey.toBase58();

function input(over: Record<string, unknown> = {}, top: Partial<BallastConfigInput> = {}): BallastConfigInput {
  const base = exampleConfig({
    chains: [1, 2].map((i) => ({
      key: ['ethereum', 'arbitrum'][i - 1]!,
      chainId: 31_100 + i,
      rpcUrl: `http://127.0.0.1:${8544 + i}`,
      eid: 40_100 + i,
      contracts: { multicall3: addr(i, 1), endpoint: addr(i, 2), token: addr(i, 3), vault: addr(i, 4), route: addr(i, 5), priceFeed: addr(i, 6) },
      wormhole: { chainId: [2, 23][i - 1]!, core: addr(i, 7), adapter: addr(i, 8) },
    })),
    wormhole: { guardianUrl: 'http://127.0.0.1:7071', guardianSets: [{ index: 0, keys: ['0xbefa429d57cd18b7f8a4d91a2da9ab4af05d0fbe'] }] },
  });
  const evm = base.chains[0]!;
  return {
    ...base,
    solana: {
      custodyUrl: 'http://127.0.0.1:7072',
      chains: [{ key: 'solana', rpcUrl: 'http://127.0.0.1:8899', accounts: { mint: pk(), reserve: pk(), reserveLiquidity: pk(), treasury: pk(), custody: pk(), pythPrice: pk() }, band: evm.band, minBuffer: evm.minBuffer, caps: evm.caps, oracle: evm.oracle, ...over }],
    },
    ...top,
  };
}

function issues(i: BallastConfigInput): string {
  try {
    parseConfig(i, 'test.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected the config to be refused');
}

describe('config solana section', () => {
  test('a valid section parses with defaults (commitment, Wormhole chain 1, key env, fees, confidence) and its policy joins chainPolicies', () => {
    const c = parseConfig(input(), 'test.yaml');
    const s = c.solana!.chains[0]!;
    assert.equal(s.commitment, 'confirmed');
    assert.equal(s.wormholeChainId, 1);
    assert.equal(s.priorityFeeMicroLamports, CONFIG_DEFAULTS.solana.priorityFeeMicroLamports);
    assert.equal(s.oracle.maxConfBps, CONFIG_DEFAULTS.solana.maxConfBps);
    assert.equal(c.solana!.keeper.keyEnv, 'BALLAST_SOLANA_KEEPER_KEY');
    assert.equal(s.pythReceiverProgram, PYTH_RECEIVER_PROGRAM_ID, "Pyth's receiver program by default");
    assert.deepEqual(chainPolicies(c).map((p) => p.chainKey), ['ethereum', 'arbitrum', 'solana']);
    assert.equal(typeof chainPolicies(c)[2]!.caps.maxTransfer, 'bigint');
  });

  test('a bad base58 account, a repeated account and a key clashing with an EVM chain are each named', () => {
    const bad = input({ accounts: { mint: 'not-base58-0OIl', reserve: pk(), reserveLiquidity: pk(), treasury: pk(), custody: pk(), pythPrice: pk() } });
    assert.match(issues(bad), /solana\.chains\[0\]\.accounts\.mint.*Solana address/s);
    const same = pk();
    const dup = input({ accounts: { mint: pk(), reserve: pk(), reserveLiquidity: pk(), treasury: same, custody: same, pythPrice: pk() } });
    assert.match(issues(dup), /accounts\.custody.*same account as accounts\.treasury/s);
    assert.match(issues(input({ key: 'ethereum' })), /solana\.chains\[0\]\.key.*an EVM chain has the key "ethereum"/s);
    assert.match(issues(input({ wormholeChainId: 2 })), /wormholeChainId.*Wormhole chain id 2/s);
  });

  test('solana without the wormhole section is refused: moves to and from Solana go over Wormhole', () => {
    const i = input();
    delete (i as { wormhole?: unknown }).wormhole;
    for (const ch of i.chains) delete (ch as { wormhole?: unknown }).wormhole;
    assert.match(issues(i), /wormhole.*required when solana is set/s);
  });

  test('commitment is confirmed or finalized; maxConfBps 1..10000', () => {
    assert.match(issues(input({ commitment: 'processed' })), /commitment.*"confirmed" or "finalized"/s);
    assert.match(issues(input({ oracle: { maxStalenessSec: 60, maxDeviationBps: 500, maxConfBps: 0 } })), /maxConfBps.*≥ 1/s);
  });
});

describe('a Solana read as the planner sees it (activities/solanaSnapshot.ts)', () => {
  const read = (over: Partial<SolanaChainRead['price']> = {}): SolanaChainRead => ({
    chainKey: 'solana',
    slot: 1234n,
    clockUnixSec: 1_700_000_000n,
    supplied: 1_000n,
    borrowed: 800n,
    utilizationWad: 800_000_000_000_000_000n,
    reserveLiquidity: 200n,
    treasury: 5n,
    custody: 300n,
    mintSupply: 2_000n,
    price: { writeAuthority: pk(), verificationLevel: { kind: 'Full' }, feedId: `0x${'11'.repeat(32)}`, price: 200_000_000_000n, conf: 100_000_000n, exponent: -8, publishTimeSec: 1_699_999_990n, prevPublishTimeSec: 1_699_999_989n, emaPrice: 1n, emaConf: 1n, postedSlot: 1200n, ...over },
  });

  test('slot, clock, idle, oracle round and the supply outside custody map onto ChainState', () => {
    const s = solanaRawChainState(read());
    assert.equal(s.blockNumber, 1234n);
    assert.equal(s.blockTimestampSec, 1_700_000_000n);
    assert.equal(s.idle, 200n);
    assert.equal(s.tokenTotalSupply, 1_700n, 'mint supply minus custody');
    assert.deepEqual(s.oracle, { roundId: 1200n, answer: 200_000_000_000n, decimals: 8, updatedAtSec: 1_699_999_990n, answeredInRound: 1200n });
  });

  test('a positive Pyth exponent is refused', () => {
    assert.throws(() => solanaRawChainState(read({ exponent: 2 })), /exponent 2 > 0/);
  });
});
