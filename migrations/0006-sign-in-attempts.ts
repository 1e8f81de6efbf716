import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// Failed sign-in counters, per account (the email typed, whether or not it has an account) and
// per client address, in fixed windows. Global: every node counts in the same rows.
const script = `
  CREATE TABLE sign_in_attempts (
    key text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    failures int NOT NULL
  );
  CREATE INDEX sign_in_attempts_window ON sign_in_attempts (window_start);
  GRANT SELECT, INSERT, UPDATE, DELETE ON sign_in_attempts TO gatehouse_app;
`;

export class SignInAttempts extends Migration {
  override name = '0006-sign-in-attempts';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
