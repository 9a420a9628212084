/**
 * A plugin data source (`start datasource NAME`, SDK plugins only) as a native `DataSourceDef`.
 *
 * Calls, on the `Datasource` RPC service: `ConfigSpec` (read when the component loads),
 * `OutputSpec` → `{OutputSpec []byte}` (the hcldec spec of the result — gob, or protobuf when the
 * plugin was started with `--protobuf` — read once, on
 * the process that answered ConfigSpec: its implied type is `outputType`), then per block a fresh
 * process: `Configure {Configs: [cty JSON of the body]}` (no builder variables, as Packer sends
 * none to data sources) and `Execute` → `{Value []byte, Error}`, a gob `cty.Value` or, under
 * `--protobuf`, go-cty msgpack of the dynamic type. A plugin's own error comes back as
 * the RPC error (the SDK's server returns it) and becomes the message; a plugin that dies during a
 * call is "plugin datasource "T" stopped during Datasource.Execute (…)".
 */
import type { DataSourceDef } from '../sdk/component.js';
import type { PluginComponent, PluginConfig } from './component.js';
import { impliedType } from './config-spec.js';
import { valueType } from './cty.js';
import { decodeCtyMsgpack } from './cty-msgpack.js';
import { decodeGobCtyValue } from './datasource-value.js';
import { decodeSpecReply, startsWithProtobuf } from './spec-proto.js';
import { bytesToBuffer, field } from './rpc.js';

/** The adapter of a loaded data-source component; reads its OutputSpec first. */
export async function pluginDataSource(component: PluginComponent): Promise<DataSourceDef<PluginConfig>> {
  const what = `plugin datasource "${component.source.type}"`;
  const first = await component.launcher.take();
  let outputType;
  try {
    const reply = await component.call(first, 'Datasource.OutputSpec', null);
    outputType = valueType(impliedType(decodeSpecReply(bytesToBuffer(field(reply, 'OutputSpec')), component.source.args)));
  } catch (e) {
    await first.close();
    throw new Error(`${what}: its OutputSpec could not be read (${(e as Error).message})`);
  }
  const protobuf = startsWithProtobuf(component.source.args);
  // Not yet configured: it serves the first block.
  component.launcher.adopt(first);
  return {
    type: component.source.type,
    configSpec: component.configSpec,
    outputType,
    prepare: (raw) => component.prepareLocal(raw),
    async execute(config, ctx) {
      const client = await component.launcher.take();
      const onAbort = (): void => { void client.call('Datasource.Cancel', null).catch(() => undefined).finally(() => void client.close()); };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        ctx.signal.throwIfAborted();
        await component.call(client, 'Datasource.Configure', { Configs: [new Uint8Array(config.json)] });
        const reply = await component.call(client, 'Datasource.Execute', null);
        const err = field(reply, 'Error');
        if (err !== null && err !== undefined) throw new Error(String(field(err, 'Message') ?? err));
        try {
          const value = bytesToBuffer(field(reply, 'Value'));
          return protobuf ? decodeCtyMsgpack(value) : decodeGobCtyValue(value);
        } catch (e) {
          throw new Error(`${what} sent a result builder cannot read: ${(e as Error).message}`);
        }
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
        await client.close();
      }
    },
  };
}
