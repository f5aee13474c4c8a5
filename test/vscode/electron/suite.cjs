// Runs inside VS Code's extension host (test-electron loads it and calls run()): the extension
// activates on a Python file, contributes its commands and the notebook controller, and offers the
// CodeLens. Node's assert only: the host has no test framework of its own.
const assert = require('node:assert/strict');
const path = require('node:path');
const vscode = require('vscode');

async function run() {
  const ext = vscode.extensions.getExtension('skiff.skiff-vscode');
  assert.ok(ext, 'the Skiff extension is installed');
  const folder = vscode.workspace.workspaceFolders[0].uri.fsPath;
  const doc = await vscode.workspace.openTextDocument(path.join(folder, 'hello.py'));
  await vscode.window.showTextDocument(doc);
  await ext.activate();
  const commands = await vscode.commands.getCommands(true);
  for (const id of ['skiff.startCluster', 'skiff.runFile', 'skiff.runCell', 'skiff.showLogs', 'skiff.cancelJob']) assert.ok(commands.includes(id), `${id} is registered`);
  const lenses = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri);
  assert.deepEqual(
    lenses.map((l) => l.command && l.command.command),
    ['skiff.runFile', 'skiff.serveFile'],
  );
}

module.exports = { run };
