"""The Markdown files' relative links lead somewhere: every linked file
exists and every ``#anchor`` is a heading of its file, named as GitHub
names it. The tested-versions table says what setup.py accepts and what
`make test` / `make test-oldest` install."""
import ast
import os
import re
import unicodedata
from urllib.parse import unquote

from helpers import ROOT
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

SKIPPED_DIRS = {'data', 'work_dirs', 'build', 'outputs', 'node_modules'}
FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
INLINE_CODE = re.compile(r'(`+).*?\1', re.S)
# [text](target "title") and ![alt](target), text over several lines too.
INLINE_LINK = re.compile(
    r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)')
REFERENCE = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)', re.M)
HTML_LINK = re.compile(r'<(?:a|img)\s[^>]*(?:href|src)="([^"]+)"', re.I)
HTML_ANCHOR = re.compile(r'<a\s[^>]*(?:name|id)="([^"]+)"', re.I)
HEADING = re.compile(r'^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$')
SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:|^//')


def markdown_files():
    """Every Markdown file of the repository (README.md, docs/, configs/,
    tests/fixtures/, ...), not the envs, data or hidden folders."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.')
                         and d not in SKIPPED_DIRS
                         and not d.endswith('.egg-info'))
        found += [os.path.join(folder, f) for f in sorted(files)
                  if f.endswith('.md')]
    return found


def outside_fences(text):
    """``text`` with the lines of fenced code blocks blanked."""
    lines, fence = [], None
    for line in text.split('\n'):
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0]
            lines.append('')
        elif fence is not None:
            if opening and opening.group(1)[0] == fence:
                fence = None
            lines.append('')
        else:
            lines.append(line)
    return '\n'.join(lines)


def prose(text):
    """``text`` without code: fenced blocks and code spans blanked
    (newlines kept, so offsets still give line numbers)."""
    return INLINE_CODE.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)),
                           outside_fences(text))


def links(text):
    """(line number, target) of every link in ``text``'s prose."""
    text = prose(text)
    found = []
    for pattern in (INLINE_LINK, REFERENCE, HTML_LINK):
        for m in pattern.finditer(text):
            found.append((text.count('\n', 0, m.start()) + 1, m.group(1)))
    return sorted(found)


class GitHubSlugger:
    """Heading anchors as GitHub makes them (the algorithm of
    github-slugger, which GitHub's own renderings are tested against):
    lower case, every character but letters, marks, numbers, connector
    punctuation, hyphens and spaces dropped, spaces to hyphens; a repeated
    slug gets -1, -2, ..."""

    def __init__(self):
        self.occurrences = {}

    def slug(self, text):
        base = ''.join(
            c for c in text.lower()
            if c in ' -' or unicodedata.category(c)[0] in 'LMN'
            or unicodedata.category(c) == 'Pc').replace(' ', '-')
        slug = base
        while slug in self.occurrences:
            self.occurrences[base] += 1
            slug = f'{base}-{self.occurrences[base]}'
        self.occurrences[slug] = 0
        return slug


def anchors(path):
    """The anchors GitHub gives ``path``'s headings, and its explicit
    ``<a name=...>`` / ``id=`` anchors."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    slugger, found = GitHubSlugger(), set(HTML_ANCHOR.findall(text))
    for line in outside_fences(text).split('\n'):
        heading = HEADING.match(line)
        if heading:  # the rendered text: links' text, no HTML tags
            title = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1',
                           heading.group(1))
            found.add(slugger.slug(re.sub(r'<[^>]+>', '', title)))
    return found


def broken_links(path):
    """'file:line: target (why)' for each link of ``path`` that leads
    nowhere."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    broken = []
    for line, target in links(text):
        if not target or SCHEME.match(target):
            continue
        file_part, _, anchor = target.partition('#')
        file_part = unquote(file_part)
        if not file_part:
            resolved = path
        elif file_part.startswith('/'):
            resolved = os.path.join(ROOT, file_part.lstrip('/'))
        else:
            resolved = os.path.normpath(
                os.path.join(os.path.dirname(path), file_part))
        where = f'{os.path.relpath(path, ROOT)}:{line}: {target}'
        if not os.path.exists(resolved):
            broken.append(f'{where} (no such file)')
        elif anchor and (not resolved.endswith('.md')
                         or unquote(anchor) not in anchors(resolved)):
            broken.append(f'{where} (no such heading)')
    return broken


def test_every_relative_link_resolves():
    files = markdown_files()
    names = {os.path.relpath(f, ROOT) for f in files}
    assert {'README.md', 'docs/installation.md', 'docs/deployment.md',
            'tests/fixtures/README.md'} <= names
    broken = [b for f in files for b in broken_links(f)]
    assert not broken, '\n'.join(broken)


def test_link_checker_finds_what_is_broken(tmp_path):
    """A missing file, a missing heading, a same-file anchor, links in
    code (ignored) and a link spread over two lines."""
    (tmp_path / 'other.md').write_text('# Other\n\n## Tested versions\n')
    page = tmp_path / 'page.md'
    page.write_text(
        '# Page `one`\n\n## Make demo\n\n'
        '[ok](other.md#tested-versions) [ok](#page-one) [ok](#make-demo)\n'
        '[gone](missing.md) [bad anchor](other.md#tested)\n'
        '```\n[in code](nowhere.md)\n```\n`[span](nowhere.md)`\n'
        '[two\nlines](other.md#nope)\n[ok](https://example.com/x.md)\n')
    assert [b.split(': ', 1)[1] for b in broken_links(str(page))] == [
        'missing.md (no such file)', 'other.md#tested (no such heading)',
        'other.md#nope (no such heading)']


# github-slugger's test/fixtures.json (Flet/github-slugger, 285fe87): what
# GitHub rendered for these headings, one document, in this order.
GITHUB_SLUGS = [
    ('alpha', 'alpha'), ('alpha', 'alpha-1'),
    ('bravoCharlieDelta', 'bravocharliedelta'),
    ('__proto__', '__proto__'), ('__proto__', '__proto__-1'),
    ('hasOwnProperty', 'hasownproperty'),
    ('echo', 'echo'), ('echo', 'echo-1'), ('echo 1', 'echo-1-1'),
    ('echo-1', 'echo-1-2'), ('echo', 'echo-2'),
    ('foxtrot-1', 'foxtrot-1'), ('foxtrot', 'foxtrot'),
    ('foxtrot', 'foxtrot-2'),
    ('heading with a - dash', 'heading-with-a---dash'),
    ('heading with an _ underscore', 'heading-with-an-_-underscore'),
    ('heading with a period.txt', 'heading-with-a-periodtxt'),
    ('exchange.bind_headers(exchange, routing [, bindCallback])',
     'exchangebind_headersexchange-routing--bindcallback'),
    (' ', '-'), (' a', '-a'), ('a ', 'a-'), (' a ', '-a-'),
    ('-a-', '-a--1'),
    ('apostrophe\u2019s should be trimmed', 'apostrophes-should-be-trimmed'),
    ('golf', 'golf'), ('golf', 'golf-1'), ('golf', 'golf-2'),
    ('I \u2665 unicode', 'i--unicode'), ('dash-dash', 'dash-dash'),
    ('en\u2013dash', 'endash'), ('em\u2013dash', 'emdash'),
    ('\U0001f604 unicode emoji', '-unicode-emoji'),
    ('\U0001f604-\U0001f604 unicode emoji', '--unicode-emoji'),
    ('\U0001f604_\U0001f604 unicode emoji', '_-unicode-emoji'),
    ('\U0001f604 - an emoji', '---an-emoji'),
    (':smile: - a gemoji', 'smile---a-gemoji'),
    ('\u041f\u0440\u0438\u0432\u0435\u0442', '\u043f\u0440\u0438\u0432'
     '\u0435\u0442'),
    ('\u041f\u0440\u0438\u0432\u0435\u0442 non-latin \u4f60\u597d',
     '\u043f\u0440\u0438\u0432\u0435\u0442-non-latin-\u4f60\u597d'),
    (':ok: No underscore', 'ok-no-underscore'),
    (':ok_hand: Single', 'ok_hand-single'),
]


def test_slugs_are_githubs():
    slugger = GitHubSlugger()
    assert [slugger.slug(text) for text, _ in GITHUB_SLUGS] == [
        slug for _, slug in GITHUB_SLUGS]


def read(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as f:
        return f.read()


def setup_py_lists():
    """setup.py's requirement lists, read from its source: ``BASE`` (the
    install_requires), ``EXTRAS`` (extra -> list) and ``TESTS``."""
    values = {node.targets[0].id: node.value
              for node in ast.parse(read('setup.py')).body
              if isinstance(node, ast.Assign)
              and isinstance(node.targets[0], ast.Name)}
    return {name: ast.literal_eval(values[name])
            for name in ('BASE', 'EXTRAS', 'TESTS')}


def setup_py_accepts():
    """{name: SpecifierSet} of setup.py's requirements, and 'python':
    python_requires."""
    call = next(node for node in ast.walk(ast.parse(read('setup.py')))
                if isinstance(node, ast.Call)
                and getattr(node.func, 'id', None) == 'setup')
    kwargs = {k.arg: k.value for k in call.keywords}
    lists = setup_py_lists()
    lines = lists['BASE'] + lists['TESTS'] + [
        r for extra in lists['EXTRAS'].values() for r in extra]
    accepted = {'python': SpecifierSet(
        ast.literal_eval(kwargs['python_requires']))}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert accepted.setdefault(name, req.specifier) == req.specifier
    return accepted


def versions_table():
    """docs/installation.md's "Tested versions" table: {package: {column:
    cell up to its parenthesis}}."""
    section = read('docs/installation.md').split('## Tested versions')[1]
    rows = [[cell.strip().split(' (')[0] for cell in line.strip('| ').split(
        '|')] for line in section.split('\n## ')[0].splitlines()
        if line.startswith('|')]
    header = rows[0]
    return {canonicalize_name(row[0]): dict(zip(header[1:], row[1:]))
            for row in rows[2:]}


def pins(text, pattern):
    """The requirements in the string ``pattern`` finds in ``text``."""
    return [Requirement(r) for r in re.search(pattern, text).group(1).split()]


def test_tested_versions_table_is_what_setup_py_and_make_use():
    accepted, table = setup_py_accepts(), versions_table()
    default, oldest, accepts = '`make test`', '`make test-oldest`', \
        '`setup.py` accepts'
    assert {n for n, spec in accepted.items() if spec} <= set(table)
    for name, row in table.items():
        if row[accepts] == '-':  # not declared
            assert name not in accepted
            continue
        cell = '' if row[accepts] == 'any' else row[accepts]
        assert SpecifierSet(cell) == accepted[name], name
        for column in (default, oldest):
            assert accepted[name].contains(row[column], prereleases=True), (
                name, column, row[column])
    # what the set-up installs on each stack is what the table says it ran
    for column, requirements in (
            (default, pins(read('tools/setup_env.sh'),
                           r'TORCH_SPEC:-"([^"]+)"')),
            (oldest, pins(read('Makefile'), r'OLDEST_TORCH = (.+)'))):
        for req in requirements:
            assert req.specifier.contains(table[req.name][column]), (
                column, str(req))
    mmcv = re.search(r'MMCV_VERSION=(\S+)', read('tools/mmcv_wheel.sh'))
    assert table['mmcv'][default] == table['mmcv'][oldest] == mmcv.group(1)
    assert (f"torch {table['torch'][oldest]} to {table['torch'][default]}"
            in read('README.md').replace('\n', ' '))


def tracked_text_files():
    """The repository's own text files: docs, code, configs, scripts."""
    import subprocess
    names = subprocess.run(['git', 'ls-files'], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    return [n for n in names if n.endswith(('.md', '.py', '.sh', '.yml',
                                            '.cfg', 'Makefile', '.ci/run'))]


# A tool of this repository named by its path (mmseg's and mmpretrain's
# tools, which docs cite too, live in subfolders of their tools/).
OUR_TOOL = re.compile(r'\btools/[a-z_]\w*\.(?:py|sh)\b')


def test_every_tool_named_exists():
    """No dead commands: every ``tools/<name>.py`` or ``.sh`` that a doc, a
    comment or a script names is a file of tools/."""
    dead = [f'{name}: {m.group(0)}' for name in tracked_text_files()
            for m in OUR_TOOL.finditer(read(name))
            if not os.path.isfile(os.path.join(ROOT, m.group(0)))]
    assert not dead, '\n'.join(dead)


def test_docs_and_comments_carry_no_lab_log():
    """No machine letters (a table names its CPU) and no history sections:
    git log keeps the history."""
    found = [f'{name}: {m.group(0)!r}' for name in tracked_text_files()
             for pattern in (r'\bmachines? [A-Z]\b', r'(?m)^#+ History\b',
                             r'(?m)^#+ Tried and left out\b')
             for m in re.finditer(pattern, read(name))]
    assert not found, '\n'.join(found)


def sections(text):
    """(heading, body) of each ``##``/``###`` section of ``text``."""
    parts = re.split(r'(?m)^(#{2,3} .*)$', outside_fences(text))
    return list(zip(parts[1::2], parts[2::2]))


def test_every_measurement_table_says_when_where_and_how():
    """In the measurement docs, a section with a table (or its chapter)
    gives the date, the CPU and the command that reproduces it."""
    for name in ('docs/measurements.md', 'docs/deploy_benchmark.md'):
        text = read(name)
        chapter = ''
        for heading, body in sections(text):
            if heading.startswith('## '):
                chapter = body
            if '|---' not in body:
                continue
            context = chapter + body + text  # fenced printouts count too
            assert re.search(r'\b20\d\d-\d\d-\d\d\b', chapter + body), (
                name, heading, 'date')
            assert re.search(r'AMD EPYC|Intel Xeon|CPU: ', chapter + body), (
                name, heading, 'machine')
            assert re.search(r'(python tools/|make \w|\.ci/run)',
                             context), (name, heading, 'command')
