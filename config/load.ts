/**
 * Reading, validating and writing Ballast config files (YAML or JSON).
 *
 * Every problem found is reported at once, one per line, as
 * `<file>: <path>: <message> (got <value>)`, e.g.
 * `ballast.yaml: chains[2].caps.maxOutflowPerWindow: must be ≥ 0 (got "-5")`.
 *
 * Loading a file goes: read → YAML/JSON → `${NAME}` substitution from the environment and the
 * `BALLAST_TEMPORAL_*` overrides (env.ts, {@link loadConfig} only) → amounts in token units converted to base
 * units (amounts.ts, also {@link parseConfig}) → the schema (schema.ts). `(got …)` always shows the value as
 * written in the file (`${NAME}` unresolved), so a substituted secret never reaches an error line.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { configSchema } from './schema.js';
import type { BallastConfig, BallastConfigInput } from './schema.js';
import { convertAmounts } from './amounts.js';
import { applyEnvOverrides, substituteEnv, type Env, type EnvOverride } from './env.js';

/** One problem in a config file. */
export interface ConfigIssue {
  /** Dotted path with indexes, e.g. `chains[2].caps.maxTransfer`; `(root)` for the whole file. */
  path: string;
  message: string;
  /** The offending value as written (JSON-ish), or `nothing` when the field is absent. */
  got: string;
}

/**
 * A config file could not be read or is invalid. `message` lists every issue one per line as
 * `<source>: <path>: <message> (got <value>)`; `issues` holds them structured.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The file path, or `<inline>` for an object given to {@link parseConfig}. */
    readonly source: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((i) => `${source}: ${i.path}: ${i.message} (got ${i.got})`).join('\n'));
  }
}

/** `['chains', 2, 'caps', 'x']` → `chains[2].caps.x`. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** Render a raw value for `(got …)`: strings quoted, bigints as digits, long objects shortened. */
export function formatGot(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  }
  return String(v);
}

const PRIVATE_KEY_HINT =
  'private keys never go in the config file; put the key in the environment variable named by keeper.privateKeyEnv ' +
  '(default BALLAST_KEEPER_PRIVATE_KEY) or point keeper.keystoreFile at a keystore';

const PASSWORD_HINT =
  'passwords never go in the config file; put the keystore password in the environment variable named by ' +
  'keeper.keystorePasswordEnv (default BALLAST_KEYSTORE_PASSWORD)';

/** Keys whose value is a secret: refused with a hint, and their value is never echoed in the error. */
const SECRET_KEY = /private.?key|mnemonic|secret|passw(or)?d|passphrase/i;
/** What `(got …)` shows for a value under a {@link SECRET_KEY}: the value itself would leak the secret into logs. */
export const REDACTED = '[redacted]';

/**
 * The message of one zod issue. For a type error, `value` (the raw value at the issue's path) decides
 * between `required` (absent) and the schema's own message, or `must be <type>` when the schema gave
 * none. (zod only fills `iss.input` when asked to, so it cannot tell absent from wrong.)
 */
function issueMessage(iss: z.core.$ZodIssue, value: unknown): string {
  if (iss.code === 'invalid_type') {
    if (value === undefined) return 'required';
    if (!iss.message.startsWith('Invalid input')) return iss.message;
    const expected = iss.expected === 'int' ? 'an integer' : iss.expected === 'array' ? 'a list' : iss.expected === 'object' ? 'an object' : `a ${iss.expected}`;
    return `must be ${expected}`;
  }
  return iss.message;
}

/** 32 bytes of hex anywhere in a value: a private key pasted into the wrong field. The config has no 32-byte fields. */
const KEY_LIKE = /(?:^|[^0-9a-fA-F])(?:0x)?[0-9a-fA-F]{64}(?:[^0-9a-fA-F]|$)/;

/**
 * `(got …)` for the value at `p`, except under a secret-looking key (`keeper.privateKeyEnv: "0x…"`
 * when the key itself was pasted in) or when it holds 32 bytes of hex: those show {@link REDACTED}.
 */
function safeGot(raw: unknown, p: readonly PropertyKey[]): string {
  const v = valueAt(raw, p);
  if (p.some((k) => typeof k === 'string' && SECRET_KEY.test(k))) return v === undefined ? 'nothing' : REDACTED;
  const shown = formatGot(v);
  const full = typeof v === 'object' && v !== null ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) : shown;
  return KEY_LIKE.test(full) ? REDACTED : shown;
}

function toIssues(raw: unknown, error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of error.issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) {
        const p = [...iss.path, key];
        const secret = SECRET_KEY.test(key);
        out.push({
          path: formatPath(p),
          message: !secret ? 'unknown key (check the spelling; unknown keys are refused)' : /passw(or)?d|passphrase/i.test(key) ? PASSWORD_HINT : PRIVATE_KEY_HINT,
          got: secret ? REDACTED : safeGot(raw, p),
        });
      }
      continue;
    }
    out.push({ path: formatPath(iss.path), message: issueMessage(iss, valueAt(raw, iss.path)), got: safeGot(raw, iss.path) });
  }
  return out;
}

/**
 * Validate a config object (already parsed from YAML/JSON) and apply defaults.
 * @param obj the raw object.
 * @param source name used in error lines (a file path), default `<inline>`.
 * @throws {ConfigError} listing every issue.
 */
export function parseConfig(obj: unknown, source = '<inline>'): BallastConfig {
  return parsePrepared(obj, obj, source, [], []);
}

/**
 * Converts token-unit amounts of `resolved`, validates it and reports every issue at once: `earlier` (e.g. from
 * `${NAME}` substitution) first, then the schema's (amounts that do not convert included) at other paths. `(got …)` comes from `shown`, the
 * config as written (before substitution); an issue at a field set from the environment names the variable.
 */
function parsePrepared(resolved: unknown, shown: unknown, source: string, earlier: ConfigIssue[], overrides: EnvOverride[]): BallastConfig {
  // An amount that does not convert is reported by the schema itself, in order with the other issues.
  const r = configSchema.safeParse(convertAmounts(resolved).value);
  const issues = [...earlier];
  if (r.success && issues.length === 0) return r.data;
  const reported = new Set(issues.map((i) => i.path));
  if (!r.success) {
    for (const iss of toIssues(shown, r.error)) {
      if (reported.has(iss.path)) continue; // its value could not be resolved: the schema saw it as written
      const o = overrides.find((x) => formatPath(x.path) === iss.path);
      issues.push(o ? { ...iss, message: `${iss.message} (set by the environment variable ${o.variable})`, got: safeGot(resolved, o.path) } : iss);
    }
  }
  throw new ConfigError(source, issues);
}

/**
 * YAML options: ints exact (`bigint`, then back to `number` when safe), and no hex/octal ints, so an
 * unquoted address like `0x5FbD…` stays a string instead of silently becoming a number.
 */
const YAML_PARSE_OPTIONS = {
  intAsBigInt: true,
  customTags: (tags: YAML.Tags): YAML.Tags =>
    tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:int' && (t.format === 'HEX' || t.format === 'OCT'))),
} as const;

function unBigSafe(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (Array.isArray(v)) return v.map(unBigSafe);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unBigSafe(x)]));
  }
  return v;
}

function formatOf(file: string): 'yaml' | 'json' | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  return undefined;
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Where `${NAME}` and the `BALLAST_TEMPORAL_*` overrides are read from; default `process.env`. */
  env?: Env;
}

/**
 * Read, parse (by extension: `.yaml`/`.yml` or `.json`) and validate a config file. `${NAME}` in string values is
 * replaced from the environment, `BALLAST_TEMPORAL_ADDRESS` / `BALLAST_TEMPORAL_NAMESPACE` override
 * `temporal.address` / `temporal.namespace` (env.ts), and amounts may be written in token units (amounts.ts).
 * @throws {ConfigError} when the file is missing, unreadable, not valid YAML/JSON, invalid, or names an environment
 *   variable that is not set (`chains[1].rpcUrl: ${ALCHEMY_KEY} is not set …`).
 * @example const config = loadConfig('ballast.yaml');
 */
export function loadConfig(file: string, opts: LoadConfigOptions = {}): BallastConfig {
  const fmt = formatOf(file);
  if (fmt === undefined) {
    throw new ConfigError(file, [
      { path: '(root)', message: 'unknown config format; name the file *.yaml, *.yml or *.json', got: JSON.stringify(path.extname(file)) },
    ]);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(file, [
      { path: '(root)', message: `cannot read the file (${err.code ?? err.message}); check the path`, got: 'nothing' },
    ]);
  }
  let raw: unknown;
  try {
    raw = fmt === 'json' ? JSON.parse(text) : unBigSafe(YAML.parse(text, YAML_PARSE_OPTIONS));
  } catch (e) {
    throw new ConfigError(file, [
      { path: '(root)', message: `not valid ${fmt.toUpperCase()}: ${(e as Error).message.split('\n')[0]}`, got: 'unparseable text' },
    ]);
  }
  const env = opts.env ?? process.env;
  const substituted = substituteEnv(raw, env);
  const overridden = applyEnvOverrides(substituted.value, env);
  const earlier = substituted.issues.map((i) => ({ path: formatPath(i.path), message: i.message, got: safeGot(raw, i.path) }));
  return parsePrepared(overridden.value, raw, file, earlier, overridden.applied);
}

function stringifyBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(stringifyBigints);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, stringifyBigints(x)]),
    );
  }
  return v;
}

/**
 * Write a config file (YAML, or JSON when the name ends in `.json`), e.g. for the devnet script.
 * The object is validated first (so a written file always loads); amounts are written as strings of
 * base units, bands as percents, absent defaults are left absent. Written atomically (temp + rename).
 * @throws {ConfigError} when `config` is invalid (nothing is written).
 */
export function writeConfigFile(file: string, config: BallastConfigInput): void {
  parseConfig(config, file);
  const plain = stringifyBigints(config);
  const fmt = formatOf(file) ?? 'yaml';
  const text =
    fmt === 'json'
      ? `${JSON.stringify(plain, null, 2)}\n`
      : `# Ballast keeper config. Amounts are strings of base units; bands are percents.\n` +
        `# Keys never go here: see keeper.privateKeyEnv.\n${YAML.stringify(plain)}`;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}
