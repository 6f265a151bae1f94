/**
 * Label cases for the Swarm parity test: each Swarm service carries the same labels under `traefik.`
 * (read by Traefik's own Swarm provider) and `appproxy.` (read by appproxy) in its service labels,
 * as `deploy.labels` of a stack file gives them. Every resource name contains the case id.
 */
export type SwarmParityNetwork = 'swp-a' | 'swp-b';

export interface SwarmParityService {
  readonly name: string;
  /** Label suffixes, written under both prefixes into the service labels. */
  readonly labels?: Record<string, string>;
  /** Service labels written as they are (a stack namespace, a constraint's label). */
  readonly raw?: Record<string, string>;
  /** Label suffixes written under both prefixes into the labels of its containers (`labels:` outside `deploy:`). */
  readonly containerLabels?: Record<string, string>;
  /** Replicas (default 1); `global` runs one task a node. */
  readonly replicas?: number | 'global';
  /** Default: swp-a. */
  readonly networks?: readonly SwarmParityNetwork[];
  /** `healthy`: a check that passes at once; `starting`: a check whose first run is a minute away. */
  readonly health?: 'healthy' | 'starting';
  /** Endpoint mode `vip` (a virtual IP on each network); default `dnsrr`. */
  readonly vip?: boolean;
}

export interface SwarmParityCase {
  readonly id: string;
  readonly desc: string;
  readonly services: readonly SwarmParityService[];
  /** Traefik routes nothing of this case (an empty result is the expected one, not a failed set-up). */
  readonly routesNothing?: boolean;
  /** A text appproxy must report for the case (a warning or an error naming the fix). */
  readonly reports?: string;
  /**
   * A service (as the views name it, `services/w01-s`) whose servers must be exactly the running
   * tasks' addresses on that network, with that port: what Traefik's Swarm provider is checked
   * against before appproxy is checked against Traefik.
   */
  readonly servers?: { readonly resource: string; readonly network: SwarmParityNetwork; readonly port: number };
}

const on = { enable: 'true' };
const port = (service: string, value = '80') => ({ [`http.services.${service}.loadbalancer.server.port`]: value });

export const swarmParityCases: readonly SwarmParityCase[] = [
  {
    id: 'w01',
    desc: 'two replicas: one server per running task, at its address on the network',
    servers: { resource: 'services/w01-s', network: 'swp-a', port: 80 },
    services: [
      { name: 'w01-web', replicas: 2, labels: { ...on, 'http.routers.w01-r.rule': 'Host(`w01`)', ...port('w01-s') } },
    ],
  },
  {
    id: 'w02',
    desc: 'lbswarm=true: one server, the service VIP',
    services: [
      {
        name: 'w02-web',
        replicas: 2,
        vip: true,
        labels: { ...on, 'swarm.lbswarm': 'true', 'http.routers.w02-r.rule': 'Host(`w02`)', ...port('w02-s') },
      },
    ],
  },
  {
    id: 'w03',
    desc: 'a stack namespace: the default names and rule come from the service name',
    services: [
      {
        name: 'w03stack_web',
        raw: { 'com.docker.stack.namespace': 'w03stack' },
        labels: { ...on, ...port('web-w03') },
      },
    ],
  },
  {
    id: 'w04',
    desc: 'two networks, the second chosen by swarm.network',
    servers: { resource: 'services/w04-s', network: 'swp-b', port: 80 },
    services: [
      {
        name: 'w04-web',
        networks: ['swp-a', 'swp-b'],
        labels: { ...on, 'swarm.network': 'swp-b', 'http.routers.w04-r.rule': 'Host(`w04`)', ...port('w04-s') },
      },
    ],
  },
  {
    id: 'w05',
    desc: 'the demo shape: sticky cookie and stripPrefix over two replicas',
    servers: { resource: 'services/w05-s', network: 'swp-a', port: 5000 },
    services: [
      {
        name: 'w05-chat',
        replicas: 2,
        labels: {
          ...on,
          'http.routers.w05-r.rule': 'PathPrefix(`/w05`)',
          'http.routers.w05-r.entrypoints': 'web',
          'http.routers.w05-r.middlewares': 'w05-strip',
          'http.middlewares.w05-strip.stripprefix.prefixes': '/w05',
          'http.services.w05-s.loadbalancer.sticky.cookie.name': 'w05_sticky',
          'http.services.w05-s.loadbalancer.sticky.cookie.samesite': 'lax',
          'http.services.w05-s.loadbalancer.sticky.cookie.httponly': 'true',
          ...port('w05-s', '5000'),
        },
      },
    ],
  },
  {
    id: 'w06',
    desc: 'a health check that passes: the task runs and is routed',
    services: [
      {
        name: 'w06-web',
        health: 'healthy',
        labels: { ...on, 'http.routers.w06-r.rule': 'Host(`w06`)', ...port('w06-s') },
      },
    ],
  },
  {
    id: 'w07',
    desc: 'a health check not yet passed: the task is starting, not running, and nothing is routed',
    routesNothing: true,
    services: [
      {
        name: 'w07-web',
        health: 'starting',
        labels: { ...on, 'http.routers.w07-r.rule': 'Host(`w07`)', ...port('w07-s') },
      },
    ],
  },
  {
    id: 'w08',
    desc: 'global mode: one task a node',
    services: [
      {
        name: 'w08-agent',
        replicas: 'global',
        labels: { ...on, 'http.routers.w08-r.rule': 'Host(`w08`)', ...port('w08-s', '9100') },
      },
    ],
  },
  {
    id: 'w09',
    desc: 'scaled 1 → 3 → 1 (compared after each step by its own test)',
    services: [{ name: 'w09-web', labels: { ...on, 'http.routers.w09-r.rule': 'Host(`w09`)', ...port('w09-s') } }],
  },
  {
    id: 'w10',
    desc: 'a label changed by docker service update (compared again by its own test)',
    services: [
      { name: 'w10-web', labels: { ...on, 'http.routers.w10-r.rule': 'Host(`w10.before`)', ...port('w10-s') } },
    ],
  },
  {
    id: 'w11',
    desc: 'a TCP router and service',
    services: [
      {
        name: 'w11-db',
        labels: {
          ...on,
          'tcp.routers.w11-r.rule': 'HostSNI(`*`)',
          'tcp.routers.w11-r.entrypoints': 'tcpep',
          'tcp.services.w11-s.loadbalancer.server.port': '6379',
        },
      },
    ],
  },
  {
    id: 'w12',
    desc: 'a UDP router and service',
    services: [
      {
        name: 'w12-dns',
        labels: {
          ...on,
          'udp.routers.w12-r.entrypoints': 'udpep',
          'udp.services.w12-s.loadbalancer.server.port': '53',
        },
      },
    ],
  },
  {
    id: 'w13',
    desc: 'no published port and no port label: an error, nothing routed',
    routesNothing: true,
    reports: 'port is missing',
    services: [{ name: 'w13-web', labels: { ...on, 'http.routers.w13-r.rule': 'Host(`w13`)' } }],
  },
  {
    id: 'w14',
    desc: 'no published port, a port label, no router: the automatic router with the default rule',
    services: [{ name: 'w14-web', labels: { ...on, ...port('w14-web', '8080') } }],
  },
  {
    id: 'w15',
    desc: 'middlewares referenced with @swarm, and a chain',
    services: [
      {
        name: 'w15-web',
        labels: {
          ...on,
          'http.routers.w15-r.rule': 'Host(`w15`)',
          'http.routers.w15-r.middlewares': 'w15-chain@swarm',
          'http.middlewares.w15-chain.chain.middlewares': 'w15-h@swarm,w15-p',
          'http.middlewares.w15-h.headers.customrequestheaders.X-W15': 'yes',
          'http.middlewares.w15-p.addprefix.prefix': '/w15',
          ...port('w15-s'),
        },
      },
    ],
  },
  {
    id: 'w16',
    desc: 'constraints: the service with the excluded label is left out by both',
    services: [
      {
        name: 'w16-in',
        raw: { 'parity.excluded': 'false' },
        labels: { ...on, 'http.routers.w16-in.rule': 'Host(`w16-in`)', ...port('w16-in') },
      },
      {
        name: 'w16-out',
        raw: { 'parity.excluded': 'true' },
        labels: { ...on, 'http.routers.w16-out.rule': 'Host(`w16-out`)', ...port('w16-out') },
      },
    ],
  },
  {
    id: 'w17',
    desc: "two services defining one service identically: merged, with both services' tasks",
    servers: { resource: 'services/w17-s', network: 'swp-a', port: 80 },
    services: ['w17-a', 'w17-b'].map((name) => ({
      name,
      labels: {
        ...on,
        'http.routers.w17-r.rule': 'Host(`w17`)',
        'http.routers.w17-r.service': 'w17-s',
        ...port('w17-s'),
      },
    })),
  },
  {
    id: 'w18',
    desc: 'labels on the containers instead of the service (labels: outside deploy:): not read by either; appproxy warns',
    routesNothing: true,
    reports: 'on its containers, which are not read',
    services: [
      { name: 'w18-web', containerLabels: { ...on, 'http.routers.w18-r.rule': 'Host(`w18`)', ...port('w18-s') } },
    ],
  },
  {
    id: 'w19',
    desc: 'scaled to zero: no task, nothing routed',
    routesNothing: true,
    services: [
      { name: 'w19-web', replicas: 0, labels: { ...on, 'http.routers.w19-r.rule': 'Host(`w19`)', ...port('w19-s') } },
    ],
  },
];
