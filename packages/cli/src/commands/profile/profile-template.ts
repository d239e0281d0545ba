// `tsmesh profile --template SERVICE`: a ServiceProfile to edit, with every field a route can use
// explained in comments (the same fields as linkerd's template; the wording is tsmesh's).
import type { ProfileTarget } from './service-profile.js';

export function profileTemplate(target: ProfileTarget): string {
  const { service, namespace, clusterDomain } = target;
  return `### ServiceProfile for ${service}.${namespace} ###
apiVersion: linkerd.io/v1alpha2
kind: ServiceProfile
metadata:
  # The destination service finds a profile by the Service's fully qualified name, in the
  # Service's namespace.
  name: ${service}.${namespace}.svc.${clusterDomain}
  namespace: ${namespace}
spec:
  # Routes group requests for per-route metrics, retries and timeouts. A request belongs to the
  # first route whose condition it matches.
  routes:
  - name: '/authors/{id}'
    # Every route needs a condition. Fields given together must all match.
    condition:
      # A regular expression over the whole path.
      pathRegex: '/authors/\\d+'
      # The HTTP method.
      method: POST
      # Conditions nest with all, any and not, for example:
      # any:
      # - all:
      #   - method: POST
      #   - pathRegex: '/authors/\\d+'
      # - not:
      #     method: DELETE
    # Optional: how responses of this route are classified. The first matching class wins;
    # without one, 5xx responses are failures.
    responseClasses:
    - condition:
        # A range of HTTP status codes; give only min (or max) for a single code.
        status:
          min: 500
          max: 599
        # Response conditions nest with all, any and not too:
        # all:
        # - status:
        #     min: 500
        #     max: 599
        # - not:
        #     status:
        #       min: 503
      # Whether responses of this class count as failures (success rate, retries).
      isFailure: true
    # Optional: retry failed requests of this route (within the retry budget below).
    # isRetryable: true
    # Optional: give up on a request of this route after this long.
    # timeout: 300ms
  # Optional: how many retries the service may add, as a fraction of its requests.
  # retryBudget:
  #   retryRatio: 0.2
  #   minRetriesPerSecond: 10
  #   ttl: 10s
`;
}
