// Writes bench/MUTATION.md from Stryker's JSON report (mutation-testing-report-schema): the score of
// each folder and every mutant that survived or that no test covers, by file and line. The section
// that explains the survivors is written by hand and kept from the previous file.
//   node scripts/mutation-report.mjs bench/mutation/mutation.json bench/MUTATION.md
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [reportFile, outFile] = process.argv.slice(2);
if (!reportFile || !outFile) {
  console.error('usage: node scripts/mutation-report.mjs <stryker json report> <markdown file>');
  process.exit(2);
}
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const PREFIX = 'apps/orchestrator/src/';
const KEPT_START = '<!-- explained: written by hand, kept by scripts/mutation-report.mjs -->';
const KEPT_END = '<!-- end of explained -->';

const counted = ['Killed', 'Timeout', 'Survived', 'NoCoverage'];
const folders = new Map();
const files = new Map();
const left = [];
for (const [file, { mutants, source }] of Object.entries(report.files)) {
  const relative = file.startsWith(PREFIX) ? file.slice(PREFIX.length) : file;
  const folder = relative.split('/')[0];
  const tally = folders.get(folder) ?? { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
  const own = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
  const lines = (source ?? (existsSync(file) ? readFileSync(file, 'utf8') : '')).split('\n');
  for (const mutant of mutants) {
    for (const t of [tally, own]) {
      if (counted.includes(mutant.status)) t[mutant.status] += 1;
      else t.other += 1;
    }
    if (mutant.status === 'Survived' || mutant.status === 'NoCoverage') {
      const { line, column } = mutant.location.start;
      const original = (lines[line - 1] ?? '').trim();
      left.push({ file: relative, line, column, status: mutant.status, mutator: mutant.mutatorName, replacement: mutant.replacement ?? '', original });
    }
  }
  folders.set(folder, tally);
  files.set(relative, own);
}

const score = (t) => {
  const valid = t.Killed + t.Timeout + t.Survived + t.NoCoverage;
  return valid === 0 ? 100 : (100 * (t.Killed + t.Timeout)) / valid;
};
const total = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, other: 0 };
for (const t of folders.values()) for (const key of Object.keys(total)) total[key] += t[key];
const row = (name, t) => `| ${name} | ${t.Killed + t.Timeout + t.Survived + t.NoCoverage} | ${t.Killed} | ${t.Timeout} | ${t.Survived} | ${t.NoCoverage} | ${score(t).toFixed(1)}% |`;
const cut = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const cell = (text) => cut(text.replace(/\s+/g, ' '), 90).replace(/\|/g, '\\|').replace(/`/g, "'");

const previous = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
const start = previous.indexOf(KEPT_START);
const end = previous.indexOf(KEPT_END);
const explained = start >= 0 && end > start ? previous.slice(start, end + KEPT_END.length) : `${KEPT_START}\n\n(no explanation yet)\n\n${KEPT_END}`;

const byFile = new Map();
for (const mutant of left.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column)) {
  byFile.set(mutant.file, [...(byFile.get(mutant.file) ?? []), mutant]);
}

const out = [
  '# Mutation testing',
  '',
  `Stryker ${report.framework?.version ?? ''} with its Vitest runner, over \`apps/orchestrator/src/{engine,planning,delegation,persistence}\`,`,
  'against the unit and integration tests (`npm run test:mutation`, `scripts/test-mutation.sh`; the end-to-end tier is',
  "not run per mutant). Modules, migrations, entities and the two command-line entry points are left out (`stryker.config.mjs`).",
  `Score = (killed + timed out) / (killed + timed out + survived + no coverage). Written ${new Date().toISOString().slice(0, 10)} from \`${reportFile}\`.`,
  '',
  '| folder | mutants | killed | timed out | survived | no coverage | score |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...[...folders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, t]) => row(name, t)),
  row('**all measured**', total),
  '',
  `Files measured: ${files.size} (a file enters the report when a run mutates it; runs over one file or line range keep the others' results).`,
  'Mutants run when a module loads (static) are not tested (`ignoreStatic`) and count in no column.',
  '',
  '| file | mutants | killed | timed out | survived | no coverage | score |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...[...files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, t]) => row(name, t)),
  '',
  '## Why the survivors survive',
  '',
  explained,
  '',
  `## Every mutant left (${left.length})`,
  '',
  'Survived: a test ran the mutated code and still passed. No coverage: no unit or integration test runs that code.',
  '',
  ...[...byFile.entries()].flatMap(([file, mutants]) => [
    `### ${file}`,
    '',
    '| line | status | mutator | replaced by | code |',
    '| ---: | --- | --- | --- | --- |',
    ...mutants.map((m) => `| ${m.line}:${m.column} | ${m.status === 'NoCoverage' ? 'no coverage' : 'survived'} | ${m.mutator} | \`${cell(m.replacement)}\` | \`${cell(m.original)}\` |`),
    '',
  ]),
];
writeFileSync(outFile, `${out.join('\n').trimEnd()}\n`);
console.log(`${outFile}: ${[...folders.entries()].map(([name, t]) => `${name} ${score(t).toFixed(1)}%`).join(', ')}; all ${score(total).toFixed(1)}%`);
