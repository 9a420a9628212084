/**
 * What the three adapters (provisioner, post-processor, builder) share: one plugin component, its
 * decoded ConfigSpec, and a call sequence on a fresh plugin process per component instance.
 *
 * Contracts:
 * - `PluginComponent.load` starts one process to read the ConfigSpec, then keeps that process as the
 *   spare for the first instance, so that validating costs no extra start.
 * - `prepareLocal` checks a configuration against the spec without the plugin (unknown arguments,
 *   types, required); the plugin's own Prepare runs at the start of `session`, and its errors
 *   fail the step with the plugin's message.
 * - `session` gives `fn` a started, prepared client and closes it afterwards (Cancel when the
 *   step's signal aborts; then the process group is killed) — or, with `reuseProcesses` and after
 *   a success, keeps it as the spare for the next instance. An error from a plugin that died is
 *   "plugin NAME stopped during METHOD", never a hang.
 */
import type { ConfigSpec, PrepareResult, StepContext } from '../sdk/component.js';
import type { PluginClient } from './client.js';
import { configJson, toConfigSpec, type PluginSpec } from './config-spec.js';
import { Launcher } from './launcher.js';
import { decodeSpecReply } from './spec-proto.js';
import type { StartOptions } from './process.js';
import { PluginGoneError, RemoteError, bytesToBuffer, field } from './rpc.js';
import { log } from '../log.js';

export type PluginKind = 'builder' | 'provisioner' | 'post-processor' | 'datasource';

/** The RPC service of each kind, and the method that configures it. */
export const SERVICE: Record<PluginKind, { service: string; configure: string }> = {
  builder: { service: 'Builder', configure: 'Prepare' },
  provisioner: { service: 'Provisioner', configure: 'Prepare' },
  'post-processor': { service: 'PostProcessor', configure: 'Configure' },
  // Configured and executed by the data-source adapter (datasource.ts), not by `session`.
  datasource: { service: 'Datasource', configure: 'Configure' },
};

/** Where a component comes from: how to start it, and how to describe it in listings. */
export interface PluginSource {
  kind: PluginKind;
  /** The component's type name in templates, e.g. "shell-local", "amazon-ebs". */
  type: string;
  /** The executable and arguments that serve it. */
  command: string;
  args: readonly string[];
  /** "packer 1.6.6 (/usr/bin/packer)" or "packer-plugin-amazon v1.2.3 (path)". */
  origin: string;
  version?: string;
}

export interface LoadOptions {
  /** Receives the plugin's stderr lines (the debug log). Default: builder's stderr, prefixed with
   * the component, when the debug log is on (src/log.ts: PACKER_LOG / BUILDER_LOG); otherwise dropped. */
  debug?: (line: string) => void;
  /** Folder for plugin sockets (default: the system temporary folder). */
  socketDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Configure a process again for the next instance instead of starting a new one (off unless
   * asked; the run's wiring asks unless BUILDER_PLUGIN_REUSE=0). Seen to work with Packer 1.6.6's
   * shell-local and manifest (a second Prepare/Configure replaces the first configuration, unset
   * attributes included, as every attribute is sent), not promised by the protocol for every plugin.
   */
  reuseProcesses?: boolean;
}

function debugSink(source: PluginSource, options: LoadOptions): ((line: string) => void) | undefined {
  if (options.debug) return options.debug;
  if (!log.on) return undefined;
  // Packer's own shape for a plugin's stderr in its log: "packer-builder-null plugin: LINE".
  const component = `packer-${source.kind}-${source.type} plugin`;
  return (line) => log.debug(component, line);
}

/** A raw configuration after the local check: what the plugin is sent. */
export interface PluginConfig {
  raw: Record<string, unknown>;
  json: Buffer;
}

export class PluginComponent {
  private constructor(
    readonly source: PluginSource,
    readonly spec: PluginSpec,
    readonly configSpec: ConfigSpec,
    readonly launcher: Launcher,
    private readonly reuse = false,
  ) {}

  static async load(source: PluginSource, options: LoadOptions = {}): Promise<PluginComponent> {
    const launcher = new Launcher(`${source.kind} ${source.type}`, () => ({
      command: source.command,
      args: source.args,
      ...(options.env ? { env: options.env } : {}),
      ...(options.socketDir ? { socketDir: options.socketDir } : {}),
      ...(debugSink(source, options) ? { debug: debugSink(source, options)! } : {}),
    } satisfies StartOptions));
    let client: PluginClient | undefined;
    let spec: PluginSpec;
    try {
      client = await launcher.take();
      const reply = await client.call(`${SERVICE[source.kind].service}.ConfigSpec`, null);
      // Protobuf when started with --protobuf (a v2 plugin), else gob: spec-proto.ts.
      spec = decodeSpecReply(bytesToBuffer(field(reply, 'ConfigSpec')), source.args);
    } catch (e) {
      await client?.close();
      await launcher.shutdown();
      throw new Error(`${source.kind} "${source.type}" from ${source.origin} did not start (${(e as Error).message}); check that this executable serves it`);
    }
    // The process that answered is not yet configured: it serves the first instance.
    await launcher.shutdown();
    launcher.adopt(client);
    return new PluginComponent(source, spec, toConfigSpec(spec), launcher, options.reuseProcesses === true);
  }

  prepareLocal(raw: Record<string, unknown>): PrepareResult<PluginConfig> {
    try {
      return { config: { raw, json: configJson(this.spec, raw) }, errors: [], warnings: [] };
    } catch (e) {
      return { errors: [(e as Error).message], warnings: [] };
    }
  }

  /** The builder variables Packer passes first in every Prepare/Configure. */
  static builderVariables(ctx: StepContext): Record<string, unknown> {
    return {
      packer_build_name: ctx.env.PACKER_BUILD_NAME ?? ctx.buildName,
      packer_builder_type: ctx.builderType,
      packer_debug: false,
      packer_force: ctx.force === true,
      packer_on_error: 'cleanup',
      packer_user_variables: {},
      packer_sensitive_variables: [],
    };
  }

  /** Runs `fn` on a started plugin process configured with `config`; always stops the process. */
  async session<T>(config: PluginConfig, ctx: StepContext, extraConfigs: unknown[], fn: (client: PluginClient) => Promise<T>): Promise<T> {
    const { service, configure } = SERVICE[this.source.kind];
    const client = await this.launcher.take();
    const onAbort = (): void => { void client.call(`${service}.Cancel`, null).catch(() => undefined).finally(() => void client.close()); };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let reusable = false;
    try {
      ctx.signal.throwIfAborted();
      await this.call(client, `${service}.${configure}`, { Configs: [PluginComponent.builderVariables(ctx), new Uint8Array(config.json), ...extraConfigs] });
      const result = await fn(client);
      reusable = this.reuse && !ctx.signal.aborted && !client.session.closed;
      return result;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      if (reusable) this.launcher.adopt(client);
      else await client.close();
    }
  }

  /** A call whose failures read as build errors. */
  async call(client: PluginClient, method: string, arg: unknown): Promise<unknown> {
    try {
      return await client.call(method, arg);
    } catch (e) {
      if (e instanceof RemoteError) throw new Error(e.message);
      if (e instanceof PluginGoneError) {
        const exit = await Promise.race([client.proc.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
        const what = `plugin ${this.source.kind} "${this.source.type}"`;
        if (exit) throw new Error(`${what} stopped during ${method} (it exited with ${exit.signal ?? `code ${exit.code}`})`);
        throw new Error(`${what} failed during ${method}: ${e.message}`);
      }
      throw e;
    }
  }

  /** Starts the next instance's process now, when the caller knows another instance will run. */
  prestart(): void {
    this.launcher.prestart();
  }

  async shutdown(): Promise<void> {
    await this.launcher.shutdown();
  }
}
