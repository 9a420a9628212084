/**
 * Starts the processes of one plugin component (one per component instance, as Prepare configures a
 * process once) and keeps at most one started spare, so that the next instance's ~1 s start-up can
 * overlap the work of the current one.
 *
 * Contracts:
 * - Every process a launcher starts is one `take()` hands out or the spare; `shutdown()` stops the
 *   spare and waits for nothing else (each taken client is closed by its user).
 * - Every plugin process group is killed when builder's own process exits (see process.ts).
 */
import { PluginClient } from './client.js';
import type { StartOptions } from './process.js';

const live = new Set<PluginClient>();

/** Starts a plugin client and tracks it until it is closed. */
export async function startTracked(name: string, opts: StartOptions): Promise<PluginClient> {
  const c = await PluginClient.start(name, opts);
  live.add(c);
  const close = c.close.bind(c);
  c.close = async () => {
    try { await close(); } finally { live.delete(c); }
  };
  return c;
}

/** Pids of plugin processes builder currently runs (for tests and diagnostics). */
export function livePluginPids(): number[] {
  return [...live].map((c) => c.proc.pid);
}

export class Launcher {
  private spare: Promise<PluginClient> | undefined;

  /** `keepSpare`: start the next instance's process as soon as one is taken (for components used
   * several times in a run); otherwise only `prestart()` starts one ahead. */
  constructor(readonly name: string, private readonly opts: () => StartOptions, private readonly keepSpare = false) {}

  /** A started client for one component instance; the caller closes it. */
  async take(): Promise<PluginClient> {
    const ready = this.spare;
    this.spare = undefined;
    const client = ready ? await ready.catch(() => startTracked(this.name, this.opts())) : await startTracked(this.name, this.opts());
    if (this.keepSpare) this.prestart();
    return client;
  }

  /** Makes a started, unconfigured client the spare (the one that answered ConfigSpec). */
  adopt(client: PluginClient): void {
    if (this.spare) void client.close();
    else this.spare = Promise.resolve(client);
  }

  /** Starts the spare now (for a component about to be used). */
  prestart(): void {
    if (this.spare) return;
    const p = startTracked(this.name, this.opts());
    p.catch(() => undefined); // reported by the take() that uses it
    this.spare = p;
  }

  async shutdown(): Promise<void> {
    const s = this.spare;
    this.spare = undefined;
    if (s) await s.then((c) => c.close(), () => undefined);
  }
}
