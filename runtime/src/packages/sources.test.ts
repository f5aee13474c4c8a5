import { describe, it, expect } from 'vitest';
import { SpecError } from '../spec/job-spec.js';
import { mergeRequirements, notebookPipRequirements, parseInlineScriptMetadata, parseRequirementsText, validateRequirement, withoutPipMagics } from './sources.js';

/** The SpecError `run` throws, so tests can check its message and field. */
function specError(run: () => unknown): SpecError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).field).toBe('packages');
    return err as SpecError;
  }
  throw new Error('expected a SpecError, nothing was thrown');
}

describe('validateRequirement', () => {
  it.each([
    'flask',
    'Flask==3.1.3',
    'numpy>=1.20,<2',
    'numpy >= 1.20 , < 2',
    'requests[socks]~=2.31',
    'requests[socks, security]',
    'torch ; sys_platform == "linux"',
    'foo>=1; python_version >= "3.8"',
    'pkg @ https://example.com/pkg.whl',
    'pkg@https://example.com/pkg.whl#sha256=abc',
    'pkg @ https://example.com/pkg.whl ; python_version >= "3.8"',
    'django==4.2.*',
    'django!=4.1.*',
    'foo===1.0-weird',
    'foo (>=1.0)',
    'zope.interface',
    'a',
    'torch==2.3.1+cu121',
    'foo==1!2.0.post1',
  ])('accepts %s', (req) => {
    expect(validateRequirement(req)).toBeUndefined();
  });

  it.each([
    ['flask==', "'==' is not followed by a version"],
    ['==1.0', 'project name'],
    ['fla sk', "found 'sk'"],
    ['foo>>1', "'>>1'"],
    ['foo[bar', 'never closed'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['foo[b ar]', "'b ar'"],
    ['foo-', "found '-'"],
    ['foo>=1,', 'comma'],
    ['foo~=1.*', "'~=1.*'"],
    ['foo ;', "nothing follows ';'"],
    ['pkg @', 'URL'],
    ['pkg @ not a url', 'URL'],
    ['foo (>=1.0', "'('"],
  ])('rejects %j', (req, reason) => {
    expect(validateRequirement(req)).toContain(reason);
  });
});

describe('parseRequirementsText', () => {
  it('reads specifiers, dropping blank lines and comments', () => {
    const text = [
      '# the web app',
      '',
      'flask==3.1.3  # pinned for the demo',
      '   numpy>=1.20,<2   ',
      'requests[socks]~=2.31',
      'foo>=1; python_version >= "3.8"',
      'pkg @ https://example.com/pkg.whl#sha256=abc',
      '\t# indented comment',
    ].join('\n');
    expect(parseRequirementsText(text, 'requirements.txt')).toEqual([
      'flask==3.1.3',
      'numpy>=1.20,<2',
      'requests[socks]~=2.31',
      'foo>=1; python_version >= "3.8"',
      'pkg @ https://example.com/pkg.whl#sha256=abc',
    ]);
  });

  it('joins backslash continuations and handles CRLF and a BOM', () => {
    const text = '\uFEFFnumpy>=1.20,\\\r\n<2\r\nrich\\\n';
    expect(parseRequirementsText(text, 'requirements.txt')).toEqual(['numpy>=1.20,<2', 'rich']);
  });

  it('does not continue a comment line that ends in a backslash', () => {
    expect(parseRequirementsText('# note \\\nflask\n', 'requirements.txt')).toEqual(['flask']);
  });

  it('returns nothing for an empty file', () => {
    expect(parseRequirementsText('', 'requirements.txt')).toEqual([]);
  });

  it.each([
    '-r other.txt',
    '-c constraints.txt',
    '--index-url https://pypi.example/simple',
    '--extra-index-url https://x',
    '-i https://x',
    '--find-links ./wheels',
    '-f ./wheels',
    '-e .',
    '--editable ./lib',
    '--pre',
  ])('refuses the option line %j', (option) => {
    const err = specError(() => parseRequirementsText(`flask\n\n${option}\n`, 'requirements.txt'));
    expect(err.message).toContain(`requirements.txt line 3: '${option}' is not supported`);
    expect(err.message).toContain('list the packages in this file');
  });

  it('gives the exact message for -r', () => {
    expect(specError(() => parseRequirementsText('a\nb\n-r other.txt', 'requirements.txt')).message).toBe(
      "requirements.txt line 3: '-r other.txt' is not supported; list the packages in this file (pip options such as --index-url belong in pip's own configuration)",
    );
  });

  it('names the file and line of an invalid requirement', () => {
    const err = specError(() => parseRequirementsText('a\nb\n# c\nflask==\n', 'app/requirements.txt'));
    expect(err.message).toBe("app/requirements.txt line 4: 'flask==' is not a valid requirement: '==' is not followed by a version");
  });

  it('numbers a continued line by its first line', () => {
    const err = specError(() => parseRequirementsText('ok\nnumpy>=1,\\\n>>2\n', 'requirements.txt'));
    expect(err.message).toContain("requirements.txt line 2: 'numpy>=1,>>2'");
  });

  it('refuses per-requirement options such as --hash', () => {
    const err = specError(() => parseRequirementsText('flask==3.1.3 \\\n    --hash=sha256:abc\n', 'requirements.txt'));
    expect(err.message).toContain('requirements.txt line 1');
    expect(err.message).toContain('--hash');
  });
});

describe('parseInlineScriptMetadata', () => {
  const pepExample = [
    '# /// script',
    '# requires-python = ">=3.11"',
    '# dependencies = [',
    '#   "requests<3",',
    '#   "rich",',
    '# ]',
    '# ///',
    '',
    'import requests',
    'from rich.pretty import pprint',
    '',
  ].join('\n');

  it("reads the PEP's own example", () => {
    expect(parseInlineScriptMetadata(pepExample, 'fetch.py')).toEqual(['requests<3', 'rich']);
  });

  it('reads a block after other code, with CRLF line endings', () => {
    const text = `#!/usr/bin/env python\nimport os\n\n${pepExample}`.replace(/\n/g, '\r\n');
    expect(parseInlineScriptMetadata(text, 'fetch.py')).toEqual(['requests<3', 'rich']);
  });

  it('returns undefined without a script block', () => {
    expect(parseInlineScriptMetadata('import os\n# just a comment\n', 'a.py')).toBeUndefined();
    expect(parseInlineScriptMetadata('# /// other\n# x = 1\n# ///\n', 'a.py')).toBeUndefined();
  });

  it('returns [] when the block has no dependencies', () => {
    expect(parseInlineScriptMetadata('# /// script\n# requires-python = ">=3.11"\n# ///\n', 'a.py')).toEqual([]);
  });

  it('accepts bare # lines inside the block', () => {
    const text = '# /// script\n#\n# dependencies = ["flask"]\n#\n# ///\n';
    expect(parseInlineScriptMetadata(text, 'a.py')).toEqual(['flask']);
  });

  it('refuses two script blocks', () => {
    const block = '# /// script\n# dependencies = ["rich"]\n# ///\n';
    const err = specError(() => parseInlineScriptMetadata(`${block}\nx = 1\n\n${block}`, 'two.py'));
    expect(err.message).toContain('two.py');
    expect(err.message).toContain('more than one');
  });

  it('names the file, the line and the TOML error', () => {
    const text = 'import os\n# /// script\n# dependencies = [\n#   "rich",\n# ///\n';
    const err = specError(() => parseInlineScriptMetadata(text, 'broken.py'));
    expect(err.message).toMatch(/^broken\.py line \d+: the '# \/\/\/ script' metadata is not valid TOML: \S/);
    expect(err.message).not.toContain('\n');
  });

  it('reports the line of the file where the TOML goes wrong', () => {
    const text = 'import os\n# /// script\n# requires-python = ">=3.11"\n# dependencies = = 1\n# ///\n';
    expect(specError(() => parseInlineScriptMetadata(text, 'b.py')).message).toMatch(/^b\.py line 4:/);
  });

  it('refuses dependencies that are not a list of strings', () => {
    for (const value of ['"rich"', '[1, 2]', '{ a = "b" }']) {
      const err = specError(() => parseInlineScriptMetadata(`# /// script\n# dependencies = ${value}\n# ///\n`, 'c.py'));
      expect(err.message).toContain('c.py');
      expect(err.message).toContain('list of strings');
    }
  });

  it('refuses an invalid dependency, quoting it', () => {
    const err = specError(() => parseInlineScriptMetadata('# /// script\n# dependencies = ["flask=="]\n# ///\n', 'd.py'));
    expect(err.message).toContain('d.py');
    expect(err.message).toContain("'flask==' is not a valid requirement");
  });
});

describe('notebookPipRequirements', () => {
  it('reads every spelling of pip install', () => {
    const cells = [
      '%pip install flask',
      '!pip install numpy\n!pip3 install pandas',
      '!python -m pip install rich\n!python3 -m pip install httpx\n%pip3 install attrs',
      'import sys\n!{sys.executable} -m pip install tqdm',
    ];
    expect(notebookPipRequirements(cells)).toEqual(['flask', 'numpy', 'pandas', 'rich', 'httpx', 'attrs', 'tqdm']);
  });

  it('finds install lines anywhere in a cell, indented too', () => {
    const cell = 'import os\nif not os.environ.get("CI"):\n    %pip install flask\nprint(1)';
    expect(notebookPipRequirements([cell])).toEqual(['flask']);
  });

  it('removes quotes and keeps a quoted argument whole', () => {
    const cell = `%pip install "numpy<2" 'torch ; sys_platform == "linux"' requests\\[socks\\]`;
    expect(notebookPipRequirements([cell])).toEqual(['numpy<2', 'torch ; sys_platform == "linux"', 'requests[socks]']);
  });

  it('skips flags, and the values of flags that take one', () => {
    const cell = [
      '%pip install -q --quiet -U --upgrade --user --no-cache-dir --progress-bar off flask',
      '!pip install -qU numpy --index-url https://pypi.example/simple --extra-index-url=https://x pandas',
      '!pip install -i https://x -f ./wheels --find-links ./w -t /tmp/t --target /tmp/t -c c.txt --constraint c.txt rich',
    ];
    expect(notebookPipRequirements(cell)).toEqual(['flask', 'numpy', 'pandas', 'rich']);
  });

  it('drops exact duplicates, keeping the first', () => {
    expect(notebookPipRequirements(['%pip install flask numpy', '%pip install numpy flask==3.1.3'])).toEqual(['flask', 'numpy', 'flask==3.1.3']);
  });

  it('ignores other subcommands and lines that only mention pip', () => {
    const cells = ['%pip uninstall -y flask\n%pip list\n%pip freeze\n!pip show numpy', '# %pip install rich\nx = "pip install torch"\n%pipx install poetry'];
    expect(notebookPipRequirements(cells)).toEqual([]);
  });

  it('follows IPython backslash continuations', () => {
    expect(notebookPipRequirements(['%pip install flask \\\n    numpy\nprint(1)'])).toEqual(['flask', 'numpy']);
  });

  it('stops at shell comments and plumbing', () => {
    const cells = ['!pip install flask # the web app', '!pip install -q numpy > /dev/null 2>&1', '!pip install rich && echo done'];
    expect(notebookPipRequirements(cells)).toEqual(['flask', 'numpy', 'rich']);
  });

  it.each(['%pip install -r requirements.txt', '!pip install --requirement reqs.txt', '%pip install -qr reqs.txt', '%pip install --requirement=reqs.txt'])(
    'refuses %j, pointing at requirements.txt',
    (line) => {
      const err = specError(() => notebookPipRequirements(['x = 1', line]));
      expect(err.message).toContain(`cell 2: '${line}'`);
      expect(err.message).toContain('requirements.txt beside the notebook');
      expect(err.message).toContain('%pip install line');
    },
  );

  it.each(['%pip install $pkg', '%pip install {pkg}', '!pip install "torch==${VERSION}"'])('refuses variable expansion in %j', (line) => {
    const err = specError(() => notebookPipRequirements([line]));
    expect(err.message).toContain(`'${line}'`);
    expect(err.message).toContain('cannot be read before the cell runs');
  });

  it('refuses editable installs', () => {
    expect(specError(() => notebookPipRequirements(['%pip install -e .'])).message).toContain('editable');
  });

  it('refuses an invalid requirement, quoting the line', () => {
    const err = specError(() => notebookPipRequirements(['%pip install flask==']));
    expect(err.message).toBe("cell 1: '%pip install flask==' installs 'flask==', which is not a valid requirement: '==' is not followed by a version");
  });

  it('refuses an unclosed quote', () => {
    expect(specError(() => notebookPipRequirements(['%pip install "numpy<2'])).message).toContain('unclosed quote');
  });
});

describe('withoutPipMagics', () => {
  it('replaces pip lines with pass, keeping indentation and line count', () => {
    const cell = 'import os\nif os.environ.get("X"):\n    %pip install flask\nelse:\n\t!pip uninstall -y flask\n%pip list\nprint("done")';
    const result = withoutPipMagics(cell);
    expect(result).toBe('import os\nif os.environ.get("X"):\n    pass  # %pip install flask\nelse:\n\tpass  # !pip uninstall -y flask\npass  # %pip list\nprint("done")');
    expect(result.split('\n')).toHaveLength(cell.split('\n').length);
  });

  it('turns continuation lines into comments', () => {
    expect(withoutPipMagics('if True:\n    %pip install flask \\\n        numpy\n    x = 1\n')).toBe('if True:\n    pass  # %pip install flask \\\n    # numpy\n    x = 1\n');
  });

  it('keeps line endings and leaves other lines alone', () => {
    expect(withoutPipMagics('%pip install rich\r\nprint(1)\r\n')).toBe('pass  # %pip install rich\r\nprint(1)\r\n');
    const plain = '# %pip install rich\nx = "!pip install torch"\n!ls -la\n';
    expect(withoutPipMagics(plain)).toBe(plain);
    expect(withoutPipMagics('')).toBe('');
  });
});

describe('mergeRequirements', () => {
  it('concatenates, dropping exact duplicates and keeping order', () => {
    expect(mergeRequirements(['flask', 'numpy'], [], ['numpy', 'Flask', 'rich'], ['flask'])).toEqual(['flask', 'numpy', 'Flask', 'rich']);
    expect(mergeRequirements()).toEqual([]);
  });
});
