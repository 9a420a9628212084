/**
 * The `shell-local` provisioner: runs commands on the machine builder runs on (Packer's
 * provisioner/shell-local; see src/core/shell-local.ts for what it shares with the post-processor).
 */
import type { ProvisionerDef } from '../core/component.js';
import { checkScripts, prepareShellLocal, runShellLocal, shellLocalConfigSpec, type ShellLocalConfig } from '../core/shell-local.js';
import { resolve } from 'node:path';

export const shellLocalProvisioner = {
  type: 'shell-local',
  configSpec: shellLocalConfigSpec,
  prepare: prepareShellLocal,
  async run(config, ctx) {
    const bad = await checkScripts(config, ctx.cwd);
    if (bad.length > 0) throw new Error(bad.join('\n'));
    await runShellLocal(config, ctx, { buildName: ctx.env.PACKER_BUILD_NAME ?? '', builderType: ctx.builderType });
  },
  inputFiles(config) {
    return config.scripts.map((s) => resolve(s));
  },
} satisfies ProvisionerDef<ShellLocalConfig>;
