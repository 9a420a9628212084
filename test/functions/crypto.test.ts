import assert from 'node:assert/strict';
import { generateKeyPairSync, publicEncrypt, constants } from 'node:crypto';
import { test } from 'node:test';
import bcryptjs from 'bcryptjs';
import { check } from './check.js';
import { run, table, type Case } from './helpers.js';

const cases: Case[] = [
  ['md5("hello world")', '5eb63bbbe01eeed093cb22bb8f5acdc3'],
  ['md5("")', 'd41d8cd98f00b204e9800998ecf8427e'],
  ['sha1("hello world")', '2aae6c35c94fcfb415dbe95f408b9ce91ee846ed'],
  ['sha256("hello world")', 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9'],
  ['sha512("hello world")', '309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f'],
  ['sha256("héllo")', '3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179'],
  ['bcrypt("x", 32)', { error: 'cost 32 is outside allowed range (4,31)' }],
  ['bcrypt("x", 4, 5)', { error: 'bcrypt() takes no more than two arguments' }],
  ['rsadecrypt("!!", "k")', { error: 'failed to decode input "!!": cipher text must be base64-encoded' }],
  ['rsadecrypt("AAAA", "not a key")', { error: 'failed to parse key: no key found' }],
];

test('hash functions', (t) => table(t, cases, check));

test('bcrypt hashes with Go\'s $2a$ prefix and the requested cost', () => {
  const r = run('bcrypt("hello world", 5)');
  assert.equal(r.error, undefined);
  assert.match(r.text!, /^\$2a\$05\$/);
  assert.ok(bcryptjs.compareSync('hello world', r.text!));
  assert.match(run('bcrypt("x")').text!, /^\$2a\$10\$/);
  assert.match(run('bcrypt("x", 2)').text!, /^\$2a\$10\$/, 'a cost below 4 becomes the default, as in Go');
});

test('rsadecrypt decrypts PKCS #1 v1.5 ciphertext with a PKCS #1 PEM key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const cipher = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('secret ☃')).toString('base64');
  const vars = `rsadecrypt("${cipher}", ${JSON.stringify(pem)})`;
  assert.equal(run(vars).text, 'secret ☃');
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.ok(run(`rsadecrypt("${cipher}", ${JSON.stringify(pkcs8)})`).error?.includes('use ParsePKCS8PrivateKey instead'));
  const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  assert.ok(run(`rsadecrypt("${cipher}", ${JSON.stringify(other)})`).error?.includes('crypto/rsa: decryption error'));
});
