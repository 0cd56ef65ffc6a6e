/**
 * How the keeper reaches Temporal: address, namespace, TLS (server CA, server name, mTLS client pair), API key and
 * gRPC metadata, resolved once from Ballast's config, Temporal's `TEMPORAL_*` environment variables and a Temporal
 * env-config profile (`@temporalio/envconfig`, the TOML file the Temporal CLI reads), for both the client
 * (`Connection.connect`, keeper/client.ts) and the worker (`NativeConnection.connect`, keeper/worker.ts).
 *
 * Precedence, highest first, field by field:
 * 1. `BALLAST_TEMPORAL_ADDRESS` / `BALLAST_TEMPORAL_NAMESPACE` (applied to the config when it is loaded, config/env.ts);
 * 2. the config's `temporal` section as written: `address`, `namespace`, `apiKey` (may be `${VARIABLE}`),
 *    `tls.{disabled, clientCertPath, clientKeyPath, serverRootCACertPath, serverName}`;
 * 3. Temporal's environment variables, as env-config defines them: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 *    `TEMPORAL_API_KEY`, `TEMPORAL_TLS` (true/false), `TEMPORAL_TLS_CLIENT_CERT_PATH`/`_DATA`,
 *    `TEMPORAL_TLS_CLIENT_KEY_PATH`/`_DATA`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_SERVER_NAME`,
 *    `TEMPORAL_GRPC_META_<NAME>` (an empty value removes a header the profile sets); other empty variables count
 *    as unset;
 * 4. the env-config profile: `temporal.profile`, else `TEMPORAL_PROFILE`, else `default`, in the file
 *    `temporal.configFile`, else `TEMPORAL_CONFIG_FILE`, else the Temporal CLI's default file
 *    (`$XDG_CONFIG_HOME` or `~/.config`, `/temporalio/temporal.toml`). Unlike the Temporal CLI, no file is read
 *    unless one of those four names a profile or a file: a developer's own CLI profile never redirects a keeper.
 * 5. Ballast's defaults: `127.0.0.1:7233`, namespace `default`, no TLS.
 *
 * TLS: the highest source that says anything about TLS (a `tls` section, `TEMPORAL_TLS*`, a profile's `tls` table)
 * decides whether it is on (`disabled`); an API key turns it on unless that source turned it off. The server CA and
 * the server name are then taken field by field; the client certificate and key as a pair from the highest source
 * that sets either (one without the other is an error naming both).
 *
 * Files are read here, once: a missing or unreadable file is an error naming the config key (or variable, or
 * profile field) and the path. Nothing here logs the API key or key material: {@link describeTemporalConnection}
 * (and the settings' own `toJSON`/inspect) shows `apiKey: 'set'`, TLS file paths and header names only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { loadClientConfig, loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import type { TelemetryOptions } from '@temporalio/worker';
import type { BallastConfig } from '../config/index.js';

/** The `temporal` section of a parsed config (`defaulted`: which of address/namespace the file left out). */
export type TemporalSection = BallastConfig['temporal'];

/** An environment: variable name → value. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * What `Connection.connect` (client) and `NativeConnection.connect` (worker) both take: pass it as is, or spread it
 * with their own options (`connectTimeout`, `interceptors`).
 */
export interface TemporalConnectOptions {
  address: string;
  /** `false`: plaintext; an object: TLS (empty = the system's roots). */
  tls: TLSConfig | false;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** The resolved connection, and where each part came from (config key, variable or profile). */
export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  connectOptions: TemporalConnectOptions;
  /** Where each field came from, e.g. `{ address: 'temporal.address', apiKey: 'TEMPORAL_API_KEY' }`. */
  sources: {
    address: string;
    namespace: string;
    tls?: string;
    apiKey?: string;
    clientCert?: string;
    serverRootCACert?: string;
    serverName?: string;
    metadata?: string;
  };
  /** `profile "prod" in /etc/temporal.toml` when a profile was read. */
  profile?: string;
}

interface TlsLayer {
  /** Where this layer's TLS settings are, for `sources.tls`. */
  label: string;
  disabled?: boolean;
  serverName?: string;
  clientCert?: ConfigDataSource;
  clientKey?: ConfigDataSource;
  serverCACert?: ConfigDataSource;
  /** Labels of each field, for errors: e.g. `temporal.tls.clientCertPath`. */
  names: { clientCert: string; clientKey: string; serverCACert: string; serverName: string };
}

/** The Temporal CLI's default env-config file for `env` (envconfig's rule), or undefined without a home. */
export function defaultTemporalConfigFile(env: Env, platform: NodeJS.Platform = os.platform()): string | undefined {
  let dir: string | undefined;
  if (platform === 'win32') dir = env.APPDATA || undefined;
  else if (platform === 'darwin') dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
  else {
    const xdg = env.XDG_CONFIG_HOME;
    if (xdg) dir = path.isAbsolute(xdg) ? xdg : undefined;
    else dir = env.HOME ? path.join(env.HOME, '.config') : undefined;
  }
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** envconfig's own normalisation of `TEMPORAL_GRPC_META_<NAME>` (lower case, the first `_` as `-`). */
const grpcMetaKey = (name: string): string => name.toLocaleLowerCase().replace('_', '-');

/** The env-config profile named by the config or the environment, or undefined when none is named. */
function loadProfile(temporal: TemporalSection, env: Env): { profile: ClientConfigProfile; label: string; file: string } | undefined {
  const profileName = temporal.profile ?? nonEmpty(env.TEMPORAL_PROFILE);
  const fileFrom = temporal.configFile !== undefined ? 'temporal.configFile' : nonEmpty(env.TEMPORAL_CONFIG_FILE) !== undefined ? 'TEMPORAL_CONFIG_FILE' : undefined;
  if (profileName === undefined && fileFrom === undefined) return undefined;
  const profileFrom = temporal.profile !== undefined ? 'temporal.profile' : 'TEMPORAL_PROFILE';
  const file = temporal.configFile ?? nonEmpty(env.TEMPORAL_CONFIG_FILE) ?? defaultTemporalConfigFile(env);
  if (file === undefined) {
    throw new Error(`${profileFrom} "${profileName}": no env-config file to read it from (no HOME for the default file): set temporal.configFile or TEMPORAL_CONFIG_FILE`);
  }
  const fileLabel = fileFrom ?? `the Temporal CLI's default env-config file, as ${profileFrom} "${profileName}" asks`;
  if (!fs.existsSync(file)) {
    throw new Error(`${fileFrom ?? `${profileFrom} "${profileName}"`}: the env-config file ${file} does not exist${fileFrom ? '' : ' (set temporal.configFile or TEMPORAL_CONFIG_FILE to its path)'}`);
  }
  let profiles: Record<string, ClientConfigProfile>;
  try {
    profiles = loadClientConfig({ configSource: { path: file } }).profiles;
  } catch (err) {
    throw new Error(`${fileLabel}: cannot read the env-config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const name = profileName ?? 'default';
  const profile = profiles[name];
  if (profile === undefined) {
    const names = Object.keys(profiles);
    if (profileName === undefined) return { profile: {}, label: `profile "default" in ${file}`, file }; // envconfig: no default profile = an empty one
    throw new Error(`${profileFrom} "${name}": no such profile in ${file} (${names.length ? `it has: ${names.join(', ')}` : 'it has no [profile.<name>] table'})`);
  }
  return { profile, label: `profile "${name}" in ${file}`, file };
}

/** The `TEMPORAL_*` variables as a profile (envconfig's env layer alone). */
function envProfile(env: Env): ClientConfigProfile {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith('TEMPORAL_') || v === undefined) continue;
    if (v === '' && !k.startsWith('TEMPORAL_GRPC_META_')) continue;
    vars[k] = v;
  }
  return loadClientConfigProfile({ disableFile: true, overrideEnvVars: vars });
}

function readSource(src: ConfigDataSource, name: string, kind: 'certificate' | 'private key'): Buffer {
  let data: Buffer;
  if ('path' in src) {
    try {
      data = fs.readFileSync(src.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`${name}: cannot read the ${kind} file ${src.path} (${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)})`);
    }
  } else {
    data = Buffer.from(src.data);
  }
  const where = 'path' in src ? `the file ${src.path}` : 'the value';
  const pem = kind === 'certificate' ? /-----BEGIN CERTIFICATE-----/ : /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  if (!pem.test(data.toString('latin1'))) throw new Error(`${name}: ${where} is not a PEM ${kind} (no "-----BEGIN ${kind === 'certificate' ? 'CERTIFICATE' : '… PRIVATE KEY'}-----" line)`);
  return data;
}

function tlsLayer(label: string, fieldName: (field: 'client_cert' | 'client_key' | 'server_ca_cert' | 'server_name', src?: ConfigDataSource) => string, tls: ClientConfigProfile['tls']): TlsLayer | undefined {
  if (tls === undefined) return undefined;
  return {
    label,
    ...(tls.disabled !== undefined ? { disabled: tls.disabled } : {}),
    ...(tls.serverName !== undefined ? { serverName: tls.serverName } : {}),
    ...(tls.clientCert ? { clientCert: tls.clientCert } : {}),
    ...(tls.clientKey ? { clientKey: tls.clientKey } : {}),
    ...(tls.serverCACert ? { serverCACert: tls.serverCACert } : {}),
    names: {
      clientCert: fieldName('client_cert', tls.clientCert),
      clientKey: fieldName('client_key', tls.clientKey),
      serverCACert: fieldName('server_ca_cert', tls.serverCACert),
      serverName: fieldName('server_name'),
    },
  };
}

/**
 * The connection to Temporal for `temporal` (a parsed config's section) and `env` (default `process.env`), in the
 * precedence of this module's doc. Reads the env-config file and the TLS files.
 * @throws Error naming the cause: a missing or unreadable file (the key or variable that names it, and the path),
 *   a file that is not PEM, a client certificate without its key, a profile that is not in the file.
 * @example
 * const t = resolveTemporalConnection(config.temporal);
 * await Connection.connect({ ...t.connectOptions, connectTimeout: '5s' }); // namespace: t.namespace
 */
export function resolveTemporalConnection(temporal: TemporalSection, opts: { env?: Env } = {}): TemporalConnectionSettings {
  const env = opts.env ?? process.env;
  const defaulted = temporal.defaulted ?? [];
  const fromEnv = envProfile(env);
  const file = loadProfile(temporal, env);
  const fileProfile = file?.profile ?? {};
  const fileLabel = file?.label;

  const pick = (field: 'address' | 'namespace', variable: string): { value: string; source: string } => {
    const ballastVar = field === 'address' ? 'BALLAST_TEMPORAL_ADDRESS' : 'BALLAST_TEMPORAL_NAMESPACE';
    if (!defaulted.includes(field)) return { value: temporal[field], source: nonEmpty(env[ballastVar]) === temporal[field] ? ballastVar : `temporal.${field}` };
    if (fromEnv[field] !== undefined) return { value: fromEnv[field], source: variable };
    if (fileProfile[field] !== undefined && fileLabel) return { value: fileProfile[field], source: `${fileLabel} (${field})` };
    return { value: temporal[field], source: `temporal.${field} (default)` };
  };
  const address = pick('address', 'TEMPORAL_ADDRESS');
  const namespace = pick('namespace', 'TEMPORAL_NAMESPACE');

  const apiKey =
    temporal.apiKey !== undefined
      ? { value: temporal.apiKey, source: 'temporal.apiKey' }
      : fromEnv.apiKey !== undefined
        ? { value: fromEnv.apiKey, source: 'TEMPORAL_API_KEY' }
        : fileProfile.apiKey !== undefined && fileLabel
          ? { value: fileProfile.apiKey, source: `${fileLabel} (api_key)` }
          : undefined;

  // TLS layers, highest first.
  const layers: TlsLayer[] = [];
  if (temporal.tls) {
    const t = temporal.tls;
    layers.push({
      label: 'temporal.tls',
      ...(t.disabled !== undefined ? { disabled: t.disabled } : {}),
      ...(t.serverName !== undefined ? { serverName: t.serverName } : {}),
      ...(t.clientCertPath !== undefined ? { clientCert: { path: t.clientCertPath } } : {}),
      ...(t.clientKeyPath !== undefined ? { clientKey: { path: t.clientKeyPath } } : {}),
      ...(t.serverRootCACertPath !== undefined ? { serverCACert: { path: t.serverRootCACertPath } } : {}),
      names: { clientCert: 'temporal.tls.clientCertPath', clientKey: 'temporal.tls.clientKeyPath', serverCACert: 'temporal.tls.serverRootCACertPath', serverName: 'temporal.tls.serverName' },
    });
  }
  const envTls = tlsLayer('TEMPORAL_TLS*', (f, src) => `TEMPORAL_TLS_${f.toUpperCase()}${f === 'server_name' ? '' : src && 'data' in src ? '_DATA' : '_PATH'}`, fromEnv.tls);
  if (envTls) layers.push(envTls);
  const profTls = fileLabel ? tlsLayer(`${fileLabel} [tls]`, (f, src) => `${fileLabel} tls.${f}${f === 'server_name' ? '' : src && 'data' in src ? '_data' : '_path'}`, fileProfile.tls) : undefined;
  if (profTls) layers.push(profTls);

  const sources: TemporalConnectionSettings['sources'] = { address: address.source, namespace: namespace.source };
  let tls: TLSConfig | false = false;
  const decider = layers[0];
  const tlsOn = decider ? decider.disabled !== true : apiKey !== undefined;
  if (tlsOn) {
    const cfg: TLSConfig = {};
    const serverName = layers.find((l) => l.serverName !== undefined);
    if (serverName) {
      cfg.serverNameOverride = serverName.serverName!;
      sources.serverName = serverName.names.serverName;
    }
    const ca = layers.find((l) => l.serverCACert !== undefined);
    if (ca) {
      cfg.serverRootCACertificate = readSource(ca.serverCACert!, ca.names.serverCACert, 'certificate');
      sources.serverRootCACert = ca.names.serverCACert;
    }
    const pair = layers.find((l) => l.clientCert !== undefined || l.clientKey !== undefined);
    if (pair) {
      if (!pair.clientCert || !pair.clientKey) {
        const [has, lacks] = pair.clientCert ? [pair.names.clientCert, 'client key'] : [pair.names.clientKey, 'client certificate'];
        throw new Error(`${has} is set but no ${lacks} is (${pair.label}): mTLS needs the certificate and its key, or neither`);
      }
      cfg.clientCertPair = { crt: readSource(pair.clientCert, pair.names.clientCert, 'certificate'), key: readSource(pair.clientKey, pair.names.clientKey, 'private key') };
      sources.clientCert = pair.names.clientCert;
    }
    tls = cfg;
    sources.tls = decider ? decider.label : `on for the API key (${apiKey!.source})`;
  } else if (decider) {
    sources.tls = `${decider.label} (disabled)`;
  }

  let metadata: Record<string, string> | undefined;
  if (fileProfile.grpcMeta || fromEnv.grpcMeta || Object.keys(env).some((k) => k.startsWith('TEMPORAL_GRPC_META_'))) {
    metadata = { ...(fileProfile.grpcMeta ?? {}), ...(fromEnv.grpcMeta ?? {}) };
    for (const [k, v] of Object.entries(env)) if (k.startsWith('TEMPORAL_GRPC_META_') && v === '') delete metadata[grpcMetaKey(k.slice('TEMPORAL_GRPC_META_'.length))];
    if (Object.keys(metadata).length === 0) metadata = undefined;
    else sources.metadata = [fileProfile.grpcMeta && fileLabel ? `${fileLabel} (grpc_meta)` : undefined, fromEnv.grpcMeta ? 'TEMPORAL_GRPC_META_*' : undefined].filter(Boolean).join(' + ');
  }
  if (apiKey) sources.apiKey = apiKey.source;

  const connectOptions: TemporalConnectOptions = {
    address: address.value,
    tls,
    ...(apiKey ? { apiKey: apiKey.value } : {}),
    ...(metadata ? { metadata } : {}),
  };
  const settings: TemporalConnectionSettings = { address: address.value, namespace: namespace.value, connectOptions, sources, ...(fileLabel ? { profile: fileLabel } : {}) };
  // Logged or printed by mistake, the settings and their options still show no secret.
  for (const o of [settings, connectOptions] as object[]) {
    Object.defineProperty(o, 'toJSON', { value: () => describeTemporalConnection(settings), enumerable: false });
    Object.defineProperty(o, inspect.custom, { value: () => describeTemporalConnection(settings), enumerable: false });
  }
  return settings;
}

/**
 * The settings for a log line: address, namespace, TLS mode and where each part came from; the API key only as
 * `'set'`, metadata by header name, TLS material by its source (never its content).
 * @example log.info({ temporal: describeTemporalConnection(t) }, 'connecting to Temporal')
 */
export function describeTemporalConnection(s: TemporalConnectionSettings): Record<string, unknown> {
  const o = s.connectOptions;
  const tls = o.tls === false ? 'off' : o.tls.clientCertPair ? 'mTLS' : 'on';
  return {
    address: s.address,
    namespace: s.namespace,
    tls,
    ...(o.apiKey !== undefined ? { apiKey: 'set' } : {}),
    ...(o.metadata ? { metadata: Object.keys(o.metadata) } : {}),
    ...(s.profile ? { profile: s.profile } : {}),
    sources: s.sources,
  };
}

/**
 * The config key (or variable, or profile) that set the address, for "check …" in error messages:
 * `temporal.address` unless the address came from elsewhere.
 */
export function addressSource(s: TemporalConnectionSettings): string {
  return s.sources.address.replace(/ \(default\)$/, '');
}

/** Prefix of the Temporal SDK's own metric names (Runtime telemetry): apart from Ballast's `ballast_*`. */
export const SDK_METRIC_PREFIX = 'temporal_';

/**
 * The Runtime's telemetry options for `temporal.sdkMetricsAddress`: the SDK's metrics (worker polls, task slots,
 * schedule-to-start latencies, gRPC requests …) served for Prometheus at `http://<address>/metrics`, names prefixed
 * {@link SDK_METRIC_PREFIX}; without an address, none (the SDK's default: not exported).
 * @example Runtime.install({ telemetryOptions: sdkTelemetryOptions('127.0.0.1:9465') })
 */
export function sdkTelemetryOptions(sdkMetricsAddress: string | undefined): TelemetryOptions {
  if (!sdkMetricsAddress) return {};
  return { metrics: { metricPrefix: SDK_METRIC_PREFIX, prometheus: { bindAddress: sdkMetricsAddress } } };
}

/**
 * For a connection error: `' over TLS (<where TLS was turned on>)'` when TLS is on, else `''` (a plaintext server
 * reached with TLS, e.g. an API key exported for another deployment, fails with a handshake error).
 */
export function tlsHint(s: TemporalConnectionSettings): string {
  return s.connectOptions.tls === false ? '' : ` over TLS (${s.sources.tls ?? 'on'})`;
}
