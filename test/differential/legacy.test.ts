/**
 * Differential tests of legacy JSON templates: every fixture under test/fixtures/legacy/ (a
 * `template.json`, an optional `fixture.json` with build flags, var files) is built by Packer
 * 1.6.6 and by builder; exit codes, per-build output lines, run-level lines and the files left
 * behind must be the same (harness.ts normalises times, UUIDs and temp names).
 *
 * Fixtures marked `exitCodeOnly` fail while loading: there only the exit code is compared, and
 * builder's message must be one clear diagnostic (no stack trace), because builder reports
 * template errors in its own diagnostic layout (file:line:col and the source line) where Packer
 * prints a bare error.
 *
 * Skipped, with the reason, when Packer is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packerAvailable, runBoth, type FixtureOptions } from './harness.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skip = packerAvailable ? false : 'packer (1.6.6) is not installed at /usr/bin/packer';
const fixtures = join(repo, 'test/fixtures/legacy');

export interface LegacyFixtureOptions extends FixtureOptions {
  /** The template fails to load: compare exit codes only. */
  exitCodeOnly?: boolean;
}

export function legacyFixtures(): { name: string; dir: string; opts: LegacyFixtureOptions }[] {
  return readdirSync(fixtures)
    .sort()
    .map((name) => {
      const dir = join(fixtures, name);
      const optsFile = join(dir, 'fixture.json');
      const opts = existsSync(optsFile) ? (JSON.parse(readFileSync(optsFile, 'utf8')) as LegacyFixtureOptions) : {};
      return { name, dir, opts };
    });
}

const only = process.env.DIFF_ONLY;

test('builder builds legacy JSON templates like Packer 1.6.6', { skip, concurrency: 2 }, async (t) => {
  const cases = legacyFixtures();
  assert.ok(cases.length >= 30, `expected at least 30 legacy fixtures, found ${cases.length}`);
  await Promise.all(
    cases
      .filter((c) => !only || c.name.includes(only))
      .map((c) =>
        t.test(c.name, async () => {
          const { packer, builder } = await runBoth(c.dir, 'template.json', c.opts);
          const context = `\n--- packer output ---\n${packer.raw}\n--- builder output ---\n${builder.raw}`;
          assert.equal(builder.exitCode, packer.exitCode, `exit code${context}`);
          if (c.opts.exitCodeOnly) {
            assert.doesNotMatch(builder.raw, /\n\s+at |Internal error/, `a clear message${context}`);
            assert.match(builder.raw, /Error: /, `an error message${context}`);
            return;
          }
          assert.deepEqual(Object.keys(builder.builds).sort(), Object.keys(packer.builds).sort(), `builds${context}`);
          for (const name of Object.keys(packer.builds)) {
            assert.deepEqual(builder.builds[name], packer.builds[name], `output of build ${name}${context}`);
          }
          assert.deepEqual(builder.run, packer.run, `run-level lines${context}`);
          assert.deepEqual(builder.files, packer.files, `files left behind${context}`);
        }),
      ),
  );
});
