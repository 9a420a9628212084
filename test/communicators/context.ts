/**
 * A StepContext for component tests: the UI records every line as Packer would print it
 * ("==> " for say/error, "    " for message), so tests assert on the text a user sees.
 */
import type { BuildUi, StepContext } from '../../src/sdk/component.js';

export interface RecordingUi extends BuildUi {
  lines: string[];
}

export function recordingUi(): RecordingUi {
  const lines: string[] = [];
  return {
    lines,
    say: (m) => lines.push(`==> ${m}`),
    message: (m) => lines.push(`    ${m}`),
    error: (m) => lines.push(`==> ${m}`),
  };
}

export function testContext(overrides: Partial<StepContext> = {}): StepContext & { ui: RecordingUi } {
  const ui = recordingUi();
  return {
    signal: new AbortController().signal,
    buildName: 'null.test',
    builderType: 'null',
    runUuid: '00000000-0000-0000-0000-000000000000',
    cwd: process.cwd(),
    env: { ...process.env, PACKER_BUILD_NAME: 'test', PACKER_BUILDER_TYPE: 'null' },
    sensitive: [],
    ...overrides,
    ui,
  };
}
