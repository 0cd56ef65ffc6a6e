/**
 * The monitoring stack of docker-compose.yml: Prometheus scrapes the keeper, the alert rules and the
 * Grafana dashboard only name metrics the keeper really exports (keeper/metrics.ts), the provisioning
 * paths match the compose mounts, and — where the tools exist — promtool and docker compose accept the files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoDir } from '../../config/fixtures.js';
import { BallastMetrics, MAX_LP_SERIES, SAGA_LEGS } from '../../keeper/metrics.js';
import { sampleMetrics } from '../../scripts/metrics-sample.js';

const root = repoDir();
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const promConfig = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[] };
const alerts = parse(read('deploy/prometheus/alerts.yml')) as { groups: { name: string; rules: { alert: string; expr: string; labels: { severity: string } }[] }[] };
const rules = alerts.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read('deploy/grafana/dashboards/ballast.json')) as { uid: string; panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[] };
const compose = parse(read('docker-compose.yml')) as { services: Record<string, { volumes?: string[]; command?: string[]; healthcheck?: { test: string[] }; stop_grace_period?: string }> };

/** Every sample name the keeper's registry exposes (histograms: _bucket, _sum, _count). */
async function exportedNames(): Promise<Set<string>> {
  const m = new BallastMetrics(true);
  const names = new Set<string>();
  for (const x of await m.registry.getMetricsAsJSON()) {
    names.add(x.name);
    if (String(x.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(x.name + s);
  }
  return names;
}

const referenced = (expr: string) => [...expr.matchAll(/\bballast_[a-z_]+/g)].map((m) => m[0]);

const which = (cmd: string): string | undefined => {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) if (dir && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  return undefined;
};

test('Prometheus scrapes the keeper at keeper:9464/metrics and loads alerts.yml', () => {
  const keeper = promConfig.scrape_configs.find((s) => s.job_name === 'ballast-keeper');
  assert.ok(keeper, 'a ballast-keeper scrape job');
  assert.equal(keeper.metrics_path ?? '/metrics', '/metrics');
  assert.deepEqual(keeper.static_configs.flatMap((c) => c.targets), ['keeper:9464']);
  assert.deepEqual(promConfig.rule_files, ['alerts.yml']);
  assert.ok(compose.services.prometheus?.volumes?.includes('./deploy/prometheus:/etc/prometheus:ro'));
  assert.ok(compose.services.prometheus?.command?.includes('--config.file=/etc/prometheus/prometheus.yml'));
});

test('the alert rules cover stranded rebalances, stale oracles, ledger mismatch, stuck legs and cap breaches, each with a severity', () => {
  const names = rules.map((r) => r.alert);
  for (const a of ['BallastRebalanceStranded', 'BallastOracleStale', 'BallastLedgerMismatch', 'BallastLegStuck', 'BallastCapBreached']) assert.ok(names.includes(a), `alert ${a}`);
  for (const r of rules) assert.match(r.labels.severity, /^(critical|warning)$/, r.alert);
});

test('every ballast_* metric named by an alert rule or a dashboard panel is exported by keeper/metrics.ts', async () => {
  const exported = await exportedNames();
  const used = [...rules.map((r) => [r.alert, r.expr] as const), ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ['dashboard', t.expr] as const))];
  assert.ok(used.length > 20);
  for (const [where, expr] of used) for (const name of referenced(expr)) assert.ok(exported.has(name), `${where}: ${name} is not exported by keeper/metrics.ts (expr: ${expr})`);
});

test('Grafana is provisioned with the Prometheus datasource the dashboard panels use, from the folders compose mounts', () => {
  const ds = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string; type: string }[] };
  assert.equal(ds.datasources[0]!.type, 'prometheus');
  assert.equal(ds.datasources[0]!.url, 'http://prometheus:9090');
  for (const p of dashboard.panels.filter((x) => x.type !== 'row')) assert.equal(p.datasource?.uid, ds.datasources[0]!.uid);
  const provider = parse(read('deploy/grafana/provisioning/dashboards/ballast.yml')) as { providers: { options: { path: string } }[] };
  const vols = compose.services.grafana?.volumes ?? [];
  assert.ok(vols.includes(`./deploy/grafana/dashboards:${provider.providers[0]!.options.path}:ro`), vols.join(', '));
  assert.ok(vols.includes('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro'));
});

test('the keeper service is health-checked on /readyz and given time to drain on stop', () => {
  const k = compose.services.keeper!;
  assert.ok(k.healthcheck?.test.join(' ').includes('/readyz'));
  assert.equal(k.stop_grace_period, '45s');
});

test('promtool accepts the Prometheus config and the alert rules, and the rule unit tests pass', (t) => {
  const promtool = which('promtool');
  if (!promtool) return t.skip('promtool not installed (Debian package prometheus; .ci/run installs it)');
  for (const args of [['check', 'config', 'deploy/prometheus/prometheus.yml'], ['check', 'rules', 'deploy/prometheus/alerts.yml'], ['test', 'rules', 'deploy/prometheus/alerts.test.yml']]) {
    const r: SpawnSyncReturns<string> = spawnSync(promtool, args, { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  }
});

test('docker compose config accepts docker-compose.yml (with the required variables set)', (t) => {
  const local = path.join(root, '.tools', 'bin', 'docker-compose');
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  const [cmd, pre] = plugin ? ['docker', ['compose']] : fs.existsSync(local) ? [local, []] : [undefined, []];
  if (!cmd) return t.skip('no docker compose client (bash scripts/install-compose.sh installs one)');
  const env = { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: 'unused', GRAFANA_ADMIN_PASSWORD: 'unused' };
  const ok = spawnSync(cmd, [...pre, 'config', '--quiet'], { cwd: root, encoding: 'utf8', env });
  assert.equal(ok.status, 0, ok.stderr);
  const missing = spawnSync(cmd, [...pre, 'config', '--quiet'], { cwd: root, encoding: 'utf8', env: { ...env, GRAFANA_ADMIN_PASSWORD: '' } });
  assert.notEqual(missing.status, 0, 'the Grafana admin password is required from the environment');
  assert.match(missing.stderr, /GRAFANA_ADMIN_PASSWORD/);
});

/** The samples of `name` in exposition `text`, each as its label map and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line);
    if (m) out.push({ labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])), value: Number(m[2]) });
  }
  return out;
}

test('/metrics names are promtool-clean: counters end in _total, no other type does, units in the name, no doubled process_ prefix', async (t) => {
  const { text } = await sampleMetrics();
  const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => ({ name: m[1]!, type: m[2]! }));
  assert.ok(types.length > 40, `${types.length} metric families`);
  for (const { name, type } of types) {
    assert.match(name, /^ballast_[a-z0-9_]+$/, name);
    if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
    else assert.doesNotMatch(name, /_total$/, `${type} ${name} must not end in _total`);
  }
  const names = types.map((x) => x.name);
  assert.ok(!names.some((n) => n.startsWith('ballast_process_process_')), 'no doubled prefix');
  for (const n of ['ballast_process_cpu_seconds_total', 'ballast_process_resident_memory_bytes', 'ballast_nodejs_heap_size_used_bytes']) assert.ok(names.includes(n), n);
  for (const n of ['ballast_bridge_fee_paid_wei_total', 'ballast_lp_fees_wei_total', 'ballast_lp_moved_tokens_total', 'ballast_idle_tokens', 'ballast_inflight_tokens', 'ballast_custody_tokens']) assert.ok(names.includes(n), n);
  for (const old of ['ballast_bridge_fee_paid', 'ballast_idle_balance', 'ballast_inflight_amount', 'ballast_custody_balance', 'ballast_lp_moved_total']) assert.ok(!names.includes(old), `${old} is renamed`);
  const promtool = which('promtool');
  if (!promtool) return t.skip('promtool not installed (Debian package prometheus; .ci/run installs it): the name checks above ran');
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
});

test('series covering both saga kinds carry kind=collateral|capacity; every leg of both kinds has an SLO, deliver per bridge from its own deadline', async () => {
  const { text } = await sampleMetrics({ layerzero: 240, wormhole: 1500 });
  for (const name of ['ballast_rebalances_total', 'ballast_rebalances_started_total', 'ballast_bridge_fee_paid_wei_total', 'ballast_leg_duration_seconds_count', 'ballast_leg_in_progress_seconds', 'ballast_leg_slo_seconds']) {
    const xs = samples(text, name);
    assert.ok(xs.length > 0, name);
    for (const x of xs) assert.match(x.labels.kind ?? '', /^(collateral|capacity)$/, `${name} ${JSON.stringify(x.labels)}`);
  }
  const slo = samples(text, 'ballast_leg_slo_seconds');
  const sloOf = (kind: string, leg: string, bridge?: string) => slo.find((x) => x.labels.kind === kind && x.labels.leg === leg && x.labels.bridge === bridge)?.value;
  assert.equal(sloOf('collateral', 'deliver', 'layerzero'), 240);
  assert.equal(sloOf('collateral', 'deliver', 'wormhole'), 1500, "Wormhole's deliver SLO is wormhole.deliveryDeadlineSec, not LayerZero's");
  assert.equal(sloOf('capacity', 'deliver', 'layerzero'), 240);
  assert.equal(sloOf('capacity', 'deliver', 'wormhole'), 1500);
  for (const kind of ['collateral', 'capacity'] as const) {
    for (const l of SAGA_LEGS[kind]) {
      for (const bridge of l.overBridge ? (l.bridges ?? ['layerzero', 'wormhole']) : [undefined]) assert.ok(sloOf(kind, l.leg, bridge) !== undefined, `SLO of ${kind} ${l.leg} ${bridge ?? ''}`);
    }
  }
  for (const leg of ['reserve', 'restore', 'apply', 'return-apply']) assert.equal(sloOf('capacity', leg), 120, `capacity ${leg}`);
  // Each running leg's series has an SLO series with the same (kind, bridge, leg): the BallastLegStuck join finds it.
  const running = samples(text, 'ballast_leg_in_progress_seconds');
  assert.equal(running.length, SAGA_LEGS.collateral.length + SAGA_LEGS.capacity.length);
  for (const r of running) assert.ok(sloOf(r.labels.kind!, r.labels.leg!, r.labels.bridge) !== undefined, `SLO for ${JSON.stringify(r.labels)}`);
  const rule = rules.find((r) => r.alert === 'BallastLegStuck')!;
  assert.match(rule.expr, /on\(job, instance, kind, bridge, leg\)/);
});

test(`the lp label is bounded: past ${MAX_LP_SERIES} LPs their amounts count under lp="other"`, async () => {
  const m = new BallastMetrics(false);
  for (let i = 0; i < MAX_LP_SERIES + 50; i++) {
    const lp = m.lpLabel(`0x${i.toString(16).padStart(40, '0').toUpperCase()}`);
    m.lpMoved.inc({ lp }, 1);
    m.lpFeesWei.inc({ lp }, 10);
  }
  assert.equal(m.lpLabel(`0x${'0'.repeat(40)}`), `0x${'0'.repeat(40)}`, 'an LP already counted keeps its own series (lower case)');
  const text = await m.registry.metrics();
  const moved = samples(text, 'ballast_lp_moved_tokens_total');
  assert.equal(moved.length, MAX_LP_SERIES + 1);
  assert.equal(moved.find((x) => x.labels.lp === 'other')?.value, 50);
  assert.equal(samples(text, 'ballast_lp_fees_wei_total').length, MAX_LP_SERIES + 1);
});
