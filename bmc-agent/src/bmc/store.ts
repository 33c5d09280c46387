// The live BMC state, persisted as JSON in STATE_DIR with atomic writes and serialized updates.
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeStaleTemps, writeFileAtomic } from './atomic-file.ts';
import { applySeed, type BmcSeed, defaultBmcState } from './defaults.ts';
import { passwordsEqual } from './password.ts';
import type { BmcState, BmcStore, BmcStoreEvents, BmcUser } from './types.ts';
import { validateBmcState } from './validate.ts';

export const STATE_FILE_NAME = 'bmc-state.json';

/** The state file exists but cannot be used; it has been moved aside so nothing overwrites it. */
export class CorruptStateError extends Error {
  readonly keptAs: string;
  constructor(path: string, keptAs: string, reason: string) {
    super(
      `BMC state ${path} is unreadable (${reason}); kept as ${keptAs}. Fix it and move it back, or remove it to start from defaults.`,
    );
    this.name = 'CorruptStateError';
    this.keptAs = keptAs;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface OpenStoreOptions {
  /** Full path of the state file, e.g. STATE_DIR/bmc-state.json. */
  path: string;
  seed: BmcSeed;
}

export class FileBmcStore extends EventEmitter<BmcStoreEvents> implements BmcStore {
  readonly path: string;
  #state: Readonly<BmcState>;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, state: BmcState) {
    super();
    this.path = path;
    this.#state = deepFreeze(state);
  }

  /**
   * Loads the state file (or creates it from the seed), re-applies the seed's per-start rules, and writes it back.
   * A file that is not valid JSON or fails validation is renamed to <file>.corrupt-<timestamp> and a CorruptStateError thrown.
   */
  static async open({ path, seed }: OpenStoreOptions): Promise<FileBmcStore> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await removeStaleTemps(path);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let state: BmcState;
    if (text === undefined) {
      state = defaultBmcState(seed);
    } else {
      try {
        state = validateBmcState(JSON.parse(text));
      } catch (err) {
        const keptAs = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        await rename(path, keptAs);
        throw new CorruptStateError(path, keptAs, (err as Error).message);
      }
    }
    applySeed(state, seed);
    state = validateBmcState(state);
    await writeFileAtomic(path, JSON.stringify(state, null, 2) + '\n');
    return new FileBmcStore(path, state);
  }

  state(): Readonly<BmcState> {
    return this.#state;
  }

  update(mutator: (draft: BmcState) => void): Promise<Readonly<BmcState>> {
    // Each update starts from the state the previous one committed, so concurrent callers never lose a change.
    const run = async (): Promise<Readonly<BmcState>> => {
      const draft = structuredClone(this.#state) as BmcState;
      mutator(draft);
      const next = validateBmcState(draft);
      await writeFileAtomic(this.path, JSON.stringify(next, null, 2) + '\n');
      this.#state = deepFreeze(next);
      this.emit('change', this.#state);
      return this.#state;
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  userByName(name: string): BmcUser | undefined {
    return (
      this.#state.users.find((u) => u.name === name && u.name !== '' && u.enabled) ??
      this.#state.users.find((u) => u.name === name)
    );
  }

  userById(id: number): BmcUser | undefined {
    return this.#state.users.find((u) => u.id === id);
  }

  checkPassword(name: string, password: string): BmcUser | undefined {
    const user = this.#state.users.find((u) => u.enabled && u.name === name);
    // Compare even for unknown users so the response time does not reveal which names exist.
    const ok = passwordsEqual(user?.password ?? '\u0000unknown-user', password);
    return user && ok ? user : undefined;
  }
}
