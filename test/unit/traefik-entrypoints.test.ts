import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { defaultAppOptions } from '../../src/core/apps/app-options.ts';
import { staticEntryPoints } from '../../src/core/apps/static-entry-points.ts';
import { formatEntryPoints } from '../../src/render/entry-points-output.ts';
import { runCli } from '../support/run-cli.ts';

const cases = [
  {
    desc: 'the default range: 96 entry points named as in Backend.AI, no wildcard one without a domain',
    options: defaultAppOptions,
    listen: '',
    count: 96,
    first: { name: 'portproxy_10205', address: ':10205' },
    last: { name: 'portproxy_10300', address: ':10300' },
  },
  {
    desc: 'a wildcard domain adds the wildcard entry point, last',
    options: { ...defaultAppOptions, portRange: { first: 10205, last: 10206 }, wildcardDomain: '.apps.example.com' },
    listen: '0.0.0.0',
    count: 3,
    first: { name: 'portproxy_10205', address: '0.0.0.0:10205' },
    last: { name: 'domainproxy', address: '0.0.0.0:8443' },
  },
  {
    desc: 'an IPv6 listen address in brackets, and the name template',
    options: { ...defaultAppOptions, portRange: { first: 7000, last: 7000 }, portEntryPoint: 'app-{port}' },
    listen: '::',
    count: 1,
    first: { name: 'app-7000', address: '[::]:7000' },
    last: { name: 'app-7000', address: '[::]:7000' },
  },
];

for (const entry of cases) {
  test(`traefik entry points: ${entry.desc}`, () => {
    const entryPoints = staticEntryPoints(entry.options, entry.listen);
    assert.equal(entryPoints.length, entry.count);
    assert.deepEqual(entryPoints[0], entry.first);
    assert.deepEqual(entryPoints.at(-1), entry.last);
    assert.equal(new Set(entryPoints.map((entryPoint) => entryPoint.name)).size, entry.count, 'names are unique');
  });
}

test('traefik entry points: YAML is the entryPoints section of a static file; flags one a line', () => {
  const entryPoints = staticEntryPoints({
    ...defaultAppOptions,
    portRange: { first: 10205, last: 10206 },
    wildcardDomain: '.apps.example.com',
  });
  const yaml = formatEntryPoints('yaml', entryPoints);
  assert.equal(
    yaml,
    'entryPoints:\n  portproxy_10205:\n    address: ":10205"\n  portproxy_10206:\n    address: ":10206"\n  domainproxy:\n    address: ":8443"\n',
  );
  assert.deepEqual(parse(yaml), {
    entryPoints: {
      portproxy_10205: { address: ':10205' },
      portproxy_10206: { address: ':10206' },
      domainproxy: { address: ':8443' },
    },
  });
  assert.equal(
    formatEntryPoints('flags', entryPoints),
    '--entryPoints.portproxy_10205.address=:10205\n--entryPoints.portproxy_10206.address=:10206\n--entryPoints.domainproxy.address=:8443\n',
  );
});

test('traefik entry points: the command reads the same settings as render and run, and refuses bad ones with status 2', async () => {
  const env = { ...process.env, APPPROXY_APP_PORT_RANGE: '10205-10207' };
  const flags = await runCli(
    ['traefik-entrypoints', '--format', 'flags', '--listen-address', '0.0.0.0'],
    undefined,
    env,
  );
  assert.equal(flags.code, 0, flags.stderr);
  assert.equal(
    flags.stdout,
    '--entryPoints.portproxy_10205.address=0.0.0.0:10205\n--entryPoints.portproxy_10206.address=0.0.0.0:10206\n--entryPoints.portproxy_10207.address=0.0.0.0:10207\n',
  );
  assert.match(flags.stderr, /no wildcard entry point: --app-wildcard-domain is not set/);

  const wildcard = await runCli(
    [
      'traefik-entrypoints',
      '--app-port-range',
      '10205',
      '--app-wildcard-domain',
      '.apps.example.com',
      '--app-wildcard-port',
      '443',
    ],
    undefined,
    env,
  );
  assert.equal(wildcard.code, 0, wildcard.stderr);
  assert.deepEqual(parse(wildcard.stdout), {
    entryPoints: { portproxy_10205: { address: ':10205' }, domainproxy: { address: ':443' } },
  });
  assert.equal(wildcard.stderr, '');

  const bad = await runCli(['traefik-entrypoints', '--app-port-range', '10300-10205'], undefined, env);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /appPortRange: the first port must not be above the last/);

  const badListen = await runCli(['traefik-entrypoints', '--listen-address', '0.0.0.0:80'], undefined, env);
  assert.equal(badListen.code, 2);
  assert.match(badListen.stderr, /--listen-address: expected an IP address or a host name without a port/);

  const help = await runCli(['traefik-entrypoints', '--help'], undefined, env);
  assert.equal(help.code, 0);
  for (const flag of [
    '--format',
    '--listen-address',
    '--app-port-range',
    '--app-port-entrypoint-template',
    '--app-wildcard-entrypoint',
    '--app-wildcard-domain',
    '--app-wildcard-port',
  ])
    assert.ok(help.stdout.includes(flag), flag);
  assert.ok(!help.stdout.includes('--prefix'), 'only the settings it reads');
});
