/**
 * The schema of the database: its tables with their indexes, and a version
 * that every DDL statement raises (a gateway that planned a statement on an
 * older version must not write rows of the old shape). Immutable: `apply`
 * returns the catalog after a DDL statement, with SQLite's messages for names
 * that clash or do not exist. Names are matched without regard to case.
 *
 * It is stored as one JSON record (DDL is rare and small); bigint literals in
 * DEFAULT expressions travel as {"$bigint": "digits"}.
 */
import type { CreateIndex, CreateTable, DropIndex, DropTable } from '../ast.js';
import { SqlError } from '../errors.js';
import type { IndexSchema, TableSchema } from './schema.js';
import { buildIndex, buildTable } from './schema.js';

export type DdlStatement = CreateTable | DropTable | CreateIndex | DropIndex;

const key = (name: string) => name.toLowerCase();

export class Catalog {
  private constructor(
    readonly version: number,
    private readonly tables: ReadonlyMap<string, TableSchema>,
    /** The next id for a table or an index: ids are never reused, so old keys never alias new objects. */
    private readonly nextId: number,
  ) {}

  static empty(): Catalog {
    return new Catalog(0, new Map(), 1);
  }

  table(name: string): TableSchema | undefined {
    return this.tables.get(key(name));
  }

  /** The index named `name`, with its table. */
  index(name: string): { table: TableSchema; index: IndexSchema } | undefined {
    for (const table of this.tables.values()) {
      const index = table.indexes.find((i) => key(i.name) === key(name));
      if (index) return { table, index };
    }
    return undefined;
  }

  /** The catalog after `stmt`; the same catalog when IF [NOT] EXISTS makes it a no-op. */
  apply(stmt: DdlStatement): Catalog {
    let id = this.nextId;
    const nextId = () => id++;
    const tables = new Map(this.tables);
    switch (stmt.kind) {
      case 'CreateTable': {
        if (this.table(stmt.name)) {
          if (stmt.ifNotExists) return this;
          throw new SqlError(`table ${stmt.name} already exists`);
        }
        if (this.index(stmt.name)) throw new SqlError(`there is already an index named ${stmt.name}`);
        tables.set(key(stmt.name), buildTable(stmt, nextId));
        break;
      }
      case 'DropTable':
        if (!this.table(stmt.name)) {
          if (stmt.ifExists) return this;
          throw new SqlError(`no such table: ${stmt.name}`);
        }
        tables.delete(key(stmt.name));
        break;
      case 'CreateIndex': {
        const table = this.table(stmt.name);
        if (table) throw new SqlError(`there is already a table named ${stmt.name}`);
        if (this.index(stmt.name)) {
          if (stmt.ifNotExists) return this;
          throw new SqlError(`index ${stmt.name} already exists`);
        }
        const on = this.table(stmt.table);
        if (!on) throw new SqlError(`no such table: main.${stmt.table}`);
        tables.set(key(on.name), { ...on, indexes: [...on.indexes, buildIndex(stmt, on, nextId())] });
        break;
      }
      case 'DropIndex': {
        const found = this.index(stmt.name);
        if (!found) {
          if (stmt.ifExists) return this;
          throw new SqlError(`no such index: ${stmt.name}`);
        }
        if (/^sqlite_autoindex_/i.test(found.index.name)) throw new SqlError('index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped');
        tables.set(key(found.table.name), { ...found.table, indexes: found.table.indexes.filter((i) => i !== found.index) });
        break;
      }
    }
    return new Catalog(this.version + 1, tables, id);
  }

  encode(): string {
    return JSON.stringify({ version: this.version, nextId: this.nextId, tables: [...this.tables.values()] }, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
  }

  static decode(json: string): Catalog {
    const raw = JSON.parse(json, (_k, v: unknown) => (isBigintBox(v) ? BigInt(v.$bigint) : v)) as { version: number; nextId: number; tables: TableSchema[] };
    return new Catalog(raw.version, new Map(raw.tables.map((t) => [key(t.name), t])), raw.nextId);
  }
}

function isBigintBox(v: unknown): v is { $bigint: string } {
  return typeof v === 'object' && v !== null && typeof (v as { $bigint?: unknown }).$bigint === 'string' && Object.keys(v).length === 1;
}
