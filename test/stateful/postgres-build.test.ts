/**
 * `builder build` and the `state` commands on a PostgreSQL state (`-state=postgres://…`), end to
 * end through the CLI against a throwaway cluster: the build is recorded there, a second run finds
 * it up to date, `state list` with the same -state reads it, and the password never appears.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresSkipReason, startPostgres, type PgCluster } from '../helpers/postgres.js';
import { nullShellLocal } from '../helpers/templates.js';
import { expectExit, inWorkdir, runCli } from './semantics-helpers.js';

const skip = postgresSkipReason();
let cluster: PgCluster | { skip: string } | undefined;
before(async () => {
  if (!skip) cluster = await startPostgres();
});
after(async () => {
  if (cluster && !('skip' in cluster)) await cluster.stop();
});

test('build, plan and state list on a postgres:// state', async (t) => {
  const reason = skip ?? (cluster && 'skip' in cluster ? cluster.skip : undefined);
  if (reason || !cluster || 'skip' in cluster) return void t.skip(reason ?? 'PostgreSQL did not start');
  const url = cluster.url;
  await inWorkdir(async (w) => {
    await w.write('t.pkr.hcl', nullShellLocal(['echo ran >> steps.log']));
    const first = await w.build(`-state=${url}`, 't.pkr.hcl');
    expectExit(first, 0);
    const plan = await runCli(['plan', `-state=${url}`, '-detailed-exitcode', 't.pkr.hcl'], w.dir);
    expectExit(plan, 0);
    assert.match(plan.stdout, /Up to date: /);
    const second = await w.build(`-state=${url}`, 't.pkr.hcl');
    expectExit(second, 0);
    assert.match(second.stdout, /Up to date: /);
    assert.deepEqual(await w.lines('steps.log'), ['ran'], 'the second run skipped the build');
    const list = await runCli(['state', 'list', `-state=${url}`, 't.pkr.hcl'], w.dir);
    expectExit(list, 0);
    assert.match(list.stdout, /null\.a/);
    const password = new URL(url).password;
    if (password) for (const r of [first, second, plan, list]) assert.ok(!(r.stdout + r.stderr).includes(password), 'no password in the output');
  });
});
