/**
 * Captures the ConfigSpec (gob) of every component a Packer 1.x executable serves, into
 * test/fixtures/plugins/packer-VERSION-configspecs.json.gz ({ "KIND/NAME": base64 gob }), for the
 * decoder's fixture test. Components the executable lacks are left out.
 *
 *   node dist/scripts/capture-plugin-specs.js [/usr/bin/packer]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PluginClient } from '../src/plugins/client.js';
import { SERVICE, type PluginKind } from '../src/plugins/component.js';
import { PACKER_1_6_COMPONENTS } from '../src/plugins/discovery.js';
import { bytesToBuffer, field } from '../src/plugins/rpc.js';

const packer = process.argv[2] ?? '/usr/bin/packer';
const version = /(\d+\.\d+\.\d+)/.exec(execFileSync(packer, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
const socketDir = mkdtempSync(join(tmpdir(), 'capture-specs-'));
const out: Record<string, string> = {};
const jobs = (Object.keys(PACKER_1_6_COMPONENTS) as PluginKind[]).flatMap((kind) => PACKER_1_6_COMPONENTS[kind].map((name) => ({ kind, name })));

async function capture({ kind, name }: { kind: PluginKind; name: string }): Promise<void> {
  let client: PluginClient | undefined;
  try {
    client = await PluginClient.start(name, { command: packer, args: ['plugin', `packer-${kind}-${name}`], socketDir, env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
    const reply = await client.call(`${SERVICE[kind].service}.ConfigSpec`, null);
    out[`${kind}/${name}`] = bytesToBuffer(field(reply, 'ConfigSpec')).toString('base64');
  } catch (e) {
    process.stderr.write(`${kind}/${name}: ${(e as Error).message}\n`);
  } finally {
    await client?.close();
  }
}

const queue = [...jobs];
await Promise.all([0, 1].map(async () => {
  for (let job = queue.shift(); job; job = queue.shift()) await capture(job);
}));
rmSync(socketDir, { recursive: true, force: true });
const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
const file = join('test', 'fixtures', 'plugins', `packer-${version}-configspecs.json.gz`);
writeFileSync(file, gzipSync(JSON.stringify(sorted, null, 1)));
process.stdout.write(`${Object.keys(sorted).length} of ${jobs.length} components captured into ${file}\n`);
