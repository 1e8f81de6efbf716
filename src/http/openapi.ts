import { z } from 'zod';
import type { RouteSpec } from './route.ts';

// OpenAPI 3.1 generated from the same zod schemas the guard enforces, so the document cannot
// drift from what the API accepts and returns.

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): object {
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' });
}

function parameters(spec: RouteSpec): object[] {
  const out: object[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    if (!schema) continue;
    const s = jsonSchema(schema, 'input') as { properties?: Record<string, object>; required?: string[] };
    for (const [name, prop] of Object.entries(s.properties ?? {})) {
      out.push({ name, in: where, required: where === 'path' || (s.required ?? []).includes(name), schema: prop });
    }
  }
  return out;
}

export function openApiDocument(specs: RouteSpec[], serverUrl: string): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:(\w+)/g, '{$1}');
    const responses: Record<string, object> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      const content: Record<string, object> = r.schema ? { 'application/json': { schema: jsonSchema(r.schema, 'output') } } : {};
      for (const type of r.streams ?? []) content[type] = { schema: { type: 'string' } };
      responses[status] = { description: r.description, ...(Object.keys(content).length ? { content } : {}) };
    }
    responses.default = { description: 'Problem', content: { 'application/problem+json': { schema: problem } } };
    (paths[path] ??= {})[spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      operationId: `${spec.method}${path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(spec.zone === 'anonymous' ? { security: [] } : spec.zone === 'platform' ? { security: [{ platformKey: [] }] } : {}),
      parameters: parameters(spec),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gatehouse management API', version: '1' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'gh_<keyid>_<secret>, an org API key, or a member\'s JWT access token from the issuer' },
        platformKey: { type: 'http', scheme: 'bearer', description: 'ghp_<keyid>_<secret>, a platform API key (`gatehouse platform-keys create`); the /platform routes take it and nothing else does' },
      },
    },
    security: [{ apiKey: [] }],
    paths,
  };
}
