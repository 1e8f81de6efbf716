import { watch, watchFile, unwatchFile, type FSWatcher, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { RouteDecision } from './gateway-principal.ts';
import { RoutePolicy, RoutePolicyError } from './route-policy.ts';

export interface RoutePolicyFileOptions {
  /** Quiet time after a change event before the file is read (editors write in several steps). */
  debounceMs?: number;
  /** The stat poll that catches what fs.watch misses (network file systems, some containers). */
  pollMs?: number;
}

/**
 * GATEHOUSE_ROUTES, parsed, watched and reloaded. The directory is watched (not the file), so an
 * editor's rename-on-save or a Kubernetes ConfigMap's symlink swap is seen; a slow stat poll
 * backs it up. A change that does not parse is logged with its line errors and the last good
 * policy stays in force: a typo never opens or closes the product API.
 */
export class RoutePolicyFile implements ProductPermissions {
  readonly #path: string;
  readonly #logger: Logger;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  #policy: RoutePolicy;
  /** The text last read, good or bad: the same bad text is reported once, not at every poll. */
  #lastText: string;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #listeners: Array<() => void> = [];

  private constructor(path: string, logger: Logger, text: string, policy: RoutePolicy, opts: RoutePolicyFileOptions) {
    this.#path = path;
    this.#logger = logger;
    this.#lastText = text;
    this.#policy = policy;
    this.#debounceMs = opts.debounceMs ?? 150;
    this.#pollMs = opts.pollMs ?? 2000;
  }

  /** Reads and parses the file; a bad file at start-up throws (RoutePolicyError, with line numbers). */
  static async open(path: string, logger: Logger, opts: RoutePolicyFileOptions = {}): Promise<RoutePolicyFile> {
    const full = resolve(path);
    const text = await readFile(full, 'utf8');
    const file = new RoutePolicyFile(full, logger, text, RoutePolicy.parse(text, full), opts);
    file.#watch();
    logger.info({ file: full, permissions: file.#policy.declared.size }, 'route policy loaded');
    return file;
  }

  get declared(): ReadonlySet<string> {
    return this.#policy.declared;
  }

  ofBuiltinRole(role: string): readonly string[] {
    return this.#policy.ofBuiltinRole(role);
  }

  /** The decision of the policy in force; null when no route matches (denied). */
  match(method: string, path: string): RouteDecision | null {
    return this.#policy.match(method, path);
  }

  /** Called after a new policy is in force (caches holding built-in roles' product permissions empty themselves). */
  onReload(listener: () => void): void {
    this.#listeners.push(listener);
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    unwatchFile(this.#path, this.#polled);
    clearTimeout(this.#timer);
  }

  #watch(): void {
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, changed) => {
        // Some platforms give no file name; then any change in the directory may be ours.
        if (!changed || changed === name || changed.startsWith('..')) this.#schedule();
      });
      this.#watcher.on('error', (err) => this.#logger.warn({ err, file: this.#path }, 'route policy watch failed; polling only'));
    } catch (err) {
      this.#logger.warn({ err, file: this.#path }, 'route policy cannot be watched; polling only');
    }
    watchFile(this.#path, { persistent: false, interval: this.#pollMs }, this.#polled);
  }

  readonly #polled = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) this.#schedule();
  };

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(), this.#debounceMs);
    this.#timer.unref();
  }

  /** Reads the file again now; one reload at a time, and a change during one runs another after it. */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#again = true;
      return this.#reloading;
    }
    this.#reloading = this.#reloadOnce().finally(() => {
      this.#reloading = undefined;
      if (this.#again && !this.#closed) {
        this.#again = false;
        void this.reload();
      }
    });
    return this.#reloading;
  }

  async #reloadOnce(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (err) {
      // Mid-rename the file may be missing for a moment; the poll or the next event retries.
      this.#logger.warn({ err, file: this.#path }, 'route policy unreadable; the last good policy stays in force');
      return;
    }
    if (this.#closed || text === this.#lastText) return;
    this.#lastText = text;
    try {
      this.#policy = RoutePolicy.parse(text, this.#path);
    } catch (err) {
      // A reload runs from a timer: whatever goes wrong is logged, never thrown into the process.
      if (err instanceof RoutePolicyError) {
        this.#logger.warn({ file: this.#path, errors: err.errors }, `route policy change rejected; the last good policy stays in force\n${err.message}`);
      } else this.#logger.error({ err, file: this.#path }, 'route policy reload failed; the last good policy stays in force');
      return;
    }
    this.#logger.info({ file: this.#path }, 'route policy reloaded');
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.#logger.error({ err }, 'route policy reload listener failed');
      }
    }
  }
}
