// The runtime's version, as a constant so bundles (the VS Code extension) need no package.json at run
// time; version.test.ts keeps it equal to package.json's.
export const RUNTIME_VERSION = '0.1.0';

/**
 * The HTTP API's contract version: the contract is api/contract.ts, which exports it too. Bump it
 * when a route or a payload there changes incompatibly: clients (the JupyterLab extension) compare
 * it with their own and say so when the two differ. It stays here, at the bottom of the layers, so
 * that the CLI and the front ends can read it without the API (and the Python tests read it here).
 */
export const API_VERSION = 4;
