import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseTestEnvConf, TEST_ENV_CONF } from '../support/test-env-conf.ts';

// scripts/lib/test-env.conf is the one home of the test environment's addresses: bash sources it,
// the tests parse it. Both readers must see the same values, and each node its own addresses.

test('test-env.conf: every value the tests parse is the value bash sources', () => {
  const parsed = parseTestEnvConf(readFileSync(TEST_ENV_CONF, 'utf8'));
  assert.ok(parsed.size > 10, `the conf holds the environment (${parsed.size} keys)`);
  const script = `source "$1"; shift; for key in "$@"; do printf '%s\\0' "\${!key}"; done`;
  const keys = [...parsed.keys()];
  const fromBash = execFileSync('bash', ['-c', script, 'conf', TEST_ENV_CONF, ...keys], {
    encoding: 'utf8',
    timeout: 10_000,
  })
    .split('\0')
    .slice(0, -1);
  assert.deepEqual(Object.fromEntries(keys.map((key, index) => [key, fromBash[index]])), Object.fromEntries(parsed));
});

test('test-env.conf: a line the tests could read otherwise than bash is refused, naming it', () => {
  for (const line of ['A=$HOME', 'A="x"', 'A=`id`', 'A=x y', 'lower=x', 'A=x\\y']) {
    assert.throws(
      () => parseTestEnvConf(`${line}\n`),
      new RegExp(`:1: not a plain KEY=value .*${line.replace(/[$`\\"]/g, '\\$&')}`),
      line,
    );
  }
  assert.deepEqual(Object.fromEntries(parseTestEnvConf("# c\n\nA=1\nB='x y $z'\nC=\n")), {
    A: '1',
    B: 'x y $z',
    C: '',
  });
});

test('test-env.conf: the nodes have distinct names, link addresses, bridges and pools, none of them overlapping', () => {
  const parsed = parseTestEnvConf(readFileSync(TEST_ENV_CONF, 'utf8'));
  const nodes = [...parsed].filter(([key]) => /^NODE\d+$/.test(key)).map(([, value]) => value.split(' '));
  assert.ok(nodes.length >= 3, 'room for a three-node cluster');
  assert.ok(Number(parsed.get('NODES')) <= nodes.length);
  for (const column of [0, 1, 2, 3]) {
    const values = nodes.map((node) => node[column]);
    assert.equal(new Set(values).size, values.length, `column ${column} repeats: ${values.join(', ')}`);
  }
  // Every routed subnet (bridges /24, pools /16, the Swarm pool) is disjoint from every other.
  const toRange = (cidr: string): [number, number] => {
    const [address = '', bits = '32'] = cidr.split('/');
    const base = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    return [base - (base % size), base - (base % size) + size - 1];
  };
  const subnets = [
    ...nodes.flatMap((node) => [node[2] ?? '', node[3] ?? '']),
    parsed.get('SWARM_ADDRESS_POOL') ?? '',
    parsed.get('LINK_HOST_ADDRESS') ?? '',
  ];
  subnets.forEach((a, i) =>
    subnets.slice(i + 1).forEach((b) => {
      const [a0, a1] = toRange(a);
      const [b0, b1] = toRange(b);
      assert.ok(a1 < b0 || b1 < a0, `${a} overlaps ${b}`);
    }),
  );
});
