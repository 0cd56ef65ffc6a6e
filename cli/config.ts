/**
 * `ballast config check -c FILE`: is this config ready to run? It validates the file (every issue, with its path,
 * e.g. `temporal.sdkMetricsAddress` on the host:port of `metrics.host` + `metrics.port`: config/schema.ts), then probes
 * what the file points at and prints one line per check, `✓` or `✗` with what it found:
 * - each EVM chain's RPC URLs, one by one (a fallback would hide a dead one): the chain id matches `chainId`, the
 *   latest block (and its age);
 * - each contract address of the chain (`contracts.*`, `wormhole.core` / `wormhole.adapter` when set) has code,
 *   read through the first URL that passed;
 * - each Solana chain's RPC (current slot) and that its accounts exist;
 * - Temporal (unless `--no-temporal`): it answers at `temporal.address` within `--timeout` (`getSystemInfo`, the
 *   server version) and `temporal.namespace` exists (`describeNamespace`).
 *
 * RPC URLs are printed as `scheme://host:port` only (they may carry API keys). Exit status: 0 when every check
 * passes, 1 otherwise (an invalid or missing file included), 2 for a usage error (no `-c`, a bad `--timeout`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { createPublicClient, http, type Address } from 'viem';
import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig, TEMPORAL_ENV_OVERRIDES, type BallastConfig, type ChainConfig, type SolanaChainConfig } from '../config/index.js';
import { redactRpcUrl, redactUrls, transportCause } from '../chains/evm/errors.js';
import { temporalConnectCause } from '../keeper/client.js';
import { addressSource, describeTemporalConnection, resolveTemporalConnection, tlsHint, type TemporalConnectionSettings } from '../keeper/temporalConnection.js';
import { errorLine, type CliContext, type CliIo } from './io.js';

/** One check's outcome: passed or not, and the line describing it (without the mark). */
export interface CheckLine {
  ok: boolean;
  text: string;
}

/** Options of {@link checkConfig}. */
export interface CheckConfigOptions {
  /** How long one probe (an RPC request, the Temporal connection, a Temporal call) may take, ms. */
  timeoutMs: number;
  /** Probe Temporal too (default true). */
  temporal?: boolean;
}

const mark = (l: CheckLine): string => `${l.ok ? '✓' : '✗'} ${l.text}`;

/** `err` as a short cause without URLs: the transport cause when the RPC did not answer, else the error's line. */
function rpcCause(err: unknown, timeoutMs: number): string {
  const t = transportCause(err, timeoutMs);
  return t !== undefined ? `unreachable: ${t}` : `error: ${redactUrls(errorLine(err))}`;
}

/** Resolves `p`, or rejects after `ms` (a probe that hangs must not hang the command). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Addresses of an EVM chain that must hold code, labelled by their config field. */
function contractAddresses(c: ChainConfig): [string, Address][] {
  const out: [string, Address][] = Object.entries(c.contracts).map(([role, a]) => [`contracts.${role}`, a]);
  if (c.wormhole) out.push(['wormhole.core', c.wormhole.core], ['wormhole.adapter', c.wormhole.adapter]);
  return out;
}

/** The checks of one EVM chain (`index`: its position in `chains`). */
async function checkEvmChain(c: ChainConfig, index: number, timeoutMs: number): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  let good: ReturnType<typeof createPublicClient> | undefined;
  for (const [i, url] of c.rpcUrls.entries()) {
    const label = `${c.key} rpcUrls[${i}] ${redactRpcUrl(url)}`;
    if (!/^https?:/i.test(url)) {
      lines.push({ ok: false, text: `${label}: the keeper talks to EVM RPCs over HTTP; give an http(s):// URL` });
      continue;
    }
    const client = createPublicClient({ transport: http(url, { timeout: timeoutMs, retryCount: 0 }) });
    try {
      const chainId = await client.getChainId();
      if (chainId !== c.chainId) {
        lines.push({ ok: false, text: `${label}: wrong chain: the RPC reports chain id ${chainId}, chains[${index}].chainId is ${c.chainId}` });
        continue;
      }
      const block = await client.getBlock({ blockTag: 'latest' });
      const ageSec = Math.max(0, Math.round(Date.now() / 1000 - Number(block.timestamp)));
      lines.push({ ok: true, text: `${label}: chain id ${chainId}, latest block ${block.number} (${ageSec} s old)` });
      good ??= client;
    } catch (err) {
      lines.push({ ok: false, text: `${label}: ${rpcCause(err, timeoutMs)}` });
    }
  }
  const addresses = contractAddresses(c);
  if (good === undefined) {
    lines.push({ ok: false, text: `${c.key} contracts: not checked (${addresses.length} addresses): no RPC URL of ${c.key} answered with chain id ${c.chainId}` });
    return lines;
  }
  const client = good;
  const codes = await Promise.all(
    addresses.map(([, address]) => client.getCode({ address }).then((code) => ({ code }), (err: unknown) => ({ err }))),
  );
  addresses.forEach(([field, address], i) => {
    const r = codes[i]!;
    const label = `${c.key} ${field} ${address}`;
    if ('err' in r) lines.push({ ok: false, text: `${label}: ${rpcCause(r.err, timeoutMs)}` });
    else if (r.code === undefined || r.code === '0x') lines.push({ ok: false, text: `${label}: no code at this address on chain ${c.chainId} (not deployed here, or a wrong address)` });
    else lines.push({ ok: true, text: `${label}: has code (${(r.code.length - 2) / 2} bytes)` });
  });
  return lines;
}

/** One Solana JSON-RPC call with a timeout; the `result`, or throws with the RPC's error message. */
async function solanaRpc(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new Error(body.error.message ?? 'JSON-RPC error');
  return body.result;
}

/** The checks of one Solana chain: the RPC answers (slot), and every configured account exists. */
async function checkSolanaChain(c: SolanaChainConfig, timeoutMs: number): Promise<CheckLine[]> {
  const label = `${c.key} rpcUrl ${redactRpcUrl(c.rpcUrl)}`;
  try {
    const slot = await solanaRpc(c.rpcUrl, 'getSlot', [{ commitment: c.commitment }], timeoutMs);
    const lines: CheckLine[] = [{ ok: true, text: `${label}: slot ${String(slot)} (${c.commitment})` }];
    const accounts = Object.entries(c.accounts);
    const r = (await solanaRpc(c.rpcUrl, 'getMultipleAccounts', [accounts.map(([, a]) => a), { encoding: 'base64', dataSlice: { offset: 0, length: 0 } }], timeoutMs)) as {
      value?: (unknown | null)[];
    };
    accounts.forEach(([role, a], i) => {
      const exists = r.value?.[i] !== null && r.value?.[i] !== undefined;
      lines.push({ ok: exists, text: `${c.key} accounts.${role} ${a}: ${exists ? 'exists' : 'no such account on this cluster'}` });
    });
    return lines;
  } catch (err) {
    const cause = err instanceof Error && err.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : (transportCause(err, timeoutMs) ?? redactUrls(errorLine(err)));
    return [{ ok: false, text: `${label}: unreachable: ${cause}` }];
  }
}

/** `(from BALLAST_TEMPORAL_…)` when the field was set by its environment variable. */
function fromEnv(field: keyof typeof TEMPORAL_ENV_OVERRIDES): string {
  const v = TEMPORAL_ENV_OVERRIDES[field];
  return (process.env[v] ?? '') !== '' ? ` (from ${v})` : '';
}

/** The Temporal checks: connect and `getSystemInfo` within the timeout, then `describeNamespace`. */
async function checkTemporal(config: BallastConfig, timeoutMs: number): Promise<CheckLine[]> {
  // The same resolution as the worker and the client: env-config profile, TLS/mTLS, API key (keeper/temporalConnection.ts).
  let settings: TemporalConnectionSettings;
  try {
    settings = resolveTemporalConnection(config.temporal);
  } catch (err) {
    return [{ ok: false, text: `temporal: ${err instanceof Error ? err.message : String(err)}` }];
  }
  const { address, namespace } = settings;
  const described = describeTemporalConnection(settings);
  // The key the address came from (a profile, TEMPORAL_ADDRESS); temporal.address when it is Ballast's own or its override.
  const source = fromEnv('address') ? 'temporal.address' : addressSource(settings);
  const label = `${source} ${address}${fromEnv('address')}${described.tls === 'off' ? '' : ` (TLS: ${String(described.tls)})`}${described.apiKey ? ' (API key set)' : ''}`;
  let connection: Connection;
  let gaveUp = false;
  const connect = Connection.connect({ ...settings.connectOptions, connectTimeout: timeoutMs });
  // Close a connection that arrives after the guard gave up, so no channel outlives the command.
  connect.then((c) => (gaveUp ? void c.close() : undefined), () => undefined);
  try {
    connection = await within(connect, timeoutMs + 1000, 'connect');
  } catch (err) {
    gaveUp = true;
    return [{ ok: false, text: `${label}: cannot connect within ${timeoutMs / 1000} s: ${temporalConnectCause(err)}${tlsHint(settings)} (is the server running? check ${addressSource(settings)})` }];
  }
  const conn = connection;
  try {
    const lines: CheckLine[] = [];
    const deadline = () => Date.now() + timeoutMs;
    try {
      const info = await conn.withDeadline(deadline(), () => conn.workflowService.getSystemInfo({}));
      lines.push({ ok: true, text: `${label}: Temporal server ${info.serverVersion || '(version not reported)'} answers (getSystemInfo)` });
    } catch (err) {
      lines.push({ ok: false, text: `${label}: getSystemInfo failed: ${temporalConnectCause(err)}` });
      return lines;
    }
    const nsLabel = `temporal.namespace ${namespace}${fromEnv('namespace')}`;
    try {
      const ns = await conn.withDeadline(deadline(), () => conn.workflowService.describeNamespace({ namespace }));
      const state = ns.namespaceInfo?.state;
      const registered = state === undefined || state === null || state === 1;
      lines.push({ ok: registered, text: `${nsLabel}: ${registered ? 'exists' : `exists but is not registered (state ${String(state)})`}` });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      lines.push({
        ok: false,
        text: code === 5 ? `${nsLabel}: no such namespace on ${address} (create it: temporal operator namespace create --namespace ${namespace})` : `${nsLabel}: describeNamespace failed: ${temporalConnectCause(err)}`,
      });
    }
    return lines;
  } finally {
    await conn.close();
  }
}

/**
 * Runs every check of `ballast config check` and prints one line per check through `io.out`.
 * @param file the config file (YAML or JSON).
 * @returns true when every check passed (the file is valid and every probe succeeded).
 * @example const ok = await checkConfig('deploy/ballast.yaml', { timeoutMs: 5000 }, processIo);
 */
export async function checkConfig(file: string, opts: CheckConfigOptions, io: CliIo): Promise<boolean> {
  let config: BallastConfig;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.out(mark({ ok: false, text: `config ${file}: ${err.issues.length} issue(s):` }));
    for (const line of err.message.split('\n')) io.out(`    ${line}`);
    return false;
  }
  const evm = config.chains.length;
  const sol = config.solana?.chains.length ?? 0;
  io.out(mark({ ok: true, text: `config ${file}: valid: deployment ${config.deployment}, asset ${config.asset.symbol} (${config.asset.decimals} decimals), ${evm} EVM chain(s)${sol ? `, ${sol} Solana chain(s)` : ''}` }));
  // Every probe runs at once (chains and Temporal); lines are printed in config order.
  const groups = await Promise.all([
    ...config.chains.map((c, i) => checkEvmChain(c, i, opts.timeoutMs)),
    ...(config.solana?.chains ?? []).map((c) => checkSolanaChain(c, opts.timeoutMs)),
    opts.temporal === false ? Promise.resolve([] as CheckLine[]) : checkTemporal(config, opts.timeoutMs),
  ]);
  let ok = true;
  for (const line of groups.flat()) {
    ok &&= line.ok;
    io.out(mark(line));
  }
  if (opts.temporal === false) io.out('- temporal: not checked (--no-temporal)');
  return ok;
}

const positiveSeconds = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 600) throw new InvalidArgumentError(`must be a number of seconds, 0 < s ≤ 600 (got "${v}")`);
  return n;
};

/**
 * Registers `config check` on `program`; it prints through `ctx.io` and sets `ctx.exitCode` (0 all checks passed,
 * 1 otherwise; usage errors exit 2 through commander).
 */
export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('check a config file before running the keeper');
  config
    .command('check')
    .description("validate a config file, then probe each chain's RPC URLs (chain id, latest block, code at every contract address) and Temporal (server, namespace); one line per check")
    .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--timeout <sec>', 'seconds each probe may take (an RPC request, the Temporal connection)', positiveSeconds, 5)
    .option('--no-temporal', 'skip the Temporal checks (RPCs only)')
    .action(async (o: { config: string; timeout: number; temporal: boolean }) => {
      const ok = await checkConfig(o.config, { timeoutMs: Math.round(o.timeout * 1000), temporal: o.temporal }, ctx.io);
      ctx.exitCode = ok ? 0 : 1;
    });
}
