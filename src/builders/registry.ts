/** The builders by source type. */
import { Registry } from '../sdk/registry.js';
import type { BuilderDef } from '../sdk/component.js';
import { dockerBuilder } from './docker.js';
import { fileBuilder } from './file.js';
import { nullBuilder } from './null.js';

export const builders = new Registry<BuilderDef<unknown>>('builder', [nullBuilder, fileBuilder, dockerBuilder as BuilderDef<unknown>]);
