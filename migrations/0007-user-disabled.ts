import { Migration } from '@mikro-orm/migrations';
import { statements } from './sql.ts';

// A disabled user cannot sign in, refresh or exchange tokens anywhere, in any org; their
// memberships stay (re-enabling restores them). Set by the platform operator.
const script = `
  ALTER TABLE users ADD COLUMN disabled_at timestamptz;
`;

export class UserDisabled extends Migration {
  override name = '0007-user-disabled';

  override up(): void {
    for (const statement of statements(script)) this.addSql(statement);
  }
}
