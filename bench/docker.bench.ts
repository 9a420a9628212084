/**
 * `npm run bench -- docker`: what the stateful run saves on a docker build, against Podman's
 * Docker-compatible API service (started with test/helpers/podman-harness.sh in a temp folder and
 * purged at the end). One build of BENCH_DOCKER_STEPS `shell` steps (default 20), each sleeping
 * BENCH_DOCKER_STEP_S seconds (default 1) and appending to a file, committed at the end. Wall
 * times of whole `builder build` processes (dist/src/cli/main.js), median of BENCH_RUNS (default 3):
 * - fresh: from an empty state, with snapshots (the default) and with -snapshots=false; their
 *   difference per step is the snapshot overhead, set against the step's own time;
 * - snapshot restart: the last step edited after a complete build: a container from the snapshot
 *   after the step before it, one step run (against a fresh build);
 * - resume: a run that failed at step 15 (of 20; scaled with the step count) kept its container;
 *   the resumed run, steps 15.. only (against a fresh build).
 * Storage: the total size the engine reports for the snapshot images of one fresh build.
 * BENCH_DOCKER_CASES=compare measures instead, on the same template and service, a fresh
 * `builder build` (snapshots on and off) against `packer build` 1.6.6 (its docker builder drives
 * the harness's `docker` CLI wrapper through its CLI proxy) and against the floor: one container,
 * one API exec per step, the commit (dockerode, no builder).
 * Skipped (exit 0, said) when the harness cannot start Podman here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { loadAverage, repo } from './common.js';
import { commitContainer } from '../src/builders/docker/engine.js';

const STEPS = Number(process.env.BENCH_DOCKER_STEPS ?? 20);
const STEP_S = Number(process.env.BENCH_DOCKER_STEP_S ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FAIL_AT = Math.max(1, Math.round((STEPS * 15) / 20));
const cli = join(repo, 'dist/src/cli/main.js');
const harness = join(repo, 'test/helpers/podman-harness.sh');

const root = mkdtempSync(join(tmpdir(), 'builder-bench-docker-'));
const socket = join(root, 'podman.sock');
const started = spawnSync('/bin/bash', [harness, 'start', socket], { encoding: 'utf8' });
if (started.status !== 0) {
  process.stdout.write(`Podman's API service could not be started here; skipping the docker benchmark.\n${started.stderr.split('\n').slice(-3).join('\n')}\n`);
  rmSync(root, { recursive: true, force: true });
  process.exit(0);
}
const podmanEnv: Record<string, string> = {};
for (const m of started.stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) podmanEnv[m[1]!] = m[2]!;
const env = { ...process.env, ...podmanEnv, NO_COLOR: '1', BUILDER_STATE: '', BUILDER_STATE_PATH: '', BUILDER_WORKSPACE: '' };
const docker = new Dockerode({ socketPath: socket });
const image = podmanEnv.PODMAN_HARNESS_BASE_IMAGE ?? 'localhost/harness-busybox:latest';

function template(lines: readonly string[]): string {
  const provs = lines.map((l) => `  provisioner "shell" {\n    inline = [${JSON.stringify(l)}]\n  }\n`).join('');
  return `source "docker" "b" {\n  image  = "${image}"\n  pull   = false\n  commit = true\n}\n\nbuild {\n  sources = ["source.docker.b"]\n${provs}}\n`;
}
const step = (i: number, extra = ''): string => `${extra}sleep ${STEP_S}; echo ${i} >> /root/steps.log`;
const steps = (edit = ''): string[] => Array.from({ length: STEPS }, (_, i) => step(i + 1, i === STEPS - 1 ? edit : ''));
const failing = (): string[] => steps().map((s, i) => (i === FAIL_AT - 1 ? `test -f /root/go || exit 7; ${s}` : s));

let n = 0;
function freshDir(text: string): string {
  const dir = join(root, `b${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'b.pkr.hcl'), text);
  return dir;
}

/** Runs `builder build` in `dir`; wall seconds. Throws when the exit code is not `expect`. */
function build(dir: string, flags: string[] = [], expect = 0): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'build', '-color=false', ...flags, 'b.pkr.hcl'], { cwd: dir, env, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== expect) throw new Error(`builder build exited ${r.status} (expected ${expect}):\n${r.stdout}\n${r.stderr}`);
  return s;
}

function recorded(dir: string): { instance: string; snapshots: string[] } {
  const state = JSON.parse(readFileSync(join(dir, '.packer.d/builder-state.json'), 'utf8')) as unknown;
  const builds: { instance: { id: string } | null; provisioners: { snapshot: { id: string } | null }[] }[] = [];
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.provisioners) && 'instance' in o) builds.push(o as unknown as (typeof builds)[number]);
    else Object.values(o).forEach(walk);
  };
  walk(state);
  const b = builds[0]!;
  return { instance: b.instance?.id ?? '', snapshots: b.provisioners.flatMap((p) => (p.snapshot ? [p.snapshot.id] : [])) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]): string => `${median(xs).toFixed(2)} s (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

/** The floor: a container, one exec per step, the commit, the removal; wall seconds. */
async function floor(): Promise<number> {
  const t0 = process.hrtime.bigint();
  const c = await docker.createContainer({ Image: image, Entrypoint: ['/bin/sh'], Tty: true, OpenStdin: true, HostConfig: { NetworkMode: 'host' } } as Dockerode.ContainerCreateOptions);
  await c.start();
  for (const line of steps()) {
    const e = await c.exec({ Cmd: ['/bin/sh', '-c', line], AttachStdout: true, AttachStderr: true });
    const stream = await e.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.resume();
    });
    if ((await e.inspect()).ExitCode !== 0) throw new Error(`the floor's exec failed: ${line}`);
  }
  const committed = await commitContainer(docker, c.id, {});
  await c.remove({ force: true });
  await docker.getImage(`sha256:${committed.replace(/^sha256:/, '')}`).remove({ force: true });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function packer(dir: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/packer', ['build', '-color=false', 'b.pkr.hcl'], {
    cwd: dir,
    env: { ...env, DOCKER_HOST: podmanEnv.PODMAN_HARNESS_DOCKER_CLI_HOST ?? '', PATH: `${podmanEnv.PODMAN_HARNESS_DOCKER_WRAPPER_DIR ?? ''}:${process.env.PATH ?? ''}`, CHECKPOINT_DISABLE: '1' },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`packer build exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

if (process.env.BENCH_DOCKER_CASES === 'compare') {
  const load0 = loadAverage();
  const ours: number[] = [];
  const oursPlain: number[] = [];
  const theirs: number[] = [];
  const floors: number[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      ours.push(build(freshDir(template(steps()))));
      oursPlain.push(build(freshDir(template(steps())), ['-snapshots=false']));
      theirs.push(packer(freshDir(template(steps()))));
      floors.push(await floor());
    }
  } finally {
    execFileSync('/bin/bash', [harness, 'stop', socket, '--purge'], { stdio: 'ignore' });
    rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(
    [
      `docker build of ${STEPS} shell steps (\`sleep ${STEP_S}; echo N >> file\`), committed; ${RUNS} runs, medians (min–max)`,
      `load average before: ${load0}; after: ${loadAverage()}`,
      '',
      '| case | wall | against Packer |',
      '|---|---|---|',
      `| packer build 1.6.6 (docker CLI through the harness's proxy) | ${fmt(theirs)} | 1 |`,
      `| builder build, snapshots on (default) | ${fmt(ours)} | ${(median(ours) / median(theirs)).toFixed(3)} |`,
      `| builder build, -snapshots=false | ${fmt(oursPlain)} | ${(median(oursPlain) / median(theirs)).toFixed(3)} |`,
      `| floor: one API exec per step + commit | ${fmt(floors)} | ${(median(floors) / median(theirs)).toFixed(3)} |`,
      '',
    ].join('\n'),
  );
  process.exit(0);
}

const loadBefore = loadAverage();
const fresh: number[] = [];
const freshPlain: number[] = [];
const restart: number[] = [];
const resumed: number[] = [];
let snapshotBytes = 0;
try {
  for (let r = 0; r < RUNS; r++) {
    const dir = freshDir(template(steps()));
    fresh.push(build(dir));
    if (r === 0) {
      for (const id of recorded(dir).snapshots) snapshotBytes += (await docker.getImage(`sha256:${id}`).inspect()).Size;
    }
    writeFileSync(join(dir, 'b.pkr.hcl'), template(steps('echo edited; ')));
    restart.push(build(dir));
    freshPlain.push(build(freshDir(template(steps())), ['-snapshots=false']));
    const failed = freshDir(template(failing()));
    build(failed, [], 1);
    const exec = await docker.getContainer(recorded(failed).instance).exec({ Cmd: ['/bin/sh', '-c', 'touch /root/go'] });
    await exec.start({ Detach: true });
    resumed.push(build(failed));
  }
} finally {
  execFileSync('/bin/bash', [harness, 'stop', socket, '--purge'], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
}
const loadAfter = loadAverage();

const perStep = (median(fresh) - median(freshPlain)) / STEPS;
process.stdout.write(
  [
    `docker build of ${STEPS} shell steps of ${STEP_S} s each (busybox image, Podman ${execFileSync('podman', ['--version'], { encoding: 'utf8' }).trim().split(' ').pop()}), ${RUNS} runs, medians (min–max)`,
    `load average before: ${loadBefore}; after: ${loadAfter}`,
    '',
    '| case | wall | against fresh (with snapshots) |',
    '|---|---|---|',
    `| fresh, snapshots on (default) | ${fmt(fresh)} | 1 |`,
    `| fresh, -snapshots=false | ${fmt(freshPlain)} | ${(median(freshPlain) / median(fresh)).toFixed(3)} |`,
    `| step ${STEPS} edited: restart from the snapshot after step ${STEPS - 1} | ${fmt(restart)} | ${(median(restart) / median(fresh)).toFixed(3)} |`,
    `| resume after a failure at step ${FAIL_AT} (steps ${FAIL_AT}–${STEPS} run) | ${fmt(resumed)} | ${(median(resumed) / median(fresh)).toFixed(3)} |`,
    '',
    `snapshot overhead per step: ${perStep.toFixed(3)} s (${((perStep / STEP_S) * 100).toFixed(0)} % of a ${STEP_S} s step); ` +
      `snapshot images of one build: ${(snapshotBytes / 2 ** 20).toFixed(1)} MiB as the engine reports them (${STEPS} images)`,
    '',
  ].join('\n'),
);
