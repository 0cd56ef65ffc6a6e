/**
 * docker-compose.yml cannot be run here (no Docker engine); check what can be checked by reading it: Temporal on the
 * plain server image after a schema job and with a namespace job (no deprecated auto-setup), Alertmanager routing the
 * critical alerts to a webhook, and every metric the dashboard and the alert rules name exported by keeper/metrics.ts.
 * `docker compose config` validates it in .ci/run; test/unit/monitoring.test.ts checks the rest of the monitoring stack.
 * Offline and fast: promtool / amtool / docker compose run only where installed (PATH or .tools/bin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { repoDir } from '../../config/fixtures.js';
import { BallastMetrics } from '../../keeper/metrics.js';

interface Healthcheck { test: string[] }
interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  configs?: { source: string; target: string }[];
  healthcheck?: Healthcheck;
}
interface Compose { services: Record<string, Service>; configs?: Record<string, { content?: string; file?: string }>; volumes?: Record<string, unknown> }
interface Route { receiver?: string; matchers?: string[]; match?: Record<string, string>; group_by?: string[]; group_wait?: string; group_interval?: string; repeat_interval?: string; routes?: Route[] }
interface Receiver { name: string; webhook_configs?: { url?: string; url_file?: string; send_resolved?: boolean }[] }
interface Panel { type: string; title?: string; targets?: { expr: string }[]; panels?: Panel[] }

const root = repoDir();
const read = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
const composeText = read('docker-compose.yml');
const compose = parse(composeText) as Compose;
const s = compose.services;
const alerts = parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[] };
const rules = alerts.groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(read('deploy/grafana/dashboards/ballast.json')) as { panels: Panel[]; templating: { list: { name: string; query: string | { query: string }; definition?: string }[] } };
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

const dependsOn = (svc: Service, on: string): string | undefined => {
  const d = svc.depends_on;
  if (Array.isArray(d)) return d.includes(on) ? 'service_started' : undefined;
  return d?.[on] ? (d[on]!.condition ?? 'service_started') : undefined;
};
/** The shell script a one-shot job runs (entrypoint `sh -euc`, the script as the command). */
const script = (svc: Service) => (svc.command ?? []).join('\n');

/** A tool on PATH or in <repo>/.tools/bin. */
const which = (cmd: string): string | undefined => {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), path.join(root, '.tools', 'bin')]) if (dir && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  return undefined;
};

test('docker-compose.yml runs Temporal on PostgreSQL (schema job, server, namespace job), the Web UI, the keeper built from this repo, Prometheus, Alertmanager and Grafana', () => {
  assert.deepEqual(Object.keys(s).sort(), ['alertmanager', 'grafana', 'keeper', 'postgresql', 'prometheus', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui']);
  assert.match(s.postgresql!.image ?? '', /^postgres:/);
  assert.equal(s.temporal!.environment?.DB, 'postgres12');
  assert.equal(s.temporal!.environment?.POSTGRES_SEEDS, 'postgresql');
  assert.equal(s['temporal-ui']!.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.equal(s.keeper!.build, '.');
  assert.deepEqual(s.keeper!.command, ['worker', '--config', '/config/ballast.yaml']);
});

test('every image is pinned to a version; none is the deprecated temporalio/auto-setup', () => {
  for (const [name, svc] of Object.entries(s)) {
    if (svc.build) continue;
    assert.match(svc.image ?? '', /^[a-z0-9./-]+:v?\d+(\.\d+)*$/, `${name}: ${svc.image} pinned to a version tag`);
  }
  for (const [name, svc] of Object.entries(s)) assert.doesNotMatch(svc.image ?? '', /auto-setup/, `${name}: no auto-setup image (deprecated; its schema setup is the temporal-schema job)`);
  assert.match(s.temporal!.image!, /^temporalio\/server:\d+\.\d+\.\d+$/);
  const tag = s.temporal!.image!.split(':')[1];
  for (const job of ['temporal-schema', 'temporal-namespace']) assert.equal(s[job]!.image, `temporalio/admin-tools:${tag}`, `${job}: admin-tools of the server's release`);
});

test('the Temporal server starts only after the schema job completed successfully; the job creates and migrates both databases with temporal-sql-tool', () => {
  assert.equal(dependsOn(s.temporal!, 'temporal-schema'), 'service_completed_successfully');
  const job = s['temporal-schema']!;
  assert.equal(dependsOn(job, 'postgresql'), 'service_healthy');
  assert.equal(job.environment?.SQL_PLUGIN, 'postgres12');
  assert.equal(job.environment?.SQL_HOST, 'postgresql');
  assert.deepEqual(job.entrypoint, ['/bin/sh', '-euc'], 'the script stops at the first failing step');
  const sh = script(job);
  for (const [db, dir] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    const steps = [`temporal-sql-tool --db ${db} create`, `temporal-sql-tool --db ${db} setup-schema -v 0.0`, `temporal-sql-tool --db ${db} update-schema -d /etc/temporal/schema/postgresql/v12/${dir}/versioned`];
    const at = steps.map((x) => sh.indexOf(x));
    for (let i = 0; i < steps.length; i++) assert.ok(at[i]! >= 0, `${steps[i]} in:\n${sh}`);
    assert.ok(at[0]! < at[1]! && at[1]! < at[2]!, `${db}: create, then setup-schema, then update-schema`);
  }
  // The server reads its config from the environment (the image's embedded template) and the mounted dynamic config.
  const env = s.temporal!.environment!;
  assert.equal(env.BIND_ON_IP, '0.0.0.0');
  const dyn = env.DYNAMIC_CONFIG_FILE_PATH!;
  const mount = (s.temporal!.volumes ?? []).find((v) => v.startsWith('./deploy/temporal/'))!;
  const [host, target] = mount.split(':');
  assert.ok(dyn.startsWith(`${target}/`), `${dyn} is in the mounted ${target}`);
  const file = path.join(root, host!, path.basename(dyn));
  assert.ok(fs.existsSync(file), file);
  assert.ok(parse(fs.readFileSync(file, 'utf8')), 'the dynamic config is YAML');
  assert.ok(s.temporal!.healthcheck?.test.join(' ').includes('7233'), 'a health check on the frontend port');
});

test('the default namespace is created by a one-shot temporal CLI job once the server is healthy; the UI and the keeper wait for it', () => {
  const job = s['temporal-namespace']!;
  assert.equal(dependsOn(job, 'temporal'), 'service_healthy');
  assert.equal(job.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  const sh = script(job);
  assert.match(sh, /temporal operator cluster health/);
  assert.match(sh, /temporal operator namespace describe --namespace default[^\n]*\n?\s*\|\| temporal operator namespace create --namespace default/, 'idempotent: create only when describe fails');
  assert.equal(dependsOn(s.keeper!, 'temporal-namespace'), 'service_completed_successfully');
  assert.equal(dependsOn(s['temporal-ui']!, 'temporal'), 'service_healthy');
});

test('the keeper key comes from the host environment, never a literal in the compose file', () => {
  const key = s.keeper!.environment?.BALLAST_KEEPER_PRIVATE_KEY ?? '';
  assert.match(key, /^\$\{BALLAST_KEEPER_PRIVATE_KEY(:\?[^}]*)?\}$/);
  assert.doesNotMatch(composeText, /0x[0-9a-fA-F]{64}/);
});

test('the Dockerfile starts the worker through the ballast CLI', () => {
  const dockerfile = read('Dockerfile');
  assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/ballast\.mjs"\]/);
  assert.ok(fs.existsSync(path.join(root, 'bin', 'ballast.mjs')));
});

/** Does an Alertmanager route's matchers (`label="v"`, `=~`, `!=`, `!~`, or the older `match:` map) match these labels? */
function routeMatches(r: Route, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(r.match ?? {})) if (labels[k] !== v) return false;
  for (const m of r.matchers ?? []) {
    const x = /^\s*([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$/.exec(m);
    assert.ok(x, `matcher ${m}`);
    const [, k, op, v] = x;
    const have = labels[k!] ?? '';
    const re = new RegExp(`^(?:${v})$`);
    const ok = op === '=' ? have === v : op === '!=' ? have !== v : op === '=~' ? re.test(have) : !re.test(have);
    if (!ok) return false;
  }
  return true;
}

test('Alertmanager: pinned service with its config from deploy/alertmanager; critical alerts go to a webhook from BALLAST_ALERT_WEBHOOK_URL, the rest to a default receiver', () => {
  const am = s.alertmanager!;
  assert.match(am.image ?? '', /^prom\/alertmanager:v\d+\.\d+\.\d+$/);
  assert.ok(am.volumes?.includes('./deploy/alertmanager:/etc/alertmanager:ro'), (am.volumes ?? []).join(', '));
  assert.ok(am.command?.includes('--config.file=/etc/alertmanager/alertmanager.yml'));
  assert.ok(fs.existsSync(path.join(root, 'deploy/alertmanager/alertmanager.yml')));
  const cfg = parse(read('deploy/alertmanager/alertmanager.yml')) as { route: Route; receivers: Receiver[] };
  const receivers = new Map(cfg.receivers.map((r) => [r.name, r]));
  for (const r of [cfg.route, ...(cfg.route.routes ?? [])]) assert.ok(receivers.has(r.receiver!), `receiver ${r.receiver} is defined`);
  for (const k of ['group_by', 'group_wait', 'group_interval', 'repeat_interval'] as const) assert.ok(cfg.route[k], `the root route sets ${k}`);

  const critical = (cfg.route.routes ?? []).find((r) => routeMatches(r, { severity: 'critical' }));
  assert.ok(critical, 'a child route for severity="critical"');
  assert.notEqual(critical.receiver, cfg.route.receiver, 'critical alerts have their own receiver');
  for (const k of ['group_wait', 'group_interval', 'repeat_interval'] as const) assert.ok(critical[k], `the critical route sets ${k} on purpose`);
  // Every alert rule lands where its severity says: the first matching child route, else the root's receiver.
  const receiverOf = (labels: Record<string, string>) => (cfg.route.routes ?? []).find((r) => routeMatches(r, labels))?.receiver ?? cfg.route.receiver;
  assert.ok(rules.some((r) => r.labels.severity === 'critical'));
  for (const r of rules) assert.equal(receiverOf({ alertname: r.alert, ...r.labels }), r.labels.severity === 'critical' ? critical.receiver : cfg.route.receiver, r.alert);

  // The webhook URL: read from a file compose fills from the host's BALLAST_ALERT_WEBHOOK_URL, never a literal here.
  const hooks = receivers.get(critical.receiver!)!.webhook_configs ?? [];
  assert.equal(hooks.length, 1);
  assert.equal(hooks[0]!.url, undefined, 'no URL literal in the repo');
  const mounted = (am.configs ?? []).find((c) => c.target === hooks[0]!.url_file);
  assert.ok(mounted, `compose mounts ${hooks[0]!.url_file}`);
  assert.match(compose.configs?.[mounted.source]?.content ?? '', /^\$\{BALLAST_ALERT_WEBHOOK_URL:-https?:\/\/[^}]+\}$/, 'from the environment, with a placeholder default');
  assert.ok(compose.volumes && 'alertmanager-data' in compose.volumes);
});

test('Prometheus sends its alerts to the compose Alertmanager', () => {
  const prom = parse(read('deploy/prometheus/prometheus.yml')) as { alerting?: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
  const targets = (prom.alerting?.alertmanagers ?? []).flatMap((a) => a.static_configs.flatMap((c) => c.targets));
  assert.deepEqual(targets, ['alertmanager:9093']);
  assert.equal(dependsOn(s.prometheus!, 'alertmanager'), 'service_started');
});

test('every ballast_* name in the dashboard (panels and variables) and in alerts.yml is a metric keeper/metrics.ts registers', async () => {
  const registered = new Set<string>();
  for (const m of await new BallastMetrics(true).registry.getMetricsAsJSON()) {
    registered.add(m.name); // counters are registered with their _total
    if (String(m.type) === 'histogram') for (const x of ['_bucket', '_sum', '_count']) registered.add(m.name + x);
  }
  const exprs: [string, string][] = [
    ...rules.map((r) => [`alert ${r.alert}`, r.expr] as [string, string]),
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => [`panel "${p.title}"`, t.expr] as [string, string])),
    ...dashboard.templating.list.map((v) => [`variable $${v.name}`, typeof v.query === 'string' ? v.query : v.query.query] as [string, string]),
  ];
  assert.ok(exprs.length > 40, `${exprs.length} expressions`);
  const unknown: string[] = [];
  for (const [where, expr] of exprs) for (const [name] of expr.matchAll(/\bballast_[a-z0-9_]+/g)) if (!registered.has(name)) unknown.push(`${where}: ${name}`);
  assert.deepEqual(unknown, []);
});

test('the dashboard has chain and route variables over ballast_ metrics and panels for the planner, caps, LPs, capacity moves and Solana', () => {
  const vars = new Map(dashboard.templating.list.map((v) => [v.name, typeof v.query === 'string' ? v.query : v.query.query]));
  assert.match(vars.get('chain') ?? '', /^label_values\(ballast_[a-z0-9_]+, chain\)$/);
  assert.match(vars.get('route') ?? '', /^label_values\(ballast_[a-z0-9_]+, route\)$/);
  const all = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
  assert.match(all, /\$chain|\$\{chain/);
  assert.match(all, /\$route|\$\{route/);
  for (const name of ['ballast_plan_gap_ratio', 'ballast_plan_fees_planned', 'ballast_cap_frozen', 'ballast_cap_base_units', 'ballast_lp_moved_tokens_total', 'ballast_lp_fees_wei_total', 'ballast_solana_slot', 'ballast_pyth_confidence_ratio', 'ballast_custody_tokens']) {
    assert.ok(all.includes(name), `a panel shows ${name}`);
  }
  assert.match(all, /kind="capacity"/, 'capacity-move panels');
  for (const row of ['Planner', 'Caps', 'LPs', 'Solana']) assert.ok(panels.some((p) => p.type === 'row' && p.title?.startsWith(row)), `row ${row}`);
});

test('promtool accepts prometheus.yml, alerts.yml and every dashboard query; amtool accepts alertmanager.yml (where installed)', (t) => {
  const promtool = which('promtool');
  if (!promtool) return t.skip('promtool not installed (Debian package prometheus)');
  for (const args of [['check', 'config', 'deploy/prometheus/prometheus.yml'], ['check', 'rules', 'deploy/prometheus/alerts.yml']]) {
    const r: SpawnSyncReturns<string> = spawnSync(promtool, args, { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  }
  // The dashboard's queries as recording rules (Grafana's variables replaced by "match all"): promtool parses each.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ballast-dash-'));
  try {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr.replace(/\$\{(chain|route)(:regex)?\}|\$(chain|route)\b/g, '.*')));
    const file = path.join(dir, 'dashboard-queries.yml');
    fs.writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) }] }));
    const r: SpawnSyncReturns<string> = spawnSync(promtool, ['check', 'rules', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, `dashboard queries:\n${r.stdout}${r.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const amtool = which('amtool');
  if (amtool) {
    const r: SpawnSyncReturns<string> = spawnSync(amtool, ['check-config', 'deploy/alertmanager/alertmanager.yml'], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, `amtool check-config:\n${r.stdout}${r.stderr}`);
  }
});

test('docker compose renders the critical webhook URL from BALLAST_ALERT_WEBHOOK_URL (where a compose client is installed)', (t) => {
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
  const local = which('docker-compose');
  const [cmd, pre] = plugin ? ['docker', ['compose']] : local ? [local, []] : [undefined, []];
  if (!cmd) return t.skip('no docker compose client (bash scripts/install-compose.sh installs one)');
  const env = { ...process.env, BALLAST_KEEPER_PRIVATE_KEY: 'unused', GRAFANA_ADMIN_PASSWORD: 'unused', BALLAST_ALERT_WEBHOOK_URL: 'https://pager.example/hook?token=t0' };
  const r: SpawnSyncReturns<string> = spawnSync(cmd, [...pre, 'config', '--format', 'json'], { cwd: root, encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  const rendered = JSON.parse(r.stdout) as Compose;
  const source = s.alertmanager!.configs![0]!.source;
  assert.equal(rendered.configs?.[source]?.content, 'https://pager.example/hook?token=t0');
});
