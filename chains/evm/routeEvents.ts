/**
 * Events of `BallastRoute` (contracts/src/BallastRoute.sol) in a transaction receipt.
 */
import { decodeEventLog, type Hex, type TransactionReceipt } from 'viem';
import { ballastRouteAbi } from '../../contracts/generated/abis.js';

/**
 * The route's `eventName` event for rebalance key `key` in `receipt` (`RouteSent` carries the LayerZero GUID,
 * `RouteSentWormhole` the Wormhole sequence), decoded with the route's ABI; undefined when the receipt has none.
 */
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSent'): { guid: Hex } | undefined;
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSentWormhole'): { sequence: bigint } | undefined;
export function routeEventOf(receipt: TransactionReceipt, route: Hex, key: Hex, eventName: 'RouteSent' | 'RouteSentWormhole'): { guid: Hex } | { sequence: bigint } | undefined {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== route.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: ballastRouteAbi, data: log.data, topics: log.topics });
      if ((ev.eventName === 'RouteSent' || ev.eventName === 'RouteSentWormhole') && ev.eventName === eventName && ev.args.rebalanceId.toLowerCase() === key.toLowerCase()) return ev.args;
    } catch {
      // another event of the route
    }
  }
  return undefined;
}
