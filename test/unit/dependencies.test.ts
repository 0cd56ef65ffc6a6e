/**
 * The dependency split: what the keeper worker and the CLI import in production is in `dependencies`; the devnet,
 * compiler and test tools are in `devDependencies`, so `npm ci --omit=dev` gives a worker that starts and
 * `npm ls --omit=dev` lists no devnet or compiler package. Read from the sources' import graph and package-lock.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; engines?: { node?: string } }>;
};

/** What production runs: the CLI (bin + every command but `dev`), the worker, its workflows bundle and activities. */
const PRODUCTION_ROOTS = ['bin/ballast.mjs', 'cli/main.ts', 'keeper/worker.ts', 'workflows/index.ts', 'activities/index.ts'];
/** Dev-only modules a production module may reach only through a lazy import of a dev command (`ballast dev`). */
const DEV_ONLY_DIRS = ['devnet/dev.ts', 'test/', 'scripts/', 'contracts/compile.ts'];
/** devDependencies production code loads optionally, with a fallback when absent (and why). */
const OPTIONAL_IN_PRODUCTION: Record<string, string> = {
  '@resvg/resvg-js': 'backtest/chart.ts renders the PNG when present, else the report carries the SVG',
};
/** Packages the production closure must not contain (devnet chains, compilers, Solidity sources, test tools). */
const NOT_IN_PRODUCTION = [/^@foundry-rs\//, /^solc$/, /^litesvm/, /^@openzeppelin\//, /^@layerzerolabs\/(lz-evm-|oapp-evm|oft-evm)/, /^solidity-bytes-utils$/, /^hardhat/, /^@resvg\//, /^@temporalio\/testing$/, /^eslint/];
// typescript is in the production closure as a required peer dependency of @solana/spl-token's @solana/codecs
// (2.0.0-rc.1); npm installs required peers, and nothing of ours runs it in production.

const IMPORT_RE = /(?:^|[^\w.])(?:import|export)\s+(?!type\s)(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/gm;

/** Every module file reached from `roots` by non-type imports (relative paths resolved, `.js` → `.ts`), and the bare specifiers they import. */
function importGraph(roots: string[]): { files: Set<string>; bare: Map<string, string[]>; devEdges: string[] } {
  const files = new Set<string>();
  const bare = new Map<string, string[]>();
  const devEdges: string[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    const rel = queue.pop()!;
    if (files.has(rel)) continue;
    files.add(rel);
    const src = fs.readFileSync(path.join(ROOT, rel), 'utf8');
    for (const m of src.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.')) {
        let target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec));
        if (!fs.existsSync(path.join(ROOT, target)) || target.endsWith('.js')) target = target.replace(/\.js$/, '.ts');
        if (!fs.existsSync(path.join(ROOT, target))) continue; // a JSON or generated file read at run time
        if (DEV_ONLY_DIRS.some((d) => target.startsWith(d))) {
          devEdges.push(`${rel} -> ${target}`);
          continue;
        }
        if (/\.(ts|mjs|js)$/.test(target)) queue.push(target);
        continue;
      }
      if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) continue;
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
      bare.set(name, [...(bare.get(name) ?? []), rel]);
    }
  }
  return { files, bare, devEdges };
}

const graph = importGraph(PRODUCTION_ROOTS);

test('every package production code imports is a dependency (not only a devDependency)', () => {
  assert.ok(graph.files.size > 50, `the walk reached the keeper's modules (${graph.files.size} files)`);
  const wrong = [...graph.bare].filter(([name]) => !(name in pkg.dependencies) && !(name in OPTIONAL_IN_PRODUCTION)).map(([name, from]) => `${name} (imported by ${from.join(', ')})`);
  assert.deepEqual(wrong, []);
});

/**
 * Dependencies no module of ours imports, kept on purpose (and why). protobufjs: with it as a direct dependency npm
 * hoists ONE protobufjs@8 shared by @temporalio/common, proto and worker; without it npm hoists grpc's protobufjs@7
 * and nests a copy of 8 under each, and replaying a JSON history then fails (`historyFromJSON`: "type must be a Type").
 */
const KEPT_WITHOUT_IMPORT: Record<string, string> = {
  protobufjs: 'one protobufjs@8 copy for the Temporal packages (history replay)',
};

test('every dependency is imported by production code; everything else is a devDependency', () => {
  const unused = Object.keys(pkg.dependencies).filter((name) => !graph.bare.has(name) && !(name in KEPT_WITHOUT_IMPORT));
  assert.deepEqual(unused, [], 'dependencies nothing in production imports: move them to devDependencies or remove them');
  const both = Object.keys(pkg.dependencies).filter((name) => name in pkg.devDependencies);
  assert.deepEqual(both, []);
});

test('production code reaches the devnet only through the lazy import of `ballast dev`', () => {
  assert.deepEqual(graph.devEdges, ['cli/main.ts -> devnet/dev.ts']);
});

test('versions are pinned exactly, and the packages nothing imports are gone', () => {
  for (const [name, v] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) assert.match(v, /^\d+\.\d+\.\d+$/, `${name}@${v} is pinned`);
  for (const gone of ['@wormhole-foundation/sdk', '@openzeppelin/contracts-upgradeable']) {
    assert.ok(!(gone in pkg.dependencies) && !(gone in pkg.devDependencies), `${gone} is not a direct dependency`);
  }
});

test('the lock holds exactly one protobufjs@8, shared by the Temporal packages', () => {
  const copies = Object.entries(lock.packages).filter(([p, e]) => /(^|\/)node_modules\/protobufjs$/.test(p) && e.version?.startsWith('8.'));
  assert.deepEqual(copies.map(([p]) => p), ['node_modules/protobufjs']);
});

test('the production closure of the lock (npm ls --omit=dev) holds no devnet, compiler or test package', () => {
  const prod = Object.entries(lock.packages)
    .filter(([p, e]) => p.startsWith('node_modules/') && !e.dev)
    .map(([p]) => p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length));
  assert.ok(prod.includes('@temporalio/worker') && prod.includes('viem'), 'the keeper is in it');
  assert.deepEqual(prod.filter((n) => NOT_IN_PRODUCTION.some((re) => re.test(n))), []);
});

test('engines.node is the real minimum: no installed package needs a newer Node', () => {
  const min = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
  assert.ok(min, `engines.node is ">=X.Y.Z" (got ${pkg.engines.node})`);
  const minV = min.slice(1).map(Number);
  const lower = (spec: string): number[] | undefined => {
    // The smallest version a range accepts at or above our minimum major (npm semver's range forms used in the lock).
    const parts = spec.split('||').map((s) => s.trim());
    const lows = parts.map((part) => {
      const m = /^(?:>=\s*|\^)?(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?/.exec(part.replace(/^v/, ''));
      return m ? [Number(m[1]), Number(m[2] === 'x' ? 0 : (m[2] ?? 0)), Number(m[3] === 'x' ? 0 : (m[3] ?? 0))] : undefined;
    });
    const ok = lows.filter((l): l is number[] => !!l && (parts.length === 1 || l[0] === minV[0] || l[0]! > minV[0]!));
    return ok.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!)[0];
  };
  const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  const tooNew: string[] = [];
  let needed = [0, 0, 0];
  for (const [p, e] of Object.entries(lock.packages)) {
    const spec = e.engines?.node;
    if (!p.startsWith('node_modules/') || !spec || spec === '*') continue;
    const l = lower(spec);
    if (!l) continue;
    if (cmp(l, minV) > 0) tooNew.push(`${p}@${e.version} needs node ${spec}`);
    if (cmp(l, needed) > 0) needed = l;
  }
  assert.deepEqual(tooNew, []);
  assert.deepEqual(minV, needed, `engines.node (${pkg.engines.node}) is the highest minimum any package needs (${needed.join('.')})`);
});
