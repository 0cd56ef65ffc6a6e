/**
 * The memos Ballast tags its Solana transfers with: they make every Solana leg idempotent by rebalance id (the
 * leg looks its memo up before sending) and carry what the Wormhole custody needs to attest a transfer.
 *
 * | leg       | transfer                        | memo                                                      |
 * |-----------|---------------------------------|-----------------------------------------------------------|
 * | withdraw  | reserveLiquidity → treasury     | `ballast:withdraw:<key>`                                  |
 * | deposit   | treasury → reserveLiquidity     | `ballast:deposit:<key>` (also redeposit, return-deposit)  |
 * | send      | treasury → custody              | `ballast:wormhole:v1:<key>:<dstWormholeChain>:<recipient>`|
 * | redeem    | custody → treasury              | `ballast:redeem:<key>`                                    |
 *
 * `key` is the leg key (activities/legKey.ts), `0x` + 64 lowercase hex; `recipient` is the destination route as
 * a 32-byte universal address (`0x` + 64 hex).
 */
import type { Hex } from 'viem';

const HEX32 = /^0x[0-9a-f]{64}$/;

function key32(key: Hex): string {
  const k = key.toLowerCase();
  if (!HEX32.test(k)) throw new Error(`a Ballast memo key must be 0x + 64 hex (got "${key}")`);
  return k;
}

/** Memo of a withdraw from the reserve into the treasury. */
export const withdrawMemo = (key: Hex): string => `ballast:withdraw:${key32(key)}`;
/** Memo of a deposit from the treasury into the reserve. */
export const depositMemo = (key: Hex): string => `ballast:deposit:${key32(key)}`;
/** Memo of the custody's release to the treasury against a VAA for `key`. */
export const redeemMemo = (key: Hex): string => `ballast:redeem:${key32(key)}`;
/** The prefix every custody send memo for `key` starts with (whatever its destination). */
export const wormholeSendMemoPrefix = (key: Hex): string => `ballast:wormhole:v1:${key32(key)}:`;
/** The prefix of every custody send memo. */
export const WORMHOLE_SEND_MEMO = 'ballast:wormhole:v1:';

/** Memo of a send into custody: rebalance key, destination Wormhole chain (1..65535) and recipient (32 bytes). */
export function wormholeSendMemo(key: Hex, dstChain: number, recipient: Hex): string {
  if (!Number.isInteger(dstChain) || dstChain < 1 || dstChain > 0xffff) throw new Error(`Wormhole chain id must be 1..65535 (got ${dstChain})`);
  return `${wormholeSendMemoPrefix(key)}${dstChain}:${key32(recipient)}`;
}

/** What a custody send memo says. */
export interface WormholeSendMemo {
  key: Hex;
  dstChain: number;
  recipient: Hex;
}

/** Parses a custody send memo; undefined when `memo` is not one (wrong prefix, key, chain or recipient). */
export function parseWormholeSendMemo(memo: string): WormholeSendMemo | undefined {
  const m = /^ballast:wormhole:v1:(0x[0-9a-f]{64}):(\d{1,5}):(0x[0-9a-f]{64})$/.exec(memo);
  if (!m) return undefined;
  const dstChain = Number(m[2]);
  if (dstChain < 1 || dstChain > 0xffff) return undefined;
  return { key: m[1] as Hex, dstChain, recipient: m[3] as Hex };
}
