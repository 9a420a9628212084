import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { test } from 'node:test';
import { hasGlob, quoteRemoteGlob, quoteRemotePath, shellQuote } from '../../src/sdk/shell-quote.js';

/** What /bin/sh makes of a quoted word. */
function shellSees(word: string): string {
  return execFileSync('/bin/sh', ['-c', `printf '%s' ${word}`], { encoding: 'utf8', env: { HOME: homedir(), PATH: '/usr/bin:/bin' } });
}

test('quoted paths reach the shell unchanged, however hostile', () => {
  for (const path of ["it's", '$(touch /tmp/x) `id` ; rm -rf / & | > <', 'a\nb', '"double"', '*', '\\', '']) {
    assert.equal(shellSees(shellQuote(path)), path);
    assert.equal(shellSees(quoteRemotePath(path)), path);
  }
});

test('a leading ~ still means the home directory', () => {
  assert.equal(quoteRemotePath('~'), '~');
  assert.equal(shellSees(quoteRemotePath("~/my dir/it's")), `${homedir()}/my dir/it's`);
  assert.equal(shellSees(quoteRemotePath('/x/~/y')), '/x/~/y');
  assert.equal(shellSees(quoteRemotePath('~/')), `${homedir()}/`);
  assert.equal(shellSees(quoteRemotePath('~user')), '~user');
});

test('glob patterns keep their wildcards, and only them', () => {
  assert.equal(quoteRemoteGlob('/var/log/*.log'), "'/var/log/'*'.log'");
  assert.equal(quoteRemoteGlob('~/a b/[ab]?'), "~/'a b/'['ab']?");
  assert.equal(shellSees(quoteRemoteGlob('/nonexistent dir/$(id)*')), '/nonexistent dir/$(id)*');
  assert.equal(hasGlob('/a/*'), true);
  assert.equal(hasGlob('/a/b'), false);
});
