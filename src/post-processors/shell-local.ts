/**
 * The `shell-local` post-processor: runs local commands after the build (same options as the
 * provisioner; see src/sdk/shell-local.ts). The input artifact is passed on and always kept.
 */
import type { PostProcessorDef } from '../sdk/component.js';
import { checkScripts, prepareShellLocal, runShellLocal, shellLocalConfigSpec, shellLocalInputFiles, type ShellLocalConfig } from '../sdk/shell-local.js';

export const shellLocalPostProcessor = {
  type: 'shell-local',
  configSpec: shellLocalConfigSpec,
  prepare: prepareShellLocal,
  inputFiles: shellLocalInputFiles,
  async run(config, input, ctx) {
    const bad = await checkScripts(config, ctx.cwd);
    if (bad.length > 0) throw new Error(bad.join('\n'));
    await runShellLocal(config, ctx, { buildName: ctx.env.PACKER_BUILD_NAME ?? '', builderType: ctx.builderType });
    return { artifact: input, keep: true, forceOverride: true };
  },
} satisfies PostProcessorDef<ShellLocalConfig>;
