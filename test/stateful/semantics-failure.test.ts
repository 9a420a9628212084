/**
 * Failures, retries, interruption, secrets and `state rm`, against real `builder build` processes:
 * what is kept, what the user is told, and what the next run does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { expectExit, inWorkdir, provisionerStatuses, runCli, startCli } from './semantics-helpers.js';

const threeSteps = `source "null" "a" {
  communicator = "none"
}
build {
  sources = ["source.null.a"]
  provisioner "shell-local" {
    inline = ["echo s1 >> steps.log"]
  }
  provisioner "shell-local" {
    inline = ["echo s2 >> steps.log", "if [ -f slow ]; then sleep 30; fi", "test -f fixed"]
  }
  provisioner "shell-local" {
    inline = ["echo s3 >> steps.log"]
  }
}
`;

// Every test works in its own folder: they run side by side.
describe('stateful build failures', { concurrency: 4 }, () => {
  test('-on-error=cleanup given explicitly: nothing is kept, the next run starts from the beginning', async () => {
    await inWorkdir(async (w) => {
      await w.write('t.pkr.hcl', threeSteps);
      const failed = await w.build('-on-error=cleanup', 't.pkr.hcl');
      expectExit(failed, 1);
      assert.doesNotMatch(failed.stdout, /Run the same command again/);
      const b = await w.buildState('null.a');
      assert.equal(b.status, 'failed');
      assert.equal(b.instance, null);
      await w.write('fixed', '');
      const next = await w.build('t.pkr.hcl');
      expectExit(next, 0);
      assert.match(next.stdout, /==> null\.a: Building from the start: the last build failed without keeping an instance to resume on\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['s1', 's2', 's1', 's2', 's3']);
    });
  });

  test('by default a failed build keeps its instance and says how to resume and how to discard; state rm -force discards', async () => {
    await inWorkdir(async (w) => {
      await w.write('t.pkr.hcl', threeSteps);
      const failed = await w.build('t.pkr.hcl');
      expectExit(failed, 1);
      assert.match(failed.stdout, /Resume from the step that did not complete with: builder build .*t\.pkr\.hcl — or start over with: builder state rm t\.pkr\.hcl null\.a\n$/);
      assert.equal((await w.buildState('null.a')).instance?.keep_on_failure, true);

      const refused = await runCli(['state', 'rm', 'null.a'], w.dir);
      expectExit(refused, 1);
      assert.match(refused.stderr, /run the command again with -force to forget the build \(its instance is the host it connects to: there is nothing to destroy\)\.\n\[BLD0116\]\n$/);
      const removed = await runCli(['state', 'rm', '-force', 'null.a'], w.dir);
      expectExit(removed, 0);
      assert.match(removed.stdout, /Nothing to destroy for build "t\.pkr\.hcl\/null\.a": its instance of the null builder is the host the build connects to\.\nRemoved build "t\.pkr\.hcl\/null\.a"\.\n/);
      await w.write('fixed', '');
      const next = await w.build('t.pkr.hcl');
      expectExit(next, 0);
      assert.match(next.stdout, /==> null\.a: Building from the start: no previous build is recorded\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['s1', 's2', 's1', 's2', 's3']);
    });
  });

  test('max_retries: every attempt is recorded', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `source "null" "a" {
    communicator = "none"
  }
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      max_retries = 1
      inline      = ["echo try >> tries.log", "test $(wc -l < tries.log) -ge 2"]
    }
  }
  `,
      );
      const r = await w.build('t.pkr.hcl');
      expectExit(r, 0);
      assert.match(r.stdout, /retrying with 1 trie\(s\) left/);
      const b = await w.buildState('null.a');
      assert.deepEqual(provisionerStatuses(b), ['complete']);
      assert.equal(b.provisioners[0]!.attempts, 2);
      assert.deepEqual(await w.lines('tries.log'), ['try', 'try']);
    });
  });

  test('SIGINT during a step: recorded failed with "interrupted", lock released, the next run resumes at that step', async () => {
    await inWorkdir(async (w) => {
      await w.write('t.pkr.hcl', threeSteps);
      await w.write('slow', '');
      await w.write('fixed', '');
      const { child, done } = startCli(['build', 't.pkr.hcl'], w.dir);
      for (let i = 0; i < 500 && !(await w.lines('steps.log')).includes('s2'); i++) await delay(20);
      child.kill('SIGINT');
      const r = await done;
      expectExit(r, 1);
      assert.match(r.stdout, /Cleanly cancelled builds after being interrupted\./);
      const b = await w.buildState('null.a');
      assert.deepEqual(provisionerStatuses(b), ['complete', 'failed', 'pending']);
      assert.equal(b.provisioners[1]!.error, 'interrupted');
      assert.equal(b.instance?.keep_on_failure, true);

      await rm(join(w.dir, 'slow'));
      // Refused at once (-lock-timeout 0s) if the interrupted run had left its build lock behind.
      const next = await w.build('t.pkr.hcl');
      expectExit(next, 0);
      assert.match(next.stdout, /==> null\.a: Resuming: provisioner 2 \(shell-local\) failed \(interrupted\); 1 step already complete\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['s1', 's2', 's2', 's3']);
    });
  });

  /** Every file under `dir`, as text. */
  async function allText(dir: string): Promise<string> {
    let text = '';
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) text += await readFile(join(e.parentPath, e.name), 'utf8');
    }
    return text;
  }

  test('values of sensitive variables appear nowhere: not in the state, its journal or backups, nor in the output', async () => {
    const secret = 'hunter2-S3CR3T-value';
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `variable "token" {
    type      = string
    sensitive = true
  }
  source "null" "a" {
    communicator = "none"
  }
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      environment_vars = ["TOKEN=\${var.token}"]
      inline           = ["echo token=$TOKEN", "echo ran >> steps.log"]
    }
    provisioner "shell-local" {
      inline = ["echo \${var.token} > /dev/null", "test -f fixed"]
    }
  }
  `,
      );
      const outputs: string[] = [];
      const run = async (code: number, ...args: string[]): Promise<string> => {
        const r = await w.build(...args, 't.pkr.hcl');
        expectExit(r, code);
        outputs.push(r.stdout, r.stderr);
        return r.stdout;
      };
      assert.match(await run(1, '-var', `token=${secret}`), /token=<sensitive>/);
      await w.write('fixed', '');
      await run(0, '-var', `token=${secret}`);
      assert.match(await run(0, '-var', `token=${secret}`), /Up to date: /);
      // A changed secret changes the fingerprints: the build runs again (its steps already ran on the host).
      assert.match(await run(0, '-var', 'token=another-secret'), /Building from the start: provisioner 1 \(shell-local\): environment_vars \(var\.token changed\), provisioner 2 \(shell-local\): inline \(var\.token changed\); /);
      assert.deepEqual(await w.lines('steps.log'), ['ran', 'ran']);
      const pulled = await runCli(['state', 'pull'], w.dir);
      outputs.push(pulled.stdout);

      const files = await allText(join(w.dir, '.packer.d'));
      assert.ok(files.length > 0);
      for (const s of [secret, 'another-secret']) {
        assert.ok(!files.includes(s), `"${s}" is in a file under .packer.d`);
        assert.ok(!outputs.join('\n').includes(s), `"${s}" is in the output`);
      }
    });
  });

  test('an error text that holds a sensitive value is saved with the value masked', async () => {
    const secret = 'hunter2-in-a-path';
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `variable "token" {
    type      = string
    sensitive = true
  }
  source "file" "f" {
    source = "\${var.token}.txt"
    target = "out.txt"
  }
  build {
    sources = ["source.file.f"]
  }
  `,
      );
      const r = await w.build('-var', `token=${secret}`, 't.pkr.hcl');
      expectExit(r, 1);
      assert.match(r.stdout, /errored after .*: open <sensitive>: no such file or directory\n/);
      assert.equal((await w.buildState('file.f')).error, 'open <sensitive>: no such file or directory');
      assert.ok(!(await allText(join(w.dir, '.packer.d'))).includes(secret));
    });
  });
});
