/**
 * The state features on a legacy JSON template, end to end through real `builder build` and
 * `builder plan` processes, as test/stateful/semantics.test.ts and test/plan/plan-cli.test.ts do
 * for HCL2: a failed provisioner keeps the instance and the next run resumes on it; an unchanged
 * template is skipped as up to date; `plan` names the provisioner changed in the JSON; a changed
 * `-var` (or `-var-file` value) is detected.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../build/cli.js';
import { expectExit, inWorkdir, provisionerStatuses } from './semantics-helpers.js';

/** A legacy template: three shell-local steps (the second needs the file `fixed`), a manifest. */
function template(step2 = 'test -f fixed && echo step2 >> steps.log'): string {
  return JSON.stringify(
    {
      variables: { x: '1' },
      builders: [{ type: 'null', communicator: 'none', name: 'demo' }],
      provisioners: [
        { type: 'shell-local', inline: ['echo step1 >> steps.log'] },
        { type: 'shell-local', inline: [step2] },
        { type: 'shell-local', inline: ['echo step3-{{user `x`}} >> steps.log'] },
      ],
      'post-processors': [{ type: 'manifest', output: 'manifest.json' }],
    },
    null,
    2,
  );
}

describe('state features on a legacy JSON template', { concurrency: 3 }, () => {
  test('a failed provisioner keeps the instance; the next run resumes at it; then the build is up to date', async () => {
    await inWorkdir(async (w) => {
      await w.write('t.json', template());
      const first = await w.build('t.json');
      expectExit(first, 1);
      assert.match(first.stdout, /==> demo: Building from the start: no previous build is recorded\.\n/);
      assert.match(first.stdout, /==> demo: The completed steps are recorded\. Resume from the step that did not complete with: builder build t\.json — or start over with: builder state rm t\.json demo\n$/);
      assert.deepEqual(await w.lines('steps.log'), ['step1']);
      const failed = await w.buildState('demo');
      assert.equal(failed.status, 'failed');
      assert.deepEqual(provisionerStatuses(failed), ['complete', 'failed', 'pending']);
      assert.equal(failed.instance?.keep_on_failure, true);

      await writeFile(join(w.dir, 'fixed'), '');
      const second = await w.build('t.json');
      expectExit(second, 0);
      assert.match(second.stdout, /==> demo: Resuming: provisioner 2 \(shell-local\) failed \([^)]*\); 1 step already complete\.\n/);
      assert.equal((second.stdout.match(/Running local shell script/g) ?? []).length, 2, second.stdout);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step3-1']);
      const done = await w.buildState('demo');
      assert.equal(done.status, 'complete');
      assert.deepEqual(provisionerStatuses(done), ['complete', 'complete', 'complete']);
      assert.deepEqual(done.post_processors.map((p) => p.status), ['complete']);

      const third = await w.build('t.json');
      expectExit(third, 0);
      assert.match(third.stdout, /==> demo: Up to date: nothing changed since the build completed at \S+\. Skipping the build\.\n/);
      assert.doesNotMatch(third.stdout, /Running/);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step3-1']);
    });
  });

  test('plan names the provisioner changed in the JSON, and a changed -var; build then runs it', async () => {
    await inWorkdir(async (w) => {
      await w.write('fixed', '');
      await w.write('t.json', template());
      expectExit(await w.build('t.json'), 0);

      const unchanged = await runCli(['plan', '-detailed-exitcode', 't.json'], w.dir);
      expectExit(unchanged, 0);
      assert.match(unchanged.stdout, /demo: Up to date/);

      await w.write('t.json', template('test -f fixed && echo step2-edited >> steps.log'));
      const edited = await runCli(['plan', '-detailed-exitcode', 't.json'], w.dir);
      expectExit(edited, 2);
      assert.match(edited.stdout, /demo: Building from the start: provisioner 2 \(shell-local\): inline/);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step3-1'], 'plan runs nothing');
      expectExit(await w.build('t.json'), 0);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step3-1', 'step1', 'step2-edited', 'step3-1']);

      // The variable is rendered into the JSON's strings (as Packer's legacy engine does), so the
      // plan names the attribute it changed, not the variable (HCL2 plans name both).
      const byVar = await runCli(['plan', '-detailed-exitcode', '-var', 'x=2', 't.json'], w.dir);
      expectExit(byVar, 2);
      assert.match(byVar.stdout, /demo: Building from the start: provisioner 3 \(shell-local\): inline; /);
      await w.write('vars.json', JSON.stringify({ x: '1' }));
      const sameByFile = await runCli(['plan', '-detailed-exitcode', '-var-file=vars.json', 't.json'], w.dir);
      expectExit(sameByFile, 0);
      const built = await w.build('-var', 'x=2', 't.json');
      expectExit(built, 0);
      // A completed build keeps no instance: it runs again from the start.
      assert.deepEqual((await w.lines('steps.log')).slice(6), ['step1', 'step2-edited', 'step3-2'], built.stdout);
      const again = await w.build('-var', 'x=2', 't.json');
      assert.match(again.stdout, /==> demo: Up to date: /);
    });
  });

  test('{{timestamp}} changes every run: the build runs again, unless -ignore-changes names the attribute', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.json',
        JSON.stringify({ builders: [{ type: 'null', communicator: 'none', name: 'demo' }], provisioners: [{ type: 'shell-local', inline: ['echo {{timestamp}} >> t.log'] }] }),
      );
      const ignore = '-ignore-changes=provisioner.1.inline';
      expectExit(await w.build(ignore, 't.json'), 0);
      // Packer's timestamp is the run's start in seconds: wait for the next second.
      await new Promise((r) => setTimeout(r, 1100));
      const plain = await runCli(['plan', '-detailed-exitcode', 't.json'], w.dir);
      expectExit(plain, 2);
      assert.match(plain.stdout, /demo: Building from the start: provisioner 1 \(shell-local\)(: inline| changed); /);
      const ignored = await runCli(['plan', '-detailed-exitcode', ignore, 't.json'], w.dir);
      expectExit(ignored, 0);
      assert.match(ignored.stdout, /demo: Up to date: /);
    });
  });
});
