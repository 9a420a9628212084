/**
 * A throwaway Docker registry (Debian's `docker-registry`, the CNCF distribution registry 2.x) on
 * 127.0.0.1 at a free port, storing into a temp folder; `stop()` kills it by its pid and removes
 * the folder.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REGISTRY = '/usr/bin/docker-registry';

export interface Registry {
  /** `127.0.0.1:PORT` */
  address: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startRegistry(): Promise<Registry | { skip: string }> {
  if (!existsSync(REGISTRY)) return { skip: `${REGISTRY} not installed (apt-get install docker-registry)` };
  const dir = await mkdtemp(join(tmpdir(), 'builder-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  await writeFile(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const child = spawn(REGISTRY, ['serve', config], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
    if (ok) return { address: `127.0.0.1:${port}`, stop };
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  await stop();
  return { skip: 'docker-registry did not start' };
}
