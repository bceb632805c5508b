/** Reads the schema-extension settings from the environment names of the deployment contract. */
import { readFileSync } from 'node:fs';
import { BRIDGE_ENV } from '../../../contract';
import {
  ExtensionDeclarationError,
  type ExtensionSettings,
  UNDECLARED_EXTENSION_POLICIES,
  type UndeclaredExtensions,
  parseExtensionDeclarations,
} from './extensions';

export type { ExtensionSettings };

/** `fail` makes the caller's configuration error, printed as one line before anything starts. */
export function readExtensionSettings(env: NodeJS.ProcessEnv, fail: (message: string) => Error): ExtensionSettings {
  const inline = env[BRIDGE_ENV.schemaExtensions];
  const file = env[BRIDGE_ENV.schemaExtensionsFile];
  if (inline && file) throw fail(`set ${BRIDGE_ENV.schemaExtensions} or ${BRIDGE_ENV.schemaExtensionsFile}, not both`);
  let source: string | undefined;
  let text: string | undefined;
  if (inline) {
    source = BRIDGE_ENV.schemaExtensions;
    text = inline;
  } else if (file) {
    source = `${BRIDGE_ENV.schemaExtensionsFile} (${file})`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw fail(`${source} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  let declared: ExtensionSettings['declared'] = [];
  if (text !== undefined) {
    try {
      declared = parseExtensionDeclarations(text);
    } catch (error) {
      if (error instanceof ExtensionDeclarationError) throw fail(`${source}: ${error.message}`);
      throw error;
    }
  }
  const raw = (env[BRIDGE_ENV.undeclaredExtensions] || 'refuse').trim().toLowerCase() as UndeclaredExtensions;
  if (!UNDECLARED_EXTENSION_POLICIES.includes(raw)) {
    throw fail(`${BRIDGE_ENV.undeclaredExtensions} must be one of ${UNDECLARED_EXTENSION_POLICIES.join(', ')} (got "${env[BRIDGE_ENV.undeclaredExtensions]}")`);
  }
  return { declared, undeclared: raw };
}
