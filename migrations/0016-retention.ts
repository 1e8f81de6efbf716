import { Migration } from '@mikro-orm/migrations';

// STUB (B4 (retention): audit checkpoints and whatever retention needs). Replace this file.
export class Retention extends Migration {
  override name = '0016-retention';

  override up(): void {
    this.addSql('SELECT 1');
  }
}
