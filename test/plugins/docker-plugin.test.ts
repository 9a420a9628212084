/**
 * A plugin builder with a native twin replaced by the plugin: Packer 1.6.6's `docker` builder
 * (it drives a `docker` CLI) through builder's plugin path, against Podman's Docker-compatible
 * service (test/helpers/podman.ts; the harness's `docker` wrapper folder first on PATH and its CLI
 * proxy socket as DOCKER_HOST, as Packer itself is run in test/builders/docker-differential.test.ts).
 * - `BUILDER_PREFER_PLUGINS=1`: builder, `shell` provisioner (over the plugin builder's
 *   communicator, through builder's Hook/Communicator services) and `manifest` all from 1.6.6;
 * - `required_plugins` selecting a `packer-plugin-docker` (a wrapper serving 1.6.6's docker
 *   builder) with builder's own native `shell` provisioner over the plugin's communicator, next to
 *   a plugin provisioner (`p166-shell`, 1.6.6's shell behind another wrapper).
 * Each checks the committed image holds the provisioned files, and that no container and no
 * plugin process is left. Skipped, with the reason, without packer or Podman.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { BUILDER_JS, type RunResult } from '../cli/run.js';
import { assertNoneLeft } from '../helpers/leftovers.js';
import { packerBinary, packerSkipReason } from '../helpers/packer.js';
import { runInImage, usePodman } from '../helpers/podman.js';

const suite = usePodman('builder-docker-plugin-');

/** Why these tests cannot run here (beyond Podman's own reason), or undefined. */
function skipReason(): string | undefined {
  return packerSkipReason() ?? (spawnSync('/bin/sh', ['-c', 'command -v podman']).status !== 0 ? 'no podman CLI (the harness\'s docker wrapper runs it)' : undefined);
}

/** Installs `packer-plugin-NAME` v1.0.0 in HOME's Packer plugins folder: `describe` lists
 * `components`, `start` runs 1.6.6's in-tree `packer plugin INTREE`. */
function installWrapper(home: string, name: string, components: { builders?: string[]; provisioners?: string[] }, inTree: string): void {
  const folder = join(home, '.packer.d', 'plugins', 'github.com', 'example', name);
  mkdirSync(folder, { recursive: true });
  const bin = join(folder, `packer-plugin-${name}_v1.0.0_x5.0_${process.platform}_${process.arch.replace('x64', 'amd64')}`);
  const describeJson = JSON.stringify({ version: '1.0.0', sdk_version: '0.0.0', api_version: 'x5.0', builders: [], provisioners: [], post_processors: [], datasources: [], ...components });
  writeFileSync(bin, `#!/bin/sh\ncase "$1" in\n  describe) printf '%s\\n' '${describeJson}' ;;\n  start) exec ${JSON.stringify(packerBinary()!)} plugin ${inTree} ;;\n  *) exit 1 ;;\nesac\n`);
  chmodSync(bin, 0o755);
  writeFileSync(`${bin}_SHA256SUM`, createHash('sha256').update(readFileSync(bin)).digest('hex'));
}

describe('Packer 1.6.6\'s docker builder as a plugin, against Podman', () => {
  let n = 0;

  /** Runs `builder build` on `template` in a fresh folder (own HOME, the marker, the harness's
   * docker CLI), sending it SIGINT once its output matches `interruptWhen`; checks that no process
   * of the run is left and no container. */
  async function build(t: TestContext, template: string, env: NodeJS.ProcessEnv, setup?: (home: string) => void, interruptWhen?: RegExp): Promise<RunResult | undefined> {
    if (suite.skipped(t)) return undefined;
    const why = skipReason();
    if (why) { t.skip(why); return undefined; }
    const podman = suite.podman!;
    const path = join(suite.work, `w${++n}`);
    const home = join(path, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(path, 't.pkr.hcl'), template);
    setup?.(home);
    const marker = `BUILDER_TEST_MARK=${randomUUID()}`;
    const [k, v] = marker.split('=') as [string, string];
    const child = spawn(process.execPath, [BUILDER_JS, 'build', '-color=false', 't.pkr.hcl'], {
      cwd: path,
      env: {
        HOME: home, CHECKPOINT_DISABLE: '1', TMPDIR: path, [k]: v, ...env,
        DOCKER_HOST: podman.cliHost,
        PATH: `${podman.env.PODMAN_HARNESS_DOCKER_WRAPPER_DIR ?? ''}:${process.env.PATH ?? ''}`,
      },
    });
    const r: RunResult = { code: 1, stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      r.stdout += c;
      if (interruptWhen?.test(r.stdout)) {
        interruptWhen = undefined;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (r.stderr += c));
    r.code = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    await assertNoneLeft(marker);
    assert.deepEqual((await suite.docker.listContainers({ all: true })).map((c) => c.Id), [], 'containers left behind');
    return r;
  }

  /** The committed docker source every template here builds, on the harness's base image. */
  function dockerSource(): string {
    return `source "docker" "d" {\n  image  = "${suite.podman?.baseImage ?? ''}"\n  pull   = false\n  commit = true\n}\n`;
  }

  /** The id of the image the build's artifact names. */
  function imageOf(r: RunResult): string {
    const m = /--> docker\.d: Imported Docker image: (?:sha256:)?([0-9a-f]{64})/.exec(r.stdout);
    assert.ok(m, r.stdout + r.stderr);
    return m[1]!;
  }

  it('BUILDER_PREFER_PLUGINS=1: docker builder, shell provisioner and manifest from 1.6.6; the image holds the file', async (t) => {
    const r = await build(t, `${dockerSource()}build {
  sources = ["source.docker.d"]
  provisioner "shell" {
    inline = ["echo by-the-plugin-shell > /provisioned.txt", "echo uid=$(id -u)"]
  }
  post-processor "manifest" {
    output = "manifest.json"
  }
}
`, { BUILDER_PREFER_PLUGINS: '1' });
    if (!r) return;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // Packer's docker builder's own texts, and the plugin shell's output streamed back.
    assert.match(r.stdout, /==> docker\.d: Starting docker container\.\.\./);
    // 1.6.6's shell names its local script in TMPDIR (the work folder), builder's in builder-scripts-*.
    assert.match(r.stdout, /==> docker\.d: Provisioning with shell script: \S*\/w\d+\/packer-shell\d+\n/);
    assert.match(r.stdout, /\n {4}docker\.d: uid=0\n/);
    assert.match(r.stdout, /==> docker\.d: Committing the container/);
    const image = imageOf(r);
    assert.equal(await runInImage(suite.docker, image, 'cat /provisioned.txt'), 'by-the-plugin-shell\n');
    const manifest = JSON.parse(readFileSync(join(suite.work, `w${n}`, 'manifest.json'), 'utf8')) as { builds: Array<{ builder_type: string; artifact_id: string }> };
    assert.equal(manifest.builds[0]!.builder_type, 'docker');
    assert.equal(manifest.builds[0]!.artifact_id.replace(/^sha256:/, ''), image);
    await suite.docker.getImage(image).remove({ force: true });
  });

  it('required_plugins: the plugin docker builder with builder\'s native shell over its communicator, next to a plugin provisioner', async (t) => {
    const r = await build(t, `packer {
  required_plugins {
    docker = { source = "github.com/example/docker", version = "~> 1.0" }
    p166   = { source = "github.com/example/p166", version = "~> 1.0" }
  }
}
${dockerSource()}build {
  sources = ["source.docker.d"]
  provisioner "p166-shell" {
    inline = ["echo by-the-plugin > /plugin.txt"]
  }
  provisioner "shell" {
    inline = ["echo by-builder > /native.txt", "cat /plugin.txt", "exit 0"]
  }
}
`, {}, (home) => {
      // The SDK's default component name makes the plugin's builder "docker" itself.
      installWrapper(home, 'docker', { builders: ['-packer-default-plugin-name-'] }, 'packer-builder-docker');
      installWrapper(home, 'p166', { provisioners: ['shell'] }, 'packer-provisioner-shell');
    });
    if (!r) return;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /==> docker\.d: Starting docker container\.\.\./); // 1.6.6's builder, not the native one
    assert.match(r.stdout, /==> docker\.d: Provisioning with shell script: \S*\/w\d+\/packer-shell\d+\n/); // the plugin's
    assert.match(r.stdout, /==> docker\.d: Provisioning with shell script: \S*builder-scripts-[^/]+\/packer-shell\d+\n {4}docker\.d: by-the-plugin\n/); // builder's
    const image = imageOf(r);
    assert.equal(await runInImage(suite.docker, image, 'cat /plugin.txt /native.txt'), 'by-the-plugin\nby-builder\n');
    await suite.docker.getImage(image).remove({ force: true });
  });

  it('SIGINT while a plugin provisioner runs in the container: a clear cancelled build, the plugin cleans its container up', async (t) => {
    const r = await build(t, `${dockerSource()}build {
  sources = ["source.docker.d"]
  provisioner "shell" {
    inline = ["echo step-started", "sleep 60"]
  }
}
`, { BUILDER_PREFER_PLUGINS: '1' }, undefined, /docker\.d: step-started\n/);
    if (!r) return;
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Cancelling build after receiving interrupt/);
    assert.match(r.stdout, /==> docker\.d: Killing the container: [0-9a-f]{64}/);
    assert.match(r.stdout, /Build 'docker\.d' errored after .*: Build was cancelled\./);
    assert.doesNotMatch(r.stdout + r.stderr, /Internal error|\n\s+at /);
    // build() checked that no container and no plugin process is left.
  });
});
