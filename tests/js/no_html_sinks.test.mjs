// Customer and agent text may contain markup: the browser code puts server values in the
// page as text only. No module may use an HTML sink, whatever it would write.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../../bot/web', import.meta.url));
const SINKS = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\s*\(|new Function\s*\()/;

const files = [
  ...readdirSync(join(WEB, 'console')).filter((n) => n.endsWith('.js')).map((n) => join(WEB, 'console', n)),
  join(WEB, 'widget.js'),
];

for (const file of files) {
  test(`${file.slice(WEB.length + 1)} has no HTML sink`, () => {
    const hits = readFileSync(file, 'utf8').split('\n')
      .map((line, i) => [i + 1, line]).filter(([, line]) => SINKS.test(line));
    assert.deepEqual(hits, []);
  });
}
