// linkerd.io ServiceProfile: per-route metrics, retries, timeouts and traffic overrides for a
// service named by its FQDN. v1alpha2 is stored; v1alpha1 (which required `routes`) is served.
import { QUANTITY } from './common-schemas.js';
import { defineCrd, type CustomResourceDefinition } from './crd.js';
import {
  array,
  boolean,
  freeformObject,
  int32,
  intOrString,
  number,
  object,
  string,
  type JsonSchemaProps,
} from './json-schema.js';

export const LINKERD_GROUP = 'linkerd.io';

function requestMatch(): JsonSchemaProps {
  return object(
    {
      pathRegex: string({ description: 'Regular expression the whole path must match.' }),
      method: string({ description: 'HTTP method.' }),
      all: array(freeformObject(), { description: 'Conditions that must all match.' }),
      any: array(freeformObject(), { description: 'Conditions of which one must match.' }),
      // Linkerd's chart declares this as a list, while its Go type (and the documentation) use a
      // single condition; a list never decoded in Linkerd's controller, so we accept the object.
      not: freeformObject({ description: 'A condition that must not match.' }),
    },
    { description: 'When a request belongs to this route.' },
  );
}

function responseClass(): JsonSchemaProps {
  return object(
    {
      condition: object(
        {
          all: array(freeformObject(), { description: 'Conditions that must all match.' }),
          any: array(freeformObject(), { description: 'Conditions of which one must match.' }),
          not: freeformObject({ description: 'A condition that must not match.' }),
          status: object(
            {
              min: int32({ description: 'Lowest status code.' }),
              max: int32({ description: 'Highest status code.' }),
            },
            { description: 'A range of HTTP status codes.' },
          ),
        },
        { description: 'Which responses belong to this class.' },
      ),
      isFailure: boolean({ description: 'Responses of this class count as failures.' }),
    },
    { required: ['condition'] },
  );
}

function spec(routesRequired: boolean): JsonSchemaProps {
  return object(
    {
      routes: array(
        object(
          {
            name: string({ description: 'Route name, used as the `route` metric label.' }),
            condition: requestMatch(),
            responseClasses: array(responseClass(), { description: 'How responses are classified.' }),
            isRetryable: boolean({ description: 'Failed requests on this route may be retried.' }),
            timeout: string({ description: 'Request timeout, a Go duration such as 500ms.' }),
          },
          { required: ['condition', 'name'] },
        ),
        { description: 'The routes of this service.' },
      ),
      retryBudget: object(
        {
          retryRatio: number({ format: 'float', description: 'Retries allowed per original request.' }),
          minRetriesPerSecond: int32({ description: 'Retries always allowed per second.' }),
          ttl: string({ description: 'Window over which the ratio is computed, a Go duration.' }),
        },
        {
          required: ['minRetriesPerSecond', 'retryRatio', 'ttl'],
          description: 'Limits retries to this service.',
        },
      ),
      dstOverrides: array(
        object(
          {
            authority: string({ description: 'Destination authority (host:port).' }),
            weight: intOrString({
              pattern: QUANTITY,
              description: 'Relative weight, a quantity such as 500m or 1.',
            }),
          },
          { required: ['authority', 'weight'] },
        ),
        { description: 'Send traffic to these destinations instead, by weight.' },
      ),
      opaquePorts: array(string(), { description: 'Ports proxied without protocol detection.' }),
    },
    {
      required: routesRequired ? ['routes'] : undefined,
      description: 'How to treat traffic to this service.',
    },
  );
}

export function serviceProfileCrd(): CustomResourceDefinition {
  return defineCrd({
    group: LINKERD_GROUP,
    kind: 'ServiceProfile',
    plural: 'serviceprofiles',
    shortNames: ['sp'],
    versions: [
      { name: 'v1alpha1', spec: spec(true), specRequired: false },
      { name: 'v1alpha2', storage: true, spec: spec(false), specRequired: false },
    ],
  });
}
