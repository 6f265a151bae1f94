import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityTracker } from '../../src/activity/activity-tracker.ts';
import { parseTraefikMetrics } from '../../src/activity/traefik-metrics-text.ts';
import type { AppFrontend } from '../../src/core/apps/app-frontends.ts';
import type { AppRecord } from '../../src/core/apps/app-record.ts';
import { formatAppsTable } from '../../src/render/apps-table.ts';

const scrape = (
  requests: number,
  open: number,
  tcpOpen = 0,
) => `# HELP traefik_open_connections How many open connections exist, by entryPoint and protocol
# TYPE traefik_open_connections gauge
traefik_open_connections{entrypoint="portproxy_10205",protocol="TCP"} ${open}
traefik_open_connections{entrypoint="portproxy_10206",protocol="TCP"} ${tcpOpen}
traefik_open_connections{entrypoint="traefik",protocol="TCP"} 3
# TYPE traefik_service_requests_total counter
traefik_service_requests_total{code="200",method="GET",protocol="http",service="app.nb.lab.1a2b3c4d@etcd"} ${requests}
traefik_service_requests_total{code="404",method="GET",protocol="http",service="app.nb.lab.1a2b3c4d@etcd"} 1
traefik_service_requests_total{code="200",method="GET",protocol="http",service="other@docker"} 7
traefik_entrypoint_requests_total{code="200",entrypoint="portproxy_10205",method="GET",protocol="http"} 99
`;

const http: AppFrontend = {
  key: 'container/nb/lab',
  workload: 'nb',
  app: 'lab',
  protocol: 'http',
  mode: 'port',
  entryPoint: 'portproxy_10205',
  port: 10205,
  host: '',
  url: '',
  resourceName: 'app.nb.lab.1a2b3c4d',
  idleTimeoutSeconds: 60,
};
const tcp: AppFrontend = {
  ...http,
  key: 'container/nb/echo',
  app: 'echo',
  protocol: 'tcp',
  entryPoint: 'portproxy_10206',
  port: 10206,
  resourceName: 'app.nb.echo.99999999',
};
const wildcard: AppFrontend = {
  ...http,
  key: 'container/nb/web',
  app: 'web',
  mode: 'wildcard',
  entryPoint: 'domainproxy',
  port: 8443,
  resourceName: 'app.nb.web.00000000',
};

test('traefik metrics: requests per service (without the provider suffix, summed over codes) and open connections per entry point', () => {
  const sample = parseTraefikMetrics(scrape(5, 2));
  assert.equal(sample.serviceRequests.get('app.nb.lab.1a2b3c4d'), 6);
  assert.equal(sample.serviceRequests.get('other'), 7);
  assert.equal(sample.openConnections.get('portproxy_10205'), 2);
  assert.equal(sample.openConnections.get('traefik'), 3);
});

test('activity: a moved request count or an open connection is activity at the scrape; a quiet app keeps its last time', () => {
  const tracker = new ActivityTracker();
  tracker.observe('t1', parseTraefikMetrics(scrape(0, 0)), [http, tcp, wildcard], 1000);
  assert.deepEqual(
    tracker.activity(http),
    { lastActivityMs: 1000, openConnections: 0 },
    'a count above zero at first sight: used before',
  );
  assert.deepEqual(tracker.activity(tcp), { lastActivityMs: undefined, openConnections: 0 });
  assert.deepEqual(
    tracker.activity(wildcard),
    { lastActivityMs: undefined, openConnections: undefined },
    'a shared entry point says nothing of one app',
  );
  tracker.observe('t1', parseTraefikMetrics(scrape(0, 0)), [http, tcp, wildcard], 2000);
  assert.equal(tracker.activity(http)?.lastActivityMs, 1000, 'nothing moved');
  tracker.observe('t1', parseTraefikMetrics(scrape(3, 0)), [http, tcp, wildcard], 3000);
  assert.equal(tracker.activity(http)?.lastActivityMs, 3000, 'requests moved');
  tracker.observe('t1', parseTraefikMetrics(scrape(3, 1, 2)), [http, tcp, wildcard], 4000);
  assert.deepEqual(tracker.activity(http), { lastActivityMs: 4000, openConnections: 1 }, 'an open websocket: active');
  assert.deepEqual(tracker.activity(tcp), { lastActivityMs: 4000, openConnections: 2 }, 'open TCP connections: active');
  tracker.observe('t2', parseTraefikMetrics(scrape(0, 1)), [http, tcp, wildcard], 5000);
  assert.equal(tracker.activity(http)?.openConnections, 2, 'summed over the Traefiks');
  tracker.observe('t1', parseTraefikMetrics(scrape(3, 0)), [tcp], 6000);
  assert.equal(tracker.activity(http)?.lastActivityMs, undefined, 'an app no longer served is forgotten');
});

test('apps table: where each app is reached, its activity and its error', () => {
  const base: AppRecord = {
    identity: 'container/nb/lab',
    workload: 'nb',
    app: 'lab',
    protocol: 'http',
    frontend: 'port',
    entryPoint: 'portproxy_10205',
    port: 10205,
    host: '',
    url: '',
    owner: 'host-a',
    servedSince: '2026-01-01T00:00:00.000Z',
    lastActivity: '2026-01-01T00:00:50.000Z',
    openConnections: 1,
    idleTimeoutSeconds: 60,
    idle: false,
    error: null,
  };
  const text = formatAppsTable(
    [
      base,
      {
        ...base,
        app: 'web',
        url: 'http://web.apps.test:8443/',
        frontend: 'wildcard',
        openConnections: null,
        idle: null,
        lastActivity: null,
      },
      { ...base, app: 'x', port: null, entryPoint: null, error: 'every port is taken' },
    ],
    Date.parse('2026-01-01T00:01:00Z'),
  );
  const lines = text.trimEnd().split('\n');
  assert.match(
    lines[0] ?? '',
    /^WORKLOAD\s+APP\s+PROTO\s+FRONTEND\s+WHERE\s+OWNER\s+LAST ACTIVITY\s+OPEN\s+IDLE\s+ERROR$/,
  );
  assert.match(lines[1] ?? '', /^nb\s+lab\s+http\s+port\s+:10205 \(portproxy_10205\)\s+host-a\s+10s ago\s+1\s+active$/);
  assert.match(lines[2] ?? '', /http:\/\/web\.apps\.test:8443\/\s+host-a\s+-\s+-\s+-$/);
  assert.match(lines[3] ?? '', /every port is taken$/);
});
