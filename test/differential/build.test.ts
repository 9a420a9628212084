/**
 * Differential tests: every example template and every fixture under test/fixtures/build/ is
 * built by Packer 1.6.6 and by builder; per build, the output lines, the artifact list, the exit
 * code, the manifest and the files left behind must be the same (see harness.ts for what is
 * normalised). Skipped, with the reason, when Packer is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packerAvailable, runBoth, type FixtureOptions } from './harness.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const skip = packerAvailable ? false : 'packer (1.6.6) is not installed at /usr/bin/packer';

interface Case {
  name: string;
  source: string;
  template: string;
  opts: FixtureOptions;
}

const cases: Case[] = [];
for (const f of readdirSync(join(repo, 'examples')).sort()) {
  if (f.endsWith('.pkr.hcl')) cases.push({ name: `examples/${f}`, source: join(repo, 'examples', f), template: f, opts: {} });
}
const fixtures = join(repo, 'test/fixtures/build');
for (const d of existsSync(fixtures) ? readdirSync(fixtures).sort() : []) {
  const dir = join(fixtures, d);
  const optsFile = join(dir, 'fixture.json');
  const opts = existsSync(optsFile) ? (JSON.parse(readFileSync(optsFile, 'utf8')) as FixtureOptions) : {};
  cases.push({ name: `fixtures/${d}`, source: dir, template: 'template.pkr.hcl', opts });
}

/** DIFF_ONLY=substring runs only the matching cases (while working on one). */
const only = process.env.DIFF_ONLY;

test('builder builds like Packer 1.6.6', { skip, concurrency: 3 }, async (t) => {
  assert.ok(cases.length >= 25, `expected the examples and at least 20 fixtures, found ${cases.length}`);
  await Promise.all(
    cases.filter((c) => !only || c.name.includes(only)).map((c) =>
      t.test(c.name, async () => {
        const { packer, builder } = await runBoth(c.source, c.template, c.opts);
        const context = `\n--- packer output ---\n${packer.raw}\n--- builder output ---\n${builder.raw}`;
        assert.equal(builder.exitCode, packer.exitCode, `exit code${context}`);
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
