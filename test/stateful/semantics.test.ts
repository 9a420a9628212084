/**
 * What a stateful `builder build` does on the second run, against real `builder build` processes
 * in temp folders: the steps' side effects (lines appended to files), the recorded state
 * (`builder state pull` / `state show -json`) and the plan line the user reads.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../build/cli.js';
import { expectExit, inWorkdir, provisionerStatuses } from './semantics-helpers.js';

const NULL_SOURCE = 'source "null" "a" {\n  communicator = "none"\n}\n';

// Every test works in its own folder: they run side by side.
describe('stateful build semantics', { concurrency: 4 }, () => {
  test('resume example: fails at step 2; after the fix step 1 is skipped, 2 and 3 and the post-processor run; then up to date', async () => {
    await inWorkdir(async (w) => {
      await copyFile(join(repoRoot, 'examples/resume-demo.pkr.hcl'), join(w.dir, 'resume-demo.pkr.hcl'));
      const first = await w.build('resume-demo.pkr.hcl');
      expectExit(first, 1);
      assert.match(first.stdout, /==> resume-demo\.null\.demo: Building from the start: no previous build is recorded\.\n/);
      assert.match(
        first.stdout,
        /\n==> resume-demo\.null\.demo: The completed steps are recorded\. Resume from the step that did not complete with: builder build resume-demo\.pkr\.hcl — or start over with: builder state rm resume-demo\.pkr\.hcl resume-demo\.null\.demo\n$/,
      );
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2']);
      const failed = await w.buildState('resume-demo.null.demo');
      assert.equal(failed.status, 'failed');
      assert.deepEqual(provisionerStatuses(failed), ['complete', 'failed', 'pending']);
      assert.equal(failed.instance?.keep_on_failure, true);

      await writeFile(join(w.dir, 'fixed'), '');
      const second = await w.build('resume-demo.pkr.hcl');
      expectExit(second, 0);
      assert.match(second.stdout, /==> resume-demo\.null\.demo: Resuming: provisioner 2 \(shell-local\) failed \(Script exited with non-zero exit status: 1\.Allowed exit codes are: \[0\]\); 1 step already complete\.\n/);
      assert.equal((second.stdout.match(/Running local shell script/g) ?? []).length, 2, second.stdout);
      assert.match(second.stdout, /Running post-processor: {2}\(type manifest\)/);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step2', 'step3']);
      const done = await w.buildState('resume-demo.null.demo');
      assert.equal(done.status, 'complete');
      assert.deepEqual(provisionerStatuses(done), ['complete', 'complete', 'complete']);
      assert.deepEqual(done.post_processors.map((p) => p.status), ['complete']);
      // `attempts` counts every try of a step with this configuration, across runs: step 2 failed
      // once in the first run and succeeded in the second.
      assert.deepEqual(done.provisioners.map((p) => p.attempts), [1, 2, 1]);
      assert.deepEqual(done.provisioners[0], failed.provisioners[0], 'step 1 keeps the record of the first run');

      const third = await w.build('resume-demo.pkr.hcl');
      expectExit(third, 0);
      assert.match(third.stdout, /==> resume-demo\.null\.demo: Up to date: nothing changed since the build completed at \S+\. Skipping the build\.\n/);
      assert.doesNotMatch(third.stdout, /Running/);
      assert.match(third.stdout, /==> Builds finished\. The artifacts of successful builds are:\n--> resume-demo\.null\.demo: Did not export anything\. This is the null builder\n/);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2', 'step2', 'step3']);
    });
  });

  test('the basic example run twice does nothing the second time: the state, its serial and lineage stay as they were', async () => {
    await inWorkdir(async (w) => {
      await copyFile(join(repoRoot, 'examples/basic-null.pkr.hcl'), join(w.dir, 'basic.pkr.hcl'));
      expectExit(await w.build('basic.pkr.hcl'), 0);
      const s1 = await w.state();
      const manifest = await readFile(join(w.dir, 'manifest.json'), 'utf8');
      const again = await w.build('basic.pkr.hcl');
      expectExit(again, 0);
      assert.match(again.stdout, /==> basic-null-build\.null\.basic: Up to date: /);
      assert.doesNotMatch(again.stdout, /Running/);
      assert.equal(await readFile(join(w.dir, 'manifest.json'), 'utf8'), manifest, 'the manifest post-processor did not run again');
      const s2 = await w.state();
      assert.deepEqual(s2, s1, 'an up-to-date run writes nothing (Terraform: a no-op run leaves the serial)');

      const forced = await w.build('-force', 'basic.pkr.hcl');
      expectExit(forced, 0);
      assert.match(forced.stdout, /==> basic-null-build\.null\.basic: Up to date: /, '-force (Packer\'s meaning) does not ignore the state');
      const replaced = await w.build('-replace=basic-null-build.*', 'basic.pkr.hcl');
      expectExit(replaced, 0);
      assert.match(replaced.stdout, /==> basic-null-build\.null\.basic: Building from the start: -replace names it\.\n/);
      assert.equal((replaced.stdout.match(/Running local shell script/g) ?? []).length, 1);
      const s3 = await w.state();
      assert.equal(s3.lineage, s1.lineage);
      assert.ok(s3.serial > s2.serial, `serial ${s2.serial} -> ${s3.serial}`);
    });
  });

  const fourSteps = (second: string): string => `${NULL_SOURCE}
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      inline = ["echo 1 >> steps.log"]
    }
    provisioner "shell-local" {
      inline = ["echo ${second} >> steps.log"]
    }
    provisioner "shell-local" {
      script = "step3.sh"
    }
    provisioner "shell-local" {
      inline = ["echo 4 >> steps.log"]
    }
  }
  `;

  test('editing provisioner 2 of a completed build rebuilds it from the start (steps 3 and 4 already ran on the host), naming the attribute; so does editing the script step 3 reads, naming the file', async () => {
    await inWorkdir(async (w) => {
      await writeFile(join(w.dir, 'step3.sh'), 'echo 3 >> steps.log\n', { mode: 0o755 });
      await w.write('t.pkr.hcl', fourSteps('2'));
      expectExit(await w.build('t.pkr.hcl'), 0);
      assert.deepEqual(await w.lines('steps.log'), ['1', '2', '3', '4']);

      await w.write('t.pkr.hcl', fourSteps('2b'));
      const edited = await w.build('t.pkr.hcl');
      expectExit(edited, 0);
      assert.match(edited.stdout, /==> null\.a: Building from the start: provisioner 2 \(shell-local\): inline; the host already went through the steps after it in the last build, so the build starts from the beginning\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['1', '2', '3', '4', '1', '2b', '3', '4']);

      await w.write('step3.sh', 'echo 3b >> steps.log\n');
      const script = await w.build('t.pkr.hcl');
      expectExit(script, 0);
      assert.match(script.stdout, /==> null\.a: Building from the start: provisioner 3 \(shell-local\): step3\.sh content changed; /);
      assert.deepEqual((await w.lines('steps.log')).slice(8), ['1', '2b', '3b', '4']);
      assert.deepEqual(provisionerStatuses(await w.buildState('null.a')), ['complete', 'complete', 'complete', 'complete']);
    });
  });

  test('a file read with file() is part of the configuration: editing it changes the step that uses it', async () => {
    await inWorkdir(async (w) => {
      await w.write('msg.txt', 'hello\n');
      await w.write(
        't.pkr.hcl',
        `${NULL_SOURCE}
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      inline = ["echo first >> steps.log"]
    }
    provisioner "shell-local" {
      inline = ["echo \${trimspace(file("msg.txt"))} >> steps.log"]
    }
  }
  `,
      );
      expectExit(await w.build('t.pkr.hcl'), 0);
      expectExit(await w.build('t.pkr.hcl'), 0);
      assert.deepEqual(await w.lines('steps.log'), ['first', 'hello']);
      await w.write('msg.txt', 'changed\n');
      const r = await w.build('t.pkr.hcl');
      expectExit(r, 0);
      assert.match(r.stdout, /==> null\.a: Building from the start: provisioner 2 \(shell-local\): inline; /);
      assert.deepEqual(await w.lines('steps.log'), ['first', 'hello', 'first', 'changed']);
    });
  });

  test('changing a variable that only one of two builds uses rebuilds only that build', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `variable "x" {
    type    = string
    default = "1"
  }
  source "null" "a" {
    communicator = "none"
  }
  source "null" "b" {
    communicator = "none"
  }
  build {
    name    = "one"
    sources = ["source.null.a"]
    provisioner "shell-local" {
      inline = ["echo a-\${var.x} >> a.log"]
    }
  }
  build {
    name    = "two"
    sources = ["source.null.b"]
    provisioner "shell-local" {
      inline = ["echo b >> b.log"]
    }
  }
  `,
      );
      expectExit(await w.build('t.pkr.hcl'), 0);
      const r = await w.build('-var', 'x=2', 't.pkr.hcl');
      expectExit(r, 0);
      assert.match(r.stdout, /==> one\.null\.a: Building from the start: provisioner 1 \(shell-local\): inline \(var\.x changed\); /);
      assert.match(r.stdout, /==> two\.null\.b: Up to date: /);
      assert.deepEqual(await w.lines('a.log'), ['a-1', 'a-2']);
      assert.deepEqual(await w.lines('b.log'), ['b']);
    });
  });

  test('a failed post-processor re-runs without re-running the provisioners', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `${NULL_SOURCE}
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      inline = ["echo provision >> steps.log"]
    }
    post-processor "shell-local" {
      inline = ["echo post >> steps.log", "test -f fixed"]
    }
  }
  `,
      );
      expectExit(await w.build('t.pkr.hcl'), 1);
      const failed = await w.buildState('null.a');
      assert.deepEqual(failed.post_processors.map((p) => p.status), ['failed']);
      await w.write('fixed', '');
      const r = await w.build('t.pkr.hcl');
      expectExit(r, 0);
      assert.match(r.stdout, /==> null\.a: Resuming: post-processor 1 \(shell-local\) failed /);
      assert.deepEqual(await w.lines('steps.log'), ['provision', 'post', 'post']);
      assert.equal((await w.buildState('null.a')).status, 'complete');
    });
  });

  test('a manifest file deleted after the build is written again by re-running the post-processors only', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `${NULL_SOURCE}
  build {
    sources = ["source.null.a"]
    provisioner "shell-local" {
      inline = ["echo provision >> steps.log"]
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
  `,
      );
      expectExit(await w.build('t.pkr.hcl'), 0);
      const first = JSON.parse(await readFile(join(w.dir, 'manifest.json'), 'utf8')) as { builds: unknown[] };
      assert.equal(first.builds.length, 1);
      assert.match((await w.build('t.pkr.hcl')).stdout, /==> null\.a: Up to date: /);
      await unlink(join(w.dir, 'manifest.json'));
      const r = await w.build('t.pkr.hcl');
      expectExit(r, 0);
      assert.match(r.stdout, /==> null\.a: Resuming: post-processor 1 \(manifest\) wrote manifest\.json, which is gone; /);
      assert.deepEqual(await w.lines('steps.log'), ['provision']);
      const again = JSON.parse(await readFile(join(w.dir, 'manifest.json'), 'utf8')) as { builds: unknown[] };
      assert.equal(again.builds.length, 1);
      assert.match((await w.build('t.pkr.hcl')).stdout, /==> null\.a: Up to date: /);
    });
  });

  test('a checksum file two builds append to is checked for existence, not content: no spurious rebuild, and a deleted one is written again', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `source "file" "a" {
    content = "a\\n"
    target  = "a.txt"
  }
  source "file" "b" {
    content = "b\\n"
    target  = "b.txt"
  }
  build {
    sources = ["source.file.a", "source.file.b"]
    post-processor "checksum" {
      checksum_types = ["md5"]
      output         = "sums.txt"
    }
  }
  `,
      );
      expectExit(await w.build('-parallel-builds=1', 't.pkr.hcl'), 0);
      assert.equal((await w.lines('sums.txt')).length, 2);
      const again = await w.build('-parallel-builds=1', 't.pkr.hcl');
      expectExit(again, 0);
      assert.match(again.stdout, /==> file\.a: Up to date: /);
      assert.match(again.stdout, /==> file\.b: Up to date: /);
      assert.equal((await w.lines('sums.txt')).length, 2);
      await unlink(join(w.dir, 'sums.txt'));
      const gone = await w.build('-parallel-builds=1', 't.pkr.hcl');
      expectExit(gone, 0);
      // Only the chain runs again, on the file the builder made (recorded in the state).
      assert.match(gone.stdout, /==> file\.a: Resuming: post-processor 1 \(checksum\) wrote sums\.txt, which is gone; re-runs post-processor chain 1 on the recorded artifact of the builder \(File\), without creating an instance\.\n/);
      assert.deepEqual((await w.lines('sums.txt')).map((l) => l.split('\t')[1]), ['a.txt', 'b.txt']);
      // The artifact files themselves are still compared by content.
      await w.write('a.txt', 'tampered\n');
      const modified = await w.build('-parallel-builds=1', 't.pkr.hcl');
      assert.match(modified.stdout, /==> file\.a: Building from the start: the artifact File is missing or was modified\.\n/);
      assert.match(modified.stdout, /==> file\.b: Up to date: /);
    });
  });

  test('a missing or modified artifact file makes the build run again; so does an edited step, for the file builder', async () => {
    await inWorkdir(async (w) => {
      await w.write(
        't.pkr.hcl',
        `source "file" "f" {
    content = "hello\\n"
    target  = "out.txt"
  }
  build {
    sources = ["source.file.f"]
    provisioner "shell-local" {
      inline = ["echo ran >> steps.log"]
    }
  }
  `,
      );
      expectExit(await w.build('t.pkr.hcl'), 0);
      const same = await w.build('t.pkr.hcl');
      assert.match(same.stdout, /==> file\.f: Up to date: /);
      assert.match(same.stdout, /--> file\.f: Stored file: out\.txt\n/);
      await unlink(join(w.dir, 'out.txt'));
      const missing = await w.build('t.pkr.hcl');
      expectExit(missing, 0);
      assert.match(missing.stdout, /==> file\.f: Building from the start: the artifact File is missing or was modified\.\n/);
      await w.write('out.txt', 'tampered\n');
      const modified = await w.build('t.pkr.hcl');
      expectExit(modified, 0);
      assert.match(modified.stdout, /==> file\.f: Building from the start: the artifact File is missing or was modified\.\n/);
      assert.deepEqual(await w.lines('steps.log'), ['ran', 'ran', 'ran']);
      assert.deepEqual(await w.lines('out.txt'), ['hello']);

      // The file builder's instance ends with the build: an edited step means a build from the start.
      await w.write('t.pkr.hcl', (await readFile(join(w.dir, 't.pkr.hcl'), 'utf8')).replace('echo ran', 'echo ran again'));
      const edited = await w.build('t.pkr.hcl');
      expectExit(edited, 0);
      assert.match(
        edited.stdout,
        /==> file\.f: Building from the start: provisioner 1 \(shell-local\): inline, and a file build's instance does not outlive the build, so it is rebuilt from the start\.\n/,
      );
      assert.deepEqual(await w.lines('steps.log'), ['ran', 'ran', 'ran', 'ran again']);
    });
  });

  test('-plan prints each build\'s plan and runs nothing: no side effect, the state unchanged', async () => {
    await inWorkdir(async (w) => {
      await copyFile(join(repoRoot, 'examples/resume-demo.pkr.hcl'), join(w.dir, 't.pkr.hcl'));
      const empty = await w.build('-plan', 't.pkr.hcl');
      expectExit(empty, 0);
      assert.equal(
        empty.stdout,
        '==> resume-demo.null.demo: Building from the start: no previous build is recorded.\n' +
          '    resume-demo.null.demo:   run  provisioner 1 (shell-local)\n' +
          '    resume-demo.null.demo:   run  provisioner 2 (shell-local)\n' +
          '    resume-demo.null.demo:   run  provisioner 3 (shell-local)\n' +
          '    resume-demo.null.demo:   run  post-processor 1 (manifest)\n' +
          '\nPlan: 1 to build from the start, 0 to resume, 0 up to date. Nothing was run.\n',
      );
      assert.deepEqual(await w.lines('steps.log'), []);
      assert.equal(existsSync(join(w.dir, '.packer.d')), false, '-plan wrote no state');
      expectExit(await w.build('t.pkr.hcl'), 1);
      const before = await w.state();
      const plan = await w.build('-plan', 't.pkr.hcl');
      expectExit(plan, 0);
      assert.match(plan.stdout, /^==> resume-demo\.null\.demo: Resuming: provisioner 2 \(shell-local\) failed .*; 1 step already complete\.\n {4}resume-demo\.null\.demo: {3}skip provisioner 1 \(shell-local\)\n {4}resume-demo\.null\.demo: {3}run {2}provisioner 2 \(shell-local\)\n(?:.*\n)*\nPlan: 0 to build from the start, 1 to resume, 0 up to date\. Nothing was run\.\n$/);
      assert.deepEqual(await w.lines('steps.log'), ['step1', 'step2']);
      assert.deepEqual(await w.state(), before);
    });
  });
});
