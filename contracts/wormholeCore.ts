/**
 * Wormhole's real core contracts (Setup, the `Wormhole` ERC1967 proxy and `Implementation`) for the
 * devnet, fetched at build time rather than vendored.
 *
 * The bytecode ships in the npm tarball of `@certusone/wormhole-sdk@0.10.18` as ethers-v5 typechain
 * factories (`lib/cjs/ethers-contracts/factories/<Name>__factory.js`, each holding `const _abi = [...]`
 * and `const _bytecode = "0x..."`). That package's dependency tree is huge, so it is never installed:
 * when the cache is missing, `npm pack` downloads the tarball alone (through npm's own registry config
 * and cache), its sha512 integrity is checked against the pinned value, the three factories are read
 * out of the gzipped tar in memory, and `{ contractName, abi, bytecode }` JSON is written to
 * {@link WORMHOLE_CORE_CACHE_DIR} (under `node_modules/.cache`, so gitignored). Later runs read the cache.
 *
 * Offline: set `BALLAST_WORMHOLE_SDK_TGZ` to a copy of the tarball (same integrity) to skip `npm pack`.
 *
 * Deploy recipe (see ../shared DEVNET-NOTES): Implementation, Setup, then
 * `Wormhole(setup, abi.encodeCall(Setup.setup, (impl, [guardian], whChainId, 1, governance, block.chainid)))`.
 */
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';
import type { ContractArtifact } from './artifacts.js';

const REPO_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** The npm package (name@version) whose tarball carries the core contracts' typechain factories. */
export const WORMHOLE_SDK_PACKAGE = '@certusone/wormhole-sdk@0.10.18';
/** sha512 integrity of that tarball as published on the npm registry (`npm view ... dist.integrity`). */
export const WORMHOLE_SDK_INTEGRITY =
  'sha512-VuN4AGB018ELkzTT/jN+yWgE6TWqXsHilxxCVWqGctzow2hKSFd8ADUhxhHigies436rS0vPvrgXi6m0J1+Ecw==';
/** Where the extracted `{abi, bytecode}` JSON files live (gitignored: inside node_modules). */
export const WORMHOLE_CORE_CACHE_DIR = path.join(REPO_DIR, 'node_modules', '.cache', 'ballast', 'wormhole-sdk-0.10.18');

/** Ballast's artifact name → the typechain factory's contract name in the tarball. */
export const WORMHOLE_CORE_FACTORIES = {
  WormholeSetup: 'Setup',
  WormholeProxy: 'Wormhole',
  WormholeImplementation: 'Implementation',
} as const;

/** Artifact names of the Wormhole core contracts (`contracts/artifacts/<name>.json`). */
export type WormholeCoreName = keyof typeof WORMHOLE_CORE_FACTORIES;

const FACTORY_DIR = 'package/lib/cjs/ethers-contracts/factories';
const MANIFEST = 'manifest.json';

export interface EnsureWormholeCoreOptions {
  /** Progress output; default none. */
  log?: (msg: string) => void;
  /** Re-fetch even when the cache is complete. */
  force?: boolean;
}

interface Manifest {
  package: string;
  integrity: string;
}

function cacheComplete(): boolean {
  const manifestFile = path.join(WORMHOLE_CORE_CACHE_DIR, MANIFEST);
  if (!fs.existsSync(manifestFile)) return false;
  try {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
    if (m.package !== WORMHOLE_SDK_PACKAGE || m.integrity !== WORMHOLE_SDK_INTEGRITY) return false;
  } catch {
    return false;
  }
  return Object.keys(WORMHOLE_CORE_FACTORIES).every((n) => fs.existsSync(path.join(WORMHOLE_CORE_CACHE_DIR, `${n}.json`)));
}

/**
 * Makes sure the Wormhole core artifacts are in {@link WORMHOLE_CORE_CACHE_DIR}, fetching them with
 * `npm pack` when missing, and returns them.
 * @returns the three artifacts by Ballast name (`WormholeSetup`, `WormholeProxy`, `WormholeImplementation`).
 * @throws Error saying what failed (npm not found, registry unreachable, integrity mismatch, a factory
 *   missing from the tarball) and what to do (check the registry, or set `BALLAST_WORMHOLE_SDK_TGZ`).
 * @example
 *   const { WormholeImplementation } = await ensureWormholeCore({ log: console.log });
 */
export async function ensureWormholeCore(opts: EnsureWormholeCoreOptions = {}): Promise<Record<WormholeCoreName, ContractArtifact>> {
  const log = opts.log ?? (() => {});
  if (opts.force || !cacheComplete()) {
    const started = Date.now();
    const tgz = await fetchTarball(log);
    const files = extractFromTarGz(
      tgz,
      Object.values(WORMHOLE_CORE_FACTORIES).map((f) => `${FACTORY_DIR}/${f}__factory.js`),
    );
    const stage = fs.mkdtempSync(path.join(path.dirname(WORMHOLE_CORE_CACHE_DIR), '.stage-'));
    try {
      for (const [name, factory] of Object.entries(WORMHOLE_CORE_FACTORIES)) {
        const member = `${FACTORY_DIR}/${factory}__factory.js`;
        const artifact = parseTypechainFactory(name, files.get(member)!.toString('utf8'), `${WORMHOLE_SDK_PACKAGE}:${member}`);
        fs.writeFileSync(path.join(stage, `${name}.json`), JSON.stringify(artifact));
      }
      fs.writeFileSync(path.join(stage, MANIFEST), JSON.stringify({ package: WORMHOLE_SDK_PACKAGE, integrity: WORMHOLE_SDK_INTEGRITY } satisfies Manifest));
      // Replace the cache folder in one rename so a concurrent reader never sees half of it.
      fs.rmSync(WORMHOLE_CORE_CACHE_DIR, { recursive: true, force: true });
      fs.renameSync(stage, WORMHOLE_CORE_CACHE_DIR);
    } catch (err) {
      fs.rmSync(stage, { recursive: true, force: true });
      if (!cacheComplete()) throw err; // another process filled the cache in the meantime: fine
    }
    log(`Wormhole core contracts extracted from ${WORMHOLE_SDK_PACKAGE} into ${path.relative(REPO_DIR, WORMHOLE_CORE_CACHE_DIR)} in ${Date.now() - started} ms`);
  }
  return readCache();
}

function readCache(): Record<WormholeCoreName, ContractArtifact> {
  const out = {} as Record<WormholeCoreName, ContractArtifact>;
  for (const name of Object.keys(WORMHOLE_CORE_FACTORIES) as WormholeCoreName[]) {
    out[name] = JSON.parse(fs.readFileSync(path.join(WORMHOLE_CORE_CACHE_DIR, `${name}.json`), 'utf8')) as ContractArtifact;
  }
  return out;
}

/** The tarball bytes, from `BALLAST_WORMHOLE_SDK_TGZ` or `npm pack`, integrity-checked. */
async function fetchTarball(log: (msg: string) => void): Promise<Buffer> {
  let tgz: Buffer;
  let source: string;
  const local = process.env.BALLAST_WORMHOLE_SDK_TGZ;
  if (local) {
    if (!fs.existsSync(local)) throw new Error(`BALLAST_WORMHOLE_SDK_TGZ=${local}: no such file (unset it to fetch ${WORMHOLE_SDK_PACKAGE} with npm pack)`);
    tgz = fs.readFileSync(local);
    source = local;
  } else {
    fs.mkdirSync(path.dirname(WORMHOLE_CORE_CACHE_DIR), { recursive: true });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-wormhole-pack-'));
    try {
      log(`fetching the Wormhole core contracts: npm pack ${WORMHOLE_SDK_PACKAGE} (tarball only, not installed) ...`);
      try {
        await promisify(execFile)('npm', ['pack', WORMHOLE_SDK_PACKAGE, '--pack-destination', dir, '--loglevel=error'], {
          cwd: REPO_DIR,
          timeout: 180_000,
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (err) {
        const e = err as Error & { code?: string | number; stderr?: string };
        const stderr = (e.stderr ?? '').split('\n').filter((l) => l.trim() && !l.includes('Unknown user config')).slice(0, 6).join('\n');
        throw new Error(
          e.code === 'ENOENT'
            ? `cannot fetch the Wormhole core contracts: \`npm\` is not on PATH (needed once for \`npm pack ${WORMHOLE_SDK_PACKAGE}\`); ` +
                'install Node/npm, or download the tarball elsewhere and set BALLAST_WORMHOLE_SDK_TGZ to its path'
            : `cannot fetch the Wormhole core contracts: \`npm pack ${WORMHOLE_SDK_PACKAGE}\` failed (${e.message.split('\n')[0]})` +
                `${stderr ? `:\n${stderr}` : ''}\nCheck that the npm registry is reachable (npm config get registry), ` +
                'or set BALLAST_WORMHOLE_SDK_TGZ to a downloaded copy of the tarball.',
        );
      }
      const packed = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'));
      if (packed.length !== 1) throw new Error(`npm pack ${WORMHOLE_SDK_PACKAGE} wrote ${packed.length} tarballs into ${dir}, expected 1`);
      tgz = fs.readFileSync(path.join(dir, packed[0]!));
      source = `npm pack ${WORMHOLE_SDK_PACKAGE}`;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const integrity = `sha512-${crypto.createHash('sha512').update(tgz).digest('base64')}`;
  if (integrity !== WORMHOLE_SDK_INTEGRITY) {
    throw new Error(
      `the tarball from ${source} has integrity ${integrity}, expected ${WORMHOLE_SDK_INTEGRITY} (${WORMHOLE_SDK_PACKAGE} as published); ` +
        'refusing to use it: check the registry/mirror or the file',
    );
  }
  return tgz;
}

/**
 * Reads the named members out of a gzipped tarball (ustar, with pax or GNU long names) held in memory.
 * @returns member path → contents, for every name in `wanted`.
 * @throws Error naming the members that are not in the archive, or on a malformed header.
 */
export function extractFromTarGz(tgz: Buffer, wanted: readonly string[]): Map<string, Buffer> {
  const tar = zlib.gunzipSync(tgz);
  const want = new Set(wanted);
  const found = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const field = (start: number, len: number) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const sizeText = field(124, 12).trim();
    if (!/^[0-7]+$/.test(sizeText)) throw new Error(`malformed tar header at byte ${offset}: size field ${JSON.stringify(sizeText)}`);
    const size = parseInt(sizeText, 8);
    const type = field(156, 1);
    const prefix = field(257, 6).startsWith('ustar') ? field(345, 155) : '';
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = tar.subarray(offset + 512, offset + 512 + size);
    paxPath = undefined;
    if (type === 'x') {
      // pax extended header (what npm writes): records "<len> key=value\n"; only `path` matters here.
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      paxPath = m?.[1];
    } else if (type === 'L') {
      // GNU long name (what GNU tar writes): the body is the next entry's path.
      paxPath = body.toString('utf8').replace(/\0.*$/s, '');
    } else if ((type === '0' || type === '') && want.has(name)) {
      found.set(name, Buffer.from(body));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  const missing = wanted.filter((w) => !found.has(w));
  if (missing.length > 0) throw new Error(`tarball has no ${missing.join(', ')} (has the package layout changed?)`);
  return found;
}

/**
 * Reads `{abi, bytecode}` out of an ethers-v5 typechain factory module (`const _abi = [ ... ];` as a JS
 * object literal with bare keys, `const _bytecode = "0x...";`) without executing it.
 * @throws Error naming `where` when either constant is missing or does not parse.
 */
export function parseTypechainFactory(contractName: string, source: string, where: string): ContractArtifact {
  const abiMatch = /const _abi = (\[[\s\S]*?\n\]);\n/.exec(source);
  const bytecodeMatch = /const _bytecode = "(0x[0-9a-fA-F]*)";/.exec(source);
  if (!abiMatch?.[1] || !bytecodeMatch?.[1]) throw new Error(`${where}: no \`const _abi = [...]\` or \`const _bytecode = "0x..."\` found`);
  // Bare identifiers before a colon (at a line start, or after `{` or `,`) become quoted keys; trailing
  // commas go. ABI string values (names, types) never contain `{`, `,` or `:` followed by such a key.
  const json = abiMatch[1].replace(/(^|[{,])(\s*)([A-Za-z_$][\w$]*)\s*:/gm, '$1$2"$3":').replace(/,(\s*[\]}])/g, '$1');
  let abi: Abi;
  try {
    abi = JSON.parse(json) as Abi;
  } catch (err) {
    throw new Error(`${where}: the _abi literal is not JSON-like (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!Array.isArray(abi) || !abi.every((e) => typeof e === 'object' && e !== null && 'type' in e)) {
    throw new Error(`${where}: _abi is not an ABI array`);
  }
  const bytecode = bytecodeMatch[1] as Hex;
  if (bytecode.length <= 2 || bytecode.length % 2 !== 0) throw new Error(`${where}: _bytecode is empty or odd-length`);
  return { contractName, abi, bytecode };
}
