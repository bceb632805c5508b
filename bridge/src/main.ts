// Entry point of the bundled bridge; the command line is built in the bridge core.
process.stderr.write('scim-bridge: not built yet\n');
process.exit(1);
