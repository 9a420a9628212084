/**
 * A plugin builder as a native `BuilderDef`. A plugin builder's `Run` does everything in one call
 * (create, connect, provision through the hook, capture, clean up), so the adapter maps our
 * lifecycle onto that one call:
 * - `create` prepares the plugin and starts `Builder.Run` with a stream where builder serves `Ui`
 *   and `Hook`; it returns when the plugin calls the `packer_provision` hook (the instance is up)
 *   or when Run ends without calling it.
 * - `connect` gives the plugin's communicator (served on the hook's stream) and connection facts.
 * - `finish` answers the hook (provisioning done), waits for Run, reads the artifact.
 * - `destroy` before `finish` fails the hook, so the plugin cleans up as after a failed
 *   provisioner, and waits for Run to end.
 *
 * Contracts: the running call lives in this process only (no `reconnect`: a later process cannot
 * re-attach to the plugin's instance); InstanceRecord metadata holds no secret; the plugin process
 * is stopped when the build ends either way, and on the step's abort (Cancel, then kill).
 */
import { randomUUID } from 'node:crypto';
import type { Artifact, BuilderDef, ConnectionInfo, StepContext } from '../sdk/component.js';
import { readPluginArtifact } from './artifact.js';
import type { PluginClient } from './client.js';
import { PluginComponent, type PluginConfig } from './component.js';
import { PluginCommunicator } from './plugin-communicator.js';
import { RpcClient, field, serveRpc } from './rpc.js';
import { uiHandlers } from './services.js';

interface RunState {
  client: PluginClient;
  run: Promise<unknown>;
  hook?: { data: Record<string, unknown>; comm: PluginCommunicator; release: (err?: Error) => void };
}

function connectionInfo(data: Record<string, unknown>): ConnectionInfo | undefined {
  const type = typeof data.ConnType === 'string' ? data.ConnType : '';
  if (type === '' || type === 'none') return undefined;
  const s = (k: string): string | undefined => (typeof data[k] === 'string' && data[k] !== '' ? (data[k] as string) : undefined);
  const port = Number(data.Port ?? 0);
  return {
    type,
    ...(s('Host') ? { host: s('Host') } : {}),
    ...(port > 0 ? { port } : {}),
    ...(s('User') ? { user: s('User') } : {}),
    ...(s('Password') ? { password: s('Password') } : {}),
    ...(s('SSHPrivateKey') ? { sshPrivateKey: s('SSHPrivateKey') } : {}),
    ...(s('SSHPublicKey') ? { sshPublicKey: s('SSHPublicKey') } : {}),
  };
}

/** The `build.*` values in a plugin's provision hook data: its string (and number, bool) entries —
 * `ID`, `Host`, … and the builder's generated variables — as Packer gives them to templates. */
function buildValuesOf(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') out[k] = String(v);
  }
  return out;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {};
}

export function pluginBuilder(component: PluginComponent, builderId = `plugin.${component.source.type}`): BuilderDef<PluginConfig> {
  const runs = new Map<string, RunState>();

  async function end(key: string, state: RunState): Promise<unknown> {
    try {
      return await state.run;
    } finally {
      runs.delete(key);
      await state.hook?.comm.close();
      await state.client.close();
    }
  }

  return {
    type: component.source.type,
    builderId,
    configSpec: component.configSpec,
    prepare: (raw) => component.prepareLocal(raw),
    // After a failed provisioner the plugin's own StepProvision (if it has one) prints "Provisioning
    // step had errors…" when `destroy` fails its hook: builder's runner must not print it too.
    provisionsWithoutStep: true,

    async create(config, ctx: StepContext) {
      const client = await component.launcher.take();
      const key = randomUUID();
      const onAbort = (): void => { void client.call('Builder.Cancel', null).catch(() => undefined).finally(() => void client.close()); };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const prepared = await component.call(client, 'Builder.Prepare', { Configs: [PluginComponent.builderVariables(ctx), new Uint8Array(config.json)] });
        const err = field(prepared, 'Error');
        if (err !== null && err !== undefined) throw new Error(String(field(err, 'Message') ?? 'the builder refused its configuration'));
        for (const w of (field(prepared, 'Warnings') as unknown[] | undefined) ?? []) ctx.ui.say(`Warning: ${String(w)}`);

        let hookCalled!: (h: RunState['hook']) => void;
        const hookArrived = new Promise<RunState['hook']>((r) => { hookCalled = r; });
        const id = client.broker.nextId();
        const served = client.broker.accept(id).then((s) => serveRpc(s, {
          ...uiHandlers(ctx.ui),
          'Hook.Run': async (arg) => {
            if (field(arg, 'Name') !== 'packer_provision') return null;
            const commStream = await client.broker.dial(Number(field(arg, 'StreamId') ?? 0));
            const comm = new PluginCommunicator(new RpcClient(commStream, `communicator of plugin ${component.source.type}`), client.broker);
            await new Promise<void>((resolve, reject) => {
              hookCalled({ data: asRecord(field(arg, 'Data')), comm, release: (e) => (e ? reject(e) : resolve()) });
            });
            return null;
          },
        }));
        served.catch(() => undefined);
        const run = component.call(client, 'Builder.Run', id);
        run.catch(() => undefined);
        const state: RunState = { client, run };
        runs.set(key, state);
        const hook = await Promise.race([hookArrived, run.then(() => undefined)]).catch((e: unknown) => {
          if (ctx.signal.aborted) return undefined; // the abort handler stopped the plugin
          throw e;
        });
        // A cancelled Run may still end with an artifact (the null builder does): cancellation is
        // ours to report.
        if (ctx.signal.aborted) throw new Error('the build was cancelled');
        if (hook) state.hook = hook;
        ctx.signal.removeEventListener('abort', onAbort);
        return { id: key, metadata: { plugin: component.source.type, origin: component.source.origin } };
      } catch (e) {
        ctx.signal.removeEventListener('abort', onAbort);
        runs.delete(key);
        await client.close();
        throw e;
      }
    },

    async connect(_config, instance) {
      const state = runs.get(instance.id);
      if (!state?.hook) return {};
      // With communicator "none" the plugin serves no usable communicator.
      const info = connectionInfo(state.hook.data);
      return { ...(info ? { comm: state.hook.comm, info } : {}), values: buildValuesOf(state.hook.data) };
    },

    async finish(_config, instance, ctx): Promise<Artifact | undefined> {
      const state = runs.get(instance.id);
      if (!state) throw new Error(`the plugin builder's run ${instance.id} is not in this process; it cannot be resumed`);
      const onAbort = (): void => { void state.client.call('Builder.Cancel', null).catch(() => undefined); };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        state.hook?.release();
        const reply = await state.run;
        if (ctx.signal.aborted) throw new Error('the build was cancelled');
        const streamId = Number(reply ?? 0);
        return streamId > 0 ? await readPluginArtifact(state.client, streamId) : undefined;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await end(instance.id, state);
      }
    },

    async destroy(_config, instance) {
      const state = runs.get(instance.id);
      if (!state) return; // finished (the plugin cleaned up) or never started here
      state.hook?.release(new Error('provisioning failed'));
      await end(instance.id, state).catch(() => undefined);
    },
  };
}
