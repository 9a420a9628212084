/**
 * The shared conformance suite every state backend passes (the PostgreSQL backend will reuse it):
 * lineage stable, serial bumped only on change, reads return copies, persisted equals in memory,
 * lock exclusion between two independent clients in two processes, and no lost update under
 * concurrent writers (several processes).
 *
 * Usage, from a NAME.test.ts file:
 *   runBackendConformance('file', async () => ({ open, spec, cleanup }));
 * where each factory call makes a fresh, empty backend; `open()` returns a new independent client
 * of it; `spec` tells a child process how to make one (see helpers/state-child.ts); `cleanup`
 * removes the backend. A backend without locks skips the lock tests, saying why.
 *
 * Waiting for a held lock is the manager's (Terraform's LockWithContext), so the suite checks that
 * a client's `lock` refuses at once and that the manager waits with -lock-timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateLockedError } from '../../src/state/errors.js';
import type { StateClient } from '../../src/state/interfaces.js';
import { StateManager } from '../../src/state/manager.js';
import { newBuild } from '../../src/state/types.js';
import { completeBuild } from './helpers/fixtures.js';
import { exited, firstLine } from './helpers/processes.js';
import { bump, counter, type ClientSpec } from './helpers/counters.js';

export type { ClientSpec };

export interface BackendUnderTest {
  /** A new client of this backend, independent of every other. */
  open(): Promise<StateClient>;
  /** How a child process makes a client of this same backend; undefined for a backend that lives
   * in one process (memory): the tests across processes are then skipped, saying so, and only
   * their in-process forms (independent clients of one process) run. */
  spec: ClientSpec | undefined;
  cleanup(): Promise<void>;
}

export type BackendFactory = () => Promise<BackendUnderTest>;

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'state-child.js');

function child(spec: ClientSpec, ...args: string[]) {
  return spawn(process.execPath, [CHILD, JSON.stringify(spec), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runBackendConformance(name: string, factory: BackendFactory): void {
  const withBackend = (title: string, body: (b: BackendUnderTest) => Promise<void>, skip?: (c: StateClient, b: BackendUnderTest) => string | undefined): void => {
    test(`${name} backend: ${title}`, async (t) => {
      const backend = await factory();
      try {
        const reason = skip?.(await backend.open(), backend);
        if (reason) {
          t.skip(reason);
          return;
        }
        await body(backend);
      } finally {
        await backend.cleanup();
      }
    });
  };
  const noLocks = (c: StateClient): string | undefined => (c.lock ? undefined : `the ${name} backend has no locks`);
  const needsProcesses = (_c: StateClient, b: BackendUnderTest): string | undefined =>
    b.spec ? undefined : `the ${name} backend lives in one process: its in-process form below runs instead`;
  const locksAndProcesses = (c: StateClient, b: BackendUnderTest): string | undefined => noLocks(c) ?? needsProcesses(c, b);

  withBackend('lineage is created once and stays', async (b) => {
    const m = await StateManager.open({ client: await b.open() });
    assert.equal(m.exists, false);
    await m.update('a.null.x', () => newBuild('a', 'null'));
    const lineage = m.lineage;
    assert.match(lineage, /^[0-9a-f-]{36}$/);
    for (let i = 0; i < 5; i++) await m.update('a.null.x', (d) => void (d!.error = `e${i}`));
    const other = await StateManager.open({ client: await b.open() });
    assert.equal(other.lineage, lineage);
    await other.update('b.null.y', () => newBuild('b', 'null'));
    await m.refresh();
    assert.equal(m.lineage, lineage);
  });

  withBackend('the serial grows by exactly one per change and not at all without one', async (b) => {
    const m = await StateManager.open({ client: await b.open() });
    assert.equal(await m.update('a.null.x', () => completeBuild('a')), true);
    assert.equal(m.serial, 1);
    assert.equal(await m.update('a.null.x', (d) => void (d!.status = 'complete')), false);
    assert.equal(await m.update('a.null.x', () => completeBuild('a')), false);
    assert.deepEqual(await m.remove(['missing.null.x']), []);
    assert.equal(await m.setLastRun(null), false);
    assert.equal(m.serial, 1);
    assert.equal(await m.update('a.null.x', (d) => void (d!.status = 'failed')), true);
    assert.equal(await m.setLastRun({ run_uuid: 'r', started_at: 's', completed_at: '' }), true);
    assert.deepEqual(await m.remove(['a.null.x']), ['a.null.x']);
    assert.equal(m.serial, 4);
    await m.persist();
    assert.equal(m.serial, 4, 'a whole write of the same state changes nothing');
    const fresh = await StateManager.open({ client: await b.open() });
    assert.equal(fresh.serial, 4);
  });

  withBackend('reads return copies', async (b) => {
    const client = await b.open();
    const m = await StateManager.open({ client });
    await m.update('a.null.x', () => completeBuild('a'));
    const one = m.build('a.null.x')!;
    one.provisioners[0]!.status = 'failed';
    m.snapshot().builds['a.null.x']!.status = 'failed';
    assert.equal(m.build('a.null.x')?.status, 'complete');
    assert.equal(m.build('a.null.x')?.provisioners[0]?.status, 'complete');
    const reader = await b.open();
    const g1 = await reader.get();
    g1!.builds['a.null.x']!.status = 'failed';
    const g2 = await reader.get();
    assert.equal(g2?.builds['a.null.x']?.status, 'complete');
  });

  withBackend('what is persisted equals what is in memory', async (b) => {
    const m = await StateManager.open({ client: await b.open(), template: 't.pkr.hcl' });
    await m.update('a.null.x', () => completeBuild('a'));
    await m.update('b.null.y', () => newBuild('b', 'null'));
    await m.setTemplate({ path: 't.pkr.hcl', hash: 'h', variables: { x: 1, y: ['ü', null] }, files: { 'a.sh': 'sha256:1' } });
    await m.setLastRun({ run_uuid: 'u', started_at: 's', completed_at: 'c' });
    await m.update('b.null.y', (d) => void (d!.status = 'creating'));
    await m.remove(['a.null.x']);
    const persisted = await (await b.open()).get();
    assert.deepEqual(persisted, m.snapshot());
    await m.close();
    assert.deepEqual(await (await b.open()).get(), m.snapshot());
  });

  withBackend(
    'a build lock held by another process excludes this one, naming the holder, until released',
    async (b) => {
      const spec = b.spec!;
      const holder = child(spec, 'hold-build', 'web.null.a');
      const held = JSON.parse(await firstLine(holder)) as { id?: string; error?: string };
      assert.ok(held.id, `the child took the lock: ${JSON.stringify(held)}`);
      const m = await StateManager.open({ client: await b.open() });
      await assert.rejects(m.lockBuild('web.null.a', 'build'), (err: unknown) => {
        assert.ok(err instanceof StateLockedError);
        assert.equal(err.holders[0]?.pid, holder.pid);
        assert.equal(err.holders[0]?.id, held.id);
        assert.match(err.message, new RegExp(`\\(pid ${holder.pid}\\) for "conformance hold"`));
        return true;
      });
      await assert.rejects(m.lockState('state push'), StateLockedError);
      const other = await m.lockBuild('db.null.b', 'build');
      assert.ok(other, 'a different build is not blocked');
      // The other way round: this process holds, the child is refused.
      const second = child(spec, 'hold-build', 'db.null.b');
      const refused = JSON.parse(await firstLine(second)) as { code?: string; error?: string };
      assert.equal(refused.code, 'STATE_LOCKED');
      assert.match(refused.error ?? '', new RegExp(`\\(pid ${process.pid}\\)`));
      await exited(second);
      const done = exited(holder);
      holder.stdin.write('release\n');
      assert.equal((await done).code, 0);
      assert.ok(await m.lockBuild('web.null.a', 'build'));
      await m.close();
    },
    locksAndProcesses,
  );

  withBackend(
    'locks between independent clients: build locks exclude the same build only, a state lock excludes them all; a client refuses at once',
    async (b) => {
      const holder = await StateManager.open({ client: await b.open() });
      const other = await StateManager.open({ client: await b.open() });
      const held = await holder.lockBuild('web.null.a', 'build');
      assert.ok(held);
      await assert.rejects(other.lockBuild('web.null.a', 'build'), (err: unknown) => {
        assert.ok(err instanceof StateLockedError);
        assert.equal(err.holders[0]?.id, held.id);
        return true;
      });
      const client = await b.open();
      await assert.rejects(client.lock!({ scope: 'build', build: 'web.null.a', operation: 'probe', timeoutMs: 0 }), StateLockedError);
      assert.ok(await other.lockBuild('db.null.b', 'build'), 'a different build is not blocked');
      await assert.rejects(holder.lockState('state push'), StateLockedError);
      await holder.unlock(held.id);
      await other.close();
      const whole = await holder.lockState('state push');
      assert.ok(whole);
      await assert.rejects(other.lockBuild('db.null.b', 'build'), StateLockedError);
      await holder.close();
      assert.ok(await other.lockBuild('db.null.b', 'build'));
      await other.close();
    },
    noLocks,
  );

  withBackend(
    'the manager waits for a held lock with -lock-timeout (LockWithContext): granted once released, else refused saying how long it waited',
    async (b) => {
      const holder = await StateManager.open({ client: await b.open() });
      const held = (await holder.lockBuild('web.null.a', 'build'))!;
      const patient = await StateManager.open({ client: await b.open(), lockTimeoutMs: 600_000 });
      let granted = false;
      const waiting = patient.lockBuild('web.null.a', 'build').then((l) => ((granted = true), l));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(granted, false, 'still waiting while the lock is held');
      await holder.unlock(held.id);
      const got = await waiting;
      assert.equal(got?.build, 'web.null.a');
      const impatient = await StateManager.open({ client: await b.open(), lockTimeoutMs: 30 });
      await assert.rejects(impatient.lockBuild('web.null.a', 'build'), (err: unknown) => {
        assert.ok(err instanceof StateLockedError);
        assert.match(err.message, /\(waited \d+\.\ds\)/);
        return true;
      });
      const stop = new AbortController();
      const cancelled = await StateManager.open({ client: await b.open(), lockTimeoutMs: 600_000, signal: stop.signal });
      const refused = assert.rejects(cancelled.lockBuild('web.null.a', 'build'), StateLockedError);
      stop.abort();
      await refused;
      await patient.close();
      await holder.close();
    },
    noLocks,
  );

  withBackend('concurrent writers through independent clients of one process lose no update', async (b) => {
    const writers = await Promise.all(Array.from({ length: 4 }, async () => StateManager.open({ client: await b.open() })));
    await Promise.all(
      writers.map(async (m, i) => {
        for (let n = 0; n < 25; n++) {
          await m.update(`w${i}`, (d) => bump(d, `w${i}`));
          await m.update('shared', (d) => bump(d, 'shared'));
        }
      }),
    );
    const final = await StateManager.open({ client: await b.open() });
    assert.equal(counter(final.build('shared')), 100);
    for (let i = 0; i < 4; i++) assert.equal(counter(final.build(`w${i}`)), 25);
    assert.equal(final.serial, 200);
  });

  withBackend('concurrent writers in several processes lose no update', async (b) => {
    const writers = 4;
    const perWriter = 40;
    const children = Array.from({ length: writers }, (_, i) => child(b.spec!, 'increment', `w${i}`, String(perWriter)));
    const results = await Promise.all(children.map(exited));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const final = await StateManager.open({ client: await b.open() });
    assert.equal(counter(final.build('shared')), writers * perWriter);
    for (let i = 0; i < writers; i++) assert.equal(counter(final.build(`w${i}`)), perWriter);
    assert.equal(final.serial, 2 * writers * perWriter);
    // And in one process, many builds at once through one manager.
    const m = await StateManager.open({ client: await b.open() });
    await Promise.all(Array.from({ length: 50 }, (_, i) => m.update(`p${i % 5}`, (d) => bump(d, `p${i % 5}`))));
    const again = await StateManager.open({ client: await b.open() });
    for (let i = 0; i < 5; i++) assert.equal(counter(again.build(`p${i}`)), 10);
    assert.equal(again.serial, 2 * writers * perWriter + 50);
  }, needsProcesses);
}
