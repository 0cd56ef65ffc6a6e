/**
 * The native-fee → asset conversion (planner/bridgeFees.ts): exact integers, rounded up, for the feed and
 * asset decimals a deployment can have.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { nativeFeeToAsset } from '../../planner/bridgeFees.js';
import { mulberry32 } from '../../devnet/prng.js';

const ETH = 10n ** 18n;
const usd8 = (x: bigint) => ({ answer: x * 10n ** 8n, decimals: 8 });

describe('nativeFeeToAsset: wei × answer / 10^(18 + feedDecimals − assetDecimals), rounded up', () => {
  test('an exact quotient stays exact: 1 ETH at 3000 USD (8-decimal feed) is 3000 USDC = 3_000_000_000 base units', () => {
    assert.equal(nativeFeeToAsset(ETH, usd8(3000n), 6), 3_000_000_000n);
    assert.equal(nativeFeeToAsset(ETH / 1000n, usd8(2500n), 6), 2_500_000n, '0.001 ETH at 2500 USD = 2.5 USDC');
  });

  test('a remainder rounds UP: 0.0004 ETH at 3000.12345678 USD = 1.2000493827… USDC → 1_200_050 base units', () => {
    assert.equal(nativeFeeToAsset(400_000_000_000_000n, { answer: 300_012_345_678n, decimals: 8 }, 6), 1_200_050n);
    // one wei below an exact base unit still costs the whole unit; one base unit exactly does not round
    const weiPerUnit = 10n ** 20n / 3000n / 10n ** 8n; // not exact: 333333333.33… wei per base unit at 3000 USD
    assert.equal(nativeFeeToAsset(weiPerUnit, usd8(3000n), 6), 1n, `${weiPerUnit} wei (just under one base unit) → 1`);
    assert.equal(nativeFeeToAsset(1n, usd8(3000n), 6), 1n, 'a single wei costs one base unit, never zero');
    assert.equal(nativeFeeToAsset(0n, usd8(3000n), 6), 0n, 'only a zero fee is free');
  });

  test('feed and asset decimals enter the exponent: 18-decimal feed, 18- and 8-decimal assets, and an exponent below zero', () => {
    assert.equal(nativeFeeToAsset(ETH, { answer: 3000n * ETH, decimals: 18 }, 6), 3_000_000_000n, '18-decimal feed');
    assert.equal(nativeFeeToAsset(ETH, usd8(3000n), 18), 3000n * ETH, '18-decimal asset: 10^(18+8−18)');
    assert.equal(nativeFeeToAsset(12_345_000_000n, usd8(3000n), 8), 3704n, '8-decimal asset: ceil(1.2345e10 · 3000e8 / 10^18) = ceil(3703.5) = 3704');
    assert.equal(nativeFeeToAsset(7n, { answer: 3000n, decimals: 0 }, 24), 7n * 3000n * 10n ** 6n, '18 + 0 − 24 < 0: multiplied, still exact');
  });

  test('every result is the least integer ≥ the exact quotient (10 000 seeded cases)', () => {
    const rng = mulberry32(20_260_101);
    const big = (digits: number): bigint => BigInt(Math.floor(rng() * 10 ** Math.min(digits, 15))) * 10n ** BigInt(Math.max(0, digits - 15)) + BigInt(Math.floor(rng() * 1000));
    for (let i = 0; i < 10_000; i++) {
      const wei = big(1 + Math.floor(rng() * 20));
      const decimals = [0, 6, 8, 18][Math.floor(rng() * 4)]!;
      const answer = 1n + big(decimals + 4);
      const assetDecimals = [0, 6, 8, 18][Math.floor(rng() * 4)]!;
      const fee = nativeFeeToAsset(wei, { answer, decimals }, assetDecimals);
      const exp = 18 + decimals - assetDecimals;
      const [num, den] = exp >= 0 ? [wei * answer, 10n ** BigInt(exp)] : [wei * answer * 10n ** BigInt(-exp), 1n];
      assert.ok(fee * den >= num && (fee - 1n) * den < num, `case ${i}: ${wei} wei at ${answer}/10^${decimals}, asset ${assetDecimals} → ${fee}`);
    }
  });

  test('refuses a negative fee, a non-positive price and decimals out of range, naming the value', () => {
    assert.throws(() => nativeFeeToAsset(-1n, usd8(3000n), 6), /native fee -1 wei is negative/);
    assert.throws(() => nativeFeeToAsset(1n, { answer: 0n, decimals: 8 }, 6), /oracle answer 0 is not positive/);
    assert.throws(() => nativeFeeToAsset(1n, { answer: -5n, decimals: 8 }, 6), /oracle answer -5 is not positive/);
    assert.throws(() => nativeFeeToAsset(1n, { answer: 1n, decimals: 1.5 }, 6), /feed decimals 1\.5/);
    assert.throws(() => nativeFeeToAsset(1n, usd8(1n), 37), /asset decimals 37/);
  });
});
