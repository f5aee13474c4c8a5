// "Run on cluster" / "Serve on cluster" above the first line of a Python file.
import * as vscode from 'vscode';

export class SkiffCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(run) Run on cluster', command: 'skiff.runFile', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: '$(globe) Serve on cluster', command: 'skiff.serveFile', arguments: [document.uri] }),
    ];
  }
}
