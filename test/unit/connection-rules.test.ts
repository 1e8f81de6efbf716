import { refusePlainHttp } from '../../src/modules/connections/connection-rules.ts';

test('production refuses plain-http IdP URLs, naming each field', () => {
  expect(() => refusePlainHttp({ idpMetadataUrl: 'http://idp.example/metadata' })).toThrow(expect.objectContaining({
    status: 400, errors: [{ field: 'body.idpMetadataUrl', message: 'must be https' }],
  }));
  expect(() => refusePlainHttp({ issuer: 'http://idp.example', discoveryUrl: 'http://idp.example/.well-known/openid-configuration' })).toThrow(expect.objectContaining({
    errors: [{ field: 'body.issuer', message: 'must be https' }, { field: 'body.discoveryUrl', message: 'must be https' }],
  }));
  expect(() => refusePlainHttp({ idpMetadataUrl: 'https://idp.example/metadata', ssoUrl: 'https://idp.example/sso', name: 'http: in a name is fine' })).not.toThrow();
});
