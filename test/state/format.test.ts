/**
 * The state file format: checksum, corrupt files of every kind (refused with the file, the fault
 * and the backup to restore), format versions and upgrades, exact round trips of hostile strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeState, encodeState, encodeStateIndented } from '../../src/state/format.js';
import { StateCorruptError, StateVersionError } from '../../src/state/errors.js';
import { newState } from '../../src/state/manager.js';
import { STATE_FORMAT_VERSION, type StateFile } from '../../src/state/types.js';
import { completeBuild } from './helpers/fixtures.js';

const FILE = '/work/x/.packer.d/builder-state.json';
const opts = { file: FILE, backup: `${FILE}.backup`, requireChecksum: true };

function sample(): StateFile {
  const s = newState();
  s.serial = 7;
  s.builds['a.null.one'] = completeBuild('a');
  s.builds['b.null.two'] = completeBuild('b', 1);
  s.last_run = { run_uuid: 'r', started_at: 'x', completed_at: 'y' };
  return s;
}

function corruptMessage(bytes: Buffer | string): string {
  try {
    decodeState(Buffer.from(bytes), opts);
  } catch (err) {
    assert.ok(err instanceof StateCorruptError, `expected StateCorruptError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the file was accepted');
}

test('a state round-trips through its file exactly', () => {
  const s = sample();
  assert.deepEqual(decodeState(encodeState(s), opts), s);
});

test('the indented form (state pull) carries a valid checksum too', () => {
  const s = sample();
  assert.deepEqual(decodeState(Buffer.from(encodeStateIndented(s)), opts), s);
});

test('an edited file fails its checksum, and the message names the file, the fault and the backup', () => {
  const text = encodeState(sample()).toString().replace('"serial":7', '"serial":8');
  const msg = corruptMessage(text);
  assert.match(msg, /the state file \/work\/x\/\.packer\.d\/builder-state\.json cannot be read: its checksum does not match/);
  assert.match(msg, /builder state restore -state=\/work\/x\/\.packer\.d\/builder-state\.json/);
  assert.match(msg, /cp \/work\/x\/\.packer\.d\/builder-state\.json\.backup \/work\/x\/\.packer\.d\/builder-state\.json/);
});

test('corrupt files are refused with the fault named', async (t) => {
  const good = encodeState(sample());
  const cases: [string, Buffer | string, RegExp][] = [
    ['empty', '', /the file is empty/],
    ['only whitespace', '  \n', /the file is empty/],
    ['invalid JSON', '{"version": 2, serial: }', /it is not valid JSON/],
    ['truncated', good.subarray(0, Math.floor(good.length / 2)), /not valid JSON .*the file looks truncated/],
    ['null bytes', Buffer.concat([good.subarray(0, 40), Buffer.alloc(16), good.subarray(56)]), /null byte at offset 40/],
    ['not an object', '[1,2,3]', /it is not a JSON object/],
    ['no checksum (version 2)', JSON.stringify(sample()), /it has no checksum/],
    ['bad build status', encodeState({ ...sample(), builds: { k: { ...completeBuild('k'), status: 'done' as never } } }), /build "k": unknown status "done"/],
  ];
  for (const [name, bytes, fault] of cases) {
    await t.test(name, () => assert.match(corruptMessage(bytes), fault));
  }
});

test('an unknown format version is refused as written by a newer builder', () => {
  assert.throws(
    () => decodeState(Buffer.from(JSON.stringify({ version: 99, serial: 1, lineage: 'x' })), opts),
    (err: unknown) =>
      err instanceof StateVersionError &&
      err.code === 'STATE_VERSION_UNSUPPORTED' &&
      /format version 99 is not one this builder knows \(it reads versions 1 to 3\); it may have been written by a newer builder/.test(err.message),
  );
});

test('a valid minimal file (version 1, the reference format) loads as an empty state', () => {
  const s = decodeState(Buffer.from('{"version":1,"serial":3,"lineage":"4b0c…"}'), opts);
  assert.equal(s.version, STATE_FORMAT_VERSION);
  assert.equal(s.serial, 3);
  assert.equal(s.lineage, '4b0c…');
  assert.deepEqual(s.builds, {});
  assert.deepEqual(s.templates, {});
  assert.equal(s.last_run, null);
});

test('a version-1 state with builds is upgraded: attempts, fingerprints and keep_on_failure filled in', () => {
  const v1 = {
    version: 1,
    serial: 11,
    lineage: 'L',
    builds: {
      'web.null.a': {
        name: 'web',
        type: 'null',
        status: 'failed',
        error: 'exit status 1',
        instance: { id: 'i-1', builder_id: 'packer.null', provider: 'null', created_at: 't', metadata: { host: 'h' } },
        provisioners: [
          { type: 'shell', status: 'complete', started_at: 't', ended_at: 't' },
          { type: 'shell', status: 'failed', error: 'exit status 1' },
          { type: 'shell', status: 'pending' },
        ],
        artifacts: [],
      },
    },
  };
  const s = decodeState(Buffer.from(JSON.stringify(v1)), opts);
  const b = s.builds['./web.null.a']!; // a state that recorded no template: its builds go to the folder's
  assert.equal(b.instance?.keep_on_failure, false);
  assert.deepEqual(
    b.provisioners.map((p) => [p.status, p.attempts, p.fingerprint, p.error]),
    [['complete', 1, '', ''], ['failed', 1, '', 'exit status 1'], ['pending', 0, '', '']],
  );
  assert.deepEqual(b.post_processors, []);
});

test('unicode and hostile strings round-trip exactly', () => {
  const hostile = [
    'héllo wörld ✓ 日本語 🚀 \u{1F468}\u200D\u{1F469}',
    'quote " backslash \\ slash / tab \t newline \n cr \r',
    '\u2028\u2029 line separators',
    '\u0000 nul and \u001f controls',
    'lone surrogate \ud800 end',
    '"},"checksum":"sha256:' + '0'.repeat(64) + '"}',
    '<script>alert(1)</script> $(rm -rf /) `id` ${HOME} %s %n',
    'x'.repeat(10000),
  ];
  const s = sample();
  const b = completeBuild('h');
  b.error = hostile.join('|');
  b.artifacts[0]!.files = hostile;
  b.artifacts[0]!.metadata = Object.fromEntries(hostile.map((h, i) => [h.slice(0, 40), i]));
  s.builds[hostile[5]!] = b;
  s.templates[hostile[5]!] = { path: hostile[2]!, hash: '', variables: { [hostile[0]!]: hostile[1]! }, files: {} };
  const back = decodeState(encodeState(s), opts);
  assert.deepEqual(back, s);
  assert.equal(back.builds[hostile[5]!]!.artifacts[0]!.files[4], 'lone surrogate \ud800 end');
});

test('metadata nested 100 levels deep round-trips', () => {
  type Nested = { [k: string]: Nested | string };
  const root: Nested = {};
  let node = root;
  for (let i = 0; i < 100; i++) {
    const next: Nested = {};
    node[`level${i}`] = next;
    node = next;
  }
  node.leaf = 'bottom';
  const s = sample();
  s.builds['a.null.one']!.artifacts[0]!.metadata = { deep: root };
  const back = decodeState(encodeState(s), opts);
  assert.deepEqual(back, s);
  let walk = back.builds['a.null.one']!.artifacts[0]!.metadata.deep as Nested;
  for (let i = 0; i < 100; i++) walk = walk[`level${i}`] as Nested;
  assert.equal(walk.leaf, 'bottom');
});

// ---- lazy builds (how the file backend reads: each build decoded on first access) ----------------

const lazyOpts = { ...opts, lazyBuilds: true };

/** True while build `key` of a lazily decoded state has not been decoded (an accessor holds it). */
function isUndecoded(s: StateFile, key: string): boolean {
  return Object.getOwnPropertyDescriptor(s.builds, key)?.get !== undefined;
}

/** Keys a splitter could trip on: quotes, backslashes, `":{`, escaped newlines, non-ASCII. */
const trickyKeys = ['plain.null.a', 'q"uote.null.b', 'back\\slash.null.c', 'colon":{.null.d', 'new\nline,\n.null.e', 'ünï\u2028cødé 🚀.null.f', '\\"\\', '42'];

function trickyState(): StateFile {
  const s = sample();
  for (const [i, k] of trickyKeys.entries()) s.builds[k] = completeBuild(`t${i}`, i % 3);
  s.builds['q"uote.null.b']!.error = '",\n"builds":{\n}\n},\n"checksum":';
  return s;
}

test('lazily decoded builds equal eagerly decoded ones, hostile keys and values included', () => {
  const s = trickyState();
  const bytes = encodeState(s);
  const lazy = decodeState(bytes, lazyOpts);
  assert.ok(trickyKeys.every((k) => isUndecoded(lazy, k)), 'every build is left to first access');
  assert.deepEqual(lazy, decodeState(bytes, opts));
  assert.deepEqual(lazy, s);
  assert.deepEqual(Object.keys(lazy.builds), Object.keys(s.builds));
});

test('a lazily decoded state is written back byte for byte, and changes to it are written', () => {
  const s = trickyState();
  const bytes = encodeState(s);
  const lazy = decodeState(bytes, lazyOpts);
  assert.ok(encodeState(lazy).equals(bytes), 'untouched builds are written back from their text');
  lazy.builds['plain.null.a']!.status = 'failed'; // accessed, then changed in place
  lazy.builds['42'] = completeBuild('replaced');
  delete lazy.builds['colon":{.null.d'];
  lazy.builds['colon":{.null.d'] = completeBuild('readded', 2);
  const expected = { ...trickyState(), lineage: s.lineage };
  expected.builds['plain.null.a']!.status = 'failed';
  expected.builds['42'] = completeBuild('replaced');
  delete expected.builds['colon":{.null.d'];
  expected.builds['colon":{.null.d'] = completeBuild('readded', 2);
  assert.deepEqual(decodeState(encodeState(lazy), opts), expected);
});

test('a build that fails validation is refused on first access, naming the file, the fault and the backup', () => {
  const s = sample();
  s.builds['k.null.bad'] = { ...completeBuild('k'), status: 'done' as never };
  const lazy = decodeState(encodeState(s), lazyOpts); // the checksum and the top level are checked at once
  assert.equal(lazy.builds['a.null.one']!.name, 'a');
  assert.throws(
    () => lazy.builds['k.null.bad'],
    (err: unknown) => {
      assert.ok(err instanceof StateCorruptError, String(err));
      assert.match(err.message, /the state file \/work\/x\/\.packer\.d\/builder-state\.json cannot be read: build "k\.null\.bad": unknown status "done"/);
      assert.match(err.message, /cp \/work\/x\/\.packer\.d\/builder-state\.json\.backup/);
      assert.doesNotMatch(err.message, /builder state restore/, 'restore would stop at the same build');
      return true;
    },
  );
  assert.throws(() => JSON.stringify(lazy), StateCorruptError, 'a copy of the whole state refuses it too');
});

test('lazy decoding still checks the checksum and the top level at once', () => {
  const good = encodeState(trickyState());
  assert.throws(() => decodeState(Buffer.from(good.toString().replace('"status":"complete"', '"status":"failed!"')), lazyOpts), /checksum does not match/);
  const s = sample();
  (s as unknown as Record<string, unknown>).serial = -1;
  assert.throws(() => decodeState(encodeState(s), lazyOpts), /"serial" must be a whole number/);
});

test('a checksummed file in another layout (indented, as state pull prints it) is decoded eagerly', () => {
  const s = trickyState();
  assert.deepEqual(decodeState(Buffer.from(encodeStateIndented(s)), lazyOpts), s);
  s.builds['plain.null.a'] = { ...completeBuild('p'), status: 'done' as never };
  assert.throws(() => decodeState(Buffer.from(encodeStateIndented(s)), lazyOpts), /build "plain\.null\.a": unknown status "done"/);
});

test('lazy decoding cuts the builds text only between builds (braces, commas and quotes inside strings)', () => {
  const s = sample();
  s.builds['a.null.one']!.error = '},{"x":[1,2]}, \\" \\\\", ,"k":{';
  s.builds['b.null.two']!.artifacts[0]!.metadata = { '\\': '\\', '"},': ['{', '}', '[', ']', ','] };
  s.builds['{,}'] = completeBuild('c');
  const lazy = decodeState(encodeState(s), lazyOpts);
  assert.ok(isUndecoded(lazy, '{,}'), 'the builds were cut lazily, not decoded eagerly');
  assert.deepEqual(Object.keys(lazy.builds), Object.keys(s.builds));
  assert.deepEqual(lazy, s);
  const empty = decodeState(encodeState({ ...s, builds: {} }), lazyOpts);
  assert.deepEqual(empty.builds, {});
});

test('a version-2 state is upgraded to 3: empty part hashes, no snapshots, chain lengths unknown', () => {
  const v2 = {
    version: 2,
    serial: 5,
    lineage: 'L',
    builder_version: '',
    packer_version: '',
    template: { path: '', hash: '', variables: {}, files: {} },
    last_run: null,
    builds: {
      'a.null.x': {
        name: 'a', type: 'null', status: 'complete', fingerprint: 'fp', error: '', started_at: 't', completed_at: 't', instance: null,
        provisioners: [{ type: 'shell', name: '', status: 'complete', fingerprint: 'f', error: '', attempts: 1, started_at: 't', ended_at: 't' }],
        post_processors: [{ type: 'manifest', name: '', status: 'complete', fingerprint: 'm', error: '', attempts: 1, started_at: 't', ended_at: 't' }],
        artifacts: [],
      },
    },
  };
  const s = decodeState(Buffer.from(JSON.stringify(v2)), { ...opts, requireChecksum: false });
  assert.equal(s.version, 3);
  const b = s.builds['./a.null.x']!; // no template recorded: the folder's
  assert.deepEqual([b.inputs, b.post_processor_chains], [{}, []]);
  assert.deepEqual([b.provisioners[0]!.inputs, b.provisioners[0]!.snapshot, b.post_processors[0]!.snapshot], [{}, null, null]);
  assert.equal(b.provisioners[0]!.fingerprint, 'f');
});

test('part hashes, snapshots and chain lengths round-trip and are validated', async (t) => {
  const s = sample();
  const b = s.builds['a.null.one']!;
  b.inputs = { communicator: '0123456789abcdef' };
  b.post_processor_chains = [1];
  b.provisioners[0]!.inputs = { inline: 'aaaaaaaaaaaaaaaa', 'file:scripts/setup.sh': 'bbbbbbbbbbbbbbbb' };
  b.provisioners[0]!.snapshot = { id: 'sha256:img', chain: 'sha256:chain' };
  assert.deepEqual(decodeState(encodeState(s), opts), s);
  const bad: [string, (x: ReturnType<typeof completeBuild>) => void, RegExp][] = [
    ['inputs not strings', (x) => void (x.provisioners[0]!.inputs = { inline: 1 as never }), /provisioners\[0\]: "inputs" must be an object of strings/],
    ['snapshot without chain', (x) => void (x.provisioners[0]!.snapshot = { id: 'i' } as never), /provisioners\[0\] snapshot: "chain" must be a string/],
    ['chain lengths not counts', (x) => void (x.post_processor_chains = [0]), /"post_processor_chains" must be a list of chain lengths/],
    ['build inputs missing', (x) => void delete (x as { inputs?: unknown }).inputs, /build "k": "inputs" must be an object of strings/],
  ];
  for (const [name, spoil, fault] of bad) {
    await t.test(name, () => {
      const k = completeBuild('k');
      spoil(k);
      assert.match(corruptMessage(encodeState({ ...sample(), builds: { k } })), fault);
    });
  }
});
