/**
 * The command table: every entry loads a command with the entry's own words and synopsis, no
 * two entries share words, and the main usage lists them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from '../../src/cli/commands.js';
import { findCommand, mainUsage } from '../../src/cli/main.js';

test('each command entry loads the command it describes', async () => {
  for (const entry of commands) {
    const command = await entry.load();
    assert.deepEqual(command.name, entry.name);
    assert.equal(command.synopsis, entry.synopsis);
    assert.ok(command.usage.startsWith(`Usage: builder ${entry.name.join(' ')}`), command.usage);
  }
});

test('command words are unique and the longest match wins', () => {
  const keys = commands.map((c) => c.name.join(' '));
  assert.equal(new Set(keys).size, keys.length);
  assert.deepEqual(findCommand(['state', 'list', '-x'])?.command.name, ['state', 'list']);
  assert.deepEqual(findCommand(['state', 'bogus'])?.command.name, ['state']);
  assert.equal(findCommand(['nope']), undefined);
  for (const k of keys) assert.ok(mainUsage().includes(k));
});
