import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** For a component's self-signed serving certificate (kube-controller-manager's). */
  insecureSkipVerify?: boolean;
  timeoutMs?: number;
}

export interface ProbeResult {
  readonly status: number;
  readonly body: string;
}

/** One GET to a loopback health endpoint. Rejects on connection errors and timeouts. */
export function probe(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const u = new URL(url);
  const timeoutMs = options.timeoutMs ?? 2_000;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const req =
      u.protocol === 'https:'
        ? httpsRequest(
            u,
            {
              method: 'GET',
              agent: false,
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              rejectUnauthorized: !options.insecureSkipVerify,
            },
            onResponse,
          )
        : httpRequest(u, { method: 'GET', agent: false }, onResponse);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
