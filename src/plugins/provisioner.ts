/**
 * A plugin provisioner as a native `ProvisionerDef`: Prepare with the builder variables, the
 * configuration (cty JSON) and no override, then `Provision` with the build's generated data and a
 * callback stream on which builder serves `Ui` and `Communicator`.
 */
import type { ConnectionInfo, ProvisionerDef } from '../sdk/component.js';
import type { PluginComponent, PluginConfig } from './component.js';
import { serveRpc } from './rpc.js';
import { communicatorHandlers, uiHandlers } from './services.js';

/** The provision hook's data, as Packer builds it from the connection. */
export function generatedData(conn: ConnectionInfo | undefined, runUuid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ID: '',
    Host: conn?.host ?? '',
    Port: conn?.port ?? 0,
    User: conn?.user ?? '',
    Password: conn?.password ?? '',
    ConnType: conn?.type ?? '',
    SSHPublicKey: conn?.sshPublicKey ?? '',
    SSHPrivateKey: conn?.sshPrivateKey ?? '',
    PackerRunUUID: runUuid,
    PackerHTTPAddr: '',
    ...extra,
  };
}

export function pluginProvisioner(component: PluginComponent): ProvisionerDef<PluginConfig> {
  return {
    type: component.source.type,
    configSpec: component.configSpec,
    prepare: (raw) => component.prepareLocal(raw),
    async run(config, ctx) {
      await component.session(config, ctx, [null], async (client) => {
        const id = client.broker.nextId();
        const served = client.broker.accept(id).then((s) => serveRpc(s, { ...uiHandlers(ctx.ui), ...communicatorHandlers(ctx.comm, client.broker, ctx.signal) }));
        served.catch(() => undefined);
        await component.call(client, 'Provisioner.Provision', { GeneratedData: generatedData(ctx.conn, ctx.runUuid), StreamID: id });
      });
    },
  };
}
