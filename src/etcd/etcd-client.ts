import { readFileSync } from 'node:fs';
import { handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError, type IOptions } from 'etcd3';
import type { DaemonConfig } from '../config/settings.ts';
import { isEtcdFull } from './etcd-full.ts';
import { boundedTarget } from './grpc-name-resolver.ts';
import { memberPolicy } from './member-policy.ts';

/**
 * etcd3 counts every RESOURCE_EXHAUSTED answer as a failing host, and "database space exceeded" is
 * one: by default it retried the refused write three times, which opened the host's circuit
 * breaker, so that for 5 s every call, reads and lease grants included, failed with "Execution
 * prevented because the circuit breaker is open" instead of etcd's own answer. A full etcd
 * answers; only a host that does not counts against it. etcd3's defaults otherwise.
 */
function hostFailed(error: Error): boolean {
  return isRecoverableError(error) && !isEtcdFull(error);
}

/** gRPC pings on open streams (see etcdFromConfig): a cut-off member is left within about 9 s. */
const KEEPALIVE_TIME_MS = 6000;
const KEEPALIVE_TIMEOUT_MS = 3000;

/** An etcd client from the configuration: endpoints, user and password, TLS with a CA and a client certificate. */
export function etcdFromConfig(etcd: Omit<DaemonConfig['etcd'], 'maxTxnOps'>): Etcd3 {
  const tls =
    etcd.ca !== undefined ||
    etcd.cert !== undefined ||
    etcd.endpoints.some((endpoint) => endpoint.startsWith('https://'));
  // Each member's name resolves through the bounded resolver (grpc-name-resolver.ts); TLS is
  // chosen by the credentials below, not by an https:// prefix.
  const hosts = etcd.endpoints.map((endpoint) => boundedTarget(endpoint.replace(/^https?:\/\//, '')));
  // gRPC's default 4 MiB limit on a received message is reached by the snapshot read at about
  // 4,000 routed workloads; etcd itself sends responses of any size, so the client takes them too.
  // Every unary call gets a deadline, so that an etcd that accepts connections and never answers
  // turns into an error (and not-ready) instead of a wait without end. Streams (watches, lease
  // keep-alives, the election's wait for the key before ours to go) have none: they are meant to
  // stay open. A member cut off by a partition drops packets without closing anything, and such a
  // stream would wait for ever (seen on three nodes: a Swarm writer candidate waited for a delete
  // its watch, on the cut member, never got, and no instance was elected). So gRPC pings while a
  // stream is open: an unanswered ping ends the connection, and etcd3 resumes its streams on
  // another member. 6 s apart: etcd refuses pings more often than every 5 s
  // (--grpc-keepalive-min-time), and does not permit them without a stream.
  const limitMs = etcd.timeoutSeconds * 1000;
  const options: IOptions = {
    hosts,
    dialTimeout: Math.min(3000, limitMs),
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      'grpc.keepalive_permit_without_calls': 0,
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + limitMs }),
    faultHandling: {
      host: () => memberPolicy(hosts.length, hostFailed),
      global: retry(handleWhen(hostFailed), { maxAttempts: 3 }),
    },
  };
  if (etcd.username !== undefined && etcd.password !== undefined)
    options.auth = { username: etcd.username, password: etcd.password };
  if (tls) {
    options.credentials = {
      // Without a CA file, gRPC falls back to the system's roots (it takes null for that).
      rootCertificate: etcd.ca === undefined ? (null as unknown as Buffer) : readFileSync(etcd.ca),
      ...(etcd.cert !== undefined && etcd.key !== undefined
        ? { certChain: readFileSync(etcd.cert), privateKey: readFileSync(etcd.key) }
        : {}),
    };
  }
  return new Etcd3(options);
}
