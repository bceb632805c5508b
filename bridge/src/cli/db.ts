/**
 * `scim-bridge db bootstrap`: gives the bridge its own least-privilege PostgreSQL role, run once (idempotently)
 * as a one-off step before the service starts, with an administrator's connection that the service never gets.
 *
 *   SCIM_DATABASE_ADMIN_URL  an administrator (CREATEROLE; e.g. DigitalOcean's doadmin, Azure's server admin in
 *                            azure_pg_admin, the RDS master in rds_superuser, a Cloud SQL cloudsqlsuperuser member)
 *   SCIM_DATABASE_URL        the bridge's own connection: its role name, password (or PGPASSWORD) and database
 *   SCIM_DATABASE_ADMIN_PASSWORD  the administrator's password, when its URL holds none
 *
 * It creates the role when it does not exist (LOGIN, the password from SCIM_DATABASE_URL, nothing else), or sets
 * the password when the role cannot log in with it; removes administrative attributes and memberships the role
 * should not have; grants CONNECT on the database; and gives the role a schema of its own name, where PostgreSQL's
 * default search path ("$user", public) finds it, with USAGE and CREATE (PostgreSQL ≥ 15 grants no CREATE on
 * `public`). Tables the bridge made earlier while it connected as the administrator are handed to the role where
 * they are. It grants nothing administrative: no SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS, and no
 * membership of the administrator's role. The password never appears in a statement: the role is given a
 * SCRAM-SHA-256 verifier computed here.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BRIDGE_ENV } from '../../../contract';
import { ConfigError } from '../config';
import { POSTGRES_MIGRATIONS, connectionSettings } from '../store/postgres';

type Out = (line: string) => void;

/**
 * The bridge's tables: what bootstrap hands to the app role when the bridge made them as someone else. Read from the
 * migrations themselves, so a table a later release adds is handed over too.
 */
const BRIDGE_TABLES = [
  'schema_migrations',
  ...new Set(POSTGRES_MIGRATIONS.flatMap((sql) => [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)].map((m) => m[1]))),
];
/** Roles whose membership is administrative on the managed services (besides any role with admin attributes). */
const ADMIN_ROLES = ['rds_superuser', 'azure_pg_admin', 'cloudsqlsuperuser', 'pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program'];
const ADMIN_ATTRIBUTES = [
  ['rolsuper', 'SUPERUSER'],
  ['rolcreaterole', 'CREATEROLE'],
  ['rolcreatedb', 'CREATEDB'],
  ['rolreplication', 'REPLICATION'],
  ['rolbypassrls', 'BYPASSRLS'],
] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A SCRAM-SHA-256 verifier (RFC 5802/7677, PostgreSQL's format), so the password itself is never sent in SQL. */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** PostgreSQL applies SASLprep to passwords; for printable ASCII it changes nothing, so the verifier matches. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

interface Target {
  readonly role: string;
  readonly password?: string;
  readonly database: string;
}

function target(env: NodeJS.ProcessEnv): { app: Target; appUrl: string; adminUrl: string } {
  const appUrl = env[BRIDGE_ENV.databaseUrl];
  const adminUrl = env[BRIDGE_ENV.databaseAdminUrl];
  if (!adminUrl) throw new ConfigError(`${BRIDGE_ENV.databaseAdminUrl} is not set: give an administrator's postgres:// URL (it is used only by this command)`);
  if (!appUrl || !/^postgres(ql)?:\/\//i.test(appUrl))
    throw new ConfigError(`${BRIDGE_ENV.databaseUrl} must be the bridge's postgres:// URL (its role, password and database)`);
  if (!/^postgres(ql)?:\/\//i.test(adminUrl)) throw new ConfigError(`${BRIDGE_ENV.databaseAdminUrl} must be a postgres:// URL`);
  const app = connectionSettings(appUrl, env).pool;
  const role = app.user ?? env.PGUSER;
  if (!role) throw new ConfigError(`${BRIDGE_ENV.databaseUrl} names no role (postgres://ROLE:PASSWORD@host/database)`);
  if (Buffer.byteLength(role) > 63) throw new ConfigError(`the role name "${role}" is longer than PostgreSQL's 63 bytes`);
  const password = typeof app.password === 'string' && app.password ? app.password : env.PGPASSWORD || undefined;
  return { app: { role, password, database: app.database ?? env.PGDATABASE ?? role }, appUrl, adminUrl };
}

/** TLS warnings (an unverified connection) are printed once per connection string. */
let warnTls: (line: string) => void = () => undefined;

async function connect(url: string, env: NodeJS.ProcessEnv, overrides: { database?: string; password?: string } = {}): Promise<Client> {
  const { pool, tls } = connectionSettings(url, env);
  for (const line of tls.warnings) warnTls(line);
  const client = new Client({
    ...pool,
    ...(overrides.database ? { database: overrides.database } : {}),
    ...(pool.password === undefined && overrides.password ? { password: overrides.password } : {}),
    application_name: 'scim-bridge db bootstrap',
  } as never);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Connects as the app role: undefined when it works, else the server's error (e.g. 28P01, a wrong password). */
async function tryAppLogin(appUrl: string, env: NodeJS.ProcessEnv): Promise<{ code?: string; message: string } | undefined> {
  try {
    const client = await connect(appUrl, env);
    await client.end();
    return undefined;
  } catch (error) {
    const err = error as { code?: string; message?: string };
    return { code: err.code, message: err.message ?? String(error) };
  }
}

export async function bootstrap(env: NodeJS.ProcessEnv, out: Out): Promise<void> {
  const { app, appUrl, adminUrl } = target(env);
  const say = (line: string) => out(`db bootstrap: ${line}`);
  const warn = (line: string) => out(`db bootstrap: warning: ${line}`);
  const warned = new Set<string>();
  warnTls = (line) => {
    if (warned.has(line)) return;
    warned.add(line);
    warn(line);
  };
  // The administrator's password: in its URL, or in SCIM_DATABASE_ADMIN_PASSWORD (never PGPASSWORD, which is the app's).
  const adminPassword = env[BRIDGE_ENV.databaseAdminPassword] || undefined;
  const asAdmin = (database?: string) => connect(adminUrl, { ...env, PGPASSWORD: undefined }, { database, password: adminPassword });
  let admin = await asAdmin().catch((error: Error) => {
    throw new ConfigError(`cannot connect with ${BRIDGE_ENV.databaseAdminUrl}: ${error.message}`);
  });
  try {
    const me = (await admin.query('SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user')).rows[0];
    if (me.name === app.role) {
      throw new ConfigError(
        `${BRIDGE_ENV.databaseUrl} uses the administrator's role "${app.role}": give the bridge a role of its own (e.g. ${JSON.stringify('scim_bridge_app')}) and keep the administrator's credentials out of the service`,
      );
    }
    if (!me.rolsuper && !me.rolcreaterole)
      throw new ConfigError(`the administrator role "${me.name}" has no CREATEROLE: it cannot create or manage the bridge's role`);

    // ---- the database ----
    const database = (await admin.query('SELECT datname FROM pg_database WHERE datname = $1', [app.database])).rows[0];
    if (!database) {
      if (!me.rolsuper && !me.rolcreatedb) throw new ConfigError(`the database "${app.database}" does not exist and "${me.name}" may not create it (CREATEDB)`);
      await admin.query(`CREATE DATABASE ${ident(app.database)}`);
      say(`created database "${app.database}"`);
    }

    // ---- the role ----
    const verifier = app.password === undefined ? undefined : PLAIN_ASCII.test(app.password) ? scramVerifier(app.password) : undefined;
    const passwordClause = async () => {
      if (app.password === undefined) return '';
      if (verifier) return ` PASSWORD '${verifier}'`;
      // SASLprep would change a non-ASCII password: let the server hash it (the literal is quoted by the server).
      return ` PASSWORD ${(await admin.query('SELECT quote_literal($1::text) AS q', [app.password])).rows[0].q}`;
    };
    let role = (await admin.query('SELECT * FROM pg_roles WHERE rolname = $1', [app.role])).rows[0];
    if (!role) {
      try {
        await admin.query(
          `CREATE ROLE ${ident(app.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT${await passwordClause()}`,
        );
        say(
          `created role "${app.role}" (LOGIN only)${app.password === undefined ? '; no password was given, so it logs in only by other means (IAM, certificates)' : ''}`,
        );
      } catch (error) {
        if ((error as { code?: string }).code !== '42710') throw error; // created by a concurrent bootstrap
      }
      role = (await admin.query('SELECT * FROM pg_roles WHERE rolname = $1', [app.role])).rows[0];
    } else {
      say(`role "${app.role}" exists`);
      if (!role.rolcanlogin) {
        await admin.query(`ALTER ROLE ${ident(app.role)} LOGIN`);
        say(`allowed role "${app.role}" to log in`);
      }
      if (app.password !== undefined) {
        const refused = await tryAppLogin(appUrl, env);
        if (refused?.code === '28P01') {
          await admin.query(`ALTER ROLE ${ident(app.role)}${await passwordClause()}`);
          say(`set the password of role "${app.role}" to the one in ${BRIDGE_ENV.databaseUrl}`);
        }
      }
    }

    // ---- nothing administrative ----
    for (const [column, attribute] of ADMIN_ATTRIBUTES) {
      if (!role[column]) continue;
      try {
        await admin.query(`ALTER ROLE ${ident(app.role)} NO${attribute}`);
        say(`removed ${attribute} from role "${app.role}"`);
      } catch (error) {
        warn(
          `role "${app.role}" has ${attribute} and "${me.name}" cannot remove it (${(error as Error).message}); run ALTER ROLE ${ident(app.role)} NO${attribute} as a role that can`,
        );
      }
    }
    const memberships = (
      await admin.query(
        `SELECT r.rolname, r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls AS powerful
           FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
        [app.role],
      )
    ).rows as { rolname: string; powerful: boolean }[];
    for (const { rolname, powerful } of memberships) {
      if (!powerful && rolname !== me.name && !ADMIN_ROLES.includes(rolname)) continue;
      try {
        await admin.query(`REVOKE ${ident(rolname)} FROM ${ident(app.role)}`);
        say(`removed role "${app.role}" from "${rolname}"`);
      } catch (error) {
        warn(
          `role "${app.role}" is a member of "${rolname}" and "${me.name}" cannot revoke it (${(error as Error).message}); run REVOKE ${ident(rolname)} FROM ${ident(app.role)} as a role that can`,
        );
      }
    }

    // ---- connecting to the database ----
    try {
      await admin.query(`GRANT CONNECT ON DATABASE ${ident(app.database)} TO ${ident(app.role)}`);
    } catch (error) {
      const can = (await admin.query(`SELECT has_database_privilege($1, $2, 'CONNECT') AS ok`, [app.role, app.database])).rows[0].ok;
      if (!can) throw new ConfigError(`"${me.name}" cannot grant CONNECT on database "${app.database}" to "${app.role}" (${(error as Error).message})`);
    }

    // ---- its schema, in its database ----
    await admin.end();
    admin = await asAdmin(app.database);
    await admin.query('SELECT pg_advisory_lock($1)', [0x5c1b_0002]);
    const schema = await prepareSchema(admin, app.role, say);

    // ---- proof: the bridge's own connection can create its tables where it will look for them ----
    await admin.end();
    const check = await connect(appUrl, env).catch((error: Error) => {
      throw new ConfigError(`role "${app.role}" still cannot connect with ${BRIDGE_ENV.databaseUrl}: ${error.message}`);
    });
    try {
      const { rows } = await check.query(
        `SELECT current_user AS role, current_schema() AS schema, has_schema_privilege(current_schema(), 'CREATE') AS can_create`,
      );
      if (rows[0].schema !== schema || !rows[0].can_create) {
        throw new ConfigError(
          `role "${app.role}" resolves its tables to schema ${rows[0].schema ?? '(none)'}, not "${schema}" (is its search_path changed?); reset it with ALTER ROLE ${ident(app.role)} RESET search_path`,
        );
      }
    } finally {
      await check.end();
    }
    say(`role "${app.role}" is ready: the bridge can migrate and serve in schema "${schema}" of database "${app.database}", with no administrative rights`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

/**
 * The schema the bridge's tables live in, usable by `role`: where its tables already are (made earlier by
 * another role, e.g. the administrator: handed to the app role in place), or a new schema named after the role.
 */
async function prepareSchema(admin: Client, role: string, say: Out): Promise<string> {
  const found = (
    await admin.query(
      `SELECT n.nspname AS schema, pg_get_userbyid(c.relowner) AS owner, c.relname AS name
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relname = ANY($1) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND EXISTS (SELECT 1 FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = 'schema_migrations')`,
      [BRIDGE_TABLES],
    )
  ).rows as { schema: string; owner: string; name: string }[];
  const schemas = [...new Set(found.map((t) => t.schema))];
  if (schemas.length > 1) throw new ConfigError(`the bridge's tables exist in more than one schema (${schemas.join(', ')}); keep one and drop the others`);
  const existing = schemas[0];
  if (existing !== undefined && existing !== role && existing !== 'public') {
    throw new ConfigError(
      `the bridge's tables are in schema "${existing}", which role "${role}" would not find; move them with ALTER TABLE ... SET SCHEMA ${ident(role)}`,
    );
  }
  const schema = existing ?? role;
  if (existing === undefined) {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
  } else if (existing === 'public') {
    // A schema named after the role would come first on its search path and hide these tables: it must not exist.
    const shadow = (
      await admin.query(
        `SELECT count(c.oid)::int AS objects FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = $1 GROUP BY n.oid`,
        [role],
      )
    ).rows[0];
    if (shadow && shadow.objects > 0)
      throw new ConfigError(`schema "${role}" holds objects and would hide the bridge's tables in "public" from role "${role}"`);
    if (shadow) await admin.query(`DROP SCHEMA ${ident(role)}`);
  }
  await admin.query(`GRANT USAGE, CREATE ON SCHEMA ${ident(schema)} TO ${ident(role)}`);
  say(`role "${role}" may create tables in schema "${schema}"${existing === undefined ? ' (its own, first on its search path)' : ''}`);

  const foreign = found.filter((t) => t.owner !== role);
  if (foreign.length) {
    // Handing over ownership needs membership of the new owner, for the moment it takes; taken back after.
    const member = (await admin.query(`SELECT pg_has_role(current_user, $1, 'USAGE') AS yes`, [role])).rows[0].yes as boolean;
    if (!member) await admin.query(`GRANT ${ident(role)} TO CURRENT_USER`);
    try {
      for (const table of foreign) await admin.query(`ALTER TABLE ${ident(table.schema)}.${ident(table.name)} OWNER TO ${ident(role)}`);
    } finally {
      if (!member) await admin.query(`REVOKE ${ident(role)} FROM CURRENT_USER`);
    }
    say(
      `handed the bridge's ${foreign.length} existing tables in "${schema}" (owned by ${[...new Set(foreign.map((t) => `"${t.owner}"`))].join(', ')}) to role "${role}"`,
    );
  }
  return schema;
}

export async function dbCommand(args: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'bootstrap') throw new ConfigError(`unknown db command "${action ?? ''}"; expected "db bootstrap"`);
  if (rest.length) throw new ConfigError(`db bootstrap takes no arguments (it reads ${BRIDGE_ENV.databaseAdminUrl} and ${BRIDGE_ENV.databaseUrl})`);
  try {
    await bootstrap(env, out);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`db bootstrap failed: ${(error as Error).message}`);
  }
}
