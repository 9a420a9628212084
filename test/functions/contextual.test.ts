import { test } from 'node:test';
import { check } from './check.js';
import { table, type Case } from './helpers.js';

const inDefault = { allowEnv: true, env: { BUILDER_TEST_VAR: 'from-env' } };

test('env reads the environment in variable defaults', (t) =>
  table(
    t,
    [
      ['env("BUILDER_TEST_VAR")', 'from-env'],
      ['env("BUILDER_TEST_UNSET")', ''],
    ],
    (src, want) => check(src, want, inDefault),
  ));

const elsewhere: Case[] = [
  ['env("HOME")', { error: 'env() can only be used in the default value of a variable block' }],
  ['vault("/secret/data/hello", "foo")', { error: 'vault() is not supported by builder' }],
  ['consul_key("my/key")', { error: 'consul_key() is not supported by builder' }],
  ['aws_secretsmanager("name", "key")', { error: 'aws_secretsmanager() is not supported by builder' }],
  ['aws_secretsmanager_raw("name")', { error: 'pass the secret with -var, a var file or a PKR_VAR_ environment variable instead' }],
];

test('env outside variable defaults and the secret-store functions are errors that say what to do', (t) => table(t, elsewhere, check));
