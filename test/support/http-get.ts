import { request, type IncomingHttpHeaders } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly body: string;
  readonly setCookie: string[];
  /** Every response header, by lower-case name. */
  readonly headers: IncomingHttpHeaders;
}

/** A GET with node:http (fetch may not set the Host header), bounded by a timeout. */
export function httpGet(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 5000,
): Promise<HttpReply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers, agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body,
          setCookie: response.headers['set-cookie'] ?? [],
          headers: response.headers,
        }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout on ${path}`)));
    req.on('error', reject);
    req.end();
  });
}
