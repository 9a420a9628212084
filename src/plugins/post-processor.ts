/**
 * A plugin post-processor as a native `PostProcessorDef`: Configure with the builder variables and
 * the configuration, then `PostProcess` with a callback stream on which builder serves the input
 * `Artifact` and `Ui`; the reply names the stream of the resulting artifact.
 */
import type { PostProcessorDef } from '../sdk/component.js';
import { readPluginArtifact } from './artifact.js';
import type { PluginComponent, PluginConfig } from './component.js';
import { field, serveRpc } from './rpc.js';
import { artifactHandlers, uiHandlers } from './services.js';

export function pluginPostProcessor(component: PluginComponent): PostProcessorDef<PluginConfig> {
  return {
    type: component.source.type,
    configSpec: component.configSpec,
    prepare: (raw) => component.prepareLocal(raw),
    async run(config, input, ctx) {
      return component.session(config, ctx, [], async (client) => {
        const id = client.broker.nextId();
        const served = client.broker.accept(id).then((s) => serveRpc(s, { ...uiHandlers(ctx.ui), ...artifactHandlers(input) }));
        served.catch(() => undefined);
        const reply = await component.call(client, 'PostProcessor.PostProcess', id);
        const err = field(reply, 'Err');
        if (err !== null && err !== undefined) throw new Error(String(field(err, 'Message') ?? 'post-processor failed'));
        const streamId = Number(field(reply, 'StreamId') ?? 0);
        if (streamId === 0) throw new Error(`post-processor "${component.source.type}" returned no artifact`);
        const artifact = await readPluginArtifact(client, streamId, input);
        return { artifact, keep: field(reply, 'Keep') === true, forceOverride: field(reply, 'ForceOverride') === true };
      });
    },
  };
}
