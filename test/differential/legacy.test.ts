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
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builderCli, PACKER, packerAvailable, runBoth } from './harness.js';
import { legacyFixtures } from './legacy-fixtures.js';

const skip = packerAvailable ? false : 'packer (1.6.6) is not installed at /usr/bin/packer';

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

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** Fixtures whose upgraded HCL2 file Packer 1.6.6 itself cannot build the way builder does, with why. */
const UPGRADED_BUILD_DIFFERS: Readonly<Record<string, string>> = {
  'string-functions': '1.6.6 leaves unhandled Go template calls ({{upper}}, {{split}}) in the HCL2 file; its plugins render them, builder does not',
  isotime: '1.6.6 cannot transpose {{isotime "layout"}} and leaves it for its plugins to render; builder does not render Go templates in HCL2 bodies',
  'execute-command': '1.6.6 cannot transpose a block holding {{.Vars}} and keeps its {{user}} calls, which its HCL2 plugins reject',
  'file-builder': '1.6.6 writes ${build.name} into a source block, where its HCL2 has no build object',
  'post-processor-chain': '1.6.6 keeps only/except builder names, which HCL2 matches against type.name source names',
  'build-placeholders': '1.6.6 writes ${build.type}, which its HCL2 lacks: both fail; builder words the HCL2 diagnostic its own way',
  'named-builders': '1.6.6 writes ${build.type}, which its HCL2 lacks: both fail; builder words the HCL2 diagnostic its own way',
  'variables-default': 'an undeclared {{user}} becomes ${var.x}, an HCL2 error in both; builder words the diagnostic its own way',
  'variable-refers-variable': 'a default referring to another variable is an HCL2 error in both; builder words the diagnostic its own way',
  'variables-cli': 'an undeclared -var is an HCL2 error in both; Packer wraps the message at 80 columns, builder does not',
  'failing-post-processor': '1.6.6 writes ${build.name} into post-processors, where its HCL2 has no build.name; builder evaluates it',
};

/** Fixtures whose `hcl2_upgrade` message (not its file) differs from Packer 1.6.6's, with why. */
const UPGRADE_MESSAGE_DIFFERS: Readonly<Record<string, string>> = {
  'vault-in-variables': "1.6.6 calls Vault while initialising and prints Vault's failure (Ignoring following initialization error); builder has no Vault client",
  'consul-key-in-variables': "1.6.6 calls Consul while initialising and prints Consul's failure (Ignoring following initialization error); builder has no Consul client",
};

test('hcl2_upgrade writes what Packer 1.6.6 writes, and the upgraded file builds alike', { skip, concurrency: 2 }, async (t) => {
  const cases = legacyFixtures().filter((c) => !only || c.name.includes(only));
  for (const c of cases) {
    await t.test(c.name, async (tt) => {
      const dir = mkdtempSync(join(tmpdir(), 'legacy-upgrade-'));
      try {
        cpSync(join(c.dir, 'template.json'), join(dir, 'template.json'));
        const p = run(PACKER, ['hcl2_upgrade', '-output-file=packer.pkr.hcl', 'template.json'], dir);
        const b = run(process.execPath, [builderCli, 'hcl2_upgrade', '-output-file=builder.pkr.hcl', 'template.json'], dir);
        assert.equal(b.code, p.code, `exit code\n${p.out}\n${b.out}`);
        if (!UPGRADE_MESSAGE_DIFFERS[c.name]) assert.equal(b.out.replace('builder.pkr.hcl', 'packer.pkr.hcl'), p.out);
        assert.equal(readFileSync(join(dir, 'builder.pkr.hcl'), 'utf8'), readFileSync(join(dir, 'packer.pkr.hcl'), 'utf8'));
        if (c.opts.exitCodeOnly || p.code !== 0) return;
        const why = UPGRADED_BUILD_DIFFERS[c.name];
        if (why) return tt.skip(why);
        // The upgraded file, with the fixture's var files, built by both.
        const src = mkdtempSync(join(tmpdir(), 'legacy-upgraded-'));
        try {
          cpSync(c.dir, src, { recursive: true });
          rmSync(join(src, 'template.json'));
          cpSync(join(dir, 'builder.pkr.hcl'), join(src, 'template.pkr.hcl'));
          const { packer, builder } = await runBoth(src, 'template.pkr.hcl', c.opts);
          const context = `\n--- packer output ---\n${packer.raw}\n--- builder output ---\n${builder.raw}`;
          assert.equal(builder.exitCode, packer.exitCode, `exit code${context}`);
          assert.deepEqual(builder.builds, packer.builds, `builds${context}`);
          assert.deepEqual(builder.run, packer.run, `run-level lines${context}`);
          assert.deepEqual(builder.files, packer.files, `files${context}`);
        } finally {
          rmSync(src, { recursive: true, force: true });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
