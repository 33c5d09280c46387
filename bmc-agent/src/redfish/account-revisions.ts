// A revision number per BMC user that moves whenever the user's stored record changes (over Redfish, IPMI
// LAN or in-band), so an account's ETag changes with a password change the representation never shows.
import type { BmcState, BmcStore } from '../bmc/types.ts';

export class AccountRevisions {
  readonly #store: BmcStore;
  readonly #records = new Map<number, string>();
  readonly #revisions = new Map<number, number>();
  readonly #onChange = (state: Readonly<BmcState>) => this.#observe(state);

  constructor(store: BmcStore) {
    this.#store = store;
    this.#observe(store.state());
    store.on('change', this.#onChange);
  }

  /** Opaque version string for a user, mixed into the account's ETag. */
  of(userId: number): string {
    return String(this.#revisions.get(userId) ?? 0);
  }

  close(): void {
    this.#store.off('change', this.#onChange);
  }

  #observe(state: Readonly<BmcState>): void {
    for (const user of state.users) {
      const record = JSON.stringify(user);
      if (this.#records.get(user.id) !== record) {
        this.#records.set(user.id, record);
        this.#revisions.set(user.id, (this.#revisions.get(user.id) ?? 0) + 1);
      }
    }
  }
}
