/**
 * Loads a module synchronously on first use — a package only a few functions need, or one of
 * Node's own modules only some runs use (`node:zlib`, `node:readline`) — so that start-up (every
 * command imports the function library, every build the component registries) does not pay for
 * it. The caller states the module's type; a package must ship a CommonJS entry point (`require`
 * export condition).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Returns a getter that requires `id` on its first call and returns the same module after. */
export function lazyRequire<M>(id: string): () => M {
  let loaded: M | undefined;
  return () => (loaded ??= require(id) as M);
}
