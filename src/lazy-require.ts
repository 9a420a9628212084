/**
 * Loads a CommonJS package synchronously on first use, so that start-up (every command imports
 * the function library) does not pay for packages only a few functions need. The caller states
 * the module's type; the package must ship a CommonJS entry point (`require` export condition).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Returns a getter that requires `id` on its first call and returns the same module after. */
export function lazyRequire<M>(id: string): () => M {
  let loaded: M | undefined;
  return () => (loaded ??= require(id) as M);
}
