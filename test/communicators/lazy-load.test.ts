/**
 * Start-up contract: importing the function library and the communicator registry (which every
 * `validate` and `build` does) loads none of the heavy packages; each is loaded by the first call
 * that needs it. Checked in a fresh Node process that reports every package it loaded, through
 * `import` (a resolve hook) or `require` (require.cache).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const HEAVY = ['ssh2', 'yaml', 'uuid', 'ipaddr.js', 'bcryptjs', 'minimatch'];
const SRC = new URL('../../src/', import.meta.url);

/** Runs `body` (an ES module) in a fresh process; returns the packages it loaded, sorted. */
async function packagesLoadedBy(body: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'lazy-load-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `export async function resolve(spec, ctx, next) {
  const r = await next(spec, ctx);
  if (r.url.includes('/node_modules/')) process.stderr.write('LOADED ' + r.url + '\\n');
  return r;
}\n`,
    );
    const register = `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`;
    const script = `${body}
import { createRequire as __cr } from 'node:module';
for (const f of Object.keys(__cr(import.meta.url).cache)) process.stderr.write('LOADED ' + f + '\\n');`;
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script],
      { cwd: dir },
    );
    const names = new Set<string>();
    for (const m of stderr.matchAll(/^LOADED .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) names.add(m[1]!);
    return [...names].sort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('importing the function library and the communicator registry loads no heavy package', async () => {
  const loaded = await packagesLoadedBy(`
import ${JSON.stringify(new URL('functions/index.js', SRC).href)};
import ${JSON.stringify(new URL('communicators/registry.js', SRC).href)};`);
  assert.deepEqual(loaded.filter((p) => HEAVY.includes(p)), []);
});

test('calling the functions that need them loads yaml, uuid, ipaddr.js, bcryptjs and minimatch', async () => {
  const loaded = await packagesLoadedBy(`
import { yamlDecode } from ${JSON.stringify(new URL('functions/yaml.js', SRC).href)};
import { uuidv5 } from ${JSON.stringify(new URL('functions/uuid.js', SRC).href)};
import { cidrhost } from ${JSON.stringify(new URL('functions/ipnet.js', SRC).href)};
import { bcrypt } from ${JSON.stringify(new URL('functions/crypto.js', SRC).href)};
import { fileset } from ${JSON.stringify(new URL('functions/filesystem.js', SRC).href)};
import { Value } from ${JSON.stringify(new URL('values/value.js', SRC).href)};
const s = Value.string;
const ctx = { baseDir: process.cwd(), cwd: process.cwd() };
yamlDecode('a: 1');
uuidv5.impl([s('dns'), s('x')], ctx);
cidrhost.impl([s('10.0.0.0/8'), Value.number(3)], ctx);
bcrypt.impl([s('x'), Value.number(4)], ctx);
fileset.impl([s('.'), s('*')], ctx);`);
  assert.deepEqual(loaded.filter((p) => HEAVY.includes(p)), ['bcryptjs', 'ipaddr.js', 'minimatch', 'uuid', 'yaml']);
});
