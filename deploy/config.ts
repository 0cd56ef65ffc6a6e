/**
 * The config file as `ballast deploy` reads it: the keeper's own config (config/schema.ts, validated by
 * `loadConfig` with every message and rule of it) in which the addresses of contracts `ballast deploy` deploys may
 * be left out, and written back once they exist.
 *
 * Deployable (may be absent): `chains[].contracts.multicall3`, `.token`, `.vault`, `.route`, `chains[].wormhole.adapter`
 * (when the chain has a `wormhole` entry) and `chains[].aave.allocator` (when it has an `aave` entry). Every other field
 * is required as for the keeper: the chain's existing contracts (`contracts.endpoint`, `contracts.priceFeed`, the
 * Wormhole core, the Aave Pool) are never deployed. Each absent address is stood in for by a placeholder while the file
 * is validated (so `loadConfig` checks the rest exactly as the keeper will) and reported in {@link DeployConfig.absent}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, loadConfig, type BallastConfig } from '../config/index.js';

/** A contract `ballast deploy` can deploy, by where its address sits in a chain's entry. */
export type DeployableRole = 'multicall3' | 'token' | 'vault' | 'route' | 'wormholeAdapter' | 'aaveAllocator';

/** Where each role's address is written in a chain entry. */
export const ROLE_PATHS: Record<DeployableRole, readonly string[]> = {
  multicall3: ['contracts', 'multicall3'],
  token: ['contracts', 'token'],
  vault: ['contracts', 'vault'],
  route: ['contracts', 'route'],
  wormholeAdapter: ['wormhole', 'adapter'],
  aaveAllocator: ['aave', 'allocator'],
};

const ROLES = Object.keys(ROLE_PATHS) as DeployableRole[];

/** The config and which deployable addresses it left out. */
export interface DeployConfig {
  /** The validated config; an absent address holds a placeholder (`0xde00…`): never use it, see `absent`. */
  config: BallastConfig;
  /** Per chain key, the roles whose address the file left out. */
  absent: Record<string, DeployableRole[]>;
  /** The file, as read (for {@link writeAddresses}). */
  file: string;
}

/** YAML as config/load.ts parses it: exact ints, and no hex ints (an unquoted `0x…` address stays a string). */
const YAML_OPTIONS = {
  intAsBigInt: true,
  customTags: (tags: YAML.Tags): YAML.Tags =>
    tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && (t.format === 'HEX' || t.format === 'OCT'))),
} as const;

const isJson = (file: string) => path.extname(file).toLowerCase() === '.json';

/** A distinct, non-zero stand-in address for `role` of chain number `chainIndex`. */
function placeholder(chainIndex: number, role: DeployableRole): string {
  return `0xde${'0'.repeat(30)}${chainIndex.toString(16).padStart(4, '0')}${(ROLES.indexOf(role) + 1).toString(16).padStart(4, '0')}`;
}

/** The raw document of a config file: a YAML Document (comments kept) or a JSON value. */
type RawDoc = { kind: 'yaml'; doc: YAML.Document } | { kind: 'json'; value: Record<string, unknown> };

function readRaw(file: string): RawDoc {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '(root)', message: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)}); check the path`, got: 'nothing' }]);
  }
  if (isJson(file)) return { kind: 'json', value: JSON.parse(text) as Record<string, unknown> };
  const doc = YAML.parseDocument(text, YAML_OPTIONS);
  if (doc.errors.length > 0) throw new ConfigError(file, [{ path: '(root)', message: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, got: 'unparseable text' }]);
  return { kind: 'yaml', doc };
}

function hasIn(raw: RawDoc, p: readonly (string | number)[]): boolean {
  if (raw.kind === 'yaml') return raw.doc.hasIn(p);
  let v: unknown = raw.value;
  for (const k of p) {
    if (v === null || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<string | number, unknown>)[k];
  }
  return true;
}

function setIn(raw: RawDoc, p: readonly (string | number)[], value: string): void {
  if (raw.kind === 'yaml') {
    // Quoted: a plain 0x… reads as a hex number to YAML parsers other than config/load.ts's.
    const node = new YAML.Scalar(value);
    node.type = 'QUOTE_DOUBLE';
    raw.doc.setIn(p, node);
    return;
  }
  let v = raw.value as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) {
    if (v[k] === null || typeof v[k] !== 'object') v[k] = {};
    v = v[k] as Record<string | number, unknown>;
  }
  v[p[p.length - 1]!] = value;
}

function chainCount(raw: RawDoc): number {
  const chains = raw.kind === 'yaml' ? raw.doc.get('chains') : raw.value.chains;
  if (YAML.isSeq(chains)) return chains.items.length;
  return Array.isArray(chains) ? chains.length : 0;
}

const stringify = (raw: RawDoc): string => (raw.kind === 'yaml' ? String(raw.doc) : `${JSON.stringify(raw.value, null, 2)}\n`);

/**
 * Reads `file` for `ballast deploy`: absent deployable addresses stand in as placeholders, then `loadConfig` validates
 * it all (with `${NAME}` substitution from `env`, token-unit amounts, every message of config/). Every EVM chain must
 * have a `deploy` section.
 * @throws ConfigError naming `file` and each issue (as `loadConfig`), or a chain without a `deploy` section.
 */
export function loadDeployConfig(file: string, env: NodeJS.ProcessEnv = process.env): DeployConfig {
  const raw = readRaw(file);
  const absentAt: { chain: number; role: DeployableRole }[] = [];
  for (let i = 0; i < chainCount(raw); i++) {
    for (const role of ROLES) {
      const p = ROLE_PATHS[role];
      // The Wormhole adapter and the allocator only exist with their section.
      if (p[0] !== 'contracts' && !hasIn(raw, ['chains', i, p[0]!])) continue;
      if (hasIn(raw, ['chains', i, ...p])) continue;
      absentAt.push({ chain: i, role });
      setIn(raw, ['chains', i, ...p], placeholder(i, role));
    }
  }
  // loadConfig reads a file: the filled-in copy goes to a private temp file (it holds no secret: `${NAME}` is not
  // substituted in it), and its errors are renamed to the operator's file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-deploy-'));
  const tmp = path.join(dir, isJson(file) ? 'config.json' : 'config.yaml');
  let config: BallastConfig;
  try {
    fs.writeFileSync(tmp, stringify(raw), { mode: 0o600 });
    config = loadConfig(tmp, { env });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(file, err.issues);
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const missing = config.chains.flatMap((c, i) => (c.deploy ? [] : [{ path: `chains[${i}].deploy`, message: `required by ballast deploy: the LayerZero libraries, DVNs and executor, and the keeper's address of chain "${c.key}"`, got: 'nothing' }]));
  if (missing.length > 0) throw new ConfigError(file, missing);
  const absent: Record<string, DeployableRole[]> = Object.fromEntries(config.chains.map((c) => [c.key, [] as DeployableRole[]]));
  for (const a of absentAt) absent[config.chains[a.chain]!.key]!.push(a.role);
  return { config, absent, file };
}

/** Addresses to write back, per chain key and role. */
export type DeployedAddresses = Record<string, Partial<Record<DeployableRole, string>>>;

/**
 * The config fragment holding `addresses`: `chains: [{ key, contracts: {…}, wormhole: { adapter }, aave: { allocator } }]`,
 * as YAML (or JSON when `json`), to merge into the config by hand.
 */
export function addressesFragment(addresses: DeployedAddresses, json = false): string {
  const chains = Object.entries(addresses).map(([key, roles]) => {
    const entry: Record<string, unknown> = { key };
    for (const [role, address] of Object.entries(roles) as [DeployableRole, string][]) {
      const [section, field] = ROLE_PATHS[role] as [string, string];
      entry[section] = { ...(entry[section] as object | undefined), [field]: address };
    }
    return entry;
  });
  return json ? `${JSON.stringify({ chains }, null, 2)}\n` : YAML.stringify({ chains });
}

/**
 * Writes `to` = the config file `from` with `addresses` set at their places (a YAML file keeps its comments and
 * layout); `to` may be `from`. Written atomically (temp + rename).
 * @throws Error naming `from` when a chain key of `addresses` is not in it.
 */
export function writeAddresses(from: string, to: string, addresses: DeployedAddresses): void {
  const raw = readRaw(from);
  const keys: unknown[] = [];
  for (let i = 0; i < chainCount(raw); i++) {
    keys.push(raw.kind === 'yaml' ? raw.doc.getIn(['chains', i, 'key']) : (raw.value.chains as { key?: unknown }[])[i]?.key);
  }
  for (const [key, roles] of Object.entries(addresses)) {
    const i = keys.indexOf(key);
    if (i < 0) throw new Error(`${from}: no chain with key "${key}" to write its addresses to`);
    for (const [role, address] of Object.entries(roles) as [DeployableRole, string][]) setIn(raw, ['chains', i, ...ROLE_PATHS[role]], address);
  }
  const tmp = `${to}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, stringify(raw), { mode: 0o644 });
  fs.renameSync(tmp, to);
}
