import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/ui/duration.js';
import { goDuration } from '../../src/ui/go-duration.js';
import { colorEnabled, machineLine, prefixLines } from '../../src/ui/ui.js';
import { testUi } from '../build/helpers.js';

test('durations read like Packer (durafmt, first two units)', () => {
  assert.equal(formatDuration(19.623), '19 milliseconds 623 microseconds');
  assert.equal(formatDuration(3026.4), '3 seconds 26 milliseconds');
  assert.equal(formatDuration(1000), '1 second');
  assert.equal(formatDuration(61_001), '1 minute 1 second');
  assert.equal(formatDuration(0.001), '1 microsecond');
});

test('Go durations for the meta-arguments', () => {
  assert.equal(goDuration(1000), '1s');
  assert.equal(goDuration(90_000), '1m30s');
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(7_200_000), '2h0m0s');
  assert.equal(goDuration(1500), '1.5s');
});

test('build lines carry the target on every line, trailing space of the block trimmed', () => {
  assert.equal(prefixLines('==>', 'null.a', 'one\ntwo  \n'), '==> null.a: one\n==> null.a: two  \n==> null.a:');
  assert.equal(prefixLines('   ', 'null.a', 'x  '), '    null.a: x');
  const t = testUi();
  t.ui.say('Running');
  t.ui.message('out');
  t.ui.message('');
  t.ui.error('err');
  t.ui.sayPlain("Build 'null.a' finished after 1 second.");
  t.run.say('\n==> Wait completed after 1 second');
  assert.deepEqual(t.out.lines, [
    '==> null.a: Running',
    '    null.a: out',
    '    null.a:',
    '==> null.a: err',
    "Build 'null.a' finished after 1 second.",
    '',
    '==> Wait completed after 1 second',
  ]);
});

test('colour: bold for say, plain for message, bold red for errors, whole block wrapped', () => {
  const t = testUi('null.a', { color: true });
  t.ui.say('a');
  t.ui.message('b');
  t.ui.error('c');
  assert.equal(t.out.text, '\x1b[1;32m==> null.a: a\x1b[0m\n\x1b[0;32m    null.a: b\x1b[0m\n\x1b[1;31m==> null.a: c\x1b[0m\n');
  const second = t.run.build('file.b', 1);
  second.say('x');
  assert.match(t.out.text, /\x1b\[1;36m==> file\.b: x/);
});

test('colour only on a terminal, and never with -color=false, NO_COLOR or PACKER_NO_COLOR', () => {
  assert.equal(colorEnabled(true, true, {}), true);
  assert.equal(colorEnabled(false, true, {}), false);
  assert.equal(colorEnabled(true, false, {}), false);
  assert.equal(colorEnabled(true, true, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled(true, true, { PACKER_NO_COLOR: '1' }), false);
});

test('-timestamp-ui prefixes the first line of build output with an RFC 3339 time', () => {
  const t = testUi('null.a', { timestamp: true });
  t.ui.say('hello');
  t.run.say('run level');
  const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const pad = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
  assert.deepEqual(t.out.lines, [`${stamp}: ==> null.a: hello`, 'run level']);
});

test('-machine-readable writes CSV records with Packer escaping', () => {
  assert.equal(machineLine(new Date(1_700_000_000_123), 't', 'ui', ['say', 'a,b\nc\rd']), '1700000000,t,ui,say,a%!(PACKER_COMMA)b\\nc\\rd\n');
  const t = testUi('null.a', { machineReadable: true });
  t.ui.message('one, two');
  t.ui.error('bad');
  t.run.say('\n==> Wait');
  t.run.machine('null.a', 'artifact', '0', 'id', 'Null');
  const ts = Math.floor(Date.UTC(2026, 0, 2, 3, 4, 5) / 1000);
  assert.deepEqual(t.out.lines, [
    `${ts},,ui,message,    null.a: one%!(PACKER_COMMA) two`,
    `${ts},,ui,error,==> null.a: bad`,
    `${ts},,ui,say,\\n==> Wait`,
    `${ts},null.a,artifact,0,id,Null`,
  ]);
});

test('sensitive values are masked everywhere, longest first', () => {
  const t = testUi();
  t.run.masker.add(['hunter2', 'hunter2-extra', '']);
  t.ui.message('password is hunter2-extra and hunter2');
  t.run.machine('x', 'error', 'hunter2');
  assert.deepEqual(t.out.lines, ['    null.a: password is <sensitive> and <sensitive>']);
  const m = testUi('null.a', { machineReadable: true });
  m.run.masker.add(['s3cret']);
  m.run.machine('x', 'error', 'was s3cret');
  m.ui.say('s3cret');
  assert.match(m.out.text, /x,error,was <sensitive>/);
  assert.doesNotMatch(m.out.text, /s3cret/);
});
