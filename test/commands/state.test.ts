/**
 * The `state` commands as a user runs them: list, show (human and -json), rm (backup, kept
 * instances: refused without a terminal, asked on one, -force), pull/push (lineage and serial
 * rules), unlock by id, restore from the backup, and the messages of locked and corrupt states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CommandContext } from '../../src/cli/command.js';
import { createStateRmCommand } from '../../src/commands/state/rm.js';
import { openFileState } from '../../src/state/open.js';
import { newBuild } from '../../src/state/types.js';
import { runInProcess, runProcess } from '../cli/run.js';
import { completeBuild, tempDir } from '../state/helpers/fixtures.js';

async function seed(dir: string): Promise<string> {
  const path = join(dir, '.packer.d', 'builder-state.json');
  const m = await openFileState({ path });
  await m.update('web.null.main', () => completeBuild('web'));
  await m.update('db.vmware.main', () => {
    const b = completeBuild('db', 2);
    b.type = 'vmware';
    b.status = 'failed';
    b.error = 'provisioner 2 failed: exit status 1';
    b.provisioners[1] = { ...b.provisioners[1]!, status: 'failed', error: 'exit status 1' };
    b.instance = { ...b.instance!, id: 'c0ffee', builder_id: 'packer.vmware', provider: 'vmware', keep_on_failure: true };
    return b;
  });
  await m.close();
  return path;
}

async function run(args: string[], cwd: string, stdin?: string) {
  return runInProcess(args, { cwd, env: {}, stdin });
}

/** Runs a command with a "terminal" on stdin that answers `answer`. */
async function runOnTerminal(args: string[], cwd: string, answer: string) {
  return runInProcess(args, { cwd, env: {}, stdin: `${answer}\n`, terminal: true });
}

test('state list prints each build with its status; the default path is ./.packer.d/builder-state.json', async (t) => {
  const dir = tempDir(t);
  await seed(dir);
  const r = await run(['state', 'list'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'db.vmware.main  failed    kept instance c0ffee\nweb.null.main   complete\n');
  const none = await run(['state', 'list', '-state', join(dir, 'nothing.json')], dir);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /No state at .*nothing\.json\./);
});

test('BUILDER_STATE_PATH names the state when -state is not given', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const r = await runInProcess(['state', 'list'], { cwd: tempDir(t), env: { BUILDER_STATE_PATH: path } });
  assert.match(r.stdout, /web\.null\.main/);
});

test('state show: a summary, one build in detail, and -json', async (t) => {
  const dir = tempDir(t);
  await seed(dir);
  const all = await run(['state', 'show'], dir);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^State: {4}.*builder-state\.json\nSerial: {3}2\nLineage: {2}[0-9a-f-]{36}\n/);
  assert.match(all.stdout, /Builds \(2\):\n {2}db\.vmware\.main {2}failed, 2\/3 steps done, kept instance c0ffee of builder packer\.vmware \(vmware\) — provisioner 2 failed: exit status 1\n {2}web\.null\.main {3}complete, 4\/4 steps done\n/);
  const one = await run(['state', 'show', 'db.vmware.main'], dir);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^Build db\.vmware\.main\n {2}Status: {6}failed — provisioner 2 failed: exit status 1\n/);
  assert.match(one.stdout, /Instance: {4}kept instance c0ffee of builder packer\.vmware \(vmware\), created 2026-11-25T10:00:00Z\n {15}id c0ffee \(builder packer\.vmware, vmware\)\n {15}kept after a failure: the next run resumes on it\n {15}host = "127\.0\.0\.1"/);
  assert.match(one.stdout, / 2\. shell "step-1" +failed +1 attempt, 2026-11-25T10:00:00Z to 2026-11-25T10:00:00Z\n {8}error: exit status 1\n/);
  assert.match(one.stdout, /A new run resumes at provisioner 2 \(step-1\): provisioner 2 \(step-1\) failed \(exit status 1\); 1 step already complete\.\n/);
  const json = await run(['state', 'show', '-json', 'web.null.main'], dir);
  assert.equal((JSON.parse(json.stdout) as { status: string }).status, 'complete');
  const missing = await run(['state', 'show', 'nope'], dir);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `Error: no build "nope" in the state ${join(dir, '.packer.d', 'builder-state.json')}. Builds in the state: db.vmware.main, web.null.main.\n[BLD0108]\n`);
});

test('state show speaks plainly: a kept container from its image, a kept null-builder instance; nothing kept about a build a run is building', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, '.packer.d', 'builder-state.json');
  const m = await openFileState({ path });
  await m.update('ctr.docker.main', () => {
    const b = completeBuild('ctr', 1);
    b.status = 'failed';
    b.instance = { id: '3f2a1b2c3d4e5f60718293a4b5c6d7e8', builder_id: 'packer.docker', provider: '', created_at: '2026-11-25T10:00:00Z', metadata: { image: 'debian:12' }, keep_on_failure: true };
    return b;
  });
  await m.update('vm.null.main', () => {
    const b = completeBuild('vm', 1);
    b.status = 'failed';
    b.instance = { id: 'null', builder_id: 'fnoeding.null', provider: '', created_at: '', metadata: { communicator: 'none' }, keep_on_failure: true };
    return b;
  });
  await m.update('busy.null.main', () => {
    const b = completeBuild('busy', 1);
    b.status = 'provisioning';
    b.instance = { id: '10.0.0.5', builder_id: 'fnoeding.null', provider: '', created_at: '', metadata: { host: '10.0.0.5' }, keep_on_failure: true };
    return b;
  });
  await m.lockBuild('busy.null.main', 'build');
  const all = await run(['state', 'show'], dir);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /ctr\.docker\.main +failed, 2\/2 steps done, kept container 3f2a1b2c3d4e from image debian:12\n/);
  assert.match(all.stdout, /vm\.null\.main +failed, 2\/2 steps done, kept instance of the null builder\n/);
  assert.match(all.stdout, /busy\.null\.main +provisioning \(running now\), 2\/2 steps done\n/);
  assert.doesNotMatch(all.stdout, /null \(|, null\)/, 'no raw record fields');
  const busy = await run(['state', 'show', 'busy.null.main'], dir);
  assert.match(busy.stdout, /Status: {6}provisioning \(running now\)\n/);
  assert.match(busy.stdout, /Instance: {4}instance of the null builder \(host 10\.0\.0\.5\), created at an unknown time\n.*\n {15}in use by the run that is building it now\n/);
  assert.doesNotMatch(busy.stdout, /kept|resumes/);
  const ctr = await run(['state', 'show', 'ctr.docker.main'], dir);
  assert.match(ctr.stdout, /Instance: {4}kept container 3f2a1b2c3d4e from image debian:12, created 2026-11-25T10:00:00Z\n/);
  await m.close();
  // Once the run is gone (its lock released), the same record is an interrupted build with a kept instance.
  const after = await run(['state', 'show'], dir);
  assert.match(after.stdout, /busy\.null\.main +provisioning, 2\/2 steps done, kept instance of the null builder \(host 10\.0\.0\.5\)\n/);
});

test('state rm: a timestamped copy first; a kept instance is refused without a terminal, asked on one, forced with -force', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const plain = await run(['state', 'rm', 'web.null.main'], dir);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^Saved a copy of the state before this change to .*builder-state\.json\.[0-9TZ-]+\.rm\.backup\nRemoved build "web\.null\.main"\.\nRemoved 1 build\(s\) from .* \(serial 3\)\.\n$/);
  const copies = readdirSync(join(dir, '.packer.d')).filter((f) => f.endsWith('.rm.backup'));
  assert.equal(copies.length, 1);
  assert.match(readFileSync(join(dir, '.packer.d', copies[0]!), 'utf8'), /web\.null\.main/);

  const refused = await run(['state', 'rm', 'db.vmware.main'], dir);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    'Error: build "db.vmware.main" has a kept instance c0ffee of builder packer.vmware (vmware): the next run would resume on it. ' +
      'There is no terminal to confirm on; run the command again with -force to forget the build (the instance itself is left as it is).\n[BLD0116]\n',
  );
  const no = await runOnTerminal(['state', 'rm', 'db.vmware.main'], dir, 'n');
  assert.equal(no.code, 1);
  assert.match(no.stderr, /Build "db\.vmware\.main" has a kept instance c0ffee .*\? \[y\/N\] Kept build "db\.vmware\.main"\./);
  assert.ok((await openFileState({ path })).build('db.vmware.main'));
  const yes = await runOnTerminal(['state', 'rm', 'db.vmware.main'], dir, 'yes');
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stderr, /Warning: the kept instance c0ffee .* was not destroyed; remove it yourself/);
  assert.deepEqual((await openFileState({ path })).buildKeys(), []);

  const dir2 = tempDir(t);
  await seed(dir2);
  const forced = await run(['state', 'rm', '-force', 'db.vmware.main'], dir2);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /Removed build "db\.vmware\.main"/);
});

test('state rm calls the kept-instance hook that the build engine registers', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const destroyed: string[] = [];
  const cmd = createStateRmCommand({ destroyKeptInstance: async (key, build) => void destroyed.push(`${key}:${build.instance!.id}`) });
  const ctx: CommandContext = {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    stdin: Readable.from([]),
    stdinIsTTY: false,
    stdoutIsTTY: false,
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  };
  assert.equal(await cmd.run(['-force', 'db.vmware.main', 'web.null.main'], ctx), 0);
  assert.deepEqual(destroyed, ['db.vmware.main:c0ffee']);
  assert.deepEqual((await openFileState({ path })).buildKeys(), []);
});

test('state rm of a build another run holds is refused, naming the holder and the unlock command', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const holder = await openFileState({ path });
  const lock = await holder.lockBuild('web.null.main', 'build');
  const r = await run(['state', 'rm', 'web.null.main'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^Error: build "web\.null\.main" of the state .* is locked by \S+ \(pid \d+\) for "build" since /);
  assert.ok(r.stderr.includes(`builder state unlock -state=${path} ${lock!.id}`));
  // The holder (this process) is alive: not broken without a terminal or -force; asked on one.
  const refused = await run(['state', 'unlock', lock!.id], dir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`^Error: the lock ${lock!.id} on .* is held by \\S+ \\(pid ${process.pid}\\) for "build" since .*, which may still be running\\. There is no terminal to confirm on; .*run the command again with -force\\.\n\\[BLD0112\\]\n$`));
  const kept = await runOnTerminal(['state', 'unlock', lock!.id], dir, 'no');
  assert.equal(kept.code, 1);
  assert.match(kept.stderr, new RegExp(`Do you really want to break the lock ${lock!.id}\\?[^]*Break the lock\\? \\[y/N\\] Left the lock ${lock!.id} in place\\.\n$`));
  assert.equal((await holder.locks()).length, 1, 'the lock is still held');
  const asked = await runOnTerminal(['state', 'unlock', lock!.id], dir, 'yes');
  assert.equal(asked.code, 0, asked.stderr);
  assert.equal((await holder.locks()).length, 0);
  const again = await holder.lockBuild('web.null.main', 'build');
  const unlocked = await run(['state', 'unlock', '-force', again!.id], dir);
  assert.equal(unlocked.code, 0, unlocked.stderr);
  assert.match(unlocked.stdout, new RegExp(`^Broke the lock ${again!.id} on build "web\\.null\\.main" of .*, held by \\S+ \\(pid ${process.pid}\\) for "build" since `));
  assert.match(unlocked.stderr, /still running; it may go on writing/);
  const wrong = await run(['state', 'unlock', 'no-such-id'], dir);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^Error: no lock with ID "no-such-id" is held on the state .*\. The state has no locks\.\n\[BLD0107\]\n$/);
  assert.equal((await run(['state', 'rm', 'web.null.main'], dir)).code, 0);
});

test('state pull | push: round trip; another lineage or an older serial is refused unless -force', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const pulled = await run(['state', 'pull'], dir);
  assert.equal(pulled.code, 0, pulled.stderr);
  const doc = JSON.parse(pulled.stdout) as { serial: number; lineage: string; checksum: string };
  assert.equal(doc.serial, 2);
  assert.match(doc.checksum, /^sha256:/);
  const same = await run(['state', 'push', '-'], dir, pulled.stdout);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /already matches; nothing was written/);
  // An edited pull (checksum removed, one build changed, serial raised) is accepted.
  const edited = JSON.parse(pulled.stdout) as Record<string, unknown> & { builds: Record<string, { status: string }> };
  delete edited.checksum;
  edited.builds['web.null.main']!.status = 'failed';
  edited.serial = 5;
  writeFileSync(join(dir, 'edited.json'), JSON.stringify(edited));
  const pushed = await run(['state', 'push', 'edited.json'], dir);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(pushed.stdout, /^Pushed the state to .*: serial 5, lineage /);
  const older = await run(['state', 'push', '-'], dir, pulled.stdout);
  assert.equal(older.code, 1);
  assert.match(older.stderr, /^Error: the state at .* is newer \(serial 5\) than the state to write \(serial 2\)\.\n\nPass -force to overwrite/);
  const other = { ...edited, lineage: '00000000-0000-4000-8000-000000000000' };
  const foreign = await run(['state', 'push', '-'], dir, JSON.stringify(other));
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /lineage 00000000-0000-4000-8000-000000000000, but the state at .* has lineage/);
  const forced = await run(['state', 'push', '-force', '-'], dir, pulled.stdout);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /serial 6/, 'the serial never goes back, even when forced');
  const bad = await run(['state', 'push', '-'], dir, pulled.stdout.replace('"complete"', '"done"'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Error: the state file the state on stdin cannot be read: its checksum does not match/);
  assert.ok(existsSync(path));
});

test('a corrupt state is refused naming the file, the fault and the backup; state restore brings the backup back', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const m = await openFileState({ path });
  await m.update('web.null.main', (b) => void (b!.status = 'failed'));
  await m.persist(); // a whole write: the previous version becomes the backup
  writeFileSync(path, readFileSync(path, 'utf8').slice(0, 100));
  const r = await runProcess(['state', 'list'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `Error: the state file ${path} cannot be read: it is not valid JSON (Unterminated string in JSON at position 100); the file looks truncated.\n\n` +
      `Restore the previous version with:\n\n  builder state restore -state=${path}\n\nor copy it by hand:\n\n  cp ${path}.backup ${path}\n[BLD0102]\n`,
  );
  const noTty = await run(['state', 'restore'], dir);
  assert.equal(noTty.code, 1);
  assert.match(noTty.stderr, /there is no terminal to ask on\. Run it with -force/);
  const restored = await run(['state', 'restore', '-force'], dir);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /The current state cannot be read \(it is not valid JSON/);
  assert.match(restored.stdout, /Moved the unreadable state to .*builder-state\.json\.corrupt-/);
  const list = await run(['state', 'list'], dir);
  assert.equal(list.stdout, 'db.vmware.main  failed    kept instance c0ffee\nweb.null.main   complete\n');
});

test('state restore shows what it replaces and asks on a terminal', async (t) => {
  const dir = tempDir(t);
  const path = await seed(dir);
  const m = await openFileState({ path });
  await m.update('new.null.x', () => newBuild('new', 'null'));
  await m.persist();
  const no = await runOnTerminal(['state', 'restore'], dir, 'no');
  assert.equal(no.code, 1);
  assert.match(no.stdout, /It replaces the current state \(serial 3\):\n {2}- new\.null\.x \(pending\) is not in the backup: it will be forgotten\n/);
  assert.match(no.stderr, /Replace the current state with the backup\? \[y\/N\] Nothing was changed\./);
  const yes = await runOnTerminal(['state', 'restore'], dir, 'y');
  assert.equal(yes.code, 0, yes.stderr);
  assert.match(yes.stdout, /Restored the state: serial 4, 2 build\(s\)\./);
});

test('flags are written the Packer way; bad ones print the usage', async (t) => {
  const dir = tempDir(t);
  await seed(dir);
  assert.equal((await run(['state', 'list', `-state=${join(dir, '.packer.d', 'builder-state.json')}`], dir)).code, 0);
  const bad = await run(['state', 'rm', '-lock-timeout=soon', 'x'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid value "soon" for flag -lock-timeout: expected a duration/);
  assert.match(bad.stderr, /Usage: builder state rm \[options\] \[TEMPLATE\] BUILD\.\.\./);
  const noBuild = await run(['state', 'rm'], dir);
  assert.match(noBuild.stderr, /state rm needs at least one build/);
  const group = await run(['state'], dir);
  assert.equal(group.code, 1);
  assert.match(group.stderr, /Subcommands:\n {4}list/);
});
