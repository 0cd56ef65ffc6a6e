/**
 * What `ballast deploy` would send on one chain: the contracts to deploy, then every wiring transaction whose
 * on-chain state differs from the config (read first, at the latest block). Pure of writes: it only reads.
 *
 * Wiring of one chain `c`, for every other configured chain `o` (see the README, "Deploying to real chains"):
 * - BallastToken (OFT): `setPeer(o.eid, o.token)`, `setWormholeAdapter`, `setEnforcedOptions` (SEND, lzReceive gas);
 * - CollateralVault: `setRoute`, `grantRole(KEEPER_ROLE, keeper)`, `setOutflowCap` and `setCreditCap` (= `caps.maxOutflowPerWindow`
 *   per `caps.windowSec`), `setCreditMessenger`;
 * - BallastRoute: `setVault` (the AaveAllocator on an Aave chain, else the vault), `grantRole(KEEPER_ROLE)`,
 *   `setPeerRoute(o.eid, o.route)`, `setWormholeAdapter`;
 * - AaveAllocator (Aave chains): `setRoute`, `grantRole(KEEPER_ROLE)`, `setOutflowCap`;
 * - WormholeAdapter (Wormhole chains): `setRoute`, `setPeer(o.whChainId, o.adapter, o.route)`;
 * - CreditMessenger: `setVault`, `setKeeper(keeper)`, `setPeer(o.eid, o.messenger)`, `setWormhole`, `setWormholePeer`;
 * - per OApp (token, messenger) through EndpointV2: `setSendLibrary`, `setReceiveLibrary` (grace 0), `setConfig` on the
 *   send library (executor + ULN) and on the receive library (ULN), pinned (deploy/lzConfig.ts);
 * - with `deploy.admin` other than the signer, last, the hand-off: `grantRole(DEFAULT_ADMIN_ROLE, admin)` (vault,
 *   route, allocator), `setDelegate(admin)` (token, messenger), `transferOwnership(admin)` (token, messenger, Wormhole
 *   adapter), then `renounceRole(DEFAULT_ADMIN_ROLE, signer)` where the admin holds the role: the signer keeps no
 *   authority over any of them (a later run that finds something to change needs the admin to send it).
 */
import {
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  getContractAddress,
  isAddressEqual,
  keccak256,
  pad,
  parseAbi,
  toHex,
  zeroAddress,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
} from 'viem';
import { loadBytecode, type ContractName } from '../contracts/artifacts.js';
import {
  aaveAllocatorAbi,
  ballastRouteAbi,
  ballastTokenAbi,
  collateralVaultAbi,
  creditMessengerAbi,
  endpointV2Abi,
  wormholeAdapterAbi,
} from '../contracts/generated/abis.js';
import type { BallastConfig, ChainConfig, ChainDeployConfig } from '../config/schema.js';
import type { DeployableRole } from './config.js';
import {
  CONFIG_TYPE_EXECUTOR,
  CONFIG_TYPE_ULN,
  OFT_MSG_TYPE_SEND,
  decodeExecutorConfig,
  decodeUlnConfig,
  effectiveUlnConfig,
  encodeExecutorConfig,
  encodeUlnConfig,
  enforcedLzReceiveOptions,
  formatUlnConfig,
  pinnedUlnConfig,
  sameUlnConfig,
  ulnLibraryAbi,
  type DvnSettings,
} from './lzConfig.js';

/** Canonical Multicall3 (the same address on every chain that has it). */
export const CANONICAL_MULTICALL3: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

/** `AccessControl.DEFAULT_ADMIN_ROLE`. */
const DEFAULT_ADMIN_ROLE: Hex = pad('0x00', { size: 32 });
/** `KEEPER_ROLE` of the vault, route and allocator (`keccak256("KEEPER_ROLE")`). */
const KEEPER_ROLE: Hex = keccak256(toHex('KEEPER_ROLE'));

const ownableAbi = parseAbi(['function owner() view returns (address)', 'function transferOwnership(address newOwner)']);
const messageLibAbi = parseAbi(['function isSupportedEid(uint32 eid) view returns (bool)']);

/** The contracts Ballast owns on one chain (deployed or to deploy), and the chain's LayerZero / Wormhole / Aave ones. */
export interface ChainAddresses {
  endpoint: Address;
  multicall3: Address;
  token: Address;
  vault: Address;
  route: Address;
  creditMessenger: Address;
  /** With a `wormhole` entry. */
  wormholeAdapter?: Address;
  wormholeCore?: Address;
  /** With an `aave` entry. */
  aaveAllocator?: Address;
  aavePool?: Address;
}

/** A contract `ballast deploy` can create; `creditMessenger` has no config field (the vault names it). */
export type DeployedRole = DeployableRole | 'creditMessenger';

/** One transaction of the plan (JSON-safe apart from bigints in `args`). */
export interface DeployTx {
  chainKey: string;
  /** `deploy`: a contract creation (`target` = its address, predicted from the signer's nonce); `call`: a call. */
  kind: 'deploy' | 'call';
  /** Contract name, e.g. `BallastToken`, `EndpointV2`. */
  contract: string;
  target: Address;
  /** `constructor` for a deploy. */
  functionName: string;
  args: readonly unknown[];
  /** What the chain holds now, and what the config wants. */
  reason: string;
  /** Calldata (a deploy: creation code and constructor arguments), for sending it with another signer. */
  data: Hex;
  /** Set once sent (`--execute`). */
  hash?: Hex;
  status?: 'success' | 'reverted';
}

/** A {@link DeployTx} with what sending it needs. */
export interface PlannedTx extends DeployTx {
  abi: Abi;
  /** Deploys: the creation code; and which role's address it becomes. */
  bytecode?: Hex;
  role?: DeployedRole;
  /** Who may send it, checked against the signer before anything is sent. */
  auth?: { kind: 'owner' | 'admin' | 'delegate'; contract: Address; oapp?: Address };
}

/** One chain as the planner sees it. */
export interface ChainInput {
  chain: ChainConfig;
  deploy: ChainDeployConfig;
  pub: PublicClient<Transport, Chain>;
  /** The deploying signer (admin and owner of what it deploys). */
  signer: Address;
}

/** Creation code per deployable role; Multicall3's comes from viem (see `multicall3Bytecode`). */
const CREATIONS: Record<Exclude<DeployedRole, 'multicall3'>, { contract: ContractName; abi: Abi }> = {
  token: { contract: 'BallastToken', abi: ballastTokenAbi },
  vault: { contract: 'CollateralVault', abi: collateralVaultAbi },
  route: { contract: 'BallastRoute', abi: ballastRouteAbi },
  wormholeAdapter: { contract: 'WormholeAdapter', abi: wormholeAdapterAbi },
  creditMessenger: { contract: 'CreditMessenger', abi: creditMessengerAbi },
  aaveAllocator: { contract: 'AaveAllocator', abi: aaveAllocatorAbi },
};

/** Phase 1's outcome on one chain: every address (existing, or predicted for what `deploys` creates). */
export interface DeployPhase {
  addresses: ChainAddresses;
  deploys: PlannedTx[];
  /** Roles created by `deploys` (their state reads as empty until they exist). */
  fresh: Set<DeployedRole>;
}

/**
 * Phase 1 on one chain: checks the chain id and that every configured contract has code, then lists the contracts
 * to deploy (absent from the config; the CreditMessenger when the vault names none) with their addresses predicted
 * from the signer's pending nonce (in the order they are to be sent).
 * @param absent the roles the config left out (deploy/config.ts).
 * @param multicall3Bytecode Multicall3's creation code (only read when it must be deployed).
 * @throws Error naming the chain when the node's chain id differs from the config's, or a configured address has no code.
 */
export async function planDeploys(input: ChainInput, absent: readonly DeployableRole[], multicall3Bytecode: () => Hex): Promise<DeployPhase> {
  const { chain, deploy, pub, signer } = input;
  const where = `chain "${chain.key}"`;
  const chainId = await pub.getChainId();
  if (chainId !== chain.chainId) throw new Error(`${where}: the RPC reports chain id ${chainId}, the config says ${chain.chainId}`);
  const has = (role: DeployableRole) => !absent.includes(role);
  const lz = deploy.layerzero;
  // Every address the config names must hold code: a typo or another chain's address would be wired in silently.
  const named: [string, Address | undefined][] = [
    ['contracts.endpoint', chain.contracts.endpoint],
    ['contracts.priceFeed', chain.contracts.priceFeed],
    ['contracts.multicall3', has('multicall3') ? chain.contracts.multicall3 : undefined],
    ['contracts.token', has('token') ? chain.contracts.token : undefined],
    ['contracts.vault', has('vault') ? chain.contracts.vault : undefined],
    ['contracts.route', has('route') ? chain.contracts.route : undefined],
    ['wormhole.core', chain.wormhole?.core],
    ['wormhole.adapter', chain.wormhole && has('wormholeAdapter') ? chain.wormhole.adapter : undefined],
    ['aave.pool', chain.aave?.pool],
    ['aave.allocator', chain.aave && has('aaveAllocator') ? chain.aave.allocator : undefined],
    ['deploy.layerzero.sendLib', lz.sendLib],
    ['deploy.layerzero.receiveLib', lz.receiveLib],
    ['deploy.layerzero.executor', lz.executor],
    ...lz.requiredDVNs.map((a, i): [string, Address] => [`deploy.layerzero.requiredDVNs[${i}]`, a]),
    ...lz.optionalDVNs.map((a, i): [string, Address] => [`deploy.layerzero.optionalDVNs[${i}]`, a]),
  ];
  const codes = await Promise.all(named.map(async ([field, address]) => (address ? { field, address, code: await pub.getCode({ address }) } : undefined)));
  const noCode = codes.flatMap((x) => (x && (!x.code || x.code === '0x') ? [`${x.field} ${x.address}`] : []));
  if (noCode.length > 0) {
    throw new Error(`${where}: no contract at ${noCode.join(', ')} (wrong address or chain? leave a Ballast contract's address out to have it deployed)`);
  }

  let nonce = await pub.getTransactionCount({ address: signer, blockTag: 'pending' });
  const deploys: PlannedTx[] = [];
  const fresh = new Set<DeployedRole>();
  const create = (role: DeployedRole, args: readonly unknown[], reason: string): Address => {
    const address = getContractAddress({ from: signer, nonce: BigInt(nonce++) });
    const c = role === 'multicall3' ? { contract: 'Multicall3', abi: [] as Abi, bytecode: multicall3Bytecode() } : { ...CREATIONS[role], bytecode: loadBytecode(CREATIONS[role].contract) };
    const data = encodeDeployData({ abi: c.abi, bytecode: c.bytecode, args: args as unknown[] });
    deploys.push({ chainKey: chain.key, kind: 'deploy', contract: c.contract, target: address, functionName: 'constructor', args, reason, data, abi: c.abi, bytecode: c.bytecode, role });
    fresh.add(role);
    return address;
  };

  let multicall3 = chain.contracts.multicall3;
  if (!has('multicall3')) {
    const canonical = await pub.getCode({ address: CANONICAL_MULTICALL3 });
    multicall3 = canonical && canonical !== '0x' ? CANONICAL_MULTICALL3 : create('multicall3', [], 'contracts.multicall3 is not set and the canonical Multicall3 is not on this chain');
  }
  const endpoint = chain.contracts.endpoint;
  const token = has('token') ? chain.contracts.token : create('token', [deploy.tokenName, deploy.tokenSymbol, endpoint, signer], 'contracts.token is not set');
  const vault = has('vault') ? chain.contracts.vault : create('vault', [token, signer], 'contracts.vault is not set');
  const route = has('route') ? chain.contracts.route : create('route', [token, signer], 'contracts.route is not set');
  let wormholeAdapter: Address | undefined;
  if (chain.wormhole) {
    wormholeAdapter = has('wormholeAdapter')
      ? chain.wormhole.adapter
      : create('wormholeAdapter', [chain.wormhole.core, token, signer, deploy.wormholeConsistencyLevel], 'wormhole.adapter is not set');
  }
  const namedMessenger = fresh.has('vault') ? zeroAddress : await pub.readContract({ address: vault, abi: collateralVaultAbi, functionName: 'creditMessenger' });
  const creditMessenger = isAddressEqual(namedMessenger, zeroAddress) ? create('creditMessenger', [endpoint, signer], 'the vault names no CreditMessenger') : getAddress(namedMessenger);
  let aaveAllocator: Address | undefined;
  if (chain.aave) {
    aaveAllocator = has('aaveAllocator') ? chain.aave.allocator : create('aaveAllocator', [chain.aave.pool, token, signer], 'aave.allocator is not set');
  }
  const addresses: ChainAddresses = {
    endpoint,
    multicall3,
    token,
    vault,
    route,
    creditMessenger,
    ...(chain.wormhole ? { wormholeAdapter, wormholeCore: chain.wormhole.core } : {}),
    ...(chain.aave ? { aaveAllocator, aavePool: chain.aave.pool } : {}),
  };
  return { addresses, deploys, fresh };
}

/** Another configured chain, as a peer of the one being wired. */
export interface PeerChain {
  chainKey: string;
  eid: number;
  /** Wormhole chain id, when the chain is on the Wormhole route. */
  whChainId?: number;
  addresses: ChainAddresses;
  /** Its `deploy.layerzero` DVN settings: the receive side here checks messages from it with its confirmations. */
  confirmations: number;
}

const b32 = (a: Address): Hex => pad(a, { size: 32 }).toLowerCase() as Hex;
const sameHex = (a: Hex | undefined, b: Hex) => a !== undefined && a.toLowerCase() === b.toLowerCase();
const sameAddr = (a: Address | undefined, b: Address) => a !== undefined && isAddressEqual(a, b);
const show = (v: unknown) => (v === undefined ? 'nothing (new contract)' : String(v));

/**
 * Phase 2 on one chain: reads the current wiring of `phase.addresses` (contracts in `phase.fresh` read as empty) and
 * returns the transactions that make it what the config says, in the order they are to be sent.
 * @param config the whole config (`layerzero.lzReceiveGas` is the default enforced gas).
 * @throws Error naming the chain when the send or receive library does not support a peer's eid, or when a
 *   transaction needs an authority the signer lacks (an owner, admin or endpoint delegate other than the signer).
 */
export async function planWiring(config: BallastConfig, input: ChainInput, phase: DeployPhase, peers: readonly PeerChain[]): Promise<PlannedTx[]> {
  const { chain, deploy, pub, signer } = input;
  const a = phase.addresses;
  const where = `chain "${chain.key}"`;
  const lz = deploy.layerzero;
  const txs: PlannedTx[] = [];
  const isFresh = (role: DeployedRole) => phase.fresh.has(role);
  /** Reads `fn` unless `role` is deployed by this run (then: undefined, the state of a new contract). */
  const read = async <T>(role: DeployedRole, fn: () => Promise<T>): Promise<T | undefined> => (isFresh(role) ? undefined : fn());
  const call = (contract: string, target: Address, abi: Abi, functionName: string, args: readonly unknown[], reason: string, auth?: PlannedTx['auth']) => {
    txs.push({ chainKey: chain.key, kind: 'call', contract, target, functionName, args, reason, data: encodeFunctionData({ abi, functionName, args: args as unknown[] }), abi, ...(auth ? { auth } : {}) });
  };
  const owner = (contract: Address): PlannedTx['auth'] => ({ kind: 'owner', contract });
  const admin = (contract: Address): PlannedTx['auth'] => ({ kind: 'admin', contract });

  // --- the token (OFT)
  for (const p of peers) {
    const peer = await read('token', () => pub.readContract({ address: a.token, abi: ballastTokenAbi, functionName: 'peers', args: [p.eid] }));
    if (!sameHex(peer, b32(p.addresses.token))) call('BallastToken', a.token, ballastTokenAbi, 'setPeer', [p.eid, b32(p.addresses.token)], `peer of eid ${p.eid} (${p.chainKey}) is ${show(peer)}`, owner(a.token));
  }
  const enforced = enforcedLzReceiveOptions(lz.enforcedLzReceiveGas ?? config.layerzero.lzReceiveGas);
  const enforce: { eid: number; msgType: number; options: Hex }[] = [];
  for (const p of peers) {
    const cur = await read('token', () => pub.readContract({ address: a.token, abi: ballastTokenAbi, functionName: 'enforcedOptions', args: [p.eid, OFT_MSG_TYPE_SEND] }));
    if (!sameHex(cur, enforced)) enforce.push({ eid: p.eid, msgType: OFT_MSG_TYPE_SEND, options: enforced });
  }
  if (enforce.length > 0) call('BallastToken', a.token, ballastTokenAbi, 'setEnforcedOptions', [enforce], `enforced options of eid(s) ${enforce.map((e) => e.eid).join(', ')} differ from lzReceive gas ${lz.enforcedLzReceiveGas ?? config.layerzero.lzReceiveGas}`, owner(a.token));

  // --- vault, route, allocator
  const routeVault = a.aaveAllocator ?? a.vault;
  const cap = chain.caps.maxOutflowPerWindow;
  const windowSec = BigInt(chain.caps.windowSec);
  const vaultRoute = await read('vault', () => pub.readContract({ address: a.vault, abi: collateralVaultAbi, functionName: 'route' }));
  if (!sameAddr(vaultRoute, a.route)) call('CollateralVault', a.vault, collateralVaultAbi, 'setRoute', [a.route], `route is ${show(vaultRoute)}`, admin(a.vault));
  const vaultKeeper = await read('vault', () => pub.readContract({ address: a.vault, abi: collateralVaultAbi, functionName: 'hasRole', args: [KEEPER_ROLE, deploy.keeper] }));
  if (vaultKeeper !== true) call('CollateralVault', a.vault, collateralVaultAbi, 'grantRole', [KEEPER_ROLE, deploy.keeper], `keeper ${deploy.keeper} lacks KEEPER_ROLE`, admin(a.vault));
  const outflow = await read('vault', () => pub.readContract({ address: a.vault, abi: collateralVaultAbi, functionName: 'outflowCap' }));
  if (outflow?.[0] !== cap || outflow[1] !== windowSec) call('CollateralVault', a.vault, collateralVaultAbi, 'setOutflowCap', [cap, windowSec], `outflow cap is ${outflow ? `${outflow[0]}/${outflow[1]}s` : show(undefined)}`, admin(a.vault));
  const vaultMessenger = await read('vault', () => pub.readContract({ address: a.vault, abi: collateralVaultAbi, functionName: 'creditMessenger' }));
  if (!sameAddr(vaultMessenger, a.creditMessenger)) call('CollateralVault', a.vault, collateralVaultAbi, 'setCreditMessenger', [a.creditMessenger], `credit messenger is ${show(vaultMessenger)}`, admin(a.vault));
  const credit = await read('vault', () => pub.readContract({ address: a.vault, abi: collateralVaultAbi, functionName: 'creditCap' }));
  if (credit?.[0] !== cap || credit[1] !== windowSec) call('CollateralVault', a.vault, collateralVaultAbi, 'setCreditCap', [cap, windowSec], `credit cap is ${credit ? `${credit[0]}/${credit[1]}s` : show(undefined)}`, admin(a.vault));

  const curRouteVault = await read('route', () => pub.readContract({ address: a.route, abi: ballastRouteAbi, functionName: 'vault' }));
  if (!sameAddr(curRouteVault, routeVault)) call('BallastRoute', a.route, ballastRouteAbi, 'setVault', [routeVault], `vault is ${show(curRouteVault)}`, admin(a.route));
  const routeKeeper = await read('route', () => pub.readContract({ address: a.route, abi: ballastRouteAbi, functionName: 'hasRole', args: [KEEPER_ROLE, deploy.keeper] }));
  if (routeKeeper !== true) call('BallastRoute', a.route, ballastRouteAbi, 'grantRole', [KEEPER_ROLE, deploy.keeper], `keeper ${deploy.keeper} lacks KEEPER_ROLE`, admin(a.route));
  for (const p of peers) {
    const peer = await read('route', () => pub.readContract({ address: a.route, abi: ballastRouteAbi, functionName: 'peerRoute', args: [p.eid] }));
    if (!sameHex(peer, b32(p.addresses.route))) call('BallastRoute', a.route, ballastRouteAbi, 'setPeerRoute', [p.eid, b32(p.addresses.route)], `peer route of eid ${p.eid} (${p.chainKey}) is ${show(peer)}`, admin(a.route));
  }
  if (a.aaveAllocator) {
    const al = a.aaveAllocator;
    const alRoute = await read('aaveAllocator', () => pub.readContract({ address: al, abi: aaveAllocatorAbi, functionName: 'route' }));
    if (!sameAddr(alRoute, a.route)) call('AaveAllocator', al, aaveAllocatorAbi, 'setRoute', [a.route], `route is ${show(alRoute)}`, admin(al));
    const alKeeper = await read('aaveAllocator', () => pub.readContract({ address: al, abi: aaveAllocatorAbi, functionName: 'hasRole', args: [KEEPER_ROLE, deploy.keeper] }));
    if (alKeeper !== true) call('AaveAllocator', al, aaveAllocatorAbi, 'grantRole', [KEEPER_ROLE, deploy.keeper], `keeper ${deploy.keeper} lacks KEEPER_ROLE`, admin(al));
    const alCap = await read('aaveAllocator', () => pub.readContract({ address: al, abi: aaveAllocatorAbi, functionName: 'outflowCap' }));
    if (alCap?.[0] !== cap || alCap[1] !== windowSec) call('AaveAllocator', al, aaveAllocatorAbi, 'setOutflowCap', [cap, windowSec], `outflow cap is ${alCap ? `${alCap[0]}/${alCap[1]}s` : show(undefined)}`, admin(al));
  }

  // --- Wormhole
  if (a.wormholeAdapter && a.wormholeCore) {
    const ad = a.wormholeAdapter;
    const adRoute = await read('wormholeAdapter', () => pub.readContract({ address: ad, abi: wormholeAdapterAbi, functionName: 'route' }));
    if (!sameAddr(adRoute, a.route)) call('WormholeAdapter', ad, wormholeAdapterAbi, 'setRoute', [a.route], `route is ${show(adRoute)}`, owner(ad));
    for (const p of peers) {
      if (p.whChainId === undefined || !p.addresses.wormholeAdapter) continue;
      const wh = p.whChainId;
      const [peerAdapter, peerRoute] = (await read('wormholeAdapter', () =>
        Promise.all([
          pub.readContract({ address: ad, abi: wormholeAdapterAbi, functionName: 'peerAdapter', args: [wh] }),
          pub.readContract({ address: ad, abi: wormholeAdapterAbi, functionName: 'peerRoute', args: [wh] }),
        ]),
      )) ?? [undefined, undefined];
      if (!sameHex(peerAdapter, b32(p.addresses.wormholeAdapter)) || !sameHex(peerRoute, b32(p.addresses.route))) {
        call('WormholeAdapter', ad, wormholeAdapterAbi, 'setPeer', [wh, b32(p.addresses.wormholeAdapter), b32(p.addresses.route)], `peer of Wormhole chain ${wh} (${p.chainKey}) is ${show(peerAdapter)} / route ${show(peerRoute)}`, owner(ad));
      }
    }
    const tokenAdapter = await read('token', () => pub.readContract({ address: a.token, abi: ballastTokenAbi, functionName: 'wormholeAdapter' }));
    if (!sameAddr(tokenAdapter, ad)) call('BallastToken', a.token, ballastTokenAbi, 'setWormholeAdapter', [ad], `Wormhole adapter is ${show(tokenAdapter)}`, owner(a.token));
    const routeAdapter = await read('route', () => pub.readContract({ address: a.route, abi: ballastRouteAbi, functionName: 'wormholeAdapter' }));
    if (!sameAddr(routeAdapter, ad)) call('BallastRoute', a.route, ballastRouteAbi, 'setWormholeAdapter', [ad], `Wormhole adapter is ${show(routeAdapter)}`, admin(a.route));
  }

  // --- the CreditMessenger
  const m = a.creditMessenger;
  const mVault = await read('creditMessenger', () => pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'vault' }));
  if (!sameAddr(mVault, a.vault)) call('CreditMessenger', m, creditMessengerAbi, 'setVault', [a.vault], `vault is ${show(mVault)}`, owner(m));
  const mKeeper = await read('creditMessenger', () => pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'isKeeper', args: [deploy.keeper] }));
  if (mKeeper !== true) call('CreditMessenger', m, creditMessengerAbi, 'setKeeper', [deploy.keeper, true], `${deploy.keeper} is not a keeper`, owner(m));
  for (const p of peers) {
    const peer = await read('creditMessenger', () => pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'peers', args: [p.eid] }));
    if (!sameHex(peer, b32(p.addresses.creditMessenger))) call('CreditMessenger', m, creditMessengerAbi, 'setPeer', [p.eid, b32(p.addresses.creditMessenger)], `peer of eid ${p.eid} (${p.chainKey}) is ${show(peer)}`, owner(m));
  }
  if (a.wormholeCore) {
    const core = a.wormholeCore;
    const [mCore, mLevel] = (await read('creditMessenger', () =>
      Promise.all([
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'wormhole' }),
        pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'wormholeConsistencyLevel' }),
      ]),
    )) ?? [undefined, undefined];
    if (!sameAddr(mCore, core) || mLevel !== deploy.wormholeConsistencyLevel) {
      call('CreditMessenger', m, creditMessengerAbi, 'setWormhole', [core, deploy.wormholeConsistencyLevel], `Wormhole core is ${show(mCore)}, consistency ${show(mLevel)}`, owner(m));
    }
    for (const p of peers) {
      if (p.whChainId === undefined) continue;
      const wh = p.whChainId;
      const [peer, eid] = (await read('creditMessenger', () =>
        Promise.all([
          pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'wormholePeer', args: [wh] }),
          pub.readContract({ address: m, abi: creditMessengerAbi, functionName: 'eidOfWormholeChain', args: [wh] }),
        ]),
      )) ?? [undefined, undefined];
      if (!sameHex(peer, b32(p.addresses.creditMessenger)) || eid !== p.eid) {
        call('CreditMessenger', m, creditMessengerAbi, 'setWormholePeer', [wh, p.eid, b32(p.addresses.creditMessenger)], `Wormhole peer of chain ${wh} (${p.chainKey}) is ${show(peer)} (eid ${show(eid)})`, owner(m));
      }
    }
  }

  // --- LayerZero libraries and configs of each OApp
  for (const p of peers) {
    for (const [lib, kind] of [[lz.sendLib, 'send'], [lz.receiveLib, 'receive']] as const) {
      const ok = await pub.readContract({ address: lib, abi: messageLibAbi, functionName: 'isSupportedEid', args: [p.eid] }).catch(() => false);
      if (!ok) throw new Error(`${where}: the ${kind} library ${lib} (deploy.layerzero.${kind}Lib) does not support eid ${p.eid} of chain "${p.chainKey}" (no default config there): check the eid and the library`);
    }
  }
  const sendSettings: DvnSettings = { confirmations: lz.confirmations, requiredDVNs: lz.requiredDVNs, optionalDVNs: lz.optionalDVNs, optionalDVNThreshold: lz.optionalDVNThreshold };
  const executorConfig = { maxMessageSize: lz.maxMessageSize, executor: lz.executor };
  for (const [oappName, oapp, role] of [['BallastToken', a.token, 'token'], ['CreditMessenger', m, 'creditMessenger']] as const) {
    const delegate: PlannedTx['auth'] = { kind: 'delegate', contract: a.endpoint, oapp };
    for (const p of peers) {
      const fresh = isFresh(role);
      const [isDefaultSend, sendLib, recv] = await Promise.all([
        fresh ? true : pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'isDefaultSendLibrary', args: [oapp, p.eid] }),
        pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'getSendLibrary', args: [oapp, p.eid] }).catch(() => undefined),
        pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'getReceiveLibrary', args: [oapp, p.eid] }).catch(() => undefined),
      ]);
      if (isDefaultSend || !sameAddr(sendLib, lz.sendLib)) {
        call('EndpointV2', a.endpoint, endpointV2Abi, 'setSendLibrary', [oapp, p.eid, lz.sendLib], `${oappName}'s send library to eid ${p.eid} (${p.chainKey}) is ${sendLib ? `${sendLib}${isDefaultSend ? ' (the default, not pinned)' : ''}` : 'unset'}`, delegate);
      }
      if (fresh || recv === undefined || recv[1] || !sameAddr(recv[0], lz.receiveLib)) {
        call('EndpointV2', a.endpoint, endpointV2Abi, 'setReceiveLibrary', [oapp, p.eid, lz.receiveLib, 0n], `${oappName}'s receive library from eid ${p.eid} (${p.chainKey}) is ${recv ? `${recv[0]}${recv[1] ? ' (the default, not pinned)' : ''}` : 'unset'}`, delegate);
      }
      // The OApp's own (pinned) configs decide; the effective ones (EndpointV2.getConfig) are shown.
      const recvSettings: DvnSettings = { ...sendSettings, confirmations: p.confirmations };
      const [appExec, appSendUln, appRecvUln, effSendUln, effRecvUln, effExec] = await Promise.all([
        pub.readContract({ address: lz.sendLib, abi: ulnLibraryAbi, functionName: 'executorConfigs', args: [oapp, p.eid] }),
        pub.readContract({ address: lz.sendLib, abi: ulnLibraryAbi, functionName: 'getAppUlnConfig', args: [oapp, p.eid] }),
        pub.readContract({ address: lz.receiveLib, abi: ulnLibraryAbi, functionName: 'getAppUlnConfig', args: [oapp, p.eid] }),
        pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, lz.sendLib, p.eid, CONFIG_TYPE_ULN] }).then(decodeUlnConfig, () => undefined),
        pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, lz.receiveLib, p.eid, CONFIG_TYPE_ULN] }).then(decodeUlnConfig, () => undefined),
        pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'getConfig', args: [oapp, lz.sendLib, p.eid, CONFIG_TYPE_EXECUTOR] }).then(decodeExecutorConfig, () => undefined),
      ]).catch((err: unknown) => {
        throw new Error(`${where}: cannot read the ULN configs of ${lz.sendLib} / ${lz.receiveLib} (are they ULN302 libraries?): ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      });
      const sendParams: { eid: number; configType: number; config: Hex }[] = [];
      const why: string[] = [];
      if (appExec[0] !== executorConfig.maxMessageSize || !sameAddr(appExec[1], executorConfig.executor)) {
        sendParams.push({ eid: p.eid, configType: CONFIG_TYPE_EXECUTOR, config: encodeExecutorConfig(executorConfig) });
        why.push(`executor is ${effExec ? `${effExec.executor} (max ${effExec.maxMessageSize} B)` : 'unreadable'}${appExec[1] === zeroAddress ? ', not pinned' : ''}`);
      }
      const wantSend = pinnedUlnConfig(sendSettings);
      if (!sameUlnConfig(appSendUln, wantSend)) {
        sendParams.push({ eid: p.eid, configType: CONFIG_TYPE_ULN, config: encodeUlnConfig(wantSend) });
        why.push(`ULN is ${effSendUln ? formatUlnConfig(effSendUln) : 'unreadable'}, want ${formatUlnConfig(effectiveUlnConfig(sendSettings))}`);
      }
      if (sendParams.length > 0) call('EndpointV2', a.endpoint, endpointV2Abi, 'setConfig', [oapp, lz.sendLib, sendParams], `${oappName}'s send config to eid ${p.eid} (${p.chainKey}): ${why.join('; ')}`, delegate);
      const wantRecv = pinnedUlnConfig(recvSettings);
      if (!sameUlnConfig(appRecvUln, wantRecv)) {
        call('EndpointV2', a.endpoint, endpointV2Abi, 'setConfig', [oapp, lz.receiveLib, [{ eid: p.eid, configType: CONFIG_TYPE_ULN, config: encodeUlnConfig(wantRecv) }]], `${oappName}'s receive config from eid ${p.eid} (${p.chainKey}): ULN is ${effRecvUln ? formatUlnConfig(effRecvUln) : 'unreadable'}, want ${formatUlnConfig(effectiveUlnConfig(recvSettings))}`, delegate);
      }
    }
  }

  // --- hand-off to the admin (last: the signer needs its authority for everything above)
  if (deploy.admin && !isAddressEqual(deploy.admin, signer)) {
    const to = deploy.admin;
    const accessControlled = [['CollateralVault', a.vault, 'vault', collateralVaultAbi], ['BallastRoute', a.route, 'route', ballastRouteAbi], ...(a.aaveAllocator ? [['AaveAllocator', a.aaveAllocator, 'aaveAllocator', aaveAllocatorAbi] as const] : [])] as const;
    /** Per contract: whether the signer still holds DEFAULT_ADMIN_ROLE (a new contract: yes, its constructor's admin). */
    const signerIsAdmin: boolean[] = [];
    const adminHadIt: boolean[] = [];
    for (const [name, address, role, abi] of accessControlled) {
      const [has, mine] = (await read(role, () =>
        Promise.all([
          pub.readContract({ address, abi: collateralVaultAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, to] }),
          pub.readContract({ address, abi: collateralVaultAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, signer] }),
        ]),
      )) ?? [undefined, true];
      signerIsAdmin.push(mine);
      adminHadIt.push(has === true);
      if (has !== true) call(name, address, abi, 'grantRole', [DEFAULT_ADMIN_ROLE, to], `admin ${to} lacks DEFAULT_ADMIN_ROLE (deploy.admin hand-off)`, admin(address));
    }
    for (const [name, oapp, role, abi] of [['BallastToken', a.token, 'token', ballastTokenAbi], ['CreditMessenger', m, 'creditMessenger', creditMessengerAbi]] as const) {
      const d = await read(role, () => pub.readContract({ address: a.endpoint, abi: endpointV2Abi, functionName: 'delegates', args: [oapp] }));
      if (!sameAddr(d, to)) call(name, oapp, abi, 'setDelegate', [to], `endpoint delegate is ${show(d)}`, owner(oapp));
    }
    const ownables: [string, Address, DeployedRole, Abi][] = [['BallastToken', a.token, 'token', ballastTokenAbi], ['CreditMessenger', m, 'creditMessenger', creditMessengerAbi]];
    if (a.wormholeAdapter) ownables.push(['WormholeAdapter', a.wormholeAdapter, 'wormholeAdapter', wormholeAdapterAbi]);
    for (const [name, address, role, abi] of ownables) {
      const o = await read(role, () => pub.readContract({ address, abi: ownableAbi, functionName: 'owner' }));
      if (!sameAddr(o, to)) call(name, address, abi, 'transferOwnership', [to], `owner is ${show(o ?? signer)}`, owner(address));
    }
    // Last: the admin holds the role by now (granted above, earlier in this chain's order), so the signer gives up its own.
    accessControlled.forEach(([name, address, , abi], i) => {
      if (signerIsAdmin[i]) call(name, address, abi, 'renounceRole', [DEFAULT_ADMIN_ROLE, signer], `the signer ${signer} still holds DEFAULT_ADMIN_ROLE; ${to} ${adminHadIt[i] ? 'holds it' : 'holds it once the grant above is sent'} (deploy.admin hand-off)`);
    });
  }

  await checkAuthority(input, phase, txs);
  return txs;
}

/**
 * Checks that the signer may send each of `txs` on an existing contract (new ones are the signer's).
 * @throws Error listing, for the chain, each contract whose owner / admin / endpoint delegate is not the signer.
 */
async function checkAuthority(input: ChainInput, phase: DeployPhase, txs: readonly PlannedTx[]): Promise<void> {
  const { chain, pub, signer } = input;
  const freshAddresses = new Set([...phase.fresh].map((r) => (phase.addresses as unknown as Record<string, Address | undefined>)[r]?.toLowerCase()));
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const tx of txs) {
    const auth = tx.auth;
    if (!auth) continue;
    const subject = auth.kind === 'delegate' ? auth.oapp! : auth.contract;
    if (freshAddresses.has(subject.toLowerCase())) continue;
    const key = `${auth.kind}:${subject}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (auth.kind === 'owner') {
      const o = await pub.readContract({ address: subject, abi: ownableAbi, functionName: 'owner' });
      if (!isAddressEqual(o, signer)) problems.push(`${tx.contract} ${subject} is owned by ${o}`);
    } else if (auth.kind === 'admin') {
      const ok = await pub.readContract({ address: subject, abi: collateralVaultAbi, functionName: 'hasRole', args: [DEFAULT_ADMIN_ROLE, signer] });
      if (!ok) problems.push(`the signer lacks DEFAULT_ADMIN_ROLE on ${tx.contract} ${subject}`);
    } else {
      const d = await pub.readContract({ address: auth.contract, abi: endpointV2Abi, functionName: 'delegates', args: [subject] });
      if (!isAddressEqual(d, signer) && !isAddressEqual(subject, signer)) problems.push(`the endpoint delegate of OApp ${subject} is ${d}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`chain "${chain.key}": the signer ${signer} cannot send ${txs.length} needed transaction(s): ${problems.join('; ')}. Run with that account's key, or have it send the transactions (--json lists their calldata)`);
  }
}
