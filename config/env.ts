/**
 * What the environment contributes to a config file at load time (`loadConfig`):
 * - `${NAME}` in any string value is replaced by the environment variable NAME (secrets such as the API key in
 *   an RPC URL: `rpcUrl: https://arb-sepolia.g.alchemy.com/v2/${ALCHEMY_KEY}`). A variable that is not set (or
 *   set to the empty string) is an error naming it and the config path; `$${` writes a literal `${`. Only string
 *   values are substituted, and the result stays a string; the substituted text is not scanned again.
 * - `BALLAST_TEMPORAL_ADDRESS` and `BALLAST_TEMPORAL_NAMESPACE`, when set and not empty, replace `temporal.address`
 *   and `temporal.namespace` (e.g. one config file for every environment, the address from the deployment).
 *
 * Substituted values are secrets: errors show the value as written in the file (with `${NAME}`), never the value.
 */

/** Environment variables overriding `temporal.*` fields: field → variable. */
export const TEMPORAL_ENV_OVERRIDES = {
  address: 'BALLAST_TEMPORAL_ADDRESS',
  namespace: 'BALLAST_TEMPORAL_NAMESPACE',
} as const;

/** An environment: variable name → value (`process.env`, or a test's own). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A problem found while substituting: the config path of the string and why. */
export interface EnvIssue {
  path: PropertyKey[];
  message: string;
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `s` with its `${NAME}` references replaced from `env`; `issues` gets one entry per reference that cannot be. */
function substituteString(s: string, env: Env, at: PropertyKey[], issues: EnvIssue[]): string {
  if (!s.includes('${')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!s.startsWith('${', i)) {
      out += s[i];
      i += 1;
      continue;
    }
    const end = s.indexOf('}', i + 2);
    if (end < 0) {
      issues.push({ path: at, message: 'unterminated "${": write ${NAME} for an environment variable, or $${ for a literal "${"' });
      return out + s.slice(i);
    }
    const name = s.slice(i + 2, end);
    if (!VAR_NAME.test(name)) {
      issues.push({ path: at, message: `"\${${name}}" is not an environment variable reference: write \${NAME} (letters, digits, _), or $\${ for a literal "\${"` });
    } else {
      const value = env[name];
      if (value === undefined) issues.push({ path: at, message: `\${${name}} is not set (export ${name} in the keeper's environment)` });
      else if (value === '') issues.push({ path: at, message: `\${${name}} is not set: ${name} is empty` });
      else out += value;
    }
    i = end + 1;
  }
  return out;
}

/**
 * Replaces `${NAME}` references in every string value of a raw config (as parsed from YAML/JSON) from `env`.
 * @returns a copy of `raw` with the substitutions (a reference that failed is left as written) and one issue per
 *   failed reference, e.g. `{ path: ['chains', 1, 'rpcUrl'], message: '${ALCHEMY_KEY} is not set (…)' }`.
 * @example substituteEnv({ rpcUrl: 'https://x.io/v2/${KEY}' }, { KEY: 'k' }).value // { rpcUrl: 'https://x.io/v2/k' }
 */
export function substituteEnv(raw: unknown, env: Env): { value: unknown; issues: EnvIssue[] } {
  const issues: EnvIssue[] = [];
  const walk = (v: unknown, at: PropertyKey[]): unknown => {
    if (typeof v === 'string') return substituteString(v, env, at, issues);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...at, i]));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...at, k])]));
    return v;
  };
  return { value: walk(raw, []), issues };
}

/** One `temporal.*` field set from the environment. */
export interface EnvOverride {
  path: PropertyKey[];
  /** The environment variable it came from. */
  variable: string;
}

/**
 * Applies {@link TEMPORAL_ENV_OVERRIDES} to a raw config: each variable that is set and not empty replaces its
 * `temporal` field (the section is created when absent; a `temporal` that is not an object is left for the schema
 * to refuse).
 * @returns a copy of `raw` and the fields overridden.
 * @example applyEnvOverrides({ temporal: { address: 'a:1' } }, { BALLAST_TEMPORAL_ADDRESS: 'b:2' }).value.temporal.address // 'b:2'
 */
export function applyEnvOverrides(raw: unknown, env: Env): { value: unknown; applied: EnvOverride[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { value: raw, applied: [] };
  const root = raw as Record<string, unknown>;
  const set = Object.entries(TEMPORAL_ENV_OVERRIDES).filter(([, variable]) => (env[variable] ?? '') !== '');
  if (set.length === 0) return { value: raw, applied: [] };
  const temporal = root.temporal ?? {};
  if (temporal === null || typeof temporal !== 'object' || Array.isArray(temporal)) return { value: raw, applied: [] };
  const next: Record<string, unknown> = { ...(temporal as Record<string, unknown>) };
  const applied: EnvOverride[] = [];
  for (const [field, variable] of set) {
    next[field] = env[variable];
    applied.push({ path: ['temporal', field], variable });
  }
  return { value: { ...root, temporal: next }, applied };
}
