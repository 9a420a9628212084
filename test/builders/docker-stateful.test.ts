/**
 * The docker builder in stateful runs, end to end: the real `builder build` CLI (dist/src/cli/main.js,
 * a child process as users run it) against Podman's Docker-compatible API service started by this
 * file (test/helpers/podman.ts; every container and image is purged at the end):
 * - containers carry the state's lineage, workspace, template and build as labels;
 * - a failed provisioner keeps the container; the next run resumes on the same container;
 * - a builder SIGKILLed (its whole process group) during a step: the next run resumes on the
 *   container and runs the interrupted step again;
 * - a kept container removed by hand: the next run says so and builds from the start;
 * - per-step snapshots: a changed 3rd step restarts from the snapshot after step 2; superseded
 *   snapshots are removed; `builder snapshots list|prune`;
 * - the 6-step case: step 5 edited → steps 5–6 run on a container from step 4's snapshot
 *   and the image's filesystem equals a fresh `-replace` build's (file trees compared entry by
 *   entry: type, mode, owner, link target, content hash; modification times are left out, the only
 *   normalisation); step 2 edited → steps 2–6 run from step 1's snapshot;
 * - `builder plan` checks the snapshot it would restart from, as `build` does: one removed by hand
 *   is named and the fallback planned (an older snapshot, then fresh), and nothing is written.
 * Skipped with the reason when podman cannot be installed or started here.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tar from 'tar';
import { cliPath, runCli, type CliResult } from '../build/cli.js';
import { openFileState } from '../../src/state/open.js';
import type { BuildState } from '../../src/state/types.js';
import { runInImage, usePodman } from '../helpers/podman.js';

const suite = usePodman('builder-docker-stateful-');
const BUILD = 'docker.t';
const TEMPLATE = 't.pkr.hcl';

/** A template whose provisioners are the given shell lines, each a step of its own. */
function template(image: string, steps: readonly string[]): string {
  const provs = steps.map((line) => `  provisioner "shell" {\n    inline = [${JSON.stringify(line)}]\n  }\n`).join('');
  return `source "docker" "t" {\n  image  = "${image}"\n  pull   = false\n  commit = true\n}\n\nbuild {\n  sources = ["source.docker.t"]\n${provs}}\n`;
}

/** Step N: appends N to /root/effects.log in the container. */
const effect = (n: number | string): string => `echo ${n} >> /root/effects.log`;

async function workdir(name: string, steps: readonly string[]): Promise<string> {
  const dir = join(suite.work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, TEMPLATE), template(suite.podman!.baseImage, steps));
  return dir;
}

function env(): NodeJS.ProcessEnv {
  return { ...suite.podman!.env, BUILDER_STATE: '', BUILDER_STATE_PATH: '', BUILDER_WORKSPACE: '' };
}

function build(dir: string, ...flags: string[]): Promise<CliResult> {
  return runCli(['build', '-color=false', ...flags, TEMPLATE], dir, env());
}

async function record(dir: string): Promise<{ build: BuildState; lineage: string }> {
  const state = await openFileState({ path: join(dir, '.packer.d/builder-state.json'), template: TEMPLATE, lock: false, onWarning: () => undefined });
  try {
    return { build: state.build(BUILD)!, lineage: state.lineage };
  } finally {
    await state.close();
  }
}

/** The image id of the run's artifact. */
function imageOf(r: CliResult): string {
  const m = /--> docker\.t: Imported Docker image: (\S+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return m[1]!;
}

/** An image by id (Podman's compatible API takes a bare 64-hex id for a repository name). */
const image = (id: string): ReturnType<typeof suite.docker.getImage> => suite.docker.getImage(`sha256:${id}`);

const show = (r: CliResult): string => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

test('docker stateful: a failed step keeps the labelled container; the next run resumes on it and runs only the steps left', async (t) => {
  if (suite.skipped(t)) return;
  const dir = await workdir('resume', [effect(1), effect(2), `test -f /root/go || exit 9; ${effect(3)}`, effect(4)]);
  const first = await build(dir);
  assert.equal(first.code, 1, show(first));
  assert.match(first.stdout, /The instance \S+ was kept\. Resume on it/);
  const { build: rec, lineage } = await record(dir);
  assert.equal(rec.status, 'failed');
  const id = rec.instance!.id;
  const container = suite.docker.getContainer(id);
  const info = await container.inspect();
  assert.deepEqual(
    Object.fromEntries(['builder.lineage', 'builder.workspace', 'builder.template', 'builder.build'].map((k) => [k, info.Config.Labels[k]])),
    { 'builder.lineage': lineage, 'builder.workspace': 'default', 'builder.template': TEMPLATE, 'builder.build': BUILD },
  );
  // builder state list names it; it is found by its labels
  const listed = await runCli(['state', 'list', TEMPLATE], dir, env());
  assert.equal(listed.stdout, `${BUILD}  failed    kept instance ${id}\n`);
  // the kept container is found by its labels
  const found = await suite.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`builder.lineage=${lineage}`] }) });
  assert.deepEqual(found.map((c) => c.Id), [id]);

  // step 3 can pass now (in this very container: a new one would not have the file)
  const exec = await container.exec({ Cmd: ['/bin/sh', '-c', 'touch /root/go'] });
  await exec.start({ Detach: true });
  const second = await build(dir);
  assert.equal(second.code, 0, show(second));
  assert.match(second.stdout, new RegExp(`Resuming on the kept instance ${id}: provisioner 3 \\(shell\\) failed`));
  assert.equal((await record(dir)).build.status, 'complete');
  assert.equal(await runInImage(suite.docker, imageOf(second), 'cat /root/effects.log'), '1\n2\n3\n4\n');
  // the build completed: its container is gone
  await assert.rejects(container.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('docker stateful: builder SIGKILLed during step 2 (its process group); the next run reconnects and runs step 2 again', async (t) => {
  if (suite.skipped(t)) return;
  const dir = await workdir('sigkill', [effect(1), `echo step2-started; while [ ! -f /root/go ]; do sleep 0.2; done; ${effect(2)}`, effect(3)]);
  const child = spawn(process.execPath, [cliPath, 'build', '-color=false', TEMPLATE], { cwd: dir, env: { ...process.env, NO_COLOR: '1', ...env() }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      if (out.includes('step2-started')) resolve();
    });
    child.once('exit', () => reject(new Error(`builder ended before step 2 started:\n${out}`)));
  });
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  const { build: rec } = await record(dir);
  assert.equal(rec.provisioners[1]!.status, 'running');
  const id = rec.instance!.id;
  assert.equal((await suite.docker.getContainer(id).inspect()).State.Running, true);

  const exec = await suite.docker.getContainer(id).exec({ Cmd: ['/bin/sh', '-c', 'touch /root/go'] });
  await exec.start({ Detach: true });
  const second = await build(dir);
  assert.equal(second.code, 0, show(second));
  assert.match(second.stdout, new RegExp(`Resuming on the kept instance ${id}: provisioner 2 \\(shell\\) was interrupted`));
  assert.doesNotMatch(second.stdout, /Starting docker container/);
  const log = await runInImage(suite.docker, imageOf(second), 'cat /root/effects.log');
  // the interrupted exec may still finish step 2 on its own before the commit: 2 once or twice
  assert.match(log, /^1\n2\n(2\n)?3\n$/);
});

test('docker stateful: a kept container removed by hand is reported and the build starts from the start', async (t) => {
  if (suite.skipped(t)) return;
  const dir = await workdir('gone', [effect(1), 'test -f /root/go || exit 9', effect(2)]);
  const first = await build(dir);
  assert.equal(first.code, 1, show(first));
  const id = (await record(dir)).build.instance!.id;
  await suite.docker.getContainer(id).remove({ force: true });
  const second = await build(dir);
  assert.equal(second.code, 1, show(second));
  assert.match(second.stdout, new RegExp(`The kept instance ${id} is gone; building from the start\\.`));
  assert.match(second.stdout, /Starting docker container/);
  // from the start: the new container went through step 1 (once) and failed at step 2 again
  const now = (await record(dir)).build.instance!.id;
  assert.notEqual(now, id);
  assert.equal(await execOutput(now, 'cat /root/effects.log'), '1\n');
});

/** Runs `script` in a running container; its stdout. */
async function execOutput(containerId: string, script: string): Promise<string> {
  const exec = await suite.docker.getContainer(containerId).exec({ Cmd: ['/bin/sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) if (buf[i] === 1) out += buf.subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4)).toString();
  return out;
}

test('docker stateful: snapshots after each step; a changed 3rd step restarts from the snapshot after step 2 and runs steps 3.. only; superseded snapshots are removed', async (t) => {
  if (suite.skipped(t)) return;
  const dir = await workdir('snapshots', [effect(1), effect(2), effect(3), effect(4)]);
  const first = await build(dir);
  assert.equal(first.code, 0, show(first));
  const { build: rec, lineage } = await record(dir);
  const snaps = rec.provisioners.map((s) => s.snapshot?.id ?? '');
  assert.equal(snaps.filter((id) => id !== '').length, 4, JSON.stringify(rec.provisioners));
  const label = (await image(snaps[1]!).inspect()).Config.Labels ?? {};
  assert.deepEqual([label['builder.snapshot'], label['builder.lineage'], label['builder.build'], label['builder.step'], label['builder.chain']], ['true', lineage, BUILD, '2', rec.provisioners[1]!.snapshot!.chain]);

  await writeFile(join(dir, TEMPLATE), template(suite.podman!.baseImage, [effect(1), effect(2), effect('3b'), effect(4)]));
  const second = await build(dir);
  assert.equal(second.code, 0, show(second));
  assert.match(second.stdout, new RegExp(`Restarting from the snapshot ${snaps[1]}: provisioner 3 \\(shell\\): inline, .*which saves 2 steps`));
  assert.equal((second.stdout.match(/Provisioning with shell script/g) ?? []).length, 2, second.stdout);
  // steps 1 and 2 came with the snapshot (they did not run again), 3b and 4 ran on it
  assert.equal(await runInImage(suite.docker, imageOf(second), 'cat /root/effects.log'), '1\n2\n3b\n4\n');
  const after = (await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? '');
  assert.deepEqual(after.slice(0, 2), snaps.slice(0, 2));
  assert.ok(after[2] !== '' && after[2] !== snaps[2] && after[3] !== '' && after[3] !== snaps[3]);
  assert.match(second.stdout, /Snapshots superseded by this build removed: 2\./);
  for (const old of snaps.slice(2)) await assert.rejects(image(old).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
  for (const id of after) await image(id).inspect();


  // builder snapshots list: the four recorded ones
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, dir, env());
  const listed = await cli('snapshots', 'list', TEMPLATE);
  assert.equal(listed.code, 0, show(listed));
  const lines = listed.stdout.trim().split('\n');
  assert.match(lines[0]!, /^BUILD\s+STEP\s+STATUS\s+ID\s+SIZE\s+CREATED$/);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 5).join(' ')), after.map((id, i) => `${TEMPLATE}/${BUILD} step ${i + 1} recorded ${id.slice(0, 19)}`));

  // the build forgotten: its snapshots are orphans, which prune removes
  assert.equal((await cli('state', 'rm', '-force', TEMPLATE, BUILD)).code, 0);
  const orphans = await cli('snapshots', 'list', TEMPLATE);
  assert.equal((orphans.stdout.match(/ orphaned /g) ?? []).length, 4, show(orphans));
  const dry = await cli('snapshots', 'prune', '-dry-run', TEMPLATE);
  assert.match(dry.stdout, /Would prune 4 snapshot\(s\); 0 kept\./, show(dry));
  await image(after[0]!).inspect();
  const pruned = await cli('snapshots', 'prune', TEMPLATE);
  assert.equal(pruned.code, 0, show(pruned));
  assert.match(pruned.stdout, /Pruned 4 snapshot\(s\); 0 kept\./);
  for (const id of after) await assert.rejects(image(id).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);

  // -snapshots=false: a build takes none
  const third = await build(dir, '-snapshots=false');
  assert.equal(third.code, 0, show(third));
  assert.doesNotMatch(third.stdout, /Snapshot after provisioner/);
  assert.deepEqual((await record(dir)).build.provisioners.map((s) => s.snapshot), [null, null, null, null]);

  // prune -keep=1: only the snapshot after the last step stays, in the record too
  const fourth = await build(dir, '-replace=docker.t');
  assert.equal(fourth.code, 0, show(fourth));
  const four = (await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? '');
  const kept = await cli('snapshots', 'prune', '-keep=1', TEMPLATE);
  assert.match(kept.stdout, /Pruned 3 snapshot\(s\); 1 kept\./, show(kept));
  assert.deepEqual((await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? ''), ['', '', '', four[3]]);
  await image(four[3]!).inspect();
});

/** Step N of the 6-step build: logs N and writes a file, a folder and a symlink of its own. */
const sixStep = (n: number | string): string => `${effect(n)}; mkdir -p /srv/s${n}; echo content-${n} > /srv/s${n}/file; ln -sf /srv/s${n}/file /srv/link${n}`;

/**
 * The filesystem of an image, flattened (a container's export): path → type, mode, owner, link
 * target and the sha256 of the content. Modification times are left out: they are the time a
 * step ran, the one thing two runs of the same steps do not share.
 */
async function fileTree(imageId: string): Promise<Map<string, string>> {
  const container = await suite.docker.createContainer({ Image: imageId, Entrypoint: ['/bin/sh'], HostConfig: { NetworkMode: 'host' } } as Parameters<typeof suite.docker.createContainer>[0]);
  const tree = new Map<string, string>();
  try {
    const parser = new tar.Parser({
      onReadEntry: (e) => {
        const hash = createHash('sha256');
        e.on('data', (d: Buffer) => hash.update(d));
        e.on('end', () => tree.set(e.path.replace(/^\.?\//, '').replace(/\/$/, ''), [e.type, (e.mode ?? 0).toString(8), `${e.uid}:${e.gid}`, e.linkpath ?? '', hash.digest('hex')].join(' ')));
      },
    });
    await pipeline((await container.export()) as unknown as Readable, parser);
  } finally {
    await container.remove({ force: true });
  }
  return tree;
}

/** The entries two trees disagree on (for the assertion message). */
function treeDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) if (a.get(k) !== b.get(k)) out.push(`${k}: ${a.get(k) ?? '(absent)'} ≠ ${b.get(k) ?? '(absent)'}`);
  return out;
}

test('docker stateful: 6 steps; step 5 edited → 5 and 6 run on step 4\'s snapshot, same filesystem as a fresh -replace build; step 2 edited → 2..6 from step 1\'s snapshot', async (t) => {
  if (suite.skipped(t)) return;
  const steps = [1, 2, 3, 4, 5, 6].map(sixStep);
  const dir = await workdir('six', steps);
  const first = await build(dir);
  assert.equal(first.code, 0, show(first));
  const snaps = (await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? '');
  assert.equal(snaps.filter((id) => id !== '').length, 6, JSON.stringify(snaps));

  // step 5 edited: a container from the snapshot after step 4 runs steps 5 and 6 only
  const edit5 = [...steps.slice(0, 4), sixStep('5b'), steps[5]!];
  await writeFile(join(dir, TEMPLATE), template(suite.podman!.baseImage, edit5));
  const second = await build(dir);
  assert.equal(second.code, 0, show(second));
  assert.match(second.stdout, new RegExp(`Restarting from the snapshot ${snaps[3]}: provisioner 5 \\(shell\\): inline, .*which saves 4 steps`));
  assert.equal((second.stdout.match(/Provisioning with shell script/g) ?? []).length, 2, second.stdout);
  const incremental = imageOf(second);
  // the image is built on the snapshot's layers: its container was started from that snapshot
  const base = (await image(snaps[3]!).inspect()).RootFS?.Layers ?? [];
  const layers = (await image(incremental).inspect()).RootFS?.Layers ?? [];
  assert.ok(base.length > 0 && layers.length > base.length, JSON.stringify({ base, layers }));
  assert.deepEqual(layers.slice(0, base.length), base);
  assert.equal(await runInImage(suite.docker, incremental, 'cat /root/effects.log'), '1\n2\n3\n4\n5b\n6\n');
  const incrementalTree = await fileTree(incremental);

  // a fresh build of the same template: the same filesystem
  const fresh = await build(dir, '-replace=docker.t');
  assert.equal(fresh.code, 0, show(fresh));
  assert.match(fresh.stdout, /Building from the start: -replace names it/);
  assert.equal((fresh.stdout.match(/Provisioning with shell script/g) ?? []).length, 6, fresh.stdout);
  const freshTree = await fileTree(imageOf(fresh));
  assert.ok(freshTree.has('srv/s5b/file') && freshTree.has('root/effects.log') && freshTree.has('bin/busybox'), [...freshTree.keys()].join(','));
  assert.deepEqual(treeDiff(incrementalTree, freshTree), []);

  // step 2 edited: from the snapshot after step 1 (of the fresh build), steps 2..6 run
  const after = (await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? '');
  await writeFile(join(dir, TEMPLATE), template(suite.podman!.baseImage, [edit5[0]!, sixStep('2b'), ...edit5.slice(2)]));
  const third = await build(dir);
  assert.equal(third.code, 0, show(third));
  assert.match(third.stdout, new RegExp(`Restarting from the snapshot ${after[0]}: provisioner 2 \\(shell\\): inline, .*which saves 1 step\\b`));
  assert.equal((third.stdout.match(/Provisioning with shell script/g) ?? []).length, 5, third.stdout);
  assert.equal(await runInImage(suite.docker, imageOf(third), 'cat /root/effects.log'), '1\n2b\n3\n4\n5b\n6\n');
});

test('docker stateful: builder plan checks the snapshot it would restart from; one removed by hand is named and the fallback planned; plan writes nothing', async (t) => {
  if (suite.skipped(t)) return;
  const dir = await workdir('plan-gone', [effect(1), effect(2), effect(3)]);
  const first = await build(dir);
  assert.equal(first.code, 0, show(first));
  const snaps = (await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? '');
  await writeFile(join(dir, TEMPLATE), template(suite.podman!.baseImage, [effect(1), effect(2), effect('3b')]));
  const plan = (...flags: string[]): Promise<CliResult> => runCli(['plan', '-color=false', ...flags, TEMPLATE], dir, env());

  const p1 = await plan();
  assert.equal(p1.code, 0, show(p1));
  assert.match(p1.stdout, new RegExp(`Restarting from the snapshot ${snaps[1]}: provisioner 3 \\(shell\\): inline, .*which saves 2 steps\\.`));
  assert.doesNotMatch(p1.stdout, /gone/);

  await image(snaps[1]!).remove({ force: true });
  const p2 = await plan();
  assert.equal(p2.code, 0, show(p2));
  assert.match(p2.stdout, new RegExp(`Restarting from the snapshot ${snaps[0]}: provisioner 3 \\(shell\\): inline, .*which saves 1 step \\(the snapshot ${snaps[1]} is gone\\)\\.`));
  const json = await plan('-json');
  const doc = JSON.parse(json.stdout) as { builds: { snapshot: { id: string } | null; reason: string }[] };
  assert.equal(doc.builds[0]!.snapshot?.id, snaps[0], json.stdout);
  assert.match(doc.builds[0]!.reason, new RegExp(`the snapshot ${snaps[1]} is gone`));

  await image(snaps[0]!).remove({ force: true });
  const p3 = await plan();
  assert.match(p3.stdout, new RegExp(`Building from the start: .*\\(the snapshots ${snaps[1]}, ${snaps[0]} are gone\\)\\.`), show(p3));
  // plan wrote nothing: the record still holds the snapshots
  assert.deepEqual((await record(dir)).build.provisioners.map((s) => s.snapshot?.id ?? ''), snaps);

  // the build finds the same: both said gone, built from the start
  const second = await build(dir);
  assert.equal(second.code, 0, show(second));
  for (const id of snaps.slice(0, 2)) assert.match(second.stdout, new RegExp(`Snapshot ${id} is gone; planning without it\\.`));
  assert.match(second.stdout, /Building from the start/);
  assert.equal((second.stdout.match(/Provisioning with shell script/g) ?? []).length, 3, second.stdout);
});
