/** The post-processors by type name. */
import { Registry } from '../sdk/registry.js';
import type { PostProcessorDef } from '../sdk/component.js';
import { artificePostProcessor } from './artifice.js';
import { checksumPostProcessor } from './checksum.js';
import { compressPostProcessor } from './compress.js';
import { manifestPostProcessor } from './manifest.js';
import { dockerImportPostProcessor } from './docker-import.js';
import { dockerPushPostProcessor } from './docker-push.js';
import { dockerSavePostProcessor } from './docker-save.js';
import { dockerTagPostProcessor } from './docker-tag.js';
import { shellLocalPostProcessor } from './shell-local.js';

export const postProcessors = new Registry<PostProcessorDef<unknown>>('post-processor', [
  manifestPostProcessor,
  checksumPostProcessor,
  compressPostProcessor,
  shellLocalPostProcessor,
  artificePostProcessor,
  dockerTagPostProcessor,
  dockerSavePostProcessor,
  dockerImportPostProcessor,
  dockerPushPostProcessor,
]);
