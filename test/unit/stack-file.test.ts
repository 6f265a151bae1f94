import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { defaultAppOptions } from '../../src/core/apps/app-options.ts';
import { parsePortRange } from '../../src/core/apps/port-range.ts';
import { staticEntryPoints } from '../../src/core/apps/static-entry-points.ts';

// The shipped stack must never open to the outside what controls the routing: etcd (whoever writes
// it rewrites every route), the Docker socket (root on the manager) and Traefik's API and dashboard
// (every route, middleware and backend address, and with api.insecure no authentication at all).
// Each check also runs against a copy of the stack with exactly that mistake, and must catch it,
// so that a check which could no longer fail would itself fail.

type Service = Record<string, unknown>;
interface Stack {
  services: Record<string, Service>;
}

const STACK_PATH = new URL('../../stacks/appproxy.yml', import.meta.url).pathname;
const stack = parseYaml(readFileSync(STACK_PATH, 'utf8')) as Stack;
/** The Compose file for hosts without Swarm is held to the same rules. */
const COMPOSE_PATH = new URL('../../stacks/compose.yml', import.meta.url).pathname;
const composeFile = parseYaml(readFileSync(COMPOSE_PATH, 'utf8')) as Stack;

/** Services allowed to run privileged, in the host's network, PID or IPC namespace, with why. None today. */
const HOST_ACCESS_EXCEPTIONS: Readonly<Record<string, string>> = {};

function service(name: string, from: Stack = stack): Service {
  const found = from.services[name];
  assert.ok(found !== undefined, `the stack has no "${name}" service`);
  return found;
}

function commandOf(entry: Service): string[] {
  const value = entry['command'];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/\s+/) : [];
}

function command(name: string, from: Stack = stack): string[] {
  return commandOf(service(name, from));
}

/**
 * A service's `--a.b.c=value` flags, by lower-cased name (Traefik and etcd ignore case); the last of a repeated flag
 * wins.
 */
function flagsOf(entry: Service): Map<string, string> {
  const flags = new Map<string, string>();
  for (const argument of commandOf(entry)) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(argument);
    if (match?.[1] !== undefined) flags.set(match[1].toLowerCase(), match[2] ?? 'true');
  }
  return flags;
}

/** Traefik's static configuration given as flags. */
function traefikFlags(from: Stack = stack): Map<string, string> {
  return flagsOf(service('traefik', from));
}

/** The port of each Traefik entry point, from `--entrypoints.<name>.address=[host]:port[/udp]`. */
function entryPointPorts(from: Stack = stack): Map<string, number> {
  const ports = new Map<string, number>();
  for (const [flag, value] of traefikFlags(from)) {
    const name = /^entrypoints\.([^.]+)\.address$/.exec(flag)?.[1];
    const port = /:(\d+)(?:\/\w+)?$/.exec(value)?.[1];
    if (name !== undefined && port !== undefined) ports.set(name, Number(port));
  }
  return ports;
}

/** Container ports a service publishes, from the long (`{ target, published }`) or short (`"8080:80/tcp"`) syntax. */
function publishedTargets(entry: Service): number[] {
  const ports = entry['ports'];
  if (!Array.isArray(ports)) return [];
  return ports.map((port: unknown) => {
    if (typeof port === 'object' && port !== null) return Number((port as Record<string, unknown>)['target']);
    const text = String(port).replace(/\/\w+$/, '');
    return Number(text.split(':').at(-1));
  });
}

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** Volumes in the short (`src:dst[:ro]`) or long (`{ source, target, read_only }`) syntax. */
function mounts(entry: Service): Mount[] {
  const volumes = entry['volumes'];
  if (!Array.isArray(volumes)) return [];
  return volumes.map((volume: unknown) => {
    if (typeof volume === 'object' && volume !== null) {
      const long = volume as Record<string, unknown>;
      return {
        source: String(long['source'] ?? ''),
        target: String(long['target'] ?? ''),
        readOnly: long['read_only'] === true,
      };
    }
    // `${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock:ro`: the variable's default holds a colon-free path.
    const text = String(volume).replace(/\$\{[^}]*\}/g, (variable) => variable.replace(/:/g, '\u0000'));
    const [source = '', target = '', mode = ''] = text.split(':').map((part) => part.replace(/\u0000/g, ':'));
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

const isDockerSocket = (mount: Mount): boolean =>
  /docker\.sock/.test(mount.source) || /docker\.sock/.test(mount.target);

function environment(entry: Service): Record<string, string> {
  const value = entry['environment'];
  if (Array.isArray(value))
    return Object.fromEntries(value.map((item: unknown) => String(item).split(/=(.*)/s).slice(0, 2)));
  return Object.fromEntries(
    Object.entries((value ?? {}) as Record<string, unknown>).map(([key, item]) => [key, String(item)]),
  );
}

interface Check {
  readonly desc: string;
  readonly check: (from: Stack) => void;
  /** Mistakes the check is there to catch, each made in a copy of the stack. */
  readonly mistakes: Readonly<Record<string, (copy: Stack) => void>>;
}

const checks: Check[] = [
  {
    desc: 'only the traefik service publishes ports',
    check(from) {
      for (const [name, entry] of Object.entries(from.services)) {
        if (name === 'traefik') continue;
        assert.deepEqual(
          publishedTargets(entry),
          [],
          `service "${name}" publishes ports ${JSON.stringify(entry['ports'])} on every node: only Traefik's web entry point may be reachable from outside; ` +
            'etcd would let anyone rewrite the routes, the Docker proxy would show every container, the sidecar its metrics',
        );
      }
    },
    mistakes: {
      'appproxy publishes its metrics port': (copy) => (service('appproxy', copy)['ports'] = ['9180:9180']),
      'the docker-proxy publishes the Docker API': (copy) =>
        (service('docker-proxy', copy)['ports'] = [{ target: 2375, published: 2375 }]),
    },
  },
  {
    desc: 'etcd publishes no port',
    check(from) {
      assert.equal(
        service('etcd', from)['ports'],
        undefined,
        'etcd has "ports": it runs without TLS or authentication here, so anyone who reaches it can write routes that send any host\'s traffic anywhere, or delete them all',
      );
    },
    mistakes: {
      'etcd publishes its client port': (copy) =>
        (service('etcd', copy)['ports'] = [{ target: 2379, published: 2379 }]),
    },
  },
  {
    desc: "traefik publishes only its web entry point's port",
    check(from) {
      const web = entryPointPorts(from).get('web');
      assert.ok(web !== undefined, 'traefik defines no "web" entry point with an address');
      const targets = publishedTargets(service('traefik', from));
      assert.ok(targets.length > 0, 'traefik publishes nothing: the stack would serve no one');
      for (const target of targets) {
        const entryPoint = [...entryPointPorts(from)].find(([, port]) => port === target)?.[0];
        assert.equal(
          target,
          web,
          `traefik publishes container port ${target}${entryPoint === undefined ? '' : ` (entry point "${entryPoint}")`}: only the web entry point (:${web}) may be published`,
        );
      }
    },
    mistakes: {
      'traefik also publishes the API entry point': (copy) =>
        (service('traefik', copy)['ports'] = [...(service('traefik', copy)['ports'] as unknown[]), '8080:8080']),
    },
  },
  {
    desc: "Traefik's API and dashboard are on an entry point of their own, not published, and answer the control network and loopback alone",
    check(from) {
      const flags = traefikFlags(from);
      const ports = entryPointPorts(from);
      const api = flags.has('api') || flags.has('api.dashboard') || flags.has('api.insecure');
      if (!api) return;
      // api.insecure serves the API to anything that reaches the entry point, and the apps Traefik
      // routes to reach it (they share a network): the API is served by stacks/traefik/api.yml's
      // router instead, behind an ipAllowList of TRAEFIK_API_SOURCES.
      assert.notEqual(
        flags.get('api.insecure'),
        'true',
        "api.insecure serves Traefik's API to every network Traefik is on, the apps' included: serve it through stacks/traefik/api.yml",
      );
      assert.equal(flags.get('providers.file.filename'), '/etc/traefik/api.yml', "Traefik loads the API's router");
      const apiPort = ports.get('traefik') ?? 8080;
      assert.notEqual(
        apiPort,
        ports.get('web'),
        `the "traefik" entry point (the API) shares port ${apiPort} with "web"`,
      );
      assert.ok(
        !publishedTargets(service('traefik', from)).includes(apiPort),
        `port ${apiPort}, Traefik's API and dashboard, is published: anyone could read every route and backend address`,
      );
      const sources = String(
        ((service('traefik', from)['environment'] ?? {}) as Record<string, unknown>)['TRAEFIK_API_SOURCES'] ?? '',
      )
        .split(',')
        .map((source) => source.trim());
      const subnet = (((from as unknown as { networks: Record<string, { ipam?: { config?: { subnet?: string }[] } }> })
        .networks['control']?.ipam?.config ?? [])[0]?.subnet ?? '<none>') as string;
      assert.deepEqual(
        sources,
        ['127.0.0.1/32', subnet],
        "Traefik's API answers loopback (docker exec) and the control network's fixed subnet (appproxy) alone",
      );
      assert.match(
        String(
          ((service('appproxy', from)['environment'] ?? {}) as Record<string, unknown>)['APPPROXY_TRAEFIK_API_URLS'],
        ),
        /^(\$\{TRAEFIK_API_URLS:-)?http:\/\/(tasks\.)?traefik:8080\}?$/,
        "appproxy reads back every Traefik's API",
      );
    },
    mistakes: {
      'api.insecure turned on': (copy) =>
        (service('traefik', copy)['command'] = [...command('traefik', copy), '--api.insecure=true']),
      'the API entry point moved onto the published port': (copy) => {
        service('traefik', copy)['command'] = command('traefik', copy).map((argument) =>
          argument.startsWith('--entrypoints.traefik.address=') ? '--entrypoints.traefik.address=:80' : argument,
        );
      },
      'the API entry point published beside web': (copy) =>
        (service('traefik', copy)['ports'] = [
          ...(service('traefik', copy)['ports'] as unknown[]),
          { target: 8080, published: 8080 },
        ]),
      'the API open to any source': (copy) =>
        (service('traefik', copy)['environment'] = { TRAEFIK_API_SOURCES: '0.0.0.0/0' }),
    },
  },
  {
    desc: 'Traefik reads etcd, not Docker: no Docker provider, no socket',
    check(from) {
      const providers = [...traefikFlags(from).keys()].filter((flag) => /^providers\.(docker|swarm)\b/.test(flag));
      assert.deepEqual(
        providers,
        [],
        `traefik enables ${providers.join(', ')}: the Internet-facing process would need the Docker socket, which the stack keeps away from it`,
      );
    },
    mistakes: {
      'the Docker provider enabled': (copy) =>
        (service('traefik', copy)['command'] = [...command('traefik', copy), '--providers.docker=true']),
    },
  },
  {
    desc: 'the Docker socket is mounted only by docker-proxy, and read-only',
    check(from) {
      for (const [name, entry] of Object.entries(from.services)) {
        for (const mount of mounts(entry).filter(isDockerSocket)) {
          assert.equal(
            name,
            'docker-proxy',
            `service "${name}" mounts the Docker socket (${mount.source}): whoever controls it has root on the node; only the GET-only docker-proxy may hold it`,
          );
          // `:ro` keeps the socket file from being replaced; it does not make the API read-only
          // (connecting needs no write access): the proxy's GET-only rules do that.
          assert.ok(mount.readOnly, `docker-proxy mounts the Docker socket ${mount.source} read-write: mount it ":ro"`);
        }
      }
      assert.ok(
        mounts(service('docker-proxy', from)).some(isDockerSocket),
        'docker-proxy does not mount the Docker socket: appproxy would see no workloads',
      );
      assert.equal(
        command('docker-proxy', from)[0],
        'docker-proxy',
        'the socket holder does not run `appproxy docker-proxy`, whose rules forward only the GET requests appproxy needs',
      );
    },
    mistakes: {
      'appproxy mounts the socket too': (copy) =>
        (service('appproxy', copy)['volumes'] = ['/var/run/docker.sock:/var/run/docker.sock:ro']),
      'traefik mounts the socket in the long syntax': (copy) =>
        (service('traefik', copy)['volumes'] = [
          { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', read_only: true },
        ]),
      'the proxy mounts the socket read-write': (copy) =>
        (service('docker-proxy', copy)['volumes'] = ['${DOCKER_SOCKET:-/var/run/docker.sock}:/var/run/docker.sock']),
    },
  },
  {
    desc: 'appproxy reaches Docker only through the proxy',
    check(from) {
      const appproxy = service('appproxy', from);
      const dockerHost = environment(appproxy)['DOCKER_HOST'];
      const listen =
        command('docker-proxy', from).find((_, index, all) => all[index - 1] === '--listen') ?? '0.0.0.0:2375';
      if (listen.startsWith('unix://')) {
        // The proxy's socket on a volume (node-local in a Swarm): appproxy alone mounts it.
        const path = listen.slice('unix://'.length);
        const directory = path.slice(0, path.lastIndexOf('/'));
        assert.equal(
          dockerHost,
          `unix://${path}`,
          `appproxy's DOCKER_HOST is ${JSON.stringify(dockerHost)}: it must be the read-only docker-proxy's socket (unix://${path}), or appproxy talks to an engine with full rights`,
        );
        const volume = mounts(service('docker-proxy', from)).find((mount) => mount.target === directory)?.source;
        assert.ok(
          volume !== undefined,
          `docker-proxy listens on ${path} but mounts no volume at ${directory}: appproxy cannot reach it`,
        );
        assert.ok(
          mounts(appproxy).some((mount) => mount.source === volume && mount.target === directory),
          `appproxy does not mount the proxy's volume "${volume}" at ${directory}`,
        );
        for (const [name, entry] of Object.entries(from.services)) {
          if (name === 'docker-proxy' || name === 'appproxy') continue;
          assert.ok(
            !mounts(entry).some((mount) => mount.source === volume),
            `service "${name}" mounts the proxy's volume "${volume}": it could read every container's inspect, environment included`,
          );
        }
      } else {
        const proxyPort = listen.split(':').at(-1);
        assert.equal(
          dockerHost,
          `tcp://docker-proxy:${proxyPort}`,
          `appproxy's DOCKER_HOST is ${JSON.stringify(dockerHost)}: it must be the read-only docker-proxy (tcp://docker-proxy:${proxyPort}), or appproxy talks to an engine with full rights`,
        );
      }
      assert.ok(!mounts(appproxy).some(isDockerSocket), 'appproxy mounts the Docker socket itself, around the proxy');
    },
    mistakes: {
      'appproxy pointed at the engine itself': (copy) =>
        ((service('appproxy', copy)['environment'] as Record<string, string>)['DOCKER_HOST'] = 'tcp://manager:2375'),
      'appproxy without DOCKER_HOST (the default socket)': (copy) =>
        delete (service('appproxy', copy)['environment'] as Record<string, string>)['DOCKER_HOST'],
      "Traefik mounting the proxy's socket volume": (copy) => {
        const proxyVolume = mounts(service('docker-proxy', copy)).find((mount) => !isDockerSocket(mount))?.source;
        if (proxyVolume === undefined) return false; // a proxy on TCP has no socket volume
        service('traefik', copy)['volumes'] = [`${proxyVolume}:/run/docker-api`];
        return true;
      },
    },
  },
  {
    desc: 'only appproxy shares a network with docker-proxy',
    check(from) {
      const networksOf = (entry: Record<string, unknown>): string[] =>
        Array.isArray(entry['networks'])
          ? (entry['networks'] as string[])
          : Object.keys((entry['networks'] ?? {}) as object);
      const proxyNetworks = networksOf(service('docker-proxy', from));
      assert.ok(
        proxyNetworks.length > 0,
        'docker-proxy names no network: it would join the default one, with every other service',
      );
      for (const [name, entry] of Object.entries(from.services)) {
        if (name === 'docker-proxy' || name === 'appproxy') continue;
        const shared = networksOf(entry).filter((network) => proxyNetworks.includes(network));
        assert.deepEqual(
          shared,
          [],
          `service "${name}" shares ${shared.join(', ')} with docker-proxy: it could read every container's inspect, environment included`,
        );
      }
    },
    mistakes: {
      'Traefik beside the proxy': (copy) =>
        (service('traefik', copy)['networks'] = [...(service('traefik', copy)['networks'] as string[]), 'docker-api']),
      'the proxy on the control network': (copy) => (service('docker-proxy', copy)['networks'] = ['control']),
    },
  },
  {
    desc: 'no service is privileged or shares the host network, PID or IPC namespace (unless listed with a reason)',
    check(from) {
      for (const [name, entry] of Object.entries(from.services)) {
        if (Object.hasOwn(HOST_ACCESS_EXCEPTIONS, name)) continue;
        assert.notEqual(entry['privileged'], true, `service "${name}" is privileged: it can take over the node`);
        for (const key of ['network_mode', 'pid', 'ipc'] as const) {
          assert.notEqual(
            entry[key],
            'host',
            `service "${name}" has ${key}: host: it sees and reaches everything on the node (etcd's and the proxy's ports included)`,
          );
        }
        const networks = Array.isArray(entry['networks'])
          ? entry['networks']
          : Object.keys((entry['networks'] ?? {}) as object);
        assert.ok(
          !networks.includes('host'),
          `service "${name}" joins the host network: it sees and reaches everything on the node`,
        );
        assert.deepEqual(
          entry['cap_add'] ?? [],
          [],
          `service "${name}" adds capabilities ${JSON.stringify(entry['cap_add'])}`,
        );
      }
    },
    mistakes: {
      'a privileged demo': (copy) => (service('chat', copy)['privileged'] = true),
      'redis on the host network': (copy) => (service('redis', copy)['networks'] = ['host']),
      'appproxy in the host network mode': (copy) => (service('appproxy', copy)['network_mode'] = 'host'),
    },
  },
  {
    desc: "only docker-proxy runs as root, because the socket is root's",
    check(from) {
      for (const [name, entry] of Object.entries(from.services)) {
        if (name === 'docker-proxy') continue;
        const user = String(entry['user'] ?? '');
        assert.ok(!/^(0|root)(:|$)/.test(user), `service "${name}" runs as ${user}: only the socket holder needs root`);
      }
    },
    mistakes: { 'appproxy as root': (copy) => (service('appproxy', copy)['user'] = '0:0') },
  },
];

for (const [file, shipped] of [
  ['stack file', stack],
  ['compose file', composeFile],
] as const) {
  for (const entry of checks) {
    test(`${file}: ${entry.desc}`, () => {
      entry.check(shipped);
      let tried = 0;
      for (const [mistake, make] of Object.entries(entry.mistakes)) {
        const copy = structuredClone(shipped);
        // A mistake about a service this file does not have (the Swarm demo's chat, redis) does not apply.
        if (!Object.keys(copy.services).some((name) => make.toString().includes(`'${name}'`))) continue;
        // A mistake that says it does not apply to this file's design (false) is not counted.
        if ((make(copy) as unknown) === false) continue;
        tried += 1;
        assert.throws(() => entry.check(copy), assert.AssertionError, `the check misses a ${file} where ${mistake}`);
      }
      assert.ok(
        tried > 0,
        `no mistake of "${entry.desc}" applies to the ${file}: the check is not shown to be able to fail`,
      );
    });
  }
}

test('local image builds never take an official name: build-images names them appproxy-local/... and says how to point the stack at them', async () => {
  const { execFileSync } = await import('node:child_process');
  const script = new URL('../../scripts/build-images.sh', import.meta.url).pathname;
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(NODE|TRAEFIK|ETCD|REDIS|APPPROXY|DEMO)_IMAGE$/.test(name)),
  );
  const lines = execFileSync('bash', [script, '--print-env'], { env: clean, encoding: 'utf8', timeout: 30_000 })
    .trim()
    .split('\n');
  const names = Object.fromEntries(lines.map((line) => line.split('=', 2) as [string, string]));
  for (const variable of ['NODE_IMAGE', 'TRAEFIK_IMAGE', 'ETCD_IMAGE', 'REDIS_IMAGE']) {
    assert.match(
      names[variable] ?? '',
      /^appproxy-local\//,
      `${variable} is ${names[variable]}: a local stand-in must not replace an official image of that name`,
    );
  }
  for (const variable of ['TRAEFIK_IMAGE', 'ETCD_IMAGE', 'REDIS_IMAGE', 'APPPROXY_IMAGE', 'DEMO_IMAGE']) {
    assert.ok(
      readFileSync(STACK_PATH, 'utf8').includes(`\${${variable}:-`),
      `the stack file does not read ${variable}: the local names could not be given to it`,
    );
  }
  const listed = execFileSync('bash', [script, '--list'], { env: clean, encoding: 'utf8', timeout: 30_000 })
    .trim()
    .split('\n');
  assert.deepEqual(
    listed.filter((name) => !name.startsWith('appproxy')),
    [],
    'every image build-images makes has a name of the project',
  );
});

// The Swarm stack is secured by default: etcd takes TLS clients with certificates of the stack's CA
// and has auth on; every credential comes from a Docker secret that scripts/stack-secrets.sh makes;
// Traefik reads with a certificate only (nothing secret in its command line, which `docker service
// inspect` shows to anyone with access to the manager). The 3-member variant keeps all of it and
// adds TLS between members. Each check is shown able to fail, as above.

const CLUSTER_PATH = new URL('../../stacks/etcd-cluster.yml', import.meta.url).pathname;
const clusterFile = parseYaml(readFileSync(CLUSTER_PATH, 'utf8'), { merge: true }) as Stack & { secrets?: unknown };
const SECRETS_SCRIPT = readFileSync(new URL('../../scripts/stack-secrets.sh', import.meta.url).pathname, 'utf8');
/** The secret keys scripts/stack-secrets.sh creates (its SECRETS list, `<key>:<file>`). */
const scriptSecrets = [
  ...(/^SECRETS=\(\n([\s\S]*?)\n\)/m.exec(SECRETS_SCRIPT)?.[1] ?? '').matchAll(/^\s*(\w+):/gm),
].map((match) => match[1] ?? '');

function secretsOf(entry: Service): string[] {
  const value = entry['secrets'];
  return Array.isArray(value)
    ? value.map((item: unknown) =>
        typeof item === 'string' ? item : String((item as Record<string, unknown>)['source']),
      )
    : [];
}

function checkEtcdMember(name: string, entry: Service, peers: boolean): void {
  const flags = flagsOf(entry);
  for (const url of (flags.get('listen-client-urls') ?? '').split(','))
    assert.match(
      url,
      /^https:\/\//,
      `${name} listens for clients on ${url}: without TLS, passwords and routes cross the network in clear`,
    );
  assert.equal(
    flags.get('client-cert-auth'),
    'true',
    `${name} runs without --client-cert-auth: any client that reaches it may try passwords, and Traefik's certificate-only user cannot work`,
  );
  for (const flag of ['cert-file', 'key-file', 'trusted-ca-file'])
    assert.match(flags.get(flag) ?? '', /^\/run\/secrets\//, `${name}'s --${flag} is not a Docker secret`);
  if (peers) {
    for (const url of (flags.get('listen-peer-urls') ?? '').split(','))
      assert.match(url, /^https:\/\//, `${name} talks to its peers on ${url}: without TLS`);
    assert.equal(flags.get('peer-client-cert-auth'), 'true', `${name} accepts peers without a certificate of the CA`);
    // The CA also signs the clients' certificates (root, appproxy, Traefik): without a CN check a
    // client's certificate would be let in as a peer (issue 26, point 5).
    assert.equal(
      flags.get('peer-cert-allowed-cn'),
      'etcd',
      `${name} lets any certificate of the CA join as a peer: --peer-cert-allowed-cn=etcd (the members' certificate)`,
    );
  }
}

const securedChecks: {
  desc: string;
  check: (from: Stack) => void;
  mistakes: Readonly<Record<string, (copy: Stack) => void>>;
}[] = [
  {
    desc: 'etcd takes only TLS clients with a certificate of the CA',
    check: (from) => checkEtcdMember('etcd', service('etcd', from), false),
    mistakes: {
      'etcd on plain HTTP': (copy) =>
        ((service('etcd', copy)['command'] as string[])[2] = '--listen-client-urls=http://0.0.0.0:2379'),
      'etcd without client certificates': (copy) =>
        (service('etcd', copy)['command'] = (service('etcd', copy)['command'] as string[]).filter(
          (flag) => !flag.startsWith('--client-cert-auth'),
        )),
    },
  },
  {
    desc: 'every secret a service uses is declared external, named with SECRET_PREFIX, and made by scripts/stack-secrets.sh',
    check(from) {
      const declared =
        (from as Stack & { secrets?: Record<string, { external?: boolean; name?: string }> }).secrets ?? {};
      for (const [name, entry] of Object.entries(from.services)) {
        for (const secret of secretsOf(entry)) {
          assert.ok(
            declared[secret] !== undefined,
            `service "${name}" uses secret "${secret}", which the stack does not declare`,
          );
          assert.equal(
            declared[secret]?.external,
            true,
            `secret "${secret}" is not external: it must come from scripts/stack-secrets.sh, not from a file beside the stack`,
          );
          assert.equal(
            declared[secret]?.name,
            `\${SECRET_PREFIX:-appproxy}_${secret}`,
            `secret "${secret}" has another name than scripts/stack-secrets.sh gives it`,
          );
          assert.ok(
            scriptSecrets.includes(secret),
            `scripts/stack-secrets.sh does not make "${secret}" (it makes ${scriptSecrets.join(', ')})`,
          );
        }
      }
      assert.ok(
        scriptSecrets.length >= 10,
        `the secrets list of scripts/stack-secrets.sh was read (${scriptSecrets.length})`,
      );
    },
    mistakes: {
      'appproxy using a secret nobody makes': (copy) =>
        (service('appproxy', copy)['secrets'] = [...secretsOf(service('appproxy', copy)), 'etcd_admin_token']),
    },
  },
  {
    desc: "appproxy and etcd-setup read etcd's password, CA and certificate from secrets, never from the stack's text",
    check(from) {
      for (const name of ['appproxy', 'etcd-setup']) {
        const env = environment(service(name, from));
        assert.equal(
          env['APPPROXY_ETCD_PASSWORD'],
          undefined,
          `${name} has APPPROXY_ETCD_PASSWORD in its environment: anyone who can inspect the service reads it; use APPPROXY_ETCD_PASSWORD_FILE`,
        );
        assert.match(
          env['APPPROXY_ETCD_PASSWORD_FILE'] ?? '',
          /^\/run\/secrets\//,
          `${name}'s password file is not a Docker secret`,
        );
        for (const variable of ['APPPROXY_ETCD_CA', 'APPPROXY_ETCD_CERT', 'APPPROXY_ETCD_KEY'])
          assert.match(env[variable] ?? '', /^\/run\/secrets\//, `${name}'s ${variable} is not a Docker secret`);
      }
    },
    mistakes: {
      'a password in the environment': (copy) =>
        ((service('appproxy', copy)['environment'] as Record<string, string>)['APPPROXY_ETCD_PASSWORD'] = 'hunter2'),
      'appproxy without a client certificate': (copy) =>
        delete (service('appproxy', copy)['environment'] as Record<string, string>)['APPPROXY_ETCD_CERT'],
    },
  },
  {
    desc: 'Traefik reads etcd over TLS with its certificate, and no password in its command line',
    check(from) {
      const flags = traefikFlags(from);
      for (const flag of ['providers.etcd.tls.ca', 'providers.etcd.tls.cert', 'providers.etcd.tls.key'])
        assert.match(flags.get(flag) ?? '', /^\/run\/secrets\//, `Traefik's --${flag} is not a Docker secret`);
      assert.equal(
        flags.get('providers.etcd.password'),
        undefined,
        "Traefik's etcd password is in its command line, which `docker service inspect` shows",
      );
    },
    mistakes: {
      'Traefik without TLS': (copy) =>
        (service('traefik', copy)['command'] = (service('traefik', copy)['command'] as string[]).filter(
          (flag) => !flag.includes('etcd.tls'),
        )),
      'Traefik with a password flag': (copy) =>
        (service('traefik', copy)['command'] = [
          ...(service('traefik', copy)['command'] as string[]),
          '--providers.etcd.password=secret',
        ]),
    },
  },
  {
    desc: 'appproxy and its docker-proxy run on every node (global), etcd-setup runs once',
    check(from) {
      for (const name of ['appproxy', 'docker-proxy'])
        assert.equal(
          (service(name, from)['deploy'] as Record<string, unknown>)['mode'],
          'global',
          `${name} is not global: nodes without it route none of their containers`,
        );
      assert.notEqual(
        (service('etcd-setup', from)['deploy'] as Record<string, unknown>)['mode'],
        'global',
        'etcd-setup is global: it would run on every node',
      );
      assert.equal(
        ((service('etcd-setup', from)['deploy'] as Record<string, Record<string, unknown>>)['restart_policy'] ?? {})[
          'condition'
        ],
        'on-failure',
        'etcd-setup restarts after success',
      );
    },
    mistakes: {
      'appproxy as one replica': (copy) =>
        ((service('appproxy', copy)['deploy'] as Record<string, unknown>)['mode'] = 'replicated'),
      'etcd-setup restarted forever': (copy) =>
        ((service('etcd-setup', copy)['deploy'] as Record<string, Record<string, unknown>>)['restart_policy'] = {
          condition: 'any',
        }),
    },
  },
];

for (const entry of securedChecks) {
  test(`stack file (secured): ${entry.desc}`, () => {
    entry.check(stack);
    for (const [mistake, make] of Object.entries(entry.mistakes)) {
      const copy = structuredClone(stack);
      make(copy);
      assert.throws(() => entry.check(copy), assert.AssertionError, `the check misses a stack where ${mistake}`);
    }
  });
}

test('etcd-cluster.yml: three members, each with TLS to clients and peers, forming one cluster of exactly themselves, each secret declared by the main stack', () => {
  const check = (from: Stack) => {
    const members = Object.keys(from.services)
      .filter((name) => /^etcd(-\d)?$/.test(name))
      .sort();
    assert.deepEqual(members, ['etcd', 'etcd-2', 'etcd-3'], 'the three members');
    for (const name of members) {
      const entry = service(name, from);
      checkEtcdMember(name, entry, true);
      const flags = flagsOf(entry);
      assert.equal(flags.get('name'), name, `${name}'s member name`);
      const cluster = (flags.get('initial-cluster') ?? '').split(',').sort();
      assert.deepEqual(
        cluster,
        members.map((member) => `${member}=https://${member}:2380`).sort(),
        `${name}'s --initial-cluster`,
      );
      for (const secret of secretsOf(entry))
        assert.ok(
          (stack as Stack & { secrets?: Record<string, unknown> }).secrets?.[secret] !== undefined,
          `${name} uses secret ${secret}, which the main stack does not declare`,
        );
      const constraints =
        ((entry['deploy'] as Record<string, Record<string, string[]>>)['placement'] ?? {})['constraints'] ?? [];
      assert.ok(
        constraints.some((constraint) =>
          constraint.includes(`node.labels.appproxy.${name === 'etcd' ? 'etcd-1' : name}`),
        ),
        `${name} is not pinned to its own manager by a node label (its data is on that node's volume)`,
      );
    }
  };
  check(clusterFile);
  const plainPeers = structuredClone(clusterFile);
  (service('etcd-2', plainPeers)['command'] as string[]).push('--listen-peer-urls=http://0.0.0.0:2380');
  assert.throws(
    () => check(plainPeers),
    assert.AssertionError,
    'the check misses a member that talks to its peers without TLS',
  );
  const anyPeer = structuredClone(clusterFile);
  service('etcd', anyPeer)['command'] = (service('etcd', anyPeer)['command'] as string[]).filter(
    (flag) => !flag.startsWith('--peer-cert-allowed-cn'),
  );
  assert.throws(
    () => check(anyPeer),
    assert.AssertionError,
    "the check misses a member that takes a client's certificate as a peer's",
  );
  const stray = structuredClone(clusterFile);
  (service('etcd-3', stray)['command'] as string[]).push('--initial-cluster=etcd=https://etcd:2380');
  assert.throws(() => check(stray), assert.AssertionError, 'the check misses a member with another initial cluster');
});

// stacks/redis-store.yml, deployed over the main file: etcd scaled away, Traefik on Redis without
// a password in its flags, Redis with notifications and a read-only default user, appproxy's
// password from a secret the script makes.
const REDIS_OVERLAY = parseYaml(
  readFileSync(new URL('../../stacks/redis-store.yml', import.meta.url).pathname, 'utf8'),
) as Stack;

function checkRedisOverlay(from: Stack): void {
  for (const name of ['etcd', 'etcd-setup'])
    assert.equal(
      (service(name, from)['deploy'] as Record<string, unknown> | undefined)?.['replicas'],
      0,
      `${name} still runs beside Redis`,
    );
  const traefik = (service('traefik', from)['command'] as string[]).join(' ');
  assert.match(traefik, /--providers\.redis\.endpoints=store:6379/);
  assert.doesNotMatch(traefik, /providers\.etcd/, 'Traefik still reads etcd');
  assert.doesNotMatch(
    traefik,
    /password/i,
    "a password in Traefik's flags is visible to anyone who may inspect the service",
  );
  const store = (service('store', from)['command'] as string[]).join('\n');
  assert.match(
    store,
    /--notify-keyspace-events KEA/,
    "without keyspace notifications Traefik's Redis provider never hears a change",
  );
  // Traefik's (default) user: the commands Traefik's Redis provider sends and nothing else (no KEYS,
  // PUBLISH, CLIENT or CONFIG), its keys and its notification pattern only.
  const traefikUser = /user default on nopass resetchannels (\S+) (\S+) -@all ((?:\+[a-z|]+ ?)+)\\n/.exec(store);
  assert.ok(traefikUser !== null, `the default user's ACL line: ${store}`);
  assert.equal(traefikUser[1], '~traefik*', "Traefik's user reads the root key's keys alone");
  assert.equal(traefikUser[2], '&__keyspace*:traefik*', "Traefik's user listens to the root key's notifications alone");
  assert.deepEqual(
    traefikUser[3]?.trim().split(' ').sort(),
    ['+exists', '+get', '+hello', '+mget', '+ping', '+psubscribe', '+punsubscribe', '+scan'],
    'the default user (Traefik) may only read and listen',
  );
  // appproxy's user: its scripts and the commands they call, on its keys (issue 26, point 4): no
  // FLUSHALL, CONFIG, ACL, KEYS or CLIENT, nothing outside the root key and its bookkeeping.
  const appproxyUser = /user appproxy on >%s resetchannels (\S+) (\S+) (\S+) -@all ((?:\+[a-z|]+ ?)+)\\n/.exec(store);
  assert.ok(appproxyUser !== null, `appproxy's ACL line: ${store}`);
  assert.deepEqual(
    [appproxyUser[1], appproxyUser[2], appproxyUser[3]],
    ['~traefik*', '~appproxy/*', '&__keyspace@0__:appproxy/store/notify-probe'],
    "appproxy's user: the root key's keys and its own, and its notification probe's channel",
  );
  const granted = appproxyUser[4]?.trim().split(' ') ?? [];
  for (const command of ['+eval', '+xread', '+get']) assert.ok(granted.includes(command), `appproxy needs ${command}`);
  for (const command of granted)
    assert.ok(
      !/^\+(@|flushall|flushdb|config|acl|keys|client|scan|publish|shutdown|debug|module|script)/.test(command),
      `appproxy's user need not ${command}`,
    );
  assert.match(store, /cat \/run\/secrets\/redis_appproxy_password/, "appproxy's password comes from its secret");
  const environment = service('appproxy', from)['environment'] as Record<string, string>;
  assert.equal(environment['APPPROXY_STORE'], 'redis');
  assert.equal(environment['APPPROXY_REDIS_PASSWORD_FILE'], '/run/secrets/redis_appproxy_password');
  assert.equal(environment['APPPROXY_REDIS_PASSWORD'], undefined, 'a password in the environment');
  const declared = (from as unknown as { secrets: Record<string, { external?: boolean; name?: string }> }).secrets;
  assert.equal(declared['redis_appproxy_password']?.external, true);
  assert.equal(declared['redis_appproxy_password']?.name, '${SECRET_PREFIX:-appproxy}_redis_appproxy_password');
  assert.ok(scriptSecrets.includes('redis_appproxy_password'), 'scripts/stack-secrets.sh makes the Redis password');
}

test('stack file: the Redis overlay scales etcd away, points Traefik at Redis without a password, and secures Redis', () => {
  checkRedisOverlay(REDIS_OVERLAY);
});

/** The store's command line with `from` made `to` (a row whose `from` is missing changes nothing, and fails). */
function editStore(copy: Stack, from: string, to: string): void {
  const command = service('store', copy)['command'] as string[];
  command[0] = command[0]?.replace(from, to) ?? '';
}

const redisMistakes: Readonly<Record<string, (copy: Stack) => void>> = {
  'etcd left running': (copy) => delete (service('etcd', copy) as Record<string, unknown>)['deploy'],
  "a password in Traefik's flags": (copy) =>
    (service('traefik', copy)['command'] as string[]).push('--providers.redis.password=secret'),
  'notifications off': (copy) => editStore(copy, '--notify-keyspace-events KEA', ''),
  'a default user that may write': (copy) => editStore(copy, '-@all +hello', '+@all +hello'),
  'a default user that may pause clients and publish (the review)': (copy) =>
    editStore(copy, '+hello', '+hello +@connection +@pubsub'),
  'a default user that may listen anywhere': (copy) => editStore(copy, '&__keyspace*:traefik*', '&*'),
  "appproxy's user with every command (the review)": (copy) =>
    editStore(
      copy,
      '~appproxy/* &__keyspace@0__:appproxy/store/notify-probe -@all',
      '~appproxy/* &__keyspace@0__:appproxy/store/notify-probe -@all +@all',
    ),
  "appproxy's user that may flush": (copy) => editStore(copy, '+xread', '+xread +flushall'),
  'the password in the environment': (copy) =>
    ((service('appproxy', copy)['environment'] as Record<string, string>)['APPPROXY_REDIS_PASSWORD'] = 'x'),
};
for (const [mistake, make] of Object.entries(redisMistakes)) {
  test(`stack file: the Redis overlay check catches ${mistake}`, () => {
    const copy = structuredClone(REDIS_OVERLAY);
    make(copy);
    assert.throws(() => checkRedisOverlay(copy));
  });
}

// stacks/apps.yml is deployed over stacks/appproxy.yml. A list (Traefik's command) replaces the
// base file's list when files are merged: the overlay must repeat every flag of the base, and its
// entry points must be exactly those `appproxy traefik-entrypoints` gives for appproxy's settings.
const APPS_PATH = new URL('../../stacks/apps.yml', import.meta.url).pathname;
const appsStack = parseYaml(readFileSync(APPS_PATH, 'utf8')) as Stack;

test('apps stack: Traefik keeps every flag of the base stack, declares the apps entry points of appproxy settings, and publishes no metrics', () => {
  const base = traefikFlags();
  const overlay = traefikFlags(appsStack);
  for (const [flag, value] of base) assert.equal(overlay.get(flag), value, `the overlay keeps --${flag}=${value}`);
  const env = service('appproxy', appsStack)['environment'] as Record<string, string>;
  const range = parsePortRange(env['APPPROXY_APP_PORT_RANGE'] ?? '');
  assert.ok(range.ok, 'APPPROXY_APP_PORT_RANGE is a range');
  const wildcardDomain = (env['APPPROXY_APP_WILDCARD_DOMAIN'] ?? '').replace(/^\$\{[A-Z_]+:-(.*)\}$/, '$1');
  const expected = staticEntryPoints({
    ...defaultAppOptions,
    portRange: range.value,
    wildcardDomain,
    wildcardPort: Number(env['APPPROXY_APP_WILDCARD_PORT']),
  });
  const ports = entryPointPorts(appsStack);
  for (const entryPoint of expected)
    assert.equal(
      ports.get(entryPoint.name.toLowerCase()),
      Number(entryPoint.address.slice(1)),
      `Traefik declares ${entryPoint.name} on ${entryPoint.address}`,
    );
  const appEntryPoints = [...ports.keys()].filter(
    (name) => !base.has(`entrypoints.${name}.address`) && name !== 'metrics',
  );
  assert.equal(appEntryPoints.length, expected.length, 'no other app entry point');
  const published = publishedTargets(service('traefik', appsStack));
  for (const entryPoint of expected)
    assert.ok(published.includes(Number(entryPoint.address.slice(1))), `${entryPoint.name} is published`);
  assert.ok(!published.includes(ports.get('metrics') ?? -1), 'the metrics entry point stays on the control network');
  assert.equal(overlay.get('metrics.prometheus.entrypoint'), 'metrics');
  assert.match(env['APPPROXY_TRAEFIK_METRICS_URLS'] ?? '', /:8082\/metrics/, 'appproxy reads the metrics entry point');
});

test('apps stack: one example app of each kind, declared with apps labels on the demo network', () => {
  const labels = (name: string) =>
    ((service(name, appsStack)['deploy'] as Record<string, unknown>)['labels'] ?? {}) as Record<string, string>;
  assert.equal(labels('app-http')['appproxy.apps.web.port'], '80');
  assert.equal(labels('app-http')['appproxy.apps.site.frontend'], 'wildcard');
  assert.equal(labels('app-echo')['appproxy.apps.echo.protocol'], 'tcp');
  for (const name of ['app-http', 'app-echo']) assert.deepEqual(service(name, appsStack)['networks'], ['demo']);
});

// Traefik checks for new versions and reports anonymous usage unless told not to: a proxy should
// reach only what it routes to (here such calls would also leave the machine).
test('every shipped Traefik is told not to call home (version check, anonymous usage)', () => {
  const files = ['appproxy.yml', 'compose.yml', 'redis-store.yml', 'apps.yml'];
  const callsHome = (command: unknown): boolean =>
    !(
      Array.isArray(command) &&
      command.includes('--global.checkNewVersion=false') &&
      command.includes('--global.sendAnonymousUsage=false')
    );
  for (const file of files) {
    const parsed = parseYaml(readFileSync(new URL(`../../stacks/${file}`, import.meta.url).pathname, 'utf8')) as Stack;
    const traefiks = Object.entries(parsed.services).filter(([name]) => name.startsWith('traefik'));
    assert.ok(traefiks.length > 0, `${file} has a Traefik`);
    for (const [name, service] of traefiks)
      assert.equal(callsHome(service['command']), false, `${file}: ${name} calls home`);
  }
  // The control: a command without the flags is caught.
  assert.equal(callsHome(['--entrypoints.web.address=:80']), true);
});

// The overrides (redis-store.yml, apps.yml) replace Traefik's whole command: each must keep the
// API closed (stacks/traefik/api.yml) rather than fall back to api.insecure.
test('every shipped Traefik serves its API through stacks/traefik/api.yml, never api.insecure', () => {
  const files = ['appproxy.yml', 'compose.yml', 'redis-store.yml', 'apps.yml'];
  const open = (command: unknown): boolean =>
    !Array.isArray(command) ||
    command.some((argument) => /^--api\.insecure(=true)?$/i.test(String(argument))) ||
    !command.includes('--providers.file.filename=/etc/traefik/api.yml');
  for (const file of files) {
    const parsed = parseYaml(readFileSync(new URL(`../../stacks/${file}`, import.meta.url).pathname, 'utf8')) as Stack;
    const traefiks = Object.entries(parsed.services).filter(([name]) => name.startsWith('traefik'));
    assert.ok(traefiks.length > 0, `${file} has a Traefik`);
    for (const [name, service] of traefiks)
      assert.equal(open(service['command']), false, `${file}: ${name}'s API is open`);
  }
  // The control: api.insecure is caught.
  assert.equal(open(['--api.insecure=true', '--providers.file.filename=/etc/traefik/api.yml']), true);
});

test("stacks: appproxy's --etcd-max-txn-ops is every etcd member's --max-txn-ops (a pass is one transaction, one watch event for Traefik)", () => {
  const files: [string, Stack, string][] = [
    ['appproxy.yml', stack, 'etcd'],
    ['compose.yml', composeFile, 'etcd'],
    ['etcd-cluster.yml', clusterFile, 'etcd'],
    ['etcd-cluster.yml', clusterFile, 'etcd-2'],
    ['etcd-cluster.yml', clusterFile, 'etcd-3'],
  ];
  const wanted = environment(service('appproxy'))['APPPROXY_ETCD_MAX_TXN_OPS'];
  assert.ok(
    wanted !== undefined && Number(wanted) > 128,
    `appproxy.yml sets APPPROXY_ETCD_MAX_TXN_OPS above 128: ${wanted}`,
  );
  assert.equal(environment(service('appproxy', composeFile))['APPPROXY_ETCD_MAX_TXN_OPS'], wanted, 'compose.yml');
  for (const [file, from, name] of files)
    assert.ok(
      command(name, from).includes(`--max-txn-ops=${wanted}`),
      `${file}: ${name} runs with --max-txn-ops=${wanted}`,
    );
});
