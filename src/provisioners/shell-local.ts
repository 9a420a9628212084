/**
 * The `shell-local` provisioner: runs commands on the machine builder runs on (Packer's
 * provisioner/shell-local; see src/sdk/shell-local.ts for what it shares with the post-processor).
 */
import type { ProvisionerDef } from '../sdk/component.js';
import { checkScripts, prepareShellLocal, runShellLocal, shellLocalConfigSpec, shellLocalInputFiles, type ShellLocalConfig } from '../sdk/shell-local.js';

export const shellLocalProvisioner = {
  type: 'shell-local',
  configSpec: shellLocalConfigSpec,
  prepare: prepareShellLocal,
  async run(config, ctx) {
    const bad = await checkScripts(config, ctx.cwd);
    if (bad.length > 0) throw new Error(bad.join('\n'));
    await runShellLocal(config, ctx, { buildName: ctx.env.PACKER_BUILD_NAME ?? '', builderType: ctx.builderType });
  },
  inputFiles: shellLocalInputFiles,
} satisfies ProvisionerDef<ShellLocalConfig>;
