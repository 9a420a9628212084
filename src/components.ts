/**
 * The components one run can use, by kind. `nativeComponents` are the ones built into builder;
 * plugin components (src/plugins/) are added with `Registry.with`. Commands pass a `Components`
 * to the bind pass (src/plan/bind.ts) rather than reading the registries themselves.
 */
import { builders } from './builders/registry.js';
import { communicators } from './communicators/registry.js';
import { postProcessors } from './post-processors/registry.js';
import { provisioners } from './provisioners/registry.js';
import type { Registry } from './sdk/registry.js';
import type { BuilderDef, CommunicatorDef, PostProcessorDef, ProvisionerDef } from './sdk/component.js';

export interface Components {
  builders: Registry<BuilderDef<unknown>>;
  provisioners: Registry<ProvisionerDef<unknown>>;
  postProcessors: Registry<PostProcessorDef<unknown>>;
  communicators: Registry<CommunicatorDef>;
}

export function nativeComponents(): Components {
  return { builders, provisioners, postProcessors, communicators };
}
