/** Versions reported by `builder version` and recorded in state. */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** builder's own version (package.json). */
export const BUILDER_VERSION: string = pkg.version;

/**
 * The Packer language version builder implements: `packer.version` in templates and the version
 * that `required_version` constraints are checked against.
 */
export const PACKER_LANGUAGE_VERSION = '1.11.2';
