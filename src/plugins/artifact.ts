/**
 * An artifact a plugin returns (it serves `Artifact` on a broker stream), read into our `Artifact`
 * shape while the plugin still runs.
 *
 * Contracts: every field is read at once (BuilderId, Id, String, Files, State "generated_data"),
 * since the plugin process is stopped when its step ends. `destroy()` removes the artifact's files
 * on this machine (what Packer's file-based artifacts do); for other artifacts it delegates to
 * `fallbackDestroy` (the input artifact, when a post-processor passed it through), or does nothing.
 */
import { rm } from 'node:fs/promises';
import type { Artifact } from '../sdk/component.js';
import type { PluginClient } from './client.js';
import { RpcClient } from './rpc.js';

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v);
}

export async function readPluginArtifact(client: PluginClient, streamId: number, fallback?: Artifact): Promise<Artifact> {
  const stream = await client.broker.dial(streamId);
  const rpc = new RpcClient(stream, `artifact of plugin ${client.name}`);
  try {
    const [builderId, id, description, files, generated] = await Promise.all([
      rpc.call('Artifact.BuilderId'),
      rpc.call('Artifact.Id'),
      rpc.call('Artifact.String'),
      rpc.call('Artifact.Files'),
      rpc.call('Artifact.State', 'generated_data').catch(() => null),
    ]);
    const fileList = Array.isArray(files) ? files.map(str) : [];
    const passedThrough = fallback !== undefined && str(builderId) === fallback.builderId && str(id) === fallback.id;
    return {
      builderId: str(builderId),
      id: str(id),
      description: str(description),
      files: fileList,
      state: generated !== null && typeof generated === 'object' ? { generated_data: generated } : {},
      async destroy() {
        if (passedThrough) return fallback.destroy();
        for (const f of fileList) await rm(f, { force: true, recursive: true });
      },
    };
  } finally {
    rpc.close();
  }
}
