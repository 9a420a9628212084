/**
 * docker-tag, docker-save, docker-import and docker-push against Podman's Docker-compatible API
 * service (started here, purged at the end), on images the docker builder makes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { dockerBuilder } from '../../src/builders/docker.js';
import type { Artifact, PostProcessorDef, StepContext } from '../../src/sdk/component.js';
import { dockerImportPostProcessor } from '../../src/post-processors/docker-import.js';
import { dockerPushPostProcessor } from '../../src/post-processors/docker-push.js';
import { dockerSavePostProcessor } from '../../src/post-processors/docker-save.js';
import { dockerTagPostProcessor } from '../../src/post-processors/docker-tag.js';
import { manifestPostProcessor } from '../../src/post-processors/manifest.js';
import { testContext } from '../communicators/context.js';
import { usePodman } from '../helpers/podman.js';
import { startRegistry } from '../helpers/registry.js';

const suite = usePodman('builder-docker-pp-');

function ctx(): ReturnType<typeof testContext> {
  return testContext({ buildName: 'docker.pp', builderType: 'docker', cwd: suite.work, env: { ...process.env, ...suite.podman!.env, PACKER_BUILD_NAME: 'pp' } });
}


async function pp<C>(def: PostProcessorDef<C>, raw: Record<string, unknown>, input: Artifact, c: StepContext): Promise<{ artifact: Artifact; keep: boolean; forceOverride: boolean }> {
  const r = def.prepare(raw);
  assert.deepEqual(r.errors, []);
  return def.run(r.config!, input, c);
}

/** Builds an image (commit) or a tar (export) with one provisioned file. */
async function build(c: StepContext, raw: Record<string, unknown>): Promise<Artifact> {
  const config = dockerBuilder.prepare({ image: suite.podman!.baseImage, pull: false, ...raw }).config!;
  const instance = await dockerBuilder.create(config, c);
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    const r = await comm!.start({ command: 'echo made > /made' }, c.signal);
    assert.equal(r.exitStatus, 0);
    return (await dockerBuilder.finish(config, instance, c))!;
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
}

test('docker post-processors refuse artifacts of other kinds, as Packer does', async () => {
  const file: Artifact = { builderId: 'packer.file', id: 'File', files: [], description: '', state: {}, destroy: async () => undefined };
  const c = testContext({ env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
  await assert.rejects(pp(dockerTagPostProcessor, { repository: 'r' }, file, c), /^UserError: Unknown artifact type: packer.file\nCan only tag from Docker builder artifacts.$/);
  await assert.rejects(pp(dockerSavePostProcessor, { path: 'x.tar' }, file, c), /Can only save Docker builder artifacts/);
  await assert.rejects(pp(dockerImportPostProcessor, { repository: 'r' }, file, c), /Can only import from Docker builder and Artifice post-processor artifacts/);
  await assert.rejects(pp(dockerPushPostProcessor, {}, file, c), /Can only import from docker-import and docker-tag artifacts/);
  assert.match(dockerPushPostProcessor.prepare({ ecr_login: true }).errors[0]!, /ecr_login is not supported/);
  assert.deepEqual(dockerTagPostProcessor.prepare({ repository: 'r', tag: 'a', tags: ['b'] }).config?.tags, ['b', 'a']);
});

test('docker-tag, docker-save, manifest: tags land on the committed image; the save is a docker-save tar', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const committed = await build(c, { commit: true });
  const tagged = await pp(dockerTagPostProcessor, { repository: 'localhost/built/app', tags: ['1.0', 'latest'], force: true }, committed, c);
  assert.deepEqual([tagged.keep, tagged.forceOverride], [true, true]);
  assert.deepEqual([tagged.artifact.builderId, tagged.artifact.id, tagged.artifact.state.docker_tags], ['packer.post-processor.docker-tag', 'localhost/built/app:latest', ['localhost/built/app:1.0', 'localhost/built/app:latest']]);
  assert.ok(c.ui.lines.includes(`    Tagging image: ${committed.id}`) && c.ui.lines.includes('    Repository: localhost/built/app:1.0'));
  const info = await suite.docker.getImage('localhost/built/app:1.0').inspect();
  assert.equal(info.Id.replace(/^sha256:/, ''), committed.id.replace(/^sha256:/, ''));
  const saved = await pp(dockerSavePostProcessor, { path: 'app.tar' }, tagged.artifact, c);
  assert.equal(saved.artifact, tagged.artifact);
  assert.ok(c.ui.lines.includes('    Saved to: app.tar'));
  const names: string[] = [];
  await tar.t({ file: join(suite.work, 'app.tar'), onReadEntry: (e) => names.push(e.path) });
  assert.ok(names.includes('manifest.json'), names.join(','));
  await pp(manifestPostProcessor, { output: 'manifest.json' }, tagged.artifact, c);
  const manifest = JSON.parse(await readFile(join(suite.work, 'manifest.json'), 'utf8')) as { builds: { name: string; builder_type: string; artifact_id: string; files: unknown }[] };
  assert.deepEqual(manifest.builds.map((b) => [b.name, b.builder_type, b.artifact_id, b.files]), [['pp', 'docker', 'localhost/built/app:latest', null]]);
  await tagged.artifact.destroy();
  await suite.docker.getImage('localhost/built/app:1.0').remove();
  await committed.destroy();
});

test('docker-import: an exported tar becomes an image named repository:tag with the changes', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const exported = await build(c, { export_path: 'exported.tar' });
  assert.ok((await stat(join(suite.work, 'exported.tar'))).size > 0);
  const imported = await pp(dockerImportPostProcessor, { repository: 'localhost/imported', tag: 'v1', changes: ['ENV IMPORTED=yes'] }, exported, c);
  assert.deepEqual([imported.artifact.builderId, imported.artifact.id, imported.keep], ['packer.post-processor.docker-import', 'localhost/imported:v1', false]);
  assert.ok(c.ui.lines.includes('    Importing image: exported.tar') && c.ui.lines.some((l) => l.startsWith('    Imported ID: ')));
  const info = await suite.docker.getImage('localhost/imported:v1').inspect();
  assert.ok((info.Config.Env ?? []).includes('IMPORTED=yes'), JSON.stringify(info.Config.Env));
  await imported.artifact.destroy();
  await assert.rejects(suite.docker.getImage('localhost/imported:v1').inspect());
});

test('docker-push: an unreachable registry is a clear error naming the image', async (t) => {
  if (suite.skipped(t)) return;
  const c = ctx();
  const committed = await build(c, { commit: true });
  try {
    const tagged = await pp(dockerTagPostProcessor, { repository: '127.0.0.1:1/nowhere/app', tags: ['1'] }, committed, c);
    await assert.rejects(
      pp(dockerPushPostProcessor, { login: true, login_server: '127.0.0.1:1', login_username: 'u', login_password: 'hunter2-secret' }, tagged.artifact, c),
      (err: Error) => {
        assert.match(err.message, /^Error logging in to Docker: /);
        assert.ok(!err.message.includes('hunter2-secret'));
        return true;
      },
    );
    await assert.rejects(pp(dockerPushPostProcessor, {}, tagged.artifact, c), /^UserError: Error pushing 127\.0\.0\.1:1\/nowhere\/app:1: /);
    assert.ok(!c.ui.lines.join('\n').includes('hunter2-secret'));
    await tagged.artifact.destroy();
  } finally {
    await committed.destroy();
  }
});

test('docker-push: pushes the tagged names to a registry on the loopback (Debian docker-registry)', async (t) => {
  if (suite.skipped(t)) return;
  const registry = await startRegistry();
  if ('skip' in registry) return t.skip(registry.skip);
  const c = ctx();
  const committed = await build(c, { commit: true });
  try {
    const tagged = await pp(dockerTagPostProcessor, { repository: `${registry.address}/team/app`, tags: ['1.0', '1'] }, committed, c);
    const pushed = await pp(dockerPushPostProcessor, {}, tagged.artifact, c);
    assert.deepEqual([pushed.artifact.builderId, pushed.artifact.id, pushed.keep], ['packer.post-processor.docker-import', `${registry.address}/team/app:1`, true]);
    assert.deepEqual(pushed.artifact.state.docker_tags, [`${registry.address}/team/app:1.0`, `${registry.address}/team/app:1`]);
    assert.ok(c.ui.lines.includes(`    Pushing: ${registry.address}/team/app:1.0`));
    const tags = (await (await fetch(`http://${registry.address}/v2/team/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['1', '1.0']);
    await suite.docker.getImage(`${registry.address}/team/app:1.0`).remove();
    await tagged.artifact.destroy();
  } finally {
    await committed.destroy();
    await registry.stop();
  }
});
