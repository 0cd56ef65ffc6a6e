/**
 * Readiness of the keeper worker, served as `/readyz` by the metrics server (keeper/metrics.ts):
 * - `worker`: the Temporal worker is `RUNNING` (not starting, draining or stopped);
 * - `temporal`: the frontend answered `getSystemInfo` within the probe timeout;
 * - `chain:<key>`: the chain's RPC answered `eth_blockNumber` within the last `maxRpcAgeSec`.
 * Probes are cached for `cacheMs`, so a scrape storm does not become an RPC storm.
 */
import type { BallastMetrics, ReadinessCheck, ReadinessReport } from './metrics.js';
import { redactUrls, transportCause } from '../chains/evm/errors.js';

/** What {@link createReadiness} probes. */
export interface ReadinessSources {
  /** The worker's state (`Worker.getState()`), e.g. `RUNNING`, `STOPPING`. */
  workerState(): string;
  /** Resolves when Temporal answers (e.g. `connection.workflowService.getSystemInfo({})`). */
  temporalPing(): Promise<unknown>;
  /** Per chain key: resolves with the latest block number when the RPC answers. */
  chains: Record<string, () => Promise<bigint>>;
  /** `ballast_chain_rpc_up{chain}` and `ballast_ready` are set here when given. */
  metrics?: BallastMetrics;
}

/** Tuning of {@link createReadiness}. */
export interface ReadinessOptions {
  /** A chain is ready while its RPC answered within this many seconds. Default 30. */
  maxRpcAgeSec?: number;
  /** Timeout of one probe (Temporal or RPC), ms. Default 2000. */
  probeTimeoutMs?: number;
  /** Probe results are reused for this long, ms. Default 2000. */
  cacheMs?: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/**
 * Builds the `/readyz` function. Never throws: a failing probe is a failed check with its error.
 * @example
 *   const readiness = createReadiness({ workerState: () => worker.getState(), temporalPing: () => conn.workflowService.getSystemInfo({}), chains });
 *   await serveMetrics(metrics.registry, 9464, '0.0.0.0', { readiness });
 */
export function createReadiness(src: ReadinessSources, opts: ReadinessOptions = {}): () => Promise<ReadinessReport> {
  const maxRpcAgeMs = (opts.maxRpcAgeSec ?? 30) * 1000;
  const timeoutMs = opts.probeTimeoutMs ?? 2000;
  const cacheMs = opts.cacheMs ?? 2000;
  const now = opts.now ?? Date.now;
  const lastOk = new Map<string, { atMs: number; block: bigint }>();
  let temporal: { atMs: number; check: ReadinessCheck } | undefined;
  const lastChain = new Map<string, { atMs: number; error?: string }>();
  let inProgress: Promise<ReadinessReport> | undefined;

  const probe = async (): Promise<ReadinessReport> => {
    const t = now();
    const checks: Record<string, ReadinessCheck> = {};
    const state = src.workerState();
    checks.worker = { ok: state === 'RUNNING', detail: state };
    const jobs: Promise<void>[] = [];
    if (!temporal || t - temporal.atMs >= cacheMs) {
      jobs.push(
        withTimeout(src.temporalPing(), timeoutMs, 'Temporal').then(
          () => void (temporal = { atMs: t, check: { ok: true, detail: 'answered getSystemInfo' } }),
          (e: Error) => void (temporal = { atMs: t, check: { ok: false, detail: e.message } }),
        ),
      );
    }
    for (const [key, blockNumber] of Object.entries(src.chains)) {
      const prev = lastChain.get(key);
      if (prev && t - prev.atMs < cacheMs) continue;
      jobs.push(
        withTimeout(blockNumber(), timeoutMs, `${key} RPC`).then(
          (block) => {
            lastOk.set(key, { atMs: now(), block });
            lastChain.set(key, { atMs: t });
          },
          // The transport cause when there is one; never the RPC URL's path or query (API keys).
          (e: Error) => void lastChain.set(key, { atMs: t, error: redactUrls(transportCause(e) ?? e.message) }),
        ),
      );
    }
    await Promise.all(jobs);
    checks.temporal = temporal!.check;
    for (const key of Object.keys(src.chains)) {
      const ok = lastOk.get(key);
      const ageMs = ok ? now() - ok.atMs : Infinity;
      const fresh = ageMs <= maxRpcAgeMs;
      const err = lastChain.get(key)?.error;
      checks[`chain:${key}`] = {
        ok: fresh,
        detail: ok ? `answered ${(ageMs / 1000).toFixed(1)} s ago at block ${ok.block}${err ? `; last probe failed: ${err}` : ''}` : `never answered${err ? `: ${err}` : ''}`,
      };
      src.metrics?.rpcUp.set({ chain: key }, err ? 0 : 1);
    }
    const ready = Object.values(checks).every((c) => c.ok);
    src.metrics?.ready.set(ready ? 1 : 0);
    return { ready, checks };
  };

  return () => {
    inProgress ??= probe().finally(() => {
      inProgress = undefined;
    });
    return inProgress;
  };
}
