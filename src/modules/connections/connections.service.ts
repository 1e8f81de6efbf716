import { v7 as uuidv7 } from 'uuid';
import { generateSpCredentials } from '../../../saml/sp-credentials.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { NotFoundError } from '../../errors.ts';
import { toPage, type Page, type PageQuery } from '../../http/pagination.ts';
import { recordAudit } from '../audit/audit.recorder.ts';
import { PlanGate, type PlanDeps } from '../billing/plan-gate.ts';
import type { OrgScope } from '../scope.ts';
import type { Connection, OidcSettings, SamlSettings } from './connection.entity.ts';
import { actsAsSetupLink, idpIdentity, refuseLinkActivation } from './connection-activation.ts';
import { oidcOnlyFields, samlOnlyFields, type CreateOidcInput, type CreateSamlInput, type UpdateConnectionInput } from './connection-input.ts';
import { checkDefaultRole, checkIdpInitiated, checkRoleRules, refuseFields, refusePlainHttp } from './connection-rules.ts';
import { connectionView, type ConnectionView } from './connection-view.ts';
import { ConnectionsRepository } from './connections.repository.ts';
import { resolveSamlIdp } from './idp-source.ts';
import { warnExpiringCertificates } from './idp-certificates.ts';

export interface ConnectionsDeps {
  publicUrl: string;
  secrets: SecretBox;
  /** Production refuses plain-http IdP URLs: whoever sits on the path could swap the IdP's keys. */
  production: boolean;
  plans: PlanDeps;
}

const defaultScopes = ['openid', 'email', 'profile'];

/** An org's SSO connections. Every method needs sso:manage; secrets go in sealed and never come out. */
export class ConnectionsService {
  readonly #scope: OrgScope;
  readonly #connections: ConnectionsRepository;
  readonly #deps: ConnectionsDeps;

  constructor(scope: OrgScope, deps: ConnectionsDeps) {
    this.#scope = scope;
    this.#connections = new ConnectionsRepository(scope.em);
    this.#deps = deps;
  }

  async create(input: CreateSamlInput | CreateOidcInput): Promise<ConnectionView> {
    this.#scope.authorize('sso:manage');
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    await gate.requireFeature('sso');
    if (this.#deps.production) refusePlainHttp(input);
    const id = input.id ?? uuidv7();
    const common = {
      // A setup link's connection starts off (connection-activation.ts).
      id, orgId: this.#scope.orgId, name: input.name, active: !actsAsSetupLink(this.#scope), preset: input.preset ?? 'generic',
      defaultRole: await checkDefaultRole(this.#scope, input.defaultRole ?? 'member', gate),
      roleRules: await checkRoleRules(this.#scope, input.roleRules ?? [], gate),
      attributeMapping: input.attributeMapping ?? {}, planDisabledAt: null,
    };
    const connection = await this.#connections.create(input.type === 'saml'
      ? { ...common, type: 'saml', ...(await this.#newSaml(id, input)), oidc: null, clientSecretSealed: null }
      : { ...common, type: 'oidc', ...this.#newOidc(id, input), saml: null, spPrivateKeySealed: null });
    await warnExpiringCertificates(this.#scope, connection);
    await this.#connections.save();
    await recordAudit(this.#scope, { type: 'connection.created', target: { type: 'connection', id }, after: this.#view(connection) });
    return this.#view(connection);
  }

  async list(query: PageQuery): Promise<Page<ConnectionView>> {
    this.#scope.authorize('sso:manage');
    const rows = await this.#connections.listPage(query.limit, query.cursor);
    return toPage(rows, query.limit, (c) => c.id, (c) => this.#view(c));
  }

  async get(id: string): Promise<ConnectionView> {
    this.#scope.authorize('sso:manage');
    return this.#view(await this.#find(id));
  }

  async update(id: string, input: UpdateConnectionInput): Promise<ConnectionView> {
    this.#scope.authorize('sso:manage');
    refuseLinkActivation(this.#scope, input.active);
    if (this.#deps.production) refusePlainHttp(input);
    const connection = await this.#find(id, true);
    const idpBefore = idpIdentity(connection);
    // Turning a connection on needs SSO in the plan; editing or turning off one never does.
    const gate = new PlanGate(this.#scope, this.#deps.plans);
    if (input.active === true && !connection.active) await gate.requireFeature('sso');
    const before = this.#view(connection);
    refuseFields(input, connection.type === 'saml' ? oidcOnlyFields : samlOnlyFields, connection.type);
    if (input.name !== undefined) connection.name = input.name;
    if (input.active !== undefined) connection.active = input.active;
    if (input.preset !== undefined) connection.preset = input.preset;
    if (input.defaultRole !== undefined) connection.defaultRole = await checkDefaultRole(this.#scope, input.defaultRole, gate);
    if (input.roleRules !== undefined) connection.roleRules = await checkRoleRules(this.#scope, input.roleRules, gate);
    if (input.attributeMapping !== undefined) connection.attributeMapping = input.attributeMapping;
    if (connection.saml) connection.saml = await this.#updatedSaml(connection.saml, input);
    const rotated = connection.oidc ? this.#updateOidc(connection, input) : false;
    // A setup link that changes who the IdP is turns the connection off (connection-activation.ts).
    const repointed = actsAsSetupLink(this.#scope) && connection.active && (rotated || idpIdentity(connection) !== idpBefore);
    if (repointed) connection.active = false;
    await warnExpiringCertificates(this.#scope, connection);
    await this.#connections.save();
    const after = this.#view(connection);
    // The secret itself is never audited; that it changed is.
    const audited = { ...after, ...(rotated ? { rotated: ['clientSecret'] } : {}), ...(repointed ? { deactivated: 'idp_changed_by_setup_link' } : {}) };
    await recordAudit(this.#scope, { type: 'connection.updated', target: { type: 'connection', id }, before, after: audited });
    return after;
  }

  async remove(id: string): Promise<void> {
    this.#scope.authorize('sso:manage');
    const connection = await this.#find(id, true);
    const before = this.#view(connection);
    await this.#connections.remove(connection);
    await recordAudit(this.#scope, { type: 'connection.deleted', target: { type: 'connection', id }, before });
  }

  async #find(id: string, forUpdate = false): Promise<Connection> {
    const connection = forUpdate ? await this.#connections.findForUpdate(id) : await this.#connections.find(id);
    if (!connection) throw new NotFoundError('connection.not_found', 'No such connection.');
    return connection;
  }

  #view(connection: Connection): ConnectionView {
    return connectionView(connection, this.#deps.publicUrl);
  }

  /** The SAML settings and a new SP key pair, its private key sealed to this connection's row. */
  async #newSaml(id: string, input: CreateSamlInput): Promise<{ saml: SamlSettings; spPrivateKeySealed: string }> {
    const idp = (await resolveSamlIdp(input, null))!;
    const allowIdpInitiated = input.allowIdpInitiated ?? false;
    const idpInitiatedLoginUrl = input.idpInitiatedLoginUrl ?? null;
    await checkIdpInitiated(this.#scope.em, allowIdpInitiated, idpInitiatedLoginUrl);
    const sp = generateSpCredentials(`Gatehouse SP ${id}`);
    return {
      saml: {
        ...idp, metadataRefreshedAt: idp.metadataUrl ? new Date().toISOString() : null, spCertificate: sp.certificatePem,
        allowIdpInitiated, idpInitiatedLoginUrl, requireEncryptedAssertions: input.requireEncryptedAssertions ?? false, warnedFingerprints: [],
      },
      spPrivateKeySealed: this.#deps.secrets.seal(sp.privateKeyPem, id),
    };
  }

  #newOidc(id: string, input: CreateOidcInput): { oidc: OidcSettings; clientSecretSealed: string } {
    return {
      oidc: { issuer: input.issuer, discoveryUrl: input.discoveryUrl ?? null, clientId: input.clientId, scopes: input.scopes ?? defaultScopes },
      clientSecretSealed: this.#deps.secrets.seal(input.clientSecret, id),
    };
  }

  async #updatedSaml(saml: SamlSettings, input: UpdateConnectionInput): Promise<SamlSettings> {
    const idp = await resolveSamlIdp(input, saml);
    const next: SamlSettings = {
      ...saml, ...idp,
      ...(idp?.metadataUrl ? { metadataRefreshedAt: new Date().toISOString() } : idp ? { metadataRefreshedAt: null } : {}),
      allowIdpInitiated: input.allowIdpInitiated ?? saml.allowIdpInitiated,
      idpInitiatedLoginUrl: input.idpInitiatedLoginUrl !== undefined ? input.idpInitiatedLoginUrl : saml.idpInitiatedLoginUrl,
      requireEncryptedAssertions: input.requireEncryptedAssertions ?? saml.requireEncryptedAssertions,
    };
    await checkIdpInitiated(this.#scope.em, next.allowIdpInitiated, next.idpInitiatedLoginUrl);
    return next;
  }

  /** Applies OIDC changes; true when the client secret was rotated. */
  #updateOidc(connection: Connection, input: UpdateConnectionInput): boolean {
    const oidc = connection.oidc!;
    connection.oidc = {
      issuer: input.issuer ?? oidc.issuer,
      discoveryUrl: input.discoveryUrl !== undefined ? input.discoveryUrl : oidc.discoveryUrl,
      clientId: input.clientId ?? oidc.clientId,
      scopes: input.scopes ?? oidc.scopes,
    };
    if (input.clientSecret === undefined) return false;
    connection.clientSecretSealed = this.#deps.secrets.seal(input.clientSecret, connection.id);
    return true;
  }
}
