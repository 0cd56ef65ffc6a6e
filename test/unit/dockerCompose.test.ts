/**
 * docker-compose.yml cannot be run here (no Docker engine); check what can be checked by reading it.
 * `docker compose config` validates it in .ci/run; test/unit/monitoring.test.ts checks the monitoring stack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { repoDir } from '../../config/fixtures.js';

interface Service { image?: string; build?: string; environment?: Record<string, string>; depends_on?: unknown; command?: string[] }

const compose = parse(fs.readFileSync(path.join(repoDir(), 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };

test('docker-compose.yml runs Temporal on PostgreSQL, the Web UI, the keeper worker built from this repo, Prometheus and Grafana', () => {
  const s = compose.services;
  assert.deepEqual(Object.keys(s).sort(), ['grafana', 'keeper', 'postgresql', 'prometheus', 'temporal', 'temporal-ui']);
  assert.match(s.postgresql!.image ?? '', /^postgres:/);
  assert.equal(s.temporal!.environment?.DB, 'postgres12');
  assert.equal(s.temporal!.environment?.POSTGRES_SEEDS, 'postgresql');
  assert.equal(s['temporal-ui']!.environment?.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.equal(s.keeper!.build, '.');
  assert.deepEqual(s.keeper!.command, ['worker', '--config', '/config/ballast.yaml']);
});

test('the keeper key comes from the host environment, never a literal in the compose file', () => {
  const key = compose.services.keeper!.environment?.BALLAST_KEEPER_PRIVATE_KEY ?? '';
  assert.match(key, /^\$\{BALLAST_KEEPER_PRIVATE_KEY(:\?[^}]*)?\}$/);
  assert.doesNotMatch(fs.readFileSync(path.join(repoDir(), 'docker-compose.yml'), 'utf8'), /0x[0-9a-fA-F]{64}/);
});

test('the Dockerfile starts the worker through the ballast CLI', () => {
  const dockerfile = fs.readFileSync(path.join(repoDir(), 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /ENTRYPOINT \["node", "bin\/ballast\.mjs"\]/);
  assert.ok(fs.existsSync(path.join(repoDir(), 'bin', 'ballast.mjs')));
});
