import { AuthenticationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { kubeTest } from '../../src/vitest.js';

kubeTest(
  'TokenRequest issues a ServiceAccount token that TokenReview accepts',
  async ({ kubeConfig, namespace }) => {
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const authn = kubeConfig.makeApiClient(AuthenticationV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'web' } } });

    const audience = 'identity.l5d.io';
    const request = await core.createNamespacedServiceAccountToken({
      name: 'web',
      namespace,
      body: { spec: { audiences: [audience], expirationSeconds: 600 } },
    });
    const token = request.status?.token;
    expect(token).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);

    const review = await authn.createTokenReview({
      body: { spec: { token: token!, audiences: [audience] } },
    });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${namespace}:web`);
    expect(review.status?.user?.groups).toContain(`system:serviceaccounts:${namespace}`);
    expect(review.status?.audiences).toEqual([audience]);

    // The same token for another audience, and a tampered token, are rejected.
    const wrongAudience = await authn.createTokenReview({
      body: { spec: { token: token!, audiences: ['other'] } },
    });
    expect(wrongAudience.status?.authenticated).toBeFalsy();
    const tampered = await authn.createTokenReview({
      body: { spec: { token: `${token!.slice(0, -4)}AAAA` } },
    });
    expect(tampered.status?.authenticated).toBeFalsy();

    // Deleting the ServiceAccount invalidates its tokens (the apiserver looks the account up) —
    // after up to 10 s: kube-apiserver caches successful token authentications for 10 s.
    await core.deleteNamespacedServiceAccount({ name: 'web', namespace });
    await expect
      .poll(
        async () =>
          (await authn.createTokenReview({ body: { spec: { token: token!, audiences: [audience] } } })).status
            ?.authenticated ?? false,
        { timeout: 20_000, interval: 500 },
      )
      .toBe(false);
  },
);
