// Where a job's Python packages are written down: requirements.txt, PEP 723 inline script
// metadata, and `%pip install` lines in notebooks. Skiff installs them before the job starts, so
// everything here is read without running any of the user's code; what cannot be read that way is
// refused with a message saying how to write it instead, rather than silently dropped.
import { parse as parseToml, TomlError } from 'smol-toml';
import { SpecError } from '../spec/job-spec.js';

const FIELD = 'packages';

// ---------------------------------------------------------------------------------------------
// PEP 508 requirement specifiers

// PEP 508's name rule, without the `$` so it can find where the name ends.
const PROJECT_NAME = /^[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?/i;
const EXTRA_NAME = /^[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?$/i;
// Longest operators first, so `>=1` is not read as `>` followed by `=1`.
const VERSION_CLAUSE = /^(===|==|!=|<=|>=|~=|<|>)\s*(.*)$/;
const VERSION = /^[A-Z0-9](?:[A-Z0-9.+!_-]*[A-Z0-9])?$/i;
const WILDCARD_VERSION = /^[A-Z0-9](?:[A-Z0-9.+!_-]*[A-Z0-9])?\.\*$/i;
const URL = /^[A-Z][A-Z0-9+.-]*:\S+$/i;

/**
 * Undefined when `req` looks like a PEP 508 requirement (`name[extras] specifiers ; marker` or
 * `name[extras] @ url ; marker`), else a short reason. Practical rather than the full grammar:
 * markers are accepted as any non-empty text, and pip gives the final word when it installs.
 */
export function validateRequirement(req: string): string | undefined {
  const text = req.trim();
  if (text === '') return 'it is empty';
  const name = PROJECT_NAME.exec(text)?.[0];
  if (name === undefined) return 'it must start with a project name';

  let rest = text.slice(name.length).trimStart();
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return "the '[' of its extras is never closed";
    const extras = rest
      .slice(1, close)
      .split(',')
      .map((extra) => extra.trim());
    const isEmptyList = extras.length === 1 && extras[0] === ''; // `name[]` is allowed
    const badExtra = isEmptyList ? undefined : extras.find((extra) => !EXTRA_NAME.test(extra));
    if (badExtra !== undefined) return `'${badExtra}' is not a valid extra name`;
    rest = rest.slice(close + 1).trimStart();
  }

  let marker: string | undefined;
  if (rest.startsWith('@')) {
    // `;` may appear inside a URL, so PEP 508 only ends a URL at whitespace followed by `;`.
    const end = /\s;/.exec(rest);
    const url = (end ? rest.slice(1, end.index) : rest.slice(1)).trim();
    if (!URL.test(url)) return "'@' must be followed by a URL such as https://…";
    if (end) marker = rest.slice(end.index + 2);
  } else {
    const semicolon = rest.indexOf(';');
    const specifiers = (semicolon < 0 ? rest : rest.slice(0, semicolon)).trim();
    const problem = specifierProblem(specifiers, name);
    if (problem !== undefined) return problem;
    if (semicolon >= 0) marker = rest.slice(semicolon + 1);
  }
  if (marker !== undefined && marker.trim() === '') {
    return 'nothing follows \';\' (expected an environment marker such as python_version >= "3.9")';
  }
  return undefined;
}

function specifierProblem(specifiers: string, name: string): string | undefined {
  if (specifiers === '') return undefined;
  let list = specifiers;
  if (list.startsWith('(')) {
    // PEP 508 also allows the older `name (>=1.0)` form.
    if (!list.endsWith(')')) return "the '(' around its version specifiers is never closed";
    list = list.slice(1, -1).trim();
  }
  if (!/^[<>=!~]/.test(list)) {
    return `expected a version specifier such as '==1.0', '@ URL' or '; marker' after '${name}', found '${specifiers}'`;
  }
  for (const clause of list.split(',').map((c) => c.trim())) {
    if (clause === '') return 'a comma is not followed by a version specifier';
    const match = VERSION_CLAUSE.exec(clause);
    const operator = match?.[1] ?? '';
    const version = match?.[2] ?? '';
    if (match && version === '') return `'${operator}' is not followed by a version`;
    const valid =
      match !== null &&
      (operator === '==='
        ? /^[^\s,;]+$/.test(version) // arbitrary equality compares strings, any non-blank text
        : VERSION.test(version) || ((operator === '==' || operator === '!=') && WILDCARD_VERSION.test(version)));
    if (!valid) return `'${clause}' is not a version specifier such as '>=1.0'`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// requirements.txt

// pip's comment rule: `#` at the start or after whitespace, so URL fragments (`.whl#sha256=…`) stay.
const COMMENT = /(^|\s+)#.*$/;
const FULL_LINE_COMMENT = /^\s*#/;

/**
 * The requirement specifiers of a pip requirements file, in order. pip options (`-r`,
 * `--index-url`, `-e`, …) are refused: Skiff installs a flat list of packages, and an option that
 * silently stopped applying would install something other than what the file says.
 */
export function parseRequirementsText(text: string, fileName: string): string[] {
  const requirements: string[] = [];
  for (const { lineNumber, line } of logicalLines(text)) {
    const where = `${fileName} line ${lineNumber}`;
    if (line.startsWith('-')) {
      throw new SpecError(`${where}: '${line}' is not supported; list the packages in this file (pip options such as --index-url belong in pip's own configuration)`, FIELD);
    }
    // pip-compile --generate-hashes writes `name==1.0 --hash=sha256:…`; say so rather than
    // report the hash as a malformed version.
    const option = /\s(--?[A-Za-z][\w-]*)/.exec(line);
    if (option) {
      throw new SpecError(`${where}: '${line}' is not supported: per-requirement options such as ${option[1]} are not read by Skiff; list just the requirement`, FIELD);
    }
    const problem = validateRequirement(line);
    if (problem !== undefined) {
      throw new SpecError(`${where}: '${line}' is not a valid requirement: ${problem}`, FIELD);
    }
    requirements.push(line);
  }
  return requirements;
}

/** Non-empty lines with comments removed and backslash continuations joined, numbered by their first line (as pip does). */
function logicalLines(text: string): { lineNumber: number; line: string }[] {
  const result: { lineNumber: number; line: string }[] = [];
  const physical = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let joined: string | undefined; // the logical line so far, while a continuation is open
  let firstLine = 0;
  physical.forEach((raw, index) => {
    if (joined === undefined) firstLine = index + 1;
    const isComment = FULL_LINE_COMMENT.test(raw);
    const text = isComment ? '' : raw.endsWith('\\') ? raw.slice(0, -1) : raw;
    // Like pip, a full-line comment never continues onto the next line, even ending in `\`.
    if (raw.endsWith('\\') && !isComment && index < physical.length - 1) {
      joined = (joined ?? '') + text;
      return;
    }
    const line = ((joined ?? '') + text).replace(COMMENT, '').trim();
    if (line !== '') result.push({ lineNumber: firstLine, line });
    joined = undefined;
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// PEP 723 inline script metadata

// The PEP's reference regex, translated: multiline, named groups.
const METADATA_BLOCK = /^# \/\/\/ (?<type>[a-zA-Z0-9-]+)$\s(?<content>(^#(| .*)$\s)+)^# \/\/\/$/gm;

/**
 * The `dependencies` of a script's `# /// script` block; undefined when it has no such block,
 * `[]` when the block lists none. `requires-python` is ignored: the job image fixes the Python.
 */
export function parseInlineScriptMetadata(scriptText: string, fileName: string): string[] | undefined {
  // The reference regex is applied to text read with universal newlines; match that here.
  const text = scriptText.replace(/\r\n/g, '\n');
  const blocks = [...text.matchAll(METADATA_BLOCK)].filter((m) => m.groups?.type === 'script');
  if (blocks.length === 0) return undefined;
  if (blocks.length > 1) {
    throw new SpecError(`${fileName} has more than one '# /// script' metadata block; PEP 723 allows only one`, FIELD);
  }
  const block = blocks[0];
  const toml = (block.groups?.content ?? '')
    .split('\n')
    .map((line) => (line.startsWith('# ') ? line.slice(2) : line.slice(1)))
    .join('\n');

  let metadata: Record<string, unknown>;
  try {
    metadata = parseToml(toml);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // The TOML's line 1 is the line after `# /// script`; report the line of the file.
    const openingLine = text.slice(0, block.index).split('\n').length;
    const reason = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
    throw new SpecError(`${fileName} line ${openingLine + err.line}: the '# /// script' metadata is not valid TOML: ${reason}`, FIELD);
  }

  const dependencies = metadata.dependencies;
  if (dependencies === undefined) return [];
  if (!Array.isArray(dependencies) || !dependencies.every((d): d is string => typeof d === 'string')) {
    throw new SpecError(`${fileName}: 'dependencies' in the '# /// script' metadata must be a list of strings`, FIELD);
  }
  for (const dependency of dependencies) {
    const problem = validateRequirement(dependency);
    if (problem !== undefined) {
      throw new SpecError(`${fileName}: '# /// script' dependency '${dependency}' is not a valid requirement: ${problem}`, FIELD);
    }
  }
  return dependencies.map((d) => d.trim());
}

// ---------------------------------------------------------------------------------------------
// Notebook `%pip install` lines

// The ways a notebook line runs pip. IPython accepts them indented, e.g. inside an `if` block.
const PIP_COMMAND = /^(\s*)(?:[%!]pip3?|!python3?\s+-m\s+pip|!\{sys\.executable\}\s+-m\s+pip)(?=\s|$)/;
const INSTALL = /^\s+install(?=\s|$)/;
// pip install options followed by a value that is not a package; the value is skipped with them.
const LONG_WITH_VALUE = new Set([
  '--progress-bar',
  '--index-url',
  '--extra-index-url',
  '--find-links',
  '--target',
  '--constraint',
  '--trusted-host',
  '--cache-dir',
  '--prefix',
  '--root',
  '--platform',
  '--python-version',
  '--implementation',
  '--abi',
  '--src',
  '--upgrade-strategy',
  '--no-binary',
  '--only-binary',
  '--log',
  '--proxy',
  '--retries',
  '--timeout',
  '--exists-action',
  '--cert',
  '--client-cert',
  '--config-settings',
  '--global-option',
  '--report',
  '--python',
  '--root-user-action',
  '--keyring-provider',
  '--use-feature',
  '--use-deprecated',
  '--group',
]);
const SHORT_WITH_VALUE = new Set(['i', 'f', 't', 'c', 'C']);

interface PipCommand {
  /** Index of its first and last line in the cell (IPython joins lines ending in `\`). */
  first: number;
  last: number;
  indent: string;
  /** The whole command, continuations joined, for messages. */
  text: string;
  /** What follows `%pip` / `!python -m pip`: the subcommand and its arguments. */
  args: string;
}

function pipCommands(lines: string[]): PipCommand[] {
  const commands: PipCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = PIP_COMMAND.exec(lines[i]);
    if (!match) continue;
    let joined = lines[i];
    let last = i;
    // IPython's own rule: drop the backslash, join with a space.
    while (joined.endsWith('\\') && last + 1 < lines.length) joined = `${joined.slice(0, -1)} ${lines[++last]}`;
    commands.push({ first: i, last, indent: match[1], text: joined.trim(), args: joined.slice(match[0].length) });
    i = last;
  }
  return commands;
}

/**
 * The packages a notebook's cells install with `%pip install` / `!pip install` (and the `pip3`,
 * `python -m pip` spellings), in order of appearance, duplicates removed. Other pip subcommands
 * install nothing and are ignored.
 */
export function notebookPipRequirements(cellSources: string[]): string[] {
  const found: string[] = [];
  cellSources.forEach((source, cellIndex) => {
    for (const command of pipCommands(source.split(/\r?\n/))) {
      const install = INSTALL.exec(command.args);
      if (install) found.push(...installArguments(command.args.slice(install[0].length), `cell ${cellIndex + 1}`, command.text));
    }
  });
  return mergeRequirements(found);
}

function installArguments(args: string, where: string, text: string): string[] {
  const fail = (why: string): never => {
    throw new SpecError(`${where}: '${text}' ${why}`, FIELD);
  };
  // IPython substitutes `$name` and `{expr}` when the cell runs, which is after Skiff installs.
  if (/\$|\{[^}]*\}/.test(args)) {
    fail('uses variable expansion ($name or {expr}), so it cannot be read before the cell runs; write the package names out');
  }
  const readsFile = (): never =>
    fail(
      'installs from a requirements file, which Skiff does not read from a notebook; put the packages in a requirements.txt beside the notebook instead, or list them on the %pip install line',
    );
  const editable = (): never => fail('is an editable install (-e), which Skiff cannot do before the job starts; list the packages by name on the %pip install line');

  const requirements: string[] = [];
  const words = shellWords(args, fail);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.startsWith('--')) {
      const name = word.split('=')[0];
      if (name === '--requirement') readsFile();
      if (name === '--editable') editable();
      if (LONG_WITH_VALUE.has(name) && !word.includes('=')) i++;
    } else if (word.startsWith('-') && word.length > 1) {
      // Short options cluster as in pip's optparse: `-qU`; one taking a value ends the cluster,
      // and the value is the rest of the word (`-rreq.txt`) or the next word.
      for (let k = 1; k < word.length; k++) {
        const letter = word[k];
        if (letter === 'r') readsFile();
        if (letter === 'e') editable();
        if (SHORT_WITH_VALUE.has(letter)) {
          if (k === word.length - 1) i++;
          break;
        }
      }
    } else {
      const problem = validateRequirement(word);
      if (problem !== undefined) fail(`installs '${word}', which is not a valid requirement: ${problem}`);
      requirements.push(word);
    }
  }
  return requirements;
}

/**
 * Splits arguments as a POSIX shell would for the quoting pip lines use (`"numpy<2"`, 'a b', \x).
 * Stops at an unquoted comment or shell plumbing (`&&`, `|`, `;`, `> /dev/null`, `2>&1`): what
 * follows is not pip's. Operators only count at the start of a word, so an unquoted `numpy>=1.2`
 * stays one requirement, which is what its author meant.
 */
function shellWords(line: string, fail: (why: string) => never): string[] {
  const words: string[] = [];
  let word: string | undefined; // undefined between words
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    }
    if (word === undefined) {
      if (c === '#' || /[|&;<>]/.test(c) || /^\d+>/.test(line.slice(i))) return words;
      word = '';
    }
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) fail('has an unclosed quote');
      word += line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const next = line[j + 1];
        if (line[j] === '\\' && next !== undefined && '"\\$`'.includes(next)) j++;
        word += line[j];
      }
      if (j >= line.length) fail('has an unclosed quote');
      i = j;
    } else if (c === '\\') {
      word += line[i + 1] ?? '';
      i++;
    } else {
      word += c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The cell with each pip line (any subcommand) replaced by `pass  # <the line>` at the same
 * indentation: Skiff has installed the packages before the job starts, the cell must still run
 * as plain Python (an `if` block keeps a body), and traceback line numbers stay the same.
 */
export function withoutPipMagics(cellSource: string): string {
  const lines = cellSource.split(/(?<=\n)/).map((line) => {
    const body = line.replace(/\r?\n$/, '');
    return { body, ending: line.slice(body.length) };
  });
  const bodies = lines.map((line) => line.body);
  for (const command of pipCommands(bodies)) {
    for (let i = command.first; i <= command.last; i++) {
      // Continuation lines become comments, which Python accepts at any indentation.
      bodies[i] = `${command.indent}${i === command.first ? 'pass  ' : ''}# ${bodies[i].trim()}`;
    }
  }
  return bodies.map((body, i) => body + lines[i].ending).join('');
}

// ---------------------------------------------------------------------------------------------

/** All the lists in order, each exact duplicate kept only where it first appears. */
export function mergeRequirements(...lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}
