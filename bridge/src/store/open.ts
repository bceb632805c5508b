/** Opens the store named by SCIM_DATABASE_URL: `sqlite:<path>` (embedded) or `postgres://…`. */
import { dirname } from 'node:path';
import { ConfigError } from '../config';
import { SqliteStore } from './sqlite';
import type { Store } from './types';

export interface OpenOptions {
  /** Where start-up warnings go (e.g. TLS that encrypts but verifies nothing). */
  readonly warn?: (line: string) => void;
}

export async function openStore(url: string, env: NodeJS.ProcessEnv = process.env, options: OpenOptions = {}): Promise<Store> {
  if (/^sqlite:/i.test(url)) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new ConfigError('SCIM_DATABASE_URL "sqlite:" needs a path, e.g. sqlite:./data/bridge.db');
    try {
      return SqliteStore.open(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'EEXIST' || code === 'ENOTDIR'
          ? `${dirname(path)} is not a directory`
          : code === 'EACCES' || code === 'EROFS'
            ? `no permission to write in ${dirname(path)}`
            : (error as Error).message;
      throw new ConfigError(`cannot open the database file ${path}: ${reason}`);
    }
  }
  const { PostgresStore } = await import('./postgres');
  return PostgresStore.connect(url, env, options);
}
