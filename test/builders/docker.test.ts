/**
 * The docker builder and its communicator against Podman's Docker-compatible API service, started
 * by this file (test/helpers/podman.ts) and purged at the end (every container and image with it).
 * Skipped with the reason when podman cannot be installed or started here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { createFromSnapshot, dockerBuilder, listSnapshots, removeSnapshot, snapshot } from '../../src/builders/docker.js';
import type { DockerConfig } from '../../src/builders/docker/config.js';
import type { Artifact, Communicator, InstanceRecord, StepContext } from '../../src/sdk/component.js';
import { provisioners } from '../../src/provisioners/registry.js';
import { testContext } from '../communicators/context.js';
import { PassThrough } from 'node:stream';
import { addLogSecrets, closeLog, configureLog } from '../../src/log.js';
import { runInImage, usePodman } from '../helpers/podman.js';

const suite = usePodman('builder-docker-test-');

function ctx(overrides: Partial<StepContext> = {}): ReturnType<typeof testContext> {
  return testContext({ buildName: 'docker.test', builderType: 'docker', cwd: suite.work, env: { ...process.env, ...suite.podman!.env }, ...overrides });
}

function prepared(raw: Record<string, unknown>): DockerConfig {
  const r = dockerBuilder.prepare({ image: suite.podman!.baseImage, pull: false, ...raw });
  assert.deepEqual(r.errors, []);
  return r.config!;
}

/** Runs a provisioner of the registry with its raw config. */
async function provision(type: string, raw: Record<string, unknown>, c: StepContext, comm: Communicator | undefined): Promise<void> {
  const def = provisioners.get(type)!;
  const p = def.prepare(raw);
  assert.deepEqual(p.errors, []);
  await def.run(p.config, { ...c, comm, conn: { type: 'docker' } });
}

/** Runs `script` with /bin/sh in a new container from `image`; its output (the container is removed). */
function runImage(image: string, script: string): Promise<string> {
  return runInImage(suite.docker, image, script);
}

test('docker: prepare follows Packer (exactly one of commit/export_path/discard, image, changes, run_command, ecr_login)', () => {
  const errs = (raw: Record<string, unknown>): string[] => dockerBuilder.prepare(raw).errors;
  assert.deepEqual(errs({ image: 'x' }), ['No instructions given for handling the artifact; expected commit, discard, or export_path']);
  assert.deepEqual(errs({ commit: true }), ['Image must be specified']);
  assert.deepEqual(errs({ image: 'x', commit: true, discard: true }), ['Cannot specify more than one of commit, discard, and export_path']);
  assert.match(errs({ image: 'x', commit: true, changes: ['RUN rm -rf /'] })[0]!, /changes: "RUN rm -rf \/" is not an instruction docker commit accepts/);
  assert.match(errs({ image: 'x', commit: true, run_command: ['--gpus', 'all', '{{.Image}}'] })[0]!, /docker run flag --gpus is not supported/);
  assert.match(errs({ image: 'x', commit: true, ecr_login: true })[0]!, /ecr_login is not supported/);
  assert.match(errs({ image: 'x', commit: true, communicator: 'ssh' })[0]!, /communicator "ssh" is not supported/);
  const c = dockerBuilder.prepare({ image: 'x', commit: true }).config!;
  assert.deepEqual([c.pull, c.fixUploadOwner, c.containerDir, c.runCommand], [true, true, '/packer-files', ['-d', '-i', '-t', '--entrypoint=/bin/sh', '--', '{{.Image}}']]);
  assert.deepEqual([c.run.interactive, c.run.tty, c.run.entrypoint, c.run.image], [true, true, ['/bin/sh'], '{{.Image}}']);
});

test('docker: build, provision (shell, file up/down of files and folders, shell-local), commit; the image has the files and the changes', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ commit: true, changes: ['ENV FOO=bar', 'LABEL team=infra', 'WORKDIR /opt', 'CMD ["/bin/cat", "/opt/hello"]'], message: 'built by test', author: 'tester <t@example.com>' });
  const instance = await dockerBuilder.create(config, c);
  let imageId = '';
  try {
    assert.ok(c.ui.lines.includes('==> Starting docker container...'));
    assert.ok(c.ui.lines.some((l) => l === `    Container ID: ${instance.id}`));
    const info = await suite.docker.getContainer(instance.id).inspect();
    assert.equal(info.Config.Labels['builder.build'], 'docker.test');
    assert.equal(info.State.Running, true);
    const { comm } = await dockerBuilder.connect(config, instance, c);
    // shell: output, stderr, exit codes
    await provision('shell', { inline: ['mkdir -p /opt && echo hello > /opt/hello', 'echo out-line', 'echo err-line >&2'] }, c, comm);
    assert.ok(c.ui.lines.includes('    out-line'), c.ui.lines.join('\n'));
    assert.ok(c.ui.lines.includes('==> err-line'));
    await assert.rejects(provision('shell', { inline: ['exit 3'] }, c, comm), /exit status 3|non-zero exit status: 3/);
    const r = await comm!.start({ command: 'exit 7' }, c.signal);
    assert.deepEqual(r, { exitStatus: 7, disconnected: false });
    // the script: uploaded as 0755, removed by its own exec after an exit 0 (its path, a space
    // included, an argument of the wrapper), left after a failure as Packer leaves it,
    // removed after another valid exit code, kept with skip_clean; a user's execute_command runs
    await provision('shell', { inline: ['echo ran-odd'], remote_path: '/tmp/odd name.sh', execute_command: "chmod +x '{{.Path}}'; '{{.Path}}'" }, c, comm);
    await assert.rejects(provision('shell', { inline: ['exit 3'], remote_path: '/tmp/failed.sh' }, c, comm));
    await provision('shell', { inline: ['exit 4'], remote_path: '/tmp/four.sh', valid_exit_codes: [0, 4] }, c, comm);
    await provision('shell', { inline: ['echo kept'], remote_path: '/tmp/kept.sh', skip_clean: true, execute_command: 'echo custom-{{.Path}}; {{.Vars}} {{.Path}}' }, c, comm);
    assert.ok(['    ran-odd', '    custom-/tmp/kept.sh', '    kept'].every((l) => c.ui.lines.includes(l)), c.ui.lines.join('\n'));
    const left: string[] = [];
    await comm!.start({ command: "ls /tmp/odd\\ name.sh /tmp/four.sh 2>/dev/null; stat -c '%n %a' /tmp/failed.sh /tmp/kept.sh", onStdout: (l) => left.push(l) }, c.signal);
    assert.deepEqual(left, ['/tmp/failed.sh 755', '/tmp/kept.sh 755']);
    // file uploads: a file, a folder (itself), a folder's contents
    const src = join(suite.work, 'src');
    await mkdir(join(src, 'tree', 'sub'), { recursive: true });
    await writeFile(join(src, 'single.txt'), 'single\n');
    await writeFile(join(src, 'tree', 'a.txt'), 'a\n');
    await writeFile(join(src, 'tree', 'sub', 'b.txt'), 'b\n');
    await provision('file', { source: join(src, 'single.txt'), destination: '/opt/single.txt' }, c, comm);
    await provision('file', { source: join(src, 'tree'), destination: '/opt' }, c, comm);
    await provision('file', { source: `${join(src, 'tree')}/`, destination: '/srv/contents' }, c, comm);
    await provision('shell', { inline: ['cat /opt/single.txt /opt/tree/a.txt /opt/tree/sub/b.txt /srv/contents/sub/b.txt'] }, c, comm);
    assert.ok(['    single', '    a', '    b'].every((l) => c.ui.lines.includes(l)));
    // downloads: a file and a folder
    await provision('file', { source: '/opt/hello', destination: join(suite.work, 'dl', 'hello'), direction: 'download' }, c, comm);
    assert.equal(await readFile(join(suite.work, 'dl', 'hello'), 'utf8'), 'hello\n');
    await provision('file', { source: '/opt/tree/', destination: join(suite.work, 'dldir') + '/', direction: 'download' }, c, comm);
    assert.equal(await readFile(join(suite.work, 'dldir', 'sub', 'b.txt'), 'utf8'), 'b\n');
    await assert.rejects(provision('file', { source: '/opt/missing', destination: join(suite.work, 'x'), direction: 'download' }, c, comm), /Error downloading file/);
    // shell-local runs on this machine
    await provision('shell-local', { inline: [`echo local > ${join(suite.work, 'local.txt')}`] }, c, comm);
    assert.equal(await readFile(join(suite.work, 'local.txt'), 'utf8'), 'local\n');
    const artifact = (await dockerBuilder.finish(config, instance, c))!;
    imageId = artifact.id;
    assert.equal(artifact.builderId, 'packer.post-processor.docker-import');
    assert.equal(artifact.description, `Imported Docker image: ${imageId}`);
    assert.ok(c.ui.lines.includes('==> Committing the container'));
    const image = await suite.docker.getImage(imageId).inspect();
    assert.ok(image.Config.Env.includes('FOO=bar'), image.Config.Env.join(','));
    assert.equal(image.Config.Labels?.team, 'infra');
    assert.equal(image.Config.WorkingDir, '/opt');
    assert.deepEqual(image.Config.Cmd, ['/bin/cat', '/opt/hello']);
    assert.equal(image.Comment, 'built by test');
    assert.equal(image.Author, 'tester <t@example.com>');
    assert.equal(await runImage(imageId, 'cat /opt/hello /opt/tree/sub/b.txt /srv/contents/a.txt'), 'hello\nb\na\n');
  } finally {
    await dockerBuilder.destroy(config, instance, c);
    if (imageId) await suite.docker.getImage(imageId).remove({ force: true });
  }
  assert.ok(c.ui.lines.includes(`==> Killing the container: ${instance.id}`));
  await assert.rejects(suite.docker.getContainer(instance.id).inspect(), (e: { statusCode?: number }) => e.statusCode === 404);
});

test('docker: folder transfers report progress (one bar over the folder on a terminal) and arrive whole', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const bars: { label: string; total: number; updates: number[]; stopped: number }[] = [];
  c.ui.trackProgress = (label, total) => {
    const bar = { label, total, updates: [] as number[], stopped: 0 };
    bars.push(bar);
    return { update: (n) => void bar.updates.push(n), stop: () => void bar.stopped++ };
  };
  const config = prepared({ discard: true });
  const instance = await dockerBuilder.create(config, c);
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    const src = join(suite.work, 'progress-src');
    await mkdir(join(src, 'sub'), { recursive: true });
    const big = Buffer.alloc(1024 * 1024 + 3, 2);
    await writeFile(join(src, 'big.bin'), big);
    await writeFile(join(src, 'sub', 'small.txt'), 'small\n');
    await provision('shell', { inline: ['mkdir -p /opt'] }, c, comm);
    await provision('file', { source: src, destination: '/opt' }, c, comm);
    await provision('file', { source: '/opt/progress-src/', destination: join(suite.work, 'progress-back') + '/', direction: 'download' }, c, comm);
    const size = big.length + 'small\n'.length;
    assert.deepEqual(bars.map((b) => [b.label, b.total, b.stopped]), [[src, size, 1], ['/opt/progress-src/', 0, 1]]);
    assert.equal(bars[0]!.updates.at(-1), size, 'the upload ends at the folder size');
    // The download counts the tar archive: at least the files' bytes.
    assert.ok(bars[1]!.updates.at(-1)! >= size, bars[1]!.updates.join(','));
    assert.ok((await readFile(join(suite.work, 'progress-back', 'big.bin'))).equals(big));
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
});

test('docker: the debug log records commands with their exit status, transfers and failures, with secrets masked', async (t) => {
  if (suite.skipped(t)) return;
  const SECRET = 'docker-log-secret-0xBEEF';
  const c = ctx();
  const config = prepared({ discard: true });
  const instance = await dockerBuilder.create(config, c);
  let text = '';
  const sink = new PassThrough();
  sink.setEncoding('utf8').on('data', (d: string) => (text += d));
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    configureLog({ BUILDER_LOG: '1' }, sink);
    addLogSecrets([SECRET]);
    await comm!.start({ command: `echo ${SECRET} > /dev/null; exit 4` }, c.signal);
    const src = join(suite.work, 'log-src');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'f.txt'), 'f\n');
    await provision('file', { source: join(src, 'f.txt'), destination: '/tmp/f.txt' }, c, comm);
    await provision('file', { source: `${src}/`, destination: '/tmp/log-dir' }, c, comm);
    await assert.rejects(provision('file', { source: '/nonexistent/x', destination: join(suite.work, 'x'), direction: 'download' }, c, comm));
  } finally {
    closeLog();
    await dockerBuilder.destroy(config, instance, c);
  }
  const id = instance.id.slice(0, 12);
  assert.ok(!text.includes(SECRET), 'the secret is masked');
  assert.match(text, new RegExp(`\\[DEBUG\\] docker: starting remote command in container ${id}: echo <sensitive> > /dev/null; exit 4\n`));
  assert.match(text, /\[DEBUG\] docker: remote command exited with status 4: echo <sensitive> > \/dev\/null; exit 4\n/);
  assert.match(text, new RegExp(`\\[DEBUG\\] docker: uploading to /tmp/f\\.txt in container ${id}`));
  // a single file uploaded for root needs no chown (it is root's already); a folder is chowned
  assert.doesNotMatch(text, /chown -R root \/tmp\/f\.txt/);
  assert.match(text, /\[DEBUG\] docker: uploading folder \S+log-src\/ to \/tmp\/log-dir in container/);
  assert.match(text, /\[DEBUG\] docker: starting remote command in container \w+ as root: chown -R root \/tmp\/log-dir\n/);
  assert.match(text, /\[DEBUG\] docker: starting remote command in container \w+ as root: mkdir -p \/tmp\/log-dir\n/);
  assert.match(text, /\[DEBUG\] docker: downloading \/nonexistent\/x from container/);
  assert.match(text, /\[ERROR\] docker: download of \/nonexistent\/x from container \w+ failed: /);
});

test('docker: export_path writes the container filesystem as a tar', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ export_path: 'out/image.tar' });
  const instance = await dockerBuilder.create(config, c);
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    await provision('shell', { inline: ['mkdir -p /data && echo exported > /data/file'] }, c, comm);
    const artifact = (await dockerBuilder.finish(config, instance, c))!;
    assert.deepEqual([artifact.builderId, artifact.id, artifact.files, artifact.description], ['packer.docker', 'out/image.tar', ['out/image.tar'], 'Exported Docker file: out/image.tar']);
    const names: string[] = [];
    let content = '';
    await tar.t({
      file: join(suite.work, 'out/image.tar'),
      onReadEntry: (e) => {
        names.push(e.path);
        if (e.path.replace(/^\.?\//, '') === 'data/file') e.on('data', (d: Buffer) => (content += d.toString()));
      },
    });
    assert.ok(names.some((n) => /^(\.\/)?bin\/busybox$/.test(n)), names.slice(0, 20).join(','));
    assert.equal(content, 'exported\n');
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
});

test('docker: reconnect to a kept container (started again when stopped); a removed one is gone; destroyRecorded removes it', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ discard: true });
  const instance: InstanceRecord = JSON.parse(JSON.stringify(await dockerBuilder.create(config, c))) as InstanceRecord;
  assert.equal(await dockerBuilder.reconnect(config, instance, c), true);
  await suite.docker.getContainer(instance.id).stop({ t: 0 });
  assert.equal(await dockerBuilder.reconnect(config, instance, c), true);
  assert.equal((await suite.docker.getContainer(instance.id).inspect()).State.Running, true);
  const { comm } = await dockerBuilder.connect(config, instance, c);
  assert.equal((await comm!.start({ command: 'true' }, c.signal)).exitStatus, 0);
  const artifact = (await dockerBuilder.finish(config, instance, c))!;
  assert.deepEqual([artifact.id, artifact.files], ['', []]);
  await dockerBuilder.destroyRecorded(instance, { cwd: suite.work, env: c.env, signal: c.signal });
  assert.equal(await dockerBuilder.reconnect(config, instance, c), false);
  await dockerBuilder.destroyRecorded(instance, { cwd: suite.work, env: c.env, signal: c.signal }); // gone already: no error
});

test('docker: pull failing with the image present locally is a warning, without it a clear error', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ pull: true, discard: true });
  const instance = await dockerBuilder.create(config, c);
  await dockerBuilder.destroy(config, instance, c);
  assert.ok(c.ui.lines.includes(`==> Pulling Docker image: ${suite.podman!.baseImage}`));
  assert.ok(c.ui.lines.some((l) => l.startsWith('    Pull failed (') && l.endsWith(`using the local image ${suite.podman!.baseImage}`)), c.ui.lines.join('\n'));
  const missing = prepared({ pull: true, discard: true, image: 'localhost/not-here:1' });
  await assert.rejects(dockerBuilder.create(missing, ctx()), /Error pulling Docker image: /);
});

test('docker: snapshots: commit with labels, list by label, start a container from one, remove', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ commit: true });
  const instance = await dockerBuilder.create(config, c);
  let snap = '';
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    await provision('shell', { inline: ['echo step1 > /step1'] }, c, comm);
    snap = (await snapshot(config, instance, { 'builder.chain': 'abc', 'builder.step': '1' })).imageId;
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
  const listed = await listSnapshots({ 'builder.chain': 'abc' }, c.env);
  assert.deepEqual(listed.map((s) => s.id.replace(/^sha256:/, '')), [snap.replace(/^sha256:/, '')]);
  assert.equal(listed[0]!.labels['builder.step'], '1');
  assert.deepEqual(await listSnapshots({ 'builder.chain': 'other' }, c.env), []);
  const again = await createFromSnapshot(config, snap, c);
  let final: Artifact | undefined;
  try {
    const { comm } = await dockerBuilder.connect(config, again, c);
    const lines: string[] = [];
    const r = await comm!.start({ command: 'cat /step1', onStdout: (l) => lines.push(l) }, c.signal);
    assert.deepEqual([r.exitStatus, lines], [0, ['step1']]);
    assert.equal(await dockerBuilder.reconnect(config, again, c), true);
    // the final image of a rebuild from a snapshot is not itself a snapshot
    final = (await dockerBuilder.finish(config, again, c))!;
    assert.equal((await listSnapshots({}, c.env)).length, 1);
  } finally {
    await dockerBuilder.destroy(config, again, c);
  }
  await final?.destroy();
  assert.equal((await listSnapshots({}, c.env)).length, 1, 'removing the final image keeps its snapshot parent');
  await removeSnapshot(snap, c.env);
  assert.deepEqual(await listSnapshots({ 'builder.chain': 'abc' }, c.env), []);
});

test('docker: no endpoint and a bad DOCKER_HOST are clear errors', async () => {
  const c = testContext({ env: { PATH: process.env.PATH ?? '', DOCKER_HOST: 'ftp://x' } });
  const config = dockerBuilder.prepare({ image: 'x', discard: true, pull: false }).config!;
  await assert.rejects(dockerBuilder.create(config, c), /DOCKER_HOST "ftp:\/\/x" is not a unix:\/\/ or tcp:\/\/ address/);
  const none = testContext({ env: { PATH: '', DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  await assert.rejects(dockerBuilder.create(config, none), /cannot connect to the Docker Engine API|ENOENT/);
});

test('docker: a cancelled command is killed with the processes it started', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ discard: true });
  const instance = await dockerBuilder.create(config, c);
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    const ac = new AbortController();
    const running = comm!.start({ command: 'sleep 300 & echo started; sleep 301; echo never', onStdout: (l) => l === 'started' && ac.abort() }, ac.signal);
    await assert.rejects(running);
    const ps: string[] = [];
    await comm!.start({ command: 'ps -o pid,args', onStdout: (l) => ps.push(l) }, c.signal);
    assert.ok(!ps.some((l) => /sleep 30[01]/.test(l)), ps.join('\n'));
    const files: string[] = [];
    await comm!.start({ command: `ls ${config.containerDir}`, onStdout: (l) => files.push(l) }, c.signal);
    assert.equal(files.length, 1, `only the listing command's own pid file is left: ${files.join(' ')}`);
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
});

test('docker: uploads belong to the container\'s user (fix_upload_owner), or stay root\'s without it; login failures are clear and hide the password', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const src = join(suite.work, 'owned.txt');
  await writeFile(src, 'owned\n');
  for (const [fix, owner] of [[true, 'nobody'], [false, 'root']] as const) {
    const config = prepared({ discard: true, fix_upload_owner: fix, run_command: ['-d', '-i', '-t', '-u', 'nobody', '--entrypoint=/bin/sh', '--', '{{.Image}}'] });
    const instance = await dockerBuilder.create(config, c);
    try {
      const { comm } = await dockerBuilder.connect(config, instance, c);
      await provision('file', { source: src, destination: '/tmp/owned.txt' }, c, comm);
      const lines: string[] = [];
      await comm!.start({ command: 'id -un; stat -c %U /tmp/owned.txt', onStdout: (l) => lines.push(l) }, c.signal);
      assert.deepEqual(lines, ['nobody', owner]);
    } finally {
      await dockerBuilder.destroy(config, instance, c);
    }
  }
  const login = prepared({ discard: true, pull: true, login: true, login_server: '127.0.0.1:1', login_username: 'u', login_password: 'hunter2-secret' });
  await assert.rejects(dockerBuilder.create(login, c), (err: Error) => {
    assert.match(err.message, /^Error logging in to 127\.0\.0\.1:1: /);
    assert.ok(!err.message.includes('hunter2-secret'));
    return true;
  });
  assert.ok(!c.ui.lines.join('\n').includes('hunter2-secret'));
});

// Runs last: it kills the API service.
test('docker: the service dying during a command is a disconnection, not success (no exit code)', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const config = prepared({ discard: true });
  const instance = await dockerBuilder.create(config, c);
  const { comm } = await dockerBuilder.connect(config, instance, c);
  const pid = Number((await readFile(suite.podman!.socket.replace(/\.sock$/, '.state/service.pid'), 'utf8')).trim());
  const r = await comm!.start({ command: 'echo started; sleep 30', onStdout: (l) => l === 'started' && process.kill(pid, 'SIGKILL') }, c.signal);
  assert.deepEqual(r, { disconnected: true });
});
