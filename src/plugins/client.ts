/**
 * A connected plugin: its process, the multiplexed session, the stream broker and the main RPC
 * client (broker stream 0).
 *
 * Contracts: `close()` asks the plugin to stop (it may already be gone), kills its process group
 * and removes its socket; it is idempotent and never throws. When the process exits on its own,
 * the session ends and every pending call fails with a clear error.
 */
import { Broker } from './broker.js';
import { Session } from './mux.js';
import { startPlugin, type PluginProcess, type StartOptions } from './process.js';
import { RpcClient } from './rpc.js';

export class PluginClient {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly proc: PluginProcess,
    readonly session: Session,
    readonly broker: Broker,
    readonly rpc: RpcClient,
  ) {}

  static async start(name: string, opts: StartOptions): Promise<PluginClient> {
    const proc = await startPlugin(opts);
    try {
      const session = new Session(proc.socket, { client: true });
      const broker = new Broker(session);
      const main = await broker.dial(0);
      const rpc = new RpcClient(main, `plugin ${name}`);
      const client = new PluginClient(name, proc, session, broker, rpc);
      // A plugin that dies ends the session, which fails every pending call.
      void proc.exited.then(() => session.close());
      return client;
    } catch (e) {
      await proc.stop();
      throw new Error(`plugin ${name}: ${(e as Error).message}`);
    }
  }

  /** Calls "Service.Method" on the main connection. */
  call(method: string, arg: unknown = null): Promise<unknown> {
    return this.rpc.call(method, arg);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.rpc.close();
      this.session.close();
      await this.proc.stop();
    })();
    return this.closing;
  }
}
