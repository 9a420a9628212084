import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packerFunctions } from '../../src/functions/index.js';

/** The functions current Packer registers (hcl2template/functions.go), plus `env` for variable defaults. */
const PACKER = `abs abspath alltrue anytrue aws_secretsmanager aws_secretsmanager_raw base64decode base64encode
base64gzip basename bcrypt can ceil chomp chunklist cidrhost cidrnetmask cidrsubnet cidrsubnets coalesce
coalescelist compact concat consul_key contains convert csvdecode dirname distinct element endswith env file
filebase64 fileexists fileset flatten floor format formatdate formatlist indent index join jsondecode jsonencode
keys legacy_isotime legacy_strftime length log lookup lower max md5 merge min parseint pathexpand pow range
regex regex_replace regexall replace reverse rsadecrypt setintersection setproduct setunion sha1 sha256 sha512
signum slice sort split startswith strcontains strrev substr sum templatefile textdecodebase64 textencodebase64
timeadd timestamp title trim trimprefix trimspace trimsuffix try upper urlencode uuidv4 uuidv5 values vault
yamldecode yamlencode zipmap`.split(/\s+/);

test('the library has exactly Packer\'s functions', () => {
  assert.deepEqual([...packerFunctions.keys()].sort(), [...PACKER].sort());
});

test('Terraform-only functions are not part of it', () => {
  for (const name of ['tostring', 'tonumber', 'tobool', 'tolist', 'toset', 'tomap', 'sensitive', 'nonsensitive', 'one', 'setsubtract', 'transpose', 'filemd5', 'uuid']) {
    assert.equal(packerFunctions.has(name), false, name);
  }
});

test('every function declares parameters with names', () => {
  for (const [name, def] of packerFunctions) {
    for (const p of [...def.params, ...(def.varParam ? [def.varParam] : [])]) assert.ok(p.name, `${name} has an unnamed parameter`);
  }
});
