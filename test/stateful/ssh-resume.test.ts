/**
 * SSH resume (issue 5): a null build with the ssh communicator against a real test sshd (key auth)
 * runs 4 remote shell steps; step 3 fails until a marker file exists. The first run fails at step 3
 * and keeps the instance; after the fix, the rerun reconnects over ssh and runs steps 3 and 4 only —
 * the remote log shows steps 1 and 2 once. When the host is unreachable on the rerun (sshd paused),
 * the run fails with Packer's ssh timeout message, the completed steps stay recorded, and the run
 * after the host is back resumes at step 3.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot, runCli } from '../build/cli.js';
import { sshdSkipReason, startSshd } from '../helpers/sshd.js';
import { openFileState } from '../../src/state/open.js';

const TEMPLATE = join(repoRoot, 'test/fixtures/stateful/ssh-resume.pkr.hcl');
const BUILD = 'ssh-resume.null.remote';

async function acceptedLogins(logPath: string): Promise<number> {
  return ((await readFile(logPath, 'utf8').catch(() => '')).match(/Accepted publickey/g) ?? []).length;
}

test('a null build over ssh that failed at step 3 of 4 resumes: the rerun reconnects and runs steps 3 and 4 only', { skip: sshdSkipReason() }, async (t) => {
  const sshd = await startSshd();
  if ('skip' in sshd) return t.skip(sshd.skip);
  const dir = await mkdtemp(join(tmpdir(), 'builder-ssh-resume-'));
  // The "remote machine" is this one, reached over ssh: its log lives in a directory of its own.
  const remote = await mkdtemp(join(tmpdir(), 'builder-ssh-remote-'));
  try {
    await cp(TEMPLATE, join(dir, 'ssh-resume.pkr.hcl'));
    const args = [
      'build',
      '-color=false',
      ...['host=' + sshd.host, `port=${sshd.port}`, 'user=' + sshd.user, 'key=' + sshd.keyPath, 'remote_dir=' + remote].flatMap((v) => ['-var', v]),
      'ssh-resume.pkr.hcl',
    ];
    const env = { TMPDIR: dir, BUILDER_STATE_PATH: '' };
    const remoteLog = (): Promise<string> => readFile(join(remote, 'remote.log'), 'utf8');

    const first = await runCli(args, dir, env);
    assert.notEqual(first.code, 0, `the first run fails at step 3:\n${first.stdout}\n${first.stderr}`);
    assert.equal(await remoteLog(), 'step1\nstep2\nstep3\n');
    assert.match(first.stdout, /Resume on it from the step that did not complete with: |Resume from the step that did not complete with: /);
    const state = await openFileState({ path: join(dir, '.packer.d/builder-state.json'), template: 'ssh-resume.pkr.hcl', lock: false, onWarning: () => undefined });
    const failed = state.build(BUILD);
    await state.close();
    assert.ok(failed, 'the failed build is recorded');
    assert.equal(failed.status, 'failed');
    assert.deepEqual(
      failed.provisioners.map((p) => p.status),
      ['complete', 'complete', 'failed', 'pending'],
    );
    assert.ok(failed.instance, 'the instance (the host) is recorded');
    assert.match(JSON.stringify(failed.instance.metadata), /127\.0\.0\.1/, 'with how to reconnect to it');
    assert.doesNotMatch(JSON.stringify(failed.instance), /BEGIN OPENSSH PRIVATE KEY/, 'no secret in the recorded instance');

    await writeFile(join(remote, 'fixed'), '');
    const loginsBefore = await acceptedLogins(sshd.logPath);
    const second = await runCli(args, dir, env);
    assert.equal(second.code, 0, `the rerun succeeds:\n${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /Resuming .*provisioner 3\b/, 'the plan says it resumes from step 3');
    assert.match(second.stdout, /Connected to SSH!/);
    assert.ok((await acceptedLogins(sshd.logPath)) > loginsBefore, 'the rerun logged in over ssh again');
    assert.equal(await remoteLog(), 'step1\nstep2\nstep3\nstep3\nstep4\n', 'steps 1 and 2 ran once; 3 and 4 on the rerun');

    const third = await runCli(args, dir, env);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /Up to date/);
    assert.equal(await remoteLog(), 'step1\nstep2\nstep3\nstep3\nstep4\n', 'an up-to-date build runs nothing');
  } finally {
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(remote, { recursive: true, force: true });
  }
});

test('a resume whose host is unreachable fails with the ssh timeout, keeps the completed steps, and resumes once the host is back', { skip: sshdSkipReason() }, async (t) => {
  const sshd = await startSshd();
  if ('skip' in sshd) return t.skip(sshd.skip);
  const dir = await mkdtemp(join(tmpdir(), 'builder-ssh-resume-'));
  const remote = await mkdtemp(join(tmpdir(), 'builder-ssh-remote-'));
  try {
    await cp(TEMPLATE, join(dir, 'ssh-resume.pkr.hcl'));
    const vars = ['host=' + sshd.host, `port=${sshd.port}`, 'user=' + sshd.user, 'key=' + sshd.keyPath, 'remote_dir=' + remote, 'ssh_timeout=3s'];
    const args = ['build', '-color=false', ...vars.flatMap((v) => ['-var', v]), 'ssh-resume.pkr.hcl'];
    const env = { TMPDIR: dir, BUILDER_STATE_PATH: '' };
    const remoteLog = (): Promise<string> => readFile(join(remote, 'remote.log'), 'utf8');

    assert.notEqual((await runCli(args, dir, env)).code, 0, 'the first run fails at step 3');
    await writeFile(join(remote, 'fixed'), '');
    await sshd.pause();
    const unreachable = await runCli(args, dir, env);
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stdout, /Timeout waiting for SSH\. Could not connect to 127\.0\.0\.1:\d+ within ssh_timeout \(3s\)/);
    assert.doesNotMatch(unreachable.stdout + unreachable.stderr, /\n\s+at /, 'no stack trace');
    const state = await openFileState({ path: join(dir, '.packer.d/builder-state.json'), template: 'ssh-resume.pkr.hcl', lock: false, onWarning: () => undefined });
    const kept = state.build(BUILD);
    await state.close();
    assert.deepEqual(kept?.provisioners.slice(0, 2).map((p) => p.status), ['complete', 'complete'], 'the completed steps stay recorded');
    assert.equal(await remoteLog(), 'step1\nstep2\nstep3\n');

    await sshd.resume();
    const back = await runCli(args, dir, env);
    assert.equal(back.code, 0, `${back.stdout}\n${back.stderr}`);
    assert.match(back.stdout, /Resuming .*provisioner 3\b/);
    assert.equal(await remoteLog(), 'step1\nstep2\nstep3\nstep3\nstep4\n', 'steps 1 and 2 still ran once');
  } finally {
    await sshd.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(remote, { recursive: true, force: true });
  }
});
