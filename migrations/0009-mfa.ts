import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// Two-step verification. A user's TOTP secret and recovery codes are the user's, like users
// itself: global tables without RLS, read and written by the app role in any transaction. The
// secret is sealed (SecretBox, bound to the user id); recovery codes are stored as SHA-256 of
// the normalised code (each is 50 random bits, so no slow hash is needed). An org can require a
// second factor of its owners and admins (organizations.require_mfa).
const script = `
  CREATE TABLE user_totp (
    user_id uuid PRIMARY KEY REFERENCES users ON DELETE CASCADE,
    secret_sealed text NOT NULL,
    -- null while enrolment waits for its first code; a second factor only once confirmed.
    confirmed_at timestamptz,
    -- RFC 6238 §5.2: a code is accepted once; steps up to this one are spent.
    last_used_step bigint,
    created_at timestamptz NOT NULL DEFAULT now()
  );

  CREATE TABLE user_recovery_codes (
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
  );

  ALTER TABLE organizations ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

  GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp, user_recovery_codes TO gatehouse_app;
`;

export class Mfa extends Migration {
  override name = '0009-mfa';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
