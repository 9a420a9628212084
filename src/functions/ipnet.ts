/**
 * IP network functions (go-cty-funcs' cidr package over hashicorp/go-cidr): cidrhost,
 * cidrnetmask, cidrsubnet, cidrsubnets. Addresses are handled as integers of 32 (IPv4) or 128
 * (IPv6) bits, and printed the way Go's net package prints them.
 */
import type * as IpAddr from 'ipaddr.js';
import { T, Value, type Num } from '../values/value.js';
import { define, param, strings } from './support.js';
import { FunctionArgError, FunctionError } from './types.js';
import { lazyRequire } from '../lazy-require.js';

/** ipaddr.js, loaded when an address function first runs. */
const ipaddr = lazyRequire<typeof IpAddr>('ipaddr.js');

/** A network as net.ParseCIDR returns it: the address with host bits cleared, and its prefix. */
interface Network {
  ip: bigint;
  prefix: number;
  bits: 32 | 128;
}

/** Parses `s` as net.ParseCIDR does; throws Go's message ("invalid CIDR address: …"). */
function parseCidr(s: string): Network {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(s);
  const fail = (): never => {
    throw new Error(`invalid CIDR address: ${s}`);
  };
  if (!m) return fail();
  const addr = m[1]!;
  const prefix = Number(m[2]);
  let bits: 32 | 128;
  let bytes: number[];
  if (/^[0-9.]+$/.test(addr)) {
    if (!ipaddr().IPv4.isValidFourPartDecimal(addr) || addr.split('.').some((p) => p.length > 1 && p.startsWith('0'))) return fail();
    bits = 32;
    bytes = ipaddr().IPv4.parse(addr).toByteArray();
  } else {
    if (!ipaddr().IPv6.isValid(addr) || addr.includes('%')) return fail();
    bits = 128;
    bytes = ipaddr().IPv6.parse(addr).toByteArray();
  }
  if (prefix > bits) return fail();
  const ip = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return { ip: ip & mask(prefix, bits), prefix, bits };
}

function mask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** Go's net.IP.String(): dotted quad, or RFC 5952 text for IPv6. */
function ipString(ip: bigint, bits: 32 | 128): string {
  const bytes: number[] = [];
  for (let i = bits / 8 - 1; i >= 0; i--) bytes.push(Number((ip >> BigInt(i * 8)) & 0xffn));
  if (bits === 32) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12).join('.');
  return ipaddr().fromByteArray(bytes).toString();
}

function networkString(n: Network): string {
  return `${ipString(n.ip, n.bits)}/${n.prefix}`;
}

function bigIntArg(v: Value, index: number): bigint {
  const n: Num = v.asNumber();
  if (!n.isInteger()) throw new FunctionArgError(index, 'value must be a whole number');
  return BigInt(n.toFixed(0));
}

function networkArg(v: Value): Network {
  try {
    return parseCidr(v.asString());
  } catch (e) {
    throw new FunctionError(`invalid CIDR expression: ${(e as Error).message}`);
  }
}

export const cidrhost = define({
  params: [param('prefix', T.string), param('hostnum', T.number)],
  returnType: T.string,
  impl: ([p, h]) => {
    const net = networkArg(p!);
    const requested = bigIntArg(h!, 1);
    const maxHost = (1n << BigInt(net.bits - net.prefix)) - 1n;
    const num = requested < 0n ? maxHost + requested + 1n : requested;
    if (num > maxHost || num < 0n) throw new FunctionError(`prefix of ${net.prefix} does not accommodate a host numbered ${num}`);
    return Value.string(ipString(net.ip | num, net.bits));
  },
});

export const cidrnetmask = define({
  params: [param('prefix', T.string)],
  returnType: T.string,
  impl: ([p]) => {
    const net = networkArg(p!);
    return Value.string(ipString(mask(net.prefix, net.bits), net.bits));
  },
});

export const cidrsubnet = define({
  params: [param('prefix', T.string), param('newbits', T.number), param('netnum', T.number)],
  returnType: T.string,
  impl: ([p, nb, nn]) => {
    const newbits = Number(bigIntArg(nb!, 1));
    const netnum = bigIntArg(nn!, 2);
    const net = networkArg(p!);
    const newPrefix = net.prefix + newbits;
    if (newPrefix > net.bits) throw new FunctionError(`insufficient address space to extend prefix of ${net.prefix} by ${newbits}`);
    if (netnum < 0n || netnum > (1n << BigInt(newbits)) - 1n) {
      throw new FunctionError(`prefix extension of ${newbits} does not accommodate a subnet numbered ${netnum}`);
    }
    const ip = net.ip | (netnum << BigInt(net.bits - newPrefix));
    return Value.string(networkString({ ip, prefix: newPrefix, bits: net.bits }));
  },
});

export const cidrsubnets = define({
  params: [param('prefix', T.string)],
  varParam: param('newbits', T.number),
  returnType: T.list(T.string),
  impl: ([p, ...lengths]) => {
    let base: Network;
    try {
      base = parseCidr(p!.asString());
    } catch (e) {
      throw new FunctionArgError(0, `invalid CIDR expression: ${(e as Error).message}`);
    }
    if (lengths.length === 0) return strings([]);
    const size = 1n << BigInt(base.bits);
    const first = Number(bigIntArg(lengths[0]!, 1)) + base.prefix;
    let current: Network = { ip: ((base.ip - 1n + size) % size) & mask(first, base.bits), prefix: first, bits: base.bits };
    const out: string[] = [];
    lengths.forEach((l, i) => {
      let length = Number(bigIntArg(l, i + 1));
      if (length < 1) throw new FunctionArgError(i + 1, 'must extend prefix by at least one bit');
      if (length > 32) throw new FunctionArgError(i + 1, 'may not extend prefix by more than 32 bits');
      length += base.prefix;
      if (length > base.bits) {
        throw new FunctionArgError(i + 1, `would extend prefix to ${length} bits, which is too long for an ${base.bits === 32 ? 'IPv4' : 'IPv6'} address`);
      }
      const currentLast = current.ip | ~mask(current.prefix, base.bits) & (size - 1n);
      const subnet = currentLast & mask(length, base.bits);
      const last = (subnet | (~mask(length, base.bits) & (size - 1n))) + 1n;
      const rollover = last === size;
      const next: Network = { ip: (last % size) & mask(length, base.bits), prefix: length, bits: base.bits };
      if (rollover || (next.ip & mask(base.prefix, base.bits)) !== base.ip) {
        throw new FunctionArgError(i + 1, `not enough remaining address space for a subnet with a prefix of ${length} bits after ${networkString(current)}`);
      }
      current = next;
      out.push(networkString(current));
    });
    return strings(out);
  },
});
