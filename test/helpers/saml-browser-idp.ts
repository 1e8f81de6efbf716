import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { certificateBody } from './idp-metadata.ts';
import { escapeXml, readRedirectRequest, testIdp, type TestIdp } from './saml-idp.ts';
import { samlResponse, type Person } from './saml-idp-response.ts';

// A SAML IdP a real browser can use, on loopback: it takes the HTTP-Redirect AuthnRequest (read
// and its signature checked with the independent helpers in saml-idp.ts, not node-saml) and
// answers with a page whose form POSTs the signed SAMLResponse to the ACS when its button is
// pressed, as an IdP's post-binding page does.

export interface BrowserIdp {
  idp: TestIdp;
  ssoUrl: string;
  /** The IdP's metadata, for the setup wizard. */
  metadataXml: string;
  /** The SP certificate that signs AuthnRequests: known once the connection exists. */
  spCertificate: string | null;
  /** Who signs in next (the IdP's own login is skipped). */
  person: Person;
  /** The AuthnRequests received (their ids). */
  requests: string[];
  close(): Promise<void>;
}

const page = (acsUrl: string, response: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP</title></head><body>
<main><h1>Test IdP</h1><form method="post" action="${escapeXml(acsUrl)}">
<input type="hidden" name="SAMLResponse" value="${escapeXml(response)}">
<button type="submit">Continue to the service</button></form></main></body></html>`;

export async function startBrowserIdp(person: Person): Promise<BrowserIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ssoUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sso`;
  const idp = { ...testIdp('browser'), ssoUrl };
  const state: BrowserIdp = {
    idp, ssoUrl, spCertificate: null, person, requests: [],
    metadataXml: `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${idp.entityId}">`
      + '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
      + `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certificateBody(idp.certificatePem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
      + `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${ssoUrl}"/>`
      + '</md:IDPSSODescriptor></md:EntityDescriptor>',
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
  server.on('request', (req, res) => {
    try {
      if (!state.spCertificate) throw new Error('the test has not told the IdP the SP certificate');
      const request = readRedirectRequest(new URL(req.url!, ssoUrl).href, state.spCertificate);
      if (!request.signed) throw new Error('unsigned AuthnRequest');
      state.requests.push(request.id);
      const response = samlResponse(idp, { entityId: request.issuer, acsUrl: request.acsUrl, certificatePem: state.spCertificate }, state.person, { shape: 'okta', inResponseTo: request.id });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(request.acsUrl, response.base64));
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`test IdP: ${(err as Error).message}`);
    }
  });
  return state;
}
