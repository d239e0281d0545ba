import { readFile, writeFile } from 'node:fs/promises';

export interface WriteKubeconfigOptions {
  path: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  caCertPath: string;
  clientCertPath: string;
  clientKeyPath: string;
  /** Cluster, user and context name. Default `tsmesh-testenv`. */
  name?: string;
  userName?: string;
}

/**
 * Writes a kubeconfig with the CA, client certificate and key embedded (base64 `*-data` fields),
 * so it stays valid wherever it is copied and both kubectl and @kubernetes/client-node read it.
 */
export async function writeKubeconfig(options: WriteKubeconfigOptions): Promise<void> {
  const name = options.name ?? 'tsmesh-testenv';
  const user = options.userName ?? 'admin';
  const [ca, cert, key] = await Promise.all(
    [options.caCertPath, options.clientCertPath, options.clientKeyPath].map(async (p) =>
      (await readFile(p)).toString('base64'),
    ),
  );
  // JSON is valid YAML; kubectl and client-node both accept it.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': ca } }],
    users: [{ name: user, user: { 'client-certificate-data': cert, 'client-key-data': key } }],
    contexts: [{ name, context: { cluster: name, user } }],
    'current-context': name,
    preferences: {},
  };
  await writeFile(options.path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
