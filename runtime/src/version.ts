// The runtime's version, as a constant so bundles (the VS Code extension) need no package.json at run
// time; version.test.ts keeps it equal to package.json's.
export const RUNTIME_VERSION = '0.1.0';

/**
 * The HTTP API's contract version. Bump it when a route or a payload changes incompatibly: clients
 * (the JupyterLab extension) compare it with their own and say so when the two differ.
 */
export const API_VERSION = 4;
