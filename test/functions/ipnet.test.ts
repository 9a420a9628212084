import { test } from 'node:test';
import { check } from './check.js';
import { table, type Case } from './helpers.js';

const list = (...items: string[]): string => `[\n${items.map((i) => `  "${i}",\n`).join('')}]`;

const cases: Case[] = [
  ['cidrhost("10.12.112.0/20", 16)', '10.12.112.16'],
  ['cidrhost("10.12.112.0/20", 268)', '10.12.113.12'],
  ['cidrhost("10.12.112.0/20", -1)', '10.12.127.255'],
  ['cidrhost("10.12.112.5/20", 1)', '10.12.112.1'],
  ['cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)', 'fd00:fd12:3456:7890::22'],
  ['cidrhost("10.0.0.0/30", 4)', { error: 'prefix of 30 does not accommodate a host numbered 4' }],
  ['cidrhost("10.0.0.0/30", -5)', { error: 'prefix of 30 does not accommodate a host numbered -1' }],
  ['cidrhost("10.0.0.0/33", 1)', { error: 'invalid CIDR expression: invalid CIDR address: 10.0.0.0/33' }],
  ['cidrhost("10.0.0.0", 1)', { error: 'invalid CIDR address: 10.0.0.0' }],
  ['cidrnetmask("172.16.0.0/12")', '255.240.0.0'],
  ['cidrnetmask("10.0.0.0/32")', '255.255.255.255'],
  ['cidrnetmask("10.0.0.0/0")', '0.0.0.0'],
  ['cidrnetmask("fd00::/56")', 'ffff:ffff:ffff:ff00::'],
  ['cidrsubnet("10.1.2.0/24", 4, 15)', '10.1.2.240/28'],
  ['cidrsubnet("172.16.0.0/12", 4, 2)', '172.18.0.0/16'],
  ['cidrsubnet("10.1.2.0/24", 0, 0)', '10.1.2.0/24'],
  ['cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)', 'fd00:fd12:3456:7800:a200::/72'],
  ['cidrsubnet("2001:db8::/32", 8, 1)', '2001:db8:100::/40'],
  ['cidrsubnet("10.1.2.0/24", 4, 16)', { error: 'prefix extension of 4 does not accommodate a subnet numbered 16' }],
  ['cidrsubnet("10.1.2.0/24", 9, 0)', { error: 'insufficient address space to extend prefix of 24 by 9' }],
  ['cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)', list('10.1.0.0/20', '10.1.16.0/20', '10.1.32.0/24', '10.1.48.0/20')],
  ['cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)', list('fd00:fd12:3456:7800::/72', 'fd00:fd12:3456:7800:100::/72', 'fd00:fd12:3456:7800:200::/72', 'fd00:fd12:3456:7800:300::/88')],
  ['cidrsubnets("10.0.0.0/8")', '[]'],
  ['cidrsubnets("10.0.0.0/30", 1, 1, 1)', { error: 'not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31' }],
  ['cidrsubnets("10.0.0.0/30", 0)', { error: 'must extend prefix by at least one bit' }],
  ['cidrsubnets("10.0.0.0/8", 33)', { error: 'may not extend prefix by more than 32 bits' }],
  ['cidrsubnets("10.0.0.0/24", 9)', { error: 'would extend prefix to 33 bits, which is too long for an IPv4 address' }],
  ['cidrsubnets("nope", 1)', { error: 'Invalid value for "prefix" parameter: invalid CIDR expression: invalid CIDR address: nope.' }],
];

test('IP network functions', (t) => table(t, cases, check));
