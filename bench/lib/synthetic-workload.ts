import type { Workload } from '../../src/core/workload.ts';
import { container } from '../../test/support/workloads.ts';

/**
 * Workload i: the labels a typical Compose service of the demo's kind carries. Its id follows `i`
 * alone, so workloads of different prefixes need different `i` too.
 */
export function syntheticWorkload(i: number, prefix = 'app'): Workload {
  const name = `${prefix}-${i}`;
  const third = (i >> 8) & 255;
  return container({
    name,
    id: `${i.toString(16).padStart(12, '0')}${'0'.repeat(52)}`,
    networks: [{ name: 'apps', ip: `10.${(i >> 16) & 255}.${third}.${i & 255}` }],
    ports: [{ name: '8080/tcp', bindings: [] }],
    labels: {
      'com.docker.compose.project': 'bench',
      'com.docker.compose.service': name,
      'com.docker.compose.container-number': '1',
      'appproxy.enable': 'true',
      [`appproxy.http.routers.${name}.rule`]: `Host(\`${name}.example.test\`) && PathPrefix(\`/api\`)`,
      [`appproxy.http.routers.${name}.entrypoints`]: 'web',
      [`appproxy.http.routers.${name}.middlewares`]: `${name}-strip`,
      [`appproxy.http.middlewares.${name}-strip.stripprefix.prefixes`]: '/api',
      [`appproxy.http.services.${name}.loadbalancer.server.port`]: '8080',
      [`appproxy.http.services.${name}.loadbalancer.sticky.cookie.name`]: `${name}_sticky`,
    },
  });
}
