/**
 * The migration rule (docs/upgrading.md): released migrations are never rewritten, and every later one only adds
 * (expand), so the release before it keeps working on the new schema while replicas roll. Destructive steps
 * (drop, rename, retype, a new NOT NULL without a default) wait for a later release and a contract step.
 */
import { execFileSync } from 'node:child_process';
import { POSTGRES_MIGRATIONS } from '../../bridge/src/store/postgres';
import { ROOT, gitCommit } from './build-at';

const DESTRUCTIVE: [RegExp, string][] = [
  [/\bDROP\s+(TABLE|COLUMN|INDEX|CONSTRAINT|SCHEMA|VIEW|TYPE)\b/i, 'drops'],
  [/\bRENAME\b/i, 'renames'],
  [/\bALTER\s+COLUMN\b[^;]*\b(TYPE|SET\s+NOT\s+NULL|SET\s+DATA\s+TYPE)\b/i, 'changes a column'],
  [/\bADD\s+(COLUMN\s+)?\w+\s+[^,;]*\bNOT\s+NULL\b(?![^,;]*\bDEFAULT\b)/i, 'adds a NOT NULL column without a default'],
  [/\bTRUNCATE\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b/i, 'rewrites data'],
  [/\bCREATE\s+UNIQUE\s+INDEX\b|\bADD\s+(CONSTRAINT\s+\w+\s+)?(UNIQUE|CHECK|FOREIGN\s+KEY|PRIMARY\s+KEY)\b/i, 'adds a constraint old writers may break'],
];

describe('schema migrations', () => {
  it.each(POSTGRES_MIGRATIONS.slice(1).map((sql, i) => [i + 2, sql]))('migration %i only adds', (_version, sql) => {
    for (const [pattern, what] of DESTRUCTIVE) expect({ migration: sql, [what]: pattern.test(sql as string) }).toEqual({ migration: sql, [what]: false });
  });

  it("are never rewritten once released: the released ones are a prefix of today's", () => {
    const released = gitCommit('7ddf029a0020862d1631e8655e2452474ee0f8fd');
    if (!released) return; // no history (an exported tree): the rolling test says so
    const text = execFileSync('git', ['show', `${released}:bridge/src/store/postgres.ts`], { cwd: ROOT, encoding: 'utf8' });
    const list = /const MIGRATIONS: readonly string\[\] = (\[[\s\S]*?\n\]);/.exec(text)?.[1];
    expect(list).toBeDefined();
    // Template literals without interpolation, from this repository's own history.
    const old = new Function(`return ${list}`)() as string[];
    expect(POSTGRES_MIGRATIONS.slice(0, old.length)).toEqual(old);
  });
});
