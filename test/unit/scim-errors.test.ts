import SCIMMY from 'scimmy';
import { renderScimError, scimError, viaScimmy } from '../../scim/scim-errors.ts';
import { AppError, ConflictError, NotFoundError } from '../../src/errors.ts';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe('SCIM error rendering (RFC 7644 §3.12)', () => {
  test('the Error schema with status as a string', () => {
    expect(renderScimError(scimError(400, 'invalidFilter', 'bad'))).toEqual({ status: 400, internal: false, body: { schemas: [ERROR], status: '400', scimType: 'invalidFilter', detail: 'bad' } });
  });
  test.each([
    ['scim.uniqueness', 409, 'uniqueness'],
    ['scim.invalid_value', 400, 'invalidValue'],
    ['scim.mutability', 400, 'mutability'],
    ['scim.invalid_filter', 400, 'invalidFilter'],
  ])('AppError %s → %i %s', (code, status, scimType) => {
    expect(renderScimError(new AppError(code, status, 'd')).body).toMatchObject({ status: String(status), scimType, detail: 'd' });
  });
  test('scim.precondition_failed → 412 without scimType', () => {
    const { body } = renderScimError(new AppError('scim.precondition_failed', 412, 'changed'));
    expect(body).toEqual({ schemas: [ERROR], status: '412', detail: 'changed' });
  });
  test('NotFound → 404', () => expect(renderScimError(new NotFoundError('scim.user_not_found', 'no')).body.status).toBe('404'));
  test('a 409 conflict of another code is still a 409', () => expect(renderScimError(new ConflictError('x.exists', 'dup')).status).toBe(409));
  test("scimmy's own errors keep their status and scimType", () => {
    expect(renderScimError(new SCIMMY.Types.Error(400, 'invalidPath', 'p')).body).toMatchObject({ status: '400', scimType: 'invalidPath' });
  });
  test('scimmy TypeErrors (schema coercion) → 400 invalidValue', () => {
    expect(() => viaScimmy(() => new SCIMMY.Schemas.User({ userName: 'a', active: 'maybe' } as never, 'in'))).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
  });
  test('gap: an unknown error is a 500 with a generic detail, never a 404', () => {
    const out = renderScimError(new Error('db exploded: password=secret'));
    expect(out).toMatchObject({ status: 500, internal: true, body: { status: '500', detail: 'Something went wrong on our side.' } });
  });
  test('our own TypeError bugs are 500s, not 400s', () => expect(renderScimError(new TypeError('x is undefined')).status).toBe(500));
  test('a 5xx AppError hides its detail', () => expect(renderScimError(new AppError('internal', 503, 'pool exhausted')).body.detail).toBe('Something went wrong on our side.'));
  test('body-parser errors: bad JSON → 400 invalidSyntax, too large → 413', () => {
    expect(renderScimError(Object.assign(new Error('Unexpected token'), { status: 400 })).body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect(renderScimError(Object.assign(new Error('too large'), { status: 413 })).body.status).toBe('413');
  });
});
