/**
 * Many runners building one template together (`builder build -run-id=ID` on a PostgreSQL
 * state), end to end: real `builder build` processes with distinct runner names (machines, as
 * far as their locks go: their leases are never judged by pid, they only expire) on one
 * throwaway cluster.
 * - Three runners split a template's builds: each build is built by exactly one runner, every
 *   step runs exactly once, and each runner's exit code and last line report the whole run.
 * - A runner SIGKILLed in the middle of a build: a second runner waits, says who holds the build,
 *   takes it over once its lease expired and resumes it on the kept instance — the completed step
 *   does not run again. Meanwhile `state list` and `builder plan` name the runner holding it (and
 *   `plan -json` its run and the lease's expiry, and no secret).
 * - A runner whose inputs differ from the run's is refused with one clear message.
 * - Four runners on 40 builds of 3 steps while a supervisor SIGKILLs a random runner every two
 *   seconds (three times) and starts a replacement: every build completes, takeovers are said, and
 *   no step completed by a runner that was not killed ever runs again (a step that ended just
 *   before its runner was killed, before its end was recorded, may run again: that is the
 *   at-least-once a crash allows).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { postgresTestFile, until } from '../helpers/postgres.js';
import { runCli, startCli, type CliResult } from '../build/cli.js';
import type { StateFile } from '../../src/state/types.js';
import type { PlanDocumentJson } from '../../src/plan/plan-json.js';
import { expectExit, inWorkdir, type Workdir } from './semantics-helpers.js';
import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const { cluster, pgTest } = postgresTestFile(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** A template of `n` null builds (b1…bn), each with the given shell-local steps. */
function template(n: number, steps: readonly string[]): string {
  const names = Array.from({ length: n }, (_, i) => `b${i + 1}`);
  return (
    names.map((b) => `source "null" "${b}" { communicator = "none" }\n`).join('') +
    `build {\n  sources = [${names.map((b) => `"source.null.${b}"`).join(', ')}]\n` +
    steps.map((s) => `  provisioner "shell-local" { inline = [${JSON.stringify(s)}] }\n`).join('') +
    '}\n'
  );
}

/** `builder build` as runner `runner` of run `runId`. */
function runner(w: Workdir, runId: string, name: string, ...extra: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  // Each test in its own workspace (named as its run): its builds are not another test's.
  const r = startCli(['build', '-color=false', `-state=${cluster().url}`, `-workspace=${runId}`, `-run-id=${runId}`, `-runner=${name}`, '-lease-ttl=2s', ...extra, 't.pkr.hcl'], w.dir, { TEST_RUNNER: name });
  children.add(r.child);
  void r.done.finally(() => children.delete(r.child));
  return r;
}

/** How many lines of steps.log equal each of `lines`. */
async function counts(w: Workdir): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const l of await w.lines('steps.log')) m.set(l, (m.get(l) ?? 0) + 1);
  return m;
}

pgTest('three runners split the builds of one template: each build is built by exactly one runner, each step runs once', async () => {
  await inWorkdir(async (w) => {
    const n = 9;
    await w.write('t.pkr.hcl', template(n, ['echo $PACKER_BUILD_NAME s1 >> steps.log; sleep 0.2', 'echo $PACKER_BUILD_NAME s2 >> steps.log']));
    const runs = ['m1', 'm2', 'm3'].map((name) => runner(w, 'split-1', name));
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) {
      expectExit(r, 0);
      assert.match(r.stdout, new RegExp(`==> Run split-1: ${n} build\\(s\\) done, 0 failed, across all its runners\\.`), 'every runner reports the whole run');
    }
    const c = await counts(w);
    for (let i = 1; i <= n; i++) {
      for (const s of ['s1', 's2']) assert.equal(c.get(`b${i} ${s}`), 1, `b${i} ${s} ran exactly once`);
      const builtBy = results.filter((r) => r.stdout.includes(`Build 'null.b${i}' finished`));
      assert.equal(builtBy.length, 1, `null.b${i} was built by exactly one runner`);
    }
    assert.equal([...c.values()].reduce((a, b) => a + b, 0), 2 * n, 'no other step ran');
    const built = results.map((r) => (r.stdout.match(/Build 'null\.b\d+' finished/g) ?? []).length);
    assert.ok(built.filter((k) => k > 0).length >= 2, `the builds were shared out between runners (${built.join(', ')})`);

    // A runner that joins the run once it is over builds nothing and reports the run.
    const late = await runner(w, 'split-1', 'm4').done;
    expectExit(late, 0);
    assert.doesNotMatch(late.stdout, /finished after/);
    assert.equal([...(await counts(w)).values()].reduce((a, b) => a + b, 0), 2 * n, 'the late runner ran nothing');
  });
});

pgTest('a SIGKILLed runner: its build is taken over after its lease expired and resumed on the kept instance by another runner', async () => {
  await inWorkdir(async (w) => {
    await w.write(
      't.pkr.hcl',
      template(2, ['echo $PACKER_BUILD_NAME s1 >> steps.log', 'echo $PACKER_BUILD_NAME s2-start >> steps.log; touch started-$PACKER_BUILD_NAME; while [ ! -e go ]; do sleep 0.1; done; echo $PACKER_BUILD_NAME s2-end >> steps.log']),
    );
    const a = runner(w, 'kill-1', 'machine-a');
    let victim = '';
    await until('runner A in the second step of a build', async () => {
      victim = ['b1', 'b2'].find((b) => existsSync(join(w.dir, `started-${b}`))) ?? '';
      return victim !== '' || a.child.exitCode !== null;
    });
    assert.notEqual(victim, '', 'runner A started a build');
    const list = await runCli(['state', 'list', `-state=${cluster().url}`, '-workspace=kill-1', 't.pkr.hcl'], w.dir);
    expectExit(list, 0);
    assert.match(list.stdout, new RegExp(`null\\.${victim}\\s+\\w+.*\\sheld by [^@ ]+@machine-a \\(pid \\d+, build since `), 'state list names the runner working on the build');
    const plan = await runCli(['plan', '-color=false', `-state=${cluster().url}`, '-workspace=kill-1', 't.pkr.hcl'], w.dir);
    expectExit(plan, 0);
    assert.match(
      plan.stdout,
      new RegExp(`null\\.${victim}:?\\s+held by [^@ ]+@machine-a \\(pid \\d+, build since [^)]+, lock ID [0-9a-f-]+\\): running now`),
      'builder plan names the runner working on the build',
    );
    const json = await runCli(['plan', '-json', `-state=${cluster().url}`, '-workspace=kill-1', 't.pkr.hcl'], w.dir);
    expectExit(json, 0);
    assert.doesNotMatch(json.stdout, /postgres(ql)?:\/\//, 'no connection string in the plan');
    const held = (JSON.parse(json.stdout) as PlanDocumentJson).builds.find((b) => b.build === `null.${victim}`)?.held_by;
    assert.ok(held, 'plan -json names the runner working on the build');
    assert.match(held.who, /@machine-a$/);
    assert.equal(held.host, 'machine-a');
    assert.equal(held.operation, 'build');
    assert.equal(held.run_id, 'kill-1');
    assert.match(held.lock_id, /^[0-9a-f-]{36}$/);
    assert.ok(held.expires !== undefined && Date.parse(held.expires) > Date.parse(held.since), `the lease expires after it was taken: ${held.since} .. ${held.expires}`);
    a.child.kill('SIGKILL');
    const killed = await a.done;
    assert.equal(killed.code, 1);
    await writeFile(join(w.dir, 'go'), ''); // the step no longer waits (on the runner that takes over)
    const b = await runner(w, 'kill-1', 'machine-b').done;
    expectExit(b, 0);
    assert.match(b.stdout, new RegExp(`==> Run kill-1: null\\.${victim}: taking the build over \\(claim 2\\)`), 'the takeover is said');
    assert.match(b.stdout, new RegExp(`==> null\\.${victim}: Resuming: `), 'the taken-over build resumes (its completed step is skipped)');
    assert.match(b.stdout, /==> Run kill-1: 2 build\(s\) done, 0 failed, across all its runners\./);
    const c = await counts(w);
    for (const x of ['b1', 'b2']) {
      assert.equal(c.get(`${x} s1`), 1, `${x}: the completed first step never ran twice`);
      assert.equal(c.get(`${x} s2-end`), 1, `${x}: the second step completed once`);
    }
    assert.equal(c.get(`${victim} s2-start`), 2, 'the interrupted step ran again on the kept instance');
    const pull = await runCli(['state', 'pull', `-state=${cluster().url}`, '-workspace=kill-1'], w.dir);
    expectExit(pull, 0);
    const rec = Object.entries((JSON.parse(pull.stdout) as StateFile).builds).find(([k]) => k.endsWith(`/null.${victim}`))?.[1];
    assert.equal(rec?.status, 'complete');
    assert.deepEqual(rec?.provisioners.map((p) => p.status), ['complete', 'complete']);
  });
});

pgTest('a runner whose inputs differ from the run is refused', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', template(1, ['echo one >> steps.log']));
    expectExit(await runner(w, 'inputs-1', 'm1').done, 0);
    await w.write('t.pkr.hcl', template(1, ['echo two >> steps.log']));
    const other = await runner(w, 'inputs-1', 'm2').done;
    expectExit(other, 1);
    assert.match(other.stderr, /the shared run "inputs-1" on postgres:\/\/.* was started with other inputs/);
    assert.doesNotMatch(other.stderr, /\n\s+at /, 'no stack trace');
  });
});

pgTest('four runners on 40 builds while a supervisor SIGKILLs a random runner every two seconds: every build completes, no step a live runner completed runs again', async () => {
  await inWorkdir(async (w) => {
    const n = 40;
    const step = (k: number): string => `echo $PACKER_BUILD_NAME s${k} start $TEST_RUNNER >> steps.log; sleep 0.2; echo $PACKER_BUILD_NAME s${k} end $TEST_RUNNER >> steps.log`;
    await w.write('t.pkr.hcl', template(n, [step(1), step(2), step(3)]));
    const live = new Map<string, { child: ChildProcess; done: Promise<CliResult> }>();
    const results = new Map<string, CliResult>();
    const killed = new Set<string>();
    let next = 0;
    const start = (): void => {
      const name = `m${++next}`;
      const r = runner(w, 'chaos-1', name);
      live.set(name, r);
      void r.done.then((res) => {
        results.set(name, res);
        live.delete(name);
      });
    };
    for (let i = 0; i < 4; i++) start();
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setTimeout(r, 2000));
      const names = [...live.keys()];
      if (names.length === 0) break;
      const victim = names[Math.floor(Math.random() * names.length)]!;
      killed.add(victim);
      live.get(victim)!.child.kill('SIGKILL');
      start();
    }
    await until('every runner to end', async () => live.size === 0);

    for (const [name, r] of results) {
      if (killed.has(name)) continue;
      expectExit(r, 0);
      assert.match(r.stdout, new RegExp(`==> Run chaos-1: ${n} build\\(s\\) done, 0 failed, across all its runners\\.`), `${name} reports the whole run`);
    }
    const lines = (await w.lines('steps.log')).map((l) => l.split(' '));
    for (let i = 1; i <= n; i++) {
      for (let k = 1; k <= 3; k++) {
        const ends = lines.filter(([b, s, what]) => b === `b${i}` && s === `s${k}` && what === 'end').map((l) => l[3]!);
        assert.ok(ends.length >= 1, `b${i} s${k} completed`);
        // Every completion but the last was by a runner that was killed before it could record it.
        for (const by of ends.slice(0, -1)) assert.ok(killed.has(by), `b${i} s${k} completed by ${by}, which was not killed, and ran again`);
      }
    }
    const takeovers = [...results.values()].map((r) => (r.stdout.match(/taking the build over/g) ?? []).length).reduce((a, b) => a + b, 0);
    // A step a killed runner started and never ended was interrupted: its build was taken over.
    const ended = new Set(lines.filter(([, , what]) => what === 'end').map(([b, s, , by]) => `${b} ${s} ${by}`));
    const interrupted = lines.filter(([b, s, what, by]) => what === 'start' && killed.has(by!) && !ended.has(`${b} ${s} ${by}`));
    if (interrupted.length > 0) assert.ok(takeovers >= 1, `takeovers are said (${interrupted.length} step(s) interrupted)`);
    const pull = await runCli(['state', 'pull', `-state=${cluster().url}`, '-workspace=chaos-1'], w.dir);
    expectExit(pull, 0);
    const builds = Object.values((JSON.parse(pull.stdout) as StateFile).builds);
    assert.equal(builds.length, n);
    for (const b of builds) assert.equal(b.status, 'complete', `${b.name} is complete in the state`);
  });
});
