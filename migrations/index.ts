import { Foundation } from './0001-foundation.ts';

// Listed explicitly (no file discovery): the order here is the order applied.
export const migrationsList = [{ name: '0001-foundation', class: Foundation }];
