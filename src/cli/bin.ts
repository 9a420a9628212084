/**
 * The entry point of the bundled executable (scripts/bundle.mjs bundles this file into
 * dist/bin/builder.cjs, which bin/builder.cjs runs): always runs the CLI.
 */
import { main } from './main.js';

main();
