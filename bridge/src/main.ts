/** Entry point of the bundled bridge: `node scim-bridge.cjs <command>`. */
import { describeFailure, runCli } from './cli/main';

runCli(process.argv.slice(2).filter((arg) => arg !== '--debug')).catch((error: unknown) => {
  const { code, message } = describeFailure(error);
  process.stderr.write(`scim-bridge: ${message}\n`);
  if (process.argv.includes('--debug') || process.env.SCIM_BRIDGE_DEBUG === '1') process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
  process.exitCode = code;
});
