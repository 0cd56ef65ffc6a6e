/**
 * LayerZero V2 OApp configuration as the message libraries take it (pure: no I/O), for `ballast deploy`.
 *
 * `EndpointV2.setConfig(oapp, lib, SetConfigParam[])` hands each `{ eid, configType, config }` to the library, which
 * `abi.decode`s `config` as a struct: SendUln302 takes `CONFIG_TYPE_EXECUTOR` (1, `ExecutorConfig`) and
 * `CONFIG_TYPE_ULN` (2, `UlnConfig`), ReceiveUln302 takes `CONFIG_TYPE_ULN`. The structs are ABI-encoded as one tuple,
 * as LayerZero's own tooling does (`abi.encode(UlnConfig)`); `EndpointV2.getConfig` returns the same encoding of the
 * EFFECTIVE config (the OApp's merged with the library's defaults), while the library's `getAppUlnConfig` /
 * `executorConfigs` return what the OApp itself pinned. Sources: `@layerzerolabs/lz-evm-messagelib-v2`
 * contracts/uln/UlnBase.sol, SendLibBase.sol, uln/uln302/SendUln302.sol.
 *
 * Enforced options are Options type 3 built with `@layerzerolabs/lz-v2-utilities` `Options` (the same builder the
 * keeper's sends use, chains/evm/layerzero.ts).
 */
import { Options } from '@layerzerolabs/lz-v2-utilities';
import { decodeAbiParameters, encodeAbiParameters, getAddress, parseAbi, type Address, type Hex } from 'viem';

/** `configType` of the executor config (SendUln302 `CONFIG_TYPE_EXECUTOR`). */
export const CONFIG_TYPE_EXECUTOR = 1;
/** `configType` of the ULN config (SendUln302 / ReceiveUln302 `CONFIG_TYPE_ULN`). */
export const CONFIG_TYPE_ULN = 2;
/** OFT message type of a plain send (`OFTCore.SEND`), the one enforced options are set for. */
export const OFT_MSG_TYPE_SEND = 1;
/** UlnBase `NIL_DVN_COUNT`: in an OApp's config, "no DVNs of this kind" (0 would mean "the default's"). */
export const NIL_DVN_COUNT = 255;
/** UlnBase `NIL_CONFIRMATIONS`: in an OApp's config, "0 confirmations" (0 would mean "the default's"). */
export const NIL_CONFIRMATIONS = 2n ** 64n - 1n;

/** UlnBase `UlnConfig`. DVN lists sorted ascending, without duplicates (the library refuses others). */
export interface UlnConfig {
  /** Source-chain blocks to wait before verifying. */
  confirmations: bigint;
  requiredDVNCount: number;
  optionalDVNCount: number;
  optionalDVNThreshold: number;
  requiredDVNs: readonly Address[];
  optionalDVNs: readonly Address[];
}

/** SendLibBase `ExecutorConfig`. */
export interface ExecutorConfig {
  /** Largest message, bytes. */
  maxMessageSize: number;
  executor: Address;
}

const ULN_CONFIG_PARAMS = [
  {
    type: 'tuple',
    components: [
      { name: 'confirmations', type: 'uint64' },
      { name: 'requiredDVNCount', type: 'uint8' },
      { name: 'optionalDVNCount', type: 'uint8' },
      { name: 'optionalDVNThreshold', type: 'uint8' },
      { name: 'requiredDVNs', type: 'address[]' },
      { name: 'optionalDVNs', type: 'address[]' },
    ],
  },
] as const;

const EXECUTOR_CONFIG_PARAMS = [
  {
    type: 'tuple',
    components: [
      { name: 'maxMessageSize', type: 'uint32' },
      { name: 'executor', type: 'address' },
    ],
  },
] as const;

/** Views of SendUln302 / ReceiveUln302 not in EndpointV2's ABI: the OApp's own (pinned) configs. */
export const ulnLibraryAbi = parseAbi([
  'struct UlnConfig { uint64 confirmations; uint8 requiredDVNCount; uint8 optionalDVNCount; uint8 optionalDVNThreshold; address[] requiredDVNs; address[] optionalDVNs; }',
  'function getAppUlnConfig(address oapp, uint32 remoteEid) view returns (UlnConfig)',
  'function executorConfigs(address oapp, uint32 eid) view returns (uint32 maxMessageSize, address executor)',
]);

/** `abi.encode(UlnConfig)`, the `config` bytes of a `CONFIG_TYPE_ULN` `SetConfigParam`. */
export function encodeUlnConfig(c: UlnConfig): Hex {
  return encodeAbiParameters(ULN_CONFIG_PARAMS, [
    { ...c, requiredDVNs: [...c.requiredDVNs], optionalDVNs: [...c.optionalDVNs] },
  ]);
}

/**
 * Decodes `abi.encode(UlnConfig)` (what `EndpointV2.getConfig(oapp, lib, eid, 2)` returns).
 * @throws viem's AbiDecodingDataSizeTooSmallError and kin when `data` is not one.
 */
export function decodeUlnConfig(data: Hex): UlnConfig {
  const [c] = decodeAbiParameters(ULN_CONFIG_PARAMS, data);
  return { ...c, requiredDVNs: c.requiredDVNs.map((a) => getAddress(a)), optionalDVNs: c.optionalDVNs.map((a) => getAddress(a)) };
}

/** `abi.encode(ExecutorConfig)`, the `config` bytes of a `CONFIG_TYPE_EXECUTOR` `SetConfigParam`. */
export function encodeExecutorConfig(c: ExecutorConfig): Hex {
  return encodeAbiParameters(EXECUTOR_CONFIG_PARAMS, [c]);
}

/** Decodes `abi.encode(ExecutorConfig)` (what `EndpointV2.getConfig(oapp, lib, eid, 1)` returns). */
export function decodeExecutorConfig(data: Hex): ExecutorConfig {
  const [c] = decodeAbiParameters(EXECUTOR_CONFIG_PARAMS, data);
  return { maxMessageSize: c.maxMessageSize, executor: getAddress(c.executor) };
}

/** The DVN settings of one pathway direction, as written in the config (`chains[].deploy.layerzero`). */
export interface DvnSettings {
  /** Blocks of the sending chain; 0 = none. */
  confirmations: number;
  requiredDVNs: readonly Address[];
  optionalDVNs: readonly Address[];
  optionalDVNThreshold: number;
}

const sortAddresses = (list: readonly Address[]): Address[] => [...list].map((a) => getAddress(a)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

/**
 * The config an OApp pins so that its EFFECTIVE config is exactly `s`, whatever the library's defaults are or become:
 * DVN lists sorted ascending, an empty list as `NIL_DVN_COUNT` and 0 confirmations as `NIL_CONFIRMATIONS` (in an OApp's
 * config 0 means "the default's").
 */
export function pinnedUlnConfig(s: DvnSettings): UlnConfig {
  const required = sortAddresses(s.requiredDVNs);
  const optional = sortAddresses(s.optionalDVNs);
  return {
    confirmations: s.confirmations === 0 ? NIL_CONFIRMATIONS : BigInt(s.confirmations),
    requiredDVNCount: required.length === 0 ? NIL_DVN_COUNT : required.length,
    optionalDVNCount: optional.length === 0 ? NIL_DVN_COUNT : optional.length,
    optionalDVNThreshold: optional.length === 0 ? 0 : s.optionalDVNThreshold,
    requiredDVNs: required,
    optionalDVNs: optional,
  };
}

/** What `EndpointV2.getConfig` returns for an OApp that pinned {@link pinnedUlnConfig}`(s)`: the literal values. */
export function effectiveUlnConfig(s: DvnSettings): UlnConfig {
  const required = sortAddresses(s.requiredDVNs);
  const optional = sortAddresses(s.optionalDVNs);
  return {
    confirmations: BigInt(s.confirmations),
    requiredDVNCount: required.length,
    optionalDVNCount: optional.length,
    optionalDVNThreshold: optional.length === 0 ? 0 : s.optionalDVNThreshold,
    requiredDVNs: required,
    optionalDVNs: optional,
  };
}

/** Whether two ULN configs are the same (addresses compared case-insensitively, in order). */
export function sameUlnConfig(a: UlnConfig, b: UlnConfig): boolean {
  const sameList = (x: readonly Address[], y: readonly Address[]) => x.length === y.length && x.every((v, i) => v.toLowerCase() === y[i]!.toLowerCase());
  return (
    a.confirmations === b.confirmations &&
    a.requiredDVNCount === b.requiredDVNCount &&
    a.optionalDVNCount === b.optionalDVNCount &&
    a.optionalDVNThreshold === b.optionalDVNThreshold &&
    sameList(a.requiredDVNs, b.requiredDVNs) &&
    sameList(a.optionalDVNs, b.optionalDVNs)
  );
}

/** Short text of a ULN config for plans and errors: `confirmations 15, required [0x…], optional 0/[]`. */
export function formatUlnConfig(c: UlnConfig): string {
  const count = (n: number) => (n === NIL_DVN_COUNT ? 'NIL' : String(n));
  const conf = c.confirmations === NIL_CONFIRMATIONS ? 'NIL(0)' : String(c.confirmations);
  return `confirmations ${conf}, required ${count(c.requiredDVNCount)} [${c.requiredDVNs.join(', ')}], optional ${c.optionalDVNThreshold}/${count(c.optionalDVNCount)} [${c.optionalDVNs.join(', ')}]`;
}

/**
 * Enforced options of an OFT pathway: Options type 3 with one executor lzReceive option.
 * @param lzReceiveGas gas for `lzReceive` on the destination.
 * @param lzReceiveValueWei native value passed to `lzReceive` (default 0).
 */
export function enforcedLzReceiveOptions(lzReceiveGas: number | bigint, lzReceiveValueWei = 0n): Hex {
  const o = Options.newOptions();
  return (lzReceiveValueWei > 0n ? o.addExecutorLzReceiveOption(lzReceiveGas, lzReceiveValueWei) : o.addExecutorLzReceiveOption(lzReceiveGas)).toHex() as Hex;
}
