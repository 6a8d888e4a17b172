// Prints the test files a vitest JSON report (--reporter=json) marks failed, one per line, relative
// to the working directory; exits 2 when the report is missing or unreadable.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [reportPath] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch (error) {
  console.error(`no readable test report at ${reportPath}: ${error.message}`);
  process.exit(2);
}
for (const file of report.testResults ?? []) {
  if (file.status !== 'passed') console.log(relative(process.cwd(), file.name));
}
