import { Migration } from '@mikro-orm/migrations';

// OIDC signing keys: global (not org-owned), so no row-level security; the service reads and
// rotates them as gatehouse_app. private_jwk is never plaintext: it is the secret-box sealing of
// the private JWK with the kid as associated data (src/crypto/secret-box.ts). A key is published
// in the JWKS from creation until retires_at, and signs from activates_at until its successor's.
export class SigningKeys extends Migration {
  override name = '0003-signing-keys';

  // One statement per call: PGlite (extended protocol) refuses several in one.
  override up(): void {
    this.addSql(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
        private_jwk text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        activates_at timestamptz NOT NULL,
        retires_at timestamptz,
        CHECK (retires_at IS NULL OR retires_at >= activates_at)
      )`);
    this.addSql('GRANT SELECT, INSERT, UPDATE, DELETE ON signing_keys TO gatehouse_app');
  }
}
