/**
 * Compiles contracts/src with solc-js (standard JSON) and writes:
 * - `contracts/artifacts/<Name>.json` ({ contractName, abi, bytecode }), gitignored, for the Ballast
 *   contracts plus `EndpointV2` and `SimpleMessageLib` copied from the Hardhat artifacts of
 *   `@layerzerolabs/lz-evm-protocol-v2`, and Wormhole's core contracts (`WormholeSetup`,
 *   `WormholeProxy`, `WormholeImplementation`) fetched once by `contracts/wormholeCore.ts`;
 * - `contracts/generated/abis.ts` (committed, deterministic) with `as const` ABIs for viem typing.
 *
 * Compilation is skipped when a hash of the sources, the solc version, the dependency versions,
 * the settings and this script matches the last build (`contracts/artifacts/.build-hash`).
 *
 * Run: `npx tsx contracts/compile.ts [--force]`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Abi, Hex } from 'viem';
import { ARTIFACTS_DIR, LAYERZERO_CONTRACTS, SOURCE_CONTRACTS, WORMHOLE_CONTRACTS, type ContractArtifact } from './artifacts.js';
import { ensureWormholeCore, WORMHOLE_SDK_INTEGRITY, WORMHOLE_SDK_PACKAGE } from './wormholeCore.js';

const CONTRACTS_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_DIR = path.dirname(CONTRACTS_DIR);
const SRC_DIR = path.join(CONTRACTS_DIR, 'src');
const GENERATED_FILE = path.join(CONTRACTS_DIR, 'generated', 'abis.ts');
const HASH_FILE = path.join(ARTIFACTS_DIR, '.build-hash');
const require = createRequire(import.meta.url);

/** Packages whose Solidity sources are imported; their versions are part of the build hash. */
const SOLIDITY_DEPENDENCIES = [
  '@openzeppelin/contracts',
  '@layerzerolabs/oapp-evm',
  '@layerzerolabs/oft-evm',
  '@layerzerolabs/lz-evm-protocol-v2',
  '@layerzerolabs/lz-evm-messagelib-v2',
  'solidity-bytes-utils',
  '@aave/core-v3',
];

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

/** Where each LayerZero artifact lives inside `@layerzerolabs/lz-evm-protocol-v2`. */
const LAYERZERO_ARTIFACT_PATHS: Record<(typeof LAYERZERO_CONTRACTS)[number], string> = {
  EndpointV2: '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/EndpointV2.sol/EndpointV2.json',
  SimpleMessageLib:
    '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/messagelib/SimpleMessageLib.sol/SimpleMessageLib.json',
};

export interface CompileResult {
  /** True when solc ran; false when the cached artifacts matched the hash. */
  compiled: boolean;
  /** Wall time of the whole call, milliseconds. */
  durationMs: number;
  /** The build hash (sha256 hex). */
  hash: string;
  /** True when contracts/generated/abis.ts changed on disk. */
  abisChanged: boolean;
}

export interface CompileOptions {
  /** Compile even if the hash matches. */
  force?: boolean;
  /** Progress output; default console.log. */
  log?: (msg: string) => void;
}

function listSolidityFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSolidityFiles(full));
    else if (entry.name.endsWith('.sol')) out.push(full);
  }
  return out.sort();
}

function packageVersion(pkg: string): string {
  return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
}

function buildHash(files: string[]): string {
  const h = crypto.createHash('sha256');
  h.update(`solc@${packageVersion('solc')}\n`);
  for (const dep of SOLIDITY_DEPENDENCIES) h.update(`${dep}@${packageVersion(dep)}\n`);
  h.update(`${WORMHOLE_SDK_PACKAGE} ${WORMHOLE_SDK_INTEGRITY}\n`);
  h.update(JSON.stringify(SETTINGS));
  h.update(fs.readFileSync(fileURLToPath(import.meta.url)));
  for (const f of files) {
    h.update(path.relative(CONTRACTS_DIR, f));
    h.update('\0');
    h.update(fs.readFileSync(f));
  }
  return h.digest('hex');
}

function artifactsPresent(): boolean {
  return [...SOURCE_CONTRACTS, ...LAYERZERO_CONTRACTS, ...WORMHOLE_CONTRACTS].every((n) => fs.existsSync(path.join(ARTIFACTS_DIR, `${n}.json`)));
}

/** Resolves a solc import path (`@openzeppelin/...`, `solidity-bytes-utils/...`) against node_modules. */
function findImport(importPath: string): { contents: string } | { error: string } {
  const candidates = [path.join(CONTRACTS_DIR, importPath), path.join(REPO_DIR, 'node_modules', importPath)];
  for (const c of candidates) {
    if (fs.existsSync(c)) return { contents: fs.readFileSync(c, 'utf8') };
  }
  return { error: `import "${importPath}" not found (looked in ${candidates.join(', ')}); is the npm package installed?` };
}

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  formattedMessage?: string;
  message: string;
}
interface SolcOutput {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

async function runSolc(files: string[], log: (msg: string) => void): Promise<void> {
  const solc = (await import('solc')).default as { version(): string; compile(input: string, cb: object): string };
  const sources: Record<string, { content: string }> = {};
  for (const f of files) sources[path.relative(CONTRACTS_DIR, f).split(path.sep).join('/')] = { content: fs.readFileSync(f, 'utf8') };
  const input = { language: 'Solidity', sources, settings: SETTINGS };
  log(`solc ${solc.version()}: compiling ${files.length} source files from contracts/src ...`);
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  const warnings = (output.errors ?? []).filter((e) => e.severity === 'warning');
  for (const w of warnings) {
    // Only surface warnings from our own sources; dependency warnings are noise.
    if ((w.formattedMessage ?? '').includes('src/')) log(`solc warning: ${w.formattedMessage ?? w.message}`);
  }
  if (errors.length > 0) {
    throw new Error(
      `solc failed with ${errors.length} error(s):\n${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`,
    );
  }
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const name of SOURCE_CONTRACTS) {
    const unit = Object.entries(output.contracts ?? {}).find(([, byName]) => byName[name]);
    const contract = unit?.[1][name];
    if (!contract) throw new Error(`solc output has no contract ${name}: is there a contracts/src/${name}.sol declaring it?`);
    const artifact: ContractArtifact = { contractName: name, abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` as Hex };
    fs.writeFileSync(path.join(ARTIFACTS_DIR, `${name}.json`), JSON.stringify(artifact));
  }
}

function copyLayerZeroArtifacts(): void {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const name of LAYERZERO_CONTRACTS) {
    const hardhat = JSON.parse(fs.readFileSync(require.resolve(LAYERZERO_ARTIFACT_PATHS[name]), 'utf8')) as {
      abi: Abi;
      bytecode: Hex;
    };
    const artifact: ContractArtifact = { contractName: name, abi: hardhat.abi, bytecode: hardhat.bytecode };
    fs.writeFileSync(path.join(ARTIFACTS_DIR, `${name}.json`), JSON.stringify(artifact));
  }
}

/** Copies the Wormhole core artifacts (fetched and cached by `ensureWormholeCore`) into contracts/artifacts. */
function copyWormholeArtifacts(artifacts: Record<(typeof WORMHOLE_CONTRACTS)[number], ContractArtifact>): void {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  for (const name of WORMHOLE_CONTRACTS) {
    fs.writeFileSync(path.join(ARTIFACTS_DIR, `${name}.json`), JSON.stringify(artifacts[name]));
  }
}

function abiConstName(name: string): string {
  return `${name[0]!.toLowerCase()}${name.slice(1)}Abi`;
}

/** Writes contracts/generated/abis.ts from the artifacts; returns true when its content changed. */
function writeAbisModule(): boolean {
  const parts = [
    '// GENERATED by contracts/compile.ts from contracts/artifacts; do not edit by hand.',
    '// Regenerate with `npx tsx contracts/compile.ts`.',
    '',
  ];
  for (const name of [...SOURCE_CONTRACTS, ...LAYERZERO_CONTRACTS, ...WORMHOLE_CONTRACTS]) {
    const { abi } = JSON.parse(fs.readFileSync(path.join(ARTIFACTS_DIR, `${name}.json`), 'utf8')) as ContractArtifact;
    parts.push(`export const ${abiConstName(name)} = ${JSON.stringify(abi, null, 2)} as const;`, '');
  }
  const text = parts.join('\n');
  const previous = fs.existsSync(GENERATED_FILE) ? fs.readFileSync(GENERATED_FILE, 'utf8') : undefined;
  if (previous === text) return false;
  fs.mkdirSync(path.dirname(GENERATED_FILE), { recursive: true });
  fs.writeFileSync(GENERATED_FILE, text);
  return true;
}

/**
 * Compiles the contracts unless the cached build matches, then refreshes the generated ABI module.
 * @throws Error with solc's formatted messages on compile errors, or naming a missing import.
 */
export async function compileContracts(opts: CompileOptions = {}): Promise<CompileResult> {
  const log = opts.log ?? console.log;
  const started = Date.now();
  const files = listSolidityFiles(SRC_DIR);
  if (files.length === 0) throw new Error(`no .sol files under ${SRC_DIR}`);
  // Cheap when cached (reads three JSON files); fetches the tarball once on a fresh clone.
  const wormholeCore = await ensureWormholeCore({ log });
  const hash = buildHash(files);
  const cachedHash = fs.existsSync(HASH_FILE) ? fs.readFileSync(HASH_FILE, 'utf8').trim() : '';
  const upToDate = !opts.force && cachedHash === hash && artifactsPresent();
  if (!upToDate) {
    await runSolc(files, log);
    copyLayerZeroArtifacts();
    copyWormholeArtifacts(wormholeCore);
    fs.writeFileSync(HASH_FILE, `${hash}\n`);
  }
  const abisChanged = writeAbisModule();
  const durationMs = Date.now() - started;
  log(
    upToDate
      ? `contracts up to date (hash ${hash.slice(0, 12)}), skipped solc; ${durationMs} ms`
      : `compiled ${SOURCE_CONTRACTS.length} contracts + copied ${[...LAYERZERO_CONTRACTS, ...WORMHOLE_CONTRACTS].join(', ')} into contracts/artifacts in ${(durationMs / 1000).toFixed(1)} s`,
  );
  if (abisChanged) log(`wrote ${path.relative(REPO_DIR, GENERATED_FILE)}`);
  return { compiled: !upToDate, durationMs, hash, abisChanged };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  compileContracts({ force: process.argv.includes('--force') }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
