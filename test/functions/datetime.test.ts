import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goTimeFormat, parseDuration, parseTimestamp, strftime } from '../../src/functions/datetime.js';
import { check } from './check.js';
import { run, table, type Case } from './helpers.js';

// Expected texts were checked against Packer 1.6.6's `packer console` where it has the function.
const cases: Case[] = [
  ['formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")', 'Tue, 02 Jan 2018 23:12:01 UTC'],
  ['formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")', 'Tue, 02 Jan 2018 23:12:01 -0800'],
  ['formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")', '02 Jan 2018 23:12 UTC'],
  ['formatdate("EEEE, MMMM D, YYYY", "2018-01-02T23:12:01Z")', 'Tuesday, January 2, 2018'],
  ['formatdate("MM/DD/YY", "2018-01-02T23:12:01Z")', '01/02/18'],
  ['formatdate("M/D h:m:s", "2018-01-02T03:04:05Z")', '1/2 3:4:5'],
  ['formatdate("HH:mm AA | H aa", "2018-01-02T23:12:01Z")', '11:12 PM | 11 pm'],
  ['formatdate("HH AA", "2018-01-02T00:12:01Z")', '12 AM'],
  ['formatdate("Z ZZZ ZZZZ ZZZZZ", "2018-01-02T03:12:01+05:30")', '+05:30 +0530 +0530 +05:30'],
  ['formatdate("Z ZZZ ZZZZ ZZZZZ", "2018-01-02T03:12:01Z")', 'Z UTC +0000 +00:00'],
  ['formatdate("h:mm", "2018-01-02T23:12:01.999Z")', '23:12'],
  ['formatdate("\'T\'YY MMMM M D EEEE HH:m:s \'o\'\'clock\' \'\'", "2006-01-02T15:04:05Z")', "T06 January 1 2 Monday 03:4:5 o'clock '"],
  ['formatdate("YYY", "2018-01-02T23:12:01Z")', { error: 'invalid date format verb "YYY": year must either be "YY" or "YYYY"' }],
  ['formatdate("MMMMM", "2018-01-02T23:12:01Z")', { error: 'invalid date format verb "MMMMM": month must be "M", "MM", "MMM", or "MMMM"' }],
  ['formatdate("DDD", "2018-01-02T23:12:01Z")', { error: 'day of month must either be "D" or "DD"' }],
  ['formatdate("E", "2018-01-02T23:12:01Z")', { error: 'day of week must either be "EEE" or "EEEE"' }],
  ['formatdate("hhh", "2018-01-02T23:12:01Z")', { error: '24-hour must either be "h" or "hh"' }],
  ['formatdate("A", "2018-01-02T23:12:01Z")', { error: 'invalid date format verb "A": must be "AA"' }],
  ['formatdate("ZZ", "2018-01-02T23:12:01Z")', { error: 'time zone must be "Z", "ZZZ", "ZZZZ", or "ZZZZZ"' }],
  ['formatdate("x", "2018-01-02T23:12:01Z")', { error: 'invalid date format verb "x"' }],
  ['formatdate("\'abc", "2018-01-02T23:12:01Z")', { error: "unterminated literal '" }],
  ['formatdate("YYYY", "2018-13-01T00:00:00Z")', { error: 'Invalid value for "time" parameter: not a valid RFC3339 timestamp: cannot use "-01T00:00:00Z" as month.' }],
  ['formatdate("YYYY", "2018-02-30T00:00:00Z")', { error: 'cannot use "T00:00:00Z" as day of month' }],
  ['formatdate("YYYY", "2018-01-02")', { error: "not a valid RFC3339 timestamp: missing required time introducer 'T'" }],
  ['formatdate("YYYY", "nope")', { error: 'not a valid RFC3339 timestamp: cannot use "nope" as year' }],
  ['formatdate("YYYY", "2018-01-02T10:00:00")', { error: 'not a valid RFC3339 timestamp: end of string before UTC offset' }],
  ['timeadd("2017-11-22T00:00:00Z", "10m")', '2017-11-22T00:10:00Z'],
  ['timeadd("2017-11-22T00:00:00+01:00", "-1.5h")', '2017-11-21T22:30:00+01:00'],
  ['timeadd("2017-11-22T00:00:00Z", "1h2m3s4ms")', '2017-11-22T01:02:03Z'],
  ['timeadd("2016-02-28T23:00:00Z", "2h")', '2016-02-29T01:00:00Z'],
  ['timeadd("2017-11-22T00:00:00Z", "1d")', { error: 'Call to function "timeadd" failed: time: unknown unit "d" in duration "1d".' }],
  ['timeadd("2017-11-22T00:00:00Z", "10")', { error: 'time: missing unit in duration "10"' }],
  ['timeadd("2017-11-22T00:00:00Z", "")', { error: 'time: invalid duration ""' }],
  ['timeadd("yesterday", "1h")', { error: 'Call to function "timeadd" failed: not a valid RFC3339 timestamp: cannot use "yesterday" as year.' }],
];

test('formatdate and timeadd', (t) => table(t, cases, check));

test('timestamp is the current UTC time in RFC 3339, to the second', () => {
  const before = Math.floor(Date.now() / 1000);
  const r = run('timestamp()');
  const after = Math.floor(Date.now() / 1000);
  assert.match(r.text!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const t = parseTimestamp(r.text!).epoch;
  assert.ok(t >= before && t <= after);
});

test('legacy_isotime and legacy_strftime format the time the process started', () => {
  const iso = run('legacy_isotime()').text!;
  assert.match(iso, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(run('legacy_isotime()').text, iso, 'the same instant on every call');
  assert.equal(run('legacy_isotime("2006")').text, iso.slice(0, 4));
  assert.equal(run('legacy_strftime("%Y-%m-%d")').text, iso.slice(0, 10));
  assert.ok(run('legacy_isotime("a", "b")').error?.includes('too many values'));
});

test('Go reference-time layouts', () => {
  const t = parseTimestamp('2021-03-04T05:06:07.123456789-07:00');
  assert.equal(goTimeFormat('2006-01-02T15:04:05Z07:00', t), '2021-03-04T05:06:07-07:00');
  assert.equal(goTimeFormat('Mon Jan _2 3:4:5 PM 06 -0700 MST', t), 'Thu Mar  4 5:6:7 AM 21 -0700 -0700');
  assert.equal(goTimeFormat('Monday January 2 15h04 .000 .999999', t), 'Thursday March 4 05h06 .123 .123456');
  assert.equal(goTimeFormat('002', t), '063');
});

test('strftime verbs, with go-strftime\'s reading of the text around them', () => {
  const t = parseTimestamp('2021-03-04T15:06:07Z');
  assert.equal(strftime('%Y-%m-%d %H:%M:%S %a %A %b %B %I %p %y %Z %z', t), '2021-03-04 15:06:07 Thu Thursday Mar March 03 PM 21 UTC +0000');
  assert.equal(strftime('%q|100%', t), '%q|300', 'an unknown verb keeps its %; the 1 of 100 is Go\'s month');
  assert.equal(strftime('build-%Y', t), 'Maruild-2021', 'go-strftime reads the text before the first % as if a % preceded it');
  assert.equal(strftime('v1-%Y', t), '%v3-2021', 'and gives it a % when it is no verb');
  assert.equal(strftime('%Y at 2006', t), '2021 at 2021', 'Go reference digits in the text are formatted too');
});

test('Go durations', () => {
  assert.equal(parseDuration('1h30m'), 5400000000000n);
  assert.equal(parseDuration('-1.5us'), -1500n);
  assert.equal(parseDuration('2µs'), 2000n);
  assert.equal(parseDuration('0'), 0n);
});
