/**
 * Contextual functions: `env` (allowed only in a variable's default, as in Packer) and the secret
 * stores `vault`, `consul_key`, `aws_secretsmanager`, `aws_secretsmanager_raw`, which builder does
 * not reach: calling them is an error that says so and what to do instead.
 */
import { T, Value } from '../values/value.js';
import { define, param } from './support.js';
import { FunctionError, type FunctionDef, type Param } from './types.js';

export const env = define({
  params: [param('key', T.string)],
  returnType: T.string,
  impl: ([key], ctx) => {
    if (!ctx.allowEnv) {
      throw new FunctionError(
        'env() can only be used in the default value of a variable block; declare a variable with default = env("NAME") and use var.NAME here',
      );
    }
    return Value.string((ctx.env ?? process.env)[key!.asString()] ?? '');
  },
});

function unsupported(name: string, store: string, params: Param[]): FunctionDef {
  return define({
    params,
    returnType: T.string,
    impl: () => {
      throw new FunctionError(
        `${name}() is not supported by builder: it does not read secrets from ${store} while evaluating a template; pass the secret with -var, a var file or a PKR_VAR_ environment variable instead`,
      );
    },
  });
}

export const vault = unsupported('vault', 'Vault', [param('path', T.string), param('key', T.string)]);
export const consul_key = unsupported('consul_key', 'Consul', [param('key', T.string)]);
export const aws_secretsmanager = unsupported('aws_secretsmanager', 'AWS Secrets Manager', [param('name', T.string), param('key', T.string)]);
export const aws_secretsmanager_raw = unsupported('aws_secretsmanager_raw', 'AWS Secrets Manager', [param('name', T.string)]);
