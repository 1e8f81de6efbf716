import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/database.ts';
import { OidcModelsRepository } from './oidc-models.repository.ts';

/**
 * The models whose rows belong to a grant, as in oidc-provider's own memory adapter: revoking a
 * grant through any of them removes them all. Interaction payloads also carry a grantId, and the
 * Grant row is destroyed by oidc-provider itself, so neither is in the list.
 */
export const GRANTABLE_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
] as const;

/**
 * oidc-provider checks `consumed` before it calls consume(), but two nodes can both pass that
 * check for the same code or refresh token. The database lets only one consume it; the other
 * gets the error oidc-provider would have given had it seen the row consumed (RFC 6749 §4.1.2:
 * a code is used once; RFC 9700 §4.14.2: a rotated refresh token once).
 */
function alreadyConsumed(model: string): Error {
  if (model === 'PushedAuthorizationRequest') {
    return new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
  }
  return new errors.InvalidGrant(`${model} already consumed`);
}

/**
 * oidc-provider's storage for one model, in PostgreSQL (table oidc_models). Each call is its own
 * short transaction: the rows are global, so it runs without an org, as gatehouse_app.
 */
export class OidcAdapter implements Adapter {
  readonly #db: Database;
  readonly #model: string;

  constructor(db: Database, model: string) {
    this.#db = db;
    this.#model = model;
  }

  #run<T>(fn: (repo: OidcModelsRepository) => Promise<T>): Promise<T> {
    return this.#db.withoutOrg((em) => fn(new OidcModelsRepository(em)));
  }

  /** expiresIn is in seconds; without it the row lives until destroyed. */
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await this.#run((repo) => repo.upsert(this.#model, id, payload, expiresIn));
  }

  /** The payload, or undefined when unknown or past its expiry. */
  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#run((repo) => repo.find(this.#model, id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#run((repo) => repo.findBy(this.#model, 'uid', uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#run((repo) => repo.findBy(this.#model, 'user_code', userCode));
  }

  /** Marks the row consumed (find then returns `consumed`, in epoch seconds); a second consume throws. */
  async consume(id: string): Promise<void> {
    const consumed = await this.#run((repo) => repo.consume(this.#model, id));
    if (!consumed) throw alreadyConsumed(this.#model);
  }

  async destroy(id: string): Promise<void> {
    await this.#run((repo) => repo.destroy(this.#model, id));
  }

  /** Removes every token and code of the grant, whichever grantable model stored it. */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#run((repo) => repo.deleteByGrantId(grantId, GRANTABLE_MODELS));
  }
}

/** The value of oidc-provider's `adapter` option: a constructor taking the model name. */
export function createAdapterFactory(db: Database): AdapterConstructor {
  return class extends OidcAdapter {
    constructor(model: string) {
      super(db, model);
    }
  };
}
