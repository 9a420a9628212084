/**
 * The manager over the local file backend: the reference system's integration scenarios (the
 * 11-step lifecycle, several builds, a recorded failure, resume detection), large states, rapid
 * cycles, copies on read, sensitive values, push semantics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStateClient } from '../../src/state/file/client.js';
import { StateManager } from '../../src/state/manager.js';
import { openFileState } from '../../src/state/open.js';
import { recordedPlan } from '../../src/plan/recorded.js';
import { recordVariables } from '../../src/state/sensitive.js';
import { StateCorruptError, StatePushRefusedError } from '../../src/state/errors.js';
import { newBuild, newStep, type BuildState } from '../../src/state/types.js';
import { completeBuild, tempDir } from './helpers/fixtures.js';

const T = '2026-11-25T10:00:00Z';

test('lifecycle: pending → creating → provisioning → complete is 11 persisted changes, serial 1 to 11', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  const key = 'web.null.main';
  const serials: number[] = [];
  const step = async (fn: (b: BuildState) => void): Promise<void> => {
    assert.equal(await m.update(key, (b) => fn(b!)), true);
    serials.push(m.serial);
  };
  assert.equal(await m.update(key, () => ({ ...newBuild('web', 'null'), provisioners: [newStep('shell'), newStep('shell'), newStep('file')] })), true);
  serials.push(m.serial);
  await step((b) => void ((b.status = 'creating'), (b.started_at = T)));
  await step((b) => void (b.instance = { id: 'i-1', builder_id: 'packer.null', provider: 'null', created_at: T, metadata: {}, keep_on_failure: false }));
  await step((b) => void (b.status = 'provisioning'));
  for (let i = 0; i < 3; i++) {
    await step((b) => void ((b.provisioners[i]!.status = 'running'), (b.provisioners[i]!.attempts = 1)));
    await step((b) => void (b.provisioners[i]!.status = 'complete'));
  }
  await step((b) => {
    b.artifacts.push({ id: 'art', builder_id: 'packer.null', type: 'null', files: [], metadata: {}, hash: '' });
    b.status = 'complete';
    b.completed_at = T;
  });
  assert.deepEqual(serials, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  // A write that changes nothing persists nothing.
  assert.equal(await m.update(key, (b) => void (b!.status = 'complete')), false);
  assert.equal(m.serial, 11);
  const reread = await openFileState({ path });
  assert.equal(reread.serial, 11);
  assert.equal(reread.lineage, m.lineage);
  assert.deepEqual(reread.snapshot(), m.snapshot());
  assert.equal(reread.build(key)?.status, 'complete');
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test('several builds share one state without cross-contamination', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  const keys = ['a.null.x', 'b.docker.y', '.null.z'];
  for (const k of keys) await m.update(k, () => newBuild(k.split('.')[0]!, k.split('.')[1]!));
  await m.update('b.docker.y', (b) => void ((b!.status = 'failed'), (b!.error = 'boom')));
  const other = await openFileState({ path });
  assert.deepEqual(other.buildKeys().sort(), [...keys].sort());
  assert.equal(other.build('a.null.x')?.status, 'pending');
  assert.equal(other.build('a.null.x')?.error, '');
  assert.equal(other.build('b.docker.y')?.status, 'failed');
  assert.equal(other.build('b.docker.y')?.error, 'boom');
  assert.equal(other.build('.null.z')?.type, 'null');
});

test('a recorded failure keeps complete / failed ("exit status 1") / skipped steps', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  const b = completeBuild('f');
  b.status = 'failed';
  b.error = 'provisioner 2 failed: exit status 1';
  b.provisioners[1] = { ...b.provisioners[1]!, status: 'failed', error: 'exit status 1' };
  b.provisioners[2] = { ...b.provisioners[2]!, status: 'skipped', attempts: 0 };
  b.instance!.keep_on_failure = true;
  await m.update('f.null.x', () => b);
  const got = (await openFileState({ path })).build('f.null.x')!;
  assert.deepEqual(got.provisioners.map((p) => [p.status, p.error]), [['complete', ''], ['failed', 'exit status 1'], ['skipped', '']]);
  assert.equal(got.instance?.keep_on_failure, true);
  const plan = recordedPlan('f.null.x', got);
  assert.deepEqual([plan.action, plan.firstProvisioner], ['resume', 1]);
});

test('resume detection (the planner on the record): the first pending, failed or running (interrupted) step', () => {
  const at = (b: ReturnType<typeof completeBuild>): [string, number, number] => {
    const p = recordedPlan('k', b);
    return [p.action, p.firstProvisioner, p.firstChain];
  };
  const b = completeBuild('r', 4);
  assert.equal(recordedPlan('k', b).action, 'up-to-date');
  b.status = 'provisioning';
  b.instance!.keep_on_failure = true;
  b.provisioners[2]!.status = 'running';
  assert.deepEqual(at(b), ['resume', 2, 0], 'an interrupted running step is the resume point, not skipped');
  b.provisioners[1]!.status = 'pending';
  assert.deepEqual(at(b), ['resume', 1, 0]);
  b.provisioners[0]!.status = 'failed';
  assert.deepEqual(at(b), ['resume', 0, 0]);
  const pp = completeBuild('p', 2);
  pp.status = 'failed';
  pp.instance!.keep_on_failure = true;
  pp.post_processors[0]!.status = 'failed';
  assert.deepEqual(at(pp), ['resume', 2, 0]);
  const skipped = completeBuild('s', 2);
  skipped.provisioners[0]!.status = 'skipped';
  assert.equal(recordedPlan('k', skipped).action, 'up-to-date', 'a skipped step is finished');
});

test('reads return copies: changing them changes neither the manager nor the file', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  await m.update('a.null.x', () => completeBuild('a'));
  const copy = m.build('a.null.x')!;
  copy.status = 'failed';
  copy.provisioners.length = 0;
  const snap = m.snapshot();
  snap.builds['a.null.x']!.status = 'pending';
  snap.serial = 99;
  assert.equal(m.build('a.null.x')?.status, 'complete');
  assert.equal(m.build('a.null.x')?.provisioners.length, 3);
  assert.equal(m.serial, 1);
  assert.equal((await openFileState({ path })).build('a.null.x')?.status, 'complete');
});

test('10,000 builds are saved and loaded intact', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  const client = m.client as FileStateClient;
  const big = m.snapshot();
  for (let i = 0; i < 10000; i++) big.builds[`b${i}.null.s`] = completeBuild(`b${i}`);
  await m.replace(big, { force: false });
  assert.equal(m.serial, 1);
  const loaded = await client.get();
  assert.equal(Object.keys(loaded!.builds).length, 10000);
  assert.equal(loaded!.serial, 1);
  assert.equal(loaded!.lineage, big.lineage);
  assert.equal(JSON.stringify(loaded!.builds), JSON.stringify(big.builds));
  // A checkpoint on the big state goes to the journal: the state file is not rewritten.
  const before = statSync(path);
  await m.update('b42.null.s', (b) => void (b!.provisioners[0]!.status = 'running'));
  assert.equal(statSync(path).mtimeMs, before.mtimeMs);
  assert.ok(statSync(`${path}.journal`).size < 4096);
  const again = await openFileState({ path });
  assert.equal(again.serial, 2);
  assert.equal(again.build('b42.null.s')?.provisioners[0]?.status, 'running');
});

test('1,000 rapid save/load cycles: every change is read back, serial 1..1000', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const writer = await openFileState({ path });
  const reader = new FileStateClient({ path });
  for (let i = 1; i <= 1000; i++) {
    await writer.update('c.null.x', (b) => {
      const build = b ?? newBuild('c', 'null');
      build.error = `cycle ${i}`;
      return build;
    });
    const read = await reader.get();
    assert.equal(read?.serial, i);
    assert.equal(read?.builds['c.null.x']?.error, `cycle ${i}`);
  }
  await writer.close();
  const after = JSON.parse(readFileSync(path, 'utf8')) as { serial: number };
  assert.equal(after.serial, 1000, 'close compacts the journal into the state file');
  assert.equal(statSync(`${path}.journal`).size, 0);
});

test('the journal: a torn last record is ignored, and the next writer cuts it off', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.update('a.null.x', (b) => void (b!.status = 'creating'));
  const journal = readFileSync(`${path}.journal`);
  // A crash in the middle of appending record 3: half a line, no newline.
  writeFileSync(`${path}.journal`, Buffer.concat([journal, journal.subarray(0, 40)]));
  const reader = await openFileState({ path });
  assert.equal(reader.serial, 2);
  assert.equal(reader.build('a.null.x')?.status, 'creating');
  await reader.update('a.null.x', (b) => void (b!.status = 'provisioning'));
  const third = await openFileState({ path });
  assert.equal(third.serial, 3);
  assert.equal(third.build('a.null.x')?.status, 'provisioning');
  // A damaged record (bad checksum) ends the journal there.
  const lines = readFileSync(`${path}.journal`, 'utf8').split('\n');
  lines[1] = lines[1]!.replace('provisioning', 'provisionin_');
  writeFileSync(`${path}.journal`, lines.join('\n'));
  assert.equal((await openFileState({ path })).serial, 2);
});

test('the journal emptied by a whole write is not flushed: if its records come back (power failure), readers skip them and writers append after them', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.update('a.null.x', (b) => void (b!.status = 'creating'));
  await m.update('a.null.x', (b) => void (b!.status = 'provisioning'));
  const journal = readFileSync(`${path}.journal`);
  assert.ok(journal.length > 0);
  await m.compact();
  assert.equal(readFileSync(`${path}.journal`).length, 0);
  writeFileSync(`${path}.journal`, journal); // the truncation undone
  const reader = await openFileState({ path });
  assert.equal(reader.serial, 3);
  assert.equal(reader.build('a.null.x')?.status, 'provisioning');
  await reader.update('a.null.x', (b) => void (b!.status = 'complete'));
  const after = await openFileState({ path });
  assert.equal(after.serial, 4);
  assert.equal(after.build('a.null.x')?.status, 'complete');
});

test('sensitive variables are stored only as salted hashes', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path, template: 'x.pkr.hcl' });
  const secret = 'hunter2-very-secret';
  const vars = recordVariables({ region: 'eu-west-1', password: secret }, new Set(['password']), m.salt);
  await m.setTemplate({ path: 'x.pkr.hcl', hash: 'h', variables: vars, files: {} });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.close();
  const text = [path, `${path}.backup`, `${path}.journal`].map((f) => readFileSync(f, 'utf8')).join('');
  assert.ok(!text.includes(secret));
  const stored = (await openFileState({ path })).snapshot().templates['x.pkr.hcl']!.variables;
  assert.equal(stored.region, 'eu-west-1');
  assert.match(String(stored.password), /^sensitive:v2:[0-9a-f]{64}$/);
  const again = recordVariables({ password: secret }, new Set(['password']), m.salt);
  assert.equal(again.password, stored.password, 'the same secret hashes the same within one state');
  assert.notEqual(recordVariables({ password: secret }, new Set(['password']), 'another-lineage').password, stored.password);
});

test('a state another process created first: the template\'s sensitive values are salted with its lineage, not the one this manager made up', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const late = await openFileState({ path, template: 'x.pkr.hcl' }); // opened while no state exists: a lineage of its own
  const first = await openFileState({ path });
  await first.update('a.null.x', () => newBuild('a', 'null'));
  assert.notEqual(late.lineage, first.lineage);
  const secret = 'hunter2-very-secret';
  await late.setTemplate((salt) => ({ path: 'x.pkr.hcl', hash: 'h', variables: recordVariables({ password: secret }, new Set(['password']), salt), files: {} }));
  assert.equal(late.lineage, first.lineage);
  const stored = (await openFileState({ path })).snapshot().templates['x.pkr.hcl']!.variables;
  assert.equal(stored.password, recordVariables({ password: secret }, new Set(['password']), first.salt).password);
});

test('replace (push): another lineage or an older serial is refused unless forced; serial never goes back', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.update('a.null.x', (b) => void (b!.status = 'failed'));
  const foreign = (await StateManager.open({ client: new FileStateClient({ path: join(tempDir(t), 'other.json') }) })).snapshot();
  await assert.rejects(m.replace(foreign, { force: false }), (e: unknown) => e instanceof StatePushRefusedError && e.code === 'STATE_LINEAGE_MISMATCH');
  const old = m.snapshot();
  old.serial = 1;
  await assert.rejects(m.replace(old, { force: false }), (e: unknown) => e instanceof StatePushRefusedError && e.code === 'STATE_SERIAL_OLDER');
  assert.equal(await m.replace(old, { force: true }), false, 'same content: nothing to write');
  old.builds['a.null.x']!.status = 'pending';
  assert.equal(await m.replace(old, { force: true }), true);
  assert.equal(m.serial, 3);
  const newer = m.snapshot();
  newer.serial = 10;
  newer.builds['z.null.z'] = newBuild('z', 'null');
  await m.replace(newer, { force: false });
  assert.equal(m.serial, 10);
  assert.equal(await m.replace(foreign, { force: true }), true);
  assert.equal(m.lineage, foreign.lineage);
  assert.equal(m.serial, 11);
});

test('a build record that fails validation in a checksummed file is refused when first read; the other builds work', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const client = new FileStateClient({ path });
  const s = (await StateManager.open({ client })).snapshot();
  s.serial = 4;
  s.builds['good.null.a'] = completeBuild('good');
  s.builds['bad.null.b'] = { ...completeBuild('bad'), status: 'done' as never }; // put() writes what it is given
  await client.put(s);
  const m = await StateManager.open({ client: new FileStateClient({ path }) });
  assert.equal(m.build('good.null.a')?.status, 'complete');
  // The advice names the backup only when one exists (here, once the state was compacted).
  const refusedWith = (backup: boolean) => (err: unknown): boolean => {
    assert.ok(err instanceof StateCorruptError, String(err));
    assert.equal(err.message.split('\n')[0], `the state file ${path} cannot be read: build "bad.null.b": unknown status "done".`);
    assert.ok(err.message.includes(backup ? `cp ${path}.backup ${path}` : 'No backup of it exists'), err.message);
    return true;
  };
  const refused = refusedWith(false);
  assert.throws(() => m.build('bad.null.b'), refused);
  await assert.rejects(m.update('bad.null.b', (b) => void (b!.error = 'x')), refused);
  assert.equal(m.serial, 4, 'nothing was written');
  assert.equal(await m.update('good.null.a', (b) => void (b!.error = 'changed')), true);
  await m.close(); // compacts: the bad record is written back as it was, still refused
  const again = await StateManager.open({ client: new FileStateClient({ path }) });
  assert.equal(again.serial, 5);
  assert.equal(again.build('good.null.a')?.error, 'changed');
  assert.throws(() => again.build('bad.null.b'), refusedWith(true));
});

test('updateStep: one step record per checkpoint, small whatever the build, read back by another process', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  const key = 'big.null.main';
  const steps = Array.from({ length: 100 }, () => newStep('shell-local'));
  await m.update(key, () => ({ ...newBuild('big', 'null'), provisioners: steps, post_processors: [newStep('manifest')] }));
  const journalSize = (): number => (existsSync(`${path}.journal`) ? statSync(`${path}.journal`).size : 0);
  const before = journalSize();
  assert.equal(await m.updateStep(key, 'provisioners', 42, (s) => void ((s.status = 'running'), (s.attempts = 1))), true);
  assert.equal(await m.updateStep(key, 'post_processors', 0, (s) => void (s.status = 'complete')), true);
  assert.equal(m.serial, 3);
  const record = journalSize() - before;
  assert.ok(record < 1000, `two step records took ${record} bytes`);
  // Nothing changed, no such step, no such build: nothing written, the serial stays.
  assert.equal(await m.updateStep(key, 'provisioners', 42, (s) => void (s.status = 'running')), false);
  assert.equal(await m.updateStep(key, 'provisioners', 100, (s) => void (s.status = 'running')), false);
  assert.equal(await m.updateStep('nosuch.null.x', 'provisioners', 0, (s) => void (s.status = 'running')), false);
  // An invalid record is refused and changes nothing.
  await assert.rejects(m.updateStep(key, 'provisioners', 1, (s) => void (s.attempts = -1)), /attempts/);
  assert.equal(m.build(key)?.provisioners[1]?.attempts, 0);
  assert.equal(m.serial, 3);
  const reread = await openFileState({ path });
  assert.equal(reread.serial, 3);
  assert.deepEqual(reread.snapshot(), m.snapshot());
  assert.equal(reread.build(key)?.provisioners[42]?.status, 'running');
  assert.equal(reread.build(key)?.post_processors[0]?.status, 'complete');
  // A reader that had loaded serial 1 catches up incrementally through the same records.
  await m.updateStep(key, 'provisioners', 42, (s) => void (s.status = 'complete'));
  await reread.refresh();
  assert.equal(reread.build(key)?.provisioners[42]?.status, 'complete');
  // After compaction the full state file holds the same.
  await m.compact();
  assert.deepEqual((await openFileState({ path })).snapshot(), m.snapshot());
});

test('a journal step record that does not fit the state file (no such step) is not applied: the journal is not this state\'s', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const m = await openFileState({ path });
  await m.update('a.null.x', () => ({ ...newBuild('a', 'null'), provisioners: [newStep('shell')] }));
  await m.compact();
  await m.updateStep('a.null.x', 'provisioners', 0, (s) => void (s.status = 'complete'));
  const { encodeRecord } = await import('../../src/state/file/journal.js');
  // Replace the journal by a well-formed record for index 5 of a one-step build.
  const bad = encodeRecord({ lineage: m.lineage, serial: 2, change: { steps: [{ build: 'a.null.x', list: 'provisioners', index: 5, step: newStep('shell') }] } });
  writeFileSync(`${path}.journal`, bad);
  const reader = await openFileState({ path });
  assert.equal(reader.serial, 1);
  assert.equal(reader.build('a.null.x')?.provisioners.length, 1);
  assert.equal(reader.build('a.null.x')?.provisioners[0]?.status, 'pending');
});

test('a change persisted with durable: false is read back at once and skips only the flush; the next durable change flushes', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const { nodeFileSystem } = await import('../../src/state/file/fs.js');
  const flushed: string[] = [];
  const fs = { ...nodeFileSystem, fdatasync: (fd: number) => void (flushed.push('journal'), nodeFileSystem.fdatasync(fd)) };
  const m = await StateManager.open({ client: new FileStateClient({ path, fs }) });
  await m.update('a.null.x', () => ({ ...newBuild('a', 'null'), provisioners: [newStep('shell')] }));
  await m.compact();
  flushed.length = 0;
  await m.updateStep('a.null.x', 'provisioners', 0, (s) => void (s.status = 'running'), { durable: false });
  assert.deepEqual(flushed, []);
  assert.equal((await openFileState({ path })).build('a.null.x')?.provisioners[0]?.status, 'running');
  await m.updateStep('a.null.x', 'provisioners', 0, (s) => void (s.status = 'complete'));
  assert.deepEqual(flushed, ['journal']);
  assert.equal((await openFileState({ path })).serial, 3);
});

test('group commit: changes queued while another is written commit together, one serial each, one flush', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const { nodeFileSystem } = await import('../../src/state/file/fs.js');
  let flushes = 0;
  const fs = { ...nodeFileSystem, fdatasync: (fd: number) => void (flushes++, nodeFileSystem.fdatasync(fd)) };
  const m = await StateManager.open({ client: new FileStateClient({ path, fs }) });
  const keys = Array.from({ length: 10 }, (_, i) => `b${i}.null.x`);
  for (const k of keys) await m.update(k, () => newBuild(k, 'null'));
  await m.compact();
  const serial = m.serial;
  flushes = 0;
  // Ten builds checkpoint at once, as parallel builds of one run do; one of them is invalid.
  const results = await Promise.allSettled([
    ...keys.map((k) => m.update(k, (b) => void (b!.status = 'creating'))),
    m.update(keys[0]!, (b) => void (b!.status = 'nonsense' as BuildState['status'])),
  ]);
  assert.deepEqual(results.slice(0, 10).map((r) => r.status), new Array(10).fill('fulfilled'));
  assert.equal(results[10]!.status, 'rejected');
  assert.equal(m.serial, serial + 10);
  assert.ok(flushes < 10, `${flushes} flushes for 10 checkpoints`);
  const reread = await openFileState({ path });
  assert.equal(reread.serial, serial + 10);
  for (const k of keys) assert.equal(reread.build(k)?.status, 'creating');
  // The journal has one record per change, with consecutive serials.
  const serials = readFileSync(`${path}.journal`, 'utf8').trim().split('\n').map((l) => (JSON.parse(l.slice(65)) as { serial: number }).serial);
  assert.deepEqual(serials, Array.from({ length: 10 }, (_, i) => serial + 1 + i));
});

test('group commit: when the group cannot be written, every change of it fails and the state stays as it was', async (t) => {
  const path = join(tempDir(t), 'state.json');
  const { nodeFileSystem } = await import('../../src/state/file/fs.js');
  let failing = false;
  const fs = {
    ...nodeFileSystem,
    fdatasync: (fd: number) => {
      if (failing) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      nodeFileSystem.fdatasync(fd);
    },
  };
  const m = await StateManager.open({ client: new FileStateClient({ path, fs }) });
  await m.update('a.null.x', () => newBuild('a', 'null'));
  await m.update('b.null.x', () => newBuild('b', 'null'));
  await m.compact();
  const before = (await openFileState({ path })).snapshot();
  failing = true;
  const results = await Promise.allSettled([m.update('a.null.x', (b) => void (b!.status = 'creating')), m.update('b.null.x', (b) => void (b!.status = 'creating'))]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  failing = false;
  assert.deepEqual((await openFileState({ path })).snapshot(), before);
  assert.equal(m.serial, before.serial);
  assert.equal(await m.update('a.null.x', (b) => void (b!.status = 'creating')), true);
  assert.equal((await openFileState({ path })).serial, before.serial + 1);
});
