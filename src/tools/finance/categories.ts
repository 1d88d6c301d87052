// Categories of transactions (expense, income, or transfer between own accounts; transfers are left out
// of income and expense summaries).
import type { DB } from '../../storage/index.js';
import { guarded, notFound } from '../errors.js';
import type { CategoryKind, Category } from './types.js';

export type { CategoryKind, Category } from './types.js';



interface Row {
  id: number;
  name: string;
  kind: CategoryKind;
  created_at: number;
}

const toCategory = (r: Row): Category => ({ id: r.id, name: r.name, kind: r.kind, createdAt: new Date(r.created_at).toISOString() });

export class Categories {
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Category[] {
    return (this.db.prepare('SELECT * FROM fin_categories ORDER BY name COLLATE NOCASE').all() as Row[]).map(toCategory);
  }

  find(id: number): Category | null {
    const r = this.db.prepare('SELECT * FROM fin_categories WHERE id = ?').get(id) as Row | undefined;
    return r ? toCategory(r) : null;
  }

  get(id: number): Category {
    const c = this.find(id);
    if (!c) throw notFound('category', id);
    return c;
  }

  findByName(name: string): Category | null {
    const r = this.db.prepare('SELECT * FROM fin_categories WHERE name = ? COLLATE NOCASE').get(name.trim()) as Row | undefined;
    return r ? toCategory(r) : null;
  }

  create(name: string, kind: CategoryKind = 'expense'): Category {
    const r = guarded(`category "${name}"`, () =>
      this.db.prepare('INSERT INTO fin_categories (name, kind, created_at) VALUES (?, ?, ?) RETURNING *').get(name.trim(), kind, this.now()),
    ) as Row;
    return toCategory(r);
  }

  /** The category with this name, created (as an expense category) when missing. */
  ensure(name: string, kind: CategoryKind = 'expense'): Category {
    return this.findByName(name) ?? this.create(name, kind);
  }

  update(id: number, patch: { name?: string; kind?: CategoryKind }): Category {
    const cur = this.get(id);
    guarded(`category "${patch.name ?? cur.name}"`, () =>
      this.db.prepare('UPDATE fin_categories SET name = ?, kind = ? WHERE id = ?').run(patch.name?.trim() ?? cur.name, patch.kind ?? cur.kind, id),
    );
    return this.get(id);
  }

  /** Deletes a category: its transactions become uncategorized, its budgets go. */
  delete(id: number): void {
    if (this.db.prepare('DELETE FROM fin_categories WHERE id = ?').run(id).changes === 0) throw notFound('category', id);
  }
}
