import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// One-time password reset links. Only the SHA-256 of a token is kept (32 random bytes: a plain
// hash cannot be reversed by guessing). Global like users: a reset names a person, not an org.
// Rows outlive their use: the per-email mail limit counts the rows of the last hour.
const script = `
  CREATE TABLE password_resets (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX password_resets_user ON password_resets (user_id, created_at);
  GRANT SELECT, INSERT, UPDATE ON password_resets TO gatehouse_app;
`;

export class PasswordResets extends Migration {
  override name = '0008-password-resets';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
