// The extension's smoke suite inside a desktop VS Code, through @vscode/test-electron. It cannot
// download VS Code on machines without internet, so it runs where $VSCODE_BINARY names an installed
// `code` executable, and elsewhere fails saying why (a suite that did not run has not passed); the
// code-server tier covers the workbench here.
//   VSCODE_BINARY=/usr/share/code/code node test/vscode/electron/run.mjs
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const binary = process.env.VSCODE_BINARY;
if (!binary || !existsSync(binary)) {
  console.error(`not run: set VSCODE_BINARY to a VS Code executable (no download is possible offline)${binary ? `; ${binary} does not exist` : ''}`);
  process.exit(2);
}
const code = await runTests({
  vscodeExecutablePath: binary,
  extensionDevelopmentPath: fileURLToPath(new URL('../../../extension/', import.meta.url)),
  extensionTestsPath: fileURLToPath(new URL('./suite.cjs', import.meta.url)),
  launchArgs: [fileURLToPath(new URL('../workspace/', import.meta.url)), '--disable-extensions', '--skip-welcome'],
});
process.exit(code);
