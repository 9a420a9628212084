/**
 * The `breakpoint` provisioner (Packer's provisioner/breakpoint): pauses the build until Enter is
 * pressed, so the machine can be inspected. With no terminal to read from it says so and goes on.
 * `disable = true` skips it; `note` is shown with the pause.
 */
import type { ProvisionerDef } from '../sdk/component.js';
import { asBool, asString, ConfigReader } from '../sdk/config-reader.js';

export interface BreakpointConfig {
  disable: boolean;
  note: string;
}

export const breakpointProvisioner = {
  type: 'breakpoint',
  configSpec: { attributes: { disable: { type: 'bool' }, note: { type: 'string' } } },
  prepare(raw) {
    const r = new ConfigReader(raw);
    const config = { disable: r.get('disable', asBool) ?? false, note: r.get('note', asString) ?? '' };
    return { config: r.errors.length === 0 ? config : undefined, errors: r.errors, warnings: [] };
  },
  async run(config, ctx) {
    if (config.disable) {
      ctx.ui.say(config.note !== '' ? `Breakpoint provisioner with note "${config.note}" disabled; continuing...` : 'Breakpoint provisioner disabled; continuing...');
      return;
    }
    if (config.note !== '') ctx.ui.say(`Pausing at breakpoint provisioner with note "${config.note}".`);
    else ctx.ui.say('Pausing at breakpoint provisioner.');
    const answer = ctx.ui.ask ? await raceAbort(ctx.ui.ask('Press enter to continue.'), ctx.signal) : undefined;
    if (answer === undefined) ctx.ui.say('No terminal to wait on; continuing without pausing.');
  },
} satisfies ProvisionerDef<BreakpointConfig>;

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('cancelled'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
