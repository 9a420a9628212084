/**
 * `builder fix` against `packer fix` (Packer 1.6.6, whose 34 fixers current Packer keeps
 * unchanged): every template under test/fixtures/legacy-fix/ (together they trigger each fixer,
 * its edge cases, Go's JSON encoding and the validation after fixing) and every legacy fixture's
 * template.json (the fixtures with and without `-validate=false`): same exit code, same stdout,
 * same stderr. Named normalisations: Packer 1.6.6 writes its error messages to stdout (though its
 * help says standard error); builder writes them to stderr, so when Packer fails the two streams
 * are compared together. For a file that is not JSON at all, only the "Error parsing template: "
 * prefix is compared (the rest is the JSON parser's own message, Go's or Node's).
 *
 * Skipped, with the reason, when Packer is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { builderCli, PACKER, packerAvailable } from './harness.js';
import { LEGACY_FIXTURES, legacyFixtures, run } from './legacy-fixtures.js';

const skip = packerAvailable ? false : 'packer (1.6.6) is not installed at /usr/bin/packer';
const FIX_FIXTURES = join(LEGACY_FIXTURES, '..', 'legacy-fix');

const cases = [
  ...readdirSync(FIX_FIXTURES)
    .sort()
    .flatMap((f) => ['true', 'false'].map((validate) => ({ name: `${f} -validate=${validate}`, dir: FIX_FIXTURES, file: f, validate }))),
  ...legacyFixtures().map((c) => ({ name: `legacy/${c.name}`, dir: c.dir, file: 'template.json', validate: 'true' })),
];

test('builder fix writes what packer fix 1.6.6 writes', { skip }, async (t) => {
  assert.ok(cases.length > 40);
  for (const c of cases) {
    await t.test(c.name, async () => {
      const args = ['fix', `-validate=${c.validate}`, c.file];
      const [p, b] = await Promise.all([run(PACKER, args, c.dir), run(process.execPath, [builderCli, ...args], c.dir)]);
      const context = `\n--- packer (${p.code}) ---\n${p.stdout}${p.stderr}\n--- builder (${b.code}) ---\n${b.stdout}${b.stderr}`;
      assert.equal(b.code, p.code, `exit code${context}`);
      if (c.file === 'bad-json.json') assert.match(b.stderr, /^Error parsing template: \S/, context);
      else if (p.code === 0) {
        assert.equal(b.stdout, p.stdout, `stdout${context}`);
        assert.equal(b.stderr, p.stderr, `stderr${context}`);
      } else assert.equal(b.stdout + b.stderr, p.stdout + p.stderr, `output${context}`);
    });
  }
});

test('builder fix refuses HCL2 templates', { skip }, async () => {
  const b = await run(process.execPath, [builderCli, 'fix', 'x.pkr.hcl'], FIX_FIXTURES);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /only works with legacy JSON templates/);
});
