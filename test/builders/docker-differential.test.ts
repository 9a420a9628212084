/**
 * Differential test against Packer 1.6.6's own `docker` builder (which drives a docker CLI),
 * pointed through the podman harness's CLI proxy at the same Podman API service builder talks to:
 * the same template (test/fixtures/docker/diff) built by both gives the same provisioning output,
 * the same committed filesystem and the same image configuration (changes, message, author).
 * Packer's template runs through `packer build`; builder's side runs the same steps through its
 * components (the docker builder is not in the CLI's registry of this branch).
 *
 * Known departures, filtered before comparing: Packer's "Creating a temporary directory for
 * sharing data..." (builder mounts no host folder) and its "Run command:" line (it names that host
 * folder); the `builder.*` labels builder puts on its containers, which a commit keeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dockerBuilder } from '../../src/builders/docker.js';
import { imageRef } from '../../src/builders/docker/artifacts.js';
import type { Communicator, StepContext } from '../../src/sdk/component.js';
import { provisioners } from '../../src/provisioners/registry.js';
import { repoRoot } from '../build/cli.js';
import { testContext } from '../communicators/context.js';
import { packerSkipReason, runPacker } from '../helpers/packer.js';
import { usePodman } from '../helpers/podman.js';

const FIXTURE = join(repoRoot, 'test/fixtures/docker/diff');
const suite = usePodman('builder-docker-diff-');

/** Step output from "Starting docker container..." to the commit, normalised. */
function normalise(lines: readonly string[]): string[] {
  const start = lines.findIndex((l) => l.endsWith('Starting docker container...'));
  const end = lines.findIndex((l) => l.endsWith('Committing the container'));
  return lines
    .slice(start, end + 1)
    .filter((l) => !/Run command: docker run /.test(l) && !/Creating a temporary directory/.test(l))
    .map((l) => l.replace(/[0-9a-f]{64}/g, 'ID').replace(/\/tmp\/(?:builder-scripts-[\w-]+\/)?packer-shell\d+/g, '/tmp/packer-shellN'));
}

/** A listing of the image's filesystem (path, mode, owner, size of non-folders) and file contents. */
async function fsListing(image: string): Promise<string> {
  const script = [
    "find / -xdev \\( -path /proc -o -path /sys -o -path /dev -o -path /etc/hostname -o -path /etc/hosts -o -path /etc/resolv.conf -o -path /run/.containerenv \\) -prune -o ! -type d -exec stat -c '%n %A %u:%g %s' {} + | sort",
    "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type d -exec stat -c '%n %A %u:%g' {} + | sort",
    'cat /opt/hello /opt/single.txt /opt/tree/a.txt /opt/tree/sub/b.txt',
  ].join('; ');
  const container = await suite.docker.createContainer({ Image: imageRef(image), Entrypoint: ['/bin/sh'], Cmd: ['-c', script], HostConfig: { NetworkMode: 'host' } });
  try {
    await container.start();
    await container.wait();
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    let out = '';
    for (let i = 0; i + 8 <= logs.length; i += 8 + logs.readUInt32BE(i + 4)) out += logs.subarray(i + 8, i + 8 + logs.readUInt32BE(i + 4)).toString();
    return out;
  } finally {
    await container.remove({ force: true });
  }
}

async function imageConfig(image: string): Promise<Record<string, unknown>> {
  const info = await suite.docker.getImage(imageRef(image)).inspect();
  const c = info.Config;
  // builder labels its containers (builder.build, …) and a commit keeps a container's labels
  const labels = Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([k]) => !k.startsWith('builder.')));
  // Podman adds container=podman and TERM=xterm to a commit's Env in no fixed order (for Packer's too)
  return { Env: [...(c.Env ?? [])].sort(), Labels: labels, Cmd: c.Cmd, Entrypoint: c.Entrypoint, WorkingDir: c.WorkingDir, ExposedPorts: c.ExposedPorts, User: c.User, Comment: info.Comment, Author: info.Author };
}

async function provision(type: string, raw: Record<string, unknown>, c: StepContext, comm: Communicator | undefined): Promise<void> {
  const def = provisioners.get(type)!;
  const p = def.prepare(raw);
  assert.deepEqual(p.errors, []);
  await def.run(p.config, { ...c, comm, conn: { type: 'docker' } });
}

test('docker differential: Packer 1.6.6 and builder make the same image from the same template', async (t) => {
  if (suite.skipped(t)) return;
  const why = packerSkipReason() ?? (spawnSync('/bin/sh', ['-c', 'command -v docker']).status !== 0 ? 'no docker CLI on PATH (Packer 1.6.6 drives one)' : undefined);
  if (why) return t.skip(why);
  const podman = suite.podman!;
  const manifest = join(suite.work, 'packer-manifest.json');
  const packer = await runPacker('build', ['-var', `image=${podman.baseImage}`, '-var', `manifest=${manifest}`], FIXTURE, { env: { DOCKER_HOST: podman.cliHost } });
  assert.equal(packer.status, 0, packer.stdout + packer.stderr);
  const packerImage = (JSON.parse(await readFile(manifest, 'utf8')) as { builds: { artifact_id: string }[] }).builds[0]!.artifact_id;
  const packerLines = packer.stdout.split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').replace(/^(==> | {4})docker\.d: /, '$1'));

  const c = testContext({ buildName: 'docker.d', builderType: 'docker', cwd: FIXTURE, env: { ...process.env, ...podman.env } });
  const r = dockerBuilder.prepare({
    image: podman.baseImage,
    pull: false,
    commit: true,
    message: 'differential',
    author: 'tester <t@example.com>',
    changes: ['ENV FOO=bar', 'LABEL team=infra', 'WORKDIR /opt', 'EXPOSE 8080', 'CMD ["/bin/cat", "/opt/hello"]'],
  });
  assert.deepEqual(r.errors, []);
  const config = r.config!;
  const instance = await dockerBuilder.create(config, c);
  let ours = '';
  try {
    const { comm } = await dockerBuilder.connect(config, instance, c);
    await provision('shell', { inline: ['mkdir -p /opt/tree && echo hello > /opt/hello', 'echo out-line', 'echo err-line >&2', 'id -u'] }, c, comm);
    await provision('file', { source: `${FIXTURE}/files/`, destination: '/opt/tree' }, c, comm);
    await provision('file', { source: `${FIXTURE}/single.txt`, destination: '/opt/single.txt' }, c, comm);
    ours = (await dockerBuilder.finish(config, instance, c))!.id;
  } finally {
    await dockerBuilder.destroy(config, instance, c);
  }
  try {
    // stdout and stderr are separate streams: their relative order is not fixed
    const oursOut = normalise(c.ui.lines);
    const packerOut = normalise(packerLines);
    assert.deepEqual([...oursOut].sort(), [...packerOut].sort());
    assert.deepEqual(oursOut.filter((l) => l !== '==> err-line'), packerOut.filter((l) => l !== '==> err-line'));
    assert.equal(await fsListing(ours), await fsListing(packerImage));
    assert.deepEqual(await imageConfig(ours), await imageConfig(packerImage));
  } finally {
    await suite.docker.getImage(imageRef(ours)).remove({ force: true });
    await suite.docker.getImage(imageRef(packerImage)).remove({ force: true });
  }
});
