import { apiRoutes } from '../../src/http/routes.ts';
import { client, startApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
});
afterAll(() => t.close());

test('GET /api/v1/openapi.json documents every route, anonymously', async () => {
  const res = await client(t.url)('GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body.openapi).toBe('3.1.0');
  const documented = Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
  const routes = apiRoutes(t.app.services).map((s) => `${s.method.toUpperCase()} ${s.path.replace(/:(\w+)/g, '{$1}')}`).sort();
  expect(documented).toEqual(routes);
});

test('operations carry parameters, request schemas and problem responses', async () => {
  const res = await client(t.url)('GET', '/api/v1/openapi.json');
  const op = res.body.paths['/orgs/{orgId}/members/{userId}'].patch;
  expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:orgId', 'path:userId']);
  expect(op.requestBody.content['application/json'].schema.properties.role).toBeDefined();
  expect(op.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
  expect(op.responses.default.content['application/problem+json']).toBeDefined();
  const ids = Object.values(res.body.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  expect(new Set(ids).size).toBe(ids.length);
});
