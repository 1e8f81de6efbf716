import { MAX_RESULTS } from './scim-list.ts';
import { MAX_OPERATIONS } from './scim-patch.ts';
import { ENTERPRISE_SCHEMA, enterpriseDefinition, GROUP_SCHEMA, groupDefinition, LIST_RESPONSE, USER_SCHEMA, userDefinition } from './scim-schemas.ts';

// RFC 7644 §4 discovery: ServiceProviderConfig, ResourceTypes and Schemas, with locations under
// the directory's own base URL (computed per request, never kept on scimmy's global classes).

type Json = Record<string, unknown>;

export function serviceProviderConfig(base: string, documentationUri: string): Json {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description: 'The directory token shown once when the directory was created (Authorization: Bearer).',
      primary: true,
    }],
    maxOperations: MAX_OPERATIONS,
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string): Json[] {
  const type = (id: string, endpoint: string, schema: string, extensions: Json[]) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id, name: id, endpoint, description: id, schema, schemaExtensions: extensions,
    meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/${id}` },
  });
  return [
    type('User', '/Users', USER_SCHEMA, [{ schema: ENTERPRISE_SCHEMA, required: false }]),
    type('Group', '/Groups', GROUP_SCHEMA, []),
  ];
}

export function schemas(base: string): Json[] {
  return [userDefinition, groupDefinition, enterpriseDefinition]
    .map((d) => JSON.parse(JSON.stringify(d.describe(`${base}/Schemas`))) as Json);
}

/** RFC 7644 §3.4.2: discovery lists are ListResponses too. */
export function listOf(resources: Json[]): Json {
  return { schemas: [LIST_RESPONSE], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}

export function findById(list: Json[], id: string): Json | undefined {
  return list.find((r) => String(r.id).toLowerCase() === id.toLowerCase());
}
