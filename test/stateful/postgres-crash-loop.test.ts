/**
 * A build that keeps crashing its runners (issue 11), end to end on a throwaway cluster: its step
 * SIGKILLs the `builder build` process running it (the step's nearest `node` ancestor). Runners
 * of one shared run are started one after another, each once the previous one ended: each claim
 * of the build kills its runner, until the next runner finds that the build has been claimed
 * `-max-attempts` times and marks it failed for the run, with a message naming the attempts. The
 * run then ends: the other build done, that one failed, every later runner reporting the same,
 * and no runner claims the build again.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { postgresTestFile } from '../helpers/postgres.js';
import { startCli, type CliResult } from '../build/cli.js';
import { inWorkdir, type Workdir } from './semantics-helpers.js';

const children = new Set<ChildProcess>();
const { cluster, pgTest } = postgresTestFile(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Kills the step's runner: the nearest ancestor process named `node` (the builder). */
const KILL_RUNNER =
  'p=$PPID; while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != node ]; do p=$(awk \'/^PPid:/{print $2}\' /proc/$p/status); done; ' +
  '[ "$p" -gt 1 ] && kill -9 $p; exit 1';

const TEMPLATE =
  'source "null" "b1" { communicator = "none" }\nsource "null" "b2" { communicator = "none" }\n' +
  'build {\n  sources = ["source.null.b1", "source.null.b2"]\n' +
  `  provisioner "shell-local" { inline = [${JSON.stringify(`echo $PACKER_BUILD_NAME $TEST_RUNNER >> steps.log; if [ $PACKER_BUILD_NAME = b2 ]; then ${KILL_RUNNER}; fi`)}] }\n` +
  '}\n';

async function runner(w: Workdir, name: string): Promise<{ result: CliResult; killed: boolean }> {
  const url = cluster().url;
  const r = startCli(['build', '-color=false', `-state=${url}`, '-workspace=crash', '-run-id=crash-1', `-runner=${name}`, '-lease-ttl=1s', '-max-attempts=2', 't.pkr.hcl'], w.dir, {
    TEST_RUNNER: name,
  });
  children.add(r.child);
  const result = await r.done;
  children.delete(r.child);
  return { result, killed: r.child.signalCode === 'SIGKILL' };
}

pgTest('a build whose step kills its runner is given up after -max-attempts claims, with a message naming the attempts', async () => {
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', TEMPLATE);
    const ended: { name: string; result: CliResult; killed: boolean }[] = [];
    for (let i = 1; i <= 6; i++) {
      const name = `m${i}`;
      const r = await runner(w, name);
      ended.push({ name, ...r });
      if (!r.killed) break;
    }
    const killed = ended.filter((e) => e.killed).map((e) => e.name);
    assert.deepEqual(killed, ['m1', 'm2'], `each of the two claims of b2 killed its runner (${ended.map((e) => `${e.name}: ${e.killed ? 'killed' : e.result.code}`).join(', ')})`);
    const last = ended.at(-1)!;
    assert.equal(last.name, 'm3');
    assert.equal(last.result.code, 1, 'the run failed');
    assert.match(last.result.stdout, /==> Run crash-1: null\.b2 failed: given up after 2 attempt\(s\): each runner that claimed it stopped/, 'the runner that gives the build up says so');
    assert.match(last.result.stdout, /==> Run crash-1: 1 build\(s\) done, 1 failed \(null\.b2\), across all its runners\.\nnull\.b2: given up after 2 attempt\(s\)/, 'the run outcome names the build and why');
    assert.doesNotMatch(last.result.stdout + last.result.stderr, /\n\s+at /, 'no stack trace');
    assert.doesNotMatch(last.result.stdout, /Build 'null\.b2'/, 'the build was not started again');
    const lines = await w.lines('steps.log');
    assert.deepEqual(lines.filter((l) => l.startsWith('b2 ')), ['b2 m1', 'b2 m2'], 'b2 ran once per claim, on the runners that claimed it');
    assert.equal(lines.filter((l) => l.startsWith('b1 ')).length, 1, 'b1 was built once');

    // A runner that joins the run afterwards claims nothing and reports the same outcome.
    const late = await runner(w, 'm9');
    assert.equal(late.killed, false);
    assert.equal(late.result.code, 1);
    assert.match(late.result.stdout, /1 failed \(null\.b2\), across all its runners\.\nnull\.b2: given up after 2 attempt\(s\)/);
    assert.equal((await w.lines('steps.log')).length, lines.length, 'the late runner ran nothing');
  });
});
