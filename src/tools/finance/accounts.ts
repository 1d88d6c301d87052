// Accounts: where money is (a bank account, a card, cash), each in one currency with an opening balance.
import type { DB } from '../../storage/index.js';
import { guarded, notFound, ToolError } from '../errors.js';
import { isCurrencyCode } from './money.js';
import type { Account } from './types.js';

export type { Account } from './types.js';


export interface NewAccount {
  name: string;
  currency: string;
  kind?: string;
  openingBalance?: number;
}

export type AccountPatch = Partial<NewAccount & { archived: boolean }>;

interface Row {
  id: number;
  name: string;
  currency: string;
  kind: string;
  opening_balance: number;
  archived: number;
  created_at: number;
}

const toAccount = (r: Row): Account => ({
  id: r.id,
  name: r.name,
  currency: r.currency,
  kind: r.kind,
  openingBalance: r.opening_balance,
  archived: r.archived === 1,
  createdAt: new Date(r.created_at).toISOString(),
});

function checkCurrency(c: string): string {
  const code = c.toUpperCase();
  if (!isCurrencyCode(code)) throw new ToolError('invalid_params', `${c} is not an ISO 4217 currency code`, { details: { fields: [{ path: 'currency', message: 'unknown currency' }] } });
  return code;
}

export class Accounts {
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {}

  list(options: { includeArchived?: boolean } = {}): Account[] {
    const rows = this.db
      .prepare(`SELECT * FROM fin_accounts ${options.includeArchived ? '' : 'WHERE archived = 0'} ORDER BY name COLLATE NOCASE`)
      .all() as Row[];
    return rows.map(toAccount);
  }

  find(id: number): Account | null {
    const r = this.db.prepare('SELECT * FROM fin_accounts WHERE id = ?').get(id) as Row | undefined;
    return r ? toAccount(r) : null;
  }

  get(id: number): Account {
    const a = this.find(id);
    if (!a) throw notFound('account', id);
    return a;
  }

  create(input: NewAccount): Account {
    const currency = checkCurrency(input.currency);
    const r = guarded(`account "${input.name}"`, () =>
      this.db
        .prepare('INSERT INTO fin_accounts (name, currency, kind, opening_balance, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *')
        .get(input.name, currency, input.kind ?? 'checking', input.openingBalance ?? 0, this.now()),
    ) as Row;
    return toAccount(r);
  }

  update(id: number, patch: AccountPatch): Account {
    const cur = this.get(id);
    const currency = patch.currency !== undefined ? checkCurrency(patch.currency) : cur.currency;
    return this.db.transaction(() => {
      if (currency !== cur.currency) {
        const n = (this.db.prepare('SELECT count(*) AS n FROM fin_transactions WHERE account_id = ?').get(id) as { n: number }).n;
        if (n > 0) throw new ToolError('conflict', `account ${id} has ${n} transactions; its currency cannot change`);
      }
      guarded(`account "${patch.name ?? cur.name}"`, () =>
        this.db
          .prepare('UPDATE fin_accounts SET name = ?, currency = ?, kind = ?, opening_balance = ?, archived = ? WHERE id = ?')
          .run(
            patch.name ?? cur.name,
            currency,
            patch.kind ?? cur.kind,
            patch.openingBalance ?? cur.openingBalance,
            (patch.archived ?? cur.archived) ? 1 : 0,
            id,
          ),
      );
      return this.get(id);
    })();
  }

  /** Deletes an account; one with transactions is refused unless `force` (then they go too). */
  delete(id: number, options: { force?: boolean } = {}): void {
    this.get(id);
    this.db.transaction(() => {
      const n = (this.db.prepare('SELECT count(*) AS n FROM fin_transactions WHERE account_id = ?').get(id) as { n: number }).n;
      if (n > 0 && !options.force) {
        throw new ToolError('conflict', `account ${id} has ${n} transactions; archive it, or delete with force`, { details: { transactions: n } });
      }
      this.db.prepare('DELETE FROM fin_transactions WHERE account_id = ?').run(id);
      this.db.prepare('DELETE FROM fin_accounts WHERE id = ?').run(id);
    })();
  }
}
