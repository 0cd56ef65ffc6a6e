/**
 * Reads compiled contract artifacts written by `contracts/compile.ts` into `contracts/artifacts/`.
 * ABIs with full viem types live in `contracts/generated/abis.ts`; this module only serves bytecode
 * (and untyped ABIs), which are not committed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';

/** Folder holding `<Name>.json` artifacts (gitignored). */
export const ARTIFACTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');

/** Contracts compiled from contracts/src. */
export const SOURCE_CONTRACTS = ['BallastToken', 'CollateralVault', 'BallastRoute', 'DevPriceFeed', 'WormholeAdapter', 'CreditMessenger', 'AaveAllocator'] as const;
/** LayerZero contracts copied from `@layerzerolabs/lz-evm-protocol-v2`'s Hardhat artifacts. */
export const LAYERZERO_CONTRACTS = ['EndpointV2', 'SimpleMessageLib'] as const;
/**
 * Wormhole core contracts (Setup, the `Wormhole` ERC1967 proxy, Implementation) extracted from the
 * `@certusone/wormhole-sdk` tarball by `contracts/wormholeCore.ts`.
 */
export const WORMHOLE_CONTRACTS = ['WormholeSetup', 'WormholeProxy', 'WormholeImplementation'] as const;

export type ContractName =
  | (typeof SOURCE_CONTRACTS)[number]
  | (typeof LAYERZERO_CONTRACTS)[number]
  | (typeof WORMHOLE_CONTRACTS)[number];

/** Shape of `contracts/artifacts/<Name>.json`. */
export interface ContractArtifact {
  contractName: string;
  abi: Abi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: Hex;
}

/**
 * Loads `contracts/artifacts/<name>.json`.
 * @throws Error naming the missing file and the command to create it (`npm run build:contracts`).
 */
export function loadArtifact(name: ContractName): ContractArtifact {
  const file = path.join(ARTIFACTS_DIR, `${name}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(
      `contract artifact ${file} is missing: run \`npx tsx contracts/compile.ts\` (or \`npm run build:contracts\`) first`,
    );
  }
  const artifact = JSON.parse(fs.readFileSync(file, 'utf8')) as ContractArtifact;
  if (!artifact.bytecode || !artifact.bytecode.startsWith('0x') || artifact.bytecode.length <= 2) {
    throw new Error(`contract artifact ${file} has no bytecode: re-run \`npx tsx contracts/compile.ts --force\``);
  }
  return artifact;
}

/**
 * Creation bytecode of `name`, ready for viem `deployContract({ bytecode })`.
 * @throws Error telling to run the compile script when the artifact is missing.
 * @example
 *   const hash = await wallet.deployContract({ abi: collateralVaultAbi, bytecode: loadBytecode('CollateralVault'), args: [token, admin] });
 */
export function loadBytecode(name: ContractName): Hex {
  return loadArtifact(name).bytecode;
}
