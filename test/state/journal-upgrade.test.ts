/**
 * A journal written by an older builder (state format 2) next to its state file, left behind by a
 * crash or kill before a compaction, is replayed after an upgrade of builder: loading yields the
 * state that builder would have seen, upgraded; the first write replaces both with the new format,
 * and a crash at any point of that write leaves a state that loads the same.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStateClient } from '../../src/state/file/client.js';
import { nodeFileSystem, type FileSystem } from '../../src/state/file/fs.js';
import { applyChange, encodeRecord } from '../../src/state/file/journal.js';
import type { StateChange } from '../../src/state/interfaces.js';
import { StateManager } from '../../src/state/manager.js';
import { STATE_FORMAT_VERSION, type StateFile } from '../../src/state/types.js';
import { tempDir } from './helpers/fixtures.js';

type Doc = Record<string, unknown>;

const FIXTURE = new URL('../../../test/fixtures/stateful/states/v2-failed.json', import.meta.url);

/** The version-2 fixture (serial 4, builds `web.null.a` and `db.null.b` keyed by name). */
function v2State(): Doc {
  return JSON.parse(readFileSync(FIXTURE, 'utf8')) as Doc;
}

/** A state file's bytes as a version-2 builder wrote them (compact JSON, checksum last). */
function encodeV2(doc: Doc): Buffer {
  const body = JSON.stringify(doc).slice(0, -1);
  const sum = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`${body},\n"checksum":"sha256:${sum}"}\n`);
}

const T = '2026-11-25T10:02:00Z';
const v2Step = (status: string, attempts: number, fingerprint: string): Doc => ({
  type: 'shell-local',
  name: '',
  status,
  fingerprint,
  error: '',
  attempts,
  started_at: T,
  ended_at: status === 'running' ? '' : T,
});

/** Version-2 changes, as the version-2 builder journaled them (serials 5 to 9 after the fixture's 4). */
function v2Changes(): { serial: number; change: Doc }[] {
  const db = (v2State().builds as Doc)['db.null.b'] as Doc;
  return [
    { serial: 3, change: { last_run: null } }, // a leftover from before the last full write: skipped
    { serial: 5, change: { template: { path: 't.pkr.hcl', hash: 'h2', variables: {}, files: {} } } },
    { serial: 6, change: { steps: [{ build: 'web.null.a', list: 'provisioners', index: 1, step: v2Step('running', 3, 'sha256:p2') }] } },
    { serial: 7, change: { steps: [{ build: 'web.null.a', list: 'provisioners', index: 1, step: v2Step('complete', 3, 'sha256:p2') }] } },
    {
      serial: 8,
      change: {
        builds: { 'db.null.b': { ...db, status: 'complete', error: '', provisioners: [v2Step('complete', 2, 'sha256:p1')] }, 'new.null.c': null },
        last_run: { run_uuid: 'r-2', started_at: T, completed_at: '' },
      },
    },
    { serial: 9, change: { steps: [{ build: 'web.null.a', list: 'provisioners', index: 2, step: v2Step('complete', 1, 'sha256:p3') }] } },
  ];
}

/** What the version-2 builder would have seen: its state with the changes applied by hand. */
function v2Seen(): Doc {
  const doc = v2State();
  const builds = doc.builds as Record<string, Doc>;
  for (const { serial, change } of v2Changes()) {
    if (serial <= (doc.serial as number)) continue;
    for (const [k, b] of Object.entries((change.builds ?? {}) as Record<string, Doc | null>)) {
      if (b === null) delete builds[k];
      else builds[k] = b;
    }
    for (const s of (change.steps ?? []) as { build: string; list: string; index: number; step: Doc }[]) {
      (builds[s.build]![s.list] as Doc[])[s.index] = s.step;
    }
    if (change.template !== undefined) doc.template = change.template;
    if (change.last_run !== undefined) doc.last_run = change.last_run;
    doc.serial = serial;
  }
  return doc;
}

function journalOf(lineage: string, changes: { serial: number; change: Doc }[]): Buffer {
  return Buffer.concat(changes.map(({ serial, change }) => encodeRecord({ lineage, serial, change: change as StateChange })));
}

async function load(path: string, fs?: FileSystem): Promise<StateFile> {
  const s = await new FileStateClient({ path, fs }).get();
  assert.ok(s, `no state at ${path}`);
  return JSON.parse(JSON.stringify(s)) as StateFile;
}

/**
 * A folder holding the version-2 state file and its version-2 journal, and the state expected
 * from it: the version-2 state the version-2 builder saw (changes applied by hand), upgraded by an
 * ordinary read of a file without a journal.
 */
async function v2Files(t: TestContext): Promise<{ path: string; expected: StateFile }> {
  const dir = tempDir(t);
  const seenPath = join(dir, 'seen.json');
  writeFileSync(seenPath, encodeV2(v2Seen()));
  const expected = await load(seenPath);
  const path = join(dir, 'state.json');
  const state = v2State();
  writeFileSync(path, encodeV2(state));
  writeFileSync(`${path}.journal`, journalOf(state.lineage as string, v2Changes()));
  return { path, expected };
}

test('a version-2 journal is replayed onto its version-2 state: the checkpoints it holds are loaded, upgraded', async (t) => {
  const { path, expected } = await v2Files(t);
  assert.equal(expected.serial, 9);
  assert.equal(expected.builds['t.pkr.hcl/web.null.a']!.provisioners[1]!.status, 'complete');
  assert.equal(expected.templates['t.pkr.hcl']!.hash, 'h2');
  assert.deepEqual(await load(path), expected);
  // Reading changes no file.
  assert.equal(readFileSync(path, 'utf8'), encodeV2(v2State()).toString());
});

test('the first write after the upgrade writes the whole state in the new format and empties the old journal', async (t) => {
  const { path, expected } = await v2Files(t);
  const m = await StateManager.open({ client: new FileStateClient({ path }) });
  await m.update('t.pkr.hcl/web.null.a', (b) => void (b!.error = 'after the upgrade'));
  await m.close();
  const onDisk = JSON.parse(readFileSync(path, 'utf8')) as Doc;
  assert.equal(onDisk.version, STATE_FORMAT_VERSION);
  assert.equal(onDisk.serial, 10);
  assert.equal(readFileSync(`${path}.journal`).length, 0);
  const after = await load(path);
  expected.builds['t.pkr.hcl/web.null.a']!.error = 'after the upgrade';
  assert.deepEqual(after, { ...expected, serial: 10 });
  // Later checkpoints go to the journal as usual, in the new format.
  const m2 = await StateManager.open({ client: new FileStateClient({ path }) });
  await m2.update('t.pkr.hcl/web.null.a', (b) => void (b!.error = 'journaled'));
  assert.ok(readFileSync(`${path}.journal`).length > 0);
  assert.equal((await load(path)).builds['t.pkr.hcl/web.null.a']!.error, 'journaled');
  await m2.close();
});

/** The node file system, with `call` on paths matching `target` throwing EIO (a crash at that point). */
function failing(call: 'rename' | 'ftruncate', target: RegExp): FileSystem {
  const paths = new Map<number, string>();
  return {
    ...nodeFileSystem,
    open: (p, flags, mode) => {
      const fd = nodeFileSystem.open(p, flags, mode);
      paths.set(fd, p);
      return fd;
    },
    rename: (from, to) => {
      if (call === 'rename' && target.test(to)) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      nodeFileSystem.rename(from, to);
    },
    ftruncate: (fd, len) => {
      if (call === 'ftruncate' && target.test(paths.get(fd) ?? '')) throw Object.assign(new Error('EIO: injected'), { code: 'EIO' });
      nodeFileSystem.ftruncate(fd, len);
    },
  };
}

test('a crash before the new state file is in place leaves the old files, which load the same', async (t) => {
  const { path, expected } = await v2Files(t);
  const m = await StateManager.open({ client: new FileStateClient({ path, fs: failing('rename', /state\.json$/) }) });
  await assert.rejects(m.update('t.pkr.hcl/web.null.a', (b) => void (b!.error = 'lost')));
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, 2);
  assert.deepEqual(await load(path), expected);
});

test('a crash after the new state file is in place but before the old journal is emptied: the old records are skipped', async (t) => {
  const { path, expected } = await v2Files(t);
  const journal = readFileSync(`${path}.journal`);
  const m = await StateManager.open({ client: new FileStateClient({ path, fs: failing('ftruncate', /\.journal$/) }) });
  await m.update('t.pkr.hcl/web.null.a', (b) => void (b!.error = 'kept'));
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, STATE_FORMAT_VERSION);
  assert.deepEqual(readFileSync(`${path}.journal`), journal, 'the old journal is still there');
  expected.builds['t.pkr.hcl/web.null.a']!.error = 'kept';
  assert.deepEqual(await load(path), { ...expected, serial: 10 });
  // The next writer appends after (or cuts off) the old records; they never come back.
  const m2 = await StateManager.open({ client: new FileStateClient({ path }) });
  await m2.update('t.pkr.hcl/web.null.a', (b) => void (b!.error = 'next'));
  const last = await load(path);
  assert.equal(last.serial, 11);
  assert.equal(last.builds['t.pkr.hcl/web.null.a']!.error, 'next');
  assert.equal(last.builds['t.pkr.hcl/web.null.a']!.provisioners[1]!.status, 'complete');
  await m2.close();
});

test('current-format records after an older state file (appended by a builder that did not rewrite the file first) are applied after the upgrade', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  writeFileSync(path, encodeV2(v2State()));
  const expected = await load(path);
  const web = { ...expected.builds['t.pkr.hcl/web.null.a']!, error: 'from the new format' };
  const step = { ...web.provisioners[1]!, status: 'complete' as const, snapshot: { id: 'img', chain: 'c' } };
  const changes: StateChange[] = [
    { builds: { 't.pkr.hcl/web.null.a': web }, templates: { 't.pkr.hcl': { ...expected.templates['t.pkr.hcl']!, hash: 'h3' } } },
    { steps: [{ build: 't.pkr.hcl/web.null.a', list: 'provisioners', index: 1, step }] },
    { builds: { 't.pkr.hcl/db.null.b': null } },
  ];
  writeFileSync(`${path}.journal`, journalOf(expected.lineage, changes.map((change, i) => ({ serial: 5 + i, change: change as Doc }))));
  for (const change of changes) assert.ok(applyChange(expected, change));
  assert.deepEqual(await load(path), { ...expected, serial: 7 });
});

test('an older record after a current-format one ends the journal there', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'state.json');
  const state = v2State();
  writeFileSync(path, encodeV2(state));
  const alone = await load(path);
  const current = { last_run: null, templates: {} };
  const older = v2Changes().find((c) => c.serial === 6)!.change;
  writeFileSync(`${path}.journal`, journalOf(state.lineage as string, [{ serial: 5, change: current }, { serial: 6, change: older }]));
  assert.deepEqual(await load(path), { ...alone, serial: 5, last_run: null });
});
