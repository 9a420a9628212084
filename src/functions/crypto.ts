/** Crypto and hash functions (go-cty-funcs' crypto package): bcrypt, md5, sha1, sha256, sha512,
 * rsadecrypt. Hashes are of the string's UTF-8 bytes, in lowercase hex. */
import { createHash, createPrivateKey } from 'node:crypto';
import type * as Bcrypt from 'bcryptjs';
import { T, Value } from '../values/value.js';
import { decodeStdBase64 } from './encoding.js';
import { define, param } from './support.js';
import { FunctionError, type FunctionDef } from './types.js';
import { lazyRequire } from '../lazy-require.js';

/** bcryptjs, loaded when `bcrypt` first runs. */
const bcryptjs = lazyRequire<typeof Bcrypt>('bcryptjs');

const string = T.string;

function hashFunction(algorithm: string): FunctionDef {
  return define({
    params: [param('str', string)],
    returnType: string,
    impl: ([s]) => Value.string(createHash(algorithm).update(s!.asString(), 'utf8').digest('hex')),
  });
}

export const md5 = hashFunction('md5');
export const sha1 = hashFunction('sha1');
export const sha256 = hashFunction('sha256');
export const sha512 = hashFunction('sha512');

export const bcrypt = define({
  params: [param('str', string)],
  varParam: param('cost', T.number),
  returnType: string,
  impl: (args) => {
    if (args.length > 2) throw new FunctionError(`bcrypt() takes no more than two arguments, but got ${args.length}`);
    let cost = 10;
    if (args.length === 2) {
      const n = args[1]!.asNumber();
      if (!n.isInteger()) throw new FunctionError('value must be a whole number, between -9223372036854775808 and 9223372036854775807');
      cost = n.toNumber();
    }
    if (cost < 4) cost = 10; // Go's bcrypt replaces a cost below its minimum with the default
    if (cost > 31) throw new FunctionError(`error occured generating password crypto/bcrypt: cost ${cost} is outside allowed range (4,31)`);
    const input = args[0]!.asString();
    if (Buffer.byteLength(input, 'utf8') > 72) throw new FunctionError('error occured generating password bcrypt: password length exceeds 72 bytes');
    return Value.string(bcryptjs().hashSync(input, cost).replace(/^\$2b\$/, '$2a$'));
  },
});

function bigFromBase64url(s: string): bigint {
  return BigInt(`0x${Buffer.from(s, 'base64url').toString('hex') || '0'}`);
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

export const rsadecrypt = define({
  params: [param('ciphertext', string), param('privatekey', string)],
  returnType: string,
  impl: ([c, k]) => {
    const cipherText = c!.asString();
    const cipher = decodeStdBase64(cipherText);
    if (typeof cipher === 'number') throw new FunctionError(`failed to decode input ${JSON.stringify(cipherText)}: cipher text must be base64-encoded`);
    const pem = k!.asString();
    const block = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
    if (!block) throw new FunctionError('failed to parse key: no key found');
    if (/Proc-Type:\s*4,ENCRYPTED/.test(block[2]!)) {
      throw new FunctionError('failed to parse key: password protected keys are not supported. Please decrypt the key prior to use');
    }
    if (block[1] !== 'RSA PRIVATE KEY') throw new FunctionError('x509: failed to parse private key (use ParsePKCS8PrivateKey instead for this key format)');
    let jwk;
    try {
      jwk = createPrivateKey({ key: block[0], format: 'pem' }).export({ format: 'jwk' });
    } catch {
      throw new FunctionError('x509: malformed private key');
    }
    const n = bigFromBase64url(jwk.n!);
    const d = bigFromBase64url(jwk.d!);
    const size = Buffer.from(jwk.n!, 'base64url').length;
    const cNum = BigInt(`0x${cipher.toString('hex') || '0'}`);
    if (cipher.length > size || cNum >= n) throw new FunctionError('crypto/rsa: decryption error');
    const m = Buffer.from(modPow(cNum, d, n).toString(16).padStart(size * 2, '0'), 'hex');
    // PKCS #1 v1.5: 0x00 0x02 PS (at least 8 non-zero bytes) 0x00 message.
    const sep = m.indexOf(0, 2);
    if (m[0] !== 0 || m[1] !== 2 || sep < 10) throw new FunctionError('crypto/rsa: decryption error');
    return Value.string(m.subarray(sep + 1).toString('utf8'));
  },
});
